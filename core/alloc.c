/* core/alloc.c - every allocation goes through here, so a user allocator
 * (or a test injecting failures) sees them all, and failure becomes an
 * error message instead of a crash. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal/base.h"

#define TG_ALIGN 64

static void *default_alloc(size_t size, void *ctx) {
    (void)ctx;
    void *p = NULL;
    /* Rounded up so that SIMD loads past a row end stay in the block. */
    size_t rounded = (size + TG_ALIGN - 1) / TG_ALIGN * TG_ALIGN;
    if (rounded < size || posix_memalign(&p, TG_ALIGN, rounded ? rounded : TG_ALIGN) != 0)
        return NULL;
    return p;
}

static void default_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

static tg_allocator current = {default_alloc, default_free, NULL};

static void caches_empty(void);

void tg_set_allocator(const tg_allocator *allocator) {
    /* The caches hold the default allocator's blocks, useless until it is
     * set again: give them back now. */
    caches_empty();
    if (allocator && allocator->alloc && allocator->free)
        current = *allocator;
    else
        current = (tg_allocator){default_alloc, default_free, NULL};
}

/* Every block starts with the free function and ctx of the allocator that
 * made it, so that it goes back there whatever tg_set_allocator set in
 * between: the header takes TG_ALIGN bytes, to keep the block aligned. */
typedef struct block_header {
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} block_header;
#define HEADER_BYTES TG_ALIGN
_Static_assert(sizeof(block_header) <= HEADER_BYTES, "the header fits its room");

static block_header *header_of(void *ptr) { return (block_header *)((char *)ptr - HEADER_BYTES); }

void *tg__alloc(size_t size, const char *what) {
    void *p = size <= SIZE_MAX - HEADER_BYTES ? current.alloc(size + HEADER_BYTES, current.ctx)
                                              : NULL;
    if (!p) {
        tg__error(TG_ERR_NOMEM, "%s: out of memory allocating %zu bytes", what, size);
        return NULL;
    }
    *(block_header *)p = (block_header){current.free, current.ctx};
    return (char *)p + HEADER_BYTES;
}

void *tg__calloc(size_t size, const char *what) {
    void *p = tg__alloc(size, what);
    if (p) memset(p, 0, size);
    return p;
}

void tg__free(void *ptr) {
    if (!ptr) return;
    block_header *h = header_of(ptr);
    h->free(h, h->ctx);
}

/* ---- Caches of freed blocks ---------------------------------------------------------
 * Each op makes a tensor header, a storage with its data and a tape node,
 * all freed a step later; on small tensors malloc and free cost more than
 * the op's arithmetic. So freed blocks of those kinds wait, per thread, for
 * the next op to ask: fixed-size ones on a stack per kind, data blocks in a
 * small table matched by size. Only blocks of the default allocator, and
 * only while it is set: a user's allocator sees every allocation (the
 * tests fail each in turn) and gets every block it made back. */

#define CACHE_SLOTS 256            /* blocks per fixed-size kind */
#define DATA_SLOTS 64              /* data blocks */
#define DATA_MAX_BYTES (256 << 10) /* larger data blocks cost malloc little next to their use */
#define DATA_TOTAL_BYTES (2 << 20) /* so that the cache adds little to peak memory */

typedef struct block_stack {
    int n;
    void *blocks[CACHE_SLOTS];
} block_stack;

typedef struct data_block {
    size_t size;
    void *ptr;
} data_block;

static _Thread_local block_stack stacks[TG_CACHE_KINDS];
static _Thread_local data_block data[DATA_SLOTS];
static _Thread_local int n_data;
static _Thread_local size_t data_bytes;

static bool caching(void) { return current.alloc == default_alloc && current.free == default_free; }

/* The caches hold each block by its start (its header), not by the pointer
 * tg__alloc returned: so that a leak checker at exit (valgrind) counts them
 * as reachable, not as "possibly lost". They are all the default's. */
static void *user_pointer(void *start) { return (char *)start + HEADER_BYTES; }

static void caches_empty(void) {
    for (int k = 0; k < TG_CACHE_KINDS; k++)
        while (stacks[k].n) default_free(stacks[k].blocks[--stacks[k].n], NULL);
    while (n_data) default_free(data[--n_data].ptr, NULL);
    data_bytes = 0;
}

/* A thread's caches are emptied when it exits (a key's destructor runs
 * then); the main thread's stay reachable until the process ends. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Thread_local bool exit_registered;

static void on_thread_exit(void *unused) {
    (void)unused;
    caches_empty();
}
static void exit_key_create(void) { pthread_key_create(&exit_key, on_thread_exit); }

/* Whether the freed block ptr may be kept on this thread. */
static bool may_keep(void *ptr) {
    if (!caching() || header_of(ptr)->free != default_free) return false;
    if (!exit_registered) {
        pthread_once(&exit_once, exit_key_create);
        exit_registered = pthread_setspecific(exit_key, &exit_registered) == 0;
    }
    return exit_registered;
}

void *tg__alloc_cached(tg__cache_kind kind, size_t size, const char *what) {
    block_stack *st = &stacks[kind];
    return st->n && caching() ? user_pointer(st->blocks[--st->n]) : tg__alloc(size, what);
}

void tg__free_cached(tg__cache_kind kind, void *ptr) {
    block_stack *st = &stacks[kind];
    if (ptr && st->n < CACHE_SLOTS && may_keep(ptr))
        st->blocks[st->n++] = header_of(ptr);
    else
        tg__free(ptr);
}

void *tg__alloc_data(size_t size, const char *what) {
    for (int i = n_data - 1; i >= 0 && caching(); i--) /* the latest freed first */
        if (data[i].size == size) {
            void *ptr = user_pointer(data[i].ptr);
            data_bytes -= size;
            data[i] = data[--n_data];
            return ptr;
        }
    return tg__alloc(size, what);
}

void tg__free_data(void *ptr, size_t size) {
    if (ptr && size <= DATA_MAX_BYTES && n_data < DATA_SLOTS &&
        data_bytes + size <= DATA_TOTAL_BYTES && may_keep(ptr)) {
        data[n_data++] = (data_block){size, header_of(ptr)};
        data_bytes += size;
    } else {
        tg__free(ptr);
    }
}
