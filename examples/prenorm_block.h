/* examples/prenorm_block.h - a pre-norm residual FeedForward stack, LLaMA's
 * layout without attention, written as modules of one's own with the public
 * API only (tapegrad/nn.h):
 *
 *     PreNormBlock(x) = x + FeedForward(RMSNorm(x))
 *     PreNormStack(x) = output(norm(layers[N-1](... layers[0](embed(x)))))
 *
 * State-dict names are those of the PyTorch twin in
 * tests/golden/make_golden_prenorm.py: "embed.weight",
 * "layers.0.attention_norm.weight", "layers.0.feed_forward.w1.weight", ...,
 * "norm.weight", "output.weight". examples/prenorm_ffn.c trains one;
 * tests/test_prenorm.c checks a training run against PyTorch's.
 *
 * PreNormStack describes its constructor's arguments, and
 * prenorm_register_loader lets tg_module_load_new rebuild it from a saved
 * file (tests/torch_checkpoint_helper.c takes one to PyTorch and back). */
#ifndef TAPEGRAD_EXAMPLES_PRENORM_BLOCK_H
#define TAPEGRAD_EXAMPLES_PRENORM_BLOCK_H

#include <string.h>

#include <tapegrad/tapegrad.h>

/* ---- PreNormBlock: x + FeedForward(RMSNorm(x)) -------------------------------- */

typedef struct prenorm_block {
    tg_module *norm, *ffn; /* its children (borrowed) */
} prenorm_block;

static inline tg_tensor *prenorm_block_forward(tg_module *m, tg_tensor *x) {
    const prenorm_block *b = tg_module_state(m);
    return tg_add(x, tg_module_forward(b->ffn, tg_module_forward(b->norm, x)));
}

static const tg_module_class prenorm_block_class = {
    .name = "PreNormBlock", .forward = prenorm_block_forward, .state_size = sizeof(prenorm_block)};

static inline tg_module *prenorm_block_new(const tg_ffn_options *ffn, double eps,
                                           tg_generator *gen) {
    tg_module *m = tg_module_new(&prenorm_block_class, &(prenorm_block){0});
    prenorm_block *b = tg_module_state(m); /* NULL when m is */
    bool ok = b &&
              (b->norm = tg_module_add_child(m, "attention_norm",
                                             tg_rms_norm_new(ffn->dim, eps, ffn->dtype))) &&
              (b->ffn = tg_module_add_child(m, "feed_forward", tg_feedforward_new(ffn, gen)));
    if (!ok) {
        tg_module_free(m); /* with the children it holds */
        return NULL;
    }
    return m;
}

/* ---- PreNormStack: embed, N blocks, a last RMSNorm, output ----------------------- */

typedef struct prenorm_stack {
    tg_module *embed, *layers, *norm, *output; /* its children (borrowed) */
    int64_t in, out;                           /* the constructor's arguments, */
    tg_ffn_options ffn;                        /* for its describe hook */
    double eps;
} prenorm_stack;

static inline tg_tensor *prenorm_stack_forward(tg_module *m, tg_tensor *x) {
    const prenorm_stack *s = tg_module_state(m);
    tg_tensor *h = tg_module_forward(s->embed, x);
    for (int i = 0; i < tg_module_num_children(s->layers); i++)
        h = tg_module_forward(tg_module_child_at(s->layers, i, NULL), h);
    return tg_module_forward(s->output, tg_module_forward(s->norm, h));
}

/* For tg_module_save: the arguments prenorm_stack_new was given (the
 * blocks are made by it, so its children are not arguments). */
static inline int prenorm_stack_describe(const tg_module *m, tg_module_args *a) {
    const prenorm_stack *s = tg_module_state(m);
    return tg_module_arg_int(a, "in_features", s->in) ||
                   tg_module_arg_int(a, "out_features", s->out) ||
                   tg_module_arg_int(a, "n_layers", tg_module_num_children(s->layers)) ||
                   tg_module_arg_string(a, "kind", tg_ffn_kind_name(s->ffn.kind)) ||
                   tg_module_arg_int(a, "dim", s->ffn.dim) ||
                   tg_module_arg_int(a, "hidden_dim", s->ffn.hidden_dim) ||
                   tg_module_arg_int(a, "multiple_of", s->ffn.multiple_of) ||
                   tg_module_arg_double(a, "dropout", s->ffn.dropout) ||
                   tg_module_arg_double(a, "eps", s->eps) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(s->ffn.dtype))
               ? -1
               : 0;
}

static const tg_module_class prenorm_stack_class = {.name = "PreNormStack",
                                                    .forward = prenorm_stack_forward,
                                                    .state_size = sizeof(prenorm_stack),
                                                    .describe = prenorm_stack_describe};

/* in -> ffn->dim, n_layers blocks, -> out; Linear layers without bias, as
 * LLaMA's. NULL, with the error of what failed, when a part cannot be made. */
static inline tg_module *prenorm_stack_new(int64_t in, int64_t out, int n_layers,
                                           const tg_ffn_options *ffn, double eps,
                                           tg_generator *gen) {
    if (n_layers < 0 || n_layers > 100000) {
        tg_set_error(TG_ERR_VALUE, "PreNormStack: n_layers is %d, must be in 0 .. 100000",
                     n_layers);
        return NULL;
    }
    tg_module *m = tg_module_new(&prenorm_stack_class,
                                 &(prenorm_stack){.in = in, .out = out, .ffn = *ffn, .eps = eps});
    prenorm_stack *s = tg_module_state(m);
    bool ok = s &&
              (s->embed = tg_module_add_child(
                   m, "embed", tg_linear_new(in, ffn->dim, TG_NO_BIAS, ffn->dtype, gen))) &&
              (s->layers = tg_module_add_child(m, "layers", tg_module_list_new()));
    for (int i = 0; ok && i < n_layers; i++)
        ok = tg_module_append(s->layers, prenorm_block_new(ffn, eps, gen)) != NULL;
    ok = ok &&
         (s->norm = tg_module_add_child(m, "norm", tg_rms_norm_new(ffn->dim, eps, ffn->dtype))) &&
         (s->output = tg_module_add_child(
              m, "output", tg_linear_new(ffn->dim, out, TG_NO_BIAS, ffn->dtype, gen)));
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}

/* ---- Rebuilding one from a file ------------------------------------------------------ */

/* PreNormStack's loader: its arguments as its describe hook wrote them. */
static inline tg_module *prenorm_stack_load(tg_module_desc *d) {
    int64_t in, out, n_layers;
    double eps;
    tg_ffn_options ffn = {0};
    const char *kind = tg_module_desc_string(d, "kind");
    if (!kind || tg_module_desc_int(d, "in_features", &in) ||
        tg_module_desc_int(d, "out_features", &out) ||
        tg_module_desc_int(d, "n_layers", &n_layers) || tg_module_desc_int(d, "dim", &ffn.dim) ||
        tg_module_desc_int(d, "hidden_dim", &ffn.hidden_dim) ||
        tg_module_desc_int(d, "multiple_of", &ffn.multiple_of) ||
        tg_module_desc_double(d, "dropout", &ffn.dropout) ||
        tg_module_desc_double(d, "eps", &eps) || tg_module_desc_dtype(d, "dtype", &ffn.dtype))
        return NULL;
    while (ffn.kind < TG_FFN_N_KINDS && strcmp(kind, tg_ffn_kind_name(ffn.kind)) != 0) ffn.kind++;
    if (ffn.kind == TG_FFN_N_KINDS) {
        tg_set_error(TG_ERR_VALUE, "PreNormStack: unknown FeedForward kind \"%.40s\"", kind);
        return NULL;
    }
    if (n_layers < 0 || n_layers > 100000) {
        tg_set_error(TG_ERR_VALUE, "PreNormStack: n_layers is %lld, must be in 0 .. 100000",
                     (long long)n_layers);
        return NULL;
    }
    return prenorm_stack_new(in, out, (int)n_layers, &ffn, eps, NULL);
}

/* Once per process, before tg_module_load_new reads a file holding one. */
static inline int prenorm_register_loader(void) {
    return tg_module_register_loader("PreNormStack", prenorm_stack_load);
}

#endif
