/* tapegrad/reduce.h - reductions over chosen dims (sum, mean, amax, amin,
 * prod, var, std, logsumexp, vector_norm), max along a dim, and softmax /
 * log_softmax, as torch's functions of those names. (tg_sum and tg_mean
 * over all elements are in tapegrad/ops.h.)
 *
 * Each returns a new tensor (see the ownership rule in tapegrad/tensor.h),
 * or NULL with tg_last_error() set: NULL input (the pending message is
 * kept), a dim out of range or listed twice, named in the message:
 *
 *     "sum_dims: dim 2 out of range for a 2-dim tensor"
 *
 * Dims may be negative (counting from the end); a list of n_dims dims with
 * n_dims == 0 means all of them, as torch's dim=[]. With keepdim the reduced
 * dims stay as size 1, otherwise they are removed. Inputs may be strided
 * views (a transposed tensor is read in place). Sums accumulate in double,
 * and the reductions from amax on compute in double and round once;
 * softmax, log_softmax and logsumexp subtract the largest element of each
 * slice first, so logits of +-1000 give finite results.
 */
#ifndef TAPEGRAD_REDUCE_H
#define TAPEGRAD_REDUCE_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* torch.sum(t, dim=dims, keepdim=keepdim): sums over the n_dims dims listed
 * (n_dims == 0 sums over all of them, as torch's dim=[]). With keepdim the
 * summed dims stay as size 1, otherwise they are removed. A dim listed
 * twice is an error. int64 and bool tensors sum to int64, exactly
 * (wrapping around past its ends, as PyTorch's). Node SumBackward1. */
TG_API tg_tensor *tg_sum_dims(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);
/* torch.mean(t, dim=dims, keepdim=keepdim): the sum divided by the number
 * of elements summed (NaN over an empty slice, as torch). MeanBackward1. */
TG_API tg_tensor *tg_mean_dims(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);

/* torch.max(t, dim, keepdim): the largest value along dim, NaN if the slice
 * holds one, the first position on ties. Returns the values; when indices
 * is not NULL it receives a new int64 tensor of the positions along dim,
 * shaped as the values (ownership rule of tapegrad/tensor.h; NULL on
 * failure). A dim of size 0 is an error. Any dtype. The gradient goes to the position of each
 * maximum only. Node MaxBackward0. */
TG_API tg_tensor *tg_max_dim(tg_tensor *t, int dim, tg_keepdim keepdim, tg_tensor **indices);
/* torch.min(t, dim, keepdim), the same with the smallest. MinBackward0. */
TG_API tg_tensor *tg_min_dim(tg_tensor *t, int dim, tg_keepdim keepdim, tg_tensor **indices);
/* torch.argmax / torch.argmin(t, dim, keepdim): the positions alone, as a
 * new int64 tensor (no gradient). Any dtype but bool, which PyTorch
 * refuses too (max_dim and min_dim take it). Accuracy over a batch is then
 *   tg_mean(tg_to_dtype(tg_eq(tg_argmax(logits, 1, TG_DROP_DIMS), labels), TG_F32))
 * as PyTorch's (logits.argmax(1) == labels).float().mean(). */
TG_API tg_tensor *tg_argmax(tg_tensor *t, int dim, tg_keepdim keepdim);
TG_API tg_tensor *tg_argmin(tg_tensor *t, int dim, tg_keepdim keepdim);

/* torch.amax(t, dim=dims, keepdim=keepdim): the largest element of each
 * slice, NaN if it holds one. Any dtype. A reduced dim of size 0 is an
 * error (no identity). The gradient is split evenly among the elements
 * equal to the maximum, as torch's (NaN over a slice holding a NaN).
 * Node AmaxBackward0. */
TG_API tg_tensor *tg_amax(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);
/* torch.amin, the same with the smallest. AminBackward0. */
TG_API tg_tensor *tg_amin(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);

/* torch.prod(t): the product of all elements, 0-dim (1 for none).
 * ProdBackward0. torch.prod(t, dim, keepdim): along one dim, ProdBackward1.
 * The gradient of an element is the product of the others, computed as
 * such (prefix times suffix): with one zero in the slice the zero gets the
 * product of the rest and the others 0, with two or more all get 0, as
 * torch's; at an infinity it is the product of the others where torch's
 * prod / x_i gives NaN. Floating-point tensors only (torch also
 * multiplies integers). */
TG_API tg_tensor *tg_prod(tg_tensor *t);
TG_API tg_tensor *tg_prod_dim(tg_tensor *t, int dim, tg_keepdim keepdim);

/* torch.var(t, dim=dims, correction=correction, keepdim=keepdim): the sum
 * of squared deviations from the mean of each slice of n elements, over n -
 * correction (torch 1.13's correction=; unbiased=True is 1, the default,
 * unbiased=False 0; negative corrections are taken). With no degrees of
 * freedom left (n = correction) the result is inf or NaN, as torch's, and
 * NaN over an empty slice; a correction above n is refused (torch divides
 * by max(0, n - correction) there). Two passes in double. VarBackward0. */
#define TG_VAR_DEFAULT_CORRECTION 1
TG_API tg_tensor *tg_var(tg_tensor *t, int n_dims, const int *dims, int64_t correction,
                         tg_keepdim keepdim);
/* torch.std: the square root of tg_var; its gradient is 0 where std is 0,
 * as torch's. StdBackward0. */
TG_API tg_tensor *tg_std(tg_tensor *t, int n_dims, const int *dims, int64_t correction,
                         tg_keepdim keepdim);

/* torch.logsumexp(t, dim=dims, keepdim=keepdim): log(sum(exp(x))) over each
 * slice, stable (the largest element is taken out first: -inf for an empty
 * slice, inf where an element is inf). Its gradient is the softmax of the
 * slice. n_dims == 0 reduces over all dims (torch 1.13 fails on dim=()).
 * LogsumexpBackward0. */
TG_API tg_tensor *tg_logsumexp(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);

/* torch.linalg.vector_norm(t, ord, dim=dims, keepdim=keepdim): (sum |x|^ord)
 * ^(1 / ord) over each slice, the largest |x| for ord = inf, the smallest
 * for -inf (whose empty slices are errors, as torch's). ord < 1 is refused
 * (torch also computes those, which are not norms). Computed as m (sum
 * (|x| / m)^ord)^(1 / ord), m the largest |x|, so that it overflows or
 * underflows only where the norm does (torch's sum of |x|^ord overflows for
 * float64 above about 1e154 with ord 2). The gradient is sign(x) (|x| /
 * norm)^(ord - 1), split evenly among the extremes for +-inf, and 0 where
 * the norm is 0, as torch's. Node LinalgVectorNormBackward0. */
#define TG_VECTOR_NORM_DEFAULT_ORD 2.0
TG_API tg_tensor *tg_vector_norm(tg_tensor *t, double ord, int n_dims, const int *dims,
                                 tg_keepdim keepdim);

/* exp(x) / sum(exp(x)) along dim (torch.softmax), SoftmaxBackward0. */
TG_API tg_tensor *tg_softmax(tg_tensor *t, int dim);
/* x - log(sum(exp(x))) along dim (torch.log_softmax), LogSoftmaxBackward0. */
TG_API tg_tensor *tg_log_softmax(tg_tensor *t, int dim);

#ifdef __cplusplus
}
#endif
#endif
