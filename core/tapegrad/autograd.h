/* tapegrad/autograd.h - requires_grad, the tape and backward.
 *
 * Every op whose inputs require grad (while grad mode is on) records a node
 * on the tape, named as PyTorch names it ("MulBackward0"), and its result
 * holds a reference to that node. tg_backward replays the tape in reverse
 * from a root and accumulates into the .grad of the leaves that require grad.
 */
#ifndef TAPEGRAD_AUTOGRAD_H
#define TAPEGRAD_AUTOGRAD_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

TG_API bool tg_requires_grad(const tg_tensor *t);
/* Sets requires_grad on a leaf in place and returns t (borrowed, not a new
 * reference). Fails on a non-leaf asked to stop requiring grad. */
TG_API tg_tensor *tg_requires_grad_(tg_tensor *t, bool requires_grad);
/* A leaf has no grad_fn: it was created directly, not computed by an op. */
TG_API bool tg_is_leaf(const tg_tensor *t);
/* Name of the node that made t ("MeanBackward0"), or NULL for a leaf. */
TG_API const char *tg_grad_fn_name(const tg_tensor *t);

/* The accumulated gradient of t, or NULL when none (borrowed). The
 * pointer stays valid and current, so from this call on tg_zero_grad
 * writes t's zeros at once instead of leaving them to the next backward. */
TG_API tg_tensor *tg_grad(const tg_tensor *t);
/* Fill t's gradient with zeros (kept allocated), as x.grad.zero_(). The
 * zeros are written lazily while tg_grad never gave the grad out: the next
 * backward writes over the old values instead of adding to them, and every
 * reader sees zeros (README, "zero_grad without a pass over memory"). */
TG_API void tg_zero_grad(tg_tensor *t);
/* Drop t's gradient (grad becomes NULL), as zero_grad(set_to_none=True). */
TG_API void tg_clear_grad(tg_tensor *t);

/* Computes the gradient of root with respect to every leaf that requires
 * grad and adds it to that leaf's .grad. grad is d(loss)/d(root), of root's
 * shape and dtype; it may be NULL only when root has one element (then 1).
 * The graph's saved tensors are freed afterwards, so a second backward
 * through the same nodes fails; tg_backward_ex with TG_RETAIN_GRAPH keeps them.
 * Returns 0, or -1 with tg_last_error() set. */
TG_API int tg_backward(tg_tensor *root, tg_tensor *grad);
TG_API int tg_backward_ex(tg_tensor *root, tg_tensor *grad, tg_graph_mode graph);

/* Grad mode, per thread (on by default). Off, ops record nothing, as inside
 * torch.no_grad(). Returns the previous mode, to restore it:
 *     bool prev = tg_set_grad_enabled(false);  ...  tg_set_grad_enabled(prev);
 */
TG_API bool tg_set_grad_enabled(bool enabled);
TG_API bool tg_is_grad_enabled(void);

/* ---- Gradient checking ------------------------------------------------------
 * Compares the gradients backward computes with central finite differences,
 * as torch.autograd.gradcheck does: every input must be a float64 tensor
 * that requires grad; fn builds the output from them (any shape). */
typedef tg_tensor *(*tg_gradcheck_fn)(tg_tensor *const *inputs, void *ctx);

typedef struct tg_gradcheck_options {
    double eps;  /* finite-difference step; 0 means 1e-6 */
    double atol; /* 0 means 1e-5 */
    double rtol; /* 0 means 1e-3 */
    /* Points where fn is not differentiable (0 for ReLU): input elements
     * closer than 10 * eps to one of them are not checked. */
    const double *kinks;
    int n_kinks;
} tg_gradcheck_options;

/* Clears the inputs' .grad. Returns 0 when every analytical derivative d out_j / d in_k matches the
 * numerical one within atol + rtol * |numerical|, otherwise -1 with the
 * first mismatch in tg_last_error(). opts may be NULL for the defaults. */
TG_API int tg_gradcheck(tg_gradcheck_fn fn, void *ctx, int n_inputs, tg_tensor *const *inputs,
                        const tg_gradcheck_options *opts);

#ifdef __cplusplus
}
#endif
#endif
