/* tapegrad/nn.h - modules: Linear, Embedding, Dropout, LayerNorm, RMSNorm,
 * Sequential, ModuleList,
 * Residual and the FeedForward blocks, with named parameters and buffers,
 * train/eval mode, printing and initialisation as torch.nn has them; and the
 * API to define a module of one's own, which every built-in module uses.
 *
 * OWNERSHIP. A module owns its children, its parameters and its buffers (it
 * holds one reference to each tensor; an optimizer that holds parameters
 * keeps its own references). tg_module_free frees a module with all of
 * them; a module that is the child of another is freed only with its
 * parent. Constructors that take modules (tg_sequential_new,
 * tg_module_add_child, ...) take them over, also when they fail: a module
 * they cannot keep they free. Tensors passed to a module are borrowed, as
 * everywhere in tapegrad: the module adds a reference of its own. Pointers
 * a module hands out (parameters, children, names, lists) are borrowed.
 * Parameters are leaves that require grad and live outside any pool;
 * forward returns a new tensor under the usual ownership rule of
 * tapegrad/tensor.h.
 *
 * NAMES are PyTorch's state_dict keys: a module's own parameters and
 * buffers by their names ("weight"), its children's prefixed with the
 * child's name and a dot ("0.bias", "layers.1.fn.w1.weight"). Lists are in
 * PyTorch's order: a module's own entries in the order they were added,
 * then each child's, in the order the children were added.
 *
 * A module is used by one thread at a time (queries that return lists
 * build them on first use). */
#ifndef TAPEGRAD_NN_H
#define TAPEGRAD_NN_H

#include "tapegrad/safetensors.h"
#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_module tg_module;

/* ---- Every module ----------------------------------------------------------- */
/* forward(m, x): a new tensor, or NULL with an error. A module without a
 * forward of its own (ModuleList) fails, as PyTorch's does. */
TG_API tg_tensor *tg_module_forward(tg_module *m, tg_tensor *x);
/* Frees m, its children, and its references to its parameters and buffers.
 * NULL-safe. A module that is a child of another is left alone (an error
 * is recorded): it goes with its parent. */
TG_API void tg_module_free(tg_module *m);
/* The class name, as PyTorch prints it: "Linear", "Sequential", ... */
TG_API const char *tg_module_name(const tg_module *m);
/* Sets training (true) or evaluation (false) mode of m and all its
 * children: dropout is active only in training mode. New modules train. */
TG_API void tg_module_train(tg_module *m, tg_mode mode);
TG_API bool tg_module_is_training(const tg_module *m);

/* Lists over m's whole tree, with full names (borrowed: valid until m is
 * freed or something is added to its tree); *n receives their number.
 * They are built on first use, so each may fail (out of memory): NULL,
 * *n = 0 and an error. */
/* The parameters (module.named_parameters()). */
TG_API const tg_named_tensor *tg_module_parameters(const tg_module *m, int *n);
/* The same tensors in the same order, as optimizers take them. */
TG_API tg_tensor *const *tg_module_parameter_tensors(const tg_module *m, int *n);
/* The buffers (module.named_buffers()): tensors saved with the model but
 * not trained. */
TG_API const tg_named_tensor *tg_module_buffers(const tg_module *m, int *n);
/* Parameters and buffers together, as module.state_dict() orders them:
 * what tg_module_save writes and tg_module_load reads. */
TG_API const tg_named_tensor *tg_module_state_dict(const tg_module *m, int *n);
/* One parameter or buffer by its full name ("fn.w1.weight"; borrowed), or
 * NULL with an error when there is none of that name. */
TG_API tg_tensor *tg_module_parameter(const tg_module *m, const char *name);
TG_API tg_tensor *tg_module_buffer(const tg_module *m, const char *name);
/* The number of scalar parameters (elements of all parameter tensors). */
TG_API int64_t tg_module_num_elements(const tg_module *m);
/* Zeroes every parameter's grad (lazily, as tg_zero_grad), or drops it (NULL)
 * with set_to_none. */
TG_API void tg_module_zero_grad(tg_module *m, tg_zero_grad_mode mode);
/* The state_dict to and from a safetensors file (its keys as names),
 * strict like load_state_dict. tg_module_save also writes m's architecture
 * into the file's metadata (see "Self-describing files" below), so that
 * tg_module_load_new, or tapegrad_torch.load in Python, can rebuild it; a
 * class's describe hook that fails fails the save. Return 0, or -1. */
TG_API int tg_module_save(const tg_module *m, const char *path);
TG_API int tg_module_load(tg_module *m, const char *path);

/* Children, in the order they were added: their number (0 for NULL), the
 * i-th with its name (*name borrowed; name may be NULL), and one by its
 * name or by a dotted path through the tree ("layers.0.fn", as PyTorch's
 * get_submodule). Children are borrowed: they are freed with m. Both
 * lookups return NULL with an error when there is no such child. */
TG_API int tg_module_num_children(const tg_module *m);
TG_API tg_module *tg_module_child_at(const tg_module *m, int i, const char **name);
TG_API tg_module *tg_module_child(const tg_module *m, const char *path);

/* ---- Printing ----------------------------------------------------------------
 * tg_module_repr formats m as PyTorch 1.13's print(model) does:
 *   Sequential(
 *     (0): Linear(in_features=784, out_features=256, bias=True)
 *     (1): Dropout(p=0.1, inplace=False)
 *   )
 * Returns a malloc'ed string the caller frees with free(), or NULL.
 * tg_module_print writes it and a newline to out. tg_module_summary writes
 * a table of every parameter (full name, shape, number of elements), then
 * the buffers, then the totals: all parameters' elements and the trainable
 * ones' (those that require grad). Both return 0, or -1. */
TG_API char *tg_module_repr(const tg_module *m);
TG_API int tg_module_print(const tg_module *m, FILE *out);
TG_API int tg_module_summary(const tg_module *m, FILE *out);

/* ---- Defining a module --------------------------------------------------------
 * A module type is a class, most often a static const struct, and a
 * constructor that makes a module of it and adds its parameters, buffers
 * and children (README.md, "Defining your own module", has a whole one):
 *
 *     typedef struct scale_state { double factor; } scale_state;
 *     static tg_tensor *scale_forward(tg_module *m, tg_tensor *x) {
 *         const scale_state *s = tg_module_state(m);
 *         return tg_mul(tg_mul_scalar(x, s->factor), tg_module_parameter(m, "gain"));
 *     }
 *     static const tg_module_class scale_class = {
 *         .name = "Scale", .forward = scale_forward, .state_size = sizeof(scale_state)};
 *     ...
 *     tg_module *m = tg_module_new(&scale_class, &(scale_state){.factor = 2});
 *     if (!tg_module_new_parameter(m, "gain", TG_SHAPE(4), TG_F32)) { ... }
 *
 * The module then joins Sequential, parameter lists, save and load, and
 * printing as the built-in modules do; they are all made this way. */
/* The arguments a describe hook writes (opaque; see below). */
typedef struct tg_module_args tg_module_args;

typedef struct tg_module_class {
    /* The name print shows ("Linear"); not empty. */
    const char *name;
    /* Called by tg_module_forward with m and x not NULL. Returns a new
     * tensor, as ops do (an op's result: never x itself), or NULL with an
     * error recorded (tg_set_error says what failed). NULL for a container
     * that has no forward of its own, as ModuleList. */
    tg_tensor *(*forward)(tg_module *m, tg_tensor *x);
    /* Optional: the text print shows inside the parentheses, as PyTorch's
     * extra_repr ("in_features=3, out_features=2, bias=True"; lines may be
     * split with '\n'), written as snprintf writes: at most size bytes
     * into buf, the NUL included, returning the length of the whole text,
     * or a negative number on failure. */
    int (*extra_repr)(const tg_module *m, char *buf, size_t size);
    /* Bytes of state each module of the class keeps, or 0. */
    size_t state_size;
    /* Optional: releases what a state holds (memory it points to, a
     * reference it owns); not the state's bytes, which are the module's. */
    void (*free_state)(void *state);
    /* Optional: the arguments the module's constructor was given, for the
     * description tg_module_save writes into the file (see "Self-describing
     * files" below): one tg_module_arg_* call on args for each, and
     * tg_module_arg_children when the children are arguments too (a
     * container's). Returns 0, or -1 with an error recorded. A class
     * without it is saved as its name alone, which no loader rebuilds. */
    int (*describe)(const tg_module *m, tg_module_args *args);
} tg_module_class;

/* A new module of class cls, training, with no parameters, buffers or
 * children. cls is borrowed: it must outlive the module (a static const
 * struct does). cls->state_size bytes are copied from state (zeroes when
 * state is NULL) into a block the module owns, for its forward to read
 * (tg_module_state); state itself stays the caller's. What the state holds
 * becomes the module's, also on failure: cls->free_state, if set, runs
 * exactly once, on the module's copy when the module is freed, or on state
 * before tg_module_new returns NULL (cls NULL excepted: nothing is known
 * then of how to free it). Giving a state to a class of state_size 0 is an
 * error. */
TG_API tg_module *tg_module_new(const tg_module_class *cls, void *state);
/* The module's state block (borrowed), or NULL when its class has none. */
TG_API void *tg_module_state(const tg_module *m);

/* Names given to a module's parameters, buffers and children are not
 * empty, have no '.', and are unique among all three (as in PyTorch, whose
 * state_dict keys join them with dots); a name breaking a rule is an
 * error. The functions below return NULL on any failure, and m is then as
 * it was. */

/* A new parameter of m: a tensor of shape and floating-point dtype, filled
 * with zeros (set it with tg_init_*), requiring grad, owned by m. Returns
 * it (borrowed: freed with m). */
TG_API tg_tensor *tg_module_new_parameter(tg_module *m, const char *name, int ndim,
                                          const int64_t *shape, tg_dtype dtype);
/* Registers t, a floating-point leaf whose elements do not overlap, as a
 * parameter of m, and sets its requires_grad. t is borrowed: m keeps a
 * reference of its own, so the caller (or its pool) still releases the
 * caller's. Returns t. */
TG_API tg_tensor *tg_module_add_parameter(tg_module *m, const char *name, tg_tensor *t);
/* The same for buffers: tensors of any dtype, saved and loaded with the
 * parameters but not trained (running statistics, fixed tables); a buffer
 * keeps its requires_grad as it is (new ones: false). */
TG_API tg_tensor *tg_module_new_buffer(tg_module *m, const char *name, int ndim,
                                       const int64_t *shape, tg_dtype dtype);
TG_API tg_tensor *tg_module_add_buffer(tg_module *m, const char *name, tg_tensor *t);
/* Adds child under name. m takes child over, also on failure (child is then
 * freed), so `tg_module_add_child(m, "fc", tg_linear_new(...))` leaks
 * nothing whatever fails. The one exception: a child that already has a
 * parent, or that is m or one of m's ancestors, is refused and left where
 * it is. Returns child (borrowed: freed with m). The child keeps its
 * train/eval mode until tg_module_train is called on m. */
TG_API tg_module *tg_module_add_child(tg_module *m, const char *name, tg_module *child);
/* Adds child under its index as name ("0", "1", ...), as ModuleList.append
 * and Sequential.append do; otherwise as tg_module_add_child. */
TG_API tg_module *tg_module_append(tg_module *m, tg_module *child);

/* ---- Self-describing files ------------------------------------------------------
 * tg_module_save writes, besides the tensors, the module tree as its
 * constructors were called: under the metadata key TG_MODULE_METADATA_KEY,
 * a JSON object for the top module, each one
 *     {"type": <class name>, "args": {<name>: <value>, ...},
 *      "children": [[<child name>, <object>], ...]}
 * with "children" only for a container (Sequential, ModuleList, Residual,
 * a user's class whose describe hook says so; a FeedForward's Linear
 * layers are made by its constructor and are not listed), and "args" only
 * when the class has a describe hook. Values are
 * integers, finite numbers (written as Python's repr writes them, so that
 * they read back exactly), true/false, strings, null and arrays of
 * integers. README.md, "Self-describing checkpoints", has an example.
 *
 * A user's class without a describe hook is written as {"type": "Block"}
 * alone, without its arguments or anything below it: the file still loads
 * into a model built in code (tg_module_load), and loaders that rebuild
 * the architecture refuse it, naming the module. With a describe hook and
 * a loader registered for its name (below), tg_module_load_new rebuilds
 * it as it does the built-in types. */
#define TG_MODULE_METADATA_KEY "tapegrad.module"

/* The description tg_module_save writes for m (compact JSON, UTF-8), in a
 * malloc'ed string the caller frees with free(), or NULL with an error. */
TG_API char *tg_module_describe(const tg_module *m);

/* A new module rebuilt from the description in the file at path, of the
 * built-in types (Linear, Embedding, Dropout, the activations, PReLU,
 * Swish, LayerNorm, RMSNorm, FeedForward, Sequential, ModuleList,
 * Residual) and those registered with tg_module_register_loader, with its
 * tensors loaded from the file, strictly: every argument is checked and
 * every tensor the rebuilt module has must be in the file with its dtype
 * and shape, and nothing else, before the module is made, so a file of
 * built-in types that lies allocates no more than it holds (a registered
 * type's loader is called in that first pass too, to learn its tensors:
 * what it allocates is what its arguments ask for). At most
 * TG_MODULE_LOAD_MAX_MODULES modules, nested at most
 * TG_MODULE_LOAD_MAX_DEPTH deep. The module trains (tg_module_train to
 * change), its dropout draws from the thread's default generator, and
 * making it draws nothing from that generator. Free it with
 * tg_module_free. NULL with an error naming the file, the module (its
 * state_dict prefix) and what is wrong. */
TG_API tg_module *tg_module_load_new(const char *path);
#define TG_MODULE_LOAD_MAX_MODULES 10000
#define TG_MODULE_LOAD_MAX_DEPTH 64

/* ---- Rebuilding a class of one's own --------------------------------------------
 * tg_module_load_new rebuilds a user's class from its description once a
 * loader is registered for its name (the class's name, which its describe
 * hook's arguments go with):
 *
 *     static tg_module *scale_load(tg_module_desc *d) {
 *         double factor;
 *         if (tg_module_desc_double(d, "factor", &factor) != 0) return NULL;
 *         return scale_new(factor);
 *     }
 *     ...
 *     tg_module_register_loader("Scale", scale_load);
 *
 * A loader reads the arguments the describe hook wrote with the
 * tg_module_desc_* functions and returns the module its constructor makes
 * (of that class), or NULL with an error. Every argument of the
 * description must be read: one the loader does not ask for is refused as
 * unknown. A class whose describe hook calls tg_module_arg_children has
 * its children rebuilt and added after the loader returns, under their
 * names (tg_module_add_child): its loader makes the module without them.
 * The loader is called twice per module, once to learn its tensors
 * (freed at once) and once to make it; it must make the same module both
 * times. */
/* The arguments of one module of a description, for its loader (opaque;
 * valid during the call of the loader only). */
typedef struct tg_module_desc tg_module_desc;
typedef tg_module *(*tg_module_loader_fn)(tg_module_desc *desc);
/* Registers load for the modules of type `type` (not empty, UTF-8), for
 * the rest of the process, from any thread. Returns 0, or -1 with an error:
 * for NULL, for a built-in type's name, and for a type that has a loader
 * already. */
TG_API int tg_module_register_loader(const char *type, tg_module_loader_fn load);
/* Each reads the argument `name` into *out and returns 0, or returns -1
 * with an error naming the file, the module and the argument: when the
 * description has no such argument or it is of another kind (an int wants
 * an integer; a double any finite number; a dtype the name tg_dtype_name
 * gives). */
TG_API int tg_module_desc_int(tg_module_desc *desc, const char *name, int64_t *out);
TG_API int tg_module_desc_double(tg_module_desc *desc, const char *name, double *out);
TG_API int tg_module_desc_bool(tg_module_desc *desc, const char *name, bool *out);
TG_API int tg_module_desc_dtype(tg_module_desc *desc, const char *name, tg_dtype *out);
/* A string argument (borrowed: valid during the loader's call), or NULL
 * with an error. */
TG_API const char *tg_module_desc_string(tg_module_desc *desc, const char *name);
/* An array of integers (a shape) into values, which has room for max:
 * returns how many it holds, or -1 with an error (more than max, or not
 * integers). */
TG_API int tg_module_desc_ints(tg_module_desc *desc, const char *name, int max, int64_t *values);
/* 1 when the argument is null, 0 when it is something else (read it with
 * the getter of its kind), -1 with an error when there is none. */
TG_API int tg_module_desc_is_null(tg_module_desc *desc, const char *name);

/* For describe hooks: each adds one argument, name (UTF-8, not empty, once
 * per module) and value, and returns 0, or -1 with an error (which also
 * fails the save). A number must be finite; a string UTF-8. */
TG_API int tg_module_arg_int(tg_module_args *args, const char *name, int64_t value);
TG_API int tg_module_arg_double(tg_module_args *args, const char *name, double value);
TG_API int tg_module_arg_bool(tg_module_args *args, const char *name, bool value);
TG_API int tg_module_arg_string(tg_module_args *args, const char *name, const char *value);
/* An array of n integers (a shape). */
TG_API int tg_module_arg_ints(tg_module_args *args, const char *name, int n, const int64_t *values);
/* null (Python's None: no padding_idx). */
TG_API int tg_module_arg_null(tg_module_args *args, const char *name);
/* The module's children are arguments of its constructor (a container's):
 * each is described in turn, under its name. */
TG_API int tg_module_arg_children(tg_module_args *args);

/* ---- Initialisation (torch.nn.init), in place, outside the tape -------------
 * gen NULL means the thread's default generator. Each returns 0, or -1. */
TG_API int tg_init_uniform_(tg_tensor *t, double low, double high, tg_generator *gen);
TG_API int tg_init_normal_(tg_tensor *t, double mean, double std, tg_generator *gen);
TG_API int tg_init_constant_(tg_tensor *t, double value);
TG_API int tg_init_zeros_(tg_tensor *t);
/* U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)). */
TG_API int tg_init_xavier_uniform_(tg_tensor *t, double gain, tg_generator *gen);
/* U(-b, b) with b = sqrt(2 / (1 + a^2)) * sqrt(3 / fan_in), leaky_relu gain
 * (PyTorch's Linear uses a = sqrt(5): b = 1 / sqrt(fan_in)). */
TG_API int tg_init_kaiming_uniform_(tg_tensor *t, double a, tg_generator *gen);

/* ---- Linear: y = x W^T + b ------------------------------------------------------
 * weight (out, in) and bias (out) drawn as torch.nn.Linear draws them:
 * kaiming_uniform(a = sqrt 5) then U(-1/sqrt(in), 1/sqrt(in)). After
 * tg_manual_seed(s) the weights equal those of torch.manual_seed(s);
 * torch.nn.Linear(...), bit for bit. Parameters "weight" and "bias" (none
 * with TG_NO_BIAS). */
typedef enum tg_bias { TG_NO_BIAS = 0, TG_BIAS = 1 } tg_bias;
TG_API tg_module *tg_linear_new(int64_t in_features, int64_t out_features, tg_bias bias,
                                tg_dtype dtype, tg_generator *gen);

/* ---- Embedding: a lookup table ---------------------------------------------------
 * weight (num_embeddings, embedding_dim) drawn N(0, 1) as torch.nn.Embedding
 * draws it, from the same stream (tg_manual_seed(s) as torch.manual_seed(s)),
 * then the row padding_idx zeroed: bit for bit in float64 and for float32
 * tables of fewer than 16 elements; larger float32 ones differ in the last
 * bits where PyTorch's vectorised log, sin and cos do (as tg_randn's).
 * Forward takes int64 indices of any shape and gives (*indices,
 * embedding_dim), as tg_embedding (tapegrad/ops.h); the padding row gets no
 * gradient. padding_idx is a row, negative counting from the end, or
 * TG_EMBEDDING_NO_PADDING (PyTorch's None). Parameter "weight". */
#ifndef TG_EMBEDDING_NO_PADDING /* also in tapegrad/ops.h */
#define TG_EMBEDDING_NO_PADDING INT64_MIN
#endif
TG_API tg_module *tg_embedding_new(int64_t num_embeddings, int64_t embedding_dim,
                                   int64_t padding_idx, tg_dtype dtype, tg_generator *gen);

/* ---- Dropout and activations as modules ---------------------------------------
 * Dropout(p) zeroes with probability p and scales by 1/(1-p) in training
 * mode, and is the identity in eval mode; gen NULL is the default generator
 * (borrowed: it must outlive the module). p must lie in [0, 1]. */
TG_API tg_module *tg_dropout_new(double p, tg_generator *gen);

/* Activations without parameters, as modules (for Sequential), named as
 * torch.nn's ("ReLU", "SELU", "Hardswish", ...); each forward is the
 * function of tapegrad/activation.h. */
typedef enum tg_activation_kind {
    TG_ACT_RELU,
    TG_ACT_GELU,      /* exact, x * Phi(x) */
    TG_ACT_GELU_TANH, /* the tanh approximation */
    TG_ACT_SILU,      /* Swish with beta 1 */
    TG_ACT_SIGMOID,
    TG_ACT_TANH,
    TG_ACT_SELU,
    TG_ACT_RELU6,
    TG_ACT_HARDSIGMOID,
    TG_ACT_HARDSWISH,
    TG_ACT_MISH,
    TG_ACT_LOGSIGMOID,
    TG_ACT_SOFTSIGN,
    TG_ACT_TANHSHRINK,
} tg_activation_kind;
TG_API tg_module *tg_activation_new(tg_activation_kind kind);
/* Activations with fixed settings: nn.CELU(alpha) (alpha 0 refused, as
 * tg_celu refuses it) and nn.Hardtanh(min_val, max_val), which refuses
 * max_val <= min_val or a NaN bound, as nn.Hardtanh asserts max_val >
 * min_val (the function tg_hardtanh accepts them, as F.hardtanh does). The
 * defaults are TG_CELU_DEFAULT_ALPHA and TG_HARDTANH_DEFAULT_MIN_VAL /
 * _MAX_VAL (tapegrad/activation.h). */
TG_API tg_module *tg_celu_new(double alpha);
TG_API tg_module *tg_hardtanh_new(double min_val, double max_val);
/* PReLU: parameter "weight" of num_parameters slopes (1, or one per
 * channel, dim 1), all init (PyTorch's default 0.25). */
TG_API tg_module *tg_prelu_new(int64_t num_parameters, double init, tg_dtype dtype);
/* Swish x * sigmoid(beta x) with a learnable parameter "beta" (one
 * element) starting at beta_init. (A fixed beta of 1 is TG_ACT_SILU.) */
TG_API tg_module *tg_swish_new(double beta_init, tg_dtype dtype);

/* ---- Norm layers ----------------------------------------------------------------
 * LayerNorm, as torch.nn.LayerNorm(normalized_shape, eps, elementwise_affine):
 * tg_layer_norm over the last normalized_ndim dims of its input, which must
 * be normalized_shape (TG_SHAPE(6) or TG_SHAPE(3, 6)). With TG_AFFINE
 * (PyTorch's default) it has parameters "weight" (ones) and "bias" (zeros)
 * of that shape; with TG_NO_AFFINE none. PyTorch's default eps is
 * TG_LAYER_NORM_DEFAULT_EPS (1e-5).
 * RMSNorm, as LLaMA's RMSNorm(dim, eps): tg_rms_norm over the last dim
 * (of size dim), parameter "weight" (ones); LLaMA's eps is
 * TG_RMS_NORM_DEFAULT_EPS (1e-6).
 * eps must be positive and finite (tapegrad/norm.h says why), dtype
 * float32 or float64. */
typedef enum tg_affine { TG_NO_AFFINE = 0, TG_AFFINE = 1 } tg_affine;
TG_API tg_module *tg_layer_norm_new(int normalized_ndim, const int64_t *normalized_shape,
                                    tg_affine elementwise_affine, double eps, tg_dtype dtype);
TG_API tg_module *tg_rms_norm_new(int64_t dim, double eps, tg_dtype dtype);

/* ---- FeedForward blocks ----------------------------------------------------------
 * Classic: w2(ACT(w1 x + b1)) + b2, hidden_dim 4 * dim by default.
 * Gated (LLaMA's form, no biases): w2(ACT(w1 x) * w3 x), with hidden_dim
 * first cut to 2/3 and rounded up to a multiple of multiple_of, as
 * tg_ffn_hidden_dim computes. ACT is sigmoid for GLU, GELU for GeGLU,
 * SiLU for SwiGLU, ReLU for ReGLU. Both end with dropout(p) on the output.
 * Parameters "w1.weight", "w1.bias" (classic), "w2.*", "w3.weight" (gated).
 * (The form `w2(silu(w1 x)) * w3 x`, sometimes written, misplaces a
 * parenthesis: its shapes (B, dim) and (B, hidden) do not multiply;
 * docs/ERRATA.md, item 1.) */
typedef enum tg_ffn_kind {
    TG_FFN_RELU,
    TG_FFN_GELU,
    TG_FFN_GELU_TANH,
    TG_FFN_SILU,
    TG_FFN_GLU,
    TG_FFN_GEGLU,
    TG_FFN_SWIGLU,
    TG_FFN_REGLU,
} tg_ffn_kind;
#define TG_FFN_N_KINDS 8
TG_API const char *tg_ffn_kind_name(tg_ffn_kind kind); /* "SwiGLU", ... */
TG_API bool tg_ffn_is_gated(tg_ffn_kind kind);

typedef struct tg_ffn_options {
    tg_ffn_kind kind;
    int64_t dim;
    int64_t hidden_dim;  /* 0 means 4 * dim */
    int64_t multiple_of; /* gated kinds: > 0 (LLaMA uses 256) */
    double dropout;      /* p on the output, 0 for none */
    tg_dtype dtype;
} tg_ffn_options;

/* LLaMA's rounding: multiple_of * ceil((2 * hidden_dim / 3) / multiple_of),
 * with integer division: (256, 16) -> 176, (64, 8) -> 48. -1 (and an error)
 * when an argument is not positive. */
TG_API int64_t tg_ffn_hidden_dim(int64_t hidden_dim, int64_t multiple_of);
TG_API tg_module *tg_feedforward_new(const tg_ffn_options *options, tg_generator *gen);

/* ---- Containers ----------------------------------------------------------------
 * Each takes its modules over, also when it fails (see OWNERSHIP). */
/* Applies the n modules in order; children named "0", "1", ... */
TG_API tg_module *tg_sequential_new(int n, tg_module *const *modules);
/* The same with the children named names[i], as
 * nn.Sequential(OrderedDict([(name, module), ...])). */
TG_API tg_module *tg_sequential_named_new(int n, const char *const *names,
                                          tg_module *const *modules);
/* An empty ModuleList, to fill with tg_module_append (children "0", "1",
 * ...). As in PyTorch it has no forward: the module holding it runs its
 * children (tg_module_child_at); tg_module_forward on it is an error. */
TG_API tg_module *tg_module_list_new(void);
/* x + inner(x), for residual connections; the child is named "fn". */
TG_API tg_module *tg_residual_new(tg_module *inner);

#ifdef __cplusplus
}
#endif
#endif
