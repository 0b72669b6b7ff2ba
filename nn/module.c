/* nn/module.c - what every module shares: parameters with their full names,
 * children, train/eval mode, saving and loading. */
#include <stdlib.h>
#include <string.h>

#include "module_internal.h"
#include "tapegrad/autograd.h"

static char *copy_string(const char *s) {
    char *c = tg__alloc(strlen(s) + 1, "module");
    if (c) strcpy(c, s);
    return c;
}

tg_module *tg__module_new(const tg__module_class *cls, size_t impl_size) {
    tg_module *m = tg__calloc(sizeof *m, cls->name);
    if (!m) return NULL;
    m->cls = cls;
    m->training = true;
    if (impl_size && !(m->impl = tg__calloc(impl_size, cls->name))) {
        tg__free(m);
        return NULL;
    }
    return m;
}

/* Grows an array of n elements of size `size` by one; false when out of memory. */
static bool grow(void **array, int n, size_t size, const char *what) {
    void *grown = tg__alloc((size_t)(n + 1) * size, what);
    if (!grown) return false;
    if (n) memcpy(grown, *array, (size_t)n * size);
    tg__free(*array);
    *array = grown;
    return true;
}

tg_tensor *tg__module_param(tg_module *m, const char *name, int ndim, const int64_t *shape,
                            tg_dtype dtype) {
    tg_tensor *t = tg__new_owned(m->cls->name, ndim, shape, dtype);
    char *n = t ? copy_string(name) : NULL;
    if (!n || !grow((void **)&m->own, m->n_own, sizeof *m->own, m->cls->name)) {
        tg__free(n);
        tg_release(t);
        return NULL;
    }
    tg__fill(t, 0.0);
    t->requires_grad = true;
    m->own[m->n_own++] = (tg_named_tensor){n, t};
    return t;
}

tg_module *tg__module_child(tg_module *m, const char *name, tg_module *child) {
    char *n = child ? copy_string(name) : NULL;
    if (!n || !grow((void **)&m->children, m->n_children, sizeof *m->children, m->cls->name)) {
        tg__free(n);
        tg_module_free(child);
        return NULL;
    }
    m->children[m->n_children++] = (tg__child){n, child};
    return child;
}

/* The first n_own entries of `all` share the own parameters' names; the
 * children's full names after them are allocated. */
static void free_all_names(tg_module *m) {
    for (int i = m->n_own; i < m->n_all; i++) tg__free((char *)m->all[i].name);
    tg__free(m->all);
    tg__free(m->all_tensors);
}

void tg_module_free(tg_module *m) {
    if (!m) return;
    free_all_names(m);
    for (int i = 0; i < m->n_own; i++) {
        tg__free((char *)m->own[i].name);
        tg_release(m->own[i].tensor);
    }
    for (int i = 0; i < m->n_children; i++) {
        tg__free(m->children[i].name);
        tg_module_free(m->children[i].module);
    }
    tg__free(m->own);
    tg__free(m->children);
    tg__free(m->impl);
    tg__free(m);
}

/* "prefix.name" in a new string. */
static char *join(const char *prefix, const char *name) {
    size_t lp = strlen(prefix), ln = strlen(name);
    char *s = tg__alloc(lp + ln + 2, "module");
    if (s) {
        memcpy(s, prefix, lp);
        s[lp] = '.';
        memcpy(s + lp + 1, name, ln + 1);
    }
    return s;
}

tg_module *tg__module_finish(tg_module *m) {
    if (!m) return NULL;
    int n = m->n_own;
    for (int c = 0; c < m->n_children; c++) n += m->children[c].module->n_all;
    m->all = tg__calloc(sizeof *m->all * (size_t)(n + 1), m->cls->name);
    m->all_tensors = tg__calloc(sizeof *m->all_tensors * (size_t)(n + 1), m->cls->name);
    if (!m->all || !m->all_tensors) goto fail;
    /* Own parameters keep their names; children's get the child's prefix. */
    for (int i = 0; i < m->n_own; i++) m->all[m->n_all++] = m->own[i];
    for (int c = 0; c < m->n_children; c++) {
        const tg_module *child = m->children[c].module;
        for (int i = 0; i < child->n_all; i++) {
            char *full = join(m->children[c].name, child->all[i].name);
            if (!full) goto fail;
            m->all[m->n_all++] = (tg_named_tensor){full, child->all[i].tensor};
        }
    }
    for (int i = 0; i < m->n_all; i++) m->all_tensors[i] = m->all[i].tensor;
    return m;
fail:
    tg_module_free(m);
    return NULL;
}

/* ---- The public interface ---------------------------------------------------------- */

tg_tensor *tg_module_forward(tg_module *m, tg_tensor *x) {
    if (!m || !x) {
        tg__null_arg(m ? m->cls->name : "module_forward");
        return NULL;
    }
    return m->cls->forward(m, x);
}

const char *tg_module_name(const tg_module *m) { return m ? m->cls->name : NULL; }

void tg_module_train(tg_module *m, tg_mode mode) {
    if (!m) return;
    m->training = mode != TG_EVAL;
    for (int c = 0; c < m->n_children; c++) tg_module_train(m->children[c].module, mode);
}

bool tg_module_is_training(const tg_module *m) { return m && m->training; }

const tg_named_tensor *tg_module_parameters(const tg_module *m, int *n) {
    if (n) *n = m ? m->n_all : 0;
    return m ? m->all : NULL;
}

tg_tensor *const *tg_module_parameter_tensors(const tg_module *m, int *n) {
    if (n) *n = m ? m->n_all : 0;
    return m ? m->all_tensors : NULL;
}

tg_tensor *tg_module_parameter(const tg_module *m, const char *name) {
    if (!m || !name) {
        tg__null_arg("module_parameter");
        return NULL;
    }
    for (int i = 0; i < m->n_all; i++)
        if (strcmp(m->all[i].name, name) == 0) return m->all[i].tensor;
    tg__error(TG_ERR_VALUE, "module_parameter: %s has no parameter '%s'", m->cls->name, name);
    return NULL;
}

int64_t tg_module_num_elements(const tg_module *m) {
    int64_t total = 0;
    for (int i = 0; m && i < m->n_all; i++) total += m->all[i].tensor->numel;
    return total;
}

void tg_module_zero_grad(tg_module *m, tg_zero_grad_mode mode) {
    for (int i = 0; m && i < m->n_all; i++) {
        if (mode != TG_GRAD_TO_ZERO)
            tg_clear_grad(m->all[i].tensor);
        else
            tg_zero_grad(m->all[i].tensor);
    }
}

int tg_module_save(const tg_module *m, const char *path) {
    if (!m || !path) {
        tg__null_arg("module_save");
        return -1;
    }
    return tg_save_safetensors(path, m->n_all, m->all);
}

int tg_module_load(tg_module *m, const char *path) {
    if (!m || !path) {
        tg__null_arg("module_load");
        return -1;
    }
    return tg_load_safetensors(path, m->n_all, m->all);
}
