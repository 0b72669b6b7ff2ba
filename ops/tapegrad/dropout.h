/* tapegrad/dropout.h - inverted dropout, as torch.nn.functional.dropout. */
#ifndef TAPEGRAD_DROPOUT_H
#define TAPEGRAD_DROPOUT_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* In training, zeroes each element of x with probability p and scales the
 * survivors by 1 / (1 - p), so the expected value is unchanged; p = 1 gives
 * zeros. The mask is drawn from gen (NULL: the thread's default generator),
 * one float64 uniform draw u per element in row-major order, keeping the
 * element when u < 1 - p: torch.native_dropout's rule on CPU. So after
 * tg_manual_seed(s) the mask is the one torch.manual_seed(s) gives, bit for
 * bit, for a contiguous x (torch draws in x's memory order: for a transposed
 * view the masks differ). The gradient is the incoming one times
 * mask / (1 - p); node NativeDropoutBackward0 (torch.nn.functional.dropout
 * on CPU computes x * (mask / (1 - p)) and reports MulBackward0 instead).
 *
 * In evaluation (training false) and for p = 0 nothing is drawn and x itself
 * is returned (one more reference, under the usual ownership rule), as
 * F.dropout returns its input: the identity needs no copy and no node.
 *
 * Returns a new tensor, or NULL with tg_last_error() set for NULL x or p
 * outside [0, 1] ("dropout: probability p must be in [0, 1], got 1.5"). */
TG_API tg_tensor *tg_dropout(tg_tensor *x, double p, tg_mode training, tg_generator *gen);

#ifdef __cplusplus
}
#endif
#endif
