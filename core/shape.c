/* core/shape.c - broadcasting and dimension helpers shared by the ops. */
#include "internal/tensor.h"

bool tg__broadcast_shapes(const char *op, int na, const int64_t *sa, int nb, const int64_t *sb,
                          int *nout, int64_t *out) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        /* Align from the right, as NumPy does. */
        int64_t da = i < n - na ? 1 : sa[i - (n - na)];
        int64_t db = i < n - nb ? 1 : sb[i - (n - nb)];
        if (da != db && da != 1 && db != 1) {
            char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
            tg__error(TG_ERR_SHAPE, "%s: shapes %s and %s cannot be broadcast", op,
                      tg__shape_str(bufa, sizeof bufa, na, sa),
                      tg__shape_str(bufb, sizeof bufb, nb, sb));
            return false;
        }
        out[i] = da == 1 ? db : da;
    }
    *nout = n;
    return true;
}

void tg__broadcast_strides(const tg_tensor *t, int ndim, const int64_t *shape, int64_t *strides) {
    int lead = ndim - t->ndim;
    for (int i = 0; i < ndim; i++) {
        if (i < lead || (t->shape[i - lead] == 1 && shape[i] != 1))
            strides[i] = 0;
        else
            strides[i] = t->strides[i - lead];
    }
}

bool tg__wrap_dim(const char *op, int *dim, int ndim) {
    int n = ndim > 0 ? ndim : 1; /* a 0-dim tensor accepts dim 0 and -1 */
    if (*dim < -n || *dim >= n) {
        tg__error(TG_ERR_VALUE, "%s: dim %d out of range for a %d-dim tensor", op, *dim, ndim);
        return false;
    }
    if (*dim < 0) *dim += n;
    return true;
}
