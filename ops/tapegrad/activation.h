/* tapegrad/activation.h - activation functions and the GLU family.
 *
 * The usual rules of tapegrad/ops.h hold: each function returns a new tensor
 * of its input's shape and dtype (float32 or float64, any strides), or NULL
 * with tg_last_error() set, and returns NULL at once when given NULL. Values
 * and gradients follow PyTorch 1.13; the comment after each declaration names
 * the node its result records ("ReluBackward0"), as torch names it.
 * Parameters with a PyTorch default have a TG_..._DEFAULT_... constant; on
 * float32 tensors, scalar parameters are rounded to float before use, as
 * torch does.
 *
 * Where the study documents disagree with PyTorch, PyTorch is followed:
 * RReLU draws its slope uniformly (not from a Gaussian), ELU's alpha is a
 * fixed hyper-parameter (PReLU's weight is the learnable slope), and GELU's
 * derivative is the one written at tg_gelu, not 0.5[tanh(u) + x(1 - GELU(x)^2)].
 */
#ifndef TAPEGRAD_ACTIVATION_H
#define TAPEGRAD_ACTIVATION_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Rectifiers ---------------------------------------------------------------------- */

/* max(x, 0); the gradient at 0 is 0, as torch. */
TG_API tg_tensor *tg_relu(tg_tensor *x); /* ReluBackward0 */

/* x for x > 0, negative_slope * x otherwise (at 0 the gradient is the
 * slope). PyTorch's default slope is 0.01, the documents' value. */
#define TG_LEAKY_RELU_DEFAULT_SLOPE 0.01
TG_API tg_tensor *tg_leaky_relu(tg_tensor *x, double negative_slope); /* LeakyReluBackward0 */

/* x for x > 0, weight * x otherwise, with a learnable weight: either one
 * element (shared by every channel) or one per channel, a 1-D tensor of
 * x's size along dim 1 (dim 0 counts as batch, as in torch; inputs with
 * fewer than 2 dims have one channel). weight has x's dtype and gets a
 * gradient when it requires grad. */
TG_API tg_tensor *tg_prelu(tg_tensor *x, tg_tensor *weight); /* PreluBackward0 */

/* Randomized leaky ReLU. Training: each element x <= 0 is multiplied by its
 * own slope drawn uniformly from [lower, upper] (gen, or the default
 * generator when NULL, as torch draws them: the same seed gives the same
 * slopes as torch.manual_seed does); the gradient is that slope. Eval: the
 * fixed slope (lower + upper) / 2. lower must not exceed upper. */
#define TG_RRELU_DEFAULT_LOWER (1.0 / 8) /* torch's defaults */
#define TG_RRELU_DEFAULT_UPPER (1.0 / 3)
TG_API tg_tensor *tg_rrelu(tg_tensor *x, double lower, double upper, tg_mode training,
                           tg_generator *gen); /* RreluWithNoiseBackward0 */

/* x for x > 0, alpha * (exp(x) - 1) otherwise. alpha is a fixed
 * hyper-parameter, not learned (torch's default is 1). */
#define TG_ELU_DEFAULT_ALPHA 1.0
TG_API tg_tensor *tg_elu(tg_tensor *x, double alpha); /* EluBackward0 */

/* SELU: scale * elu(x, alpha) with Klambauer et al.'s constants (PyTorch's,
 * to its 32 digits). torch records EluBackward0 for it, as it computes
 * elu(x, alpha, scale). */
#define TG_SELU_ALPHA 1.6732632423543772848170429916717
#define TG_SELU_SCALE 1.0507009873554804934193349852946
TG_API tg_tensor *tg_selu(tg_tensor *x); /* EluBackward0 */

/* CELU: x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (continuously
 * differentiable for any alpha). alpha 0 is refused, as torch refuses it
 * (TG_ERR_VALUE, "alpha cannot be 0 for CELU"); torch's default is 1. */
#define TG_CELU_DEFAULT_ALPHA 1.0
TG_API tg_tensor *tg_celu(tg_tensor *x, double alpha); /* CeluBackward0 */

/* ---- Piecewise-linear ("hard") activations ------------------------------------------
 * Computed in the tensor's own type with PyTorch's steps: the same bits. */

/* clamp(x, min_val, max_val), as F.hardtanh; the gradient is 1 strictly
 * inside the bounds, 0 at and beyond them. As in PyTorch 1.13, min_val >
 * max_val is accepted (max_val everywhere, gradient 0) and a NaN bound gives
 * NaN everywhere (tg_hardtanh_new refuses both, as nn.Hardtanh does). */
#define TG_HARDTANH_DEFAULT_MIN_VAL (-1.0)
#define TG_HARDTANH_DEFAULT_MAX_VAL 1.0
TG_API tg_tensor *tg_hardtanh(tg_tensor *x, double min_val, double max_val); /* HardtanhBackward0 */
/* min(max(x, 0), 6) = hardtanh(x, 0, 6), which is what torch records. */
TG_API tg_tensor *tg_relu6(tg_tensor *x); /* HardtanhBackward0 */
/* relu6(x + 3) / 6; the gradient is 1/6 strictly inside (-3, 3), else 0. */
TG_API tg_tensor *tg_hardsigmoid(tg_tensor *x); /* HardsigmoidBackward0 */
/* x * relu6(x + 3) / 6; the gradient is 0 below -3, x / 3 + 1/2 up to 3,
 * 1 from 3 (where torch's one-element path says 3/2). Where x * 6
 * overflows, the result is x (torch's is inf). */
TG_API tg_tensor *tg_hardswish(tg_tensor *x); /* HardswishBackward0 */

/* ---- Smooth activations -------------------------------------------------------------- */

/* 1 / (1 + exp(-x)), computed so that no exp overflows. */
TG_API tg_tensor *tg_sigmoid(tg_tensor *x); /* SigmoidBackward0 */
TG_API tg_tensor *tg_tanh(tg_tensor *x);    /* TanhBackward0 */

/* GELU, torch.nn.functional.gelu(x, approximate=...):
 *   TG_GELU_NONE  x * Phi(x), Phi the standard normal CDF (via erfc);
 *                 derivative Phi(x) + x * phi(x).
 *   TG_GELU_TANH  0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
 *                 derivative 0.5 (1 + tanh u)
 *                            + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
 * (0.5 x (1 + tanh(0.797885 x)), without the cubic term, is a coarser
 * approximation than TG_GELU_TANH and not offered.) Any other value of
 * approximate is refused (TG_ERR_VALUE), as PyTorch refuses any string
 * but "none" and "tanh". */
typedef enum tg_gelu_approx { TG_GELU_NONE = 0, TG_GELU_TANH = 1 } tg_gelu_approx;
TG_API tg_tensor *tg_gelu(tg_tensor *x, tg_gelu_approx approximate); /* GeluBackward0 */

/* x * sigmoid(x), also called Swish-1. */
TG_API tg_tensor *tg_silu(tg_tensor *x); /* SiluBackward0 */

/* Swish x * sigmoid(beta * x) with beta a one-element tensor of x's dtype,
 * which may require grad (learnable beta); the result has x's shape.
 * beta = 1 is SiLU, beta = 0 gives x / 2, beta -> infinity tends to ReLU.
 * PyTorch has no swish op (x * torch.sigmoid(beta * x) records
 * MulBackward0); the node is named "SwishBackward0". */
TG_API tg_tensor *tg_swish(tg_tensor *x, tg_tensor *beta); /* SwishBackward0 */

/* log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold
 * (where the two agree to the dtype's precision), as torch. */
#define TG_SOFTPLUS_DEFAULT_BETA 1.0
#define TG_SOFTPLUS_DEFAULT_THRESHOLD 20.0
TG_API tg_tensor *tg_softplus(tg_tensor *x, double beta, double threshold); /* SoftplusBackward0 */

/* x * tanh(softplus(x)) (Misra's Mish); derivative t + x sigmoid(x) (1 - t^2),
 * t = tanh(softplus(x)). */
TG_API tg_tensor *tg_mish(tg_tensor *x); /* MishBackward0 */

/* log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), never overflowing;
 * derivative sigmoid(-x). torch.nn.functional.logsigmoid. */
TG_API tg_tensor *tg_logsigmoid(tg_tensor *x); /* LogSigmoidBackward0 */

/* x / (1 + |x|); derivative 1 / (1 + |x|)^2. torch computes it as x / (|x| +
 * 1) and records DivBackward0 (its last op); tapegrad computes it as one op
 * recording one node of that name, with the derivative itself (torch's
 * backward subtracts two nearly equal terms for large |x|). NaN at +-inf,
 * as torch. */
TG_API tg_tensor *tg_softsign(tg_tensor *x); /* DivBackward0 */

/* x - tanh(x); derivative tanh(x)^2. torch computes x - x.tanh() and
 * records SubBackward0; tapegrad, one node of that name, computes it near 0
 * without the cancellation (torch's float32 tanhshrink(1e-3) is 5% off:
 * 3.49e-10 for 3.33e-10), and tanh^2 itself, not torch's g - g (1 - tanh^2).
 * At -0 it is -0 (torch's -0 - tanh(-0) is +0). */
TG_API tg_tensor *tg_tanhshrink(tg_tensor *x); /* SubBackward0 */

/* ---- The GLU family ------------------------------------------------------------------ */

/* torch.nn.functional.glu: x is split along dim (negative counts from the
 * end; torch's default is -1) into halves a and b of equal size, and the
 * result is a * sigmoid(b), half of x's size along dim. Dauphin et al.'s
 * GLU (x W + b) * sigmoid(x V + c) is this op on the two projections
 * concatenated along dim: both factors are projections of x (000's
 * x * sigmoid(W1 x) gates x itself, which is not GLU). */
TG_API tg_tensor *tg_glu(tg_tensor *x, int dim); /* GluBackward0 */

/* The gated forms of Shazeer's "GLU Variants Improve Transformer", used in
 * feed-forward blocks as w2(act(w1 x) * w3 x): given gate = w1 x and up = w3 x
 * of one shape and dtype, they return act(gate) * up. Forward and backward
 * are each one fused pass over the elements (the backward computes both
 * gradients at once), so they record one node that PyTorch does not have:
 * torch computes them as F.silu(gate) * up etc., recording MulBackward0.
 * GeGLU gates with GELU (not tanh); approximate chooses its form. */
TG_API tg_tensor *tg_swiglu(tg_tensor *gate, tg_tensor *up); /* SwiGLUBackward0 */
TG_API tg_tensor *tg_geglu(tg_tensor *gate, tg_tensor *up,
                           tg_gelu_approx approximate);     /* GeGLUBackward0 */
TG_API tg_tensor *tg_reglu(tg_tensor *gate, tg_tensor *up); /* ReGLUBackward0 */

#ifdef __cplusplus
}
#endif
#endif
