#!/usr/bin/python3
"""tests/bench/torch_fashion.py - bench_fashion's epoch in PyTorch.

    torch_fashion.py [--threads N] [--data DIR] [--epochs N] [--csv]

The same model (Linear(784, 256), residual SwiGLU FeedForward with 704
hidden units, Linear(256, 10)), AdamW with its defaults but weight decay
0.01 (torch.optim.AdamW's default), cross-entropy, and batches of 64 from
DataLoader(TensorDataset(x, y), shuffle=True, generator=g): one epoch
timed, peak resident memory (VmHWM) in all and above what the process held
once the data was loaded. Debian's python3-torch (1.13): /usr/bin/python3.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from ffn_models import Gated  # noqa: E402


def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return -1


def read_idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


class Residual(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--csv", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz")).reshape(-1, 784).float() / 255
    y = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz")).to(torch.int64)
    loaded = status_mib("VmRSS")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), Residual(Gated(256, 1024, 64, F.silu,
                                                                          torch.float32)),
                                torch.nn.Linear(256, 10))
    opt = torch.optim.AdamW(model.parameters(), weight_decay=0.01)
    g = torch.Generator()
    g.manual_seed(0)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=g)
    if a.csv:
        print("threads,epoch_s,peak_mib,peak_over_data_mib,last_loss")
    for e in range(a.epochs):
        start = time.perf_counter()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        t = time.perf_counter() - start
        peak = status_mib("VmHWM")
        if a.csv:
            print(f"{a.threads},{t:.3f},{peak:.1f},{peak - loaded:.1f},{loss.item():.4f}")
        else:
            print(f"epoch {e + 1}: {t:.2f} s at {a.threads} threads; peak {peak:.0f} MiB "
                  f"({peak - loaded:.0f} above the loaded data); last loss {loss.item():.4f}")


main()
