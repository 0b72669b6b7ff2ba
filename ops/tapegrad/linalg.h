/* tapegrad/linalg.h - matrix products: matmul and linear, on BLIS gemm
 * or tapegrad's own (see tg_matmul_backend).
 *
 * Both follow PyTorch's semantics and return a new tensor (see the ownership
 * rule in tapegrad/tensor.h), or NULL with tg_last_error() set: NULL input
 * (the pending message is kept), mixed dtypes, 0-dim inputs, or shapes that
 * do not fit, named in the message:
 *
 *     "matmul: shapes (4, 128) and (176, 128) cannot be multiplied"
 *
 * Operands may be strided views: a transposed tensor is read in place, in
 * the forward and in the backward, never copied. (Only an expanded
 * operand, whose rows or columns overlap in memory, is copied first.)
 */
#ifndef TAPEGRAD_LINALG_H
#define TAPEGRAD_LINALG_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The matrix product of torch.matmul, with the node names of PyTorch 1.13:
 *   (k,) x (k,)       -> ()       dot product           DotBackward0
 *   (n, k) x (k,)     -> (n,)     matrix times vector   MvBackward0
 *   (k,) x (k, m)     -> (m,)     vector times matrix   SqueezeBackward3
 *   (n, k) x (k, m)   -> (n, m)                         MmBackward0
 *   more dims: a stack of matrix products. The dims before the last two
 *   (the batch) broadcast; a 1-D operand is one row (on the left) or one
 *   column (on the right) and its dim is dropped from the result:
 *   (2, 1, 3, 4) x (5, 4, 2) -> (2, 5, 3, 2), (2, 3, 4) x (4,) -> (2, 3).
 *   UnsafeViewBackward0, except for 2-D x batched, where PyTorch's path
 *   gives CloneBackward0 or TransposeBackward0 (see matmul_def in
 *   ops/matmul.c); the gradients are the same whatever the name.
 * The backward is dA = dC B^T and dB = A^T dC, summed over the batch dims
 * along which an operand was broadcast. */
TG_API tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b);

/* torch.nn.functional.linear: x W^T + bias, with PyTorch's layout of the
 * weight, (out_features, in_features), which is read in place as W^T.
 * x is (..., in_features) with any number of leading dims (also none: a
 * 1-D x gives a 1-D result); bias is (out_features,), or NULL for none.
 * The result is (..., out_features). Node as PyTorch 1.13 names it:
 * AddmmBackward0 for a 2-D x with a bias, MmBackward0 without; see
 * linear_def in ops/matmul.c for the others. */
TG_API tg_tensor *tg_linear(tg_tensor *x, tg_tensor *weight, tg_tensor *bias);

/* Which code computes the products: "blis", or "tapegrad" for tapegrad's
 * own blocked product (ops/gemm.c), or "tapegrad+blis": both, by size.
 * The default build runs every product through tapegrad's where BLIS runs
 * its portable C reference kernel (BLIS 0.9.0 does so on CPUs newer than
 * it knows, such as AMD's Zen 5) and this CPU has AVX2 and FMA, for which
 * tapegrad's product has micro-kernels several times faster there.
 * Elsewhere with AVX2 or AVX-512 it is "tapegrad+blis": products of fewer
 * multiply-adds than measured to be faster in tapegrad's (2^18 with AVX2;
 * with AVX-512, every float32 product and float64 ones below 2^22) run
 * there, the rest in BLIS; without either, "blis".
 * The environment variable TG_GEMM, read once at the first product,
 * chooses instead: "blis", "tapegrad", "avx2" (tapegrad's product with its
 * AVX2 micro-kernel even on a CPU with AVX-512) or "portable" (with its
 * portable micro-kernel, the one CPUs other than x86 run); the last two
 * are for tests and comparisons. A build without BLIS (-Dblas=none) says
 * "tapegrad" always: it ignores TG_GEMM=blis. A static string. */
TG_API const char *tg_matmul_backend(void);

#ifdef __cplusplus
}
#endif
#endif
