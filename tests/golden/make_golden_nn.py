#!/usr/bin/python3
"""Writes the golden values of reductions over dims, max, softmax, dropout
and the losses (with nll_loss, and each loss's node name), from PyTorch,
for tests/test_reduce.c and tests/test_loss.c.

Run with Debian's python3 and its python3-torch (apt-get install
python3-torch):  /usr/bin/python3 tests/golden/make_golden_nn.py
The output, tests/golden/golden_nn.h, is committed: the tests never run
Python. Every input is written out, so the C side builds the same tensors.

Gradients are those of sum(out * w) for a random w of the result's shape
(of the loss itself when it is reduced to a scalar). A case marked
`transposed` stores a contiguous base of shape `shape`; the op's input is
base.transpose(0, 1), a strided view, and the gradient is base's.
"""
import warnings

import torch
import torch.nn.functional as F

from golden_common import c_double, c_str, dims, doubles, flat, padded, write_header

DTYPES = [torch.float32, torch.float64]
# kl_div's reduction "mean" is its default, which torch warns differs from "batchmean".
warnings.filterwarnings("ignore", message="reduction: 'mean' divides the total loss")
REDUCTION = {"mean": 0, "sum": 1, "none": 2}  # the order of tg_reduction
out = []
counter = [0]


def array(kind, values):
    """Emits a static array and returns its name."""
    counter[0] += 1
    name = f"nn{counter[0]}"
    if kind == "double":
        out.append(f"static const double {name}[] = {doubles(values)};")
    else:
        body = ", ".join(str(int(v)) for v in values) or "0"
        out.append(f"static const int64_t {name}[] = {{{body}}};")
    return name


def rand(shape, g, lo=-2.0, hi=2.0):
    return torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo


def leaf(values, dtype, transposed):
    """The leaf (base) and the op's input (base, or its transpose)."""
    base = values.detach().to(dtype).clone().requires_grad_()
    return base, (base.transpose(0, 1) if transposed else base)


def backward_weights(res, g):
    if res.dim() == 0:
        return torch.ones((), dtype=res.dtype)
    return rand(res.shape, g, -1, 1).to(res.dtype)


# ---- sum_dims, mean_dims, max_dim, softmax, log_softmax ------------------------
out.append("typedef struct golden_reduce { const char *op; int f64; int ndim; int64_t shape[4];"
           " int transposed; int n_dims; int dims[4]; int keepdim; double param; const double *x,"
           " *w, *out, *grad; int out_ndim; int64_t out_shape[4]; const int64_t *indices; }"
           " golden_reduce;")

sum_cases = [  # (shape, transposed, dims, keepdim)
    ((3, 4), False, [1], False), ((3, 4), False, [1], True), ((3, 4), False, [0], False),
    ((2, 3, 4), False, [0, 2], False), ((2, 3, 4), False, [0, 2], True),
    ((2, 3, 4), False, [2, 0], True), ((2, 3, 4), False, [-1], True),
    ((2, 3, 4), False, [], False), ((2, 3, 4), False, [], True),
    ((1, 5), False, [0], False), ((4, 1), False, [1], True), ((2, 1, 3), False, [1, 2], False),
    ((4, 3), True, [1], False), ((4, 3), True, [0], True), ((5,), False, [0], False),
    ((5,), False, [-1], True),
]
max_cases = [  # (shape, transposed, dim, keepdim)
    ((3, 4), False, 1, False), ((3, 4), False, 1, True), ((3, 4), False, 0, False),
    ((2, 3, 4), False, -1, True), ((2, 3, 4), False, 1, False), ((1, 5), False, 0, False),
    ((4, 1), False, 1, True), ((4, 3), True, 1, False), ((6,), False, 0, False),
]
softmax_cases = [  # (shape, transposed, dim)
    ((3, 4), False, 1), ((3, 4), False, 0), ((2, 3, 4), False, 1), ((2, 3, 4), False, -1),
    ((1, 5), False, 0), ((4, 1), False, 1), ((4, 3), True, 1), ((6,), False, 0), ((), False, 0),
]
# The reductions of slices, over lists of dims: the reduced dims adjacent
# (read in place) or not (copied), all of them ([]), strided inputs; with
# each op's parameter (var and std: correction; vector_norm: ord).
slice_cases = [  # (shape, transposed, dims, keepdim)
    ((3, 4), False, [1], False), ((3, 4), False, [0], True), ((2, 3, 4), False, [0, 2], False),
    ((2, 3, 4), False, [2, 0], True), ((2, 3, 4), False, [1, 2], True),
    ((2, 3, 4), False, [], False), ((4, 3), True, [1], False), ((4, 3), True, [0, 1], True),
    ((5,), False, [0], False), ((2, 1, 3), False, [-1], True),
]
INF = float("inf")
SLICE_OPS = [  # (op, parameters, torch's op on x over dims)
    ("amax", [0], lambda x, d, k, p: torch.amax(x, d, k)),
    ("amin", [0], lambda x, d, k, p: torch.amin(x, d, k)),
    # torch 1.13's var and std take dim=() for every dim but their gradient
    # then divides by 1 - correction (inf): every dim is dim=None
    ("var", [1, 0, 2, -1], lambda x, d, k, p: torch.var(x, d or None, correction=int(p), keepdim=k)),
    ("std", [1, 0, 2], lambda x, d, k, p: torch.std(x, d or None, correction=int(p), keepdim=k)),
    # torch 1.13's logsumexp fails on dim=(): every dim is listed
    ("logsumexp", [0], lambda x, d, k, p: torch.logsumexp(x, d or list(range(x.dim())), k)),
    ("vector_norm", [2, 1, INF, -INF, 3, 1.5],
     lambda x, d, k, p: torch.linalg.vector_norm(x, p, d or None, k)),
]
TIES = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0], [-1.0, -1.0, -1.0]])
HUGE = torch.tensor([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -999.0]])
# Rows of special shapes: ties of the extremes and of |x|, zeros (one, two,
# all), a constant row (std 0), and +-inf and NaN.
SPECIAL_ROWS = torch.tensor([[1.0, 3.0, -3.0, 3.0], [2.0, 0.0, 5.0, -1.0], [0.0, 4.0, 0.0, 2.0],
                             [0.0, 0.0, 0.0, 0.0], [-1.5, -1.5, -1.5, -1.5],
                             [INF, 1.0, 2.0, -INF], [1.0, float("nan"), 2.0, 0.0]])

entries = []


def reduce_entry(op, dtype, x_values, shape, transposed, reduce_dims, keepdim, fn, g,
                 n_dims=None, param=0, in_double=False):
    """in_double: tapegrad computes the op in double and rounds once; its
    float32 values are PyTorch's float64 ones on the same inputs, rounded to
    float32 (PyTorch's float32 logsumexp gradient, exp(x - the rounded
    result), is 3e-5 off at |x| = 1000)."""
    base, x = leaf(x_values, dtype, transposed)
    res = fn(x)
    indices = "NULL"
    if op == "max_dim":
        res, idx = res
        indices = array("int64", flat(idx))
    w = backward_weights(res, g)
    if in_double and dtype == torch.float32:
        base64, x64 = leaf(base.detach(), torch.float64, False)
        res64 = fn(x64.transpose(0, 1) if transposed else x64)
        (res64 * w.double()).sum().backward()
        res, base.grad = res64.float(), base64.grad.float()
    else:
        (res * w).sum().backward()
    names = [array("double", flat(t)) for t in (base, w, res, base.grad)]
    nd = len(reduce_dims) if n_dims is None else n_dims
    entries.append(f"    {{{c_str(op)}, {int(dtype == torch.float64)}, {dims(shape, 4)}, "
                   f"{int(transposed)}, {nd}, {padded(reduce_dims, 4)}, {int(keepdim)}, "
                   f"{c_double(param)}, {', '.join(names)}, {dims(res.shape, 4)}, {indices}}},")


for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(1000 + k)
    for op, fn in [("sum_dims", torch.sum), ("mean_dims", torch.mean)]:
        for shape, tr, over, keep in sum_cases:
            reduce_entry(op, dtype, rand(shape, g), shape, tr, over, keep,
                         lambda x, fn=fn, over=over, keep=keep: fn(x, dim=over, keepdim=keep), g)
    for shape, tr, dim, keep in max_cases:
        reduce_entry("max_dim", dtype, rand(shape, g), shape, tr, [dim], keep,
                     lambda x, dim=dim, keep=keep: torch.max(x, dim=dim, keepdim=keep), g)
    reduce_entry("max_dim", dtype, TIES, (3, 3), False, [1], False,
                 lambda x: torch.max(x, dim=1), g)
    for op, fn in [("softmax", torch.softmax), ("log_softmax", torch.log_softmax)]:
        for shape, tr, dim in softmax_cases:
            reduce_entry(op, dtype, rand(shape, g), shape, tr, [dim], False,
                         lambda x, fn=fn, dim=dim: fn(x, dim), g)
        for dim in (0, 1):  # stable at +-1000: finite everywhere
            reduce_entry(op, dtype, HUGE, (2, 3), False, [dim], False,
                         lambda x, fn=fn, dim=dim: fn(x, dim), g)
    for op, params, fn in SLICE_OPS:
        for p in params:
            for shape, tr, over, keep in slice_cases:
                reduce_entry(op, dtype, rand(shape, g), shape, tr, over, keep,
                             lambda x, fn=fn, over=over, keep=keep, p=p: fn(x, over, keep, p), g,
                             param=p, in_double=True)
            for x_values, over in ((SPECIAL_ROWS, [1]), (HUGE, [0]), (TIES, [1])):
                reduce_entry(op, dtype, x_values, tuple(x_values.shape), False, over, False,
                             lambda x, fn=fn, over=over, p=p: fn(x, over, False, p), g, param=p,
                             in_double=True)
    # prod: of everything, and along one dim (torch takes one)
    for shape, tr, over, keep in slice_cases:
        if len(over) == 1:
            reduce_entry("prod_dim", dtype, rand(shape, g), shape, tr, over, keep,
                         lambda x, over=over, keep=keep: torch.prod(x, over[0], keep), g,
                         in_double=True)
        elif not over:
            reduce_entry("prod", dtype, rand(shape, g), shape, tr, over, keep, torch.prod, g,
                         in_double=True)
    for over in ([0], [1]):
        reduce_entry("prod_dim", dtype, SPECIAL_ROWS, tuple(SPECIAL_ROWS.shape), False, over,
                     False, lambda x, over=over: torch.prod(x, over[0]), g, in_double=True)
    for x_values in (SPECIAL_ROWS[1], SPECIAL_ROWS[2], SPECIAL_ROWS[3], torch.tensor(2.5)):
        reduce_entry("prod", dtype, x_values, tuple(x_values.shape), False, [], False,
                     torch.prod, g, in_double=True)
out.append("static const golden_reduce golden_reduces[] = {")
out.extend(entries)
out.append("};")

# ---- losses -----------------------------------------------------------------------
out.append("typedef struct golden_loss { const char *op; int f64; int reduction; int ndim;"
           " int64_t shape[5]; int transposed; const double *x, *t; const int64_t *classes;"
           " const double *w, *out, *gx, *gt; int out_ndim; int64_t out_shape[5];"
           " const double *class_weight; int64_t ignore_index; double label_smoothing;"
           " const char *node; double param; int weight_ndim; int64_t weight_shape[5];"
           " const double *weight; int pos_weight_ndim; int64_t pos_weight_shape[5];"
           " const double *pos_weight; } golden_loss;")
entries = []


# The elementwise losses (kl_div takes batchmean too), on x and t, with the
# loss's number (smooth_l1_loss: beta; huber_loss: delta; kl_div: log_target)
# and binary cross entropy's weights.
ELEMENTWISE = {
    "mse_loss": lambda x, t, r, p, w, pw: F.mse_loss(x, t, reduction=r),
    "l1_loss": lambda x, t, r, p, w, pw: F.l1_loss(x, t, reduction=r),
    "smooth_l1_loss": lambda x, t, r, p, w, pw: F.smooth_l1_loss(x, t, reduction=r, beta=p),
    "huber_loss": lambda x, t, r, p, w, pw: F.huber_loss(x, t, reduction=r, delta=p),
    "binary_cross_entropy":
        lambda x, t, r, p, w, pw: F.binary_cross_entropy(x, t, weight=w, reduction=r),
    "binary_cross_entropy_with_logits":
        lambda x, t, r, p, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w,
                                                                     pos_weight=pw, reduction=r),
    "kl_div": lambda x, t, r, p, w, pw: F.kl_div(x, t, reduction=r, log_target=bool(p)),
}
# The fused ones compute in double and round once (l1_loss and kl_div are
# compositions of ops, as torch's): their float32 values are PyTorch's
# float64 ones rounded, as for the reductions of slices.
IN_DOUBLE = {"smooth_l1_loss", "huber_loss", "binary_cross_entropy"}
BATCHMEAN = 3  # tg_reduction's value for kl_div's "batchmean"


def loss_entry(op, dtype, reduction, x_values, shape, transposed, target, g, class_weight=None,
               ignore_index=-100, label_smoothing=0.0, param=0.0, weight=None, pos_weight=None):
    base, x = leaf(x_values, dtype, transposed)
    if op in ("cross_entropy", "nll_loss"):
        classes = array("int64", target.flatten().tolist())
        weight = class_weight.to(dtype) if class_weight is not None else None
        if op == "nll_loss":
            res = F.nll_loss(x, target, weight=weight, ignore_index=ignore_index,
                             reduction=reduction)
        else:
            res = F.cross_entropy(x, target, weight=weight, ignore_index=ignore_index,
                                  reduction=reduction, label_smoothing=label_smoothing)
        t = None
    elif op == "cross_entropy_probs":
        classes = "NULL"
        t = target.to(dtype).requires_grad_()
        weight = class_weight.to(dtype) if class_weight is not None else None
        res = F.cross_entropy(x, t, weight=weight, reduction=reduction,
                              label_smoothing=label_smoothing)
    else:
        classes = "NULL"
        t = target.to(dtype).requires_grad_()
        loss = ELEMENTWISE[op]
        wt = weight.to(dtype) if weight is not None else None
        pwt = pos_weight.to(dtype) if pos_weight is not None else None
        res = loss(x, t, reduction, param, wt, pwt)
    w = backward_weights(res, g)
    node = res.grad_fn.name()
    if op in IN_DOUBLE and dtype == torch.float32:
        base64, x64 = leaf(base.detach(), torch.float64, False)
        t64 = t.detach().double().requires_grad_()
        res64 = loss(x64.transpose(0, 1) if transposed else x64, t64, reduction, param,
                     None if wt is None else wt.double(), None if pwt is None else pwt.double())
        (res64 * w.double()).sum().backward()
        res, base.grad, t.grad = res64.float(), base64.grad.float(), t64.grad.float()
    else:
        (res * w).sum().backward()
    tn = array("double", flat(t)) if t is not None else "NULL"
    gt = array("double", flat(t.grad)) if t is not None else "NULL"
    names = [array("double", flat(v)) for v in (base, w, res, base.grad)]
    cw = array("double", flat(class_weight)) if class_weight is not None else "NULL"
    weights = ", ".join(f"{dims(v.shape, 5)}, {array('double', flat(v))}" if v is not None
                        else "0, {0}, NULL" for v in (weight, pos_weight))
    r = BATCHMEAN if reduction == "batchmean" else REDUCTION[reduction]
    entries.append(f"    {{{c_str(op)}, {int(dtype == torch.float64)}, {r}, "
                   f"{dims(shape, 5)}, {int(transposed)}, {names[0]}, {tn}, {classes}, "
                   f"{names[1]}, {names[2]}, {names[3]}, {gt}, {dims(res.shape, 5)}, "
                   f"{cw}, {ignore_index}, {label_smoothing!r}, {c_str(node)}, "
                   f"{c_double(param)}, {weights}}},")


elementwise_shapes = [((3, 4), False), ((5,), False), ((1, 1), False), ((4, 3), True)]
ce_shapes = [((4, 5), False), ((1, 3), False), ((3, 1), False), ((5, 4), True)]
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(2000 + k)
    for reduction in REDUCTION:
        for shape, tr in elementwise_shapes:
            lshape = (shape[1], shape[0]) if tr else shape
            loss_entry("mse_loss", dtype, reduction, rand(shape, g), shape, tr,
                       rand(lshape, g), g)
            loss_entry("binary_cross_entropy_with_logits", dtype, reduction, rand(shape, g, -4, 4),
                       shape, tr, rand(lshape, g, 0, 1), g)
        # large logits: stable, and exact 0/1 targets
        big = torch.tensor([[1000.0, -1000.0, 30.0], [-30.0, 0.0, 100.0]])
        loss_entry("binary_cross_entropy_with_logits", dtype, reduction, big, (2, 3), False,
                   torch.tensor([[1.0, 0.0, 0.5], [1.0, 0.25, 0.0]]), g)
        for shape, tr in ce_shapes:
            n, c = (shape[1], shape[0]) if tr else shape
            loss_entry("cross_entropy", dtype, reduction, rand(shape, g, -3, 3), shape, tr,
                       torch.randint(0, c, (n,), generator=g), g)
        loss_entry("cross_entropy", dtype, reduction, HUGE, (2, 3), False, torch.tensor([1, 0]), g)
# the other elementwise losses: their numbers, weights broadcast along the
# last dim or whole, probabilities at 0 and 1 (binary_cross_entropy's logs
# clamped at -100), kl_div's targets with zeros, batchmean
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(6000 + k)
    for reduction in REDUCTION:
        for shape, tr in elementwise_shapes:
            lshape = (shape[1], shape[0]) if tr else shape
            last = (lshape[-1],)
            loss_entry("l1_loss", dtype, reduction, rand(shape, g), shape, tr, rand(lshape, g), g)
            for beta in (1.0, 0.5, 0.0):
                loss_entry("smooth_l1_loss", dtype, reduction, rand(shape, g), shape, tr,
                           rand(lshape, g), g, param=beta)
            for delta in (1.0, 0.5, 2.0):
                loss_entry("huber_loss", dtype, reduction, rand(shape, g), shape, tr,
                           rand(lshape, g), g, param=delta)
            for weight in (None, rand(last, g, 0.2, 2.0), rand(lshape, g, 0.2, 2.0)):
                loss_entry("binary_cross_entropy", dtype, reduction, rand(shape, g, 0.02, 0.98),
                           shape, tr, rand(lshape, g, 0, 1), g, weight=weight)
            for weight, pos in ((None, rand(last, g, 0.2, 3.0)),
                                (rand(last, g, 0.2, 2.0), rand(last, g, 0.2, 3.0)),
                                (rand(lshape, g, 0.2, 2.0), None)):
                loss_entry("binary_cross_entropy_with_logits", dtype, reduction,
                           rand(shape, g, -4, 4), shape, tr, rand(lshape, g, 0, 1), g,
                           weight=weight, pos_weight=pos)
            for red in (reduction, "batchmean"):
                probs = rand(lshape, g, 0, 1)
                probs.view(-1)[0] = 0.0  # xlogy(0, 0) = 0
                loss_entry("kl_div", dtype, red, rand(shape, g, -3, 0), shape, tr, probs, g)
                loss_entry("kl_div", dtype, red, rand(shape, g, -3, 0), shape, tr,
                           rand(lshape, g, -3, 0), g, param=1.0)
        edges = torch.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 1e-30]])
        loss_entry("binary_cross_entropy", dtype, reduction, edges, (2, 3), False,
                   torch.tensor([[0.0, 1.0, 0.25], [0.0, 1.0, 1.0]]), g)
        # large logits with pos_weight: stable
        big = torch.tensor([[1000.0, -1000.0, 30.0], [-30.0, 0.0, 100.0]])
        loss_entry("binary_cross_entropy_with_logits", dtype, reduction, big, (2, 3), False,
                   torch.tensor([[1.0, 0.0, 0.5], [1.0, 0.25, 0.0]]), g,
                   pos_weight=torch.tensor([2.0, 0.5, 3.0]))
    loss_entry("kl_div", dtype, "batchmean", torch.tensor(-0.5), (), False, torch.tensor(0.25), g)
# cross_entropy's options: class weights, ignored samples (the default -100 and
# another index), label smoothing, alone and together
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(3000 + k)
    for reduction in REDUCTION:
        for weighted in (False, True):
            for ignore_index in (-100, 2):
                for smoothing in (0.0, 0.25):
                    for shape, tr in ((6, 4), False), ((4, 5), True):
                        n, c = (shape[1], shape[0]) if tr else shape
                        target = torch.randint(0, c, (n,), generator=g)
                        target[1] = ignore_index  # at least one sample ignored
                        weight = rand((c,), g, 0.2, 2.0) if weighted else None
                        loss_entry("cross_entropy", dtype, reduction, rand(shape, g, -3, 3), shape,
                                   tr, target, g, weight, ignore_index, smoothing)
        # every sample ignored: the mean is 0 / 0
        loss_entry("cross_entropy", dtype, reduction, rand((2, 3), g), (2, 3), False,
                   torch.tensor([-100, -100]), g, None, -100, 0.25)
        # class probabilities as the target (rows summing to 1), the logits
        # transposed in one case
        for weighted in (False, True):
            for smoothing in (0.0, 0.25):
                for shape, tr in ((5, 4), False), ((3, 6), True):
                    n, c = (shape[1], shape[0]) if tr else shape
                    probs = torch.softmax(rand((n, c), g, -2, 2), dim=1)
                    weight = rand((c,), g, 0.2, 2.0) if weighted else None
                    loss_entry("cross_entropy_probs", dtype, reduction, rand(shape, g, -3, 3),
                               shape, tr, probs, g, weight, -100, smoothing)
# logits of other shapes: one sample (C,), and classes in dim 1 of
# (N, C, d1) and (N, C, d1, d2), for class indices and probabilities
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(4000 + k)
    for reduction in REDUCTION:
        for shape in ((5,), (2, 4, 3), (2, 3, 2, 2), (2, 3, 2, 1, 2)):
            c = shape[0] if len(shape) == 1 else shape[1]
            samples = () if len(shape) == 1 else (shape[0],) + shape[2:]
            target = torch.randint(0, c, samples, generator=g)
            if len(shape) > 1:
                target.view(-1)[1] = -100  # one sample ignored
            weight = rand((c,), g, 0.2, 2.0)
            loss_entry("cross_entropy", dtype, reduction, rand(shape, g, -3, 3), shape, False,
                       target, g, weight, -100, 0.1)
            probs = torch.softmax(rand(shape, g, -2, 2), dim=0 if len(shape) == 1 else 1)
            loss_entry("cross_entropy_probs", dtype, reduction, rand(shape, g, -3, 3), shape,
                       False, probs, g, None, -100, 0.0)
# nll_loss: log-probabilities (N, C), transposed, (C,) and (N, C, d1, ..., dk)
# for k = 1, 2, 3 (torch's three paths), with class weights, ignored samples
# (the default -100 and a class index), and a batch whose samples are all
# ignored (the mean is 0 / 0: NaN, and a zero gradient)
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(5000 + k)
    for reduction in REDUCTION:
        for weighted in (False, True):
            for ignore_index in (-100, 2):
                for shape, tr in (((6, 4), False), ((4, 5), True), ((5,), False),
                                  ((2, 4, 3), False), ((2, 3, 2, 2), False),
                                  ((2, 3, 2, 1, 2), False)):
                    if tr:
                        n, c, samples = shape[1], shape[0], (shape[1],)
                    else:
                        c = shape[0] if len(shape) == 1 else shape[1]
                        samples = () if len(shape) == 1 else (shape[0],) + shape[2:]
                    target = torch.randint(0, c, samples, generator=g)
                    if len(samples) > 0:
                        target.view(-1)[1] = ignore_index  # at least one sample ignored
                    weight = rand((c,), g, 0.2, 2.0) if weighted else None
                    log_probs = torch.log_softmax(rand(shape, g, -3, 3),
                                                  dim=0 if len(shape) == 1 or tr else 1)
                    loss_entry("nll_loss", dtype, reduction, log_probs, shape, tr, target, g,
                               weight, ignore_index)
        for shape, samples in (((2, 3), (2,)), ((2, 3, 2, 2), (2, 2, 2))):
            loss_entry("nll_loss", dtype, reduction, rand(shape, g, -3, 0), shape, False,
                       torch.full(samples, -100), g, rand((3,), g, 0.2, 2.0))
out.append("static const golden_loss golden_losses[] = {")
out.extend(entries)
out.append("};")

# ---- dropout: torch.manual_seed(seed), then native_dropout in training --------------
out.append("typedef struct golden_dropout { uint64_t seed; double p; int f64; int ndim;"
           " int64_t shape[4]; int transposed; const double *x, *w, *out, *grad; }"
           " golden_dropout;")
entries = []
dropout_cases = [(0, 0.3, (4, 5), False), (42, 0.5, (3, 7), False), (7, 0.9, (2, 3, 4), False),
                 (3, 0.25, (6, 3), True), (5, 1.0, (2, 3), False)]
for k, dtype in enumerate(DTYPES):
    g = torch.Generator().manual_seed(3000 + k)
    for seed, p, shape, tr in dropout_cases:
        base, x = leaf(rand(shape, g), dtype, tr)
        torch.manual_seed(seed)
        # torch draws the mask in the input's memory order, tapegrad in
        # row-major order: the same for contiguous inputs, so a transposed
        # input is given to torch as a contiguous copy.
        res, mask = torch.native_dropout(x.contiguous(), p, True)
        w = backward_weights(res, g)
        (res * w).sum().backward()
        names = [array("double", flat(v)) for v in (base, w, res, base.grad)]
        entries.append(f"    {{{seed}, {p!r}, {int(dtype == torch.float64)}, {dims(shape, 4)}, "
                       f"{int(tr)}, {', '.join(names)}}},")
out.append("static const golden_dropout golden_dropouts[] = {")
out.extend(entries)
out.append("};")

path = write_header("golden_nn.h", "make_golden_nn.py", ["math.h", "stddef.h", "stdint.h"], out)
print("wrote", path)
