/* web/expr.h - the page's little language: a program of statements
 *
 *     x = ones(2, 2); y = x + 2; z = y * y * 3; out = mean(z)
 *
 * separated by ';' or newlines, each `name = expression` or an expression,
 * evaluated by the library's ops (so a shape error is the library's
 * message). A statement whose value is a new float tensor made of constants
 * (ones(2, 2), [[1, 2], [3, 4]], randn(3)) defines an input: it requires
 * grad. Every tensor an op makes is named after its source text ("y * y"),
 * or the statement's name, so that backward's trace reads as the program.
 * The last statement is the program's output. */
#ifndef TAPEGRAD_WEB_EXPR_H
#define TAPEGRAD_WEB_EXPR_H

#include <tapegrad/tapegrad.h>

enum { EXPR_MAX_TENSORS = 256, EXPR_MAX_INPUTS = 16, EXPR_NAME_MAX = 64 };

/* An element of one input moved by delta after the input is made, for
 * finite differences. */
typedef struct expr_nudge {
    int input, element; /* input -1: none */
    double delta;
} expr_nudge;

typedef struct expr_run {
    /* Set by the caller: */
    tg_dtype dtype; /* of inputs and constants: TG_F32, or TG_F64 for checks */
    expr_nudge nudge;
    /* Set by expr_eval. Tensors are borrowed from the caller's pool. */
    tg_tensor *output;
    tg_tensor *inputs[EXPR_MAX_INPUTS];
    int n_inputs;
    tg_tensor *tensors[EXPR_MAX_TENSORS]; /* every tensor named, in order made */
    int n_tensors;
    char error[512];
} expr_run;

/* Evaluates src. New tensors go to the innermost pool, which the caller
 * pushes and pops. Returns 0, or -1 with run->error set (the library's
 * message for the ops' errors, "column N: ..." for the program's). */
int expr_eval(expr_run *run, const char *src);

#endif
