/* tapegrad/norm.h - normalization layers: layer_norm, as
 * torch.nn.functional.layer_norm, and rms_norm, as LLaMA's RMSNorm.
 *
 * The usual rules of tapegrad/ops.h hold: each function returns a new
 * tensor of x's shape and dtype (float32 or float64, any strides), or NULL
 * with tg_last_error() set, and returns NULL at once when given NULL (for
 * x; weight and bias may be NULL: none). x, weight and bias share one
 * dtype.
 *
 * Both work row by row, a row being the block of normalized elements (the
 * last dims of x): its statistics are computed in double (the mean first,
 * then the deviations from it, so nothing cancels in a row far from zero,
 * 1e4 + N(0, 1) say), and each element is normalized in double and rounded
 * once to x's dtype. The backward works row by row too, with the statistics
 * the forward kept. In float32 this is more accurate than PyTorch, whose
 * float32 kernel accumulates in float: a row such as (1e30, -1e30, 3, 4)
 * overflows PyTorch's float variance (it returns the bias alone) and not
 * tapegrad's, and a row 1e4 + N(0, 1) comes out 3e-3 off there. In float64
 * values and gradients are within 1e-12 of PyTorch's (3e-13 at most in the
 * tests), and closer to the exact ones in rows far from zero, where
 * PyTorch's float64 layer_norm loses up to 5e-12. A float64 row beyond
 * 1e154, whose squares overflow, is scaled first and normalizes as any
 * other (PyTorch's layer_norm gives NaN there, LLaMA's RMSNorm 0); in
 * layer_norm a row where x - mean itself overflows (values near DBL_MAX of
 * both signs) gives NaN, as PyTorch's.
 *
 * eps must be positive and finite. PyTorch accepts any eps, 0, negative
 * or NaN, and returns NaN or infinities where var + eps is not positive;
 * tapegrad refuses them ("layer_norm: eps must be positive and finite, got
 * 0"): with eps = 0 a constant row (a padding position, a dead feature)
 * divides 0 by 0, and its NaN spreads through the weight's gradient to
 * every parameter. An infinite eps is refused too (it would make every
 * output the bias).
 */
#ifndef TAPEGRAD_NORM_H
#define TAPEGRAD_NORM_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* torch.nn.functional.layer_norm(x, normalized_shape, weight, bias, eps):
 *     y = (x - mean) / sqrt(var + eps) * weight + bias
 * with mean and var (biased: divided by n) over the last normalized_ndim
 * dims of x, which must be normalized_shape (spell it TG_SHAPE(4) or
 * TG_SHAPE(3, 4)); weight and bias have that shape, or are NULL (no
 * scale, no shift). Gradients flow to x, weight and bias, as PyTorch
 * computes them. Errors as PyTorch words them:
 *   "layer_norm: Given normalized_shape=[4], expected input with shape
 *    [*, 4], but got input of size[2, 3]",
 *   "layer_norm: Expected weight to be of same shape as normalized_shape,
 *    but got weight of shape [3] and normalized_shape = [4]" (bias alike),
 *   "layer_norm: Expected normalized_shape to be at least 1-dimensional,
 *    ..." for normalized_ndim 0. */
#define TG_LAYER_NORM_DEFAULT_EPS 1e-5
TG_API tg_tensor *tg_layer_norm(tg_tensor *x, int normalized_ndim, const int64_t *normalized_shape,
                                tg_tensor *weight, tg_tensor *bias,
                                double eps); /* NativeLayerNormBackward0 */

/* RMSNorm as LLaMA's module computes it, over the last dim of x:
 *     y = x * rsqrt(mean(x^2, dim=-1, keepdim=True) + eps) * weight
 * weight has shape (x's last dim,), or is NULL (no scale). Gradients flow
 * to x and weight. Rounding: LLaMA's module converts x to float32, computes
 * x * rsqrt(...) in float32, rounds that back to x's dtype and then
 * multiplies by weight; tapegrad computes the whole formula in double and
 * rounds once, in both dtypes (so float64 inputs keep float64 precision,
 * and float32 results are within an ulp or two of LLaMA's). Errors are
 * layer_norm's, for normalized_shape = [x's last dim]; a 0-dim x is
 * refused.
 * PyTorch 1.13 has no such op: autograd there records the ops LLaMA's
 * module is made of (MulBackward0, RsqrtBackward0, MeanBackward1, ...).
 * tapegrad records one node, named RmsNormBackward0. */
#define TG_RMS_NORM_DEFAULT_EPS 1e-6                                        /* LLaMA's */
TG_API tg_tensor *tg_rms_norm(tg_tensor *x, tg_tensor *weight, double eps); /* RmsNormBackward0 */

#ifdef __cplusplus
}
#endif
#endif
