/* ops/activation.c - ReLU and its relatives (leaky, parametric, randomized,
 * ELU), sigmoid, tanh, GELU, SiLU, Swish and softplus.
 *
 * Each op is its forward formula followed by its backward formula, g times
 * the derivative, both TG_ROWS in double, written in x (or in y, the
 * output, where the derivative reads more simply from it, as torch's does
 * for relu, sigmoid and tanh); the derivative is written above them as
 * math. p[0] and p[1] are the op's parameters (slope, alpha, beta, ...).
 * The formulas that the GLU variants share (sigmoid, SiLU, GELU, ReLU)
 * live in activation_internal.h. */
#include "activation_internal.h"

/* ---- Ops with one input and fixed parameters ----------------------------------------- */

#define UNARY_OP(var, node_name, local, op_name, forward, backward, saves)                      \
    static const tg__pointwise var = TG__UNARY_OP(node_name, local, op_name, forward, backward, \
                                                  TG__SAVES_##saves);

/* ---- relu: y = max(x, 0);  dy/dx = 0 for y <= 0, else 1 (NaN included) --------------- */

TG_ROWS1(relu_forward, TG_DOUBLE, x, act_relu(x))
/* NaN passes the gradient, as torch's y <= 0 ? 0 : g */
TG_ROWS2(relu_backward, TG_DOUBLE, g, y, g * !(y <= 0))
UNARY_OP(relu_op, "ReluBackward0", "dy/dx = 1 for x > 0, else 0", "relu", relu_forward,
         relu_backward, OUTPUT)

tg_tensor *tg_relu(tg_tensor *x) { return tg__pointwise_unary(&relu_op, x, 0, 0); }

/* ---- leaky_relu, slope s = p[0]: y = x for x > 0, else s x;  dy/dx = 1 for x > 0, else s
 * (s at 0, as torch) */

TG_ROWS1(leaky_relu_forward, TG_DOUBLE, x, x > 0 ? x : p[0] * x)
TG_ROWS2(leaky_relu_backward, TG_DOUBLE, g, x, g *(x > 0 ? 1 : p[0]))
UNARY_OP(leaky_relu_op, "LeakyReluBackward0", "dy/dx = 1 for x > 0, else the slope", "leaky_relu",
         leaky_relu_forward, leaky_relu_backward, INPUTS)

tg_tensor *tg_leaky_relu(tg_tensor *x, double negative_slope) {
    return tg__pointwise_unary(&leaky_relu_op, x, negative_slope, 0);
}

/* ---- rrelu: y = r x for x <= 0, else x;  dy/dx = r or 1 ---------------------------------
 * In training r is drawn per element, uniformly in [lower, upper] (not from a
 * Gaussian, as sometimes written: docs/ERRATA.md, item 7), in eval r = (lower + upper) / 2, which is
 * leaky_relu under torch's node name. As torch, training draws one double
 * per element x <= 0 in row-major order, r = u (upper - lower) + lower, with
 * the bounds first rounded to the tensor's dtype; the slopes are kept (1 for
 * x > 0) and the backward multiplies by them. */

UNARY_OP(rrelu_eval_op, "RreluWithNoiseBackward0", "dy/dx = 1 for x > 0, else (lower + upper) / 2",
         "rrelu", leaky_relu_forward, leaky_relu_backward, INPUTS)

/* A slope drawn in [lower, upper] = [p[0], p[1]]. */
static double rrelu_slope(const double *p, tg_generator *gen) {
    return tg__uniform(gen, TG_F64) * (p[1] - p[0]) + p[0];
}
/* The slopes: one draw per element x <= 0 in row-major order, run in order
 * by tg__map_ordered. */
TG_ROWS_ORDERED1(rrelu_noise, TG_DOUBLE, x, x <= 0 ? rrelu_slope(p, gen) : 1)
TG_ROWS2(product, TG_DOUBLE, a, b, a *b)

enum { RRELU_SAVED_NOISE };

static int rrelu_train_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    tg_tensor *noise = node->saved[RRELU_SAVED_NOISE];
    if (!(gi[0] = tg__new("rrelu", noise->ndim, noise->shape, noise->dtype))) return -1;
    tg__map(gi[0], 2, (const tg_tensor *[]){g, noise}, product[noise->dtype], NULL);
    return 0;
}
static const tg__op_def rrelu_train_def = {"RreluWithNoiseBackward0", rrelu_train_backward,
                                           "dy/dx = r (the drawn slope) for x <= 0, else 1"};

tg_tensor *tg_rrelu(tg_tensor *x, double lower, double upper, tg_mode training, tg_generator *gen) {
    if (!tg__check_float("rrelu", x)) return NULL;
    if (!(lower <= upper)) {
        tg__error(TG_ERR_VALUE, "rrelu: lower bound %g is greater than upper bound %g", lower,
                  upper);
        return NULL;
    }
    if (training == TG_EVAL) return tg__pointwise_unary(&rrelu_eval_op, x, (lower + upper) / 2, 0);
    tg__row_ctx c = {.p = {lower, upper}, .gen = tg__generator(gen)};
    tg_tensor *noise = tg__new_owned("rrelu", x->ndim, x->shape, x->dtype);
    tg_tensor *out = noise ? tg__new_owned("rrelu", x->ndim, x->shape, x->dtype) : NULL;
    if (out) {
        tg__map_ordered(noise, 1, (const tg_tensor *[]){x}, rrelu_noise[x->dtype], &c);
        tg__map(out, 2, (const tg_tensor *[]){x, noise}, product[x->dtype], &c);
        out = tg__finish(out, &rrelu_train_def, TG__TENSORS(x), TG__SAVE(noise));
    }
    tg_release(noise);
    return out;
}

/* ---- elu, alpha = p[0]: y = x for x > 0, else alpha (e^x - 1);
 * dy/dx = 1 for x > 0, else alpha e^x.
 * alpha is a fixed hyper-parameter (not learned: docs/ERRATA.md, item 8). */

TG_ROWS1(elu_forward, TG_DOUBLE, x, x > 0 ? x : p[0] * act_expm1(x))
TG_ROWS2(elu_backward, TG_DOUBLE, g, x, g *(x > 0 ? 1 : p[0] * act_exp(x)))
UNARY_OP(elu_op, "EluBackward0", "dy/dx = 1 for x > 0, else alpha e^x", "elu", elu_forward,
         elu_backward, INPUTS)

tg_tensor *tg_elu(tg_tensor *x, double alpha) { return tg__pointwise_unary(&elu_op, x, alpha, 0); }

/* ---- sigmoid: y = 1 / (1 + e^-x);  dy/dx = y (1 - y), in (0, 1/4] -------------------- */

TG_ROWS1(sigmoid_forward, TG_DOUBLE, x, act_sigmoid(x))
TG_ROWS2(sigmoid_backward, TG_DOUBLE, g, y, g *(y *(1 - y)))
UNARY_OP(sigmoid_op, "SigmoidBackward0", "dy/dx = y (1 - y)", "sigmoid", sigmoid_forward,
         sigmoid_backward, OUTPUT)

tg_tensor *tg_sigmoid(tg_tensor *x) { return tg__pointwise_unary(&sigmoid_op, x, 0, 0); }

/* ---- tanh: y = tanh x;  dy/dx = 1 - y^2 ---------------------------------------------- */

TG_ROWS1(tanh_forward, TG_DOUBLE, x, act_tanh(x))
TG_ROWS2(tanh_backward, TG_DOUBLE, g, y, g *(1 - y * y))
UNARY_OP(tanh_op, "TanhBackward0", "dy/dx = 1 - y^2", "tanh", tanh_forward, tanh_backward, OUTPUT)

tg_tensor *tg_tanh(tg_tensor *x) { return tg__pointwise_unary(&tanh_op, x, 0, 0); }

/* ---- gelu: y = x Phi(x);  dy/dx = Phi(x) + x phi(x)
 * tanh form: y = x (1 + t) / 2, t = tanh(sqrt(2/pi) (x + 0.044715 x^3));
 * dy/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2
 * (not 0.5 [tanh(u) + x (1 - GELU(x)^2)], docs/ERRATA.md item 4; see act_gelu_tanh_d). */

TG_ROWS1(gelu_forward, TG_DOUBLE, x, act_gelu(x))
TG_ROWS2(gelu_backward, TG_DOUBLE, g, x, g *(act_gelu_d(x).second))
UNARY_OP(gelu_op, "GeluBackward0", "dy/dx = Phi(x) + x phi(x)", "gelu", gelu_forward, gelu_backward,
         INPUTS)
TG_ROWS1(gelu_tanh_forward, TG_DOUBLE, x, act_gelu_tanh(x))
TG_ROWS2(gelu_tanh_backward, TG_DOUBLE, g, x, g *(act_gelu_tanh_d(x).second))
UNARY_OP(gelu_tanh_op, "GeluBackward0",
         "dy/dx = (1 + t)/2 + x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2", "gelu",
         gelu_tanh_forward, gelu_tanh_backward, INPUTS)

tg_tensor *tg_gelu(tg_tensor *x, tg_gelu_approx approximate) {
    if (x && approximate != TG_GELU_NONE && approximate != TG_GELU_TANH) {
        tg__error(TG_ERR_VALUE, "gelu: approximate must be TG_GELU_NONE or TG_GELU_TANH, not %d",
                  (int)approximate);
        return NULL;
    }
    return tg__pointwise_unary(approximate == TG_GELU_TANH ? &gelu_tanh_op : &gelu_op, x, 0, 0);
}

/* ---- silu: y = x sigma(x);  dy/dx = sigma(x) (1 + x (1 - sigma(x))) ------------------ */

TG_ROWS1(silu_forward, TG_DOUBLE, x, act_silu(x))
TG_ROWS2(silu_backward, TG_DOUBLE, g, x, g *(act_silu_d(x).second))
UNARY_OP(silu_op, "SiluBackward0", "dy/dx = s(x) (1 + x (1 - s(x)))", "silu", silu_forward,
         silu_backward, INPUTS)

tg_tensor *tg_silu(tg_tensor *x) { return tg__pointwise_unary(&silu_op, x, 0, 0); }

/* ---- softplus, beta = p[0], threshold = p[1]: with z = beta x,
 * y = log(1 + e^z) / beta, or x where z > threshold;  dy/dx = sigma(z), or 1 there.
 * log(1 + e^z) = max(z, 0) + log1p(e^-|z|) never overflows, whatever the
 * threshold; for z below it, it is the value torch computes. */

static double softplus(double x, double beta, double threshold) {
    double z = beta * x;
    return z > threshold ? x : (fmax(z, 0) + log1p(exp(-fabs(z)))) / beta;
}
TG_ROWS1(softplus_forward, TG_DOUBLE, x, softplus(x, p[0], p[1]))
TG_ROWS2(softplus_backward, TG_DOUBLE, g, x, g *(p[0] * x > p[1] ? 1 : act_sigmoid(p[0] * x)))
UNARY_OP(softplus_op, "SoftplusBackward0", "dy/dx = sigmoid(beta x)", "softplus", softplus_forward,
         softplus_backward, INPUTS)

tg_tensor *tg_softplus(tg_tensor *x, double beta, double threshold) {
    return tg__pointwise_unary(&softplus_op, x, beta, threshold);
}

/* ---- Ops with a learnable parameter w: prelu and swish ----------------------------------
 * The forward reads w through a view that broadcasts it over x: one value
 * everywhere, or one per channel along dim 1. The backward writes dy/dx and
 * each element's contribution to dy/dw in one pass, then sums the
 * contributions over the elements that share each value of w. */

static const tg__pointwise prelu_op;
TG_ROWS1(plus_zero, TG_DOUBLE, x, x + 0.0) /* -0 + 0 is +0 */

/* w viewed in x's dims (owned by the caller), or NULL when out of memory. */
static tg_tensor *param_view(const char *op, const tg_tensor *x, tg_tensor *w) {
    int64_t shape[TG_MAX_DIMS], strides[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = 1, strides[d] = 0;
    if (w->numel > 1) { /* one value per channel: w is 1-D, x has >= 2 dims */
        shape[1] = w->numel;
        strides[1] = w->strides[0];
    }
    return tg__view_owned(op, w, x->ndim, shape, strides, w->offset);
}

enum { PARAM_SAVED_X, PARAM_SAVED_W };

static int param_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    const tg__pointwise *op = TG__OP_OF(node, tg__pointwise);
    tg_tensor *x = node->saved[PARAM_SAVED_X], *w = node->saved[PARAM_SAVED_W], *gx, *contrib;
    tg_tensor *wv = tg__autorelease(param_view(op->name, x, w));
    if (!wv || !tg__new_pair(op->name, x->ndim, x->shape, x->dtype, &gx, &contrib)) return -1;
    tg__run_pair(op->backward, gx, contrib, g, x, wv, NULL);
    gi[0] = gx;
    if (needs[1]) {
        tg_tensor *sum = tg__sum_to(contrib, x->ndim, wv->shape);
        /* torch sums prelu's contributions even where a weight has one, from
         * +0: a lone -0 comes out +0 (sum_to leaves a lone one as it is). */
        if (sum == contrib && op == &prelu_op)
            tg__map(sum, 1, (const tg_tensor *[]){sum}, plus_zero[sum->dtype], NULL);
        gi[1] = tg_reshape(sum, w->ndim, w->shape);
        if (!gi[1]) return -1;
    }
    return 0;
}

/* y = op(x, w), w already checked against x. */
static tg_tensor *with_param(const tg__pointwise *op, tg_tensor *x, tg_tensor *w) {
    tg_tensor *wv = param_view(op->name, x, w);
    tg_tensor *out = wv ? tg__new_owned(op->name, x->ndim, x->shape, x->dtype) : NULL;
    if (out) tg__map(out, 2, (const tg_tensor *[]){x, wv}, op->forward[x->dtype], NULL);
    tg_release(wv);
    return out ? tg__finish(out, &op->def, TG__TENSORS(x, w), TG__SAVE(x, w)) : NULL;
}

/* ---- prelu: y = x for x > 0, else w x;  dy/dx = 1 or w;  dy/dw = 0 or x -------------- */

TG_ROWS2(prelu_forward, TG_DOUBLE, x, w, x > 0 ? x : w * x)
TG_ROWS_PAIR(prelu_backward, TG_DOUBLE, g, x, w,
             tg__pair_times(g, x > 0 ? TG_PAIR(1, 0) : TG_PAIR(w, x)))
static const tg__pointwise prelu_op = {
    {"PreluBackward0", param_backward, "dy/dx = 1 for x > 0, else w; dy/dw = x for x <= 0, else 0"},
    "prelu",
    prelu_forward,
    prelu_backward,
    TG__SAVES_INPUTS};

tg_tensor *tg_prelu(tg_tensor *x, tg_tensor *weight) {
    char bufx[TG_SHAPE_STR_MAX], bufw[TG_SHAPE_STR_MAX];
    if (!tg__check_args("prelu", 2, (tg_tensor *[]){x, weight})) return NULL;
    if (weight->ndim > 1) {
        tg__error(TG_ERR_SHAPE, "prelu: weight must be one value or 1-D, got shape %s",
                  tg__shape_str(bufw, sizeof bufw, weight->ndim, weight->shape));
        return NULL;
    }
    int64_t channels = x->ndim >= 2 ? x->shape[1] : 1;
    if (weight->numel != 1 && weight->numel != channels) {
        tg__error(TG_ERR_SHAPE,
                  "prelu: weight of shape %s does not match the %lld channel(s) (dim 1) of "
                  "input of shape %s; give one weight or one per channel",
                  tg__shape_str(bufw, sizeof bufw, weight->ndim, weight->shape),
                  (long long)channels, tg__shape_str(bufx, sizeof bufx, x->ndim, x->shape));
        return NULL;
    }
    return with_param(&prelu_op, x, weight);
}

/* ---- swish: y = x s, s = sigma(beta x);
 * dy/dx = s + beta x s (1 - s)  (= beta y + s (1 - beta y); for beta = 1 the
 * textbook f + sigma (1 - f));  dy/dbeta = x^2 s (1 - s) */

/* (x ds) beta and (x ds) x, in the order of torch's composite backward: where
 * ds is 0 (s saturated), beta x or x^2 may be inf, x ds is not. */
static tg__pair swish_d(double x, double beta) {
    double s = act_sigmoid(beta * x), ds = s * (1 - s);
    return TG_PAIR(s + x * ds * beta, x * ds * x);
}
TG_ROWS2(swish_forward, TG_DOUBLE, x, beta, x *act_sigmoid(beta *x))
TG_ROWS_PAIR(swish_backward, TG_DOUBLE, g, x, beta, tg__pair_times(g, swish_d(x, beta)))
static const tg__pointwise swish_op = {
    {"SwishBackward0", param_backward,
     "dy/dx = s + b x s (1 - s), dy/db = x^2 s (1 - s), s = s(b x)"},
    "swish",
    swish_forward,
    swish_backward,
    TG__SAVES_INPUTS};

tg_tensor *tg_swish(tg_tensor *x, tg_tensor *beta) {
    if (!tg__check_args("swish", 2, (tg_tensor *[]){x, beta})) return NULL;
    if (beta->numel != 1) {
        char buf[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "swish: beta must have one element, got shape %s",
                  tg__shape_str(buf, sizeof buf, beta->ndim, beta->shape));
        return NULL;
    }
    return with_param(&swish_op, x, beta);
}
