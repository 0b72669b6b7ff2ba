/* nn/layers.c - Dropout and the activations as modules of the public API
 * (tapegrad/nn.h). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/kernel.h"
#include "tapegrad/activation.h"
#include "tapegrad/dropout.h"
#include "tapegrad/nn.h"

/* ---- Dropout --------------------------------------------------------------------- */

typedef struct dropout_state {
    double p;
    tg_generator *gen; /* borrowed */
} dropout_state;

static tg_tensor *dropout_forward(tg_module *m, tg_tensor *x) {
    const dropout_state *d = tg_module_state(m);
    return tg_dropout(x, d->p, tg_module_is_training(m) ? TG_TRAIN : TG_EVAL, d->gen);
}

static int dropout_extra_repr(const tg_module *m, char *buf, size_t size) {
    char p[64];
    tg__python_float(p, sizeof p, ((const dropout_state *)tg_module_state(m))->p);
    return snprintf(buf, size, "p=%s, inplace=False", p);
}

static int dropout_describe(const tg_module *m, tg_module_args *a) {
    return tg_module_arg_double(a, "p", ((const dropout_state *)tg_module_state(m))->p);
}

static const tg_module_class dropout_class = {.name = "Dropout",
                                              .forward = dropout_forward,
                                              .extra_repr = dropout_extra_repr,
                                              .state_size = sizeof(dropout_state),
                                              .describe = dropout_describe};

tg_module *tg_dropout_new(double p, tg_generator *gen) {
    if (!(p >= 0 && p <= 1)) {
        tg__error(TG_ERR_VALUE, "Dropout: p must lie in [0, 1], not %g", p);
        return NULL;
    }
    return tg_module_new(&dropout_class, &(dropout_state){p, gen});
}

/* ---- Activations without parameters ---------------------------------------------- */

static tg_tensor *activation_forward(tg_module *m, tg_tensor *x) {
    switch (*(const tg_activation_kind *)tg_module_state(m)) {
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

/* GELU(approximate='none'): the other activations print no settings. */
static int gelu_extra_repr(const tg_module *m, char *buf, size_t size) {
    bool tanh = *(const tg_activation_kind *)tg_module_state(m) == TG_ACT_GELU_TANH;
    return snprintf(buf, size, "approximate='%s'", tanh ? "tanh" : "none");
}

static int gelu_describe(const tg_module *m, tg_module_args *a) {
    bool tanh = *(const tg_activation_kind *)tg_module_state(m) == TG_ACT_GELU_TANH;
    return tg_module_arg_string(a, "approximate", tanh ? "tanh" : "none");
}

/* The other activations take no arguments. */
static int no_arguments(const tg_module *m, tg_module_args *a) {
    (void)m, (void)a;
    return 0;
}

#define ACTIVATION(kind_name, extra, describe_hook)                            \
    {                                                                          \
        .name = kind_name, .forward = activation_forward, .extra_repr = extra, \
        .state_size = sizeof(tg_activation_kind), .describe = describe_hook    \
    }
static const tg_module_class activation_classes[] = {
    [TG_ACT_RELU] = ACTIVATION("ReLU", NULL, no_arguments),
    [TG_ACT_GELU] = ACTIVATION("GELU", gelu_extra_repr, gelu_describe),
    [TG_ACT_GELU_TANH] = ACTIVATION("GELU", gelu_extra_repr, gelu_describe),
    [TG_ACT_SILU] = ACTIVATION("SiLU", NULL, no_arguments),
    [TG_ACT_SIGMOID] = ACTIVATION("Sigmoid", NULL, no_arguments),
    [TG_ACT_TANH] = ACTIVATION("Tanh", NULL, no_arguments),
    [TG_ACT_SELU] = ACTIVATION("SELU", NULL, no_arguments),
    [TG_ACT_RELU6] = ACTIVATION("ReLU6", NULL, no_arguments),
    [TG_ACT_HARDSIGMOID] = ACTIVATION("Hardsigmoid", NULL, no_arguments),
    [TG_ACT_HARDSWISH] = ACTIVATION("Hardswish", NULL, no_arguments),
    [TG_ACT_MISH] = ACTIVATION("Mish", NULL, no_arguments),
    [TG_ACT_LOGSIGMOID] = ACTIVATION("LogSigmoid", NULL, no_arguments),
    [TG_ACT_SOFTSIGN] = ACTIVATION("Softsign", NULL, no_arguments),
    [TG_ACT_TANHSHRINK] = ACTIVATION("Tanhshrink", NULL, no_arguments),
};

tg_module *tg_activation_new(tg_activation_kind kind) {
    if ((unsigned)kind > TG_ACT_TANHSHRINK) {
        tg__error(TG_ERR_VALUE, "activation_new: unknown activation %d", (int)kind);
        return NULL;
    }
    return tg_module_new(&activation_classes[kind], &kind);
}

/* ---- CELU and Hardtanh: activations with fixed settings ------------------------------- */

typedef struct settings_state {
    double p[2]; /* alpha; min_val and max_val */
} settings_state;

static tg_tensor *celu_forward(tg_module *m, tg_tensor *x) {
    return tg_celu(x, ((const settings_state *)tg_module_state(m))->p[0]);
}
static tg_tensor *hardtanh_forward(tg_module *m, tg_tensor *x) {
    const settings_state *s = tg_module_state(m);
    return tg_hardtanh(x, s->p[0], s->p[1]);
}

/* As PyTorch prints them: "alpha=1.0", "min_val=-1.0, max_val=1.0". */
static int celu_extra_repr(const tg_module *m, char *buf, size_t size) {
    char alpha[64];
    tg__python_float(alpha, sizeof alpha, ((const settings_state *)tg_module_state(m))->p[0]);
    return snprintf(buf, size, "alpha=%s", alpha);
}
static int hardtanh_extra_repr(const tg_module *m, char *buf, size_t size) {
    const settings_state *s = tg_module_state(m);
    char lo[64], hi[64];
    tg__python_float(lo, sizeof lo, s->p[0]);
    tg__python_float(hi, sizeof hi, s->p[1]);
    return snprintf(buf, size, "min_val=%s, max_val=%s", lo, hi);
}

static int celu_describe(const tg_module *m, tg_module_args *a) {
    return tg_module_arg_double(a, "alpha", ((const settings_state *)tg_module_state(m))->p[0]);
}
static int hardtanh_describe(const tg_module *m, tg_module_args *a) {
    const settings_state *s = tg_module_state(m);
    return tg_module_arg_double(a, "min_val", s->p[0]) ||
                   tg_module_arg_double(a, "max_val", s->p[1])
               ? -1
               : 0;
}

static const tg_module_class celu_class = {.name = "CELU",
                                           .forward = celu_forward,
                                           .extra_repr = celu_extra_repr,
                                           .state_size = sizeof(settings_state),
                                           .describe = celu_describe};
static const tg_module_class hardtanh_class = {.name = "Hardtanh",
                                               .forward = hardtanh_forward,
                                               .extra_repr = hardtanh_extra_repr,
                                               .state_size = sizeof(settings_state),
                                               .describe = hardtanh_describe};

static tg_module *with_settings(const tg_module_class *cls, double p0, double p1) {
    return tg_module_new(cls, &(settings_state){{p0, p1}});
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

typedef struct parameter_state {
    tg_tensor *weight; /* the module's one parameter (borrowed) */
    double init;       /* the value it started at */
} parameter_state;

static tg_tensor *prelu_forward(tg_module *m, tg_tensor *x) {
    return tg_prelu(x, ((const parameter_state *)tg_module_state(m))->weight);
}

static int prelu_extra_repr(const tg_module *m, char *buf, size_t size) {
    const parameter_state *s = tg_module_state(m);
    return snprintf(buf, size, "num_parameters=%lld", (long long)tg_numel(s->weight));
}

/* init must be finite to be described (JSON has no nan or inf). */
static int parameter_describe(const tg_module *m, tg_module_args *a, const char *count,
                              const char *init) {
    const parameter_state *s = tg_module_state(m);
    return (count && tg_module_arg_int(a, count, tg_numel(s->weight))) ||
                   tg_module_arg_double(a, init, s->init) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(tg_dtype_of(s->weight)))
               ? -1
               : 0;
}

static int prelu_describe(const tg_module *m, tg_module_args *a) {
    return parameter_describe(m, a, "num_parameters", "init");
}

static const tg_module_class prelu_class = {.name = "PReLU",
                                            .forward = prelu_forward,
                                            .extra_repr = prelu_extra_repr,
                                            .state_size = sizeof(parameter_state),
                                            .describe = prelu_describe};

/* A module whose one parameter `name` of n elements starts at value. */
static tg_module *with_parameter(const tg_module_class *cls, const char *name, int64_t n,
                                 double value, tg_dtype dtype) {
    tg_module *m = tg_module_new(cls, &(parameter_state){.init = value});
    parameter_state *s = tg_module_state(m);
    if (!s || !(s->weight = tg_module_new_parameter(m, name, TG_SHAPE(n), dtype)) ||
        tg_init_constant_(s->weight, value) != 0) {
        tg_module_free(m);
        return NULL;
    }
    return m;
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
    return tg_swish(x, ((const parameter_state *)tg_module_state(m))->weight);
}

static int swish_describe(const tg_module *m, tg_module_args *a) {
    return parameter_describe(m, a, NULL, "beta_init");
}

static const tg_module_class swish_class = {.name = "Swish",
                                            .forward = swish_forward,
                                            .state_size = sizeof(parameter_state),
                                            .describe = swish_describe};

tg_module *tg_swish_new(double beta_init, tg_dtype dtype) {
    return with_parameter(&swish_class, "beta", 1, beta_init, dtype);
}
