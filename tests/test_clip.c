/* tests/test_clip.c - clip_grad_norm_ and clip_grad_value_ against PyTorch
 * 1.13, bit for bit, on a thousand random sets of gradients (every norm
 * type, float32, float64 and both mixed, missing and empty grads, NaN and
 * infinities), and their errors. */
#include "golden/golden_clip.h"
#include "tg_test.h"

/* NaN equals NaN; otherwise the same value. */
static bool same(double a, double b) { return isnan(a) ? isnan(b) : a == b; }

/* The case's parameters, their grads drawn as the golden script drew them
 * (params[i] has none when has_grad is 0). The tensors belong to the pool. */
static bool make_params(uint64_t seed, int n, const golden_clip_param *ps, tg_tensor **params) {
    tg_generator *gen = tg_generator_new(seed);
    bool ok = gen != NULL;
    for (int i = 0; ok && i < n; i++) {
        tg_dtype dtype = ps[i].f64 ? TG_F64 : TG_F32;
        params[i] = tg_requires_grad_(tg_zeros(TG_SHAPE(ps[i].numel), dtype), true);
        if (ps[i].has_grad)
            ok = tg_backward(
                     params[i],
                     tg_mul_scalar(tg_to_dtype(tg_randn(TG_SHAPE(ps[i].numel), TG_F64, gen), dtype),
                                   ldexp(1, ps[i].exp))) == 0;
    }
    tg_generator_free(gen);
    return ok;
}

/* Every grad element, in order, summed in double, as the script sums them. */
static double sum_grads(tg_tensor *const *params, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        tg_tensor *g = tg_grad(params[i]);
        for (int64_t k = 0; g && k < tg_numel(g); k++)
            s += tg_dtype_of(g) == TG_F64 ? ((double *)tg_data(g))[k] : ((float *)tg_data(g))[k];
    }
    return s;
}

/* The grads as doubles, one after another (malloc'ed). */
static double *copy_grads(tg_tensor *const *params, int n) {
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += tg_grad(params[i]) ? tg_numel(tg_grad(params[i])) : 0;
    double *out = malloc(sizeof(double) * (size_t)(total + 1)), *at = out;
    for (int i = 0; out && i < n; i++)
        if (tg_grad(params[i])) {
            tg_to_doubles(tg_grad(params[i]), at);
            at += tg_numel(tg_grad(params[i]));
        }
    return out;
}

/* Each grad element after clipping is the one before times PyTorch's
 * (clamped) coefficient rounded to the grad's dtype. */
static bool scaled_by(tg_tensor *const *params, int n, const double *before, double coef) {
    const double *b = before;
    for (int i = 0; i < n; i++) {
        tg_tensor *g = tg_grad(params[i]);
        for (int64_t k = 0; g && k < tg_numel(g); k++, b++) {
            double want = tg_dtype_of(g) == TG_F64 ? *b * coef : (double)((float)*b * (float)coef);
            double got = tg_dtype_of(g) == TG_F64 ? ((double *)tg_data(g))[k]
                                                  : ((float *)tg_data(g))[k];
            if (!same(got, want)) return false;
        }
    }
    return true;
}

static void clip_grad_norm_matches_pytorch_bit_for_bit(void) {
    static char context[96];
    int n_cases = (int)(sizeof golden_clip_cases / sizeof golden_clip_cases[0]), refused = 0;
    for (int k = 0; k < n_cases; k++) {
        const golden_clip_case *c = &golden_clip_cases[k];
        snprintf(context, sizeof context, "seed %llu, norm_type %g", (unsigned long long)c->seed,
                 c->norm_type);
        tg_test_context = context;
        tg_pool *pool = tg_pool_push();
        tg_tensor *params[GOLDEN_CLIP_MAX_PARAMS];
        CHECK(make_params(c->seed, c->n_params, c->params, params));
        if (c->special_param >= 0) {
            tg_tensor *g = tg_grad(params[c->special_param]);
            if (tg_dtype_of(g) == TG_F64)
                ((double *)tg_data(g))[c->special_index] = c->special_value;
            else
                ((float *)tg_data(g))[c->special_index] = (float)c->special_value;
        }
        CHECK(same(sum_grads(params, c->n_params), c->sum_before)); /* the same draws */
        double *before = copy_grads(params, c->n_params);
        CHECK(before != NULL);
        double total = tg_clip_grad_norm_ex_(params, c->n_params, c->max_norm, c->norm_type,
                                             TG_SCALE_NONFINITE);
        bool ok = c->refused
                      ? total == -1 && strstr(tg_last_error(), "max(): Expected reduction")
                      : same(total, c->total) && scaled_by(params, c->n_params, before, c->coef) &&
                            same(sum_grads(params, c->n_params), c->sum_after);
        refused += c->refused;
        free(before);
        tg_pool_pop(pool);
        tg_clear_error();
        if (!ok) printf("  total %.17g, PyTorch's %.17g\n", total, c->total);
        CHECK(ok);
    }
    tg_test_context = NULL;
    printf("  %d sets of gradients: every total norm and clipped grad PyTorch's bits (%d refused "
           "as PyTorch refuses them)\n",
           n_cases, refused);
}

static void clip_grad_value_matches_pytorch(void) {
    int n_cases = (int)(sizeof golden_clip_values / sizeof golden_clip_values[0]);
    for (int k = 0; k < n_cases; k++) {
        const golden_clip_value *c = &golden_clip_values[k];
        tg_pool *pool = tg_pool_push();
        tg_tensor *params[GOLDEN_CLIP_MAX_PARAMS];
        CHECK(make_params(c->seed, c->n_params, c->params, params));
        CHECK(tg_clip_grad_value_(params, c->n_params, c->clip_value) == 0);
        CHECK(same(sum_grads(params, c->n_params), c->sum_after));
        tg_pool_pop(pool);
    }
    printf("  %d sets of gradients: PyTorch's bits\n", n_cases);
}

/* A leaf of n values whose grad holds them too (in the pool). */
static tg_tensor *with_grad(const double *values, int n, tg_dtype dtype) {
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(values, TG_SHAPE(n), dtype), true);
    return x && tg_backward(x, tg_test_tensor(values, TG_SHAPE(n), dtype)) == 0 ? x : NULL;
}

static void clipping_errors(void) {
    double v[2] = {3, 4};
    tg_tensor *none = tg_requires_grad_(tg_zeros(TG_SHAPE(2), TG_F64), true);
    CHECK(tg_clip_grad_norm_(&none, 1, 1.0) == 0); /* no grad: norm 0, nothing to do */
    tg_tensor *x = with_grad(v, 2, TG_F64);
    CHECK(x != NULL);
    CHECK(tg_clip_grad_norm_(&x, 1, -1) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "clip_grad_norm_: invalid max_norm -1");
    CHECK(tg_clip_grad_norm_ex_(&x, 1, NAN, 2, TG_SCALE_NONFINITE) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "clip_grad_norm_: invalid max_norm nan");
    CHECK(tg_clip_grad_norm_ex_(&x, 1, 1, 2, (tg_nonfinite_mode)2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "clip_grad_norm_: invalid nonfinite mode 2");
    CHECK(tg_clip_grad_value_(&x, 1, -0.5) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "clip_grad_value_: invalid clip_value -0.5");
    CHECK(tg_clip_grad_norm_(NULL, 1, 1.0) == -1);
    CHECK_ERROR(TG_ERR_NULL, "clip_grad_norm_: no parameter list");
    tg_tensor *two[2] = {x, NULL};
    CHECK(tg_clip_grad_value_(two, 2, 1.0) == -1);
    CHECK_ERROR(TG_ERR_NULL, "clip_grad_value_: parameter 1 is NULL");
    CHECK_VALUES(tg_grad(x), v, 2, 0, 0); /* the failures changed nothing */
    CHECK(tg_clip_grad_norm_(&x, 1, 1.0) == 5);
    double unit[2] = {3 * (1 / (5 + 1e-6)), 4 * (1 / (5 + 1e-6))};
    CHECK_VALUES(tg_grad(x), unit, 2, 0, 0);
}

/* error_if_nonfinite: PyTorch's message, with the order as Python prints
 * it, and nothing scaled. */
static void nonfinite_norms_refused_on_request(void) {
    double v[3] = {1, INFINITY, 2}, w[2] = {NAN, 1};
    tg_tensor *x = with_grad(v, 3, TG_F32), *y = with_grad(w, 2, TG_F64);
    CHECK(x && y);
    static const struct {
        double order;
        const char *printed;
    } orders[] = {{2, "order 2.0 "},      {INFINITY, "order inf "},      {0.5, "order 0.5 "},
                  {1e16, "order 1e+16 "}, {123456.0, "order 123456.0 "}, {1e-5, "order 1e-05 "}};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        CHECK(tg_clip_grad_norm_ex_(&x, 1, 1, orders[i].order, TG_ERROR_IF_NONFINITE) == -1);
        CHECK_ERROR(TG_ERR_VALUE, orders[i].printed);
    }
    CHECK(tg_clip_grad_norm_ex_((tg_tensor *[]){x, y}, 2, 1, 2, TG_ERROR_IF_NONFINITE) == -1);
    CHECK_ERROR(TG_ERR_VALUE,
                "clip_grad_norm_: The total norm of order 2.0 for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, pass TG_SCALE_NONFINITE");
    CHECK_VALUES(tg_grad(x), v, 3, 0, 0);
    CHECK_VALUES(tg_grad(y), w, 2, 0, 0);
    /* Scaled, as PyTorch does by default: inf makes 0 and NaN, NaN makes NaN. */
    CHECK(isinf(tg_clip_grad_norm_ex_(&x, 1, 1, 2, TG_SCALE_NONFINITE)));
    double zeroed[3] = {0, NAN, 0};
    CHECK_VALUES(tg_grad(x), zeroed, 3, 0, 0);
    CHECK(isnan(tg_clip_grad_norm_(&y, 1, 1)));
    double nans[2] = {NAN, NAN};
    CHECK_VALUES(tg_grad(y), nans, 2, 0, 0);
}

/* The inf norm of an empty grad: PyTorch's max() refuses it; 1e300, which
 * PyTorch's kernel reads as the float32 inf, takes it (norm 0). */
static void inf_norm_of_an_empty_grad(void) {
    double v[2] = {3, -4};
    tg_tensor *x = with_grad(v, 2, TG_F32), *empty = with_grad(v, 0, TG_F32);
    CHECK(x && empty);
    tg_tensor *both[2] = {x, empty};
    CHECK(tg_clip_grad_norm_ex_(both, 2, 10, INFINITY, TG_SCALE_NONFINITE) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "clip_grad_norm_: parameter 1: max(): Expected reduction dim");
    CHECK(tg_clip_grad_norm_ex_(both, 2, 10, 1e300, TG_SCALE_NONFINITE) == 4);
    CHECK(tg_clip_grad_norm_ex_(both, 2, 10, 2, TG_SCALE_NONFINITE) == 5);
}

TG_TEST_MAIN(TG_CASE(clip_grad_norm_matches_pytorch_bit_for_bit),
             TG_CASE(clip_grad_value_matches_pytorch), TG_CASE(clipping_errors),
             TG_CASE(nonfinite_norms_refused_on_request), TG_CASE(inf_norm_of_an_empty_grad))
