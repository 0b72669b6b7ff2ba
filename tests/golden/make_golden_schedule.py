#!/usr/bin/python3
"""Writes the learning-rate trajectories of torch.optim.lr_scheduler that
tests/test_schedule.c matches bit for bit.

Run with Debian's python3 and its python3-torch:
    /usr/bin/python3 tests/golden/make_golden_schedule.py
The output, tests/golden/golden_schedule.h, is committed: the tests never
run Python.

Each case drives one scheduler (or a SequentialLR or ChainedScheduler of
several) over an optimizer of three parameter groups with their own lrs,
for 300 steps, and records every group's lr after construction and after
each step, and the momentum (SGD's momentum, Adam's beta1) where
OneCycleLR cycles it. It then runs the case again, saving the optimizer's
and the scheduler's state_dict() after step 150, loading both into a new
optimizer and scheduler made the same way, and stepping on: the script
checks that this gives the same numbers, which the C test then expects of
tg_lr_scheduler_save and tg_lr_scheduler_load. ReduceLROnPlateau steps
with the metrics written in the header.

The lambdas of LambdaLR are numbered; tests/test_schedule.c computes the
same formulas (lambda_value there).
"""
import copy
import math
import random
import warnings

import torch
from torch.optim import lr_scheduler as S

from golden_common import c_double, doubles, write_header

warnings.simplefilter("ignore")  # torch's warnings about the epoch argument
STEPS = 300
SAVE_AT = 150
BASE_LRS = (0.1, 0.02, 0.5)
MOMENTA = (0.9, 0.8, 0.5)


def lambda_value(k, epoch):
    """LambdaLR's factor number k at an epoch (test_schedule.c has the same)."""
    if k == 0:
        return 0.95 ** epoch
    if k == 1:
        return 1.0 / (1.0 + 0.05 * epoch)
    if k == 2:
        return (epoch % 10 + 1) / 10.0
    # k == 3: linear warmup over 20 steps, then a cosine down to 0.1 at 250
    if epoch < 20:
        return epoch / 20
    progress = min(1.0, (epoch - 20) / (250 - 20))
    return 0.1 + (1 - 0.1) * 0.5 * (1.0 + math.cos(math.pi * progress))


def lam(k):
    return lambda epoch: lambda_value(k, epoch)


rnd = random.Random(7)
METRICS = []
for t in range(STEPS):  # a loss that falls, with noise and long plateaus
    METRICS.append(round(1.0 / (1.0 + 0.02 * min(t, 60 + t // 4)) + rnd.gauss(0, 0.01), 6))

# name -> (optimizer, what to write for C, how to make the scheduler on opt).
# Each "spec" is a tuple the C test reads: (kind, ints..., doubles...).
CASES = []


def case(name, make, spec, optimizer="SGD"):
    CASES.append((name, optimizer, make, spec))


case("step_7_half", lambda o: S.StepLR(o, 7, 0.5), [("StepLR", [7], [0.5])])
case("step_1_0.99", lambda o: S.StepLR(o, 1, 0.99), [("StepLR", [1], [0.99])])
case("multistep_duplicate", lambda o: S.MultiStepLR(o, [30, 80, 80, 150, 220], 0.3),
     [("MultiStepLR", [30, 80, 80, 150, 220], [0.3])])
case("multistep_at_0", lambda o: S.MultiStepLR(o, [0, 5], 0.5),
     [("MultiStepLR", [0, 5], [0.5])])
case("exponential_0.98", lambda o: S.ExponentialLR(o, 0.98), [("ExponentialLR", [], [0.98])])
case("constant_defaults", lambda o: S.ConstantLR(o), [("ConstantLR", [5], [1.0 / 3])])
case("constant_quarter_100", lambda o: S.ConstantLR(o, 0.25, 100),
     [("ConstantLR", [100], [0.25])])
case("linear_defaults", lambda o: S.LinearLR(o), [("LinearLR", [5], [1.0 / 3, 1.0])])
case("linear_decay_200", lambda o: S.LinearLR(o, 1.0, 0.05, 200),
     [("LinearLR", [200], [1.0, 0.05])])
case("cosine_50_floor", lambda o: S.CosineAnnealingLR(o, 50, 0.001),
     [("CosineAnnealingLR", [50], [0.001])])
case("warmup_cosine_20_250", lambda o: S.LambdaLR(o, lam(3)),
     [("WarmupCosine", [20, 250], [0.1])])
case("lambda_per_group", lambda o: S.LambdaLR(o, [lam(0), lam(1), lam(2)]),
     [("LambdaLR", [0, 1, 2], [])])
case("lambda_one", lambda o: S.LambdaLR(o, lam(1)), [("LambdaLR", [1, 1, 1], [])])
case("one_cycle_cos", lambda o: S.OneCycleLR(o, [1.0, 0.2, 0.05], STEPS),
     [("OneCycleLR", [STEPS, 0, 1, 0], [1.0, 0.2, 0.05, 0.3, 0.85, 0.95, 25.0, 1e4])])
case("one_cycle_linear_three_phase",
     lambda o: S.OneCycleLR(o, 0.5, STEPS, pct_start=0.25, anneal_strategy="linear",
                            div_factor=10.0, final_div_factor=100.0, three_phase=True),
     [("OneCycleLR", [STEPS, 1, 1, 1], [0.5, 0.5, 0.5, 0.25, 0.85, 0.95, 10.0, 100.0])])
case("one_cycle_adam_betas",
     lambda o: S.OneCycleLR(o, 0.01, STEPS, pct_start=0.4, base_momentum=0.8,
                            max_momentum=0.9),
     [("OneCycleLR", [STEPS, 0, 1, 0], [0.01, 0.01, 0.01, 0.4, 0.8, 0.9, 25.0, 1e4])],
     optimizer="Adam")
case("one_cycle_no_momentum",
     lambda o: S.OneCycleLR(o, 0.3, STEPS + 20, cycle_momentum=False),
     [("OneCycleLR", [STEPS + 20, 0, 0, 0], [0.3, 0.3, 0.3, 0.3, 0.85, 0.95, 25.0, 1e4])],
     optimizer="Adagrad")
case("warm_restarts_10_x2", lambda o: S.CosineAnnealingWarmRestarts(o, 10, 2, 1e-4),
     [("CosineAnnealingWarmRestarts", [10, 2], [1e-4])])
case("warm_restarts_7", lambda o: S.CosineAnnealingWarmRestarts(o, 7),
     [("CosineAnnealingWarmRestarts", [7, 1], [0.0])])
case("plateau_min_rel",
     lambda o: S.ReduceLROnPlateau(o, "min", 0.5, 5, 1e-2, "rel", 3, [1e-3, 1e-4, 0.0], 1e-8),
     [("ReduceLROnPlateau", [0, 5, 0, 3], [0.5, 1e-2, 1e-8, 1e-3, 1e-4, 0.0])])
case("plateau_max_abs",
     lambda o: S.ReduceLROnPlateau(o, "max", 0.3, 3, 0.05, "abs", 0, 0.001),
     [("ReduceLROnPlateau", [1, 3, 1, 0], [0.3, 0.05, 1e-8, 0.001, 0.001, 0.001])])


def sequential_warmup_cosine_exp(o):
    return S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 10), S.CosineAnnealingLR(o, 100, 0.001),
                              S.ExponentialLR(o, 0.99)], [10, 150])


case("sequential_linear_cosine_exponential", sequential_warmup_cosine_exp,
     [("SequentialLR", [10, 150], []), ("LinearLR", [10], [0.1, 1.0]),
      ("CosineAnnealingLR", [100], [0.001]), ("ExponentialLR", [], [0.99])])
case("sequential_constant_exponential",
     lambda o: S.SequentialLR(o, [S.ConstantLR(o, 0.1, 20), S.ExponentialLR(o, 0.97)], [20]),
     [("SequentialLR", [20], []), ("ConstantLR", [20], [0.1]), ("ExponentialLR", [], [0.97])])
case("sequential_restarts_onecycle",
     lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.9),
                                  S.CosineAnnealingWarmRestarts(o, 20, 2),
                                  S.OneCycleLR(o, 0.4, 100)], [40, 200]),
     [("SequentialLR", [40, 200], []), ("ExponentialLR", [], [0.9]),
      ("CosineAnnealingWarmRestarts", [20, 2], [0.0]),
      ("OneCycleLR", [100, 0, 1, 0], [0.4, 0.4, 0.4, 0.3, 0.85, 0.95, 25.0, 1e4])])
case("sequential_multistep_lambda",
     lambda o: S.SequentialLR(o, [S.MultiStepLR(o, [3, 6], 0.5), S.StepLR(o, 25, 0.7),
                                  S.LambdaLR(o, [lam(0), lam(2), lam(1)])], [12, 12]),
     [("SequentialLR", [12, 12], []), ("MultiStepLR", [3, 6], [0.5]),
      ("StepLR", [25], [0.7]), ("LambdaLR", [0, 2, 1], [])])
case("sequential_restarts_by_closed_forms",
     lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.9), S.StepLR(o, 3, 0.5),
                                  S.MultiStepLR(o, [0, 4], 0.5), S.ConstantLR(o, 0.5, 3),
                                  S.LinearLR(o, 0.2, 1.0, 5)], [10, 30, 60, 100]),
     [("SequentialLR", [10, 30, 60, 100], []), ("ExponentialLR", [], [0.9]),
      ("StepLR", [3], [0.5]), ("MultiStepLR", [0, 4], [0.5]), ("ConstantLR", [3], [0.5]),
      ("LinearLR", [5], [0.2, 1.0])])
case("chained_constant_exponential",
     lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.1, 2), S.ExponentialLR(o, 0.9)]),
     [("ChainedScheduler", [], []), ("ConstantLR", [2], [0.1]), ("ExponentialLR", [], [0.9])])
case("chained_linear_step_cosine",
     lambda o: S.ChainedScheduler([S.LinearLR(o, 0.5, 1.0, 10), S.StepLR(o, 30, 0.5),
                                   S.CosineAnnealingLR(o, 40, 0.0)]),
     [("ChainedScheduler", [], []), ("LinearLR", [10], [0.5, 1.0]), ("StepLR", [30], [0.5]),
      ("CosineAnnealingLR", [40], [0.0])])


def make_optimizer(kind):
    params = [torch.zeros(1, requires_grad=True) for _ in BASE_LRS]
    if kind == "SGD":
        groups = [{"params": [p], "lr": lr, "momentum": m}
                  for p, lr, m in zip(params, BASE_LRS, MOMENTA)]
        return torch.optim.SGD(groups, lr=BASE_LRS[0])
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)]
    return getattr(torch.optim, kind)(groups)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]


def step(sched, opt, t):
    opt.step()  # no grads: nothing moves, but PyTorch wants it before the scheduler
    if isinstance(sched, S.ReduceLROnPlateau):
        sched.step(METRICS[t])
    else:
        sched.step()


def run(optimizer, make, resume):
    opt = make_optimizer(optimizer)
    sched = make(opt)
    lrs, moms = [[g["lr"] for g in opt.param_groups]], [momenta(opt)]
    for t in range(STEPS):
        if resume and t == SAVE_AT:
            saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))
            opt = make_optimizer(optimizer)
            sched = make(opt)
            opt.load_state_dict(saved[0])
            sched.load_state_dict(saved[1])
        step(sched, opt, t)
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta(opt))
    return lrs, moms


out = ["enum { GOLDEN_SCHEDULE_STEPS = %d, GOLDEN_SCHEDULE_SAVE_AT = %d, "
       "GOLDEN_SCHEDULE_GROUPS = %d };" % (STEPS, SAVE_AT, len(BASE_LRS)),
       "static const double golden_schedule_base_lrs[] = %s;" % doubles(BASE_LRS),
       "static const double golden_schedule_momenta[] = %s; /* SGD's, per group */"
       % doubles(MOMENTA),
       "static const double golden_schedule_metrics[] = %s; /* ReduceLROnPlateau's, a step"
       " each */" % doubles(METRICS),
       "/* A scheduler: its PyTorch class (WarmupCosine is LambdaLR with lambda 3), its"
       " integer arguments and its real ones, in the order of the scheduler's C"
       " constructor (see test_schedule.c). */",
       "typedef struct golden_scheduler { const char *kind; int n_ints; int ints[6];"
       " int n_reals; double reals[8]; } golden_scheduler;",
       "typedef struct golden_schedule {\n    const char *name, *optimizer;\n"
       "    int n_schedulers; /* a SequentialLR or ChainedScheduler first, then its children */\n"
       "    golden_scheduler schedulers[6];\n"
       "    const double *lrs;     /* (STEPS + 1) x GROUPS, from construction on */\n"
       "    const double *momenta; /* the same, the momentum or beta1 OneCycleLR cycles; or NULL */\n"
       "} golden_schedule;"]
entries = []
for name, optimizer, make, spec in CASES:
    lrs, moms = run(optimizer, make, resume=False)
    assert (lrs, moms) == run(optimizer, make, resume=True), name  # PyTorch resumes exactly
    tag = "schedule_" + name.replace(".", "_")
    out.append("static const double %s_lrs[] = %s;" % (tag, doubles(sum(lrs, []))))
    cycles = len(set(sum(moms, []))) > len(BASE_LRS)  # OneCycleLR's cycling
    if cycles:
        out.append("static const double %s_momenta[] = %s;" % (tag, doubles(sum(moms, []))))
    scheds = ", ".join('{"%s", %d, {%s}, %d, {%s}}' % (
        kind, len(ints), ", ".join(map(str, ints)) or "0", len(reals),
        ", ".join(c_double(v) for v in reals) or "0") for kind, ints, reals in spec)
    entries.append('    {"%s", "%s", %d, {%s}, %s_lrs, %s},' % (
        name, optimizer, len(spec), scheds, tag, tag + "_momenta" if cycles else "NULL"))
out.append("static const golden_schedule golden_schedules[] = {")
out.extend(entries)
out.append("};")

path = write_header("golden_schedule.h", "make_golden_schedule.py", ["stddef.h"], out)
print("wrote", path)
