/* tests/test_dtypes.c - int64 and bool tensors: creation, printing (the
 * expected strings are PyTorch 1.13's repr), conversions as tensor.to(dtype)
 * gives them on x86-64, sums, files, and the errors of ops that take
 * floating-point tensors only; then against PyTorch's values
 * (golden/golden_dtypes.h): comparisons, where, max/min along a dim and
 * argmax/argmin, sums, conversions and printing, each on contiguous and
 * strided inputs; and every view op on int64 and bool tensors. */
#include <stdint.h>
#include <unistd.h>

#include "golden/golden_dtypes.h"
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
    CHECK(tg_sub(b, b) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "sub: not implemented for bool tensors (convert with tg_to_dtype)");
    CHECK(tg_neg(b) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "neg: not implemented for bool tensors");
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

/* The strings are PyTorch 1.13's: int64 wraps around, bool + is or, a
 * fractional number or true division gives float32. */
static void integer_arithmetic_as_pytorch(void) {
    tg_tensor *a = tg_from_data((int64_t[]){5, -7, INT64_C(1) << 62}, TG_SHAPE(3), TG_I64);
    tg_tensor *b = tg_from_data((int64_t[]){2, 2, 4}, TG_SHAPE(3), TG_I64);
    repr_as_pytorch(tg_add(a, b),
                    "tensor([                  7,                  -5, 4611686018427387908])");
    repr_as_pytorch(tg_sub(a, b),
                    "tensor([                  3,                  -9, 4611686018427387900])");
    repr_as_pytorch(tg_mul(a, b), "tensor([ 10, -14,   0])");
    repr_as_pytorch(tg_neg(a),
                    "tensor([                  -5,                    7, -4611686018427387904])");
    repr_as_pytorch(tg_add_scalar(a, 2),
                    "tensor([                  7,                  -5, 4611686018427387906])");
    repr_as_pytorch(tg_mul_scalar(a, 3),
                    "tensor([                  15,                  -21, -4611686018427387904])");
    repr_as_pytorch(tg_rsub_scalar(a, 3),
                    "tensor([                  -2,                   10, -4611686018427387901])");
    repr_as_pytorch(tg_add_scalar(a, 2.5), "tensor([ 7.5000e+00, -4.5000e+00,  4.6117e+18])");
    repr_as_pytorch(tg_mul_scalar(a, 0.5), "tensor([ 2.5000e+00, -3.5000e+00,  2.3058e+18])");
    repr_as_pytorch(tg_div(a, b), "tensor([ 2.5000e+00, -3.5000e+00,  1.1529e+18])");
    repr_as_pytorch(tg_div_scalar(a, 2), "tensor([ 2.5000e+00, -3.5000e+00,  2.3058e+18])");
    repr_as_pytorch(tg_neg(tg_scalar(-0x1p63, TG_I64)), "tensor(-9223372036854775808)");
    tg_tensor *t = tg_from_data((uint8_t[]){1, 0}, TG_SHAPE(2), TG_BOOL);
    repr_as_pytorch(tg_add(t, t), "tensor([ True, False])");
    repr_as_pytorch(tg_mul(t, t), "tensor([ True, False])");
    repr_as_pytorch(tg_add_scalar(t, 2), "tensor([3, 2])");
    repr_as_pytorch(tg_mul_scalar(t, 1.5), "tensor([1.5000, 0.0000])");
    repr_as_pytorch(tg_div(t, t), "tensor([1., nan])");
    /* broadcasting, and a strided operand */
    tg_tensor *m = tg_from_data((int64_t[]){1, 2, 3, 4, 5, 6}, TG_SHAPE(2, 3), TG_I64);
    repr_as_pytorch(
        tg_add(tg_transpose(m, 0, 1), tg_from_data((int64_t[]){10, 20}, TG_SHAPE(2), TG_I64)),
        "tensor([[11, 24],\n        [12, 25],\n        [13, 26]])");
}

/* Saves a and b to a safetensors file and reads them back into *a2, *b2
 * (NULL on failure). */
static void save_and_load(tg_tensor *a, tg_tensor *b, tg_tensor **a2, tg_tensor **b2) {
    char path[] = "/tmp/tg_dtypes_XXXXXX";
    int fd = mkstemp(path);
    *a2 = *b2 = NULL;
    if (fd < 0) return;
    close(fd);
    tg_safetensors *f = tg_save_safetensors(path, 2, (tg_named_tensor[]){{"a", a}, {"b", b}}) == 0
                            ? tg_safetensors_open(path)
                            : NULL;
    if (f) *a2 = tg_safetensors_get(f, "a"), *b2 = tg_safetensors_get(f, "b");
    tg_safetensors_close(f);
    remove(path);
}

static void safetensors_keep_int64_and_bool(void) {
    tg_tensor *i = tg_from_data((int64_t[]){INT64_MIN, 3, INT64_MAX}, TG_SHAPE(3), TG_I64);
    tg_tensor *b = tg_from_data((uint8_t[]){1, 0}, TG_SHAPE(2, 1), TG_BOOL), *i2, *b2;
    save_and_load(i, b, &i2, &b2);
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

/* ---- Against PyTorch (golden/golden_dtypes.h) ------------------------------------------------- */

/* The tensor a golden record describes, contiguous. */
static tg_tensor *golden(const golden_tensor *g) {
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++) n *= g->shape[d];
    if (g->f) return tg_test_tensor(g->f, g->ndim, g->shape, g->dtype);
    if (g->dtype == TG_I64) return tg_from_data(g->i, g->ndim, g->shape, TG_I64);
    uint8_t *bytes = malloc((size_t)n + 1);
    for (int64_t k = 0; bytes && k < n; k++) bytes[k] = (uint8_t)g->i[k];
    tg_tensor *t = bytes ? tg_from_data(bytes, g->ndim, g->shape, TG_BOOL) : NULL;
    free(bytes);
    return t;
}

/* A copy of t that is not contiguous: every other element of a buffer one
 * dim larger. */
static tg_tensor *strided(tg_tensor *t) {
    int nd = tg_ndim(t);
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, tg_shape(t), sizeof(int64_t) * (size_t)nd);
    shape[nd] = 2;
    tg_tensor *buf = tg_zeros(nd + 1, shape, tg_dtype_of(t));
    tg_tensor *view = tg_squeeze_dim(tg_slice(buf, nd, 0, 1, 1), nd);
    if (!view || tg_copy_(view, t) != 0) return NULL;
    return view;
}

/* got holds want's dtype, shape and values: equal bits for floats (NaN
 * any NaN, zeros of their sign), equal integers. Says why not in why. */
static bool matches(const tg_tensor *got, const golden_tensor *want, char *why, size_t n) {
    if (!got) return snprintf(why, n, "NULL: %s", tg_last_error()), false;
    if (tg_dtype_of(got) != want->dtype || tg_ndim(got) != want->ndim)
        return snprintf(why, n, "%s with %d dims, want %s with %d", tg_dtype_name(tg_dtype_of(got)),
                        tg_ndim(got), tg_dtype_name(want->dtype), want->ndim),
               false;
    for (int d = 0; d < want->ndim; d++)
        if (tg_size(got, d) != want->shape[d])
            return snprintf(why, n, "size %lld of dim %d, want %lld", (long long)tg_size(got, d), d,
                            (long long)want->shape[d]),
                   false;
    tg_tensor *c = tg_contiguous((tg_tensor *)got);
    for (int64_t k = 0; k < tg_numel(got); k++) {
        if (want->f) {
            double v = tg_dtype_of(c) == TG_F32 ? ((const float *)tg_data(c))[k]
                                                : ((const double *)tg_data(c))[k];
            double w = want->f[k];
            if (isnan(w) ? !isnan(v) : (v != w || signbit(v) != signbit(w)))
                return snprintf(why, n, "[%lld] = %.17g, want %.17g", (long long)k, v, w), false;
        } else {
            int64_t v = tg_dtype_of(c) == TG_I64 ? ((const int64_t *)tg_data(c))[k]
                                                 : ((const uint8_t *)tg_data(c))[k];
            if (v != want->i[k])
                return snprintf(why, n, "[%lld] = %lld, want %lld", (long long)k, (long long)v,
                                (long long)want->i[k]),
                       false;
        }
    }
    return true;
}

#define CHECK_MATCHES(got, want)                                                  \
    do {                                                                          \
        char why_[256];                                                           \
        if (!matches((got), (want), why_, sizeof why_)) {                         \
            char m_[512];                                                         \
            snprintf(m_, sizeof m_, "%s does not match PyTorch: %s", #got, why_); \
            tg_test_fail(__FILE__, __LINE__, m_);                                 \
            return;                                                               \
        }                                                                         \
    } while (0)

typedef tg_tensor *(*compare_fn)(tg_tensor *, tg_tensor *);
typedef tg_tensor *(*compare_scalar_fn)(tg_tensor *, double);

static void comparisons_match_pytorch(void) {
    static const struct {
        const char *name;
        compare_fn tensor;
        compare_scalar_fn scalar;
    } ops[] = {{"eq", tg_eq, tg_eq_scalar}, {"ne", tg_ne, tg_ne_scalar},
               {"lt", tg_lt, tg_lt_scalar}, {"le", tg_le, tg_le_scalar},
               {"gt", tg_gt, tg_gt_scalar}, {"ge", tg_ge, tg_ge_scalar}};
    char context[96];
    for (size_t i = 0; i < sizeof golden_compares / sizeof golden_compares[0]; i++) {
        const golden_compare *c = &golden_compares[i];
        size_t k = 0;
        while (strcmp(ops[k].name, c->op)) k++;
        for (int layout = 0; layout < 2; layout++) { /* contiguous, then strided */
            snprintf(context, sizeof context, "compare #%zu (%s, %s%s, %g)%s", i, c->op,
                     tg_dtype_name(c->a.dtype), c->scalar ? " with a number" : "", c->s,
                     layout ? ", strided" : "");
            tg_test_context = context;
            tg_tensor *a = golden(&c->a), *b = c->scalar ? NULL : golden(&c->b);
            if (layout) a = strided(a), b = b ? strided(b) : NULL;
            CHECK_MATCHES(c->scalar ? ops[k].scalar(a, c->s) : ops[k].tensor(a, b), &c->out);
        }
    }
}

static void where_matches_pytorch(void) {
    char context[64];
    for (size_t i = 0; i < sizeof golden_wheres / sizeof golden_wheres[0]; i++) {
        const golden_where *c = &golden_wheres[i];
        bool f64 = c->a.dtype == TG_F64;
        for (int layout = 0; layout < 2; layout++) {
            snprintf(context, sizeof context, "where #%zu (%s)%s", i, tg_dtype_name(c->a.dtype),
                     layout ? ", strided" : "");
            tg_test_context = context;
            tg_tensor *cond = golden(&c->cond), *a = golden(&c->a), *b = golden(&c->b);
            if (layout) cond = strided(cond), a = strided(a), b = strided(b);
            if (c->w) tg_requires_grad_(a, true), tg_requires_grad_(b, true);
            tg_tensor *out = tg_where(cond, a, b);
            CHECK_MATCHES(out, &c->out);
            if (!c->w) continue;
            CHECK_EQ_STR(tg_grad_fn_name(out), "WhereBackward0");
            tg_tensor *w = tg_test_tensor(c->w, tg_ndim(out), tg_shape(out), tg_dtype_of(out));
            CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
            CHECK_VALUES(tg_grad(a), c->ga, tg_numel(a), f64 ? 1e-12 : 1e-6, 0);
            CHECK_VALUES(tg_grad(b), c->gb, tg_numel(b), f64 ? 1e-12 : 1e-6, 0);
        }
    }
}

static tg_tensor *f_where(tg_tensor *const *in, void *ctx) {
    return tg_where((tg_tensor *)ctx, in[0], in[1]);
}

static void gradcheck_where(void) {
    static const int64_t shapes[][3][4] = {/* ndim, then the shape: cond, a, b */
                                           {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
                                           {{2, 3, 1}, {2, 1, 4}, {1, 4}},
                                           {{3, 2, 1, 3}, {1, 3}, {0}}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        tg_test_context = k == 0 ? "same shapes" : k == 1 ? "broadcast" : "0-dim b";
        const int64_t *cs = shapes[k][0], *as = shapes[k][1], *bs = shapes[k][2];
        tg_tensor *cond = tg_gt_scalar(tg_randn((int)cs[0], cs + 1, TG_F64, NULL), 0);
        tg_tensor *in[2] = {tg_requires_grad_(tg_randn((int)as[0], as + 1, TG_F64, NULL), true),
                            tg_requires_grad_(tg_randn((int)bs[0], bs + 1, TG_F64, NULL), true)};
        CHECK(tg_gradcheck(f_where, cond, 2, in, NULL) == 0);
    }
}

static void extremes_match_pytorch(void) {
    char context[96];
    for (size_t i = 0; i < sizeof golden_extremes / sizeof golden_extremes[0]; i++) {
        const golden_extreme *c = &golden_extremes[i];
        bool by_dim = !strcmp(c->op, "max_dim") || !strcmp(c->op, "min_dim");
        for (int layout = 0; layout < 2; layout++) {
            snprintf(context, sizeof context, "%s #%zu (%s, dim %d%s)%s", c->op, i,
                     tg_dtype_name(c->x.dtype), c->dim, c->keepdim ? ", keepdim" : "",
                     layout ? ", strided" : "");
            tg_test_context = context;
            tg_tensor *x = layout ? strided(golden(&c->x)) : golden(&c->x);
            if (c->w) tg_requires_grad_(x, true);
            tg_keepdim keep = c->keepdim ? TG_KEEP_DIMS : TG_DROP_DIMS;
            tg_tensor *values = NULL, *indices = NULL;
            if (by_dim)
                values = (c->op[1] == 'a' ? tg_max_dim : tg_min_dim)(x, c->dim, keep, &indices);
            else
                indices = (c->op[4] == 'a' ? tg_argmax : tg_argmin)(x, c->dim, keep);
            if (c->error) { /* PyTorch refuses it: so does tapegrad */
                CHECK(values == NULL && indices == NULL);
                CHECK_ERROR(TG_ERR_DTYPE, "not implemented for bool");
                continue;
            }
            if (by_dim) CHECK_MATCHES(values, &c->values);
            CHECK_MATCHES(indices, &c->indices);
            if (!c->w) continue;
            tg_tensor *w = tg_test_tensor(c->w, tg_ndim(values), tg_shape(values), c->x.dtype);
            CHECK(tg_backward(tg_sum(tg_mul(values, w)), NULL) == 0);
            CHECK_VALUES(tg_grad(x), c->grad, tg_numel(x), 0, 0);
        }
    }
}

static tg_tensor *f_extreme(tg_tensor *const *in, void *ctx) {
    int which = *(const int *)ctx; /* max or min, along dim 1 or -1 */
    tg_tensor *x = which & 2 ? tg_transpose(in[0], 0, 2) : in[0];
    return (which & 1 ? tg_min_dim : tg_max_dim)(x, which & 2 ? -1 : 1, TG_DROP_DIMS, NULL);
}

static void gradcheck_max_and_min_dim(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(3, 4, 5), TG_F64, NULL), true);
    for (int which = 0; which < 4; which++) {
        tg_test_context = which & 2 ? "transposed, dim -1" : "dim 1";
        CHECK(tg_gradcheck(f_extreme, &which, 1, &x, NULL) == 0);
    }
}

static void sums_match_pytorch(void) {
    char context[64];
    for (size_t i = 0; i < sizeof golden_sums / sizeof golden_sums[0]; i++) {
        const golden_sum *c = &golden_sums[i];
        for (int layout = 0; layout < 2; layout++) {
            snprintf(context, sizeof context, "sum #%zu (%s)%s", i, tg_dtype_name(c->x.dtype),
                     layout ? ", strided" : "");
            tg_test_context = context;
            tg_tensor *x = golden(&c->x);
            if (layout) x = strided(x);
            tg_keepdim keep = c->keepdim ? TG_KEEP_DIMS : TG_DROP_DIMS;
            CHECK_MATCHES(c->all ? tg_sum(x) : tg_sum_dims(x, c->n_dims, c->dims, keep), &c->out);
        }
    }
    /* PyTorch refuses their mean; so does tapegrad, in its words */
    tg_test_context = NULL;
    for (int k = 0; k < 4; k++) {
        tg_tensor *x = tg_zeros(TG_SHAPE(2), k < 2 ? TG_I64 : TG_BOOL);
        CHECK(strstr(golden_mean_errors[k], "could not infer output dtype"));
        CHECK((k % 2 ? tg_mean_dims(x, 1, (int[]){0}, TG_DROP_DIMS) : tg_mean(x)) == NULL);
        CHECK_ERROR(TG_ERR_DTYPE, "could not infer output dtype");
    }
}

static void conversions_match_pytorch(void) {
    char context[64];
    for (size_t i = 0; i < sizeof golden_conversions / sizeof golden_conversions[0]; i++) {
        const golden_conversion *c = &golden_conversions[i];
        for (int layout = 0; layout < 2; layout++) {
            snprintf(context, sizeof context, "%s to %s%s", tg_dtype_name(c->x.dtype),
                     tg_dtype_name(c->out.dtype), layout ? ", strided" : "");
            tg_test_context = context;
            tg_tensor *x = golden(&c->x);
            CHECK_MATCHES(tg_to_dtype(layout ? strided(x) : x, c->out.dtype), &c->out);
        }
    }
}

static void printing_matches_pytorch(void) {
    char context[32];
    for (size_t i = 0; i < sizeof golden_reprs / sizeof golden_reprs[0]; i++) {
        const golden_repr *c = &golden_reprs[i];
        snprintf(context, sizeof context, "repr #%zu", i);
        tg_test_context = context;
        tg_tensor *x = golden(&c->x);
        repr_as_pytorch(c->transposed ? tg_transpose(x, 0, 1) : x, c->repr);
        if (c->transposed) continue;
        repr_as_pytorch(strided(x), c->repr);
    }
}

/* ---- Every view op and copy on int64 and bool tensors ---------------------------------------
 * Each op runs on a float64 tensor of positions k and on an int64 tensor
 * of 2^60 + k, then a bool one of k % 3 == 0: the int64 result must be
 * 2^60 plus the float64 one exactly (a trip through a double would lose
 * the low bits), the bool one its pattern, both of their own dtype. */

static tg_tensor *piece(int n, tg_tensor **pieces, int k) { return n > k ? pieces[k] : NULL; }

static tg_tensor *view_op(int op, tg_tensor *t) {
    tg_tensor *pieces[8];
    switch (op) {
    case 0: return tg_transpose(t, 0, 2);
    case 1: return tg_permute(t, 3, (int[]){2, 0, 1});
    case 2: return tg_reshape(t, TG_SHAPE(4, -1));
    case 3: return tg_view(tg_contiguous(t), TG_SHAPE(6, 4));
    case 4: return tg_expand(tg_unsqueeze(t, 1), TG_SHAPE(-1, 3, -1, -1));
    case 5: return tg_squeeze(tg_unsqueeze(tg_unsqueeze(t, 0), -1));
    case 6: return tg_squeeze_dim(tg_slice(t, 1, 1, 2, 1), 1);
    case 7: return tg_slice(t, 2, -3, INT64_MAX, 2);
    case 8: return tg_cat(3, (tg_tensor *[]){t, tg_slice(t, 0, 1, 2, 1), t}, 0);
    case 9: return tg_cat(2, (tg_tensor *[]){t, tg_transpose(tg_transpose(t, 1, 2), 1, 2)}, -1);
    case 10: return tg_contiguous(tg_transpose(t, 1, 2));
    case 11: return tg_clone(tg_transpose(t, 0, 1));
    case 12: return tg_detach(t);
    case 13: return piece(tg_split(t, 2, 1, pieces, 8), pieces, 1);
    case 14: return piece(tg_chunk(t, 2, 2, pieces, 8), pieces, 1);
    case 15: return piece(tg_split_with_sizes(t, 3, (int64_t[]){1, 0, 3}, 2, pieces, 8), pieces, 2);
    case 16: return tg_index_select(t, 2, tg_from_data((int64_t[]){3, 0, 3}, TG_SHAPE(3), TG_I64));
    case 17: return tg_to_dtype(t, tg_dtype_of(t));
    case 18: return tg_reshape(tg_transpose(t, 0, 2), TG_SHAPE(24)); /* a copy */
    case 19: return tg_contiguous(tg_expand(tg_slice(t, 0, 0, 1, 1), TG_SHAPE(3, -1, -1, -1)));
    default: return NULL;
    }
}
enum { VIEW_OPS = 20 };

static void view_ops_keep_int64_and_bool(void) {
    const int64_t big = INT64_C(1) << 60;
    char context[48];
    for (int strided_input = 0; strided_input < 2; strided_input++) {
        /* (2, 3, 4) positions, contiguous or read through a permutation */
        tg_tensor *pos = tg_reshape(tg_arange(0, 24, 1, TG_F64), TG_SHAPE(2, 3, 4));
        if (strided_input)
            pos = tg_permute(tg_reshape(tg_arange(0, 24, 1, TG_F64), TG_SHAPE(4, 2, 3)), 3,
                             (int[]){1, 2, 0});
        tg_tensor *big_t = tg_scalar((double)big, TG_I64); /* exact: 2^60 */
        tg_tensor *pos_i = tg_to_dtype(pos, TG_I64), *ints = tg_zeros(TG_SHAPE(2, 3, 4), TG_I64);
        CHECK(tg_copy_(ints, pos_i) == 0);
        int64_t *iv = tg_data(ints);
        for (int k = 0; k < 24; k++) iv[k] += ((int64_t *)tg_data(big_t))[0];
        tg_tensor *bools = tg_eq_scalar(tg_to_dtype(pos, TG_F64), 0); /* then k % 3 == 0 */
        uint8_t *bv = tg_data(bools);
        for (int k = 0; k < 24; k++) bv[k] = (iv[k] - big) % 3 == 0;
        if (strided_input) { /* the same values, through the same strides as pos */
            ints = tg_permute(tg_contiguous(tg_permute(ints, 3, (int[]){2, 0, 1})), 3,
                              (int[]){1, 2, 0});
            bools = tg_permute(tg_contiguous(tg_permute(bools, 3, (int[]){2, 0, 1})), 3,
                               (int[]){1, 2, 0});
            CHECK(!tg_is_contiguous(ints) && !tg_is_contiguous(bools));
        }
        for (int op = 0; op < VIEW_OPS; op++) {
            snprintf(context, sizeof context, "view op %d%s", op,
                     strided_input ? ", strided input" : "");
            tg_test_context = context;
            tg_tensor *want = view_op(op, pos), *got_i = view_op(op, ints);
            tg_tensor *got_b = view_op(op, bools);
            CHECK(want && got_i && got_b);
            CHECK(tg_dtype_of(got_i) == TG_I64 && tg_dtype_of(got_b) == TG_BOOL);
            CHECK(tg_ndim(got_i) == tg_ndim(want) && tg_ndim(got_b) == tg_ndim(want));
            for (int d = 0; d < tg_ndim(want); d++)
                CHECK(tg_size(got_i, d) == tg_size(want, d) &&
                      tg_size(got_b, d) == tg_size(want, d));
            tg_tensor *w = tg_contiguous(want), *gi = tg_contiguous(got_i);
            tg_tensor *gb = tg_contiguous(got_b);
            for (int64_t k = 0; k < tg_numel(want); k++) {
                int64_t at = (int64_t)((const double *)tg_data(w))[k];
                CHECK(((const int64_t *)tg_data(gi))[k] == big + at);
                CHECK(((const uint8_t *)tg_data(gb))[k] == (at % 3 == 0));
            }
            /* a view shares its input's storage whatever the dtype */
            CHECK(tg_shares_storage(want, pos) == tg_shares_storage(got_i, ints));
            CHECK(tg_shares_storage(want, pos) == tg_shares_storage(got_b, bools));
        }
    }
}

/* Writes through int64 and bool views (copy_ and fill_ reach the right
 * elements, exactly), and files saved from them. */
static void writes_through_int64_and_bool_views(void) {
    tg_tensor *m = tg_zeros(TG_SHAPE(2, 3), TG_I64), *b = tg_zeros(TG_SHAPE(2, 3), TG_BOOL);
    tg_tensor *src = tg_from_data((int64_t[]){INT64_MAX, INT64_MIN, (INT64_C(1) << 60) + 1},
                                  TG_SHAPE(3, 1), TG_I64);
    CHECK(tg_copy_(tg_transpose(m, 0, 1), src) == 0); /* broadcast along the new dim 1 */
    repr_as_pytorch(m,
                    "tensor([[ 9223372036854775807, -9223372036854775808,  1152921504606846977],\n"
                    "        [ 9223372036854775807, -9223372036854775808,  1152921504606846977]])");
    CHECK(tg_fill_(tg_slice(tg_transpose(b, 0, 1), 0, 1, 3, 1), 7) == 0);
    repr_as_pytorch(b, "tensor([[False,  True,  True],\n        [False,  True,  True]])");
    CHECK(tg_copy_(tg_slice(b, 1, 0, 1, 1),
                   tg_from_data((int64_t[]){0, 5}, TG_SHAPE(2, 1), TG_I64)) == 0);
    repr_as_pytorch(b, "tensor([[False,  True,  True],\n        [ True,  True,  True]])");
    /* saved through their strides, read back contiguous */
    tg_tensor *mt = tg_transpose(m, 0, 1), *bs = tg_slice(b, 1, 0, 3, 2), *m2, *b2;
    save_and_load(mt, bs, &m2, &b2);
    CHECK(m2 && b2);
    char *want_m = tg_repr(mt), *want_b = tg_repr(bs);
    repr_as_pytorch(m2, want_m);
    repr_as_pytorch(b2, want_b);
    free(want_m);
    free(want_b);
}

TG_TEST_MAIN(TG_CASE(int64_and_bool_print_as_pytorch), TG_CASE(conversions_as_pytorch_on_x86_64),
             TG_CASE(creation_as_pytorch), TG_CASE(views_and_copies_take_every_dtype),
             TG_CASE(sums_of_int64_and_bool_are_int64), TG_CASE(int64_and_bool_never_require_grad),
             TG_CASE(arithmetic_needs_floating_point), TG_CASE(safetensors_keep_int64_and_bool),
             TG_CASE(numbers_meet_integers_as_in_pytorch), TG_CASE(argmax_and_argmin_refuse_bool),
             TG_CASE(int64_sums_wrap_as_in_pytorch), TG_CASE(comparisons_match_pytorch),
             TG_CASE(where_matches_pytorch), TG_CASE(gradcheck_where),
             TG_CASE(extremes_match_pytorch), TG_CASE(gradcheck_max_and_min_dim),
             TG_CASE(sums_match_pytorch), TG_CASE(conversions_match_pytorch),
             TG_CASE(printing_matches_pytorch), TG_CASE(view_ops_keep_int64_and_bool),
             TG_CASE(writes_through_int64_and_bool_views), TG_CASE(integer_arithmetic_as_pytorch))
