#!/usr/bin/python3
"""Writes what torch.nn.utils.clip_grad_norm_ and clip_grad_value_ give on
many random sets of gradients, for tests/test_clip.c to match bit for bit.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_clip.py
The output, tests/golden/golden_clip.h, is committed: the tests never run
Python.

Each case is a list of parameters whose gradients are float64 torch.randn
draws from a torch.Generator seeded with the case's seed, one parameter
after another, each rounded to float32 or kept in float64 and scaled by a
power of two (exact); some
parameters have no gradient, some an empty one, some a NaN, an infinity or a
zero at one place. tapegrad draws the same numbers (tg_randn follows
torch.randn's stream), so the header holds only how to make them and what
PyTorch returned: the total norm, the coefficient it multiplied the grads by
(clamped), and the sums, in order, of the grads before and after, which the
C test recomputes in the same order.

PyTorch runs on one thread here: its float64 norms (and the norms other
than 2) over 32768 elements or more are split among its threads, and so
depend on their number; tapegrad's are PyTorch's on one thread.
"""
import math
import random

import torch

from golden_common import c_double, write_header

torch.set_num_threads(1)
MAX_PARAMS = 12
NORM_TYPES = [1.0, 3.0, 0.5, 1.5, 7.0, math.inf, -math.inf, 0.0, -1.0, -2.5, 0.1, 1e300,
              math.nan]
SPECIALS = [math.nan, math.inf, -math.inf, 0.0]

rnd = random.Random(2024)
cases = []  # (seed, norm_type, max_norm, params), params: (numel, f64, exp, has_grad)


def case(dtypes, norm_type):
    n = rnd.randint(1, MAX_PARAMS)
    params = []
    for _ in range(n):
        numel = rnd.choice([rnd.randint(1, 40), rnd.randint(1, 300), rnd.randint(1, 3000)])
        if rnd.random() < 0.03:
            numel = 0
        f64 = {"f32": False, "f64": True, "mixed": rnd.random() < 0.5}[dtypes]
        params.append([numel, f64, rnd.randint(-20, 20), rnd.random() > 0.08])
    special = None
    grads = [i for i, p in enumerate(params) if p[3] and p[0] > 0]
    if grads and rnd.random() < 0.06:
        i = rnd.choice(grads)
        special = (i, rnd.randrange(params[i][0]), rnd.choice(SPECIALS))
    max_norm = rnd.choice([1.0, 0.5, 5.0, 10 ** rnd.uniform(-3, 4)])
    cases.append((len(cases) + 1, norm_type, max_norm, params, special))


for _ in range(300):
    case("f32", 2.0)
for _ in range(300):
    case("f64", 2.0)
for _ in range(60):
    case("mixed", 2.0)
for norm_type in NORM_TYPES:
    for dtypes in ("f32", "f64", "mixed"):
        for _ in range(8):
            case(dtypes, norm_type)
# Gradients of 40000 elements: PyTorch's one-thread reductions, whole.
cases.append((len(cases) + 1, 2.0, 1.0, [[40000, True, 0, True], [40000, False, 0, True]], None))
cases.append((len(cases) + 1, 3.0, 1.0, [[40000, False, 0, True], [5, False, 3, True]], None))


def parameters(seed, params):
    """The case's parameters, with their grads drawn from its generator."""
    gen = torch.Generator().manual_seed(seed)
    tensors = []
    for numel, f64, exp, has_grad in params:
        p = torch.zeros(numel, dtype=torch.float64 if f64 else torch.float32, requires_grad=True)
        if has_grad:
            p.grad = draw(numel, gen, p.dtype, exp)
        tensors.append(p)
    return tensors


def run(seed, norm_type, max_norm, params, special):
    tensors = parameters(seed, params)
    if special:
        tensors[special[0]].grad[special[1]] = special[2]
    before = sum_grads(tensors)
    try:
        total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type)
    except RuntimeError:  # the inf norm of an empty grad: max() refuses it
        return True, 0.0, 0.0, before, before
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0).item()
    return False, total.item(), coef, before, sum_grads(tensors)


def draw(numel, gen, dtype, exp):
    """randn in float64 (tg_randn's float32 draws are not torch's to the
    bit), in the parameter's dtype, times 2^exp."""
    return torch.randn(numel, generator=gen, dtype=torch.float64).to(dtype) * 2.0 ** exp


def sum_grads(tensors):
    s = 0.0
    for p in tensors:
        if p.grad is not None:
            for v in p.grad.tolist():
                s += v
    return s


out = ["enum { GOLDEN_CLIP_MAX_PARAMS = %d };" % MAX_PARAMS,
       "/* A parameter: its gradient is randn(numel) * 2^exp in its dtype, from the case's"
       " generator, or none. */",
       "typedef struct golden_clip_param { int64_t numel; int f64, exp, has_grad; }"
       " golden_clip_param;",
       "typedef struct golden_clip_case {\n"
       "    uint64_t seed;\n    int n_params;\n"
       "    golden_clip_param params[GOLDEN_CLIP_MAX_PARAMS];\n"
       "    int special_param; /* -1, or the grad whose element special_index is set to */\n"
       "    int64_t special_index;\n    double special_value;\n"
       "    double norm_type, max_norm;\n"
       "    int refused; /* PyTorch raised: the inf norm of an empty grad */\n"
       "    double total, coef; /* returned, and what the grads were multiplied by */\n"
       "    double sum_before, sum_after; /* every grad element, in order, summed in double */\n"
       "} golden_clip_case;",
       "static const golden_clip_case golden_clip_cases[] = {"]
for seed, norm_type, max_norm, params, special in cases:
    refused, total, coef, before, after = run(seed, norm_type, max_norm, params, special)
    ps = ", ".join("{%d, %d, %d, %d}" % (n, f64, e, g) for n, f64, e, g in params)
    sp = special or (-1, 0, 0.0)
    out.append("    {%d, %d, {%s}, %d, %d, %s, %s, %s, %d, %s, %s, %s, %s}," % (
        seed, len(params), ps, sp[0], sp[1], c_double(sp[2]), c_double(norm_type),
        c_double(max_norm), refused, c_double(total), c_double(coef), c_double(before),
        c_double(after)))
out.append("};")

# clip_grad_value_ on the same kind of grads: (seed, clip_value, params).
out.append("typedef struct golden_clip_value { uint64_t seed; int n_params;"
           " golden_clip_param params[GOLDEN_CLIP_MAX_PARAMS]; double clip_value, sum_after; }"
           " golden_clip_value;")
out.append("static const golden_clip_value golden_clip_values[] = {")
for k in range(40):
    seed, params = 5000 + k, []
    for _ in range(rnd.randint(1, MAX_PARAMS)):
        params.append([rnd.randint(0, 300), rnd.random() < 0.5, rnd.randint(-3, 3),
                       rnd.random() > 0.1])
    clip_value = rnd.choice([0.0, 0.3, 1.0, 10 ** rnd.uniform(-2, 2)])
    tensors = parameters(seed, params)
    torch.nn.utils.clip_grad_value_(tensors, clip_value)
    ps = ", ".join("{%d, %d, %d, %d}" % (n, f64, e, g) for n, f64, e, g in params)
    out.append("    {%d, %d, {%s}, %s, %s}," % (seed, len(params), ps, c_double(clip_value),
                                                c_double(sum_grads(tensors))))
out.append("};")

path = write_header("golden_clip.h", "make_golden_clip.py", ["math.h", "stdint.h"], out)
print("wrote", path)
