/* tests/test_linalg.c - matmul and linear: values, gradients and node names
 * against PyTorch, gradients against finite differences, strided operands
 * read without copies, and the errors. */
#include "golden/golden_linalg.h"
#include "tg_test.h"

/* f32: BLIS and PyTorch's BLAS sum in different orders, which moves the
 * last bits; the inputs are scaled so that terms stay near 1. */
#define RTOL_F32 1e-5
#define ATOL_F32 1e-6
#define RTOL_F64 1e-12
#define ATOL_F64 1e-14

static int64_t numel_of(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

/* ---- Against PyTorch ------------------------------------------------------------ */

static tg_tensor *operand_of(tg_tensor *leaf, const golden_linalg_input *in) {
    return in->swapped ? tg_transpose(leaf, in->swap[0], in->swap[1]) : leaf;
}

static tg_tensor *run_golden_op(const golden_linalg *c, tg_tensor *const *operands) {
    if (strcmp(c->op, "matmul") == 0) return tg_matmul(operands[0], operands[1]);
    return tg_linear(operands[0], operands[1], c->n_inputs == 3 ? operands[2] : NULL);
}

static void values_gradients_and_names_match_pytorch(void) {
    int n = (int)(sizeof golden_linalgs / sizeof golden_linalgs[0]);
    for (int i = 0; i < n; i++) {
        const golden_linalg *c = &golden_linalgs[i];
        tg_dtype dtype = c->f64 ? TG_F64 : TG_F32;
        double rtol = c->f64 ? RTOL_F64 : RTOL_F32, atol = c->f64 ? ATOL_F64 : ATOL_F32;
        tg_test_context = c->name;
        tg_tensor *leaves[3], *operands[3];
        for (int k = 0; k < c->n_inputs; k++) {
            const golden_linalg_input *in = &c->in[k];
            tg_tensor *leaf = tg_test_tensor(in->data, in->ndim, in->shape, dtype);
            leaves[k] = tg_requires_grad_(leaf, true);
            operands[k] = operand_of(leaves[k], in);
            CHECK(operands[k] != NULL);
        }
        tg_tensor *out = run_golden_op(c, operands);
        CHECK(out != NULL);
        CHECK_EQ_STR(tg_grad_fn_name(out), c->grad_fn);
        CHECK(tg_ndim(out) == c->out_ndim);
        for (int d = 0; d < c->out_ndim; d++) CHECK(tg_shape(out)[d] == c->out_shape[d]);
        CHECK_VALUES(out, c->out, c->out_numel, rtol, atol);

        tg_tensor *w = tg_test_tensor(c->w, c->out_ndim, c->out_shape, dtype);
        CHECK(tg_backward(tg_sum(tg_mul(out, w)), NULL) == 0);
        for (int k = 0; k < c->n_inputs; k++)
            CHECK_VALUES(tg_grad(leaves[k]), c->in[k].grad, numel_of(c->in[k].ndim, c->in[k].shape),
                         rtol, atol);
    }
}

/* ---- Against finite differences (f64) ------------------------------------------- */

typedef struct product_case {
    const char *name;
    bool linear;
    int n_inputs; /* linear: 2 means no bias */
    int ndim[3];
    int64_t shape[3][4];
    bool transpose_first; /* swap the last two dims of input 0 first */
} product_case;

static tg_tensor *run_product(tg_tensor *const *in, void *ctx) {
    const product_case *c = ctx;
    tg_tensor *first = c->transpose_first ? tg_transpose(in[0], -1, -2) : in[0];
    if (!c->linear) return tg_matmul(first, in[1]);
    return tg_linear(first, in[1], c->n_inputs == 3 ? in[2] : NULL);
}

static const product_case gradcheck_cases[] = {
    {"mm", false, 2, {2, 2}, {{3, 4}, {4, 5}}, false},
    {"vector_matrix", false, 2, {1, 2}, {{4}, {4, 5}}, false},
    {"matrix_vector", false, 2, {2, 1}, {{3, 4}, {4}}, false},
    {"dot", false, 2, {1, 1}, {{4}, {4}}, false},
    {"broadcast_batch", false, 2, {4, 3}, {{2, 1, 3, 4}, {5, 4, 2}}, false},
    {"matrix_batched", false, 2, {2, 3}, {{3, 4}, {2, 4, 5}}, false},
    {"batched_vector", false, 2, {3, 1}, {{2, 3, 4}, {4}}, false},
    {"transposed_first", false, 2, {2, 2}, {{4, 3}, {4, 5}}, true},
    {"transposed_batched", false, 2, {3, 3}, {{2, 4, 3}, {2, 4, 5}}, true},
    {"linear_bias", true, 3, {2, 2, 1}, {{4, 3}, {5, 3}, {5}}, false},
    {"linear_no_bias", true, 2, {2, 2}, {{4, 3}, {5, 3}}, false},
    {"linear_1d", true, 3, {1, 2, 1}, {{3}, {5, 3}, {5}}, false},
    {"linear_3d", true, 3, {3, 2, 1}, {{2, 4, 3}, {5, 3}, {5}}, false},
    {"linear_4d_no_bias", true, 2, {4, 2}, {{2, 1, 2, 3}, {5, 3}}, false},
    {"linear_transposed_input", true, 3, {3, 2, 1}, {{2, 3, 4}, {5, 3}, {5}}, true},
};

static void gradients_match_finite_differences(void) {
    tg_generator *gen = tg_generator_new(7);
    CHECK(gen != NULL);
    int n = (int)(sizeof gradcheck_cases / sizeof gradcheck_cases[0]);
    for (int i = 0; i < n; i++) {
        const product_case *c = &gradcheck_cases[i];
        tg_test_context = c->name;
        tg_tensor *in[3];
        for (int k = 0; k < c->n_inputs; k++)
            in[k] = tg_requires_grad_(tg_randn(c->ndim[k], c->shape[k], TG_F64, gen), true);
        if (tg_gradcheck(run_product, (void *)c, c->n_inputs, in, NULL) != 0) break;
    }
    tg_generator_free(gen);
    CHECK_EQ_STR(tg_last_error(), "");
}

/* ---- Layouts --------------------------------------------------------------------- */

/* A gradient that reaches matmul from sum() is one value expanded (all
 * strides 0), a layout BLIS cannot take: it is copied, and the gradients
 * are the row and column sums: d sum(AB)/dA[i][j] = sum_n B[j][n],
 * d sum(AB)/dB[j][n] = sum_i A[i][j]. */
static void expanded_gradient_is_handled(void) {
    double a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, -1, 2, 0.5, 3, -2};
    tg_tensor *ta = tg_requires_grad_(tg_test_tensor(a, TG_SHAPE(2, 3), TG_F64), true);
    tg_tensor *tb = tg_requires_grad_(tg_test_tensor(b, TG_SHAPE(3, 2), TG_F64), true);
    CHECK(tg_backward(tg_sum(tg_matmul(ta, tb)), NULL) == 0);
    double want_ga[] = {0, 2.5, 1, 0, 2.5, 1}, want_gb[] = {5, 5, 7, 7, 9, 9};
    CHECK_VALUES(tg_grad(ta), want_ga, 6, 0, 0);
    CHECK_VALUES(tg_grad(tb), want_gb, 6, 0, 0);
}

/* Counts the bytes of allocations big enough to hold a copy of an operand
 * (tensor headers and tape nodes are smaller). */
static size_t big_bytes;
#define BIG_ALLOCATION 8192

static void *counting_alloc(size_t size, void *ctx) {
    (void)ctx;
    if (size >= BIG_ALLOCATION) big_bytes += size;
    return aligned_alloc(64, size ? (size + 63) / 64 * 64 : 64);
}
static void counting_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}
static const tg_allocator counting = {counting_alloc, counting_free, NULL};

/* The big bytes one new (64, 40) f64 tensor takes: its data and whatever
 * slack storage keeps after it. */
static size_t output_bytes(void) {
    tg_set_allocator(&counting);
    big_bytes = 0;
    tg_tensor *t = tg_empty(TG_SHAPE(64, 40), TG_F64);
    tg_set_allocator(NULL);
    (void)t;
    return big_bytes;
}

/* Big bytes allocated by a (64, 48) x (48, 40) f64 matmul, forward and then
 * backward, with its first operand stored contiguous or as the transposed
 * view of a (48, 64) tensor. */
static void big_bytes_of_matmul(bool transposed, size_t *forward, size_t *backward) {
    tg_tensor *a = transposed ? tg_randn(TG_SHAPE(48, 64), TG_F64, NULL)
                              : tg_randn(TG_SHAPE(64, 48), TG_F64, NULL);
    tg_tensor *b = tg_requires_grad_(tg_randn(TG_SHAPE(48, 40), TG_F64, NULL), true);
    tg_tensor *op = transposed ? tg_transpose(tg_requires_grad_(a, true), 0, 1)
                               : tg_requires_grad_(a, true);
    tg_tensor *seed = tg_ones(TG_SHAPE(64, 40), TG_F64);
    tg_set_allocator(&counting);
    big_bytes = 0;
    tg_tensor *out = tg_matmul(op, b);
    *forward = big_bytes;
    big_bytes = 0;
    tg_backward(out, seed);
    *backward = big_bytes;
    tg_set_allocator(NULL);
}

static void transposed_operand_is_not_copied(void) {
    size_t fwd, bwd, fwd_t, bwd_t;
    big_bytes_of_matmul(false, &fwd, &bwd);
    big_bytes_of_matmul(true, &fwd_t, &bwd_t);
    CHECK(output_bytes() >= 64 * 40 * sizeof(double));
    CHECK(fwd == output_bytes()); /* the output, nothing else */
    CHECK(fwd_t == fwd);
    CHECK(bwd_t == bwd); /* dA, dB and the leaves' .grad in both */
}

/* Torch's weight layout (out, in) is used as W^T by passing BLIS_TRANSPOSE,
 * and a weight that is itself a transposed view needs no copy either. */
static void transposed_weight_is_not_copied(void) {
    tg_tensor *x = tg_randn(TG_SHAPE(64, 48), TG_F64, NULL);
    tg_tensor *w = tg_randn(TG_SHAPE(40, 48), TG_F64, NULL);
    tg_tensor *w_t = tg_transpose(tg_contiguous(tg_transpose(w, 0, 1)), 0, 1);
    CHECK(w_t != NULL && !tg_is_contiguous(w_t));
    tg_set_allocator(&counting);
    big_bytes = 0;
    tg_tensor *y = tg_linear(x, w, NULL);
    size_t plain = big_bytes;
    big_bytes = 0;
    tg_tensor *y_t = tg_linear(x, w_t, NULL);
    size_t strided = big_bytes;
    tg_set_allocator(NULL);
    CHECK(plain == output_bytes() && strided == plain);
    /* The same numbers, up to the order BLIS sums them in for each layout. */
    static double want[64 * 40];
    tg_to_doubles(y, want);
    CHECK_VALUES(y_t, want, 64 * 40, RTOL_F64, ATOL_F64);
}

/* An inner dim of 0 gives zeros, as in PyTorch; no dims of 0 reach BLIS. */
static void empty_products(void) {
    tg_tensor *a = tg_requires_grad_(tg_zeros(TG_SHAPE(3, 0), TG_F32), true);
    tg_tensor *b = tg_requires_grad_(tg_zeros(TG_SHAPE(0, 5), TG_F32), true);
    tg_tensor *out = tg_matmul(a, b);
    double zeros[15] = {0};
    CHECK_VALUES(out, zeros, 15, 0, 0);
    CHECK(tg_backward(out, tg_ones(TG_SHAPE(3, 5), TG_F32)) == 0);
    CHECK(tg_numel(tg_grad(a)) == 0 && tg_numel(tg_grad(b)) == 0);
    out = tg_matmul(tg_zeros(TG_SHAPE(2, 0, 4), TG_F32), tg_zeros(TG_SHAPE(4, 5), TG_F32));
    CHECK(out != NULL && tg_ndim(out) == 3 && tg_shape(out)[1] == 0 && tg_shape(out)[2] == 5);
}

/* ---- Autograd bookkeeping --------------------------------------------------------- */

static void no_node_without_grad(void) {
    tg_tensor *a = tg_requires_grad_(tg_ones(TG_SHAPE(2, 3), TG_F32), true);
    tg_tensor *b = tg_ones(TG_SHAPE(3, 4), TG_F32);
    bool prev = tg_set_grad_enabled(false);
    tg_tensor *out = tg_matmul(a, b);
    tg_set_grad_enabled(prev);
    CHECK(out != NULL && tg_is_leaf(out) && !tg_requires_grad(out));
    out = tg_linear(b, tg_ones(TG_SHAPE(5, 4), TG_F32), NULL);
    CHECK(out != NULL && tg_is_leaf(out));
}

/* Only the bias requires grad: dx and dW are not computed, and x and W
 * are not kept for them. */
static void only_bias_gradient(void) {
    tg_tensor *x = tg_ones(TG_SHAPE(2, 4, 3), TG_F64);
    tg_tensor *w = tg_ones(TG_SHAPE(5, 3), TG_F64);
    tg_tensor *bias = tg_requires_grad_(tg_zeros(TG_SHAPE(5), TG_F64), true);
    tg_tensor *y = tg_linear(x, w, bias);
    CHECK_EQ_STR(tg_grad_fn_name(y), "ViewBackward0");
    CHECK(tg_backward(tg_sum(y), NULL) == 0);
    double want[5] = {8, 8, 8, 8, 8};
    CHECK_VALUES(tg_grad(bias), want, 5, 0, 0);
    CHECK(tg_grad(x) == NULL && tg_grad(w) == NULL);
}

/* ---- Errors ------------------------------------------------------------------------- */

static void matmul_errors_name_the_shapes(void) {
    tg_tensor *a = tg_zeros(TG_SHAPE(4, 128), TG_F32);
    tg_tensor *b = tg_zeros(TG_SHAPE(176, 128), TG_F32);
    CHECK(tg_matmul(a, b) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "matmul: shapes (4, 128) and (176, 128) cannot be multiplied");
    CHECK(tg_matmul(tg_zeros(TG_SHAPE(3), TG_F32), tg_zeros(TG_SHAPE(4), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "matmul: shapes (3,) and (4,) cannot be multiplied");
    CHECK(tg_matmul(tg_zeros(TG_SHAPE(2, 3, 4), TG_F32), tg_zeros(TG_SHAPE(3, 4, 5), TG_F32)) ==
          NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "matmul: the batch dims of shapes (2, 3, 4) and (3, 4, 5) cannot be broadcast");
    CHECK(tg_matmul(tg_scalar(2, TG_F32), b) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "matmul: both arguments need at least 1 dim, got shapes () and (176, 128)");
    CHECK(tg_matmul(a, tg_zeros(TG_SHAPE(128, 3), TG_F64)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "matmul: dtypes float32 and float64 differ");
}

static void linear_errors_name_the_shapes(void) {
    tg_tensor *x = tg_zeros(TG_SHAPE(4, 128), TG_F32);
    tg_tensor *w = tg_zeros(TG_SHAPE(176, 64), TG_F32);
    CHECK(tg_linear(x, w, NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "linear: input of shape (4, 128) does not fit weight of shape (176, 64)");
    CHECK(tg_linear(tg_scalar(1, TG_F32), w, NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "linear: input of shape () does not fit weight of shape (176, 64)");
    CHECK(tg_linear(x, tg_zeros(TG_SHAPE(128), TG_F32), NULL) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE,
                "linear: weight must be 2-D (out_features, in_features), got shape (128,)");
    w = tg_zeros(TG_SHAPE(176, 128), TG_F32);
    CHECK(tg_linear(x, w, tg_zeros(TG_SHAPE(128), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "linear: bias of shape (128,) does not fit weight of shape "
                              "(176, 128) (want (176,))");
    CHECK(tg_linear(x, w, tg_zeros(TG_SHAPE(1, 176), TG_F32)) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "linear: bias of shape (1, 176) does not fit weight");
    CHECK(tg_linear(x, tg_zeros(TG_SHAPE(176, 128), TG_F64), NULL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "linear: dtypes float32 and float64 differ");
    CHECK(tg_linear(x, w, tg_zeros(TG_SHAPE(176), TG_F64)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "linear: dtypes float32 and float64 differ");
}

/* NULL in gives NULL out, keeping the message of the first failure. */
static void null_inputs_keep_the_first_message(void) {
    tg_tensor *a = tg_zeros(TG_SHAPE(4, 128), TG_F32);
    tg_tensor *w = tg_zeros(TG_SHAPE(176, 128), TG_F32);
    CHECK(tg_matmul(NULL, a) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "matmul: argument is NULL");
    CHECK(tg_linear(a, NULL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "linear: argument is NULL");
    /* A chain checked once, at its end: the first matmul fails and the
     * calls after it pass NULL along. */
    tg_tensor *h = tg_linear(tg_matmul(a, w), w, NULL);
    CHECK(tg_matmul(h, w) == NULL);
    CHECK_ERROR(TG_ERR_SHAPE, "matmul: shapes (4, 128) and (176, 128) cannot be multiplied");
}

/* ---- Every shape, every layout ---------------------------------------------------
 * The products run through BLIS or ops/gemm.c (meson runs this program with
 * each, TG_GEMM=blis, TG_GEMM=tapegrad and TG_GEMM=portable, the last for
 * ops/gemm.c's portable C micro-kernel): each result element is checked
 * against the sum in long double, within the error bound of a sum of k
 * products, (k + 2) eps sum |a| |b|. The shapes cross every edge of
 * ops/gemm.c: tiles of 6 or 8 rows and 8 to 32 columns, panels of one or
 * two vectors, blocks of 256 steps of k, of 64 or 128 rows and of 512 or
 * 1024 columns, operands read in place or packed (by rows of 8 or not),
 * results with unit column stride or not, on one thread and on two. */

/* Row-major values of a random rows x cols matrix, exact in dtype. */
static double *random_values(int64_t rows, int64_t cols, tg_dtype dtype) {
    double *v = malloc((size_t)(rows * cols) * sizeof *v);
    if (v) tg_to_doubles(tg_randn(TG_SHAPE(rows, cols), dtype, NULL), v);
    return v;
}

/* The rows x cols matrix of values v as a tensor laid out row-major
 * (layout 0), column-major (1: the transpose of a row-major copy), or as
 * every other column of a wider matrix (2), whose columns between hold NaN
 * so that a product reading them would show it. */
static tg_tensor *laid_out(const double *v, int64_t rows, int64_t cols, int layout,
                           tg_dtype dtype) {
    if (layout == 0) return tg_test_tensor(v, TG_SHAPE(rows, cols), dtype);
    int64_t width = layout == 1 ? rows : 2 * cols;
    double *w = malloc((size_t)(layout == 1 ? rows * cols : rows * width) * sizeof *w);
    if (!w) return NULL;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            if (layout == 1)
                w[j * rows + i] = v[i * cols + j];
            else
                w[i * width + 2 * j] = v[i * cols + j], w[i * width + 2 * j + 1] = NAN;
    tg_tensor *t = layout == 1
                       ? tg_transpose(tg_test_tensor(w, TG_SHAPE(cols, rows), dtype), 0, 1)
                       : tg_slice(tg_test_tensor(w, TG_SHAPE(rows, width), dtype), 1, 0, width, 2);
    free(w);
    return t;
}

/* The exact product of a (m x k) and b (k x n), scaled, and for each
 * element the sum of the magnitudes of its terms. */
static void exact_product(const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                          double scale, long double *sum, long double *mag) {
    for (int64_t i = 0; i < m * n; i++) sum[i] = mag[i] = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < k; p++)
            for (int64_t j = 0; j < n; j++) {
                long double t = (long double)a[i * k + p] * b[p * n + j] * scale;
                sum[i * n + j] += t, mag[i * n + j] += fabsl(t);
            }
}

/* How many elements of out (m x n, any layout) are further from sum than
 * a sum of k rounded products may be. */
static int64_t wrong_elements(tg_tensor *out, const long double *sum, const long double *mag,
                              int64_t k) {
    int64_t n = tg_numel(out), bad = 0;
    double eps = tg_dtype_of(out) == TG_F32 ? 0x1p-24 : 0x1p-53;
    double *got = malloc((size_t)n * sizeof *got);
    if (!got || tg_to_doubles(out, got) != 0) bad = n;
    for (int64_t i = 0; i < n && got; i++)
        if (!(fabsl(got[i] - sum[i]) <= (k + 2) * eps * mag[i])) bad++;
    free(got);
    return bad;
}

static void products_of_every_shape_are_right_to_rounding(void) {
    static const int64_t sizes[][3] = {
        {1, 1, 1},     {1, 7, 3},        {5, 1, 9},      {6, 8, 1},      {7, 15, 2},
        {8, 16, 16},   {9, 17, 5},       {12, 31, 40},   {13, 32, 7},    {16, 33, 64},
        {32, 48, 16},  {48, 16, 32},     {25, 65, 3},    {64, 176, 128}, {129, 40, 257},
        {3, 1030, 20}, {130, 1030, 260}, {300, 40, 263}, /* an A too large to read in place (in float too): packed */
    };
    tg_manual_seed(7);
    for (int dt = 0; dt < 2; dt++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            tg_dtype dtype = dt ? TG_F64 : TG_F32;
            int64_t m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            double *a = random_values(m, k, dtype), *b = random_values(k, n, dtype);
            long double *sum = malloc((size_t)(m * n) * sizeof *sum);
            long double *mag = malloc((size_t)(m * n) * sizeof *mag);
            CHECK(a && b && sum && mag);
            exact_product(a, b, m, n, k, 1, sum, mag);
            bool big = m * n * k > 1000000; /* every layout pair for the others */
            for (int la = 0; la < 3; la++)
                for (int lb = 0; lb < 3; lb++) {
                    if (big && la != lb) continue;
                    tg_pool *pool = tg_pool_push();
                    tg_tensor *ta = laid_out(a, m, k, la, dtype),
                              *tb = laid_out(b, k, n, lb, dtype);
                    for (int threads = 1; threads <= 2; threads++) {
                        CHECK(tg_set_num_threads(threads) == 0);
                        int64_t bad = wrong_elements(tg_matmul(ta, tb), sum, mag, k);
                        /* Into a transposed result, C = (B^T A^T)^T: column stride not 1. */
                        tg_tensor *bt = tg_transpose(tb, 0, 1), *at = tg_transpose(ta, 0, 1);
                        bad += wrong_elements(tg_transpose(tg_matmul(bt, at), 0, 1), sum, mag, k);
                        if (bad) {
                            printf("  %s (%ld x %ld) x (%ld x %ld), layouts %d %d, %d threads: %ld "
                                   "wrong elements\n",
                                   tg_dtype_name(dtype), (long)m, (long)k, (long)k, (long)n, la, lb,
                                   threads, (long)bad);
                            tg_test_fail(__FILE__, __LINE__, "a product off by more than rounding");
                        }
                    }
                    tg_pool_pop(pool);
                }
            tg_set_num_threads(1);
            free(a), free(b), free(sum), free(mag);
        }
}

/* A weight gradient is added into .grad in place: two backward passes give
 * twice one, through the adding path of the product. */
static void weight_gradient_adds_into_grad(void) {
    enum { B = 37, IN = 70, OUT = 45 };
    for (int dt = 0; dt < 2; dt++) {
        tg_dtype dtype = dt ? TG_F64 : TG_F32;
        tg_manual_seed(3);
        double *x = random_values(B, IN, dtype), *g = random_values(B, OUT, dtype);
        double *w = random_values(OUT, IN, dtype), g_t[OUT * B];
        static long double sum[OUT * IN], mag[OUT * IN];
        CHECK(x && g && w);
        for (int i = 0; i < B; i++)
            for (int j = 0; j < OUT; j++) g_t[j * B + i] = g[i * OUT + j];
        exact_product(g_t, x, OUT, IN, B, 2, sum, mag); /* w.grad = 2 g^T x */
        tg_tensor *weight = tg_requires_grad_(tg_test_tensor(w, TG_SHAPE(OUT, IN), dtype), true);
        tg_tensor *input = tg_test_tensor(x, TG_SHAPE(B, IN), dtype);
        tg_tensor *seed = tg_test_tensor(g, TG_SHAPE(B, OUT), dtype);
        for (int pass = 0; pass < 2; pass++)
            CHECK(tg_backward(tg_linear(input, weight, NULL), seed) == 0);
        /* The first pass's result is rounded once more: k + 1 roundings. */
        CHECK(wrong_elements(tg_grad(weight), sum, mag, B + 1) == 0);
        free(x), free(g), free(w);
    }
}

/* ops/gemm.c gives every element of C to one thread, summed in the same
 * order whatever their number: results do not depend on the thread count.
 * (BLIS promises nothing of the kind, so only that backend is held to it.) */
static void own_products_do_not_depend_on_the_thread_count(void) {
    if (strcmp(tg_matmul_backend(), "tapegrad") != 0) return;
    static const int64_t sizes[][3] = {{130, 1030, 260}, {64, 176, 128}, {5, 3000, 17}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        tg_manual_seed(11 + s);
        tg_tensor *a = tg_randn(TG_SHAPE(sizes[s][0], sizes[s][2]), TG_F32, NULL);
        tg_tensor *b = tg_randn(TG_SHAPE(sizes[s][2], sizes[s][1]), TG_F32, NULL);
        CHECK(tg_set_num_threads(1) == 0);
        tg_tensor *one = tg_matmul(a, b);
        for (int threads = 2; threads <= 5; threads++) {
            CHECK(tg_set_num_threads(threads) == 0);
            tg_tensor *more = tg_matmul(a, b);
            CHECK(one && more &&
                  memcmp(tg_data(one), tg_data(more), (size_t)tg_numel(one) * sizeof(float)) == 0);
        }
    }
    tg_set_num_threads(1);
}

/* meson runs this program with TG_GEMM=blis (in the build with BLIS),
 * TG_GEMM=tapegrad, TG_GEMM=avx2 and TG_GEMM=portable: the products above
 * ran through the one asked for; and with TG_GEMM unset under a BLIS that
 * has fast kernels (BLIS_AS, tests/check_mixed_products.sh): small
 * products by ops/gemm.c, the rest by BLIS (130 x 1030 x 260 above is
 * one of the rest, in float64 at least). ops/gemm.c has a micro-kernel for every CPU, so it runs
 * whenever asked; the build without BLIS (TG_BLAS_NONE, set by
 * tests/meson.build) ignores TG_GEMM=blis. */
static void the_backend_asked_for_runs(void) {
    const char *asked = getenv("TG_GEMM");
    if (!asked || !*asked) {
        /* tests/check_mixed_products.sh: BLIS with fast kernels for the CPU */
        if (getenv("BLIS_AS")) CHECK_EQ_STR(tg_matmul_backend(), "tapegrad+blis");
        return;
    }
#ifdef TG_BLAS_NONE
    bool blis = false;
#else
    bool blis = strcmp(asked, "blis") == 0;
#endif
    CHECK_EQ_STR(tg_matmul_backend(), blis ? "blis" : "tapegrad");
}

TG_TEST_MAIN(TG_CASE(values_gradients_and_names_match_pytorch),
             TG_CASE(gradients_match_finite_differences), TG_CASE(expanded_gradient_is_handled),
             TG_CASE(transposed_operand_is_not_copied), TG_CASE(transposed_weight_is_not_copied),
             TG_CASE(empty_products), TG_CASE(no_node_without_grad), TG_CASE(only_bias_gradient),
             TG_CASE(matmul_errors_name_the_shapes), TG_CASE(linear_errors_name_the_shapes),
             TG_CASE(null_inputs_keep_the_first_message),
             TG_CASE(products_of_every_shape_are_right_to_rounding),
             TG_CASE(weight_gradient_adds_into_grad), TG_CASE(the_backend_asked_for_runs),
             TG_CASE(own_products_do_not_depend_on_the_thread_count))
