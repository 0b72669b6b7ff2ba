/* tests/test_reduce.c - sum and mean over dims, max along a dim, softmax and
 * log_softmax: values and gradients against PyTorch, gradcheck, stability
 * at large logits, and bad input. */
#include "golden/golden_nn.h"
#include "tg_test.h"

/* float32 to PyTorch's float32, float64 to its float64 (both roundings). */
#define RTOL(f64) ((f64) ? 1e-12 : 1e-5)
#define ATOL(f64) ((f64) ? 1e-12 : 1e-6)

static tg_tensor *run_reduce(const golden_reduce *c, tg_tensor *x, tg_tensor **indices) {
    const char *op = c->op;
    if (!strcmp(op, "sum_dims")) return tg_sum_dims(x, c->n_dims, c->dims, c->keepdim);
    if (!strcmp(op, "mean_dims")) return tg_mean_dims(x, c->n_dims, c->dims, c->keepdim);
    if (!strcmp(op, "max_dim")) return tg_max_dim(x, c->dims[0], c->keepdim, indices);
    if (!strcmp(op, "softmax")) return tg_softmax(x, c->dims[0]);
    return tg_log_softmax(x, c->dims[0]);
}

static void reductions_match_pytorch(void) {
    int n = (int)(sizeof golden_reduces / sizeof golden_reduces[0]);
    char context[96];
    for (int i = 0; i < n; i++) {
        const golden_reduce *c = &golden_reduces[i];
        snprintf(context, sizeof context, "%s #%d (%s)", c->op, i, c->f64 ? "f64" : "f32");
        tg_test_context = context;
        double rtol = RTOL(c->f64), atol = ATOL(c->f64);
        tg_tensor *base = tg_test_tensor(c->x, c->ndim, c->shape, c->f64 ? TG_F64 : TG_F32);
        tg_requires_grad_(base, true);
        tg_tensor *x = c->transposed ? tg_transpose(base, 0, 1) : base;
        tg_tensor *indices = NULL;
        tg_tensor *out = run_reduce(c, x, &indices);
        CHECK(out && tg_ndim(out) == c->out_ndim);
        for (int d = 0; d < c->out_ndim; d++) CHECK(tg_size(out, d) == c->out_shape[d]);
        int64_t n_out = tg_numel(out);
        CHECK_VALUES(out, c->out, n_out, rtol, atol);
        for (int64_t k = 0; c->indices && k < n_out; k++) {
            CHECK(tg_dtype_of(indices) == TG_I64 && tg_numel(indices) == n_out);
            CHECK(((const int64_t *)tg_data(indices))[k] == c->indices[k]);
        }
        tg_tensor *w = tg_test_tensor(c->w, c->out_ndim, c->out_shape, tg_dtype_of(out));
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        CHECK_VALUES(tg_grad(base), c->grad, tg_numel(base), rtol, atol);
    }
}

static void nodes_are_named_as_pytorch(void) {
    tg_tensor *x = tg_requires_grad_(tg_rand(TG_SHAPE(2, 3), TG_F32, NULL), true);
    struct {
        tg_tensor *t;
        const char *name;
    } cases[] = {
        {tg_sum_dims(x, 1, (int[]){1}, TG_DROP_DIMS), "SumBackward1"},
        {tg_mean_dims(x, 2, (int[]){0, 1}, TG_KEEP_DIMS), "MeanBackward1"},
        {tg_max_dim(x, 0, TG_DROP_DIMS, NULL), "MaxBackward0"},
        {tg_softmax(x, 1), "SoftmaxBackward0"},
        {tg_log_softmax(x, -1), "LogSoftmaxBackward0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].name;
        CHECK_EQ_STR(tg_grad_fn_name(cases[i].t), cases[i].name);
    }
    CHECK(tg_is_leaf(tg_softmax(tg_detach(x), 0))); /* nothing recorded without grad */
}

static void max_takes_the_first_maximum_and_propagates_nan(void) {
    double v[] = {1, 3, 3, 2, 5, NAN, NAN, 0};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(2, 4), TG_F64), true);
    tg_tensor *at;
    tg_tensor *m = tg_max_dim(x, 1, TG_DROP_DIMS, &at);
    CHECK(m && tg_get(m, (int64_t[]){0}) == 3 && isnan(tg_get(m, (int64_t[]){1})));
    CHECK(tg_get(at, (int64_t[]){0}) == 1 &&
          tg_get(at, (int64_t[]){1}) == 1); /* first of the tied 3s; first NaN */
    CHECK(tg_requires_grad(m) && !tg_requires_grad(at));
    CHECK(tg_backward(tg_sum(m), NULL) == 0);
    double want[] = {0, 1, 0, 0, 0, 1, 0, 0};
    CHECK_VALUES(tg_grad(x), want, 8, 0, 0);
    CHECK(tg_max_dim(x, 0, TG_KEEP_DIMS, NULL) != NULL); /* indices are optional */
}

static void reductions_over_empty_and_0_dim_tensors(void) {
    tg_tensor *empty = tg_zeros(TG_SHAPE(2, 0), TG_F32);
    double zeros[] = {0, 0}, nans[] = {NAN, NAN};
    CHECK_VALUES(tg_sum_dims(empty, 1, (int[]){1}, TG_DROP_DIMS), zeros, 2, 0, 0);
    CHECK_VALUES(tg_mean_dims(empty, 1, (int[]){1}, TG_DROP_DIMS), nans, 2, 0, 0); /* as torch */
    CHECK(tg_numel(tg_softmax(empty, 1)) == 0);
    CHECK(tg_numel(tg_max_dim(empty, 0, TG_DROP_DIMS, NULL)) == 0);
    tg_tensor *s = tg_requires_grad_(tg_scalar(2.5, TG_F64), true);
    tg_tensor *at = NULL;
    CHECK(tg_item(tg_max_dim(s, 0, TG_DROP_DIMS, &at)) == 2.5 && tg_item(at) == 0);
    CHECK(tg_item(tg_sum_dims(s, 1, (int[]){-1}, TG_KEEP_DIMS)) == 2.5);
    CHECK(tg_ndim(tg_mean_dims(s, 0, NULL, TG_DROP_DIMS)) == 0);
    tg_tensor *p = tg_softmax(s, 0);
    CHECK(tg_ndim(p) == 0 && tg_item(p) == 1);
    CHECK(tg_backward(tg_log_softmax(s, -1), NULL) == 0 && tg_item(tg_grad(s)) == 0);
}

static void softmax_is_finite_at_huge_logits(void) {
    for (int dt = 0; dt < 2; dt++) {
        tg_dtype dtype = dt ? TG_F64 : TG_F32;
        double big = dt ? 1e300 : 1e38;
        double v[] = {big, -big, 1000, 1000, -1000, 1000};
        tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(2, 3), dtype), true);
        tg_tensor *w = tg_arange(1, 7, 1, dtype);
        tg_tensor *outs[2] = {tg_softmax(x, 1), tg_log_softmax(x, 1)};
        for (int k = 0; k < 2; k++) {
            double got[6];
            CHECK(outs[k] && tg_to_doubles(outs[k], got) == 0);
            for (int i = 0; i < 6; i++) CHECK(isfinite(got[i]));
            tg_clear_grad(x);
            CHECK(tg_backward(tg_sum(tg_mul(outs[k], tg_view(w, TG_SHAPE(2, 3)))), NULL) == 0);
            CHECK(tg_to_doubles(tg_grad(x), got) == 0);
            for (int i = 0; i < 6; i++) CHECK(isfinite(got[i]));
        }
        CHECK(tg_get(outs[0], (int64_t[]){0, 0}) == 1);
        CHECK(tg_get(outs[0], (int64_t[]){1, 2}) == 0.5); /* the two 1000s share evenly */
    }
}

/* ---- gradcheck ------------------------------------------------------------------ */

typedef enum reduce_kind { SUM, MEAN, MAX, SOFTMAX, LOG_SOFTMAX } reduce_kind;

typedef struct reduce_call {
    const char *name;
    reduce_kind kind;
    int n_dims, dims[3];
    bool keepdim, transposed;
} reduce_call;

static tg_tensor *f_reduce(tg_tensor *const *in, void *ctx) {
    const reduce_call *c = ctx;
    tg_tensor *x = c->transposed ? tg_transpose(in[0], 0, 1) : in[0];
    switch (c->kind) {
    case SUM: return tg_sum_dims(x, c->n_dims, c->dims, c->keepdim);
    case MEAN: return tg_mean_dims(x, c->n_dims, c->dims, c->keepdim);
    case MAX: return tg_max_dim(x, c->dims[0], c->keepdim, NULL);
    case SOFTMAX: return tg_softmax(x, c->dims[0]);
    default: return tg_log_softmax(x, c->dims[0]);
    }
}

static void gradcheck_reductions(void) {
    /* Normal draws are distinct: max has a unique maximum, away from a kink. */
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(2, 3, 4), TG_F64, NULL), true);
    tg_tensor *m = tg_requires_grad_(tg_randn(TG_SHAPE(3, 4), TG_F64, NULL), true);
    const reduce_call calls[] = {
        {"sum 0,2", SUM, 2, {0, 2}, false, false},
        {"sum -1 keep", SUM, 1, {-1}, true, false},
        {"sum all", SUM, 0, {0}, false, false},
        {"mean 1", MEAN, 1, {1}, false, false},
        {"mean 0,1 keep", MEAN, 2, {0, 1}, true, false},
        {"max 2", MAX, 1, {2}, false, false},
        {"max 0 keep", MAX, 1, {0}, true, false},
        {"softmax 1", SOFTMAX, 1, {1}, false, false},
        {"softmax -1", SOFTMAX, 1, {-1}, false, false},
        {"log_softmax 0", LOG_SOFTMAX, 1, {0}, false, false},
        {"log_softmax 2", LOG_SOFTMAX, 1, {2}, false, false},
        /* on m^T, of shape (4, 3) */
        {"sum^T 1", SUM, 1, {1}, false, true},
        {"mean^T 0 keep", MEAN, 1, {0}, true, true},
        {"max^T 1", MAX, 1, {1}, false, true},
        {"softmax^T 1", SOFTMAX, 1, {1}, false, true},
        {"log_softmax^T 0", LOG_SOFTMAX, 1, {0}, false, true},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        tg_test_context = calls[i].name;
        tg_tensor *in = calls[i].transposed ? m : x;
        CHECK(tg_gradcheck(f_reduce, (void *)&calls[i], 1, &in, NULL) == 0);
    }
}

/* ---- bad input ------------------------------------------------------------------- */

static void bad_dims_are_refused(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_sum_dims(x, 1, (int[]){2}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "sum_dims: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_mean_dims(x, 2, (int[]){0, -3}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "mean_dims: dim -3 out of range for a 2-dim tensor");
    CHECK(tg_sum_dims(x, 2, (int[]){1, -1}, TG_KEEP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "sum_dims: dim 1 appears more than once in the list of dims");
    CHECK(tg_sum_dims(x, -1, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "sum_dims: n_dims is -1, must not be negative");
    CHECK(tg_mean_dims(x, 1, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "mean_dims: argument is NULL");
    CHECK(tg_max_dim(x, -3, TG_DROP_DIMS, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "max_dim: dim -3 out of range for a 2-dim tensor");
    CHECK(tg_max_dim(tg_zeros(TG_SHAPE(2, 0), TG_F32), 1, TG_DROP_DIMS, NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "max_dim: expected reduction dim 1 to have non-zero size (shape (2, 0))");
    CHECK(tg_softmax(x, 2) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "softmax: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_log_softmax(x, -3) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "log_softmax: dim -3 out of range for a 2-dim tensor");
}

static void null_inputs_return_null(void) {
    CHECK(tg_sum_dims(NULL, 0, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "sum_dims: argument is NULL");
    CHECK(tg_mean_dims(NULL, 1, (int[]){0}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "mean_dims: argument is NULL");
    CHECK(tg_max_dim(NULL, 0, TG_DROP_DIMS, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "max_dim: argument is NULL");
    CHECK(tg_softmax(NULL, 0) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "softmax: argument is NULL");
    CHECK(tg_log_softmax(NULL, 0) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "log_softmax: argument is NULL");
    /* In a chain, the first failure's message is kept. */
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_softmax(tg_sum_dims(x, 1, (int[]){5}, TG_DROP_DIMS), 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "sum_dims: dim 5 out of range");
}

TG_TEST_MAIN(TG_CASE(reductions_match_pytorch), TG_CASE(nodes_are_named_as_pytorch),
             TG_CASE(max_takes_the_first_maximum_and_propagates_nan),
             TG_CASE(reductions_over_empty_and_0_dim_tensors),
             TG_CASE(softmax_is_finite_at_huge_logits), TG_CASE(gradcheck_reductions),
             TG_CASE(bad_dims_are_refused), TG_CASE(null_inputs_return_null))
