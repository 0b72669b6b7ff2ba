/* tests/test_prenorm.c - the pre-norm residual FeedForward stack of
 * examples/prenorm_block.h, made of modules of one's own (the public API
 * only), trained 20 AdamW steps against PyTorch's run of its twin
 * (make_golden_prenorm.py): PyTorch's initial weights load strictly under
 * the C modules' names, then every loss and the final weights agree. */
#include "../examples/prenorm_block.h"
#include "tg_test.h"

enum { IN = 12, OUT = 6, DIM = 16, HIDDEN = 64, MULTIPLE_OF = 8, LAYERS = 3, STEPS = 20 };

static char *golden(const char *name) {
    static char path[4096];
    const char *dir = getenv("TG_GOLDEN_DIR");
    snprintf(path, sizeof path, "%s/prenorm/%s", dir ? dir : "tests/golden", name);
    return path;
}

/* Losses within rtol; weights within rtol or atol: tapegrad's float32 RMSNorm
 * rounds once where PyTorch's rounds after each op, and Adam's update
 * divides by the root of the squared gradients, so a weight whose gradient
 * is near zero moves by lr whatever its size, and carries that last-bit
 * difference at about lr times float32's epsilon. */
static void train_and_compare(tg_dtype dtype, const char *init, const char *run, double rtol,
                              double atol) {
    tg_ffn_options ffn = {.kind = TG_FFN_SWIGLU,
                          .dim = DIM,
                          .hidden_dim = HIDDEN,
                          .multiple_of = MULTIPLE_OF,
                          .dtype = dtype};
    tg_module *net = prenorm_stack_new(IN, OUT, LAYERS, &ffn, 1e-6, NULL);
    CHECK(net != NULL);
    CHECK(tg_module_load(net, golden(init)) == 0); /* strict: the names are PyTorch's */
    tg_safetensors *want = tg_safetensors_open(golden(run));
    CHECK(want != NULL);
    tg_tensor *x = tg_safetensors_get(want, "x"), *target = tg_safetensors_get(want, "target");
    tg_tensor *losses = tg_safetensors_get(want, "losses");
    CHECK(x && target && losses && tg_numel(losses) == STEPS);
    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options o = tg_adamw_defaults();
    o.lr = 1e-2;
    tg_optimizer *opt = tg_adamw_new(params, n_params, &o);
    CHECK(opt != NULL);
    for (int step = 0; step < STEPS; step++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *loss = tg_mse_loss(tg_module_forward(net, x), target, TG_REDUCTION_MEAN);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        CHECK(loss && tg_backward(loss, NULL) == 0 && tg_optim_step(opt) == 0);
        CHECK_CLOSE(tg_item(loss), tg_get(losses, (int64_t[]){step}), rtol, 0);
        tg_pool_pop(pool);
    }
    int n;
    tg_module_parameters(net, &n);
    CHECK(n == 3 + 4 * LAYERS); /* embed, norm, output; per block a norm and w1 w2 w3 */
    tg_test_check_parameters(net, want, "final.", rtol, atol);
    tg_optim_free(opt);
    tg_safetensors_close(want);
    tg_module_free(net);
}

static void float64_training_matches_pytorch(void) {
    train_and_compare(TG_F64, "init_f64.safetensors", "run_f64.safetensors", 1e-12, 1e-14);
}
static void float32_training_matches_pytorch(void) {
    train_and_compare(TG_F32, "init_f32.safetensors", "run_f32.safetensors", 1e-5, 1e-6);
}

/* The tree prints as PyTorch prints its twin (the FeedForward, Residual-free
 * classes print their children in the same format). */
static void stack_prints_its_tree(void) {
    tg_ffn_options ffn = {
        .kind = TG_FFN_SWIGLU, .dim = 4, .hidden_dim = 16, .multiple_of = 4, .dtype = TG_F32};
    tg_module *net = prenorm_stack_new(3, 2, 1, &ffn, 1e-6, NULL);
    char *s = tg_module_repr(net);
    CHECK_EQ_STR(s, "PreNormStack(\n"
                    "  (embed): Linear(in_features=3, out_features=4, bias=False)\n"
                    "  (layers): ModuleList(\n"
                    "    (0): PreNormBlock(\n"
                    "      (attention_norm): RMSNorm()\n"
                    "      (feed_forward): FeedForward(\n"
                    "        kind=SwiGLU, dim=4, hidden_dim=12\n"
                    "        (w1): Linear(in_features=4, out_features=12, bias=False)\n"
                    "        (w2): Linear(in_features=12, out_features=4, bias=False)\n"
                    "        (w3): Linear(in_features=4, out_features=12, bias=False)\n"
                    "        (dropout): Dropout(p=0.0, inplace=False)\n"
                    "      )\n"
                    "    )\n"
                    "  )\n"
                    "  (norm): RMSNorm()\n"
                    "  (output): Linear(in_features=4, out_features=2, bias=False)\n"
                    ")");
    free(s);
    tg_module_free(net);
}

/* A part that cannot be made fails the whole stack, freeing what was made. */
static void a_bad_part_fails_the_stack(void) {
    tg_ffn_options ffn = {.kind = TG_FFN_SWIGLU, .dim = 4, .multiple_of = 0, .dtype = TG_F32};
    int64_t live = tg_live_tensors();
    CHECK(prenorm_stack_new(3, 2, 2, &ffn, 1e-6, NULL) == NULL);
    CHECK(tg_last_status() != TG_OK && tg_live_tensors() == live);
    tg_clear_error();
    ffn.multiple_of = 4;
    CHECK(prenorm_stack_new(3, 2, 2, &ffn, -1, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "RMSNorm: eps must be positive and finite, got -1");
    CHECK(tg_live_tensors() == live);
}

TG_TEST_MAIN(TG_CASE(float64_training_matches_pytorch), TG_CASE(float32_training_matches_pytorch),
             TG_CASE(stack_prints_its_tree), TG_CASE(a_bad_part_fails_the_stack))
