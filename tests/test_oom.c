/* tests/test_oom.c - out of memory with no pool pushed: every op, every
 * module constructor (the built-in ones and one made with the public API of
 * tapegrad/nn.h, as a user makes it), a module rebuilt from its file by
 * tg_module_load_new, every schedule constructor and the files they save,
 * and a report of hand gradients (tg_grad_report), fail cleanly when any one allocation fails. Without a pool each result
 * belongs to the caller, so an op that loses track of a tensor on its
 * failure path leaks it here
 * (tg_live_tensors), and a double free shows under ASan and valgrind. */
#include <unistd.h>

#include "tg_test.h"

/* ---- Every op, forward and backward ---------------------------------------------------- */

/* An op applied to a (4, 6), b (4, 6) and w (6, 6), all requiring grad. */
typedef tg_tensor *(*op_call)(tg_tensor *a, tg_tensor *b, tg_tensor *w);

typedef struct op_case {
    const char *name;
    op_call call;
    bool composed; /* calls more than one op (its inputs are made by ops) */
} op_case;

/* int64 indices, made with no pool before a sweep and released after it
 * (make_indices, free_indices): class indices for the (4, 6) input and for
 * it viewed as (2, 3, 2, 2); for the indexing ops pick (4,), entries below
 * 4, and places (4, 6), entries below 6, both with repeats. */
static tg_tensor *targets, *targets_nd, *pick, *places;

#define OP(name, expr)                                                      \
    static tg_tensor *op_##name(tg_tensor *a, tg_tensor *b, tg_tensor *w) { \
        (void)a, (void)b, (void)w;                                          \
        return (expr);                                                      \
    }
OP(add, tg_add(a, b))
OP(sub, tg_sub(a, b))
OP(mul, tg_mul(a, b))
OP(div, tg_div(a, b))
OP(neg, tg_neg(a))
OP(add_scalar, tg_add_scalar(a, 2))
OP(rsub_scalar, tg_rsub_scalar(a, 2))
OP(mul_scalar, tg_mul_scalar(a, 3))
OP(div_scalar, tg_div_scalar(a, 3))
OP(pow_scalar, tg_pow_scalar(a, 2.5))
OP(exp, tg_exp(a))
OP(log, tg_log(a))
OP(sqrt, tg_sqrt(a))
OP(abs, tg_abs(a))
OP(clamp, tg_clamp(a, -0.5, 0.5))
OP(clamp_min, tg_clamp_min(a, 0.5))
OP(clamp_max, tg_clamp_max(a, 0.5))
OP(rsqrt, tg_rsqrt(a))
OP(reciprocal, tg_reciprocal(a))
OP(square, tg_square(a))
OP(sign, tg_sign(a))
OP(sin, tg_sin(a))
OP(cos, tg_cos(a))
OP(log1p, tg_log1p(a))
OP(expm1, tg_expm1(a))
OP(pow, tg_pow(a, b))
OP(pow_broadcast, tg_pow(a, tg_reshape(tg_slice(w, 0, 0, 1, 1), TG_SHAPE(6))))
OP(maximum, tg_maximum(a, b))
OP(minimum, tg_minimum(a, b))
OP(xlogy, tg_xlogy(a, b))
OP(relu, tg_relu(a))
OP(leaky_relu, tg_leaky_relu(a, 0.1))
OP(rrelu, tg_rrelu(a, 0.1, 0.3, TG_TRAIN, NULL))
OP(elu, tg_elu(a, 1))
OP(sigmoid, tg_sigmoid(a))
OP(tanh, tg_tanh(a))
OP(gelu, tg_gelu(a, TG_GELU_NONE))
OP(gelu_tanh, tg_gelu(a, TG_GELU_TANH))
OP(silu, tg_silu(a))
OP(softplus, tg_softplus(a, 1, 20))
OP(selu, tg_selu(a))
OP(celu, tg_celu(a, 0.5))
OP(hardtanh, tg_hardtanh(a, -0.5, 0.5))
OP(relu6, tg_relu6(a))
OP(hardsigmoid, tg_hardsigmoid(a))
OP(hardswish, tg_hardswish(a))
OP(mish, tg_mish(a))
OP(logsigmoid, tg_logsigmoid(a))
OP(softsign, tg_softsign(a))
OP(tanhshrink, tg_tanhshrink(a))
OP(prelu, tg_prelu(a, tg_reshape(tg_slice(w, 0, 0, 1, 1), TG_SHAPE(6))))
OP(glu, tg_glu(a, 1))
OP(swiglu, tg_swiglu(a, b))
OP(geglu, tg_geglu(a, b, TG_GELU_NONE))
OP(reglu, tg_reglu(a, b))
OP(dropout, tg_dropout(a, 0.5, TG_TRAIN, NULL))
OP(sum, tg_sum(a))
OP(mean, tg_mean(a))
OP(sum_dims, tg_sum_dims(a, 1, (int[]){1}, TG_DROP_DIMS))
OP(mean_dims, tg_mean_dims(a, 1, (int[]){0}, TG_KEEP_DIMS))
OP(max_dim, tg_max_dim(a, 1, TG_DROP_DIMS, NULL))
OP(softmax, tg_softmax(a, 1))
OP(log_softmax, tg_log_softmax(a, 0))
OP(layer_norm, tg_layer_norm(a, TG_SHAPE(6), NULL, NULL, 1e-5))
OP(layer_norm_affine,
   tg_layer_norm(tg_transpose(tg_view(a, TG_SHAPE(4, 2, 3)), 1, 2), TG_SHAPE(3, 2),
                 tg_view(tg_slice(w, 0, 0, 1, 1), TG_SHAPE(3, 2)),
                 tg_view(tg_slice(w, 0, 1, 2, 1), TG_SHAPE(3, 2)), 1e-5))
OP(rms_norm, tg_rms_norm(a, NULL, 1e-6))
OP(rms_norm_weight,
   tg_rms_norm(tg_transpose(a, 0, 1), tg_slice(tg_reshape(b, TG_SHAPE(24)), 0, 0, 4, 1), 1e-6))
OP(amax, tg_amax(a, 0, NULL, TG_KEEP_DIMS))
OP(amin, tg_amin(tg_view(a, TG_SHAPE(2, 2, 6)), 2, (int[]){0, 2}, TG_DROP_DIMS))
OP(prod, tg_prod(a))
OP(prod_dim, tg_prod_dim(a, 0, TG_DROP_DIMS))
OP(var, tg_var(a, 1, (int[]){1}, 1, TG_DROP_DIMS))
OP(std, tg_std(tg_view(a, TG_SHAPE(2, 2, 6)), 2, (int[]){0, 2}, 0, TG_KEEP_DIMS))
OP(logsumexp, tg_logsumexp(a, 1, (int[]){1}, TG_DROP_DIMS))
OP(vector_norm, tg_vector_norm(a, 3, 0, NULL, TG_DROP_DIMS))
OP(vector_norm_inf, tg_vector_norm(tg_transpose(a, 0, 1), INFINITY, 1, (int[]){1}, TG_KEEP_DIMS))
OP(matmul, tg_matmul(a, w))
OP(linear, tg_linear(a, w, tg_reshape(tg_slice(w, 0, 0, 1, 1), TG_SHAPE(6))))
OP(mse_loss, tg_mse_loss(a, b, TG_REDUCTION_MEAN))
OP(bce_with_logits, tg_binary_cross_entropy_with_logits(a, b, TG_REDUCTION_SUM))
OP(bce_with_logits_weights,
   tg_binary_cross_entropy_with_logits_ex(
       a, b,
       &(tg_bce_with_logits_options){TG_REDUCTION_NONE,
                                     tg_reshape(tg_slice(w, 0, 0, 1, 1), TG_SHAPE(6)), tg_exp(b)}))
OP(binary_cross_entropy, tg_binary_cross_entropy(a, b, NULL, TG_REDUCTION_MEAN))
OP(binary_cross_entropy_weight,
   tg_binary_cross_entropy(a, b, tg_reshape(tg_slice(w, 0, 0, 1, 1), TG_SHAPE(6)),
                           TG_REDUCTION_SUM))
OP(l1_loss, tg_l1_loss(a, b, TG_REDUCTION_MEAN))
OP(smooth_l1_loss, tg_smooth_l1_loss(a, b, TG_REDUCTION_SUM, 0.5))
OP(huber_loss, tg_huber_loss(a, b, TG_REDUCTION_NONE, 0.3))
OP(kl_div, tg_kl_div(a, b, TG_REDUCTION_BATCHMEAN, TG_TARGET_PROBS))
OP(kl_div_log, tg_kl_div(a, b, TG_REDUCTION_MEAN, TG_TARGET_LOG_PROBS))
OP(cross_entropy, tg_cross_entropy(a, targets, TG_REDUCTION_MEAN))
OP(cross_entropy_probs, tg_cross_entropy_ex(a, b, NULL))
OP(cross_entropy_nd,
   tg_cross_entropy_ex(tg_view(a, TG_SHAPE(2, 3, 2, 2)), targets_nd,
                       &(tg_cross_entropy_options){TG_REDUCTION_NONE, NULL, 1, 0}))
OP(nll_loss, tg_nll_loss(a, targets, NULL))
OP(nll_loss_nd, tg_nll_loss(tg_view(a, TG_SHAPE(2, 3, 4)), tg_view(targets_nd, TG_SHAPE(2, 4)),
                            &(tg_nll_loss_options){TG_REDUCTION_NONE, NULL, -100}))
OP(view, tg_view(a, TG_SHAPE(6, 4)))
OP(reshape, tg_reshape(tg_transpose(a, 0, 1), TG_SHAPE(24)))
OP(transpose, tg_transpose(a, 0, 1))
OP(permute, tg_permute(a, 2, (int[]){1, 0}))
OP(slice, tg_slice(a, 1, 1, 5, 2))
OP(cat, tg_cat(2, (tg_tensor *[]){a, b}, 0))
OP(cat_many, tg_cat(6, (tg_tensor *[]){a, b, a, b, a, b}, 1))
OP(unsqueeze, tg_unsqueeze(a, 1))
OP(squeeze, tg_squeeze(tg_unsqueeze(a, 0)))
OP(expand, tg_expand(tg_unsqueeze(a, 0), TG_SHAPE(3, 4, 6)))
OP(contiguous, tg_contiguous(tg_transpose(a, 0, 1)))
OP(clone, tg_clone(a))
OP(to_dtype, tg_to_dtype(a, TG_F32))
OP(index_select, tg_index_select(a, 1, pick))
OP(gather, tg_gather(a, 1, places))
OP(scatter_add, tg_scatter_add(a, 1, places, b))
OP(embedding, tg_embedding(a, pick, 2))
OP(one_hot, tg_add(a, tg_to_dtype(tg_one_hot(pick, 6), TG_F64)))

#define CASE(name) \
    { #name, op_##name, false }
#define COMPOSED(name) \
    { #name, op_##name, true }
static const op_case op_cases[] = {
    CASE(add),
    CASE(sub),
    CASE(mul),
    CASE(div),
    CASE(neg),
    CASE(add_scalar),
    CASE(rsub_scalar),
    CASE(mul_scalar),
    CASE(div_scalar),
    CASE(pow_scalar),
    CASE(exp),
    CASE(log),
    CASE(sqrt),
    CASE(abs),
    CASE(clamp),
    CASE(clamp_min),
    CASE(clamp_max),
    CASE(rsqrt),
    CASE(reciprocal),
    CASE(square),
    CASE(sign),
    CASE(sin),
    CASE(cos),
    CASE(log1p),
    CASE(expm1),
    CASE(pow),
    COMPOSED(pow_broadcast),
    CASE(maximum),
    CASE(minimum),
    CASE(xlogy),
    CASE(relu),
    CASE(leaky_relu),
    CASE(rrelu),
    CASE(elu),
    CASE(sigmoid),
    CASE(tanh),
    CASE(gelu),
    CASE(gelu_tanh),
    CASE(silu),
    CASE(softplus),
    CASE(selu),
    CASE(celu),
    CASE(hardtanh),
    CASE(relu6),
    CASE(hardsigmoid),
    CASE(hardswish),
    CASE(mish),
    CASE(logsigmoid),
    CASE(softsign),
    CASE(tanhshrink),
    COMPOSED(prelu),
    CASE(glu),
    CASE(swiglu),
    CASE(geglu),
    CASE(reglu),
    CASE(dropout),
    CASE(sum),
    CASE(mean),
    CASE(sum_dims),
    CASE(mean_dims),
    CASE(max_dim),
    CASE(softmax),
    CASE(log_softmax),
    CASE(layer_norm),
    COMPOSED(layer_norm_affine),
    CASE(rms_norm),
    COMPOSED(rms_norm_weight),
    CASE(amax),
    COMPOSED(amin),
    CASE(prod),
    CASE(prod_dim),
    CASE(var),
    COMPOSED(std),
    CASE(logsumexp),
    CASE(vector_norm),
    COMPOSED(vector_norm_inf),
    CASE(matmul),
    COMPOSED(linear),
    CASE(mse_loss),
    CASE(bce_with_logits),
    COMPOSED(bce_with_logits_weights),
    CASE(binary_cross_entropy),
    COMPOSED(binary_cross_entropy_weight),
    CASE(l1_loss),
    CASE(smooth_l1_loss),
    CASE(huber_loss),
    CASE(kl_div),
    CASE(kl_div_log),
    CASE(cross_entropy),
    CASE(cross_entropy_probs),
    COMPOSED(cross_entropy_nd),
    CASE(nll_loss),
    COMPOSED(nll_loss_nd),
    CASE(view),
    COMPOSED(reshape),
    CASE(transpose),
    CASE(permute),
    CASE(slice),
    CASE(cat),
    CASE(cat_many),
    CASE(unsqueeze),
    COMPOSED(squeeze),
    COMPOSED(expand),
    COMPOSED(contiguous),
    CASE(clone),
    CASE(to_dtype),
    CASE(index_select),
    CASE(gather),
    CASE(scatter_add),
    CASE(embedding),
    COMPOSED(one_hot),
};

static bool make_indices(void) {
    pick = tg_from_data((int64_t[]){3, 0, 3, 2}, TG_SHAPE(4), TG_I64);
    places = tg_from_data(
        (int64_t[]){0, 5, 5, 1, 2, 0, 3, 3, 3, 3, 4, 1, 5, 4, 3, 2, 1, 0, 2, 2, 0, 0, 1, 5},
        TG_SHAPE(4, 6), TG_I64);
    targets = tg_from_data((int64_t[]){0, 5, 2, 3}, TG_SHAPE(4), TG_I64);
    targets_nd = tg_from_data((int64_t[]){0, 1, 2, 1, 0, 2, 1, 1}, TG_SHAPE(2, 2, 2), TG_I64);
    return pick && places && targets && targets_nd;
}

static void free_indices(void) {
    tg_release(pick);
    tg_release(places);
    tg_release(targets);
    tg_release(targets_nd);
    pick = places = targets = targets_nd = NULL;
}

/* A leaf of shape (rows, cols) that requires grad, owned by the caller. */
static tg_tensor *leaf(int64_t rows, int64_t cols, tg_generator *gen) {
    tg_tensor *t = tg_rand(TG_SHAPE(rows, cols), TG_F64, gen);
    if (t && !tg_requires_grad_(t, true)) {
        tg_release(t);
        return NULL;
    }
    return t;
}

/* The op forward, then the backward of the sum of its result, with no
 * pool pushed: everything is released by hand. The call itself runs in a
 * pool popped at once (its result retained), since composed cases make
 * inputs (a slice of w, say) that the result does not keep. */
static int op_scenario(void *ctx) {
    const op_case *c = ctx;
    tg_generator *gen = tg_generator_new(7);
    tg_tensor *a = gen ? leaf(4, 6, gen) : NULL, *b = a ? leaf(4, 6, gen) : NULL;
    tg_tensor *w = b ? leaf(6, 6, gen) : NULL, *y = NULL;
    if (w) {
        tg_pool *pool = tg_pool_push();
        y = pool ? tg_retain(c->call(a, b, w)) : NULL;
        tg_pool_pop(pool);
    }
    tg_tensor *total = y ? tg_sum(y) : NULL;
    int rc = total ? tg_backward(total, NULL) : -1;
    tg_release(total);
    tg_release(y);
    tg_release(a);
    tg_release(b);
    tg_release(w);
    tg_generator_free(gen);
    return rc;
}

/* The op itself runs with no pool (ops made of one call only). */
static int bare_op_scenario(void *ctx) {
    const op_case *c = ctx;
    if (c->composed) return 0; /* its inner results would be the test's to release */
    tg_tensor *a = tg_full(TG_SHAPE(4, 6), 0.5, TG_F64);
    tg_tensor *b = a ? tg_full(TG_SHAPE(4, 6), 0.25, TG_F64) : NULL;
    tg_tensor *w = b ? tg_full(TG_SHAPE(6, 6), 0.125, TG_F64) : NULL;
    int rc = -1;
    if (w && tg_requires_grad_(a, true) && tg_requires_grad_(b, true)) {
        tg_tensor *y = c->call(a, b, w);
        tg_tensor *total = y ? tg_sum(y) : NULL;
        rc = total ? tg_backward(total, NULL) : -1;
        tg_release(total);
        tg_release(y);
    }
    tg_release(a);
    tg_release(b);
    tg_release(w);
    return rc;
}

static int says_out_of_memory(void *ctx) {
    (void)ctx;
    return strstr(tg_last_error(), "out of memory") == NULL;
}

/* Sweeps one scenario over every op; returns the number of ops with a wrong
 * failure and prints them. */
static int sweep_ops(int (*scenario)(void *), long *allocations, int *failures) {
    int bad = 0;
    for (size_t i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++) {
        tg_test_sweep r = tg_test_fail_each_allocation(scenario, (void *)&op_cases[i],
                                                       says_out_of_memory);
        *allocations += r.allocations;
        *failures += r.failures;
        if (r.allocations == 0 && op_cases[i].composed) continue; /* skipped by the scenario */
        if (r.allocations <= 0 || r.wrong) {
            printf("  %s: %ld allocations, %d failures, %d wrong\n", op_cases[i].name,
                   r.allocations, r.failures, r.wrong);
            bad++;
        }
    }
    return bad;
}

static void every_op_and_its_backward_fail_cleanly(void) {
    tg_pool_pop(tg_test_pool); /* no pool: each result is the caller's */
    long allocations = 0;
    int failures = 0;
    int bad = make_indices() ? sweep_ops(op_scenario, &allocations, &failures) : -1;
    free_indices();
    printf("  %zu ops: %ld allocations failed in turn, %d calls failed, %d ops wrongly\n",
           sizeof op_cases / sizeof op_cases[0], allocations, failures, bad);
    CHECK(bad == 0);
}

/* Ops that make tensors of their own inside (the scalar of add_scalar, a
 * copy for reshape, the pieces of a grouped cat) called with no pool at all. */
static void ops_called_with_no_pool_fail_cleanly(void) {
    tg_pool_pop(tg_test_pool);
    long allocations = 0;
    int failures = 0;
    int bad = make_indices() ? sweep_ops(bare_op_scenario, &allocations, &failures) : -1;
    free_indices();
    printf("  %ld allocations failed in turn, %d calls failed, %d ops wrongly\n", allocations,
           failures, bad);
    CHECK(bad == 0);
}

/* ---- Modules: every constructor, a forward and a backward ---------------------------- */

typedef tg_module *(*module_maker)(tg_generator *gen);

static tg_module *make_linear(tg_generator *gen) {
    return tg_linear_new(6, 4, TG_BIAS, TG_F64, gen);
}
static tg_module *make_sequential(tg_generator *gen) {
    return tg_sequential_new(3, (tg_module *[]){tg_linear_new(6, 8, TG_BIAS, TG_F64, gen),
                                                tg_activation_new(TG_ACT_GELU),
                                                tg_linear_new(8, 4, TG_NO_BIAS, TG_F64, gen)});
}
static tg_module *make_residual_ffn(tg_generator *gen) {
    tg_ffn_options o = {.kind = TG_FFN_SWIGLU,
                        .dim = 6,
                        .hidden_dim = 16,
                        .multiple_of = 4,
                        .dropout = 0.1,
                        .dtype = TG_F64};
    return tg_residual_new(tg_feedforward_new(&o, gen));
}
static tg_module *make_classic_ffn(tg_generator *gen) {
    tg_ffn_options o = {.kind = TG_FFN_GELU, .dim = 6, .dtype = TG_F64};
    return tg_feedforward_new(&o, gen);
}
static tg_module *make_activations(tg_generator *gen) {
    return tg_sequential_new(4, (tg_module *[]){tg_prelu_new(1, 0.25, TG_F64),
                                                tg_swish_new(1.5, TG_F64), tg_dropout_new(0.5, gen),
                                                tg_activation_new(TG_ACT_TANH)});
}

static tg_module *make_named_sequential(tg_generator *gen) {
    return tg_sequential_named_new(
        3, (const char *[]){"fc", "res", "act"},
        (tg_module *[]){tg_linear_new(6, 4, TG_BIAS, TG_F64, gen),
                        tg_residual_new(tg_linear_new(4, 4, TG_NO_BIAS, TG_F64, gen)),
                        tg_activation_new(TG_ACT_SILU)});
}

/* A module as a user defines one: a state that owns memory of its own
 * (malloc'ed, counted in tags_alive), a parameter made by the caller and
 * added, a buffer, and a ModuleList child; y = layers[0](x) * gain. */
static int tags_alive;

typedef struct tagged_state {
    char *tag;
    tg_tensor *gain;
    tg_module *layers;
} tagged_state;

static void free_tagged(void *state) {
    tagged_state *s = state;
    if (s->tag) tags_alive--;
    free(s->tag);
}

static tg_tensor *tagged_forward(tg_module *m, tg_tensor *x) {
    const tagged_state *s = tg_module_state(m);
    return tg_mul(tg_module_forward(tg_module_child_at(s->layers, 0, NULL), x), s->gain);
}

/* Its constructor takes no arguments. */
static int tagged_describe(const tg_module *m, tg_module_args *a) {
    (void)m, (void)a;
    return 0;
}

static const tg_module_class tagged_class = {.name = "Tagged",
                                             .forward = tagged_forward,
                                             .state_size = sizeof(tagged_state),
                                             .free_state = free_tagged,
                                             .describe = tagged_describe};

static tg_module *make_tagged(tg_generator *gen) {
    char *tag = malloc(8);
    if (tag) tags_alive++;
    tg_module *m = tg_module_new(&tagged_class, &(tagged_state){.tag = tag});
    tagged_state *s = tg_module_state(m);
    tg_pool *pool = s ? tg_pool_push() : NULL;
    bool ok = pool &&
              (s->gain = tg_module_add_parameter(m, "gain", tg_full(TG_SHAPE(4), 2, TG_F64))) &&
              tg_module_new_buffer(m, "seen", TG_SHAPE(4), TG_I64) &&
              (s->layers = tg_module_add_child(m, "layers", tg_module_list_new())) &&
              tg_module_append(s->layers, tg_linear_new(6, 4, TG_BIAS, TG_F64, gen));
    tg_pool_pop(pool);
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}

/* Its loader, registered for tg_module_load_new. */
static tg_module *load_tagged(tg_module_desc *d) {
    (void)d;
    return make_tagged(NULL);
}

static tg_module *make_norms(tg_generator *gen) {
    return tg_sequential_new(
        3, (tg_module *[]){tg_linear_new(6, 6, TG_BIAS, TG_F64, gen),
                           tg_layer_norm_new(TG_SHAPE(6), TG_AFFINE, 1e-5, TG_F64),
                           tg_rms_norm_new(6, 1e-6, TG_F64)});
}

/* After a Linear, whose parameters the backward reaches. */
static tg_module *make_more_activations(tg_generator *gen) {
    return tg_sequential_new(5, (tg_module *[]){tg_linear_new(6, 6, TG_BIAS, TG_F64, gen),
                                                tg_celu_new(0.5), tg_hardtanh_new(-2, 2),
                                                tg_activation_new(TG_ACT_MISH),
                                                tg_activation_new(TG_ACT_SELU)});
}

/* tg_module_load_new rebuilding make_saved()'s file, written beforehand
 * (with no allocation failing) to saved_path. */
static char saved_path[64];

static tg_module *make_saved(tg_generator *gen) {
    tg_ffn_options o = {.kind = TG_FFN_SWIGLU,
                        .dim = 8,
                        .hidden_dim = 16,
                        .multiple_of = 4,
                        .dropout = 0.1,
                        .dtype = TG_F64};
    return tg_sequential_named_new(
        8, (const char *[]){"in", "norm", "ffn", "rms", "out", "tagged", "celu", "hardtanh"},
        (tg_module *[]){tg_linear_new(6, 8, TG_BIAS, TG_F64, gen),
                        tg_layer_norm_new(TG_SHAPE(8), TG_AFFINE, 1e-5, TG_F64),
                        tg_residual_new(tg_feedforward_new(&o, gen)),
                        tg_rms_norm_new(8, 1e-6, TG_F64),
                        tg_linear_new(8, 6, TG_NO_BIAS, TG_F64, gen), make_tagged(gen),
                        tg_celu_new(0.5), tg_hardtanh_new(-2, 2)});
}

static tg_module *make_loaded(tg_generator *gen) {
    (void)gen;
    return tg_module_load_new(saved_path);
}

static const struct {
    const char *name;
    module_maker make;
} module_cases[] = {
    {"Linear", make_linear},
    {"Sequential(Linear, GELU, Linear)", make_sequential},
    {"Residual(SwiGLU FeedForward)", make_residual_ffn},
    {"GELU FeedForward", make_classic_ffn},
    {"Sequential(PReLU, Swish, Dropout, Tanh)", make_activations},
    {"named Sequential(Linear, Residual, SiLU)", make_named_sequential},
    {"Tagged, a user's module", make_tagged},
    {"Sequential(Linear, LayerNorm, RMSNorm)", make_norms},
    {"Sequential(Linear, CELU, Hardtanh, Mish, SELU)", make_more_activations},
    {"tg_module_load_new of Linear, LayerNorm, Residual(SwiGLU), RMSNorm, Linear, Tagged (a "
     "registered loader), CELU, Hardtanh",
     make_loaded},
};

static int module_scenario(void *ctx) {
    module_maker make = *(const module_maker *)ctx;
    tg_generator *gen = tg_generator_new(3);
    tg_module *m = gen ? make(gen) : NULL;
    /* The tree's lists are made on first use. */
    int n;
    bool listed = m && tg_module_parameter_tensors(m, &n) && tg_module_state_dict(m, &n);
    tg_tensor *x = listed ? tg_full(TG_SHAPE(2, 6), 0.5, TG_F64) : NULL, *total = NULL;
    if (x) {
        tg_pool *pool = tg_pool_push();
        total = pool ? tg_retain(tg_sum(tg_module_forward(m, x))) : NULL;
        tg_pool_pop(pool);
    }
    int rc = total ? tg_backward(total, NULL) : -1;
    tg_release(total);
    tg_release(x);
    tg_module_free(m);
    tg_generator_free(gen);
    return rc;
}

/* The error is out of memory, and no state's memory is left behind: each
 * was freed exactly once, by the module or by tg_module_new failing. */
static int out_of_memory_and_no_state_left(void *ctx) {
    int wrong = says_out_of_memory(ctx) + (tags_alive != 0);
    tags_alive = 0;
    return wrong;
}

/* One constructor's sweep, reported: true when it failed cleanly. */
static bool constructor_fails_cleanly(const char *name, int (*scenario)(void *), void *make,
                                      int (*check)(void *)) {
    tg_test_context = name;
    tg_test_sweep r = tg_test_fail_each_allocation(scenario, make, check);
    printf("  %s: %ld allocations, %d failures, %d wrong\n", name, r.allocations, r.failures,
           r.wrong);
    return r.allocations > 0 && r.failures > 0 && r.wrong == 0;
}

static void every_module_constructor_fails_cleanly(void) {
    snprintf(saved_path, sizeof saved_path, "/tmp/tg-oom-%ld.safetensors", (long)getpid());
    CHECK(tg_module_register_loader("Tagged", load_tagged) == 0);
    tg_module *saved = make_saved(NULL);
    CHECK(saved && tg_module_save(saved, saved_path) == 0);
    tg_module_free(saved);
    tg_pool_pop(tg_test_pool);
    for (size_t i = 0; i < sizeof module_cases / sizeof module_cases[0]; i++)
        CHECK(constructor_fails_cleanly(module_cases[i].name, module_scenario,
                                        (void *)&module_cases[i].make,
                                        out_of_memory_and_no_state_left));
    unlink(saved_path);
}

/* ---- Schedules: every constructor, steps, a save and a load --------------------------- */

typedef tg_lr_scheduler *(*schedule_maker)(tg_optimizer *opt);

static double halving(int64_t epoch, int group, void *ctx) {
    (void)group, (void)ctx;
    return pow(0.5, (double)epoch);
}

static tg_lr_scheduler *schedule_step(tg_optimizer *opt) { return tg_step_lr(opt, 2, 0.5); }
static tg_lr_scheduler *schedule_multi_step(tg_optimizer *opt) {
    return tg_multi_step_lr(opt, 2, (int[]){1, 2}, 0.5);
}
static tg_lr_scheduler *schedule_exponential(tg_optimizer *opt) {
    return tg_exponential_lr(opt, 0.9);
}
static tg_lr_scheduler *schedule_constant(tg_optimizer *opt) { return tg_constant_lr(opt, 0.5, 2); }
static tg_lr_scheduler *schedule_linear(tg_optimizer *opt) { return tg_linear_lr(opt, 0.5, 1, 2); }
static tg_lr_scheduler *schedule_cosine(tg_optimizer *opt) {
    return tg_cosine_annealing_lr(opt, 4, 0);
}
static tg_lr_scheduler *schedule_warm_restarts(tg_optimizer *opt) {
    return tg_cosine_annealing_warm_restarts(opt, 2, 2, 0);
}
static tg_lr_scheduler *schedule_warmup_cosine(tg_optimizer *opt) {
    return tg_warmup_cosine_lr(opt, 1, 4, 0.1);
}
static tg_lr_scheduler *schedule_lambda(tg_optimizer *opt) {
    return tg_lambda_lr(opt, halving, NULL);
}
static tg_lr_scheduler *schedule_one_cycle(tg_optimizer *opt) {
    tg_one_cycle_options o = tg_one_cycle_defaults(1.0, 10);
    return tg_one_cycle_lr(opt, &o);
}
static tg_lr_scheduler *schedule_plateau(tg_optimizer *opt) {
    return tg_reduce_lr_on_plateau(opt, NULL);
}
static tg_lr_scheduler *schedule_sequential(tg_optimizer *opt) {
    tg_lr_scheduler *first = tg_linear_lr(opt, 0.5, 1, 2), *then = tg_exponential_lr(opt, 0.9);
    return tg_sequential_lr(opt, 2, (tg_lr_scheduler *[]){first, then}, 1, (int[]){2});
}
static tg_lr_scheduler *schedule_chained(tg_optimizer *opt) {
    tg_lr_scheduler *first = tg_constant_lr(opt, 0.5, 2),
                    *then = tg_one_cycle_lr(opt, &(tg_one_cycle_options){.max_lr = 1,
                                                                         .total_steps = 10,
                                                                         .pct_start = 0.3,
                                                                         .div_factor = 25,
                                                                         .final_div_factor = 1e4});
    return tg_chained_scheduler(2, (tg_lr_scheduler *[]){first, then});
}

static const struct {
    const char *name;
    schedule_maker make;
} schedule_cases[] = {{"StepLR", schedule_step},
                      {"MultiStepLR", schedule_multi_step},
                      {"ExponentialLR", schedule_exponential},
                      {"ConstantLR", schedule_constant},
                      {"LinearLR", schedule_linear},
                      {"CosineAnnealingLR", schedule_cosine},
                      {"CosineAnnealingWarmRestarts", schedule_warm_restarts},
                      {"WarmupCosine", schedule_warmup_cosine},
                      {"LambdaLR", schedule_lambda},
                      {"OneCycleLR", schedule_one_cycle},
                      {"ReduceLROnPlateau", schedule_plateau},
                      {"SequentialLR", schedule_sequential},
                      {"ChainedScheduler(ConstantLR, OneCycleLR)", schedule_chained}};

static char schedule_file[64];

/* An SGD of two groups, the schedule, three steps, a save and a load. */
static int schedule_scenario(void *ctx) {
    schedule_maker make = *(const schedule_maker *)ctx;
    tg_tensor *p = tg_requires_grad_(tg_zeros(TG_SHAPE(3), TG_F64), true);
    tg_tensor *q = tg_requires_grad_(tg_zeros(TG_SHAPE(2), TG_F32), true);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    o.momentum = 0.9;
    tg_optimizer *opt = p && q ? tg_sgd_new(&p, 1, &o) : NULL;
    tg_lr_scheduler *s = opt && tg_sgd_add_group(opt, &q, 1, &o) == 1 ? make(opt) : NULL;
    int rc = s ? 0 : -1;
    for (int t = 0; rc == 0 && t < 3; t++)
        rc = make == schedule_plateau ? tg_lr_scheduler_step_metric(s, 1) : tg_lr_scheduler_step(s);
    if (rc == 0) rc = tg_lr_scheduler_save(s, schedule_file);
    if (rc == 0) rc = tg_lr_scheduler_load(s, schedule_file);
    tg_lr_scheduler_free(s);
    tg_optim_free(opt);
    tg_release(p);
    tg_release(q);
    return rc;
}

static void every_schedule_constructor_fails_cleanly(void) {
    tg_pool_pop(tg_test_pool);
    snprintf(schedule_file, sizeof schedule_file, "/tmp/tg-oom-schedule-%d", (int)getpid());
    for (size_t i = 0; i < sizeof schedule_cases / sizeof schedule_cases[0]; i++)
        CHECK(constructor_fails_cleanly(schedule_cases[i].name, schedule_scenario,
                                        (void *)&schedule_cases[i].make, says_out_of_memory));
    unlink(schedule_file);
}

/* ---- A report of hand gradients -------------------------------------------------------- */

/* Nine lines (the report's array grows past its first eight), every kind
 * of verdict, printed. */
static int grad_report_scenario(void *ctx) {
    (void)ctx;
    tg_tensor *p = tg_requires_grad_(tg_ones(TG_SHAPE(2, 3), TG_F64), true);
    tg_tensor *square = p ? tg_mul(p, p) : NULL, *loss = square ? tg_sum(square) : NULL;
    int rc = loss ? tg_backward(loss, NULL) : -1;
    tg_tensor *hand = rc == 0 ? tg_ones(TG_SHAPE(2, 3), TG_F64) : NULL; /* wrong: 2 is right */
    tg_grad_report *r = hand ? tg_grad_report_new() : NULL;
    FILE *sink = r ? fopen("/dev/null", "w") : NULL;
    rc = sink ? 0 : -1;
    for (int i = 0; rc == 0 && i < 9; i++)
        rc = tg_grad_report_check(r, i % 3 ? "dp" : "a longer name", i % 2 ? hand : tg_grad(p), p) <
             0;
    if (rc == 0) rc = tg_grad_report_check(r, "dp", NULL, p) < 0 ? -1 : 0;
    if (rc == 0) rc = tg_grad_report_print(r, sink);
    if (sink) fclose(sink);
    tg_grad_report_free(r);
    tg_release(hand);
    tg_release(loss);
    tg_release(square);
    tg_release(p);
    return rc == 0 ? 0 : -1;
}

static void a_grad_report_fails_cleanly(void) {
    tg_pool_pop(tg_test_pool);
    CHECK(constructor_fails_cleanly("tg_grad_report", grad_report_scenario, NULL,
                                    says_out_of_memory));
}

TG_TEST_MAIN(TG_CASE(every_op_and_its_backward_fail_cleanly),
             TG_CASE(ops_called_with_no_pool_fail_cleanly),
             TG_CASE(every_module_constructor_fails_cleanly),
             TG_CASE(every_schedule_constructor_fails_cleanly),
             TG_CASE(a_grad_report_fails_cleanly))
