/* tests/test_threads.c - two user threads training models of their own at
 * once give the bits that the same two runs give one after the other, with
 * 1 and with 2 library threads. The library's state is per thread (errors,
 * pools, grad mode, default generator) or guarded; tests/extra_checks.sh
 * also runs this program under ThreadSanitizer. */
#include <pthread.h>
#include <stdint.h>

#include "tg_test.h"

enum { BATCH = 64, DIM = 48, HIDDEN = 192, STEPS = 4 };

/* One training run; its result is every step's loss and the final
 * parameters, as bytes. */
typedef struct job {
    tg_ffn_kind kind;
    tg_dtype dtype;
    uint64_t seed;
    double losses[STEPS];
    unsigned char *params; /* malloc'ed */
    size_t params_bytes;
    char error[256]; /* empty when the run succeeded */
} job;

static void run_steps(job *j, tg_module *net, tg_optimizer *opt, tg_generator *gen) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *x = tg_randn(TG_SHAPE(BATCH, DIM), j->dtype, gen);
    tg_tensor *y = tg_randn(TG_SHAPE(BATCH, DIM), j->dtype, gen);
    for (int s = 0; s < STEPS && x && y; s++) {
        tg_pool *step = tg_pool_push();
        tg_tensor *loss = tg_mse_loss(tg_module_forward(net, x), y, TG_REDUCTION_MEAN);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        if (!loss || tg_backward(loss, NULL) != 0 || tg_optim_step(opt) != 0) {
            snprintf(j->error, sizeof j->error, "step %d: %s", s, tg_last_error());
            tg_pool_pop(step);
            break;
        }
        j->losses[s] = tg_item(loss);
        tg_pool_pop(step);
    }
    tg_pool_pop(pool);
}

/* Copies the parameters' bytes into j->params. */
static void keep_params(job *j, tg_module *net) {
    int n;
    tg_tensor *const *ps = tg_module_parameter_tensors(net, &n);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)tg_numel(ps[i]) * tg_dtype_size(j->dtype);
    j->params = malloc(total);
    j->params_bytes = total;
    for (size_t at = 0, i = 0; j->params && i < (size_t)n; i++) {
        size_t bytes = (size_t)tg_numel(ps[i]) * tg_dtype_size(j->dtype);
        memcpy(j->params + at, tg_data(ps[i]), bytes);
        at += bytes;
    }
}

static void *train(void *arg) {
    job *j = arg;
    tg_generator *gen = tg_generator_new(j->seed);
    tg_ffn_options ffn = {.kind = j->kind,
                          .dim = DIM,
                          .hidden_dim = HIDDEN,
                          .multiple_of = 16,
                          .dropout = 0.1,
                          .dtype = j->dtype};
    tg_module *net = tg_sequential_new(
        2, (tg_module *[]){tg_linear_new(DIM, DIM, TG_BIAS, j->dtype, gen),
                           tg_residual_new(tg_feedforward_new(&ffn, gen))});
    int n = 0;
    tg_tensor *const *params = net ? tg_module_parameter_tensors(net, &n) : NULL;
    tg_optimizer *opt = params ? tg_adamw_new(params, n, NULL) : NULL;
    if (!opt)
        snprintf(j->error, sizeof j->error, "setup: %s", tg_last_error());
    else
        run_steps(j, net, opt, gen);
    keep_params(j, net);
    tg_optim_free(opt);
    tg_module_free(net);
    tg_generator_free(gen);
    return NULL;
}

static bool same_run(const job *a, const job *b) {
    return !a->error[0] && !b->error[0] && memcmp(a->losses, b->losses, sizeof a->losses) == 0 &&
           a->params && b->params && a->params_bytes == b->params_bytes &&
           memcmp(a->params, b->params, a->params_bytes) == 0;
}

static void concurrent_runs_match_serial_ones(int threads) {
    CHECK(tg_set_num_threads(threads) == 0);
    job serial[2] = {{.kind = TG_FFN_SWIGLU, .dtype = TG_F32, .seed = 1},
                     {.kind = TG_FFN_GELU, .dtype = TG_F64, .seed = 2}};
    job together[2] = {serial[0], serial[1]};
    for (int i = 0; i < 2; i++) train(&serial[i]);
    pthread_t tid[2];
    int started = 0;
    for (int i = 0; i < 2; i++) started += pthread_create(&tid[i], NULL, train, &together[i]) == 0;
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
    bool same = started == 2 && same_run(&serial[0], &together[0]) &&
                same_run(&serial[1], &together[1]);
    for (int i = 0; i < 2; i++) {
        if (serial[i].error[0]) printf("  serial run %d: %s\n", i, serial[i].error);
        if (together[i].error[0]) printf("  concurrent run %d: %s\n", i, together[i].error);
        free(serial[i].params);
        free(together[i].params);
    }
    tg_set_num_threads(1);
    CHECK(started == 2);
    CHECK(same);
    /* The runs learned something: the test compares real training. */
    CHECK(serial[0].losses[STEPS - 1] < serial[0].losses[0]);
}

static void with_one_library_thread(void) { concurrent_runs_match_serial_ones(1); }
static void with_two_library_threads(void) { concurrent_runs_match_serial_ones(2); }

TG_TEST_MAIN(TG_CASE(with_one_library_thread), TG_CASE(with_two_library_threads))
