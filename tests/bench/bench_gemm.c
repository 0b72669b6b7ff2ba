/* tests/bench/bench_gemm.c - one matrix product (float32, or float64), tg_matmul, through
 * each product code the build has: where ops/gemm.c is faster than BLIS and
 * where BLIS is, by shape. It is the measurement behind the rule
 * ops/blas_blis.c applies by default (tests/bench/RESULTS.md).
 *
 *     bench_gemm [--threads N] [--budget SECONDS] [--rounds R] [--f64] [BACKEND...]
 *
 * BACKEND is a TG_GEMM value (blis, tapegrad, avx2, portable, default);
 * the default list is blis, tapegrad and default. The choice of products
 * is settled once per process, so each backend runs in a child process of
 * its own, and the children take turns, R rounds (default 3, at most 15),
 * so that a busy moment of the machine falls on each (--f64: float64
 * operands, whose split may differ); a cell is the median
 * of the rounds' medians, in microseconds per product (the tensor of the result
 * created and released each time, as in a training step). The shapes: the
 * nine products of bench_ffn's training step for its four workloads (each
 * is B x dim x hidden; the backward's products read a transposed operand)
 * and squares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"

/* C (m x n) = op(A) op(B) with k the inner size; ta / tb: the operand is
 * stored transposed (k x m, n x k) and read through a transposed view, as
 * the backward's products and x w^T read theirs. */
typedef struct product {
    const char *name;
    int64_t m, n, k;
    bool ta, tb;
} product;

/* The six forms of bench_ffn's nine products (x w1^T and x w3^T are one
 * form, as are dh1 w1 and dh3 w3, dh1^T x and dh3^T x). */
// clang-format off
#define FFN(label, B, D, H)                                                                     \
    {label " x w1^T", B, H, D, false, true},  {label " s w2^T", B, D, H, false, true},          \
    {label " dy w2", B, H, D, false, false},  {label " dy^T s", D, H, B, true, false},          \
    {label " dh w1", B, D, H, false, false},  {label " dh^T x", H, D, B, true, false}
#define SQUARE(n) {"square " #n, n, n, n, false, false}
static const product products[] = {
    FFN("tiny", 32, 16, 48), FFN("small", 64, 128, 176), FFN("medium", 256, 512, 1408),
    FFN("large", 512, 1024, 2816),
    SQUARE(16), SQUARE(24), SQUARE(32), SQUARE(40), SQUARE(48), SQUARE(64), SQUARE(96),
    SQUARE(128), SQUARE(192), SQUARE(256), SQUARE(512), SQUARE(1024),
};
#undef FFN
#undef SQUARE
// clang-format on
#define N_PRODUCTS (sizeof products / sizeof products[0])
#define MAX_ROUNDS 15
#define MAX_BACKENDS 8

typedef struct operands {
    tg_tensor *a, *b;
} operands;

static int one_product(void *ctx) {
    operands *o = ctx;
    tg_pool *pool = tg_pool_push();
    tg_tensor *c = tg_matmul(o->a, o->b);
    tg_pool_pop(pool);
    return c ? 0 : -1;
}

static tg_dtype dtype = TG_F32; /* of every operand: --f64 */

/* A rows x cols operand, or the transposed view of a cols x rows one. */
static tg_tensor *operand(int64_t rows, int64_t cols, bool transposed, tg_generator *gen) {
    int64_t dims[2] = {transposed ? cols : rows, transposed ? rows : cols};
    tg_tensor *t = tg_randn(2, dims, dtype, gen);
    if (!t || !transposed) return t;
    tg_tensor *view = tg_transpose(t, 0, 1);
    tg_release(t);
    return view;
}

/* Every shape's median, in seconds, in this process's product code. */
static int time_shapes(double budget_s, double *median_s) {
    tg_generator *gen = tg_generator_new(1);
    for (size_t i = 0; i < N_PRODUCTS; i++) {
        const product *s = &products[i];
        operands o = {operand(s->m, s->k, s->ta, gen), operand(s->k, s->n, s->tb, gen)};
        timing t = o.a && o.b ? time_runs(one_product, &o, budget_s, 0) : (timing){0};
        tg_release(o.a), tg_release(o.b);
        if (t.runs == 0) {
            fprintf(stderr, "bench_gemm: %s: %s\n", s->name, tg_last_error());
            tg_generator_free(gen);
            return -1;
        }
        median_s[i] = t.median_s;
    }
    tg_generator_free(gen);
    return 0;
}

/* One round of one backend, in a child process (in_child: the product
 * code is chosen once per process, at its first product). */
typedef struct round_args {
    const char *backend;
    double budget_s;
} round_args;

static int round_child(void *ctx, void *out) {
    const round_args *args = ctx;
    if (strcmp(args->backend, "default") == 0)
        unsetenv("TG_GEMM");
    else
        setenv("TG_GEMM", args->backend, 1);
    return time_shapes(args->budget_s, out);
}

/* 0 with median_s filled, or -1. */
static int round_in_child(const char *backend, double budget_s, double *median_s) {
    round_args args = {backend, budget_s};
    return in_child(round_child, &args, median_s, N_PRODUCTS * sizeof *median_s);
}

int main(int argc, char **argv) {
    double budget_s = 0.2;
    int64_t unused_n = 0;
    int rounds = 3;
    const char *backends[MAX_BACKENDS];
    int n_backends = 0;
    for (int i = 1; i < argc; i++) {
        int known = common_option(argc, argv, &i, &budget_s, &unused_n);
        if (known < 0) return 2;
        if (known) continue;
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc && (rounds = atoi(argv[i + 1])) > 0 &&
            rounds <= MAX_ROUNDS) {
            i++;
        } else if (strcmp(argv[i], "--f64") == 0) {
            dtype = TG_F64;
        } else if (argv[i][0] != '-' && n_backends < MAX_BACKENDS) {
            backends[n_backends++] = argv[i];
        } else {
            fprintf(stderr,
                    "usage: %s [--threads N] [--budget SECONDS] [--rounds R] [--f64] [BACKEND...]\n"
                    "  BACKEND: blis, tapegrad, avx2, portable or default\n",
                    argv[0]);
            return 2;
        }
    }
    if (n_backends == 0) {
        static const char *const standard[] = {"blis", "tapegrad", "default"};
        for (int i = 0; i < 3; i++) backends[n_backends++] = standard[i];
    }

    static double runs[MAX_BACKENDS][MAX_ROUNDS][N_PRODUCTS];
    for (int r = 0; r < rounds; r++)
        for (int b = 0; b < n_backends; b++)
            if (round_in_child(backends[b], budget_s, runs[b][r]) != 0) {
                fprintf(stderr, "bench_gemm: backend %s failed\n", backends[b]);
                return 1;
            }

    printf("# tg_matmul, %s, %d thread(s), median of %d rounds, microseconds per product\n",
           dtype == TG_F32 ? "float32" : "float64", tg_get_num_threads(), rounds);
    printf("%-20s %6s %6s %6s %11s", "shape", "m", "n", "k", "GFLOP");
    for (int b = 0; b < n_backends; b++) printf(" %10s", backends[b]);
    if (n_backends > 1) printf("  %s/%s", backends[0], backends[1]);
    printf("\n");
    for (size_t i = 0; i < N_PRODUCTS; i++) {
        const product *s = &products[i];
        double flop = 2.0 * (double)s->m * (double)s->n * (double)s->k;
        printf("%-20s %6lld %6lld %6lld %11.6f", s->name, (long long)s->m, (long long)s->n,
               (long long)s->k, flop * 1e-9);
        double first = 0, second = 0;
        for (int b = 0; b < n_backends; b++) {
            double medians[MAX_ROUNDS];
            for (int r = 0; r < rounds; r++) medians[r] = runs[b][r][i];
            qsort(medians, (size_t)rounds, sizeof *medians, by_value);
            double med = rounds % 2 ? medians[rounds / 2]
                                    : (medians[rounds / 2 - 1] + medians[rounds / 2]) / 2;
            printf(" %10.2f", med * 1e6);
            if (b == 0) first = med;
            if (b == 1) second = med;
        }
        if (n_backends > 1) printf("  %.2f", first / second);
        printf("\n");
    }
    return 0;
}
