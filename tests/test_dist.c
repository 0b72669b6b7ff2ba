/* tests/test_dist.c - data-parallel training over MPI (tapegrad/dist.h), run
 * by meson under mpirun with 2 and 3 ranks. As PyTorch tests DDP: R ranks,
 * each taking its B/R rows of every batch of B, end every step with the
 * parameters one process gets on the whole batch, for SGD with momentum,
 * Adam and AdamW in both dtypes, and bit-identical on every rank (a hash
 * compared). Then the bucketed allreduce on odd sizes and on grads kept
 * between steps, models that differ between ranks, grads that differ,
 * clipping, rank-0 checkpoints, and starting and stopping.
 *
 * Every rank runs every case; a case passes when it passes on every rank
 * (tg_test_combine), and rank 0 prints the lines. A case never returns
 * before a collective call its peers make: it records what it checks and
 * CHECKs at its end, so a failure is a failure, not a hang. */
#include <mpi.h>
#include <stdint.h>
#include <unistd.h>

#include "tg_test.h"

static int rank, world;

static int failed_on_any_rank(int failed) {
    int any = failed;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

/* FNV-1a over the bytes of n tensors (their data, or their grads). */
static uint64_t hash_tensors(tg_tensor *const *t, int n, bool grads) {
    uint64_t h = 14695981039346656037u;
    for (int i = 0; i < n; i++) {
        tg_tensor *x = grads ? tg_grad(t[i]) : t[i];
        if (!x) continue;
        const unsigned char *p = tg_data(x);
        for (size_t b = 0; b < (size_t)tg_numel(x) * tg_dtype_size(tg_dtype_of(x)); b++)
            h = (h ^ p[b]) * 1099511628211u;
    }
    return h;
}

/* The same value on every rank. Collective. */
static bool same_everywhere(uint64_t h) {
    uint64_t low = h, high = h;
    MPI_Allreduce(&h, &low, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&h, &high, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return low == high;
}

/* Linear(6, 16), Tanh, Linear(16, 3), initialised from seed. */
static tg_module *mlp(tg_dtype dtype, uint64_t seed) {
    tg_generator *gen = tg_generator_new(seed);
    tg_module *m = tg_sequential_new(3, (tg_module *[]){tg_linear_new(6, 16, TG_BIAS, dtype, gen),
                                                        tg_activation_new(TG_ACT_TANH),
                                                        tg_linear_new(16, 3, TG_BIAS, dtype, gen)});
    tg_generator_free(gen);
    return m;
}

typedef enum { SGD_MOMENTUM, ADAM, ADAMW } optim_kind;
static const char *const optim_names[] = {"SGD with momentum", "Adam", "AdamW"};

static tg_optimizer *make_optimizer(optim_kind kind, tg_module *m) {
    int n;
    tg_tensor *const *params = tg_module_parameter_tensors(m, &n);
    if (kind == SGD_MOMENTUM) {
        tg_sgd_options o = tg_sgd_defaults(0.1);
        o.momentum = 0.9;
        return tg_sgd_new(params, n, &o);
    }
    tg_adam_options o = kind == ADAM ? tg_adam_defaults() : tg_adamw_defaults();
    o.lr = 1e-2;
    if (kind == ADAMW) o.weight_decay = 0.1;
    return kind == ADAM ? tg_adam_new(params, n, &o) : tg_adamw_new(params, n, &o);
}

/* forward, mean cross-entropy, backward (and the allreduce when
 * distributed), optimizer step; 0 or -1. */
static int train_step(tg_module *m, tg_optimizer *opt, tg_tensor *x, tg_tensor *y,
                      bool distributed) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *loss = tg_cross_entropy(tg_module_forward(m, x), y, TG_REDUCTION_MEAN);
    tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
    int n, rc = !loss || tg_backward(loss, NULL) ? -1 : 0;
    tg_tensor *const *params = tg_module_parameter_tensors(m, &n);
    if (distributed) rc = tg_dist_allreduce_grads(params, n) || rc ? -1 : 0;
    if (!rc) rc = tg_optim_step(opt);
    tg_pool_pop(pool);
    return rc;
}

/* The largest relative difference between the parameters of a and b. */
static double max_rel_diff(tg_module *a, tg_module *b) {
    int n;
    tg_tensor *const *pa = tg_module_parameter_tensors(a, &n);
    tg_tensor *const *pb = tg_module_parameter_tensors(b, &n);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        int64_t k = tg_numel(pa[i]);
        double *va = malloc(sizeof(double) * (size_t)k), *vb = malloc(sizeof(double) * (size_t)k);
        tg_to_doubles(pa[i], va);
        tg_to_doubles(pb[i], vb);
        for (int64_t j = 0; j < k; j++) {
            double d = fabs(va[j] - vb[j]) / fmax(fabs(vb[j]), 1e-3);
            if (!(d <= worst)) worst = d; /* NaN is the worst */
        }
        free(va);
        free(vb);
    }
    return worst;
}

enum { BATCH = 12, STEPS = 6 };

/* BATCH class indices in 0 .. 2 (int64). */
static tg_tensor *random_classes(tg_generator *gen) {
    return tg_argmax(tg_rand(TG_SHAPE(BATCH, 3), TG_F64, gen), 1, TG_DROP_DIMS);
}

/* One optimizer, one dtype: R ranks on B/R rows each against one process
 * on B rows, every step. The ranks start from different weights, made the
 * same by the broadcast. */
static void ddp_matches_one_process(optim_kind kind, tg_dtype dtype, double rtol) {
    tg_module *single = mlp(dtype, 100), *ddp = mlp(dtype, 100 + (uint64_t)rank);
    int broadcast = tg_dist_broadcast_module(ddp);
    tg_optimizer *opt_single = make_optimizer(kind, single), *opt_ddp = make_optimizer(kind, ddp);
    tg_generator *data = tg_generator_new(7); /* the same batches on every rank */
    int n, failures = 0;
    tg_tensor *const *params = tg_module_parameter_tensors(ddp, &n);
    bool identical = same_everywhere(hash_tensors(params, n, false));
    double worst = 0;
    for (int step = 0; step < STEPS; step++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *x = tg_to_dtype(tg_randn(TG_SHAPE(BATCH, 6), TG_F64, data), dtype);
        tg_tensor *y = random_classes(data);
        int64_t rows = BATCH / world;
        failures += train_step(single, opt_single, x, y, false) != 0;
        failures += train_step(ddp, opt_ddp, tg_slice(x, 0, rank * rows, (rank + 1) * rows, 1),
                               tg_slice(y, 0, rank * rows, (rank + 1) * rows, 1), true) != 0;
        identical = same_everywhere(hash_tensors(params, n, false)) && identical;
        double d = max_rel_diff(ddp, single);
        if (!(d <= worst)) worst = d;
        tg_pool_pop(pool);
    }
    if (rank == 0)
        printf("  %s %s, %d ranks: largest relative difference %.2g\n", optim_names[kind],
               tg_dtype_name(dtype), world, worst);
    tg_generator_free(data);
    tg_optim_free(opt_single);
    tg_optim_free(opt_ddp);
    tg_module_free(single);
    tg_module_free(ddp);
    CHECK(broadcast == 0 && failures == 0);
    CHECK(identical);
    CHECK(worst <= rtol);
}

static void ddp_sgd_momentum_f64(void) { ddp_matches_one_process(SGD_MOMENTUM, TG_F64, 1e-12); }
static void ddp_adam_f64(void) { ddp_matches_one_process(ADAM, TG_F64, 1e-12); }
static void ddp_adamw_f64(void) { ddp_matches_one_process(ADAMW, TG_F64, 1e-12); }
static void ddp_sgd_momentum_f32(void) { ddp_matches_one_process(SGD_MOMENTUM, TG_F32, 1e-5); }
static void ddp_adam_f32(void) { ddp_matches_one_process(ADAM, TG_F32, 1e-5); }
static void ddp_adamw_f32(void) { ddp_matches_one_process(ADAMW, TG_F32, 1e-5); }

/* Grads kept between steps (zeroed in place, as TG_GRAD_TO_ZERO keeps
 * them), averaged three times: on the first call one grad is viewed by
 * another tensor too, so the grads are averaged where they lie, the view
 * seeing the average; on the second they move into one storage, one after
 * another (one bucket, filled from the last parameter); on the third they
 * are averaged there in place. Every grad stays the same tensor, the mean
 * right each time. */
static void bucket_allreduce_moves_kept_grads_once(void) {
    enum { N = 4, CALLS = 3 };
    const int64_t sizes[N] = {5, 300, 7, 64};
    tg_tensor *params[N], *grads[N] = {NULL};
    int failures = 0, wrong = 0, replaced = 0, apart = 0;
    for (int i = 0; i < N; i++)
        params[i] = tg_requires_grad_(tg_zeros(TG_SHAPE(sizes[i]), TG_F64), true);
    for (int call = 0; call < CALLS; call++) {
        tg_pool *pool = tg_pool_push();
        for (int i = 0; i < N; i++) {
            if (grads[i]) failures += tg_fill_(grads[i], 0) != 0;
            tg_tensor *coef = tg_full(TG_SHAPE(sizes[i]), (rank + 1) * (i + 1) * (call + 1),
                                      TG_F64);
            failures += tg_backward(tg_sum(tg_mul(params[i], coef)), NULL) != 0;
            if (call == 0) grads[i] = tg_grad(params[i]);
            replaced += tg_grad(params[i]) != grads[i];
        }
        tg_tensor *view = call == 0 ? tg_slice(grads[1], 0, 10, 20, 1) : NULL;
        failures += tg_dist_allreduce_grads(params, N) != 0;
        for (int i = 0; i < N; i++) {
            replaced += tg_grad(params[i]) != grads[i];
            const double *g = tg_data(grads[i]);
            double want = (world + 1) / 2.0 * (i + 1) * (call + 1);
            for (int64_t j = 0; j < sizes[i]; j++)
                wrong += !tg_test_close(g[j], want, 1e-14, 1e-14);
        }
        if (view)
            wrong += !tg_test_close(tg_get(view, (const int64_t[]){0}), world + 1.0, 1e-14, 1e-14);
        for (int i = 0; call > 0 && i + 1 < N; i++)
            apart += (double *)tg_data(grads[i]) != (double *)tg_data(grads[i + 1]) + sizes[i + 1];
        tg_pool_pop(pool);
    }
    CHECK(failures == 0);
    CHECK(wrong == 0);
    CHECK(replaced == 0);
    CHECK(apart == 0);
}

/* Grads of odd sizes in both dtypes, each rank's its own, averaged with
 * several bucket caps: the mean on every rank, the same bits everywhere,
 * and a parameter no rank used left without a grad. */
static void bucket_allreduce_odd_sizes(void) {
    enum { N = 7 };
    const int64_t sizes[N] = {1, 7, 1001, 255, 3, 4097, 5};
    const tg_dtype dtypes[N] = {TG_F32, TG_F64, TG_F64, TG_F32, TG_F32, TG_F64, TG_F32};
    const size_t caps[] = {TG_DIST_DEFAULT_BUCKET_BYTES, 64, 4000, 1};
    int wrong = 0, failures = 0, not_identical = 0;
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        failures += tg_dist_set_bucket_bytes(caps[c]) != 0;
        tg_tensor *params[N];
        for (int i = 0; i < N; i++) {
            params[i] = tg_requires_grad_(tg_zeros(TG_SHAPE(sizes[i]), dtypes[i]), true);
            if (i == 4) continue; /* unused everywhere: no grad */
            double *g = malloc(sizeof(double) * (size_t)sizes[i]);
            for (int64_t j = 0; j < sizes[i]; j++) g[j] = sin((double)(j + 3 * i)) * (rank + 1) / 7;
            tg_tensor *coef = tg_to_dtype(tg_from_data(g, TG_SHAPE(sizes[i]), TG_F64), dtypes[i]);
            failures += tg_backward(tg_sum(tg_mul(params[i], coef)), NULL) != 0;
            free(g);
        }
        failures += tg_dist_allreduce_grads(params, N) != 0;
        not_identical += !same_everywhere(hash_tensors(params, N, true));
        for (int i = 0; i < N; i++) {
            if (i == 4) {
                wrong += tg_grad(params[i]) != NULL;
                continue;
            }
            double *got = malloc(sizeof(double) * (size_t)sizes[i]);
            tg_to_doubles(tg_grad(params[i]), got);
            double mean_factor = (world + 1) / 2.0 / 7, tol = dtypes[i] == TG_F32 ? 1e-6 : 1e-14;
            for (int64_t j = 0; j < sizes[i]; j++) {
                double want = sin((double)(j + 3 * i)) * mean_factor;
                wrong += !tg_test_close(got[j], want, tol, tol);
            }
            free(got);
        }
    }
    tg_dist_set_bucket_bytes(TG_DIST_DEFAULT_BUCKET_BYTES);
    CHECK(failures == 0);
    CHECK(wrong == 0);
    CHECK(not_identical == 0);
}

/* Rank 1's model differs from the others' (a shape, the count of entries,
 * a dtype): every rank fails at the broadcast naming rank 1, and no
 * weight changes anywhere; a broadcast after it works. */
static void differing_models_fail_on_every_rank(void) {
    tg_module *models[3] = {
        tg_linear_new(4, rank == 1 ? 5 : 4, TG_BIAS, TG_F32, NULL),
        tg_linear_new(4, 4, rank == 1 ? TG_NO_BIAS : TG_BIAS, TG_F32, NULL),
        tg_linear_new(4, 4, TG_BIAS, rank == 1 ? TG_F64 : TG_F32, NULL),
    };
    const char *want[3] = {"at state_dict entry 0: 'weight float32 (5, 4)' here, 'weight float32 "
                           "(4, 4)' on rank 0",
                           "rank 1's model has 1 state_dict entries, rank 0's has 2",
                           "at state_dict entry 0: 'weight float64 (4, 4)' here"};
    int wrong = 0;
    for (int i = 0; i < 3; i++) {
        int n;
        tg_tensor *const *p = tg_module_parameter_tensors(models[i], &n);
        uint64_t before = hash_tensors(p, n, false);
        tg_clear_error();
        int rc = tg_dist_broadcast_module(models[i]);
        bool named = strstr(tg_last_error(), want[i]) &&
                     (rank == 1 || strstr(tg_last_error(), "dist_broadcast_module: rank 1 failed"));
        if (rc != -1 || tg_last_status() != TG_ERR_DIST || !named) {
            printf("  rank %d, model %d: %d \"%s\"\n", rank, i, rc, tg_last_error());
            wrong++;
        }
        wrong += hash_tensors(p, n, false) != before;
        tg_module_free(models[i]);
    }
    tg_clear_error();
    tg_module *same = tg_linear_new(3, 2, TG_BIAS, TG_F64, NULL);
    wrong += tg_dist_broadcast_module(same) != 0;
    tg_module_free(same);
    CHECK(wrong == 0);
}

/* The parameter lists differ between the ranks: every rank fails with the
 * same message. */
static void differing_grads_fail_on_every_rank(void) {
    tg_tensor *p[2] = {tg_requires_grad_(tg_ones(TG_SHAPE(3), TG_F32), true),
                       tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F32), true)};
    tg_backward(tg_sum(p[1]), NULL);
    if (rank != 1) tg_backward(tg_sum(p[0]), NULL);
    int wrong = 0;
    struct {
        tg_tensor **params;
        int n;
        const char *text;
    } cases[] = {
        {p, 2, "dist_allreduce_grads: parameter 0 has a grad on some ranks and none on others"},
        {p, rank == 1 ? 1 : 2,
         "dist_allreduce_grads: the ranks pass different numbers of "
         "parameters (1 to 2)"},
        {rank == 1 ? (tg_tensor *[]){NULL} : p + 1, 1, "argument is NULL"},
    };
    for (int c = 0; c < 3; c++) {
        tg_clear_error();
        int rc = tg_dist_allreduce_grads(cases[c].params, cases[c].n);
        if (rc != -1 || !strstr(tg_last_error(), cases[c].text)) {
            printf("  rank %d, case %d: %d \"%s\"\n", rank, c, rc, tg_last_error());
            wrong++;
        }
    }
    tg_clear_error();
    CHECK(wrong == 0);
}

/* After the allreduce, clip_grad_norm_ on each rank sees the averaged
 * grads: the norm of the whole batch's gradient, as one process gets it. */
static void clip_grad_norm_is_global(void) {
    tg_module *single = mlp(TG_F64, 100), *ddp = mlp(TG_F64, 100);
    tg_generator *data = tg_generator_new(11);
    tg_tensor *x = tg_randn(TG_SHAPE(BATCH, 6), TG_F64, data);
    tg_tensor *y = random_classes(data);
    tg_generator_free(data);
    int64_t rows = BATCH / world;
    int n;
    tg_tensor *const *ps = tg_module_parameter_tensors(single, &n);
    tg_tensor *const *pd = tg_module_parameter_tensors(ddp, &n);
    tg_backward(tg_cross_entropy(tg_module_forward(single, x), y, TG_REDUCTION_MEAN), NULL);
    tg_backward(
        tg_cross_entropy(tg_module_forward(ddp, tg_slice(x, 0, rank * rows, (rank + 1) * rows, 1)),
                         tg_slice(y, 0, rank * rows, (rank + 1) * rows, 1), TG_REDUCTION_MEAN),
        NULL);
    double local = tg_clip_grad_norm_(pd, n, 1e9); /* this rank's own norm, not clipped */
    tg_module_zero_grad(ddp, TG_GRAD_TO_NONE);
    tg_backward(
        tg_cross_entropy(tg_module_forward(ddp, tg_slice(x, 0, rank * rows, (rank + 1) * rows, 1)),
                         tg_slice(y, 0, rank * rows, (rank + 1) * rows, 1), TG_REDUCTION_MEAN),
        NULL);
    int rc = tg_dist_allreduce_grads(pd, n);
    double want = tg_clip_grad_norm_(ps, n, 0.05), got = tg_clip_grad_norm_(pd, n, 0.05);
    bool identical = same_everywhere(hash_tensors(pd, n, true));
    double worst = 0;
    for (int i = 0; i < n; i++) {
        int64_t k = tg_numel(ps[i]);
        const double *a = tg_data(tg_grad(ps[i])), *b = tg_data(tg_grad(pd[i]));
        for (int64_t j = 0; j < k; j++) worst = fmax(worst, fabs(a[j] - b[j]));
    }
    tg_module_free(single);
    tg_module_free(ddp);
    CHECK(rc == 0 && identical);
    CHECK_CLOSE(got, want, 1e-12, 0);
    CHECK(fabs(local - want) > 1e-6); /* a rank's own norm is not it */
    CHECK(worst < 1e-14);
}

/* Rank 0 writes the checkpoint; loading reads it on rank 0 and gives
 * every rank its weights; a file rank 0 cannot read fails everywhere. */
static void checkpoint_from_rank_0(void) {
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    char path[64];
    snprintf(path, sizeof path, "/tmp/tg_test_dist_%d.safetensors", pid);
    tg_module *m = mlp(TG_F32, 100 + (uint64_t)rank);
    int n, failures = tg_dist_broadcast_module(m) != 0;
    tg_tensor *const *p = tg_module_parameter_tensors(m, &n);
    uint64_t trained = hash_tensors(p, n, false);
    failures += tg_dist_module_save(m, path) != 0;
    bool written = access(path, F_OK) == 0;
    tg_set_grad_enabled(false);
    for (int i = 0; i < n; i++) tg_fill_(p[i], 0);
    tg_set_grad_enabled(true);
    failures += tg_dist_module_load(m, path) != 0;
    bool restored = hash_tensors(p, n, false) == trained && same_everywhere(trained);
    tg_clear_error();
    int missing = tg_dist_module_load(m, "/nonexistent/model.safetensors");
    bool named = strstr(tg_last_error(), "/nonexistent/model.safetensors") &&
                 (rank == 0 || strstr(tg_last_error(), "dist_module_load: rank 0 failed"));
    tg_clear_error();
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) unlink(path);
    tg_module_free(m);
    CHECK(failures == 0 && written && restored);
    CHECK(missing == -1 && named);
}

/* Before tg_dist_init every function fails; tg_dist_init_comm takes the
 * program's communicator; a second start is refused; finalize leaves MPI
 * to the program that initialised it, and tapegrad starts again. */
static void start_and_stop(void) {
    int wrong = 0;
    wrong += tg_dist_finalize() != 0; /* the main started it: stop, then check */
    tg_clear_error();
    wrong += tg_dist_rank() != -1 || !strstr(tg_last_error(), "tg_dist_init has not been called");
    wrong += tg_dist_allreduce_grads(NULL, 0) != -1 || tg_last_status() != TG_ERR_DIST;
    wrong += tg_dist_broadcast_module(NULL) != -1 || tg_last_status() != TG_ERR_DIST;
    wrong += tg_dist_init_comm(MPI_COMM_WORLD) != 0;
    wrong += tg_dist_rank() != rank || tg_dist_world_size() != world;
    wrong += tg_dist_init(NULL, NULL) != -1 || !strstr(tg_last_error(), "already started");
    wrong += tg_dist_finalize() != 0;
    int initialised = 0;
    MPI_Initialized(&initialised);
    wrong += !initialised;
    wrong += tg_dist_init(NULL, NULL) != 0 || tg_dist_barrier() != 0;
    tg_clear_error();
    CHECK(wrong == 0);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (tg_dist_init_comm(MPI_COMM_WORLD) != 0) {
        printf("tg_dist_init_comm: %s\n0 passed, 1 failed\n", tg_last_error());
        return 1;
    }
    if (world < 2) { /* run alone, not under mpirun */
        printf("skipped: run it with 2 or more ranks (mpirun -np 2 %s)\n", argv[0]);
        tg_dist_finalize();
        MPI_Finalize();
        return 77;
    }
    if (rank == 0) printf("%d ranks\n", world);
    tg_test_combine = failed_on_any_rank;
    tg_test_prints = rank == 0;
    static const tg_test_case cases[] = {
        TG_CASE(start_and_stop),
        TG_CASE(ddp_sgd_momentum_f64),
        TG_CASE(ddp_adam_f64),
        TG_CASE(ddp_adamw_f64),
        TG_CASE(ddp_sgd_momentum_f32),
        TG_CASE(ddp_adam_f32),
        TG_CASE(ddp_adamw_f32),
        TG_CASE(bucket_allreduce_odd_sizes),
        TG_CASE(bucket_allreduce_moves_kept_grads_once),
        TG_CASE(differing_models_fail_on_every_rank),
        TG_CASE(differing_grads_fail_on_every_rank),
        TG_CASE(clip_grad_norm_is_global),
        TG_CASE(checkpoint_from_rank_0),
    };
    int status = tg_test_run(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    tg_dist_finalize();
    MPI_Finalize();
    return status;
}
