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
3. A model with classes of one's own (HELPER user): Sequential(LayerNorm,
   PreNormStack, Chain(SELU, RMSNorm, Linear)) trained in tapegrad, its
   user classes' twins given to tapegrad_torch.register, loads in PyTorch
   with one call and gives tapegrad's output (float64 to 1e-12), prints as
   tapegrad printed it and describes itself with tapegrad's text; the same
   model built in PyTorch and saved is rebuilt by tg_module_load_new with
   the registered C loaders, which gives PyTorch's output.
4. Files and registrations tapegrad_torch must refuse, with their
   messages.
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
        ("selu", nn.SELU()), ("relu6", nn.ReLU6()), ("hardsigmoid", nn.Hardsigmoid()),
        ("hardswish", nn.Hardswish()), ("mish", nn.Mish()), ("logsigmoid", nn.LogSigmoid()),
        ("softsign", nn.Softsign()), ("tanhshrink", nn.Tanhshrink()), ("celu", nn.CELU(0.6)),
        ("hardtanh", nn.Hardtanh(-1.5, 2.5)),
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


# ---- Classes of one's own: the twins of examples/prenorm_block.h's PreNormStack
# and torch_checkpoint_helper.c's Chain, as a user would write them.

class PreNormBlock(nn.Module):
    def __init__(self, kind, dim, hidden_dim, multiple_of, dropout, eps, dtype):
        super().__init__()
        self.attention_norm = tapegrad_torch.RMSNorm(dim, eps, dtype=dtype)
        self.feed_forward = tapegrad_torch.FeedForward(kind, dim, hidden_dim, multiple_of,
                                                       dropout, dtype=dtype)

    def forward(self, x):
        return x + self.feed_forward(self.attention_norm(x))


class PreNormStack(nn.Module):
    def __init__(self, in_features, out_features, n_layers, kind, dim, hidden_dim, multiple_of,
                 dropout, eps, dtype):
        super().__init__()
        self.arguments = dict(in_features=in_features, out_features=out_features,
                              n_layers=n_layers, kind=kind, dim=dim, hidden_dim=hidden_dim,
                              multiple_of=multiple_of, dropout=dropout, eps=eps, dtype=dtype)
        dtype = getattr(torch, dtype)
        self.embed = nn.Linear(in_features, dim, bias=False, dtype=dtype)
        self.layers = nn.ModuleList([PreNormBlock(kind, dim, hidden_dim, multiple_of, dropout,
                                                  eps, dtype) for _ in range(n_layers)])
        self.norm = tapegrad_torch.RMSNorm(dim, eps, dtype=dtype)
        self.output = nn.Linear(dim, out_features, bias=False, dtype=dtype)

    def forward(self, x):
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.output(self.norm(h))

    def tapegrad_args(self):
        return self.arguments


class Chain(nn.Module):
    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x

    def tapegrad_args(self):
        return {}


def users_classes(folder):
    tapegrad_torch.register("PreNormStack", PreNormStack)
    tapegrad_torch.register("Chain", Chain, children=True)
    subprocess.run([HELPER, "user", folder], check=True)
    path = os.path.join(folder, "c-user.safetensors")
    model = tapegrad_torch.load(path)
    model.eval()
    io, _ = tapegrad_torch.read_safetensors(os.path.join(folder, "c-user-io.safetensors"))
    with torch.no_grad():
        y = model(io["x"])
    d = difference(y, io["y"])
    result(y.dtype == torch.float64 and d <= 1e-12,
           f"user's classes: LayerNorm, PreNormStack (a ModuleList of blocks, RMSNorms) and "
           f"Chain trained in tapegrad load in PyTorch with one call and give its output "
           f"(difference {d:.2g})")
    with open(os.path.join(folder, "c-user.txt")) as f:
        printed = f.read().rstrip("\n")
    result(str(model) == printed, "user's classes: PyTorch prints the model as tapegrad does")
    _, metadata = tapegrad_torch.read_safetensors(path)
    text = json.dumps(tapegrad_torch.describe(model), separators=(",", ":"), ensure_ascii=False)
    result(text == metadata[tapegrad_torch.METADATA_KEY],
           "user's classes: PyTorch's model describes itself with tapegrad's text")

    torch.manual_seed(5)
    chain = Chain()
    chain.add_module("act", nn.SELU())
    chain.add_module("rms", tapegrad_torch.RMSNorm(8, 1e-6, dtype=torch.float64))
    chain.add_module("head", nn.Linear(8, 3, dtype=torch.float64))
    mine = nn.Sequential(collections.OrderedDict([
        ("norm", nn.LayerNorm(6, dtype=torch.float64)),
        ("stack", PreNormStack(6, 8, 2, "SwiGLU", 16, 64, 8, 0.0, 1e-6, "float64")),
        ("chain", chain)])).eval()
    with torch.no_grad():
        for p in mine.parameters():
            p.add_(torch.rand_like(p), alpha=0.25)
        x = torch.randn(5, 6, dtype=torch.float64)
        y = mine(x)
    path = os.path.join(folder, "py-user.safetensors")
    io = os.path.join(folder, "py-user-io.safetensors")
    tapegrad_torch.save(mine, path)
    tapegrad_torch.write_safetensors(io, {"x": x, "y": y})
    run = subprocess.run([HELPER, "check", path, io, "1e-12"], capture_output=True, text=True)
    lines = run.stdout.splitlines()
    result(run.returncode == 0,
           f"user's classes: the model built in PyTorch, rebuilt by tg_module_load_new with the "
           f"registered loaders, gives its output (difference "
           f"{lines[1] if len(lines) > 1 else '?'}) {run.stderr.strip()}")


def refused_registrations():
    cases = [
        (lambda: tapegrad_torch.register("Chain", PreNormBlock), ValueError,
         "'Chain' is registered already"),
        (lambda: tapegrad_torch.register("Other", Chain), ValueError,
         "Chain has a type name already"),
        (lambda: tapegrad_torch.register("Linear", PreNormBlock), ValueError,
         "'Linear' is a built-in type"),
        (lambda: tapegrad_torch.register("", PreNormBlock), TypeError, "type name"),
        (lambda: tapegrad_torch.register(None, PreNormBlock), TypeError, "type name"),
        (lambda: tapegrad_torch.register("Block", None), TypeError,
         "None is not a torch.nn.Module class"),
        (lambda: tapegrad_torch.register("Block", PreNormBlock, args=3), TypeError,
         "args is not callable"),
        (lambda: tapegrad_torch.save(PreNormBlock("SwiGLU", 4, 8, 4, 0.0, 1e-6, torch.float64),
                                     os.devnull), TypeError,
         "PreNormBlock has no tapegrad twin"),
    ]
    for call, error, message in cases:
        try:
            call()
            result(False, f"refused: {message} (it was not)")
        except error as e:
            result(message in str(e), f"refused: {e}")


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
        ('{"type":"Chain","args":{"n":1},"children":[]}', {},
         "the top module (Chain): its build failed: "),
        ('{"type":"Chain","args":{},"children":{}}', {}, "\"children\" is not an array"),
        ('{"type":"PreNormStack","args":{"in_features":6}}', {},
         "(PreNormStack): its build failed: "),
        ('{"type":"Hardtanh","args":{"min_val":1.0,"max_val":1.0}}', {},
         "'max_val' 1.0 must be greater than 'min_val' 1.0"),
        ('{"type":"CELU","args":{"alpha":0}}', {}, "'alpha' can't be 0"),
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
    users_classes(folder)
    refused(folder)
    refused_registrations()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
