/* ops/shape.c - permute, slice, split, chunk, cat, unsqueeze, squeeze and
 * expand, each forward followed by its backward.
 *
 * All but cat are views: they compute a new geometry (shape, strides,
 * offset) over the input's storage, with the strides PyTorch gives, and
 * make_view turns it into a tensor on the tape. */
#include <limits.h>
#include <string.h>

#include "ops_internal.h"
#include "tapegrad/shape.h"

/* ---- Geometry, and the one way this file makes a view ---------------------------- */

typedef struct geometry {
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_MAX_DIMS];
    int64_t offset;
} geometry;

static geometry geometry_of(const tg_tensor *t) {
    geometry g = {.ndim = t->ndim, .offset = t->offset};
    memcpy(g.shape, t->shape, sizeof g.shape);
    memcpy(g.strides, t->strides, sizeof g.strides);
    return g;
}

/* Keeps len elements of dim, every step-th from start. */
static void narrow(geometry *g, int dim, int64_t start, int64_t len, int64_t step) {
    g->offset += start * g->strides[dim];
    g->shape[dim] = len;
    g->strides[dim] *= step;
}

/* A view of t with geometry g, recorded as made by def; its node keeps
 * `state`, what its backward needs. */
static tg_tensor *make_view(const char *op, const tg__op_def *def, tg_tensor *t, const geometry *g,
                            tg__saves state) {
    tg_tensor *out = tg__view_owned(op, t, g->ndim, g->shape, g->strides, g->offset);
    return out ? tg__finish(out, def, TG__TENSORS(t), state) : NULL;
}

/* dst narrowed along dim (from start, every step-th) <- src, whose shape is
 * that of the narrowed part. False when out of memory. */
static bool copy_into_narrowed(const char *op, tg_tensor *dst, int dim, int64_t start, int64_t step,
                               const tg_tensor *src) {
    geometry g = geometry_of(dst);
    narrow(&g, dim, start, src->shape[dim], step);
    tg_tensor *part = tg__view_owned(op, dst, g.ndim, g.shape, g.strides, g.offset);
    if (!part) return false;
    tg__copy_into(part, src);
    tg_release(part);
    return true;
}

/* ---- permute --------------------------------------------------------------------- */

typedef struct permute_state {
    int dims[TG_MAX_DIMS]; /* result dim i is input dim dims[i] */
} permute_state;

static int permute_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const permute_state *st = TG__NODE_STATE(node, permute_state);
    int inverse[TG_MAX_DIMS];
    for (int i = 0; i < node->out_ndim; i++) inverse[st->dims[i]] = i;
    gi[0] = tg_permute(g, node->out_ndim, inverse);
    return gi[0] ? 0 : -1;
}
static const tg__op_def permute_def = {"PermuteBackward0", permute_backward,
                                       "permute the gradient back"};

tg_tensor *tg_permute(tg_tensor *t, int ndim, const int *dims) {
    if (!t || (ndim > 0 && !dims)) {
        tg__null_arg("permute");
        return NULL;
    }
    if (ndim != t->ndim) {
        tg__error(TG_ERR_VALUE, "permute: %d dims given for a %d-dim tensor", ndim, t->ndim);
        return NULL;
    }
    geometry g = geometry_of(t);
    permute_state st;
    bool seen[TG_MAX_DIMS] = {false};
    for (int i = 0; i < ndim; i++) {
        int d = dims[i];
        if (!tg__wrap_dim("permute", &d, ndim)) return NULL;
        if (seen[d]) {
            tg__error(TG_ERR_VALUE, "permute: dim %d appears twice in the permutation", dims[i]);
            return NULL;
        }
        seen[d] = true;
        st.dims[i] = d;
        g.shape[i] = t->shape[d];
        g.strides[i] = t->strides[d];
    }
    return make_view("permute", &permute_def, t, &g, TG__STATE(&st));
}

/* ---- slice, split, chunk: narrowed views ------------------------------------------- */

/* The elements a narrowed view kept: along dim, from start, every step-th. */
typedef struct narrow_state {
    int dim;
    int64_t start, step;
} narrow_state;

/* Scatters g into zeros of the input's shape, at the elements the forward kept. */
static int narrow_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const narrow_state *st = TG__NODE_STATE(node, narrow_state);
    tg_tensor *full = tg__new(node->def->name, node->in_ndim[0], node->in_shape[0],
                              node->in_dtype[0]);
    if (!full) return -1;
    tg__fill(full, 0.0);
    if (!copy_into_narrowed(node->def->name, full, st->dim, st->start, st->step, g)) return -1;
    gi[0] = full;
    return 0;
}
static const tg__op_def slice_def = {"SliceBackward0", narrow_backward,
                                     "the gradient into the sliced positions, 0 elsewhere"};
static const tg__op_def split_def = {"SplitBackward0", narrow_backward,
                                     "the gradient into the piece's positions, 0 elsewhere"};
static const tg__op_def split_with_sizes_def = {
    "SplitWithSizesBackward0", narrow_backward,
    "the gradient into the piece's positions, 0 elsewhere"};

static tg_tensor *narrow_view(const char *op, const tg__op_def *def, tg_tensor *t, int dim,
                              int64_t start, int64_t len, int64_t step) {
    geometry g = geometry_of(t);
    narrow(&g, dim, start, len, step);
    narrow_state st = {dim, start, step};
    return make_view(op, def, t, &g, TG__STATE(&st));
}

/* Checks t is there and has a dim `dim` to cut along; wraps *dim. */
static bool check_cut(const char *op, const tg_tensor *t, int *dim) {
    if (!t) {
        tg__null_arg(op);
        return false;
    }
    if (t->ndim == 0) {
        tg__error(TG_ERR_SHAPE, "%s: a 0-dim tensor has no dim to cut along", op);
        return false;
    }
    return tg__wrap_dim(op, dim, t->ndim);
}

/* Python's treatment of a slice bound: negative counts from the end, then
 * clamped into [0, size]. */
static int64_t clamp_bound(int64_t i, int64_t size) {
    if (i < 0) i += size;
    return i < 0 ? 0 : i > size ? size : i;
}

tg_tensor *tg_slice(tg_tensor *t, int dim, int64_t start, int64_t end, int64_t step) {
    if (!check_cut("slice", t, &dim)) return NULL;
    if (step <= 0) {
        tg__error(TG_ERR_VALUE, "slice: step must be positive, got %lld", (long long)step);
        return NULL;
    }
    int64_t size = t->shape[dim];
    start = clamp_bound(start, size);
    end = clamp_bound(end, size);
    /* A step past the end keeps one element at most; clamped, it cannot
     * overflow the stride it scales (which then differs from PyTorch's). */
    if (step > size) step = size > 0 ? size : 1;
    int64_t len = end > start ? (end - start - 1) / step + 1 : 0;
    return narrow_view("slice", &slice_def, t, dim, start, len, step);
}

/* Writes count pieces of t along dim into out, one after the other: of
 * sizes[i] elements, or, with sizes NULL, each of size elements but the
 * last, which keeps what remains. */
static int split_pieces(const char *op, const tg__op_def *def, tg_tensor *t, int dim,
                        const int64_t *sizes, int64_t size, int64_t count, tg_tensor **out,
                        int max_out) {
    int room = out ? max_out : INT_MAX;
    if (count > room) {
        tg__error(TG_ERR_VALUE, "%s: %lld pieces do not fit in max_out = %d", op, (long long)count,
                  room);
        return -1;
    }
    if (!out) return (int)count;
    int64_t extent = t->shape[dim], start = 0;
    for (int i = 0; i < count; i++) {
        int64_t len = sizes ? sizes[i] : extent - start < size ? extent - start : size;
        if (!(out[i] = narrow_view(op, def, t, dim, start, len, 1))) {
            bool pooled = tg__pool_active(); /* then the pool releases the pieces */
            for (int k = 0; k < i; k++) {
                if (!pooled) tg_release(out[k]);
                out[k] = NULL;
            }
            return -1;
        }
        start += len;
    }
    return (int)count;
}

int tg_split(tg_tensor *t, int64_t split_size, int dim, tg_tensor **out, int max_out) {
    if (!check_cut("split", t, &dim)) return -1;
    if (split_size <= 0) {
        tg__error(TG_ERR_VALUE, "split: split_size must be positive, got %lld",
                  (long long)split_size);
        return -1;
    }
    int64_t extent = t->shape[dim];
    int64_t count = extent ? (extent - 1) / split_size + 1 : 1;
    return split_pieces("split", &split_def, t, dim, NULL, split_size, count, out, max_out);
}

int tg_split_with_sizes(tg_tensor *t, int n, const int64_t *sizes, int dim, tg_tensor **out,
                        int max_out) {
    const char *op = "split_with_sizes";
    if (!check_cut(op, t, &dim)) return -1;
    if (n <= 0 || !sizes) {
        tg__error(n <= 0 ? TG_ERR_VALUE : TG_ERR_NULL, "%s: %s", op,
                  n <= 0 ? "no sizes given" : "argument is NULL");
        return -1;
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0) {
            tg__error(TG_ERR_VALUE, "%s: sizes[%d] = %lld is negative", op, i, (long long)sizes[i]);
            return -1;
        }
        /* capped, so that the sum cannot overflow; a cap still misses the size */
        total += sizes[i] > t->shape[dim] ? t->shape[dim] + 1 : sizes[i];
    }
    if (total != t->shape[dim]) {
        tg__error(TG_ERR_VALUE, "%s: the sizes must add up to %lld, the size of dim %d", op,
                  (long long)t->shape[dim], dim);
        return -1;
    }
    return split_pieces(op, &split_with_sizes_def, t, dim, sizes, 0, n, out, max_out);
}

int tg_chunk(tg_tensor *t, int chunks, int dim, tg_tensor **out, int max_out) {
    if (!check_cut("chunk", t, &dim)) return -1;
    if (chunks <= 0) {
        tg__error(TG_ERR_VALUE, "chunk: chunks must be positive, got %d", chunks);
        return -1;
    }
    int64_t extent = t->shape[dim];
    if (extent == 0) /* PyTorch's chunk turns to split_with_sizes here */
        return split_pieces("chunk", &split_with_sizes_def, t, dim, NULL, 0, chunks, out, max_out);
    int64_t size = (extent - 1) / chunks + 1;
    return split_pieces("chunk", &split_def, t, dim, NULL, size, (extent - 1) / size + 1, out,
                        max_out);
}

/* ---- cat ------------------------------------------------------------------------- */

/* PyTorch's cat skips 1-D empty tensors whatever the others' shape, a legacy
 * of its old empty tensor that code growing a result from torch.tensor([])
 * relies on. */
static bool skipped_by_cat(int ndim, const int64_t *shape) { return ndim == 1 && shape[0] == 0; }

/* The one dim of a view or a cat that its backward needs. */
typedef struct dim_state {
    int dim;
} dim_state;

/* Each input's gradient is its slice of g; a skipped input gets none. */
static int cat_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    int dim = TG__NODE_STATE(node, dim_state)->dim;
    int64_t start = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        const int64_t *shape = node->in_shape[i];
        if (skipped_by_cat(node->in_ndim[i], shape)) continue;
        if (needs[i] && !(gi[i] = tg_slice(g, dim, start, start + shape[dim], 1))) return -1;
        start += shape[dim];
    }
    return 0;
}
static const tg__op_def cat_def = {"CatBackward0", cat_backward,
                                   "each input gets its slice of the gradient"};

/* The index of the first input cat does not skip, n when it skips all. */
static int first_kept(int n, tg_tensor *const *ts) {
    int i = 0;
    while (i < n && skipped_by_cat(ts[i]->ndim, ts[i]->shape)) i++;
    return i;
}

static bool same_except(const tg_tensor *a, const tg_tensor *b, int dim) {
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (d != dim && a->shape[d] != b->shape[d]) return false;
    return true;
}

/* Checks the inputs of cat and wraps *dim against the first kept one. */
static bool check_cat(int n, tg_tensor *const *ts, int *dim) {
    if (n > 0 && !ts) {
        tg__null_arg("cat");
        return false;
    }
    if (n <= 0) {
        tg__error(TG_ERR_VALUE, "cat: expected a non-empty list of tensors, got %d", n);
        return false;
    }
    if (!tg__check_same_dtype("cat", n, ts)) return false;
    int ref = first_kept(n, ts);
    if (ref == n) return true; /* all skipped: dim is never used */
    if (ts[ref]->ndim == 0) {
        tg__error(TG_ERR_SHAPE, "cat: a 0-dim tensor (tensor %d) cannot be concatenated", ref);
        return false;
    }
    if (!tg__wrap_dim("cat", dim, ts[ref]->ndim)) return false;
    for (int i = ref + 1; i < n; i++) {
        if (skipped_by_cat(ts[i]->ndim, ts[i]->shape) || same_except(ts[ref], ts[i], *dim))
            continue;
        char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE,
                  "cat: tensor %d of shape %s does not match tensor %d of shape %s outside "
                  "dim %d",
                  i, tg__shape_str(bufa, sizeof bufa, ts[i]->ndim, ts[i]->shape), ref,
                  tg__shape_str(bufb, sizeof bufb, ts[ref]->ndim, ts[ref]->shape), *dim);
        return false;
    }
    return true;
}

static tg_tensor *concatenate(int n, tg_tensor *const *ts, int dim);

/* A node has at most TG_NODE_MAX_INPUTS inputs, so more inputs that need a
 * gradient are concatenated in groups first: a tree of CatBackward0 nodes,
 * one more copy of the data per level. The groups live in a pool of their
 * own (the tree's nodes keep what backward needs). */
static tg_tensor *cat_grouped(int n, tg_tensor *const *ts, int dim) {
    tg_pool *pool = tg_pool_push();
    if (!pool) return NULL;
    tg_tensor *parts[TG_NODE_MAX_INPUTS] = {NULL};
    bool ok = true;
    for (int k = 0, first = 0; ok && k < TG_NODE_MAX_INPUTS; k++) {
        int count = (n - first) / (TG_NODE_MAX_INPUTS - k);
        ok = (parts[k] = concatenate(count, ts + first, dim)) != NULL;
        first += count;
    }
    tg_tensor *out = ok ? tg_retain(concatenate(TG_NODE_MAX_INPUTS, parts, dim)) : NULL;
    tg_pool_pop(pool);
    return tg__autorelease(out);
}

/* The concatenation of checked inputs along a wrapped dim. */
static tg_tensor *concatenate(int n, tg_tensor *const *ts, int dim) {
    if (n > TG_NODE_MAX_INPUTS && tg__should_record(n, ts)) return cat_grouped(n, ts, dim);
    int ref = first_kept(n, ts);
    int ndim = 1;
    int64_t shape[TG_MAX_DIMS] = {0}; /* (0,) when all inputs are skipped */
    if (ref < n) {
        ndim = ts[ref]->ndim;
        memcpy(shape, ts[ref]->shape, sizeof shape);
        shape[dim] = 0;
        for (int i = ref; i < n; i++)
            if (!skipped_by_cat(ts[i]->ndim, ts[i]->shape) &&
                __builtin_add_overflow(shape[dim], ts[i]->shape[dim], &shape[dim])) {
                tg__error(TG_ERR_NOMEM, "cat: the sizes along dim %d add up to more than %lld", dim,
                          (long long)INT64_MAX);
                return NULL;
            }
    }
    tg_tensor *out = tg__new_owned("cat", ndim, shape, ts[0]->dtype);
    if (!out) return NULL;
    int64_t start = 0;
    for (int i = ref; i < n; i++) {
        if (skipped_by_cat(ts[i]->ndim, ts[i]->shape)) continue;
        if (!copy_into_narrowed("cat", out, dim, start, 1, ts[i])) {
            tg_release(out);
            return NULL;
        }
        start += ts[i]->shape[dim];
    }
    dim_state st = {dim};
    return tg__finish(out, &cat_def, n, ts, TG__STATE(&st));
}

tg_tensor *tg_cat(int n, tg_tensor *const *tensors, int dim) {
    if (!check_cat(n, tensors, &dim)) return NULL;
    return concatenate(n, tensors, dim);
}

/* ---- unsqueeze and squeeze --------------------------------------------------------- */

/* A size-1 dim at dim, with PyTorch's stride for it: the extent of the dim
 * after it, so that a contiguous tensor stays contiguous. */
static void insert_dim(geometry *g, int dim) {
    size_t after = (size_t)(g->ndim - dim);
    memmove(&g->shape[dim + 1], &g->shape[dim], after * sizeof g->shape[0]);
    memmove(&g->strides[dim + 1], &g->strides[dim], after * sizeof g->strides[0]);
    g->shape[dim] = 1;
    g->strides[dim] = dim < g->ndim ? g->shape[dim + 1] * g->strides[dim + 1] : 1;
    g->ndim++;
}

/* Drops every dim d whose bit (1 << d) is set in mask. */
static void remove_dims(geometry *g, int64_t mask) {
    int kept = 0;
    for (int d = 0; d < g->ndim; d++) {
        if (mask & ((int64_t)1 << d)) continue;
        g->shape[kept] = g->shape[d];
        g->strides[kept] = g->strides[d];
        kept++;
    }
    g->ndim = kept;
}

static int unsqueeze_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg_squeeze_dim(g, TG__NODE_STATE(node, dim_state)->dim);
    return gi[0] ? 0 : -1;
}
static const tg__op_def unsqueeze_def = {"UnsqueezeBackward0", unsqueeze_backward,
                                         "squeeze the gradient back"};

tg_tensor *tg_unsqueeze(tg_tensor *t, int dim) {
    if (!t) {
        tg__null_arg("unsqueeze");
        return NULL;
    }
    if (t->ndim == TG_MAX_DIMS) {
        tg__error(TG_ERR_SHAPE, "unsqueeze: a tensor of %d dims cannot gain one (at most %d)",
                  t->ndim, TG_MAX_DIMS);
        return NULL;
    }
    /* Not tg__wrap_dim: the range is one wider than t's dims. */
    if (dim < -t->ndim - 1 || dim > t->ndim) {
        tg__error(TG_ERR_VALUE, "unsqueeze: dim %d out of range for a %d-dim tensor (%d to %d)",
                  dim, t->ndim, -t->ndim - 1, t->ndim);
        return NULL;
    }
    if (dim < 0) dim += t->ndim + 1;
    geometry g = geometry_of(t);
    insert_dim(&g, dim);
    dim_state st = {dim};
    return make_view("unsqueeze", &unsqueeze_def, t, &g, TG__STATE(&st));
}

/* The dims a squeeze removed: bit d set for dim d. */
typedef struct squeeze_state {
    int64_t mask;
} squeeze_state;

/* Puts back the size-1 dims the forward removed. */
static int squeeze_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    int64_t mask = TG__NODE_STATE(node, squeeze_state)->mask;
    for (int d = 0; g && d < node->in_ndim[0]; d++)
        if (mask & ((int64_t)1 << d)) g = tg_unsqueeze(g, d);
    gi[0] = g;
    return g ? 0 : -1;
}
static const tg__op_def squeeze_def = {"SqueezeBackward0", squeeze_backward,
                                       "unsqueeze the gradient back"};
static const tg__op_def squeeze_dim_def = {"SqueezeBackward1", squeeze_backward,
                                           "unsqueeze the gradient back"};

static tg_tensor *squeeze_mask(const char *op, const tg__op_def *def, tg_tensor *t, int64_t mask) {
    geometry g = geometry_of(t);
    remove_dims(&g, mask);
    squeeze_state st = {mask};
    return make_view(op, def, t, &g, TG__STATE(&st));
}

tg_tensor *tg_squeeze(tg_tensor *t) {
    if (!t) {
        tg__null_arg("squeeze");
        return NULL;
    }
    int64_t mask = 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] == 1) mask |= (int64_t)1 << d;
    return squeeze_mask("squeeze", &squeeze_def, t, mask);
}

tg_tensor *tg_squeeze_dim(tg_tensor *t, int dim) {
    if (!t) {
        tg__null_arg("squeeze_dim");
        return NULL;
    }
    if (!tg__wrap_dim("squeeze_dim", &dim, t->ndim)) return NULL;
    /* A 0-dim tensor accepts dim 0 or -1 and stays as it is, as in PyTorch. */
    int64_t mask = t->ndim > 0 && t->shape[dim] == 1 ? (int64_t)1 << dim : 0;
    return squeeze_mask("squeeze_dim", &squeeze_dim_def, t, mask);
}

/* ---- expand ---------------------------------------------------------------------- */

static int expand_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg__sum_to(g, node->in_ndim[0], node->in_shape[0]);
    return gi[0] ? 0 : -1;
}
static const tg__op_def expand_def = {"ExpandBackward0", expand_backward,
                                      "sum the gradient over the expanded dims"};

/* Fills in dim i of the expanded geometry g, from the right, as PyTorch's
 * inferExpandGeometry: a new leading dim starts as size 1 with the stride
 * of a contiguous layout, and a dim stretched from size 1 gets stride 0. */
static bool expand_dim(const tg_tensor *t, int ndim, const int64_t *shape, int i, geometry *g) {
    int k = i - (ndim - t->ndim); /* t's dim, negative for a new one */
    int64_t size = 1, stride = 1;
    char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
    if (k >= 0) {
        size = t->shape[k], stride = t->strides[k];
    } else if (i + 1 < ndim &&
               __builtin_mul_overflow(g->shape[i + 1], g->strides[i + 1], &stride)) {
        tg__error(TG_ERR_NOMEM, "expand: shape %s is too large",
                  tg__shape_str(bufa, sizeof bufa, ndim, shape));
        return false;
    }
    int64_t want = shape[i] == -1 && k >= 0 ? size : shape[i];
    if (want < 0) {
        tg__error(TG_ERR_SHAPE,
                  "expand: size %lld at dim %d of %s is invalid (-1 keeps an existing dim only)",
                  (long long)shape[i], i, tg__shape_str(bufa, sizeof bufa, ndim, shape));
        return false;
    }
    if (want != size && size != 1) {
        tg__error(TG_ERR_SHAPE,
                  "expand: shape %s cannot be expanded to %s: size %lld must match the existing "
                  "size %lld at dim %d",
                  tg__shape_str(bufa, sizeof bufa, t->ndim, t->shape),
                  tg__shape_str(bufb, sizeof bufb, ndim, shape), (long long)want, (long long)size,
                  i);
        return false;
    }
    g->shape[i] = want;
    g->strides[i] = want != size ? 0 : stride;
    return true;
}

tg_tensor *tg_expand(tg_tensor *t, int ndim, const int64_t *shape) {
    if (!t || (ndim > 0 && !shape)) {
        tg__null_arg("expand");
        return NULL;
    }
    if (ndim < t->ndim || ndim > TG_MAX_DIMS) {
        tg__error(TG_ERR_SHAPE, "expand: %d sizes given for a %d-dim tensor (%d to %d allowed)",
                  ndim, t->ndim, t->ndim, TG_MAX_DIMS);
        return NULL;
    }
    geometry g = {.ndim = ndim, .offset = t->offset};
    for (int i = ndim - 1; i >= 0; i--)
        if (!expand_dim(t, ndim, shape, i, &g)) return NULL;
    return make_view("expand", &expand_def, t, &g, TG__NOTHING);
}
