#!/usr/bin/python3
"""Prints the Chebyshev coefficients that act_erfcx (ops/activation_internal.h)
evaluates: for z >= 0, e^(z^2) erfc(z) = K / (z + K) g(t), t = (z - K) / (z + K),
which maps [0, inf) onto [-1, 1); g is smooth there (g(-1) = 1, g(1) =
1 / (K sqrt(pi))), so one Chebyshev series in t gives double precision.
The coefficients come from the discrete cosine sum over N Chebyshev nodes,
with erfc from mpmath at 40 digits; those above 1e-19 are kept.
Run with Debian's python3 (python3-mpmath)."""
import mpmath as mp

mp.mp.dps = 40
K = 4
N = 90


def g(t):
    z = K * (1 + t) / (1 - t)
    return mp.erfc(z) * mp.exp(z * z) * (z + K) / K


nodes = [(j + mp.mpf(1) / 2) * mp.pi / N for j in range(N)]
values = [g(mp.cos(a)) for a in nodes]
coeffs = [2 * sum(v * mp.cos(n * a) for v, a in zip(values, nodes)) / N for n in range(N)]
coeffs[0] /= 2
kept = coeffs[: max(i for i, c in enumerate(coeffs) if abs(c) > 1e-19) + 1]
print(f"/* {len(kept)} Chebyshev coefficients of g, K = {K} (ops/erfc_coefficients.py) */")
for c in kept:
    print(f"    {mp.nstr(c, 17, min_fixed=0, max_fixed=0)},")
