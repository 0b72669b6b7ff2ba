/* tests/test_worked_example.c - the worked example (x = ones(2, 2), out =
 * mean(3 (x + 2)^2)), its gradient and SGD steps, to PyTorch's printed digits. */
#include "tg_test.h"

static void out_is_27_grad_is_4_5_step_gives_0_55(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *z = tg_mul_scalar(tg_mul(y, y), 3);
    tg_tensor *out = tg_mean(z);
    char *text = tg_repr(out);
    CHECK_EQ_STR(text, "tensor(27., grad_fn=<MeanBackward0>)");
    free(text);
    CHECK(tg_item(out) == 27.0);
    CHECK(tg_backward(out, NULL) == 0);
    text = tg_repr(tg_grad(x));
    CHECK_EQ_STR(text, "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])");
    free(text);
    double grad[4] = {4.5, 4.5, 4.5, 4.5};
    CHECK_VALUES(tg_grad(x), grad, 4, 0, 0);

    bool previous = tg_set_grad_enabled(false);
    CHECK(tg_add_(x, tg_grad(x), -0.1) == 0);
    tg_set_grad_enabled(previous);
    float f055 = 0.55f; /* exactly the float32 PyTorch prints as 0.5500 */
    double step[4] = {f055, f055, f055, f055};
    CHECK_VALUES(x, step, 4, 0, 0);
    text = tg_repr(x);
    CHECK_EQ_STR(text, "tensor([[0.5500, 0.5500],\n        [0.5500, 0.5500]], requires_grad=True)");
    free(text);
}

/* The document's hand derivation, d out/d x_i = 0.25 * 6 y_i * 1 = 1.5 (x_i + 2),
 * at other points than x = 1. */
static void hand_derivation_holds_elsewhere(void) {
    double v[4] = {-2, 0, 0.5, 3};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(2, 2), TG_F32), true);
    tg_tensor *y = tg_add_scalar(x, 2);
    CHECK(tg_backward(tg_mean(tg_mul_scalar(tg_mul(y, y), 3)), NULL) == 0);
    double want[4];
    for (int i = 0; i < 4; i++) want[i] = 1.5 * (v[i] + 2);
    CHECK_VALUES(tg_grad(x), want, 4, 1e-7, 0);
}

TG_TEST_MAIN(TG_CASE(out_is_27_grad_is_4_5_step_gives_0_55),
             TG_CASE(hand_derivation_holds_elsewhere))
