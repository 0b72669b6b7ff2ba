/* tests/test_elementwise.c - add, sub, mul, div with broadcasting, and the
 * in-place update, against PyTorch's values and gradients. */
#include "golden/golden_core.h"
#include "tg_test.h"

static tg_tensor *(*const binary_ops[])(tg_tensor *, tg_tensor *) = {tg_add, tg_sub, tg_mul,
                                                                     tg_div};
static const char *const binary_names[] = {"add", "sub", "mul", "div"};

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
        int op = 0;
        while (strcmp(binary_names[op], c->op) != 0) op++;
        tg_tensor *out = binary_ops[op](a, b);
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
     * as with contiguous copies. */
    tg_tensor *base = tg_rand(TG_SHAPE(3, 2), TG_F64, NULL);
    tg_tensor *t = tg_transpose(base, 0, 1), *c = tg_contiguous(t);
    tg_tensor *other = tg_add_scalar(tg_rand(TG_SHAPE(2, 3), TG_F64, NULL), 1);
    for (int op = 0; op < 4; op++) {
        tg_test_context = binary_names[op];
        double want[6];
        tg_to_doubles(binary_ops[op](c, other), want);
        CHECK_VALUES(binary_ops[op](t, other), want, 6, 0, 0);
        tg_to_doubles(binary_ops[op](other, c), want);
        CHECK_VALUES(binary_ops[op](other, t), want, 6, 0, 0);
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

TG_TEST_MAIN(TG_CASE(binary_ops_match_pytorch), TG_CASE(binary_ops_on_strided_inputs),
             TG_CASE(sgd_update_matches_pytorch_bit_for_bit), TG_CASE(neg_and_scalar_forms))
