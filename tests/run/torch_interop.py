#!/usr/bin/python3
"""Load an nncc checkpoint of models/fashion_mlp.nn into the equivalent
PyTorch module and check that both give the same predictions on
Fashion-MNIST test images.

    tests/run/torch_interop.py CHECKPOINT PREDICTIONS_CSV IMAGES_IDX

IMAGES_IDX is the IDX file (gzip'd or plain) that the trainer's --predict
read; PREDICTIONS_CSV is its output, one line of 10 probabilities a row.
The checkpoint is read with the standard library
(tests/run/safetensors_read.py), the images too (gzip and struct), so
neither the `safetensors` package nor nncc's runtime is involved on this
side.  Both sides scale the pixels by 1/255 and read a 28x28x1 image in
row-major order, which is the order nncc's flatten keeps.  Exit status 0
when every probability matches to 1e-5, 1 otherwise (the count of rows
whose most probable class agrees is printed too), 77 when torch is not
installed (the caller reports a skip).
"""
import gzip
import struct
import sys

try:
    import torch
except ImportError:
    print("torch_interop: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)


class FashionMLP(torch.nn.Module):  # models/fashion_mlp.nn
    def __init__(self):
        super().__init__()
        self.h1 = torch.nn.Linear(784, 256)
        self.h2 = torch.nn.Linear(256, 128)
        self.out = torch.nn.Linear(128, 10)

    def forward(self, x):  # x: (N, 28, 28, 1) in [0, 1]
        x = x.flatten(1)  # (h, w, c) order, as nncc's flatten
        x = torch.relu(self.h1(x))
        x = torch.relu(self.h2(x))
        return torch.softmax(self.out(x), dim=1)


def read_images(path):
    """(N, 28, 28, 1) pixels in [0, 1] of an IDX file, gzip'd or plain."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, n, h, w = struct.unpack(">IIII", data[:16])
    assert magic == 0x803 and (h, w) == (28, 28), (hex(magic), h, w)
    x = torch.frombuffer(bytearray(data[16:16 + n * h * w]), dtype=torch.uint8)
    return x.reshape(n, h, w, 1).float() / 255


def main():
    ckpt, preds_csv, images = sys.argv[1:4]
    net = FashionMLP()
    net.load_state_dict(load_safetensors(ckpt))  # strict: names and shapes must match
    x = read_images(images)
    want = torch.tensor([[float(v) for v in line.split(",")] for line in open(preds_csv)])
    if want.shape != (x.shape[0], 10):
        print(f"torch_interop: {preds_csv} has shape {tuple(want.shape)}, "
              f"expected ({x.shape[0]}, 10)")
        sys.exit(1)
    with torch.no_grad():
        got = net(x)
    err = (got - want).abs().max().item()
    same = (got.argmax(1) == want.argmax(1)).sum().item()
    print(f"torch_interop: {x.shape[0]} images, max |torch - nncc| = {err:.2e}, "
          f"same class for {same} of {x.shape[0]}")
    sys.exit(0 if err < 1e-5 else 1)


main()
