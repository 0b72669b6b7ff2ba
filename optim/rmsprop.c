/* optim/rmsprop.c - torch.optim.RMSprop, plain or centered, with momentum,
 * L2 weight decay and maximize. */
#include "optim_internal.h"

enum { SQUARE_AVG, MOMENTUM_BUFFER, GRAD_AVG };

typedef struct rmsprop_coeffs {
    double neg_lr, alpha, weight_decay, eps, momentum;
    bool centered, maximize;
} rmsprop_coeffs;

/* The kernels rmsprop_f32 and rmsprop_f64; rmsprop_tmpl.c states the math they follow. */
#define TMPL "rmsprop_tmpl.c"
#include "tmpl.h"

static void rmsprop_update(const tg__optim_group *group, tg__optim_param *p) {
    static const tg__optim_row_fn kernels[2] = {rmsprop_f32, rmsprop_f64};
    const tg_rmsprop_options *o = &group->hp.rmsprop;
    rmsprop_coeffs c = {.neg_lr = -group->lr,
                        .alpha = o->alpha,
                        .weight_decay = o->weight_decay,
                        .eps = o->eps,
                        .momentum = o->momentum,
                        .centered = o->centered,
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
