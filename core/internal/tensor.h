/* core/internal/tensor.h - the layout of tensors and their storage, and
 * the helpers that make tensors, views of them and their shapes; pools and
 * random numbers. Users never see it. */
#ifndef TAPEGRAD_INTERNAL_TENSOR_H
#define TAPEGRAD_INTERNAL_TENSOR_H

#include "internal/base.h"

/* The number of tg_dtype values: tables of kernels by dtype have this many. */
enum { TG__N_DTYPES = 4 };

/* ---- Storage and tensors (core/tensor.c) ----------------------------------- */
typedef struct tg__storage {
    int refcount;
    void *data;
    size_t nbytes;
    /* Bumped by every in-place write; shared by all views of the storage so
     * backward sees a change made through any of them. */
    uint64_t version;
    void (*deleter)(void *data, void *ctx); /* for wrapped buffers */
    void *deleter_ctx;
    bool owns_data;
} tg__storage;

/* A new storage of nbytes, uninitialised, with one reference for the
 * caller; NULL with an error. */
tg__storage *tg__storage_new(const char *op, size_t nbytes);
/* Drops one reference; the last frees the data. NULL-safe. */
void tg__storage_release(tg__storage *s);

typedef struct tg__node tg__node;

struct tg_tensor {
    int refcount;
    tg_dtype dtype;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_MAX_DIMS]; /* in elements */
    int64_t offset;               /* in elements */
    int64_t numel;
    tg__storage *storage;
    bool requires_grad;
    tg_tensor *grad; /* owned, NULL until a backward reaches this leaf */
    /* zero_grad without a pass over memory: set by tg_zero_grad when
     * grad_handed_out is false, the grad's values are stale and read as
     * zeros. The next backward writes its gradient over them instead of
     * adding (a product with beta 0, see tg__grad_into_beta); every other
     * reader calls tg__grad_values first, which writes the zeros. */
    bool grad_zero_pending;
    /* tg_grad gave the grad's pointer out, so the caller may read its
     * values directly: from then on tg_zero_grad writes the zeros at once. */
    bool grad_handed_out;
    tg__node *grad_fn; /* owned reference, NULL for leaves */
    char *name;        /* owned, NULL unless set with tg_set_name */
};

/* t's grad with its values as they read (zeros written if a zero_grad
 * left them pending), or NULL when t has none. For the library's own
 * readers of a grad; tg_grad is the user's. */
tg_tensor *tg__grad_values(tg_tensor *t);

/* A new contiguous tensor, uninitialised, with one reference that goes to
 * the innermost pool (or the caller). `op` names the caller in errors. */
tg_tensor *tg__new(const char *op, int ndim, const int64_t *shape, tg_dtype dtype);
/* Same, but the caller always owns the reference (never pooled): for tensors
 * that live in long-lived structures such as .grad or saved state. */
tg_tensor *tg__new_owned(const char *op, int ndim, const int64_t *shape, tg_dtype dtype);
/* A tensor header over t's storage with the given geometry (a view), owned
 * by the caller; no autograd, no pool. */
tg_tensor *tg__view_owned(const char *op, tg_tensor *t, int ndim, const int64_t *shape,
                          const int64_t *strides, int64_t offset);
/* Points t at s from element offset on (t keeps its shape and strides),
 * taking a reference to s and dropping its old storage: t stays the same
 * tensor, its elements now in s (the caller has put them there). */
void tg__set_storage(tg_tensor *t, tg__storage *s, int64_t offset);
/* Hand a fresh reference to the innermost pool, if any. Returns t. */
tg_tensor *tg__autorelease(tg_tensor *t);
bool tg__valid_shape(const char *op, int ndim, const int64_t *shape, int64_t *numel);
void tg__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
/* tg_dtype_size of a tensor's dtype, always valid (inlined: every op asks). */
static inline size_t tg__elem_size(tg_dtype dtype) {
    return dtype == TG_BOOL ? 1 : dtype == TG_F32 ? 4 : 8;
}
static inline void *tg__ptr(const tg_tensor *t) {
    return (char *)t->storage->data + (size_t)t->offset * tg__elem_size(t->dtype);
}
/* tg_is_contiguous of a tensor (inlined: the element loops ask it first). */
static inline bool tg__is_contiguous(const tg_tensor *t) {
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 1) continue;
        if (t->shape[i] == 0) return true;
        if (t->strides[i] != expected) return false;
        expected *= t->shape[i];
    }
    return true;
}
static inline bool tg__same_shape(const tg_tensor *a, const tg_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}
/* One element at p, of dtype, read as a double; and written from one,
 * converted as tg_to_dtype converts (see to_i64). */
static inline int64_t tg__to_i64(double v);
static inline double tg__load_elem(tg_dtype dtype, const void *p) {
    switch (dtype) {
    case TG_F32: return *(const float *)p;
    case TG_F64: return *(const double *)p;
    case TG_I64: return (double)*(const int64_t *)p;
    default: return *(const uint8_t *)p;
    }
}
static inline void tg__store_elem(tg_dtype dtype, void *p, double v) {
    switch (dtype) {
    case TG_F32: *(float *)p = (float)v; break;
    case TG_F64: *(double *)p = v; break;
    case TG_I64: *(int64_t *)p = tg__to_i64(v); break;
    default: *(uint8_t *)p = v != 0; break; /* NaN is true, as in PyTorch */
    }
}
/* A float to int64 as x86-64's conversion instruction, and so PyTorch on
 * it, gives it: toward zero, and INT64_MIN for NaN and for values out of
 * range, which C leaves undefined. */
static inline int64_t tg__to_i64(double v) {
    return v >= -0x1p63 && v < 0x1p63 ? (int64_t)v : INT64_MIN;
}
/* Every write into a tensor's elements (in-place ops, fills, inits, loads,
 * optimizer updates) calls this first. False, with "<op>: unsupported
 * operation: more than one element of the written-to tensor refers to a
 * single memory location" recorded (PyTorch's words), when two indices of t
 * reach one element, as in an expanded tensor. */
bool tg__check_writable(const char *op, const tg_tensor *t);
/* False, with "<op>: invalid dtype 7 (TG_F32, TG_F64, TG_I64 or TG_BOOL)"
 * recorded (TG_ERR_VALUE), unless dtype is one of tg_dtype's values. */
bool tg__check_dtype(const char *op, tg_dtype dtype);
/* Checks that t is non-NULL and floating-point: the ops of arithmetic and
 * calculus say "<op>: expected a floating-point tensor, got int64 (convert
 * with tg_to_dtype)" (TG_ERR_DTYPE) for the others. */
bool tg__check_float(const char *op, const tg_tensor *t);
/* Checks that every one of n tensors is non-NULL, floating-point and of
 * one dtype: the usual check of an arithmetic op's inputs. */
bool tg__check_args(const char *op, int n, tg_tensor *const *ts);
/* The same without the floating-point rule, for ops that take any dtype. */
bool tg__check_same_dtype(const char *op, int n, tg_tensor *const *ts);

/* ---- Shapes and broadcasting (core/shape.c) -------------------------------- */
/* NumPy broadcast of two shapes into out (TG_MAX_DIMS entries). */
bool tg__broadcast_shapes(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb,
                          int *nout, int64_t *out);
/* Strides that read t as if it had the broadcast shape (0 on stretched
 * dims). t's shape must broadcast to (ndim, shape). */
void tg__broadcast_strides(const tg_tensor *t, int ndim, const int64_t *shape, int64_t *strides);
/* Normalises a possibly negative dim; false (with an error) when out of range. */
bool tg__wrap_dim(const char *op, int *dim, int ndim);

/* ---- Pools (core/pool.c) ------------------------------------------------------ */
bool tg__pool_active(void);
bool tg__pool_add(tg_tensor *t);
/* ---- Random numbers (core/rng.c) ------------------------------------------------ */
/* gen, or the thread's default generator when gen is NULL. */
tg_generator *tg__generator(tg_generator *gen);
/* Two 32-bit draws as one 64-bit number, as at::CPUGeneratorImpl's
 * random64 (torch's int64 random_ takes one). */
uint64_t tg__random64(tg_generator *gen);
/* Takes n 32-bit draws and drops them. */
void tg__skip_draws(tg_generator *gen, uint64_t n);
/* One uniform draw in [0, 1) as torch draws it for dtype (24 or 53 bits). */
double tg__uniform(tg_generator *gen, tg_dtype dtype);
/* Copies src's state into dst, NULL meaning the thread's default
 * generator on either side (to set it aside and put it back). */
void tg__generator_copy(tg_generator *dst, tg_generator *src);

#endif
