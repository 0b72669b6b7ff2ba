/* tests/test_safetensors.c - round trips, PyTorch-written files, and every
 * kind of bad file rejected with a message (never a crash). */
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tg_test.h"

static char dir[64];

static const char *path_of(const char *name) {
    static char buf[128];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(bytes, 1, n, f);
        fclose(f);
    }
}

/* A file with the given JSON header and n data bytes (all 0x3f). */
static void write_file(const char *path, const char *header, size_t n_data) {
    unsigned char buf[4096] = {0};
    uint64_t len = strlen(header);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8, header, len);
    memset(buf + 8 + len, 0x3f, n_data);
    write_bytes(path, buf, 8 + len + n_data);
}

static void round_trip(void) {
    tg_tensor *a = tg_arange(0, 6, 1, TG_F32);
    tg_tensor *b = tg_scalar(0.125, TG_F64);
    tg_tensor *c = tg_transpose(tg_view(tg_arange(0, 6, 1, TG_F64), TG_SHAPE(2, 3)), 0, 1);
    tg_named_tensor ts[] = {{"a", a}, {"layer.b", b}, {"c", c}};
    const char *path = path_of("round.safetensors");
    CHECK(tg_save_safetensors(path, 3, ts) == 0);
    tg_safetensors *f = tg_safetensors_open(path);
    CHECK(f != NULL);
    CHECK(tg_safetensors_count(f) == 3);
    CHECK_EQ_STR(tg_safetensors_name(f, 1), "layer.b");
    tg_tensor *c2 = tg_safetensors_get(f, "c");
    double want_c[] = {0, 3, 1, 4, 2, 5};
    CHECK(c2 && tg_ndim(c2) == 2 && tg_shape(c2)[0] == 3 && tg_dtype_of(c2) == TG_F64);
    CHECK_VALUES(c2, want_c, 6, 0, 0);
    CHECK(tg_safetensors_get(f, "nope") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "has no tensor 'nope'");
    tg_safetensors_close(f);

    /* Load into parameters that require grad. */
    tg_tensor *pa = tg_requires_grad_(tg_zeros(TG_SHAPE(6), TG_F32), true);
    tg_tensor *pb = tg_zeros(0, NULL, TG_F64), *pc = tg_zeros(TG_SHAPE(3, 2), TG_F64);
    tg_named_tensor into[] = {{"c", pc}, {"a", pa}, {"layer.b", pb}};
    CHECK(tg_load_safetensors(path, 3, into) == 0);
    double want_a[] = {0, 1, 2, 3, 4, 5};
    CHECK_VALUES(pa, want_a, 6, 0, 0);
    CHECK(tg_item(pb) == 0.125);
    CHECK_VALUES(pc, want_c, 6, 0, 0);
    unlink(path);
}

/* Written by the reference layout: metadata, padding, other key order. */
static void reads_a_file_written_elsewhere(void) {
    const char *path = path_of("other.safetensors");
    const char *header = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":"
                         "[2],\"data_offsets\":[0,8]},\"e\":{\"data_offsets\":[8,8],\"shape\":[0,"
                         "3],\"dtype\":\"F64\"}}   ";
    unsigned char buf[512];
    uint64_t len = strlen(header);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8, header, len);
    float w[2] = {1.5f, -2.0f};
    memcpy(buf + 8 + len, w, sizeof w);
    write_bytes(path, buf, 8 + len + sizeof w);
    tg_safetensors *f = tg_safetensors_open(path);
    CHECK(f && tg_safetensors_count(f) == 2);
    double want[] = {1.5, -2};
    CHECK_VALUES(tg_safetensors_get(f, "w"), want, 2, 0, 0);
    CHECK(tg_numel(tg_safetensors_get(f, "e")) == 0);
    CHECK(tg_safetensors_metadata_count(f) == 1);
    CHECK_EQ_STR(tg_safetensors_metadata(f, "format"), "pt");
    tg_safetensors_close(f);
    unlink(path);
}

/* __metadata__ written in the order given, first in the header, and read
 * back; none when there is none; the reference layout's "format" read. */
static void metadata_round_trip(void) {
    tg_tensor *a = tg_arange(0, 3, 1, TG_F32);
    const char *path = path_of("meta.safetensors");
    tg_metadata_entry meta[] = {
        {"z.first", "{\"json\": [1, 2]}"}, {"a", "caf\xc3\xa9 \"quoted\"\n\\"}, {"", ""}};
    CHECK(tg_save_safetensors_with_metadata(path, 1, (tg_named_tensor[]){{"a", a}}, 3, meta) == 0);
    tg_safetensors *f = tg_safetensors_open(path);
    CHECK(f && tg_safetensors_count(f) == 1 && tg_safetensors_metadata_count(f) == 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_STR(tg_safetensors_metadata_key(f, i), meta[i].key);
        CHECK_EQ_STR(tg_safetensors_metadata(f, meta[i].key), meta[i].value);
    }
    CHECK(tg_safetensors_metadata_key(f, 3) == NULL && tg_safetensors_metadata_key(f, -1) == NULL);
    CHECK(tg_safetensors_metadata(f, "b") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "meta.safetensors has no metadata 'b'");
    double want[] = {0, 1, 2};
    CHECK_VALUES(tg_safetensors_get(f, "a"), want, 3, 0, 0);
    tg_safetensors_close(f);
    /* The header starts with the metadata, as the reference writer's. */
    char head[32] = "";
    FILE *fp = fopen(path, "rb");
    CHECK(fp && fread(head, 1, 24, fp) == 24);
    fclose(fp);
    CHECK(memcmp(head + 8, "{\"__metadata__\":{\"z.fir", 16) == 0);
    /* Loading into tensors ignores it. */
    tg_tensor *back = tg_zeros(TG_SHAPE(3), TG_F32);
    CHECK(tg_load_safetensors(path, 1, (tg_named_tensor[]){{"a", back}}) == 0);
    CHECK_VALUES(back, want, 3, 0, 0);
    /* With no metadata, no __metadata__: the bytes tg_save_safetensors writes. */
    CHECK(tg_save_safetensors_with_metadata(path, 1, (tg_named_tensor[]){{"a", a}}, 0, NULL) == 0);
    f = tg_safetensors_open(path);
    CHECK(f && tg_safetensors_metadata_count(f) == 0 && tg_safetensors_metadata_key(f, 0) == NULL);
    tg_safetensors_close(f);
    unlink(path);
    CHECK(tg_safetensors_metadata_count(NULL) == 0 && tg_safetensors_metadata_key(NULL, 0) == NULL);
}

static void bad_metadata_is_refused(void) {
    const char *path = path_of("badmeta.safetensors");
    const char *headers[][2] = {
        {"{\"__metadata__\":[\"a\"]}", "__metadata__ is not a JSON object"},
        {"{\"__metadata__\":{\"a\":\"1\",\"n\":2}}", "__metadata__ entry 'n' is not a string"},
        {"{\"__metadata__\":{\"a\":null}}", "__metadata__ entry 'a' is not a string"},
        {"{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", "__metadata__ entry 'a' is not a string"},
        {"{\"__metadata__\":{\"a\":\"x\",\"a\":\"y\"}}", "duplicate object key"},
        {"{\"__metadata__\":{\"a\":\"x\\u0000y\"}}", "bad JSON header"},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        tg_test_context = headers[i][1];
        write_file(path, headers[i][0], 0);
        CHECK(tg_safetensors_open(path) == NULL);
        CHECK_ERROR(TG_ERR_VALUE, headers[i][1]);
    }
    tg_test_context = NULL;
    tg_tensor *t = tg_ones(TG_SHAPE(2), TG_F32);
    tg_named_tensor one[] = {{"t", t}};
    const char *x = path_of("x.safetensors");
    CHECK(tg_save_safetensors_with_metadata(x, 1, one, 2,
                                            (tg_metadata_entry[]){{"k", "1"}, {"k", "2"}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "save_safetensors: the metadata key 'k' is given twice");
    CHECK(tg_save_safetensors_with_metadata(x, 1, one, 1, (tg_metadata_entry[]){{"k\xff", "1"}}) ==
          -1);
    CHECK_ERROR(TG_ERR_VALUE, "save_safetensors: the key of metadata entry 0 is not valid UTF-8");
    CHECK(tg_save_safetensors_with_metadata(x, 1, one, 1,
                                            (tg_metadata_entry[]){{"k", "\xed\xa0\x80"}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "save_safetensors: the value of metadata entry 0 is not valid UTF-8");
    CHECK(tg_save_safetensors_with_metadata(x, 1, one, 1, (tg_metadata_entry[]){{"k", NULL}}) ==
          -1);
    CHECK_ERROR(TG_ERR_NULL, "save_safetensors: argument is NULL");
    CHECK(tg_save_safetensors_with_metadata(x, 1, one, 1, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "save_safetensors: argument is NULL");
    CHECK(tg_save_safetensors_with_metadata(x, 1, one, -1, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "save_safetensors: -1 metadata entries");
    CHECK(access(x, F_OK) != 0);
}

static void bad_files_are_rejected(void) {
    const char *path = path_of("bad.safetensors");
    struct {
        const char *header;
        size_t n_data;
        tg_status status;
        const char *message;
    } cases[] = {
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, TG_ERR_VALUE,
         "bad JSON header"},
        {"[1, 2]", 0, TG_ERR_VALUE, "the header is not a JSON object"},
        {"{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, TG_ERR_DTYPE,
         "tensor 'w' has dtype BF16; only F32, F64, I64 and BOOL are supported"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, TG_ERR_SHAPE,
         "tensor 'w' has an invalid shape"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, TG_ERR_VALUE,
         "data_offsets outside the 8 data bytes"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, TG_ERR_VALUE,
         "spans 8 bytes, its shape and dtype need 12"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\","
         "\"shape\":[2],\"data_offsets\":[4,12]}}",
         12, TG_ERR_VALUE, "data overlaps or has a hole"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, TG_ERR_VALUE,
         "data overlaps or has a hole"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, TG_ERR_VALUE,
         "the tensors cover 4 of 8 data bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\","
         "\"shape\":[1],\"data_offsets\":[0,4]}}",
         4, TG_ERR_VALUE, "duplicate object key"},
        {"{\"a\":[1]}", 0, TG_ERR_VALUE, "entry 'a' is not an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].message;
        write_file(path, cases[i].header, cases[i].n_data);
        CHECK(tg_safetensors_open(path) == NULL);
        CHECK_ERROR(cases[i].status, cases[i].message);
    }
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    write_bytes(path, huge, sizeof huge);
    CHECK(tg_safetensors_open(path) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "does not fit the file of 16 bytes");
    write_bytes(path, huge, 5); /* shorter than the length field */
    CHECK(tg_safetensors_open(path) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "does not fit the file of 5 bytes");
    CHECK(tg_safetensors_open(path_of("missing.safetensors")) == NULL);
    CHECK_ERROR(TG_ERR_IO, "cannot open");
    unlink(path);
}

/* Every byte of a valid file replaced by several values: each open either
 * succeeds or fails cleanly (ASan and UBSan watch for bad reads). */
static void corrupted_bytes_never_crash(void) {
    tg_tensor *a = tg_arange(0, 3, 1, TG_F32), *b = tg_ones(TG_SHAPE(1, 2), TG_F64);
    const char *path = path_of("fuzz.safetensors");
    CHECK(tg_save_safetensors(path, 2, (tg_named_tensor[]){{"a", a}, {"b", b}}) == 0);
    unsigned char orig[512];
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    size_t n = fread(orig, 1, sizeof orig, fp);
    fclose(fp);
    const unsigned char values[] = {0, '"', '{', '9', 0xff};
    int opened = 0, rejected = 0;
    for (size_t pos = 0; pos < n; pos++)
        for (size_t v = 0; v < sizeof values; v++) {
            unsigned char copy[512];
            memcpy(copy, orig, n);
            copy[pos] = values[v];
            write_bytes(path, copy, n);
            tg_safetensors *f = tg_safetensors_open(path);
            if (f) {
                opened++;
                for (int i = 0; i < tg_safetensors_count(f); i++)
                    tg_safetensors_get(f, tg_safetensors_name(f, i));
                tg_safetensors_close(f);
            } else {
                rejected++;
                CHECK(strlen(tg_last_error()) > 0);
            }
        }
    tg_clear_error();
    CHECK(opened > 0 && rejected > 0);
    unlink(path);
}

static void load_checks_names_shapes_and_dtypes(void) {
    tg_tensor *w = tg_ones(TG_SHAPE(2, 3), TG_F32), *b = tg_ones(TG_SHAPE(3), TG_F32);
    const char *path = path_of("model.safetensors");
    CHECK(tg_save_safetensors(path, 2, (tg_named_tensor[]){{"w", w}, {"b", b}}) == 0);
    tg_tensor *w2 = tg_zeros(TG_SHAPE(3, 2), TG_F32), *b2 = tg_zeros(TG_SHAPE(3), TG_F32);
    CHECK(tg_load_safetensors(path, 2, (tg_named_tensor[]){{"w", w2}, {"b", b2}}) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "tensor 'w' is float32 (2, 3) in the file, float32 (3, 2) here");
    CHECK(tg_item(tg_sum(b2)) == 0); /* nothing was written */
    tg_tensor *w64 = tg_zeros(TG_SHAPE(2, 3), TG_F64);
    CHECK(tg_load_safetensors(path, 2, (tg_named_tensor[]){{"w", w64}, {"b", b2}}) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "float32 (2, 3) in the file, float64 (2, 3) here");
    CHECK(tg_load_safetensors(path, 1, (tg_named_tensor[]){{"b", b2}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "holds an unexpected tensor 'w'");
    tg_tensor *extra = tg_zeros(TG_SHAPE(1), TG_F32);
    tg_tensor *w3 = tg_zeros(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_load_safetensors(path, 3, (tg_named_tensor[]){{"w", w3}, {"b", b2}, {"c", extra}}) ==
          -1);
    CHECK_ERROR(TG_ERR_VALUE, "has no tensor 'c'");
    /* An expanded target would keep only the file's last value: refused,
     * and nothing is written. */
    tg_tensor *one = tg_zeros(TG_SHAPE(1), TG_F32);
    tg_tensor *b_expanded = tg_expand(one, TG_SHAPE(3));
    CHECK(tg_load_safetensors(path, 2, (tg_named_tensor[]){{"w", w3}, {"b", b_expanded}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "load_safetensors: unsupported operation: more than one element of "
                              "the written-to tensor refers to a single memory location");
    CHECK(tg_item(tg_sum(w3)) == 0 && tg_item(one) == 0);
    unlink(path);
}

static void bad_save_arguments(void) {
    tg_tensor *t = tg_ones(TG_SHAPE(2), TG_F32);
    CHECK(tg_save_safetensors(path_of("x.safetensors"), 2,
                              (tg_named_tensor[]){{"t", t}, {"t", t}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "the name 't' is given twice");
    CHECK(tg_save_safetensors(path_of("x.safetensors"), 1,
                              (tg_named_tensor[]){{"__metadata__", t}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "'__metadata__' is reserved");
    /* JSON keys are UTF-8: a name that is not is refused as such */
    const char *bad_names[] = {"w\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                               "ab\xe2\x82"};
    for (int i = 0; i < 5; i++) {
        CHECK(
            tg_save_safetensors(path_of("x.safetensors"), 2,
                                (tg_named_tensor[]){{"ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", t},
                                                    {bad_names[i], t}}) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "save_safetensors: the name of tensor 1 is not valid UTF-8");
    }
    CHECK(tg_save_safetensors(path_of("x.safetensors"), 1,
                              (tg_named_tensor[]){{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", t}}) ==
          0);
    unlink(path_of("x.safetensors"));
    CHECK(tg_save_safetensors(path_of("x.safetensors"), 1, (tg_named_tensor[]){{"t", NULL}}) == -1);
    CHECK_ERROR(TG_ERR_NULL, "argument is NULL");
    /* a negative count is refused, and no file is written */
    CHECK(tg_save_safetensors(path_of("neg.safetensors"), -1, (tg_named_tensor[]){{"t", t}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "save_safetensors: -1 tensors");
    CHECK(access(path_of("neg.safetensors"), F_OK) != 0);
    CHECK(tg_load_safetensors(path_of("neg.safetensors"), -1, (tg_named_tensor[]){{"t", t}}) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "load_safetensors: -1 tensors");
    CHECK(tg_save_safetensors("/nonexistent-dir/x.safetensors", 1, (tg_named_tensor[]){{"t", t}}) ==
          -1);
    CHECK_ERROR(TG_ERR_IO, "cannot write /nonexistent-dir/x.safetensors");
}

/* ---- a save that fails half-way leaves the previous file as it was -------------- */

static void failed_save_keeps_the_previous_file(void) {
    const char *path = path_of("keep.safetensors");
    tg_tensor *old = tg_full(TG_SHAPE(4), 7, TG_F32);
    CHECK(tg_save_safetensors(path, 1, (tg_named_tensor[]){{"t", old}}) == 0);
    tg_tensor *a = tg_ones(TG_SHAPE(4), TG_F32);
    tg_tensor *b = tg_slice(tg_ones(TG_SHAPE(8), TG_F32), 0, 0, 8, 2); /* strided: copied */
    /* The copy of the second tensor fails: the first is already written.
     * That is reported as what it is, not as an I/O error. */
    tg_test_failing f = {.countdown = 0};
    tg_test_use_failing(&f);
    int rc = tg_save_safetensors(path, 2, (tg_named_tensor[]){{"a", a}, {"b", b}});
    tg_set_allocator(NULL);
    CHECK(rc == -1);
    CHECK_ERROR(TG_ERR_NOMEM, "save_safetensors: out of memory allocating");
    tg_tensor *back = tg_zeros(TG_SHAPE(4), TG_F32);
    CHECK(tg_load_safetensors(path, 1, (tg_named_tensor[]){{"t", back}}) == 0);
    CHECK(tg_item(tg_sum(back)) == 28);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp > /dev/null", dir);
    CHECK(system(cmd) != 0); /* no temporary file left behind */
    unlink(path);
}

/* ---- what a save does to the file system around it -------------------------------- */

static mode_t mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* The one value of the one tensor "t" in the file at path, or -1. */
static double value_in(const char *path) {
    tg_tensor *t = tg_zeros(TG_SHAPE(1), TG_F64);
    return tg_load_safetensors(path, 1, (tg_named_tensor[]){{"t", t}}) == 0 ? tg_item(t) : -1;
}

static int save_value(const char *path, double v) {
    return tg_save_safetensors(path, 1,
                               (tg_named_tensor[]){{"t", tg_full(TG_SHAPE(1), v, TG_F64)}});
}

/* An existing file keeps its mode; a new one gets 0666 less the umask. */
static void save_keeps_the_mode_or_follows_the_umask(void) {
    char path[128];
    snprintf(path, sizeof path, "%s", path_of("mode.safetensors"));
    mode_t old_mask = umask(022);
    int fresh = save_value(path, 1);
    mode_t fresh_mode = mode_of(path);
    umask(077);
    int replaced = chmod(path, 0640) == 0 ? save_value(path, 2) : -1;
    umask(old_mask);
    CHECK(fresh == 0 && fresh_mode == 0644);
    CHECK(replaced == 0 && mode_of(path) == 0640 && value_in(path) == 2);
    unlink(path);
}

/* A symbolic link is written through: its target is replaced, the link
 * stays; a relative link is read from the link's folder; a dangling one
 * creates its target; a loop is an error. */
static void save_writes_through_symbolic_links(void) {
    char real[128], sub[128], link[160], dangling[128], made[128], loop_a[128], loop_b[128];
    snprintf(real, sizeof real, "%s", path_of("real.safetensors"));
    snprintf(sub, sizeof sub, "%s", path_of("sub"));
    snprintf(link, sizeof link, "%s/link.safetensors", sub);
    snprintf(dangling, sizeof dangling, "%s", path_of("dangling.safetensors"));
    snprintf(made, sizeof made, "%s", path_of("made.safetensors"));
    snprintf(loop_a, sizeof loop_a, "%s", path_of("loop_a"));
    snprintf(loop_b, sizeof loop_b, "%s", path_of("loop_b"));
    CHECK(save_value(real, 1) == 0 && mkdir(sub, 0700) == 0);
    CHECK(symlink("../real.safetensors", link) == 0);
    CHECK(save_value(link, 2) == 0);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(value_in(real) == 2 && value_in(link) == 2);
    CHECK(symlink("made.safetensors", dangling) == 0);
    CHECK(save_value(dangling, 3) == 0);
    CHECK(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode) && value_in(made) == 3);
    CHECK(symlink("loop_b", loop_a) == 0 && symlink("loop_a", loop_b) == 0);
    CHECK(save_value(loop_a, 4) == -1);
    CHECK_ERROR(TG_ERR_IO, "cannot write");
    unlink(link), rmdir(sub), unlink(real), unlink(dangling), unlink(made);
    unlink(loop_a), unlink(loop_b);
}

/* What a killed save left (a temporary file of a process that is gone) is
 * removed by the next save to that path; a running save's and other
 * files are not. */
static void save_removes_what_killed_saves_left(void) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    CHECK(child > 0 && waitpid(child, NULL, 0) == child); /* its pid is now free */
    char stale[160], running[160], other[160];
    snprintf(stale, sizeof stale, "%s.tmp.%ld.k1ll3d", path_of("w.safetensors"), (long)child);
    snprintf(running, sizeof running, "%s.tmp.%ld.ab12cd", path_of("w.safetensors"),
             (long)getpid());
    snprintf(other, sizeof other, "%s.tmp.notes", path_of("w.safetensors"));
    write_bytes(stale, "x", 1), write_bytes(running, "x", 1), write_bytes(other, "x", 1);
    CHECK(save_value(path_of("w.safetensors"), 1) == 0);
    CHECK(access(stale, F_OK) != 0);
    CHECK(access(running, F_OK) == 0 && access(other, F_OK) == 0);
    unlink(running), unlink(other), unlink(path_of("w.safetensors"));
}

/* A name as long as the file system allows can be saved to (the
 * temporary file's name is cut to fit). */
static void save_takes_the_longest_names(void) {
    long limit = pathconf(dir, _PC_NAME_MAX);
    CHECK(limit > 20 && limit < 1000);
    char path[1100];
    int at = snprintf(path, sizeof path, "%s/", dir);
    memset(path + at, 'n', (size_t)limit);
    path[at + limit] = '\0';
    CHECK(save_value(path, 5) == 0);
    CHECK(value_in(path) == 5);
    CHECK(save_value(path, 6) == 0 && value_in(path) == 6);
    unlink(path);
}

static void setup_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/tg-safetensors-XXXXXX");
    if (!mkdtemp(dir)) exit(1);
}

static const tg_test_case cases[] = {TG_CASE(round_trip),
                                     TG_CASE(reads_a_file_written_elsewhere),
                                     TG_CASE(metadata_round_trip),
                                     TG_CASE(bad_metadata_is_refused),
                                     TG_CASE(bad_files_are_rejected),
                                     TG_CASE(corrupted_bytes_never_crash),
                                     TG_CASE(load_checks_names_shapes_and_dtypes),
                                     TG_CASE(bad_save_arguments),
                                     TG_CASE(failed_save_keeps_the_previous_file),
                                     TG_CASE(save_keeps_the_mode_or_follows_the_umask),
                                     TG_CASE(save_writes_through_symbolic_links),
                                     TG_CASE(save_removes_what_killed_saves_left),
                                     TG_CASE(save_takes_the_longest_names)};

int main(int argc, char **argv) {
    setup_dir();
    int rc = tg_test_run(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    rmdir(dir);
    return rc;
}
