#!/usr/bin/python3
"""Trains the pre-norm residual FeedForward stack of examples/prenorm_block.h
in PyTorch and records the run for tests/test_prenorm.c.

The stack: embed = Linear(12, 16, bias=False); 3 blocks x + FeedForward(
RMSNorm(x)) (SwiGLU, hidden 64, multiple_of 8: 48 hidden units; eps 1e-6);
a last RMSNorm; output = Linear(16, 6, bias=False). MSE against a fixed
target, AdamW (lr 1e-2, weight decay 0.01), 20 steps. LLaMA's RMSNorm
computes in float32 (x.float()); the twin here computes in the input's
dtype, so the float64 run stays float64 as tapegrad's does.

For float32 and float64 it writes under tests/golden/prenorm/
init_<dtype>.safetensors (the initial weights, which tg_module_load reads
strictly: the names are the C modules' too) and run_<dtype>.safetensors
("x", "target", "losses" and the final weights as "final.<name>").
"""
import os

import torch
import torch.nn.functional as F

from ffn_models import Gated
from golden_common import OUT
from safetensors_io import save_safetensors

IN, OUT_DIM, DIM, HIDDEN, MULTIPLE_OF, LAYERS, EPS, BATCH, STEPS = 12, 6, 16, 64, 8, 3, 1e-6, 32, 20


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, dtype):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim, dtype=dtype))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


class PreNormBlock(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.attention_norm = RMSNorm(DIM, dtype)
        self.feed_forward = Gated(DIM, HIDDEN, MULTIPLE_OF, F.silu, dtype)

    def forward(self, x):
        return x + self.feed_forward(self.attention_norm(x))


class PreNormStack(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.embed = torch.nn.Linear(IN, DIM, bias=False, dtype=dtype)
        self.layers = torch.nn.ModuleList([PreNormBlock(dtype) for _ in range(LAYERS)])
        self.norm = RMSNorm(DIM, dtype)
        self.output = torch.nn.Linear(DIM, OUT_DIM, bias=False, dtype=dtype)

    def forward(self, x):
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.output(self.norm(h))


os.makedirs(os.path.join(OUT, "prenorm"), exist_ok=True)
for seed, (dtype, tag) in enumerate([(torch.float32, "f32"), (torch.float64, "f64")]):
    torch.manual_seed(seed)
    model = PreNormStack(dtype)
    save_safetensors(os.path.join(OUT, "prenorm", f"init_{tag}.safetensors"),
                     dict(model.state_dict()))
    x = torch.randn(BATCH, IN, dtype=dtype)
    target = torch.randn(BATCH, OUT_DIM, dtype=dtype)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    losses = []
    for _ in range(STEPS):
        loss = F.mse_loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    record = {"x": x, "target": target, "losses": torch.tensor(losses, dtype=torch.float64)}
    record.update({"final." + k: v for k, v in model.state_dict().items()})
    save_safetensors(os.path.join(OUT, "prenorm", f"run_{tag}.safetensors"), record)
