#!/usr/bin/python3
"""Prints the polynomial that act_exp_near (ops/activation_internal.h)
evaluates: e^r for |r| <= ln(2) / 2, of degree D, interpolated at the D + 1
Chebyshev nodes of that interval (within a factor of about two of the
best polynomial of its degree), with mpmath at 40 digits, written in powers
of r and rounded to double. Run with Debian's python3 (python3-mpmath);
argument: the degree (default 9, the one used)."""
import sys

import mpmath as mp

mp.mp.dps = 40
D = int(sys.argv[1]) if len(sys.argv) > 1 else 9
H = mp.log(2) / 2

nodes = [H * mp.cos((2 * j + 1) * mp.pi / (2 * (D + 1))) for j in range(D + 1)]
# The Vandermonde system in powers of r: exact enough at 40 digits for D < 15.
coeffs = mp.lu_solve(mp.matrix([[t**i for i in range(D + 1)] for t in nodes]),
                     mp.matrix([mp.exp(t) for t in nodes]))
worst = max(abs(sum(coeffs[i] * t**i for i in range(D + 1)) * mp.exp(-t) - 1)
            for t in mp.linspace(-H, H, 2001))
print(f"/* e^r for |r| <= ln(2) / 2, degree {D}, relative error {mp.nstr(worst, 3)}"
      " before rounding (ops/exp_coefficients.py) */")
for c in coeffs:
    print(f"    {float(c).hex()},  /* {mp.nstr(c, 17)} */")
