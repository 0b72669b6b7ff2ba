/* tests/bench/ffn_model.h - bench_ffn's workloads and the model it times
 * (a SwiGLU FeedForward, its input and target, AdamW), shared with
 * bench_ddp, which times the same step split between ranks. */
#ifndef TAPEGRAD_BENCH_FFN_MODEL_H
#define TAPEGRAD_BENCH_FFN_MODEL_H

#include <tapegrad/tapegrad.h>

typedef struct workload {
    const char *name;
    int64_t batch, dim, hidden, multiple_of;
} workload;

static const workload workloads[] = {
    {"tiny", 32, 16, 64, 8},
    {"small", 64, 128, 256, 16},
    {"medium", 256, 512, 2048, 64},
    {"large", 512, 1024, 4096, 256},
};
enum { N_WORKLOADS = sizeof workloads / sizeof workloads[0] };

typedef struct model {
    tg_module *ffn;
    tg_optimizer *opt;
    tg_tensor *x, *target; /* rows first .. first + rows - 1 of the batch */
} model;

/* The workload's model, on rows first .. first + rows - 1 of its batch (x
 * requires grad, as it does inside a network, so backward computes all
 * nine products); false when out of memory. */
static inline bool model_init(model *m, const workload *w, int64_t first, int64_t rows) {
    tg_generator *gen = tg_generator_new(1);
    tg_ffn_options o = {.kind = TG_FFN_SWIGLU,
                        .dim = w->dim,
                        .hidden_dim = w->hidden,
                        .multiple_of = w->multiple_of,
                        .dtype = TG_F32};
    m->ffn = tg_feedforward_new(&o, gen);
    tg_pool *pool = tg_pool_push();
    tg_tensor *x = tg_randn(TG_SHAPE(w->batch, w->dim), TG_F32, gen);
    tg_tensor *target = tg_randn(TG_SHAPE(w->batch, w->dim), TG_F32, gen);
    m->x = tg_retain(
        tg_requires_grad_(tg_contiguous(tg_slice(x, 0, first, first + rows, 1)), true));
    m->target = tg_retain(tg_contiguous(tg_slice(target, 0, first, first + rows, 1)));
    tg_pool_pop(pool);
    tg_generator_free(gen);
    int n = 0;
    tg_tensor *const *params = m->ffn ? tg_module_parameter_tensors(m->ffn, &n) : NULL;
    m->opt = params ? tg_adamw_new(params, n, NULL) : NULL;
    return m->opt && m->x && m->target;
}

static inline void model_free(model *m) {
    tg_optim_free(m->opt);
    tg_module_free(m->ffn);
    tg_release(m->x);
    tg_release(m->target);
}

#endif
