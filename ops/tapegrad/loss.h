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

/* The class-index target of cross_entropy and nll_loss is an int64 tensor
 * (tg_from_data(labels, TG_SHAPE(n), TG_I64), or what tg_argmax gives) of
 * the samples' shape, as torch's: (N,) for an input (N, C), () for (C,),
 * one sample, and (N, d1, ..., dk) for (N, C, d1, ..., dk), the classes in
 * dim 1. Each index is in [0, C) or ignore_index. Any other dtype or shape
 * is refused with PyTorch's message ("cross_entropy: expected scalar type
 * Long but found Float ...", "Expected input batch_size (2) to match target
 * batch_size (3).", "Target 3 is out of bounds ..."). The input and target
 * may be strided views. TG_REDUCTION_NONE gives a loss per sample, of the
 * samples' shape. */

/* torch.nn.functional.cross_entropy(logits, target, reduction=...), with
 * the other arguments' defaults (see tg_cross_entropy_ex). As torch
 * decides: a target of the logits' shape holds class probabilities
 * (floating-point), any other shape class indices (int64). Sample i with
 * class y loses logsumexp(logits[i]) - logits[i][y]; MEAN divides the sum
 * by the number of samples not ignored. Computed in one stable pass (the
 * row maximum is subtracted) with the gradient softmax - onehot (times the
 * incoming gradient, over N for MEAN). PyTorch splits this into two nodes,
 * NllLossBackward0 after LogSoftmaxBackward0; the fused node here is named
 * CrossEntropyBackward0 (with a ViewBackward0 after it for NONE over logits
 * of 3 or more than 4 dims, as torch's graph ends). */
TG_API tg_tensor *tg_cross_entropy(tg_tensor *logits, tg_tensor *target, tg_reduction reduction);

/* torch's other arguments of cross_entropy; tg_cross_entropy_defaults()
 * gives its defaults (MEAN, no weights, -100, no smoothing). */
typedef struct tg_cross_entropy_options {
    tg_reduction reduction;
    /* (C,), of the logits' dtype: each class's weight (borrowed; it gets no
     * gradient, as in torch), or NULL for 1 each. */
    tg_tensor *weight;
    /* Samples whose target is this count for nothing, their gradient is 0;
     * it may be a class index. Class indices only: with probabilities it
     * must be negative (torch: "not supported"). */
    int64_t ignore_index;
    /* e in [0, 1]: sample i's target becomes (1 - e) onehot + e / C. */
    double label_smoothing;
} tg_cross_entropy_options;
TG_API tg_cross_entropy_options tg_cross_entropy_defaults(void);

/* Cross entropy with options, as torch computes it. Against class indices,
 * sample i, target y, loses (1 - e) w[y] (lse - x[y]) + (e / C) sum_c w[c]
 * (lse - x[c]), lse = logsumexp of its row, or 0 when ignored; MEAN divides
 * the sum by the sum of w[y] over the samples not ignored (NaN when all
 * are). The gradient of sample i's row is (1 - e) w[y] (softmax - onehot)
 * + (e / C) (W softmax - w), W = sum_c w[c].
 * Against class probabilities (a target of the logits' shape and dtype,
 * each row usually summing to 1), sample i loses
 * -sum_c w[c] t'[c] log_softmax(logits[i])[c], t' = (1 - e) target[i] + e / C;
 * MEAN divides the sum by the number of samples (not by the weights).
 * Gradients flow to the logits and, when it requires grad, to the target. */
TG_API tg_tensor *tg_cross_entropy_ex(tg_tensor *logits, tg_tensor *target,
                                      const tg_cross_entropy_options *options);

/* The name of tapegrad 0.2 for cross entropy against probabilities, now
 * one call with class indices (torch tells them apart by the target's
 * shape); kept until 1.0. */
static inline tg_tensor *tg_cross_entropy_probs(tg_tensor *logits, tg_tensor *target,
                                                const tg_cross_entropy_options *options) {
    return tg_cross_entropy_ex(logits, target, options);
}

/* torch.nn.functional.nll_loss's arguments; tg_nll_loss_defaults() gives
 * its defaults (MEAN, no weights, ignore_index -100). Fields as in
 * tg_cross_entropy_options. */
typedef struct tg_nll_loss_options {
    tg_reduction reduction;
    tg_tensor *weight;
    int64_t ignore_index;
} tg_nll_loss_options;
TG_API tg_nll_loss_options tg_nll_loss_defaults(void);

/* torch.nn.functional.nll_loss(log_probs, target, weight, ignore_index,
 * reduction): the negative log-likelihood of class-index targets, given
 * log-probabilities (usually tg_log_softmax's) of shape (N, C), (C,) or
 * (N, C, d1, ..., dk). Sample i with class y loses -w[y] log_probs[i][y],
 * 0 when ignored; MEAN divides the sum by the sum of w[y] over the samples
 * not ignored (NaN when all are, as torch). The gradient is -w[y] at y
 * (over that sum for MEAN), 0 elsewhere. Options NULL: torch's defaults.
 * Node NllLossBackward0, NllLoss2DBackward0 for inputs of more than 2 dims
 * (followed by ViewBackward0 for NONE over 3 or more than 4 dims), as
 * torch names them. */
TG_API tg_tensor *tg_nll_loss(tg_tensor *log_probs, tg_tensor *target,
                              const tg_nll_loss_options *options);

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
