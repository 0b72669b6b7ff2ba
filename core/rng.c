/* core/rng.c - random tensors drawn the way PyTorch's CPU generator draws
 * them: mt19937 seeded as at::mt19937, uniform floats from the low 24 bits
 * of one draw (doubles from 53 bits of two), normals by Box-Muller over
 * blocks of 16 as at::native's normal_fill. So tg_manual_seed(s); tg_rand()
 * gives torch.manual_seed(s); torch.rand() bit for bit. */
#include <math.h>

#include "internal/tensor.h"

#define MT_N 624
#define MT_M 397

struct tg_generator {
    uint32_t state[MT_N];
    int next;
    bool has_cached_normal;
    double cached_normal;
};

/* PyTorch's default seed, so an unseeded run draws what unseeded torch does. */
#define TG_DEFAULT_SEED 67280421310721ULL

void tg_generator_seed(tg_generator *g, uint64_t seed) {
    if (!g) return;
    g->state[0] = (uint32_t)(seed & 0xffffffffu);
    for (uint32_t j = 1; j < MT_N; j++)
        g->state[j] = 1812433253u * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + j;
    g->next = MT_N; /* regenerate before the first draw */
    g->has_cached_normal = false;
}

static uint32_t mt_next(tg_generator *g) {
    if (g->next >= MT_N) {
        for (int i = 0; i < MT_N; i++) {
            uint32_t y = (g->state[i] & 0x80000000u) | (g->state[(i + 1) % MT_N] & 0x7fffffffu);
            g->state[i] = g->state[(i + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        g->next = 0;
    }
    uint32_t y = g->state[g->next++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

tg_generator *tg_generator_new(uint64_t seed) {
    tg_generator *g = tg__alloc(sizeof *g, "generator_new");
    if (g) tg_generator_seed(g, seed);
    return g;
}

void tg_generator_free(tg_generator *g) { tg__free(g); }

static _Thread_local tg_generator default_gen;
static _Thread_local bool default_seeded;

tg_generator *tg__generator(tg_generator *g) {
    if (g) return g;
    if (!default_seeded) {
        tg_generator_seed(&default_gen, TG_DEFAULT_SEED);
        default_seeded = true;
    }
    return &default_gen;
}

void tg_manual_seed(uint64_t seed) {
    tg_generator_seed(&default_gen, seed);
    default_seeded = true;
}

void tg__generator_copy(tg_generator *dst, tg_generator *src) {
    *tg__generator(dst) = *tg__generator(src);
}

void tg__skip_draws(tg_generator *g, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) (void)mt_next(g);
}

uint64_t tg__random64(tg_generator *g) {
    uint64_t hi = mt_next(g), lo = mt_next(g);
    return hi << 32 | lo;
}

/* Uniform in [0, 1): 24 random bits for float32, 53 for float64. */
double tg__uniform(tg_generator *g, tg_dtype dtype) {
    if (dtype == TG_F32) return (double)(mt_next(g) & ((1u << 24) - 1)) * 0x1p-24;
    return (double)(tg__random64(g) & ((1ULL << 53) - 1)) * 0x1p-53;
}

static void store(tg_tensor *t, int64_t i, double v) {
    if (t->dtype == TG_F32)
        ((float *)tg__ptr(t))[i] = (float)v;
    else
        ((double *)tg__ptr(t))[i] = v;
}

/* rand and randn draw floating-point numbers only, as PyTorch's. */
static tg_tensor *new_random(const char *op, int ndim, const int64_t *shape, tg_dtype dtype) {
    if (tg__check_dtype(op, dtype) && !tg_dtype_is_float(dtype)) {
        tg__error(TG_ERR_DTYPE, "%s: draws floating-point numbers, not %s", op,
                  tg_dtype_name(dtype));
        return NULL;
    }
    return tg__new(op, ndim, shape, dtype);
}

tg_tensor *tg_rand(int ndim, const int64_t *shape, tg_dtype dtype, tg_generator *gen) {
    tg_tensor *t = new_random("rand", ndim, shape, dtype);
    if (!t) return NULL;
    tg_generator *g = tg__generator(gen);
    for (int64_t i = 0; i < t->numel; i++) store(t, i, tg__uniform(g, dtype));
    return t;
}

static const double PI = 3.14159265358979323846;

/* 16 normals from 16 fresh uniforms: pairs (j, j + 8) by Box-Muller. */
static void normal_16(tg_generator *g, tg_dtype dtype, double *x) {
    for (int j = 0; j < 16; j++) x[j] = tg__uniform(g, dtype);
    for (int j = 0; j < 8; j++) {
        double radius = sqrt(-2 * log(1 - x[j]));
        double theta = 2 * PI * x[j + 8];
        x[j] = radius * cos(theta);
        x[j + 8] = radius * sin(theta);
    }
}

/* One normal as at::normal_distribution<double>: each Box-Muller pair
 * yields two samples, the second cached in the generator for the next call. */
static double normal_one(tg_generator *g) {
    if (g->has_cached_normal) {
        g->has_cached_normal = false;
        return g->cached_normal;
    }
    double u1 = tg__uniform(g, TG_F64), u2 = tg__uniform(g, TG_F64);
    double r = sqrt(-2 * log(1 - u2)), theta = 2 * PI * u1;
    g->cached_normal = r * sin(theta);
    g->has_cached_normal = true;
    return r * cos(theta);
}

tg_tensor *tg_randn(int ndim, const int64_t *shape, tg_dtype dtype, tg_generator *gen) {
    tg_tensor *t = new_random("randn", ndim, shape, dtype);
    if (!t) return NULL;
    tg_generator *g = tg__generator(gen);
    int64_t n = t->numel;
    if (n < 16) { /* PyTorch draws small tensors one sample at a time */
        for (int64_t i = 0; i < n; i++) store(t, i, normal_one(g));
        return t;
    }
    /* PyTorch fills all n uniforms first, transforms whole blocks of 16,
     * then redoes the last 16 elements from 16 further draws. */
    double block[16];
    int64_t whole = n / 16 * 16;
    for (int64_t start = 0; start < whole; start += 16) {
        normal_16(g, dtype, block);
        for (int j = 0; j < 16; j++) store(t, start + j, block[j]);
    }
    if (n % 16) {
        for (int64_t i = whole; i < n; i++) (void)tg__uniform(g, dtype); /* the tail's first draw */
        normal_16(g, dtype, block);
        for (int j = 0; j < 16; j++) store(t, n - 16 + j, block[j]);
    }
    return t;
}

/* As at::native's randperm_cpu: 0 .. n-1, then for each i a swap with the
 * element i + (one 32-bit draw mod (n - i)), a Fisher-Yates shuffle, so
 * the same seed gives torch.randperm's permutation. (The modulo is biased
 * for huge n, by at most (n - i) / 2^32, as PyTorch's is.) */
tg_tensor *tg_randperm(int64_t n, tg_generator *gen) {
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "randperm: n must be non-negative, got %lld", (long long)n);
        return NULL;
    }
    tg_tensor *t = tg__new("randperm", 1, &n, TG_I64);
    if (!t) return NULL;
    int64_t *r = tg__ptr(t);
    for (int64_t i = 0; i < n; i++) r[i] = i;
    tg_generator *g = tg__generator(gen);
    for (int64_t i = 0; i + 1 < n; i++) {
        int64_t z = (int64_t)(mt_next(g) % (uint64_t)(n - i));
        int64_t kept = r[i];
        r[i] = r[z + i];
        r[z + i] = kept;
    }
    return t;
}
