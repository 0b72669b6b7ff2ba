/* tests/bench/bench_norm.c - layer_norm and rms_norm as one fused op
 * (ops/norm.c) against the same formula composed of tapegrad's ops, forward
 * and forward+backward, on float32 (rows, dim) tensors of about 1M
 * elements:
 *
 *     bench_norm [--threads N] [--budget SECONDS] [--n ELEMENTS]
 *
 * The composed forms are what a user would write without the op:
 *   layer_norm: c = x - mean(x, -1); y = c * (mean(c * c, -1) + eps)^-1/2 * w + b
 *   rms_norm:   y = x * (mean(x * x, -1) + eps)^-1/2 * w
 * x, w and b require grad; forward+backward adds tg_backward(y, ones).
 * Each line gives both median times and composed / fused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"

static tg_tensor *composed_layer_norm(tg_tensor *x, tg_tensor *w, tg_tensor *b) {
    int last[] = {-1};
    tg_tensor *c = tg_sub(x, tg_mean_dims(x, 1, last, TG_KEEP_DIMS));
    tg_tensor *var = tg_mean_dims(tg_mul(c, c), 1, last, TG_KEEP_DIMS);
    return tg_add(tg_mul(tg_mul(c, tg_pow_scalar(tg_add_scalar(var, 1e-5), -0.5)), w), b);
}

static tg_tensor *composed_rms_norm(tg_tensor *x, tg_tensor *w) {
    tg_tensor *ms = tg_mean_dims(tg_mul(x, x), 1, (int[]){-1}, TG_KEEP_DIMS);
    return tg_mul(tg_mul(x, tg_pow_scalar(tg_add_scalar(ms, 1e-6), -0.5)), w);
}

typedef struct inputs {
    tg_tensor *x, *w, *b, *ones;
    bool rms, composed, backward;
} inputs;

static int run_once(void *ctx) {
    const inputs *in = ctx;
    tg_pool *pool = tg_pool_push();
    int64_t dim = tg_size(in->x, -1);
    tg_tensor *y = in->rms
                       ? (in->composed ? composed_rms_norm(in->x, in->w)
                                       : tg_rms_norm(in->x, in->w, 1e-6))
                       : (in->composed ? composed_layer_norm(in->x, in->w, in->b)
                                       : tg_layer_norm(in->x, TG_SHAPE(dim), in->w, in->b, 1e-5));
    int rc = y && (!in->backward || tg_backward(y, in->ones) == 0) ? 0 : -1;
    tg_pool_pop(pool);
    return rc;
}

static double budget_s = 1.0;

static double median_s(inputs *in) {
    timing t = time_runs(run_once, in, budget_s, 0);
    return t.runs ? t.median_s : -1;
}

int main(int argc, char **argv) {
    int64_t n = 1 << 20;
    if (common_options_only(argc, argv, &budget_s, &n)) return 2;
    static const int64_t dims[] = {64, 256, 1024, 4096};
    printf("float32, about %lld elements, %d thread(s); ms are medians, ratio = composed / fused\n",
           (long long)n, tg_get_num_threads());
    printf("%-10s %12s %10s %10s %7s %10s %10s %7s\n", "op", "rows x dim", "fwd fused", "composed",
           "ratio", "f+b fused", "composed", "ratio");
    tg_generator *gen = tg_generator_new(1);
    int failed = 0;
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        int64_t dim = dims[d], rows = n / dim > 0 ? n / dim : 1;
        inputs in = {
            .x = tg_requires_grad_(tg_randn(TG_SHAPE(rows, dim), TG_F32, gen), true),
            .w = tg_requires_grad_(tg_randn(TG_SHAPE(dim), TG_F32, gen), true),
            .b = tg_requires_grad_(tg_randn(TG_SHAPE(dim), TG_F32, gen), true),
            .ones = tg_ones(TG_SHAPE(rows, dim), TG_F32),
        };
        for (int rms = 0; rms < 2 && !failed; rms++) {
            double ms[2][2]; /* [backward][composed] */
            in.rms = rms;
            for (int k = 0; k < 4 && !failed; k++) {
                in.backward = k / 2, in.composed = k % 2;
                double t = in.x && in.w && in.b && in.ones ? median_s(&in) : -1;
                if (t < 0) {
                    fprintf(stderr, "bench_norm: %s\n", tg_last_error());
                    failed = 1;
                }
                ms[k / 2][k % 2] = 1e3 * t;
            }
            if (failed) break;
            char size[32];
            snprintf(size, sizeof size, "%lld x %lld", (long long)rows, (long long)dim);
            printf("%-10s %12s %10.3f %10.3f %6.2fx %10.3f %10.3f %6.2fx\n",
                   rms ? "rms_norm" : "layer_norm", size, ms[0][0], ms[0][1], ms[0][1] / ms[0][0],
                   ms[1][0], ms[1][1], ms[1][1] / ms[1][0]);
        }
        tg_release(in.x);
        tg_release(in.w);
        tg_release(in.b);
        tg_release(in.ones);
    }
    tg_generator_free(gen);
    return failed;
}
