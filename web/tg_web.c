/* web/tg_web.c - what the page calls (web/meson.build exports these to
 * JavaScript). Each function runs the library and returns JSON: a string
 * owned here, valid until the next call. Every value the page shows comes
 * from these; JavaScript only draws.
 *
 *   tg_web_run(program, lr)        values, backward step by step, gradients,
 *                                  and the inputs after one SGD step
 *   tg_web_gradcheck(program)      finite differences next to autograd
 *   tg_web_optimize(...)           two trajectories on a 2-D loss surface
 *   tg_web_surface(...)            the surface on a grid
 *   tg_web_activations()           the activations and their parameters
 *   tg_web_activation(i, param)    f and f' by autograd over [-5, 5]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "../examples/hand_formulas.h"
#include "expr.h"
#include "json.h"
#include "tg_web.h"


/* The last answer, and the stream that writes the next. */
static char *answer;
static size_t answer_size;

static FILE *begin(void) {
    free(answer);
    answer = NULL;
    return open_memstream(&answer, &answer_size);
}

static const char *finish(FILE *out) {
    fclose(out);
    return answer ? answer : "{\"ok\":false,\"error\":\"out of memory\"}";
}

static const char *failure(FILE *out, const char *message) {
    fputs("{\"ok\":false,\"error\":", out);
    json_string(out, message);
    fputc('}', out);
    return finish(out);
}

/* ---- Backward, step by step ---------------------------------------------------- */

/* The trace (tg_set_trace) as JSON: per node, the op, what it makes, the
 * gradient in, the local derivative and each input's gradient. Its lines:
 *     [1] MeanBackward0 (makes out)
 *         gradient in:  [1]
 *         local:        d mean(x)/dx_i = 1/n
 *         to z: [0.25, 0.25, 0.25, 0.25]                                   */
static void write_steps(FILE *out, char *trace) {
    fputc('[', out);
    bool first_step = true, first_to = true;
    for (char *line = strtok(trace, "\n"); line; line = strtok(NULL, "\n")) {
        char *rest;
        if (line[0] == '[') {
            char *op = strchr(line, ' ');
            char *makes = op ? strstr(op, " (makes ") : NULL;
            if (!op) continue;
            if (makes) *makes = '\0', makes += 8, makes[strlen(makes) - 1] = '\0';
            fputs(first_step ? "{" : "]},{", out);
            first_step = false, first_to = true;
            fputs("\"op\":", out);
            json_string(out, op + 1);
            fputs(",\"makes\":", out);
            json_string(out, makes ? makes : "");
        } else if ((rest = strstr(line, "gradient in:"))) {
            fputs(",\"grad_in\":", out);
            json_string(out, rest + 14);
        } else if ((rest = strstr(line, "local:"))) {
            fputs(",\"local\":", out);
            json_string(out, rest + 14);
            fputs(",\"to\":[", out);
        } else if ((rest = strstr(line, "    to "))) {
            char *colon = strrchr(rest, ':');
            if (!colon) continue;
            *colon = '\0';
            fputs(first_to ? "{\"name\":" : ",{\"name\":", out);
            first_to = false;
            json_string(out, rest + 7);
            fputs(",\"grad\":", out);
            json_string(out, colon + 2);
            fputc('}', out);
        }
    }
    fputs(first_step ? "]" : "]}]", out);
}

static void write_tensor(FILE *out, const tg_tensor *t, bool input) {
    fputs("{\"name\":", out);
    json_string(out, tg_name(t));
    fputs(",\"shape\":", out);
    json_shape(out, t);
    fputs(",\"values\":", out);
    json_values(out, t);
    fputs(",\"op\":", out);
    json_string(out, tg_grad_fn_name(t) ? tg_grad_fn_name(t) : "");
    fprintf(out, ",\"input\":%s,\"grad\":", input ? "true" : "false");
    if (tg_grad(t))
        json_values(out, tg_grad(t));
    else
        fputs("null", out);
    fputc('}', out);
}

static bool is_input(const expr_run *run, const tg_tensor *t) {
    for (int i = 0; i < run->n_inputs; i++)
        if (run->inputs[i] == t) return true;
    return false;
}

const char *tg_web_run(const char *program, double lr) {
    FILE *out = begin();
    if (!out) return "{\"ok\":false,\"error\":\"out of memory\"}";
    static expr_run run;
    run = (expr_run){.dtype = TG_F32, .nudge = {.input = -1}};
    tg_pool *pool = tg_pool_push();
    char *trace = NULL;
    size_t trace_size = 0;
    FILE *trace_out = NULL;
    int rc = expr_eval(&run, program);
    if (rc == 0 && !(trace_out = open_memstream(&trace, &trace_size))) {
        snprintf(run.error, sizeof run.error, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        tg_set_trace(trace_out);
        rc = tg_backward(run.output, NULL);
        tg_set_trace(NULL);
        fclose(trace_out);
        if (rc != 0) snprintf(run.error, sizeof run.error, "%s", tg_last_error());
    }
    if (rc != 0) {
        tg_pool_pop(pool);
        free(trace);
        return failure(out, run.error);
    }
    fputs("{\"ok\":true,\"output\":", out);
    json_string(out, tg_name(run.output));
    fputs(",\"tensors\":[", out);
    for (int i = 0; i < run.n_tensors; i++) {
        if (i) fputc(',', out);
        write_tensor(out, run.tensors[i], is_input(&run, run.tensors[i]));
    }
    fputs("],\"steps\":", out);
    write_steps(out, trace);
    /* One SGD step, x -= lr x.grad, outside the graph as torch.no_grad(). */
    fputs(",\"sgd\":[", out);
    bool previous = tg_set_grad_enabled(false);
    for (int i = 0; i < run.n_inputs; i++) {
        tg_tensor *x = run.inputs[i];
        if (i) fputc(',', out);
        fputs("{\"name\":", out);
        json_string(out, tg_name(x));
        fputs(",\"values\":", out);
        if (tg_grad(x) && tg_add_(x, tg_grad(x), -lr) == 0)
            json_values(out, x);
        else
            fputs("null", out);
        fputc('}', out);
    }
    tg_set_grad_enabled(previous);
    fputs("]}", out);
    tg_pool_pop(pool);
    free(trace);
    return finish(out);
}

/* ---- Gradient check ------------------------------------------------------------- */

enum { CHECK_MAX_ELEMENTS = 64 };
static const double CHECK_STEP = 1e-6;

/* The output of the program in float64 with one input element nudged. */
static double nudged_output(const char *program, int input, int element, double delta) {
    static expr_run run;
    run = (expr_run){.dtype = TG_F64, .nudge = {input, element, delta}};
    tg_pool *pool = tg_pool_push();
    bool previous = tg_set_grad_enabled(false);
    double v = expr_eval(&run, program) == 0 ? tg_item(run.output) : NAN;
    tg_set_grad_enabled(previous);
    tg_pool_pop(pool);
    return v;
}

const char *tg_web_gradcheck(const char *program) {
    FILE *out = begin();
    if (!out) return "{\"ok\":false,\"error\":\"out of memory\"}";
    static expr_run run;
    run = (expr_run){.dtype = TG_F64, .nudge = {.input = -1}};
    tg_pool *pool = tg_pool_push();
    if (expr_eval(&run, program) != 0 || tg_backward(run.output, NULL) != 0) {
        if (!run.error[0]) snprintf(run.error, sizeof run.error, "%s", tg_last_error());
        tg_pool_pop(pool);
        return failure(out, run.error);
    }
    fprintf(out, "{\"ok\":true,\"step\":%g,\"rows\":[", CHECK_STEP);
    int shown = 0;
    for (int k = 0; k < run.n_inputs; k++) {
        tg_tensor *x = run.inputs[k], *g = tg_grad(x);
        int64_t n = tg_numel(x);
        double *grad = malloc((size_t)n * sizeof *grad);
        if (!grad || !g || tg_to_doubles(g, grad) != 0) {
            free(grad);
            continue;
        }
        for (int64_t i = 0; i < n && shown < CHECK_MAX_ELEMENTS; i++, shown++) {
            double plus = nudged_output(program, k, (int)i, CHECK_STEP);
            double minus = nudged_output(program, k, (int)i, -CHECK_STEP);
            double numeric = (plus - minus) / (2 * CHECK_STEP);
            double scale = fmax(fabs(numeric), fabs(grad[i]));
            fputs(shown ? ",{\"input\":" : "{\"input\":", out);
            json_string(out, tg_name(x));
            fprintf(out, ",\"index\":%lld,\"autograd\":", (long long)i);
            json_number(out, grad[i]);
            fputs(",\"numeric\":", out);
            json_number(out, numeric);
            fputs(",\"relative_error\":", out);
            json_number(out, scale > 0 ? fabs(numeric - grad[i]) / scale : 0);
            fputc('}', out);
        }
        free(grad);
    }
    fputs("]}", out);
    tg_pool_pop(pool);
    return finish(out);
}

/* ---- Optimizers on a 2-D surface ----------------------------------------------------- */

enum surface { DOCUMENTS_LOSS, BOWL, ROSENBROCK };

/* The loss at each row (a, b) of points (N, 2), as an (N, 1) tensor:
 *   the documents' loss   mean(3 (p + 2)^2) over the two coordinates
 *   a bowl                a^2 + 10 b^2
 *   Rosenbrock's valley   (1 - a)^2 + 100 (b - a^2)^2                   */
static tg_tensor *surface_loss(enum surface s, tg_tensor *points) {
    tg_tensor *a = tg_slice(points, 1, 0, 1, 1), *b = tg_slice(points, 1, 1, 2, 1);
    switch (s) {
    case DOCUMENTS_LOSS:
        return tg_mean_dims(tg_mul_scalar(tg_square(tg_add_scalar(points, 2)), 3), 1, (int[]){1},
                            TG_KEEP_DIMS);
    case BOWL: return tg_add(tg_square(a), tg_mul_scalar(tg_square(b), 10));
    default:
        return tg_add(tg_square(tg_rsub_scalar(a, 1)),
                      tg_mul_scalar(tg_square(tg_sub(b, tg_square(a))), 100));
    }
}

/* Loss and gradient at one point (a, b). Returns false with tg_last_error(). */
static bool loss_and_grad(enum surface s, tg_tensor *point, double *loss, double grad[2]) {
    tg_clear_grad(point);
    tg_pool *pool = tg_pool_push();
    tg_tensor *l = tg_sum(surface_loss(s, point));
    bool ok = l && tg_backward(l, NULL) == 0 && tg_to_doubles(tg_grad(point), grad) == 0;
    if (ok) *loss = tg_item(l);
    tg_pool_pop(pool);
    return ok;
}

static tg_optimizer *make_optimizer(hand_rule kind, tg_tensor *p, double lr, double p1, double p2,
                                    double eps, double weight_decay) {
    switch (kind) {
    case HAND_SGD:
    case HAND_MOMENTUM: {
        tg_sgd_options o = tg_sgd_defaults(lr);
        o.momentum = kind == HAND_MOMENTUM ? p1 : 0;
        return tg_sgd_new(&p, 1, &o);
    }
    case HAND_ADAGRAD: {
        tg_adagrad_options o = tg_adagrad_defaults();
        o.lr = lr, o.eps = eps;
        return tg_adagrad_new(&p, 1, &o);
    }
    case HAND_RMSPROP: {
        tg_rmsprop_options o = tg_rmsprop_defaults();
        o.lr = lr, o.alpha = p1, o.eps = eps;
        return tg_rmsprop_new(&p, 1, &o);
    }
    default: {
        tg_adam_options o = kind == HAND_ADAMW ? tg_adamw_defaults() : tg_adam_defaults();
        o.lr = lr, o.beta1 = p1, o.beta2 = p2, o.eps = eps;
        if (kind == HAND_ADAMW) o.weight_decay = weight_decay;
        return kind == HAND_ADAMW ? tg_adamw_new(&p, 1, &o) : tg_adam_new(&p, 1, &o);
    }
    }
}

static void write_point(FILE *out, bool first, double a, double b, double loss) {
    fputs(first ? "[" : ",[", out);
    json_number(out, a);
    fputc(',', out);
    json_number(out, b);
    fputc(',', out);
    json_number(out, loss);
    fputc(']', out);
}

const char *tg_web_optimize(int surface, int optimizer, double lr, double p1, double p2, double eps,
                            double weight_decay, double x0, double y0, int steps) {
    FILE *out = begin();
    if (!out) return "{\"ok\":false,\"error\":\"out of memory\"}";
    if (surface < DOCUMENTS_LOSS || surface > ROSENBROCK || optimizer < HAND_SGD ||
        optimizer >= HAND_RULES || steps < 0 || steps > 10000)
        return failure(out, "optimize: no such surface or optimizer, or steps not in [0, 10000]");
    enum surface s = (enum surface)surface;
    hand_rule kind = (hand_rule)optimizer;
    tg_pool *pool = tg_pool_push(); /* p and q, the points of the two paths */
    tg_tensor *p = tg_requires_grad_(tg_from_data((double[]){x0, y0}, TG_SHAPE(1, 2), TG_F64),
                                     true);
    tg_tensor *q = tg_requires_grad_(tg_from_data((double[]){x0, y0}, TG_SHAPE(1, 2), TG_F64),
                                     true);
    tg_optimizer *opt = p && q ? make_optimizer(kind, p, lr, p1, p2, eps, weight_decay) : NULL;
    bool ok = opt != NULL;
    /* The library, with torch.optim's rules. */
    fputs("{\"ok\":true,\"library\":[", out);
    double loss, g[2], xy[2] = {x0, y0};
    for (int t = 0; t <= steps && ok; t++) {
        ok = loss_and_grad(s, p, &loss, g) && tg_to_doubles(p, xy) == 0 &&
             (t == steps || tg_optim_step(opt) == 0);
        if (ok) write_point(out, t == 0, xy[0], xy[1], loss);
    }
    /* The formulas as the source documents write them (hand_formulas.h:
     * eps inside the square root, Adam's s uncorrected), with the gradient
     * autograd gives at their point. */
    fputs("],\"documents\":[", out);
    hand_hyper hyper = {lr, p1, p2, eps, weight_decay, HAND_ADAM_AS_WRITTEN};
    hand_state by_hand[2] = {{.x = x0}, {.x = y0}};
    for (int t = 0; t <= steps && ok; t++) {
        tg_pool *step_pool = tg_pool_push();
        tg_tensor *point = tg_from_data((double[]){by_hand[0].x, by_hand[1].x}, TG_SHAPE(1, 2),
                                        TG_F64);
        bool previous = tg_set_grad_enabled(false);
        ok = point && tg_copy_(q, point) == 0;
        tg_set_grad_enabled(previous);
        tg_pool_pop(step_pool);
        if (!(ok = ok && loss_and_grad(s, q, &loss, g))) break;
        write_point(out, t == 0, by_hand[0].x, by_hand[1].x, loss);
        for (int i = 0; i < 2 && t < steps; i++) hand_update(kind, &hyper, &by_hand[i], g[i]);
    }
    fputs("]}", out);
    tg_optim_free(opt);
    tg_pool_pop(pool);
    if (!ok) { /* the message replaces what was written */
        fclose(out);
        out = begin();
        return out ? failure(out, tg_last_error()) : "{\"ok\":false,\"error\":\"out of memory\"}";
    }
    return finish(out);
}

const char *tg_web_surface(int surface, double xmin, double xmax, double ymin, double ymax, int n) {
    FILE *out = begin();
    if (!out) return "{\"ok\":false,\"error\":\"out of memory\"}";
    if (surface < DOCUMENTS_LOSS || surface > ROSENBROCK || n < 2 || n > 400)
        return failure(out, "surface: no such surface, or n not in [2, 400]");
    tg_pool *pool = tg_pool_push();
    tg_tensor *points = tg_empty(TG_SHAPE((int64_t)n * n, 2), TG_F64);
    double *d = points ? tg_data(points) : NULL;
    for (int i = 0; d && i < n; i++) /* row i: y from ymax down to ymin */
        for (int j = 0; j < n; j++) {
            d[2 * (i * n + j)] = xmin + (xmax - xmin) * j / (n - 1);
            d[2 * (i * n + j) + 1] = ymax - (ymax - ymin) * i / (n - 1);
        }
    tg_tensor *loss = d ? surface_loss((enum surface)surface, points) : NULL;
    if (!loss) {
        tg_pool_pop(pool);
        return failure(out, tg_last_error());
    }
    fprintf(out, "{\"ok\":true,\"n\":%d,\"values\":", n);
    json_values(out, loss);
    fputc('}', out);
    tg_pool_pop(pool);
    return finish(out);
}

/* ---- Activations --------------------------------------------------------------------- */

static tg_tensor *a_relu(tg_tensor *x, double p) { return (void)p, tg_relu(x); }
static tg_tensor *a_leaky(tg_tensor *x, double p) { return tg_leaky_relu(x, p); }
static tg_tensor *a_elu(tg_tensor *x, double p) { return tg_elu(x, p); }
static tg_tensor *a_celu(tg_tensor *x, double p) { return tg_celu(x, p); }
static tg_tensor *a_selu(tg_tensor *x, double p) { return (void)p, tg_selu(x); }
static tg_tensor *a_sigmoid(tg_tensor *x, double p) { return (void)p, tg_sigmoid(x); }
static tg_tensor *a_tanh(tg_tensor *x, double p) { return (void)p, tg_tanh(x); }
static tg_tensor *a_gelu(tg_tensor *x, double p) { return (void)p, tg_gelu(x, TG_GELU_NONE); }
static tg_tensor *a_gelu_tanh(tg_tensor *x, double p) { return (void)p, tg_gelu(x, TG_GELU_TANH); }
static tg_tensor *a_silu(tg_tensor *x, double p) { return (void)p, tg_silu(x); }
static tg_tensor *a_swish(tg_tensor *x, double p) {
    return tg_swish(x, tg_full(TG_SHAPE(1), p, TG_F64)); /* beta, a tensor as it may be learned */
}
static tg_tensor *a_softplus(tg_tensor *x, double p) {
    return tg_softplus(x, p, TG_SOFTPLUS_DEFAULT_THRESHOLD);
}
static tg_tensor *a_mish(tg_tensor *x, double p) { return (void)p, tg_mish(x); }
static tg_tensor *a_rrelu(tg_tensor *x, double p) {
    return (void)p, tg_rrelu(x, TG_RRELU_DEFAULT_LOWER, TG_RRELU_DEFAULT_UPPER, TG_EVAL, NULL);
}
static tg_tensor *a_hardtanh(tg_tensor *x, double p) { return tg_hardtanh(x, -p, p); }
static tg_tensor *a_relu6(tg_tensor *x, double p) { return (void)p, tg_relu6(x); }
static tg_tensor *a_hardsigmoid(tg_tensor *x, double p) { return (void)p, tg_hardsigmoid(x); }
static tg_tensor *a_hardswish(tg_tensor *x, double p) { return (void)p, tg_hardswish(x); }
static tg_tensor *a_logsigmoid(tg_tensor *x, double p) { return (void)p, tg_logsigmoid(x); }
static tg_tensor *a_softsign(tg_tensor *x, double p) { return (void)p, tg_softsign(x); }
static tg_tensor *a_tanhshrink(tg_tensor *x, double p) { return (void)p, tg_tanhshrink(x); }

static const struct {
    const char *name;
    tg_tensor *(*apply)(tg_tensor *x, double param);
    const char *param; /* its parameter's name, "" for none */
    double fallback, lo, hi;
} activations[] = {
    {"relu", a_relu, "", 0, 0, 0},
    {"leaky_relu", a_leaky, "negative_slope", TG_LEAKY_RELU_DEFAULT_SLOPE, 0, 0.5},
    {"rrelu (eval)", a_rrelu, "", 0, 0, 0},
    {"elu", a_elu, "alpha", TG_ELU_DEFAULT_ALPHA, 0, 3},
    {"selu", a_selu, "", 0, 0, 0},
    {"celu", a_celu, "alpha", TG_CELU_DEFAULT_ALPHA, 0.1, 3},
    {"sigmoid", a_sigmoid, "", 0, 0, 0},
    {"tanh", a_tanh, "", 0, 0, 0},
    {"gelu", a_gelu, "", 0, 0, 0},
    {"gelu (tanh)", a_gelu_tanh, "", 0, 0, 0},
    {"silu", a_silu, "", 0, 0, 0},
    {"swish", a_swish, "beta", 1.5, 0, 5},
    {"softplus", a_softplus, "beta", TG_SOFTPLUS_DEFAULT_BETA, 0.1, 5},
    {"mish", a_mish, "", 0, 0, 0},
    {"hardtanh", a_hardtanh, "max_val", TG_HARDTANH_DEFAULT_MAX_VAL, 0.1, 3},
    {"relu6", a_relu6, "", 0, 0, 0},
    {"hardsigmoid", a_hardsigmoid, "", 0, 0, 0},
    {"hardswish", a_hardswish, "", 0, 0, 0},
    {"logsigmoid", a_logsigmoid, "", 0, 0, 0},
    {"softsign", a_softsign, "", 0, 0, 0},
    {"tanhshrink", a_tanhshrink, "", 0, 0, 0},
};
enum { N_ACTIVATIONS = sizeof activations / sizeof *activations };

const char *tg_web_activations(void) {
    FILE *out = begin();
    if (!out) return "{\"ok\":false,\"error\":\"out of memory\"}";
    fputs("{\"ok\":true,\"activations\":[", out);
    for (int i = 0; i < N_ACTIVATIONS; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", out);
        json_string(out, activations[i].name);
        fputs(",\"param\":", out);
        json_string(out, activations[i].param);
        fprintf(out, ",\"default\":%g,\"min\":%g,\"max\":%g}", activations[i].fallback,
                activations[i].lo, activations[i].hi);
    }
    fputs("]}", out);
    return finish(out);
}

const char *tg_web_activation(int index, double param) {
    FILE *out = begin();
    if (!out) return "{\"ok\":false,\"error\":\"out of memory\"}";
    if (index < 0 || index >= N_ACTIVATIONS) return failure(out, "activation: no such activation");
    tg_pool *pool = tg_pool_push();
    tg_tensor *x = tg_requires_grad_(tg_arange(-5, 5.025, 0.05, TG_F64), true);
    tg_tensor *y = x ? activations[index].apply(x, param) : NULL;
    if (!y || tg_backward(tg_sum(y), NULL) != 0) {
        tg_pool_pop(pool);
        return failure(out, tg_last_error());
    }
    fputs("{\"ok\":true,\"x\":", out);
    json_values(out, x);
    fputs(",\"f\":", out);
    json_values(out, y);
    fputs(",\"df\":", out);
    json_values(out, tg_grad(x));
    /* GELU's row, by name, also shows the documents' wrong derivative and
     * coarse formula (hand_formulas.h). */
    if (strcmp(activations[index].name, "gelu") == 0) {
        int64_t n = tg_numel(x);
        double *xs = malloc((size_t)n * sizeof *xs);
        if (xs && tg_to_doubles(x, xs) == 0) {
            fputs(",\"documents_df\":[", out);
            for (int64_t i = 0; i < n; i++) {
                if (i) fputc(',', out);
                json_number(out, hand_gelu_derivative_wrong(xs[i]));
            }
            fputs("],\"documents_f\":[", out);
            for (int64_t i = 0; i < n; i++) {
                if (i) fputc(',', out);
                json_number(out, hand_gelu_coarse(xs[i]));
            }
            fputc(']', out);
        }
        free(xs);
    }
    fputc('}', out);
    tg_pool_pop(pool);
    return finish(out);
}
