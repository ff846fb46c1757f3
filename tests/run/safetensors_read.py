"""An nncc checkpoint read with the standard library, for the torch_*.py
checks beside this file: an 8-byte little-endian header length, a JSON
header, then the raw little-endian tensors (the safetensors layout), so
neither the `safetensors` package nor nncc's runtime is involved on this
side.  Import it after torch (the scripts exit 77 when torch is missing).
"""
import json
import struct

import torch


def load_safetensors(path):
    """The checkpoint's tensors by name, as float32 torch tensors (int64
    ones, such as batchnorm's num_batches_tracked, as int64)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        buf = bytearray(body[b:e])
        v = torch.frombuffer(buf, dtype=dtypes[t["dtype"]]).reshape(t["shape"])
        out[name] = v if t["dtype"] == "I64" else v.float()
    return out
