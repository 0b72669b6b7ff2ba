/* tests/test_dtypes.c - int64 and bool tensors: creation, printing (the
 * expected strings are PyTorch 1.13's repr), conversions as tensor.to(dtype)
 * gives them on x86-64, sums, files, and the errors of ops that take
 * floating-point tensors only. */
#include <stdint.h>
#include <unistd.h>

#include "tg_test.h"

static void repr_as_pytorch(const tg_tensor *t, const char *want) {
    char *got = tg_repr(t);
    CHECK_EQ_STR(got, want);
    free(got);
}

static void int64_and_bool_print_as_pytorch(void) {
    repr_as_pytorch(tg_from_data((int64_t[]){1, -20, 3}, TG_SHAPE(3), TG_I64),
                    "tensor([  1, -20,   3])");
    repr_as_pytorch(tg_from_data((uint8_t[]){1, 0, 0, 1}, TG_SHAPE(2, 2), TG_BOOL),
                    "tensor([[ True, False],\n        [False,  True]])");
    repr_as_pytorch(tg_empty(TG_SHAPE(0), TG_I64), "tensor([], dtype=torch.int64)");
    repr_as_pytorch(tg_empty(TG_SHAPE(0), TG_BOOL), "tensor([], dtype=torch.bool)");
    repr_as_pytorch(tg_empty(TG_SHAPE(2, 0), TG_I64), "tensor([], size=(2, 0), dtype=torch.int64)");
    repr_as_pytorch(tg_scalar(7, TG_I64), "tensor(7)");
    repr_as_pytorch(tg_scalar(1, TG_BOOL), "tensor(True)");
    /* beyond 2^53, exactly */
    repr_as_pytorch(
        tg_from_data((int64_t[]){(INT64_C(1) << 62) + 1, INT64_MIN}, TG_SHAPE(2), TG_I64),
        "tensor([ 4611686018427387905, -9223372036854775808])");
    repr_as_pytorch(tg_arange(0, 2000, 1, TG_I64),
                    "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
}

static void conversions_as_pytorch_on_x86_64(void) {
    tg_tensor *f = tg_from_data((double[]){1.5, -2.7, NAN, INFINITY, -INFINITY, 3e19}, TG_SHAPE(6),
                                TG_F64);
    repr_as_pytorch(tg_to_dtype(f, TG_I64),
                    "tensor([                   1,                   -2, -9223372036854775808,\n"
                    "        -9223372036854775808, -9223372036854775808, -9223372036854775808])");
    tg_tensor *z = tg_from_data((float[]){0.0f, -0.0f, NAN, 0.5f}, TG_SHAPE(4), TG_F32);
    repr_as_pytorch(tg_to_dtype(z, TG_BOOL), "tensor([False, False,  True,  True])");
    tg_tensor *b = tg_from_data((uint8_t[]){1, 0, 7}, TG_SHAPE(3), TG_BOOL); /* 7 reads as true */
    repr_as_pytorch(tg_to_dtype(b, TG_F32), "tensor([1., 0., 1.])");
    repr_as_pytorch(tg_to_dtype(b, TG_I64), "tensor([1, 0, 1])");
    tg_tensor *i = tg_from_data((int64_t[]){(INT64_C(1) << 53) + 1, -3, 0}, TG_SHAPE(3), TG_I64);
    repr_as_pytorch(tg_to_dtype(i, TG_BOOL), "tensor([ True,  True, False])");
    repr_as_pytorch(tg_to_dtype(i, TG_F64),
                    "tensor([ 9.0072e+15, -3.0000e+00,  0.0000e+00], dtype=torch.float64)");
    /* A strided int64 view converts element by element. */
    tg_tensor *m = tg_from_data((int64_t[]){1, 2, 3, 4, 5, 6}, TG_SHAPE(2, 3), TG_I64);
    repr_as_pytorch(tg_contiguous(tg_transpose(m, 0, 1)),
                    "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])");
    repr_as_pytorch(tg_to_dtype(tg_transpose(m, 0, 1), TG_F32),
                    "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])");
}

static void creation_as_pytorch(void) {
    repr_as_pytorch(tg_arange(0, 5, 1.5, TG_I64), "tensor([0, 1, 2, 3, 4])"); /* step 1 */
    repr_as_pytorch(tg_full(TG_SHAPE(2), 2.7, TG_I64), "tensor([2, 2])");
    repr_as_pytorch(tg_full(TG_SHAPE(2), -0.5, TG_BOOL), "tensor([True, True])");
    repr_as_pytorch(tg_zeros(TG_SHAPE(2), TG_BOOL), "tensor([False, False])");
    repr_as_pytorch(tg_ones(TG_SHAPE(3), TG_I64), "tensor([1, 1, 1])");
    tg_tensor *t = tg_from_data((int64_t[]){9007199254740993}, TG_SHAPE(1), TG_I64);
    CHECK(((int64_t *)tg_data(t))[0] == 9007199254740993); /* data is exact */
    CHECK(tg_item(t) == 9007199254740992.0);               /* a double rounds */
    CHECK(tg_dtype_size(TG_I64) == 8 && tg_dtype_size(TG_BOOL) == 1);
    CHECK(strcmp(tg_dtype_name(TG_I64), "int64") == 0 &&
          strcmp(tg_dtype_name(TG_BOOL), "bool") == 0);
    CHECK(tg_dtype_is_float(TG_F32) && tg_dtype_is_float(TG_F64));
    CHECK(!tg_dtype_is_float(TG_I64) && !tg_dtype_is_float(TG_BOOL));
    CHECK(tg_arange(0, 3, 1, TG_BOOL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "arange: not implemented for bool");
    CHECK(tg_rand(TG_SHAPE(2), TG_I64, NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "rand: draws floating-point numbers, not int64");
    CHECK(tg_randn(TG_SHAPE(2), TG_BOOL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "randn: draws floating-point numbers, not bool");
    CHECK(tg_zeros(TG_SHAPE(2), (tg_dtype)4) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "zeros: invalid dtype 4 (TG_F32, TG_F64, TG_I64 or TG_BOOL)");
}

static void views_and_copies_take_every_dtype(void) {
    tg_tensor *m = tg_from_data((int64_t[]){1, 2, 3, 4, 5, 6}, TG_SHAPE(2, 3), TG_I64);
    repr_as_pytorch(tg_reshape(m, TG_SHAPE(3, 2)),
                    "tensor([[1, 2],\n        [3, 4],\n        [5, 6]])");
    repr_as_pytorch(
        tg_cat(2, (tg_tensor *[]){m, m}, 0),
        "tensor([[1, 2, 3],\n        [4, 5, 6],\n        [1, 2, 3],\n        [4, 5, 6]])");
    repr_as_pytorch(tg_expand(tg_scalar(1, TG_BOOL), TG_SHAPE(2)), "tensor([True, True])");
    tg_tensor *c = tg_zeros(TG_SHAPE(2, 3), TG_I64);
    CHECK(tg_copy_(c, tg_full(TG_SHAPE(3), 2.5, TG_F32)) == 0);
    repr_as_pytorch(c, "tensor([[2, 2, 2],\n        [2, 2, 2]])");
    CHECK(tg_fill_(c, -4) == 0);
    repr_as_pytorch(tg_clone(c), "tensor([[-4, -4, -4],\n        [-4, -4, -4]])");
}

static void sums_of_int64_and_bool_are_int64(void) {
    tg_tensor *b = tg_from_data((uint8_t[]){1, 1, 0}, TG_SHAPE(3), TG_BOOL);
    repr_as_pytorch(tg_sum(b), "tensor(2)");
    tg_tensor *m = tg_from_data((int64_t[]){1, 2, 3, 4}, TG_SHAPE(2, 2), TG_I64);
    repr_as_pytorch(tg_sum_dims(m, 1, (int[]){0}, TG_DROP_DIMS), "tensor([4, 6])");
    repr_as_pytorch(tg_sum_dims(m, 1, (int[]){1}, TG_KEEP_DIMS), "tensor([[3],\n        [7]])");
    tg_tensor *big = tg_from_data((int64_t[]){INT64_C(1) << 60, 1}, TG_SHAPE(2), TG_I64);
    CHECK(((int64_t *)tg_data(tg_sum(big)))[0] == (INT64_C(1) << 60) + 1); /* exact */
    CHECK(tg_mean(m) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE,
                "mean: could not infer output dtype; the input must be floating-point, not int64");
    CHECK(tg_mean_dims(b, 1, (int[]){0}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(
        TG_ERR_DTYPE,
        "mean_dims: could not infer output dtype; the input must be floating-point, not bool");
}

static void int64_and_bool_never_require_grad(void) {
    tg_tensor *i = tg_zeros(TG_SHAPE(2), TG_I64);
    CHECK(tg_requires_grad_(i, true) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "requires_grad_: only tensors of floating point dtype can require "
                              "gradients (this one is int64)");
    CHECK(tg_requires_grad_(i, false) == i);
    /* Made from a tensor that requires grad, an int64 copy does not. */
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F64), true);
    tg_tensor *xi = tg_to_dtype(x, TG_I64);
    CHECK(xi && !tg_requires_grad(xi) && tg_grad_fn_name(xi) == NULL);
}

static void arithmetic_needs_floating_point(void) {
    tg_tensor *i = tg_ones(TG_SHAPE(2), TG_I64), *b = tg_ones(TG_SHAPE(2), TG_BOOL);
    CHECK(tg_exp(i) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE,
                "exp: expected a floating-point tensor, got int64 (convert with tg_to_dtype)");
    CHECK(tg_add(i, i) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "add: expected a floating-point tensor, got int64");
    CHECK(tg_matmul(b, b) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "matmul: expected a floating-point tensor, got bool");
    CHECK(tg_softmax(i, 0) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "softmax: expected a floating-point tensor, got int64");
    CHECK(tg_relu(b) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "relu: expected a floating-point tensor, got bool");
    CHECK(tg_dropout(i, 0.5, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "dropout: expected a floating-point tensor, got int64");
    CHECK(tg_glu(tg_ones(TG_SHAPE(4), TG_I64), 0) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "glu: expected a floating-point tensor, got int64");
    CHECK(tg_add(i, tg_ones(TG_SHAPE(2), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "add: dtypes int64 and float32 differ (convert with tg_to_dtype)");
}

static void safetensors_keep_int64_and_bool(void) {
    char path[] = "/tmp/tg_dtypes_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    tg_tensor *i = tg_from_data((int64_t[]){INT64_MIN, 3, INT64_MAX}, TG_SHAPE(3), TG_I64);
    tg_tensor *b = tg_from_data((uint8_t[]){1, 0}, TG_SHAPE(2, 1), TG_BOOL);
    CHECK(tg_save_safetensors(path, 2, (tg_named_tensor[]){{"labels", i}, {"mask", b}}) == 0);
    tg_safetensors *f = tg_safetensors_open(path);
    CHECK(f != NULL);
    tg_tensor *i2 = tg_safetensors_get(f, "labels"), *b2 = tg_safetensors_get(f, "mask");
    tg_safetensors_close(f);
    remove(path);
    CHECK(i2 && b2 && tg_dtype_of(i2) == TG_I64 && tg_dtype_of(b2) == TG_BOOL);
    CHECK(memcmp(tg_data(i2), tg_data(i), 3 * sizeof(int64_t)) == 0);
    repr_as_pytorch(b2, "tensor([[ True],\n        [False]])");
}

/* PyTorch meets a Python float in its default dtype, float32: 16777217 and
 * 16777216.5 are both 16777216 there (float64 would tell them apart);
 * an integral number is a Python int, compared in int64. */
static void numbers_meet_integers_as_in_pytorch(void) {
    tg_tensor *i = tg_from_data((int64_t[]){16777217, 3, (INT64_C(1) << 53) + 1}, TG_SHAPE(3),
                                TG_I64);
    repr_as_pytorch(tg_eq_scalar(i, 16777216.5), "tensor([ True, False, False])");
    repr_as_pytorch(tg_gt_scalar(i, 16777216.5), "tensor([False, False,  True])");
    repr_as_pytorch(tg_lt_scalar(i, 3.5), "tensor([False,  True, False])");
    repr_as_pytorch(tg_eq_scalar(i, 0x1p53), "tensor([False, False, False])"); /* as an int */
    tg_tensor *b = tg_from_data((uint8_t[]){1, 0}, TG_SHAPE(2), TG_BOOL);
    repr_as_pytorch(tg_eq_scalar(b, 1.00000001), "tensor([ True, False])"); /* 1 in float32 */
    repr_as_pytorch(tg_eq_scalar(b, 2), "tensor([False, False])");
}

/* PyTorch: "argmax_cpu" not implemented for 'Bool'. */
static void argmax_and_argmin_refuse_bool(void) {
    tg_tensor *b = tg_from_data((uint8_t[]){0, 1, 1, 0}, TG_SHAPE(2, 2), TG_BOOL);
    CHECK(tg_argmax(b, 1, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "argmax: not implemented for bool");
    CHECK(tg_argmin(b, 0, TG_KEEP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "argmin: not implemented for bool");
    tg_tensor *at;
    repr_as_pytorch(tg_max_dim(b, 1, TG_DROP_DIMS, &at), "tensor([True, True])");
    repr_as_pytorch(at, "tensor([1, 0])");
}

/* Past INT64_MAX an int64 sum wraps around, as PyTorch's does (and C's
 * signed overflow, undefined, is not what computes it: UBSan would say). */
static void int64_sums_wrap_as_in_pytorch(void) {
    tg_tensor *i = tg_from_data((int64_t[]){INT64_MAX, 1, 2, 3}, TG_SHAPE(2, 2), TG_I64);
    repr_as_pytorch(tg_sum(i), "tensor(-9223372036854775803)");
    repr_as_pytorch(tg_sum_dims(i, 1, (int[]){0}, TG_DROP_DIMS),
                    "tensor([-9223372036854775807,                    4])");
}

TG_TEST_MAIN(TG_CASE(int64_and_bool_print_as_pytorch), TG_CASE(conversions_as_pytorch_on_x86_64),
             TG_CASE(creation_as_pytorch), TG_CASE(views_and_copies_take_every_dtype),
             TG_CASE(sums_of_int64_and_bool_are_int64), TG_CASE(int64_and_bool_never_require_grad),
             TG_CASE(arithmetic_needs_floating_point), TG_CASE(safetensors_keep_int64_and_bool),
             TG_CASE(numbers_meet_integers_as_in_pytorch), TG_CASE(argmax_and_argmin_refuse_bool),
             TG_CASE(int64_sums_wrap_as_in_pytorch))
