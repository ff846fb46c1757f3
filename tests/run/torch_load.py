#!/usr/bin/python3
"""Load an nncc checkpoint of models/iris.nn into the equivalent PyTorch
module and check that both give the same predictions.

    tests/run/torch_load.py CHECKPOINT PREDICTIONS_CSV INPUT_CSV

The checkpoint is read with the standard library (8-byte header length,
JSON header, raw little-endian data: the safetensors layout), so neither
the `safetensors` package nor nncc's runtime is involved on this side.
Exit status 0 when every prediction matches to 1e-5, 1 otherwise, 77 when
torch is not installed (the caller reports a skip).
"""
import sys

try:
    import torch
except ImportError:
    print("torch_load: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)


def main():
    ckpt, preds_csv, input_csv = sys.argv[1:4]
    state = load_safetensors(ckpt)
    # models/iris.nn: hidden = dense(features, 16, tanh); out = dense(3, softmax)
    net = torch.nn.Sequential()
    net.add_module("hidden", torch.nn.Linear(4, 16))
    net.add_module("tanh", torch.nn.Tanh())
    net.add_module("out", torch.nn.Linear(16, 3))
    net.add_module("softmax", torch.nn.Softmax(dim=1))
    net.load_state_dict(state)  # strict: names and shapes must match
    rows = [line.strip().split(",") for line in open(input_csv)][1:]
    x = torch.tensor([[float(v) for v in r[:4]] for r in rows])
    want = torch.tensor([[float(v) for v in line.split(",")] for line in open(preds_csv)])
    with torch.no_grad():
        got = net(x)
    err = (got - want).abs().max().item()
    print(f"torch_load: {len(rows)} rows, max |torch - nncc| = {err:.2e}")
    sys.exit(0 if err < 1e-5 else 1)


main()
