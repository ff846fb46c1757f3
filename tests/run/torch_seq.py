#!/usr/bin/python3
"""Load an nncc checkpoint of a small recurrent model (tests/run/seq_*.nn)
into the equivalent PyTorch module and check that both give the same
predictions.

    tests/run/torch_seq.py CHECKPOINT PREDICTIONS_CSV INPUT_CSV CELL T F H N
                           [--activation relu] [--last] [--no-bias]

The model is `input x[T, F]`, `layer h = CELL(x, H, ...)` (CELL: rnn, lstm
or gru), `layer out = dense(h, N)` (no activation) at every step, or on the
last step with --last.  In PyTorch: nn.RNN / nn.LSTM / nn.GRU(F, H,
batch_first=True) registered as `h`, nn.Linear(H, N) as `out`, the state
dict loaded strictly (names and shapes must match: h.weight_ih_l0 [G*H, F],
h.weight_hh_l0 [G*H, H], h.bias_ih_l0, h.bias_hh_l0 [G*H], out.weight,
out.bias).  INPUT_CSV has no header; its first T*F columns are a sample,
step-major (column t*F + f); PREDICTIONS_CSV has the trainer's T*N
(--last: N) outputs per row, step-major.  The checkpoint is read with the
standard library (tests/run/safetensors_read.py).

Exit status 0 when every prediction matches to 1e-5, 1 otherwise (after a
diagnosis: the first step that differs, and which gate order or gate
formula would match nncc's figures instead), 77 when torch is not
installed (the caller reports a skip).
"""
import argparse
import itertools
import sys

try:
    import torch
except ImportError:
    print("torch_seq: python3-torch is not installed; skipped")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in tests/run/
from safetensors_read import load_safetensors  # noqa: E402 (beside this file)

TOL = 1e-5
GATES = {"rnn": ["h"], "lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}


class Seq(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        kw = {"batch_first": True, "bias": not a.no_bias}
        if a.cell == "rnn":
            self.h = torch.nn.RNN(a.F, a.H, nonlinearity=a.activation, **kw)
        elif a.cell == "lstm":
            self.h = torch.nn.LSTM(a.F, a.H, **kw)
        else:
            self.h = torch.nn.GRU(a.F, a.H, **kw)
        self.out = torch.nn.Linear(a.H, a.N)
        self.last = a.last

    def forward(self, x):  # x: (B, T, F)
        h, _ = self.h(x)  # (B, T, H)
        if self.last:
            h = h[:, -1]
        return self.out(h).flatten(1)  # (B, T*N) step-major, or (B, N)


def read_csv(path, ncols=None):
    rows = []
    for line in open(path):
        line = line.strip()
        if line:
            v = [float(s) for s in line.split(",")]
            rows.append(v[:ncols] if ncols else v)
    return torch.tensor(rows, dtype=torch.float64)


# --------------------------------------------------------------- diagnosis
# A cell written out by hand in float64, with the gate blocks taken in a
# given order and, for the gru, a choice of where b_hn and r go; used only
# when PyTorch and nncc disagree, to name what nncc computes instead.

def manual(a, st, x, order, variant="torch", act=None):
    """Outputs (B, T*N or N) of the model with the gate blocks of every
    h.* tensor read in `order` (a permutation of the gate indices)."""
    p = {k: v.double() for k, v in st.items()}
    H = a.H
    G = len(GATES[a.cell])

    def blocks(w):
        return [w[g * H:(g + 1) * H] for g in order]

    wi, wh = blocks(p["h.weight_ih_l0"]), blocks(p["h.weight_hh_l0"])
    if a.no_bias:
        bi = bh = [torch.zeros(H, dtype=torch.float64)] * G
    else:
        bi, bh = blocks(p["h.bias_ih_l0"]), blocks(p["h.bias_hh_l0"])
    B, T = x.shape[0], x.shape[1]
    h = torch.zeros(B, H, dtype=torch.float64)
    c = torch.zeros(B, H, dtype=torch.float64)
    hs = []
    for t in range(T):
        xt = x[:, t]
        gi = [xt @ wi[g].T + bi[g] for g in range(G)]
        gh = [h @ wh[g].T + bh[g] for g in range(G)]
        if a.cell == "rnn":
            s = gi[0] + gh[0]
            h = torch.relu(s) if (act or a.activation) == "relu" else torch.tanh(s)
        elif a.cell == "lstm":
            i, f = torch.sigmoid(gi[0] + gh[0]), torch.sigmoid(gi[1] + gh[1])
            g, o = torch.tanh(gi[2] + gh[2]), torch.sigmoid(gi[3] + gh[3])
            c = f * c + i * g
            h = o * torch.tanh(c)
        else:
            r, z = torch.sigmoid(gi[0] + gh[0]), torch.sigmoid(gi[1] + gh[1])
            if variant == "torch":  # n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
                n = torch.tanh(gi[2] + r * gh[2])
            elif variant == "b_hn outside r":  # n = tanh(W_in x + b_in + b_hn + r * W_hn h)
                n = torch.tanh(gi[2] + bh[2] + r * (h @ wh[2].T))
            elif variant == "r before W_hn":  # n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
                n = torch.tanh(gi[2] + (r * h) @ wh[2].T + bh[2])
            elif variant == "z swapped":  # h = z * n + (1 - z) * h
                n = torch.tanh(gi[2] + r * gh[2])
                z = 1 - z
            else:
                raise KeyError(variant)
            h = (1 - z) * n + z * h
        hs.append(h)
    hseq = torch.stack(hs, 1)
    if a.last:
        hseq = hseq[:, -1]
    return (hseq @ p["out.weight"].T + p["out.bias"]).flatten(1)


def diagnose(a, st, x, want, got):
    d = (got - want).abs()
    if not a.last:
        per_step = d.reshape(d.shape[0], a.T, a.N).amax(dim=(0, 2))
        bad = [t for t in range(a.T) if per_step[t] > TOL]
        print("torch_seq: max |diff| per step: "
              + " ".join(f"{v:.1e}" for v in per_step.tolist()))
        if bad:
            print(f"torch_seq: the first step that differs is t = {bad[0]} (0-based)")
    names = GATES[a.cell]
    ident = tuple(range(len(names)))
    tries = []
    for perm in itertools.permutations(ident):
        tries.append((perm, "torch", None))
    if a.cell == "gru":
        for v in ("b_hn outside r", "r before W_hn", "z swapped"):
            for perm in itertools.permutations(ident):
                tries.append((perm, v, None))
    if a.cell == "rnn":
        tries.append((ident, "torch", "relu" if a.activation == "tanh" else "tanh"))
    found = []
    for perm, variant, act in tries:
        e = (manual(a, st, x, perm, variant, act) - want).abs().max().item()
        if (perm, variant, act) == (ident, "torch", None):
            print(f"torch_seq: PyTorch's formulas in float64: max |diff| = {e:.2e}")
        elif e < TOL:
            found.append((perm, variant, act, e))
    for perm, variant, act, e in found:
        what = []
        if perm != ident:
            what.append("the gates (" + ", ".join(names) + ") are read from the blocks of H rows ("
                        + ", ".join(str(g) for g in perm) + ") of each h.* tensor, not ("
                        + ", ".join(str(g) for g in ident) + ")")
        if variant != "torch":
            what.append("gru's candidate computed as '" + variant + "'")
        if act:
            what.append(f"activation {act} instead of {a.activation}")
        print(f"torch_seq: nncc's outputs match (max |diff| {e:.2e}) if " + "; ".join(what))
    if not found:
        print("torch_seq: no gate order or variant tried reproduces nncc's outputs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("pred")
    ap.add_argument("input")
    ap.add_argument("cell", choices=sorted(GATES))
    ap.add_argument("T", type=int)
    ap.add_argument("F", type=int)
    ap.add_argument("H", type=int)
    ap.add_argument("N", type=int)
    ap.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    ap.add_argument("--last", action="store_true", help="return = last")
    ap.add_argument("--no-bias", action="store_true", help="bias = false")
    a = ap.parse_args()

    st = load_safetensors(a.ckpt)
    net = Seq(a)
    try:
        net.load_state_dict(st)  # strict: names and shapes must match
    except RuntimeError as e:
        print(f"torch_seq: the checkpoint does not load into the PyTorch module: {e}")
        print("torch_seq: checkpoint: " + ", ".join(f"{k} {list(v.shape)}" for k, v in st.items()))
        return 1
    x = read_csv(a.input, a.T * a.F).reshape(-1, a.T, a.F)
    want = read_csv(a.pred)
    nout = a.N if a.last else a.T * a.N
    if want.shape != (x.shape[0], nout):
        print(f"torch_seq: {a.pred} is {tuple(want.shape)}, wanted ({x.shape[0]}, {nout})")
        return 1
    with torch.no_grad():
        got = net(x.float()).double()
    err = (got - want).abs().max().item()
    print(f"torch_seq: {a.cell}{' ' + a.activation if a.cell == 'rnn' else ''}"
          f"{' last' if a.last else ''}{' no bias' if a.no_bias else ''}: "
          f"{x.shape[0]} rows x {nout} outputs, max |torch - nncc| = {err:.2e}")
    if err < TOL:
        return 0
    with torch.no_grad():
        diagnose(a, st, x, want, got)
    return 1


sys.exit(main())
