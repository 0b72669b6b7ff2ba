#!/usr/bin/python3
"""tests/bench/torch_ffn.py - bench_ffn's training step in PyTorch.

    torch_ffn.py [--threads N] [--budget SECONDS] [--csv] [WORKLOAD...]

The same four workloads, model and step as bench_ffn.c: LLaMA's FeedForward
w2(silu(w1 x) * w3 x) without biases, MSE loss, backward, AdamW (defaults),
zero_grad (1.13's default: zero the grads, keep the tensors); x requires
grad. Timing as bench_ffn: warm-up for a quarter of the budget (at least 3
steps), then every step timed for the budget (at least 5); median and min.
Each workload runs in a fresh interpreter, so that its peak memory is its
own. Uses Debian's python3-torch (1.13): run with /usr/bin/python3.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

WORKLOADS = {  # name: (batch, dim, hidden, multiple_of)
    "tiny": (32, 16, 64, 8),
    "small": (64, 128, 256, 16),
    "medium": (256, 512, 2048, 64),
    "large": (512, 1024, 4096, 256),
}


def hidden_dim(hidden, multiple_of):
    """LLaMA's rounding of the hidden size."""
    hidden = int(2 * hidden / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


# As bench_common.h: BENCH_CLOCK=cpu times the process's CPU time, not the
# wall clock (for one thread, on a machine shared with other jobs).
now = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter


def time_runs(fn, budget):
    start = now()
    runs = 0
    while runs < 3 or now() - start < budget / 4:
        fn()
        runs += 1
    samples = []
    start = now()
    while len(samples) < 5 or now() - start < budget:
        t0 = now()
        fn()
        samples.append(now() - t0)
    return statistics.median(samples), min(samples), len(samples)


def run_one(name, threads, budget):
    """One workload in this process; returns its numbers as a dict."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    batch, dim, hidden, multiple_of = WORKLOADS[name]
    hidden = hidden_dim(hidden, multiple_of)

    class FeedForward(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = torch.nn.Linear(dim, hidden, bias=False)
            self.w2 = torch.nn.Linear(hidden, dim, bias=False)
            self.w3 = torch.nn.Linear(dim, hidden, bias=False)

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    base = resident_bytes()
    torch.manual_seed(1)
    model = FeedForward()
    x = torch.randn(batch, dim, requires_grad=True)
    target = torch.randn(batch, dim)
    opt = torch.optim.AdamW(model.parameters())

    def step():
        loss = F.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        opt.zero_grad()

    median, fastest, steps = time_runs(step, budget)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"workload": name, "threads": torch.get_num_threads(), "batch": batch, "dim": dim,
            "hidden": hidden, "steps": steps, "median_ms": 1e3 * median, "min_ms": 1e3 * fastest,
            "gflops": 18 * batch * dim * hidden / median * 1e-9,
            "peak_mib": (peak - base) / 2**20}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=2.0)
    parser.add_argument("--csv", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child's workload
    parser.add_argument("workloads", nargs="*", help=" ".join(WORKLOADS) + " (default: all)")
    args = parser.parse_args()
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error("unknown workload(s): " + " ".join(sorted(unknown)))
    if args.one:
        print(json.dumps(run_one(args.one, args.threads, args.budget)))
        return
    keys = ["workload", "threads", "batch", "dim", "hidden", "steps", "median_ms", "min_ms",
            "gflops", "peak_mib"]
    print(",".join(keys) if args.csv else
          "%-7s %3s %5s %5s %6s %6s %10s %9s %8s %9s" % tuple(
              ["work", "thr", "B", "dim", "hidden", "steps", "median ms", "min ms", "GFLOP/s",
               "peak MiB"]))
    for name in args.workloads or WORKLOADS:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--threads",
                              str(args.threads), "--budget", str(args.budget)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        if args.csv:
            print(",".join(str(r[k]) for k in keys))
        else:
            print("%-7s %3d %5d %5d %6d %6d %10.4f %9.4f %8.2f %9.1f" % tuple(r[k] for k in keys))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
