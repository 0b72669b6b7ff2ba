#!/usr/bin/python3
"""Writes the optimizer trajectories the C tests compare against, from PyTorch.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_optim.py
The output, tests/golden/golden_optim.h, is committed: the tests never run
Python.

The problem is a 2-layer MLP, tanh(x W1^T + b1) W2^T + b2, with MSE on a fixed
batch. tapegrad has no matmul in its core, so the C test does not recompute
the loss: it is fed the very gradients PyTorch computed at each step (set as
.grad) and checks the parameters and every state tensor after each step. So
the comparison isolates the update rule and errors do not compound through
the model.
"""
import math

import torch

from golden_common import doubles, flat_all, padded, write_header

SHAPES = [(3, 2), (3,), (1, 3), (1,)]  # W1, b1, W2, b2
BIASES = (1, 3)
SKIP_PARAM = 3  # b2: the parameter left without a grad on some steps
STEPS = 20
NUMEL = sum(math.prod(s) for s in SHAPES)

# (name, optimizer, keyword arguments, extras). Extras: bias_lr puts the
# biases in a second group with that lr and no weight decay; lr_halved_at
# halves every group's lr before that step; skip_every drops b2's grad on the
# steps it divides (PyTorch then skips b2 and does not count the step).
CASES = [
    ("sgd_plain", "SGD", dict(lr=0.1), {}),
    ("sgd_momentum_dampening_wd", "SGD",
     dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01), {}),
    ("sgd_nesterov_wd", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02), {}),
    ("sgd_momentum_maximize", "SGD", dict(lr=0.02, momentum=0.5, maximize=True), {}),
    ("sgd_groups_lr_change_skip", "SGD", dict(lr=0.1, momentum=0.6, weight_decay=0.05),
     dict(bias_lr=0.2, lr_halved_at=11, skip_every=3)),
    ("adagrad_default", "Adagrad", dict(), {}),
    ("adagrad_lr_decay_init_wd", "Adagrad",
     dict(lr=0.2, lr_decay=0.05, initial_accumulator_value=0.3, weight_decay=0.01, eps=1e-6), {}),
    ("adagrad_maximize_skip", "Adagrad", dict(lr=0.05, maximize=True, lr_decay=0.01),
     dict(skip_every=4)),
    ("rmsprop_default", "RMSprop", dict(), {}),
    ("rmsprop_alpha_wd", "RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.05, eps=1e-6), {}),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.01, momentum=0.9), {}),
    ("rmsprop_centered", "RMSprop", dict(lr=0.01, centered=True), {}),
    ("rmsprop_centered_momentum_wd_maximize", "RMSprop",
     dict(lr=0.005, alpha=0.95, centered=True, momentum=0.7, weight_decay=0.01, maximize=True),
     {}),
    ("adam_default", "Adam", dict(), {}),
    ("adam_betas_eps_wd", "Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     {}),
    ("adam_amsgrad", "Adam", dict(lr=0.05, amsgrad=True), {}),
    ("adam_amsgrad_wd_maximize", "Adam",
     dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True), {}),
    ("adam_lr_change_skip", "Adam", dict(lr=0.05), dict(lr_halved_at=11, skip_every=3)),
    ("adamw_default", "AdamW", dict(), {}),
    ("adamw_wd_amsgrad_betas", "AdamW",
     dict(lr=0.02, betas=(0.85, 0.995), weight_decay=0.1, amsgrad=True), {}),
    ("adamw_groups_maximize", "AdamW", dict(lr=0.01, weight_decay=0.2, maximize=True),
     dict(bias_lr=0.03)),
]

# The C options each optimizer has, in the order of golden_optim_case.
HYPER = ["lr", "momentum", "dampening", "weight_decay", "lr_decay",
         "initial_accumulator_value", "eps", "alpha", "beta1", "beta2"]
FLAGS = ["nesterov", "maximize", "centered", "amsgrad"]
STATE_KEYS = {
    "SGD": ["momentum_buffer"],
    "Adagrad": ["sum"],
    "RMSprop": ["square_avg", "momentum_buffer", "grad_avg"],
    "Adam": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
    "AdamW": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
}


def problem(dtype):
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(8, 2, generator=g, dtype=torch.float64)
    y = torch.randn(8, 1, generator=g, dtype=torch.float64)
    init = [torch.randn(s, generator=g, dtype=torch.float64) * 0.7 for s in SHAPES]
    return x.to(dtype), y.to(dtype), [p.to(dtype) for p in init]


def loss_of(params, x, y):
    w1, b1, w2, b2 = params
    return ((torch.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()


def run(opt_name, kwargs, extras, dtype):
    x, y, init = problem(dtype)
    params = [p.clone().requires_grad_() for p in init]
    cls = getattr(torch.optim, opt_name)
    if "bias_lr" in extras:
        weights = [params[i] for i in range(4) if i not in BIASES]
        biases = [params[i] for i in BIASES]
        groups = [{"params": weights},
                  {"params": biases, "lr": extras["bias_lr"], "weight_decay": 0.0}]
        opt = cls(groups, foreach=False, **kwargs)
    else:
        opt = cls(params, foreach=False, **kwargs)
    hyper = dict(opt.defaults)
    hyper["beta1"], hyper["beta2"] = hyper.get("betas", (0.0, 0.0))
    grads, after, states, used = [], [], [], None
    for step in range(1, STEPS + 1):
        if step == extras.get("lr_halved_at"):
            for group in opt.param_groups:
                group["lr"] *= 0.5
        opt.zero_grad(set_to_none=True)
        loss_of(params, x, y).backward()
        skip = extras.get("skip_every") and step % extras["skip_every"] == 0
        if skip:
            params[SKIP_PARAM].grad = None
        grads.append(flat_all(p.grad if p.grad is not None else torch.zeros_like(p)
                              for p in params))
        opt.step()
        after.append(flat_all(params))
        keys = [k for k in STATE_KEYS[opt_name]
                if isinstance(opt.state[params[0]].get(k), torch.Tensor)]
        assert used is None or used == keys
        used = keys
        states.append([v for k in keys for v in flat_all(opt.state[p][k] for p in params)])
    return hyper, flat_all(init), grads, after, states, used


out = []
out.append("enum { GOLDEN_OPTIM_STEPS = %d, GOLDEN_OPTIM_NUMEL = %d, GOLDEN_OPTIM_SKIP_PARAM = %d };"
           % (STEPS, NUMEL, SKIP_PARAM))
out.append("/* The MLP's parameters W1, b1, W2, b2, flattened in this order; the biases "
           "are 1 and 3. */")
out.append("static const int64_t golden_optim_shapes[4][2] = {%s};" % ", ".join(
    padded(s, 2) for s in SHAPES))
out.append("static const int golden_optim_ndims[4] = {%s};" % ", ".join(str(len(s)) for s in SHAPES))
out.append("typedef struct golden_optim_case {\n"
           "    const char *name, *optimizer;\n    int f64;\n"
           "    double " + ", ".join(HYPER) + ";\n"
           "    int " + ", ".join(FLAGS) + ";\n"
           "    double bias_lr; /* > 0: biases in a second group, this lr, no weight decay */\n"
           "    int lr_halved_at; /* every group's lr halved before this step (0: never) */\n"
           "    int skip_every; /* the skip param has no grad on the steps it divides */\n"
           "    int n_states;\n    const char *state_names[3];\n"
           "    const double *init;   /* NUMEL */\n"
           "    const double *grads;  /* STEPS x NUMEL, zero where there is no grad */\n"
           "    const double *params; /* STEPS x NUMEL, after each step */\n"
           "    const double *states; /* STEPS x n_states x NUMEL, after each step */\n"
           "} golden_optim_case;")
entries = []
for name, opt_name, kwargs, extras in CASES:
    for dtype in (torch.float32, torch.float64):
        f64 = dtype == torch.float64
        tag = "%s_%s" % (name, "f64" if f64 else "f32")
        hyper, init, grads, after, states, keys = run(opt_name, kwargs, extras, dtype)
        out.append("static const double %s_init[] = %s;" % (tag, doubles(init, f32=not f64)))
        for what, rows in (("grads", grads), ("params", after), ("states", states)):
            out.append("static const double %s_%s[] = %s;"
                       % (tag, what, doubles(sum(rows, []), f32=not f64)))
        values = ", ".join(repr(float(hyper.get(h, 0.0))) for h in HYPER)
        flags = ", ".join(str(int(bool(hyper.get(f, False)))) for f in FLAGS)
        names = ", ".join('"%s"' % k for k in keys) or "NULL"
        entries.append(
            '    {"%s", "%s", %d, %s, %s, %r, %d, %d, %d, {%s}, %s_init, %s_grads, %s_params, %s_states},'
            % (tag, opt_name, f64, values, flags, float(extras.get("bias_lr", 0.0)),
               extras.get("lr_halved_at", 0), extras.get("skip_every", 0), len(keys), names,
               tag, tag, tag, tag))
out.append("static const golden_optim_case golden_optim_cases[] = {")
out.extend(entries)
out.append("};")

# PyTorch's defaults, to check tg_*_defaults() against (SGD's lr is required).
out.append("typedef struct golden_optim_defaults { const char *optimizer; double "
           + ", ".join(HYPER) + "; int " + ", ".join(FLAGS) + "; } golden_optim_defaults;")
out.append("static const golden_optim_defaults golden_optim_default_values[] = {")
for opt_name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW"):
    p = torch.zeros(1, requires_grad=True)
    hyper = dict(getattr(torch.optim, opt_name)([p], **({"lr": 0.0} if opt_name == "SGD" else {}))
                 .defaults)
    hyper["beta1"], hyper["beta2"] = hyper.get("betas", (0.0, 0.0))
    out.append('    {"%s", %s, %s},' % (
        opt_name, ", ".join(repr(float(hyper.get(h, 0.0))) for h in HYPER),
        ", ".join(str(int(bool(hyper.get(f, False)))) for f in FLAGS)))
out.append("};")

path = write_header("golden_optim.h", "make_golden_optim.py", ["stddef.h", "stdint.h"], out)
print("wrote", path)
