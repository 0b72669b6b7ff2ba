/* ops/glu.c - the GLU family: act(gate) * up, as torch's F.glu (the gate is
 * the sigmoid of x's second half, up its first half) and as the gated
 * feed-forward forms SwiGLU (SiLU), GeGLU (GELU) and ReGLU (ReLU) taking gate
 * and up as two tensors.
 *
 * Each is one fused pass forward and one backward, which computes both
 * gradients at once:
 *     y = act(gate) up;  dy/dgate = act'(gate) up;  dy/dup = act(gate)
 * with act and act' from activation_internal.h. */
#include "activation_internal.h"

/* The gradients, multiplied in PyTorch's order: dgate = (g up) act'(gate),
 * as torch's act_backward(g * up, gate), so that an up near DBL_MAX times
 * an act' above 1 does not overflow where g < 1 brings the product back
 * (g (act' up) would); dup = g act(gate). */
static TG_ALWAYS_INLINE tg__pair gated_grads(double g, double up, tg__pair act) {
    return TG_PAIR(g * up * act.second, g * act.first);
}

#define GATED_KERNELS(name, ACT, ACT_D)                           \
    TG_ROWS2(name##_forward, TG_DOUBLE, gate, up, ACT(gate) * up) \
    TG_ROWS_PAIR(name##_backward, TG_DOUBLE, g, gate, up, gated_grads(g, up, ACT_D(gate)))

/* ---- The gated forms: gate and up are two tensors of one shape ----------------------- */

/* Whether gate and up are floating-point tensors of one dtype and shape;
 * false with a message when not. */
static bool gated_args(const tg__pointwise *op, tg_tensor *gate, tg_tensor *up) {
    if (!tg__check_args(op->name, 2, (tg_tensor *[]){gate, up})) return false;
    if (!tg__same_shape(gate, up)) {
        char bufg[TG_SHAPE_STR_MAX], bufu[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: gate of shape %s and up of shape %s must have one shape",
                  op->name, tg__shape_str(bufg, sizeof bufg, gate->ndim, gate->shape),
                  tg__shape_str(bufu, sizeof bufu, up->ndim, up->shape));
        return false;
    }
    return true;
}

static tg_tensor *gated(const tg__pointwise *op, tg_tensor *gate, tg_tensor *up) {
    if (!gated_args(op, gate, up)) return NULL;
    return tg__pointwise_forward(op, 2, (tg_tensor *[]){gate, up}, NULL);
}

#define GATED_OP(var, node_name, op_name, kernels)                                             \
    static const tg__pointwise var = {{node_name, tg__pointwise_pair_backward,                 \
                                       "d(act(g) u)/dg = act'(g) u, d(act(g) u)/du = act(g)"}, \
                                      op_name,                                                 \
                                      kernels##_forward,                                       \
                                      kernels##_backward,                                      \
                                      TG__SAVES_INPUTS};

/* swiglu: act = silu. Its float32 kernels take the fast path of
 * activation_internal.h, dgate and dup each checked.
 * A forward that records keeps s = sigma(gate), in float64, for the
 * backward, which then needs no exponential of its own
 * (TG_ROWS2_SAVING_NEAR, core/internal/kernel.h: for float32 the fast
 * path's s, for float64 the formula's): on a tiny network that computing
 * it twice took a seventh of the training step. It keeps s while s fits
 * in SWIGLU_KEEP_MAX_BYTES, which the library's own cache of small blocks
 * serves and which stays in the CPU's caches until the backward reads it.
 * A larger s cost as much to read back as to compute again, measured on a
 * 256 x 1408 gate; and blocks of megabytes, malloc's own, made glibc
 * return memory at the end of each step and fault it in again in the
 * next (a fifth slower). */
#define SWIGLU_KEEP_MAX_BYTES (256 << 10)
static TG_ALWAYS_INLINE tg__near swiglu_near(double gate, double up, double s) {
    tg__rounded y = act_silu_times_near_of(gate, s, up);
    return TG_NEAR(y.value, 0, y.sure);
}
static TG_ALWAYS_INLINE tg__near swiglu_d_near(double g, double gate, double up, double s) {
    tg__pair act = act_silu_d_of(gate, s); /* gated_grads' products, each checked */
    tg__rounded dgate = act_silu_d_times_near(gate, s, act.second, g * up);
    tg__rounded dup = tg__near_rel(g * act.first, ACT_SIGMOID_NEAR);
    return TG_NEAR(dgate.value, dup.value, dgate.sure & dup.sure);
}
TG_ROWS2_NEAR(swiglu_forward, gate, up, act_silu(gate) * up,
              swiglu_near(gate, up, act_sigmoid_near(gate)))
TG_ROWS_PAIR_NEAR(swiglu_backward, g, gate, up, gated_grads(g, up, act_silu_d(gate)),
                  swiglu_d_near(g, gate, up, act_sigmoid_near(gate)))
GATED_OP(swiglu_op, "SwiGLUBackward0", "swiglu", swiglu)
/* The same keeping s: its forward, run by tg_swiglu with s's tensor. */
TG_ROWS2_SAVING_NEAR(swiglu_keeping_forward, gate, up, s, act_sigmoid(gate), act_sigmoid_near(gate),
                     (gate * s) * up, swiglu_near(gate, up, s))
TG_ROWS_PAIR_SAVED_NEAR(swiglu_keeping_backward, g, gate, up, s, act_sigmoid(gate),
                        gated_grads(g, up, act_silu_d_of(gate, s)), swiglu_d_near(g, gate, up, s))
GATED_OP(swiglu_keeping_op, "SwiGLUBackward0", "swiglu", swiglu_keeping)

tg_tensor *tg_swiglu(tg_tensor *gate, tg_tensor *up) {
    tg_tensor *in[2] = {gate, up};
    if (!gated_args(&swiglu_op, gate, up)) return NULL;
    if (!tg__should_record(2, in) || gate->numel > SWIGLU_KEEP_MAX_BYTES / (int64_t)sizeof(double))
        return tg__pointwise_forward(&swiglu_op, 2, in, NULL);
    const tg__pointwise *op = &swiglu_keeping_op;
    tg_tensor *s = tg__new_owned(op->name, gate->ndim, gate->shape, TG_F64);
    tg_tensor *out = s ? tg__new_owned(op->name, gate->ndim, gate->shape, gate->dtype) : NULL;
    if (out) {
        tg__map(out, 3, (const tg_tensor *[]){gate, up, s}, op->forward[out->dtype], NULL);
        out = tg__finish(out, &op->def, 2, in, TG__SAVE(gate, up, s));
    }
    tg_release(s);
    return out;
}

/* geglu: act = gelu ("z1 * tanh(z2)", sometimes written, gates with tanh: not GeGLU; docs/ERRATA.md, item 3) */
GATED_KERNELS(geglu, act_gelu, act_gelu_d)
GATED_OP(geglu_op, "GeGLUBackward0", "geglu", geglu)
GATED_KERNELS(geglu_tanh, act_gelu_tanh, act_gelu_tanh_d)
GATED_OP(geglu_tanh_op, "GeGLUBackward0", "geglu", geglu_tanh)

tg_tensor *tg_geglu(tg_tensor *gate, tg_tensor *up, tg_gelu_approx approximate) {
    if (gate && up && approximate != TG_GELU_NONE && approximate != TG_GELU_TANH) {
        tg__error(TG_ERR_VALUE, "geglu: approximate must be TG_GELU_NONE or TG_GELU_TANH, not %d",
                  (int)approximate);
        return NULL;
    }
    return gated(approximate == TG_GELU_TANH ? &geglu_tanh_op : &geglu_op, gate, up);
}

/* reglu: act = relu. Its gate gradient is selected, not multiplied, as
 * torch's threshold_backward: 0 where gate <= 0 even when up is inf or NaN. */
static TG_ALWAYS_INLINE tg__pair reglu_d(double gate, double up) {
    return TG_PAIR(act_relu_d(gate).second != 0 ? up : 0, act_relu(gate));
}
TG_ROWS2(reglu_forward, TG_DOUBLE, gate, up, act_relu(gate) * up)
TG_ROWS_PAIR(reglu_backward, TG_DOUBLE, g, gate, up, tg__pair_times(g, reglu_d(gate, up)))
GATED_OP(reglu_op, "ReGLUBackward0", "reglu", reglu)

tg_tensor *tg_reglu(tg_tensor *gate, tg_tensor *up) { return gated(&reglu_op, gate, up); }

/* ---- glu: one tensor split along dim into up (first half) and gate (second) ---------- */

/* Its float32 kernels take the fast path of activation_internal.h, as
 * swiglu's: y, dgate and dup each checked. */
static TG_ALWAYS_INLINE tg__near glu_near(double gate, double up) {
    tg__rounded y = act_sigmoid_times_near(gate, up);
    return TG_NEAR(y.value, 0, y.sure);
}
static TG_ALWAYS_INLINE tg__near glu_d_near(double g, double gate, double up) {
    tg__pair act = act_sigmoid_d_near(gate); /* gated_grads' products, each checked */
    tg__rounded dgate = act_near_in_domain(tg__near_rel(g * up * act.second, ACT_SIGMOID_D_NEAR),
                                           gate);
    tg__rounded dup = tg__near_rel(g * act.first, ACT_SIGMOID_NEAR);
    return TG_NEAR(dgate.value, dup.value, dgate.sure & dup.sure);
}
TG_ROWS2_NEAR(glu_forward, gate, up, act_sigmoid(gate) * up, glu_near(gate, up))
TG_ROWS_PAIR_NEAR(glu_backward, g, gate, up, gated_grads(g, up, act_sigmoid_d(gate)),
                  glu_d_near(g, gate, up))

/* Views of t's first and second halves along dim (owned by the caller);
 * false when out of memory (then neither is made). */
static bool halves(tg_tensor *t, int dim, tg_tensor **first, tg_tensor **second) {
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[dim] /= 2;
    int64_t step = shape[dim] * t->strides[dim];
    *first = tg__view_owned("glu", t, t->ndim, shape, t->strides, t->offset);
    *second = *first ? tg__view_owned("glu", t, t->ndim, shape, t->strides, t->offset + step)
                     : NULL;
    if (!*second) tg_release(*first);
    return *second != NULL;
}

enum { GLU_SAVED_X };

static int glu_split_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    tg_tensor *x = node->saved[GLU_SAVED_X], *up, *gate, *dup, *dgate;
    tg_tensor *dx = tg__new("glu", x->ndim, x->shape, x->dtype);
    int dim = *TG__NODE_STATE(node, int);
    if (!dx || !halves(x, dim, &up, &gate)) return -1;
    bool ok = halves(dx, dim, &dup, &dgate);
    if (ok) tg__run_pair(glu_backward, dgate, dup, 3, (const tg_tensor *[]){g, gate, up}, NULL);
    tg_release(up);
    tg_release(gate);
    if (ok) {
        tg_release(dup);
        tg_release(dgate);
    }
    gi[0] = dx;
    return ok ? 0 : -1;
}
static const tg__op_def glu_def = {"GluBackward0", glu_split_backward,
                                   "d(a s(b))/da = s(b), d(a s(b))/db = a s(b) (1 - s(b))"};

tg_tensor *tg_glu(tg_tensor *x, int dim) {
    if (!tg__check_float("glu", x)) return NULL;
    char buf[TG_SHAPE_STR_MAX];
    if (x->ndim == 0) {
        tg__error(TG_ERR_SHAPE, "glu: a 0-dim tensor cannot be split into halves");
        return NULL;
    }
    if (!tg__wrap_dim("glu", &dim, x->ndim)) return NULL;
    if (x->shape[dim] % 2 != 0) {
        tg__error(TG_ERR_SHAPE,
                  "glu: dim %d of input of shape %s has odd size %lld; it must split into "
                  "two equal halves",
                  dim, tg__shape_str(buf, sizeof buf, x->ndim, x->shape), (long long)x->shape[dim]);
        return NULL;
    }
    tg_tensor *up, *gate;
    if (!halves(x, dim, &up, &gate)) return NULL;
    tg_tensor *out = tg__new_owned("glu", up->ndim, up->shape, x->dtype);
    if (out) tg__map(out, 2, (const tg_tensor *[]){gate, up}, glu_forward[x->dtype], NULL);
    tg_release(up);
    tg_release(gate);
    return out ? tg__finish(out, &glu_def, TG__TENSORS(x), TG__SAVE_STATE(&dim, x)) : NULL;
}
