#!/usr/bin/python3
"""Writes the golden values of the shape ops (tests/test_shape.c) from PyTorch.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_shape.py
The output, tests/golden/golden_shape.h, is committed: the tests never run
Python.

Each case builds its leaves from explicit data (a leaf marked transposed
enters the op as leaf.transpose(0, 1), a non-contiguous input), runs the op,
and records every output's shape, strides, storage offset and values, the
name of its grad_fn, and the leaves' gradients of sum(out * w) summed over
the outputs, for random w.
"""
import sys

import torch

from golden_common import c_str, doubles, flat_all, padded, write_header

MAX_IN, MAX_OUT, MAX_DIMS, MAX_PARAMS = 6, 4, 5, 8
INT64_MAX = sys.maxsize

# Each op's params, in the order the C test passes them:
#   permute dims...              slice dim, start, end, step
#   split dim, split_size        chunk dim, chunks
#   cat dim                      unsqueeze dim
#   squeeze (none)               squeeze_dim dim
#   expand sizes...
OPS = {
    "permute": lambda xs, p: [xs[0].permute(*p)],
    "slice": lambda xs, p: [torch.ops.aten.slice(xs[0], p[0], p[1], p[2], p[3])],
    "split": lambda xs, p: list(torch.split(xs[0], p[1], p[0])),
    "chunk": lambda xs, p: list(torch.chunk(xs[0], p[1], p[0])),
    "cat": lambda xs, p: [torch.cat(xs, p[0])],
    "unsqueeze": lambda xs, p: [xs[0].unsqueeze(p[0])],
    "squeeze": lambda xs, p: [xs[0].squeeze()],
    "squeeze_dim": lambda xs, p: [xs[0].squeeze(p[0])],
    "expand": lambda xs, p: [xs[0].expand(*p)],
}

# (op, params, leaves as (shape, transposed))
CASES = [
    ("permute", [2, 0, 1], [((2, 3, 4), False)]),
    ("permute", [1, 0], [((4, 3), True)]),
    ("permute", [-1, 0, -2], [((3, 2, 4), True)]),
    ("slice", [0, 1, 4, 1], [((5, 4), False)]),
    ("slice", [1, -3, INT64_MAX, 2], [((5, 4), False)]),
    ("slice", [0, -100, -1, 3], [((4, 5), True)]),
    ("slice", [1, 3, 1, 1], [((5, 4), False)]),
    ("slice", [0, 7, 9, 1], [((5, 4), False)]),
    ("split", [0, 4], [((6, 4), False)]),
    ("split", [1, 3], [((7, 3), True)]),
    ("split", [-2, 5], [((5, 2), False)]),
    ("chunk", [0, 4], [((6, 4), False)]),
    ("chunk", [0, 2], [((4, 5), True)]),
    ("chunk", [1, 3], [((2, 5), False)]),
    ("cat", [0], [((2, 3), False), ((4, 3), False)]),
    ("cat", [-1], [((2, 3), False), ((2, 1), False), ((3, 2), True)]),
    ("cat", [0], [((1, 2), False), ((2, 2), False), ((0, 2), False), ((2, 3), True),
                  ((1, 2), False), ((2, 2), False)]),
    ("cat", [1], [((0,), False), ((2, 3), False)]),
    ("unsqueeze", [0], [((2, 3), False)]),
    ("unsqueeze", [-1], [((2, 3), False)]),
    ("unsqueeze", [1], [((3, 2), True)]),
    ("squeeze", [], [((2, 1, 3, 1), False)]),
    ("squeeze", [], [((3, 1), True)]),
    ("squeeze_dim", [1], [((2, 1, 3), False)]),
    ("squeeze_dim", [0], [((2, 1, 3), False)]),
    ("squeeze_dim", [-1], [((1, 3), True)]),
    ("expand", [2, 3, 4], [((3, 1), False)]),
    ("expand", [4, -1], [((3, 1), True)]),
    ("expand", [2, 3], [((2, 3), False)]),
    ("expand", [2, 2], [((), False)]),
    ("expand", [1, 2, -1, -1], [((1, 3), False)]),
]

out = []


entries = []
k = 0
for op, params, leaves_spec in CASES:
    for dtype in [torch.float32, torch.float64]:
        g = torch.Generator().manual_seed(1000 + k)
        leaves = [(torch.rand(shape, generator=g, dtype=torch.float64) * 4 - 2).to(dtype)
                  .requires_grad_() for shape, _ in leaves_spec]
        xs = [leaf.transpose(0, 1) if tr else leaf for leaf, (_, tr) in zip(leaves, leaves_spec)]
        outs = OPS[op](xs, params)
        ws = [(torch.rand(o.shape, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
              for o in outs]
        sum((o * w).sum() for o, w in zip(outs, ws)).backward()
        grads = [leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
                 for leaf in leaves]
        names = {o.grad_fn.name() for o in outs}
        assert len(names) == 1 and len(outs) <= MAX_OUT and len(leaves) <= MAX_IN
        p = f"shape{k}"
        for tag, ts in [("in", leaves), ("w", ws), ("out", outs), ("grad", grads)]:
            out.append(f"static const double {p}_{tag}[] = {doubles(flat_all(ts))};")
        entries.append(
            f"    {{{c_str(op)}, {int(dtype == torch.float64)}, {len(params)}, "
            f"{padded(params, MAX_PARAMS)},\n"
            f"     {len(leaves)}, {padded([l.dim() for l in leaves], MAX_IN)}, "
            f"{{{', '.join(padded(l.shape, MAX_DIMS) for l in leaves)}}}, "
            f"{padded([int(tr) for _, tr in leaves_spec], MAX_IN)},\n"
            f"     {len(outs)}, {padded([o.dim() for o in outs], MAX_OUT)}, "
            f"{{{', '.join(padded(o.shape, MAX_DIMS) for o in outs)}}},\n"
            f"     {{{', '.join(padded(o.stride(), MAX_DIMS) for o in outs)}}}, "
            f"{padded([o.storage_offset() for o in outs], MAX_OUT)}, {c_str(names.pop())},\n"
            f"     {p}_in, {p}_w, {p}_out, {p}_grad}},"
        )
        k += 1

GOLDEN_SHAPE = f"""/* One op on leaves built from `in` (concatenated, row-major); a leaf
 * marked transposed enters the op as transpose(0, 1). Outputs and the
 * weights w of loss = sum over outputs of sum(out * w) are concatenated;
 * grad holds the leaves' gradients, concatenated. */
typedef struct golden_shape {{
    const char *op;
    int f64;
    int n_params;
    int64_t params[{MAX_PARAMS}];
    int n_in;
    int in_ndim[{MAX_IN}];
    int64_t in_shape[{MAX_IN}][{MAX_DIMS}];
    int transposed[{MAX_IN}];
    int n_out;
    int out_ndim[{MAX_OUT}];
    int64_t out_shape[{MAX_OUT}][{MAX_DIMS}];
    int64_t out_strides[{MAX_OUT}][{MAX_DIMS}];
    int64_t out_offset[{MAX_OUT}];
    const char *grad_fn;
    const double *in, *w, *out, *grad;
}} golden_shape;"""

lines = [GOLDEN_SHAPE, *out, "static const golden_shape golden_shapes[] = {", *entries, "};"]
print("wrote", write_header("golden_shape.h", "make_golden_shape.py", ["stdint.h"], lines))
