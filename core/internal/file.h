/* core/internal/file.h - saving a file so that a crash or a kill leaves
 * either the old file or the new one (core/replace_file.c). Users never
 * see it. */
#ifndef TAPEGRAD_INTERNAL_FILE_H
#define TAPEGRAD_INTERNAL_FILE_H

#include "internal/base.h"
#include "tapegrad/safetensors.h"

/* Writes a whole file's contents to fd: returns 0, an errno value (the
 * failing call's), or -1 with the error already recorded (out of memory). */
typedef int (*tg__file_writer)(int fd, void *ctx);
/* Replaces the file at path (or at the end of the symbolic links there)
 * atomically with what writer writes, keeping the old file's permission
 * bits; core/replace_file.c says how. Returns 0, or -1 with an error naming op
 * and, for an I/O failure, path and the system's reason. */
int tg__replace_file(const char *op, const char *path, tg__file_writer writer, void *ctx);
/* write() of all n bytes: 0, or the errno value of the failure. */
int tg__write_all(int fd, const void *data, size_t n);

/* ---- Reading safetensors files (core/safetensors.c) ------------------------ */
/* The path the file was opened with. */
const char *tg__safetensors_path(const tg_safetensors *f);
/* The name of the i-th tensor (NULL out of range), and its dtype and shape
 * (borrowed), without reading its data. */
const char *tg__safetensors_entry(const tg_safetensors *f, int i, tg_dtype *dtype, int *ndim,
                                  const int64_t **shape);
/* The index of the tensor named name, or -1; a binary search. */
int tg__safetensors_find(const tg_safetensors *f, const char *name);
/* tg_load_safetensors from a file already open: strict, nothing written
 * on a mismatch. Returns 0 or -1. */
int tg__load_safetensors_from(const tg_safetensors *f, int n, const tg_named_tensor *into);
/* Whether s is UTF-8 as JSON needs it (core/utf8.c: shortest forms, no surrogates,
 * nothing above U+10FFFF). */
bool tg__is_utf8(const char *s);

#endif
