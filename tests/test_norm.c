/* tests/test_norm.c - layer_norm and rms_norm, and the LayerNorm and RMSNorm
 * modules: values, node names and gradients against PyTorch
 * (golden/golden_norm.h, one table of cases: contiguous, transposed and
 * strided inputs, 1 to 3 normalized dims, with and without weight and
 * bias, rows far from zero, constant rows, NaN and infinities), the fused
 * op against the same formula composed of ops, gradcheck on strided
 * float64 inputs, every error, saved tensors changed in place, networks
 * with a norm in a Sequential trained against PyTorch, and no leak when
 * memory runs out. */
#include <float.h>
#include <stdint.h>
#include <unistd.h>

#include "golden/golden_norm.h"
#include "tg_test.h"

/* ---- The golden cases -------------------------------------------------------------------- */

static tg_tensor *as_viewed(tg_tensor *base, int view) {
    switch (view) {
    case 1: return tg_transpose(base, 0, 1);
    case 2: return tg_transpose(base, -2, -1);
    case 3: {
        int last = tg_ndim(base) - 1;
        return tg_slice(base, last, 0, tg_size(base, last), 2);
    }
    default: return base;
    }
}

static tg_tensor *golden_leaf(const double *v, int ndim, const int64_t *shape, tg_dtype dt) {
    return tg_requires_grad_(tg_test_tensor(v ? v : (const double[]){0}, ndim, shape, dt), true);
}

/* float64: PyTorch's values within 1e-12 (relative and absolute; its
 * values are of order 1, up to 1e3 for the gradients of constant rows).
 * float32: PyTorch's float64 values on the same inputs within one float32
 * rounding (tapegrad computes in double and rounds once), and PyTorch's
 * float32 values within float tolerance where they are not lost. */
#define F32_ROUNDING 1.2e-7 /* relative; absolute 1e-30 */
#define F32_TOLERANCE 1e-5  /* relative and absolute */
#define F64_TOLERANCE 1e-12 /* relative and absolute */

static void check_against(const tg_tensor *t, const double *want, const double *want64,
                          const golden_norm *c, int64_t n) {
    if (n == 0) return;
    if (c->f64) {
        CHECK_VALUES(t, want, n, F64_TOLERANCE, F64_TOLERANCE);
        return;
    }
    CHECK_VALUES(t, want64, n, F32_ROUNDING, 1e-30);
    if (!c->torch_f32_off) CHECK_VALUES(t, want, n, F32_TOLERANCE, F32_TOLERANCE);
}

static int n_cases, n_f32_off;

static void run_golden_case(const golden_norm *c) {
    tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
    tg_tensor *xb = golden_leaf(c->x, c->base_ndim, c->base_shape, dt);
    tg_tensor *x = as_viewed(xb, c->view);
    int nd = tg_ndim(x);
    const int64_t *nshape = tg_shape(x) + nd - c->k;
    int64_t wshape[4] = {0};
    for (int d = 0; d < c->k; d++) wshape[d] = nshape[c->weight_transposed ? c->k - 1 - d : d];
    tg_tensor *wb = c->has_weight ? golden_leaf(c->weight, c->k, wshape, dt) : NULL;
    tg_tensor *bb = c->has_bias ? golden_leaf(c->bias, c->k, nshape, dt) : NULL;
    tg_tensor *w = wb && c->weight_transposed ? tg_transpose(wb, 0, 1) : wb;
    tg_tensor *out = strcmp(c->op, "layer_norm") == 0
                         ? tg_layer_norm(x, c->k, nshape, w, bb, c->eps)
                         : tg_rms_norm(x, w, c->eps);
    CHECK(out != NULL);
    CHECK(tg_dtype_of(out) == dt && tg_ndim(out) == nd);
    for (int d = 0; d < nd; d++) CHECK(tg_size(out, d) == tg_size(x, d));
    CHECK_EQ_STR(tg_grad_fn_name(out), c->grad_fn);
    check_against(out, c->out, c->out64, c, tg_numel(out));
    if (tg_test_failed_now) return;
    tg_tensor *up = tg_test_tensor(tg_numel(out) ? c->up : (const double[]){0}, nd, tg_shape(out),
                                   dt);
    CHECK(tg_backward(out, up) == 0);
    /* the base's elements the view skips get a zero gradient */
    check_against(tg_grad(xb), c->gx, c->gx64, c, tg_numel(xb));
    if (wb) check_against(tg_grad(wb), c->gw, c->gw64, c, tg_numel(wb));
    if (bb) check_against(tg_grad(bb), c->gb, c->gb64, c, tg_numel(bb));
    n_cases++;
    n_f32_off += c->torch_f32_off;
}

static void norms_match_pytorch(void) {
    int n = (int)(sizeof golden_norms / sizeof golden_norms[0]);
    char context[96];
    for (int i = 0; i < n; i++) {
        const golden_norm *c = &golden_norms[i];
        snprintf(context, sizeof context, "%s #%d (%s, %s rows, view %d, k %d)", c->op, i,
                 c->f64 ? "float64" : "float32", c->rows, c->view, c->k);
        tg_test_context = context;
        tg_pool *pool = tg_pool_push();
        run_golden_case(c);
        tg_pool_pop(pool);
        if (tg_test_failed_now) return;
    }
    printf("  %d cases, values and gradients; %d float32 cases where PyTorch's float32 loses "
           "the value\n",
           n_cases, n_f32_off);
}

/* PyTorch's float32 kernel overflows where double does not: its layer_norm
 * of a row holding +-1e30 is the bias alone; tapegrad's is its float64
 * value, rounded. */
static void float32_rows_that_overflow_in_float(void) {
    tg_tensor *x = tg_from_data((float[]){1e30f, -1e30f, 3, 4}, TG_SHAPE(1, 4), TG_F32);
    tg_tensor *y = tg_layer_norm(x, TG_SHAPE(4), NULL, NULL, 1e-5);
    /* (x - 1.75) / std, std = sqrt(5e59) = 7.07e29: sqrt(2), -sqrt(2), and
     * two values within 1e-29 of 0 (rounding errors of the +-1e30 terms,
     * relative to std, decide them) */
    double want[] = {sqrt(2.0), -sqrt(2.0), 0, 0};
    CHECK_VALUES(y, want, 4, 1.2e-7, 1e-29);
    tg_tensor *r = tg_rms_norm(x, NULL, 1e-6); /* x / sqrt(5e59) */
    CHECK_VALUES(r, want, 4, 1.2e-7, 1e-29);
}

/* In float64 a row beyond 1e154 overflows the sum of squares: tapegrad
 * scales it (PyTorch's layer_norm gives NaN there, LLaMA's RMSNorm 0). Both
 * ops are the same on x and on x / 1e190 (eps aside, negligible there),
 * and their gradients 1e190 times smaller. Where x - mean itself
 * overflows, layer_norm gives NaN, as PyTorch's. */
static void float64_rows_beyond_1e154(void) {
    double big[] = {1e200, -1e200, 3e199, 4e199, 1e307, -1e307, 0, 1e300};
    double small[8], up[] = {1, -2, 0.5, 3, -1, 2, 0.25, 1.5};
    for (int i = 0; i < 8; i++) small[i] = big[i] / 1e190;
    for (int op = 0; op < 2; op++) {
        tg_tensor *xs[2], *ys[2];
        for (int k = 0; k < 2; k++) {
            xs[k] = tg_requires_grad_(tg_from_data(k ? small : big, TG_SHAPE(2, 4), TG_F64), true);
            ys[k] = op ? tg_rms_norm(xs[k], NULL, 1e-6)
                       : tg_layer_norm(xs[k], TG_SHAPE(4), NULL, NULL, 1e-5);
            CHECK(tg_backward(ys[k], tg_from_data(up, TG_SHAPE(2, 4), TG_F64)) == 0);
        }
        double want[8], got[8];
        tg_to_doubles(ys[1], want);
        CHECK_VALUES(ys[0], want, 8, 1e-15, 1e-15);
        tg_to_doubles(tg_grad(xs[1]), want);
        tg_to_doubles(tg_grad(xs[0]), got);
        for (int i = 0; i < 8; i++) CHECK_CLOSE(got[i] * 1e190, want[i], 1e-14, 1e-14);
    }
    tg_tensor *edge = tg_from_data((double[]){DBL_MAX, -DBL_MAX, 0, 1e300}, TG_SHAPE(4), TG_F64);
    CHECK(isnan(tg_item(tg_sum(tg_layer_norm(edge, TG_SHAPE(4), NULL, NULL, 1e-5)))));
    double sq2[] = {sqrt(2.0), -sqrt(2.0), 0, 1e300 / DBL_MAX * sqrt(2.0)};
    CHECK_VALUES(tg_rms_norm(edge, NULL, 1e-6), sq2, 4, 1e-15, 1e-300);
}

/* ---- The fused op against its formula composed of ops ----------------------------------- */

static tg_tensor *composed_layer_norm(tg_tensor *x, int k, tg_tensor *w, tg_tensor *b, double eps) {
    int dims[TG_MAX_DIMS];
    for (int d = 0; d < k; d++) dims[d] = tg_ndim(x) - k + d;
    tg_tensor *centered = tg_sub(x, tg_mean_dims(x, k, dims, TG_KEEP_DIMS));
    tg_tensor *var = tg_mean_dims(tg_mul(centered, centered), k, dims, TG_KEEP_DIMS);
    tg_tensor *y = tg_mul(centered, tg_pow_scalar(tg_add_scalar(var, eps), -0.5));
    if (w) y = tg_mul(y, w);
    return b ? tg_add(y, b) : y;
}

static tg_tensor *composed_rms_norm(tg_tensor *x, tg_tensor *w, double eps) {
    tg_tensor *ms = tg_mean_dims(tg_mul(x, x), 1, (int[]){-1}, TG_KEEP_DIMS);
    tg_tensor *y = tg_mul(x, tg_pow_scalar(tg_add_scalar(ms, eps), -0.5));
    return w ? tg_mul(y, w) : y;
}

/* Both ways, forward and backward, on a (6, 4, 5) float64 tensor (rows of
 * 5, or of 4 x 5) and on it transposed (4, 6, 5); the gradients of x,
 * weight and bias. */
static void fused_equals_composed(void) {
    tg_generator *gen = tg_generator_new(5);
    tg_tensor *xs = tg_randn(TG_SHAPE(6, 4, 5), TG_F64, gen);
    tg_tensor *w2 = tg_randn(TG_SHAPE(4, 5), TG_F64, gen),
              *b2 = tg_randn(TG_SHAPE(4, 5), TG_F64, gen);
    tg_tensor *w1 = tg_squeeze_dim(tg_slice(w2, 0, 1, 2, 1), 0);
    tg_tensor *b1 = tg_squeeze_dim(tg_slice(b2, 0, 2, 3, 1), 0);
    tg_tensor *up = tg_randn(TG_SHAPE(6, 4, 5), TG_F64, gen);
    tg_generator_free(gen);
    for (int variant = 0; variant < 4; variant++) {
        int k = variant == 1 ? 2 : 1;
        bool rms = variant == 3;
        tg_tensor *leaves[2][3];
        tg_tensor *ys[2];
        for (int way = 0; way < 2; way++) {
            leaves[way][0] = tg_requires_grad_(tg_clone(xs), true);
            leaves[way][1] = tg_requires_grad_(tg_clone(k == 2 ? w2 : w1), true);
            leaves[way][2] = tg_requires_grad_(tg_clone(k == 2 ? b2 : b1), true);
            tg_tensor *x = variant >= 2 ? tg_transpose(leaves[way][0], 0, 1) : leaves[way][0];
            const int64_t *ns = tg_shape(x) + 3 - k;
            if (rms)
                ys[way] = way ? composed_rms_norm(x, leaves[way][1], 1e-6)
                              : tg_rms_norm(x, leaves[way][1], 1e-6);
            else
                ys[way] = way ? composed_layer_norm(x, k, leaves[way][1], leaves[way][2], 1e-5)
                              : tg_layer_norm(x, k, ns, leaves[way][1], leaves[way][2], 1e-5);
            if (!ys[way]) printf("  %s\n", tg_last_error());
            CHECK(ys[way] != NULL);
            CHECK(tg_backward(tg_sum(tg_mul(ys[way], tg_reshape(up, 3, tg_shape(ys[way])))),
                              NULL) == 0);
        }
        double want[120];
        tg_to_doubles(ys[1], want);
        CHECK_VALUES(ys[0], want, 120, 1e-13, 1e-13);
        for (int i = 0; i < (rms ? 2 : 3); i++) {
            tg_to_doubles(tg_grad(leaves[1][i]), want);
            CHECK_VALUES(tg_grad(leaves[0][i]), want, tg_numel(leaves[0][i]), 1e-12, 1e-12);
        }
    }
}

/* ---- gradcheck, in float64 -------------------------------------------------------------
 * Inputs x (4, 6), then weight and bias: (6,), or (3, 2) for 2 normalized
 * dims. A function reads x as it is, transposed (6, 4), every other column
 * (4, 3), or viewed (4, 3, 2) and transposed in its last two dims (rows
 * that are no single run of memory). */

static tg_tensor *t01(tg_tensor *t) { return tg_transpose(t, 0, 1); }
static tg_tensor *every_other(tg_tensor *t) { return tg_slice(t, 1, 0, 6, 2); }
static tg_tensor *blocks(tg_tensor *t) {
    return tg_transpose(tg_view(t, TG_SHAPE(4, 2, 3)), 1, 2); /* (4, 3, 2) */
}

#define GRADCHECK_FN(name, expr)                              \
    static tg_tensor *name(tg_tensor *const *in, void *ctx) { \
        (void)ctx;                                            \
        tg_tensor *x = in[0], *w = in[1], *b = in[2];         \
        (void)w, (void)b;                                     \
        return (expr);                                        \
    }
GRADCHECK_FN(f_ln, tg_layer_norm(x, TG_SHAPE(6), w, b, 1e-5))
GRADCHECK_FN(f_ln_plain, tg_layer_norm(x, TG_SHAPE(6), NULL, NULL, 1e-5))
GRADCHECK_FN(f_ln_t, tg_layer_norm(t01(x), TG_SHAPE(4), tg_slice(w, 0, 0, 4, 1), NULL, 1e-5))
GRADCHECK_FN(f_ln_step, tg_layer_norm(every_other(x), TG_SHAPE(3), NULL, every_other(b), 1e-5))
GRADCHECK_FN(f_ln_2d, tg_layer_norm(tg_view(x, TG_SHAPE(4, 2, 3)), TG_SHAPE(2, 3),
                                    tg_view(w, TG_SHAPE(2, 3)), tg_view(b, TG_SHAPE(2, 3)), 1e-5))
GRADCHECK_FN(f_ln_blocks, tg_layer_norm(blocks(x), TG_SHAPE(3, 2), t01(tg_view(w, TG_SHAPE(2, 3))),
                                        tg_view(b, TG_SHAPE(3, 2)), 0.1))
GRADCHECK_FN(f_ln_all, tg_layer_norm(x, TG_SHAPE(4, 6), NULL, NULL, 1e-5)) /* one row */
GRADCHECK_FN(f_rms, tg_rms_norm(x, w, 1e-6))
GRADCHECK_FN(f_rms_plain, tg_rms_norm(x, NULL, 1e-6))
GRADCHECK_FN(f_rms_t, tg_rms_norm(t01(x), tg_slice(w, 0, 1, 5, 1), 1e-6))
GRADCHECK_FN(f_rms_step, tg_rms_norm(every_other(x), every_other(w), 0.1))
GRADCHECK_FN(f_rms_blocks, tg_rms_norm(blocks(x), tg_slice(w, 0, 0, 2, 1), 1e-6))

static void gradcheck_every_layout(void) {
    tg_generator *gen = tg_generator_new(9);
    tg_tensor *in[3] = {tg_requires_grad_(tg_randn(TG_SHAPE(4, 6), TG_F64, gen), true),
                        tg_requires_grad_(tg_rand(TG_SHAPE(6), TG_F64, gen), true),
                        tg_requires_grad_(tg_randn(TG_SHAPE(6), TG_F64, gen), true)};
    tg_generator_free(gen);
    struct {
        const char *name;
        tg_gradcheck_fn fn;
    } cases[] = {
        {"layer_norm", f_ln},
        {"layer_norm without weight and bias", f_ln_plain},
        {"layer_norm transposed", f_ln_t},
        {"layer_norm every other column", f_ln_step},
        {"layer_norm over 2 dims", f_ln_2d},
        {"layer_norm over 2 transposed dims", f_ln_blocks},
        {"layer_norm over every dim", f_ln_all},
        {"rms_norm", f_rms},
        {"rms_norm without weight", f_rms_plain},
        {"rms_norm transposed", f_rms_t},
        {"rms_norm every other column", f_rms_step},
        {"rms_norm over transposed dims", f_rms_blocks},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].name;
        CHECK(tg_gradcheck(cases[i].fn, NULL, 3, in, NULL) == 0);
    }
}

/* ---- Gradients to some inputs only, no grad mode, saved tensors ----------------------------- */

static void gradients_go_where_asked(void) {
    tg_tensor *x = tg_randn(TG_SHAPE(3, 4), TG_F32, NULL);
    tg_tensor *w = tg_requires_grad_(tg_ones(TG_SHAPE(4), TG_F32), true);
    tg_tensor *b = tg_zeros(TG_SHAPE(4), TG_F32);
    tg_tensor *y = tg_layer_norm(x, TG_SHAPE(4), w, b, 1e-5);
    CHECK_EQ_STR(tg_grad_fn_name(y), "NativeLayerNormBackward0");
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    CHECK(tg_grad(w) != NULL && tg_grad(x) == NULL && tg_grad(b) == NULL);
    /* the sum over the rows of xhat */
    double want[4];
    tg_to_doubles(
        tg_sum_dims(tg_layer_norm(x, TG_SHAPE(4), NULL, NULL, 1e-5), 1, (int[]){0}, TG_DROP_DIMS),
        want);
    CHECK_VALUES(tg_grad(w), want, 4, 1.2e-7, 1e-7);
    /* only the bias */
    tg_tensor *b2 = tg_requires_grad_(tg_zeros(TG_SHAPE(4), TG_F32), true);
    CHECK(tg_backward(tg_sum(tg_layer_norm(x, TG_SHAPE(4), NULL, b2, 1e-5)), NULL) == 0);
    double threes[4] = {3, 3, 3, 3};
    CHECK_VALUES(tg_grad(b2), threes, 4, 0, 0);
    /* nothing requires grad, or grad mode is off: no node */
    CHECK(tg_grad_fn_name(tg_layer_norm(x, TG_SHAPE(4), NULL, NULL, 1e-5)) == NULL);
    bool prev = tg_set_grad_enabled(false);
    tg_tensor *r = tg_rms_norm(x, w, 1e-6);
    tg_set_grad_enabled(prev);
    CHECK(r != NULL && tg_grad_fn_name(r) == NULL && !tg_requires_grad(r));
}

static void changed_saved_tensors_fail_the_backward(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(2, 3), TG_F64, NULL), true);
    tg_tensor *w = tg_ones(TG_SHAPE(3), TG_F64);
    tg_tensor *y = tg_layer_norm(x, TG_SHAPE(3), w, NULL, 1e-5);
    CHECK(tg_fill_(w, 2) == 0);
    CHECK(tg_backward(tg_sum(y), NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
    tg_tensor *base = tg_randn(TG_SHAPE(2, 3), TG_F64, NULL);
    tg_tensor *p = tg_requires_grad_(tg_ones(TG_SHAPE(3), TG_F64), true);
    y = tg_rms_norm(t01(t01(base)), p, 1e-6);
    CHECK(tg_mul_scalar_(base, 3) == 0); /* x, through another view */
    CHECK(tg_backward(tg_sum(y), NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
    /* retain_graph: the statistics are kept for a second backward */
    tg_tensor *x2 = tg_requires_grad_(tg_randn(TG_SHAPE(2, 3), TG_F64, NULL), true);
    y = tg_sum(tg_mul(tg_layer_norm(x2, TG_SHAPE(3), NULL, NULL, 1e-5), x2));
    CHECK(tg_backward_ex(y, NULL, TG_RETAIN_GRAPH) == 0);
    double first[6];
    tg_to_doubles(tg_grad(x2), first);
    CHECK(tg_backward(y, NULL) == 0);
    for (int i = 0; i < 6; i++) first[i] *= 2;
    CHECK_VALUES(tg_grad(x2), first, 6, 1e-15, 1e-15);
}

/* Empty tensors: rows of no elements, or no rows. */
static void empty_rows_and_no_rows(void) {
    tg_tensor *w = tg_requires_grad_(tg_ones(TG_SHAPE(0), TG_F64), true);
    tg_tensor *x = tg_requires_grad_(tg_zeros(TG_SHAPE(3, 0), TG_F64), true);
    tg_tensor *y = tg_layer_norm(x, TG_SHAPE(0), w, NULL, 1e-5);
    CHECK(y && tg_numel(y) == 0 && tg_size(y, 0) == 3);
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    CHECK(tg_numel(tg_grad(x)) == 0 && tg_numel(tg_grad(w)) == 0);
    tg_tensor *none = tg_requires_grad_(tg_zeros(TG_SHAPE(0, 5), TG_F32), true);
    tg_tensor *w5 = tg_requires_grad_(tg_ones(TG_SHAPE(5), TG_F32), true);
    y = tg_rms_norm(none, w5, 1e-6);
    CHECK(y && tg_numel(y) == 0);
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    double zeros[5] = {0};
    CHECK_VALUES(tg_grad(w5), zeros, 5, 0, 0);
}

/* ---- Errors -------------------------------------------------------------------------------- */

static void bad_arguments(void) {
    tg_tensor *x = tg_zeros(TG_SHAPE(2, 3), TG_F32), *w3 = tg_ones(TG_SHAPE(3), TG_F32);
    CHECK(tg_layer_norm(x, TG_SHAPE(4), NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Given normalized_shape=[4], expected input with shape "
                              "[*, 4], but got input of size[2, 3]");
    CHECK(tg_layer_norm(x, TG_SHAPE(1, 2, 3), NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Given normalized_shape=[1, 2, 3], expected input with "
                              "shape [*, 1, 2, 3], but got input of size[2, 3]");
    CHECK(tg_layer_norm(tg_scalar(1, TG_F32), TG_SHAPE(1), NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Given normalized_shape=[1], expected input with shape "
                              "[*, 1], but got input of size[]");
    CHECK(tg_layer_norm(x, TG_SHAPE(-3), NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "Given normalized_shape=[-3], expected input with shape [*, -3]");
    CHECK(tg_layer_norm(x, 0, NULL, NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Expected normalized_shape to be at least "
                              "1-dimensional, i.e., containing at least one element, but got "
                              "normalized_shape = []");
    CHECK(tg_layer_norm(x, -1, NULL, NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "layer_norm: normalized_ndim is -1, must be in 1 .. 8");
    CHECK(tg_layer_norm(x, 9, (int64_t[9]){0}, NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "layer_norm: normalized_ndim is 9, must be in 1 .. 8");
    CHECK(tg_layer_norm(x, 1, NULL, NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "layer_norm: argument is NULL");
    CHECK(tg_layer_norm(x, TG_SHAPE(3), tg_ones(TG_SHAPE(4), TG_F32), NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Expected weight to be of same shape as "
                              "normalized_shape, but got weight of shape [4] and normalized_shape "
                              "= [3]");
    CHECK(tg_layer_norm(x, TG_SHAPE(3), tg_ones(TG_SHAPE(1, 3), TG_F32), NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "but got weight of shape [1, 3] and normalized_shape = [3]");
    CHECK(tg_layer_norm(x, TG_SHAPE(3), w3, tg_ones(TG_SHAPE(2), TG_F32), 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Expected bias to be of same shape as normalized_shape, "
                              "but got bias of shape [2] and normalized_shape = [3]");
    CHECK(tg_layer_norm(x, TG_SHAPE(3), NULL, tg_ones(TG_SHAPE(4), TG_F32), 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "but got bias of shape [4] and normalized_shape = [3]");
    /* eps: PyTorch takes any; tapegrad refuses what is not positive and finite */
    double bad_eps[] = {0, -0.0, -1e-5, NAN, INFINITY, -INFINITY};
    const char *said[] = {"got 0", "got -0", "got -1e-05", "got nan", "got inf", "got -inf"};
    for (int i = 0; i < 6; i++) {
        CHECK(tg_layer_norm(x, TG_SHAPE(3), NULL, NULL, bad_eps[i]) == NULL);
        CHECK_ERROR(TG_ERR_VALUE, "layer_norm: eps must be positive and finite");
        CHECK(tg_rms_norm(x, NULL, bad_eps[i]) == NULL);
        CHECK(strstr(tg_last_error(), said[i]) != NULL);
        CHECK_ERROR(TG_ERR_VALUE, "rms_norm: eps must be positive and finite");
    }
    CHECK(tg_layer_norm(x, TG_SHAPE(3), NULL, NULL, 1e-300) != NULL); /* tiny is fine */
    /* dtypes */
    CHECK(tg_layer_norm(tg_zeros(TG_SHAPE(2, 3), TG_I64), TG_SHAPE(3), NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "layer_norm: expected a floating-point tensor, got int64");
    CHECK(tg_rms_norm(tg_zeros(TG_SHAPE(2, 3), TG_BOOL), NULL, 1e-6) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "rms_norm: expected a floating-point tensor, got bool");
    CHECK(tg_layer_norm(x, TG_SHAPE(3), tg_ones(TG_SHAPE(3), TG_F64), NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "layer_norm: dtypes float32 and float64 differ");
    CHECK(tg_rms_norm(x, tg_ones(TG_SHAPE(3), TG_I64), 1e-6) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "rms_norm: dtypes float32 and int64 differ");
    /* NULL */
    CHECK(tg_layer_norm(NULL, TG_SHAPE(3), NULL, NULL, 1e-5) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "layer_norm: argument is NULL");
    CHECK(tg_rms_norm(NULL, w3, 1e-6) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "rms_norm: argument is NULL");
    /* rms_norm's shapes */
    CHECK(tg_rms_norm(x, tg_ones(TG_SHAPE(2), TG_F32), 1e-6) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "rms_norm: Expected weight to be of same shape as normalized_shape, "
                              "but got weight of shape [2] and normalized_shape = [3]");
    CHECK(tg_rms_norm(tg_scalar(2, TG_F32), NULL, 1e-6) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "rms_norm: expected an input of at least 1 dim (normalized over its "
                              "last), got a 0-dim tensor");
    /* a NULL in a chain keeps the first failure's message */
    CHECK(tg_layer_norm(tg_add(x, tg_ones(TG_SHAPE(4), TG_F32)), TG_SHAPE(3), NULL, NULL, 1e-5) ==
          NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "add: shapes (2, 3) and (4,) cannot be broadcast");
}

/* ---- The modules ------------------------------------------------------------------------- */

static void layer_norm_module(void) {
    tg_module *ln = tg_layer_norm_new(TG_SHAPE(2, 3), TG_AFFINE, 1e-5, TG_F64);
    CHECK(ln != NULL);
    CHECK_EQ_STR(tg_module_name(ln), "LayerNorm");
    int n;
    const tg_named_tensor *ps = tg_module_parameters(ln, &n);
    CHECK(n == 2);
    CHECK_EQ_STR(ps[0].name, "weight");
    CHECK_EQ_STR(ps[1].name, "bias");
    double ones[6] = {1, 1, 1, 1, 1, 1}, zeros[6] = {0};
    CHECK_VALUES(ps[0].tensor, ones, 6, 0, 0);
    CHECK_VALUES(ps[1].tensor, zeros, 6, 0, 0);
    CHECK(tg_ndim(ps[0].tensor) == 2 && tg_size(ps[0].tensor, 1) == 3);
    CHECK(tg_requires_grad(ps[0].tensor) && tg_is_leaf(ps[1].tensor));
    /* its forward is the op's, with its parameters */
    tg_tensor *x = tg_randn(TG_SHAPE(4, 2, 3), TG_F64, NULL);
    tg_tensor *y = tg_module_forward(ln, x);
    CHECK_EQ_STR(tg_grad_fn_name(y), "NativeLayerNormBackward0");
    double want[24];
    tg_to_doubles(tg_layer_norm(x, TG_SHAPE(2, 3), NULL, NULL, 1e-5), want);
    CHECK_VALUES(y, want, 24, 0, 0);
    CHECK(tg_backward(tg_sum(tg_mul(y, y)), NULL) == 0);
    CHECK(tg_grad(ps[0].tensor) != NULL && tg_grad(ps[1].tensor) != NULL);
    CHECK(tg_module_forward(ln, tg_randn(TG_SHAPE(4, 3, 2), TG_F64, NULL)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "layer_norm: Given normalized_shape=[2, 3], expected input with "
                              "shape [*, 2, 3], but got input of size[4, 3, 2]");
    tg_module_free(ln);
    /* elementwise_affine=False: no parameters */
    ln = tg_layer_norm_new(TG_SHAPE(3), TG_NO_AFFINE, 1e-3, TG_F32);
    CHECK(ln && tg_module_num_elements(ln) == 0);
    tg_module_parameters(ln, &n);
    CHECK(n == 0);
    x = tg_randn(TG_SHAPE(2, 3), TG_F32, NULL);
    tg_to_doubles(tg_layer_norm(x, TG_SHAPE(3), NULL, NULL, 1e-3), want);
    CHECK_VALUES(tg_module_forward(ln, x), want, 6, 0, 0);
    tg_module_free(ln);
}

static void rms_norm_module(void) {
    tg_module *rms = tg_rms_norm_new(5, TG_RMS_NORM_DEFAULT_EPS, TG_F32);
    CHECK(rms != NULL);
    CHECK_EQ_STR(tg_module_name(rms), "RMSNorm");
    int n;
    const tg_named_tensor *ps = tg_module_parameters(rms, &n);
    CHECK(n == 1);
    CHECK_EQ_STR(ps[0].name, "weight");
    double ones[5] = {1, 1, 1, 1, 1};
    CHECK_VALUES(ps[0].tensor, ones, 5, 0, 0);
    tg_tensor *x = tg_randn(TG_SHAPE(3, 5), TG_F32, NULL);
    tg_tensor *y = tg_module_forward(rms, x);
    CHECK_EQ_STR(tg_grad_fn_name(y), "RmsNormBackward0");
    double want[15];
    tg_to_doubles(tg_rms_norm(x, NULL, 1e-6), want);
    CHECK_VALUES(y, want, 15, 0, 0);
    CHECK(tg_backward(tg_sum(y), NULL) == 0 && tg_grad(ps[0].tensor) != NULL);
    tg_module_free(rms);
}

/* Saved and loaded under PyTorch's names; a file of another shape refused. */
static void norm_modules_save_and_load(void) {
    char path[] = "/tmp/tg-norm-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    tg_module *a = tg_layer_norm_new(TG_SHAPE(4), TG_AFFINE, 1e-5, TG_F32);
    tg_module *b = tg_layer_norm_new(TG_SHAPE(4), TG_AFFINE, 1e-5, TG_F32);
    CHECK(a && b);
    bool prev = tg_set_grad_enabled(false);
    CHECK(tg_fill_(tg_module_parameter(a, "weight"), 0.5) == 0);
    CHECK(tg_fill_(tg_module_parameter(a, "bias"), -2) == 0);
    tg_set_grad_enabled(prev);
    CHECK(tg_module_save(a, path) == 0 && tg_module_load(b, path) == 0);
    CHECK(tg_item(tg_sum(tg_module_parameter(b, "weight"))) == 2);
    CHECK(tg_item(tg_sum(tg_module_parameter(b, "bias"))) == -8);
    tg_module *c = tg_rms_norm_new(4, 1e-6, TG_F32);
    CHECK(tg_module_load(c, path) == -1); /* no bias in an RMSNorm */
    CHECK(tg_last_status() != TG_OK);
    tg_clear_error();
    tg_module *d = tg_layer_norm_new(TG_SHAPE(5), TG_AFFINE, 1e-5, TG_F32);
    CHECK(tg_module_load(d, path) == -1);
    tg_clear_error();
    remove(path);
    tg_module_free(a);
    tg_module_free(b);
    tg_module_free(c);
    tg_module_free(d);
}

static void bad_module_arguments(void) {
    CHECK(tg_layer_norm_new(0, NULL, TG_AFFINE, 1e-5, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "LayerNorm: normalized_ndim is 0, must be in 1 .. 8");
    CHECK(tg_layer_norm_new(1, NULL, TG_AFFINE, 1e-5, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "LayerNorm: argument is NULL");
    CHECK(tg_layer_norm_new(TG_SHAPE(3, -1), TG_AFFINE, 1e-5, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "LayerNorm: normalized_shape (3, -1) has a negative dim");
    CHECK(tg_layer_norm_new(TG_SHAPE(3), TG_AFFINE, 0, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "LayerNorm: eps must be positive and finite, got 0");
    CHECK(tg_layer_norm_new(TG_SHAPE(3), TG_AFFINE, 1e-5, TG_I64) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "LayerNorm: expected a floating-point dtype, got int64");
    CHECK(tg_layer_norm_new(TG_SHAPE(3), TG_NO_AFFINE, 1e-5, TG_BOOL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "LayerNorm: expected a floating-point dtype, got bool");
    CHECK(tg_layer_norm_new(TG_SHAPE(3), TG_AFFINE, 1e-5, (tg_dtype)7) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "LayerNorm: invalid dtype 7");
    CHECK(tg_rms_norm_new(-2, 1e-6, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "RMSNorm: dim must not be negative, got -2");
    CHECK(tg_rms_norm_new(4, -1e-6, TG_F64) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "RMSNorm: eps must be positive and finite, got -1e-06");
    CHECK(tg_rms_norm_new(4, NAN, TG_F64) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "RMSNorm: eps must be positive and finite, got nan");
    CHECK(tg_rms_norm_new(4, 1e-6, TG_I64) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "RMSNorm: expected a floating-point dtype, got int64");
    CHECK(tg_rms_norm_new(INT64_MAX, 1e-6, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_NOMEM, "RMSNorm");
}

/* ---- Networks with a norm in a Sequential, trained against PyTorch ------------------------ */

static tg_module *golden_layer(const golden_norm_layer *l, tg_dtype dt) {
    switch (l->kind) {
    case 0: return tg_linear_new(l->shape[0], l->shape[1], TG_BIAS, dt, NULL);
    case 1:
        return tg_layer_norm_new(l->ndim, l->shape, l->flag ? TG_AFFINE : TG_NO_AFFINE, l->eps, dt);
    case 2: return tg_rms_norm_new(l->shape[0], l->eps, dt);
    default: return tg_activation_new((tg_activation_kind)l->shape[0]);
    }
}

static void train_golden_net(const golden_norm_net *c) {
    tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
    tg_manual_seed(c->seed); /* the Linears draw what torch.nn.Linear draws */
    tg_module *layers[4];
    for (int i = 0; i < c->n_layers; i++) layers[i] = golden_layer(&c->layers[i], dt);
    tg_module *net = tg_sequential_new(c->n_layers, layers);
    CHECK(net != NULL);
    /* the parameters in state_dict order, under its names */
    int n;
    const tg_named_tensor *ps = tg_module_parameters(net, &n);
    char names[512] = "";
    for (int i = 0; i < n; i++) {
        if (i) strcat(names, " ");
        strcat(names, ps[i].name);
    }
    CHECK_EQ_STR(names, c->names);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    o.momentum = 0.9;
    tg_optimizer *opt = tg_sgd_new(tg_module_parameter_tensors(net, &n), n, &o);
    tg_tensor *x = tg_test_tensor(c->x, c->x_ndim, c->x_shape, dt);
    tg_tensor *target = tg_test_tensor(c->target, c->y_ndim, c->y_shape, dt);
    bool ok = opt != NULL;
    for (int step = 0; ok && step < c->steps; step++) {
        tg_pool *pool = tg_pool_push();
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        tg_tensor *loss = tg_mse_loss(tg_module_forward(net, x), target, TG_REDUCTION_MEAN);
        ok = loss && tg_backward(loss, NULL) == 0 && tg_optim_step(opt) == 0;
        if (ok) {
            double got = tg_item(loss), want = c->losses[step];
            ok = tg_test_close(got, want, c->f64 ? 1e-12 : 1e-5, c->f64 ? 1e-12 : 1e-6);
            if (!ok) printf("  step %d: loss %.17g, want %.17g\n", step, got, want);
        }
        tg_pool_pop(pool);
    }
    int64_t at = 0;
    for (int i = 0; ok && i < n; i++) {
        tg_test_context = ps[i].name;
        CHECK_VALUES(ps[i].tensor, c->state + at, tg_numel(ps[i].tensor), c->f64 ? 1e-12 : 1e-5,
                     c->f64 ? 1e-12 : 1e-6);
        at += tg_numel(ps[i].tensor);
    }
    tg_optim_free(opt);
    tg_module_free(net);
    CHECK(ok);
}

static void networks_train_as_in_pytorch(void) {
    int n = (int)(sizeof golden_norm_nets / sizeof golden_norm_nets[0]);
    for (int i = 0; i < n; i++) {
        const golden_norm_net *c = &golden_norm_nets[i];
        char context[64];
        snprintf(context, sizeof context, "%s %s", c->name, c->f64 ? "float64" : "float32");
        tg_test_context = context;
        tg_pool *pool = tg_pool_push();
        train_golden_net(c);
        tg_pool_pop(pool);
        if (tg_test_failed_now) return;
    }
    printf("  %d networks, %d steps each\n", n, golden_norm_nets[0].steps);
}

/* ---- out of memory: fail the k-th allocation, for every k ----------------------------------- */

/* Both modules in a Sequential, forward and backward on a strided input
 * (x's rows are copied for the 2-dim norm), and the ops with no pool. */
static int norm_scenario(void *ctx) {
    (void)ctx;
    tg_module *net = tg_sequential_new(
        2, (tg_module *[]){tg_layer_norm_new(TG_SHAPE(3, 4), TG_AFFINE, 1e-5, TG_F64),
                           tg_rms_norm_new(4, 1e-6, TG_F64)});
    tg_tensor *base = net ? tg_full(TG_SHAPE(2, 4, 3), 0.5, TG_F64) : NULL;
    int rc = -1;
    if (base) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *x = pool ? tg_transpose(base, 1, 2) : NULL;
        tg_tensor *total = x ? tg_retain(tg_sum(tg_module_forward(net, x))) : NULL;
        tg_pool_pop(pool);
        rc = total ? tg_backward(total, NULL) : -1;
        tg_release(total);
    }
    tg_tensor *y = rc == 0 ? tg_rms_norm(base, NULL, 1e-6) : NULL;
    rc = y ? 0 : -1;
    tg_release(y);
    tg_release(base);
    tg_module_free(net);
    return rc;
}

static void out_of_memory_at_every_allocation(void) {
    tg_pool_pop(tg_test_pool);
    tg_test_sweep r = tg_test_fail_each_allocation(norm_scenario, NULL, NULL);
    printf("  %ld allocations, %d failures, %d wrong\n", r.allocations, r.failures, r.wrong);
    CHECK(r.allocations > 0 && r.failures > 5 && r.wrong == 0);
}

/* The strings are PyTorch 1.13's print of the same modules (LLaMA's RMSNorm
 * has no extra_repr). */
static void norm_modules_print_as_pytorch(void) {
    tg_module *net = tg_sequential_new(
        3, (tg_module *[]){tg_layer_norm_new(TG_SHAPE(4), TG_AFFINE, 1e-5, TG_F32),
                           tg_layer_norm_new(TG_SHAPE(2, 3), TG_NO_AFFINE, 1e-6, TG_F64),
                           tg_rms_norm_new(8, 1e-6, TG_F32)});
    char *s = tg_module_repr(net);
    CHECK_EQ_STR(s, "Sequential(\n"
                    "  (0): LayerNorm((4,), eps=1e-05, elementwise_affine=True)\n"
                    "  (1): LayerNorm((2, 3), eps=1e-06, elementwise_affine=False)\n"
                    "  (2): RMSNorm()\n"
                    ")");
    free(s);
    tg_module_free(net);
}

TG_TEST_MAIN(TG_CASE(norms_match_pytorch), TG_CASE(norm_modules_print_as_pytorch),
             TG_CASE(float32_rows_that_overflow_in_float), TG_CASE(float64_rows_beyond_1e154),
             TG_CASE(fused_equals_composed), TG_CASE(gradcheck_every_layout),
             TG_CASE(gradients_go_where_asked), TG_CASE(changed_saved_tensors_fail_the_backward),
             TG_CASE(empty_rows_and_no_rows), TG_CASE(bad_arguments), TG_CASE(layer_norm_module),
             TG_CASE(rms_norm_module), TG_CASE(norm_modules_save_and_load),
             TG_CASE(bad_module_arguments), TG_CASE(networks_train_as_in_pytorch),
             TG_CASE(out_of_memory_at_every_allocation))
