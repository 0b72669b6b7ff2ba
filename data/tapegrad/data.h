/* tapegrad/data.h - getting data into a training loop and watching it run:
 * IDX files (the format of MNIST and Fashion-MNIST), plain or gzipped, the
 * MNIST-format data sets read from them, and a progress line for the loop.
 *
 * OWNERSHIP. tg_idx_load returns a new tensor, and tg_mnist_load two,
 * under the usual rule of tapegrad/tensor.h (the innermost pool's, or the
 * caller's). A progress
 * line made by tg_progress_new is the caller's, freed by tg_progress_free;
 * it borrows its output stream, which must stay open until then. */
#ifndef TAPEGRAD_DATA_H
#define TAPEGRAD_DATA_H

#include <stdint.h>
#include <stdio.h>

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
 * as tg_to_dtype converts (exact into float64 and int64; into float32,
 * 32-bit integers and float64 values round to nearest; MNIST's labels load
 * as TG_I64, the dtype of class indices). A file starting
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

/* ---- MNIST-format data sets ------------------------------------------------------
 * MNIST, Fashion-MNIST (Debian: dataset-fashion-mnist, in
 * /usr/share/datasets/fashion-mnist) and KMNIST ship each split as two
 * IDX files: train-images-idx3-ubyte and train-labels-idx1-ubyte (60000
 * examples), t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (10000),
 * each plain or gzipped (name.gz, read first when both exist). */
typedef enum tg_mnist_split {
    TG_MNIST_TRAIN = 0, /* train-*: the training split */
    TG_MNIST_TEST,      /* t10k-*: the test split */
} tg_mnist_split;

/* Reads split from the folder dir: *images becomes float32 of shape (N,
 * rows * columns), each pixel / 255 as torchvision's ToTensor gives it,
 * flattened for a Linear layer (tg_reshape to (N, 1, rows, columns) gives
 * ToTensor's own shape), and *labels int64 of shape (N). Returns 0, or -1
 * with both set to NULL: a file missing (neither name.gz nor name) or
 * malformed (tg_idx_load's message, naming it), images not of 3 dims, labels not of 1, or counts
 * that differ. */
TG_API int tg_mnist_load(const char *dir, tg_mnist_split split, tg_tensor **images,
                         tg_tensor **labels);

/* ---- A progress line ------------------------------------------------------------
 * One call per step of a training loop shows how far it is:
 *
 *     step 250/1000 (25%)  epoch 2  loss 0.6931  50 steps/s  ETA 0:15
 *
 * On a terminal (isatty) the line is redrawn in place (a carriage return,
 * the line, then the escape that clears the rest of the screen line), at
 * most every redraw_seconds; elsewhere (a log file, a pipe) full lines are
 * written, one at the first update, then whenever line_every_steps steps
 * or line_every_seconds seconds have passed since the last. tg_progress_finish
 * writes the last state with "done in <time>" in place of the ETA, and
 * ends the line. The rate is the steps done per second since
 * tg_progress_new. Errors writing to the stream are ignored, as a display's
 * are. A progress line belongs to one thread. */
typedef struct tg_progress tg_progress;

/* How the line is written; tg_progress_defaults() gives the defaults. */
typedef enum tg_progress_style {
    TG_PROGRESS_AUTO = 0, /* redraw on a terminal, lines elsewhere (default) */
    TG_PROGRESS_LINES,
    TG_PROGRESS_REDRAW,
} tg_progress_style;

typedef struct tg_progress_options {
    tg_progress_style style;
    double redraw_seconds;     /* redrawing: at least this long between draws (0.1) */
    int64_t line_every_steps;  /* lines: one after this many steps (0: not by steps) */
    double line_every_seconds; /* lines: one after this many seconds (10; 0: not by time) */
    /* Seconds on a steady clock; NULL (the default) is CLOCK_MONOTONIC. A
     * test gives its own to get the same text on every run. */
    double (*clock)(void *ctx);
    void *clock_ctx;
} tg_progress_options;
TG_API tg_progress_options tg_progress_defaults(void);

/* A progress line for a loop of total_steps (at least 1) steps, written to
 * out; options may be NULL for the defaults. Returns NULL on bad arguments
 * or when out of memory. */
TG_API tg_progress *tg_progress_new(int64_t total_steps, FILE *out,
                                    const tg_progress_options *options);
/* Step step (0 to total_steps: the steps done so far) is over, in epoch
 * epoch (not shown when negative), with this loss (NaN shows as nan).
 * Returns 0, or -1 for a step out of range or a finished line. */
TG_API int tg_progress_update(tg_progress *p, int64_t step, int epoch, double loss);
/* Writes the final state and ends the line; later updates fail. NULL-safe,
 * and a second call does nothing. */
TG_API void tg_progress_finish(tg_progress *p);
/* Frees p without writing anything (call tg_progress_finish first to end
 * the line). NULL-safe. */
TG_API void tg_progress_free(tg_progress *p);

#ifdef __cplusplus
}
#endif
#endif
