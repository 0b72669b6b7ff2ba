/* tests/test_checkpoint.c - self-describing files without Python: the
 * description tg_module_save writes (the exact text for every built-in
 * type), models of every built-in type rebuilt by tg_module_load_new with
 * the same description, print, tensors and outputs, a user's class saved
 * by name alone or with a describe hook of its own, what rebuilding leaves
 * alone (the default generator), and descriptions too large, too deep or
 * lying about their tensors refused before anything is allocated. The
 * bad descriptions one by one are rows of tests/test_bad_input.c;
 * tests/check_torch_checkpoint.py takes the files to PyTorch and back. */
#include <unistd.h>

#include "tg_test.h"
#include "user_classes.h"

static char dir[64];

static const char *path_of(const char *name) {
    static char buf[4][128];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* ---- The models ------------------------------------------------------------------------ */

static tg_module *every_layer(tg_dtype dtype, tg_ffn_kind kind) {
    tg_ffn_options o = {
        .kind = kind, .dim = 8, .hidden_dim = 32, .multiple_of = 4, .dropout = 0.1, .dtype = dtype};
    return tg_sequential_named_new(
        9, (const char *[]){"fc", "norm", "res", "rms", "act", "drop", "prelu", "swish", "out"},
        (tg_module *[]){tg_linear_new(4, 8, TG_BIAS, dtype, NULL),
                        tg_layer_norm_new(TG_SHAPE(8), TG_AFFINE, 1e-5, dtype),
                        tg_residual_new(tg_feedforward_new(&o, NULL)),
                        tg_rms_norm_new(8, 1e-6, dtype), tg_activation_new(TG_ACT_GELU_TANH),
                        tg_dropout_new(0.25, NULL), tg_prelu_new(8, 0.25, dtype),
                        tg_swish_new(1.5, dtype), tg_linear_new(8, 3, TG_NO_BIAS, dtype, NULL)});
}

static tg_module *lists_and_tables(void) {
    tg_module *list = tg_module_list_new();
    tg_module *items[] = {tg_embedding_new(10, 4, -1, TG_F64, NULL),
                          tg_embedding_new(5, 3, TG_EMBEDDING_NO_PADDING, TG_F32, NULL),
                          tg_activation_new(TG_ACT_RELU),
                          tg_activation_new(TG_ACT_SILU),
                          tg_activation_new(TG_ACT_SIGMOID),
                          tg_activation_new(TG_ACT_TANH),
                          tg_activation_new(TG_ACT_GELU),
                          tg_layer_norm_new(TG_SHAPE(3, 0), TG_NO_AFFINE, 0.5, TG_F32),
                          tg_sequential_new(0, NULL),
                          tg_module_list_new()};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        if (!tg_module_append(list, items[i])) {
            tg_module_free(list);
            return NULL;
        }
    return list;
}

/* ---- Writing ---------------------------------------------------------------------------- */

static void describe_writes_the_constructor_calls(void) {
    tg_module *m = every_layer(TG_F64, TG_FFN_SWIGLU);
    CHECK(m != NULL);
    char *d = tg_module_describe(m);
    CHECK_EQ_STR(
        d,
        "{\"type\":\"Sequential\",\"args\":{},\"children\":["
        "[\"fc\",{\"type\":\"Linear\",\"args\":{\"in_features\":4,\"out_features\":8,\"bias\":"
        "true,\"dtype\":\"float64\"}}],"
        "[\"norm\",{\"type\":\"LayerNorm\",\"args\":{\"normalized_shape\":[8],\"eps\":1e-05,"
        "\"elementwise_affine\":true,\"dtype\":\"float64\"}}],"
        "[\"res\",{\"type\":\"Residual\",\"args\":{},\"children\":[[\"fn\",{\"type\":"
        "\"FeedForward\",\"args\":{\"kind\":\"SwiGLU\",\"dim\":8,\"hidden_dim\":32,\"multiple_"
        "of\":4,\"dropout\":0.1,\"dtype\":\"float64\"}}]]}],"
        "[\"rms\",{\"type\":\"RMSNorm\",\"args\":{\"dim\":8,\"eps\":1e-06,\"dtype\":\"float64\"}}],"
        "[\"act\",{\"type\":\"GELU\",\"args\":{\"approximate\":\"tanh\"}}],"
        "[\"drop\",{\"type\":\"Dropout\",\"args\":{\"p\":0.25}}],"
        "[\"prelu\",{\"type\":\"PReLU\",\"args\":{\"num_parameters\":8,\"init\":0.25,\"dtype\":"
        "\"float64\"}}],"
        "[\"swish\",{\"type\":\"Swish\",\"args\":{\"beta_init\":1.5,\"dtype\":\"float64\"}}],"
        "[\"out\",{\"type\":\"Linear\",\"args\":{\"in_features\":8,\"out_features\":3,\"bias\":"
        "false,\"dtype\":\"float64\"}}]]}");
    free(d);
    tg_module_free(m);
    m = lists_and_tables();
    CHECK(m != NULL);
    d = tg_module_describe(m);
    CHECK_EQ_STR(
        d, "{\"type\":\"ModuleList\",\"args\":{},\"children\":["
           "[\"0\",{\"type\":\"Embedding\",\"args\":{\"num_embeddings\":10,\"embedding_"
           "dim\":4,\"padding_idx\":-1,\"dtype\":\"float64\"}}],"
           "[\"1\",{\"type\":\"Embedding\",\"args\":{\"num_embeddings\":5,\"embedding_"
           "dim\":3,\"padding_idx\":null,\"dtype\":\"float32\"}}],"
           "[\"2\",{\"type\":\"ReLU\",\"args\":{}}],[\"3\",{\"type\":\"SiLU\",\"args\":{}}],"
           "[\"4\",{\"type\":\"Sigmoid\",\"args\":{}}],[\"5\",{\"type\":\"Tanh\",\"args\":{}}],"
           "[\"6\",{\"type\":\"GELU\",\"args\":{\"approximate\":\"none\"}}],"
           "[\"7\",{\"type\":\"LayerNorm\",\"args\":{\"normalized_shape\":[3,0],\"eps\":0.5,"
           "\"elementwise_affine\":false,\"dtype\":\"float32\"}}],"
           "[\"8\",{\"type\":\"Sequential\",\"args\":{},\"children\":[]}],"
           "[\"9\",{\"type\":\"ModuleList\",\"args\":{},\"children\":[]}]]}");
    free(d);
    tg_module_free(m);
    /* A classic FeedForward's options as given: hidden_dim 0 is 4 * dim. */
    tg_ffn_options o = {.kind = TG_FFN_GELU_TANH, .dim = 3, .multiple_of = -7, .dtype = TG_F32};
    m = tg_feedforward_new(&o, NULL);
    d = tg_module_describe(m);
    CHECK_EQ_STR(d, "{\"type\":\"FeedForward\",\"args\":{\"kind\":\"GELU-tanh\",\"dim\":3,"
                    "\"hidden_dim\":0,\"multiple_of\":-7,\"dropout\":0.0,\"dtype\":\"float32\"}}");
    free(d);
    tg_module_free(m);
}

/* The description is the file's one metadata entry. */
static void save_puts_the_description_in_the_metadata(void) {
    tg_module *m = every_layer(TG_F32, TG_FFN_GELU);
    const char *path = path_of("meta.safetensors");
    CHECK(m && tg_module_save(m, path) == 0);
    tg_safetensors *f = tg_safetensors_open(path);
    char *d = tg_module_describe(m);
    CHECK(f && d && tg_safetensors_metadata_count(f) == 1);
    CHECK_EQ_STR(tg_safetensors_metadata_key(f, 0), TG_MODULE_METADATA_KEY);
    CHECK_EQ_STR(tg_safetensors_metadata(f, "tapegrad.module"), d);
    free(d);
    tg_safetensors_close(f);
    tg_module_free(m);
    unlink(path);
}

/* ---- A user's classes --------------------------------------------------------------------- */

typedef struct scale_state {
    double factor;
    const char *label;
} scale_state;

static tg_tensor *scale_forward(tg_module *m, tg_tensor *x) {
    return tg_mul_scalar(x, ((const scale_state *)tg_module_state(m))->factor);
}

static int scale_describe(const tg_module *m, tg_module_args *a) {
    const scale_state *s = tg_module_state(m);
    int64_t shape[] = {2, 0, 3};
    return tg_module_arg_double(a, "factor", s->factor) ||
                   tg_module_arg_string(a, "label", s->label) ||
                   tg_module_arg_ints(a, "shape", 3, shape) ||
                   tg_module_arg_ints(a, "none", 0, NULL)
               ? -1
               : 0;
}

static const tg_module_class plain_scale = {
    .name = "Scale", .forward = scale_forward, .state_size = sizeof(scale_state)};
static const tg_module_class described_scale = {.name = "Scale\xc3\xa9",
                                                .forward = scale_forward,
                                                .state_size = sizeof(scale_state),
                                                .describe = scale_describe};

/* Without a hook: the type alone, nothing below it; with one: its
 * arguments. Either file loads into the model built in code; neither is
 * rebuilt. */
static void a_users_class_is_saved_by_name(void) {
    tg_module *plain = tg_module_new(&plain_scale, &(scale_state){2, "x"});
    tg_module *net = tg_sequential_new(
        2, (tg_module *[]){tg_residual_new(plain), tg_linear_new(2, 2, TG_BIAS, TG_F64, NULL)});
    CHECK(net && tg_module_add_child(plain, "inner", tg_linear_new(2, 2, TG_BIAS, TG_F64, NULL)));
    char *d = tg_module_describe(net);
    CHECK_EQ_STR(d, "{\"type\":\"Sequential\",\"args\":{},\"children\":[[\"0\",{\"type\":"
                    "\"Residual\",\"args\":{},\"children\":[[\"fn\",{\"type\":\"Scale\"}]]}],"
                    "[\"1\",{\"type\":\"Linear\",\"args\":{\"in_features\":2,\"out_features\":2,"
                    "\"bias\":true,\"dtype\":\"float64\"}}]]}");
    free(d);
    const char *path = path_of("user.safetensors");
    CHECK(tg_module_save(net, path) == 0);
    CHECK(tg_module_load(net, path) == 0);
    CHECK(tg_module_load_new(path) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "user.safetensors: module '0.fn': unknown module type 'Scale': "
                              "tg_module_load_new rebuilds the built-in types and those "
                              "registered with tg_module_register_loader");
    tg_module_free(net);

    tg_module *described = tg_module_new(&described_scale,
                                         &(scale_state){0.1, "a \"quote\"\n\\ \x01 \xe2\x82\xac"});
    d = tg_module_describe(described);
    CHECK_EQ_STR(d, "{\"type\":\"Scale\xc3\xa9\",\"args\":{\"factor\":0.1,\"label\":\"a "
                    "\\\"quote\\\"\\n\\\\ \\u0001 \xe2\x82\xac\",\"shape\":[2,0,3],\"none\":[]}}");
    free(d);
    CHECK(tg_module_save(described, path) == 0);
    CHECK(tg_module_load_new(path) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "the top module: unknown module type 'Scale\xc3\xa9'");
    tg_module_free(described);
    unlink(path);
}

/* ---- Rebuilding ----------------------------------------------------------------------------- */

/* a and b have the same state_dict: names, dtypes, shapes and bits. */
static bool same_tensors(const tg_module *a, const tg_module *b) {
    int na, nb;
    const tg_named_tensor *ta = tg_module_state_dict(a, &na), *tb = tg_module_state_dict(b, &nb);
    bool same = ta && tb && na == nb;
    for (int i = 0; same && i < na; i++) {
        tg_tensor *x = ta[i].tensor, *y = tb[i].tensor;
        same = strcmp(ta[i].name, tb[i].name) == 0 && tg_dtype_of(x) == tg_dtype_of(y) &&
               tg_ndim(x) == tg_ndim(y) && tg_numel(x) == tg_numel(y) &&
               tg_requires_grad(x) == tg_requires_grad(y);
        for (int d = 0; same && d < tg_ndim(x); d++) same = tg_shape(x)[d] == tg_shape(y)[d];
        same = same && memcmp(tg_data(x), tg_data(y),
                              (size_t)tg_numel(x) * tg_dtype_size(tg_dtype_of(x))) == 0;
    }
    return same;
}

/* Saved, rebuilt from the file alone: the same description, printout and
 * tensors, training; a second save and rebuild changes nothing. */
static tg_module *rebuilt(tg_module *m, const char *name) {
    const char *path = path_of(name);
    if (!m || tg_module_save(m, path) != 0) return NULL;
    tg_module *r = tg_module_load_new(path);
    char *d1 = tg_module_describe(m), *d2 = r ? tg_module_describe(r) : NULL;
    char *p1 = tg_module_repr(m), *p2 = r ? tg_module_repr(r) : NULL;
    bool same = d1 && d2 && p1 && p2 && strcmp(d1, d2) == 0 && strcmp(p1, p2) == 0 &&
                same_tensors(m, r) && tg_module_is_training(r);
    if (!same) printf("  %s: %s\n  %s\n  %s\n", name, r ? "" : tg_last_error(), d1, d2);
    free(d1), free(d2), free(p1), free(p2);
    unlink(path);
    if (!same) {
        tg_module_free(r);
        return NULL;
    }
    return r;
}

static void every_built_in_type_is_rebuilt(void) {
    tg_manual_seed(11);
    tg_ffn_kind kinds[] = {TG_FFN_SWIGLU, TG_FFN_GELU_TANH, TG_FFN_GLU,  TG_FFN_GEGLU,
                           TG_FFN_REGLU,  TG_FFN_RELU,      TG_FFN_SILU, TG_FFN_GELU};
    for (int k = 0; k < 8; k++)
        for (int d = 0; d < 2; d++) {
            tg_dtype dtype = d ? TG_F32 : TG_F64;
            tg_test_context = tg_ffn_kind_name(kinds[k]);
            tg_module *m = every_layer(dtype, kinds[k]);
            tg_module *r = rebuilt(m, "every.safetensors");
            CHECK(r != NULL);
            tg_module_train(m, TG_EVAL);
            tg_module_train(r, TG_EVAL);
            tg_tensor *x = tg_rand(TG_SHAPE(5, 4), dtype, NULL);
            tg_tensor *y = tg_module_forward(m, x), *z = tg_module_forward(r, x);
            CHECK(y && z && tg_item(tg_sum(tg_ne(y, z))) == 0);
            tg_module_free(r);
            /* Again from the rebuilt one's own file. */
            r = rebuilt(m, "every.safetensors");
            CHECK(r != NULL);
            tg_module_free(r);
            tg_module_free(m);
        }
    tg_test_context = NULL;
    tg_module *m = lists_and_tables();
    tg_module *r = rebuilt(m, "lists.safetensors");
    CHECK(r != NULL);
    tg_tensor *idx = tg_from_data((int64_t[]){9, 0, 3}, TG_SHAPE(3), TG_I64);
    tg_tensor *rows = tg_module_forward(tg_module_child_at(r, 0, NULL), idx);
    CHECK(rows && tg_item(tg_sum(tg_abs(tg_slice(rows, 0, 0, 1, 1)))) == 0); /* padding row 9 */
    CHECK(tg_item(tg_sum(tg_ne(rows, tg_module_forward(tg_module_child_at(m, 0, NULL), idx)))) ==
          0);
    tg_module_free(r);
    tg_module_free(m);
}

/* The activations, each kind described and rebuilt, with the same outputs
 * (on inputs across their kinks). */
static void every_activation_is_rebuilt(void) {
    tg_module *m = tg_sequential_new(0, NULL);
    for (int k = TG_ACT_RELU; k <= TG_ACT_TANHSHRINK; k++)
        CHECK(tg_module_append(m, tg_activation_new((tg_activation_kind)k)) != NULL);
    CHECK(tg_module_append(m, tg_celu_new(0.5)) && tg_module_append(m, tg_hardtanh_new(-2, 0.5)));
    char *d = tg_module_describe(m);
    CHECK(strstr(d, "[\"6\",{\"type\":\"SELU\",\"args\":{}}],[\"7\",{\"type\":\"ReLU6\",\"args\":"
                    "{}}],[\"8\",{\"type\":\"Hardsigmoid\",\"args\":{}}],[\"9\",{\"type\":"
                    "\"Hardswish\",\"args\":{}}],[\"10\",{\"type\":\"Mish\",\"args\":{}}],[\"11\","
                    "{\"type\":\"LogSigmoid\",\"args\":{}}],[\"12\",{\"type\":\"Softsign\","
                    "\"args\":{}}],[\"13\",{\"type\":\"Tanhshrink\",\"args\":{}}],[\"14\",{\"type\""
                    ":\"CELU\",\"args\":{\"alpha\":0.5}}],[\"15\",{\"type\":\"Hardtanh\",\"args\":"
                    "{\"min_val\":-2.0,\"max_val\":0.5}}]]}") != NULL);
    free(d);
    tg_module *r = rebuilt(m, "activations.safetensors");
    CHECK(r != NULL);
    tg_tensor *x = tg_arange(-4, 4.25, 0.25, TG_F64);
    for (int i = 0; i < tg_module_num_children(m); i++) {
        tg_tensor *y = tg_module_forward(tg_module_child_at(m, i, NULL), x);
        tg_tensor *z = tg_module_forward(tg_module_child_at(r, i, NULL), x);
        CHECK(y && z && tg_item(tg_sum(tg_ne(y, z))) == 0);
    }
    tg_module_free(r);
    tg_module_free(m);
}

/* ---- A user's classes (tests/user_classes.h) rebuilt by their registered loaders ------------ */

static void a_registered_class_is_rebuilt(void) {
    CHECK(user_classes_register() == 0);
    tg_module *chain = chain_new();
    CHECK(tg_module_add_child(chain, "gain", gain_new(8, TG_F64)) &&
          tg_module_add_child(chain, "norm", tg_rms_norm_new(8, 1e-6, TG_F64)));
    tg_module *m = tg_sequential_named_new(
        3, (const char *[]){"fc", "chain", "out"},
        (tg_module *[]){tg_linear_new(4, 8, TG_BIAS, TG_F64, NULL), chain,
                        tg_residual_new(gain_new(8, TG_F64))});
    char *d = tg_module_describe(m);
    CHECK_EQ_STR(
        strstr(d, "[\"chain\""),
        "[\"chain\",{\"type\":\"Chain\",\"args\":{},\"children\":[[\"gain\",{\"type\":"
        "\"Gain\",\"args\":{\"n\":8,\"dtype\":\"float64\"}}],[\"norm\",{\"type\":"
        "\"RMSNorm\",\"args\":{\"dim\":8,\"eps\":1e-06,\"dtype\":\"float64\"}}]]}],[\"out\","
        "{\"type\":\"Residual\",\"args\":{},\"children\":[[\"fn\",{\"type\":\"Gain\","
        "\"args\":{\"n\":8,\"dtype\":\"float64\"}}]]}]]}");
    free(d);
    tg_module *r = rebuilt(m, "registered.safetensors");
    CHECK(r != NULL);
    tg_tensor *x = tg_randn(TG_SHAPE(3, 4), TG_F64, NULL);
    tg_tensor *y = tg_module_forward(m, x), *z = tg_module_forward(r, x);
    CHECK(y && z && tg_item(tg_sum(tg_ne(y, z))) == 0);
    tg_module_free(r);
    tg_module_free(m);
}

/* Rebuilding draws nothing from the default generator; a dropout of the
 * rebuilt module draws from it. */
static void rebuilding_leaves_the_default_generator_alone(void) {
    tg_module *m = every_layer(TG_F64, TG_FFN_SWIGLU);
    const char *path = path_of("gen.safetensors");
    CHECK(m && tg_module_save(m, path) == 0);
    tg_manual_seed(3);
    double first = tg_item(tg_rand(TG_SHAPE(1), TG_F64, NULL));
    tg_manual_seed(3);
    tg_module *r = tg_module_load_new(path);
    CHECK(r != NULL);
    CHECK(tg_item(tg_rand(TG_SHAPE(1), TG_F64, NULL)) == first);
    tg_manual_seed(4);
    tg_tensor *a = tg_module_forward(tg_module_child(r, "drop"), tg_ones(TG_SHAPE(64), TG_F64));
    tg_manual_seed(4);
    tg_tensor *b = tg_dropout(tg_ones(TG_SHAPE(64), TG_F64), 0.25, TG_TRAIN, NULL);
    CHECK(a && b && tg_item(tg_sum(tg_ne(a, b))) == 0);
    tg_module_free(r);
    tg_module_free(m);
    unlink(path);
}

/* ---- Refused before anything is made ---------------------------------------------------- */

/* The largest single allocation while counting, through tapegrad's allocator. */
static size_t largest;

static void *counting_alloc(size_t size, void *ctx) {
    (void)ctx;
    if (size > largest) largest = size;
    return aligned_alloc(64, (size + 63) / 64 * 64 + 64);
}

static void counting_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

static const char *with_description(const char *name, const char *description, int n,
                                    const tg_named_tensor *tensors) {
    const char *path = path_of(name);
    int rc = tg_save_safetensors_with_metadata(
        path, n, tensors, 1, &(tg_metadata_entry){TG_MODULE_METADATA_KEY, description});
    return rc == 0 ? path : NULL;
}

/* Arguments that would need terabytes, with a file of a few bytes: refused
 * by the check against the file, which allocates nothing of that size. */
static void lying_arguments_allocate_nothing(void) {
    tg_tensor *w = tg_zeros(TG_SHAPE(8, 4), TG_F64);
    static const struct {
        const char *description;
        tg_status status;
        const char *message;
    } rows[] = {
        {"{\"type\":\"Linear\",\"args\":{\"in_features\":1000000000000,\"out_features\":8,"
         "\"bias\":false,\"dtype\":\"float64\"}}",
         TG_ERR_SHAPE,
         "tensor 'weight' is float64 (8, 4) in the file, the arguments make it float64 (8, "
         "1000000000000)"},
        {"{\"type\":\"Embedding\",\"args\":{\"num_embeddings\":9223372036854775807,"
         "\"embedding_dim\":9223372036854775807,\"padding_idx\":null,\"dtype\":\"float64\"}}",
         TG_ERR_SHAPE, "tensor 'weight' is float64 (8, 4) in the file"},
        {"{\"type\":\"Sequential\",\"args\":{},\"children\":[[\"w\",{\"type\":\"FeedForward\","
         "\"args\":{\"kind\":\"SwiGLU\",\"dim\":4,\"hidden_dim\":1099511627776,\"multiple_of\":1,"
         "\"dropout\":0,\"dtype\":\"float64\"}}]]}",
         TG_ERR_VALUE,
         "module 'w' (FeedForward): the file has no tensor 'w.w1.weight' (float64 "
         "(733007751850, 4))"},
        {"{\"type\":\"RMSNorm\",\"args\":{\"dim\":4611686018427387904,\"eps\":1e-6,\"dtype\":"
         "\"float32\"}}",
         TG_ERR_SHAPE,
         "tensor 'weight' is float64 (8, 4) in the file, the arguments make it float32 "
         "(4611686018427387904,)"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_test_context = rows[i].message;
        const char *path = with_description(
            "lie.safetensors", rows[i].description, 1,
            (tg_named_tensor[]){{i == 2 ? "w.w1.bias" : "weight", w}});
        CHECK(path != NULL);
        largest = 0;
        tg_set_allocator(&(tg_allocator){counting_alloc, counting_free, NULL});
        tg_module *m = tg_module_load_new(path);
        tg_set_allocator(NULL);
        CHECK(m == NULL && largest < 4096);
        CHECK_ERROR(rows[i].status, rows[i].message);
        unlink(path);
    }
    tg_test_context = NULL;
}

/* More modules than TG_MODULE_LOAD_MAX_MODULES, or nested deeper than
 * TG_MODULE_LOAD_MAX_DEPTH: refused by the first pass. */
static void too_many_or_too_deep_is_refused(void) {
    size_t cap = 64 * (TG_MODULE_LOAD_MAX_MODULES + 2);
    char *text = malloc(cap);
    CHECK(text != NULL);
    size_t len = (size_t)snprintf(text, cap, "{\"type\":\"Sequential\",\"args\":{},\"children\":[");
    for (int i = 0; i < TG_MODULE_LOAD_MAX_MODULES; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s[\"%d\",{\"type\":\"ReLU\",\"args\":{}}]",
                                i ? "," : "", i);
    snprintf(text + len, cap - len, "]}");
    const char *path = with_description("many.safetensors", text, 0, NULL);
    CHECK(path && tg_module_load_new(path) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "module '9999': the description has more than 10000 modules");
    /* One fewer fits. */
    snprintf(text + len - strlen(",[\"9999\",{\"type\":\"ReLU\",\"args\":{}}]"), cap, "]}");
    path = with_description("many.safetensors", text, 0, NULL);
    tg_module *m = path ? tg_module_load_new(path) : NULL;
    CHECK(m && tg_module_num_children(m) == TG_MODULE_LOAD_MAX_MODULES - 1);
    tg_module_free(m);
    /* Residual(Residual(...(ReLU))), 64 and 65 deep. */
    for (int depth = TG_MODULE_LOAD_MAX_DEPTH; depth <= TG_MODULE_LOAD_MAX_DEPTH + 1; depth++) {
        len = 0;
        for (int i = 0; i < depth - 1; i++)
            len += (size_t)snprintf(text + len, cap - len,
                                    "{\"type\":\"Residual\",\"args\":{},\"children\":[[\"fn\",");
        len += (size_t)snprintf(text + len, cap - len, "{\"type\":\"ReLU\",\"args\":{}}");
        for (int i = 0; i < depth - 1; i++) len += (size_t)snprintf(text + len, cap - len, "]]}");
        path = with_description("deep.safetensors", text, 0, NULL);
        m = path ? tg_module_load_new(path) : NULL;
        if (depth == TG_MODULE_LOAD_MAX_DEPTH) {
            CHECK(m != NULL);
            tg_tensor *y = tg_module_forward(m, tg_full(TG_SHAPE(1), 2, TG_F32));
            CHECK(y && tg_item(y) == 2 * depth); /* x + (x + ... + relu(x)) */
            tg_module_free(m);
        } else {
            CHECK(m == NULL);
            CHECK_ERROR(TG_ERR_VALUE, "fn.fn': modules are nested more than 64 deep");
        }
    }
    free(text);
    unlink(path_of("many.safetensors"));
    unlink(path_of("deep.safetensors"));
}

static void setup_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/tg-checkpoint-XXXXXX");
    if (!mkdtemp(dir)) exit(1);
}

int main(int argc, char **argv) {
    setup_dir();
    static const tg_test_case cases[] = {TG_CASE(describe_writes_the_constructor_calls),
                                         TG_CASE(save_puts_the_description_in_the_metadata),
                                         TG_CASE(a_users_class_is_saved_by_name),
                                         TG_CASE(every_built_in_type_is_rebuilt),
                                         TG_CASE(every_activation_is_rebuilt),
                                         TG_CASE(a_registered_class_is_rebuilt),
                                         TG_CASE(rebuilding_leaves_the_default_generator_alone),
                                         TG_CASE(lying_arguments_allocate_nothing),
                                         TG_CASE(too_many_or_too_deep_is_refused)};
    int rc = tg_test_run(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    rmdir(dir);
    return rc;
}
