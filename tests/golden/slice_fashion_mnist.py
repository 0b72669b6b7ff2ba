#!/usr/bin/python3
"""Cuts the committed slice of Fashion-MNIST that the parity test trains on:
the first 512 training images and labels of Debian's dataset-fashion-mnist,
rewritten as gzip-compressed IDX files under tests/golden/fashion/. Run once
by hand (the slice is committed; make_golden_fashion.py reads it):

    apt-get install dataset-fashion-mnist
    /usr/bin/python3 tests/golden/slice_fashion_mnist.py

Fashion-MNIST is Zalando Research's, under the MIT licence.
"""
import gzip
import os
import struct

SRC = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))
N = 512


def cut(name, out, item_bytes):
    with gzip.open(os.path.join(SRC, name)) as f:
        data = f.read()
    ndim = data[3]
    dims = list(struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim]))
    body = data[4 + 4 * ndim:4 + 4 * ndim + N * item_bytes]
    dims[0] = N
    header = data[:4] + struct.pack(">" + "I" * ndim, *dims)
    # mtime=0: the same bytes every run
    with gzip.GzipFile(os.path.join(HERE, "fashion", out), "wb", mtime=0) as f:
        f.write(header + body)


os.makedirs(os.path.join(HERE, "fashion"), exist_ok=True)
cut("train-images-idx3-ubyte.gz", "train-images-512-idx3-ubyte.gz", 28 * 28)
cut("train-labels-idx1-ubyte.gz", "train-labels-512-idx1-ubyte.gz", 1)
