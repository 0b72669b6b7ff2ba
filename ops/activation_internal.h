/* ops/activation_internal.h - what ops/activation.c and ops/glu.c share: the
 * scalar formulas of the activations that the GLU variants gate with, the
 * macros that turn a scalar formula into row kernels for both dtypes, and
 * the steps every activation op takes.
 *
 * Formulas run in double for both dtypes: a float32 element is widened
 * exactly, and the result is rounded once when stored. That keeps one
 * formula per activation, and float32 results at least as accurate as
 * PyTorch's (which evaluates in float). */
#ifndef TAPEGRAD_ACTIVATION_INTERNAL_H
#define TAPEGRAD_ACTIVATION_INTERNAL_H

#include <math.h>
#include <string.h>

#include "ops_internal.h"
#include "tapegrad/activation.h"

/* A value and its derivative, or the partial derivatives in two inputs. */
typedef struct act_pair {
    double first, second;
} act_pair;
#define PAIR(a, b) ((act_pair){(a), (b)})

#define ACT_SQRT_HALF 0.70710678118654752440       /* 1 / sqrt(2) */
#define ACT_INV_SQRT_2PI 0.39894228040143267794    /* 1 / sqrt(2 pi) */
#define ACT_SQRT_2_OVER_PI 0.79788456080286535588  /* sqrt(2 / pi) */
#define ACT_GELU_KAPPA 0.044715

/* ---- Scalar formulas ----------------------------------------------------------------- */

/* e^x within 1 ulp of libm's exp, in arithmetic only, so that loops
 * calling it vectorise (libm's is a call, made once per element): with k =
 * round(x / ln 2) and r = x - k ln 2 (ln 2 in two parts, the first short
 * enough that k times it is exact), |r| <= ln(2) / 2 and e^x = 2^k e^r; e^r
 * is its Taylor polynomial to degree 13 (the next term is below 1e-17),
 * and 2^k is built in the exponent bits, as 2^(k/2) 2^(k - k/2) so that
 * results down in the subnormals, and overflows, round as libm's do. */
static inline double act_exp(double x) {
    x = x < -746 ? -746 : x; /* beyond: 0 and inf; k stays in range; NaN passes */
    x = x > 710 ? 710 : x;
    const double shifter = 0x1.8p52; /* adding it rounds to an integer, in the low bits */
    double kd = x * 0x1.71547652b82fep0 + shifter; /* x log2(e) */
    int64_t bits;
    memcpy(&bits, &kd, sizeof bits);
    int64_t k = bits - 0x4338000000000000; /* the bits of shifter */
    kd -= shifter;
    double r = (x - kd * 0x1.62e42fee00000p-1) - kd * 0x1.a39ef35793c76p-33;
    double p = 1.0 / 6227020800; /* Horner, from 1/13! down to 1/0! */
    p = p * r + 1.0 / 479001600, p = p * r + 1.0 / 39916800, p = p * r + 1.0 / 3628800;
    p = p * r + 1.0 / 362880, p = p * r + 1.0 / 40320, p = p * r + 1.0 / 5040;
    p = p * r + 1.0 / 720, p = p * r + 1.0 / 120, p = p * r + 1.0 / 24, p = p * r + 1.0 / 6;
    p = p * r + 0.5, p = p * r + 1, p = p * r + 1;
    uint64_t half1 = (uint64_t)(k / 2 + 1023) << 52, half2 = (uint64_t)(k - k / 2 + 1023) << 52;
    double s1, s2;
    memcpy(&s1, &half1, sizeof s1);
    memcpy(&s2, &half2, sizeof s2);
    return p * s1 * s2;
}

/* sigma(x) = 1 / (1 + e^-x), written with e^-|x| so that exp never
 * overflows: for x < 0 it is e^x / (1 + e^x), the same number. One
 * division for both (a vectorised select computes both of its sides). */
static inline double act_sigmoid(double x) {
    double e = act_exp(-fabs(x));
    return (x >= 0 ? 1 : e) / (1 + e);
}
/* sigma' = sigma (1 - sigma) */
static inline act_pair act_sigmoid_d(double x) {
    double s = act_sigmoid(x);
    return PAIR(s, s * (1 - s));
}

/* silu(x) = x sigma(x);  silu'(x) = sigma (1 + x (1 - sigma)),
 * which is the documents' f + sigma (1 - f). */
static inline double act_silu(double x) { return x * act_sigmoid(x); }
static inline act_pair act_silu_d(double x) {
    double s = act_sigmoid(x);
    return PAIR(x * s, s * (1 + x * (1 - s)));
}

/* gelu(x) = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2
 * (erfc keeps the left tail accurate where 1 + erf cancels);
 * gelu'(x) = Phi(x) + x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi). */
static inline double act_normal_cdf(double x) { return 0.5 * erfc(-x * ACT_SQRT_HALF); }
static inline double act_gelu(double x) { return x * act_normal_cdf(x); }
static inline act_pair act_gelu_d(double x) {
    double cdf = act_normal_cdf(x), pdf = ACT_INV_SQRT_2PI * exp(-0.5 * x * x);
    return PAIR(x * cdf, cdf + x * pdf);
}

/* gelu_tanh(x) = x (1 + t) / 2, t = tanh u, u = sqrt(2/pi) (x + 0.044715 x^3);
 * gelu_tanh'(x) = (1 + t) / 2 + x (1 - t^2) u' / 2, u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
 * Document 004 writes 0.5 [tanh(u) + x (1 - GELU(x)^2)] instead, which is
 * wrong (SPEC errata 4): at x = 1 it gives 0.487, the derivative is 1.083. */
static inline double act_gelu_tanh_u(double x) {
    return ACT_SQRT_2_OVER_PI * (x + ACT_GELU_KAPPA * x * x * x);
}
static inline double act_gelu_tanh(double x) { return 0.5 * x * (1 + tanh(act_gelu_tanh_u(x))); }
static inline act_pair act_gelu_tanh_d(double x) {
    double t = tanh(act_gelu_tanh_u(x));
    double du = ACT_SQRT_2_OVER_PI * (1 + 3 * ACT_GELU_KAPPA * x * x);
    return PAIR(0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du);
}

/* relu(x) = max(x, 0), NaN staying NaN;  relu'(x) = 1 for x > 0, else 0
 * (0 at the kink, as torch). */
static inline double act_relu(double x) { return x < 0 ? 0 : x; }
static inline act_pair act_relu_d(double x) { return PAIR(act_relu(x), x > 0); }

/* ---- Row kernels from formulas ----------------------------------------------------------
 * Each macro defines name_f32 and name_f64, and name, the table of both
 * indexed by dtype. The formula (the last argument) is an expression in
 * doubles named by the other arguments, and may use p, the op's parameters
 * rounded to the tensor's dtype (as torch rounds a slope or an alpha before
 * using it on a float32 tensor), and c, the whole context. The rounding
 * happens here, in the kernel that knows T: done once in the op, as
 * `f32 ? (float)v : v` on both parameters, GCC 12.2 at -O2 vectorised the
 * pair and dropped the rounding.
 * Each kernel is a TG_ROW_KERNEL: the formulas written in arithmetic only
 * (act_exp, not libm's exp) vectorise in its unit-stride copy; those that
 * call libm (tanh, erfc, expm1) stay a call per element. */

typedef struct act_ctx {
    double p[4];       /* the op's parameters: slope, alpha, beta, ... */
    int64_t second;    /* two-output kernels: the second output's place, in
                          elements from the first's */
    tg_generator *gen; /* rrelu's random slopes */
} act_ctx;

#define ACT_TABLE(name) static const tg_row_fn name[2] = {name##_f32, name##_f64};

#define ACT_PARAMS(T)                                                                    \
    const act_ctx *c = ctx;                                                              \
    double p[4];                                                                         \
    for (int k_ = 0; k_ < 4; k_++) p[k_] = (T)c->p[k_];                                  \
    (void)p;

/* out = F(X) */
#define ACT_ROW1_T(name, T, X, ...)                                                      \
    static TG_ALWAYS_INLINE void name##_body(char **ptr, const int64_t *s, int64_t n,    \
                                             void *ctx) {                                \
        ACT_PARAMS(T)                                                                    \
        T *o_ = (T *)ptr[0];                                                             \
        const T *x_ = (const T *)ptr[1];                                                 \
        TG_SIMD                                                                          \
        for (int64_t i_ = 0; i_ < n; i_++) {                                             \
            double X = x_[i_ * s[1]];                                                    \
            o_[i_ * s[0]] = (T)(__VA_ARGS__);                                            \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL(name, name##_body, 2)
#define ACT_ROW1(name, X, ...)                                                           \
    ACT_ROW1_T(name##_f32, float, X, __VA_ARGS__)                                        \
    ACT_ROW1_T(name##_f64, double, X, __VA_ARGS__)                                       \
    ACT_TABLE(name)

/* out = F(A, B) */
#define ACT_ROW2_T(name, T, A, B, ...)                                                   \
    static TG_ALWAYS_INLINE void name##_body(char **ptr, const int64_t *s, int64_t n,    \
                                             void *ctx) {                                \
        ACT_PARAMS(T)                                                                    \
        T *o_ = (T *)ptr[0];                                                             \
        const T *a_ = (const T *)ptr[1], *b_ = (const T *)ptr[2];                        \
        TG_SIMD                                                                          \
        for (int64_t i_ = 0; i_ < n; i_++) {                                             \
            double A = a_[i_ * s[1]], B = b_[i_ * s[2]];                                 \
            o_[i_ * s[0]] = (T)(__VA_ARGS__);                                            \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL(name, name##_body, 3)
#define ACT_ROW2(name, A, B, ...)                                                        \
    ACT_ROW2_T(name##_f32, float, A, B, __VA_ARGS__)                                     \
    ACT_ROW2_T(name##_f64, double, A, B, __VA_ARGS__)                                    \
    ACT_TABLE(name)

/* Backward of a one-input op: grad_in = g * dy/dX, the derivative written
 * in X, the saved input (or output, for ops whose derivative reads y). */
#define ACT_GRAD1(name, X, ...) ACT_ROW2(name, g_, X, g_ * (__VA_ARGS__))

/* Backward of a two-input op, both gradients in one pass: the formula gives
 * the act_pair (dy/dA, dy/dB); each is multiplied by g and written, the
 * first into operand 0 and the second c->second elements after it (the
 * iterator takes four operands, and this kernel reads three). */
#define ACT_GRAD2_T(name, T, A, B, ...)                                                  \
    static TG_ALWAYS_INLINE void name##_body(char **ptr, const int64_t *s, int64_t n,    \
                                             void *ctx) {                                \
        ACT_PARAMS(T)                                                                    \
        T *o_ = (T *)ptr[0], *o2_ = o_ + c->second;                                      \
        const T *g_ = (const T *)ptr[1], *a_ = (const T *)ptr[2], *b_ = (const T *)ptr[3]; \
        TG_SIMD                                                                          \
        for (int64_t i_ = 0; i_ < n; i_++) {                                             \
            double A = a_[i_ * s[2]], B = b_[i_ * s[3]], gv_ = g_[i_ * s[1]];            \
            act_pair d_ = (__VA_ARGS__);                                                 \
            o_[i_ * s[0]] = (T)(gv_ * d_.first);                                         \
            o2_[i_ * s[0]] = (T)(gv_ * d_.second);                                       \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL(name, name##_body, 4)
#define ACT_GRAD2(name, A, B, ...)                                                       \
    ACT_GRAD2_T(name##_f32, float, A, B, __VA_ARGS__)                                    \
    ACT_GRAD2_T(name##_f64, double, A, B, __VA_ARGS__)                                   \
    ACT_TABLE(name)

/* ---- Ops ----------------------------------------------------------------------------- */

/* An activation's node and kernels. def comes first, so that a backward
 * finds its op's kernels from node->def. */
typedef struct act_op {
    tg_op_def def;
    const char *name;          /* the op, in messages: "silu" */
    const tg_row_fn *forward;  /* by dtype */
    const tg_row_fn *backward; /* by dtype */
    bool saves_output;         /* the derivative is written in terms of y */
} act_op;

static inline const act_op *act_op_of(const tg_node *node) {
    return (const act_op *)(const void *)node->def;
}

/* The last step of an op: records out as made by def from inputs, saves
 * tensors and the op's four parameters (params may be NULL) for the
 * backward, and hands out to the pool. Returns out, or NULL (out released)
 * when out of memory. *node, if asked for, is the node or NULL. */
static inline tg_tensor *act_finish(tg_tensor *out, const tg_op_def *def, int n_inputs,
                                    tg_tensor *const *inputs, int n_saved,
                                    tg_tensor *const *saved, const double *params,
                                    tg_node **node) {
    bool failed;
    tg_node *n = tg__record(out, def, n_inputs, inputs, &failed);
    for (int i = 0; n && !failed && i < n_saved; i++) failed = !tg__save(n, saved[i]);
    if (failed) {
        tg_release(out);
        return NULL;
    }
    if (n && params) memcpy(n->scalars, params, sizeof n->scalars);
    if (node) *node = n;
    return tg__autorelease(out);
}

/* Two new contiguous tensors of one shape, the second right after the first
 * in one buffer, for an ACT_GRAD2 kernel; pooled, as a backward's results
 * are. Returns false when out of memory. */
static inline bool act_new_pair(const char *op, int ndim, const int64_t *shape, tg_dtype dtype,
                                tg_tensor **first, tg_tensor **second) {
    int64_t numel = 1, strides[TG_MAX_DIMS];
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    tg__contiguous_strides(ndim, shape, strides);
    tg_tensor *buf = tg__new(op, 1, (int64_t[]){2 * numel}, dtype);
    if (!buf) return false;
    *first = tg__autorelease(tg__view_owned(op, buf, ndim, shape, strides, 0));
    *second = tg__autorelease(tg__view_owned(op, buf, ndim, shape, strides, numel));
    return *first && *second;
}

/* Runs an ACT_GRAD2 kernel over first's shape: first and second (laid out
 * alike in one storage) get g * dy/da and g * dy/db. */
static inline void act_run_grad2(const tg_row_fn *kernel, tg_tensor *first, tg_tensor *second,
                                 const tg_tensor *g, const tg_tensor *a, const tg_tensor *b) {
    act_ctx c = {.second = second->offset - first->offset};
    tg__map(first, 3, (const tg_tensor *[]){g, a, b}, kernel[first->dtype], &c);
}

#endif
