/* tests/fuzz/fuzz_common.h - what the fuzz targets, their seed writer and
 * the replay driver share: the models and optimizers the files are loaded
 * into, a scratch folder, and the checks of the library's promises.
 *
 * A target checks what tapegrad promises about loading a file: a load that
 * fails changes nothing and leaves a code and a message, a load that
 * succeeds gives exactly the file's values, and no tensor outlives the
 * call. A broken promise aborts (libFuzzer then keeps the input). */
#ifndef TG_FUZZ_COMMON_H
#define TG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <tapegrad/tapegrad.h>

#define FUZZ_CHECK(cond) fuzz_check((cond), #cond, __FILE__, __LINE__)
void fuzz_check(int ok, const char *what, const char *file, int line);

/* The failed call left a code and a non-empty message. */
int fuzz_failed_with_message(void);

/* A file in the scratch folder (made on first use, removed at exit). The
 * returned path stays valid until the next call with the same name; 24
 * names at most. */
const char *fuzz_path(const char *name);
/* Writes bytes to fuzz_path(name) and returns that path. */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);
/* The bytes of a file (malloc'ed, *size set), or NULL. */
uint8_t *fuzz_read(const char *path, size_t *size);

/* Same dtype, shape and bits. */
int fuzz_same_tensor(tg_tensor *a, tg_tensor *b);
/* Two safetensors files hold the same names with equal tensors. 0-dim
 * float64 values (counts, lrs) compare as numbers: a step count of -0.0
 * in a file is loaded as the count 0 and saved as 0.0. */
int fuzz_same_file(const char *a, const char *b);

/* The objects the files are loaded into; the seed writer saves their
 * states, so that the seeds fit them. Each call makes new ones, always the
 * same (fixed seeds, fixed steps). */
tg_module *fuzz_model(void);
/* A small model of every built-in type and of a user's two whose
 * loaders it registers, for tg_module_load_new. */
tg_module *fuzz_described_model(void);
/* Registers the loaders of the user's classes fuzz_described_model holds
 * (Gain and Chain of tests/user_classes.h), once per process. */
void fuzz_register_loaders(void);
/* One of the optimizer kinds below over m's parameters, in two groups, a
 * few steps in so that its state is not all zeros. */
enum { FUZZ_SGD, FUZZ_ADAGRAD, FUZZ_RMSPROP, FUZZ_ADAM, FUZZ_ADAMW, FUZZ_N_OPTIMS };
tg_optimizer *fuzz_optimizer(tg_module *m, int kind);
/* One of the schedules, a few epochs in (SequentialLR past its milestone;
 * one of its schedulers not started yet). */
enum {
    FUZZ_STEP_LR,
    FUZZ_COSINE,
    FUZZ_WARMUP,
    FUZZ_MULTI_STEP,
    FUZZ_EXPONENTIAL,
    FUZZ_CONSTANT,
    FUZZ_LINEAR,
    FUZZ_LAMBDA,
    FUZZ_ONE_CYCLE,
    FUZZ_WARM_RESTARTS,
    FUZZ_PLATEAU,
    FUZZ_SEQUENTIAL,
    FUZZ_CHAINED,
    FUZZ_N_SCHEDULES
};
/* Its name, for the seed files. */
extern const char *const fuzz_schedule_names[FUZZ_N_SCHEDULES];
tg_lr_scheduler *fuzz_scheduler(tg_optimizer *opt, int kind);

/* Writes the seed corpus into dir: the files of fuzz_model and
 * fuzz_described_model (whose metadata describe them), every
 * fuzz_optimizer and every fuzz_scheduler as the library saves them, a
 * few other valid safetensors files, and IDX files of every element type,
 * plain and gzipped. Returns the number written, or -1. */
int fuzz_write_seeds(const char *dir);

/* The entry point each fuzz target defines, libFuzzer's (and replay.c's). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
