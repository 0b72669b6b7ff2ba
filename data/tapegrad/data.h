/* tapegrad/data.h - getting data into a training loop: IDX files (the
 * format of MNIST and Fashion-MNIST), plain or gzipped.
 *
 * OWNERSHIP. tg_idx_load returns a new tensor under the usual rule of
 * tapegrad/tensor.h (the innermost pool's, or the caller's). */
#ifndef TAPEGRAD_DATA_H
#define TAPEGRAD_DATA_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX files ----------------------------------------------------------------
 * An IDX file is two zero bytes, a byte giving the element type, a byte
 * giving the number of dims, each dim as a big-endian 32-bit count, then
 * the elements in row-major order, big-endian. The values of the type
 * byte: */
typedef enum tg_idx_type {
    TG_IDX_U8 = 0x08,  /* unsigned char: MNIST's images and labels */
    TG_IDX_I8 = 0x09,  /* signed char */
    TG_IDX_I16 = 0x0B, /* short */
    TG_IDX_I32 = 0x0C, /* int */
    TG_IDX_F32 = 0x0D, /* float */
    TG_IDX_F64 = 0x0E, /* double */
} tg_idx_type;

/* A new tensor of dtype with the file's dims and elements, each converted
 * as a C cast of its value would (exact into float64; into float32,
 * 32-bit integers and float64 values round to nearest). A file starting
 * with gzip's magic bytes (1f 8b) is decompressed as it is read.
 *
 * The file must be exactly what its header announces, as torchvision's
 * reader requires: 1 to TG_MAX_DIMS dims (the format allows 255), a known
 * type byte, and exactly the data the dims need, neither missing nor
 * trailing (of a gzipped file, the decompressed bytes; what follows the
 * gzip stream is ignored, as gzip's own tools do). Anything else fails
 * with a message naming the file and the fault: "idx_load:
 * train-images.gz: truncated: 1000 of the 47040000 data bytes that dims
 * (60000, 28, 28) of u8 need". No allocation trusts the header before
 * the data is there: a plain file's size is checked first, and a gzip
 * stream is read in blocks up to the size announced. */
TG_API tg_tensor *tg_idx_load(const char *path, tg_dtype dtype);

/* Writes t (1 to TG_MAX_DIMS dims, each below 2^32) to path as an
 * uncompressed IDX file of element type type, replacing the file
 * atomically as every save does (tapegrad/safetensors.h). Every element
 * must be exactly representable in type (an integer in range for the
 * integer types; NaN and infinities are floats), so that tg_idx_load
 * gives back the same values; the first that is not is named in the
 * error. Returns 0 or -1. */
TG_API int tg_idx_save(const char *path, const tg_tensor *t, tg_idx_type type);

#ifdef __cplusplus
}
#endif
#endif
