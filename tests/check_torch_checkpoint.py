#!/usr/bin/python3
"""Self-describing files between tapegrad and PyTorch, both ways (the meson
test "checkpoint-torch", suite scripts; exit 77, skipped, without
python3-torch):

    check_torch_checkpoint.py HELPER PYTHON_DIR

1. tapegrad saves Sequential(Linear, LayerNorm, Residual(SwiGLU
   FeedForward), RMSNorm, Linear) in float64 and float32 with an input and
   its output (HELPER save, tests/torch_checkpoint_helper.c);
   tapegrad_torch.load rebuilds each in PyTorch, which gives the same
   output (float64 to 1e-12, float32 to 1e-5, relative to max(1, |y|)),
   prints as tapegrad prints, and describes itself with the very text
   tapegrad wrote.
   A ModuleList of a module of every other type loads with the file's
   tensors, saved by tapegrad_torch.save is rebuilt by tg_module_load_new
   (HELPER describe), and both describe it with the same text, but for
   padding_idx, which PyTorch counts from the start (-1 becomes 6).
2. A model built in PyTorch (the same layers, named, and GELU, SiLU,
   PReLU, Swish, Dropout, Tanh), in both dtypes, saved by
   tapegrad_torch.save with an input and its output: HELPER check rebuilds
   it with tg_module_load_new, which gives PyTorch's output and describes
   it with the text tapegrad_torch wrote.
3. Files tapegrad_torch must refuse, with their messages.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

try:
    import torch
    from torch import nn
except ImportError:
    print("skipped: python3-torch is not installed")
    sys.exit(77)

HELPER, PYTHON_DIR = sys.argv[1], sys.argv[2]
sys.path.insert(0, PYTHON_DIR)
import tapegrad_torch  # noqa: E402

TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}
passed = failed = 0


def result(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(("ok   " if ok else "FAIL ") + what)


def difference(got, want):
    return ((got - want).abs() / want.abs().clamp(min=1)).max().item()


def from_tapegrad(folder):
    subprocess.run([HELPER, "save", folder], check=True)
    for dtype in (torch.float64, torch.float32):
        name = str(dtype).replace("torch.", "")
        path = os.path.join(folder, f"c-{name}.safetensors")
        model = tapegrad_torch.load(path)
        model.eval()
        io, _ = tapegrad_torch.read_safetensors(os.path.join(folder, f"c-{name}-io.safetensors"))
        with torch.no_grad():
            y = model(io["x"])
        d = difference(y, io["y"])
        result(y.dtype == dtype and d <= TOLERANCE[dtype],
               f"{name}: tapegrad's model loaded in PyTorch gives its output (difference {d:.2g})")
        _, metadata = tapegrad_torch.read_safetensors(path)
        text = json.dumps(tapegrad_torch.describe(model), separators=(",", ":"),
                          ensure_ascii=False)
        result(text == metadata[tapegrad_torch.METADATA_KEY],
               f"{name}: PyTorch's model describes itself with tapegrad's text")
        printed = str(model)
        result("(fn): FeedForward(\n      kind=SwiGLU, dim=16, hidden_dim=48" in printed
               and "(3): RMSNorm()" in printed, f"{name}: prints as tapegrad prints it")


def every_type(folder):
    path = os.path.join(folder, "c-every.safetensors")
    model = tapegrad_torch.load(path)
    tensors, metadata = tapegrad_torch.read_safetensors(path)
    state = model.state_dict()
    result(state.keys() == tensors.keys() and all(torch.equal(state[k], v)
                                                  for k, v in tensors.items()),
           "every type: PyTorch's model holds tapegrad's tensors")
    text = json.dumps(tapegrad_torch.describe(model), separators=(",", ":"), ensure_ascii=False)
    tapegrad = metadata[tapegrad_torch.METADATA_KEY]
    result(text == tapegrad.replace('"padding_idx":-1', '"padding_idx":6'),
           "every type: PyTorch's model describes itself with tapegrad's text")
    again = os.path.join(folder, "py-every.safetensors")
    tapegrad_torch.save(model, again)
    run = subprocess.run([HELPER, "describe", again], capture_output=True, text=True)
    result(run.returncode == 0 and run.stdout.strip() == text,
           f"every type: tg_module_load_new rebuilds it from tapegrad_torch.save's file "
           f"{run.stderr.strip()}")


def in_pytorch(dtype):
    torch.manual_seed(7 if dtype == torch.float64 else 8)
    model = nn.Sequential(collections.OrderedDict([
        ("embed", nn.Linear(6, 16, dtype=dtype)),
        ("norm", nn.LayerNorm(16, dtype=dtype)),
        ("block", tapegrad_torch.Residual(tapegrad_torch.FeedForward(
            "SwiGLU", 16, 64, multiple_of=8, dropout=0.1, dtype=dtype))),
        ("rms", tapegrad_torch.RMSNorm(16, eps=1e-6, dtype=dtype)),
        ("gelu", nn.GELU(approximate="tanh")),
        ("mlp", tapegrad_torch.Residual(tapegrad_torch.FeedForward("GELU", 16, 0, dtype=dtype))),
        ("silu", nn.SiLU()),
        ("prelu", nn.PReLU(16, 0.1, dtype=dtype)),
        ("swish", tapegrad_torch.Swish(0.75, dtype=dtype)),
        ("drop", nn.Dropout(0.2)),
        ("tanh", nn.Tanh()),
        ("head", nn.Linear(16, 3, bias=False, dtype=dtype)),
    ]))
    with torch.no_grad():  # away from the initial values
        for p in model.parameters():
            p.add_(torch.rand_like(p), alpha=0.25)
    return model


def to_tapegrad(folder):
    for dtype in (torch.float64, torch.float32):
        name = str(dtype).replace("torch.", "")
        model = in_pytorch(dtype).eval()
        x = torch.randn(5, 6, dtype=dtype)
        with torch.no_grad():
            y = model(x)
        path = os.path.join(folder, f"py-{name}.safetensors")
        io = os.path.join(folder, f"py-{name}-io.safetensors")
        tapegrad_torch.save(model, path)
        tapegrad_torch.write_safetensors(io, {"x": x, "y": y})
        run = subprocess.run([HELPER, "check", path, io, str(TOLERANCE[dtype])],
                             capture_output=True, text=True)
        lines = run.stdout.splitlines()
        result(run.returncode == 0,
               f"{name}: PyTorch's model rebuilt by tg_module_load_new gives its output "
               f"(difference {lines[1] if len(lines) > 1 else '?'}) {run.stderr.strip()}")
        _, metadata = tapegrad_torch.read_safetensors(path)
        result(bool(lines) and lines[0] == metadata[tapegrad_torch.METADATA_KEY],
               f"{name}: tapegrad describes it with tapegrad_torch's text")
        again = tapegrad_torch.load(path)
        tensors, _ = tapegrad_torch.read_safetensors(path)
        result(all(torch.equal(again.state_dict()[k], v) for k, v in tensors.items()),
               f"{name}: tapegrad_torch.load reads back what tapegrad_torch.save wrote")


def refused(folder):
    linear = ('{"type":"Linear","args":{"in_features":%s,"out_features":8,"bias":true,'
              '"dtype":"float64"}}')
    w, b = torch.zeros(8, 4, dtype=torch.float64), torch.zeros(8, dtype=torch.float64)
    cases = [
        (linear % "4", {"weight": w}, "the file has no tensor 'bias'"),
        (linear % "4", {"weight": w, "bias": b, "extra": b}, "holds a tensor 'extra'"),
        (linear % "1000000000000", {"weight": w, "bias": b},
         "the described module has torch.float64 (8, 1000000000000)"),
        (linear % "-4", {}, "'in_features' must be an integer of at least 1, not -4"),
        ('{"type":"Block"}', {}, "unknown module type 'Block'"),
        ('{"type":"ReLU"}', {}, "saved without its arguments"),
        ('{"type":"Dropout","args":{"p":0.1,"p":0.2}}', {}, "the key 'p' twice"),
        ('{"type":"Sequential","args":{},"children":[["a",{"type":"ReLU","args":{}}],'
         '["a",{"type":"ReLU","args":{}}]]}', {}, "two children are named 'a'"),
        ('{"type":"Sequential","args":{},"children":[["0",{"type":"Linear","args":{}}]]}', {},
         "module '0' (Linear): the argument 'in_features' is missing"),
        ('{"type":', {}, "Expecting value"),
    ]
    path = os.path.join(folder, "bad.safetensors")
    for description, tensors, message in cases:
        tapegrad_torch.write_safetensors(path, tensors, {tapegrad_torch.METADATA_KEY: description})
        try:
            tapegrad_torch.load(path)
            result(False, f"refused: {message} (it loaded)")
        except ValueError as e:
            result(message in str(e), f"refused: {e}")
    tapegrad_torch.write_safetensors(path, {"w": w})
    try:
        tapegrad_torch.load(path)
        result(False, "refused: a file without a description")
    except ValueError as e:
        result("does not describe its module" in str(e), f"refused: {e}")
    try:
        tapegrad_torch.save(nn.Sequential(nn.Linear(2, 2), nn.Conv1d(1, 1, 1)), path)
        result(False, "save refused a Conv1d")
    except TypeError as e:
        result("module '1': Conv1d has no tapegrad twin" in str(e), f"save refused: {e}")


with tempfile.TemporaryDirectory() as folder:
    from_tapegrad(folder)
    every_type(folder)
    to_tapegrad(folder)
    refused(folder)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
