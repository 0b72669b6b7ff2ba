/* tests/bench/bench_fashion.c - one epoch of the Fashion-MNIST demo's
 * training (examples/fashion_mnist.c: the same model, optimizer, batches
 * and loader), timed; torch_fashion.py is its PyTorch twin and
 * compare_fashion.sh runs both, alternating, into one table.
 *
 *     bench_fashion [--threads N] [--data DIR] [--epochs N] [--csv]
 *
 * Reports seconds per epoch, the share of it spent assembling batches
 * (tg_loader_next: the shuffled index_select of 64 rows of each tensor),
 * and the process's peak resident memory (VmHWM), in all and above what
 * it held once the data set was loaded. Needs Debian's
 * dataset-fashion-mnist; without it, says so and exits 77. */
#include <stdio.h>
#include <unistd.h>

#include "../../examples/fashion_model.h"
#include "bench_common.h"

enum { DIM = 256, HIDDEN = 1024, MULTIPLE_OF = 64, BATCH = 64 };

/* A field of /proc/self/status, in MiB (VmHWM: peak, VmRSS: now). */
static double status_mib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    size_t len = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0 && line[len] == ':') kib = atof(line + len + 1);
    if (f) fclose(f);
    return kib / 1024;
}

int main(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist";
    int epochs = 1;
    bool csv = false;
    double budget = 0;
    int64_t unused = 0;
    for (int i = 1; i < argc; i++) {
        int common = common_option(argc, argv, &i, &budget, &unused);
        if (common == 1) continue;
        if (common == 0 && strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (common == 0 && strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (common == 0 && strcmp(argv[i], "--csv") == 0)
            csv = true;
        else {
            fprintf(stderr, "usage: %s [--threads N] [--data DIR] [--epochs N] [--csv]\n", argv[0]);
            return 2;
        }
    }
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", data);
    if (access(probe, R_OK) != 0) {
        printf("skipped: %s not found (apt-get install dataset-fashion-mnist)\n", probe);
        return 77;
    }
    tg_tensor *x, *labels;
    if (tg_mnist_load(data, TG_MNIST_TRAIN, &x, &labels) != 0) {
        fprintf(stderr, "bench_fashion: %s\n", tg_last_error());
        return 1;
    }
    double loaded_mib = status_mib("VmRSS");

    tg_manual_seed(0);
    tg_module *net = fashion_model_new(DIM, HIDDEN, MULTIPLE_OF, TG_F32);
    int n_params;
    tg_tensor *const *params = tg_module_parameter_tensors(net, &n_params);
    tg_adam_options adamw = tg_adamw_defaults();
    tg_optimizer *opt = tg_adamw_new(params, n_params, &adamw);
    tg_generator *gen = tg_generator_new(0);
    tg_loader *loader = tg_loader_new(2, (tg_tensor *[]){x, labels}, BATCH, TG_SHUFFLE,
                                      TG_KEEP_LAST, gen);
    if (!net || !opt || !loader) {
        fprintf(stderr, "bench_fashion: %s\n", tg_last_error());
        return 1;
    }
    if (csv) printf("threads,epoch_s,assembly_share,peak_mib,peak_over_data_mib,last_loss\n");
    for (int e = 0; e < epochs; e++) {
        double start = now_s(), assembly = 0, last = 0;
        for (;;) {
            tg_pool *pool = tg_pool_push();
            tg_tensor *batch[2];
            double t0 = now_s();
            int got = tg_loader_next(loader, batch);
            assembly += now_s() - t0;
            if (got != 1) {
                tg_pool_pop(pool);
                break;
            }
            tg_tensor *loss = tg_cross_entropy(tg_module_forward(net, batch[0]), batch[1],
                                               TG_REDUCTION_MEAN);
            tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
            if (!loss || tg_backward(loss, NULL) != 0 || tg_optim_step(opt) != 0) {
                fprintf(stderr, "bench_fashion: %s\n", tg_last_error());
                return 1;
            }
            last = tg_item(loss);
            tg_pool_pop(pool);
        }
        double epoch_s = now_s() - start, peak = status_mib("VmHWM");
        if (csv)
            printf("%d,%.3f,%.4f,%.1f,%.1f,%.4f\n", tg_get_num_threads(), epoch_s,
                   assembly / epoch_s, peak, peak - loaded_mib, last);
        else
            printf("epoch %d: %.2f s at %d threads; batch assembly %.2f%%; peak %.0f MiB (%.0f "
                   "above the loaded data); last loss %.4f\n",
                   e + 1, epoch_s, tg_get_num_threads(), 100 * assembly / epoch_s, peak,
                   peak - loaded_mib, last);
    }
    tg_loader_free(loader);
    tg_generator_free(gen);
    tg_optim_free(opt);
    tg_module_free(net);
    tg_release(x);
    tg_release(labels);
    return 0;
}
