/* optim/sgd.c - torch.optim.SGD: plain, with momentum (and dampening), or
 * Nesterov, with L2 weight decay and maximize. */
#include "optim_internal.h"

enum { MOMENTUM_BUFFER };

typedef struct sgd_coeffs {
    double neg_lr, weight_decay, momentum, one_minus_dampening;
    bool nesterov, maximize, first;
} sgd_coeffs;

/* The kernels sgd_f32 and sgd_f64; sgd_tmpl.c states the math they follow. */
#define TMPL "sgd_tmpl.c"
#include "tmpl.h"

static void sgd_update(const tg__optim_group *group, tg__optim_param *p) {
    static const tg__optim_row_fn kernels[2] = {sgd_f32, sgd_f64};
    const tg_sgd_options *o = &group->hp.sgd;
    sgd_coeffs c = {.neg_lr = -group->lr,
                    .weight_decay = o->weight_decay,
                    .momentum = o->momentum,
                    .one_minus_dampening = 1 - o->dampening,
                    .nesterov = o->nesterov,
                    .maximize = o->maximize,
                    .first = p->step == 1};
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
