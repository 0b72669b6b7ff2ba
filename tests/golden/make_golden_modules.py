#!/usr/bin/python3
"""Golden values for nn modules, from PyTorch (Debian's python3-torch).

    /usr/bin/python3 tests/golden/make_golden_modules.py

writes tests/golden/golden_modules.h (committed; the tests never run Python):
the weights torch.nn.Linear draws after torch.manual_seed, so the C test can
check that tg_linear_new draws the same ones, and a forward pass through them.
"""
import torch

from golden_common import doubles, flat, write_header

out = []

cases = [("lin_f32", 0, 4, 3, torch.float32), ("lin_f64", 1234, 5, 2, torch.float64),
         ("lin_wide_f32", 7, 300, 2, torch.float32)]
out.append("typedef struct golden_linear { const char *name; unsigned long long seed;"
           " int in, out, f64; const double *weight, *bias, *x, *y; } golden_linear;")
for name, seed, fin, fout, dtype in cases:
    torch.manual_seed(seed)
    lin = torch.nn.Linear(fin, fout, dtype=dtype)
    x = torch.linspace(-1, 1, 2 * fin, dtype=dtype).reshape(2, fin)
    y = lin(x)
    for tag, t in [("weight", lin.weight), ("bias", lin.bias), ("x", x), ("y", y)]:
        out.append(f"static const double {name}_{tag}[] = {doubles(flat(t))};")
out.append("static const golden_linear golden_linears[] = {")
for name, seed, fin, fout, dtype in cases:
    out.append(f'    {{"{name}", {seed}ULL, {fin}, {fout}, {int(dtype == torch.float64)}, '
               f"{name}_weight, {name}_bias, {name}_x, {name}_y}},")
out.append("};")

print("wrote", write_header("golden_modules.h", "make_golden_modules.py", [], out))
