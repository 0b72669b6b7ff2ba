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
 * the op's arithmetic, and a training loop that asks the allocator nothing
 * once warm runs the same every step. So freed blocks of those kinds wait,
 * per thread, for the next op to ask: fixed-size ones on a stack per kind,
 * data blocks in a small table matched by size. They hold blocks of the
 * allocator that is set, whichever it is (its alloc and free functions and
 * ctx), and go back to it when it is replaced: so a user's allocator sees
 * each block it made freed once, and sees no call at all in a loop whose
 * blocks the caches can hold. */

#define CACHE_SLOTS 256            /* blocks per fixed-size kind */
#define DATA_SLOTS 64              /* data blocks */
#define DATA_MAX_BYTES (256 << 10) /* larger data blocks cost malloc little next to their use */
#define DATA_TOTAL_BYTES (2 << 20) /* so that the cache adds little to peak memory */

typedef struct data_block {
    size_t size;
    void *ptr;
} data_block;

typedef struct thread_caches {
    int n[TG_CACHE_KINDS];
    void *blocks[TG_CACHE_KINDS][CACHE_SLOTS];
    data_block data[DATA_SLOTS];
    int n_data;
    size_t data_bytes;
} thread_caches;

/* The thread's caches, made at its first free. Read on every allocation, so
 * the pointer is a variable of the initial-exec model: one instruction to
 * reach instead of a call to __tls_get_addr (a tenth of a small op's time
 * when every thread-local variable took one). The caches themselves, 7 KiB,
 * are on the heap: the block that model reserves for a library is small. */
static TG_THREAD_LOCAL thread_caches *caches;

/* The caches hold each block by its start (its header), not by the pointer
 * tg__alloc returned: so that a leak checker at exit (valgrind) counts them
 * as reachable, not as "possibly lost". */
static void *user_pointer(void *start) { return (char *)start + HEADER_BYTES; }

static void caches_empty(void) {
    thread_caches *tc = caches;
    if (!tc) return;
    for (int k = 0; k < TG_CACHE_KINDS; k++)
        while (tc->n[k]) tg__free(user_pointer(tc->blocks[k][--tc->n[k]]));
    while (tc->n_data) tg__free(user_pointer(tc->data[--tc->n_data].ptr));
    tc->data_bytes = 0;
}

/* A thread's caches are emptied and freed when it exits (a key's
 * destructor runs then); the main thread's stay reachable until the
 * process ends. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *unused) {
    (void)unused;
    caches_empty();
    free(caches);
    caches = NULL;
}
static void exit_key_create(void) { pthread_key_create(&exit_key, on_thread_exit); }

/* Whether block (a header) was made by the allocator now set. */
static bool current_made(const block_header *h) {
    return h->free == current.free && h->ctx == current.ctx;
}

/* The thread's caches for a freed block to wait in, or NULL when it must go
 * back now (another allocator's, or no room for the caches). */
static thread_caches *keeper(void *ptr) {
    if (!current_made(header_of(ptr))) return NULL;
    if (!caches) {
        pthread_once(&exit_once, exit_key_create);
        thread_caches *tc = calloc(1, sizeof *tc);
        if (!tc) return NULL;
        if (pthread_setspecific(exit_key, tc) != 0) {
            free(tc);
            return NULL;
        }
        caches = tc;
    }
    return caches;
}

/* A cached block, when it is the current allocator's (another thread's
 * tg_set_allocator leaves this thread's caches as they were); else it goes
 * back to its own and NULL asks the allocator. */
static void *reuse(void *start) {
    if (current_made(start)) return user_pointer(start);
    tg__free(user_pointer(start));
    return NULL;
}

void *tg__alloc_cached(tg__cache_kind kind, size_t size, const char *what) {
    thread_caches *tc = caches;
    void *ptr = tc && tc->n[kind] ? reuse(tc->blocks[kind][--tc->n[kind]]) : NULL;
    return ptr ? ptr : tg__alloc(size, what);
}

void tg__free_cached(tg__cache_kind kind, void *ptr) {
    thread_caches *tc = ptr ? keeper(ptr) : NULL;
    if (tc && tc->n[kind] < CACHE_SLOTS)
        tc->blocks[kind][tc->n[kind]++] = header_of(ptr);
    else
        tg__free(ptr);
}

void *tg__alloc_data(size_t size, const char *what) {
    thread_caches *tc = caches;
    for (int i = tc ? tc->n_data - 1 : -1; i >= 0; i--) /* the latest freed first */
        if (tc->data[i].size == size) {
            void *start = tc->data[i].ptr;
            tc->data_bytes -= size;
            tc->data[i] = tc->data[--tc->n_data];
            void *ptr = reuse(start);
            return ptr ? ptr : tg__alloc(size, what);
        }
    return tg__alloc(size, what);
}

void tg__free_data(void *ptr, size_t size) {
    thread_caches *tc = ptr && size <= DATA_MAX_BYTES ? keeper(ptr) : NULL;
    if (tc && tc->n_data < DATA_SLOTS && tc->data_bytes + size <= DATA_TOTAL_BYTES) {
        tc->data[tc->n_data++] = (data_block){size, header_of(ptr)};
        tc->data_bytes += size;
    } else {
        tg__free(ptr);
    }
}
