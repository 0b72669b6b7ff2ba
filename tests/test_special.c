/* tests/test_special.c - every pointwise op on IEEE special values (NaN,
 * +-inf, +-0, denormals, the largest values), forward and backward, float32
 * and float64, against PyTorch 1.13 (golden/golden_special.h, from
 * golden/make_golden_special.py).
 *
 * Each golden row is one op in one dtype over n cases (each special value,
 * or each pair of them). The op runs three ways: on all n cases in one
 * tensor (the vectorised loops), on each case alone (a one-element tensor:
 * the loops' scalar remainder), and on every other element of a tensor of
 * 2n (the strided copy of each kernel). The output and the gradients of
 * both inputs, for an upstream gradient of ones and of 0.5 (-2 at a row
 * op's second output), must be PyTorch's:
 *   - a NaN as a NaN (any payload or sign), an infinity or a zero with its
 *     sign, exactly;
 *   - a finite nonzero value bit for bit, but for the ops marked with an ulp
 *     tolerance below: the activations evaluate their formulas in double and
 *     round once (so float32 results are closer to the exact value than
 *     PyTorch's float arithmetic), and exp, log and pow call libm, not
 *     PyTorch's vectorised approximations.
 * Where PyTorch's vectorised and one-element paths disagree (maximum(0,
 * -0), elu's gradient at NaN) or it is less accurate (GELU's left tail,
 * which it rounds to zero), the golden value is the mathematically right
 * one, and golden_special_choices lists each such case with both of
 * PyTorch's values and the reason. */
#include "golden/golden_special.h"
#include "tg_test.h"

/* ---- The ops: one row each ----------------------------------------------------------- */

/* The op on a and b (b NULL for a one-input op), with the golden row's
 * parameters p. */
typedef tg_tensor *(*special_fn)(tg_tensor *a, tg_tensor *b, const double *p);

/* [a, b] as the rows of an (n, 2) tensor, for the row ops. */
static tg_tensor *rows(tg_tensor *a, tg_tensor *b) {
    return tg_cat(2, (tg_tensor *[]){tg_unsqueeze(a, 1), tg_unsqueeze(b, 1)}, 1);
}
static const int dim1[] = {1};

static tg_tensor *neg(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_neg(a);
}
static tg_tensor *exp_(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_exp(a);
}
static tg_tensor *log_(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_log(a);
}
static tg_tensor *sqrt_(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_sqrt(a);
}
static tg_tensor *abs_(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_abs(a);
}
static tg_tensor *pow_scalar(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_pow_scalar(a, p[0]);
}
static tg_tensor *clamp(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_clamp(a, p[0], p[1]);
}
static tg_tensor *relu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_relu(a);
}
static tg_tensor *leaky_relu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_leaky_relu(a, p[0]);
}
static tg_tensor *rrelu_eval(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_rrelu(a, p[0], p[1], TG_EVAL, NULL);
}
static tg_tensor *elu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_elu(a, p[0]);
}
static tg_tensor *sigmoid(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_sigmoid(a);
}
static tg_tensor *tanh_(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_tanh(a);
}
static tg_tensor *gelu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_gelu(a, p[0] != 0 ? TG_GELU_TANH : TG_GELU_NONE);
}
static tg_tensor *silu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, (void)p, tg_silu(a);
}
static tg_tensor *softplus(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)b, tg_softplus(a, p[0], p[1]);
}
static tg_tensor *add(tg_tensor *a, tg_tensor *b, const double *p) { return (void)p, tg_add(a, b); }
static tg_tensor *sub(tg_tensor *a, tg_tensor *b, const double *p) { return (void)p, tg_sub(a, b); }
static tg_tensor *mul(tg_tensor *a, tg_tensor *b, const double *p) { return (void)p, tg_mul(a, b); }
static tg_tensor *div_(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_div(a, b);
}
static tg_tensor *maximum(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_maximum(a, b);
}
static tg_tensor *minimum(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_minimum(a, b);
}
/* a is also the condition: nonzero (NaN included) picks a. */
static tg_tensor *where(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_where(tg_ne_scalar(a, 0), a, b);
}
/* x of shape (1, n), one weight per channel: each case its own weight. */
static tg_tensor *prelu(tg_tensor *a, tg_tensor *b, const double *p) {
    (void)p;
    return tg_prelu(tg_reshape(a, 2, (int64_t[]){1, tg_numel(a)}), b);
}
/* tg_swish takes one beta: each case is a call of its own. */
static tg_tensor *swish(tg_tensor *a, tg_tensor *b, const double *p) {
    (void)p;
    int64_t n = tg_numel(a);
    tg_tensor **each = malloc(sizeof *each * (size_t)n);
    if (!each) return NULL;
    for (int64_t i = 0; i < n; i++)
        each[i] = tg_swish(tg_slice(a, 0, i, i + 1, 1), tg_slice(b, 0, i, i + 1, 1));
    tg_tensor *out = tg_cat((int)n, each, 0);
    free(each);
    return out;
}
static tg_tensor *swiglu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_swiglu(a, b);
}
static tg_tensor *geglu(tg_tensor *a, tg_tensor *b, const double *p) {
    return tg_geglu(a, b, p[0] != 0 ? TG_GELU_TANH : TG_GELU_NONE);
}
static tg_tensor *reglu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_reglu(a, b);
}
/* glu(cat(a, b)): up a, gate b. */
static tg_tensor *glu(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_glu(tg_cat(2, (tg_tensor *[]){a, b}, 0), 0);
}
static tg_tensor *mse_loss(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_mse_loss(a, b, TG_REDUCTION_NONE);
}
static tg_tensor *bce_with_logits(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_binary_cross_entropy_with_logits(a, b, TG_REDUCTION_NONE);
}
static tg_tensor *sum_rows(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_sum_dims(rows(a, b), 1, dim1, TG_DROP_DIMS);
}
static tg_tensor *mean_rows(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_mean_dims(rows(a, b), 1, dim1, TG_DROP_DIMS);
}
static tg_tensor *softmax_rows(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_softmax(rows(a, b), 1);
}
static tg_tensor *log_softmax_rows(tg_tensor *a, tg_tensor *b, const double *p) {
    return (void)p, tg_log_softmax(rows(a, b), 1);
}

typedef struct special_op {
    const char *name; /* as golden_special.op */
    special_fn fn;
    /* Finite values may be this many units in the last place from the
     * golden ones (0: bit for bit), in float32 and in float64; with a
     * tolerance, a zero is a value whose ulp is the smallest denormal, so a
     * denormal rounded the other way passes, but the sign of a zero or of a
     * value must still be the golden one. NaN and the infinities are exact. */
    int ulps[2];
    /* Gradients are within ulps of max(|value|, grad_scale): 1 where both
     * evaluations subtract terms of the upstream gradient's size (tanh's
     * 1 - y^2, swish's s + x ds beta, softmax's g - sum(g y)), whose
     * rounding is relative to that size, not to their difference. */
    double grad_scale;
} special_op;

/* The activations and the losses: their formulas run in double and round
 * once, where PyTorch's float32 kernels round at each step (its float32
 * values more than an ulp off are replaced by golden/make_golden_special.py)
 * and its float64 ones use other approximations of exp, tanh and erf, and
 * order the products differently. */
#define ACT_ULPS {1, 4}, 0
#define ACT_ULPS_DIFF {1, 4}, 1 /* and gradients formed as differences */
/* gelu's tanh form takes sigma(2u) of 2u = sqrt(8 / pi) (x + 0.044715 x^3),
 * whose rounding shows |2u| times larger in the result (25 ulp, in its tail). */
#define GELU_ULPS {1, 32}, 0
/* PyTorch's glu gradient (1 - s) s cancels where s = sigma(b) nears 1 (12
 * ulp at b = 2.5); tapegrad's is e^-|b| / (1 + e^-|b|)^2. */
#define GLU_ULPS {1, 16}, 1
/* libm's exp, log and pow against PyTorch's vectorised ones. */
#define LIBM_ULPS {1, 1}, 0
#define BITWISE {0, 0}, 0

static const special_op special_ops[] = {
    {"neg", neg, BITWISE},
    {"exp", exp_, LIBM_ULPS},
    {"log", log_, LIBM_ULPS},
    {"sqrt", sqrt_, BITWISE},
    {"abs", abs_, BITWISE},
    {"pow_scalar", pow_scalar, LIBM_ULPS},
    {"clamp", clamp, BITWISE},
    {"relu", relu, BITWISE},
    {"leaky_relu", leaky_relu, BITWISE},
    {"rrelu_eval", rrelu_eval, BITWISE},
    {"elu", elu, ACT_ULPS},
    {"sigmoid", sigmoid, ACT_ULPS_DIFF},
    {"tanh", tanh_, ACT_ULPS_DIFF},
    {"gelu", gelu, GELU_ULPS},
    {"silu", silu, ACT_ULPS},
    {"softplus", softplus, ACT_ULPS},
    {"add", add, BITWISE},
    {"sub", sub, BITWISE},
    {"mul", mul, BITWISE},
    {"div", div_, BITWISE},
    {"maximum", maximum, BITWISE},
    {"minimum", minimum, BITWISE},
    {"where", where, BITWISE},
    {"prelu", prelu, BITWISE},
    {"swish", swish, ACT_ULPS_DIFF},
    {"swiglu", swiglu, ACT_ULPS},
    {"geglu", geglu, GELU_ULPS},
    {"reglu", reglu, BITWISE},
    {"glu", glu, GLU_ULPS},
    {"mse_loss", mse_loss, BITWISE},
    {"bce_with_logits", bce_with_logits, ACT_ULPS},
    {"sum_rows", sum_rows, BITWISE},
    {"mean_rows", mean_rows, BITWISE},
    {"softmax_rows", softmax_rows, ACT_ULPS_DIFF},
    {"log_softmax_rows", log_softmax_rows, ACT_ULPS_DIFF},
};
enum { N_OPS = sizeof special_ops / sizeof special_ops[0] };
enum { N_ROWS = sizeof golden_specials / sizeof golden_specials[0] };

static const special_op *op_named(const char *name) {
    for (int i = 0; i < N_OPS; i++)
        if (!strcmp(special_ops[i].name, name)) return &special_ops[i];
    return NULL;
}

/* ---- Comparing ------------------------------------------------------------------------- */

/* One unit in the last place of |v| in the dtype (denormals included). */
static double ulp_of(double v, bool f64) {
    int digits = f64 ? 52 : 23, emin = f64 ? -1022 : -126;
    int e = v == 0 ? emin : ilogb(v);
    return ldexp(1.0, (e < emin ? emin : e) - digits);
}

/* got is want: NaN for NaN, an infinity with its sign; a finite value of
 * want's sign within ulps units in the last place of max(|want|, scale)
 * (ulps 0: the same bits, a zero's sign included). With a scale, a value
 * within the tolerance of 0 may have either sign (both zeros still must
 * agree): the rounding of a difference decides it. */
static bool same_value(double got, double want, int ulps, double scale, bool f64) {
    if (isnan(want) || isnan(got)) return isnan(got) && isnan(want);
    if (isinf(want) || isinf(got) || ulps == 0 || (got == 0 && want == 0))
        return got == want && signbit(got) == signbit(want);
    double tol = ulps * ulp_of(fmax(fabs(want), scale), f64);
    if (signbit(got) != signbit(want) && !(scale > 0 && fabs(want) <= tol)) return false;
    return fabs(got - want) <= tol;
}

/* The largest deviation seen, in ulps, per op and dtype; worst_now is the
 * running op's. */
static double worst_ulps[N_OPS][2], *worst_now;

/* Where the first element of got[0..n) that is not want[0..n) is, or -1. */
static int64_t first_wrong(const double *got, const double *want, int64_t n, int ulps, double scale,
                           bool f64) {
    for (int64_t i = 0; i < n; i++) {
        if (!same_value(got[i], want[i], ulps, scale, f64)) return i;
        if (isfinite(want[i])) {
            double d = fabs(got[i] - want[i]) / ulp_of(fmax(fabs(want[i]), scale), f64);
            if (d > worst_now[f64]) worst_now[f64] = d;
        }
    }
    return -1;
}

/* ---- Running a row ----------------------------------------------------------------------- */

typedef enum layout { TOGETHER, STRIDED } layout;

/* A leaf of dtype holding v[first .. first + n); *view is what the op gets:
 * the leaf itself, or (STRIDED) every other element of a leaf of 2n with
 * the values at the even places and 7 between. */
static tg_tensor *leaf_of(const double *v, int64_t first, int64_t n, tg_dtype dt, layout how,
                          tg_tensor **view) {
    int64_t m = how == STRIDED ? 2 * n : n;
    double *data = malloc(sizeof *data * (size_t)m);
    if (!data) return NULL;
    for (int64_t i = 0; i < m; i++)
        data[i] = how == STRIDED ? (i % 2 ? 7.0 : v[first + i / 2]) : v[first + i];
    tg_tensor *leaf = tg_requires_grad_(tg_test_tensor(data, 1, (int64_t[]){m}, dt), true);
    free(data);
    *view = how == STRIDED ? tg_slice(leaf, 0, 0, m, 2) : leaf;
    return leaf;
}

/* The upstream gradient k for out, n cases of nout outputs: ones, or 0.5
 * (-2 at a second output). */
static tg_tensor *upstream(const tg_tensor *out, int k, int nout) {
    int64_t m = tg_numel(out);
    double *u = malloc(sizeof *u * (size_t)m);
    if (!u) return NULL;
    for (int64_t i = 0; i < m; i++) u[i] = k == 0 ? 1.0 : (nout == 2 && i % 2 ? -2.0 : 0.5);
    tg_tensor *t = tg_test_tensor(u, tg_ndim(out), tg_shape(out), tg_dtype_of(out));
    free(u);
    return t;
}

static char where_msg[256];

/* got (every element, or with STRIDED every other) against want. */
static bool check_values(const tg_tensor *t, const double *want, int64_t n, layout how, int ulps,
                         double scale, bool f64, const char *what, int64_t first) {
    int64_t m = tg_numel(t);
    double *got = malloc(sizeof *got * (size_t)(m + 1));
    if (!got || tg_to_doubles(t, got) != 0) {
        free(got);
        snprintf(where_msg, sizeof where_msg, "%s: no values", what);
        return false;
    }
    if (how == STRIDED && m == 2 * n)
        for (int64_t i = 0; i < n; i++) got[i] = got[2 * i];
    int64_t bad = m >= n ? first_wrong(got, want, n, ulps, scale, f64) : 0;
    if (bad >= 0)
        snprintf(where_msg, sizeof where_msg, "%s[%lld] = %.17g, want %.17g", what,
                 (long long)(first + bad), m > bad ? got[bad] : NAN, want[bad]);
    free(got);
    return bad < 0;
}

/* Runs row g's cases [first, first + n) laid out as how; false, with
 * where_msg set, at the first value that is not the golden one. */
static bool run_cases(const golden_special *g, const special_op *op, int64_t first, int64_t n,
                      layout how) {
    tg_dtype dt = g->f64 ? TG_F64 : TG_F32;
    int ulps = op->ulps[g->f64];
    for (int k = 0; k < 2; k++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *a, *b = NULL, *lb = NULL;
        tg_tensor *la = leaf_of(g->a, first, n, dt, how, &a);
        if (g->arity == 2) lb = leaf_of(g->b, first, n, dt, how, &b);
        tg_tensor *out = op->fn(a, b, g->p);
        bool ok = out != NULL && tg_numel(out) == n * g->nout;
        if (!ok) snprintf(where_msg, sizeof where_msg, "no output: %s", tg_last_error());
        if (ok && k == 0)
            ok = check_values(out, g->out + first * g->nout, n * g->nout, TOGETHER, ulps, 0, g->f64,
                              "out", first * g->nout);
        if (ok && tg_backward(out, upstream(out, k, g->nout)) != 0) {
            snprintf(where_msg, sizeof where_msg, "backward: %s", tg_last_error());
            ok = false;
        }
        const char *ga_name[2] = {"grad a (upstream 1)", "grad a (upstream 0.5)"};
        const char *gb_name[2] = {"grad b (upstream 1)", "grad b (upstream 0.5)"};
        if (ok)
            ok = check_values(tg_grad(la), g->ga[k] + first, n, how, ulps, op->grad_scale, g->f64,
                              ga_name[k], first);
        if (ok && lb)
            ok = check_values(tg_grad(lb), g->gb[k] + first, n, how, ulps, op->grad_scale, g->f64,
                              gb_name[k], first);
        tg_pool_pop(pool);
        if (!ok) return false;
    }
    return true;
}

static long n_checked;

/* ", b = <value>" for a case of a two-input op, "" otherwise. */
static const char *b_text(const golden_special *g, int64_t i) {
    static char text[48];
    text[0] = 0;
    if (g->b) snprintf(text, sizeof text, ", b = %.9g", g->b[i]);
    return text;
}

/* Prints what differs in row g, at most `shown` lines (the cases alone,
 * then the other layouts); returns whether anything did. */
static bool row_differs(const golden_special *g, const special_op *op, const char *context) {
    static const char *layouts[] = {"together", "strided"};
    int shown = 0;
    for (int64_t i = 0; i < g->n; i++)
        if (!run_cases(g, op, i, 1, TOGETHER) && shown++ < 8)
            printf("  %s alone, a = %.9g%s: %s\n", context, g->a[i], b_text(g, i), where_msg);
    for (int how = TOGETHER; how <= STRIDED; how++)
        if (!run_cases(g, op, 0, g->n, (layout)how) && shown++ < 8)
            printf("  %s %s: %s\n", context, layouts[how], where_msg);
    return shown > 0;
}

static void every_op_matches_pytorch_on_special_values(void) {
    static char context[160];
    int rows_wrong = 0;
    for (int r = 0; r < N_ROWS; r++) {
        const golden_special *g = &golden_specials[r];
        const special_op *op = op_named(g->op);
        snprintf(context, sizeof context, "%s(%g, %g) %s", g->op, g->p[0], g->p[1],
                 g->f64 ? "float64" : "float32");
        tg_test_context = context;
        CHECK(op != NULL); /* every golden op has a row in special_ops */
        worst_now = worst_ulps[op - special_ops];
        rows_wrong += row_differs(g, op, context);
        n_checked += g->n;
    }
    tg_test_context = NULL;
    printf("  %ld (op, value, dtype) cases, each alone, together and strided: forward and "
           "four gradients\n  largest deviations in ulps (float32, float64):",
           n_checked);
    for (int i = 0; i < N_OPS; i++)
        if (worst_ulps[i][0] > 0 || worst_ulps[i][1] > 0)
            printf(" %s %.2g, %.2g;", special_ops[i].name, worst_ulps[i][0], worst_ulps[i][1]);
    printf("\n");
    CHECK(rows_wrong == 0);
}

/* Every op of the table has golden rows in both dtypes: a row added to
 * special_ops without data in golden_special.h would test nothing. */
static void every_op_has_golden_rows(void) {
    for (int i = 0; i < N_OPS; i++) {
        tg_test_context = special_ops[i].name;
        int dtypes = 0;
        for (int r = 0; r < N_ROWS; r++)
            if (!strcmp(golden_specials[r].op, special_ops[i].name))
                dtypes |= 1 << golden_specials[r].f64;
        CHECK(dtypes == 3);
    }
}

/* A value's kind: NaN, +-inf, +-0, or finite nonzero of a sign. */
static int kind(double v) {
    if (isnan(v)) return 0;
    return (isinf(v) ? 1 : v == 0 ? 3 : 5) + (signbit(v) != 0);
}

/* The values that are not PyTorch's: each is a case of the sweep above, the
 * golden value being the chosen one; here each is checked to differ from at
 * least one of PyTorch's two paths (so the list holds nothing stale), and
 * they are counted: where PyTorch's two paths disagree in kind (maximum's
 * +-0, elu's gradient at NaN), and where the chosen value differs in kind
 * from PyTorch's (GELU's tail rounded to 0, NaN from a float32 product
 * that underflowed). */
static void choices_differ_from_pytorch(void) {
    int n = (int)(sizeof golden_special_choices / sizeof golden_special_choices[0]);
    int paths = 0, kinds = 0;
    for (int i = 0; i < n; i++) {
        const golden_special_choice *c = &golden_special_choices[i];
        tg_test_context = c->op;
        bool vec = same_value(c->chosen, c->vectorised, 0, 0, c->f64);
        bool alone = same_value(c->chosen, c->alone, 0, 0, c->f64);
        CHECK(!vec || !alone);
        paths += kind(c->vectorised) != kind(c->alone);
        kinds += kind(c->chosen) != kind(c->vectorised) || kind(c->chosen) != kind(c->alone);
    }
    printf("  %d values not PyTorch's: %d where its two paths disagree in kind, %d of "
           "another kind than PyTorch's\n",
           n, paths, kinds);
}

TG_TEST_MAIN(TG_CASE(every_op_has_golden_rows), TG_CASE(every_op_matches_pytorch_on_special_values),
             TG_CASE(choices_differ_from_pytorch))
