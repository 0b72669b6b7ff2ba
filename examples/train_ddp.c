/* examples/train_ddp.c - the Fashion-MNIST classifier of fashion_mnist.c,
 * trained data-parallel on several processes (tapegrad/dist.h):
 *
 *     mpirun -np 2 ./build/examples/train_ddp                 two ranks, one machine
 *     mpirun --hostfile hosts -np 4 ./build/examples/train_ddp four, on several
 *     train_ddp --epochs N --data DIR --out DIR                as fashion_mnist
 *
 * Every rank builds the same network, rank 0's weights are broadcast to
 * the others, and each epoch every rank takes its share of the same
 * shuffled order (tg_loader_new_dist). The global batch stays 64, as in
 * fashion_mnist.c, whatever the number of ranks: each rank's batch is 64 /
 * ranks, so the learning rate needs no change. After each backward the
 * gradients are averaged across the ranks, and every rank steps to the
 * same weights. Rank 0 alone prints, measures the test accuracy and writes
 * DIR/train_ddp.safetensors after each epoch. A rank that fails ends the
 * whole job (tg_dist_abort), so no other waits for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapegrad/tapegrad.h>

#include "fashion_model.h"

enum { DIM = 256, HIDDEN = 1024, MULTIPLE_OF = 64, BATCH = 64 };

static int rank;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Prints why on this rank, then ends every rank of the job. */
static void die(const char *what) {
    fprintf(stderr, "train_ddp: rank %d: %s: %s\n", rank, what, tg_last_error());
    tg_dist_abort(1);
}

int main(int argc, char **argv) {
    if (tg_dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "train_ddp: %s\n", tg_last_error());
        return 1;
    }
    rank = tg_dist_rank();
    int world = tg_dist_world_size(), epochs = 3;
    const char *data = "/usr/share/datasets/fashion-mnist", *out = "out";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else {
            if (rank == 0)
                fprintf(stderr, "usage: %s [--epochs N] [--data DIR] [--out DIR]\n", argv[0]);
            tg_dist_finalize();
            return 2;
        }
    }
    if (BATCH % world != 0) {
        if (rank == 0)
            fprintf(stderr, "train_ddp: %d ranks do not divide the batch of %d\n", world, BATCH);
        tg_dist_finalize();
        return 2;
    }
    tg_tensor *train_x, *train_y, *test_x = NULL, *test_y = NULL;
    /* every rank reads the training files (on each machine); rank 0 tests */
    if (tg_mnist_load(data, TG_MNIST_TRAIN, &train_x, &train_y) != 0 ||
        (rank == 0 && tg_mnist_load(data, TG_MNIST_TEST, &test_x, &test_y) != 0))
        die("loading the data (apt-get install dataset-fashion-mnist, or --data DIR)");

    tg_manual_seed(0); /* the same seed on every rank; the broadcast makes sure */
    tg_module *net = fashion_model_new(DIM, HIDDEN, MULTIPLE_OF, TG_F32);
    if (!net || tg_dist_broadcast_module(net) != 0) die("building the network");
    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options adamw = tg_adamw_defaults();
    tg_optimizer *opt = tg_adamw_new(params, n_params, &adamw);
    /* this rank's share of each epoch's order, in batches of 64 / ranks */
    tg_dist_sampler sampler = {.world_size = world, .rank = rank, .order = TG_SHUFFLE, .seed = 0};
    tg_loader *loader = tg_loader_new_dist(2, (tg_tensor *[]){train_x, train_y}, BATCH / world,
                                           TG_KEEP_LAST, &sampler);
    int64_t per_epoch = tg_loader_batches(loader);
    tg_lr_scheduler *schedule = tg_cosine_annealing_lr(opt, (int)(per_epoch * epochs), 0);
    if (!opt || !loader || !schedule) die("setting up training");
    if (rank == 0)
        printf("Fashion-MNIST on %d ranks: %lld parameters; %d epochs of %lld steps, each rank "
               "taking %d of every batch of %d\n",
               world, (long long)tg_module_num_elements(net), epochs, (long long)per_epoch,
               BATCH / world, BATCH);
    char model_path[1024];
    snprintf(model_path, sizeof model_path, "%s/train_ddp.safetensors", out);

    double start = now_seconds(), accuracy = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double epoch_start = now_seconds();
        tg_progress *progress = rank == 0 ? tg_progress_new(per_epoch, stdout, NULL) : NULL;
        for (int64_t step = 1;; step++) {
            tg_pool *pool = tg_pool_push();
            tg_tensor *batch[2];
            int got = tg_loader_next(loader, batch);
            if (got < 0) die("loading a batch");
            if (got == 0) {
                tg_pool_pop(pool);
                break;
            }
            tg_tensor *loss = tg_cross_entropy(tg_module_forward(net, batch[0]), batch[1],
                                               TG_REDUCTION_MEAN);
            tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
            if (!loss || tg_backward(loss, NULL) != 0 ||
                tg_dist_allreduce_grads(params, n_params) != 0 || tg_optim_step(opt) != 0 ||
                tg_lr_scheduler_step(schedule) != 0)
                die("training");
            if (progress)
                tg_progress_update(progress, step, epoch, tg_item(loss)); /* rank 0's loss */
            tg_pool_pop(pool);
        }
        if (progress) {
            tg_progress_finish(progress);
            tg_progress_free(progress);
            double train_time = now_seconds() - epoch_start;
            accuracy = fashion_test_accuracy(net, test_x, test_y);
            printf("epoch %d/%d: test accuracy %.2f%% (training %.1f s)\n", epoch, epochs,
                   100 * accuracy, train_time);
        }
        if (tg_dist_module_save(net, model_path) != 0) die("saving the model"); /* rank 0 writes */
    }
    if (rank == 0)
        printf("trained in %.1f s on %d ranks; test accuracy %.2f%%\nmodel: %s\n",
               now_seconds() - start, world, 100 * accuracy, model_path);
    tg_lr_scheduler_free(schedule);
    tg_loader_free(loader);
    tg_optim_free(opt);
    tg_module_free(net);
    tg_release(train_x);
    tg_release(train_y);
    tg_release(test_x);
    tg_release(test_y);
    tg_dist_finalize();
    return 0;
}
