/* data/idx.c - IDX files, the format of MNIST and Fashion-MNIST, read
 * plain or gzipped and written plain.
 *
 * Both kinds are read through zlib's gzread, which passes a file that does
 * not start with gzip's magic bytes through unchanged (gzdirect says which
 * it was). A plain file's size is known, so a header that does not match
 * it is refused before anything is allocated; a gzip stream's size is
 * not, so its data is read into a buffer that grows as the data arrives,
 * never past the size the header announces, and one byte more means
 * trailing data. Every element type fits a double exactly, so elements go
 * through doubles on their way into a tensor: one decoding step per file
 * type, one store step per tensor dtype. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal/file.h"
#include "internal/tensor.h"
#include "tapegrad/data.h"

/* A gzip stream's data is first read into a buffer of this size, which
 * doubles while more comes. */
#define FIRST_BUFFER (64u << 10)
/* Elements converted per pass through a buffer of doubles. */
#define BLOCK 1024
/* gzread takes an unsigned count and returns an int. */
#define MAX_READ (1u << 30)

#define TYPE_CODES "0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64"

typedef struct type_info {
    const char *name; /* NULL for a code that is not a type */
    unsigned size;
} type_info;

static const type_info types[] = {
    [TG_IDX_U8 - 8] = {"u8", 1},   [TG_IDX_I8 - 8] = {"i8", 1},   [TG_IDX_I16 - 8] = {"i16", 2},
    [TG_IDX_I32 - 8] = {"i32", 4}, [TG_IDX_F32 - 8] = {"f32", 4}, [TG_IDX_F64 - 8] = {"f64", 8},
};

static const type_info *type_of(int code) {
    return code >= 8 && code < 8 + (int)(sizeof types / sizeof types[0]) && types[code - 8].name
               ? &types[code - 8]
               : NULL;
}

/* ---- Elements ------------------------------------------------------------------------ */

/* The unsigned big-endian number in size bytes at p. */
static inline uint64_t big_endian(const unsigned char *p, unsigned size) {
    uint64_t bits = 0;
    for (unsigned i = 0; i < size; i++) bits = bits << 8 | p[i];
    return bits;
}

/* The values of n elements of type at p; signed types are two's complement. */
static void decode(const unsigned char *p, tg_idx_type type, int n, double *out) {
    unsigned size = type_of(type)->size;
    uint64_t sign = (uint64_t)1 << (8 * size - 1);
    switch (type) {
    case TG_IDX_U8:
        for (int i = 0; i < n; i++) out[i] = p[i];
        return;
    case TG_IDX_I8:
    case TG_IDX_I16:
    case TG_IDX_I32:
        for (int i = 0; i < n; i++) {
            uint64_t bits = big_endian(p + (size_t)i * size, size);
            out[i] = bits & sign ? (double)bits - 2.0 * (double)sign : (double)bits;
        }
        return;
    case TG_IDX_F32:
        for (int i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)big_endian(p + (size_t)i * 4, 4);
            float f;
            memcpy(&f, &bits, sizeof f);
            out[i] = f;
        }
        return;
    case TG_IDX_F64:
        for (int i = 0; i < n; i++) {
            uint64_t bits = big_endian(p + (size_t)i * 8, 8);
            memcpy(&out[i], &bits, sizeof bits);
        }
        return;
    }
}

static void encode(double v, tg_idx_type type, unsigned char *p) {
    unsigned size = type_of(type)->size;
    uint64_t bits;
    if (type == TG_IDX_F32) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        bits = u;
    } else if (type == TG_IDX_F64) {
        memcpy(&bits, &v, sizeof bits);
    } else {
        bits = (uint64_t)(int64_t)v; /* two's complement; the low bytes are the element */
    }
    for (unsigned i = 0; i < size; i++) p[i] = (unsigned char)(bits >> 8 * (size - 1 - i));
}

/* Whether type holds v exactly, so that loading gives v back. */
static bool fits(double v, tg_idx_type type) {
    static const double range[][2] = {[TG_IDX_U8 - 8] = {0, 255},
                                      [TG_IDX_I8 - 8] = {-128, 127},
                                      [TG_IDX_I16 - 8] = {-32768, 32767},
                                      [TG_IDX_I32 - 8] = {-2147483648.0, 2147483647.0}};
    switch (type) {
    case TG_IDX_F64: return true;
    case TG_IDX_F32: return isnan(v) || (double)(float)v == v;
    default: return v >= range[type - 8][0] && v <= range[type - 8][1] && v == floor(v);
    }
}

/* Writes n values into a tensor's contiguous data from element at on. */
typedef void (*store_fn)(void *data, int64_t at, const double *v, int n);

static void store_f32(void *data, int64_t at, const double *v, int n) {
    float *out = (float *)data + at;
    for (int i = 0; i < n; i++) out[i] = (float)v[i];
}

static void store_f64(void *data, int64_t at, const double *v, int n) {
    memcpy((double *)data + at, v, sizeof *v * (size_t)n);
}

/* Integer elements convert exactly; float ones as tg_to_dtype converts. */
static void store_i64(void *data, int64_t at, const double *v, int n) {
    int64_t *out = (int64_t *)data + at;
    for (int i = 0; i < n; i++) out[i] = tg__to_i64(v[i]);
}

static void store_bool(void *data, int64_t at, const double *v, int n) {
    uint8_t *out = (uint8_t *)data + at;
    for (int i = 0; i < n; i++) out[i] = v[i] != 0;
}

/* The store step of each dtype a file loads into, NULL for an invalid one. */
static store_fn store_for(tg_dtype dtype) {
    switch (dtype) {
    case TG_F32: return store_f32;
    case TG_F64: return store_f64;
    case TG_I64: return store_i64;
    case TG_BOOL: return store_bool;
    default: return NULL;
    }
}

/* ---- Reading --------------------------------------------------------------------------- */

typedef struct reader {
    const char *path;
    gzFile gz;
    uint64_t file_size;
    bool plain; /* not gzipped: the data's size is the file's less the header */
} reader;

typedef struct header {
    tg_idx_type type;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    uint64_t bytes; /* of data after the header */
    uint64_t header_bytes;
} header;

static bool open_reader(reader *r, const char *path) {
    r->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tg__error(TG_ERR_IO, "idx_load: cannot open %s: %s", path, strerror(errno));
        return false;
    }
    /* A folder opens, and reading it fails with a less clear message. */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        tg__error(TG_ERR_IO, "idx_load: cannot read %s: not a regular file", path);
        close(fd);
        return false;
    }
    r->file_size = (uint64_t)st.st_size;
    if (!(r->gz = gzdopen(fd, "rb"))) { /* it fails only when out of memory */
        close(fd);
        tg__error(TG_ERR_NOMEM, "idx_load: out of memory");
        return false;
    }
    return true;
}

/* Reads up to n bytes into buf; fewer only at the end of the data. Returns
 * the count, or -1 with the error recorded. */
static int64_t read_up_to(reader *r, void *buf, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
        unsigned want = n - done > MAX_READ ? MAX_READ : (unsigned)(n - done);
        int got = gzread(r->gz, (char *)buf + done, want);
        if (got <= 0) break;
        done += (unsigned)got;
    }
    int code;
    const char *why = gzerror(r->gz, &code);
    if (code == Z_OK) return (int64_t)done;
    /* zlib's message starts with the name it was given, "<fd:N>: " here. */
    const char *colon = strstr(why, ": ");
    why = colon ? colon + 2 : why;
    if (code == Z_ERRNO)
        tg__error(TG_ERR_IO, "idx_load: cannot read %s: %s", r->path, why);
    else if (code == Z_MEM_ERROR)
        tg__error(TG_ERR_NOMEM, "idx_load: out of memory");
    else
        tg__error(TG_ERR_VALUE, "idx_load: %s: corrupt gzip data: %s", r->path, why);
    return -1;
}

/* The data is have bytes (or more than have, as more says) where the
 * header's dims need h->bytes. */
static void size_error(const reader *r, const header *h, uint64_t have, const char *more) {
    char dims[TG_SHAPE_STR_MAX];
    tg__shape_str(dims, sizeof dims, h->ndim, h->shape);
    if (have < h->bytes)
        tg__error(TG_ERR_VALUE,
                  "idx_load: %s: truncated: %llu of the %llu data bytes that dims %s of %s need",
                  r->path, (unsigned long long)have, (unsigned long long)h->bytes, dims,
                  type_of(h->type)->name);
    else
        tg__error(TG_ERR_VALUE,
                  "idx_load: %s: trailing data: %s%llu data bytes where dims %s of %s need %llu",
                  r->path, more, (unsigned long long)have, dims, type_of(h->type)->name,
                  (unsigned long long)h->bytes);
}

static bool read_header(reader *r, header *h) {
    unsigned char bytes[4 * (TG_MAX_DIMS + 1)];
    int64_t got = read_up_to(r, bytes, 4);
    if (got < 0) return false;
    r->plain = gzdirect(r->gz);
    if (got < 4) {
        tg__error(TG_ERR_VALUE, "idx_load: %s: the file ends inside the header, after %lld bytes",
                  r->path, (long long)got);
        return false;
    }
    if (bytes[0] != 0 || bytes[1] != 0) {
        tg__error(TG_ERR_VALUE,
                  "idx_load: %s: not an IDX file: it starts with %02x %02x, not with 00 00",
                  r->path, bytes[0], bytes[1]);
        return false;
    }
    if (!type_of(bytes[2])) {
        tg__error(TG_ERR_DTYPE, "idx_load: %s: unknown element type 0x%02x (" TYPE_CODES ")",
                  r->path, bytes[2]);
        return false;
    }
    h->type = (tg_idx_type)bytes[2];
    h->ndim = bytes[3];
    if (h->ndim == 0 || h->ndim > TG_MAX_DIMS) {
        tg__error(TG_ERR_SHAPE, "idx_load: %s: %d dims; tapegrad tensors have 1 to %d here",
                  r->path, h->ndim, TG_MAX_DIMS);
        return false;
    }
    h->header_bytes = 4 * ((uint64_t)h->ndim + 1);
    got = read_up_to(r, bytes + 4, h->header_bytes - 4);
    if (got < 0) return false;
    if ((uint64_t)got < h->header_bytes - 4) {
        tg__error(TG_ERR_VALUE, "idx_load: %s: the file ends inside the header, after %lld bytes",
                  r->path, (long long)got + 4);
        return false;
    }
    /* The limit of every tensor's shape (tg__valid_shape): the product of
     * the dims, an empty one counted as 1, times 8 fits 63 bits. Here to
     * name the file. */
    int64_t reach = 1, numel = 1;
    bool too_large = false;
    for (int i = 0; i < h->ndim; i++) {
        const unsigned char *p = bytes + 4 * (i + 1);
        h->shape[i] = (int64_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
        int64_t step = h->shape[i] > 1 ? h->shape[i] : 1;
        too_large |= reach > (INT64_MAX / 8) / step;
        if (!too_large) reach *= step, numel *= h->shape[i];
    }
    if (too_large) {
        char dims[TG_SHAPE_STR_MAX];
        tg__shape_str(dims, sizeof dims, h->ndim, h->shape);
        tg__error(TG_ERR_SHAPE, "idx_load: %s: dims %s are too large for a tensor", r->path, dims);
        return false;
    }
    h->bytes = (uint64_t)numel * type_of(h->type)->size;
    uint64_t after = r->file_size >= h->header_bytes ? r->file_size - h->header_bytes : 0;
    if (r->plain && after != h->bytes) {
        size_error(r, h, after, "");
        return false;
    }
    return true;
}

/* The h->bytes bytes of data, in a new malloc'ed buffer. A plain file's
 * size was checked against the header: its buffer is made whole at once. */
static unsigned char *read_data(reader *r, const header *h) {
    uint64_t cap = r->plain || h->bytes < FIRST_BUFFER ? h->bytes : FIRST_BUFFER, have = 0;
    unsigned char *buf = h->bytes < SIZE_MAX ? malloc((size_t)cap + 1) : NULL;
    while (buf) {
        int64_t got = read_up_to(r, buf + have, cap - have);
        if (got < 0) {
            free(buf);
            return NULL;
        }
        have += (uint64_t)got;
        if (have < cap || cap == h->bytes) break;
        cap = cap > h->bytes / 2 ? h->bytes : 2 * cap;
        unsigned char *grown = realloc(buf, (size_t)cap + 1);
        if (!grown) free(buf);
        buf = grown;
    }
    if (!buf) {
        tg__error(TG_ERR_NOMEM, "idx_load: out of memory reading %s", r->path);
        return NULL;
    }
    /* Short: a gzip stream that ends early, or a plain file cut while read. */
    unsigned char extra;
    int64_t more = have < h->bytes ? 0 : read_up_to(r, &extra, 1);
    if (have < h->bytes || more != 0) {
        if (more >= 0) size_error(r, h, have, "more than ");
        free(buf);
        return NULL;
    }
    return buf;
}

tg_tensor *tg_idx_load(const char *path, tg_dtype dtype) {
    if (!path) {
        tg__null_arg("idx_load");
        return NULL;
    }
    /* Without a store step: a value that is no dtype, or a dtype that
     * IDX elements do not load into. */
    store_fn store = store_for(dtype);
    if (!store) {
        tg__check_dtype("idx_load", dtype);
        return NULL;
    }
    reader r;
    if (!open_reader(&r, path)) return NULL;
    header h;
    unsigned char *data = read_header(&r, &h) ? read_data(&r, &h) : NULL;
    gzclose_r(r.gz);
    tg_tensor *t = data ? tg__new_owned("idx_load", h.ndim, h.shape, dtype) : NULL;
    if (t) {
        unsigned size = type_of(h.type)->size;
        double values[BLOCK];
        for (int64_t at = 0; at < t->numel; at += BLOCK) {
            int n = t->numel - at < BLOCK ? (int)(t->numel - at) : BLOCK;
            decode(data + at * size, h.type, n, values);
            store(tg__ptr(t), at, values, n);
        }
    }
    free(data);
    return tg__autorelease(t);
}

/* ---- Writing ----------------------------------------------------------------------------- */

typedef struct save_job {
    const tg_tensor *t;
    const double *values; /* its elements in row-major order */
    tg_idx_type type;
} save_job;

static int write_contents(int fd, void *ctx) {
    const save_job *job = ctx;
    const tg_tensor *t = job->t;
    unsigned char bytes[BLOCK * 8] = {0, 0, (unsigned char)job->type, (unsigned char)t->ndim};
    /* Dims are unsigned 32-bit counts: the low four bytes, as an i32's. */
    for (int i = 0; i < t->ndim; i++) encode((double)t->shape[i], TG_IDX_I32, bytes + 4 * (i + 1));
    int err = tg__write_all(fd, bytes, 4 * ((size_t)t->ndim + 1));
    unsigned size = type_of(job->type)->size;
    for (int64_t at = 0; !err && at < t->numel; at += BLOCK) {
        int n = t->numel - at < BLOCK ? (int)(t->numel - at) : BLOCK;
        for (int i = 0; i < n; i++) encode(job->values[at + i], job->type, bytes + i * size);
        err = tg__write_all(fd, bytes, (size_t)n * size);
    }
    return err;
}

int tg_idx_save(const char *path, const tg_tensor *t, tg_idx_type type) {
    if (!path || !t) {
        tg__null_arg("idx_save");
        return -1;
    }
    if (!type_of(type)) {
        tg__error(TG_ERR_VALUE, "idx_save: unknown element type 0x%02x (" TYPE_CODES ")",
                  (unsigned)type);
        return -1;
    }
    if (t->ndim == 0) {
        tg__error(TG_ERR_SHAPE, "idx_save: a 0-dim tensor (an IDX file has 1 to 255 dims)");
        return -1;
    }
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] > UINT32_MAX) {
            tg__error(TG_ERR_SHAPE, "idx_save: dim %d is %lld, more than an IDX file holds (%lu)",
                      i, (long long)t->shape[i], (unsigned long)UINT32_MAX);
            return -1;
        }
    double *values = malloc(sizeof *values * (size_t)t->numel + 1);
    if (!values) {
        tg__error(TG_ERR_NOMEM, "idx_save: out of memory");
        return -1;
    }
    int rc = tg_to_doubles(t, values);
    for (int64_t i = 0; rc == 0 && i < t->numel; i++)
        if (!fits(values[i], type)) {
            tg__error(TG_ERR_VALUE, "idx_save: element %lld is %.17g, which %s does not hold",
                      (long long)i, values[i], type_of(type)->name);
            rc = -1;
        }
    save_job job = {t, values, type};
    if (rc == 0) rc = tg__replace_file("idx_save", path, write_contents, &job);
    free(values);
    return rc;
}
