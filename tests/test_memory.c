/* tests/test_memory.c - a long training loop keeps its memory flat. */
#include <unistd.h>

#include "tg_test.h"

/* Resident set size in bytes, from /proc (Linux). */
static long resident_bytes(void) {
    long pages = -1, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* One step of fitting y = 3x - 1 with w, b: forward, backward, SGD update. */
static int train_step(tg_tensor *w, tg_tensor *b, tg_tensor *x, tg_tensor *y, double lr) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *err = tg_sub(tg_add(tg_mul(w, x), b), y);
    tg_tensor *loss = tg_mean(tg_mul(err, err));
    int rc = loss ? tg_backward(loss, NULL) : -1;
    bool previous = tg_set_grad_enabled(false);
    if (rc == 0) rc = tg_add_(w, tg_grad(w), -lr) | tg_add_(b, tg_grad(b), -lr);
    tg_set_grad_enabled(previous);
    tg_zero_grad(w);
    tg_zero_grad(b);
    tg_pool_pop(pool);
    return rc;
}

static void ten_thousand_steps_keep_memory_flat(void) {
    tg_pool_pop(tg_test_pool); /* own everything explicitly here */
    tg_tensor *w = tg_requires_grad_(tg_zeros(TG_SHAPE(1), TG_F32), true);
    tg_tensor *b = tg_requires_grad_(tg_zeros(TG_SHAPE(1), TG_F32), true);
    tg_tensor *x = tg_arange(-1, 1, 1.0 / 512, TG_F32); /* 1024 points */
    tg_pool *pool = tg_pool_push();
    tg_tensor *y = tg_retain(tg_sub_scalar(tg_mul_scalar(x, 3), 1));
    tg_pool_pop(pool);
    int failed = 0;
    long rss_early = 0;
    int64_t live_early = 0;
    for (int step = 0; step < 10000; step++) {
        failed |= train_step(w, b, x, y, 0.1);
        if (step == 999) {
            rss_early = resident_bytes();
            live_early = tg_live_tensors();
        }
    }
    long rss_late = resident_bytes();
    int64_t live_late = tg_live_tensors();
    double w_final = tg_item(w), b_final = tg_item(b);
    tg_release(w);
    tg_release(b);
    tg_release(x);
    tg_release(y);
    CHECK(!failed);
    CHECK_CLOSE(w_final, 3, 1e-4, 0);
    CHECK_CLOSE(b_final, -1, 1e-4, 0);
    CHECK(live_late == live_early);
    printf("  resident after step 1000: %ld KiB, after step 10000: %ld KiB\n",
           rss_early / 1024, rss_late / 1024);
#ifndef __SANITIZE_ADDRESS__ /* ASan holds freed blocks in quarantine; LSan checks leaks */
    /* malloc settles its free lists over the first steps (a few KiB); a
     * leak of even one small tensor a step would add over 2 MiB here. */
    CHECK(rss_early > 0 && rss_late - rss_early < 1024 * 1024);
#endif
}

TG_TEST_MAIN(TG_CASE(ten_thousand_steps_keep_memory_flat))
