#!/usr/bin/python3
"""Train tests/run/optim_*.nn's network in PyTorch from nncc's initial
weights with the same batches and the same optimizer and schedule, and
compare the weights with nncc's after training.

    tests/run/torch_optim.py INIT AFTER TRAIN_CSV EPOCHS OPTIMIZER [key=value ...]

OPTIMIZER is adam, adamw or rmsprop; the keys are the optimizer's
torch.optim arguments (lr, betas1, weight_decay, momentum, ...), and
gamma_exp=G (ExponentialLR per epoch), gamma_step=G (StepLR(1, G) per
epoch) or warmup=K (LinearLR(1/K, 1, K - 1) per batch).  weight_decay
applies to the weights only (nncc's rule: a parameter group without the
biases).  Batches of 16 rows in file order, the last one smaller; loss
CrossEntropyLoss (mean) of the logits.  Exit status 0 when every weight
matches to 2e-5 (float rounding over 16 steps), 1 otherwise, 77 without
torch.
"""
import sys

try:
    import torch
except ImportError:
    print("torch_optim: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)


def main():
    init, after, train_csv, epochs, opt = sys.argv[1:6]
    kv = dict(a.split("=") for a in sys.argv[6:])
    kv = {k: float(v) for k, v in kv.items()}
    torch.manual_seed(0)
    net = torch.nn.Sequential()
    net.add_module("hidden", torch.nn.Linear(4, 8))
    net.add_module("tanh", torch.nn.Tanh())
    net.add_module("out", torch.nn.Linear(8, 3))
    net.load_state_dict(load_safetensors(init))
    rows = [line.strip().split(",") for line in open(train_csv)][1:]
    x = torch.tensor([[float(v) for v in r[:4]] for r in rows])
    y = torch.tensor([int(float(r[4])) for r in rows])
    wd = kv.pop("weight_decay", 0.0)
    gamma_exp = kv.pop("gamma_exp", None)
    gamma_step = kv.pop("gamma_step", None)
    warmup = int(kv.pop("warmup", 0))
    if "beta1" in kv or "beta2" in kv:
        kv["betas"] = (kv.pop("beta1", 0.9), kv.pop("beta2", 0.999))
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
    groups = [{"params": weights, "weight_decay": wd}, {"params": biases, "weight_decay": 0.0}]
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}[opt]
    o = cls(groups, **kv)
    epoch_sched = (torch.optim.lr_scheduler.ExponentialLR(o, gamma_exp) if gamma_exp else
                   torch.optim.lr_scheduler.StepLR(o, 1, gamma_step) if gamma_step else None)
    step_sched = (torch.optim.lr_scheduler.LinearLR(o, 1 / warmup, 1.0, warmup - 1)
                  if warmup > 1 else None)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps = 0
    for _ in range(int(epochs)):
        for s in range(0, len(rows), 16):
            o.zero_grad()
            loss_fn(net(x[s:s + 16]), y[s:s + 16]).backward()
            o.step()
            steps += 1
            if step_sched:
                step_sched.step()
        if epoch_sched:
            epoch_sched.step()
    want = load_safetensors(after)
    err = 0.0
    for n, p in net.state_dict().items():
        err = max(err, (p - want[n]).abs().max().item())
    moved = max((p - q).abs().max().item()
                for p, q in zip(net.state_dict().values(), load_safetensors(init).values()))
    print(f"torch_optim: {opt}, {steps} steps, weights moved up to {moved:.3g}, "
          f"max |torch - nncc| = {err:.2e}")
    sys.exit(0 if err < 2e-5 and moved > 1e-3 else 1)


main()
