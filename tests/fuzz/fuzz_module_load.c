/* tests/fuzz/fuzz_module_load.c - any bytes as a model file for
 * tg_module_load: it fails with a message and the parameters keep their
 * bits, or it succeeds and each parameter equals the file's tensor. */
#include <stdlib.h>

#include "fuzz_common.h"

static tg_module *model;
static tg_tensor **initial; /* copies of the parameters as made */

static void setup(void) {
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
    FUZZ_CHECK(tg_live_tensors() == live);
    return 0;
}
