/* examples/fashion_mnist.c - train a classifier on Fashion-MNIST, the main demo.
 *
 * 70,000 grey 28x28 pictures of clothes in 10 classes (T-shirt, trouser,
 * pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot), from
 * Debian's dataset-fashion-mnist package. The network: Linear(784 -> 256),
 * a residual SwiGLU FeedForward block (LLaMA's, hidden 704), Linear(256 ->
 * 10), trained with AdamW on cross-entropy in shuffled batches of 64.
 *
 *     fashion_mnist                 3 epochs, test accuracy after each, pictures
 *     fashion_mnist --epochs N      N epochs
 *     fashion_mnist --data DIR      the four *-ubyte.gz files (default: the
 *                                   package's /usr/share/datasets/fashion-mnist)
 *     fashion_mnist --out DIR       where the model, CSV and PNG go (default out)
 *
 * It writes DIR/fashion_mnist.safetensors (the trained weights, loadable
 * into PyTorch: tests/golden/load_in_pytorch.py shows how),
 * DIR/fashion_mnist.csv (the loss of every step, and each epoch's test
 * accuracy) and DIR/fashion_mnist.png (both, drawn by gnuplot).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapegrad/tapegrad.h>

#include "fashion_model.h"
#include "plot.h"

enum { DIM = 256, HIDDEN = 1024, MULTIPLE_OF = 64, BATCH = 64 };

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "fashion_mnist: %s: %s\n", what, tg_last_error());
    exit(1);
}

/* Both splits from dir: images as float32 in [0, 1], a row of 784 pixels
 * each, labels as int64 (tapegrad/data.h); no pool, so all the caller's. */
static void load_data(const char *dir, tg_tensor **train_x, tg_tensor **train_y, tg_tensor **test_x,
                      tg_tensor **test_y) {
    if (tg_mnist_load(dir, TG_MNIST_TRAIN, train_x, train_y) != 0 ||
        tg_mnist_load(dir, TG_MNIST_TEST, test_x, test_y) != 0) {
        fprintf(stderr,
                "fashion_mnist: %s\n(apt-get install dataset-fashion-mnist, or --data DIR)\n",
                tg_last_error());
        exit(1);
    }
}


static void draw(const char *csv, const char *png, int epochs) {
    char script[4096];
    snprintf(script, sizeof script,
             "set terminal pngcairo size 900,500\nset output '%s'\nset datafile separator ','\n"
             "set grid\nset key center right\nset xlabel 'epoch'\nset y2range [0:100]\n"
             "set ylabel 'cross-entropy (training batches)'\nset y2label 'test accuracy (%%)'\n"
             "set ytics nomirror\nset y2tics\nset xrange [0:%d]\n"
             "set title 'Fashion-MNIST: Linear, residual SwiGLU FeedForward, Linear (AdamW)'\n"
             "plot '%s' using 1:2 every ::1 with lines lw 1 lc rgb '#8080c0' title 'loss', "
             "'' using 1:3 every ::1 with linespoints lw 2 pt 7 lc rgb '#c03030' axes x1y2 "
             "title 'test accuracy'\n",
             png, epochs, csv);
    if (run_gnuplot(script, csv)) printf("picture: %s\n", png);
}

int main(int argc, char **argv) {
    int epochs = 3;
    const char *data = "/usr/share/datasets/fashion-mnist", *out = "out";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--epochs N] [--data DIR] [--out DIR]\n", argv[0]);
            return 2;
        }
    }
    tg_tensor *train_x, *train_y, *test_x, *test_y;
    load_data(data, &train_x, &train_y, &test_x, &test_y);

    tg_manual_seed(0);
    /* Linear(784, 256), a residual SwiGLU FeedForward, Linear(256, 10): fashion_model.h */
    tg_module *net = fashion_model_new(DIM, HIDDEN, MULTIPLE_OF, TG_F32);
    if (!net) die("building the network");
    tg_module_print(net, stdout); /* as print(model) in PyTorch */
    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options adamw = tg_adamw_defaults(); /* lr 1e-3, weight decay 0.01 */
    tg_optimizer *opt = tg_adamw_new(params, n_params, &adamw);
    tg_generator *shuffle = tg_generator_new(0);
    tg_loader *loader = tg_loader_new(2, (tg_tensor *[]){train_x, train_y}, BATCH, TG_SHUFFLE,
                                      TG_KEEP_LAST, shuffle);
    int64_t per_epoch = tg_loader_batches(loader);
    /* the learning rate falls from 1e-3 to 0 along a half cosine, step by step */
    tg_lr_scheduler *schedule = tg_cosine_annealing_lr(opt, (int)(per_epoch * epochs), 0);
    if (!opt || !loader || !schedule) die("setting up training");

    printf("Fashion-MNIST: %lld training and %lld test images; %lld parameters; %d epochs of %lld "
           "batches of %d\n",
           (long long)tg_size(train_y, 0), (long long)tg_size(test_y, 0),
           (long long)tg_module_num_elements(net), epochs, (long long)per_epoch, BATCH);
    char csv_path[1024], png_path[1024], model_path[1024];
    snprintf(csv_path, sizeof csv_path, "%s/fashion_mnist.csv", out);
    snprintf(png_path, sizeof png_path, "%s/fashion_mnist.png", out);
    snprintf(model_path, sizeof model_path, "%s/fashion_mnist.safetensors", out);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        perror(csv_path);
        return 1;
    }
    fprintf(csv, "epoch,loss,test_accuracy\n0,,%.2f\n",
            100 * fashion_test_accuracy(net, test_x, test_y));

    double start = now_seconds(), accuracy = 0;
    int64_t step = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        tg_tensor *batch[2];
        double epoch_start = now_seconds();
        /* step/total, loss, steps per second and time left, redrawn in place */
        tg_progress *progress = tg_progress_new(per_epoch, stdout, NULL);
        for (;;) {
            tg_pool *pool = tg_pool_push(); /* this step's tensors */
            int got = tg_loader_next(loader, batch);
            if (got < 0) die("loading a batch");
            if (got == 0) {
                tg_pool_pop(pool);
                break;
            }
            tg_tensor *loss = tg_cross_entropy(tg_module_forward(net, batch[0]), batch[1],
                                               TG_REDUCTION_MEAN);
            tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
            if (!loss || tg_backward(loss, NULL) != 0 || tg_optim_step(opt) != 0 ||
                tg_lr_scheduler_step(schedule) != 0)
                die("training");
            double value = tg_item(loss);
            step++;
            fprintf(csv, "%.6f,%.6g,\n", (double)step / (double)per_epoch, value);
            tg_progress_update(progress, step - (epoch - 1) * per_epoch, epoch, value);
            tg_pool_pop(pool);
        }
        tg_progress_finish(progress);
        tg_progress_free(progress);
        double train_time = now_seconds() - epoch_start;
        accuracy = fashion_test_accuracy(net, test_x, test_y);
        fprintf(csv, "%d,,%.2f\n", epoch, 100 * accuracy);
        printf("epoch %d/%d: test accuracy %.2f%% (training %.1f s)\n", epoch, epochs,
               100 * accuracy, train_time);
    }
    fclose(csv);
    printf("trained in %.1f s; test accuracy %.2f%%\n", now_seconds() - start, 100 * accuracy);
    if (tg_module_save(net, model_path) != 0) die(model_path);
    printf("model: %s\ncurves: %s\n", model_path, csv_path);
    draw(csv_path, png_path, epochs);

    tg_lr_scheduler_free(schedule);
    tg_loader_free(loader);
    tg_generator_free(shuffle);
    tg_optim_free(opt);
    tg_module_free(net);
    tg_release(train_x);
    tg_release(train_y);
    tg_release(test_x);
    tg_release(test_y);
    return 0;
}
