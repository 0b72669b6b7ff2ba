/* ops/ops_internal.h - helpers the op files share. */
#ifndef TAPEGRAD_OPS_INTERNAL_H
#define TAPEGRAD_OPS_INTERNAL_H

#include "../core/internal.h"
#include "tapegrad/ops.h"

/* Sums g over the dimensions that broadcasting stretched, giving a tensor of
 * (ndim, shape); g itself when the shapes already match. */
tg_tensor *tg__sum_to(tg_tensor *g, int ndim, const int64_t *shape);

/* A read-only view of t stretched to (ndim, shape) with zero strides. */
tg_tensor *tg__expand_view(tg_tensor *t, int ndim, const int64_t *shape);

#endif
