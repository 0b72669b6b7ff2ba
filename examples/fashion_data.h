/* examples/fashion_data.h - what the Fashion-MNIST examples share
 * (fashion_mnist.c, train_ddp.c): reading a split of Debian's
 * dataset-fashion-mnist, the network, and its test accuracy. */
#ifndef TAPEGRAD_EXAMPLES_FASHION_DATA_H
#define TAPEGRAD_EXAMPLES_FASHION_DATA_H

#include <stdbool.h>
#include <stdio.h>

#include <tapegrad/tapegrad.h>

enum { FASHION_PIXELS = 28 * 28, FASHION_CLASSES = 10 };

/* Images as float32 rows of 784 pixels in [0, 1] (as torchvision's
 * ToTensor, flattened) and labels as int64, both owned by the caller;
 * false (tg_last_error() says why) when the files cannot be read. */
static inline bool fashion_load_split(const char *dir, const char *split, tg_tensor **x,
                                      tg_tensor **y) {
    char images[1024], labels[1024];
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    tg_pool *pool = tg_pool_push();
    tg_tensor *pixels = tg_idx_load(images, TG_F32);
    if (pixels) tg_div_scalar_(pixels, 255); /* in place: one copy of the data set in memory */
    *x = tg_retain(tg_reshape(pixels, TG_SHAPE(tg_size(pixels, 0), FASHION_PIXELS)));
    *y = *x ? tg_retain(tg_idx_load(labels, TG_I64)) : NULL;
    tg_pool_pop(pool);
    if (!*y) tg_release(*x);
    return *y != NULL;
}

/* Linear(784 -> dim), a residual SwiGLU FeedForward (LLaMA's, hidden
 * 1024 rounded to a multiple of 64), Linear(dim -> 10), from the default
 * generator; NULL on failure. */
static inline tg_module *fashion_network(int64_t dim) {
    tg_ffn_options ffn = {
        .kind = TG_FFN_SWIGLU, .dim = dim, .hidden_dim = 1024, .multiple_of = 64, .dtype = TG_F32};
    return tg_sequential_new(
        3, (tg_module *[]){tg_linear_new(FASHION_PIXELS, dim, TG_BIAS, TG_F32, NULL),
                           tg_residual_new(tg_feedforward_new(&ffn, NULL)),
                           tg_linear_new(dim, FASHION_CLASSES, TG_BIAS, TG_F32, NULL)});
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
