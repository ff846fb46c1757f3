#!/usr/bin/env python3
"""Write the binary inputs of tests/baddata (run from anywhere; the
outputs are checked in, so tests/baddata/run.sh does not need Python).

IDX layout (runtime/data_idx.c): magic 00 00 08 N, N big-endian uint32
sizes, then prod(sizes) unsigned bytes.  models/lenet.nn reads 28x28x1
images and class labels 0..9."""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(dims, body, magic=b"\x00\x00\x08"):
    return magic + bytes([len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def pixels(n):
    return bytes((i * 7) % 256 for i in range(n))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# three good 28x28 images and their labels: the other half of most cases
write("idx_images.idx", idx([3, 28, 28], pixels(3 * 784)))
write("idx_labels.idx", idx([3], bytes([0, 9, 4])))
# images of 10x10, not the 28x28 the model reads
write("idx_size.idx", idx([3, 10, 10], pixels(3 * 100)))
# the header says 3 images, the body holds 2 and 100 bytes
write("idx_truncated.idx", idx([3, 28, 28], pixels(2 * 784 + 100)))
# the same, gzip'd: a complete gzip stream of a short body
write("idx_truncated.idx.gz", gzip.compress(idx([3, 28, 28], pixels(2 * 784 + 100)), mtime=0))
# a gzip stream cut in the middle (a partial download)
write("idx_cut.idx.gz", gzip.compress(idx([3, 28, 28], pixels(3 * 784)), mtime=0)[:200])
# 2 labels for the 3 images
write("idx_count.idx", idx([2], bytes([0, 9])))
# magic 00 00 0d 03: an IDX file of floats, which the loader does not read
write("idx_magic.idx", idx([3, 28, 28], pixels(3 * 784), magic=b"\x00\x00\x0d"))
# label 10 of 10 classes (0..9) at item 1, byte offset 8 + 1
write("idx_label_range.idx", idx([3], bytes([0, 10, 4])))
# one byte after the 3 labels
write("idx_trailing.idx", idx([3], bytes([0, 9, 4, 1])))
# the header stops after the magic and one of three sizes
write("idx_header.idx", idx([3, 28, 28], b"")[:8])
# a CSV row holding a NUL byte (e.g. a file saved as UTF-16)
write("csv_nul.csv", b"sepal_length,sepal_width,petal_length,petal_width,species\n"
      b"5.1,3.5,1.4,0.2,0\n4.9,3.0\x00,1.4,0.2,0\n6.3,3.3,6.0,2.5,2\n")
# a text with a character that the training text (fortunes) never uses:
# the UTF-8 bytes of 'o' with diaeresis
write("text_vocab.txt", "A cold w\u00f6rld.\n".encode("utf-8"))
# every byte value once: 256 distinct characters, the model holds 96
write("text_too_many.txt", bytes(range(256)) * 9)
