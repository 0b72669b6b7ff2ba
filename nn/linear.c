/* nn/linear.c - torch.nn.Linear. */
#include <math.h>

#include "module_internal.h"
#include "tapegrad/linalg.h"

static tg_tensor *linear_forward(tg_module *m, tg_tensor *x) {
    return tg_linear(x, m->own[0].tensor, m->n_own > 1 ? m->own[1].tensor : NULL);
}

static const tg__module_class linear_class = {"Linear", linear_forward};

tg_module *tg_linear_new(int64_t in, int64_t out, tg_bias bias, tg_dtype dtype, tg_generator *gen) {
    if (in <= 0 || out <= 0) {
        tg__error(TG_ERR_VALUE, "Linear: in_features %lld and out_features %lld must be positive",
                  (long long)in, (long long)out);
        return NULL;
    }
    tg_module *m = tg__module_new(&linear_class, 0);
    if (!m) return NULL;
    /* PyTorch's reset_parameters: weight first, then bias, from one stream. */
    tg_tensor *w = tg__module_param(m, "weight", TG_SHAPE(out, in), dtype);
    bool ok = w && tg_init_kaiming_uniform_(w, sqrt(5.0), gen) == 0;
    if (ok && bias != TG_NO_BIAS) {
        tg_tensor *b = tg__module_param(m, "bias", TG_SHAPE(out), dtype);
        double bound = 1 / sqrt((double)in);
        ok = b && tg_init_uniform_(b, -bound, bound, gen) == 0;
    }
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return tg__module_finish(m);
}
