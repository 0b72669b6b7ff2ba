/* tests/bench/bench_ddp.c - data-parallel scaling of bench_ffn's training
 * step (SwiGLU FeedForward: forward, MSE, backward, AdamW), under mpirun:
 *
 *     mpirun -np 2 build/tests/bench/bench_ddp [--budget SECONDS] [WORKLOAD...]
 *
 * For each workload (bench_ffn's; medium and large unless named), in the
 * same run:
 *   1. rank 0 alone steps on the whole batch B (the other ranks sleep);
 *   2. every rank steps on its B / R rows, then tg_dist_allreduce_grads;
 *   3. the gradients' bytes averaged by tg_dist_allreduce_grads alone, and
 *      the same bytes by one bare MPI_Allreduce (in place, MPI_SUM).
 * It prints the median times, the scaling efficiency (time of 1 rank on B
 * / time of R ranks on B / R, divided by R) and the allreduce bandwidth
 * (bytes per rank / time) of both. One thread per rank. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"
#include "ffn_model.h"

static int rank, world;
static double budget_s = 3.0;

/* bench_ffn's model, and what the step hands to the allreduce. */
typedef struct ddp_model {
    model m;
    tg_tensor *const *params;
    int n_params;
    bool distributed;
} ddp_model;

static int train_step(void *ctx) {
    ddp_model *d = ctx;
    model *m = &d->m;
    tg_pool *pool = tg_pool_push();
    tg_tensor *loss = tg_mse_loss(tg_module_forward(m->ffn, m->x), m->target, TG_REDUCTION_MEAN);
    int rc = loss && tg_backward(loss, NULL) == 0 &&
                     (!d->distributed || tg_dist_allreduce_grads(d->params, d->n_params) == 0) &&
                     tg_optim_step(m->opt) == 0
                 ? 0
                 : -1;
    tg_optim_zero_grad(m->opt, TG_GRAD_TO_ZERO);
    tg_pool_pop(pool);
    if (rc) fprintf(stderr, "bench_ddp: rank %d: step failed: %s\n", rank, tg_last_error());
    return rc;
}

static bool ddp_model_init(ddp_model *d, const workload *w, int64_t first, int64_t rows,
                           bool distributed) {
    if (!model_init(&d->m, w, first, rows)) return false;
    d->params = tg_module_parameter_tensors(d->m.ffn, &d->n_params);
    d->distributed = distributed;
    return true;
}

/* Waits for rank 0 without taking a core from it (MPI's own waits spin). */
static void sleep_until_rank_0_is_done(void) {
    MPI_Request done;
    MPI_Ibarrier(MPI_COMM_WORLD, &done);
    for (int flag = 0;;) {
        MPI_Test(&done, &flag, MPI_STATUS_IGNORE);
        if (flag) return;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

static double one_rank_on_b(const workload *w) {
    double median = 0;
    if (rank == 0) {
        ddp_model d = {0};
        if (ddp_model_init(&d, w, 0, w->batch, false))
            median = time_runs(train_step, &d, budget_s, 0).median_s;
        model_free(&d.m);
        MPI_Request done; /* a blocking barrier would not match the others' */
        MPI_Ibarrier(MPI_COMM_WORLD, &done);
        MPI_Wait(&done, MPI_STATUS_IGNORE);
    } else {
        sleep_until_rank_0_is_done();
    }
    return median;
}

/* The median step of R ranks on B / R rows each. Every rank must take as
 * many steps (each allreduces): rank 0 picks the count from its first. */
static double ranks_on_b_over_r(const workload *w, ddp_model *m) {
    int64_t rows = w->batch / world;
    if (!ddp_model_init(m, w, rank * rows, rows, true)) return 0;
    for (int i = 0; i < 3; i++) train_step(m);
    double t0 = now_s();
    for (int i = 0; i < 3; i++) train_step(m);
    long steps = (long)(budget_s / ((now_s() - t0) / 3));
    MPI_Bcast(&steps, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    timing t = time_runs(train_step, m, 0, steps < 5 ? 5 : steps);
    return t.median_s;
}

typedef struct allreduce_ctx {
    ddp_model *m;
    float *flat;
    int64_t count;
} allreduce_ctx;

static int bucketed(void *ctx) {
    allreduce_ctx *a = ctx;
    return tg_dist_allreduce_grads(a->m->params, a->m->n_params);
}

static int bare(void *ctx) {
    allreduce_ctx *a = ctx;
    return MPI_Allreduce(MPI_IN_PLACE, a->flat, (int)a->count, MPI_FLOAT, MPI_SUM,
                         MPI_COMM_WORLD) == MPI_SUCCESS
               ? 0
               : -1;
}

static void run(const workload *w) {
    double single = one_rank_on_b(w);
    ddp_model m = {0};
    double split = ranks_on_b_over_r(w, &m);
    /* the grads stay from the last step (zeroed, same sizes): average them alone */
    allreduce_ctx a = {.m = &m};
    for (int i = 0; i < m.n_params; i++) a.count += tg_numel(m.params[i]);
    a.flat = calloc((size_t)a.count, sizeof(float));
    for (int i = 0; i < m.n_params; i++)
        tg_backward(tg_sum(tg_mul(m.params[i], m.params[i])), NULL);
    long runs = (long)(budget_s * 20);
    timing tb = time_runs(bucketed, &a, 0, runs), tm = time_runs(bare, &a, 0, runs);
    double mb = (double)a.count * 4 / 1e6;
    if (rank == 0) {
        printf("%-6s B=%lld: 1 rank on B %.2f ms; %d ranks on B/%d %.2f ms; scaling efficiency "
               "%.1f%%\n",
               w->name, (long long)w->batch, single * 1e3, world, world, split * 1e3,
               100 * single / split / world);
        printf("       allreduce of %.1f MB: bucketed %.2f ms (%.2f GB/s), bare MPI_Allreduce "
               "%.2f ms (%.2f GB/s): bucketed at %.1f%% of bare\n",
               mb, tb.median_s * 1e3, mb / 1e3 / tb.median_s, tm.median_s * 1e3,
               mb / 1e3 / tm.median_s, 100 * tm.median_s / tb.median_s);
        printf("       allreduce share of the %d-rank step: %.1f%%\n", world,
               100 * tb.median_s / split);
    }
    free(a.flat);
    model_free(&m.m);
}

int main(int argc, char **argv) {
    if (tg_dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "bench_ddp: %s\n", tg_last_error());
        return 1;
    }
    rank = tg_dist_rank();
    world = tg_dist_world_size();
    tg_set_num_threads(1);
    bool chosen[N_WORKLOADS] = {false}, any = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
            budget_s = atof(argv[++i]);
            continue;
        }
        for (int k = 0; k < N_WORKLOADS; k++)
            if (strcmp(argv[i], workloads[k].name) == 0) chosen[k] = any = true;
    }
    if (rank == 0)
        printf("bench_ddp: %d ranks x 1 thread, tg_matmul_backend %s, bucket cap %zu bytes\n",
               world, tg_matmul_backend(), tg_dist_bucket_bytes());
    for (int k = 0; k < N_WORKLOADS; k++) /* medium and large unless others are named */
        if (any ? chosen[k] : k >= 2) run(&workloads[k]);
    tg_dist_finalize();
    return 0;
}
