#!/usr/bin/python3
"""Writes the golden values of the norm layers (tests/test_norm.c) from
PyTorch: F.layer_norm and LLaMA's RMSNorm, values and gradients, and small
networks with LayerNorm and RMSNorm in an nn.Sequential trained a few
steps with SGD.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_norm.py
The output, tests/golden/golden_norm.h, is committed: the tests never run
Python.

Each case (one row of CASES, in float32 and float64) builds x from
explicit values: the values of the tensor the op gets, laid out in a base
tensor that a view turns into it (as is, transposed, or every other
element of the last dim), so the op reads a strided tensor. Some rows are
changed first: shifted far from zero (1e4 + N(0, 1): a variance that
cancels if computed as mean(x^2) - mean^2), constant (variance 0), holding
NaN or infinities, or +-1e30 (whose squares overflow float32). Gradients
are those of sum(out * up) for a random up, with respect to the bases.
PyTorch's float64 layer_norm loses up to 5e-12 in rows far from zero (in
x rstd - mean rstd); the reference for those is its layer_norm of
x - 1e4, the same function, whose subtraction is exact and whose rows no
longer cancel (the script checks the two agree to 1e-10).

RMSNorm has no op in PyTorch 1.13; its reference is LLaMA's module:
    x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps)
rounded back to x's dtype, times weight. In float32 that is LLaMA's code
as it runs. In float64 the same formula is evaluated in float64, without
the .float() (which would round a float64 input to float32): tapegrad
keeps float64 inputs in float64.

For float32 cases the script also writes PyTorch's float64 results on the
same values (every float32 is a float64): tapegrad computes in double and
rounds once, so it is compared with those at one float32 rounding, and with
PyTorch's own float32 results at float tolerance, except where PyTorch's
float32 arithmetic loses the value (marked torch_f32_off: its float32 and
float64 results differ by more than 1e-5): rows far from zero, and squares
that overflow float. The script checks that these are the only ones.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_common import c_str, dims, doubles, flat, padded, write_header

F32, F64 = torch.float32, torch.float64
MAX_DIMS = 4
NAN, INF = float("nan"), float("inf")

# view of the base: as is, base.transpose(0, 1), base.transpose(-2, -1),
# or base[..., ::2] (the base twice as long in its last dim)
AS_IS, T01, TLAST, STEP = 0, 1, 2, 3

# rows changed before the op (in the op's view of x, rows = its last k dims)
PLAIN, FAR, SPECIAL = "plain", "far", "special"


def rms_norm_llama(x, weight, eps):
    """LLaMA's RMSNorm.forward; float64 inputs stay float64 (see above)."""
    xf = x.float() if x.dtype == F32 else x
    out = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).type_as(x)
    return out * weight if weight is not None else out


# (op, shape the op gets, view, k (normalized dims), weight, bias, weight
#  transposed, eps, rows)
LN, RMS = "layer_norm", "rms_norm"
CASES = [
    (LN, (4, 5), AS_IS, 1, True, True, False, 1e-5, PLAIN),
    (LN, (3, 4, 5), AS_IS, 2, True, True, False, 1e-5, PLAIN),
    (LN, (2, 3, 4, 5), AS_IS, 3, True, False, False, 1e-5, PLAIN),
    (LN, (4, 6), AS_IS, 1, False, False, False, 1e-5, PLAIN),
    (LN, (4, 3, 5), T01, 1, False, True, False, 1e-5, PLAIN),  # outer dims permuted
    (LN, (4, 5), T01, 1, True, True, False, 1e-5, PLAIN),  # rows of stride 4
    (LN, (2, 4, 5), TLAST, 2, True, True, True, 1e-5, PLAIN),  # rows no run: copied
    (LN, (3, 5), STEP, 1, True, True, False, 1e-5, PLAIN),  # rows of stride 2
    (LN, (3, 2, 5), STEP, 2, True, True, False, 1e-5, PLAIN),  # rows no run: copied
    (LN, (4, 8), AS_IS, 1, True, True, False, 1e-5, FAR),
    (LN, (3, 2, 8), T01, 2, True, True, False, 1e-5, FAR),
    (LN, (6, 4), AS_IS, 1, True, True, False, 1e-5, SPECIAL),
    (LN, (2, 3, 4), AS_IS, 2, True, True, False, 0.1, PLAIN),
    (LN, (6,), AS_IS, 1, True, True, False, 1e-5, PLAIN),  # one row, no outer dims
    (LN, (3, 37), AS_IS, 1, True, True, False, 1e-5, PLAIN),  # not a multiple of 8
    (LN, (2, 70), STEP, 1, False, False, False, 1e-5, FAR),
    (LN, (0, 4), AS_IS, 1, True, True, False, 1e-5, PLAIN),  # no rows
    (RMS, (4, 5), AS_IS, 1, True, False, False, 1e-6, PLAIN),
    (RMS, (4, 3, 6), T01, 1, True, False, False, 1e-6, PLAIN),
    (RMS, (4, 6), T01, 1, False, False, False, 1e-6, PLAIN),
    (RMS, (3, 5), STEP, 1, True, False, False, 1e-6, PLAIN),
    (RMS, (4, 8), AS_IS, 1, True, False, False, 1e-6, FAR),
    (RMS, (6, 4), AS_IS, 1, True, False, False, 1e-6, SPECIAL),
    (RMS, (2, 3, 4), AS_IS, 1, True, False, False, 0.1, PLAIN),
    (RMS, (3, 37), AS_IS, 1, True, False, False, 1e-6, PLAIN),
    (RMS, (7,), AS_IS, 1, True, False, False, 1e-6, PLAIN),
]

out = []
counter = [0]


def array(values):
    """Emits a static array of doubles and returns its name."""
    counter[0] += 1
    name = f"norm{counter[0]}"
    out.append(f"static const double {name}[] = {doubles(values)};")
    return name


def change_rows(v, k, rows):
    """v (the op's view of x, float64) with its rows changed as `rows` says."""
    flat_rows = v.reshape(-1, math.prod(v.shape[v.dim() - k:]) if v.dim() else 1)
    if rows == FAR:
        flat_rows += 1e4
    elif rows == SPECIAL:  # 6 rows of 4
        flat_rows[0] = 2.5  # constant: variance 0
        flat_rows[1] = 0.0  # zeros
        flat_rows[2, 1] = NAN
        flat_rows[3, 2] = INF
        flat_rows[4, 0], flat_rows[4, 3] = -INF, INF
        flat_rows[5, 0], flat_rows[5, 1] = 1e30, -1e30
    return flat_rows.reshape(v.shape)


def base_of(v, view):
    """The base tensor whose view is v, and the view as a function."""
    if view == T01:
        return v.transpose(0, 1).contiguous(), lambda b: b.transpose(0, 1)
    if view == TLAST:
        return v.transpose(-2, -1).contiguous(), lambda b: b.transpose(-2, -1)
    if view == STEP:
        base = torch.full((*v.shape[:-1], 2 * v.shape[-1]), 7.0, dtype=v.dtype)
        base[..., ::2] = v
        return base, lambda b: b[..., ::2]
    return v.clone(), lambda b: b


def run(op, dtype, xbase, view, k, wbase, bbase, wtr, eps, up):
    """The op in dtype on the bases; (out, gx, gw, gb), gradients of the bases."""
    def leaf(t):
        return t.to(dtype).clone().requires_grad_() if t is not None else None

    xb, wb, bb = leaf(xbase), leaf(wbase), leaf(bbase)
    x = view(xb)
    w = (wb.t() if wtr else wb) if wb is not None else None
    if op == LN:
        res = F.layer_norm(x, x.shape[x.dim() - k:], w, bb, eps)
    else:
        res = rms_norm_llama(x, w, eps)
    res.backward(up.to(dtype))
    none = torch.zeros(0)
    return (res.detach(), xb.grad, wb.grad if wb is not None else none,
            bb.grad if bb is not None else none, res.grad_fn.name())


def far_apart(a, b, tol=1e-5):
    """Farther than tol (relative and absolute), or apart in kind."""
    return not torch.allclose(a.double(), b.double(), rtol=tol, atol=tol, equal_nan=True)


entries = []
for k_case, (op, shape, view, k, has_w, has_b, wtr, eps, rows) in enumerate(CASES):
    for dtype in (F32, F64):
        f64 = int(dtype == F64)
        g = torch.Generator().manual_seed(6000 + 10 * k_case + f64)
        v = torch.randn(shape, generator=g, dtype=F64)
        v = change_rows(v, k, rows).to(dtype).to(F64)  # as the dtype holds them
        xbase, view_fn = base_of(v, view)
        nshape = tuple(shape[len(shape) - k:])
        wshape = tuple(reversed(nshape)) if wtr else nshape
        wbase = (1 + 0.5 * torch.randn(wshape, generator=g, dtype=F64)).to(dtype).to(F64) \
            if has_w else None
        bbase = (0.5 * torch.randn(nshape, generator=g, dtype=F64)).to(dtype).to(F64) \
            if has_b else None
        up = torch.randn(shape, generator=g, dtype=F64).to(dtype).to(F64)
        res, gx, gw, gb, name = run(op, dtype, xbase, view_fn, k, wbase, bbase, wtr, eps, up)
        # layer_norm is the same for x - 1e4, exactly computed: PyTorch's
        # float64 results there are the reference for rows far from zero
        shifted = xbase - 1e4 if op == LN and rows == FAR else xbase
        if dtype == F64 and shifted is not xbase:
            moved = run(op, F64, shifted, view_fn, k, wbase, bbase, wtr, eps, up)
            assert not far_apart(res, moved[0], 1e-10) and not far_apart(gx, moved[1], 1e-10)
            res, gx, gw, gb = moved[:4]
        if op == RMS:
            assert name == "MulBackward0", name  # the composition's last op
            name = "RmsNormBackward0"  # tapegrad's node: PyTorch 1.13 has no such op
        ref = ["NULL"] * 4
        off = 0
        if dtype == F32:
            ref64 = run(op, F64, shifted, view_fn, k, wbase, bbase, wtr, eps, up)
            ref = [array(flat(t)) if t.numel() else "NULL" for t in ref64[:4]]
            off = int(any(far_apart(a, b) for a, b in zip((res, gx, gw, gb), ref64[:4])))
            # PyTorch's float32 loses only where the rows are meant to make it
            assert off == (rows != PLAIN and (op == LN or rows == SPECIAL)), (k_case, op, rows)
        vals = [array(flat(t)) if t is not None and t.numel() else "NULL"
                for t in (xbase, wbase, bbase, up, res, gx, gw, gb)]
        entries.append(
            f"    {{{c_str(op)}, {f64}, {dims(xbase.shape, MAX_DIMS)}, {view}, {k},\n"
            f"     {int(has_w)}, {int(has_b)}, {int(wtr)}, {eps!r}, {c_str(rows)},\n"
            f"     {', '.join(vals)},\n"
            f"     {', '.join(ref)}, {off}, {c_str(name)}}},")

out.insert(0, f"""/* One call of layer_norm or rms_norm on values PyTorch was given too.
 * x is its base (row-major, base_shape) seen through `view`: 0 as is,
 * 1 transposed (0, 1), 2 transposed (-2, -1), 3 every other element of the
 * last dim; the op normalizes the last k dims of that view. weight and
 * bias (NULL: none) have the normalized shape, or weight the transpose of
 * it with weight_transposed (passed as its base's transpose). up is the
 * upstream gradient (of out's shape): gx, gw and gb are the gradients of
 * sum(out * up) in the bases. rows says how some rows were changed: "plain",
 * "far" (1e4 + N(0, 1)), "special" (constant, zeros, NaN, infinities,
 * +-1e30). float32 cases have PyTorch's float64 results on the same values
 * (*64); torch_f32_off marks those where PyTorch's float32 results are
 * farther than float tolerance from them. grad_fn is the node tapegrad
 * records (PyTorch's for layer_norm). */
typedef struct golden_norm {{
    const char *op;
    int f64;
    int base_ndim;
    int64_t base_shape[{MAX_DIMS}];
    int view, k;
    int has_weight, has_bias, weight_transposed;
    double eps;
    const char *rows;
    const double *x, *weight, *bias, *up;
    const double *out, *gx, *gw, *gb;
    const double *out64, *gx64, *gw64, *gb64;
    int torch_f32_off;
    const char *grad_fn;
}} golden_norm;""")
out.extend(["static const golden_norm golden_norms[] = {", *entries, "};"])


# ---- Networks with a norm, trained a few steps --------------------------------------------------

class RMSNorm(nn.Module):
    """LLaMA's RMSNorm (its weight in the network's dtype); see rms_norm_llama."""

    def __init__(self, dim, eps=1e-6, dtype=F32):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim, dtype=dtype))

    def forward(self, x):
        return rms_norm_llama(x, self.weight, self.eps)


# (name, seed, x shape, the layers, steps); kinds: ("linear", in, out),
# ("layer_norm", shape, affine, eps), ("rms_norm", dim, eps), ("act", name)
NETS = [
    ("ln_gelu", 11, (5, 4), [("linear", 4, 6), ("layer_norm", (6,), True, 1e-5), ("act", "gelu"),
                             ("linear", 6, 3)], 5),
    ("ln2d_tanh", 12, (5, 3, 4), [("linear", 4, 6), ("layer_norm", (3, 6), True, 1e-5),
                                  ("act", "tanh"), ("linear", 6, 2)], 5),
    ("ln_plain_relu", 13, (6, 4), [("linear", 4, 6), ("layer_norm", (6,), False, 1e-3),
                                   ("act", "relu"), ("linear", 6, 3)], 5),
    ("rms_silu", 14, (5, 4), [("linear", 4, 8), ("rms_norm", 8, 1e-6), ("act", "silu"),
                              ("linear", 8, 3)], 5),
]
LR, MOMENTUM = 0.1, 0.9
ACTS = {"gelu": nn.GELU, "tanh": nn.Tanh, "relu": nn.ReLU, "silu": nn.SiLU}
ACT_CODE = {"gelu": 1, "tanh": 5, "relu": 0, "silu": 3}  # tg_activation_kind
KIND_CODE = {"linear": 0, "layer_norm": 1, "rms_norm": 2, "act": 3}


def layer(spec, dtype):
    kind = spec[0]
    if kind == "linear":
        return nn.Linear(spec[1], spec[2], dtype=dtype)
    if kind == "layer_norm":
        return nn.LayerNorm(spec[1], eps=spec[3], elementwise_affine=spec[2], dtype=dtype)
    if kind == "rms_norm":
        return RMSNorm(spec[1], spec[2], dtype)
    return ACTS[spec[1]]()


def layer_fields(spec):
    """kind, ndim, shape (a Linear's (in, out), a norm's normalized shape, an
    activation's kind), flag (affine), eps."""
    kind = spec[0]
    if kind == "linear":
        return f"{{{KIND_CODE[kind]}, {dims((spec[1], spec[2]), MAX_DIMS)}, 0, 0}}"
    if kind == "layer_norm":
        return f"{{{KIND_CODE[kind]}, {dims(spec[1], MAX_DIMS)}, {int(spec[2])}, {spec[3]!r}}}"
    if kind == "rms_norm":
        return f"{{{KIND_CODE[kind]}, {dims((spec[1],), MAX_DIMS)}, 1, {spec[2]!r}}}"
    return f"{{{KIND_CODE[kind]}, 1, {padded([ACT_CODE[spec[1]]], MAX_DIMS)}, 0, 0}}"


net_entries = []
for name, seed, xshape, specs, steps in NETS:
    for dtype in (F32, F64):
        torch.manual_seed(seed)
        net = nn.Sequential(*[layer(s, dtype) for s in specs])
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(xshape, generator=g, dtype=F64).to(dtype)
        yshape = net(x).shape
        target = torch.randn(yshape, generator=g, dtype=F64).to(dtype)
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(net(x), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        state = net.state_dict()
        names = " ".join(state.keys())
        layers = ", ".join(layer_fields(s) for s in specs)
        net_entries.append(
            f"    {{{c_str(name)}, {seed}ULL, {int(dtype == F64)}, {len(specs)}, {{{layers}}},\n"
            f"     {dims(xshape, MAX_DIMS)}, {array(flat(x))}, {dims(yshape, MAX_DIMS)}, "
            f"{array(flat(target))}, {steps}, {array(losses)},\n"
            f"     {c_str(names)}, {array([v for t in state.values() for v in flat(t)])}}},")

out.append(f"""/* A network of layers in an nn.Sequential (drawn after
 * torch.manual_seed(seed): the Linears' weights as tg_linear_new draws
 * them, norms with weight ones and bias zeros), trained `steps` steps of
 * SGD (lr {LR}, momentum {MOMENTUM}) on mse_loss(net(x), target): the loss
 * before each step, then every parameter after the last, in state_dict
 * order (names, space-separated) and row-major. A layer: kind 0 Linear
 * (shape: in, out), 1 LayerNorm (normalized shape; flag: elementwise
 * affine), 2 RMSNorm (shape: dim), 3 an activation (shape[0]: its
 * tg_activation_kind). */
typedef struct golden_norm_layer {{
    int kind, ndim;
    int64_t shape[{MAX_DIMS}];
    int flag;
    double eps;
}} golden_norm_layer;
typedef struct golden_norm_net {{
    const char *name;
    unsigned long long seed;
    int f64, n_layers;
    golden_norm_layer layers[4];
    int x_ndim;
    int64_t x_shape[{MAX_DIMS}];
    const double *x;
    int y_ndim;
    int64_t y_shape[{MAX_DIMS}];
    const double *target;
    int steps;
    const double *losses;
    const char *names;
    const double *state;
}} golden_norm_net;""")
out.extend(["static const golden_norm_net golden_norm_nets[] = {", *net_entries, "};"])

print("wrote", write_header("golden_norm.h", "make_golden_norm.py", ["math.h", "stddef.h",
                                                                     "stdint.h"], out))
