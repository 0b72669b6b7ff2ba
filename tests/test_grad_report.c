/* tests/test_grad_report.c - tg_grad_report: each verdict and its printed
 * line, the reasons a hand gradient is wrong (an element off, a NaN, the
 * shape, the dtype, no gradient at all), empty tensors and tolerances. */
#include "tg_test.h"

/* The printed report, in a buffer kept until the next call. */
static const char *printed(const tg_grad_report *r) {
    static char text[4096];
    FILE *f = fmemopen(text, sizeof text, "w");
    if (!f) return "";
    int rc = tg_grad_report_print(r, f);
    fclose(f);
    return rc == 0 ? text : "";
}

/* W = [[1, 2, 3], [4, 5, 6]], a float64 leaf whose .grad is 2 W (the
 * gradient of sum(W * W)): [[2, 4, 6], [8, 10, 12]]. */
static tg_tensor *w_with_grad(void) {
    tg_tensor *w = tg_requires_grad_(
        tg_from_data((double[]){1, 2, 3, 4, 5, 6}, TG_SHAPE(2, 3), TG_F64), true);
    return tg_backward(tg_sum(tg_mul(w, w)), NULL) == 0 ? w : NULL;
}

static tg_tensor *f64(const double *v, int ndim, const int64_t *shape) {
    return tg_from_data(v, ndim, shape, TG_F64);
}

static void a_wrong_element_is_named_with_the_values_and_difference(void) {
    tg_tensor *w = w_with_grad();
    CHECK(w != NULL);
    tg_tensor *hand = f64((double[]){2, 4.25, 6, 8, 10, 11.5}, TG_SHAPE(2, 3));
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dW", hand, w) == TG_GRAD_WRONG);
    CHECK(!tg_grad_report_all_ok(r));
    const char *text = printed(r);
    tg_grad_report_free(r);
    CHECK_EQ_STR(text,
                 "  dW  wrong  (2, 3): 2 of 6 elements off; worst at [1, 2]: hand 11.5, autograd "
                 "12.0, difference -0.5; first at [0, 1]\n"
                 "  0 exact, 0 close, 1 wrong\n");
}

static void exact_close_and_wrong_lines_line_up_in_order(void) {
    tg_tensor *w = w_with_grad();
    CHECK(w != NULL);
    tg_tensor *nearly = tg_mul_scalar(tg_grad(w), 1 + 1e-12);
    tg_tensor *one_off = f64((double[]){2, 4, 6, 8, 10.5, 12}, TG_SHAPE(2, 3));
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dW", tg_grad(w), w) == TG_GRAD_EXACT);
    CHECK(tg_grad_report_all_ok(r));
    CHECK(tg_grad_report_check(r, "d weight", nearly, w) == TG_GRAD_CLOSE);
    CHECK(tg_grad_report_all_ok(r));
    CHECK(tg_grad_report_check(r, "w", one_off, w) == TG_GRAD_WRONG);
    CHECK(!tg_grad_report_all_ok(r));
    const char *text = printed(r);
    tg_grad_report_free(r);
    CHECK_EQ_STR(text,
                 "  dW        exact  (2, 3): all 6 elements bit-identical\n"
                 "  d weight  close  (2, 3): max |hand - autograd| 1.2e-11, max relative 1e-12 "
                 "(rtol 1e-07, atol 1e-07)\n"
                 "  w         wrong  (2, 3): 1 of 6 elements off; worst at [1, 1]: hand 10.5, "
                 "autograd 10.0, difference 0.5\n"
                 "  1 exact, 1 close, 1 wrong\n");
}

static void shape_and_dtype_mismatches_are_wrong_with_the_reason(void) {
    tg_tensor *w = w_with_grad();
    CHECK(w != NULL);
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dW", tg_transpose(tg_grad(w), 0, 1), w) == TG_GRAD_WRONG);
    CHECK(tg_grad_report_check(r, "dW", tg_to_dtype(tg_grad(w), TG_F32), w) == TG_GRAD_WRONG);
    CHECK(tg_grad_report_check(r, "dW", tg_reshape(tg_grad(w), TG_SHAPE(6)), w) == TG_GRAD_WRONG);
    const char *text = printed(r);
    tg_grad_report_free(r);
    CHECK_EQ_STR(text, "  dW  wrong  shape (3, 2), autograd's is (2, 3)\n"
                       "  dW  wrong  dtype float32, autograd's is float64\n"
                       "  dW  wrong  shape (6,), autograd's is (2, 3)\n"
                       "  0 exact, 0 close, 3 wrong\n");
}

static void nan_in_the_hand_gradient_is_the_worst_element(void) {
    tg_tensor *w = w_with_grad();
    CHECK(w != NULL);
    tg_tensor *hand = f64((double[]){2, 4, 7, NAN, 10, 12}, TG_SHAPE(2, 3));
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dW", hand, w) == TG_GRAD_WRONG);
    /* NaN is never close, even to NaN (torch.testing.assert_close's default) */
    tg_tensor *v = tg_requires_grad_(f64((double[]){NAN, 1}, TG_SHAPE(2)), true);
    CHECK(tg_backward(tg_sum(tg_mul(v, v)), NULL) == 0);
    CHECK(tg_grad_report_check(r, "dv", tg_grad(v), v) == TG_GRAD_WRONG);
    const char *text = printed(r);
    tg_grad_report_free(r);
    CHECK_EQ_STR(text,
                 "  dW  wrong  (2, 3): 2 of 6 elements off; worst at [1, 0]: hand nan, autograd "
                 "8.0, difference nan; first at [0, 2]\n"
                 "  dv  wrong  (2,): 1 of 2 elements off; worst at [0]: hand nan, autograd nan, "
                 "difference nan\n"
                 "  0 exact, 0 close, 2 wrong\n");
}

static void equal_infinities_agree_and_opposite_ones_do_not(void) {
    tg_tensor *v = tg_requires_grad_(f64((double[]){INFINITY, -INFINITY}, TG_SHAPE(2)), true);
    CHECK(tg_backward(tg_sum(tg_mul_scalar(tg_mul(v, v), 0.5)), NULL) == 0); /* grad v */
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dv", tg_clone(tg_grad(v)), v) == TG_GRAD_EXACT);
    tg_tensor *flipped = f64((double[]){-INFINITY, -INFINITY}, TG_SHAPE(2));
    CHECK(tg_grad_report_check(r, "dv", flipped, v) == TG_GRAD_WRONG);
    CHECK(strstr(printed(r), "worst at [0]: hand -inf, autograd inf, difference -inf"));
    tg_grad_report_free(r);
}

static void a_tensor_without_grad_or_a_null_hand_gradient_is_wrong(void) {
    tg_tensor *w = w_with_grad();
    tg_tensor *plain = tg_ones(TG_SHAPE(2, 3), TG_F64); /* never required grad */
    CHECK(w != NULL);
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dW", tg_grad(w), plain) == TG_GRAD_WRONG);
    CHECK(tg_grad_report_check(r, "dW", NULL, w) == TG_GRAD_WRONG);
    /* A hand computation whose op failed: the line quotes its message. */
    tg_tensor *failed = tg_matmul(w, w);
    CHECK(failed == NULL);
    CHECK(tg_grad_report_check(r, "dW", failed, w) == TG_GRAD_WRONG);
    tg_clear_error();
    const char *text = printed(r);
    tg_grad_report_free(r);
    CHECK_EQ_STR(text,
                 "  dW  wrong  autograd left no gradient in this tensor: pass the tensor itself "
                 "(not its tg_grad), after tg_backward, and make it require grad\n"
                 "  dW  wrong  no hand gradient (NULL): not computed yet\n"
                 "  dW  wrong  no hand gradient (NULL): matmul: shapes (2, 3) and (2, 3) "
                 "cannot be multiplied\n"
                 "  0 exact, 0 close, 3 wrong\n");
}

static void empty_tensors_and_an_empty_report(void) {
    tg_tensor *e = tg_requires_grad_(tg_zeros(TG_SHAPE(0, 3), TG_F64), true);
    CHECK(tg_backward(tg_sum(e), NULL) == 0);
    tg_grad_report *r = tg_grad_report_new();
    CHECK(!tg_grad_report_all_ok(r)); /* nothing checked is nothing right */
    CHECK(tg_last_status() == TG_OK);
    CHECK_EQ_STR(printed(r), "  0 exact, 0 close, 0 wrong\n");
    CHECK(tg_grad_report_check(r, "de", tg_zeros(TG_SHAPE(0, 3), TG_F64), e) == TG_GRAD_EXACT);
    CHECK(tg_grad_report_check(r, "de", tg_zeros(TG_SHAPE(3, 0), TG_F64), e) == TG_GRAD_WRONG);
    CHECK(!tg_grad_report_all_ok(r));
    CHECK_EQ_STR(printed(r), "  de  exact  (0, 3): no elements\n"
                             "  de  wrong  shape (3, 0), autograd's is (0, 3)\n"
                             "  1 exact, 0 close, 1 wrong\n");
    tg_grad_report_free(r);
}

static void tolerances_by_dtype_and_set_by_hand(void) {
    tg_tensor *w = w_with_grad();
    CHECK(w != NULL);
    tg_tensor *w32 = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F32), true);
    CHECK(tg_backward(tg_sum(w32), NULL) == 0); /* grad 1 */
    tg_tensor *off_1e6 = tg_to_dtype(f64((double[]){1 + 1e-6, 1}, TG_SHAPE(2)), TG_F32);
    tg_tensor *off_1e5 = tg_to_dtype(f64((double[]){1 + 3e-5, 1}, TG_SHAPE(2)), TG_F32);
    tg_grad_report *r = tg_grad_report_new();
    /* float32: rtol 1.3e-6, atol 1e-5 as torch.testing.assert_close */
    CHECK(tg_grad_report_check(r, "d32", off_1e6, w32) == TG_GRAD_CLOSE);
    CHECK(tg_grad_report_check(r, "d32", off_1e5, w32) == TG_GRAD_WRONG);
    /* float64: 1e-7 and 1e-7; 12 (1 + 1e-8) is close, 12 (1 + 2e-7) not */
    CHECK(tg_grad_report_check(r, "dW", tg_mul_scalar(tg_grad(w), 1 + 1e-8), w) == TG_GRAD_CLOSE);
    CHECK(tg_grad_report_check(r, "dW", tg_mul_scalar(tg_grad(w), 1 + 2e-7), w) == TG_GRAD_WRONG);
    CHECK(tg_grad_report_set_tolerance(r, 0, 0) == 0);
    CHECK(tg_grad_report_check(r, "dW", tg_mul_scalar(tg_grad(w), 1 + 1e-14), w) == TG_GRAD_WRONG);
    CHECK(tg_grad_report_check(r, "dW", tg_neg(tg_neg(tg_grad(w))), w) == TG_GRAD_EXACT);
    CHECK(tg_grad_report_set_tolerance(r, 0.1, 0) == 0);
    CHECK(tg_grad_report_check(r, "d32", off_1e5, w32) == TG_GRAD_CLOSE);
    CHECK(strstr(printed(r), "(rtol 0.1, atol 0)\n"));
    tg_grad_report_free(r);
}

/* Signed zeros are equal but not the same bits: close, not exact. */
static void negative_zero_is_close_not_exact(void) {
    tg_tensor *v = tg_requires_grad_(tg_zeros(TG_SHAPE(2), TG_F64), true);
    CHECK(tg_backward(tg_sum(tg_mul(v, v)), NULL) == 0); /* grad 2 v = +0 */
    tg_grad_report *r = tg_grad_report_new();
    CHECK(tg_grad_report_check(r, "dv", f64((double[]){-0.0, 0}, TG_SHAPE(2)), v) == TG_GRAD_CLOSE);
    tg_grad_report_free(r);
}

/* Lines enough to grow the report's array several times, names of any length. */
static void many_lines(void) {
    tg_tensor *w = w_with_grad();
    CHECK(w != NULL);
    tg_grad_report *r = tg_grad_report_new();
    char name[64];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "a rather long name of a gradient, number %d", i);
        CHECK(tg_grad_report_check(r, name, tg_grad(w), w) == TG_GRAD_EXACT);
    }
    CHECK(tg_grad_report_all_ok(r));
    const char *text = printed(r);
    tg_grad_report_free(r);
    CHECK(strstr(text, "  a rather long name of a gradient, number 39  exact  (2, 3)"));
    CHECK(strstr(text, "  40 exact, 0 close, 0 wrong\n"));
}

TG_TEST_MAIN(TG_CASE(a_wrong_element_is_named_with_the_values_and_difference),
             TG_CASE(exact_close_and_wrong_lines_line_up_in_order),
             TG_CASE(shape_and_dtype_mismatches_are_wrong_with_the_reason),
             TG_CASE(nan_in_the_hand_gradient_is_the_worst_element),
             TG_CASE(equal_infinities_agree_and_opposite_ones_do_not),
             TG_CASE(a_tensor_without_grad_or_a_null_hand_gradient_is_wrong),
             TG_CASE(empty_tensors_and_an_empty_report),
             TG_CASE(tolerances_by_dtype_and_set_by_hand),
             TG_CASE(negative_zero_is_close_not_exact), TG_CASE(many_lines))
