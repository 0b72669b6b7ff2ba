/* tests/bench/bench_ffn.c - one training step of a SwiGLU FeedForward
 * (forward, MSE loss, backward, AdamW step, zero_grad) on four workloads,
 * next to the same nine matrix products run bare through BLIS.
 *
 *     bench_ffn [--threads N] [--budget SECONDS | --steps N] [--csv] [WORKLOAD...]
 *
 * For each workload: warm-up, then steps for a fixed wall-clock budget; the
 * median and the fastest step; GFLOP/s counting the 18 B dim hidden' FLOPs
 * of the nine products (hidden' after LLaMA's rounding); the nine products
 * (same shapes and transposes) timed the same way through bli_sgemm, and
 * the step's share of that throughput; the peak resident memory the
 * workload added to the process, next to the least any implementation
 * needs. Each workload runs in a child process of its own, so that one
 * workload's peak is not another's.
 *
 * First it measures how fast one core can go: a loop of independent fused
 * multiply-adds on the widest vectors the CPU has (AVX-512 or AVX2), and
 * BLIS's sgemm on square matrices of 1024; each row then gives the step's
 * GFLOP/s as a fraction of both, times the thread count.
 *
 * The input x requires grad (as it does inside a network), so backward
 * computes all nine products: three forward, and for each linear dX and dW.
 * --steps N times exactly N steps (and N runs of the bare products) after
 * 3 of warm-up instead, for profilers (valgrind --tool=callgrind), under
 * which a wall-clock budget means little. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <blis.h>
#include <tapegrad/tapegrad.h>

#include "bench_common.h"
#include "ffn_model.h"

/* What a child sends back through its pipe. */
typedef struct result {
    int ok, threads;
    int64_t hidden; /* after rounding */
    long steps;
    double median_s, min_s;           /* one training step */
    double blis_median_s, blis_min_s; /* the nine bare products */
    double peak_bytes;                /* resident memory the workload added */
    double min_bytes;                 /* the theoretical minimum */
} result;

static double budget_s = 2.0;
static long fixed_runs; /* --steps: > 0 replaces the budget */


/* ---- Memory ------------------------------------------------------------------------ */

static double resident_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double peak_resident_bytes(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return 1024.0 * (double)ru.ru_maxrss; /* KiB on Linux */
}

/* The least memory a step needs, in bytes of float32: the parameters, their
 * gradients and AdamW's two moments (4 x 3 dim hidden), and what backward
 * reads: x, w1 x and w3 x (SwiGLU's inputs), SwiGLU's output (w2's input),
 * the output and the target (the loss's inputs). */
static double minimum_bytes(const workload *w, int64_t hidden) {
    double params = 3.0 * (double)w->dim * (double)hidden;
    double saved = 3.0 * (double)w->batch * ((double)hidden + (double)w->dim);
    return 4.0 * (4 * params + saved);
}

/* ---- The tapegrad step ---------------------------------------------------------------- */

static int train_step(void *ctx) {
    model *m = ctx;
    tg_pool *pool = tg_pool_push();
    tg_tensor *loss = tg_mse_loss(tg_module_forward(m->ffn, m->x), m->target, TG_REDUCTION_MEAN);
    int rc = loss && tg_backward(loss, NULL) == 0 && tg_optim_step(m->opt) == 0 ? 0 : -1;
    tg_optim_zero_grad(m->opt,
                       TG_GRAD_TO_ZERO); /* PyTorch 1.13's default: zero, keep the tensors */
    tg_pool_pop(pool);
    if (rc) fprintf(stderr, "bench_ffn: step failed: %s\n", tg_last_error());
    return rc;
}

/* ---- The same nine products, bare ------------------------------------------------------ */

/* A row-major float matrix. */
typedef struct matrix {
    float *p;
    dim_t rows, cols;
} matrix;

static matrix matrix_new(dim_t rows, dim_t cols) {
    matrix m = {malloc((size_t)(rows * cols) * sizeof(float)), rows, cols};
    for (dim_t i = 0; m.p && i < rows * cols; i++) /* values in [-0.5, 0.5), no denormals */
        m.p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    return m;
}

/* c = op(a) op(b) + beta c, all row-major. */
static void sgemm(trans_t ta, matrix a, trans_t tb, matrix b, float beta, matrix c) {
    float one = 1;
    dim_t k = ta == BLIS_NO_TRANSPOSE ? a.cols : a.rows;
    bli_sgemm(ta, tb, c.rows, c.cols, k, &one, a.p, a.cols, 1, b.p, b.cols, 1, &beta, c.p, c.cols,
              1);
}

/* Forward and backward of y = w2(silu(w1 x) * w3 x) as matrix products:
 * x, y, dy, dx (B, D); w1, w3, dw1, dw3 (H, D); w2, dw2 (D, H); the rest
 * (B, H). */
enum { X, Y, DY, DX, W1, W3, DW1, DW3, W2, DW2, H1, H3, S, DS, DH1, DH3, N_MATRICES };

static int run_products(void *ctx) {
    const trans_t N = BLIS_NO_TRANSPOSE, T = BLIS_TRANSPOSE;
    const matrix *m = ctx;
    sgemm(N, m[X], T, m[W1], 0, m[H1]);   /* h1 = x w1^T */
    sgemm(N, m[X], T, m[W3], 0, m[H3]);   /* h3 = x w3^T */
    sgemm(N, m[S], T, m[W2], 0, m[Y]);    /* y = s w2^T */
    sgemm(N, m[DY], N, m[W2], 0, m[DS]);  /* ds = dy w2 */
    sgemm(T, m[DY], N, m[S], 0, m[DW2]);  /* dw2 = dy^T s */
    sgemm(N, m[DH1], N, m[W1], 0, m[DX]); /* dx = dh1 w1 */
    sgemm(T, m[DH1], N, m[X], 0, m[DW1]); /* dw1 = dh1^T x */
    sgemm(N, m[DH3], N, m[W3], 1, m[DX]); /* dx += dh3 w3 */
    sgemm(T, m[DH3], N, m[X], 0, m[DW3]); /* dw3 = dh3^T x */
    return 0;
}

static timing time_products(dim_t B, dim_t D, dim_t H) {
    matrix m[N_MATRICES];
    bool ok = true;
    for (int i = 0; i < N_MATRICES; i++) {
        m[i] = i < W1   ? matrix_new(B, D)
               : i < W2 ? matrix_new(H, D)
               : i < H1 ? matrix_new(D, H)
                        : matrix_new(B, H);
        ok = ok && m[i].p;
    }
    timing t = ok ? time_runs(run_products, m, budget_s, fixed_runs) : (timing){0};
    for (int i = 0; i < N_MATRICES; i++) free(m[i].p);
    return t;
}

/* ---- One workload, in a child process ---------------------------------------------------- */

static result run_workload(const workload *w) {
    result r = {.threads = tg_get_num_threads()};
    double base = resident_bytes();
    model m = {0};
    r.hidden = tg_ffn_hidden_dim(w->hidden, w->multiple_of);
    if (model_init(&m, w, 0, w->batch)) {
        timing t = time_runs(train_step, &m, budget_s, fixed_runs);
        r.ok = t.runs > 0;
        r.steps = t.runs, r.median_s = t.median_s, r.min_s = t.min_s;
    } else {
        fprintf(stderr, "bench_ffn: cannot build %s: %s\n", w->name, tg_last_error());
    }
    r.peak_bytes = peak_resident_bytes() - base; /* before the bare products allocate */
    model_free(&m);
    r.min_bytes = minimum_bytes(w, r.hidden);
    if (r.ok) {
        timing b = time_products(w->batch, w->dim, r.hidden);
        r.ok = b.runs > 0;
        r.blis_median_s = b.median_s, r.blis_min_s = b.min_s;
    }
    return r;
}

/* Runs w in a child process (in_child), so that its peak memory is its
 * own; r.ok is 0 when the child failed. */
typedef struct workload_run {
    const workload *w;
    int threads;
} workload_run;

static int workload_child(void *ctx, void *out) {
    const workload_run *run = ctx;
    if (run->threads > 0 && tg_set_num_threads(run->threads) != 0) return -1;
    *(result *)out = run_workload(run->w);
    return 0;
}

static result run_in_child(const workload *w, int threads) {
    result r = {0};
    workload_run run = {w, threads};
    if (in_child(workload_child, &run, &r, sizeof r) != 0) r.ok = 0;
    return r;
}

/* ---- How fast one core can go ------------------------------------------------------------ */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* 16 independent chains of fused multiply-adds, so that every FMA unit is
 * busy every cycle whatever its latency (Zen 5: 2 units, 4 cycles): n
 * rounds of 16 vectors, 2 FLOPs a lane each. The chains converge to a
 * fixed point (a * 0.5 + 0.25), so the numbers stay normal. */
#define FMA_LOOP(name, V, LANES, TARGET, set1, fmadd, add)                           \
    __attribute__((target(TARGET))) static double name(long n) {                     \
        V acc[16], half = set1(0.5f), quarter = set1(0.25f);                         \
        for (int i = 0; i < 16; i++) acc[i] = set1((float)i);                        \
        for (long r = 0; r < n; r++)                                                 \
            for (int i = 0; i < 16; i++) acc[i] = fmadd(acc[i], half, quarter);      \
        V sum = acc[0];                                                              \
        for (int i = 1; i < 16; i++) sum = add(sum, acc[i]);                         \
        float out[LANES];                                                            \
        memcpy(out, &sum, sizeof out);                                               \
        return out[0] == 12345.0f ? -1.0 : 2.0 * LANES * 16 * (double)n; /* FLOPs */ \
    }
FMA_LOOP(fma_avx512, __m512, 16, "avx512f", _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)
FMA_LOOP(fma_avx2, __m256, 8, "avx2,fma", _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps)

/* The FMA loop's best GFLOP/s over five runs of about 0.1 s, and the
 * vectors it used. */
static double fma_peak_gflops(const char **isa) {
    double (*loop)(long) = NULL;
    *isa = "none";
    if (__builtin_cpu_supports("avx512f"))
        loop = fma_avx512, *isa = "AVX-512";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        loop = fma_avx2, *isa = "AVX2";
    double best = 0;
    for (int run = 0; loop && run < 5; run++) {
        double t0 = now_s(), flops = loop(20000000), dt = now_s() - t0;
        if (flops / dt * 1e-9 > best) best = flops / dt * 1e-9;
    }
    return best;
}
#else
static double fma_peak_gflops(const char **isa) {
    *isa = "none";
    return 0;
}
#endif

/* BLIS's sgemm of square n x n matrices on one thread, its best GFLOP/s of
 * three runs after one of warm-up (run in a child: BLIS may start threads). */
static double blis_square_gflops(dim_t n) {
    matrix a = matrix_new(n, n), b = matrix_new(n, n), c = matrix_new(n, n);
    double best = 0;
    for (int run = 0; a.p && b.p && c.p && run < 4; run++) {
        double t0 = now_s();
        sgemm(BLIS_NO_TRANSPOSE, a, BLIS_NO_TRANSPOSE, b, 0, c);
        double gflops = 2.0 * (double)n * (double)n * (double)n / (now_s() - t0) * 1e-9;
        if (run > 0 && gflops > best) best = gflops;
    }
    free(a.p), free(b.p), free(c.p);
    return best;
}

static int blis_square_child(void *ctx, void *out) {
    bli_thread_set_num_threads(1);
    *(double *)out = blis_square_gflops(*(const dim_t *)ctx);
    return 0;
}

static double blis_square_in_child(dim_t n) {
    double gflops = 0;
    return in_child(blis_square_child, &n, &gflops, sizeof gflops) == 0 ? gflops : 0;
}

/* One core's peaks, measured once before the workloads (0: not measured). */
static double fma_gflops, blis_square_gflops_1;
static const char *fma_isa = "none";
#define BLIS_SQUARE_N 1024

/* ---- Output ------------------------------------------------------------------------------- */

static void print_header(bool csv) {
    if (csv) {
        printf(
            "workload,threads,batch,dim,hidden,steps,median_ms,min_ms,gflops,blis_median_ms,"
            "blis_gflops,blis_fraction,peak_mib,min_mib,peak_over_min,fma_peak_gflops,of_fma_peak,"
            "blis_square_gflops,of_blis_square\n");
        return;
    }
    printf("# products by %s; BLIS %s runs its %s configuration\n", tg_matmul_backend(),
           bli_info_get_version_str(), bli_arch_string(bli_arch_query_id()));
    printf("# one core: FMA loop (%s) %.1f GFLOP/s, BLIS sgemm %d^3 %.1f GFLOP/s; \"of peak\" and "
           "\"of "
           "sq\" divide the step's GFLOP/s by these times the threads\n",
           fma_isa, fma_gflops, BLIS_SQUARE_N, blis_square_gflops_1);
    printf("%-7s %3s %5s %5s %6s %6s %10s %9s %8s %10s %9s %9s %9s %8s %6s %8s %7s\n", "work",
           "thr", "B", "dim", "hidden", "steps", "median ms", "min ms", "GFLOP/s", "BLIS ms",
           "BLIS GF/s", "of BLIS", "peak MiB", "min MiB", "ratio", "of peak", "of sq");
}

static void print_row(bool csv, const workload *w, const result *r) {
    double flops = 18.0 * (double)w->batch * (double)w->dim * (double)r->hidden;
    double mib = 1024.0 * 1024.0;
    double gflops = flops / r->median_s * 1e-9;
    const char *fmt =
        csv ? "%s,%d,%lld,%lld,%lld,%ld,%.4f,%.4f,%.2f,%.4f,%.2f,%.3f,%.1f,%.1f,%.2f,%.1f,%.3f,"
              "%.1f,%.3f\n"
            : "%-7s %3d %5lld %5lld %6lld %6ld %10.4f %9.4f %8.2f %10.4f %9.2f %9.3f %9.1f %8.1f "
              "%6.2f %8.3f %7.3f\n";
    if (csv)
        printf(fmt, w->name, r->threads, (long long)w->batch, (long long)w->dim,
               (long long)r->hidden, r->steps, 1e3 * r->median_s, 1e3 * r->min_s, gflops,
               1e3 * r->blis_median_s, flops / r->blis_median_s * 1e-9,
               r->blis_median_s / r->median_s, r->peak_bytes / mib, r->min_bytes / mib,
               r->peak_bytes / r->min_bytes, fma_gflops, gflops / (fma_gflops * r->threads),
               blis_square_gflops_1, gflops / (blis_square_gflops_1 * r->threads));
    else
        printf(fmt, w->name, r->threads, (long long)w->batch, (long long)w->dim,
               (long long)r->hidden, r->steps, 1e3 * r->median_s, 1e3 * r->min_s, gflops,
               1e3 * r->blis_median_s, flops / r->blis_median_s * 1e-9,
               r->blis_median_s / r->median_s, r->peak_bytes / mib, r->min_bytes / mib,
               r->peak_bytes / r->min_bytes, gflops / (fma_gflops * r->threads),
               gflops / (blis_square_gflops_1 * r->threads));
}

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--threads N] [--budget SECONDS | --steps N] [--csv] "
            "[tiny|small|medium|large...]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv) {
    int threads = 0; /* 0: tapegrad's default (TG_NUM_THREADS or 1) */
    bool csv = false, chosen[N_WORKLOADS] = {false}, any = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
            if (threads < 1) return usage(argv[0]);
        } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
            budget_s = atof(argv[++i]);
            if (!(budget_s > 0)) return usage(argv[0]);
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            fixed_runs = atol(argv[++i]);
            if (fixed_runs < 1) return usage(argv[0]);
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = true;
        } else {
            int k = 0;
            while (k < N_WORKLOADS && strcmp(argv[i], workloads[k].name) != 0) k++;
            if (k == N_WORKLOADS) return usage(argv[0]);
            chosen[k] = any = true;
        }
    }
    if (!fixed_runs) { /* under a profiler they would mean nothing */
        fma_gflops = fma_peak_gflops(&fma_isa);
        blis_square_gflops_1 = blis_square_in_child(BLIS_SQUARE_N);
    }
    print_header(csv);
    int failed = 0;
    for (int k = 0; k < N_WORKLOADS; k++) {
        if (any && !chosen[k]) continue;
        result r = run_in_child(&workloads[k], threads);
        if (!r.ok) {
            fprintf(stderr, "bench_ffn: workload %s failed\n", workloads[k].name);
            failed = 1;
            continue;
        }
        print_row(csv, &workloads[k], &r);
        fflush(stdout);
    }
    return failed;
}
