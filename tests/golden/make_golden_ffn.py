#!/usr/bin/python3
"""Builds each FeedForward variant in PyTorch and records it for the C tests.

    /usr/bin/python3 tests/golden/make_golden_ffn.py

For every kind and dtype it writes two safetensors files under
tests/golden/ffn/ (committed; the tests never run Python):
  <kind>_<dtype>.safetensors     the module's weights, under PyTorch's
                                 state_dict names (loaded strictly by C)
  <kind>_<dtype>_io.safetensors  a batch x, a target, the output y, the MSE
                                 loss and every parameter's gradient
Debian has no python3-safetensors, so the format is written here by hand
(8-byte little-endian header length, JSON header padded to 8 bytes, data).
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

from golden_common import HERE

OUT = os.path.join(HERE, "ffn")
DIM, HIDDEN, MULTIPLE_OF, BATCH = 16, 64, 8, 5


def save_safetensors(path, tensors):
    header, blobs, at = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().tobytes()
        dtype = {torch.float32: "F32", torch.float64: "F64"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def llama_hidden(hidden, multiple_of):
    hidden = int(2 * hidden / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


class Classic(torch.nn.Module):
    """ACT(x W1 + b1) W2 + b2."""

    def __init__(self, act, dtype):
        super().__init__()
        self.w1 = torch.nn.Linear(DIM, HIDDEN, dtype=dtype)
        self.w2 = torch.nn.Linear(HIDDEN, DIM, dtype=dtype)
        self.act = act

    def forward(self, x):
        return self.w2(self.act(self.w1(x)))


class Gated(torch.nn.Module):
    """LLaMA's FeedForward: w2(ACT(w1 x) * w3 x), no biases, dropout after."""

    def __init__(self, act, dtype):
        super().__init__()
        hidden = llama_hidden(HIDDEN, MULTIPLE_OF)
        self.w1 = torch.nn.Linear(DIM, hidden, bias=False, dtype=dtype)
        self.w2 = torch.nn.Linear(hidden, DIM, bias=False, dtype=dtype)
        self.w3 = torch.nn.Linear(DIM, hidden, bias=False, dtype=dtype)
        self.dropout = torch.nn.Dropout(0.0)
        self.act = act

    def forward(self, x):
        return self.dropout(self.w2(self.act(self.w1(x)) * self.w3(x)))


KINDS = {
    "relu": (Classic, F.relu),
    "gelu": (Classic, F.gelu),
    "gelu_tanh": (Classic, lambda x: F.gelu(x, approximate="tanh")),
    "silu": (Classic, F.silu),
    "glu": (Gated, torch.sigmoid),
    "geglu": (Gated, F.gelu),
    "swiglu": (Gated, F.silu),
    "reglu": (Gated, F.relu),
}

os.makedirs(OUT, exist_ok=True)
for seed, (kind, (cls, act)) in enumerate(KINDS.items()):
    for dtype, tag in [(torch.float32, "f32"), (torch.float64, "f64")]:
        torch.manual_seed(seed)
        model = cls(act, dtype)
        x = torch.randn(BATCH, DIM, dtype=dtype)
        target = torch.randn(BATCH, DIM, dtype=dtype)
        y = model(x)
        loss = F.mse_loss(y, target)
        loss.backward()
        save_safetensors(os.path.join(OUT, f"{kind}_{tag}.safetensors"), dict(model.state_dict()))
        io = {"x": x, "target": target, "y": y, "loss": loss}
        io.update({"grad." + name: p.grad for name, p in model.named_parameters()})
        save_safetensors(os.path.join(OUT, f"{kind}_{tag}_io.safetensors"), io)
print("wrote", OUT)
