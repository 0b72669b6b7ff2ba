/* nn/sequential.c - containers: Sequential (one module after another),
 * ModuleList (children only) and Residual (x + f(x)), modules of the public
 * API (tapegrad/nn.h). */
#include <stdio.h>

#include "internal/base.h"
#include "tapegrad/nn.h"
#include "tapegrad/ops.h"

static tg_tensor *sequential_forward(tg_module *m, tg_tensor *x) {
    for (int i = 0; x && i < tg_module_num_children(m); i++)
        x = tg_module_forward(tg_module_child_at(m, i, NULL), x);
    return x;
}

/* A container's children are its constructor's arguments. */
static int container_describe(const tg_module *m, tg_module_args *a) {
    (void)m;
    return tg_module_arg_children(a);
}

static const tg_module_class sequential_class = {
    .name = "Sequential", .forward = sequential_forward, .describe = container_describe};

/* Sequential of n modules named names[i], or by index when names is NULL.
 * Every module is taken over, also after a failure: tg_module_add_child
 * frees the one it cannot add, and once one has failed the rest are freed
 * here. */
static tg_module *sequential(int n, const char *const *names, tg_module *const *modules) {
    const char *op = "Sequential";
    tg_module *m = NULL;
    if (n < 0)
        tg__error(TG_ERR_VALUE, "%s: %d modules", op, n);
    else if (n > 0 && !modules)
        tg__null_arg(op);
    else
        m = tg_module_new(&sequential_class, NULL);
    bool ok = m != NULL;
    for (int i = 0; i < n && modules; i++) {
        char index[16];
        snprintf(index, sizeof index, "%d", i);
        const char *name = names ? names[i] : index;
        if (!modules[i] || !name) {
            tg__null_arg(op);
            ok = false;
            tg_module_free(modules[i]);
        } else if (ok) {
            ok = tg_module_add_child(m, name, modules[i]) != NULL;
        } else {
            tg_module_free(modules[i]);
        }
    }
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}

tg_module *tg_sequential_new(int n, tg_module *const *modules) {
    return sequential(n, NULL, modules);
}

tg_module *tg_sequential_named_new(int n, const char *const *names, tg_module *const *modules) {
    if (!names && n > 0) {
        for (int i = 0; modules && i < n; i++) tg_module_free(modules[i]);
        tg__null_arg("Sequential");
        return NULL;
    }
    return sequential(n, names, modules);
}

static const tg_module_class module_list_class = {.name = "ModuleList",
                                                  .describe = container_describe};

tg_module *tg_module_list_new(void) { return tg_module_new(&module_list_class, NULL); }

static tg_tensor *residual_forward(tg_module *m, tg_tensor *x) {
    return tg_add(x, tg_module_forward(tg_module_child_at(m, 0, NULL), x));
}

static const tg_module_class residual_class = {
    .name = "Residual", .forward = residual_forward, .describe = container_describe};

tg_module *tg_residual_new(tg_module *inner) {
    if (!inner) {
        tg__null_arg("Residual");
        return NULL;
    }
    tg_module *m = tg_module_new(&residual_class, NULL);
    if (!tg_module_add_child(m, "fn", inner)) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}
