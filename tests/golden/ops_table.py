"""Every pointwise op the golden scripts write cases for, one row each, as
tests/op_table.c has them on the C side (same names, same kinds of input).

A row is Op(name, inputs, reference, params, values=..., in_double=...):
  name       tg_<name>, and the op's name in the golden headers
  inputs     what it takes besides its scalar parameters, and so how the
             scripts make its inputs (the kinds below)
  reference  PyTorch's op, reference(x, y, p): y is None for X, HALVES and
             ROWS; p one of the parameter sets
  params     its parameter sets in golden_special.h (make_golden_special.py:
             special values); tests/test_special.c also runs gradcheck and
             its other checks once per set
  values     its parameter sets on ordinary inputs: the cases of
             golden_activation.h (make_golden_activation.py) for the
             activations, of golden_core.h (make_golden.py) for the others
  in_double  what tapegrad evaluates in double and rounds once: "all" (the
             output and the gradients), "out" (the output alone), or None
             (the op computes in the tensor's own dtype)
  specials   the special values its first input takes: None (all of them),
             or "probabilities" (those in [0, 1]: binary_cross_entropy
             refuses the others)

Imported by make_golden.py, make_golden_activation.py and
make_golden_special.py; run with Debian's /usr/bin/python3 and python3-torch,
as they are.
"""
import math
from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F

# The kinds of input (tests/op_table.h's op_inputs), and what the special
# value sweep gives the op for a case (a, b):
X = "X"                  # op(x): x = a
HALVES = "HALVES"        # op(x) splits x into halves along dim p[0]: x = cat(a, b)
ROWS = "ROWS"            # op(x) along dim 1 of x = the rows [a, b], (n, 2)
WEIGHT = "WEIGHT"        # op(x, w), one weight per channel (dim 1) or one in all:
                         # x = a as one row (1, n), w = b
BETA = "BETA"            # op(x, beta), beta one value: x = a, beta = b, case by case
PAIR = "PAIR"            # op(x, y) of one shape: x = a, y = b
BROADCAST = "BROADCAST"  # op(x, y), broadcasting: x = a, y = b


class Op(NamedTuple):
    name: str
    inputs: str
    reference: Callable
    params: list
    values: list = []
    in_double: Optional[str] = None
    specials: Optional[str] = None


def opt(p):
    """A NaN bound of tg_clamp means none."""
    return None if math.isnan(p) else p


def swish(x, beta):
    # tg_swish's result has x's shape: a one-element beta does not broadcast it.
    return (x * torch.sigmoid(beta * x)).reshape(x.shape)


NAN, INF = float("nan"), float("inf")

# ---- Activations and the GLU family (tests/test_activation.c) --------------------------------
ACTIVATIONS = [
    Op("relu", X, lambda x, y, p: F.relu(x), [[]], values=[[]]),
    Op("leaky_relu", X, lambda x, y, p: F.leaky_relu(x, p[0]), [[0.01], [-0.5], [0.3]],
       values=[[0.01], [0.2]], in_double="all"),
    # In eval mode: the fixed slope (lower + upper) / 2. Training draws random
    # slopes: make_golden_activation.py's golden_rrelus.
    Op("rrelu", X, lambda x, y, p: F.rrelu(x, p[0], p[1], training=False),
       [[1 / 8, 1 / 3], [0.1, 0.3]], values=[[1 / 8, 1 / 3], [0.1, 0.3]], in_double="all"),
    Op("elu", X, lambda x, y, p: F.elu(x, p[0]), [[1.0], [0.5], [0.7]], values=[[1.0], [0.5]],
       in_double="all"),
    Op("sigmoid", X, lambda x, y, p: torch.sigmoid(x), [[]], values=[[]], in_double="out"),
    Op("tanh", X, lambda x, y, p: torch.tanh(x), [[]], values=[[]], in_double="out"),
    Op("gelu", X, lambda x, y, p: F.gelu(x, approximate="tanh" if p[0] else "none"),
       [[0], [1]], values=[[0], [1]], in_double="all"),
    Op("silu", X, lambda x, y, p: F.silu(x), [[]], values=[[]], in_double="all"),
    Op("softplus", X, lambda x, y, p: F.softplus(x, p[0], p[1]),
       [[1.0, 20.0], [2.0, 5.0], [1.0, 200.0]], values=[[1.0, 20.0], [2.0, 5.0], [0.5, 20.0]],
       in_double="all"),
    Op("prelu", WEIGHT, lambda x, w, p: F.prelu(x, w), [[]], values=[[]]),
    Op("swish", BETA, lambda x, beta, p: swish(x, beta), [[]], values=[[]], in_double="all"),
    Op("glu", HALVES, lambda x, y, p: F.glu(x, int(p[0])), [[0], [-1]], values=[[-1], [0]],
       in_double="all"),
    # The gated forms have no torch op: their reference is the composition.
    Op("swiglu", PAIR, lambda g, u, p: F.silu(g) * u, [[]], values=[[]], in_double="all"),
    Op("geglu", PAIR, lambda g, u, p: F.gelu(g, approximate="tanh" if p[0] else "none") * u,
       [[0], [1]], values=[[0], [1]], in_double="all"),
    Op("reglu", PAIR, lambda g, u, p: F.relu(g) * u, [[]], values=[[]], in_double="all"),
    Op("selu", X, lambda x, y, p: F.selu(x), [[]], values=[[]], in_double="all"),
    Op("celu", X, lambda x, y, p: F.celu(x, p[0]), [[1.0], [0.5], [2.0]],
       values=[[1.0], [0.5]], in_double="all"),
    # As in PyTorch 1.13, min > max is max everywhere and a NaN bound NaN.
    Op("hardtanh", X, lambda x, y, p: F.hardtanh(x, p[0], p[1]),
       [[-1.0, 1.0], [-0.5, 2.0], [-0.0, 0.0], [2.0, -1.0], [NAN, 1.0], [-INF, INF]],
       values=[[-1.0, 1.0], [-0.5, 2.0]]),
    Op("relu6", X, lambda x, y, p: F.relu6(x), [[]], values=[[]]),
    Op("hardsigmoid", X, lambda x, y, p: F.hardsigmoid(x), [[]], values=[[]]),
    Op("hardswish", X, lambda x, y, p: F.hardswish(x), [[]], values=[[]]),
    Op("mish", X, lambda x, y, p: F.mish(x), [[]], values=[[]], in_double="all"),
    Op("logsigmoid", X, lambda x, y, p: F.logsigmoid(x), [[]], values=[[]], in_double="all"),
    Op("softsign", X, lambda x, y, p: F.softsign(x), [[]], values=[[]], in_double="all"),
    Op("tanhshrink", X, lambda x, y, p: F.tanhshrink(x), [[]], values=[[]], in_double="all"),
]

# ---- Elementwise functions of one tensor --------------------------------------------------------
UNARY = [
    Op("pow_scalar", X, lambda x, y, p: torch.pow(x, p[0]),
       [[e] for e in [0.0, 0.5, 1.0, 2.0, 3.0, -1.0, -0.5, 2.5, -2.0]],
       values=[[2.0], [3.0], [0.5], [-1.5], [0.0]]),
    Op("exp", X, lambda x, y, p: torch.exp(x), [[]], values=[[]]),
    Op("log", X, lambda x, y, p: torch.log(x), [[]], values=[[]]),
    Op("sqrt", X, lambda x, y, p: torch.sqrt(x), [[]], values=[[]]),
    Op("abs", X, lambda x, y, p: torch.abs(x), [[]], values=[[]]),
    Op("clamp", X, lambda x, y, p: torch.clamp(x, opt(p[0]), opt(p[1])),
       [[-1.0, 2.0], [0.0, 1.0], [-0.0, 0.0], [NAN, 1.0], [-1.0, NAN], [2.0, -1.0],
        [-INF, INF]], values=[[-0.5, 0.7], [NAN, 0.25]]),
    Op("neg", X, lambda x, y, p: torch.neg(x), [[]]),
    # A NaN bound is not "none" here: PyTorch fills the result with it.
    Op("clamp_min", X, lambda x, y, p: x.clamp_min(p[0]),
       [[0.0], [-0.0], [-1.0], [NAN], [INF], [-INF]], values=[[0.25], [-0.5]]),
    Op("clamp_max", X, lambda x, y, p: x.clamp_max(p[0]),
       [[0.0], [-0.0], [1.0], [NAN], [INF], [-INF]], values=[[0.25], [-0.5]]),
    Op("rsqrt", X, lambda x, y, p: torch.rsqrt(x), [[]], values=[[]]),
    Op("reciprocal", X, lambda x, y, p: torch.reciprocal(x), [[]], values=[[]]),
    Op("square", X, lambda x, y, p: torch.square(x), [[]], values=[[]]),
    Op("sign", X, lambda x, y, p: torch.sign(x), [[]], values=[[]]),
    Op("sin", X, lambda x, y, p: torch.sin(x), [[]], values=[[]]),
    Op("cos", X, lambda x, y, p: torch.cos(x), [[]], values=[[]]),
    Op("log1p", X, lambda x, y, p: torch.log1p(x), [[]], values=[[]]),
    Op("expm1", X, lambda x, y, p: torch.expm1(x), [[]], values=[[]]),
]

# ---- Two inputs: arithmetic, selection, the losses (reduction "none"), the row ops --------------
BINARY = [
    Op("add", BROADCAST, lambda x, y, p: torch.add(x, y), [[]], values=[[]]),
    Op("sub", BROADCAST, lambda x, y, p: torch.sub(x, y), [[]], values=[[]]),
    Op("mul", BROADCAST, lambda x, y, p: torch.mul(x, y), [[]], values=[[]]),
    Op("div", BROADCAST, lambda x, y, p: torch.div(x, y), [[]], values=[[]]),
    Op("pow", BROADCAST, lambda x, y, p: torch.pow(x, y), [[]], values=[[]]),
    Op("maximum", BROADCAST, lambda x, y, p: torch.maximum(x, y), [[]]),
    Op("minimum", BROADCAST, lambda x, y, p: torch.minimum(x, y), [[]]),
    # tg_where(x, x, y): x's value is also the condition (nonzero, NaN included).
    Op("where", BROADCAST, lambda x, y, p: torch.where(x.detach() != 0, x, y), [[]]),
    Op("xlogy", BROADCAST, lambda x, y, p: torch.xlogy(x, y), [[]], values=[[]]),
    Op("mse_loss", PAIR, lambda x, y, p: F.mse_loss(x, y, reduction="none"), [[]],
       in_double="all"),
    Op("binary_cross_entropy_with_logits", PAIR,
       lambda x, y, p: F.binary_cross_entropy_with_logits(x, y, reduction="none"), [[]],
       in_double="all"),
    # torch 1.13's composition, in the tensors' own type
    Op("l1_loss", PAIR, lambda x, y, p: F.l1_loss(x, y, reduction="none"), [[]]),
    Op("smooth_l1_loss", PAIR,
       lambda x, y, p: F.smooth_l1_loss(x, y, reduction="none", beta=p[0]),
       [[1.0], [0.5], [0.0]], in_double="all"),
    Op("huber_loss", PAIR, lambda x, y, p: F.huber_loss(x, y, reduction="none", delta=p[0]),
       [[1.0], [0.5], [2.0]], in_double="all"),
    Op("binary_cross_entropy", PAIR,
       lambda x, y, p: F.binary_cross_entropy(x, y, reduction="none"), [[]], in_double="all",
       specials="probabilities"),
    # torch 1.13's composition; with log_target=False (its node is SubBackward0)
    Op("kl_div", PAIR, lambda x, y, p: F.kl_div(x, y, reduction="none"), [[]]),
    Op("sum_dims", ROWS, lambda x, y, p: x.sum(1), [[]], in_double="all"),
    Op("mean_dims", ROWS, lambda x, y, p: x.mean(1), [[]], in_double="all"),
    Op("softmax", ROWS, lambda x, y, p: torch.softmax(x, 1), [[]], in_double="all"),
    Op("log_softmax", ROWS, lambda x, y, p: torch.log_softmax(x, 1), [[]], in_double="all"),
    Op("amax", ROWS, lambda x, y, p: torch.amax(x, 1), [[]], in_double="all"),
    Op("amin", ROWS, lambda x, y, p: torch.amin(x, 1), [[]], in_double="all"),
    Op("prod_dim", ROWS, lambda x, y, p: torch.prod(x, 1), [[]], in_double="all"),
    Op("var", ROWS, lambda x, y, p: torch.var(x, 1, correction=int(p[0])), [[1], [0]],
       in_double="all"),
    Op("std", ROWS, lambda x, y, p: torch.std(x, 1, correction=int(p[0])), [[1], [0]],
       in_double="all"),
    Op("logsumexp", ROWS, lambda x, y, p: torch.logsumexp(x, 1), [[]], in_double="all"),
    Op("vector_norm", ROWS, lambda x, y, p: torch.linalg.vector_norm(x, p[0], 1),
       [[2], [1], [INF], [-INF], [3], [1.5]], in_double="all"),
]

OPS = ACTIVATIONS + UNARY + BINARY
BY_NAME = {op.name: op for op in OPS}
