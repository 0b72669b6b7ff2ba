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
    printf("  resident after step 1000: %ld KiB, after step 10000: %ld KiB\n", rss_early / 1024,
           rss_late / 1024);
#ifndef __SANITIZE_ADDRESS__ /* ASan holds freed blocks in quarantine; LSan checks leaks */
    /* malloc settles its free lists over the first steps (a few KiB); a
     * leak of even one small tensor a step would add over 2 MiB here. */
    CHECK(rss_early > 0 && rss_late - rss_early < 1024 * 1024);
#endif
}

/* An allocator that counts its blocks, to see where each goes back. */
typedef struct counted {
    long made, freed;
} counted;

static void *counted_alloc(size_t size, void *ctx) {
    ((counted *)ctx)->made++;
    return aligned_alloc(64, (size + 63) / 64 * 64);
}

static void counted_free(void *ptr, void *ctx) {
    ((counted *)ctx)->freed++;
    free(ptr);
}

/* Objects alive across tg_set_allocator go back to the allocator that made
 * them: a later allocator never frees a block it did not make, and an
 * earlier one gets its blocks back, also those freed while the default
 * allocator, which keeps freed blocks for reuse, is set again. */
static void blocks_go_back_to_the_allocator_that_made_them(void) {
    tg_pool_pop(tg_test_pool); /* own everything explicitly here */
    counted a = {0}, b = {0};
    tg_pool *warm = tg_pool_push(); /* the thread's pool array, kept for good, by default */
    tg_ones(TG_SHAPE(1), TG_F32);
    tg_pool_pop(warm);
    tg_tensor *by_default = tg_ones(TG_SHAPE(3), TG_F32);
    tg_release(tg_ones(TG_SHAPE(3), TG_F32)); /* its blocks wait in the caches */
    tg_set_allocator(&(tg_allocator){counted_alloc, counted_free, &a});
    tg_tensor *by_a = tg_ones(TG_SHAPE(4), TG_F32);
    tg_tensor *grad_by_a = tg_requires_grad_(tg_ones(TG_SHAPE(4), TG_F32), true);
    tg_tensor *product = tg_mul(grad_by_a, by_a), *loss = tg_sum(product); /* nodes too */
    long made_by_a = a.made;
    tg_set_allocator(&(tg_allocator){counted_alloc, counted_free, &b});
    tg_release(by_default);
    int rc = tg_backward(loss, NULL); /* .grad made by b */
    tg_tensor *by_b = tg_ones(TG_SHAPE(5), TG_F32);
    tg_set_allocator(NULL);
    tg_tensor *again = tg_ones(TG_SHAPE(3), TG_F32); /* from the caches */
    tg_release(loss);
    tg_release(product);
    tg_release(by_a);
    tg_release(grad_by_a);
    tg_release(by_b);
    tg_release(again);
    CHECK(rc == 0 && made_by_a >= 6 && b.made >= 3);
    CHECK(a.freed == a.made);
    CHECK(b.freed == b.made);
}

/* One training step of a SwiGLU FeedForward: forward, MSE, backward,
 * AdamW, zero_grad (the grads zeroed, or dropped and made again). */
static int ffn_step(tg_module *ffn, tg_optimizer *opt, tg_tensor *x, tg_tensor *target,
                    tg_zero_grad_mode mode) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *loss = tg_mse_loss(tg_module_forward(ffn, x), target, TG_REDUCTION_MEAN);
    int rc = loss ? tg_backward(loss, NULL) : -1;
    if (rc == 0) rc = tg_optim_step(opt);
    tg_optim_zero_grad(opt, mode);
    tg_pool_pop(pool);
    return rc;
}

/* Once warm, a training step asks the allocator for nothing: every block it
 * frees waits in the thread's caches for the next step to ask. And all of
 * them go back to the allocator when it is replaced. */
static void warm_training_steps_allocate_nothing(void) {
    tg_pool_pop(tg_test_pool); /* own everything explicitly here */
    for (int mode = TG_GRAD_TO_ZERO; mode <= TG_GRAD_TO_NONE; mode++) {
        counted c = {0};
        tg_set_allocator(&(tg_allocator){counted_alloc, counted_free, &c});
        tg_ffn_options o = {
            .kind = TG_FFN_SWIGLU, .dim = 16, .hidden_dim = 64, .multiple_of = 8, .dtype = TG_F32};
        tg_module *ffn = tg_feedforward_new(&o, NULL);
        CHECK(ffn != NULL);
        tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(32, 16), TG_F32, NULL), true);
        tg_tensor *target = tg_randn(TG_SHAPE(32, 16), TG_F32, NULL);
        int n;
        const tg_named_tensor *named = tg_module_parameters(ffn, &n);
        tg_tensor *params[8];
        for (int i = 0; i < n && i < 8; i++) params[i] = named[i].tensor;
        tg_adam_options ao = tg_adamw_defaults();
        tg_optimizer *opt = tg_adamw_new(params, n, &ao);
        int rc = 0;
        for (int step = 0; step < 3; step++) rc |= ffn_step(ffn, opt, x, target, mode);
        long warm = c.made;
        for (int step = 0; step < 20; step++) rc |= ffn_step(ffn, opt, x, target, mode);
        CHECK(rc == 0);
        CHECK(c.made == warm);
        printf("  zero_grad %s: %ld blocks while warming up, %ld in 20 steps after\n",
               mode == TG_GRAD_TO_ZERO ? "to zero" : "to none", warm, c.made - warm);
        tg_optim_free(opt);
        tg_module_free(ffn);
        tg_release(x);
        tg_release(target);
        tg_set_allocator(NULL);
        CHECK(c.made > 0 && c.freed == c.made);
    }
}

TG_TEST_MAIN(TG_CASE(ten_thousand_steps_keep_memory_flat),
             TG_CASE(blocks_go_back_to_the_allocator_that_made_them),
             TG_CASE(warm_training_steps_allocate_nothing))
