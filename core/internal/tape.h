/* core/internal/tape.h - the tape: nodes, how an op records itself and
 * what it keeps for its backward, and the traces and pictures of it. Only
 * core/ and ops/ see it. */
#ifndef TAPEGRAD_INTERNAL_TAPE_H
#define TAPEGRAD_INTERNAL_TAPE_H

#include "internal/tensor.h"
#include "tapegrad/autograd.h"

/* ---- The tape (core/autograd.c) --------------------------------------------- */
#define TG_NODE_MAX_INPUTS 4
#define TG_NODE_MAX_SAVED 4
#define TG_NODE_STATE_MAX (8 * (2 * TG_MAX_DIMS + 4))

/* Computes the gradient of each input from the gradient of the output.
 * grad_inputs[i] is wanted when needs[i] is true; the backward sets it to a
 * new tensor of input i's shape and dtype (pooled or owned: the engine
 * retains what it keeps) or leaves it NULL for a zero gradient, or for one
 * it added into node->grad_into[i] itself. Returns 0, or -1 with an error
 * recorded. */
typedef int (*tg__backward_fn)(tg__node *node, tg_tensor *grad_out, tg_tensor **grad_inputs,
                               const bool *needs);

typedef struct tg__op_def {
    const char *name; /* as PyTorch names the node: "MulBackward0" */
    tg__backward_fn backward;
    /* The local derivative in the chain rule, in words, for backward
     * traces: "d(a*b)/da = b, d(a*b)/db = a". */
    const char *local;
} tg__op_def;

/* Where the gradient of one input goes: to the node that made it, or into
 * the .grad of a leaf that requires grad, or nowhere. */
typedef struct tg__edge {
    tg__node *node;
    tg_tensor *leaf;
} tg__edge;

struct tg__node {
    int refcount;
    const tg__op_def *def;
    uint64_t seq; /* place on the tape: a node is always after its inputs */
    int n_inputs;
    tg__edge next[TG_NODE_MAX_INPUTS];
    /* Inputs' geometry, for gradients of their shape. */
    tg_dtype in_dtype[TG_NODE_MAX_INPUTS];
    int in_ndim[TG_NODE_MAX_INPUTS];
    int64_t in_shape[TG_NODE_MAX_INPUTS][TG_MAX_DIMS];
    int64_t in_strides[TG_NODE_MAX_INPUTS][TG_MAX_DIMS];
    int64_t in_offset[TG_NODE_MAX_INPUTS];
    /* Output geometry, and the output itself while it lives: a weak
     * pointer that the output clears when it is freed (for pictures and
     * traces of the graph, never for computing). */
    tg_dtype out_dtype;
    int out_ndim;
    int64_t out_shape[TG_MAX_DIMS];
    tg_tensor *output;
    /* Tensors the backward needs, with their versions when saved. Each op
     * names its slots (an enum of its own); a slot is NULL when the op did
     * not need that tensor this time. */
    int n_saved;
    tg_tensor *saved[TG_NODE_MAX_SAVED];
    uint64_t saved_version[TG_NODE_MAX_SAVED];
    bool saved_freed; /* released by a backward without retain_graph */
    /* The op's number in state stands for a tensor PyTorch saves (the
     * number of x * 2, which it wraps in a tensor): a backward without
     * retain_graph frees it as it frees saved tensors. */
    bool saves_number;
    /* The op's own numbers (dims, parameters), as a struct of the op's own
     * type: written by tg__finish, read with TG__NODE_STATE. */
    _Alignas(8) unsigned char state[TG_NODE_STATE_MAX];
    /* Used by the engine during one backward. */
    tg_tensor *grad_acc;
    uint64_t visit_mark;
    /* Set by the engine while the backward runs: the .grad of the leaf that
     * input i's gradient goes to, offered to be added into in place (it is
     * contiguous, of input i's shape, and shares no memory with grad_acc
     * or the saved tensors), or NULL. A backward that adds its gradient
     * there leaves grad_inputs[i] NULL, as for a zero gradient. */
    tg_tensor *grad_into[TG_NODE_MAX_INPUTS];
};

/* For a backward writing into node->grad_into[i]: the beta of its product,
 * 1 to add to the grad's values, 0 when a zero_grad left them pending
 * (stale values that read as zeros, to be written over); then, once it has
 * written, tg__grad_into_written(node, i), which marks the values current. */
double tg__grad_into_beta(const tg__node *node, int i);
void tg__grad_into_written(tg__node *node, int i);

/* What an op keeps for its backward: tensors in the slots it names (NULL
 * for one it does not need this time) and a struct of numbers, copied into
 * the node. Built in the call's own arguments with the macros below (their
 * arrays are compound literals, which live only as long as the enclosing
 * block):
 *     tg__finish(out, &div_def, TG__TENSORS(a, b), TG__SAVE(a, b))
 *     tg__finish(out, &transpose_def, TG__TENSORS(t), TG__STATE(&dims))   */
typedef struct tg__saves {
    int n_tensors;
    tg_tensor *const *tensors;
    const void *state;
    size_t state_size;
    bool number; /* the state holds a number saved as a tensor (tg__node.saves_number) */
} tg__saves;
#define TG__TENSORS(...)                                                                 \
    (int)(sizeof((tg_tensor *[]){__VA_ARGS__}) / sizeof(tg_tensor *)), (tg_tensor *[]) { \
        __VA_ARGS__                                                                      \
    }
#define TG__NOTHING ((tg__saves){0, NULL, NULL, 0, false})
#define TG__SAVE(...) ((tg__saves){TG__TENSORS(__VA_ARGS__), NULL, 0, false})
#define TG__STATE(st) ((tg__saves){0, NULL, (st), sizeof *(st), false})
#define TG__SAVE_STATE(st, ...) ((tg__saves){TG__TENSORS(__VA_ARGS__), (st), sizeof *(st), false})

/* The last step of every op, and the only one: when grad mode is on and
 * some input requires grad, records out (owned by the caller) on the tape
 * as made by def from inputs and keeps `saves` in its node; then hands out
 * to the pool. Returns out, or NULL (out released, nothing leaked) when out
 * of memory. */
tg_tensor *tg__finish(tg_tensor *out, const tg__op_def *def, int n_inputs, tg_tensor *const *inputs,
                      tg__saves saves);
/* The state an op kept, as its own struct type (no larger than the node's
 * room for it, checked when compiled). */
#define TG__NODE_STATE(node, type)                \
    ((const type *)(const void *)((node)->state + \
                                  0 * sizeof(char[sizeof(type) <= TG_NODE_STATE_MAX ? 1 : -1])))
/* The op a node was made by, for ops whose definition struct starts with
 * their tg__op_def (the op's kernels and names follow it). */
#define TG__OP_OF(node, type) ((const type *)(const void *)(node)->def)
void tg__node_release(tg__node *node);
/* The nodes reachable from root (which may be NULL), in the order backward
 * runs them: decreasing sequence numbers. An array of *n nodes (borrowed)
 * to free with tg__tape_free, or NULL when out of memory. */
tg__node **tg__tape_from(tg__node *root, size_t *n);
void tg__tape_free(tg__node **tape, size_t n);
/* True when recording would happen for these inputs. */
bool tg__should_record(int n, tg_tensor *const *inputs);
/* True when a gradient would flow to t (grad mode on, t requires grad): an
 * op saves what that gradient needs only then. */
static inline bool tg__needs_grad(const tg_tensor *t) {
    return tg__should_record(1, (tg_tensor *const *)&t);
}
/* In-place ops call this before writing into self. */
bool tg__check_inplace(const char *op, tg_tensor *self, tg_tensor *other);

/* ---- Pictures of the tape (core/graph.c) ------------------------------------------ */
/* Writes a small tensor's elements (at most TG_GRAPH_MAX_VALUES), row-major
 * and flat, with `digits` significant digits: "[1, 2.5, -3]". */
void tg__write_values(FILE *out, const tg_tensor *t, int digits);

/* ---- Traces of backward (core/trace.c) ------------------------------------------ */
/* The stream set by tg_set_trace (or TG_TRACE=1), or NULL when off. */
FILE *tg__trace_stream(void);
/* One node's lines: the op, the gradient in, its local derivative, and the
 * gradients it hands to its inputs. */
void tg__trace_node(FILE *out, size_t step, const tg__node *n, const tg_tensor *grad_out,
                    tg_tensor *const *grads);

#endif
