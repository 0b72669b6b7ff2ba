/* tests/op_table.h - the pointwise ops that the tests check, one row each in
 * tests/op_table.c: how to call the op, the node it records, its tolerance on
 * special values and where gradcheck draws its inputs. The parameters of its
 * cases come with the golden data, whose scripts read the same rows from
 * tests/golden/ops_table.py (the same names and kinds of input).
 *
 * A row drives every table-driven check of the op: its values against
 * PyTorch (tests/test_activation.c for the activations; golden_activation.h),
 * and, once per parameter set of golden_special.h, its special values,
 * gradcheck (contiguous, strided and broadcast inputs), node name, and more
 * (tests/test_special.c). */
#ifndef OP_TABLE_H
#define OP_TABLE_H

#include <tapegrad/tapegrad.h>

/* What an op takes besides its scalar parameters p. */
typedef enum op_inputs {
    OP_X,         /* op(x) */
    OP_HALVES,    /* op(x), splitting x into halves along dim p[0] (glu) */
    OP_ROWS,      /* op(x), along dim 1 of x (reductions, softmax) */
    OP_WEIGHT,    /* op(x, w): w one weight per channel (dim 1), or one in all */
    OP_BETA,      /* op(x, beta): beta one value */
    OP_PAIR,      /* op(x, y), x and y of one shape */
    OP_BROADCAST, /* op(x, y), broadcasting */
} op_inputs;

typedef struct op_row {
    const char *name; /* tg_<name>, and the op's name in the golden data */
    op_inputs inputs;
    /* The op on x and y (NULL for one input) with the parameters p. */
    tg_tensor *(*call)(tg_tensor *x, tg_tensor *y, const double *p);
    const char *node; /* the node it records, as PyTorch 1.13 names it */
    /* On special values, finite results may be this many units in the last
     * place from the golden ones (0: bit for bit), in float32 and in float64;
     * gradients within ulps of max(|value|, grad_scale) (tests/test_special.c). */
    int ulps[2];
    double grad_scale;
    double lo, hi; /* gradcheck draws its inputs uniformly from [lo, hi) */
} op_row;

/* A family of ops: its rows and how many. */
typedef struct op_table {
    const op_row *rows;
    int n;
} op_table;

/* The activations and the GLU family; the elementwise functions of one
 * tensor; the ops of two inputs (arithmetic, selection, losses, rows). */
extern const op_table op_activations, op_unary, op_binary;
/* The three, for the loops over every row. */
enum { OP_N_TABLES = 3 };
extern const op_table *const op_tables[OP_N_TABLES];

/* The row named name in any of the three, or NULL. */
const op_row *op_named(const char *name);

#endif
