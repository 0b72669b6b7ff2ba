/* nn/linear.c - torch.nn.Linear, a module of the public API (tapegrad/nn.h). */
#include <math.h>
#include <stdio.h>

#include "internal/base.h"
#include "tapegrad/linalg.h"
#include "tapegrad/nn.h"

typedef struct linear_state {
    int64_t in, out;
    tg_tensor *weight, *bias; /* the module's parameters (borrowed); bias NULL without one */
} linear_state;

static tg_tensor *linear_forward(tg_module *m, tg_tensor *x) {
    const linear_state *s = tg_module_state(m);
    return tg_linear(x, s->weight, s->bias);
}

static int linear_extra_repr(const tg_module *m, char *buf, size_t size) {
    const linear_state *s = tg_module_state(m);
    return snprintf(buf, size, "in_features=%lld, out_features=%lld, bias=%s", (long long)s->in,
                    (long long)s->out, s->bias ? "True" : "False");
}

static int linear_describe(const tg_module *m, tg_module_args *a) {
    const linear_state *s = tg_module_state(m);
    return tg_module_arg_int(a, "in_features", s->in) ||
                   tg_module_arg_int(a, "out_features", s->out) ||
                   tg_module_arg_bool(a, "bias", s->bias != NULL) ||
                   tg_module_arg_string(a, "dtype", tg_dtype_name(tg_dtype_of(s->weight)))
               ? -1
               : 0;
}

static const tg_module_class linear_class = {.name = "Linear",
                                             .forward = linear_forward,
                                             .extra_repr = linear_extra_repr,
                                             .state_size = sizeof(linear_state),
                                             .describe = linear_describe};

tg_module *tg_linear_new(int64_t in, int64_t out, tg_bias bias, tg_dtype dtype, tg_generator *gen) {
    if (in <= 0 || out <= 0) {
        tg__error(TG_ERR_VALUE, "Linear: in_features %lld and out_features %lld must be positive",
                  (long long)in, (long long)out);
        return NULL;
    }
    tg_module *m = tg_module_new(&linear_class, &(linear_state){in, out, NULL, NULL});
    linear_state *s = tg_module_state(m);
    /* PyTorch's reset_parameters: weight first, then bias, from one stream. */
    bool ok = s && (s->weight = tg_module_new_parameter(m, "weight", TG_SHAPE(out, in), dtype)) &&
              tg_init_kaiming_uniform_(s->weight, sqrt(5.0), gen) == 0;
    if (ok && bias != TG_NO_BIAS) {
        double bound = 1 / sqrt((double)in);
        ok = (s->bias = tg_module_new_parameter(m, "bias", TG_SHAPE(out), dtype)) &&
             tg_init_uniform_(s->bias, -bound, bound, gen) == 0;
    }
    if (!ok) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}
