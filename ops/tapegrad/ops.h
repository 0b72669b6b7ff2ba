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
 * index is a contiguous int64 tensor of 0 or 1 dims whose entries are in
 * range (0 <= i < size of the dim; an error names the first that is not). */
/* torch.index_select(t, dim, index): the slices of t along dim at the given
 * positions, in order (repeats allowed); any dtype. IndexSelectBackward0:
 * each slice's gradient adds into the slice it was taken from. */
TG_API tg_tensor *tg_index_select(tg_tensor *t, int dim, tg_tensor *index);

/* ---- Reductions over all elements (0-dim results) ------------------------- */
TG_API tg_tensor *tg_sum(tg_tensor *a);  /* SumBackward0 */
TG_API tg_tensor *tg_mean(tg_tensor *a); /* MeanBackward0 */

/* ---- In place ------------------------------------------------------------ */
/* self += alpha * other (other broadcast to self's shape), as
 * self.add_(other, alpha=alpha). */
TG_API int tg_add_(tg_tensor *self, tg_tensor *other, double alpha);
TG_API int tg_mul_(tg_tensor *self, tg_tensor *other);
TG_API int tg_mul_scalar_(tg_tensor *self, double s);
TG_API int tg_fill_(tg_tensor *self, double value);
TG_API int tg_zero_(tg_tensor *self);
/* Copies src into self, broadcasting src and converting its dtype. */
TG_API int tg_copy_(tg_tensor *self, tg_tensor *src);

#ifdef __cplusplus
}
#endif
#endif
