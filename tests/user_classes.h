/* tests/user_classes.h - two classes of one's own, written with the public
 * API only (tapegrad/nn.h), with describe hooks and loaders for
 * tg_module_load_new, for the tests and the fuzz target that rebuild
 * them:
 *
 *     Gain(n, dtype): x * weight, a parameter of n elements (uniform in
 *         [0.5, 1.5) from the default generator);
 *     Chain: its children, given to it as arguments, one after the other.
 *
 * user_classes_register registers both loaders (once per process). */
#ifndef TAPEGRAD_TESTS_USER_CLASSES_H
#define TAPEGRAD_TESTS_USER_CLASSES_H

#include <tapegrad/tapegrad.h>

static inline tg_tensor *gain_forward(tg_module *m, tg_tensor *x) {
    return tg_mul(x, tg_module_parameter(m, "weight"));
}
static inline int gain_describe(const tg_module *m, tg_module_args *a) {
    tg_tensor *w = tg_module_parameter(m, "weight");
    return tg_module_arg_int(a, "n", tg_numel(w)) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(tg_dtype_of(w)))
               ? -1
               : 0;
}
static const tg_module_class gain_class = {
    .name = "Gain", .forward = gain_forward, .describe = gain_describe};
static inline tg_module *gain_new(int64_t n, tg_dtype dtype) {
    tg_module *m = tg_module_new(&gain_class, NULL);
    tg_tensor *w = m ? tg_module_new_parameter(m, "weight", TG_SHAPE(n), dtype) : NULL;
    if (!w || tg_init_uniform_(w, 0.5, 1.5, NULL) != 0) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}
static inline tg_module *gain_load(tg_module_desc *d) {
    int64_t n;
    tg_dtype dtype;
    return tg_module_desc_int(d, "n", &n) || tg_module_desc_dtype(d, "dtype", &dtype)
               ? NULL
               : gain_new(n, dtype);
}

static inline tg_tensor *chain_forward(tg_module *m, tg_tensor *x) {
    for (int i = 0; x && i < tg_module_num_children(m); i++)
        x = tg_module_forward(tg_module_child_at(m, i, NULL), x);
    return x;
}
static inline int chain_describe(const tg_module *m, tg_module_args *a) {
    (void)m;
    return tg_module_arg_children(a);
}
static const tg_module_class chain_class = {
    .name = "Chain", .forward = chain_forward, .describe = chain_describe};
static inline tg_module *chain_new(void) { return tg_module_new(&chain_class, NULL); }
static inline tg_module *chain_load(tg_module_desc *d) {
    (void)d;
    return chain_new();
}

/* 0, or -1 with an error (a second call: a loader registered already). */
static inline int user_classes_register(void) {
    return tg_module_register_loader("Gain", gain_load) ||
                   tg_module_register_loader("Chain", chain_load)
               ? -1
               : 0;
}

#endif
