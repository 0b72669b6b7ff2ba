/* tests/test_elementwise.c - add, sub, mul, div, pow with broadcasting, the
 * elementwise functions and selection, and the in-place update, against
 * PyTorch's values and gradients; each op called through its row of
 * tests/op_table.c. */
#include "golden/golden_core.h"
#include "op_table.h"
#include "tg_test.h"

static void binary_ops_match_pytorch(void) {
    int n = (int)(sizeof golden_binaries / sizeof golden_binaries[0]);
    char context[64];
    for (int i = 0; i < n; i++) {
        const golden_binary *c = &golden_binaries[i];
        snprintf(context, sizeof context, "%s #%d", c->op, i);
        tg_test_context = context;
        tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
        double rtol = c->f64 ? 1e-12 : 1e-5, atol = c->f64 ? 1e-12 : 1e-6;
        tg_tensor *a = tg_requires_grad_(tg_test_tensor(c->a, c->na, c->sa, dt), true);
        tg_tensor *b = tg_requires_grad_(tg_test_tensor(c->b, c->nb, c->sb, dt), true);
        tg_tensor *w = tg_test_tensor(c->w, c->nout, c->sout, dt);
        const op_row *op = op_named(c->op);
        CHECK(op != NULL);
        tg_tensor *out = op->call(a, b, NULL);
        CHECK(out && tg_ndim(out) == c->nout);
        int64_t n_out = tg_numel(out), n_a = tg_numel(a), n_b = tg_numel(b);
        CHECK_VALUES(out, c->out, n_out, rtol, atol);
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        CHECK_VALUES(tg_grad(a), c->ga, n_a, rtol, atol);
        CHECK_VALUES(tg_grad(b), c->gb, n_b, rtol, atol);
    }
}

static void binary_ops_on_strided_inputs(void) {
    /* (3, 2)^T viewed as (2, 3) against a contiguous (2, 3): same values
     * as with contiguous copies, for every broadcasting op. */
    tg_tensor *base = tg_rand(TG_SHAPE(3, 2), TG_F64, NULL);
    tg_tensor *t = tg_transpose(base, 0, 1), *c = tg_contiguous(t);
    tg_tensor *other = tg_add_scalar(tg_rand(TG_SHAPE(2, 3), TG_F64, NULL), 1);
    for (int i = 0; i < op_binary.n; i++) {
        const op_row *op = &op_binary.rows[i];
        if (op->inputs != OP_BROADCAST) continue;
        tg_test_context = op->name;
        double want[6];
        tg_to_doubles(op->call(c, other, NULL), want);
        CHECK_VALUES(op->call(t, other, NULL), want, 6, 0, 0);
        tg_to_doubles(op->call(other, c, NULL), want);
        CHECK_VALUES(op->call(other, t, NULL), want, 6, 0, 0);
    }
}

static void sgd_update_matches_pytorch_bit_for_bit(void) {
    int n = (int)(sizeof golden_axpys / sizeof golden_axpys[0]);
    for (int i = 0; i < n; i++) {
        const golden_axpy *c = &golden_axpys[i];
        tg_tensor *x = tg_test_tensor(c->x, TG_SHAPE(c->n), TG_F32);
        tg_tensor *g = tg_test_tensor(c->g, TG_SHAPE(c->n), TG_F32);
        CHECK(tg_add_(x, g, c->alpha) == 0);
        CHECK_VALUES(x, c->out, c->n, 0, 0);
    }
}

static void neg_and_scalar_forms(void) {
    double v[] = {-1.5, 0, 2};
    tg_tensor *x = tg_test_tensor(v, TG_SHAPE(3), TG_F32);
    double neg[] = {1.5, -0.0, -2}, rsub[] = {11.5, 10, 8}, div[] = {-0.75, 0, 1};
    CHECK_VALUES(tg_neg(x), neg, 3, 0, 0);
    CHECK(signbit(tg_get(tg_neg(x), (int64_t[]){1}))); /* -0, as torch.neg */
    CHECK_VALUES(tg_rsub_scalar(x, 10), rsub, 3, 0, 0);
    CHECK_VALUES(tg_div_scalar(x, 2), div, 3, 0, 0);
    double sum = tg_item(tg_sum(x)), mean = tg_item(tg_mean(x));
    CHECK(sum == 0.5 && mean == (double)(0.5f / 3));
    CHECK(isnan(tg_item(tg_mean(tg_zeros(TG_SHAPE(0), TG_F32))))); /* like torch */
}

/* div_ and div_scalar_ give tg_div's numbers (x / 255 is not x * (1 / 255)),
 * through strides and broadcasting, and bump the version. */
static void division_in_place(void) {
    tg_tensor *pixels = tg_arange(0, 256, 1, TG_F32), *want = tg_div_scalar(pixels, 255);
    tg_tensor *x = tg_clone(pixels);
    CHECK(tg_div_scalar_(x, 255) == 0);
    CHECK(memcmp(tg_data(x), tg_data(want), 256 * sizeof(float)) == 0);
    tg_tensor *m = tg_reshape(tg_arange(1, 7, 1, TG_F64), TG_SHAPE(2, 3));
    tg_tensor *t = tg_transpose(m, 0, 1), *d = tg_from_data((double[]){2, 4}, TG_SHAPE(2), TG_F64);
    tg_tensor *expect = tg_div(t, d);
    CHECK(tg_div_(t, d) == 0);
    double got[6], wanted[6];
    tg_to_doubles(t, got);
    tg_to_doubles(expect, wanted);
    CHECK(memcmp(got, wanted, sizeof got) == 0);
}

static void unary_ops_match_pytorch(void) {
    int n = (int)(sizeof golden_unaries / sizeof golden_unaries[0]);
    char context[64];
    for (int i = 0; i < n; i++) {
        const golden_unary *c = &golden_unaries[i];
        snprintf(context, sizeof context, "%s(%g) #%d", c->op, c->p0, i);
        tg_test_context = context;
        tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
        /* float32 exp/pow/log go through different libm and SIMD routines
         * in PyTorch: agree to a few ulp, well inside rtol 1e-5. */
        double rtol = c->f64 ? 1e-12 : 1e-5, atol = c->f64 ? 1e-12 : 1e-6;
        tg_tensor *base = tg_requires_grad_(tg_test_tensor(c->x, TG_SHAPE(3, 2), dt), true);
        tg_tensor *x = c->strided ? tg_transpose(base, 0, 1) : tg_view(base, TG_SHAPE(2, 3));
        tg_tensor *w = tg_test_tensor(c->w, TG_SHAPE(2, 3), dt);
        const op_row *op = op_named(c->op);
        CHECK(op != NULL);
        tg_tensor *out = op->call(x, NULL, (const double[]){c->p0, c->p1});
        CHECK_VALUES(out, c->out, 6, rtol, atol);
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        /* gx is in x's (2, 3) order; base's gradient is its (3, 2) layout. */
        tg_tensor *gx = c->strided ? tg_transpose(tg_grad(base), 0, 1)
                                   : tg_view(tg_grad(base), TG_SHAPE(2, 3));
        CHECK_VALUES(gx, c->gx, 6, rtol, atol);
    }
}

static void selection_ops_match_pytorch(void) {
    double a[] = {1, -2, 3, 0.5, 0.5, -1}, b[] = {0.5, -2, 4}, c[] = {1, 0};
    double w[] = {0.3, -0.7, 1.1, 2, -0.4, 0.9};
    int n = (int)(sizeof golden_selects / sizeof golden_selects[0]);
    for (int i = 0; i < n; i++) {
        const golden_select *g = &golden_selects[i];
        tg_test_context = g->op;
        tg_dtype dt = g->f64 ? TG_F64 : TG_F32;
        tg_tensor *ta = tg_requires_grad_(tg_test_tensor(a, TG_SHAPE(2, 3), dt), true);
        tg_tensor *tb = tg_requires_grad_(tg_test_tensor(b, TG_SHAPE(3), dt), true);
        /* where with a condition of its own (tests/op_table.c's where is a's own) */
        tg_tensor *out = strcmp(g->op, "where") == 0
                             ? tg_where(tg_ne_scalar(tg_test_tensor(c, TG_SHAPE(2, 1), dt), 0), ta,
                                        tb)
                             : op_named(g->op)->call(ta, tb, NULL);
        CHECK_VALUES(out, g->out, 6, 0, 0);
        CHECK(tg_backward(tg_sum(tg_mul(out, tg_test_tensor(w, TG_SHAPE(2, 3), dt))), NULL) == 0);
        CHECK_VALUES(tg_grad(ta), g->ga, 6, 1e-7, 0);
        CHECK_VALUES(tg_grad(tb), g->gb, 3, 1e-7, 0);
    }
}

static void nan_propagates_like_pytorch(void) {
    double v[] = {NAN, 1}, u[] = {0, NAN};
    tg_tensor *a = tg_test_tensor(v, TG_SHAPE(2), TG_F32),
              *b = tg_test_tensor(u, TG_SHAPE(2), TG_F32);
    double want[] = {NAN, NAN};
    CHECK_VALUES(tg_maximum(a, b), want, 2, 0, 0);
    CHECK_VALUES(tg_minimum(a, b), want, 2, 0, 0);
    CHECK(isnan(tg_get(tg_clamp(a, 0, 1), (int64_t[]){0})));
    double over[] = {2, 2}; /* min > max: max everywhere, as torch.clamp */
    CHECK_VALUES(tg_clamp(tg_ones(TG_SHAPE(2), TG_F32), 3, 2), over, 2, 0, 0);
}

/* pow's gradients where PyTorch's rules decide them (torch 1.13's values):
 * base 0 with exponent 0, 2, -1 and 0.5, a negative base, and -0 to the -1. */
static void pow_gradients_at_zero_and_negative_bases(void) {
    double a[] = {0, 0, 0, -2, -2, 2, 0, -0.0}, b[] = {0, 2, -1, 2, 0.5, 0, 0.5, -1};
    double y[] = {1, 0, INFINITY, 4, NAN, 1, 0, -INFINITY};
    double ga[] = {0, 0, -INFINITY, -4, NAN, 0, INFINITY, -INFINITY};
    double gb[] = {0, 0, -INFINITY, NAN, NAN, log(2), 0, INFINITY};
    for (int f64 = 0; f64 < 2; f64++) {
        tg_dtype dt = f64 ? TG_F64 : TG_F32;
        tg_tensor *ta = tg_requires_grad_(tg_test_tensor(a, TG_SHAPE(8), dt), true);
        tg_tensor *tb = tg_requires_grad_(tg_test_tensor(b, TG_SHAPE(8), dt), true);
        tg_tensor *out = tg_pow(ta, tb);
        CHECK_EQ_STR(tg_grad_fn_name(out), "PowBackward1");
        CHECK_VALUES(out, y, 8, 1e-7, 0);
        CHECK(tg_backward(out, tg_ones(TG_SHAPE(8), dt)) == 0);
        CHECK_VALUES(tg_grad(ta), ga, 8, 1e-7, 0);
        CHECK_VALUES(tg_grad(tb), gb, 8, 1e-7, 0);
    }
    /* A 0-dim exponent broadcasts; its gradient is summed: d/db sum(a^b) = sum(a^b log a). */
    tg_tensor *base = tg_test_tensor((double[]){1, 2, 4}, TG_SHAPE(3), TG_F64);
    tg_tensor *e = tg_requires_grad_(tg_scalar(2, TG_F64), true);
    CHECK(tg_backward(tg_pow(base, e), tg_ones(TG_SHAPE(3), TG_F64)) == 0);
    CHECK(tg_ndim(tg_grad(e)) == 0);
    CHECK(fabs(tg_item(tg_grad(e)) - (4 * log(2) + 16 * log(4))) < 1e-12);
}

/* The named one-bound clamps: a NaN bound fills the result with NaN (unlike
 * tg_clamp's "no bound"); at the bound the gradient passes; -0 stays -0. */
static void clamp_min_and_clamp_max(void) {
    double v[] = {-0.0, 0, NAN, -1, 2};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(5), TG_F32), true);
    double lo[] = {-0.0, 0, NAN, 0, 2}, hi[] = {-0.0, 0, NAN, -1, 0};
    tg_tensor *out = tg_clamp_min(x, 0);
    CHECK_VALUES(out, lo, 5, 0, 0);
    CHECK(signbit(tg_get(out, (int64_t[]){0})));
    CHECK_EQ_STR(tg_grad_fn_name(out), "ClampMinBackward0");
    CHECK_VALUES(tg_clamp_max(x, 0), hi, 5, 0, 0);
    double nans[] = {NAN, NAN, NAN, NAN, NAN};
    CHECK_VALUES(tg_clamp_min(x, NAN), nans, 5, 0, 0);
    CHECK_VALUES(tg_clamp_max(x, NAN), nans, 5, 0, 0);
    CHECK(tg_backward(tg_sum(tg_clamp_min(x, 0)), NULL) == 0);
    double g[] = {1, 1, 0, 0, 1}; /* x >= 0 passes, NaN does not */
    CHECK_VALUES(tg_grad(x), g, 5, 0, 0);
}

static tg_tensor *f_math(tg_tensor *const *in, void *c) {
    (void)c;
    tg_tensor *x = in[0]; /* positive inputs: log, sqrt, fractional pow */
    return tg_add(tg_add(tg_log(x), tg_sqrt(x)),
                  tg_add(tg_pow_scalar(x, -1.5), tg_mul(tg_exp(x), tg_abs(in[1]))));
}
static tg_tensor *f_select(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_add(tg_maximum(in[0], in[1]),
                  tg_add(tg_minimum(in[0], in[1]),
                         tg_where(tg_ne_scalar(in[0], 0), tg_clamp(in[1], -0.5, 0.5), in[0])));
}

static void gradcheck_math_and_selection(void) {
    tg_tensor *x = tg_requires_grad_(tg_add_scalar(tg_rand(TG_SHAPE(2, 3), TG_F64, NULL), 0.5),
                                     true);
    tg_tensor *y = tg_requires_grad_(tg_sub_scalar(tg_rand(TG_SHAPE(3), TG_F64, NULL), 0.5), true);
    tg_tensor *in[2] = {x, y};
    CHECK(tg_gradcheck(f_math, NULL, 2, in,
                       &(tg_gradcheck_options){.kinks = (double[]){0}, .n_kinks = 1}) == 0);
    /* y lies in [-0.5, 0.5) and x in [0.5, 1.5): no ties, clamp kinks skipped. */
    CHECK(tg_gradcheck(f_select, NULL, 2, in,
                       &(tg_gradcheck_options){.kinks = (double[]){-0.5, 0.5}, .n_kinks = 2}) == 0);
}

TG_TEST_MAIN(TG_CASE(binary_ops_match_pytorch), TG_CASE(binary_ops_on_strided_inputs),
             TG_CASE(sgd_update_matches_pytorch_bit_for_bit), TG_CASE(neg_and_scalar_forms),
             TG_CASE(unary_ops_match_pytorch), TG_CASE(selection_ops_match_pytorch),
             TG_CASE(nan_propagates_like_pytorch), TG_CASE(gradcheck_math_and_selection),
             TG_CASE(division_in_place), TG_CASE(pow_gradients_at_zero_and_negative_bases),
             TG_CASE(clamp_min_and_clamp_max))
