/* ops/blas_blis.c - the products' backend of the build with BLIS
 * (-Dblas=blis, the default). Which code runs a product, by default:
 * - where BLIS would run its portable C reference kernel (a CPU newer than
 *   it knows) and ops/gemm.c has a vector micro-kernel, ops/gemm.c runs
 *   them all;
 * - elsewhere, ops/gemm.c runs the products measured to be faster there
 *   (below tg__gemm_beats_blis_below(dtype): the small ones, not worth
 *   BLIS's fixed cost per call, or with AVX-512 every float32 one) and
 *   BLIS the rest.
 * The choice depends on the CPU and the shape only, so a product gives the
 * same bits on every run. TG_GEMM=blis or TG_GEMM=tapegrad (avx2,
 * portable) sends every product to one side; the tests run each. */
#include <blis.h>
#include <pthread.h>

#include "ops_internal.h"
#include "tapegrad/linalg.h"

/* ops/gemm.c runs the products of fewer multiply-adds than this (0: none,
 * INT64_MAX: all), for float32 and float64. */
static int64_t own_below[2];
static pthread_once_t gemm_once = PTHREAD_ONCE_INIT;

static int64_t own_below_for(tg_dtype dtype) {
    switch (tg__gemm_asked()) {
    case TG_GEMM_BLIS: return 0;
    case TG_GEMM_TAPEGRAD:
    case TG_GEMM_AVX2:
    case TG_GEMM_PORTABLE: return INT64_MAX;
    case TG_GEMM_DEFAULT: break;
    }
    if (bli_arch_query_id() == BLIS_ARCH_GENERIC && tg__gemm_vectorised()) return INT64_MAX;
    return tg__gemm_beats_blis_below(dtype);
}

static void choose_gemm(void) {
    own_below[0] = own_below_for(TG_F32);
    own_below[1] = own_below_for(TG_F64);
}

const char *tg_matmul_backend(void) {
    pthread_once(&gemm_once, choose_gemm);
    if (own_below[0] == INT64_MAX && own_below[1] == INT64_MAX) return "tapegrad";
    return own_below[0] > 0 || own_below[1] > 0 ? "tapegrad+blis" : "blis";
}

void tg__blas_set_num_threads(int n) { bli_thread_set_num_threads(n); }

bool tg__matmul_gemm(tg_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a, int64_t ars,
                     int64_t acs, const void *b, int64_t brs, int64_t bcs, void *c, int64_t crs,
                     int64_t ccs, bool add, int threads) {
    pthread_once(&gemm_once, choose_gemm);
    /* (in double: m n k of two huge operands may pass INT64_MAX) */
    int64_t below = own_below[dtype == TG_F64];
    bool own = below == INT64_MAX || (double)m * (double)n * (double)k < (double)below;
    /* When ops/gemm.c finds no memory for its packed blocks, BLIS, which
     * keeps a pool of its own, runs the product. */
    if (own && tg__gemm(dtype, m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, add, threads))
        return true;
    rntm_t one_thread = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &one_thread);
    rntm_t *rntm = threads == 1 ? &one_thread : NULL; /* NULL: BLIS's count */
#define GEMM(type, fn)                                                                          \
    do {                                                                                        \
        type one = 1, beta = add;                                                               \
        fn(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, (type *)a, ars, acs, (type *)b, \
           brs, bcs, &beta, (type *)c, crs, ccs, NULL, rntm);                                   \
    } while (0)
    if (dtype == TG_F32)
        GEMM(float, bli_sgemm_ex);
    else
        GEMM(double, bli_dgemm_ex);
#undef GEMM
    return true;
}
