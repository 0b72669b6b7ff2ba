/* core/gradcheck.c - backward's gradients against central differences. */
#include <math.h>
#include <stdlib.h>

#include "internal/tensor.h"
#include "tapegrad/autograd.h"

static bool near_kink(double v, const tg_gradcheck_options *o) {
    for (int k = 0; k < o->n_kinks; k++)
        if (fabs(v - o->kinks[k]) < 10 * o->eps) return true;
    return false;
}

/* out's elements, row-major, as doubles (n of them), or NULL. */
static double *values_of(tg_tensor *out, int64_t n) {
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        tg__error(TG_ERR_NOMEM, "gradcheck: out of memory");
        return NULL;
    }
    tg_to_doubles(out, v);
    return v;
}

/* Numerical column: d out / d inputs[i][k] by central differences. */
static bool numerical(tg_gradcheck_fn fn, void *ctx, tg_tensor *const *inputs, tg_tensor *in,
                      int64_t k, double eps, int64_t n_out, double *column) {
    double *x = (double *)in->storage->data;
    int64_t off = in->offset, idx = k;
    for (int d = in->ndim - 1; d >= 0; d--) { /* row-major index to storage offset */
        off += (idx % in->shape[d]) * in->strides[d];
        idx /= in->shape[d];
    }
    double saved = x[off];
    double *plus = NULL, *minus = NULL;
    tg_pool *pool = tg_pool_push();
    x[off] = saved + eps;
    tg_tensor *o = fn(inputs, ctx);
    if (o) plus = values_of(o, n_out);
    x[off] = saved - eps;
    o = plus ? fn(inputs, ctx) : NULL;
    if (o) minus = values_of(o, n_out);
    x[off] = saved;
    tg_pool_pop(pool);
    if (plus && minus)
        for (int64_t j = 0; j < n_out; j++) column[j] = (plus[j] - minus[j]) / (2 * eps);
    bool ok = plus && minus;
    free(plus);
    free(minus);
    return ok;
}

/* Compares the analytical column of input i (analytic[j * n_in + k]) with
 * finite differences, element by element. */
static bool compare_input(tg_gradcheck_fn fn, void *ctx, tg_tensor *const *inputs, int i,
                          const tg_gradcheck_options *o, int64_t n_out, int64_t n_in,
                          const double *analytic, double *column) {
    tg_tensor *in = inputs[i];
    double *xs = values_of(in, in->numel);
    bool ok = xs != NULL;
    for (int64_t k = 0; ok && k < in->numel; k++) {
        if (near_kink(xs[k], o)) continue;
        ok = numerical(fn, ctx, inputs, in, k, o->eps, n_out, column);
        for (int64_t j = 0; ok && j < n_out; j++) {
            double a = analytic[j * n_in + k], num = column[j];
            if (!(fabs(a - num) <= o->atol + o->rtol * fabs(num))) {
                tg__error(TG_ERR_VALUE,
                          "gradcheck: d out[%lld] / d input %d [%lld]: backward gives %.10g, "
                          "finite differences %.10g",
                          (long long)j, i, (long long)k, a, num);
                ok = false;
            }
        }
    }
    free(xs);
    return ok;
}

int tg_gradcheck(tg_gradcheck_fn fn, void *ctx, int n_inputs, tg_tensor *const *inputs,
                 const tg_gradcheck_options *opts) {
    tg_gradcheck_options o = opts ? *opts : (tg_gradcheck_options){0};
    if (o.eps == 0) o.eps = 1e-6;
    if (o.atol == 0) o.atol = 1e-5;
    if (o.rtol == 0) o.rtol = 1e-3;
    if (n_inputs <= 0) {
        tg__error(TG_ERR_VALUE, "gradcheck: %d inputs (want at least 1)", n_inputs);
        return -1;
    }
    if (!fn || !inputs) {
        tg__null_arg("gradcheck");
        return -1;
    }
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i]) {
            tg__null_arg("gradcheck");
            return -1;
        }
        if (inputs[i]->dtype != TG_F64 || !inputs[i]->requires_grad) {
            tg__error(TG_ERR_DTYPE, "gradcheck: input %d must be float64 and require grad", i);
            return -1;
        }
    }
    tg_pool *pool = tg_pool_push();
    if (!pool) return -1;
    int rc = -1;
    double *column = NULL, *analytic = NULL;
    tg_tensor *out = fn(inputs, ctx);
    tg_tensor *seed = out ? tg_zeros(out->ndim, out->shape, TG_F64) : NULL;
    if (!seed) goto done;
    if (!out->requires_grad) {
        tg__error(TG_ERR_GRAPH, "gradcheck: the output does not require grad");
        goto done;
    }
    int64_t n_out = out->numel;
    column = malloc((size_t)(n_out ? n_out : 1) * sizeof *column);
    if (!column) {
        tg__error(TG_ERR_NOMEM, "gradcheck: out of memory");
        goto done;
    }
    /* Analytical Jacobian, one output element (one backward) at a time:
     * analytic[j] holds row j's entries for every input element. */
    int64_t n_in = 0, cells;
    bool too_many = false;
    for (int i = 0; i < n_inputs; i++)
        too_many = __builtin_add_overflow(n_in, inputs[i]->numel, &n_in) || too_many;
    too_many = __builtin_mul_overflow(n_out, n_in, &cells) || too_many;
    analytic = too_many ? NULL : calloc((size_t)(cells > 0 ? cells : 1), sizeof *analytic);
    if (!analytic) {
        tg__error(TG_ERR_NOMEM, "gradcheck: out of memory");
        goto done;
    }
    double *seed_data = (double *)tg__ptr(seed);
    for (int64_t j = 0; j < n_out; j++) {
        for (int i = 0; i < n_inputs; i++) tg_clear_grad(inputs[i]);
        seed_data[j] = 1;
        if (tg_backward_ex(out, seed, TG_RETAIN_GRAPH) != 0) goto done;
        seed_data[j] = 0;
        int64_t base = 0;
        for (int i = 0; i < n_inputs; i++) {
            tg_tensor *g = tg__grad_values(inputs[i]);
            if (g) tg_to_doubles(g, analytic + j * n_in + base);
            base += inputs[i]->numel;
        }
    }
    for (int i = 0; i < n_inputs; i++) tg_clear_grad(inputs[i]);
    bool previous = tg_set_grad_enabled(false);
    bool ok = true;
    int64_t base = 0;
    for (int i = 0; ok && i < n_inputs; base += inputs[i]->numel, i++)
        ok = compare_input(fn, ctx, inputs, i, &o, n_out, n_in, analytic + base, column);
    tg_set_grad_enabled(previous);
    rc = ok ? 0 : -1;
done:
    free(column);
    free(analytic);
    tg_pool_pop(pool);
    return rc;
}
