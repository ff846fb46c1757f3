#!/usr/bin/env python3
"""Regenerate every data file in models/data/ (see README.md there).

    python3 models/data/make_data.py                 # write the files
    python3 models/data/make_data.py --check         # compare, write nothing
    python3 models/data/make_data.py --shared DIR    # sklearn CSVs elsewhere

Needs only the Python standard library.  The output is deterministic: it
depends on nothing but the input files and the fixed seeds below (the random
numbers come from a PCG32 written out here, not from Python's `random`, so
the bytes do not depend on the Python version).

Inputs (default DIR: <project root>/../shared/data, the copies of
scikit-learn's bundled data sets): iris.csv, wine_data.csv,
breast_cancer.csv, digits.csv.gz.

Outputs (in the directory of this script):
  iris_{train,test}.csv            120 / 30 rows, stratified 80/20
  wine_{train,test}.csv            142 / 36
  breast_cancer_{train,test}.csv   456 / 113
  digits_{train,test}.csv          1438 / 359
  xor.csv                          the 4 rows of XOR
  regression_{train,test}.csv      1000 / 200 rows of y = sin(2x) + 0.5x + noise
"""
import argparse
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
          "regression": 5}

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


def build(shared):
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

    rng = PCG32(SEED, STREAM["regression"])
    train, sse_train = regression(rng, 1000)
    test, sse_test = regression(rng, 200)
    files["regression_train.csv"] = to_csv(["x", "y"], train)
    files["regression_test.csv"] = to_csv(["x", "y"], test)
    stats = ("regression: MSE of the true function sin(2x) + 0.5x against "
             "the written y: train %.5f, test %.5f (noise variance 0.01)"
             % (sse_train / 1000, sse_test / 200))
    return files, stats


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared", "data"),
                    help="directory with sklearn's iris.csv, wine_data.csv, "
                         "breast_cancer.csv, digits.csv.gz")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk; write nothing; "
                         "exit 1 if any differs")
    ap.add_argument("--out", default=here, help="output directory")
    a = ap.parse_args()

    files, stats = build(a.shared)
    bad = 0
    for name in sorted(files):
        path = os.path.join(a.out, name)
        data = files[name].encode("ascii")
        nrows = files[name].count("\n") - 1
        if a.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            print("%-26s %5d rows  %s" % (name, nrows, "ok" if same else "DIFFERS"))
            bad += not same
        else:
            with open(path, "wb") as f:
                f.write(data)
            print("%-26s %5d rows" % (name, nrows))
    print(stats)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
