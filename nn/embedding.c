/* nn/embedding.c - torch.nn.Embedding, a module of the public API
 * (tapegrad/nn.h). */
#include <stdio.h>

#include "internal/kernel.h"
#include "tapegrad/nn.h"
#include "tapegrad/ops.h"

typedef struct embedding_state {
    int64_t num, dim;
    int64_t padding_idx; /* as given: tg_embedding wraps a negative one */
    tg_tensor *weight;   /* the module's parameter (borrowed) */
} embedding_state;

static tg_tensor *embedding_forward(tg_module *m, tg_tensor *x) {
    const embedding_state *s = tg_module_state(m);
    return tg_embedding(s->weight, x, s->padding_idx);
}

/* "10, 3", and ", padding_idx=9" (counted from the start) when there is one. */
static int embedding_extra_repr(const tg_module *m, char *buf, size_t size) {
    const embedding_state *s = tg_module_state(m);
    int64_t pad = s->padding_idx < 0 ? s->padding_idx + s->num : s->padding_idx;
    if (s->padding_idx == TG_EMBEDDING_NO_PADDING)
        return snprintf(buf, size, "%lld, %lld", (long long)s->num, (long long)s->dim);
    return snprintf(buf, size, "%lld, %lld, padding_idx=%lld", (long long)s->num, (long long)s->dim,
                    (long long)pad);
}

/* padding_idx as given (negative counts from the end), null for none. */
static int embedding_describe(const tg_module *m, tg_module_args *a) {
    const embedding_state *s = tg_module_state(m);
    bool none = s->padding_idx == TG_EMBEDDING_NO_PADDING;
    return tg_module_arg_int(a, "num_embeddings", s->num) ||
                   tg_module_arg_int(a, "embedding_dim", s->dim) ||
                   (none ? tg_module_arg_null(a, "padding_idx")
                         : tg_module_arg_int(a, "padding_idx", s->padding_idx)) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(tg_dtype_of(s->weight)))
               ? -1
               : 0;
}

static const tg_module_class embedding_class = {.name = "Embedding",
                                                .forward = embedding_forward,
                                                .extra_repr = embedding_extra_repr,
                                                .state_size = sizeof(embedding_state),
                                                .describe = embedding_describe};

tg_module *tg_embedding_new(int64_t num_embeddings, int64_t embedding_dim, int64_t padding_idx,
                            tg_dtype dtype, tg_generator *gen) {
    int64_t num = num_embeddings;
    if (num < 0 || embedding_dim < 0) {
        tg__error(TG_ERR_VALUE,
                  "Embedding: num_embeddings %lld and embedding_dim %lld must not be negative",
                  (long long)num, (long long)embedding_dim);
        return NULL;
    }
    if (padding_idx != TG_EMBEDDING_NO_PADDING && (padding_idx < -num || padding_idx >= num)) {
        tg__error(TG_ERR_VALUE,
                  "Embedding: padding_idx %lld must be within num_embeddings %lld (from %lld to "
                  "%lld)",
                  (long long)padding_idx, (long long)num, (long long)-num, (long long)num - 1);
        return NULL;
    }
    tg_module *m = tg_module_new(&embedding_class,
                                 &(embedding_state){num, embedding_dim, padding_idx, NULL});
    embedding_state *s = tg_module_state(m);
    /* PyTorch's reset_parameters: normal_(weight), then the padding row zeroed. */
    tg_tensor *w = s ? tg_module_new_parameter(m, "weight", TG_SHAPE(num, embedding_dim), dtype)
                     : NULL;
    if (!w || tg_init_normal_(w, 0, 1, gen) != 0) {
        tg_module_free(m);
        return NULL;
    }
    if (padding_idx != TG_EMBEDDING_NO_PADDING) {
        tg_tensor row = *w; /* a header on the stack, for the fill only */
        row.offset += (padding_idx < 0 ? padding_idx + num : padding_idx) * w->strides[0];
        row.ndim = 1;
        row.shape[0] = embedding_dim;
        row.strides[0] = 1;
        row.numel = embedding_dim;
        tg__fill(&row, 0.0);
    }
    s->weight = w;
    return m;
}
