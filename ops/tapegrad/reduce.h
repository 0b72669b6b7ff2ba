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
 * twice is an error. Node SumBackward1. */
TG_API tg_tensor *tg_sum_dims(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);
/* torch.mean(t, dim=dims, keepdim=keepdim): the sum divided by the number
 * of elements summed (NaN over an empty slice, as torch). MeanBackward1. */
TG_API tg_tensor *tg_mean_dims(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim);

/* torch.max(t, dim, keepdim): the largest value along dim, NaN if the slice
 * holds one, the first position on ties. Returns the values; when indices
 * is not NULL, it receives the position along dim of each value, row-major
 * in the result's shape: the caller provides the buffer (it stays the
 * caller's), one entry per result element, tg_numel(t) / tg_size(t, dim)
 * of them (1 for a 0-dim t). A dim of size 0 is an error. The gradient
 * goes to the position of each maximum only. Node MaxBackward0. */
TG_API tg_tensor *tg_max_dim(tg_tensor *t, int dim, tg_keepdim keepdim, int64_t *indices);

/* exp(x) / sum(exp(x)) along dim (torch.softmax), SoftmaxBackward0. */
TG_API tg_tensor *tg_softmax(tg_tensor *t, int dim);
/* x - log(sum(exp(x))) along dim (torch.log_softmax), LogSoftmaxBackward0. */
TG_API tg_tensor *tg_log_softmax(tg_tensor *t, int dim);

#ifdef __cplusplus
}
#endif
#endif
