/* nn/norm.c - torch.nn.LayerNorm and LLaMA's RMSNorm, modules of the public
 * API (tapegrad/nn.h): each keeps its settings and parameters, and its
 * forward is one call of the op (tapegrad/norm.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/tensor.h"
#include "tapegrad/nn.h"
#include "tapegrad/norm.h"

typedef struct norm_state {
    int ndim;                   /* normalized dims */
    int64_t shape[TG_MAX_DIMS]; /* normalized shape */
    double eps;
    tg_dtype dtype;
    tg_tensor *weight, *bias; /* the module's parameters (borrowed), or NULL */
} norm_state;

static tg_tensor *layer_norm_forward(tg_module *m, tg_tensor *x) {
    const norm_state *s = tg_module_state(m);
    return tg_layer_norm(x, s->ndim, s->shape, s->weight, s->bias, s->eps);
}

static tg_tensor *rms_norm_forward(tg_module *m, tg_tensor *x) {
    const norm_state *s = tg_module_state(m);
    return tg_rms_norm(x, s->weight, s->eps);
}

/* As PyTorch's: "(4,), eps=1e-05, elementwise_affine=True". */
static int layer_norm_extra_repr(const tg_module *m, char *buf, size_t size) {
    const norm_state *s = tg_module_state(m);
    char shape[TG_SHAPE_STR_MAX], eps[64];
    tg__python_float(eps, sizeof eps, s->eps);
    return snprintf(buf, size, "%s, eps=%s, elementwise_affine=%s",
                    tg__shape_str(shape, sizeof shape, s->ndim, s->shape), eps,
                    s->weight ? "True" : "False");
}

static int layer_norm_describe(const tg_module *m, tg_module_args *a) {
    const norm_state *s = tg_module_state(m);
    return tg_module_arg_ints(a, "normalized_shape", s->ndim, s->shape) ||
                   tg_module_arg_double(a, "eps", s->eps) ||
                   tg_module_arg_bool(a, "elementwise_affine", s->weight != NULL) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(s->dtype))
               ? -1
               : 0;
}

static int rms_norm_describe(const tg_module *m, tg_module_args *a) {
    const norm_state *s = tg_module_state(m);
    return tg_module_arg_int(a, "dim", s->shape[0]) || tg_module_arg_double(a, "eps", s->eps) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(s->dtype))
               ? -1
               : 0;
}

static const tg_module_class layer_norm_class = {.name = "LayerNorm",
                                                 .forward = layer_norm_forward,
                                                 .extra_repr = layer_norm_extra_repr,
                                                 .state_size = sizeof(norm_state),
                                                 .describe = layer_norm_describe};
/* LLaMA's RMSNorm prints as "RMSNorm()": it has no extra_repr. */
static const tg_module_class rms_norm_class = {.name = "RMSNorm",
                                               .forward = rms_norm_forward,
                                               .state_size = sizeof(norm_state),
                                               .describe = rms_norm_describe};

/* A norm module of cls over (ndim, shape), with its parameters: "weight"
 * (ones) and, for LayerNorm, "bias" (zeros), or none without affine. */
static tg_module *norm_new(const tg_module_class *cls, int ndim, const int64_t *shape, bool affine,
                           bool bias, double eps, tg_dtype dtype) {
    const char *name = cls->name;
    if (ndim < 1 || ndim > TG_MAX_DIMS) {
        tg__error(TG_ERR_VALUE, "%s: normalized_ndim is %d, must be in 1 .. %d", name, ndim,
                  TG_MAX_DIMS);
        return NULL;
    }
    if (!shape) {
        tg__null_arg(name);
        return NULL;
    }
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0) {
            char buf[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_VALUE, "%s: normalized_shape %s has a negative dim", name,
                      tg__shape_str(buf, sizeof buf, ndim, shape));
            return NULL;
        }
    if (!(eps > 0 && eps < INFINITY)) {
        tg__error(TG_ERR_VALUE, "%s: eps must be positive and finite, got %g", name, eps);
        return NULL;
    }
    if (!tg__check_dtype(name, dtype)) return NULL;
    if (!tg_dtype_is_float(dtype)) {
        tg__error(TG_ERR_DTYPE, "%s: expected a floating-point dtype, got %s", name,
                  tg_dtype_name(dtype));
        return NULL;
    }
    norm_state st = {.ndim = ndim, .eps = eps, .dtype = dtype};
    memcpy(st.shape, shape, sizeof *shape * (size_t)ndim);
    tg_module *m = tg_module_new(cls, &st);
    norm_state *s = tg_module_state(m); /* NULL when m is */
    bool ok = s != NULL;
    if (ok && affine) /* the weight is ones, the bias stays zeros */
        ok = (s->weight = tg_module_new_parameter(m, "weight", ndim, shape, dtype)) &&
             tg_init_constant_(s->weight, 1) == 0 &&
             (!bias || (s->bias = tg_module_new_parameter(m, "bias", ndim, shape, dtype)));
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}

tg_module *tg_layer_norm_new(int normalized_ndim, const int64_t *normalized_shape,
                             tg_affine elementwise_affine, double eps, tg_dtype dtype) {
    return norm_new(&layer_norm_class, normalized_ndim, normalized_shape,
                    elementwise_affine != TG_NO_AFFINE, true, eps, dtype);
}

tg_module *tg_rms_norm_new(int64_t dim, double eps, tg_dtype dtype) {
    if (dim < 0) {
        tg__error(TG_ERR_VALUE, "RMSNorm: dim must not be negative, got %lld", (long long)dim);
        return NULL;
    }
    return norm_new(&rms_norm_class, 1, &dim, true, false, eps, dtype);
}
