/* optim/clip.c - gradient clipping, as torch.nn.utils.clip_grad_norm_ and
 * clip_grad_value_: in place on the .grad of a list of tensors.
 *
 * clip_grad_norm_ returns PyTorch's total norm to the last bit, because a
 * training run that clips feeds it back into every gradient: a norm one ulp
 * off scales every step by a different coefficient, and the run drifts.
 * PyTorch 1.13 (Debian's build, on one thread) computes it as
 *   total = norm(stack([norm(g, p) for g in grads]), p)
 * each norm in the gradients' dtype by its CPU reduction kernel, whose
 * order of operations the functions below follow (norm_of). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "optim_internal.h"

/* The grads to clip: every non-NULL .grad; false (with an error) on a bad
 * argument. */
static bool check(const char *name, tg_tensor *const *params, int n) {
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "%s: %d parameters", name, n);
        return false;
    }
    if (n > 0 && !params) {
        tg__error(TG_ERR_NULL, "%s: no parameter list", name);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (!params[i]) {
            if (tg_last_status() == TG_OK)
                tg__error(TG_ERR_NULL, "%s: parameter %d is NULL", name, i);
            return false;
        }
    return true;
}

/* g times the coefficient p[0], in g's type, as PyTorch's mul_. */
TG_ROWS1(scale_rows, TG_OWN, g, g *p[0])
/* g clamped to [-v, v], v = p[0]; NaN stays NaN. */
TG_ROWS1(clamp_rows, TG_OWN, g, g > p[0] ? p[0] : g < -p[0] ? -p[0] : g)

/* Runs a row kernel over every grad, in place, and bumps its version. */
static void each_grad(tg_tensor *const *params, int n, const tg__row_fn *rows, double arg) {
    for (int i = 0; i < n; i++) {
        tg_tensor *g = tg__grad_values(params[i]);
        if (!g) continue;
        tg__map(g, 1, (const tg_tensor *[]){g}, rows[g->dtype], &(tg__row_ctx){.p = {arg}});
        g->storage->version++;
    }
}

/* ---- PyTorch's norm kernels ---------------------------------------------------------
 * at::norm over all the elements of a contiguous tensor. The kernel takes
 * p as a float (so 1e308 is the inf norm there, and 0.1 is 0.1f), picks a
 * reduction by its value and accumulates in the tensor's dtype, one
 * element after another (binary_kernel_reduce), with GCC's contraction of
 * acc + x * x into a fused multiply-add; the 2-norm of float32 alone has
 * a vectorised kernel of its own (norm2_f32). An empty tensor's norm is 0. */

/* max and min that return NaN when either side is NaN, as PyTorch's
 * reductions do. */
#define NAN_MAX(a, b) (isnan(a) ? (a) : isnan(b) ? (b) : (a) > (b) ? (a) : (b))
#define NAN_MIN(a, b) (isnan(a) ? (a) : isnan(b) ? (b) : (a) < (b) ? (a) : (b))

/* PyTorch's float32 2-norm kernel with AVX2 (Debian builds it so): 8 lanes
 * accumulating x * x with fused multiply-adds, added left to right, then
 * the n % 8 elements left, of which GCC vectorised the first 4 (when there
 * are 4) as products added in order, and fused the rest. Checked against
 * PyTorch on 20000 random lengths and scales, every bit equal. */
TG_HOT static float norm2_f32(const float *x, int64_t n) {
    float lanes[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) lanes[j] = fmaf(x[i + j], x[i + j], lanes[j]);
    float acc = lanes[0];
    for (int j = 1; j < 8; j++) acc += lanes[j];
    if (n - i >= 4)
        for (int end = (int)i + 4; i < end; i++) {
            float square = x[i] * x[i]; /* rounded on its own: not fused */
            acc += square;
        }
    for (; i < n; i++) acc = fmaf(x[i], x[i], acc);
    return sqrtf(acc);
}

/* The other norms, in T: the count of non-zeros (p 0), sums of |x| (1),
 * of x^2 (2), of |x|^p (then to the power 1 / p), the largest and the
 * smallest |x| (inf, -inf); NaN p makes NaN (but for |x| = 1). */
#define NORM_OF(T, name)                                                     \
    TG_HOT static T name(const T *x, int64_t n, T p) {                       \
        T acc = p == -INFINITY ? INFINITY : 0;                               \
        for (int64_t i = 0; i < n; i++) {                                    \
            T a = fabs(x[i]);                                                \
            if (p == 0)                                                      \
                acc += x[i] != 0;                                            \
            else if (p == 1)                                                 \
                acc += a;                                                    \
            else if (p == 2)                                                 \
                acc = fma(x[i], x[i], acc);                                  \
            else if (p == INFINITY)                                          \
                acc = NAN_MAX(acc, a);                                       \
            else if (p == -INFINITY)                                         \
                acc = NAN_MIN(acc, a);                                       \
            else                                                             \
                acc += pow(a, p);                                            \
        }                                                                    \
        if (n == 0) return 0;                                                \
        if (p == 2) return sqrt(acc);                                        \
        if (p == 0 || p == 1 || p == INFINITY || p == -INFINITY) return acc; \
        return pow(acc, (T)1 / p);                                           \
    }
NORM_OF(float, norm_f32)
NORM_OF(double, norm_f64)

/* The p-norm of n contiguous values of dtype, as at::norm computes it,
 * returned exactly (a float32 norm is a float32 value). */
static double norm_of(const void *x, int64_t n, tg_dtype dtype, double p) {
    float pf = (float)p;
    if (dtype == TG_F64) return norm_f64(x, n, pf);
    return pf == 2 ? norm2_f32(x, n) : norm_f32(x, n, pf);
}

/* ---- clip_grad_norm_ ---------------------------------------------------------------- */

/* v as Python's repr(float) writes it (2.0, 0.5, inf, 1e+16), for
 * PyTorch's message. */
static void python_repr(char *buf, size_t size, double v) {
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    char digits[32];
    int prec = 1;
    do /* the fewest digits that read back as v */
        snprintf(digits, sizeof digits, "%.*e", prec - 1, v);
    while (strtod(digits, NULL) != v && ++prec < 17);
    int exp = atoi(strchr(digits, 'e') + 1);
    if (exp < -4 || exp >= 16) {
        snprintf(buf, size, "%s", digits);
        return;
    }
    snprintf(buf, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
    if (!strchr(buf, '.')) snprintf(buf + strlen(buf), size - strlen(buf), ".0");
}

/* The norm of every grad, then the norm of those norms (stacked in float64
 * when any grad is float64, as torch.stack promotes), as PyTorch 1.13's
 * clip_grad_norm_ takes them. Its inf norm is max(|g|) then the max of
 * those, the same values as the kernel's, but max() refuses an empty grad.
 * *dtype gets the total's dtype. Returns -1.0 after an error. */
static double total_norm(tg_tensor *const *params, int n, double norm_type, tg_dtype *dtype) {
    int k = 0;
    *dtype = TG_F32;
    for (int i = 0; i < n; i++) {
        tg_tensor *g = params[i]->grad;
        if (!g) continue;
        if (g->dtype == TG_F64) *dtype = TG_F64;
        if (norm_type == INFINITY && tg_numel(g) == 0) {
            tg__error(
                TG_ERR_VALUE,
                "clip_grad_norm_: parameter %d: max(): Expected reduction dim to be specified "
                "for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
                i);
            return -1;
        }
        k++;
    }
    if (k == 0) return 0;
    double *norms = tg__alloc((sizeof(double) + sizeof(float)) * (size_t)k, "clip_grad_norm_");
    if (!norms) return -1;
    float *stacked = (float *)(norms + k);
    k = 0;
    for (int i = 0; i < n; i++) {
        tg_tensor *g = tg__grad_values(params[i]); /* contiguous: backward makes it so */
        if (!g) continue;
        norms[k] = norm_of(tg__ptr(g), tg_numel(g), g->dtype, norm_type);
        stacked[k] = (float)norms[k]; /* exact when every grad is float32 */
        k++;
    }
    double total = *dtype == TG_F64 ? norm_of(norms, k, TG_F64, norm_type)
                                    : norm_of(stacked, k, TG_F32, norm_type);
    tg__free(norms);
    return total;
}

double tg_clip_grad_norm_ex_(tg_tensor *const *params, int n, double max_norm, double norm_type,
                             tg_nonfinite_mode nonfinite) {
    if (!check("clip_grad_norm_", params, n) ||
        !tg__optim_check_nonneg("clip_grad_norm_", "max_norm", max_norm))
        return -1;
    if (nonfinite != TG_SCALE_NONFINITE && nonfinite != TG_ERROR_IF_NONFINITE) {
        tg__error(TG_ERR_VALUE,
                  "clip_grad_norm_: invalid nonfinite mode %d (TG_SCALE_NONFINITE or "
                  "TG_ERROR_IF_NONFINITE)",
                  (int)nonfinite);
        return -1;
    }
    tg_dtype dtype;
    double total = total_norm(params, n, norm_type, &dtype);
    if (total == -1) return -1;
    if (nonfinite == TG_ERROR_IF_NONFINITE && !isfinite(total)) {
        char order[32];
        python_repr(order, sizeof order, norm_type);
        tg__error(TG_ERR_VALUE,
                  "clip_grad_norm_: The total norm of order %s for gradients from `parameters` is "
                  "non-finite, so it cannot be clipped. To disable this error and scale the "
                  "gradients by the non-finite norm anyway, pass TG_SCALE_NONFINITE "
                  "(error_if_nonfinite=False)",
                  order);
        return -1;
    }
    /* PyTorch's coefficient, in the total's dtype: max_norm / (total +
     * 1e-6) is Tensor.__rtruediv__, the reciprocal times max_norm (two
     * roundings), clamped to 1 (a no-op then, skipped here); NaN stays NaN
     * and makes the grads NaN, an infinite total makes them zero (or NaN),
     * as in PyTorch. The grads are multiplied by it rounded to their dtype. */
    double coef;
    if (dtype == TG_F32) {
        float reciprocal = 1 / ((float)total + (float)1e-6);
        coef = reciprocal * (float)max_norm;
    } else {
        double reciprocal = 1 / (total + 1e-6);
        coef = reciprocal * max_norm;
    }
    if (!(coef >= 1)) each_grad(params, n, scale_rows, coef);
    return total;
}

double tg_clip_grad_norm_(tg_tensor *const *params, int n, double max_norm) {
    return tg_clip_grad_norm_ex_(params, n, max_norm, TG_CLIP_GRAD_NORM_DEFAULT_NORM_TYPE,
                                 TG_SCALE_NONFINITE);
}

int tg_clip_grad_value_(tg_tensor *const *params, int n, double clip_value) {
    if (!check("clip_grad_value_", params, n) ||
        !tg__optim_check_nonneg("clip_grad_value_", "clip_value", clip_value))
        return -1;
    each_grad(params, n, clamp_rows, clip_value);
    return 0;
}
