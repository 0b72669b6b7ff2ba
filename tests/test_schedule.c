/* tests/test_schedule.c - learning-rate schedules against PyTorch 1.13:
 * every scheduler's lrs (and OneCycleLR's momenta) over 300 steps bit for
 * bit, straight and across a save and load at step 150; then what a
 * scheduler promises beyond PyTorch's numbers: failed steps and loads
 * change nothing, SequentialLR and ChainedScheduler own their schedulers,
 * the metric of ReduceLROnPlateau, and the files. */
#include <unistd.h>

#include "golden/golden_schedule.h"
#include "tg_test.h"

enum { G = GOLDEN_SCHEDULE_GROUPS };

/* The lambdas of make_golden_schedule.py, by number; ctx holds each
 * group's number. */
static double lambda_value(int64_t epoch, int group, void *ctx) {
    const int *numbers = ctx;
    switch (numbers[group]) {
    case 0: return pow(0.95, (double)epoch);
    case 1: return 1.0 / (1.0 + 0.05 * (double)epoch);
    case 2: return (double)(epoch % 10 + 1) / 10.0;
    default: return NAN;
    }
}

/* ---- Making a golden case --------------------------------------------------------- */

/* The case's optimizer over three one-element parameters (new in the
 * pool), one per group, with the golden lrs (and SGD's momenta). */
static tg_optimizer *make_optimizer(const char *kind) {
    tg_optimizer *opt = NULL;
    for (int g = 0; g < G; g++) {
        tg_tensor *p = tg_requires_grad_(tg_zeros(TG_SHAPE(1), TG_F32), true);
        double lr = golden_schedule_base_lrs[g];
        int group = 0;
        if (strcmp(kind, "SGD") == 0) {
            tg_sgd_options o = tg_sgd_defaults(lr);
            o.momentum = golden_schedule_momenta[g];
            if (opt)
                group = tg_sgd_add_group(opt, &p, 1, &o);
            else
                opt = tg_sgd_new(&p, 1, &o);
        } else if (strcmp(kind, "Adam") == 0) {
            tg_adam_options o = tg_adam_defaults();
            o.lr = lr;
            if (opt)
                group = tg_adam_add_group(opt, &p, 1, &o);
            else
                opt = tg_adam_new(&p, 1, &o);
        } else {
            tg_adagrad_options o = tg_adagrad_defaults();
            o.lr = lr;
            if (opt)
                group = tg_adagrad_add_group(opt, &p, 1, &o);
            else
                opt = tg_adagrad_new(&p, 1, &o);
        }
        if (!opt || group != g) {
            tg_optim_free(opt);
            return NULL;
        }
    }
    return opt;
}

/* One scheduler from its golden arguments (make_golden_schedule.py lists
 * them per kind). */
static tg_lr_scheduler *make_one(const golden_scheduler *c, tg_optimizer *opt) {
    const int *i = c->ints;
    const double *r = c->reals;
    if (strcmp(c->kind, "StepLR") == 0) return tg_step_lr(opt, i[0], r[0]);
    if (strcmp(c->kind, "MultiStepLR") == 0) return tg_multi_step_lr(opt, c->n_ints, i, r[0]);
    if (strcmp(c->kind, "ExponentialLR") == 0) return tg_exponential_lr(opt, r[0]);
    if (strcmp(c->kind, "ConstantLR") == 0) return tg_constant_lr(opt, r[0], i[0]);
    if (strcmp(c->kind, "LinearLR") == 0) return tg_linear_lr(opt, r[0], r[1], i[0]);
    if (strcmp(c->kind, "CosineAnnealingLR") == 0) return tg_cosine_annealing_lr(opt, i[0], r[0]);
    if (strcmp(c->kind, "WarmupCosine") == 0) return tg_warmup_cosine_lr(opt, i[0], i[1], r[0]);
    if (strcmp(c->kind, "LambdaLR") == 0) return tg_lambda_lr(opt, lambda_value, (void *)i);
    if (strcmp(c->kind, "CosineAnnealingWarmRestarts") == 0)
        return tg_cosine_annealing_warm_restarts(opt, i[0], i[1], r[0]);
    if (strcmp(c->kind, "OneCycleLR") == 0) {
        tg_one_cycle_options o = tg_one_cycle_defaults(0, i[0]);
        o.max_lrs = r, o.pct_start = r[3], o.base_momentum = r[4], o.max_momentum = r[5];
        o.div_factor = r[6], o.final_div_factor = r[7];
        o.anneal_strategy = (tg_anneal_strategy)i[1], o.cycle_momentum = i[2], o.three_phase = i[3];
        return tg_one_cycle_lr(opt, &o);
    }
    tg_reduce_lr_on_plateau_options o = {
        (tg_plateau_mode)i[0], r[0], i[1], r[1], (tg_threshold_mode)i[2], i[3], 0, r + 3, r[2]};
    return tg_reduce_lr_on_plateau(opt, &o);
}

/* The case's scheduler: one, or a SequentialLR or ChainedScheduler of the
 * others, made first, in order. */
static tg_lr_scheduler *make_schedule(const golden_schedule *c, tg_optimizer *opt) {
    const golden_scheduler *top = &c->schedulers[0];
    bool sequential = strcmp(top->kind, "SequentialLR") == 0;
    if (!sequential && strcmp(top->kind, "ChainedScheduler") != 0) return make_one(top, opt);
    tg_lr_scheduler *inner[5];
    int n = c->n_schedulers - 1;
    for (int k = 0; k < n; k++) inner[k] = make_one(&c->schedulers[k + 1], opt);
    return sequential ? tg_sequential_lr(opt, n, inner, top->n_ints, top->ints)
                      : tg_chained_scheduler(n, inner);
}

/* One step: with the golden metric for ReduceLROnPlateau. */
static int step(const golden_schedule *c, tg_lr_scheduler *s, int t) {
    return strcmp(c->schedulers[0].kind, "ReduceLROnPlateau") == 0
               ? tg_lr_scheduler_step_metric(s, golden_schedule_metrics[t])
               : tg_lr_scheduler_step(s);
}

/* The lrs (and cycled momenta) after t steps are PyTorch's, to the bit. */
static bool same_as_pytorch(const golden_schedule *c, const tg_optimizer *opt, int t) {
    for (int g = 0; g < G; g++) {
        if (tg_optim_lr(opt, g) != c->lrs[t * G + g]) {
            printf("  after %d steps, group %d: lr %.17g, PyTorch's %.17g\n", t, g,
                   tg_optim_lr(opt, g), c->lrs[t * G + g]);
            return false;
        }
    }
    return true;
}

/* ---- PyTorch parity ------------------------------------------------------------------ */

/* A scratch file per process, removed by the case that writes it. */
static const char *scratch(const char *name) {
    static char paths[4][64];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "/tmp/tg-schedule-%d-%s", (int)getpid(), name);
    return path;
}

static bool momenta_match(const golden_schedule *c, tg_optimizer *opt, int t) {
    for (int g = 0; c->momenta && g < G; g++)
        if (tg_optim_momentum(opt, g) != c->momenta[t * G + g]) {
            printf("  after %d steps, group %d: momentum %.17g, PyTorch's %.17g\n", t, g,
                   tg_optim_momentum(opt, g), c->momenta[t * G + g]);
            return false;
        }
    return true;
}

static void trajectories_match_pytorch_bit_for_bit(void) {
    int n = (int)(sizeof golden_schedules / sizeof golden_schedules[0]);
    const char *opt_file = scratch("optim"), *sched_file = scratch("sched");
    for (int k = 0; k < n; k++) {
        const golden_schedule *c = &golden_schedules[k];
        tg_test_context = c->name;
        tg_pool *pool = tg_pool_push();
        tg_optimizer *opt = make_optimizer(c->optimizer);
        tg_lr_scheduler *s = opt ? make_schedule(c, opt) : NULL;
        CHECK(s != NULL);
        CHECK(same_as_pytorch(c, opt, 0) && momenta_match(c, opt, 0));
        for (int t = 0; t < GOLDEN_SCHEDULE_STEPS; t++) {
            CHECK(step(c, s, t) == 0);
            CHECK(same_as_pytorch(c, opt, t + 1) && momenta_match(c, opt, t + 1));
            if (t + 1 == GOLDEN_SCHEDULE_SAVE_AT)
                CHECK(tg_optim_save(opt, opt_file) == 0 &&
                      tg_lr_scheduler_save(s, sched_file) == 0);
        }
        /* Resumed: made anew, loaded, stepped on. */
        tg_optimizer *fresh = make_optimizer(c->optimizer);
        tg_lr_scheduler *resumed = fresh ? make_schedule(c, fresh) : NULL;
        CHECK(resumed && tg_optim_load(fresh, opt_file) == 0 &&
              tg_lr_scheduler_load(resumed, sched_file) == 0);
        CHECK(same_as_pytorch(c, fresh, GOLDEN_SCHEDULE_SAVE_AT) &&
              momenta_match(c, fresh, GOLDEN_SCHEDULE_SAVE_AT));
        for (int t = GOLDEN_SCHEDULE_SAVE_AT; t < GOLDEN_SCHEDULE_STEPS; t++) {
            CHECK(step(c, resumed, t) == 0);
            CHECK(same_as_pytorch(c, fresh, t + 1) && momenta_match(c, fresh, t + 1));
        }
        CHECK(tg_lr_scheduler_epoch(resumed) == tg_lr_scheduler_epoch(s));
        tg_lr_scheduler_free(s);
        tg_lr_scheduler_free(resumed);
        tg_optim_free(opt);
        tg_optim_free(fresh);
        tg_pool_pop(pool);
    }
    tg_test_context = NULL;
    unlink(opt_file), unlink(sched_file);
    printf("  %d schedules, %d lrs each: PyTorch's bits, also resumed from a file at step %d\n", n,
           (GOLDEN_SCHEDULE_STEPS + 1) * G, GOLDEN_SCHEDULE_SAVE_AT);
}

/* ---- Beyond PyTorch's numbers ------------------------------------------------------- */

/* An SGD of two groups, lrs 0.1 and 0.02, momentum 0.9 (new in the pool). */
static tg_optimizer *two_groups(void) {
    tg_tensor *a = tg_requires_grad_(tg_zeros(TG_SHAPE(2), TG_F32), true);
    tg_tensor *b = tg_requires_grad_(tg_zeros(TG_SHAPE(1), TG_F64), true);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    o.momentum = 0.9;
    tg_optimizer *opt = tg_sgd_new(&a, 1, &o);
    o.lr = 0.02;
    if (opt && tg_sgd_add_group(opt, &b, 1, &o) != 1) {
        tg_optim_free(opt);
        return NULL;
    }
    return opt;
}

/* 1 until epoch *ctx, then -1: a lambda that makes a negative lr. */
static double turns_negative(int64_t epoch, int group, void *ctx) {
    (void)group;
    return epoch < *(int *)ctx ? 1 : -1;
}

static bool lrs_are(const tg_optimizer *opt, double a, double b) {
    return tg_optim_lr(opt, 0) == a && tg_optim_lr(opt, 1) == b;
}

/* A step that fails leaves the epochs, lrs and momenta as they were, in a
 * ChainedScheduler too, where the schedulers before the failing one have
 * stepped already. */
static void failed_steps_change_nothing(void) {
    tg_optimizer *opt = two_groups();
    int at = 3;
    tg_lr_scheduler *s = tg_lambda_lr(opt, turns_negative, &at);
    CHECK(s && tg_lr_scheduler_step(s) == 0 && tg_lr_scheduler_step(s) == 0);
    CHECK(tg_lr_scheduler_step(s) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "LambdaLR: the lr of group 0 at epoch 3 would be -0.1");
    CHECK(tg_lr_scheduler_epoch(s) == 2 && lrs_are(opt, 0.1, 0.02));
    tg_lr_scheduler_free(s);

    at = 2;
    tg_lr_scheduler *inner[2] = {tg_exponential_lr(opt, 0.5),
                                 tg_lambda_lr(opt, turns_negative, &at)};
    tg_lr_scheduler *chain = tg_chained_scheduler(2, inner);
    CHECK(chain && tg_lr_scheduler_step(chain) == 0);
    CHECK(lrs_are(opt, 0.1, 0.02)); /* the lambda's lr comes from the base lr: 0.1 * 1 */
    CHECK(tg_lr_scheduler_step(chain) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "LambdaLR: the lr of group 0 at epoch 2 would be -0.1");
    CHECK(tg_lr_scheduler_epoch(chain) == 1 && tg_lr_scheduler_epoch(inner[0]) == 1 &&
          tg_lr_scheduler_epoch(inner[1]) == 1 && lrs_are(opt, 0.1, 0.02));
    tg_lr_scheduler_free(chain);

    tg_one_cycle_options o = tg_one_cycle_defaults(1.0, 3);
    tg_lr_scheduler *cycle = tg_one_cycle_lr(opt, &o);
    for (int t = 0; t < 3; t++) CHECK(tg_lr_scheduler_step(cycle) == 0);
    double lr = tg_optim_lr(opt, 0), momentum = tg_optim_momentum(opt, 0);
    CHECK(tg_lr_scheduler_step(cycle) == -1);
    CHECK_ERROR(TG_ERR_VALUE,
                "OneCycleLR: Tried to step 5 times. The specified number of total steps is 3");
    CHECK(tg_lr_scheduler_epoch(cycle) == 3 && tg_optim_lr(opt, 0) == lr &&
          tg_optim_momentum(opt, 0) == momentum);
    tg_lr_scheduler_free(cycle);

    /* A group added since: refused, as before. */
    tg_lr_scheduler *step_lr = tg_step_lr(opt, 1, 0.5);
    tg_tensor *c = tg_requires_grad_(tg_zeros(TG_SHAPE(1), TG_F32), true);
    tg_sgd_options sgd = tg_sgd_defaults(0.3);
    CHECK(step_lr && tg_sgd_add_group(opt, &c, 1, &sgd) == 2);
    CHECK(tg_lr_scheduler_step(step_lr) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "StepLR: the optimizer has 3 parameter groups, it had 2");
    CHECK(tg_lr_scheduler_epoch(step_lr) == 0);
    tg_lr_scheduler_free(step_lr);
    tg_optim_free(opt);
}

/* step() without a metric, and a metric for a scheduler that takes none. */
static void plateau_steps_with_a_metric_only(void) {
    tg_optimizer *opt = two_groups();
    tg_lr_scheduler *plateau = tg_reduce_lr_on_plateau(opt, NULL),
                    *step_lr = tg_step_lr(opt, 2, 0.5);
    CHECK(plateau && step_lr);
    CHECK(tg_lr_scheduler_step(plateau) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "ReduceLROnPlateau: step() missing 1 required positional argument: "
                              "'metrics' (step it with tg_lr_scheduler_step_metric)");
    CHECK(tg_lr_scheduler_step_metric(step_lr, 0.5) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "StepLR: takes no metric (step it with tg_lr_scheduler_step)");
    CHECK(tg_lr_scheduler_epoch(plateau) == 0 && tg_lr_scheduler_epoch(step_lr) == 0);
    /* Made, it changes nothing; patience 10: the 12th epoch without a
     * better metric (NaN never is) reduces the lrs. */
    CHECK(lrs_are(opt, 0.1, 0.02));
    for (int t = 0; t < 11; t++) CHECK(tg_lr_scheduler_step_metric(plateau, t ? NAN : 1) == 0);
    CHECK(lrs_are(opt, 0.1, 0.02));
    CHECK(tg_lr_scheduler_step_metric(plateau, 1) == 0);
    CHECK(lrs_are(opt, 0.1 * 0.1, 0.02 * 0.1) && tg_lr_scheduler_epoch(plateau) == 12);
    tg_lr_scheduler_free(plateau);
    tg_lr_scheduler_free(step_lr);
    tg_optim_free(opt);
}

/* A SequentialLR or ChainedScheduler owns its schedulers: they cannot be
 * stepped, loaded or put in another, freeing one does nothing (the
 * container frees it: ASan and valgrind check once), and a container that
 * fails frees them. */
static void containers_own_their_schedulers(void) {
    tg_optimizer *opt = two_groups(), *other = two_groups();
    tg_lr_scheduler *warm = tg_linear_lr(opt, 0.5, 1, 4), *decay = tg_exponential_lr(opt, 0.9);
    tg_lr_scheduler *seq = tg_sequential_lr(opt, 2, (tg_lr_scheduler *[]){warm, decay}, 1,
                                            (int[]){4});
    CHECK(seq != NULL);
    tg_lr_scheduler_free(warm);
    CHECK(tg_lr_scheduler_step(warm) == -1);
    CHECK_ERROR(TG_ERR_VALUE,
                "lr_scheduler_step: this LinearLR belongs to a SequentialLR, which steps it");
    const char *file = scratch("owned");
    CHECK(tg_lr_scheduler_save(warm, file) == 0);
    CHECK(tg_lr_scheduler_load(warm, file) == -1);
    CHECK_ERROR(TG_ERR_VALUE,
                "lr_scheduler_load: this LinearLR belongs to a SequentialLR, which loads it");
    unlink(file);
    CHECK(tg_chained_scheduler(1, &decay) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "ChainedScheduler: schedulers[0] already belongs to a SequentialLR");
    CHECK(tg_lr_scheduler_epoch(decay) == -1); /* not started: its step undone */
    for (int t = 0; t < 6; t++) CHECK(tg_lr_scheduler_step(seq) == 0);
    CHECK(tg_lr_scheduler_epoch(warm) == 3 && tg_lr_scheduler_epoch(decay) == 2);
    tg_lr_scheduler_free(seq);

    /* Failures: each free scheduler is freed once, whatever the reason. */
    double lr0 = tg_optim_lr(opt, 0), lr1 = tg_optim_lr(opt, 1);
    tg_lr_scheduler *a = tg_step_lr(opt, 2, 0.5);
    CHECK(tg_sequential_lr(opt, 2, (tg_lr_scheduler *[]){a, a}, 1, (int[]){3}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "SequentialLR: schedulers[1] is schedulers[0] again");
    CHECK(tg_sequential_lr(opt, 2, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5), NULL}, 1,
                           (int[]){3}) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "SequentialLR: schedulers[1] is NULL");
    tg_lr_scheduler *b = tg_step_lr(opt, 2, 0.5);
    CHECK(tg_sequential_lr(opt, 2, (tg_lr_scheduler *[]){tg_step_lr(opt, 0, 0.5), b}, 1,
                           (int[]){3}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "StepLR: invalid step_size 0"); /* the first failure's message */
    CHECK(tg_sequential_lr(
              opt, 2, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5), tg_step_lr(other, 2, 0.5)}, 1,
              (int[]){3}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "SequentialLR: Sequential Schedulers expects all schedulers to belong "
                "to the same optimizer, but got schedulers at index 1 to be different "
                "than the optimizer passed in.");
    CHECK(tg_chained_scheduler(2, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5),
                                                        tg_step_lr(other, 2, 0.5)}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "ChainedScheduler: ChainedScheduler expects all schedulers to belong to "
                "the same optimizer, but got schedulers at index 0 and 1 to be different");
    CHECK(tg_chained_scheduler(1, (tg_lr_scheduler *[]){tg_reduce_lr_on_plateau(opt, NULL)}) ==
          NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "ChainedScheduler: schedulers[0] is a ReduceLROnPlateau, whose step() "
                "PyTorch would call without an epoch or a metric");
    CHECK(tg_sequential_lr(opt, 2,
                           (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5), tg_step_lr(opt, 3, 0.5)},
                           2, (int[]){3, 4}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "the number of milestones to be equal to 2");
    CHECK(lrs_are(opt, lr0, lr1)); /* StepLR's epoch 0 is its lrs: none changed */
    tg_optim_free(opt);
    tg_optim_free(other);
}

/* The base lrs are the groups' initial lrs, which the first scheduler
 * records (PyTorch's setdefault('initial_lr')) and OneCycleLR sets. */
static double saved_base_lr(const tg_lr_scheduler *s, const char *name) {
    const char *file = scratch("base");
    tg_safetensors *f = tg_lr_scheduler_save(s, file) == 0 ? tg_safetensors_open(file) : NULL;
    tg_tensor *t = f ? tg_safetensors_get(f, name) : NULL;
    double v = t ? ((double *)tg_data(t))[0] : NAN;
    tg_safetensors_close(f);
    unlink(file);
    return v;
}

static void schedulers_share_initial_lrs(void) {
    tg_optimizer *opt = two_groups();
    tg_lr_scheduler *constant = tg_constant_lr(opt, 0.5, 3);
    CHECK(constant && lrs_are(opt, 0.1 * 0.5, 0.02 * 0.5));
    tg_lr_scheduler *cosine = tg_cosine_annealing_lr(opt, 10, 0);
    CHECK(cosine && saved_base_lr(cosine, "base_lrs") == 0.1);
    tg_one_cycle_options o = tg_one_cycle_defaults(2.5, 100);
    tg_lr_scheduler *cycle = tg_one_cycle_lr(opt, &o);
    tg_lr_scheduler *step_lr = tg_step_lr(opt, 5, 0.5);
    CHECK(cycle && step_lr && saved_base_lr(step_lr, "base_lrs") == 2.5 / 25);
    tg_lr_scheduler *all[4] = {constant, cosine, cycle, step_lr};
    for (int i = 0; i < 4; i++) tg_lr_scheduler_free(all[i]);
    tg_optim_free(opt);
}

/* T_i grows to T_0 * T_mult^k without overflowing. */
static void warm_restarts_of_a_huge_t_mult(void) {
    tg_optimizer *opt = two_groups();
    tg_lr_scheduler *s = tg_cosine_annealing_warm_restarts(opt, 1, 2147483647, 0);
    for (int t = 0; t < 100; t++) CHECK(tg_lr_scheduler_step(s) == 0);
    CHECK(tg_optim_lr(opt, 0) > 0 && tg_optim_lr(opt, 0) < 0.1);
    tg_lr_scheduler_free(s);
    tg_optim_free(opt);
}

/* The names of the file, as PyTorch's state_dict() keys. */
static void files_hold_pytorchs_names(void) {
    tg_optimizer *opt = two_groups();
    tg_lr_scheduler *seq = tg_sequential_lr(
        opt, 2,
        (tg_lr_scheduler *[]){tg_linear_lr(opt, 0.5, 1, 4),
                              tg_one_cycle_lr(opt, &(tg_one_cycle_options){0})},
        1, (int[]){4});
    CHECK(seq == NULL); /* options of total_steps 0 */
    CHECK_ERROR(TG_ERR_VALUE, "OneCycleLR: Expected positive integer total_steps, but got 0");
    tg_lr_scheduler *inner[2] = {tg_linear_lr(opt, 0.5, 1, 4), tg_exponential_lr(opt, 0.9)};
    seq = tg_sequential_lr(opt, 2, inner, 1, (int[]){4});
    tg_lr_scheduler *plateau = tg_reduce_lr_on_plateau(opt, NULL);
    CHECK(seq && plateau);
    static const char *const seq_names[] = {
        "scheduler.SequentialLR",           "last_epoch",
        "_schedulers.0.scheduler.LinearLR", "_schedulers.0.last_epoch",
        "_schedulers.0.base_lrs",           "_schedulers.1.scheduler.ExponentialLR",
        "_schedulers.1.last_epoch",         "_schedulers.1.base_lrs"};
    static const char *const plateau_names[] = {"scheduler.ReduceLROnPlateau", "last_epoch", "best",
                                                "num_bad_epochs", "cooldown_counter"};
    const tg_lr_scheduler *which[2] = {seq, plateau};
    const char *const *names[2] = {seq_names, plateau_names};
    int counts[2] = {8, 5};
    const char *file = scratch("names");
    for (int k = 0; k < 2; k++) {
        CHECK(tg_lr_scheduler_save(which[k], file) == 0);
        tg_safetensors *f = tg_safetensors_open(file);
        CHECK(f && tg_safetensors_count(f) == counts[k]);
        for (int i = 0; i < counts[k]; i++) {
            bool found = false;
            for (int j = 0; j < counts[k]; j++)
                found |= strcmp(tg_safetensors_name(f, j), names[k][i]) == 0;
            if (!found) printf("  missing %s\n", names[k][i]);
            CHECK(found);
        }
        tg_safetensors_close(f);
    }
    unlink(file);
    tg_lr_scheduler_free(seq);
    tg_lr_scheduler_free(plateau);
    tg_optim_free(opt);
}

/* Loads that cannot fit: refused with the name at fault, nothing changed. */
static void loads_refuse_what_does_not_fit(void) {
    tg_optimizer *opt = two_groups();
    const char *file = scratch("refused");
    tg_lr_scheduler *seq = tg_sequential_lr(
        opt, 2, (tg_lr_scheduler *[]){tg_linear_lr(opt, 0.5, 1, 4), tg_exponential_lr(opt, 0.9)}, 1,
        (int[]){4});
    tg_lr_scheduler *other = tg_sequential_lr(
        opt, 2, (tg_lr_scheduler *[]){tg_linear_lr(opt, 0.5, 1, 4), tg_step_lr(opt, 3, 0.9)}, 1,
        (int[]){4});
    CHECK(seq && other && tg_lr_scheduler_step(seq) == 0 && tg_lr_scheduler_save(seq, file) == 0);
    CHECK(tg_lr_scheduler_load(other, file) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "_schedulers.1.scheduler.StepLR");
    CHECK(tg_lr_scheduler_epoch(other) == 0);
    /* A scheduler not yet started saves epoch -1; only SequentialLR's take it. */
    double base[2] = {0.1, 0.02};
    tg_named_tensor items[8] = {
        {"scheduler.SequentialLR", tg_scalar(2, TG_F64)},
        {"last_epoch", tg_scalar(1, TG_F64)},
        {"_schedulers.0.scheduler.LinearLR", tg_scalar(2, TG_F64)},
        {"_schedulers.0.last_epoch", tg_scalar(-1, TG_F64)},
        {"_schedulers.0.base_lrs", tg_from_data(base, TG_SHAPE(2), TG_F64)},
        {"_schedulers.1.scheduler.ExponentialLR", tg_scalar(2, TG_F64)},
        {"_schedulers.1.last_epoch", tg_scalar(-1, TG_F64)},
        {"_schedulers.1.base_lrs", tg_from_data(base, TG_SHAPE(2), TG_F64)}};
    CHECK(tg_save_safetensors(file, 8, items) == 0);
    CHECK(tg_lr_scheduler_load(seq, file) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "'_schedulers.0.last_epoch' is -1, not an epoch");
    items[3].tensor = tg_scalar(1, TG_F64);
    items[5].tensor = tg_scalar(3, TG_F64);
    CHECK(tg_save_safetensors(file, 8, items) == 0);
    CHECK(tg_lr_scheduler_load(seq, file) == -1);
    CHECK_ERROR(TG_ERR_VALUE,
                "'_schedulers.1.scheduler.ExponentialLR' is 3, not the number of parameter groups");
    items[5].tensor = tg_scalar(2, TG_F64);
    CHECK(tg_save_safetensors(file, 8, items) == 0);
    CHECK(tg_lr_scheduler_load(seq, file) == 0 && tg_lr_scheduler_epoch(seq) == 1);

    /* OneCycleLR: an epoch past its steps; loaded, the momenta of its epoch. */
    tg_one_cycle_options o = tg_one_cycle_defaults(1.0, 10);
    tg_lr_scheduler *cycle = tg_one_cycle_lr(opt, &o);
    for (int t = 0; t < 4; t++) CHECK(tg_lr_scheduler_step(cycle) == 0);
    double momentum = tg_optim_momentum(opt, 1);
    CHECK(tg_lr_scheduler_save(cycle, file) == 0);
    for (int t = 0; t < 4; t++) CHECK(tg_lr_scheduler_step(cycle) == 0);
    CHECK(tg_optim_momentum(opt, 1) != momentum);
    CHECK(tg_lr_scheduler_load(cycle, file) == 0);
    CHECK(tg_lr_scheduler_epoch(cycle) == 4 && tg_optim_momentum(opt, 1) == momentum);
    tg_named_tensor past[3] = {{"scheduler.OneCycleLR", tg_scalar(2, TG_F64)},
                               {"last_epoch", tg_scalar(11, TG_F64)},
                               {"base_lrs", tg_from_data(base, TG_SHAPE(2), TG_F64)}};
    CHECK(tg_save_safetensors(file, 3, past) == 0);
    CHECK(tg_lr_scheduler_load(cycle, file) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "'last_epoch' is 11, past total_steps");
    /* ReduceLROnPlateau: a best that is not a number. */
    tg_lr_scheduler *plateau = tg_reduce_lr_on_plateau(opt, NULL);
    tg_named_tensor bad[5] = {{"scheduler.ReduceLROnPlateau", tg_scalar(2, TG_F64)},
                              {"last_epoch", tg_scalar(3, TG_F64)},
                              {"best", tg_scalar(NAN, TG_F64)},
                              {"num_bad_epochs", tg_scalar(1, TG_F64)},
                              {"cooldown_counter", tg_scalar(0, TG_F64)}};
    CHECK(tg_save_safetensors(file, 5, bad) == 0);
    CHECK(tg_lr_scheduler_load(plateau, file) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "'best' is nan, not a metric");
    bad[2].tensor = tg_scalar(0.25, TG_F64);
    CHECK(tg_save_safetensors(file, 5, bad) == 0);
    CHECK(tg_lr_scheduler_load(plateau, file) == 0 && tg_lr_scheduler_epoch(plateau) == 3);
    unlink(file);
    tg_lr_scheduler *all[4] = {seq, other, cycle, plateau};
    for (int i = 0; i < 4; i++) tg_lr_scheduler_free(all[i]);
    tg_optim_free(opt);
}

TG_TEST_MAIN(TG_CASE(trajectories_match_pytorch_bit_for_bit), TG_CASE(failed_steps_change_nothing),
             TG_CASE(plateau_steps_with_a_metric_only), TG_CASE(containers_own_their_schedulers),
             TG_CASE(schedulers_share_initial_lrs), TG_CASE(warm_restarts_of_a_huge_t_mult),
             TG_CASE(files_hold_pytorchs_names), TG_CASE(loads_refuse_what_does_not_fit))
