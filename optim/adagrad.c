/* optim/adagrad.c - torch.optim.Adagrad, with lr_decay, L2 weight decay,
 * initial_accumulator_value and maximize. */
#include <tgmath.h>

#include "optim_internal.h"

enum { SUM };

typedef struct adagrad_coeffs {
    double neg_clr, weight_decay, eps;
    bool maximize;
} adagrad_coeffs;

/* PyTorch 1.13's _single_tensor_adagrad (dense), element by element:
 *   d = grad (negated under maximize) + wd * p
 *   sum = sum + d * d
 *   p = p - clr * d / (sqrt(sum) + eps)
 * eps is added outside the square root (the document writes sqrt(s + eps),
 * SPEC errata 6); clr = lr / (1 + (step - 1) * lr_decay). PyTorch's addcmul_
 * (the sum line) is one fused multiply-add, its addcdiv_ (the last line)
 * is p + (-clr * d) / std with two roundings, and so are these. */
#define ADAGRAD_KERNEL(name, T)                                                        \
    static TG_ALWAYS_INLINE void name##_loop(const tg__optim_row *r, const adagrad_coeffs *c, \
                                             int64_t ps, int64_t gs) {                 \
        const T neg_clr = (T)c->neg_clr, wd = (T)c->weight_decay, eps = (T)c->eps;     \
        const bool maximize = c->maximize;                                             \
        T *p = r->param, *sum = r->state[SUM];                                         \
        const T *g = r->grad;                                                          \
        TG_SIMD                                                                        \
        for (int64_t i = 0; i < r->n; i++) {                                           \
            T pi = p[i * ps];                                                          \
            T d = tg__optim_grad(g[i * gs], pi, maximize, wd);                         \
            sum[i] = fma(d, d, sum[i]);                                                \
            p[i * ps] = pi + neg_clr * d / (sqrt(sum[i]) + eps);                       \
        }                                                                              \
    }                                                                                  \
    TG_HOT static void name(const tg__optim_row *r, const void *coeffs) {              \
        if (tg__optim_unit_strides(r))                                                 \
            name##_loop(r, coeffs, 1, 1);                                              \
        else                                                                           \
            name##_loop(r, coeffs, r->param_stride, r->grad_stride);                   \
    }
ADAGRAD_KERNEL(adagrad_f32, float)
ADAGRAD_KERNEL(adagrad_f64, double)

static void adagrad_update(const tg__optim_group *group, tg__optim_param *p) {
    static const tg__optim_row_fn kernels[2] = {adagrad_f32, adagrad_f64};
    const tg_adagrad_options *o = &group->hp.adagrad;
    adagrad_coeffs c = {.neg_clr = -(group->lr / (1 + (double)(p->step - 1) * o->lr_decay)),
                        .weight_decay = o->weight_decay, .eps = o->eps,
                        .maximize = o->maximize};
    tg__optim_apply(p, kernels, &c);
}

static bool adagrad_validate(const char *name, const tg__optim_hp *hp) {
    const tg_adagrad_options *o = &hp->adagrad;
    return tg__optim_check_nonneg(name, "lr_decay", o->lr_decay) &&
           tg__optim_check_nonneg(name, "weight_decay", o->weight_decay) &&
           tg__optim_check_nonneg(name, "initial_accumulator_value",
                                  o->initial_accumulator_value) &&
           tg__optim_check_nonneg(name, "eps", o->eps);
}

static bool adagrad_uses_state(const tg__optim_hp *hp, int slot, double *init) {
    *init = hp->adagrad.initial_accumulator_value;
    return slot == SUM;
}

static const tg__optim_kind adagrad_kind = {
    .name = "Adagrad",
    .options_type = "tg_adagrad_options",
    .state_names = {"sum"},
    .validate = adagrad_validate,
    .uses_state = adagrad_uses_state,
    .update = adagrad_update,
};

tg_adagrad_options tg_adagrad_defaults(void) {
    return (tg_adagrad_options){.lr = 1e-2, .eps = 1e-10};
}

tg_optimizer *tg_adagrad_new(tg_tensor *const *params, int n, const tg_adagrad_options *opts) {
    tg_adagrad_options o = opts ? *opts : tg_adagrad_defaults();
    return tg__optim_new(&adagrad_kind, params, n, &(tg__optim_hp){.adagrad = o}, o.lr);
}

int tg_adagrad_add_group(tg_optimizer *opt, tg_tensor *const *params, int n,
                         const tg_adagrad_options *opts) {
    return tg__optim_add_group(opt, adagrad_kind.options_type, params, n,
                               opts ? &(tg__optim_hp){.adagrad = *opts} : NULL,
                               opts ? opts->lr : 0);
}
