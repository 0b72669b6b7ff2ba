/* Exercise 2: a Linear layer (see exercises.h).
 *
 *     y = x W^T + b;  loss = mean((y - target)^2)
 *
 * Start at the loss and go back through y:
 *   dy = d loss / d y: the mean divides by N = numel(y), the square gives
 *        2 (y - target);
 *   y[i, o] = sum_k x[i, k] W[o, k] + b[o], so each path from W, b or x to
 *        the loss goes through y. Sum dy over every element of y that the
 *        tensor touched:
 *   dW = dy^T x    (OUT, IN): W[o, k] meets x[i, k] in every row i;
 *   db = dy summed over the batch (dim 0): b[o] is added to every row;
 *   dx = dy W      (B, IN).
 * Check each shape against the tensor's own: a gradient has its tensor's shape.
 *
 * Useful ops: tg_sub, tg_mul_scalar, tg_numel, tg_matmul, tg_transpose,
 * tg_sum_dims (with TG_DROP_DIMS). */
#include "exercises.h"

void linear_backward(tg_tensor *x, tg_tensor *W, tg_tensor *y, tg_tensor *target, tg_tensor **dx,
                     tg_tensor **dW, tg_tensor **db) {
    (void)x, (void)W, (void)y, (void)target;
    *dx = NULL; /* TODO */
    *dW = NULL; /* TODO */
    *db = NULL; /* TODO */
}
