/* examples/fashion_model.h - the Fashion-MNIST demo's classifier, as
 * PyTorch would write it:
 *
 *     nn.Sequential(nn.Linear(784, dim), Residual(FeedForward(SwiGLU, dim,
 *                   hidden_dim, multiple_of)), nn.Linear(dim, 10))
 *
 * examples/fashion_mnist.c trains it; tests/test_fashion.c (small) and
 * tests/bench/bench_fashion.c (the demo's size) train the same. */
#ifndef TAPEGRAD_EXAMPLES_FASHION_MODEL_H
#define TAPEGRAD_EXAMPLES_FASHION_MODEL_H

#include <tapegrad/tapegrad.h>

/* A new model, the caller's (tg_module_free); NULL with the error set. Its
 * weights are drawn from tapegrad's global generator (tg_manual_seed). */
static inline tg_module *fashion_model_new(int64_t dim, int64_t hidden_dim, int64_t multiple_of,
                                           tg_dtype dtype) {
    tg_ffn_options ffn = {.kind = TG_FFN_SWIGLU,
                          .dim = dim,
                          .hidden_dim = hidden_dim,
                          .multiple_of = multiple_of,
                          .dtype = dtype};
    return tg_sequential_new(3, (tg_module *[]){tg_linear_new(28 * 28, dim, TG_BIAS, dtype, NULL),
                                                tg_residual_new(tg_feedforward_new(&ffn, NULL)),
                                                tg_linear_new(dim, 10, TG_BIAS, dtype, NULL)});
}

#endif
