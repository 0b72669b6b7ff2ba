/* tapegrad/dist.h - data-parallel training on several processes over MPI,
 * with PyTorch DistributedDataParallel's semantics.
 *
 * Each process (a rank, started by mpirun) holds the whole model and takes
 * its share of every batch. The model's parameters and buffers are
 * broadcast from rank 0 once, at the start; after each backward the
 * gradients are averaged across the ranks; every rank then runs the same
 * optimizer step on the same numbers, so the models stay identical, bit
 * for bit, without ever being sent again:
 *
 *     tg_dist_init(&argc, &argv);                  // MPI_Init, if not done
 *     tg_module *net = ...;                         // the same on every rank
 *     tg_dist_broadcast_module(net);                // rank 0's weights everywhere
 *     for (...) {                                   // batches: tg_loader_new_dist
 *         ... forward on this rank's batch, backward ...
 *         tg_dist_allreduce_grads(params, n);       // the mean over all ranks
 *         tg_optim_step(opt);
 *     }
 *     tg_dist_module_save(net, "model.safetensors"); // written by rank 0 alone
 *     tg_dist_finalize();
 *
 * WITHOUT MPI. The header and every function exist in every build of
 * tapegrad. In a build without MPI (meson option mpi, off or Open MPI not
 * found), tg_dist_available() is false and each function fails with
 * -1, TG_ERR_DIST, and "tapegrad was built without MPI".
 *
 * FAILURES. A function that fails returns -1 with the message in
 * tg_last_error() (TG_ERR_DIST for the causes this header names), and on every rank when the
 * cause is collective (models that differ, a gradient missing on one
 * rank): the ranks agree before any data moves, so none is left waiting.
 * A rank that stops (an error of its own, a crash, a kill) while the
 * others wait in a collective call cannot be detected from inside MPI:
 * mpirun ends the whole job when a rank dies, and a program that gives up
 * on an error should call tg_dist_abort() so the others do not wait for
 * it. Every function but tg_dist_available() fails before tg_dist_init.
 *
 * THREADS. Call these functions from the thread that called tg_dist_init
 * (MPI_THREAD_FUNNELED); tapegrad's own threads never call MPI. */
#ifndef TAPEGRAD_DIST_H
#define TAPEGRAD_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "tapegrad/nn.h"
#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* True when this build of tapegrad has MPI (the other functions work). */
TG_API bool tg_dist_available(void);

/* Starts: MPI_Init_thread (MPI_THREAD_FUNNELED) unless MPI is initialised
 * already, then a communicator of tapegrad's own over MPI_COMM_WORLD's
 * ranks (a duplicate, so tapegrad's messages never meet the program's).
 * argc and argv may be NULL. Fails if already started. */
TG_API int tg_dist_init(int *argc, char ***argv);
/* The same within a program that runs MPI itself: tapegrad works on a
 * duplicate of the communicator *mpi_comm points to (an MPI_Comm, which
 * the caller keeps; see tg_dist_init_comm). MPI must be initialised. */
TG_API int tg_dist_init_from(const void *mpi_comm);
#ifdef MPI_VERSION /* the program included <mpi.h> first */
static inline int tg_dist_init_comm(MPI_Comm comm) { return tg_dist_init_from(&comm); }
#endif

/* This process's rank (0 .. world size - 1), and the number of ranks;
 * -1 (with an error) before tg_dist_init. */
TG_API int tg_dist_rank(void);
TG_API int tg_dist_world_size(void);

/* Frees tapegrad's communicator and, if tg_dist_init initialised MPI,
 * finalises it (a program that initialised MPI itself finalises it). */
TG_API int tg_dist_finalize(void);

/* Ends every rank of the job at once (MPI_Abort) with the exit status
 * code: what a rank that cannot go on should do, so that no other waits
 * for it forever. Before tg_dist_init (or without MPI) it calls exit(code). */
TG_API void tg_dist_abort(int code);

/* Waits until every rank calls it (MPI_Barrier). */
TG_API int tg_dist_barrier(void);

/* Copies rank 0's parameters and buffers (the state_dict) into m on every
 * rank, as DDP does when it is constructed. The ranks first compare their
 * models' descriptions (each state_dict entry's name, dtype and shape): if
 * any rank's differs from rank 0's, every rank fails with a message naming
 * the first rank that differs, and on that rank the entry, and no tensor
 * changes. */
TG_API int tg_dist_broadcast_module(tg_module *m);

/* Averages the .grad of n parameters across the ranks (the sum over the
 * ranks times 1 / world size, as DDP computes it), in place. The grads
 * travel in flat buckets of at most tg_dist_bucket_bytes() bytes each,
 * filled from the last parameter to the first (the order backward makes
 * them), one dtype per bucket; a grad larger than the cap travels alone.
 * The grads of a bucket move, on the first call that finds them apart,
 * into one storage of the bucket's, one after another (each stays the
 * same tensor, as DDP's gradient_as_bucket_view): grads kept between steps
 * (TG_GRAD_TO_ZERO) are then averaged where they lie, with no copy. A grad
 * whose storage other tensors view too stays where it is, and they see
 * the average.
 * Every rank must pass the same parameters in the same order (the model's,
 * as tg_module_parameter_tensors gives them). A parameter whose grad is
 * NULL on every rank (not used in the forward) is left NULL; one whose
 * grad is NULL on some ranks only makes every rank fail, naming it. Every
 * rank gets the same bits. */
TG_API int tg_dist_allreduce_grads(tg_tensor *const *params, int n);

/* The bucket cap of tg_dist_allreduce_grads: 25 MiB by default, as DDP's
 * bucket_cap_mb; set it (>= 1 byte) the same on every rank. */
#define TG_DIST_DEFAULT_BUCKET_BYTES ((size_t)25 << 20)
TG_API size_t tg_dist_bucket_bytes(void);
TG_API int tg_dist_set_bucket_bytes(size_t bytes);

/* Checkpoints. tg_dist_module_save writes m on rank 0 alone
 * (tg_module_save), and every rank returns rank 0's result: 0, or -1 with
 * rank 0's message. tg_dist_module_load reads path on rank 0 alone
 * (tg_module_load) and broadcasts the result to every rank, so the file
 * needs to be on rank 0's machine only; every rank fails if rank 0 fails.
 * Both are collective: every rank calls them. */
TG_API int tg_dist_module_save(const tg_module *m, const char *path);
TG_API int tg_dist_module_load(tg_module *m, const char *path);

#ifdef __cplusplus
}
#endif

#endif
