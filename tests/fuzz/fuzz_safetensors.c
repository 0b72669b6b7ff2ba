/* tests/fuzz/fuzz_safetensors.c - any bytes as a safetensors file: opening
 * fails with a message, or every tensor read equals the bytes the header
 * points at and every metadata entry the header's string (the header
 * parsed here independently), and loading into tensors of the file's
 * shapes gives the same values, while a load that must fail (one target of
 * another shape) writes nothing. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* The bytes the header gives for name: data section + data_offsets[0]. */
static const uint8_t *bytes_of(const uint8_t *data, json_t *header, const char *name) {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | data[i];
    json_t *offsets = json_object_get(json_object_get(header, name), "data_offsets");
    return data + 8 + header_len + json_integer_value(json_array_get(offsets, 0));
}

static json_t *parse_header(const uint8_t *data, size_t size) {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | data[i];
    FUZZ_CHECK(size >= 8 && header_len <= size - 8);
    json_t *header = json_loadb((const char *)data + 8, header_len, 0, NULL);
    FUZZ_CHECK(json_is_object(header));
    return header;
}

/* Each tensor read from the file has the header's shape and its bytes. */
static void check_reads(tg_safetensors *f, const uint8_t *data, size_t size, tg_tensor **got) {
    json_t *header = parse_header(data, size);
    int n = tg_safetensors_count(f);
    FUZZ_CHECK(n ==
               (int)json_object_size(header) - (json_object_get(header, "__metadata__") != NULL));
    for (int i = 0; i < n; i++) {
        const char *name = tg_safetensors_name(f, i);
        FUZZ_CHECK(name != NULL);
        tg_tensor *t = got[i] = tg_safetensors_get(f, name);
        FUZZ_CHECK(t != NULL && tg_is_contiguous(t) && !tg_requires_grad(t));
        json_t *shape = json_object_get(json_object_get(header, name), "shape");
        FUZZ_CHECK((size_t)tg_ndim(t) == json_array_size(shape));
        for (int d = 0; d < tg_ndim(t); d++)
            FUZZ_CHECK(tg_shape(t)[d] == json_integer_value(json_array_get(shape, (size_t)d)));
        size_t bytes = (size_t)tg_numel(t) * tg_dtype_size(tg_dtype_of(t));
        FUZZ_CHECK(memcmp(tg_data(t), bytes_of(data, header, name), bytes) == 0);
    }
    FUZZ_CHECK(tg_safetensors_name(f, n) == NULL && tg_safetensors_name(f, -1) == NULL);
    /* The metadata: the header's strings, in its order. */
    json_t *meta = json_object_get(header, "__metadata__"), *value;
    const char *key;
    int k = 0;
    FUZZ_CHECK(tg_safetensors_metadata_count(f) == (int)json_object_size(meta));
    json_object_foreach(meta, key, value) {
        FUZZ_CHECK(json_is_string(value) && strcmp(tg_safetensors_metadata_key(f, k++), key) == 0);
        const char *read = tg_safetensors_metadata(f, key);
        FUZZ_CHECK(read && strcmp(read, json_string_value(value)) == 0);
    }
    FUZZ_CHECK(tg_safetensors_metadata_key(f, k) == NULL);
    json_decref(header);
}

/* Loading into tensors of the file's shapes gives the values read; with
 * one target of another shape, the load fails and writes nothing. */
static void check_load(const char *path, int n, tg_safetensors *f, tg_tensor **got) {
    tg_named_tensor *into = calloc((size_t)n + 1, sizeof *into);
    tg_tensor **before = calloc((size_t)n + 1, sizeof *before);
    FUZZ_CHECK(into && before);
    for (int i = 0; i < n; i++) {
        into[i].name = tg_safetensors_name(f, i);
        /* Parameters are leaves that require grad; loading must still work.
         * (int64 and bool tensors cannot require grad: buffers.) */
        tg_dtype dtype = tg_dtype_of(got[i]);
        into[i].tensor = tg_full(tg_ndim(got[i]), tg_shape(got[i]), 0.25, dtype);
        if (tg_dtype_is_float(dtype)) tg_requires_grad_(into[i].tensor, true);
        before[i] = tg_clone(into[i].tensor);
    }
    if (n > 0) {
        tg_named_tensor good = into[n - 1];
        tg_dtype other = tg_dtype_of(good.tensor) == TG_F32 ? TG_F64 : TG_F32;
        into[n - 1].tensor = tg_zeros(tg_ndim(good.tensor), tg_shape(good.tensor), other);
        tg_clear_error();
        FUZZ_CHECK(tg_load_safetensors(path, n, into) == -1);
        FUZZ_CHECK(fuzz_failed_with_message());
        for (int i = 0; i < n - 1; i++) FUZZ_CHECK(fuzz_same_tensor(into[i].tensor, before[i]));
        into[n - 1] = good;
    }
    FUZZ_CHECK(tg_load_safetensors(path, n, into) == 0);
    for (int i = 0; i < n; i++) FUZZ_CHECK(fuzz_same_tensor(into[i].tensor, got[i]));
    free(into);
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("input", data, size);
    int64_t live = tg_live_tensors();
    tg_clear_error();
    tg_safetensors *f = tg_safetensors_open(path);
    if (!f) {
        FUZZ_CHECK(fuzz_failed_with_message());
    } else {
        int n = tg_safetensors_count(f);
        tg_tensor **got = calloc((size_t)n + 1, sizeof *got);
        FUZZ_CHECK(got != NULL);
        tg_pool *pool = tg_pool_push();
        check_reads(f, data, size, got);
        check_load(path, n, f, got);
        tg_pool_pop(pool);
        free(got);
        tg_safetensors_close(f);
    }
    FUZZ_CHECK(tg_live_tensors() == live);
    return 0;
}
