/* tests/dist_fault.c - a data-parallel job in which rank 1 stops, for
 * tests/check_dist_faults.sh: `kill` (rank 1 is killed by SIGKILL) or
 * `abort` (rank 1 fails, prints why and calls tg_dist_abort) after the
 * first step, while the other ranks go on into the next allreduce, where
 * they would wait for rank 1 forever if nothing ended the job. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (tg_dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "dist_fault: %s\n", tg_last_error());
        return 1;
    }
    int rank = tg_dist_rank();
    tg_tensor *w = tg_requires_grad_(tg_ones(TG_SHAPE(1000), TG_F32), true);
    for (int step = 0;; step++) {
        if (step == 1 && rank == 1) {
            if (strcmp(mode, "kill") == 0) raise(SIGKILL);
            if (tg_module_load_new("/nonexistent/model.safetensors") == NULL) {
                fprintf(stderr, "dist_fault: rank 1: %s\n", tg_last_error());
                tg_dist_abort(3);
            }
        }
        tg_pool *pool = tg_pool_push();
        if (tg_backward(tg_sum(w), NULL) || tg_dist_allreduce_grads(&w, 1)) {
            fprintf(stderr, "dist_fault: rank %d: %s\n", rank, tg_last_error());
            tg_dist_abort(4);
        }
        tg_pool_pop(pool);
    }
}
