/* nn/feedforward.c - the feed-forward blocks of Transformers: classic
 * ACT(x W1 + b1) W2 + b2, and the gated GLU family in LLaMA's form
 * w2(ACT(w1 x) * w3 x) with its hidden_dim rounding.
 *
 * Written as a user of tapegrad writes a module: it includes public headers
 * only, and is made with the API of tapegrad/nn.h ("Defining a module"). */
#include <stdio.h>

#include "tapegrad/activation.h"
#include "tapegrad/error.h"
#include "tapegrad/nn.h"
#include "tapegrad/ops.h"

typedef struct ffn_state {
    tg_ffn_options options; /* as given, for describe */
    tg_ffn_kind kind;
    int64_t dim, hidden;
    tg_module *w1, *w2, *w3, *dropout; /* the module's children (borrowed); w3 NULL if not gated */
} ffn_state;

static const char *const kind_names[TG_FFN_N_KINDS] = {
    [TG_FFN_RELU] = "ReLU",     [TG_FFN_GELU] = "GELU",   [TG_FFN_GELU_TANH] = "GELU-tanh",
    [TG_FFN_SILU] = "SiLU",     [TG_FFN_GLU] = "GLU",     [TG_FFN_GEGLU] = "GeGLU",
    [TG_FFN_SWIGLU] = "SwiGLU", [TG_FFN_REGLU] = "ReGLU",
};

const char *tg_ffn_kind_name(tg_ffn_kind kind) {
    return (unsigned)kind < TG_FFN_N_KINDS ? kind_names[kind] : NULL;
}

bool tg_ffn_is_gated(tg_ffn_kind kind) { return kind >= TG_FFN_GLU && kind <= TG_FFN_REGLU; }

int64_t tg_ffn_hidden_dim(int64_t hidden_dim, int64_t multiple_of) {
    if (hidden_dim <= 0 || multiple_of <= 0) {
        tg_set_error(TG_ERR_VALUE,
                     "ffn_hidden_dim: hidden_dim %lld and multiple_of %lld must be positive",
                     (long long)hidden_dim, (long long)multiple_of);
        return -1;
    }
    /* 2 h / 3 rounded down, computed so that nothing overflows, then
     * rounded up to a multiple, which may not fit. */
    int64_t two_thirds = hidden_dim / 3 * 2 + hidden_dim % 3 * 2 / 3, rounded;
    int64_t blocks = two_thirds ? (two_thirds - 1) / multiple_of + 1 : 0;
    if (__builtin_mul_overflow(blocks, multiple_of, &rounded)) {
        tg_set_error(TG_ERR_VALUE,
                     "ffn_hidden_dim: 2/3 of hidden_dim %lld rounded up to a multiple of %lld is "
                     "more than %lld",
                     (long long)hidden_dim, (long long)multiple_of, (long long)INT64_MAX);
        return -1;
    }
    return rounded;
}

/* ACT(h) for the classic kinds. */
static tg_tensor *activate(tg_ffn_kind kind, tg_tensor *h) {
    switch (kind) {
    case TG_FFN_RELU: return tg_relu(h);
    case TG_FFN_GELU: return tg_gelu(h, TG_GELU_NONE);
    case TG_FFN_GELU_TANH: return tg_gelu(h, TG_GELU_TANH);
    default: return tg_silu(h);
    }
}

/* ACT(gate) * up for the gated kinds, fused where tapegrad has the op. */
static tg_tensor *gate(tg_ffn_kind kind, tg_tensor *g, tg_tensor *up) {
    switch (kind) {
    case TG_FFN_GLU: return tg_mul(tg_sigmoid(g), up);
    case TG_FFN_GEGLU: return tg_geglu(g, up, TG_GELU_NONE);
    case TG_FFN_REGLU: return tg_reglu(g, up);
    default: return tg_swiglu(g, up);
    }
}

static tg_tensor *ffn_forward(tg_module *m, tg_tensor *x) {
    const ffn_state *f = tg_module_state(m);
    tg_tensor *h = tg_module_forward(f->w1, x);
    h = f->w3 ? gate(f->kind, h, tg_module_forward(f->w3, x)) : activate(f->kind, h);
    return tg_module_forward(f->dropout, tg_module_forward(f->w2, h));
}

/* "kind=SwiGLU, dim=256, hidden_dim=704": the hidden size after rounding. */
static int ffn_extra_repr(const tg_module *m, char *buf, size_t size) {
    const ffn_state *f = tg_module_state(m);
    return snprintf(buf, size, "kind=%s, dim=%lld, hidden_dim=%lld", tg_ffn_kind_name(f->kind),
                    (long long)f->dim, (long long)f->hidden);
}

/* The options as given: hidden_dim before rounding (and 0 for 4 * dim). */
static int ffn_describe(const tg_module *m, tg_module_args *a) {
    const tg_ffn_options *o = &((const ffn_state *)tg_module_state(m))->options;
    return tg_module_arg_string(a, "kind", tg_ffn_kind_name(o->kind)) ||
                   tg_module_arg_int(a, "dim", o->dim) ||
                   tg_module_arg_int(a, "hidden_dim", o->hidden_dim) ||
                   tg_module_arg_int(a, "multiple_of", o->multiple_of) ||
                   tg_module_arg_double(a, "dropout", o->dropout) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(o->dtype))
               ? -1
               : 0;
}

static const tg_module_class ffn_class = {.name = "FeedForward",
                                          .forward = ffn_forward,
                                          .extra_repr = ffn_extra_repr,
                                          .state_size = sizeof(ffn_state),
                                          .describe = ffn_describe};

static bool check_options(const tg_ffn_options *o) {
    if (!o) {
        tg_set_error(TG_ERR_NULL, "FeedForward: argument is NULL");
        return false;
    }
    if (!tg_dtype_is_float(o->dtype)) {
        if (tg_dtype_size(o->dtype) == 0)
            tg_set_error(TG_ERR_VALUE,
                         "FeedForward: invalid dtype %d (TG_F32, TG_F64, TG_I64 or TG_BOOL)",
                         (int)o->dtype);
        else
            tg_set_error(TG_ERR_DTYPE, "FeedForward: dtype %s: parameters are float32 or float64",
                         tg_dtype_name(o->dtype));
        return false;
    }
    if ((unsigned)o->kind >= TG_FFN_N_KINDS) {
        tg_set_error(TG_ERR_VALUE, "FeedForward: unknown kind %d", (int)o->kind);
        return false;
    }
    if (o->dim <= 0 || o->hidden_dim < 0) {
        tg_set_error(TG_ERR_VALUE,
                     "FeedForward: dim %lld must be positive and hidden_dim %lld not "
                     "negative",
                     (long long)o->dim, (long long)o->hidden_dim);
        return false;
    }
    if (tg_ffn_is_gated(o->kind) && o->multiple_of <= 0) {
        tg_set_error(TG_ERR_VALUE, "FeedForward: multiple_of must be positive, not %lld",
                     (long long)o->multiple_of);
        return false;
    }
    if (!(o->dropout >= 0 && o->dropout < 1)) {
        tg_set_error(TG_ERR_VALUE, "FeedForward: dropout p must lie in [0, 1), not %g", o->dropout);
        return false;
    }
    return true;
}

tg_module *tg_feedforward_new(const tg_ffn_options *o, tg_generator *gen) {
    if (!check_options(o)) return NULL;
    bool gated = tg_ffn_is_gated(o->kind);
    int64_t hidden = o->hidden_dim, given;
    if (!hidden && __builtin_mul_overflow(o->dim, 4, &hidden)) {
        tg_set_error(TG_ERR_VALUE,
                     "FeedForward: the default hidden_dim, 4 * dim %lld, is more "
                     "than %lld",
                     (long long)o->dim, (long long)INT64_MAX);
        return NULL;
    }
    given = hidden;
    if (gated && (hidden = tg_ffn_hidden_dim(hidden, o->multiple_of)) < 0) return NULL;
    if (hidden == 0) {
        tg_set_error(TG_ERR_VALUE, "FeedForward: hidden_dim %lld rounds to nothing",
                     (long long)given);
        return NULL;
    }
    tg_module *m = tg_module_new(
        &ffn_class, &(ffn_state){.options = *o, .kind = o->kind, .dim = o->dim, .hidden = hidden});
    ffn_state *f = tg_module_state(m);
    tg_bias bias = gated ? TG_NO_BIAS : TG_BIAS;
    /* Created in LLaMA's order, w1, w2, w3, so seeded weights follow it.
     * Each child is the module's once added, even when adding it fails. */
    bool ok = f &&
              (f->w1 = tg_module_add_child(m, "w1",
                                           tg_linear_new(o->dim, hidden, bias, o->dtype, gen))) &&
              (f->w2 = tg_module_add_child(m, "w2",
                                           tg_linear_new(hidden, o->dim, bias, o->dtype, gen))) &&
              (!gated ||
               (f->w3 = tg_module_add_child(
                    m, "w3", tg_linear_new(o->dim, hidden, TG_NO_BIAS, o->dtype, gen)))) &&
              (f->dropout = tg_module_add_child(m, "dropout", tg_dropout_new(o->dropout, gen)));
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}
