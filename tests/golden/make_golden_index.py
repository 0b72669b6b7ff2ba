#!/usr/bin/python3
"""Writes the golden values of the indexing ops (tests/test_index.c) from PyTorch:
index_select, gather, scatter_add, F.embedding and F.one_hot, and the
weights torch.nn.Embedding draws after torch.manual_seed.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_index.py
The output, tests/golden/golden_index.h, is committed: the tests never run
Python.

Each case builds its tensors from explicit data. A tensor marked transposed
enters the op as base.transpose(0, 1), a non-contiguous view of the base
stored here (the index too). Gradients are those of sum(out * w) for a
random w, with respect to the bases. scatter_add with a src larger than its
index has no gradient in PyTorch 1.13 (its backward fails: "ScatterAddBackward0
returned an invalid gradient"); for it src's gradient is written as the one
of the other cases, gather(g, dim, index) in the corner the index reaches
and zero elsewhere, which the script checks against PyTorch's own where
PyTorch has one.
"""
import torch
import torch.nn.functional as F

from golden_common import c_str, dims, doubles, flat, padded, write_header

F32, F64, I64 = torch.float32, torch.float64, torch.int64
DTYPE_CODE = {F32: 0, F64: 1, I64: 2}  # TG_F32, TG_F64, TG_I64
NO_PADDING = "INT64_MIN"
MAX_DIMS = 4

OPS = {
    "index_select": lambda x, dim, index, src: torch.index_select(x, dim, index),
    "gather": lambda x, dim, index, src: torch.gather(x, dim, index),
    "scatter_add": lambda x, dim, index, src: torch.scatter_add(x, dim, index, src),
    "embedding": lambda x, pad, index, src: F.embedding(index, x, padding_idx=pad),
}

# (op, dim (padding_idx for embedding, None for none), x as (shape, transposed),
#  index as (values of its base, transposed), src as (shape, transposed) or None,
#  dtypes)
FLOATS, ALL = (F32, F64), (F32, F64, I64)
CASES = [
    ("index_select", 0, ((4, 3), False), ([2, 0, 2], False), None, ALL),
    ("index_select", 1, ((3, 5), True), ([1, 1, 0, 2], False), None, FLOATS),
    ("index_select", -1, ((2, 3, 4), False), ([3, 0], False), None, FLOATS),
    ("index_select", 1, ((2, 3, 4), False), ([2, 2, 2, 0, 1], False), None, FLOATS),
    ("index_select", 0, ((5,), False), ([0, 0, 4, 1], False), None, FLOATS),
    ("index_select", 0, ((4, 3), False), (1, False), None, FLOATS),  # a 0-dim index
    ("index_select", 0, ((4, 3), False), ([], False), None, FLOATS),  # empty
    ("gather", 1, ((3, 4), False), ([[0, 3], [2, 2], [1, 0]], False), None, ALL),
    ("gather", 0, ((3, 4), False), ([[0, 2, 2, 1], [1, 1, 0, 2]], False), None, FLOATS),
    ("gather", 0, ((3, 4), True), ([[3, 0, 3], [1, 1, 2], [0, 0, 0], [2, 3, 1], [3, 3, 3]], False),
     None, FLOATS),
    ("gather", 1, ((4, 3), False), ([[0, 2, 1], [2, 2, 0]], True), None, FLOATS),  # index (3, 2)
    ("gather", 1, ((2, 3, 4), False), ([[[0, 1, 2], [2, 2, 0]], [[1, 1, 1], [0, 2, 1]]], False),
     None, FLOATS),
    ("gather", -1, ((2, 3, 4), False), ([[[3, 3, 0, 1, 3]], [[0, 1, 2, 3, 2]]], False), None,
     FLOATS),
    ("gather", 0, ((6,), False), ([5, 5, 0, 2, 5, 1, 1, 0], False), None, FLOATS),
    ("gather", 1, ((3, 4), False), ([[], []], False), None, FLOATS),  # empty
    ("scatter_add", 1, ((3, 4), False), ([[0, 3], [2, 2], [1, 0]], False), ((3, 2), False), ALL),
    ("scatter_add", 0, ((3, 4), False), ([[0, 2, 2, 1], [2, 2, 0, 2]], False), ((2, 4), False),
     FLOATS),
    ("scatter_add", 0, ((3, 4), False), ([[0, 2, 2], [1, 0, 0]], False), ((3, 5), False),
     FLOATS),  # src larger than index
    ("scatter_add", 1, ((4, 3), True), ([[0, 2, 2], [1, 0, 0]], True), ((2, 3), True),
     FLOATS),  # all three transposed
    ("scatter_add", -1, ((2, 3, 4), False),
     ([[[0, 0, 3], [1, 2, 1]], [[3, 3, 3], [2, 0, 1]]], False), ((2, 2, 3), False), FLOATS),
    ("scatter_add", 0, ((5,), False), ([4, 4, 0, 4, 2], False), ((6,), False), FLOATS),
    ("scatter_add", 1, ((3, 4), False), ([[]], False), ((3, 4), False), FLOATS),  # empty
    ("embedding", None, ((5, 3), False), ([1, 4, 1, 0], False), None, ALL),
    ("embedding", 2, ((6, 4), False), ([[2, 0, 5], [2, 2, 1]], False), None, FLOATS),
    ("embedding", -1, ((4, 3), False), ([[3, 0], [1, 3], [3, 3]], True), None, FLOATS),
    ("embedding", 0, ((3, 5), True), ([4, 0, 2, 0, 4, 4], False), None, FLOATS),
    ("embedding", None, ((4, 2), False), (3, False), None, FLOATS),  # a 0-dim index
    ("embedding", None, ((4, 2), False), ([[], []], False), None, FLOATS),  # empty
]

# (labels as (values of the base, transposed), num_classes)
ONE_HOT_CASES = [
    (([0, 2, 1], False), -1),
    (([0, 2, 1], False), 5),
    (([[0, 3], [1, 1], [2, 0]], True), -1),
    (([[4, 0, 1]], False), 6),
    ((2, False), 4),  # 0-dim
    (([], False), 3),  # empty
    (([[], []], False), 2),
]

# (name, seed, num_embeddings, embedding_dim, padding_idx or None, dtype): fewer
# and more than 16 elements, where torch's normal_ draws differently
EMBEDDING_MODULES = [
    ("emb_f32", 0, 10, 3, None, F32),
    ("emb_pad_f32", 1, 4, 3, 1, F32),
    ("emb_pad_last_f64", 2, 7, 5, -1, F64),
    ("emb_big_f32", 3, 20, 8, 0, F32),
    ("emb_f64", 5, 3, 2, None, F64),
]

out = []
counter = [0]


def array(kind, values):
    """Emits a static array of doubles or int64 and returns its name."""
    counter[0] += 1
    name = f"index{counter[0]}"
    if kind == "double":
        out.append(f"static const double {name}[] = {doubles(values)};")
    else:
        body = ", ".join(str(int(v)) for v in values) or "0"
        out.append(f"static const int64_t {name}[] = {{{body}}};")
    return name


def values(shape, dtype, g):
    if dtype == I64:
        return torch.randint(-50, 50, shape, generator=g)
    return (torch.rand(shape, generator=g, dtype=F64) * 4 - 2).to(dtype)


def view(base, transposed):
    return base.transpose(0, 1) if transposed else base


def shape_fields(t, transposed):
    return f"{dims(t.shape, MAX_DIMS)}, {int(transposed)}"


entries = []
for k, (op, dim, (xshape, xtr), (ivals, itr), src_spec, dtypes) in enumerate(CASES):
    for dtype in dtypes:
        g = torch.Generator().manual_seed(4000 + 10 * k + DTYPE_CODE[dtype])
        floating = dtype != I64
        xbase = values(xshape, dtype, g).requires_grad_(floating)
        ibase = torch.tensor(ivals, dtype=I64)
        index = view(ibase, itr)
        sbase = (values(src_spec[0], dtype, g).requires_grad_(floating) if src_spec
                 else torch.zeros(0, dtype=dtype))
        src = view(sbase, src_spec[1]) if src_spec else None
        # torch's scatter_add backward fails for a src larger than the index
        src_grad_by_hand = src is not None and src.shape != index.shape
        if src_grad_by_hand:
            src = src.detach()
        res = OPS[op](view(xbase, xtr), dim, index, src)
        w = values(res.shape, dtype, g) if floating else torch.zeros(0)
        gx, gsrc = torch.zeros(0), torch.zeros(0)
        if floating:
            (res * w).sum().backward()
            gx = xbase.grad
        if floating and src is not None:
            by_hand = torch.zeros(src.shape, dtype=dtype)
            if index.numel():
                by_hand[tuple(slice(0, n) for n in index.shape)] = w.gather(dim, index)
            by_hand = view(by_hand, src_spec[1])
            if not src_grad_by_hand:
                assert torch.equal(by_hand, sbase.grad), (op, k)
            gsrc = by_hand
        if op == "embedding":  # dim holds padding_idx
            dim_field, pad = 0, NO_PADDING if dim is None else dim
        else:
            dim_field, pad = dim, NO_PADDING
        name = res.grad_fn.name() if res.grad_fn else ""
        sfields = shape_fields(sbase, src_spec[1]) if src_spec else f"0, {padded([], MAX_DIMS)}, 0"
        arrays = [array("double", flat(t)) for t in (xbase, sbase, w, res, gx, gsrc)]
        entries.append(
            f"    {{{c_str(op)}, {DTYPE_CODE[dtype]}, {dim_field}, {pad},\n"
            f"     {shape_fields(xbase, xtr)}, {shape_fields(ibase, itr)}, {sfields},\n"
            f"     {arrays[0]}, {array('int64', flat(ibase))}, {arrays[1]}, {arrays[2]},\n"
            f"     {dims(res.shape, MAX_DIMS)}, {arrays[3]}, {arrays[4]}, {arrays[5]}, "
            f"{c_str(name)}}},")

GOLDEN_INDEX = f"""/* One op on tensors built from explicit data: x (the input of
 * index_select, gather and scatter_add; embedding's weight), the index and
 * src (scatter_add), each from its base (row-major) and transposed when
 * marked. dtype: 0 float32, 1 float64, 2 int64. dim is the op's dim;
 * embedding takes padding_idx (INT64_MIN for none). w weighs
 * loss = sum(out * w); gx and gsrc are the bases' gradients (floating
 * dtypes only). grad_fn is "" where there is none. */
typedef struct golden_index {{
    const char *op;
    int dtype;
    int dim;
    int64_t padding_idx;
    int x_ndim;
    int64_t x_shape[{MAX_DIMS}];
    int x_transposed;
    int index_ndim;
    int64_t index_shape[{MAX_DIMS}];
    int index_transposed;
    int src_ndim;
    int64_t src_shape[{MAX_DIMS}];
    int src_transposed;
    const double *x;
    const int64_t *index;
    const double *src, *w;
    int out_ndim;
    int64_t out_shape[{MAX_DIMS}];
    const double *out, *gx, *gsrc;
    const char *grad_fn;
}} golden_index;"""
out.insert(0, GOLDEN_INDEX)
out.extend(["static const golden_index golden_indexes[] = {", *entries, "};"])

entries = []
for (lvals, ltr), num_classes in ONE_HOT_CASES:
    base = torch.tensor(lvals, dtype=I64)
    res = F.one_hot(view(base, ltr), num_classes)
    entries.append(f"    {{{shape_fields(base, ltr)}, {array('int64', flat(base))}, "
                   f"{num_classes}, {dims(res.shape, MAX_DIMS + 1)}, "
                   f"{array('int64', flat(res))}}},")
out.append("/* F.one_hot of the labels (base, row-major; transposed when marked). */")
out.append(f"typedef struct golden_one_hot {{ int ndim; int64_t shape[{MAX_DIMS}]; "
           f"int transposed; const int64_t *labels; int64_t num_classes; int out_ndim; "
           f"int64_t out_shape[{MAX_DIMS + 1}]; const int64_t *out; }} golden_one_hot;")
out.extend(["static const golden_one_hot golden_one_hots[] = {", *entries, "};"])

entries = []
for name, seed, num, dim, pad, dtype in EMBEDDING_MODULES:
    torch.manual_seed(seed)
    emb = torch.nn.Embedding(num, dim, padding_idx=pad, dtype=dtype)
    entries.append(f"    {{{c_str(name)}, {seed}ULL, {num}, {dim}, "
                   f"{NO_PADDING if pad is None else pad}, {DTYPE_CODE[dtype]}, "
                   f"{array('double', flat(emb.weight))}}},")
out.append("/* The weight torch.nn.Embedding(num, dim, padding_idx, dtype) draws after "
           "torch.manual_seed(seed). */")
out.append("typedef struct golden_embedding_module { const char *name; unsigned long long seed; "
           "int64_t num, dim, padding_idx; int dtype; const double *weight; } "
           "golden_embedding_module;")
out.extend(["static const golden_embedding_module golden_embedding_modules[] = {", *entries, "};"])

print("wrote", write_header("golden_index.h", "make_golden_index.py", ["stdint.h"], out))
