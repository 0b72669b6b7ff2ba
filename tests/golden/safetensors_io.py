"""The safetensors format by hand, for PyTorch tensors (Debian has no
python3-safetensors): an 8-byte little-endian header length, a JSON header
(padded with spaces to 8 bytes) naming each tensor's dtype, shape and byte
range, then the raw little-endian data."""
import json
import struct

import numpy
import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64"}
NUMPY = {"F32": numpy.float32, "F64": numpy.float64}


def save_safetensors(path, tensors):
    header, blobs, at = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        array = numpy.frombuffer(data[begin:end], dtype=NUMPY[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors
