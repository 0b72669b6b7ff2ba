/* tests/test_loader.c - the data loader: sample order, batch sizes and
 * generator use against PyTorch's DataLoader (golden_loader.h), batch
 * contents of every dtype, and bad arguments. */
#include "golden/golden_loader.h"
#include "tg_test.h"

static void randperm_matches_pytorch(void) {
    tg_generator *gen = tg_generator_new(GOLDEN_RANDPERM_SEED);
    const int64_t *want = golden_randperms;
    for (size_t c = 0; c < sizeof golden_randperm_sizes / sizeof golden_randperm_sizes[0]; c++) {
        int64_t n = golden_randperm_sizes[c];
        tg_tensor *p = tg_randperm(n, gen); /* one after another: the draws line up too */
        CHECK(p && tg_dtype_of(p) == TG_I64 && tg_ndim(p) == 1 && tg_numel(p) == n);
        CHECK(n == 0 || memcmp(tg_data(p), want, (size_t)n * sizeof *want) == 0);
        want += n;
    }
    tg_generator_free(gen);
    CHECK(tg_randperm(-1, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "randperm: n must be non-negative, got -1");
}

static void order_matches_pytorch_dataloader(void) {
    char context[64];
    for (size_t c = 0; c < sizeof golden_loaders / sizeof golden_loaders[0]; c++) {
        const golden_loader *g = &golden_loaders[c];
        snprintf(context, sizeof context, "case %zu", c);
        tg_test_context = context;
        tg_generator *gen = tg_generator_new(g->seed);
        tg_tensor *ids = tg_arange(0, (double)g->samples, 1, TG_I64);
        tg_loader *l = tg_loader_new(1, &ids, g->batch_size, g->shuffle ? TG_SHUFFLE : TG_IN_ORDER,
                                     g->drop_last ? TG_DROP_LAST : TG_KEEP_LAST, gen);
        CHECK(l && tg_loader_batches(l) == g->n_batches && tg_loader_samples(l) == g->samples);
        int64_t seen = 0;
        for (int epoch = 0; epoch < GOLDEN_LOADER_EPOCHS; epoch++) {
            tg_tensor *batch;
            int64_t batches = 0;
            while (tg_loader_next(l, &batch) == 1) {
                CHECK(tg_dtype_of(batch) == TG_I64 && tg_ndim(batch) == 1);
                const int64_t *v = tg_data(batch);
                for (int64_t i = 0; i < tg_numel(batch); i++) {
                    CHECK(seen < g->n_order);
                    CHECK(v[i] == g->order[seen]);
                    seen++;
                }
                batches++;
            }
            CHECK(batches == g->n_batches);
        }
        CHECK(seen == g->n_order);
        double next;
        CHECK(tg_to_doubles(tg_rand(TG_SHAPE(1), TG_F64, gen), &next) == 0);
        CHECK(next == g->next_rand); /* the same draws were taken */
        tg_loader_free(l);
        tg_generator_free(gen);
    }
}

/* Every rank's indices, epoch by epoch, as DistributedSampler's. */
static void dist_sampler_matches_pytorch(void) {
    char context[64];
    for (size_t c = 0; c < sizeof golden_dist_samplers / sizeof golden_dist_samplers[0]; c++) {
        const golden_dist_sampler *g = &golden_dist_samplers[c];
        const int64_t *want = g->indices;
        for (int epoch = 0; epoch < GOLDEN_DIST_EPOCHS; epoch++)
            for (int rank = 0; rank < g->world_size; rank++) {
                snprintf(context, sizeof context, "case %zu epoch %d rank %d", c, epoch, rank);
                tg_test_context = context;
                tg_dist_sampler s = {g->world_size, rank, g->shuffle ? TG_SHUFFLE : TG_IN_ORDER,
                                     g->seed, g->drop_last ? TG_DROP_LAST : TG_KEEP_LAST};
                tg_tensor *got = tg_dist_sampler_indices(&s, g->samples, epoch);
                CHECK(got && tg_dtype_of(got) == TG_I64 && tg_numel(got) == g->per_rank);
                const int64_t *v = tg_data(got);
                for (int64_t i = 0; i < g->per_rank; i++) CHECK(v[i] == *want++);
            }
    }
}

/* A loader over rank 1's share of 3: its sampler's indices in batches,
 * the next epoch's after them, and set_epoch going back. */
static void dist_loader_batches_this_ranks_share(void) {
    tg_tensor *ids = tg_arange(0, 10, 1, TG_I64);
    tg_dist_sampler s = {.world_size = 3, .rank = 1, .order = TG_SHUFFLE, .seed = 0};
    tg_loader *l = tg_loader_new_dist(1, &ids, 3, TG_KEEP_LAST, &s);
    CHECK(l && tg_loader_samples(l) == 4 && tg_loader_batches(l) == 2);
    for (int pass = 0; pass < 2; pass++) {
        for (int epoch = 0; epoch < 2; epoch++) {
            const int64_t *want = tg_data(tg_dist_sampler_indices(&s, 10, epoch));
            tg_tensor *batch;
            int64_t seen = 0;
            while (tg_loader_next(l, &batch) == 1) {
                const int64_t *v = tg_data(batch);
                for (int64_t i = 0; i < tg_numel(batch); i++) CHECK(v[i] == want[seen++]);
            }
            CHECK(seen == 4);
        }
        CHECK(tg_loader_set_epoch(l, 0) == 0);
    }
    tg_tensor *batch;
    CHECK(tg_loader_next(l, &batch) == 1);
    CHECK(tg_loader_set_epoch(l, 5) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "loader_set_epoch: an epoch is under way");
    tg_loader_free(l);
    l = tg_loader_new(1, &ids, 3, TG_SHUFFLE, TG_KEEP_LAST, NULL);
    CHECK(tg_loader_set_epoch(l, 1) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "loader_set_epoch: the loader has no distributed sampler");
    tg_loader_free(l);
    CHECK(tg_loader_new_dist(1, &ids, 3, TG_KEEP_LAST,
                             &(tg_dist_sampler){.world_size = 2, .rank = 2}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "loader_new_dist: invalid rank 2 in a world of 2 ranks");
    CHECK(tg_dist_sampler_indices(&(tg_dist_sampler){.world_size = 0}, 10, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "dist_sampler_indices: invalid rank 0 in a world of 0 ranks");
    CHECK(tg_dist_sampler_indices(&s, -1, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "dist_sampler_indices: -1 samples");
}

static void batches_hold_the_rows_of_every_tensor(void) {
    tg_tensor *x = tg_reshape(tg_arange(0, 20, 1, TG_F32), TG_SHAPE(5, 2, 2));
    tg_tensor *y = tg_arange(0, 5, 1, TG_I64);
    tg_tensor *m = tg_ne_scalar(tg_arange(0, 5, 1, TG_F64), 2);
    tg_tensor *xt = tg_transpose(x, 1, 2); /* strided samples are gathered too */
    tg_tensor *ts[] = {x, y, m, xt};
    tg_generator *gen = tg_generator_new(3);
    tg_loader *l = tg_loader_new(4, ts, 2, TG_SHUFFLE, TG_KEEP_LAST, gen);
    CHECK(l != NULL);
    tg_tensor *b[4];
    int64_t total = 0;
    while (tg_loader_next(l, b) == 1) {
        CHECK(tg_dtype_of(b[0]) == TG_F32 && tg_dtype_of(b[1]) == TG_I64 &&
              tg_dtype_of(b[2]) == TG_BOOL);
        for (int64_t i = 0; i < tg_numel(b[1]); i++) {
            int64_t s = ((const int64_t *)tg_data(b[1]))[i];
            for (int k = 0; k < 4; k++) {
                CHECK(tg_get(b[0], (int64_t[]){i, k / 2, k % 2}) == (double)(4 * s + k));
                CHECK(tg_get(b[3], (int64_t[]){i, k % 2, k / 2}) == (double)(4 * s + k));
            }
            CHECK(tg_get(b[2], (int64_t[]){i}) == (s != 2));
            CHECK(tg_is_contiguous(b[3]) && !tg_requires_grad(b[0]));
        }
        total += tg_numel(b[1]);
    }
    CHECK(total == 5);
    tg_loader_free(l);
    tg_generator_free(gen);
}

static void batches_never_require_grad(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(3, 2), TG_F64), true);
    tg_loader *l = tg_loader_new(1, &x, 2, TG_IN_ORDER, TG_KEEP_LAST, NULL);
    tg_tensor *b;
    CHECK(l && tg_loader_next(l, &b) == 1 && !tg_requires_grad(b) && tg_grad_fn_name(b) == NULL);
    tg_loader_free(l);
}

static void bad_arguments_are_refused(void) {
    tg_tensor *a = tg_zeros(TG_SHAPE(4, 2), TG_F32), *b = tg_zeros(TG_SHAPE(3), TG_I64);
    tg_tensor *s = tg_scalar(1, TG_F32);
    CHECK(tg_loader_new(2, (tg_tensor *[]){a, b}, 2, TG_SHUFFLE, TG_KEEP_LAST, NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "loader_new: tensor 1 has 3 samples, tensor 0 has 4");
    CHECK(tg_loader_new(1, &a, 0, TG_SHUFFLE, TG_KEEP_LAST, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "loader_new: batch_size should be a positive integer, got 0");
    CHECK(tg_loader_new(0, &a, 2, TG_SHUFFLE, TG_KEEP_LAST, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "loader_new: 0 tensors (1 to 8)");
    CHECK(tg_loader_new(1, &s, 2, TG_SHUFFLE, TG_KEEP_LAST, NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "loader_new: tensor 0 is 0-dim");
    CHECK(tg_loader_new(1, (tg_tensor *[]){NULL}, 2, TG_SHUFFLE, TG_KEEP_LAST, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "loader_new: argument is NULL");
    CHECK(tg_loader_new(1, &a, 2, (tg_order)7, TG_KEEP_LAST, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "loader_new: invalid order 7");
    CHECK(tg_loader_next(NULL, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "loader_next: argument is NULL");
    CHECK(tg_loader_batches(NULL) == 0);
    tg_loader_free(NULL);
    /* An empty data set has no batches, and every epoch ends at once. */
    tg_tensor *e = tg_zeros(TG_SHAPE(0, 3), TG_F32), *batch = NULL;
    tg_loader *l = tg_loader_new(1, &e, 4, TG_SHUFFLE, TG_KEEP_LAST, NULL);
    CHECK(l && tg_loader_batches(l) == 0 && tg_loader_next(l, &batch) == 0 && batch == NULL);
    tg_loader_free(l);
}

/* Two epochs of a shuffled loader, with no pool: each batch is the caller's. */
static int loader_scenario(void *ctx) {
    (void)ctx;
    tg_tensor *x = tg_zeros(TG_SHAPE(5, 3), TG_F32), *y = x ? tg_randperm(5, NULL) : NULL;
    tg_loader *l = y ? tg_loader_new(2, (tg_tensor *[]){x, y}, 2, TG_SHUFFLE, TG_KEEP_LAST, NULL)
                     : NULL;
    int rc = l ? 0 : -1;
    for (int epoch = 0; rc == 0 && epoch < 2; epoch++) {
        tg_tensor *b[2];
        int got;
        while ((got = tg_loader_next(l, b)) == 1) {
            tg_release(b[0]);
            tg_release(b[1]);
        }
        rc = got;
    }
    tg_loader_free(l);
    tg_release(x);
    tg_release(y);
    return rc;
}

/* Two epochs of rank 1's share of 3, shuffled, with no pool. */
static int dist_loader_scenario(void *ctx) {
    (void)ctx;
    tg_tensor *x = tg_zeros(TG_SHAPE(7, 3), TG_F32);
    tg_dist_sampler s = {.world_size = 3, .rank = 1, .order = TG_SHUFFLE, .seed = 4};
    tg_loader *l = x ? tg_loader_new_dist(1, &x, 2, TG_KEEP_LAST, &s) : NULL;
    int rc = l ? 0 : -1;
    for (int epoch = 0; rc == 0 && epoch < 2; epoch++) {
        tg_tensor *b;
        int got;
        while ((got = tg_loader_next(l, &b)) == 1) tg_release(b);
        rc = got;
    }
    tg_loader_free(l);
    tg_release(x);
    return rc;
}

static void out_of_memory_at_every_allocation(void) {
    tg_pool_pop(tg_test_pool);
    int (*scenarios[2])(void *) = {loader_scenario, dist_loader_scenario};
    for (int i = 0; i < 2; i++) {
        tg_test_sweep r = tg_test_fail_each_allocation(scenarios[i], NULL, NULL);
        printf("  %ld allocations, %d failures, %d wrong\n", r.allocations, r.failures, r.wrong);
        CHECK(r.allocations > 10 && r.failures > 10 && r.wrong == 0);
    }
}

TG_TEST_MAIN(TG_CASE(randperm_matches_pytorch), TG_CASE(order_matches_pytorch_dataloader),
             TG_CASE(dist_sampler_matches_pytorch), TG_CASE(dist_loader_batches_this_ranks_share),
             TG_CASE(batches_hold_the_rows_of_every_tensor), TG_CASE(batches_never_require_grad),
             TG_CASE(bad_arguments_are_refused), TG_CASE(out_of_memory_at_every_allocation))
