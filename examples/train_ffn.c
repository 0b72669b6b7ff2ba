/* examples/train_ffn.c - train a feed-forward network on two spirals.
 *
 * The task: 2-D points on two interleaved spirals, one class each, made up
 * in code. The network: Linear(2 -> 32), a residual FeedForward block,
 * Linear(32 -> 2), trained with AdamW on cross-entropy.
 *
 *     train_ffn               SwiGLU, with a live progress line
 *     train_ffn --all         also every other FeedForward kind, and a table
 *     train_ffn --csv FILE    the loss of every step, one column per kind,
 *                             and next to it FILE.png of the loss curves
 *                             when gnuplot is installed
 *     train_ffn --steps N     training steps (default 400)
 *     train_ffn --save FILE   the trained SwiGLU network's parameters, as
 *                             safetensors (tests/golden/load_in_pytorch.py
 *                             loads them into PyTorch and scores them there)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tapegrad/tapegrad.h>

#include "plot.h"

enum { POINTS = 256, DIM = 32, HIDDEN = 128, MULTIPLE_OF = 16 };
static const double PI = 3.14159265358979323846;

typedef struct dataset {
    tg_tensor *x;      /* (2 * POINTS, 2) */
    tg_tensor *labels; /* (2 * POINTS,) int64: 0 or 1 for each point */
} dataset;

/* Two spirals, r = t, angle t (+ pi for class 1), with Gaussian noise. */
static dataset make_spirals(tg_generator *gen) {
    dataset d = {0};
    int64_t labels[2 * POINTS];
    tg_pool *pool = tg_pool_push();
    double *xy = tg_data(tg_randn(TG_SHAPE(2 * POINTS, 2), TG_F64, gen)); /* the noise */
    for (int i = 0; i < 2 * POINTS; i++) {
        int label = i % 2;
        double t = 0.5 + 3.5 * (double)(i / 2) / POINTS; /* up to 4 radians */
        double angle = 3.0 * t + label * PI;
        xy[2 * i] = t * cos(angle) / 4 + 0.05 * xy[2 * i];
        xy[2 * i + 1] = t * sin(angle) / 4 + 0.05 * xy[2 * i + 1];
        labels[i] = label;
    }
    d.x = tg_retain(tg_to_dtype(tg_from_data(xy, TG_SHAPE(2 * POINTS, 2), TG_F64), TG_F32));
    d.labels = tg_retain(tg_from_data(labels, TG_SHAPE(2 * POINTS), TG_I64));
    tg_pool_pop(pool);
    return d;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The share of points whose larger logit is their label, as PyTorch's
 * (logits.argmax(1) == labels).float().mean(). */
static double accuracy(tg_tensor *logits, tg_tensor *labels) {
    return tg_item(tg_mean(tg_to_dtype(tg_eq(tg_argmax(logits, 1, TG_DROP_DIMS), labels), TG_F32)));
}

typedef struct result {
    int64_t params;
    double loss, accuracy, ms_per_step;
} result;

/* losses[step] receives the loss of each step; show prints the network. */
static result train(tg_ffn_kind kind, const dataset *train_set, const dataset *test_set, int steps,
                    bool live, bool show, double *losses, const char *save_path) {
    tg_generator *gen = tg_generator_new(42); /* same start for every kind */
    tg_ffn_options ffn = {
        .kind = kind, .dim = DIM, .hidden_dim = HIDDEN, .multiple_of = MULTIPLE_OF, .dtype = TG_F32};
    tg_module *net = tg_sequential_new(
        3, (tg_module *[]){tg_linear_new(2, DIM, TG_BIAS, TG_F32, gen),
                           tg_residual_new(tg_feedforward_new(&ffn, gen)),
                           tg_linear_new(DIM, 2, TG_BIAS, TG_F32, gen)});
    if (!net) {
        fprintf(stderr, "cannot build the network: %s\n", tg_last_error());
        exit(1);
    }
    if (show) tg_module_print(net, stdout);
    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options adamw = tg_adamw_defaults();
    adamw.lr = 1e-2;
    tg_optimizer *opt = tg_adamw_new(params, n_params, &adamw);

    result r = {.params = tg_module_num_elements(net)};
    double start = now_seconds();
    for (int step = 1; step <= steps; step++) {
        tg_pool *pool = tg_pool_push(); /* this step's tensors */
        tg_tensor *logits = tg_module_forward(net, train_set->x);
        tg_tensor *loss = tg_cross_entropy(logits, train_set->labels, TG_REDUCTION_MEAN);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        if (!loss || tg_backward(loss, NULL) != 0 || tg_optim_step(opt) != 0) {
            fprintf(stderr, "step %d failed: %s\n", step, tg_last_error());
            exit(1);
        }
        r.loss = losses[step - 1] = tg_item(loss);
        double elapsed = now_seconds() - start;
        if (live && (step % 10 == 0 || step == steps)) {
            printf("\r  %-9s step %4d/%d  loss %.4f  %6.0f steps/s", tg_ffn_kind_name(kind), step,
                   steps, r.loss, step / elapsed);
            fflush(stdout);
        } else if (!live && step % 200 == 0) {
            printf("  %-9s step %4d/%d  loss %.4f\n", tg_ffn_kind_name(kind), step, steps, r.loss);
        }
        tg_pool_pop(pool);
    }
    r.ms_per_step = 1e3 * (now_seconds() - start) / steps;
    if (live) printf("\n");

    tg_module_train(net, TG_EVAL); /* evaluate on points not trained on */
    tg_pool *pool = tg_pool_push();
    r.accuracy = accuracy(tg_module_forward(net, test_set->x), test_set->labels);
    tg_pool_pop(pool);
    if (save_path && tg_module_save(net, save_path) != 0)
        fprintf(stderr, "cannot save: %s\n", tg_last_error());
    tg_optim_free(opt);
    tg_module_free(net);
    tg_generator_free(gen);
    return r;
}

/* One row per step, one loss column per kind; then a PNG of the curves. */
static void write_curves(const char *path, int n_kinds, const tg_ffn_kind *kinds, int steps,
                         const double *losses) {
    FILE *csv = fopen(path, "w");
    if (!csv) {
        perror(path);
        return;
    }
    fprintf(csv, "step");
    for (int k = 0; k < n_kinds; k++) fprintf(csv, ",%s", tg_ffn_kind_name(kinds[k]));
    for (int step = 0; step < steps; step++) {
        fprintf(csv, "\n%d", step + 1);
        for (int k = 0; k < n_kinds; k++) fprintf(csv, ",%.6g", losses[k * steps + step]);
    }
    fprintf(csv, "\n");
    fclose(csv);
    char script[2048];
    snprintf(script, sizeof script,
             "set terminal pngcairo size 800,480\nset output '%s.png'\nset datafile separator ','\n"
             "set logscale y\nset grid\nset key top right\nset xlabel 'step'\n"
             "set ylabel 'cross-entropy (training)'\nset title 'FeedForward kinds on two spirals'\n"
             "plot for [i=2:%d] '%s' using 1:i with lines lw 2 title columnheader(i)\n",
             path, n_kinds + 1, path);
    if (run_gnuplot(script, path)) printf("loss curves: %s.png\n", path);
}

int main(int argc, char **argv) {
    bool all = false;
    int steps = 400;
    const char *csv = NULL, *save_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            steps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc) {
            save_path = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--all] [--steps N] [--csv FILE] [--save FILE]\n", argv[0]);
            return 2;
        }
    }
    bool live = isatty(STDOUT_FILENO);
    tg_generator *data_gen = tg_generator_new(7);
    dataset train_set = make_spirals(data_gen), test_set = make_spirals(data_gen);
    tg_generator_free(data_gen);

    printf("Two spirals, %d training points, AdamW lr 0.01, %d steps, the network:\n", 2 * POINTS,
           steps);
    result results[TG_FFN_N_KINDS];
    tg_ffn_kind kinds[TG_FFN_N_KINDS] = {TG_FFN_SWIGLU};
    int n_kinds = 1;
    if (all)
        for (int k = 0; k < TG_FFN_N_KINDS; k++)
            if (k != TG_FFN_SWIGLU) kinds[n_kinds++] = (tg_ffn_kind)k;
    double *losses = malloc(sizeof *losses * (size_t)(n_kinds * steps));
    for (int i = 0; i < n_kinds; i++)
        results[i] = train(kinds[i], &train_set, &test_set, steps, live, i == 0, losses + i * steps,
                           i == 0 ? save_path : NULL);
    printf("SwiGLU: final loss %.4f, test accuracy %.1f%%\n", results[0].loss,
           100 * results[0].accuracy);

    if (all) {
        printf("\n%-10s %10s %12s %14s %12s\n", "FFN kind", "params", "final loss", "test accuracy",
               "ms / step");
        for (int i = 0; i < n_kinds; i++)
            printf("%-10s %10lld %12.4f %13.1f%% %12.3f\n", tg_ffn_kind_name(kinds[i]),
                   (long long)results[i].params, results[i].loss, 100 * results[i].accuracy,
                   results[i].ms_per_step);
    }
    if (csv) write_curves(csv, n_kinds, kinds, steps, losses);
    free(losses);
    tg_release(train_set.x);
    tg_release(test_set.x);
    tg_release(train_set.labels);
    tg_release(test_set.labels);
    return 0;
}
