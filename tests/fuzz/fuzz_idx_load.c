/* tests/fuzz/fuzz_idx_load.c - any bytes as an IDX file: tg_idx_load
 * fails with a message naming the file, or succeeds exactly when the bytes
 * are a valid file (parsed here independently) and gives its dims and
 * elements, in both dtypes. The same bytes gzipped load the same way, and
 * a tensor loaded saves back to the same bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_common.h"

/* The file as the format defines it, or ok = 0. */
typedef struct parsed {
    int ok;
    int type, ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t numel;
    const uint8_t *data;
} parsed;

static int element_size(int type) {
    switch (type) {
    case 0x08:
    case 0x09: return 1;
    case 0x0b: return 2;
    case 0x0c:
    case 0x0d: return 4;
    case 0x0e: return 8;
    default: return 0;
    }
}

static parsed parse(const uint8_t *d, size_t size) {
    parsed p = {0};
    if (size < 4 || d[0] || d[1] || !element_size(d[2]) || d[3] < 1 || d[3] > TG_MAX_DIMS ||
        size < 4 + 4 * (size_t)d[3])
        return p;
    p.type = d[2], p.ndim = d[3];
    /* Tensors refuse a shape whose dims, an empty one counted as 1 (the
     * largest stride), multiply past 2^60 (float64 bytes must fit 63 bits). */
    uint64_t n = 1, reach = 1;
    for (int i = 0; i < p.ndim; i++) {
        const uint8_t *b = d + 4 + 4 * i;
        p.shape[i] = (int64_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | b[2] << 8 | b[3]);
        uint64_t step = p.shape[i] ? (uint64_t)p.shape[i] : 1;
        if (__builtin_mul_overflow(reach, step, &reach) || reach > INT64_MAX / 8) return p;
        n *= (uint64_t)p.shape[i];
    }
    size_t header = 4 + 4 * (size_t)p.ndim;
    p.numel = (int64_t)n;
    p.data = d + header;
    p.ok = size - header == n * (uint64_t)element_size(p.type);
    return p;
}

static double element(const parsed *p, int64_t i) {
    const uint8_t *b = p->data + i * element_size(p->type);
    uint64_t u = 0;
    for (int k = 0; k < element_size(p->type); k++) u = u << 8 | b[k];
    switch (p->type) {
    case 0x08: return (uint8_t)u;
    case 0x09: return (int8_t)u;
    case 0x0b: return (int16_t)u;
    case 0x0c: return (int32_t)u;
    case 0x0d: {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        return f;
    }
    default: {
        double v;
        memcpy(&v, &u, 8);
        return v;
    }
    }
}

/* t has p's dims and elements, as t's dtype holds them (bit for bit). */
static void check_values(tg_tensor *t, const parsed *p) {
    FUZZ_CHECK(t && tg_ndim(t) == p->ndim && tg_numel(t) == p->numel && tg_is_contiguous(t));
    for (int i = 0; i < p->ndim; i++) FUZZ_CHECK(tg_shape(t)[i] == p->shape[i]);
    const void *data = tg_data(t);
    for (int64_t i = 0; i < p->numel; i++) {
        double want = element(p, i);
        if (tg_dtype_of(t) == TG_F32) {
            float got = ((const float *)data)[i], w = (float)want;
            FUZZ_CHECK(isnan(w) ? isnan(got) : memcmp(&got, &w, sizeof w) == 0);
        } else {
            double got = ((const double *)data)[i];
            FUZZ_CHECK(isnan(want) ? isnan(got) : memcmp(&got, &want, sizeof want) == 0);
        }
    }
}

static int has_nan(tg_tensor *t) {
    const double *v = tg_data(t);
    for (int64_t i = 0; i < tg_numel(t); i++)
        if (isnan(v[i])) return 1;
    return 0;
}

/* The bytes as one gzip stream, written to fuzz_path(name). */
static const char *write_gzipped(const char *name, const uint8_t *data, size_t size) {
    z_stream z = {0};
    FUZZ_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, size);
    uint8_t *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    z.next_in = (Bytef *)data, z.avail_in = (uInt)size;
    z.next_out = out, z.avail_out = (uInt)cap;
    FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    const char *path = fuzz_write(name, out, cap - z.avail_out);
    deflateEnd(&z);
    free(out);
    return path;
}

/* A failure left a code and a message that names the file. */
static void check_failure(const char *path) {
    FUZZ_CHECK(fuzz_failed_with_message());
    FUZZ_CHECK(strstr(tg_last_error(), path) != NULL);
    tg_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t live = tg_live_tensors();
    tg_clear_error();
    tg_pool *pool = tg_pool_push();
    const char *path = fuzz_write("input.idx", data, size);
    tg_tensor *t64 = tg_idx_load(path, TG_F64);
    if (!t64) check_failure(path);
    tg_tensor *t32 = tg_idx_load(path, TG_F32);
    if (!t32) check_failure(path);
    FUZZ_CHECK(!t64 == !t32);
    /* Bytes that start as gzip are read as gzip: the plain parser does not apply. */
    int gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    parsed p = parse(data, size);
    if (!gzipped) {
        FUZZ_CHECK(p.ok == (t64 != NULL));
        if (p.ok) check_values(t64, &p), check_values(t32, &p);
        const char *gz = write_gzipped("input.idx.gz", data, size);
        tg_tensor *g = tg_idx_load(gz, TG_F64);
        FUZZ_CHECK(!g == !t64);
        if (g)
            FUZZ_CHECK(fuzz_same_tensor(g, t64));
        else
            check_failure(gz);
    }
    if (t64 && !gzipped) {
        const char *again = fuzz_path("saved.idx");
        FUZZ_CHECK(tg_idx_save(again, t64, (tg_idx_type)p.type) == 0);
        size_t n;
        uint8_t *bytes = fuzz_read(again, &n);
        /* A float NaN may come back quieted; every other element, bit for bit. */
        FUZZ_CHECK(bytes && n == size);
        if (memcmp(bytes, data, size) != 0) {
            FUZZ_CHECK(p.type == 0x0d || p.type == 0x0e);
            FUZZ_CHECK(has_nan(t64));
        }
        free(bytes);
        FUZZ_CHECK(fuzz_same_tensor(tg_idx_load(again, TG_F64), t64));
    }
    tg_pool_pop(pool);
    FUZZ_CHECK(tg_live_tensors() == live);
    return 0;
}
