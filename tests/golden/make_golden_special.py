#!/usr/bin/python3
"""Writes tests/golden/golden_special.h: PyTorch's values and gradients of
every pointwise op of ops_table.py on IEEE special values, read by
tests/test_special.c.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_special.py [--report]
The output is committed: the tests never run Python. --report prints each
value that is not PyTorch's, PyTorch's two values and the reason.

The values: NaN, +-inf, +-0, the smallest denormal and its negative, +-1,
a few ordinary numbers (-10 among them, deep in GELU's left tail), +-1e30
and the dtype's largest (and, for the one-input ops, its negative). A
one-input op gets each of them; a two-input op gets each pair of a
slightly smaller set (values(dtype, binary=True)), but an op on
probabilities each pair of a probability (probabilities(dtype)) and a value. Each (op, dtype) is one
row of the table: the inputs of its n cases, the output, and the gradient
of sum(out * u) with respect to each input for two upstream gradients u:
ones, and 0.5 (-2 at a row op's second output).

PyTorch has two code paths for most CPU kernels, forward and backward:
a vectorised one for long contiguous runs and a scalar one for short
ones and the tails. Each case is evaluated both ways: as 64 copies in
one tensor of 64 n elements (every element on the vectorised path; a
multiple of 64 leaves no tail) and alone, as a one-element tensor (the
scalar path).

The golden value is PyTorch's (its vectorised one where the two differ
only by rounding), except in three kinds of case, each listed in
golden_special_choices with both of PyTorch's values and the reason:
  - its two paths disagree in kind (NaN, inf, the sign of a zero): RESOLVE
    picks the mathematically right value;
  - GELU and ELU, whose formulas cancel and round values to zero, the
    reductions whose sums PyTorch lets overflow or underflow (var, std,
    vector_norm of finite ords) or whose gradient it divides by the element
    (prod: NaN at an infinity), and smooth_l1_loss and huber_loss, whose
    float64 paths disagree at denormals (EXACT): the exact value (mpmath),
    rounded once; smooth L1 with beta 0 has l1's slope 0 at x = t (PyTorch's
    is -1), and binary_cross_entropy's loss takes log1p(-x) where PyTorch
    takes log(1 - x);
  - in float32, the ops that tapegrad evaluates in double (in_double), where
    PyTorch's float32 arithmetic is more than an ulp off or off in kind:
    PyTorch's float64 value, rounded once to float32.
"""
import math
import sys

import torch

from golden_common import c_double, c_str, write_header
from ops_table import HALVES, OPS, ROWS, WEIGHT, X

DTYPES = [torch.float32, torch.float64]
COPIES = 64

NAN, INF = float("nan"), float("inf")


def values(dtype, binary):
    fi = torch.finfo(dtype)
    dmin = fi.tiny * fi.eps  # the smallest denormal: 2^-149, 2^-1074
    if binary:
        v = [NAN, INF, -INF, 0.0, -0.0, dmin, -dmin, 1.0, -1.0, 2.5, -0.5, 1e30, -1e30,
             fi.max]
    else:
        v = [NAN, INF, -INF, 0.0, -0.0, dmin, -dmin, 1.0, -1.0, 0.5, -2.5, 3.0, 25.0, -10.0,
             1e30, -1e30, fi.max, -fi.max]
    # As the dtype holds them (1e30 is not a float32).
    return torch.tensor(v, dtype=dtype).tolist()


def arity_of(op):
    """How many inputs a case of op has: one value a, or a pair (a, b)."""
    return 1 if op.inputs == X else 2


def run(op, a, b, p):
    """op on the cases a (and b), made into its inputs as its kind says
    (ops_table.py)."""
    if op.inputs == HALVES:
        return op.reference(torch.cat([a, b]), None, p)
    if op.inputs == ROWS:
        return op.reference(torch.stack([a, b], 1), None, p)
    if op.inputs == WEIGHT:
        return op.reference(a.reshape(1, -1), b, p)
    return op.reference(a, b, p)


def probabilities(dtype):
    """The values of probabilities (ops_table.py's specials="probabilities":
    binary_cross_entropy refuses any other input): both zeros, the smallest
    denormal, 1e-30, a few ordinary ones, the largest below 1, and 1."""
    fi = torch.finfo(dtype)
    v = [0.0, -0.0, fi.tiny * fi.eps, 1e-30, 0.25, 0.5, 1 - fi.eps / 2, 1.0]
    return torch.tensor(v, dtype=dtype).tolist()


# The sets of cases, and their arrays' names: one value; a pair of values; a
# probability with a value.
CASE_SETS = {1: "in1", 2: "in2", "probabilities": "inp"}


def case_set(op):
    return "probabilities" if op.specials == "probabilities" else arity_of(op)


def cases(dtype, which):
    """The inputs of the n cases of a case set: a, and b (None for one input)."""
    if which == 1:
        return values(dtype, False), None
    v = values(dtype, True)
    av = probabilities(dtype) if which == "probabilities" else v
    return [x for x in av for _ in v], [y for _ in av for y in v]


def upstream(out, k, nout):
    """Upstream gradient k of out: ones, or 0.5 (-2 at a second output)."""
    if k == 0:
        return torch.ones_like(out)
    u = torch.full_like(out, 0.5)
    if nout == 2:
        u[:, 1] = -2.0
    return u


def evaluate(op, p, dtype, a, b, copies):
    """op on the cases, each repeated `copies` times in one tensor: the
    output (n * nout values, nout outputs per case) and, per upstream, the
    gradients of a and b."""
    def leaf(v):
        return torch.tensor(v, dtype=dtype).repeat_interleave(copies).requires_grad_()

    res = {}
    for k in range(2):
        ta = leaf(a)
        tb = leaf(b) if b is not None else None
        out = run(op, ta, tb, p)
        nout = out.numel() // (len(a) * copies)
        out.backward(upstream(out, k, nout))
        pick = lambda t, w: t.detach().reshape(len(a), copies, w)[:, 0, :].reshape(-1).tolist()
        if k == 0:
            res["out"] = pick(out, nout)
        res[f"ga{k}"] = pick(ta.grad, 1)
        if tb is not None:
            res[f"gb{k}"] = pick(tb.grad, 1)
    return res


def same(x, y):
    """Equal bit for bit, but any NaN equals any NaN."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y and math.copysign(1, x) == math.copysign(1, y)


def exact_class(x):
    """What a result must match exactly: NaN, the infinities, the signed zeros
    (None for the finite nonzero values, compared to within rounding)."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x) or x == 0:
        return repr(x)
    return None


# ---- Where the two paths disagree --------------------------------------------------------
# Each rule: (op, quantity, predicate on the case (a, b) and the op's
# parameters p, the value chosen, why). A disagreement no rule covers stops
# the script, so that a new one is looked at, not recorded silently.
def ieee_max_zero(a, b):
    return a == 0 and b == 0 and math.copysign(1, a) != math.copysign(1, b)


RESOLVE = [
    # torch.maximum returns one of its operands by position on a tie, and the
    # two paths take different ones: maximum(0.0, -0.0) is -0.0 vectorised
    # (vmaxps returns its second operand) and 0.0 alone (std::max its first).
    # IEEE 754-2019 maximum orders -0 below +0: max is +0, min is -0.
    ("maximum", "out", lambda a, b, p: ieee_max_zero(a, b), lambda a, b, old: 0.0,
     "IEEE 754-2019 maximum: +0 is above -0"),
    ("minimum", "out", lambda a, b, p: ieee_max_zero(a, b), lambda a, b, old: -0.0,
     "IEEE 754-2019 minimum: -0 is below +0"),
    # elu_backward is `x <= 0 ? grad * alpha e^x : grad` alone, so a NaN x
    # takes the x > 0 branch and gets the upstream gradient; vectorised, the
    # blend keeps the NaN. The derivative at NaN is NaN.
    ("elu", "ga", lambda a, b, p: math.isnan(a), lambda a, b, old: NAN,
     "the derivative at NaN is NaN"),
    ("selu", "ga", lambda a, b, p: math.isnan(a), lambda a, b, old: NAN,
     "the derivative at NaN is NaN"),
    ("celu", "ga", lambda a, b, p: math.isnan(a), lambda a, b, old: NAN,
     "the derivative at NaN is NaN"),
    # hardswish_backward alone is `x < -3 ? 0 : x <= 3 ? g (x / 3 + 1/2) : g`;
    # vectorised, x >= 3 selects g and NaN falls through to g (NaN / 3 + 1/2).
    ("hardswish", "ga", lambda a, b, p: math.isnan(a), lambda a, b, old: NAN,
     "the derivative at NaN is NaN"),
    ("hardswish", "ga", lambda a, b, p: a == 3, lambda a, b, old: old,
     "at the kink x = 3, the slope of x beyond it, as PyTorch's vectorised path"),
    # hardtanh_backward alone is `x <= min || x >= max ? 0 : g`, which passes g
    # at a NaN x or bound; vectorised it is g masked by min < x < max: 0.
    ("hardtanh", "ga", lambda a, b, p: math.isnan(a) or math.isnan(p[0]),
     lambda a, b, old: 0.0,
     "the gradient passes strictly inside the bounds only (as tg_clamp's): 0 at NaN"),
    ("relu6", "ga", lambda a, b, p: math.isnan(a), lambda a, b, old: 0.0,
     "the gradient passes strictly inside the bounds only (as tg_clamp's): 0 at NaN"),
    # Sleef's vectorised pow overflows on the way to DBL_MAX^1; the scalar
    # path's std::pow gives DBL_MAX itself.
    ("pow", "out", lambda a, b, p: b == 1, lambda a, b, old: a, "a^1 is a"),
]


def both_paths(op, p, dtype, a, b):
    """The op's results on the vectorised path and on the one-element one."""
    vec = evaluate(op, p, dtype, a, b, COPIES)
    alone = {q: [] for q in vec}
    for i in range(len(a)):
        r = evaluate(op, p, dtype, [a[i]], None if b is None else [b[i]], 1)
        for q in r:
            alone[q] += r[q]
    return vec, alone


def resolve(op, quantity, a, b, vec, alone, p):
    if same(vec, alone):
        return vec, None
    for rop, rq, pred, choose, why in RESOLVE:
        if rop == op and quantity.startswith(rq) and pred(a, b, p):
            return choose(a, b, vec), why
    if exact_class(vec) is None and exact_class(alone) is None and (vec > 0) == (alone > 0):
        return vec, None  # rounding only: compared within a tolerance
    raise SystemExit(f"{op} {quantity} at ({a}, {b}): vectorised {vec!r}, alone {alone!r}: "
                     "no rule in RESOLVE")


# ---- Where PyTorch is less accurate: GELU ------------------------------------------------
# PyTorch computes GELU as x (1 + erf(x / sqrt 2)) / 2 and x (1 + tanh u) / 2,
# where 1 + erf and 1 + tanh cancel in the left tail: gelu(-10) comes out
# -0.0 in both dtypes (it is -7.6e-23), and its gradient 1% off. For gelu
# and geglu, in both forms, the golden value is therefore the exact one
# (mpmath, 200 bits) rounded once to the dtype, wherever the inputs are
# finite; the non-finite inputs keep PyTorch's values.
mpmath = None


def gelu_ref(x, approx):
    """(S, S') with gelu(x) = x S(x), for S = Phi or sigma(2u): S and d gelu/dx."""
    x = mpmath.mpf(x)
    if approx:
        k = mpmath.sqrt(2 / mpmath.pi)
        u = k * (x + mpmath.mpf("0.044715") * x ** 3)
        du = k * (1 + 3 * mpmath.mpf("0.044715") * x ** 2)
        t = mpmath.tanh(u)
        s = (1 + t) / 2 if u > -20 else 1 / (1 + mpmath.exp(-2 * u))
        return s, s + x * (1 - t * t) * du / 2 if u > -20 else s + 2 * x * s * (1 - s) * du
    phi = mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)
    if abs(x) > 1e6:  # mpmath's erfc fails there; Phi's tail is phi / |x| (1 - 1 / x^2)
        s = phi / -x * (1 - 1 / (x * x)) if x < 0 else 1 - phi / x
    else:
        s = mpmath.erfc(-x / mpmath.sqrt(2)) / 2
    return s, s + x * phi


def rounded(factors, dtype):
    """The product of factors (floats, whose zeros keep their signs, or
    nonzero mpfs) rounded once to dtype, denormals and overflow included."""
    sign, m = 1, mpmath.mpf(1)
    for f in factors:
        sign *= -1 if (f < 0 or (f == 0 and math.copysign(1, f) < 0)) else 1
        m *= abs(mpmath.mpf(f))
    p, emin, emax = (24, -126, 127) if dtype == torch.float32 else (53, -1022, 1023)
    if m == 0:
        return math.copysign(0.0, sign)
    e = int(mpmath.floor(mpmath.log(m, 2)))
    q = max(e, emin) - (p - 1)
    v = mpmath.nint(m / mpmath.mpf(2) ** q) * mpmath.mpf(2) ** q
    return sign * (INF if v >= mpmath.mpf(2) ** (emax + 1) else float(v))


def gelu_exact(op, p, dtype, a, b, quantity):
    """The exact value of quantity (out, ga0, ...) of gelu or geglu at (a, b),
    or None where it is PyTorch's: at a non-finite gate, or an up of NaN.
    Times an infinite up, gelu(gate) or gelu'(gate) counts as evaluated in
    double (tapegrad's precision): +-inf, or NaN where it underflows there.
    Where that value is the smallest denormal of double, whether it rounds
    to it or to 0 is a near tie (gelu(dmin) = dmin (1/2 + dmin / sqrt(2 pi)))
    that neither evaluation resolves; there PyTorch's value stands, in
    float64 and times an infinite up."""
    u = 1.0 if quantity in ("out", "ga0", "gb0") else 0.5
    uses_up = op == "geglu" and quantity[:2] != "gb"
    if not math.isfinite(a) or (uses_up and math.isnan(b)):
        return None
    s, d = gelu_ref(a, p[0] != 0)
    act = rounded([a, s] if quantity[:2] != "ga" else [d], torch.float64)
    exact_act = abs(a * s if quantity[:2] != "ga" else d)
    dmin = mpmath.mpf(2) ** -1074
    near_tie = dmin / 4 < exact_act < dmin * 3 / 2
    if near_tie and (dtype == torch.float64 or (uses_up and math.isinf(b))):
        return None
    if uses_up and math.isinf(b):
        return act * u * b
    if op == "gelu":
        return rounded([a, s] if quantity == "out" else [u, d], dtype)
    return rounded({"ou": [a, s, b], "ga": [u, d, b], "gb": [u, a, s]}[quantity[:2]], dtype)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def elu_parameters(op, p, dtype):
    """alpha, scale and input_scale of elu, selu or celu (PyTorch computes all
    three as elu), each rounded to the dtype, as torch and tapegrad round
    them; celu's input_scale is 1 / alpha, computed in double first."""
    def r(v):
        return torch.tensor(v, dtype=dtype).item()
    if op == "selu":
        return r(SELU_ALPHA), r(SELU_SCALE), 1.0
    if op == "celu":
        return r(p[0]), 1.0, r(1 / p[0])
    return r(p[0]), 1.0, 1.0


def elu_exact(op, p, dtype, a, b, quantity):
    """elu(x) = scale alpha (e^(input_scale x) - 1) for x <= 0: PyTorch computes
    exp(x) - 1, which cancels near 0 (elu(-dmin) comes out +0, not -dmin).
    The exact value of the output at finite x <= 0 (of elu, selu and celu);
    None (PyTorch's) elsewhere."""
    if quantity != "out" or not math.isfinite(a) or a > 0:
        return None
    alpha, scale, input_scale = elu_parameters(op, p, dtype)
    if a == 0:
        return rounded([alpha, scale, a], dtype)  # expm1(+-0) = +-0
    return rounded([alpha, scale, mpmath.expm1(mpmath.mpf(a) * mpmath.mpf(input_scale))], dtype)


def upstream_of(quantity):
    """The upstream gradient a quantity (out, ga0, ga1) was taken with."""
    return 0.5 if quantity.endswith("1") else 1.0


def hardswish_exact(op, p, dtype, a, b, quantity):
    """hardswish(x) = x for x >= 3, which PyTorch computes as (x * 6) / 6: inf
    where x * 6 overflows. x there; None (PyTorch's) elsewhere."""
    big = torch.finfo(dtype).max / 6
    if quantity != "out" or not math.isfinite(a) or a <= big:
        return None
    return a


def hardsigmoid_exact(op, p, dtype, a, b, quantity):
    """PyTorch's float64 hardsigmoid_backward multiplies by float32's 1/6
    (0.1666666716337204): g / 6 itself, in float64, strictly inside (-3, 3);
    None (PyTorch's) elsewhere and in float32, whose 1/6 that is."""
    if dtype != torch.float64 or quantity[:2] != "ga" or not -3 < a < 3:
        return None
    return rounded([upstream_of(quantity), 1 / mpmath.mpf(6)], dtype)


def softsign_exact(op, p, dtype, a, b, quantity):
    """softsign'(x) = 1 / (1 + |x|)^2: PyTorch's gradient of x / (|x| + 1) is
    the difference of its two paths through x, g / (|x| + 1) - g x sgn(x) /
    (|x| + 1)^2, which cancels for large |x| (at 1e30 it is 0, not 1e-60).
    The exact value at finite x; None (PyTorch's, NaN) at +-inf and NaN,
    and for the output, which PyTorch rounds twice, as tapegrad does."""
    if quantity[:2] != "ga" or not math.isfinite(a):
        return None
    return rounded([upstream_of(quantity), 1 / (1 + abs(mpmath.mpf(a))) ** 2], dtype)


def tanhshrink_exact(op, p, dtype, a, b, quantity):
    """x - tanh x, which PyTorch computes as such: it cancels near 0 (x^3 / 3
    there: PyTorch's float32 tanhshrink(0.5) is 2 ulp off, its value at the
    smallest denormals +-0 for +-dmin^3 / 3 = +-0); and its gradient g - g
    (1 - tanh^2 x), which cancels too, where tanh^2 x does not. The exact
    values at finite x (the odd x - tanh x is -0 at -0, PyTorch's +0); None
    (PyTorch's) elsewhere."""
    if not math.isfinite(a):
        return None
    x = mpmath.mpf(a)
    if quantity == "out":
        if a == 0:
            return a
        value = x ** 3 / 3 - 2 * x ** 5 / 15 if abs(a) < 1e-10 else x - mpmath.tanh(x)
        return rounded([value], dtype)
    if a == 0:
        return 0.0
    return rounded([upstream_of(quantity), mpmath.tanh(x) ** 2], dtype)


def log1p_exact(op, p, dtype, a, b, quantity):
    """log1p(x) at finite x > -1: PyTorch's log1p is Sleef's on both of its
    paths, which gives +0 at the smallest denormal -dmin (log1p(-dmin) is
    -dmin) and inf at the largest values (log1p(DBL_MAX) is 709.78). The
    exact value of the output; None (PyTorch's) elsewhere: the gradient
    1 / (x + 1) is exact in both."""
    if quantity != "out" or not math.isfinite(a) or a <= -1:
        return None
    return rounded([mpmath.log1p(mpmath.mpf(a))] if a != 0 else [a], dtype)


def prod_exact(op, p, dtype, a, b, quantity):
    """prod of the row [a, b] is a b, and its gradients u b and u a: the
    products rounded once, which Python's double arithmetic gives (a float32
    product is exact in double). PyTorch divides the product by the element
    (NaN at an infinity, inf / inf) unless the tensor holds a zero, when it
    multiplies the others as here: its two paths disagree."""
    u = 1.0 if quantity in ("out", "ga0", "gb0") else 0.5
    value = {"ou": a * b, "ga": u * b, "gb": u * a}[quantity[:2]]
    return torch.tensor(value, dtype=torch.float64).to(dtype).item()


def variance_exact(op, p, dtype, a, b, quantity):
    """var and std of the row [a, b] (correction p[0]), exactly, rounded
    once, where a != b are finite: PyTorch's f64 sum overflows at the largest
    values and its squares underflow at the smallest (its var of (1e-300,
    0) is 0). Equal values vary by 0: there PyTorch's values, but at +-the
    largest, whose mean overflows in PyTorch (0 or inf by path, gradients
    -inf or NaN), 0. None (PyTorch's values) elsewhere."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    if a == b:
        return 0.0 if abs(a) == torch.finfo(dtype).max else None
    u = 1.0 if quantity in ("out", "ga0", "gb0") else 0.5
    dof = 2 - int(p[0])
    half = (mpmath.mpf(a) - mpmath.mpf(b)) / 2  # a - mean, and -(b - mean)
    var = 2 * half * half / dof
    if quantity == "out":
        return rounded([var if op == "var" else mpmath.sqrt(var)], dtype)
    dev = half if quantity[:2] == "ga" else -half
    grad = 2 * dev / dof if op == "var" else dev / (dof * mpmath.sqrt(var))
    return rounded([u, grad], dtype)


def norm_exact(op, p, dtype, a, b, quantity):
    """vector_norm of the row [a, b] for a finite ord, exactly, rounded once,
    where a and b are finite and not both 0: PyTorch's sum of |x|^ord
    overflows at the largest values and underflows at the smallest. The
    gradient is sign(x) (|x| / norm)^(ord - 1), at x = +-0 the zero of
    PyTorch's form (x / norm for ord >= 2, sign(x) = +0 below). Beside an
    infinity, whose norm is inf, that is +-0, where PyTorch's x |x|^(ord - 2)
    overflows at the largest x for ord > 2 (inf times 0, NaN). None
    (PyTorch's values) elsewhere: the inf-norms are exact."""
    ord = p[0]
    if math.isinf(ord) or math.isnan(a) or math.isnan(b):
        return None
    u = 1.0 if quantity in ("out", "ga0", "gb0") else 0.5
    x = a if quantity[:2] == "ga" else b
    if not (math.isfinite(a) and math.isfinite(b)):
        beside_inf = quantity != "out" and math.isfinite(x) and ord > 2
        return math.copysign(0.0, x) if beside_inf else None
    if a == b == 0:
        return None
    ma, mb = abs(mpmath.mpf(a)), abs(mpmath.mpf(b))
    norm = (ma ** ord + mb ** ord) ** (1 / mpmath.mpf(ord))
    if quantity == "out":
        return rounded([norm], dtype)
    if x == 0:
        return math.copysign(0.0, x) if ord >= 2 else 0.0
    return rounded([u, math.copysign(1.0, x), (abs(mpmath.mpf(x)) / norm) ** (ord - 1)], dtype)


def piecewise_exact(op, p, dtype, a, b, quantity):
    """smooth_l1_loss and huber_loss (beta or delta p[0]) of x = a, t = b,
    exactly, rounded once, where both are finite; for z = a - b = +-0, where
    the output and the slope are PyTorch's signed zeros, None (PyTorch's
    values), but the slope of smooth L1 with beta 0, the l1 loss: 0, as
    l1_loss's (z 0, of z's sign), where PyTorch's is -1 for x and t alike.
    PyTorch's float64 paths also disagree on some denormal slopes."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    k, u = p[0], 1.0 if quantity in ("out", "ga0", "gb0") else 0.5
    z = mpmath.mpf(a) - mpmath.mpf(b)
    if quantity[:2] == "gb":
        z = -z
    if z == 0:
        if quantity == "out" or op != "smooth_l1_loss" or k != 0:
            return None
        return math.copysign(0.0, a - b if quantity[:2] == "ga" else b - a)
    az = abs(z)
    if quantity == "out":
        if op == "smooth_l1_loss":
            return rounded([az * az / 2 / k if az < k else az - mpmath.mpf(k) / 2], dtype)
        return rounded([az * az / 2 if az < k else k * (az - mpmath.mpf(k) / 2)], dtype)
    if op == "smooth_l1_loss":
        slope = z / k if az < k else mpmath.sign(z)
    else:
        slope = z if az < k else k * mpmath.sign(z)
    return rounded([u, slope], dtype)


def bce_exact(op, p, dtype, a, b, quantity):
    """binary_cross_entropy of x = a, t = b: the loss in PyTorch's arrangement,
    (t - 1) max(log(1 - x), -100) - t max(log x, -100), in double, but with
    log1p(-x) for log(1 - x), which PyTorch computes as such and so loses x
    below 1e-16 (and a relative 1e-16 / x of it above); the gradient in x,
    u (x - t) / max(x (1 - x), 1e-12 as a float32), exactly, rounded once,
    where PyTorch's u (x - t) comes first and underflows at denormal t. None
    (PyTorch's values) for the gradient in t, and for that in x where x = t
    (its signed zeros) or t is not finite."""
    u = 1.0 if quantity in ("out", "ga0", "gb0") else 0.5
    if quantity == "out":
        log_x = max(math.log(a), -100.0) if a > 0 else -100.0
        log_1mx = max(math.log1p(-a), -100.0) if a < 1 else -100.0
        loss = (b - 1) * log_1mx - b * log_x
        return torch.tensor(loss, dtype=torch.float64).to(dtype).item()
    if quantity[:2] != "ga" or a == b or not math.isfinite(b):
        return None
    x = mpmath.mpf(a)
    eps = torch.tensor(1e-12, dtype=torch.float32).item()
    return rounded([u, (x - mpmath.mpf(b)) / max((1 - x) * x, mpmath.mpf(eps))], dtype)


EXACT = {"gelu": gelu_exact, "geglu": gelu_exact, "elu": elu_exact, "selu": elu_exact,
         "celu": elu_exact, "log1p": log1p_exact, "hardswish": hardswish_exact,
         "hardsigmoid": hardsigmoid_exact, "softsign": softsign_exact,
         "tanhshrink": tanhshrink_exact, "prod_dim": prod_exact,
         "var": variance_exact, "std": variance_exact, "vector_norm": norm_exact,
         "smooth_l1_loss": piecewise_exact, "huber_loss": piecewise_exact,
         "binary_cross_entropy": bce_exact}
EXACT_WHY = {"gelu": "PyTorch's 1 + erf (1 + tanh) cancels: the exact value, rounded once",
             "geglu": "PyTorch's 1 + erf (1 + tanh) cancels: the exact value, rounded once",
             "elu": "PyTorch's exp(x) - 1 cancels: the exact value, rounded once",
             "selu": "PyTorch's exp(x) - 1 cancels: the exact value, rounded once",
             "celu": "PyTorch's exp(x / alpha) - 1 cancels: the exact value, rounded once",
             "hardswish": "PyTorch's x * 6 overflows before / 6: x itself",
             "hardsigmoid": "PyTorch's float64 backward uses float32's 1/6: g / 6 itself",
             "softsign": "PyTorch's composite gradient cancels: 1 / (1 + |x|)^2, rounded once",
             "tanhshrink": "PyTorch's x - tanh(x) (and its gradient) cancel: the exact value, "
                           "rounded once",
             "log1p": "Sleef's log1p (PyTorch's) is 0 at -dmin and inf at the largest values: "
                      "the exact value, rounded once",
             "prod_dim": "the product of the others, where PyTorch divides the product by x "
                         "(NaN at an infinity, off where the product overflows or underflows)",
             "var": "exact: PyTorch's sum overflows at the largest values, its squares "
                    "underflow at the smallest",
             "std": "exact: PyTorch's sum overflows at the largest values, its squares "
                    "underflow at the smallest",
             "vector_norm": "exact: PyTorch's sum of |x|^ord overflows at the largest values "
                            "and underflows at the smallest",
             "smooth_l1_loss": "exact; with beta 0, l1's slope 0 at x = t (PyTorch's: -1)",
             "huber_loss": "exact (PyTorch's float64 paths disagree on denormal slopes)",
             "binary_cross_entropy": "log1p(-x) for PyTorch's log(1 - x), which loses small x; "
                                     "the gradient's factors in one rounding"}
IN_DOUBLE_WHY = "PyTorch's float32 arithmetic loses it: its float64 value, rounded once"

# The ops that tapegrad evaluates in double and rounds once (in_double in
# ops_table.py: the activations, the GLU family, the losses, the reductions).
# In float32, PyTorch's arithmetic can lose what double keeps: silu(dmin)
# comes out 0 (so silu(dmin) inf is NaN, not inf), 2 (x - t) overflows
# before the upstream 0.5 halves it. For these, the float32 golden value is
# PyTorch's float64 one rounded to float32 where the two differ by more than
# an ulp or in kind (NaN, inf, zero sign). sigmoid's and tanh's backward read
# the saved float32 output, as PyTorch's do: only their output is evaluated
# in double ("out"). prelu's weight gradient is summed from float32
# contributions.


def ulps(x, y, dtype):
    """How far apart two finite values are, in units of the dtype's last place."""
    fi = torch.finfo(dtype)
    unit = math.ldexp(1.0, math.frexp(max(abs(y), fi.tiny))[1] - 1) * fi.eps
    return abs(x - y) / unit


def differs(x, y, dtype):
    """More than an ulp apart, or apart in kind: NaN, inf, or a zero's sign."""
    if same(x, y):
        return False
    if any(math.isnan(v) or math.isinf(v) for v in (x, y)):
        return True
    if math.copysign(1, x) != math.copysign(1, y):
        return True
    return ulps(x, y, dtype) > 1


# ---- The table ------------------------------------------------------------------------------
def main():
    global mpmath
    import mpmath as mpmath_module
    mpmath = mpmath_module
    mpmath.mp.prec = 200
    report = "--report" in sys.argv
    lines = ["""/* One op, in one dtype, on every special value (or pair of them). */
typedef struct golden_special {
    const char *op; /* the row of tests/op_table.c that calls it */
    double p[2];    /* its parameters; a NAN bound of clamp means none */
    int f64, arity, nout, n; /* nout outputs per case, n cases */
    const double *a, *b;     /* each case's inputs; b is NULL for one input */
    const double *out;       /* n * nout */
    /* The gradients of sum(out * u) in a and b, for u = ones and u = 0.5
     * (-2 at a case's second output): [0] and [1]. */
    const double *ga[2], *gb[2];
} golden_special;
/* A value that is not PyTorch's: where its vectorised and one-element
 * paths disagree, or where it is less accurate, the value chosen. */
typedef struct golden_special_choice {
    const char *op;
    double p0;
    int f64;
    double a, b;
    const char *what; /* out, ga0 (gradient of a for u = ones), gb1, ... */
    double vectorised, alone, chosen;
    const char *why;
} golden_special_choice;"""]
    inputs = {}
    for dtype in DTYPES:
        for which, tag in CASE_SETS.items():
            a, b = cases(dtype, which)
            tag = f"sp_{tag}_{int(dtype == torch.float64)}"
            inputs[(dtype, which)] = (f"{tag}_a", f"{tag}_b" if b else "NULL")
            lines.append(f"static const double {tag}_a[] = {{{', '.join(map(c_double, a))}}};")
            if b:
                lines.append(
                    f"static const double {tag}_b[] = {{{', '.join(map(c_double, b))}}};")
    rows, choices, n_cases = [], [], 0
    for k, (op, p) in enumerate((op, p) for op in OPS for p in op.params):
        name = op.name
        for dtype in DTYPES:
            f64 = int(dtype == torch.float64)
            a, b = cases(dtype, case_set(op))
            vec, alone = both_paths(op, p, dtype, a, b)
            nout = len(vec["out"]) // len(a)
            in_double = dtype == torch.float32 and op.in_double is not None
            if in_double:
                vec64, alone64 = both_paths(op, p, torch.float64, a, b)
            tag = f"sp{k}_{f64}"
            names = {}
            for q in vec:
                chosen = []
                for i, (v, w) in enumerate(zip(vec[q], alone[q])):
                    c = i // nout if q == "out" else i
                    ca, cb = a[c], (b[c] if b else NAN)
                    exact = EXACT[name](name, p, dtype, ca, cb, q) if name in EXACT else None
                    if exact is not None:
                        value, why = exact, None
                        if differs(v, value, dtype) or differs(w, value, dtype):
                            why = EXACT_WHY[name]
                    else:
                        value, why = resolve(name, q, ca, cb, v, w, p)
                        if in_double and (op.in_double == "all" or q == "out"):
                            v64, why64 = resolve(name, q, ca, cb, vec64[q][i], alone64[q][i], p)
                            v64 = torch.tensor(v64, dtype=torch.float32).item()
                            if differs(value, v64, dtype):
                                value, why = v64, why64 or IN_DOUBLE_WHY
                    if why:
                        choices.append(
                            f"    {{{c_str(name)}, {c_double(p[0] if p else 0)}, {f64}, "
                            f"{c_double(ca)}, {c_double(cb)}, {c_str(q)}, {c_double(v)}, "
                            f"{c_double(w)}, {c_double(value)}, {c_str(why)}}},")
                        if report:
                            print(f"{name}{p} {dtype} {q} at ({ca}, {cb}): vectorised {v}, "
                                  f"alone {w}: {value} ({why})")
                    chosen.append(value)
                names[q] = f"{tag}_{q}"
                lines.append(f"static const double {tag}_{q}[] = "
                             f"{{{', '.join(map(c_double, chosen))}}};")
            ia, ib = inputs[(dtype, case_set(op))]
            gb = [names.get("gb0", "NULL"), names.get("gb1", "NULL")]
            pp = ", ".join(c_double(x) for x in (list(p) + [0.0, 0.0])[:2])
            rows.append(f"    {{{c_str(name)}, {{{pp}}}, {f64}, {arity_of(op)}, {nout}, {len(a)}, "
                        f"{ia}, {ib}, {names['out']}, {{{names['ga0']}, {names['ga1']}}}, "
                        f"{{{gb[0]}, {gb[1]}}}}},")
            n_cases += len(a)
    lines.append("static const golden_special golden_specials[] = {")
    lines.extend(rows)
    lines.append("};")
    lines.append("static const golden_special_choice golden_special_choices[] = {")
    lines.extend(choices)
    lines.append("};")
    path = write_header("golden_special.h", "make_golden_special.py",
                        ["math.h", "stddef.h"], lines)
    print("wrote", path, len(rows), "rows,", n_cases, "cases,", len(choices), "choices")


if __name__ == "__main__":
    main()
