/* nn/embedding.c - torch.nn.Embedding. */
#include "module_internal.h"
#include "tapegrad/ops.h"

typedef struct embedding_impl {
    int64_t padding_idx; /* as given: tg_embedding wraps a negative one */
} embedding_impl;

static tg_tensor *embedding_forward(tg_module *m, tg_tensor *x) {
    return tg_embedding(m->own[0].tensor, x, ((const embedding_impl *)m->impl)->padding_idx);
}

static const tg__module_class embedding_class = {"Embedding", embedding_forward};

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
    tg_module *m = tg__module_new(&embedding_class, sizeof(embedding_impl));
    if (!m) return NULL;
    ((embedding_impl *)m->impl)->padding_idx = padding_idx;
    /* PyTorch's reset_parameters: normal_(weight), then the padding row zeroed. */
    tg_tensor *w = tg__module_param(m, "weight", TG_SHAPE(num, embedding_dim), dtype);
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
    return tg__module_finish(m);
}
