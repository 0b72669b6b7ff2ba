/* core/safetensors.c - reading and writing the safetensors format. It is
 * in core, not nn, because optimizers save their state with it too and
 * optim depends only on core.
 *
 * The JSON header is parsed and written with Jansson (Debian's
 * libjansson-dev), a maintained parser, rather than by hand. The whole file
 * is read into memory: tapegrad's models are small. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/file.h"
#include "internal/kernel.h"
#include "tapegrad/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this file assumes a little-endian host"
#endif

/* The safetensors library refuses headers over 100 MB; so does this one. */
#define MAX_HEADER_BYTES (100u << 20)

typedef struct entry {
    char *name;
    tg_dtype dtype;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    uint64_t begin, end; /* byte range in the data section */
} entry;

struct tg_safetensors {
    char *path;
    unsigned char *bytes; /* the whole file */
    const unsigned char *data;
    uint64_t data_len;
    int n;
    entry *entries;
    const entry **by_name; /* the entries sorted by name, for lookups */
    int n_metadata;
    char **metadata; /* key, value, key, value, ... (2 * n_metadata strings) */
};

void tg_safetensors_close(tg_safetensors *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->entries[i].name);
    free(f->entries);
    free(f->by_name);
    for (int i = 0; i < 2 * f->n_metadata; i++) free(f->metadata[i]);
    free(f->metadata);
    free(f->bytes);
    free(f->path);
    free(f);
}

/* ---- Reading and validating ------------------------------------------------------ */

static bool read_file(const char *path, unsigned char **bytes, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        tg__error(TG_ERR_IO, "safetensors: cannot open %s: %s", path, strerror(errno));
        return false;
    }
    /* A folder opens, and its size reads as LONG_MAX. */
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(fp);
        tg__error(TG_ERR_IO, "safetensors: cannot read %s: not a regular file", path);
        return false;
    }
    bool ok = fseek(fp, 0, SEEK_END) == 0;
    long size = ok ? ftell(fp) : -1;
    ok = size >= 0 && fseek(fp, 0, SEEK_SET) == 0;
    *bytes = ok ? malloc((size_t)size + 1) : NULL;
    ok = *bytes && fread(*bytes, 1, (size_t)size, fp) == (size_t)size;
    fclose(fp);
    if (!ok) {
        free(*bytes);
        *bytes = NULL;
        tg__error(TG_ERR_IO, "safetensors: cannot read %s", path);
        return false;
    }
    *len = (size_t)size;
    return true;
}

/* The format's names of tapegrad's dtypes, indexed by tg_dtype. */
static const char *const file_dtypes[] = {
    [TG_F32] = "F32", [TG_F64] = "F64", [TG_I64] = "I64", [TG_BOOL] = "BOOL"};

static bool parse_dtype(const char *path, const char *name, json_t *v, tg_dtype *dtype) {
    const char *s = json_string_value(v);
    for (int d = 0; s && d < (int)(sizeof file_dtypes / sizeof file_dtypes[0]); d++)
        if (strcmp(s, file_dtypes[d]) == 0) {
            *dtype = (tg_dtype)d;
            return true;
        }
    tg__error(TG_ERR_DTYPE,
              "safetensors: %s: tensor '%s' has dtype %s; only F32, F64, I64 and BOOL are "
              "supported",
              path, name, s ? s : "(not a string)");
    return false;
}

static bool parse_shape(const char *path, const char *name, json_t *v, entry *e) {
    size_t n = json_is_array(v) ? json_array_size(v) : (size_t)-1;
    bool ok = n <= TG_MAX_DIMS;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *d = json_array_get(v, i);
        ok = json_is_integer(d) && json_integer_value(d) >= 0;
        if (ok) e->shape[i] = json_integer_value(d);
    }
    int64_t numel;
    if (!ok || !tg__valid_shape("safetensors", (int)n, e->shape, &numel)) {
        tg__error(TG_ERR_SHAPE, "safetensors: %s: tensor '%s' has an invalid shape", path, name);
        return false;
    }
    e->ndim = (int)n;
    return true;
}

static bool parse_offsets(const char *path, const char *name, json_t *v, entry *e,
                          uint64_t data_len) {
    json_t *b = json_array_get(v, 0), *en = json_array_get(v, 1);
    bool ok = json_is_array(v) && json_array_size(v) == 2 && json_is_integer(b) &&
              json_is_integer(en) && json_integer_value(b) >= 0 &&
              json_integer_value(b) <= json_integer_value(en) &&
              (uint64_t)json_integer_value(en) <= data_len;
    if (!ok) {
        tg__error(TG_ERR_VALUE,
                  "safetensors: %s: tensor '%s' has data_offsets outside the %llu "
                  "data bytes",
                  path, name, (unsigned long long)data_len);
        return false;
    }
    e->begin = (uint64_t)json_integer_value(b);
    e->end = (uint64_t)json_integer_value(en);
    int64_t numel = 1;
    for (int i = 0; i < e->ndim; i++) numel *= e->shape[i];
    if (e->end - e->begin != (uint64_t)numel * tg_dtype_size(e->dtype)) {
        tg__error(TG_ERR_VALUE,
                  "safetensors: %s: tensor '%s' spans %llu bytes, its shape and "
                  "dtype need %llu",
                  path, name, (unsigned long long)(e->end - e->begin),
                  (unsigned long long)numel * tg_dtype_size(e->dtype));
        return false;
    }
    return true;
}

static int by_begin(const void *a, const void *b) {
    const entry *x = a, *y = b;
    return x->begin < y->begin   ? -1
           : x->begin > y->begin ? 1
                                 : (x->end > y->end) - (x->end < y->end);
}

/* The byte ranges must tile the data section exactly: no overlap, no hole
 * (the format's rule, which keeps a file from hiding other content). */
static bool check_tiling(const char *path, tg_safetensors *f) {
    entry *sorted = malloc(sizeof *sorted * (size_t)(f->n ? f->n : 1));
    if (!sorted) {
        tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
        return false;
    }
    memcpy(sorted, f->entries, sizeof *sorted * (size_t)f->n);
    qsort(sorted, (size_t)f->n, sizeof *sorted, by_begin);
    uint64_t at = 0;
    bool ok = true;
    for (int i = 0; ok && i < f->n; i++) {
        ok = sorted[i].begin == at;
        if (!ok)
            tg__error(TG_ERR_VALUE,
                      "safetensors: %s: tensor '%s' starts at byte %llu, expected "
                      "%llu (data overlaps or has a hole)",
                      path, sorted[i].name, (unsigned long long)sorted[i].begin,
                      (unsigned long long)at);
        at = sorted[i].end;
    }
    if (ok && at != f->data_len) {
        tg__error(TG_ERR_VALUE, "safetensors: %s: the tensors cover %llu of %llu data bytes", path,
                  (unsigned long long)at, (unsigned long long)f->data_len);
        ok = false;
    }
    free(sorted);
    return ok;
}

/* The format's __metadata__: a map of strings to strings, in file order. */
static bool parse_metadata(tg_safetensors *f, json_t *v) {
    const char *key;
    json_t *value;
    if (!json_is_object(v)) {
        tg__error(TG_ERR_VALUE, "safetensors: %s: __metadata__ is not a JSON object", f->path);
        return false;
    }
    f->metadata = calloc(2 * json_object_size(v) + 1, sizeof *f->metadata);
    if (!f->metadata) {
        tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
        return false;
    }
    json_object_foreach(v, key, value) {
        if (!json_is_string(value)) {
            tg__error(TG_ERR_VALUE, "safetensors: %s: __metadata__ entry '%s' is not a string",
                      f->path, key);
            return false;
        }
        char **pair = f->metadata + 2 * f->n_metadata;
        if (!(pair[0] = strdup(key)) || !(pair[1] = strdup(json_string_value(value)))) {
            free(pair[0]);
            pair[0] = NULL;
            tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
            return false;
        }
        f->n_metadata++;
    }
    return true;
}

static bool parse_header(tg_safetensors *f, json_t *root) {
    const char *path = f->path, *key;
    json_t *value;
    if (!json_is_object(root)) {
        tg__error(TG_ERR_VALUE, "safetensors: %s: the header is not a JSON object", path);
        return false;
    }
    f->entries = calloc(json_object_size(root) + 1, sizeof *f->entries);
    if (!f->entries) {
        tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
        return false;
    }
    json_object_foreach(root, key, value) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!parse_metadata(f, value)) return false;
            continue;
        }
        entry *e = &f->entries[f->n];
        if (!json_is_object(value)) {
            tg__error(TG_ERR_VALUE, "safetensors: %s: entry '%s' is not an object", path, key);
            return false;
        }
        if (!(e->name = strdup(key))) {
            tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
            return false;
        }
        f->n++;
        if (!parse_dtype(path, key, json_object_get(value, "dtype"), &e->dtype) ||
            !parse_shape(path, key, json_object_get(value, "shape"), e) ||
            !parse_offsets(path, key, json_object_get(value, "data_offsets"), e, f->data_len))
            return false;
    }
    return check_tiling(path, f);
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const entry *const *)a)->name, (*(const entry *const *)b)->name);
}

static bool sort_names(tg_safetensors *f) {
    f->by_name = malloc(sizeof *f->by_name * (size_t)(f->n ? f->n : 1));
    if (!f->by_name) {
        tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
        return false;
    }
    for (int i = 0; i < f->n; i++) f->by_name[i] = &f->entries[i];
    qsort(f->by_name, (size_t)f->n, sizeof *f->by_name, by_name);
    return true;
}

tg_safetensors *tg_safetensors_open(const char *path) {
    if (!path) {
        tg__null_arg("safetensors_open");
        return NULL;
    }
    tg_safetensors *f = calloc(1, sizeof *f);
    size_t len = 0;
    if (!f || !(f->path = strdup(path))) {
        free(f);
        tg__error(TG_ERR_NOMEM, "safetensors: out of memory");
        return NULL;
    }
    if (!read_file(path, &f->bytes, &len)) goto fail;
    uint64_t header_len = 0;
    for (int i = 7; len >= 8 && i >= 0; i--) header_len = header_len << 8 | f->bytes[i];
    if (len < 8 || header_len > len - 8 || header_len > MAX_HEADER_BYTES) {
        tg__error(TG_ERR_VALUE,
                  "safetensors: %s: header length %llu does not fit the file of "
                  "%zu bytes",
                  path, (unsigned long long)header_len, len);
        goto fail;
    }
    f->data = f->bytes + 8 + header_len;
    f->data_len = len - 8 - header_len;
    json_error_t err;
    json_t *root = json_loadb((const char *)f->bytes + 8, (size_t)header_len,
                              JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        tg__error(TG_ERR_VALUE, "safetensors: %s: bad JSON header at byte %d: %s", path,
                  err.position, err.text);
        goto fail;
    }
    bool ok = parse_header(f, root) && sort_names(f);
    json_decref(root);
    if (ok) return f;
fail:
    tg_safetensors_close(f);
    return NULL;
}

int tg_safetensors_count(const tg_safetensors *f) { return f ? f->n : 0; }

const char *tg_safetensors_name(const tg_safetensors *f, int i) {
    return f && i >= 0 && i < f->n ? f->entries[i].name : NULL;
}

int tg_safetensors_metadata_count(const tg_safetensors *f) { return f ? f->n_metadata : 0; }

const char *tg_safetensors_metadata_key(const tg_safetensors *f, int i) {
    return f && i >= 0 && i < f->n_metadata ? f->metadata[2 * i] : NULL;
}

const char *tg_safetensors_metadata(const tg_safetensors *f, const char *key) {
    if (!f || !key) {
        tg__null_arg("safetensors_metadata");
        return NULL;
    }
    for (int i = 0; i < f->n_metadata; i++)
        if (strcmp(f->metadata[2 * i], key) == 0) return f->metadata[2 * i + 1];
    tg__error(TG_ERR_VALUE, "safetensors: %s has no metadata '%s'", f->path, key);
    return NULL;
}

const char *tg__safetensors_path(const tg_safetensors *f) { return f->path; }

const char *tg__safetensors_entry(const tg_safetensors *f, int i, tg_dtype *dtype, int *ndim,
                                  const int64_t **shape) {
    if (i < 0 || i >= f->n) return NULL;
    *dtype = f->entries[i].dtype;
    *ndim = f->entries[i].ndim;
    *shape = f->entries[i].shape;
    return f->entries[i].name;
}

static const entry *find(const tg_safetensors *f, const char *name) {
    const entry key = {.name = (char *)name}, *pkey = &key;
    const entry **found = bsearch(&pkey, f->by_name, (size_t)f->n, sizeof *f->by_name, by_name);
    return found ? *found : NULL;
}

int tg__safetensors_find(const tg_safetensors *f, const char *name) {
    const entry *e = find(f, name);
    return e ? (int)(e - f->entries) : -1;
}

/* A new tensor (owned by the caller) with an entry's data. The data section
 * has no alignment promise: copy, don't wrap. */
static tg_tensor *read_owned(const tg_safetensors *f, const entry *e) {
    tg_tensor *t = tg__new_owned("safetensors", e->ndim, e->shape, e->dtype);
    if (!t) return NULL;
    memcpy(tg__ptr(t), f->data + e->begin, (size_t)(e->end - e->begin));
    if (t->dtype == TG_BOOL) /* a byte other than 0 and 1 reads as true */
        for (int64_t i = 0; i < t->numel; i++)
            ((uint8_t *)tg__ptr(t))[i] = ((uint8_t *)tg__ptr(t))[i] != 0;
    return t;
}

tg_tensor *tg_safetensors_get(const tg_safetensors *f, const char *name) {
    if (!f || !name) {
        tg__null_arg("safetensors_get");
        return NULL;
    }
    const entry *e = find(f, name);
    if (!e) {
        tg__error(TG_ERR_VALUE, "safetensors: %s has no tensor '%s'", f->path, name);
        return NULL;
    }
    return tg__autorelease(read_owned(f, e));
}

/* ---- Loading into existing tensors ------------------------------------------------ */

static bool matches(const tg_safetensors *f, int n, const tg_named_tensor *into) {
    char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
    for (int i = 0; i < n; i++) {
        if (!into[i].name || !into[i].tensor) {
            tg__null_arg("load_safetensors");
            return false;
        }
        const entry *e = find(f, into[i].name);
        const tg_tensor *t = into[i].tensor;
        if (!tg__check_writable("load_safetensors", t)) return false;
        if (!e) {
            tg__error(TG_ERR_VALUE, "load_safetensors: %s has no tensor '%s'", f->path,
                      into[i].name);
            return false;
        }
        bool same = e->ndim == t->ndim && e->dtype == t->dtype;
        for (int d = 0; same && d < e->ndim; d++) same = e->shape[d] == t->shape[d];
        if (!same) {
            tg__error(TG_ERR_SHAPE,
                      "load_safetensors: %s: tensor '%s' is %s %s in the file, %s "
                      "%s here",
                      f->path, into[i].name, tg_dtype_name(e->dtype),
                      tg__shape_str(bufa, sizeof bufa, e->ndim, e->shape), tg_dtype_name(t->dtype),
                      tg__shape_str(bufb, sizeof bufb, t->ndim, t->shape));
            return false;
        }
    }
    bool *wanted = calloc((size_t)f->n + 1, sizeof *wanted);
    if (!wanted) {
        tg__error(TG_ERR_NOMEM, "load_safetensors: out of memory");
        return false;
    }
    for (int i = 0; i < n; i++) wanted[find(f, into[i].name) - f->entries] = true;
    for (int k = 0; k < f->n; k++)
        if (!wanted[k]) {
            tg__error(TG_ERR_VALUE, "load_safetensors: %s holds an unexpected tensor '%s'", f->path,
                      f->entries[k].name);
            free(wanted);
            return false;
        }
    free(wanted);
    return true;
}

int tg__load_safetensors_from(const tg_safetensors *f, int n, const tg_named_tensor *into) {
    int rc = matches(f, n, into) ? 0 : -1;
    /* Strided targets need a contiguous copy of their data first; making
     * those before writing anything keeps a failed load from changing
     * some tensors and not others. */
    tg_tensor **staged = rc == 0 ? tg__calloc(sizeof *staged * (size_t)(n + 1), "load_safetensors")
                                 : NULL;
    if (!staged) rc = -1;
    for (int i = 0; rc == 0 && i < n; i++)
        if (!tg_is_contiguous(into[i].tensor) &&
            !(staged[i] = read_owned(f, find(f, into[i].name))))
            rc = -1;
    /* Written in place outside the tape, as an optimizer update is. */
    for (int i = 0; rc == 0 && i < n; i++) {
        tg_tensor *t = into[i].tensor;
        const entry *e = find(f, into[i].name);
        if (staged[i])
            tg__copy_into(t, staged[i]);
        else
            memcpy(tg__ptr(t), f->data + e->begin, (size_t)(e->end - e->begin));
        t->storage->version++;
    }
    for (int i = 0; staged && i < n; i++) tg_release(staged[i]);
    tg__free(staged);
    return rc;
}

int tg_load_safetensors(const char *path, int n, const tg_named_tensor *into) {
    if (!into && n > 0) {
        tg__null_arg("load_safetensors");
        return -1;
    }
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "load_safetensors: %d tensors", n);
        return -1;
    }
    tg_safetensors *f = tg_safetensors_open(path);
    if (!f) return -1;
    int rc = tg__load_safetensors_from(f, n, into);
    tg_safetensors_close(f);
    return rc;
}

/* ---- Saving -------------------------------------------------------------------------- */

/* The JSON header, padded with spaces to a multiple of 8 bytes as the
 * reference writer does, so that the data section starts aligned. */
static char *build_header(int n, const tg_named_tensor *ts, int n_metadata,
                          const tg_metadata_entry *metadata, size_t *len) {
    json_t *root = json_object();
    json_t *meta = n_metadata > 0 ? json_object() : NULL;
    if (n_metadata > 0 && (!meta || json_object_set_new(root, "__metadata__", meta) != 0)) {
        json_decref(root);
        root = NULL;
    }
    for (int i = 0; root && i < n_metadata; i++)
        if (json_object_set_new(meta, metadata[i].key, json_string(metadata[i].value)) != 0) {
            json_decref(root);
            root = NULL;
        }
    uint64_t at = 0;
    for (int i = 0; root && i < n; i++) {
        const tg_tensor *t = ts[i].tensor;
        json_t *shape = json_array();
        for (int d = 0; shape && d < t->ndim; d++)
            json_array_append_new(shape, json_integer(t->shape[d]));
        uint64_t bytes = (uint64_t)t->numel * tg_dtype_size(t->dtype);
        json_t *entry_obj = json_pack("{s:s, s:o, s:[I, I]}", "dtype", file_dtypes[t->dtype],
                                      "shape", shape, "data_offsets", (json_int_t)at,
                                      (json_int_t)(at + bytes));
        if (!entry_obj || json_object_set_new(root, ts[i].name, entry_obj) != 0) {
            json_decref(root);
            root = NULL;
        }
        at += bytes;
    }
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) return NULL;
    size_t raw = strlen(text), padded = (raw + 7) / 8 * 8;
    char *out = realloc(text, padded + 1);
    if (!out) {
        free(text);
        return NULL;
    }
    memset(out + raw, ' ', padded - raw);
    out[padded] = '\0';
    *len = padded;
    return out;
}

/* The metadata: keys and values in UTF-8, each key once. */
static bool check_metadata(int n, const tg_metadata_entry *metadata) {
    if (n > 0 && !metadata) {
        tg__null_arg("save_safetensors");
        return false;
    }
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "save_safetensors: %d metadata entries", n);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!metadata[i].key || !metadata[i].value) {
            tg__null_arg("save_safetensors");
            return false;
        }
        if (!tg__is_utf8(metadata[i].key) || !tg__is_utf8(metadata[i].value)) {
            tg__error(TG_ERR_VALUE,
                      "save_safetensors: the %s of metadata entry %d is not valid UTF-8",
                      tg__is_utf8(metadata[i].key) ? "value" : "key", i);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(metadata[i].key, metadata[j].key) == 0) {
                tg__error(TG_ERR_VALUE, "save_safetensors: the metadata key '%s' is given twice",
                          metadata[i].key);
                return false;
            }
    }
    return true;
}

static bool check_save_args(const char *path, int n, const tg_named_tensor *ts) {
    if (!path || (n > 0 && !ts)) {
        tg__null_arg("save_safetensors");
        return false;
    }
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "save_safetensors: %d tensors", n);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!ts[i].name || !ts[i].tensor) {
            tg__null_arg("save_safetensors");
            return false;
        }
        if (!tg__is_utf8(ts[i].name)) {
            tg__error(TG_ERR_VALUE, "save_safetensors: the name of tensor %d is not valid UTF-8",
                      i);
            return false;
        }
        if (strcmp(ts[i].name, "__metadata__") == 0) {
            tg__error(TG_ERR_VALUE, "save_safetensors: '__metadata__' is reserved");
            return false;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(ts[i].name, ts[j].name) == 0) {
                tg__error(TG_ERR_VALUE, "save_safetensors: the name '%s' is given twice",
                          ts[i].name);
                return false;
            }
    }
    return true;
}

typedef struct save_job {
    const char *header;
    size_t header_len;
    int n;
    const tg_named_tensor *ts;
} save_job;

/* The file's bytes: length, header, then each tensor's elements in
 * row-major order (a strided one through a contiguous copy). Returns 0, an
 * errno value, or -1 when out of memory (recorded). */
static int write_contents(int fd, void *ctx) {
    const save_job *job = ctx;
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; i++)
        len_bytes[i] = (unsigned char)((uint64_t)job->header_len >> (8 * i));
    int err = tg__write_all(fd, len_bytes, 8);
    if (!err) err = tg__write_all(fd, job->header, job->header_len);
    for (int i = 0; !err && i < job->n; i++) {
        tg_tensor *t = job->ts[i].tensor, *copy = NULL;
        if (!tg_is_contiguous(t) && !(copy = tg__contiguous_copy_owned("save_safetensors", t)))
            return -1;
        const tg_tensor *c = copy ? copy : t;
        err = tg__write_all(fd, tg__ptr(c), (size_t)c->numel * tg_dtype_size(c->dtype));
        tg_release(copy);
    }
    return err;
}

int tg_save_safetensors_with_metadata(const char *path, int n, const tg_named_tensor *ts,
                                      int n_metadata, const tg_metadata_entry *metadata) {
    if (!check_save_args(path, n, ts) || !check_metadata(n_metadata, metadata)) return -1;
    save_job job = {.n = n, .ts = ts};
    char *header = build_header(n, ts, n_metadata, metadata, &job.header_len);
    if (!header) {
        tg__error(TG_ERR_NOMEM, "save_safetensors: out of memory");
        return -1;
    }
    job.header = header;
    int rc = tg__replace_file("save_safetensors", path, write_contents, &job);
    free(header);
    return rc;
}

int tg_save_safetensors(const char *path, int n, const tg_named_tensor *ts) {
    return tg_save_safetensors_with_metadata(path, n, ts, 0, NULL);
}
