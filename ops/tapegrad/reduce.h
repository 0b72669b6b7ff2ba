/* tapegrad/reduce.h - reductions over chosen dims, max along a dim, and
 * softmax / log_softmax, as torch.sum/mean/max(dim=...) and torch.softmax.
 * (tg_sum and tg_mean over all elements are in tapegrad/ops.h.)
 *
 * Each returns a new tensor (see the ownership rule in tapegrad/tensor.h),
 * or NULL with tg_last_error() set: NULL input (the pending message is
 * kept), or a dim out of range, named in the message:
 *
 *     "sum_dims: dim 2 out of range for a 2-dim tensor"
 *
 * Dims may be negative (counting from the end). Inputs may be strided views
 * (a transposed tensor is read in place). Sums accumulate in double; softmax
 * and log_softmax subtract the largest element of each slice first, so
 * logits of +-1000 give finite results.
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

/* exp(x) / sum(exp(x)) along dim (torch.softmax), SoftmaxBackward0. */
TG_API tg_tensor *tg_softmax(tg_tensor *t, int dim);
/* x - log(sum(exp(x))) along dim (torch.log_softmax), LogSoftmaxBackward0. */
TG_API tg_tensor *tg_log_softmax(tg_tensor *t, int dim);

#ifdef __cplusplus
}
#endif
#endif
