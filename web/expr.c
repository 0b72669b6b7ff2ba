/* web/expr.c - the page's little language (expr.h): a recursive-descent
 * parser that calls the library's ops as it reads.
 *
 *     program   = statement { (';' | newline) statement }
 *     statement = [ name '=' ] sum
 *     sum       = product { ('+' | '-') product }
 *     product   = unary { ('*' | '/' | '@') unary }
 *     unary     = '-' unary | power
 *     power     = primary [ ('^' | '**') unary ]
 *     primary   = number | name | name '(' [ sum { ',' sum } ] ')' | '(' sum ')' | list
 *     list      = '[' (number | list) { ',' (number | list) } ']'
 */
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_VARS = 64, MAX_ARGS = 8, MAX_DIMS = 8, MAX_LIST = 4096 };

/* A value: a tensor, or a plain number when t is NULL. */
typedef struct value {
    tg_tensor *t;
    double num;
} value;

typedef struct parser {
    const char *src, *p;
    expr_run *run;
    struct {
        char name[EXPR_NAME_MAX];
        tg_tensor *t;
    } vars[MAX_VARS];
    int n_vars;
    tg_generator *gen; /* randn and rand, seeded the same on every run */
    bool failed;
} parser;

static const value NONE = {NULL, NAN};

/* Records the first error, at the current column. */
static value fail(parser *ps, const char *fmt, ...) {
    if (!ps->failed) {
        int n = snprintf(ps->run->error, sizeof ps->run->error,
                         "column %d: ", (int)(ps->p - ps->src) + 1);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->run->error + n, sizeof ps->run->error - (size_t)n, fmt, ap);
        va_end(ap);
        ps->failed = true;
    }
    return NONE;
}

/* An op returned NULL: its message is the library's. */
static value library_failed(parser *ps) {
    if (!ps->failed) {
        snprintf(ps->run->error, sizeof ps->run->error, "%s", tg_last_error());
        ps->failed = true;
    }
    return NONE;
}

static void skip_space(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') ps->p++;
}

static bool accept(parser *ps, const char *token) {
    skip_space(ps);
    size_t n = strlen(token);
    if (strncmp(ps->p, token, n) != 0) return false;
    ps->p += n;
    return true;
}

static bool expect(parser *ps, const char *token) {
    if (accept(ps, token)) return true;
    fail(ps, *ps->p ? "expected '%s' before '%.8s'" : "expected '%s' at the end", token, ps->p);
    return false;
}

/* Reads a name into buf; false when none is here. */
static bool read_name(parser *ps, char *buf) {
    skip_space(ps);
    if (!isalpha((unsigned char)*ps->p) && *ps->p != '_') return false;
    size_t n = 0;
    while (isalnum((unsigned char)*ps->p) || *ps->p == '_') {
        if (n + 1 < EXPR_NAME_MAX) buf[n++] = *ps->p;
        ps->p++;
    }
    buf[n] = '\0';
    return true;
}

static tg_tensor *lookup(const parser *ps, const char *name) {
    for (int i = ps->n_vars - 1; i >= 0; i--)
        if (strcmp(ps->vars[i].name, name) == 0) return ps->vars[i].t;
    return NULL;
}

static bool is_known(const parser *ps, const tg_tensor *t) {
    for (int i = 0; i < ps->run->n_tensors; i++)
        if (ps->run->tensors[i] == t) return true;
    for (int i = 0; i < ps->n_vars; i++)
        if (ps->vars[i].t == t) return true;
    return false;
}

/* Names t, which an op just made, and keeps it in the run's list; a name
 * another tensor has already gets " #2", " #3"... */
static void set_unique_name(parser *ps, tg_tensor *t, const char *name) {
    char unique[EXPR_NAME_MAX + 8];
    snprintf(unique, sizeof unique, "%s", name);
    for (int copy = 2;; copy++) {
        bool taken = false;
        for (int i = 0; i < ps->run->n_tensors && !taken; i++) {
            const char *other = tg_name(ps->run->tensors[i]);
            taken = ps->run->tensors[i] != t && other && strcmp(other, unique) == 0;
        }
        if (!taken) break;
        snprintf(unique, sizeof unique, "%s #%d", name, copy);
    }
    tg_set_name(t, unique);
    bool listed = false;
    for (int i = 0; i < ps->run->n_tensors && !listed; i++) listed = ps->run->tensors[i] == t;
    if (!listed && ps->run->n_tensors < EXPR_MAX_TENSORS)
        ps->run->tensors[ps->run->n_tensors++] = t;
}

/* Names an op's new result after the source text [start, ps->p). */
static value made(parser *ps, tg_tensor *t, const char *start) {
    if (!t) return library_failed(ps);
    if (!is_known(ps, t) && tg_requires_grad(t)) {
        while (isspace((unsigned char)*start)) start++;
        const char *end = ps->p;
        while (end > start && isspace((unsigned char)end[-1])) end--;
        char text[EXPR_NAME_MAX];
        size_t n = (size_t)(end - start) < sizeof text - 1 ? (size_t)(end - start)
                                                           : sizeof text - 4;
        memcpy(text, start, n);
        strcpy(text + n, (size_t)(end - start) > n ? "..." : "");
        set_unique_name(ps, t, text);
    }
    return (value){t, NAN};
}

/* A number given where a tensor is needed: a 0-dim constant. */
static tg_tensor *as_tensor(parser *ps, value v) {
    if (v.t) return v.t;
    tg_tensor *t = tg_scalar(v.num, ps->run->dtype);
    if (!t) library_failed(ps);
    return t;
}

static value parse_sum(parser *ps);
static value parse_unary(parser *ps);

/* ---- Lists: [[1, 2], [3, 4]] ---------------------------------------------- */

typedef struct list {
    int64_t shape[MAX_DIMS];
    int ndim; /* -1 until the first number fixes it */
    double data[MAX_LIST];
    int64_t n;
} list;

static bool parse_list(parser *ps, list *l, int depth, int64_t *count) {
    if (depth >= MAX_DIMS) return fail(ps, "a list nests at most %d deep", MAX_DIMS), false;
    *count = 0;
    if (accept(ps, "]")) return fail(ps, "an empty list has no values"), false;
    do {
        skip_space(ps);
        if (accept(ps, "[")) {
            int64_t inner;
            if (!parse_list(ps, l, depth + 1, &inner)) return false;
            if (l->shape[depth + 1] != 0 && l->shape[depth + 1] != inner)
                return fail(ps, "rows of a list must have the same length"), false;
            l->shape[depth + 1] = inner;
        } else {
            char *end;
            double v = strtod(ps->p, &end);
            if (end == ps->p) return fail(ps, "expected a number in the list"), false;
            ps->p = end;
            if (l->ndim < 0) l->ndim = depth + 1;
            if (l->ndim != depth + 1)
                return fail(ps, "rows of a list must have the same depth"), false;
            if (l->n >= MAX_LIST)
                return fail(ps, "a list holds at most %d values", MAX_LIST), false;
            l->data[l->n++] = v;
        }
        (*count)++;
    } while (accept(ps, ","));
    return expect(ps, "]");
}

static value parse_literal(parser *ps, const char *start) {
    list *l = calloc(1, sizeof *l);
    if (!l) return fail(ps, "out of memory");
    l->ndim = -1;
    int64_t outer;
    value v = NONE;
    if (parse_list(ps, l, 0, &outer)) {
        l->shape[0] = outer;
        int64_t expected = 1;
        for (int d = 0; d < l->ndim; d++) expected *= l->shape[d];
        if (expected != l->n) fail(ps, "rows of a list must have the same length");
        if (!ps->failed) {
            tg_tensor *f64 = tg_from_data(l->data, l->ndim, l->shape, TG_F64);
            v = made(ps, f64 ? tg_to_dtype(f64, ps->run->dtype) : NULL, start);
        }
    }
    free(l);
    return v;
}

/* ---- Calls ------------------------------------------------------------------ */

static tg_tensor *gelu_exact(tg_tensor *x) { return tg_gelu(x, TG_GELU_NONE); }
static tg_tensor *gelu_tanh(tg_tensor *x) { return tg_gelu(x, TG_GELU_TANH); }
static tg_tensor *transpose(tg_tensor *x) { return tg_transpose(x, -2, -1); }
static tg_tensor *to_long(tg_tensor *x) { return tg_to_dtype(tg_detach(x), TG_I64); }

static const struct {
    const char *name;
    tg_tensor *(*fn)(tg_tensor *);
} unary_fns[] = {
    {"relu", tg_relu},
    {"sigmoid", tg_sigmoid},
    {"tanh", tg_tanh},
    {"exp", tg_exp},
    {"log", tg_log},
    {"sqrt", tg_sqrt},
    {"rsqrt", tg_rsqrt},
    {"abs", tg_abs},
    {"square", tg_square},
    {"reciprocal", tg_reciprocal},
    {"sin", tg_sin},
    {"cos", tg_cos},
    {"log1p", tg_log1p},
    {"expm1", tg_expm1},
    {"silu", tg_silu},
    {"gelu", gelu_exact},
    {"gelu_tanh", gelu_tanh},
    {"mish", tg_mish},
    {"selu", tg_selu},
    {"relu6", tg_relu6},
    {"hardsigmoid", tg_hardsigmoid},
    {"hardswish", tg_hardswish},
    {"logsigmoid", tg_logsigmoid},
    {"softsign", tg_softsign},
    {"tanhshrink", tg_tanhshrink},
    {"transpose", transpose},
    {"long", to_long},
};

static tg_tensor *leaky_relu(tg_tensor *x, double s) { return tg_leaky_relu(x, s); }
static tg_tensor *softplus(tg_tensor *x, double beta) {
    return tg_softplus(x, beta, TG_SOFTPLUS_DEFAULT_THRESHOLD);
}

/* Functions of a tensor and an optional number, with its default. */
static const struct {
    const char *name;
    tg_tensor *(*fn)(tg_tensor *, double);
    double fallback;
} param_fns[] = {
    {"leaky_relu", leaky_relu, TG_LEAKY_RELU_DEFAULT_SLOPE},
    {"elu", tg_elu, TG_ELU_DEFAULT_ALPHA},
    {"celu", tg_celu, TG_CELU_DEFAULT_ALPHA},
    {"softplus", softplus, TG_SOFTPLUS_DEFAULT_BETA},
};

static tg_tensor *cross_entropy(tg_tensor *a, tg_tensor *b) {
    return tg_cross_entropy(a, b, TG_REDUCTION_MEAN);
}
static tg_tensor *mse_loss(tg_tensor *a, tg_tensor *b) {
    return tg_mse_loss(a, b, TG_REDUCTION_MEAN);
}
static tg_tensor *l1_loss(tg_tensor *a, tg_tensor *b) {
    return tg_l1_loss(a, b, TG_REDUCTION_MEAN);
}
static tg_tensor *bce_with_logits(tg_tensor *a, tg_tensor *b) {
    return tg_binary_cross_entropy_with_logits(a, b, TG_REDUCTION_MEAN);
}

static const struct {
    const char *name;
    tg_tensor *(*fn)(tg_tensor *, tg_tensor *);
} binary_fns[] = {
    {"matmul", tg_matmul},
    {"maximum", tg_maximum},
    {"minimum", tg_minimum},
    {"swiglu", tg_swiglu},
    {"cross_entropy", cross_entropy},
    {"mse_loss", mse_loss},
    {"l1_loss", l1_loss},
    {"binary_cross_entropy_with_logits", bce_with_logits},
};

/* Reductions over all elements, or over one dim when it is given. */
static const struct {
    const char *name;
    tg_tensor *(*all)(tg_tensor *);
    tg_tensor *(*dims)(tg_tensor *, int, const int *, tg_keepdim);
} reductions[] = {
    {"sum", tg_sum, tg_sum_dims},
    {"mean", tg_mean, tg_mean_dims},
};

/* Functions of a tensor and a dim (default -1). */
static tg_tensor *logsumexp(tg_tensor *x, int dim) {
    return tg_logsumexp(x, 1, &dim, TG_DROP_DIMS);
}
static const struct {
    const char *name;
    tg_tensor *(*fn)(tg_tensor *, int);
} dim_fns[] = {
    {"softmax", tg_softmax},
    {"log_softmax", tg_log_softmax},
    {"logsumexp", logsumexp},
};

static bool whole(double v) { return isfinite(v) && v == floor(v) && fabs(v) < 1e9; }

/* ones(2, 3), zeros, rand, randn: constants of the given sizes. */
static value construct(parser *ps, const char *fn, const value *args, int n, const char *start) {
    int64_t shape[MAX_DIMS];
    if (n > MAX_DIMS) return fail(ps, "%s: at most %d sizes", fn, MAX_DIMS);
    for (int i = 0; i < n; i++) {
        if (args[i].t || !whole(args[i].num))
            return fail(ps, "%s: sizes must be whole numbers", fn);
        shape[i] = (int64_t)args[i].num;
    }
    tg_dtype dt = ps->run->dtype;
    tg_tensor *t = strcmp(fn, "ones") == 0    ? tg_ones(n, shape, dt)
                   : strcmp(fn, "zeros") == 0 ? tg_zeros(n, shape, dt)
                   : strcmp(fn, "rand") == 0  ? tg_rand(n, shape, dt, ps->gen)
                                              : tg_randn(n, shape, dt, ps->gen);
    return made(ps, t, start);
}

static value call(parser *ps, const char *fn, const value *args, int n, const char *start) {
    if (strcmp(fn, "ones") == 0 || strcmp(fn, "zeros") == 0 || strcmp(fn, "rand") == 0 ||
        strcmp(fn, "randn") == 0)
        return construct(ps, fn, args, n, start);
    for (size_t i = 0; i < sizeof unary_fns / sizeof *unary_fns; i++)
        if (strcmp(fn, unary_fns[i].name) == 0) {
            if (n != 1) return fail(ps, "%s takes 1 argument, got %d", fn, n);
            tg_tensor *x = as_tensor(ps, args[0]);
            return x ? made(ps, unary_fns[i].fn(x), start) : NONE;
        }
    for (size_t i = 0; i < sizeof param_fns / sizeof *param_fns; i++)
        if (strcmp(fn, param_fns[i].name) == 0) {
            if (n < 1 || n > 2 || (n == 2 && args[1].t))
                return fail(ps, "%s takes a tensor and an optional number", fn);
            tg_tensor *x = as_tensor(ps, args[0]);
            return x ? made(ps, param_fns[i].fn(x, n == 2 ? args[1].num : param_fns[i].fallback),
                            start)
                     : NONE;
        }
    for (size_t i = 0; i < sizeof binary_fns / sizeof *binary_fns; i++)
        if (strcmp(fn, binary_fns[i].name) == 0) {
            if (n != 2) return fail(ps, "%s takes 2 arguments, got %d", fn, n);
            tg_tensor *a = as_tensor(ps, args[0]), *b = a ? as_tensor(ps, args[1]) : NULL;
            return b ? made(ps, binary_fns[i].fn(a, b), start) : NONE;
        }
    for (size_t i = 0; i < sizeof reductions / sizeof *reductions; i++)
        if (strcmp(fn, reductions[i].name) == 0) {
            if (n < 1 || n > 2 || (n == 2 && (args[1].t || !whole(args[1].num))))
                return fail(ps, "%s takes a tensor and an optional dim", fn);
            tg_tensor *x = as_tensor(ps, args[0]);
            int dim = n == 2 ? (int)args[1].num : 0;
            return !x       ? NONE
                   : n == 1 ? made(ps, reductions[i].all(x), start)
                            : made(ps, reductions[i].dims(x, 1, &dim, TG_DROP_DIMS), start);
        }
    for (size_t i = 0; i < sizeof dim_fns / sizeof *dim_fns; i++)
        if (strcmp(fn, dim_fns[i].name) == 0) {
            if (n < 1 || n > 2 || (n == 2 && (args[1].t || !whole(args[1].num))))
                return fail(ps, "%s takes a tensor and an optional dim", fn);
            tg_tensor *x = as_tensor(ps, args[0]);
            return x ? made(ps, dim_fns[i].fn(x, n == 2 ? (int)args[1].num : -1), start) : NONE;
        }
    return fail(ps, "unknown function '%s'", fn);
}

/* ---- Expressions -------------------------------------------------------------- */

static value parse_primary(parser *ps) {
    skip_space(ps);
    const char *start = ps->p;
    char name[EXPR_NAME_MAX];
    if (accept(ps, "(")) {
        value v = parse_sum(ps);
        expect(ps, ")");
        return ps->failed ? NONE : v;
    }
    if (accept(ps, "[")) return parse_literal(ps, start);
    if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
        char *end;
        double v = strtod(ps->p, &end);
        ps->p = end;
        return (value){NULL, v};
    }
    if (!read_name(ps, name))
        return fail(ps, *ps->p ? "unexpected '%c'" : "unexpected end of the expression", *ps->p);
    if (!accept(ps, "(")) {
        tg_tensor *t = lookup(ps, name);
        if (t) return (value){t, NAN};
        ps->p = start; /* the column of the name */
        return fail(ps, "unknown name '%s'", name);
    }
    value args[MAX_ARGS];
    int n = 0;
    if (!accept(ps, ")")) {
        do {
            if (n == MAX_ARGS) return fail(ps, "%s: too many arguments", name);
            args[n++] = parse_sum(ps);
            if (ps->failed) return NONE;
        } while (accept(ps, ","));
        if (!expect(ps, ")")) return NONE;
    }
    return call(ps, name, args, n, start);
}

/* a op b, where either may be a plain number. */
static value binary(parser *ps, char op, value a, value b, const char *start) {
    if (ps->failed) return NONE;
    if (!a.t && !b.t) {
        switch (op) {
        case '+': return (value){NULL, a.num + b.num};
        case '-': return (value){NULL, a.num - b.num};
        case '*': return (value){NULL, a.num * b.num};
        case '/': return (value){NULL, a.num / b.num};
        case '^': return (value){NULL, pow(a.num, b.num)};
        default: break;
        }
    }
    if (op == '@') {
        if (!a.t || !b.t) return fail(ps, "@ multiplies two tensors, not a number");
        return made(ps, tg_matmul(a.t, b.t), start);
    }
    if (a.t && !b.t) {
        switch (op) {
        case '+': return made(ps, tg_add_scalar(a.t, b.num), start);
        case '-': return made(ps, tg_sub_scalar(a.t, b.num), start);
        case '*': return made(ps, tg_mul_scalar(a.t, b.num), start);
        case '/': return made(ps, tg_div_scalar(a.t, b.num), start);
        default: return made(ps, tg_pow_scalar(a.t, b.num), start);
        }
    }
    if (!a.t) {
        switch (op) {
        case '+': return made(ps, tg_add_scalar(b.t, a.num), start);
        case '-': return made(ps, tg_rsub_scalar(b.t, a.num), start);
        case '*': return made(ps, tg_mul_scalar(b.t, a.num), start);
        default: a.t = as_tensor(ps, a); /* a / b, a ^ b: a as a 0-dim tensor */
        }
        if (!a.t) return NONE;
    }
    switch (op) {
    case '+': return made(ps, tg_add(a.t, b.t), start);
    case '-': return made(ps, tg_sub(a.t, b.t), start);
    case '*': return made(ps, tg_mul(a.t, b.t), start);
    case '/': return made(ps, tg_div(a.t, b.t), start);
    default: return made(ps, tg_pow(a.t, b.t), start);
    }
}

static value parse_power(parser *ps) {
    skip_space(ps);
    const char *start = ps->p;
    value base = parse_primary(ps);
    if (ps->failed) return NONE;
    if (accept(ps, "^") || accept(ps, "**")) return binary(ps, '^', base, parse_unary(ps), start);
    return base;
}

static value parse_unary(parser *ps) {
    skip_space(ps);
    const char *start = ps->p;
    if (!accept(ps, "-")) return parse_power(ps);
    value v = parse_unary(ps);
    if (ps->failed) return NONE;
    return v.t ? made(ps, tg_neg(v.t), start) : (value){NULL, -v.num};
}

static value parse_product(parser *ps) {
    skip_space(ps);
    const char *start = ps->p;
    value v = parse_unary(ps);
    for (;;) {
        char op = accept(ps, "*") ? '*' : accept(ps, "/") ? '/' : accept(ps, "@") ? '@' : 0;
        if (!op || ps->failed) return ps->failed ? NONE : v;
        v = binary(ps, op, v, parse_unary(ps), start);
    }
}

static value parse_sum(parser *ps) {
    skip_space(ps);
    const char *start = ps->p;
    value v = parse_product(ps);
    for (;;) {
        char op = accept(ps, "+") ? '+' : accept(ps, "-") ? '-' : 0;
        if (!op || ps->failed) return ps->failed ? NONE : v;
        v = binary(ps, op, v, parse_product(ps), start);
    }
}

/* ---- Statements ------------------------------------------------------------------ */

/* A statement's value made only of constants is an input: it requires
 * grad, after the nudge of finite differences. */
static bool make_input(parser *ps, tg_tensor *t) {
    expr_run *run = ps->run;
    if (run->n_inputs == EXPR_MAX_INPUTS)
        return fail(ps, "at most %d inputs", EXPR_MAX_INPUTS), false;
    if (run->nudge.input == run->n_inputs && run->nudge.element < tg_numel(t)) {
        tg_tensor *one = tg_zeros(tg_ndim(t), tg_shape(t), tg_dtype_of(t));
        if (!one) return library_failed(ps), false;
        double *d = tg_dtype_of(t) == TG_F64 ? tg_data(one) : NULL;
        if (!d) return fail(ps, "finite differences need float64"), false;
        d[run->nudge.element] = run->nudge.delta;
        if (tg_add_(t, one, 1) != 0) return library_failed(ps), false;
    }
    tg_requires_grad_(t, true);
    run->inputs[run->n_inputs++] = t;
    return true;
}

static void parse_statement(parser *ps) {
    const char *line = ps->p;
    char name[EXPR_NAME_MAX] = "";
    if (!(read_name(ps, name) && accept(ps, "=") && *ps->p != '=')) { /* not an assignment */
        ps->p = line;
        name[0] = '\0';
    }
    skip_space(ps);
    const char *start = ps->p;
    value v = parse_sum(ps);
    if (ps->failed) return;
    if (!v.t) v = made(ps, as_tensor(ps, v), start);
    if (ps->failed) return;
    bool bound = false; /* `y = x` binds x to one more name */
    for (int i = 0; i < ps->n_vars && !bound; i++) bound = ps->vars[i].t == v.t;
    bool known = bound || is_known(ps, v.t);
    if (!known && tg_is_leaf(v.t) && !tg_requires_grad(v.t) && tg_dtype_is_float(tg_dtype_of(v.t)))
        if (!make_input(ps, v.t)) return;
    if (name[0] && !bound) set_unique_name(ps, v.t, name);
    if (name[0]) {
        if (ps->n_vars == MAX_VARS) {
            fail(ps, "at most %d names", MAX_VARS);
            return;
        }
        snprintf(ps->vars[ps->n_vars].name, EXPR_NAME_MAX, "%s", name);
        ps->vars[ps->n_vars++].t = v.t;
    }
    ps->run->output = v.t;
}

int expr_eval(expr_run *run, const char *src) {
    run->output = NULL;
    run->n_inputs = run->n_tensors = 0;
    run->error[0] = '\0';
    parser ps = {.src = src, .p = src, .run = run};
    ps.gen = tg_generator_new(0);
    if (!ps.gen) library_failed(&ps);
    while (!ps.failed) {
        while (accept(&ps, ";") || accept(&ps, "\n")) {
        }
        if (!*ps.p) break;
        parse_statement(&ps);
        skip_space(&ps);
        if (!ps.failed && *ps.p && *ps.p != ';' && *ps.p != '\n')
            fail(&ps, "unexpected '%c' (one statement per line, or separated by ';')", *ps.p);
    }
    tg_generator_free(ps.gen);
    if (!ps.failed && !run->output) fail(&ps, "the program is empty");
    return ps.failed ? -1 : 0;
}
