/* data/loader.c - batches of a data set held in tensors (tapegrad/loader.h):
 * an order per epoch, and each batch gathered with index_select. */
#include <stdlib.h>
#include <string.h>

#include "internal/tensor.h"
#include "tapegrad/loader.h"
#include "tapegrad/ops.h"
#include "tapegrad/shape.h"

struct tg_loader {
    int n;
    tg_tensor *tensors[TG_LOADER_MAX_TENSORS]; /* references the loader owns */
    int64_t samples, batch_size;
    tg_order order;
    tg_last_batch last;
    tg_generator *gen;
    bool distributed; /* made by tg_loader_new_dist: orders come from dist */
    tg_dist_sampler dist;
    int64_t epoch;          /* the next epoch's number, for the sampler's seed */
    tg_tensor *epoch_order; /* int64 sample indices of this epoch; NULL between epochs */
    int64_t at;             /* the next batch's first position in epoch_order */
    bool sampler_done;      /* the epoch's closing draws are taken (see sampler_end) */
};

/* A loader after checking the arguments both constructors share; op names
 * the caller in errors. */
static tg_loader *make_loader(const char *op, int n, tg_tensor *const *tensors, int64_t batch_size,
                              tg_order order, tg_last_batch last) {
    if (n < 1 || n > TG_LOADER_MAX_TENSORS) {
        tg__error(TG_ERR_VALUE, "%s: %d tensors (1 to %d)", op, n, TG_LOADER_MAX_TENSORS);
        return NULL;
    }
    if (!tensors) {
        tg__null_arg(op);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (!tensors[i]) {
            tg__null_arg(op);
            return NULL;
        }
        if (tensors[i]->ndim == 0) {
            tg__error(TG_ERR_SHAPE, "%s: tensor %d is 0-dim; samples are indexed by dim 0", op, i);
            return NULL;
        }
        if (tensors[i]->shape[0] != tensors[0]->shape[0]) {
            tg__error(TG_ERR_SHAPE, "%s: tensor %d has %lld samples, tensor 0 has %lld", op, i,
                      (long long)tensors[i]->shape[0], (long long)tensors[0]->shape[0]);
            return NULL;
        }
    }
    if (batch_size < 1) {
        tg__error(TG_ERR_VALUE, "%s: batch_size should be a positive integer, got %lld", op,
                  (long long)batch_size);
        return NULL;
    }
    if ((order != TG_IN_ORDER && order != TG_SHUFFLE) ||
        (last != TG_KEEP_LAST && last != TG_DROP_LAST)) {
        tg__error(TG_ERR_VALUE, "%s: invalid order %d or last-batch rule %d", op, (int)order,
                  (int)last);
        return NULL;
    }
    tg_loader *l = tg__alloc(sizeof *l, op);
    if (!l) return NULL;
    *l = (tg_loader){.n = n,
                     .samples = tensors[0]->shape[0],
                     .batch_size = batch_size,
                     .order = order,
                     .last = last};
    for (int i = 0; i < n; i++) l->tensors[i] = tg_retain(tensors[i]);
    return l;
}

tg_loader *tg_loader_new(int n, tg_tensor *const *tensors, int64_t batch_size, tg_order order,
                         tg_last_batch last, tg_generator *gen) {
    tg_loader *l = make_loader("loader_new", n, tensors, batch_size, order, last);
    if (l) l->gen = gen;
    return l;
}

/* This rank's samples per epoch: DistributedSampler's num_samples. */
static int64_t dist_share(const tg_dist_sampler *s, int64_t samples) {
    return s->last == TG_DROP_LAST ? samples / s->world_size
                                   : (samples + s->world_size - 1) / s->world_size;
}

static bool check_sampler(const char *op, const tg_dist_sampler *s) {
    if (!s) {
        tg__null_arg(op);
        return false;
    }
    if (s->world_size < 1 || s->rank < 0 || s->rank >= s->world_size) {
        tg__error(TG_ERR_VALUE,
                  "%s: invalid rank %d in a world of %d ranks (rank should be in [0, %d])", op,
                  s->rank, s->world_size, s->world_size - 1);
        return false;
    }
    if ((s->order != TG_IN_ORDER && s->order != TG_SHUFFLE) ||
        (s->last != TG_KEEP_LAST && s->last != TG_DROP_LAST)) {
        tg__error(TG_ERR_VALUE, "%s: invalid order %d or last-batch rule %d", op, (int)s->order,
                  (int)s->last);
        return false;
    }
    return true;
}

tg_tensor *tg_dist_sampler_indices(const tg_dist_sampler *s, int64_t samples, int64_t epoch) {
    const char *op = "dist_sampler_indices";
    if (!check_sampler(op, s)) return NULL;
    if (samples < 0) {
        tg__error(TG_ERR_VALUE, "%s: %lld samples", op, (long long)samples);
        return NULL;
    }
    tg_generator *gen = NULL;
    if (s->order == TG_SHUFFLE && !(gen = tg_generator_new(s->seed + (uint64_t)epoch)))
        return NULL;                /* the generator of manual_seed(seed + epoch) */
    tg_pool *pool = tg_pool_push(); /* the whole order; the share is kept */
    tg_tensor *order = !pool ? NULL
                       : gen ? tg_randperm(samples, gen)
                             : tg_arange(0, (double)samples, 1, TG_I64);
    tg_generator_free(gen);
    int64_t share = dist_share(s, samples);
    tg_tensor *mine = order ? tg__new_owned(op, 1, (int64_t[]){share}, TG_I64) : NULL;
    if (mine) {
        const int64_t *all = tg__ptr(order);
        int64_t *out = tg__ptr(mine);
        /* position rank + i * world_size of the order, padded by wrapping round */
        for (int64_t i = 0; i < share; i++) out[i] = all[(s->rank + i * s->world_size) % samples];
    }
    tg_pool_pop(pool);
    return mine ? tg__autorelease(mine) : NULL;
}

tg_loader *tg_loader_new_dist(int n, tg_tensor *const *tensors, int64_t batch_size,
                              tg_last_batch last, const tg_dist_sampler *sampler) {
    const char *op = "loader_new_dist";
    if (!check_sampler(op, sampler)) return NULL;
    tg_loader *l = make_loader(op, n, tensors, batch_size, TG_IN_ORDER, last);
    if (!l) return NULL;
    l->distributed = true;
    l->dist = *sampler;
    l->samples = dist_share(sampler, tensors[0]->shape[0]);
    return l;
}

int tg_loader_set_epoch(tg_loader *l, int64_t epoch) {
    const char *op = "loader_set_epoch";
    if (!l) {
        tg__null_arg(op);
        return -1;
    }
    if (!l->distributed || l->epoch_order) {
        tg__error(TG_ERR_VALUE, "%s: %s", op,
                  !l->distributed ? "the loader has no distributed sampler (tg_loader_new_dist)"
                                  : "an epoch is under way; set the epoch before its first batch");
        return -1;
    }
    l->epoch = epoch;
    return 0;
}

void tg_loader_free(tg_loader *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) tg_release(l->tensors[i]);
    tg_release(l->epoch_order);
    tg__free(l);
}

int64_t tg_loader_batches(const tg_loader *l) {
    if (!l) return 0;
    return l->last == TG_DROP_LAST ? l->samples / l->batch_size
                                   : (l->samples + l->batch_size - 1) / l->batch_size;
}

int64_t tg_loader_samples(const tg_loader *l) { return l ? l->samples : 0; }

/* The order of a new epoch, owned by the loader, drawn as DataLoader
 * draws it: its iterator takes a base seed for workers from the generator
 * whether it shuffles or not (one 64-bit draw), then the sampler's randperm
 * or 0 .. n-1. A distributed loader's order is its sampler's alone. */
static bool start_epoch(tg_loader *l) {
    tg_pool *pool = tg_pool_push();
    if (!pool) return false;
    tg_tensor *order;
    if (l->distributed) {
        order = tg_dist_sampler_indices(&l->dist, l->tensors[0]->shape[0], l->epoch);
        if (order) l->epoch++;
    } else {
        (void)tg__random64(tg__generator(l->gen));
        order = l->order == TG_SHUFFLE ? tg_randperm(l->samples, l->gen)
                                       : tg_arange(0, (double)l->samples, 1, TG_I64);
    }
    l->epoch_order = tg_retain(order);
    l->at = 0;
    l->sampler_done = false;
    tg_pool_pop(pool);
    return order != NULL;
}

/* PyTorch's RandomSampler, run to its end, computes one more randperm(n)
 * and keeps none of it; the generator moves on by its n - 1 draws. That
 * happens when the batch sampler asks for the sample after the last: while
 * it fills the last, partial batch, or else when the epoch ends. */
static void sampler_end(tg_loader *l) {
    if (l->sampler_done) return;
    l->sampler_done = true;
    if (l->order == TG_SHUFFLE && l->samples > 1)
        tg__skip_draws(tg__generator(l->gen), (uint64_t)l->samples - 1);
}

int tg_loader_next(tg_loader *l, tg_tensor **batch) {
    if (!l || !batch) {
        tg__null_arg("loader_next");
        return -1;
    }
    if (!l->epoch_order && !start_epoch(l)) return -1;
    int64_t left = l->samples - l->at;
    int64_t size = left < l->batch_size ? left : l->batch_size;
    if (size < l->batch_size) sampler_end(l); /* a partial batch looked past the end */
    if (size == 0 || (size < l->batch_size && l->last == TG_DROP_LAST)) {
        sampler_end(l);
        tg_release(l->epoch_order);
        l->epoch_order = NULL;
        return 0;
    }
    tg_pool *pool = tg_pool_push(); /* the index view; the batches are kept */
    if (!pool) return -1;
    tg_tensor *picks = tg_slice(l->epoch_order, 0, l->at, l->at + size, 1);
    tg_tensor *made[TG_LOADER_MAX_TENSORS] = {0};
    bool ok = picks != NULL;
    for (int i = 0; ok && i < l->n; i++)
        ok = (made[i] = tg_retain(tg_index_select(tg_detach(l->tensors[i]), 0, picks))) != NULL;
    tg_pool_pop(pool);
    if (!ok) {
        for (int i = 0; i < l->n; i++) tg_release(made[i]);
        return -1;
    }
    l->at += size;
    for (int i = 0; i < l->n; i++) ok = (batch[i] = tg__autorelease(made[i])) && ok;
    return ok ? 1 : -1; /* the pool refused one (out of memory) */
}
