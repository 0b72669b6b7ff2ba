/* ops/loss.c - mse_loss and binary_cross_entropy_with_logits: rows of one
 * table, the loss of an element and its partial derivatives in the input x
 * and the target t, written once as formulas in double and instantiated per
 * dtype by macros. Reduced losses sum the per-element losses in double.
 * Cross entropy is ops/cross_entropy.c. */
#include <math.h>
#include <stddef.h>

#include "loss_internal.h"

/* ---- Elementwise losses: kernels ----------------------------------------------------------- */

/* p[0] = F(x, t), p[1] = x, p[2] = t. */
#define LOSS_ROW(name, T, F)                                                             \
    static TG_ALWAYS_INLINE void name##_body(char **p, const int64_t *s, int64_t n,      \
                                             void *ctx) {                                \
        (void)ctx;                                                                       \
        T *o = (T *)p[0];                                                                \
        const T *xs = (const T *)p[1], *ts = (const T *)p[2];                            \
        TG_SIMD                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                \
            double x = xs[i * s[1]], t = ts[i * s[2]];                                   \
            o[i * s[0]] = (T)(F);                                                        \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL(name, name##_body, 3)

/* p[0] = D(x, t) * g / div, p[1] = x, p[2] = t, p[3] = g (0-dim, broadcast,
 * for a reduced loss, the usual case); ctx points to div. */
#define LOSS_GRAD_ROW(name, T, D)                                                        \
    static TG_ALWAYS_INLINE void name##_body(char **p, const int64_t *s, int64_t n,      \
                                             void *ctx) {                                \
        const double div = *(const double *)ctx;                                         \
        T *o = (T *)p[0];                                                                \
        const T *xs = (const T *)p[1], *ts = (const T *)p[2], *gs = (const T *)p[3];     \
        TG_SIMD                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                \
            double x = xs[i * s[1]], t = ts[i * s[2]], g = gs[i * s[3]];                 \
            (void)t;                                                                     \
            o[i * s[0]] = (T)((D) * g / div);                                            \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL_LIKE(name, name##_body, 4, 1, 1, 1, 0)

#define LOSS_KERNELS(op, F, DX, DT)                                                      \
    LOSS_ROW(op##_f32, float, F)                                                         \
    LOSS_ROW(op##_f64, double, F)                                                        \
    LOSS_GRAD_ROW(op##_dx_f32, float, DX)                                                \
    LOSS_GRAD_ROW(op##_dx_f64, double, DX)                                               \
    LOSS_GRAD_ROW(op##_dt_f32, float, DT)                                                \
    LOSS_GRAD_ROW(op##_dt_f64, double, DT)

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
 * saved[0] = x, saved[1] = t, scalars[0] = the divisor of the gradient. */

typedef struct loss_op {
    const char *name;
    tg_op_def node;
    tg_row_fn forward[2];
    tg_row_fn backward[2][2]; /* [input: x or t][dtype] */
} loss_op;

static int elementwise_loss_backward(tg_node *node, tg_tensor *g, tg_tensor **gi,
                                     const bool *needs);

#define LOSS_OP(op, node_name, local)                                                    \
    static const loss_op op##_op = {#op,                                                 \
                                    {node_name, elementwise_loss_backward, local},       \
                                    {op##_f32, op##_f64},                                \
                                    {{op##_dx_f32, op##_dx_f64}, {op##_dt_f32, op##_dt_f64}}}
LOSS_OP(mse, "MseLossBackward0", "d (x - t)^2/dx = 2 (x - t), / n for the mean");
LOSS_OP(bce, "BinaryCrossEntropyWithLogitsBackward0",
        "d loss/dx = sigmoid(x) - t, / n for the mean");

/* A node's def is the `node` member of its loss_op. */
static const loss_op *op_of(const tg_node *node) {
    return (const loss_op *)((const char *)node->def - offsetof(loss_op, node));
}

static int elementwise_loss_backward(tg_node *node, tg_tensor *g, tg_tensor **gi,
                                     const bool *needs) {
    const loss_op *op = op_of(node);
    tg_tensor *x = node->saved[0], *t = node->saved[1];
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        if (!(gi[i] = tg__new(op->name, x->ndim, x->shape, x->dtype))) return -1;
        tg__map(gi[i], 3, (const tg_tensor *[]){x, t, g}, op->backward[i][x->dtype],
                &node->scalars[0]);
    }
    return 0;
}

static tg_tensor *elementwise_loss(const loss_op *op, const char *name, tg_tensor *x,
                                   tg_tensor *t, tg_reduction r) {
    tg_tensor *in[2] = {x, t};
    if (!tg__check_args(name, 2, in) || !check_reduction(name, r) ||
        !check_target_shape(name, x, t))
        return NULL;
    tg_tensor *losses = tg__new_owned(name, x->ndim, x->shape, x->dtype);
    if (losses) tg__map(losses, 2, (const tg_tensor *[]){x, t}, op->forward[x->dtype], NULL);
    double d = divisor(r, (double)x->numel);
    tg_tensor *out = reduce_losses(name, losses, r, d);
    tg_node *node;
    if (!out || !(out = tg__finish(out, &op->node, 2, in, &node))) return NULL;
    if (node) {
        node->scalars[0] = d;
        if (!tg__save(node, x) || !tg__save(node, t)) return NULL; /* out stays pooled */
    }
    return out;
}

tg_tensor *tg_mse_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction) {
    return elementwise_loss(&mse_op, "mse_loss", input, target, reduction);
}

tg_tensor *tg_binary_cross_entropy_with_logits(tg_tensor *x, tg_tensor *target,
                                               tg_reduction reduction) {
    return elementwise_loss(&bce_op, "binary_cross_entropy_with_logits", x, target, reduction);
}
