#!/usr/bin/python3
"""nncc's batchnorm against torch.nn.BatchNorm1d / BatchNorm2d: train
tests/run/bn_mlp.nn's or bn_conv.nn's network in PyTorch from nncc's
initial checkpoint with the same batches (file order) and the same SGD
steps, then compare every tensor of nncc's checkpoint after training -- the
weights (so the forward and backward passes of every step), the running
statistics and num_batches_tracked -- and the evaluation-mode predictions
(running statistics) of nncc's --predict.

    tests/run/torch_bn.py mlp|conv INIT AFTER PRED TRAIN_CSV LR MOMENTUM BATCH

Both checkpoints load into the module with load_state_dict (strict: the
names LAYER.weight, .bias, .running_mean, .running_var and
.num_batches_tracked, as int64, must match).  Exit status 0 when every
tensor matches to 1e-4 and every prediction to 1e-4 (float rounding over
the steps), 1 otherwise, 77 without torch.
"""
import sys

try:
    import torch
except ImportError:
    print("torch_bn: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)

F = torch.nn.functional


class Mlp(torch.nn.Module):  # tests/run/bn_mlp.nn
    def __init__(self):
        super().__init__()
        self.h = torch.nn.Linear(64, 32)
        self.bn = torch.nn.BatchNorm1d(32, momentum=0.2)
        self.out = torch.nn.Linear(32, 10)

    def forward(self, x):  # x: (N, 64); the logits
        return self.out(F.relu(self.bn(self.h(x))))


class Conv(torch.nn.Module):  # tests/run/bn_conv.nn
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4, eps=1e-3)
        self.out = torch.nn.Linear(36, 10)

    def forward(self, x):  # x: (N, 64), an 8x8x1 image row-major (h, w, c)
        x = x.reshape(-1, 8, 8, 1).permute(0, 3, 1, 2)  # NHWC -> NCHW
        x = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2)
        return self.out(x.permute(0, 2, 3, 1).flatten(1))  # nncc's (h, w, c) flatten


def main():
    kind, init, after, preds, train_csv = sys.argv[1:6]
    lr, momentum, batch = float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
    torch.set_default_dtype(torch.float32)
    net = Mlp() if kind == "mlp" else Conv()
    start = load_safetensors(init)
    assert start["bn.num_batches_tracked"].dtype == torch.int64
    net.load_state_dict(start)  # strict
    rows = [line.strip().split(",") for line in open(train_csv)][1:]
    x = torch.tensor([[float(v) / 16 for v in r[:64]] for r in rows])
    y = torch.tensor([int(float(r[64])) for r in rows])
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    net.train()
    steps = 0
    for b in range(0, len(rows), batch):
        opt.zero_grad()
        F.cross_entropy(net(x[b:b + batch]), y[b:b + batch]).backward()
        opt.step()
        steps += 1
    want = load_safetensors(after)
    got = net.state_dict()
    worst, bad = 0.0, []
    for name, t in want.items():
        if t.dtype == torch.int64:
            if not torch.equal(t, got[name]):
                bad.append(f"{name}: nncc {t.tolist()}, torch {got[name].tolist()}")
            continue
        err = (t - got[name].float()).abs().max().item()
        worst = max(worst, err)
        if err > 1e-4:
            bad.append(f"{name}: max |torch - nncc| = {err:.2e}")
    # evaluation mode: the running statistics, nncc's --predict with AFTER
    net.load_state_dict(want)
    net.eval()
    with torch.no_grad():
        p = F.softmax(net(x), dim=1)
    q = torch.tensor([[float(v) for v in line.split(",")] for line in open(preds)])
    perr = (p - q).abs().max().item()
    if perr > 1e-4:
        bad.append(f"eval predictions: max |torch - nncc| = {perr:.2e}")
    nbt = want["bn.num_batches_tracked"].item()
    print(f"torch_bn: {kind}, {steps} steps of {len(rows)} rows, {len(want)} tensors "
          f"(num_batches_tracked {nbt}): max |torch - nncc| = {worst:.2e}; "
          f"eval predictions {perr:.2e}")
    for line in bad:
        print(f"torch_bn: {line}")
    sys.exit(1 if bad else 0)


main()
