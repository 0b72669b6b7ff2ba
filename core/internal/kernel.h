/* core/internal/kernel.h - element loops over strided tensors, the row
 * kernels they run, and the library's thread count. Users never see it. */
#ifndef TAPEGRAD_INTERNAL_KERNEL_H
#define TAPEGRAD_INTERNAL_KERNEL_H

#include <string.h>

#include "internal/tensor.h"

/* ---- Kernels over strided tensors (core/kernel.c) ----------------------------
 * An element loop over up to five operands of one shape, each with its own
 * strides (0 for broadcast dims) and base pointer, coalescing contiguous
 * dims so that the inner loop is long. */
#define TG_ITER_MAX_OPERANDS 5
typedef struct tg__iter {
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_ITER_MAX_OPERANDS][TG_MAX_DIMS]; /* in elements */
    int n_operands;
} tg__iter;
void tg__iter_init(tg__iter *it, int ndim, const int64_t *shape, int n_operands,
                   const int64_t *const *strides);
/* Calls fn(ptrs, inner strides, n, ctx) once per innermost row, in order;
 * base and elem_size give each operand's first element and element size.
 * For kernels that need the order: they draw random numbers, or sum into
 * ctx, or several elements write one output (a reduction). */
typedef void (*tg__row_fn)(char **ptrs, const int64_t *inner_strides, int64_t n, void *ctx);
void tg__iter_run(const tg__iter *it, char **base, const size_t *elem_size, tg__row_fn fn,
                  void *ctx);
/* The same for a kernel whose elements are independent (each output element
 * is a function of the inputs at its place; ctx is only read): a loop of
 * more than TG_PARALLEL_MIN elements is split among the threads of
 * tapegrad/parallel.h, fn then seeing rows, or pieces of rows, in any order
 * and at once. Results are the same as tg__iter_run's. The threshold keeps
 * each thread a few microseconds of work, against about one that starting
 * and joining them costs (measured: 2048 to 8192 alike, 32768 slower on
 * the small benchmark workload). */
#define TG_PARALLEL_MIN 8192
void tg__iter_run_parallel(const tg__iter *it, char **base, const size_t *elem_size, tg__row_fn fn,
                           void *ctx);
/* The usual way to run a row kernel: out (written) and n_in inputs (most
 * often of out's dtype: where's condition is bool), each broadcast to out's shape (n_in <= 4), elements
 * independent (tg__iter_run_parallel). tg__map_ordered runs them in order
 * on this thread (tg__iter_run). */
void tg__map(tg_tensor *out, int n_in, const tg_tensor *const *in, tg__row_fn fn, void *ctx);
void tg__map_ordered(tg_tensor *out, int n_in, const tg_tensor *const *in, tg__row_fn fn,
                     void *ctx);
/* dst[i] = a[i] + b[i] over equal shapes (dst may be strided, and may be a
 * itself: dst += b). */
void tg__add_into(tg_tensor *dst, const tg_tensor *a, const tg_tensor *b);
/* dst <- src elementwise, converting dtype; src broadcast to dst's shape. */
void tg__copy_into(tg_tensor *dst, const tg_tensor *src);
/* Fills dst with value. */
void tg__fill(tg_tensor *dst, double value);
/* acc += t, where acc_strides read acc in t's dims: 0 along the dims that
 * are summed away, so each element of t lands on its slot. acc is float64
 * for a floating-point t, int64 for an int64 or bool one (the dtype
 * PyTorch sums those in, exactly). */
void tg__accumulate_sum(tg_tensor *acc, const int64_t *acc_strides, const tg_tensor *t);
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

/* TG_ROW_KERNEL(name, body, n_operands) defines name, a tg__row_fn (see
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
static const int64_t tg__unit_strides[TG_ITER_MAX_OPERANDS] = {1, 1, 1, 1, 1};
#define TG_ROW_KERNEL(name, body, n_operands)                                   \
    TG_HOT static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        if (tg__strides_are(s, tg__unit_strides, (n_operands)))                 \
            body(p, tg__unit_strides, n, ctx);                                  \
        else                                                                    \
            body(p, s, n, ctx);                                                 \
    }
#define TG_ROW_KERNEL_LIKE(name, body, n_operands, ...)                         \
    TG_HOT static void name(char **p, const int64_t *s, int64_t n, void *ctx) { \
        static const int64_t usual[TG_ITER_MAX_OPERANDS] = {__VA_ARGS__};       \
        if (tg__strides_are(s, tg__unit_strides, (n_operands)))                 \
            body(p, tg__unit_strides, n, ctx);                                  \
        else if (tg__strides_are(s, usual, (n_operands)))                       \
            body(p, usual, n, ctx);                                             \
        else                                                                    \
            body(p, s, n, ctx);                                                 \
    }

/* ---- Row kernels from formulas ----------------------------------------------------
 * The one way the library writes an elementwise kernel: a formula in the
 * names it reads, turned into row kernels for both dtypes by
 *
 *   TG_ROWS0(name, COMPUTE, formula)                 out = formula
 *   TG_ROWS1(name, COMPUTE, x, formula)              out = formula(x)
 *   TG_ROWS2(name, COMPUTE, a, b, formula)           out = formula(a, b)
 *   TG_ROWS3(name, COMPUTE, a, b, c, formula)        out = formula(a, b, c)
 *   TG_ROWS4(name, COMPUTE, a, b, c, d, formula)     out = formula(a, b, c, d)
 *   TG_ROWS_PAIR(name, COMPUTE, a, b, c, pair)       two outputs from one tg__pair
 *   TG_ROWS_ORDERED0(name, COMPUTE, formula)         TG_ROWS0, elements in order
 *   TG_ROWS_ORDERED1(name, COMPUTE, x, formula)      TG_ROWS1, elements in order
 *   TG_ROWS1_NEAR, TG_ROWS2_NEAR, TG_ROWS_PAIR_NEAR  float32 with a fast path (below)
 *   TG_ROWS2_SAVING_NEAR, TG_ROWS_PAIR_SAVED_NEAR    the same, a value kept for the backward
 *
 * each of which defines name_f32 and name_f64 (tg__row_fn) and name, the
 * table of both indexed by dtype (NULL for int64 and bool: an op that takes
 * those too makes a table of its own from the two kernels, leaving this
 * one unused). Operand 0 of a row is the output; the
 * named inputs are operands 1 to 4, read as COMPUTE:
 *   TG_OWN     the tensor's own type: float formulas in float, as PyTorch
 *              computes arithmetic (with <tgmath.h>, exp(x) is expf there);
 *   TG_DOUBLE  double: a float32 element widens exactly and the result is
 *              rounded once, when stored, so one formula serves both dtypes
 *              and float32 results are at least as accurate as PyTorch's.
 * A formula may read p[0] to p[3], the parameters of its tg__row_ctx rounded
 * to the tensor's dtype (as PyTorch rounds a slope or an alpha before using
 * it on a float32 tensor), raw[0] to raw[3], the same unrounded, gen, the
 * context's generator, and ctx.
 * The rounding happens here, where T is known: done once in the op, as
 * `f32 ? (float)v : v`, GCC 12.2 at -O2 vectorised the pair and dropped it.
 * TG_ROWS_PAIR writes pair.first to operand 0 and pair.second `second`
 * elements after it (two outputs laid out alike in one buffer: the
 * iterator takes four operands and the kernel reads three).
 * TG_ROWS_ORDERED* are for kernels that draw random numbers: one draw per
 * element in row-major order, so no TG_SIMD (run with tg__map_ordered).
 * Every other kernel is a TG_ROW_KERNEL whose formula, written in
 * arithmetic only, vectorises in its unit-stride copy; kernels of two or
 * more inputs also get a copy for a last input that is one value broadcast. */

/* What a row kernel's ctx points to (NULL reads as all zeros). */
typedef struct tg__row_ctx {
    double p[4];       /* the op's parameters: slope, alpha, exponent, ... */
    int64_t second;    /* TG_ROWS_PAIR: the second output's place, in elements from the first */
    tg_generator *gen; /* random draws (TG_ROWS_ORDERED1) */
} tg__row_ctx;

typedef struct tg__pair {
    double first, second;
} tg__pair;
#define TG_PAIR(a, b) ((tg__pair){(a), (b)})

#define TG_OWN(T) T
#define TG_DOUBLE(T) double

/* Operand k of a row at element i_, read as C; and written. */
#define TG__IN(T, C, k) ((C)((const T *)ptr_[k])[i_ * s_[k]])
#define TG__OUT(T, k) ((T *)ptr_[k])[i_ * s_[k]]

#define TG__ROW_PROLOGUE(T, C)                            \
    const tg__row_ctx *row_ctx_ = ctx;                    \
    static const tg__row_ctx zero_ctx_;                   \
    if (!row_ctx_) row_ctx_ = &zero_ctx_;                 \
    const double *raw = row_ctx_->p;                      \
    tg_generator *gen = row_ctx_->gen;                    \
    C p[4];                                               \
    for (int k_ = 0; k_ < 4; k_++) p[k_] = (C)(T)raw[k_]; \
    (void)p, (void)raw, (void)gen;

/* name_body runs `...` (statements) for each element of a row, as one
 * TG_SIMD loop. */
#define TG__ROW_BODY(name, T, C, ...)                                                    \
    static TG_ALWAYS_INLINE void name##_body(char **ptr_, const int64_t *s_, int64_t n_, \
                                             void *ctx) {                                \
        TG__ROW_PROLOGUE(T, C)                                                           \
        TG_SIMD                                                                          \
        for (int64_t i_ = 0; i_ < n_; i_++) {                                            \
            __VA_ARGS__                                                                  \
        }                                                                                \
    }

#define TG__ROW0(name, T, C, ...)                               \
    TG__ROW_BODY(name, T, C, TG__OUT(T, 0) = (T)(__VA_ARGS__);) \
    TG_ROW_KERNEL(name, name##_body, 1)
#define TG__ROW1(name, T, C, x, ...)                                                   \
    TG__ROW_BODY(name, T, C, C x = TG__IN(T, C, 1); TG__OUT(T, 0) = (T)(__VA_ARGS__);) \
    TG_ROW_KERNEL(name, name##_body, 2)
#define TG__ROW2(name, T, C, a, b, ...)                                    \
    TG__ROW_BODY(name, T, C, C a = TG__IN(T, C, 1); C b = TG__IN(T, C, 2); \
                 TG__OUT(T, 0) = (T)(__VA_ARGS__);)                        \
    TG_ROW_KERNEL_LIKE(name, name##_body, 3, 1, 1, 0)
#define TG__ROW3(name, T, C, a, b, c, ...)                                                        \
    TG__ROW_BODY(name, T, C, C a = TG__IN(T, C, 1); C b = TG__IN(T, C, 2); C c = TG__IN(T, C, 3); \
                 TG__OUT(T, 0) = (T)(__VA_ARGS__);)                                               \
    TG_ROW_KERNEL_LIKE(name, name##_body, 4, 1, 1, 1, 0)
#define TG__ROW4(name, T, C, a, b, c, d, ...)                                                     \
    TG__ROW_BODY(name, T, C, C a = TG__IN(T, C, 1); C b = TG__IN(T, C, 2); C c = TG__IN(T, C, 3); \
                 C d = TG__IN(T, C, 4); TG__OUT(T, 0) = (T)(__VA_ARGS__);)                        \
    TG_ROW_KERNEL_LIKE(name, name##_body, 5, 1, 1, 1, 1, 0)
#define TG__ROW_PAIR(name, T, C, a, b, c, ...)                                                    \
    TG__ROW_BODY(name, T, C, C a = TG__IN(T, C, 1); C b = TG__IN(T, C, 2); C c = TG__IN(T, C, 3); \
                 tg__pair pair_ = (__VA_ARGS__); TG__OUT(T, 0) = (T)pair_.first;                  \
                 ((T *)ptr_[0] + row_ctx_->second)[i_ * s_[0]] = (T)pair_.second;)                \
    TG_ROW_KERNEL_LIKE(name, name##_body, 4, 1, 1, 1, 0)
#define TG__ROW_ORDERED(name, T, C, ...)                                      \
    static void name(char **ptr_, const int64_t *s_, int64_t n_, void *ctx) { \
        TG__ROW_PROLOGUE(T, C)                                                \
        for (int64_t i_ = 0; i_ < n_; i_++) {                                 \
            __VA_ARGS__                                                       \
        }                                                                     \
    }
#define TG__ROW_ORDERED0(name, T, C, ...) \
    TG__ROW_ORDERED(name, T, C, TG__OUT(T, 0) = (T)(__VA_ARGS__);)
#define TG__ROW_ORDERED1(name, T, C, x, ...) \
    TG__ROW_ORDERED(name, T, C, C x = TG__IN(T, C, 1); TG__OUT(T, 0) = (T)(__VA_ARGS__);)

/* The float32 and float64 kernels of one kind, and their table by dtype. */
#define TG__ROWS_TABLE(name) \
    static const tg__row_fn name[TG__N_DTYPES] __attribute__((unused)) = {name##_f32, name##_f64};
#define TG__ROWS(KIND, name, COMPUTE, ...)                        \
    TG__ROW##KIND(name##_f32, float, COMPUTE(float), __VA_ARGS__) \
        TG__ROW##KIND(name##_f64, double, COMPUTE(double), __VA_ARGS__) TG__ROWS_TABLE(name)
#define TG_ROWS0(name, COMPUTE, ...) TG__ROWS(0, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS1(name, COMPUTE, ...) TG__ROWS(1, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS2(name, COMPUTE, ...) TG__ROWS(2, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS3(name, COMPUTE, ...) TG__ROWS(3, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS4(name, COMPUTE, ...) TG__ROWS(4, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS_PAIR(name, COMPUTE, ...) TG__ROWS(_PAIR, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS_ORDERED0(name, COMPUTE, ...) TG__ROWS(_ORDERED0, name, COMPUTE, __VA_ARGS__)
#define TG_ROWS_ORDERED1(name, COMPUTE, ...) TG__ROWS(_ORDERED1, name, COMPUTE, __VA_ARGS__)

/* ---- Float32 kernels with a fast path --------------------------------------------
 *   TG_ROWS1_NEAR(name, x, exact, near)
 *   TG_ROWS2_NEAR(name, a, b, exact, near)
 *   TG_ROWS_PAIR_NEAR(name, a, b, c, exact, near)      exact a tg__pair
 * are TG_ROWS1, TG_ROWS2 and TG_ROWS_PAIR with TG_DOUBLE and formula exact,
 * whose float32 kernel first runs near: a tg__near, the float32 result(s)
 * of a cheaper double formula, and whether they are sure to be exact's
 * rounded (tg__near_rel, tg__near_between: Ziv's rounding test). exact
 * computes the elements near is not sure of, so the result is exact's, bit
 * for bit, for every input, and near only has to be sure of most elements.
 * A row goes in blocks of TG_NEAR_BLOCK: one vectorised loop of near into
 * buffers on the stack, flagging its doubts (as int32: with one-byte flags
 * GCC 12 runs the whole loop in 16-byte vectors); exact for the flagged
 * ones; then the block is stored, so that an output that is also an input
 * (in place) is written after exact has read it. */
#define TG_NEAR_BLOCK 256
typedef struct tg__near {
    float first, second; /* second: TG_ROWS_PAIR_NEAR's other output */
    bool sure;
} tg__near;

/* The rounding to float32 of a double known to lie in [lo, hi] is sure
 * when lo and hi round to one float (rounding is monotone); compared as
 * bits, so that -0 and +0 differ. The float is lo's rounding (the value
 * itself need not be rounded too). */
typedef struct tg__rounded {
    float value;
    bool sure;
} tg__rounded;
static TG_ALWAYS_INLINE tg__rounded tg__near_between(double lo, double hi) {
    float flo = (float)lo, fhi = (float)hi;
    uint32_t blo, bhi;
    memcpy(&blo, &flo, sizeof blo);
    memcpy(&bhi, &fhi, sizeof bhi);
    return (tg__rounded){flo, blo == bhi};
}
/* The same for a double known to lie within m |y| of y (m has a margin
 * above the bound it stands for, which covers the rounding of y (1 -+ m)). */
static TG_ALWAYS_INLINE tg__rounded tg__near_rel(double y, double m) {
    return tg__near_between(y * (1 - m), y * (1 + m));
}
#define TG_NEAR(first, second, sure) ((tg__near){(float)(first), (float)(second), (sure)})

/* name_body: near over each block of a row into out_[0] (and out_[1], for
 * n_out 2), exact for its doubts; NEAR_DECLS and EXACT_DECLS read an
 * element's inputs at i_ for each (the same, but for a saved value). */
#define TG__ROW_NEAR(name, n_operands, n_out, NEAR_DECLS, EXACT_DECLS, exact, near)             \
    static TG_ALWAYS_INLINE void name##_body(char **ptrs_, const int64_t *s_, int64_t n_,       \
                                             void *ctx) {                                       \
        TG__ROW_PROLOGUE(float, double)                                                         \
        char *ptr_[n_operands]; /* a copy: GCC reloads ptrs_[k] in the loop, as a gather */     \
        for (int k_ = 0; k_ < (n_operands); k_++) ptr_[k_] = ptrs_[k_];                         \
        float out_[2][TG_NEAR_BLOCK];                                                           \
        int32_t doubt_[TG_NEAR_BLOCK];                                                          \
        for (int64_t b_ = 0; b_ < n_; b_ += TG_NEAR_BLOCK) {                                    \
            int64_t end_ = n_ - b_ < TG_NEAR_BLOCK ? n_ : b_ + TG_NEAR_BLOCK;                   \
            int doubts_ = 0;                                                                    \
            _Pragma("omp simd reduction(| : doubts_)") for (int64_t i_ = b_; i_ < end_; i_++) { \
                NEAR_DECLS tg__near near_ = (near);                                             \
                out_[0][i_ - b_] = near_.first;                                                 \
                out_[1][i_ - b_] = near_.second;                                                \
                doubt_[i_ - b_] = !near_.sure;                                                  \
                doubts_ |= !near_.sure;                                                         \
            }                                                                                   \
            for (int64_t i_ = b_; doubts_ && i_ < end_; i_++) {                                 \
                if (!doubt_[i_ - b_]) continue;                                                 \
                EXACT_DECLS tg__pair exact_ = (exact);                                          \
                out_[0][i_ - b_] = (float)exact_.first;                                         \
                out_[1][i_ - b_] = (float)exact_.second;                                        \
            }                                                                                   \
            for (int64_t i_ = b_; i_ < end_; i_++) {                                            \
                TG__OUT(float, 0) = out_[0][i_ - b_];                                           \
                if (n_out == 2)                                                                 \
                    ((float *)ptr_[0] + row_ctx_->second)[i_ * s_[0]] = out_[1][i_ - b_];       \
            }                                                                                   \
        }                                                                                       \
    }
#define TG__NEAR_IN(x, k) double x = TG__IN(float, double, k);
#define TG_ROWS1_NEAR(name, x, exact, near)                                                       \
    TG__ROW_NEAR(name##_f32, 2, 1, TG__NEAR_IN(x, 1), TG__NEAR_IN(x, 1), TG_PAIR(exact, 0), near) \
    TG_ROW_KERNEL(name##_f32, name##_f32_body, 2)                                                 \
    TG__ROW1(name##_f64, double, double, x, exact) TG__ROWS_TABLE(name)
#define TG__NEAR_IN2(a, b) TG__NEAR_IN(a, 1) TG__NEAR_IN(b, 2)
#define TG_ROWS2_NEAR(name, a, b, exact, near)                                                \
    TG__ROW_NEAR(name##_f32, 3, 1, TG__NEAR_IN2(a, b), TG__NEAR_IN2(a, b), TG_PAIR(exact, 0), \
                 near)                                                                        \
    TG_ROW_KERNEL_LIKE(name##_f32, name##_f32_body, 3, 1, 1, 0)                               \
    TG__ROW2(name##_f64, double, double, a, b, exact) TG__ROWS_TABLE(name)
#define TG__NEAR_IN3(a, b, c) TG__NEAR_IN(a, 1) TG__NEAR_IN(b, 2) TG__NEAR_IN(c, 3)
#define TG_ROWS_PAIR_NEAR(name, a, b, c, exact, near)                                         \
    TG__ROW_NEAR(name##_f32, 4, 2, TG__NEAR_IN3(a, b, c), TG__NEAR_IN3(a, b, c), exact, near) \
    TG_ROW_KERNEL_LIKE(name##_f32, name##_f32_body, 4, 1, 1, 1, 0)                            \
    TG__ROW_PAIR(name##_f64, double, double, a, b, c, exact) TG__ROWS_TABLE(name)

/* ---- A value the forward saves for the backward ------------------------------------
 *   TG_ROWS2_SAVING_NEAR(name, a, b, s, saved, saved_near, formula, near)
 *   TG_ROWS_PAIR_SAVED_NEAR(name, a, b, c, s, saved, exact, near)
 * serve an op whose forward and backward both need s = saved, a double
 * that costs to compute (sigmoid's exponential): the forward keeps it in a
 * float64 tensor and the backward reads it instead of computing it again.
 * The first is TG_ROWS2_NEAR over a and b whose formula and near read s
 * too, and which writes s into its last operand (operand 3, a float64
 * tensor of the output's shape, passed to tg__map as a third input): for
 * float32 it keeps saved_near, the fast path's s (within the fast path's
 * bound of saved), and its exact computes s = saved. The second is
 * TG_ROWS_PAIR_NEAR over a, b, c and that tensor (operand 4): near reads
 * the kept s; exact computes s = saved itself, as what float32 keeps is
 * only near's; the float64 kernel reads it, saved's own value, so that
 * its results are those of computing it again, bit for bit. */
#define TG__SAVED(k) ((double *)ptr_[k])[i_ * s_[k]]
#define TG__S(s, value) double s = (value);
#define TG__KEEP(k, s) TG__SAVED(k) = s;
#define TG_ROWS2_SAVING_NEAR(name, a, b, s, saved, saved_near, formula, near)              \
    TG__ROW_NEAR(name##_f32, 4, 1, TG__NEAR_IN2(a, b) TG__S(s, saved_near) TG__KEEP(3, s), \
                 TG__NEAR_IN2(a, b) TG__S(s, saved), TG_PAIR(formula, 0), near)            \
    TG_ROW_KERNEL(name##_f32, name##_f32_body, 4)                                          \
    TG__ROW_BODY(name##_f64, double, double,                                               \
                 TG__S(a, TG__IN(double, double, 1)) TG__S(b, TG__IN(double, double, 2))   \
                     TG__S(s, saved) TG__KEEP(3, s) TG__OUT(double, 0) = (formula);)       \
    TG_ROW_KERNEL(name##_f64, name##_f64_body, 4) TG__ROWS_TABLE(name)
#define TG_ROWS_PAIR_SAVED_NEAR(name, a, b, c, s, saved, exact, near)                    \
    TG__ROW_NEAR(name##_f32, 5, 2, TG__NEAR_IN3(a, b, c) TG__S(s, TG__SAVED(4)),         \
                 TG__NEAR_IN3(a, b, c) TG__S(s, saved), exact, near)                     \
    TG_ROW_KERNEL(name##_f32, name##_f32_body, 5)                                        \
    TG__ROW_BODY(name##_f64, double, double,                                             \
                 TG__S(a, TG__IN(double, double, 1)) TG__S(b, TG__IN(double, double, 2)) \
                     TG__S(c, TG__IN(double, double, 3)) TG__S(s, TG__SAVED(4))          \
                         tg__pair pair_ = (exact);                                       \
                 TG__OUT(double, 0) = pair_.first;                                       \
                 ((double *)ptr_[0] + row_ctx_->second)[i_ * s_[0]] = pair_.second;)     \
    TG_ROW_KERNEL(name##_f64, name##_f64_body, 5) TG__ROWS_TABLE(name)

/* ---- Threads (core/parallel.c) ------------------------------------------------ */
/* The thread count of tapegrad/parallel.h. The first call reads
 * TG_NUM_THREADS and hands it to BLIS, so gemm calls this before BLIS runs. */
int tg__num_threads(void);
/* Hands the count to the library that runs the products (BLIS), if any:
 * defined with the product's backend, ops/blas_blis.c or ops/blas_none.c. */
void tg__blas_set_num_threads(int n);

#endif
