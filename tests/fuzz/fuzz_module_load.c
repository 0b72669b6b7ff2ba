/* tests/fuzz/fuzz_module_load.c - any bytes as a model file for
 * tg_module_load: it fails with a message and the parameters keep their
 * bits, or it succeeds and each parameter equals the file's tensor. And
 * for tg_module_load_new: it fails with a message naming the file, or the
 * module it rebuilds has exactly the file's tensors, and saved again it
 * is rebuilt the same (description and tensors); a user's classes with
 * registered loaders (fuzz_register_loaders) among the types. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static tg_module *model;
static tg_tensor **initial; /* copies of the parameters as made */

static void setup(void) {
    fuzz_register_loaders();
    model = fuzz_model();
    int n;
    tg_tensor *const *params = tg_module_parameter_tensors(model, &n);
    initial = calloc((size_t)n, sizeof *initial);
    FUZZ_CHECK(initial != NULL);
    tg_pool *pool = tg_pool_push();
    for (int i = 0; i < n; i++)
        FUZZ_CHECK((initial[i] = tg_retain(tg_clone(tg_detach(params[i])))) != NULL);
    tg_pool_pop(pool);
}

/* The rebuilt module's state_dict is the file's tensors, bit for bit. */
static void check_tensors(tg_module *m, const char *path) {
    int n;
    const tg_named_tensor *state = tg_module_state_dict(m, &n);
    tg_safetensors *f = tg_safetensors_open(path);
    FUZZ_CHECK(state && f && tg_safetensors_count(f) == n);
    FUZZ_CHECK(tg_safetensors_metadata(f, TG_MODULE_METADATA_KEY) != NULL);
    tg_pool *pool = tg_pool_push();
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(fuzz_same_tensor(state[i].tensor, tg_safetensors_get(f, state[i].name)));
    tg_pool_pop(pool);
    tg_safetensors_close(f);
}

static void check_load_new(const char *path) {
    tg_clear_error();
    tg_module *m = tg_module_load_new(path);
    if (!m) {
        FUZZ_CHECK(fuzz_failed_with_message() && strstr(tg_last_error(), path) != NULL);
        return;
    }
    check_tensors(m, path);
    char *description = tg_module_describe(m);
    const char *again = fuzz_path("again");
    FUZZ_CHECK(description && tg_module_save(m, again) == 0);
    tg_module *m2 = tg_module_load_new(again);
    char *description2 = m2 ? tg_module_describe(m2) : NULL;
    FUZZ_CHECK(description2 && strcmp(description, description2) == 0);
    FUZZ_CHECK(fuzz_same_file(path, again));
    free(description);
    free(description2);
    tg_module_free(m2);
    tg_module_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!model) setup();
    const char *path = fuzz_write("input", data, size);
    int n;
    const tg_named_tensor *params = tg_module_parameters(model, &n);
    int64_t live = tg_live_tensors();
    tg_clear_error();
    if (tg_module_load(model, path) != 0) {
        FUZZ_CHECK(fuzz_failed_with_message());
        for (int i = 0; i < n; i++) FUZZ_CHECK(fuzz_same_tensor(params[i].tensor, initial[i]));
    } else {
        tg_safetensors *f = tg_safetensors_open(path);
        FUZZ_CHECK(f != NULL && tg_safetensors_count(f) == n);
        tg_pool *pool = tg_pool_push();
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(fuzz_same_tensor(params[i].tensor, tg_safetensors_get(f, params[i].name)));
            FUZZ_CHECK(tg_requires_grad(params[i].tensor) && tg_is_leaf(params[i].tensor));
        }
        tg_pool_pop(pool);
        tg_safetensors_close(f);
        /* Back to the parameters as made, for the next input. */
        bool grad = tg_set_grad_enabled(false);
        for (int i = 0; i < n; i++) FUZZ_CHECK(tg_copy_(params[i].tensor, initial[i]) == 0);
        tg_set_grad_enabled(grad);
    }
    check_load_new(path);
    FUZZ_CHECK(tg_live_tensors() == live);
    return 0;
}
