/* optim/clip.c - gradient clipping, as torch.nn.utils.clip_grad_norm_ and
 * clip_grad_value_: in place on the .grad of a list of tensors. */
#include <math.h>

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

#define SUM_SQUARES_ROW(name, T)                                                       \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {               \
        const T *g = (const T *)p[0];                                                  \
        double acc = 0;                                                                \
        for (int64_t i = 0; i < n; i++) acc += (double)g[i * s[0]] * (double)g[i * s[0]]; \
        *(double *)ctx += acc;                                                         \
    }
SUM_SQUARES_ROW(sum_squares_f32, float)
SUM_SQUARES_ROW(sum_squares_f64, double)

#define SCALE_ROW(name, T)                                                             \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {               \
        T *g = (T *)p[0];                                                              \
        const T c = (T) * (const double *)ctx;                                         \
        for (int64_t i = 0; i < n; i++) g[i * s[0]] *= c;                              \
    }
SCALE_ROW(scale_f32, float)
SCALE_ROW(scale_f64, double)

#define CLAMP_ROW(name, T)                                                             \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {               \
        T *g = (T *)p[0];                                                              \
        const T hi = (T) * (const double *)ctx;                                        \
        for (int64_t i = 0; i < n; i++) {                                              \
            T v = g[i * s[0]];                                                         \
            g[i * s[0]] = v > hi ? hi : v < -hi ? -hi : v; /* NaN stays NaN */        \
        }                                                                              \
    }
CLAMP_ROW(clamp_f32, float)
CLAMP_ROW(clamp_f64, double)

/* Runs a row kernel over every grad, in place, and bumps its version. */
static void each_grad(tg_tensor *const *params, int n, const tg_row_fn fns[2], double arg) {
    for (int i = 0; i < n; i++) {
        tg_tensor *g = params[i]->grad;
        if (!g) continue;
        tg__map(g, 0, NULL, fns[g->dtype], &arg);
        g->storage->version++;
    }
}

double tg_clip_grad_norm(tg_tensor *const *params, int n, double max_norm) {
    static const tg_row_fn scale[2] = {scale_f32, scale_f64};
    if (!check("clip_grad_norm", params, n) ||
        !tg__optim_check_nonneg("clip_grad_norm", "max_norm", max_norm))
        return -1;
    /* The 2-norm of the per-tensor 2-norms is the 2-norm of all elements;
     * accumulated in double. */
    double squares = 0;
    for (int i = 0; i < n; i++) {
        tg_tensor *g = params[i]->grad;
        if (g)
            tg__map_ordered(g, 0, NULL, g->dtype == TG_F32 ? sum_squares_f32 : sum_squares_f64,
                            &squares);
    }
    double total = sqrt(squares);
    /* PyTorch's rule: scale by max_norm / (total + 1e-6), clamped to 1 (a
     * no-op then, skipped here). A non-finite total makes the grads NaN or
     * zero, as in PyTorch with error_if_nonfinite false. */
    double coef = max_norm / (total + 1e-6);
    if (!(coef >= 1)) each_grad(params, n, scale, coef);
    return total;
}

int tg_clip_grad_value(tg_tensor *const *params, int n, double clip_value) {
    static const tg_row_fn clamp[2] = {clamp_f32, clamp_f64};
    if (!check("clip_grad_value", params, n) ||
        !tg__optim_check_nonneg("clip_grad_value", "clip_value", clip_value))
        return -1;
    each_grad(params, n, clamp, clip_value);
    return 0;
}
