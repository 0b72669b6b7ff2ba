/* core/grad_report.c - hand gradients against autograd's, one line each. */
#include <math.h>
#include <string.h>

#include "internal/base.h"
#include "tapegrad/autograd.h"
#include "tapegrad/grad_report.h"

/* A line's text is cut to this; hand values print in at most 25 bytes. */
#define LINE_MAX_BYTES 640

typedef struct grad_line {
    char *name;
    tg_grad_verdict verdict;
    char *text; /* after the verdict: "(2, 3): all 6 elements bit-identical" */
} grad_line;

struct tg_grad_report {
    grad_line *lines;
    int n, cap;
    bool custom_tolerance; /* else assert_close's by dtype */
    double rtol, atol;
};

static const char *const VERDICT_NAMES[] = {"exact", "close", "wrong"};

tg_grad_report *tg_grad_report_new(void) {
    return tg__calloc(sizeof(tg_grad_report), "grad_report_new");
}

void tg_grad_report_free(tg_grad_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        tg__free(r->lines[i].name);
        tg__free(r->lines[i].text);
    }
    tg__free(r->lines);
    tg__free(r);
}

int tg_grad_report_set_tolerance(tg_grad_report *r, double rtol, double atol) {
    if (!r) {
        tg__null_arg("grad_report_set_tolerance");
        return -1;
    }
    if (!(rtol >= 0 && atol >= 0 && isfinite(rtol) && isfinite(atol))) {
        tg__error(TG_ERR_VALUE,
                  "grad_report_set_tolerance: rtol %g and atol %g must be finite and >= 0", rtol,
                  atol);
        return -1;
    }
    r->custom_tolerance = true;
    r->rtol = rtol, r->atol = atol;
    return 0;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = tg__alloc(n, "grad_report_check");
    if (c) memcpy(c, s, n);
    return c;
}

/* Adds a line (name and text copied); returns the verdict or -1. */
static int add_line(tg_grad_report *r, const char *name, tg_grad_verdict verdict,
                    const char *text) {
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 8;
        grad_line *lines = tg__alloc((size_t)cap * sizeof *lines, "grad_report_check");
        if (!lines) return -1;
        if (r->n) memcpy(lines, r->lines, (size_t)r->n * sizeof *lines);
        tg__free(r->lines);
        r->lines = lines, r->cap = cap;
    }
    grad_line line = {copy_string(name), verdict, copy_string(text)};
    if (!line.name || !line.text) {
        tg__free(line.name);
        tg__free(line.text);
        return -1;
    }
    r->lines[r->n++] = line;
    return (int)verdict;
}

/* "[1, 0]": the row-major index k as one index per dim. */
static void index_str(char *buf, size_t size, const tg_tensor *t, int64_t k) {
    int64_t idx[TG_MAX_DIMS];
    const int64_t *shape = tg_shape(t);
    for (int d = tg_ndim(t) - 1; d >= 0; d--) {
        idx[d] = k % shape[d];
        k /= shape[d];
    }
    tg__sizes_str(buf, size, tg_ndim(t), idx);
}

/* What the elements say, for tensors of one shape and dtype: h and a hold
 * hand's and autograd's values (n of them). */
typedef struct comparison {
    int64_t n_off, first_off, worst; /* worst: the largest difference, NaN first */
    double max_abs, max_rel;
    bool identical;
} comparison;

static comparison compare(const double *h, const double *a, int64_t n, double rtol, double atol) {
    comparison c = {.first_off = -1, .worst = -1, .identical = true};
    double worst_size = -1;
    for (int64_t k = 0; k < n; k++) {
        c.identical = c.identical && memcmp(&h[k], &a[k], sizeof h[k]) == 0;
        double diff = h[k] == a[k] ? 0 : fabs(h[k] - a[k]); /* equal infinities differ by 0 */
        double size = isnan(diff) ? INFINITY : diff;
        /* NaN is never close, an infinity only to itself */
        bool off = !(diff == 0 || (isfinite(diff) && diff <= atol + rtol * fabs(a[k])));
        if (size > c.max_abs) c.max_abs = size;
        if (a[k] != 0 && size / fabs(a[k]) > c.max_rel) c.max_rel = size / fabs(a[k]);
        if (!off) continue;
        if (c.n_off++ == 0) c.first_off = k;
        if (size > worst_size) worst_size = size, c.worst = k;
    }
    return c;
}

/* The text of a line comparing two tensors of one shape and dtype. */
static tg_grad_verdict describe(char *text, const tg_tensor *hand, const double *h, const double *a,
                                double rtol, double atol) {
    char shape[TG_SHAPE_STR_MAX];
    tg__shape_str(shape, sizeof shape, tg_ndim(hand), tg_shape(hand));
    int64_t n = tg_numel(hand);
    comparison c = compare(h, a, n, rtol, atol);
    if (n == 0) {
        snprintf(text, LINE_MAX_BYTES, "%s: no elements", shape);
        return TG_GRAD_EXACT;
    }
    if (c.identical && c.n_off == 0) {
        snprintf(text, LINE_MAX_BYTES, "%s: all %lld elements bit-identical", shape, (long long)n);
        return TG_GRAD_EXACT;
    }
    if (c.n_off == 0) {
        snprintf(text, LINE_MAX_BYTES,
                 "%s: max |hand - autograd| %.2g, max relative %.2g (rtol %g, atol %g)", shape,
                 c.max_abs, c.max_rel, rtol, atol);
        return TG_GRAD_CLOSE;
    }
    char where[TG_SHAPE_STR_MAX], first[TG_SHAPE_STR_MAX], hv[32], av[32];
    index_str(where, sizeof where, hand, c.worst);
    index_str(first, sizeof first, hand, c.first_off);
    tg__python_float(hv, sizeof hv, h[c.worst]);
    tg__python_float(av, sizeof av, a[c.worst]);
    int used = snprintf(text, LINE_MAX_BYTES,
                        "%s: %lld of %lld elements off; worst at %s: hand %s, autograd %s, "
                        "difference %.3g",
                        shape, (long long)c.n_off, (long long)n, where, hv, av,
                        h[c.worst] - a[c.worst]);
    if (c.first_off != c.worst && used > 0 && used < LINE_MAX_BYTES)
        snprintf(text + used, (size_t)(LINE_MAX_BYTES - used), "; first at %s", first);
    return TG_GRAD_WRONG;
}

/* The verdict of a hand gradient whose shape and dtype are autograd's. */
static int compare_values(tg_grad_report *r, const char *name, const tg_tensor *hand,
                          const tg_tensor *grad) {
    double rtol = r->rtol, atol = r->atol;
    if (!r->custom_tolerance) {
        bool f64 = tg_dtype_of(grad) == TG_F64;
        rtol = f64 ? 1e-7 : 1.3e-6, atol = f64 ? 1e-7 : 1e-5;
    }
    size_t n = (size_t)tg_numel(hand);
    double *h = tg__alloc((n ? n : 1) * sizeof *h, "grad_report_check");
    double *a = h ? tg__alloc((n ? n : 1) * sizeof *a, "grad_report_check") : NULL;
    char text[LINE_MAX_BYTES];
    int verdict = -1;
    if (a) {
        tg_to_doubles(hand, h);
        tg_to_doubles(grad, a);
        verdict = add_line(r, name, describe(text, hand, h, a, rtol, atol), text);
    }
    tg__free(h);
    tg__free(a);
    return verdict;
}

int tg_grad_report_check(tg_grad_report *r, const char *name, const tg_tensor *hand,
                         const tg_tensor *param) {
    if (!r || !name || !param) {
        tg__null_arg("grad_report_check");
        return -1;
    }
    char text[LINE_MAX_BYTES], s1[TG_SHAPE_STR_MAX], s2[TG_SHAPE_STR_MAX];
    const tg_tensor *grad = tg_grad(param);
    if (!hand) {
        const char *why = tg_last_status() != TG_OK ? tg_last_error() : "not computed yet";
        snprintf(text, sizeof text, "no hand gradient (NULL): %s", why);
    } else if (!grad) {
        snprintf(text, sizeof text,
                 "autograd left no gradient in this tensor: pass the tensor itself (not its "
                 "tg_grad), after tg_backward, and make it require grad");
    } else if (tg_ndim(hand) != tg_ndim(grad) ||
               memcmp(tg_shape(hand), tg_shape(grad), sizeof(int64_t) * (size_t)tg_ndim(hand))) {
        snprintf(text, sizeof text, "shape %s, autograd's is %s",
                 tg__shape_str(s1, sizeof s1, tg_ndim(hand), tg_shape(hand)),
                 tg__shape_str(s2, sizeof s2, tg_ndim(grad), tg_shape(grad)));
    } else if (tg_dtype_of(hand) != tg_dtype_of(grad)) {
        snprintf(text, sizeof text, "dtype %s, autograd's is %s", tg_dtype_name(tg_dtype_of(hand)),
                 tg_dtype_name(tg_dtype_of(grad)));
    } else {
        return compare_values(r, name, hand, grad);
    }
    return add_line(r, name, TG_GRAD_WRONG, text);
}

int tg_grad_report_print(const tg_grad_report *r, FILE *out) {
    if (!r || !out) {
        tg__null_arg("grad_report_print");
        return -1;
    }
    int width = 0, count[3] = {0};
    for (int i = 0; i < r->n; i++) {
        int len = (int)strlen(r->lines[i].name);
        if (len > width) width = len < 24 ? len : 24;
    }
    bool failed = false;
    for (int i = 0; i < r->n; i++) {
        const grad_line *l = &r->lines[i];
        count[l->verdict]++;
        failed |= fprintf(out, "  %-*s  %s  %s\n", width, l->name, VERDICT_NAMES[l->verdict],
                          l->text) < 0;
    }
    failed |= fprintf(out, "  %d exact, %d close, %d wrong\n", count[TG_GRAD_EXACT],
                      count[TG_GRAD_CLOSE], count[TG_GRAD_WRONG]) < 0;
    if (failed || fflush(out) != 0) {
        tg__error(TG_ERR_IO, "grad_report_print: cannot write the report");
        return -1;
    }
    return 0;
}

bool tg_grad_report_all_ok(const tg_grad_report *r) {
    if (!r) {
        tg__null_arg("grad_report_all_ok");
        return false;
    }
    for (int i = 0; i < r->n; i++)
        if (r->lines[i].verdict == TG_GRAD_WRONG) return false;
    return r->n > 0;
}
