/* nn/checkpoint.c - self-describing files: the module tree as its
 * constructors were called, written as JSON into a safetensors file's
 * metadata (tg_module_describe, which tg_module_save calls), and a module
 * rebuilt from it (tg_module_load_new). tapegrad/nn.h ("Self-describing
 * files") gives the format; python/tapegrad_torch.py reads and writes the
 * same text for PyTorch's modules.
 *
 * The loader goes over the description twice. The first pass checks every
 * argument and works out each tensor the rebuilt module would have, which
 * must be in the file with that dtype and shape, and claims it; then every
 * tensor of the file must have been claimed. Only then does the second
 * pass call the constructors, so what they allocate is what the file
 * holds. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/file.h"
#include "internal/tensor.h"
#include "nn_internal.h"

/* ---- Writing ---------------------------------------------------------------------- */

struct tg_module_args {
    tg__text *t;
    const char *type; /* the class's name, for messages */
    int n;            /* arguments written */
    char **names;     /* theirs (malloc'ed), to refuse one given twice */
    bool children;
    bool failed;
};

/* s as a JSON string, as Python's json.dumps(s, ensure_ascii=False)
 * writes it (s is UTF-8). */
static void write_string(tg__text *t, const char *s) {
    tg__text_append(t, "\"");
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        tg__text_append_n(t, run, (size_t)(s - run));
        run = s + 1;
        char esc[8];
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                             : NULL;
        if (!short_form) snprintf(esc, sizeof esc, "\\u%04x", c);
        tg__text_append(t, short_form ? short_form : esc);
    }
    tg__text_append_n(t, run, (size_t)(s - run));
    tg__text_append(t, "\"");
}

/* Starts the argument name: checks args and name, writes the separator
 * and the key. False (and the description fails) on a bad call. */
static bool begin_arg(tg_module_args *a, const char *op, const char *name) {
    if (!a || !name) {
        tg__null_arg(op);
        if (a) a->failed = true;
        return false;
    }
    if (a->failed) return false;
    const char *why = !*name               ? "an argument's name can't be empty"
                      : !tg__is_utf8(name) ? "an argument's name is not valid UTF-8"
                                           : NULL;
    for (int i = 0; !why && i < a->n; i++)
        if (strcmp(a->names[i], name) == 0) why = "the argument is given twice";
    char **grown = why ? NULL : realloc(a->names, sizeof *a->names * (size_t)(a->n + 1));
    if (grown) a->names = grown;
    char *copy = grown ? strdup(name) : NULL;
    if (why || !copy) {
        if (why)
            tg__error(TG_ERR_VALUE, "%s: %s: %s ('%s')", op, a->type, why,
                      tg__is_utf8(name) ? name : "?");
        else
            tg__error(TG_ERR_NOMEM, "%s: out of memory", op);
        a->failed = true;
        return false;
    }
    a->names[a->n] = copy;
    if (a->n++) tg__text_append(a->t, ",");
    write_string(a->t, name);
    tg__text_append(a->t, ":");
    return true;
}

int tg_module_arg_int(tg_module_args *a, const char *name, int64_t value) {
    if (!begin_arg(a, "module_arg_int", name)) return -1;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)value);
    tg__text_append(a->t, buf);
    return 0;
}

int tg_module_arg_double(tg_module_args *a, const char *name, double value) {
    const char *op = "module_arg_double";
    if (a && name && !a->failed && !isfinite(value)) {
        tg__error(TG_ERR_VALUE, "%s: %s: '%s' is %s; a description holds finite numbers only", op,
                  a->type, name,
                  isnan(value) ? "nan"
                  : value > 0  ? "inf"
                               : "-inf");
        a->failed = true;
        return -1;
    }
    if (!begin_arg(a, op, name)) return -1;
    char buf[40];
    tg__python_float(buf, sizeof buf, value);
    tg__text_append(a->t, buf);
    return 0;
}

int tg_module_arg_bool(tg_module_args *a, const char *name, bool value) {
    if (!begin_arg(a, "module_arg_bool", name)) return -1;
    tg__text_append(a->t, value ? "true" : "false");
    return 0;
}

int tg_module_arg_string(tg_module_args *a, const char *name, const char *value) {
    const char *op = "module_arg_string";
    if (a && !value) {
        tg__null_arg(op);
        a->failed = true;
        return -1;
    }
    if (a && name && !a->failed && !tg__is_utf8(value)) {
        tg__error(TG_ERR_VALUE, "%s: %s: the value of '%s' is not valid UTF-8", op, a->type, name);
        a->failed = true;
        return -1;
    }
    if (!begin_arg(a, op, name)) return -1;
    write_string(a->t, value);
    return 0;
}

int tg_module_arg_ints(tg_module_args *a, const char *name, int n, const int64_t *values) {
    const char *op = "module_arg_ints";
    if (a && ((n > 0 && !values) || n < 0)) {
        if (n < 0)
            tg__error(TG_ERR_VALUE, "%s: %s: %d values", op, a->type, n);
        else
            tg__null_arg(op);
        a->failed = true;
        return -1;
    }
    if (!begin_arg(a, op, name)) return -1;
    tg__text_append(a->t, "[");
    for (int i = 0; i < n; i++) {
        char buf[24];
        snprintf(buf, sizeof buf, i ? ",%lld" : "%lld", (long long)values[i]);
        tg__text_append(a->t, buf);
    }
    tg__text_append(a->t, "]");
    return 0;
}

int tg_module_arg_null(tg_module_args *a, const char *name) {
    if (!begin_arg(a, "module_arg_null", name)) return -1;
    tg__text_append(a->t, "null");
    return 0;
}

int tg_module_arg_children(tg_module_args *a) {
    if (!a) {
        tg__null_arg("module_arg_children");
        return -1;
    }
    a->children = true;
    return a->failed ? -1 : 0;
}

/* Runs m's describe hook into t as the object of "args"; returns whether
 * the children are to be described, in *children. */
static bool describe_args(tg__text *t, const tg_module *m, bool *children) {
    const tg_module_class *cls = tg__module_class(m);
    tg_module_args a = {.t = t, .type = cls->name};
    tg__text_append(t, ",\"args\":{");
    int rc = cls->describe(m, &a);
    for (int i = 0; i < a.n; i++) free(a.names[i]);
    free(a.names);
    tg__text_append(t, "}");
    *children = a.children;
    if (rc == 0 && !a.failed) return true;
    if (tg_last_status() == TG_OK)
        tg__error(TG_ERR_VALUE,
                  "module_describe: the describe hook of %s failed and recorded no error",
                  cls->name);
    return false;
}

static bool describe_node(tg__text *t, const tg_module *m) {
    const tg_module_class *cls = tg__module_class(m);
    if (!tg__is_utf8(cls->name)) {
        tg__error(TG_ERR_VALUE, "module_describe: a class name is not valid UTF-8");
        return false;
    }
    tg__text_append(t, "{\"type\":");
    write_string(t, cls->name);
    bool children = false;
    if (cls->describe && !describe_args(t, m, &children)) return false;
    if (children) {
        tg__text_append(t, ",\"children\":[");
        for (int i = 0; i < tg_module_num_children(m); i++) {
            const char *name;
            const tg_module *c = tg_module_child_at(m, i, &name);
            if (!tg__is_utf8(name)) {
                tg__error(TG_ERR_VALUE,
                          "module_describe: the name of child %d of a %s is not valid UTF-8", i,
                          cls->name);
                return false;
            }
            tg__text_append(t, i ? ",[" : "[");
            write_string(t, name);
            tg__text_append(t, ",");
            if (!describe_node(t, c)) return false;
            tg__text_append(t, "]");
        }
        tg__text_append(t, "]");
    }
    tg__text_append(t, "}");
    return true;
}

char *tg_module_describe(const tg_module *m) {
    if (!m) {
        tg__null_arg("module_describe");
        return NULL;
    }
    tg__text t = {0};
    if (!describe_node(&t, m)) {
        free(t.s);
        return NULL;
    }
    if (t.failed) tg__error(TG_ERR_NOMEM, "module_describe: out of memory");
    return t.s;
}

/* ---- Reading -------------------------------------------------------------------------- */

typedef struct loader {
    const tg_safetensors *file;
    const char *path;
    bool build;    /* the second pass: call the constructors */
    bool *claimed; /* by the first pass: the file's tensors, by index */
    int modules, depth;
    tg__text prefix;  /* the state_dict prefix of the module at hand ("2.fn.") */
    const char *type; /* its type, or NULL before it is known */
} loader;

/* Records "module_load_new: <file>: module '2.fn' (FeedForward): <what>". */
static bool fail(loader *l, tg_status status, const char *fmt, ...) TG_PRINTF(3, 4);
static bool fail(loader *l, tg_status status, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int len = l->prefix.len ? (int)l->prefix.len - 1 : 0; /* without its last dot */
    const char *name = l->prefix.s ? l->prefix.s : "";
    if (!len)
        tg__error(status, "module_load_new: %s: the top module%s%s%s: %s", l->path,
                  l->type ? " (" : "", l->type ? l->type : "", l->type ? ")" : "", what);
    else
        tg__error(status, "module_load_new: %s: module '%.*s'%s%s%s: %s", l->path, len, name,
                  l->type ? " (" : "", l->type ? l->type : "", l->type ? ")" : "", what);
    return false;
}

/* A JSON value as a message shows it: 12, 0.5, "text", true, an array. */
static const char *show(const json_t *v, char *buf, size_t size) {
    switch (json_typeof(v)) {
    case JSON_INTEGER: snprintf(buf, size, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: tg__python_float(buf, size, json_real_value(v)); break;
    case JSON_STRING: snprintf(buf, size, "\"%.40s\"", json_string_value(v)); break;
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    case JSON_ARRAY: return "an array";
    default: return "an object";
    }
    return buf;
}

static bool get_int(loader *l, json_t *args, const char *name, int64_t least, int64_t *out) {
    json_t *v = json_object_get(args, name);
    char buf[64];
    if (!json_is_integer(v) || json_integer_value(v) < least)
        return fail(l, TG_ERR_VALUE, "'%s' must be an integer of at least %lld, not %s", name,
                    (long long)least, show(v, buf, sizeof buf));
    *out = json_integer_value(v);
    return true;
}

/* A number in [low, high] (or [low, high) when high_open), finite. */
static bool get_double(loader *l, json_t *args, const char *name, double low, double high,
                       bool high_open, double *out) {
    json_t *v = json_object_get(args, name);
    double x = json_number_value(v);
    char buf[64], lo[40], hi[40];
    if (!json_is_number(v) || !isfinite(x) || x < low || x > high || (high_open && x == high)) {
        tg__python_float(lo, sizeof lo, low);
        tg__python_float(hi, sizeof hi, high);
        if (!isfinite(low))
            return fail(l, TG_ERR_VALUE, "'%s' must be a finite number, not %s", name,
                        show(v, buf, sizeof buf));
        return fail(l, TG_ERR_VALUE, "'%s' must be a number in [%s, %s%s, not %s", name, lo, hi,
                    high_open ? ")" : "]", show(v, buf, sizeof buf));
    }
    *out = x;
    return true;
}

static bool get_positive(loader *l, json_t *args, const char *name, double *out) {
    json_t *v = json_object_get(args, name);
    char buf[64];
    if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v)))
        return fail(l, TG_ERR_VALUE, "'%s' must be a positive finite number, not %s", name,
                    show(v, buf, sizeof buf));
    *out = json_number_value(v);
    return true;
}

static bool get_bool(loader *l, json_t *args, const char *name, bool *out) {
    json_t *v = json_object_get(args, name);
    char buf[64];
    if (!json_is_boolean(v))
        return fail(l, TG_ERR_VALUE, "'%s' must be true or false, not %s", name,
                    show(v, buf, sizeof buf));
    *out = json_is_true(v);
    return true;
}

static bool get_dtype(loader *l, json_t *args, tg_dtype *out) {
    const char *s = json_string_value(json_object_get(args, "dtype"));
    char buf[64];
    if (s && strcmp(s, "float32") == 0) *out = TG_F32;
    if (s && strcmp(s, "float64") == 0) *out = TG_F64;
    if (!s || (strcmp(s, "float32") != 0 && strcmp(s, "float64") != 0))
        return fail(l, TG_ERR_VALUE, "'dtype' must be \"float32\" or \"float64\", not %s",
                    show(json_object_get(args, "dtype"), buf, sizeof buf));
    return true;
}

/* The first pass: the module has the tensor name (after its prefix) of
 * this dtype and shape; the file must hold it so. */
static bool expect(loader *l, const char *name, tg_dtype dtype, int ndim, const int64_t *shape) {
    if (l->build) return true;
    tg__text full = {0};
    tg__text_append_n(&full, l->prefix.s ? l->prefix.s : "", l->prefix.len);
    tg__text_append(&full, name);
    if (full.failed) return fail(l, TG_ERR_NOMEM, "out of memory");
    char want[TG_SHAPE_STR_MAX], got[TG_SHAPE_STR_MAX];
    tg__shape_str(want, sizeof want, ndim, shape);
    int i = tg__safetensors_find(l->file, full.s);
    tg_dtype fdtype = TG_F32;
    int fndim = 0;
    const int64_t *fshape = NULL;
    bool ok = i >= 0 && tg__safetensors_entry(l->file, i, &fdtype, &fndim, &fshape);
    bool same = ok && fdtype == dtype && fndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = fshape[d] == shape[d];
    if (!ok)
        fail(l, TG_ERR_VALUE, "the file has no tensor '%s' (%s %s), which the arguments give it",
             full.s, tg_dtype_name(dtype), want);
    else if (!same)
        fail(l, TG_ERR_SHAPE, "tensor '%s' is %s %s in the file, the arguments make it %s %s",
             full.s, tg_dtype_name(fdtype), tg__shape_str(got, sizeof got, fndim, fshape),
             tg_dtype_name(dtype), want);
    else if (l->claimed[i])
        fail(l, TG_ERR_VALUE, "tensor '%s' is claimed twice", full.s);
    free(full.s);
    if (!ok || !same || l->claimed[i]) return false;
    l->claimed[i] = true;
    return true;
}

/* Each kind's loader checks its arguments (all present: load_node saw to
 * that) and expects its tensors; in the second pass it makes the module
 * into *out (NULL with an error if that fails). */
typedef bool (*kind_loader)(loader *l, json_t *args, json_t *children, tg_module **out);

static bool load_linear(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    int64_t in, n;
    bool bias;
    tg_dtype dtype;
    if (!get_int(l, args, "in_features", 1, &in) || !get_int(l, args, "out_features", 1, &n) ||
        !get_bool(l, args, "bias", &bias) || !get_dtype(l, args, &dtype) ||
        !expect(l, "weight", dtype, TG_SHAPE(n, in)) ||
        (bias && !expect(l, "bias", dtype, TG_SHAPE(n))))
        return false;
    if (l->build) *out = tg_linear_new(in, n, bias ? TG_BIAS : TG_NO_BIAS, dtype, NULL);
    return true;
}

static bool load_embedding(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    int64_t num, dim, pad = TG_EMBEDDING_NO_PADDING;
    tg_dtype dtype;
    if (!get_int(l, args, "num_embeddings", 0, &num) ||
        !get_int(l, args, "embedding_dim", 0, &dim) || !get_dtype(l, args, &dtype))
        return false;
    json_t *p = json_object_get(args, "padding_idx");
    char buf[64];
    if (!json_is_null(p) &&
        (!json_is_integer(p) || json_integer_value(p) < -num || json_integer_value(p) >= num))
        return fail(l, TG_ERR_VALUE,
                    "'padding_idx' must be null or an integer from %lld to %lld, not %s",
                    (long long)-num, (long long)num - 1, show(p, buf, sizeof buf));
    if (json_is_integer(p)) pad = json_integer_value(p);
    if (!expect(l, "weight", dtype, TG_SHAPE(num, dim))) return false;
    if (l->build) *out = tg_embedding_new(num, dim, pad, dtype, NULL);
    return true;
}

static bool load_dropout(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    double p;
    if (!get_double(l, args, "p", 0, 1, false, &p)) return false;
    if (l->build) *out = tg_dropout_new(p, NULL);
    return true;
}

/* ReLU, SiLU, Sigmoid and Tanh: no arguments. */
static bool load_activation(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)args, (void)children;
    static const struct {
        const char *type;
        tg_activation_kind kind;
    } kinds[] = {{"ReLU", TG_ACT_RELU},
                 {"SiLU", TG_ACT_SILU},
                 {"Sigmoid", TG_ACT_SIGMOID},
                 {"Tanh", TG_ACT_TANH}};
    for (size_t i = 0; l->build && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].type, l->type) == 0) *out = tg_activation_new(kinds[i].kind);
    return true;
}

static bool load_gelu(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    json_t *v = json_object_get(args, "approximate");
    const char *s = json_string_value(v);
    char buf[64];
    bool none = s && strcmp(s, "none") == 0, tanh = s && strcmp(s, "tanh") == 0;
    if (!none && !tanh)
        return fail(l, TG_ERR_VALUE, "'approximate' must be \"none\" or \"tanh\", not %s",
                    show(v, buf, sizeof buf));
    if (l->build) *out = tg_activation_new(tanh ? TG_ACT_GELU_TANH : TG_ACT_GELU);
    return true;
}

static bool load_prelu(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    int64_t n;
    double init;
    tg_dtype dtype;
    if (!get_int(l, args, "num_parameters", 1, &n) ||
        !get_double(l, args, "init", -INFINITY, INFINITY, false, &init) ||
        !get_dtype(l, args, &dtype) || !expect(l, "weight", dtype, TG_SHAPE(n)))
        return false;
    if (l->build) *out = tg_prelu_new(n, init, dtype);
    return true;
}

static bool load_swish(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    double beta;
    tg_dtype dtype;
    if (!get_double(l, args, "beta_init", -INFINITY, INFINITY, false, &beta) ||
        !get_dtype(l, args, &dtype) || !expect(l, "beta", dtype, TG_SHAPE(1)))
        return false;
    if (l->build) *out = tg_swish_new(beta, dtype);
    return true;
}

static bool load_layer_norm(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    json_t *v = json_object_get(args, "normalized_shape");
    size_t ndim = json_array_size(v);
    int64_t shape[TG_MAX_DIMS];
    bool ok = json_is_array(v) && ndim >= 1 && ndim <= TG_MAX_DIMS;
    for (size_t d = 0; ok && d < ndim; d++) {
        json_t *size = json_array_get(v, d);
        ok = json_is_integer(size) && json_integer_value(size) >= 0;
        if (ok) shape[d] = json_integer_value(size);
    }
    if (!ok)
        return fail(l, TG_ERR_VALUE,
                    "'normalized_shape' must be an array of 1 to %d integers of at least 0",
                    TG_MAX_DIMS);
    double eps;
    bool affine;
    tg_dtype dtype;
    if (!get_positive(l, args, "eps", &eps) || !get_bool(l, args, "elementwise_affine", &affine) ||
        !get_dtype(l, args, &dtype) ||
        (affine && (!expect(l, "weight", dtype, (int)ndim, shape) ||
                    !expect(l, "bias", dtype, (int)ndim, shape))))
        return false;
    if (l->build)
        *out = tg_layer_norm_new((int)ndim, shape, affine ? TG_AFFINE : TG_NO_AFFINE, eps, dtype);
    return true;
}

static bool load_rms_norm(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    int64_t dim;
    double eps;
    tg_dtype dtype;
    if (!get_int(l, args, "dim", 0, &dim) || !get_positive(l, args, "eps", &eps) ||
        !get_dtype(l, args, &dtype) || !expect(l, "weight", dtype, TG_SHAPE(dim)))
        return false;
    if (l->build) *out = tg_rms_norm_new(dim, eps, dtype);
    return true;
}

static bool load_feedforward(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    tg_ffn_options o = {0};
    json_t *v = json_object_get(args, "kind");
    const char *name = json_string_value(v);
    int kind = 0;
    while (kind < TG_FFN_N_KINDS && (!name || strcmp(name, tg_ffn_kind_name(kind)) != 0)) kind++;
    char buf[64];
    if (kind == TG_FFN_N_KINDS)
        return fail(l, TG_ERR_VALUE,
                    "'kind' must be one of \"ReLU\", \"GELU\", \"GELU-tanh\", \"SiLU\", \"GLU\", "
                    "\"GeGLU\", \"SwiGLU\", \"ReGLU\", not %s",
                    show(v, buf, sizeof buf));
    o.kind = (tg_ffn_kind)kind;
    bool gated = tg_ffn_is_gated(o.kind);
    if (!get_int(l, args, "dim", 1, &o.dim) || !get_int(l, args, "hidden_dim", 0, &o.hidden_dim) ||
        !get_int(l, args, "multiple_of", gated ? 1 : INT64_MIN, &o.multiple_of) ||
        !get_double(l, args, "dropout", 0, 1, true, &o.dropout) || !get_dtype(l, args, &o.dtype))
        return false;
    /* The hidden size as tg_feedforward_new works it out. */
    int64_t hidden = o.hidden_dim;
    if (!hidden && __builtin_mul_overflow(o.dim, 4, &hidden))
        return fail(l, TG_ERR_VALUE, "the default hidden_dim, 4 * dim %lld, is more than %lld",
                    (long long)o.dim, (long long)INT64_MAX);
    if (gated && (hidden = tg_ffn_hidden_dim(hidden, o.multiple_of)) < 0)
        return fail(l, TG_ERR_VALUE, "%s", tg_last_error());
    if (hidden == 0)
        return fail(l, TG_ERR_VALUE, "hidden_dim %lld rounds to nothing", (long long)o.hidden_dim);
    if (!expect(l, "w1.weight", o.dtype, TG_SHAPE(hidden, o.dim)) ||
        (!gated && !expect(l, "w1.bias", o.dtype, TG_SHAPE(hidden))) ||
        !expect(l, "w2.weight", o.dtype, TG_SHAPE(o.dim, hidden)) ||
        (!gated && !expect(l, "w2.bias", o.dtype, TG_SHAPE(o.dim))) ||
        (gated && !expect(l, "w3.weight", o.dtype, TG_SHAPE(hidden, o.dim))))
        return false;
    if (l->build) *out = tg_feedforward_new(&o, NULL);
    return true;
}

static bool load_node(loader *l, json_t *node, tg_module **out);

/* A container's children: an array of [name, description] pairs, names
 * not empty, without '.', each once; ModuleList's "0", "1", ... in order,
 * Residual's one "fn". */
static bool check_children(loader *l, json_t *children) {
    size_t n = json_array_size(children);
    bool list = strcmp(l->type, "ModuleList") == 0, residual = strcmp(l->type, "Residual") == 0;
    if (residual && n != 1)
        return fail(l, TG_ERR_VALUE, "a Residual has one child, \"fn\", not %zu", n);
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(children, i);
        const char *name = json_string_value(json_array_get(pair, 0));
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !name)
            return fail(l, TG_ERR_VALUE, "child %zu is not a [name, description] pair", i);
        char index[24];
        snprintf(index, sizeof index, "%zu", i);
        if (!*name || strchr(name, '.'))
            return fail(l, TG_ERR_VALUE, "child %zu's name \"%.60s\" is empty or has a '.'", i,
                        name);
        if (list && strcmp(name, index) != 0)
            return fail(l, TG_ERR_VALUE, "child %zu of a ModuleList is named \"%.60s\", not \"%s\"",
                        i, name, index);
        if (residual && strcmp(name, "fn") != 0)
            return fail(l, TG_ERR_VALUE, "the child of a Residual is named \"%.60s\", not \"fn\"",
                        name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(json_array_get(children, j), 0)), name) ==
                0)
                return fail(l, TG_ERR_VALUE, "two children are named \"%.60s\"", name);
    }
    return true;
}

/* Sequential, ModuleList and Residual: the children first, under their
 * names, then the container of them. */
static bool load_container(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)args;
    if (!l->build && !check_children(l, children)) return false;
    size_t n = json_array_size(children);
    const char *type = l->type;
    tg_module **made = NULL;
    const char **names = NULL;
    if (l->build) {
        made = tg__calloc(sizeof *made * (n + 1), type);
        names = made ? tg__calloc(sizeof *names * (n + 1), type) : NULL;
        if (!names) {
            tg__free(made);
            return false;
        }
    }
    bool ok = true;
    size_t done = 0;
    for (; ok && done < n; done++) {
        json_t *pair = json_array_get(children, done);
        size_t len = l->prefix.len;
        const char *name = json_string_value(json_array_get(pair, 0));
        tg__text_append(&l->prefix, name);
        tg__text_append(&l->prefix, ".");
        tg_module *child = NULL;
        ok = l->prefix.failed ? fail(l, TG_ERR_NOMEM, "out of memory")
                              : load_node(l, json_array_get(pair, 1), &child);
        if (!l->prefix.failed) {
            l->prefix.len = len;
            l->prefix.s[len] = '\0';
        }
        l->type = type;
        if (l->build) {
            made[done] = child;
            names[done] = name;
        }
    }
    if (l->build) {
        if (ok && strcmp(type, "Residual") == 0) {
            *out = tg_residual_new(made[0]);
        } else if (ok && strcmp(type, "Sequential") == 0) {
            *out = tg_sequential_named_new((int)n, names, made);
        } else if (ok) {
            tg_module *list = tg_module_list_new();
            for (size_t i = 0; i < n; i++) /* each taken over, also by a failing append */
                if (list && !tg_module_append(list, made[i])) {
                    tg_module_free(list);
                    list = NULL;
                } else if (!list) {
                    tg_module_free(made[i]);
                }
            *out = list;
        } else {
            for (size_t i = 0; i < done; i++) tg_module_free(made[i]);
        }
        tg__free(made);
        tg__free(names);
    }
    return ok;
}

typedef struct kind {
    const char *type;
    kind_loader load;
    const char *args[6]; /* all required, none other allowed */
} kind;

#define DTYPE "dtype"
static const kind kinds[] = {
    {"Linear", load_linear, {"in_features", "out_features", "bias", DTYPE}},
    {"Embedding", load_embedding, {"num_embeddings", "embedding_dim", "padding_idx", DTYPE}},
    {"Dropout", load_dropout, {"p"}},
    {"ReLU", load_activation, {0}},
    {"GELU", load_gelu, {"approximate"}},
    {"SiLU", load_activation, {0}},
    {"Sigmoid", load_activation, {0}},
    {"Tanh", load_activation, {0}},
    {"PReLU", load_prelu, {"num_parameters", "init", DTYPE}},
    {"Swish", load_swish, {"beta_init", DTYPE}},
    {"LayerNorm", load_layer_norm, {"normalized_shape", "eps", "elementwise_affine", DTYPE}},
    {"RMSNorm", load_rms_norm, {"dim", "eps", DTYPE}},
    {"FeedForward",
     load_feedforward,
     {"kind", "dim", "hidden_dim", "multiple_of", "dropout", DTYPE}},
    {"Sequential", load_container, {0}},
    {"ModuleList", load_container, {0}},
    {"Residual", load_container, {0}},
};

/* The node's keys, its type and its arguments as the kind wants them. */
static const kind *check_node(loader *l, json_t *node) {
    const char *key;
    json_t *value;
    if (!json_is_object(node)) {
        fail(l, TG_ERR_VALUE, "the description is not a JSON object");
        return NULL;
    }
    json_object_foreach(node, key, value) {
        if (strcmp(key, "type") != 0 && strcmp(key, "args") != 0 && strcmp(key, "children") != 0) {
            fail(l, TG_ERR_VALUE,
                 "unknown key '%.60s' (a module has \"type\", \"args\" and, for "
                 "a container, \"children\")",
                 key);
            return NULL;
        }
    }
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type) {
        fail(l, TG_ERR_VALUE, "no \"type\" string");
        return NULL;
    }
    const kind *k = NULL;
    for (size_t i = 0; !k && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].type, type) == 0) k = &kinds[i];
    if (!k) {
        fail(l, TG_ERR_VALUE,
             "unknown module type '%.60s': tg_module_load_new rebuilds the built-in types only; "
             "build the model in code and load the file with tg_module_load",
             type);
        return NULL;
    }
    l->type = k->type;
    json_t *args = json_object_get(node, "args"), *children = json_object_get(node, "children");
    bool container = k->load == load_container;
    if (!args) {
        fail(l, TG_ERR_VALUE, "saved without its arguments (no \"args\")");
        return NULL;
    }
    if (!json_is_object(args)) {
        fail(l, TG_ERR_VALUE, "\"args\" is not a JSON object");
        return NULL;
    }
    json_object_foreach(args, key, value) {
        bool known = false;
        for (int i = 0; !known && i < 6 && k->args[i]; i++) known = strcmp(k->args[i], key) == 0;
        if (!known) {
            fail(l, TG_ERR_VALUE, "unknown argument '%.60s'", key);
            return NULL;
        }
    }
    for (int i = 0; i < 6 && k->args[i]; i++)
        if (!json_object_get(args, k->args[i])) {
            fail(l, TG_ERR_VALUE, "the argument '%s' is missing", k->args[i]);
            return NULL;
        }
    if (container && !json_is_array(children)) {
        fail(l, TG_ERR_VALUE, "no \"children\" array");
        return NULL;
    }
    if (!container && children) {
        fail(l, TG_ERR_VALUE, "a %s has no \"children\" in its description", k->type);
        return NULL;
    }
    return k;
}

/* One module and what is below it: checked (first pass) or made into *out. */
static bool load_node(loader *l, json_t *node, tg_module **out) {
    l->type = NULL;
    if (l->depth >= TG_MODULE_LOAD_MAX_DEPTH)
        return fail(l, TG_ERR_VALUE, "modules are nested more than %d deep",
                    TG_MODULE_LOAD_MAX_DEPTH);
    if (++l->modules > TG_MODULE_LOAD_MAX_MODULES)
        return fail(l, TG_ERR_VALUE, "the description has more than %d modules",
                    TG_MODULE_LOAD_MAX_MODULES);
    const kind *k = l->build ? NULL : check_node(l, node);
    if (l->build) { /* checked by the first pass */
        const char *type = json_string_value(json_object_get(node, "type"));
        for (size_t i = 0; !k && i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(kinds[i].type, type) == 0) k = &kinds[i];
        l->type = k->type;
    }
    if (!k) return false;
    l->depth++;
    *out = NULL;
    bool ok = k->load(l, json_object_get(node, "args"), json_object_get(node, "children"), out);
    l->depth--;
    return ok && (!l->build || *out);
}

/* The second pass, with the thread's default generator set aside: the
 * constructors draw initial values the file then replaces. */
static tg_module *build(loader *l, json_t *root) {
    tg_generator *saved = tg_generator_new(0);
    if (!saved) return NULL;
    tg__generator_copy(saved, NULL);
    *l = (loader){.file = l->file, .path = l->path, .build = true};
    tg_module *m = NULL;
    load_node(l, root, &m);
    free(l->prefix.s);
    tg__generator_copy(NULL, saved);
    tg_generator_free(saved);
    int n;
    const tg_named_tensor *state = m ? tg_module_state_dict(m, &n) : NULL;
    if (!state || tg__load_safetensors_from(l->file, n, state) != 0) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}

tg_module *tg_module_load_new(const char *path) {
    if (!path) {
        tg__null_arg("module_load_new");
        return NULL;
    }
    tg_safetensors *f = tg_safetensors_open(path);
    if (!f) return NULL;
    const char *text = NULL;
    for (int i = 0; !text && i < tg_safetensors_metadata_count(f); i++)
        if (strcmp(tg_safetensors_metadata_key(f, i), TG_MODULE_METADATA_KEY) == 0)
            text = tg_safetensors_metadata(f, TG_MODULE_METADATA_KEY);
    int n = tg_safetensors_count(f);
    loader l = {.file = f, .path = path};
    json_error_t err;
    json_t *root = NULL;
    bool ok = false;
    if (!text)
        tg__error(TG_ERR_VALUE,
                  "module_load_new: %s does not describe its module (no '%s' in its metadata): "
                  "build the model in code and load the file with tg_module_load",
                  path, TG_MODULE_METADATA_KEY);
    else if (!(root = json_loads(text, JSON_REJECT_DUPLICATES, &err)))
        tg__error(TG_ERR_VALUE, "module_load_new: %s: the description is not JSON: %s (at %d)",
                  path, err.text, err.position);
    else if ((l.claimed = tg__calloc(sizeof *l.claimed * (size_t)(n + 1), "module_load_new")))
        ok = load_node(&l, root, &(tg_module *){NULL});
    for (int i = 0; ok && i < n; i++)
        if (!l.claimed[i]) {
            tg__error(TG_ERR_VALUE,
                      "module_load_new: %s holds a tensor '%s' that the module it describes does "
                      "not have",
                      path, tg_safetensors_name(f, i));
            ok = false;
        }
    tg__free(l.claimed);
    free(l.prefix.s);
    tg_module *m = ok ? build(&l, root) : NULL;
    if (ok && !m) /* out of memory: the arguments and tensors were checked */
        tg_set_error(tg_last_status(), "module_load_new: %s: %s", path, tg_last_error());
    json_decref(root);
    tg_safetensors_close(f);
    return m;
}
