/* nn/sequential.c - containers: Sequential (one module after another) and
 * Residual (x + f(x)). */
#include <stdio.h>

#include "module_internal.h"
#include "tapegrad/ops.h"

static tg_tensor *sequential_forward(tg_module *m, tg_tensor *x) {
    for (int i = 0; x && i < m->n_children; i++) x = tg_module_forward(m->children[i].module, x);
    return x;
}

static const tg__module_class sequential_class = {"Sequential", sequential_forward};

tg_module *tg_sequential_new(int n, tg_module *const *modules) {
    tg_module *m = n >= 0 && (modules || n == 0) ? tg__module_new(&sequential_class, 0) : NULL;
    bool ok = m != NULL;
    if (!ok && n < 0) tg__error(TG_ERR_VALUE, "Sequential: %d modules", n);
    if (n > 0 && !modules) tg__null_arg("Sequential");
    /* Every child is taken over, also after a failure: tg__module_child
     * frees the one it cannot add, and once one has failed the rest are
     * freed here. */
    for (int i = 0; i < n && modules; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d", i);
        if (!modules[i]) {
            tg__null_arg("Sequential");
            ok = false;
        } else if (ok) {
            ok = tg__module_child(m, name, modules[i]) != NULL;
        } else {
            tg_module_free(modules[i]);
        }
    }
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return tg__module_finish(m);
}

static tg_tensor *residual_forward(tg_module *m, tg_tensor *x) {
    return tg_add(x, tg_module_forward(m->children[0].module, x));
}

static const tg__module_class residual_class = {"Residual", residual_forward};

tg_module *tg_residual_new(tg_module *inner) {
    if (!inner) {
        tg__null_arg("Residual");
        return NULL;
    }
    tg_module *m = tg__module_new(&residual_class, 0);
    if (!m) {
        tg_module_free(inner);
        return NULL;
    }
    if (!tg__module_child(m, "fn", inner)) {
        tg_module_free(m);
        return NULL;
    }
    return tg__module_finish(m);
}
