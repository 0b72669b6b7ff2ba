/* core/tensor.c - tensor and storage lifetimes, creation and inspection. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "internal/kernel.h"
#include "internal/tape.h"

static const struct {
    size_t size;
    const char *name;
} dtypes[] = {[TG_F32] = {4, "float32"},
              [TG_F64] = {8, "float64"},
              [TG_I64] = {8, "int64"},
              [TG_BOOL] = {1, "bool"}};

static bool is_dtype(tg_dtype dtype) { return (unsigned)dtype < sizeof dtypes / sizeof dtypes[0]; }
size_t tg_dtype_size(tg_dtype dtype) { return is_dtype(dtype) ? dtypes[dtype].size : 0; }
const char *tg_dtype_name(tg_dtype dtype) {
    return is_dtype(dtype) ? dtypes[dtype].name : "invalid";
}
bool tg_dtype_is_float(tg_dtype dtype) { return dtype == TG_F32 || dtype == TG_F64; }

bool tg__check_dtype(const char *op, tg_dtype dtype) {
    if (is_dtype(dtype)) return true;
    tg__error(TG_ERR_VALUE, "%s: invalid dtype %d (TG_F32, TG_F64, TG_I64 or TG_BOOL)", op,
              (int)dtype);
    return false;
}

bool tg__check_float(const char *op, const tg_tensor *t) {
    if (!t) {
        tg__null_arg(op);
        return false;
    }
    if (tg_dtype_is_float(t->dtype)) return true;
    tg__error(TG_ERR_DTYPE,
              "%s: expected a floating-point tensor, got %s (convert with tg_to_dtype)", op,
              tg_dtype_name(t->dtype));
    return false;
}

/* ---- Storage ---------------------------------------------------------------- */

/* Zeroed bytes after every tensor's data. BLIS 0.9.0 (Debian 12's) has
 * Haswell gemm kernels that load one element past the end of an operand
 * (flame/blis issue #635, fixed in 2024 by PR #824); valgrind sees it on
 * tapegrad's own tests. The slack keeps such a load inside the block. */
#define TG_STORAGE_SLACK 64

tg__storage *tg__storage_new(const char *op, size_t nbytes) {
    tg__storage *s = tg__alloc_cached(TG_CACHE_STORAGE, sizeof *s, op);
    if (!s) return NULL;
    *s = (tg__storage){.refcount = 1, .nbytes = nbytes, .owns_data = true};
    s->data = nbytes <= SIZE_MAX - TG_STORAGE_SLACK ? tg__alloc_data(nbytes + TG_STORAGE_SLACK, op)
                                                    : NULL;
    if (!s->data) {
        tg__free_cached(TG_CACHE_STORAGE, s);
        return NULL;
    }
    memset((char *)s->data + nbytes, 0, TG_STORAGE_SLACK);
    return s;
}

void tg__storage_release(tg__storage *s) {
    if (!s || --s->refcount > 0) return;
    if (s->owns_data)
        tg__free_data(s->data, s->nbytes + TG_STORAGE_SLACK);
    else if (s->deleter)
        s->deleter(s->data, s->deleter_ctx);
    tg__free_cached(TG_CACHE_STORAGE, s);
}

void tg__set_storage(tg_tensor *t, tg__storage *s, int64_t offset) {
    s->refcount++;
    tg__storage_release(t->storage);
    t->storage = s;
    t->offset = offset;
}

/* ---- Tensor headers and references ------------------------------------------ */

static _Atomic int64_t live_tensors;
int64_t tg_live_tensors(void) { return atomic_load(&live_tensors); }

tg_tensor *tg_retain(tg_tensor *t) {
    if (t) t->refcount++;
    return t;
}

void tg_release(tg_tensor *t) {
    if (!t || --t->refcount > 0) return;
    if (t->grad_fn && t->grad_fn->output == t) t->grad_fn->output = NULL;
    tg__free(t->name);
    tg_release(t->grad);
    tg__node_release(t->grad_fn);
    tg__storage_release(t->storage);
    tg__free_cached(TG_CACHE_TENSOR, t);
    atomic_fetch_sub(&live_tensors, 1);
}

tg_tensor *tg__autorelease(tg_tensor *t) {
    if (t && tg__pool_active() && !tg__pool_add(t)) {
        tg_release(t);
        return NULL;
    }
    return t;
}

void tg__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = stride;
        stride *= shape[i] > 1 ? shape[i] : 1;
    }
}

bool tg__valid_shape(const char *op, int ndim, const int64_t *shape, int64_t *numel) {
    if (ndim < 0 || ndim > TG_MAX_DIMS) {
        tg__error(TG_ERR_SHAPE, "%s: %d dimensions (at most %d)", op, ndim, TG_MAX_DIMS);
        return false;
    }
    if (ndim > 0 && !shape) {
        tg__error(TG_ERR_NULL, "%s: shape is NULL", op);
        return false;
    }
    int64_t n = 1, reach = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            char buf[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_SHAPE, "%s: negative dimension in shape %s", op,
                      tg__shape_str(buf, sizeof buf, ndim, shape));
            return false;
        }
        /* Keep the byte count of the largest dtype representable, and the
         * contiguous strides too: an empty dim leaves no elements, but the
         * strides are products of the other dims (tg__contiguous_strides),
         * as PyTorch refuses them ("Stride calculation overflowed"). The
         * element count is at most reach. */
        int64_t step = shape[i] > 1 ? shape[i] : 1;
        if (reach > (INT64_MAX / 8) / step) {
            char buf[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_NOMEM, "%s: shape %s is too large", op,
                      tg__shape_str(buf, sizeof buf, ndim, shape));
            return false;
        }
        reach *= step;
        n *= shape[i];
    }
    *numel = n;
    return true;
}

static tg_tensor *header_new(const char *op, int ndim, const int64_t *shape, tg_dtype dtype,
                             int64_t numel) {
    tg_tensor *t = tg__alloc_cached(TG_CACHE_TENSOR, sizeof *t, op);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->refcount = 1;
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = numel;
    atomic_fetch_add(&live_tensors, 1);
    return t;
}

tg_tensor *tg__new_owned(const char *op, int ndim, const int64_t *shape, tg_dtype dtype) {
    int64_t numel;
    if (!tg__check_dtype(op, dtype) || !tg__valid_shape(op, ndim, shape, &numel)) return NULL;
    tg_tensor *t = header_new(op, ndim, shape, dtype, numel);
    if (!t) return NULL;
    t->storage = tg__storage_new(op, (size_t)numel * tg_dtype_size(dtype));
    if (!t->storage) {
        tg_release(t);
        return NULL;
    }
    tg__contiguous_strides(ndim, shape, t->strides);
    return t;
}

tg_tensor *tg__new(const char *op, int ndim, const int64_t *shape, tg_dtype dtype) {
    return tg__autorelease(tg__new_owned(op, ndim, shape, dtype));
}

tg_tensor *tg__view_owned(const char *op, tg_tensor *base, int ndim, const int64_t *shape,
                          const int64_t *strides, int64_t offset) {
    int64_t numel;
    if (!tg__valid_shape(op, ndim, shape, &numel)) return NULL;
    tg_tensor *t = header_new(op, ndim, shape, base->dtype, numel);
    if (!t) return NULL;
    if (ndim) memcpy(t->strides, strides, (size_t)ndim * sizeof *strides);
    t->offset = offset;
    t->storage = base->storage;
    t->storage->refcount++;
    return t;
}

/* Dims that step (size > 1), sorted by |stride|, must each step past every
 * element the smaller ones reach: then no two indices share an element.
 * This is exact for every layout views make (stride 0 from expand is the
 * one way to overlap); for a layout only a raw stride list could make it
 * may refuse a tensor that does not overlap, which is the safe side. */
bool tg__check_writable(const char *op, const tg_tensor *t) {
    int64_t size[TG_MAX_DIMS], stride[TG_MAX_DIMS];
    int n = 0;
    if (t->numel <= 1) return true;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 1) continue;
        int64_t s = t->strides[d] < 0 ? -t->strides[d] : t->strides[d];
        int at = n++;
        for (; at > 0 && stride[at - 1] > s; at--)
            size[at] = size[at - 1], stride[at] = stride[at - 1];
        size[at] = t->shape[d], stride[at] = s;
    }
    /* Elements spanned by the dims before i; it stays below the storage's
     * element count, which fits (tg__valid_shape). */
    int64_t reach = 1;
    for (int i = 0; i < n; i++) {
        if (stride[i] < reach) {
            tg__error(TG_ERR_VALUE,
                      "%s: unsupported operation: more than one element of the written-to "
                      "tensor refers to a single memory location",
                      op);
            return false;
        }
        reach += stride[i] * (size[i] - 1);
    }
    return true;
}

bool tg__check_args(const char *op, int n, tg_tensor *const *ts) {
    if (!tg__check_same_dtype(op, n, ts)) return false;
    return n == 0 || tg__check_float(op, ts[0]);
}

bool tg__check_same_dtype(const char *op, int n, tg_tensor *const *ts) {
    for (int i = 0; i < n; i++)
        if (!ts[i]) {
            tg__null_arg(op);
            return false;
        }
    for (int i = 1; i < n; i++)
        if (ts[i]->dtype != ts[0]->dtype) {
            tg__error(TG_ERR_DTYPE, "%s: dtypes %s and %s differ (convert with tg_to_dtype)", op,
                      tg_dtype_name(ts[0]->dtype), tg_dtype_name(ts[i]->dtype));
            return false;
        }
    return true;
}

/* ---- Creation ------------------------------------------------------------------ */

tg_tensor *tg_empty(int ndim, const int64_t *shape, tg_dtype dtype) {
    return tg__new("empty", ndim, shape, dtype);
}

static tg_tensor *filled(const char *op, int ndim, const int64_t *shape, double value,
                         tg_dtype dtype) {
    tg_tensor *t = tg__new(op, ndim, shape, dtype);
    if (t) tg__fill(t, value);
    return t;
}

tg_tensor *tg_full(int ndim, const int64_t *shape, double value, tg_dtype dtype) {
    return filled("full", ndim, shape, value, dtype);
}

tg_tensor *tg_zeros(int ndim, const int64_t *shape, tg_dtype dtype) {
    return filled("zeros", ndim, shape, 0.0, dtype);
}

tg_tensor *tg_ones(int ndim, const int64_t *shape, tg_dtype dtype) {
    return filled("ones", ndim, shape, 1.0, dtype);
}

tg_tensor *tg_scalar(double value, tg_dtype dtype) {
    return filled("scalar", 0, NULL, value, dtype);
}

tg_tensor *tg_from_data(const void *data, int ndim, const int64_t *shape, tg_dtype dtype) {
    if (!data) {
        tg__null_arg("from_data");
        return NULL;
    }
    tg_tensor *t = tg__new("from_data", ndim, shape, dtype);
    if (!t) return NULL;
    memcpy(tg__ptr(t), data, (size_t)t->numel * tg_dtype_size(dtype));
    if (dtype == TG_BOOL) /* any nonzero byte is true; stored as 1 */
        for (int64_t i = 0; i < t->numel; i++)
            ((uint8_t *)tg__ptr(t))[i] = ((uint8_t *)tg__ptr(t))[i] != 0;
    return t;
}

tg_tensor *tg_from_buffer(void *data, int ndim, const int64_t *shape, tg_dtype dtype,
                          void (*deleter)(void *, void *), void *ctx) {
    int64_t numel;
    if (!data) {
        tg__null_arg("from_buffer");
        return NULL;
    }
    if (!tg__check_dtype("from_buffer", dtype) ||
        !tg__valid_shape("from_buffer", ndim, shape, &numel))
        return NULL;
    tg_tensor *t = header_new("from_buffer", ndim, shape, dtype, numel);
    tg__storage *s = t ? tg__alloc_cached(TG_CACHE_STORAGE, sizeof *s, "from_buffer") : NULL;
    if (!s) {
        tg_release(t);
        return NULL;
    }
    *s = (tg__storage){.refcount = 1,
                       .data = data,
                       .nbytes = (size_t)numel * tg_dtype_size(dtype),
                       .deleter = deleter,
                       .deleter_ctx = ctx};
    t->storage = s;
    tg__contiguous_strides(ndim, shape, t->strides);
    return tg__autorelease(t);
}

tg_tensor *tg_arange(double start, double end, double step, tg_dtype dtype) {
    if (dtype == TG_BOOL) {
        tg__error(TG_ERR_DTYPE, "arange: not implemented for bool (as in PyTorch)");
        return NULL;
    }
    if (dtype == TG_I64) { /* PyTorch converts the three to int64 first */
        start = trunc(start), end = trunc(end), step = trunc(step);
    }
    if (step == 0 || !isfinite(start) || !isfinite(end) || !isfinite(step) ||
        (end - start) / step < 0) {
        tg__error(TG_ERR_VALUE, "arange: cannot go from %g to %g in steps of %g", start, end, step);
        return NULL;
    }
    double count = ceil((end - start) / step);
    if (count > (double)(INT64_MAX / 8)) {
        tg__error(TG_ERR_VALUE, "arange: %g elements are too many", count);
        return NULL;
    }
    int64_t n = (int64_t)count;
    tg_tensor *t = tg__new("arange", 1, &n, dtype);
    if (!t) return NULL;
    size_t size = tg_dtype_size(dtype);
    for (int64_t i = 0; i < n; i++)
        tg__store_elem(dtype, (char *)tg__ptr(t) + (size_t)i * size, start + (double)i * step);
    return t;
}

int tg_set_name(tg_tensor *t, const char *name) {
    if (!t) {
        tg__null_arg("set_name");
        return -1;
    }
    char *copy = NULL;
    if (name) {
        copy = tg__alloc(strlen(name) + 1, "set_name");
        if (!copy) return -1;
        strcpy(copy, name);
    }
    tg__free(t->name);
    t->name = copy;
    return 0;
}

const char *tg_name(const tg_tensor *t) { return t ? t->name : NULL; }

/* ---- Inspection ------------------------------------------------------------------ */

tg_dtype tg_dtype_of(const tg_tensor *t) { return t ? t->dtype : TG_F32; }
int tg_ndim(const tg_tensor *t) { return t ? t->ndim : 0; }
const int64_t *tg_shape(const tg_tensor *t) { return t ? t->shape : NULL; }
const int64_t *tg_strides(const tg_tensor *t) { return t ? t->strides : NULL; }
int64_t tg_numel(const tg_tensor *t) { return t ? t->numel : 0; }
int64_t tg_offset(const tg_tensor *t) { return t ? t->offset : 0; }
void *tg_data(tg_tensor *t) { return t ? tg__ptr(t) : NULL; }

int64_t tg_size(const tg_tensor *t, int dim) {
    if (!t) {
        tg__null_arg("size");
        return -1;
    }
    if (!tg__wrap_dim("size", &dim, t->ndim)) return -1;
    return t->shape[dim];
}

bool tg_shares_storage(const tg_tensor *a, const tg_tensor *b) {
    return a && b && a->storage == b->storage;
}

bool tg_is_contiguous(const tg_tensor *t) { return t && tg__is_contiguous(t); }

static double load(const tg_tensor *t, int64_t elem_offset) {
    return tg__load_elem(t->dtype, (const char *)t->storage->data +
                                       (size_t)elem_offset * tg_dtype_size(t->dtype));
}

double tg_get(const tg_tensor *t, const int64_t *index) {
    if (!t || (t->ndim && !index)) {
        tg__null_arg("get");
        return NAN;
    }
    int64_t off = t->offset;
    for (int i = 0; i < t->ndim; i++) {
        if (index[i] < 0 || index[i] >= t->shape[i]) {
            char buf[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_VALUE, "get: index %lld out of range for dim %d of shape %s",
                      (long long)index[i], i, tg__shape_str(buf, sizeof buf, t->ndim, t->shape));
            return NAN;
        }
        off += index[i] * t->strides[i];
    }
    return load(t, off);
}

double tg_item(const tg_tensor *t) {
    if (!t) {
        tg__null_arg("item");
        return NAN;
    }
    if (t->numel != 1) {
        char buf[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "item: a tensor of shape %s has %lld elements, not one",
                  tg__shape_str(buf, sizeof buf, t->ndim, t->shape), (long long)t->numel);
        return NAN;
    }
    return load(t, t->offset);
}

int tg_to_doubles(const tg_tensor *t, double *out) {
    if (!t || !out) {
        tg__null_arg("to_doubles");
        return -1;
    }
    int64_t index[TG_MAX_DIMS] = {0};
    for (int64_t n = 0; n < t->numel; n++) {
        int64_t off = t->offset;
        for (int i = 0; i < t->ndim; i++) off += index[i] * t->strides[i];
        out[n] = load(t, off);
        for (int i = t->ndim - 1; i >= 0 && ++index[i] == t->shape[i]; i--) index[i] = 0;
    }
    return 0;
}
