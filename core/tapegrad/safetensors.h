/* tapegrad/safetensors.h - tensors to and from files in the safetensors
 * format (https://github.com/huggingface/safetensors), the format PyTorch
 * models are shared in: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw data.
 * float32 ("F32"), float64 ("F64"), int64 ("I64") and bool ("BOOL") tensors
 * are supported.
 *
 * The header may also hold "__metadata__", a map of strings to strings
 * (the format allows nothing else there); tapegrad writes and reads it
 * (tg_module_save keeps the module's architecture in it, tapegrad/nn.h).
 *
 * Reading validates everything before trusting it (header length against the
 * file size, JSON syntax, dtypes, shapes, byte ranges in bounds, neither
 * overlapping nor leaving holes, metadata values that are strings) and
 * rejects a bad file with a message naming the file and the problem; it
 * never reads out of bounds. */
#ifndef TAPEGRAD_SAFETENSORS_H
#define TAPEGRAD_SAFETENSORS_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor and the name it is stored under; both borrowed. */
typedef struct tg_named_tensor {
    const char *name;
    tg_tensor *tensor;
} tg_named_tensor;

/* Writes n tensors to path (names in UTF-8, as JSON keys must be). The
 * file is replaced atomically (written to a temporary file in the same
 * folder, flushed to disk, then renamed), so a crash mid-save leaves the
 * previous file intact. Every save in tapegrad (modules, optimizers,
 * schedules) goes through here, and:
 * - a symbolic link at path is written through, as torch.save does: the
 *   file it points to (at the end of a chain of links) is the one replaced,
 *   or created, and the link stays;
 * - the new file keeps the permission bits of the file it replaces; a new
 *   file gets 0666 less the umask, as fopen gives (owner and group are the
 *   saving user's, and a hard link to the old file keeps the old contents,
 *   as with any replace by rename);
 * - the temporary file is "<name>.tmp.<pid>.<6 characters>", cut short to
 *   fit the file system's name limit, so any name it takes can be saved to;
 *   one that a killed save left (its process gone from this machine) is
 *   removed by the next save to the same path.
 * Errors keep their kind: an allocation that fails is TG_ERR_NOMEM, a name
 * that is not UTF-8 or a negative n TG_ERR_VALUE, and a failing system call
 * TG_ERR_IO with its own reason ("cannot write <path>: <strerror>").
 * Returns 0 or -1. */
TG_API int tg_save_safetensors(const char *path, int n, const tg_named_tensor *tensors);

/* One entry of the header's "__metadata__": both strings borrowed. */
typedef struct tg_metadata_entry {
    const char *key;
    const char *value;
} tg_metadata_entry;

/* The same, with n_metadata entries of metadata (keys and values in UTF-8,
 * each key once; written first in the header, in the order given; none
 * when n_metadata is 0, as tg_save_safetensors writes). */
TG_API int tg_save_safetensors_with_metadata(const char *path, int n,
                                             const tg_named_tensor *tensors, int n_metadata,
                                             const tg_metadata_entry *metadata);

/* Loads into existing tensors, matched by name. Strict, as PyTorch's
 * load_state_dict: every name must be in the file with the same dtype and
 * shape, and the file must hold no other tensor. On any mismatch nothing is
 * written. Runs with grad mode off, so parameters can be loaded. Returns 0
 * or -1. */
TG_API int tg_load_safetensors(const char *path, int n, const tg_named_tensor *into);

/* An opened, validated file, for reading tensors by name. */
typedef struct tg_safetensors tg_safetensors;
TG_API tg_safetensors *tg_safetensors_open(const char *path);
TG_API void tg_safetensors_close(tg_safetensors *file);
/* The number of tensors, and the name of the i-th (in file order). */
TG_API int tg_safetensors_count(const tg_safetensors *file);
TG_API const char *tg_safetensors_name(const tg_safetensors *file, int i);
/* A new tensor with the named tensor's contents (see the ownership rule),
 * or NULL when there is no such tensor. */
TG_API tg_tensor *tg_safetensors_get(const tg_safetensors *file, const char *name);
/* The number of metadata entries, the key of the i-th (in file order; NULL
 * out of range), and the value of one by its key (borrowed: valid until
 * the file is closed), or NULL with an error when there is no such key. */
TG_API int tg_safetensors_metadata_count(const tg_safetensors *file);
TG_API const char *tg_safetensors_metadata_key(const tg_safetensors *file, int i);
TG_API const char *tg_safetensors_metadata(const tg_safetensors *file, const char *key);

#ifdef __cplusplus
}
#endif
#endif
