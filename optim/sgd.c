/* optim/sgd.c - torch.optim.SGD: plain, with momentum (and dampening), or
 * Nesterov, with L2 weight decay and maximize. */
#include <tgmath.h>

#include "optim_internal.h"

enum { MOMENTUM_BUFFER };

typedef struct sgd_coeffs {
    double neg_lr, weight_decay, momentum, one_minus_dampening;
    bool nesterov, maximize, first;
} sgd_coeffs;

/* PyTorch 1.13's _single_tensor_sgd, element by element:
 *   d = grad (negated under maximize) + wd * p
 *   buf = d on the first step (the buffer is a clone of d), later
 *         momentum * buf + (1 - dampening) * d
 *   d = nesterov ? d + momentum * buf : buf          (when momentum != 0)
 *   p = p - lr * d
 * Every line rounds to the parameter's dtype, as each of PyTorch's tensor
 * ops does, and its add_(x, alpha) lines are fused multiply-adds. */
#define SGD_KERNEL(name, T)                                                            \
    static TG_ALWAYS_INLINE void name##_loop(const tg__optim_row *r, const sgd_coeffs *c, \
                                             int64_t ps, int64_t gs, bool momentum,    \
                                             bool first, bool nesterov) {              \
        const T neg_lr = (T)c->neg_lr, wd = (T)c->weight_decay, mu = (T)c->momentum,  \
                damp = (T)c->one_minus_dampening;                                      \
        const bool maximize = c->maximize;                                             \
        T *p = r->param, *buf = r->state[MOMENTUM_BUFFER];                             \
        const T *g = r->grad;                                                          \
        TG_SIMD                                                                        \
        for (int64_t i = 0; i < r->n; i++) {                                           \
            T pi = p[i * ps];                                                          \
            T d = tg__optim_grad(g[i * gs], pi, maximize, wd);                         \
            if (momentum) {                                                            \
                buf[i] = first ? d : fma(damp, d, buf[i] * mu);                        \
                d = nesterov ? fma(mu, buf[i], d) : buf[i];                            \
            }                                                                          \
            p[i * ps] = fma(neg_lr, d, pi);                                            \
        }                                                                              \
    }                                                                                  \
    /* The unit-stride steps after the first get copies with the flags as      \
     * constants, which vectorise (GCC does not unswitch this loop on all). */ \
    TG_HOT static void name(const tg__optim_row *r, const void *coeffs) {              \
        const sgd_coeffs *c = coeffs;                                                  \
        bool momentum = c->momentum != 0;                                              \
        if (!tg__optim_unit_strides(r) || (momentum && c->first))                      \
            name##_loop(r, c, r->param_stride, r->grad_stride, momentum, c->first,     \
                        c->nesterov);                                                  \
        else if (!momentum)                                                            \
            name##_loop(r, c, 1, 1, false, false, false);                              \
        else if (c->nesterov)                                                          \
            name##_loop(r, c, 1, 1, true, false, true);                                \
        else                                                                           \
            name##_loop(r, c, 1, 1, true, false, false);                               \
    }
SGD_KERNEL(sgd_f32, float)
SGD_KERNEL(sgd_f64, double)

static void sgd_update(const tg__optim_group *group, tg__optim_param *p) {
    static const tg__optim_row_fn kernels[2] = {sgd_f32, sgd_f64};
    const tg_sgd_options *o = &group->hp.sgd;
    sgd_coeffs c = {.neg_lr = -group->lr, .weight_decay = o->weight_decay,
                    .momentum = o->momentum, .one_minus_dampening = 1 - o->dampening,
                    .nesterov = o->nesterov, .maximize = o->maximize, .first = p->step == 1};
    tg__optim_apply(p, kernels, &c);
}

static bool sgd_validate(const char *name, const tg__optim_hp *hp) {
    const tg_sgd_options *o = &hp->sgd;
    if (!tg__optim_check_nonneg(name, "momentum", o->momentum) ||
        !tg__optim_check_nonneg(name, "weight_decay", o->weight_decay))
        return false;
    /* PyTorch: "Nesterov momentum requires a momentum and zero dampening". */
    if (o->nesterov && (o->momentum <= 0 || o->dampening != 0)) {
        tg__error(TG_ERR_VALUE,
                  "%s: nesterov requires momentum > 0 and dampening 0 (momentum %g, dampening %g)",
                  name, o->momentum, o->dampening);
        return false;
    }
    return true;
}

static bool sgd_uses_state(const tg__optim_hp *hp, int slot, double *init) {
    *init = 0;
    return slot == MOMENTUM_BUFFER && hp->sgd.momentum != 0;
}

static const tg__optim_kind sgd_kind = {
    .name = "SGD",
    .options_type = "tg_sgd_options",
    .state_names = {"momentum_buffer"},
    .validate = sgd_validate,
    .uses_state = sgd_uses_state,
    .update = sgd_update,
};

tg_sgd_options tg_sgd_defaults(double lr) { return (tg_sgd_options){.lr = lr}; }

tg_optimizer *tg_sgd_new(tg_tensor *const *params, int n, const tg_sgd_options *opts) {
    if (!opts) { /* torch.optim.SGD's lr is `required` */
        tg__error(TG_ERR_NULL, "SGD: options are NULL (SGD has no default lr)");
        return NULL;
    }
    return tg__optim_new(&sgd_kind, params, n, &(tg__optim_hp){.sgd = *opts}, opts->lr);
}

int tg_sgd_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                     const tg_sgd_options *opts) {
    return tg__optim_add_group(opt, sgd_kind.options_type, params, n,
                               opts ? &(tg__optim_hp){.sgd = *opts} : NULL, opts ? opts->lr : 0);
}
