/* tapegrad/loader.h - batches from a data set held in tensors, as PyTorch's
 * DataLoader over a TensorDataset gives them.
 *
 * A data set is n tensors whose first dimension indexes samples (images
 * and their labels, say), all with the same number of samples. A loader
 * walks it in batches: in order, or in a new random order each epoch; the
 * last batch is partial unless drop_last drops it.
 *
 * ORDER. Each epoch first takes one 64-bit draw from the generator (as
 * DataLoader's iterator does, for its workers' seeds, shuffling or not),
 * then with TG_SHUFFLE torch.randperm(n) from it, as DataLoader(shuffle=True,
 * generator=g) with no workers does: for the same seed the batches hold the
 * same samples in the same order as PyTorch's, and the generator is left in
 * the same state (PyTorch's sampler also draws, and drops, one more
 * permutation as it reaches the end of each epoch; so does the loader).
 *
 * OWNERSHIP. The loader keeps a reference to each tensor it is given (the
 * caller keeps theirs) and to its generator pointer (which must outlive
 * it; NULL means the thread's default generator). Each batch tensor is
 * new, contiguous, and goes to the innermost pool (tapegrad/tensor.h): pop
 * a pool each step and batches never pile up. Batches never require grad. */
#ifndef TAPEGRAD_LOADER_H
#define TAPEGRAD_LOADER_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Keep the last batch short (TG_KEEP_LAST) or drop it (drop_last=True). */
typedef enum tg_last_batch { TG_KEEP_LAST = 0, TG_DROP_LAST = 1 } tg_last_batch;
/* The order of samples within an epoch: as stored, or shuffled. */
typedef enum tg_order { TG_IN_ORDER = 0, TG_SHUFFLE = 1 } tg_order;

typedef struct tg_loader tg_loader;

/* A loader over n tensors (1 <= n <= TG_LOADER_MAX_TENSORS) of one sample
 * count, any dtypes, in batches of batch_size (>= 1). NULL, with a message
 * naming the problem, on bad arguments or out of memory. */
#define TG_LOADER_MAX_TENSORS 8
TG_API tg_loader *tg_loader_new(int n, tg_tensor *const *tensors, int64_t batch_size,
                                tg_order order, tg_last_batch last, tg_generator *gen);
TG_API void tg_loader_free(tg_loader *loader);

/* The next batch of the epoch: batch[i] receives the batch of tensors[i].
 * Returns 1 with a batch, 0 when the epoch is over (batch untouched), -1 on
 * error. The call after an epoch's 0 starts the next epoch (and, with
 * TG_SHUFFLE, draws its order), so
 *
 *     for (int epoch = 0; epoch < epochs; epoch++)
 *         while (tg_loader_next(loader, batch) == 1) { ... }
 */
TG_API int tg_loader_next(tg_loader *loader, tg_tensor **batch);

/* Batches per epoch (len(DataLoader)), and samples. */
TG_API int64_t tg_loader_batches(const tg_loader *loader);
TG_API int64_t tg_loader_samples(const tg_loader *loader);

/* ---- Each rank's share: PyTorch's DistributedSampler ---------------------------------
 * For data-parallel training (tapegrad/dist.h) each of world_size ranks
 * takes its share of every epoch's order. The order is the same on every
 * rank: 0 .. n-1, or with TG_SHUFFLE torch.randperm(n) drawn from a
 * generator seeded with seed + epoch (no other generator is touched). It
 * is then made a multiple of world_size long, as DistributedSampler does:
 * with TG_KEEP_LAST by repeating its start (every rank gets ceil(n /
 * world_size) samples, a few seen twice per epoch), with TG_DROP_LAST by
 * cutting its end (n / world_size each, rounded down). Rank r takes the
 * positions r, r + world_size, r + 2 world_size, ... */
typedef struct tg_dist_sampler {
    int world_size;     /* >= 1 */
    int rank;           /* 0 .. world_size - 1 */
    tg_order order;     /* shuffle=True is TG_SHUFFLE */
    uint64_t seed;      /* the same on every rank */
    tg_last_batch last; /* drop_last=True is TG_DROP_LAST */
} tg_dist_sampler;

/* The sample indices of rank s->rank for epoch (int64, new, pooled):
 * list(DistributedSampler(range(samples), s->world_size, s->rank,
 * shuffle, seed, drop_last)) after set_epoch(epoch). */
TG_API tg_tensor *tg_dist_sampler_indices(const tg_dist_sampler *s, int64_t samples, int64_t epoch);

/* A loader over this rank's share only: DataLoader(dataset, batch_size,
 * sampler=DistributedSampler(...), drop_last=last == TG_DROP_LAST). Its
 * first epoch is epoch 0, and each epoch after it the next one, as
 * calling the sampler's set_epoch at the start of every epoch (as
 * PyTorch asks) does; tg_loader_samples gives this rank's share. */
TG_API tg_loader *tg_loader_new_dist(int n, tg_tensor *const *tensors, int64_t batch_size,
                                     tg_last_batch last, const tg_dist_sampler *sampler);
/* Makes the next epoch that starts epoch number `epoch` (set_epoch; to
 * resume). Fails on a loader made by tg_loader_new, or mid-epoch. */
TG_API int tg_loader_set_epoch(tg_loader *loader, int64_t epoch);

#ifdef __cplusplus
}
#endif

#endif
