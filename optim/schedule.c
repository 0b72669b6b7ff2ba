/* optim/schedule.c - learning-rate schedules: StepLR, CosineAnnealingLR and
 * linear warmup then cosine decay. They drive an optimizer through its
 * public lr interface, group by group. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optim_internal.h"
#include "tapegrad/safetensors.h"

/* Python's math.pi (ISO C has no M_PI). */
static const double PI = 3.141592653589793;

typedef enum schedule { STEP_LR, COSINE_ANNEALING, WARMUP_COSINE } schedule;

struct tg_lr_scheduler {
    tg_optimizer *opt; /* borrowed */
    schedule kind;
    const char *name;
    int64_t epoch;  /* PyTorch's last_epoch */
    int64_t period; /* step_size, T_max, or total steps */
    int64_t warmup; /* warmup steps */
    double value;   /* gamma, eta_min, or the final lr ratio */
    int n_groups;
    double base_lrs[]; /* each group's lr when the scheduler was made */
};

/* The lr of one group at s->epoch, from its lr at the previous epoch. StepLR
 * and CosineAnnealingLR use PyTorch's recursive ("chainable") get_lr, not
 * the closed form, so that the values match it to the last bit. */
static double next_lr(const tg_lr_scheduler *s, double lr, double base) {
    int64_t t = s->epoch, n = s->period;
    switch (s->kind) {
    case STEP_LR: return t == 0 || t % n != 0 ? lr : lr * s->value;
    case COSINE_ANNEALING: {
        double eta_min = s->value;
        if (t == 0) return lr;
        if ((t - 1 - n) % (2 * n) == 0) /* the bottom of a cycle: restart upward */
            return lr + (base - eta_min) * (1 - cos(PI / (double)n)) / 2;
        return (1 + cos(PI * (double)t / (double)n)) / (1 + cos(PI * (double)(t - 1) / (double)n)) *
                   (lr - eta_min) +
               eta_min;
    }
    case WARMUP_COSINE: {
        /* LambdaLR(lambda): base * lambda(t), lambda rising linearly from 0
         * to 1 over warmup steps, then falling as a half cosine to the
         * final ratio at the total step, and staying there. */
        if (t < s->warmup) return base * ((double)t / (double)s->warmup);
        double progress = fmin(1.0, (double)(t - s->warmup) / (double)(n - s->warmup));
        return base * (s->value + (1 - s->value) * 0.5 * (1.0 + cos(PI * progress)));
    }
    }
    return lr;
}

/* Sets every group's lr for the current epoch. */
static int apply(tg_lr_scheduler *s) {
    if (tg_optim_n_groups(s->opt) != s->n_groups) {
        tg__error(TG_ERR_VALUE, "%s: the optimizer has %d parameter groups, it had %d", s->name,
                  tg_optim_n_groups(s->opt), s->n_groups);
        return -1;
    }
    for (int g = 0; g < s->n_groups; g++)
        if (tg_optim_set_lr(s->opt, g, next_lr(s, tg_optim_lr(s->opt, g), s->base_lrs[g])) != 0)
            return -1;
    return 0;
}

/* PyTorch's constructor: base_lrs from the groups, then a first step to
 * epoch 0. */
static tg_lr_scheduler *create(const char *name, tg_optimizer *opt, schedule kind, int64_t period,
                               int64_t warmup, double value) {
    if (!opt) {
        tg__null_arg(name);
        return NULL;
    }
    int n = tg_optim_n_groups(opt);
    tg_lr_scheduler *s = tg__alloc(sizeof *s + sizeof(double) * (size_t)n, name);
    if (!s) return NULL;
    *s = (tg_lr_scheduler){.opt = opt,
                           .kind = kind,
                           .name = name,
                           .period = period,
                           .warmup = warmup,
                           .value = value,
                           .n_groups = n};
    for (int g = 0; g < n; g++) s->base_lrs[g] = tg_optim_lr(opt, g);
    if (apply(s) != 0) {
        tg__free(s);
        return NULL;
    }
    return s;
}

tg_lr_scheduler *tg_step_lr(tg_optimizer *opt, int step_size, double gamma) {
    if (step_size <= 0) {
        tg__error(TG_ERR_VALUE, "StepLR: invalid step_size %d (must be > 0)", step_size);
        return NULL;
    }
    if (!tg__optim_check_nonneg("StepLR", "gamma", gamma)) return NULL;
    return create("StepLR", opt, STEP_LR, step_size, 0, gamma);
}

tg_lr_scheduler *tg_cosine_annealing_lr(tg_optimizer *opt, int t_max, double eta_min) {
    if (t_max <= 0) {
        tg__error(TG_ERR_VALUE, "CosineAnnealingLR: invalid T_max %d (must be > 0)", t_max);
        return NULL;
    }
    if (!tg__optim_check_nonneg("CosineAnnealingLR", "eta_min", eta_min)) return NULL;
    return create("CosineAnnealingLR", opt, COSINE_ANNEALING, t_max, 0, eta_min);
}

tg_lr_scheduler *tg_warmup_cosine_lr(tg_optimizer *opt, int warmup_steps, int total_steps,
                                     double final_ratio) {
    if (warmup_steps < 0 || total_steps <= warmup_steps) {
        tg__error(TG_ERR_VALUE,
                  "WarmupCosine: invalid steps (warmup %d, total %d): need 0 <= warmup < total",
                  warmup_steps, total_steps);
        return NULL;
    }
    if (!(final_ratio >= 0 && final_ratio <= 1)) {
        tg__error(TG_ERR_VALUE, "WarmupCosine: invalid final_ratio %g (must be in [0, 1])",
                  final_ratio);
        return NULL;
    }
    return create("WarmupCosine", opt, WARMUP_COSINE, total_steps, warmup_steps, final_ratio);
}

int tg_lr_scheduler_step(tg_lr_scheduler *s) {
    if (!s) {
        tg__null_arg("lr_scheduler_step");
        return -1;
    }
    s->epoch++;
    if (apply(s) == 0) return 0;
    s->epoch--;
    return -1;
}

int64_t tg_lr_scheduler_epoch(const tg_lr_scheduler *s) { return s ? s->epoch : -1; }

/* ---- Saving and resuming ----------------------------------------------------------------
 * Three tensors (tapegrad/optim.h): the marker "scheduler.<name>" holding
 * the number of groups, "last_epoch", and "base_lrs" (G,). */

#define MARKER "scheduler."

/* The three named tensors, new in the caller's pool: s's values to save,
 * or, staged, tensors of their shapes for tg_load_safetensors to fill. */
static bool named(const tg_lr_scheduler *s, bool staged, char *marker, size_t marker_len,
                  tg_named_tensor *items) {
    snprintf(marker, marker_len, MARKER "%s", s->name);
    int64_t g = s->n_groups;
    items[0] = (tg_named_tensor){marker, tg_scalar(s->n_groups, TG_F64)};
    items[1] = (tg_named_tensor){"last_epoch", tg_scalar((double)s->epoch, TG_F64)};
    items[2] = (tg_named_tensor){"base_lrs", staged ? tg_empty(1, &g, TG_F64)
                                                    : tg_from_data(s->base_lrs, 1, &g, TG_F64)};
    return items[0].tensor && items[1].tensor && items[2].tensor;
}

int tg_lr_scheduler_save(const tg_lr_scheduler *s, const char *path) {
    if (!s || !path) {
        tg__null_arg("lr_scheduler_save");
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    char marker[64];
    tg_named_tensor items[3];
    int rc = pool && named(s, false, marker, sizeof marker, items)
                 ? tg_save_safetensors(path, 3, items)
                 : -1;
    tg_pool_pop(pool);
    return rc;
}

/* The values the strict load could not check (the marker's was checked
 * first). */
static bool check_values(const tg_lr_scheduler *s, const char *path, const tg_named_tensor *items) {
    double epoch = tg_item(items[1].tensor);
    if (!tg__optim_is_count(epoch)) {
        tg__error(TG_ERR_VALUE, "lr_scheduler_load: %s: 'last_epoch' is %g, not an epoch", path,
                  epoch);
        return false;
    }
    const double *base = tg__ptr(items[2].tensor);
    for (int g = 0; g < s->n_groups; g++)
        if (!(base[g] >= 0 && isfinite(base[g]))) {
            tg__error(TG_ERR_VALUE,
                      "lr_scheduler_load: %s: base_lrs[%d] is %g, not a learning "
                      "rate",
                      path, g, base[g]);
            return false;
        }
    return true;
}

int tg_lr_scheduler_load(tg_lr_scheduler *s, const char *path) {
    if (!s || !path) {
        tg__null_arg("lr_scheduler_load");
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    char marker[64];
    tg_named_tensor items[3];
    bool ok = pool &&
              tg__check_state_marker("lr_scheduler_load", path, "scheduler", s->name, s->n_groups,
                                     "parameter groups") &&
              named(s, true, marker, sizeof marker, items) &&
              tg_load_safetensors(path, 3, items) == 0 && check_values(s, path, items);
    if (ok) {
        s->epoch = (int64_t)tg_item(items[1].tensor);
        memcpy(s->base_lrs, tg__ptr(items[2].tensor), sizeof(double) * (size_t)s->n_groups);
    }
    tg_pool_pop(pool);
    return ok ? 0 : -1;
}

void tg_lr_scheduler_free(tg_lr_scheduler *s) { tg__free(s); }
