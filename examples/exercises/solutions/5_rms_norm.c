/* Exercise 5, a reference solution. */
#include "../exercises.h"

void rms_norm_backward(tg_tensor *x, tg_tensor *w, double eps, tg_tensor *g, tg_tensor **dx,
                       tg_tensor **dw) {
    const int last[] = {1};
    tg_tensor *r = tg_rsqrt(tg_add_scalar(tg_mean_dims(tg_mul(x, x), 1, last, TG_KEEP_DIMS), eps));
    tg_tensor *xhat = tg_mul(x, r);
    *dw = tg_sum_dims(tg_mul(g, xhat), 1, (int[]){0}, TG_DROP_DIMS); /* w scales every row */
    tg_tensor *dxhat = tg_mul(g, w);
    /* the direct path through x r, less the path through r */
    tg_tensor *through_r = tg_mul(xhat, tg_mean_dims(tg_mul(dxhat, xhat), 1, last, TG_KEEP_DIMS));
    *dx = tg_mul(r, tg_sub(dxhat, through_r));
}
