/* tests/test_index.c - index_select, gather, scatter_add (and scatter_add_),
 * one_hot, embedding and the Embedding module: values, node names and
 * gradients against PyTorch (golden/golden_index.h), gradcheck on
 * contiguous, transposed and broadcast inputs, every error, and no leak
 * when memory runs out. */
#include <stdint.h>
#include <unistd.h>

#include "golden/golden_index.h"
#include "tg_test.h"

static const tg_dtype dtypes[] = {TG_F32, TG_F64, TG_I64};

static tg_tensor *maybe_transposed(tg_tensor *t, int transposed) {
    return transposed ? tg_transpose(t, 0, 1) : t;
}

static tg_tensor *run_golden(const golden_index *c, tg_tensor *x, tg_tensor *index,
                             tg_tensor *src) {
    if (strcmp(c->op, "index_select") == 0) return tg_index_select(x, c->dim, index);
    if (strcmp(c->op, "gather") == 0) return tg_gather(x, c->dim, index);
    if (strcmp(c->op, "scatter_add") == 0) return tg_scatter_add(x, c->dim, index, src);
    return tg_embedding(x, index, c->padding_idx);
}

static void check_shape(const tg_tensor *t, int ndim, const int64_t *shape) {
    CHECK(tg_ndim(t) == ndim);
    for (int d = 0; d < ndim; d++) CHECK(tg_shape(t)[d] == shape[d]);
}

static void index_ops_match_pytorch(void) {
    int n = (int)(sizeof golden_indexes / sizeof golden_indexes[0]), with_grad = 0;
    char context[64];
    for (int i = 0; i < n; i++) {
        const golden_index *c = &golden_indexes[i];
        snprintf(context, sizeof context, "%s #%d", c->op, i);
        tg_test_context = context;
        tg_dtype dt = dtypes[c->dtype];
        bool floating = dt != TG_I64;
        tg_tensor *xb = tg_test_tensor(c->x, c->x_ndim, c->x_shape, dt), *sb = NULL, *src = NULL;
        tg_tensor *ib = tg_from_data(c->index, c->index_ndim, c->index_shape, TG_I64);
        if (floating) tg_requires_grad_(xb, true);
        if (c->src_ndim) {
            sb = tg_test_tensor(c->src, c->src_ndim, c->src_shape, dt);
            if (floating) tg_requires_grad_(sb, true);
            src = maybe_transposed(sb, c->src_transposed);
        }
        tg_tensor *out = run_golden(c, maybe_transposed(xb, c->x_transposed),
                                    maybe_transposed(ib, c->index_transposed), src);
        CHECK(out != NULL);
        check_shape(out, c->out_ndim, c->out_shape);
        if (tg_test_failed_now) return;
        CHECK(tg_dtype_of(out) == dt);
        CHECK_EQ_STR(tg_grad_fn_name(out) ? tg_grad_fn_name(out) : "", c->grad_fn);
        CHECK_VALUES(out, c->out, tg_numel(out), 0, 0); /* moving and adding as PyTorch does */
        if (!floating) continue;
        tg_tensor *w = tg_test_tensor(c->w, c->out_ndim, c->out_shape, dt);
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        /* In PyTorch's order: the sums of repeated indices too are bit for bit. */
        if (tg_numel(xb)) CHECK_VALUES(tg_grad(xb), c->gx, tg_numel(xb), 0, 0);
        if (sb && tg_numel(sb)) CHECK_VALUES(tg_grad(sb), c->gsrc, tg_numel(sb), 0, 0);
        with_grad++;
    }
    printf("  %d cases, %d with gradients\n", n, with_grad);
}

static void one_hot_matches_pytorch(void) {
    int n = (int)(sizeof golden_one_hots / sizeof golden_one_hots[0]);
    for (int i = 0; i < n; i++) {
        const golden_one_hot *c = &golden_one_hots[i];
        char context[32];
        snprintf(context, sizeof context, "one_hot #%d", i);
        tg_test_context = context;
        tg_tensor *labels = tg_from_data(c->labels, c->ndim, c->shape, TG_I64);
        tg_tensor *out = tg_one_hot(maybe_transposed(labels, c->transposed), c->num_classes);
        CHECK(out != NULL && tg_dtype_of(out) == TG_I64 && tg_grad_fn_name(out) == NULL);
        check_shape(out, c->out_ndim, c->out_shape);
        if (tg_test_failed_now) return;
        CHECK(memcmp(tg_data(out), c->out, (size_t)tg_numel(out) * sizeof(int64_t)) == 0);
    }
}

/* ---- The Embedding module ----------------------------------------------------------- */

static void embedding_module_draws_pytorch_weights(void) {
    int n = (int)(sizeof golden_embedding_modules / sizeof golden_embedding_modules[0]);
    for (int i = 0; i < n; i++) {
        const golden_embedding_module *c = &golden_embedding_modules[i];
        tg_test_context = c->name;
        tg_manual_seed(c->seed);
        tg_module *emb = tg_embedding_new(c->num, c->dim, c->padding_idx, dtypes[c->dtype], NULL);
        CHECK(emb != NULL);
        CHECK_EQ_STR(tg_module_name(emb), "Embedding");
        tg_tensor *w = tg_module_parameter(emb, "weight");
        CHECK(w && tg_ndim(w) == 2 && tg_size(w, 0) == c->num && tg_size(w, 1) == c->dim);
        /* The same draws, the padding row zero. Bit for bit where PyTorch
         * transforms them in double (float64, and float32 tables of fewer
         * than 16 elements). Its float32 kernel for larger ones (AVX2) uses
         * vectorised approximations of log, sin and cos of its own, which
         * tg_randn does not copy (libm's are correctly rounded): about half
         * the values then differ, by up to 67 units in the last place on
         * these cases (test_print.c allows tg_randn the same). */
        bool own_libm = c->dtype == 0 && c->num * c->dim >= 16;
        CHECK_VALUES(w, c->weight, c->num * c->dim, own_libm ? 1e-6 : 0, own_libm ? 1e-6 : 0);
        tg_module_free(emb);
    }
}

/* The padding row reads as any other, gets no gradient, and stays zero
 * under an optimizer step; the others sum their gradients. */
static void embedding_module_forward_and_padding(void) {
    tg_module *emb = tg_embedding_new(5, 3, -2, TG_F64, NULL); /* row 3 */
    CHECK(emb != NULL);
    int n;
    const tg_named_tensor *ps = tg_module_parameters(emb, &n);
    CHECK(n == 1);
    CHECK_EQ_STR(ps[0].name, "weight");
    tg_tensor *w = ps[0].tensor;
    CHECK(tg_item(tg_sum(tg_abs(tg_index_select(w, 0, tg_scalar(3, TG_I64))))) == 0);
    tg_tensor *x = tg_from_data((int64_t[]){3, 1, 1, 4, 3, 0}, TG_SHAPE(2, 3), TG_I64);
    tg_tensor *y = tg_module_forward(emb, x);
    CHECK(y && tg_ndim(y) == 3 && tg_size(y, 2) == 3);
    CHECK_EQ_STR(tg_grad_fn_name(y), "EmbeddingBackward0");
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    double want[] = {1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    CHECK_VALUES(tg_grad(w), want, 15, 0, 0);
    CHECK(tg_module_forward(emb, tg_ones(TG_SHAPE(2), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "embedding: expected dtype int64 for indices, got float32");
    tg_module_free(emb);
    /* An empty table, as torch.nn.Embedding(0, 3) */
    emb = tg_embedding_new(0, 3, TG_EMBEDDING_NO_PADDING, TG_F32, NULL);
    CHECK(emb && tg_module_num_elements(emb) == 0);
    tg_module_free(emb);
}

static void embedding_module_saves_and_loads(void) {
    char path[] = "/tmp/tg-index-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    tg_module *a = tg_embedding_new(6, 4, 0, TG_F32, NULL);
    tg_module *b = tg_embedding_new(6, 4, 0, TG_F32, NULL);
    CHECK(a && b && tg_module_save(a, path) == 0 && tg_module_load(b, path) == 0);
    tg_tensor *wa = tg_module_parameter(a, "weight"), *wb = tg_module_parameter(b, "weight");
    CHECK(memcmp(tg_data(wa), tg_data(wb), 24 * sizeof(float)) == 0);
    tg_module *c = tg_embedding_new(5, 4, 0, TG_F32, NULL);
    CHECK(tg_module_load(c, path) == -1);
    CHECK(tg_last_status() != TG_OK);
    tg_clear_error();
    remove(path);
    tg_module_free(a);
    tg_module_free(b);
    tg_module_free(c);
}

/* ---- gradcheck, in float64 -------------------------------------------------------------
 * Inputs x (3, 4) and y (3, 4); a function reads them as they are, transposed
 * (4, 3), or broadcast (the first row expanded to (3, 4)). */

typedef struct indices {
    tg_tensor *pick;    /* (4,): 3, 0, 3, 1 */
    tg_tensor *rows;    /* (3, 2), entries below 4, repeats */
    tg_tensor *columns; /* (5, 3), entries below 4, for the transposed (4, 3) */
    tg_tensor *table;   /* (2, 3), entries below 3 */
} indices;

static tg_tensor *row0(tg_tensor *t) { return tg_expand(tg_slice(t, 0, 0, 1, 1), TG_SHAPE(3, 4)); }
static tg_tensor *transposed(tg_tensor *t) { return tg_transpose(t, 0, 1); }

#define GRADCHECK_FN(name, expr)                              \
    static tg_tensor *name(tg_tensor *const *in, void *ctx) { \
        const indices *ix = ctx;                              \
        tg_tensor *x = in[0], *y = in[1];                     \
        (void)ix, (void)x, (void)y;                           \
        return (expr);                                        \
    }
GRADCHECK_FN(f_index_select, tg_index_select(x, 1, ix->pick))
GRADCHECK_FN(f_index_select_t, tg_index_select(transposed(x), 0, ix->pick))
GRADCHECK_FN(f_index_select_b, tg_index_select(row0(x), 1, ix->pick))
GRADCHECK_FN(f_gather, tg_gather(x, 1, ix->rows))
GRADCHECK_FN(f_gather_t, tg_gather(transposed(x), 0, ix->columns))
GRADCHECK_FN(f_gather_b, tg_gather(row0(x), 1, ix->rows))
GRADCHECK_FN(f_gather_index_t, tg_gather(x, 0, transposed(ix->table)))
GRADCHECK_FN(f_scatter_add, tg_scatter_add(x, 1, ix->rows, y)) /* src larger than index */
GRADCHECK_FN(f_scatter_add_t, tg_scatter_add(transposed(x), 0, ix->table, transposed(y)))
GRADCHECK_FN(f_scatter_add_b, tg_scatter_add(row0(x), 1, ix->rows, row0(y)))
GRADCHECK_FN(f_embedding, tg_embedding(x, ix->table, TG_EMBEDDING_NO_PADDING))
/* The padding row gets no gradient although its values are read: a row the
 * indices never reach, or gradcheck would see the difference. */
GRADCHECK_FN(f_embedding_pad, tg_embedding(transposed(y), ix->table, -1))
GRADCHECK_FN(f_embedding_t, tg_embedding(transposed(y), ix->rows, TG_EMBEDDING_NO_PADDING))
GRADCHECK_FN(f_embedding_b, tg_embedding(row0(x), ix->table, TG_EMBEDDING_NO_PADDING))

static tg_tensor *i64(const int64_t *data, int ndim, const int64_t *shape) {
    return tg_from_data(data, ndim, shape, TG_I64);
}

static void gradcheck_every_op(void) {
    tg_tensor *in[2] = {tg_requires_grad_(tg_rand(TG_SHAPE(3, 4), TG_F64, NULL), true),
                        tg_requires_grad_(tg_rand(TG_SHAPE(3, 4), TG_F64, NULL), true)};
    indices ix = {
        i64((int64_t[]){3, 0, 3, 1}, TG_SHAPE(4)),
        i64((int64_t[]){0, 3, 2, 2, 1, 0}, TG_SHAPE(3, 2)),
        i64((int64_t[]){3, 0, 3, 1, 1, 2, 0, 0, 0, 2, 3, 1, 3, 3, 3}, TG_SHAPE(5, 3)),
        i64((int64_t[]){2, 0, 2, 1, 1, 0}, TG_SHAPE(2, 3)),
    };
    struct {
        const char *name;
        tg_gradcheck_fn fn;
        int n;
    } cases[] = {
        {"index_select", f_index_select, 1},
        {"index_select transposed", f_index_select_t, 1},
        {"index_select broadcast", f_index_select_b, 1},
        {"gather", f_gather, 1},
        {"gather transposed", f_gather_t, 1},
        {"gather broadcast", f_gather_b, 1},
        {"gather transposed index", f_gather_index_t, 1},
        {"scatter_add", f_scatter_add, 2},
        {"scatter_add transposed", f_scatter_add_t, 2},
        {"scatter_add broadcast", f_scatter_add_b, 2},
        {"embedding", f_embedding, 1},
        {"embedding padding_idx", f_embedding_pad, 2},
        {"embedding transposed", f_embedding_t, 2},
        {"embedding broadcast", f_embedding_b, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].name;
        CHECK(tg_gradcheck(cases[i].fn, &ix, cases[i].n, in, NULL) == 0);
    }
}

/* ---- 0-dim tensors, as PyTorch takes them --------------------------------------------- */

static void zero_dim_tensors_count_as_one_element(void) {
    tg_tensor *s = tg_requires_grad_(tg_scalar(2.5, TG_F64), true);
    tg_tensor *zero = tg_scalar(0, TG_I64), *zeros = tg_zeros(TG_SHAPE(3), TG_I64);
    tg_tensor *g = tg_gather(s, 0, zeros); /* (3,): read three times */
    CHECK(g && tg_ndim(g) == 1 && tg_get(g, (int64_t[]){2}) == 2.5);
    CHECK(tg_backward(tg_sum(g), NULL) == 0 && tg_item(tg_grad(s)) == 3);
    CHECK(tg_ndim(tg_gather(tg_ones(TG_SHAPE(2), TG_F32), -1, zero)) == 0);
    tg_tensor *sa = tg_scatter_add(tg_scalar(1, TG_F32), 0, zeros, tg_ones(TG_SHAPE(3), TG_F32));
    CHECK(sa && tg_ndim(sa) == 0 && tg_item(sa) == 4);
    CHECK(tg_gather(s, 0, tg_scalar(1, TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "gather: index 1 is out of bounds for dimension 0 with size 1");
    CHECK(tg_gather(s, 1, zero) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "gather: dim 1 out of range for a 0-dim tensor");
}

/* ---- scatter_add_ ------------------------------------------------------------------------ */

static void scatter_add_in_place(void) {
    tg_tensor *rows = tg_from_data((int64_t[]){0, 3, 2, 2, 1, 0}, TG_SHAPE(3, 2), TG_I64);
    tg_tensor *src = tg_arange(1, 7, 1, TG_F32), *src2 = tg_view(src, TG_SHAPE(3, 2));
    tg_tensor *self = tg_ones(TG_SHAPE(3, 4), TG_F32);
    tg_tensor *want = tg_scatter_add(self, 1, rows, src2);
    CHECK(tg_scatter_add_(self, 1, rows, src2) == 0);
    CHECK(tg_item(tg_sum(tg_ne(self, want))) == 0);
    /* into a strided view, through its strides */
    tg_tensor *base = tg_zeros(TG_SHAPE(4, 3), TG_F32), *view = tg_transpose(base, 0, 1);
    CHECK(tg_scatter_add_(view, 1, rows, src2) == 0);
    CHECK(tg_item(tg_sum(tg_ne(tg_add_scalar(view, 1), want))) == 0);
    /* The write bumps the version counter: a node that saved self fails. */
    tg_tensor *p = tg_requires_grad_(tg_ones(TG_SHAPE(3, 4), TG_F32), true);
    tg_tensor *y = tg_sum(tg_mul(p, self));
    CHECK(tg_scatter_add_(self, 1, rows, src2) == 0);
    CHECK(tg_backward(y, NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
    /* src read as it was, though it is self's own memory (PyTorch refuses a full overlap) */
    tg_tensor *m = tg_view(tg_arange(0, 6, 1, TG_F64), TG_SHAPE(3, 2));
    tg_tensor *expect = tg_scatter_add(m, 1, rows, tg_clone(m));
    CHECK(expect == NULL); /* index entries reach 3: too large for m's 2 columns */
    tg_clear_error();
    tg_tensor *cols = tg_from_data((int64_t[]){1, 0, 1, 1, 0, 0}, TG_SHAPE(3, 2), TG_I64);
    expect = tg_scatter_add(m, 1, cols, tg_clone(m));
    CHECK(tg_scatter_add_(m, 1, cols, m) == 0);
    CHECK(tg_item(tg_sum(tg_ne(m, expect))) == 0);
    /* an int64 tensor may be its own index, and sums wrap as PyTorch's */
    tg_tensor *k = tg_from_data((int64_t[]){1, 0, INT64_MAX}, TG_SHAPE(3), TG_I64);
    CHECK(tg_scatter_add_(k, 0, tg_slice(k, 0, 0, 2, 1), tg_ones(TG_SHAPE(2), TG_I64)) == 0);
    int64_t got[3];
    memcpy(got, tg_data(k), sizeof got);
    CHECK(got[0] == 2 && got[1] == 1 && got[2] == INT64_MAX);
    CHECK(tg_scatter_add_(k, 0, tg_from_data((int64_t[]){2}, TG_SHAPE(1), TG_I64),
                          tg_ones(TG_SHAPE(1), TG_I64)) == 0);
    memcpy(got, tg_data(k), sizeof got);
    CHECK(got[2] == INT64_MIN);
    /* bool adds as logical or */
    tg_tensor *b = tg_zeros(TG_SHAPE(2), TG_BOOL), *t = tg_ones(TG_SHAPE(3), TG_BOOL);
    CHECK(tg_scatter_add_(b, 0, tg_zeros(TG_SHAPE(3), TG_I64), t) == 0);
    CHECK(((uint8_t *)tg_data(b))[0] == 1 && ((uint8_t *)tg_data(b))[1] == 0);
}

#define OVERLAP                                                              \
    "unsupported operation: more than one element of the written-to tensor " \
    "refers to a single memory location"

static void scatter_add_in_place_refuses(void) {
    tg_tensor *rows = tg_zeros(TG_SHAPE(2, 2), TG_I64), *src = tg_ones(TG_SHAPE(2, 2), TG_F32);
    tg_tensor *e = tg_expand(tg_zeros(TG_SHAPE(1, 4), TG_F32), TG_SHAPE(3, 4));
    CHECK(tg_scatter_add_(e, 1, rows, src) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "scatter_add_: " OVERLAP);
    tg_tensor *leaf = tg_requires_grad_(tg_zeros(TG_SHAPE(3, 4), TG_F32), true);
    CHECK(tg_scatter_add_(leaf, 1, rows, src) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "scatter_add_: a leaf tensor that requires grad cannot be changed");
    bool previous = tg_set_grad_enabled(false); /* as an optimizer update */
    CHECK(tg_scatter_add_(leaf, 1, rows, src) == 0);
    tg_set_grad_enabled(previous);
    CHECK(tg_item(tg_sum(leaf)) == 4);
    tg_tensor *plain = tg_zeros(TG_SHAPE(3, 4), TG_F32);
    CHECK(tg_scatter_add_(plain, 1, rows,
                          tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true)) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "scatter_add_: in-place ops are not recorded on the tape");
    CHECK(tg_scatter_add_(plain, 1, tg_full(TG_SHAPE(2, 2), 4, TG_I64), src) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "scatter_add_: index 4 is out of bounds for dimension 1 with size 4");
    CHECK(tg_item(tg_sum(plain)) == 0); /* nothing written */
}

/* ---- errors ------------------------------------------------------------------------------ */

static void bad_indices_for_index_select(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(3, 4), TG_F32);
    CHECK(tg_index_select(x, 0, tg_ones(TG_SHAPE(2), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "index_select: expected dtype int64 for index, got float32");
    CHECK(tg_index_select(x, 1, tg_full(TG_SHAPE(2), 4, TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "index_select: index 4 is out of range for a dim of size 4");
    CHECK(tg_index_select(x, 0, tg_full(TG_SHAPE(2), -1, TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "index_select: index -1 is out of range for a dim of size 3");
    CHECK(tg_index_select(x, 0, tg_zeros(TG_SHAPE(1, 2), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "index_select: index is supposed to be a vector, got 2 dims");
    CHECK(tg_index_select(x, 2, tg_zeros(TG_SHAPE(2), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "index_select: dim 2 out of range for a 2-dim tensor");
    /* a strided index is read as it is */
    tg_tensor *strided = tg_slice(tg_from_data((int64_t[]){2, 9, 0, 9}, TG_SHAPE(4), TG_I64), 0, 0,
                                  4, 2);
    CHECK(tg_size(tg_index_select(x, 0, strided), 0) == 2);
}

static void bad_indices_for_gather(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(3, 4), TG_F32), *i = tg_zeros(TG_SHAPE(2, 2), TG_I64);
    CHECK(tg_gather(x, 1, tg_zeros(TG_SHAPE(2, 2), TG_BOOL)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "gather: expected dtype int64 for index, got bool");
    CHECK(tg_gather(x, 1, tg_full(TG_SHAPE(2, 2), 4, TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "gather: index 4 is out of bounds for dimension 1 with size 4");
    CHECK(tg_gather(x, -2, tg_from_data((int64_t[]){0, 1, -1}, TG_SHAPE(1, 3), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "gather: index -1 is out of bounds for dimension 0 with size 3");
    CHECK(tg_gather(x, 1, tg_zeros(TG_SHAPE(2), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "gather: index tensor must have the same number of dimensions as "
                              "input tensor (got 1 and 2)");
    CHECK(tg_gather(x, 1, tg_zeros(TG_SHAPE(4, 1), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "gather: size does not match at dimension 0: expected index (4, 1) "
                              "to be smaller than self (3, 4) apart from dimension 1");
    CHECK(tg_gather(x, 2, i) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "gather: dim 2 out of range for a 2-dim tensor");
    /* larger than t along dim itself, and empty of any shape, are fine */
    CHECK(tg_size(tg_gather(x, 1, tg_zeros(TG_SHAPE(3, 7), TG_I64)), 1) == 7);
    CHECK(tg_numel(tg_gather(x, 0, tg_zeros(TG_SHAPE(0, 9), TG_I64))) == 0);
    CHECK(tg_numel(tg_gather(x, 0, tg_zeros(TG_SHAPE(0), TG_I64))) == 0);
}

static void bad_indices_for_scatter_add(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(3, 4), TG_F32), *i = tg_zeros(TG_SHAPE(2, 2), TG_I64);
    tg_tensor *src = tg_ones(TG_SHAPE(2, 2), TG_F32);
    CHECK(tg_scatter_add(x, 1, tg_zeros(TG_SHAPE(2, 2), TG_F64), src) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "scatter_add: expected dtype int64 for index, got float64");
    CHECK(tg_scatter_add(x, 1, i, tg_ones(TG_SHAPE(2, 2), TG_F64)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "scatter_add: dtypes float32 and float64 differ");
    CHECK(tg_scatter_add(x, 0, tg_full(TG_SHAPE(2, 2), 3, TG_I64), src) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "scatter_add: index 3 is out of bounds for dimension 0 with size 3");
    CHECK(tg_scatter_add(x, 0, tg_zeros(TG_SHAPE(2), TG_I64), src) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "scatter_add: index tensor must have the same number of dimensions "
                              "as self tensor (got 1 and 2)");
    CHECK(tg_scatter_add(x, 0, i, tg_ones(TG_SHAPE(4), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "scatter_add: src tensor must have the same number of dimensions as "
                              "self tensor (got 1 and 2)");
    CHECK(tg_scatter_add(x, 1, i, tg_ones(TG_SHAPE(1, 2), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "scatter_add: expected index (2, 2) to be smaller than self (3, 4) "
                              "apart from dimension 1 and to be smaller size than src (1, 2)");
    CHECK(tg_scatter_add(x, 1, tg_zeros(TG_SHAPE(5, 1), TG_I64), tg_ones(TG_SHAPE(5, 2), TG_F32)) ==
          NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "scatter_add: expected index (5, 1) to be smaller than self (3, 4)");
    CHECK(tg_scatter_add(x, -3, i, src) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "scatter_add: dim -3 out of range for a 2-dim tensor");
    /* an empty index is not checked against the shapes, as in PyTorch */
    tg_tensor *same = tg_scatter_add(x, 1, tg_zeros(TG_SHAPE(0), TG_I64),
                                     tg_ones(TG_SHAPE(7), TG_F32));
    CHECK(same && tg_item(tg_sum(same)) == 12);
}

static void bad_labels_for_one_hot(void) {
    tg_tensor *labels = tg_from_data((int64_t[]){0, 2, 1}, TG_SHAPE(3), TG_I64);
    CHECK(tg_one_hot(tg_ones(TG_SHAPE(3), TG_F32), -1) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "one_hot: expected dtype int64 for labels, got float32");
    CHECK(tg_one_hot(labels, 2) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "one_hot: class values must be smaller than num_classes, got 2 with num_classes 2");
    CHECK(tg_one_hot(labels, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "got 2 with num_classes 0");
    CHECK(tg_one_hot(labels, -5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "got 2 with num_classes -5");
    tg_tensor *negative = tg_from_data((int64_t[]){0, -2, 1}, TG_SHAPE(3), TG_I64);
    CHECK(tg_one_hot(negative, 5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "one_hot: class values must be non-negative, got -2");
    CHECK(tg_one_hot(negative, -1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "one_hot: class values must be non-negative, got -2");
    CHECK(tg_one_hot(tg_zeros(TG_SHAPE(0), TG_I64), -1) == NULL);
    CHECK_ERROR(
        TG_ERR_VALUE,
        "one_hot: can not infer total number of classes from empty tensor (num_classes -1)");
    CHECK(tg_one_hot(tg_zeros(TG_SHAPE(2, 0), TG_I64), 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "one_hot: can not infer total number of classes from empty tensor");
    CHECK(tg_one_hot(tg_from_data((int64_t[]){INT64_MAX}, TG_SHAPE(1), TG_I64), -1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "one_hot: class value 9223372036854775807 leaves no room for num_classes");
    CHECK(tg_one_hot(labels, INT64_MAX) == NULL);
    CHECK_ERROR(TG_ERR_NOMEM, "one_hot: shape (3, 9223372036854775807) is too large");
    CHECK(tg_one_hot(tg_zeros(TG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1), TG_I64), 2) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "one_hot: labels of 8 dims leave no room for the class dim");
}

static void bad_arguments_for_embedding(void) {
    tg_tensor *w = tg_ones(TG_SHAPE(5, 3), TG_F32), *i = tg_zeros(TG_SHAPE(2), TG_I64);
    CHECK(tg_embedding(w, tg_zeros(TG_SHAPE(2), TG_F64), TG_EMBEDDING_NO_PADDING) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "embedding: expected dtype int64 for indices, got float64");
    CHECK(tg_embedding(w, tg_full(TG_SHAPE(2, 2), 5, TG_I64), TG_EMBEDDING_NO_PADDING) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "embedding: index 5 is out of range for num_embeddings 5");
    CHECK(tg_embedding(w, tg_full(TG_SHAPE(1), -1, TG_I64), TG_EMBEDDING_NO_PADDING) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "embedding: index -1 is out of range for num_embeddings 5");
    CHECK(tg_embedding(tg_ones(TG_SHAPE(5), TG_F32), i, TG_EMBEDDING_NO_PADDING) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "embedding: 'weight' must be 2-D, got shape (5,)");
    CHECK(tg_embedding(tg_ones(TG_SHAPE(5, 3, 2), TG_F32), i, TG_EMBEDDING_NO_PADDING) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "embedding: 'weight' must be 2-D, got shape (5, 3, 2)");
    CHECK(tg_embedding(w, i, 5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "embedding: padding_idx 5 must be within num_embeddings 5 (from -5 "
                              "to 4)");
    CHECK(tg_embedding(w, i, -6) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "embedding: padding_idx -6 must be within num_embeddings 5");
    CHECK(tg_embedding(w, tg_zeros(TG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1), TG_I64), -5) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "embedding: indices of 8 dims leave no room for the embedding dim");
    /* any dtype of weight; no gradient for integers */
    tg_tensor *table = tg_view(tg_arange(0, 6, 1, TG_I64), TG_SHAPE(3, 2));
    tg_tensor *rows = tg_embedding(table, tg_from_data((int64_t[]){2}, TG_SHAPE(1), TG_I64), 0);
    CHECK(rows && tg_dtype_of(rows) == TG_I64 && tg_get(rows, (int64_t[]){0, 1}) == 5);
    CHECK(tg_embedding_new(-1, 3, TG_EMBEDDING_NO_PADDING, TG_F32, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "Embedding: num_embeddings -1 and embedding_dim 3 must not be negative");
    CHECK(tg_embedding_new(10, 3, 10, TG_F32, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Embedding: padding_idx 10 must be within num_embeddings 10");
    CHECK(tg_embedding_new(10, 3, -11, TG_F32, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Embedding: padding_idx -11 must be within num_embeddings 10");
    CHECK(tg_embedding_new(10, 3, TG_EMBEDDING_NO_PADDING, TG_I64, NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE,
                "Embedding: parameter 'weight' must be float32 or float64, not int64");
}

/* A contiguous index is saved itself: changing it after the forward fails
 * the backward, as in PyTorch. A strided one is saved as a copy, the op's
 * own, which the change does not reach. */
static void the_saved_index_is_the_ops_own(void) {
    tg_tensor *x = tg_requires_grad_(tg_zeros(TG_SHAPE(4, 2), TG_F64), true);
    tg_tensor *i = tg_from_data((int64_t[]){3, 0}, TG_SHAPE(2), TG_I64);
    tg_tensor *y = tg_embedding(x, i, TG_EMBEDDING_NO_PADDING);
    CHECK(tg_fill_(i, 1) == 0); /* after the forward */
    CHECK(tg_backward(tg_sum(y), NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
    tg_tensor *t = tg_slice(tg_from_data((int64_t[]){3, 9, 0, 9}, TG_SHAPE(1, 4), TG_I64), 1, 0, 4,
                            2);
    y = tg_gather(tg_transpose(x, 0, 1), 1, t); /* a strided index: the op keeps a copy */
    CHECK(tg_fill_(t, 1) == 0);
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    double want[] = {1, 0, 0, 0, 0, 0, 1, 0};
    CHECK_VALUES(tg_grad(x), want, 8, 0, 0);
}

/* ---- out of memory: fail the k-th allocation, for every k ----------------------------------- */

/* An Embedding made, run forward and backward, and a scatter_add_ that
 * copies its src, with no pool: everything is released by hand. */
static int embedding_scenario(void *ctx) {
    (void)ctx;
    tg_module *emb = tg_embedding_new(6, 4, 2, TG_F64, NULL);
    tg_tensor *x = emb ? tg_from_data((int64_t[]){2, 0, 5, 0}, TG_SHAPE(2, 2), TG_I64) : NULL;
    tg_tensor *y = x ? tg_module_forward(emb, x) : NULL, *total = y ? tg_sum(y) : NULL;
    int rc = total ? tg_backward(total, NULL) : -1;
    tg_tensor *m = rc == 0 ? tg_zeros(TG_SHAPE(3, 6), TG_F64) : NULL;
    tg_tensor *row = m ? tg_slice(x, 0, 0, 1, 1) : NULL; /* (1, 2): 2, 0 */
    rc = row ? tg_scatter_add_(m, 1, row, m) : -1;
    tg_release(row);
    tg_release(m);
    tg_release(total);
    tg_release(y);
    tg_release(x);
    tg_module_free(emb);
    return rc;
}

static void out_of_memory_at_every_allocation(void) {
    tg_pool_pop(tg_test_pool);
    tg_test_sweep r = tg_test_fail_each_allocation(embedding_scenario, NULL, NULL);
    printf("  %ld allocations, %d failures, %d wrong\n", r.allocations, r.failures, r.wrong);
    CHECK(r.allocations > 0 && r.failures > 5 && r.wrong == 0);
}

TG_TEST_MAIN(TG_CASE(index_ops_match_pytorch), TG_CASE(one_hot_matches_pytorch),
             TG_CASE(embedding_module_draws_pytorch_weights),
             TG_CASE(embedding_module_forward_and_padding),
             TG_CASE(embedding_module_saves_and_loads), TG_CASE(gradcheck_every_op),
             TG_CASE(zero_dim_tensors_count_as_one_element), TG_CASE(scatter_add_in_place),
             TG_CASE(scatter_add_in_place_refuses), TG_CASE(bad_indices_for_index_select),
             TG_CASE(bad_indices_for_gather), TG_CASE(bad_indices_for_scatter_add),
             TG_CASE(bad_labels_for_one_hot), TG_CASE(bad_arguments_for_embedding),
             TG_CASE(the_saved_index_is_the_ops_own), TG_CASE(out_of_memory_at_every_allocation))
