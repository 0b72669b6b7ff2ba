/* ops/loss.c - the elementwise losses: mse_loss, smooth_l1_loss, huber_loss,
 * binary_cross_entropy and binary_cross_entropy_with_logits are rows of one
 * table, the loss of an element and its partial derivatives in the input x
 * and the target t, written once as formulas in double and instantiated per
 * dtype by macros; reduced losses sum the per-element losses in double.
 * l1_loss and kl_div are compositions of ops, as torch 1.13's are (so are
 * their nodes). Cross entropy is ops/cross_entropy.c. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "loss_internal.h"

/* ---- Elementwise losses: kernels ----------------------------------------------------------- */

/* Each loss is three formulas in double: the loss of an element, and g
 * times its partial derivatives in x and t, divided by the reduction's
 * divisor raw[0] (unrounded: a count). p[1] is the loss's number (beta,
 * delta), rounded to the dtype as torch rounds it. g is 0-dim, broadcast,
 * for a reduced loss without a weight, the usual case (TG_ROWS3 has a copy
 * for it). A loss with a tensor of parameters (pos_weight) reads it as a,
 * after x and t. */
#define LOSS_KERNELS(op, F, DX, DT)                                     \
    TG_ROWS2(op##_rows, TG_DOUBLE, x, t, F)                             \
    TG_ROWS3(op##_dx, TG_DOUBLE, x, t, g, ((void)t, (DX)) * g / raw[0]) \
    TG_ROWS3(op##_dt, TG_DOUBLE, x, t, g, ((void)t, (DT)) * g / raw[0])
#define LOSS_KERNELS_WITH(op, F, DX, DT)                                            \
    TG_ROWS3(op##_rows, TG_DOUBLE, x, t, a, F)                                      \
    TG_ROWS4(op##_dx, TG_DOUBLE, x, t, a, g, ((void)t, (void)a, (DX)) * g / raw[0]) \
    TG_ROWS4(op##_dt, TG_DOUBLE, x, t, a, g, ((void)t, (void)a, (DT)) * g / raw[0])

LOSS_KERNELS(mse, (x - t) * (x - t), 2 * (x - t), 2 * (t - x))

/* smooth_l1 (beta = p[1]): z^2 / (2 beta) for |z| < beta, |z| - beta / 2
 * beyond, z = x - t; slope z / beta, then sign(z). beta = 0 is l1_loss, and
 * the slope at z = 0 is then 0, as l1_loss's (torch's is -1 there, for x
 * and for t alike). The slope for t is that of t - x, as torch computes it
 * (so with its signs of zero). NaN stays NaN. */
static inline double smooth_l1_slope(double z, double beta) {
    return fabs(z) < beta ? z / beta : z > 0 ? 1 : z < 0 ? -1 : z * 0;
}
LOSS_KERNELS(smooth_l1,
             fabs(x - t) < p[1] ? 0.5 * fabs(x - t) * fabs(x - t) / p[1] : fabs(x - t) - 0.5 * p[1],
             smooth_l1_slope(x - t, p[1]), smooth_l1_slope(t - x, p[1]))

/* huber (delta = p[1]): z^2 / 2 for |z| < delta, delta (|z| - delta / 2)
 * beyond; slope z clamped to [-delta, delta]. */
static inline double huber_slope(double z, double delta) {
    return z < -delta ? -delta : z > delta ? delta : z;
}
LOSS_KERNELS(huber,
             fabs(x - t) < p[1] ? 0.5 * fabs(x - t) * fabs(x - t)
                                : p[1] * (fabs(x - t) - 0.5 * p[1]),
             huber_slope(x - t, p[1]), huber_slope(t - x, p[1]))

/* binary cross entropy on probabilities x in [0, 1]: -(t log x + (1 - t)
 * log(1 - x)), each log clamped at -100 as torch's, in its arrangement (so
 * with its signs of zero), with log1p(-x) for log(1 - x), which keeps it for
 * small x (torch's log(1 - x) loses x below 1e-16, and a relative 1e-16 / x
 * of it above). Gradients, as torch's: (x - t) / max(x (1 - x), eps) for x,
 * eps torch's 1e-12 as a float32 even in float64; log(1 - x) - log(x), not
 * clamped, for t. */
LOSS_KERNELS(bce, (t - 1) * fmax(log1p(-x), -100) - t * fmax(log(x), -100),
             (x - t) / fmax((1 - x) * x, (double)1e-12f), log1p(-x) - log(x))

/* With logits: (1 - t) x + m + log(1 + exp(-|x|)), m = max(-x, 0), PyTorch
 * 1.13's arrangement (inf at x = inf, t = 0, where max(x, 0) - x t is NaN),
 * with |x| written x + 2m, which is NaN at x = -inf as PyTorch's exp(-x - m)
 * is: exp never overflows, and log1p keeps the last term where it is tiny
 * (PyTorch's log(exp(-m) + exp(-x - m)) rounds it away for |x| > 17 in
 * float32, an absolute difference < 1e-7). */
#define SOFTPLUS_NEG(x) (fmax(-(x), 0) + log1p(exp(-(x)-2 * fmax(-(x), 0)))) /* log(1 + e^-x) */
LOSS_KERNELS(bce_logits, (1 - t) * x + SOFTPLUS_NEG(x), 1 / (1 + exp(-x)) - t, -x)
/* With pos_weight a: the log(1 + e^-x) term weighted by (a - 1) t + 1; the
 * gradients as torch's, ((a t + 1) - t) sigmoid(x) - a t for x and
 * log_sigmoid(-x) - a log_sigmoid(x) for t. */
LOSS_KERNELS_WITH(bce_logits_pos, (1 - t) * x + ((a - 1) * t + 1) * SOFTPLUS_NEG(x),
                  (a * t + 1 - t) / (1 + exp(-x)) - a * t, a *SOFTPLUS_NEG(x) - SOFTPLUS_NEG(-x))

/* The weight of binary_cross_entropy (with logits or not), in the tensors'
 * own type as torch's loss.mul_(weight). */
TG_ROWS2(weigh_rows, TG_OWN, loss, w, loss *w)

/* ---- Elementwise losses: forward and backward ------------------------------------------------
 * The node saves x and t, the loss's parameter tensor and the weight (NULL
 * when absent), and keeps the divisor of the gradient and the loss's number. */
enum { LOSS_SAVED_X, LOSS_SAVED_T, LOSS_SAVED_PARAMS, LOSS_SAVED_WEIGHT };
typedef struct loss_state {
    double divisor, number;
} loss_state;

typedef struct loss_op {
    tg__op_def node; /* first: the node's def leads back to the op */
    const char *name;
    const tg__row_fn *forward;
    const tg__row_fn *backward[2]; /* by input: x, t */
} loss_op;

static int elementwise_loss_backward(tg__node *node, tg_tensor *g, tg_tensor **gi,
                                     const bool *needs);

#define LOSS_OP(var, kernels, name, node_name, local)                          \
    static const loss_op var = {{node_name, elementwise_loss_backward, local}, \
                                name,                                          \
                                kernels##_rows,                                \
                                {kernels##_dx, kernels##_dt}}
LOSS_OP(mse_op, mse, "mse_loss", "MseLossBackward0",
        "d (x - t)^2/dx = 2 (x - t), / n for the mean");
LOSS_OP(smooth_l1_op, smooth_l1, "smooth_l1_loss", "SmoothL1LossBackward0",
        "d loss/dx = (x - t) / beta inside beta, sign(x - t) beyond, / n for the mean");
LOSS_OP(huber_op, huber, "huber_loss", "HuberLossBackward0",
        "d loss/dx = x - t clamped to [-delta, delta], / n for the mean");
LOSS_OP(bce_op, bce, "binary_cross_entropy", "BinaryCrossEntropyBackward0",
        "d loss/dx = w (x - t) / (x (1 - x)), / n for the mean");
LOSS_OP(bce_logits_op, bce_logits, "binary_cross_entropy_with_logits",
        "BinaryCrossEntropyWithLogitsBackward0",
        "d loss/dx = w (sigmoid(x) - t), / n for the mean");
LOSS_OP(bce_logits_pos_op, bce_logits_pos, "binary_cross_entropy_with_logits",
        "BinaryCrossEntropyWithLogitsBackward0",
        "d loss/dx = w ((p t + 1 - t) sigmoid(x) - p t), p = pos_weight, / n for the mean");

static int elementwise_loss_backward(tg__node *node, tg_tensor *g, tg_tensor **gi,
                                     const bool *needs) {
    const loss_op *op = TG__OP_OF(node, loss_op);
    const loss_state *st = TG__NODE_STATE(node, loss_state);
    tg_tensor *x = node->saved[LOSS_SAVED_X], *t = node->saved[LOSS_SAVED_T];
    tg_tensor *params = node->saved[LOSS_SAVED_PARAMS], *w = node->saved[LOSS_SAVED_WEIGHT];
    if (w && !(g = tg_mul(g, w))) return -1;
    const tg_tensor *in[4] = {x, t, params ? params : g, g};
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        if (!(gi[i] = tg__new(op->name, x->ndim, x->shape, x->dtype))) return -1;
        tg__map(gi[i], params ? 4 : 3, in, op->backward[i][x->dtype],
                &(tg__row_ctx){.p = {st->divisor, st->number}});
    }
    return 0;
}

/* The loss of x and t (checked: non-NULL, floating-point, of one dtype and
 * shape; reduction valid) with its number, its parameter tensor and its
 * weight (checked, or NULL). */
static tg_tensor *elementwise_loss(const loss_op *op, tg_tensor *x, tg_tensor *t, tg_reduction r,
                                   double number, tg_tensor *params, tg_tensor *w) {
    tg_tensor *losses = tg__new_owned(op->name, x->ndim, x->shape, x->dtype);
    if (losses) {
        tg__map(losses, params ? 3 : 2, (const tg_tensor *[]){x, t, params}, op->forward[x->dtype],
                &(tg__row_ctx){.p = {0, number}});
        if (w) tg__map(losses, 2, (const tg_tensor *[]){losses, w}, weigh_rows[x->dtype], NULL);
    }
    double d = divisor(r, (double)x->numel);
    tg_tensor *out = reduce_losses(op->name, losses, r, d);
    loss_state st = {d, number};
    return out ? tg__finish(out, &op->node, TG__TENSORS(x, t), TG__SAVE_STATE(&st, x, t, params, w))
               : NULL;
}

/* The checks every loss of an input and a target makes. */
static bool check_pair(const char *op, tg_tensor *x, tg_tensor *t, tg_reduction r) {
    return tg__check_args(op, 2, (tg_tensor *[]){x, t}) && check_reduction(op, r, false) &&
           check_target_shape(op, x, t);
}

tg_tensor *tg_mse_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction) {
    if (!check_pair(mse_op.name, input, target, reduction)) return NULL;
    return elementwise_loss(&mse_op, input, target, reduction, 0, NULL, NULL);
}

tg_tensor *tg_smooth_l1_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction,
                             double beta) {
    if (!check_pair(smooth_l1_op.name, input, target, reduction)) return NULL;
    if (!(beta >= 0)) {
        tg__error(TG_ERR_VALUE, "smooth_l1_loss does not support negative values for beta (got %g)",
                  beta);
        return NULL;
    }
    return elementwise_loss(&smooth_l1_op, input, target, reduction, beta, NULL, NULL);
}

tg_tensor *tg_huber_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction,
                         double delta) {
    if (!check_pair(huber_op.name, input, target, reduction)) return NULL;
    if (!(delta > 0)) {
        tg__error(TG_ERR_VALUE,
                  "huber_loss does not support non-positive values for delta (got %g)", delta);
        return NULL;
    }
    return elementwise_loss(&huber_op, input, target, reduction, delta, NULL, NULL);
}

/* A weight or pos_weight: of x's dtype, broadcasting to x's shape (the
 * loss's shape; torch multiplies the loss by it in place). */
static bool check_weight(const char *op, const char *what, const tg_tensor *w, const tg_tensor *x) {
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    if (!w) return true;
    if (w->dtype != x->dtype) {
        tg__error(TG_ERR_DTYPE, "%s: %s dtype %s differs from the input's %s", op, what,
                  tg_dtype_name(w->dtype), tg_dtype_name(x->dtype));
        return false;
    }
    if (tg__broadcast_shapes(op, x->ndim, x->shape, w->ndim, w->shape, &ndim, shape) &&
        ndim == x->ndim && !memcmp(shape, x->shape, sizeof(int64_t) * (size_t)ndim))
        return true;
    char bufw[TG_SHAPE_STR_MAX], bufx[TG_SHAPE_STR_MAX];
    tg__error(TG_ERR_SHAPE, "%s: %s of shape %s does not broadcast to the input's shape %s", op,
              what, tg__shape_str(bufw, sizeof bufw, w->ndim, w->shape),
              tg__shape_str(bufx, sizeof bufx, x->ndim, x->shape));
    return false;
}

/* Probabilities are in [0, 1] (NaN is not); torch checks each element as it
 * computes the loss. The first that is not, in row-major order. */
typedef struct outside_unit {
    tg_dtype dtype;
    bool found;
    double value;
} outside_unit;

static void find_outside_unit(char **p, const int64_t *s, int64_t n, void *ctx) {
    outside_unit *o = ctx;
    int64_t size = (int64_t)tg_dtype_size(o->dtype);
    for (int64_t i = 0; i < n && !o->found; i++) {
        double v = tg__load_elem(o->dtype, p[0] + i * s[0] * size);
        if (!(v >= 0 && v <= 1)) o->found = true, o->value = v;
    }
}

static bool check_probabilities(const char *op, tg_tensor *x) {
    outside_unit o = {x->dtype, false, 0};
    tg__iter it;
    tg__iter_init(&it, x->ndim, x->shape, 1, (const int64_t *const[]){x->strides});
    tg__iter_run(&it, (char *[]){tg__ptr(x)}, (size_t[]){tg_dtype_size(x->dtype)},
                 find_outside_unit, &o);
    if (!o.found) return true;
    tg__error(TG_ERR_VALUE, "%s: all elements of input should be between 0 and 1 (found %g)", op,
              o.value);
    return false;
}

tg_tensor *tg_binary_cross_entropy(tg_tensor *input, tg_tensor *target, tg_tensor *weight,
                                   tg_reduction reduction) {
    const char *op = bce_op.name;
    if (!check_pair(op, input, target, reduction) || !check_weight(op, "weight", weight, input) ||
        !check_probabilities(op, input))
        return NULL;
    return elementwise_loss(&bce_op, input, target, reduction, 0, NULL, weight);
}

tg_bce_with_logits_options tg_bce_with_logits_defaults(void) {
    return (tg_bce_with_logits_options){TG_REDUCTION_MEAN, NULL, NULL};
}

tg_tensor *tg_binary_cross_entropy_with_logits_ex(tg_tensor *x, tg_tensor *target,
                                                  const tg_bce_with_logits_options *options) {
    const char *op = bce_logits_op.name;
    tg_bce_with_logits_options o = options ? *options : tg_bce_with_logits_defaults();
    if (!check_pair(op, x, target, o.reduction) || !check_weight(op, "weight", o.weight, x) ||
        !check_weight(op, "pos_weight", o.pos_weight, x))
        return NULL;
    return elementwise_loss(o.pos_weight ? &bce_logits_pos_op : &bce_logits_op, x, target,
                            o.reduction, 0, o.pos_weight, o.weight);
}

tg_tensor *tg_binary_cross_entropy_with_logits(tg_tensor *x, tg_tensor *target,
                                               tg_reduction reduction) {
    tg_bce_with_logits_options o = tg_bce_with_logits_defaults();
    o.reduction = reduction;
    return tg_binary_cross_entropy_with_logits_ex(x, target, &o);
}

/* ---- Losses composed of ops, as torch 1.13 composes them ------------------------------------
 * Their graphs, and so their nodes, are torch's: l1_loss is AbsBackward0,
 * MeanBackward0 or SumBackward0 by reduction, kl_div SubBackward0 (or
 * MulBackward0 for log targets), MeanBackward0, SumBackward0 or, for
 * batchmean, DivBackward0. */

/* losses reduced as r asks, in a pool of the caller's (which keeps the
 * intermediate results until it is popped). */
static tg_tensor *reduce_composed(tg_tensor *losses, tg_reduction r, const tg_tensor *x) {
    switch (r) {
    case TG_REDUCTION_NONE: return losses;
    case TG_REDUCTION_SUM: return tg_sum(losses);
    case TG_REDUCTION_BATCHMEAN: /* the sum over the batch, dim 0 (none for a 0-dim input) */
        return x->ndim ? tg_div_scalar(tg_sum(losses), (double)x->shape[0]) : tg_sum(losses);
    default: return tg_mean(losses);
    }
}

tg_tensor *tg_l1_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction) {
    if (!check_pair("l1_loss", input, target, reduction)) return NULL;
    tg_pool *pool = tg_pool_push();
    if (!pool) return NULL;
    tg_tensor *out = tg_retain(reduce_composed(tg_abs(tg_sub(input, target)), reduction, input));
    tg_pool_pop(pool);
    return tg__autorelease(out);
}

/* Pointwise, target * (log(target) - input) as xlogy(t, t) - t x (0 where t
 * = 0), or exp(t) (t - x) for log targets. */
tg_tensor *tg_kl_div(tg_tensor *input, tg_tensor *target, tg_reduction reduction,
                     tg_log_target log_target) {
    const char *op = "kl_div";
    if (!tg__check_args(op, 2, (tg_tensor *[]){input, target}) ||
        !check_reduction(op, reduction, true) || !check_target_shape(op, input, target))
        return NULL;
    tg_pool *pool = tg_pool_push();
    if (!pool) return NULL;
    tg_tensor *x = input, *t = target;
    tg_tensor *losses = log_target ? tg_mul(tg_exp(t), tg_sub(t, x))
                                   : tg_sub(tg_xlogy(t, t), tg_mul(t, x));
    tg_tensor *out = tg_retain(reduce_composed(losses, reduction, x));
    tg_pool_pop(pool);
    return tg__autorelease(out);
}
