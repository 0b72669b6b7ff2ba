/* optim/state.c - an optimizer's state in a safetensors file, laid out as
 * PyTorch's optimizer.state_dict() (tapegrad/optim.h lists the names), so
 * that training resumes bit for bit. The file format is nn/safetensors.c's;
 * this file only names the tensors and checks that a file fits the
 * optimizer before anything of it is written. */
#include <stdio.h>
#include <string.h>

#include "optim_internal.h"
#include "tapegrad/safetensors.h"

#define MARKER "optimizer."

/* Room for the longest name, "param_groups.<int>.params" or
 * "state.<int>.max_exp_avg_sq". */
#define NAME_LEN 48

/* The named tensors of a state file, in the order layout_build adds them:
 * the marker, then each group's lr and params, then each parameter's step
 * and states. Walking them in that order is how restore finds each one. */
typedef struct layout {
    int n;
    tg_named_tensor *items;
    char (*names)[NAME_LEN];
} layout;

static bool add(layout *l, tg_tensor *t, const char *fmt, ...) TG_PRINTF(3, 4);
static bool add(layout *l, tg_tensor *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->names[l->n], NAME_LEN, fmt, ap);
    va_end(ap);
    l->items[l->n] = (tg_named_tensor){l->names[l->n], t};
    l->n++;
    return t != NULL;
}

/* The indices of group g's parameters, PyTorch's param_groups[g]["params"]. */
static tg_tensor *group_members(const tg_optimizer *opt, int g) {
    int64_t n = 0;
    for (int i = 0; i < opt->n_params; i++) n += opt->params[i].group == g;
    tg_tensor *t = tg_empty(1, &n, TG_F64);
    double *out = t ? tg__ptr(t) : NULL;
    for (int i = 0; out && i < opt->n_params; i++)
        if (opt->params[i].group == g) *out++ = i;
    return t;
}

/* opt's state as named tensors, new ones in the caller's pool. Saving names
 * the state tensors themselves; loading (staged) names fresh tensors of the
 * same shapes and dtypes for tg_load_safetensors to fill, so that nothing
 * of opt is written until the whole file has been checked. */
static bool layout_build(layout *l, const tg_optimizer *opt, bool staged, const char *op) {
    size_t most = 1 + 2 * (size_t)opt->n_groups + (1 + TG__OPTIM_MAX_STATE) * (size_t)opt->n_params;
    l->items = tg__alloc(most * sizeof *l->items, op);
    l->names = l->items ? tg__alloc(most * sizeof *l->names, op) : NULL;
    if (!l->names) return false;
    bool ok = add(l, tg_scalar(opt->n_params, TG_F64), MARKER "%s", opt->kind->name);
    for (int g = 0; ok && g < opt->n_groups; g++)
        ok = add(l, tg_scalar(opt->groups[g].lr, TG_F64), "param_groups.%d.lr", g) &&
             add(l, group_members(opt, g), "param_groups.%d.params", g);
    for (int i = 0; ok && i < opt->n_params; i++) {
        const tg__optim_param *p = &opt->params[i];
        ok = add(l, tg_scalar((double)p->step, TG_F64), "state.%d.step", i);
        for (int s = 0; ok && s < TG__OPTIM_MAX_STATE; s++) {
            tg_tensor *t = p->state[s];
            if (t)
                ok = add(l, staged ? tg_empty(t->ndim, t->shape, t->dtype) : t, "state.%d.%s", i,
                         opt->kind->state_names[s]);
        }
    }
    return ok;
}

static void layout_free(layout *l) {
    tg__free(l->items);
    tg__free(l->names);
}

int tg_optim_save(const tg_optimizer *opt, const char *path) {
    if (!opt || !path) {
        tg__null_arg("optim_save");
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    layout l = {0};
    int rc = pool && layout_build(&l, opt, false, "optim_save")
                 ? tg_save_safetensors(path, l.n, l.items)
                 : -1;
    tg_pool_pop(pool);
    layout_free(&l);
    return rc;
}

/* ---- Loading ------------------------------------------------------------------------ */

/* The marker of a state file: the one tensor named "<owner>.<kind>", which
 * holds a count of what the state is for. It must name kind and hold
 * count. Checked on their own, before the strict load, so that the usual
 * mistakes (another optimizer's or scheduler's file, a model's, another
 * model's state) are named as such rather than by the first tensor name
 * that does not match. */
bool tg__check_state_marker(const char *op, const char *path, const char *owner, const char *kind,
                            int count, const char *counted) {
    tg_safetensors *f = tg_safetensors_open(path);
    if (!f) return false;
    size_t len = strlen(owner);
    const char *marker = NULL;
    for (int i = 0; !marker && i < tg_safetensors_count(f); i++) {
        const char *name = tg_safetensors_name(f, i);
        if (strncmp(name, owner, len) == 0 && name[len] == '.') marker = name;
    }
    bool ok = false;
    tg_tensor *held = NULL;
    if (!marker)
        tg__error(TG_ERR_VALUE, "%s: %s holds no %s state (no '%s.<name>' tensor)", op, path, owner,
                  owner);
    else if (strcmp(marker + len + 1, kind) != 0)
        tg__error(TG_ERR_VALUE, "%s: %s holds %s state, not %s", op, path, marker + len + 1, kind);
    else if ((held = tg_safetensors_get(f, marker)) != NULL) {
        double n = tg_numel(held) == 1 ? tg_item(held) : NAN;
        ok = n == count;
        if (!ok)
            tg__error(TG_ERR_VALUE, "%s: %s holds state for %g %s, the %s has %d", op, path, n,
                      counted, owner, count);
    }
    tg_safetensors_close(f);
    return ok;
}

static bool bad_value(const char *path, const tg_named_tensor *item, const char *expected) {
    tg__error(TG_ERR_VALUE, "optim_load: %s: '%s' is %g, not %s", path, item->name,
              tg_item(item->tensor), expected);
    return false;
}

static bool same_members(const tg_optimizer *opt, int g, tg_tensor *staged) {
    const double *index = tg__ptr(staged); /* its length is the group's: the load checked it */
    int64_t k = 0;
    for (int i = 0; i < opt->n_params; i++) {
        if (opt->params[i].group != g) continue;
        double v = index[k++];
        if (v != i || signbit(v)) return false; /* -0.0 would save as +0.0 */
    }
    return true;
}

/* restore's two steps. Each checks the values the strict load could not
 * (write false), or stores them (write true), advancing *it. */
static bool restore_groups(tg_optimizer *opt, const char *path, const tg_named_tensor **it,
                           bool write) {
    for (int g = 0; g < opt->n_groups; g++, *it += 2) {
        const tg_named_tensor *lr = &(*it)[0], *members = &(*it)[1];
        if (!(tg_item(lr->tensor) >= 0)) return bad_value(path, lr, "a learning rate >= 0");
        if (!same_members(opt, g, members->tensor)) {
            tg__error(TG_ERR_VALUE,
                      "optim_load: %s: '%s' lists other parameters than group %d "
                      "has",
                      path, members->name, g);
            return false;
        }
        if (write) opt->groups[g].lr = tg_item(lr->tensor);
    }
    return true;
}

static bool restore_params(tg_optimizer *opt, const char *path, const tg_named_tensor **it,
                           bool write) {
    for (int i = 0; i < opt->n_params; i++) {
        tg__optim_param *p = &opt->params[i];
        double step = tg_item((*it)->tensor);
        if (!tg__optim_is_count(step)) return bad_value(path, *it, "a step count");
        ++*it;
        if (write) p->step = (int64_t)step;
        for (int s = 0; s < TG__OPTIM_MAX_STATE; s++) {
            if (!p->state[s]) continue;
            if (write) tg__copy_into(p->state[s], (*it)->tensor);
            ++*it;
        }
    }
    return true;
}

/* Checks the staged values (write false), or copies them into opt (write
 * true), which cannot fail: it allocates nothing and repeats checks that
 * passed. The staged marker is skipped: tg__check_state_marker read it,
 * and were the file replaced since, the strict load still matched every
 * name, shape and dtype to opt. */
static bool restore(tg_optimizer *opt, const char *path, const layout *l, bool write) {
    const tg_named_tensor *it = l->items + 1;
    return restore_groups(opt, path, &it, write) && restore_params(opt, path, &it, write);
}

int tg_optim_load(tg_optimizer *opt, const char *path) {
    if (!opt || !path) {
        tg__null_arg("optim_load");
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    layout l = {0};
    /* The file is read twice, for the marker and by the strict load, which
     * reuses tg_load_safetensors' checks; state files are small. */
    bool ok = pool &&
              tg__check_state_marker("optim_load", path, "optimizer", opt->kind->name,
                                     opt->n_params, "parameters") &&
              layout_build(&l, opt, true, "optim_load") &&
              tg_load_safetensors(path, l.n, l.items) == 0 && restore(opt, path, &l, false);
    if (ok) restore(opt, path, &l, true);
    tg_pool_pop(pool);
    layout_free(&l);
    return ok ? 0 : -1;
}
