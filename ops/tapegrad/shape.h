/* tapegrad/shape.h - copies and views (clone, contiguous, view, reshape,
 * transpose, detach, dtype conversion) and shape ops: permute, slice,
 * split, chunk, cat, unsqueeze, squeeze, expand.
 *
 * Every op here but tg_cat returns a view, as PyTorch does: the result shares
 * t's storage (tg_shares_storage), nothing is copied, and a write into t shows
 * through it. tg_cat copies. Results follow the ownership and error rules of
 * tapegrad/tensor.h; a dim may be negative, counting from the end. The
 * node each result records is named as in PyTorch 1.13 (given beside each).
 */
#ifndef TAPEGRAD_SHAPE_H
#define TAPEGRAD_SHAPE_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Copies and views ------------------------------------------------------
 * Views share storage with their source; these record a node on the tape
 * when the source requires grad, so gradients flow through them. */
TG_API tg_tensor *tg_clone(tg_tensor *t);      /* copy, CloneBackward0 */
TG_API tg_tensor *tg_contiguous(tg_tensor *t); /* t itself when contiguous */
/* Shares storage; shape entries may hold one -1 (inferred). Fails when t's
 * strides make a view impossible (use tg_reshape). */
TG_API tg_tensor *tg_view(tg_tensor *t, int ndim, const int64_t *shape);
/* A view when possible, otherwise a contiguous copy. */
TG_API tg_tensor *tg_reshape(tg_tensor *t, int ndim, const int64_t *shape);
/* Swaps two dimensions (a strided view, no copy). */
TG_API tg_tensor *tg_transpose(tg_tensor *t, int dim0, int dim1);
/* Shares data, leaves the graph: requires_grad false, no grad_fn. */
TG_API tg_tensor *tg_detach(tg_tensor *t);
/* A copy converted to dtype (t itself, retained, when already of dtype). */
TG_API tg_tensor *tg_to_dtype(tg_tensor *t, tg_dtype dtype);

/* Reorders t's dims: dim i of the result is dim dims[i] of t. ndim must be
 * t's and dims a permutation of its dims:
 *     tg_permute(x, 3, (int[]){2, 0, 1})         PermuteBackward0 */
TG_API tg_tensor *tg_permute(tg_tensor *t, int ndim, const int *dims);

/* t[start:end:step] along dim, as Python slices: a negative start or end
 * counts from the end, both are then clamped to [0, size] (pass INT64_MAX
 * for "to the end"), and step must be positive.      SliceBackward0 */
TG_API tg_tensor *tg_slice(tg_tensor *t, int dim, int64_t start, int64_t end, int64_t step);

/* ---- Split and chunk: several results ----------------------------------------
 * Both write their pieces, views of t along dim in order, into out[0..n-1]
 * and return n; out has room for max_out pointers. Each piece is a new
 * reference like any op result: it belongs to the innermost pool, or, with
 * no pool pushed, to the caller, who releases every piece. With out NULL
 * they only count: nothing is created and n is returned, to size out.
 * On failure (including more pieces than max_out) they return -1, and out
 * holds nothing the caller must release. Each piece has its own node
 * (SplitBackward0, as PyTorch names the grad_fn of each piece), so a piece
 * left out of the loss costs nothing in backward. */

/* Pieces of split_size (> 0) elements, the last one smaller when split_size
 * does not divide the size, as torch.split(t, split_size, dim). An empty dim
 * gives one empty piece. */
TG_API int tg_split(tg_tensor *t, int64_t split_size, int dim, tg_tensor **out, int max_out);
/* As torch.chunk: pieces of ceil(size / chunks) elements, so possibly fewer
 * than chunks of them (a size of 6 in 4 chunks gives 3 pieces of 2). An
 * empty dim gives chunks empty pieces (SplitWithSizesBackward0, as PyTorch). */
TG_API int tg_chunk(tg_tensor *t, int chunks, int dim, tg_tensor **out, int max_out);
/* As torch.split(t, sizes, dim) with a list: n pieces of sizes[0..n-1]
 * elements (each >= 0, adding up to the size of dim).
 *                                                SplitWithSizesBackward0 */
TG_API int tg_split_with_sizes(tg_tensor *t, int n, const int64_t *sizes, int dim, tg_tensor **out,
                               int max_out);

/* Concatenates n tensors along dim into a new tensor (a copy). They share
 * one dtype and one shape except along dim. As in PyTorch, 1-D empty
 * tensors (shape (0,)) are skipped whatever the others' shape, so a result
 * can be grown from an empty start.                 CatBackward0 */
TG_API tg_tensor *tg_cat(int n, tg_tensor *const *tensors, int dim);

/* ---- Size-1 dims ------------------------------------------------------------ */
/* A size-1 dim inserted at dim, in [-ndim - 1, ndim].  UnsqueezeBackward0 */
TG_API tg_tensor *tg_unsqueeze(tg_tensor *t, int dim);
/* t without any of its size-1 dims.                   SqueezeBackward0 */
TG_API tg_tensor *tg_squeeze(tg_tensor *t);
/* t without dim when its size is 1, else t's shape.   SqueezeBackward1 */
TG_API tg_tensor *tg_squeeze_dim(tg_tensor *t, int dim);

/* t broadcast to (ndim, shape) without a copy, as torch.Tensor.expand: new
 * dims are added in front and size-1 dims stretched, with stride 0; -1
 * keeps the size of an existing dim:
 *     tg_expand(x, TG_SHAPE(4, -1, -1))
 * The elements of the result overlap, so in-place ops refuse it (write into
 * tg_contiguous of it). Backward sums the gradient back. ExpandBackward0 */
TG_API tg_tensor *tg_expand(tg_tensor *t, int ndim, const int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
