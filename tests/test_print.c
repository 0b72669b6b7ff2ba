/* tests/test_print.c - repr text and random draws match PyTorch's. */
#include "golden/golden_core.h"
#include "tg_test.h"

static void repr_matches_pytorch(void) {
    int n = (int)(sizeof golden_reprs / sizeof golden_reprs[0]);
    for (int i = 0; i < n; i++) {
        const golden_repr *c = &golden_reprs[i];
        tg_tensor *t = tg_test_tensor(c->data, c->ndim, c->shape, c->f64 ? TG_F64 : TG_F32);
        CHECK(t != NULL);
        if (c->requires_grad) t = tg_requires_grad_(tg_clone(t), true);
        char *text = tg_repr(t);
        tg_test_context = c->name;
        CHECK_EQ_STR(text, c->text);
        free(text);
    }
}

static void repr_shows_grad_fn(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_tensor *out = tg_mean(tg_mul_scalar(x, 27));
    char *text = tg_repr(out);
    CHECK_EQ_STR(text, "tensor(27., grad_fn=<MeanBackward0>)");
    free(text);
    text = tg_repr(tg_add_scalar(tg_to_dtype(x, TG_F64), 1));
    CHECK_EQ_STR(text, "tensor([[2., 2.],\n        [2., 2.]], dtype=torch.float64, "
                       "grad_fn=<AddBackward0>)");
    free(text);
}

static void repr_of_a_strided_view(void) {
    double d[] = {1, 2, 3, 4, 5, 6};
    tg_tensor *t = tg_transpose(tg_test_tensor(d, TG_SHAPE(2, 3), TG_F32), 0, 1);
    char *text = tg_repr(t);
    CHECK_EQ_STR(text, "tensor([[1., 4.],\n        [2., 5.],\n        [3., 6.]])");
    free(text);
}

static void print_writes_a_line(void) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK(tg_print(tg_scalar(0.5, TG_F32), f) == 0);
    rewind(f);
    char buf[64] = {0};
    CHECK(fgets(buf, sizeof buf, f) != NULL);
    fclose(f);
    CHECK_EQ_STR(buf, "tensor(0.5000)\n");
}

static void rand_matches_pytorch(void) {
    int n = (int)(sizeof golden_rands / sizeof golden_rands[0]);
    for (int i = 0; i < n; i++) {
        const golden_rand *c = &golden_rands[i];
        tg_manual_seed(c->seed);
        tg_dtype dtype = c->f64 ? TG_F64 : TG_F32;
        tg_tensor *t = c->normal ? tg_randn(c->ndim, c->shape, dtype, NULL)
                                 : tg_rand(c->ndim, c->shape, dtype, NULL);
        tg_test_context = c->name;
        /* Uniforms are bit-identical; normals go through libm's log/sin/cos
         * (PyTorch's float32 path uses its own vectorised ones). */
        double tol = !c->normal ? 0 : c->f64 ? 1e-15 : 1e-6;
        CHECK_VALUES(t, c->values, c->n, tol, tol);
    }
}

static void generators_are_independent_and_reseedable(void) {
    tg_generator *a = tg_generator_new(5), *b = tg_generator_new(5);
    CHECK(a && b);
    tg_tensor *ta = tg_rand(TG_SHAPE(8), TG_F64, a);
    tg_tensor *tb = tg_rand(TG_SHAPE(8), TG_F64, b);
    double va[8], vb[8];
    tg_to_doubles(ta, va);
    tg_to_doubles(tb, vb);
    CHECK(memcmp(va, vb, sizeof va) == 0);
    tg_generator_seed(a, 5);
    tg_to_doubles(tg_rand(TG_SHAPE(8), TG_F64, a), vb);
    CHECK(memcmp(va, vb, sizeof va) == 0);
    for (int i = 0; i < 8; i++) CHECK(va[i] >= 0 && va[i] < 1);
    tg_generator_free(a);
    tg_generator_free(b);
}

TG_TEST_MAIN(TG_CASE(repr_matches_pytorch), TG_CASE(repr_shows_grad_fn),
             TG_CASE(repr_of_a_strided_view), TG_CASE(print_writes_a_line),
             TG_CASE(rand_matches_pytorch), TG_CASE(generators_are_independent_and_reseedable))
