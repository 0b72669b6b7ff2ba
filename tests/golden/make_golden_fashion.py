#!/usr/bin/python3
"""Trains the parity model on the committed slice of Fashion-MNIST in
PyTorch and records the run for tests/test_fashion.c.

The model is the demo's shape, smaller: Linear(784, 16), a residual
SwiGLU FeedForward (dim 16, hidden 64, multiple_of 8: 48 hidden units),
Linear(16, 10); images as float / 255; AdamW (lr 1e-3, weight decay
0.01) on cross-entropy; batches of 24 from DataLoader(shuffle=True) with
a generator seeded 2; 300 steps (14 epochs, a short last batch in each).

For float32 and float64 it writes under tests/golden/fashion/
init_<dtype>.safetensors, the initial weights under their state_dict names
(tg_module_load reads it strictly), and run_<dtype>.safetensors, "losses"
(one per step) and the final weights as "final.<name>".
"""
import gzip
import os
import struct

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ffn_models import Gated
from golden_common import HERE, OUT
from safetensors_io import save_safetensors

STEPS, BATCH, DIM, HIDDEN, MULTIPLE_OF = 300, 24, 16, 64, 8


def read_idx(name):
    with gzip.open(os.path.join(HERE, "fashion", name)) as f:
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


os.makedirs(os.path.join(OUT, "fashion"), exist_ok=True)
images = read_idx("train-images-512-idx3-ubyte.gz").reshape(-1, 784)
labels = read_idx("train-labels-512-idx1-ubyte.gz").to(torch.int64)
for dtype, tag in [(torch.float32, "f32"), (torch.float64, "f64")]:
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(784, DIM, dtype=dtype),
                                Residual(Gated(DIM, HIDDEN, MULTIPLE_OF, F.silu, dtype)),
                                torch.nn.Linear(DIM, 10, dtype=dtype))
    save_safetensors(os.path.join(OUT, "fashion", f"init_{tag}.safetensors"),
                     dict(model.state_dict()))
    record = {}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    g = torch.Generator()
    g.manual_seed(2)
    loader = DataLoader(TensorDataset(images.to(dtype) / 255, labels), batch_size=BATCH,
                        shuffle=True, generator=g)
    losses = []
    while len(losses) < STEPS:
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if len(losses) == STEPS:
                break
    record["losses"] = torch.tensor(losses, dtype=torch.float64)
    record.update({"final." + k: v for k, v in model.state_dict().items()})
    save_safetensors(os.path.join(OUT, "fashion", f"run_{tag}.safetensors"), record)
