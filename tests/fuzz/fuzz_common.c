/* tests/fuzz/fuzz_common.c - see fuzz_common.h. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH and FTW_PHYS */
#include "fuzz_common.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../user_classes.h"

void fuzz_check(int ok, const char *what, const char *file, int line) {
    if (ok) return;
    fprintf(stderr, "%s:%d: broken promise: %s (last error %d: \"%s\")\n", file, line, what,
            (int)tg_last_status(), tg_last_error());
    abort();
}

int fuzz_failed_with_message(void) {
    return tg_last_status() != TG_OK && tg_last_error()[0] != '\0';
}

/* ---- Scratch files ---------------------------------------------------------------- */

static char scratch[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_scratch(void) {
    if (scratch[0]) nftw(scratch, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_path(const char *name) {
    enum { MOST = 24 }; /* names: enough for a file per schedule and a few more */
    static char paths[MOST][128];
    static const char *names[MOST];
    if (!scratch[0]) {
        /* tmpfs when there is one: saving syncs to disk, which tmpfs skips. */
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(scratch, sizeof scratch, "%s/tg-fuzz-XXXXXX", base);
        FUZZ_CHECK(mkdtemp(scratch) != NULL);
        atexit(remove_scratch);
    }
    int i = 0;
    while (i < MOST && names[i] && strcmp(names[i], name) != 0) i++;
    FUZZ_CHECK(i < MOST);
    names[i] = name;
    snprintf(paths[i], sizeof paths[i], "%s/%s", scratch, name);
    return paths[i];
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
    const char *path = fuzz_path(name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
    return path;
}

uint8_t *fuzz_read(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *bytes = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)n + 1)) &&
        fread(bytes, 1, (size_t)n, f) != (size_t)n) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return bytes;
}

/* ---- Comparing ----------------------------------------------------------------------- */

int fuzz_same_tensor(tg_tensor *a, tg_tensor *b) {
    if (!a || !b || tg_dtype_of(a) != tg_dtype_of(b) || tg_ndim(a) != tg_ndim(b)) return 0;
    for (int d = 0; d < tg_ndim(a); d++)
        if (tg_shape(a)[d] != tg_shape(b)[d]) return 0;
    tg_pool *pool = tg_pool_push();
    tg_tensor *ca = tg_contiguous(a), *cb = tg_contiguous(b);
    int same = ca && cb &&
               memcmp(tg_data(ca), tg_data(cb),
                      (size_t)tg_numel(a) * tg_dtype_size(tg_dtype_of(a))) == 0;
    tg_pool_pop(pool);
    return same;
}

int fuzz_same_file(const char *a, const char *b) {
    tg_safetensors *fa = tg_safetensors_open(a), *fb = tg_safetensors_open(b);
    int same = fa && fb && tg_safetensors_count(fa) == tg_safetensors_count(fb);
    tg_pool *pool = tg_pool_push();
    for (int i = 0; same && i < tg_safetensors_count(fa); i++) {
        const char *name = tg_safetensors_name(fa, i);
        tg_tensor *ta = tg_safetensors_get(fa, name), *tb = tg_safetensors_get(fb, name);
        same = fuzz_same_tensor(ta, tb) ||
               (ta && tb && tg_ndim(ta) == 0 && tg_ndim(tb) == 0 && tg_dtype_of(ta) == TG_F64 &&
                tg_dtype_of(tb) == TG_F64 && tg_item(ta) == tg_item(tb));
    }
    tg_pool_pop(pool);
    tg_safetensors_close(fa);
    tg_safetensors_close(fb);
    return same;
}

/* ---- The objects loaded into --------------------------------------------------------- */

tg_module *fuzz_model(void) {
    tg_generator *gen = tg_generator_new(7);
    tg_module *m = tg_sequential_new(
        3, (tg_module *[]){tg_linear_new(3, 4, TG_BIAS, TG_F32, gen), tg_swish_new(1.5, TG_F32),
                           tg_linear_new(4, 2, TG_NO_BIAS, TG_F64, gen)});
    tg_generator_free(gen);
    FUZZ_CHECK(m != NULL);
    return m;
}

void fuzz_register_loaders(void) {
    static bool done;
    if (done) return;
    FUZZ_CHECK(user_classes_register() == 0);
    done = true;
}

tg_module *fuzz_described_model(void) {
    fuzz_register_loaders();
    tg_generator *gen = tg_generator_new(8);
    tg_ffn_options swiglu = {.kind = TG_FFN_SWIGLU,
                             .dim = 2,
                             .hidden_dim = 3,
                             .multiple_of = 2,
                             .dropout = 0.5,
                             .dtype = TG_F64};
    tg_ffn_options relu = {.kind = TG_FFN_RELU, .dim = 2, .hidden_dim = 1, .dtype = TG_F32};
    tg_module *list = tg_module_list_new();
    FUZZ_CHECK(tg_module_append(list, tg_embedding_new(3, 2, -1, TG_F32, gen)) &&
               tg_module_append(list, tg_feedforward_new(&relu, gen)) &&
               tg_module_append(list, tg_activation_new(TG_ACT_SIGMOID)) &&
               tg_module_append(list, tg_activation_new(TG_ACT_SELU)) &&
               tg_module_append(list, tg_celu_new(0.5)) &&
               tg_module_append(list, tg_hardtanh_new(-1, 2)));
    tg_module *chain = chain_new();
    FUZZ_CHECK(tg_module_add_child(chain, "gain", gain_new(2, TG_F32)) &&
               tg_module_add_child(chain, "act", tg_activation_new(TG_ACT_MISH)) &&
               tg_module_append(list, chain));
    tg_module *m = tg_sequential_named_new(
        9, (const char *[]){"in", "ln", "res", "rms", "gelu", "drop", "prelu", "swish", "list"},
        (tg_module *[]){tg_linear_new(3, 2, TG_BIAS, TG_F64, gen),
                        tg_layer_norm_new(TG_SHAPE(2), TG_AFFINE, 1e-5, TG_F64),
                        tg_residual_new(tg_feedforward_new(&swiglu, gen)),
                        tg_rms_norm_new(2, 1e-6, TG_F64), tg_activation_new(TG_ACT_GELU_TANH),
                        tg_dropout_new(0.25, NULL), tg_prelu_new(1, 0.25, TG_F64),
                        tg_swish_new(1.5, TG_F32), list});
    tg_generator_free(gen);
    FUZZ_CHECK(m != NULL);
    return m;
}

/* Gradients 2 p (of the sum of p^2), so that states move. */
static void take_steps(tg_optimizer *opt, tg_tensor *const *params, int n, int steps) {
    for (int s = 0; s < steps; s++) {
        tg_optim_zero_grad(opt, TG_GRAD_TO_ZERO);
        for (int i = 0; i < n; i++) {
            tg_pool *pool = tg_pool_push();
            FUZZ_CHECK(tg_backward(tg_sum(tg_mul(params[i], params[i])), NULL) == 0);
            tg_pool_pop(pool);
        }
        FUZZ_CHECK(tg_optim_step(opt) == 0);
    }
}

tg_optimizer *fuzz_optimizer(tg_module *m, int kind) {
    int n;
    tg_tensor *const *params = tg_module_parameter_tensors(m, &n);
    tg_optimizer *opt = NULL;
    int group2 = -1;
    switch (kind) {
    case FUZZ_SGD: {
        tg_sgd_options o = tg_sgd_defaults(0.1);
        o.momentum = 0.9;
        opt = tg_sgd_new(params, 2, &o);
        o.nesterov = true, o.momentum = 0.5;
        group2 = tg_sgd_add_group(opt, params + 2, n - 2, &o);
        break;
    }
    case FUZZ_ADAGRAD: {
        tg_adagrad_options o = tg_adagrad_defaults();
        opt = tg_adagrad_new(params, 2, &o);
        o.initial_accumulator_value = 0.25;
        group2 = tg_adagrad_add_group(opt, params + 2, n - 2, &o);
        break;
    }
    case FUZZ_RMSPROP: {
        tg_rmsprop_options o = tg_rmsprop_defaults();
        o.centered = true, o.momentum = 0.5;
        opt = tg_rmsprop_new(params, 2, &o);
        group2 = tg_rmsprop_add_group(opt, params + 2, n - 2, &o);
        break;
    }
    case FUZZ_ADAM:
    case FUZZ_ADAMW: {
        tg_adam_options o = kind == FUZZ_ADAM ? tg_adam_defaults() : tg_adamw_defaults();
        o.amsgrad = true;
        opt = kind == FUZZ_ADAM ? tg_adam_new(params, 2, &o) : tg_adamw_new(params, 2, &o);
        o.lr = 0.5;
        group2 = tg_adam_add_group(opt, params + 2, n - 2, &o);
        break;
    }
    }
    FUZZ_CHECK(opt != NULL && group2 == 1);
    take_steps(opt, params, n, 3);
    return opt;
}

const char *const fuzz_schedule_names[FUZZ_N_SCHEDULES] = {
    "step",   "cosine",    "warmup",        "multi-step", "exponential", "constant", "linear",
    "lambda", "one-cycle", "warm-restarts", "plateau",    "sequential",  "chained"};

static double decay(int64_t epoch, int group, void *ctx) {
    (void)ctx;
    return 1.0 / (double)(1 + epoch * (group + 1));
}

static tg_lr_scheduler *make_scheduler(tg_optimizer *opt, int kind) {
    tg_one_cycle_options cycle = tg_one_cycle_defaults(0.5, 20);
    switch (kind) {
    case FUZZ_STEP_LR: return tg_step_lr(opt, 2, 0.5);
    case FUZZ_COSINE: return tg_cosine_annealing_lr(opt, 10, 1e-3);
    case FUZZ_WARMUP: return tg_warmup_cosine_lr(opt, 3, 10, 0.1);
    case FUZZ_MULTI_STEP: return tg_multi_step_lr(opt, 3, (int[]){1, 3, 3}, 0.5);
    case FUZZ_EXPONENTIAL: return tg_exponential_lr(opt, 0.9);
    case FUZZ_CONSTANT: return tg_constant_lr(opt, 0.25, 3);
    case FUZZ_LINEAR: return tg_linear_lr(opt, 0.1, 1, 6);
    case FUZZ_LAMBDA: return tg_lambda_lr(opt, decay, NULL);
    case FUZZ_ONE_CYCLE: return tg_one_cycle_lr(opt, &cycle);
    case FUZZ_WARM_RESTARTS: return tg_cosine_annealing_warm_restarts(opt, 2, 3, 1e-4);
    case FUZZ_PLATEAU: {
        tg_reduce_lr_on_plateau_options o = tg_reduce_lr_on_plateau_defaults();
        o.patience = 1, o.cooldown = 2;
        return tg_reduce_lr_on_plateau(opt, &o);
    }
    case FUZZ_SEQUENTIAL: {
        tg_lr_scheduler *warm = tg_linear_lr(opt, 0.5, 1, 2), *one = tg_one_cycle_lr(opt, &cycle);
        tg_lr_scheduler *last = tg_exponential_lr(opt, 0.5);
        return tg_sequential_lr(opt, 3, (tg_lr_scheduler *[]){warm, one, last}, 2, (int[]){2, 30});
    }
    default: {
        tg_lr_scheduler *constant = tg_constant_lr(opt, 0.5, 2);
        tg_lr_scheduler *restarts = tg_cosine_annealing_warm_restarts(opt, 3, 1, 0);
        return tg_chained_scheduler(2, (tg_lr_scheduler *[]){constant, restarts});
    }
    }
}

tg_lr_scheduler *fuzz_scheduler(tg_optimizer *opt, int kind) {
    tg_lr_scheduler *s = make_scheduler(opt, kind);
    FUZZ_CHECK(s != NULL);
    for (int e = 0; e < 4; e++)
        FUZZ_CHECK((kind == FUZZ_PLATEAU ? tg_lr_scheduler_step_metric(s, 1.0 / (e + 1))
                                         : tg_lr_scheduler_step(s)) == 0);
    return s;
}

/* ---- Seeds --------------------------------------------------------------------------- */

static char seed_path[4096];

static const char *in_dir(const char *dir, const char *name) {
    snprintf(seed_path, sizeof seed_path, "%s/%s", dir, name);
    return seed_path;
}

/* t saved as dir/name in type, and gzipped as dir/name.gz: 0, or -1. */
static int write_idx_seed(const char *dir, const char *name, tg_tensor *t, tg_idx_type type) {
    char gz_path[4096];
    snprintf(gz_path, sizeof gz_path, "%s/%s.gz", dir, name);
    const char *path = in_dir(dir, name);
    size_t size;
    uint8_t *bytes = tg_idx_save(path, t, type) == 0 ? fuzz_read(path, &size) : NULL;
    gzFile gz = bytes ? gzopen(gz_path, "wb") : NULL;
    int ok = gz && gzwrite(gz, bytes, (unsigned)size) == (int)size;
    ok &= gz && gzclose(gz) == Z_OK;
    free(bytes);
    return ok ? 0 : -1;
}

int fuzz_write_seeds(const char *dir) {
    static const char *optim_names[] = {"optim-sgd", "optim-adagrad", "optim-rmsprop", "optim-adam",
                                        "optim-adamw"};
    int written = 0, failed = 0;
    tg_module *m = fuzz_model();
    failed |= tg_module_save(m, in_dir(dir, "model")), written++;
    for (int k = 0; k < FUZZ_N_OPTIMS; k++) {
        tg_optimizer *opt = fuzz_optimizer(m, k);
        failed |= tg_optim_save(opt, in_dir(dir, optim_names[k])), written++;
        if (k == FUZZ_SGD)
            for (int s = 0; s < FUZZ_N_SCHEDULES; s++) {
                char name[32];
                snprintf(name, sizeof name, "sched-%s", fuzz_schedule_names[s]);
                tg_lr_scheduler *sched = fuzz_scheduler(opt, s);
                failed |= tg_lr_scheduler_save(sched, in_dir(dir, name)), written++;
                tg_lr_scheduler_free(sched);
            }
        tg_optim_free(opt);
    }
    tg_module_free(m);
    m = fuzz_described_model();
    failed |= tg_module_save(m, in_dir(dir, "model-described")), written++;
    tg_module_free(m);
    /* Other shapes and dtypes: 0-dim, empty, strided on saving. */
    tg_pool *pool = tg_pool_push();
    tg_tensor *t = tg_transpose(tg_view(tg_arange(0, 6, 1, TG_F32), TG_SHAPE(2, 3)), 0, 1);
    tg_named_tensor ts[] = {{"a", t},
                            {"b.c", tg_scalar(-0.5, TG_F64)},
                            {"empty", tg_zeros(TG_SHAPE(0, 3), TG_F32)},
                            {"d", tg_full(TG_SHAPE(2, 1, 2), 1e300, TG_F64)}};
    failed |= tg_save_safetensors(in_dir(dir, "tensors"), 4, ts), written++;
    failed |= tg_save_safetensors(in_dir(dir, "none"), 0, NULL), written++;
    tg_metadata_entry meta[] = {{"format", "pt"}, {"note", "{\"a\": [1, \"\\u00e9\"]}"}};
    failed |= tg_save_safetensors_with_metadata(in_dir(dir, "tensors-meta"), 2, ts, 2, meta);
    written++;
    /* IDX: 0..5 in every element type, as (2, 3), and MNIST's shapes in small. */
    static const tg_idx_type types[] = {TG_IDX_U8,  TG_IDX_I8,  TG_IDX_I16,
                                        TG_IDX_I32, TG_IDX_F32, TG_IDX_F64};
    static const char *type_names[] = {"u8", "i8", "i16", "i32", "f32", "f64"};
    tg_tensor *small = tg_view(tg_arange(0, 6, 1, TG_F64), TG_SHAPE(2, 3));
    char name[32];
    for (int k = 0; k < 6; k++) {
        snprintf(name, sizeof name, "idx-%s", type_names[k]);
        failed |= write_idx_seed(dir, name, small, types[k]), written += 2;
    }
    tg_tensor *images = tg_mul_scalar(tg_arange(0, 2 * 4 * 4, 1, TG_F64), 8);
    failed |= write_idx_seed(dir, "idx-images", tg_view(images, TG_SHAPE(2, 4, 4)), TG_IDX_U8);
    failed |= write_idx_seed(dir, "idx-labels", tg_arange(0, 2, 1, TG_F64), TG_IDX_U8);
    written += 4;
    tg_pool_pop(pool);
    return failed ? -1 : written;
}
