/* ops/matmul.c - matmul and linear, each forward next to its backward.
 *
 * Every product here, forward or backward, ends in gemm(): C = op(A) op(B)
 * + beta C on strided matrices, beta 0 for a new result (never filled with
 * zeros first) and 1 to add into one, such as a leaf's .grad. gemm() hands
 * it to the build's backend (tg__matmul_gemm in ops_internal.h): BLIS, or
 * tapegrad's own product (ops/gemm.c) where BLIS would run its slow
 * reference kernel or where the build has no BLIS (-Dblas=none). Both take
 * a row and a column stride for each operand, so a transposed view (or
 * PyTorch's (out, in) weight, used as W^T) is read where it lies:
 * transposing is swapping two strides. A tensor is copied only when its
 * layout is one BLIS does not accept (an expanded tensor, whose rows repeat
 * in memory); the build without BLIS keeps the same rule, so both builds
 * compute from the same layouts. */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "tapegrad/linalg.h"

/* Whether a product reads an operand as it is or transposed. */
typedef enum trans_t { NO_TRANS, TRANS } trans_t;

/* ---- One matrix, as the products read it ----------------------------------------------- */

/* rows x cols elements; element (i, j) at p + (i * rs + j * cs) elements. */
typedef struct mat {
    char *p;
    int64_t rows, cols, rs, cs;
} mat;

/* A dim of size 1 is never stepped along, so its stride is free: pick one
 * that BLIS's layout rules accept whatever the tensor happened to store. */
static mat unit_strides_fixed(mat m) {
    if (m.rows == 1 && m.cols == 1)
        m.rs = m.cs = 1;
    else if (m.rows == 1)
        m.rs = m.cols * m.cs;
    else if (m.cols == 1)
        m.cs = m.rows * m.rs;
    return m;
}

/* BLIS's rule for a strided matrix (bli_check_matrix_strides): positive
 * strides, and rows that do not run into each other (nor columns). */
static bool blis_can_read(mat m) {
    if (m.rows == 0 || m.cols == 0) return true; /* gemm() skips it */
    m = unit_strides_fixed(m);
    if (m.rs <= 0 || m.cs <= 0) return false;
    if (m.rows == 1 || m.cols == 1) return true;
    if (m.rs < m.cs) return m.rows * m.rs <= m.cs; /* column-major tilt */
    if (m.cs < m.rs) return m.cols * m.cs <= m.rs; /* row-major tilt */
    return false;
}

/* BLIS splits each product among all its threads; below this many
 * multiply-adds, starting and joining them costs more than they save (on
 * two cores, 32 x 32 x 32 takes 1.75 us on one thread and 2.0 on two), so
 * such a product runs on the calling thread. */
#define GEMM_MIN_THREADED 65536

/* C = op(A) op(B) + beta C, op(X) being X or X^T as t says, beta 0 or 1:
 * the one call of the product. With beta 0, C is only written (not read,
 * so whatever a new tensor held does not matter; with k = 0 it zeroes C).
 * False when out of memory. */
static bool gemm(tg_dtype dtype, mat c, mat a, trans_t ta, mat b, trans_t tb, double beta) {
    int64_t m = c.rows, n = c.cols, k = ta == NO_TRANS ? a.cols : a.rows;
    if (m == 0 || n == 0) return true; /* nothing to write */
    /* tg__num_threads also hands TG_NUM_THREADS to BLIS, at the first call */
    int threads = m * n * k < GEMM_MIN_THREADED ? 1 : tg__num_threads();
    a = unit_strides_fixed(a), b = unit_strides_fixed(b), c = unit_strides_fixed(c);
    /* BLIS itself turns a transposed operand into swapped strides */
    int64_t ars = ta == NO_TRANS ? a.rs : a.cs, acs = ta == NO_TRANS ? a.cs : a.rs;
    int64_t brs = tb == NO_TRANS ? b.rs : b.cs, bcs = tb == NO_TRANS ? b.cs : b.rs;
    return tg__matmul_gemm(dtype, m, n, k, a.p, ars, acs, b.p, brs, bcs, c.p, c.rs, c.cs, beta != 0,
                           threads);
}

/* ---- Stacks of matrices: the batch dims ----------------------------------------- */

/* The batch of a product: the leading dims of both operands, broadcast. */
typedef struct batch {
    int ndim;
    int64_t shape[TG_MAX_DIMS];
} batch;

/* How a tensor takes part in a product. A 1-D matmul operand is a single
 * row (on the left) or column (on the right), and the result has no dim
 * for it: so each tensor says which of its two matrix dims it has. */
typedef struct operand {
    tg_tensor *t;
    bool has_row_dim, has_col_dim;
} operand;

static operand as_left(tg_tensor *t) { return (operand){t, t->ndim >= 2, true}; }
static operand as_right(tg_tensor *t) { return (operand){t, true, t->ndim >= 2}; }
/* The result of left x right, given the ndims of those two. */
static operand as_result(tg_tensor *t, int left_ndim, int right_ndim) {
    return (operand){t, left_ndim >= 2, right_ndim >= 2};
}

static int batch_ndim(operand x) { return x.t->ndim - x.has_row_dim - x.has_col_dim; }

static mat matrix_of(operand x) {
    const tg_tensor *t = x.t;
    mat m = {.p = tg__ptr(t), .rows = 1, .cols = 1, .rs = 1, .cs = 1};
    int d = t->ndim;
    if (x.has_col_dim) d--, m.cols = t->shape[d], m.cs = t->strides[d];
    if (x.has_row_dim) d--, m.rows = t->shape[d], m.rs = t->strides[d];
    return m;
}

/* An operand's matrices over the batch of a product: matrix `index` starts
 * at m.p + sum_d index[d] * batch_strides[d] elements. A dim where the
 * operand is broadcast has stride 0: all its matrices there are one. */
typedef struct stack {
    mat m;
    int64_t batch_strides[TG_MAX_DIMS];
} stack;

/* Filled in place, not returned: GCC built a returned stack on the stack
 * in 8-byte stores and copied it out in 16-byte loads, which stall (the
 * stores cannot be forwarded to them): 4% of the tiny FeedForward step. */
static void stack_of(stack *s, operand x, const batch *bt) {
    s->m = matrix_of(x);
    int lead = bt->ndim - batch_ndim(x); /* x's batch dims align right */
    for (int d = 0; d < bt->ndim; d++)
        s->batch_strides[d] = d < lead || x.t->shape[d - lead] == 1 ? 0 : x.t->strides[d - lead];
}

static mat matrix_at(const stack *s, const batch *bt, const int64_t *index, size_t elem_size) {
    mat m = s->m;
    for (int d = 0; d < bt->ndim; d++) m.p += index[d] * s->batch_strides[d] * (int64_t)elem_size;
    return m;
}

/* ---- Folding batch dims into the matrices ------------------------------------------
 * A batch dim can become part of a matrix dim when its stride continues that
 * dim's: stride == size * stride of the dim. Then one large gemm does the
 * work of many: linear's (batch, seq, in) input with its shared weight is one
 * (batch * seq, in) matrix, and the weight gradient that sums over batch and
 * seq is one product whose inner dim k is batch * seq long. */

/* A dim of op(X), as pointers into X's matrix so that folding can grow it. */
typedef struct dim_ref {
    int64_t *size, *stride;
} dim_ref;

static dim_ref op_rows(mat *x, trans_t t) {
    return t == NO_TRANS ? (dim_ref){&x->rows, &x->rs} : (dim_ref){&x->cols, &x->cs};
}
static dim_ref op_cols(mat *x, trans_t t) {
    return t == NO_TRANS ? (dim_ref){&x->cols, &x->cs} : (dim_ref){&x->rows, &x->rs};
}

static bool continues(dim_ref r, int64_t batch_stride) {
    return batch_stride != 0 && (*r.size == 1 || batch_stride == *r.size * *r.stride);
}

/* Makes a batch dim of size n the outer part of dims r1 and r2 (of two
 * operands that must agree on the order of their elements); false when it
 * does not continue both. */
static bool fold_dim(int64_t n, dim_ref r1, int64_t s1, dim_ref r2, int64_t s2) {
    if (!continues(r1, s1) || !continues(r2, s2)) return false;
    if (*r1.size == 1) *r1.stride = s1;
    if (*r2.size == 1) *r2.stride = s2;
    *r1.size *= n, *r2.size *= n;
    return true;
}

/* A batch dim along which B is shared stacks the rows of op(A) and C; one
 * along which A is shared stacks the columns of op(B) and C; one that C is
 * shared along (its products are summed) lengthens the inner dim of op(A)
 * and op(B). A folded dim is left in the batch with size 1. */
static void fold_batch(batch *bt, stack *c, stack *a, trans_t ta, stack *b, trans_t tb) {
    for (int d = bt->ndim - 1; d >= 0; d--) {
        int64_t n = bt->shape[d], sa = a->batch_strides[d], sb = b->batch_strides[d],
                sc = c->batch_strides[d];
        mat a0 = a->m, b0 = b->m, c0 = c->m;
        bool folded = false;
        if (sb == 0)
            folded = fold_dim(n, op_rows(&a->m, ta), sa, (dim_ref){&c->m.rows, &c->m.rs}, sc);
        else if (sa == 0)
            folded = fold_dim(n, op_cols(&b->m, tb), sb, (dim_ref){&c->m.cols, &c->m.cs}, sc);
        else if (sc == 0)
            folded = fold_dim(n, op_cols(&a->m, ta), sa, op_rows(&b->m, tb), sb);
        if (folded && blis_can_read(a->m) && blis_can_read(b->m) && blis_can_read(c->m)) {
            bt->shape[d] = 1;
        } else { /* keep the loop over this dim */
            a->m = a0, b->m = b0, c->m = c0;
        }
    }
}

/* C[i] = op(A[i]) op(B[i]) + beta C[i] for every index i of the batch;
 * where C is shared along a dim (stride 0) the products along it add up in
 * C: after the first, each adds to what is there (beta 1). False when out
 * of memory. */
static bool batched_gemm(tg_dtype dtype, batch bt, operand co, operand ao, trans_t ta, operand bo,
                         trans_t tb, double beta) {
    stack c, a, b;
    stack_of(&c, co, &bt), stack_of(&a, ao, &bt), stack_of(&b, bo, &bt);
    fold_batch(&bt, &c, &a, ta, &b, tb);
    size_t size = tg_dtype_size(dtype);
    int64_t count = 1, index[TG_MAX_DIMS] = {0};
    for (int d = 0; d < bt.ndim; d++) count *= bt.shape[d];
    for (int64_t i = 0; i < count; i++) {
        bool again = false; /* C[i] already holds a product */
        for (int d = 0; d < bt.ndim; d++) again = again || (index[d] && !c.batch_strides[d]);
        if (!gemm(dtype, matrix_at(&c, &bt, index, size), matrix_at(&a, &bt, index, size), ta,
                  matrix_at(&b, &bt, index, size), tb, again ? 1 : beta))
            return false;
        for (int d = bt.ndim - 1; d >= 0 && ++index[d] == bt.shape[d]; d--) index[d] = 0;
    }
    return true;
}

/* x itself (a new reference) when BLIS can read its matrices in place,
 * otherwise a contiguous copy; NULL when out of memory. */
static tg_tensor *readable(operand x) {
    return blis_can_read(matrix_of(x)) ? tg_retain(x.t) : tg__contiguous_copy_owned("matmul", x.t);
}

/* c = op(x) op(y) + beta c over the batch (beta 0 or 1). c is contiguous
 * (a new tensor or a leaf's grad), so only x and y may need a copy. Returns
 * false when out of memory. */
static bool product(const batch *bt, operand c, operand x, trans_t tx, operand y, trans_t ty,
                    double beta) {
    tg_tensor *xr = readable(x), *yr = readable(y);
    bool ok = xr && yr;
    if (ok) {
        x.t = xr, y.t = yr;
        ok = batched_gemm(c.t->dtype, *bt, c, x, tx, y, ty, beta);
    }
    tg_release(xr);
    tg_release(yr);
    return ok;
}

/* The batch of left x right: their leading dims broadcast. */
static bool batch_of(const char *op, int nl, const int64_t *sl, int nr, const int64_t *sr,
                     batch *bt) {
    int bl = nl > 2 ? nl - 2 : 0, br = nr > 2 ? nr - 2 : 0;
    return tg__broadcast_shapes(op, bl, sl, br, sr, &bt->ndim, bt->shape);
}

/* ---- Gradients ---------------------------------------------------------------------- */

/* For C = A B: dA = dC B^T needs B, and dB = A^T dC needs A. Each operand
 * is saved only when the other one's gradient is wanted, as PyTorch does
 * (its slot is NULL otherwise). */
enum { SAVED_A, SAVED_B };
#define SAVE_OPERANDS(a, b) TG__SAVE(tg__needs_grad(b) ? (a) : NULL, tg__needs_grad(a) ? (b) : NULL)

/* The gradient of input i (0: the left operand, 1: the right one),
 * op(x) op(y), into *out; or, when the engine offers the leaf's .grad
 * (node->grad_into[i]), added straight into that with gemm's beta = 1
 * (0 over a grad that zero_grad left pending), which saves a tensor and a
 * pass over it (then *out stays NULL). Along
 * the batch dims where input i was broadcast its stride is 0, so the
 * products there sum up, which is the gradient of a broadcast. False when
 * out of memory. */
static bool grad_input(tg__node *node, int i, const batch *bt, operand x, trans_t tx, operand y,
                       trans_t ty, tg_tensor **out) {
    tg_tensor *into = node->grad_into[i];
    tg_tensor *g = into ? into
                        : tg__new(node->def->name, node->in_ndim[i], node->in_shape[i],
                                  node->in_dtype[i]);
    double beta = into ? tg__grad_into_beta(node, i) : 0;
    if (!g || !product(bt, i == 0 ? as_left(g) : as_right(g), x, tx, y, ty, beta)) return false;
    if (into)
        tg__grad_into_written(node, i);
    else
        *out = g;
    return true;
}

/* ---- matmul --------------------------------------------------------------------------- */

/* C = A B, so dA = dC B^T and dB = A^T dC. */
static int matmul_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *a = node->saved[SAVED_A], *b = node->saved[SAVED_B];
    batch bt;
    batch_of(node->def->name, node->in_ndim[0], node->in_shape[0], node->in_ndim[1],
             node->in_shape[1], &bt);
    operand dC = as_result(g, node->in_ndim[0], node->in_ndim[1]);
    /* dA = dC B^T */
    if (needs[0] && !grad_input(node, 0, &bt, dC, NO_TRANS, as_right(b), TRANS, &gi[0])) return -1;
    /* dB = A^T dC */
    if (needs[1] && !grad_input(node, 1, &bt, as_left(a), TRANS, dC, NO_TRANS, &gi[1])) return -1;
    return 0;
}

/* One node does every case; its name is the one PyTorch 1.13 gives the
 * result, which depends on the path torch.matmul takes. */
#define MATMUL_LOCAL "d(AB)/dA = dC B^T, d(AB)/dB = A^T dC"
static const tg__op_def dot_def = {"DotBackward0", matmul_backward, MATMUL_LOCAL};
static const tg__op_def mv_def = {"MvBackward0", matmul_backward, MATMUL_LOCAL};
static const tg__op_def vm_def = {"SqueezeBackward3", matmul_backward,
                                  MATMUL_LOCAL}; /* mm, then squeeze */
static const tg__op_def mm_def = {"MmBackward0", matmul_backward, MATMUL_LOCAL};
static const tg__op_def batched_def = {"UnsafeViewBackward0", matmul_backward, MATMUL_LOCAL};
static const tg__op_def folded_t_def = {"CloneBackward0", matmul_backward, MATMUL_LOCAL};
static const tg__op_def folded_t_view_def = {"TransposeBackward0", matmul_backward, MATMUL_LOCAL};

/* With batch dims, torch 1.13 folds the batch of the larger operand into
 * one mm (or mv) when the other one is 1-D or 2-D, unless the larger one is
 * 3-D with its last two dims transposed (then it runs bmm); either way it
 * views the result into shape (_unsafe_view). For a 2-D a and a folded b it
 * computes (b^T a^T)^T instead and makes that contiguous (a clone, unless it
 * already is: a result with one row or column, or none). */
static const tg__op_def *matmul_def(const tg_tensor *a, const tg_tensor *b, const tg_tensor *out) {
    static const tg__op_def *const small[2][2] = {{&dot_def, &vm_def}, {&mv_def, &mm_def}};
    if (a->ndim <= 2 && b->ndim <= 2) return small[a->ndim - 1][b->ndim - 1];
    bool b_transposed_3d = b->ndim == 3 && b->strides[2] != 1 &&
                           b->strides[0] == b->shape[1] * b->shape[2];
    if (a->ndim != 2 || b_transposed_3d) return &batched_def;
    int64_t rows = out->shape[out->ndim - 2], cols = out->shape[out->ndim - 1];
    return rows == 1 || cols == 1 || out->numel == 0 ? &folded_t_view_def : &folded_t_def;
}

static bool matmul_check(tg_tensor *a, tg_tensor *b, batch *bt) {
    if (!tg__check_args("matmul", 2, (tg_tensor *[]){a, b})) return false;
    const char *problem = NULL;
    if (a->ndim == 0 || b->ndim == 0)
        problem = "matmul: both arguments need at least 1 dim, got shapes %s and %s";
    else if (a->shape[a->ndim - 1] != b->shape[b->ndim >= 2 ? b->ndim - 2 : 0])
        problem = "matmul: shapes %s and %s cannot be multiplied";
    else if (!batch_of("matmul", a->ndim, a->shape, b->ndim, b->shape, bt))
        problem = "matmul: the batch dims of shapes %s and %s cannot be broadcast";
    if (!problem) return true;
    /* The shapes are written out only for a message (see linear_check). */
    char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
    tg__error(TG_ERR_SHAPE, problem, tg__shape_str(bufa, sizeof bufa, a->ndim, a->shape),
              tg__shape_str(bufb, sizeof bufb, b->ndim, b->shape));
    return false;
}

tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b) {
    batch bt;
    if (!matmul_check(a, b, &bt)) return NULL;
    /* The result: the batch, then a's rows (unless a is 1-D), b's columns. */
    int ndim = bt.ndim;
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, bt.shape, sizeof shape);
    if (a->ndim >= 2) shape[ndim++] = a->shape[a->ndim - 2];
    if (b->ndim >= 2) shape[ndim++] = b->shape[b->ndim - 1];
    tg_tensor *out = tg__new_owned("matmul", ndim, shape, a->dtype);
    if (!out) return NULL;
    operand c = as_result(out, a->ndim, b->ndim);
    if (!product(&bt, c, as_left(a), NO_TRANS, as_right(b), NO_TRANS, 0)) {
        tg_release(out);
        return NULL;
    }
    return tg__finish(out, matmul_def(a, b, out), TG__TENSORS(a, b), SAVE_OPERANDS(a, b));
}

/* ---- linear --------------------------------------------------------------------------- */

/* Y = X W^T + bias, so dX = dY W, dW = dY^T X (its inner dim runs over all
 * the rows of X, batch included: that sums over them), and dbias = dY
 * summed over every dim but the last. */
static int linear_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *x = node->saved[SAVED_A], *w = node->saved[SAVED_B];
    batch bt;
    batch_of(node->def->name, node->in_ndim[0], node->in_shape[0], 2, node->in_shape[1], &bt);
    operand dY = as_result(g, node->in_ndim[0], 2);
    /* dX = dY W */
    if (needs[0] && !grad_input(node, 0, &bt, dY, NO_TRANS, as_right(w), NO_TRANS, &gi[0]))
        return -1;
    /* dW = dY^T X */
    if (needs[1] && !grad_input(node, 1, &bt, dY, TRANS, as_left(x), NO_TRANS, &gi[1])) return -1;
    /* dbias = dY summed down to (out_features,) */
    if (node->n_inputs == 3 && needs[2] &&
        !(gi[2] = tg__sum_to(g, node->in_ndim[2], node->in_shape[2])))
        return -1;
    return 0;
}

#define LINEAR_LOCAL "d/dx = dy W, d/dW = dy^T x, d/db = dy summed over the batch"
static const tg__op_def addmm_def = {"AddmmBackward0", linear_backward, LINEAR_LOCAL};
static const tg__op_def addmm_view_def = {"ViewBackward0", linear_backward, LINEAR_LOCAL};
static const tg__op_def add_def = {"AddBackward0", linear_backward, LINEAR_LOCAL};
static const tg__op_def linear_vm_def = {"SqueezeBackward3", linear_backward, LINEAR_LOCAL};
static const tg__op_def linear_mm_def = {"MmBackward0", linear_backward, LINEAR_LOCAL};
static const tg__op_def linear_batched_def = {"UnsafeViewBackward0", linear_backward, LINEAR_LOCAL};

/* torch 1.13's F.linear: addmm for a 2-D x with a bias, and for a
 * contiguous 3-D one viewed as 2-D (then viewed back); otherwise
 * matmul(x, W^T), plus the bias when there is one. */
static const tg__op_def *linear_def(const tg_tensor *x, const tg_tensor *bias) {
    if (bias)
        return x->ndim == 2                          ? &addmm_def
               : x->ndim == 3 && tg_is_contiguous(x) ? &addmm_view_def
                                                     : &add_def;
    return x->ndim == 1 ? &linear_vm_def : x->ndim == 2 ? &linear_mm_def : &linear_batched_def;
}

static bool linear_check(tg_tensor *x, tg_tensor *w, tg_tensor *bias) {
    if (!tg__check_args("linear", bias ? 3 : 2, (tg_tensor *[]){x, w, bias})) return false;
    bool bad_weight = w->ndim != 2;
    bool bad_input = !bad_weight && (x->ndim == 0 || x->shape[x->ndim - 1] != w->shape[1]);
    bool bad_bias = !bad_weight && bias && (bias->ndim != 1 || bias->shape[0] != w->shape[0]);
    if (!bad_weight && !bad_input && !bad_bias) return true;
    /* The shapes are written out only for a message: in every call, they
     * cost more than the checks. */
    char bufx[TG_SHAPE_STR_MAX], bufw[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
    const char *sx = tg__shape_str(bufx, sizeof bufx, x->ndim, x->shape);
    const char *sw = tg__shape_str(bufw, sizeof bufw, w->ndim, w->shape);
    if (bad_weight)
        tg__error(TG_ERR_SHAPE,
                  "linear: weight must be 2-D (out_features, in_features), got shape %s", sw);
    else if (bad_input)
        tg__error(TG_ERR_SHAPE, "linear: input of shape %s does not fit weight of shape %s", sx,
                  sw);
    else
        tg__error(
            TG_ERR_SHAPE, "linear: bias of shape %s does not fit weight of shape %s (want (%lld,))",
            tg__shape_str(bufb, sizeof bufb, bias->ndim, bias->shape), sw, (long long)w->shape[0]);
    return false;
}

tg_tensor *tg_linear(tg_tensor *x, tg_tensor *weight, tg_tensor *bias) {
    if (!linear_check(x, weight, bias)) return NULL;
    batch bt;
    batch_of("linear", x->ndim, x->shape, 2, weight->shape, &bt);
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = weight->shape[0];
    tg_tensor *out = tg__new_owned("linear", x->ndim, shape, x->dtype);
    if (!out) return NULL;
    /* With a bias, start from it in every row and let gemm add X W^T. */
    if (bias) tg__copy_into(out, bias);
    if (!product(&bt, as_result(out, x->ndim, 2), as_left(x), NO_TRANS, as_right(weight), TRANS,
                 bias ? 1 : 0)) {
        tg_release(out);
        return NULL;
    }
    tg_tensor *inputs[3] = {x, weight, bias};
    return tg__finish(out, linear_def(x, bias), bias ? 3 : 2, inputs, SAVE_OPERANDS(x, weight));
}
