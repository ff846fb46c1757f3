#!/usr/bin/python3
"""torch_ref.py — PyTorch references for `make bench` (tests/bench/run.sh).

The bench models of tests/bench/models/*.nn rebuilt in PyTorch (CPU,
float32, same shapes, batch, loss and optimizer), timed like the trainer's
--bench: one batch of random data (x uniform in [0, 1); random classes,
uniform reals or the input itself as targets), 10 warm-up steps, then the
timed steps, each zero_grad + forward + loss + backward + step (mode train)
or a forward pass without autograd (mode infer).  One line per model:

  torch model=mlp mode=train batch=64 threads=1 steps=... seconds=...
        samples_per_s=... step_us=...

(the median of --reps runs; for the character models a sample is one
character).  Run with /usr/bin/python3 (Debian's python3-torch).
OPENBLAS_NUM_THREADS is set to 1 before torch is imported: torch 1.13 does
not limit OpenBLAS's threads itself.

usage: torch_ref.py --threads N [--seconds S] [--reps R] [MODEL ...]
"""
import argparse
import os
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before torch loads OpenBLAS

WARMUP = 10  # as the trainer's --bench

# name: (mode, batch, what it is)
MODELS = {
    "mlp": ("train", 64, "784-256-128-10 relu, softmax cross-entropy, SGD momentum"),
    "autoencoder": ("train", 64, "784-128-32-128-784 relu, sigmoid, MSE vs input, SGD momentum"),
    "xor": ("train", 4, "2-4-1 sigmoid, BCE, SGD momentum"),
    "iris": ("train", 16, "4-16 tanh-3 softmax, cross-entropy, SGD momentum"),
    "mlp-infer": ("infer", 64, "the mlp, forward only"),
    "mlp_b1-infer": ("infer", 1, "the mlp at batch 1, forward only"),
    # tests/bench/models/lenet.nn, char_rnn.nn, char_lstm.nn, char_gru.nn:
    "lenet": ("train", 64, "conv5x5x20 pool2 conv5x5x50 pool2 dense500 dense10, SGD momentum"),
    "char_rnn": ("train", 32, "one-hot 65, tanh RNN 128, 64 steps, dense 65, SGD momentum"),
    "char_lstm": ("train", 32, "one-hot 65, LSTM 128, 64 steps, dense 65, SGD momentum"),
    "char_gru": ("train", 32, "one-hot 65, GRU 128, 64 steps, dense 65, SGD momentum"),
}
VOCAB, HIDDEN, SEQ = 65, 128, 64


def build(torch, name, batch):
    """(module, loss function or None, inputs, targets, lr, samples/step)."""
    nn = torch.nn
    g = torch.Generator().manual_seed(0)
    uni = lambda *s: torch.rand(*s, generator=g)
    cls = lambda k, *s: torch.randint(0, k, s, generator=g)
    if name in ("mlp", "mlp-infer", "mlp_b1-infer"):
        m = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                          nn.ReLU(), nn.Linear(128, 10))
        # nncc's output layer is softmax, fused with cross-entropy in training;
        # CrossEntropyLoss takes the logits.  Inference returns probabilities.
        if name != "mlp":
            m.append(nn.Softmax(dim=1))
        return m, nn.CrossEntropyLoss(), uni(batch, 28, 28), cls(10, batch), 0.05, batch
    if name == "autoencoder":
        m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU(),
                          nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid())
        x = uni(batch, 784)
        return m, nn.MSELoss(), x, x, 0.01, batch
    if name == "xor":
        m = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
        return m, nn.BCELoss(), uni(batch, 2), uni(batch, 1), 0.5, batch
    if name == "iris":
        m = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
        return m, nn.CrossEntropyLoss(), uni(batch, 4), cls(3, batch), 0.005, batch
    if name == "lenet":
        m = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500),
                          nn.ReLU(), nn.Linear(500, 10))
        return m, nn.CrossEntropyLoss(), uni(batch, 1, 28, 28), cls(10, batch), 0.05, batch
    if name.startswith("char_"):
        cell = {"char_rnn": nn.RNN, "char_lstm": nn.LSTM, "char_gru": nn.GRU}[name]

        class Char(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = cell(VOCAB, HIDDEN, batch_first=True)
                self.out = nn.Linear(HIDDEN, VOCAB)

            def forward(self, x):
                h, _ = self.rnn(x)
                return self.out(h).reshape(-1, VOCAB)

        ids = cls(VOCAB, batch, SEQ + 1)
        x = torch.nn.functional.one_hot(ids[:, :-1], VOCAB).float()
        return Char(), nn.CrossEntropyLoss(), x, ids[:, 1:].reshape(-1), 0.05, batch * SEQ
    raise KeyError(name)


def bench(torch, name, threads, seconds, reps):
    mode, batch, _ = MODELS[name]
    torch.manual_seed(0)
    m, lossf, x, t, lr, samples = build(torch, name, batch)
    if mode == "train":
        opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9)

        def step():
            opt.zero_grad(set_to_none=True)
            lossf(m(x), t).backward()
            opt.step()
    else:
        m.eval()

        def step():
            with torch.inference_mode():
                m(x)
    for _ in range(WARMUP):
        step()
    # Steps for about `seconds` per run, from a short timed run.
    n, dt = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        dt = time.perf_counter() - t0
        if dt > 0.02:
            break
        n *= 4
    steps = max(3, int(n * seconds / dt))
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        runs.append(time.perf_counter() - t0)
    secs = sorted(runs)[len(runs) // 2]
    print(f"torch model={name} mode={mode} batch={batch} threads={threads} steps={steps} "
          f"seconds={secs:.6g} samples_per_s={steps * samples / secs:.1f} "
          f"step_us={1e6 * secs / steps:.6g}", flush=True)


def blas_lib():
    """The BLAS shared object torch loaded (its matmuls go there)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = path.rsplit("/", 1)[-1]
                if path.startswith("/") and base.startswith("lib") and "blas" in base:
                    return path
    except OSError:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=0.3, help="per timed run")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--list", action="store_true", help="list the models")
    ap.add_argument("models", nargs="*", default=[])
    a = ap.parse_args()
    if a.list:
        for k, (mode, b, what) in MODELS.items():
            print(f"{k:14} {mode:5} batch {b:3}  {what}")
        return 0
    for k in a.models:
        if k not in MODELS:
            print(f"torch_ref.py: unknown model '{k}' (--list)", file=sys.stderr)
            return 2
    try:
        import torch
    except ImportError as e:
        print(f"torch-skip PyTorch is not installed for {sys.executable} ({e}); "
              f"install python3-torch", flush=True)
        return 0
    torch.set_num_threads(a.threads)
    torch.ones(8, 8) @ torch.ones(8, 8)  # load the BLAS
    print(f"torch-info version={torch.__version__} threads={torch.get_num_threads()} "
          f"blas={blas_lib()} openblas_threads={os.environ['OPENBLAS_NUM_THREADS']} "
          f"coretype={os.environ.get('OPENBLAS_CORETYPE', '-')}", flush=True)
    for k in a.models or list(MODELS):
        bench(torch, k, a.threads, a.seconds, a.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
