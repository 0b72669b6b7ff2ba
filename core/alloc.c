/* core/alloc.c - every allocation goes through here, so a user allocator
 * (or a test injecting failures) sees them all, and failure becomes an
 * error message instead of a crash. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

void tg_set_allocator(const tg_allocator *allocator) {
    if (allocator && allocator->alloc && allocator->free)
        current = *allocator;
    else
        current = (tg_allocator){default_alloc, default_free, NULL};
}

void *tg__alloc(size_t size, const char *what) {
    void *p = current.alloc(size, current.ctx);
    if (!p) tg__error(TG_ERR_NOMEM, "%s: out of memory allocating %zu bytes", what, size);
    return p;
}

void *tg__calloc(size_t size, const char *what) {
    void *p = tg__alloc(size, what);
    if (p) memset(p, 0, size);
    return p;
}

void tg__free(void *ptr) {
    if (ptr) current.free(ptr, current.ctx);
}
