/* examples/exercises/exercises.h - the five backward passes a student writes
 * by hand. check.c builds each forward pass from small seeded inputs, runs
 * autograd's backward, calls the function below (with grad mode off, so the
 * ops you use record nothing) and compares what it stores in each *d...
 * with autograd's gradient, tensor by tensor.
 *
 * Every tensor is float64. Inputs are borrowed: don't release them. Store a
 * new tensor made with tapegrad's ops in each output; check.c's pool owns
 * it. An output left NULL is reported wrong ("not computed yet"), and so is
 * one whose ops failed, with the op's message. */
#ifndef EXERCISES_H
#define EXERCISES_H

#include <tapegrad/tapegrad.h>

/* 1. The worked example: x (2, 2) of ones; y = x + 2; z = 3 y y;
 *    loss = mean(z). Store d loss / d x. */
void worked_example_backward(tg_tensor *x, tg_tensor **dx);

/* 2. A Linear layer: x (B, IN), W (OUT, IN), b (OUT,); y = x W^T + b (B, OUT);
 *    loss = mean((y - target)^2) over all B * OUT elements. */
void linear_backward(tg_tensor *x, tg_tensor *W, tg_tensor *y, tg_tensor *target, tg_tensor **dx,
                     tg_tensor **dW, tg_tensor **db);

/* 3. SwiGLU's gate: x (B, DIM), W1 and W3 (HIDDEN, DIM);
 *    h = silu(x W1^T) * (x W3^T) (B, HIDDEN); loss = sum(h * g), so g is the
 *    gradient arriving at h from the layers above. */
void swiglu_backward(tg_tensor *x, tg_tensor *W1, tg_tensor *W3, tg_tensor *g, tg_tensor **dx,
                     tg_tensor **dW1, tg_tensor **dW3);

/* 4. Softmax with cross-entropy: logits (B, C), labels (B,) int64 classes;
 *    loss = mean over the batch of -log softmax(logits)[b, labels[b]]. */
void softmax_cross_entropy_backward(tg_tensor *logits, tg_tensor *labels, tg_tensor **dlogits);

/* 5. RMSNorm, as LLaMA's: x (B, D), w (D,);
 *    y = x * rsqrt(mean(x^2 over D) + eps) * w; loss = sum(y * g). */
void rms_norm_backward(tg_tensor *x, tg_tensor *w, double eps, tg_tensor *g, tg_tensor **dx,
                       tg_tensor **dw);

#endif
