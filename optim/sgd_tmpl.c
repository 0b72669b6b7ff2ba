/* optim/sgd_tmpl.c - SGD's update kernel in T, compiled by sgd.c through
 * tmpl.h as sgd_f32 and sgd_f64.
 *
 * PyTorch 1.13's _single_tensor_sgd, element by element:
 *   d = grad (negated under maximize) + wd * p
 *   buf = d on the first step (the buffer is a clone of d), later
 *         momentum * buf + (1 - dampening) * d
 *   d = nesterov ? d + momentum * buf : buf          (when momentum != 0)
 *   p = p - lr * d
 * Every line rounds to the parameter's dtype, as each of PyTorch's tensor
 * ops does, and its add_(x, alpha) lines are fused multiply-adds. */
static TG_ALWAYS_INLINE void SFX(sgd_loop)(const tg__optim_row *r, const sgd_coeffs *c, int64_t ps,
                                           int64_t gs, bool momentum, bool first, bool nesterov) {
    const T neg_lr = (T)c->neg_lr, wd = (T)c->weight_decay, mu = (T)c->momentum,
            damp = (T)c->one_minus_dampening;
    const bool maximize = c->maximize;
    T *p = r->param, *buf = r->state[MOMENTUM_BUFFER];
    const T *g = r->grad;
    TG_SIMD
    for (int64_t i = 0; i < r->n; i++) {
        T pi = p[i * ps];
        T d = SFX(optim_grad)(g[i * gs], pi, maximize, wd);
        if (momentum) {
            buf[i] = first ? d : fma(damp, d, buf[i] * mu);
            d = nesterov ? fma(mu, buf[i], d) : buf[i];
        }
        p[i * ps] = fma(neg_lr, d, pi);
    }
}

/* The unit-stride steps after the first get copies with the flags as
 * constants, which vectorise (GCC does not unswitch this loop on all). */
TG_HOT static void SFX(sgd)(const tg__optim_row *r, const void *coeffs) {
    const sgd_coeffs *c = coeffs;
    bool momentum = c->momentum != 0;
    if (!tg__optim_unit_strides(r) || (momentum && c->first))
        SFX(sgd_loop)(r, c, r->param_stride, r->grad_stride, momentum, c->first, c->nesterov);
    else if (!momentum)
        SFX(sgd_loop)(r, c, 1, 1, false, false, false);
    else if (c->nesterov)
        SFX(sgd_loop)(r, c, 1, 1, true, false, true);
    else
        SFX(sgd_loop)(r, c, 1, 1, true, false, false);
}
