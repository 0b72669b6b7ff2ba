#!/usr/bin/python3
"""Prints the Chebyshev coefficients that act_tanhshrink_small
(ops/activation_internal.h) evaluates: for |x| < 2, x - tanh x = x^3 h(s),
s = x^2 in [0, 4), h(s) = (x - tanh x) / x^3 (h(0) = 1/3), which is smooth
in s (its nearest singularity is at s = -(pi/2)^2), so one Chebyshev
series in t = s / 2 - 1 gives double precision without the cancellation of
x - tanh x. The coefficients come from the discrete cosine sum over N
Chebyshev nodes, with tanh from mpmath at 40 digits; those above 1e-19 are
kept. Run with Debian's python3 (python3-mpmath)."""
import mpmath as mp

mp.mp.dps = 40
S = 4
N = 80


def h(t):
    s = (t + 1) * S / 2
    if s == 0:
        return mp.mpf(1) / 3
    x = mp.sqrt(s)
    return (x - mp.tanh(x)) / (x * s)


nodes = [(j + mp.mpf(1) / 2) * mp.pi / N for j in range(N)]
values = [h(mp.cos(a)) for a in nodes]
coeffs = [2 * sum(v * mp.cos(n * a) for v, a in zip(values, nodes)) / N for n in range(N)]
coeffs[0] /= 2
kept = coeffs[: max(i for i, c in enumerate(coeffs) if abs(c) > 1e-19) + 1]
print(f"/* {len(kept)} Chebyshev coefficients of h, s in [0, {S}] "
      "(ops/tanhshrink_coefficients.py) */")
for c in kept:
    print(f"    {mp.nstr(c, 17, min_fixed=0, max_fixed=0)},")
