"""tapegrad's self-describing model files in PyTorch.

tapegrad's tg_module_save writes a safetensors file whose metadata holds,
under the key "tapegrad.module", the module tree as its constructors were
called (tapegrad/nn.h, "Self-describing files"). This module reads and
writes the same files for the equivalent torch.nn modules:

    import tapegrad_torch
    model = tapegrad_torch.load("model.safetensors")   # a torch.nn.Module, weights loaded
    tapegrad_torch.save(model, "model.safetensors")    # tg_module_load_new rebuilds it in C

The types, tapegrad's name first: Linear, Embedding, Dropout, ReLU, GELU,
SiLU, Sigmoid, Tanh, SELU, ReLU6, Hardsigmoid, Hardswish, Mish,
LogSigmoid, Softsign, Tanhshrink, CELU, Hardtanh, PReLU, LayerNorm,
Sequential (with its children's names) and ModuleList are torch.nn's own;
RMSNorm (LLaMA's), FeedForward (classic and LLaMA's gated form), Swish (a
learnable beta) and Residual (x + fn(x)) are the classes below, with
tapegrad's parameter names. A class of one's own joins them with
register (the twin of tapegrad's tg_module_register_loader). save refuses
any other module, and torch.nn modules with options tapegrad does not
have (Embedding's max_norm, say), naming the module.

Only the standard library and torch are needed: the safetensors format is
read and written here (read_safetensors, write_safetensors; F32, F64, I64
and BOOL tensors, on a little-endian machine).
"""
import collections
import json
import os
import stat
import struct
import sys

import torch
import torch.nn.functional as F
from torch import nn

METADATA_KEY = "tapegrad.module"
# As tg_module_load_new: at most this many modules, nested at most this deep.
MAX_MODULES = 10000
MAX_DEPTH = 64

__all__ = ["load", "save", "describe", "build", "register", "read_safetensors",
           "write_safetensors", "Residual", "RMSNorm", "FeedForward", "Swish", "METADATA_KEY"]

# ---- safetensors ---------------------------------------------------------------------------

_FILE_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64,
                "BOOL": torch.bool}
_FILE_NAMES = {v: k for k, v in _FILE_DTYPES.items()}
_SIZES = {"F32": 4, "F64": 8, "I64": 8, "BOOL": 1}
_MAX_HEADER = 100 << 20  # the safetensors library's limit


def _check_little_endian():
    if sys.byteorder != "little":
        raise RuntimeError("tapegrad_torch: safetensors data is little-endian; this machine "
                           "is not")


def read_safetensors(path):
    """(tensors, metadata) of the safetensors file at path: a dict of name ->
    tensor in file order, and the header's __metadata__ (a dict of str ->
    str, empty when there is none). Everything is checked: header length,
    JSON, dtypes, shapes, byte ranges that tile the data exactly."""
    _check_little_endian()
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file ({len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > _MAX_HEADER:
        raise ValueError(f"{path}: header length {n} does not fit the file of {len(raw)} bytes")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{path}: the header has a key twice")
        return dict(pairs)

    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: bad JSON header: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the header is not a JSON object")
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"{path}: __metadata__ is not a map of strings to strings")
    tensors, ranges = {}, []
    for name, e in header.items():
        if not isinstance(e, dict) or e.get("dtype") not in _FILE_DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has no dtype of F32, F64, I64 or BOOL")
        shape, offsets = e.get("shape"), e.get("data_offsets")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                           for d in shape)):
            raise ValueError(f"{path}: tensor '{name}' has an invalid shape")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= len(data)):
            raise ValueError(f"{path}: tensor '{name}' has data_offsets outside the "
                             f"{len(data)} data bytes")
        numel = 1
        for d in shape:
            numel *= d
        begin, end = offsets
        if end - begin != numel * _SIZES[e["dtype"]]:
            raise ValueError(f"{path}: tensor '{name}' spans {end - begin} bytes, its shape and "
                             f"dtype need {numel * _SIZES[e['dtype']]}")
        ranges.append((begin, end, name))
        dtype = _FILE_DTYPES[e["dtype"]]
        if numel == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        elif dtype == torch.bool:  # a byte other than 0 and 1 reads as true
            tensors[name] = torch.frombuffer(bytearray(data[begin:end]),
                                             dtype=torch.uint8).reshape(shape) != 0
        else:
            tensors[name] = torch.frombuffer(bytearray(data[begin:end]),
                                             dtype=dtype).reshape(shape)
    at = 0
    for begin, end, name in sorted(ranges):
        if begin != at:
            raise ValueError(f"{path}: tensor '{name}' starts at byte {begin}, expected {at} "
                             "(data overlaps or has a hole)")
        at = end
    if at != len(data):
        raise ValueError(f"{path}: the tensors cover {at} of {len(data)} data bytes")
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors (a dict of name -> tensor, F32, F64, I64 or BOOL) and
    metadata (a dict of str -> str, written first) to path, as tapegrad
    writes: the header padded with spaces to a multiple of 8 bytes. The file
    is replaced at once (a temporary file renamed over it, after a symbolic
    link at path), keeping the old file's permission bits."""
    _check_little_endian()
    header, blobs, at = {}, [], 0
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("metadata maps strings to strings")
        header["__metadata__"] = dict(metadata)
    for name, t in tensors.items():
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved")
        if t.dtype not in _FILE_NAMES:
            raise TypeError(f"tensor '{name}' is {t.dtype}; only float32, float64, int64 and "
                            "bool are written")
        blob = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": _FILE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    target = os.path.realpath(path)
    temporary = f"{target}.tmp.{os.getpid()}"
    try:
        with open(temporary, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(target):
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


# ---- The modules torch.nn does not have ------------------------------------------------------

class Residual(nn.Module):
    """x + fn(x); the child is named "fn"."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


class RMSNorm(nn.Module):
    """LLaMA's RMSNorm(dim, eps), its weight of dtype (ones). A float32 input
    is normalized in float32, as LLaMA's code does; a float64 one in
    float64 (LLaMA's .float() would round it)."""

    def __init__(self, dim, eps=1e-6, dtype=None, device=None):
        super().__init__()
        self.dim, self.eps = dim, eps
        self.weight = nn.Parameter(torch.ones(dim, dtype=dtype, device=device))

    def forward(self, x):
        xf = x if x.dtype == torch.float64 else x.float()
        out = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x)
        return out * self.weight


_CLASSIC = {"ReLU": F.relu, "GELU": F.gelu, "GELU-tanh": lambda x: F.gelu(x, approximate="tanh"),
            "SiLU": F.silu}
_GATED = {"GLU": torch.sigmoid, "GeGLU": F.gelu, "SwiGLU": F.silu, "ReGLU": F.relu}


def ffn_hidden_dim(hidden_dim, multiple_of):
    """LLaMA's rounding: 2/3 of hidden_dim, rounded up to a multiple."""
    hidden = 2 * hidden_dim // 3
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


class FeedForward(nn.Module):
    """tapegrad's FeedForward (tg_feedforward_new), with its arguments.
    Classic kinds (ReLU, GELU, GELU-tanh, SiLU): w2(ACT(w1 x)), with biases.
    Gated kinds, LLaMA's form (GLU, GeGLU, SwiGLU, ReGLU): w2(ACT(w1 x) *
    w3 x), no biases, hidden_dim cut to 2/3 and rounded up to a multiple
    of multiple_of. hidden_dim 0 means 4 * dim. Dropout p on the output."""

    def __init__(self, kind, dim, hidden_dim=0, multiple_of=256, dropout=0.0, dtype=None,
                 device=None):
        super().__init__()
        if kind not in _CLASSIC and kind not in _GATED:
            raise ValueError(f"FeedForward: unknown kind {kind!r}")
        self.kind, self.dim, self.hidden_dim = kind, dim, hidden_dim
        self.multiple_of, self.p = multiple_of, dropout
        hidden = hidden_dim or 4 * dim
        gated = kind in _GATED
        if gated:
            hidden = ffn_hidden_dim(hidden, multiple_of)
        self.hidden = hidden
        self.w1 = nn.Linear(dim, hidden, bias=not gated, dtype=dtype, device=device)
        self.w2 = nn.Linear(hidden, dim, bias=not gated, dtype=dtype, device=device)
        if gated:
            self.w3 = nn.Linear(dim, hidden, bias=False, dtype=dtype, device=device)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        if self.kind in _GATED:
            h = _GATED[self.kind](self.w1(x)) * self.w3(x)
        else:
            h = _CLASSIC[self.kind](self.w1(x))
        return self.dropout(self.w2(h))

    def extra_repr(self):
        return f"kind={self.kind}, dim={self.dim}, hidden_dim={self.hidden}"


class Swish(nn.Module):
    """x * sigmoid(beta x) with a learnable "beta" of one element."""

    def __init__(self, beta_init=1.0, dtype=None, device=None):
        super().__init__()
        self.beta_init = beta_init
        self.beta = nn.Parameter(torch.full((1,), float(beta_init), dtype=dtype, device=device))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


# ---- Describing a model ---------------------------------------------------------------------

def _dtype_name(dtype):
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"parameters of {dtype}: tapegrad has float32 and float64 ones")
    return str(dtype).replace("torch.", "")


def _args(m, where):
    """The arguments of m's constructor, in tapegrad's order, and whether
    its children are arguments too."""
    t = type(m)
    if t is nn.Linear:
        return {"in_features": m.in_features, "out_features": m.out_features,
                "bias": m.bias is not None, "dtype": _dtype_name(m.weight.dtype)}, False
    if t is nn.Embedding:
        if m.max_norm is not None or m.scale_grad_by_freq or m.sparse:
            raise ValueError(f"{where}: an Embedding with max_norm, scale_grad_by_freq or sparse "
                             "has no tapegrad twin")
        return {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                "padding_idx": m.padding_idx, "dtype": _dtype_name(m.weight.dtype)}, False
    if t is nn.Dropout:
        return {"p": float(m.p)}, False
    if t in _NO_ARGUMENTS.values():
        return {}, False
    if t is nn.CELU:
        return {"alpha": float(m.alpha)}, False
    if t is nn.Hardtanh:
        return {"min_val": float(m.min_val), "max_val": float(m.max_val)}, False
    if t is nn.GELU:
        return {"approximate": m.approximate}, False
    if t is nn.PReLU:
        # The starting slope, which the saved weight replaces; PyTorch 1.13's
        # PReLU does not keep it (later ones do): its default, 0.25, then.
        return {"num_parameters": m.num_parameters, "init": float(getattr(m, "init", 0.25)),
                "dtype": _dtype_name(m.weight.dtype)}, False
    if t is Swish:
        return {"beta_init": float(m.beta_init), "dtype": _dtype_name(m.beta.dtype)}, False
    if t is nn.LayerNorm:
        # Without affine it has no tensor to tell: the dtype load gave it,
        # or PyTorch's default.
        dtype = (m.weight.dtype if m.weight is not None
                 else getattr(m, "tapegrad_dtype", torch.get_default_dtype()))
        return {"normalized_shape": list(m.normalized_shape), "eps": float(m.eps),
                "elementwise_affine": m.elementwise_affine, "dtype": _dtype_name(dtype)}, False
    if t is RMSNorm:
        return {"dim": m.dim, "eps": float(m.eps), "dtype": _dtype_name(m.weight.dtype)}, False
    if t is FeedForward:
        return {"kind": m.kind, "dim": m.dim, "hidden_dim": m.hidden_dim,
                "multiple_of": m.multiple_of, "dropout": float(m.p),
                "dtype": _dtype_name(m.w1.weight.dtype)}, False
    if t in (nn.Sequential, nn.ModuleList, Residual):
        return {}, True
    mine = _BY_CLASS.get(t)
    if mine is not None:
        return _check_args(where, mine.args(m)), mine.children
    raise TypeError(f"{where}: {t.__name__} has no tapegrad twin (save takes Linear, Embedding, "
                    "Dropout, the activations, PReLU, LayerNorm, Sequential, ModuleList, this "
                    "module's Swish, RMSNorm, FeedForward and Residual, and the classes given "
                    "to register)")


def _check_args(where, args):
    """A registered class's arguments, as a description holds them."""
    if not isinstance(args, dict):
        raise TypeError(f"{where}: its arguments are a {type(args).__name__}, not a dict")
    for name, v in args.items():
        ok = isinstance(name, str) and name and (
            v is None or isinstance(v, (bool, int, str))
            or (isinstance(v, float) and v == v and abs(v) != float("inf"))
            or (isinstance(v, (list, tuple))
                and all(isinstance(d, int) and not isinstance(d, bool) for d in v)))
        if not ok:
            raise TypeError(f"{where}: argument {name!r} = {v!r} is not an integer, finite "
                            "number, bool, string, None or list of integers")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()}


_NO_ARGUMENTS = {"ReLU": nn.ReLU, "SiLU": nn.SiLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
                 "SELU": nn.SELU, "ReLU6": nn.ReLU6, "Hardsigmoid": nn.Hardsigmoid,
                 "Hardswish": nn.Hardswish, "Mish": nn.Mish, "LogSigmoid": nn.LogSigmoid,
                 "Softsign": nn.Softsign, "Tanhshrink": nn.Tanhshrink}
_TYPES = {nn.ModuleList: "ModuleList", nn.Sequential: "Sequential", Residual: "Residual"}


# ---- Classes of one's own -------------------------------------------------------------------

_Registered = collections.namedtuple("_Registered", "type_name cls args build children")
_BY_NAME, _BY_CLASS = {}, {}


def register(type_name, cls, args=None, build=None, children=False):
    """Teaches save, describe, load and build a class of one's own, under
    the type name its tapegrad twin is saved with (the C class's name, for
    which tg_module_register_loader registers a loader).

    args(module) gives the constructor's arguments as a dict (integers,
    finite numbers, bools, strings, None, lists of integers), in the order
    tapegrad's describe hook writes them; by default module.tapegrad_args().
    build(**arguments) makes a module from them; by default cls itself.
    children=True when the children are arguments too (the C describe hook
    calls tg_module_arg_children): they are described under their names,
    and load adds the rebuilt ones to the module build makes, with
    add_module. load builds such a module for real also when it first
    checks the file's tensors (the other types are made on the meta
    device then)."""
    if not isinstance(type_name, str) or not type_name:
        raise TypeError("register: the type name is a string, not empty")
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise TypeError(f"register: {cls!r} is not a torch.nn.Module class")
    if type_name in _ARGS:
        raise ValueError(f"register: {type_name!r} is a built-in type, which load rebuilds "
                         "itself")
    if type_name in _BY_NAME:
        raise ValueError(f"register: {type_name!r} is registered already")
    if cls in _BY_CLASS or cls in _TYPES or cls in _NO_ARGUMENTS.values():
        raise ValueError(f"register: {cls.__name__} has a type name already")
    for f, what in ((args, "args"), (build, "build")):
        if f is not None and not callable(f):
            raise TypeError(f"register: {what} is not callable")
    entry = _Registered(type_name, cls, args or (lambda m: m.tapegrad_args()), build or cls,
                        bool(children))
    _BY_NAME[type_name] = _BY_CLASS[cls] = entry


def describe(model, _prefix=""):
    """The description save writes for model, as a dict (tapegrad's JSON)."""
    where = f"module '{_prefix[:-1]}'" if _prefix else "the top module"
    args, children = _args(model, where)
    mine = _BY_CLASS.get(type(model))
    name = mine.type_name if mine else _TYPES.get(type(model), type(model).__name__)
    node = {"type": name, "args": args}
    if children:
        node["children"] = [[name, describe(child, _prefix + name + ".")]
                            for name, child in model.named_children()]
    return node


def save(model, path):
    """Writes model's state_dict and its description to path, as tapegrad's
    tg_module_save does: tg_module_load_new rebuilds it in C."""
    text = json.dumps(describe(model), separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    write_safetensors(path, model.state_dict(), {METADATA_KEY: text})


# ---- Building a model from its description ------------------------------------------------

_DTYPE_NAMES = {"float32": torch.float32, "float64": torch.float64}


class _Builder:
    def __init__(self, device):
        self.modules = 0
        self.device = device

    def fail(self, where, message):
        raise ValueError(f"{where}: {message}")

    def int_arg(self, where, args, name, least):
        v = args[name]
        if not isinstance(v, int) or isinstance(v, bool) or v < least:
            self.fail(where, f"'{name}' must be an integer of at least {least}, not {v!r}")
        return v

    def number_arg(self, where, args, name):
        v = args[name]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v or abs(v) == float(
                "inf"):
            self.fail(where, f"'{name}' must be a finite number, not {v!r}")
        return float(v)

    def bool_arg(self, where, args, name):
        if not isinstance(args[name], bool):
            self.fail(where, f"'{name}' must be true or false, not {args[name]!r}")
        return args[name]

    def dtype_arg(self, where, args):
        """The dtype, and the device to make the module on, as keywords."""
        if args["dtype"] not in _DTYPE_NAMES:
            self.fail(where, f"'dtype' must be \"float32\" or \"float64\", not {args['dtype']!r}")
        return {"dtype": _DTYPE_NAMES[args["dtype"]], "device": self.device}

    def build(self, node, prefix, depth):
        where = f"module '{prefix[:-1]}'" if prefix else "the top module"
        if depth >= MAX_DEPTH:
            self.fail(where, f"modules are nested more than {MAX_DEPTH} deep")
        self.modules += 1
        if self.modules > MAX_MODULES:
            self.fail(where, f"the description has more than {MAX_MODULES} modules")
        if not isinstance(node, dict):
            self.fail(where, "the description is not a JSON object")
        for key in node:
            if key not in ("type", "args", "children"):
                self.fail(where, f"unknown key {key!r}")
        kind = node.get("type")
        if not isinstance(kind, str):
            self.fail(where, "no \"type\" string")
        if kind not in _ARGS and kind not in _BY_NAME:
            self.fail(where, f"unknown module type {kind!r}: tapegrad_torch.load rebuilds "
                      "tapegrad's built-in types and those given to register")
        where = f"{where} ({kind})"
        args = node.get("args")
        if not isinstance(args, dict):
            self.fail(where, "saved without its arguments (no \"args\" object)")
        if kind in _BY_NAME:
            return self.registered(where, _BY_NAME[kind], args, node.get("children"), prefix,
                                   depth)
        for key in args:
            if key not in _ARGS[kind]:
                self.fail(where, f"unknown argument {key!r}")
        for key in _ARGS[kind]:
            if key not in args:
                self.fail(where, f"the argument {key!r} is missing")
        container = kind in ("Sequential", "ModuleList", "Residual")
        children = node.get("children")
        if container != (children is not None) or (container and not isinstance(children, list)):
            self.fail(where, "only Sequential, ModuleList and Residual have a \"children\" array")
        if container:
            return self.container(where, kind, children, prefix, depth)
        return self.leaf(where, kind, args)

    def registered(self, where, mine, args, children, prefix, depth):
        if children is not None and not isinstance(children, list):
            self.fail(where, "\"children\" is not an array")
        try:
            module = mine.build(**args)
        except (TypeError, ValueError) as e:
            self.fail(where, f"its build failed: {e}")
        if type(module) is not mine.cls:
            self.fail(where, f"its build made a {type(module).__name__}, not a "
                      f"{mine.cls.__name__}")
        names, built = self.children(where, None, children or [], prefix, depth)
        for name, child in zip(names, built):
            if name in module._modules or hasattr(module, name):
                self.fail(where, f"its module has a {name!r} already")
            module.add_module(name, child)
        return module

    def children(self, where, kind, children, prefix, depth):
        """The described children's names and modules."""
        names, built = [], []
        for i, pair in enumerate(children):
            if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str)):
                self.fail(where, f"child {i} is not a [name, description] pair")
            name = pair[0]
            if not name or "." in name:
                self.fail(where, f"child {i}'s name {name!r} is empty or has a '.'")
            if name in names:
                self.fail(where, f"two children are named {name!r}")
            if kind == "ModuleList" and name != str(i):
                self.fail(where, f"child {i} of a ModuleList is named {name!r}, not '{i}'")
            names.append(name)
            built.append(self.build(pair[1], prefix + name + ".", depth + 1))
        return names, built

    def container(self, where, kind, children, prefix, depth):
        names, built = self.children(where, kind, children, prefix, depth)
        if kind == "Residual":
            if names != ["fn"]:
                self.fail(where, "a Residual has one child, named \"fn\"")
            return Residual(built[0])
        if kind == "ModuleList":
            return nn.ModuleList(built)
        return nn.Sequential(collections.OrderedDict(zip(names, built)))

    def leaf(self, where, kind, args):
        if kind == "Linear":
            return nn.Linear(self.int_arg(where, args, "in_features", 1),
                             self.int_arg(where, args, "out_features", 1),
                             bias=self.bool_arg(where, args, "bias"),
                             **self.dtype_arg(where, args))
        if kind == "Embedding":
            num = self.int_arg(where, args, "num_embeddings", 0)
            pad = args["padding_idx"]
            if pad is not None and (not isinstance(pad, int) or isinstance(pad, bool)
                                    or not -num <= pad < num):
                self.fail(where, f"'padding_idx' must be null or an integer from {-num} to "
                          f"{num - 1}, not {pad!r}")
            return nn.Embedding(num, self.int_arg(where, args, "embedding_dim", 0),
                                padding_idx=pad, **self.dtype_arg(where, args))
        if kind == "Dropout":
            p = self.number_arg(where, args, "p")
            if not 0 <= p <= 1:
                self.fail(where, f"'p' must be a number in [0.0, 1.0], not {p!r}")
            return nn.Dropout(p)
        if kind in _NO_ARGUMENTS:
            return _NO_ARGUMENTS[kind]()
        if kind == "CELU":
            alpha = self.number_arg(where, args, "alpha")
            if alpha == 0:
                self.fail(where, "'alpha' can't be 0")
            return nn.CELU(alpha)
        if kind == "Hardtanh":
            low, high = (self.number_arg(where, args, "min_val"),
                         self.number_arg(where, args, "max_val"))
            if not high > low:
                self.fail(where, f"'max_val' {high!r} must be greater than 'min_val' {low!r}")
            return nn.Hardtanh(low, high)
        if kind == "GELU":
            if args["approximate"] not in ("none", "tanh"):
                self.fail(where, "'approximate' must be \"none\" or \"tanh\", not "
                          f"{args['approximate']!r}")
            return nn.GELU(approximate=args["approximate"])
        if kind == "PReLU":
            return nn.PReLU(self.int_arg(where, args, "num_parameters", 1),
                            self.number_arg(where, args, "init"),
                            **self.dtype_arg(where, args))
        if kind == "Swish":
            return Swish(self.number_arg(where, args, "beta_init"),
                         **self.dtype_arg(where, args))
        if kind == "LayerNorm":
            shape = args["normalized_shape"]
            if (not isinstance(shape, list) or not 1 <= len(shape) <= 8
                    or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                               for d in shape)):
                self.fail(where, "'normalized_shape' must be an array of 1 to 8 integers of at "
                          "least 0")
            norm = nn.LayerNorm(shape, eps=self.positive(where, args, "eps"),
                                elementwise_affine=self.bool_arg(where, args,
                                                                 "elementwise_affine"),
                                **self.dtype_arg(where, args))
            norm.tapegrad_dtype = _DTYPE_NAMES[args["dtype"]]
            return norm
        if kind == "RMSNorm":
            return RMSNorm(self.int_arg(where, args, "dim", 0), self.positive(where, args, "eps"),
                           **self.dtype_arg(where, args))
        # FeedForward
        ffn_kind = args["kind"]
        if ffn_kind not in _CLASSIC and ffn_kind not in _GATED:
            self.fail(where, f"'kind' must be one of {', '.join(list(_CLASSIC) + list(_GATED))}, "
                      f"not {ffn_kind!r}")
        gated = ffn_kind in _GATED
        dim = self.int_arg(where, args, "dim", 1)
        hidden_dim = self.int_arg(where, args, "hidden_dim", 0)
        multiple_of = self.int_arg(where, args, "multiple_of", 1 if gated else -2**63)
        dropout = self.number_arg(where, args, "dropout")
        if not 0 <= dropout < 1:
            self.fail(where, f"'dropout' must be a number in [0.0, 1.0), not {dropout!r}")
        hidden = hidden_dim or 4 * dim
        if (ffn_hidden_dim(hidden, multiple_of) if gated else hidden) == 0:
            self.fail(where, f"hidden_dim {hidden_dim} rounds to nothing")
        return FeedForward(ffn_kind, dim, hidden_dim, multiple_of, dropout,
                           **self.dtype_arg(where, args))

    def positive(self, where, args, name):
        v = self.number_arg(where, args, name)
        if not v > 0:
            self.fail(where, f"'{name}' must be a positive finite number, not {v!r}")
        return v


_DTYPE = "dtype"
_ARGS = {
    "Linear": ("in_features", "out_features", "bias", _DTYPE),
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx", _DTYPE),
    "Dropout": ("p",),
    **{name: () for name in _NO_ARGUMENTS},
    "GELU": ("approximate",), "CELU": ("alpha",), "Hardtanh": ("min_val", "max_val"),
    "PReLU": ("num_parameters", "init", _DTYPE),
    "Swish": ("beta_init", _DTYPE),
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine", _DTYPE),
    "RMSNorm": ("dim", "eps", _DTYPE),
    "FeedForward": ("kind", "dim", "hidden_dim", "multiple_of", "dropout", _DTYPE),
    "Sequential": (), "ModuleList": (), "Residual": (),
}


def build(description, device=None):
    """A new torch.nn.Module made from a description (the dict describe
    gives, or the JSON text of one), with freshly initialised weights, on
    device (torch's default when None; "meta" makes no storage)."""
    if isinstance(description, str):
        description = json.loads(description, object_pairs_hook=_no_duplicate_keys)
    return _Builder(device).build(description, "", 0)


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise ValueError(f"the description has the key {k!r} twice in one object")
    return dict(pairs)


def load(path):
    """The module described in the file at path (written by tapegrad's
    tg_module_save or by save), its weights loaded with
    load_state_dict(strict=True) once every tensor's dtype and shape were
    checked against the module. It is in training mode, as a new module."""
    tensors, metadata = read_safetensors(path)
    if METADATA_KEY not in metadata:
        raise ValueError(f"{path} does not describe its module (no '{METADATA_KEY}' in its "
                         "metadata): build the model in code and load its state_dict")
    try:
        description = json.loads(metadata[METADATA_KEY], object_pairs_hook=_no_duplicate_keys)
        # First on the meta device, to check the tensors before any is made:
        # a description that lies about them allocates nothing.
        wanted = build(description, device="meta").state_dict()
    except (ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: {e}") from None
    for name, w in wanted.items():
        t = tensors.get(name)
        if t is None:
            raise ValueError(f"{path}: the file has no tensor '{name}' ({w.dtype} "
                             f"{tuple(w.shape)}), which the described module has")
        if w.dtype != t.dtype or w.shape != t.shape:
            raise ValueError(f"{path}: tensor '{name}' is {t.dtype} {tuple(t.shape)} in the "
                             f"file, the described module has {w.dtype} {tuple(w.shape)}")
    for name in tensors:
        if name not in wanted:
            raise ValueError(f"{path} holds a tensor '{name}' that the module it describes "
                             "does not have")
    model = build(description)
    model.load_state_dict(tensors, strict=True)
    return model
