/* core/autograd.c - the tape: recording nodes, and replaying them backwards.
 *
 * An op's result holds a reference to its node; a node holds references to
 * the nodes of its inputs (or to the leaves themselves) and to the tensors it
 * saved. Nodes never point at their outputs, so there are no cycles and
 * releasing the loss frees the whole graph. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal/kernel.h"
#include "internal/tape.h"

static TG_THREAD_LOCAL bool grad_enabled = true;
/* Shared by all threads so that sequence numbers never repeat. */
static _Atomic uint64_t next_seq = 1;
static _Atomic uint64_t next_visit_mark = 1;

bool tg_set_grad_enabled(bool enabled) {
    bool previous = grad_enabled;
    grad_enabled = enabled;
    return previous;
}

bool tg_is_grad_enabled(void) { return grad_enabled; }

/* ---- Tensor-side flags ----------------------------------------------------------- */

bool tg_requires_grad(const tg_tensor *t) { return t && t->requires_grad; }
bool tg_is_leaf(const tg_tensor *t) { return t && !t->grad_fn; }
const char *tg_grad_fn_name(const tg_tensor *t) {
    return t && t->grad_fn ? t->grad_fn->def->name : NULL;
}
/* Handing the pointer out ends lazy zeroing for t (see grad_zero_pending):
 * the caller may keep it and read the values after a later zero_grad. The
 * grad's values, as read, do not change, hence const. */
tg_tensor *tg_grad(const tg_tensor *t) {
    if (!t) return NULL;
    tg_tensor *self = (tg_tensor *)t;
    self->grad_handed_out = true;
    return tg__grad_values(self);
}

tg_tensor *tg__grad_values(tg_tensor *t) {
    if (t->grad_zero_pending) {
        tg__fill(t->grad, 0.0);
        t->grad_zero_pending = false;
    }
    return t->grad;
}

tg_tensor *tg_requires_grad_(tg_tensor *t, bool requires_grad) {
    if (!t) {
        tg__null_arg("requires_grad_");
        return NULL;
    }
    if (t->grad_fn && !requires_grad) {
        tg__error(TG_ERR_GRAPH,
                  "requires_grad_: only leaves can stop requiring grad; %s made this tensor "
                  "(use tg_detach)",
                  t->grad_fn->def->name);
        return NULL;
    }
    if (requires_grad && !tg_dtype_is_float(t->dtype)) {
        tg__error(TG_ERR_DTYPE,
                  "requires_grad_: only tensors of floating point dtype can require gradients "
                  "(this one is %s)",
                  tg_dtype_name(t->dtype));
        return NULL;
    }
    t->requires_grad = requires_grad;
    return t;
}

/* Lazily, unless the grad's pointer was handed out: the zeros cost a pass
 * over memory, which the next backward's products make unneeded. */
void tg_zero_grad(tg_tensor *t) {
    if (!t || !t->grad) return;
    if (t->grad_handed_out)
        tg__fill(t->grad, 0.0);
    else
        t->grad_zero_pending = true;
    t->grad->storage->version++;
}

void tg_clear_grad(tg_tensor *t) {
    if (!t) return;
    tg_release(t->grad);
    t->grad = NULL;
    t->grad_zero_pending = false;
}

/* ---- Recording ---------------------------------------------------------------------- */

bool tg__should_record(int n, tg_tensor *const *inputs) {
    if (!grad_enabled) return false;
    for (int i = 0; i < n; i++)
        if (inputs[i] && inputs[i]->requires_grad) return true;
    return false;
}

/* A new node for out, made by def from inputs; NULL when out of memory. */
static tg__node *record(tg_tensor *out, const tg__op_def *def, int n_inputs,
                        tg_tensor *const *inputs) {
    tg__node *node = tg__alloc_cached(TG_CACHE_NODE, sizeof *node, def->name);
    if (!node) return NULL;
    /* Zero except the geometry, of which only the dims in use are written
     * and read: the node is most of a small op's memory traffic. */
    memset(node, 0, offsetof(tg__node, in_shape));
    memset(&node->in_offset, 0, sizeof *node - offsetof(tg__node, in_offset));
    node->refcount = 1;
    node->def = def;
    node->seq = atomic_fetch_add(&next_seq, 1);
    node->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++) {
        tg_tensor *in = inputs[i];
        if (in->grad_fn) {
            node->next[i].node = in->grad_fn;
            in->grad_fn->refcount++;
        } else if (in->requires_grad) {
            node->next[i].leaf = tg_retain(in);
        }
        size_t dims = (size_t)in->ndim * sizeof *in->shape;
        node->in_dtype[i] = in->dtype;
        node->in_ndim[i] = in->ndim;
        memcpy(node->in_shape[i], in->shape, dims);
        memcpy(node->in_strides[i], in->strides, dims);
        node->in_offset[i] = in->offset;
    }
    node->out_dtype = out->dtype;
    node->out_ndim = out->ndim;
    memcpy(node->out_shape, out->shape, (size_t)out->ndim * sizeof *out->shape);
    node->output = out;
    out->requires_grad = true;
    out->grad_fn = node; /* the output owns the node's first reference */
    return node;
}

/* Keeps t (or NULL) in the node's next slot, retained; an alias when t is
 * the node's own output, so that no reference cycle forms. */
static bool save(tg__node *node, tg_tensor *t) {
    tg_tensor *kept = NULL;
    if (t && t->grad_fn == node)
        kept = tg__view_owned(node->def->name, t, t->ndim, t->shape, t->strides, t->offset);
    else if (t)
        kept = tg_retain(t);
    if (t && !kept) return false;
    node->saved[node->n_saved] = kept;
    node->saved_version[node->n_saved] = t ? t->storage->version : 0;
    node->n_saved++;
    return true;
}

tg_tensor *tg__finish(tg_tensor *out, const tg__op_def *def, int n_inputs, tg_tensor *const *inputs,
                      tg__saves saves) {
    /* An integer or bool result (argmax, a comparison) has no gradient. */
    if (tg_dtype_is_float(out->dtype) && tg__should_record(n_inputs, inputs)) {
        tg__node *node = record(out, def, n_inputs, inputs);
        bool ok = node != NULL;
        for (int i = 0; ok && i < saves.n_tensors; i++) ok = save(node, saves.tensors[i]);
        if (!ok) {
            tg_release(out); /* and with it the node and what it saved */
            return NULL;
        }
        if (saves.state_size) memcpy(node->state, saves.state, saves.state_size);
        node->saves_number = saves.number;
    }
    return tg__autorelease(out);
}

/* Freeing a long chain of nodes recursively could exhaust the stack, so
 * nodes whose count drops to zero are queued and freed in a loop. */
static TG_THREAD_LOCAL tg__node *free_queue;
static TG_THREAD_LOCAL bool freeing;

static void node_free(tg__node *node) {
    for (int i = 0; i < node->n_inputs; i++) {
        tg__node_release(node->next[i].node);
        tg_release(node->next[i].leaf);
    }
    for (int i = 0; i < node->n_saved; i++) tg_release(node->saved[i]);
    tg_release(node->grad_acc);
    tg__free_cached(TG_CACHE_NODE, node);
}

void tg__node_release(tg__node *node) {
    if (!node || --node->refcount > 0) return;
    /* A dead node's grad_acc slot is free: it links the queue. */
    node->grad_acc = (tg_tensor *)free_queue;
    free_queue = node;
    if (freeing) return;
    freeing = true;
    while (free_queue) {
        tg__node *n = free_queue;
        free_queue = (tg__node *)n->grad_acc;
        n->grad_acc = NULL;
        node_free(n);
    }
    freeing = false;
}

bool tg__check_inplace(const char *op, tg_tensor *self, tg_tensor *other) {
    if (!grad_enabled) return true;
    if (self->requires_grad && !self->grad_fn) {
        tg__error(TG_ERR_GRAPH,
                  "%s: a leaf tensor that requires grad cannot be changed in place while grad "
                  "mode is on (turn it off with tg_set_grad_enabled(false))",
                  op);
        return false;
    }
    if (self->requires_grad || (other && other->requires_grad)) {
        tg__error(TG_ERR_GRAPH,
                  "%s: in-place ops are not recorded on the tape; use the out-of-place op or "
                  "turn grad mode off",
                  op);
        return false;
    }
    return true;
}

/* ---- Backward ------------------------------------------------------------------------- */

/* Lists of nodes hold 64, 128, 256, ... of them, in blocks of the data
 * cache (tg__alloc_data): one backward a step then allocates nothing once
 * the first has run. */
typedef struct node_list {
    tg__node **items;
    size_t n, cap;
} node_list;

#define LIST_MIN_CAP 64

static size_t list_bytes(size_t cap) { return cap * sizeof(tg__node *); }

static bool list_push(node_list *l, tg__node *node) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : LIST_MIN_CAP;
        tg__node **grown = tg__alloc_data(list_bytes(cap), "backward");
        if (!grown) return false;
        if (l->n) memcpy(grown, l->items, list_bytes(l->n));
        tg__free_data(l->items, list_bytes(l->cap));
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = node;
    return true;
}

static void list_free(node_list *l) { tg__free_data(l->items, list_bytes(l->cap)); }

/* Every node reachable from root, each once, in any order. */
static bool collect(tg__node *root, node_list *out) {
    if (!root) return true;
    uint64_t mark = atomic_fetch_add(&next_visit_mark, 1);
    node_list stack = {0};
    bool ok = list_push(&stack, root);
    root->visit_mark = mark;
    while (ok && stack.n) {
        tg__node *node = stack.items[--stack.n];
        ok = list_push(out, node);
        for (int i = 0; ok && i < node->n_inputs; i++) {
            tg__node *next = node->next[i].node;
            if (next && next->visit_mark != mark) {
                next->visit_mark = mark;
                ok = list_push(&stack, next);
            }
        }
    }
    list_free(&stack);
    return ok;
}

static int by_seq_descending(const void *a, const void *b) {
    uint64_t sa = (*(tg__node *const *)a)->seq, sb = (*(tg__node *const *)b)->seq;
    return sa < sb ? 1 : sa > sb ? -1 : 0;
}

/* A tape of a few nodes, often collected in order already (a chain), sorts
 * by insertion: qsort's set-up cost a small tape's backward more than its
 * nodes' own bookkeeping. */
#define SMALL_TAPE 16

static void sort_small(tg__node **items, size_t n) {
    for (size_t i = 1; i < n; i++) {
        tg__node *node = items[i];
        size_t j = i;
        for (; j > 0 && items[j - 1]->seq < node->seq; j--) items[j] = items[j - 1];
        items[j] = node;
    }
}

tg__node **tg__tape_from(tg__node *root, size_t *n) {
    node_list nodes = {0};
    if (!collect(root, &nodes)) {
        list_free(&nodes);
        return NULL;
    }
    if (nodes.n <= SMALL_TAPE)
        sort_small(nodes.items, nodes.n);
    else
        qsort(nodes.items, nodes.n, sizeof *nodes.items, by_seq_descending);
    *n = nodes.n;
    if (!nodes.items) /* an empty tape */
        nodes.items = tg__alloc_data(list_bytes(LIST_MIN_CAP), "tape");
    return nodes.items;
}

void tg__tape_free(tg__node **tape, size_t n) {
    size_t cap = LIST_MIN_CAP; /* what list_push grew to for n nodes */
    while (cap < n) cap *= 2;
    tg__free_data(tape, list_bytes(cap));
}

/* Refuses, before anything is accumulated, a graph whose saved tensors were
 * freed or changed in place since they were saved. */
static bool check_graph(const node_list *nodes) {
    for (size_t k = 0; k < nodes->n; k++) {
        tg__node *node = nodes->items[k];
        if (node->saved_freed) {
            tg__error(TG_ERR_GRAPH,
                      "backward: trying to go through the graph a second time, but the saved "
                      "tensors of %s were already freed; pass retain_graph to the first "
                      "backward",
                      node->def->name);
            return false;
        }
        for (int i = 0; i < node->n_saved; i++) {
            if (!node->saved[i]) continue;
            uint64_t now = node->saved[i]->storage->version;
            if (now != node->saved_version[i]) {
                char buf[TG_SHAPE_STR_MAX];
                tg__error(
                    TG_ERR_GRAPH,
                    "backward: a tensor of shape %s saved by %s was modified by an "
                    "in-place operation (it is at version %llu, expected %llu)",
                    tg__shape_str(buf, sizeof buf, node->saved[i]->ndim, node->saved[i]->shape),
                    node->def->name, (unsigned long long)now,
                    (unsigned long long)node->saved_version[i]);
                return false;
            }
        }
    }
    return true;
}

/* Adds g to what node has gathered: in place when nothing but grad_acc can
 * reach the sum so far (a backward's new result, once its run pool is
 * gone), otherwise into a new tensor (a backward may hand one tensor, or
 * views of it, to several inputs). Never writes into g. */
static bool gather(tg__node *node, tg_tensor *g) {
    tg_tensor *acc = node->grad_acc;
    if (!acc) {
        node->grad_acc = tg_retain(g);
        return true;
    }
    if (acc->refcount == 1 && acc->storage->refcount == 1 && acc->storage->owns_data &&
        tg_is_contiguous(acc)) {
        tg__add_into(acc, acc, g);
        return true;
    }
    tg_tensor *sum = tg__new_owned(node->def->name, acc->ndim, acc->shape, acc->dtype);
    if (!sum) return false;
    tg__add_into(sum, acc, g);
    tg_release(acc);
    node->grad_acc = sum;
    return true;
}

/* Adds g into leaf's .grad, as PyTorch adds into an existing grad (so a
 * zeroed grad plus -0 is +0, which a copy would not give); the first
 * gradient becomes a copy of g. (Taking g itself as .grad, when nothing
 * else holds it, saved a copy in the worked example but made bench_ffn's
 * medium step 4 ms slower: measured, and left out.) */
static bool accumulate_leaf(tg_tensor *leaf, tg_tensor *g) {
    if (!leaf->grad) {
        leaf->grad = tg__contiguous_copy_owned("backward", g);
        return leaf->grad != NULL;
    }
    tg_tensor *grad = tg__grad_values(leaf);
    tg__add_into(grad, grad, g);
    return true;
}

double tg__grad_into_beta(const tg__node *node, int i) {
    return node->next[i].leaf->grad_zero_pending ? 0 : 1;
}

void tg__grad_into_written(tg__node *node, int i) { node->next[i].leaf->grad_zero_pending = false; }

static bool check_grad_shape(const tg__node *node, int i, const tg_tensor *g) {
    bool same = g->ndim == node->in_ndim[i] && g->dtype == node->in_dtype[i];
    for (int d = 0; same && d < g->ndim; d++) same = g->shape[d] == node->in_shape[i][d];
    if (!same) {
        char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
        tg__error(TG_ERR_GRAPH, "backward: %s gave a gradient of shape %s for an input of shape %s",
                  node->def->name, tg__shape_str(bufa, sizeof bufa, g->ndim, g->shape),
                  tg__shape_str(bufb, sizeof bufb, node->in_ndim[i], node->in_shape[i]));
    }
    return same;
}

/* The .grad that input i's gradient may be added into in place (see
 * tg__node.grad_into), or NULL. Never while tracing, whose lines show each
 * gradient handed on. */
static tg_tensor *grad_into(const tg__node *node, int i, FILE *trace) {
    tg_tensor *leaf = node->next[i].leaf, *g = leaf ? leaf->grad : NULL;
    if (!g || trace || !tg_is_contiguous(g) || g->storage == node->grad_acc->storage) return NULL;
    for (int k = 0; k < node->n_saved; k++)
        if (node->saved[k] && node->saved[k]->storage == g->storage) return NULL;
    return g;
}

/* Runs one node: its backward, then hands each input gradient on. */
static bool run_node(tg__node *node, bool retain_graph, FILE *trace, size_t step) {
    tg_tensor *grads[TG_NODE_MAX_INPUTS] = {0};
    bool needs[TG_NODE_MAX_INPUTS];
    for (int i = 0; i < node->n_inputs; i++) {
        needs[i] = node->next[i].node || node->next[i].leaf;
        node->grad_into[i] = grad_into(node, i, trace);
    }
    tg_pool *pool = tg_pool_push(); /* the backward's temporaries */
    if (!pool) return false;
    bool ok = node->def->backward(node, node->grad_acc, grads, needs) == 0;
    if (ok && trace) tg__trace_node(trace, step, node, node->grad_acc, grads);
    for (int i = 0; ok && i < node->n_inputs; i++) {
        if (!needs[i] || !grads[i]) continue;
        ok = check_grad_shape(node, i, grads[i]);
        if (ok && node->next[i].node) ok = gather(node->next[i].node, grads[i]);
        if (ok && node->next[i].leaf) ok = accumulate_leaf(node->next[i].leaf, grads[i]);
    }
    for (int i = 0; i < node->n_inputs; i++) node->grad_into[i] = NULL;
    tg_pool_pop(pool);
    tg_release(node->grad_acc);
    node->grad_acc = NULL;
    if (ok && !retain_graph && (node->n_saved || node->saves_number)) {
        for (int i = 0; i < node->n_saved; i++) {
            tg_release(node->saved[i]);
            node->saved[i] = NULL;
        }
        node->n_saved = 0;
        node->saved_freed = true;
    }
    return ok;
}

static bool check_root_grad(const tg_tensor *root, const tg_tensor *grad) {
    char bufa[TG_SHAPE_STR_MAX], bufb[TG_SHAPE_STR_MAX];
    if (!grad) {
        if (root->numel == 1) return true;
        tg__error(TG_ERR_SHAPE,
                  "backward: a gradient can be created implicitly only for one-element "
                  "outputs; pass one of shape %s",
                  tg__shape_str(bufa, sizeof bufa, root->ndim, root->shape));
        return false;
    }
    if (!tg__same_shape(root, grad)) {
        tg__error(TG_ERR_SHAPE, "backward: gradient of shape %s given for an output of shape %s",
                  tg__shape_str(bufa, sizeof bufa, grad->ndim, grad->shape),
                  tg__shape_str(bufb, sizeof bufb, root->ndim, root->shape));
        return false;
    }
    if (grad->dtype != root->dtype) {
        tg__error(TG_ERR_DTYPE, "backward: gradient of dtype %s given for an output of dtype %s",
                  tg_dtype_name(grad->dtype), tg_dtype_name(root->dtype));
        return false;
    }
    return true;
}

int tg_backward_ex(tg_tensor *root, tg_tensor *grad, tg_graph_mode graph) {
    bool retain_graph = graph != TG_FREE_GRAPH;
    if (!root) {
        tg__null_arg("backward");
        return -1;
    }
    if (!root->requires_grad) {
        tg__error(TG_ERR_GRAPH, "backward: the tensor does not require grad and has no grad_fn");
        return -1;
    }
    if (!check_root_grad(root, grad)) return -1;
    tg_tensor *seed = grad ? tg__contiguous_copy_owned("backward", grad)
                           : tg__new_owned("backward", root->ndim, root->shape, root->dtype);
    if (!seed) return -1;
    if (!grad) tg__fill(seed, 1.0);
    if (!root->grad_fn) { /* a leaf: its gradient is the seed itself */
        bool ok = accumulate_leaf(root, seed);
        tg_release(seed);
        return ok ? 0 : -1;
    }

    node_list nodes = {0};
    nodes.items = tg__tape_from(root->grad_fn, &nodes.n);
    bool ok = nodes.items && check_graph(&nodes);
    if (ok) {
        root->grad_fn->grad_acc = seed;
        seed = NULL;
        bool previous_mode = tg_set_grad_enabled(false);
        FILE *trace = tg__trace_stream();
        /* Decreasing sequence numbers replay the tape backwards: every node
         * runs after all the nodes that feed it a gradient. */
        for (size_t k = 0, step = 1; ok && k < nodes.n; k++)
            if (nodes.items[k]->grad_acc)
                ok = run_node(nodes.items[k], retain_graph, trace, step++);
        tg_set_grad_enabled(previous_mode);
        for (size_t k = 0; k < nodes.n; k++) { /* after a failure, drop partial sums */
            tg_release(nodes.items[k]->grad_acc);
            nodes.items[k]->grad_acc = NULL;
        }
    }
    tg_release(seed);
    tg__tape_free(nodes.items, nodes.n);
    return ok ? 0 : -1;
}

int tg_backward(tg_tensor *root, tg_tensor *grad) {
    return tg_backward_ex(root, grad, TG_FREE_GRAPH);
}
