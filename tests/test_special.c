/* tests/test_special.c - every pointwise op of tests/op_table.c on IEEE
 * special values (NaN, +-inf, +-0, denormals, the largest values), forward
 * and backward, float32 and float64, against PyTorch 1.13
 * (golden/golden_special.h, from golden/make_golden_special.py); and, once
 * for each (op, parameters) of that data, the checks that every op passes
 * on ordinary inputs: gradcheck, its node, gradients arriving strided, no
 * leak without a pool, and finite activations at large |x|.
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
 *   - a finite nonzero value bit for bit, but for the ops whose row has an
 *     ulp tolerance: the activations evaluate their formulas in double and
 *     round once (so float32 results are closer to the exact value than
 *     PyTorch's float arithmetic), and exp, log and pow call libm, not
 *     PyTorch's vectorised approximations.
 * Where PyTorch's vectorised and one-element paths disagree (maximum(0,
 * -0), elu's gradient at NaN) or it is less accurate (GELU's left tail,
 * which it rounds to zero), the golden value is the mathematically right
 * one, and golden_special_choices lists each such case with both of
 * PyTorch's values and the reason. */
#include "golden/golden_special.h"
#include "op_table.h"
#include "tg_test.h"

enum { N_ROWS = sizeof golden_specials / sizeof golden_specials[0] };

/* ---- The op on a case's inputs ------------------------------------------------------------- */

/* The op on the cases a and b (NULL for one input), made into its inputs as
 * its kind says: glu halves cat(a, b); the row ops take [a, b] as the rows of
 * an (n, 2) tensor; prelu's x is one row (1, n), a weight per case; swish
 * takes one beta, so each case is a call of its own. */
static tg_tensor *call_on_cases(const op_row *op, tg_tensor *a, tg_tensor *b, const double *p) {
    int64_t n = tg_numel(a);
    switch (op->inputs) {
    case OP_HALVES: return op->call(tg_cat(2, (tg_tensor *[]){a, b}, 0), NULL, p);
    case OP_ROWS: {
        tg_tensor *rows = tg_cat(2, (tg_tensor *[]){tg_unsqueeze(a, 1), tg_unsqueeze(b, 1)}, 1);
        return op->call(rows, NULL, p);
    }
    case OP_WEIGHT: return op->call(tg_reshape(a, 2, (int64_t[]){1, n}), b, p);
    case OP_BETA: {
        tg_tensor **each = malloc(sizeof *each * (size_t)n);
        if (!each) return NULL;
        for (int64_t i = 0; i < n; i++)
            each[i] = op->call(tg_slice(a, 0, i, i + 1, 1), tg_slice(b, 0, i, i + 1, 1), p);
        tg_tensor *out = tg_cat((int)n, each, 0);
        free(each);
        return out;
    }
    default: return op->call(a, b, p);
    }
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

/* The largest deviation seen, in ulps, per op and dtype (in the order the
 * ops come); worst_now is the running op's. */
static struct {
    const op_row *op;
    double ulps[2];
} worst[64];
static int n_worst;
static double *worst_now;

static double *worst_of(const op_row *op) {
    static double unreported[2]; /* the ops past room for 64 */
    int i = 0;
    while (i < n_worst && worst[i].op != op) i++;
    if (i == (int)(sizeof worst / sizeof worst[0])) return unreported;
    if (i == n_worst) worst[n_worst++].op = op;
    return worst[i].ulps;
}

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
static bool run_cases(const golden_special *g, const op_row *op, int64_t first, int64_t n,
                      layout how) {
    tg_dtype dt = g->f64 ? TG_F64 : TG_F32;
    int ulps = op->ulps[g->f64];
    for (int k = 0; k < 2; k++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *a, *b = NULL, *lb = NULL;
        tg_tensor *la = leaf_of(g->a, first, n, dt, how, &a);
        if (g->arity == 2) lb = leaf_of(g->b, first, n, dt, how, &b);
        tg_tensor *out = call_on_cases(op, a, b, g->p);
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
static bool row_differs(const golden_special *g, const op_row *op, const char *context) {
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
        const op_row *op = op_named(g->op);
        snprintf(context, sizeof context, "%s(%g, %g) %s", g->op, g->p[0], g->p[1],
                 g->f64 ? "float64" : "float32");
        tg_test_context = context;
        CHECK(op != NULL); /* every golden op has a row in tests/op_table.c */
        worst_now = worst_of(op);
        rows_wrong += row_differs(g, op, context);
        n_checked += g->n;
    }
    tg_test_context = NULL;
    printf("  %ld (op, value, dtype) cases, each alone, together and strided: forward and "
           "four gradients\n  largest deviations in ulps (float32, float64):",
           n_checked);
    for (int i = 0; i < n_worst; i++)
        if (worst[i].ulps[0] > 0 || worst[i].ulps[1] > 0)
            printf(" %s %.2g, %.2g;", worst[i].op->name, worst[i].ulps[0], worst[i].ulps[1]);
    printf("\n");
    CHECK(rows_wrong == 0);
}

/* Every op of tests/op_table.c has golden rows in both dtypes: a row
 * without data in golden_special.h would test nothing. */
static void every_op_has_golden_rows(void) {
    for (int t = 0; t < OP_N_TABLES; t++)
        for (int i = 0; i < op_tables[t]->n; i++) {
            const char *name = op_tables[t]->rows[i].name;
            tg_test_context = name;
            int dtypes = 0;
            for (int r = 0; r < N_ROWS; r++)
                if (!strcmp(golden_specials[r].op, name)) dtypes |= 1 << golden_specials[r].f64;
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

/* ---- Every (op, parameters) on ordinary inputs ------------------------------------------- */

/* Whether golden row r is the first with its op and parameters (the sweep
 * has a row per dtype). */
static bool first_with_its_parameters(int r) {
    const golden_special *g = &golden_specials[r];
    for (int q = 0; q < r; q++)
        if (!strcmp(golden_specials[q].op, g->op) &&
            !memcmp(golden_specials[q].p, g->p, sizeof g->p))
            return false;
    return true;
}

/* Runs check once for each (op, parameters) of the sweep. */
static void for_each_op_and_parameters(void (*check)(const op_row *op, const double *p)) {
    static char context[96];
    for (int r = 0; r < N_ROWS; r++) {
        const golden_special *g = &golden_specials[r];
        const op_row *op = op_named(g->op); /* NULL fails every_op_matches_pytorch_... */
        if (!op || !first_with_its_parameters(r)) continue;
        snprintf(context, sizeof context, "%s(%g, %g)", g->op, g->p[0], g->p[1]);
        tg_test_context = context;
        check(op, g->p);
    }
    tg_test_context = NULL;
}

/* How an op's inputs are laid out: x of shape sx, and y of shape sy (ny -1:
 * none), contiguous or (strided) transposed views of dims 1 and 2 made leaves. */
typedef struct input_layout {
    const char *what;
    bool strided;
    int nx;
    int64_t sx[3];
    int ny;
    int64_t sy[3];
} input_layout;

static const input_layout x_alone[] = {
    {"contiguous", false, 3, {2, 3, 4}, -1, {0}},
    {"strided", true, 3, {2, 3, 4}, -1, {0}},
};
static const input_layout x_and_weight[] = {
    {"a weight per channel", false, 3, {2, 3, 4}, 1, {3}},
    {"strided, a weight per channel", true, 3, {2, 3, 4}, 1, {3}},
    {"one weight for all", false, 3, {2, 3, 4}, 1, {1}},
    {"a 0-dim weight", false, 3, {2, 3, 4}, 0, {0}},
};
static const input_layout x_and_beta[] = {
    {"0-dim beta", false, 3, {2, 3, 4}, 0, {0}},
    {"strided, 0-dim beta", true, 3, {2, 3, 4}, 0, {0}},
    {"beta of shape (1,)", false, 3, {2, 3, 4}, 1, {1}},
};
static const input_layout one_shape[] = {
    {"contiguous", false, 3, {2, 3, 4}, 3, {2, 3, 4}},
    {"strided", true, 3, {2, 3, 4}, 3, {2, 3, 4}},
};
static const input_layout broadcasting[] = {
    {"contiguous", false, 3, {2, 3, 4}, 3, {2, 3, 4}},
    {"strided", true, 3, {2, 3, 4}, 3, {2, 3, 4}},
    {"y broadcast", false, 3, {2, 3, 4}, 1, {4}},
    {"x broadcast", false, 2, {3, 1}, 3, {2, 3, 4}},
};

/* The layouts of each kind of input; the first is the plain one. */
#define LAYOUTS(a) \
    { a, (int)(sizeof a / sizeof a[0]) }
static const struct {
    const input_layout *of;
    int n;
} layouts[] = {
    [OP_X] = LAYOUTS(x_alone),
    [OP_HALVES] = LAYOUTS(x_alone),
    [OP_ROWS] = LAYOUTS(x_alone),
    [OP_WEIGHT] = LAYOUTS(x_and_weight),
    [OP_BETA] = LAYOUTS(x_and_beta),
    [OP_PAIR] = LAYOUTS(one_shape),
    [OP_BROADCAST] = LAYOUTS(broadcasting),
};

/* A float64 leaf requiring grad, uniform in the op's [lo, hi). */
static tg_tensor *input_leaf(const op_row *op, int ndim, const int64_t *shape, bool strided) {
    int64_t s[3] = {0};
    memcpy(s, shape, sizeof(int64_t) * (size_t)ndim);
    strided = strided && ndim == 3;
    if (strided) s[1] = shape[2], s[2] = shape[1];
    tg_tensor *t = tg_rand(ndim, s, TG_F64, NULL);
    t = tg_add_scalar(tg_mul_scalar(t, op->hi - op->lo), op->lo);
    return tg_requires_grad_(strided ? tg_detach(tg_transpose(t, 1, 2)) : t, true);
}

/* op's inputs laid out as l, in in[0] and in[1] (NULL for one input);
 * returns how many. */
static int make_inputs(const op_row *op, const input_layout *l, tg_tensor **in) {
    in[0] = input_leaf(op, l->nx, l->sx, l->strided);
    in[1] = l->ny < 0 ? NULL : input_leaf(op, l->ny, l->sy, l->strided);
    return l->ny < 0 ? 1 : 2;
}

static int n_gradcheck_skipped;

typedef struct op_call {
    const op_row *op;
    const double *p;
    int n_inputs;
} op_call;

static tg_tensor *call_op(tg_tensor *const *in, void *ctx) {
    const op_call *c = ctx;
    return c->op->call(in[0], c->n_inputs > 1 ? in[1] : NULL, c->p);
}

/* Whether every element of t is finite (false for NULL). */
static bool finite_everywhere(const tg_tensor *t) {
    double v[64];
    if (!t || tg_numel(t) > 64 || tg_to_doubles(t, v) != 0) return false;
    for (int64_t i = 0; i < tg_numel(t); i++)
        if (!isfinite(v[i])) return false;
    return true;
}

/* In each layout of its inputs. 0 is the kink of the rectifiers, abs and
 * clamp(-0, 0); 2.5 where softplus(2, 5) switches to x; -1, 1, -0.5, 2 the
 * bounds of clamp and hardtanh, -3 and 3 those of hardsigmoid and
 * hardswish. A parameter set
 * whose output is not finite has no finite differences to compare with
 * (clamp_min(x, NaN) is NaN everywhere, clamp_min(x, inf) inf): skipped. */
static void passes_gradcheck(const op_row *op, const double *p) {
    static const double kinks[] = {0, 2.5, -1, 1, -0.5, 2, -3, 3};
    tg_gradcheck_options opts = {.kinks = kinks, .n_kinks = 8};
    for (int i = 0; i < layouts[op->inputs].n; i++) {
        const input_layout *l = &layouts[op->inputs].of[i];
        tg_tensor *in[2];
        int n = make_inputs(op, l, in);
        if (!finite_everywhere(op->call(in[0], n > 1 ? in[1] : NULL, p))) {
            n_gradcheck_skipped++;
            continue;
        }
        int rc = tg_gradcheck(call_op, &(op_call){op, p, n}, n, in, &opts);
        if (rc != 0) printf("  %s, %s: %s\n", tg_test_context, l->what, tg_last_error());
        CHECK(rc == 0);
    }
}

/* The op records its node when both inputs, or the second alone, require
 * grad; none when neither does, or with grad mode off. */
static void records_its_node(const op_row *op, const double *p) {
    tg_tensor *in[2];
    int n = make_inputs(op, &layouts[op->inputs].of[0], in);
    tg_tensor *x = in[0], *y = in[1], *plain_y = n > 1 ? tg_detach(y) : NULL;
    CHECK_EQ_STR(tg_grad_fn_name(op->call(x, y, p)), op->node);
    if (n > 1) CHECK_EQ_STR(tg_grad_fn_name(op->call(tg_detach(x), y, p)), op->node);
    tg_tensor *none = op->call(tg_detach(x), plain_y, p);
    CHECK(none && tg_grad_fn_name(none) == NULL && !tg_requires_grad(none));
    bool prev = tg_set_grad_enabled(false);
    tg_tensor *off = op->call(x, y, p);
    tg_set_grad_enabled(prev);
    CHECK(off && tg_grad_fn_name(off) == NULL);
}

/* sum's backward hands on an expanded view (stride 0): the gradients are the
 * same as with an explicit contiguous seed of ones. */
static void reads_strided_gradients(const op_row *op, const double *p) {
    tg_tensor *in[2];
    int n = make_inputs(op, &layouts[op->inputs].of[0], in);
    double via_sum[2][24] = {{0}}, via_ones[2][24] = {{0}};
    tg_tensor *out = op->call(in[0], in[1], p);
    CHECK(out && tg_backward(tg_sum(out), NULL) == 0);
    for (int k = 0; k < n; k++) {
        tg_to_doubles(tg_grad(in[k]), via_sum[k]);
        tg_clear_grad(in[k]);
    }
    out = op->call(in[0], in[1], p);
    CHECK(out && tg_backward(out, tg_ones(tg_ndim(out), tg_shape(out), TG_F64)) == 0);
    for (int k = 0; k < n; k++) tg_to_doubles(tg_grad(in[k]), via_ones[k]);
    CHECK(memcmp(via_sum, via_ones, sizeof via_sum) == 0);
}

/* Without a pool the caller owns the result: released, with the inputs,
 * nothing is left. */
static void leaks_nothing_without_a_pool(const op_row *op, const double *p) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *in[2];
    int n = make_inputs(op, &layouts[op->inputs].of[0], in);
    for (int k = 0; k < n; k++) tg_retain(in[k]);
    tg_pool_pop(pool);
    tg_tensor *out = op->call(in[0], in[1], p);
    tg_tensor *seed = out ? tg_ones(tg_ndim(out), tg_shape(out), TG_F64) : NULL;
    int rc = seed ? tg_backward(out, seed) : -1;
    tg_release(seed);
    tg_release(out);
    for (int k = 0; k < n; k++) tg_release(in[k]);
    CHECK(rc == 0);
}

static bool all_finite(const tg_tensor *t) {
    double v[8];
    if (!t || tg_numel(t) > 8 || tg_to_doubles(t, v) != 0) return false;
    for (int64_t i = 0; i < tg_numel(t); i++)
        if (!isfinite(v[i])) return false;
    return true;
}

/* The activations: no NaN or inf at x = +-100 and +-1000, in the value or
 * the gradients (beta or weight 0.25, up = x for the gated forms); but for
 * a NaN parameter (hardtanh's bound), which gives NaN by design. */
static void activation_finite_at_large_x(const op_row *op, const double *p) {
    if (op < op_activations.rows || op >= op_activations.rows + op_activations.n) return;
    if (isnan(p[0]) || isnan(p[1])) return;
    const double values[] = {-1000, -100, 100, 1000, -100, 100, -1000, 1000};
    bool param = op->inputs == OP_WEIGHT || op->inputs == OP_BETA;
    for (int f64 = 0; f64 < 2; f64++) {
        tg_dtype dt = f64 ? TG_F64 : TG_F32;
        tg_tensor *x = tg_requires_grad_(tg_test_tensor(values, TG_SHAPE(8), dt), true);
        tg_tensor *y = param ? tg_requires_grad_(tg_full(TG_SHAPE(1), 0.25, dt), true) : x;
        tg_tensor *out = op->call(x, y, p);
        CHECK(all_finite(out));
        CHECK(tg_backward(tg_sum(out), NULL) == 0);
        CHECK(all_finite(tg_grad(x)));
        if (param) CHECK(all_finite(tg_grad(y)));
    }
}

static void every_op_passes_gradcheck(void) {
    for_each_op_and_parameters(passes_gradcheck);
    printf("  %d (op, parameters, layout) skipped: output not finite\n", n_gradcheck_skipped);
}
static void every_op_records_its_node(void) { for_each_op_and_parameters(records_its_node); }
static void every_op_reads_strided_gradients(void) {
    for_each_op_and_parameters(reads_strided_gradients);
}
static void ops_without_a_pool_leak_nothing(void) {
    tg_pool_pop(tg_test_pool); /* own everything explicitly here */
    int64_t before = tg_live_tensors();
    for_each_op_and_parameters(leaks_nothing_without_a_pool);
    CHECK(tg_live_tensors() == before);
}
static void activations_are_finite_at_large_x(void) {
    for_each_op_and_parameters(activation_finite_at_large_x);
}

TG_TEST_MAIN(TG_CASE(every_op_has_golden_rows), TG_CASE(every_op_matches_pytorch_on_special_values),
             TG_CASE(choices_differ_from_pytorch), TG_CASE(every_op_passes_gradcheck),
             TG_CASE(every_op_records_its_node), TG_CASE(every_op_reads_strided_gradients),
             TG_CASE(ops_without_a_pool_leak_nothing), TG_CASE(activations_are_finite_at_large_x))
