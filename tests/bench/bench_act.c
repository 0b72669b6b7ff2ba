/* tests/bench/bench_act.c - forward and forward+backward throughput of the
 * activations on 1M-element float32 tensors: a common claim is that ReLU is the
 * fastest, Swish (SiLU) next and GELU the slowest; this measures it.
 *
 *     bench_act [--threads N] [--budget SECONDS] [--n ELEMENTS]
 *
 * x holds standard normal values (half of them negative, so branches do not
 * predict). A forward is y = act(x) with x requiring grad (the node is
 * recorded); forward+backward adds tg_backward(y, ones), which seeds with a
 * copy of the ones and accumulates into x.grad, as a real backward does.
 * The gated ones (swiglu, geglu) take gate and up of n elements each, and
 * glu one x of 2n (up, then gate); they are counted per output element.
 * Throughput is n / median time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"

typedef struct act {
    const char *name;
    tg_tensor *(*unary)(tg_tensor *x);
    tg_tensor *(*gated)(tg_tensor *gate, tg_tensor *up);
    tg_tensor *(*halves)(tg_tensor *x); /* of x's two halves along dim 0 */
} act;

static tg_tensor *leaky_relu(tg_tensor *x) { return tg_leaky_relu(x, 0.01); }
static tg_tensor *elu(tg_tensor *x) { return tg_elu(x, 1.0); }
static tg_tensor *gelu(tg_tensor *x) { return tg_gelu(x, TG_GELU_NONE); }
static tg_tensor *gelu_tanh(tg_tensor *x) { return tg_gelu(x, TG_GELU_TANH); }
static tg_tensor *geglu(tg_tensor *gate, tg_tensor *up) { return tg_geglu(gate, up, TG_GELU_NONE); }
static tg_tensor *softplus(tg_tensor *x) { return tg_softplus(x, 1, 20); }
static tg_tensor *celu(tg_tensor *x) { return tg_celu(x, 1.0); }
static tg_tensor *hardtanh(tg_tensor *x) { return tg_hardtanh(x, -1, 1); }
static tg_tensor *glu(tg_tensor *x) { return tg_glu(x, 0); }

static const act acts[] = {
    {"relu", .unary = tg_relu},
    {"leaky_relu", .unary = leaky_relu},
    {"elu", .unary = elu},
    {"sigmoid", .unary = tg_sigmoid},
    {"tanh", .unary = tg_tanh},
    {"gelu", .unary = gelu},
    {"gelu-tanh", .unary = gelu_tanh},
    {"silu", .unary = tg_silu},
    {"swiglu", .gated = tg_swiglu},
    {"geglu", .gated = geglu},
    {"glu", .halves = glu},
    {"softplus", .unary = softplus}, /* libm's exp and log1p per element: not vectorised */
    {"selu", .unary = tg_selu},
    {"celu", .unary = celu},
    {"hardtanh", .unary = hardtanh},
    {"relu6", .unary = tg_relu6},
    {"hardsigmoid", .unary = tg_hardsigmoid},
    {"hardswish", .unary = tg_hardswish},
    {"mish", .unary = tg_mish},
    {"logsigmoid", .unary = tg_logsigmoid},
    {"softsign", .unary = tg_softsign},
    {"tanhshrink", .unary = tg_tanhshrink},
};
enum { N_ACTS = sizeof acts / sizeof acts[0] };

static double budget_s = 1.0;

typedef struct inputs {
    const act *a;
    tg_tensor *x, *up, *both, *ones; /* both: 2n elements, for glu */
    bool backward;
} inputs;

/* One forward (and backward, when asked); 0 or -1. */
static int run_once(void *ctx) {
    const inputs *in = ctx;
    tg_pool *pool = tg_pool_push();
    const act *a = in->a;
    tg_tensor *y = a->unary   ? a->unary(in->x)
                   : a->gated ? a->gated(in->x, in->up)
                              : a->halves(in->both);
    int rc = y && (!in->backward || tg_backward(y, in->ones) == 0) ? 0 : -1;
    tg_pool_pop(pool);
    return rc;
}

/* The median seconds of one run over the budget; negative on failure. */
static double median_s(inputs *in) {
    timing t = time_runs(run_once, in, budget_s, 0);
    return t.runs ? t.median_s : -1;
}

int main(int argc, char **argv) {
    int64_t n = 1 << 20;
    if (common_options_only(argc, argv, &budget_s, &n)) return 2;
    tg_generator *gen = tg_generator_new(1);
    inputs in = {
        .x = tg_requires_grad_(tg_randn(TG_SHAPE(n), TG_F32, gen), true),
        .up = tg_requires_grad_(tg_randn(TG_SHAPE(n), TG_F32, gen), true),
        .both = tg_requires_grad_(tg_randn(TG_SHAPE(2 * n), TG_F32, gen), true),
        .ones = tg_ones(TG_SHAPE(n), TG_F32),
    };
    tg_generator_free(gen);
    if (!in.x || !in.up || !in.both || !in.ones) {
        fprintf(stderr, "bench_act: %s\n", tg_last_error());
        return 1;
    }
    printf("float32, %lld elements, %d thread(s); Melem/s = elements / median time\n", (long long)n,
           tg_get_num_threads());
    printf("%-11s %12s %12s %16s %16s\n", "activation", "forward ms", "fwd+bwd ms",
           "forward Melem/s", "fwd+bwd Melem/s");
    int failed = 0;
    for (int k = 0; k < N_ACTS; k++) {
        in.a = &acts[k];
        in.backward = false;
        double fwd = median_s(&in);
        in.backward = true;
        double both = fwd < 0 ? -1 : median_s(&in);
        if (both < 0) {
            fprintf(stderr, "bench_act: %s failed: %s\n", acts[k].name, tg_last_error());
            failed = 1;
            continue;
        }
        printf("%-11s %12.3f %12.3f %16.1f %16.1f\n", acts[k].name, 1e3 * fwd, 1e3 * both,
               (double)n / fwd * 1e-6, (double)n / both * 1e-6);
    }
    tg_release(in.x);
    tg_release(in.up);
    tg_release(in.both);
    tg_release(in.ones);
    return failed;
}
