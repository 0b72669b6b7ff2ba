/* ops/loss_internal.h - what the two loss files share (ops/loss.c: the
 * elementwise losses, l1_loss and kl_div; ops/cross_entropy.c): the
 * reduction of per-element losses and the checks of reduction and target. */
#ifndef TAPEGRAD_LOSS_INTERNAL_H
#define TAPEGRAD_LOSS_INTERNAL_H

#include "ops_internal.h"
#include "tapegrad/loss.h"

/* ---- Reductions -------------------------------------------------------------------------- */

/* TG_REDUCTION_BATCHMEAN is kl_div's alone: with_batchmean says the op is it. */
static inline bool check_reduction(const char *op, tg_reduction r, bool with_batchmean) {
    if ((unsigned)r <= TG_REDUCTION_NONE || (with_batchmean && r == TG_REDUCTION_BATCHMEAN))
        return true;
    if (r == TG_REDUCTION_BATCHMEAN)
        tg__error(TG_ERR_VALUE, "%s: batchmean is not a valid value for reduction (kl_div's only)",
                  op);
    else
        tg__error(TG_ERR_VALUE,
                  "%s: unknown reduction %d (use TG_REDUCTION_MEAN, TG_REDUCTION_SUM or "
                  "TG_REDUCTION_NONE%s)",
                  op, (int)r, with_batchmean ? ", or TG_REDUCTION_BATCHMEAN" : "");
    return false;
}

/* What the sum of the losses is divided by: for MEAN, the count (or total
 * weight) of the losses averaged; the incoming gradient is divided by it too. */
static inline double divisor(tg_reduction r, double count) {
    return r == TG_REDUCTION_MEAN ? count : 1;
}

/* The per-element losses (owned, taken over) combined as r asks: themselves
 * for NONE, otherwise a new 0-dim tensor (owned) holding their sum over d. */
static inline tg_tensor *reduce_losses(const char *op, tg_tensor *losses, tg_reduction r,
                                       double d) {
    if (!losses || r == TG_REDUCTION_NONE) return losses;
    tg_tensor *out = tg__new_owned(op, 0, NULL, losses->dtype);
    if (out) tg__fill(out, tg__sum_all(losses) / d);
    tg_release(losses);
    return out;
}

static inline bool check_target_shape(const char *op, const tg_tensor *x, const tg_tensor *t) {
    if (tg__same_shape(x, t)) return true;
    char bufx[TG_SHAPE_STR_MAX], buft[TG_SHAPE_STR_MAX];
    tg__error(TG_ERR_SHAPE, "%s: target shape %s does not match input shape %s", op,
              tg__shape_str(buft, sizeof buft, t->ndim, t->shape),
              tg__shape_str(bufx, sizeof bufx, x->ndim, x->shape));
    return false;
}

#endif
