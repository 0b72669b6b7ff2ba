/* core/print.c - tensors printed exactly as PyTorch's repr prints them
 * (torch/_tensor_str.py: precision 4, threshold 1000, edgeitems 3,
 * linewidth 80), so output can be read next to PyTorch's and diffed
 * against PyTorch's. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal/tensor.h"
#include "tapegrad/autograd.h"

enum { PRECISION = 4, THRESHOLD = 1000, EDGEITEMS = 3, LINEWIDTH = 80 };

/* ---- A growing string (malloc'ed: the caller frees the result) -------------- */

typedef struct strbuf {
    char *s;
    size_t n, cap;
    bool failed;
} strbuf;

static void sb_vappend(strbuf *b, const char *fmt, va_list ap) {
    if (b->failed) return;
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0) {
        b->failed = true;
        return;
    }
    if (b->n + (size_t)len + 1 > b->cap) {
        size_t cap = (b->n + (size_t)len + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    vsnprintf(b->s + b->n, (size_t)len + 1, fmt, ap);
    b->n += (size_t)len;
}

static void sb_append(strbuf *b, const char *fmt, ...) TG_PRINTF(2, 3);
static void sb_append(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sb_vappend(b, fmt, ap);
    va_end(ap);
}

static void sb_repeat(strbuf *b, char c, int count) {
    for (int i = 0; i < count; i++) sb_append(b, "%c", c);
}

/* ---- The formatter: one width and style for every element -------------------- */

typedef struct formatter {
    tg_dtype dtype;
    bool int_mode, sci_mode;
    int max_width;
} formatter;

/* An int64 element travels through the double array of values as its bit
 * pattern (see read_values), so that values beyond 2^53 print exactly. */
static int64_t int_bits(double v) {
    int64_t i;
    memcpy(&i, &v, sizeof i);
    return i;
}

static int format_plain(char *buf, size_t n, const formatter *f, double v) {
    if (f->dtype == TG_BOOL) return snprintf(buf, n, "%s", v != 0 ? "True" : "False");
    if (f->dtype == TG_I64) return snprintf(buf, n, "%lld", (long long)int_bits(v));
    if (isnan(v)) return snprintf(buf, n, "nan"); /* never "-nan" */
    if (f->sci_mode) return snprintf(buf, n, "%.*e", PRECISION, v);
    if (f->int_mode) return snprintf(buf, n, isfinite(v) ? "%.0f." : "%.0f", v);
    return snprintf(buf, n, "%.*f", PRECISION, v);
}

static void formatter_init(formatter *f, tg_dtype dtype, const double *vals, int64_t n) {
    *f = (formatter){.dtype = dtype, .int_mode = true, .max_width = 1};
    char buf[64];
    if (!tg_dtype_is_float(dtype)) { /* as str() of each value, right-aligned */
        for (int64_t i = 0; i < n; i++) {
            int w = format_plain(buf, sizeof buf, f, vals[i]);
            if (w > f->max_width) f->max_width = w;
        }
        return;
    }
    double lo = INFINITY, hi = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = vals[i];
        if (!isfinite(v) || v == 0) continue;
        count++;
        lo = fmin(lo, fabs(v));
        hi = fmax(hi, fabs(v));
        if (v != ceil(v)) f->int_mode = false;
    }
    if (count == 0) return;
    f->sci_mode = hi / lo > 1000.0 || hi > 1.0e8 || (!f->int_mode && lo < 1.0e-4);
    for (int64_t i = 0; i < n; i++) {
        double v = vals[i];
        if (!isfinite(v) || v == 0) continue;
        int w = format_plain(buf, sizeof buf, f, v);
        if (w > f->max_width) f->max_width = w;
    }
}

static void format_value(strbuf *b, const formatter *f, double v) {
    char buf[64];
    int w = format_plain(buf, sizeof buf, f, v);
    sb_repeat(b, ' ', f->max_width - w);
    sb_append(b, "%s", buf);
}

/* ---- Walking the (row-major) values --------------------------------------------- */

typedef struct view {
    const double *vals; /* row-major values of the whole tensor */
    int ndim;
    const int64_t *shape;
    int64_t stride[TG_MAX_DIMS]; /* row-major strides of vals */
} view;

static bool elided(const view *v, int d, bool summarize) {
    return summarize && v->shape[d] > 2 * EDGEITEMS;
}

/* The values PyTorch's get_summarized_data keeps: the edge items only. */
static void gather_summary(const view *v, int d, int64_t off, bool summarize, double *out,
                           int64_t *n) {
    if (d == v->ndim) {
        out[(*n)++] = v->vals[off];
        return;
    }
    for (int64_t i = 0; i < v->shape[d]; i++) {
        if (elided(v, d, summarize) && i == EDGEITEMS) i = v->shape[d] - EDGEITEMS;
        gather_summary(v, d + 1, off + i * v->stride[d], summarize, out, n);
    }
}

static void write_vector(strbuf *b, const view *v, int64_t off, int indent, bool summarize,
                         const formatter *f) {
    int d = v->ndim - 1;
    int per_line = (LINEWIDTH - indent) / (f->max_width + 2);
    if (per_line < 1) per_line = 1;
    sb_append(b, "[");
    int64_t k = 0; /* items written, the " ..." marker counting as one */
    for (int64_t i = 0; i < v->shape[d]; i++, k++) {
        if (k > 0) {
            if (k % per_line == 0) {
                sb_append(b, ",\n");
                sb_repeat(b, ' ', indent + 1);
            } else {
                sb_append(b, ", ");
            }
        }
        if (elided(v, d, summarize) && i == EDGEITEMS) {
            sb_append(b, " ...");
            i = v->shape[d] - EDGEITEMS - 1;
            continue;
        }
        format_value(b, f, v->vals[off + i * v->stride[d]]);
    }
    sb_append(b, "]");
}

static void write_tensor(strbuf *b, const view *v, int d, int64_t off, int indent, bool summarize,
                         const formatter *f) {
    if (d == v->ndim - 1) {
        write_vector(b, v, off, indent, summarize, f);
        return;
    }
    int rest = v->ndim - d; /* dims of the slices joined here */
    sb_append(b, "[");
    for (int64_t i = 0; i < v->shape[d]; i++) {
        if (i > 0) {
            sb_append(b, ",");
            sb_repeat(b, '\n', rest - 1);
            sb_repeat(b, ' ', indent + 1);
        }
        if (elided(v, d, summarize) && i == EDGEITEMS) {
            sb_append(b, "...");
            i = v->shape[d] - EDGEITEMS - 1;
            continue;
        }
        write_tensor(b, v, d + 1, off + i * v->stride[d], indent + 1, summarize, f);
    }
    sb_append(b, "]");
}

/* Appends ", suffix" or, past the line width, ",\n       suffix". */
static void add_suffix(strbuf *b, int *last_line_len, int indent, const char *suffix) {
    int len = (int)strlen(suffix);
    if (*last_line_len + len + 2 > LINEWIDTH) {
        sb_append(b, ",\n");
        sb_repeat(b, ' ', indent);
        sb_append(b, "%s", suffix);
        *last_line_len = indent + len;
    } else {
        sb_append(b, ", %s", suffix);
        *last_line_len += len + 2;
    }
}

/* The elements in row-major order: converted to double, or for int64 their
 * bit patterns (int_bits). */
static void read_values(const tg_tensor *t, double *vals) {
    if (t->dtype != TG_I64) {
        tg_to_doubles(t, vals);
        return;
    }
    int64_t index[TG_MAX_DIMS] = {0};
    for (int64_t n = 0; n < t->numel; n++) {
        int64_t off = t->offset;
        for (int i = 0; i < t->ndim; i++) off += index[i] * t->strides[i];
        memcpy(&vals[n], (const int64_t *)t->storage->data + off, sizeof vals[n]);
        for (int i = t->ndim - 1; i >= 0 && ++index[i] == t->shape[i]; i--) index[i] = 0;
    }
}

char *tg_repr(const tg_tensor *t) {
    if (!t) {
        tg__null_arg("repr");
        return NULL;
    }
    const int indent = 7; /* strlen("tensor(") */
    strbuf b = {0};
    double *vals = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *vals);
    double *summary = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *summary);
    if (!vals || !summary) {
        free(vals);
        free(summary);
        tg__error(TG_ERR_NOMEM, "repr: out of memory");
        return NULL;
    }
    read_values(t, vals);
    sb_append(&b, "tensor(");
    char suffixes[3][96];
    int n_suffixes = 0;
    char shape_buf[TG_SHAPE_STR_MAX];
    if (t->numel == 0) {
        sb_append(&b, "[]");
        if (t->ndim != 1)
            snprintf(suffixes[n_suffixes++], sizeof suffixes[0], "size=%s",
                     tg__shape_str(shape_buf, sizeof shape_buf, t->ndim, t->shape));
    } else {
        view v = {.vals = vals, .ndim = t->ndim, .shape = t->shape};
        tg__contiguous_strides(t->ndim, t->shape, v.stride);
        bool summarize = t->numel > THRESHOLD;
        int64_t n = 0;
        gather_summary(&v, 0, 0, summarize, summary, &n);
        formatter f;
        formatter_init(&f, t->dtype, summary, n);
        if (t->ndim == 0)
            format_value(&b, &f, vals[0]);
        else
            write_tensor(&b, &v, 0, 0, indent, summarize, &f);
    }
    /* PyTorch names every dtype but the default float32, and int64 and bool,
     * whose values show their type; an empty tensor has no values to show
     * it, so there only float32 goes unnamed. */
    if (t->dtype == TG_F64 || (t->numel == 0 && t->dtype != TG_F32))
        snprintf(suffixes[n_suffixes++], sizeof suffixes[0], "dtype=torch.%s",
                 tg_dtype_name(t->dtype));
    if (t->grad_fn)
        snprintf(suffixes[n_suffixes++], sizeof suffixes[0], "grad_fn=<%s>", tg_grad_fn_name(t));
    else if (t->requires_grad)
        snprintf(suffixes[n_suffixes++], sizeof suffixes[0], "requires_grad=True");
    if (!b.failed) {
        const char *nl = strrchr(b.s, '\n');
        int last_line_len = (int)(nl ? (size_t)(b.s + b.n - nl) + 1 : b.n + 2);
        for (int i = 0; i < n_suffixes; i++) add_suffix(&b, &last_line_len, indent, suffixes[i]);
    }
    sb_append(&b, ")");
    free(vals);
    free(summary);
    if (b.failed) {
        free(b.s);
        tg__error(TG_ERR_NOMEM, "repr: out of memory");
        return NULL;
    }
    return b.s;
}

int tg_print(const tg_tensor *t, FILE *out) {
    if (!t || !out) {
        tg__null_arg("print");
        return -1;
    }
    char *s = tg_repr(t);
    if (!s) return -1;
    int rc = fprintf(out, "%s\n", s) < 0 ? -1 : 0;
    free(s);
    if (rc) tg__error(TG_ERR_IO, "print: write failed");
    return rc;
}
