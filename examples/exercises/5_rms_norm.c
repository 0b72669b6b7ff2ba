/* Exercise 5: RMSNorm, as LLaMA's (see exercises.h).
 *
 *     r = rsqrt(mean(x^2 over D) + eps)   one number per row, (B, 1)
 *     xhat = x r;  y = xhat * w;  loss = sum(y * g)
 *
 * Back from y (dy = g):
 *   dw = sum over the batch of g * xhat (w multiplies every row);
 *   dxhat = g * w;
 *   xhat_j = x_j r depends on x_j directly and, through r, on every x_k of
 *        its row: dr/dx_k = -r^3 x_k / D. Adding both paths,
 *        dx_k = r dxhat_k - (r^3 x_k / D) sum_j dxhat_j x_j
 *             = r (dxhat_k - xhat_k mean_j(dxhat_j xhat_j)).
 * The rows are independent: every mean is over the last dim, kept as a
 * dim of 1 (TG_KEEP_DIMS) so that it broadcasts against the row.
 *
 * Useful ops: tg_mul, tg_sub, tg_mean_dims, tg_sum_dims, tg_rsqrt,
 * tg_add_scalar. */
#include "exercises.h"

void rms_norm_backward(tg_tensor *x, tg_tensor *w, double eps, tg_tensor *g, tg_tensor **dx,
                       tg_tensor **dw) {
    (void)x, (void)w, (void)eps, (void)g;
    *dx = NULL; /* TODO */
    *dw = NULL; /* TODO */
}
