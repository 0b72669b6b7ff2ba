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
 * Inputs may be strided views. Input and target have one shape: where
 * PyTorch 1.13 broadcasts them (mse_loss, l1_loss, smooth_l1_loss and
 * huber_loss do, with a warning that the result is likely wrong; kl_div
 * does silently), tapegrad refuses with the message above, naming both
 * shapes: a mismatch is almost always a bug. Broadcast one explicitly
 * (tg_expand) to mean it.
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
    TG_REDUCTION_MEAN = 0,  /* their mean (NaN when there are none, as torch) */
    TG_REDUCTION_SUM,       /* their sum */
    TG_REDUCTION_NONE,      /* all of them, one per element or sample */
    TG_REDUCTION_BATCHMEAN, /* kl_div only: their sum over the size of dim 0 */
} tg_reduction;

/* The elementwise losses compare input and target of one shape and dtype,
 * element by element; gradients flow to both when they require grad. Each
 * computes in double and rounds once, as the activations do. */

/* (input - target)^2. Node MseLossBackward0. */
TG_API tg_tensor *tg_mse_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction);

/* |input - target|, torch 1.13's composition: abs of the difference, then
 * the reduction, so the node is AbsBackward0, MeanBackward0 or SumBackward0
 * (torch 1.13 has no L1LossBackward0). The gradient at input = target is 0. */
TG_API tg_tensor *tg_l1_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction);

/* z^2 / (2 beta) where |z| < beta, |z| - beta / 2 elsewhere, z = input -
 * target: torch's smooth_l1_loss. beta >= 0 (torch's message otherwise);
 * beta = 0 is l1_loss, whose gradient at z = 0 is 0 (torch's smooth L1
 * gives -1 there, to input and target alike). SmoothL1LossBackward0. */
#define TG_SMOOTH_L1_LOSS_DEFAULT_BETA 1.0
TG_API tg_tensor *tg_smooth_l1_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction,
                                    double beta);

/* z^2 / 2 where |z| < delta, delta (|z| - delta / 2) elsewhere: torch's
 * huber_loss (smooth L1 times delta). delta > 0 (torch's message
 * otherwise). HuberLossBackward0. */
#define TG_HUBER_LOSS_DEFAULT_DELTA 1.0
TG_API tg_tensor *tg_huber_loss(tg_tensor *input, tg_tensor *target, tg_reduction reduction,
                                double delta);

/* torch.nn.functional.binary_cross_entropy: -w (t log x + (1 - t) log(1 -
 * x)) on probabilities x in [0, 1] (anything else, NaN included, is refused
 * with torch's message and the value), each log clamped at -100 as torch's.
 * weight: NULL, or of the input's dtype, broadcasting to its shape (no
 * gradient flows to it). Gradients as torch's: w (x - t) / max(x (1 - x),
 * 1e-12) for x, w (log(1 - x) - log(x)) for t. BinaryCrossEntropyBackward0. */
TG_API tg_tensor *tg_binary_cross_entropy(tg_tensor *input, tg_tensor *target, tg_tensor *weight,
                                          tg_reduction reduction);

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
 * With torch's defaults of the options below. */
TG_API tg_tensor *tg_binary_cross_entropy_with_logits(tg_tensor *x, tg_tensor *target,
                                                      tg_reduction reduction);

/* torch's other arguments of binary_cross_entropy_with_logits;
 * tg_bce_with_logits_defaults() gives its defaults (MEAN,
 * no weight, no pos_weight). Both tensors are borrowed, of the input's
 * dtype and broadcasting to its shape, and get no gradient. */
typedef struct tg_bce_with_logits_options {
    tg_reduction reduction;
    tg_tensor *weight;     /* each element's loss times it */
    tg_tensor *pos_weight; /* the positive term's weight, usually one per class (last dim) */
} tg_bce_with_logits_options;
TG_API tg_bce_with_logits_options tg_bce_with_logits_defaults(void);

/* With options, as torch computes it: w ((1 - t) x + (p t - t + 1)
 * log(1 + exp(-x))), p the pos_weight; gradients w ((p t + 1 - t)
 * sigmoid(x) - p t) for x and w (log_sigmoid(-x) - p log_sigmoid(x)) for
 * t. Options NULL: the defaults. */
TG_API tg_tensor *tg_binary_cross_entropy_with_logits_ex(tg_tensor *x, tg_tensor *target,
                                                         const tg_bce_with_logits_options *options);

/* What kl_div's target holds: probabilities, or their logs (log_target). */
typedef enum tg_log_target { TG_TARGET_PROBS = 0, TG_TARGET_LOG_PROBS = 1 } tg_log_target;

/* torch.nn.functional.kl_div(input, target, reduction, log_target): the
 * input holds log-probabilities; pointwise target (log(target) - input), 0
 * where target = 0, or exp(target) (target - input) for log targets.
 * TG_REDUCTION_BATCHMEAN divides the sum by the size of dim 0 (the batch;
 * KL divergence as defined); MEAN by the number of elements, torch's default
 * (which it warns of). torch 1.13's composition, with its nodes: SubBackward0
 * (MulBackward0 for log targets), MeanBackward0, SumBackward0, DivBackward0
 * for batchmean (torch 1.13 has no KlDivBackward0). Gradients flow to both. */
TG_API tg_tensor *tg_kl_div(tg_tensor *input, tg_tensor *target, tg_reduction reduction,
                            tg_log_target log_target);

#ifdef __cplusplus
}
#endif
#endif
