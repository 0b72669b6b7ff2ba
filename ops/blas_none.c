/* ops/blas_none.c - the products' backend of the build without BLIS
 * (-Dblas=none): ops/gemm.c runs every product, with the best micro-kernel
 * it has for this CPU (its portable C one where it has no other). TG_GEMM=blis
 * is ignored here: tg_matmul_backend() says "tapegrad" whatever it asks. */
#include "ops_internal.h"
#include "tapegrad/linalg.h"

const char *tg_matmul_backend(void) { return "tapegrad"; }

void tg__blas_set_num_threads(int n) { (void)n; /* no BLIS to tell */ }

bool tg__matmul_gemm(tg_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a, int64_t ars,
                     int64_t acs, const void *b, int64_t brs, int64_t bcs, void *c, int64_t crs,
                     int64_t ccs, bool add, int threads) {
    if (tg__gemm(dtype, m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, add, threads)) return true;
    tg__error(TG_ERR_NOMEM,
              "matmul: out of memory for the packed blocks of a %lld x %lld x %lld "
              "product",
              (long long)m, (long long)n, (long long)k);
    return false;
}
