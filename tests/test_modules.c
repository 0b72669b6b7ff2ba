/* tests/test_modules.c - the module machinery: parameters and their names,
 * train/eval, containers, init, save/load; Linear against PyTorch. */
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

static void bad_module_arguments(void) {
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
             TG_CASE(bad_module_arguments))
