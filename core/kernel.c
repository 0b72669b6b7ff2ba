/* core/kernel.c - the strided element loop and the few kernels the engine
 * itself needs (fill, copy, accumulate, sum). Ops build on tg__iter_run. */
#include <string.h>

#include "internal.h"

void tg__iter_init(tg_iter *it, int ndim, const int64_t *shape, int n_operands,
                   const int64_t *const *strides) {
    it->n_operands = n_operands;
    it->ndim = 0;
    /* Keep dims of size != 1, then merge a dim into the next one wherever
     * every operand steps over it as one longer row. */
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1) continue;
        int k = it->ndim;
        bool merge = k > 0;
        for (int o = 0; o < n_operands && merge; o++)
            merge = it->strides[o][k - 1] == strides[o][d] * shape[d];
        if (merge) {
            it->shape[k - 1] *= shape[d];
            for (int o = 0; o < n_operands; o++) it->strides[o][k - 1] = strides[o][d];
        } else {
            it->shape[k] = shape[d];
            for (int o = 0; o < n_operands; o++) it->strides[o][k] = strides[o][d];
            it->ndim++;
        }
    }
    if (it->ndim == 0) { /* a single element */
        it->shape[0] = 1;
        for (int o = 0; o < n_operands; o++) it->strides[o][0] = 1;
        it->ndim = 1;
    }
}

void tg__iter_run(const tg_iter *it, char **base, const size_t *elem_size, tg_row_fn fn,
                  void *ctx) {
    int nd = it->ndim, no = it->n_operands;
    int64_t rows = 1;
    for (int d = 0; d < nd - 1; d++) rows *= it->shape[d];
    if (rows == 0 || it->shape[nd - 1] == 0) return;
    int64_t inner[TG_ITER_MAX_OPERANDS];
    for (int o = 0; o < no; o++) inner[o] = it->strides[o][nd - 1];
    int64_t index[TG_MAX_DIMS] = {0};
    char *ptrs[TG_ITER_MAX_OPERANDS];
    for (int64_t r = 0; r < rows; r++) {
        for (int o = 0; o < no; o++) {
            int64_t off = 0;
            for (int d = 0; d < nd - 1; d++) off += index[d] * it->strides[o][d];
            ptrs[o] = base[o] + off * (int64_t)elem_size[o];
        }
        fn(ptrs, inner, it->shape[nd - 1], ctx);
        for (int d = nd - 2; d >= 0 && ++index[d] == it->shape[d]; d--) index[d] = 0;
    }
}

void tg__map(tg_tensor *out, int n_in, const tg_tensor *const *in, tg_row_fn fn, void *ctx) {
    int64_t in_strides[TG_ITER_MAX_OPERANDS - 1][TG_MAX_DIMS];
    const int64_t *strides[TG_ITER_MAX_OPERANDS] = {out->strides};
    char *base[TG_ITER_MAX_OPERANDS] = {tg__ptr(out)};
    size_t sizes[TG_ITER_MAX_OPERANDS] = {tg_dtype_size(out->dtype)};
    for (int i = 0; i < n_in; i++) {
        tg__broadcast_strides(in[i], out->ndim, out->shape, in_strides[i]);
        strides[i + 1] = in_strides[i];
        base[i + 1] = tg__ptr(in[i]);
        sizes[i + 1] = sizes[0];
    }
    tg_iter it;
    tg__iter_init(&it, out->ndim, out->shape, n_in + 1, strides);
    tg__iter_run(&it, base, sizes, fn, ctx);
}

/* ---- fill ---------------------------------------------------------------------- */

static void fill_f32(char **p, const int64_t *s, int64_t n, void *ctx) {
    float v = (float)*(double *)ctx, *d = (float *)p[0];
    for (int64_t i = 0; i < n; i++) d[i * s[0]] = v;
}
static void fill_f64(char **p, const int64_t *s, int64_t n, void *ctx) {
    double v = *(double *)ctx, *d = (double *)p[0];
    for (int64_t i = 0; i < n; i++) d[i * s[0]] = v;
}

void tg__fill(tg_tensor *dst, double value) {
    tg__map(dst, 0, NULL, dst->dtype == TG_F32 ? fill_f32 : fill_f64, &value);
}

/* ---- copy with conversion ---------------------------------------------------------- */

#define COPY_ROW(name, TD, TS)                                                   \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {         \
        (void)ctx;                                                               \
        TD *d = (TD *)p[0];                                                      \
        const TS *src = (const TS *)p[1];                                        \
        for (int64_t i = 0; i < n; i++) d[i * s[0]] = (TD)src[i * s[1]];         \
    }
COPY_ROW(copy_f32_f32, float, float)
COPY_ROW(copy_f32_f64, float, double)
COPY_ROW(copy_f64_f32, double, float)
COPY_ROW(copy_f64_f64, double, double)

void tg__copy_into(tg_tensor *dst, const tg_tensor *src) {
    static const tg_row_fn table[2][2] = {{copy_f32_f32, copy_f32_f64},
                                          {copy_f64_f32, copy_f64_f64}};
    int64_t src_strides[TG_MAX_DIMS];
    tg__broadcast_strides(src, dst->ndim, dst->shape, src_strides);
    const int64_t *strides[2] = {dst->strides, src_strides};
    tg_iter it;
    tg__iter_init(&it, dst->ndim, dst->shape, 2, strides);
    char *base[2] = {tg__ptr(dst), tg__ptr((tg_tensor *)src)};
    size_t sizes[2] = {tg_dtype_size(dst->dtype), tg_dtype_size(src->dtype)};
    tg__iter_run(&it, base, sizes, table[dst->dtype][src->dtype], NULL);
}

tg_tensor *tg__contiguous_copy_owned(const char *op, const tg_tensor *t) {
    tg_tensor *c = tg__new_owned(op, t->ndim, t->shape, t->dtype);
    if (c) tg__copy_into(c, t);
    return c;
}

/* ---- accumulate: dst += src ------------------------------------------------------- */

static void acc_f32(char **p, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    float *d = (float *)p[0];
    const float *a = (const float *)p[1];
    if (s[0] == 1 && s[1] == 1)
        for (int64_t i = 0; i < n; i++) d[i] += a[i];
    else
        for (int64_t i = 0; i < n; i++) d[i * s[0]] += a[i * s[1]];
}
static void acc_f64(char **p, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    double *d = (double *)p[0];
    const double *a = (const double *)p[1];
    if (s[0] == 1 && s[1] == 1)
        for (int64_t i = 0; i < n; i++) d[i] += a[i];
    else
        for (int64_t i = 0; i < n; i++) d[i * s[0]] += a[i * s[1]];
}

void tg__accumulate(tg_tensor *dst, const tg_tensor *src) {
    tg__map(dst, 1, &src, dst->dtype == TG_F32 ? acc_f32 : acc_f64, NULL);
}

/* ---- sum of all elements ------------------------------------------------------------ */

/* Pairwise summation keeps the rounding error O(log n) instead of O(n), the
 * way NumPy and PyTorch sum, so float32 means match theirs closely. */
#define PAIRWISE(name, T)                                                        \
    static double name(const T *x, int64_t n, int64_t s) {                       \
        if (n <= 32) {                                                           \
            double acc = 0;                                                      \
            for (int64_t i = 0; i < n; i++) acc += (double)x[i * s];             \
            return acc;                                                          \
        }                                                                        \
        int64_t h = n / 2;                                                       \
        return name(x, h, s) + name(x + h * s, n - h, s);                        \
    }
PAIRWISE(pairwise_f32, float)
PAIRWISE(pairwise_f64, double)

static void sum_row_f32(char **p, const int64_t *s, int64_t n, void *ctx) {
    *(double *)ctx += pairwise_f32((const float *)p[0], n, s[0]);
}
static void sum_row_f64(char **p, const int64_t *s, int64_t n, void *ctx) {
    *(double *)ctx += pairwise_f64((const double *)p[0], n, s[0]);
}

double tg__sum_all(const tg_tensor *t) {
    double acc = 0;
    const int64_t *strides[1] = {t->strides};
    tg_iter it;
    tg__iter_init(&it, t->ndim, t->shape, 1, strides);
    char *base[1] = {tg__ptr((tg_tensor *)t)};
    size_t sizes[1] = {tg_dtype_size(t->dtype)};
    tg__iter_run(&it, base, sizes, t->dtype == TG_F32 ? sum_row_f32 : sum_row_f64, &acc);
    return acc;
}
