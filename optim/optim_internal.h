/* optim/optim_internal.h - what the optimizers share: parameter groups, the
 * per-parameter state, the table that describes one optimizer, and the one
 * pass that runs an update kernel over a parameter's elements. An optimizer
 * file supplies only its options check, its state slots and its kernel. */
#ifndef TAPEGRAD_OPTIM_INTERNAL_H
#define TAPEGRAD_OPTIM_INTERNAL_H

#include <math.h>

#include "internal/kernel.h"
#include "tapegrad/autograd.h"
#include "tapegrad/optim.h"

/* The most state tensors one parameter needs (RMSprop centered with
 * momentum, Adam with amsgrad). */
#define TG__OPTIM_MAX_STATE 3

typedef union tg__optim_hp {
    tg_sgd_options sgd;
    tg_adagrad_options adagrad;
    tg_rmsprop_options rmsprop;
    tg_adam_options adam;
} tg__optim_hp;

typedef struct tg__optim_group {
    /* The group's learning rate, which tg_optim_set_lr changes; the lr
     * field of hp is only its initial value. */
    double lr;
    /* PyTorch's group['initial_lr']: the lr the first scheduler made on the
     * optimizer found (OneCycleLR sets its own), which every scheduler
     * takes as its base lr and SequentialLR restarts from; NAN before. */
    double initial_lr;
    tg__optim_hp hp;
} tg__optim_group;

typedef struct tg__optim_param {
    tg_tensor *tensor; /* retained */
    int group;
    int64_t step; /* updates so far: PyTorch's state["step"] */
    /* Contiguous tensors of the parameter's shape and dtype, by the slots
     * the optimizer's state_names give; NULL when the options need none. */
    tg_tensor *state[TG__OPTIM_MAX_STATE];
} tg__optim_param;

typedef struct tg__optim_kind {
    const char *name;         /* as PyTorch names the class: "RMSprop" */
    const char *options_type; /* the options struct add_group takes */
    const char *state_names[TG__OPTIM_MAX_STATE];
    /* Checks every option but lr (checked in common); records an error
     * naming the optimizer and the bad value. */
    bool (*validate)(const char *name, const tg__optim_hp *hp);
    /* Whether these options use state slot `slot`, and its initial value. */
    bool (*uses_state)(const tg__optim_hp *hp, int slot, double *init);
    /* Updates p (which has a grad) in place; p->step already counts this
     * update, so it is 1 on the first. */
    void (*update)(const tg__optim_group *group, tg__optim_param *p);
} tg__optim_kind;

struct tg_optimizer {
    const tg__optim_kind *kind;
    tg__optim_group *groups;
    int n_groups;
    tg__optim_param *params;
    int n_params;
};

/* A new optimizer of kind with params as its first group, of options hp
 * (whose learning rate is lr). */
tg_optimizer *tg__optim_new(const tg__optim_kind *kind, tg_tensor *const *params, int n,
                            const tg__optim_hp *hp, double lr);
/* Adds a group; options_type names the caller's options struct, which must
 * be the kind's; hp NULL means the caller was given NULL options. Returns
 * the group index or -1. */
int tg__optim_add_group(tg_optimizer *opt, const char *options_type, tg_tensor *const *params,
                        int n, const tg__optim_hp *hp, double lr);

/* The hyper-parameter OneCycleLR cycles in group g, where PyTorch's finds
 * it: SGD's and RMSprop's momentum, Adam's and AdamW's beta1 (betas[0]);
 * NULL for Adagrad, which has neither. */
double *tg__optim_momentum(tg_optimizer *opt, int g);

/* Option checks shared by the validate functions: value >= 0, and value in
 * [0, 1) (NaN fails both, as PyTorch's `not 0.0 <= value` does). */
bool tg__optim_check_nonneg(const char *name, const char *what, double value);
bool tg__optim_check_unit(const char *name, const char *what, double value);

/* optim/state.c: checks the marker of a state file, the tensor
 * "<owner>.<kind>" holding the count of what the state is for (`counted`,
 * as "parameters"); sets the error naming op and returns false if the file
 * has none, another kind's, or another count. */
bool tg__check_state_marker(const char *op, const char *path, const char *owner, const char *kind,
                            int count, const char *counted);
/* Whether a value loaded from a state file is a count (a step, an epoch):
 * an integer from 0 to 2^53, the largest a float64 holds exactly. */
static inline bool tg__optim_is_count(double v) {
    /* -0.0 is not one: it would load as 0 and save as +0.0, another file */
    return v >= 0 && !signbit(v) && v <= 9007199254740992.0 && v == floor(v);
}

/* ---- The update pass ----------------------------------------------------------- */

/* One row of a parameter's elements, as a kernel sees it: element i of the
 * parameter is param[i * param_stride], of its grad grad[i * grad_stride],
 * of each state state[s][i] (states are contiguous). */
typedef struct tg__optim_row {
    void *param;
    int64_t param_stride;
    const void *grad;
    int64_t grad_stride;
    void *state[TG__OPTIM_MAX_STATE];
    int64_t n;
} tg__optim_row;

/* A kernel for one dtype; coeffs are the optimizer's per-step scalars. */
typedef void (*tg__optim_row_fn)(const tg__optim_row *row, const void *coeffs);

/* Each rule's kernel is plain C in a template file, optim/<rule>_tmpl.c,
 * which optim/tmpl.h compiles once per dtype (as <rule>_f32 and
 * <rule>_f64, the pair a rule hands to tg__optim_apply). The kernel
 * (TG_HOT) runs a copy of its loop (TG_SIMD) with unit strides and its
 * flags as constants when the row's parameter and gradient are contiguous,
 * so that the copy vectorises (GCC unswitches few flags by itself); other
 * rows get the general copy. */
static inline bool tg__optim_unit_strides(const tg__optim_row *r) {
    return r->param_stride == 1 && r->grad_stride == 1;
}

/* Runs kernels[dtype] over every element of p, its grad and its states in a
 * single pass, then bumps p's version counter. */
void tg__optim_apply(tg__optim_param *p, const tg__optim_row_fn kernels[2], const void *coeffs);

#endif
