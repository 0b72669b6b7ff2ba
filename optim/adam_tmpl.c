/* optim/adam_tmpl.c - the update kernel of Adam and AdamW in T, compiled
 * by adam.c through tmpl.h as adam_f32 and adam_f64.
 *
 * PyTorch 1.13's _single_tensor_adam and _single_tensor_adamw, element by
 * element, at step t:
 *   AdamW: p = p * (1 - lr * wd)
 *   d = grad (negated under maximize), Adam: + wd * p
 *   m = beta1 * m + (1 - beta1) * d
 *   v = beta2 * v + (1 - beta2) * d * d
 *   amsgrad: vmax = max(vmax, v), used for v below
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * Both moments are bias-corrected and eps is added outside the root, as
 * PyTorch does (not sqrt(v + eps) with an uncorrected v). Rounded as
 * PyTorch's ops round: m and v are a mul_ then a fused add_ / addcmul_,
 * the last line an addcdiv_ (product, quotient, sum). */
static TG_ALWAYS_INLINE void SFX(adam_loop)(const tg__optim_row *r, const adam_coeffs *c,
                                            int64_t ps, int64_t gs, bool amsgrad) {
    const T neg_step_size = (T)c->neg_step_size, bc2 = (T)c->bias_correction2_sqrt,
            beta1 = (T)c->beta1, one_minus_beta1 = (T)(1 - c->beta1), beta2 = (T)c->beta2,
            one_minus_beta2 = (T)(1 - c->beta2), eps = (T)c->eps, l2 = (T)c->l2,
            decay = (T)c->decay;
    const bool decoupled = c->decoupled, maximize = c->maximize;
    T *p = r->param, *m = r->state[EXP_AVG], *v = r->state[EXP_AVG_SQ],
      *vmax = r->state[MAX_EXP_AVG_SQ];
    const T *g = r->grad;
    TG_SIMD
    for (int64_t i = 0; i < r->n; i++) {
        T pi = p[i * ps];
        if (decoupled) pi = pi * decay;
        T d = SFX(optim_grad)(g[i * gs], pi, maximize, l2);
        m[i] = fma(one_minus_beta1, d, m[i] * beta1);
        v[i] = fma(one_minus_beta2 * d, d, v[i] * beta2);
        T second = v[i];
        if (amsgrad) {
            /* torch.maximum: a NaN in v wins */
            if (!(vmax[i] >= v[i])) vmax[i] = v[i];
            second = vmax[i];
        }
        p[i * ps] = pi + neg_step_size * m[i] / (sqrt(second) / bc2 + eps);
    }
}

/* The common case, unit strides and no amsgrad (whose conditional store
 * does not vectorise), gets the copy with those as constants. */
TG_HOT static void SFX(adam)(const tg__optim_row *r, const void *coeffs) {
    const adam_coeffs *c = coeffs;
    if (tg__optim_unit_strides(r) && !c->amsgrad)
        SFX(adam_loop)(r, c, 1, 1, false);
    else
        SFX(adam_loop)(r, c, r->param_stride, r->grad_stride, c->amsgrad);
}
