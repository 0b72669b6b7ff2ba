/* tests/test_errors.c - bad input never crashes: each failure returns NULL or
 * -1 with a message naming the op and the shapes. */
#include <stdint.h>

#include "tg_test.h"

static void shape_mismatch_names_op_and_shapes(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *b = tg_ones(TG_SHAPE(4), TG_F32);
    CHECK(tg_mul(a, b) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "mul: shapes (2, 3) and (4,) cannot be broadcast");
    CHECK(tg_add(a, tg_ones(TG_SHAPE(3, 3), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "add: shapes (2, 3) and (3, 3) cannot be broadcast");
    CHECK(tg_view(a, TG_SHAPE(4, 2)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "view: shape (4, 2) is invalid for input of shape (2, 3) (6 elements)");
    CHECK(tg_reshape(a, TG_SHAPE(-1, 4)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "reshape: shape (-1, 4) is invalid for input of shape (2, 3)");
    CHECK(tg_add_(a, tg_ones(TG_SHAPE(3, 2, 3), TG_F32), 1) == -1);
    CHECK_ERROR(TG_ERR_SHAPE,
                "add_: shape (3, 2, 3) cannot be broadcast to the output shape (2, 3)");
}

static void dtype_mismatch(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2), TG_F32), *b = tg_ones(TG_SHAPE(2), TG_F64);
    CHECK(tg_sub(a, b) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "sub: dtypes float32 and float64 differ (convert with tg_to_dtype)");
    CHECK(tg_mul_(a, b) == -1);
    CHECK_ERROR(TG_ERR_DTYPE, "mul_: dtypes float32 and float64 differ");
    CHECK(tg_copy_(a, b) == 0); /* copy_ converts, as PyTorch's does */
    CHECK(tg_zeros(TG_SHAPE(2), (tg_dtype)7) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "zeros: invalid dtype 7 (TG_F32, TG_F64, TG_I64 or TG_BOOL)");
}

/* A value that is no tg_dtype is named as such, and every function taking
 * a dtype refuses it, naming itself and the value. */
static void invalid_dtype_is_refused_everywhere(void) {
    const tg_dtype bad = (tg_dtype)-3;
    CHECK_EQ_STR(tg_dtype_name(bad), "invalid");
    CHECK(tg_dtype_size(bad) == 0);
    CHECK_EQ_STR(tg_dtype_name(TG_F64), "float64");
    float data[2] = {1, 2};
#define REFUSED(op, call)  \
    CHECK((call) == NULL); \
    CHECK_ERROR(TG_ERR_VALUE, op ": invalid dtype -3 (TG_F32, TG_F64, TG_I64 or TG_BOOL)")
    REFUSED("empty", tg_empty(TG_SHAPE(2), bad));
    REFUSED("ones", tg_ones(TG_SHAPE(2), bad));
    REFUSED("full", tg_full(TG_SHAPE(2), 1, bad));
    REFUSED("scalar", tg_scalar(1, bad));
    REFUSED("from_data", tg_from_data(data, TG_SHAPE(2), bad));
    REFUSED("from_buffer", tg_from_buffer(data, TG_SHAPE(2), bad, NULL, NULL));
    REFUSED("arange", tg_arange(0, 3, 1, bad));
    REFUSED("rand", tg_rand(TG_SHAPE(2), bad, NULL));
    REFUSED("randn", tg_randn(TG_SHAPE(2), bad, NULL));
    REFUSED("to_dtype", tg_to_dtype(tg_ones(TG_SHAPE(2), TG_F32), bad));
    REFUSED("Linear", tg_linear_new(2, 3, TG_BIAS, bad, NULL));
    REFUSED("PReLU", tg_prelu_new(1, 0.25, bad));
    REFUSED("Swish", tg_swish_new(1, bad));
    tg_ffn_options ffn = {.kind = TG_FFN_RELU, .dim = 2, .dtype = bad};
    REFUSED("FeedForward", tg_feedforward_new(&ffn, NULL));
#undef REFUSED
}

static void null_input_returns_null_and_keeps_first_message(void) {
    CHECK(tg_add(NULL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "add: argument is NULL");
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    /* A chain with a failure in the middle: one check at the end. */
    tg_tensor *out = tg_mean(tg_mul_scalar(tg_mul(x, tg_ones(TG_SHAPE(5), TG_F32)), 3));
    CHECK(out == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "mul: shapes (2, 3) and (5,) cannot be broadcast");
    CHECK(tg_backward(NULL, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "backward: argument is NULL");
    CHECK(isnan(tg_item(NULL)) && tg_print(NULL, stdout) == -1 && tg_repr(NULL) == NULL);
    CHECK(tg_add_(NULL, x, 1) == -1 && tg_zero_(NULL) == -1 && tg_copy_(x, NULL) == -1);
    CHECK(tg_from_data(NULL, TG_SHAPE(2), TG_F32) == NULL);
    CHECK(tg_from_buffer(NULL, TG_SHAPE(2), TG_F32, NULL, NULL) == NULL);
    CHECK(tg_view(NULL, TG_SHAPE(2)) == NULL && tg_transpose(NULL, 0, 1) == NULL);
    CHECK(tg_detach(NULL) == NULL && tg_clone(NULL) == NULL && tg_to_dtype(NULL, TG_F64) == NULL);
    CHECK(tg_requires_grad_(NULL, true) == NULL && tg_grad(NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "argument is NULL");
    tg_zero_grad(NULL); /* NULL-safe no-ops */
    tg_clear_grad(NULL);
    tg_release(NULL);
    CHECK(tg_retain(NULL) == NULL);
}

static void bad_shapes_and_dims(void) {
    CHECK(tg_zeros(TG_SHAPE(2, -1), TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "zeros: negative dimension in shape (2, -1)");
    CHECK(tg_ones(9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "ones: 9 dimensions (at most 8)");
    CHECK(tg_zeros(TG_SHAPE(INT64_C(1) << 40, INT64_C(1) << 40), TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_NOMEM, "zeros: shape (1099511627776, 1099511627776) is too large");
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_transpose(a, 0, 2) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "transpose: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_size(a, -3) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "size: dim -3 out of range");
}

static void inplace_from_an_overlapping_view_reads_old_values(void) {
    tg_tensor *a = tg_view(tg_arange(0, 4, 1, TG_F32), TG_SHAPE(2, 2));
    CHECK(tg_add_(a, tg_transpose(a, 0, 1), 1) == 0); /* a += a^T */
    double want[] = {0, 3, 3, 6};
    CHECK_VALUES(a, want, 4, 0, 0);
}

/* ---- out of memory: fail the k-th allocation, for every k ------------------------ */


/* The worked example, checked once at each fallible step. */
static int worked_example(void) {
    int rc = -1;
    tg_tensor *x = tg_ones(TG_SHAPE(2, 2), TG_F32);
    if (!x) return -1;
    tg_requires_grad_(x, true);
    tg_pool *pool = tg_pool_push();
    if (!pool) goto out;
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *loss = tg_mean(tg_mul_scalar(tg_mul(y, y), 3));
    if (loss && tg_backward(loss, NULL) == 0) rc = 0;
    tg_pool_pop(pool);
out:
    tg_release(x);
    return rc;
}

static int worked_example_scenario(void *ctx) {
    (void)ctx;
    return worked_example();
}

static int says_out_of_memory(void *ctx) {
    (void)ctx;
    return strstr(tg_last_error(), "out of memory") == NULL;
}

static void out_of_memory_at_every_allocation(void) {
    tg_pool_pop(tg_test_pool); /* allocations of the harness's pool would count too */
    tg_test_sweep r = tg_test_fail_each_allocation(worked_example_scenario, NULL,
                                                   says_out_of_memory);
    printf("  %ld allocations in the worked example; failing each in turn made %d calls fail, "
           "%d of them wrongly\n",
           r.allocations, r.failures, r.wrong);
    CHECK(r.allocations > 10);
    CHECK(r.failures > 10); /* most allocations are on the path */
    CHECK(r.wrong == 0);
    CHECK(worked_example() == 0);
}

/* tg_set_error records as tapegrad does, and may wrap the pending message. */
static void errors_set_by_the_user(void) {
    CHECK(tg_add(tg_ones(TG_SHAPE(2), TG_F32), tg_ones(TG_SHAPE(3), TG_F32)) == NULL);
    tg_set_error(tg_last_status(), "MyBlock: %s", tg_last_error());
    CHECK_ERROR(TG_ERR_SHAPE, "MyBlock: add: shapes (2,) and (3,) cannot be broadcast");
    tg_set_error(TG_ERR_VALUE, "MyBlock: dim %d must be positive", 0);
    CHECK_ERROR(TG_ERR_VALUE, "MyBlock: dim 0 must be positive");
    char long_message[600];
    memset(long_message, 'a', sizeof long_message - 1);
    long_message[sizeof long_message - 1] = '\0';
    tg_set_error(TG_ERR_IO, "%s", long_message);
    CHECK(tg_last_status() == TG_ERR_IO && strlen(tg_last_error()) == 511);
    tg_set_error(TG_OK, "ignored");
    CHECK(tg_last_status() == TG_OK && strcmp(tg_last_error(), "") == 0);
    tg_set_error(TG_ERR_VALUE, NULL);
    CHECK(tg_last_status() == TG_ERR_VALUE && strcmp(tg_last_error(), "") == 0);
    tg_clear_error();
}

TG_TEST_MAIN(TG_CASE(shape_mismatch_names_op_and_shapes), TG_CASE(dtype_mismatch),
             TG_CASE(invalid_dtype_is_refused_everywhere),
             TG_CASE(null_input_returns_null_and_keeps_first_message), TG_CASE(bad_shapes_and_dims),
             TG_CASE(inplace_from_an_overlapping_view_reads_old_values),
             TG_CASE(out_of_memory_at_every_allocation), TG_CASE(errors_set_by_the_user))
