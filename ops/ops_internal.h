/* ops/ops_internal.h - helpers the op files share. */
#ifndef TAPEGRAD_OPS_INTERNAL_H
#define TAPEGRAD_OPS_INTERNAL_H

#include "internal/kernel.h"
#include "internal/tape.h"
#include "tapegrad/ops.h"
#include "tapegrad/shape.h"

/* A read-only view of t stretched to (ndim, shape) with zero strides. */
tg_tensor *tg__expand_view(tg_tensor *t, int ndim, const int64_t *shape);

/* ---- Matrix products ----------------------------------------------------------
 * C (m x n) = A (m x k) B (k x n), or C += that when add; each matrix
 * addressed by a row and a column stride in elements (a transposed operand
 * is one with its strides swapped), on `threads` threads. */

/* tapegrad's own product (ops/gemm.c): any strides, signs or overlaps of A
 * and B; C's elements distinct. False, having done nothing, when memory for
 * the packed blocks ran out (no error recorded: the caller decides). */
bool tg__gemm(tg_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a, int64_t ars,
              int64_t acs, const void *b, int64_t brs, int64_t bcs, void *c, int64_t crs,
              int64_t ccs, bool add, int threads);
/* Whether ops/gemm.c has a vector micro-kernel for this CPU (AVX-512, or
 * AVX2 and FMA, or WebAssembly SIMD128), and TG_GEMM does not ask for the
 * portable one. */
bool tg__gemm_vectorised(void);
/* The size in multiply-adds (m n k) below which ops/gemm.c's chosen
 * micro-kernel for dtype is faster than a BLIS with fast kernels for this
 * CPU (0 for the portable kernel, INT64_MAX at every size); measured, see
 * ops/gemm.c. */
int64_t tg__gemm_beats_blis_below(tg_dtype dtype);

/* TG_GEMM, read once: which product the user asked for. */
typedef enum tg__gemm_choice {
    TG_GEMM_DEFAULT,  /* unset, or a value not below */
    TG_GEMM_BLIS,     /* "blis" */
    TG_GEMM_TAPEGRAD, /* "tapegrad": ops/gemm.c, its best micro-kernel */
    TG_GEMM_AVX2,     /* "avx2": ops/gemm.c, its AVX2 micro-kernel where the CPU has AVX2 */
    TG_GEMM_PORTABLE, /* "portable": ops/gemm.c, its portable C micro-kernel */
} tg__gemm_choice;
tg__gemm_choice tg__gemm_asked(void);

/* The product's backend, defined by ops/blas_blis.c (-Dblas=blis: BLIS,
 * or ops/gemm.c where BLIS is slow) or by ops/blas_none.c (-Dblas=none:
 * ops/gemm.c always); tg_matmul_backend (tapegrad/linalg.h) and
 * tg__blas_set_num_threads (core/internal/kernel.h) come with it. Matrices
 * with a dim of size 1 have strides BLIS accepts (see matmul.c). False,
 * with the error recorded, when memory ran out. */
bool tg__matmul_gemm(tg_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a, int64_t ars,
                     int64_t acs, const void *b, int64_t brs, int64_t bcs, void *c, int64_t crs,
                     int64_t ccs, bool add, int threads);

#endif
