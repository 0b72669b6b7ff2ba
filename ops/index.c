/* ops/index.c - selecting and placing by int64 indices: index_select,
 * gather, scatter_add, one_hot and embedding, each forward next to its
 * backward. The indices are checked before any element moves: one out of
 * range fails the op with a message naming it and the size it must fit. */
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

/* False, with "<op>: expected dtype int64 for <what>, got float32", unless
 * index is int64. */
static bool int64_index(const char *op, const char *what, const tg_tensor *index) {
    if (index->dtype == TG_I64) return true;
    tg__error(TG_ERR_DTYPE, "%s: expected dtype int64 for %s, got %s", op, what,
              tg_dtype_name(index->dtype));
    return false;
}

/* An int64 index as a contiguous tensor owned by the caller: index itself
 * (retained) or a copy (NULL when out of memory). */
static tg_tensor *contiguous_index(const char *op, tg_tensor *index) {
    return tg_is_contiguous(index) ? tg_retain(index) : tg__contiguous_copy_owned(op, index);
}

/* The position of the first of idx[0 .. n) outside 0 <= i < size, or -1. */
static int64_t first_out_of_range(const int64_t *idx, int64_t n, int64_t size) {
    for (int64_t k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= size) return k;
    return -1;
}

/* ---- Moving slices: index_select and embedding --------------------------------------- */

/* out's slices along dim are t's at idx[0 .. n), in order (out has t's
 * shape but n along dim). */
static void pick_slices(tg_tensor *out, const tg_tensor *t, int dim, const int64_t *idx,
                        int64_t n) {
    if (dim == 0 && tg_is_contiguous(t) && tg_is_contiguous(out)) { /* whole rows: one copy each */
        size_t row = (size_t)(t->shape[0] ? t->numel / t->shape[0] : 0) * tg_dtype_size(t->dtype);
        for (int64_t k = 0; k < n; k++)
            memcpy((char *)tg__ptr(out) + (size_t)k * row,
                   (char *)tg__ptr(t) + (size_t)idx[k] * row, row);
        return;
    }
    for (int64_t k = 0; k < n; k++) {
        tg_tensor to = slice_at(out, dim, k), from = slice_at(t, dim, idx[k]);
        tg__copy_into(&to, &from);
    }
}

/* The gradient of each picked slice adds into the slice it came from, in
 * index order (so repeated indices sum, the same way every run), except
 * those picked at `skip` (-1: none). */
static void add_slices(tg_tensor *grad, const tg_tensor *g, int dim, const int64_t *idx, int64_t n,
                       int64_t skip) {
    for (int64_t k = 0; k < n; k++) {
        if (idx[k] == skip) continue;
        tg_tensor to = slice_at(grad, dim, idx[k]), from = slice_at(g, dim, k);
        tg__add_into(&to, &to, &from);
    }
}

/* ---- index_select: out.select(dim, k) = t.select(dim, index[k]) -------------------- */

enum { INDEX_SAVED };
typedef struct index_state {
    int dim;
} index_state;

static int index_select_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const tg_tensor *index = node->saved[INDEX_SAVED];
    if (node->in_ndim[0] == 0) { /* a 0-dim input was picked at most once */
        gi[0] = g;
        return 0;
    }
    tg_tensor *grad = tg_zeros(node->in_ndim[0], node->in_shape[0], g->dtype);
    if (!grad) return -1;
    add_slices(grad, g, TG__NODE_STATE(node, index_state)->dim, tg__ptr(index), index->numel, -1);
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
    if (!tg__wrap_dim(op, &dim, ndim) || !int64_index(op, "index", index)) return NULL;
    if (index->ndim > 1) {
        tg__error(TG_ERR_SHAPE, "%s: index is supposed to be a vector, got %d dims", op,
                  index->ndim);
        return NULL;
    }
    tg_tensor *idx = contiguous_index(op, index);
    if (!idx) return NULL;
    int64_t size = t->ndim ? t->shape[dim] : 1,
            bad = first_out_of_range(tg__ptr(idx), idx->numel, size);
    if (bad >= 0) {
        tg__error(TG_ERR_VALUE, "%s: index %lld is out of range for a dim of size %lld", op,
                  (long long)((int64_t *)tg__ptr(idx))[bad], (long long)size);
        tg_release(idx);
        return NULL;
    }
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    if (t->ndim) shape[dim] = idx->numel;
    tg_tensor *out = tg__new_owned(op, t->ndim, shape, t->dtype);
    if (out && t->ndim == 0) {
        if (idx->numel) tg__copy_into(out, t);
    } else if (out) {
        pick_slices(out, t, dim, tg__ptr(idx), idx->numel);
    }
    index_state st = {dim};
    out = out ? tg__finish(out, &index_select_def, TG__TENSORS(t), TG__SAVE_STATE(&st, idx)) : NULL;
    tg_release(idx);
    return out;
}

/* ---- The walk of gather and scatter_add ---------------------------------------------
 * For each position p of the index (row-major, entry idx[n]), the element
 * of a at p with p[dim] replaced by idx[n], and the element of b at p:
 * gather copies a's element into b's, scatter_add adds b's into a's. A
 * 0-dim tensor takes part as shape (1,), as in PyTorch. */

/* One row of the walk along the index's last dim: n elements, a's steps
 * `as` along the row and `ad` per unit of index, b's `bs` (in elements). */
typedef void (*walk_row)(char *a, int64_t as, int64_t ad, char *b, int64_t bs, const int64_t *idx,
                         int64_t n);
#define WALK_ROWS(sfx, T, ADD)                                                                   \
    static void gather_row_##sfx(char *a, int64_t as, int64_t ad, char *b, int64_t bs,           \
                                 const int64_t *idx, int64_t n) {                                \
        for (int64_t j = 0; j < n; j++) ((T *)b)[j * bs] = ((const T *)a)[j * as + idx[j] * ad]; \
    }                                                                                            \
    static void scatter_add_row_##sfx(char *a, int64_t as, int64_t ad, char *b, int64_t bs,      \
                                      const int64_t *idx, int64_t n) {                           \
        for (int64_t j = 0; j < n; j++) {                                                        \
            T *to = (T *)a + j * as + idx[j] * ad;                                               \
            *to = ADD(*to, ((const T *)b)[j * bs]);                                              \
        }                                                                                        \
    }
#define PLUS(x, y) ((x) + (y))
#define PLUS_WRAPPING(x, y) ((int64_t)((uint64_t)(x) + (uint64_t)(y))) /* as PyTorch's int64 */
#define OR(x, y) ((uint8_t)((x) || (y))) /* bool: true + true is true */
WALK_ROWS(f32, float, PLUS)
WALK_ROWS(f64, double, PLUS)
WALK_ROWS(i64, int64_t, PLUS_WRAPPING)
WALK_ROWS(bool, uint8_t, OR)
static const walk_row gather_rows[] = {gather_row_f32, gather_row_f64, gather_row_i64,
                                       gather_row_bool};
static const walk_row scatter_add_rows[] = {scatter_add_row_f32, scatter_add_row_f64,
                                            scatter_add_row_i64, scatter_add_row_bool};

/* A tensor's size and stride along d, a 0-dim one read as shape (1,). */
static int64_t size_at(const tg_tensor *t, int d) { return t->ndim ? t->shape[d] : 1; }
static int64_t stride_at(const tg_tensor *t, int d) { return t->ndim ? t->strides[d] : 0; }

/* Runs the walk over index (contiguous) with rows from `rows`: a and b
 * have index's number of dims (a 0-dim tensor counting as one). */
static void walk(const walk_row *rows, const tg_tensor *index, int dim, tg_tensor *a,
                 tg_tensor *b) {
    if (index->numel == 0) return;
    int ndim = index->ndim ? index->ndim : 1, last = ndim - 1;
    int64_t len = size_at(index, last), as[TG_MAX_DIMS], bs[TG_MAX_DIMS];
    for (int d = 0; d < ndim; d++) {
        as[d] = d == dim ? 0 : stride_at(a, d); /* the index moves a along dim */
        bs[d] = stride_at(b, d);
    }
    walk_row row = rows[a->dtype];
    size_t size = tg_dtype_size(a->dtype);
    const int64_t *idx = tg__ptr(index);
    char *pa = tg__ptr(a), *pb = tg__ptr(b);
    int64_t pos[TG_MAX_DIMS] = {0}, oa = 0, ob = 0;
    for (int64_t r = 0, n_rows = index->numel / len; r < n_rows; r++) {
        row(pa + oa * (int64_t)size, as[last], stride_at(a, dim), pb + ob * (int64_t)size, bs[last],
            idx + r * len, len);
        for (int d = last - 1; d >= 0; d--) { /* the next row: an odometer over the other dims */
            oa += as[d], ob += bs[d];
            if (++pos[d] < index->shape[d]) break;
            oa -= as[d] * pos[d], ob -= bs[d] * pos[d];
            pos[d] = 0;
        }
    }
}

/* The index of gather or scatter_add as a contiguous tensor owned by the
 * caller, its entries checked against the size of t's dim (self for
 * scatter_add); NULL on a bad index. */
static tg_tensor *checked_walk_index(const char *op, const tg_tensor *t, int dim,
                                     tg_tensor *index) {
    tg_tensor *idx = contiguous_index(op, index);
    if (!idx) return NULL;
    int64_t size = size_at(t, dim), bad = first_out_of_range(tg__ptr(idx), idx->numel, size);
    if (bad >= 0) {
        tg__error(TG_ERR_VALUE, "%s: index %lld is out of bounds for dimension %d with size %lld",
                  op, (long long)((int64_t *)tg__ptr(idx))[bad], dim, (long long)size);
        tg_release(idx);
        return NULL;
    }
    return idx;
}

/* PyTorch's rule: index has t's number of dims (a 0-dim tensor counting as
 * one). `role` is what PyTorch calls t in the message. */
static bool same_ndim(const char *op, const char *what, const tg_tensor *index, const char *role,
                      const tg_tensor *t) {
    int ni = index->ndim ? index->ndim : 1, nt = t->ndim ? t->ndim : 1;
    if (ni == nt) return true;
    tg__error(TG_ERR_SHAPE,
              "%s: %s tensor must have the same number of dimensions as %s tensor (got %d and %d)",
              op, what, role, index->ndim, t->ndim);
    return false;
}

/* ---- gather: out[i][j] = t[index[i][j]][j] (dim 0) ------------------------------------ */

/* The values read from t add back where they were read, repeats summing. */
static int gather_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    tg_tensor *grad = tg_zeros(node->in_ndim[0], node->in_shape[0], g->dtype);
    if (!grad) return -1;
    walk(scatter_add_rows, node->saved[INDEX_SAVED], TG__NODE_STATE(node, index_state)->dim, grad,
         g);
    gi[0] = grad;
    return 0;
}
static const tg__op_def gather_def = {"GatherBackward0", gather_backward,
                                      "the gradient of each read adds into where it was read"};

tg_tensor *tg_gather(tg_tensor *t, int dim, tg_tensor *index) {
    const char *op = "gather";
    if (!t || !index) {
        tg__null_arg(op);
        return NULL;
    }
    if (!tg__wrap_dim(op, &dim, t->ndim) || !int64_index(op, "index", index)) return NULL;
    if (index->numel) { /* PyTorch checks the shapes of a non-empty index only */
        if (!same_ndim(op, "index", index, "input", t)) return NULL;
        for (int d = 0; d < index->ndim; d++)
            if (d != dim && index->shape[d] > size_at(t, d)) {
                char bi[TG_SHAPE_STR_MAX], bt[TG_SHAPE_STR_MAX];
                tg__error(TG_ERR_SHAPE,
                          "%s: size does not match at dimension %d: expected index %s to be "
                          "smaller than self %s apart from dimension %d",
                          op, d, tg__shape_str(bi, sizeof bi, index->ndim, index->shape),
                          tg__shape_str(bt, sizeof bt, t->ndim, t->shape), dim);
                return NULL;
            }
    }
    tg_tensor *idx = checked_walk_index(op, t, dim, index);
    tg_tensor *out = idx ? tg__new_owned(op, index->ndim, index->shape, t->dtype) : NULL;
    if (!out) {
        tg_release(idx);
        return NULL;
    }
    walk(gather_rows, idx, dim, t, out);
    index_state st = {dim};
    out = tg__finish(out, &gather_def, TG__TENSORS(t), TG__SAVE_STATE(&st, idx));
    tg_release(idx);
    return out;
}

/* ---- scatter_add: out = t; out[index[i][j]][j] += src[i][j] (dim 0) -------------------- */

/* t's gradient is g; src's is g read where src's elements were added
 * (gather), and zero where src is larger than the index. */
static int scatter_add_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    if (needs[0]) gi[0] = g;
    if (!needs[1]) return 0;
    tg_tensor *grad = tg_zeros(node->in_ndim[1], node->in_shape[1], g->dtype);
    if (!grad) return -1;
    walk(gather_rows, node->saved[INDEX_SAVED], TG__NODE_STATE(node, index_state)->dim, g, grad);
    gi[1] = grad;
    return 0;
}
static const tg__op_def scatter_add_def = {
    "ScatterAddBackward0", scatter_add_backward,
    "d out/d t = 1; d out/d src: 1 where each src element was added (gather)"};

/* The checks of scatter_add and scatter_add_, in PyTorch's order; the
 * index as checked_walk_index gives it (NULL on a bad argument). */
static tg_tensor *scatter_add_index(const char *op, tg_tensor *self, int *dim, tg_tensor *index,
                                    tg_tensor *src) {
    if (!self || !index || !src) {
        tg__null_arg(op);
        return NULL;
    }
    if (!tg__wrap_dim(op, dim, self->ndim) || !int64_index(op, "index", index) ||
        !tg__check_same_dtype(op, 2, (tg_tensor *[]){self, src}))
        return NULL;
    if (index->numel) { /* PyTorch checks the shapes of a non-empty index only */
        if (!same_ndim(op, "index", index, "self", self) ||
            !same_ndim(op, "src", src, "self", self))
            return NULL;
        for (int d = 0; d < (index->ndim ? index->ndim : 1); d++)
            if ((d != *dim && size_at(index, d) > size_at(self, d)) ||
                size_at(index, d) > size_at(src, d)) {
                char bi[TG_SHAPE_STR_MAX], bt[TG_SHAPE_STR_MAX], bs[TG_SHAPE_STR_MAX];
                tg__error(TG_ERR_SHAPE,
                          "%s: expected index %s to be smaller than self %s apart from dimension "
                          "%d and to be smaller size than src %s",
                          op, tg__shape_str(bi, sizeof bi, index->ndim, index->shape),
                          tg__shape_str(bt, sizeof bt, self->ndim, self->shape), *dim,
                          tg__shape_str(bs, sizeof bs, src->ndim, src->shape));
                return NULL;
            }
    }
    return checked_walk_index(op, self, *dim, index);
}

tg_tensor *tg_scatter_add(tg_tensor *t, int dim, tg_tensor *index, tg_tensor *src) {
    const char *op = "scatter_add";
    tg_tensor *idx = scatter_add_index(op, t, &dim, index, src);
    tg_tensor *out = idx ? tg__contiguous_copy_owned(op, t) : NULL;
    if (!out) {
        tg_release(idx);
        return NULL;
    }
    walk(scatter_add_rows, idx, dim, out, src);
    index_state st = {dim};
    out = tg__finish(out, &scatter_add_def, TG__TENSORS(t, src), TG__SAVE_STATE(&st, idx));
    tg_release(idx);
    return out;
}

/* src and index are read in full before self is written: when they share
 * memory with self, from private copies. */
int tg_scatter_add_(tg_tensor *self, int dim, tg_tensor *index, tg_tensor *src) {
    const char *op = "scatter_add_";
    tg_tensor *idx = scatter_add_index(op, self, &dim, index, src);
    int rc = -1;
    if (idx && tg__check_writable(op, self) && tg__check_inplace(op, self, src)) {
        /* an int64 self may be its own index */
        tg_tensor *at = idx->storage == self->storage ? tg__contiguous_copy_owned(op, idx)
                                                      : tg_retain(idx);
        tg_tensor *from = src->storage == self->storage ? tg__contiguous_copy_owned(op, src)
                                                        : tg_retain(src);
        if (at && from) {
            walk(scatter_add_rows, at, dim, self, from);
            self->storage->version++;
            rc = 0;
        }
        tg_release(at);
        tg_release(from);
    }
    tg_release(idx);
    return rc;
}

/* ---- one_hot: out[..., c] = (labels[...] == c), int64 -------------------------------- */

tg_tensor *tg_one_hot(tg_tensor *labels, int64_t num_classes) {
    const char *op = "one_hot";
    if (!labels) {
        tg__null_arg(op);
        return NULL;
    }
    if (!int64_index(op, "labels", labels))
        return NULL; /* torch: "only applicable to index tensor" */
    if (labels->ndim == TG_MAX_DIMS) {
        tg__error(TG_ERR_SHAPE,
                  "%s: labels of %d dims leave no room for the class dim (at most %d)", op,
                  labels->ndim, TG_MAX_DIMS);
        return NULL;
    }
    if (labels->numel == 0 && num_classes <= 0) {
        tg__error(TG_ERR_VALUE,
                  "%s: can not infer total number of classes from empty tensor (num_classes %lld)",
                  op, (long long)num_classes);
        return NULL;
    }
    tg_tensor *idx = contiguous_index(op, labels);
    if (!idx) return NULL;
    const int64_t *v = tg__ptr(idx);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t k = 0; k < idx->numel; k++) {
        if (v[k] < lo) lo = v[k];
        if (v[k] > hi) hi = v[k];
    }
    tg_tensor *out = NULL;
    if (idx->numel && lo < 0) {
        tg__error(TG_ERR_VALUE, "%s: class values must be non-negative, got %lld", op,
                  (long long)lo);
    } else if (idx->numel && num_classes == -1 && hi == INT64_MAX) {
        tg__error(TG_ERR_VALUE, "%s: class value %lld leaves no room for num_classes = max + 1", op,
                  (long long)hi);
    } else if (idx->numel && num_classes != -1 && hi >= num_classes) {
        tg__error(TG_ERR_VALUE,
                  "%s: class values must be smaller than num_classes, got %lld with num_classes "
                  "%lld",
                  op, (long long)hi, (long long)num_classes);
    } else {
        int64_t shape[TG_MAX_DIMS], classes = num_classes == -1 ? hi + 1 : num_classes;
        memcpy(shape, labels->shape, sizeof shape);
        shape[labels->ndim] = classes;
        out = tg__new_owned(op, labels->ndim + 1, shape, TG_I64);
        if (out) {
            int64_t *o = tg__ptr(out);
            memset(o, 0, (size_t)out->numel * sizeof *o);
            for (int64_t k = 0; k < idx->numel; k++) o[k * classes + v[k]] = 1;
        }
    }
    tg_release(idx);
    return tg__autorelease(out);
}

/* ---- embedding: out[..., :] = weight[indices[...], :] ------------------------------------ */

typedef struct embedding_state {
    int64_t padding_idx; /* the row given no gradient, or -1 */
} embedding_state;

/* The gradient of each looked-up row adds into the row of weight, in the
 * order of the indices; the padding row gets none. */
static int embedding_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const tg_tensor *indices = node->saved[INDEX_SAVED];
    tg_tensor *grad = tg_zeros(2, node->in_shape[0], g->dtype);
    tg_tensor *rows = grad ? tg_reshape(g, TG_SHAPE(indices->numel, node->in_shape[0][1])) : NULL;
    if (!rows) return -1;
    add_slices(grad, rows, 0, tg__ptr(indices), indices->numel,
               TG__NODE_STATE(node, embedding_state)->padding_idx);
    gi[0] = grad;
    return 0;
}
static const tg__op_def embedding_def = {"EmbeddingBackward0", embedding_backward,
                                         "the gradient of each looked-up row adds into its row"};

tg_tensor *tg_embedding(tg_tensor *weight, tg_tensor *indices, int64_t padding_idx) {
    const char *op = "embedding";
    char buf[TG_SHAPE_STR_MAX];
    if (!weight || !indices) {
        tg__null_arg(op);
        return NULL;
    }
    if (weight->ndim != 2) {
        tg__error(TG_ERR_SHAPE, "%s: 'weight' must be 2-D, got shape %s", op,
                  tg__shape_str(buf, sizeof buf, weight->ndim, weight->shape));
        return NULL;
    }
    int64_t num = weight->shape[0], dim = weight->shape[1];
    if (padding_idx != TG_EMBEDDING_NO_PADDING && (padding_idx < -num || padding_idx >= num)) {
        tg__error(TG_ERR_VALUE,
                  "%s: padding_idx %lld must be within num_embeddings %lld (from %lld to %lld)", op,
                  (long long)padding_idx, (long long)num, (long long)-num, (long long)num - 1);
        return NULL;
    }
    if (indices->ndim == TG_MAX_DIMS) {
        tg__error(TG_ERR_SHAPE,
                  "%s: indices of %d dims leave no room for the embedding dim (at most %d)", op,
                  indices->ndim, TG_MAX_DIMS);
        return NULL;
    }
    tg_tensor *idx = int64_index(op, "indices", indices) ? contiguous_index(op, indices) : NULL;
    if (!idx) return NULL;
    int64_t bad = first_out_of_range(tg__ptr(idx), idx->numel, num);
    if (bad >= 0) {
        tg__error(TG_ERR_VALUE, "%s: index %lld is out of range for num_embeddings %lld", op,
                  (long long)((int64_t *)tg__ptr(idx))[bad], (long long)num);
        tg_release(idx);
        return NULL;
    }
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, indices->shape, sizeof shape);
    shape[indices->ndim] = dim;
    tg_tensor *out = tg__new_owned(op, indices->ndim + 1, shape, weight->dtype);
    if (!out) {
        tg_release(idx);
        return NULL;
    }
    tg_tensor rows = *out; /* out as (number of indices, dim) */
    rows.ndim = 2;
    rows.shape[0] = idx->numel, rows.shape[1] = dim;
    rows.strides[0] = dim, rows.strides[1] = 1;
    pick_slices(&rows, weight, 0, tg__ptr(idx), idx->numel);
    embedding_state st = {padding_idx == TG_EMBEDDING_NO_PADDING ? -1
                          : padding_idx < 0                      ? padding_idx + num
                                                                 : padding_idx};
    out = tg__finish(out, &embedding_def, TG__TENSORS(weight), TG__SAVE_STATE(&st, idx));
    tg_release(idx);
    return out;
}
