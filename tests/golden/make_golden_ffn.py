#!/usr/bin/python3
"""Builds each FeedForward variant in PyTorch and records it for the C tests.

    /usr/bin/python3 tests/golden/make_golden_ffn.py

For every kind and dtype it writes two safetensors files under
tests/golden/ffn/ (committed; the tests never run Python):
  <kind>_<dtype>.safetensors     the module's weights, under PyTorch's
                                 state_dict names (loaded strictly by C)
  <kind>_<dtype>_io.safetensors  a batch x, a target, the output y, the MSE
                                 loss and every parameter's gradient
(safetensors_io.py writes the format by hand: Debian has no
python3-safetensors.)
"""
import os
from functools import partial

import torch
import torch.nn.functional as F

from ffn_models import Classic, Gated
from golden_common import OUT as GOLDEN_OUT
from safetensors_io import save_safetensors

OUT = os.path.join(GOLDEN_OUT, "ffn")
DIM, HIDDEN, MULTIPLE_OF, BATCH = 16, 64, 8, 5
classic = partial(Classic, DIM, HIDDEN)
gated = partial(Gated, DIM, HIDDEN, MULTIPLE_OF)

KINDS = {
    "relu": (classic, F.relu),
    "gelu": (classic, F.gelu),
    "gelu_tanh": (classic, lambda x: F.gelu(x, approximate="tanh")),
    "silu": (classic, F.silu),
    "glu": (gated, torch.sigmoid),
    "geglu": (gated, F.gelu),
    "swiglu": (gated, F.silu),
    "reglu": (gated, F.relu),
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
