/* core/pool.c - autorelease pools: a per-thread stack of tensor references.
 *
 * One array holds the references of every open pool on the thread; a pool
 * is just the index where its part of the array begins. Popping a pool
 * releases everything above that index. The array keeps its capacity, so a
 * training loop that pushes and pops a pool each step allocates nothing here
 * after the first step. */
#include <pthread.h>
#include <string.h>

#include "internal/tensor.h"

#define TG_POOL_MAX_DEPTH 64

struct tg_pool {
    size_t start;
};

static _Thread_local struct tg_pool pools[TG_POOL_MAX_DEPTH];
static TG_THREAD_LOCAL int depth;
static TG_THREAD_LOCAL tg_tensor **entries;
static TG_THREAD_LOCAL size_t n_entries, cap_entries;

tg_pool *tg_pool_push(void) {
    if (depth == TG_POOL_MAX_DEPTH) {
        tg__error(TG_ERR_VALUE, "pool_push: more than %d pools nested", TG_POOL_MAX_DEPTH);
        return NULL;
    }
    pools[depth].start = n_entries;
    return &pools[depth++];
}

void tg_pool_pop(tg_pool *pool) {
    if (!pool || pool < pools || pool >= pools + depth) return; /* not open */
    size_t start = pool->start;
    depth = (int)(pool - pools);
    /* Releasing may free tensors but never adds to the pool. */
    while (n_entries > start) tg_release(entries[--n_entries]);
}

bool tg__pool_active(void) { return depth > 0; }

/* A thread's array is freed when it exits (a key's destructor runs then);
 * the main thread's stays reachable until the process ends. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void free_entries(void *unused) {
    (void)unused;
    tg__free(entries);
    entries = NULL;
    n_entries = cap_entries = 0;
}
static void exit_key_create(void) { pthread_key_create(&exit_key, free_entries); }

bool tg__pool_add(tg_tensor *t) {
    if (n_entries == cap_entries) {
        size_t cap = cap_entries ? 2 * cap_entries : 256;
        tg_tensor **grown = tg__alloc(cap * sizeof *grown, "pool");
        if (!grown) return false;
        if (!entries) {
            pthread_once(&exit_once, exit_key_create);
            pthread_setspecific(exit_key, &cap_entries); /* any non-NULL value */
        }
        if (n_entries) memcpy(grown, entries, n_entries * sizeof *grown);
        tg__free(entries);
        entries = grown;
        cap_entries = cap;
    }
    entries[n_entries++] = t;
    return true;
}
