/* examples/fashion_model.h - the Fashion-MNIST demo's classifier, as
 * PyTorch would write it:
 *
 *     nn.Sequential(nn.Linear(784, dim), Residual(FeedForward(SwiGLU, dim,
 *                   hidden_dim, multiple_of)), nn.Linear(dim, 10))
 *
 * and its test accuracy. examples/fashion_mnist.c trains it, and
 * examples/train_ddp.c data-parallel; tests/test_fashion.c (small) and
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

/* The share of the test set the network labels right, in batches. */
static inline double fashion_test_accuracy(tg_module *net, tg_tensor *x, tg_tensor *y) {
    tg_module_train(net, TG_EVAL);
    tg_loader *batches = tg_loader_new(2, (tg_tensor *[]){x, y}, 1000, TG_IN_ORDER, TG_KEEP_LAST,
                                       NULL);
    tg_tensor *b[2];
    int64_t correct = 0;
    tg_pool *pool = tg_pool_push();
    while (tg_loader_next(batches, b) == 1) {
        tg_pool *step = tg_pool_push();
        /* one line: argmax of the logits against the labels, counted */
        correct += (int64_t)tg_item(
            tg_sum(tg_eq(tg_argmax(tg_module_forward(net, b[0]), 1, TG_DROP_DIMS), b[1])));
        tg_pool_pop(step);
    }
    tg_pool_pop(pool);
    tg_loader_free(batches);
    tg_module_train(net, TG_TRAIN);
    return (double)correct / (double)tg_size(y, 0);
}

#endif
