/* dist/no_mpi.c - tapegrad/dist.h in a build without MPI: every function
 * exists, so a program compiles and links either way, and fails with one
 * message saying why. */
#include <stdlib.h>

#include "internal/base.h"
#include "tapegrad/dist.h"

static int unavailable(const char *op) {
    tg__error(TG_ERR_DIST, "%s: tapegrad was built without MPI", op);
    return -1;
}

bool tg_dist_available(void) { return false; }
int tg_dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return unavailable("dist_init");
}
int tg_dist_init_from(const void *mpi_comm) {
    (void)mpi_comm;
    return unavailable("dist_init_from");
}
int tg_dist_rank(void) { return unavailable("dist_rank"); }
int tg_dist_world_size(void) { return unavailable("dist_world_size"); }
int tg_dist_finalize(void) { return unavailable("dist_finalize"); }
void tg_dist_abort(int code) { exit(code); }
int tg_dist_barrier(void) { return unavailable("dist_barrier"); }
size_t tg_dist_bucket_bytes(void) { return TG_DIST_DEFAULT_BUCKET_BYTES; }
int tg_dist_set_bucket_bytes(size_t bytes) {
    (void)bytes;
    return unavailable("dist_set_bucket_bytes");
}
int tg_dist_broadcast_module(tg_module *m) {
    (void)m;
    return unavailable("dist_broadcast_module");
}
int tg_dist_allreduce_grads(tg_tensor *const *params, int n) {
    (void)params, (void)n;
    return unavailable("dist_allreduce_grads");
}
int tg_dist_module_save(const tg_module *m, const char *path) {
    (void)m, (void)path;
    return unavailable("dist_module_save");
}
int tg_dist_module_load(tg_module *m, const char *path) {
    (void)m, (void)path;
    return unavailable("dist_module_load");
}
