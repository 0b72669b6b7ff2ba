/* tests/test_loss.c - the elementwise losses (mse, l1, smooth L1, Huber,
 * binary cross entropy with and without logits, with weights, kl_div),
 * cross_entropy, nll_loss and dropout: values and gradients against
 * PyTorch, node names, gradcheck (contiguous and transposed inputs),
 * stability at large logits, the losses' edges, the dropout mask, and bad
 * input. */
#include "golden/golden_nn.h"
#include "tg_test.h"

#define RTOL(f64) ((f64) ? 1e-12 : 1e-5)
/* A 1-D int64 tensor of class indices: LABELS(0, 2). */
#define LABELS(...)                                                                             \
    tg_from_data((const int64_t[]){__VA_ARGS__},                                                \
                 TG_SHAPE((int64_t)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))), \
                 TG_I64)
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

/* The class-index target of an input: its samples' shape (x's without the
 * class dim), the indices row-major. */
static tg_tensor *class_target(const int64_t *classes, const tg_tensor *x) {
    int64_t shape[TG_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < tg_ndim(x); d++)
        if (d != (tg_ndim(x) == 1 ? 0 : 1)) shape[ndim++] = tg_size(x, d);
    return tg_from_data(classes, ndim, shape, TG_I64);
}

static tg_tensor *run_loss(const golden_loss *c, tg_tensor *x, tg_tensor *t) {
    tg_reduction r = (tg_reduction)c->reduction;
    tg_dtype dt = tg_dtype_of(x);
    tg_tensor *w = c->weight ? tg_test_tensor(c->weight, c->weight_ndim, c->weight_shape, dt)
                             : NULL;
    tg_tensor *pw = c->pos_weight
                        ? tg_test_tensor(c->pos_weight, c->pos_weight_ndim, c->pos_weight_shape, dt)
                        : NULL;
    if (!strcmp(c->op, "mse_loss")) return tg_mse_loss(x, t, r);
    if (!strcmp(c->op, "l1_loss")) return tg_l1_loss(x, t, r);
    if (!strcmp(c->op, "smooth_l1_loss")) return tg_smooth_l1_loss(x, t, r, c->param);
    if (!strcmp(c->op, "huber_loss")) return tg_huber_loss(x, t, r, c->param);
    if (!strcmp(c->op, "binary_cross_entropy")) return tg_binary_cross_entropy(x, t, w, r);
    if (!strcmp(c->op, "kl_div")) return tg_kl_div(x, t, r, (tg_log_target)c->param);
    if (!strcmp(c->op, "binary_cross_entropy_with_logits")) {
        tg_bce_with_logits_options o = {r, w, pw};
        return tg_binary_cross_entropy_with_logits_ex(x, t, &o);
    }
    int64_t classes = tg_size(x, tg_ndim(x) == 1 ? 0 : 1);
    tg_tensor *weight = c->class_weight
                            ? tg_test_tensor(c->class_weight, TG_SHAPE(classes), tg_dtype_of(x))
                            : NULL;
    if (!strcmp(c->op, "nll_loss")) {
        tg_nll_loss_options o = {r, weight, c->ignore_index};
        return tg_nll_loss(x, class_target(c->classes, x), &o);
    }
    if (!strncmp(c->op, "cross_entropy", strlen("cross_entropy"))) {
        tg_cross_entropy_options o = {r, weight, c->ignore_index, c->label_smoothing};
        return tg_cross_entropy_ex(x, c->classes ? class_target(c->classes, x) : t, &o);
    }
    return NULL;
}

/* PyTorch's node, but for cross entropy one fused node here,
 * CrossEntropyBackward0, where PyTorch has log_softmax's and nll_loss's
 * (and more for probabilities or smoothing); then, as nll_loss's, the
 * per-sample losses over 3 or more than 4 dims are a view of the node's. */
static const char *expected_node(const golden_loss *c) {
    if (strncmp(c->op, "cross_entropy", strlen("cross_entropy"))) return c->node;
    bool viewed = c->reduction == TG_REDUCTION_NONE && (c->ndim == 3 || c->ndim > 4);
    return viewed ? "ViewBackward0" : "CrossEntropyBackward0";
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
        CHECK_EQ_STR(tg_grad_fn_name(out), expected_node(c));
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
    CHECK_EQ_STR(tg_grad_fn_name(tg_cross_entropy(x, LABELS(0, 2), TG_REDUCTION_NONE)),
                 "CrossEntropyBackward0");
    CHECK_EQ_STR(tg_grad_fn_name(tg_nll_loss(x, LABELS(0, 2), NULL)), "NllLossBackward0");
    tg_tensor *x4 = tg_requires_grad_(tg_rand(TG_SHAPE(2, 3, 1, 2), TG_F32, NULL), true);
    tg_tensor *t4 = tg_zeros(TG_SHAPE(2, 1, 2), TG_I64);
    CHECK_EQ_STR(tg_grad_fn_name(tg_nll_loss(x4, t4, NULL)), "NllLoss2DBackward0");
    tg_nll_loss_options none = tg_nll_loss_defaults();
    none.reduction = TG_REDUCTION_NONE;
    CHECK_EQ_STR(tg_grad_fn_name(tg_nll_loss(x4, t4, &none)), "NllLoss2DBackward0");
    tg_tensor *x3 = tg_requires_grad_(tg_rand(TG_SHAPE(2, 3, 2), TG_F32, NULL), true);
    tg_tensor *t3 = tg_zeros(TG_SHAPE(2, 2), TG_I64);
    CHECK_EQ_STR(tg_grad_fn_name(tg_nll_loss(x3, t3, NULL)), "NllLoss2DBackward0");
    CHECK_EQ_STR(tg_grad_fn_name(tg_nll_loss(x3, t3, &none)), "ViewBackward0"); /* as torch */
    CHECK_EQ_STR(tg_grad_fn_name(tg_dropout(x, 0.5, TG_TRAIN, NULL)), "NativeDropoutBackward0");
    /* the fused elementwise losses, and torch 1.13's compositions */
    CHECK_EQ_STR(tg_grad_fn_name(tg_smooth_l1_loss(x, t, TG_REDUCTION_MEAN, 1)),
                 "SmoothL1LossBackward0");
    CHECK_EQ_STR(tg_grad_fn_name(tg_smooth_l1_loss(x, t, TG_REDUCTION_NONE, 0)),
                 "SmoothL1LossBackward0");
    CHECK_EQ_STR(tg_grad_fn_name(tg_huber_loss(x, t, TG_REDUCTION_SUM, 1)), "HuberLossBackward0");
    CHECK_EQ_STR(
        tg_grad_fn_name(tg_binary_cross_entropy(tg_sigmoid(x), t, NULL, TG_REDUCTION_MEAN)),
        "BinaryCrossEntropyBackward0");
    tg_bce_with_logits_options bo = tg_bce_with_logits_defaults();
    bo.pos_weight = tg_ones(TG_SHAPE(3), TG_F32);
    CHECK_EQ_STR(tg_grad_fn_name(tg_binary_cross_entropy_with_logits_ex(x, t, &bo)),
                 "BinaryCrossEntropyWithLogitsBackward0");
    const char *l1[] = {"MeanBackward0", "SumBackward0", "AbsBackward0"};
    const char *kl[] = {"MeanBackward0", "SumBackward0", "SubBackward0", "DivBackward0"};
    for (int r = TG_REDUCTION_MEAN; r <= TG_REDUCTION_BATCHMEAN; r++) {
        if (r <= TG_REDUCTION_NONE)
            CHECK_EQ_STR(tg_grad_fn_name(tg_l1_loss(x, t, (tg_reduction)r)), l1[r]);
        CHECK_EQ_STR(tg_grad_fn_name(tg_kl_div(x, t, (tg_reduction)r, TG_TARGET_PROBS)), kl[r]);
    }
    CHECK_EQ_STR(tg_grad_fn_name(tg_kl_div(x, t, TG_REDUCTION_NONE, TG_TARGET_LOG_PROBS)),
                 "MulBackward0");
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
        tg_tensor *loss = tg_cross_entropy(x, LABELS(0, 1), TG_REDUCTION_NONE);
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

/* The cross entropies and nll_loss with options use class weights (and
 * for cross entropy smoothing 0.1); the index forms also ignore class 3.
 * binary_cross_entropy takes sigmoid(x), probabilities, and a weight per
 * column; with logits, a weight and a pos_weight per column. */
typedef enum loss_kind {
    MSE,
    BCE,
    CROSS_ENTROPY,
    CROSS_ENTROPY_OPTIONS,
    CROSS_ENTROPY_PROBS,
    NLL,
    NLL_OPTIONS,
    L1,
    SMOOTH_L1,
    SMOOTH_L1_BETA_0,
    HUBER,
    BCE_PROBS,
    BCE_WEIGHTED,
    KL_DIV,
    KL_DIV_LOG,
    N_LOSS_KINDS
} loss_kind;
static const char *const kind_names[N_LOSS_KINDS] = {"mse",
                                                     "bce",
                                                     "ce",
                                                     "ce options",
                                                     "ce probabilities",
                                                     "nll",
                                                     "nll options",
                                                     "l1",
                                                     "smooth_l1 beta 0.5",
                                                     "smooth_l1 beta 0",
                                                     "huber 1.5",
                                                     "bce probs",
                                                     "bce weighted",
                                                     "kl_div",
                                                     "kl_div log target"};

typedef struct loss_call {
    const char *name;
    loss_kind op;
    tg_reduction reduction;
    bool transposed;
    tg_tensor *classes; /* of the samples' shape */
} loss_call;

static tg_tensor *f_loss(tg_tensor *const *in, void *ctx) {
    static const double w[5] = {0.5, 1.5, 1, 2, 0.25}, pw[5] = {2, 0.5, 3, 1, 1.5};
    const loss_call *c = ctx;
    tg_tensor *x = c->transposed ? tg_transpose(in[0], 0, 1) : in[0];
    int64_t classes = tg_size(x, tg_ndim(x) == 1 ? 0 : 1);
    tg_tensor *weight = tg_test_tensor(w, TG_SHAPE(classes), TG_F64);
    tg_reduction r = c->reduction;
    switch (c->op) {
    case MSE: return tg_mse_loss(x, in[1], r);
    case BCE: return tg_binary_cross_entropy_with_logits(x, in[1], r);
    case CROSS_ENTROPY: return tg_cross_entropy(x, c->classes, r);
    case NLL: return tg_nll_loss(x, c->classes, &(tg_nll_loss_options){r, NULL, -100});
    case NLL_OPTIONS: return tg_nll_loss(x, c->classes, &(tg_nll_loss_options){r, weight, 3});
    case L1: return tg_l1_loss(x, in[1], r);
    case SMOOTH_L1: return tg_smooth_l1_loss(x, in[1], r, 0.5);
    case SMOOTH_L1_BETA_0: return tg_smooth_l1_loss(x, in[1], r, 0);
    case HUBER: return tg_huber_loss(x, in[1], r, 1.5);
    case BCE_PROBS: return tg_binary_cross_entropy(tg_sigmoid(x), in[1], weight, r);
    case BCE_WEIGHTED: {
        tg_bce_with_logits_options o = {r, weight, tg_test_tensor(pw, TG_SHAPE(classes), TG_F64)};
        return tg_binary_cross_entropy_with_logits_ex(x, in[1], &o);
    }
    case KL_DIV: return tg_kl_div(x, in[1], r, TG_TARGET_PROBS);
    case KL_DIV_LOG: return tg_kl_div(x, in[1], r, TG_TARGET_LOG_PROBS);
    default: {
        tg_cross_entropy_options o = {r, weight, c->op == CROSS_ENTROPY_PROBS ? -100 : 3, 0.1};
        return tg_cross_entropy_ex(x, c->op == CROSS_ENTROPY_PROBS ? in[1] : c->classes, &o);
    }
    }
}

static bool takes_class_indices(loss_kind op) {
    return op == CROSS_ENTROPY || op == CROSS_ENTROPY_OPTIONS || op == NLL || op == NLL_OPTIONS;
}

/* Every loss and reduction (batchmean for kl_div), on x and on a transposed
 * view, with a target requiring grad where it is a tensor of values. */
static void gradcheck_losses(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(4, 5), TG_F64, NULL), true);
    tg_tensor *xt = tg_requires_grad_(tg_randn(TG_SHAPE(5, 4), TG_F64, NULL), true);
    tg_tensor *t = tg_requires_grad_(tg_rand(TG_SHAPE(4, 5), TG_F64, NULL), true);
    static const char *const reductions[] = {"mean", "sum", "none", "batchmean"};
    char name[64];
    for (int op = MSE; op < N_LOSS_KINDS; op++)
        for (int r = TG_REDUCTION_MEAN; r <= TG_REDUCTION_BATCHMEAN; r++)
            for (int tr = 0; tr < 2; tr++) { /* x, then the transpose of xt */
                if (r == TG_REDUCTION_BATCHMEAN && op != KL_DIV && op != KL_DIV_LOG) continue;
                snprintf(name, sizeof name, "%s %s%s", kind_names[op], reductions[r],
                         tr ? " transposed" : "");
                loss_call c = {name, (loss_kind)op, (tg_reduction)r, tr, LABELS(2, 0, 3, 3)};
                tg_test_context = c.name;
                tg_tensor *in[2] = {tr ? xt : x, t};
                CHECK(tg_gradcheck(f_loss, &c, takes_class_indices((loss_kind)op) ? 1 : 2, in,
                                   NULL) == 0);
            }
}

/* The class losses over (C,), (N, C, d1), (N, C, d1, d2) and (N, C, d1,
 * d2, d3) inputs, read in place through their strides (the transpose of a
 * base with N and C swapped), against a strided target (every other
 * index along the last dim of an int64 tensor twice as wide). */
static void gradcheck_class_losses_of_any_shape(void) {
    static const int64_t shapes[4][6] = {
        {1, 5}, {3, 2, 5, 3}, {4, 2, 5, 2, 2}, {5, 2, 5, 1, 2, 2}}; /* ndim, then the shape */
    for (int k = 0; k < 4; k++) {
        int ndim = (int)shapes[k][0];
        int64_t shape[TG_MAX_DIMS], base_shape[TG_MAX_DIMS], wide[TG_MAX_DIMS], n = 1;
        memcpy(shape, shapes[k] + 1, sizeof(int64_t) * (size_t)ndim);
        memcpy(base_shape, shape, sizeof shape);
        if (ndim > 1) base_shape[0] = shape[1], base_shape[1] = shape[0];
        tg_tensor *base = tg_requires_grad_(tg_randn(ndim, base_shape, TG_F64, NULL), true);
        tg_tensor *probs = tg_requires_grad_(tg_rand(ndim, shape, TG_F64, NULL), true);
        int sdim = 0; /* the samples' shape, the last dim doubled */
        for (int d = 0; d < ndim; d++)
            if (d != (ndim == 1 ? 0 : 1)) n *= wide[sdim++] = shape[d];
        tg_tensor *classes = tg_scalar(2, TG_I64);
        if (sdim > 0) {
            wide[sdim - 1] *= 2;
            tg_tensor *all = tg_zeros(TG_SHAPE(2 * n), TG_I64);
            for (int64_t i = 0; i < 2 * n; i++) ((int64_t *)tg_data(all))[i] = (i * 7 / 2) % 5;
            classes = tg_slice(tg_reshape(all, sdim, wide), sdim - 1, 0, wide[sdim - 1], 2);
            CHECK(classes && !tg_is_contiguous(classes));
        }
        for (int op = CROSS_ENTROPY; op <= NLL_OPTIONS; op++)
            for (int r = TG_REDUCTION_MEAN; r <= TG_REDUCTION_NONE; r++) {
                char name[64];
                snprintf(name, sizeof name, "%d-dim input, kind %d, reduction %d", ndim, op, r);
                tg_test_context = name;
                loss_call c = {name, (loss_kind)op, (tg_reduction)r, ndim > 1, classes};
                tg_tensor *in[2] = {base, probs};
                CHECK(tg_gradcheck(f_loss, &c, op == CROSS_ENTROPY_PROBS ? 2 : 1, in, NULL) == 0);
            }
    }
}

/* ---- bad input ------------------------------------------------------------------- */

/* The elementwise losses where their pieces meet or clamp. */
static void elementwise_losses_at_their_edges(void) {
    double xv[] = {0, 1, -1, 2.5}, tv[] = {0, 1, 0, 1};
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(xv, TG_SHAPE(4), TG_F64), true);
    tg_tensor *t = tg_requires_grad_(tg_test_tensor(tv, TG_SHAPE(4), TG_F64), true);
    /* smooth_l1 with beta 0 is l1, gradient 0 where x = t (torch's: -1, to x and t) */
    tg_tensor *a = tg_smooth_l1_loss(x, t, TG_REDUCTION_NONE, 0);
    double l1[] = {0, 0, 1, 1.5}, slope[] = {0, 0, -1, 1}, minus[] = {0, 0, 1, -1};
    CHECK_VALUES(a, l1, 4, 0, 0);
    CHECK_VALUES(tg_l1_loss(x, t, TG_REDUCTION_NONE), l1, 4, 0, 0);
    CHECK(tg_backward(tg_sum(a), NULL) == 0);
    CHECK_VALUES(tg_grad(x), slope, 4, 0, 0);
    CHECK_VALUES(tg_grad(t), minus, 4, 0, 0);
    /* huber is smooth_l1 times delta */
    double h[] = {0, 0, 0.5, 1.5 * (1.5 - 0.75)}; /* z = 1 inside delta, 1.5 at it */
    CHECK_VALUES(tg_huber_loss(x, t, TG_REDUCTION_NONE, 1.5), h, 4, 1e-15, 0);
    /* binary cross entropy: each log clamped at -100, the gradient's
     * denominator at 1e-12 (a float32), the target's gradient not */
    double pv[] = {0, 1, 1, 0.5};
    tg_tensor *pr = tg_requires_grad_(tg_test_tensor(pv, TG_SHAPE(4), TG_F64), true);
    tg_tensor *tb = tg_requires_grad_(tg_test_tensor(tv, TG_SHAPE(4), TG_F64), true);
    tg_tensor *b = tg_binary_cross_entropy(pr, tb, NULL, TG_REDUCTION_NONE);
    double bce[] = {0, 0, 100, log(2)};
    CHECK_VALUES(b, bce, 4, 1e-15, 0);
    CHECK(tg_backward(tg_sum(b), NULL) == 0);
    double gp[] = {0, 0, 1 / (double)1e-12f, -2}, gt[] = {INFINITY, -INFINITY, -INFINITY, 0};
    CHECK_VALUES(tg_grad(pr), gp, 4, 1e-15, 0);
    CHECK_VALUES(tg_grad(tb), gt, 4, 0, 0);
    /* kl_div: a target of 0 adds 0 (xlogy), batchmean over dim 0 */
    tg_tensor *k = tg_kl_div(x, t, TG_REDUCTION_NONE, TG_TARGET_PROBS);
    double kl[] = {0, -1, 0, -2.5};
    CHECK_VALUES(k, kl, 4, 0, 0);
    tg_tensor *x2 = tg_view(x, TG_SHAPE(2, 2)), *t2 = tg_view(t, TG_SHAPE(2, 2));
    CHECK(tg_item(tg_kl_div(x2, t2, TG_REDUCTION_BATCHMEAN, TG_TARGET_PROBS)) == -3.5 / 2);
    CHECK(tg_item(tg_kl_div(x2, t2, TG_REDUCTION_MEAN, TG_TARGET_PROBS)) == -3.5 / 4);
    tg_tensor *s = tg_scalar(-0.5, TG_F64), *st = tg_scalar(0.25, TG_F64);
    CHECK_CLOSE(tg_item(tg_kl_div(s, st, TG_REDUCTION_BATCHMEAN, TG_TARGET_PROBS)),
                0.25 * (log(0.25) + 0.5), 1e-15, 0); /* a 0-dim input: the sum */
    CHECK_CLOSE(tg_item(tg_kl_div(s, st, TG_REDUCTION_SUM, TG_TARGET_LOG_PROBS)), exp(0.25) * 0.75,
                1e-15, 0);
}

static void bad_loss_input_is_refused(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32), *t3 = tg_ones(TG_SHAPE(3), TG_F32);
    CHECK(tg_smooth_l1_loss(x, x, TG_REDUCTION_MEAN, -0.5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "smooth_l1_loss does not support negative values for beta");
    CHECK(tg_smooth_l1_loss(x, x, TG_REDUCTION_MEAN, NAN) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "smooth_l1_loss does not support negative values for beta");
    CHECK(tg_huber_loss(x, x, TG_REDUCTION_SUM, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "huber_loss does not support non-positive values for delta (got 0)");
    CHECK(tg_huber_loss(x, x, TG_REDUCTION_SUM, -1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "huber_loss does not support non-positive values for delta");
    CHECK(tg_l1_loss(x, t3, TG_REDUCTION_NONE) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "l1_loss: target shape (3,) does not match input shape (2, 3)");
    CHECK(tg_kl_div(x, t3, TG_REDUCTION_BATCHMEAN, TG_TARGET_PROBS) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "kl_div: target shape (3,) does not match input shape (2, 3)");
    CHECK(tg_kl_div(x, x, (tg_reduction)9, TG_TARGET_PROBS) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "kl_div: unknown reduction 9 (use TG_REDUCTION_MEAN, "
                              "TG_REDUCTION_SUM or TG_REDUCTION_NONE, or TG_REDUCTION_BATCHMEAN)");
    CHECK(tg_huber_loss(x, x, TG_REDUCTION_BATCHMEAN, 1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "huber_loss: batchmean is not a valid value for reduction (kl_div's only)");
    double outside[] = {0.5, 1.25, -1, 0, 1, 0};
    tg_tensor *p = tg_test_tensor(outside, TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_binary_cross_entropy(p, x, NULL, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "binary_cross_entropy: all elements of input should be between 0 and 1 (found "
                "1.25)");
    CHECK(tg_binary_cross_entropy(tg_full(TG_SHAPE(2), NAN, TG_F64), tg_ones(TG_SHAPE(2), TG_F64),
                                  NULL, TG_REDUCTION_SUM) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "all elements of input should be between 0 and 1 (found nan)");
    CHECK(tg_binary_cross_entropy(x, x, tg_ones(TG_SHAPE(2), TG_F32), TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "binary_cross_entropy: weight of shape (2,) does not broadcast to "
                              "the input's shape (2, 3)");
    CHECK(tg_binary_cross_entropy(x, x, tg_ones(TG_SHAPE(2, 2, 3), TG_F32), TG_REDUCTION_MEAN) ==
          NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "weight of shape (2, 2, 3) does not broadcast");
    tg_bce_with_logits_options bo = tg_bce_with_logits_defaults();
    bo.pos_weight = tg_ones(TG_SHAPE(3), TG_F64);
    CHECK(tg_binary_cross_entropy_with_logits_ex(x, x, &bo) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "binary_cross_entropy_with_logits: pos_weight dtype float64 "
                              "differs from the input's float32");
    bo.pos_weight = tg_ones(TG_SHAPE(2), TG_F32);
    CHECK(tg_binary_cross_entropy_with_logits_ex(x, x, &bo) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "pos_weight of shape (2,) does not broadcast");
    bo = tg_bce_with_logits_defaults();
    bo.reduction = TG_REDUCTION_BATCHMEAN;
    CHECK(tg_binary_cross_entropy_with_logits_ex(x, x, &bo) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "batchmean is not a valid value for reduction");
    CHECK(tg_mse_loss(x, t3, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "mse_loss: target shape (3,) does not match input shape (2, 3)");
    CHECK(tg_binary_cross_entropy_with_logits(x, tg_ones(TG_SHAPE(3, 2), TG_F32),
                                              TG_REDUCTION_SUM) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "binary_cross_entropy_with_logits: target shape (3, 2) does not "
                              "match input shape (2, 3)");
    CHECK(tg_mse_loss(x, tg_ones(TG_SHAPE(2, 3), TG_F64), TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "mse_loss: dtypes float32 and float64 differ");
    CHECK(tg_mse_loss(x, x, (tg_reduction)4) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "mse_loss: unknown reduction 4");
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.label_smoothing = 1.5;
    CHECK(tg_cross_entropy_ex(x, LABELS(0, 0), &o) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: label_smoothing 1.5 is not in [0, 1]");
    o = tg_cross_entropy_defaults();
    o.weight = tg_ones(TG_SHAPE(3), TG_F64);
    CHECK(tg_cross_entropy_ex(x, LABELS(0, 0), &o) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE,
                "cross_entropy: weight dtype float64 differs from the logits' float32");
    CHECK(tg_nll_loss(x, LABELS(0, 0), &(tg_nll_loss_options){0, o.weight, -100}) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "nll_loss: weight dtype float64 differs from the input's float32");
    o.weight = tg_ones(TG_SHAPE(4), TG_F32);
    CHECK(tg_cross_entropy_ex(x, LABELS(0, 0), &o) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cross_entropy: weight of shape (4,) for 3 classes (want (3,))");
    CHECK(tg_cross_entropy_probs(x, tg_ones(TG_SHAPE(2, 3), TG_F64), NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "cross_entropy: dtypes float32 and float64 differ");
    o = tg_cross_entropy_defaults();
    o.ignore_index = 0;
    CHECK(tg_cross_entropy_ex(x, x, &o) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "cross_entropy: ignore_index is not supported for floating point target");
    CHECK(tg_cross_entropy(x, LABELS(0, 0), (tg_reduction)-1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: unknown reduction -1");
    CHECK(tg_nll_loss(x, LABELS(0, 0), &(tg_nll_loss_options){(tg_reduction)4, NULL, -100}) ==
          NULL);
    CHECK_ERROR(TG_ERR_VALUE, "nll_loss: unknown reduction 4");
    CHECK(tg_nll_loss(tg_ones(TG_SHAPE(2, 3), TG_I64), LABELS(0, 0), NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "nll_loss: expected a floating-point tensor, got int64");
    CHECK(tg_cross_entropy(tg_ones(TG_SHAPE(2, 3), TG_BOOL), LABELS(0, 0), TG_REDUCTION_SUM) ==
          NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "cross_entropy: expected a floating-point tensor, got bool");
}

/* nll_loss(x, t) and cross_entropy(x, t) both fail, with the status and
 * the message (after the op's name) given for each. */
static bool refused_as_pytorch(tg_tensor *x, tg_tensor *t, tg_status status, const char *nll,
                               tg_status ce_status, const char *ce) {
    const char *ops[2] = {"nll_loss", "cross_entropy"}, *want[2] = {nll, ce};
    tg_status statuses[2] = {status, ce_status};
    for (int k = 0; k < 2; k++) {
        tg_tensor *out = k ? tg_cross_entropy(x, t, TG_REDUCTION_MEAN) : tg_nll_loss(x, t, NULL);
        char full[256];
        snprintf(full, sizeof full, "%s: %s", ops[k], want[k]);
        if (out || tg_last_status() != statuses[k] || !strstr(tg_last_error(), full)) {
            printf("  %s gave %s \"%s\", want %d \"%s\"\n", ops[k], out ? "a result" : "NULL",
                   tg_last_error(), (int)statuses[k], full);
            return false;
        }
        tg_clear_error();
    }
    return true;
}
#define REFUSED(x, t, status, message) refused_as_pytorch(x, t, status, message, status, message)

/* The class-index target: PyTorch 1.13's checks, in its order, and its
 * words (tapegrad adds the op's name in front, and its dtype names). */
static void bad_targets_are_refused_as_pytorch(void) {
    tg_tensor *x1 = tg_ones(TG_SHAPE(3), TG_F32), *x2 = tg_ones(TG_SHAPE(2, 3), TG_F32);
    tg_tensor *x3 = tg_ones(TG_SHAPE(2, 3, 4), TG_F32), *x4 = tg_ones(TG_SHAPE(2, 3, 4, 5), TG_F32);
    tg_tensor *x5 = tg_ones(TG_SHAPE(2, 3, 2, 2, 2), TG_F32);
    /* dtypes */
    CHECK(REFUSED(x2, tg_zeros(TG_SHAPE(2), TG_F32), TG_ERR_DTYPE,
                  "expected scalar type Long but found Float (class indices are int64, this "
                  "target is float32)"));
    CHECK(REFUSED(x2, tg_zeros(TG_SHAPE(2), TG_F64), TG_ERR_DTYPE,
                  "expected scalar type Long but found Double"));
    CHECK(REFUSED(x2, tg_zeros(TG_SHAPE(2), TG_BOOL), TG_ERR_DTYPE,
                  "expected scalar type Long but found Bool"));
    CHECK(REFUSED(x1, tg_scalar(0, TG_F32), TG_ERR_DTYPE,
                  "expected scalar type Long but found Float"));
    CHECK(REFUSED(x3, tg_zeros(TG_SHAPE(2, 4), TG_F32), TG_ERR_DTYPE,
                  "expected scalar type Long but found Float"));
    CHECK(REFUSED(x4, tg_zeros(TG_SHAPE(2, 4, 5), TG_F64), TG_ERR_DTYPE,
                  "expected scalar type Long but found Double"));
    /* a target of the logits' shape holds probabilities for cross_entropy */
    CHECK(refused_as_pytorch(x2, tg_zeros(TG_SHAPE(2, 3), TG_I64), TG_ERR_SHAPE,
                             "0D or 1D target tensor expected, multi-target not supported",
                             TG_ERR_DTYPE,
                             "Expected floating point type for target with class probabilities, "
                             "got Long (int64)"));
    CHECK(refused_as_pytorch(x2, tg_zeros(TG_SHAPE(2, 3), TG_BOOL), TG_ERR_SHAPE,
                             "0D or 1D target tensor expected, multi-target not supported",
                             TG_ERR_DTYPE,
                             "Expected floating point type for target with class probabilities, "
                             "got Bool (bool)"));
    CHECK(refused_as_pytorch(x1, tg_zeros(TG_SHAPE(3), TG_I64), TG_ERR_SHAPE,
                             "size mismatch (got input: [3], target: [3])", TG_ERR_DTYPE,
                             "Expected floating point type for target with class probabilities"));
    /* shapes */
    CHECK(REFUSED(x2, tg_zeros(TG_SHAPE(3), TG_I64), TG_ERR_SHAPE,
                  "Expected input batch_size (2) to match target batch_size (3)."));
    CHECK(REFUSED(x2, tg_zeros(TG_SHAPE(3), TG_F32), TG_ERR_SHAPE,
                  "Expected input batch_size (2) to match target batch_size (3)."));
    CHECK(REFUSED(x2, tg_scalar(0, TG_I64), TG_ERR_SHAPE,
                  "Expected input batch_size (2) to match target batch_size (0)."));
    CHECK(REFUSED(x2, tg_zeros(TG_SHAPE(2, 1), TG_I64), TG_ERR_SHAPE,
                  "0D or 1D target tensor expected, multi-target not supported"));
    CHECK(REFUSED(x1, tg_zeros(TG_SHAPE(1), TG_I64), TG_ERR_SHAPE,
                  "size mismatch (got input: [3], target: [1])"));
    CHECK(REFUSED(x1, tg_zeros(TG_SHAPE(1, 1), TG_I64), TG_ERR_SHAPE,
                  "0D or 1D target tensor expected, multi-target not supported"));
    CHECK(REFUSED(x3, tg_zeros(TG_SHAPE(2), TG_I64), TG_ERR_SHAPE,
                  "Expected target size [2, 4], got [2]"));
    CHECK(REFUSED(x3, tg_zeros(TG_SHAPE(2, 4, 1), TG_I64), TG_ERR_SHAPE,
                  "Expected target size [2, 4], got [2, 4, 1]"));
    CHECK(REFUSED(x3, tg_zeros(TG_SHAPE(2, 3), TG_I64), TG_ERR_SHAPE,
                  "Expected target size [2, 4], got [2, 3]"));
    CHECK(REFUSED(x4, tg_zeros(TG_SHAPE(2, 4), TG_I64), TG_ERR_SHAPE,
                  "only batches of spatial targets supported (3D tensors) but got targets of "
                  "dimension: 2"));
    CHECK(REFUSED(x4, tg_zeros(TG_SHAPE(2, 4, 4), TG_I64), TG_ERR_SHAPE,
                  "size mismatch (got input: [2, 3, 4, 5], target: [2, 4, 4])"));
    CHECK(REFUSED(x5, tg_zeros(TG_SHAPE(2, 2, 2, 3), TG_I64), TG_ERR_SHAPE,
                  "Expected target size [2, 2, 2, 2], got [2, 2, 2, 3]"));
    CHECK(REFUSED(tg_scalar(1, TG_F32), tg_scalar(0, TG_I64), TG_ERR_SHAPE,
                  "Expected 1 or more dimensions (got 0)"));
    /* out of range: the index and where it is */
    CHECK(REFUSED(x2, tg_full(TG_SHAPE(2), 3, TG_I64), TG_ERR_VALUE,
                  "Target 3 is out of bounds: target[0] is not in [0, 3) nor ignore_index (-100)"));
    CHECK(
        REFUSED(x2, tg_full(TG_SHAPE(2), -1, TG_I64), TG_ERR_VALUE, "Target -1 is out of bounds"));
    CHECK(REFUSED(tg_ones(TG_SHAPE(2, 0), TG_F32), tg_zeros(TG_SHAPE(2), TG_I64), TG_ERR_VALUE,
                  "Target 0 is out of bounds"));
    CHECK(REFUSED(x1, tg_scalar(7, TG_I64), TG_ERR_VALUE,
                  "Target 7 is out of bounds: target is not in [0, 3)"));
    CHECK(REFUSED(x4, tg_full(TG_SHAPE(2, 4, 5), -7, TG_I64), TG_ERR_VALUE,
                  "Target -7 is out of bounds: target[0, 0, 0] is not in [0, 3)"));
    CHECK(REFUSED(x3, tg_from_data((int64_t[]){0, 1, 2, 0, 1, 2, 5, 0}, TG_SHAPE(2, 4), TG_I64),
                  TG_ERR_VALUE, "Target 5 is out of bounds: target[1, 2] is not in [0, 3)"));
    CHECK(REFUSED(x2, tg_full(TG_SHAPE(2), 0x1p40, TG_I64), TG_ERR_VALUE,
                  "Target 1099511627776 is out of bounds"));
    tg_test_context = NULL;
    /* an ignore_index in range is ignored; -100 is an error once it is not the ignored one */
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.ignore_index = 5;
    CHECK(tg_cross_entropy_ex(x, LABELS(5, 0), &o) != NULL);
    CHECK(tg_cross_entropy_ex(x, LABELS(-100, 0), &o) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cross_entropy: Target -100 is out of bounds: target[0] is not in "
                              "[0, 3) nor ignore_index (5)");
    CHECK(tg_nll_loss(x, LABELS(0, 5), &(tg_nll_loss_options){TG_REDUCTION_SUM, NULL, 5}) != NULL);
}

static void null_loss_input_returns_null(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_mse_loss(NULL, x, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "mse_loss: argument is NULL");
    CHECK(tg_binary_cross_entropy_with_logits(x, NULL, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "binary_cross_entropy_with_logits: argument is NULL");
    CHECK(tg_cross_entropy(NULL, LABELS(0, 0), TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cross_entropy: argument is NULL");
    CHECK(tg_cross_entropy(x, NULL, TG_REDUCTION_MEAN) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cross_entropy: argument is NULL");
    CHECK(tg_nll_loss(NULL, LABELS(0, 0), NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "nll_loss: argument is NULL");
    CHECK(tg_nll_loss(x, NULL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "nll_loss: argument is NULL");
    CHECK(tg_dropout(NULL, 0.5, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "dropout: argument is NULL");
}

static void empty_batches_as_pytorch(void) {
    tg_tensor *x = tg_zeros(TG_SHAPE(0, 3), TG_F32);
    tg_tensor *none = tg_zeros(TG_SHAPE(0), TG_I64);
    CHECK(isnan(tg_item(tg_cross_entropy(x, none, TG_REDUCTION_MEAN))));
    CHECK(tg_item(tg_cross_entropy(x, none, TG_REDUCTION_SUM)) == 0);
    CHECK(isnan(tg_item(tg_nll_loss(x, none, NULL))));
    CHECK(isnan(tg_item(tg_mse_loss(x, x, TG_REDUCTION_MEAN))));
    tg_tensor *x3 = tg_zeros(TG_SHAPE(0, 3, 2), TG_F64);
    tg_nll_loss_options o = tg_nll_loss_defaults();
    o.reduction = TG_REDUCTION_NONE;
    tg_tensor *per_sample = tg_nll_loss(x3, tg_zeros(TG_SHAPE(0, 2), TG_I64), &o);
    CHECK(per_sample && tg_ndim(per_sample) == 2 && tg_numel(per_sample) == 0);
}

/* The int64 target is saved for the backward: changed in place in
 * between, it fails the backward as PyTorch's does. */
static void a_target_changed_after_the_forward_fails_the_backward(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(2, 3), TG_F32, NULL), true);
    tg_tensor *t = LABELS(0, 2);
    tg_tensor *loss = tg_nll_loss(x, t, NULL);
    bool prev = tg_set_grad_enabled(false);
    CHECK(tg_fill_(t, 1) == 0);
    tg_set_grad_enabled(prev);
    CHECK(tg_backward(loss, NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
    /* written behind the version counter (tg_data), out of range: refused, not written out of bounds */
    t = LABELS(0, 2);
    loss = tg_cross_entropy(x, t, TG_REDUCTION_SUM);
    ((int64_t *)tg_data(t))[1] = 9;
    CHECK(tg_backward(loss, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "CrossEntropyBackward0: Target 9 is out of bounds");
}

/* nll_loss of log_softmax is cross_entropy, as in torch (which computes
 * cross_entropy so); the values agree to rounding, the gradients too. */
static void nll_loss_of_log_softmax_is_cross_entropy(void) {
    tg_tensor *x = tg_requires_grad_(tg_randn(TG_SHAPE(3, 5, 2), TG_F64, NULL), true);
    tg_tensor *t = tg_from_data((int64_t[]){0, 4, 2, 2, 1, 3}, TG_SHAPE(3, 2), TG_I64);
    tg_tensor *w = tg_rand(TG_SHAPE(5), TG_F64, NULL);
    tg_nll_loss_options no = {TG_REDUCTION_MEAN, w, 2};
    tg_cross_entropy_options co = {TG_REDUCTION_MEAN, w, 2, 0};
    tg_tensor *a = tg_nll_loss(tg_log_softmax(x, 1), t, &no), *b = tg_cross_entropy_ex(x, t, &co);
    CHECK_CLOSE(tg_item(a), tg_item(b), 1e-14, 1e-15);
    CHECK(tg_backward(a, NULL) == 0);
    double ga[30], gb[30];
    CHECK(tg_to_doubles(tg_grad(x), ga) == 0);
    tg_zero_grad(x);
    CHECK(tg_backward(b, NULL) == 0);
    CHECK(tg_to_doubles(tg_grad(x), gb) == 0);
    CHECK_VALUES(tg_grad(x), ga, 30, 1e-13, 1e-15);
}

/* Logits of other shapes are read in place: with no pool pushed, the
 * caller owns the loss alone (a view of the node's output for NONE over 3
 * dims), and releasing it frees everything. */
static void nd_cross_entropy_without_a_pool_leaks_nothing(void) {
    tg_pool_pop(tg_test_pool);
    int64_t live = tg_live_tensors();
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 3, 4), TG_F64), true);
    tg_tensor *classes = tg_from_data((int64_t[]){0, 1, 2, 0, 1, 2, -100, 1}, TG_SHAPE(2, 4),
                                      TG_I64);
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    o.reduction = TG_REDUCTION_NONE;
    tg_tensor *per_sample = tg_cross_entropy_ex(x, classes, &o);
    CHECK(per_sample && tg_ndim(per_sample) == 2 && tg_size(per_sample, 0) == 2 &&
          tg_size(per_sample, 1) == 4);
    tg_tensor *loss = tg_cross_entropy(x, classes, TG_REDUCTION_MEAN);
    CHECK(loss && tg_backward(loss, NULL) == 0);
    CHECK(fabs(tg_item(loss) - log(3.0)) < 1e-15); /* equal logits: log C */
    tg_tensor *nll = tg_nll_loss(x, classes, &(tg_nll_loss_options){TG_REDUCTION_NONE, NULL, -100});
    tg_tensor *total = tg_sum(nll);
    CHECK(total && tg_backward(total, NULL) == 0);
    tg_release(total);
    tg_release(nll);
    tg_release(loss);
    tg_release(per_sample);
    tg_release(classes);
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
             TG_CASE(gradcheck_class_losses_of_any_shape),
             TG_CASE(elementwise_losses_at_their_edges), TG_CASE(bad_loss_input_is_refused),
             TG_CASE(null_loss_input_returns_null), TG_CASE(empty_batches_as_pytorch),
             TG_CASE(bad_targets_are_refused_as_pytorch),
             TG_CASE(a_target_changed_after_the_forward_fails_the_backward),
             TG_CASE(nll_loss_of_log_softmax_is_cross_entropy),
             TG_CASE(nd_cross_entropy_without_a_pool_leaks_nothing),
             TG_CASE(dropout_matches_pytorch_bit_for_bit),
             TG_CASE(dropout_zeroes_a_fraction_p_and_scales_the_rest),
             TG_CASE(dropout_same_seed_same_mask), TG_CASE(dropout_identity_in_eval_and_for_p_0),
             TG_CASE(dropout_with_p_1_gives_zeros), TG_CASE(dropout_refuses_p_outside_0_1),
             TG_CASE(gradcheck_dropout))
