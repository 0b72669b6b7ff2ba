/* ops/view.c - copies and views (clone, contiguous, view, reshape,
 * transpose, detach, dtype conversion), each forward next to its backward. */
#include <string.h>

#include "ops_internal.h"
#include "tapegrad/shape.h"

/* ---- clone: a contiguous copy ------------------------------------------------------ */

static int pass_through_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)node, (void)needs;
    gi[0] = g;
    return 0;
}
static const tg__op_def clone_def = {"CloneBackward0", pass_through_backward, "d copy(x)/dx = 1"};

tg_tensor *tg_clone(tg_tensor *t) {
    if (!t) {
        tg__null_arg("clone");
        return NULL;
    }
    tg_tensor *out = tg__contiguous_copy_owned("clone", t);
    return out ? tg__finish(out, &clone_def, TG__TENSORS(t), TG__NOTHING) : NULL;
}

tg_tensor *tg_contiguous(tg_tensor *t) {
    if (!t) {
        tg__null_arg("contiguous");
        return NULL;
    }
    if (tg_is_contiguous(t)) return tg__autorelease(tg_retain(t));
    return tg_clone(t);
}

/* ---- view and reshape ------------------------------------------------------------ */

static int view_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg_reshape(g, node->in_ndim[0], node->in_shape[0]);
    return gi[0] ? 0 : -1;
}
static const tg__op_def view_def = {"ViewBackward0", view_backward, "reshape the gradient back"};
static const tg__op_def reshape_alias_def = {"ReshapeAliasBackward0", view_backward,
                                             "reshape the gradient back"};
static const tg__op_def unsafe_view_def = {"UnsafeViewBackward0", view_backward,
                                           "reshape the gradient back"};

/* Fills in a -1 entry and checks that the element count is kept. */
static bool infer_shape(const char *op, const tg_tensor *t, int ndim, const int64_t *shape,
                        int64_t *out) {
    int64_t numel;
    int infer = -1;
    if (ndim < 0 || ndim > TG_MAX_DIMS || (ndim > 0 && !shape)) {
        return tg__valid_shape(op, ndim, shape, &numel);
    }
    /* The product of the given sizes; one that overflows cannot equal t's
     * element count, and is reported as any other mismatch. */
    int64_t known = 1;
    bool overflow = false;
    for (int i = 0; i < ndim; i++) {
        out[i] = shape[i];
        if (shape[i] == -1 && infer < 0) {
            infer = i;
            out[i] = 1;
        } else if (shape[i] < 0) {
            char buf[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_SHAPE, "%s: invalid shape %s", op,
                      tg__shape_str(buf, sizeof buf, ndim, shape));
            return false;
        } else {
            overflow = __builtin_mul_overflow(known, shape[i], &known) || overflow;
        }
    }
    if (!overflow && !tg__valid_shape(op, ndim, out, &numel)) return false;
    if (overflow) {
        numel = -1;
    } else if (infer >= 0 && known != 0 && t->numel % known == 0) {
        out[infer] = t->numel / known;
        numel = t->numel;
    }
    if (numel != t->numel || (infer >= 0 && known == 0)) {
        char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: shape %s is invalid for input of shape %s (%lld elements)", op,
                  tg__shape_str(bufa, sizeof bufa, ndim, shape),
                  tg__shape_str(bufb, sizeof bufb, t->ndim, t->shape), (long long)t->numel);
        return false;
    }
    return true;
}

/* Strides that let (ndim, shape) view t's elements in row-major order
 * without a copy; false when t's layout does not allow it. Walks t's dims
 * from the right in chunks that are contiguous among themselves, as
 * PyTorch's computeStride does. */
static bool view_strides(const tg_tensor *t, int ndim, const int64_t *shape, int64_t *strides) {
    if (t->numel == 0 || t->ndim == 0) {
        tg__contiguous_strides(ndim, shape, strides);
        return true;
    }
    int view_d = ndim - 1;
    int64_t chunk_base = t->strides[t->ndim - 1], tensor_numel = 1, view_numel = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        tensor_numel *= t->shape[d];
        bool chunk_ends = d == 0 ||
                          (t->shape[d - 1] != 1 && t->strides[d - 1] != tensor_numel * chunk_base);
        if (!chunk_ends) continue;
        while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
            strides[view_d] = view_numel * chunk_base;
            view_numel *= shape[view_d];
            view_d--;
        }
        if (view_numel != tensor_numel) return false;
        if (d > 0) {
            chunk_base = t->strides[d - 1];
            tensor_numel = view_numel = 1;
        }
    }
    return view_d == -1;
}

static tg_tensor *make_view(const char *op, const tg__op_def *def, tg_tensor *t, int ndim,
                            const int64_t *shape, const int64_t *strides) {
    tg_tensor *out = tg__view_owned(op, t, ndim, shape, strides, t->offset);
    return out ? tg__finish(out, def, TG__TENSORS(t), TG__NOTHING) : NULL;
}

tg_tensor *tg_view(tg_tensor *t, int ndim, const int64_t *shape) {
    int64_t full[TG_MAX_DIMS], strides[TG_MAX_DIMS];
    if (!t) {
        tg__null_arg("view");
        return NULL;
    }
    if (!infer_shape("view", t, ndim, shape, full)) return NULL;
    if (!view_strides(t, ndim, full, strides)) {
        char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE,
                  "view: a tensor of shape %s with strides %s cannot be viewed as %s; use "
                  "tg_reshape",
                  tg__shape_str(bufa, sizeof bufa, t->ndim, t->shape),
                  tg__shape_str(bufb, sizeof bufb, t->ndim, t->strides),
                  tg__shape_str((char[TG_SHAPE_STR_MAX]){0}, TG_SHAPE_STR_MAX, ndim, full));
        return NULL;
    }
    return make_view("view", &view_def, t, ndim, full, strides);
}

tg_tensor *tg_reshape(tg_tensor *t, int ndim, const int64_t *shape) {
    int64_t full[TG_MAX_DIMS], strides[TG_MAX_DIMS];
    if (!t) {
        tg__null_arg("reshape");
        return NULL;
    }
    if (!infer_shape("reshape", t, ndim, shape, full)) return NULL;
    if (view_strides(t, ndim, full, strides))
        return make_view("reshape", &reshape_alias_def, t, ndim, full, strides);
    tg_tensor *copy = tg_clone(t);
    if (!copy) return NULL;
    tg__contiguous_strides(ndim, full, strides);
    return make_view("reshape", &unsafe_view_def, copy, ndim, full, strides);
}

/* ---- transpose ----------------------------------------------------------------- */

/* The two dims swapped, which the backward swaps back. */
typedef struct transpose_state {
    int dim0, dim1;
} transpose_state;

static int transpose_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const transpose_state *st = TG__NODE_STATE(node, transpose_state);
    gi[0] = tg_transpose(g, st->dim0, st->dim1);
    return gi[0] ? 0 : -1;
}
static const tg__op_def transpose_def = {"TransposeBackward0", transpose_backward,
                                         "transpose the gradient back"};

tg_tensor *tg_transpose(tg_tensor *t, int dim0, int dim1) {
    if (!t) {
        tg__null_arg("transpose");
        return NULL;
    }
    if (!tg__wrap_dim("transpose", &dim0, t->ndim) || !tg__wrap_dim("transpose", &dim1, t->ndim))
        return NULL;
    int64_t shape[TG_MAX_DIMS], strides[TG_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(strides, t->strides, sizeof strides);
    if (t->ndim > 0) {
        shape[dim0] = t->shape[dim1], shape[dim1] = t->shape[dim0];
        strides[dim0] = t->strides[dim1], strides[dim1] = t->strides[dim0];
    }
    tg_tensor *out = tg__view_owned("transpose", t, t->ndim, shape, strides, t->offset);
    transpose_state st = {dim0, dim1};
    return out ? tg__finish(out, &transpose_def, TG__TENSORS(t), TG__STATE(&st)) : NULL;
}

/* ---- detach and dtype conversion ------------------------------------------------- */

tg_tensor *tg_detach(tg_tensor *t) {
    if (!t) {
        tg__null_arg("detach");
        return NULL;
    }
    return tg__autorelease(tg__view_owned("detach", t, t->ndim, t->shape, t->strides, t->offset));
}

static int to_copy_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg_to_dtype(g, node->in_dtype[0]);
    return gi[0] ? 0 : -1;
}
static const tg__op_def to_copy_def = {"ToCopyBackward0", to_copy_backward,
                                       "convert the gradient back to the input dtype"};

tg_tensor *tg_to_dtype(tg_tensor *t, tg_dtype dtype) {
    if (!t) {
        tg__null_arg("to_dtype");
        return NULL;
    }
    if (t->dtype == dtype) return tg__autorelease(tg_retain(t));
    tg_tensor *out = tg__new_owned("to_dtype", t->ndim, t->shape, dtype);
    if (!out) return NULL;
    tg__copy_into(out, t);
    return tg__finish(out, &to_copy_def, TG__TENSORS(t), TG__NOTHING);
}
