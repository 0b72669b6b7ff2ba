/* ops/elementwise.c - add, sub, mul, div, neg (tensor and scalar forms),
 * maximum, minimum, pow (tensor exponent), xlogy, where, and the in-place
 * versions. Each forward is followed by its backward. */
#include <tgmath.h>
#include <string.h>

#include "pointwise.h"

/* ---- Kernels: the formulas in the tensors' own type --------------------------------
 * Arithmetic rounds as PyTorch's does: add with alpha is x + alpha * y with
 * one rounding (a fused multiply-add), as PyTorch's vectorised add with
 * alpha computes it, so an SGD step matches it to the last bit. The second
 * operand is often one value broadcast (a scalar), which gets a loop of
 * its own (TG_ROWS2). */

TG_ROWS2(add_rows, TG_OWN, a, b, a + b)
TG_ROWS2(axpy_rows, TG_OWN, a, b, fma(p[0], b, a))
TG_ROWS2(sub_rows, TG_OWN, a, b, a - b)
TG_ROWS2(mul_rows, TG_OWN, a, b, a *b)
TG_ROWS2(div_rows, TG_OWN, a, b, a / b)
TG_ROWS1(neg_rows, TG_OWN, a, -a)
/* maximum and minimum: a NaN wins, as in PyTorch; of +0 and -0, maximum is
 * +0 and minimum -0 (IEEE 754-2019; PyTorch returns the first operand alone
 * and the second vectorised): a + b and -(-a - b) of two zeros are so
 * (arithmetic, which vectorises where signbit does not). */
TG_ROWS2(max_rows, TG_OWN, a, b, (a != a || a > b) ? a : a == b && a == 0 ? a + b : b)
TG_ROWS2(min_rows, TG_OWN, a, b, (a != a || a < b) ? a : a == b && a == 0 ? -(-a - b) : b)

/* ---- Kernels of int64 and bool tensors, as PyTorch computes them ---------------------
 * int64 arithmetic wraps around on overflow (done in uint64_t, where C
 * defines it); on bool, + is or and * is and, and - is refused (PyTorch
 * says to use xor or not instead). No gradients: these dtypes have none. */
#define INT_ROW2(name, T, a, b, ...)                                       \
    TG__ROW_BODY(name, T, T, T a = TG__IN(T, T, 1); T b = TG__IN(T, T, 2); \
                 TG__OUT(T, 0) = (T)(__VA_ARGS__);)                        \
    TG_ROW_KERNEL_LIKE(name, name##_body, 3, 1, 1, 0)
#define WRAP(x) ((uint64_t)(x))
INT_ROW2(add_i64, int64_t, a, b, WRAP(a) + WRAP(b))
INT_ROW2(sub_i64, int64_t, a, b, WRAP(a) - WRAP(b))
INT_ROW2(mul_i64, int64_t, a, b, WRAP(a) * WRAP(b))
INT_ROW2(or_bool, uint8_t, a, b, a | b)
INT_ROW2(and_bool, uint8_t, a, b, a &b)
TG__ROW_BODY(neg_i64_row, int64_t, int64_t,
             TG__OUT(int64_t, 0) = (int64_t)(0 - WRAP(TG__IN(int64_t, int64_t, 1)));)
TG_ROW_KERNEL(neg_i64, neg_i64_row_body, 2)

/* The kernels of the ops that take every dtype (PyTorch's arithmetic on
 * integers), by dtype. */
static const tg__row_fn add_any[] = {add_rows_f32, add_rows_f64, add_i64, or_bool};
static const tg__row_fn sub_any[] = {sub_rows_f32, sub_rows_f64, sub_i64, NULL};
static const tg__row_fn mul_any[] = {mul_rows_f32, mul_rows_f64, mul_i64, and_bool};
static const tg__row_fn neg_any[] = {neg_rows_f32, neg_rows_f64, neg_i64, NULL};

/* Saved inputs of the binary ops. */
enum { SAVED_A, SAVED_B };

/* a OP b, both checked here (the op's table says which dtypes it takes). */
static tg_tensor *binary(const tg__pointwise *op, tg_tensor *a, tg_tensor *b) {
    tg_tensor *in[2] = {a, b};
    if (!tg__check_same_dtype(op->name, 2, in)) return NULL;
    return tg__pointwise_forward(op, 2, in, NULL);
}

/* ---- add ---------------------------------------------------------------------- */

static int add_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    for (int i = 0; i < 2; i++)
        if (needs[i] && !(gi[i] = tg__sum_to(g, node->in_ndim[i], node->in_shape[i]))) return -1;
    return 0;
}
#define ADD_LOCAL "d(a+b)/da = 1, d(a+b)/db = 1 (summed over broadcast dims)"
static const tg__pointwise add_op = {
    {"AddBackward0", add_backward, ADD_LOCAL}, "add", add_any, NULL, TG__SAVES_NOTHING};

tg_tensor *tg_add(tg_tensor *a, tg_tensor *b) { return binary(&add_op, a, b); }

/* ---- sub ---------------------------------------------------------------------- */

static int sub_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    if (needs[0] && !(gi[0] = tg__sum_to(g, node->in_ndim[0], node->in_shape[0]))) return -1;
    if (needs[1] && !(gi[1] = tg__pointwise_gradient(node, 1, neg_any, TG__TENSORS(g)))) return -1;
    return 0;
}
#define SUB_LOCAL "d(a-b)/da = 1, d(a-b)/db = -1 (summed over broadcast dims)"
static const tg__pointwise sub_op = {
    {"SubBackward0", sub_backward, SUB_LOCAL}, "sub", sub_any, NULL, TG__SAVES_NOTHING};

tg_tensor *tg_sub(tg_tensor *a, tg_tensor *b) { return binary(&sub_op, a, b); }

/* ---- mul: saves each input only when the other's gradient needs it -------------------- */

static int mul_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    /* d(ab)/da = b, d(ab)/db = a */
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        tg_tensor *other = node->saved[i == 0 ? SAVED_B : SAVED_A];
        if (!(gi[i] = tg__pointwise_gradient(node, i, mul_any, TG__TENSORS(g, other)))) return -1;
    }
    return 0;
}
#define MUL_LOCAL "d(a*b)/da = b, d(a*b)/db = a (summed over broadcast dims)"
static const tg__pointwise mul_op = {
    {"MulBackward0", mul_backward, MUL_LOCAL}, "mul", mul_any, NULL, TG__SAVES_OTHER};

tg_tensor *tg_mul(tg_tensor *a, tg_tensor *b) { return binary(&mul_op, a, b); }

/* ---- div: d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 ----------------------------------------- */

/* -g ((a / b) / b), in PyTorch's order: -(g a) / b^2 overflows (and
 * underflows) where it does not. */
TG_ROWS3(div_grad_divisor, TG_OWN, g, a, b, -g *((a / b) / b))

static int div_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *a = node->saved[SAVED_A], *b = node->saved[SAVED_B];
    if (needs[0] && !(gi[0] = tg__pointwise_gradient(node, 0, div_rows, TG__TENSORS(g, b))))
        return -1;
    if (needs[1] &&
        !(gi[1] = tg__pointwise_gradient(node, 1, div_grad_divisor, TG__TENSORS(g, a, b))))
        return -1;
    return 0;
}
#define DIV_LOCAL "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 (summed over broadcast dims)"
static const tg__pointwise div_op = {
    {"DivBackward0", div_backward, DIV_LOCAL}, "div", div_rows, NULL, TG__SAVES_INPUTS};

/* int64 and bool tensors divide as float32, as PyTorch's true division does. */
tg_tensor *tg_div(tg_tensor *a, tg_tensor *b) {
    if (!a || !b || tg_dtype_is_float(a->dtype) || a->dtype != b->dtype)
        return binary(&div_op, a, b);
    tg_pool *pool = tg_pool_push();
    if (!pool) return NULL;
    tg_tensor *out = tg_retain(binary(&div_op, tg_to_dtype(a, TG_F32), tg_to_dtype(b, TG_F32)));
    tg_pool_pop(pool);
    return tg__autorelease(out);
}

/* ---- neg ---------------------------------------------------------------------- */

static int neg_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)node, (void)needs;
    gi[0] = tg_neg(g);
    return gi[0] ? 0 : -1;
}
static const tg__pointwise neg_op = {
    {"NegBackward0", neg_backward, "d(-a)/da = -1"}, "neg", neg_any, NULL, TG__SAVES_NOTHING};

tg_tensor *tg_neg(tg_tensor *a) { return tg__pointwise_unary(&neg_op, a, 0, 0); }

/* ---- maximum and minimum: d/da max(a, b) = [a > b] + [a == b] / 2 ------------------ */

/* g times a's share of the gradient where a wins (1), ties (1/2) or loses
 * (0); the second input of the kernel is a, the third b. Where either is
 * NaN (no order), both get all of it, as in PyTorch. */
TG_ROWS3(max_share, TG_OWN, g, a, b, g *((b > a) ? 0 : a == b ? 0.5f : 1))
TG_ROWS3(min_share, TG_OWN, g, a, b, g *((b < a) ? 0 : a == b ? 0.5f : 1))

static int extremum_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *a = node->saved[SAVED_A], *b = node->saved[SAVED_B];
    for (int i = 0; i < 2; i++)
        if (needs[i] &&
            !(gi[i] = tg__pointwise_gradient(node, i, TG__OP_OF(node, tg__pointwise)->backward,
                                             TG__TENSORS(g, i == 0 ? a : b, i == 0 ? b : a))))
            return -1;
    return 0;
}
static const tg__pointwise maximum_op = {
    {"MaximumBackward0", extremum_backward, "1 to the larger input, 1/2 to each on a tie"},
    "maximum",
    max_rows,
    max_share,
    TG__SAVES_INPUTS};
static const tg__pointwise minimum_op = {
    {"MinimumBackward0", extremum_backward, "1 to the smaller input, 1/2 to each on a tie"},
    "minimum",
    min_rows,
    min_share,
    TG__SAVES_INPUTS};

tg_tensor *tg_maximum(tg_tensor *a, tg_tensor *b) { return binary(&maximum_op, a, b); }
tg_tensor *tg_minimum(tg_tensor *a, tg_tensor *b) { return binary(&minimum_op, a, b); }

/* ---- pow: y = a^b, broadcasting --------------------------------------------------------
 * dy/da = b a^(b-1), and 0 where b = 0 (PyTorch's pow_backward_self:
 * where(b == 0, 0, g (b a^(b-1))), so 0^0 has slope 0, not 0 * 0^-1);
 * dy/db = a^b log a, and 0 where a = 0 and b >= 0 (pow_backward_exponent:
 * g where(a == 0 & b >= 0, 0, y log a)). So, as in PyTorch, the exponent's
 * gradient is NaN where a < 0 (log of a negative number, even where a^b is
 * real: (-2)^2), -inf where a = 0 and b < 0 (a^b is inf there), and 0 at a = 0,
 * b >= 0 (the limit from a > 0). Each formula is PyTorch's, in the
 * tensors' own type; a^b is recomputed, the same number as the forward's. */

TG_ROWS2(pow_rows, TG_OWN, a, b, pow(a, b))
TG_ROWS3(pow_grad_base, TG_OWN, g, a, b, b == 0 ? 0 : g * (b * pow(a, b - 1)))
TG_ROWS3(pow_grad_exponent, TG_OWN, g, a, b, g *(a == 0 && b >= 0 ? 0 : pow(a, b) * log(a)))

static int pow_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    static const tg__row_fn *const grads[2] = {pow_grad_base, pow_grad_exponent};
    tg_tensor *a = node->saved[SAVED_A], *b = node->saved[SAVED_B];
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        if (!(gi[i] = tg__pointwise_gradient(node, i, grads[i], TG__TENSORS(g, a, b)))) return -1;
    }
    return 0;
}
static const tg__pointwise pow_op = {
    {"PowBackward1", pow_backward,
     "d a^b/da = b a^(b-1) (0 where b = 0), d a^b/db = a^b log(a) (0 where a = 0, b >= 0); "
     "summed over broadcast dims"},
    "pow",
    pow_rows,
    NULL,
    TG__SAVES_INPUTS};

tg_tensor *tg_pow(tg_tensor *base, tg_tensor *exponent) { return binary(&pow_op, base, exponent); }

/* ---- xlogy: x log(y), 0 where x = 0 unless y is NaN, as torch.xlogy -----------------------
 * In the tensors' own type, as torch's (one kernel, no vectorised path). Its
 * gradients, as torch's: d/dx = log(y), 0 where x = 0 and y <= 0 (the
 * function is 0 along x = 0 there), computed as xlogy(g, y); d/dy = (g x) / y. */
TG_ROWS2(xlogy_rows, TG_OWN, x, y, y != y ? y : x == 0 ? 0 : x * log(y))
TG_ROWS3(xlogy_dy, TG_OWN, g, x, y, (g * x) / y)
TG_ROWS3(xlogy_dx, TG_OWN, g, x, y, (x == 0 && y <= 0) ? 0 : y != y ? y : g == 0 ? 0 : g * log(y))

static int xlogy_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *x = node->saved[SAVED_A], *y = node->saved[SAVED_B];
    if (needs[0] && !(gi[0] = tg__pointwise_gradient(node, 0, xlogy_dx, TG__TENSORS(g, x, y))))
        return -1;
    if (needs[1] && !(gi[1] = tg__pointwise_gradient(node, 1, xlogy_dy, TG__TENSORS(g, x, y))))
        return -1;
    return 0;
}
static const tg__pointwise xlogy_op = {
    {"XlogyBackward0", xlogy_backward,
     "d xlogy(x, y)/dx = log(y) (0 where x = 0, y <= 0), d/dy = x / y (summed over broadcast "
     "dims)"},
    "xlogy",
    xlogy_rows,
    xlogy_dx,
    TG__SAVES_INPUTS};

tg_tensor *tg_xlogy(tg_tensor *x, tg_tensor *y) { return binary(&xlogy_op, x, y); }

/* ---- where: cond ? a : b ------------------------------------------------------------- */

/* The inputs run as (a, b, cond): the output takes a's dtype, and the
 * bool condition, read as bytes, comes last, as does its saved copy. Any
 * dtype of a and b, as in PyTorch. */
#define WHERE_ROW(name, T)                                                                  \
    TG__ROW_BODY(name, T, T,                                                                \
                 TG__OUT(T, 0) = ((const uint8_t *)ptr_[3])[i_ * s_[3]] ? TG__IN(T, T, 1)   \
                                                                        : TG__IN(T, T, 2);) \
    TG_ROW_KERNEL_LIKE(name, name##_body, 4, 1, 1, 1, 0)
WHERE_ROW(where_f32, float)
WHERE_ROW(where_f64, double)
WHERE_ROW(where_i64, int64_t)
WHERE_ROW(where_bool, uint8_t)
static const tg__row_fn where_rows[] = {where_f32, where_f64, where_i64, where_bool};

enum { WHERE_SAVED_COND };

/* The gradient goes to a where cond holds and to b elsewhere. */
static int where_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *cond = node->saved[WHERE_SAVED_COND], *zero = tg_scalar(0, g->dtype);
    if (needs[0] &&
        !(gi[0] = tg__sum_to(tg_where(cond, g, zero), node->in_ndim[0], node->in_shape[0])))
        return -1;
    if (needs[1] &&
        !(gi[1] = tg__sum_to(tg_where(cond, zero, g), node->in_ndim[1], node->in_shape[1])))
        return -1;
    return 0;
}
static const tg__pointwise where_op = {
    {"WhereBackward0", where_backward, "1 to a where cond holds, 1 to b elsewhere"},
    "where",
    where_rows,
    NULL,
    TG__SAVES_LAST};

tg_tensor *tg_where(tg_tensor *cond, tg_tensor *a, tg_tensor *b) {
    tg_tensor *in[3] = {a, b, cond};
    if (!tg__check_same_dtype("where", 2, in)) return NULL;
    if (!cond) {
        tg__null_arg("where");
        return NULL;
    }
    if (cond->dtype != TG_BOOL) {
        tg__error(TG_ERR_DTYPE,
                  "where: expected the condition to be a bool tensor, got %s (compare with tg_ne "
                  "or convert with tg_to_dtype)",
                  tg_dtype_name(cond->dtype));
        return NULL;
    }
    return tg__pointwise_forward(&where_op, 3, in, NULL);
}

/* ---- Scalar forms ---------------------------------------------------------------
 * x OP s for a number s. PyTorch wraps the number in a 0-dim tensor and
 * runs the tensor op (so x + 2 is AddBackward0); on a float tensor, which
 * the number does not promote, the same arithmetic is an op of one input
 * with s as its parameter, rounded to the tensor's dtype as the wrapped
 * number is: the same numbers, node name and local derivative, without the
 * wrapped tensor and its pool. Integer and bool tensors (no gradients)
 * promote as PyTorch does and run the tensor op on the wrapped number. */

TG_ROWS1(add_scalar_rows, TG_OWN, a, a + p[0])
TG_ROWS1(sub_scalar_rows, TG_OWN, a, a - p[0])
TG_ROWS1(rsub_scalar_rows, TG_OWN, a, p[0] - a)
TG_ROWS1(mul_scalar_rows, TG_OWN, a, a *p[0])
TG_ROWS1(div_scalar_rows, TG_OWN, a, a / p[0])

/* d(x + s)/dx = d(x - s)/dx = 1: the gradient itself, as tg__sum_to hands
 * on a gradient of the input's shape. */
static int pass_backward(tg__node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)node, (void)needs;
    gi[0] = g;
    return 0;
}

/* The tensor op's node name and local derivative (literals: C wants
 * constants in a static initializer, and another object's members are
 * not); mul and div keep the number as PyTorch keeps the tensor it wraps
 * it in (a second backward without retain_graph refuses their nodes), add
 * and sub keep nothing. */
#define SCALAR_OP(node_name, local, op_name, backward_fn, forward, backward, saves) \
    { {(node_name), (backward_fn), (local)}, (op_name), (forward), (backward), (saves) }
static const tg__pointwise add_scalar_op = SCALAR_OP(
    "AddBackward0", ADD_LOCAL, "add", pass_backward, add_scalar_rows, NULL, TG__SAVES_NOTHING);
static const tg__pointwise sub_scalar_op = SCALAR_OP(
    "SubBackward0", SUB_LOCAL, "sub", pass_backward, sub_scalar_rows, NULL, TG__SAVES_NOTHING);
/* s - x is torch.rsub(x, s), whose node PyTorch 1.13 names RsubBackward1. */
static const tg__pointwise rsub_scalar_op = SCALAR_OP(
    "RsubBackward1", "d(s-a)/da = -1", "rsub", tg__pointwise_unary_backward, rsub_scalar_rows,
    neg_rows, TG__SAVES_NOTHING);
static const tg__pointwise mul_scalar_op = SCALAR_OP("MulBackward0", MUL_LOCAL, "mul",
                                                     tg__pointwise_unary_backward, mul_scalar_rows,
                                                     mul_scalar_rows, TG__SAVES_NUMBER);
static const tg__pointwise div_scalar_op = SCALAR_OP("DivBackward0", DIV_LOCAL, "div",
                                                     tg__pointwise_unary_backward, div_scalar_rows,
                                                     div_scalar_rows, TG__SAVES_NUMBER);

/* The dtype an op of a tensor of dtype with the number s computes in, as
 * PyTorch promotes: integer tensors stay int64 (bool becoming int64) with
 * an integral number, and become float32, its default float type, with
 * any other. */
static tg_dtype scalar_op_dtype(tg_dtype dtype, double s) {
    if (tg_dtype_is_float(dtype)) return dtype;
    return s == (double)tg__to_i64(s) ? TG_I64 : TG_F32;
}

/* a OP s: scalar_op on a float tensor; on an integer or bool one, op (the
 * tensor op, the wrapped number first when scalar_first) in int64, or
 * scalar_op after the promotion to float32. */
static tg_tensor *with_scalar(const tg__pointwise *scalar_op,
                              tg_tensor *(*op)(tg_tensor *, tg_tensor *), tg_tensor *a, double s,
                              bool scalar_first) {
    if (!a) {
        tg__null_arg("scalar op");
        return NULL;
    }
    if (tg_dtype_is_float(a->dtype)) return tg__pointwise_unary(scalar_op, a, s, 0);
    tg_pool *pool = tg_pool_push(); /* the conversion and the wrapped number */
    if (!pool) return NULL;
    tg_tensor *x = tg_to_dtype(a, scalar_op_dtype(a->dtype, s)), *out = NULL;
    if (x && x->dtype != TG_I64) {
        out = tg__pointwise_unary(scalar_op, x, s, 0);
    } else if (x) {
        tg_tensor *wrapped = tg_scalar(s, TG_I64);
        if (wrapped) out = scalar_first ? op(wrapped, x) : op(x, wrapped);
    }
    tg_retain(out);
    tg_pool_pop(pool);
    return tg__autorelease(out);
}

tg_tensor *tg_add_scalar(tg_tensor *a, double s) {
    return with_scalar(&add_scalar_op, tg_add, a, s, false);
}
tg_tensor *tg_sub_scalar(tg_tensor *a, double s) {
    return with_scalar(&sub_scalar_op, tg_sub, a, s, false);
}
tg_tensor *tg_rsub_scalar(tg_tensor *a, double s) {
    return with_scalar(&rsub_scalar_op, tg_sub, a, s, true);
}
tg_tensor *tg_mul_scalar(tg_tensor *a, double s) {
    return with_scalar(&mul_scalar_op, tg_mul, a, s, false);
}
tg_tensor *tg_div_scalar(tg_tensor *a, double s) {
    if (!a || tg_dtype_is_float(a->dtype)) return with_scalar(&div_scalar_op, tg_div, a, s, false);
    tg_pool *pool = tg_pool_push(); /* true division, in float32 */
    if (!pool) return NULL;
    tg_tensor *out = tg_retain(
        with_scalar(&div_scalar_op, tg_div, tg_to_dtype(a, TG_F32), s, false));
    tg_pool_pop(pool);
    return tg__autorelease(out);
}

/* ---- In place -------------------------------------------------------------------- */

/* Checks self can be written in place with other broadcast onto it; returns
 * other, or a private copy of it when it overlaps self differently. */
static tg_tensor *prepare_inplace(const char *op, tg_tensor *self, tg_tensor *other,
                                  bool same_dtype) {
    if (!self || !other) {
        tg__null_arg(op);
        return NULL;
    }
    if (same_dtype && !tg__check_args(op, 2, (tg_tensor *[]){self, other})) return NULL;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    if (!tg__broadcast_shapes(op, self->ndim, self->shape, other->ndim, other->shape, &ndim, shape))
        return NULL;
    if (ndim != self->ndim || memcmp(shape, self->shape, (size_t)ndim * sizeof *shape) != 0) {
        char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: shape %s cannot be broadcast to the output shape %s", op,
                  tg__shape_str(bufb, sizeof bufb, other->ndim, other->shape),
                  tg__shape_str(bufa, sizeof bufa, self->ndim, self->shape));
        return NULL;
    }
    if (!tg__check_writable(op, self) || !tg__check_inplace(op, self, other)) return NULL;
    bool same_geometry = self->offset == other->offset && tg__same_shape(self, other) &&
                         memcmp(self->strides, other->strides,
                                (size_t)self->ndim * sizeof *self->strides) == 0;
    if (self->storage == other->storage && !same_geometry)
        return tg__autorelease(tg__contiguous_copy_owned(op, other));
    return other;
}

/* Runs and cleans up: prepare_inplace may have pooled a copy when no pool
 * was pushed, so a private pool scopes it. */
static int inplace_binary(const char *name, const tg__row_fn *rows, tg_tensor *self,
                          tg_tensor *other, double alpha) {
    tg_pool *pool = tg_pool_push();
    if (!pool) return -1;
    tg_tensor *src = prepare_inplace(name, self, other, true);
    if (src) {
        tg__map(self, 2, (const tg_tensor *[]){self, src}, rows[self->dtype],
                &(tg__row_ctx){.p = {alpha}});
        self->storage->version++;
    }
    tg_pool_pop(pool);
    return src ? 0 : -1;
}

int tg_add_(tg_tensor *self, tg_tensor *other, double alpha) {
    return inplace_binary("add_", alpha == 1 ? add_rows : axpy_rows, self, other, alpha);
}

int tg_mul_(tg_tensor *self, tg_tensor *other) {
    return inplace_binary("mul_", mul_rows, self, other, 1.0);
}

int tg_div_(tg_tensor *self, tg_tensor *other) {
    return inplace_binary("div_", div_rows, self, other, 1.0);
}

/* self OP= s, the number wrapped in a 0-dim tensor of self's dtype. */
static int inplace_scalar(const char *name, const tg__row_fn *rows, tg_tensor *self, double s) {
    if (!self) {
        tg__null_arg(name);
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    if (!pool) return -1;
    tg_tensor *wrapped = tg_scalar(s, self->dtype);
    int rc = wrapped ? inplace_binary(name, rows, self, wrapped, 1.0) : -1;
    tg_pool_pop(pool);
    return rc;
}

int tg_mul_scalar_(tg_tensor *self, double s) {
    return inplace_scalar("mul_scalar_", mul_rows, self, s);
}
int tg_div_scalar_(tg_tensor *self, double s) {
    return inplace_scalar("div_scalar_", div_rows, self, s);
}

int tg_copy_(tg_tensor *self, tg_tensor *src) {
    tg_pool *pool = tg_pool_push();
    if (!pool) return -1;
    tg_tensor *from = prepare_inplace("copy_", self, src, false);
    if (from) {
        tg__copy_into(self, from);
        self->storage->version++;
    }
    tg_pool_pop(pool);
    return from ? 0 : -1;
}

static int fill_inplace(const char *op, tg_tensor *self, double value) {
    if (!self) {
        tg__null_arg(op);
        return -1;
    }
    if (!tg__check_writable(op, self) || !tg__check_inplace(op, self, NULL)) return -1;
    tg__fill(self, value);
    self->storage->version++;
    return 0;
}

int tg_fill_(tg_tensor *self, double value) { return fill_inplace("fill_", self, value); }
int tg_zero_(tg_tensor *self) { return fill_inplace("zero_", self, 0.0); }
