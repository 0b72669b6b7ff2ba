/* ops/activation_internal.h - what ops/activation.c and ops/glu.c share:
 * the scalar formulas of the activations that the GLU variants gate with,
 * and the arithmetic-only exponentials they are built from.
 *
 * Formulas run in double for both dtypes (TG_DOUBLE rows): a float32
 * element is widened exactly, and the result is rounded once when stored.
 * That keeps one formula per activation, and float32 results at least as
 * accurate as PyTorch's (which evaluates in float). Sigmoid and SiLU (and
 * so SwiGLU) reach the same float32 results faster on a checked fast path
 * (below). */
#ifndef TAPEGRAD_ACTIVATION_INTERNAL_H
#define TAPEGRAD_ACTIVATION_INTERNAL_H

#include <math.h>
#include <string.h>

#include "pointwise.h"
#include "tapegrad/activation.h"

#define ACT_SQRT_HALF 0.70710678118654752440      /* 1 / sqrt(2) */
#define ACT_INV_SQRT_2PI 0.39894228040143267794   /* 1 / sqrt(2 pi) */
#define ACT_SQRT_2_OVER_PI 0.79788456080286535588 /* sqrt(2 / pi) */
#define ACT_GELU_KAPPA 0.044715

/* ---- Scalar formulas ----------------------------------------------------------------- */
/* Always inlined: a loop that calls one does not vectorise. */

/* Exponentials, tanh and erfcx in arithmetic only, so that loops calling
 * them vectorise (libm's are calls, made once per element). Each is within
 * a few ulp of libm's (act_exp within 1); tests/test_activation.c compares
 * them with libm on a million points.
 *
 * Both exponentials reduce x = k ln 2 + r, k = round(x / ln 2), |r| <=
 * ln(2) / 2 (ln 2 in two parts, the first short enough that k times it is
 * exact); e^r - 1 is its Taylor polynomial to degree 13 (the next term is
 * below 1e-17), written r (1 + r (1/2 + ...)) so that -0 stays -0; 2^k is
 * built in the exponent bits, as 2^(k/2) 2^(k - k/2), so that results down
 * in the subnormals, and overflows, round as libm's do. */
static TG_ALWAYS_INLINE double act_exp_reduce(double x, int64_t *k) {
    const double shifter = 0x1.8p52; /* adding it rounds to an integer, in the low bits */
    double kd = x * 0x1.71547652b82fep0 + shifter; /* x log2(e) */
    int64_t bits;
    memcpy(&bits, &kd, sizeof bits);
    *k = bits - 0x4338000000000000; /* the bits of shifter */
    kd -= shifter;
    return (x - kd * 0x1.62e42fee00000p-1) - kd * 0x1.a39ef35793c76p-33;
}
/* 2^k, built in the exponent bits, for -1022 <= k <= 1023. */
static TG_ALWAYS_INLINE double act_pow2(int64_t k) {
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double p;
    memcpy(&p, &bits, sizeof p);
    return p;
}
static TG_ALWAYS_INLINE double act_expm1_reduced(double r) {
    double p = 1.0 / 6227020800; /* Horner, from 1/13! down to 1/1! */
    p = p * r + 1.0 / 479001600, p = p * r + 1.0 / 39916800, p = p * r + 1.0 / 3628800;
    p = p * r + 1.0 / 362880, p = p * r + 1.0 / 40320, p = p * r + 1.0 / 5040;
    p = p * r + 1.0 / 720, p = p * r + 1.0 / 120, p = p * r + 1.0 / 24, p = p * r + 1.0 / 6;
    p = p * r + 0.5, p = p * r + 1;
    return p * r;
}

/* e^x m: m multiplies e^r before 2^k scales it, so that a result in the
 * subnormals is rounded once, there. */
static TG_ALWAYS_INLINE double act_exp_times(double x, double m) {
    x = x < -746 ? -746 : x; /* beyond: 0 and inf; k stays in range; NaN passes */
    x = x > 710 ? 710 : x;
    int64_t k;
    double r = act_exp_reduce(x, &k);
    return (act_expm1_reduced(r) + 1) * m * act_pow2(k / 2) * act_pow2(k - k / 2);
}
static TG_ALWAYS_INLINE double act_exp(double x) { return act_exp_times(x, 1); }

/* e^x - 1 = 2^k (e^r - 1) + (2^k - 1): both terms exact but for one
 * rounding each while 2^k is small; for large k the -1 no longer shows,
 * and e^x - 1 is computed so, without 2^k overflowing first. */
static TG_ALWAYS_INLINE double act_expm1(double x) {
    x = x < -60 ? -60 : x; /* beyond: -1 in double; NaN passes */
    x = x > 710 ? 710 : x;
    int64_t k;
    double r = act_exp_reduce(x, &k), s1 = act_pow2(k / 2), s2 = act_pow2(k - k / 2);
    double s = s1 * s2, p = act_expm1_reduced(r);
    double small_k = s * p + (s - 1), large_k = (p + 1) * s1 * s2 - 1;
    return s == 1 ? p : s > 0x1p60 ? large_k : small_k;
}

/* tanh x = -(e^-2|x| - 1) / (e^-2|x| + 1), signed as x: with the exponent
 * negative nothing overflows, and near 0 expm1 keeps the small values. */
static TG_ALWAYS_INLINE double act_tanh(double x) {
    double e = act_expm1(-2 * fabs(x));
    return copysign(-e / (e + 2), x);
}

/* log(1 + z) for z in [0, 1] (NaN passes): 2 atanh(s), s = z / (2 + z) in
 * [0, 1/3], summed as the odd series 2 s (1 + s^2/3 + s^4/5 + ...) to s^35
 * (the next term is below 2^-57 of the sum). The rounding of d = 2 + z is
 * put back: its error e = (2 - d) + z is exact (Fast2Sum), and s = z / (d
 * + e) is z / d (1 - e / d) to double precision. The softplus family's
 * log1p(e^-|x|) needs nothing wider. */
static TG_ALWAYS_INLINE double act_log1p_unit(double z) {
    double d = 2 + z, e = (2 - d) + z, s = z / d;
    s -= s * (e / d);
    double s2 = s * s, q = 1.0 / 35;
    _Pragma("GCC unroll 17") for (int k = 16; k >= 1; k--) q = q * s2 + 1.0 / (2 * k + 1);
    return 2 * s + 2 * s * (s2 * q);
}

/* erfcx a = e^(a^2) erfc a, for a >= 0: K / (a + K) g(t), t = (a - K) / (a
 * + K), where g is smooth on t in [-1, 1] and summed as the Chebyshev
 * series that ops/erfc_coefficients.py computed (Clenshaw's recurrence). */
static const double act_erfcx_cheb[] = {
    4.0802446954913149e-1,  -3.7635823567636743e-1,  1.4758035457222362e-1,
    -4.9571317930027586e-2, 1.4227107557117174e-2,   -3.4434932627175241e-3,
    6.8225418328380806e-4,  -1.0340451975756188e-4,  9.72854595199015e-6,
    1.1988713758412044e-7,  -2.1747767703449564e-7,  3.0291767735991391e-8,
    9.4799175652045492e-10, -8.6334116949909559e-10, 6.8721564259534024e-11,
    1.7034898438296276e-11, -3.3921306868290886e-12, -2.6158087668540245e-13,
    1.212767580310864e-13,  2.1146895432448092e-15,  -4.1173409334041784e-15,
    6.3287127217007087e-17, 1.4393110983449847e-16,  -4.5614947982841306e-18,
    -5.339094257978135e-18, 1.7350920089597049e-19,  2.1088756431173553e-19,
};
#define ACT_ERFCX_K 4.0
static TG_ALWAYS_INLINE double act_erfcx(double a) {
    a = a > 1e300 ? 1e300 : a; /* t stays finite; NaN passes */
    double t = (a - ACT_ERFCX_K) / (a + ACT_ERFCX_K), b1 = 0, b2 = 0;
    int n_terms = (int)(sizeof act_erfcx_cheb / sizeof act_erfcx_cheb[0]);
    _Pragma("GCC unroll 32") for (int n = n_terms - 1; n >= 1; n--) {
        double b0 = 2 * t * b1 - b2 + act_erfcx_cheb[n];
        b2 = b1, b1 = b0;
    }
    return (t * b1 - b2 + act_erfcx_cheb[0]) * ACT_ERFCX_K / (a + ACT_ERFCX_K);
}

/* e^(-x^2 / 2) m, with x^2 split exactly into h + l (fma), e^(-l/2) being
 * 1 - l/2 to double precision: the rounding of x^2, which e^ would
 * magnify (by x^2 / 2 relative), does not show. */
static TG_ALWAYS_INLINE double act_gauss_times(double x, double m) {
    double a = fabs(x);
    /* Beyond 40, e^-800 m is 0 (signed as m): act_exp_times stops at e^-746,
     * which times m is not, for m as large as gelu's slope x / sqrt(2 pi);
     * m is zeroed, not the result, so that gelu and gelu' share one e^. */
    bool beyond = a > 40;
    a = beyond ? 40 : a; /* NaN passes */
    double h = a * a, l = fma(a, a, -h);
    return act_exp_times(-0.5 * h, (beyond ? 0 * m : m) * (1 - 0.5 * l));
}

/* sigma(x) = 1 / (1 + e^-x), written with e = e^-|x| so that exp never
 * overflows: for x < 0 it is e^x / (1 + e^x), the same number. One
 * division for both (a vectorised select computes both of its sides).
 * The _of forms take e, so that the float32 fast path below (act_exp_near)
 * runs the same formulas. */
static TG_ALWAYS_INLINE double act_sigmoid_of(double x, double e) {
    return (x >= 0 ? 1 : e) / (1 + e);
}
static TG_ALWAYS_INLINE double act_sigmoid(double x) {
    return act_sigmoid_of(x, act_exp(-fabs(x)));
}
/* sigma' = sigma (1 - sigma) = e^-|x| / (1 + e^-|x|)^2: written so, 1 - sigma
 * does not cancel where sigma is near 1. */
static TG_ALWAYS_INLINE tg__pair act_sigmoid_d(double x) {
    double e = act_exp(-fabs(x)), d = 1 + e;
    return TG_PAIR((x >= 0 ? 1 : e) / d, e / (d * d));
}

/* silu(x) = x sigma(x);  silu'(x) = sigma (1 + x (1 - sigma)),
 * which is the textbook f + sigma (1 - f). */
static TG_ALWAYS_INLINE double act_silu(double x) { return x * act_sigmoid(x); }
static TG_ALWAYS_INLINE tg__pair act_silu_d_of(double x, double s) {
    return TG_PAIR(x * s, s * (1 + x * (1 - s)));
}
static TG_ALWAYS_INLINE tg__pair act_silu_d(double x) { return act_silu_d_of(x, act_sigmoid(x)); }

/* ---- The float32 fast path of sigmoid and SiLU --------------------------------------- */
/* A float32 result is the double formula above rounded once; most of the
 * double's bits are lost in that rounding. The fast path computes a
 * cheaper double, within a known bound of the formula's, and keeps its
 * rounding only where the whole interval that bound allows rounds to the
 * same float (Ziv's rounding test: tg__near_rel, tg__near_between in
 * core/internal/kernel.h); the kernel (TG_ROWS*_NEAR) computes the other
 * elements with the formula. So a float32 result is the formula's, bit for
 * bit, for every input; the bound decides only how often the formula runs
 * (for at most about 2^25 times the relative bound of the elements: those
 * within the bound of a midpoint between two floats).
 *
 * act_exp_near(x), for -128 <= x <= 0: the reduction of act_exp, e^r as a
 * polynomial of degree 9 (ops/exp_coefficients.py; Chebyshev nodes, not
 * Taylor: 1.9e-14 relative where Taylor's degree 9 is 7e-12), summed in
 * Estrin's order (a chain of five products and sums, where Horner's, as in
 * act_expm1_reduced, is a chain of twenty), and 2^k at once (k >= -185 is
 * in double's normal range). */
#define ACT_NEAR_MAX 128.0 /* the fast path's |x|; beyond, NaN and inf: the formula */
static TG_ALWAYS_INLINE double act_exp_near(double x) {
    /* The kernels compute it for every element, used or not: beyond the
     * domain k would overflow. */
    x = x < -ACT_NEAR_MAX ? -ACT_NEAR_MAX : x;
    int64_t k;
    double r = act_exp_reduce(x, &k), r2 = r * r, r4 = r2 * r2;
    double p01 = 0x1.000000000003dp+0 + 0x1.0000000000006p+0 * r;
    double p23 = 0x1.ffffffffe74f1p-2 + 0x1.5555555550d88p-3 * r;
    double p45 = 0x1.55555588b8403p-5 + 0x1.11111123bf154p-7 * r;
    double p67 = 0x1.6c162bb7d965cp-10 + 0x1.a01994c849582p-13 * r;
    double p89 = 0x1.a17df0d914d6cp-16 + 0x1.72e107c874de9p-19 * r;
    double p = (p01 + p23 * r2) + (p45 + p67 * r2) * r4 + p89 * (r4 * r4);
    return p * act_pow2(k);
}
static TG_ALWAYS_INLINE double act_sigmoid_near(double x) {
    return act_sigmoid_of(x, act_exp_near(-fabs(x)));
}
/* act_sigmoid_d's pair from the same e. */
static TG_ALWAYS_INLINE tg__pair act_sigmoid_d_near(double x) {
    double e = act_exp_near(-fabs(x)), d = 1 + e;
    return TG_PAIR(act_sigmoid_of(x, e), e / (d * d));
}
/* Bounds of the fast path against the formula, for |x| <= ACT_NEAR_MAX, at
 * least four times the largest differences over all such float32 x
 * (ops/near_bounds.c measures them: 1.9e-14 for the first, second and
 * fourth, 1.8e-14 for the third, against 1.1e-13 stated):
 *   |act_sigmoid_near - act_sigmoid| <= ACT_SIGMOID_NEAR act_sigmoid,
 *   |x act_sigmoid_near - act_silu| <= ACT_SIGMOID_NEAR |act_silu|,
 *   |act_silu_d_of(x, act_sigmoid_near).second - act_silu_d(x).second|
 *       <= ACT_SILU_D_NEAR act_sigmoid_near (1 + |x|),
 *   |act_sigmoid_d_near(x).second - act_sigmoid_d(x).second|
 *       <= ACT_SIGMOID_D_NEAR act_sigmoid_d(x).second
 * (silu's derivative's bound is absolute: 1 + x (1 - sigma) cancels near its
 * zero at x = -1.28, where no relative bound holds). The margin above the
 * measured bounds also covers the last product's rounding (y = silu up,
 * sigma up for glu, rounds once more in each path: 2^-52 relative) and
 * the rounding of the bounds themselves where they are used. */
#define ACT_SIGMOID_NEAR 0x1p-43
#define ACT_SILU_D_NEAR 0x1p-43
#define ACT_SIGMOID_D_NEAR 0x1p-43

/* The fast path's results and whether their rounding is sure:
 * sigma(x) m and silu(x) m (m = 1 for the activation itself; for glu and
 * SwiGLU m = up, whose product rounds within the bound's margin), and
 * g silu'(x) for the product g a, a = act_silu_d_of(x, s).second,
 * s = act_sigmoid_near(x): the formula's a lies within err of a, so its
 * product lies between g (a - err) and g (a + err). Conditions are joined with &, not &&: a vector loop
 * computes both sides anyway, and for && GCC 12 adds mask operations. */
/* y, sure only where x is in the fast path's domain (|x| <= ACT_NEAR_MAX). */
static TG_ALWAYS_INLINE tg__rounded act_near_in_domain(tg__rounded y, double x) {
    return (tg__rounded){y.value, (fabs(x) <= ACT_NEAR_MAX) & y.sure};
}
/* sigma(x) m: for sigmoid itself m = 1, for glu m = up. */
static TG_ALWAYS_INLINE tg__rounded act_sigmoid_times_near(double x, double m) {
    return act_near_in_domain(tg__near_rel(act_sigmoid_near(x) * m, ACT_SIGMOID_NEAR), x);
}
/* silu(x) m from s = act_sigmoid_near(x), for a caller that has s already. */
static TG_ALWAYS_INLINE tg__rounded act_silu_times_near_of(double x, double s, double m) {
    return act_near_in_domain(tg__near_rel(x * s * m, ACT_SIGMOID_NEAR), x);
}
static TG_ALWAYS_INLINE tg__rounded act_silu_times_near(double x, double m) {
    return act_silu_times_near_of(x, act_sigmoid_near(x), m);
}
static TG_ALWAYS_INLINE tg__rounded act_silu_d_times_near(double x, double s, double a, double g) {
    double err = ACT_SILU_D_NEAR * s * (1 + fabs(x));
    return act_near_in_domain(tg__near_between(g * (a - err), g * (a + err)), x);
}

/* gelu(x) = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2;
 * gelu'(x) = Phi(x) + x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi).
 * With G = e^(-x^2 / 2) and T = erfcx(|x| / sqrt 2) / 2, the tail erfc(|x| /
 * sqrt 2) / 2 is G T, so Phi(x) = G T for x < 0 and 1 - G T for x >= 0,
 * and gelu'(x) = G (T + x / sqrt(2 pi)) for x < 0 and 1 + G (x / sqrt(2 pi)
 * - T) for x >= 0. G is taken of x itself, not of the rounded x / sqrt 2,
 * and everything it multiplies goes in before 2^k scales it (see
 * act_exp_times): so the left tail, where 1 + erf would cancel, keeps its
 * relative accuracy down into the subnormals. x - x is NaN at +-inf, where
 * PyTorch's formula multiplies inf by 0, and +0 elsewhere, subtracted so that
 * a -0 (the left tail, underflowed) stays -0. */
static TG_ALWAYS_INLINE double act_gelu_tail(double x) {
    return 0.5 * act_erfcx(fabs(x) * ACT_SQRT_HALF);
}
/* gelu(x) from its tail T = act_gelu_tail(x), which gelu' needs too. */
static TG_ALWAYS_INLINE double act_gelu_of_tail(double x, double t) {
    double g = act_gauss_times(x, x < 0 ? x * t : t);
    return x < 0 ? g - (x - x) : x * (1 - g);
}
static TG_ALWAYS_INLINE double act_gelu(double x) { return act_gelu_of_tail(x, act_gelu_tail(x)); }
static TG_ALWAYS_INLINE tg__pair act_gelu_d(double x) {
    double t = act_gelu_tail(x), slope = x * ACT_INV_SQRT_2PI;
    double g = act_gauss_times(x, x < 0 ? t + slope : slope - t);
    return TG_PAIR(act_gelu_of_tail(x, t), (x < 0 ? g : 1 + g) - (x - x));
}

/* gelu_tanh(x) = x (1 + t) / 2, t = tanh u, u = sqrt(2/pi) (x + 0.044715 x^3);
 * gelu_tanh'(x) = (1 + t) / 2 + x (1 - t^2) u' / 2, u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
 * Computed as (1 + t) / 2 = sigma(2u) and 1 - t^2 = 4 sigma(2u) (1 - sigma(2u)):
 * the same numbers without the cancellation of 1 + t in the left tail
 * (where PyTorch's value is off by up to 1e-10 relative in float64).
 * The derivative 0.5 [tanh(u) + x (1 - GELU(x)^2)], found in some notes, is
 * wrong (docs/ERRATA.md, item 4): at x = 1 it gives 0.487, the derivative
 * is 1.083. */
static TG_ALWAYS_INLINE double act_gelu_tanh_2u(double x) {
    return 2 * ACT_SQRT_2_OVER_PI * (x + ACT_GELU_KAPPA * x * x * x);
}
static TG_ALWAYS_INLINE double act_gelu_tanh(double x) {
    return x * act_sigmoid(act_gelu_tanh_2u(x));
}
static TG_ALWAYS_INLINE tg__pair act_gelu_tanh_d(double x) {
    tg__pair s = act_sigmoid_d(act_gelu_tanh_2u(x)); /* sigma(2u), sigma(2u) (1 - sigma(2u)) */
    /* x^2 capped at 1e200: beyond |x| = 30 sigma(2u) (1 - sigma(2u)) is 0, and
     * an infinite u' would make its product NaN at finite x. */
    double x2 = x * x > 1e200 ? 1e200 : x * x;
    double du = ACT_SQRT_2_OVER_PI * (1 + 3 * ACT_GELU_KAPPA * x2);
    double d = s.first + 2 * (x * s.second * du); /* 2 x is inf at x = DBL_MAX, x 0 is not */
    /* Only the left tail underflows to 0, where the derivative is negative: -0. */
    return TG_PAIR(x * s.first, d == 0 ? -0.0 : d);
}

/* relu(x) = max(x, 0), NaN staying NaN;  relu'(x) = 0 for x <= 0, else 1
 * (0 at the kink, 1 at NaN, as torch's y <= 0 ? 0 : g). */
static TG_ALWAYS_INLINE double act_relu(double x) { return x < 0 ? 0 : x; }
static TG_ALWAYS_INLINE tg__pair act_relu_d(double x) { return TG_PAIR(act_relu(x), !(x <= 0)); }

#endif
