/* Exercise 4: softmax with cross-entropy (see exercises.h).
 *
 *     p = softmax(logits) along the classes;
 *     loss = -(1/B) sum_b log p[b, labels[b]]
 *
 * For one row, with p_j = exp(z_j) / sum_k exp(z_k) and y the true class:
 *   -log p_y = -z_y + log sum_k exp(z_k), so
 *   d(-log p_y) / d z_j = -[j == y] + exp(z_j) / sum_k exp(z_k) = p_j - [j == y].
 * The softmax's own Jacobian and the log's 1/p cancel: the gradient is the
 * predicted probabilities minus the one-hot target. Then the mean over the
 * batch divides every row by B.
 *
 * Useful ops: tg_softmax, tg_one_hot (int64: convert with tg_to_dtype),
 * tg_sub, tg_div_scalar, tg_size. */
#include "exercises.h"

void softmax_cross_entropy_backward(tg_tensor *logits, tg_tensor *labels, tg_tensor **dlogits) {
    (void)logits, (void)labels;
    *dlogits = NULL; /* TODO */
}
