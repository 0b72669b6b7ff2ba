/* tapegrad/nn.h - modules: Linear, Embedding, Dropout, Sequential, Residual
 * and the FeedForward blocks, with named parameters, train/eval mode and
 * initialisation as torch.nn has them.
 *
 * OWNERSHIP. A module owns its parameters and its children. tg_module_free
 * frees a module, its children and its parameters (an optimizer that holds
 * parameters keeps its own references). Constructors that take modules (as
 * tg_sequential_new) take them over, also when they fail. Parameters are
 * leaves that require grad and live outside any pool; forward returns a new
 * tensor under the usual ownership rule of tapegrad/tensor.h.
 *
 * Parameter names are PyTorch's state_dict keys ("w1.weight", "0.bias"),
 * listed in a stable order: a module's own parameters, then each child's in
 * the order the children were added. */
#ifndef TAPEGRAD_NN_H
#define TAPEGRAD_NN_H

#include "tapegrad/safetensors.h"
#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_module tg_module;

/* ---- Every module ----------------------------------------------------------- */
TG_API tg_tensor *tg_module_forward(tg_module *m, tg_tensor *x);
TG_API void tg_module_free(tg_module *m); /* NULL-safe */
/* The class name, as PyTorch prints it: "Linear", "Sequential", ... */
TG_API const char *tg_module_name(const tg_module *m);
/* Sets training (true) or evaluation (false) mode of m and all its
 * children: dropout is active only in training mode. New modules train. */
TG_API void tg_module_train(tg_module *m, tg_mode mode);
TG_API bool tg_module_is_training(const tg_module *m);

/* All parameters of m and its children, named (borrowed, valid while m
 * lives); *n receives their number. */
TG_API const tg_named_tensor *tg_module_parameters(const tg_module *m, int *n);
/* The same tensors in the same order, as optimizers take them. */
TG_API tg_tensor *const *tg_module_parameter_tensors(const tg_module *m, int *n);
/* One parameter by its full name (borrowed), or NULL with an error when the
 * module has no parameter of that name. */
TG_API tg_tensor *tg_module_parameter(const tg_module *m, const char *name);
/* The number of scalar parameters (elements of all parameter tensors). */
TG_API int64_t tg_module_num_elements(const tg_module *m);
/* Zeroes every parameter's grad, or drops it (NULL) with set_to_none. */
TG_API void tg_module_zero_grad(tg_module *m, tg_zero_grad_mode mode);
/* The parameters to and from a safetensors file (state_dict keys as names),
 * strict like load_state_dict. Return 0, or -1. */
TG_API int tg_module_save(const tg_module *m, const char *path);
TG_API int tg_module_load(tg_module *m, const char *path);

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

/* ---- Containers ---------------------------------------------------------------- */
/* Applies the n modules in order; children named "0", "1", ... */
TG_API tg_module *tg_sequential_new(int n, tg_module *const *modules);
/* x + inner(x), for residual connections; the child is named "fn". */
TG_API tg_module *tg_residual_new(tg_module *inner);

#ifdef __cplusplus
}
#endif
#endif
