/* ops/index.c - selecting by int64 indices: index_select, each forward
 * next to its backward. The indices are checked before any element moves:
 * one out of range fails the op with a message naming it. */
#include <string.h>

#include "ops_internal.h"

/* t's header with dim `dim` fixed at position `at`: a view that lives on
 * the stack, for the kernels only (its reference count is never used). */
static tg_tensor slice_at(const tg_tensor *t, int dim, int64_t at) {
    tg_tensor s = *t;
    s.offset += at * t->strides[dim];
    s.numel = t->shape[dim] ? t->numel / t->shape[dim] : 0;
    for (int d = dim; d + 1 < t->ndim; d++) {
        s.shape[d] = t->shape[d + 1];
        s.strides[d] = t->strides[d + 1];
    }
    s.ndim = t->ndim - 1;
    return s;
}

/* The indices of a 0- or 1-dim int64 tensor, each checked against size
 * (0 <= i < size); NULL on a bad index tensor. */
static const int64_t *checked_indices(const char *op, const tg_tensor *index, int64_t size) {
    if (index->dtype != TG_I64) {
        tg__error(TG_ERR_DTYPE, "%s: expected dtype int64 for index, got %s", op,
                  tg_dtype_name(index->dtype));
        return NULL;
    }
    if (index->ndim > 1) {
        tg__error(TG_ERR_SHAPE, "%s: index is supposed to be a vector, got %d dims", op,
                  index->ndim);
        return NULL;
    }
    if (!tg_is_contiguous(index)) {
        tg__error(TG_ERR_VALUE, "%s: the index must be contiguous (use tg_contiguous)", op);
        return NULL;
    }
    const int64_t *idx = tg__ptr(index);
    for (int64_t k = 0; k < index->numel; k++)
        if (idx[k] < 0 || idx[k] >= size) {
            tg__error(TG_ERR_VALUE, "%s: index %lld is out of range for a dim of size %lld", op,
                      (long long)idx[k], (long long)size);
            return NULL;
        }
    return idx;
}

/* ---- index_select: out.select(dim, k) = t.select(dim, index[k]) -------------------- */

enum { INDEX_SELECT_SAVED_INDEX };
typedef struct index_select_state {
    int dim;
} index_select_state;

/* The gradient of each picked slice adds into the slice it came from, in
 * index order (so repeated indices sum, the same way every run). */
static int index_select_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    int dim = TG__NODE_STATE(node, index_select_state)->dim;
    const tg_tensor *index = node->saved[INDEX_SELECT_SAVED_INDEX];
    const int64_t *idx = tg__ptr(index);
    if (node->in_ndim[0] == 0) { /* a 0-dim input was picked at most once */
        gi[0] = g;
        return 0;
    }
    tg_tensor *grad = tg_zeros(node->in_ndim[0], node->in_shape[0], g->dtype);
    if (!grad) return -1;
    for (int64_t k = 0; k < index->numel; k++) {
        tg_tensor to = slice_at(grad, dim, idx[k]), from = slice_at(g, dim, k);
        tg__accumulate(&to, &from);
    }
    gi[0] = grad;
    return 0;
}
static const tg__op_def index_select_def = {"IndexSelectBackward0", index_select_backward,
                                            "the gradient of each pick adds into its source"};

tg_tensor *tg_index_select(tg_tensor *t, int dim, tg_tensor *index) {
    const char *op = "index_select";
    if (!t || !index) {
        tg__null_arg(op);
        return NULL;
    }
    int ndim = t->ndim ? t->ndim : 1; /* a 0-dim t acts as shape (1,) */
    if (!tg__wrap_dim(op, &dim, ndim)) return NULL;
    int64_t size = t->ndim ? t->shape[dim] : 1;
    const int64_t *idx = checked_indices(op, index, size);
    if (!idx) return NULL;
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    if (t->ndim) shape[dim] = index->numel;
    tg_tensor *out = tg__new_owned(op, t->ndim, shape, t->dtype);
    if (!out) return NULL;
    if (t->ndim == 0) {
        if (index->numel) tg__copy_into(out, t);
    } else if (dim == 0 && tg_is_contiguous(t)) { /* whole rows: one copy each */
        size_t row = (size_t)(t->shape[0] ? t->numel / t->shape[0] : 0) * tg_dtype_size(t->dtype);
        for (int64_t k = 0; k < index->numel; k++)
            memcpy((char *)tg__ptr(out) + (size_t)k * row,
                   (char *)tg__ptr(t) + (size_t)idx[k] * row, row);
    } else {
        for (int64_t k = 0; k < index->numel; k++) {
            tg_tensor to = slice_at(out, dim, k), from = slice_at(t, dim, idx[k]);
            tg__copy_into(&to, &from);
        }
    }
    index_select_state st = {dim};
    return tg__finish(out, &index_select_def, TG__TENSORS(t), TG__SAVE_STATE(&st, index));
}
