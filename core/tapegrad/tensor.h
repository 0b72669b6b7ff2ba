/* tapegrad/tensor.h - tensors, storage, ownership and pools.
 *
 * OWNERSHIP RULE. A function that returns a new tensor gives one reference to
 * the innermost pool pushed on this thread, or to the caller when no pool is
 * pushed; tensors passed as arguments are only borrowed. Keep a tensor beyond
 * its pool with tg_retain() and drop such a reference with tg_release().
 *
 * So nested expressions do not leak:
 *
 *     tg_pool *p = tg_pool_push();
 *     tg_tensor *z = tg_mul_scalar(tg_mul(y, y), 3.0);   // both results pooled
 *     ...
 *     tg_pool_pop(p);                                     // releases them
 *
 * Functions documented as returning a "borrowed" pointer (tg_grad, tg_shape)
 * hand out a pointer that stays valid while its owner lives; never release it.
 *
 * ERROR RULE (see tapegrad/error.h): a function that fails returns NULL (or a
 * negative status) and leaves a message in tg_last_error(); given a NULL
 * tensor it returns NULL at once, so a chain of calls can be checked once.
 */
#ifndef TAPEGRAD_TENSOR_H
#define TAPEGRAD_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(TG_BUILDING_LIBRARY) && defined(__GNUC__)
#define TG_API __attribute__((visibility("default")))
#else
#define TG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The most dimensions a tensor may have. */
#define TG_MAX_DIMS 8

/* Element types, as PyTorch's: float32 and float64 (the floating-point types:
 * only they carry gradients), int64 (torch.int64, the type of labels and
 * indices) and bool (one byte holding 0 or 1: comparisons give it, where
 * takes it). Ops of arithmetic and calculus take floating-point tensors;
 * given an int64 or bool one they fail with a message naming the dtype
 * (convert with tg_to_dtype). Views, copies, printing, saving, indexing,
 * comparisons and sums take every dtype. */
typedef enum tg_dtype { TG_F32 = 0, TG_F64 = 1, TG_I64 = 2, TG_BOOL = 3 } tg_dtype;

typedef struct tg_tensor tg_tensor;
typedef struct tg_pool tg_pool;

/* Spell a shape inline: tg_zeros(TG_SHAPE(2, 3), TG_F32). Expands to the two
 * arguments (ndim, const int64_t *shape). A 0-dim shape is (0, NULL). */
#define TG_SHAPE(...)                                                \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
        ((const int64_t[]){__VA_ARGS__})

/* ---- Pools -------------------------------------------------------------- */
/* Push a pool: until it is popped, new tensors created on this thread belong
 * to it. Pools nest; pop them in reverse order. Returns NULL when out of
 * memory. tg_pool_pop releases every reference the pool holds, and pops any
 * pool pushed after it that is still open. */
TG_API tg_pool *tg_pool_push(void);
TG_API void tg_pool_pop(tg_pool *pool);

/* ---- Flags ----------------------------------------------------------------
 * Arguments that would otherwise be a bare true or false at the call site
 * name their meaning. Each is an enum whose false value is 0 and true value
 * 1, in the order of PyTorch's keyword (keepdim=False is TG_DROP_DIMS), so
 * `tg_sum_dims(t, 1, dims, TG_KEEP_DIMS)` reads as torch's keepdim=True. */
typedef enum tg_keepdim { TG_DROP_DIMS = 0, TG_KEEP_DIMS = 1 } tg_keepdim;
/* Dropout, RReLU and modules: training draws at random, eval does not. */
typedef enum tg_mode { TG_EVAL = 0, TG_TRAIN = 1 } tg_mode;
/* zero_grad: fill gradients with zeros, or drop them (set_to_none=True). */
typedef enum tg_zero_grad_mode { TG_GRAD_TO_ZERO = 0, TG_GRAD_TO_NONE = 1 } tg_zero_grad_mode;
/* backward: free the graph's saved tensors, or keep them (retain_graph=True). */
typedef enum tg_graph_mode { TG_FREE_GRAPH = 0, TG_RETAIN_GRAPH = 1 } tg_graph_mode;

/* ---- Reference counts --------------------------------------------------- */
/* tg_retain adds a reference the caller owns and returns t (NULL-safe).
 * tg_release drops one; the tensor is freed with its last reference. */
TG_API tg_tensor *tg_retain(tg_tensor *t);
TG_API void tg_release(tg_tensor *t);

/* ---- Creation (each returns a new tensor, see the ownership rule) -------- */
TG_API tg_tensor *tg_empty(int ndim, const int64_t *shape, tg_dtype dtype);
TG_API tg_tensor *tg_zeros(int ndim, const int64_t *shape, tg_dtype dtype);
TG_API tg_tensor *tg_ones(int ndim, const int64_t *shape, tg_dtype dtype);
TG_API tg_tensor *tg_full(int ndim, const int64_t *shape, double value, tg_dtype dtype);
/* A 0-dim tensor holding value. */
TG_API tg_tensor *tg_scalar(double value, tg_dtype dtype);
/* Copies numel(shape) elements of dtype from data (like torch.tensor). */
TG_API tg_tensor *tg_from_data(const void *data, int ndim, const int64_t *shape, tg_dtype dtype);
/* Wraps the caller's contiguous buffer without copying (like
 * torch.from_numpy): writes through either side are seen by the other. The
 * buffer must outlive the tensor and its views; when the last of them is
 * freed, deleter(data, ctx) is called if deleter is not NULL. On failure
 * (NULL returned) the buffer stays the caller's and deleter is not called. */
TG_API tg_tensor *tg_from_buffer(void *data, int ndim, const int64_t *shape, tg_dtype dtype,
                                 void (*deleter)(void *data, void *ctx), void *ctx);
/* 1-D tensor start, start+step, ... < end (like torch.arange). */
TG_API tg_tensor *tg_arange(double start, double end, double step, tg_dtype dtype);

/* ---- Random numbers ------------------------------------------------------ */
/* A generator is a Mersenne Twister (mt19937) stream. NULL everywhere means
 * the thread's default generator, seeded with tg_manual_seed(). */
typedef struct tg_generator tg_generator;
TG_API tg_generator *tg_generator_new(uint64_t seed);
TG_API void tg_generator_free(tg_generator *gen);
TG_API void tg_generator_seed(tg_generator *gen, uint64_t seed);
TG_API void tg_manual_seed(uint64_t seed);
/* Uniform in [0, 1) and standard normal samples. */
TG_API tg_tensor *tg_rand(int ndim, const int64_t *shape, tg_dtype dtype, tg_generator *gen);
TG_API tg_tensor *tg_randn(int ndim, const int64_t *shape, tg_dtype dtype, tg_generator *gen);
/* A random permutation of 0 .. n-1 (int64), torch.randperm's for the same
 * generator state. */
TG_API tg_tensor *tg_randperm(int64_t n, tg_generator *gen);

/* ---- Names ---------------------------------------------------------------
 * An optional label, shown by graph pictures and backward traces. The name
 * is copied; NULL removes it. Views and copies do not inherit it. */
TG_API int tg_set_name(tg_tensor *t, const char *name);
TG_API const char *tg_name(const tg_tensor *t); /* borrowed, or NULL */

/* ---- Inspection (borrowed results, NULL-safe) ----------------------------- */
TG_API tg_dtype tg_dtype_of(const tg_tensor *t);
/* 4, 8, 8 and 1; "float32", "float64", "int64" and "bool"; 0 and "invalid"
 * for a value that is not a tg_dtype. Every function that takes a dtype
 * refuses such a value (TG_ERR_VALUE, naming the op and the value). */
TG_API size_t tg_dtype_size(tg_dtype dtype);
TG_API const char *tg_dtype_name(tg_dtype dtype);
/* True for TG_F32 and TG_F64 (torch.is_floating_point). */
TG_API bool tg_dtype_is_float(tg_dtype dtype);
TG_API int tg_ndim(const tg_tensor *t);
TG_API const int64_t *tg_shape(const tg_tensor *t);   /* ndim entries */
TG_API const int64_t *tg_strides(const tg_tensor *t); /* in elements */
TG_API int64_t tg_size(const tg_tensor *t, int dim);  /* negative dims count from the end */
TG_API int64_t tg_numel(const tg_tensor *t);
TG_API int64_t tg_offset(const tg_tensor *t); /* first element, in elements */
TG_API bool tg_is_contiguous(const tg_tensor *t);
/* Pointer to the first element (storage + offset). Writing through it is
 * allowed but bypasses the version counter that guards autograd. */
TG_API void *tg_data(tg_tensor *t);
/* True when a and b share one storage (a view and its base, say). */
TG_API bool tg_shares_storage(const tg_tensor *a, const tg_tensor *b);
/* Element at a multi-index (ndim entries), as a double. */
TG_API double tg_get(const tg_tensor *t, const int64_t *index);
/* The value of a one-element tensor. Returns NAN and sets an error when t
 * does not have exactly one element. */
TG_API double tg_item(const tg_tensor *t);
/* Copies the elements, in row-major order, converted to double, into out,
 * which must hold tg_numel(t) doubles. Returns 0, or -1 on error. */
TG_API int tg_to_doubles(const tg_tensor *t, double *out);

/* ---- Printing ------------------------------------------------------------ */
/* Formats t as PyTorch's repr does:
 *   tensor([[4.5000, 4.5000],
 *           [4.5000, 4.5000]], requires_grad=True)
 * Returns a malloc'ed string the caller frees with free(), or NULL. */
TG_API char *tg_repr(const tg_tensor *t);
/* Writes tg_repr(t) and a newline to out. Returns 0, or -1 on error. */
TG_API int tg_print(const tg_tensor *t, FILE *out);

/* ---- Memory -------------------------------------------------------------- */
/* Route every allocation tapegrad makes through these functions (NULL
 * restores malloc/free). alloc returns memory aligned to 64 bytes or NULL;
 * tapegrad reports NULL as an out-of-memory error and never aborts. It may
 * be called while tensors and other objects are alive: each block goes
 * back to the free of the allocator that made it (recorded in 64 bytes at
 * the block's start, which alloc's size includes), whatever was set in
 * between, so keep an allocator's ctx valid until the blocks it made are
 * freed (a thread's pool keeps its array until it grows). Freed tensor
 * headers, nodes and small data blocks wait in per-thread caches for reuse,
 * whichever allocator is set, while it stays set: a warm training loop
 * then calls alloc not at all, and the caches give their blocks back to
 * free when tg_set_allocator replaces it (the calling thread's at once,
 * another thread's at its next allocation or when it exits). Call it
 * while no other thread is inside tapegrad. */
typedef struct tg_allocator {
    void *(*alloc)(size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} tg_allocator;
TG_API void tg_set_allocator(const tg_allocator *allocator);
/* How many tensors are alive in the process: a leak shows as a count that
 * grows from one training step to the next. */
TG_API int64_t tg_live_tensors(void);

#ifdef __cplusplus
}
#endif
#endif
