/* tests/fuzz/fuzz_optim_load.c - any bytes as an optimizer state file,
 * loaded into each optimizer kind: the load fails with a message and every
 * lr, step count and state tensor keeps its value, or it succeeds and the
 * optimizer saves a state equal to the file. The parameters are never
 * touched. */

#include "fuzz_common.h"

static const char *const state_keys[] = {
    "momentum_buffer", "sum", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
enum { N_KEYS = sizeof state_keys / sizeof state_keys[0], MAX_PARAMS = 8 };

/* What tg_optim_load may change, as the optimizer was made. */
typedef struct snapshot {
    double lr[2];
    int64_t steps[MAX_PARAMS];
    tg_tensor *states[MAX_PARAMS][N_KEYS];
} snapshot;

static tg_module *model;
static int n_params;
static tg_tensor *const *params;
static tg_tensor *initial[MAX_PARAMS];
static tg_optimizer *opts[FUZZ_N_OPTIMS];
static snapshot made[FUZZ_N_OPTIMS];
static const char *saved_as_made[FUZZ_N_OPTIMS] = {"made-0", "made-1", "made-2", "made-3",
                                                   "made-4"};

static void take(const tg_optimizer *opt, snapshot *s) {
    for (int g = 0; g < 2; g++) s->lr[g] = tg_optim_lr(opt, g);
    for (int i = 0; i < n_params; i++) {
        s->steps[i] = tg_optim_step_count(opt, params[i]);
        for (int k = 0; k < N_KEYS; k++) {
            tg_tensor *t = tg_optim_state(opt, params[i], state_keys[k]);
            s->states[i][k] = t ? tg_retain(tg_clone(t)) : NULL;
        }
    }
}

static int unchanged(const tg_optimizer *opt, const snapshot *s) {
    int same = 1;
    for (int g = 0; g < 2; g++) same &= tg_optim_lr(opt, g) == s->lr[g];
    for (int i = 0; i < n_params; i++) {
        same &= tg_optim_step_count(opt, params[i]) == s->steps[i];
        for (int k = 0; k < N_KEYS; k++) {
            tg_tensor *t = tg_optim_state(opt, params[i], state_keys[k]);
            same &= t ? fuzz_same_tensor(t, s->states[i][k]) : s->states[i][k] == NULL;
        }
    }
    return same;
}

static void setup(void) {
    model = fuzz_model();
    params = tg_module_parameter_tensors(model, &n_params);
    FUZZ_CHECK(n_params <= MAX_PARAMS);
    tg_pool *pool = tg_pool_push();
    for (int k = 0; k < FUZZ_N_OPTIMS; k++) {
        opts[k] = fuzz_optimizer(model, k);
        take(opts[k], &made[k]);
        FUZZ_CHECK(tg_optim_save(opts[k], fuzz_path(saved_as_made[k])) == 0);
    }
    for (int i = 0; i < n_params; i++)
        FUZZ_CHECK((initial[i] = tg_retain(tg_clone(tg_detach(params[i])))) != NULL);
    tg_pool_pop(pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!model) setup();
    const char *path = fuzz_write("input", data, size);
    int64_t live = tg_live_tensors();
    for (int k = 0; k < FUZZ_N_OPTIMS; k++) {
        tg_clear_error();
        if (tg_optim_load(opts[k], path) != 0) {
            FUZZ_CHECK(fuzz_failed_with_message());
            FUZZ_CHECK(unchanged(opts[k], &made[k]));
            continue;
        }
        FUZZ_CHECK(tg_optim_save(opts[k], fuzz_path("saved")) == 0);
        FUZZ_CHECK(fuzz_same_file(fuzz_path("saved"), path));
        /* Back to the state as made, for the next input. */
        FUZZ_CHECK(tg_optim_load(opts[k], fuzz_path(saved_as_made[k])) == 0);
        FUZZ_CHECK(unchanged(opts[k], &made[k]));
    }
    for (int i = 0; i < n_params; i++) FUZZ_CHECK(fuzz_same_tensor(params[i], initial[i]));
    FUZZ_CHECK(tg_live_tensors() == live);
    return 0;
}
