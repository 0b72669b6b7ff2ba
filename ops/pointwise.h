/* ops/pointwise.h - the one description of a pointwise op, and the steps
 * every pointwise op takes.
 *
 * A pointwise op is a tg__pointwise: its node (name, backward, the local
 * derivative in words), its name in messages, its forward row kernels and,
 * where the backward is one kernel too, its backward row kernels (both
 * made with TG_ROWS*, core/internal/kernel.h), and what its backward
 * reads. tg__pointwise_forward runs any of them; the two backwards below
 * serve every op whose backward is one kernel. Adding an activation is
 * its two formulas, one tg__pointwise and a one-line public function. */
#ifndef TAPEGRAD_POINTWISE_H
#define TAPEGRAD_POINTWISE_H

#include "ops_internal.h"

/* What the backward reads, saved by tg__pointwise_forward. */
typedef enum tg__pointwise_saves {
    TG__SAVES_NOTHING, /* add, sub, neg: the gradient alone */
    TG__SAVES_INPUTS,  /* every input, in order */
    TG__SAVES_LAST,    /* the last input only (where: its condition) */
    TG__SAVES_OUTPUT,  /* y, where the derivative reads more simply from it */
    TG__SAVES_OTHER,   /* of two inputs, each one only when the other's
                          gradient is wanted (mul: d(ab)/da = b) */
    TG__SAVES_NUMBER,  /* the parameter, standing for the tensor PyTorch
                          saves: x * 2 and x / 2, whose backward reads the
                          number it wraps in a tensor (tg__saves.number) */
} tg__pointwise_saves;

typedef struct tg__pointwise {
    tg__op_def def;             /* first: a node's def leads back to its op (TG__OP_OF) */
    const char *name;           /* in messages: "silu" */
    const tg__row_fn *forward;  /* by dtype; NULL for a dtype the op refuses */
    const tg__row_fn *backward; /* by dtype, for the backwards below; NULL otherwise */
    tg__pointwise_saves saves;
} tg__pointwise;

/* A one-input op whose backward is one kernel (tg__pointwise_unary_backward). */
#define TG__UNARY_OP(node_name, local, op_name, forward, backward, saves)                       \
    {                                                                                           \
        {(node_name), tg__pointwise_unary_backward, (local)}, (op_name), (forward), (backward), \
            (saves)                                                                             \
    }

/* The state of a pointwise node: the parameters of its forward, which the
 * backward kernels read as p[] (slope, alpha, exponent, bounds...). */
typedef struct tg__pointwise_state {
    double p[4];
} tg__pointwise_state;

/* y = op(in[0], ..., in[n_in - 1]), the inputs broadcast together (at most
 * three, checked non-NULL and of one dtype by the caller; shapes, and that
 * the op takes the dtype, are checked here), params (or NULL) the
 * forward's p[]. The result, of in[0]'s dtype, is pooled. */
tg_tensor *tg__pointwise_forward(const tg__pointwise *op, int n_in, tg_tensor *const *in,
                                 const double *params);
/* The same for one input, checked here: unary ops and activations. */
tg_tensor *tg__pointwise_unary(const tg__pointwise *op, tg_tensor *x, double p0, double p1);

/* Backward of a one-input op: dx = backward(g, v), v the saved x or y, or
 * dx = backward(g) for an op that saves no tensor. */
int tg__pointwise_unary_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs);
/* The gradient of a node's input i that one kernel writes: kernel (by
 * dtype) over in[0..n_in-1] (the gradient g first, then what the formula
 * reads) into a new tensor of g's shape, summed back over the dims
 * broadcasting stretched (tg__sum_to); NULL when out of memory. The
 * composed ops it replaces (tg_mul(g, b)) would run the same kernel on
 * the same operands, behind their checks, headers and nodes. */
tg_tensor *tg__pointwise_gradient(const tg__node *node, int i, const tg__row_fn *kernel, int n_in,
                                  tg_tensor *const *in);
/* Backward of a two-input op whose inputs have one shape (the gated
 * activations): one TG_ROWS_PAIR kernel over g and what the node saved
 * (a, b, and any value the forward kept for it) writes both gradients. */
int tg__pointwise_pair_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs);

/* Two new pooled tensors of one shape, the second right after the first in
 * one buffer, for a TG_ROWS_PAIR kernel; false when out of memory. */
bool tg__new_pair(const char *op, int ndim, const int64_t *shape, tg_dtype dtype, tg_tensor **first,
                  tg_tensor **second);
/* Runs a TG_ROWS_PAIR kernel over first's shape, its n_in inputs (three,
 * or four for TG_ROWS_PAIR_SAVED_NEAR) broadcast to it: first and second
 * (from tg__new_pair) get its two outputs. */
void tg__run_pair(const tg__row_fn *kernel, tg_tensor *first, tg_tensor *second, int n_in,
                  const tg_tensor *const *in, const double *params);

/* g times a pair of partial derivatives, for TG_ROWS_PAIR backward formulas. */
static TG_ALWAYS_INLINE tg__pair tg__pair_times(double g, tg__pair d) {
    return TG_PAIR(g * d.first, g * d.second);
}

#endif
