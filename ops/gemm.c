/* ops/gemm.c - tapegrad's own matrix product: for the products it runs
 * faster than BLIS (every one on CPUs that BLIS does not know; the rule is
 * in ops/blas_blis.c and the sizes in the kernel tables below), and for
 * every product in the build without BLIS (-Dblas=none, ops/blas_none.c).
 *
 * BLIS 0.9.0 (Debian 12's) picks its kernels by CPU model; on a CPU newer
 * than it knows, such as AMD's Zen 5, it falls back to its portable C
 * reference kernel, several times slower than a vectorised one.
 * This file is the classic blocked product of Goto and van de Geijn, as
 * BLIS itself is built: B is packed into a block of KC x NC that stays in
 * the shared cache, A into blocks of MC x KC that stay in each core's L2,
 * both laid out as the micro-kernel reads them (panels of MR rows of A and
 * NR columns of B, zero-padded at the edges), and the micro-kernel keeps
 * an MR x NR tile of C in vector registers while it runs along k. Packing
 * also takes care of strides and transposes: any op(A), op(B) reads the
 * same way afterwards.
 *
 * The micro-kernels: AVX-512 or AVX2 with FMA on x86, picked at run time,
 * and a portable one for every other CPU, in GNU C's vector extensions,
 * which is also the WebAssembly SIMD128 kernel under Emscripten
 * (-msimd128); TG_GEMM=portable picks it on x86 too, and TG_GEMM=avx2 the
 * AVX2 kernel on a CPU with AVX-512, for the tests and for comparison.
 *
 * Numbers: each element of C is a sum over k in increasing order, one step
 * at a time, in blocks of KC added into C; the x86 kernels fuse each
 * multiply-add (one rounding per step), the others round the product and
 * the sum (C's fma() is a slow library call on CPUs without the
 * instruction, and SIMD128 has none). So results differ from BLIS's (and
 * PyTorch's) in the last bits, as BLIS's differ between CPUs; none depends
 * on the thread count. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define KC 256

/* One micro-kernel: the C tile of mr x nr (at most MR x NR) = A's MR rows
 * times B's NR columns over kc steps [+ C when add]. Element (i, p) of A is
 * ap[p * a_step + i * a_row] and element (p, j) of B is bp[p * b_step + j]:
 * a packed panel (a_step MR, a_row 1, b_step NR, zero-padded), or the
 * matrix itself where B's rows are contiguous or A is small (see
 * DIRECT_MAX_BYTES): the kernel broadcasts A's elements one at a time, so
 * it reads them with any strides. */
typedef void ukr_fn(int64_t kc, const void *ap, int64_t a_step, int64_t a_row, const void *bp,
                    int64_t b_step, void *c, int64_t crs, int64_t ccs, int mr, int nr, bool add);

/* Packs rows x cols elements of a matrix whose rows are contiguous (row
 * stride rs) into dst column by column, `panel` values per column, rows
 * from `rows` to `panel` zero: the transposing case of PACK below. */
typedef void pack_rows_fn(void *dst, const void *src, int64_t rs, int64_t rows, int64_t cols,
                          int panel);

typedef struct kernel {
    ukr_fn *narrow, *wide;   /* NR = one vector of columns, two vectors */
    int mr, lanes;           /* the tile: mr x 2 lanes, or mr x lanes */
    int64_t mc, nc;          /* the blocks of A and B, multiples of mr and 2 lanes */
    int64_t beats_blis;      /* tg__gemm_beats_blis_below, for this kernel's type */
    pack_rows_fn *pack_rows; /* a faster pack of a block whose rows are contiguous, or NULL */
} kernel;

/* MICRO_KERNEL defines one vector micro-kernel: type T, vector type V of
 * LANES elements, compiled with the attribute ATTR (the instruction set),
 * MR rows and NV vectors (NR = NV LANES) of columns. The loops over rows
 * and vectors are unrolled, so acc stays in registers (MR x NV of them:
 * 16 of AVX-512's 32, 12 of AVX2's 16, 8 of SSE2's or SIMD128's 16). A
 * full tile with unit column stride is written straight from registers;
 * an edge tile goes through a buffer. */
#define MICRO_KERNEL(name, T, V, LANES, MR, NV, ATTR, loadu, storeu, add, fmadd, set1, zero)   \
    ATTR static void name(int64_t kc, const void *ap_, int64_t a_step, int64_t a_row,          \
                          const void *bp_, int64_t b_step, void *c_, int64_t crs, int64_t ccs, \
                          int mr, int nr, bool add_c) {                                        \
        const T *ap = ap_, *bp = bp_;                                                          \
        V acc[MR][NV];                                                                         \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                  \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[i][v] = zero();           \
        for (int64_t p = 0; p < kc; p++, ap += a_step, bp += b_step) {                         \
            V b[NV];                                                                           \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) b[v] = loadu(bp + v * LANES); \
            _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                            \
                V a = set1(ap[i * a_row]);                                                     \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                           \
                    acc[i][v] = fmadd(a, b[v], acc[i][v]);                                     \
            }                                                                                  \
        }                                                                                      \
        T *c = c_;                                                                             \
        if (mr == MR && nr == NV * LANES && ccs == 1) {                                        \
            _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                              \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {                         \
                T *e = c + i * crs + v * LANES;                                                \
                storeu(e, add_c ? add(acc[i][v], loadu(e)) : acc[i][v]);                       \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        T tile[MR][NV * LANES];                                                                \
        for (int i = 0; i < MR; i++)                                                           \
            for (int v = 0; v < NV; v++) storeu(&tile[i][v * LANES], acc[i][v]);               \
        for (int i = 0; i < mr; i++)                                                           \
            for (int j = 0; j < nr; j++) {                                                     \
                T *e = c + i * crs + j * ccs;                                                  \
                *e = add_c ? *e + tile[i][j] : tile[i][j];                                     \
            }                                                                                  \
    }
#define EXPAND(m, ...) m(__VA_ARGS__)

/* The portable micro-kernels, in GNU C's vector extensions: vectors of 16
 * bytes, which GCC and Clang compile for any CPU: to SSE2 on any x86-64,
 * NEON on ARM, SIMD128 under Emscripten with -msimd128 (so this is the
 * WebAssembly kernel too), and to scalar code where there is no vector
 * unit. (The same kernel over plain C arrays is vectorised as well, but
 * GCC -O2 keeps its tile in memory, loading and storing it at every step
 * of k.) No fused multiply-add: a multiply, then an add, which
 * -ffp-contract=off keeps apart. */
#define PORTABLE_MR 4 /* 8 accumulators of 16 bytes, as SSE2 and SIMD128 have 16 */
typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
#define VECTOR_OPS(V, T)                                                       \
    static inline V V##_load(const T *p) {                                     \
        V v;                                                                   \
        memcpy(&v, p, sizeof v);                                               \
        return v;                                                              \
    }                                                                          \
    static inline void V##_store(T *p, V v) { memcpy(p, &v, sizeof v); }       \
    static inline V V##_add(V x, V y) { return x + y; }                        \
    static inline V V##_madd(V x, V y, V acc) { return x * y + acc; }          \
    static inline V V##_set1(T x) { return x - (V){0}; /* x in every lane */ } \
    static inline V V##_zero(void) { return (V){0}; }
VECTOR_OPS(f32x4, float)
VECTOR_OPS(f64x2, double)
#define PORTABLE_PS f32x4_load, f32x4_store, f32x4_add, f32x4_madd, f32x4_set1, f32x4_zero
#define PORTABLE_PD f64x2_load, f64x2_store, f64x2_add, f64x2_madd, f64x2_set1, f64x2_zero
EXPAND(MICRO_KERNEL, ukr_f32_portable_1, float, f32x4, 4, PORTABLE_MR, 1, , PORTABLE_PS)
EXPAND(MICRO_KERNEL, ukr_f32_portable_2, float, f32x4, 4, PORTABLE_MR, 2, , PORTABLE_PS)
EXPAND(MICRO_KERNEL, ukr_f64_portable_1, double, f64x2, 2, PORTABLE_MR, 1, , PORTABLE_PD)
EXPAND(MICRO_KERNEL, ukr_f64_portable_2, double, f64x2, 2, PORTABLE_MR, 2, , PORTABLE_PD)

/* Blocks: A's MC x KC in a core's L2 (128 KiB), B's KC x NC in the shared
 * cache (1 MiB), for every kernel. Each table: float, then double.
 *
 * The last numbers: the size, in multiply-adds, below which a product runs
 * faster here than in a BLIS that has fast kernels for the CPU (INT64_MAX:
 * at every size measured), and the transposing pack. The sizes were
 * measured by tests/bench/bench_gemm on Zen 5 against BLIS 0.9.0's own
 * AVX2 (zen3) and AVX-512 (skx) kernels (tests/bench/RESULTS.md). BLIS's
 * fixed cost of a call, 1.1 to 3.2 us for its objects, context and
 * packing buffers, is most of a small product's time, so every kernel
 * wins there. The AVX2 micro-kernel was faster up to 48^3 and level from
 * 64^3 to 96^3, in both types; beyond, BLIS was 5 to 14% faster. The
 * AVX-512 one, in float, was faster or level at every shape up to 1024^3
 * (0.96 to 1.27 times BLIS's time at one thread); in double, faster up to
 * 128^3 and level or slower from 192^3 on. No BLIS kernel was measured
 * against the portable one, so BLIS keeps every product there. */
static const kernel portable_kernels[2] = {
    {ukr_f32_portable_1, ukr_f32_portable_2, PORTABLE_MR, 4, 128, 1024, 0, NULL},
    {ukr_f64_portable_1, ukr_f64_portable_2, PORTABLE_MR, 2, 64, 512, 0, NULL},
};

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>

static inline __attribute__((always_inline, target("avx512f"))) __m512 s16_set1(float x) {
    return _mm512_set1_ps(x);
}
static inline __attribute__((always_inline, target("avx512f"))) __m512d d8_set1(double x) {
    return _mm512_set1_pd(x);
}
static inline __attribute__((always_inline, target("avx2"))) __m256 s8_set1(float x) {
    return _mm256_set1_ps(x);
}
static inline __attribute__((always_inline, target("avx2"))) __m256d d4_set1(double x) {
    return _mm256_set1_pd(x);
}

#define AVX512_F32 float, __m512, 16, 8
#define AVX512_F64 double, __m512d, 8, 8
#define AVX2_F32 float, __m256, 8, 6
#define AVX2_F64 double, __m256d, 4, 6
/* The target and the intrinsics of each instruction set and type: load,
 * store, add, fused multiply-add, broadcast, zero. */
#define AVX512_PS                                                                         \
    __attribute__((target("avx512f"))), _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps, \
        _mm512_fmadd_ps, s16_set1, _mm512_setzero_ps
#define AVX512_PD                                                                         \
    __attribute__((target("avx512f"))), _mm512_loadu_pd, _mm512_storeu_pd, _mm512_add_pd, \
        _mm512_fmadd_pd, d8_set1, _mm512_setzero_pd
#define AVX2_PS                                                                            \
    __attribute__((target("avx2,fma"))), _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, \
        _mm256_fmadd_ps, s8_set1, _mm256_setzero_ps
#define AVX2_PD                                                                            \
    __attribute__((target("avx2,fma"))), _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_pd, \
        _mm256_fmadd_pd, d4_set1, _mm256_setzero_pd
EXPAND(MICRO_KERNEL, ukr_f32_avx512_1, AVX512_F32, 1, AVX512_PS)
EXPAND(MICRO_KERNEL, ukr_f32_avx512_2, AVX512_F32, 2, AVX512_PS)
EXPAND(MICRO_KERNEL, ukr_f64_avx512_1, AVX512_F64, 1, AVX512_PD)
EXPAND(MICRO_KERNEL, ukr_f64_avx512_2, AVX512_F64, 2, AVX512_PD)
EXPAND(MICRO_KERNEL, ukr_f32_avx2_1, AVX2_F32, 1, AVX2_PS)
EXPAND(MICRO_KERNEL, ukr_f32_avx2_2, AVX2_F32, 2, AVX2_PS)
EXPAND(MICRO_KERNEL, ukr_f64_avx2_1, AVX2_F64, 1, AVX2_PD)
EXPAND(MICRO_KERNEL, ukr_f64_avx2_2, AVX2_F64, 2, AVX2_PD)

/* The transposing pack, in blocks transposed in registers where scalar
 * code would store each element on its own: floats 8 x 8 (eight loads of
 * eight columns; unpack, shuffle, exchange of halves: the usual 24 steps;
 * eight stores of eight rows), doubles 4 x 4 (unpack, exchange of
 * halves). Each block function reads its block at src (row stride rs) and
 * writes it transposed at dst (row stride panel). */
__attribute__((always_inline, target("avx2"))) static inline void transpose_f32_8x8(
    float *dst, int64_t panel, const float *src, int64_t rs) {
    __m256 r[8], t[8], u[8];
    for (int q = 0; q < 8; q++) r[q] = _mm256_loadu_ps(src + q * rs);
    for (int q = 0; q < 8; q += 2)
        t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]), t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
    for (int q = 0; q < 8; q += 4) {
        u[q] = _mm256_shuffle_ps(t[q], t[q + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int q = 0; q < 4; q++) {
        _mm256_storeu_ps(dst + q * panel, _mm256_permute2f128_ps(u[q], u[q + 4], 0x20));
        _mm256_storeu_ps(dst + (q + 4) * panel, _mm256_permute2f128_ps(u[q], u[q + 4], 0x31));
    }
}
__attribute__((always_inline, target("avx2"))) static inline void transpose_f64_4x4(
    double *dst, int64_t panel, const double *src, int64_t rs) {
    __m256d r[4], t[4];
    for (int q = 0; q < 4; q++) r[q] = _mm256_loadu_pd(src + q * rs);
    for (int q = 0; q < 4; q += 2)
        t[q] = _mm256_unpacklo_pd(r[q], r[q + 1]), t[q + 1] = _mm256_unpackhi_pd(r[q], r[q + 1]);
    for (int q = 0; q < 2; q++) {
        _mm256_storeu_pd(dst + q * panel, _mm256_permute2f128_pd(t[q], t[q + 2], 0x20));
        _mm256_storeu_pd(dst + (q + 2) * panel, _mm256_permute2f128_pd(t[q], t[q + 2], 0x31));
    }
}

/* A pack_rows_fn of type T by blocks of BLOCK x BLOCK; the columns and rows
 * past the last whole block, and the zero rows, element by element. */
#define PACK_ROWS(name, T, BLOCK, transpose_block)                                              \
    __attribute__((target("avx2"))) static void name(void *dst_, const void *src_, int64_t rs,  \
                                                     int64_t rows, int64_t cols, int panel) {   \
        T *dst = dst_;                                                                          \
        const T *src = src_;                                                                    \
        int64_t i = 0;                                                                          \
        for (; i + BLOCK <= rows; i += BLOCK) {                                                 \
            int64_t c = 0;                                                                      \
            for (; c + BLOCK <= cols; c += BLOCK)                                               \
                transpose_block(dst + c * panel + i, panel, src + i * rs + c, rs);              \
            for (; c < cols; c++)                                                               \
                for (int q = 0; q < BLOCK; q++) dst[c * panel + i + q] = src[(i + q) * rs + c]; \
        }                                                                                       \
        for (; i < rows; i++)                                                                   \
            for (int64_t c = 0; c < cols; c++) dst[c * panel + i] = src[i * rs + c];            \
        for (int64_t c = 0; c < cols && rows < panel; c++)                                      \
            for (int64_t q = rows; q < panel; q++) dst[c * panel + q] = 0;                      \
    }
PACK_ROWS(pack_rows_f32_avx2, float, 8, transpose_f32_8x8)
PACK_ROWS(pack_rows_f64_avx2, double, 4, transpose_f64_4x4)

static const kernel avx512_kernels[2] = {
    {ukr_f32_avx512_1, ukr_f32_avx512_2, 8, 16, 128, 1024, INT64_MAX, pack_rows_f32_avx2},
    {ukr_f64_avx512_1, ukr_f64_avx512_2, 8, 8, 64, 512, 1 << 22, pack_rows_f64_avx2},
};
static const kernel avx2_kernels[2] = {
    {ukr_f32_avx2_1, ukr_f32_avx2_2, 6, 8, 120, 1024, 1 << 18, pack_rows_f32_avx2},
    {ukr_f64_avx2_1, ukr_f64_avx2_2, 6, 4, 60, 512, 1 << 18, pack_rows_f64_avx2},
};

static const kernel *vector_kernels(tg__gemm_choice asked) {
    if (asked != TG_GEMM_AVX2 && __builtin_cpu_supports("avx512f")) return avx512_kernels;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2_kernels;
    return NULL;
}
#else
static const kernel *vector_kernels(tg__gemm_choice asked) {
    (void)asked;
    return NULL;
}
#endif

/* The kernels every product of the process uses (float, double), and what
 * TG_GEMM asked for: both settled at the first product. */
static const kernel *chosen;
static tg__gemm_choice asked;
static pthread_once_t choice_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    const char *env = getenv("TG_GEMM");
    static const char *const names[] = {[TG_GEMM_BLIS] = "blis",
                                        [TG_GEMM_TAPEGRAD] = "tapegrad",
                                        [TG_GEMM_AVX2] = "avx2",
                                        [TG_GEMM_PORTABLE] = "portable"};
    asked = TG_GEMM_DEFAULT;
    for (int i = TG_GEMM_BLIS; env && i <= TG_GEMM_PORTABLE; i++)
        if (strcmp(env, names[i]) == 0) asked = (tg__gemm_choice)i;
    const kernel *vector = asked == TG_GEMM_PORTABLE ? NULL : vector_kernels(asked);
    chosen = vector ? vector : portable_kernels;
}

tg__gemm_choice tg__gemm_asked(void) {
    pthread_once(&choice_once, choose);
    return asked;
}

bool tg__gemm_vectorised(void) {
    pthread_once(&choice_once, choose);
    return chosen != portable_kernels;
}

static const kernel *kernel_for(tg_dtype dtype) {
    pthread_once(&choice_once, choose);
    return &chosen[dtype == TG_F64];
}

int64_t tg__gemm_beats_blis_below(tg_dtype dtype) { return kernel_for(dtype)->beats_blis; }

/* ---- Packing ---------------------------------------------------------------------- */

/* One panel: rows [0, rows) (at most `panel`) x cols [0, cols) of the
 * matrix at src, into dst column by column, `panel` values per column, the
 * rows past `rows` zero. B is packed as B^T, so its panels are of columns.
 * The loop runs along whichever direction the source is contiguous in. */
#define PACK(T, name)                                                                              \
    static void name(T *restrict dst, const T *restrict src, int64_t rs, int64_t cs, int64_t rows, \
                     int64_t cols, int panel) {                                                    \
        if (rs == 1) {                                                                             \
            for (int64_t c = 0; c < cols; c++) {                                                   \
                const T *s = src + c * cs;                                                         \
                T *d = dst + c * panel;                                                            \
                TG_SIMD for (int64_t i = 0; i < rows; i++) d[i] = s[i];                            \
                for (int64_t i = rows; i < panel; i++) d[i] = 0;                                   \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i = 0; i < rows; i++) {                                                       \
            const T *s = src + i * rs;                                                             \
            T *d = dst + i;                                                                        \
            if (cs == 1)                                                                           \
                for (int64_t c = 0; c < cols; c++) d[c * panel] = s[c];                            \
            else                                                                                   \
                for (int64_t c = 0; c < cols; c++) d[c * panel] = s[c * cs];                       \
        }                                                                                          \
        for (int64_t c = 0; c < cols && rows < panel; c++)                                         \
            for (int64_t i = rows; i < panel; i++) dst[c * panel + i] = 0;                         \
    }
PACK(float, pack_f32)
PACK(double, pack_f64)

/* ---- The loops around the micro-kernel ------------------------------------------- */

/* An operand this small stays in a core's L2 cache, so the micro-kernel may
 * read it where it lies: A whatever its strides (the kernel broadcasts one
 * element at a time), B when its rows are contiguous (the kernel loads
 * vectors along them). No packing, which is most of the cost of a tiny
 * product. */
#define DIRECT_MAX_BYTES (256 * 1024)

typedef struct problem {
    const kernel *k;
    tg_dtype dtype;
    int64_t es; /* element size */
    const char *a, *b;
    char *c;
    int64_t m, n, kk, ars, acs, brs, bcs, crs, ccs;
    bool add;
    int64_t b_block, a_block; /* elements in B's packed block and in each of A's */
    bool direct_a, direct_b;  /* A small; B small with its rows contiguous */
    bool share_rows;          /* fewer row blocks than threads: they share each, by column panels */
} problem;

static void pack(const problem *pb, char *dst, const char *src, int64_t rs, int64_t cs,
                 int64_t rows, int64_t cols, int panel) {
    if (cs == 1 && rs != 1 && pb->k->pack_rows)
        pb->k->pack_rows(dst, src, rs, rows, cols, panel);
    else if (pb->dtype == TG_F32)
        pack_f32((float *)dst, (const float *)src, rs, cs, rows, cols, panel);
    else
        pack_f64((double *)dst, (const double *)src, rs, cs, rows, cols, panel);
}

static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* The panel of B's w columns from jc + j, rows from pc: its width (one
 * vector or two) and where the micro-kernel reads it: in B itself when its
 * rows are contiguous and the panel is full, else in the packed block bp. */
static int b_width(const problem *pb, int64_t w) {
    return w <= pb->k->lanes ? pb->k->lanes : 2 * pb->k->lanes;
}

static bool b_direct(const problem *pb, int64_t w) { return pb->direct_b && w == b_width(pb, w); }

static const char *b_panel(const problem *pb, const char *bp, int64_t jc, int64_t j, int64_t pc,
                           int64_t kc, int64_t w, int64_t *step) {
    if (b_direct(pb, w)) {
        *step = pb->brs;
        return pb->b + (pc * pb->brs + jc + j) * pb->es;
    }
    *step = b_width(pb, w);
    return bp + j * kc * pb->es;
}

static void pack_b_panel(const problem *pb, char *bp, int64_t jc, int64_t j, int64_t pc, int64_t kc,
                         int64_t w) {
    if (b_direct(pb, w)) return;
    pack(pb, bp + j * kc * pb->es, pb->b + (pc * pb->brs + (jc + j) * pb->bcs) * pb->es, pb->bcs,
         pb->brs, w, kc, b_width(pb, w));
}

/* The same for A's mr rows from ic + i: read in A when A is small and the
 * panel full; else packed, in ap (only the partial last panel is packed
 * when the others are read directly). */
static const char *a_panel(const problem *pb, const char *ap, int64_t ic, int64_t i, int64_t pc,
                           int64_t kc, int mr, int64_t *step, int64_t *row) {
    if (pb->direct_a && mr == pb->k->mr) {
        *step = pb->acs, *row = pb->ars;
        return pb->a + ((ic + i) * pb->ars + pc * pb->acs) * pb->es;
    }
    *step = pb->k->mr, *row = 1;
    return ap + (pb->direct_a ? 0 : i * kc) * pb->es;
}

static void pack_a_block(const problem *pb, char *ap, int64_t ic, int64_t mc, int64_t pc,
                         int64_t kc) {
    int mr = pb->k->mr;
    for (int64_t i = pb->direct_a ? mc / mr * mr : 0; i < mc; i += mr)
        pack(pb, ap + (pb->direct_a ? 0 : i * kc) * pb->es,
             pb->a + ((ic + i) * pb->ars + pc * pb->acs) * pb->es, pb->ars, pb->acs,
             min64(mc - i, mr), kc, mr);
}

/* Every tile of rows [ic, ic + mc) of C and of the column panels [jr0,
 * jr1) of the block from jc (nc wide), over kc steps of k from pc. */
static void tiles(const problem *pb, const char *ap, const char *bp, int64_t ic, int64_t mc,
                  int64_t jc, int64_t nc, int64_t pc, int64_t kc, bool add, int64_t jr0,
                  int64_t jr1) {
    const kernel *k = pb->k;
    int64_t nr = 2 * k->lanes;
    for (int64_t jr = jr0; jr < jr1; jr++) {
        int64_t j = jr * nr, w = min64(nc - j, nr), b_step;
        const char *b = b_panel(pb, bp, jc, j, pc, kc, w, &b_step);
        ukr_fn *ukr = w <= k->lanes ? k->narrow : k->wide;
        for (int64_t i = 0; i < mc; i += k->mr) {
            int mr = (int)min64(mc - i, k->mr);
            int64_t a_step, a_row;
            const char *a = a_panel(pb, ap, ic, i, pc, kc, mr, &a_step, &a_row);
            char *c = pb->c + ((ic + i) * pb->crs + (jc + j) * pb->ccs) * pb->es;
            ukr(kc, a, a_step, a_row, b, b_step, c, pb->crs, pb->ccs, mr, (int)w, add);
        }
    }
}

/* Waits for the other threads of the team; nothing to wait for alone. */
static void sync_threads(int threads) {
#ifdef _OPENMP
    if (threads > 1) {
#pragma omp barrier
    }
#else
    (void)threads; /* there is only one */
#endif
}

/* The whole product on the threads of the enclosing parallel region (or
 * on the caller alone): buffer holds B's block, then one A block per
 * thread (one in all when they share row blocks). Work is dealt out by
 * thread number, not by `omp for`, so that a product on one thread makes
 * no OpenMP call at all. Each thread takes an equal share of C's rows (in
 * whole tiles), in blocks of at most MC: dealing whole blocks out would
 * leave one thread 6 of medium's 11 blocks of 1408 rows and the other 5.
 * When C has fewer row blocks than threads, the threads share each row
 * block instead, by panels of columns. */
static void run(const problem *pb, char *buffer, int threads) {
    const kernel *k = pb->k;
    int64_t nr = 2 * k->lanes;
    int me = 0;
#ifdef _OPENMP
    if (threads > 1) me = omp_get_thread_num(), threads = omp_get_num_threads();
#endif
    int64_t share = (pb->m + threads - 1) / threads;
    share = (share + k->mr - 1) / k->mr * k->mr;
    int64_t my_first = min64(pb->m, me * share), my_end = min64(pb->m, my_first + share);
    char *bp = buffer;
    char *my_ap = buffer + (pb->b_block + (pb->share_rows ? 0 : me) * pb->a_block) * pb->es;
    for (int64_t jc = 0; jc < pb->n; jc += k->nc) {
        int64_t nc = min64(pb->n - jc, k->nc), panels = (nc + nr - 1) / nr;
        for (int64_t pc = 0; pc < pb->kk; pc += KC) {
            int64_t kc = min64(pb->kk - pc, KC);
            bool add = pb->add || pc > 0; /* later blocks of k add to the first */
            for (int64_t jr = me; jr < panels; jr += threads)
                pack_b_panel(pb, bp, jc, jr * nr, pc, kc, min64(nc - jr * nr, nr));
            sync_threads(threads);
            if (!pb->share_rows) {
                for (int64_t ic = my_first; ic < my_end; ic += k->mc) {
                    int64_t mc = min64(my_end - ic, k->mc);
                    pack_a_block(pb, my_ap, ic, mc, pc, kc);
                    tiles(pb, my_ap, bp, ic, mc, jc, nc, pc, kc, add, 0, panels);
                }
            } else {
                for (int64_t ic = 0; ic < pb->m; ic += k->mc) {
                    int64_t mc = min64(pb->m - ic, k->mc);
                    if (me == 0) pack_a_block(pb, my_ap, ic, mc, pc, kc);
                    sync_threads(threads);
                    for (int64_t jr = me; jr < panels; jr += threads)
                        tiles(pb, my_ap, bp, ic, mc, jc, nc, pc, kc, add, jr, jr + 1);
                    sync_threads(threads); /* before A's block is packed again */
                }
            }
            sync_threads(threads); /* before B's block is packed again */
        }
    }
}

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

bool tg__gemm(tg_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a, int64_t ars,
              int64_t acs, const void *b, int64_t brs, int64_t bcs, void *c, int64_t crs,
              int64_t ccs, bool add, int threads) {
    const kernel *kn = kernel_for(dtype);
#ifndef _OPENMP
    threads = 1; /* a build without OpenMP runs every product on the caller */
#endif
    int64_t es = dtype == TG_F32 ? sizeof(float) : sizeof(double);
    if (k == 0) { /* an empty sum: C = 0, or C unchanged */
        for (int64_t i = 0; i < m && !add; i++)
            for (int64_t j = 0; j < n; j++) memset((char *)c + (i * crs + j * ccs) * es, 0, es);
        return true;
    }
    /* Blocks no larger than the problem needs: a small product packs little
     * and its buffer fits on the stack. */
    int64_t kc = min64(k, KC), nc = min64(round_up(n, 2 * kn->lanes), kn->nc);
    int64_t mc = min64(round_up(m, kn->mr), kn->mc);
    bool share_rows = (m + kn->mc - 1) / kn->mc < threads;
    problem pb = {.k = kn,
                  .dtype = dtype,
                  .es = es,
                  .a = a,
                  .b = b,
                  .c = c,
                  .m = m,
                  .n = n,
                  .kk = k,
                  .ars = ars,
                  .acs = acs,
                  .brs = brs,
                  .bcs = bcs,
                  .crs = crs,
                  .ccs = ccs,
                  .add = add,
                  .b_block = kc * nc,
                  .a_block = kc * mc,
                  .direct_a = m * k * es <= DIRECT_MAX_BYTES,
                  .direct_b = bcs == 1 && k * n * es <= DIRECT_MAX_BYTES,
                  .share_rows = share_rows};
    size_t bytes = (size_t)((pb.b_block + (share_rows ? 1 : threads) * pb.a_block) * es);
    _Alignas(64) char stack[16384];
    char *buffer = bytes <= sizeof stack ? stack : malloc(bytes);
    if (!buffer) return false;
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        run(&pb, buffer, threads);
    } else {
        run(&pb, buffer, 1);
    }
    if (buffer != stack) free(buffer);
    return true;
}
