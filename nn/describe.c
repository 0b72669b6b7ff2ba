/* nn/describe.c - the module tree as its constructors were called, written
 * as JSON (tg_module_describe, which tg_module_save puts into a safetensors
 * file's metadata), from each class's describe hook and the
 * tg_module_arg_* calls it makes. tapegrad/nn.h ("Self-describing files")
 * gives the format; nn/checkpoint.c reads it back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/file.h"
#include "internal/tensor.h"
#include "nn_internal.h"

/* ---- Writing ---------------------------------------------------------------------- */

struct tg_module_args {
    tg__text *t;
    const char *type; /* the class's name, for messages */
    int n;            /* arguments written */
    char **names;     /* theirs (malloc'ed), to refuse one given twice */
    bool children;
    bool failed;
};

/* s as a JSON string, as Python's json.dumps(s, ensure_ascii=False)
 * writes it (s is UTF-8). */
static void write_string(tg__text *t, const char *s) {
    tg__text_append(t, "\"");
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        tg__text_append_n(t, run, (size_t)(s - run));
        run = s + 1;
        char esc[8];
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                             : NULL;
        if (!short_form) snprintf(esc, sizeof esc, "\\u%04x", c);
        tg__text_append(t, short_form ? short_form : esc);
    }
    tg__text_append_n(t, run, (size_t)(s - run));
    tg__text_append(t, "\"");
}

/* Starts the argument name: checks args and name, writes the separator
 * and the key. False (and the description fails) on a bad call. */
static bool begin_arg(tg_module_args *a, const char *op, const char *name) {
    if (!a || !name) {
        tg__null_arg(op);
        if (a) a->failed = true;
        return false;
    }
    if (a->failed) return false;
    const char *why = !*name               ? "an argument's name can't be empty"
                      : !tg__is_utf8(name) ? "an argument's name is not valid UTF-8"
                                           : NULL;
    for (int i = 0; !why && i < a->n; i++)
        if (strcmp(a->names[i], name) == 0) why = "the argument is given twice";
    char **grown = why ? NULL : realloc(a->names, sizeof *a->names * (size_t)(a->n + 1));
    if (grown) a->names = grown;
    char *copy = grown ? strdup(name) : NULL;
    if (why || !copy) {
        if (why)
            tg__error(TG_ERR_VALUE, "%s: %s: %s ('%s')", op, a->type, why,
                      tg__is_utf8(name) ? name : "?");
        else
            tg__error(TG_ERR_NOMEM, "%s: out of memory", op);
        a->failed = true;
        return false;
    }
    a->names[a->n] = copy;
    if (a->n++) tg__text_append(a->t, ",");
    write_string(a->t, name);
    tg__text_append(a->t, ":");
    return true;
}

int tg_module_arg_int(tg_module_args *a, const char *name, int64_t value) {
    if (!begin_arg(a, "module_arg_int", name)) return -1;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)value);
    tg__text_append(a->t, buf);
    return 0;
}

int tg_module_arg_double(tg_module_args *a, const char *name, double value) {
    const char *op = "module_arg_double";
    if (a && name && !a->failed && !isfinite(value)) {
        tg__error(TG_ERR_VALUE, "%s: %s: '%s' is %s; a description holds finite numbers only", op,
                  a->type, name,
                  isnan(value) ? "nan"
                  : value > 0  ? "inf"
                               : "-inf");
        a->failed = true;
        return -1;
    }
    if (!begin_arg(a, op, name)) return -1;
    char buf[40];
    tg__python_float(buf, sizeof buf, value);
    tg__text_append(a->t, buf);
    return 0;
}

int tg_module_arg_bool(tg_module_args *a, const char *name, bool value) {
    if (!begin_arg(a, "module_arg_bool", name)) return -1;
    tg__text_append(a->t, value ? "true" : "false");
    return 0;
}

int tg_module_arg_string(tg_module_args *a, const char *name, const char *value) {
    const char *op = "module_arg_string";
    if (a && !value) {
        tg__null_arg(op);
        a->failed = true;
        return -1;
    }
    if (a && name && !a->failed && !tg__is_utf8(value)) {
        tg__error(TG_ERR_VALUE, "%s: %s: the value of '%s' is not valid UTF-8", op, a->type, name);
        a->failed = true;
        return -1;
    }
    if (!begin_arg(a, op, name)) return -1;
    write_string(a->t, value);
    return 0;
}

int tg_module_arg_ints(tg_module_args *a, const char *name, int n, const int64_t *values) {
    const char *op = "module_arg_ints";
    if (a && ((n > 0 && !values) || n < 0)) {
        if (n < 0)
            tg__error(TG_ERR_VALUE, "%s: %s: %d values", op, a->type, n);
        else
            tg__null_arg(op);
        a->failed = true;
        return -1;
    }
    if (!begin_arg(a, op, name)) return -1;
    tg__text_append(a->t, "[");
    for (int i = 0; i < n; i++) {
        char buf[24];
        snprintf(buf, sizeof buf, i ? ",%lld" : "%lld", (long long)values[i]);
        tg__text_append(a->t, buf);
    }
    tg__text_append(a->t, "]");
    return 0;
}

int tg_module_arg_null(tg_module_args *a, const char *name) {
    if (!begin_arg(a, "module_arg_null", name)) return -1;
    tg__text_append(a->t, "null");
    return 0;
}

int tg_module_arg_children(tg_module_args *a) {
    if (!a) {
        tg__null_arg("module_arg_children");
        return -1;
    }
    a->children = true;
    return a->failed ? -1 : 0;
}

/* Runs m's describe hook into t as the object of "args"; returns whether
 * the children are to be described, in *children. */
static bool describe_args(tg__text *t, const tg_module *m, bool *children) {
    const tg_module_class *cls = tg__module_class(m);
    tg_module_args a = {.t = t, .type = cls->name};
    tg__text_append(t, ",\"args\":{");
    int rc = cls->describe(m, &a);
    for (int i = 0; i < a.n; i++) free(a.names[i]);
    free(a.names);
    tg__text_append(t, "}");
    *children = a.children;
    if (rc == 0 && !a.failed) return true;
    if (tg_last_status() == TG_OK)
        tg__error(TG_ERR_VALUE,
                  "module_describe: the describe hook of %s failed and recorded no error",
                  cls->name);
    return false;
}

static bool describe_node(tg__text *t, const tg_module *m) {
    const tg_module_class *cls = tg__module_class(m);
    if (!tg__is_utf8(cls->name)) {
        tg__error(TG_ERR_VALUE, "module_describe: a class name is not valid UTF-8");
        return false;
    }
    tg__text_append(t, "{\"type\":");
    write_string(t, cls->name);
    bool children = false;
    if (cls->describe && !describe_args(t, m, &children)) return false;
    if (children) {
        tg__text_append(t, ",\"children\":[");
        for (int i = 0; i < tg_module_num_children(m); i++) {
            const char *name;
            const tg_module *c = tg_module_child_at(m, i, &name);
            if (!tg__is_utf8(name)) {
                tg__error(TG_ERR_VALUE,
                          "module_describe: the name of child %d of a %s is not valid UTF-8", i,
                          cls->name);
                return false;
            }
            tg__text_append(t, i ? ",[" : "[");
            write_string(t, name);
            tg__text_append(t, ",");
            if (!describe_node(t, c)) return false;
            tg__text_append(t, "]");
        }
        tg__text_append(t, "]");
    }
    tg__text_append(t, "}");
    return true;
}

char *tg_module_describe(const tg_module *m) {
    if (!m) {
        tg__null_arg("module_describe");
        return NULL;
    }
    tg__text t = {0};
    if (!describe_node(&t, m)) {
        free(t.s);
        return NULL;
    }
    if (t.failed) tg__error(TG_ERR_NOMEM, "module_describe: out of memory");
    return t.s;
}
