/* core/kernel.c - the strided element loop and the few kernels the engine
 * itself needs (fill, copy, accumulate, sum). Ops build on tg__iter_run and
 * tg__map. */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "internal/kernel.h"

void tg__iter_init(tg__iter *it, int ndim, const int64_t *shape, int n_operands,
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

/* Runs fn over elements [begin, end) of the loop, in row-major order: the
 * rows they span, the first and the last possibly in part. */
static void run_range(const tg__iter *it, char **base, const size_t *elem_size, tg__row_fn fn,
                      void *ctx, int64_t begin, int64_t end) {
    if (begin >= end) return; /* also an empty loop, whose rows may have length 0 */
    int nd = it->ndim, no = it->n_operands;
    int64_t len = it->shape[nd - 1], row = begin / len, col = begin % len;
    int64_t inner[TG_ITER_MAX_OPERANDS];
    for (int o = 0; o < no; o++) inner[o] = it->strides[o][nd - 1];
    int64_t index[TG_MAX_DIMS] = {0}; /* of the row, over the outer dims */
    for (int d = nd - 2; d >= 0; d--) {
        index[d] = row % it->shape[d];
        row /= it->shape[d];
    }
    char *ptrs[TG_ITER_MAX_OPERANDS];
    for (int64_t at = begin; at < end;) {
        int64_t n = len - col < end - at ? len - col : end - at;
        for (int o = 0; o < no; o++) {
            int64_t off = col * inner[o];
            for (int d = 0; d < nd - 1; d++) off += index[d] * it->strides[o][d];
            ptrs[o] = base[o] + off * (int64_t)elem_size[o];
        }
        fn(ptrs, inner, n, ctx);
        at += n, col = 0;
        for (int d = nd - 2; d >= 0 && ++index[d] == it->shape[d]; d--) index[d] = 0;
    }
}

static int64_t iter_numel(const tg__iter *it) {
    int64_t n = 1;
    for (int d = 0; d < it->ndim; d++) n *= it->shape[d];
    return n;
}

void tg__iter_run(const tg__iter *it, char **base, const size_t *elem_size, tg__row_fn fn,
                  void *ctx) {
    run_range(it, base, elem_size, fn, ctx, 0, iter_numel(it));
}

void tg__iter_run_parallel(const tg__iter *it, char **base, const size_t *elem_size, tg__row_fn fn,
                           void *ctx) {
    int64_t total = iter_numel(it);
#ifdef _OPENMP
    int threads = total > TG_PARALLEL_MIN ? tg__num_threads() : 1;
    if (threads > 1) {
        /* Equal shares, cut at multiples of 16 elements: in a contiguous
         * float32 output (64-byte aligned, as tg__alloc's blocks are) no two
         * threads then write one cache line. */
        int64_t share = ((total + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel num_threads(threads)
        {
            int64_t begin = share * omp_get_thread_num();
            int64_t end = begin + share < total ? begin + share : total;
            if (begin < end) run_range(it, base, elem_size, fn, ctx, begin, end);
        }
        return;
    }
#endif
    run_range(it, base, elem_size, fn, ctx, 0, total);
}

/* Whether out and every input can be read as one row: out contiguous, each
 * input contiguous of out's shape or a single element (read with stride 0).
 * Most tensors of a training step are, and the row loop's set-up costs
 * more than a small tensor's arithmetic. */
static bool one_row(const tg_tensor *out, int n_in, const tg_tensor *const *in, int64_t *strides) {
    if (!tg__is_contiguous(out)) return false;
    strides[0] = 1;
    for (int i = 0; i < n_in; i++) {
        if (in[i]->numel == 1)
            strides[i + 1] = 0;
        else if (in[i]->numel == out->numel && tg__same_shape(in[i], out) &&
                 tg__is_contiguous(in[i]))
            strides[i + 1] = 1;
        else
            return false;
    }
    return true;
}

/* out, then each input broadcast to out's shape, through the strided row
 * loop: split among threads, or in order for kernels that need it. */
static void map_strided(tg_tensor *out, int n_in, const tg_tensor *const *in, tg__row_fn fn,
                        void *ctx, bool parallel) {
    int64_t in_strides[TG_ITER_MAX_OPERANDS - 1][TG_MAX_DIMS];
    const int64_t *strides[TG_ITER_MAX_OPERANDS] = {out->strides};
    char *base[TG_ITER_MAX_OPERANDS] = {tg__ptr(out)};
    size_t sizes[TG_ITER_MAX_OPERANDS] = {tg__elem_size(out->dtype)};
    for (int i = 0; i < n_in; i++) {
        tg__broadcast_strides(in[i], out->ndim, out->shape, in_strides[i]);
        strides[i + 1] = in_strides[i];
        base[i + 1] = tg__ptr(in[i]);
        sizes[i + 1] = tg__elem_size(in[i]->dtype);
    }
    tg__iter it;
    tg__iter_init(&it, out->ndim, out->shape, n_in + 1, strides);
    if (parallel)
        tg__iter_run_parallel(&it, base, sizes, fn, ctx);
    else
        tg__iter_run(&it, base, sizes, fn, ctx);
}

/* The same, as one call of fn when the tensors allow (one_row) and are too
 * small to split among threads. */
static void map(tg_tensor *out, int n_in, const tg_tensor *const *in, tg__row_fn fn, void *ctx,
                bool parallel) {
    int64_t row_strides[TG_ITER_MAX_OPERANDS];
    if (out->numel > TG_PARALLEL_MIN || out->numel == 0 || !one_row(out, n_in, in, row_strides)) {
        map_strided(out, n_in, in, fn, ctx, parallel);
        return;
    }
    char *ptrs[TG_ITER_MAX_OPERANDS];
    ptrs[0] = tg__ptr(out);
    for (int i = 0; i < n_in; i++) ptrs[i + 1] = tg__ptr(in[i]);
    fn(ptrs, row_strides, out->numel, ctx);
}

void tg__map(tg_tensor *out, int n_in, const tg_tensor *const *in, tg__row_fn fn, void *ctx) {
    map(out, n_in, in, fn, ctx, true);
}

void tg__map_ordered(tg_tensor *out, int n_in, const tg_tensor *const *in, tg__row_fn fn,
                     void *ctx) {
    map(out, n_in, in, fn, ctx, false);
}

/* ---- fill ---------------------------------------------------------------------- */

TG_ROWS0(fill_rows, TG_OWN, p[0])

/* Integer and bool tensors are filled with one element converted once
 * (tg__store_elem), which ctx points to. */
#define FILL_ELEM_ROW(name, T)                                           \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        T v = *(const T *)ctx;                                           \
        for (int64_t i = 0; i < n; i++) ((T *)p[0])[i * s[0]] = v;       \
    }
FILL_ELEM_ROW(fill_i64, int64_t)
FILL_ELEM_ROW(fill_bool, uint8_t)

void tg__fill(tg_tensor *dst, double value) {
    if (tg_dtype_is_float(dst->dtype)) {
        tg__map(dst, 0, NULL, fill_rows[dst->dtype], &(tg__row_ctx){.p = {value}});
        return;
    }
    int64_t elem;
    tg__store_elem(dst->dtype, &elem, value);
    tg__map(dst, 0, NULL, dst->dtype == TG_I64 ? fill_i64 : fill_bool, &elem);
}

/* ---- copy with conversion ---------------------------------------------------------- */

/* The one kernel with two element types: the row family's body, reading
 * operand 1 as TS and converting it with TO_TD (tg_to_dtype's rules). */
#define TO_float(x) ((float)(x))
#define TO_double(x) ((double)(x))
#define TO_int64_t(x) \
    _Generic((x), float : tg__to_i64(x), double : tg__to_i64(x), default : (int64_t)(x))
#define TO_uint8_t(x) ((uint8_t)((x) != 0))
#define COPY_ROW(name, TD, TS)                                               \
    TG__ROW_BODY(name, TD, TD, TG__OUT(TD, 0) = TO_##TD(TG__IN(TS, TS, 1));) \
    TG_ROW_KERNEL(name, name##_body, 2)
/* The four copies into TD, from each dtype in tg_dtype's order. */
#define COPY_ROWS_INTO(TD)                     \
    COPY_ROW(copy_##TD##_float, TD, float)     \
    COPY_ROW(copy_##TD##_double, TD, double)   \
    COPY_ROW(copy_##TD##_int64_t, TD, int64_t) \
    COPY_ROW(copy_##TD##_uint8_t, TD, uint8_t)
#define COPY_TABLE_ROW(TD) \
    { copy_##TD##_float, copy_##TD##_double, copy_##TD##_int64_t, copy_##TD##_uint8_t }
COPY_ROWS_INTO(float)
COPY_ROWS_INTO(double)
COPY_ROWS_INTO(int64_t)
COPY_ROWS_INTO(uint8_t)

void tg__copy_into(tg_tensor *dst, const tg_tensor *src) {
    static const tg__row_fn table[4][4] = {COPY_TABLE_ROW(float), COPY_TABLE_ROW(double),
                                           COPY_TABLE_ROW(int64_t), COPY_TABLE_ROW(uint8_t)};
    tg__map(dst, 1, &src, table[dst->dtype][src->dtype], NULL);
}

tg_tensor *tg__contiguous_copy_owned(const char *op, const tg_tensor *t) {
    tg_tensor *c = tg__new_owned(op, t->ndim, t->shape, t->dtype);
    if (c) tg__copy_into(c, t);
    return c;
}

/* ---- accumulate: dst = a + b, often dst += b ---------------------------------------- */

TG_ROWS2(sum_rows, TG_OWN, a, b, a + b)

void tg__add_into(tg_tensor *dst, const tg_tensor *a, const tg_tensor *b) {
    tg__map(dst, 2, (const tg_tensor *[]){a, b}, sum_rows[dst->dtype], NULL);
}

/* ---- sums in double: over broadcast dims, and of all elements ---------------------- */

/* acc (double or int64) += x (float, double, int64 or bool) element by element. */
#define ACC_ROW(name, TA, TX)                                             \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {  \
        (void)ctx;                                                        \
        TA *acc = (TA *)p[0];                                             \
        const TX *x = (const TX *)p[1];                                   \
        for (int64_t i = 0; i < n; i++) acc[i * s[0]] += (TA)x[i * s[1]]; \
    }
ACC_ROW(acc_row_f32, double, float)
ACC_ROW(acc_row_f64, double, double)
ACC_ROW(acc_row_bool, int64_t, uint8_t)
/* int64 sums wrap past the ends, as PyTorch's do (two's complement), where
 * C leaves a signed overflow undefined: they add as uint64. */
static void acc_row_i64(char **p, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    int64_t *acc = (int64_t *)p[0];
    const int64_t *x = (const int64_t *)p[1];
    for (int64_t i = 0; i < n; i++)
        acc[i * s[0]] = (int64_t)((uint64_t)acc[i * s[0]] + (uint64_t)x[i * s[1]]);
}

void tg__accumulate_sum(tg_tensor *acc, const int64_t *acc_strides, const tg_tensor *t) {
    static const tg__row_fn rows[] = {acc_row_f32, acc_row_f64, acc_row_i64, acc_row_bool};
    const int64_t *strides[2] = {acc_strides, t->strides};
    tg__iter it;
    tg__iter_init(&it, t->ndim, t->shape, 2, strides);
    char *base[2] = {tg__ptr(acc), tg__ptr((tg_tensor *)t)};
    size_t sizes[2] = {8, tg_dtype_size(t->dtype)};
    tg__iter_run(&it, base, sizes, rows[t->dtype], NULL);
}

tg_tensor *tg__sum_to(tg_tensor *g, int ndim, const int64_t *shape) {
    if (!g) return NULL;
    if (g->ndim == ndim && memcmp(g->shape, shape, (size_t)ndim * sizeof *shape) == 0) return g;
    tg_tensor *acc = tg__new("sum_to", ndim, shape, TG_F64);
    if (!acc) return NULL;
    tg__fill(acc, 0.0);
    int64_t acc_strides[TG_MAX_DIMS];
    tg__broadcast_strides(acc, g->ndim, g->shape, acc_strides);
    tg__accumulate_sum(acc, acc_strides, g);
    if (g->dtype == TG_F64) return acc;
    tg_tensor *out = tg__new("sum_to", ndim, shape, g->dtype);
    if (out) tg__copy_into(out, acc);
    return out;
}

/* ---- sum of all elements ------------------------------------------------------------ */

/* Pairwise summation keeps the rounding error O(log n) instead of O(n), the
 * way NumPy and PyTorch sum, so float32 means match theirs closely. */
#define PAIRWISE(name, T)                                            \
    static double name(const T *x, int64_t n, int64_t s) {           \
        if (n <= 32) {                                               \
            double acc = 0;                                          \
            for (int64_t i = 0; i < n; i++) acc += (double)x[i * s]; \
            return acc;                                              \
        }                                                            \
        int64_t h = n / 2;                                           \
        return name(x, h, s) + name(x + h * s, n - h, s);            \
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
    if (tg__is_contiguous(t)) { /* one row, as the loop below would make it */
        (t->dtype == TG_F32 ? sum_row_f32 : sum_row_f64)((char *[]){tg__ptr(t)}, (int64_t[]){1},
                                                         t->numel, &acc);
        return acc;
    }
    const int64_t *strides[1] = {t->strides};
    tg__iter it;
    tg__iter_init(&it, t->ndim, t->shape, 1, strides);
    char *base[1] = {tg__ptr((tg_tensor *)t)};
    size_t sizes[1] = {tg_dtype_size(t->dtype)};
    tg__iter_run(&it, base, sizes, t->dtype == TG_F32 ? sum_row_f32 : sum_row_f64, &acc);
    return acc;
}
