#!/usr/bin/env python3
"""Writes the binary fixtures of the runtime's unit tests (IDX files and
checkpoints) with Python's standard library only, as an implementation of
the formats independent of libnnrt.  Run from tests/unit/data:
    python3 make_fixtures.py
The CSV fixtures beside it are written by hand."""
import gzip
import json
import struct


def idx(dims, data):
    """IDX of unsigned bytes: 00 00 08 ndims, big-endian u32 sizes, data."""
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def write(name, b):
    with open(name, "wb") as f:
        f.write(b)


def write_gz(name, b):
    # mtime=0: the same bytes on every run
    with open(name, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(b)


# 3 images of 2x2; pixel values chosen to cover 0 and 255.
images = [0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 0]
img = idx([3, 2, 2], images)
lbl = idx([3], [0, 2, 1])
write("img3.idx", img)
write_gz("img3.idx.gz", img)
write("lbl3.idx", lbl)
write_gz("lbl3.idx.gz", lbl)
write("lbl3_range.idx", idx([3], [0, 7, 1]))       # label 7 with K = 3
write("lbl2.idx", idx([2], [0, 1]))                # count mismatch
write("lbl3x2.idx", idx([3, 2], [0, 1, 2, 3, 4, 5]))  # two values per item
write("img_bad_magic.idx", b"\x12\x34\x56\x78" + img[4:])
write("img_trunc.idx", img[:-2])                   # 2 data bytes missing
write_gz("img_trunc.idx.gz", img[:-2])
write("img_trailing.idx", img + b"\x00")
write("img_hdr_trunc.idx", img[:10])               # inside the 3rd size
write("img_zero.idx", idx([0, 2, 2], []))
write("img3x8.idx", idx([3, 8], list(range(24))))  # 8 values per image
write("empty.idx", b"")
# A gzip stream cut in the middle of its compressed data.
gz = gzip.compress(idx([4, 16], list(range(64))), mtime=0)
write("img_cut.idx.gz", gz[: len(gz) - 12])


def safetensors(tensors, metadata):
    """tensors: [(name, dtype, shape, values)] in data order."""
    fmt = {"F32": "<f", "F64": "<d"}
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        b = b"".join(struct.pack(fmt[dtype], v) for v in values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


W = [0.5 * i - 1 for i in range(6)]
B = [0.25, -0.125]
meta = {"model": "tiny", "hash": "0123456789abcdef", "nncc_format": "1"}
for dt in ("F32", "F64"):
    write("tiny_%s.ckpt" % dt.lower(),
          safetensors([("w", dt, [2, 3], W), ("b", dt, [2], B)], meta))
# As torch's safetensors would write it: no nncc metadata, another order.
write("tiny_torch_f64.safetensors", safetensors([("b", "F64", [2], B), ("w", "F64", [2, 3], W)], None))
