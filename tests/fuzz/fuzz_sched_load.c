/* tests/fuzz/fuzz_sched_load.c - any bytes as a scheduler state file,
 * loaded into each schedule: the load fails with a message and the
 * scheduler saves the same state as before, or it succeeds and saves a
 * state equal to the file. The optimizer's state is never touched. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"

static tg_module *model;
static tg_optimizer *opt;
static tg_lr_scheduler *scheds[FUZZ_N_SCHEDULES];
/* The file of each schedule's state as made. */
static char saved_as_made[FUZZ_N_SCHEDULES][32];

static void cleanup(void) {
    for (int k = 0; k < FUZZ_N_SCHEDULES; k++) tg_lr_scheduler_free(scheds[k]);
    tg_optim_free(opt);
    tg_module_free(model);
}

static void setup(void) {
    model = fuzz_model();
    opt = fuzz_optimizer(model, FUZZ_SGD);
    for (int k = 0; k < FUZZ_N_SCHEDULES; k++) {
        snprintf(saved_as_made[k], sizeof saved_as_made[k], "made-%s", fuzz_schedule_names[k]);
        scheds[k] = fuzz_scheduler(opt, k);
        FUZZ_CHECK(tg_lr_scheduler_save(scheds[k], fuzz_path(saved_as_made[k])) == 0);
    }
    FUZZ_CHECK(tg_optim_save(opt, fuzz_path("optim")) == 0);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!opt) setup();
    const char *path = fuzz_write("input", data, size);
    int64_t live = tg_live_tensors();
    for (int k = 0; k < FUZZ_N_SCHEDULES; k++) {
        tg_clear_error();
        int rc = tg_lr_scheduler_load(scheds[k], path);
        FUZZ_CHECK(rc == 0 || fuzz_failed_with_message());
        FUZZ_CHECK(tg_lr_scheduler_save(scheds[k], fuzz_path("saved")) == 0);
        FUZZ_CHECK(
            fuzz_same_file(fuzz_path("saved"), rc == 0 ? path : fuzz_path(saved_as_made[k])));
        if (rc == 0) FUZZ_CHECK(tg_lr_scheduler_load(scheds[k], fuzz_path(saved_as_made[k])) == 0);
    }
    FUZZ_CHECK(tg_optim_save(opt, fuzz_path("saved")) == 0);
    FUZZ_CHECK(fuzz_same_file(fuzz_path("saved"), fuzz_path("optim")));
    FUZZ_CHECK(tg_live_tensors() == live);
    return 0;
}
