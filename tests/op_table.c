/* tests/op_table.c - the pointwise ops that the tests check, one row each
 * (tests/op_table.h says what a row drives). A row reads
 *
 *     OP(name, inputs, call, node, special-value tolerance, gradcheck domain)
 *
 * name: tg_<name>, as the golden data names it; inputs: the kind (OP_<inputs>);
 * call: the call of the op in x, y (the second input) and p (its parameters);
 * node: the node it records. Each list below is expanded twice: into one
 * function per row that makes the call, then into the table. */
#include "op_table.h"

#include <string.h>

/* ---- Special-value tolerances: {ulps in float32, in float64}, grad_scale ----------------
 * The activations and the losses run their formulas in double and round once,
 * where PyTorch's float32 kernels round at each step (its float32 values more
 * than an ulp off are replaced by golden/make_golden_special.py) and its
 * float64 ones use other approximations of exp, tanh and erf, and order the
 * products differently. Gradients formed as differences (tanh's 1 - y^2,
 * swish's s + x ds beta, mish's t + x sigma(x) (1 - t^2), softmax's g - sum(g
 * y)) are rounded relative to the upstream gradient's size, not to their
 * difference: grad_scale 1. */
#define BITWISE {0, 0}, 0
#define ACT_ULPS {1, 4}, 0
#define ACT_ULPS_DIFF {1, 4}, 1
/* gelu's tanh form takes sigma(2u) of 2u = sqrt(8 / pi) (x + 0.044715 x^3),
 * whose rounding shows |2u| times larger in the result (25 ulp, in its tail). */
#define GELU_ULPS {1, 32}, 0
/* PyTorch's glu gradient (1 - s) s cancels where s = sigma(b) nears 1 (12
 * ulp at b = 2.5); tapegrad's is e^-|b| / (1 + e^-|b|)^2. */
#define GLU_ULPS {1, 16}, 1
/* libm's exp, log and pow against PyTorch's vectorised ones. */
#define LIBM_ULPS {1, 1}, 0
/* expm1's gradient g (y + 1) cancels where y nears -1: y's last bit, where
 * libm's and PyTorch's expm1 differ, shows relative to 1. */
#define LIBM_ULPS_DIFF {1, 1}, 1

/* ---- Where gradcheck draws the inputs ------------------------------------------------- */
#define REALS -4, 4
#define POSITIVE 0.5, 4          /* log, sqrt, fractional powers, divisors */
#define PROBABILITIES 0.05, 0.95 /* binary_cross_entropy's input (and target) */

static tg_gelu_approx approx(double p) { return p != 0 ? TG_GELU_TANH : TG_GELU_NONE; }

/* where(x != 0, x, y): x is also the condition (nonzero, NaN included, picks
 * x). The condition is made in a pool of its own and released here, so the
 * call leaves only its result, pooled or the caller's like any op's. */
static tg_tensor *where_nonzero(tg_tensor *x, tg_tensor *y) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *cond = tg_retain(tg_ne_scalar(x, 0));
    tg_pool_pop(pool);
    tg_tensor *out = tg_where(cond, x, y);
    tg_release(cond);
    return out;
}
static const int dim1[] = {1};

/* ---- The activations and the GLU family (tests/test_activation.c) --------------------- */
#define ACTIVATIONS(OP)                                                                      \
    OP(relu, X, tg_relu(x), "ReluBackward0", BITWISE, REALS)                                 \
    OP(leaky_relu, X, tg_leaky_relu(x, p[0]), "LeakyReluBackward0", BITWISE, REALS)          \
    /* in eval mode; training draws random slopes (tests/test_activation.c) */               \
    OP(rrelu, X, tg_rrelu(x, p[0], p[1], TG_EVAL, NULL), "RreluWithNoiseBackward0", BITWISE, \
       REALS)                                                                                \
    OP(elu, X, tg_elu(x, p[0]), "EluBackward0", ACT_ULPS, REALS)                             \
    OP(sigmoid, X, tg_sigmoid(x), "SigmoidBackward0", ACT_ULPS_DIFF, REALS)                  \
    OP(tanh, X, tg_tanh(x), "TanhBackward0", ACT_ULPS_DIFF, REALS)                           \
    OP(gelu, X, tg_gelu(x, approx(p[0])), "GeluBackward0", GELU_ULPS, REALS)                 \
    OP(silu, X, tg_silu(x), "SiluBackward0", ACT_ULPS, REALS)                                \
    OP(softplus, X, tg_softplus(x, p[0], p[1]), "SoftplusBackward0", ACT_ULPS, REALS)        \
    OP(prelu, WEIGHT, tg_prelu(x, y), "PreluBackward0", BITWISE, REALS)                      \
    OP(swish, BETA, tg_swish(x, y), "SwishBackward0", ACT_ULPS_DIFF, REALS)                  \
    OP(glu, HALVES, tg_glu(x, (int)p[0]), "GluBackward0", GLU_ULPS, REALS)                   \
    OP(swiglu, PAIR, tg_swiglu(x, y), "SwiGLUBackward0", ACT_ULPS, REALS)                    \
    OP(geglu, PAIR, tg_geglu(x, y, approx(p[0])), "GeGLUBackward0", GELU_ULPS, REALS)        \
    OP(reglu, PAIR, tg_reglu(x, y), "ReGLUBackward0", BITWISE, REALS)                        \
    OP(selu, X, tg_selu(x), "EluBackward0", ACT_ULPS, REALS)                                 \
    OP(celu, X, tg_celu(x, p[0]), "CeluBackward0", ACT_ULPS, REALS)                          \
    /* a NaN bound is NaN everywhere; min > max is max everywhere */                         \
    OP(hardtanh, X, tg_hardtanh(x, p[0], p[1]), "HardtanhBackward0", BITWISE, REALS)         \
    OP(relu6, X, tg_relu6(x), "HardtanhBackward0", BITWISE, REALS)                           \
    OP(hardsigmoid, X, tg_hardsigmoid(x), "HardsigmoidBackward0", BITWISE, REALS)            \
    OP(hardswish, X, tg_hardswish(x), "HardswishBackward0", BITWISE, REALS)                  \
    OP(mish, X, tg_mish(x), "MishBackward0", ACT_ULPS_DIFF, REALS)                           \
    OP(logsigmoid, X, tg_logsigmoid(x), "LogSigmoidBackward0", ACT_ULPS, REALS)              \
    /* one node named as PyTorch's last: it composes x / (|x| + 1) and x - tanh(x) */        \
    OP(softsign, X, tg_softsign(x), "DivBackward0", ACT_ULPS, REALS)                         \
    OP(tanhshrink, X, tg_tanhshrink(x), "SubBackward0", ACT_ULPS, REALS)

/* ---- Elementwise functions of one tensor --------------------------------------------- */
#define UNARY(OP)                                                                  \
    OP(neg, X, tg_neg(x), "NegBackward0", BITWISE, REALS)                          \
    OP(exp, X, tg_exp(x), "ExpBackward0", LIBM_ULPS, REALS)                        \
    OP(log, X, tg_log(x), "LogBackward0", LIBM_ULPS, POSITIVE)                     \
    OP(sqrt, X, tg_sqrt(x), "SqrtBackward0", BITWISE, POSITIVE)                    \
    OP(abs, X, tg_abs(x), "AbsBackward0", BITWISE, REALS)                          \
    OP(pow_scalar, X, tg_pow_scalar(x, p[0]), "PowBackward0", LIBM_ULPS, POSITIVE) \
    /* a NaN bound is none */                                                      \
    OP(clamp, X, tg_clamp(x, p[0], p[1]), "ClampBackward1", BITWISE, REALS)        \
    /* a NaN bound is NaN everywhere */                                            \
    OP(clamp_min, X, tg_clamp_min(x, p[0]), "ClampMinBackward0", BITWISE, REALS)   \
    OP(clamp_max, X, tg_clamp_max(x, p[0]), "ClampMaxBackward0", BITWISE, REALS)   \
    OP(rsqrt, X, tg_rsqrt(x), "RsqrtBackward0", BITWISE, POSITIVE)                 \
    OP(reciprocal, X, tg_reciprocal(x), "ReciprocalBackward0", BITWISE, POSITIVE)  \
    OP(square, X, tg_square(x), "PowBackward0", BITWISE, REALS)                    \
    OP(sign, X, tg_sign(x), "SignBackward0", BITWISE, REALS)                       \
    OP(sin, X, tg_sin(x), "SinBackward0", LIBM_ULPS, REALS)                        \
    OP(cos, X, tg_cos(x), "CosBackward0", LIBM_ULPS, REALS)                        \
    OP(log1p, X, tg_log1p(x), "Log1PBackward0", LIBM_ULPS, POSITIVE)               \
    OP(expm1, X, tg_expm1(x), "Expm1Backward0", LIBM_ULPS_DIFF, REALS)

/* ---- Two inputs: arithmetic, selection, the losses, the row ops ----------------------- */
#define BINARY(OP)                                                                               \
    OP(add, BROADCAST, tg_add(x, y), "AddBackward0", BITWISE, REALS)                             \
    OP(sub, BROADCAST, tg_sub(x, y), "SubBackward0", BITWISE, REALS)                             \
    OP(mul, BROADCAST, tg_mul(x, y), "MulBackward0", BITWISE, REALS)                             \
    OP(div, BROADCAST, tg_div(x, y), "DivBackward0", BITWISE, POSITIVE)                          \
    OP(pow, BROADCAST, tg_pow(x, y), "PowBackward1", LIBM_ULPS, POSITIVE)                        \
    OP(maximum, BROADCAST, tg_maximum(x, y), "MaximumBackward0", BITWISE, REALS)                 \
    OP(minimum, BROADCAST, tg_minimum(x, y), "MinimumBackward0", BITWISE, REALS)                 \
    OP(where, BROADCAST, where_nonzero(x, y), "WhereBackward0", BITWISE, REALS)                  \
    OP(xlogy, BROADCAST, tg_xlogy(x, y), "XlogyBackward0", LIBM_ULPS, POSITIVE)                  \
    OP(mse_loss, PAIR, tg_mse_loss(x, y, TG_REDUCTION_NONE), "MseLossBackward0", BITWISE, REALS) \
    OP(binary_cross_entropy_with_logits, PAIR,                                                   \
       tg_binary_cross_entropy_with_logits(x, y, TG_REDUCTION_NONE),                             \
       "BinaryCrossEntropyWithLogitsBackward0", ACT_ULPS, REALS)                                 \
    OP(l1_loss, PAIR, tg_l1_loss(x, y, TG_REDUCTION_NONE), "AbsBackward0", BITWISE, REALS)       \
    OP(smooth_l1_loss, PAIR, tg_smooth_l1_loss(x, y, TG_REDUCTION_NONE, p[0]),                   \
       "SmoothL1LossBackward0", ACT_ULPS, REALS)                                                 \
    OP(huber_loss, PAIR, tg_huber_loss(x, y, TG_REDUCTION_NONE, p[0]), "HuberLossBackward0",     \
       ACT_ULPS, REALS)                                                                          \
    OP(binary_cross_entropy, PAIR, tg_binary_cross_entropy(x, y, NULL, TG_REDUCTION_NONE),       \
       "BinaryCrossEntropyBackward0", ACT_ULPS, PROBABILITIES)                                   \
    OP(kl_div, PAIR, tg_kl_div(x, y, TG_REDUCTION_NONE, TG_TARGET_PROBS), "SubBackward0",        \
       LIBM_ULPS, POSITIVE)                                                                      \
    OP(sum_dims, ROWS, tg_sum_dims(x, 1, dim1, TG_DROP_DIMS), "SumBackward1", BITWISE, REALS)    \
    OP(mean_dims, ROWS, tg_mean_dims(x, 1, dim1, TG_DROP_DIMS), "MeanBackward1", BITWISE, REALS) \
    OP(softmax, ROWS, tg_softmax(x, 1), "SoftmaxBackward0", ACT_ULPS_DIFF, REALS)                \
    OP(log_softmax, ROWS, tg_log_softmax(x, 1), "LogSoftmaxBackward0", ACT_ULPS_DIFF, REALS)     \
    OP(amax, ROWS, tg_amax(x, 1, dim1, TG_DROP_DIMS), "AmaxBackward0", BITWISE, REALS)           \
    OP(amin, ROWS, tg_amin(x, 1, dim1, TG_DROP_DIMS), "AminBackward0", BITWISE, REALS)           \
    OP(prod_dim, ROWS, tg_prod_dim(x, 1, TG_DROP_DIMS), "ProdBackward1", BITWISE, REALS)         \
    /* p[0]: the correction */                                                                   \
    OP(var, ROWS, tg_var(x, 1, dim1, (int64_t)p[0], TG_DROP_DIMS), "VarBackward0", ACT_ULPS,     \
       REALS)                                                                                    \
    OP(std, ROWS, tg_std(x, 1, dim1, (int64_t)p[0], TG_DROP_DIMS), "StdBackward0", ACT_ULPS,     \
       REALS)                                                                                    \
    OP(logsumexp, ROWS, tg_logsumexp(x, 1, dim1, TG_DROP_DIMS), "LogsumexpBackward0", ACT_ULPS,  \
       REALS)                                                                                    \
    /* p[0]: ord */                                                                              \
    OP(vector_norm, ROWS, tg_vector_norm(x, p[0], 1, dim1, TG_DROP_DIMS),                        \
       "LinalgVectorNormBackward0", ACT_ULPS, REALS)

/* ---- The expansions ---------------------------------------------------------------------- */
#define CALL_FUNCTION(name, inputs, call, ...)                                   \
    static tg_tensor *call_##name(tg_tensor *x, tg_tensor *y, const double *p) { \
        (void)y, (void)p;                                                        \
        return call;                                                             \
    }
#define TABLE_ROW(name, inputs, call, node, tolerance, domain) \
    {#name, OP_##inputs, call_##name, node, tolerance, domain},
#define TABLE(LIST, table)                                  \
    LIST(CALL_FUNCTION)                                     \
    static const op_row table##_rows[] = {LIST(TABLE_ROW)}; \
    const op_table table = {table##_rows, (int)(sizeof table##_rows / sizeof table##_rows[0])};

TABLE(ACTIVATIONS, op_activations)
TABLE(UNARY, op_unary)
TABLE(BINARY, op_binary)

const op_table *const op_tables[OP_N_TABLES] = {&op_activations, &op_unary, &op_binary};

const op_row *op_named(const char *name) {
    for (int t = 0; t < OP_N_TABLES; t++)
        for (int i = 0; i < op_tables[t]->n; i++)
            if (!strcmp(op_tables[t]->rows[i].name, name)) return &op_tables[t]->rows[i];
    return NULL;
}
