/* core/no_safetensors.c - tapegrad/safetensors.h in a build without file
 * formats (-Dfile_formats=false, no Jansson or zlib): every function
 * exists, so the library's saves and loads built on them (a module's, an
 * optimizer's, a scheduler's, tapegrad/dist.h's rank-0 checkpoints) link
 * and fail with one message saying why. */
#include "internal/base.h"
#include "tapegrad/safetensors.h"

static void unavailable(const char *op) {
    tg__error(TG_ERR_IO, "%s: tapegrad was built without file formats (-Dfile_formats=false)", op);
}

int tg_save_safetensors(const char *path, int n, const tg_named_tensor *tensors) {
    (void)path, (void)n, (void)tensors;
    unavailable("save_safetensors");
    return -1;
}
int tg_save_safetensors_with_metadata(const char *path, int n, const tg_named_tensor *tensors,
                                      int n_metadata, const tg_metadata_entry *metadata) {
    (void)path, (void)n, (void)tensors, (void)n_metadata, (void)metadata;
    unavailable("save_safetensors");
    return -1;
}
int tg_load_safetensors(const char *path, int n, const tg_named_tensor *into) {
    (void)path, (void)n, (void)into;
    unavailable("load_safetensors");
    return -1;
}
tg_safetensors *tg_safetensors_open(const char *path) {
    (void)path;
    unavailable("safetensors_open");
    return NULL;
}
/* No file is ever open in this build: the rest are only ever given NULL,
 * and answer as for NULL in a build with file formats. */
void tg_safetensors_close(tg_safetensors *file) { (void)file; }
int tg_safetensors_count(const tg_safetensors *file) { return (void)file, 0; }
const char *tg_safetensors_name(const tg_safetensors *file, int i) {
    return (void)file, (void)i, NULL;
}
tg_tensor *tg_safetensors_get(const tg_safetensors *file, const char *name) {
    (void)file, (void)name;
    tg__null_arg("safetensors_get");
    return NULL;
}
int tg_safetensors_metadata_count(const tg_safetensors *file) { return (void)file, 0; }
const char *tg_safetensors_metadata_key(const tg_safetensors *file, int i) {
    return (void)file, (void)i, NULL;
}
const char *tg_safetensors_metadata(const tg_safetensors *file, const char *key) {
    (void)file, (void)key;
    tg__null_arg("safetensors_metadata");
    return NULL;
}
