/* optim/optimizer.c - the interface every optimizer shares: parameter groups
 * and their checks, the state tensors, step, zero_grad, the learning rate,
 * and the single pass that runs an optimizer's kernel over a parameter. */
#include <string.h>

#include "optim_internal.h"

bool tg__optim_check_nonneg(const char *name, const char *what, double value) {
    if (value >= 0) return true;
    tg__error(TG_ERR_VALUE, "%s: invalid %s %g (must be >= 0)", name, what, value);
    return false;
}

bool tg__optim_check_unit(const char *name, const char *what, double value) {
    if (value >= 0 && value < 1) return true;
    tg__error(TG_ERR_VALUE, "%s: invalid %s %g (must be in [0, 1))", name, what, value);
    return false;
}

/* ---- Groups ---------------------------------------------------------------------- */

static tg__optim_param *find_param(const tg_optimizer *opt, const tg_tensor *t) {
    for (int i = 0; i < opt->n_params; i++)
        if (opt->params[i].tensor == t) return &opt->params[i];
    return NULL;
}

/* The checks of add_param_group: real leaves that require grad, each in
 * one group only. */
static bool check_params(const tg_optimizer *opt, tg_tensor *const *params, int n) {
    const char *name = opt->kind->name;
    if (!params || n <= 0) {
        tg__error(params ? TG_ERR_VALUE : TG_ERR_NULL, "%s: empty parameter list", name);
        return false;
    }
    for (int i = 0; i < n; i++) {
        tg_tensor *t = params[i];
        if (!t) { /* keep the message of the failure that made it NULL */
            if (tg_last_status() == TG_OK)
                tg__error(TG_ERR_NULL, "%s: parameter %d is NULL", name, i);
            return false;
        }
        char shape[TG_SHAPE_STR_MAX];
        tg__shape_str(shape, sizeof shape, t->ndim, t->shape);
        if (t->grad_fn) {
            tg__error(TG_ERR_VALUE, "%s: parameter %d %s is not a leaf (made by %s)", name, i,
                      shape, tg_grad_fn_name(t));
            return false;
        }
        if (!t->requires_grad) {
            tg__error(TG_ERR_VALUE, "%s: parameter %d %s does not require grad", name, i, shape);
            return false;
        }
        /* PyTorch refuses at the first step; a tensor's strides never
         * change, so refusing here gives the same verdict before any
         * training, and a step never stops with some parameters updated. */
        char what[TG_SHAPE_STR_MAX + 64];
        snprintf(what, sizeof what, "%s: parameter %d %s", name, i, shape);
        if (!tg__check_writable(what, t)) return false;
        bool twice = find_param(opt, t) != NULL;
        for (int j = 0; j < i && !twice; j++) twice = params[j] == t;
        if (twice) {
            tg__error(TG_ERR_VALUE, "%s: parameter %d %s appears twice in the parameter groups",
                      name, i, shape);
            return false;
        }
    }
    return true;
}

static void release_states(tg__optim_param *p) {
    for (int s = 0; s < TG__OPTIM_MAX_STATE; s++) tg_release(p->state[s]);
}

/* Allocates p's states once, outside pools, with their initial values. */
static bool alloc_states(const tg__optim_kind *kind, const tg__optim_hp *hp, tg__optim_param *p) {
    tg_tensor *t = p->tensor;
    for (int s = 0; s < TG__OPTIM_MAX_STATE; s++) {
        double init = 0;
        if (!kind->uses_state(hp, s, &init)) continue;
        p->state[s] = tg__new_owned(kind->name, t->ndim, t->shape, t->dtype);
        if (!p->state[s]) {
            release_states(p);
            return false;
        }
        tg__fill(p->state[s], init);
    }
    return true;
}

int tg__optim_add_group(tg_optimizer *opt, const char *options_type, tg_tensor *const *params,
                        int n, const tg__optim_hp *hp, double lr) {
    if (!opt) {
        tg__null_arg("add_group");
        return -1;
    }
    const tg__optim_kind *kind = opt->kind;
    if (strcmp(options_type, kind->options_type) != 0) {
        tg__error(TG_ERR_VALUE, "%s: add_group was given %s, not %s", kind->name, options_type,
                  kind->options_type);
        return -1;
    }
    if (!hp) {
        tg__error(TG_ERR_NULL, "%s: options are NULL", kind->name);
        return -1;
    }
    if (!check_params(opt, params, n) || !tg__optim_check_nonneg(kind->name, "lr", lr) ||
        !kind->validate(kind->name, hp))
        return -1;

    /* Build the grown arrays aside, so that a failure leaves opt unchanged. */
    tg__optim_group *groups = tg__alloc(sizeof *groups * (size_t)(opt->n_groups + 1), kind->name);
    tg__optim_param *ps = tg__calloc(sizeof *ps * (size_t)(opt->n_params + n), kind->name);
    int made = 0;
    if (groups && ps) {
        tg__optim_param *fresh = ps + opt->n_params;
        for (; made < n; made++) {
            fresh[made].tensor = params[made];
            fresh[made].group = opt->n_groups;
            if (!alloc_states(kind, hp, &fresh[made])) break;
        }
    }
    if (made < n) {
        for (int i = 0; i < made; i++) release_states(&ps[opt->n_params + i]);
        tg__free(groups);
        tg__free(ps);
        return -1;
    }
    if (opt->n_groups) memcpy(groups, opt->groups, sizeof *groups * (size_t)opt->n_groups);
    if (opt->n_params) memcpy(ps, opt->params, sizeof *ps * (size_t)opt->n_params);
    groups[opt->n_groups] = (tg__optim_group){.lr = lr, .initial_lr = NAN, .hp = *hp};
    for (int i = 0; i < n; i++) tg_retain(params[i]);
    tg__free(opt->groups);
    tg__free(opt->params);
    opt->groups = groups;
    opt->params = ps;
    opt->n_params += n;
    return opt->n_groups++;
}

tg_optimizer *tg__optim_new(const tg__optim_kind *kind, tg_tensor *const *params, int n,
                            const tg__optim_hp *hp, double lr) {
    tg_optimizer *opt = tg__calloc(sizeof *opt, kind->name);
    if (!opt) return NULL;
    opt->kind = kind;
    if (tg__optim_add_group(opt, kind->options_type, params, n, hp, lr) < 0) {
        tg__free(opt);
        return NULL;
    }
    return opt;
}

void tg_optim_free(tg_optimizer *opt) {
    if (!opt) return;
    for (int i = 0; i < opt->n_params; i++) {
        release_states(&opt->params[i]);
        tg_release(opt->params[i].tensor);
    }
    tg__free(opt->params);
    tg__free(opt->groups);
    tg__free(opt);
}

/* ---- Training --------------------------------------------------------------------- */

int tg_optim_step(tg_optimizer *opt) {
    if (!opt) {
        tg__null_arg("optim_step");
        return -1;
    }
    for (int i = 0; i < opt->n_params; i++) {
        tg__optim_param *p = &opt->params[i];
        if (!p->tensor->grad) continue; /* as PyTorch skips p.grad is None */
        p->step++;
        opt->kind->update(&opt->groups[p->group], p);
    }
    return 0;
}

void tg_optim_zero_grad(tg_optimizer *opt, tg_zero_grad_mode mode) {
    if (!opt) return;
    for (int i = 0; i < opt->n_params; i++) {
        if (mode != TG_GRAD_TO_ZERO)
            tg_clear_grad(opt->params[i].tensor);
        else
            tg_zero_grad(opt->params[i].tensor);
    }
}

/* ---- Learning rate and inspection ---------------------------------------------------- */

int tg_optim_n_groups(const tg_optimizer *opt) { return opt ? opt->n_groups : 0; }

const char *tg_optim_name(const tg_optimizer *opt) { return opt ? opt->kind->name : NULL; }

static bool check_group(const tg_optimizer *opt, int group, bool all_allowed) {
    if (!opt) {
        tg__null_arg("optim_lr");
        return false;
    }
    if ((all_allowed && group == -1) || (group >= 0 && group < opt->n_groups)) return true;
    tg__error(TG_ERR_VALUE, "%s: no parameter group %d (it has %d)", opt->kind->name, group,
              opt->n_groups);
    return false;
}

double tg_optim_lr(const tg_optimizer *opt, int group) {
    return check_group(opt, group, false) ? opt->groups[group].lr : NAN;
}

int tg_optim_set_lr(tg_optimizer *opt, int group, double lr) {
    if (!check_group(opt, group, true) || !tg__optim_check_nonneg(opt->kind->name, "lr", lr))
        return -1;
    for (int g = 0; g < opt->n_groups; g++)
        if (group == -1 || g == group) opt->groups[g].lr = lr;
    return 0;
}

double *tg__optim_momentum(tg_optimizer *opt, int g) {
    tg__optim_hp *hp = &opt->groups[g].hp;
    const char *type = opt->kind->options_type;
    return strcmp(type, "tg_sgd_options") == 0       ? &hp->sgd.momentum
           : strcmp(type, "tg_rmsprop_options") == 0 ? &hp->rmsprop.momentum
           : strcmp(type, "tg_adam_options") == 0    ? &hp->adam.beta1
                                                     : NULL;
}

double tg_optim_momentum(const tg_optimizer *opt, int group) {
    if (!opt) {
        tg__null_arg("optim_momentum");
        return NAN;
    }
    if (!check_group(opt, group, false)) return NAN;
    const double *momentum = tg__optim_momentum((tg_optimizer *)opt, group); /* only read */
    if (!momentum) tg__error(TG_ERR_VALUE, "%s: has no momentum (nor betas)", opt->kind->name);
    return momentum ? *momentum : NAN;
}

static const tg__optim_param *param_of(const tg_optimizer *opt, const tg_tensor *param) {
    if (!opt || !param) {
        tg__null_arg("optim_state");
        return NULL;
    }
    const tg__optim_param *p = find_param(opt, param);
    if (!p) tg__error(TG_ERR_VALUE, "%s: the tensor is not one of its parameters", opt->kind->name);
    return p;
}

tg_tensor *tg_optim_state(const tg_optimizer *opt, const tg_tensor *param, const char *name) {
    if (!name) {
        tg__null_arg("optim_state");
        return NULL;
    }
    const tg__optim_param *p = param_of(opt, param);
    if (!p) return NULL;
    for (int s = 0; s < TG__OPTIM_MAX_STATE; s++) {
        const char *key = opt->kind->state_names[s];
        if (key && strcmp(key, name) == 0) return p->state[s];
    }
    return NULL;
}

int64_t tg_optim_step_count(const tg_optimizer *opt, const tg_tensor *param) {
    const tg__optim_param *p = param_of(opt, param);
    return p ? p->step : -1;
}

/* ---- The update pass ------------------------------------------------------------------ */

typedef struct apply_ctx {
    tg__optim_row_fn kernel;
    const void *coeffs;
    char *state[TG__OPTIM_MAX_STATE];
    /* The first state in use, iterated as a third operand. Every state is
     * contiguous with the same shape, so all rows sit at the same offset
     * from their tensors' starts. */
    char *ref;
} apply_ctx;

static void apply_row(char **ptrs, const int64_t *strides, int64_t n, void *ctx_) {
    const apply_ctx *ctx = ctx_;
    tg__optim_row row = {.param = ptrs[0],
                         .param_stride = strides[0],
                         .grad = ptrs[1],
                         .grad_stride = strides[1],
                         .n = n};
    if (ctx->ref)
        for (int s = 0; s < TG__OPTIM_MAX_STATE; s++)
            row.state[s] = ctx->state[s] ? ctx->state[s] + (ptrs[2] - ctx->ref) : NULL;
    ctx->kernel(&row, ctx->coeffs);
}

void tg__optim_apply(tg__optim_param *p, const tg__optim_row_fn kernels[2], const void *coeffs) {
    tg_tensor *t = p->tensor, *g = tg__grad_values(t);
    apply_ctx ctx = {.kernel = kernels[t->dtype], .coeffs = coeffs};
    const int64_t *strides[3] = {t->strides, g->strides, NULL};
    char *base[3] = {tg__ptr(t), tg__ptr(g), NULL};
    size_t size = tg_dtype_size(t->dtype), sizes[3] = {size, size, size};
    int n_operands = 2;
    for (int s = 0; s < TG__OPTIM_MAX_STATE; s++) {
        if (!p->state[s]) continue;
        ctx.state[s] = tg__ptr(p->state[s]);
        if (!ctx.ref) {
            ctx.ref = base[2] = ctx.state[s];
            strides[2] = p->state[s]->strides;
            n_operands = 3;
        }
    }
    tg__iter it;
    tg__iter_init(&it, t->ndim, t->shape, n_operands, strides);
    tg__iter_run_parallel(&it, base, sizes, apply_row, &ctx);
    t->storage->version++;
}
