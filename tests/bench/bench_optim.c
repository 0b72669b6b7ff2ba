/* tests/bench/bench_optim.c - one optimizer step on a large parameter:
 * each of tapegrad's update rules is a single pass over the parameter, its
 * gradient and its state, so its speed is bound by memory traffic; this
 * prints each step's time, its time per parameter and the bytes it moves
 * per second. tests/bench/torch_optim.py runs the same steps in PyTorch.
 *
 *     bench_optim [--threads N] [--budget SECONDS] [--n PARAMETERS] [--csv]
 *
 * The parameter is float32, n elements (4M by default), its gradient set
 * once; each run is one tg_optim_step. Bytes moved per parameter: the
 * parameter read and written, the gradient read, each state tensor read
 * and written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"

typedef struct rule {
    const char *name;
    int states; /* state tensors per parameter */
    tg_optimizer *(*make)(tg_tensor **p);
} rule;

static tg_optimizer *sgd(tg_tensor **p) {
    tg_sgd_options o = tg_sgd_defaults(0.01);
    return tg_sgd_new(p, 1, &o);
}
static tg_optimizer *sgd_momentum(tg_tensor **p) {
    tg_sgd_options o = tg_sgd_defaults(0.01);
    o.momentum = 0.9, o.weight_decay = 0.01;
    return tg_sgd_new(p, 1, &o);
}
static tg_optimizer *adagrad(tg_tensor **p) {
    tg_adagrad_options o = tg_adagrad_defaults();
    return tg_adagrad_new(p, 1, &o);
}
static tg_optimizer *rmsprop_momentum(tg_tensor **p) {
    tg_rmsprop_options o = tg_rmsprop_defaults();
    o.momentum = 0.9;
    return tg_rmsprop_new(p, 1, &o);
}
static tg_optimizer *adam(tg_tensor **p) {
    tg_adam_options o = tg_adam_defaults();
    return tg_adam_new(p, 1, &o);
}
static tg_optimizer *adamw(tg_tensor **p) {
    tg_adam_options o = tg_adamw_defaults();
    return tg_adamw_new(p, 1, &o);
}

/* The names and options torch_optim.py uses too. */
static const rule rules[] = {
    {"sgd", 0, sgd},         {"sgd-momentum", 1, sgd_momentum},
    {"adagrad", 1, adagrad}, {"rmsprop-momentum", 2, rmsprop_momentum},
    {"adam", 2, adam},       {"adamw", 2, adamw},
};
enum { N_RULES = sizeof rules / sizeof rules[0] };

static int step(void *opt) { return tg_optim_step(opt); }

int main(int argc, char **argv) {
    int64_t n = 1 << 22;
    double budget_s = 1.0;
    bool csv = false;
    for (int i = 1; i < argc; i++) {
        int known = common_option(argc, argv, &i, &budget_s, &n);
        if (known < 0) return 2;
        if (!known && strcmp(argv[i], "--csv") == 0) {
            csv = true;
        } else if (!known) {
            fprintf(stderr, "usage: %s [--threads N] [--budget SECONDS] [--n ELEMENTS] [--csv]\n",
                    argv[0]);
            return 2;
        }
    }
    tg_tensor *p = tg_requires_grad_(tg_randn(TG_SHAPE(n), TG_F32, NULL), true);
    if (!p || tg_backward(tg_sum(tg_mul(p, p)), NULL) != 0) { /* grad = 2 p */
        fprintf(stderr, "bench_optim: %s\n", tg_last_error());
        return 1;
    }
    if (csv)
        printf("rule,threads,n,median_ms,ns_per_param,gb_per_s\n");
    else
        printf("float32, %lld parameters, %d thread(s)\n%-17s %10s %12s %8s\n", (long long)n,
               tg_get_num_threads(), "rule", "median ms", "ns / param", "GB/s");
    int failed = 0;
    for (int k = 0; k < N_RULES; k++) {
        tg_optimizer *opt = rules[k].make(&p);
        timing t = opt ? time_runs(step, opt, budget_s, 0) : (timing){0};
        tg_optim_free(opt);
        if (!t.runs) {
            fprintf(stderr, "bench_optim: %s failed: %s\n", rules[k].name, tg_last_error());
            failed = 1;
            continue;
        }
        double bytes = (double)n * sizeof(float) * (3 + 2 * rules[k].states);
        double ms = 1e3 * t.median_s, ns = 1e9 * t.median_s / (double)n;
        double gb_s = bytes / t.median_s * 1e-9;
        if (csv)
            printf("%s,%d,%lld,%.4f,%.4f,%.2f\n", rules[k].name, tg_get_num_threads(), (long long)n,
                   ms, ns, gb_s);
        else
            printf("%-17s %10.3f %12.3f %8.1f\n", rules[k].name, ms, ns, gb_s);
    }
    tg_release(p);
    return failed;
}
