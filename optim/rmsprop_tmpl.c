/* optim/rmsprop_tmpl.c - RMSprop's update kernel in T, compiled by
 * rmsprop.c through tmpl.h as rmsprop_f32 and rmsprop_f64.
 *
 * PyTorch 1.13's _single_tensor_rmsprop, element by element:
 *   d = grad (negated under maximize) + wd * p
 *   sq = alpha * sq + (1 - alpha) * d * d
 *   centered: ga = alpha * ga + (1 - alpha) * d,  avg = sqrt(sq - ga * ga)
 *   otherwise:                                    avg = sqrt(sq)
 *   avg = avg + eps                 (outside the root, as in PyTorch)
 *   momentum > 0: buf = momentum * buf + d / avg,  p = p - lr * buf
 *   otherwise:                                     p = p - lr * d / avg
 * Rounded as PyTorch's ops round: mul_ then addcmul_ (a fused multiply-add)
 * for sq and the centering, mul_ then add_ (fused) for ga, and addcdiv_ as
 * a product, then a quotient, then a sum. */
static TG_ALWAYS_INLINE void SFX(rmsprop_loop)(const tg__optim_row *r, const rmsprop_coeffs *c,
                                               int64_t ps, int64_t gs, bool centered,
                                               bool momentum) {
    const T neg_lr = (T)c->neg_lr, alpha = (T)c->alpha, one_minus_alpha = (T)(1 - c->alpha),
            wd = (T)c->weight_decay, eps = (T)c->eps, mu = (T)c->momentum;
    const bool maximize = c->maximize;
    T *p = r->param, *sq = r->state[SQUARE_AVG], *ga = r->state[GRAD_AVG],
      *buf = r->state[MOMENTUM_BUFFER];
    const T *g = r->grad;
    TG_SIMD
    for (int64_t i = 0; i < r->n; i++) {
        T pi = p[i * ps];
        T d = SFX(optim_grad)(g[i * gs], pi, maximize, wd);
        sq[i] = fma(one_minus_alpha * d, d, sq[i] * alpha);
        T avg;
        if (centered) {
            ga[i] = fma(one_minus_alpha, d, ga[i] * alpha);
            avg = sqrt(fma(-ga[i], ga[i], sq[i]));
        } else {
            avg = sqrt(sq[i]);
        }
        avg = avg + eps;
        if (momentum) {
            buf[i] = buf[i] * mu + d / avg;
            p[i * ps] = fma(neg_lr, buf[i], pi);
        } else {
            p[i * ps] = pi + neg_lr * d / avg;
        }
    }
}

/* Each unit-stride combination of centered and momentum gets a copy with
 * them as constants: the stores each makes conditional do not vectorise,
 * and GCC does not unswitch this loop on both. */
TG_HOT static void SFX(rmsprop)(const tg__optim_row *r, const void *coeffs) {
    const rmsprop_coeffs *c = coeffs;
    bool centered = c->centered, momentum = c->momentum > 0;
    if (!tg__optim_unit_strides(r))
        SFX(rmsprop_loop)(r, c, r->param_stride, r->grad_stride, centered, momentum);
    else if (centered && momentum)
        SFX(rmsprop_loop)(r, c, 1, 1, true, true);
    else if (centered)
        SFX(rmsprop_loop)(r, c, 1, 1, true, false);
    else if (momentum)
        SFX(rmsprop_loop)(r, c, 1, 1, false, true);
    else
        SFX(rmsprop_loop)(r, c, 1, 1, false, false);
}
