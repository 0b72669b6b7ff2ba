/* ops/norm.c - layer_norm and rms_norm (tapegrad/norm.h): one kernel that
 * goes over the rows forward and one backward, each row read in a few
 * passes while it is in cache, no tensor made in between; the statistics
 * in double.
 *
 * A row is the block of normalized elements of x (layer_norm: its last k
 * dims; rms_norm: its last dim), n of them. With xhat = (x - mean) rstd,
 * gw = g weight and means over the row:
 *   layer_norm:  mean = mean(x), rstd = 1 / sqrt(mean((x - mean)^2) + eps)
 *                y = xhat weight + bias
 *                dx = rstd (gw - mean(gw) - xhat mean(gw xhat))
 *   rms_norm:    mean = 0,       rstd = 1 / sqrt(mean(x^2) + eps)
 *                y = xhat weight
 *                dx = rstd (gw - xhat mean(gw xhat))
 *   both:        dweight = sum over rows of g xhat, dbias = sum of g.
 * The node keeps x, weight and each row's mean and rstd as float64. PyTorch
 * writes layer_norm's dx as rstd gw + b x + c, with b and c made of the same
 * sums: b x + c cancels in a row far from zero, xhat does not. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops_internal.h"
#include "tapegrad/norm.h"

/* ---- Rows as strided runs ---------------------------------------------------------------- */

/* True when the last k dims of t are one run of elements `*stride` apart
 * (dims of size 1 aside), as they are in a contiguous tensor, a transposed
 * one normalized over one dim, a slice with a step, an expanded gradient. */
static bool row_stride(const tg_tensor *t, int k, int64_t *stride) {
    int64_t span = 1;
    bool found = false;
    *stride = 1;
    for (int d = t->ndim - 1; d >= t->ndim - k; d--) {
        if (t->shape[d] == 1) continue;
        if (!found)
            *stride = t->strides[d], found = true;
        else if (t->strides[d] != *stride * span)
            return false;
        span *= t->shape[d];
    }
    return true;
}

/* t itself when its rows are runs, else a contiguous copy of it; *copy is
 * what to release afterwards (NULL for t itself). NULL when out of memory. */
static tg_tensor *as_rows(const char *op, tg_tensor *t, int k, int64_t *stride, tg_tensor **copy) {
    *copy = NULL;
    if (row_stride(t, k, stride)) return t;
    *copy = tg__contiguous_copy_owned(op, t);
    *stride = 1;
    return *copy;
}

/* ---- Kernels ------------------------------------------------------------------------------ */

/* What a row kernel reads besides its operands. */
typedef struct norm_run {
    int64_t n;           /* elements in a row */
    int64_t stride[2];   /* along a row: x, then g (backward) */
    const double *w, *b; /* n each: weight (ones when none), bias (zeros) */
    double eps;          /* forward */
    bool centered;       /* layer_norm: subtract the mean, add the bias */
    double *dw, *db;     /* backward: n sums each, or NULL when not wanted */
    bool want_dx;        /* backward: operand 2 is dx (else x again, not written) */
    size_t size[4];      /* element sizes of the operands */
} norm_run;

/* The sums of d = x - shift and of d^2 over a row, in double, in 8 lanes
 * added in a fixed order: the same bits on every CPU, and a loop the
 * compiler vectorises. */
#define LANES 8
#define LANE_TOTAL(a) (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])))
#define ROW_MOMENTS(name, T)                                                                \
    static TG_ALWAYS_INLINE tg__pair name(const T *x, int64_t s, int64_t n, double shift) { \
        double s1[LANES] = {0}, s2[LANES] = {0}, t1 = 0, t2 = 0;                            \
        int64_t j = 0;                                                                      \
        for (; j + LANES <= n; j += LANES)                                                  \
            for (int k = 0; k < LANES; k++) {                                               \
                double d = (double)x[(j + k) * s] - shift;                                  \
                s1[k] += d;                                                                 \
                s2[k] += d * d;                                                             \
            }                                                                               \
        for (; j < n; j++) {                                                                \
            double d = (double)x[j * s] - shift;                                            \
            t1 += d;                                                                        \
            t2 += d * d;                                                                    \
        }                                                                                   \
        return TG_PAIR(LANE_TOTAL(s1) + t1, LANE_TOTAL(s2) + t2);                           \
    }

/* 1 / sqrt(var + eps) of a row whose sum of squares overflows double
 * though its deviations from the mean are finite (float64 values beyond
 * 1e154): the deviations divided by the largest of them first. An
 * infinite one (rms_norm's mean is 0 whatever x holds) keeps rstd 0. */
#define SCALED_RSTD(name, T)                                                                 \
    static double name(const T *x, int64_t xs, int64_t n, double m, double lo, double eps) { \
        double s = 0, sum = 0;                                                               \
        for (int64_t j = 0; j < n; j++) s = fmax(s, fabs(((double)x[j * xs] - m) - lo));     \
        if (isinf(s)) return 0;                                                              \
        for (int64_t j = 0; j < n; j++) {                                                    \
            double d = (((double)x[j * xs] - m) - lo) / s;                                   \
            sum += d * d;                                                                    \
        }                                                                                    \
        return 1 / (s * sqrt(sum / (double)n + eps / s / s));                                \
    }

/* One row forward: x (stride xs) into y (contiguous); its statistics into
 * st. The mean is kept as a sum of two doubles, the rounded mean m and
 * the mean of x - m (the corrected two-pass algorithm): x - m is exact
 * where x is near m, so xhat = ((x - m) - lo) rstd is accurate to the last
 * bits even in a row far from zero, where (x - mean) with mean rounded
 * once would lose log2(|mean| / std) of them. */
enum { ST_MEAN, ST_MEAN_LO, ST_RSTD, ST_N };
#define FORWARD_ROW(name, T, MOMENTS, SCALED)                                                    \
    static TG_ALWAYS_INLINE void name(const T *x, int64_t xs, T *y, double *st,                  \
                                      const norm_run *r) {                                       \
        int64_t n = r->n;                                                                        \
        double m = r->centered ? MOMENTS(x, xs, n, 0).first / (double)n : 0;                     \
        tg__pair d = MOMENTS(x, xs, n, m);                                                       \
        double lo = r->centered ? d.first / (double)n : 0;                                       \
        double var = (r->centered ? d.second - d.first * lo : d.second) / (double)n;             \
        double rstd = 1 / sqrt(var + r->eps);                                                    \
        if (d.second == INFINITY && isfinite(m) && isfinite(lo))                                 \
            rstd = SCALED(x, xs, n, m, lo, r->eps);                                              \
        const double *w = r->w, *b = r->b;                                                       \
        if (r->centered) {                                                                       \
            TG_SIMD for (int64_t j = 0; j < n; j++)                                              \
                y[j] = (T)((((double)x[j * xs] - m) - lo) * rstd * w[j] + b[j]);                 \
        } else {                                                                                 \
            TG_SIMD for (int64_t j = 0; j < n; j++) y[j] = (T)((double)x[j * xs] * rstd * w[j]); \
        }                                                                                        \
        st[ST_MEAN] = m;                                                                         \
        st[ST_MEAN_LO] = lo;                                                                     \
        st[ST_RSTD] = rstd;                                                                      \
    }

/* One row backward: from x (stride xs), g (stride gs) and the row's
 * statistics, dx into dx (contiguous; NULL when not wanted), g xhat and g
 * added into r->dw and r->db (when not NULL). */
#define XHAT(j) ((((double)x[(j)*xs] - m) - lo) * rstd)
#define BACKWARD_ROW(name, T)                                                                \
    static TG_ALWAYS_INLINE void name(const T *x, int64_t xs, const T *g, int64_t gs, T *dx, \
                                      const double *st, const norm_run *r) {                 \
        int64_t n = r->n;                                                                    \
        double m = st[ST_MEAN], lo = st[ST_MEAN_LO], rstd = st[ST_RSTD];                     \
        const double *w = r->w;                                                              \
        if (r->dw) {                                                                         \
            double *dw = r->dw;                                                              \
            TG_SIMD for (int64_t j = 0; j < n; j++) dw[j] += (double)g[j * gs] * XHAT(j);    \
        }                                                                                    \
        if (r->db) {                                                                         \
            double *db = r->db;                                                              \
            TG_SIMD for (int64_t j = 0; j < n; j++) db[j] += (double)g[j * gs];              \
        }                                                                                    \
        if (!dx) return;                                                                     \
        double a[LANES] = {0}, c[LANES] = {0}, ta = 0, tc = 0;                               \
        int64_t j = 0;                                                                       \
        for (; j + LANES <= n; j += LANES)                                                   \
            for (int k = 0; k < LANES; k++) {                                                \
                double gw = (double)g[(j + k) * gs] * w[j + k];                              \
                a[k] += gw;                                                                  \
                c[k] += gw * XHAT(j + k);                                                    \
            }                                                                                \
        for (; j < n; j++) {                                                                 \
            double gw = (double)g[j * gs] * w[j];                                            \
            ta += gw;                                                                        \
            tc += gw * XHAT(j);                                                              \
        }                                                                                    \
        double mean_gw = r->centered ? (LANE_TOTAL(a) + ta) / (double)n : 0;                 \
        double mean_gwx = (LANE_TOTAL(c) + tc) / (double)n;                                  \
        TG_SIMD for (j = 0; j < n; j++)                                                      \
            dx[j] = (T)(rstd * ((double)g[j * gs] * w[j] - mean_gw - XHAT(j) * mean_gwx));   \
    }

/* The row functions of the iterator over the rows: each of its rows is n
 * rows of the norm, whose starts are s[o] elements apart in operand o.
 * Forward operands: x, y, stats; backward: x, g, dx (x again when dx is
 * not wanted), stats. A copy of each loop for rows of unit stride vectorises. */
#define NORM_KERNELS(T, sfx)                                                                   \
    ROW_MOMENTS(row_moments_##sfx, T)                                                          \
    SCALED_RSTD(scaled_rstd_##sfx, T)                                                          \
    FORWARD_ROW(forward_row_##sfx, T, row_moments_##sfx, scaled_rstd_##sfx)                    \
    BACKWARD_ROW(backward_row_##sfx, T)                                                        \
    TG_HOT static void forward_rows_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) {  \
        const norm_run *r = ctx;                                                               \
        for (int64_t i = 0; i < n; i++) {                                                      \
            const T *x = (const T *)(p[0] + i * s[0] * (int64_t)sizeof(T));                    \
            T *y = (T *)(p[1] + i * s[1] * (int64_t)sizeof(T));                                \
            double *st = (double *)(p[2] + i * s[2] * (int64_t)sizeof(double));                \
            if (r->stride[0] == 1)                                                             \
                forward_row_##sfx(x, 1, y, st, r);                                             \
            else                                                                               \
                forward_row_##sfx(x, r->stride[0], y, st, r);                                  \
        }                                                                                      \
    }                                                                                          \
    TG_HOT static void backward_rows_##sfx(char **p, const int64_t *s, int64_t n, void *ctx) { \
        const norm_run *r = ctx;                                                               \
        for (int64_t i = 0; i < n; i++) {                                                      \
            const T *x = (const T *)(p[0] + i * s[0] * (int64_t)sizeof(T));                    \
            const T *g = (const T *)(p[1] + i * s[1] * (int64_t)sizeof(T));                    \
            T *dx = r->want_dx ? (T *)(p[2] + i * s[2] * (int64_t)sizeof(T)) : NULL;           \
            const double *st = (const double *)(p[3] + i * s[3] * (int64_t)sizeof(double));    \
            if (r->stride[0] == 1 && r->stride[1] == 1)                                        \
                backward_row_##sfx(x, 1, g, 1, dx, st, r);                                     \
            else                                                                               \
                backward_row_##sfx(x, r->stride[0], g, r->stride[1], dx, st, r);               \
        }                                                                                      \
    }

NORM_KERNELS(float, f32)
NORM_KERNELS(double, f64)
static const tg__row_fn forward_rows[2] = {forward_rows_f32, forward_rows_f64};
static const tg__row_fn backward_rows[2] = {backward_rows_f32, backward_rows_f64};

/* Runs fn over the rows of ts[0] (x), whose last k dims are a row: the
 * iterator goes over the dims before them, which every operand shares.
 * The last operand holds the statistics, contiguous over those dims, ST_N
 * doubles a row. */
static void for_each_row(int n_ops, tg_tensor *const *ts, int k, tg__row_fn fn, norm_run *r) {
    const tg_tensor *x = ts[0];
    int outer = x->ndim - k;
    int64_t strides[TG_ITER_MAX_OPERANDS][TG_MAX_DIMS];
    const int64_t *sp[TG_ITER_MAX_OPERANDS];
    char *base[TG_ITER_MAX_OPERANDS];
    for (int o = 0; o < n_ops; o++) {
        base[o] = tg__ptr(ts[o]);
        r->size[o] = tg_dtype_size(ts[o]->dtype);
        memcpy(strides[o], ts[o]->strides, sizeof strides[o]);
        sp[o] = strides[o];
    }
    int64_t step = ST_N;
    for (int d = outer - 1; d >= 0; d--) {
        strides[n_ops - 1][d] = step;
        step *= x->shape[d];
    }
    tg__iter it;
    tg__iter_init(&it, outer, x->shape, n_ops, sp);
    if (r->n > 0) tg__iter_run(&it, base, r->size, fn, r);
}

/* ---- The ops --------------------------------------------------------------------------------- */

enum { NORM_SAVED_X, NORM_SAVED_WEIGHT, NORM_SAVED_STATS };
typedef struct norm_state {
    int k;             /* normalized dims, the last of x */
    bool weight, bias; /* given: inputs 1 and (1 or 2) */
} norm_state;

typedef struct norm_op {
    tg__op_def node; /* first: the node's def leads back to the op */
    const char *name;
    bool centered;
} norm_op;

static int norm_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs);

static const norm_op layer_norm_op = {
    {"NativeLayerNormBackward0", norm_backward,
     "xhat = (x - mean) rstd; dx = rstd (g w - mean(g w) - xhat mean(g w xhat)), "
     "dw = sum g xhat, db = sum g"},
    "layer_norm",
    true};
static const norm_op rms_norm_op = {{"RmsNormBackward0", norm_backward,
                                     "xhat = x rstd; dx = rstd (g w - xhat mean(g w xhat)), "
                                     "dw = sum g xhat"},
                                    "rms_norm",
                                    false};

/* The weight and bias as doubles, n each, in one buffer of 2n (ones and
 * zeros for the ones not given), read through their strides; NULL when
 * out of memory. */
static double *affine_doubles(const char *op, const tg_tensor *weight, const tg_tensor *bias,
                              int64_t n) {
    double *wb = tg__alloc(sizeof(double) * (size_t)(2 * n + 1), op);
    if (!wb) return NULL;
    for (int i = 0; i < 2; i++) {
        const tg_tensor *t = i == 0 ? weight : bias;
        double *dst = wb + i * n;
        for (int64_t j = 0; j < n; j++) {
            if (!t) {
                dst[j] = i == 0 ? 1 : 0;
                continue;
            }
            int64_t off = 0, rest = j;
            for (int d = t->ndim - 1; d >= 0; d--) {
                off += rest % t->shape[d] * t->strides[d];
                rest /= t->shape[d];
            }
            dst[j] = tg__load_elem(t->dtype, (const char *)tg__ptr(t) +
                                                 off * (int64_t)tg_dtype_size(t->dtype));
        }
    }
    return wb;
}

/* Sums of n doubles rounded into a new tensor of the node's input i (its
 * shape and dtype). */
static tg_tensor *rounded(const char *op, const tg__node *node, int i, const double *sums) {
    tg_tensor *t = tg__new(op, node->in_ndim[i], node->in_shape[i], node->in_dtype[i]);
    if (!t) return NULL;
    for (int64_t j = 0; j < t->numel; j++)
        tg__store_elem(t->dtype, (char *)tg__ptr(t) + j * (int64_t)tg_dtype_size(t->dtype),
                       sums[j]);
    return t;
}

static int norm_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    const norm_op *op = TG__OP_OF(node, norm_op);
    const norm_state *st = TG__NODE_STATE(node, norm_state);
    tg_tensor *x = node->saved[NORM_SAVED_X], *w = node->saved[NORM_SAVED_WEIGHT];
    int iw = st->weight ? 1 : -1, ib = st->bias ? 1 + st->weight : -1;
    bool want_dw = iw > 0 && needs[iw], want_db = ib > 0 && needs[ib];
    int64_t n = 1;
    for (int d = x->ndim - st->k; d < x->ndim; d++) n *= x->shape[d];
    norm_run r = {.n = n, .centered = op->centered, .want_dx = needs[0]};
    tg_tensor *xc = NULL, *gc = NULL, *dx = NULL;
    tg_tensor *xr = as_rows(op->name, x, st->k, &r.stride[0], &xc);
    tg_tensor *gr = xr ? as_rows(op->name, g, st->k, &r.stride[1], &gc) : NULL;
    /* weight, then dw and db: n doubles each */
    double *wb = gr ? affine_doubles(op->name, w, NULL, n) : NULL;
    double *sums = wb ? tg__calloc(sizeof(double) * (size_t)(2 * n + 1), op->name) : NULL;
    if (sums && needs[0]) dx = tg__new(op->name, x->ndim, x->shape, x->dtype);
    int rc = -1;
    if (sums && (dx || !needs[0])) {
        r.w = wb;
        r.dw = want_dw ? sums : NULL;
        r.db = want_db ? sums + n : NULL;
        tg_tensor *ops[4] = {xr, gr, dx ? dx : xr, node->saved[NORM_SAVED_STATS]};
        for_each_row(4, ops, st->k, backward_rows[x->dtype], &r);
        gi[0] = dx;
        rc = 0;
        if (want_dw && !(gi[iw] = rounded(op->name, node, iw, sums))) rc = -1;
        if (rc == 0 && want_db && !(gi[ib] = rounded(op->name, node, ib, sums + n))) rc = -1;
    }
    tg__free(sums);
    tg__free(wb);
    tg_release(xc);
    tg_release(gc);
    return rc;
}

static bool same_sizes(int ndim, const int64_t *a, const int64_t *b) {
    for (int d = 0; d < ndim; d++)
        if (a[d] != b[d]) return false;
    return true;
}

/* PyTorch's checks of layer_norm's arguments, in its order, and tapegrad's
 * of eps; the same for rms_norm over x's last dim. */
static bool check_norm(const norm_op *op, tg_tensor *x, int k, const int64_t *shape,
                       tg_tensor *weight, tg_tensor *bias, double eps) {
    tg_tensor *given[3] = {x, weight, bias};
    int n_given = 1;
    if (weight) given[n_given++] = weight;
    if (bias) given[n_given++] = bias;
    if (!x) {
        tg__null_arg(op->name);
        return false;
    }
    if (!tg__check_args(op->name, n_given, given)) return false;
    char b1[TG_SHAPE_STR_MAX], b2[TG_SHAPE_STR_MAX];
    if (k == 0) {
        tg__error(TG_ERR_SHAPE,
                  "%s: Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                  "least one element, but got normalized_shape = []",
                  op->name);
        return false;
    }
    if (k < 0 || k > TG_MAX_DIMS) {
        tg__error(TG_ERR_VALUE, "%s: normalized_ndim is %d, must be in 1 .. %d", op->name, k,
                  TG_MAX_DIMS);
        return false;
    }
    if (!shape) {
        tg__null_arg(op->name);
        return false;
    }
    for (int i = 1; i < n_given; i++) {
        tg_tensor *t = given[i];
        if (t->ndim != k || !same_sizes(k, t->shape, shape)) {
            tg__error(TG_ERR_SHAPE,
                      "%s: Expected %s to be of same shape as normalized_shape, but got %s of "
                      "shape %s and normalized_shape = %s",
                      op->name, t == weight ? "weight" : "bias", t == weight ? "weight" : "bias",
                      tg__sizes_str(b1, sizeof b1, t->ndim, t->shape),
                      tg__sizes_str(b2, sizeof b2, k, shape));
            return false;
        }
    }
    if (x->ndim < k || !same_sizes(k, x->shape + x->ndim - k, shape)) {
        char b3[TG_SHAPE_STR_MAX], *at = b3;
        for (int d = 0; d < k && at < b3 + sizeof b3 - 24; d++)
            at += snprintf(at, (size_t)(b3 + sizeof b3 - at), ", %lld", (long long)shape[d]);
        *at = '\0';
        tg__error(TG_ERR_SHAPE,
                  "%s: Given normalized_shape=%s, expected input with shape [*%s], but got input "
                  "of size%s",
                  op->name, tg__sizes_str(b1, sizeof b1, k, shape), b3,
                  tg__sizes_str(b2, sizeof b2, x->ndim, x->shape));
        return false;
    }
    if (!(eps > 0 && eps < INFINITY)) {
        tg__error(TG_ERR_VALUE, "%s: eps must be positive and finite, got %g", op->name, eps);
        return false;
    }
    return true;
}

static tg_tensor *run_norm(const norm_op *op, tg_tensor *x, int k, tg_tensor *weight,
                           tg_tensor *bias, double eps) {
    int64_t n = 1, rows = 1;
    for (int d = 0; d < x->ndim; d++) *(d < x->ndim - k ? &rows : &n) *= x->shape[d];
    norm_run r = {.n = n, .eps = eps, .centered = op->centered};
    tg_tensor *xc, *out = NULL, *stats = NULL;
    tg_tensor *xr = as_rows(op->name, x, k, &r.stride[0], &xc);
    double *wb = xr ? affine_doubles(op->name, weight, bias, n) : NULL;
    if (wb) out = tg__new_owned(op->name, x->ndim, x->shape, x->dtype);
    if (out) stats = tg__new_owned(op->name, TG_SHAPE(rows, ST_N), TG_F64);
    if (stats) {
        r.w = wb, r.b = wb + n;
        for_each_row(3, (tg_tensor *[]){xr, out, stats}, k, forward_rows[x->dtype], &r);
    } else {
        tg_release(out);
        out = NULL;
    }
    tg__free(wb);
    tg_release(xc);
    if (!out) return NULL;
    norm_state st = {k, weight != NULL, bias != NULL};
    tg_tensor *inputs[3] = {x, weight ? weight : bias, bias};
    out = tg__finish(out, &op->node, 1 + st.weight + st.bias, inputs,
                     TG__SAVE_STATE(&st, x, weight, stats));
    tg_release(stats);
    return out;
}

tg_tensor *tg_layer_norm(tg_tensor *x, int normalized_ndim, const int64_t *normalized_shape,
                         tg_tensor *weight, tg_tensor *bias, double eps) {
    if (!check_norm(&layer_norm_op, x, normalized_ndim, normalized_shape, weight, bias, eps))
        return NULL;
    return run_norm(&layer_norm_op, x, normalized_ndim, weight, bias, eps);
}

tg_tensor *tg_rms_norm(tg_tensor *x, tg_tensor *weight, double eps) {
    if (x && x->ndim == 0) {
        tg__error(TG_ERR_SHAPE,
                  "rms_norm: expected an input of at least 1 dim (normalized over its last), got "
                  "a 0-dim tensor");
        return NULL;
    }
    const int64_t *last = x ? &x->shape[x->ndim - 1] : NULL;
    if (!check_norm(&rms_norm_op, x, 1, last, weight, NULL, eps)) return NULL;
    return run_norm(&rms_norm_op, x, 1, weight, NULL, eps);
}
