#!/usr/bin/python3
"""Writes tests/golden/golden_activation.h: PyTorch's values and gradients
for the activations and the GLU family, read by tests/test_activation.c.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_activation.py
The output is committed: the tests never run Python.

Every case stores its inputs, a weight w of the output's shape, the output,
and the gradients of sum(out * w) with respect to each input, in float32
and float64. A "transposed" case feeds the op x = base.t() for a contiguous
2-D base (so the C side sees a strided tensor); its input and gradient are
stored in base's layout. The ops, their references and the parameters of
their cases (values) are the rows of ops_table.py's ACTIVATIONS; the inputs
each kind of op gets are made below.
"""
import torch
import torch.nn.functional as F

from golden_common import c_str, dims, doubles, flat, write_header
from ops_table import ACTIVATIONS, BETA, HALVES, PAIR, WEIGHT, X

DTYPES = [torch.float32, torch.float64]

# Values where the activations bend or saturate, the kinks at 0, and +-100
# where a naive exp overflows in float32.
SPECIAL = [-100.0, -6.0, -3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 3.0, 6.0, 100.0]


class Writer:
    def __init__(self):
        self.lines = []
        self.k = 0

    def array(self, tag, t):
        name = f"a{self.k}_{tag}"
        self.lines.append(f"static const double {name}[] = {doubles(flat(t))};")
        return name


W = Writer()


def uniform(gen, shape, lo, hi):
    return torch.rand(shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo


# ---- Inputs: (shape kind, base tensor in float64) ---------------------------------
def x_inputs(gen, even_last=False):
    """Special values, a 3-D block, a transposed 2-D block and a 0-dim value."""
    special = torch.tensor(SPECIAL + ([2.0] if even_last else []), dtype=torch.float64)
    cases = [("special", special, False),
             ("block", uniform(gen, (2, 3, 4), -6, 6), False),
             ("transposed", uniform(gen, (6, 4) if even_last else (5, 3), -6, 6), True)]
    if not even_last:
        cases.append(("scalar", torch.tensor(-0.75, dtype=torch.float64), False))
    return cases


entries = []

# Where PyTorch's op is not the reference (make_golden_special.py lists
# these cases on special values too), by (op, dtype):
#   - PyTorch's float64 hardsigmoid_backward multiplies by float32's 1/6,
#     0.1666666716337204: relu6(x + 3) / 6 takes the same steps forward and
#     divides by 6 in float64 backward;
#   - at the kink x = 3, PyTorch's vectorised hardswish_backward takes the
#     slope beyond it, 1, and its one-element path, which short inputs
#     take, 3/2: tapegrad's is the vectorised path's, 1 (x itself there).
def hardswish_as_vectorised(x, y, p):
    return torch.where(x.detach() == 3, x, F.hardswish(x))


REFERENCES = {("hardsigmoid", torch.float64): lambda x, y, p: F.relu6(x + 3) / 6,
              ("hardswish", torch.float32): hardswish_as_vectorised,
              ("hardswish", torch.float64): hardswish_as_vectorised}


def add_case(op, dtype, params, transposed, x_base, b_base):
    """op (an Op of ops_table.py) on x and b (None for one input): records
    the values and gradients."""
    g = torch.Generator().manual_seed(1000 + W.k)
    x_leaf = x_base.to(dtype).clone().requires_grad_()
    x = x_leaf.t() if transposed else x_leaf
    b_leaf = b = None
    if b_base is not None:
        b_leaf = b_base.to(dtype).clone().requires_grad_()
        b = b_leaf.t() if transposed and b_leaf.dim() == 2 else b_leaf
    out = REFERENCES.get((op.name, dtype), op.reference)(x, b, params)
    w = uniform(g, out.shape, -1, 1).to(dtype)
    (out * w).sum().backward()
    ax, agx = W.array("x", x_leaf), W.array("gx", x_leaf.grad)
    if b_leaf is not None:
        ab, agb = W.array("b", b_leaf), W.array("gb", b_leaf.grad)
        bdims = dims(b_leaf.shape, 3)
    else:
        ab = agb = "NULL"
        bdims = "-1, {0}"
    aw, aout = W.array("w", w), W.array("out", out)
    p = doubles(list(params) + [0.0] * (3 - len(params)))
    entries.append(
        f"    {{{c_str(op.name)}, {int(dtype == torch.float64)}, {p}, {int(transposed)}, "
        f"{dims(x_leaf.shape, 3)}, {ax}, {agx}, {bdims}, {ab}, {agb}, "
        f"{dims(out.shape, 3)}, {aw}, {aout}}},")
    W.k += 1


def of_kind(*kinds):
    return [op for op in ACTIVATIONS if op.inputs in kinds]


# ---- One input: each parameter set of values, on every input ------------------------------------
gen = torch.Generator().manual_seed(0)
inputs = x_inputs(gen)
for op in of_kind(X):
    for params in op.values:
        for dtype in DTYPES:
            for kind, base, transposed in inputs:
                add_case(op, dtype, params, transposed, base, None)


# ---- A learnable second input: prelu's weight, swish's beta -------------------------------------
# One value, of shape (1,), with every input; then more on the 3-D block
# (index 1 of inputs) or the transposed one (index 2): one weight per
# channel and a 0-dim weight, or 0-dim betas.
SHARED = {WEIGHT: 0.25, BETA: 1.5}


def more_parameters(kind, gen):
    """(index in inputs, the second input) of the cases beyond the shared value."""
    if kind == WEIGHT:
        return [(1, uniform(gen, (3,), -0.5, 0.5)), (2, uniform(gen, (5,), -0.5, 0.5)),
                (1, torch.tensor(-0.3, dtype=torch.float64))]
    return [(1, torch.tensor(beta, dtype=torch.float64)) for beta in [1.0, 0.0, -0.7]]


for dtype in DTYPES:
    for kind, base, transposed in inputs:
        for op in of_kind(WEIGHT, BETA):
            for params in op.values:
                shared = torch.tensor([SHARED[op.inputs]], dtype=torch.float64)
                add_case(op, dtype, params, transposed, base, shared)
    for op in of_kind(WEIGHT, BETA):
        for params in op.values:
            for i, second in more_parameters(op.inputs, gen):
                kind, base, transposed = inputs[i]
                add_case(op, dtype, params, transposed, base, second)


# ---- Halves: glu, over even-sized inputs --------------------------------------------------------
def distinct_dims(values, ndim):
    """The parameter sets of values whose dims p[0] are distinct dims of an
    ndim input (the last of those naming one: dims -1 and 0 of a 1-D input
    are one case, dim 0)."""
    return [p for i, p in enumerate(values)
            if all(int(q[0]) % ndim != int(p[0]) % ndim for q in values[i + 1:])]


glu_inputs = x_inputs(gen, even_last=True)
for op in of_kind(HALVES):
    for dtype in DTYPES:
        for kind, base, transposed in glu_inputs:
            for params in distinct_dims(op.values, base.dim()):
                add_case(op, dtype, params, transposed, base, None)

# ---- Gated forms: act(gate) * up ------------------------------------------------------------------
for op in of_kind(PAIR):
    for params in op.values:
        for dtype in DTYPES:
            for kind, base, transposed in inputs:
                up = uniform(gen, base.shape, -2, 2)
                add_case(op, dtype, params, transposed, base, up)

GOLDEN_ACT = """typedef struct golden_act {
    const char *op; /* the row of tests/op_table.c that calls it */
    int f64;
    double p[3]; /* the op's parameters, as that row's call reads them */
    /* The op gets base.t() for x (and up) when transposed; x, gx (b, gb)
     * then hold base, of shape sx (sb). */
    int transposed;
    int nx; int64_t sx[3]; const double *x, *gx;
    int nb; int64_t sb[3]; const double *b, *gb; /* weight, beta or up; nb = -1 when none */
    int nout; int64_t sout[3]; const double *w, *out; /* loss = sum(out * w) */
} golden_act;"""
out = [GOLDEN_ACT]
out.extend(W.lines)
out.append("static const golden_act golden_acts[] = {")
out.extend(entries)
out.append("};")

# ---- rrelu in training: torch.manual_seed(seed), then F.rrelu(x, lower, upper, True) ------------
# The slopes come from the default generator; tapegrad draws them the same way.
rr = []
rr.append("typedef struct golden_rrelu { uint64_t seed; int f64; double lower, upper;"
          " int transposed; int nx; int64_t sx[2]; const double *x, *w, *out, *gx; }"
          " golden_rrelu;")
rr_entries = []
for i, (seed, lower, upper, transposed) in enumerate(
        [(0, 1 / 8, 1 / 3, False), (42, 0.1, 0.9, False), (7, 1 / 8, 1 / 3, True)]):
    for dtype in DTYPES:
        base = (torch.tensor(SPECIAL + [-2.0, -4.0, 2.5], dtype=torch.float64) if not transposed
                else uniform(gen, (4, 3), -6, 6))
        x_leaf = base.to(dtype).clone().requires_grad_()
        x = x_leaf.t() if transposed else x_leaf
        torch.manual_seed(seed)
        res = F.rrelu(x, lower, upper, training=True)
        w = uniform(gen, res.shape, -1, 1).to(dtype)
        (res * w).sum().backward()
        tag = f"rr{i}_{int(dtype == torch.float64)}"
        for name, t in [("x", x_leaf), ("w", w), ("out", res), ("gx", x_leaf.grad)]:
            rr.append(f"static const double {tag}_{name}[] = {doubles(flat(t))};")
        rr_entries.append(
            f"    {{{seed}, {int(dtype == torch.float64)}, {lower!r}, {upper!r}, "
            f"{int(transposed)}, {dims(x_leaf.shape, 2)}, "
            f"{tag}_x, {tag}_w, {tag}_out, {tag}_gx}},")
rr.append("static const golden_rrelu golden_rrelus[] = {")
rr.extend(rr_entries)
rr.append("};")

path = write_header("golden_activation.h", "make_golden_activation.py",
                    ["math.h", "stddef.h", "stdint.h"], out + rr)
print("wrote", path, len(entries), "cases,", len(rr_entries), "rrelu training cases")
