/* tests/test_autograd.c - the tape: nodes, backward, accumulation, grad
 * mode, retain_graph, the version counter, and gradcheck of the core ops. */
#include "tg_test.h"

static tg_tensor *leaf(double value, tg_dtype dtype) {
    return tg_requires_grad_(tg_full(TG_SHAPE(2, 2), value, dtype), true);
}

static void leaves_and_named_nodes(void) {
    tg_tensor *x = leaf(1, TG_F32);
    CHECK(tg_is_leaf(x) && tg_requires_grad(x) && tg_grad_fn_name(x) == NULL);
    struct {
        tg_tensor *t;
        const char *name;
    } cases[] = {
        {tg_add_scalar(x, 2), "AddBackward0"},
        {tg_add(x, x), "AddBackward0"},
        {tg_sub_scalar(x, 1), "SubBackward0"},
        {tg_rsub_scalar(x, 1), "RsubBackward1"},
        {tg_mul(x, x), "MulBackward0"},
        {tg_div_scalar(x, 2), "DivBackward0"},
        {tg_neg(x), "NegBackward0"},
        {tg_sum(x), "SumBackward0"},
        {tg_mean(x), "MeanBackward0"},
        {tg_view(x, TG_SHAPE(4)), "ViewBackward0"},
        {tg_reshape(x, TG_SHAPE(4)), "ReshapeAliasBackward0"},
        {tg_reshape(tg_transpose(x, 0, 1), TG_SHAPE(4)), "UnsafeViewBackward0"},
        {tg_transpose(x, 0, 1), "TransposeBackward0"},
        {tg_clone(x), "CloneBackward0"},
        {tg_to_dtype(x, TG_F64), "ToCopyBackward0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].name;
        CHECK(cases[i].t && !tg_is_leaf(cases[i].t) && tg_requires_grad(cases[i].t));
        CHECK_EQ_STR(tg_grad_fn_name(cases[i].t), cases[i].name);
    }
}

static void records_only_when_needed(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2), TG_F32);
    tg_tensor *y = tg_mul(a, a);
    CHECK(tg_is_leaf(y) && !tg_requires_grad(y));
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F32), true);
    bool previous = tg_set_grad_enabled(false);
    CHECK(previous && !tg_is_grad_enabled());
    tg_tensor *z = tg_mul(x, x);
    tg_set_grad_enabled(previous);
    CHECK(tg_is_leaf(z) && !tg_requires_grad(z));
    CHECK(tg_requires_grad(tg_mul(a, x))); /* one input is enough */
}

static void worked_example_gradient(void) {
    tg_tensor *x = leaf(1, TG_F32);
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *out = tg_mean(tg_mul_scalar(tg_mul(y, y), 3));
    CHECK(tg_item(out) == 27);
    CHECK(tg_backward(out, NULL) == 0);
    double want[] = {4.5, 4.5, 4.5, 4.5};
    CHECK_VALUES(tg_grad(x), want, 4, 0, 0);
    CHECK(tg_grad(y) == NULL); /* only leaves keep gradients */
}

static void gradients_accumulate_until_zeroed(void) {
    tg_tensor *x = leaf(1, TG_F64);
    tg_tensor *out = tg_sum(tg_mul_scalar(x, 3));
    CHECK(tg_backward_ex(out, NULL, TG_RETAIN_GRAPH) == 0);
    CHECK(tg_backward(out, NULL) == 0);
    double six[] = {6, 6, 6, 6}, zero[] = {0, 0, 0, 0};
    CHECK_VALUES(tg_grad(x), six, 4, 0, 0);
    tg_zero_grad(x);
    CHECK_VALUES(tg_grad(x), zero, 4, 0, 0);
    tg_clear_grad(x);
    CHECK(tg_grad(x) == NULL);
}

static void second_backward_through_freed_graph_fails(void) {
    tg_tensor *x = leaf(1, TG_F32);
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *out = tg_mean(tg_mul(y, y));
    CHECK(tg_backward(out, NULL) == 0);
    CHECK(tg_backward(out, NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "saved tensors of MulBackward0 were already freed");
    double want[] = {1.5, 1.5, 1.5, 1.5}; /* 2y/4; the failed call added nothing */
    CHECK_VALUES(tg_grad(x), want, 4, 0, 0);
    /* A graph without saved tensors can be replayed, as in PyTorch. */
    tg_tensor *s = tg_sum(tg_add_scalar(x, 1));
    CHECK(tg_backward(s, NULL) == 0 && tg_backward(s, NULL) == 0);
}

/* x OP s computes, records and differentiates as the tensor op with s
 * wrapped in a 0-dim tensor of x's dtype (PyTorch's way), to the bit, under
 * the same node name but for rsub's; and mul and div keep the number as
 * PyTorch keeps that tensor. */
static void scalar_forms_are_the_tensor_ops_on_a_wrapped_number(void) {
    tg_tensor *(*const scalar_ops[])(tg_tensor *, double) = {
        tg_add_scalar, tg_sub_scalar, tg_rsub_scalar, tg_mul_scalar, tg_div_scalar};
    const double numbers[] = {0.1, 3, -0.7};
    for (int dt = 0; dt < 2; dt++) {
        tg_dtype dtype = dt ? TG_F64 : TG_F32;
        size_t bytes = 6 * tg_dtype_size(dtype);
        for (int k = 0; k < 5; k++) {
            for (int j = 0; j < 3; j++) {
                tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(2, 3), dtype, NULL), true);
                tg_tensor *xw = tg_requires_grad_(tg_clone(tg_detach(x)), true);
                tg_tensor *s = tg_scalar(numbers[j], dtype);
                tg_tensor *wrapped = k == 0   ? tg_add(xw, s)
                                     : k == 1 ? tg_sub(xw, s)
                                     : k == 2 ? tg_sub(s, xw)
                                     : k == 3 ? tg_mul(xw, s)
                                              : tg_div(xw, s);
                tg_tensor *out = scalar_ops[k](x, numbers[j]);
                CHECK(memcmp(tg_data(out), tg_data(wrapped), bytes) == 0);
                /* torch.rsub(x, s) is s - x under a node name of its own */
                CHECK_EQ_STR(tg_grad_fn_name(out),
                             k == 2 ? "RsubBackward1" : tg_grad_fn_name(wrapped));
                tg_tensor *g = tg_randn(TG_SHAPE(2, 3), dtype, NULL);
                CHECK(tg_backward(out, g) == 0 && tg_backward(wrapped, g) == 0);
                CHECK(memcmp(tg_data(tg_grad(x)), tg_data(tg_grad(xw)), bytes) == 0);
                /* PyTorch saves the wrapped number of mul and div only */
                CHECK((tg_backward(out, g) == 0) == (k < 3));
            }
        }
    }
}

static void nonscalar_backward_needs_a_gradient(void) {
    tg_tensor *x = leaf(1, TG_F32);
    tg_tensor *y = tg_mul_scalar(x, 2);
    CHECK(tg_backward(y, NULL) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "pass one of shape (2, 2)");
    tg_tensor *g = tg_full(TG_SHAPE(2, 2), 0.5, TG_F32);
    CHECK(tg_backward(y, g) == 0);
    double want[] = {1, 1, 1, 1};
    CHECK_VALUES(tg_grad(x), want, 4, 0, 0);
    CHECK(tg_backward(tg_mul_scalar(x, 2), tg_ones(TG_SHAPE(4), TG_F32)) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "gradient of shape (4,) given for an output of shape (2, 2)");
    CHECK(tg_backward(tg_mul_scalar(x, 2), tg_ones(TG_SHAPE(2, 2), TG_F64)) == -1);
    CHECK_ERROR(TG_ERR_DTYPE, "gradient of dtype float64 given for an output of dtype float32");
    /* One element in any shape needs no gradient argument. */
    tg_tensor *one = tg_requires_grad_(tg_ones(TG_SHAPE(1, 1), TG_F32), true);
    CHECK(tg_backward(tg_mul_scalar(one, 5), NULL) == 0);
    CHECK(tg_item(tg_grad(one)) == 5);
}

static void backward_of_a_leaf_and_of_a_constant(void) {
    tg_tensor *x = leaf(1, TG_F32);
    CHECK(tg_backward(x, tg_full(TG_SHAPE(2, 2), 2, TG_F32)) == 0);
    double want[] = {2, 2, 2, 2};
    CHECK_VALUES(tg_grad(x), want, 4, 0, 0);
    CHECK(tg_backward(tg_sum(tg_ones(TG_SHAPE(2), TG_F32)), NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "does not require grad");
}

static void requires_grad_only_changes_leaves(void) {
    tg_tensor *x = leaf(1, TG_F32);
    tg_tensor *y = tg_mul(x, x);
    CHECK(tg_requires_grad_(y, false) == NULL);
    CHECK_ERROR(TG_ERR_GRAPH, "only leaves can stop requiring grad; MulBackward0");
    CHECK(tg_requires_grad_(x, false) == x && !tg_requires_grad(x));
}

static void inplace_change_of_a_saved_tensor_is_detected(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 2), TG_F32);
    tg_tensor *x = leaf(2, TG_F32);
    tg_tensor *out = tg_sum(tg_mul(a, x)); /* saves a for x's gradient */
    CHECK(tg_mul_scalar_(a, 3) == 0);
    CHECK(tg_backward(out, NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "a tensor of shape (2, 2) saved by MulBackward0 was modified by an "
                              "in-place operation (it is at version 1, expected 0)");
    CHECK(tg_grad(x) == NULL);
    /* A write through a view bumps the shared counter too. */
    tg_tensor *b = tg_ones(TG_SHAPE(4), TG_F32);
    tg_tensor *out2 = tg_sum(tg_mul(tg_view(b, TG_SHAPE(2, 2)), x));
    CHECK(tg_zero_(tg_transpose(tg_view(b, TG_SHAPE(2, 2)), 0, 1)) == 0);
    CHECK(tg_backward(out2, NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
}

static void inplace_on_graph_tensors_needs_no_grad(void) {
    tg_tensor *x = leaf(1, TG_F32);
    CHECK(tg_add_(x, tg_ones(TG_SHAPE(2, 2), TG_F32), 1) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "add_: a leaf tensor that requires grad cannot be changed in place");
    tg_tensor *y = tg_mul_scalar(x, 2);
    CHECK(tg_zero_(y) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "zero_: in-place ops are not recorded on the tape");
    bool previous = tg_set_grad_enabled(false);
    CHECK(tg_add_(x, tg_ones(TG_SHAPE(2, 2), TG_F32), 1) == 0);
    tg_set_grad_enabled(previous);
    double want[] = {2, 2, 2, 2};
    CHECK_VALUES(x, want, 4, 0, 0);
}

static void a_tensor_used_twice_sums_its_gradients(void) {
    tg_tensor *x = tg_requires_grad_(tg_arange(-2, 2, 1, TG_F64), true);
    tg_tensor *out = tg_sum(tg_add(tg_mul(x, x), x)); /* d/dx = 2x + 1 */
    CHECK(tg_backward(out, NULL) == 0);
    double want[] = {-3, -1, 1, 3};
    CHECK_VALUES(tg_grad(x), want, 4, 0, 0);
}

static void gradients_flow_through_views(void) {
    tg_tensor *x = tg_requires_grad_(tg_zeros(TG_SHAPE(2, 3), TG_F64), true);
    tg_tensor *w = tg_arange(0, 6, 1, TG_F64);
    tg_tensor *flat = tg_reshape(tg_transpose(x, 0, 1), TG_SHAPE(6)); /* x^T, row-major */
    CHECK(tg_backward(tg_sum(tg_mul(flat, w)), NULL) == 0);
    double want[] = {0, 2, 4, 1, 3, 5}; /* x[i][j] meets w[j * 2 + i] */
    CHECK_VALUES(tg_grad(x), want, 6, 0, 0);
}

static void a_long_chain_frees_without_recursion(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(1), TG_F32), true);
    tg_pool *pool = tg_pool_push();
    tg_tensor *y = x;
    for (int i = 0; i < 100000; i++) {
        tg_tensor *next = tg_add_scalar(y, 1);
        if (y != x) tg_release(y); /* keep only the head: the chain lives in the nodes */
        y = next ? tg_retain(next) : NULL;
        tg_pool_pop(pool);
        pool = tg_pool_push();
        CHECK(y != NULL);
    }
    tg_pool_pop(pool);
    CHECK(tg_item(y) == 100001);
    CHECK(tg_backward(y, NULL) == 0);
    CHECK(tg_item(tg_grad(x)) == 1);
    tg_release(y); /* frees 100000 nodes; x stays in the harness's pool */
}

/* ---- gradcheck of every core op ------------------------------------------------ */

typedef struct op_case {
    const char *name;
    int n;
    tg_tensor *(*fn)(tg_tensor *const *in, void *ctx);
} op_case;

static tg_tensor *f_add(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_add(in[0], in[1]);
}
static tg_tensor *f_sub(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_sub(in[0], in[1]);
}
static tg_tensor *f_mul(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_mul(in[0], in[1]);
}
static tg_tensor *f_div(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_div(in[0], in[1]);
}
static tg_tensor *f_neg(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_neg(in[0]);
}
static tg_tensor *f_sum(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_sum(in[0]);
}
static tg_tensor *f_mean(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_mean(in[0]);
}
static tg_tensor *f_scalars(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_rsub_scalar(
        tg_div_scalar(tg_mul_scalar(tg_sub_scalar(tg_add_scalar(in[0], 1), 2), 3), 4), 5);
}
static tg_tensor *f_views(tg_tensor *const *in, void *c) {
    (void)c;
    tg_tensor *t = tg_transpose(in[0], 0, 1);
    return tg_mul(tg_reshape(t, TG_SHAPE(2, 2)), tg_view(tg_clone(in[1]), TG_SHAPE(2, 1)));
}
static tg_tensor *f_to_dtype(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_to_dtype(tg_mul(tg_to_dtype(in[0], TG_F32), tg_to_dtype(in[0], TG_F32)), TG_F64);
}

static void gradcheck_core_ops(void) {
    /* Broadcasting shapes: (2, 2) with (2, 1). */
    tg_tensor *a = tg_requires_grad_(tg_rand(TG_SHAPE(2, 2), TG_F64, NULL), true);
    tg_tensor *b = tg_requires_grad_(tg_add_scalar(tg_rand(TG_SHAPE(2, 1), TG_F64, NULL), 0.5),
                                     true);
    op_case cases[] = {{"add", 2, f_add},   {"sub", 2, f_sub},         {"mul", 2, f_mul},
                       {"div", 2, f_div},   {"neg", 1, f_neg},         {"sum", 1, f_sum},
                       {"mean", 1, f_mean}, {"scalars", 1, f_scalars}, {"views", 2, f_views}};
    tg_tensor *inputs[2] = {a, b};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].name;
        CHECK(tg_gradcheck(cases[i].fn, NULL, cases[i].n, inputs, NULL) == 0);
    }
    /* Through float32 the difference quotient is coarse: loosen atol. */
    tg_test_context = "to_dtype";
    tg_gradcheck_options loose = {.eps = 1e-3, .atol = 1e-3};
    CHECK(tg_gradcheck(f_to_dtype, NULL, 1, inputs, &loose) == 0);
}

static tg_tensor *f_wrong(tg_tensor *const *in, void *c) {
    (void)c;
    bool previous = tg_set_grad_enabled(false); /* a part backward cannot see */
    tg_tensor *sq = tg_mul(in[0], in[0]);
    tg_set_grad_enabled(previous);
    return tg_add(sq, in[0]);
}

static void gradcheck_catches_a_wrong_gradient(void) {
    tg_tensor *a = tg_requires_grad_(tg_rand(TG_SHAPE(3), TG_F64, NULL), true);
    CHECK(tg_gradcheck(f_wrong, NULL, 1, &a, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "gradcheck: d out[0] / d input 0 [0]: backward gives 1");
    tg_tensor *f = tg_requires_grad_(tg_rand(TG_SHAPE(3), TG_F32, NULL), true);
    CHECK(tg_gradcheck(f_neg, NULL, 1, &f, NULL) == -1);
    CHECK_ERROR(TG_ERR_DTYPE, "gradcheck: input 0 must be float64");
}

static tg_tensor *f_first_million(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_slice(in[0], 0, 0, (int64_t)1 << 20, 1);
}

/* 2^20 outputs of 2^44 inputs (an expanded view, no memory) make a
 * Jacobian of 2^64 entries: refused at once, not wrapped to a small one. */
static void gradcheck_jacobian_size_never_overflows(void) {
    tg_tensor *x = tg_requires_grad_(
        tg_detach(tg_expand(tg_ones(TG_SHAPE(1), TG_F64), TG_SHAPE((int64_t)1 << 44))), true);
    CHECK(tg_gradcheck(f_first_million, NULL, 1, &x, NULL) == -1);
    CHECK_ERROR(TG_ERR_NOMEM, "gradcheck: out of memory");
}

TG_TEST_MAIN(TG_CASE(leaves_and_named_nodes), TG_CASE(records_only_when_needed),
             TG_CASE(worked_example_gradient), TG_CASE(gradients_accumulate_until_zeroed),
             TG_CASE(second_backward_through_freed_graph_fails),
             TG_CASE(scalar_forms_are_the_tensor_ops_on_a_wrapped_number),
             TG_CASE(nonscalar_backward_needs_a_gradient),
             TG_CASE(backward_of_a_leaf_and_of_a_constant),
             TG_CASE(requires_grad_only_changes_leaves),
             TG_CASE(inplace_change_of_a_saved_tensor_is_detected),
             TG_CASE(inplace_on_graph_tensors_needs_no_grad),
             TG_CASE(a_tensor_used_twice_sums_its_gradients), TG_CASE(gradients_flow_through_views),
             TG_CASE(a_long_chain_frees_without_recursion), TG_CASE(gradcheck_core_ops),
             TG_CASE(gradcheck_catches_a_wrong_gradient),
             TG_CASE(gradcheck_jacobian_size_never_overflows))
