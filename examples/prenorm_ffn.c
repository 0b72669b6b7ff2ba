/* examples/prenorm_ffn.c - a stack of pre-norm residual FeedForward blocks,
 * x + FeedForward(RMSNorm(x)), LLaMA's layout without attention, trained on
 * Fashion-MNIST. The blocks are modules of one's own, written with the
 * public API only (examples/prenorm_block.h); tests/test_prenorm.c checks
 * the same stack's training against PyTorch's.
 *
 *     prenorm_ffn                   4 blocks of dim 128, 1 epoch
 *     prenorm_ffn --layers N --epochs N --data DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "prenorm_block.h"

enum { PIXELS = 28 * 28, CLASSES = 10, DIM = 128, HIDDEN = 512, MULTIPLE_OF = 32, BATCH = 64 };

static void die(const char *what) {
    fprintf(stderr, "prenorm_ffn: %s: %s\n", what, tg_last_error());
    exit(1);
}

int main(int argc, char **argv) {
    int layers = 4, epochs = 1;
    const char *data = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--layers") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            layers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--layers N] [--epochs N] [--data DIR]\n", argv[0]);
            return 2;
        }
    }
    tg_tensor *train_x, *train_y, *test_x, *test_y; /* no pool: all the caller's */
    if (tg_mnist_load(data, TG_MNIST_TRAIN, &train_x, &train_y) != 0 ||
        tg_mnist_load(data, TG_MNIST_TEST, &test_x, &test_y) != 0)
        die("(apt-get install dataset-fashion-mnist, or --data DIR)");

    tg_manual_seed(0);
    tg_ffn_options ffn = {.kind = TG_FFN_SWIGLU,
                          .dim = DIM,
                          .hidden_dim = HIDDEN,
                          .multiple_of = MULTIPLE_OF,
                          .dtype = TG_F32};
    tg_module *net = prenorm_stack_new(PIXELS, CLASSES, layers, &ffn, 1e-6, NULL);
    if (!net) die("building the network");
    tg_module_print(net, stdout);
    tg_module_summary(net, stdout);

    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options adamw = tg_adamw_defaults();
    tg_optimizer *opt = tg_adamw_new(params, n_params, &adamw);
    tg_generator *gen = tg_generator_new(0);
    tg_loader *loader = tg_loader_new(2, (tg_tensor *[]){train_x, train_y}, BATCH, TG_SHUFFLE,
                                      TG_KEEP_LAST, gen);
    if (!opt || !loader) die("setting up training");
    for (int epoch = 1; epoch <= epochs; epoch++) {
        tg_progress *progress = tg_progress_new(tg_loader_batches(loader), stdout, NULL);
        tg_tensor *batch[2];
        for (int64_t step = 1;; step++) {
            tg_pool *pool = tg_pool_push();
            int got = tg_loader_next(loader, batch);
            if (got != 1) {
                tg_pool_pop(pool);
                if (got < 0) die("loading a batch");
                break;
            }
            tg_tensor *loss = tg_cross_entropy(tg_module_forward(net, batch[0]), batch[1],
                                               TG_REDUCTION_MEAN);
            tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
            if (!loss || tg_backward(loss, NULL) != 0 || tg_optim_step(opt) != 0) die("training");
            tg_progress_update(progress, step, epoch, tg_item(loss));
            tg_pool_pop(pool);
        }
        tg_progress_finish(progress);
        tg_progress_free(progress);
        tg_module_train(net, TG_EVAL);
        tg_pool *pool = tg_pool_push();
        tg_tensor *predicted = tg_argmax(tg_module_forward(net, test_x), 1, TG_DROP_DIMS);
        double accuracy = tg_item(tg_mean(tg_to_dtype(tg_eq(predicted, test_y), TG_F32)));
        if (!predicted) die("testing");
        printf("epoch %d/%d: test accuracy %.2f%%\n", epoch, epochs, 100 * accuracy);
        tg_pool_pop(pool);
        tg_module_train(net, TG_TRAIN);
    }
    tg_loader_free(loader);
    tg_generator_free(gen);
    tg_optim_free(opt);
    tg_module_free(net);
    tg_release(train_x);
    tg_release(train_y);
    tg_release(test_x);
    tg_release(test_y);
    return 0;
}
