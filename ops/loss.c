/* ops/loss.c - mse_loss and binary_cross_entropy_with_logits: rows of one
 * table, the loss of an element and its partial derivatives in the input x
 * and the target t, written once as formulas in double and instantiated per
 * dtype by macros. Reduced losses sum the per-element losses in double.
 * Cross entropy is ops/cross_entropy.c. */
#include <math.h>
#include <stddef.h>

#include "loss_internal.h"

/* ---- Elementwise losses: kernels ----------------------------------------------------------- */

/* Each loss is three formulas in double: the loss of an element, and g
 * times its partial derivatives in x and t, divided by the reduction's
 * divisor raw[0] (unrounded: a count). g is 0-dim, broadcast, for a
 * reduced loss, the usual case (TG_ROWS3 has a copy for it). */
#define LOSS_KERNELS(op, F, DX, DT)                        \
    TG_ROWS2(op##_rows, TG_DOUBLE, x, t, F)                \
    TG_ROWS3(op##_dx, TG_DOUBLE, x, t, g, (DX)*g / raw[0]) \
    TG_ROWS3(op##_dt, TG_DOUBLE, x, t, g, ((void)t, (DT)) * g / raw[0])

LOSS_KERNELS(mse, (x - t) * (x - t), 2 * (x - t), 2 * (t - x))

/* (1 - t) x + m + log(1 + exp(-|x|)), m = max(-x, 0), PyTorch 1.13's
 * arrangement (inf at x = inf, t = 0, where max(x, 0) - x t is NaN), with
 * |x| written x + 2m, which is NaN at x = -inf as PyTorch's exp(-x - m) is:
 * exp never overflows, and log1p keeps the last term where it is tiny
 * (PyTorch's log(exp(-m) + exp(-x - m)) rounds it away for |x| > 17 in
 * float32, an absolute difference < 1e-7). */
LOSS_KERNELS(bce, (1 - t) * x + fmax(-x, 0) + log1p(exp(-x - 2 * fmax(-x, 0))),
             1 / (1 + exp(-x)) - t, -x)

/* ---- Elementwise losses: forward and backward ------------------------------------------------
 * The node saves x and t and keeps the divisor of the gradient. */
enum { LOSS_SAVED_X, LOSS_SAVED_T };
typedef struct loss_state {
    double divisor;
} loss_state;

typedef struct loss_op {
    tg__op_def node; /* first: the node's def leads back to the op */
    const char *name;
    const tg__row_fn *forward;
    const tg__row_fn *backward[2]; /* by input: x, t */
} loss_op;

static int elementwise_loss_backward(tg__node *node, tg_tensor *g, tg_tensor **gi,
                                     const bool *needs);

#define LOSS_OP(op, node_name, local) \
    static const loss_op op##_op = {  \
        {node_name, elementwise_loss_backward, local}, #op, op##_rows, {op##_dx, op##_dt}}
LOSS_OP(mse, "MseLossBackward0", "d (x - t)^2/dx = 2 (x - t), / n for the mean");
LOSS_OP(bce, "BinaryCrossEntropyWithLogitsBackward0",
        "d loss/dx = sigmoid(x) - t, / n for the mean");

static int elementwise_loss_backward(tg__node *node, tg_tensor *g, tg_tensor **gi,
                                     const bool *needs) {
    const loss_op *op = TG__OP_OF(node, loss_op);
    const loss_state *st = TG__NODE_STATE(node, loss_state);
    tg_tensor *x = node->saved[LOSS_SAVED_X], *t = node->saved[LOSS_SAVED_T];
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        if (!(gi[i] = tg__new(op->name, x->ndim, x->shape, x->dtype))) return -1;
        tg__map(gi[i], 3, (const tg_tensor *[]){x, t, g}, op->backward[i][x->dtype],
                &(tg__row_ctx){.p = {st->divisor}});
    }
    return 0;
}

static tg_tensor *elementwise_loss(const loss_op *op, const char *name, tg_tensor *x, tg_tensor *t,
                                   tg_reduction r) {
    tg_tensor *in[2] = {x, t};
    if (!tg__check_args(name, 2, in) || !check_reduction(name, r) ||
        !check_target_shape(name, x, t))
        return NULL;
    tg_tensor *losses = tg__new_owned(name, x->ndim, x->shape, x->dtype);
    if (losses) tg__map(losses, 2, (const tg_tensor *[]){x, t}, op->forward[x->dtype], NULL);
    double d = divisor(r, (double)x->numel);
    tg_tensor *out = reduce_losses(name, losses, r, d);
    loss_state st = {d};
    return out ? tg__finish(out, &op->node, TG__TENSORS(x, t), TG__SAVE_STATE(&st, x, t)) : NULL;
}

tg_tensor *tg_mse_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction) {
    return elementwise_loss(&mse_op, "mse_loss", input, target, reduction);
}

tg_tensor *tg_binary_cross_entropy_with_logits(tg_tensor *x, tg_tensor *target,
                                               tg_reduction reduction) {
    return elementwise_loss(&bce_op, "binary_cross_entropy_with_logits", x, target, reduction);
}
