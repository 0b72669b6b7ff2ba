/* ops/reduce.c - sum and mean, and the sum that undoes broadcasting in the
 * backward of binary ops. Sums accumulate in double. */
#include <string.h>

#include "ops_internal.h"

/* ---- helpers -------------------------------------------------------------------- */

tg_tensor *tg__expand_view(tg_tensor *t, int ndim, const int64_t *shape) {
    int64_t strides[TG_MAX_DIMS];
    tg__broadcast_strides(t, ndim, shape, strides);
    return tg__autorelease(tg__view_owned("expand", t, ndim, shape, strides, t->offset));
}

static void acc_row_f32(char **p, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    double *acc = (double *)p[0];
    const float *x = (const float *)p[1];
    for (int64_t i = 0; i < n; i++) acc[i * s[0]] += (double)x[i * s[1]];
}
static void acc_row_f64(char **p, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    double *acc = (double *)p[0];
    const double *x = (const double *)p[1];
    for (int64_t i = 0; i < n; i++) acc[i * s[0]] += x[i * s[1]];
}

tg_tensor *tg__sum_to(tg_tensor *g, int ndim, const int64_t *shape) {
    if (!g) return NULL;
    if (g->ndim == ndim && memcmp(g->shape, shape, (size_t)ndim * sizeof *shape) == 0) return g;
    tg_tensor *acc = tg__new("sum_to", ndim, shape, TG_F64);
    if (!acc) return NULL;
    tg__fill(acc, 0.0);
    /* acc seen in g's dims: stride 0 along every dim that is summed away. */
    int lead = g->ndim - ndim;
    int64_t acc_strides[TG_MAX_DIMS];
    for (int d = 0; d < g->ndim; d++)
        acc_strides[d] = d < lead || (shape[d - lead] == 1 && g->shape[d] != 1)
                             ? 0
                             : acc->strides[d - lead];
    const int64_t *strides[2] = {acc_strides, g->strides};
    tg_iter it;
    tg__iter_init(&it, g->ndim, g->shape, 2, strides);
    char *base[2] = {tg__ptr(acc), tg__ptr(g)};
    size_t sizes[2] = {8, tg_dtype_size(g->dtype)};
    tg__iter_run(&it, base, sizes, g->dtype == TG_F32 ? acc_row_f32 : acc_row_f64, NULL);
    return tg_to_dtype(acc, g->dtype);
}

/* ---- sum and mean over all elements ----------------------------------------------- */

static int sum_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg__expand_view(g, node->in_ndim[0], node->in_shape[0]);
    return gi[0] ? 0 : -1;
}
static const tg_op_def sum_def = {"SumBackward0", sum_backward};

static int mean_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    int64_t numel = 1;
    for (int d = 0; d < node->in_ndim[0]; d++) numel *= node->in_shape[0][d];
    tg_tensor *scaled = tg_div_scalar(g, (double)numel);
    gi[0] = scaled ? tg__expand_view(scaled, node->in_ndim[0], node->in_shape[0]) : NULL;
    return gi[0] ? 0 : -1;
}
static const tg_op_def mean_def = {"MeanBackward0", mean_backward};

static tg_tensor *reduce_all(const char *op, const tg_op_def *def, tg_tensor *a, bool mean) {
    if (!a) {
        tg__null_arg(op);
        return NULL;
    }
    tg_tensor *out = tg__new_owned(op, 0, NULL, a->dtype);
    if (!out) return NULL;
    double total = tg__sum_all(a);
    tg__fill(out, mean ? total / (double)a->numel : total);
    return tg__finish(out, def, 1, &a, NULL);
}

tg_tensor *tg_sum(tg_tensor *a) { return reduce_all("sum", &sum_def, a, false); }
tg_tensor *tg_mean(tg_tensor *a) { return reduce_all("mean", &mean_def, a, true); }
