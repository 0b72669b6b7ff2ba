/* tests/test_tensor.c - creation, storage sharing, views and copies. */
#include "tg_test.h"

static void constructors_fill_values(void) {
    double zeros[6] = {0}, ones[6] = {1, 1, 1, 1, 1, 1}, sevens[6] = {7, 7, 7, 7, 7, 7};
    CHECK_VALUES(tg_zeros(TG_SHAPE(2, 3), TG_F32), zeros, 6, 0, 0);
    CHECK_VALUES(tg_ones(TG_SHAPE(3, 2), TG_F64), ones, 6, 0, 0);
    CHECK_VALUES(tg_full(TG_SHAPE(1, 2, 3), 7, TG_F32), sevens, 6, 0, 0);
    tg_tensor *s = tg_scalar(2.5, TG_F64);
    CHECK(tg_ndim(s) == 0 && tg_numel(s) == 1 && tg_item(s) == 2.5);
    tg_tensor *e = tg_zeros(TG_SHAPE(0, 4), TG_F32);
    CHECK(e && tg_numel(e) == 0);
}

static void up_to_eight_dims(void) {
    tg_tensor *t = tg_ones(TG_SHAPE(1, 2, 1, 2, 1, 2, 1, 2), TG_F64);
    CHECK(t && tg_ndim(t) == 8 && tg_numel(t) == 16);
    CHECK(tg_item(tg_sum(t)) == 16);
    CHECK(tg_size(t, -1) == 2 && tg_size(t, 0) == 1);
}

static void from_data_copies(void) {
    float data[4] = {1, 2, 3, 4};
    tg_tensor *t = tg_from_data(data, TG_SHAPE(2, 2), TG_F32);
    data[0] = 100;
    CHECK(tg_get(t, (int64_t[]){0, 0}) == 1);
    CHECK(tg_get(t, (int64_t[]){1, 0}) == 3);
}

static int deleter_calls;
static void count_deleter(void *data, void *ctx) {
    (void)data;
    deleter_calls += *(int *)ctx;
}

static void from_buffer_shares_both_ways(void) {
    double buffer[6] = {1, 2, 3, 4, 5, 6};
    int weight = 1;
    deleter_calls = 0;
    tg_pool *pool = tg_pool_push();
    tg_tensor *t = tg_from_buffer(buffer, TG_SHAPE(2, 3), TG_F64, count_deleter, &weight);
    CHECK(t && tg_data(t) == (void *)buffer);
    buffer[4] = 50; /* the caller's write is seen by the tensor */
    CHECK(tg_get(t, (int64_t[]){1, 1}) == 50);
    CHECK(tg_fill_(t, 9) == 0); /* and the tensor's by the caller */
    CHECK(buffer[0] == 9 && buffer[5] == 9);
    tg_tensor *v = tg_transpose(t, 0, 1); /* a view keeps the buffer alive */
    tg_retain(v);
    tg_pool_pop(pool);
    CHECK(deleter_calls == 0);
    tg_release(v);
    CHECK(deleter_calls == 1);
}

static void arange_like_torch(void) {
    double want[] = {0, 0.5, 1, 1.5};
    CHECK_VALUES(tg_arange(0, 2, 0.5, TG_F64), want, 4, 0, 0);
    double down[] = {3, 2, 1};
    CHECK_VALUES(tg_arange(3, 0, -1, TG_F32), down, 3, 0, 0);
    CHECK(tg_numel(tg_arange(0, 0, 1, TG_F32)) == 0);
    CHECK(tg_arange(0, 1, 0, TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "arange");
}

static void clone_copies_and_is_contiguous(void) {
    tg_tensor *a = tg_arange(0, 6, 1, TG_F32);
    tg_tensor *c = tg_clone(a);
    CHECK(!tg_shares_storage(a, c));
    CHECK(tg_fill_(c, 1) == 0);
    CHECK(tg_get(a, (int64_t[]){5}) == 5);
    tg_tensor *t = tg_transpose(tg_view(a, TG_SHAPE(2, 3)), 0, 1);
    tg_tensor *tc = tg_clone(t);
    CHECK(tg_is_contiguous(tc) && !tg_is_contiguous(t));
    double want[] = {0, 3, 1, 4, 2, 5};
    CHECK_VALUES(tc, want, 6, 0, 0);
}

static void view_shares_storage(void) {
    tg_tensor *a = tg_arange(0, 12, 1, TG_F64);
    tg_tensor *v = tg_view(a, TG_SHAPE(3, -1));
    CHECK(v && tg_shares_storage(a, v));
    CHECK(tg_size(v, 0) == 3 && tg_size(v, 1) == 4);
    CHECK(tg_fill_(v, 2) == 0);
    CHECK(tg_get(a, (int64_t[]){11}) == 2);
    tg_tensor *s = tg_view(tg_scalar(1, TG_F32), TG_SHAPE(1, 1));
    CHECK(s && tg_numel(s) == 1);
}

static void view_of_a_transpose(void) {
    tg_tensor *a = tg_arange(0, 24, 1, TG_F32);
    tg_tensor *t = tg_transpose(tg_view(a, TG_SHAPE(2, 3, 4)), 1, 2); /* (2, 4, 3) */
    /* Splitting or merging dims that stay contiguous is a view... */
    tg_tensor *ok = tg_view(t, TG_SHAPE(2, 2, 2, 3));
    CHECK(ok && tg_shares_storage(ok, a));
    /* ...merging the swapped dims is not. */
    CHECK(tg_view(t, TG_SHAPE(2, 12)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "view: a tensor of shape (2, 4, 3) with strides (12, 1, 4)");
}

static void reshape_copies_only_when_needed(void) {
    tg_tensor *a = tg_arange(0, 6, 1, TG_F32);
    tg_tensor *r = tg_reshape(a, TG_SHAPE(2, 3));
    CHECK(tg_shares_storage(a, r));
    tg_tensor *t = tg_transpose(r, 0, 1);
    tg_tensor *flat = tg_reshape(t, TG_SHAPE(6));
    CHECK(flat && !tg_shares_storage(flat, a));
    double want[] = {0, 3, 1, 4, 2, 5};
    CHECK_VALUES(flat, want, 6, 0, 0);
}

static void transpose_is_a_strided_view(void) {
    tg_tensor *a = tg_arange(0, 6, 1, TG_F64);
    tg_tensor *t = tg_transpose(tg_view(a, TG_SHAPE(2, 3)), -1, 0);
    CHECK(tg_shares_storage(a, t));
    CHECK(tg_shape(t)[0] == 3 && tg_shape(t)[1] == 2);
    CHECK(tg_strides(t)[0] == 1 && tg_strides(t)[1] == 3);
    CHECK(tg_get(t, (int64_t[]){2, 1}) == 5);
    CHECK(tg_contiguous(t) != t && tg_is_contiguous(tg_contiguous(t)));
    tg_tensor *c = tg_contiguous(a); /* already contiguous: the same tensor */
    CHECK(c == a);
}

static void detach_shares_data_and_leaves_graph(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F32), true);
    tg_tensor *y = tg_mul_scalar(x, 2);
    tg_tensor *d = tg_detach(y);
    CHECK(tg_shares_storage(d, y));
    CHECK(!tg_requires_grad(d) && tg_is_leaf(d) && tg_grad_fn_name(d) == NULL);
    CHECK(tg_fill_(d, 5) == 0);
    CHECK(tg_get(y, (int64_t[]){1}) == 5);
}

static void dtype_conversion(void) {
    tg_tensor *a = tg_full(TG_SHAPE(2), 0.1, TG_F64);
    tg_tensor *f = tg_to_dtype(a, TG_F32);
    CHECK(tg_dtype_of(f) == TG_F32);
    CHECK(tg_get(f, (int64_t[]){0}) == (double)0.1f);
    CHECK(tg_to_dtype(a, TG_F64) == a);
    CHECK(tg_dtype_size(TG_F32) == 4 && tg_dtype_size(TG_F64) == 8);
}

static void item_and_get(void) {
    CHECK(tg_item(tg_full(TG_SHAPE(1, 1), 3, TG_F32)) == 3);
    CHECK(isnan(tg_item(tg_ones(TG_SHAPE(2), TG_F32))));
    CHECK_ERROR(TG_ERR_SHAPE, "item: a tensor of shape (2,) has 2 elements, not one");
    CHECK(isnan(tg_get(tg_ones(TG_SHAPE(2), TG_F32), (int64_t[]){2})));
    CHECK_ERROR(TG_ERR_VALUE, "get: index 2 out of range for dim 0 of shape (2,)");
}

static void retain_outlives_pool(void) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *kept = tg_retain(tg_ones(TG_SHAPE(3), TG_F32));
    tg_tensor *dropped = tg_ones(TG_SHAPE(3), TG_F32);
    (void)dropped;
    int64_t live = tg_live_tensors();
    tg_pool_pop(pool);
    CHECK(tg_live_tensors() == live - 1);
    CHECK(tg_item(tg_sum(kept)) == 3);
    tg_release(kept);
}

static void nested_pools_pop_inner_ones(void) {
    int64_t live = tg_live_tensors();
    tg_pool *outer = tg_pool_push();
    tg_ones(TG_SHAPE(2), TG_F32);
    tg_pool *inner = tg_pool_push();
    tg_ones(TG_SHAPE(2), TG_F32);
    (void)inner;
    tg_pool_pop(outer); /* pops inner too */
    CHECK(tg_live_tensors() == live);
    tg_pool_pop(inner); /* no longer open: ignored */
    CHECK(tg_live_tensors() == live);
}

static void without_a_pool_the_caller_owns(void) {
    tg_pool_pop(tg_test_pool); /* no pool is open now */
    int64_t live = tg_live_tensors();
    tg_tensor *t = tg_ones(TG_SHAPE(2), TG_F32);
    CHECK(tg_live_tensors() == live + 1);
    tg_release(t);
    CHECK(tg_live_tensors() == live);
}

TG_TEST_MAIN(TG_CASE(constructors_fill_values), TG_CASE(up_to_eight_dims),
             TG_CASE(from_data_copies), TG_CASE(from_buffer_shares_both_ways),
             TG_CASE(arange_like_torch), TG_CASE(clone_copies_and_is_contiguous),
             TG_CASE(view_shares_storage), TG_CASE(view_of_a_transpose),
             TG_CASE(reshape_copies_only_when_needed), TG_CASE(transpose_is_a_strided_view),
             TG_CASE(detach_shares_data_and_leaves_graph), TG_CASE(dtype_conversion),
             TG_CASE(item_and_get), TG_CASE(retain_outlives_pool),
             TG_CASE(nested_pools_pop_inner_ones), TG_CASE(without_a_pool_the_caller_owns))
