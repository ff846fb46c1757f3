#!/usr/bin/env python3
"""Regenerate every data file in models/data/ (see README.md there).

    python3 models/data/make_data.py                 # write the files
    python3 models/data/make_data.py --check         # compare, write nothing
    python3 models/data/make_data.py --shared DIR    # sklearn CSVs elsewhere
    python3 models/data/make_data.py --fortunes DIR  # fortune files elsewhere

Needs only the Python standard library.  The output is deterministic: it
depends on nothing but the input files and the fixed seeds below (the random
numbers come from a PCG32 written out here, not from Python's `random`, so
the bytes do not depend on the Python version).

Inputs (default DIR: <project root>/../shared/data, the copies of
scikit-learn's bundled data sets): iris.csv, wine_data.csv,
breast_cancer.csv, digits.csv.gz; and the fortune files fortunes,
literature, science of Debian's fortunes-min and fortunes packages
(default /usr/share/games/fortunes).

Outputs (in the directory of this script):
  iris_{train,test}.csv            120 / 30 rows, stratified 80/20
  wine_{train,test}.csv            142 / 36
  breast_cancer_{train,test}.csv   456 / 113
  digits_{train,test}.csv          1438 / 359
  xor.csv                          the 4 rows of XOR
  and.csv, or.csv                  the 4 rows of AND and of OR
  regression_{train,test}.csv      1000 / 200 rows of y = sin(2x) + 0.5x + noise
  fortunes_{train,test}.txt        the fortune entries, about 90 / 10, as text
  sine_{train,test}.csv            3000 / 1000 rows of sin(2 pi t / 25) + noise
"""
import argparse
import collections
import csv
import gzip
import io
import math
import os
import sys

M64 = (1 << 64) - 1
SEED = 42  # every data set uses this seed, with its own PCG32 stream


class PCG32:
    """PCG32 XSH-RR 64/32 with the reference seeding (pcg32_srandom_r)."""

    MULT = 6364136223846793005

    def __init__(self, seed, stream):
        self.state = 0
        self.inc = ((stream << 1) | 1) & M64
        self.u32()
        self.state = (self.state + seed) & M64
        self.u32()

    def u32(self):
        old = self.state
        self.state = (old * self.MULT + self.inc) & M64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & 0xFFFFFFFF

    def below(self, n):
        """Uniform integer in [0, n), unbiased (pcg32_boundedrand_r)."""
        threshold = (1 << 32) % n
        while True:
            r = self.u32()
            if r >= threshold:
                return r % n

    def uniform(self):
        """Uniform float in [0, 1) with 53 random bits (two draws)."""
        a = self.u32() >> 5
        b = self.u32() >> 6
        return (a * 67108864.0 + b) / 9007199254740992.0

    def normal(self):
        """N(0, 1) by Box-Muller, two uniforms per call."""
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)

    def shuffle(self, a):
        """Fisher-Yates, in place."""
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


# Streams: one per output data set, so adding one never changes another.
STREAM = {"iris": 1, "wine": 2, "breast_cancer": 3, "digits": 4,
          "regression": 5, "fortunes": 6, "sine": 7}

FORTUNE_FILES = ["fortunes", "literature", "science"]
FORTUNES_DIR = "/usr/share/games/fortunes"
MAX_VOCAB = 96  # the text models declare input : int[64, 96]
SINE_PERIOD = 25
SINE_ROWS = (3000, 1000)

IRIS_COLS = ["sepal_length", "sepal_width", "petal_length", "petal_width",
             "species"]

WINE_COLS = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash",
             "magnesium", "total_phenols", "flavanoids",
             "nonflavanoid_phenols", "proanthocyanins", "color_intensity",
             "hue", "od280_od315_of_diluted_wines", "proline", "cultivar"]

_BC_BASE = ["radius", "texture", "perimeter", "area", "smoothness",
            "compactness", "concavity", "concave_points", "symmetry",
            "fractal_dimension"]
# sklearn's order: 10 means, 10 standard errors, 10 "worst" values; target
# 0 = malignant, 1 = benign (kept as in sklearn).
BC_COLS = (["mean_" + b for b in _BC_BASE] + [b + "_error" for b in _BC_BASE]
           + ["worst_" + b for b in _BC_BASE] + ["benign"])

DIGITS_COLS = ["pixel_%d_%d" % (r, c) for r in range(8) for c in range(8)] \
    + ["digit"]


def read_sklearn_csv(path, nfeat):
    """Rows of an sklearn CSV whose first line is `n_rows,n_features,...`."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if not path.endswith(".gz"):  # iris, wine, breast_cancer have the header
        head, rows = rows[0], rows[1:]
        if int(head[0]) != len(rows) or int(head[1]) != nfeat:
            sys.exit("%s: header %s does not match %d rows of %d features"
                     % (path, head[:2], len(rows), nfeat))
    for i, r in enumerate(rows):
        if len(r) != nfeat + 1:
            sys.exit("%s: row %d has %d columns, expected %d"
                     % (path, i + 1, len(r), nfeat + 1))
        for v in r[:-1]:
            float(v)  # must be a number
        # class label: an integer (sklearn may write "0" or "0.0")
        c = float(r[-1])
        if c != int(c) or c < 0:
            sys.exit("%s: row %d: class %r is not an integer >= 0"
                     % (path, i + 1, r[-1]))
        r[-1] = str(int(c))
    return rows


def stratified_split(rows, rng, test_percent=20):
    """Split rows 80/20 within each class.

    For each class in ascending order, the indices of its rows (in file
    order) are shuffled and the first round(20% of the class) go to the
    test set, the rest to the training set.  Then the training and the test
    set are each shuffled once more, so that classes are interleaved.  Field
    text is copied verbatim."""
    by_class = {}
    for i, r in enumerate(rows):
        by_class.setdefault(int(r[-1]), []).append(i)
    classes = sorted(by_class)
    if classes != list(range(len(classes))):
        sys.exit("classes are not 0..K-1: %s" % classes)
    train, test = [], []
    for c in classes:
        idx = by_class[c]
        rng.shuffle(idx)
        ntest = (len(idx) * test_percent + 50) // 100  # round half up
        test += idx[:ntest]
        train += idx[ntest:]
    rng.shuffle(train)
    rng.shuffle(test)
    return [rows[i] for i in train], [rows[i] for i in test]


def to_csv(header, rows):
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    for r in rows:
        out.write(",".join(r) + "\n")
    return out.getvalue()


def g6(v):
    """6 significant digits; never "-0"."""
    s = "%.6g" % v
    return "0" if s in ("-0", "0") else s


def regression(rng, n):
    """Rows (x, y) with x ~ U[-3, 3] rounded to 6 significant digits,
    y = sin(2x) + 0.5x + e, e ~ N(0, 0.1^2), computed from the rounded x.
    Also returns the sum of the squared errors of the true function against
    the written y (the noise, plus rounding)."""
    rows, sse = [], 0.0
    for _ in range(n):
        x = float(g6(-3.0 + 6.0 * rng.uniform()))
        f = math.sin(2.0 * x) + 0.5 * x
        y = g6(f + 0.1 * rng.normal())
        sse += (float(y) - f) ** 2
        rows.append([g6(x), y])
    return rows, sse


def fortune_entries(path):
    """The entries of a fortune file: the text between lines that hold
    only "%", each entry's lines kept as they are and ending in a newline;
    entries of nothing but white space are skipped."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    entries, cur = [], []
    for line in lines + [b"%"]:
        if line == b"%":
            text = b"".join(l + b"\n" for l in cur)
            if text.strip():
                entries.append(text)
            cur = []
        else:
            cur.append(line)
    return entries


def text_stats(b):
    """Characters, distinct bytes and unigram entropy in bits/char."""
    c = collections.Counter(b)
    n = len(b)
    h = -sum(v / n * math.log2(v / n) for v in c.values())
    return n, len(c), h


def fortunes(src, rng):
    """Train and test text from the fortune files, and a report.

    Entries in file order (the files in FORTUNE_FILES order); each goes to
    the test part when rng.below(10) == 0, else to the training part.  A
    test entry with a byte the training part lacks moves to the training
    part (repeated until none is left), so the test text needs no character
    the training text does not have.  If the training text has more than
    MAX_VOCAB distinct bytes, the entries holding its rarest byte are
    dropped until it has no more (none are, with the Debian files).  Each
    text is its entries separated by blank lines."""
    entries = []
    for name in FORTUNE_FILES:
        path = os.path.join(src, name)
        if not os.path.exists(path):
            sys.exit("%s: not found (Debian's fortunes-min has fortunes and "
                     "literature, fortunes has science; or give --fortunes DIR)"
                     % path)
        entries += fortune_entries(path)
    test_side = [rng.below(10) == 0 for _ in entries]
    notes = []
    while True:
        have = set(b"".join(e for e, t in zip(entries, test_side) if not t))
        moved = [i for i, e in enumerate(entries)
                 if test_side[i] and not set(e) <= have]
        if not moved:
            break
        for i in moved:
            test_side[i] = False
        notes.append("fortunes: %d test entr%s with characters the training "
                     "text lacks moved to the training text"
                     % (len(moved), "y" if len(moved) == 1 else "ies"))
    while True:
        count = collections.Counter(
            b"".join(e for e, t in zip(entries, test_side) if not t))
        if len(count) <= MAX_VOCAB:
            break
        rare = min(count, key=lambda b: (count[b], b))
        keep = [rare not in e for e in entries]
        notes.append("fortunes: %d distinct bytes, more than %d: dropped the "
                     "%d entries holding byte 0x%02x (%d occurrences)"
                     % (len(count), MAX_VOCAB, keep.count(False), rare,
                        count[rare]))
        entries = [e for e, k in zip(entries, keep) if k]
        test_side = [t for t, k in zip(test_side, keep) if k]
    train = [e for e, t in zip(entries, test_side) if not t]
    test = [e for e, t in zip(entries, test_side) if t]
    tr, te = b"\n".join(train), b"\n".join(test)
    assert set(te) <= set(tr)
    for what, b, k in (("train", tr, len(train)), ("test", te, len(test))):
        n, d, h = text_stats(b)
        notes.append("fortunes %-5s: %d entries, %d characters, %d distinct, "
                     "unigram entropy %.4f bits/char" % (what, k, n, d, h))
    return tr, te, notes


def sine(rng):
    """x_t = sin(2 pi t / 25) + e_t, e_t ~ N(0, 0.1^2), t = 0, 1, ...,
    rounded to 6 significant digits; the first SINE_ROWS[0] rows train, the
    next SINE_ROWS[1] (the series continued) test.  Also the mean squared
    noise as written (against the pure sine)."""
    rows, sse = [], 0.0
    for t in range(sum(SINE_ROWS)):
        f = math.sin(2.0 * math.pi * t / SINE_PERIOD)
        x = g6(f + 0.1 * rng.normal())
        sse += (float(x) - f) ** 2
        rows.append(x + "\n")
    n = SINE_ROWS[0]
    return "".join(rows[:n]), "".join(rows[n:]), sse / len(rows)


def build(shared, fortunes_dir):
    files = {}
    for name, src, nfeat, cols in [
            ("iris", "iris.csv", 4, IRIS_COLS),
            ("wine", "wine_data.csv", 13, WINE_COLS),
            ("breast_cancer", "breast_cancer.csv", 30, BC_COLS),
            ("digits", "digits.csv.gz", 64, DIGITS_COLS)]:
        rows = read_sklearn_csv(os.path.join(shared, src), nfeat)
        train, test = stratified_split(rows, PCG32(SEED, STREAM[name]))
        files[name + "_train.csv"] = to_csv(cols, train)
        files[name + "_test.csv"] = to_csv(cols, test)

    files["xor.csv"] = to_csv(["x1", "x2", "y"], [
        ["0", "0", "0"], ["0", "1", "1"], ["1", "0", "1"], ["1", "1", "0"]])
    files["and.csv"] = to_csv(["x1", "x2", "y"], [
        ["0", "0", "0"], ["0", "1", "0"], ["1", "0", "0"], ["1", "1", "1"]])
    files["or.csv"] = to_csv(["x1", "x2", "y"], [
        ["0", "0", "0"], ["0", "1", "1"], ["1", "0", "1"], ["1", "1", "1"]])

    rng = PCG32(SEED, STREAM["regression"])
    train, sse_train = regression(rng, 1000)
    test, sse_test = regression(rng, 200)
    files["regression_train.csv"] = to_csv(["x", "y"], train)
    files["regression_test.csv"] = to_csv(["x", "y"], test)
    stats = ["regression: MSE of the true function sin(2x) + 0.5x against "
             "the written y: train %.5f, test %.5f (noise variance 0.01)"
             % (sse_train / 1000, sse_test / 200)]

    tr, te, notes = fortunes(fortunes_dir, PCG32(SEED, STREAM["fortunes"]))
    files["fortunes_train.txt"] = tr
    files["fortunes_test.txt"] = te
    stats += notes

    tr, te, mse = sine(PCG32(SEED, STREAM["sine"]))
    files["sine_train.csv"] = tr
    files["sine_test.csv"] = te
    stats.append("sine: mean squared noise as written %.5f (variance 0.01)" % mse)
    return files, stats


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared", "data"),
                    help="directory with sklearn's iris.csv, wine_data.csv, "
                         "breast_cancer.csv, digits.csv.gz")
    ap.add_argument("--fortunes", default=FORTUNES_DIR,
                    help="directory with the fortune files fortunes, "
                         "literature, science")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk; write nothing; "
                         "exit 1 if any differs")
    ap.add_argument("--out", default=here, help="output directory")
    a = ap.parse_args()

    files, stats = build(a.shared, a.fortunes)
    bad = 0
    for name in sorted(files):
        path = os.path.join(a.out, name)
        data = files[name]
        if isinstance(data, str):
            data = data.encode("ascii")
        if name.endswith(".txt"):
            size = "%7d chars" % len(data)
        else:  # CSV: rows after the header line (the series have none)
            nrows = data.count(b"\n") - (0 if name.startswith("sine_") else 1)
            size = "%7d rows" % nrows
        if a.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            print("%-26s %-13s  %s" % (name, size, "ok" if same else "DIFFERS"))
            bad += not same
        else:
            with open(path, "wb") as f:
                f.write(data)
            print("%-26s %s" % (name, size))
    for line in stats:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
