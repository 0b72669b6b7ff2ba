/* nn/init.c - parameter initialisation as torch.nn.init does it, drawing
 * from the same generator stream as torch's uniform_ so that a seeded model
 * starts from PyTorch's weights. */
#include <math.h>

#include "internal/kernel.h"
#include "tapegrad/nn.h"
#include "tapegrad/shape.h"

/* Fills a contiguous tensor in row-major order; false on failure. */
typedef bool (*fill_fn)(tg_tensor *dst, void *ctx);

/* Runs fill on t, through a contiguous buffer when t is strided, and bumps
 * the version counter, as any in-place write does. */
static int fill_in_place(const char *op, tg_tensor *t, fill_fn fill, void *ctx) {
    if (!tg__check_float(op, t)) return -1; /* initialisers are for parameters */
    if (!tg__check_writable(op, t)) return -1;
    bool ok;
    if (tg_is_contiguous(t)) {
        ok = fill(t, ctx);
    } else {
        tg_tensor *tmp = tg__new_owned(op, t->ndim, t->shape, t->dtype);
        ok = tmp && fill(tmp, ctx);
        if (ok) tg__copy_into(t, tmp);
        tg_release(tmp);
    }
    t->storage->version++;
    return ok ? 0 : -1;
}

typedef struct uniform_ctx {
    double low, high;
    tg_generator *gen;
} uniform_ctx;

/* u * (high - low) + low in the tensor's precision, rounded once (PyTorch's
 * CPU kernel is compiled with FMA contraction). */
static bool fill_uniform(tg_tensor *t, void *ctx) {
    uniform_ctx *c = ctx;
    tg_generator *g = tg__generator(c->gen);
    if (t->dtype == TG_F32) {
        float low = (float)c->low, span = (float)c->high - low, *d = tg__ptr(t);
        for (int64_t i = 0; i < t->numel; i++)
            d[i] = fmaf((float)tg__uniform(g, TG_F32), span, low);
    } else {
        double *d = tg__ptr(t);
        for (int64_t i = 0; i < t->numel; i++)
            d[i] = fma(tg__uniform(g, TG_F64), c->high - c->low, c->low);
    }
    return true;
}

/* U(low, high), for op (which errors name). */
static int uniform_for(const char *op, tg_tensor *t, double low, double high, tg_generator *gen) {
    if (!(low <= high)) {
        tg__error(TG_ERR_VALUE, "%s: low %g is greater than high %g", op, low, high);
        return -1;
    }
    return fill_in_place(op, t, fill_uniform, &(uniform_ctx){low, high, gen});
}

int tg_init_uniform_(tg_tensor *t, double low, double high, tg_generator *gen) {
    return uniform_for("init_uniform_", t, low, high, gen);
}

typedef struct normal_ctx {
    double mean, std;
    tg_generator *gen;
} normal_ctx;

/* Standard normals drawn as tg_randn draws them, then z * std + mean. */
static bool fill_normal(tg_tensor *t, void *ctx) {
    normal_ctx *c = ctx;
    tg_pool *pool = tg_pool_push();
    /* Drawn in t's dtype, to use the generator's stream as PyTorch does. */
    tg_tensor *z = pool ? tg_to_dtype(tg_randn(t->ndim, t->shape, t->dtype, c->gen), TG_F64) : NULL;
    if (z) {
        const double *zd = tg__ptr(z);
        for (int64_t i = 0; i < t->numel; i++) {
            double v = zd[i] * c->std + c->mean;
            if (t->dtype == TG_F32)
                ((float *)tg__ptr(t))[i] = (float)v;
            else
                ((double *)tg__ptr(t))[i] = v;
        }
    }
    tg_pool_pop(pool);
    return z != NULL;
}

int tg_init_normal_(tg_tensor *t, double mean, double std, tg_generator *gen) {
    if (!(std >= 0)) {
        tg__error(TG_ERR_VALUE, "init_normal_: std %g is negative", std);
        return -1;
    }
    return fill_in_place("init_normal_", t, fill_normal, &(normal_ctx){mean, std, gen});
}

static bool fill_constant(tg_tensor *t, void *ctx) {
    tg__fill(t, *(double *)ctx);
    return true;
}

int tg_init_constant_(tg_tensor *t, double value) {
    return fill_in_place("init_constant_", t, fill_constant, &value);
}

int tg_init_zeros_(tg_tensor *t) { return tg_init_constant_(t, 0.0); }

/* fan_in = size(1) * receptive field, fan_out = size(0) * receptive field,
 * as torch.nn.init._calculate_fan_in_and_fan_out. */
static bool fans(const char *op, const tg_tensor *t, double *fan_in, double *fan_out) {
    if (!t) {
        tg__null_arg(op);
        return false;
    }
    if (t->ndim < 2) {
        tg__error(TG_ERR_SHAPE, "%s: fan in and fan out need at least 2 dims, not %d", op, t->ndim);
        return false;
    }
    double field = 1;
    for (int d = 2; d < t->ndim; d++) field *= (double)t->shape[d];
    *fan_in = (double)t->shape[1] * field;
    *fan_out = (double)t->shape[0] * field;
    return true;
}

int tg_init_xavier_uniform_(tg_tensor *t, double gain, tg_generator *gen) {
    double fan_in, fan_out;
    if (!fans("init_xavier_uniform_", t, &fan_in, &fan_out)) return -1;
    double bound = gain * sqrt(6.0 / (fan_in + fan_out));
    return uniform_for("init_xavier_uniform_", t, -bound, bound, gen);
}

int tg_init_kaiming_uniform_(tg_tensor *t, double a, tg_generator *gen) {
    double fan_in, fan_out;
    if (!fans("init_kaiming_uniform_", t, &fan_in, &fan_out)) return -1;
    /* Rounded in PyTorch's order: gain / sqrt(fan), then times sqrt(3). */
    double gain = sqrt(2.0 / (1 + a * a)), bound = sqrt(3.0) * (gain / sqrt(fan_in));
    return uniform_for("init_kaiming_uniform_", t, -bound, bound, gen);
}
