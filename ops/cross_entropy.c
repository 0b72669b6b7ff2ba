/* ops/cross_entropy.c - cross entropy, as torch.nn.functional.cross_entropy:
 * log_softmax and the negative log-likelihood fused into one node, against
 * class indices (with class weights, ignore_index and label smoothing) or
 * class probabilities, for logits (N, C), (C,) or (N, C, d1, ..., dk). */
#include <math.h>
#include <string.h>

#include "logsumexp.h"
#include "loss_internal.h"
#include "tapegrad/shape.h"

/* ---- Cross entropy: log_softmax and the negative log-likelihood in one node ------------------
 * Both forms save the logits, the target (class indices as float64 (N,):
 * tensors hold floats only, exact below 2^53; or probabilities (N, C)) and
 * the class weights as float64 (C,) when there are any, and keep their
 * options in a ce_state. */
enum { CE_SAVED_LOGITS, CE_SAVED_TARGET, CE_SAVED_WEIGHTS };
typedef struct ce_state {
    double divisor;      /* of the gradient: the reduction's */
    double ignore_index; /* class indices only */
    double smoothing;
} ce_state;

/* What a row needs besides its logits and target. */
typedef struct ce_params {
    const double *weight; /* C class weights, or NULL for 1 each */
    double weight_sum;    /* W, their sum */
    double smoothing;     /* e */
} ce_params;

static double class_weight(const ce_params *p, int64_t c) { return p->weight ? p->weight[c] : 1; }

/* One sample, a row x of C logits (stride s) with target class t, lse =
 * logsumexp(x) = max + log(sum):
 *   loss:      (1 - e) w[t] (lse - x[t]) + (e / C) sum_c w[c] (lse - x[c]), into *out
 *   gradient:  ((1 - e) w[t] (softmax - onehot(t)) + (e / C) (W softmax - w)) * scale,
 *              into the contiguous row out
 * lse - x[c] is computed as (max - x[c]) + log(sum), which keeps it exact
 * where x[c] is the maximum. With no weights and no smoothing the factors
 * are 1 and 0, and the numbers those of the plain formulas. */
#define CE_ROWS(sfx, T)                                                                        \
    static void ce_loss_##sfx(const char *row, int64_t s, int64_t C, int64_t t,                \
                              const ce_params *p, void *out) {                                 \
        const T *x = (const T *)row;                                                           \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, s, C);                               \
        double log_sum = log(st.sum);                                                          \
        double loss = class_weight(p, t) * ((st.max - x[t * s]) + log_sum);                    \
        if (p->smoothing > 0) {                                                                \
            double smooth = 0;                                                                 \
            for (int64_t c = 0; c < C; c++)                                                    \
                smooth += class_weight(p, c) * ((st.max - x[c * s]) + log_sum);                \
            loss = (1 - p->smoothing) * loss + p->smoothing / (double)C * smooth;              \
        }                                                                                      \
        *(T *)out = (T)loss;                                                                   \
    }                                                                                          \
    static void ce_grad_##sfx(const char *row, int64_t s, int64_t C, int64_t t,                \
                              const ce_params *p, double scale, void *out) {                   \
        const T *x = (const T *)row;                                                           \
        T *d = out;                                                                            \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, s, C);                               \
        double a = (1 - p->smoothing) * class_weight(p, t), b = p->smoothing / (double)C;      \
        for (int64_t c = 0; c < C; c++) {                                                      \
            double pc = exp(x[c * s] - st.max) / st.sum;                                       \
            d[c] = (T)((a * (pc - (c == t)) + b * (p->weight_sum * pc - class_weight(p, c))) * \
                       scale);                                                                 \
        }                                                                                      \
    }
CE_ROWS(f32, float)
CE_ROWS(f64, double)

/* Row i of a 2-D tensor. */
static char *row_of(tg_tensor *t, int64_t i) {
    return (char *)tg__ptr(t) + i * t->strides[0] * (int64_t)tg_dtype_size(t->dtype);
}

/* The row parameters from the class weights (float64 (C,) or NULL). */
static ce_params ce_params_of(const tg_tensor *weight, int64_t classes, double smoothing) {
    ce_params p = {weight ? tg__ptr((tg_tensor *)weight) : NULL, 0, smoothing};
    for (int64_t c = 0; c < classes; c++) p.weight_sum += class_weight(&p, c);
    return p;
}

static int cross_entropy_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    static void (*const grad_rows[2])(const char *, int64_t, int64_t, int64_t, const ce_params *,
                                      double, void *) = {ce_grad_f32, ce_grad_f64};
    (void)needs;
    const ce_state *st = TG__NODE_STATE(node, ce_state);
    tg_tensor *x = node->saved[CE_SAVED_LOGITS], *target = node->saved[CE_SAVED_TARGET];
    tg_tensor *dx = tg__new(node->def->name, 2, x->shape, x->dtype);
    if (!dx) return -1;
    ce_params p = ce_params_of(node->saved[CE_SAVED_WEIGHTS], x->shape[1], st->smoothing);
    const double *classes = tg__ptr(target);
    for (int64_t i = 0; i < x->shape[0]; i++) {
        if (classes[i] == st->ignore_index) { /* ignored: no gradient */
            memset(row_of(dx, i), 0, (size_t)x->shape[1] * tg_dtype_size(x->dtype));
            continue;
        }
        double scale = tg_get(g, &i) / st->divisor; /* g is 0-dim, or (N,) for NONE */
        grad_rows[x->dtype](row_of(x, i), x->strides[1], x->shape[1], (int64_t)classes[i], &p,
                            scale, row_of(dx, i));
    }
    gi[0] = dx;
    return 0;
}
/* Two names for one backward: traces show the plain formula unless class
 * weights or label smoothing change it (N counts the samples not ignored). */
static const tg__op_def cross_entropy_def = {"CrossEntropyBackward0", cross_entropy_backward,
                                             "d loss/d logits = (softmax - onehot) / N"};
static const tg__op_def weighted_cross_entropy_def = {
    "CrossEntropyBackward0", cross_entropy_backward,
    "d loss/d logits = (1 - e) w[y] (softmax - onehot) + (e/C) (W softmax - w), / sum of w[y] "
    "for the mean"};

/* The options, for logits (N, C). */
static bool check_options(const char *op, const tg_tensor *logits,
                          const tg_cross_entropy_options *o) {
    if (!check_reduction(op, o->reduction)) return false;
    if (!(o->label_smoothing >= 0 && o->label_smoothing <= 1)) {
        tg__error(TG_ERR_VALUE, "%s: label_smoothing %g is not in [0, 1]", op, o->label_smoothing);
        return false;
    }
    const tg_tensor *w = o->weight;
    if (w && w->dtype != logits->dtype) {
        tg__error(TG_ERR_DTYPE, "%s: weight dtype %s differs from the logits' %s", op,
                  tg_dtype_name(w->dtype), tg_dtype_name(logits->dtype));
        return false;
    }
    if (w && (w->ndim != 1 || w->shape[0] != logits->shape[1])) {
        char buf[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: weight of shape %s for %lld classes (want (%lld,))", op,
                  tg__shape_str(buf, sizeof buf, w->ndim, w->shape), (long long)logits->shape[1],
                  (long long)logits->shape[1]);
        return false;
    }
    return true;
}

static bool check_classes(const char *op, const tg_tensor *logits, const int64_t *target,
                          int64_t ignore_index) {
    for (int64_t i = 0; i < logits->shape[0]; i++)
        if (target[i] != ignore_index && (target[i] < 0 || target[i] >= logits->shape[1])) {
            tg__error(TG_ERR_VALUE, "%s: target[%lld] = %lld is out of range for %lld classes", op,
                      (long long)i, (long long)target[i], (long long)logits->shape[1]);
            return false;
        }
    return true;
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

/* The last steps of both forms, from the per-sample losses (taken over):
 * reduced over d; the node recorded from the inputs, keeping a ce_state and
 * the logits, `second` (the targets) and the class weights when there are
 * any (released here). Returns the loss, or NULL. */
static tg_tensor *finish(const tg__op_def *def, int n_inputs, tg_tensor *const *inputs,
                         tg_tensor *losses, tg_tensor *second, tg_tensor *weights,
                         const tg_cross_entropy_options *o, double d) {
    tg_tensor *out = reduce_losses("cross_entropy", losses, o->reduction, d);
    ce_state st = {d, (double)o->ignore_index, o->label_smoothing};
    if (out)
        out = tg__finish(out, def, n_inputs, inputs,
                         TG__SAVE_STATE(&st, inputs[0], second, weights)); /* CE_SAVED_* */
    tg_release(weights);
    return out;
}

tg_cross_entropy_options tg_cross_entropy_defaults(void) {
    return (tg_cross_entropy_options){TG_REDUCTION_MEAN, NULL, -100, 0};
}

tg_tensor *tg_cross_entropy(tg_tensor *logits, const int64_t *target, tg_reduction reduction) {
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.reduction = reduction;
    return tg_cross_entropy_ex(logits, target, &o);
}

/* Class indices, logits (N, C); o resolved. */
static tg_tensor *cross_entropy_rows(tg_tensor *logits, const int64_t *target,
                                     const tg_cross_entropy_options *o) {
    static void (*const loss_rows[2])(const char *, int64_t, int64_t, int64_t, const ce_params *,
                                      void *) = {ce_loss_f32, ce_loss_f64};
    const char *op = "cross_entropy";
    if (!check_options(op, logits, o) || !check_classes(op, logits, target, o->ignore_index))
        return NULL;
    int64_t n = logits->shape[0], classes = logits->shape[1];
    bool failed;
    tg_tensor *weights = weights_f64(op, o->weight, &failed);
    tg_tensor *losses = failed ? NULL : tg__new_owned(op, 1, &n, logits->dtype);
    tg_tensor *targets = losses ? tg__new_owned(op, 1, &n, TG_F64) : NULL;
    if (!targets) {
        tg_release(losses);
        tg_release(weights);
        return NULL;
    }
    ce_params p = ce_params_of(weights, classes, o->label_smoothing);
    double *kept = tg__ptr(targets), counted = 0; /* the total weight of the samples kept */
    for (int64_t i = 0; i < n; i++) {
        kept[i] = (double)target[i];
        if (target[i] == o->ignore_index) { /* counts for nothing */
            memset(row_of(losses, i), 0, tg_dtype_size(losses->dtype));
            continue;
        }
        counted += class_weight(&p, target[i]);
        loss_rows[logits->dtype](row_of(logits, i), logits->strides[1], classes, target[i], &p,
                                 row_of(losses, i));
    }
    const tg__op_def *def = weights || o->label_smoothing > 0 ? &weighted_cross_entropy_def
                                                              : &cross_entropy_def;
    tg_tensor *out = finish(def, 1, &logits, losses, targets, weights, o,
                            divisor(o->reduction, counted));
    tg_release(targets);
    return out;
}

/* ---- Cross entropy against class probabilities --------------------------------------------- */

/* One sample, rows x and t of C values (strides xs, ts), t' = (1 - e) t + e / C:
 *   loss:            -sum_c w[c] t'[c] (x[c] - lse), into *out
 *   gradient in x:   (softmax(x) sum_c w[c] t'[c] - w t') * scale, into dx
 *   gradient in t:   -(1 - e) w (x - lse) * scale, into dt
 * (dx, dt contiguous rows, or NULL when not wanted). */
#define CE_PROB_ROWS(sfx, T)                                                                     \
    static void ce_prob_loss_##sfx(const char *xr, int64_t xs, const char *tr, int64_t ts,       \
                                   int64_t C, const ce_params *p, void *out) {                   \
        const T *x = (const T *)xr, *t = (const T *)tr;                                          \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, xs, C);                                \
        double log_sum = log(st.sum), loss = 0;                                                  \
        for (int64_t c = 0; c < C; c++) {                                                        \
            double tc = (1 - p->smoothing) * t[c * ts] + p->smoothing / (double)C;               \
            loss -= class_weight(p, c) * tc * ((x[c * xs] - st.max) - log_sum);                  \
        }                                                                                        \
        *(T *)out = (T)loss;                                                                     \
    }                                                                                            \
    static void ce_prob_grad_##sfx(const char *xr, int64_t xs, const char *tr, int64_t ts,       \
                                   int64_t C, const ce_params *p, double scale, void *dx,        \
                                   void *dt) {                                                   \
        const T *x = (const T *)xr, *t = (const T *)tr;                                          \
        tg__softmax_stats st = tg__softmax_stats_##sfx(x, xs, C);                                \
        double log_sum = log(st.sum), weighted = 0, e = p->smoothing;                            \
        for (int64_t c = 0; c < C; c++)                                                          \
            weighted += class_weight(p, c) * ((1 - e) * t[c * ts] + e / (double)C);              \
        for (int64_t c = 0; c < C; c++) {                                                        \
            double w = class_weight(p, c), tc = (1 - e) * t[c * ts] + e / (double)C;             \
            double pc = exp(x[c * xs] - st.max) / st.sum;                                        \
            if (dx) ((T *)dx)[c] = (T)((pc * weighted - w * tc) * scale);                        \
            if (dt) ((T *)dt)[c] = (T)(-(1 - e) * w * ((x[c * xs] - st.max) - log_sum) * scale); \
        }                                                                                        \
    }
CE_PROB_ROWS(f32, float)
CE_PROB_ROWS(f64, double)

static int cross_entropy_probs_backward(tg__node *node, tg_tensor *g, tg_tensor **gi,
                                        const bool *needs) {
    static void (*const grad_rows[2])(const char *, int64_t, const char *, int64_t, int64_t,
                                      const ce_params *, double, void *,
                                      void *) = {ce_prob_grad_f32, ce_prob_grad_f64};
    const ce_state *st = TG__NODE_STATE(node, ce_state);
    tg_tensor *x = node->saved[CE_SAVED_LOGITS], *t = node->saved[CE_SAVED_TARGET];
    for (int k = 0; k < 2; k++)
        if (needs[k] && !(gi[k] = tg__new(node->def->name, 2, x->shape, x->dtype))) return -1;
    ce_params p = ce_params_of(node->saved[CE_SAVED_WEIGHTS], x->shape[1], st->smoothing);
    for (int64_t i = 0; i < x->shape[0]; i++) {
        double scale = tg_get(g, &i) / st->divisor; /* g is 0-dim, or (N,) for NONE */
        grad_rows[x->dtype](row_of(x, i), x->strides[1], row_of(t, i), t->strides[1], x->shape[1],
                            &p, scale, needs[0] ? row_of(gi[0], i) : NULL,
                            needs[1] ? row_of(gi[1], i) : NULL);
    }
    return 0;
}
static const tg__op_def cross_entropy_probs_def = {
    "CrossEntropyBackward0", cross_entropy_probs_backward,
    "d loss/d logits = softmax sum_c w[c] t'[c] - w t', d loss/d target = -(1 - e) w "
    "log_softmax, t' = (1 - e) t + e/C; / N for the mean"};

/* Probabilities, logits (N, C); o resolved. */
static tg_tensor *cross_entropy_probs_rows(tg_tensor *logits, tg_tensor *target,
                                           const tg_cross_entropy_options *o) {
    static void (*const loss_rows[2])(const char *, int64_t, const char *, int64_t, int64_t,
                                      const ce_params *,
                                      void *) = {ce_prob_loss_f32, ce_prob_loss_f64};
    const char *op = "cross_entropy";
    tg_tensor *in[2] = {logits, target};
    if (!tg__check_args(op, 2, in) || !check_options(op, logits, o) ||
        !check_target_shape(op, logits, target))
        return NULL;
    if (o->ignore_index >= 0) { /* as torch: only class indices can be ignored */
        tg__error(TG_ERR_VALUE,
                  "%s: ignore_index %lld with probabilities as the target (use a "
                  "negative one)",
                  op, (long long)o->ignore_index);
        return NULL;
    }
    int64_t n = logits->shape[0], classes = logits->shape[1];
    bool failed;
    tg_tensor *weights = weights_f64(op, o->weight, &failed);
    tg_tensor *losses = failed ? NULL : tg__new_owned(op, 1, &n, logits->dtype);
    if (!losses) {
        tg_release(weights);
        return NULL;
    }
    ce_params p = ce_params_of(weights, classes, o->label_smoothing);
    for (int64_t i = 0; i < n; i++)
        loss_rows[logits->dtype](row_of(logits, i), logits->strides[1], row_of(target, i),
                                 target->strides[1], classes, &p, row_of(losses, i));
    return finish(&cross_entropy_probs_def, 2, in, losses, target, weights, o,
                  divisor(o->reduction, (double)n));
}

/* ---- Cross entropy of logits of other shapes ------------------------------------------------
 * As torch: (C,) is one sample, and (N, C, d1, ..., dk) has the classes in
 * dim 1 and N d1 ... dk samples. Such logits (and a probability target of
 * their shape) become (samples, C) through differentiable views (copies
 * where the layout needs them), so the gradient finds its way back; NONE's
 * per-sample losses get the samples' shape, () or (N, d1, ..., dk). */

/* t as (samples, C) rows, in the innermost pool; NULL on error. */
static tg_tensor *class_rows(tg_tensor *t) {
    if (t->ndim == 1) return tg_unsqueeze(t, 0);
    int dims[TG_MAX_DIMS] = {0};
    int64_t samples = t->shape[0];
    for (int d = 1; d < t->ndim - 1; d++) dims[d] = d + 1, samples *= t->shape[d + 1];
    dims[t->ndim - 1] = 1; /* (N, d1, ..., dk, C) */
    return tg_reshape(tg_permute(t, t->ndim, dims), 2, (int64_t[]){samples, t->shape[1]});
}

/* The loss of logits (and target, when not NULL: probabilities; else the
 * class indices) of any shape torch takes; one of the two row functions
 * computes it. */
static tg_tensor *cross_entropy_any(tg_tensor *logits, const int64_t *classes, tg_tensor *target,
                                    const tg_cross_entropy_options *options) {
    const char *op = "cross_entropy";
    tg_cross_entropy_options o = options ? *options : tg_cross_entropy_defaults();
    if (logits->ndim == 2)
        return target ? cross_entropy_probs_rows(logits, target, &o)
                      : cross_entropy_rows(logits, classes, &o);
    if (logits->ndim == 0) {
        tg__error(TG_ERR_SHAPE, "%s: logits must have a class dim, got a 0-dim tensor", op);
        return NULL;
    }
    if (target && !check_target_shape(op, logits, target)) return NULL;
    tg_pool *pool = tg_pool_push(); /* the views and rows stay private */
    if (!pool) return NULL;
    tg_tensor *out = NULL, *rows = class_rows(logits);
    if (target)
        out = cross_entropy_probs_rows(rows, rows ? class_rows(target) : NULL, &o);
    else if (rows)
        out = cross_entropy_rows(rows, classes, &o);
    if (out && o.reduction == TG_REDUCTION_NONE) { /* per sample: the samples' shape */
        int64_t shape[TG_MAX_DIMS];
        int ndim = 0;
        for (int d = 0; d < logits->ndim; d++)
            if (d != (logits->ndim == 1 ? 0 : 1)) shape[ndim++] = logits->shape[d];
        out = tg_reshape(out, ndim, shape);
    }
    tg_retain(out);
    tg_pool_pop(pool);
    return out ? tg__autorelease(out) : NULL;
}

tg_tensor *tg_cross_entropy_ex(tg_tensor *logits, const int64_t *target,
                               const tg_cross_entropy_options *options) {
    if (!logits || !target) {
        tg__null_arg("cross_entropy");
        return NULL;
    }
    return cross_entropy_any(logits, target, NULL, options);
}

tg_tensor *tg_cross_entropy_probs(tg_tensor *logits, tg_tensor *target,
                                  const tg_cross_entropy_options *options) {
    if (!logits || !target) {
        tg__null_arg("cross_entropy");
        return NULL;
    }
    return cross_entropy_any(logits, NULL, target, options);
}
