/* tests/test_ffn.c - the FeedForward family: LLaMA's hidden_dim rounding,
 * parity with PyTorch modules loaded from safetensors, and the misplaced
 * parenthesis of docs/ERRATA.md, item 1. */
#include "tg_test.h"

static const char *const kinds[TG_FFN_N_KINDS] = {"relu", "gelu",  "gelu_tanh", "silu",
                                                  "glu",  "geglu", "swiglu",    "reglu"};

static void hidden_dim_rounding(void) {
    CHECK(tg_ffn_hidden_dim(256, 16) == 176);
    CHECK(tg_ffn_hidden_dim(64, 8) == 48);
    CHECK(tg_ffn_hidden_dim(4 * 4096, 256) == 11008); /* LLaMA-7B */
    CHECK(tg_ffn_hidden_dim(256, 0) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "ffn_hidden_dim: hidden_dim 256 and multiple_of 0 must be positive");
    CHECK(tg_ffn_hidden_dim(-3, 8) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "must be positive");
}

/* Sizes near INT64_MAX are computed exactly, or refused: never wrapped. */
static void hidden_dim_rounding_never_overflows(void) {
    CHECK(tg_ffn_hidden_dim(INT64_MAX, 1) == 6148914691236517204); /* floor(2 (2^63 - 1) / 3) */
    CHECK(tg_ffn_hidden_dim(INT64_MAX - 1, 1024) == 6148914691236517888);
    CHECK(tg_ffn_hidden_dim(INT64_MAX, INT64_MAX / 2 + 1) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "ffn_hidden_dim: 2/3 of hidden_dim 9223372036854775807 rounded up "
                              "to a multiple of 4611686018427387904 is more than");
    tg_ffn_options o = {.kind = TG_FFN_RELU, .dim = INT64_MAX / 2, .dtype = TG_F32};
    CHECK(tg_feedforward_new(&o, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "FeedForward: the default hidden_dim, 4 * dim 4611686018427387903, "
                              "is more than");
}

/* The worked case: dim 128, hidden 256, multiple_of 16. */
static void worked_swiglu_shapes(void) {
    tg_ffn_options o = {.kind = TG_FFN_SWIGLU,
                        .dim = 128,
                        .hidden_dim = 256,
                        .multiple_of = 16,
                        .dropout = 0.1,
                        .dtype = TG_F32};
    tg_module *ffn = tg_feedforward_new(&o, NULL);
    CHECK(ffn != NULL);
    const int64_t *w1 = tg_shape(tg_module_parameter(ffn, "w1.weight"));
    const int64_t *w2 = tg_shape(tg_module_parameter(ffn, "w2.weight"));
    const int64_t *w3 = tg_shape(tg_module_parameter(ffn, "w3.weight"));
    CHECK(w1[0] == 176 && w1[1] == 128); /* 128 -> 176, stored (out, in) */
    CHECK(w3[0] == 176 && w3[1] == 128);
    CHECK(w2[0] == 128 && w2[1] == 176);
    CHECK(tg_module_parameter(ffn, "w1.bias") == NULL);
    tg_tensor *y = tg_module_forward(ffn, tg_randn(TG_SHAPE(4, 128), TG_F32, NULL));
    CHECK(y && tg_ndim(y) == 2 && tg_shape(y)[0] == 4 && tg_shape(y)[1] == 128);
    CHECK(tg_module_num_elements(ffn) == 3 * 128 * 176);
    tg_module_free(ffn);
}

/* ERRATA 1: w2(silu(w1 x)) * w3 x multiplies (4, 128) by (4, 176), which cannot work. */
static void misplaced_parenthesis_is_a_shape_error(void) {
    tg_ffn_options o = {
        .kind = TG_FFN_SWIGLU, .dim = 128, .hidden_dim = 256, .multiple_of = 16, .dtype = TG_F32};
    tg_module *ffn = tg_feedforward_new(&o, NULL);
    tg_tensor *x = tg_randn(TG_SHAPE(4, 128), TG_F32, NULL);
    tg_tensor *w1 = tg_module_parameter(ffn, "w1.weight"),
              *w2 = tg_module_parameter(ffn, "w2.weight");
    tg_tensor *w3 = tg_module_parameter(ffn, "w3.weight");
    tg_tensor *literal = tg_mul(tg_linear(tg_silu(tg_linear(x, w1, NULL)), w2, NULL),
                                tg_linear(x, w3, NULL));
    CHECK(literal == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "mul: shapes (4, 128) and (4, 176) cannot be broadcast");
    tg_tensor *correct = tg_linear(tg_mul(tg_silu(tg_linear(x, w1, NULL)), tg_linear(x, w3, NULL)),
                                   w2, NULL);
    double want[4 * 128];
    tg_module_train(ffn, TG_EVAL);
    tg_to_doubles(tg_module_forward(ffn, x), want);
    CHECK_VALUES(correct, want, 4 * 128, 1e-5, 1e-6);
    tg_module_free(ffn);
}

static void file_path(char *buf, size_t n, const char *kind, const char *dtype,
                      const char *suffix) {
    const char *dir = getenv("TG_GOLDEN_DIR");
    snprintf(buf, n, "%s/ffn/%s_%s%s.safetensors", dir ? dir : "tests/golden", kind, dtype, suffix);
}

static void matches_pytorch_modules(void) {
    for (int k = 0; k < TG_FFN_N_KINDS; k++)
        for (int f64 = 0; f64 <= 1; f64++) {
            char context[64], weights[512], io_path[512];
            const char *tag = f64 ? "f64" : "f32";
            snprintf(context, sizeof context, "%s %s", kinds[k], tag);
            tg_test_context = context;
            file_path(weights, sizeof weights, kinds[k], tag, "");
            file_path(io_path, sizeof io_path, kinds[k], tag, "_io");
            tg_ffn_options o = {.kind = (tg_ffn_kind)k,
                                .dim = 16,
                                .hidden_dim = 64,
                                .multiple_of = 8,
                                .dtype = f64 ? TG_F64 : TG_F32};
            tg_module *ffn = tg_feedforward_new(&o, NULL);
            CHECK(ffn != NULL);
            CHECK(tg_module_load(ffn, weights) == 0); /* strict: names and shapes agree */
            tg_safetensors *io = tg_safetensors_open(io_path);
            CHECK(io != NULL);
            double rtol = f64 ? 1e-12 : 1e-5, atol = f64 ? 1e-12 : 1e-6;
            tg_tensor *y = tg_module_forward(ffn, tg_safetensors_get(io, "x"));
            tg_tensor *loss = tg_mse_loss(y, tg_safetensors_get(io, "target"), TG_REDUCTION_MEAN);
            double want[16 * 5];
            tg_to_doubles(tg_safetensors_get(io, "y"), want);
            CHECK_VALUES(y, want, 16 * 5, rtol, atol);
            CHECK_CLOSE(tg_item(loss), tg_item(tg_safetensors_get(io, "loss")), rtol, atol);
            CHECK(tg_backward(loss, NULL) == 0);
            int n;
            const tg_named_tensor *ps = tg_module_parameters(ffn, &n);
            for (int i = 0; i < n; i++) {
                char name[96];
                snprintf(name, sizeof name, "grad.%s", ps[i].name);
                tg_tensor *g = tg_safetensors_get(io, name);
                CHECK(g != NULL);
                double *gw = malloc(sizeof(double) * (size_t)tg_numel(g));
                tg_to_doubles(g, gw);
                CHECK_VALUES(tg_grad(ps[i].tensor), gw, tg_numel(g), rtol, atol);
                free(gw);
            }
            tg_safetensors_close(io);
            tg_module_free(ffn);
        }
}

static void dropout_only_in_training(void) {
    tg_ffn_options o = {.kind = TG_FFN_RELU, .dim = 8, .dropout = 0.5, .dtype = TG_F64};
    tg_module *ffn = tg_feedforward_new(&o, NULL);
    tg_tensor *x = tg_randn(TG_SHAPE(64, 8), TG_F64, NULL);
    tg_module_train(ffn, TG_EVAL);
    double a[512], b[512];
    tg_to_doubles(tg_module_forward(ffn, x), a);
    tg_to_doubles(tg_module_forward(ffn, x), b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    tg_module_train(ffn, TG_TRAIN);
    tg_to_doubles(tg_module_forward(ffn, x), b);
    int zeros = 0;
    for (int i = 0; i < 512; i++) zeros += b[i] == 0 && a[i] != 0;
    CHECK(zeros > 150 && zeros < 360);
    CHECK(tg_module_parameter(ffn, "w1.bias") != NULL);
    CHECK(tg_shape(tg_module_parameter(ffn, "w1.weight"))[0] == 32); /* 4 * dim */
    tg_module_free(ffn);
}

static void bad_options_and_inputs(void) {
    tg_ffn_options o = {.kind = TG_FFN_SWIGLU, .dim = 16, .hidden_dim = 64, .multiple_of = 0};
    CHECK(tg_feedforward_new(&o, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "FeedForward: multiple_of must be positive, not 0");
    o.multiple_of = 8;
    o.hidden_dim = -1;
    CHECK(tg_feedforward_new(&o, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "hidden_dim -1 not negative");
    o.hidden_dim = 1; /* 2 * 1 / 3 = 0: nothing left */
    CHECK(tg_feedforward_new(&o, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "FeedForward: hidden_dim 1 rounds to nothing");
    o.hidden_dim = 64;
    o.dropout = 1;
    CHECK(tg_feedforward_new(&o, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "FeedForward: dropout p must lie in [0, 1), not 1");
    o.dropout = 0;
    o.kind = (tg_ffn_kind)42;
    CHECK(tg_feedforward_new(&o, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "FeedForward: unknown kind 42");
    CHECK(tg_feedforward_new(NULL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "FeedForward");
    o.kind = TG_FFN_GEGLU;
    tg_module *ffn = tg_feedforward_new(&o, NULL);
    CHECK(tg_module_forward(ffn, tg_ones(TG_SHAPE(3, 15), TG_F32)) == NULL);
    CHECK(tg_last_status() == TG_ERR_SHAPE && strstr(tg_last_error(), "(3, 15)"));
    tg_clear_error();
    CHECK(tg_module_forward(ffn, tg_ones(TG_SHAPE(3, 16), TG_F64)) == NULL);
    CHECK(tg_last_status() == TG_ERR_DTYPE);
    tg_clear_error();
    tg_module_free(ffn);
    CHECK(tg_dropout_new(1.5, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Dropout: p must lie in [0, 1], not 1.5");
}

static void activation_modules(void) {
    tg_module *net = tg_sequential_new(3, (tg_module *[]){tg_prelu_new(1, 0.25, TG_F64),
                                                          tg_swish_new(1.5, TG_F64),
                                                          tg_activation_new(TG_ACT_TANH)});
    CHECK(net != NULL);
    int n;
    const tg_named_tensor *ps = tg_module_parameters(net, &n);
    CHECK(n == 2);
    CHECK_EQ_STR(ps[0].name, "0.weight");
    CHECK_EQ_STR(ps[1].name, "1.beta");
    double v[] = {-2, 3};
    tg_tensor *x = tg_test_tensor(v, TG_SHAPE(2), TG_F64);
    tg_tensor *y = tg_module_forward(net, x);
    double a = -0.5, b = 3 / (1 + exp(-4.5)); /* prelu then swish */
    double want[] = {tanh(a / (1 + exp(0.75))), tanh(b)};
    CHECK_VALUES(y, want, 2, 1e-12, 0);
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    CHECK(tg_grad(ps[0].tensor) && tg_grad(ps[1].tensor)); /* both learn */
    tg_module_free(net);
    CHECK(tg_prelu_new(0, 0.25, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "PReLU: num_parameters must be positive, not 0");
}

TG_TEST_MAIN(TG_CASE(hidden_dim_rounding), TG_CASE(hidden_dim_rounding_never_overflows),
             TG_CASE(worked_swiglu_shapes), TG_CASE(misplaced_parenthesis_is_a_shape_error),
             TG_CASE(matches_pytorch_modules), TG_CASE(dropout_only_in_training),
             TG_CASE(bad_options_and_inputs), TG_CASE(activation_modules))
