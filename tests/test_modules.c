/* tests/test_modules.c - the module machinery: parameters and their names,
 * train/eval, containers, init, save/load; Linear against PyTorch; the
 * activation modules. */
#include <unistd.h>

#include "golden/golden_modules.h"
#include "tg_test.h"

static void linear_draws_pytorch_weights(void) {
    int n = (int)(sizeof golden_linears / sizeof golden_linears[0]);
    for (int i = 0; i < n; i++) {
        const golden_linear *c = &golden_linears[i];
        tg_test_context = c->name;
        tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
        tg_manual_seed(c->seed);
        tg_module *lin = tg_linear_new(c->in, c->out, TG_BIAS, dt, NULL);
        CHECK(lin != NULL);
        /* The same draws and the same roundings: bit for bit. */
        double tol = 0;
        CHECK_VALUES(tg_module_parameter(lin, "weight"), c->weight, c->in * c->out, tol, 0);
        CHECK_VALUES(tg_module_parameter(lin, "bias"), c->bias, c->out, tol, 0);
        tg_tensor *y = tg_module_forward(lin, tg_test_tensor(c->x, TG_SHAPE(2, c->in), dt));
        CHECK_VALUES(y, c->y, 2 * c->out, c->f64 ? 1e-12 : 1e-5, c->f64 ? 1e-12 : 1e-6);
        tg_module_free(lin);
    }
}

static void names_order_and_counts(void) {
    tg_module *layers[] = {tg_linear_new(4, 8, TG_BIAS, TG_F32, NULL),
                           tg_residual_new(tg_linear_new(8, 8, TG_NO_BIAS, TG_F32, NULL)),
                           tg_linear_new(8, 2, TG_BIAS, TG_F32, NULL)};
    tg_module *net = tg_sequential_new(3, layers);
    CHECK(net != NULL);
    int n;
    const tg_named_tensor *ps = tg_module_parameters(net, &n);
    const char *want[] = {"0.weight", "0.bias", "1.fn.weight", "2.weight", "2.bias"};
    CHECK(n == 5);
    for (int i = 0; i < n; i++) CHECK_EQ_STR(ps[i].name, want[i]);
    tg_tensor *const *ts = tg_module_parameter_tensors(net, &n);
    CHECK(n == 5 && ts[2] == ps[2].tensor && tg_requires_grad(ts[2]) && tg_is_leaf(ts[2]));
    CHECK(tg_module_num_elements(net) == 4 * 8 + 8 + 64 + 16 + 2);
    CHECK_EQ_STR(tg_module_name(net), "Sequential");
    CHECK(tg_module_parameter(net, "1.fn.bias") == NULL);
    tg_module_free(net);
}

static void train_and_eval_propagate(void) {
    tg_module *inner = tg_linear_new(2, 2, TG_BIAS, TG_F64, NULL);
    tg_module *net = tg_sequential_new(1, (tg_module *[]){tg_residual_new(inner)});
    CHECK(tg_module_is_training(net) && tg_module_is_training(inner));
    tg_module_train(net, TG_EVAL);
    CHECK(!tg_module_is_training(net) && !tg_module_is_training(inner));
    tg_module_free(net);
}

static void forward_backward_through_containers(void) {
    tg_manual_seed(3);
    tg_module *net = tg_residual_new(tg_linear_new(3, 3, TG_BIAS, TG_F64, NULL));
    tg_tensor *x = tg_rand(TG_SHAPE(4, 3), TG_F64, NULL);
    tg_tensor *y = tg_module_forward(net, x);
    CHECK(y && tg_ndim(y) == 2 && tg_shape(y)[1] == 3);
    CHECK(tg_backward(tg_mean(tg_mul(y, y)), NULL) == 0);
    tg_tensor *gw = tg_grad(tg_module_parameter(net, "fn.weight"));
    CHECK(gw != NULL);
    tg_module_zero_grad(net, TG_GRAD_TO_ZERO);
    CHECK(tg_item(tg_sum(tg_abs(gw))) == 0);
    tg_module_zero_grad(net, TG_GRAD_TO_NONE);
    CHECK(tg_grad(tg_module_parameter(net, "fn.weight")) == NULL);
    tg_module_free(net);
}

static void save_and_load_round_trip(void) {
    char path[] = "/tmp/tg-modules-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    tg_module *a = tg_sequential_new(2,
                                     (tg_module *[]){tg_linear_new(3, 4, TG_BIAS, TG_F32, NULL),
                                                     tg_linear_new(4, 1, TG_BIAS, TG_F32, NULL)});
    tg_module *b = tg_sequential_new(2,
                                     (tg_module *[]){tg_linear_new(3, 4, TG_BIAS, TG_F32, NULL),
                                                     tg_linear_new(4, 1, TG_BIAS, TG_F32, NULL)});
    CHECK(tg_module_save(a, path) == 0);
    CHECK(tg_module_load(b, path) == 0);
    tg_tensor *x = tg_rand(TG_SHAPE(2, 3), TG_F32, NULL);
    double ya[2];
    tg_to_doubles(tg_module_forward(a, x), ya);
    CHECK_VALUES(tg_module_forward(b, x), ya, 2, 0, 0);
    tg_module *c = tg_sequential_new(1,
                                     (tg_module *[]){tg_linear_new(3, 4, TG_BIAS, TG_F32, NULL)});
    CHECK(tg_module_load(c, path) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "holds an unexpected tensor '1.weight'");
    unlink(path);
    tg_module_free(a);
    tg_module_free(b);
    tg_module_free(c);
}

static void init_functions(void) {
    tg_tensor *w = tg_empty(TG_SHAPE(50, 40), TG_F64);
    CHECK(tg_init_xavier_uniform_(w, 1.0, NULL) == 0);
    double bound = sqrt(6.0 / 90), lo = 1, hi = -1;
    double *v = tg_data(w);
    for (int i = 0; i < 2000; i++) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    CHECK(lo >= -bound && hi <= bound && lo < -0.9 * bound && hi > 0.9 * bound);
    CHECK(tg_init_normal_(w, 2, 0.5, NULL) == 0);
    CHECK_CLOSE(tg_item(tg_mean(w)), 2, 0, 0.05);
    CHECK(tg_init_constant_(w, 3) == 0 && tg_item(tg_mean(w)) == 3);
    CHECK(tg_init_zeros_(w) == 0 && tg_item(tg_sum(w)) == 0);
    /* A strided view is filled in place through its own layout. */
    CHECK(tg_init_constant_(tg_transpose(w, 0, 1), 1) == 0 && tg_item(tg_sum(w)) == 2000);
    CHECK(tg_init_kaiming_uniform_(tg_ones(TG_SHAPE(3), TG_F32), 0, NULL) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "init_kaiming_uniform_: fan in and fan out need at least 2 dims");
    CHECK(tg_init_uniform_(w, 1, 0, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "init_uniform_: low 1 is greater than high 0");
    CHECK(tg_init_normal_(w, 0, -1, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "init_normal_: std -1 is negative");
}

/* Each activation module is its function under torch.nn's class name, with
 * no parameters; CELU and Hardtanh keep their settings. */
static void activation_modules_are_their_functions(void) {
    static const struct {
        tg_activation_kind kind;
        const char *name;
        tg_tensor *(*fn)(tg_tensor *);
    } acts[] = {
        {TG_ACT_RELU, "ReLU", tg_relu},
        {TG_ACT_SIGMOID, "Sigmoid", tg_sigmoid},
        {TG_ACT_TANH, "Tanh", tg_tanh},
        {TG_ACT_SILU, "SiLU", tg_silu},
        {TG_ACT_SELU, "SELU", tg_selu},
        {TG_ACT_RELU6, "ReLU6", tg_relu6},
        {TG_ACT_HARDSIGMOID, "Hardsigmoid", tg_hardsigmoid},
        {TG_ACT_HARDSWISH, "Hardswish", tg_hardswish},
        {TG_ACT_MISH, "Mish", tg_mish},
        {TG_ACT_LOGSIGMOID, "LogSigmoid", tg_logsigmoid},
        {TG_ACT_SOFTSIGN, "Softsign", tg_softsign},
        {TG_ACT_TANHSHRINK, "Tanhshrink", tg_tanhshrink},
    };
    tg_tensor *x = tg_mul_scalar(tg_randn(TG_SHAPE(3, 7), TG_F64, NULL), 4);
    double want[21], got[21];
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        tg_test_context = acts[i].name;
        tg_module *m = tg_activation_new(acts[i].kind);
        CHECK(m != NULL);
        CHECK_EQ_STR(tg_module_name(m), acts[i].name);
        CHECK(tg_module_num_elements(m) == 0);
        tg_to_doubles(acts[i].fn(x), want);
        CHECK(tg_to_doubles(tg_module_forward(m, x), got) == 0);
        CHECK(memcmp(want, got, sizeof want) == 0);
        tg_module_free(m);
    }
    tg_test_context = NULL;
    tg_module *celu = tg_celu_new(0.5), *hardtanh = tg_hardtanh_new(-0.5, 2);
    CHECK(celu && hardtanh);
    CHECK_EQ_STR(tg_module_name(celu), "CELU");
    CHECK_EQ_STR(tg_module_name(hardtanh), "Hardtanh");
    tg_to_doubles(tg_celu(x, 0.5), want);
    CHECK(tg_to_doubles(tg_module_forward(celu, x), got) == 0);
    CHECK(memcmp(want, got, sizeof want) == 0);
    tg_to_doubles(tg_hardtanh(x, -0.5, 2), want);
    CHECK(tg_to_doubles(tg_module_forward(hardtanh, x), got) == 0);
    CHECK(memcmp(want, got, sizeof want) == 0);
    tg_module_free(celu);
    tg_module_free(hardtanh);
}

static void bad_module_arguments(void) {
    CHECK(tg_activation_new((tg_activation_kind)(TG_ACT_TANHSHRINK + 1)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "activation_new: unknown activation 14");
    CHECK(tg_celu_new(0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "CELU: ZeroDivisionError: alpha cannot be 0 for CELU");
    CHECK(tg_hardtanh_new(1, 1) == NULL); /* nn.Hardtanh asserts max_val > min_val */
    CHECK_ERROR(TG_ERR_VALUE, "Hardtanh: max_val (1) must be greater than min_val (1)");
    CHECK(tg_hardtanh_new(NAN, 1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Hardtanh: max_val (1) must be greater than min_val (nan)");
    CHECK(tg_linear_new(0, 3, TG_BIAS, TG_F32, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Linear: in_features 0 and out_features 3 must be positive");
    CHECK(tg_sequential_new(2, (tg_module *[]){tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL), NULL}) ==
          NULL);
    CHECK_ERROR(TG_ERR_NULL, "Sequential: argument is NULL");
    CHECK(tg_sequential_new(2, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "Sequential: argument is NULL");
    CHECK(tg_residual_new(NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "Residual");
    tg_module *lin = tg_linear_new(3, 2, TG_BIAS, TG_F32, NULL);
    CHECK(tg_module_forward(lin, tg_ones(TG_SHAPE(4, 5), TG_F32)) == NULL);
    CHECK(tg_last_status() == TG_ERR_SHAPE && strstr(tg_last_error(), "(4, 5)"));
    tg_clear_error();
    CHECK(tg_module_forward(lin, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "Linear: argument is NULL");
    CHECK(tg_module_parameter(lin, "bias") != NULL);
    CHECK(tg_module_parameter(lin, "weights") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_parameter: Linear has no parameter 'weights'");
    CHECK(tg_module_parameter(lin, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "module_parameter: argument is NULL");
    tg_module_free(lin);
    tg_module_free(NULL);
}

TG_TEST_MAIN(TG_CASE(linear_draws_pytorch_weights), TG_CASE(names_order_and_counts),
             TG_CASE(train_and_eval_propagate), TG_CASE(forward_backward_through_containers),
             TG_CASE(save_and_load_round_trip), TG_CASE(init_functions),
             TG_CASE(activation_modules_are_their_functions), TG_CASE(bad_module_arguments))
