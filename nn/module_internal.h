/* nn/module_internal.h - what a module class implements, and the helpers
 * that build a module: own parameters first, then children, then finish. */
#ifndef TAPEGRAD_MODULE_INTERNAL_H
#define TAPEGRAD_MODULE_INTERNAL_H

#include "internal/kernel.h"
#include "tapegrad/nn.h"

typedef struct tg__module_class {
    const char *name;
    tg_tensor *(*forward)(tg_module *m, tg_tensor *x);
} tg__module_class;

typedef struct tg__child {
    char *name;
    tg_module *module;
} tg__child;

struct tg_module {
    const tg__module_class *cls;
    bool training;
    int n_own, n_children;
    tg_named_tensor *own; /* names and references owned */
    tg__child *children;
    /* Every parameter of the tree with its full name, built by finish. */
    int n_all;
    tg_named_tensor *all;
    tg_tensor **all_tensors;
    /* Settings of the class, in place of a subclass (see each class). */
    void *impl;
};

/* A module of cls with an impl block of impl_size zeroed bytes, or NULL. */
tg_module *tg__module_new(const tg__module_class *cls, size_t impl_size);
/* A new parameter: a leaf of shape that requires grad, outside any pool,
 * registered under name. Returns it (borrowed) or NULL. */
tg_tensor *tg__module_param(tg_module *m, const char *name, int ndim, const int64_t *shape,
                            tg_dtype dtype);
/* Takes child over (also on failure, when it is freed). Returns it or NULL. */
tg_module *tg__module_child(tg_module *m, const char *name, tg_module *child);
/* Lists every parameter under its full name. Returns m, or frees it and
 * returns NULL. Call it once, last. */
tg_module *tg__module_finish(tg_module *m);

#endif
