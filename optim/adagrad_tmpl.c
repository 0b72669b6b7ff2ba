/* optim/adagrad_tmpl.c - Adagrad's update kernel in T, compiled by
 * adagrad.c through tmpl.h as adagrad_f32 and adagrad_f64.
 *
 * PyTorch 1.13's _single_tensor_adagrad (dense), element by element:
 *   d = grad (negated under maximize) + wd * p
 *   sum = sum + d * d
 *   p = p - clr * d / (sqrt(sum) + eps)
 * eps is added outside the square root, as PyTorch adds it (not
 * sqrt(sum + eps)); clr = lr / (1 + (step - 1) * lr_decay). PyTorch's
 * addcmul_ (the sum line) is one fused multiply-add, its addcdiv_ (the
 * last line) is p + (-clr * d) / std with two roundings, and so are these. */
static TG_ALWAYS_INLINE void SFX(adagrad_loop)(const tg__optim_row *r, const adagrad_coeffs *c,
                                               int64_t ps, int64_t gs) {
    const T neg_clr = (T)c->neg_clr, wd = (T)c->weight_decay, eps = (T)c->eps;
    const bool maximize = c->maximize;
    T *p = r->param, *sum = r->state[SUM];
    const T *g = r->grad;
    TG_SIMD
    for (int64_t i = 0; i < r->n; i++) {
        T pi = p[i * ps];
        T d = SFX(optim_grad)(g[i * gs], pi, maximize, wd);
        sum[i] = fma(d, d, sum[i]);
        p[i * ps] = pi + neg_clr * d / (sqrt(sum[i]) + eps);
    }
}

TG_HOT static void SFX(adagrad)(const tg__optim_row *r, const void *coeffs) {
    if (tg__optim_unit_strides(r))
        SFX(adagrad_loop)(r, coeffs, 1, 1);
    else
        SFX(adagrad_loop)(r, coeffs, r->param_stride, r->grad_stride);
}
