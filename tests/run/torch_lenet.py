#!/usr/bin/python3
"""Load an nncc checkpoint of models/lenet.nn into the equivalent PyTorch
module and check that both give the same predictions: the conv2d weights
load into nn.Conv2d as they are ([out, in, kh, kw]), the images go from
nncc's (H, W, C) to PyTorch's (C, H, W), and the dense layer after the
flatten reads the features in (h, w, c) order (docs/language.md 6.8, 10.4).

    tests/run/torch_lenet.py CHECKPOINT PREDICTIONS_CSV IMAGES_IDX_GZ

Exit status 0 when every probability matches to 1e-5, 1 otherwise, 77 when
torch is not installed (the caller reports a skip).
"""
import gzip
import struct
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("torch_lenet: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)


class LeNet(torch.nn.Module):  # models/lenet.nn
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 20, 5)
        self.c2 = torch.nn.Conv2d(20, 50, 5)
        self.fc = torch.nn.Linear(800, 500)
        self.out = torch.nn.Linear(500, 10)

    def forward(self, x):  # x: (N, 28, 28, 1), as nncc reads it
        x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # (h, w, c) order, as nncc's flatten
        return F.softmax(self.out(F.relu(self.fc(x))), dim=1)


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n, h, w = struct.unpack(">IIII", data[:16])
    assert magic == 0x803, hex(magic)
    x = torch.frombuffer(bytearray(data[16:16 + n * h * w]), dtype=torch.uint8)
    return x.reshape(n, h, w, 1).float() / 255


def main():
    ckpt, preds_csv, images = sys.argv[1:4]
    net = LeNet()
    net.load_state_dict(load_safetensors(ckpt))  # strict: names and shapes must match
    x = read_idx_images(images)
    want = torch.tensor([[float(v) for v in line.split(",")] for line in open(preds_csv)])
    with torch.no_grad():
        got = net(x)
    err = (got - want).abs().max().item()
    print(f"torch_lenet: {x.shape[0]} images, max |torch - nncc| = {err:.2e}")
    sys.exit(0 if err < 1e-5 else 1)


main()
