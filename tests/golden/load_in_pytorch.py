#!/usr/bin/python3
"""Loads a network trained by tapegrad into PyTorch and scores it there.

    ./build/examples/train_ffn --save out/swiglu.safetensors
    /usr/bin/python3 tests/golden/load_in_pytorch.py out/swiglu.safetensors

The network is examples/train_ffn.c's: Linear(2, 32), a residual SwiGLU
FeedForward (hidden 128, multiple_of 16), Linear(32, 2), with tapegrad's
parameter names ("0.weight", "1.fn.w1.weight", ...) as state_dict keys,
loaded strictly. The test points are made as train_ffn makes them: the
noise comes from torch.randn on a generator seeded 7, which draws exactly
what tapegrad's tg_randn draws. The accuracy printed should be the one
train_ffn printed.
"""
import math
import sys

import torch
import torch.nn.functional as F

from ffn_models import Gated
from safetensors_io import load_safetensors

POINTS, DIM, HIDDEN, MULTIPLE_OF = 256, 32, 128, 16


class Residual(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


def spirals(gen):
    noise = torch.randn(2 * POINTS, 2, dtype=torch.float64, generator=gen)
    xy, labels = torch.empty_like(noise), []
    for i in range(2 * POINTS):
        label = i % 2
        t = 0.5 + 3.5 * (i // 2) / POINTS
        angle = 3.0 * t + label * math.pi
        xy[i, 0] = t * math.cos(angle) / 4 + 0.05 * noise[i, 0]
        xy[i, 1] = t * math.sin(angle) / 4 + 0.05 * noise[i, 1]
        labels.append(label)
    return xy.float(), torch.tensor(labels)


def main(path):
    net = torch.nn.Sequential(torch.nn.Linear(2, DIM),
                              Residual(Gated(DIM, HIDDEN, MULTIPLE_OF, F.silu, torch.float32)),
                              torch.nn.Linear(DIM, 2))
    net.load_state_dict(load_safetensors(path), strict=True)
    net.eval()
    gen = torch.Generator().manual_seed(7)
    train_x, train_y = spirals(gen)
    test_x, test_y = spirals(gen)
    with torch.no_grad():
        loss = F.cross_entropy(net(train_x), train_y).item()
        accuracy = (net(test_x).argmax(1) == test_y).float().mean().item()
    print(f"PyTorch, with tapegrad's weights: training loss {loss:.4f}, "
          f"test accuracy {100 * accuracy:.1f}%")


if __name__ == "__main__":
    main(sys.argv[1])
