/* ops/elementwise.c - add, sub, mul, div, neg (tensor and scalar forms) and
 * their in-place versions. Each forward is followed by its backward. */
#include <math.h>
#include <string.h>

#include "ops_internal.h"

/* ---- Kernels: out = x OP y over one row, for each dtype ------------------------- */

typedef enum binop { OP_ADD, OP_AXPY, OP_SUB, OP_MUL, OP_DIV, OP_NEG, OP_MAX, OP_MIN } binop;

/* ctx of a row: alpha for axpy, x + alpha * y with one rounding (fused
 * multiply-add), as PyTorch's vectorised add with alpha computes it, so an
 * SGD step matches it to the last bit. The second operand is often one
 * value broadcast (a scalar), which gets a loop of its own. */
#define BINARY_ROW(name, T, EXPR)                                                  \
    static TG_ALWAYS_INLINE void name##_body(char **p, const int64_t *s, int64_t n,  \
                                             void *ctx) {                            \
        T *o = (T *)p[0];                                                          \
        const T *x = (const T *)p[1], *y = (const T *)p[2];                        \
        const T alpha = (T) * (const double *)ctx;                                 \
        (void)alpha;                                                               \
        TG_SIMD                                                                    \
        for (int64_t i = 0; i < n; i++) {                                          \
            T a = x[i * s[1]], b = y[i * s[2]];                                    \
            o[i * s[0]] = EXPR;                                                    \
        }                                                                          \
    }                                                                              \
    TG_ROW_KERNEL_LIKE(name, name##_body, 3, 1, 1, 0)
BINARY_ROW(add_f32, float, a + b)
BINARY_ROW(add_f64, double, a + b)
BINARY_ROW(axpy_f32, float, fmaf(alpha, b, a))
BINARY_ROW(axpy_f64, double, fma(alpha, b, a))
BINARY_ROW(sub_f32, float, a - b)
BINARY_ROW(sub_f64, double, a - b)
BINARY_ROW(mul_f32, float, a * b)
BINARY_ROW(mul_f64, double, a * b)
BINARY_ROW(div_f32, float, a / b)
BINARY_ROW(div_f64, double, a / b)
BINARY_ROW(neg_f32, float, ((void)b, -a))
BINARY_ROW(neg_f64, double, ((void)b, -a))
/* maximum and minimum: a NaN wins, as in PyTorch; of +0 and -0, maximum is
 * +0 and minimum -0 (IEEE 754-2019; PyTorch returns the first operand alone
 * and the second vectorised): a + b and -(-a - b) of two zeros are so
 * (arithmetic, which vectorises where signbit does not). */
BINARY_ROW(max_f32, float, (a != a || a > b) ? a : a == b && a == 0 ? a + b : b)
BINARY_ROW(max_f64, double, (a != a || a > b) ? a : a == b && a == 0 ? a + b : b)
BINARY_ROW(min_f32, float, (a != a || a < b) ? a : a == b && a == 0 ? -(-a - b) : b)
BINARY_ROW(min_f64, double, (a != a || a < b) ? a : a == b && a == 0 ? -(-a - b) : b)

static const tg_row_fn binary_rows[][2] = {
    [OP_ADD] = {add_f32, add_f64},
    [OP_AXPY] = {axpy_f32, axpy_f64},
    [OP_SUB] = {sub_f32, sub_f64},
    [OP_MUL] = {mul_f32, mul_f64},
    [OP_DIV] = {div_f32, div_f64},
    [OP_NEG] = {neg_f32, neg_f64},
    [OP_MAX] = {max_f32, max_f64},
    [OP_MIN] = {min_f32, min_f64},
};

/* out = a OP b elementwise, b broadcast to out's shape (out and a have it). */
static void run_binary(binop op, tg_tensor *out, const tg_tensor *a, const tg_tensor *b,
                       double alpha) {
    tg__map(out, 2, (const tg_tensor *[]){a, b}, binary_rows[op][out->dtype], &alpha);
}

/* A new tensor a OP b of the broadcast shape, not yet on the tape. */
static tg_tensor *binary_owned(const char *name, binop op, tg_tensor *a, tg_tensor *b) {
    tg_tensor *args[2] = {a, b};
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    if (!tg__check_args(name, 2, args) ||
        !tg__broadcast_shapes(name, a->ndim, a->shape, b->ndim, b->shape, &ndim, shape))
        return NULL;
    tg_tensor *out = tg__new_owned(name, ndim, shape, a->dtype);
    if (out) run_binary(op, out, a, b, 1.0);
    return out;
}

/* A 0-dim tensor of t's dtype holding s, as PyTorch wraps a Python number. */
static tg_tensor *wrap_scalar(const tg_tensor *t, double s) {
    return tg_scalar(s, t->dtype);
}

/* ---- add ---------------------------------------------------------------------- */

static int add_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    for (int i = 0; i < 2; i++)
        if (needs[i] && !(gi[i] = tg__sum_to(g, node->in_ndim[i], node->in_shape[i]))) return -1;
    return 0;
}
static const tg_op_def add_def = {"AddBackward0", add_backward,
                                  "d(a+b)/da = 1, d(a+b)/db = 1 (summed over broadcast dims)"};

tg_tensor *tg_add(tg_tensor *a, tg_tensor *b) {
    tg_tensor *out = binary_owned("add", OP_ADD, a, b);
    return out ? tg__finish(out, &add_def, 2, (tg_tensor *[]){a, b}, NULL) : NULL;
}

/* ---- sub ---------------------------------------------------------------------- */

static int sub_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    if (needs[0] && !(gi[0] = tg__sum_to(g, node->in_ndim[0], node->in_shape[0]))) return -1;
    if (needs[1] && !(gi[1] = tg__sum_to(tg_neg(g), node->in_ndim[1], node->in_shape[1])))
        return -1;
    return 0;
}
static const tg_op_def sub_def = {"SubBackward0", sub_backward,
                                  "d(a-b)/da = 1, d(a-b)/db = -1 (summed over broadcast dims)"};

tg_tensor *tg_sub(tg_tensor *a, tg_tensor *b) {
    tg_tensor *out = binary_owned("sub", OP_SUB, a, b);
    return out ? tg__finish(out, &sub_def, 2, (tg_tensor *[]){a, b}, NULL) : NULL;
}

/* ---- mul: saves each input that the other's gradient needs --------------------------- */

static int mul_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    /* saved[k] for input i is at ints[i]: d(ab)/da = b, d(ab)/db = a. */
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        tg_tensor *other = node->saved[node->ints[1 - i]];
        if (!(gi[i] = tg__sum_to(tg_mul(g, other), node->in_ndim[i], node->in_shape[i])))
            return -1;
    }
    return 0;
}
static const tg_op_def mul_def = {"MulBackward0", mul_backward,
                                  "d(a*b)/da = b, d(a*b)/db = a (summed over broadcast dims)"};

/* Saves, for each input that needs a gradient, the other input. */
static bool save_cross(tg_node *node, tg_tensor *a, tg_tensor *b) {
    tg_tensor *in[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (!node->next[1 - i].node && !node->next[1 - i].leaf) continue;
        node->ints[i] = node->n_saved;
        if (!tg__save(node, in[i])) return false;
    }
    return true;
}

tg_tensor *tg_mul(tg_tensor *a, tg_tensor *b) {
    tg_node *node;
    tg_tensor *out = binary_owned("mul", OP_MUL, a, b);
    if (!out || !(out = tg__finish(out, &mul_def, 2, (tg_tensor *[]){a, b}, &node))) return NULL;
    if (node && !save_cross(node, a, b)) return NULL; /* out stays pooled */
    return out;
}

/* ---- div: d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 ----------------------------------------- */

static int div_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *a = node->saved[0], *b = node->saved[1];
    if (needs[0] && !(gi[0] = tg__sum_to(tg_div(g, b), node->in_ndim[0], node->in_shape[0])))
        return -1;
    if (needs[1]) {
        /* -g ((a / b) / b), in PyTorch's order: -(g a) / b^2 overflows (and
         * underflows) where it does not. */
        tg_tensor *ga = tg_mul(tg_neg(g), tg_div(tg_div(a, b), b));
        if (!(gi[1] = tg__sum_to(ga, node->in_ndim[1], node->in_shape[1]))) return -1;
    }
    return 0;
}
static const tg_op_def div_def = {"DivBackward0", div_backward,
                                  "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 (summed over broadcast dims)"};

tg_tensor *tg_div(tg_tensor *a, tg_tensor *b) {
    tg_node *node;
    tg_tensor *out = binary_owned("div", OP_DIV, a, b);
    if (!out || !(out = tg__finish(out, &div_def, 2, (tg_tensor *[]){a, b}, &node))) return NULL;
    if (node && (!tg__save(node, a) || !tg__save(node, b))) return NULL;
    return out;
}

/* ---- neg ---------------------------------------------------------------------- */

static int neg_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    (void)node, (void)needs;
    gi[0] = tg_neg(g);
    return gi[0] ? 0 : -1;
}
static const tg_op_def neg_def = {"NegBackward0", neg_backward, "d(-a)/da = -1"};

tg_tensor *tg_neg(tg_tensor *a) {
    if (!a) {
        tg__null_arg("neg");
        return NULL;
    }
    tg_tensor *out = tg__new_owned("neg", a->ndim, a->shape, a->dtype);
    if (!out) return NULL;
    run_binary(OP_NEG, out, a, a, 1.0);
    return tg__finish(out, &neg_def, 1, &a, NULL);
}

/* ---- maximum and minimum: d/da max(a, b) = [a > b] + [a == b] / 2 ------------------ */

/* out = g * share(x, y): x's share of the gradient where x wins (1), ties (1/2)
 * or loses (0); `wins` is > for maximum, < for minimum. Where either is NaN
 * (no order), both get all of it, as in PyTorch. */
#define SHARE_ROW(name, T, WINS)                                                         \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {                 \
        (void)ctx;                                                                       \
        T *o = (T *)p[0];                                                                \
        const T *g = (const T *)p[1], *x = (const T *)p[2], *y = (const T *)p[3];        \
        for (int64_t i = 0; i < n; i++) {                                                \
            T a = x[i * s[2]], b = y[i * s[3]];                                          \
            T share = (b WINS a) ? (T)0 : a == b ? (T)0.5 : (T)1;                        \
            o[i * s[0]] = g[i * s[1]] * share;                                           \
        }                                                                                \
    }
SHARE_ROW(max_share_f32, float, >)
SHARE_ROW(max_share_f64, double, >)
SHARE_ROW(min_share_f32, float, <)
SHARE_ROW(min_share_f64, double, <)

static int extremum_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    bool is_max = strcmp(node->def->name, "MaximumBackward0") == 0;
    tg_row_fn share = is_max ? (g->dtype == TG_F32 ? max_share_f32 : max_share_f64)
                             : (g->dtype == TG_F32 ? min_share_f32 : min_share_f64);
    tg_tensor *a = node->saved[0], *b = node->saved[1];
    for (int i = 0; i < 2; i++) {
        if (!needs[i]) continue;
        tg_tensor *full = tg__new(node->def->name, g->ndim, g->shape, g->dtype);
        if (!full) return -1;
        tg__map(full, 3, (const tg_tensor *[]){g, i == 0 ? a : b, i == 0 ? b : a}, share, NULL);
        if (!(gi[i] = tg__sum_to(full, node->in_ndim[i], node->in_shape[i]))) return -1;
    }
    return 0;
}
static const tg_op_def maximum_def = {"MaximumBackward0", extremum_backward,
                                          "1 to the larger input, 1/2 to each on a tie"};
static const tg_op_def minimum_def = {"MinimumBackward0", extremum_backward,
                                          "1 to the smaller input, 1/2 to each on a tie"};

static tg_tensor *extremum(const char *name, binop op, const tg_op_def *def, tg_tensor *a,
                           tg_tensor *b) {
    tg_node *node;
    tg_tensor *out = binary_owned(name, op, a, b);
    if (!out || !(out = tg__finish(out, def, 2, (tg_tensor *[]){a, b}, &node))) return NULL;
    if (node && (!tg__save(node, a) || !tg__save(node, b))) return NULL;
    return out;
}

tg_tensor *tg_maximum(tg_tensor *a, tg_tensor *b) {
    return extremum("maximum", OP_MAX, &maximum_def, a, b);
}
tg_tensor *tg_minimum(tg_tensor *a, tg_tensor *b) {
    return extremum("minimum", OP_MIN, &minimum_def, a, b);
}

/* ---- where: cond ? a : b ------------------------------------------------------------- */

#define WHERE_ROW(name, T)                                                               \
    static void name(char **p, const int64_t *s, int64_t n, void *ctx) {                 \
        (void)ctx;                                                                       \
        T *o = (T *)p[0];                                                                \
        const T *c = (const T *)p[1], *x = (const T *)p[2], *y = (const T *)p[3];        \
        for (int64_t i = 0; i < n; i++) o[i * s[0]] = c[i * s[1]] != 0 ? x[i * s[2]] : y[i * s[3]]; \
    }
WHERE_ROW(where_f32, float)
WHERE_ROW(where_f64, double)

/* The gradient goes to a where cond holds and to b elsewhere. */
static int where_backward(tg_node *node, tg_tensor *g, tg_tensor **gi, const bool *needs) {
    tg_tensor *cond = node->saved[0], *zero = tg_scalar(0, g->dtype);
    if (needs[1] && !(gi[1] = tg__sum_to(tg_where(cond, g, zero), node->in_ndim[1],
                                         node->in_shape[1])))
        return -1;
    if (needs[2] && !(gi[2] = tg__sum_to(tg_where(cond, zero, g), node->in_ndim[2],
                                         node->in_shape[2])))
        return -1;
    return 0;
}
static const tg_op_def where_def = {"WhereBackward0", where_backward,
                                    "1 to a where cond holds, 1 to b elsewhere"};

tg_tensor *tg_where(tg_tensor *cond, tg_tensor *a, tg_tensor *b) {
    tg_tensor *args[3] = {cond, a, b};
    int n1, n2;
    int64_t s1[TG_MAX_DIMS], s2[TG_MAX_DIMS];
    if (!tg__check_args("where", 3, args) ||
        !tg__broadcast_shapes("where", cond->ndim, cond->shape, a->ndim, a->shape, &n1, s1) ||
        !tg__broadcast_shapes("where", n1, s1, b->ndim, b->shape, &n2, s2))
        return NULL;
    tg_tensor *out = tg__new_owned("where", n2, s2, a->dtype);
    if (!out) return NULL;
    tg__map(out, 3, (const tg_tensor *[]){cond, a, b}, a->dtype == TG_F32 ? where_f32 : where_f64,
            NULL);
    tg_node *node;
    if (!(out = tg__finish(out, &where_def, 3, args, &node))) return NULL;
    if (node && !tg__save(node, cond)) return NULL;
    return out;
}

/* ---- Scalar forms ---------------------------------------------------------------
 * As in PyTorch, the number is wrapped in a 0-dim tensor and the tensor op
 * runs (so x + 2 is AddBackward0); the wrapped number needs no gradient. */

static tg_tensor *with_scalar(tg_tensor *(*op)(tg_tensor *, tg_tensor *), tg_tensor *a,
                              double s, bool scalar_first) {
    if (!a) {
        tg__null_arg("scalar op");
        return NULL;
    }
    tg_tensor *wrapped = wrap_scalar(a, s);
    if (!wrapped) return NULL;
    bool pooled = tg__pool_active();
    tg_tensor *out = scalar_first ? op(wrapped, a) : op(a, wrapped);
    if (!pooled) tg_release(wrapped);
    return out;
}

tg_tensor *tg_add_scalar(tg_tensor *a, double s) { return with_scalar(tg_add, a, s, false); }
tg_tensor *tg_sub_scalar(tg_tensor *a, double s) { return with_scalar(tg_sub, a, s, false); }
tg_tensor *tg_rsub_scalar(tg_tensor *a, double s) { return with_scalar(tg_sub, a, s, true); }
tg_tensor *tg_mul_scalar(tg_tensor *a, double s) { return with_scalar(tg_mul, a, s, false); }
tg_tensor *tg_div_scalar(tg_tensor *a, double s) { return with_scalar(tg_div, a, s, false); }

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
    if (!tg__broadcast_shapes(op, self->ndim, self->shape, other->ndim, other->shape, &ndim,
                              shape))
        return NULL;
    if (ndim != self->ndim || memcmp(shape, self->shape, (size_t)ndim * sizeof *shape) != 0) {
        char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_SHAPE, "%s: shape %s cannot be broadcast to the output shape %s", op,
                  tg__shape_str(bufb, sizeof bufb, other->ndim, other->shape),
                  tg__shape_str(bufa, sizeof bufa, self->ndim, self->shape));
        return NULL;
    }
    for (int d = 0; d < self->ndim; d++)
        if (self->strides[d] == 0 && self->shape[d] > 1) {
            tg__error(TG_ERR_VALUE,
                      "%s: cannot write in place into an expanded tensor (its elements overlap)",
                      op);
            return NULL;
        }
    if (!tg__check_inplace(op, self, other)) return NULL;
    bool same_geometry = self->offset == other->offset && tg__same_shape(self, other) &&
                         memcmp(self->strides, other->strides,
                                (size_t)self->ndim * sizeof *self->strides) == 0;
    if (self->storage == other->storage && !same_geometry)
        return tg__autorelease(tg__contiguous_copy_owned(op, other));
    return other;
}

/* Runs and cleans up: prepare_inplace may have pooled a copy when no pool
 * was pushed, so a private pool scopes it. */
static int inplace_binary(const char *name, binop op, tg_tensor *self, tg_tensor *other,
                          double alpha) {
    tg_pool *pool = tg_pool_push();
    if (!pool) return -1;
    tg_tensor *src = prepare_inplace(name, self, other, true);
    if (src) {
        run_binary(op, self, self, src, alpha);
        self->storage->version++;
    }
    tg_pool_pop(pool);
    return src ? 0 : -1;
}

int tg_add_(tg_tensor *self, tg_tensor *other, double alpha) {
    return inplace_binary("add_", alpha == 1 ? OP_ADD : OP_AXPY, self, other, alpha);
}

int tg_mul_(tg_tensor *self, tg_tensor *other) {
    return inplace_binary("mul_", OP_MUL, self, other, 1.0);
}

int tg_mul_scalar_(tg_tensor *self, double s) {
    if (!self) {
        tg__null_arg("mul_scalar_");
        return -1;
    }
    tg_pool *pool = tg_pool_push();
    if (!pool) return -1;
    tg_tensor *wrapped = wrap_scalar(self, s);
    int rc = wrapped ? inplace_binary("mul_scalar_", OP_MUL, self, wrapped, 1.0) : -1;
    tg_pool_pop(pool);
    return rc;
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
    if (!tg__check_inplace(op, self, NULL)) return -1;
    tg__fill(self, value);
    self->storage->version++;
    return 0;
}

int tg_fill_(tg_tensor *self, double value) { return fill_inplace("fill_", self, value); }
int tg_zero_(tg_tensor *self) { return fill_inplace("zero_", self, 0.0); }
