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

/* The kernels adam_f32 and adam_f64; adam_tmpl.c states the math they follow. */
#define TMPL "adam_tmpl.c"
#include "tmpl.h"

static void update(const tg__optim_group *group, tg__optim_param *p, bool decoupled) {
    static const tg__optim_row_fn kernels[2] = {adam_f32, adam_f64};
    const tg_adam_options *o = &group->hp.adam;
    double t = (double)p->step;
    adam_coeffs c = {.neg_step_size = -(group->lr / (1 - pow(o->beta1, t))),
                     .bias_correction2_sqrt = sqrt(1 - pow(o->beta2, t)),
                     .beta1 = o->beta1,
                     .beta2 = o->beta2,
                     .eps = o->eps,
                     .l2 = decoupled ? 0 : o->weight_decay,
                     .decay = 1 - group->lr * o->weight_decay,
                     .decoupled = decoupled,
                     .amsgrad = o->amsgrad,
                     .maximize = o->maximize};
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
                               opts ? &(tg__optim_hp){.adam = *opts} : NULL, opts ? opts->lr : 0);
}
