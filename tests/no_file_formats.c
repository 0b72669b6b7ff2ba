/* tests/no_file_formats.c - a library built with -Dfile_formats=false (no
 * Jansson or zlib) links, and its saves and loads fail with a message
 * naming what is missing; with MPI (run under mpirun -np 2), so do the
 * rank-0 checkpoints of tapegrad/dist.h, on every rank, after a working
 * allreduce. Built and run by tests/extra_checks.sh nofiles against that
 * library (the suite's own build has file formats). Each rank ends with
 * "N passed, N failed" and exits 1 on a failure. */
#include <stdio.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

static int passed, failed, rank;

static void check(const char *what, int rc) {
    bool ok = rc == -1 && strstr(tg_last_error(), "built without file formats");
    ok ? passed++ : failed++;
    if (!ok) printf("FAIL rank %d: %s returned %d: %s\n", rank, what, rc, tg_last_error());
}

int main(int argc, char **argv) {
    bool dist = tg_dist_available() && tg_dist_init(&argc, &argv) == 0;
    rank = dist ? tg_dist_rank() : 0;
    tg_generator *gen = tg_generator_new(1);
    tg_module *m = tg_linear_new(3, 2, TG_BIAS, TG_F64, gen);
    int n;
    tg_tensor *const *params = tg_module_parameter_tensors(m, &n);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    tg_optimizer *opt = tg_sgd_new(params, n, &o);
    tg_pool *pool = tg_pool_push();
    int step = tg_backward(tg_sum(tg_module_forward(m, tg_ones(TG_SHAPE(4, 3), TG_F64))), NULL);
    tg_pool_pop(pool);
    if (dist) step = step || tg_dist_allreduce_grads(params, n);
    step ? failed++ : passed++;
    check("module_save", tg_module_save(m, "no_file_formats.safetensors"));
    check("module_load", tg_module_load(m, "no_file_formats.safetensors"));
    check("optim_save", tg_optim_save(opt, "no_file_formats.optim"));
    check("save_safetensors", tg_save_safetensors("no_file_formats.safetensors", 0, NULL));
    if (dist) {
        check("dist_module_save", tg_dist_module_save(m, "no_file_formats.safetensors"));
        check("dist_module_load", tg_dist_module_load(m, "no_file_formats.safetensors"));
    }
    tg_optim_free(opt);
    tg_module_free(m);
    tg_generator_free(gen);
    if (dist) tg_dist_finalize();
    if (rank > 0) printf("rank %d: ", rank);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
