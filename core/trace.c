/* core/trace.c - a readable log of backward: for each node, in the order it
 * runs, the gradient that arrives, the local derivative, and what each input
 * receives. On the worked example it reads as the hand derivation. */
#include <stdlib.h>
#include <string.h>

#include "internal/tape.h"
#include "tapegrad/graph.h"

static TG_THREAD_LOCAL FILE *trace_out;
static TG_THREAD_LOCAL bool trace_set;

void tg_set_trace(FILE *out) {
    trace_out = out;
    trace_set = true;
}

FILE *tg__trace_stream(void) {
    if (!trace_set) { /* TG_TRACE=1 turns it on until tg_set_trace says otherwise */
        const char *env = getenv("TG_TRACE");
        trace_out = env && strcmp(env, "1") == 0 ? stderr : NULL;
        trace_set = true;
    }
    return trace_out;
}

/* "[0.25, 0.25]" for a small tensor, else its shape. */
static void write_tensor(FILE *out, const tg_tensor *t) {
    char buf[TG_SHAPE_STR_MAX];
    if (t->numel > TG_GRAPH_MAX_VALUES) {
        fprintf(out, "shape %s", tg__shape_str(buf, sizeof buf, t->ndim, t->shape));
        return;
    }
    tg__write_values(out, t, 6);
}

/* What input i of a node is called: its name, or the op that made it. */
static void write_input_label(FILE *out, const tg__node *n, int i) {
    const tg_tensor *leaf = n->next[i].leaf;
    const tg__node *from = n->next[i].node;
    const tg_tensor *t = leaf ? leaf : from ? from->output : NULL;
    if (t && t->name)
        fprintf(out, "%s", t->name);
    else if (leaf)
        fprintf(out, "leaf %d", i);
    else
        fprintf(out, "output of %s", from->def->name);
}

void tg__trace_node(FILE *out, size_t step, const tg__node *n, const tg_tensor *grad_out,
                    tg_tensor *const *grads) {
    const char *name = n->output && n->output->name ? n->output->name : NULL;
    fprintf(out, "[%zu] %s%s%s%s\n", step, n->def->name, name ? " (makes " : "", name ? name : "",
            name ? ")" : "");
    fprintf(out, "    gradient in:  ");
    write_tensor(out, grad_out);
    fputc('\n', out);
    fprintf(out, "    local:        %s\n", n->def->local);
    for (int i = 0; i < n->n_inputs; i++) {
        if (!grads[i]) continue;
        fprintf(out, "    to ");
        write_input_label(out, n, i);
        fprintf(out, ": ");
        write_tensor(out, grads[i]);
        fputc('\n', out);
    }
}
