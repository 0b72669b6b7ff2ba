/* ops/unary.c - pow (scalar exponent), exp, log, sqrt, abs and clamp.
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
