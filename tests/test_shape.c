/* tests/test_shape.c - permute, slice, split, chunk, cat, unsqueeze, squeeze
 * and expand: values, strides and gradients against PyTorch, storage
 * sharing, gradcheck, every error, and no leak when memory runs out. */
#include <stdint.h>

#include "golden/golden_shape.h"
#include "tg_test.h"

#define MAX_PIECES 4

/* Runs the golden case's op on in, writing its results into out; returns
 * how many, or -1. */
static int run_op(const golden_shape *c, tg_tensor **in, tg_tensor **out) {
    const int64_t *p = c->params;
    const char *op = c->op;
    if (strcmp(op, "split") == 0) return tg_split(in[0], p[1], (int)p[0], out, MAX_PIECES);
    if (strcmp(op, "chunk") == 0) return tg_chunk(in[0], (int)p[1], (int)p[0], out, MAX_PIECES);
    if (strcmp(op, "permute") == 0) {
        int dims[8];
        for (int i = 0; i < c->n_params; i++) dims[i] = (int)p[i];
        out[0] = tg_permute(in[0], c->n_params, dims);
    } else if (strcmp(op, "slice") == 0) {
        out[0] = tg_slice(in[0], (int)p[0], p[1], p[2], p[3]);
    } else if (strcmp(op, "cat") == 0) {
        out[0] = tg_cat(c->n_in, in, (int)p[0]);
    } else if (strcmp(op, "unsqueeze") == 0) {
        out[0] = tg_unsqueeze(in[0], (int)p[0]);
    } else if (strcmp(op, "squeeze") == 0) {
        out[0] = tg_squeeze(in[0]);
    } else if (strcmp(op, "squeeze_dim") == 0) {
        out[0] = tg_squeeze_dim(in[0], (int)p[0]);
    } else {
        out[0] = tg_expand(in[0], c->n_params, p);
    }
    return out[0] ? 1 : -1;
}

/* Shape, strides, offset and node as PyTorch's, and storage shared with
 * the (first) input exactly when PyTorch returns a view. */
static void check_geometry(const golden_shape *c, int k, const tg_tensor *out,
                           const tg_tensor *leaf) {
    CHECK(tg_ndim(out) == c->out_ndim[k]);
    for (int d = 0; d < c->out_ndim[k]; d++) {
        CHECK(tg_shape(out)[d] == c->out_shape[k][d]);
        CHECK(tg_strides(out)[d] == c->out_strides[k][d]);
    }
    CHECK(tg_offset(out) == c->out_offset[k]);
    CHECK(tg_shares_storage(out, leaf) == (strcmp(c->op, "cat") != 0));
    CHECK_EQ_STR(tg_grad_fn_name(out), c->grad_fn);
}

static void shape_ops_match_pytorch(void) {
    int n = (int)(sizeof golden_shapes / sizeof golden_shapes[0]);
    char context[64];
    for (int i = 0; i < n; i++) {
        const golden_shape *c = &golden_shapes[i];
        snprintf(context, sizeof context, "%s #%d", c->op, i);
        tg_test_context = context;
        tg_dtype dt = c->f64 ? TG_F64 : TG_F32;
        double rtol = c->f64 ? 1e-12 : 1e-5, atol = c->f64 ? 1e-12 : 1e-6;
        tg_tensor *leaves[6], *in[6], *out[MAX_PIECES];
        const double *data = c->in;
        for (int k = 0; k < c->n_in; k++) {
            leaves[k] = tg_requires_grad_(tg_test_tensor(data, c->in_ndim[k], c->in_shape[k], dt),
                                          true);
            in[k] = c->transposed[k] ? tg_transpose(leaves[k], 0, 1) : leaves[k];
            data += tg_numel(leaves[k]);
        }
        CHECK(run_op(c, in, out) == c->n_out);
        tg_tensor *loss = tg_scalar(0, dt);
        const double *want = c->out, *w = c->w;
        for (int k = 0; k < c->n_out; k++) {
            check_geometry(c, k, out[k], leaves[0]);
            if (tg_test_failed_now) return;
            int64_t m = tg_numel(out[k]);
            CHECK_VALUES(out[k], want, m, 0, 0); /* moving data is exact */
            tg_tensor *wk = tg_test_tensor(w, c->out_ndim[k], c->out_shape[k], dt);
            loss = tg_add(loss, tg_sum(tg_mul(out[k], wk)));
            want += m, w += m;
        }
        CHECK(tg_backward(loss, NULL) == 0);
        const double *grad = c->grad;
        for (int k = 0; k < c->n_in; k++) {
            int64_t m = tg_numel(leaves[k]);
            if (m) CHECK_VALUES(tg_grad(leaves[k]), grad, m, rtol, atol); /* sums for expand */
            grad += m;
        }
    }
}

static void views_show_writes_to_their_base(void) {
    tg_tensor *x = tg_view(tg_arange(0, 12, 1, TG_F32), TG_SHAPE(3, 4));
    tg_tensor *pieces[2];
    CHECK(tg_chunk(x, 2, 1, pieces, 2) == 2);
    /* Each view, and the index in it of x's element (2, 3). */
    struct {
        tg_tensor *view;
        int64_t at[3];
    } cases[] = {
        {tg_permute(x, 2, (int[]){1, 0}), {3, 2}},
        {tg_slice(x, 1, 1, 4, 2), {2, 1}},
        {pieces[1], {2, 1}},
        {tg_unsqueeze(x, 1), {2, 0, 3}},
        {tg_squeeze(tg_unsqueeze(x, 0)), {2, 3}},
        {tg_squeeze_dim(tg_unsqueeze(x, 2), 2), {2, 3}},
        {tg_expand(tg_unsqueeze(x, 0), TG_SHAPE(2, -1, -1)), {1, 2, 3}},
    };
    CHECK(tg_fill_(tg_slice(x, 0, 2, 3, 1), -1) == 0); /* x's last row */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(tg_shares_storage(cases[i].view, x));
        CHECK(tg_get(cases[i].view, cases[i].at) == -1);
    }
    double sliced[] = {1, 3, 5, 7, -1, -1};
    CHECK_VALUES(cases[1].view, sliced, 6, 0, 0);
}

static void slice_bounds_are_clamped_like_python(void) {
    tg_tensor *x = tg_arange(0, 5, 1, TG_F64);
    double tail[] = {3, 4}, every_other[] = {0, 2, 4}, first[] = {0};
    CHECK_VALUES(tg_slice(x, 0, -2, INT64_MAX, 1), tail, 2, 0, 0);
    CHECK_VALUES(tg_slice(x, -1, INT64_MIN, INT64_MAX, 2), every_other, 3, 0, 0);
    CHECK_VALUES(tg_slice(x, 0, 0, 5, INT64_MAX), first, 1, 0, 0);
    tg_tensor *m = tg_view(tg_arange(0, 10, 1, TG_F64), TG_SHAPE(5, 2));
    double row[] = {2, 3};
    CHECK_VALUES(tg_slice(m, 0, 1, 3, INT64_MAX), row, 2, 0, 0); /* no stride overflow */
    CHECK(tg_numel(tg_slice(x, 0, 4, 2, 1)) == 0);
    CHECK(tg_numel(tg_slice(x, 0, 9, INT64_MAX, 1)) == 0);
    CHECK(tg_numel(tg_slice(x, 0, -9, -7, 1)) == 0);
}

static void split_and_chunk_count_like_pytorch(void) {
    tg_tensor *x = tg_requires_grad_(tg_zeros(TG_SHAPE(5, 3), TG_F32), true);
    int64_t live = tg_live_tensors();
    CHECK(tg_split(x, 2, 0, NULL, 0) == 3); /* counting creates nothing */
    CHECK(tg_chunk(x, 4, 0, NULL, 0) == 3); /* pieces of 2: only 3 */
    CHECK(tg_live_tensors() == live);
    tg_tensor *p[4];
    CHECK(tg_split(x, 7, 0, p, 4) == 1 && tg_size(p[0], 0) == 5);
    CHECK(tg_chunk(x, 3, 1, p, 4) == 3 && tg_size(p[2], 1) == 1);
    tg_tensor *empty = tg_requires_grad_(tg_zeros(TG_SHAPE(0, 3), TG_F32), true);
    CHECK(tg_split(empty, 2, 0, p, 4) == 1 && tg_numel(p[0]) == 0);
    CHECK_EQ_STR(tg_grad_fn_name(p[0]), "SplitBackward0");
    CHECK(tg_chunk(empty, 3, 0, p, 4) == 3 && tg_size(p[2], 0) == 0 && tg_size(p[2], 1) == 3);
    CHECK_EQ_STR(tg_grad_fn_name(p[2]), "SplitWithSizesBackward0");
}

/* torch.split with a list of sizes: pieces in order, views, a zero-size
 * piece allowed; the gradient of each goes to its rows. */
static void split_with_sizes_like_pytorch(void) {
    tg_tensor *x = tg_requires_grad_(tg_arange(0, 12, 1, TG_F64), true);
    tg_tensor *m = tg_reshape(x, 2, (int64_t[]){6, 2});
    const int64_t sizes[] = {1, 0, 3, 2};
    tg_tensor *p[4];
    CHECK(tg_split_with_sizes(m, 4, sizes, 0, NULL, 0) == 4);
    CHECK(tg_split_with_sizes(m, 4, sizes, -2, p, 4) == 4);
    for (int i = 0; i < 4; i++) {
        CHECK(tg_size(p[i], 0) == sizes[i] && tg_size(p[i], 1) == 2);
        CHECK(tg_shares_storage(p[i], x));
        CHECK_EQ_STR(tg_grad_fn_name(p[i]), "SplitWithSizesBackward0");
    }
    double third[] = {2, 3, 4, 5, 6, 7};
    CHECK_VALUES(p[2], third, 6, 0, 0);
    CHECK(tg_backward(tg_add(tg_sum(p[2]), tg_sum(tg_mul_scalar(p[3], 2))), NULL) == 0);
    double want[] = {0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
    CHECK_VALUES(tg_grad(x), want, 12, 0, 0);
}

static void split_pieces_belong_to_the_caller_without_a_pool(void) {
    tg_pool_pop(tg_test_pool);
    int64_t live = tg_live_tensors();
    tg_tensor *x = tg_arange(0, 6, 1, TG_F32);
    tg_tensor *p[3];
    CHECK(tg_split(x, 2, 0, p, 3) == 3);
    CHECK(tg_live_tensors() == live + 4);
    tg_release(x); /* the pieces keep the storage */
    CHECK(tg_get(p[2], (int64_t[]){1}) == 5);
    for (int i = 0; i < 3; i++) tg_release(p[i]);
    CHECK(tg_live_tensors() == live);
}

static void an_unused_piece_gets_no_gradient(void) {
    tg_tensor *x = tg_requires_grad_(tg_zeros(TG_SHAPE(6), TG_F64), true);
    tg_tensor *p[3];
    CHECK(tg_split(x, 2, 0, p, 3) == 3);
    CHECK(tg_backward(tg_sum(tg_mul_scalar(p[1], 3)), NULL) == 0);
    double want[] = {0, 0, 3, 3, 0, 0};
    CHECK_VALUES(tg_grad(x), want, 6, 0, 0);
}

/* Nine leaves of shape (2, i + 1), concatenated along dim 1. */
static void cat_of_more_inputs_than_a_node_holds(void) {
    tg_pool_pop(tg_test_pool); /* intermediate results must not leak either */
    int64_t live = tg_live_tensors();
    tg_tensor *in[9];
    for (int i = 0; i < 9; i++) {
        in[i] = tg_full(TG_SHAPE(2, i + 1), i, TG_F64);
        tg_requires_grad_(in[i], i != 4); /* one constant among them */
    }
    tg_tensor *out = tg_cat(9, in, -1);
    CHECK(out && tg_size(out, 0) == 2 && tg_size(out, 1) == 45);
    CHECK_EQ_STR(tg_grad_fn_name(out), "CatBackward0");
    CHECK(tg_get(out, (int64_t[]){1, 44}) == 8 && tg_get(out, (int64_t[]){0, 10}) == 4);
    tg_pool *pool = tg_pool_push();
    bool previous = tg_set_grad_enabled(false); /* no node: one copy, any number of inputs */
    tg_tensor *plain = tg_cat(9, in, -1);
    tg_set_grad_enabled(previous);
    CHECK(tg_is_leaf(plain) && tg_item(tg_sum(tg_sub(plain, out))) == 0);
    tg_tensor *w = tg_view(tg_arange(0, 90, 1, TG_F64), TG_SHAPE(2, 45));
    CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
    tg_pool_pop(pool);
    tg_release(out);
    /* Leaf i starts at column i (i + 1) / 2: its gradient is w there. */
    for (int i = 0; i < 9; i++) {
        tg_tensor *g = tg_grad(in[i]);
        CHECK((g != NULL) == (i != 4));
        int64_t start = i * (i + 1) / 2;
        CHECK(!g || (tg_get(g, (int64_t[]){0, 0}) == start &&
                     tg_get(g, (int64_t[]){1, i}) == 45 + start + i));
    }
    for (int i = 0; i < 9; i++) tg_release(in[i]);
    CHECK(tg_live_tensors() == live);
}

static void cat_skips_one_dim_empty_tensors(void) {
    tg_tensor *e = tg_zeros(TG_SHAPE(0), TG_F32), *x = tg_ones(TG_SHAPE(2, 2), TG_F32);
    tg_tensor *out = tg_cat(3, (tg_tensor *[]){e, x, e}, 1);
    CHECK(out && tg_ndim(out) == 2 && tg_size(out, 1) == 2);
    out = tg_cat(2, (tg_tensor *[]){e, e}, 5); /* all skipped: dim is not looked at */
    CHECK(out && tg_ndim(out) == 1 && tg_numel(out) == 0);
    CHECK(tg_cat(2, (tg_tensor *[]){tg_zeros(TG_SHAPE(0, 2), TG_F32), x}, 1) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cat: tensor 1 of shape (2, 2) does not match tensor 0 of shape "
                              "(0, 2) outside dim 1");
}

#define OVERLAP                                                              \
    "unsupported operation: more than one element of the written-to tensor " \
    "refers to a single memory location"

/* Every write into elements that share memory is refused, as PyTorch
 * refuses it, and leaves the tensor as it was. */
static void expanded_tensors_refuse_in_place_writes(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(3, 1), TG_F32);
    tg_tensor *e = tg_expand(x, TG_SHAPE(3, 4));
    CHECK(tg_strides(e)[1] == 0);
    CHECK(tg_mul_scalar_(e, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "mul_scalar_: " OVERLAP);
    /* also when the repeated dim is moved or cut */
    tg_tensor *views[] = {e, tg_transpose(e, 0, 1), tg_slice(e, 1, 1, 3, 1),
                          tg_expand(tg_ones(TG_SHAPE(1), TG_F64), TG_SHAPE(5))};
    for (int i = 0; i < 4; i++) {
        tg_tensor *v = views[i], *ones = tg_ones(TG_SHAPE(1), tg_dtype_of(v));
        CHECK(tg_add_(v, ones, 1) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "add_: " OVERLAP);
        CHECK(tg_mul_(v, ones) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "mul_: " OVERLAP);
        CHECK(tg_copy_(v, tg_arange(0, (double)tg_size(v, -1), 1, TG_F64)) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "copy_: " OVERLAP);
        CHECK(tg_fill_(v, 5) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "fill_: " OVERLAP);
        CHECK(tg_zero_(v) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "zero_: " OVERLAP);
        CHECK(tg_init_constant_(v, 5) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "init_constant_: " OVERLAP);
        CHECK(tg_init_uniform_(v, -1, 1, NULL) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "init_uniform_: " OVERLAP);
        CHECK(tg_init_normal_(v, 0, 1, NULL) == -1);
        CHECK_ERROR(TG_ERR_VALUE, "init_normal_: " OVERLAP);
    }
    CHECK(tg_init_kaiming_uniform_(e, 0, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "init_kaiming_uniform_: " OVERLAP);
    CHECK(tg_init_xavier_uniform_(e, 1, NULL) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "init_xavier_uniform_: " OVERLAP);
    CHECK(tg_item(tg_sum(x)) == 3);
    /* Views whose elements are distinct are still written. */
    tg_tensor *m = tg_zeros(TG_SHAPE(4, 6), TG_F32);
    CHECK(tg_fill_(tg_slice(tg_transpose(m, 0, 1), 0, 1, 6, 4), 1) == 0);
    CHECK(tg_item(tg_sum(m)) == 8);
    tg_tensor *c = tg_contiguous(e);
    CHECK(tg_mul_scalar_(c, 2) == 0 && tg_item(tg_sum(c)) == 24 && tg_item(tg_sum(x)) == 3);
}

/* ---- gradcheck of every op, in float64 ------------------------------------------- */

static tg_tensor *f_permute(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_permute(in[0], 3, (int[]){2, 0, -2});
}
static tg_tensor *f_slice(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_slice(tg_transpose(in[0], 0, 2), 1, -2, INT64_MAX, 1);
}
static tg_tensor *f_slice_step(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_slice(in[0], 2, 1, 100, 2);
}
/* ctx selects the piece. */
static tg_tensor *f_split(tg_tensor *const *in, void *c) {
    tg_tensor *p[3];
    return tg_split(in[0], 3, -1, p, 3) == 2 ? p[*(int *)c] : NULL;
}
static tg_tensor *f_chunk(tg_tensor *const *in, void *c) {
    tg_tensor *p[3];
    return tg_chunk(in[0], 3, 0, p, 3) == 2 ? p[*(int *)c] : NULL;
}
static tg_tensor *f_cat(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_cat(3, (tg_tensor *[]){in[0], tg_transpose(in[1], 0, 2), in[0]}, 1);
}
/* More inputs than a node holds, some of them the same tensor. */
static tg_tensor *f_cat_many(tg_tensor *const *in, void *c) {
    (void)c;
    tg_tensor *src[2] = {in[0], tg_transpose(in[1], 0, 2)}, *list[7];
    for (int i = 0; i < 7; i++) list[i] = tg_slice(src[i % 2], 1, i % 3, 3, 1);
    return tg_cat(7, list, 1);
}
static tg_tensor *f_unsqueeze(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_unsqueeze(tg_transpose(in[0], 0, 1), -2);
}
static tg_tensor *f_squeeze(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_squeeze(tg_slice(in[0], 0, 1, 2, 1));
}
static tg_tensor *f_squeeze_dim(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_squeeze_dim(tg_slice(in[0], 1, 0, 1, 1), 1);
}
static tg_tensor *f_expand(tg_tensor *const *in, void *c) {
    (void)c;
    return tg_expand(tg_slice(in[0], 1, 0, 1, 1), TG_SHAPE(2, -1, 3, -1));
}

static void gradcheck_every_op(void) {
    /* Every function reads inputs of shapes (2, 3, 4) and (4, 3, 2). */
    tg_tensor *in[2] = {tg_requires_grad_(tg_rand(TG_SHAPE(2, 3, 4), TG_F64, NULL), true),
                        tg_requires_grad_(tg_rand(TG_SHAPE(4, 3, 2), TG_F64, NULL), true)};
    int first = 0, second = 1;
    struct {
        const char *name;
        tg_gradcheck_fn fn;
        void *ctx;
        int n;
    } cases[] = {
        {"permute", f_permute, NULL, 1},       {"slice", f_slice, NULL, 1},
        {"slice_step", f_slice_step, NULL, 1}, {"split 0", f_split, &first, 1},
        {"split 1", f_split, &second, 1},      {"chunk 0", f_chunk, &first, 1},
        {"chunk 1", f_chunk, &second, 1},      {"cat", f_cat, NULL, 2},
        {"cat_many", f_cat_many, NULL, 2},     {"unsqueeze", f_unsqueeze, NULL, 1},
        {"squeeze", f_squeeze, NULL, 1},       {"squeeze_dim", f_squeeze_dim, NULL, 1},
        {"expand", f_expand, NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_test_context = cases[i].name;
        CHECK(tg_gradcheck(cases[i].fn, cases[i].ctx, cases[i].n, in, NULL) == 0);
    }
}

/* ---- errors ---------------------------------------------------------------------- */

/* Sizes whose product or sum passes INT64_MAX are refused with a message,
 * never wrapped (UBSan, in the sanitized build, stops at any overflow). */
static void huge_sizes_never_overflow(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(4), TG_F32);
    /* 3 * 6148914691236517206 wraps to 2, which would let -1 become 2 */
    CHECK(tg_view(x, TG_SHAPE(-1, 3, 6148914691236517206)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "view: shape (-1, 3, 6148914691236517206) is invalid for input of "
                              "shape (4,)");
    CHECK(tg_reshape(x, TG_SHAPE(INT64_MAX, 2, -1)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "reshape: shape (9223372036854775807, 2, -1) is invalid");
    /* a new leading dim's stride is the product of the sizes after it */
    CHECK(tg_expand(tg_ones(TG_SHAPE(2), TG_F32), TG_SHAPE(2, INT64_MAX / 2, 2)) == NULL);
    CHECK_ERROR(TG_ERR_NOMEM, "expand: shape (2, 4611686018427387903, 2) is too large");
    /* 16 views of 2^59 elements each (no memory): their sizes add up to 2^63 */
    tg_tensor *big = tg_expand(tg_ones(TG_SHAPE(1), TG_F32), TG_SHAPE((int64_t)1 << 59));
    CHECK(big != NULL);
    tg_tensor *many[16];
    for (int i = 0; i < 16; i++) many[i] = big;
    CHECK(tg_cat(16, many, 0) == NULL);
    CHECK_ERROR(TG_ERR_NOMEM, "cat: the sizes along dim 0 add up to more than 9223372036854775807");
}

static void bad_dims_and_permutations(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32), *s = tg_scalar(1, TG_F32);
    CHECK(tg_permute(x, 1, (int[]){0}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "permute: 1 dims given for a 2-dim tensor");
    CHECK(tg_permute(x, 2, (int[]){0, -2}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "permute: dim -2 appears twice in the permutation");
    CHECK(tg_permute(x, 2, (int[]){0, 2}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "permute: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_slice(x, 2, 0, 1, 1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "slice: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_slice(x, 0, 0, 1, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "slice: step must be positive, got 0");
    CHECK(tg_slice(x, 0, 1, 0, -1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "slice: step must be positive, got -1");
    CHECK(tg_slice(s, 0, 0, 1, 1) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "slice: a 0-dim tensor has no dim to cut along");
    CHECK(tg_unsqueeze(x, 3) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "unsqueeze: dim 3 out of range for a 2-dim tensor (-3 to 2)");
    CHECK(tg_unsqueeze(x, -4) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "unsqueeze: dim -4 out of range");
    CHECK(tg_unsqueeze(tg_ones(TG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1), TG_F32), 0) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "unsqueeze: a tensor of 8 dims cannot gain one (at most 8)");
    CHECK(tg_squeeze_dim(x, -3) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "squeeze_dim: dim -3 out of range for a 2-dim tensor");
    /* A 0-dim tensor takes dim 0 or -1 where PyTorch takes them. */
    CHECK(tg_ndim(tg_squeeze_dim(s, -1)) == 0 && tg_ndim(tg_unsqueeze(s, -1)) == 1);
    CHECK(tg_ndim(tg_permute(s, 0, NULL)) == 0);
}

static void bad_split_and_chunk(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(5, 2), TG_F32), *p[2] = {NULL, NULL};
    CHECK(tg_split(x, 0, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split: split_size must be positive, got 0");
    CHECK(tg_split(x, -2, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split: split_size must be positive, got -2");
    CHECK(tg_split(x, 2, 0, p, 2) == -1 && !p[0] && !p[1]);
    CHECK_ERROR(TG_ERR_VALUE, "split: 3 pieces do not fit in max_out = 2");
    CHECK(tg_split(x, 1, 2, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_split(tg_scalar(1, TG_F32), 1, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_SHAPE, "split: a 0-dim tensor has no dim to cut along");
    CHECK(tg_chunk(x, 0, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "chunk: chunks must be positive, got 0");
    CHECK(tg_chunk(x, 3, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "chunk: 3 pieces do not fit in max_out = 2");
    CHECK(tg_chunk(tg_zeros(TG_SHAPE(0), TG_F32), 5, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "chunk: 5 pieces do not fit in max_out = 2");
    CHECK(tg_split_with_sizes(x, 2, (int64_t[]){2, 2}, 0, p, 2) == -1 && !p[0]);
    CHECK_ERROR(TG_ERR_VALUE, "split_with_sizes: the sizes must add up to 5, the size of dim 0");
    CHECK(tg_split_with_sizes(x, 2, (int64_t[]){INT64_MAX, INT64_MAX}, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split_with_sizes: the sizes must add up to 5, the size of dim 0");
    CHECK(tg_split_with_sizes(x, 2, (int64_t[]){6, -1}, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split_with_sizes: sizes[1] = -1 is negative");
    CHECK(tg_split_with_sizes(x, 3, (int64_t[]){1, 1, 3}, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split_with_sizes: 3 pieces do not fit in max_out = 2");
    CHECK(tg_split_with_sizes(x, 0, (int64_t[]){5}, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "split_with_sizes: no sizes given");
    CHECK(tg_split_with_sizes(x, 1, NULL, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_NULL, "split_with_sizes: argument is NULL");
    CHECK(tg_split_with_sizes(NULL, 1, (int64_t[]){5}, 0, p, 2) == -1);
    CHECK_ERROR(TG_ERR_NULL, "split_with_sizes: argument is NULL");
}

static void bad_cat(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_cat(2, (tg_tensor *[]){a, tg_ones(TG_SHAPE(3, 3), TG_F32)}, 1) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cat: tensor 1 of shape (3, 3) does not match tensor 0 of shape "
                              "(2, 3) outside dim 1");
    CHECK(tg_cat(3, (tg_tensor *[]){a, a, tg_ones(TG_SHAPE(2, 3, 1), TG_F32)}, -2) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cat: tensor 2 of shape (2, 3, 1) does not match tensor 0 of "
                              "shape (2, 3) outside dim 0");
    CHECK(tg_cat(2, (tg_tensor *[]){a, tg_ones(TG_SHAPE(2, 3), TG_F64)}, 0) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "cat: dtypes float32 and float64 differ");
    CHECK(tg_cat(1, &a, 2) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cat: dim 2 out of range for a 2-dim tensor");
    CHECK(tg_cat(0, &a, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "cat: expected a non-empty list of tensors, got 0");
    CHECK(tg_cat(1, (tg_tensor *[]){tg_scalar(1, TG_F32)}, 0) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "cat: a 0-dim tensor (tensor 0) cannot be concatenated");
}

static void bad_expand(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 3), TG_F32);
    CHECK(tg_expand(x, TG_SHAPE(2, 5)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "expand: shape (2, 3) cannot be expanded to (2, 5): size 5 must "
                              "match the existing size 3 at dim 1");
    CHECK(tg_expand(x, TG_SHAPE(3)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "expand: 1 sizes given for a 2-dim tensor (2 to 8 allowed)");
    CHECK(tg_expand(x, TG_SHAPE(-1, 2, 3)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "expand: size -1 at dim 0 of (-1, 2, 3) is invalid (-1 keeps an "
                              "existing dim only)");
    CHECK(tg_expand(x, TG_SHAPE(-2, 3)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "expand: size -2 at dim 0 of (-2, 3) is invalid");
    CHECK(tg_expand(x, TG_SHAPE(1, 1, 1, 1, 1, 1, 1, 2, 3)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "expand: 9 sizes given for a 2-dim tensor (2 to 8 allowed)");
}

static void null_inputs_return_null_and_keep_the_first_message(void) {
    tg_tensor *p[1];
    CHECK(tg_permute(NULL, 0, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "permute: argument is NULL");
    CHECK(tg_cat(2, (tg_tensor *[]){tg_ones(TG_SHAPE(1), TG_F32), NULL}, 0) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cat: argument is NULL");
    CHECK(tg_cat(1, NULL, 0) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "cat: argument is NULL");
    CHECK(tg_expand(tg_ones(TG_SHAPE(1), TG_F32), 1, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "expand: argument is NULL");
    CHECK(tg_slice(tg_ones(TG_SHAPE(2), TG_F32), 1, 0, 1, 1) == NULL); /* the first failure */
    CHECK(tg_permute(NULL, 0, NULL) == NULL && tg_slice(NULL, 0, 0, 1, 1) == NULL);
    CHECK(tg_split(NULL, 1, 0, p, 1) == -1 && tg_chunk(NULL, 1, 0, p, 1) == -1);
    CHECK(tg_cat(1, (tg_tensor *[]){NULL}, 0) == NULL && tg_unsqueeze(NULL, 0) == NULL);
    CHECK(tg_squeeze(NULL) == NULL && tg_squeeze_dim(NULL, 0) == NULL);
    CHECK(tg_expand(NULL, TG_SHAPE(1)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "slice: dim 1 out of range for a 1-dim tensor");
}

/* ---- out of memory: fail the k-th allocation, for every k ------------------------ */


/* Every op of this file and its backward, results pooled. */
static int pooled_graph(void) {
    int rc = -1;
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(6, 2), TG_F64), true);
    tg_pool *pool = x ? tg_pool_push() : NULL;
    if (!pool) goto out;
    tg_tensor *p[6];
    tg_tensor *y = tg_split(x, 1, 0, p, 6) == 6 ? tg_cat(6, p, 1) : NULL; /* (1, 12) */
    tg_tensor *z = tg_chunk(y, 2, 1, p, 2) == 2 ? tg_permute(p[1], 2, (int[]){1, 0}) : NULL;
    z = tg_squeeze(tg_unsqueeze(tg_squeeze_dim(tg_slice(z, 0, 1, 6, 2), 1), 0));
    tg_tensor *loss = tg_sum(tg_expand(z, TG_SHAPE(2, -1))); /* 3 elements of x, twice */
    if (loss && tg_backward(loss, NULL) == 0 && tg_item(tg_sum(tg_grad(x))) == 6) rc = 0;
    tg_pool_pop(pool);
out:
    tg_release(x);
    return rc;
}

/* Split and cat with no pool: the caller owns every result. */
static int caller_owned(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(6, 2), TG_F64), true);
    tg_tensor *p[6];
    int n = x ? tg_split(x, 1, 0, p, 6) : -1;
    tg_tensor *y = n == 6 ? tg_cat(6, p, 1) : NULL;
    for (int i = 0; i < n; i++) tg_release(p[i]);
    int rc = y ? 0 : -1;
    tg_release(y);
    tg_release(x);
    return rc;
}

/* Calls the scenario ctx points at. */
static int run_scenario(void *ctx) { return (*(int (**)(void))ctx)(); }

static void out_of_memory_at_every_allocation(void) {
    tg_pool_pop(tg_test_pool); /* allocations of the harness's pool would count too */
    int (*scenarios[])(void) = {pooled_graph, caller_owned};
    for (int s = 0; s < 2; s++) {
        tg_test_context = s ? "caller_owned" : "pooled_graph";
        tg_test_sweep r = tg_test_fail_each_allocation(run_scenario, &scenarios[s], NULL);
        CHECK(r.allocations > 0 && r.failures > 10 && r.wrong == 0);
    }
}

TG_TEST_MAIN(TG_CASE(shape_ops_match_pytorch), TG_CASE(huge_sizes_never_overflow),
             TG_CASE(views_show_writes_to_their_base),
             TG_CASE(slice_bounds_are_clamped_like_python),
             TG_CASE(split_and_chunk_count_like_pytorch), TG_CASE(split_with_sizes_like_pytorch),
             TG_CASE(split_pieces_belong_to_the_caller_without_a_pool),
             TG_CASE(an_unused_piece_gets_no_gradient),
             TG_CASE(cat_of_more_inputs_than_a_node_holds),
             TG_CASE(cat_skips_one_dim_empty_tensors),
             TG_CASE(expanded_tensors_refuse_in_place_writes), TG_CASE(gradcheck_every_op),
             TG_CASE(bad_dims_and_permutations), TG_CASE(bad_split_and_chunk), TG_CASE(bad_cat),
             TG_CASE(bad_expand), TG_CASE(null_inputs_return_null_and_keep_the_first_message),
             TG_CASE(out_of_memory_at_every_allocation))
