/* ops/pointwise.c - the steps every pointwise op takes: check and broadcast
 * the inputs, run the forward kernel, finish with what the backward reads;
 * and the two backwards that are one kernel. */
#include <string.h>

#include "pointwise.h"

/* Whether op takes x's dtype; false with a message when not. Ops of
 * calculus take floats only and say so as every such op does. */
static bool takes_dtype(const tg__pointwise *op, const tg_tensor *x) {
    if (op->forward[x->dtype]) return true;
    if (!op->forward[TG_I64] && !op->forward[TG_BOOL]) return tg__check_float(op->name, x);
    tg__error(TG_ERR_DTYPE, "%s: not implemented for %s tensors (convert with tg_to_dtype)",
              op->name, tg_dtype_name(x->dtype));
    return false;
}

tg_tensor *tg__pointwise_forward(const tg__pointwise *op, int n_in, tg_tensor *const *in,
                                 const double *params) {
    if (!takes_dtype(op, in[0])) return NULL;
    int ndim = in[0]->ndim;
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, in[0]->shape, sizeof shape);
    for (int i = 1; i < n_in; i++) {
        int64_t so_far[TG_MAX_DIMS];
        memcpy(so_far, shape, sizeof so_far);
        if (!tg__broadcast_shapes(op->name, ndim, so_far, in[i]->ndim, in[i]->shape, &ndim, shape))
            return NULL;
    }
    tg_tensor *out = tg__new_owned(op->name, ndim, shape, in[0]->dtype); /* the first's */
    if (!out) return NULL;
    tg__pointwise_state st = {{0}};
    if (params) memcpy(st.p, params, sizeof st.p);
    tg__map(out, n_in, (const tg_tensor *const *)in, op->forward[out->dtype],
            &(tg__row_ctx){.p = {st.p[0], st.p[1], st.p[2], st.p[3]}});
    tg__saves saves = {0, NULL, &st, params ? sizeof st : 0, false};
    switch (op->saves) {
    case TG__SAVES_NOTHING: break;
    case TG__SAVES_NUMBER: saves.number = true; break;
    case TG__SAVES_INPUTS: saves.n_tensors = n_in, saves.tensors = in; break;
    case TG__SAVES_LAST: saves.n_tensors = 1, saves.tensors = in + n_in - 1; break;
    case TG__SAVES_OUTPUT: saves.n_tensors = 1, saves.tensors = &out; break;
    case TG__SAVES_OTHER: {
        tg_tensor *a = in[0], *b = n_in == 2 ? in[1] : NULL;
        return tg__finish(
            out, &op->def, n_in, in,
            TG__SAVE_STATE(&st, tg__needs_grad(b) ? a : NULL, tg__needs_grad(a) ? b : NULL));
    }
    }
    return tg__finish(out, &op->def, n_in, in, saves);
}

tg_tensor *tg__pointwise_unary(const tg__pointwise *op, tg_tensor *x, double p0, double p1) {
    if (!x) {
        tg__null_arg(op->name);
        return NULL;
    }
    return tg__pointwise_forward(op, 1, &x, (const double[4]){p0, p1});
}

int tg__pointwise_unary_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)needs;
    const tg__pointwise *op = TG__OP_OF(node, tg__pointwise);
    const tg__pointwise_state *st = TG__NODE_STATE(node, tg__pointwise_state);
    /* x, or y when the op saves its output; the kernel reads g alone when
     * it saves no tensor (the scalar forms of arithmetic: g * s) */
    int n_in = op->saves == TG__SAVES_NOTHING || op->saves == TG__SAVES_NUMBER ? 1 : 2;
    if (!(gi[0] = tg__new(op->name, node->in_ndim[0], node->in_shape[0], g->dtype))) return -1;
    tg__map(gi[0], n_in, (const tg_tensor *[]){g, node->saved[0]}, op->backward[g->dtype],
            &(tg__row_ctx){.p = {st->p[0], st->p[1], st->p[2], st->p[3]}});
    return 0;
}

tg_tensor *tg__pointwise_gradient(const tg__node *node, int i, const tg__row_fn *kernel, int n_in,
                                  tg_tensor *const *in) {
    const tg_tensor *g = in[0];
    tg_tensor *full = tg__new(node->def->name, g->ndim, g->shape, g->dtype);
    if (!full) return NULL;
    tg__map(full, n_in, (const tg_tensor *const *)in, kernel[g->dtype], NULL);
    return tg__sum_to(full, node->in_ndim[i], node->in_shape[i]);
}

int tg__pointwise_pair_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    const tg__pointwise *op = TG__OP_OF(node, tg__pointwise);
    tg_tensor *a = node->saved[0], *da, *db;
    const tg_tensor *in[TG_ITER_MAX_OPERANDS - 1] = {g};
    for (int i = 0; i < node->n_saved; i++) in[i + 1] = node->saved[i];
    if (!tg__new_pair(op->name, a->ndim, a->shape, a->dtype, &da, &db)) return -1;
    tg__run_pair(op->backward, da, db, 1 + node->n_saved, in,
                 TG__NODE_STATE(node, tg__pointwise_state)->p);
    if (needs[0]) gi[0] = da;
    if (needs[1]) gi[1] = db;
    return 0;
}

bool tg__new_pair(const char *op, int ndim, const int64_t *shape, tg_dtype dtype, tg_tensor **first,
                  tg_tensor **second) {
    int64_t numel = 1, strides[TG_MAX_DIMS];
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    tg__contiguous_strides(ndim, shape, strides);
    tg_tensor *buf = tg__new(op, 1, (int64_t[]){2 * numel}, dtype);
    if (!buf) return false;
    *first = tg__autorelease(tg__view_owned(op, buf, ndim, shape, strides, 0));
    *second = tg__autorelease(tg__view_owned(op, buf, ndim, shape, strides, numel));
    return *first && *second;
}

void tg__run_pair(const tg__row_fn *kernel, tg_tensor *first, tg_tensor *second, int n_in,
                  const tg_tensor *const *in, const double *params) {
    tg__row_ctx ctx = {.second = second->offset - first->offset};
    if (params) memcpy(ctx.p, params, sizeof ctx.p);
    tg__map(first, n_in, in, kernel[first->dtype], &ctx);
}
