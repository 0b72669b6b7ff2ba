#!/usr/bin/python3
"""Writes the golden values of the ops on int64 and bool tensors (and of
float tensors where they meet them) from PyTorch, for tests/test_dtypes.c.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_dtypes.py
The output, tests/golden/golden_dtypes.h, is committed: the tests never
run Python.

Values travel as doubles for float32 and float64 tensors (every float32
value is a double exactly) and as int64_t for int64 and bool ones (0 and
1), so that int64 values beyond 2^53 are exact. Each table:
  golden_compares     eq ne lt le gt ge: tensor with tensor (broadcasting,
                      every pair of special values) and tensor with a number
  golden_wheres       where(cond, a, b), broadcasting, every dtype, and the
                      gradients of sum(out * w) for floating a and b
  golden_extremes     max_dim, min_dim, argmax, argmin: values, indices, and
                      the gradient of sum(values * w) for float inputs; or
                      PyTorch's error
  golden_sums         sum and sum_dims of int64 and bool tensors (int64)
  golden_conversions  tensor.to(dtype) between the four dtypes
  golden_reprs        repr() of int64 and bool tensors

A number meets a tensor as a Python int when it is integral and within
int64's range (tapegrad's C API passes a double: an integral one is taken
as PyTorch takes an int), otherwise as a Python float.
"""
import math

import torch

from golden_common import c_double, c_str, dims, doubles, write_header

DTYPES = {torch.float32: "TG_F32", torch.float64: "TG_F64", torch.int64: "TG_I64",
          torch.bool: "TG_BOOL"}
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1
NAN, INF = float("nan"), float("inf")
MAX_DIMS = 4

out = []
counter = [0]
arrays = {}  # (C type, initialiser) -> name


def i64(v):
    """An int64 as a C expression (INT64_MIN has no literal)."""
    v = int(v)
    return "INT64_MIN" if v == INT64_MIN else f"INT64_C({v})"


def array(values, integer):
    """Emits a static array of the values (once for equal ones) and returns its name."""
    values = list(values)
    if integer:
        decl = "int64_t", "{" + (", ".join(i64(v) for v in values) if values else "0") + "}"
    else:
        decl = "double", doubles(values)
    if decl not in arrays:
        counter[0] += 1
        arrays[decl] = f"dt{counter[0]}"
        out.append(f"static const {decl[0]} {arrays[decl]}[] = {decl[1]};")
    return arrays[decl]


def values_of(t):
    """A tensor's values, row-major: (doubles name or NULL, int64 name or NULL)."""
    vals = t.detach().reshape(-1).tolist()
    if t.dtype.is_floating_point:
        return array(vals, False), "NULL"
    return "NULL", array([int(v) for v in vals], True)


def tensor_fields(t):
    """dtype, ndim, {shape}, doubles, int64s: a tensor as the C struct's fields."""
    d, i = values_of(t)
    return f"{DTYPES[t.dtype]}, {dims(t.shape, MAX_DIMS)}, {d}, {i}"


def make(values, dtype, shape=None):
    t = torch.tensor(values, dtype=torch.float64 if dtype.is_floating_point else torch.int64)
    t = t.to(dtype)
    return t.reshape(shape) if shape is not None else t


def python_number(s):
    """s as PyTorch meets it from tapegrad's double: an int when integral and in range."""
    if math.isfinite(s) and s == math.floor(s) and INT64_MIN <= s < 2**63:
        return int(s)
    return float(s)


TENSOR_STRUCT = "tg_dtype dtype; int ndim; int64_t shape[4]; const double *f; const int64_t *i;"
out.append(f"typedef struct golden_tensor {{ {TENSOR_STRUCT} }} golden_tensor;")

# ---- comparisons ----------------------------------------------------------------------------
OPS = {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt,
       "ge": torch.ge}
SPECIAL = {
    torch.float32: [0.0, -0.0, 1.5, -2.0, NAN, INF, -INF, 1e-45, 3.4028234663852886e38, 0.1],
    torch.float64: [0.0, -0.0, 1.5, -2.0, NAN, INF, -INF, 5e-324, 1.7976931348623157e308, 0.1],
    torch.int64: [0, -1, 1, 5, INT64_MAX, INT64_MIN, 2**53, 2**53 + 1, 16777217],
    torch.bool: [False, True],
}
NUMBERS = {  # what each dtype meets as a number
    torch.float32: [0.0, -0.0, 1.5, NAN, INF, -INF, 0.1, 1e40, 16777217.0, 5e-324],
    torch.float64: [0.0, -0.0, 1.5, NAN, INF, -INF, 0.1, 1e-320],
    torch.int64: [1.0, -1.0, 2.5, -0.5, 16777216.5, NAN, INF, -INF, 2.0**53, 1e19, 2.0**63,
                  -2.0**63, 9007199254740993.0],
    torch.bool: [0.0, 1.0, 2.0, -1.0, 0.5, 1.00000001, NAN, -0.0],
}
out.append("typedef struct golden_compare { const char *op; golden_tensor a, b; int scalar;"
           " double s; golden_tensor out; } golden_compare;")
entries = []
for dtype in DTYPES:
    sp = SPECIAL[dtype]
    n = len(sp)
    for op, fn in OPS.items():
        # every pair of special values: (n, 1) against (n,), and a strided (1, n) row
        a, b = make(sp, dtype, (n, 1)), make(sp, dtype)
        entries.append(f"    {{{c_str(op)}, {{{tensor_fields(a)}}}, {{{tensor_fields(b)}}}, 0, 0, "
                       f"{{{tensor_fields(fn(a, b))}}}}},")
        for s in NUMBERS[dtype]:
            res = fn(b, python_number(s))
            entries.append(f"    {{{c_str(op)}, {{{tensor_fields(b)}}}, {{TG_F64, 0, {{0}}, NULL, "
                           f"NULL}}, 1, {c_double(s)}, {{{tensor_fields(res)}}}}},")
    # broadcasting on both sides: (2, 1, 3) against (4, 1)
    g = torch.Generator().manual_seed(7)
    pool = make(sp, dtype)
    a = pool[torch.randint(0, n, (2, 1, 3), generator=g)]
    b = pool[torch.randint(0, n, (4, 1), generator=g)]
    for op, fn in OPS.items():
        entries.append(f"    {{{c_str(op)}, {{{tensor_fields(a)}}}, {{{tensor_fields(b)}}}, 0, 0, "
                       f"{{{tensor_fields(fn(a, b))}}}}},")
out.append("static const golden_compare golden_compares[] = {")
out.extend(entries)
out.append("};")

# ---- where ------------------------------------------------------------------------------------
out.append("typedef struct golden_where { golden_tensor cond, a, b, out;"
           " const double *w, *ga, *gb; } golden_where;")
entries = []
WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)), ((2, 1, 3), (3,), ()),
                ((), (2, 3), (2, 1)), ((4,), (2, 1), (1,))]
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(100 + k)
    sp = make(SPECIAL[dtype], dtype)
    for cs, ash, bsh in WHERE_SHAPES:
        cond = torch.rand(cs, generator=g) < 0.5
        a = sp[torch.randint(0, len(sp), ash, generator=g)].clone()
        b = sp[torch.randint(0, len(sp), bsh, generator=g)].clone()
        floating = dtype.is_floating_point
        if floating:
            a.requires_grad_()
            b.requires_grad_()
        res = torch.where(cond, a, b)
        w = ga = gb = "NULL"
        if floating:
            wt = (torch.rand(res.shape, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
            (res * wt).sum().backward()
            w, ga, gb = (array(t.reshape(-1).tolist(), False) for t in (wt, a.grad, b.grad))
        entries.append(f"    {{{{{tensor_fields(cond)}}}, {{{tensor_fields(a)}}}, "
                       f"{{{tensor_fields(b)}}}, {{{tensor_fields(res)}}}, {w}, {ga}, {gb}}},")
out.append("static const golden_where golden_wheres[] = {")
out.extend(entries)
out.append("};")

# ---- max_dim, min_dim, argmax, argmin -----------------------------------------------------------
out.append("typedef struct golden_extreme { const char *op; golden_tensor x; int dim; int keepdim;"
           " golden_tensor values, indices; const double *w, *grad; const char *error; }"
           " golden_extreme;")
entries = []
EXTREME_INPUTS = {
    torch.float32: [
        [[1.0, 3.0, 3.0, -1.0], [NAN, 2.0, NAN, 5.0], [-0.0, 0.0, -INF, -INF]],
        [[2.0, 2.0, 2.0, 2.0], [INF, 1.0, INF, NAN], [-1.0, -2.0, -2.0, -1.0]],
    ],
    torch.int64: [
        [[1, 3, 3, -1], [INT64_MIN, 2, INT64_MAX, INT64_MAX], [7, 7, 7, 7]],
        [[2**53 + 1, 2**53, 2**53 + 1, 0], [-5, -5, -6, -6], [0, 1, 0, 1]],
    ],
    torch.bool: [
        [[False, True, True, False], [False, False, False, False], [True, True, True, True]],
        [[True, False, True, False], [False, True, False, True], [False, False, True, True]],
    ],
}
EXTREME_INPUTS[torch.float64] = EXTREME_INPUTS[torch.float32]
EXTREME_OPS = {"max_dim": torch.max, "min_dim": torch.min, "argmax": torch.argmax,
               "argmin": torch.argmin}
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(200 + k)
    first, second = (make(v, dtype) for v in EXTREME_INPUTS[dtype])
    inputs = [(first, [0, 1, -1, -2]), (torch.stack([first, second]), [0, 1, 2, -1]),
              (first[1, 1], [0, -1]), (first[:, :1], [1])]
    for op, fn in EXTREME_OPS.items():
        for x0, dim_list in inputs:
            for dim in dim_list:
                for keepdim in (False, True):
                    if dtype == torch.bool and op.startswith("arg") and x0.dim() and \
                            x0.shape[dim] == 1:
                        # PyTorch's shortcut for a dim of size 1 skips its
                        # refusal of bool there; tapegrad refuses bool always
                        continue
                    x = x0.detach().clone()
                    floating = dtype.is_floating_point
                    if floating and op.endswith("_dim"):
                        x.requires_grad_()
                    try:
                        res = fn(x, dim, keepdim)
                    except RuntimeError as e:
                        entries.append(
                            f"    {{{c_str(op)}, {{{tensor_fields(x)}}}, {dim}, {keepdim:d}, "
                            "{TG_F64, 0, {0}, NULL, NULL}, {TG_F64, 0, {0}, NULL, NULL}, NULL, "
                            f"NULL, {c_str(str(e).splitlines()[0])}}},")
                        continue
                    values, indices = (res.values, res.indices) if op.endswith("_dim") \
                        else (None, res)
                    w = grad = "NULL"
                    if values is not None and floating:
                        wt = (torch.rand(values.shape, generator=g, dtype=torch.float64) * 2
                              - 1).to(dtype)
                        (values * wt).sum().backward()
                        w = array(wt.reshape(-1).tolist(), False)
                        grad = array(x.grad.reshape(-1).tolist(), False)
                    vf = tensor_fields(values) if values is not None \
                        else "TG_F64, 0, {0}, NULL, NULL"
                    entries.append(
                        f"    {{{c_str(op)}, {{{tensor_fields(x)}}}, {dim}, {keepdim:d}, {{{vf}}}, "
                        f"{{{tensor_fields(indices)}}}, {w}, {grad}, NULL}},")
out.append("static const golden_extreme golden_extremes[] = {")
out.extend(entries)
out.append("};")

# ---- sums of int64 and bool ---------------------------------------------------------------------
out.append("typedef struct golden_sum { golden_tensor x; int all; int n_dims; int dims[4];"
           " int keepdim; golden_tensor out; } golden_sum;")
entries = []
SUM_INPUTS = [
    make([[1, -2, 3], [INT64_MAX, 1, 0]], torch.int64),  # wraps past INT64_MAX, as PyTorch
    make([[2**53 + 1, 2**53 + 1, 1], [INT64_MIN, -1, 5]], torch.int64),
    make([[[True, False], [True, True]], [[False, False], [True, False]]], torch.bool),
    make(list(range(-7, 5)), torch.int64, (3, 4)),
    torch.zeros((0, 3), dtype=torch.int64),
    torch.zeros((2, 0), dtype=torch.bool),
    make(True, torch.bool),
]
for x in SUM_INPUTS:
    entries.append(f"    {{{{{tensor_fields(x)}}}, 1, 0, {{0}}, 0, "
                   f"{{{tensor_fields(torch.sum(x))}}}}},")
    dim_lists = [[d] for d in range(-x.dim(), x.dim())] + ([[0, x.dim() - 1]] if x.dim() > 1
                                                            else []) + [[]]
    for over in dim_lists:
        for keepdim in (False, True):
            res = torch.sum(x, dim=over, keepdim=keepdim)
            entries.append(f"    {{{{{tensor_fields(x)}}}, 0, {len(over)}, "
                           f"{{{', '.join(str(d) for d in over + [0] * (4 - len(over)))}}}, "
                           f"{keepdim:d}, {{{tensor_fields(res)}}}}},")
out.append("static const golden_sum golden_sums[] = {")
out.extend(entries)
out.append("};")

# PyTorch refuses the mean of int64 and bool tensors.
errors = []
for dtype in (torch.int64, torch.bool):
    for fn in (lambda t: t.mean(), lambda t: t.mean(0)):
        try:
            fn(torch.zeros(2, dtype=dtype))
        except RuntimeError as e:
            errors.append(c_str(str(e).splitlines()[0]))
out.append(f"static const char *const golden_mean_errors[] = {{{', '.join(errors)}}};")

# ---- conversions ----------------------------------------------------------------------------
SOURCES = {
    torch.float32: [0.0, -0.0, 1.5, -2.7, NAN, INF, -INF, 16777216.0, 3.4e38, 1e-45, 2.0**63,
                    -2.0**63, 2.0**62, 0.5, -0.5, -1e-45, 255.9, -1.0],
    torch.float64: [0.0, -0.0, 1.5, -2.7, NAN, INF, -INF, 1e300, -1e300, 1e-320, 2.0**63 - 1024,
                    -2.0**63, -2.0**63 - 2048, 2.0**63, 3e19, 1e-40, 0.1, 3.4028235677973366e38,
                    16777217.0, -0.5],
    torch.int64: [0, 1, -1, 2**53 + 1, 2**62 + 1, INT64_MAX, INT64_MIN, 16777217, 16777219,
                  -16777217, 2],
    torch.bool: [False, True],
}
out.append("typedef struct golden_conversion { golden_tensor x, out; } golden_conversion;")
entries = []
for src, vals in SOURCES.items():
    x = make(vals, src)
    for dst in DTYPES:
        entries.append(f"    {{{{{tensor_fields(x)}}}, {{{tensor_fields(x.to(dst))}}}}},")
out.append("static const golden_conversion golden_conversions[] = {")
out.extend(entries)
out.append("};")

# ---- repr -----------------------------------------------------------------------------------
out.append("typedef struct golden_repr { golden_tensor x; int transposed; const char *repr; }"
           " golden_repr;")
entries = []
g = torch.Generator().manual_seed(300)


def randint(lo, hi, shape):
    return torch.randint(lo, hi, shape, generator=g, dtype=torch.int64)


REPRS = [
    make([1, -20, 3], torch.int64),
    make(7, torch.int64),
    make(-7, torch.int64),
    make([INT64_MIN, INT64_MAX, 0], torch.int64),
    make(list(range(100)), torch.int64),  # several lines
    randint(-10**15, 10**15, (7,)),  # wide numbers: several lines
    randint(-1000, 1000, (4, 5)),
    randint(0, 10, (2, 3, 4)),
    randint(-99, 99, (2000,)),  # summarized
    randint(-99, 99, (40, 30)),  # summarized in both dims
    randint(0, 9, (3, 500)),  # summarized in the last dim only
    randint(0, 9, (500, 3)),  # and in the first
    randint(-5, 5, (11, 10, 11)),
    torch.zeros((0,), dtype=torch.int64),
    torch.zeros((2, 0, 3), dtype=torch.int64),
    make(True, torch.bool),
    make(False, torch.bool),
    make([True, True], torch.bool),
    randint(0, 2, (30,)).bool(),  # several lines
    randint(0, 2, (3, 4)).bool(),
    randint(0, 2, (1001,)).bool(),
    randint(0, 2, (50, 40)).bool(),
    randint(0, 2, (2, 2, 7)).bool(),
    torch.zeros((0, 2), dtype=torch.bool),
]
for x in REPRS:
    entries.append(f"    {{{{{tensor_fields(x)}}}, 0, {c_str(repr(x))}}},")
# strided views print their elements in order
for x in (randint(-50, 50, (3, 5)), randint(0, 2, (4, 3)).bool()):
    entries.append(f"    {{{{{tensor_fields(x)}}}, 1, {c_str(repr(x.t()))}}},")
out.append("static const golden_repr golden_reprs[] = {")
out.extend(entries)
out.append("};")

path = write_header("golden_dtypes.h", "make_golden_dtypes.py",
                    ["math.h", "stddef.h", "stdint.h", "tapegrad/tapegrad.h"], out)
print("wrote", path)
