/* ops/dropout.c - inverted dropout. Forward and backward are one formula,
 * v * mask * scale (v the input, then the incoming gradient), with the mask
 * drawn once in the forward and saved. */
#include "ops_internal.h"
#include "tapegrad/dropout.h"

/* out = v * mask * scale, left to right in T, as torch's native_dropout
 * computes it (x.mul(mask).mul_(scale)), so a dropped negative element is
 * -0 there and here, and the values agree bit for bit. */
#define MASKED_SCALE_ROW(name, T)                                                        \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {                 \
        const T scale = (T) * (const double *)ctx;                                       \
        T *o = (T *)p[0];                                                                \
        const T *v = (const T *)p[1], *m = (const T *)p[2];                              \
        for (int64_t i = 0; i < n; i++) o[i * s[0]] = v[i * s[1]] * m[i * s[2]] * scale; \
    }
MASKED_SCALE_ROW(masked_scale_f32, float)
MASKED_SCALE_ROW(masked_scale_f64, double)

typedef struct mask_draw {
    tg_generator *gen;
    double keep; /* 1 - p */
} mask_draw;

/* mask = 1 where a float64 uniform draw u < keep, else 0: torch's
 * bernoulli_(1 - p) on CPU, which draws doubles for either dtype. */
#define MASK_ROW(name, T)                                                                \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {                 \
        const mask_draw *d = ctx;                                                        \
        T *m = (T *)p[0];                                                                \
        for (int64_t i = 0; i < n; i++)                                                  \
            m[i * s[0]] = (T)(tg__uniform(d->gen, TG_F64) < d->keep);                    \
    }
MASK_ROW(mask_f32, float)
MASK_ROW(mask_f64, double)

/* A new tensor (owned) of v's shape: v * mask * scale. */
static tg_tensor *masked(const char *op, tg_tensor *v, tg_tensor *mask, double scale) {
    static const tg_row_fn rows[2] = {masked_scale_f32, masked_scale_f64};
    tg_tensor *out = tg__new_owned(op, v->ndim, v->shape, v->dtype);
    if (out) tg__map(out, 2, (const tg_tensor *[]){v, mask}, rows[v->dtype], &scale);
    return out;
}

enum { DROPOUT_SAVED_MASK };
typedef struct dropout_state {
    double scale;
} dropout_state;

static int dropout_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const dropout_state *st = TG__NODE_STATE(node, dropout_state);
    gi[0] = tg__autorelease(
        masked(node->def->name, g, node->saved[DROPOUT_SAVED_MASK], st->scale));
    return gi[0] ? 0 : -1;
}
static const tg_op_def dropout_def = {"NativeDropoutBackward0", dropout_backward,
                                       "mask / (1 - p): the kept elements, scaled"};

tg_tensor *tg_dropout(tg_tensor *x, double p, bool training, tg_generator *gen) {
    static const tg_row_fn mask_rows[2] = {mask_f32, mask_f64};
    const char *op = "dropout";
    if (!x) {
        tg__null_arg(op);
        return NULL;
    }
    if (!(p >= 0 && p <= 1)) { /* also refuses NaN */
        tg__error(TG_ERR_VALUE, "%s: probability p must be in [0, 1], got %g", op, p);
        return NULL;
    }
    if (!training || p == 0) return tg__autorelease(tg_retain(x));
    mask_draw draw = {tg__generator(gen), 1 - p};
    double scale = p == 1 ? 0 : 1 / draw.keep; /* p = 1: zeros, not 0 * inf */
    tg_tensor *mask = tg__new_owned(op, x->ndim, x->shape, x->dtype);
    if (!mask) return NULL;
    tg__map_ordered(mask, 0, NULL, mask_rows[x->dtype], &draw); /* row-major draws */
    tg_tensor *out = masked(op, x, mask, scale);
    dropout_state st = {scale};
    if (out) out = tg__finish(out, &dropout_def, TG__TENSORS(x), TG__SAVE_STATE(&st, mask));
    tg_release(mask);
    return out;
}
