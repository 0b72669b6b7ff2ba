/* nn/module.c - what every module is: a class, a state block, named
 * parameters, buffers and children; the tree's lists with full names, train
 * and eval, saving and loading, printing. The public API of tapegrad/nn.h
 * is the only way to build a module: the built-in ones use it too. */
#include <stdlib.h>
#include <string.h>

#include "internal/kernel.h"
#include "nn_internal.h"
#include "tapegrad/autograd.h"

/* A parameter or a buffer: its name and the module's reference. */
typedef struct entry {
    char *name;
    tg_tensor *tensor;
} entry;

typedef struct child {
    char *name;
    tg_module *module;
} child;

/* The tree's lists with full names, in one block: the state_dict order,
 * then the parameters and the buffers (pointing to the same names), the
 * parameter tensors, and the names' characters. */
typedef struct lists {
    int n_state, n_params, n_buffers;
    tg_named_tensor *state, *params, *buffers;
    tg_tensor **param_tensors;
} lists;

struct tg_module {
    const tg_module_class *cls;
    tg_module *parent; /* NULL for a root */
    bool training;
    void *state; /* cls->state_size bytes, or NULL */
    int n_params, n_buffers, n_children;
    entry *params, *buffers;
    child *children;
    lists *lists; /* built on demand; stale after anything is added below m */
    bool stale;
};

/* ---- Names -------------------------------------------------------------------------- */

static char *copy_string(const char *s, const char *what) {
    char *c = tg__alloc(strlen(s) + 1, what);
    if (c) strcpy(c, s);
    return c;
}

/* name equals the first len characters of segment. */
static bool same(const char *name, const char *segment, size_t len) {
    return strncmp(name, segment, len) == 0 && name[len] == '\0';
}

static tg_tensor *find_entry(const entry *e, int n, const char *name, size_t len) {
    for (int i = 0; i < n; i++)
        if (same(e[i].name, name, len)) return e[i].tensor;
    return NULL;
}

static tg_module *find_child(const tg_module *m, const char *name, size_t len) {
    for (int i = 0; i < m->n_children; i++)
        if (same(m->children[i].name, name, len)) return m->children[i].module;
    return NULL;
}

/* PyTorch's rules: not empty, no '.', not taken by a parameter, buffer or
 * child of m. `kind` is "parameter", "buffer" or "module". */
static bool check_name(const char *op, const tg_module *m, const char *kind, const char *name) {
    size_t len = strlen(name);
    const char *taken = find_entry(m->params, m->n_params, name, len)     ? "parameter"
                        : find_entry(m->buffers, m->n_buffers, name, len) ? "buffer"
                        : find_child(m, name, len)                        ? "child"
                                                                          : NULL;
    if (!*name)
        tg__error(TG_ERR_VALUE, "%s: %s name can't be empty", op, kind);
    else if (strchr(name, '.'))
        tg__error(TG_ERR_VALUE, "%s: %s name can't contain \".\", got \"%s\"", op, kind, name);
    else if (taken)
        tg__error(TG_ERR_VALUE, "%s: %s already has a %s named \"%s\"", op, m->cls->name, taken,
                  name);
    return *name && !strchr(name, '.') && !taken;
}

/* Marks the lists of m and of every module above it out of date. */
static void touch(tg_module *m) {
    for (; m; m = m->parent) m->stale = true;
}

/* ---- Making and freeing ---------------------------------------------------------------- */

tg_module *tg_module_new(const tg_module_class *cls, void *state) {
    if (!cls) {
        tg__null_arg("module_new");
        return NULL;
    }
    tg_module *m = NULL;
    if (!cls->name || !*cls->name)
        tg__error(TG_ERR_VALUE, "module_new: the class has no name");
    else if (state && !cls->state_size)
        tg__error(TG_ERR_VALUE, "module_new: %s: a state was given but state_size is 0", cls->name);
    else if ((m = tg__calloc(sizeof *m, cls->name)) && cls->state_size &&
             !(m->state = tg__alloc(cls->state_size, cls->name))) {
        tg__free(m);
        m = NULL;
    }
    if (!m) {
        if (state && cls->free_state) cls->free_state(state);
        return NULL;
    }
    if (m->state) {
        if (state)
            memcpy(m->state, state, cls->state_size);
        else
            memset(m->state, 0, cls->state_size);
    }
    m->cls = cls;
    m->training = true;
    m->stale = true;
    return m;
}

void *tg_module_state(const tg_module *m) { return m ? m->state : NULL; }

static void free_entries(entry *e, int n) {
    for (int i = 0; i < n; i++) {
        tg__free(e[i].name);
        tg_release(e[i].tensor);
    }
    tg__free(e);
}

static void free_tree(tg_module *m) {
    if (m->cls->free_state && m->state) m->cls->free_state(m->state);
    free_entries(m->params, m->n_params);
    free_entries(m->buffers, m->n_buffers);
    for (int i = 0; i < m->n_children; i++) {
        tg__free(m->children[i].name);
        free_tree(m->children[i].module);
    }
    tg__free(m->children);
    tg__free(m->lists);
    tg__free(m->state);
    tg__free(m);
}

void tg_module_free(tg_module *m) {
    if (!m) return;
    if (m->parent) {
        tg__error(TG_ERR_VALUE, "module_free: this %s is a child of a %s, and is freed with it",
                  m->cls->name, m->parent->cls->name);
        return;
    }
    free_tree(m);
}

/* ---- Adding parameters, buffers and children ------------------------------------------ */

/* Grows an array of n elements of size `size` by one; false when out of memory. */
static bool grow(void **array, int n, size_t size, const char *what) {
    void *grown = tg__alloc((size_t)(n + 1) * size, what);
    if (!grown) return false;
    if (n) memcpy(grown, *array, (size_t)n * size);
    tg__free(*array);
    *array = grown;
    return true;
}

/* Appends (name, a new reference to t) to m's parameters or buffers; the
 * name was checked. Returns t, or NULL with m unchanged. */
static tg_tensor *add_entry(tg_module *m, bool buffer, const char *name, tg_tensor *t) {
    entry **list = buffer ? &m->buffers : &m->params;
    int *n = buffer ? &m->n_buffers : &m->n_params;
    char *copy = copy_string(name, m->cls->name);
    if (!copy || !grow((void **)list, *n, sizeof **list, m->cls->name)) {
        tg__free(copy);
        return NULL;
    }
    (*list)[(*n)++] = (entry){copy, tg_retain(t)};
    touch(m);
    return t;
}

/* tg_module_new_parameter and tg_module_new_buffer. */
static tg_tensor *new_entry(const char *op, tg_module *m, bool buffer, const char *name, int ndim,
                            const int64_t *shape, tg_dtype dtype) {
    if (!m || !name) {
        tg__null_arg(op);
        return NULL;
    }
    if (!check_name(op, m, buffer ? "buffer" : "parameter", name)) return NULL;
    if (!tg__check_dtype(m->cls->name, dtype)) return NULL;
    if (!buffer && !tg_dtype_is_float(dtype)) {
        tg__error(TG_ERR_DTYPE, "%s: parameter '%s' must be float32 or float64, not %s",
                  m->cls->name, name, tg_dtype_name(dtype));
        return NULL;
    }
    tg_tensor *t = tg__new_owned(m->cls->name, ndim, shape, dtype);
    if (!t) return NULL;
    tg__fill(t, 0.0);
    t->requires_grad = !buffer;
    tg_tensor *added = add_entry(m, buffer, name, t);
    tg_release(t); /* the module's reference, or nothing */
    return added;
}

tg_tensor *tg_module_new_parameter(tg_module *m, const char *name, int ndim, const int64_t *shape,
                                   tg_dtype dtype) {
    return new_entry("module_new_parameter", m, false, name, ndim, shape, dtype);
}

tg_tensor *tg_module_new_buffer(tg_module *m, const char *name, int ndim, const int64_t *shape,
                                tg_dtype dtype) {
    return new_entry("module_new_buffer", m, true, name, ndim, shape, dtype);
}

tg_tensor *tg_module_add_parameter(tg_module *m, const char *name, tg_tensor *t) {
    const char *op = "module_add_parameter";
    if (!m || !name || !t) {
        tg__null_arg(op);
        return NULL;
    }
    if (!check_name(op, m, "parameter", name) || !tg__check_float(op, t) ||
        !tg__check_writable(op, t))
        return NULL;
    if (t->grad_fn) {
        tg__error(TG_ERR_GRAPH,
                  "%s: a parameter is a leaf, and this tensor was made by %s (tg_detach it)", op,
                  tg_grad_fn_name(t));
        return NULL;
    }
    if (!add_entry(m, false, name, t)) return NULL;
    t->requires_grad = true;
    return t;
}

tg_tensor *tg_module_add_buffer(tg_module *m, const char *name, tg_tensor *t) {
    const char *op = "module_add_buffer";
    if (!m || !name || !t) {
        tg__null_arg(op);
        return NULL;
    }
    if (!check_name(op, m, "buffer", name)) return NULL;
    return add_entry(m, true, name, t);
}

/* True when a is m or above it. */
static bool is_ancestor(const tg_module *a, const tg_module *m) {
    for (; m; m = m->parent)
        if (m == a) return true;
    return false;
}

/* Adds child (not NULL) under name (checked or not); frees it on failure. */
static tg_module *add_child(const char *op, tg_module *m, const char *name, tg_module *c) {
    if (c->parent) {
        tg__error(TG_ERR_VALUE, "%s: this %s is already a child of a %s", op, c->cls->name,
                  c->parent->cls->name);
        return NULL; /* its parent's, not ours to free */
    }
    if (is_ancestor(c, m)) {
        tg__error(TG_ERR_VALUE, "%s: a %s cannot be a child of itself or of its own child", op,
                  c->cls->name);
        return NULL; /* still the caller's */
    }
    char *copy = check_name(op, m, "module", name) ? copy_string(name, m->cls->name) : NULL;
    if (!copy || !grow((void **)&m->children, m->n_children, sizeof *m->children, m->cls->name)) {
        tg__free(copy);
        tg_module_free(c);
        return NULL;
    }
    m->children[m->n_children++] = (child){copy, c};
    c->parent = m;
    touch(m);
    return c;
}

tg_module *tg_module_add_child(tg_module *m, const char *name, tg_module *c) {
    const char *op = "module_add_child";
    if (!c) {
        tg__null_arg(op);
        return NULL;
    }
    if (!m || !name) {
        tg__null_arg(op);
        if (!c->parent) tg_module_free(c);
        return NULL;
    }
    return add_child(op, m, name, c);
}

tg_module *tg_module_append(tg_module *m, tg_module *c) {
    const char *op = "module_append";
    if (!m || !c) {
        tg__null_arg(op);
        if (c && !c->parent) tg_module_free(c);
        return NULL;
    }
    char name[16];
    snprintf(name, sizeof name, "%d", m->n_children);
    return add_child(op, m, name, c);
}

/* ---- Children and lookups by name ------------------------------------------------------- */

int tg_module_num_children(const tg_module *m) { return m ? m->n_children : 0; }

tg_module *tg_module_child_at(const tg_module *m, int i, const char **name) {
    if (name) *name = NULL;
    if (!m) {
        tg__null_arg("module_child_at");
        return NULL;
    }
    if (i < 0 || i >= m->n_children) {
        tg__error(TG_ERR_VALUE, "module_child_at: index %d is out of range for a %s of %d children",
                  i, m->cls->name, m->n_children);
        return NULL;
    }
    if (name) *name = m->children[i].name;
    return m->children[i].module;
}

/* The module that holds the last segment of a dotted path, and in *last
 * that segment; NULL when a child on the way is missing. */
static const tg_module *walk_path(const tg_module *m, const char *path, const char **last) {
    const char *dot;
    while (m && (dot = strchr(path, '.'))) {
        m = find_child(m, path, (size_t)(dot - path));
        path = dot + 1;
    }
    *last = path;
    return m;
}

tg_module *tg_module_child(const tg_module *m, const char *path) {
    if (!m || !path) {
        tg__null_arg("module_child");
        return NULL;
    }
    const char *last;
    const tg_module *holder = walk_path(m, path, &last);
    tg_module *c = holder ? find_child(holder, last, strlen(last)) : NULL;
    if (!c) tg__error(TG_ERR_VALUE, "module_child: %s has no child \"%s\"", m->cls->name, path);
    return c;
}

static tg_tensor *lookup(const char *op, const tg_module *m, bool buffer, const char *name) {
    if (!m || !name) {
        tg__null_arg(op);
        return NULL;
    }
    const char *last;
    const tg_module *holder = walk_path(m, name, &last);
    tg_tensor *t = !holder  ? NULL
                   : buffer ? find_entry(holder->buffers, holder->n_buffers, last, strlen(last))
                            : find_entry(holder->params, holder->n_params, last, strlen(last));
    if (!t)
        tg__error(TG_ERR_VALUE, "%s: %s has no %s '%s'", op, m->cls->name,
                  buffer ? "buffer" : "parameter", name);
    return t;
}

tg_tensor *tg_module_parameter(const tg_module *m, const char *name) {
    return lookup("module_parameter", m, false, name);
}

tg_tensor *tg_module_buffer(const tg_module *m, const char *name) {
    return lookup("module_buffer", m, true, name);
}

/* ---- The tree's lists ------------------------------------------------------------------- */

/* The names on the way down to a module, innermost last. */
typedef struct prefix {
    const struct prefix *up;
    const char *name;
} prefix;

static size_t prefix_length(const prefix *p) {
    size_t n = 0;
    for (; p; p = p->up) n += strlen(p->name) + 1;
    return n;
}

static char *write_prefix(char *out, const prefix *p) {
    if (!p) return out;
    out = write_prefix(out, p->up);
    size_t n = strlen(p->name);
    memcpy(out, p->name, n);
    out[n] = '.';
    return out + n + 1;
}

/* Goes over m's tree in state_dict order: counting entries and characters
 * when l is NULL, filling l's arrays and the names at *text otherwise. */
typedef struct walk {
    lists *l;
    char *text;
    int n_params, n_buffers;
    size_t chars;
} walk;

static void walk_entries(walk *w, const prefix *p, const entry *e, int n, bool buffer) {
    for (int i = 0; i < n; i++) {
        size_t len = prefix_length(p) + strlen(e[i].name) + 1;
        if (buffer)
            w->n_buffers++;
        else
            w->n_params++;
        w->chars += len;
        if (!w->l) continue;
        char *name = w->text;
        strcpy(write_prefix(name, p), e[i].name);
        w->text += len;
        tg_named_tensor nt = {name, e[i].tensor};
        w->l->state[w->l->n_state++] = nt;
        if (buffer) {
            w->l->buffers[w->l->n_buffers++] = nt;
        } else {
            w->l->param_tensors[w->l->n_params] = e[i].tensor;
            w->l->params[w->l->n_params++] = nt;
        }
    }
}

static void walk_tree(walk *w, const tg_module *m, const prefix *p) {
    walk_entries(w, p, m->params, m->n_params, false);
    walk_entries(w, p, m->buffers, m->n_buffers, true);
    for (int i = 0; i < m->n_children; i++)
        walk_tree(w, m->children[i].module, &(prefix){p, m->children[i].name});
}

/* m's lists, rebuilt when something was added since; NULL when out of memory. */
static const lists *lists_of(const tg_module *cm) {
    tg_module *m = (tg_module *)cm; /* the lists are a cache: m itself is not changed */
    if (m->lists && !m->stale) return m->lists;
    walk count = {0};
    walk_tree(&count, m, NULL);
    int n = count.n_params + count.n_buffers;
    size_t named = sizeof(tg_named_tensor) * (size_t)(2 * n);
    size_t tensors = sizeof(tg_tensor *) * (size_t)(count.n_params + 1);
    lists *l = tg__alloc(sizeof *l + named + tensors + count.chars, m->cls->name);
    if (!l) return NULL;
    *l = (lists){0};
    l->state = (tg_named_tensor *)(l + 1);
    l->params = l->state + n;
    l->buffers = l->params + count.n_params;
    l->param_tensors = (tg_tensor **)(l->buffers + count.n_buffers);
    l->param_tensors[count.n_params] = NULL;
    walk fill = {.l = l, .text = (char *)(l->param_tensors + count.n_params + 1)};
    walk_tree(&fill, m, NULL);
    tg__free(m->lists);
    m->lists = l;
    m->stale = false;
    return l;
}

/* m's lists, or NULL with an error (m NULL, or out of memory). */
static const lists *lists_or_error(const char *op, const tg_module *m) {
    if (!m) tg__null_arg(op);
    return m ? lists_of(m) : NULL;
}

const tg_named_tensor *tg_module_parameters(const tg_module *m, int *n) {
    const lists *l = lists_or_error("module_parameters", m);
    if (n) *n = l ? l->n_params : 0;
    return l ? l->params : NULL;
}

tg_tensor *const *tg_module_parameter_tensors(const tg_module *m, int *n) {
    const lists *l = lists_or_error("module_parameter_tensors", m);
    if (n) *n = l ? l->n_params : 0;
    return l ? l->param_tensors : NULL;
}

const tg_named_tensor *tg_module_buffers(const tg_module *m, int *n) {
    const lists *l = lists_or_error("module_buffers", m);
    if (n) *n = l ? l->n_buffers : 0;
    return l ? l->buffers : NULL;
}

const tg_named_tensor *tg_module_state_dict(const tg_module *m, int *n) {
    const lists *l = lists_or_error("module_state_dict", m);
    if (n) *n = l ? l->n_state : 0;
    return l ? l->state : NULL;
}

int64_t tg_module_num_elements(const tg_module *m) {
    int64_t total = 0;
    for (int i = 0; m && i < m->n_params; i++) total += m->params[i].tensor->numel;
    for (int i = 0; m && i < m->n_children; i++)
        total += tg_module_num_elements(m->children[i].module);
    return total;
}

void tg_module_zero_grad(tg_module *m, tg_zero_grad_mode mode) {
    for (int i = 0; m && i < m->n_params; i++) {
        if (mode != TG_GRAD_TO_ZERO)
            tg_clear_grad(m->params[i].tensor);
        else
            tg_zero_grad(m->params[i].tensor);
    }
    for (int i = 0; m && i < m->n_children; i++) tg_module_zero_grad(m->children[i].module, mode);
}

int tg_module_save(const tg_module *m, const char *path) {
    if (!m || !path) {
        tg__null_arg("module_save");
        return -1;
    }
    const lists *l = lists_of(m);
    char *description = l ? tg_module_describe(m) : NULL;
    if (!description) return -1;
    int rc = tg_save_safetensors_with_metadata(
        path, l->n_state, l->state, 1,
        &(tg_metadata_entry){.key = TG_MODULE_METADATA_KEY, .value = description});
    free(description);
    return rc;
}

int tg_module_load(tg_module *m, const char *path) {
    if (!m || !path) {
        tg__null_arg("module_load");
        return -1;
    }
    const lists *l = lists_of(m);
    return l ? tg_load_safetensors(path, l->n_state, l->state) : -1;
}

/* ---- Forward, train and eval ----------------------------------------------------------- */

tg_tensor *tg_module_forward(tg_module *m, tg_tensor *x) {
    if (!m || !x) {
        tg__null_arg(m ? m->cls->name : "module_forward");
        return NULL;
    }
    if (!m->cls->forward) { /* PyTorch's words */
        tg__error(TG_ERR_VALUE, "%s: Module [%s] is missing the required \"forward\" function",
                  m->cls->name, m->cls->name);
        return NULL;
    }
    tg_tensor *y = m->cls->forward(m, x);
    if (!y && tg_last_status() == TG_OK)
        tg__error(TG_ERR_VALUE, "%s: forward returned NULL and recorded no error", m->cls->name);
    return y;
}

const char *tg_module_name(const tg_module *m) { return m ? m->cls->name : NULL; }

const tg_module_class *tg__module_class(const tg_module *m) { return m->cls; }

void tg_module_train(tg_module *m, tg_mode mode) {
    if (!m) return;
    m->training = mode != TG_EVAL;
    for (int c = 0; c < m->n_children; c++) tg_module_train(m->children[c].module, mode);
}

bool tg_module_is_training(const tg_module *m) { return m && m->training; }

/* ---- Printing -------------------------------------------------------------------------- */

void tg__text_append_n(tg__text *t, const char *s, size_t n) {
    if (t->failed) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) cap *= 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            free(t->s);
            *t = (tg__text){.failed = true};
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

void tg__text_append(tg__text *t, const char *s) { tg__text_append_n(t, s, strlen(s)); }

/* A line break followed by two spaces per level, as PyTorch's _addindent. */
static void newline(tg__text *t, int depth) {
    tg__text_append(t, "\n");
    for (int i = 0; i < depth; i++) tg__text_append(t, "  ");
}

/* The class's extra_repr in a malloc'ed string ("" without one), or NULL
 * with an error. */
static char *extra_repr(const tg_module *m) {
    char small[256] = "";
    int n = m->cls->extra_repr ? m->cls->extra_repr(m, small, sizeof small) : 0;
    if (n < 0) {
        tg__error(TG_ERR_VALUE, "module_repr: the extra_repr of %s failed", m->cls->name);
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        tg__error(TG_ERR_NOMEM, "module_repr: out of memory");
        return NULL;
    }
    if ((size_t)n < sizeof small) {
        memcpy(s, small, (size_t)n + 1);
    } else if (m->cls->extra_repr(m, s, (size_t)n + 1) != n) {
        tg__error(TG_ERR_VALUE, "module_repr: the extra_repr of %s gave two lengths", m->cls->name);
        free(s);
        return NULL;
    }
    return s;
}

/* PyTorch's Module.__repr__: the extra_repr alone when it is one line and
 * there are no children; otherwise one line each for the extra_repr's
 * lines and then the children, "(name): child", indented one level. */
static bool write_repr(tg__text *t, const tg_module *m, int depth) {
    char *extra = extra_repr(m);
    if (!extra) return false;
    tg__text_append(t, m->cls->name);
    tg__text_append(t, "(");
    bool one_line = !strchr(extra, '\n');
    if (*extra && one_line && !m->n_children) {
        tg__text_append(t, extra);
    } else if (*extra || m->n_children) {
        const char *line = extra;
        while (*extra) { /* Python's extra.split("\n") */
            const char *end = strchr(line, '\n');
            newline(t, depth + 1);
            tg__text_append_n(t, line, end ? (size_t)(end - line) : strlen(line));
            if (!end) break;
            line = end + 1;
        }
        bool ok = true;
        for (int i = 0; ok && i < m->n_children; i++) {
            newline(t, depth + 1);
            tg__text_append(t, "(");
            tg__text_append(t, m->children[i].name);
            tg__text_append(t, "): ");
            ok = write_repr(t, m->children[i].module, depth + 1);
        }
        if (!ok) {
            free(extra);
            return false;
        }
        newline(t, depth);
    }
    tg__text_append(t, ")");
    free(extra);
    return true;
}

char *tg_module_repr(const tg_module *m) {
    if (!m) {
        tg__null_arg("module_repr");
        return NULL;
    }
    tg__text t = {0};
    if (!write_repr(&t, m, 0)) {
        free(t.s);
        return NULL;
    }
    if (t.failed) tg__error(TG_ERR_NOMEM, "module_repr: out of memory");
    return t.s;
}

int tg_module_print(const tg_module *m, FILE *out) {
    if (!m || !out) {
        tg__null_arg("module_print");
        return -1;
    }
    char *s = tg_module_repr(m);
    if (!s) return -1;
    int rc = fprintf(out, "%s\n", s) < 0 ? -1 : 0;
    free(s);
    if (rc) tg__error(TG_ERR_IO, "module_print: write failed");
    return rc;
}

/* The summary's columns: name, shape, elements; widths fit the longest. */
typedef struct columns {
    int name, shape, count;
} columns;

static bool summary_row(FILE *out, const columns *w, const char *name, const char *shape,
                        const char *count) {
    return fprintf(out, "%-*s  %-*s  %*s\n", w->name, name, w->shape, shape, w->count, count) >= 0;
}

/* A title row, then a row for each of the n tensors of list. */
static bool summary_rows(FILE *out, const columns *w, const char *title, int n,
                         const tg_named_tensor *list) {
    bool ok = summary_row(out, w, title, "shape", "elements");
    for (int i = 0; ok && i < n; i++) {
        char shape[TG_SHAPE_STR_MAX], count[24];
        const tg_tensor *t = list[i].tensor;
        tg__shape_str(shape, sizeof shape, t->ndim, t->shape);
        snprintf(count, sizeof count, "%lld", (long long)t->numel);
        ok = summary_row(out, w, list[i].name, shape, count);
    }
    return ok;
}

static const char *plural(int64_t n) { return n == 1 ? "" : "s"; }

int tg_module_summary(const tg_module *m, FILE *out) {
    if (!m || !out) {
        tg__null_arg("module_summary");
        return -1;
    }
    const lists *l = lists_of(m);
    if (!l) return -1;
    columns w = {(int)strlen("parameter"), (int)strlen("shape"), (int)strlen("elements")};
    int64_t total = 0, trainable = 0, buffered = 0;
    for (int i = 0; i < l->n_state; i++) {
        const tg_tensor *t = l->state[i].tensor;
        char shape[TG_SHAPE_STR_MAX], count[24];
        int len = (int)strlen(l->state[i].name);
        int shape_len = (int)strlen(tg__shape_str(shape, sizeof shape, t->ndim, t->shape));
        int count_len = snprintf(count, sizeof count, "%lld", (long long)t->numel);
        w.name = len > w.name ? len : w.name;
        w.shape = shape_len > w.shape ? shape_len : w.shape;
        w.count = count_len > w.count ? count_len : w.count;
    }
    for (int i = 0; i < l->n_params; i++) {
        total += l->params[i].tensor->numel;
        trainable += l->params[i].tensor->requires_grad ? l->params[i].tensor->numel : 0;
    }
    for (int i = 0; i < l->n_buffers; i++) buffered += l->buffers[i].tensor->numel;
    bool ok = summary_rows(out, &w, "parameter", l->n_params, l->params) &&
              (!l->n_buffers || summary_rows(out, &w, "buffer", l->n_buffers, l->buffers));
    if (ok)
        ok = fprintf(out, "%lld parameter%s in %d tensor%s, %lld trainable\n", (long long)total,
                     plural(total), l->n_params, plural(l->n_params), (long long)trainable) >= 0;
    if (ok && l->n_buffers)
        ok = fprintf(out, "%lld buffer element%s in %d tensor%s\n", (long long)buffered,
                     plural(buffered), l->n_buffers, plural(l->n_buffers)) >= 0;
    if (!ok) tg__error(TG_ERR_IO, "module_summary: write failed");
    return ok ? 0 : -1;
}
