/* examples/activations.c - every activation tapegrad has, and its
 * derivative, computed by autograd over [-5, 5].
 *
 *     activations [OUTDIR]     (default OUTDIR: out)
 *
 * writes OUTDIR/activations/<name>.csv (x, f(x), f'(x)) for each function,
 * a PNG of f and f' per function when gnuplot is installed, and prints the
 * range each derivative takes next to what textbooks claim, flagging two
 * GELU formulas in circulation that are wrong (docs/ERRATA.md, items 4, 5).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <tapegrad/tapegrad.h>

#include "hand_formulas.h"
#include "plot.h"

enum { N = 1001 }; /* x = -5, -4.99, ..., 5 */

static tg_tensor *beta_tensor; /* Swish's beta, for the function table */

static tg_tensor *f_relu(tg_tensor *x) { return tg_relu(x); }
static tg_tensor *f_leaky(tg_tensor *x) { return tg_leaky_relu(x, 0.01); }
static tg_tensor *f_elu(tg_tensor *x) { return tg_elu(x, 1.0); }
static tg_tensor *f_rrelu(tg_tensor *x) { return tg_rrelu(x, 1.0 / 8, 1.0 / 3, TG_EVAL, NULL); }
static tg_tensor *f_sigmoid(tg_tensor *x) { return tg_sigmoid(x); }
static tg_tensor *f_tanh(tg_tensor *x) { return tg_tanh(x); }
static tg_tensor *f_gelu(tg_tensor *x) { return tg_gelu(x, TG_GELU_NONE); }
static tg_tensor *f_gelu_tanh(tg_tensor *x) { return tg_gelu(x, TG_GELU_TANH); }
static tg_tensor *f_silu(tg_tensor *x) { return tg_silu(x); }
static tg_tensor *f_swish(tg_tensor *x) { return tg_swish(x, beta_tensor); }
static tg_tensor *f_softplus(tg_tensor *x) { return tg_softplus(x, 1, 20); }
static tg_tensor *f_selu(tg_tensor *x) { return tg_selu(x); }
static tg_tensor *f_celu(tg_tensor *x) { return tg_celu(x, 1.0); }
static tg_tensor *f_hardtanh(tg_tensor *x) { return tg_hardtanh(x, -1, 1); }
static tg_tensor *f_relu6(tg_tensor *x) { return tg_relu6(x); }
static tg_tensor *f_hardsigmoid(tg_tensor *x) { return tg_hardsigmoid(x); }
static tg_tensor *f_hardswish(tg_tensor *x) { return tg_hardswish(x); }
static tg_tensor *f_mish(tg_tensor *x) { return tg_mish(x); }
static tg_tensor *f_logsigmoid(tg_tensor *x) { return tg_logsigmoid(x); }
static tg_tensor *f_softsign(tg_tensor *x) { return tg_softsign(x); }
static tg_tensor *f_tanhshrink(tg_tensor *x) { return tg_tanhshrink(x); }

typedef struct activation {
    const char *name;
    tg_tensor *(*apply)(tg_tensor *x);
    const char *claim; /* what textbooks say of f' ("" when nothing) */
    double lo, hi;     /* the claim as a range to check, NAN for none */
    bool open_low;     /* lo itself excluded */
} activation;

static const activation table[] = {
    {"relu", f_relu, "0 or 1", 0, 1, false},
    {"leaky_relu", f_leaky, "0.01 or 1", 0.01, 1, false},
    {"rrelu_eval", f_rrelu, "(lower+upper)/2 or 1", (1.0 / 8 + 1.0 / 3) / 2, 1, false},
    {"elu", f_elu, "(0, 1] for alpha 1", 0, 1, true},
    {"sigmoid", f_sigmoid, "(0, 0.25]", 0, 0.25, true},
    {"tanh", f_tanh, "(0, 1]", 0, 1, true},
    {"gelu", f_gelu, "", NAN, NAN, false},
    {"gelu_tanh", f_gelu_tanh, "", NAN, NAN, false},
    {"silu", f_silu, "", NAN, NAN, false},
    {"swish_b1.5", f_swish, "", NAN, NAN, false},
    {"softplus", f_softplus, "(0, 1)", 0, 1, true},
    {"selu", f_selu, "(0, scale alpha]", 0, (TG_SELU_SCALE * TG_SELU_ALPHA), true},
    {"celu", f_celu, "(0, 1] for alpha 1", 0, 1, true},
    {"hardtanh", f_hardtanh, "0 or 1", 0, 1, false},
    {"relu6", f_relu6, "0 or 1", 0, 1, false},
    {"hardsigmoid", f_hardsigmoid, "0 or 1/6", 0, 1.0 / 6, false},
    {"hardswish", f_hardswish, "[-1/2, 3/2]", -0.5, 1.5, false},
    {"mish", f_mish, "", NAN, NAN, false},
    {"logsigmoid", f_logsigmoid, "(0, 1)", 0, 1, true},
    {"softsign", f_softsign, "(0, 1]", 0, 1, true},
    {"tanhshrink", f_tanhshrink, "[0, 1)", 0, 1, false},
};

/* f and f' at the N points of x, by autograd: f' is x.grad of sum(f(x)). */
static bool evaluate(const activation *a, tg_tensor *x, double *f, double *df) {
    tg_clear_grad(x);
    tg_pool *pool = tg_pool_push();
    tg_tensor *y = a->apply(x);
    bool ok = y && tg_backward(tg_sum(y), NULL) == 0;
    if (ok) {
        tg_to_doubles(y, f);
        tg_to_doubles(tg_grad(x), df);
    }
    tg_pool_pop(pool);
    return ok;
}

static void write_csv(const char *path, const double *x, const double *f, const double *df) {
    FILE *csv = fopen(path, "w");
    if (!csv) {
        perror(path);
        return;
    }
    fprintf(csv, "x,f,df\n");
    for (int i = 0; i < N; i++) fprintf(csv, "%.4f,%.10g,%.10g\n", x[i], f[i], df[i]);
    fclose(csv);
}

static bool plot(const char *dir, const char *name) {
    char script[4096], csv[1024];
    snprintf(csv, sizeof csv, "%s/%s.csv", dir, name);
    snprintf(script, sizeof script,
             "set terminal pngcairo size 640,420\nset output '%s/%s.png'\n"
             "set datafile separator ','\nset key top left\nset grid\nset title '%s'\n"
             "plot '%s' using 1:2 skip 1 with lines lw 2 title 'f(x)', "
             "'' using 1:3 skip 1 with lines lw 2 title \"f'(x) by autograd\"\n",
             dir, name, name, csv);
    return run_gnuplot(script, csv);
}

int main(int argc, char **argv) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/activations", argc > 1 ? argv[1] : "out");
    mkdir(argc > 1 ? argv[1] : "out", 0755);
    mkdir(dir, 0755);

    tg_tensor *x = tg_requires_grad_(tg_arange(-5, 5.005, 0.01, TG_F64), true);
    beta_tensor = tg_full(TG_SHAPE(1), 1.5, TG_F64);
    double xs[N], f[N], df[N], gelu_df[N], gelu_f[N], gelu_tanh_f[N], swish_err = 0;
    tg_to_doubles(x, xs);

    printf("%-12s %12s %12s   %-22s %s\n", "activation", "min f'", "max f'", "textbooks say",
           "check");
    int pictures = 0;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        const activation *a = &table[k];
        if (!evaluate(a, x, f, df)) {
            fprintf(stderr, "%s failed: %s\n", a->name, tg_last_error());
            return 1;
        }
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < N; i++) lo = fmin(lo, df[i]), hi = fmax(hi, df[i]);
        bool low_ok = a->open_low ? lo > a->lo : lo >= a->lo - 1e-12;
        const char *check = isnan(a->lo) ? "" : low_ok && hi <= a->hi ? "holds" : "VIOLATED";
        printf("%-12s %12.6f %12.6f   %-22s %s\n", a->name, lo, hi, a->claim, check);
        if (k == 6) memcpy(gelu_df, df, sizeof df), memcpy(gelu_f, f, sizeof f);
        if (k == 7) memcpy(gelu_tanh_f, f, sizeof f);
        for (int i = 0; k == 8 && i < N; i++) { /* the textbook f' = f + s(x) (1 - f) */
            double s = 1 / (1 + exp(-xs[i]));
            swish_err = fmax(swish_err, fabs(f[i] + s * (1 - f[i]) - df[i]));
        }
        char csv[600];
        snprintf(csv, sizeof csv, "%s/%s.csv", dir, a->name);
        write_csv(csv, xs, f, df);
        pictures += plot(dir, a->name);
    }

    /* Where GELU formulas in circulation depart from the right ones. */
    double err_d = 0, at = 0, err_coarse = 0, err_tanh = 0;
    for (int i = 0; i < N; i++) {
        double e = fabs(hand_gelu_derivative_wrong(xs[i]) - gelu_df[i]);
        if (e > err_d) err_d = e, at = xs[i];
        err_coarse = fmax(err_coarse, fabs(hand_gelu_coarse(xs[i]) - gelu_f[i]));
        err_tanh = fmax(err_tanh, fabs(gelu_tanh_f[i] - gelu_f[i]));
    }
    printf("\nSwish (beta 1): the textbook f'(x) = f(x) + s(x)(1 - f(x)) agrees with autograd "
           "to %.1e.\n",
           swish_err);
    printf("ERRATA 4: the GELU derivative 0.5[tanh(u) + x(1 - GELU(x)^2)] is off by up to "
           "%.3f (at x = %.2f);\n           autograd gives Phi(x) + x phi(x), e.g. %.4f at x = 1 "
           "where that formula gives %.4f.\n",
           err_d, at, gelu_df[600], hand_gelu_derivative_wrong(1.0));
    printf("ERRATA 5: the GELU 0.5x(1 + tanh(0.797885x)) is off the exact GELU by up to %.4f; the\n"
           "           tanh form with the cubic term by up to %.6f.\n",
           err_coarse, err_tanh);
    printf("\nCSV files in %s/%s\n", dir, pictures ? ", with a PNG of f and f' for each" : "");
    tg_release(x);
    tg_release(beta_tensor);
    return 0;
}
