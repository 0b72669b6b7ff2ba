/* ops/dropout.c - inverted dropout. Forward and backward are one formula,
 * v * mask * scale (v the input, then the incoming gradient), with the mask
 * drawn once in the forward and saved. */
#include "ops_internal.h"
#include "tapegrad/dropout.h"

/* out = v * mask * scale (p[0]), left to right in T, as torch's
 * native_dropout computes it (x.mul(mask).mul_(scale)), so a dropped
 * negative element is -0 there and here, and the values agree bit for bit. */
TG_ROWS2(masked_scale, TG_OWN, v, m, v *m *p[0])

/* mask = 1 where a float64 uniform draw u < keep (raw[0] = 1 - p), else 0:
 * torch's bernoulli_(1 - p) on CPU, which draws doubles for either dtype. */
TG_ROWS_ORDERED0(mask_rows, TG_OWN, tg__uniform(gen, TG_F64) < raw[0])

/* A new tensor (owned) of v's shape: v * mask * scale. */
static tg_tensor *masked(const char *op, tg_tensor *v, tg_tensor *mask, double scale) {
    tg_tensor *out = tg__new_owned(op, v->ndim, v->shape, v->dtype);
    if (out)
        tg__map(out, 2, (const tg_tensor *[]){v, mask}, masked_scale[v->dtype],
                &(tg__row_ctx){.p = {scale}});
    return out;
}

enum { DROPOUT_SAVED_MASK };
typedef struct dropout_state {
    double scale;
} dropout_state;

static int dropout_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const dropout_state *st = TG__NODE_STATE(node, dropout_state);
    gi[0] = tg__autorelease(masked(node->def->name, g, node->saved[DROPOUT_SAVED_MASK], st->scale));
    return gi[0] ? 0 : -1;
}
static const tg__op_def dropout_def = {"NativeDropoutBackward0", dropout_backward,
                                       "mask / (1 - p): the kept elements, scaled"};

tg_tensor *tg_dropout(tg_tensor *x, double p, tg_mode training, tg_generator *gen) {
    const char *op = "dropout";
    if (!tg__check_float(op, x)) return NULL;
    if (!(p >= 0 && p <= 1)) { /* also refuses NaN */
        tg__error(TG_ERR_VALUE, "%s: probability p must be in [0, 1], got %g", op, p);
        return NULL;
    }
    if (training == TG_EVAL || p == 0) return tg__autorelease(tg_retain(x));
    tg__row_ctx draw = {.p = {1 - p}, .gen = tg__generator(gen)};
    double scale = p == 1 ? 0 : 1 / (1 - p); /* p = 1: zeros, not 0 * inf */
    tg_tensor *mask = tg__new_owned(op, x->ndim, x->shape, x->dtype);
    if (!mask) return NULL;
    tg__map_ordered(mask, 0, NULL, mask_rows[x->dtype], &draw); /* row-major draws */
    tg_tensor *out = masked(op, x, mask, scale);
    dropout_state st = {scale};
    if (out) out = tg__finish(out, &dropout_def, TG__TENSORS(x), TG__SAVE_STATE(&st, mask));
    tg_release(mask);
    return out;
}
