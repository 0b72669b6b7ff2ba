/* ops/unary.c - pow (scalar exponent), exp, log, sqrt, abs and clamp.
 *
 * Each op is a row of the table below: the forward y = f(x; p) and the local
 * derivative dy/dx written once as scalar formulas, instantiated for float32
 * and float64 by macros. The backward multiplies the incoming gradient by
 * the derivative, evaluated at the saved input x (or output y, where that
 * is cheaper: exp' = y, sqrt' = 0.5 / y). */
#include <math.h>
#include <stddef.h>

#include "ops_internal.h"

/* Parameters of an op: the exponent of pow, the bounds of clamp. */
typedef struct unary_params {
    double p0, p1;
} unary_params;

/* out = F(a), with p0/p1 available to F. */
#define FORWARD_ROW(name, T, F)                                                          \
    static TG_ALWAYS_INLINE void name##_body(char **p, const int64_t *s, int64_t n,      \
                                             void *ctx) {                                \
        const unary_params *prm = ctx;                                                   \
        const T p0 = (T)prm->p0, p1 = (T)prm->p1;                                        \
        (void)p0, (void)p1;                                                              \
        T *o = (T *)p[0];                                                                \
        const T *x = (const T *)p[1];                                                    \
        TG_SIMD                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                \
            T a = x[i * s[1]];                                                           \
            o[i * s[0]] = F;                                                             \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL(name, name##_body, 2)

/* out = g * D, where D is the derivative in terms of v (the saved x or y). */
#define BACKWARD_ROW(name, T, D)                                                         \
    static TG_ALWAYS_INLINE void name##_body(char **p, const int64_t *s, int64_t n,      \
                                             void *ctx) {                                \
        const unary_params *prm = ctx;                                                   \
        const T p0 = (T)prm->p0, p1 = (T)prm->p1;                                        \
        (void)p0, (void)p1;                                                              \
        T *o = (T *)p[0];                                                                \
        const T *g = (const T *)p[1], *saved = (const T *)p[2];                          \
        TG_SIMD                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                \
            T v = saved[i * s[2]];                                                       \
            o[i * s[0]] = g[i * s[1]] * (D);                                             \
        }                                                                                \
    }                                                                                    \
    TG_ROW_KERNEL(name, name##_body, 3)

#define UNARY_KERNELS(op, F32, F64, D32, D64)                                            \
    FORWARD_ROW(op##_fwd_f32, float, F32)                                                \
    FORWARD_ROW(op##_fwd_f64, double, F64)                                               \
    BACKWARD_ROW(op##_bwd_f32, float, D32)                                               \
    BACKWARD_ROW(op##_bwd_f64, double, D64)

/* x^p as PyTorch computes it: sqrt(x) for p = 0.5 and 1 / sqrt(x) for p = -0.5,
 * which differ from pow at -0 (sqrt(-0) = -0, 1 / sqrt(-0) = -inf) and -inf (NaN). */
#define POW_AS_TORCH(pow, sqrt, x, p) ((p) == 0.5 ? sqrt(x) : (p) == -0.5 ? 1 / sqrt(x) : pow(x, p))
/* d/dx x^p = p x^(p-1); PyTorch gives 0 for p = 0 (not 0 * x^-1 = NaN at 0). */
UNARY_KERNELS(pow, POW_AS_TORCH(powf, sqrtf, a, p0), POW_AS_TORCH(pow, sqrt, a, p0),
              p0 == 0 ? 0.0f : p0 * POW_AS_TORCH(powf, sqrtf, v, p0 - 1),
              p0 == 0 ? 0.0 : p0 * POW_AS_TORCH(pow, sqrt, v, p0 - 1))
UNARY_KERNELS(exp, expf(a), exp(a), v, v)                  /* saves y: exp' = exp */
UNARY_KERNELS(log, logf(a), log(a), 1.0f / v, 1.0 / v)
UNARY_KERNELS(sqrt, sqrtf(a), sqrt(a), 0.5f / v, 0.5 / v) /* saves y: sqrt' = 1 / (2 y) */
/* abs' = sign(x), 0 at 0, as torch.sgn. */
UNARY_KERNELS(abs, fabsf(a), fabs(a), (float)((v > 0) - (v < 0)), (double)((v > 0) - (v < 0)))
/* clamp is PyTorch's min(max(x, lo), hi), each a select: NaN stays NaN (fmax
 * would drop it), and where x equals a bound it is x, not the bound, so a
 * bound of -0 gives -0 below it, as in PyTorch (fmin and fmax leave the
 * sign of equal zeros unspecified); clamp' = 1 inside [lo, hi], bounds
 * included, 0 outside. */
#define CLAMP_AS_TORCH(x, lo, hi) ((hi) < ((x) < (lo) ? (lo) : (x)) ? (hi) : ((x) < (lo) ? (lo) : (x)))
UNARY_KERNELS(clamp, CLAMP_AS_TORCH(a, p0, p1), CLAMP_AS_TORCH(a, p0, p1),
              (float)(v >= p0 && v <= p1), (double)(v >= p0 && v <= p1))

typedef struct unary_op {
    const char *name;
    tg_op_def node;
    tg_row_fn forward[2], backward[2];
    bool saves_output;
} unary_op;

static int unary_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs);

#define UNARY_OP(op, node_name, local, saves_y)                                          \
    static const unary_op op##_op = {#op,                                                \
                                     {node_name, unary_backward, local},                 \
                                     {op##_fwd_f32, op##_fwd_f64},                       \
                                     {op##_bwd_f32, op##_bwd_f64},                       \
                                     saves_y}

UNARY_OP(pow, "PowBackward0", "d x^p/dx = p x^(p-1)", false);
UNARY_OP(exp, "ExpBackward0", "d e^x/dx = e^x", true);
UNARY_OP(log, "LogBackward0", "d log(x)/dx = 1/x", false);
UNARY_OP(sqrt, "SqrtBackward0", "d sqrt(x)/dx = 1 / (2 sqrt(x))", true);
UNARY_OP(abs, "AbsBackward0", "d |x|/dx = sign(x)", false);
UNARY_OP(clamp, "ClampBackward1", "1 inside [min, max], 0 outside", false);

/* A node's def is the `node` member of its unary_op. */
static const unary_op *op_of(const tg_node *node) {
    return (const unary_op *)((const char *)node->def - offsetof(unary_op, node));
}

static int unary_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const unary_op *op = op_of(node);
    unary_params prm = {node->scalars[0], node->scalars[1]};
    tg_tensor *out = tg__new(op->name, node->in_ndim[0], node->in_shape[0], g->dtype);
    if (!out) return -1;
    tg__map(out, 2, (const tg_tensor *[]){g, node->saved[0]}, op->backward[g->dtype], &prm);
    gi[0] = out;
    return 0;
}

static tg_tensor *run_unary(const unary_op *op, tg_tensor *x, double p0, double p1) {
    if (!x) {
        tg__null_arg(op->name);
        return NULL;
    }
    tg_tensor *out = tg__new_owned(op->name, x->ndim, x->shape, x->dtype);
    if (!out) return NULL;
    unary_params prm = {p0, p1};
    tg__map(out, 1, (const tg_tensor *[]){x}, op->forward[x->dtype], &prm);
    tg_node *node;
    if (!(out = tg__finish(out, &op->node, 1, &x, &node))) return NULL;
    if (node) {
        node->scalars[0] = p0;
        node->scalars[1] = p1;
        if (!tg__save(node, op->saves_output ? out : x)) return NULL;
    }
    return out;
}

tg_tensor *tg_pow_scalar(tg_tensor *x, double exponent) {
    return run_unary(&pow_op, x, exponent, 0);
}
tg_tensor *tg_exp(tg_tensor *x) { return run_unary(&exp_op, x, 0, 0); }
tg_tensor *tg_log(tg_tensor *x) { return run_unary(&log_op, x, 0, 0); }
tg_tensor *tg_sqrt(tg_tensor *x) { return run_unary(&sqrt_op, x, 0, 0); }
tg_tensor *tg_abs(tg_tensor *x) { return run_unary(&abs_op, x, 0, 0); }

/* A NaN bound means none, so clamp(x, NAN, 0) is clamp_max. As in PyTorch,
 * min > max gives max everywhere. */
tg_tensor *tg_clamp(tg_tensor *x, double min, double max) {
    return run_unary(&clamp_op, x, isnan(min) ? -INFINITY : min, isnan(max) ? INFINITY : max);
}
