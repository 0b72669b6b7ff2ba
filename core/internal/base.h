/* core/internal/base.h - what every file of the library needs: allocation
 * through the user's allocator, and error messages. Users never see it. */
#ifndef TAPEGRAD_INTERNAL_BASE_H
#define TAPEGRAD_INTERNAL_BASE_H

#include <stdarg.h>

#include "tapegrad/error.h"
#include "tapegrad/tensor.h"

#if defined(__GNUC__)
#define TG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TG_PRINTF(fmt, args)
#endif

/* A thread-local variable that ops read on every call. In a shared library
 * each access to the default kind costs a call to __tls_get_addr; these
 * are reached with one instruction instead, from the static block that the
 * initial-exec model reserves at load time. Small variables only: that
 * block is small when the library is loaded with dlopen. */
#define TG_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))

/* ---- Memory (core/alloc.c) ------------------------------------------------ */
/* Allocate through the user's allocator; NULL means out of memory and the
 * error is already recorded, naming `what`. */
void *tg__alloc(size_t size, const char *what);
void *tg__calloc(size_t size, const char *what);
void tg__free(void *ptr);
/* The same through a per-thread cache of freed blocks, for the objects
 * every op makes: blocks of one kind all have one size. A user's allocator
 * (tg_set_allocator) bypasses the caches and sees every allocation. */
typedef enum tg__cache_kind {
    TG_CACHE_TENSOR,
    TG_CACHE_STORAGE,
    TG_CACHE_NODE,
    TG_CACHE_KINDS
} tg__cache_kind;
void *tg__alloc_cached(tg__cache_kind kind, size_t size, const char *what);
void tg__free_cached(tg__cache_kind kind, void *ptr);
/* Tensor data, cached by its exact size (small blocks only). */
void *tg__alloc_data(size_t size, const char *what);
void tg__free_data(void *ptr, size_t size);

/* ---- Errors (core/error.c) ------------------------------------------------- */
void tg__error(tg_status status, const char *fmt, ...) TG_PRINTF(2, 3);
/* For an op given a NULL argument: keeps a pending message (it names the
 * first failure of a chain), otherwise records "<op>: argument is NULL". */
void tg__null_arg(const char *op);
/* Writes "(2, 3)" into buf (as torch.Size prints, "(4,)" for one dim). */
const char *tg__shape_str(char *buf, size_t n, int ndim, const int64_t *shape);
/* Writes "[2, 3]", sizes as PyTorch's own messages print them (quoted in
 * tapegrad's where it words an error as PyTorch does). */
const char *tg__sizes_str(char *buf, size_t n, int ndim, const int64_t *shape);
/* v as Python's repr(float) writes it ("0.1", "1.0", "1e-05"), for the
 * printed modules' arguments as PyTorch prints them. */
void tg__python_float(char *buf, size_t size, double v);
#define TG_SHAPE_STR_MAX 160

#endif
