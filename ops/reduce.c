/* ops/reduce.c - reductions: sum and mean over all elements or over chosen
 * dims, max along a dim, softmax and log_softmax; amax, amin, prod, var,
 * std, logsumexp and vector_norm over the slices of chosen dims. Sums
 * accumulate in double, and the reductions of slices compute in double. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "logsumexp.h"
#include "ops_internal.h"
#include "tapegrad/reduce.h"

/* ---- helpers -------------------------------------------------------------------- */

tg_tensor *tg__expand_view(tg_tensor *t, int ndim, const int64_t *shape) {
    int64_t strides[TG_MAX_DIMS];
    tg__broadcast_strides(t, ndim, shape, strides);
    return tg__autorelease(tg__view_owned("expand", t, ndim, shape, strides, t->offset));
}

/* ---- sum and mean over all elements ----------------------------------------------- */

static int sum_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg__expand_view(g, node->in_ndim[0], node->in_shape[0]);
    return gi[0] ? 0 : -1;
}
static const tg__op_def sum_def = {"SumBackward0", sum_backward, "d sum(x)/dx_i = 1"};

static int mean_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    int64_t numel = 1;
    for (int d = 0; d < node->in_ndim[0]; d++) numel *= node->in_shape[0][d];
    /* g / n, rounded to g's dtype as tg_div_scalar(g, n) rounds it, in
     * every element: written once, where an expanded view of it would take
     * its readers through the strided element loop. */
    double g0 = tg__load_elem(g->dtype, tg__ptr(g)), n = (double)numel, share = g0 / n;
    if (g->dtype == TG_F32) {
        float share_f32 = (float)g0 / (float)n;
        share = share_f32;
    }
    if (!(gi[0] = tg__new("mean", node->in_ndim[0], node->in_shape[0], g->dtype))) return -1;
    tg__fill(gi[0], share);
    return 0;
}
static const tg__op_def mean_def = {"MeanBackward0", mean_backward, "d mean(x)/dx_i = 1/n"};

static tg_tensor *reduce_dims(const char *op, const tg__op_def *def, tg_tensor *t, int n_dims,
                              const int *dims, bool keepdim, bool mean);

/* Integer and bool tensors sum exactly, to int64 (wrapping around past its
 * ends, as PyTorch's sums do); PyTorch refuses their mean. */
static bool check_reduce(const char *op, const tg_tensor *t, bool mean) {
    if (!t) {
        tg__null_arg(op);
        return false;
    }
    if (mean && !tg_dtype_is_float(t->dtype)) {
        tg__error(TG_ERR_DTYPE,
                  "%s: could not infer output dtype; the input must be floating-point, not %s "
                  "(convert with tg_to_dtype)",
                  op, tg_dtype_name(t->dtype));
        return false;
    }
    return true;
}

static tg_tensor *reduce_all(const char *op, const tg__op_def *def, tg_tensor *a, bool mean) {
    if (!check_reduce(op, a, mean)) return NULL;
    if (!tg_dtype_is_float(a->dtype)) /* over every dim, in int64 */
        return reduce_dims(op, def, a, 0, NULL, TG_DROP_DIMS, false);
    tg_tensor *out = tg__new_owned(op, 0, NULL, a->dtype);
    if (!out) return NULL;
    double total = tg__sum_all(a);
    tg__fill(out, mean ? total / (double)a->numel : total);
    return tg__finish(out, def, TG__TENSORS(a), TG__NOTHING);
}

tg_tensor *tg_sum(tg_tensor *a) { return reduce_all("sum", &sum_def, a, false); }
tg_tensor *tg_mean(tg_tensor *a) { return reduce_all("mean", &mean_def, a, true); }

/* ---- Reduced shapes: a set of dims as a bit mask ------------------------------------- */

/* The dims to reduce; n_dims == 0 means all of them, as torch's dim=[]. */
static bool dims_mask(const char *op, int ndim, int n_dims, const int *dims, unsigned *mask) {
    if (n_dims < 0) {
        tg__error(TG_ERR_VALUE, "%s: n_dims is %d, must not be negative", op, n_dims);
        return false;
    }
    if (n_dims > 0 && !dims) {
        tg__null_arg(op);
        return false;
    }
    *mask = n_dims == 0 ? (1u << ndim) - 1 : 0;
    for (int i = 0; i < n_dims; i++) {
        int d = dims[i];
        if (!tg__wrap_dim(op, &d, ndim)) return false;
        if (*mask >> d & 1) {
            tg__error(TG_ERR_VALUE, "%s: dim %d appears more than once in the list of dims", op, d);
            return false;
        }
        *mask |= 1u << d;
    }
    return true;
}

/* The shape of t reduced over mask: those dims removed, or kept as 1.
 * Returns its number of dims. */
static int reduced_shape(const tg_tensor *t, unsigned mask, bool keepdim, int64_t *shape) {
    int ndim = 0;
    for (int d = 0; d < t->ndim; d++)
        if (!(mask >> d & 1))
            shape[ndim++] = t->shape[d];
        else if (keepdim)
            shape[ndim++] = 1;
    return ndim;
}

/* Strides that read r, the reduction over mask of a tensor of ndim dims, in
 * that tensor's dims: 0 along the reduced dims, so one element of r stands
 * for the whole slice it was reduced from. */
static void strides_in_input(const tg_tensor *r, int ndim, unsigned mask, bool keepdim,
                             int64_t *strides) {
    for (int d = 0, k = 0; d < ndim; d++) {
        bool reduced = mask >> d & 1;
        strides[d] = reduced ? 0 : r->strides[k];
        if (!reduced || keepdim) k++;
    }
}

/* ---- sum and mean over dims ------------------------------------------------------------ */

typedef struct reduce_dims_state {
    unsigned mask; /* of the reduced dims */
    bool keepdim;
    double count; /* elements each result element summed */
} reduce_dims_state;

/* g, the gradient of the result, spread back over the input's shape (a view). */
static tg_tensor *expand_reduced(const tg__node *node, tg_tensor *g) {
    const reduce_dims_state *st = TG__NODE_STATE(node, reduce_dims_state);
    int64_t strides[TG_MAX_DIMS];
    strides_in_input(g, node->in_ndim[0], st->mask, st->keepdim, strides);
    return tg__autorelease(tg__view_owned(node->def->name, g, node->in_ndim[0], node->in_shape[0],
                                          strides, g->offset));
}

static int sum_dims_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = expand_reduced(node, g);
    return gi[0] ? 0 : -1;
}
static const tg__op_def sum_dims_def = {"SumBackward1", sum_dims_backward,
                                        "d sum(x)/dx_i = 1 along the summed dims"};

static int mean_dims_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    tg_tensor *scaled = tg_div_scalar(g, TG__NODE_STATE(node, reduce_dims_state)->count);
    gi[0] = scaled ? expand_reduced(node, scaled) : NULL;
    return gi[0] ? 0 : -1;
}
static const tg__op_def mean_dims_def = {"MeanBackward1", mean_dims_backward,
                                         "d mean(x)/dx_i = 1/n along the averaged dims"};

static tg_tensor *reduce_dims(const char *op, const tg__op_def *def, tg_tensor *t, int n_dims,
                              const int *dims, bool keepdim, bool mean) {
    if (!check_reduce(op, t, mean)) return NULL;
    unsigned mask;
    if (!dims_mask(op, t->ndim, n_dims, dims, &mask)) return NULL;
    int64_t shape[TG_MAX_DIMS], count = 1;
    int ndim = reduced_shape(t, mask, keepdim, shape);
    for (int d = 0; d < t->ndim; d++)
        if (mask >> d & 1) count *= t->shape[d];
    bool is_float = tg_dtype_is_float(t->dtype);
    tg_tensor *acc = tg__new_owned(op, ndim, shape, is_float ? TG_F64 : TG_I64);
    tg_tensor *out = acc ? tg__new_owned(op, ndim, shape, is_float ? t->dtype : TG_I64) : NULL;
    if (!out) {
        tg_release(acc);
        return NULL;
    }
    int64_t acc_strides[TG_MAX_DIMS];
    strides_in_input(acc, t->ndim, mask, keepdim, acc_strides);
    tg__fill(acc, 0.0);
    tg__accumulate_sum(acc, acc_strides, t);
    if (mean) { /* 0 / 0 gives NaN over an empty slice, as in torch */
        double *a = tg__ptr(acc);
        for (int64_t i = 0; i < acc->numel; i++) a[i] /= (double)count;
    }
    tg__copy_into(out, acc);
    tg_release(acc);
    reduce_dims_state st = {mask, keepdim, (double)count};
    return tg__finish(out, def, TG__TENSORS(t), TG__STATE(&st));
}

tg_tensor *tg_sum_dims(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim) {
    return reduce_dims("sum_dims", &sum_dims_def, t, n_dims, dims, keepdim, false);
}
tg_tensor *tg_mean_dims(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim) {
    return reduce_dims("mean_dims", &mean_dims_def, t, n_dims, dims, keepdim, true);
}

/* ---- Lanes: the 1-D slices of a tensor along one dim ------------------------------------
 * A lane kernel has the signature of a row kernel: fn(ptrs, strides along
 * the dim, length of the dim, ctx), called once per lane. */

typedef struct lane_run {
    tg__row_fn fn;
    void *ctx;
    int n;
    size_t size[3];
    int64_t stride[3]; /* along the dim, per operand */
    int64_t len;
} lane_run;

/* A row of the iterator is a row of lane starts. */
static void lane_row(char **p, const int64_t *s, int64_t n, void *ctx) {
    const lane_run *l = ctx;
    char *ptrs[3];
    for (int64_t i = 0; i < n; i++) {
        for (int o = 0; o < l->n; o++) ptrs[o] = p[o] + i * s[o] * (int64_t)l->size[o];
        l->fn(ptrs, l->stride, l->len, l->ctx);
    }
}

/* Runs fn once per lane along dim of ts[0]. The other operands (n <= 3 in
 * all) have ts[0]'s shape, or that shape reduced over dim, with or without
 * keepdim: a lane kernel reads or writes those once per lane. A lane may be
 * empty (n = 0): its kernel then gives the reduction of nothing. */
static void for_each_lane(int n, tg_tensor *const *ts, int dim, tg__row_fn fn, void *ctx) {
    const tg_tensor *x = ts[0];
    lane_run l = {fn, ctx, n, {0}, {0}, x->ndim ? x->shape[dim] : 1};
    int64_t shape[TG_MAX_DIMS], st[3][TG_MAX_DIMS];
    const int64_t *strides[3];
    char *base[3];
    memcpy(shape, x->shape, sizeof shape);
    if (x->ndim) shape[dim] = 1; /* the iterator visits lane starts */
    for (int o = 0; o < n; o++) {
        if (ts[o]->ndim == x->ndim)
            memcpy(st[o], ts[o]->strides, sizeof st[o]);
        else
            strides_in_input(ts[o], x->ndim, 1u << dim, false, st[o]);
        strides[o] = st[o];
        base[o] = tg__ptr(ts[o]);
        l.size[o] = tg_dtype_size(ts[o]->dtype);
        l.stride[o] = x->ndim ? st[o][dim] : 0;
    }
    tg__iter it;
    tg__iter_init(&it, x->ndim, shape, n, strides);
    tg__iter_run(&it, base, l.size, lane_row, &l);
}

/* ---- Slices: the reduced dims as one lane ------------------------------------------------
 * A reduction over a set of dims (mask) reads the slice behind each result
 * element as one lane: t as (kept dims..., n), the reduced dims merged into
 * the last, of n elements (1 for a 0-dim t). */

/* That form of t, owned: a view when the reduced dims step through memory
 * as one dim (a single dim always does), else a contiguous copy with the
 * reduced dims last. */
static tg_tensor *as_lanes(const char *op, tg_tensor *t, unsigned mask) {
    int64_t shape[TG_MAX_DIMS], strides[TG_MAX_DIMS], n = 1, step = 1;
    int order[TG_MAX_DIMS], k = 0, r = 0; /* the kept dims, then the reduced ones */
    bool merges = true, stepped = false;
    for (int d = 0; d < t->ndim; d++)
        if (!(mask >> d & 1)) {
            order[k] = d;
            shape[k] = t->shape[d];
            strides[k++] = t->strides[d];
        }
    for (int d = 0; d < t->ndim; d++) {
        if (!(mask >> d & 1)) continue;
        order[k + r++] = d;
        n *= t->shape[d];
        if (t->shape[d] == 1) continue;
        merges = merges && (!stepped || step == t->strides[d] * t->shape[d]);
        step = t->strides[d], stepped = true;
    }
    shape[k] = n;
    strides[k] = step;
    if (merges) return tg__view_owned(op, t, k + 1, shape, strides, t->offset);
    int64_t pshape[TG_MAX_DIMS], pstrides[TG_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        pshape[i] = t->shape[order[i]];
        pstrides[i] = t->strides[order[i]];
    }
    tg_tensor *permuted = tg__view_owned(op, t, t->ndim, pshape, pstrides, t->offset);
    tg_tensor *copy = permuted ? tg__contiguous_copy_owned(op, permuted) : NULL;
    tg_release(permuted);
    tg__contiguous_strides(k + 1, shape, strides);
    tg_tensor *lanes = copy ? tg__view_owned(op, copy, k + 1, shape, strides, 0) : NULL;
    tg_release(copy);
    return lanes;
}

/* A new tensor of (ndim, shape) whose slices over mask are contiguous, as
 * a pooled view in that shape; *lanes gets it in the lanes' form (owned).
 * NULL when out of memory. */
static tg_tensor *new_in_lanes(const char *op, int ndim, const int64_t *shape, unsigned mask,
                               tg_dtype dtype, tg_tensor **lanes) {
    int64_t lshape[TG_MAX_DIMS], strides[TG_MAX_DIMS], n = 1;
    int k = 0;
    for (int d = 0; d < ndim; d++)
        if (!(mask >> d & 1)) lshape[k++] = shape[d];
    for (int d = ndim - 1; d >= 0; d--)
        if (mask >> d & 1) {
            strides[d] = n;
            n *= shape[d];
        }
    lshape[k] = n;
    *lanes = tg__new_owned(op, k + 1, lshape, dtype);
    if (!*lanes) return NULL;
    for (int d = 0, j = 0; d < ndim; d++)
        if (!(mask >> d & 1)) strides[d] = (*lanes)->strides[j++];
    return tg__autorelease(tg__view_owned(op, *lanes, ndim, shape, strides, 0));
}

/* r, a reduction over mask of a tensor of ndim dims, with its kept dims
 * only (the reduced ones dropped, if keepdim kept them), owned: the form
 * of one value per lane. */
static tg_tensor *kept_dims(const char *op, tg_tensor *r, int ndim, unsigned mask, bool keepdim) {
    int64_t shape[TG_MAX_DIMS], strides[TG_MAX_DIMS];
    int k = 0;
    for (int d = 0, j = 0; d < ndim; d++) {
        bool reduced = mask >> d & 1;
        if (!reduced) {
            shape[k] = r->shape[j];
            strides[k++] = r->strides[j];
        }
        if (!reduced || keepdim) j++;
    }
    return tg__view_owned(op, r, k, shape, strides, r->offset);
}

/* ---- max and min along a dim, argmax and argmin -----------------------------------------
 * One scan finds each lane's extreme and its position (int64); the node of
 * max and min saves the positions and keeps the dim. */
enum { EXTREME_SAVED_POSITIONS };
typedef struct dim_state {
    int dim;
} dim_state;

#define GREATER(a, b) ((a) > (b))
#define LESS(a, b) ((a) < (b))
/* The extreme of the n >= 1 elements x[0], x[s], ... and its position. A
 * NaN (v != v, never true of an integer) wins and ends the scan, as torch
 * propagates it; ties keep the first position. */
#define EXTREME_SCAN(name, T, BETTER)                                     \
    static inline T name(const T *x, int64_t s, int64_t n, int64_t *at) { \
        T best = x[0];                                                    \
        *at = 0;                                                          \
        for (int64_t i = 1; i < n && best == best; i++) {                 \
            T v = x[i * s];                                               \
            if (BETTER(v, best) || v != v) {                              \
                best = v;                                                 \
                *at = i;                                                  \
            }                                                             \
        }                                                                 \
        return best;                                                      \
    }
/* Lane kernels: p[0] = x, p[1] = its extreme; max_dim's also write the
 * position to p[2], amax's not. */
#define EXTREME_LANES(sfx, T, KIND, BETTER)                                         \
    EXTREME_SCAN(KIND##_scan_##sfx, T, BETTER)                                      \
    static void KIND##_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {    \
        (void)ctx;                                                                  \
        *(T *)p[1] = KIND##_scan_##sfx((const T *)p[0], s[0], n, (int64_t *)p[2]);  \
    }                                                                               \
    static void a##KIND##_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) { \
        (void)ctx;                                                                  \
        int64_t at;                                                                 \
        *(T *)p[1] = KIND##_scan_##sfx((const T *)p[0], s[0], n, &at);              \
    }
#define EXTREMES(sfx, T) EXTREME_LANES(sfx, T, max, GREATER) EXTREME_LANES(sfx, T, min, LESS)
EXTREMES(f32, float)
EXTREMES(f64, double)
EXTREMES(i64, int64_t)
EXTREMES(u8, uint8_t)
static const tg__row_fn max_lanes[] = {max_f32, max_f64, max_i64, max_u8};
static const tg__row_fn min_lanes[] = {min_f32, min_f64, min_i64, min_u8};

/* p[0] = the input's gradient (zeros), p[1] = the result's, p[2] = position. */
#define SCATTER_LANE(name, T)                                            \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        (void)n, (void)ctx;                                              \
        ((T *)p[0])[*(const int64_t *)p[2] * s[0]] = *(const T *)p[1];   \
    }
SCATTER_LANE(scatter_f32, float)
SCATTER_LANE(scatter_f64, double)

static int extreme_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    static const tg__row_fn lanes[2] = {scatter_f32, scatter_f64};
    (void)needs;
    tg_tensor *grad = tg_zeros(node->in_ndim[0], node->in_shape[0], g->dtype);
    if (!grad) return -1;
    for_each_lane(3, (tg_tensor *[]){grad, g, node->saved[EXTREME_SAVED_POSITIONS]},
                  TG__NODE_STATE(node, dim_state)->dim, lanes[g->dtype], NULL);
    gi[0] = grad;
    return 0;
}
static const tg__op_def max_dim_def = {"MaxBackward0", extreme_backward,
                                       "1 at the position of the maximum, 0 elsewhere"};
static const tg__op_def min_dim_def = {"MinBackward0", extreme_backward,
                                       "1 at the position of the minimum, 0 elsewhere"};

/* False, with torch's words, when a reduced dim of t is empty: the
 * reductions without an identity (max, min) have nothing to give there. */
static bool check_nonempty(const char *op, const tg_tensor *t, unsigned mask) {
    for (int d = 0; d < t->ndim; d++)
        if ((mask >> d & 1) && t->shape[d] == 0) {
            char buf[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_SHAPE,
                      "%s: expected reduction dim %d to have non-zero size (shape %s)", op, d,
                      tg__shape_str(buf, sizeof buf, t->ndim, t->shape));
            return false;
        }
    return true;
}

/* The extremes of t along dim and their positions, both owned by the
 * caller; false (nothing made) on a bad argument or out of memory. */
static bool extremes(const char *op, const tg__row_fn *lanes, tg_tensor *t, int *dim,
                     tg_keepdim keepdim, tg_tensor **values, tg_tensor **positions) {
    if (!t) {
        tg__null_arg(op);
        return false;
    }
    if (!tg__wrap_dim(op, dim, t->ndim) || !check_nonempty(op, t, 1u << *dim)) return false;
    int64_t shape[TG_MAX_DIMS];
    int ndim = reduced_shape(t, 1u << *dim, keepdim, shape);
    *values = tg__new_owned(op, ndim, shape, t->dtype);
    *positions = *values ? tg__new_owned(op, ndim, shape, TG_I64) : NULL;
    if (!*positions) {
        tg_release(*values);
        return false;
    }
    for_each_lane(3, (tg_tensor *[]){t, *values, *positions}, *dim, lanes[t->dtype], NULL);
    return true;
}

static tg_tensor *extreme_dim(const char *op, const tg__op_def *def, const tg__row_fn *lanes,
                              tg_tensor *t, int dim, tg_keepdim keepdim, tg_tensor **indices) {
    tg_tensor *out, *at;
    if (indices) *indices = NULL;
    if (!extremes(op, lanes, t, &dim, keepdim, &out, &at)) return NULL;
    dim_state st = {dim};
    out = tg__finish(out, def, TG__TENSORS(t), TG__SAVE_STATE(&st, at));
    if (out && indices) *indices = tg__autorelease(tg_retain(at));
    tg_release(at);
    return out;
}

tg_tensor *tg_max_dim(tg_tensor *t, int dim, tg_keepdim keepdim, tg_tensor **indices) {
    return extreme_dim("max_dim", &max_dim_def, max_lanes, t, dim, keepdim, indices);
}
tg_tensor *tg_min_dim(tg_tensor *t, int dim, tg_keepdim keepdim, tg_tensor **indices) {
    return extreme_dim("min_dim", &min_dim_def, min_lanes, t, dim, keepdim, indices);
}

static tg_tensor *arg_extreme(const char *op, const tg__row_fn *lanes, tg_tensor *t, int dim,
                              tg_keepdim keepdim) {
    tg_tensor *values, *at;
    if (t && t->dtype == TG_BOOL) { /* PyTorch: "argmax_cpu" not implemented for 'Bool' */
        tg__error(TG_ERR_DTYPE, "%s: not implemented for bool (as in PyTorch)", op);
        return NULL;
    }
    if (!extremes(op, lanes, t, &dim, keepdim, &values, &at)) return NULL;
    tg_release(values);
    return tg__autorelease(at);
}

tg_tensor *tg_argmax(tg_tensor *t, int dim, tg_keepdim keepdim) {
    return arg_extreme("argmax", max_lanes, t, dim, keepdim);
}
tg_tensor *tg_argmin(tg_tensor *t, int dim, tg_keepdim keepdim) {
    return arg_extreme("argmin", min_lanes, t, dim, keepdim);
}

/* ---- Reductions of slices: amax, amin, prod, var, std, logsumexp, vector_norm ------------
 * Each reads the slice behind every result element as a lane (above) and
 * works in double, rounding once. Its forward lane kernel writes a lane's
 * result (p[0] = x, p[1] = the result); its backward one the gradient of a
 * lane's elements (p[0] = dx, p[1] = x, p[2] = the result's gradient),
 * recomputing in double from x what it needs (a maximum, a mean, a norm)
 * rather than reading the rounded result: the node saves x alone. */
typedef struct lane_ctx {
    double param;    /* var and std: the correction; vector_norm: ord */
    double *scratch; /* prod's backward: room for a lane's prefix products */
} lane_ctx;

#define X(i) ((double)x[(i)*sx])
#define SIGN(v) ((double)(((v) > 0) - ((v) < 0))) /* 0 at 0 and NaN, as torch.sgn */

/* (a / (r 2^e))^k, 0 < k < 1, from the mantissas and exponents of a and r, so that
 * neither the ratio (a denormal beside 1) nor the norm (above the largest double)
 * need be representable; 0 for a = 0. */
static inline double power_of_ratio(double a, double r, int e, double k) {
    int ea, er;
    double q = frexp(a, &ea) / frexp(r, &er), t = k * (double)(ea - er - e), whole = floor(t);
    return ldexp(pow(q, k) * exp2(t - whole), (int)whole);
}

/* The lane kernels of a float type, and the statistics they share. */
#define SLICE_LANES(sfx, T)                                                                        \
    /* var, std and vector_norm sum powers of a lane's elements (squares, |x|^ord), which     \
     * overflow or underflow in double near |x| = 2^(+-1000 / power) where the result does    \
     * not (torch's var of two equal values near the largest float64 is inf, its norm of     \
     * 1e200 inf). A lane whose largest |x| comes near that, 2^e, is read scaled by 2^-e:      \
     * that changes no digit but of elements too small to count beside it. Others, and      \
     * float32 lanes, are read as they are (e = 0). */    \
    static int scale_##sfx(const T *x, int64_t sx, int64_t n, double power) {                      \
        double m = 0;                                                                              \
        int e = 0;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            if (fabs(X(i)) > m || X(i) != X(i)) m = fabs(X(i));                                    \
        if (!isfinite(m) || m == 0) return 0;                                                      \
        frexp(m, &e);                                                                              \
        return fabs((double)e) * power > 900 ? e : 0;                                              \
    }                                                                                              \
    /* amax, amin: the gradient split evenly among the lane's extremes, as torch's; a lane   \
     * holding a NaN, which no element equals, gets NaN everywhere (g / 0 times 0) */     \
    static void extreme_share_##sfx(char **p, const int64_t *s, int64_t n, T best) {               \
        T *dx = (T *)p[0];                                                                         \
        const T *x = (const T *)p[1];                                                              \
        double count = 0;                                                                          \
        for (int64_t i = 0; i < n; i++) count += x[i * s[1]] == best;                              \
        double share = *(const T *)p[2] / count;                                                   \
        for (int64_t i = 0; i < n; i++) dx[i * s[0]] = (T)((x[i * s[1]] == best) * share);         \
    }                                                                                              \
    static void amax_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {            \
        int64_t at;                                                                                \
        (void)ctx;                                                                                 \
        extreme_share_##sfx(p, s, n, max_scan_##sfx((const T *)p[1], s[1], n, &at));               \
    }                                                                                              \
    static void amin_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {            \
        int64_t at;                                                                                \
        (void)ctx;                                                                                 \
        extreme_share_##sfx(p, s, n, min_scan_##sfx((const T *)p[1], s[1], n, &at));               \
    }                                                                                              \
                                                                                                   \
    static void prod_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {                     \
        const T *x = (const T *)p[0];                                                              \
        int64_t sx = s[0];                                                                         \
        double r = 1;                                                                              \
        (void)ctx;                                                                                 \
        for (int64_t i = 0; i < n; i++) r *= X(i);                                                 \
        *(T *)p[1] = (T)r;                                                                         \
    }                                                                                              \
    /* d prod/dx_i is the product of the others, a prefix times a suffix: right with zeros    \
     * (one gets it all when it is the only one, none when there are more) and with           \
     * infinities, where torch's prod / x_i is NaN */    \
    static void prod_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {            \
        double *prefix = ((const lane_ctx *)ctx)->scratch, r = 1, suffix = 1;                      \
        T *dx = (T *)p[0];                                                                         \
        const T *x = (const T *)p[1];                                                              \
        int64_t sx = s[1];                                                                         \
        double g = *(const T *)p[2];                                                               \
        for (int64_t i = 0; i < n; i++) {                                                          \
            prefix[i] = r;                                                                         \
            r *= X(i);                                                                             \
        }                                                                                          \
        for (int64_t i = n - 1; i >= 0; i--) {                                                     \
            dx[i * s[0]] = (T)(g * (prefix[i] * suffix));                                          \
            suffix *= X(i);                                                                        \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* The mean of a lane scaled by 2^-e and the sum of its squared deviations, two passes;    \
     * their variance over dof = max(0, n - correction): NaN or inf with no degrees of        \
     * freedom left, as torch's. */   \
    static double variance_##sfx(const T *x, int64_t sx, int64_t n, double correction, int e,      \
                                 double *mean, double *dof) {                                      \
        double sum = 0, squares = 0;                                                               \
        for (int64_t i = 0; i < n; i++) sum += ldexp(X(i), -e);                                    \
        *mean = sum / (double)n;                                                                   \
        for (int64_t i = 0; i < n; i++)                                                            \
            squares += (ldexp(X(i), -e) - *mean) * (ldexp(X(i), -e) - *mean);                      \
        *dof = fmax(0, (double)n - correction);                                                    \
        return squares / *dof;                                                                     \
    }                                                                                              \
    /* A lane's variance in its scale 2^-e (*e). */                                                \
    static double scaled_variance_##sfx(char **p, const int64_t *s, int64_t n, void *ctx,          \
                                        int *e) {                                                  \
        double mean, dof;                                                                          \
        *e = scale_##sfx((const T *)p[0], s[0], n, 2);                                             \
        return variance_##sfx((const T *)p[0], s[0], n, ((const lane_ctx *)ctx)->param, *e, &mean, \
                              &dof);                                                               \
    }                                                                                              \
    static void var_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {                      \
        int e;                                                                                     \
        double v = scaled_variance_##sfx(p, s, n, ctx, &e);                                        \
        *(T *)p[1] = (T)ldexp(v, 2 * e);                                                           \
    }                                                                                              \
    static void std_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {                      \
        int e;                                                                                     \
        double v = scaled_variance_##sfx(p, s, n, ctx, &e);                                        \
        *(T *)p[1] = (T)ldexp(sqrt(v), e);                                                         \
    }                                                                                              \
    /* dvar/dx_i = 2 (x_i - mean) / dof; dstd/dx_i = that / (2 std), 0 where std = 0; in      \
     * torch's order, std's in the lane's scale, which it does not depend on */    \
    static void var_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {             \
        const T *x = (const T *)p[1];                                                              \
        int64_t sx = s[1];                                                                         \
        double mean, dof, g = *(const T *)p[2];                                                    \
        int e = scale_##sfx(x, sx, n, 2);                                                          \
        variance_##sfx(x, sx, n, ((const lane_ctx *)ctx)->param, e, &mean, &dof);                  \
        for (int64_t i = 0; i < n; i++)                                                            \
            ((T *)p[0])[i * s[0]] = (T)ldexp(2 / dof * g * (ldexp(X(i), -e) - mean), e);           \
    }                                                                                              \
    static void std_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {             \
        const T *x = (const T *)p[1];                                                              \
        int64_t sx = s[1];                                                                         \
        double mean, dof, g = *(const T *)p[2];                                                    \
        int e = scale_##sfx(x, sx, n, 2);                                                          \
        double sd = sqrt(                                                                          \
            variance_##sfx(x, sx, n, ((const lane_ctx *)ctx)->param, e, &mean, &dof));             \
        double g_var = sd == 0 ? 0 : g / (2 * sd);                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            ((T *)p[0])[i * s[0]] = (T)(2 / dof * g_var * (ldexp(X(i), -e) - mean));               \
    }                                                                                              \
                                                                                                   \
    /* log(sum(exp(x))) = m + log(sum(exp(x - m))), m the largest element (0 where it is    \
     * infinite, as torch's, so that inf - inf never arises; NaN if the lane holds one). */      \
    static double lse_##sfx(const T *x, int64_t sx, int64_t n) {                                   \
        double m = -INFINITY, sum = 0;                                                             \
        for (int64_t i = 0; i < n; i++)                                                            \
            if (X(i) > m || X(i) != X(i)) m = X(i);                                                \
        if (isinf(m)) m = 0;                                                                       \
        for (int64_t i = 0; i < n; i++) sum += exp(X(i) - m);                                      \
        return log(sum) + m;                                                                       \
    }                                                                                              \
    static void logsumexp_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {                \
        (void)ctx;                                                                                 \
        *(T *)p[1] = (T)lse_##sfx((const T *)p[0], s[0], n);                                       \
    }                                                                                              \
    /* d lse/dx_i = exp(x_i - lse), softmax */                                                     \
    static void logsumexp_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {       \
        const T *x = (const T *)p[1];                                                              \
        int64_t sx = s[1];                                                                         \
        double r = lse_##sfx(x, sx, n), g = *(const T *)p[2];                                      \
        (void)ctx;                                                                                 \
        for (int64_t i = 0; i < n; i++) ((T *)p[0])[i * s[0]] = (T)(g * exp(X(i) - r));            \
    }                                                                                              \
                                                                                                   \
    /* The ord-norm of a lane in its scale 2^-e, (sum |x|^ord)^(1 / ord); the inf-norms are   \
     * the largest and the smallest |x| (NaN if any is). */    \
    static double norm_##sfx(const T *x, int64_t sx, int64_t n, double ord, int e) {               \
        double m = ord == -INFINITY ? INFINITY : 0, sum = 0;                                       \
        if (isinf(ord)) {                                                                          \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double a = fabs(X(i));                                                             \
                if ((ord < 0 ? a < m : a > m) || a != a) m = a;                                    \
            }                                                                                      \
            return m;                                                                              \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double a = fabs(ldexp(X(i), -e));                                                      \
            sum += ord == 1 ? a : ord == 2 ? a * a : pow(a, ord);                                  \
        }                                                                                          \
        return ord == 1 ? sum : ord == 2 ? sqrt(sum) : pow(sum, 1 / ord);                          \
    }                                                                                              \
    /* A lane's scale for the ord-norm: the sums of ord 1 and 2 as they need it; those of     \
     * other ords always, whose root amplifies the sum's rounding with its size; none for    \
     * the inf-norms. */    \
    static int norm_scale_##sfx(const T *x, int64_t sx, int64_t n, double ord) {                   \
        return scale_##sfx(x, sx, n, ord == 1 || ord == 2 ? ord : isinf(ord) ? 0 : INFINITY);      \
    }                                                                                              \
    static void vector_norm_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {              \
        const T *x = (const T *)p[0];                                                              \
        double ord = ((const lane_ctx *)ctx)->param;                                               \
        int e = norm_scale_##sfx(x, s[0], n, ord);                                                 \
        *(T *)p[1] = (T)ldexp(norm_##sfx(x, s[0], n, ord, e), e);                                  \
    }                                                                                              \
    /* d norm/dx_i: sign(x_i) for ord 1; for +-inf, sign(x_i) split evenly among the          \
     * elements whose |x| is the norm (or NaN), as torch's; else sign(x_i) (|x_i| /          \
     * norm)^(ord - 1), 0 where the norm is 0, in torch's three forms (so with its signs of   \
     * zero): below 2, 2, above; in the lane's scale, which they do not depend on, but for    \
     * ords below 2: there (|x_i| / norm)^(ord - 1) is larger than the ratio, which may       \
     * underflow (x_i denormal) where it does not, and is taken by mantissas and exponents. */    \
    static void vector_norm_backward_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {     \
        const T *x = (const T *)p[1];                                                              \
        T *dx = (T *)p[0];                                                                         \
        int64_t sx = s[1];                                                                         \
        double ord = ((const lane_ctx *)ctx)->param, g = *(const T *)p[2];                         \
        int e = norm_scale_##sfx(x, sx, n, ord);                                                   \
        double r = norm_##sfx(x, sx, n, ord, e), count = 0;                                        \
        for (int64_t i = 0; isinf(ord) && i < n; i++) count += fabs(X(i)) == r || X(i) != X(i);    \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double v = ldexp(X(i), -e), d;                                                         \
            if (ord == 1)                                                                          \
                d = SIGN(X(i)) * g;                                                                \
            else if (isinf(ord))                                                                   \
                d = SIGN(X(i)) * (g / count * (fabs(X(i)) == r || X(i) != X(i)));                  \
            else if (ord == 2)                                                                     \
                d = g * (r == 0 ? 0 : v / r);                                                      \
            else if (ord < 2)                                                                      \
                d = r == 0 ? 0 : SIGN(X(i)) * power_of_ratio(fabs(X(i)), r, e, ord - 1) * g;       \
            else                                                                                   \
                d = r == 0 ? v * 0 : v / r * pow(fabs(v) / r, ord - 2) * g;                        \
            dx[i * s[0]] = (T)d;                                                                   \
        }                                                                                          \
    }

SLICE_LANES(f32, float)
SLICE_LANES(f64, double)

typedef struct slice_op {
    tg__op_def node; /* first: the node's def leads back to the op */
    const char *name;
    tg__row_fn forward[TG__N_DTYPES]; /* by dtype; NULL for one the op refuses */
    tg__row_fn backward[2];
    bool scratch; /* its backward needs a lane of doubles (lane_ctx) */
} slice_op;

typedef struct slice_state {
    unsigned mask;
    bool keepdim;
    double param;
} slice_state;
enum { SLICE_SAVED_X };

static int slice_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const slice_op *op = TG__OP_OF(node, slice_op);
    const slice_state *st = TG__NODE_STATE(node, slice_state);
    tg_tensor *x = node->saved[SLICE_SAVED_X], *dx_lanes = NULL;
    tg_tensor *x_lanes = as_lanes(op->name, x, st->mask);
    tg_tensor *g_kept = x_lanes ? kept_dims(op->name, g, x->ndim, st->mask, st->keepdim) : NULL;
    gi[0] = g_kept ? new_in_lanes(op->name, x->ndim, x->shape, st->mask, x->dtype, &dx_lanes)
                   : NULL;
    int lane = x_lanes ? x_lanes->ndim - 1 : 0;
    lane_ctx ctx = {st->param, NULL};
    if (gi[0] && op->scratch)
        ctx.scratch = tg__alloc(sizeof(double) * (size_t)(x_lanes->shape[lane] + 1), op->name);
    bool ok = gi[0] && (!op->scratch || ctx.scratch);
    if (ok)
        for_each_lane(3, (tg_tensor *[]){dx_lanes, x_lanes, g_kept}, lane, op->backward[x->dtype],
                      &ctx);
    tg__free(ctx.scratch);
    tg_release(dx_lanes);
    tg_release(g_kept);
    tg_release(x_lanes);
    return ok ? 0 : -1;
}

/* op over the dims of mask of t (checked: non-NULL, of a dtype op takes), with param. */
static tg_tensor *reduce_slices(const slice_op *op, tg_tensor *t, unsigned mask, tg_keepdim keepdim,
                                double param) {
    int64_t shape[TG_MAX_DIMS];
    int ndim = reduced_shape(t, mask, keepdim, shape);
    tg_tensor *out = tg__new_owned(op->name, ndim, shape, t->dtype);
    tg_tensor *lanes = out ? as_lanes(op->name, t, mask) : NULL;
    tg_tensor *kept = lanes ? kept_dims(op->name, out, t->ndim, mask, keepdim) : NULL;
    if (kept)
        for_each_lane(2, (tg_tensor *[]){lanes, kept}, lanes->ndim - 1, op->forward[t->dtype],
                      &(lane_ctx){param, NULL});
    tg_release(kept);
    tg_release(lanes);
    if (!kept) {
        tg_release(out);
        return NULL;
    }
    slice_state st = {mask, keepdim, param};
    return tg__finish(out, &op->node, TG__TENSORS(t), TG__SAVE_STATE(&st, t));
}

/* The checks every reduction of slices makes: t non-NULL and of a dtype op
 * takes, the dims; their mask in *mask. */
static bool check_slices(const slice_op *op, const tg_tensor *t, int n_dims, const int *dims,
                         unsigned *mask) {
    if (!t) {
        tg__null_arg(op->name);
        return false;
    }
    if (!op->forward[t->dtype] && !tg__check_float(op->name, t)) return false;
    return dims_mask(op->name, t->ndim, n_dims, dims, mask);
}

#define SLICE_OP(var, name, kernels, node_name, local, scratch, ...)               \
    static const slice_op var = {{node_name, slice_backward, local},               \
                                 name,                                             \
                                 {__VA_ARGS__},                                    \
                                 {kernels##_backward_f32, kernels##_backward_f64}, \
                                 scratch}
SLICE_OP(amax_op, "amax", amax, "AmaxBackward0",
         "1 / (number of maxima) at each maximum of the slice, 0 elsewhere", false, amax_f32,
         amax_f64, amax_i64, amax_u8);
SLICE_OP(amin_op, "amin", amin, "AminBackward0",
         "1 / (number of minima) at each minimum of the slice, 0 elsewhere", false, amin_f32,
         amin_f64, amin_i64, amin_u8);
SLICE_OP(prod_op, "prod", prod, "ProdBackward0", "d prod(x)/dx_i = the product of the others", true,
         prod_f32, prod_f64);
SLICE_OP(prod_dim_op, "prod_dim", prod, "ProdBackward1",
         "d prod(x)/dx_i = the product of the others along the dim", true, prod_f32, prod_f64);
SLICE_OP(var_op, "var", var, "VarBackward0", "d var(x)/dx_i = 2 (x_i - mean) / (n - correction)",
         false, var_f32, var_f64);
SLICE_OP(std_op, "std", std, "StdBackward0",
         "d std(x)/dx_i = (x_i - mean) / ((n - correction) std), 0 where std = 0", false, std_f32,
         std_f64);
SLICE_OP(logsumexp_op, "logsumexp", logsumexp, "LogsumexpBackward0",
         "d logsumexp(x)/dx_i = exp(x_i - logsumexp(x)) = softmax(x)_i", false, logsumexp_f32,
         logsumexp_f64);
SLICE_OP(vector_norm_op, "vector_norm", vector_norm, "LinalgVectorNormBackward0",
         "d |x|_p/dx_i = sign(x_i) (|x_i| / |x|_p)^(p - 1), 0 at x = 0", false, vector_norm_f32,
         vector_norm_f64);

tg_tensor *tg_amax(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim) {
    unsigned mask;
    if (!check_slices(&amax_op, t, n_dims, dims, &mask) || !check_nonempty("amax", t, mask))
        return NULL;
    return reduce_slices(&amax_op, t, mask, keepdim, 0);
}
tg_tensor *tg_amin(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim) {
    unsigned mask;
    if (!check_slices(&amin_op, t, n_dims, dims, &mask) || !check_nonempty("amin", t, mask))
        return NULL;
    return reduce_slices(&amin_op, t, mask, keepdim, 0);
}

tg_tensor *tg_prod(tg_tensor *t) {
    unsigned mask;
    if (!check_slices(&prod_op, t, 0, NULL, &mask)) return NULL;
    return reduce_slices(&prod_op, t, mask, TG_DROP_DIMS, 0);
}
tg_tensor *tg_prod_dim(tg_tensor *t, int dim, tg_keepdim keepdim) {
    unsigned mask;
    if (!check_slices(&prod_dim_op, t, 1, &dim, &mask)) return NULL;
    return reduce_slices(&prod_dim_op, t, mask, keepdim, 0);
}

/* var and std: a correction beyond a slice's elements is refused (torch
 * divides by max(0, n - correction) = 0 there and gives inf); n -
 * correction = 0 gives inf or NaN, as torch's, and so does an empty slice. */
static tg_tensor *variance(const slice_op *op, tg_tensor *t, int n_dims, const int *dims,
                           int64_t correction, tg_keepdim keepdim) {
    unsigned mask;
    if (!check_slices(op, t, n_dims, dims, &mask)) return NULL;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        if (mask >> d & 1) n *= t->shape[d];
    if (n > 0 && correction > n) {
        tg__error(TG_ERR_VALUE,
                  "%s: correction %lld exceeds the %lld elements of each slice (it is at most the "
                  "number of elements)",
                  op->name, (long long)correction, (long long)n);
        return NULL;
    }
    return reduce_slices(op, t, mask, keepdim, (double)correction);
}
tg_tensor *tg_var(tg_tensor *t, int n_dims, const int *dims, int64_t correction,
                  tg_keepdim keepdim) {
    return variance(&var_op, t, n_dims, dims, correction, keepdim);
}
tg_tensor *tg_std(tg_tensor *t, int n_dims, const int *dims, int64_t correction,
                  tg_keepdim keepdim) {
    return variance(&std_op, t, n_dims, dims, correction, keepdim);
}

tg_tensor *tg_logsumexp(tg_tensor *t, int n_dims, const int *dims, tg_keepdim keepdim) {
    unsigned mask;
    if (!check_slices(&logsumexp_op, t, n_dims, dims, &mask)) return NULL;
    return reduce_slices(&logsumexp_op, t, mask, keepdim, 0);
}

/* ord < 1 is refused: no norm (torch takes it). The inf-norms have no
 * identity: an empty slice is refused, with torch's words. */
tg_tensor *tg_vector_norm(tg_tensor *t, double ord, int n_dims, const int *dims,
                          tg_keepdim keepdim) {
    const char *op = vector_norm_op.name;
    unsigned mask;
    if (!check_slices(&vector_norm_op, t, n_dims, dims, &mask)) return NULL;
    if (!(ord >= 1 || ord == -INFINITY)) {
        tg__error(TG_ERR_VALUE, "%s: ord must be at least 1, inf or -inf, got %g", op, ord);
        return NULL;
    }
    for (int d = 0; isinf(ord) && d < t->ndim; d++)
        if ((mask >> d & 1) && t->shape[d] == 0) {
            tg__error(TG_ERR_SHAPE,
                      "%s: cannot compute the %g norm on dim %d because it is empty and the "
                      "operation does not have an identity",
                      op, ord, d);
            return NULL;
        }
    return reduce_slices(&vector_norm_op, t, mask, keepdim, ord);
}

/* ---- softmax and log_softmax ----------------------------------------------------------------
 * Both subtract the lane's maximum before exp (ops/logsumexp.h) and work in
 * double. Their backward needs only the output y, which the node saves:
 *   softmax:      dx = y (g - sum(g y))
 *   log_softmax:  dx = g - exp(y) sum(g)                                      */

/* p[0] = x, p[1] = y = F, F in terms of d = x - max and st.sum = sum(exp(d)). */
#define SOFTMAX_LANE(name, T, STATS, F)                                  \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        (void)ctx;                                                       \
        const T *x = (const T *)p[0];                                    \
        T *y = (T *)p[1];                                                \
        tg__softmax_stats st = STATS(x, s[0], n);                        \
        for (int64_t i = 0; i < n; i++) {                                \
            double d = (double)x[i * s[0]] - st.max;                     \
            y[i * s[1]] = (T)(F);                                        \
        }                                                                \
    }

/* p[0] = dx = G, p[1] = g, p[2] = y; G in terms of g, y and r = sum(R). */
#define SOFTMAX_BACKWARD_LANE(name, T, R, G)                             \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        (void)ctx;                                                       \
        T *dx = (T *)p[0];                                               \
        const T *gs = (const T *)p[1], *ys = (const T *)p[2];            \
        double r = 0;                                                    \
        for (int64_t i = 0; i < n; i++) {                                \
            double g = gs[i * s[1]], y = ys[i * s[2]];                   \
            (void)y;                                                     \
            r += (R);                                                    \
        }                                                                \
        for (int64_t i = 0; i < n; i++) {                                \
            double g = gs[i * s[1]], y = ys[i * s[2]];                   \
            dx[i * s[0]] = (T)(G);                                       \
        }                                                                \
    }

#define SOFTMAX_LANES(op, F, R, G)                           \
    SOFTMAX_LANE(op##_f32, float, tg__softmax_stats_f32, F)  \
    SOFTMAX_LANE(op##_f64, double, tg__softmax_stats_f64, F) \
    SOFTMAX_BACKWARD_LANE(op##_backward_f32, float, R, G)    \
    SOFTMAX_BACKWARD_LANE(op##_backward_f64, double, R, G)

SOFTMAX_LANES(softmax, exp(d) / st.sum, g *y, y *(g - r))
SOFTMAX_LANES(log_softmax, d - log(st.sum), g, g - exp(y) * r)

typedef struct softmax_kind {
    tg__op_def node; /* first: the node's def leads back to the op */
    const char *name;
    tg__row_fn forward[2], backward[2];
} softmax_kind;
enum { SOFTMAX_SAVED_Y };

static int softmax_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs);

static const softmax_kind softmax_op = {
    {"SoftmaxBackward0", softmax_backward, "dy_i/dx_j = y_i ([i = j] - y_j)"},
    "softmax",
    {softmax_f32, softmax_f64},
    {softmax_backward_f32, softmax_backward_f64}};
static const softmax_kind log_softmax_op = {
    {"LogSoftmaxBackward0", softmax_backward, "dy_i/dx_j = [i = j] - softmax(x)_j"},
    "log_softmax",
    {log_softmax_f32, log_softmax_f64},
    {log_softmax_backward_f32, log_softmax_backward_f64}};

static int softmax_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const softmax_kind *op = TG__OP_OF(node, softmax_kind);
    tg_tensor *dx = tg__new(op->name, node->in_ndim[0], node->in_shape[0], g->dtype);
    if (!dx) return -1;
    for_each_lane(3, (tg_tensor *[]){dx, g, node->saved[SOFTMAX_SAVED_Y]},
                  TG__NODE_STATE(node, dim_state)->dim, op->backward[g->dtype], NULL);
    gi[0] = dx;
    return 0;
}

static tg_tensor *run_softmax(const softmax_kind *op, tg_tensor *x, int dim) {
    if (!tg__check_float(op->name, x)) return NULL;
    if (!tg__wrap_dim(op->name, &dim, x->ndim)) return NULL;
    tg_tensor *out = tg__new_owned(op->name, x->ndim, x->shape, x->dtype);
    if (!out) return NULL;
    for_each_lane(2, (tg_tensor *[]){x, out}, dim, op->forward[x->dtype], NULL);
    dim_state st = {dim};
    return tg__finish(out, &op->node, TG__TENSORS(x), TG__SAVE_STATE(&st, out));
}

tg_tensor *tg_softmax(tg_tensor *t, int dim) { return run_softmax(&softmax_op, t, dim); }
tg_tensor *tg_log_softmax(tg_tensor *t, int dim) { return run_softmax(&log_softmax_op, t, dim); }
