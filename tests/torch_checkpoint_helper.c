/* tests/torch_checkpoint_helper.c - tapegrad's half of the round trip
 * through PyTorch that tests/check_torch_checkpoint.py drives:
 *
 *   torch_checkpoint_helper save DIR
 *       builds Sequential(Linear, LayerNorm, Residual(SwiGLU FeedForward),
 *       RMSNorm, Linear) in float64 and in float32, and writes for each
 *       DIR/c-<dtype>.safetensors (tg_module_save) and
 *       DIR/c-<dtype>-io.safetensors: an input "x" and the model's output
 *       "y" in eval mode;
 *       and DIR/c-every.safetensors, a ModuleList of a module of every
 *       other built-in type (an Embedding with padding_idx -1 among them);
 *   torch_checkpoint_helper user DIR
 *       builds Sequential(LayerNorm, PreNormStack (examples/prenorm_block.h:
 *       a user's class holding a ModuleList of a user's blocks and
 *       RMSNorms), Chain(SELU, RMSNorm, Linear)) in float64, Chain being
 *       tests/user_classes.h's class of its children run in turn, trains it 5 AdamW
 *       steps, and writes DIR/c-user.safetensors (tg_module_save),
 *       DIR/c-user-io.safetensors (an input "x" and the output "y" in eval
 *       mode) and DIR/c-user.txt (tg_module_print's text);
 *   torch_checkpoint_helper describe FILE
 *       rebuilds the module in FILE with tg_module_load_new and prints its
 *       description;
 *   torch_checkpoint_helper check FILE IO TOLERANCE
 *       rebuilds the module in FILE with tg_module_load_new (a model built
 *       in PyTorch and saved by tapegrad_torch.save), runs IO's "x" through
 *       it in eval mode, and compares with IO's "y" (PyTorch's output):
 *       every element within TOLERANCE, relative to max(1, |y|). Prints
 *       its description of the rebuilt module on the first line and the
 *       largest difference on the second.
 * The loaders of PreNormStack, Gain and Chain are registered first, for
 * tg_module_load_new. Exit status 0, or 1 with a message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "../examples/prenorm_block.h"
#include "user_classes.h"

static int failed(const char *what) {
    fprintf(stderr, "torch_checkpoint_helper: %s: %s\n", what, tg_last_error());
    return 1;
}

static tg_module *model(tg_dtype dtype, tg_generator *gen) {
    tg_ffn_options o = {.kind = TG_FFN_SWIGLU,
                        .dim = 16,
                        .hidden_dim = 64,
                        .multiple_of = 8,
                        .dropout = 0.1,
                        .dtype = dtype};
    return tg_sequential_new(
        5, (tg_module *[]){tg_linear_new(6, 16, TG_BIAS, dtype, gen),
                           tg_layer_norm_new(TG_SHAPE(16), TG_AFFINE, 1e-5, dtype),
                           tg_residual_new(tg_feedforward_new(&o, gen)),
                           tg_rms_norm_new(16, 1e-6, dtype),
                           tg_linear_new(16, 3, TG_BIAS, dtype, gen)});
}

static tg_module *every_type(tg_generator *gen) {
    tg_ffn_options o = {.kind = TG_FFN_GEGLU, .dim = 4, .multiple_of = 3, .dtype = TG_F32};
    tg_module *list = tg_module_list_new();
    tg_module *items[] = {tg_embedding_new(7, 4, -1, TG_F32, gen),
                          tg_feedforward_new(&o, gen),
                          tg_layer_norm_new(TG_SHAPE(2, 4), TG_NO_AFFINE, 1e-3, TG_F64),
                          tg_activation_new(TG_ACT_GELU),
                          tg_activation_new(TG_ACT_RELU),
                          tg_activation_new(TG_ACT_SIGMOID),
                          tg_activation_new(TG_ACT_SELU),
                          tg_activation_new(TG_ACT_RELU6),
                          tg_activation_new(TG_ACT_HARDSIGMOID),
                          tg_activation_new(TG_ACT_HARDSWISH),
                          tg_activation_new(TG_ACT_MISH),
                          tg_activation_new(TG_ACT_LOGSIGMOID),
                          tg_activation_new(TG_ACT_SOFTSIGN),
                          tg_activation_new(TG_ACT_TANHSHRINK),
                          tg_celu_new(0.75),
                          tg_hardtanh_new(-0.5, 2),
                          tg_prelu_new(1, 0.25, TG_F64),
                          tg_sequential_named_new(1, (const char *[]){"only"},
                                                  (tg_module *[]){tg_dropout_new(0.5, NULL)})};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        if (!tg_module_append(list, items[i])) {
            tg_module_free(list);
            return NULL;
        }
    return list;
}

static tg_module *user_model(tg_generator *gen) {
    tg_ffn_options o = {
        .kind = TG_FFN_SWIGLU, .dim = 16, .hidden_dim = 64, .multiple_of = 8, .dtype = TG_F64};
    tg_module *chain = chain_new();
    if (!tg_module_add_child(chain, "act", tg_activation_new(TG_ACT_SELU)) ||
        !tg_module_add_child(chain, "rms", tg_rms_norm_new(8, 1e-6, TG_F64)) ||
        !tg_module_add_child(chain, "head", tg_linear_new(8, 3, TG_BIAS, TG_F64, gen))) {
        tg_module_free(chain);
        chain = NULL;
    }
    return tg_sequential_named_new(
        3, (const char *[]){"norm", "stack", "chain"},
        (tg_module *[]){tg_layer_norm_new(TG_SHAPE(6), TG_AFFINE, 1e-5, TG_F64),
                        prenorm_stack_new(6, 8, 2, &o, 1e-6, gen), chain});
}

/* Trained a few steps inside its Sequential, so that every parameter
 * (norm weights and biases among them) is off its initial value. */
static int user(const char *dir) {
    char path[4096], io[4096], text[4096];
    tg_generator *gen = tg_generator_new(77);
    tg_module *m = user_model(gen);
    int n;
    tg_tensor *const *params = m ? tg_module_parameter_tensors(m, &n) : NULL;
    tg_adam_options o = tg_adamw_defaults();
    o.lr = 1e-2;
    tg_optimizer *opt = params ? tg_adamw_new(params, n, &o) : NULL;
    tg_pool *outer = tg_pool_push(); /* x, target, y */
    tg_tensor *x = opt ? tg_randn(TG_SHAPE(8, 6), TG_F64, gen) : NULL;
    tg_tensor *target = x ? tg_randn(TG_SHAPE(8, 3), TG_F64, gen) : NULL;
    bool ok = target != NULL;
    for (int step = 0; ok && step < 5; step++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *loss = tg_mse_loss(tg_module_forward(m, x), target, TG_REDUCTION_MEAN);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        ok = loss && tg_backward(loss, NULL) == 0 && tg_optim_step(opt) == 0;
        tg_pool_pop(pool);
    }
    tg_module_train(m, TG_EVAL);
    tg_tensor *y = ok ? tg_module_forward(m, x) : NULL;
    snprintf(path, sizeof path, "%s/c-user.safetensors", dir);
    snprintf(io, sizeof io, "%s/c-user-io.safetensors", dir);
    snprintf(text, sizeof text, "%s/c-user.txt", dir);
    FILE *f = y ? fopen(text, "w") : NULL;
    ok = f && tg_module_print(m, f) == 0;
    ok = (f && fclose(f) == 0) && ok && tg_module_save(m, path) == 0 &&
         tg_save_safetensors(io, 2, (tg_named_tensor[]){{"x", x}, {"y", y}}) == 0;
    tg_pool_pop(outer);
    tg_optim_free(opt);
    tg_module_free(m);
    tg_generator_free(gen);
    return ok ? 0 : failed("user");
}

static int describe(const char *path) {
    tg_module *m = tg_module_load_new(path);
    char *description = m ? tg_module_describe(m) : NULL;
    if (description) printf("%s\n", description);
    free(description);
    tg_module_free(m);
    return description ? 0 : failed("describe");
}

static int save(const char *dir) {
    char path[4096], io[4096];
    tg_generator *gen = tg_generator_new(2024);
    for (int k = 0; k < 2; k++) {
        tg_dtype dtype = k ? TG_F32 : TG_F64;
        tg_pool *pool = tg_pool_push();
        tg_module *m = model(dtype, gen);
        /* Parameters moved off their initial values (norm weights of ones,
         * biases of zeros), so that loading them is seen. */
        int n;
        tg_tensor *const *params = m ? tg_module_parameter_tensors(m, &n) : NULL;
        bool ok = params != NULL;
        for (int i = 0; ok && i < n; i++) {
            tg_tensor *noise = tg_rand(tg_ndim(params[i]), tg_shape(params[i]), dtype, gen);
            bool grad = tg_set_grad_enabled(false);
            ok = tg_add_(params[i], noise, 0.25) == 0;
            tg_set_grad_enabled(grad);
        }
        tg_module_train(m, TG_EVAL);
        tg_tensor *x = ok ? tg_randn(TG_SHAPE(5, 6), dtype, gen) : NULL;
        tg_tensor *y = x ? tg_module_forward(m, x) : NULL;
        snprintf(path, sizeof path, "%s/c-%s.safetensors", dir, tg_dtype_name(dtype));
        snprintf(io, sizeof io, "%s/c-%s-io.safetensors", dir, tg_dtype_name(dtype));
        ok = y && tg_module_save(m, path) == 0 &&
             tg_save_safetensors(io, 2, (tg_named_tensor[]){{"x", x}, {"y", y}}) == 0;
        tg_module_free(m);
        tg_pool_pop(pool);
        if (!ok) {
            tg_generator_free(gen);
            return failed("save");
        }
    }
    tg_module *m = every_type(gen);
    snprintf(path, sizeof path, "%s/c-every.safetensors", dir);
    int rc = m && tg_module_save(m, path) == 0 ? 0 : failed("save");
    tg_module_free(m);
    tg_generator_free(gen);
    return rc;
}

static int check(const char *path, const char *io_path, double tolerance) {
    tg_module *m = tg_module_load_new(path);
    if (!m) return failed("load_new");
    tg_module_train(m, TG_EVAL);
    char *description = tg_module_describe(m);
    tg_safetensors *io = tg_safetensors_open(io_path);
    tg_pool *pool = tg_pool_push();
    tg_tensor *x = io ? tg_safetensors_get(io, "x") : NULL;
    tg_tensor *want = io ? tg_safetensors_get(io, "y") : NULL;
    tg_tensor *got = x && want ? tg_module_forward(m, x) : NULL;
    int64_t n = got ? tg_numel(got) : 0;
    bool ok = description && got && n == tg_numel(want) && tg_ndim(got) == tg_ndim(want);
    double *a = malloc(sizeof *a * (size_t)(n + 1)), *b = malloc(sizeof *b * (size_t)(n + 1));
    double worst = 0;
    if (ok && a && b) {
        tg_to_doubles(got, a);
        tg_to_doubles(want, b);
        for (int64_t i = 0; i < n; i++) {
            double scale = fabs(b[i]) > 1 ? fabs(b[i]) : 1, d = fabs(a[i] - b[i]) / scale;
            worst = d > worst || d != d ? d : worst;
        }
        printf("%s\n%.3g\n", description, worst);
    }
    int rc = ok && a && b ? !(worst <= tolerance) : failed("check");
    if (rc == 1 && ok) fprintf(stderr, "torch_checkpoint_helper: outputs differ by %g\n", worst);
    free(a), free(b), free(description);
    tg_pool_pop(pool);
    tg_safetensors_close(io);
    tg_module_free(m);
    return rc;
}

int main(int argc, char **argv) {
    if (prenorm_register_loader() != 0 || user_classes_register() != 0) return failed("register");
    if (argc == 3 && strcmp(argv[1], "user") == 0) return user(argv[2]);
    if (argc == 3 && strcmp(argv[1], "save") == 0) return save(argv[2]);
    if (argc == 3 && strcmp(argv[1], "describe") == 0) return describe(argv[2]);
    if (argc == 5 && strcmp(argv[1], "check") == 0) return check(argv[2], argv[3], atof(argv[4]));
    fprintf(stderr,
            "usage: torch_checkpoint_helper save DIR | user DIR | describe FILE | check FILE IO "
            "TOLERANCE\n");
    return 2;
}
