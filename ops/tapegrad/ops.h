/* tapegrad/ops.h - differentiable operations, a flat API in the style of ggml.
 *
 * Every op returns a new tensor (see the ownership rule in tapegrad/tensor.h)
 * or NULL with tg_last_error() set, and returns NULL at once when given NULL.
 * Inputs must share one dtype (no implicit promotion: use tg_to_dtype).
 * Binary ops broadcast with NumPy's rules; their backward sums the gradient
 * back over the broadcast dimensions.
 *
 * In-place ops end in an underscore, change their first argument, return 0 or
 * -1, and bump its version counter so that backward can detect a tensor that
 * was changed after an op saved it. While grad mode is on they refuse a
 * tensor that takes part in autograd (as PyTorch refuses a leaf); run them
 * with grad mode off, as an optimizer update does.
 */
#ifndef TAPEGRAD_OPS_H
#define TAPEGRAD_OPS_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Elementwise, tensor with tensor (broadcasting) ---------------------- */
TG_API tg_tensor *tg_add(tg_tensor *a, tg_tensor *b); /* AddBackward0 */
TG_API tg_tensor *tg_sub(tg_tensor *a, tg_tensor *b); /* SubBackward0 */
TG_API tg_tensor *tg_mul(tg_tensor *a, tg_tensor *b); /* MulBackward0 */
TG_API tg_tensor *tg_div(tg_tensor *a, tg_tensor *b); /* DivBackward0 */
TG_API tg_tensor *tg_neg(tg_tensor *a);               /* NegBackward0 */
/* base ** exponent, as torch.pow(base, exponent) with two tensors. The
 * gradients are PyTorch's: base's b a^(b-1), 0 where b = 0; exponent's
 * a^b log(a), 0 where a = 0 and b >= 0, so NaN where a < 0 and -inf where
 * a = 0 and b < 0. */
TG_API tg_tensor *tg_pow(tg_tensor *base, tg_tensor *exponent); /* PowBackward1 */
/* x log(y), broadcasting, 0 where x = 0 (even for y = 0 or inf; NaN where y
 * is NaN), as torch.xlogy. Gradients log(y) (0 where x = 0 and y <= 0) and
 * x / y. XlogyBackward0. */
TG_API tg_tensor *tg_xlogy(tg_tensor *x, tg_tensor *y);

/* ---- Elementwise, tensor with scalar -------------------------------------- */
TG_API tg_tensor *tg_add_scalar(tg_tensor *a, double s);  /* a + s */
TG_API tg_tensor *tg_sub_scalar(tg_tensor *a, double s);  /* a - s */
TG_API tg_tensor *tg_rsub_scalar(tg_tensor *a, double s); /* s - a */
TG_API tg_tensor *tg_mul_scalar(tg_tensor *a, double s);  /* a * s */
TG_API tg_tensor *tg_div_scalar(tg_tensor *a, double s);  /* a / s */

/* ---- Elementwise math (ops/unary.c) --------------------------------------- */
TG_API tg_tensor *tg_pow_scalar(tg_tensor *x, double exponent); /* x ** exponent */
TG_API tg_tensor *tg_exp(tg_tensor *x);
TG_API tg_tensor *tg_log(tg_tensor *x);
TG_API tg_tensor *tg_sqrt(tg_tensor *x);
TG_API tg_tensor *tg_abs(tg_tensor *x); /* gradient sign(x), 0 at 0 */
/* Limits x to [min, max]; a NAN bound means none (clamp_min, clamp_max).
 * The gradient passes where min <= x <= max. */
TG_API tg_tensor *tg_clamp(tg_tensor *x, double min, double max);
/* x.clamp_min(min), x.clamp_max(max): one bound, the gradient passing where
 * x >= min (x <= max). As in PyTorch, a NAN bound gives NaN everywhere (it
 * is not "none" here, as it is for tg_clamp). */
TG_API tg_tensor *tg_clamp_min(tg_tensor *x, double min); /* ClampMinBackward0 */
TG_API tg_tensor *tg_clamp_max(tg_tensor *x, double max); /* ClampMaxBackward0 */
TG_API tg_tensor *tg_rsqrt(tg_tensor *x);                 /* 1 / sqrt(x); RsqrtBackward0 */
TG_API tg_tensor *tg_reciprocal(tg_tensor *x);            /* 1 / x; ReciprocalBackward0 */
/* x * x; PowBackward0, as torch.square (pow(x, 2)) records. */
TG_API tg_tensor *tg_square(tg_tensor *x);
/* -1, 0 or 1 (0 at +-0 and NaN, as torch.sign); the gradient is 0. SignBackward0. */
TG_API tg_tensor *tg_sign(tg_tensor *x);
TG_API tg_tensor *tg_sin(tg_tensor *x);   /* SinBackward0 */
TG_API tg_tensor *tg_cos(tg_tensor *x);   /* CosBackward0 */
TG_API tg_tensor *tg_log1p(tg_tensor *x); /* log(1 + x), accurate near 0; Log1PBackward0 */
TG_API tg_tensor *tg_expm1(tg_tensor *x); /* e^x - 1, accurate near 0; Expm1Backward0 */

/* ---- Selection (broadcasting) ----------------------------------------------- */
/* Elementwise max/min; where a == b the gradient is split half and half,
 * as PyTorch does. */
TG_API tg_tensor *tg_maximum(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_minimum(tg_tensor *a, tg_tensor *b);
/* cond ? a : b elementwise, broadcasting the three; cond is a bool tensor
 * (a comparison gives one), a and b of one dtype, any. No gradient flows to
 * cond. WhereBackward0. */
TG_API tg_tensor *tg_where(tg_tensor *cond, tg_tensor *a, tg_tensor *b);

/* ---- Comparisons (ops/compare.c) -------------------------------------------
 * a == b, a != b, a < b, a <= b, a > b, a >= b elementwise, broadcasting,
 * as torch.eq ... torch.ge: a bool tensor, no gradient. Both tensors of one
 * dtype, any; the _scalar forms compare with a number as PyTorch with a
 * Python number: in a floating-point tensor's dtype; for an int64 or bool
 * tensor, in int64 when the number is integral (a Python int), otherwise
 * in float32 (a Python float meets integers in PyTorch's default dtype:
 * 16777217 == 16777216.5 holds there). NaN is unequal to everything. */
TG_API tg_tensor *tg_eq(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_ne(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_lt(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_le(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_gt(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_ge(tg_tensor *a, tg_tensor *b);
TG_API tg_tensor *tg_eq_scalar(tg_tensor *a, double s);
TG_API tg_tensor *tg_ne_scalar(tg_tensor *a, double s);
TG_API tg_tensor *tg_lt_scalar(tg_tensor *a, double s);
TG_API tg_tensor *tg_le_scalar(tg_tensor *a, double s);
TG_API tg_tensor *tg_gt_scalar(tg_tensor *a, double s);
TG_API tg_tensor *tg_ge_scalar(tg_tensor *a, double s);

/* ---- Indexing (ops/index.c) -------------------------------------------------
 * Indices are int64 tensors, contiguous or not, whose entries are checked
 * before anything is written: an error names the first out of range and
 * the size it must be below ("gather: index 4 is out of bounds for
 * dimension 1 with size 4"). Another dtype is an error naming it. */
/* torch.index_select(t, dim, index): the slices of t along dim at the
 * positions of index (0 or 1 dims), in order (repeats allowed); any dtype.
 * IndexSelectBackward0: each slice's gradient adds into the slice it was
 * taken from. */
TG_API tg_tensor *tg_index_select(tg_tensor *t, int dim, tg_tensor *index);
/* torch.gather(t, dim, index): out[i][j] = t[index[i][j]][j] for dim 0 (and
 * so on for the others), of index's shape; index has t's number of dims and
 * is no larger than t along the other dims (an empty index is not checked).
 * Any dtype. GatherBackward0: the gradient adds into the places read
 * (scatter_add into zeros), repeats summing. */
TG_API tg_tensor *tg_gather(tg_tensor *t, int dim, tg_tensor *index);
/* torch.scatter_add(t, dim, index, src): a copy of t with src[i][j] added
 * at [index[i][j]][j] for dim 0, over index's positions; t, index and src
 * have one number of dims, index no larger than src, nor than t outside
 * dim. t and src of one dtype, any. ScatterAddBackward0: t's gradient is g,
 * src's gather(g, dim, index), zero where src is larger than index (there
 * PyTorch's backward fails). */
TG_API tg_tensor *tg_scatter_add(tg_tensor *t, int dim, tg_tensor *index, tg_tensor *src);
/* The same in place (Tensor.scatter_add_): src and index are read as they
 * were before the write, even when they share self's memory. */
TG_API int tg_scatter_add_(tg_tensor *self, int dim, tg_tensor *index, tg_tensor *src);
/* F.one_hot(labels, num_classes): an int64 tensor of shape (*labels,
 * num_classes), 1 at each label's class and 0 elsewhere; labels are int64,
 * non-negative and below num_classes, which -1 (PyTorch's default) sets to
 * the largest label + 1. No gradient. */
#define TG_ONE_HOT_DEFAULT_NUM_CLASSES (-1)
TG_API tg_tensor *tg_one_hot(tg_tensor *labels, int64_t num_classes);
/* torch.embedding(weight, indices, padding_idx), as F.embedding(indices,
 * weight, padding_idx): the rows of weight (num_embeddings, dim) at the
 * int64 indices (any shape), of shape (*indices, dim). The row padding_idx
 * (negative counts from the end, as in PyTorch) gets no gradient;
 * TG_EMBEDDING_NO_PADDING, PyTorch's default (None), names no row.
 * EmbeddingBackward0: each looked-up row's gradient adds into its row. */
#ifndef TG_EMBEDDING_NO_PADDING /* also in tapegrad/nn.h */
#define TG_EMBEDDING_NO_PADDING INT64_MIN
#endif
#define TG_EMBEDDING_DEFAULT_PADDING_IDX TG_EMBEDDING_NO_PADDING
TG_API tg_tensor *tg_embedding(tg_tensor *weight, tg_tensor *indices, int64_t padding_idx);

/* ---- Reductions over all elements (0-dim results) ------------------------- */
TG_API tg_tensor *tg_sum(tg_tensor *a);  /* SumBackward0 */
TG_API tg_tensor *tg_mean(tg_tensor *a); /* MeanBackward0 */

/* ---- In place ------------------------------------------------------------ */
/* self += alpha * other (other broadcast to self's shape), as
 * self.add_(other, alpha=alpha). */
TG_API int tg_add_(tg_tensor *self, tg_tensor *other, double alpha);
TG_API int tg_mul_(tg_tensor *self, tg_tensor *other);
TG_API int tg_mul_scalar_(tg_tensor *self, double s);
/* self /= other, self /= s (div_), rounded as tg_div: x / 255 in place is
 * the same number as tg_div_scalar(x, 255). */
TG_API int tg_div_(tg_tensor *self, tg_tensor *other);
TG_API int tg_div_scalar_(tg_tensor *self, double s);
TG_API int tg_fill_(tg_tensor *self, double value);
TG_API int tg_zero_(tg_tensor *self);
/* Copies src into self, broadcasting src and converting its dtype. */
TG_API int tg_copy_(tg_tensor *self, tg_tensor *src);

#ifdef __cplusplus
}
#endif
#endif
