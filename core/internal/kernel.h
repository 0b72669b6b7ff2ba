/* core/internal/kernel.h - element loops over strided tensors, the row
 * kernels they run, and the library's thread count. Users never see it. */
#ifndef TAPEGRAD_INTERNAL_KERNEL_H
#define TAPEGRAD_INTERNAL_KERNEL_H

#include "internal/tensor.h"

/* ---- Kernels over strided tensors (core/kernel.c) ----------------------------
 * An element loop over up to three operands of one shape, each with its own
 * strides (0 for broadcast dims) and base pointer, coalescing contiguous
 * dims so that the inner loop is long. */
#define TG_ITER_MAX_OPERANDS 4
typedef struct tg_iter {
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_ITER_MAX_OPERANDS][TG_MAX_DIMS]; /* in elements */
    int n_operands;
} tg_iter;
void tg__iter_init(tg_iter *it, int ndim, const int64_t *shape, int n_operands,
                   const int64_t *const *strides);
/* Calls fn(ptrs, inner strides, n, ctx) once per innermost row, in order;
 * base and elem_size give each operand's first element and element size.
 * For kernels that need the order: they draw random numbers, or sum into
 * ctx, or several elements write one output (a reduction). */
typedef void (*tg_row_fn)(char **ptrs, const int64_t *inner_strides, int64_t n,
                          void *ctx);
void tg__iter_run(const tg_iter *it, char **base, const size_t *elem_size,
                  tg_row_fn fn, void *ctx);
/* The same for a kernel whose elements are independent (each output element
 * is a function of the inputs at its place; ctx is only read): a loop of
 * more than TG_PARALLEL_MIN elements is split among the threads of
 * tapegrad/parallel.h, fn then seeing rows, or pieces of rows, in any order
 * and at once. Results are the same as tg__iter_run's. The threshold keeps
 * each thread a few microseconds of work, against about one that starting
 * and joining them costs (measured: 2048 to 8192 alike, 32768 slower on
 * the small benchmark workload). */
#define TG_PARALLEL_MIN 8192
void tg__iter_run_parallel(const tg_iter *it, char **base, const size_t *elem_size,
                           tg_row_fn fn, void *ctx);
/* The usual way to run a row kernel: out (written) and n_in inputs of
 * out's dtype, each broadcast to out's shape (n_in <= 3), elements
 * independent (tg__iter_run_parallel). tg__map_ordered runs them in order
 * on this thread (tg__iter_run). */
void tg__map(tg_tensor *out, int n_in, const tg_tensor *const *in, tg_row_fn fn, void *ctx);
void tg__map_ordered(tg_tensor *out, int n_in, const tg_tensor *const *in, tg_row_fn fn,
                     void *ctx);
/* dst[i] += src[i] over equal shapes (dst may be strided). */
void tg__accumulate(tg_tensor *dst, const tg_tensor *src);
/* dst <- src elementwise, converting dtype; src broadcast to dst's shape. */
void tg__copy_into(tg_tensor *dst, const tg_tensor *src);
/* Fills dst with value. */
void tg__fill(tg_tensor *dst, double value);
/* acc (float64) += t, where acc_strides read acc in t's dims: 0 along the
 * dims that are summed away, so each element of t lands on its slot. */
void tg__accumulate_f64(tg_tensor *acc, const int64_t *acc_strides, const tg_tensor *t);
/* Sums g over the dimensions that broadcasting stretched, giving a tensor
 * of (ndim, shape) (pooled, in double and then rounded to g's dtype once);
 * g itself when the shapes already match. The backward of every
 * broadcasting op ends with it. */
tg_tensor *tg__sum_to(tg_tensor *g, int ndim, const int64_t *shape);
/* Sum of all elements, in double (pairwise within rows). */
double tg__sum_all(const tg_tensor *t);
/* A contiguous copy of t, owned by the caller (not pooled). */
tg_tensor *tg__contiguous_copy_owned(const char *op, const tg_tensor *t);

/* ---- Vectorised kernels ----------------------------------------------------------
 * TG_HOT marks a hot elementwise kernel that GCC compiles three times, for
 * x86-64-v4 (AVX-512), x86-64-v3 (AVX2 and FMA) and the x86-64 baseline, the
 * loader picking the one the CPU runs (function multi-versioning): the
 * library stays runnable on any x86-64 yet uses the wide vectors where they
 * exist, and on v3 and v4 fma() is one instruction instead of a libm call.
 * All versions compute the same numbers: a vector instruction rounds as its
 * scalar one does, and fma() is fused in each.
 * TG_SIMD, before such a loop, has it vectorised (OpenMP's `omp simd`,
 * which meson enables with -fopenmp-simd): it states that no iteration
 * depends on another, which holds for elementwise loops, whose output is a
 * new tensor or the very elements of an input (in place), never a shifted
 * copy of one (prepare_inplace copies such an input first). GCC -O2 alone
 * vectorises only loops it can prove need no scalar epilogue. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TG_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TG_HOT
#endif
#define TG_SIMD _Pragma("omp simd")
#define TG_ALWAYS_INLINE inline __attribute__((always_inline))

/* TG_ROW_KERNEL(name, body, n_operands) defines name, a tg_row_fn (see
 * above) over n_operands operands, around body, an always-inline function
 * of the same signature whose loop is marked TG_SIMD: name calls body with
 * constant unit strides when every operand has them, so that this copy of
 * the loop is contiguous and vectorises, and with the given ones otherwise.
 * TG_ROW_KERNEL_LIKE(name, body, n_operands, s0, s1, ...) also has a copy
 * for the constant strides s0, s1, ..., say 1, 1, 0 for a binary op whose
 * second operand is one value broadcast. */
static inline bool tg__strides_are(const int64_t *s, const int64_t *want, int n_operands) {
    for (int k = 0; k < n_operands; k++)
        if (s[k] != want[k]) return false;
    return true;
}
static const int64_t tg__unit_strides[TG_ITER_MAX_OPERANDS] = {1, 1, 1, 1};
#define TG_ROW_KERNEL(name, body, n_operands)                                          \
    TG_HOT static void name(char **p, const int64_t *s, int64_t n, void *ctx) {        \
        if (tg__strides_are(s, tg__unit_strides, (n_operands)))                        \
            body(p, tg__unit_strides, n, ctx);                                         \
        else                                                                           \
            body(p, s, n, ctx);                                                        \
    }
#define TG_ROW_KERNEL_LIKE(name, body, n_operands, ...)                                \
    TG_HOT static void name(char **p, const int64_t *s, int64_t n, void *ctx) {        \
        static const int64_t usual[TG_ITER_MAX_OPERANDS] = {__VA_ARGS__};              \
        if (tg__strides_are(s, tg__unit_strides, (n_operands)))                        \
            body(p, tg__unit_strides, n, ctx);                                         \
        else if (tg__strides_are(s, usual, (n_operands)))                              \
            body(p, usual, n, ctx);                                                    \
        else                                                                           \
            body(p, s, n, ctx);                                                        \
    }

/* ---- Threads (core/parallel.c) ------------------------------------------------ */
/* The thread count of tapegrad/parallel.h. The first call reads
 * TG_NUM_THREADS and hands it to BLIS, so gemm calls this before BLIS runs. */
int tg__num_threads(void);

#endif
