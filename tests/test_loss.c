/* tests/test_loss.c - mse_loss, binary_cross_entropy_with_logits,
 * cross_entropy and dropout: values and gradients against PyTorch,
 * gradcheck, stability at large logits, the dropout mask, and bad input. */
#include "golden/golden_nn.h"
#include "tg_test.h"

#define RTOL(f64) ((f64) ? 1e-12 : 1e-5)
#define ATOL(f64) ((f64) ? 1e-12 : 1e-6)

/* The golden leaf (a base of shape c_shape) and the op's input: the base or
 * its transpose. */
static tg_tensor *golden_leaf(const double *data, int ndim, const int64_t *shape, int f64,
                              tg_tensor **input, int transposed) {
    tg_tensor *base = tg_test_tensor(data, ndim, shape, f64 ? TG_F64 : TG_F32);
    tg_requires_grad_(base, true);
    *input = transposed ? tg_transpose(base, 0, 1) : base;
    return base;
}

static tg_tensor *run_loss(const golden_loss *c, tg_tensor *x, tg_tensor *t) {
    tg_reduction r = (tg_reduction)c->reduction;
    if (!strcmp(c->op, "mse_loss")) return tg_mse_loss(x, t, r);
    if (!strncmp(c->op, "cross_entropy", strlen("cross_entropy"))) {
        tg_cross_entropy_options o = {r, NULL, c->ignore_index, c->label_smoothing};
        int64_t classes = tg_size(x, tg_ndim(x) == 1 ? 0 : 1);
        if (c->class_weight)
            o.weight = tg_test_tensor(c->class_weight, TG_SHAPE(classes), tg_dtype_of(x));
        return c->classes ? tg_cross_entropy_ex(x, c->classes, &o)
                          : tg_cross_entropy_probs(x, t, &o);
    }
    return tg_binary_cross_entropy_with_logits(x, t, r);
}

static void losses_match_pytorch(void) {
    int n = (int)(sizeof golden_losses / sizeof golden_losses[0]);
    char context[96];
    for (int i = 0; i < n; i++) {
        const golden_loss *c = &golden_losses[i];
        snprintf(context, sizeof context, "%s #%d (%s, reduction %d)", c->op, i,
                 c->f64 ? "f64" : "f32", c->reduction);
        tg_test_context = context;
        double rtol = RTOL(c->f64), atol = ATOL(c->f64);
        tg_tensor *x, *t = NULL;
        tg_tensor *base = golden_leaf(c->x, c->ndim, c->shape, c->f64, &x, c->transposed);
        if (c->t) {
            t = tg_requires_grad_(tg_test_tensor(c->t, tg_ndim(x), tg_shape(x), tg_dtype_of(x)),
                                  true);
        }
        tg_tensor *out = run_loss(c, x, t);
        CHECK(out && tg_ndim(out) == c->out_ndim);
        for (int d = 0; d < c->out_ndim; d++) CHECK(tg_size(out, d) == c->out_shape[d]);
        CHECK_VALUES(out, c->out, tg_numel(out), rtol, atol);
        tg_tensor *w = tg_test_tensor(c->w, c->out_ndim, c->out_shape, tg_dtype_of(out));
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        CHECK_VALUES(tg_grad(base), c->gx, tg_numel(base), rtol, atol);
        if (c->gt) CHECK_VALUES(tg_grad(t), c->gt, tg_numel(t), rtol, atol);
    }
}

static void nodes_are_named(void) {
    tg_tensor *x = tg_requires_grad_(tg_rand(TG_SHAPE(2, 3), TG_F32, NULL), true);
    tg_tensor *t = tg_rand(TG_SHAPE(2, 3), TG_F32, NULL);
    CHECK_EQ_STR(tg_grad_fn_name(tg_mse_loss(x, t, TG_REDUCTION_MEAN)), "MseLossBackward0");
    CHECK_EQ_STR(tg_grad_fn_name(tg_binary_cross_entropy_with_logits(x, t, TG_REDUCTION_SUM)),
                 "BinaryCrossEntropyWithLogitsBackward0");
    /* PyTorch: NllLossBackward0 after LogSoftmaxBackward0; here one fused node. */
    CHECK_EQ_STR(tg_grad_fn_name(tg_cross_entropy(x, (int64_t[]){0, 2}, TG_REDUCTION_NONE)),
                 "CrossEntropyBackward0");
    CHECK_EQ_STR(tg_grad_fn_name(tg_dropout(x, 0.5, TG_TRAIN, NULL)), "NativeDropoutBackward0");
    /* Only the target requires grad: still recorded, for the target. */
    tg_tensor *y = tg_mse_loss(t, x, TG_REDUCTION_MEAN);
    CHECK(tg_requires_grad(y) && tg_backward(y, NULL) == 0 && tg_grad(x) != NULL);
}

static void cross_entropy_is_finite_at_huge_logits(void) {
    for (int dt = 0; dt < 2; dt++) {
        double big = dt ? 1e300 : 1e38;
        double v[] = {big, -big, 0, -big, big, big};
        tg_tensor *x = tg_requires_grad_(tg_test_tensor(v, TG_SHAPE(2, 3), dt ? TG_F64 : TG_F32),
                                         true);
        tg_tensor *loss = tg_cross_entropy(x, (int64_t[]){0, 1}, TG_REDUCTION_NONE);
        double got[6];
        CHECK(loss && tg_to_doubles(loss, got) == 0);
        CHECK(got[0] == 0);
        CHECK_CLOSE(got[1], log(2), 1e-7, 0); /* two equal huge logits */
        CHECK(tg_backward(tg_sum(loss), NULL) == 0);
        double want[] = {0, 0, 0, 0, -0.5, 0.5}; /* softmax - onehot */
        CHECK_VALUES(tg_grad(x), want, 6, 0, 0);
    }
}

/* ---- gradcheck ------------------------------------------------------------------- */

/* The cross entropies with options use class weights and smoothing 0.1,
 * the index form also ignores class 3. */
typedef enum loss_kind {
    MSE,
    BCE,
    CROSS_ENTROPY,
    CROSS_ENTROPY_OPTIONS,
    CROSS_ENTROPY_PROBS
} loss_kind;

typedef struct loss_call {
    const char *name;
    loss_kind op;
    tg_reduction reduction;
    bool transposed;
} loss_call;

static const int64_t gradcheck_classes[] = {2, 0, 3, 3};

static tg_tensor *f_loss(tg_tensor *const *in, void *ctx) {
    const loss_call *c = ctx;
    tg_tensor *x = c->transposed ? tg_transpose(in[0], 0, 1) : in[0];
    switch (c->op) {
    case MSE: return tg_mse_loss(x, in[1], c->reduction);
    case BCE: return tg_binary_cross_entropy_with_logits(x, in[1], c->reduction);
    case CROSS_ENTROPY: return tg_cross_entropy(x, gradcheck_classes, c->reduction);
    default: {
        static const double w[5] = {0.5, 1.5, 1, 2, 0.25};
        tg_cross_entropy_options o = {c->reduction, tg_test_tensor(w, TG_SHAPE(5), TG_F64),
                                      c->op == CROSS_ENTROPY_PROBS ? -100 : 3, 0.1};
        return c->op == CROSS_ENTROPY_PROBS ? tg_cross_entropy_probs(x, in[1], &o)
                                            : tg_cross_entropy_ex(x, gradcheck_classes, &o);
    }
    }
}

static void gradcheck_losses(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(4, 5), TG_F64, NULL), true);
    tg_tensor *xt = tg_requires_grad_(tg_randn(TG_SHAPE(5, 4), TG_F64, NULL), true);
    tg_tensor *t = tg_requires_grad_(tg_rand(TG_SHAPE(4, 5), TG_F64, NULL), true);
    static const char *const names[5][3] = {
        {"mse mean", "mse sum", "mse none"},
        {"bce mean", "bce sum", "bce none"},
        {"ce mean", "ce sum", "ce none"},
        {"ce options mean", "ce options sum", "ce options none"},
        {"ce probabilities mean", "ce probabilities sum", "ce probabilities none"}};
    for (int op = MSE; op <= CROSS_ENTROPY_PROBS; op++)
        for (int r = TG_REDUCTION_MEAN; r <= TG_REDUCTION_NONE; r++)
            for (int tr = 0; tr < 2; tr++) { /* x, then the transpose of xt */
                loss_call c = {names[op][r], (loss_kind)op, (tg_reduction)r, tr};
                tg_test_context = c.name;
                tg_tensor *in[2] = {tr ? xt : x, t};
                bool index_target = op == CROSS_ENTROPY || op == CROSS_ENTROPY_OPTIONS;
                CHECK(tg_gradcheck(f_loss, &c, index_target ? 1 : 2, in, NULL) == 0);
            }
}

/* ---- bad input ------------------------------------------------------------------- */

static void bad_loss_input_is_refused(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32), *t3 = tg_ones(TG_SHAPE(3), TG_F32);
    CHECK(tg_mse_loss(x, t3, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "mse_loss: target shape (3,) does not match input shape (2, 3)");
    CHECK(tg_binary_cross_entropy_with_logits(x, tg_ones(TG_SHAPE(3, 2), TG_F32),
                                              TG_REDUCTION_SUM) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "binary_cross_entropy_with_logits: target shape (3, 2) does not "
                              "match input shape (2, 3)");
    CHECK(tg_mse_loss(x, tg_ones(TG_SHAPE(2, 3), TG_F64), TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "mse_loss: dtypes float32 and float64 differ");
    CHECK(tg_mse_loss(x, x, (tg_reduction)3) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "mse_loss: unknown reduction 3");
    CHECK(tg_cross_entropy(x, (int64_t[]){0, 3}, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: target[1] = 3 is out of range for 3 classes");
    CHECK(tg_cross_entropy(x, (int64_t[]){-1, 0}, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: target[0] = -1 is out of range for 3 classes");
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.ignore_index = 5;
    CHECK(tg_cross_entropy_ex(x, (int64_t[]){-100, 0}, &o) == NULL); /* -100 is no longer ignored */
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: target[0] = -100 is out of range for 3 classes");
    o = tg_cross_entropy_defaults();
    o.label_smoothing = 1.5;
    CHECK(tg_cross_entropy_ex(x, (int64_t[]){0, 0}, &o) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: label_smoothing 1.5 is not in [0, 1]");
    o = tg_cross_entropy_defaults();
    o.weight = tg_ones(TG_SHAPE(3), TG_F64);
    CHECK(tg_cross_entropy_ex(x, (int64_t[]){0, 0}, &o) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE,
                "cross_entropy: weight dtype float64 differs from the logits' float32");
    o.weight = tg_ones(TG_SHAPE(4), TG_F32);
    CHECK(tg_cross_entropy_ex(x, (int64_t[]){0, 0}, &o) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cross_entropy: weight of shape (4,) for 3 classes (want (3,))");
    CHECK(tg_cross_entropy_probs(x, tg_ones(TG_SHAPE(3, 2), TG_F32), NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "cross_entropy: target shape (3, 2) does not match input shape (2, 3)");
    CHECK(tg_cross_entropy_probs(x, tg_ones(TG_SHAPE(2, 3), TG_F64), NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "cross_entropy: dtypes float32 and float64 differ");
    o = tg_cross_entropy_defaults();
    o.ignore_index = 0;
    CHECK(tg_cross_entropy_probs(x, x, &o) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: ignore_index 0 with probabilities as the target");
    CHECK(tg_cross_entropy_probs(x, NULL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cross_entropy: argument is NULL");
    CHECK(tg_cross_entropy(tg_scalar(1, TG_F32), (int64_t[]){0}, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cross_entropy: logits must have a class dim, got a 0-dim tensor");
    CHECK(tg_cross_entropy(t3, (int64_t[]){3}, TG_REDUCTION_MEAN) == NULL); /* one sample */
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: target[0] = 3 is out of range for 3 classes");
    tg_tensor *nd = tg_ones(TG_SHAPE(2, 3, 4), TG_F32);
    CHECK(tg_cross_entropy_probs(nd, tg_ones(TG_SHAPE(2, 4, 3), TG_F32), NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cross_entropy: target shape (2, 4, 3) does not match input shape "
                              "(2, 3, 4)");
    CHECK(tg_cross_entropy(x, (int64_t[]){0, 0}, (tg_reduction)-1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: unknown reduction -1");
}

static void null_loss_input_returns_null(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_mse_loss(NULL, x, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "mse_loss: argument is NULL");
    CHECK(tg_binary_cross_entropy_with_logits(x, NULL, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "binary_cross_entropy_with_logits: argument is NULL");
    CHECK(tg_cross_entropy(NULL, (int64_t[]){0, 0}, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cross_entropy: argument is NULL");
    CHECK(tg_cross_entropy(x, NULL, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cross_entropy: argument is NULL");
    CHECK(tg_dropout(NULL, 0.5, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "dropout: argument is NULL");
}

static void empty_batches_as_pytorch(void) {
    tg_tensor *x = tg_zeros(TG_SHAPE(0, 3), TG_F32);
    int64_t none = 0;
    CHECK(isnan(tg_item(tg_cross_entropy(x, &none, TG_REDUCTION_MEAN))));
    CHECK(tg_item(tg_cross_entropy(x, &none, TG_REDUCTION_SUM)) == 0);
    CHECK(isnan(tg_item(tg_mse_loss(x, x, TG_REDUCTION_MEAN))));
}

/* Logits of other shapes go through private views: with no pool pushed,
 * the caller owns the loss alone, and releasing it frees everything. */
static void nd_cross_entropy_without_a_pool_leaks_nothing(void) {
    tg_pool_pop(tg_test_pool);
    int64_t live = tg_live_tensors();
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 3, 4), TG_F64), true);
    int64_t classes[8] = {0, 1, 2, 0, 1, 2, -100, 1};
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.reduction = TG_REDUCTION_NONE;
    tg_tensor *per_sample = tg_cross_entropy_ex(x, classes, &o);
    CHECK(per_sample && tg_ndim(per_sample) == 2 && tg_size(per_sample, 0) == 2 &&
          tg_size(per_sample, 1) == 4);
    tg_tensor *loss = tg_cross_entropy(x, classes, TG_REDUCTION_MEAN);
    CHECK(loss && tg_backward(loss, NULL) == 0);
    CHECK(fabs(tg_item(loss) - log(3.0)) < 1e-15); /* equal logits: log C */
    tg_release(loss);
    tg_release(per_sample);
    tg_release(x);
    CHECK(tg_live_tensors() == live);
}

/* ---- dropout ------------------------------------------------------------------------ */

static void dropout_matches_pytorch_bit_for_bit(void) {
    int n = (int)(sizeof golden_dropouts / sizeof golden_dropouts[0]);
    char context[64];
    for (int i = 0; i < n; i++) {
        const golden_dropout *c = &golden_dropouts[i];
        snprintf(context, sizeof context, "dropout #%d (p %g, %s)", i, c->p,
                 c->f64 ? "f64" : "f32");
        tg_test_context = context;
        tg_tensor *x;
        tg_tensor *base = golden_leaf(c->x, c->ndim, c->shape, c->f64, &x, c->transposed);
        tg_manual_seed(c->seed);
        tg_tensor *out = tg_dropout(x, c->p, TG_TRAIN, NULL);
        CHECK_VALUES(out, c->out, tg_numel(out), 0, 0);
        tg_tensor *w = tg_test_tensor(c->w, tg_ndim(out), tg_shape(out), tg_dtype_of(out));
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        CHECK_VALUES(tg_grad(base), c->grad, tg_numel(base), 0, 0);
    }
}

static void dropout_zeroes_a_fraction_p_and_scales_the_rest(void) {
    const double ps[] = {0.1, 0.3, 0.5, 0.8};
    tg_generator *gen = tg_generator_new(123);
    for (int k = 0; k < 4; k++) {
        tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(200, 500), TG_F32), true);
        tg_tensor *out = tg_dropout(x, ps[k], TG_TRAIN, gen);
        CHECK(tg_backward(tg_sum(out), NULL) == 0);
        const float *v = tg_data(out), *g = tg_data(tg_grad(x));
        float scale = (float)(1 / (1 - ps[k]));
        int64_t zeros = 0;
        for (int64_t i = 0; i < tg_numel(out); i++) {
            CHECK(v[i] == 0 || v[i] == scale);
            CHECK(g[i] == v[i]); /* d out / d x = mask * scale, and x = 1 */
            zeros += v[i] == 0;
        }
        /* 100000 draws: the fraction's standard deviation is below 0.0016. */
        CHECK_CLOSE((double)zeros / 100000, ps[k], 0, 0.01);
    }
    tg_generator_free(gen);
}

static void dropout_same_seed_same_mask(void) {
    tg_generator *a = tg_generator_new(9), *b = tg_generator_new(9);
    tg_tensor *x = tg_randn(TG_SHAPE(8, 16), TG_F64, NULL);
    double first[128], second[128];
    CHECK(tg_to_doubles(tg_dropout(x, 0.4, TG_TRAIN, a), first) == 0);
    CHECK_VALUES(tg_dropout(x, 0.4, TG_TRAIN, b), first, 128, 0, 0);
    CHECK(tg_to_doubles(tg_dropout(x, 0.4, TG_TRAIN, a), second) == 0); /* the stream moved on */
    CHECK(memcmp(first, second, sizeof first) != 0);
    tg_generator_seed(a, 9);
    CHECK_VALUES(tg_dropout(x, 0.4, TG_TRAIN, a), first, 128, 0, 0);
    tg_manual_seed(9); /* the default generator draws the same stream */
    CHECK_VALUES(tg_dropout(x, 0.4, TG_TRAIN, NULL), first, 128, 0, 0);
    tg_generator_free(a);
    tg_generator_free(b);
}

static void dropout_identity_in_eval_and_for_p_0(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(3, 4), TG_F32, NULL), true);
    tg_generator *gen = tg_generator_new(1);
    CHECK(tg_dropout(x, 0.5, TG_EVAL, gen) == x); /* as F.dropout: the input itself */
    CHECK(tg_dropout(x, 0.0, TG_TRAIN, gen) == x);
    CHECK(tg_dropout(x, 1.0, TG_EVAL, gen) == x);
    double u = tg_item(tg_rand(0, NULL, TG_F64, gen));
    tg_generator_seed(gen, 1);
    CHECK(u == tg_item(tg_rand(0, NULL, TG_F64, gen))); /* nothing was drawn */
    CHECK(tg_backward(tg_sum(tg_dropout(x, 0.5, TG_EVAL, gen)), NULL) == 0);
    double ones[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_VALUES(tg_grad(x), ones, 12, 0, 0);
    tg_generator_free(gen);
}

static void dropout_with_p_1_gives_zeros(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(3, 4), TG_F64, NULL), true);
    tg_tensor *out = tg_dropout(x, 1.0, TG_TRAIN, NULL);
    double zeros[12] = {0};
    CHECK_VALUES(out, zeros, 12, 0, 0);
    CHECK(tg_backward(tg_sum(out), NULL) == 0);
    CHECK_VALUES(tg_grad(x), zeros, 12, 0, 0);
}

static void dropout_refuses_p_outside_0_1(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2), TG_F32);
    CHECK(tg_dropout(x, -0.1, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "dropout: probability p must be in [0, 1], got -0.1");
    CHECK(tg_dropout(x, 1.5, TG_EVAL, NULL) == NULL); /* checked in eval too, as torch */
    CHECK_ERROR(TG_ERR_VALUE, "dropout: probability p must be in [0, 1], got 1.5");
    CHECK(tg_dropout(x, NAN, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "dropout: probability p must be in [0, 1], got nan");
}

typedef struct dropout_call {
    tg_generator *gen;
    bool transposed;
} dropout_call;

/* The same mask at every call: the generator is reseeded first. */
static tg_tensor *f_dropout(tg_tensor *const *in, void *ctx) {
    const dropout_call *c = ctx;
    tg_generator_seed(c->gen, 5);
    return tg_dropout(c->transposed ? tg_transpose(in[0], 0, 1) : in[0], 0.4, TG_TRAIN, c->gen);
}

static void gradcheck_dropout(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(4, 6), TG_F64, NULL), true);
    dropout_call c = {tg_generator_new(0), false};
    CHECK(tg_gradcheck(f_dropout, &c, 1, &x, NULL) == 0);
    c.transposed = true;
    int rc = tg_gradcheck(f_dropout, &c, 1, &x, NULL);
    tg_generator_free(c.gen);
    CHECK(rc == 0);
}

TG_TEST_MAIN(TG_CASE(losses_match_pytorch), TG_CASE(nodes_are_named),
             TG_CASE(cross_entropy_is_finite_at_huge_logits), TG_CASE(gradcheck_losses),
             TG_CASE(bad_loss_input_is_refused), TG_CASE(null_loss_input_returns_null),
             TG_CASE(empty_batches_as_pytorch),
             TG_CASE(nd_cross_entropy_without_a_pool_leaks_nothing),
             TG_CASE(dropout_matches_pytorch_bit_for_bit),
             TG_CASE(dropout_zeroes_a_fraction_p_and_scales_the_rest),
             TG_CASE(dropout_same_seed_same_mask), TG_CASE(dropout_identity_in_eval_and_for_p_0),
             TG_CASE(dropout_with_p_1_gives_zeros), TG_CASE(dropout_refuses_p_outside_0_1),
             TG_CASE(gradcheck_dropout))
