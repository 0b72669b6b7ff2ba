#!/usr/bin/python3
"""Writes the golden values tests/test_linalg.c compares against, from PyTorch.

Run with Debian's python3 and its python3-torch (apt-get install
python3-torch):  /usr/bin/python3 tests/golden/make_golden_linalg.py
The output, tests/golden/golden_linalg.h, is committed: the tests never run
Python.

Each case builds its inputs as leaves from explicit data, optionally passes
one through a transpose (a strided view, to check that views are read in
place), runs torch.matmul or F.linear, and backpropagates sum(out * w) for
a random w. It records the output, the gradients of the leaves, and the
name of the result's grad_fn.
"""
import math

import torch
import torch.nn.functional as F

from golden_common import c_str, dims, doubles, flat, write_header

MAX_DIMS = 4

# (name, op, inputs): each input is (leaf shape, dims swapped to make the
# operand or None, scale of its uniform values). A linear case with two
# inputs has no bias.
CASES = [
    ("mm", "matmul", [((3, 4), None, 1), ((4, 5), None, 1)]),
    ("vector_matrix", "matmul", [((4,), None, 1), ((4, 5), None, 1)]),
    ("matrix_vector", "matmul", [((3, 4), None, 1), ((4,), None, 1)]),
    ("dot", "matmul", [((4,), None, 1), ((4,), None, 1)]),
    ("batched_3d_2d", "matmul", [((2, 3, 4), None, 1), ((4, 5), None, 1)]),
    ("broadcast_batch", "matmul", [((2, 1, 3, 4), None, 1), ((5, 4, 2), None, 1)]),
    ("batched_3d_3d", "matmul", [((2, 3, 4), None, 1), ((2, 4, 5), None, 1)]),
    ("batched_3d_1d", "matmul", [((2, 3, 4), None, 1), ((4,), None, 1)]),
    ("vector_batched", "matmul", [((4,), None, 1), ((2, 4, 5), None, 1)]),
    ("matrix_batched", "matmul", [((3, 4), None, 1), ((2, 4, 5), None, 1)]),
    ("row_batched", "matmul", [((1, 4), None, 1), ((2, 4, 5), None, 1)]),
    ("transposed_a", "matmul", [((4, 3), (0, 1), 1), ((4, 5), None, 1)]),
    ("transposed_b", "matmul", [((3, 4), None, 1), ((5, 4), (0, 1), 1)]),
    ("transposed_both", "matmul", [((4, 3), (0, 1), 1), ((5, 4), (0, 1), 1)]),
    ("transposed_batched_a", "matmul", [((2, 4, 3), (1, 2), 1), ((4, 5), None, 1)]),
    ("matrix_transposed_batched", "matmul", [((3, 4), None, 1), ((2, 5, 4), (1, 2), 1)]),
    ("batch_dims_swapped", "matmul", [((3, 2, 4), (0, 1), 1), ((2, 4, 5), None, 1)]),
    # Matrices with both strides != 1: (3, 2, 4) with strides (1, 3, 6).
    ("general_strides", "matmul", [((4, 2, 3), (0, 2), 1), ((4, 5), None, 1)]),
    # Sizes that are not multiples of BLIS's micro-tiles.
    ("larger", "matmul", [((13, 20), None, 1), ((20, 19), None, 0.25)]),
    ("linear_bias", "linear", [((4, 3), None, 1), ((5, 3), None, 1), ((5,), None, 1)]),
    ("linear_no_bias", "linear", [((4, 3), None, 1), ((5, 3), None, 1)]),
    ("linear_3d_bias", "linear", [((2, 4, 3), None, 1), ((5, 3), None, 1), ((5,), None, 1)]),
    ("linear_3d_no_bias", "linear", [((2, 4, 3), None, 1), ((5, 3), None, 1)]),
    ("linear_1d_bias", "linear", [((3,), None, 1), ((5, 3), None, 1), ((5,), None, 1)]),
    ("linear_1d_no_bias", "linear", [((3,), None, 1), ((5, 3), None, 1)]),
    ("linear_4d_bias", "linear", [((2, 2, 4, 3), None, 1), ((5, 3), None, 1), ((5,), None, 1)]),
    ("linear_strided_3d_bias", "linear",
     [((4, 2, 3), (0, 1), 1), ((5, 3), None, 1), ((5,), None, 1)]),
    ("linear_transposed_weight", "linear",
     [((4, 3), None, 1), ((3, 5), (0, 1), 1), ((5,), None, 1)]),
    # The worked FeedForward's input width, dim 128 (batch 4), with weights at
    # nn.Linear's init scale 1/sqrt(in_features); 8 out features keep this
    # file small.
    ("linear_dim_128", "linear",
     [((4, 128), None, 1), ((8, 128), None, 1 / math.sqrt(128)), ((8,), None, 0.1)]),
]


def run_case(k, op, inputs, dtype):
    g = torch.Generator().manual_seed(1000 + k)
    leaves, operands = [], []
    for shape, swap, scale in inputs:
        leaf = ((torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1) * scale).to(dtype)
        leaf.requires_grad_()
        leaves.append(leaf)
        operands.append(leaf.transpose(*swap) if swap else leaf)
    res = torch.matmul(*operands) if op == "matmul" else F.linear(*operands)
    w = (torch.rand(res.shape, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
    (res * w).sum().backward()
    return leaves, res, w


out = []
out.append("typedef struct golden_linalg_input { int ndim; int64_t shape[4]; int swapped;"
           " int swap[2]; const double *data, *grad; } golden_linalg_input;")
out.append("typedef struct golden_linalg { const char *name; const char *op; int f64;"
           " int n_inputs; golden_linalg_input in[3]; const double *w, *out; int out_ndim;"
           " int64_t out_shape[4]; int64_t out_numel; const char *grad_fn; } golden_linalg;")
entries = []
k = 0
for name, op, inputs in CASES:
    for dtype in [torch.float32, torch.float64]:
        leaves, res, w = run_case(k, op, inputs, dtype)
        p = f"la{k}"
        ins = []
        for i, (leaf, (shape, swap, _)) in enumerate(zip(leaves, inputs)):
            out.append(f"static const double {p}_in{i}[] = {doubles(flat(leaf))};")
            out.append(f"static const double {p}_grad{i}[] = {doubles(flat(leaf.grad))};")
            sw = swap or (0, 0)
            ins.append(f"{{{dims(shape, MAX_DIMS)}, {int(swap is not None)}, {{{sw[0]}, {sw[1]}}}, "
                       f"{p}_in{i}, {p}_grad{i}}}")
        out.append(f"static const double {p}_w[] = {doubles(flat(w))};")
        out.append(f"static const double {p}_out[] = {doubles(flat(res))};")
        suffix = "f64" if dtype == torch.float64 else "f32"
        entries.append(
            f"    {{{c_str(f'{name}_{suffix}')}, {c_str(op)}, {int(dtype == torch.float64)}, "
            f"{len(inputs)}, {{{', '.join(ins)}}}, {p}_w, {p}_out, {dims(res.shape, MAX_DIMS)}, "
            f"{res.numel()}, {c_str(res.grad_fn.name())}}},"
        )
        k += 1
out.append("static const golden_linalg golden_linalgs[] = {")
out.extend(entries)
out.append("};")

print("wrote", write_header("golden_linalg.h", "make_golden_linalg.py", ["stdint.h"], out))
