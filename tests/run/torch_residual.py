#!/usr/bin/python3
"""Load an nncc checkpoint of models/residual_mlp.nn into the equivalent
PyTorch module (three residual blocks: s = relu(s_prev + dense(relu(dense(
s_prev))))) and check that both give the same predictions.

    tests/run/torch_residual.py CHECKPOINT PREDICTIONS_CSV INPUT_CSV

The checkpoint is read with the standard library (safetensors_read.py).
Exit status 0 when every probability matches to 1e-5, 1 otherwise, 77 when
torch is not installed (the caller reports a skip).
"""
import sys

try:
    import torch
except ImportError:
    print("torch_residual: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)


class ResidualMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Linear(64, 64)
        for i in (1, 2, 3):
            setattr(self, f"b{i}a", torch.nn.Linear(64, 64))
            setattr(self, f"b{i}b", torch.nn.Linear(64, 64))
        self.out = torch.nn.Linear(64, 10)

    def forward(self, x):
        s = torch.relu(self.stem(x))
        for i in (1, 2, 3):
            r = getattr(self, f"b{i}b")(torch.relu(getattr(self, f"b{i}a")(s)))
            s = torch.relu(s + r)  # the skip connection: add(s_prev, b_ib, activation = relu)
        return torch.softmax(self.out(s), dim=1)


def main():
    ckpt, preds_csv, input_csv = sys.argv[1:4]
    net = ResidualMLP().double()
    net.load_state_dict({k: v.double() for k, v in load_safetensors(ckpt).items()})  # strict
    rows = [line.strip().split(",") for line in open(input_csv)][1:]
    x = torch.tensor([[float(v) / 16 for v in r[:64]] for r in rows], dtype=torch.float64)
    want = torch.tensor([[float(v) for v in line.split(",")] for line in open(preds_csv)],
                        dtype=torch.float64)
    with torch.no_grad():
        got = net(x)
    err = (got - want).abs().max().item()
    agree = (got.argmax(1) == want.argmax(1)).float().mean().item()
    print(f"torch_residual: {len(rows)} rows, max |torch - nncc| = {err:.2e}, "
          f"argmax agreement {100 * agree:.1f}%")
    sys.exit(0 if err < 1e-5 else 1)


main()
