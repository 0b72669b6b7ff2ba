/* nn/checkpoint.c - a module rebuilt from the description a self-describing
 * file holds (tg_module_load_new), by the loaders of the built-in types and
 * those registered for a user's own (tg_module_register_loader).
 * tapegrad/nn.h ("Self-describing files") gives the format, nn/describe.c
 * writes it, python/tapegrad_torch.py reads and writes the same text for
 * PyTorch's modules.
 *
 * The loader goes over the description twice. The first pass checks every
 * argument and works out each tensor the rebuilt module would have, which
 * must be in the file with that dtype and shape, and claims it; then every
 * tensor of the file must have been claimed. Only then does the second
 * pass call the constructors, so what they allocate is what the file
 * holds. */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/file.h"
#include "internal/tensor.h"
#include "nn_internal.h"

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

/* The activations without arguments, by their names. */
static bool load_activation(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)args, (void)children;
    static const struct {
        const char *type;
        tg_activation_kind kind;
    } kinds[] = {{"ReLU", TG_ACT_RELU},
                 {"SiLU", TG_ACT_SILU},
                 {"Sigmoid", TG_ACT_SIGMOID},
                 {"Tanh", TG_ACT_TANH},
                 {"SELU", TG_ACT_SELU},
                 {"ReLU6", TG_ACT_RELU6},
                 {"Hardsigmoid", TG_ACT_HARDSIGMOID},
                 {"Hardswish", TG_ACT_HARDSWISH},
                 {"Mish", TG_ACT_MISH},
                 {"LogSigmoid", TG_ACT_LOGSIGMOID},
                 {"Softsign", TG_ACT_SOFTSIGN},
                 {"Tanhshrink", TG_ACT_TANHSHRINK}};
    for (size_t i = 0; l->build && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].type, l->type) == 0) *out = tg_activation_new(kinds[i].kind);
    return true;
}

static bool load_celu(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    double alpha;
    if (!get_double(l, args, "alpha", -INFINITY, INFINITY, false, &alpha)) return false;
    if (alpha == 0) return fail(l, TG_ERR_VALUE, "'alpha' can't be 0");
    if (l->build) *out = tg_celu_new(alpha);
    return true;
}

static bool load_hardtanh(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)children;
    double lo, hi;
    if (!get_double(l, args, "min_val", -INFINITY, INFINITY, false, &lo) ||
        !get_double(l, args, "max_val", -INFINITY, INFINITY, false, &hi))
        return false;
    if (!(hi > lo)) {
        char low[40], high[40];
        tg__python_float(low, sizeof low, lo);
        tg__python_float(high, sizeof high, hi);
        return fail(l, TG_ERR_VALUE, "'max_val' %s must be greater than 'min_val' %s", high, low);
    }
    if (l->build) *out = tg_hardtanh_new(lo, hi);
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

/* The described children, each under its name: checked (first pass), or
 * made into made[] with their names in names[] (second pass; on failure
 * the ones made are freed). */
static bool load_children(loader *l, json_t *children, tg_module **made, const char **names) {
    if (!l->build && !check_children(l, children)) return false;
    size_t n = json_array_size(children);
    const char *type = l->type;
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
    for (size_t i = 0; l->build && !ok && i < done; i++) tg_module_free(made[i]);
    return ok;
}

/* Sequential, ModuleList and Residual: the children first, under their
 * names, then the container of them. */
static bool load_container(loader *l, json_t *args, json_t *children, tg_module **out) {
    (void)args;
    if (!l->build) return load_children(l, children, NULL, NULL);
    size_t n = json_array_size(children);
    const char *type = l->type;
    tg_module **made = tg__calloc(sizeof *made * (n + 1), type);
    const char **names = made ? tg__calloc(sizeof *names * (n + 1), type) : NULL;
    bool ok = names && load_children(l, children, made, names);
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
    }
    tg__free(made);
    tg__free(names);
    return ok;
}

/* ---- A user's classes ----------------------------------------------------------------- */

/* What a registered loader reads its arguments from. */
struct tg_module_desc {
    loader *l;
    json_t *args;
    const char **read; /* the names of the arguments read so far (the JSON's keys) */
    size_t n_read;
    bool failed; /* an error naming the module is recorded */
};

/* The argument name, marked as read; NULL (and the load fails) when the
 * description has none of that name. out is where the caller wants the
 * value (name itself for the getters that return it). */
static json_t *arg(tg_module_desc *d, const char *op, const char *name, const void *out) {
    if (!d || !name || !out) {
        tg__null_arg(op); /* load_registered adds the module to the message */
        return NULL;
    }
    void *it = json_object_iter_at(d->args, name);
    if (!it) {
        fail(d->l, TG_ERR_VALUE, "the argument '%.60s' is missing", name);
        d->failed = true;
        return NULL;
    }
    const char *key = json_object_iter_key(it);
    bool seen = false;
    for (size_t i = 0; !seen && i < d->n_read; i++) seen = d->read[i] == key;
    if (!seen) d->read[d->n_read++] = key;
    return json_object_iter_value(it);
}

/* The argument's value is not what the loader asked for. */
static int wrong(tg_module_desc *d, const char *name, const char *want, const json_t *v) {
    char buf[64];
    fail(d->l, TG_ERR_VALUE, "'%s' must be %s, not %s", name, want, show(v, buf, sizeof buf));
    d->failed = true;
    return -1;
}

int tg_module_desc_int(tg_module_desc *d, const char *name, int64_t *out) {
    json_t *v = arg(d, "module_desc_int", name, out);
    if (!v) return -1;
    if (!json_is_integer(v)) return wrong(d, name, "an integer", v);
    *out = json_integer_value(v);
    return 0;
}

int tg_module_desc_double(tg_module_desc *d, const char *name, double *out) {
    json_t *v = arg(d, "module_desc_double", name, out);
    if (!v) return -1;
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return wrong(d, name, "a finite number", v);
    *out = json_number_value(v);
    return 0;
}

int tg_module_desc_bool(tg_module_desc *d, const char *name, bool *out) {
    json_t *v = arg(d, "module_desc_bool", name, out);
    if (!v) return -1;
    if (!json_is_boolean(v)) return wrong(d, name, "true or false", v);
    *out = json_is_true(v);
    return 0;
}

const char *tg_module_desc_string(tg_module_desc *d, const char *name) {
    json_t *v = arg(d, "module_desc_string", name, name);
    if (!v) return NULL;
    if (!json_is_string(v)) {
        wrong(d, name, "a string", v);
        return NULL;
    }
    return json_string_value(v);
}

int tg_module_desc_dtype(tg_module_desc *d, const char *name, tg_dtype *out) {
    json_t *v = arg(d, "module_desc_dtype", name, out);
    if (!v) return -1;
    for (int i = 0; json_is_string(v) && i <= TG_BOOL; i++)
        if (strcmp(json_string_value(v), tg_dtype_name((tg_dtype)i)) == 0) {
            *out = (tg_dtype)i;
            return 0;
        }
    return wrong(d, name, "the name of a dtype (\"float32\", \"float64\", ...)", v);
}

int tg_module_desc_ints(tg_module_desc *d, const char *name, int max, int64_t *values) {
    if (max < 0) {
        tg__error(TG_ERR_VALUE, "module_desc_ints: room for %d values", max);
        return -1;
    }
    json_t *v = arg(d, "module_desc_ints", name, max > 0 ? (const void *)values : name);
    if (!v) return -1;
    size_t n = json_array_size(v);
    bool ok = json_is_array(v) && n <= (size_t)max;
    for (size_t i = 0; ok && i < n; i++) ok = json_is_integer(json_array_get(v, i));
    if (!ok) {
        char want[64];
        snprintf(want, sizeof want, "an array of at most %d integers", max);
        return wrong(d, name, want, v);
    }
    for (size_t i = 0; i < n; i++) values[i] = json_integer_value(json_array_get(v, i));
    return (int)n;
}

int tg_module_desc_is_null(tg_module_desc *d, const char *name) {
    json_t *v = arg(d, "module_desc_is_null", name, name);
    return v ? json_is_null(v) : -1;
}

typedef struct kind {
    const char *type;
    kind_loader load;
    const char *args[6];           /* built-in types: all required, none other allowed */
    tg_module_loader_fn user_load; /* registered types: their loader, which reads the args */
} kind;

/* A registered type: its loader makes the module from its arguments; the
 * described children, if any, are then added to it under their names. The
 * first pass makes it too, to learn its tensors (of the dtype and shape
 * the file must hold), and frees it. */
static bool load_registered(loader *l, const kind *k, json_t *args, json_t *children,
                            tg_module **out) {
    size_t n_args = json_object_size(args);
    tg_module_desc d = {.l = l, .args = args};
    d.read = tg__calloc(sizeof *d.read * (n_args + 1), "module_load_new");
    if (!d.read) return fail(l, TG_ERR_NOMEM, "out of memory");
    tg_clear_error(); /* to tell whether the loader recorded one */
    tg_module *m = k->user_load(&d);
    const char *key;
    json_t *value;
    bool ok = m && !d.failed; /* a loader that went on after a failed read fails too */
    if (!m && !d.failed)
        fail(l, tg_last_status() == TG_OK ? TG_ERR_VALUE : tg_last_status(), "%s",
             tg_last_status() == TG_OK ? "its loader returned NULL and recorded no error"
                                       : tg_last_error());
    else if (ok && strcmp(tg_module_name(m), k->type) != 0)
        ok = fail(l, TG_ERR_VALUE, "its loader made a %.60s", tg_module_name(m));
    json_object_foreach(args, key, value) {
        bool read = false;
        for (size_t i = 0; !read && i < d.n_read; i++) read = d.read[i] == key;
        if (ok && !read) ok = fail(l, TG_ERR_VALUE, "unknown argument '%.60s'", key);
    }
    tg__free(d.read);
    int n = 0;
    const tg_named_tensor *state = ok && !l->build ? tg_module_state_dict(m, &n) : NULL;
    if (ok && !l->build && !state) ok = fail(l, tg_last_status(), "%s", tg_last_error());
    for (int i = 0; ok && i < n; i++)
        ok = expect(l, state[i].name, tg_dtype_of(state[i].tensor), tg_ndim(state[i].tensor),
                    tg_shape(state[i].tensor));
    if (!l->build) {
        tg_module_free(m);
        return ok && (!children || load_children(l, children, NULL, NULL));
    }
    size_t n_children = json_array_size(children);
    tg_module **made = ok ? tg__calloc(sizeof *made * (n_children + 1), k->type) : NULL;
    const char **names = made ? tg__calloc(sizeof *names * (n_children + 1), k->type) : NULL;
    ok = names && load_children(l, children, made, names);
    for (size_t i = 0; i < n_children; i++) /* each taken over, also by a failing add */
        if (ok && !tg_module_add_child(m, names[i], made[i]))
            ok = fail(l, tg_last_status(), "%s", tg_last_error());
        else if (!ok && made)
            tg_module_free(made[i]);
    tg__free(made);
    tg__free(names);
    if (!ok) tg_module_free(m);
    *out = ok ? m : NULL;
    return ok;
}

#define DTYPE "dtype"
static const kind built_in[] = {
    {"Linear", load_linear, {"in_features", "out_features", "bias", DTYPE}, NULL},
    {"Embedding", load_embedding, {"num_embeddings", "embedding_dim", "padding_idx", DTYPE}, NULL},
    {"Dropout", load_dropout, {"p"}, NULL},
    {"ReLU", load_activation, {0}, NULL},
    {"GELU", load_gelu, {"approximate"}, NULL},
    {"SiLU", load_activation, {0}, NULL},
    {"Sigmoid", load_activation, {0}, NULL},
    {"Tanh", load_activation, {0}, NULL},
    {"SELU", load_activation, {0}, NULL},
    {"ReLU6", load_activation, {0}, NULL},
    {"Hardsigmoid", load_activation, {0}, NULL},
    {"Hardswish", load_activation, {0}, NULL},
    {"Mish", load_activation, {0}, NULL},
    {"LogSigmoid", load_activation, {0}, NULL},
    {"Softsign", load_activation, {0}, NULL},
    {"Tanhshrink", load_activation, {0}, NULL},
    {"CELU", load_celu, {"alpha"}, NULL},
    {"Hardtanh", load_hardtanh, {"min_val", "max_val"}, NULL},
    {"PReLU", load_prelu, {"num_parameters", "init", DTYPE}, NULL},
    {"Swish", load_swish, {"beta_init", DTYPE}, NULL},
    {"LayerNorm", load_layer_norm, {"normalized_shape", "eps", "elementwise_affine", DTYPE}, NULL},
    {"RMSNorm", load_rms_norm, {"dim", "eps", DTYPE}, NULL},
    {"FeedForward",
     load_feedforward,
     {"kind", "dim", "hidden_dim", "multiple_of", "dropout", DTYPE},
     NULL},
    {"Sequential", load_container, {0}, NULL},
    {"ModuleList", load_container, {0}, NULL},
    {"Residual", load_container, {0}, NULL},
};

/* The registered types, in the order of registration; kept for the life of
 * the process. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static kind **registered;
static int n_registered;

/* The type's kind, built-in or registered, or NULL. */
static const kind *find_kind(const char *type) {
    for (size_t i = 0; i < sizeof built_in / sizeof built_in[0]; i++)
        if (strcmp(built_in[i].type, type) == 0) return &built_in[i];
    const kind *k = NULL;
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; !k && i < n_registered; i++)
        if (strcmp(registered[i]->type, type) == 0) k = registered[i];
    pthread_mutex_unlock(&registry_lock);
    return k;
}

int tg_module_register_loader(const char *type, tg_module_loader_fn load) {
    const char *op = "module_register_loader";
    if (!type || !load) {
        tg__null_arg(op);
        return -1;
    }
    if (!*type || !tg__is_utf8(type)) {
        tg__error(TG_ERR_VALUE, "%s: a type name is not empty and is valid UTF-8", op);
        return -1;
    }
    const kind *known = find_kind(type);
    if (known) {
        tg__error(TG_ERR_VALUE, "%s: '%.60s' %s", op, type,
                  known->user_load
                      ? "has a loader already"
                      : "is a built-in type, which tg_module_load_new rebuilds itself");
        return -1;
    }
    size_t len = strlen(type);
    kind *k = tg__calloc(sizeof *k + len + 1, op);
    if (!k) return -1;
    k->type = memcpy((char *)(k + 1), type, len + 1);
    k->user_load = load;
    pthread_mutex_lock(&registry_lock);
    bool taken = false; /* by another thread since find_kind */
    for (int i = 0; !taken && i < n_registered; i++) taken = strcmp(registered[i]->type, type) == 0;
    kind **grown = taken ? NULL : tg__calloc(sizeof *grown * (size_t)(n_registered + 1), op);
    if (grown) {
        if (n_registered) memcpy(grown, registered, sizeof *grown * (size_t)n_registered);
        tg__free(registered);
        registered = grown;
        registered[n_registered++] = k;
    }
    pthread_mutex_unlock(&registry_lock);
    if (taken) tg__error(TG_ERR_VALUE, "%s: '%.60s' has a loader already", op, type);
    if (!grown) tg__free(k);
    return grown ? 0 : -1;
}

/* The node's keys, its type and, for a built-in type, its arguments as the
 * kind wants them. */
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
    const kind *k = find_kind(type);
    if (!k) {
        fail(l, TG_ERR_VALUE,
             "unknown module type '%.60s': tg_module_load_new rebuilds the built-in types and "
             "those registered with tg_module_register_loader; build the model in code and "
             "load the file with tg_module_load",
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
    if (k->user_load) { /* its loader reads the arguments; children are optional */
        if (children && !json_is_array(children)) {
            fail(l, TG_ERR_VALUE, "\"children\" is not an array");
            return NULL;
        }
        return k;
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
    /* The second pass finds what the first one checked. */
    const kind *k = l->build ? find_kind(json_string_value(json_object_get(node, "type")))
                             : check_node(l, node);
    if (!k) return false;
    l->type = k->type;
    l->depth++;
    *out = NULL;
    json_t *args = json_object_get(node, "args"), *children = json_object_get(node, "children");
    bool ok = k->user_load ? load_registered(l, k, args, children, out)
                           : k->load(l, args, children, out);
    l->depth--;
    return ok && (!l->build || *out);
}

/* Both passes, and the tensors into the module made, with the thread's
 * default generator set aside: the constructors draw initial values the
 * file then replaces. */
static tg_module *load(loader *l, json_t *root) {
    tg_generator *saved = tg_generator_new(0);
    if (!saved) return NULL;
    tg__generator_copy(saved, NULL);
    int n = tg_safetensors_count(l->file);
    bool ok = (l->claimed = tg__calloc(sizeof *l->claimed * (size_t)(n + 1), "module_load_new")) &&
              load_node(l, root, &(tg_module *){NULL});
    for (int i = 0; ok && i < n; i++)
        if (!l->claimed[i]) {
            tg__error(TG_ERR_VALUE,
                      "module_load_new: %s holds a tensor '%s' that the module it describes does "
                      "not have",
                      l->path, tg_safetensors_name(l->file, i));
            ok = false;
        }
    tg__free(l->claimed);
    free(l->prefix.s);
    *l = (loader){.file = l->file, .path = l->path, .build = true};
    tg_module *m = NULL;
    if (ok) {
        load_node(l, root, &m);
        free(l->prefix.s);
    }
    tg__generator_copy(NULL, saved);
    tg_generator_free(saved);
    const tg_named_tensor *state = m ? tg_module_state_dict(m, &n) : NULL;
    if (ok && (!state || tg__load_safetensors_from(l->file, n, state) != 0)) {
        /* Out of memory, or a registered loader that made another module the
         * second time: the message names the file, once. */
        if (strncmp(tg_last_error(), "module_load_new: ", 17) != 0)
            tg_set_error(tg_last_status(), "module_load_new: %s: %s", l->path, tg_last_error());
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
    loader l = {.file = f, .path = path};
    json_error_t err;
    json_t *root = NULL;
    tg_module *m = NULL;
    if (!text)
        tg__error(TG_ERR_VALUE,
                  "module_load_new: %s does not describe its module (no '%s' in its metadata): "
                  "build the model in code and load the file with tg_module_load",
                  path, TG_MODULE_METADATA_KEY);
    else if (!(root = json_loads(text, JSON_REJECT_DUPLICATES, &err)))
        tg__error(TG_ERR_VALUE, "module_load_new: %s: the description is not JSON: %s (at %d)",
                  path, err.text, err.position);
    else
        m = load(&l, root);
    json_decref(root);
    tg_safetensors_close(f);
    return m;
}
