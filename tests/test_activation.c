/* tests/test_activation.c - activations and the GLU family against PyTorch's
 * values and gradients (golden/golden_activation.h), each called through its
 * row of tests/op_table.c; RReLU's random slopes, GELU's derivative, swish's
 * beta, the fused gated forms, errors, and the vectorised formulas against
 * libm, and float32 sigmoid, SiLU and SwiGLU bit for bit against float64 rounded.
 * (tests/test_special.c runs the checks every op of the table passes:
 * special values, gradcheck, node names, no leak without a pool, ...) */
#include <float.h>

#include "golden/golden_activation.h"
#include "op_table.h"
#include "tg_test.h"

/* ---- Against PyTorch, recording the largest deviation per op and dtype --------------- */

typedef struct deviation {
    char key[32];
    double max_abs, max_rel; /* rel over elements with |want| >= 1e-6 */
} deviation;

static deviation deviations[64];
static int n_deviations;

static deviation *deviation_of(const char *op, double p0, bool f64) {
    char key[32];
    bool tanh_form = (!strcmp(op, "gelu") || !strcmp(op, "geglu")) && p0 != 0;
    snprintf(key, sizeof key, "%s%s %s", op, tanh_form ? "(tanh)" : "", f64 ? "f64" : "f32");
    for (int i = 0; i < n_deviations; i++)
        if (!strcmp(deviations[i].key, key)) return &deviations[i];
    if (n_deviations == (int)(sizeof deviations / sizeof deviations[0])) n_deviations--;
    deviation *d = &deviations[n_deviations++];
    snprintf(d->key, sizeof d->key, "%s", key);
    return d;
}

/* The tolerances against PyTorch. float32: rtol 1e-5, atol 1e-6. float64:
 * rtol 1e-12 with atol 1e-12, which torch's own float64 GELU needs: in the
 * left tail it computes 1 + erf(x / sqrt 2) and 1 + tanh(u), which cancel
 * (at x = -6 its value is off by 1e-10 relative; ours, via erfc, agrees with
 * a 40-digit mpmath evaluation to 1e-16), so there only an absolute bound
 * is meaningful. */
static void tolerances(bool f64, double *rtol, double *atol) {
    *rtol = f64 ? 1e-12 : 1e-5;
    *atol = f64 ? 1e-12 : 1e-6;
}

/* Compares t (row-major) with want, recording deviations into dev;
 * returns the index of the first element out of tolerance, or -1. */
static int64_t compare(const tg_tensor *t, const double *want, double rtol, double atol,
                       deviation *dev) {
    int64_t n = tg_numel(t), bad = -1;
    double *got = malloc(sizeof(double) * (size_t)(n + 1));
    if (!got || tg_to_doubles(t, got) != 0) {
        free(got);
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs(got[i] - want[i]);
        if (diff > dev->max_abs) dev->max_abs = diff;
        if (fabs(want[i]) >= 1e-6 && diff / fabs(want[i]) > dev->max_rel)
            dev->max_rel = diff / fabs(want[i]);
        if (bad < 0 && !tg_test_close(got[i], want[i], rtol, atol)) bad = i;
    }
    free(got);
    return bad;
}

/* The i-th element of t in row-major order. */
static double element_at(const tg_tensor *t, int64_t i) {
    int64_t index[8] = {0};
    for (int d = tg_ndim(t) - 1; d >= 0; d--) {
        index[d] = i % tg_shape(t)[d];
        i /= tg_shape(t)[d];
    }
    return tg_get(t, index);
}

#define CHECK_GOLDEN(t, want, rtol, atol, dev)                                           \
    do {                                                                                 \
        CHECK((t) != NULL);                                                              \
        int64_t bad_ = compare((t), (want), (rtol), (atol), (dev));                      \
        if (bad_ >= 0) {                                                                 \
            char m_[160];                                                                \
            snprintf(m_, sizeof m_, "%s[%lld] = %.17g, want %.17g", #t, (long long)bad_, \
                     element_at((t), bad_), (want)[bad_]);                               \
            tg_test_fail(__FILE__, __LINE__, m_);                                        \
            return;                                                                      \
        }                                                                                \
    } while (0)

/* A leaf of dtype from golden data; *view is what the op gets: the leaf,
 * or its transpose (a strided tensor) when transposed. */
static tg_tensor *golden_leaf(const double *data, int ndim, const int64_t *shape, tg_dtype dt,
                              bool transposed, tg_tensor **view) {
    tg_tensor *leaf = tg_requires_grad_(tg_test_tensor(data, ndim, shape, dt), true);
    *view = transposed && ndim == 2 ? tg_transpose(leaf, 0, 1) : leaf;
    return leaf;
}

/* rrelu in training: torch.manual_seed(seed) then F.rrelu draws the same slopes. */
static void rrelu_training_matches_pytorch(void) {
    char context[64];
    for (size_t i = 0; i < sizeof golden_rrelus / sizeof golden_rrelus[0]; i++) {
        const golden_rrelu *c = &golden_rrelus[i];
        snprintf(context, sizeof context, "seed %llu #%zu", (unsigned long long)c->seed, i);
        tg_test_context = context;
        tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
        double rtol, atol;
        tolerances(c->f64, &rtol, &atol);
        deviation *dev = deviation_of("rrelu_train", 0, c->f64);
        tg_tensor *x;
        tg_tensor *leaf = golden_leaf(c->x, c->nx, c->sx, dt, c->transposed, &x);
        tg_manual_seed(c->seed);
        tg_tensor *out = tg_rrelu(x, c->lower, c->upper, TG_TRAIN, NULL);
        CHECK_GOLDEN(out, c->out, rtol, atol, dev);
        tg_tensor *w = tg_test_tensor(c->w, tg_ndim(out), tg_shape(out), dt);
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        CHECK_GOLDEN(tg_grad(leaf), c->gx, rtol, atol, dev);
    }
}

static void ops_match_pytorch(void) {
    char context[96];
    for (size_t i = 0; i < sizeof golden_acts / sizeof golden_acts[0]; i++) {
        const golden_act *c = &golden_acts[i];
        snprintf(context, sizeof context, "%s #%zu", c->op, i);
        tg_test_context = context;
        tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
        double rtol, atol;
        tolerances(c->f64, &rtol, &atol);
        deviation *dev = deviation_of(c->op, c->p[0], c->f64);
        tg_tensor *x, *b = NULL, *b_leaf = NULL;
        tg_tensor *x_leaf = golden_leaf(c->x, c->nx, c->sx, dt, c->transposed, &x);
        if (c->nb >= 0) b_leaf = golden_leaf(c->b, c->nb, c->sb, dt, c->transposed, &b);
        const op_row *op = op_named(c->op);
        CHECK(op != NULL);
        tg_tensor *out = op->call(x, b, c->p);
        CHECK(out && tg_ndim(out) == c->nout);
        CHECK(memcmp(tg_shape(out), c->sout, sizeof(int64_t) * (size_t)c->nout) == 0);
        CHECK_GOLDEN(out, c->out, rtol, atol, dev);
        tg_tensor *w = tg_test_tensor(c->w, c->nout, c->sout, dt);
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        CHECK_GOLDEN(tg_grad(x_leaf), c->gx, rtol, atol, dev);
        if (b_leaf) CHECK_GOLDEN(tg_grad(b_leaf), c->gb, rtol, atol, dev);
    }
    rrelu_training_matches_pytorch();
    if (tg_test_failed_now) return;
    tg_test_context = NULL;
    printf("  largest deviation from PyTorch (values and gradients):\n");
    for (int i = 0; i < n_deviations; i++)
        printf("    %-18s abs %.3g  rel %.3g\n", deviations[i].key, deviations[i].max_abs,
               deviations[i].max_rel);
}

/* Every activation of tests/op_table.c has golden cases in both dtypes: a row
 * without data in golden_activation.h would be checked against nothing. */
static void every_activation_has_golden_cases(void) {
    for (int i = 0; i < op_activations.n; i++) {
        const char *name = op_activations.rows[i].name;
        tg_test_context = name;
        int dtypes = 0;
        for (size_t k = 0; k < sizeof golden_acts / sizeof golden_acts[0]; k++)
            if (!strcmp(golden_acts[k].op, name)) dtypes |= 1 << golden_acts[k].f64;
        CHECK(dtypes == 3);
    }
}

/* float32 slopes and alphas are rounded to float before use, as torch does:
 * leaky_relu is then exactly the float product. */
static void float32_parameters_are_rounded_like_torch(void) {
    tg_tensor *x = tg_mul_scalar(tg_rand(TG_SHAPE(1000), TG_F32, NULL), -6);
    float xs[1000];
    double got[1000], elu[1000];
    tg_to_doubles(tg_leaky_relu(x, 0.01), got);
    tg_to_doubles(tg_elu(x, 0.3), elu);
    memcpy(xs, tg_data(x), sizeof xs);
    for (int i = 0; i < 1000; i++) CHECK(got[i] == (double)(xs[i] * 0.01f));
    for (int i = 0; i < 1000; i++) CHECK(elu[i] == (double)(float)(0.3f * expm1(xs[i])));
}

/* ---- RReLU in training --------------------------------------------------------------- */

static void rrelu_training_draws_slopes_in_bounds(void) {
    const double lower = 0.1, upper = 0.4;
    tg_generator *gen = tg_generator_new(123), *again = tg_generator_new(123);
    CHECK(gen && again);
    for (int f64 = 0; f64 < 2; f64++) {
        tg_dtype dt = f64 ? TG_F64 : TG_F32;
        /* Values in [-3, 3), many negative. */
        tg_tensor *x = tg_requires_grad_(
            tg_add_scalar(tg_mul_scalar(tg_rand(TG_SHAPE(40, 25), dt, NULL), 6), -3), true);
        tg_tensor *out = tg_rrelu(x, lower, upper, TG_TRAIN, gen);
        CHECK(out != NULL);
        CHECK_EQ_STR(tg_grad_fn_name(out), "RreluWithNoiseBackward0"); /* as in eval mode */
        CHECK(tg_backward(tg_sum(out), NULL) == 0); /* the gradient is each slope */
        int64_t n = tg_numel(x);
        size_t bytes = sizeof(double) * (size_t)n;
        double *xv = malloc(bytes), *ov = malloc(bytes), *gv = malloc(bytes), *rv = malloc(bytes);
        CHECK(xv && ov && gv && rv);
        tg_to_doubles(x, xv);
        tg_to_doubles(out, ov);
        tg_to_doubles(tg_grad(x), gv);
        tg_to_doubles(tg_rrelu(x, lower, upper, TG_TRAIN, again), rv); /* same seed */
        int bad = 0, negatives = 0, distinct = 0;
        for (int64_t i = 0; i < n; i++) {
            if (xv[i] > 0) {
                bad += ov[i] != xv[i] || gv[i] != 1;
                continue;
            }
            negatives++;
            double slope = gv[i];
            /* bounds rounded to the dtype first, as torch */
            double lo = f64 ? lower : (float)lower, hi = f64 ? upper : (float)upper;
            bad += !(slope >= lo && slope <= hi);
            /* the output is x times the very slope the gradient reports */
            bad += ov[i] != (f64 ? xv[i] * slope : (double)((float)xv[i] * (float)slope));
            distinct += i > 0 && gv[i] != gv[i - 1];
        }
        bool same = memcmp(ov, rv, bytes) == 0;
        free(xv);
        free(ov);
        free(gv);
        free(rv);
        CHECK(bad == 0 && same);
        CHECK(negatives > 300 && distinct > 300); /* one draw per element, not one per call */
    }
    /* A different seed gives different slopes; eval mode draws nothing. */
    tg_generator_seed(gen, 124);
    tg_generator_seed(again, 123);
    tg_tensor *x = tg_full(TG_SHAPE(8), -1, TG_F64);
    double a[8], b[8], e[8];
    tg_to_doubles(tg_rrelu(x, lower, upper, TG_TRAIN, gen), a);
    tg_to_doubles(tg_rrelu(x, lower, upper, TG_TRAIN, again), b);
    tg_to_doubles(tg_rrelu(x, lower, upper, TG_EVAL, gen), e);
    CHECK(memcmp(a, b, sizeof a) != 0);
    for (int i = 0; i < 8; i++) CHECK(e[i] == -(lower + upper) / 2);
    tg_generator_free(gen);
    tg_generator_free(again);
}

/* ---- GELU's derivative: the right formula, not the one of docs/ERRATA.md, item 4 ------ */

static void gelu_derivative_is_the_correct_formula(void) {
    const double xs[] = {-3, -1, -0.5, 0.25, 1, 2, 3};
    const double k = sqrt(2 / acos(-1.0)), kappa = 0.044715;
    tg_tensor *x = tg_requires_grad_(tg_test_tensor(xs, TG_SHAPE(7), TG_F64), true);
    double grad_tanh[7], grad_exact[7];
    CHECK(tg_backward(tg_sum(tg_gelu(x, TG_GELU_TANH)), NULL) == 0);
    tg_to_doubles(tg_grad(x), grad_tanh);
    tg_clear_grad(x);
    CHECK(tg_backward(tg_sum(tg_gelu(x, TG_GELU_NONE)), NULL) == 0);
    tg_to_doubles(tg_grad(x), grad_exact);
    for (int i = 0; i < 7; i++) {
        double v = xs[i], u = k * (v + kappa * v * v * v), t = tanh(u);
        double gelu = 0.5 * v * (1 + t);
        double right = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * kappa * v * v);
        double wrong = 0.5 * (t + v * (1 - gelu * gelu)); /* ERRATA 4 */
        CHECK_CLOSE(grad_tanh[i], right, 1e-12, 1e-14);
        CHECK(fabs(grad_tanh[i] - wrong) > 0.05);
        /* exact form: Phi(x) + x phi(x) */
        double cdf = 0.5 * (1 + erf(v / sqrt(2))), pdf = exp(-v * v / 2) / sqrt(2 * acos(-1.0));
        CHECK_CLOSE(grad_exact[i], cdf + v * pdf, 1e-12, 1e-14);
    }
    /* At x = 1: 1.0830, where the wrong form gives 0.4874. */
    CHECK_CLOSE(grad_tanh[4], 1.0830, 0, 5e-5);
}

/* ---- Swish's beta -------------------------------------------------------------------- */

static void swish_beta_one_is_silu_and_zero_halves(void) {
    tg_tensor *x = tg_requires_grad_(
        tg_add_scalar(tg_mul_scalar(tg_rand(TG_SHAPE(10), TG_F64, NULL), 12), -6), true);
    tg_tensor *one = tg_scalar(1, TG_F64), *zero = tg_scalar(0, TG_F64);
    double s[10], want[10], gs[10], gwant[10];
    tg_to_doubles(tg_swish(x, one), s);
    tg_to_doubles(tg_silu(x), want);
    CHECK(memcmp(s, want, sizeof s) == 0);
    CHECK(tg_backward(tg_sum(tg_swish(x, one)), NULL) == 0);
    tg_to_doubles(tg_grad(x), gs);
    tg_clear_grad(x);
    CHECK(tg_backward(tg_sum(tg_silu(x)), NULL) == 0);
    tg_to_doubles(tg_grad(x), gwant);
    for (int i = 0; i < 10; i++) CHECK_CLOSE(gs[i], gwant[i], 1e-15, 1e-15);
    double xv[10];
    tg_to_doubles(x, xv);
    tg_to_doubles(tg_swish(x, zero), s);
    for (int i = 0; i < 10; i++) CHECK(s[i] == xv[i] / 2);
    /* large beta tends to relu */
    tg_to_doubles(tg_swish(x, tg_scalar(1e4, TG_F64)), s);
    for (int i = 0; i < 10; i++) CHECK_CLOSE(s[i], fmax(xv[i], 0), 0, 1e-3);
}

/* ---- The fused gated forms equal their composition ----------------------------------- */

static tg_tensor *geglu_exact(tg_tensor *gate, tg_tensor *up) {
    return tg_geglu(gate, up, TG_GELU_NONE);
}
static tg_tensor *gelu_exact(tg_tensor *x) { return tg_gelu(x, TG_GELU_NONE); }

static void fused_gated_equal_composition(void) {
    tg_tensor *gate = tg_requires_grad_(
        tg_add_scalar(tg_mul_scalar(tg_rand(TG_SHAPE(4, 6), TG_F64, NULL), 8), -4), true);
    tg_tensor *up = tg_requires_grad_(tg_rand(TG_SHAPE(4, 6), TG_F64, NULL), true);
    struct {
        const char *name;
        tg_tensor *(*fused)(tg_tensor *, tg_tensor *);
        tg_tensor *(*act)(tg_tensor *);
    } cases[] = {{"swiglu", tg_swiglu, tg_silu},
                 {"geglu", geglu_exact, gelu_exact},
                 {"reglu", tg_reglu, tg_relu}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tg_test_context = cases[k].name;
        tg_tensor *outs[2] = {cases[k].fused(gate, up), tg_mul(cases[k].act(gate), up)};
        double values[2][24], grads[2][48];
        for (int j = 0; j < 2; j++) {
            tg_to_doubles(outs[j], values[j]);
            CHECK(tg_backward(tg_sum(outs[j]), NULL) == 0);
            tg_to_doubles(tg_grad(gate), grads[j]);
            tg_to_doubles(tg_grad(up), grads[j] + 24);
            tg_clear_grad(gate);
            tg_clear_grad(up);
        }
        for (int i = 0; i < 24; i++) CHECK_CLOSE(values[0][i], values[1][i], 1e-15, 0);
        for (int i = 0; i < 48; i++) CHECK_CLOSE(grads[0][i], grads[1][i], 1e-15, 1e-15);
    }
}

/* gradcheck in training (the other modes and ops: tests/test_special.c): the
 * generator reseeded at each call draws the same slopes. */
static tg_tensor *rrelu_training_seeded(tg_tensor *const *in, void *gen) {
    tg_generator_seed(gen, 99);
    return tg_rrelu(in[0], 0.1, 0.3, TG_TRAIN, gen);
}

static void rrelu_training_passes_gradcheck(void) {
    tg_manual_seed(5);
    tg_generator *gen = tg_generator_new(99);
    CHECK(gen != NULL);
    const double kinks[] = {0, 2.5};
    tg_gradcheck_options opts = {.kinks = kinks, .n_kinks = 2};
    tg_tensor *x = tg_add_scalar(tg_mul_scalar(tg_rand(TG_SHAPE(2, 3, 4), TG_F64, NULL), 8), -4);
    tg_requires_grad_(x, true);
    int rc = tg_gradcheck(rrelu_training_seeded, gen, 1, &x, &opts);
    tg_generator_free(gen);
    CHECK(rc == 0);
}

/* ---- Errors -------------------------------------------------------------------------- */

/* The parameters of the first golden case of the op named name, or NULL. */
static const double *golden_params_of(const char *name) {
    for (size_t k = 0; k < sizeof golden_acts / sizeof golden_acts[0]; k++)
        if (!strcmp(golden_acts[k].op, name)) return golden_acts[k].p;
    return NULL;
}

static void bad_arguments_are_reported(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32), *x64 = tg_ones(TG_SHAPE(2, 3), TG_F64);
    /* NULL input: every op returns NULL and names itself. */
    for (int k = 0; k < op_activations.n; k++) {
        const op_row *op = &op_activations.rows[k];
        const double *p = golden_params_of(op->name);
        tg_test_context = op->name;
        CHECK(p != NULL);
        CHECK(op->call(NULL, x, p) == NULL);
        char want[48];
        snprintf(want, sizeof want, "%s: argument is NULL", op->name);
        CHECK_ERROR(TG_ERR_NULL, want);
        bool param = op->inputs == OP_WEIGHT || op->inputs == OP_BETA;
        if (param || op->inputs == OP_PAIR) {
            CHECK(op->call(x, NULL, p) == NULL);
            CHECK_ERROR(TG_ERR_NULL, want);
            /* dtype mismatch */
            CHECK(op->call(x, param ? tg_ones(TG_SHAPE(1), TG_F64) : x64, p) == NULL);
            snprintf(want, sizeof want, "%s: dtypes float32 and float64 differ", op->name);
            CHECK_ERROR(TG_ERR_DTYPE, want);
        }
    }
    tg_test_context = NULL;
    CHECK(tg_rrelu(NULL, 0.1, 0.3, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "rrelu: argument is NULL");
    /* gate and up of different shapes */
    CHECK(tg_swiglu(x, tg_ones(TG_SHAPE(3, 2), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "swiglu: gate of shape (2, 3) and up of shape (3, 2) must have one shape");
    CHECK(tg_geglu(x, tg_ones(TG_SHAPE(3), TG_F32), TG_GELU_TANH) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "geglu: gate of shape (2, 3) and up of shape (3,)");
    CHECK(tg_reglu(x, tg_ones(TG_SHAPE(2, 3, 1), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "reglu: gate of shape (2, 3) and up of shape (2, 3, 1)");
    /* glu: odd size, dim out of range, 0-dim */
    CHECK(tg_glu(x, 1) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "glu: dim 1 of input of shape (2, 3) has odd size 3");
    CHECK(tg_glu(x, -1) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "glu: dim 1 of input of shape (2, 3) has odd size 3");
    CHECK(tg_glu(x, 2) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "glu: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_glu(x, -3) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "glu: dim -3 out of range for a 2-dim tensor");
    CHECK(tg_glu(tg_scalar(1, TG_F32), 0) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "glu: a 0-dim tensor cannot be split into halves");
    /* rrelu bounds */
    CHECK(tg_rrelu(x, 0.5, 0.1, TG_TRAIN, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "rrelu: lower bound 0.5 is greater than upper bound 0.1");
    CHECK(tg_rrelu(x, 0.5, 0.1, TG_EVAL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "rrelu: lower bound 0.5 is greater than upper bound 0.1");
    CHECK(tg_rrelu(x, 0.2, 0.2, TG_TRAIN, NULL) != NULL); /* equal bounds: a fixed slope */
    /* prelu weight: wrong channel count, or not 1-D */
    CHECK(tg_prelu(x, tg_ones(TG_SHAPE(4), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "prelu: weight of shape (4,) does not match the 3 channel(s) "
                              "(dim 1) of input of shape (2, 3)");
    CHECK(tg_prelu(tg_ones(TG_SHAPE(6), TG_F32), tg_ones(TG_SHAPE(6), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "prelu: weight of shape (6,) does not match the 1 channel(s) "
                              "(dim 1) of input of shape (6,)");
    CHECK(tg_prelu(x, tg_ones(TG_SHAPE(1, 3), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "prelu: weight must be one value or 1-D, got shape (1, 3)");
    /* a GELU approximation that is neither of the two */
    CHECK(tg_gelu(x, (tg_gelu_approx)2) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "gelu: approximate must be TG_GELU_NONE or TG_GELU_TANH, not 2");
    CHECK(tg_geglu(x, x, (tg_gelu_approx)-1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "geglu: approximate must be TG_GELU_NONE or TG_GELU_TANH, not -1");
    /* celu's alpha 0, which it divides by, as torch refuses it */
    CHECK(tg_celu(x, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "celu: ZeroDivisionError: alpha cannot be 0 for CELU");
    CHECK(tg_celu(x, -0.0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "alpha cannot be 0 for CELU");
    /* hardtanh's bounds are not checked, as in PyTorch 1.13 (nn.Hardtanh's are) */
    CHECK(tg_hardtanh(x, 2, 1) != NULL);
    /* swish beta with more than one element */
    CHECK(tg_swish(x, tg_ones(TG_SHAPE(2), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "swish: beta must have one element, got shape (2,)");
    /* A chain reports its first failure. */
    CHECK(tg_sum(tg_relu(tg_glu(x, 1))) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "glu: dim 1 of input of shape (2, 3) has odd size 3");
}

/* ---- Without a pool: the caller owns the result, and nothing leaks -------------------
 * rrelu in training (every op of tests/op_table.c: tests/test_special.c). */

static void rrelu_training_without_a_pool_leaks_nothing(void) {
    tg_pool_pop(tg_test_pool); /* own everything explicitly here */
    int64_t before = tg_live_tensors();
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 4), TG_F64), true);
    tg_tensor *t = tg_rrelu(x, 0.1, 0.3, TG_TRAIN, NULL);
    CHECK(t != NULL);
    tg_release(t);
    tg_release(x);
    CHECK(tg_live_tensors() == before);
}

/* ---- The vectorised formulas against libm -------------------------------------------
 * tanh, elu (celu), both gelus, mish, logsigmoid, softsign, tanhshrink and
 * their derivatives evaluate e^x, e^x - 1, tanh, erfcx, log(1 + z) and a
 * Chebyshev series in arithmetic only (ops/activation_internal.h), so that
 * they vectorise. In float64, each result is compared with the same formula
 * evaluated on libm's long double functions, over a million points from -40
 * to 40 and the special values, in units of the last place of the larger of
 * the result and the magnitude of the formula's terms (where two terms
 * nearly cancel, as in gelu's derivative near -0.75, no formula in double
 * keeps more than that); results within 2^52 of the subnormals count in ulp
 * of 2^-969, as a value rounded there loses its digits anyway when the
 * formula multiplies it by x. The largest distance is printed. */

typedef struct reference {
    long double value, magnitude; /* magnitude: the sum of |terms| */
} reference;

static double ulps(double got, reference want) {
    double v = (double)want.value;
    if (isnan(got) && isnan(v)) return 0;
    if (got == v) return 0;
    if (isnan(got) || isnan(v) || isinf(got) || isinf(v)) return INFINITY;
    double scale = fmax(fmax(fabs(v), (double)want.magnitude), 0x1p-969);
    return (double)(fabsl(got - want.value) / (nextafter(scale, INFINITY) - scale));
}

static reference plain(long double v) { return (reference){v, fabsl(v)}; }
static reference ref_tanh(double x) { return plain(tanhl(x)); }
static reference ref_elu(double x) { return plain(x > 0 ? x : expm1l(x)); }
static reference ref_elu_d(double x) { return plain(x > 0 ? 1 : expl(x)); }
static long double normal_cdf(double x) { return 0.5L * erfcl(-x / sqrtl(2)); }
static long double normal_pdf(double x) { return expl(-0.5L * x * x) / sqrtl(2 * acosl(-1)); }
static reference ref_gelu(double x) { return plain(x * normal_cdf(x)); }
static reference ref_gelu_d(double x) {
    long double cdf = normal_cdf(x), xpdf = x * normal_pdf(x);
    return (reference){cdf + xpdf, fabsl(cdf) + fabsl(xpdf)};
}

/* The tanh form, through 1 + tanh u = 2 sigma(2u), which does not cancel;
 * 2u rounded to double as tapegrad rounds it (e^2u magnifies that rounding
 * by |2u|, in any evaluation in double: torch's too). */
static long double gelu_tanh_half(double x) {
    double two_u = 2 * 0.79788456080286535588 * (x + 0.044715 * x * x * x);
    return 1 / (1 + expl(-(long double)two_u));
}
static reference ref_gelu_tanh(double x) { return plain(x * gelu_tanh_half(x)); }
static reference ref_gelu_tanh_d(double x) {
    long double s = gelu_tanh_half(x), du = sqrtl(2 / acosl(-1)) * (1 + 3 * 0.044715L * x * x);
    long double slope = 2 * x * s * (1 - s) * du;
    return (reference){s + slope, fabsl(s) + fabsl(slope)};
}

static long double sigmoidl(long double x) { return 1 / (1 + expl(-x)); }
static long double mish_t(double x) { return tanhl(log1pl(expl(x))); }
static reference ref_mish(double x) { return plain(x * mish_t(x)); }
static reference ref_mish_d(double x) {
    long double t = mish_t(x), slope = x * sigmoidl(x) * (1 - t * t);
    return (reference){t + slope, fabsl(t) + fabsl(slope)};
}
static reference ref_logsigmoid(double x) {
    return plain(x < 0 ? x - log1pl(expl(x)) : -log1pl(expl(-(long double)x)));
}
static reference ref_logsigmoid_d(double x) { return plain(sigmoidl(-(long double)x)); }
static reference ref_softsign(double x) { return plain(x / (1 + fabsl(x))); }
/* NaN at +-inf, as softsign itself there (torch's inf / inf). */
static reference ref_softsign_d(double x) {
    long double d = 1 + fabsl(x);
    return plain(isinf(x) ? NAN : 1 / (d * d));
}
/* x - tanh x, which cancels: below 0.1 its series (terms to x^15, the next
 * below 1e-20 relative), where x - tanhl x would keep too few digits. */
static reference ref_tanhshrink(double x) {
    static const long double c[] = {
        1.0L / 3,         -2.0L / 15,          17.0L / 315,          -62.0L / 2835,
        1382.0L / 155925, -21844.0L / 6081075, 929569.0L / 638512875};
    if (fabs(x) >= 0.1) return plain(x - tanhl(x));
    long double x2 = (long double)x * x, sum = 0;
    for (int k = 6; k >= 0; k--) sum = sum * x2 + c[k];
    return plain(x * x2 * sum);
}
static reference ref_tanhshrink_d(double x) { return plain(tanhl(x) * tanhl(x)); }
static tg_tensor *celu_half(tg_tensor *x) { return tg_celu(x, 0.5); }
static reference ref_celu_half(double x) { return plain(x > 0 ? x : 0.5L * expm1l(2.0L * x)); }
static reference ref_celu_half_d(double x) { return plain(x > 0 ? 1 : expl(2.0L * x)); }

/* Whether long double carries more digits than double here: not under
 * valgrind, which computes x87 arithmetic in double. */
static bool long_double_is_wider(void) {
    volatile long double one = 1, tiny = 0x1p-60L;
    return one + tiny != one;
}

static void formulas_agree_with_libm(void) {
    enum { N = 1000000, SPECIAL = 9 };
    if (!long_double_is_wider()) {
        printf("  long double is no wider than double here (valgrind?): not measured\n");
        return;
    }
    static double x[N + SPECIAL];
    for (int i = 0; i < N; i++) x[i] = -40 + 80.0 * i / (N - 1);
    const double special[SPECIAL] = {0.0,    -0.0,    INFINITY, -INFINITY, NAN,
                                     1e-300, -1e-300, 5e-324,   700};
    for (int i = 0; i < SPECIAL; i++) x[N + i] = special[i];
    tg_tensor *in = tg_requires_grad_(tg_from_data(x, TG_SHAPE(N + SPECIAL), TG_F64), true);
    struct {
        const char *name;
        tg_tensor *(*op)(tg_tensor *);                     /* NULL: gelu */
        reference (*value)(double), (*derivative)(double); /* NULL: 1 - y^2 of its own y */
        double max_ulps;
    } fns[] = {
        {"tanh", tg_tanh, ref_tanh, NULL, 4},
        {"elu", NULL, ref_elu, ref_elu_d, 4},
        {"gelu", NULL, ref_gelu, ref_gelu_d, 8},
        {"gelu (tanh)", NULL, ref_gelu_tanh, ref_gelu_tanh_d, 8},
        {"celu (alpha 0.5)", celu_half, ref_celu_half, ref_celu_half_d, 4},
        {"mish", tg_mish, ref_mish, ref_mish_d, 8},
        {"logsigmoid", tg_logsigmoid, ref_logsigmoid, ref_logsigmoid_d, 4},
        {"softsign", tg_softsign, ref_softsign, ref_softsign_d, 4},
        {"tanhshrink", tg_tanhshrink, ref_tanhshrink, ref_tanhshrink_d, 8},
    };
    for (int f = 0; f < (int)(sizeof fns / sizeof fns[0]); f++) {
        tg_tensor *y = fns[f].op ? fns[f].op(in)
                       : f == 1  ? tg_elu(in, 1.0)
                                 : tg_gelu(in, f == 2 ? TG_GELU_NONE : TG_GELU_TANH);
        CHECK(y != NULL);
        tg_clear_grad(in);
        CHECK(tg_backward(y, tg_ones(TG_SHAPE(N + SPECIAL), TG_F64)) == 0);
        const double *got = tg_data(y), *dgot = tg_data(tg_grad(in));
        double worst = 0, dworst = 0;
        for (int i = 0; i < N + SPECIAL; i++) {
            worst = fmax(worst, ulps(got[i], fns[f].value(x[i])));
            reference dwant = fns[f].derivative ? fns[f].derivative(x[i])
                                                : plain(1 - got[i] * got[i]);
            dworst = fmax(dworst, ulps(dgot[i], dwant));
        }
        printf("  %s: value within %.2g ulp, derivative within %.2g\n", fns[f].name, worst, dworst);
        CHECK(worst <= fns[f].max_ulps);
        CHECK(dworst <= fns[f].max_ulps);
    }
}

/* ---- float32 sigmoid, SiLU and SwiGLU: the float64 formula, rounded ---------------------
 * Their float32 kernels compute most elements with a cheaper formula whose
 * rounding is checked, and the others with the float64 one (see
 * ops/activation_internal.h): every result, forward and backward, must be
 * the float64 op's on the same inputs rounded to float32, bit for bit. The
 * inputs: random bit patterns (every binade, subnormals, inf, NaN), gates
 * where the activations are used (|x| < 20) and across binades up to 2^9,
 * and the special values, against ups and gradients of each kind. */
static uint32_t float_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}
static float bits_float(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}
static uint64_t next_random(uint64_t *state) { /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static const float special_inputs[] = {
    0.0f,     -0.0f,        INFINITY,      -INFINITY,   NAN,         FLT_MIN,
    -FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN, 1e-40f,      FLT_MAX,     -FLT_MAX,
    1.0f,     -1.0f,        16.6355f,      -16.6355f,   36.7368f,    -36.7368f,
    88.72f,   -88.72f,      103.97f,       -103.97f,    127.99999f,  128.0f,
    -128.0f,  128.00002f,   -128.00002f,   -1.2784645f, -1.2784646f, 0x1p-126f * 1.5f,
    1e-30f,   -1e-30f,      745.2f,        -745.2f};
static float draw_input(uint64_t *state, int kind) {
    uint64_t r = next_random(state);
    int n_special = (int)(sizeof special_inputs / sizeof special_inputs[0]);
    switch (kind) {
    case 0: return bits_float((uint32_t)r);
    case 1: return (float)(((double)(r >> 11) * 0x1p-53 - 0.5) * 40);
    case 2: /* a random sign and mantissa at an exponent from -40 to 8 */
        return bits_float((uint32_t)(r & 0x807fffffu) | (uint32_t)(127 - 40 + (r >> 32) % 49)
                                                            << 23);
    default: return special_inputs[(r >> 32) % (uint64_t)n_special];
    }
}

/* Mismatches between a float32 tensor and a float64 one rounded to float32.
 * A NaN matches any NaN: of a product of two NaNs, x86 keeps the first's
 * sign and payload, and the compiler may swap a product's operands (the
 * float32 and float64 kernels differ so, with or without the fast path). */
static int64_t float32_mismatches(tg_tensor *f32, tg_tensor *f64, int64_t n) {
    const float *got = tg_data(f32);
    const double *want = tg_data(f64);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        bad += !(isnan(got[i]) && isnan(want[i])) &&
               float_bits(got[i]) != float_bits((float)want[i]);
    return bad;
}

/* swiglu's mismatches over elements at .. at + len - 1 of the inputs
 * (gradient, gate, up): its output, with and without grad, into m[0];
 * both gradients into m[1]. */
static void swiglu_mismatches(float *const *in, double *const *wide, int64_t at, int64_t len,
                              int64_t *m) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *f32[3], *f64[3];
    for (int k = 0; k < 3; k++) {
        f32[k] = tg_requires_grad_(tg_from_data(in[k] + at, TG_SHAPE(len), TG_F32), k > 0);
        f64[k] = tg_requires_grad_(tg_from_data(wide[k] + at, TG_SHAPE(len), TG_F64), k > 0);
    }
    tg_tensor *y32 = tg_swiglu(f32[1], f32[2]), *y64 = tg_swiglu(f64[1], f64[2]);
    m[0] += float32_mismatches(y32, y64, len);
    bool was = tg_set_grad_enabled(false);
    m[0] += float32_mismatches(tg_swiglu(f32[1], f32[2]), y64, len);
    tg_set_grad_enabled(was);
    CHECK(tg_backward(y32, f32[0]) == 0 && tg_backward(y64, f64[0]) == 0);
    m[1] += float32_mismatches(tg_grad(f32[1]), tg_grad(f64[1]), len) +
            float32_mismatches(tg_grad(f32[2]), tg_grad(f64[2]), len);
    tg_pool_pop(pool);
}

/* x = (up, gate) of 2 len elements, requiring grad (pooled). */
static tg_tensor *glu_input(const void *up, const void *gate, int64_t len, tg_dtype dtype) {
    tg_tensor *halves[2] = {tg_from_data(up, TG_SHAPE(len), dtype),
                            tg_from_data(gate, TG_SHAPE(len), dtype)};
    return tg_requires_grad_(tg_cat(2, halves, 0), true);
}

/* glu's the same, over x = (up, gate): its output into m[0], x's gradient
 * into m[1]. */
static void glu_mismatches(float *const *in, double *const *wide, int64_t len, int64_t *m) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *x32 = glu_input(in[2], in[1], len, TG_F32);
    tg_tensor *x64 = glu_input(wide[2], wide[1], len, TG_F64);
    tg_tensor *y32 = tg_glu(x32, 0), *y64 = tg_glu(x64, 0);
    m[0] += float32_mismatches(y32, y64, len);
    CHECK(tg_backward(y32, tg_from_data(in[0], TG_SHAPE(len), TG_F32)) == 0 &&
          tg_backward(y64, tg_from_data(wide[0], TG_SHAPE(len), TG_F64)) == 0);
    m[1] += float32_mismatches(tg_grad(x32), tg_grad(x64), 2 * len);
    tg_pool_pop(pool);
}

static void float32_fast_path_rounds_as_float64(void) {
    /* 12 million of each, 240 thousand under valgrind (long double is double there). */
    enum { CHUNK = 1 << 20 };
    int chunks = long_double_is_wider() ? 12 : 1, fraction = long_double_is_wider() ? 1 : 4;
    int64_t n = CHUNK / fraction, mismatches[7] = {0}, compared = 0;
    float *in[3];
    double *wide[3];
    for (int k = 0; k < 3; k++) {
        in[k] = malloc((size_t)n * sizeof(float));
        wide[k] = malloc((size_t)n * sizeof(double));
        CHECK(in[k] && wide[k]);
    }
    uint64_t state = 2024;
    for (int c = 0; c < chunks; c++) {
        for (int64_t i = 0; i < n; i++)
            for (int k = 0; k < 3; k++) {
                /* the gate (k = 1) of each kind against ups and gradients of every kind */
                int kind = k == 1 ? (int)(i % 4) : (int)(next_random(&state) % 4);
                in[k][i] = draw_input(&state, kind);
                wide[k][i] = in[k][i];
            }
        tg_pool *pool = tg_pool_push();
        tg_tensor *f32[3], *f64[3];
        for (int k = 0; k < 3; k++) {
            f32[k] = tg_from_data(in[k], TG_SHAPE(n), TG_F32);
            f64[k] = tg_from_data(wide[k], TG_SHAPE(n), TG_F64);
            if (k > 0) {
                tg_requires_grad_(f32[k], true);
                tg_requires_grad_(f64[k], true);
            }
        }
        /* sigmoid and silu of the gate, silu's gradient g = in[0] */
        mismatches[0] += float32_mismatches(tg_sigmoid(f32[1]), tg_sigmoid(f64[1]), n);
        tg_tensor *silu32 = tg_silu(f32[1]), *silu64 = tg_silu(f64[1]);
        mismatches[1] += float32_mismatches(silu32, silu64, n);
        CHECK(tg_backward(silu32, f32[0]) == 0 && tg_backward(silu64, f64[0]) == 0);
        mismatches[2] += float32_mismatches(tg_grad(f32[1]), tg_grad(f64[1]), n);
        tg_clear_grad(f32[1]);
        tg_clear_grad(f64[1]);
        tg_pool_pop(pool);
        /* swiglu(gate, up) and both gradients: on the whole chunk, and on
         * pieces small enough that the forward keeps sigma(gate) for the
         * backward (ops/glu.c): of 4,096, one row on one thread, and of
         * 16,384, split between two threads */
        swiglu_mismatches(in, wide, 0, n, mismatches + 3);
        static const struct {
            int64_t piece;
            int threads;
        } splits[] = {{4096, 1}, {16384, 2}};
        int threads = tg_get_num_threads();
        for (int k = 0; k < 2; k++) {
            int64_t piece = splits[k].piece;
            CHECK(tg_set_num_threads(splits[k].threads) == 0);
            for (int64_t at = 0; at < n; at += piece)
                swiglu_mismatches(in, wide, at, n - at < piece ? n - at : piece, mismatches + 3);
        }
        tg_set_num_threads(threads);
        glu_mismatches(in, wide, n, mismatches + 5);
        compared += n;
    }
    printf("  %lld inputs; bits differing: sigmoid %lld, silu %lld, silu' %lld, swiglu %lld, "
           "its gradients %lld, glu %lld, its gradient %lld\n",
           (long long)compared, (long long)mismatches[0], (long long)mismatches[1],
           (long long)mismatches[2], (long long)mismatches[3], (long long)mismatches[4],
           (long long)mismatches[5], (long long)mismatches[6]);
    for (int k = 0; k < 7; k++) CHECK(mismatches[k] == 0);
    for (int k = 0; k < 3; k++) {
        free(in[k]);
        free(wide[k]);
    }
}

/* PyTorch 1.13's print of nn.Sequential(nn.CELU(0.5), nn.Hardtanh(-2., 3.),
 * nn.SELU(), nn.ReLU6(), nn.Mish()). */
static void activation_modules_print_as_pytorch(void) {
    tg_module *net = tg_sequential_new(
        5, (tg_module *[]){tg_celu_new(0.5), tg_hardtanh_new(-2, 3), tg_activation_new(TG_ACT_SELU),
                           tg_activation_new(TG_ACT_RELU6), tg_activation_new(TG_ACT_MISH)});
    char *s = tg_module_repr(net);
    CHECK_EQ_STR(s,
                 "Sequential(\n  (0): CELU(alpha=0.5)\n  (1): Hardtanh(min_val=-2.0, max_val=3.0)\n"
                 "  (2): SELU()\n  (3): ReLU6()\n  (4): Mish()\n)");
    free(s);
    tg_module_free(net);
}

TG_TEST_MAIN(TG_CASE(ops_match_pytorch), TG_CASE(every_activation_has_golden_cases),
             TG_CASE(float32_parameters_are_rounded_like_torch),
             TG_CASE(rrelu_training_draws_slopes_in_bounds),
             TG_CASE(rrelu_training_passes_gradcheck),
             TG_CASE(rrelu_training_without_a_pool_leaks_nothing),
             TG_CASE(gelu_derivative_is_the_correct_formula),
             TG_CASE(swish_beta_one_is_silu_and_zero_halves),
             TG_CASE(fused_gated_equal_composition), TG_CASE(bad_arguments_are_reported),
             TG_CASE(formulas_agree_with_libm), TG_CASE(float32_fast_path_rounds_as_float64),
             TG_CASE(activation_modules_print_as_pytorch))
