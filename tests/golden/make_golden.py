#!/usr/bin/python3
"""Writes the golden values the C tests compare against, from PyTorch.

Run with Debian's python3 and its python3-torch (apt-get install
python3-torch):  /usr/bin/python3 tests/golden/make_golden.py
The output, tests/golden/golden_core.h, is committed: the tests never run
Python. Every case is built from explicit data, so the C side can build the
same tensors. The pointwise ops, their references and the parameters of their
cases (values) are the rows of ops_table.py.
"""
import math

import torch

from golden_common import c_double, c_str, dims, doubles, flat, write_header
from ops_table import BINARY, BY_NAME, UNARY

out = []


# ---- repr cases: (name, tensor, requires_grad) ---------------------------------
torch.manual_seed(0)
repr_cases = [
    ("scalar_int", torch.tensor(27.0)),
    ("grad_2x2", torch.full((2, 2), 4.5)),
    ("leaf_requires_grad", torch.full((2, 2), 0.55).requires_grad_()),
    ("sci_small", torch.tensor([1e-5, 1.0])),
    ("sci_large", torch.tensor([1e9, 1.0])),
    ("nonfinite", torch.tensor([float("nan"), 1.5, float("inf"), -float("inf")])),
    ("negatives", torch.tensor([[-1.25, 2.5], [3.75, -100.0]])),
    ("int_negative", torch.tensor([-3.0, 0.0, 12.0])),
    ("zeros", torch.zeros(3)),
    ("empty_2d", torch.zeros(0, 3)),
    ("empty_1d", torch.zeros(0)),
    ("summarized_1d", torch.arange(1200.0)),
    ("three_d", torch.arange(30.0).reshape(2, 3, 5) / 7),
    ("float64", torch.tensor([[1.0, 2.5], [3.0, 4.0]], dtype=torch.float64)),
    ("float64_leaf", torch.tensor([0.1, 0.2], dtype=torch.float64).requires_grad_()),
    ("wrapped_row", torch.arange(30.0) / 7),
    ("summarized_2d", torch.arange(1600.0).reshape(40, 40) / 3),
    ("four_d", torch.arange(16.0).reshape(2, 2, 2, 2) - 7.5),
    ("wide_values", torch.tensor([123456.789, -0.5, 3.0])),
    ("randn_f32", torch.randn(3, 4)),
    ("long_suffix", torch.arange(12.0, dtype=torch.float64).reshape(1, 12) * 1.5),
    ("negative_zero", torch.tensor([-0.0, 1.0])),
    ("one_element_2d", torch.tensor([[0.125]])),
]
out.append("/* repr cases: data, shape, dtype, requires_grad, expected text */")
out.append("typedef struct golden_repr { const char *name; const double *data; int ndim;"
           " int64_t shape[4]; int f64; int requires_grad; const char *text; } golden_repr;")
for name, t in repr_cases:
    out.append(f"static const double repr_{name}_data[] = {doubles(flat(t))};")
out.append("static const golden_repr golden_reprs[] = {")
for name, t in repr_cases:
    out.append(
        f"    {{{c_str(name)}, repr_{name}_data, {dims(t.shape, 4)}, "
        f"{int(t.dtype == torch.float64)}, {int(t.requires_grad)}, {c_str(repr(t))}}},"
    )
out.append("};")

# ---- random numbers: torch.manual_seed(seed) then one draw ---------------------
rand_cases = [
    ("rand_f32", 0, "rand", (5,), torch.float32),
    ("rand_f64", 42, "rand", (2, 3), torch.float64),
    ("randn_f64_small", 7, "randn", (5,), torch.float64),
    ("randn_f64_block", 3, "randn", (37,), torch.float64),
    ("randn_f32_block", 3, "randn", (37,), torch.float32),
]
out.append("typedef struct golden_rand { const char *name; uint64_t seed; int normal; int ndim;"
           " int64_t shape[2]; int f64; int64_t n; const double *values; } golden_rand;")
for name, seed, kind, shape, dtype in rand_cases:
    torch.manual_seed(seed)
    t = getattr(torch, kind)(*shape, dtype=dtype)
    out.append(f"static const double {name}_values[] = {doubles(flat(t))};")
out.append("static const golden_rand golden_rands[] = {")
for name, seed, kind, shape, dtype in rand_cases:
    out.append(
        f"    {{{c_str(name)}, {seed}, {int(kind == 'randn')}, {dims(shape, 2)},"
        f" {int(dtype == torch.float64)}, {math.prod(shape)}, {name}_values}},"
    )
out.append("};")

# ---- binary ops with broadcasting: out = op(a, b), loss = sum(out * w) ------------
# (the ops of BINARY with values)
binary_shapes = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((4, 1, 3), (2, 1)),
    ((2, 3), ()),
    ((1,), (3, 2)),
]
out.append("typedef struct golden_binary { const char *op; int f64; int na; int64_t sa[3];"
           " int nb; int64_t sb[3]; const double *a, *b, *w, *out, *ga, *gb; int nout;"
           " int64_t sout[3]; } golden_binary;")
entries = []
k = 0
for op in [op for op in BINARY if op.values]:
    for dtype in [torch.float32, torch.float64]:
        for sa, sb in binary_shapes:
            g = torch.Generator().manual_seed(100 + k)
            a = (torch.rand(sa, generator=g, dtype=torch.float64) * 4 - 2).to(dtype)
            b = (torch.rand(sb, generator=g, dtype=torch.float64) * 4 - 2).to(dtype)
            if op.name == "div":  # keep the divisor away from zero
                b = b.sign() * (b.abs() + 0.5)
            if op.name == "pow":  # a positive base: a^b and its gradients are real
                a = a.abs() + 0.25
            a.requires_grad_()
            b.requires_grad_()
            res = op.reference(a, b, [])
            w = (torch.rand(res.shape, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
            (res * w).sum().backward()
            p = f"bin{k}"
            for tag, t in [("a", a), ("b", b), ("w", w), ("out", res), ("ga", a.grad),
                           ("gb", b.grad)]:
                out.append(f"static const double {p}_{tag}[] = {doubles(flat(t))};")
            entries.append(
                f"    {{{c_str(op.name)}, {int(dtype == torch.float64)}, {dims(sa, 3)}, {dims(sb, 3)}, "
                f"{p}_a, {p}_b, {p}_w, {p}_out, {p}_ga, {p}_gb, {dims(res.shape, 3)}}},"
            )
            k += 1
out.append("static const golden_binary golden_binaries[] = {")
out.extend(entries)
out.append("};")

# ---- unary math and selection: out = f(x), loss = sum(out * w) ---------------------
# The ops of UNARY, each parameter set of values (p0, p1; 0 when unused).
out.append("typedef struct golden_unary { const char *op; double p0, p1; int f64; int strided;"
           " const double *x, *w, *out, *gx; } golden_unary;")
entries = []
for op, params in [(op, p) for op in UNARY for p in op.values]:
    p0, p1 = (params + [0, 0])[:2]
    for dtype in [torch.float32, torch.float64]:
        for strided in [0, 1]:
            g = torch.Generator().manual_seed(500 + k)
            base = torch.rand(3, 2, generator=g, dtype=torch.float64) * 4 - 2
            # x > 0 where the op is not defined on all of it (log, sqrt, x^0.5)
            if op.reference(base, None, params).isnan().any():
                base = base.abs() + 0.1
            base = base.to(dtype)
            x = (base.t() if strided else base.reshape(2, 3)).detach().requires_grad_()
            res = op.reference(x, None, params)
            w = (torch.rand(res.shape, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
            (res * w).sum().backward()
            p = f"un{k}"
            # x is stored as the (3, 2) base: the C test transposes it when strided
            for tag, t in [("x", base), ("w", w), ("out", res), ("gx", x.grad)]:
                out.append(f"static const double {p}_{tag}[] = {doubles(flat(t))};")
            entries.append(f"    {{{c_str(op.name)}, {c_double(p0)}, {c_double(p1)},"
                           f" {int(dtype == torch.float64)}, {strided}, {p}_x, {p}_w, {p}_out,"
                           f" {p}_gx}},")
            k += 1
out.append("static const golden_unary golden_unaries[] = {")
out.extend(entries)
out.append("};")

# maximum/minimum with ties and broadcasting, where with a broadcast condition
sel = []
for dtype in [torch.float32, torch.float64]:
    a = torch.tensor([[1.0, -2.0, 3.0], [0.5, 0.5, -1.0]], dtype=dtype, requires_grad=True)
    b = torch.tensor([0.5, -2.0, 4.0], dtype=dtype, requires_grad=True)
    c = torch.tensor([[1.0], [0.0]], dtype=dtype)
    w = torch.tensor([[0.3, -0.7, 1.1], [2.0, -0.4, 0.9]], dtype=dtype)
    # where with a condition of its own (ops_table.py's where is x's own)
    for name, fn in [("maximum", lambda: BY_NAME["maximum"].reference(a, b, [])),
                     ("minimum", lambda: BY_NAME["minimum"].reference(a, b, [])),
                     ("where", lambda: torch.where(c != 0, a, b))]:
        a.grad = None
        b.grad = None
        res = fn()
        (res * w).sum().backward()
        p = f"sel{k}"
        for tag, t in [("out", res), ("ga", a.grad), ("gb", b.grad)]:
            out.append(f"static const double {p}_{tag}[] = {doubles(flat(t))};")
        sel.append(f"    {{{c_str(name)}, {int(dtype == torch.float64)}, {p}_out, {p}_ga, {p}_gb}},")
        k += 1
out.append("typedef struct golden_select { const char *op; int f64; const double *out, *ga, *gb; }"
           " golden_select;")
out.append("static const golden_select golden_selects[] = {")
out.extend(sel)
out.append("};")

# ---- in-place x.add_(g, alpha): the SGD update, to the last bit in float32 -------
g = torch.Generator().manual_seed(7)
x = torch.rand(257, generator=g) * 4 - 2
grad = torch.rand(257, generator=g) * 10 - 5
out.append("typedef struct golden_axpy { double alpha; const double *x, *g, *out; int n; }"
           " golden_axpy;")
out.append(f"static const double axpy_x[] = {doubles(flat(x))};")
out.append(f"static const double axpy_g[] = {doubles(flat(grad))};")
alphas = [-0.1, -0.001, 0.3]
for i, alpha in enumerate(alphas):
    out.append(f"static const double axpy_out{i}[] = {doubles(flat(x.clone().add_(grad, alpha=alpha)))};")
out.append("static const golden_axpy golden_axpys[] = {")
for i, alpha in enumerate(alphas):
    out.append(f"    {{{alpha!r}, axpy_x, axpy_g, axpy_out{i}, 257}},")
out.append("};")

print("wrote", write_header("golden_core.h", "make_golden.py", ["math.h", "stdint.h"], out))
