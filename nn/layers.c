/* nn/layers.c - Dropout and the activations as modules. */
#include "module_internal.h"
#include "tapegrad/activation.h"
#include "tapegrad/dropout.h"

/* ---- Dropout --------------------------------------------------------------------- */

typedef struct dropout_impl {
    double p;
    tg_generator *gen;
} dropout_impl;

static tg_tensor *dropout_forward(tg_module *m, tg_tensor *x) {
    dropout_impl *d = m->impl;
    return tg_dropout(x, d->p, m->training ? TG_TRAIN : TG_EVAL, d->gen);
}

static const tg__module_class dropout_class = {"Dropout", dropout_forward};

tg_module *tg_dropout_new(double p, tg_generator *gen) {
    if (!(p >= 0 && p <= 1)) {
        tg__error(TG_ERR_VALUE, "Dropout: p must lie in [0, 1], not %g", p);
        return NULL;
    }
    tg_module *m = tg__module_new(&dropout_class, sizeof(dropout_impl));
    if (!m) return NULL;
    *(dropout_impl *)m->impl = (dropout_impl){p, gen};
    return tg__module_finish(m);
}

/* ---- Activations without parameters ---------------------------------------------- */

static tg_tensor *activation_forward(tg_module *m, tg_tensor *x) {
    switch (*(tg_activation_kind *)m->impl) {
    case TG_ACT_RELU: return tg_relu(x);
    case TG_ACT_GELU: return tg_gelu(x, TG_GELU_NONE);
    case TG_ACT_GELU_TANH: return tg_gelu(x, TG_GELU_TANH);
    case TG_ACT_SILU: return tg_silu(x);
    case TG_ACT_SIGMOID: return tg_sigmoid(x);
    case TG_ACT_TANH: return tg_tanh(x);
    }
    return NULL;
}

static const tg__module_class activation_classes[] = {
    [TG_ACT_RELU] = {"ReLU", activation_forward},
    [TG_ACT_GELU] = {"GELU", activation_forward},
    [TG_ACT_GELU_TANH] = {"GELU", activation_forward},
    [TG_ACT_SILU] = {"SiLU", activation_forward},
    [TG_ACT_SIGMOID] = {"Sigmoid", activation_forward},
    [TG_ACT_TANH] = {"Tanh", activation_forward},
};

tg_module *tg_activation_new(tg_activation_kind kind) {
    if ((unsigned)kind > TG_ACT_TANH) {
        tg__error(TG_ERR_VALUE, "activation_new: unknown activation %d", (int)kind);
        return NULL;
    }
    tg_module *m = tg__module_new(&activation_classes[kind], sizeof kind);
    if (!m) return NULL;
    *(tg_activation_kind *)m->impl = kind;
    return tg__module_finish(m);
}

/* ---- PReLU and Swish: activations with a parameter -------------------------------- */

static tg_tensor *prelu_forward(tg_module *m, tg_tensor *x) {
    return tg_prelu(x, m->own[0].tensor);
}

static const tg__module_class prelu_class = {"PReLU", prelu_forward};

/* A module whose one parameter `name` of n elements starts at value. */
static tg_module *with_parameter(const tg__module_class *cls, const char *name, int64_t n,
                                 double value, tg_dtype dtype) {
    tg_module *m = tg__module_new(cls, 0);
    tg_tensor *p = m ? tg__module_param(m, name, TG_SHAPE(n), dtype) : NULL;
    if (!p) {
        tg_module_free(m);
        return NULL;
    }
    tg__fill(p, value);
    return tg__module_finish(m);
}

tg_module *tg_prelu_new(int64_t num_parameters, double init, tg_dtype dtype) {
    if (num_parameters <= 0) {
        tg__error(TG_ERR_VALUE, "PReLU: num_parameters must be positive, not %lld",
                  (long long)num_parameters);
        return NULL;
    }
    return with_parameter(&prelu_class, "weight", num_parameters, init, dtype);
}

static tg_tensor *swish_forward(tg_module *m, tg_tensor *x) {
    return tg_swish(x, m->own[0].tensor);
}

static const tg__module_class swish_class = {"Swish", swish_forward};

tg_module *tg_swish_new(double beta_init, tg_dtype dtype) {
    return with_parameter(&swish_class, "beta", 1, beta_init, dtype);
}
