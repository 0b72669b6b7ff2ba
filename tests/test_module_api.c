/* tests/test_module_api.c - modules defined with the public API of
 * tapegrad/nn.h, as a user defines them (this file sees the public headers
 * only): a class with a forward, an extra_repr, a state, parameters,
 * buffers and children; ModuleList and named Sequential; names and their
 * rules; who owns what when something fails; the lists over a tree;
 * print(model) and the state_dict keys against PyTorch's, the networks of
 * examples/fashion_mnist.c and examples/prenorm_ffn.c among them
 * (tests/golden/make_golden_modules.py writes golden_prints); the summary. */
#include <unistd.h>

#include "../examples/prenorm_block.h"
#include "golden/golden_modules.h"
#include "tg_test.h"

/* ---- A module of one's own: Block ---------------------------------------------------
 * y = relu(layer_n(... relu(layer_1(x * scale)))), with a parameter "scale",
 * a buffer "calls" (forward calls made in training mode, as BatchNorm's
 * num_batches_tracked) and a ModuleList "layers"; make_golden_modules.py
 * has its PyTorch twin. */

typedef struct block_state {
    int64_t dim;
    tg_tensor *scale, *calls; /* the module's (borrowed) */
    tg_module *layers;        /* its child (borrowed) */
} block_state;

static tg_tensor *block_forward(tg_module *m, tg_tensor *x) {
    const block_state *s = tg_module_state(m);
    if (tg_module_is_training(m)) ((int64_t *)tg_data(s->calls))[0]++;
    tg_tensor *h = tg_mul(x, s->scale);
    for (int i = 0; i < tg_module_num_children(s->layers); i++)
        h = tg_relu(tg_module_forward(tg_module_child_at(s->layers, i, NULL), h));
    return h;
}

static int block_extra_repr(const tg_module *m, char *buf, size_t size) {
    const block_state *s = tg_module_state(m);
    return snprintf(buf, size, "dim=%lld\nlayers=%d", (long long)s->dim,
                    tg_module_num_children(s->layers));
}

static const tg_module_class block_class = {.name = "Block",
                                            .forward = block_forward,
                                            .extra_repr = block_extra_repr,
                                            .state_size = sizeof(block_state)};

static tg_module *block_new(int64_t dim, int n_layers, tg_generator *gen) {
    tg_module *m = tg_module_new(&block_class, &(block_state){.dim = dim});
    block_state *s = tg_module_state(m);
    bool ok = s && (s->scale = tg_module_new_parameter(m, "scale", TG_SHAPE(dim), TG_F32)) &&
              tg_init_constant_(s->scale, 1) == 0 &&
              (s->calls = tg_module_new_buffer(m, "calls", 0, NULL, TG_I64)) &&
              (s->layers = tg_module_add_child(m, "layers", tg_module_list_new()));
    for (int i = 0; ok && i < n_layers; i++)
        ok = tg_module_append(s->layers, tg_linear_new(dim, dim, TG_BIAS, TG_F32, gen)) != NULL;
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- The models of golden_prints, built as PyTorch's are -------------------------------- */

static tg_module *ffn(tg_ffn_kind kind, int64_t dim, int64_t hidden, int64_t multiple_of,
                      double p) {
    tg_ffn_options o = {.kind = kind,
                        .dim = dim,
                        .hidden_dim = hidden,
                        .multiple_of = multiple_of,
                        .dropout = p,
                        .dtype = TG_F32};
    return tg_feedforward_new(&o, NULL);
}

static tg_module *build(const char *name) {
    if (strcmp(name, "every_layer") == 0)
        return tg_sequential_new(
            17, (tg_module *[]){tg_linear_new(784, 256, TG_BIAS, TG_F32, NULL),
                                tg_dropout_new(0.1, NULL), tg_activation_new(TG_ACT_RELU),
                                tg_activation_new(TG_ACT_GELU), tg_activation_new(TG_ACT_GELU_TANH),
                                tg_activation_new(TG_ACT_SILU), tg_activation_new(TG_ACT_SIGMOID),
                                tg_activation_new(TG_ACT_TANH), tg_prelu_new(1, 0.25, TG_F32),
                                tg_prelu_new(3, 0.25, TG_F32), tg_swish_new(1, TG_F32),
                                tg_embedding_new(10, 3, TG_EMBEDDING_NO_PADDING, TG_F32, NULL),
                                tg_embedding_new(10, 3, -1, TG_F32, NULL), tg_dropout_new(0, NULL),
                                tg_dropout_new(1e-5, NULL), tg_dropout_new(1, NULL),
                                tg_linear_new(3, 4, TG_NO_BIAS, TG_F32, NULL)});
    if (strcmp(name, "fashion") == 0) /* examples/fashion_mnist.c's network */
        return tg_sequential_new(
            3, (tg_module *[]){tg_linear_new(784, 256, TG_BIAS, TG_F32, NULL),
                               tg_residual_new(ffn(TG_FFN_SWIGLU, 256, 1024, 64, 0)),
                               tg_linear_new(256, 10, TG_BIAS, TG_F32, NULL)});
    if (strcmp(name, "classic_ffn") == 0) return ffn(TG_FFN_GELU, 6, 0, 0, 0.25);
    if (strcmp(name, "named") == 0) {
        tg_module *blocks = tg_module_list_new();
        tg_module_append(blocks, tg_residual_new(ffn(TG_FFN_REGLU, 8, 36, 4, 0)));
        tg_module_append(blocks, tg_residual_new(ffn(TG_FFN_GELU_TANH, 8, 32, 0, 0)));
        return tg_sequential_named_new(
            3, (const char *[]){"embed", "blocks", "head"},
            (tg_module *[]){tg_embedding_new(10, 8, 0, TG_F32, NULL), blocks,
                            tg_linear_new(8, 10, TG_BIAS, TG_F32, NULL)});
    }
    if (strcmp(name, "block") == 0)
        return tg_sequential_new(
            2, (tg_module *[]){block_new(4, 2, NULL), tg_linear_new(4, 2, TG_BIAS, TG_F32, NULL)});
    if (strcmp(name, "prenorm") == 0) { /* examples/prenorm_ffn.c's network */
        tg_ffn_options o = {.kind = TG_FFN_SWIGLU,
                            .dim = 128,
                            .hidden_dim = 512,
                            .multiple_of = 32,
                            .dtype = TG_F32};
        return prenorm_stack_new(784, 10, 4, &o, 1e-6, NULL);
    }
    if (strcmp(name, "activations") == 0) {
        tg_module *m = tg_sequential_new(0, NULL);
        for (int k = TG_ACT_SELU; k <= TG_ACT_TANHSHRINK; k++)
            tg_module_append(m, tg_activation_new((tg_activation_kind)k));
        tg_module_append(m, tg_celu_new(TG_CELU_DEFAULT_ALPHA));
        tg_module_append(m, tg_celu_new(0.5));
        tg_module_append(m,
                         tg_hardtanh_new(TG_HARDTANH_DEFAULT_MIN_VAL, TG_HARDTANH_DEFAULT_MAX_VAL));
        tg_module_append(m, tg_hardtanh_new(-2, 0.25));
        tg_module_append(m, tg_layer_norm_new(TG_SHAPE(3, 4), TG_NO_AFFINE, 1e-6, TG_F32));
        return m;
    }
    if (strcmp(name, "empty_sequential") == 0) return tg_sequential_new(0, NULL);
    if (strcmp(name, "empty_list") == 0) return tg_module_list_new();
    return NULL;
}

static void prints_and_names_as_pytorch(void) {
    for (size_t i = 0; i < sizeof golden_prints / sizeof golden_prints[0]; i++) {
        const golden_print *g = &golden_prints[i];
        tg_test_context = g->name;
        tg_module *m = build(g->name);
        CHECK(m != NULL);
        char *repr = tg_module_repr(m);
        CHECK_EQ_STR(repr, g->repr);
        free(repr);
        int n;
        const tg_named_tensor *state = tg_module_state_dict(m, &n);
        CHECK(state != NULL && n == g->n_keys);
        for (int k = 0; k < n; k++) CHECK_EQ_STR(state[k].name, g->keys[k]);
        tg_module_free(m);
    }
}

/* What write (tg_module_print or tg_module_summary) writes about m, in
 * text (size bytes, NUL-terminated); false when it fails. */
static bool written(int (*write)(const tg_module *, FILE *), const tg_module *m, char *text,
                    size_t size) {
    FILE *f = tmpfile();
    bool ok = f && write(m, f) == 0;
    memset(text, 0, size);
    if (f) rewind(f);
    ok = ok && fread(text, 1, size - 1, f) > 0;
    if (f) fclose(f);
    return ok;
}

/* tg_module_print writes the repr and a newline. */
static void print_writes_the_repr(void) {
    tg_module *m = tg_sequential_new(1, (tg_module *[]){tg_activation_new(TG_ACT_RELU)});
    char text[64];
    CHECK(written(tg_module_print, m, text, sizeof text));
    CHECK_EQ_STR(text, "Sequential(\n  (0): ReLU()\n)\n");
    tg_module_free(m);
}

/* ---- The user's module at work ---------------------------------------------------------- */

static void a_user_module_trains_saves_and_loads(void) {
    tg_manual_seed(0);
    tg_module *net = tg_sequential_new(
        2, (tg_module *[]){block_new(4, 2, NULL), tg_linear_new(4, 2, TG_BIAS, TG_F32, NULL)});
    CHECK(net != NULL);
    /* Parameters leave the buffer out; the state_dict has it. */
    int n_params, n_buffers;
    const tg_named_tensor *params = tg_module_parameters(net, &n_params);
    const tg_named_tensor *buffers = tg_module_buffers(net, &n_buffers);
    CHECK(n_params == 7 && n_buffers == 1);
    CHECK_EQ_STR(params[0].name, "0.scale");
    CHECK_EQ_STR(params[1].name, "0.layers.0.weight");
    CHECK_EQ_STR(buffers[0].name, "0.calls");
    CHECK(tg_module_num_elements(net) == 4 + 2 * (16 + 4) + 8 + 2);
    tg_tensor *calls = tg_module_buffer(net, "0.calls");
    CHECK(calls == buffers[0].tensor && !tg_requires_grad(calls) && tg_dtype_of(calls) == TG_I64);
    CHECK(tg_module_parameter(net, "0.calls") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_parameter: Sequential has no parameter '0.calls'");
    CHECK(tg_module_buffer(net, "0.scale") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_buffer: Sequential has no buffer '0.scale'");

    /* Children by index and by path. */
    const char *name;
    tg_module *block = tg_module_child_at(net, 0, &name);
    CHECK(block && strcmp(name, "0") == 0 && strcmp(tg_module_name(block), "Block") == 0);
    CHECK(tg_module_child(net, "0.layers.1") ==
          tg_module_child_at(tg_module_child(block, "layers"), 1, NULL));
    CHECK(tg_module_child(net, "0.layers.2") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_child: Sequential has no child \"0.layers.2\"");
    CHECK(tg_module_child_at(net, 2, &name) == NULL && name == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_child_at: index 2 is out of range for a Sequential of 2");

    /* A few AdamW steps on it, through Sequential. */
    tg_tensor *x = tg_rand(TG_SHAPE(8, 4), TG_F32, NULL);
    tg_tensor *y = tg_rand(TG_SHAPE(8, 2), TG_F32, NULL);
    int n;
    tg_tensor *const *ts = tg_module_parameter_tensors(net, &n);
    tg_adam_options o = tg_adamw_defaults();
    o.lr = 0.05;
    tg_optimizer *opt = tg_adamw_new(ts, n, &o);
    CHECK(opt != NULL);
    double first = 0, last = 0;
    for (int step = 0; step < 20; step++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *loss = tg_mse_loss(tg_module_forward(net, x), y, TG_REDUCTION_MEAN);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        CHECK(loss && tg_backward(loss, NULL) == 0 && tg_optim_step(opt) == 0);
        last = tg_item(loss);
        if (step == 0) first = last;
        tg_pool_pop(pool);
    }
    tg_optim_free(opt);
    CHECK(last < first);
    CHECK(tg_grad(tg_module_parameter(net, "0.scale")) != NULL);
    CHECK(tg_item(calls) == 20);
    /* Eval mode reaches the block through Sequential: no more counting. */
    tg_module_train(net, TG_EVAL);
    CHECK(!tg_module_is_training(block));
    CHECK(tg_module_forward(net, x) != NULL && tg_item(calls) == 20);

    /* The buffer is saved and loaded with the parameters. */
    char path[] = "/tmp/tg-module-api-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(tg_module_save(net, path) == 0);
    tg_module *copy = tg_sequential_new(
        2, (tg_module *[]){block_new(4, 2, NULL), tg_linear_new(4, 2, TG_BIAS, TG_F32, NULL)});
    CHECK(tg_module_load(copy, path) == 0);
    CHECK(tg_item(tg_module_buffer(copy, "0.calls")) == 20);
    tg_module_train(copy, TG_EVAL);
    double want[16];
    CHECK(tg_to_doubles(tg_module_forward(net, x), want) == 0);
    CHECK_VALUES(tg_module_forward(copy, x), want, 16, 0, 0);
    /* One layer fewer: the file has tensors the model lacks. */
    tg_module *smaller = tg_sequential_new(
        2, (tg_module *[]){block_new(4, 1, NULL), tg_linear_new(4, 2, TG_BIAS, TG_F32, NULL)});
    CHECK(tg_module_load(smaller, path) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "unexpected tensor '0.layers.1.weight'");
    unlink(path);
    tg_module_free(smaller);
    tg_module_free(copy);
    tg_module_free(net);
}

/* ---- Names --------------------------------------------------------------------------- */

static void names_follow_pytorchs_rules(void) {
    tg_module *m = block_new(2, 1, NULL);
    CHECK(m != NULL);
    tg_tensor *t = tg_ones(TG_SHAPE(2), TG_F32);
    CHECK(tg_module_new_parameter(m, "scale", TG_SHAPE(2), TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "module_new_parameter: Block already has a parameter named \"scale\"");
    CHECK(tg_module_add_parameter(m, "calls", t) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_parameter: Block already has a buffer named \"calls\"");
    CHECK(tg_module_add_buffer(m, "layers", t) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_buffer: Block already has a child named \"layers\"");
    CHECK(tg_module_new_buffer(m, "a.b", TG_SHAPE(2), TG_F32) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_new_buffer: buffer name can't contain \".\", got \"a.b\"");
    CHECK(tg_module_add_parameter(m, "", t) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_parameter: parameter name can't be empty");
    CHECK(tg_module_add_child(m, "scale", tg_activation_new(TG_ACT_RELU)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_child: Block already has a parameter named \"scale\"");
    CHECK(tg_module_add_child(m, "x.y", tg_activation_new(TG_ACT_RELU)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_child: module name can't contain \".\", got \"x.y\"");
    /* Nothing was added by any of them. */
    int n;
    CHECK(tg_module_state_dict(m, &n) && n == 4 && tg_module_num_children(m) == 1);
    /* A dotted name is a path, never a name: lookups walk it. */
    CHECK(tg_module_parameter(m, "layers.0.bias") != NULL);
    CHECK(tg_module_parameter(m, "layers..bias") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "has no parameter 'layers..bias'");
    tg_module_free(m);
}

static void named_sequential(void) {
    tg_module *m = tg_sequential_named_new(
        2, (const char *[]){"fc", "act"},
        (tg_module *[]){tg_linear_new(3, 2, TG_BIAS, TG_F64, NULL),
                        tg_activation_new(TG_ACT_TANH)});
    CHECK(m != NULL);
    CHECK(tg_module_parameter(m, "fc.weight") != NULL);
    tg_tensor *x = tg_ones(TG_SHAPE(1, 3), TG_F64);
    tg_tensor *want = tg_tanh(tg_module_forward(tg_module_child(m, "fc"), x));
    double w[2];
    CHECK(tg_to_doubles(want, w) == 0);
    CHECK_VALUES(tg_module_forward(m, x), w, 2, 0, 0);
    /* Appending after named children takes the next index as its name. */
    CHECK(tg_module_append(m, tg_activation_new(TG_ACT_RELU)) != NULL);
    CHECK(tg_module_child(m, "2") != NULL);
    tg_module_free(m);
    /* A repeated name fails; every module given is freed (ASan would tell). */
    CHECK(tg_sequential_named_new(3, (const char *[]){"a", "b", "a"},
                                  (tg_module *[]){tg_activation_new(TG_ACT_RELU),
                                                  tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL),
                                                  tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL)}) ==
          NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_child: Sequential already has a child named \"a\"");
}

/* ---- Ownership ------------------------------------------------------------------------- */

static int states_alive, states_freed;

typedef struct owning_state {
    int *resource; /* malloc'ed, the state's own */
} owning_state;

static void free_owning_state(void *state) {
    owning_state *s = state;
    if (s->resource) states_alive--;
    free(s->resource);
    states_freed++;
}

static int *resource(void) {
    states_alive++;
    return calloc(1, sizeof(int));
}

static const tg_module_class owning_class = {
    .name = "Owning", .state_size = sizeof(owning_state), .free_state = free_owning_state};
static const tg_module_class nameless_class = {.name = "", .free_state = free_owning_state};

static void free_state_runs_exactly_once(void) {
    states_alive = states_freed = 0;
    /* The module's copy, when the module is freed. */
    tg_module *m = tg_module_new(&owning_class, &(owning_state){resource()});
    CHECK(m && states_freed == 0 && ((owning_state *)tg_module_state(m))->resource);
    tg_module_free(m);
    CHECK(states_freed == 1 && states_alive == 0);
    /* The caller's, when tg_module_new fails. */
    CHECK(tg_module_new(&nameless_class, &(owning_state){resource()}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_new: the class has no name");
    CHECK(states_freed == 2 && states_alive == 0);
    tg_test_failing f = {.countdown = 0};
    tg_test_use_failing(&f);
    m = tg_module_new(&owning_class, &(owning_state){resource()});
    tg_set_allocator(NULL);
    CHECK(m == NULL);
    CHECK_ERROR(TG_ERR_NOMEM, "out of memory");
    CHECK(states_freed == 3 && states_alive == 0);
    /* A state for a class that keeps none is refused (and freed). */
    static const tg_module_class stateless = {.name = "Stateless", .free_state = free_owning_state};
    CHECK(tg_module_new(&stateless, &(owning_state){resource()}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_new: Stateless: a state was given but state_size is 0");
    CHECK(states_freed == 4 && states_alive == 0);
    /* No state given: zeroes, freed with the module all the same. */
    m = tg_module_new(&owning_class, NULL);
    CHECK(m && ((owning_state *)tg_module_state(m))->resource == NULL);
    tg_module_free(m);
    CHECK(states_freed == 5);
    CHECK(tg_module_new(NULL, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "module_new: argument is NULL");
}

static void children_are_taken_over(void) {
    tg_module *a = tg_module_list_new(), *b = tg_module_list_new();
    tg_module *lin = tg_module_append(a, tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL));
    CHECK(lin != NULL);
    /* A module that has a parent stays with it. */
    CHECK(tg_module_append(b, lin) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_append: this Linear is already a child of a ModuleList");
    CHECK(tg_module_child_at(a, 0, NULL) == lin && tg_module_num_children(b) == 0);
    tg_module_free(lin);
    CHECK_ERROR(TG_ERR_VALUE, "module_free: this Linear is a child of a ModuleList");
    /* No cycles: a module under itself, or under its own child. */
    CHECK(tg_module_append(a, a) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "a ModuleList cannot be a child of itself or of its own child");
    CHECK(tg_module_append(b, a) == a);
    CHECK(tg_module_add_child(a, "up", b) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "a ModuleList cannot be a child of itself or of its own child");
    /* Refused for its name, or given to no module: freed (ASan, valgrind). */
    CHECK(tg_module_add_child(b, "0", tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_add_child: ModuleList already has a child named \"0\"");
    CHECK(tg_module_add_child(NULL, "x", tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL)) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "module_add_child: argument is NULL");
    CHECK(tg_module_append(NULL, tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL)) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "module_append: argument is NULL");
    /* A failed constructor inside: the pending message is kept. */
    CHECK(tg_module_append(b, tg_linear_new(0, 2, TG_BIAS, TG_F32, NULL)) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Linear: in_features 0 and out_features 2 must be positive");
    tg_module_free(b); /* and a, lin with it */
}

/* add_parameter and add_buffer borrow the tensor: each side keeps its own
 * reference, with a pool or without one. */
static void added_tensors_are_borrowed(void) {
    tg_module *m = tg_module_new(&(const tg_module_class){.name = "Holder"}, NULL);
    CHECK(m != NULL);
    tg_tensor *w = tg_randn(TG_SHAPE(3, 2), TG_F64, NULL); /* the test's pool's */
    CHECK(tg_module_add_parameter(m, "w", w) == w && tg_requires_grad(w));
    tg_pool_pop(tg_test_pool); /* no pool: the caller owns what it makes */
    tg_test_pool = NULL;
    int64_t live = tg_live_tensors(); /* w among them: m keeps it */
    tg_tensor *table = tg_arange(0, 5, 1, TG_F64);
    CHECK(tg_module_add_buffer(m, "table", table) == table && !tg_requires_grad(table));
    tg_release(table); /* the caller's reference; the module keeps its own */
    CHECK(tg_live_tensors() == live + 1);
    CHECK(((double *)tg_data(tg_module_buffer(m, "table")))[4] == 4);
    tg_tensor *kept = tg_retain(tg_module_parameter(m, "w"));
    tg_module_free(m); /* the table goes, w stays with kept */
    CHECK(tg_live_tensors() == live && tg_numel(kept) == 6);
    tg_release(kept);
    CHECK(tg_live_tensors() == live - 1);
    tg_test_pool = tg_pool_push();
}

static void parameters_must_be_trainable_leaves(void) {
    tg_module *m = tg_module_new(&(const tg_module_class){.name = "Holder"}, NULL);
    tg_tensor *leaf = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F32), true);
    CHECK(tg_module_add_parameter(m, "p", tg_mul_scalar(leaf, 2)) == NULL);
    CHECK_ERROR(TG_ERR_GRAPH,
                "module_add_parameter: a parameter is a leaf, and this tensor was made by "
                "MulBackward0 (tg_detach it)");
    CHECK(tg_module_add_parameter(m, "p", tg_zeros(TG_SHAPE(2), TG_I64)) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "module_add_parameter: expected a floating-point tensor, got int64");
    CHECK(tg_module_add_parameter(m, "p", tg_expand(tg_ones(TG_SHAPE(1), TG_F32), TG_SHAPE(3))) ==
          NULL);
    CHECK_ERROR(TG_ERR_VALUE, "more than one element of the written-to tensor");
    CHECK(tg_module_new_parameter(m, "p", TG_SHAPE(2), TG_BOOL) == NULL);
    CHECK_ERROR(TG_ERR_DTYPE, "Holder: parameter 'p' must be float32 or float64, not bool");
    /* Buffers take any dtype. */
    CHECK(tg_module_new_buffer(m, "mask", TG_SHAPE(2), TG_BOOL) != NULL);
    CHECK(tg_module_add_parameter(m, "p", tg_detach(tg_mul_scalar(leaf, 2))) != NULL);
    int n;
    CHECK(tg_module_parameters(m, &n) && n == 1 && tg_is_leaf(tg_module_parameter(m, "p")));
    tg_module_free(m);
}

/* ---- Lists over the tree --------------------------------------------------------------- */

/* Adding anywhere below a module renews its lists. */
static void lists_follow_the_tree(void) {
    tg_module *list = tg_module_list_new();
    tg_module *net = tg_sequential_new(1, (tg_module *[]){list});
    int n;
    CHECK(tg_module_parameters(net, &n) != NULL && n == 0);
    CHECK(tg_module_parameter_tensors(net, &n) != NULL && n == 0);
    tg_module *inner = tg_module_append(list, tg_linear_new(2, 3, TG_BIAS, TG_F32, NULL));
    CHECK(tg_module_parameters(net, &n) && n == 2);
    tg_tensor *extra = tg_module_new_parameter(inner, "extra", TG_SHAPE(1), TG_F32);
    const tg_named_tensor *ps = tg_module_parameters(net, &n);
    CHECK(n == 3);
    CHECK_EQ_STR(ps[2].name, "0.0.extra");
    CHECK(ps[2].tensor == extra && tg_module_parameter_tensors(net, &n)[2] == extra);
    CHECK(tg_module_num_elements(net) == 6 + 3 + 1);
    tg_module_free(net);
}

/* ---- Forward ----------------------------------------------------------------------------- */

static tg_tensor *silent_failure(tg_module *m, tg_tensor *x) {
    (void)m, (void)x;
    return NULL;
}

static void forward_errors(void) {
    tg_module *list = tg_module_list_new();
    tg_tensor *x = tg_ones(TG_SHAPE(2), TG_F32);
    CHECK(tg_module_forward(list, x) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "ModuleList: Module [ModuleList] is missing the required \"forward\" function");
    tg_module_free(list);
    tg_module *m = tg_module_new(
        &(const tg_module_class){.name = "Quiet", .forward = silent_failure}, NULL);
    CHECK(tg_module_forward(m, x) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Quiet: forward returned NULL and recorded no error");
    tg_module_free(m);
}

/* ---- Printing ------------------------------------------------------------------------------ */

static int long_extra_repr(const tg_module *m, char *buf, size_t size) {
    (void)m;
    char line[701];
    memset(line, 'x', 700);
    line[700] = '\0';
    return snprintf(buf, size, "%s", line);
}

static int failing_extra_repr(const tg_module *m, char *buf, size_t size) {
    (void)m, (void)buf, (void)size;
    return -1;
}

static void extra_repr_of_any_length(void) {
    tg_module *m = tg_module_new(
        &(const tg_module_class){.name = "Long", .extra_repr = long_extra_repr}, NULL);
    char *s = tg_module_repr(m);
    CHECK(s && strlen(s) == strlen("Long()") + 700 && strncmp(s, "Long(xxx", 8) == 0);
    free(s);
    tg_module_free(m);
    tg_module *bad = tg_module_new(
        &(const tg_module_class){.name = "Bad", .extra_repr = failing_extra_repr}, NULL);
    tg_module *net = tg_sequential_new(1, (tg_module *[]){bad});
    CHECK(tg_module_repr(net) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module_repr: the extra_repr of Bad failed");
    tg_module_free(net);
}

static void summary_lists_every_parameter(void) {
    tg_module *net = tg_sequential_new(
        2, (tg_module *[]){block_new(4, 1, NULL), tg_linear_new(4, 2, TG_BIAS, TG_F32, NULL)});
    tg_requires_grad_(tg_module_parameter(net, "1.bias"), false); /* frozen */
    char text[2048];
    CHECK(written(tg_module_summary, net, text, sizeof text));
    CHECK_EQ_STR(text, "parameter          shape   elements\n"
                       "0.scale            (4,)           4\n"
                       "0.layers.0.weight  (4, 4)        16\n"
                       "0.layers.0.bias    (4,)           4\n"
                       "1.weight           (2, 4)         8\n"
                       "1.bias             (2,)           2\n"
                       "buffer             shape   elements\n"
                       "0.calls            ()             1\n"
                       "34 parameters in 5 tensors, 32 trainable\n"
                       "1 buffer element in 1 tensor\n");
    tg_module_free(net);
}

TG_TEST_MAIN(TG_CASE(prints_and_names_as_pytorch), TG_CASE(print_writes_the_repr),
             TG_CASE(a_user_module_trains_saves_and_loads), TG_CASE(names_follow_pytorchs_rules),
             TG_CASE(named_sequential), TG_CASE(free_state_runs_exactly_once),
             TG_CASE(children_are_taken_over), TG_CASE(added_tensors_are_borrowed),
             TG_CASE(parameters_must_be_trainable_leaves), TG_CASE(lists_follow_the_tree),
             TG_CASE(forward_errors), TG_CASE(extra_repr_of_any_length),
             TG_CASE(summary_lists_every_parameter))
