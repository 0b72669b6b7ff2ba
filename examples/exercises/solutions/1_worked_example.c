/* Exercise 1, a reference solution: d loss / d x = (1/n) * 6 y * 1. */
#include "../exercises.h"

void worked_example_backward(tg_tensor *x, tg_tensor **dx) {
    double n = (double)tg_numel(x);
    tg_tensor *y = tg_add_scalar(x, 2); /* recompute the forward's y */
    *dx = tg_mul_scalar(y, 6 / n);      /* mean: 1/n; 3 y y: 6 y; x + 2: 1 */
}
