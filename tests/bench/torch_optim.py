#!/usr/bin/python3
"""tests/bench/torch_optim.py - bench_optim's optimizer steps in PyTorch.

    torch_optim.py [--threads N] [--budget SECONDS] [--n PARAMETERS] [--csv]

The same rules and options as bench_optim.c, on one float32 parameter of n
elements (4M by default) whose gradient is set once; each run is one
optimizer.step() (PyTorch 1.13's defaults: the single-tensor loops on CPU).
Timing as bench_optim: warm-up for a quarter of the budget (at least 3
runs), then every run timed for the budget (at least 5); the median. Uses
Debian's python3-torch (1.13): run with /usr/bin/python3.
"""
import argparse

import torch

from torch_ffn import time_runs

RULES = {  # name: (state tensors per parameter, maker)
    "sgd": (0, lambda p: torch.optim.SGD(p, lr=0.01)),
    "sgd-momentum": (1, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=0.01)),
    "adagrad": (1, lambda p: torch.optim.Adagrad(p)),
    "rmsprop-momentum": (2, lambda p: torch.optim.RMSprop(p, momentum=0.9)),
    "adam": (2, lambda p: torch.optim.Adam(p)),
    "adamw": (2, lambda p: torch.optim.AdamW(p)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--n", type=int, default=1 << 22)
    ap.add_argument("--csv", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    p = torch.randn(args.n, requires_grad=True)
    (p * p).sum().backward()
    if args.csv:
        print("rule,threads,n,median_ms,ns_per_param,gb_per_s")
    else:
        print(f"float32, {args.n} parameters, {args.threads} thread(s)")
        print(f"{'rule':<17} {'median ms':>10} {'ns / param':>12} {'GB/s':>8}")
    for name, (states, make) in RULES.items():
        opt = make([p])
        with torch.no_grad():
            t = time_runs(opt.step, args.budget)[0]  # the median
        gb_s = args.n * 4 * (3 + 2 * states) / t * 1e-9
        if args.csv:
            print(f"{name},{args.threads},{args.n},{t * 1e3:.4f},{t * 1e9 / args.n:.4f},{gb_s:.2f}")
        else:
            print(f"{name:<17} {t * 1e3:10.3f} {t * 1e9 / args.n:12.3f} {gb_s:8.1f}")


if __name__ == "__main__":
    main()
