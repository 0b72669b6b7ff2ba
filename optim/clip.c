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

#define SUM_SQUARES_ROW(name, T)                                                          \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {                  \
        const T *g = (const T *)p[0];                                                     \
        double acc = 0;                                                                   \
        for (int64_t i = 0; i < n; i++) acc += (double)g[i * s[0]] * (double)g[i * s[0]]; \
        *(double *)ctx += acc;                                                            \
    }
SUM_SQUARES_ROW(sum_squares_f32, float)
SUM_SQUARES_ROW(sum_squares_f64, double)

/* g times the coefficient p[0], in g's type, as PyTorch's mul_. */
TG_ROWS1(scale_rows, TG_OWN, g, g *p[0])
/* g clamped to [-v, v], v = p[0]; NaN stays NaN. */
TG_ROWS1(clamp_rows, TG_OWN, g, g > p[0] ? p[0] : g < -p[0] ? -p[0] : g)

/* Runs a row kernel over every grad, in place, and bumps its version. */
static void each_grad(tg_tensor *const *params, int n, const tg__row_fn *rows, double arg) {
    for (int i = 0; i < n; i++) {
        tg_tensor *g = params[i]->grad;
        if (!g) continue;
        tg__map(g, 1, (const tg_tensor *[]){g}, rows[g->dtype], &(tg__row_ctx){.p = {arg}});
        g->storage->version++;
    }
}

double tg_clip_grad_norm_(tg_tensor *const *params, int n, double max_norm) {
    if (!check("clip_grad_norm_", params, n) ||
        !tg__optim_check_nonneg("clip_grad_norm_", "max_norm", max_norm))
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
    if (!(coef >= 1)) each_grad(params, n, scale_rows, coef);
    return total;
}

int tg_clip_grad_value_(tg_tensor *const *params, int n, double clip_value) {
    if (!check("clip_grad_value_", params, n) ||
        !tg__optim_check_nonneg("clip_grad_value_", "clip_value", clip_value))
        return -1;
    each_grad(params, n, clamp_rows, clip_value);
    return 0;
}
