/* core/graph.c - the tape as a Graphviz picture, in the manner of
 * micrograd's draw_dot: a box per tensor (name, shape, dtype, and for small
 * tensors the values and the gradient), an ellipse per op named as PyTorch
 * names its node, arrows in the direction data flows. */
#include <errno.h>
#include <string.h>

#include "internal/tape.h"
#include "tapegrad/graph.h"

void tg__write_values(FILE *out, const tg_tensor *t, int digits) {
    double v[TG_GRAPH_MAX_VALUES];
    tg_to_doubles(t, v);
    fputc('[', out);
    for (int64_t i = 0; i < t->numel; i++) fprintf(out, i ? ", %.*g" : "%.*g", digits, v[i]);
    fputc(']', out);
}

/* Writes a DOT-safe copy of a user's name. */
static void write_escaped(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        fputc(*s, out);
    }
}

/* The box of a tensor; t may be NULL for an output that was freed, when
 * only the node's record of its shape is left. */
static void write_tensor_box(FILE *out, const tg_graph_options *o, const char *id,
                             const tg_tensor *t, int ndim, const int64_t *shape, tg_dtype dtype) {
    char buf[TG_SHAPE_STR_MAX];
    fprintf(out, "  %s [shape=box, label=\"", id);
    if (t && t->name) {
        write_escaped(out, t->name);
        fputs("\\n", out);
    }
    fprintf(out, "%s %s", tg__shape_str(buf, sizeof buf, ndim, shape), tg_dtype_name(dtype));
    if (t && t->numel <= o->max_values) {
        fputs("\\ndata ", out);
        tg__write_values(out, t, 4);
        if (t->grad && !o->hide_grad) {
            fputs("\\ngrad ", out);
            tg__write_values(out, tg__grad_values((tg_tensor *)t), 4); /* values unchanged */
        }
    }
    fputs("\"];\n", out);
}

int tg_graph_dot(const tg_tensor *root, FILE *out, const tg_graph_options *options) {
    if (!root || !out) {
        tg__null_arg("graph_dot");
        return -1;
    }
    tg_graph_options o = options ? *options : (tg_graph_options){0};
    if (o.max_values == 0 || o.max_values > TG_GRAPH_MAX_VALUES) o.max_values = TG_GRAPH_MAX_VALUES;
    fputs("digraph tapegrad {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n", out);
    if (!root->grad_fn) { /* a leaf: one box, no tape */
        write_tensor_box(out, &o, "root", root, root->ndim, root->shape, root->dtype);
        fputs("}\n", out);
        return ferror(out) ? (tg__error(TG_ERR_IO, "graph_dot: write failed"), -1) : 0;
    }
    size_t n_nodes;
    tg__node **tape = tg__tape_from(root->grad_fn, &n_nodes);
    if (!tape) return -1;
    /* Ids are addresses: a node's output box is "t<node>", a leaf's "l<leaf>". */
    for (size_t k = 0; k < n_nodes; k++) {
        const tg__node *n = tape[k];
        char op_id[32], out_id[32];
        snprintf(op_id, sizeof op_id, "op%p", (const void *)n);
        snprintf(out_id, sizeof out_id, "t%p", (const void *)n);
        fprintf(out, "  %s [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=\"%s%s\"];\n",
                op_id, n->def->name, n->saved_freed ? "\\n(saved tensors freed)" : "");
        write_tensor_box(out, &o, out_id, n->output, n->out_ndim, n->out_shape, n->out_dtype);
        fprintf(out, "  %s -> %s;\n", op_id, out_id);
        for (int i = 0; i < n->n_inputs; i++) {
            char in_id[32];
            const tg_tensor *leaf = n->next[i].leaf;
            if (n->next[i].node) {
                snprintf(in_id, sizeof in_id, "t%p", (const void *)n->next[i].node);
            } else if (leaf) {
                snprintf(in_id, sizeof in_id, "l%p", (const void *)leaf);
                write_tensor_box(out, &o, in_id, leaf, leaf->ndim, leaf->shape, leaf->dtype);
            } else {
                continue; /* an input that needs no gradient is not on the tape */
            }
            fprintf(out, "  %s -> %s;\n", in_id, op_id);
        }
    }
    tg__tape_free(tape, n_nodes);
    fputs("}\n", out);
    if (ferror(out)) {
        tg__error(TG_ERR_IO, "graph_dot: write failed");
        return -1;
    }
    return 0;
}

int tg_graph_dot_file(const tg_tensor *root, const char *path, const tg_graph_options *options) {
    if (!root || !path) {
        tg__null_arg("graph_dot_file");
        return -1;
    }
    FILE *out = fopen(path, "w");
    if (!out) {
        tg__error(TG_ERR_IO, "graph_dot_file: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = tg_graph_dot(root, out, options);
    if (fclose(out) != 0 && rc == 0) {
        tg__error(TG_ERR_IO, "graph_dot_file: cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}
