/* ops/ops_internal.h - helpers the op files share. */
#ifndef TAPEGRAD_OPS_INTERNAL_H
#define TAPEGRAD_OPS_INTERNAL_H

#include "internal/kernel.h"
#include "internal/tape.h"
#include "tapegrad/ops.h"
#include "tapegrad/shape.h"

/* A read-only view of t stretched to (ndim, shape) with zero strides. */
tg_tensor *tg__expand_view(tg_tensor *t, int ndim, const int64_t *shape);

/* ops/gemm.c. C (m x n) = A (m x k) B (k x n), or C += that when add; each
 * matrix addressed by a row and a column stride in elements (any signs or
 * overlaps of A and B; C's elements distinct), on `threads` threads.
 * False, having done nothing, when this CPU lacks AVX2 and FMA or memory
 * for the packed blocks ran out: the caller then asks BLIS. */
bool tg__gemm(tg_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a, int64_t ars,
              int64_t acs, const void *b, int64_t brs, int64_t bcs, void *c, int64_t crs,
              int64_t ccs, bool add, int threads);
/* Whether this CPU runs tg__gemm (AVX2 and FMA at least). */
bool tg__gemm_supported(void);

#endif
