/* dist/mpi.c - data-parallel training over MPI (tapegrad/dist.h): start and
 * stop, agreeing before data moves, broadcasting a module, averaging grads
 * in buckets, rank-0 checkpoints.
 *
 * Every collective function first checks its arguments on each rank and
 * then agrees (agree()): a rank that cannot take part says so in a
 * collective every rank enters, and every rank fails with its message. So
 * a bad argument on one rank is an error on all, never a rank left waiting
 * in a collective that the failing one never enters. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/tensor.h"
#include "tapegrad/dist.h"

static struct {
    bool started;
    bool initialised_mpi; /* tg_dist_init called MPI_Init_thread: finalize ends MPI */
    MPI_Comm comm;        /* tapegrad's own duplicate */
    int rank, size;
    size_t bucket_bytes;
    void *bucket; /* the flat buffer of a bucket, grown as needed */
    size_t bucket_capacity;
} dist = {.bucket_bytes = TG_DIST_DEFAULT_BUCKET_BYTES};

/* The largest count one MPI call is given (counts are int). */
#define MAX_CHUNK ((size_t)1 << 30)

bool tg_dist_available(void) { return true; }

static int mpi_error(const char *op, int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "code %d", code);
    tg__error(TG_ERR_DIST, "%s: MPI failed: %s", op, text);
    return -1;
}

static bool started(const char *op) {
    if (!dist.started) tg__error(TG_ERR_DIST, "%s: tg_dist_init has not been called", op);
    return dist.started;
}

/* Takes a duplicate of comm, which errors return from rather than abort. */
static int start(const char *op, MPI_Comm comm) {
    int rc = MPI_Comm_dup(comm, &dist.comm);
    if (rc != MPI_SUCCESS) return mpi_error(op, rc);
    MPI_Comm_set_errhandler(dist.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(dist.comm, &dist.rank);
    MPI_Comm_size(dist.comm, &dist.size);
    dist.started = true;
    return 0;
}

/* MPI is up and not yet finalised, and tapegrad not started. */
static bool can_start(const char *op, bool need_initialised) {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (dist.started)
        tg__error(TG_ERR_DIST, "%s: already started (tg_dist_finalize first)", op);
    else if (finalised)
        tg__error(TG_ERR_DIST, "%s: MPI has been finalised", op);
    else if (need_initialised && !initialised)
        tg__error(TG_ERR_DIST, "%s: MPI is not initialised (MPI_Init first, or tg_dist_init)", op);
    return !dist.started && !finalised && (initialised || !need_initialised);
}

int tg_dist_init(int *argc, char ***argv) {
    const char *op = "dist_init";
    if (!can_start(op, false)) return -1;
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
        int provided = 0;
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return mpi_error(op, rc);
        dist.initialised_mpi = true;
    }
    return start(op, MPI_COMM_WORLD);
}

int tg_dist_init_from(const void *mpi_comm) {
    const char *op = "dist_init_from";
    if (!mpi_comm) {
        tg__null_arg(op);
        return -1;
    }
    if (!can_start(op, true)) return -1;
    return start(op, *(const MPI_Comm *)mpi_comm);
}

int tg_dist_rank(void) { return started("dist_rank") ? dist.rank : -1; }

int tg_dist_world_size(void) { return started("dist_world_size") ? dist.size : -1; }

int tg_dist_finalize(void) {
    if (!started("dist_finalize")) return -1;
    MPI_Comm_free(&dist.comm);
    tg__free(dist.bucket);
    bool finalise = dist.initialised_mpi;
    dist.started = dist.initialised_mpi = false;
    dist.bucket = NULL;
    dist.bucket_capacity = 0;
    if (finalise) {
        int rc = MPI_Finalize();
        if (rc != MPI_SUCCESS) return mpi_error("dist_finalize", rc);
    }
    return 0;
}

void tg_dist_abort(int code) {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (initialised && !finalised) MPI_Abort(dist.started ? dist.comm : MPI_COMM_WORLD, code);
    exit(code);
}

int tg_dist_barrier(void) {
    if (!started("dist_barrier")) return -1;
    int rc = MPI_Barrier(dist.comm);
    return rc == MPI_SUCCESS ? 0 : mpi_error("dist_barrier", rc);
}

size_t tg_dist_bucket_bytes(void) { return dist.bucket_bytes; }

int tg_dist_set_bucket_bytes(size_t bytes) {
    if (bytes < 1) {
        tg__error(TG_ERR_VALUE, "dist_set_bucket_bytes: the cap must be at least 1 byte");
        return -1;
    }
    dist.bucket_bytes = bytes;
    return 0;
}

/* ---- Agreeing -------------------------------------------------------------------- */

/* After the ranks have found that rank first failed: every rank returns
 * -1 with its message (that rank keeps its own). Collective. */
static int share_failure(const char *op, int first) {
    char message[512] = {0};
    if (first == dist.rank) snprintf(message, sizeof message, "%s", tg_last_error());
    int rc = MPI_Bcast(message, sizeof message, MPI_CHAR, first, dist.comm);
    if (rc != MPI_SUCCESS) return mpi_error(op, rc);
    if (first != dist.rank) {
        message[sizeof message - 1] = 0;
        tg__error(TG_ERR_DIST, "%s: rank %d failed: %s", op, first, message);
    }
    return -1;
}

/* Every rank passes its own verdict (0, or -1 with its error set); all
 * return 0 if every rank passed 0, else -1 with the message of the lowest
 * failing rank (that rank keeps its own). Collective. */
static int agree(const char *op, int verdict) {
    int mine = verdict == 0 ? INT_MAX : dist.rank, first = INT_MAX;
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, dist.comm);
    if (rc != MPI_SUCCESS) return mpi_error(op, rc);
    return first == INT_MAX ? 0 : share_failure(op, first);
}

/* Broadcasts size bytes at data from rank root, in chunks MPI can count. */
static int broadcast_bytes(const char *op, void *data, size_t size, int root) {
    for (size_t at = 0; at < size; at += MAX_CHUNK) {
        size_t chunk = size - at < MAX_CHUNK ? size - at : MAX_CHUNK;
        int rc = MPI_Bcast((char *)data + at, (int)chunk, MPI_BYTE, root, dist.comm);
        if (rc != MPI_SUCCESS) return mpi_error(op, rc);
    }
    return 0;
}

/* ---- Broadcasting a module ------------------------------------------------------- */

/* The description of a state_dict: a line "name dtype (shape)" per entry,
 * malloc'ed (NULL with an error when out of memory or a tensor is not
 * contiguous, which the broadcast needs). */
static char *describe(const char *op, const tg_named_tensor *entries, int n) {
    size_t size = 1, used = 0;
    for (int i = 0; i < n; i++) size += strlen(entries[i].name) + 32 + 24 * TG_MAX_DIMS;
    char *text = malloc(size);
    if (!text) {
        tg__error(TG_ERR_NOMEM, "%s: out of memory", op);
        return NULL;
    }
    text[0] = 0;
    for (int i = 0; i < n; i++) {
        const tg_tensor *t = entries[i].tensor;
        if (!tg_is_contiguous(t)) {
            tg__error(TG_ERR_DIST, "%s: '%s' is not contiguous", op, entries[i].name);
            free(text);
            return NULL;
        }
        char shape[24 * TG_MAX_DIMS];
        used += (size_t)snprintf(text + used, size - used, "%s %s %s\n", entries[i].name,
                                 tg_dtype_name(t->dtype),
                                 tg__shape_str(shape, sizeof shape, t->ndim, t->shape));
    }
    return text;
}

/* The first line where mine and root's differ, for the message. */
static void name_difference(const char *op, const char *mine, const char *roots) {
    int line = 0;
    while (*mine && *roots) {
        size_t a = strcspn(mine, "\n"), b = strcspn(roots, "\n");
        if (a != b || memcmp(mine, roots, a) != 0) {
            tg__error(TG_ERR_DIST,
                      "%s: rank %d's model differs from rank 0's at state_dict entry %d: '%.*s' "
                      "here, '%.*s' on rank 0",
                      op, dist.rank, line, (int)a, mine, (int)b, roots);
            return;
        }
        mine += a + 1, roots += b + 1, line++;
    }
    int left_mine = 0, left_roots = 0;
    for (; *mine; mine++) left_mine += *mine == '\n';
    for (; *roots; roots++) left_roots += *roots == '\n';
    tg__error(TG_ERR_DIST, "%s: rank %d's model has %d state_dict entries, rank 0's has %d", op,
              dist.rank, line + left_mine, line + left_roots);
}

/* Every rank compares its description (NULL: it failed, its error set)
 * with rank 0's; all return 0 if every one matches, else -1 with the
 * message of the first rank that differs or failed. Collective. */
static int agree_with_root(const char *op, const char *mine) {
    long long length = dist.rank == 0 && mine ? (long long)strlen(mine) + 1 : 0;
    int rc = MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, dist.comm);
    if (rc != MPI_SUCCESS) return mpi_error(op, rc);
    char *roots = dist.rank == 0 ? (char *)mine : length > 0 ? malloc((size_t)length) : NULL;
    int verdict = mine ? 0 : -1;
    if (!verdict && !roots) verdict = (tg__error(TG_ERR_NOMEM, "%s: out of memory", op), -1);
    if (agree(op, verdict) || broadcast_bytes(op, roots, (size_t)length, 0)) {
        if (roots != mine) free(roots);
        return -1;
    }
    if (strcmp(mine, roots) != 0) verdict = (name_difference(op, mine, roots), -1);
    if (roots != mine) free(roots);
    return agree(op, verdict);
}

int tg_dist_broadcast_module(tg_module *m) {
    const char *op = "dist_broadcast_module";
    if (!started(op)) return -1;
    int n = 0;
    const tg_named_tensor *entries = m ? tg_module_state_dict(m, &n) : NULL;
    if (!m) tg__null_arg(op);
    char *mine = m ? describe(op, entries, n) : NULL;
    int verdict = agree_with_root(op, mine);
    free(mine);
    if (verdict) return -1;
    for (int i = 0; i < n; i++) {
        tg_tensor *t = entries[i].tensor;
        if (broadcast_bytes(op, tg__ptr(t), (size_t)t->numel * tg_dtype_size(t->dtype), 0))
            return -1;
        t->storage->version++;
    }
    return 0;
}

/* ---- Averaging gradients --------------------------------------------------------- */

/* What every rank must agree on for parameter i: its grad's element count
 * and dtype, and whether it has one; packed in one number. */
static long long grad_key(const tg_tensor *p) {
    const tg_tensor *g = p->grad;
    return g ? ((long long)g->numel * 4 + g->dtype) * 2 + 1
             : (long long)p->numel * 8 + p->dtype * 2;
}

/* The ranks' parameter lists, compared: 0 when every rank passes the same
 * count and, for each parameter, a grad of the same size and dtype or none
 * on every rank; else -1 with the same message on every rank. Collective. */
static int agree_on_grads(const char *op, tg_tensor *const *params, int n, int verdict) {
    long long *keys = verdict ? NULL : malloc(sizeof *keys * 4 * (size_t)n + 1);
    if (!verdict && !keys) verdict = (tg__error(TG_ERR_NOMEM, "%s: out of memory", op), -1);
    /* agree() and the counts compared, in one collective: the lowest
     * failing rank and the largest count as maxima of their negations */
    int mine[3] = {verdict == 0 ? -INT_MAX : -dist.rank, n, -n}, all[3];
    int rc = MPI_Allreduce(mine, all, 3, MPI_INT, MPI_MAX, dist.comm);
    if (rc != MPI_SUCCESS)
        verdict = mpi_error(op, rc);
    else if (all[0] != -INT_MAX)
        verdict = share_failure(op, -all[0]);
    else if (all[1] != -all[2])
        verdict = (tg__error(TG_ERR_DIST,
                             "%s: the ranks pass different numbers of parameters (%d to %d)", op,
                             -all[2], all[1]),
                   -1);
    if (verdict) {
        free(keys);
        return -1;
    }
    for (int i = 0; i < n; i++) keys[i] = grad_key(params[i]), keys[n + i] = -keys[i];
    rc = MPI_Allreduce(keys, keys + 2 * n, 2 * n, MPI_LONG_LONG, MPI_MAX, dist.comm);
    if (rc != MPI_SUCCESS) {
        free(keys);
        return mpi_error(op, rc);
    }
    const long long *high = keys + 2 * n, *low_negated = keys + 3 * n;
    for (int i = 0; i < n && !verdict; i++) {
        if (high[i] == -low_negated[i]) continue;
        if (high[i] / 2 == -low_negated[i] / 2)
            tg__error(TG_ERR_DIST,
                      "%s: parameter %d has a grad on some ranks and none on others (used in "
                      "the forward of some ranks only?)",
                      op, i);
        else
            tg__error(TG_ERR_DIST, "%s: parameter %d differs between the ranks (size or dtype)", op,
                      i);
        verdict = -1;
    }
    free(keys);
    return verdict;
}

/* The bucket buffer, at least size bytes; NULL with an error. */
static void *bucket_buffer(const char *op, size_t size) {
    if (size <= dist.bucket_capacity) return dist.bucket;
    void *grown = tg__alloc(size, op);
    if (!grown) return NULL;
    tg__free(dist.bucket);
    dist.bucket_capacity = size;
    return dist.bucket = grown;
}

/* dst = src * scale for n elements of dtype, as DDP scales a grad into
 * its bucket (the scalar rounded to the grad's dtype). */
static void scale_into(void *dst, const void *src, int64_t n, tg_dtype dtype, double scale) {
    if (dtype == TG_F32) {
        float s = (float)scale, *d = dst;
        const float *x = src;
        for (int64_t i = 0; i < n; i++) d[i] = x[i] * s;
    } else {
        double *d = dst;
        const double *x = src;
        for (int64_t i = 0; i < n; i++) d[i] = x[i] * scale;
    }
}

/* Sums n elements of dtype at data over the ranks, in place. */
static int sum_over_ranks(const char *op, void *data, int64_t n, tg_dtype dtype) {
    MPI_Datatype type = dtype == TG_F32 ? MPI_FLOAT : MPI_DOUBLE;
    size_t size = tg_dtype_size(dtype);
    for (int64_t at = 0; at < n; at += (int64_t)MAX_CHUNK) {
        int64_t chunk = n - at < (int64_t)MAX_CHUNK ? n - at : (int64_t)MAX_CHUNK;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)data + (size_t)at * size, (int)chunk, type,
                               MPI_SUM, dist.comm);
        if (rc != MPI_SUCCESS) return mpi_error(op, rc);
    }
    return 0;
}

/* The grads of params[first], params[first - 1], ..., params[last] (one
 * dtype) lie one after another in one storage, in that order. */
static bool lie_adjacent(tg_tensor *const *params, int first, int last) {
    const tg_tensor *previous = NULL;
    for (int i = first; i >= last; i--) {
        const tg_tensor *g = params[i]->grad;
        if (!g) continue;
        if (previous &&
            (g->storage != previous->storage || g->offset != previous->offset + previous->numel))
            return false;
        previous = g;
    }
    return true;
}

/* Every grad of the bucket is the only user of a storage of its own, so
 * it may move into the bucket's (tg__set_storage) without anything else
 * that views the old one missing the average. */
static bool may_move(tg_tensor *const *params, int first, int last) {
    for (int i = first; i >= last; i--) {
        const tg_tensor *g = params[i]->grad;
        if (g && (g->storage->refcount != 1 || !g->storage->owns_data)) return false;
    }
    return true;
}

/* How this rank's grads of one bucket reach the reduction (the buckets
 * themselves are the same on every rank; this may differ): */
typedef enum bucket_path {
    IN_PLACE, /* one grad, or grads adjacent in one storage: reduced where they lie */
    GATHER,   /* copied into a new storage of the bucket's, which they then view, as
                 DDP's gradient_as_bucket_view: the next call finds them in place */
    COPY,     /* a grad's storage is viewed by other tensors too: copied into the
                 scratch buffer and back */
} bucket_path;

static bucket_path path_of(tg_tensor *const *params, int first, int last) {
    if (lie_adjacent(params, first, last)) return IN_PLACE;
    return may_move(params, first, last) ? GATHER : COPY;
}

/* Averages the grads of params[first] down to params[last] (one bucket,
 * one dtype, bytes in all): scaled by 1 / R as DDP scales them into its
 * bucket (the scalar rounded to the grad's dtype), summed over the ranks,
 * along the bucket's path. gathered: the new storage for GATHER (the
 * caller's reference stays the caller's). */
static int reduce_bucket(const char *op, tg_tensor *const *params, int first, int last,
                         size_t bytes, tg__storage *gathered) {
    double scale = 1.0 / dist.size;
    for (int i = first; i >= last; i--) /* zeros a zero_grad left pending, written */
        if (params[i]->grad) tg__grad_values(params[i]);
    tg_tensor *g = params[first]->grad;
    tg_dtype dtype = g->dtype;
    size_t size = tg_dtype_size(dtype);
    int64_t count = (int64_t)(bytes / size);
    if (path_of(params, first, last) == IN_PLACE) {
        scale_into(tg__ptr(g), tg__ptr(g), count, dtype, scale);
        if (sum_over_ranks(op, tg__ptr(g), count, dtype)) return -1;
        g->storage->version++;
        return 0;
    }
    char *flat = gathered ? gathered->data : dist.bucket; /* both made by the caller */
    size_t at = 0;
    for (int i = first; i >= last; i--) {
        g = params[i]->grad;
        if (!g) continue;
        scale_into(flat + at, tg__ptr(g), g->numel, dtype, scale);
        at += (size_t)g->numel * size;
    }
    if (sum_over_ranks(op, flat, count, dtype)) return -1;
    uint64_t version = 0; /* past every old one, for autograd's checks */
    for (int i = first; gathered && i >= last; i--)
        if (params[i]->grad && params[i]->grad->storage->version > version)
            version = params[i]->grad->storage->version;
    if (gathered) gathered->version = version + 1;
    at = 0;
    for (int i = first; i >= last; i--) {
        g = params[i]->grad;
        if (!g) continue;
        if (gathered) {
            tg__set_storage(g, gathered, (int64_t)(at / size));
        } else {
            memcpy(tg__ptr(g), flat + at, (size_t)g->numel * size);
            g->storage->version++;
        }
        at += (size_t)g->numel * size;
    }
    return 0;
}

/* This rank's arguments: 0, or -1 with the error. */
static int check_params(const char *op, tg_tensor *const *params, int n) {
    if (n < 0) return tg__error(TG_ERR_VALUE, "%s: %d parameters", op, n), -1;
    if (n > 0 && !params) return tg__null_arg(op), -1;
    for (int i = 0; i < n; i++) {
        if (!params[i]) return tg__null_arg(op), -1;
        const tg_tensor *g = params[i]->grad;
        if (g && g->dtype != TG_F32 && g->dtype != TG_F64)
            return tg__error(TG_ERR_DTYPE, "%s: parameter %d's grad is %s, not floating-point", op,
                             i, tg_dtype_name(g->dtype)),
                   -1;
        if (g && !tg_is_contiguous(g))
            return tg__error(TG_ERR_VALUE, "%s: parameter %d's grad is not contiguous", op, i), -1;
    }
    return 0;
}

static size_t grad_bytes(const tg_tensor *g) { return (size_t)g->numel * tg_dtype_size(g->dtype); }

/* The bucket that starts at params[first] (which has a grad) and runs
 * towards params[0]: its last parameter, and its bytes. Grads of one dtype
 * while they fit in the cap (a grad larger than the cap is a bucket
 * alone); sizes and dtypes only, which every rank has agreed on, so every
 * rank makes the same buckets. */
static int bucket_end(tg_tensor *const *params, int first, size_t *bytes) {
    tg_dtype dtype = params[first]->grad->dtype;
    int last = first;
    *bytes = grad_bytes(params[first]->grad);
    for (int i = first - 1; i >= 0; i--) {
        const tg_tensor *g = params[i]->grad;
        if (!g) continue;
        size_t more = grad_bytes(g);
        if (g->dtype != dtype || *bytes + more > dist.bucket_bytes) break;
        *bytes += more, last = i;
    }
    return last;
}

/* The next parameter from first down that has a grad, or -1. */
static int next_with_grad(tg_tensor *const *params, int first) {
    while (first >= 0 && !params[first]->grad) first--;
    return first;
}

int tg_dist_allreduce_grads(tg_tensor *const *params, int n) {
    const char *op = "dist_allreduce_grads";
    if (!started(op)) return -1;
    int verdict = check_params(op, params, n);
    /* the new storages of the buckets to gather and the scratch buffer for
     * the largest to copy, before agreeing, so that no rank runs out of
     * memory after the others have started */
    tg__storage **gathered = verdict ? NULL : tg__calloc(((size_t)n + 1) * sizeof *gathered, op);
    if (!gathered) verdict = -1;
    size_t largest = 0, bytes;
    int buckets = 0;
    for (int first = verdict ? -1 : next_with_grad(params, n - 1), last; first >= 0;
         first = next_with_grad(params, last - 1), buckets++) {
        last = bucket_end(params, first, &bytes);
        bucket_path path = path_of(params, first, last);
        if (path == COPY && bytes > largest) largest = bytes;
        if (path == GATHER && !(gathered[buckets] = tg__storage_new(op, bytes))) verdict = -1;
    }
    if (!verdict && largest && !bucket_buffer(op, largest)) verdict = -1;
    if (!agree_on_grads(op, params, n, verdict)) {
        buckets = 0;
        for (int first = next_with_grad(params, n - 1), last; first >= 0 && !verdict;
             first = next_with_grad(params, last - 1), buckets++) {
            last = bucket_end(params, first, &bytes);
            verdict = reduce_bucket(op, params, first, last, bytes, gathered[buckets]);
        }
    } else {
        verdict = -1;
    }
    for (int b = 0; gathered && b < n; b++) tg__storage_release(gathered[b]);
    tg__free(gathered);
    return verdict;
}

/* ---- Checkpoints ------------------------------------------------------------------ */

int tg_dist_module_save(const tg_module *m, const char *path) {
    const char *op = "dist_module_save";
    if (!started(op)) return -1;
    int verdict = m && path ? 0 : (tg__null_arg(op), -1);
    if (!verdict && dist.rank == 0) verdict = tg_module_save(m, path);
    return agree(op, verdict);
}

int tg_dist_module_load(tg_module *m, const char *path) {
    const char *op = "dist_module_load";
    if (!started(op)) return -1;
    int verdict = m && path ? 0 : (tg__null_arg(op), -1);
    if (!verdict && dist.rank == 0) verdict = tg_module_load(m, path);
    if (agree(op, verdict)) return -1;
    return tg_dist_broadcast_module(m);
}
