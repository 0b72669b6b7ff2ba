/* nn/norm.c - torch.nn.LayerNorm and LLaMA's RMSNorm: each keeps its
 * settings and parameters, and its forward is one call of the op
 * (tapegrad/norm.h). */
#include <math.h>
#include <string.h>

#include "module_internal.h"
#include "tapegrad/norm.h"

typedef struct norm_impl {
    int ndim;                   /* normalized dims */
    int64_t shape[TG_MAX_DIMS]; /* normalized shape */
    double eps;
} norm_impl;

static tg_tensor *layer_norm_forward(tg_module *m, tg_tensor *x) {
    const norm_impl *n = m->impl;
    tg_tensor *w = m->n_own ? m->own[0].tensor : NULL, *b = m->n_own ? m->own[1].tensor : NULL;
    return tg_layer_norm(x, n->ndim, n->shape, w, b, n->eps);
}

static tg_tensor *rms_norm_forward(tg_module *m, tg_tensor *x) {
    return tg_rms_norm(x, m->own[0].tensor, ((const norm_impl *)m->impl)->eps);
}

static const tg__module_class layer_norm_class = {"LayerNorm", layer_norm_forward};
static const tg__module_class rms_norm_class = {"RMSNorm", rms_norm_forward};

/* A norm module of cls over (ndim, shape), with its parameters: "weight"
 * (ones) and, for LayerNorm, "bias" (zeros), or none without affine. */
static tg_module *norm_new(const tg__module_class *cls, int ndim, const int64_t *shape, bool affine,
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
    tg_module *m = tg__module_new(cls, sizeof(norm_impl));
    if (!m) return NULL;
    norm_impl *n = m->impl;
    n->ndim = ndim;
    memcpy(n->shape, shape, sizeof *shape * (size_t)ndim);
    n->eps = eps;
    tg_tensor *w = affine ? tg__module_param(m, "weight", ndim, shape, dtype) : NULL;
    tg_tensor *b = w && bias ? tg__module_param(m, "bias", ndim, shape, dtype) : NULL;
    if (affine && (!w || (bias && !b))) {
        tg_module_free(m);
        return NULL;
    }
    if (w) tg__fill(w, 1.0); /* the bias stays zeros */
    return tg__module_finish(m);
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
