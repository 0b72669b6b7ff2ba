#!/usr/bin/python3
"""Golden values for nn modules, from PyTorch (Debian's python3-torch).

    /usr/bin/python3 tests/golden/make_golden_modules.py

writes tests/golden/golden_modules.h (committed; the tests never run Python):
the weights torch.nn.Linear draws after torch.manual_seed, so the C test can
check that tg_linear_new draws the same ones, and a forward pass through them;
and print(model) and the state_dict keys of models that tests/test_module_api.c
builds the same way in C (golden_prints).
"""
from collections import OrderedDict

import torch
from torch import nn

from golden_common import c_str, doubles, flat, write_header

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



# ---- print(model) and state_dict keys ----------------------------------------------
# tapegrad's own modules as PyTorch modules of the same names, children and
# extra_repr, so that PyTorch's Module.__repr__ prints them.


class FeedForward(nn.Module):
    """tg_feedforward_new: w1, w2 (and w3 when gated), then dropout."""

    def __init__(self, kind, dim, hidden, gated, p=0.0):
        super().__init__()
        self.kind, self.dim, self.hidden = kind, dim, hidden
        self.w1 = nn.Linear(dim, hidden, bias=not gated)
        self.w2 = nn.Linear(hidden, dim, bias=not gated)
        if gated:
            self.w3 = nn.Linear(dim, hidden, bias=False)
        self.dropout = nn.Dropout(p)

    def extra_repr(self):
        return f"kind={self.kind}, dim={self.dim}, hidden_dim={self.hidden}"


class Residual(nn.Module):
    """tg_residual_new: x + fn(x)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn


class Swish(nn.Module):
    """tg_swish_new: a parameter beta, nothing printed."""

    def __init__(self):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(1))


class Block(nn.Module):
    """The module test_module_api.c defines with the public API: a
    parameter, a buffer, a ModuleList of layers and two lines of extra_repr."""

    def __init__(self, dim, n):
        super().__init__()
        self.dim = dim
        self.scale = nn.Parameter(torch.ones(dim))
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))
        self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(n)])

    def extra_repr(self):
        return f"dim={self.dim}\nlayers={len(self.layers)}"


class RMSNorm(nn.Module):
    """LLaMA's RMSNorm(dim): a weight, nothing printed."""

    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))


class PreNormBlock(nn.Module):
    """examples/prenorm_block.h's block: x + FeedForward(RMSNorm(x))."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.attention_norm = RMSNorm(dim)
        self.feed_forward = FeedForward("SwiGLU", dim, hidden, True)


class PreNormStack(nn.Module):
    """examples/prenorm_block.h's stack, as examples/prenorm_ffn.c makes it
    (784 -> 128, 4 blocks, SwiGLU hidden 512 -> 352, -> 10)."""

    def __init__(self, n_layers):
        super().__init__()
        self.embed = nn.Linear(784, 128, bias=False)
        self.layers = nn.ModuleList([PreNormBlock(128, 352) for _ in range(n_layers)])
        self.norm = RMSNorm(128)
        self.output = nn.Linear(128, 10, bias=False)


models = [
    ("every_layer", nn.Sequential(
        nn.Linear(784, 256), nn.Dropout(0.1), nn.ReLU(), nn.GELU(), nn.GELU(approximate="tanh"),
        nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.PReLU(), nn.PReLU(3), Swish(),
        nn.Embedding(10, 3), nn.Embedding(10, 3, padding_idx=-1), nn.Dropout(0.0),
        nn.Dropout(1e-05), nn.Dropout(1.0), nn.Linear(3, 4, bias=False))),
    ("fashion", nn.Sequential(nn.Linear(784, 256), Residual(FeedForward("SwiGLU", 256, 704, True)),
                              nn.Linear(256, 10))),
    ("classic_ffn", FeedForward("GELU", 6, 24, False, 0.25)),
    ("named", nn.Sequential(OrderedDict([
        ("embed", nn.Embedding(10, 8, padding_idx=0)),
        ("blocks", nn.ModuleList([Residual(FeedForward("ReGLU", 8, 24, True)),
                                  Residual(FeedForward("GELU-tanh", 8, 32, False))])),
        ("head", nn.Linear(8, 10))]))),
    ("block", nn.Sequential(Block(4, 2), nn.Linear(4, 2))),
    ("prenorm", PreNormStack(4)),
    ("activations", nn.Sequential(
        nn.SELU(), nn.ReLU6(), nn.Hardsigmoid(), nn.Hardswish(), nn.Mish(), nn.LogSigmoid(),
        nn.Softsign(), nn.Tanhshrink(), nn.CELU(), nn.CELU(0.5), nn.Hardtanh(),
        nn.Hardtanh(-2.0, 0.25), nn.LayerNorm((3, 4), eps=1e-06, elementwise_affine=False))),
    ("empty_sequential", nn.Sequential()),
    ("empty_list", nn.ModuleList()),
]
out.append("typedef struct golden_print { const char *name, *repr; int n_keys;"
           " const char *const *keys; } golden_print;")
for name, model in models:
    keys = list(model.state_dict().keys())
    out.append(f"static const char *const {name}_keys[] = "
               f"{{{', '.join(c_str(k) for k in keys) or 'NULL'}}};")
out.append("static const golden_print golden_prints[] = {")
for name, model in models:
    out.append(f"    {{{c_str(name)}, {c_str(repr(model))}, {len(model.state_dict())}, {name}_keys}},")
out.append("};")

print("wrote", write_header("golden_modules.h", "make_golden_modules.py", [], out))
