#!/usr/bin/python3
"""Checks that the committed golden files are what the make_golden*.py
scripts produce: regenerates them all into a temporary folder
(regenerate.sh) and compares file by file.

A generated header must match token for token, numbers within rel 1e-4,
abs 1e-6: matrix products go through BLIS, whose kernels, chosen by CPU,
sum in different orders, so float32 products accumulated over a training
run differ between machines in their last digits (up to 3e-5 relative
seen, between an Intel Xeon and an AMD Zen 5). A safetensors file must name the same
tensors with the same dtypes and shapes, the values within the same bounds.
So a script edited without regenerating its output, or an output edited
by hand, fails; a different CPU does not.

Without Debian's python3-torch it says so and exits 77 (meson: skipped).
Prints "N passed, N failed" over the files compared.
"""
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import torch  # noqa: F401  (the scripts need it)
except ImportError:
    print("skipped: python3-torch is not installed (apt-get install python3-torch)")
    sys.exit(77)

from safetensors_io import load_safetensors  # noqa: E402

RTOL, ATOL = 1e-4, 1e-6
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TOKEN = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|\w+|\S")


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= ATOL + RTOL * abs(b)


def compare_header(committed, fresh):
    """The first difference between two generated headers, or None."""
    with open(committed) as f:
        a = TOKEN.findall(f.read())
    with open(fresh) as f:
        b = TOKEN.findall(f.read())
    if len(a) != len(b):
        return f"{len(a)} tokens committed, {len(b)} generated"
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        if NUMBER.fullmatch(x) and NUMBER.fullmatch(y) and close(float(x), float(y)):
            continue
        return f"token {i}: {x!r} committed, {y!r} generated"
    return None


def compare_safetensors(committed, fresh):
    a, b = load_safetensors(committed), load_safetensors(fresh)
    if sorted(a) != sorted(b):
        return f"tensors {sorted(a)} committed, {sorted(b)} generated"
    for name in a:
        x, y = a[name], b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            return f"{name}: {x.dtype} {tuple(x.shape)} committed, {y.dtype} {tuple(y.shape)} generated"
        if not torch.allclose(x.double(), y.double(), rtol=RTOL, atol=ATOL, equal_nan=True):
            return f"{name}: values differ"
    return None


def main():
    passed = failed = 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([os.path.join(HERE, "regenerate.sh"), out], check=True)
        for folder, _, files in os.walk(out):
            for name in sorted(files):
                fresh = os.path.join(folder, name)
                rel = os.path.relpath(fresh, out)
                committed = os.path.join(HERE, rel)
                if not os.path.exists(committed):
                    why = "generated but not committed"
                elif name.endswith(".h"):
                    why = compare_header(committed, fresh)
                else:
                    why = compare_safetensors(committed, fresh)
                if why:
                    print(f"FAIL {rel}: {why} (regenerate: meson compile -C build golden)")
                    failed += 1
                else:
                    print(f"ok   {rel}")
                    passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
