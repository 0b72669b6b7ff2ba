/* tests/test_reduce.c - sum and mean over dims, max along a dim, softmax and
 * log_softmax, amax, amin, prod, var, std, logsumexp and vector_norm: values
 * and gradients against PyTorch, gradcheck, stability at large logits, the
 * edges (ties, zeros, few elements, empty slices), and bad input. */
#include "golden/golden_nn.h"
#include "tg_test.h"

/* float32 to PyTorch's float32, float64 to its float64 (both roundings). */
#define RTOL(f64) ((f64) ? 1e-12 : 1e-5)
#define ATOL(f64) ((f64) ? 1e-12 : 1e-6)

static tg_tensor *run_reduce(const golden_reduce *c, tg_tensor *x, tg_tensor **indices) {
    const char *op = c->op;
    int n = c->n_dims;
    const int *dims = c->dims;
    tg_keepdim keep = (tg_keepdim)c->keepdim;
    if (!strcmp(op, "sum_dims")) return tg_sum_dims(x, n, dims, keep);
    if (!strcmp(op, "mean_dims")) return tg_mean_dims(x, n, dims, keep);
    if (!strcmp(op, "max_dim")) return tg_max_dim(x, dims[0], keep, indices);
    if (!strcmp(op, "softmax")) return tg_softmax(x, dims[0]);
    if (!strcmp(op, "log_softmax")) return tg_log_softmax(x, dims[0]);
    if (!strcmp(op, "amax")) return tg_amax(x, n, dims, keep);
    if (!strcmp(op, "amin")) return tg_amin(x, n, dims, keep);
    if (!strcmp(op, "prod")) return tg_prod(x);
    if (!strcmp(op, "prod_dim")) return tg_prod_dim(x, dims[0], keep);
    if (!strcmp(op, "var")) return tg_var(x, n, dims, (int64_t)c->param, keep);
    if (!strcmp(op, "std")) return tg_std(x, n, dims, (int64_t)c->param, keep);
    if (!strcmp(op, "logsumexp")) return tg_logsumexp(x, n, dims, keep);
    if (!strcmp(op, "vector_norm")) return tg_vector_norm(x, c->param, n, dims, keep);
    return NULL;
}

static void reductions_match_pytorch(void) {
    int n = (int)(sizeof golden_reduces / sizeof golden_reduces[0]);
    char context[96];
    for (int i = 0; i < n; i++) {
        const golden_reduce *c = &golden_reduces[i];
        snprintf(context, sizeof context, "%s(%g) #%d (%s)", c->op, c->param, i,
                 c->f64 ? "f64" : "f32");
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
        {tg_amax(x, 0, NULL, TG_DROP_DIMS), "AmaxBackward0"},
        {tg_amin(x, 1, (int[]){0}, TG_KEEP_DIMS), "AminBackward0"},
        {tg_prod(x), "ProdBackward0"},
        {tg_prod_dim(x, 1, TG_DROP_DIMS), "ProdBackward1"},
        {tg_var(x, 1, (int[]){1}, 1, TG_DROP_DIMS), "VarBackward0"},
        {tg_std(x, 0, NULL, 0, TG_DROP_DIMS), "StdBackward0"},
        {tg_logsumexp(x, 1, (int[]){1}, TG_DROP_DIMS), "LogsumexpBackward0"},
        {tg_vector_norm(x, 2, 0, NULL, TG_DROP_DIMS), "LinalgVectorNormBackward0"},
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

/* ---- The reductions of slices at their edges ------------------------------------ */

/* amax and amin split the gradient evenly among the elements that tie, as
 * torch's; they take every dtype, as torch's. */
static void amax_and_amin_split_ties(void) {
    double v[] = {3, 1, 3, 3, -2, -2};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(2, 3), TG_F64), true);
    tg_tensor *top = tg_amax(x, 0, NULL, TG_DROP_DIMS);
    CHECK(tg_item(top) == 3 && tg_backward(top, NULL) == 0);
    double thirds[] = {1.0 / 3, 0, 1.0 / 3, 1.0 / 3, 0, 0};
    CHECK_VALUES(tg_grad(x), thirds, 6, 0, 0);
    tg_zero_grad(x);
    CHECK(tg_backward(tg_sum(tg_amin(x, 1, (int[]){-1}, TG_KEEP_DIMS)), NULL) == 0);
    double halves[] = {0, 1, 0, 0, 0.5, 0.5};
    CHECK_VALUES(tg_grad(x), halves, 6, 0, 0);
    tg_tensor *ints = tg_from_data((int64_t[]){4, -7, 9, 2}, TG_SHAPE(2, 2), TG_I64);
    tg_tensor *m = tg_amax(ints, 1, (int[]){0}, TG_DROP_DIMS);
    CHECK(tg_dtype_of(m) == TG_I64 && tg_get(m, (int64_t[]){0}) == 9 &&
          tg_get(m, (int64_t[]){1}) == 2);
    tg_tensor *flags = tg_from_data((uint8_t[]){0, 1, 0}, TG_SHAPE(3), TG_BOOL);
    CHECK(tg_item(tg_amax(flags, 0, NULL, TG_DROP_DIMS)) == 1);
    CHECK(tg_item(tg_amin(flags, 0, NULL, TG_DROP_DIMS)) == 0);
}

/* d prod/dx_i is the product of the others: with one zero in a row the zero
 * gets it alone, with two nobody does (torch's too); at an infinity it is
 * the product of the others, where torch's prod / x_i is NaN. */
static void prod_gradient_with_zeros_and_infinities(void) {
    double v[] = {2, 3, 4, 2, 0, 3, 0, 5, 0, INFINITY, 2, -1};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(4, 3), TG_F64), true);
    tg_tensor *p = tg_prod_dim(x, 1, TG_DROP_DIMS);
    double want[] = {24, 0, 0, -INFINITY};
    CHECK_VALUES(p, want, 4, 0, 0);
    CHECK(tg_backward(tg_sum(p), NULL) == 0);
    double grad[] = {12, 8, 6, 0, 6, 0, 0, 0, 0, -2, -INFINITY, INFINITY};
    CHECK_VALUES(tg_grad(x), grad, 12, 0, 0);
    tg_tensor *s = tg_requires_grad_(tg_scalar(-2.5, TG_F32), true);
    tg_tensor *ps = tg_prod(s);
    CHECK(tg_item(ps) == -2.5 && tg_backward(ps, NULL) == 0 && tg_item(tg_grad(s)) == 1);
}

/* With no degrees of freedom left (n = correction) var is inf, or NaN for
 * a constant row, as torch's; one element with correction 0 has var 0;
 * std's gradient is 0 where std is 0; a negative correction divides by
 * more than n. */
static void var_and_std_at_few_degrees_of_freedom(void) {
    double v[] = {1, 2, 4, 5, 5, 5};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(2, 3), TG_F32), true);
    double none_left[] = {INFINITY, NAN};
    CHECK_VALUES(tg_var(x, 1, (int[]){1}, 3, TG_DROP_DIMS), none_left, 2, 0, 0);
    double by_4[] = {14.0 / 3 / 4, 0}; /* squares 14/3 over n + 1 = 4 */
    CHECK_VALUES(tg_var(x, 1, (int[]){1}, -1, TG_DROP_DIMS), by_4, 2, 1e-7, 0);
    tg_tensor *sd = tg_std(x, 1, (int[]){1}, 1, TG_DROP_DIMS);
    CHECK(tg_backward(tg_sum(sd), NULL) == 0);
    double d = sqrt(7.0 / 3) * 2; /* (n - 1) std */
    double grad[] = {(1 - 7.0 / 3) / d, (2 - 7.0 / 3) / d, (4 - 7.0 / 3) / d, 0, 0, 0};
    CHECK_VALUES(tg_grad(x), grad, 6, 1e-6, 0);
    tg_tensor *one = tg_scalar(3, TG_F64);
    CHECK(isnan(tg_item(tg_var(one, 0, NULL, 1, TG_DROP_DIMS))));
    CHECK(tg_item(tg_std(one, 0, NULL, 0, TG_DROP_DIMS)) == 0);
}

/* The norm of a zero vector has gradient 0 for every ord, as torch's; the
 * norm neither overflows nor underflows where its value does not. */
static void vector_norm_at_zero_and_at_the_ends_of_the_range(void) {
    const double ords[] = {1, 2, 3, 1.5, INFINITY, -INFINITY};
    for (int k = 0; k < 6; k++) {
        tg_tensor *z = tg_requires_grad_(tg_zeros(TG_SHAPE(3), TG_F64), true);
        tg_tensor *n = tg_vector_norm(z, ords[k], 0, NULL, TG_DROP_DIMS);
        CHECK(tg_item(n) == 0 && tg_backward(n, NULL) == 0);
        double zeros[3] = {0};
        CHECK_VALUES(tg_grad(z), zeros, 3, 0, 0);
    }
    double big[] = {3e300, -4e300}, small[] = {3e-300, 4e-300};
    tg_tensor *b = tg_requires_grad_(tg_test_tensor(big, TG_SHAPE(2), TG_F64), true);
    tg_tensor *nb = tg_vector_norm(b, 2, 0, NULL, TG_DROP_DIMS);
    CHECK_CLOSE(tg_item(nb), 5e300, 1e-15, 0); /* torch: inf */
    CHECK(tg_backward(nb, NULL) == 0);
    double unit[] = {0.6, -0.8};
    CHECK_VALUES(tg_grad(b), unit, 2, 1e-15, 0);
    CHECK_CLOSE(tg_item(tg_vector_norm(tg_test_tensor(small, TG_SHAPE(2), TG_F64), 3, 0, NULL,
                                       TG_DROP_DIMS)),
                cbrt(91) * 1e-300, 1e-15, 0); /* torch: 0 */
}

/* Empty slices give the reduction of nothing, as torch's: prod 1, sum-like
 * norms 0, logsumexp -inf, var NaN; amax, amin and the inf norms have no
 * identity and refuse them (bad_dims_are_refused). */
static void reductions_of_empty_slices(void) {
    tg_tensor *e = tg_zeros(TG_SHAPE(2, 0), TG_F64);
    const int dim1[] = {1};
    double ones[] = {1, 1}, zeros[] = {0, 0}, minus_inf[] = {-INFINITY, -INFINITY},
           nans[] = {NAN, NAN};
    CHECK_VALUES(tg_prod_dim(e, 1, TG_DROP_DIMS), ones, 2, 0, 0);
    CHECK_VALUES(tg_vector_norm(e, 2, 1, dim1, TG_DROP_DIMS), zeros, 2, 0, 0);
    CHECK_VALUES(tg_vector_norm(e, 1, 1, dim1, TG_DROP_DIMS), zeros, 2, 0, 0);
    CHECK_VALUES(tg_logsumexp(e, 1, dim1, TG_DROP_DIMS), minus_inf, 2, 0, 0);
    CHECK_VALUES(tg_var(e, 1, dim1, 1, TG_DROP_DIMS), nans, 2, 0, 0);
    CHECK(tg_numel(tg_amax(e, 1, (int[]){0}, TG_DROP_DIMS)) == 0); /* the empty dim is kept */
}

/* ---- gradcheck ------------------------------------------------------------------ */

typedef enum reduce_kind {
    SUM,
    MEAN,
    MAX,
    SOFTMAX,
    LOG_SOFTMAX,
    AMAX,
    AMIN,
    PROD,
    PROD_DIM,
    VAR,
    STD,
    LOGSUMEXP,
    NORM
} reduce_kind;

typedef struct reduce_call {
    const char *name;
    reduce_kind kind;
    int n_dims, dims[3];
    bool keepdim, transposed;
    double param; /* var and std: the correction; vector_norm: ord */
} reduce_call;

static tg_tensor *f_reduce(tg_tensor *const *in, void *ctx) {
    const reduce_call *c = ctx;
    tg_tensor *x = c->transposed ? tg_transpose(in[0], 0, 1) : in[0];
    tg_keepdim keep = (tg_keepdim)c->keepdim;
    switch (c->kind) {
    case SUM: return tg_sum_dims(x, c->n_dims, c->dims, keep);
    case MEAN: return tg_mean_dims(x, c->n_dims, c->dims, keep);
    case MAX: return tg_max_dim(x, c->dims[0], keep, NULL);
    case SOFTMAX: return tg_softmax(x, c->dims[0]);
    case LOG_SOFTMAX: return tg_log_softmax(x, c->dims[0]);
    case AMAX: return tg_amax(x, c->n_dims, c->dims, keep);
    case AMIN: return tg_amin(x, c->n_dims, c->dims, keep);
    case PROD: return tg_prod(x);
    case PROD_DIM: return tg_prod_dim(x, c->dims[0], keep);
    case VAR: return tg_var(x, c->n_dims, c->dims, (int64_t)c->param, keep);
    case STD: return tg_std(x, c->n_dims, c->dims, (int64_t)c->param, keep);
    case LOGSUMEXP: return tg_logsumexp(x, c->n_dims, c->dims, keep);
    default: return tg_vector_norm(x, c->param, c->n_dims, c->dims, keep);
    }
}

static void gradcheck_reductions(void) {
    /* Normal draws are distinct: max has a unique maximum, away from a kink. */
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(2, 3, 4), TG_F64, NULL), true);
    tg_tensor *m = tg_requires_grad_(tg_randn(TG_SHAPE(3, 4), TG_F64, NULL), true);
    const reduce_call calls[] = {
        {"sum 0,2", SUM, 2, {0, 2}, false, false, 0},
        {"sum -1 keep", SUM, 1, {-1}, true, false, 0},
        {"sum all", SUM, 0, {0}, false, false, 0},
        {"mean 1", MEAN, 1, {1}, false, false, 0},
        {"mean 0,1 keep", MEAN, 2, {0, 1}, true, false, 0},
        {"max 2", MAX, 1, {2}, false, false, 0},
        {"max 0 keep", MAX, 1, {0}, true, false, 0},
        {"softmax 1", SOFTMAX, 1, {1}, false, false, 0},
        {"softmax -1", SOFTMAX, 1, {-1}, false, false, 0},
        {"log_softmax 0", LOG_SOFTMAX, 1, {0}, false, false, 0},
        {"log_softmax 2", LOG_SOFTMAX, 1, {2}, false, false, 0},
        /* on m^T, of shape (4, 3) */
        {"sum^T 1", SUM, 1, {1}, false, true, 0},
        {"mean^T 0 keep", MEAN, 1, {0}, true, true, 0},
        {"max^T 1", MAX, 1, {1}, false, true, 0},
        {"softmax^T 1", SOFTMAX, 1, {1}, false, true, 0},
        {"log_softmax^T 0", LOG_SOFTMAX, 1, {0}, false, true, 0},
        /* the reductions of slices: adjacent dims (read in place), others
         * (copied), every dim, and on m^T */
        {"amax 0,2", AMAX, 2, {0, 2}, false, false, 0},
        {"amin 1,2 keep", AMIN, 2, {1, 2}, true, false, 0},
        {"amax^T all", AMAX, 0, {0}, false, true, 0},
        {"prod", PROD, 0, {0}, false, false, 0},
        {"prod 1 keep", PROD_DIM, 1, {1}, true, false, 0},
        {"prod^T", PROD, 0, {0}, false, true, 0},
        {"prod^T 0", PROD_DIM, 1, {0}, false, true, 0},
        {"var 0,2", VAR, 2, {0, 2}, false, false, 1},
        {"var all, correction 0", VAR, 0, {0}, false, false, 0},
        {"var^T 1 keep, correction 2", VAR, 1, {1}, true, true, 2},
        {"std -1", STD, 1, {-1}, false, false, 1},
        {"std^T all, correction 0", STD, 0, {0}, true, true, 0},
        {"logsumexp 0,2", LOGSUMEXP, 2, {0, 2}, false, false, 0},
        {"logsumexp^T 1 keep", LOGSUMEXP, 1, {1}, true, true, 0},
        {"norm 2, 1,2", NORM, 2, {1, 2}, false, false, 2},
        {"norm 1, 0,2", NORM, 2, {0, 2}, true, false, 1},
        {"norm 3, all", NORM, 0, {0}, false, false, 3},
        {"norm 1.5, -1", NORM, 1, {-1}, false, false, 1.5},
        {"norm inf, 0,1", NORM, 2, {0, 1}, false, false, INFINITY},
        {"norm -inf^T 1", NORM, 1, {1}, false, true, -INFINITY},
        {"norm 2^T all", NORM, 0, {0}, false, true, 2},
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
    /* the reductions of slices */
    CHECK(tg_amax(x, 2, (int[]){0, -2}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "amax: dim 0 appears more than once in the list of dims");
    CHECK(tg_amin(x, 1, (int[]){2}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "amin: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_amax(tg_zeros(TG_SHAPE(3, 0), TG_F32), 0, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "amax: expected reduction dim 1 to have non-zero size (shape (3, 0))");
    CHECK(tg_prod_dim(x, 2, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "prod_dim: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_prod(tg_ones(TG_SHAPE(2), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "prod: expected a floating-point tensor, got int64");
    CHECK(tg_var(x, 2, (int[]){1, 1}, 1, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "var: dim 1 appears more than once in the list of dims");
    CHECK(tg_var(x, 1, (int[]){1}, 4, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "var: correction 4 exceeds the 3 elements of each slice");
    CHECK(tg_std(x, 0, NULL, 7, TG_KEEP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "std: correction 7 exceeds the 6 elements of each slice");
    CHECK(tg_std(tg_ones(TG_SHAPE(2), TG_BOOL), 0, NULL, 1, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "std: expected a floating-point tensor, got bool");
    CHECK(tg_logsumexp(x, 3, (int[]){0, 1, 0}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "logsumexp: dim 0 appears more than once in the list of dims");
    CHECK(tg_vector_norm(x, 0.5, 0, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "vector_norm: ord must be at least 1, inf or -inf, got 0.5");
    CHECK(tg_vector_norm(x, NAN, 0, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "vector_norm: ord must be at least 1, inf or -inf, got nan");
    CHECK(tg_vector_norm(x, 2, 2, (int[]){-1, 1}, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "vector_norm: dim 1 appears more than once in the list of dims");
    CHECK(tg_vector_norm(tg_zeros(TG_SHAPE(2, 0), TG_F64), -INFINITY, 1, (int[]){1},
                         TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "vector_norm: cannot compute the -inf norm on dim 1 because it is "
                              "empty and the operation does not have an identity");
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
    CHECK(tg_amax(NULL, 0, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "amax: argument is NULL");
    CHECK(tg_prod(NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "prod: argument is NULL");
    CHECK(tg_std(NULL, 0, NULL, 1, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "std: argument is NULL");
    CHECK(tg_vector_norm(NULL, 2, 0, NULL, TG_DROP_DIMS) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "vector_norm: argument is NULL");
    /* In a chain, the first failure's message is kept. */
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_softmax(tg_sum_dims(x, 1, (int[]){5}, TG_DROP_DIMS), 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "sum_dims: dim 5 out of range");
}

TG_TEST_MAIN(TG_CASE(reductions_match_pytorch), TG_CASE(nodes_are_named_as_pytorch),
             TG_CASE(max_takes_the_first_maximum_and_propagates_nan),
             TG_CASE(reductions_over_empty_and_0_dim_tensors),
             TG_CASE(softmax_is_finite_at_huge_logits), TG_CASE(amax_and_amin_split_ties),
             TG_CASE(prod_gradient_with_zeros_and_infinities),
             TG_CASE(var_and_std_at_few_degrees_of_freedom),
             TG_CASE(vector_norm_at_zero_and_at_the_ends_of_the_range),
             TG_CASE(reductions_of_empty_slices), TG_CASE(gradcheck_reductions),
             TG_CASE(bad_dims_are_refused), TG_CASE(null_inputs_return_null))
