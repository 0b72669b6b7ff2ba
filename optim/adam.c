/* optim/adam.c - torch.optim.Adam (L2 weight decay added to the gradient)
 * and torch.optim.AdamW (decoupled weight decay), with amsgrad and
 * maximize. One kernel serves both. */
#include <tgmath.h>

#include "optim_internal.h"

enum { EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ };

typedef struct adam_coeffs {
    double neg_step_size, bias_correction2_sqrt, beta1, beta2, eps;
    double l2;    /* Adam's weight decay, added to the gradient */
    double decay; /* AdamW's factor 1 - lr * weight_decay on the parameter */
    bool decoupled, amsgrad, maximize;
} adam_coeffs;

/* PyTorch 1.13's _single_tensor_adam and _single_tensor_adamw, element by
 * element, at step t:
 *   AdamW: p = p * (1 - lr * wd)
 *   d = grad (negated under maximize), Adam: + wd * p
 *   m = beta1 * m + (1 - beta1) * d
 *   v = beta2 * v + (1 - beta2) * d * d
 *   amsgrad: vmax = max(vmax, v), used for v below
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * Both moments are bias-corrected: the document's sqrt(s_t + eps) with the
 * uncorrected s_t is SPEC errata 6. Rounded as PyTorch's ops round: m and
 * v are a mul_ then a fused add_ / addcmul_, the last line an addcdiv_
 * (product, quotient, sum). */
#define ADAM_KERNEL(name, T)                                                           \
    static TG_ALWAYS_INLINE void name##_loop(const tg__optim_row *r, const adam_coeffs *c, \
                                             int64_t ps, int64_t gs, bool amsgrad) {   \
        const T neg_step_size = (T)c->neg_step_size, bc2 = (T)c->bias_correction2_sqrt, \
                beta1 = (T)c->beta1, one_minus_beta1 = (T)(1 - c->beta1),              \
                beta2 = (T)c->beta2, one_minus_beta2 = (T)(1 - c->beta2),              \
                eps = (T)c->eps, l2 = (T)c->l2, decay = (T)c->decay;                   \
        const bool decoupled = c->decoupled, maximize = c->maximize;                   \
        T *p = r->param, *m = r->state[EXP_AVG], *v = r->state[EXP_AVG_SQ],            \
          *vmax = r->state[MAX_EXP_AVG_SQ];                                            \
        const T *g = r->grad;                                                          \
        TG_SIMD                                                                        \
        for (int64_t i = 0; i < r->n; i++) {                                           \
            T pi = p[i * ps];                                                          \
            if (decoupled) pi = pi * decay;                                            \
            T d = tg__optim_grad(g[i * gs], pi, maximize, l2);                         \
            m[i] = fma(one_minus_beta1, d, m[i] * beta1);                              \
            v[i] = fma(one_minus_beta2 * d, d, v[i] * beta2);                          \
            T second = v[i];                                                           \
            if (amsgrad) {                                                             \
                /* torch.maximum: a NaN in v wins */                                   \
                if (!(vmax[i] >= v[i])) vmax[i] = v[i];                                \
                second = vmax[i];                                                      \
            }                                                                          \
            p[i * ps] = pi + neg_step_size * m[i] / (sqrt(second) / bc2 + eps);        \
        }                                                                              \
    }                                                                                  \
    /* The common case, unit strides and no amsgrad (whose conditional store   \
     * does not vectorise), gets the copy with those as constants. */          \
    TG_HOT static void name(const tg__optim_row *r, const void *coeffs) {              \
        const adam_coeffs *c = coeffs;                                                 \
        if (tg__optim_unit_strides(r) && !c->amsgrad)                                  \
            name##_loop(r, c, 1, 1, false);                                            \
        else                                                                           \
            name##_loop(r, c, r->param_stride, r->grad_stride, c->amsgrad);            \
    }
ADAM_KERNEL(adam_f32, float)
ADAM_KERNEL(adam_f64, double)

static void update(const tg__optim_group *group, tg__optim_param *p, bool decoupled) {
    static const tg__optim_row_fn kernels[2] = {adam_f32, adam_f64};
    const tg_adam_options *o = &group->hp.adam;
    double t = (double)p->step;
    adam_coeffs c = {.neg_step_size = -(group->lr / (1 - pow(o->beta1, t))),
                     .bias_correction2_sqrt = sqrt(1 - pow(o->beta2, t)),
                     .beta1 = o->beta1, .beta2 = o->beta2, .eps = o->eps,
                     .l2 = decoupled ? 0 : o->weight_decay,
                     .decay = 1 - group->lr * o->weight_decay,
                     .decoupled = decoupled, .amsgrad = o->amsgrad, .maximize = o->maximize};
    tg__optim_apply(p, kernels, &c);
}

static void adam_update(const tg__optim_group *group, tg__optim_param *p) {
    update(group, p, false);
}

static void adamw_update(const tg__optim_group *group, tg__optim_param *p) {
    update(group, p, true);
}

static bool adam_validate(const char *name, const tg__optim_hp *hp) {
    const tg_adam_options *o = &hp->adam;
    return tg__optim_check_nonneg(name, "eps", o->eps) &&
           tg__optim_check_unit(name, "beta1", o->beta1) &&
           tg__optim_check_unit(name, "beta2", o->beta2) &&
           tg__optim_check_nonneg(name, "weight_decay", o->weight_decay);
}

static bool adam_uses_state(const tg__optim_hp *hp, int slot, double *init) {
    *init = 0;
    return slot != MAX_EXP_AVG_SQ || hp->adam.amsgrad;
}

static const tg__optim_kind adam_kind = {
    .name = "Adam",
    .options_type = "tg_adam_options",
    .state_names = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    .validate = adam_validate,
    .uses_state = adam_uses_state,
    .update = adam_update,
};

static const tg__optim_kind adamw_kind = {
    .name = "AdamW",
    .options_type = "tg_adam_options",
    .state_names = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    .validate = adam_validate,
    .uses_state = adam_uses_state,
    .update = adamw_update,
};

tg_adam_options tg_adam_defaults(void) {
    return (tg_adam_options){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

tg_adam_options tg_adamw_defaults(void) {
    tg_adam_options o = tg_adam_defaults();
    o.weight_decay = 1e-2;
    return o;
}

static tg_optimizer *create(const tg__optim_kind *kind, tg_tensor *const *params, int n,
                            const tg_adam_options *opts, tg_adam_options defaults) {
    tg_adam_options o = opts ? *opts : defaults;
    return tg__optim_new(kind, params, n, &(tg__optim_hp){.adam = o}, o.lr);
}

tg_optimizer *tg_adam_new(tg_tensor *const *params, int n, const tg_adam_options *opts) {
    return create(&adam_kind, params, n, opts, tg_adam_defaults());
}

tg_optimizer *tg_adamw_new(tg_tensor *const *params, int n, const tg_adam_options *opts) {
    return create(&adamw_kind, params, n, opts, tg_adamw_defaults());
}

int tg_adam_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                      const tg_adam_options *opts) {
    return tg__optim_add_group(opt, adam_kind.options_type, params, n,
                               opts ? &(tg__optim_hp){.adam = *opts} : NULL,
                               opts ? opts->lr : 0);
}
