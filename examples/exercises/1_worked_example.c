/* Exercise 1: the worked example (see exercises.h).
 *
 *     x = ones(2, 2);  y = x + 2;  z = 3 y y;  loss = mean(z)
 *
 * Walk the chain rule from the loss back to x, one op at a time:
 *   d loss / d z = 1/n for each of the n = 4 elements (mean);
 *   d z / d y    = 6 y  (3 y y: y appears twice, 3 y from each side);
 *   d y / d x    = 1    (adding a constant).
 * Multiply them, element by element. Autograd's answer is 4.5 everywhere.
 *
 * Useful ops: tg_add_scalar, tg_mul_scalar, tg_numel. */
#include "exercises.h"

void worked_example_backward(tg_tensor *x, tg_tensor **dx) {
    (void)x;
    *dx = NULL; /* TODO: d loss / d x */
}
