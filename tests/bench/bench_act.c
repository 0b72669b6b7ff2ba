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
 * The gated ones (swiglu, geglu) take gate and up of n elements each and
 * are counted per output element. Throughput is n / median time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"

typedef struct act {
    const char *name;
    tg_tensor *(*unary)(tg_tensor *x);
    tg_tensor *(*gated)(tg_tensor *gate, tg_tensor *up);
} act;

static tg_tensor *leaky_relu(tg_tensor *x) { return tg_leaky_relu(x, 0.01); }
static tg_tensor *elu(tg_tensor *x) { return tg_elu(x, 1.0); }
static tg_tensor *gelu(tg_tensor *x) { return tg_gelu(x, TG_GELU_NONE); }
static tg_tensor *gelu_tanh(tg_tensor *x) { return tg_gelu(x, TG_GELU_TANH); }
static tg_tensor *geglu(tg_tensor *gate, tg_tensor *up) { return tg_geglu(gate, up, TG_GELU_NONE); }
static tg_tensor *softplus(tg_tensor *x) { return tg_softplus(x, 1, 20); }
static tg_tensor *celu(tg_tensor *x) { return tg_celu(x, 1.0); }
static tg_tensor *hardtanh(tg_tensor *x) { return tg_hardtanh(x, -1, 1); }

static const act acts[] = {
    {"relu", tg_relu, NULL},
    {"leaky_relu", leaky_relu, NULL},
    {"elu", elu, NULL},
    {"sigmoid", tg_sigmoid, NULL},
    {"tanh", tg_tanh, NULL},
    {"gelu", gelu, NULL},
    {"gelu-tanh", gelu_tanh, NULL},
    {"silu", tg_silu, NULL},
    {"swiglu", NULL, tg_swiglu},
    {"geglu", NULL, geglu},
    {"softplus", softplus, NULL}, /* libm's exp and log1p per element: not vectorised */
    {"selu", tg_selu, NULL},
    {"celu", celu, NULL},
    {"hardtanh", hardtanh, NULL},
    {"relu6", tg_relu6, NULL},
    {"hardsigmoid", tg_hardsigmoid, NULL},
    {"hardswish", tg_hardswish, NULL},
    {"mish", tg_mish, NULL},
    {"logsigmoid", tg_logsigmoid, NULL},
    {"softsign", tg_softsign, NULL},
    {"tanhshrink", tg_tanhshrink, NULL},
};
enum { N_ACTS = sizeof acts / sizeof acts[0] };

static double budget_s = 1.0;

typedef struct inputs {
    const act *a;
    tg_tensor *x, *up, *ones;
    bool backward;
} inputs;

/* One forward (and backward, when asked); 0 or -1. */
static int run_once(void *ctx) {
    const inputs *in = ctx;
    tg_pool *pool = tg_pool_push();
    tg_tensor *y = in->a->unary ? in->a->unary(in->x) : in->a->gated(in->x, in->up);
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
        .ones = tg_ones(TG_SHAPE(n), TG_F32),
    };
    tg_generator_free(gen);
    if (!in.x || !in.up || !in.ones) {
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
    tg_release(in.ones);
    return failed;
}
