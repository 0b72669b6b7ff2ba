/* Exercise 3: SwiGLU's gate (see exercises.h), the heart of LLaMA's
 * FeedForward block.
 *
 *     a = x W1^T;  c = x W3^T;  h = silu(a) * c;  loss = sum(h * g)
 *
 * with silu(a) = a s(a), s the sigmoid. Going back from h (dh = g):
 *   the product: dc = g * silu(a), and d silu(a) = g * c;
 *   silu's derivative: s(a) + a s(a) (1 - s(a)) = s(a) (1 + a (1 - s(a))),
 *        so da = d silu(a) * that;
 *   the two products with x, as in exercise 2 (no bias here):
 *        dW1 = da^T x, dW3 = dc^T x;
 *   x feeds both a and c: its gradient is the sum of both paths,
 *        dx = da W1 + dc W3.
 *
 * Useful ops: tg_linear (x W^T), tg_sigmoid, tg_silu, tg_mul, tg_add,
 * tg_rsub_scalar (1 - s), tg_add_scalar, tg_matmul, tg_transpose. */
#include "exercises.h"

void swiglu_backward(tg_tensor *x, tg_tensor *W1, tg_tensor *W3, tg_tensor *g, tg_tensor **dx,
                     tg_tensor **dW1, tg_tensor **dW3) {
    (void)x, (void)W1, (void)W3, (void)g;
    *dx = NULL;  /* TODO */
    *dW1 = NULL; /* TODO */
    *dW3 = NULL; /* TODO */
}
