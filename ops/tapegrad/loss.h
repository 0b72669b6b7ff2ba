/* tapegrad/loss.h - loss functions, as torch.nn.functional has them.
 *
 * Each returns a new tensor (see the ownership rule in tapegrad/tensor.h):
 * 0-dim for TG_REDUCTION_MEAN and TG_REDUCTION_SUM, the per-element (or
 * per-sample) losses for TG_REDUCTION_NONE. On error it returns NULL with
 * tg_last_error() set: NULL input (the pending message is kept), dtypes or
 * shapes that differ, a class index out of range, an unknown reduction:
 *
 *     "mse_loss: target shape (3,) does not match input shape (2, 3)"
 *
 * Inputs may be strided views. Where PyTorch 1.13 would broadcast input and
 * target (mse_loss does, with a warning), tapegrad refuses: a mismatch is
 * almost always a bug.
 */
#ifndef TAPEGRAD_LOSS_H
#define TAPEGRAD_LOSS_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the per-element losses are combined. MEAN is 0, so a zeroed options
 * struct means torch's default. */
typedef enum tg_reduction {
    TG_REDUCTION_MEAN = 0, /* their mean (NaN when there are none, as torch) */
    TG_REDUCTION_SUM,      /* their sum */
    TG_REDUCTION_NONE,     /* all of them, one per element or sample */
} tg_reduction;

/* (input - target)^2, input and target of one shape. Gradients flow to both
 * when they require grad. Node MseLossBackward0. */
TG_API tg_tensor *tg_mse_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction);

/* Cross entropy of logits (N, C) against class indices: target is an array
 * of N indices in [0, C), borrowed for the call only (tapegrad tensors hold
 * only floats, so the indices come as plain integers, as torch's int64
 * target tensor). Sample i loses logsumexp(logits[i]) - logits[i][target[i]];
 * MEAN divides the sum by N. As in torch, logits may also be (C,), one
 * sample (target: 1 index; NONE gives a 0-dim loss), or (N, C, d1, ..., dk)
 * with the classes in dim 1 (target: N d1 ... dk indices in row-major
 * order; NONE gives (N, d1, ..., dk)); this holds for the functions below. As torch.nn.functional.cross_entropy with its
 * defaults: a target of -100 is ignored (see tg_cross_entropy_ex). Computed
 * in one stable pass (the row maximum is subtracted) with the gradient
 * softmax - onehot (times the incoming gradient, over N for MEAN). PyTorch
 * splits this into two nodes, NllLossBackward0 after LogSoftmaxBackward0;
 * the fused node here is named CrossEntropyBackward0. */
TG_API tg_tensor *tg_cross_entropy(tg_tensor *logits, const int64_t *target,
                                   tg_reduction reduction);

/* torch's other arguments of cross_entropy; tg_cross_entropy_defaults()
 * gives its defaults (MEAN, no weights, -100, no smoothing). */
typedef struct tg_cross_entropy_options {
    tg_reduction reduction;
    /* (C,), of the logits' dtype: each class's weight (borrowed; it gets no
     * gradient, as in torch), or NULL for 1 each. */
    tg_tensor *weight;
    /* Samples whose target is this count for nothing, their gradient is 0;
     * it may be a class index. */
    int64_t ignore_index;
    /* e in [0, 1]: sample i's target becomes (1 - e) onehot + e / C. */
    double label_smoothing;
} tg_cross_entropy_options;
TG_API tg_cross_entropy_options tg_cross_entropy_defaults(void);

/* Cross entropy with options, as torch computes it: sample i, target y,
 * loses (1 - e) w[y] (lse - x[y]) + (e / C) sum_c w[c] (lse - x[c]), lse =
 * logsumexp of its row, or 0 when ignored; MEAN divides the sum by the sum
 * of w[y] over the samples not ignored (NaN when all are). The gradient of
 * sample i's row is (1 - e) w[y] (softmax - onehot) + (e / C) (W softmax -
 * w), W = sum_c w[c]. */
TG_API tg_tensor *tg_cross_entropy_ex(tg_tensor *logits, const int64_t *target,
                                      const tg_cross_entropy_options *options);

/* Cross entropy against class probabilities, as torch's cross_entropy with
 * a floating-point target: target is (N, C), of the logits' shape and
 * dtype (each row usually sums to 1). Sample i loses
 * -sum_c w[c] t'[c] log_softmax(logits[i])[c], t' = (1 - e) target[i] + e / C;
 * MEAN divides the sum by N (not by the weights). Options as above, but
 * ignore_index must be negative (torch: "not supported"). Gradients flow to
 * the logits and, when it requires grad, to the target.
 * Node CrossEntropyBackward0 (fused, as for class indices). */
TG_API tg_tensor *tg_cross_entropy_probs(tg_tensor *logits, tg_tensor *target,
                                         const tg_cross_entropy_options *options);

/* Binary cross entropy on logits x with targets t in [0, 1] of x's shape:
 * max(x, 0) - x t + log1p(exp(-|x|)), stable for any x. Gradients:
 * sigmoid(x) - t for x, -x for t. Node BinaryCrossEntropyWithLogitsBackward0.
 */
TG_API tg_tensor *tg_binary_cross_entropy_with_logits(tg_tensor *x, tg_tensor *target,
                                                      tg_reduction reduction);

#ifdef __cplusplus
}
#endif
#endif
