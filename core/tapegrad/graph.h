/* tapegrad/graph.h - showing the tape: Graphviz pictures of a graph and a
 * trace of backward that prints the chain rule as it is applied. */
#ifndef TAPEGRAD_GRAPH_H
#define TAPEGRAD_GRAPH_H

#include <stdio.h>

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most values a picture or a trace shows for one tensor. */
#define TG_GRAPH_MAX_VALUES 16

typedef struct tg_graph_options {
    /* Tensors of at most this many elements show their values; 0 means
     * TG_GRAPH_MAX_VALUES (the default), -1 none. */
    int max_values;
    bool hide_grad; /* do not show leaves' gradients */
} tg_graph_options;

/* Writes the graph that produced root as Graphviz DOT: a box per tensor
 * (name, shape, dtype; values and gradient for small tensors), an ellipse
 * per op named as PyTorch names it ("MulBackward0"), arrows along the data
 * flow. A leaf gives a single box. Render with `dot -Tpng`. options may be
 * NULL for the defaults. Returns 0 or -1. */
TG_API int tg_graph_dot(const tg_tensor *root, FILE *out, const tg_graph_options *options);
TG_API int tg_graph_dot_file(const tg_tensor *root, const char *path,
                             const tg_graph_options *options);

/* While a trace stream is set, tg_backward writes to it, for each node in
 * the order it runs, the op, the gradient coming in, the local derivative
 * it applies and the gradient it passes to each input (values for small
 * tensors). NULL turns the trace off. Setting the environment variable
 * TG_TRACE=1 traces to stderr from the start. Per thread. */
TG_API void tg_set_trace(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
