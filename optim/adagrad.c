/* optim/adagrad.c - torch.optim.Adagrad, with lr_decay, L2 weight decay,
 * initial_accumulator_value and maximize. */
#include "optim_internal.h"

enum { SUM };

typedef struct adagrad_coeffs {
    double neg_clr, weight_decay, eps;
    bool maximize;
} adagrad_coeffs;

/* The kernels adagrad_f32 and adagrad_f64; adagrad_tmpl.c states the math they follow. */
#define TMPL "adagrad_tmpl.c"
#include "tmpl.h"

static void adagrad_update(const tg__optim_group *group, tg__optim_param *p) {
    static const tg__optim_row_fn kernels[2] = {adagrad_f32, adagrad_f64};
    const tg_adagrad_options *o = &group->hp.adagrad;
    adagrad_coeffs c = {.neg_clr = -(group->lr / (1 + (double)(p->step - 1) * o->lr_decay)),
                        .weight_decay = o->weight_decay,
                        .eps = o->eps,
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
