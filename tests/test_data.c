/* tests/test_data.c - IDX files: every element type read from bytes
 * written here and through tg_idx_save, plain and gzipped (with zlib, as
 * MNIST is shipped), and every kind of bad file refused with its message;
 * MNIST-format splits read from them;
 * the progress line's text on a fake clock, as lines, redrawn, and on a
 * real terminal (a pseudo-terminal). */
#define _GNU_SOURCE /* mkdtemp, open_memstream, posix_openpt */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tg_test.h"

static char dir[64];

/* dir/name, in one of four buffers used in turn. */
static const char *path_of(const char *name) {
    static char buf[4][128];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(bytes, 1, n, f);
        fclose(f);
    }
}

static void write_gzip(const char *path, const void *bytes, size_t n) {
    gzFile gz = gzopen(path, "wb");
    if (gz) {
        gzwrite(gz, bytes, (unsigned)n);
        gzclose(gz);
    }
}

/* The bytes of a file, at most cap of them; returns how many. */
static size_t read_bytes(const char *path, unsigned char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

/* An IDX header into buf: returns its length. */
static size_t idx_header(unsigned char *buf, int type, int ndim, const uint32_t *dims) {
    buf[0] = buf[1] = 0, buf[2] = (unsigned char)type, buf[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++) buf[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    return 4 + 4 * (size_t)ndim;
}

/* t's elements are want's, as t's dtype holds them: bit for bit, so that
 * -0.0 and NaN count. */
static bool same_values(const tg_tensor *t, const double *want, int n) {
    double got[64];
    if (!t || tg_numel(t) != n || n > 64 || tg_to_doubles(t, got) != 0) return false;
    for (int i = 0; i < n; i++) {
        double w = tg_dtype_of(t) == TG_F32 ? (double)(float)want[i] : want[i];
        if (isnan(w) ? !isnan(got[i]) : memcmp(&got[i], &w, sizeof w) != 0) return false;
    }
    return true;
}

/* ---- IDX: values -------------------------------------------------------------------- */

static const tg_idx_type all_types[] = {TG_IDX_U8,  TG_IDX_I8,  TG_IDX_I16,
                                        TG_IDX_I32, TG_IDX_F32, TG_IDX_F64};

/* Six values of each type, its extremes among them. */
static const double type_values[][6] = {
    {0, 1, 127, 128, 254, 255},
    {-128, -1, 0, 1, 126, 127},
    {-32768, -2, 0, 258, 32766, 32767},
    {-2147483648.0, -65536, 0, 16777217, 2147483646, 2147483647},
    {-0.0, (float)0.1, 1.401298464324817e-45, 3.4028234663852886e38, INFINITY, NAN},
    {-0.0, 0.1, 4.9406564584124654e-324, 1.7976931348623157e308, -INFINITY, NAN},
};

/* Files written byte by byte here: the format's big-endian elements and
 * two's complement, independently of tg_idx_save. */
static void reads_bytes_written_by_hand(void) {
    static const unsigned char data[][8 * 3] = {
        {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff},
        {0x80, 0xff, 0x00, 0x01, 0x7e, 0x7f},
        {0x80, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x02, 0x7f, 0xfe, 0x7f, 0xff},
        {0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
         0x01, 0x00, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xfe, 0x7f, 0xff, 0xff, 0xff},
        {0x80, 0x00, 0x00, 0x00, 0x3d, 0xcc, 0xcc, 0xcd, 0x00, 0x00, 0x00, 0x01,
         0x7f, 0x7f, 0xff, 0xff, 0x7f, 0x80, 0x00, 0x00, 0x7f, 0xc0, 0x00, 0x00},
    };
    static const unsigned sizes[] = {1, 1, 2, 4, 4};
    const char *path = path_of("hand.idx");
    for (int k = 0; k < 5; k++) {
        unsigned char file[64];
        size_t n = idx_header(file, all_types[k], 2, (const uint32_t[]){2, 3});
        memcpy(file + n, data[k], 6 * sizes[k]);
        write_bytes(path, file, n + 6 * sizes[k]);
        for (tg_dtype dtype = TG_F32; dtype <= TG_F64; dtype++) {
            tg_tensor *t = tg_idx_load(path, dtype);
            CHECK(t && tg_dtype_of(t) == dtype && tg_ndim(t) == 2);
            CHECK(tg_shape(t)[0] == 2 && tg_shape(t)[1] == 3 && tg_is_contiguous(t));
            CHECK(same_values(t, type_values[k], 6));
        }
    }
    /* f64: 1.5 and -2 */
    unsigned char file[64];
    size_t n = idx_header(file, TG_IDX_F64, 1, (const uint32_t[]){2});
    memcpy(file + n,
           (const unsigned char[]){0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0}, 16);
    write_bytes(path, file, n + 16);
    CHECK(same_values(tg_idx_load(path, TG_F64), (const double[]){1.5, -2}, 2));
    unlink(path);
}

/* Every type through tg_idx_save and back, plain and gzipped, into both
 * dtypes; the saved bytes are the format's. */
static void every_type_round_trips_plain_and_gzipped(void) {
    const char *plain = path_of("t.idx"), *gz = path_of("t.idx.gz");
    for (int k = 0; k < 6; k++) {
        tg_test_context = (const char *[]){"u8", "i8", "i16", "i32", "f32", "f64"}[k];
        tg_tensor *t = tg_from_data(type_values[k], TG_SHAPE(3, 2), TG_F64);
        CHECK(tg_idx_save(plain, t, all_types[k]) == 0);
        unsigned char bytes[128];
        size_t n = read_bytes(plain, bytes, sizeof bytes);
        static const unsigned sizes[] = {1, 1, 2, 4, 4, 8};
        CHECK(n == 12 + 6 * sizes[k]);
        CHECK(memcmp(bytes, (const unsigned char[]){0, 0, all_types[k], 2, 0, 0, 0, 3, 0, 0, 0, 2},
                     12) == 0);
        write_gzip(gz, bytes, n);
        for (tg_dtype dtype = TG_F32; dtype <= TG_F64; dtype++) {
            tg_tensor *a = tg_idx_load(plain, dtype), *b = tg_idx_load(gz, dtype);
            CHECK(a && tg_ndim(a) == 2 && tg_shape(a)[0] == 3 && tg_shape(a)[1] == 2);
            CHECK(same_values(a, type_values[k], 6));
            CHECK(b && tg_ndim(b) == 2 && tg_shape(b)[0] == 3 && same_values(b, type_values[k], 6));
        }
    }
    tg_test_context = NULL;
    unlink(plain), unlink(gz);
}

/* One dim, TG_MAX_DIMS dims, an empty dim; a strided tensor is saved in
 * row-major order. */
static void shapes_round_trip(void) {
    const char *path = path_of("shapes.idx");
    int64_t eight[TG_MAX_DIMS] = {1, 2, 1, 3, 1, 1, 2, 1};
    tg_tensor *ts[] = {tg_arange(0, 5, 1, TG_F32), tg_arange(0, 12, 1, TG_F64),
                       tg_zeros(TG_SHAPE(4, 0, 3), TG_F32)};
    ts[1] = tg_view(ts[1], TG_MAX_DIMS, eight);
    for (int i = 0; i < 3; i++) {
        CHECK(tg_idx_save(path, ts[i], TG_IDX_U8) == 0);
        tg_tensor *back = tg_idx_load(path, tg_dtype_of(ts[i]));
        CHECK(back && tg_ndim(back) == tg_ndim(ts[i]));
        CHECK(memcmp(tg_shape(back), tg_shape(ts[i]), sizeof(int64_t) * (size_t)tg_ndim(back)) ==
              0);
        CHECK(tg_item(tg_sum(tg_abs(tg_sub(back, ts[i])))) == 0);
    }
    tg_tensor *strided = tg_transpose(tg_view(tg_arange(0, 6, 1, TG_F64), TG_SHAPE(2, 3)), 0, 1);
    CHECK(tg_idx_save(path, strided, TG_IDX_I16) == 0);
    CHECK(same_values(tg_idx_load(path, TG_F64), (const double[]){0, 3, 1, 4, 2, 5}, 6));
    unlink(path);
}

/* Into float32, as a C cast rounds: 2^24 + 1 and 0.1 do not survive. */
static void float32_rounds_to_nearest(void) {
    const char *path = path_of("round.idx");
    CHECK(tg_idx_save(path,
                      tg_from_data((const double[]){16777217, -16777219}, TG_SHAPE(2), TG_F64),
                      TG_IDX_I32) == 0);
    tg_tensor *t = tg_idx_load(path, TG_F32);
    CHECK_VALUES(t, ((const double[]){16777216, -16777220}), 2, 0, 0);
    CHECK(tg_idx_save(path, tg_scalar(0.1, TG_F64), TG_IDX_F64) == -1); /* 0-dim */
    CHECK_ERROR(TG_ERR_SHAPE, "idx_save: a 0-dim tensor");
    CHECK(tg_idx_save(path, tg_full(TG_SHAPE(1), 0.1, TG_F64), TG_IDX_F64) == 0);
    CHECK(tg_item(tg_idx_load(path, TG_F32)) == (double)0.1f);
    unlink(path);
}

/* Several gzip members in a row are one stream, as for gunzip; bytes
 * after the stream that are not gzip are ignored, as gzip does. */
static void gzip_members_and_what_follows(void) {
    unsigned char head[16], data[4] = {7, 8, 9, 10}, file[4096];
    size_t n = idx_header(head, TG_IDX_U8, 2, (const uint32_t[]){2, 2});
    const char *a = path_of("a.gz"), *b = path_of("b.gz"), *both = path_of("both.gz");
    write_gzip(a, head, n);
    write_gzip(b, data, 4);
    size_t na = read_bytes(a, file, sizeof file);
    size_t nb = read_bytes(b, file + na, sizeof file - na);
    write_bytes(both, file, na + nb);
    CHECK(same_values(tg_idx_load(both, TG_F32), (const double[]){7, 8, 9, 10}, 4));
    memcpy(file + na + nb, "garbage", 7);
    write_bytes(both, file, na + nb + 7);
    CHECK(same_values(tg_idx_load(both, TG_F32), (const double[]){7, 8, 9, 10}, 4));
    unlink(a), unlink(b), unlink(both);
}

/* ---- IDX: bad files --------------------------------------------------------------------- */

/* Each fault in a plain file and gzipped, with the same message but for
 * trailing data, which a stream shows only as it comes. */
static void bad_files_are_refused(void) {
    struct {
        const char *bytes;
        size_t n;
        tg_status status;
        const char *message;
    } cases[] = {
        {"", 0, TG_ERR_VALUE, "the file ends inside the header, after 0 bytes"},
        {"\0\0\x08", 3, TG_ERR_VALUE, "the file ends inside the header, after 3 bytes"},
        {"\0\0\x08\x02\0\0\0\x02", 8, TG_ERR_VALUE,
         "the file ends inside the header, after 8 bytes"},
        {"\x01\0\x08\x01\0\0\0\x01\x05", 9, TG_ERR_VALUE,
         "not an IDX file: it starts with 01 00, not with 00 00"},
        {"\0\x8b\x08\x01\0\0\0\x01\x05", 9, TG_ERR_VALUE,
         "not an IDX file: it starts with 00 8b, not with 00 00"},
        {"\0\0\x0a\x01\0\0\0\x01\x05", 9, TG_ERR_DTYPE,
         "unknown element type 0x0a (0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64)"},
        {"\0\0\x07\x01\0\0\0\x01\x05", 9, TG_ERR_DTYPE, "unknown element type 0x07"},
        {"\0\0\x0f\x01\0\0\0\x01\x05", 9, TG_ERR_DTYPE, "unknown element type 0x0f"},
        {"\0\0\x08\0\x05", 5, TG_ERR_SHAPE, "0 dims; tapegrad tensors have 1 to 8 here"},
        {"\0\0\x08\x09", 4, TG_ERR_SHAPE, "9 dims; tapegrad tensors have 1 to 8 here"},
        {"\0\0\x08\xff", 4, TG_ERR_SHAPE, "255 dims"},
        {"\0\0\x08\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 20,
         TG_ERR_SHAPE,
         "dims (4294967295, 4294967295, 4294967295, 4294967295) are too large for a tensor"},
        /* No element, but the strides of the dims before the 0 would overflow. */
        {"\0\0\x08\x03\0\0\0\0\xf9\0\0\0\xf9\0\0\0", 16, TG_ERR_SHAPE,
         "dims (0, 4177526784, 4177526784) are too large for a tensor"},
        {"\0\0\x0b\x01\0\0\0\x03\0\x01\0\x02\0", 13, TG_ERR_VALUE,
         "truncated: 5 of the 6 data bytes that dims (3,) of i16 need"},
        {"\0\0\x0e\x02\0\0\0\x01\0\0\0\x01", 12, TG_ERR_VALUE,
         "truncated: 0 of the 8 data bytes that dims (1, 1) of f64 need"},
        {"\0\0\x08\x01\0\0\0\x02\x01\x02\x03", 11, TG_ERR_VALUE,
         "trailing data: 3 data bytes where dims (2,) of u8 need 2"},
        {"\0\0\x08\x01\0\0\0\0\x01", 9, TG_ERR_VALUE,
         "trailing data: 1 data bytes where dims (0,) of u8 need 0"},
    };
    const char *plain = path_of("bad.idx"), *gz = path_of("bad.idx.gz");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].message;
        write_bytes(plain, cases[i].bytes, cases[i].n);
        write_gzip(gz, cases[i].bytes, cases[i].n);
        char want[512];
        snprintf(want, sizeof want, "idx_load: %s: %s", plain, cases[i].message);
        CHECK(tg_idx_load(plain, TG_F32) == NULL);
        CHECK_ERROR(cases[i].status, want);
        bool trailing = strncmp(cases[i].message, "trailing", 8) == 0;
        snprintf(want, sizeof want, "idx_load: %s: %s", gz,
                 trailing ? "trailing data: more than " : cases[i].message);
        CHECK(tg_idx_load(gz, TG_F64) == NULL);
        CHECK_ERROR(cases[i].status, want);
    }
    tg_test_context = NULL;
    write_gzip(gz, "\0\0\x08\x01\0\0\0\x02\x01\x02\x03", 11);
    CHECK(tg_idx_load(gz, TG_F64) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "trailing data: more than 2 data bytes where dims (2,) of u8 need 2");
    unlink(plain), unlink(gz);
}

/* A header that announces more than the file holds allocates nothing for
 * it: 2^59 bytes announced would be refused as out of memory. A gzip
 * stream that decompresses to far more than announced is refused too. */
static void lying_headers_allocate_nothing(void) {
    unsigned char file[64];
    size_t n = idx_header(file, TG_IDX_U8, 3, (const uint32_t[]){1u << 28, 1u << 28, 8});
    memcpy(file + n, "abcdef", 6);
    const char *plain = path_of("lie.idx"), *gz = path_of("lie.idx.gz");
    write_bytes(plain, file, n + 6);
    write_gzip(gz, file, n + 6);
    const char *message = "truncated: 6 of the 576460752303423488 data bytes that dims (268435456, "
                          "268435456, 8) "
                          "of u8 need";
    CHECK(tg_idx_load(plain, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, message);
    CHECK(tg_idx_load(gz, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, message);
    /* 10 bytes announced, 4 MiB of zeros in the stream. */
    size_t big = 4u << 20;
    unsigned char *bomb = calloc(1, big);
    CHECK(bomb != NULL);
    idx_header(bomb, TG_IDX_U8, 1, (const uint32_t[]){10});
    write_gzip(gz, bomb, big);
    free(bomb);
    CHECK(tg_idx_load(gz, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "trailing data: more than 10 data bytes where dims (10,) of u8");
    unlink(plain), unlink(gz);
}

/* A gzip stream cut short, with a flipped bit, with a wrong checksum: each
 * refused with zlib's reason. */
static void corrupt_gzip_streams_are_refused(void) {
    unsigned char idx[300], gz_bytes[600], copy[600];
    size_t n = idx_header(idx, TG_IDX_U8, 1, (const uint32_t[]){256});
    for (int i = 0; i < 256; i++) idx[n + (size_t)i] = (unsigned char)(i * 7);
    const char *path = path_of("corrupt.gz");
    write_gzip(path, idx, n + 256);
    size_t len = read_bytes(path, gz_bytes, sizeof gz_bytes);
    CHECK(len > 30 && gz_bytes[0] == 0x1f && gz_bytes[1] == 0x8b);
    CHECK(tg_idx_load(path, TG_F32) != NULL);
    char want[256];
    snprintf(want, sizeof want, "idx_load: %s: corrupt gzip data: unexpected end of file", path);
    write_bytes(path, gz_bytes, len / 2);
    CHECK(tg_idx_load(path, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, want);
    write_bytes(path, gz_bytes, 2); /* the magic bytes alone */
    CHECK(tg_idx_load(path, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "corrupt gzip data: unexpected end of file");
    memcpy(copy, gz_bytes, len);
    copy[len - 6] ^= 1; /* the CRC-32 of the data */
    write_bytes(path, copy, len);
    CHECK(tg_idx_load(path, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "corrupt gzip data: incorrect data check");
    memcpy(copy, gz_bytes, len);
    copy[2] = 9; /* a compression method that is not deflate */
    write_bytes(path, copy, len);
    CHECK(tg_idx_load(path, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "corrupt gzip data: unknown compression method");
    /* Every byte of the stream flipped in turn: refused with a message, or
     * (a flip in the header's timestamp, say) loaded whole. */
    int loaded = 0, refused = 0;
    for (size_t pos = 0; pos < len; pos++) {
        memcpy(copy, gz_bytes, len);
        copy[pos] ^= 0x55;
        write_bytes(path, copy, len);
        tg_tensor *t = tg_idx_load(path, TG_F32);
        if (t) {
            loaded++;
            CHECK(tg_numel(t) == 256 && tg_item(tg_sum(t)) > 0);
        } else {
            refused++;
            CHECK(tg_last_status() != TG_OK && strstr(tg_last_error(), path));
            tg_clear_error();
        }
    }
    CHECK(loaded > 0 && refused > (int)len / 2);
    unlink(path);
}

static void paths_that_are_not_files(void) {
    char want[256];
    const char *missing = path_of("missing.idx");
    snprintf(want, sizeof want, "idx_load: cannot open %s: No such file or directory", missing);
    CHECK(tg_idx_load(missing, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_IO, want);
    snprintf(want, sizeof want, "idx_load: cannot read %s: not a regular file", dir);
    CHECK(tg_idx_load(dir, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_IO, want);
    CHECK(tg_idx_load("/dev/null", TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_IO, "idx_load: cannot read /dev/null: not a regular file");
}

/* tg_idx_save refuses what the file would not give back. */
static void save_refuses_values_the_type_does_not_hold(void) {
    const char *path = path_of("save.idx");
    struct {
        double value;
        tg_idx_type type;
        const char *message;
    } cases[] = {
        {256, TG_IDX_U8, "element 1 is 256, which u8 does not hold"},
        {-1, TG_IDX_U8, "element 1 is -1, which u8 does not hold"},
        {0.5, TG_IDX_I32, "element 1 is 0.5, which i32 does not hold"},
        {128, TG_IDX_I8, "element 1 is 128, which i8 does not hold"},
        {-32769, TG_IDX_I16, "element 1 is -32769, which i16 does not hold"},
        {2147483648.0, TG_IDX_I32, "element 1 is 2147483648, which i32 does not hold"},
        {NAN, TG_IDX_I32, "element 1 is nan, which i32 does not hold"},
        {INFINITY, TG_IDX_U8, "element 1 is inf, which u8 does not hold"},
        {1e300, TG_IDX_F32, "element 1 is 1.0000000000000001e+300, which f32 does not hold"},
        {0.1, TG_IDX_F32, "element 1 is 0.10000000000000001, which f32 does not hold"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].message;
        tg_tensor *t = tg_from_data((const double[]){0, cases[i].value}, TG_SHAPE(2), TG_F64);
        CHECK(tg_idx_save(path, t, cases[i].type) == -1);
        CHECK_ERROR(TG_ERR_VALUE, cases[i].message);
        CHECK(access(path, F_OK) != 0); /* nothing written */
    }
    tg_test_context = NULL;
    /* A dim of 2^32 (an expanded view: no memory behind it). */
    tg_tensor *wide = tg_expand(tg_zeros(TG_SHAPE(1, 1), TG_F32), TG_SHAPE(1, INT64_C(1) << 32));
    CHECK(tg_idx_save(path, wide, TG_IDX_U8) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "idx_save: dim 1 is 4294967296, more than an IDX file holds");
    CHECK(tg_idx_save(path, tg_ones(TG_SHAPE(2), TG_F32), (tg_idx_type)0x0a) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "idx_save: unknown element type 0x0a");
    CHECK(tg_idx_save("/nonexistent/x.idx", tg_ones(TG_SHAPE(2), TG_F32), TG_IDX_U8) == -1);
    CHECK_ERROR(TG_ERR_IO, "idx_save: cannot write /nonexistent/x.idx");
}

/* Out of memory at each of the load's allocations (the tensor's, through
 * tg_set_allocator): an error and no tensor left alive. */
static int load_scenario(void *path) {
    tg_tensor *t = tg_idx_load(path, TG_F64);
    tg_release(t);
    return t ? 0 : -1;
}

static void load_fails_cleanly_out_of_memory(void) {
    const char *path = path_of("oom.idx");
    CHECK(tg_idx_save(path, tg_ones(TG_SHAPE(2, 3), TG_F32), TG_IDX_U8) == 0);
    tg_pool_pop(tg_test_pool); /* allocations of the harness's pool would count too */
    tg_test_sweep r = tg_test_fail_each_allocation(load_scenario, (void *)path, NULL);
    CHECK(r.allocations > 0 && r.failures == r.allocations && r.wrong == 0);
    unlink(path);
}

/* ---- MNIST-format data sets ------------------------------------------------------------ */

/* A split of n images of 2 x 3 pixels (pixel k of image i is 40 i + k)
 * and n labels (i), written into sub as name.gz when gzipped, else plain. */
static void write_split(const char *sub, const char *prefix, int n, bool gzipped) {
    unsigned char file[256];
    char path[160];
    size_t len = idx_header(file, TG_IDX_U8, 3, (const uint32_t[]){(uint32_t)n, 2, 3});
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 6; k++) file[len++] = (unsigned char)(40 * i + k);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", sub, prefix, gzipped ? ".gz" : "");
    (gzipped ? write_gzip : write_bytes)(path, file, len);
    len = idx_header(file, TG_IDX_U8, 1, (const uint32_t[]){(uint32_t)n});
    for (int i = 0; i < n; i++) file[len++] = (unsigned char)i;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", sub, prefix, gzipped ? ".gz" : "");
    (gzipped ? write_gzip : write_bytes)(path, file, len);
}

/* Images flattened to float32 pixel / 255 (rounded as float32 division
 * rounds), labels int64; train-* for the training split and t10k-* for
 * the test split, gzipped or plain. */
static void mnist_splits_load(void) {
    const char *sub = path_of("mnist");
    CHECK(mkdir(sub, 0755) == 0);
    write_split(sub, "train", 3, true);
    write_split(sub, "t10k", 2, false);
    tg_tensor *x, *y;
    CHECK(tg_mnist_load(sub, TG_MNIST_TRAIN, &x, &y) == 0);
    CHECK(tg_dtype_of(x) == TG_F32 && tg_ndim(x) == 2 && tg_size(x, 0) == 3 && tg_size(x, 1) == 6);
    CHECK(tg_dtype_of(y) == TG_I64 && tg_ndim(y) == 1 && tg_size(y, 0) == 3);
    double want[18];
    for (int k = 0; k < 18; k++) want[k] = (double)((float)(40 * (k / 6) + k % 6) / 255.0f);
    CHECK(same_values(x, want, 18));
    CHECK(same_values(y, (const double[]){0, 1, 2}, 3));
    CHECK(tg_mnist_load(sub, TG_MNIST_TEST, &x, &y) == 0);
    CHECK(tg_size(x, 0) == 2 && same_values(y, (const double[]){0, 1}, 2));
}

/* What is wrong with a split is said, naming the file; nothing is returned. */
static void mnist_bad_splits_are_refused(void) {
    const char *sub = path_of("bad-mnist");
    char path[160];
    CHECK(mkdir(sub, 0755) == 0);
    tg_tensor *x = tg_ones(TG_SHAPE(1), TG_F32), *y = x;
    CHECK(tg_mnist_load(sub, TG_MNIST_TRAIN, &x, &y) == -1 && !x && !y);
    char want[512];
    snprintf(want, sizeof want,
             "mnist_load: cannot open %s/train-images-idx3-ubyte.gz (nor train-images-idx3-ubyte): "
             "No such file or directory",
             sub);
    CHECK_ERROR(TG_ERR_IO, want);
    /* 3 images, 2 labels */
    write_split(sub, "train", 3, false);
    write_split(sub, "t10k", 2, false);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", sub);
    char labels_path[160];
    snprintf(labels_path, sizeof labels_path, "%s/train-labels-idx1-ubyte", sub);
    CHECK(rename(path, labels_path) == 0);
    CHECK(tg_mnist_load(sub, TG_MNIST_TRAIN, &x, &y) == -1 && !x && !y);
    snprintf(want, sizeof want,
             "mnist_load: %s/train-images-idx3-ubyte has 3 images but %s has 2 labels", sub,
             labels_path);
    CHECK_ERROR(TG_ERR_SHAPE, want);
    /* images of 2 dims */
    write_split(sub, "t10k", 2, false);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", sub);
    CHECK(tg_idx_save(path, tg_zeros(TG_SHAPE(2, 6), TG_F32), TG_IDX_U8) == 0);
    CHECK(tg_mnist_load(sub, TG_MNIST_TEST, &x, &y) == -1 && !x && !y);
    CHECK_ERROR(TG_ERR_SHAPE, "t10k-images-idx3-ubyte: 2 dims; images have 3");
}

static int mnist_scenario(void *dir_path) {
    tg_tensor *x, *y;
    int rc = tg_mnist_load(dir_path, TG_MNIST_TRAIN, &x, &y);
    if (rc == 0) {
        tg_release(x);
        tg_release(y);
    }
    return rc;
}

static void mnist_load_fails_cleanly_out_of_memory(void) {
    const char *sub = path_of("oom-mnist");
    CHECK(mkdir(sub, 0755) == 0);
    write_split(sub, "train", 2, true);
    tg_pool_pop(tg_test_pool);
    tg_test_sweep r = tg_test_fail_each_allocation(mnist_scenario, (void *)sub, NULL);
    CHECK(r.allocations > 0 && r.failures == r.allocations && r.wrong == 0);
}

/* ---- Progress line ---------------------------------------------------------------------- */

static double fake_now;
static double fake_clock(void *ctx) {
    (void)ctx;
    return fake_now;
}

/* A memory stream and the text written to it, read at the end. */
typedef struct capture {
    FILE *f;
    char *text;
    size_t len;
} capture;

static FILE *capture_open(capture *c) {
    *c = (capture){0};
    return c->f = open_memstream(&c->text, &c->len);
}

static const char *capture_text(capture *c) {
    fclose(c->f);
    c->f = NULL;
    return c->text;
}

static tg_progress_options fake_options(tg_progress_style style) {
    tg_progress_options o = tg_progress_defaults();
    o.style = style;
    o.clock = fake_clock;
    fake_now = 100;
    return o;
}

/* A line when line_every_seconds passed since the last, and at the end. */
static void progress_writes_lines_by_time(void) {
    capture c;
    tg_progress_options o = fake_options(TG_PROGRESS_LINES);
    o.line_every_seconds = 1;
    tg_progress *p = tg_progress_new(10, capture_open(&c), &o);
    CHECK(p != NULL);
    for (int step = 1; step <= 10; step++) {
        fake_now += 0.25;
        CHECK(tg_progress_update(p, step, step <= 5 ? 0 : 1, 1.0 / step) == 0);
    }
    tg_progress_finish(p);
    tg_progress_free(p);
    CHECK_EQ_STR(capture_text(&c),
                 "step 1/10 (10%)  epoch 0  loss 1  4 steps/s  ETA 0:02\n"
                 "step 5/10 (50%)  epoch 0  loss 0.2  4 steps/s  ETA 0:01\n"
                 "step 9/10 (90%)  epoch 1  loss 0.1111  4 steps/s  ETA 0:00\n"
                 "step 10/10 (100%)  epoch 1  loss 0.1  4 steps/s  done in 0:02\n");
    free(c.text);
}

static void progress_writes_lines_by_steps(void) {
    capture c;
    tg_progress_options o = fake_options(TG_PROGRESS_LINES);
    o.line_every_seconds = 0;
    o.line_every_steps = 400;
    tg_progress *p = tg_progress_new(1000, capture_open(&c), &o);
    for (int step = 1; step <= 700; step++) {
        fake_now += 1.0 / 32;
        CHECK(tg_progress_update(p, step, -1, NAN) == 0);
    }
    tg_progress_finish(p); /* stopped early */
    tg_progress_free(p);
    CHECK_EQ_STR(capture_text(&c), "step 1/1000 (0%)  loss nan  32 steps/s  ETA 0:31\n"
                                   "step 401/1000 (40%)  loss nan  32 steps/s  ETA 0:18\n"
                                   "step 700/1000 (70%)  loss nan  32 steps/s  done in 0:21\n");
    free(c.text);
}

/* Redrawn in place, at most every redraw_seconds, always at the last
 * step; finishing ends the line. */
static void progress_redraws_in_place(void) {
    capture c;
    tg_progress_options o = fake_options(TG_PROGRESS_REDRAW);
    o.redraw_seconds = 1;
    tg_progress *p = tg_progress_new(4, capture_open(&c), &o);
    for (int step = 1; step <= 4; step++) {
        fake_now += 0.75;
        CHECK(tg_progress_update(p, step, 2, 0.5) == 0);
    }
    fake_now += 0.5;
    tg_progress_finish(p);
    tg_progress_free(p);
    CHECK_EQ_STR(capture_text(&c),
                 "\rstep 1/4 (25%)  epoch 2  loss 0.5  1.33 steps/s  ETA 0:02\033[K"
                 "\rstep 3/4 (75%)  epoch 2  loss 0.5  1.33 steps/s  ETA 0:00\033[K"
                 "\rstep 4/4 (100%)  epoch 2  loss 0.5  1.33 steps/s  ETA 0:00\033[K"
                 "\rstep 4/4 (100%)  epoch 2  loss 0.5  1.14 steps/s  done in 0:03\033[K\n");
    free(c.text);
}

/* Rates and times: unknown before any time passed, hours, fast loops. */
static void progress_formats_rates_and_times(void) {
    capture c;
    tg_progress_options o = fake_options(TG_PROGRESS_LINES);
    o.line_every_steps = 1;
    tg_progress *p = tg_progress_new(100000, capture_open(&c), &o);
    CHECK(tg_progress_update(p, 0, 0, 2.302585) == 0);
    fake_now += 4;
    CHECK(tg_progress_update(p, 1, 0, 2.25) == 0);
    fake_now += 1;
    CHECK(tg_progress_update(p, 12000, 0, 1e-7) == 0);
    tg_progress_finish(p);
    tg_progress_finish(p); /* does nothing */
    tg_progress_free(p);
    CHECK_EQ_STR(capture_text(&c),
                 "step 0/100000 (0%)  epoch 0  loss 2.303  ? steps/s  ETA ?\n"
                 "step 1/100000 (0%)  epoch 0  loss 2.25  0.25 steps/s  ETA 111:06:36\n"
                 "step 12000/100000 (12%)  epoch 0  loss 1e-07  2400 steps/s  ETA 0:36\n"
                 "step 12000/100000 (12%)  epoch 0  loss 1e-07  2400 steps/s  done in 0:05\n");
    free(c.text);
}

/* Finishing with no update shows step 0 alone. */
static void progress_finished_before_any_step(void) {
    capture c;
    tg_progress_options o = fake_options(TG_PROGRESS_LINES);
    tg_progress *p = tg_progress_new(5, capture_open(&c), &o);
    fake_now += 61;
    tg_progress_finish(p);
    CHECK(tg_progress_update(p, 1, 0, 0) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "progress_update: the progress line is finished");
    tg_progress_free(p);
    CHECK_EQ_STR(capture_text(&c), "step 0/5 (0%)  ? steps/s  done in 1:01\n");
    free(c.text);
}

/* The default style picks lines for a stream that is not a terminal, and
 * redrawing for one that is; the default clock is a real one. */
static void progress_redraws_on_a_terminal_only(void) {
    capture c;
    tg_progress *p = tg_progress_new(3, capture_open(&c), NULL);
    CHECK(tg_progress_update(p, 1, 1, 0.25) == 0);
    tg_progress_finish(p);
    tg_progress_free(p);
    const char *text = capture_text(&c);
    CHECK(strncmp(text, "step 1/3 (33%)  epoch 1  loss 0.25  ", 36) == 0);
    /* the real clock: a loaded machine may take seconds, so any time */
    CHECK(strstr(text, "\nstep 1/3 (33%)  epoch 1  loss 0.25  ") && strstr(text, "  done in ") &&
          text[strlen(text) - 1] == '\n');
    CHECK(!strchr(text, '\r') && !strchr(text, '\033'));
    free(c.text);

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    FILE *term = slave >= 0 ? fdopen(slave, "w") : NULL;
    CHECK(term != NULL);
    p = tg_progress_new(3, term, NULL);
    CHECK(tg_progress_update(p, 1, 1, 0.25) == 0);
    tg_progress_finish(p);
    tg_progress_free(p);
    fclose(term);
    /* The writer has closed its side: read until the terminal says so (a
     * read may return part of what was written). */
    char screen[512];
    size_t used = 0;
    ssize_t n;
    while (used < sizeof screen - 1 &&
           (n = read(master, screen + used, sizeof screen - 1 - used)) > 0)
        used += (size_t)n;
    close(master);
    screen[used] = '\0';
    CHECK(strncmp(screen, "\rstep 1/3 (33%)  epoch 1  loss 0.25  ", 37) == 0);
    CHECK(strstr(screen, "\033[K\rstep 1/3 (33%)") && strstr(screen, "done in ") && used >= 5 &&
          strcmp(screen + used - 5, "\033[K\r\n") == 0);
}

static void progress_refuses_bad_steps(void) {
    capture c;
    tg_progress_options o = fake_options(TG_PROGRESS_LINES);
    tg_progress *p = tg_progress_new(5, capture_open(&c), &o);
    CHECK(tg_progress_update(p, 6, 0, 0) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "progress_update: step 6 outside 0..5");
    CHECK(tg_progress_update(p, -1, 0, 0) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "progress_update: step -1 outside 0..5");
    tg_progress_free(p);
    CHECK_EQ_STR(capture_text(&c), "");
    free(c.text);
}

static int progress_scenario(void *out) {
    tg_progress *p = tg_progress_new(5, out, NULL);
    tg_progress_free(p);
    return p ? 0 : -1;
}

static void progress_fails_cleanly_out_of_memory(void) {
    tg_pool_pop(tg_test_pool);
    tg_test_sweep r = tg_test_fail_each_allocation(progress_scenario, stdout, NULL);
    CHECK(r.allocations == 1 && r.failures == 1 && r.wrong == 0);
}

static const tg_test_case cases[] = {TG_CASE(reads_bytes_written_by_hand),
                                     TG_CASE(every_type_round_trips_plain_and_gzipped),
                                     TG_CASE(shapes_round_trip),
                                     TG_CASE(float32_rounds_to_nearest),
                                     TG_CASE(gzip_members_and_what_follows),
                                     TG_CASE(bad_files_are_refused),
                                     TG_CASE(lying_headers_allocate_nothing),
                                     TG_CASE(corrupt_gzip_streams_are_refused),
                                     TG_CASE(paths_that_are_not_files),
                                     TG_CASE(save_refuses_values_the_type_does_not_hold),
                                     TG_CASE(load_fails_cleanly_out_of_memory),
                                     TG_CASE(mnist_splits_load),
                                     TG_CASE(mnist_bad_splits_are_refused),
                                     TG_CASE(mnist_load_fails_cleanly_out_of_memory),
                                     TG_CASE(progress_writes_lines_by_time),
                                     TG_CASE(progress_writes_lines_by_steps),
                                     TG_CASE(progress_redraws_in_place),
                                     TG_CASE(progress_formats_rates_and_times),
                                     TG_CASE(progress_finished_before_any_step),
                                     TG_CASE(progress_redraws_on_a_terminal_only),
                                     TG_CASE(progress_refuses_bad_steps),
                                     TG_CASE(progress_fails_cleanly_out_of_memory)};

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof dir, "/tmp/tg-data-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    int rc = tg_test_run(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS); /* what a failed case left, and the folder */
    return rc;
}
