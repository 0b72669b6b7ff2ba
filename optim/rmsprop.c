/* optim/rmsprop.c - torch.optim.RMSprop, plain or centered, with momentum,
 * L2 weight decay and maximize. */
#include <tgmath.h>

#include "optim_internal.h"

enum { SQUARE_AVG, MOMENTUM_BUFFER, GRAD_AVG };

typedef struct rmsprop_coeffs {
    double neg_lr, alpha, weight_decay, eps, momentum;
    bool centered, maximize;
} rmsprop_coeffs;

/* PyTorch 1.13's _single_tensor_rmsprop, element by element:
 *   d = grad (negated under maximize) + wd * p
 *   sq = alpha * sq + (1 - alpha) * d * d
 *   centered: ga = alpha * ga + (1 - alpha) * d,  avg = sqrt(sq - ga * ga)
 *   otherwise:                                    avg = sqrt(sq)
 *   avg = avg + eps                 (outside the root; SPEC errata 6)
 *   momentum > 0: buf = momentum * buf + d / avg,  p = p - lr * buf
 *   otherwise:                                     p = p - lr * d / avg
 * Rounded as PyTorch's ops round: mul_ then addcmul_ (a fused multiply-add)
 * for sq and the centering, mul_ then add_ (fused) for ga, and addcdiv_ as
 * a product, then a quotient, then a sum. */
#define RMSPROP_KERNEL(name, T)                                                        \
    static TG_ALWAYS_INLINE void name##_loop(const tg__optim_row *r, const rmsprop_coeffs *c, \
                                             int64_t ps, int64_t gs, bool centered,    \
                                             bool momentum) {                          \
        const T neg_lr = (T)c->neg_lr, alpha = (T)c->alpha,                            \
                one_minus_alpha = (T)(1 - c->alpha), wd = (T)c->weight_decay,          \
                eps = (T)c->eps, mu = (T)c->momentum;                                  \
        const bool maximize = c->maximize;                                             \
        T *p = r->param, *sq = r->state[SQUARE_AVG], *ga = r->state[GRAD_AVG],         \
          *buf = r->state[MOMENTUM_BUFFER];                                            \
        const T *g = r->grad;                                                          \
        TG_SIMD                                                                        \
        for (int64_t i = 0; i < r->n; i++) {                                           \
            T pi = p[i * ps];                                                          \
            T d = tg__optim_grad(g[i * gs], pi, maximize, wd);                         \
            sq[i] = fma(one_minus_alpha * d, d, sq[i] * alpha);                        \
            T avg;                                                                     \
            if (centered) {                                                            \
                ga[i] = fma(one_minus_alpha, d, ga[i] * alpha);                        \
                avg = sqrt(fma(-ga[i], ga[i], sq[i]));                                 \
            } else {                                                                   \
                avg = sqrt(sq[i]);                                                     \
            }                                                                          \
            avg = avg + eps;                                                           \
            if (momentum) {                                                            \
                buf[i] = buf[i] * mu + d / avg;                                        \
                p[i * ps] = fma(neg_lr, buf[i], pi);                                   \
            } else {                                                                   \
                p[i * ps] = pi + neg_lr * d / avg;                                     \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
    /* Each unit-stride combination of centered and momentum gets a copy with   \
     * them as constants: the stores each makes conditional do not vectorise,  \
     * and GCC does not unswitch this loop on both. */                         \
    TG_HOT static void name(const tg__optim_row *r, const void *coeffs) {              \
        const rmsprop_coeffs *c = coeffs;                                              \
        bool centered = c->centered, momentum = c->momentum > 0;                       \
        if (!tg__optim_unit_strides(r))                                                \
            name##_loop(r, c, r->param_stride, r->grad_stride, centered, momentum);    \
        else if (centered && momentum)                                                 \
            name##_loop(r, c, 1, 1, true, true);                                       \
        else if (centered)                                                             \
            name##_loop(r, c, 1, 1, true, false);                                      \
        else if (momentum)                                                             \
            name##_loop(r, c, 1, 1, false, true);                                      \
        else                                                                           \
            name##_loop(r, c, 1, 1, false, false);                                     \
    }
RMSPROP_KERNEL(rmsprop_f32, float)
RMSPROP_KERNEL(rmsprop_f64, double)

static void rmsprop_update(const tg__optim_group *group, tg__optim_param *p) {
    static const tg__optim_row_fn kernels[2] = {rmsprop_f32, rmsprop_f64};
    const tg_rmsprop_options *o = &group->hp.rmsprop;
    rmsprop_coeffs c = {.neg_lr = -group->lr, .alpha = o->alpha,
                        .weight_decay = o->weight_decay, .eps = o->eps,
                        .momentum = o->momentum, .centered = o->centered,
                        .maximize = o->maximize};
    tg__optim_apply(p, kernels, &c);
}

static bool rmsprop_validate(const char *name, const tg__optim_hp *hp) {
    const tg_rmsprop_options *o = &hp->rmsprop;
    return tg__optim_check_nonneg(name, "eps", o->eps) &&
           tg__optim_check_nonneg(name, "momentum", o->momentum) &&
           tg__optim_check_nonneg(name, "weight_decay", o->weight_decay) &&
           tg__optim_check_nonneg(name, "alpha", o->alpha);
}

static bool rmsprop_uses_state(const tg__optim_hp *hp, int slot, double *init) {
    *init = 0;
    return slot == SQUARE_AVG || (slot == MOMENTUM_BUFFER && hp->rmsprop.momentum > 0) ||
           (slot == GRAD_AVG && hp->rmsprop.centered);
}

static const tg__optim_kind rmsprop_kind = {
    .name = "RMSprop",
    .options_type = "tg_rmsprop_options",
    .state_names = {"square_avg", "momentum_buffer", "grad_avg"},
    .validate = rmsprop_validate,
    .uses_state = rmsprop_uses_state,
    .update = rmsprop_update,
};

tg_rmsprop_options tg_rmsprop_defaults(void) {
    return (tg_rmsprop_options){.lr = 1e-2, .alpha = 0.99, .eps = 1e-8};
}

tg_optimizer *tg_rmsprop_new(tg_tensor *const *params, int n, const tg_rmsprop_options *opts) {
    tg_rmsprop_options o = opts ? *opts : tg_rmsprop_defaults();
    return tg__optim_new(&rmsprop_kind, params, n, &(tg__optim_hp){.rmsprop = o}, o.lr);
}

int tg_rmsprop_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                         const tg_rmsprop_options *opts) {
    return tg__optim_add_group(opt, rmsprop_kind.options_type, params, n,
                               opts ? &(tg__optim_hp){.rmsprop = *opts} : NULL,
                               opts ? opts->lr : 0);
}
