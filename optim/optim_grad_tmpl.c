/* optim/optim_grad_tmpl.c - the gradient every rule starts from (PyTorch's
 * d_p), in T (see tmpl.h): negated under maximize, then plus wd * p for L2
 * weight decay, which PyTorch computes as grad.add(param, alpha=wd), one
 * fused multiply-add. */
static inline T SFX(optim_grad)(T g, T p, bool maximize, T wd) {
    g = maximize ? -g : g;
    return wd != 0 ? fma(wd, p, g) : g;
}
