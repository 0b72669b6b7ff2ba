/* optim/schedule.c - learning-rate schedules, as torch.optim.lr_scheduler in
 * PyTorch 1.13: every schedule is a kind (a table of its formulas) run by
 * one stepping skeleton (advance, apply) and saved and loaded by one walk
 * over its state (walk). Each formula is PyTorch's, written in the order
 * Python evaluates it, so that the lrs are PyTorch's to the last bit. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optim_internal.h"
#include "tapegrad/safetensors.h"

/* Python's math.pi (ISO C has no M_PI). */
static const double PI = 3.141592653589793;

typedef struct sched_kind sched_kind;

/* A kind's arguments, and the state beyond its epoch. */
typedef union sched_args {
    struct {
        int64_t size;
        double gamma;
    } step; /* StepLR (size), MultiStepLR, ExponentialLR */
    struct {
        double start, end;
        int64_t total_iters;
    } linear; /* LinearLR, ConstantLR (start is the factor) */
    struct {
        int64_t period, mult; /* T_max, or T_0 and T_mult */
        double eta_min;
    } cosine; /* CosineAnnealingLR, CosineAnnealingWarmRestarts */
    struct {
        int64_t warmup, total;
        double ratio;
    } warmup;
    struct {
        tg_lr_lambda fn;
        void *ctx;
    } lambda;
    struct {
        tg_one_cycle_options o;
        int n_phases;
        double end_steps[3];
    } one_cycle;
    struct {
        tg_reduce_lr_on_plateau_options o;
        double best;
        int64_t num_bad_epochs, cooldown_counter;
    } plateau;
} sched_args;

struct tg_lr_scheduler {
    const sched_kind *kind;
    tg_optimizer *opt;      /* borrowed */
    tg_lr_scheduler *owner; /* the SequentialLR or ChainedScheduler it belongs to */
    int64_t epoch;          /* PyTorch's last_epoch */
    int64_t saved_epoch;    /* before the step under way, to undo it */
    int n_groups;
    double *base_lrs;  /* each group's initial lr; NULL for the kinds without */
    double *saved;     /* the groups' lrs, momenta and initial lrs, to undo a step */
    double *per_group; /* OneCycleLR's max lrs, ReduceLROnPlateau's min lrs */
    int *milestones;   /* MultiStepLR's, SequentialLR's */
    int n_milestones;
    tg_lr_scheduler **children; /* SequentialLR's, ChainedScheduler's */
    int n_children;
    sched_args u;
};

struct sched_kind {
    const char *name; /* PyTorch's class name; "WarmupCosine" is tapegrad's */
    /* PyTorch's get_lr: group g's lr at s->epoch, from its lr at the epoch
     * before; NULL for the kinds that step otherwise. */
    double (*lr)(const tg_lr_scheduler *s, int g, double lr);
    /* PyTorch's _get_closed_form_lr, where it has one: group g's lr at
     * s->epoch from its base lr. SequentialLR restarts a scheduler with
     * it (step(0)); the kinds without one restart with lr. */
    double (*closed_form)(const tg_lr_scheduler *s, int g);
    /* SequentialLR and ChainedScheduler: the step, of their schedulers. */
    int (*step)(tg_lr_scheduler *s);
    bool has_base_lrs;
    bool has_per_group; /* OneCycleLR's max lrs, ReduceLROnPlateau's min lrs */
};

/* ---- Formulas --------------------------------------------------------------------------
 * Python's order of evaluation, with an int times a float a double
 * product, and x ** k for an int k C's pow(x, k), as CPython computes it. */

static double step_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)g;
    return s->epoch == 0 || s->epoch % s->u.step.size != 0 ? lr : lr * s->u.step.gamma;
}

static double step_closed(const tg_lr_scheduler *s, int g) {
    return s->base_lrs[g] * pow(s->u.step.gamma, (double)(s->epoch / s->u.step.size));
}

/* How many milestones are exactly t (PyTorch keeps a Counter), or at most t
 * (bisect_right on the sorted ones). */
static int milestones_at(const tg_lr_scheduler *s, int64_t t, bool up_to) {
    int k = 0;
    for (int i = 0; i < s->n_milestones; i++)
        k += up_to ? s->milestones[i] <= t : s->milestones[i] == t;
    return k;
}

static double multi_step_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)g;
    int k = milestones_at(s, s->epoch, false);
    return k == 0 ? lr : lr * pow(s->u.step.gamma, k);
}

static double multi_step_closed(const tg_lr_scheduler *s, int g) {
    return s->base_lrs[g] * pow(s->u.step.gamma, milestones_at(s, s->epoch, true));
}

static double exponential_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)g;
    return s->epoch == 0 ? lr : lr * s->u.step.gamma;
}

static double exponential_closed(const tg_lr_scheduler *s, int g) {
    return s->base_lrs[g] * pow(s->u.step.gamma, (double)s->epoch);
}

static double constant_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)g;
    double factor = s->u.linear.start;
    if (s->epoch == 0) return lr * factor;
    return s->epoch == s->u.linear.total_iters ? lr * (1.0 / factor) : lr;
}

static double constant_closed(const tg_lr_scheduler *s, int g) {
    double factor = s->u.linear.start;
    return s->base_lrs[g] * (factor + (s->epoch >= s->u.linear.total_iters ? 1 - factor : 0.0));
}

static double linear_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)g;
    double start = s->u.linear.start, end = s->u.linear.end;
    int64_t t = s->epoch, total = s->u.linear.total_iters;
    if (t == 0) return lr * start;
    if (t > total) return lr;
    return lr * (1. + (end - start) / ((double)total * start + (double)(t - 1) * (end - start)));
}

static double linear_closed(const tg_lr_scheduler *s, int g) {
    double start = s->u.linear.start, end = s->u.linear.end;
    int64_t total = s->u.linear.total_iters, t = s->epoch < total ? s->epoch : total;
    return s->base_lrs[g] * (start + (end - start) * (double)t / (double)total);
}

static double cosine_lr(const tg_lr_scheduler *s, int g, double lr) {
    int64_t t = s->epoch, n = s->u.cosine.period;
    double eta_min = s->u.cosine.eta_min;
    if (t == 0) return lr;
    if ((t - 1 - n) % (2 * n) == 0) /* the bottom of a cycle: restart upward */
        return lr + (s->base_lrs[g] - eta_min) * (1 - cos(PI / (double)n)) / 2;
    return (1 + cos(PI * (double)t / (double)n)) / (1 + cos(PI * (double)(t - 1) / (double)n)) *
               (lr - eta_min) +
           eta_min;
}

static double cosine_closed(const tg_lr_scheduler *s, int g) {
    double eta_min = s->u.cosine.eta_min;
    return eta_min + (s->base_lrs[g] - eta_min) *
                         (1 + cos(PI * (double)s->epoch / (double)s->u.cosine.period)) / 2;
}

/* CosineAnnealingWarmRestarts: T_cur and T_i follow from the epoch, as
 * PyTorch's step() advances them one epoch at a time (T_i saturates where
 * it would overflow: it is then beyond any epoch). */
static double warm_restarts_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)lr;
    int64_t t_i = s->u.cosine.period, mult = s->u.cosine.mult, t_cur = s->epoch;
    if (mult == 1)
        t_cur %= t_i;
    else
        while (t_cur >= t_i) {
            t_cur -= t_i;
            t_i = t_i > INT64_MAX / mult ? INT64_MAX : t_i * mult;
        }
    double eta_min = s->u.cosine.eta_min;
    return eta_min + (s->base_lrs[g] - eta_min) * (1 + cos(PI * (double)t_cur / (double)t_i)) / 2;
}

/* The LambdaLR of transformers' get_cosine_schedule_with_warmup, with a
 * floor. */
static double warmup_cosine_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)lr;
    int64_t t = s->epoch, warmup = s->u.warmup.warmup;
    double base = s->base_lrs[g], ratio = s->u.warmup.ratio;
    if (t < warmup) return base * ((double)t / (double)warmup);
    double progress = fmin(1.0, (double)(t - warmup) / (double)(s->u.warmup.total - warmup));
    return base * (ratio + (1 - ratio) * 0.5 * (1.0 + cos(PI * progress)));
}

static double lambda_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)lr;
    return s->base_lrs[g] * s->u.lambda.fn(s->epoch, g, s->u.lambda.ctx);
}

/* OneCycleLR: the phase of s->epoch, where it is in it (pct), and the
 * anneal from start to end. Its lr and momentum run through the phases'
 * values: the initial lr (the base lr), the max lr and the min lr; the
 * max and the base momentum. */
enum { INITIAL, PEAK, FLOOR };
static const int phase_lrs[2][3][2] = {{{INITIAL, PEAK}, {PEAK, FLOOR}},
                                       {{INITIAL, PEAK}, {PEAK, INITIAL}, {INITIAL, FLOOR}}};
static const bool phase_momentum_at_max[2][3][2] = {{{true, false}, {false, true}},
                                                    {{true, false}, {false, true}, {true, true}}};

static int one_cycle_phase(const tg_lr_scheduler *s, double *pct) {
    double start = 0, t = (double)s->epoch;
    int last = s->u.one_cycle.n_phases - 1, i = 0;
    while (i < last && !(t <= s->u.one_cycle.end_steps[i])) start = s->u.one_cycle.end_steps[i++];
    *pct = (t - start) / (s->u.one_cycle.end_steps[i] - start);
    return i;
}

static double anneal(const tg_lr_scheduler *s, double start, double end, double pct) {
    if (s->u.one_cycle.o.anneal_strategy == TG_ANNEAL_LINEAR) return (end - start) * pct + start;
    double cos_out = cos(PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

static double one_cycle_lr(const tg_lr_scheduler *s, int g, double lr) {
    (void)lr;
    const tg_one_cycle_options *o = &s->u.one_cycle.o;
    double initial = s->base_lrs[g], peak = s->per_group[g];
    double values[3] = {initial, peak, initial / o->final_div_factor}, pct;
    const int *ends = phase_lrs[o->three_phase][one_cycle_phase(s, &pct)];
    return anneal(s, values[ends[0]], values[ends[1]], pct);
}

static double one_cycle_momentum(const tg_lr_scheduler *s) {
    const tg_one_cycle_options *o = &s->u.one_cycle.o;
    double pct;
    const bool *at_max = phase_momentum_at_max[o->three_phase][one_cycle_phase(s, &pct)];
    return anneal(s, at_max[0] ? o->max_momentum : o->base_momentum,
                  at_max[1] ? o->max_momentum : o->base_momentum, pct);
}

static int sequential_step(tg_lr_scheduler *s);
static int chained_step(tg_lr_scheduler *s);

/* A kind that sets the lrs by its formulas, from base lrs. */
#define LR_KIND(lr_fn, closed_fn) .lr = lr_fn, .closed_form = closed_fn, .has_base_lrs = true
static const sched_kind step_kind = {"StepLR", LR_KIND(step_lr, step_closed)};
static const sched_kind multi_step_kind = {"MultiStepLR",
                                           LR_KIND(multi_step_lr, multi_step_closed)};
static const sched_kind exponential_kind = {"ExponentialLR",
                                            LR_KIND(exponential_lr, exponential_closed)};
static const sched_kind constant_kind = {"ConstantLR", LR_KIND(constant_lr, constant_closed)};
static const sched_kind linear_kind = {"LinearLR", LR_KIND(linear_lr, linear_closed)};
static const sched_kind cosine_kind = {"CosineAnnealingLR", LR_KIND(cosine_lr, cosine_closed)};
static const sched_kind warm_restarts_kind = {"CosineAnnealingWarmRestarts",
                                              LR_KIND(warm_restarts_lr, NULL)};
static const sched_kind warmup_cosine_kind = {"WarmupCosine", LR_KIND(warmup_cosine_lr, NULL)};
static const sched_kind lambda_kind = {"LambdaLR", LR_KIND(lambda_lr, NULL)};
static const sched_kind one_cycle_kind = {"OneCycleLR", LR_KIND(one_cycle_lr, NULL),
                                          .has_per_group = true};
static const sched_kind plateau_kind = {"ReduceLROnPlateau", .has_per_group = true};
static const sched_kind sequential_kind = {"SequentialLR", .step = sequential_step};
static const sched_kind chained_kind = {"ChainedScheduler", .step = chained_step};
#undef LR_KIND

/* ---- The stepping skeleton ---------------------------------------------------------- */

static bool cycles_momentum(const tg_lr_scheduler *s) {
    return s->kind == &one_cycle_kind && s->u.one_cycle.o.cycle_momentum;
}

/* Sets every group's lr for s->epoch, by get_lr or, restarting, by the
 * closed form; a OneCycleLR cycling momentum sets that too. */
static int apply(tg_lr_scheduler *s, bool restart) {
    if (s->kind == &one_cycle_kind && s->epoch > s->u.one_cycle.o.total_steps) {
        tg__error(TG_ERR_VALUE,
                  "OneCycleLR: Tried to step %lld times. The specified number of total steps is %d",
                  (long long)s->epoch + 1, s->u.one_cycle.o.total_steps);
        return -1;
    }
    for (int g = 0; g < s->n_groups; g++) {
        tg__optim_group *group = &s->opt->groups[g];
        double lr = restart && s->kind->closed_form ? s->kind->closed_form(s, g)
                                                    : s->kind->lr(s, g, group->lr);
        if (!(lr >= 0)) {
            tg__error(TG_ERR_VALUE, "%s: the lr of group %d at epoch %lld would be %g",
                      s->kind->name, g, (long long)s->epoch, lr);
            return -1;
        }
        group->lr = lr;
        if (cycles_momentum(s)) *tg__optim_momentum(s->opt, g) = one_cycle_momentum(s);
    }
    return 0;
}

/* One epoch on (PyTorch's step()). */
static int advance(tg_lr_scheduler *s) {
    s->epoch++;
    return s->kind->step ? s->kind->step(s) : apply(s, false);
}

/* SequentialLR.step(): the scheduler of this epoch, restarted (step(0))
 * on its milestone. */
static int sequential_step(tg_lr_scheduler *s) {
    int i = 0;
    while (i < s->n_milestones && s->milestones[i] <= s->epoch) i++;
    tg_lr_scheduler *child = s->children[i];
    if (i == 0 || s->milestones[i - 1] != s->epoch) return advance(child);
    child->epoch = 0;
    return apply(child, true);
}

static int chained_step(tg_lr_scheduler *s) {
    for (int i = 0; i < s->n_children; i++)
        if (advance(s->children[i]) != 0) return -1;
    return 0;
}

/* What a step or a construction may change, kept to undo it: the groups'
 * lrs, momenta and initial lrs, and the epochs of s and its schedulers. */
static void snapshot(tg_lr_scheduler *s) {
    for (int g = 0; g < s->n_groups; g++) {
        tg__optim_group *group = &s->opt->groups[g];
        double *momentum = tg__optim_momentum(s->opt, g);
        s->saved[3 * g] = group->lr;
        s->saved[3 * g + 1] = momentum ? *momentum : 0;
        s->saved[3 * g + 2] = group->initial_lr;
    }
    s->saved_epoch = s->epoch;
    for (int i = 0; i < s->n_children; i++) s->children[i]->saved_epoch = s->children[i]->epoch;
}

static void undo(tg_lr_scheduler *s) {
    for (int g = 0; g < s->n_groups; g++) {
        tg__optim_group *group = &s->opt->groups[g];
        double *momentum = tg__optim_momentum(s->opt, g);
        group->lr = s->saved[3 * g];
        if (momentum) *momentum = s->saved[3 * g + 1];
        group->initial_lr = s->saved[3 * g + 2];
    }
    s->epoch = s->saved_epoch;
    for (int i = 0; i < s->n_children; i++) s->children[i]->epoch = s->children[i]->saved_epoch;
}

/* The checks every step and load make first. */
static bool may_change(const tg_lr_scheduler *s, const char *op) {
    if (s->owner) {
        tg__error(TG_ERR_VALUE, "%s: this %s belongs to a %s, which %ss it", op, s->kind->name,
                  s->owner->kind->name, strcmp(op, "lr_scheduler_load") == 0 ? "load" : "step");
        return false;
    }
    if (tg_optim_n_groups(s->opt) != s->n_groups) {
        tg__error(TG_ERR_VALUE, "%s: the optimizer has %d parameter groups, it had %d",
                  s->kind->name, tg_optim_n_groups(s->opt), s->n_groups);
        return false;
    }
    return true;
}

int tg_lr_scheduler_step(tg_lr_scheduler *s) {
    if (!s) {
        tg__null_arg("lr_scheduler_step");
        return -1;
    }
    if (s->kind == &plateau_kind) {
        tg__error(TG_ERR_VALUE,
                  "ReduceLROnPlateau: step() missing 1 required positional argument: 'metrics' "
                  "(step it with tg_lr_scheduler_step_metric)");
        return -1;
    }
    if (!may_change(s, "lr_scheduler_step")) return -1;
    snapshot(s);
    if (advance(s) == 0) return 0;
    undo(s);
    return -1;
}

/* ReduceLROnPlateau.is_better(a, best). */
static bool improves(const tg_lr_scheduler *s, double a) {
    const tg_reduce_lr_on_plateau_options *o = &s->u.plateau.o;
    double best = s->u.plateau.best;
    if (o->mode == TG_PLATEAU_MIN)
        return o->threshold_mode == TG_THRESHOLD_REL ? a < best * (1. - o->threshold)
                                                     : a < best - o->threshold;
    return o->threshold_mode == TG_THRESHOLD_REL ? a > best * (o->threshold + 1.)
                                                 : a > best + o->threshold;
}

int tg_lr_scheduler_step_metric(tg_lr_scheduler *s, double metric) {
    if (!s) {
        tg__null_arg("lr_scheduler_step_metric");
        return -1;
    }
    if (s->kind != &plateau_kind) {
        tg__error(TG_ERR_VALUE, "%s: takes no metric (step it with tg_lr_scheduler_step)",
                  s->kind->name);
        return -1;
    }
    if (!may_change(s, "lr_scheduler_step_metric")) return -1;
    const tg_reduce_lr_on_plateau_options *o = &s->u.plateau.o;
    s->epoch++;
    if (improves(s, metric)) {
        s->u.plateau.best = metric;
        s->u.plateau.num_bad_epochs = 0;
    } else {
        s->u.plateau.num_bad_epochs++;
    }
    if (s->u.plateau.cooldown_counter > 0) {
        s->u.plateau.cooldown_counter--;
        s->u.plateau.num_bad_epochs = 0; /* bad epochs in cooldown do not count */
    }
    if (s->u.plateau.num_bad_epochs > o->patience) {
        for (int g = 0; g < s->n_groups; g++) {
            double old = s->opt->groups[g].lr, lr = old * o->factor, min_lr = s->per_group[g];
            lr = min_lr > lr ? min_lr : lr; /* Python's max(lr, min_lr) */
            if (old - lr > o->eps) s->opt->groups[g].lr = lr;
        }
        s->u.plateau.cooldown_counter = o->cooldown;
        s->u.plateau.num_bad_epochs = 0;
    }
    return 0;
}

int64_t tg_lr_scheduler_epoch(const tg_lr_scheduler *s) { return s ? s->epoch : -1; }

/* ---- Making and freeing ------------------------------------------------------------- */

static void release(tg_lr_scheduler *s) {
    for (int i = 0; i < s->n_children; i++) release(s->children[i]);
    tg__free(s->children);
    tg__free(s->base_lrs);
    tg__free(s->saved);
    tg__free(s->per_group);
    tg__free(s->milestones);
    tg__free(s);
}

void tg_lr_scheduler_free(tg_lr_scheduler *s) {
    if (s && !s->owner) release(s);
}

/* A scheduler of kind on opt with these arguments, its per-group values
 * (copied from per_group, or each all when per_group is NULL) and its
 * milestones (copied), not yet started: opt is untouched. NULL with an
 * error. */
static tg_lr_scheduler *new_scheduler(const sched_kind *kind, tg_optimizer *opt, sched_args args,
                                      const double *per_group, double all, int n_milestones,
                                      const int *milestones) {
    if (!opt) {
        tg__null_arg(kind->name);
        return NULL;
    }
    const char *what = kind->name;
    size_t groups = (size_t)tg_optim_n_groups(opt);
    tg_lr_scheduler *s = tg__calloc(sizeof *s, what);
    if (!s) return NULL;
    *s = (tg_lr_scheduler){.kind = kind, .opt = opt, .n_groups = (int)groups, .u = args};
    bool ok = (s->saved = tg__alloc(3 * groups * sizeof(double), what)) != NULL;
    if (ok && kind->has_base_lrs)
        ok = (s->base_lrs = tg__alloc(groups * sizeof(double), what)) != NULL;
    if (ok && kind->has_per_group) {
        ok = (s->per_group = tg__alloc(groups * sizeof(double), what)) != NULL;
        for (size_t g = 0; ok && g < groups; g++) s->per_group[g] = per_group ? per_group[g] : all;
    }
    if (ok && n_milestones > 0) {
        ok = (s->milestones = tg__alloc((size_t)n_milestones * sizeof(int), what)) != NULL;
        if (ok) memcpy(s->milestones, milestones, (size_t)n_milestones * sizeof(int));
        s->n_milestones = n_milestones;
    }
    if (!ok) {
        release(s);
        return NULL;
    }
    return s;
}

/* PyTorch's _LRScheduler.__init__ after its subclass's: each group's
 * initial lr (recorded now if no scheduler has: setdefault) as the base
 * lr, then a first step, to epoch 0. On failure, opt is as s's snapshot
 * found it and s is freed. */
static tg_lr_scheduler *start(tg_lr_scheduler *s) {
    for (int g = 0; g < s->n_groups; g++) {
        tg__optim_group *group = &s->opt->groups[g];
        if (isnan(group->initial_lr)) group->initial_lr = group->lr;
        s->base_lrs[g] = group->initial_lr;
    }
    s->epoch = -1;
    if (advance(s) == 0) return s;
    undo(s);
    release(s);
    return NULL;
}

static tg_lr_scheduler *make(const sched_kind *kind, tg_optimizer *opt, sched_args args,
                             int n_milestones, const int *milestones) {
    tg_lr_scheduler *s = new_scheduler(kind, opt, args, NULL, 0, n_milestones, milestones);
    if (!s) return NULL;
    snapshot(s);
    return start(s);
}

/* ---- Argument checks: PyTorch's message where it has one ---------------------------- */

/* A count that must be > 0, or >= 0 (zero_ok). */
static bool check_count(const char *name, const char *what, int64_t value, bool zero_ok) {
    if (value > 0 || (zero_ok && value == 0)) return true;
    tg__error(TG_ERR_VALUE, "%s: invalid %s %lld (must be %s 0)", name, what, (long long)value,
              zero_ok ? ">=" : ">");
    return false;
}

/* A multiplicative decay: 0 would end the schedule at lr 0, a negative one
 * flip the lr's sign (PyTorch takes both). */
static bool check_gamma(const char *name, double gamma) {
    if (gamma > 0 && isfinite(gamma)) return true;
    tg__error(TG_ERR_VALUE, "%s: invalid gamma %g (must be > 0 and finite)", name, gamma);
    return false;
}

static bool check_milestones(const char *name, int n, const int *milestones) {
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "%s: %d milestones", name, n);
        return false;
    }
    if (n > 0 && !milestones) {
        tg__error(TG_ERR_NULL, "%s: milestones is NULL", name);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (milestones[i] < 0) {
            tg__error(TG_ERR_VALUE, "%s: milestones[%d] is %d (must be >= 0)", name, i,
                      milestones[i]);
            return false;
        }
        if (i > 0 && milestones[i] < milestones[i - 1]) {
            tg__error(TG_ERR_VALUE, "%s: milestones are not sorted: milestones[%d] = %d after %d",
                      name, i, milestones[i], milestones[i - 1]);
            return false;
        }
    }
    return true;
}

/* A factor PyTorch takes in [0, 1] (its message, what) that it later
 * divides by (divides true): then 0 is refused too. */
static bool check_factor(const char *name, const char *what, double factor, bool divides) {
    if (!(factor >= 0 && factor <= 1)) {
        tg__error(TG_ERR_VALUE, "%s: %s multiplicative factor expected to be between 0 and 1.",
                  name, what);
        return false;
    }
    if (divides && factor == 0) {
        tg__error(TG_ERR_VALUE,
                  "%s: %s multiplicative factor 0 is divided by (PyTorch fails there); it must be "
                  "in (0, 1]",
                  name, what);
        return false;
    }
    return true;
}

/* ---- Constructors ----------------------------------------------------------------------- */

tg_lr_scheduler *tg_step_lr(tg_optimizer *opt, int step_size, double gamma) {
    if (!check_count("StepLR", "step_size", step_size, false) || !check_gamma("StepLR", gamma))
        return NULL;
    return make(&step_kind, opt, (sched_args){.step = {step_size, gamma}}, 0, NULL);
}

tg_lr_scheduler *tg_multi_step_lr(tg_optimizer *opt, int n, const int *milestones, double gamma) {
    if (!check_milestones("MultiStepLR", n, milestones) || !check_gamma("MultiStepLR", gamma))
        return NULL;
    if (n == 0) {
        tg__error(TG_ERR_VALUE, "MultiStepLR: milestones is empty (the lr would never change)");
        return NULL;
    }
    return make(&multi_step_kind, opt, (sched_args){.step = {0, gamma}}, n, milestones);
}

tg_lr_scheduler *tg_exponential_lr(tg_optimizer *opt, double gamma) {
    if (!check_gamma("ExponentialLR", gamma)) return NULL;
    return make(&exponential_kind, opt, (sched_args){.step = {0, gamma}}, 0, NULL);
}

tg_lr_scheduler *tg_constant_lr(tg_optimizer *opt, double factor, int total_iters) {
    if (!check_factor("ConstantLR", "Constant", factor, true) ||
        !check_count("ConstantLR", "total_iters", total_iters, false))
        return NULL;
    return make(&constant_kind, opt, (sched_args){.linear = {factor, 1, total_iters}}, 0, NULL);
}

tg_lr_scheduler *tg_linear_lr(tg_optimizer *opt, double start_factor, double end_factor,
                              int total_iters) {
    if (!check_factor("LinearLR", "Starting", start_factor, true) ||
        !check_factor("LinearLR", "Ending", end_factor, false) ||
        !check_count("LinearLR", "total_iters", total_iters, false))
        return NULL;
    return make(&linear_kind, opt, (sched_args){.linear = {start_factor, end_factor, total_iters}},
                0, NULL);
}

tg_lr_scheduler *tg_cosine_annealing_lr(tg_optimizer *opt, int t_max, double eta_min) {
    if (!check_count("CosineAnnealingLR", "T_max", t_max, false) ||
        !tg__optim_check_nonneg("CosineAnnealingLR", "eta_min", eta_min))
        return NULL;
    return make(&cosine_kind, opt, (sched_args){.cosine = {t_max, 1, eta_min}}, 0, NULL);
}

tg_lr_scheduler *tg_cosine_annealing_warm_restarts(tg_optimizer *opt, int t_0, int t_mult,
                                                   double eta_min) {
    const char *name = "CosineAnnealingWarmRestarts";
    if (t_0 < 1) {
        tg__error(TG_ERR_VALUE, "%s: Expected positive integer T_0, but got %d", name, t_0);
        return NULL;
    }
    if (t_mult < 1) {
        tg__error(TG_ERR_VALUE, "%s: Expected integer T_mult >= 1, but got %d", name, t_mult);
        return NULL;
    }
    if (!tg__optim_check_nonneg(name, "eta_min", eta_min)) return NULL;
    return make(&warm_restarts_kind, opt, (sched_args){.cosine = {t_0, t_mult, eta_min}}, 0, NULL);
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
    return make(&warmup_cosine_kind, opt,
                (sched_args){.warmup = {warmup_steps, total_steps, final_ratio}}, 0, NULL);
}

tg_lr_scheduler *tg_lambda_lr(tg_optimizer *opt, tg_lr_lambda lr_lambda, void *ctx) {
    if (!lr_lambda) {
        tg__error(TG_ERR_NULL, "LambdaLR: lr_lambda is NULL");
        return NULL;
    }
    return make(&lambda_kind, opt, (sched_args){.lambda = {lr_lambda, ctx}}, 0, NULL);
}

/* ---- OneCycleLR ------------------------------------------------------------------------- */

tg_one_cycle_options tg_one_cycle_defaults(double max_lr, int total_steps) {
    return (tg_one_cycle_options){.max_lr = max_lr,
                                  .total_steps = total_steps,
                                  .pct_start = 0.3,
                                  .anneal_strategy = TG_ANNEAL_COS,
                                  .cycle_momentum = true,
                                  .base_momentum = 0.85,
                                  .max_momentum = 0.95,
                                  .div_factor = 25.,
                                  .final_div_factor = 1e4};
}

/* PyTorch's checks of OneCycleLR's options, then tapegrad's of the values
 * PyTorch takes but fails on later (a division by zero, an lr that is not
 * a number). */
static bool check_one_cycle(tg_optimizer *opt, const tg_one_cycle_options *o) {
    const char *name = "OneCycleLR";
    if (o->total_steps <= 0) {
        tg__error(TG_ERR_VALUE, "%s: Expected positive integer total_steps, but got %d", name,
                  o->total_steps);
        return false;
    }
    if (!(o->pct_start > 0 && o->pct_start < 1)) {
        tg__error(TG_ERR_VALUE,
                  "%s: Expected float between 0 and 1 pct_start, but got %g (0 and 1 excluded: "
                  "PyTorch divides by zero at 1)",
                  name, o->pct_start);
        return false;
    }
    if (o->anneal_strategy != TG_ANNEAL_COS && o->anneal_strategy != TG_ANNEAL_LINEAR) {
        tg__error(TG_ERR_VALUE,
                  "%s: anneal_strategy must by one of 'cos' or 'linear', instead got %d "
                  "(TG_ANNEAL_COS or TG_ANNEAL_LINEAR)",
                  name, (int)o->anneal_strategy);
        return false;
    }
    for (int g = 0; g < tg_optim_n_groups(opt); g++) {
        double max_lr = o->max_lrs ? o->max_lrs[g] : o->max_lr;
        if (!(max_lr >= 0 && isfinite(max_lr))) {
            tg__error(TG_ERR_VALUE, "%s: invalid max_lr %g for group %d (must be >= 0 and finite)",
                      name, max_lr, g);
            return false;
        }
    }
    if (!(o->div_factor > 0 && isfinite(o->div_factor) && o->final_div_factor > 0 &&
          isfinite(o->final_div_factor))) {
        tg__error(TG_ERR_VALUE,
                  "%s: invalid div_factor %g or final_div_factor %g (must be > 0 and finite)", name,
                  o->div_factor, o->final_div_factor);
        return false;
    }
    if (!o->cycle_momentum) return true;
    if (!tg__optim_momentum(opt, 0)) {
        tg__error(TG_ERR_VALUE,
                  "%s: optimizer must support momentum with `cycle_momentum` option enabled "
                  "(%s has no momentum)",
                  name, tg_optim_name(opt));
        return false;
    }
    bool beta = strcmp(opt->kind->options_type, "tg_adam_options") == 0;
    double values[2] = {o->base_momentum, o->max_momentum};
    for (int k = 0; k < 2; k++)
        if (!(values[k] >= 0 && (beta ? values[k] < 1 : isfinite(values[k])))) {
            tg__error(TG_ERR_VALUE, "%s: invalid %s %g (%s's %s must be in %s)", name,
                      k ? "max_momentum" : "base_momentum", values[k], tg_optim_name(opt),
                      beta ? "beta1" : "momentum", beta ? "[0, 1)" : "[0, inf)");
            return false;
        }
    for (int g = 0; !beta && g < tg_optim_n_groups(opt); g++)
        if (*tg__optim_momentum(opt, g) == 0) {
            tg__error(TG_ERR_VALUE,
                      "%s: group %d of the %s has momentum 0, so no momentum buffer to cycle "
                      "(PyTorch would start one): make it with momentum > 0, or set "
                      "cycle_momentum false",
                      name, g, tg_optim_name(opt));
            return false;
        }
    return true;
}

/* PyTorch's phases: end steps at pct_start * total - 1 (three phases: and
 * 2 * pct_start * total - 2), then total - 1. A phase of length 0 is a
 * division by zero in PyTorch's get_lr when a step lands on it. */
static bool one_cycle_phases(const tg_one_cycle_options *o, sched_args *args) {
    double total = o->total_steps, *ends = args->one_cycle.end_steps, start = 0;
    int n = 0;
    ends[n++] = o->pct_start * total - 1;
    if (o->three_phase) ends[n++] = 2 * o->pct_start * total - 2;
    ends[n++] = total - 1;
    args->one_cycle.n_phases = n;
    for (int i = 0; i < n; start = ends[i++])
        if (ends[i] == start) {
            tg__error(TG_ERR_VALUE,
                      "OneCycleLR: pct_start %g of %d total steps leaves phase %d with no steps "
                      "(PyTorch divides by zero there)",
                      o->pct_start, o->total_steps, i);
            return false;
        }
    return true;
}

tg_lr_scheduler *tg_one_cycle_lr(tg_optimizer *opt, const tg_one_cycle_options *opts) {
    if (!opt || !opts) {
        if (!opts)
            tg__error(TG_ERR_NULL, "OneCycleLR: options are NULL (max_lr and total_steps have "
                                   "no default: tg_one_cycle_defaults takes them)");
        else
            tg__null_arg("OneCycleLR");
        return NULL;
    }
    sched_args args = {.one_cycle = {.o = *opts}};
    args.one_cycle.o.max_lrs = NULL; /* copied into per_group */
    if (!check_one_cycle(opt, opts) || !one_cycle_phases(opts, &args)) return NULL;
    int n = tg_optim_n_groups(opt);
    tg_lr_scheduler *s = new_scheduler(&one_cycle_kind, opt, args, opts->max_lrs, opts->max_lr, 0,
                                       NULL);
    if (!s) return NULL;
    /* It sets each group's initial lr (not only when unset) and starts the
     * momentum at its max, before the first step. */
    snapshot(s);
    for (int g = 0; g < n; g++) {
        opt->groups[g].initial_lr = s->per_group[g] / opts->div_factor;
        if (opts->cycle_momentum) *tg__optim_momentum(opt, g) = opts->max_momentum;
    }
    return start(s);
}

/* ---- ReduceLROnPlateau ------------------------------------------------------------------ */

tg_reduce_lr_on_plateau_options tg_reduce_lr_on_plateau_defaults(void) {
    return (tg_reduce_lr_on_plateau_options){.mode = TG_PLATEAU_MIN,
                                             .factor = 0.1,
                                             .patience = 10,
                                             .threshold = 1e-4,
                                             .threshold_mode = TG_THRESHOLD_REL,
                                             .eps = 1e-8};
}

static bool check_plateau(tg_optimizer *opt, const tg_reduce_lr_on_plateau_options *o) {
    const char *name = "ReduceLROnPlateau";
    if (o->factor >= 1.0) {
        tg__error(TG_ERR_VALUE, "%s: Factor should be < 1.0.", name);
        return false;
    }
    if (!(o->factor >= 0)) {
        tg__error(TG_ERR_VALUE, "%s: invalid factor %g (must be in [0, 1))", name, o->factor);
        return false;
    }
    for (int g = 0; g < tg_optim_n_groups(opt); g++)
        if (!tg__optim_check_nonneg(name, "min_lr", o->min_lrs ? o->min_lrs[g] : o->min_lr))
            return false;
    if (o->mode != TG_PLATEAU_MIN && o->mode != TG_PLATEAU_MAX) {
        tg__error(TG_ERR_VALUE, "%s: mode %d is unknown! (TG_PLATEAU_MIN or TG_PLATEAU_MAX)", name,
                  (int)o->mode);
        return false;
    }
    if (o->threshold_mode != TG_THRESHOLD_REL && o->threshold_mode != TG_THRESHOLD_ABS) {
        tg__error(TG_ERR_VALUE,
                  "%s: threshold mode %d is unknown! (TG_THRESHOLD_REL or TG_THRESHOLD_ABS)", name,
                  (int)o->threshold_mode);
        return false;
    }
    return check_count(name, "patience", o->patience, true) &&
           check_count(name, "cooldown", o->cooldown, true) &&
           tg__optim_check_nonneg(name, "threshold", o->threshold) &&
           tg__optim_check_nonneg(name, "eps", o->eps);
}

tg_lr_scheduler *tg_reduce_lr_on_plateau(tg_optimizer *opt,
                                         const tg_reduce_lr_on_plateau_options *opts) {
    tg_reduce_lr_on_plateau_options o = opts ? *opts : tg_reduce_lr_on_plateau_defaults();
    if (opt && !check_plateau(opt, &o)) return NULL;
    const double *min_lrs = o.min_lrs;
    o.min_lrs = NULL; /* copied into per_group */
    /* It starts at epoch 0 with the worst best, and sets no lr. */
    sched_args args = {
        .plateau = {.o = o, .best = o.mode == TG_PLATEAU_MIN ? INFINITY : -INFINITY}};
    return new_scheduler(&plateau_kind, opt, args, min_lrs, o.min_lr, 0, NULL);
}

/* ---- SequentialLR and ChainedScheduler -------------------------------------------------- */

/* Whether schedulers[i] may go into a SequentialLR or ChainedScheduler
 * (name) of opt: given, free, of opt with its groups, stepped by epoch. */
static bool check_child(const char *name, tg_optimizer *opt, tg_lr_scheduler *const *schedulers,
                        int i) {
    tg_lr_scheduler *c = schedulers[i];
    if (!c) { /* keep the message of the failure that made it NULL */
        if (tg_last_status() == TG_OK)
            tg__error(TG_ERR_NULL, "%s: schedulers[%d] is NULL", name, i);
        return false;
    }
    for (int j = 0; j < i; j++)
        if (schedulers[j] == c) {
            tg__error(TG_ERR_VALUE, "%s: schedulers[%d] is schedulers[%d] again", name, i, j);
            return false;
        }
    if (c->owner) {
        tg__error(TG_ERR_VALUE, "%s: schedulers[%d] already belongs to a %s", name, i,
                  c->owner->kind->name);
        return false;
    }
    if (!c->base_lrs) {
        tg__error(TG_ERR_VALUE,
                  "%s: schedulers[%d] is a %s, whose step() PyTorch would call without an epoch "
                  "or a metric",
                  name, i, c->kind->name);
        return false;
    }
    if (c->opt != opt) {
        if (strcmp(name, "SequentialLR") == 0)
            tg__error(TG_ERR_VALUE,
                      "SequentialLR: Sequential Schedulers expects all schedulers to belong to "
                      "the same optimizer, but got schedulers at index %d to be different than "
                      "the optimizer passed in.",
                      i);
        else
            tg__error(TG_ERR_VALUE,
                      "ChainedScheduler: ChainedScheduler expects all schedulers to belong to the "
                      "same optimizer, but got schedulers at index 0 and %d to be different",
                      i);
        return false;
    }
    if (c->n_groups != tg_optim_n_groups(opt)) {
        tg__error(TG_ERR_VALUE, "%s: schedulers[%d] has %d parameter groups, the optimizer %d",
                  name, i, c->n_groups, tg_optim_n_groups(opt));
        return false;
    }
    return true;
}

/* A SequentialLR or ChainedScheduler holding the n schedulers, or NULL
 * with an error; either way the schedulers that no other one holds are
 * taken over (freed on failure). */
static tg_lr_scheduler *container(const sched_kind *kind, tg_optimizer *opt, int n,
                                  tg_lr_scheduler *const *schedulers, int n_milestones,
                                  const int *milestones) {
    const char *name = kind->name;
    bool ok = true;
    if (n < 1 || !schedulers) {
        tg__error(n < 1 ? TG_ERR_VALUE : TG_ERR_NULL, "%s: no schedulers", name);
        ok = false;
    } else if (!opt) { /* SequentialLR's, or ChainedScheduler's first scheduler */
        tg__null_arg(name);
        ok = false;
    }
    for (int i = 0; ok && i < n; i++) ok = check_child(name, opt, schedulers, i);
    if (ok && kind == &sequential_kind && n_milestones != n - 1) {
        tg__error(TG_ERR_VALUE,
                  "SequentialLR: Sequential Schedulers expects number of schedulers provided to "
                  "be one more than the number of milestone points, but got number of schedulers "
                  "%d and the number of milestones to be equal to %d",
                  n, n_milestones);
        ok = false;
    }
    if (ok) ok = check_milestones(name, n_milestones, milestones);
    tg_lr_scheduler *s = ok ? new_scheduler(kind, opt, (sched_args){0}, NULL, 0, n_milestones,
                                            milestones)
                            : NULL;
    if (s && !(s->children = tg__alloc(sizeof *s->children * (size_t)n, name))) {
        release(s);
        s = NULL;
    }
    for (int i = 0; schedulers && i < n; i++) {
        tg_lr_scheduler *c = schedulers[i];
        bool seen = false; /* taken by s, or freed already: compared, never read */
        for (int j = 0; j < i && c; j++) seen |= schedulers[j] == c;
        if (!c || seen || c->owner) continue;
        if (s) {
            c->owner = s;
            s->children[s->n_children++] = c;
        } else {
            release(c);
        }
    }
    return s;
}

tg_lr_scheduler *tg_sequential_lr(tg_optimizer *opt, int n, tg_lr_scheduler *const *schedulers,
                                  int n_milestones, const int *milestones) {
    tg_lr_scheduler *s = container(&sequential_kind, opt, n, schedulers, n_milestones, milestones);
    if (!s) return NULL;
    /* PyTorch's constructor: every group back to its initial lr, every
     * scheduler's step undone, the first one's first step done again. */
    snapshot(s);
    for (int g = 0; g < s->n_groups; g++) opt->groups[g].lr = opt->groups[g].initial_lr;
    for (int i = 0; i < n; i++) s->children[i]->epoch--;
    if (advance(s->children[0]) == 0) return s;
    undo(s);
    release(s);
    return NULL;
}

tg_lr_scheduler *tg_chained_scheduler(int n, tg_lr_scheduler *const *schedulers) {
    tg_optimizer *opt = n > 0 && schedulers && schedulers[0] ? schedulers[0]->opt : NULL;
    return container(&chained_kind, opt, n, schedulers, 0, NULL);
}

/* ---- Saving and resuming ----------------------------------------------------------------
 * One walk over a scheduler's state in the file's order (tapegrad/optim.h
 * lists the names) serves every pass: saving makes each named tensor from
 * s; staging makes the same for tg_load_safetensors to fill, so that the
 * load is strict about names, shapes and dtypes; checking reads the loaded
 * values without changing s, and storing writes them into s, which cannot
 * fail after the check. */

#define MARKER "scheduler."
/* Room for the longest name: "_schedulers.<int>.scheduler.CosineAnnealingWarmRestarts". */
#define NAME_LEN 80

typedef enum walk_pass { SAVE, STAGE, CHECK, STORE } walk_pass;

typedef struct layout {
    walk_pass pass;
    const char *path; /* loading: the file, for messages */
    int n;            /* items made, or read */
    tg_named_tensor *items;
    char (*names)[NAME_LEN];
} layout;

static int count_items(const tg_lr_scheduler *s) {
    int n = 2 + (s->base_lrs != NULL) + (s->kind == &plateau_kind ? 3 : 0);
    for (int i = 0; i < s->n_children; i++) n += count_items(s->children[i]);
    return n;
}

/* The next item: made (SAVE, STAGE), named prefix + name and holding t (a
 * new tensor of s's values), or read (CHECK, STORE); NULL when t could not
 * be made. */
static tg_named_tensor *next_item(layout *l, const char *prefix, const char *name, tg_tensor *t) {
    tg_named_tensor *item = &l->items[l->n++];
    if (l->pass == CHECK || l->pass == STORE) return item;
    snprintf(l->names[l->n - 1], NAME_LEN, "%s%s", prefix, name);
    *item = (tg_named_tensor){l->names[l->n - 1], t};
    return t ? item : NULL;
}

static bool bad_value(const layout *l, const tg_named_tensor *item, double v, const char *what) {
    tg__error(TG_ERR_VALUE, "lr_scheduler_load: %s: '%s' is %g, %s", l->path, item->name, v, what);
    return false;
}

/* A 0-dim count: PyTorch's last_epoch (-1 allowed for a SequentialLR's
 * scheduler not started yet), num_bad_epochs, cooldown_counter. */
static bool count_item(layout *l, const char *prefix, const char *name, int64_t *value,
                       bool may_be_unstarted) {
    bool making = l->pass == SAVE || l->pass == STAGE;
    tg_named_tensor *item = next_item(l, prefix, name,
                                      making ? tg_scalar((double)*value, TG_F64) : NULL);
    if (!item) return false;
    double v = making ? 0 : tg_item(item->tensor);
    if (l->pass == CHECK && !tg__optim_is_count(v) && !(may_be_unstarted && v == -1))
        return bad_value(l, item, v,
                         strcmp(name, "last_epoch") == 0 ? "not an epoch" : "not a count");
    if (l->pass == STORE) *value = (int64_t)v;
    return true;
}

static bool walk(tg_lr_scheduler *s, layout *l, const char *prefix, bool may_be_unstarted) {
    bool making = l->pass == SAVE || l->pass == STAGE;
    char name[NAME_LEN];
    snprintf(name, sizeof name, MARKER "%s", s->kind->name);
    tg_named_tensor *item = next_item(l, prefix, name,
                                      making ? tg_scalar(s->n_groups, TG_F64) : NULL);
    if (!item) return false;
    /* Every marker holds the number of groups; the top one was checked
     * before the load too, to name the usual mistakes first. */
    if (l->pass == CHECK && tg_item(item->tensor) != s->n_groups)
        return bad_value(l, item, tg_item(item->tensor), "not the number of parameter groups");
    if (!count_item(l, prefix, "last_epoch", &s->epoch, may_be_unstarted)) return false;
    const tg_named_tensor *epoch = &l->items[l->n - 1];
    if (l->pass == CHECK && s->kind == &one_cycle_kind &&
        tg_item(epoch->tensor) > s->u.one_cycle.o.total_steps)
        return bad_value(l, epoch, tg_item(epoch->tensor), "past total_steps");
    if (s->base_lrs) {
        int64_t g = s->n_groups;
        item = next_item(l, prefix, "base_lrs",
                         making ? tg_from_data(s->base_lrs, 1, &g, TG_F64) : NULL);
        if (!item) return false;
        const double *base = making ? NULL : tg__ptr(item->tensor);
        for (int k = 0; l->pass == CHECK && k < s->n_groups; k++)
            if (!(base[k] >= 0 && isfinite(base[k]))) {
                tg__error(TG_ERR_VALUE, "lr_scheduler_load: %s: %s[%d] is %g, not a learning rate",
                          l->path, item->name, k, base[k]);
                return false;
            }
        if (l->pass == STORE) memcpy(s->base_lrs, base, sizeof(double) * (size_t)s->n_groups);
    }
    if (s->kind == &plateau_kind) {
        item = next_item(l, prefix, "best", making ? tg_scalar(s->u.plateau.best, TG_F64) : NULL);
        if (!item) return false;
        double best = making ? 0 : tg_item(item->tensor);
        if (l->pass == CHECK && isnan(best)) return bad_value(l, item, best, "not a metric");
        if (l->pass == STORE) s->u.plateau.best = best;
        if (!count_item(l, prefix, "num_bad_epochs", &s->u.plateau.num_bad_epochs, false) ||
            !count_item(l, prefix, "cooldown_counter", &s->u.plateau.cooldown_counter, false))
            return false;
    }
    for (int i = 0; i < s->n_children; i++) {
        char inner[NAME_LEN];
        snprintf(inner, sizeof inner, "%s_schedulers.%d.", prefix, i);
        if (!walk(s->children[i], l, inner, s->kind == &sequential_kind && i > 0)) return false;
    }
    /* The optimizer's file holds no momentum: a OneCycleLR's is its epoch's. */
    if (l->pass == STORE && cycles_momentum(s) && s->epoch >= 0)
        for (int g = 0; g < s->n_groups; g++)
            *tg__optim_momentum(s->opt, g) = one_cycle_momentum(s);
    return true;
}

/* The layout of s for pass, its tensors new in the caller's pool. */
static bool layout_build(layout *l, tg_lr_scheduler *s, walk_pass pass, const char *op) {
    int n = count_items(s);
    *l = (layout){.pass = pass};
    l->items = tg__alloc(sizeof *l->items * (size_t)n, op);
    l->names = l->items ? tg__alloc(sizeof *l->names * (size_t)n, op) : NULL;
    return l->names && walk(s, l, "", false);
}

static void layout_free(layout *l) {
    tg__free(l->items);
    tg__free(l->names);
}

int tg_lr_scheduler_save(const tg_lr_scheduler *s, const char *path) {
    if (!s || !path) {
        tg__null_arg("lr_scheduler_save");
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    layout l = {0};
    /* Saving only reads s. */
    int rc = pool && layout_build(&l, (tg_lr_scheduler *)s, SAVE, "lr_scheduler_save")
                 ? tg_save_safetensors(path, l.n, l.items)
                 : -1;
    tg_pool_pop(pool);
    layout_free(&l);
    return rc;
}

int tg_lr_scheduler_load(tg_lr_scheduler *s, const char *path) {
    if (!s || !path) {
        tg__null_arg("lr_scheduler_load");
        return -1;
    }
    if (!may_change(s, "lr_scheduler_load")) return -1;
    tg_pool *pool = tg_pool_push();
    layout l = {0};
    bool ok = pool &&
              tg__check_state_marker("lr_scheduler_load", path, "scheduler", s->kind->name,
                                     s->n_groups, "parameter groups") &&
              layout_build(&l, s, STAGE, "lr_scheduler_load") &&
              tg_load_safetensors(path, l.n, l.items) == 0;
    l.path = path;
    for (walk_pass p = CHECK; ok && p <= STORE; p++) {
        l.pass = p, l.n = 0;
        ok = walk(s, &l, "", false);
    }
    tg_pool_pop(pool);
    layout_free(&l);
    return ok ? 0 : -1;
}
