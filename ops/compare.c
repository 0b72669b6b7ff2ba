/* ops/compare.c - the comparisons eq ne lt le gt ge: elementwise,
 * broadcasting, on two tensors of one dtype (any) or a tensor and a number,
 * giving a bool tensor and no gradient. NaN compares as IEEE says: unequal
 * to everything, itself included. */
#include "ops_internal.h"

/* Operand 0 is the bool result, operands 1 and 2 the compared T values. */
#define COMPARE_ROW(name, T, OP)                                                         \
    TG__ROW_BODY(name, T, T,                                                             \
                 ((uint8_t *)ptr_[0])[i_ * s_[0]] = TG__IN(T, T, 1) OP TG__IN(T, T, 2);) \
    TG_ROW_KERNEL_LIKE(name, name##_body, 3, 1, 1, 0)
/* The kernels of one comparison for each dtype, and their table by dtype. */
#define COMPARE_ROWS(name, OP)            \
    COMPARE_ROW(name##_f32, float, OP)    \
    COMPARE_ROW(name##_f64, double, OP)   \
    COMPARE_ROW(name##_i64, int64_t, OP)  \
    COMPARE_ROW(name##_bool, uint8_t, OP) \
    static const tg__row_fn name[] = {name##_f32, name##_f64, name##_i64, name##_bool};
COMPARE_ROWS(eq_rows, ==)
COMPARE_ROWS(ne_rows, !=)
COMPARE_ROWS(lt_rows, <)
COMPARE_ROWS(le_rows, <=)
COMPARE_ROWS(gt_rows, >)
COMPARE_ROWS(ge_rows, >=)

static tg_tensor *compare(const char *op, const tg__row_fn *rows, tg_tensor *a, tg_tensor *b) {
    if (!tg__check_same_dtype(op, 2, (tg_tensor *[]){a, b})) return NULL;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    if (!tg__broadcast_shapes(op, a->ndim, a->shape, b->ndim, b->shape, &ndim, shape)) return NULL;
    tg_tensor *out = tg__new(op, ndim, shape, TG_BOOL);
    if (out) tg__map(out, 2, (const tg_tensor *[]){a, b}, rows[a->dtype], NULL);
    return out;
}

/* The number meets the tensor as PyTorch meets a Python number: a
 * floating-point tensor in its own dtype (the number rounded to it); an
 * int64 or bool tensor meets an integral number within int64's range as
 * an int, in int64, and any other as a float, in float32, PyTorch's
 * default dtype: so 2 < 2.5 holds, and 16777217 == 16777216.5, both
 * 16777216 in float32, as in PyTorch. */
static tg_tensor *compare_scalar(const char *op, const tg__row_fn *rows, tg_tensor *a, double s) {
    if (!a) {
        tg__null_arg(op);
        return NULL;
    }
    tg_pool *pool = tg_pool_push(); /* the wrapped number and any conversion */
    if (!pool) return NULL;
    tg_dtype common = tg_dtype_is_float(a->dtype)  ? a->dtype
                      : s == (double)tg__to_i64(s) ? TG_I64
                                                   : TG_F32;
    tg_tensor *x = a->dtype == common ? a : tg_to_dtype(a, common);
    tg_tensor *out = x ? compare(op, rows, x, tg_scalar(s, x->dtype)) : NULL;
    tg_retain(out);
    tg_pool_pop(pool);
    return tg__autorelease(out);
}

tg_tensor *tg_eq(tg_tensor *a, tg_tensor *b) { return compare("eq", eq_rows, a, b); }
tg_tensor *tg_ne(tg_tensor *a, tg_tensor *b) { return compare("ne", ne_rows, a, b); }
tg_tensor *tg_lt(tg_tensor *a, tg_tensor *b) { return compare("lt", lt_rows, a, b); }
tg_tensor *tg_le(tg_tensor *a, tg_tensor *b) { return compare("le", le_rows, a, b); }
tg_tensor *tg_gt(tg_tensor *a, tg_tensor *b) { return compare("gt", gt_rows, a, b); }
tg_tensor *tg_ge(tg_tensor *a, tg_tensor *b) { return compare("ge", ge_rows, a, b); }
tg_tensor *tg_eq_scalar(tg_tensor *a, double s) { return compare_scalar("eq", eq_rows, a, s); }
tg_tensor *tg_ne_scalar(tg_tensor *a, double s) { return compare_scalar("ne", ne_rows, a, s); }
tg_tensor *tg_lt_scalar(tg_tensor *a, double s) { return compare_scalar("lt", lt_rows, a, s); }
tg_tensor *tg_le_scalar(tg_tensor *a, double s) { return compare_scalar("le", le_rows, a, s); }
tg_tensor *tg_gt_scalar(tg_tensor *a, double s) { return compare_scalar("gt", gt_rows, a, s); }
tg_tensor *tg_ge_scalar(tg_tensor *a, double s) { return compare_scalar("ge", ge_rows, a, s); }
