/* core/internal.h - what the library's own files share and users never see:
 * the layout of tensors, storage and tape nodes, and the helpers ops use to
 * check arguments, allocate results and record themselves on the tape. */
#ifndef TAPEGRAD_INTERNAL_H
#define TAPEGRAD_INTERNAL_H

#include <stdarg.h>

#include "tapegrad/autograd.h"
#include "tapegrad/error.h"
#include "tapegrad/tensor.h"

#if defined(__GNUC__)
#define TG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TG_PRINTF(fmt, args)
#endif

/* ---- Memory (core/alloc.c) ------------------------------------------------ */
/* Allocate through the user's allocator; NULL means out of memory and the
 * error is already recorded, naming `what`. */
void *tg__alloc(size_t size, const char *what);
void *tg__calloc(size_t size, const char *what);
void tg__free(void *ptr);
/* The same through a per-thread cache of freed blocks, for the objects
 * every op makes: blocks of one kind all have one size. A user's allocator
 * (tg_set_allocator) bypasses the caches and sees every allocation. */
typedef enum tg__cache_kind {
    TG_CACHE_TENSOR,
    TG_CACHE_STORAGE,
    TG_CACHE_NODE,
    TG_CACHE_KINDS
} tg__cache_kind;
void *tg__alloc_cached(tg__cache_kind kind, size_t size, const char *what);
void tg__free_cached(tg__cache_kind kind, void *ptr);
/* Tensor data, cached by its exact size (small blocks only). */
void *tg__alloc_data(size_t size, const char *what);
void tg__free_data(void *ptr, size_t size);

/* ---- Errors (core/error.c) ------------------------------------------------- */
void tg__error(tg_status status, const char *fmt, ...) TG_PRINTF(2, 3);
/* For an op given a NULL argument: keeps a pending message (it names the
 * first failure of a chain), otherwise records "<op>: argument is NULL". */
void tg__null_arg(const char *op);
/* Writes "(2, 3)" into buf (as torch.Size prints, "(4,)" for one dim). */
const char *tg__shape_str(char *buf, size_t n, int ndim, const int64_t *shape);
#define TG_SHAPE_STR_MAX 160

/* ---- Storage and tensors (core/tensor.c) ----------------------------------- */
typedef struct tg_storage {
    int refcount;
    void *data;
    size_t nbytes;
    /* Bumped by every in-place write; shared by all views of the storage so
     * backward sees a change made through any of them. */
    uint64_t version;
    void (*deleter)(void *data, void *ctx); /* for wrapped buffers */
    void *deleter_ctx;
    bool owns_data;
} tg_storage;

typedef struct tg_node tg_node;

struct tg_tensor {
    int refcount;
    tg_dtype dtype;
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_MAX_DIMS]; /* in elements */
    int64_t offset;               /* in elements */
    int64_t numel;
    tg_storage *storage;
    bool requires_grad;
    tg_tensor *grad;  /* owned, NULL until a backward reaches this leaf */
    tg_node *grad_fn; /* owned reference, NULL for leaves */
    char *name;       /* owned, NULL unless set with tg_set_name */
};

/* A new contiguous tensor, uninitialised, with one reference that goes to
 * the innermost pool (or the caller). `op` names the caller in errors. */
tg_tensor *tg__new(const char *op, int ndim, const int64_t *shape, tg_dtype dtype);
/* Same, but the caller always owns the reference (never pooled): for tensors
 * that live in long-lived structures such as .grad or saved state. */
tg_tensor *tg__new_owned(const char *op, int ndim, const int64_t *shape,
                         tg_dtype dtype);
/* A tensor header over t's storage with the given geometry (a view), owned
 * by the caller; no autograd, no pool. */
tg_tensor *tg__view_owned(const char *op, tg_tensor *t, int ndim,
                          const int64_t *shape, const int64_t *strides,
                          int64_t offset);
/* Hand a fresh reference to the innermost pool, if any. Returns t. */
tg_tensor *tg__autorelease(tg_tensor *t);
bool tg__valid_shape(const char *op, int ndim, const int64_t *shape,
                     int64_t *numel);
void tg__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
static inline void *tg__ptr(const tg_tensor *t) {
    return (char *)t->storage->data + (size_t)t->offset * tg_dtype_size(t->dtype);
}
static inline bool tg__same_shape(const tg_tensor *a, const tg_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}
/* Checks that every one of n tensors is non-NULL and of one dtype. */
bool tg__check_args(const char *op, int n, tg_tensor *const *ts);

/* ---- Shapes and broadcasting (core/shape.c) -------------------------------- */
/* NumPy broadcast of two shapes into out (TG_MAX_DIMS entries). */
bool tg__broadcast_shapes(const char *op, int na, const int64_t *sa, int nb,
                          const int64_t *sb, int *nout, int64_t *out);
/* Strides that read t as if it had the broadcast shape (0 on stretched
 * dims). t's shape must broadcast to (ndim, shape). */
void tg__broadcast_strides(const tg_tensor *t, int ndim, const int64_t *shape,
                           int64_t *strides);
/* Normalises a possibly negative dim; false (with an error) when out of range. */
bool tg__wrap_dim(const char *op, int *dim, int ndim);

/* ---- Kernels over strided tensors (core/kernel.c) ----------------------------
 * An element loop over up to three operands of one shape, each with its own
 * strides (0 for broadcast dims) and base pointer, coalescing contiguous
 * dims so that the inner loop is long. */
#define TG_ITER_MAX_OPERANDS 4
typedef struct tg_iter {
    int ndim;
    int64_t shape[TG_MAX_DIMS];
    int64_t strides[TG_ITER_MAX_OPERANDS][TG_MAX_DIMS]; /* in elements */
    int n_operands;
} tg_iter;
void tg__iter_init(tg_iter *it, int ndim, const int64_t *shape, int n_operands,
                   const int64_t *const *strides);
/* Calls fn(ptrs, inner strides, n, ctx) once per innermost row, in order;
 * base and elem_size give each operand's first element and element size.
 * For kernels that need the order: they draw random numbers, or sum into
 * ctx, or several elements write one output (a reduction). */
typedef void (*tg_row_fn)(char **ptrs, const int64_t *inner_strides, int64_t n,
                          void *ctx);
void tg__iter_run(const tg_iter *it, char **base, const size_t *elem_size,
                  tg_row_fn fn, void *ctx);
/* The same for a kernel whose elements are independent (each output element
 * is a function of the inputs at its place; ctx is only read): a loop of
 * more than TG_PARALLEL_MIN elements is split among the threads of
 * tapegrad/parallel.h, fn then seeing rows, or pieces of rows, in any order
 * and at once. Results are the same as tg__iter_run's. The threshold keeps
 * each thread a few microseconds of work, against about one that starting
 * and joining them costs (measured: 2048 to 8192 alike, 32768 slower on
 * the small benchmark workload). */
#define TG_PARALLEL_MIN 8192
void tg__iter_run_parallel(const tg_iter *it, char **base, const size_t *elem_size,
                           tg_row_fn fn, void *ctx);
/* The usual way to run a row kernel: out (written) and n_in inputs of
 * out's dtype, each broadcast to out's shape (n_in <= 3), elements
 * independent (tg__iter_run_parallel). tg__map_ordered runs them in order
 * on this thread (tg__iter_run). */
void tg__map(tg_tensor *out, int n_in, const tg_tensor *const *in, tg_row_fn fn, void *ctx);
void tg__map_ordered(tg_tensor *out, int n_in, const tg_tensor *const *in, tg_row_fn fn,
                     void *ctx);
/* dst[i] += src[i] over equal shapes (dst may be strided). */
void tg__accumulate(tg_tensor *dst, const tg_tensor *src);
/* dst <- src elementwise, converting dtype; src broadcast to dst's shape. */
void tg__copy_into(tg_tensor *dst, const tg_tensor *src);
/* Fills dst with value. */
void tg__fill(tg_tensor *dst, double value);
/* Sum of all elements, in double (pairwise within rows). */
double tg__sum_all(const tg_tensor *t);
/* A contiguous copy of t, owned by the caller (not pooled). */
tg_tensor *tg__contiguous_copy_owned(const char *op, const tg_tensor *t);

/* ---- Vectorised kernels ----------------------------------------------------------
 * TG_HOT marks a hot elementwise kernel that GCC compiles three times, for
 * x86-64-v4 (AVX-512), x86-64-v3 (AVX2 and FMA) and the x86-64 baseline, the
 * loader picking the one the CPU runs (function multi-versioning): the
 * library stays runnable on any x86-64 yet uses the wide vectors where they
 * exist, and on v3 and v4 fma() is one instruction instead of a libm call.
 * All versions compute the same numbers: a vector instruction rounds as its
 * scalar one does, and fma() is fused in each.
 * TG_SIMD, before such a loop, has it vectorised (OpenMP's `omp simd`,
 * which meson enables with -fopenmp-simd): it states that no iteration
 * depends on another, which holds for elementwise loops, whose output is a
 * new tensor or the very elements of an input (in place), never a shifted
 * copy of one (prepare_inplace copies such an input first). GCC -O2 alone
 * vectorises only loops it can prove need no scalar epilogue. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TG_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TG_HOT
#endif
#define TG_SIMD _Pragma("omp simd")
#define TG_ALWAYS_INLINE inline __attribute__((always_inline))

/* TG_ROW_KERNEL(name, body, n_operands) defines name, a tg_row_fn (see
 * above) over n_operands operands, around body, an always-inline function
 * of the same signature whose loop is marked TG_SIMD: name calls body with
 * constant unit strides when every operand has them, so that this copy of
 * the loop is contiguous and vectorises, and with the given ones otherwise.
 * TG_ROW_KERNEL_LIKE(name, body, n_operands, s0, s1, ...) also has a copy
 * for the constant strides s0, s1, ..., say 1, 1, 0 for a binary op whose
 * second operand is one value broadcast. */
static inline bool tg__strides_are(const int64_t *s, const int64_t *want, int n_operands) {
    for (int k = 0; k < n_operands; k++)
        if (s[k] != want[k]) return false;
    return true;
}
static const int64_t tg__unit_strides[TG_ITER_MAX_OPERANDS] = {1, 1, 1, 1};
#define TG_ROW_KERNEL(name, body, n_operands)                                          \
    TG_HOT static void name(char **p, const int64_t *s, int64_t n, void *ctx) {        \
        if (tg__strides_are(s, tg__unit_strides, (n_operands)))                        \
            body(p, tg__unit_strides, n, ctx);                                         \
        else                                                                           \
            body(p, s, n, ctx);                                                        \
    }
#define TG_ROW_KERNEL_LIKE(name, body, n_operands, ...)                                \
    TG_HOT static void name(char **p, const int64_t *s, int64_t n, void *ctx) {        \
        static const int64_t usual[TG_ITER_MAX_OPERANDS] = {__VA_ARGS__};              \
        if (tg__strides_are(s, tg__unit_strides, (n_operands)))                        \
            body(p, tg__unit_strides, n, ctx);                                         \
        else if (tg__strides_are(s, usual, (n_operands)))                              \
            body(p, usual, n, ctx);                                                    \
        else                                                                           \
            body(p, s, n, ctx);                                                        \
    }

/* ---- The tape (core/autograd.c) --------------------------------------------- */
#define TG_NODE_MAX_INPUTS 4
#define TG_NODE_MAX_SAVED 4

/* Computes the gradient of each input from the gradient of the output.
 * grad_inputs[i] is wanted when needs[i] is true; the backward sets it to a
 * new tensor of input i's shape and dtype (pooled or owned: the engine
 * retains what it keeps) or leaves it NULL for a zero gradient, or for one
 * it added into node->grad_into[i] itself. Returns 0, or -1 with an error
 * recorded. */
typedef int (*tg_backward_fn)(tg_node *node, tg_tensor *grad_out,
                              tg_tensor **grad_inputs, const bool *needs);

typedef struct tg_op_def {
    const char *name; /* as PyTorch names the node: "MulBackward0" */
    tg_backward_fn backward;
    /* The local derivative in the chain rule, in words, for backward
     * traces: "d(a*b)/da = b, d(a*b)/db = a". */
    const char *local;
} tg_op_def;

/* Where the gradient of one input goes: to the node that made it, or into
 * the .grad of a leaf that requires grad, or nowhere. */
typedef struct tg_edge {
    tg_node *node;
    tg_tensor *leaf;
} tg_edge;

struct tg_node {
    int refcount;
    const tg_op_def *def;
    uint64_t seq; /* place on the tape: a node is always after its inputs */
    int n_inputs;
    tg_edge next[TG_NODE_MAX_INPUTS];
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
    /* Tensors the backward needs, with their versions when saved. */
    int n_saved;
    tg_tensor *saved[TG_NODE_MAX_SAVED];
    uint64_t saved_version[TG_NODE_MAX_SAVED];
    bool saved_freed; /* released by a backward without retain_graph */
    double scalars[4];
    int64_t ints[2 * TG_MAX_DIMS];
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

/* Records out on the tape as made by def from inputs, when grad mode is on
 * and some input requires grad; returns the node (to save tensors and
 * scalars into) or NULL when nothing is recorded. Fails (returns NULL and
 * sets *failed) only when out of memory. */
tg_node *tg__record(tg_tensor *out, const tg_op_def *def, int n_inputs,
                    tg_tensor *const *inputs, bool *failed);
/* The last step of every op: records out (owned by the caller) as made by
 * def from inputs, then hands it to the pool. Returns out, or NULL (out
 * released) when out of memory. *node, if asked for, is the new node or
 * NULL when nothing was recorded. */
tg_tensor *tg__finish(tg_tensor *out, const tg_op_def *def, int n_inputs,
                      tg_tensor *const *inputs, tg_node **node);
/* Saves t for backward (retained; an alias when t is the node's output, so
 * that no reference cycle forms). Returns false when out of memory. */
bool tg__save(tg_node *node, tg_tensor *t);
void tg__node_release(tg_node *node);
/* The nodes reachable from root (which may be NULL), in the order backward
 * runs them: decreasing sequence numbers. An array of *n nodes (borrowed)
 * to free with tg__tape_free, or NULL when out of memory. */
tg_node **tg__tape_from(tg_node *root, size_t *n);
void tg__tape_free(tg_node **tape, size_t n);
/* True when recording would happen for these inputs. */
bool tg__should_record(int n, tg_tensor *const *inputs);
/* In-place ops call this before writing into self. */
bool tg__check_inplace(const char *op, tg_tensor *self, tg_tensor *other);

/* ---- Random numbers (core/rng.c) ------------------------------------------------ */
/* gen, or the thread's default generator when gen is NULL. */
tg_generator *tg__generator(tg_generator *gen);
/* One uniform draw in [0, 1) as torch draws it for dtype (24 or 53 bits). */
double tg__uniform(tg_generator *gen, tg_dtype dtype);

/* ---- Pictures of the tape (core/graph.c) ------------------------------------------ */
/* Writes a small tensor's elements (at most TG_GRAPH_MAX_VALUES), row-major
 * and flat, with `digits` significant digits: "[1, 2.5, -3]". */
void tg__write_values(FILE *out, const tg_tensor *t, int digits);

/* ---- Traces of backward (core/trace.c) ------------------------------------------ */
/* The stream set by tg_set_trace (or TG_TRACE=1), or NULL when off. */
FILE *tg__trace_stream(void);
/* One node's lines: the op, the gradient in, its local derivative, and the
 * gradients it hands to its inputs. */
void tg__trace_node(FILE *out, size_t step, const tg_node *n, const tg_tensor *grad_out,
                    tg_tensor *const *grads);

/* ---- Threads (core/parallel.c) ------------------------------------------------ */
/* The thread count of tapegrad/parallel.h. The first call reads
 * TG_NUM_THREADS and hands it to BLIS, so gemm calls this before BLIS runs. */
int tg__num_threads(void);

/* ---- Pools (core/pool.c) ------------------------------------------------------ */
bool tg__pool_active(void);
bool tg__pool_add(tg_tensor *t);

/* ---- Checks and file saving, added together; move them on a split -------------------
 * (tg__check_writable and tg__check_dtype are in core/tensor.c, the rest in
 * core/replace_file.c.) */
/* Every write into a tensor's elements (in-place ops, fills, inits, loads,
 * optimizer updates) calls this first. False, with "<op>: unsupported
 * operation: more than one element of the written-to tensor refers to a
 * single memory location" recorded (PyTorch's words), when two indices of t
 * reach one element, as in an expanded tensor. */
bool tg__check_writable(const char *op, const tg_tensor *t);
/* False, with "<op>: invalid dtype 7 (TG_F32 or TG_F64)" recorded
 * (TG_ERR_VALUE), unless dtype is one of tg_dtype's values. */
bool tg__check_dtype(const char *op, tg_dtype dtype);
/* Writes a whole file's contents to fd: returns 0, an errno value (the
 * failing call's), or -1 with the error already recorded (out of memory). */
typedef int (*tg__file_writer)(int fd, void *ctx);
/* Replaces the file at path (or at the end of the symbolic links there)
 * atomically with what writer writes, keeping the old file's permission
 * bits; core/replace_file.c says how. Returns 0, or -1 with an error naming op
 * and, for an I/O failure, path and the system's reason. */
int tg__replace_file(const char *op, const char *path, tg__file_writer writer, void *ctx);
/* write() of all n bytes: 0, or the errno value of the failure. */
int tg__write_all(int fd, const void *data, size_t n);

#endif
