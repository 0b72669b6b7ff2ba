/* ops/cross_entropy.c - the losses over classes, as torch.nn.functional's
 * cross_entropy (log_softmax and the negative log-likelihood fused into
 * one node) and nll_loss: against class indices, an int64 tensor (with
 * class weights and ignore_index, and for cross_entropy label smoothing),
 * or for cross_entropy against class probabilities; inputs (N, C), (C,) or
 * (N, C, d1, ..., dk), read in place whatever their strides. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "logsumexp.h"
#include "loss_internal.h"

/* ---- Samples --------------------------------------------------------------------------------
 * An input (N, C), (C,) or (N, C, d1, ..., dk) holds a row of C class
 * values per sample, along its class dim (1, or 0 for (C,)); the samples
 * have the input's shape without that dim: (N,), () or (N, d1, ..., dk).
 * A class-index target has the samples' shape, a probability target the
 * input's. */
typedef struct samples {
    int class_dim;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t count, classes;
} samples;

static samples samples_of(const tg_tensor *x) {
    samples sm = {x->ndim == 1 ? 0 : 1, 0, {0}, 1, 0};
    sm.classes = x->shape[sm.class_dim];
    for (int d = 0; d < x->ndim; d++)
        if (d != sm.class_dim) {
            sm.shape[sm.ndim++] = x->shape[d];
            sm.count *= x->shape[d];
        }
    return sm;
}

/* Walks the samples in row-major order, keeping a pointer to the current
 * sample in each of up to four tensors: to the start of its row in one
 * shaped as the input, to its element in one shaped as the samples. */
enum { ITER_MAX = 4 };
typedef struct sample_iter {
    int ndim, n;
    int64_t shape[TG_MAX_DIMS], index[TG_MAX_DIMS];
    int64_t strides[ITER_MAX][TG_MAX_DIMS]; /* in bytes */
    char *p[ITER_MAX];
} sample_iter;

static sample_iter iter_start(const samples *sm, int n, const tg_tensor *const *ts) {
    sample_iter it = {sm->ndim, n, {0}, {0}, {{0}}, {0}};
    memcpy(it.shape, sm->shape, sizeof it.shape);
    for (int o = 0; o < n; o++) {
        int64_t size = (int64_t)tg_dtype_size(ts[o]->dtype);
        for (int d = 0, k = 0; d < ts[o]->ndim; d++)
            if (ts[o]->ndim == sm->ndim || d != sm->class_dim)
                it.strides[o][k++] = ts[o]->strides[d] * size;
        it.p[o] = tg__ptr(ts[o]);
    }
    return it;
}

static inline void iter_next(sample_iter *it) {
    for (int d = it->ndim - 1; d >= 0; d--) {
        for (int o = 0; o < it->n; o++) it->p[o] += it->strides[o][d];
        if (++it->index[d] < it->shape[d]) return;
        for (int o = 0; o < it->n; o++) it->p[o] -= it->strides[o][d] * it->shape[d];
        it->index[d] = 0;
    }
}

/* ---- Checks, with PyTorch's words ----------------------------------------------------------- */

/* PyTorch's name of a scalar type, as its messages say it. */
static const char *torch_type(tg_dtype dtype) {
    static const char *const names[] = {"Float", "Double", "Long", "Bool"};
    return names[dtype];
}

static bool check_has_classes(const char *op, const tg_tensor *x) {
    if (x->ndim >= 1) return true;
    tg__error(TG_ERR_SHAPE, "%s: Expected 1 or more dimensions (got 0)", op);
    return false;
}

/* A class-index target against the input x, checked as torch's nll_loss
 * checks it and in its order: the shapes, then the dtype. (The range of
 * the indices is checked as they are read.) One difference: torch takes a
 * (C,) target for a (C,) input and reads its first index only; tapegrad
 * wants a 0-dim target there. */
static bool check_class_target(const char *op, const tg_tensor *x, const tg_tensor *t) {
    char bx[TG_SHAPE_STR_MAX], bt[TG_SHAPE_STR_MAX];
    if (x->ndim != 1 && x->shape[0] != (t->ndim ? t->shape[0] : 0)) {
        tg__error(TG_ERR_SHAPE,
                  "%s: Expected input batch_size (%lld) to match target batch_size (%lld).", op,
                  (long long)x->shape[0], (long long)(t->ndim ? t->shape[0] : 0));
        return false;
    }
    bool fits;
    if (x->ndim <= 2) {
        if (t->ndim > 1) {
            tg__error(TG_ERR_SHAPE,
                      "%s: 0D or 1D target tensor expected, multi-target not supported", op);
            return false;
        }
        fits = x->ndim == 2 || t->ndim == 0;
    } else if (x->ndim == 4) {
        if (t->ndim != 3) {
            tg__error(TG_ERR_SHAPE,
                      "%s: only batches of spatial targets supported (3D tensors) but got targets "
                      "of dimension: %d",
                      op, t->ndim);
            return false;
        }
        fits = t->shape[1] == x->shape[2] && t->shape[2] == x->shape[3];
    } else {
        samples sm = samples_of(x);
        fits = t->ndim == sm.ndim && !memcmp(t->shape, sm.shape, sizeof(int64_t) * (size_t)sm.ndim);
        if (!fits) {
            tg__error(TG_ERR_SHAPE, "%s: Expected target size %s, got %s", op,
                      tg__sizes_str(bx, sizeof bx, sm.ndim, sm.shape),
                      tg__sizes_str(bt, sizeof bt, t->ndim, t->shape));
            return false;
        }
    }
    if (!fits) {
        tg__error(TG_ERR_SHAPE, "%s: size mismatch (got input: %s, target: %s)", op,
                  tg__sizes_str(bx, sizeof bx, x->ndim, x->shape),
                  tg__sizes_str(bt, sizeof bt, t->ndim, t->shape));
        return false;
    }
    if (t->dtype != TG_I64) {
        tg__error(TG_ERR_DTYPE,
                  "%s: expected scalar type Long but found %s (class indices are int64, this "
                  "target is %s)",
                  op, torch_type(t->dtype), tg_dtype_name(t->dtype));
        return false;
    }
    return true;
}

/* The error for the index t at the iterator's sample: PyTorch's words, and
 * where it is. */
static void out_of_bounds(const char *op, int64_t t, const sample_iter *it, int64_t classes,
                          int64_t ignore_index) {
    char where[TG_SHAPE_STR_MAX] = "";
    if (it->ndim) tg__sizes_str(where, sizeof where, it->ndim, it->index);
    tg__error(TG_ERR_VALUE,
              "%s: Target %lld is out of bounds: target%s is not in [0, %lld) nor ignore_index "
              "(%lld)",
              op, (long long)t, where, (long long)classes, (long long)ignore_index);
}

/* The options of both losses (nll_loss has no smoothing). */
typedef struct class_options {
    tg_reduction reduction;
    const tg_tensor *weight;
    int64_t ignore_index;
    double smoothing;
} class_options;

static bool check_options(const char *op, const tg_tensor *x, const class_options *o) {
    if (!check_reduction(op, o->reduction, false)) return false;
    if (!(o->smoothing >= 0 && o->smoothing <= 1)) {
        tg__error(TG_ERR_VALUE, "%s: label_smoothing %g is not in [0, 1]", op, o->smoothing);
        return false;
    }
    const tg_tensor *w = o->weight;
    int64_t classes = samples_of(x).classes;
    if (w && w->dtype != x->dtype) {
        tg__error(TG_ERR_DTYPE, "%s: weight dtype %s differs from the %s %s", op,
                  tg_dtype_name(w->dtype), strcmp(op, "nll_loss") ? "logits'" : "input's",
                  tg_dtype_name(x->dtype));
        return false;
    }
    if (w && (w->ndim != 1 || w->shape[0] != classes)) {
        char buf[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: weight of shape %s for %lld classes (want (%lld,))", op,
                  tg__shape_str(buf, sizeof buf, w->ndim, w->shape), (long long)classes,
                  (long long)classes);
        return false;
    }
    return true;
}

/* ---- What the rows share ---------------------------------------------------------------------- */

/* What a row needs besides its values and target. */
typedef struct ce_params {
    const double *weight; /* C class weights, or NULL for 1 each */
    double weight_sum;    /* W, their sum */
    double smoothing;     /* e */
} ce_params;

static double class_weight(const ce_params *p, int64_t c) { return p->weight ? p->weight[c] : 1; }

/* The row parameters from the class weights (float64 (C,) or NULL). */
static ce_params ce_params_of(const tg_tensor *weight, int64_t classes, double smoothing) {
    ce_params p = {weight ? tg__ptr((tg_tensor *)weight) : NULL, 0, smoothing};
    for (int64_t c = 0; c < classes; c++) p.weight_sum += class_weight(&p, c);
    return p;
}

/* The class weights as a new float64 (C,) tensor (owned), or NULL for none;
 * *failed on out of memory. */
static tg_tensor *weights_f64(const char *op, const tg_tensor *weight, bool *failed) {
    *failed = false;
    if (!weight) return NULL;
    tg_tensor *w = tg__new_owned(op, 1, weight->shape, TG_F64);
    if (!w) *failed = true;
    double *to = w ? tg__ptr(w) : NULL;
    for (int64_t c = 0; to && c < weight->shape[0]; c++) to[c] = tg_get(weight, &c);
    return w;
}

/* Both forms save the input, the target and the class weights (float64
 * (C,), when there are any), and keep their options. */
enum { SAVED_INPUT, SAVED_TARGET, SAVED_WEIGHTS };
typedef struct class_state {
    double divisor; /* of the gradient: the reduction's */
    int64_t ignore_index;
    double smoothing;
} class_state;

/* The per-sample losses (owned, uninitialised): for NONE, the result's
 * shape, the samples'; but PyTorch's nll_loss takes an input of 3 or more
 * than 4 dims as (N, C, 1, K), K = d1 ... dk, and views its (N, 1, K)
 * losses as (N, d1, ..., dk), so the node's output is (N, 1, K) there. */
static tg_tensor *new_losses(const char *op, const tg_tensor *x, const samples *sm) {
    if (x->ndim == 3 || x->ndim > 4) {
        int64_t k = 1;
        for (int d = 1; d < sm->ndim; d++) k *= sm->shape[d];
        return tg__new_owned(op, 3, (int64_t[]){sm->shape[0], 1, k}, x->dtype);
    }
    return tg__new_owned(op, sm->ndim, sm->shape, x->dtype);
}

/* The last steps of every form, from the per-sample losses (taken over):
 * reduced as o asks; the node recorded from the inputs, keeping a
 * class_state and the input, `second` (the target) and the class weights
 * (released here); for NONE, the losses in the samples' shape (a view,
 * ViewBackward0, where the node's output is (N, 1, K)). Returns the loss,
 * or NULL. */
static tg_tensor *finish(const char *op, const tg__op_def *def, int n_inputs,
                         tg_tensor *const *inputs, tg_tensor *losses, tg_tensor *second,
                         tg_tensor *weights, const class_options *o, double divisor,
                         const samples *sm) {
    tg_tensor *out = reduce_losses(op, losses, o->reduction, divisor);
    class_state st = {divisor, o->ignore_index, o->smoothing};
    if (out)
        out = tg__finish(out, def, n_inputs, inputs,
                         TG__SAVE_STATE(&st, inputs[0], second, weights)); /* SAVED_* */
    tg_release(weights);
    if (out && o->reduction == TG_REDUCTION_NONE && out->ndim != sm->ndim) {
        tg_tensor *view = tg_view(out, sm->ndim, sm->shape);
        if (!tg__pool_active()) tg_release(out); /* the caller owns the view alone */
        out = view;
    }
    return out;
}

/* The incoming gradient of a node: one number for a reduced loss, or one
 * per sample (NONE), read in the samples' order. */
typedef struct grad_in {
    tg_tensor *copy; /* a contiguous copy of g, owned, when g is not */
    tg_dtype dtype;
    const char *data; /* NULL for one number */
    size_t size;
    double value;
} grad_in;

static bool grad_in_of(const char *op, tg_tensor *g, grad_in *in) {
    *in = (grad_in){NULL, g->dtype, NULL, tg_dtype_size(g->dtype), 0};
    if (g->ndim == 0) {
        in->value = tg__load_elem(g->dtype, tg__ptr(g));
        return true;
    }
    if (!tg_is_contiguous(g) && !(g = in->copy = tg__contiguous_copy_owned(op, g))) return false;
    in->data = tg__ptr(g);
    return true;
}

static inline double grad_at(const grad_in *in, int64_t s) {
    return in->data ? tg__load_elem(in->dtype, in->data + (size_t)s * in->size) : in->value;
}

/* Zeroes a row of C elements of `size` bytes, `stride` bytes apart. */
static void zero_row(char *row, size_t size, int64_t stride, int64_t C) {
    for (int64_t c = 0; c < C; c++) memset(row + c * stride, 0, size);
}

/* ---- The rows of each loss ---------------------------------------------------------------------
 * A row x of C values (stride s) with target class t: its loss into *out,
 * and its gradient times scale into the row d (stride ds). */
typedef void (*class_loss_fn)(const char *row, int64_t s, int64_t C, int64_t t, const ce_params *p,
                              void *out);
typedef void (*class_grad_fn)(const char *row, int64_t s, int64_t C, int64_t t, const ce_params *p,
                              double scale, char *d, int64_t ds);

/* Cross entropy, lse = logsumexp(x) = max + log(sum):
 *   loss:      (1 - e) w[t] (lse - x[t]) + (e / C) sum_c w[c] (lse - x[c])
 *   gradient:  (1 - e) w[t] (softmax - onehot(t)) + (e / C) (W softmax - w)
 * lse - x[c] is computed as (max - x[c]) + log(sum), which keeps it exact
 * where x[c] is the maximum. With no weights and no smoothing the factors
 * are 1 and 0, and the numbers those of the plain formulas. */
#define CE_ROWS(sfx, T)                                                                   \
    static void ce_loss_##sfx(const char *row, int64_t s, int64_t C, int64_t t,           \
                              const ce_params *p, void *out) {                            \
        const T *x = (const T *)row;                                                      \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, s, C);                          \
        double log_sum = log(st.sum);                                                     \
        double loss = class_weight(p, t) * ((st.max - x[t * s]) + log_sum);               \
        if (p->smoothing > 0) {                                                           \
            double smooth = 0;                                                            \
            for (int64_t c = 0; c < C; c++)                                               \
                smooth += class_weight(p, c) * ((st.max - x[c * s]) + log_sum);           \
            loss = (1 - p->smoothing) * loss + p->smoothing / (double)C * smooth;         \
        }                                                                                 \
        *(T *)out = (T)loss;                                                              \
    }                                                                                     \
    static void ce_grad_##sfx(const char *row, int64_t s, int64_t C, int64_t t,           \
                              const ce_params *p, double scale, char *out, int64_t ds) {  \
        const T *x = (const T *)row;                                                      \
        T *d = (T *)out;                                                                  \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, s, C);                          \
        double a = (1 - p->smoothing) * class_weight(p, t), b = p->smoothing / (double)C; \
        for (int64_t c = 0; c < C; c++) {                                                 \
            double pc = exp(x[c * s] - st.max) / st.sum;                                  \
            d[c * ds] = (T)((a * (pc - (c == t)) +                                        \
                             b * (p->weight_sum * pc - class_weight(p, c))) *             \
                            scale);                                                       \
        }                                                                                 \
    }
CE_ROWS(f32, float)
CE_ROWS(f64, double)

/* The negative log-likelihood: loss -w[t] x[t]; gradient -w[t] at t, 0
 * elsewhere (the row is zero already). */
#define NLL_ROWS(sfx, T)                                                                  \
    static void nll_loss_##sfx(const char *row, int64_t s, int64_t C, int64_t t,          \
                               const ce_params *p, void *out) {                           \
        (void)C;                                                                          \
        *(T *)out = (T)(-class_weight(p, t) * ((const T *)row)[t * s]);                   \
    }                                                                                     \
    static void nll_grad_##sfx(const char *row, int64_t s, int64_t C, int64_t t,          \
                               const ce_params *p, double scale, char *out, int64_t ds) { \
        (void)row, (void)s, (void)C;                                                      \
        ((T *)out)[t * ds] = (T)(-class_weight(p, t) * scale);                            \
    }
NLL_ROWS(f32, float)
NLL_ROWS(f64, double)

/* ---- Class indices: the node and its backward ---------------------------------------------- */

typedef struct class_loss_def {
    tg__op_def node; /* first: the node's def leads back to it */
    class_loss_fn loss[2];
    class_grad_fn grad[2];
    bool dense_grad; /* the gradient fills every element of a row */
} class_loss_def;

static int class_index_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const class_loss_def *def = TG__OP_OF(node, class_loss_def);
    const class_state *st = TG__NODE_STATE(node, class_state);
    const char *op = node->def->name;
    tg_tensor *x = node->saved[SAVED_INPUT], *target = node->saved[SAVED_TARGET];
    samples sm = samples_of(x);
    grad_in in;
    tg_tensor *dx = tg__new(op, x->ndim, x->shape, x->dtype);
    if (!dx || !grad_in_of(op, g, &in)) return -1;
    if (!def->dense_grad) memset(tg__ptr(dx), 0, (size_t)dx->numel * tg_dtype_size(dx->dtype));
    ce_params p = ce_params_of(node->saved[SAVED_WEIGHTS], sm.classes, st->smoothing);
    int64_t xs = x->strides[sm.class_dim], ds = dx->strides[sm.class_dim];
    size_t size = tg_dtype_size(dx->dtype);
    sample_iter it = iter_start(&sm, 3, (const tg_tensor *[]){x, target, dx});
    int rc = 0;
    for (int64_t s = 0; s < sm.count; s++, iter_next(&it)) {
        int64_t t = *(const int64_t *)it.p[1];
        if (t == st->ignore_index) { /* no gradient */
            if (def->dense_grad) zero_row(it.p[2], size, ds * (int64_t)size, sm.classes);
            continue;
        }
        if (t < 0 || t >= sm.classes) { /* changed behind the version counter (tg_data) */
            out_of_bounds(op, t, &it, sm.classes, st->ignore_index);
            rc = -1;
            break;
        }
        def->grad[x->dtype](it.p[0], xs, sm.classes, t, &p, grad_at(&in, s) / st->divisor, it.p[2],
                            ds);
    }
    tg_release(in.copy);
    gi[0] = dx;
    return rc;
}

/* Two names for one backward: traces show the plain formula unless class
 * weights or label smoothing change it (N counts the samples not ignored). */
static const class_loss_def cross_entropy_def = {
    {"CrossEntropyBackward0", class_index_backward, "d loss/d logits = (softmax - onehot) / N"},
    {ce_loss_f32, ce_loss_f64},
    {ce_grad_f32, ce_grad_f64},
    true};
static const class_loss_def weighted_cross_entropy_def = {
    {"CrossEntropyBackward0", class_index_backward,
     "d loss/d logits = (1 - e) w[y] (softmax - onehot) + (e/C) (W softmax - w), / sum of w[y] "
     "for the mean"},
    {ce_loss_f32, ce_loss_f64},
    {ce_grad_f32, ce_grad_f64},
    true};
/* PyTorch names the node of an input of more than 2 dims NllLoss2DBackward0. */
static const class_loss_def nll_loss_def = {
    {"NllLossBackward0", class_index_backward,
     "d loss/d x[y] = -w[y], 0 elsewhere, / sum of w[y] for the mean"},
    {nll_loss_f32, nll_loss_f64},
    {nll_grad_f32, nll_grad_f64},
    false};
static const class_loss_def nll_loss_2d_def = {
    {"NllLoss2DBackward0", class_index_backward,
     "d loss/d x[y] = -w[y], 0 elsewhere, / sum of w[y] for the mean"},
    {nll_loss_f32, nll_loss_f64},
    {nll_grad_f32, nll_grad_f64},
    false};

/* Class indices: x of any shape torch takes, the target and o checked but
 * for the range of the indices. */
static tg_tensor *class_index_loss(const char *op, const class_loss_def *def, tg_tensor *x,
                                   tg_tensor *target, const class_options *o) {
    samples sm = samples_of(x);
    bool failed;
    tg_tensor *weights = weights_f64(op, o->weight, &failed);
    tg_tensor *losses = failed ? NULL : new_losses(op, x, &sm);
    if (!losses) {
        tg_release(weights);
        return NULL;
    }
    ce_params p = ce_params_of(weights, sm.classes, o->smoothing);
    class_loss_fn loss_row = def->loss[x->dtype];
    int64_t xs = x->strides[sm.class_dim];
    size_t loss_size = tg_dtype_size(losses->dtype);
    char *out = tg__ptr(losses);
    double counted = 0; /* the total weight of the samples kept */
    sample_iter it = iter_start(&sm, 2, (const tg_tensor *[]){x, target});
    for (int64_t s = 0; s < sm.count; s++, iter_next(&it)) {
        int64_t t = *(const int64_t *)it.p[1];
        if (t == o->ignore_index) { /* counts for nothing */
            memset(out + (size_t)s * loss_size, 0, loss_size);
            continue;
        }
        if (t < 0 || t >= sm.classes) {
            out_of_bounds(op, t, &it, sm.classes, o->ignore_index);
            tg_release(losses);
            tg_release(weights);
            return NULL;
        }
        counted += class_weight(&p, t);
        loss_row(it.p[0], xs, sm.classes, t, &p, out + (size_t)s * loss_size);
    }
    return finish(op, &def->node, 1, &x, losses, target, weights, o, divisor(o->reduction, counted),
                  &sm);
}

/* ---- Cross entropy against class probabilities --------------------------------------------- */

/* One sample, rows x and t of C values (strides xs, ts), t' = (1 - e) t + e / C:
 *   loss:            -sum_c w[c] t'[c] (x[c] - lse), into *out
 *   gradient in x:   (softmax(x) sum_c w[c] t'[c] - w t') * scale, into dx
 *   gradient in t:   -(1 - e) w (x - lse) * scale, into dt
 * (dx, dt rows of stride ds, or NULL when not wanted). */
#define CE_PROB_ROWS(sfx, T)                                                                      \
    static void ce_prob_loss_##sfx(const char *xr, int64_t xs, const char *tr, int64_t ts,        \
                                   int64_t C, const ce_params *p, void *out) {                    \
        const T *x = (const T *)xr, *t = (const T *)tr;                                           \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, xs, C);                                 \
        double log_sum = log(st.sum), loss = 0;                                                   \
        for (int64_t c = 0; c < C; c++) {                                                         \
            double tc = (1 - p->smoothing) * t[c * ts] + p->smoothing / (double)C;                \
            loss -= class_weight(p, c) * tc * ((x[c * xs] - st.max) - log_sum);                   \
        }                                                                                         \
        *(T *)out = (T)loss;                                                                      \
    }                                                                                             \
    static void ce_prob_grad_##sfx(const char *xr, int64_t xs, const char *tr, int64_t ts,        \
                                   int64_t C, const ce_params *p, double scale, char *dx,         \
                                   char *dt, int64_t ds) {                                        \
        const T *x = (const T *)xr, *t = (const T *)tr;                                           \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, xs, C);                                 \
        double log_sum = log(st.sum), weighted = 0, e = p->smoothing;                             \
        for (int64_t c = 0; c < C; c++)                                                           \
            weighted += class_weight(p, c) * ((1 - e) * t[c * ts] + e / (double)C);               \
        for (int64_t c = 0; c < C; c++) {                                                         \
            double w = class_weight(p, c), tc = (1 - e) * t[c * ts] + e / (double)C;              \
            double pc = exp(x[c * xs] - st.max) / st.sum;                                         \
            if (dx) ((T *)dx)[c * ds] = (T)((pc * weighted - w * tc) * scale);                    \
            if (dt)                                                                               \
                ((T *)dt)[c * ds] = (T)(-(1 - e) * w * ((x[c * xs] - st.max) - log_sum) * scale); \
        }                                                                                         \
    }
CE_PROB_ROWS(f32, float)
CE_PROB_ROWS(f64, double)

static int cross_entropy_probs_backward(tg__node *node, tg_tensor *g, tg_tensor **gi,
                                        const bool *needs) {
    static void (*const grad_rows[2])(const char *, int64_t, const char *, int64_t, int64_t,
                                      const ce_params *, double, char *, char *,
                                      int64_t) = {ce_prob_grad_f32, ce_prob_grad_f64};
    const class_state *st = TG__NODE_STATE(node, class_state);
    const char *op = node->def->name;
    tg_tensor *x = node->saved[SAVED_INPUT], *t = node->saved[SAVED_TARGET];
    for (int k = 0; k < 2; k++)
        if (needs[k] && !(gi[k] = tg__new(op, x->ndim, x->shape, x->dtype))) return -1;
    samples sm = samples_of(x);
    grad_in in;
    if (!grad_in_of(op, g, &in)) return -1;
    ce_params p = ce_params_of(node->saved[SAVED_WEIGHTS], sm.classes, st->smoothing);
    /* Both gradients are contiguous, of one shape (a wanted one stands in
     * for the other). */
    tg_tensor *dx = needs[0] ? gi[0] : gi[1], *dt = needs[1] ? gi[1] : gi[0];
    int64_t cd = sm.class_dim;
    sample_iter it = iter_start(&sm, 4, (const tg_tensor *[]){x, t, dx, dt});
    for (int64_t s = 0; s < sm.count; s++, iter_next(&it))
        grad_rows[x->dtype](it.p[0], x->strides[cd], it.p[1], t->strides[cd], sm.classes, &p,
                            grad_at(&in, s) / st->divisor, needs[0] ? it.p[2] : NULL,
                            needs[1] ? it.p[3] : NULL, dx->strides[cd]);
    tg_release(in.copy);
    return 0;
}
static const tg__op_def cross_entropy_probs_def = {
    "CrossEntropyBackward0", cross_entropy_probs_backward,
    "d loss/d logits = softmax sum_c w[c] t'[c] - w t', d loss/d target = -(1 - e) w "
    "log_softmax, t' = (1 - e) t + e/C; / N for the mean"};

/* Probabilities, target of the logits' shape; o checked. */
static tg_tensor *cross_entropy_probs(tg_tensor *logits, tg_tensor *target,
                                      const class_options *o) {
    static void (*const loss_rows[2])(const char *, int64_t, const char *, int64_t, int64_t,
                                      const ce_params *,
                                      void *) = {ce_prob_loss_f32, ce_prob_loss_f64};
    const char *op = "cross_entropy";
    samples sm = samples_of(logits);
    bool failed;
    tg_tensor *weights = weights_f64(op, o->weight, &failed);
    tg_tensor *losses = failed ? NULL : new_losses(op, logits, &sm);
    if (!losses) {
        tg_release(weights);
        return NULL;
    }
    ce_params p = ce_params_of(weights, sm.classes, o->smoothing);
    size_t loss_size = tg_dtype_size(losses->dtype);
    int64_t cd = sm.class_dim;
    char *out = tg__ptr(losses);
    sample_iter it = iter_start(&sm, 2, (const tg_tensor *[]){logits, target});
    for (int64_t s = 0; s < sm.count; s++, iter_next(&it))
        loss_rows[logits->dtype](it.p[0], logits->strides[cd], it.p[1], target->strides[cd],
                                 sm.classes, &p, out + (size_t)s * loss_size);
    return finish(op, &cross_entropy_probs_def, 2, (tg_tensor *[]){logits, target}, losses, target,
                  weights, o, divisor(o->reduction, (double)sm.count), &sm);
}

/* ---- The public functions ------------------------------------------------------------------------ */

tg_cross_entropy_options tg_cross_entropy_defaults(void) {
    return (tg_cross_entropy_options){TG_REDUCTION_MEAN, NULL, -100, 0};
}

tg_nll_loss_options tg_nll_loss_defaults(void) {
    return (tg_nll_loss_options){TG_REDUCTION_MEAN, NULL, -100};
}

/* As torch decides: a target of the logits' shape holds probabilities
 * (floating-point, of the logits' dtype here), any other class indices. */
tg_tensor *tg_cross_entropy_ex(tg_tensor *logits, tg_tensor *target,
                               const tg_cross_entropy_options *options) {
    const char *op = "cross_entropy";
    if (!logits || !target) {
        tg__null_arg(op);
        return NULL;
    }
    tg_cross_entropy_options given = options ? *options : tg_cross_entropy_defaults();
    class_options o = {given.reduction, given.weight, given.ignore_index, given.label_smoothing};
    if (!tg__check_float(op, logits) || !check_has_classes(op, logits)) return NULL;
    if (!tg__same_shape(logits, target)) {
        if (!check_class_target(op, logits, target) || !check_options(op, logits, &o)) return NULL;
        const class_loss_def *def = o.weight || o.smoothing > 0 ? &weighted_cross_entropy_def
                                                                : &cross_entropy_def;
        return class_index_loss(op, def, logits, target, &o);
    }
    if (!tg_dtype_is_float(target->dtype)) {
        tg__error(TG_ERR_DTYPE,
                  "%s: Expected floating point type for target with class probabilities, got %s "
                  "(%s)",
                  op, torch_type(target->dtype), tg_dtype_name(target->dtype));
        return NULL;
    }
    if (!tg__check_same_dtype(op, 2, (tg_tensor *[]){logits, target})) return NULL;
    if (o.ignore_index >= 0) {
        tg__error(TG_ERR_VALUE,
                  "%s: ignore_index is not supported for floating point target (ignore_index "
                  "%lld; use a negative one)",
                  op, (long long)o.ignore_index);
        return NULL;
    }
    if (!check_options(op, logits, &o)) return NULL;
    return cross_entropy_probs(logits, target, &o);
}

tg_tensor *tg_cross_entropy(tg_tensor *logits, tg_tensor *target, tg_reduction reduction) {
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.reduction = reduction;
    return tg_cross_entropy_ex(logits, target, &o);
}

tg_tensor *tg_nll_loss(tg_tensor *log_probs, tg_tensor *target,
                       const tg_nll_loss_options *options) {
    const char *op = "nll_loss";
    if (!log_probs || !target) {
        tg__null_arg(op);
        return NULL;
    }
    tg_nll_loss_options given = options ? *options : tg_nll_loss_defaults();
    class_options o = {given.reduction, given.weight, given.ignore_index, 0};
    if (!tg__check_float(op, log_probs) || !check_has_classes(op, log_probs) ||
        !check_class_target(op, log_probs, target) || !check_options(op, log_probs, &o))
        return NULL;
    return class_index_loss(op, log_probs->ndim > 2 ? &nll_loss_2d_def : &nll_loss_def, log_probs,
                            target, &o);
}
