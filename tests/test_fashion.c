/* tests/test_fashion.c - training on real data exactly as PyTorch does: the
 * committed slice of Fashion-MNIST (512 images, gzip-compressed IDX) read
 * with tg_idx_load, batched by tg_loader in DataLoader's shuffled order,
 * a Linear -> residual SwiGLU FeedForward -> Linear classifier trained with
 * AdamW on cross-entropy for 300 steps; every step's loss and the final
 * weights against PyTorch's run of the same (make_golden_fashion.py). */
#include "../examples/fashion_model.h"
#include "tg_test.h"

enum { STEPS = 300, BATCH = 24, DIM = 16, HIDDEN = 64, MULTIPLE_OF = 8 };

static char *golden(const char *name) {
    static char path[4096];
    const char *dir = getenv("TG_GOLDEN_DIR");
    snprintf(path, sizeof path, "%s/fashion/%s", dir ? dir : "tests/golden", name);
    return path;
}

static void train_and_compare(tg_dtype dtype, const char *init, const char *run, double rtol) {
    tg_tensor *images = tg_idx_load(golden("train-images-512-idx3-ubyte.gz"), dtype);
    tg_tensor *labels = tg_idx_load(golden("train-labels-512-idx1-ubyte.gz"), TG_I64);
    CHECK(images && labels && tg_numel(labels) == 512);
    tg_tensor *x = tg_div_scalar(tg_reshape(images, TG_SHAPE(512, 784)), 255);
    tg_module *net = fashion_model_new(DIM, HIDDEN, MULTIPLE_OF, dtype);
    CHECK(net != NULL);
    CHECK(tg_module_load(net, golden(init)) == 0); /* PyTorch's initial weights */
    tg_safetensors *want = tg_safetensors_open(golden(run));
    CHECK(want != NULL);
    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options o = tg_adamw_defaults(); /* lr 1e-3, weight decay 0.01 */
    tg_optimizer *opt = tg_adamw_new(params, n_params, &o);
    tg_generator *gen = tg_generator_new(2);
    tg_loader *loader = tg_loader_new(2, (tg_tensor *[]){x, labels}, BATCH, TG_SHUFFLE,
                                      TG_KEEP_LAST, gen);
    CHECK(opt && loader);
    const tg_tensor *losses = tg_safetensors_get(want, "losses");
    CHECK(losses && tg_numel(losses) == STEPS);
    int step = 0;
    while (step < STEPS) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *batch[2];
        int got = tg_loader_next(loader, batch);
        CHECK(got >= 0);
        if (got == 1) {
            tg_tensor *loss = tg_cross_entropy(tg_module_forward(net, batch[0]), batch[1],
                                               TG_REDUCTION_MEAN);
            tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
            CHECK(loss && tg_backward(loss, NULL) == 0 && tg_optim_step(opt) == 0);
            CHECK_CLOSE(tg_item(loss), tg_get(losses, (int64_t[]){step}), rtol, 0);
            step++;
        }
        tg_pool_pop(pool);
    }
    tg_test_check_parameters(net, want, "final.", rtol, rtol * 1e-2);
    tg_loader_free(loader);
    tg_generator_free(gen);
    tg_optim_free(opt);
    tg_safetensors_close(want);
    tg_module_free(net);
}

static void float64_training_matches_pytorch(void) {
    train_and_compare(TG_F64, "init_f64.safetensors", "run_f64.safetensors", 1e-12);
}
static void float32_training_matches_pytorch(void) {
    train_and_compare(TG_F32, "init_f32.safetensors", "run_f32.safetensors", 1e-5);
}

TG_TEST_MAIN(TG_CASE(float64_training_matches_pytorch), TG_CASE(float32_training_matches_pytorch))
