/* Exercise 3, a reference solution. */
#include "../exercises.h"

void swiglu_backward(tg_tensor *x, tg_tensor *W1, tg_tensor *W3, tg_tensor *g, tg_tensor **dx,
                     tg_tensor **dW1, tg_tensor **dW3) {
    tg_tensor *a = tg_linear(x, W1, NULL), *c = tg_linear(x, W3, NULL); /* the forward again */
    tg_tensor *s = tg_sigmoid(a);
    tg_tensor *dc = tg_mul(g, tg_silu(a)); /* h = silu(a) * c: d/dc = silu(a) */
    /* d/da = c * silu'(a), silu'(a) = s (1 + a (1 - s)) */
    tg_tensor *dsilu = tg_mul(s, tg_add_scalar(tg_mul(a, tg_rsub_scalar(s, 1)), 1));
    tg_tensor *da = tg_mul(tg_mul(g, c), dsilu);
    *dW1 = tg_matmul(tg_transpose(da, 0, 1), x);
    *dW3 = tg_matmul(tg_transpose(dc, 0, 1), x);
    *dx = tg_add(tg_matmul(da, W1), tg_matmul(dc, W3)); /* x feeds both: add the two paths */
}
