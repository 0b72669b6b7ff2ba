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
    case TG_ACT_SELU: return tg_selu(x);
    case TG_ACT_RELU6: return tg_relu6(x);
    case TG_ACT_HARDSIGMOID: return tg_hardsigmoid(x);
    case TG_ACT_HARDSWISH: return tg_hardswish(x);
    case TG_ACT_MISH: return tg_mish(x);
    case TG_ACT_LOGSIGMOID: return tg_logsigmoid(x);
    case TG_ACT_SOFTSIGN: return tg_softsign(x);
    case TG_ACT_TANHSHRINK: return tg_tanhshrink(x);
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
    [TG_ACT_SELU] = {"SELU", activation_forward},
    [TG_ACT_RELU6] = {"ReLU6", activation_forward},
    [TG_ACT_HARDSIGMOID] = {"Hardsigmoid", activation_forward},
    [TG_ACT_HARDSWISH] = {"Hardswish", activation_forward},
    [TG_ACT_MISH] = {"Mish", activation_forward},
    [TG_ACT_LOGSIGMOID] = {"LogSigmoid", activation_forward},
    [TG_ACT_SOFTSIGN] = {"Softsign", activation_forward},
    [TG_ACT_TANHSHRINK] = {"Tanhshrink", activation_forward},
};

tg_module *tg_activation_new(tg_activation_kind kind) {
    if ((unsigned)kind > TG_ACT_TANHSHRINK) {
        tg__error(TG_ERR_VALUE, "activation_new: unknown activation %d", (int)kind);
        return NULL;
    }
    tg_module *m = tg__module_new(&activation_classes[kind], sizeof kind);
    if (!m) return NULL;
    *(tg_activation_kind *)m->impl = kind;
    return tg__module_finish(m);
}

/* ---- CELU and Hardtanh: activations with fixed settings ------------------------------- */

typedef struct settings_impl {
    double p[2]; /* alpha; min_val and max_val */
} settings_impl;

static tg_tensor *celu_forward(tg_module *m, tg_tensor *x) {
    return tg_celu(x, ((settings_impl *)m->impl)->p[0]);
}
static tg_tensor *hardtanh_forward(tg_module *m, tg_tensor *x) {
    const settings_impl *s = m->impl;
    return tg_hardtanh(x, s->p[0], s->p[1]);
}
static const tg__module_class celu_class = {"CELU", celu_forward};
static const tg__module_class hardtanh_class = {"Hardtanh", hardtanh_forward};

static tg_module *with_settings(const tg__module_class *cls, double p0, double p1) {
    tg_module *m = tg__module_new(cls, sizeof(settings_impl));
    if (!m) return NULL;
    *(settings_impl *)m->impl = (settings_impl){{p0, p1}};
    return tg__module_finish(m);
}

tg_module *tg_celu_new(double alpha) {
    if (alpha == 0) {
        tg__error(TG_ERR_VALUE, "CELU: ZeroDivisionError: alpha cannot be 0 for CELU");
        return NULL;
    }
    return with_settings(&celu_class, alpha, 0);
}

tg_module *tg_hardtanh_new(double min_val, double max_val) {
    if (!(max_val > min_val)) {
        tg__error(TG_ERR_VALUE, "Hardtanh: max_val (%g) must be greater than min_val (%g)", max_val,
                  min_val);
        return NULL;
    }
    return with_settings(&hardtanh_class, min_val, max_val);
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
