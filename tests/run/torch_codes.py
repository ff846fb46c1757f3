"""--predict --layer code: the autoencoder's 32-dimensional codes, as
PyTorch computes them from the same checkpoint.

    torch_codes.py CHECKPOINT CODES.csv IMAGES.idx.gz

The encoder enc -> code (two nn.Linear + ReLU) is rebuilt from the
checkpoint's enc.* and code.* tensors, run on the images (scaled by 1/255
as the model's data block says) and compared with nncc's CSV.  Exits 77
when torch is missing.
"""
import gzip
import sys

try:
    import torch
except ImportError:
    sys.exit(77)

from safetensors_read import load_safetensors

ckpt, codes_csv, images = sys.argv[1:4]
t = load_safetensors(ckpt)
with gzip.open(images, "rb") as f:
    raw = f.read()
n = int.from_bytes(raw[4:8], "big")
x = torch.frombuffer(bytearray(raw[16:16 + n * 784]), dtype=torch.uint8).reshape(n, 784)
x = x.float() * (1 / 255)
enc = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                          torch.nn.Linear(128, 32), torch.nn.ReLU())
enc.load_state_dict({"0.weight": t["enc.weight"], "0.bias": t["enc.bias"],
                     "2.weight": t["code.weight"], "2.bias": t["code.bias"]}, strict=True)
with torch.no_grad():
    want = enc(x)
got = torch.tensor([[float(v) for v in line.split(",")] for line in open(codes_csv)])
if got.shape != want.shape:
    print(f"torch_codes: nncc wrote {tuple(got.shape)}, PyTorch has {tuple(want.shape)}")
    sys.exit(1)
# nncc prints 6 significant digits: compare relative to the magnitude
err = ((got - want).abs() / want.abs().clamp(min=1)).max().item()
print(f"torch_codes: {n} codes of 32, max |torch - nncc| / max(1, |torch|) {err:.2e}")
sys.exit(0 if err < 2e-5 else 1)
