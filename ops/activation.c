/* ops/activation.c - ReLU and its relatives (leaky, parametric, randomized,
 * ELU, SELU, CELU), sigmoid, tanh, GELU, SiLU, Swish, softplus, the hard
 * ones (hardtanh, relu6, hardsigmoid, hardswish), mish, logsigmoid,
 * softsign and tanhshrink.
 *
 * Each op is its forward formula followed by its backward formula, g times
 * the derivative, both TG_ROWS in double (the hard ones in the tensor's own
 * type, PyTorch's steps, whose bits they give), written in x (or in y, the
 * output, where the derivative reads more simply from it, as torch's does
 * for relu, sigmoid and tanh); the derivative is written above them as
 * math. p[0] to p[2] are the op's parameters (slope, alpha, beta, ...).
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

/* op on x with the parameters p[0..3], x checked here. */
static tg_tensor *unary_with(const tg__pointwise *op, tg_tensor *x, const double *p) {
    if (!x) {
        tg__null_arg(op->name);
        return NULL;
    }
    return tg__pointwise_forward(op, 1, &x, p);
}

/* ---- elu, as PyTorch's, with alpha = p[0], scale = p[1], input_scale = p[2]:
 * y = scale x for x > 0, else scale alpha (e^(input_scale x) - 1);
 * dy/dx = scale for x > 0, else scale alpha input_scale e^(input_scale x).
 * ELU is (alpha, 1, 1), SELU (1.6733, 1.0507, 1), CELU (alpha, 1, 1 / alpha).
 * alpha is a fixed hyper-parameter (not learned: docs/ERRATA.md, item 8). */

TG_ROWS1(elu_forward, TG_DOUBLE, x, x > 0 ? p[1] * x : p[0] * p[1] * act_expm1(p[2] * x))
TG_ROWS2(elu_backward, TG_DOUBLE, g, x, g *(x > 0 ? p[1] : p[0] * p[1] * p[2] * act_exp(p[2] * x)))
UNARY_OP(elu_op, "EluBackward0", "dy/dx = 1 for x > 0, else alpha e^x", "elu", elu_forward,
         elu_backward, INPUTS)

tg_tensor *tg_elu(tg_tensor *x, double alpha) {
    return unary_with(&elu_op, x, (const double[4]){alpha, 1, 1});
}

/* ---- selu: scale elu(x, alpha) with Klambauer et al.'s constants;
 * dy/dx = scale for x > 0, else scale alpha e^x. PyTorch computes it as
 * elu(x, alpha, scale), recording EluBackward0. */

UNARY_OP(selu_op, "EluBackward0", "dy/dx = scale for x > 0, else scale alpha e^x", "selu",
         elu_forward, elu_backward, INPUTS)

tg_tensor *tg_selu(tg_tensor *x) {
    return unary_with(&selu_op, x, (const double[4]){TG_SELU_ALPHA, TG_SELU_SCALE, 1});
}

/* ---- celu: y = x for x > 0, else alpha (e^(x / alpha) - 1);
 * dy/dx = 1 for x > 0, else e^(x / alpha). PyTorch's elu(x, alpha, 1, 1 /
 * alpha), its input_scale 1 / alpha computed in double (then rounded to the
 * dtype, as every parameter), under a node of its own: CeluBackward0. */

UNARY_OP(celu_op, "CeluBackward0", "dy/dx = 1 for x > 0, else e^(x / alpha)", "celu", elu_forward,
         elu_backward, INPUTS)

tg_tensor *tg_celu(tg_tensor *x, double alpha) {
    if (x && alpha == 0) {
        tg__error(TG_ERR_VALUE, "celu: ZeroDivisionError: alpha cannot be 0 for CELU");
        return NULL;
    }
    return unary_with(&celu_op, x, (const double[4]){alpha, 1, 1 / alpha});
}

/* ---- sigmoid: y = 1 / (1 + e^-x);  dy/dx = y (1 - y), in (0, 1/4] -------------------- */

/* float32: the fast path of activation_internal.h. */
static TG_ALWAYS_INLINE tg__near sigmoid_near(double x) {
    tg__rounded s = act_sigmoid_times_near(x, 1);
    return TG_NEAR(s.value, 0, s.sure);
}
TG_ROWS1_NEAR(sigmoid_forward, x, act_sigmoid(x), sigmoid_near(x))
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

/* float32: the fast path of activation_internal.h. */
static TG_ALWAYS_INLINE tg__near silu_near(double x) {
    tg__rounded y = act_silu_times_near(x, 1);
    return TG_NEAR(y.value, 0, y.sure);
}
static TG_ALWAYS_INLINE tg__near silu_d_near(double g, double x) {
    double s = act_sigmoid_near(x);
    tg__rounded d = act_silu_d_times_near(x, s, act_silu_d_of(x, s).second, g);
    return TG_NEAR(d.value, 0, d.sure);
}
TG_ROWS1_NEAR(silu_forward, x, act_silu(x), silu_near(x))
TG_ROWS2_NEAR(silu_backward, g, x, g *(act_silu_d(x).second), silu_d_near(g, x))
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

/* ---- hardtanh, min = p[0], max = p[1]: y = clamp(x, min, max);
 * dy/dx = 1 for min < x < max, else 0 (0 at the bounds, unlike clamp's 1).
 * In the tensor's own type, as PyTorch, which computes it as clamp: NaN
 * stays NaN, x equal to a bound is x (a bound of -0 gives -0 below it), min
 * > max gives max everywhere, and a NaN bound fills the result with NaN.
 * The backward is PyTorch's vectorised select: 0 at NaN too (its
 * one-element path passes g there, tests/golden/make_golden_special.py). */

#define CLAMP_AS_TORCH(x, lo, hi) \
    ((hi) < ((x) < (lo) ? (lo) : (x)) ? (hi) : ((x) < (lo) ? (lo) : (x)))
TG_ROWS1(hardtanh_forward, TG_OWN, x,
         p[0] != p[0] || p[1] != p[1] ? p[0] + p[1] : CLAMP_AS_TORCH(x, p[0], p[1]))
TG_ROWS2(hardtanh_backward, TG_OWN, g, x, x > p[0] && x < p[1] ? g : 0)
UNARY_OP(hardtanh_op, "HardtanhBackward0", "dy/dx = 1 for min < x < max, else 0", "hardtanh",
         hardtanh_forward, hardtanh_backward, INPUTS)

tg_tensor *tg_hardtanh(tg_tensor *x, double min_val, double max_val) {
    return tg__pointwise_unary(&hardtanh_op, x, min_val, max_val);
}

/* ---- relu6: hardtanh(x, 0, 6), which PyTorch records as HardtanhBackward0 ----------- */

UNARY_OP(relu6_op, "HardtanhBackward0", "dy/dx = 1 for 0 < x < 6, else 0", "relu6",
         hardtanh_forward, hardtanh_backward, INPUTS)

tg_tensor *tg_relu6(tg_tensor *x) { return tg__pointwise_unary(&relu6_op, x, 0, 6); }

/* ---- hardsigmoid: y = relu6(x + 3) / 6;  dy/dx = 1/6 for -3 < x < 3, else 0 -----------
 * In the tensor's own type, PyTorch's steps: min(max(x + 3, 0), 6) / 6, and
 * g times 1/6 rounded to the dtype, p[0]. (PyTorch's float64 backward uses
 * float32's 1/6, 0.1666666716337204: tapegrad uses double's.) */

TG_ROWS1(hardsigmoid_forward, TG_OWN, x, CLAMP_AS_TORCH(x + 3, 0, 6) / 6)
TG_ROWS2(hardsigmoid_backward, TG_OWN, g, x, x > -3 && x < 3 ? g * p[0] : 0)
UNARY_OP(hardsigmoid_op, "HardsigmoidBackward0", "dy/dx = 1/6 for -3 < x < 3, else 0",
         "hardsigmoid", hardsigmoid_forward, hardsigmoid_backward, INPUTS)

tg_tensor *tg_hardsigmoid(tg_tensor *x) {
    return tg__pointwise_unary(&hardsigmoid_op, x, 1.0 / 6, 0);
}

/* ---- hardswish: y = x relu6(x + 3) / 6;
 * dy/dx = 0 for x < -3, x / 3 + 1/2 for -3 <= x < 3, 1 for x >= 3.
 * In the tensor's own type, PyTorch's steps, (x c) / 6 for c = relu6(x + 3),
 * but where x c overflows (x above the largest value / 6), where PyTorch
 * gives inf, y is x. At x = 3 the slope is 1 and at NaN NaN, as PyTorch's
 * vectorised backward (its one-element path gives 3/2 and g). */

#define HARDSWISH_OF(x, c) ((x) * (c) == INFINITY ? (x) : (x) * (c) / 6)
TG_ROWS1(hardswish_forward, TG_OWN, x, HARDSWISH_OF(x, CLAMP_AS_TORCH(x + 3, 0, 6)))
TG_ROWS2(hardswish_backward, TG_OWN, g, x, x < -3 ? 0 : x >= 3 ? g : g * (x / 3 + 0.5f))
UNARY_OP(hardswish_op, "HardswishBackward0", "dy/dx = 0, x / 3 + 1/2, or 1 (x < -3, < 3, >= 3)",
         "hardswish", hardswish_forward, hardswish_backward, INPUTS)

tg_tensor *tg_hardswish(tg_tensor *x) { return tg__pointwise_unary(&hardswish_op, x, 0, 0); }

/* ---- mish: y = x t, t = tanh(softplus(x));  dy/dx = t + x sigma(x) (1 - t^2)
 * With n = e^x (e^x + 2): t = n / (n + 2) and 1 - t^2 = 4 (n + 1) / (n + 2)^2,
 * written in e = e^-|x| so that nothing overflows or cancels: for x <= 0
 * (e = e^x) t = e (e + 2) / D, D = e^2 + 2e + 2, and x sigma(x) (1 - t^2) =
 * 4 x e (1 + e) / D^2; for x > 0 t = (1 + 2e) / D', D' = 1 + 2e + 2e^2, and
 * x sigma(x) (1 - t^2) = 4 x e^2 (1 + e) / D'^2, x e^2 taken first so that
 * x = DBL_MAX gives 0, not inf times 0. At +-inf, as PyTorch, x times 0 is
 * NaN (mish(-inf), mish'(+-inf)). */

static TG_ALWAYS_INLINE tg__pair mish_d(double x) {
    double e = act_exp(-fabs(x)), e2 = e * e;
    /* x <= 0: n = e (e + 2), t = n / (n + 2); x > 0: t = 1 - 2 e^2 / D', which
     * keeps t's last bits as it nears 1 */
    double n = fma(e, e, 2 * e), neg_d = n + 2, pos_d = 1 + 2 * e + 2 * e2;
    double t = x > 0 ? 1 - 2 * e2 / pos_d : n / neg_d;
    double xe = x > 0 ? x * e2 : x * e, d = x > 0 ? pos_d : neg_d;
    return TG_PAIR(x * t, t + xe * (4 * (1 + e) / (d * d)));
}
TG_ROWS1(mish_forward, TG_DOUBLE, x, mish_d(x).first)
TG_ROWS2(mish_backward, TG_DOUBLE, g, x, g *mish_d(x).second)
UNARY_OP(mish_op, "MishBackward0", "dy/dx = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))",
         "mish", mish_forward, mish_backward, INPUTS)

tg_tensor *tg_mish(tg_tensor *x) { return tg__pointwise_unary(&mish_op, x, 0, 0); }

/* ---- logsigmoid: y = log sigma(x) = min(x, 0) - log(1 + e^-|x|);
 * dy/dx = 1 - sigma(x) = sigma(-x). NaN passes min(x, 0), as in PyTorch. */

TG_ROWS1(logsigmoid_forward, TG_DOUBLE, x, (x > 0 ? 0 : x) - act_log1p_unit(act_exp(-fabs(x))))
TG_ROWS2(logsigmoid_backward, TG_DOUBLE, g, x, g *act_sigmoid(-x))
UNARY_OP(logsigmoid_op, "LogSigmoidBackward0", "dy/dx = 1 - sigmoid(x) = sigmoid(-x)", "logsigmoid",
         logsigmoid_forward, logsigmoid_backward, INPUTS)

tg_tensor *tg_logsigmoid(tg_tensor *x) { return tg__pointwise_unary(&logsigmoid_op, x, 0, 0); }

/* ---- softsign: y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2 ---------------------------
 * PyTorch computes x / (x.abs() + 1), recording DivBackward0 (with AddBackward0
 * and AbsBackward0 behind it); tapegrad runs it as one node of that name,
 * whose derivative is 1 / (1 + |x|)^2 itself, not PyTorch's difference of the
 * two paths through x, which cancels for large |x|. At +-inf, as PyTorch,
 * both are NaN (inf / inf): x - x adds NaN there and +0 elsewhere. */

TG_ROWS1(softsign_forward, TG_DOUBLE, x, x / (1 + fabs(x)))
TG_ROWS2(softsign_backward, TG_DOUBLE, g, x, g / (1 + fabs(x)) / (1 + fabs(x)) + (x - x))
UNARY_OP(softsign_op, "DivBackward0", "softsign: dy/dx = 1 / (1 + |x|)^2", "softsign",
         softsign_forward, softsign_backward, INPUTS)

tg_tensor *tg_softsign(tg_tensor *x) { return tg__pointwise_unary(&softsign_op, x, 0, 0); }

/* ---- tanhshrink: y = x - tanh x;  dy/dx = 1 - (1 - tanh^2 x) = tanh^2 x ---------------
 * PyTorch computes x - x.tanh(), recording SubBackward0 (with TanhBackward0
 * behind it); tapegrad runs it as one node of that name. Near 0 x - tanh x
 * cancels (it is x^3 / 3): for |x| < 2 it is x^3 h(x^2), h summed as the
 * Chebyshev series ops/tanhshrink_coefficients.py computed; beyond, x - tanh
 * x loses nothing. tanhshrink(-0) is -0, as the odd function's (PyTorch's
 * -0 - tanh(-0) is +0). The derivative is tanh^2 itself, not PyTorch's g -
 * g (1 - tanh^2), which cancels near 0. */

static const double tanhshrink_cheb[] = {
    2.073913078762066e-1,    -9.6243015420264605e-2,  2.2682377083644148e-2,
    -5.358375971964861e-3,   1.2663361171549804e-3,   -2.9929142825705607e-4,
    7.0736683322107778e-5,   -1.6718449703689157e-5,  3.9513679217227161e-6,
    -9.3389696507816237e-7,  2.2072446006165614e-7,   -5.2167732828814172e-8,
    1.2329727066320124e-8,   -2.9141034370388165e-9,  6.8874183476830017e-10,
    -1.6278259341504252e-10, 3.8473302159509075e-11,  -9.0930789834694046e-12,
    2.1491288961058821e-12,  -5.079418116211105e-13,  1.2005091200459321e-13,
    -2.8373764756907043e-14, 6.706075889281856e-15,   -1.5849660493805288e-15,
    3.7460318361502166e-16,  -8.8536625266740272e-17, 2.0925433516013656e-17,
    -4.945679446374828e-18,  1.1689002843155464e-18,  -2.7626696988509443e-19,
};
/* x^2 h(x^2), (x - tanh x) / x for |x| < 2 (x^2 capped at 4 beyond). */
static TG_ALWAYS_INLINE double tanhshrink_over_x(double x) {
    double s = x * x, t = (s > 4 ? 4 : s) / 2 - 1, b1 = 0, b2 = 0; /* t in [-1, 1] */
    int n_terms = (int)(sizeof tanhshrink_cheb / sizeof tanhshrink_cheb[0]);
    _Pragma("GCC unroll 32") for (int n = n_terms - 1; n >= 1; n--) {
        double b0 = 2 * t * b1 - b2 + tanhshrink_cheb[n];
        b2 = b1, b1 = b0;
    }
    return (s > 4 ? 4 : s) * (t * b1 - b2 + tanhshrink_cheb[0]);
}
static TG_ALWAYS_INLINE double tanhshrink(double x) {
    return fabs(x) < 2 ? x * tanhshrink_over_x(x) : x - act_tanh(x);
}
/* tanh x = x (1 - (x - tanh x) / x) for |x| < 1, closer than act_tanh there. */
static TG_ALWAYS_INLINE double tanh_squared(double x) {
    double t = fabs(x) < 1 ? x * (1 - tanhshrink_over_x(x)) : act_tanh(x);
    return t * t;
}
TG_ROWS1(tanhshrink_forward, TG_DOUBLE, x, tanhshrink(x))
TG_ROWS2(tanhshrink_backward, TG_DOUBLE, g, x, g *tanh_squared(x))
UNARY_OP(tanhshrink_op, "SubBackward0", "tanhshrink: dy/dx = tanh(x)^2", "tanhshrink",
         tanhshrink_forward, tanhshrink_backward, INPUTS)

tg_tensor *tg_tanhshrink(tg_tensor *x) { return tg__pointwise_unary(&tanhshrink_op, x, 0, 0); }

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
    tg__run_pair(op->backward, gx, contrib, 3, (const tg_tensor *[]){g, x, wv}, NULL);
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
