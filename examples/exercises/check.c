/* examples/exercises/check.c - checks the hand-written backward passes of
 * exercises.h against autograd, one report per exercise.
 *
 *     ./run.sh exercises              your answers: the numbered files beside this one
 *     ./run.sh exercises solutions    the reference solutions, in solutions/
 *
 * Names given as arguments (worked, linear, swiglu, softmax, rmsnorm) run
 * those exercises alone. Exit status 0 when every exercise run is right. */
#include <string.h>

#include "exercises.h"

typedef struct grad_check {
    const char *name;
    tg_tensor *hand, *param; /* param's .grad is autograd's */
} grad_check;

/* Prints the report of one exercise; true when it is right. */
static bool report(const char *title, int n, const grad_check *checks) {
    printf("== %s\n", title);
    tg_grad_report *r = tg_grad_report_new();
    for (int i = 0; r && i < n; i++)
        if (tg_grad_report_check(r, checks[i].name, checks[i].hand, checks[i].param) < 0) break;
    bool ok = r && tg_grad_report_print(r, stdout) == 0 && tg_grad_report_all_ok(r);
    tg_grad_report_free(r);
    if (tg_last_status() != TG_OK) printf("  (error: %s)\n", tg_last_error());
    tg_clear_error();
    printf("\n");
    return ok;
}

/* A seeded float64 leaf that requires grad. */
static tg_tensor *param(int ndim, const int64_t *shape, tg_generator *gen) {
    return tg_requires_grad_(tg_randn(ndim, shape, TG_F64, gen), true);
}

/* Runs loss's backward, then the student's with grad mode off (so the hand
 * computation records nothing): call is a statement using the inputs. */
#define BACKWARD_THEN_BY_HAND(loss, call)        \
    do {                                         \
        tg_backward((loss), NULL);               \
        bool prev_ = tg_set_grad_enabled(false); \
        call;                                    \
        tg_set_grad_enabled(prev_);              \
    } while (0)

static bool worked(tg_generator *gen) {
    (void)gen;
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F64), true), *dx = NULL;
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *loss = tg_mean(tg_mul_scalar(tg_mul(y, y), 3)); /* 27 */
    BACKWARD_THEN_BY_HAND(loss, worked_example_backward(x, &dx));
    return report("1. The worked example: loss = mean(3 (x + 2)^2)", 1,
                  (grad_check[]){{"dx", dx, x}});
}

static bool linear(tg_generator *gen) {
    tg_tensor *x = param(TG_SHAPE(4, 3), gen), *W = param(TG_SHAPE(2, 3), gen);
    tg_tensor *b = param(TG_SHAPE(2), gen), *target = tg_randn(TG_SHAPE(4, 2), TG_F64, gen);
    tg_tensor *y = tg_linear(x, W, b), *dx = NULL, *dW = NULL, *db = NULL;
    BACKWARD_THEN_BY_HAND(tg_mse_loss(y, target, TG_REDUCTION_MEAN),
                          linear_backward(x, W, y, target, &dx, &dW, &db));
    return report("2. A Linear layer: y = x W^T + b, loss = mean((y - target)^2)", 3,
                  (grad_check[]){{"dx", dx, x}, {"dW", dW, W}, {"db", db, b}});
}

static bool swiglu(tg_generator *gen) {
    tg_tensor *x = param(TG_SHAPE(3, 4), gen), *W1 = param(TG_SHAPE(5, 4), gen);
    tg_tensor *W3 = param(TG_SHAPE(5, 4), gen), *g = tg_randn(TG_SHAPE(3, 5), TG_F64, gen);
    tg_tensor *h = tg_mul(tg_silu(tg_linear(x, W1, NULL)), tg_linear(x, W3, NULL));
    tg_tensor *dx = NULL, *dW1 = NULL, *dW3 = NULL;
    BACKWARD_THEN_BY_HAND(tg_sum(tg_mul(h, g)), swiglu_backward(x, W1, W3, g, &dx, &dW1, &dW3));
    return report("3. SwiGLU's gate: h = silu(x W1^T) * (x W3^T), loss = sum(h * g)", 3,
                  (grad_check[]){{"dx", dx, x}, {"dW1", dW1, W1}, {"dW3", dW3, W3}});
}

static bool softmax(tg_generator *gen) {
    tg_tensor *logits = param(TG_SHAPE(4, 5), gen), *dlogits = NULL;
    tg_tensor *labels = tg_from_data((int64_t[]){1, 0, 4, 1}, TG_SHAPE(4), TG_I64);
    BACKWARD_THEN_BY_HAND(tg_cross_entropy(logits, labels, TG_REDUCTION_MEAN),
                          softmax_cross_entropy_backward(logits, labels, &dlogits));
    return report("4. Softmax with cross-entropy: loss = cross_entropy(logits, labels)", 1,
                  (grad_check[]){{"dlogits", dlogits, logits}});
}

static bool rmsnorm(tg_generator *gen) {
    const double eps = 1e-6;
    tg_tensor *x = param(TG_SHAPE(3, 4), gen), *w = param(TG_SHAPE(4), gen);
    tg_tensor *g = tg_randn(TG_SHAPE(3, 4), TG_F64, gen), *dx = NULL, *dw = NULL;
    BACKWARD_THEN_BY_HAND(tg_sum(tg_mul(tg_rms_norm(x, w, eps), g)),
                          rms_norm_backward(x, w, eps, g, &dx, &dw));
    return report("5. RMSNorm: y = x rsqrt(mean(x^2) + eps) w, loss = sum(y * g)", 2,
                  (grad_check[]){{"dx", dx, x}, {"dw", dw, w}});
}

static const struct {
    const char *name;
    bool (*run)(tg_generator *gen);
} EXERCISES[] = {{"worked", worked},
                 {"linear", linear},
                 {"swiglu", swiglu},
                 {"softmax", softmax},
                 {"rmsnorm", rmsnorm}};
enum { N_EXERCISES = sizeof EXERCISES / sizeof EXERCISES[0] };

/* Whether the arguments ask for exercise i (no arguments: all); -1 when
 * one of them names no exercise. */
static int asked(int i, int argc, char **argv) {
    bool named = argc == 1;
    for (int a = 1; a < argc; a++) {
        int k = 0;
        while (k < N_EXERCISES && strcmp(argv[a], EXERCISES[k].name) != 0) k++;
        if (k == N_EXERCISES) return -1;
        named |= k == i;
    }
    return named;
}

int main(int argc, char **argv) {
    if (asked(0, argc, argv) < 0) {
        fprintf(stderr, "usage: %s [worked | linear | swiglu | softmax | rmsnorm]...\n", argv[0]);
        return 2;
    }
    int run = 0, right = 0;
    for (int i = 0; i < N_EXERCISES; i++) {
        if (!asked(i, argc, argv)) continue;
        tg_pool *pool = tg_pool_push();
        tg_generator *gen = tg_generator_new(2024 + (uint64_t)i); /* the same inputs every run */
        right += EXERCISES[i].run(gen);
        run++;
        tg_generator_free(gen);
        tg_pool_pop(pool);
    }
    printf("%d of %d exercises right\n", right, run);
    return right == run ? 0 : 1;
}
