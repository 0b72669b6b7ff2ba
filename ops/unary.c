/* ops/unary.c - pow (scalar exponent), exp, log, sqrt, abs, clamp (clamp_min,
 * clamp_max), rsqrt, reciprocal, square, sign, sin, cos, log1p and expm1.
 *
 * Each op is its forward formula and its backward formula, g times the
 * local derivative dy/dx, written once in the tensor's own type (TG_OWN:
 * <tgmath.h> makes exp expf on float32, as PyTorch computes these) and
 * evaluated at the saved input x, or at the output y where that is cheaper
 * (exp' = y, sqrt' = 1 / (2 y)). p[0] and p[1] are the op's parameters:
 * the exponent of pow, the bounds of clamp. Constants are written so that
 * they keep the formula in its type: 1 and 0.5f are exact in both. */
#include <tgmath.h>

#include "pointwise.h"

/* ---- pow: y = x^p;  dy/dx = p x^(p-1), 0 for p = 0 as PyTorch (not 0 * x^-1 = NaN at 0) */

/* x^p as PyTorch computes it: sqrt(x) for p = 0.5 and 1 / sqrt(x) for p = -0.5,
 * which differ from pow at -0 (sqrt(-0) = -0, 1 / sqrt(-0) = -inf) and -inf (NaN). */
#define POW_AS_TORCH(x, p) ((p) == 0.5f ? sqrt(x) : (p) == -0.5f ? 1 / sqrt(x) : pow(x, p))
TG_ROWS1(pow_forward, TG_OWN, x, POW_AS_TORCH(x, p[0]))
TG_ROWS2(pow_backward, TG_OWN, g, x, g *(p[0] == 0 ? 0 : p[0] * POW_AS_TORCH(x, p[0] - 1)))
static const tg__pointwise pow_op = TG__UNARY_OP("PowBackward0", "d x^p/dx = p x^(p-1)", "pow",
                                                 pow_forward, pow_backward, TG__SAVES_INPUTS);

tg_tensor *tg_pow_scalar(tg_tensor *x, double exponent) {
    return tg__pointwise_unary(&pow_op, x, exponent, 0);
}

/* ---- exp: y = e^x;  dy/dx = e^x = y --------------------------------------------------- */

TG_ROWS1(exp_forward, TG_OWN, x, exp(x))
TG_ROWS2(exp_backward, TG_OWN, g, y, g *y)
static const tg__pointwise exp_op = TG__UNARY_OP("ExpBackward0", "d e^x/dx = e^x", "exp",
                                                 exp_forward, exp_backward, TG__SAVES_OUTPUT);

tg_tensor *tg_exp(tg_tensor *x) { return tg__pointwise_unary(&exp_op, x, 0, 0); }

/* ---- log: y = log x;  dy/dx = 1/x ----------------------------------------------------- */

TG_ROWS1(log_forward, TG_OWN, x, log(x))
TG_ROWS2(log_backward, TG_OWN, g, x, g *(1 / x))
static const tg__pointwise log_op = TG__UNARY_OP("LogBackward0", "d log(x)/dx = 1/x", "log",
                                                 log_forward, log_backward, TG__SAVES_INPUTS);

tg_tensor *tg_log(tg_tensor *x) { return tg__pointwise_unary(&log_op, x, 0, 0); }

/* ---- sqrt: y = sqrt x;  dy/dx = 1 / (2 sqrt x) = 0.5 / y ------------------------------ */

TG_ROWS1(sqrt_forward, TG_OWN, x, sqrt(x))
TG_ROWS2(sqrt_backward, TG_OWN, g, y, g *(0.5f / y))
static const tg__pointwise sqrt_op = TG__UNARY_OP("SqrtBackward0", "d sqrt(x)/dx = 1 / (2 sqrt(x))",
                                                  "sqrt", sqrt_forward, sqrt_backward,
                                                  TG__SAVES_OUTPUT);

tg_tensor *tg_sqrt(tg_tensor *x) { return tg__pointwise_unary(&sqrt_op, x, 0, 0); }

/* ---- abs: y = |x|;  dy/dx = sign(x), 0 at 0, as torch.sgn ----------------------------- */

TG_ROWS1(abs_forward, TG_OWN, x, fabs(x))
TG_ROWS2(abs_backward, TG_OWN, g, x, g *((x > 0) - (x < 0)))
static const tg__pointwise abs_op = TG__UNARY_OP("AbsBackward0", "d |x|/dx = sign(x)", "abs",
                                                 abs_forward, abs_backward, TG__SAVES_INPUTS);

tg_tensor *tg_abs(tg_tensor *x) { return tg__pointwise_unary(&abs_op, x, 0, 0); }

/* ---- clamp to [lo, hi] = [p[0], p[1]];  dy/dx = 1 inside [lo, hi], bounds
 * included, 0 outside ---------------------------------------------------------------------
 * PyTorch's min(max(x, lo), hi), each a select: NaN stays NaN (fmax would
 * drop it), and where x equals a bound it is x, not the bound, so a bound
 * of -0 gives -0 below it, as in PyTorch (fmin and fmax leave the sign of
 * equal zeros unspecified). */

#define CLAMP_AS_TORCH(x, lo, hi) \
    ((hi) < ((x) < (lo) ? (lo) : (x)) ? (hi) : ((x) < (lo) ? (lo) : (x)))
TG_ROWS1(clamp_forward, TG_OWN, x, CLAMP_AS_TORCH(x, p[0], p[1]))
TG_ROWS2(clamp_backward, TG_OWN, g, x, g *(x >= p[0] && x <= p[1]))
static const tg__pointwise clamp_op = TG__UNARY_OP("ClampBackward1",
                                                   "1 inside [min, max], 0 outside", "clamp",
                                                   clamp_forward, clamp_backward, TG__SAVES_INPUTS);

/* A NaN bound means none, so clamp(x, NAN, 0) is clamp_max. As in PyTorch,
 * min > max gives max everywhere. */
tg_tensor *tg_clamp(tg_tensor *x, double min, double max) {
    return tg__pointwise_unary(&clamp_op, x, isnan(min) ? -INFINITY : min,
                               isnan(max) ? INFINITY : max);
}

/* ---- clamp_min, clamp_max: one bound = p[0]; dy/dx = 1 where x >= min (x <= max), else 0
 * As PyTorch's std::max(x, min) and std::min(x, max): NaN stays NaN, and
 * where x equals the bound it is x (so clamp_min(-0, 0) is -0). Unlike
 * tg_clamp's, a NaN bound is not "none": PyTorch fills the result with it.
 * The backward is PyTorch's where(x >= min, g, 0): a select, so 0 is +0
 * whatever g is, and NaN x gets 0. */

TG_ROWS1(clamp_min_forward, TG_OWN, x, p[0] != p[0] ? p[0] : x < p[0] ? p[0] : x)
TG_ROWS2(clamp_min_backward, TG_OWN, g, x, x >= p[0] ? g : 0)
static const tg__pointwise clamp_min_op = TG__UNARY_OP(
    "ClampMinBackward0", "1 where x >= min, 0 elsewhere", "clamp_min", clamp_min_forward,
    clamp_min_backward, TG__SAVES_INPUTS);
TG_ROWS1(clamp_max_forward, TG_OWN, x, p[0] != p[0] ? p[0] : p[0] < x ? p[0] : x)
TG_ROWS2(clamp_max_backward, TG_OWN, g, x, x <= p[0] ? g : 0)
static const tg__pointwise clamp_max_op = TG__UNARY_OP(
    "ClampMaxBackward0", "1 where x <= max, 0 elsewhere", "clamp_max", clamp_max_forward,
    clamp_max_backward, TG__SAVES_INPUTS);

tg_tensor *tg_clamp_min(tg_tensor *x, double min) {
    return tg__pointwise_unary(&clamp_min_op, x, min, 0);
}
tg_tensor *tg_clamp_max(tg_tensor *x, double max) {
    return tg__pointwise_unary(&clamp_max_op, x, max, 0);
}

/* ---- rsqrt: y = 1 / sqrt x;  dy/dx = -1 / (2 x sqrt x) = -y^3 / 2 ----------------------
 * The backward in PyTorch's order, (-0.5 g) (y y y), and so its rounding,
 * overflow and underflow (another order gives others). */

TG_ROWS1(rsqrt_forward, TG_OWN, x, 1 / sqrt(x))
TG_ROWS2(rsqrt_backward, TG_OWN, g, y, (-0.5f * g) * (y * y * y))
static const tg__pointwise rsqrt_op = TG__UNARY_OP("RsqrtBackward0", "d x^(-1/2)/dx = -y^3 / 2",
                                                   "rsqrt", rsqrt_forward, rsqrt_backward,
                                                   TG__SAVES_OUTPUT);

tg_tensor *tg_rsqrt(tg_tensor *x) { return tg__pointwise_unary(&rsqrt_op, x, 0, 0); }

/* ---- reciprocal: y = 1 / x;  dy/dx = -1 / x^2 = -y^2, as PyTorch's -g (y y) --------- */

TG_ROWS1(reciprocal_forward, TG_OWN, x, 1 / x)
TG_ROWS2(reciprocal_backward, TG_OWN, g, y, -g *(y *y))
static const tg__pointwise reciprocal_op = TG__UNARY_OP(
    "ReciprocalBackward0", "d (1/x)/dx = -1/x^2 = -y^2", "reciprocal", reciprocal_forward,
    reciprocal_backward, TG__SAVES_OUTPUT);

tg_tensor *tg_reciprocal(tg_tensor *x) { return tg__pointwise_unary(&reciprocal_op, x, 0, 0); }

/* ---- square: y = x^2;  dy/dx = 2 x --------------------------------------------------
 * PyTorch's square is pow(x, 2), which it computes as x x, recording
 * PowBackward0 with the gradient g (2 x). */

TG_ROWS1(square_forward, TG_OWN, x, x *x)
TG_ROWS2(square_backward, TG_OWN, g, x, g *(2 * x))
static const tg__pointwise square_op = TG__UNARY_OP(
    "PowBackward0", "d x^2/dx = 2 x", "square", square_forward, square_backward, TG__SAVES_INPUTS);

tg_tensor *tg_square(tg_tensor *x) { return tg__pointwise_unary(&square_op, x, 0, 0); }

/* ---- sign: y = 1, 0 or -1 (0 at +-0 and NaN, as PyTorch's (0 < x) - (x < 0));
 * dy/dx = 0 everywhere: the backward is zeros (PyTorch's zeros_like(g)). */

TG_ROWS1(sign_forward, TG_OWN, x, (0 < x) - (x < 0))

static int sign_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    gi[0] = tg_zeros(node->in_ndim[0], node->in_shape[0], g->dtype);
    return gi[0] ? 0 : -1;
}
static const tg__pointwise sign_op = {{"SignBackward0", sign_backward, "d sign(x)/dx = 0"},
                                      "sign",
                                      sign_forward,
                                      NULL,
                                      TG__SAVES_NOTHING};

tg_tensor *tg_sign(tg_tensor *x) { return tg__pointwise_unary(&sign_op, x, 0, 0); }

/* ---- sin: dy/dx = cos x;  cos: dy/dx = -sin x (PyTorch's g (-sin x)) ------------------- */

TG_ROWS1(sin_forward, TG_OWN, x, sin(x))
TG_ROWS2(sin_backward, TG_OWN, g, x, g *cos(x))
static const tg__pointwise sin_op = TG__UNARY_OP("SinBackward0", "d sin(x)/dx = cos(x)", "sin",
                                                 sin_forward, sin_backward, TG__SAVES_INPUTS);
TG_ROWS1(cos_forward, TG_OWN, x, cos(x))
TG_ROWS2(cos_backward, TG_OWN, g, x, g *(-sin(x)))
static const tg__pointwise cos_op = TG__UNARY_OP("CosBackward0", "d cos(x)/dx = -sin(x)", "cos",
                                                 cos_forward, cos_backward, TG__SAVES_INPUTS);

tg_tensor *tg_sin(tg_tensor *x) { return tg__pointwise_unary(&sin_op, x, 0, 0); }
tg_tensor *tg_cos(tg_tensor *x) { return tg__pointwise_unary(&cos_op, x, 0, 0); }

/* ---- log1p: y = log(1 + x);  dy/dx = 1 / (1 + x), as PyTorch's g / (x + 1) ------------ */

TG_ROWS1(log1p_forward, TG_OWN, x, log1p(x))
TG_ROWS2(log1p_backward, TG_OWN, g, x, g / (x + 1))
static const tg__pointwise log1p_op = TG__UNARY_OP("Log1PBackward0",
                                                   "d log(1 + x)/dx = 1 / (1 + x)", "log1p",
                                                   log1p_forward, log1p_backward, TG__SAVES_INPUTS);

tg_tensor *tg_log1p(tg_tensor *x) { return tg__pointwise_unary(&log1p_op, x, 0, 0); }

/* ---- expm1: y = e^x - 1;  dy/dx = e^x = y + 1, as PyTorch's g (y + 1) ------------------ */

TG_ROWS1(expm1_forward, TG_OWN, x, expm1(x))
TG_ROWS2(expm1_backward, TG_OWN, g, y, g *(y + 1))
static const tg__pointwise expm1_op = TG__UNARY_OP("Expm1Backward0", "d (e^x - 1)/dx = e^x = y + 1",
                                                   "expm1", expm1_forward, expm1_backward,
                                                   TG__SAVES_OUTPUT);

tg_tensor *tg_expm1(tg_tensor *x) { return tg__pointwise_unary(&expm1_op, x, 0, 0); }
