/* ops/reduce.c - reductions: sum and mean over all elements or over chosen
 * dims, max along a dim, softmax and log_softmax, and the sum that undoes
 * broadcasting in the backward of binary ops. Sums accumulate in double. */
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
    tg_tensor *scaled = tg_div_scalar(g, (double)numel);
    gi[0] = scaled ? tg__expand_view(scaled, node->in_ndim[0], node->in_shape[0]) : NULL;
    return gi[0] ? 0 : -1;
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
 * keepdim: a lane kernel reads or writes those once per lane. */
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
    if (l.len == 0) return;
    tg__iter it;
    tg__iter_init(&it, x->ndim, shape, n, strides);
    tg__iter_run(&it, base, l.size, lane_row, &l);
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
/* p[0] = x, p[1] = its extreme, p[2] = the extreme's position. A NaN (v !=
 * v, never true of an integer) wins and ends the scan, as torch propagates
 * it; ties keep the first position. */
#define EXTREME_LANE(name, T, BETTER)                                    \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        (void)ctx;                                                       \
        const T *x = (const T *)p[0];                                    \
        T best = x[0];                                                   \
        int64_t at = 0;                                                  \
        for (int64_t i = 1; i < n && best == best; i++) {                \
            T v = x[i * s[0]];                                           \
            if (BETTER(v, best) || v != v) {                             \
                best = v;                                                \
                at = i;                                                  \
            }                                                            \
        }                                                                \
        *(T *)p[1] = best;                                               \
        *(int64_t *)p[2] = at;                                           \
    }
EXTREME_LANE(max_f32, float, GREATER)
EXTREME_LANE(max_f64, double, GREATER)
EXTREME_LANE(max_i64, int64_t, GREATER)
EXTREME_LANE(min_f32, float, LESS)
EXTREME_LANE(min_f64, double, LESS)
EXTREME_LANE(min_i64, int64_t, LESS)
EXTREME_LANE(max_bool, uint8_t, GREATER)
EXTREME_LANE(min_bool, uint8_t, LESS)
static const tg__row_fn max_lanes[] = {max_f32, max_f64, max_i64, max_bool};
static const tg__row_fn min_lanes[] = {min_f32, min_f64, min_i64, min_bool};

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

/* The extremes of t along dim and their positions, both owned by the
 * caller; false (nothing made) on a bad argument or out of memory. */
static bool extremes(const char *op, const tg__row_fn *lanes, tg_tensor *t, int *dim,
                     tg_keepdim keepdim, tg_tensor **values, tg_tensor **positions) {
    if (!t) {
        tg__null_arg(op);
        return false;
    }
    if (!tg__wrap_dim(op, dim, t->ndim)) return false;
    if (t->ndim && t->shape[*dim] == 0) {
        char buf[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: expected reduction dim %d to have non-zero size (shape %s)",
                  op, *dim, tg__shape_str(buf, sizeof buf, t->ndim, t->shape));
        return false;
    }
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
