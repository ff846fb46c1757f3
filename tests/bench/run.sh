#!/bin/sh
# tests/bench/run.sh BUILD — `make bench`: nncc's trainers against PyTorch,
# the FMA loop and a BLAS, in one run; prints figures, asserts nothing.
#
#   BUILD                 the build directory holding nncc and libnnrt.a
#   CC, TRAIN_CFLAGS, OPENMP, RT_LIBS   as in the Makefile
#   BENCH_SECONDS         length of one timed run (default 0.3)
#   BENCH_PYTHON          the Python with torch (default /usr/bin/python3)
#
# Every timed figure is the median of 3 runs.  Raw lines land in
# BUILD/bench/results.txt; the tables are printed from them at the end.
set -u
BUILD=${1:-build}
CC=${CC:-cc}
TRAIN_CFLAGS=${TRAIN_CFLAGS:--O3 -march=native}
OPENMP=${OPENMP:--fopenmp}
RT_LIBS=${RT_LIBS:--lcjson -lz -lm}
SECS=${BENCH_SECONDS:-0.3}
PY=${BENCH_PYTHON:-/usr/bin/python3}
NNCC=$BUILD/nncc
OUT=$BUILD/bench
RES=$OUT/results.txt
HERE=tests/bench
# torch 1.13 does not limit OpenBLAS's threads itself (see torch_ref.py).
export OPENBLAS_NUM_THREADS=1

for f in "$NNCC" "$BUILD/libnnrt.a"; do
  [ -f "$f" ] || { echo "bench: $f is missing (make all)" >&2; exit 1; }
done
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
echo "load start=$(cut -d' ' -f1 /proc/loadavg)" >"$RES"

say() { echo "bench: $*" >&2; }
now_ns() { date +%s%N; }
# median of the numbers on stdin (one per line)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# the value of KEY=... in a line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# ------------------------------------------------------- compile the models
# Bench models: tests/bench/models/*.nn -> $OUT/train_<name>.  FLOPs per
# sample from the parameter table of the generated C (weights [out, in]):
# 2*in*out per product; training does forward and backward-weights for
# every layer and backward-data for all but the first (whose input needs no
# gradient); inference the forward products only.  A recurrent model's
# sample is a whole window of T steps, so its FLOPs are per window; seq=T
# and vocab=V come from the descriptor of the generated C (.steps, .vocab),
# and for a token model (V > 0, the char_* models) nncc_run also reports
# characters/s = windows/s * T, the unit of torch_ref.py's char figures.
for m in "$HERE"/models/*.nn; do
  n=$(basename "$m" .nn)
  say "compiling $m"
  "$NNCC" "$m" -o "$OUT/$n.c" || { echo "bench: nncc failed on $m" >&2; exit 1; }
  t0=$(now_ns)
  # shellcheck disable=SC2086
  $CC $TRAIN_CFLAGS $OPENMP -Iruntime -o "$OUT/train_$n" "$OUT/$n.c" "$BUILD/libnnrt.a" \
    $RT_LIBS || { echo "bench: $CC failed on $OUT/$n.c" >&2; exit 1; }
  t1=$(now_ns)
  # nncc writes the products' FLOPs per sample into the front matter
  awk -v n="$n" -v s="$(( (t1 - t0) / 1000000 ))" '
    /^\/\/ FLOPs per sample in products:/ { tr = $8; sub(",", "", tr); inf = $10; sub("\\.", "", inf) }
    /^  \.steps = [0-9]+,$/ { st = $3 + 0 }
    /^  \.vocab = [0-9]+,$/ { vo = $3 + 0 }
    END { printf "flops model=%s train=%.0f infer=%.0f build_ms=%s seq=%d vocab=%d\n", n, tr, inf, s, st, vo }' \
    "$OUT/$n.c" >>"$RES"
done

# --------------------------------------------------------------- the probes
say "building the FMA and sgemm probes"
# shellcheck disable=SC2086
$CC -O3 -march=native $OPENMP -o "$OUT/fma" "$HERE/fma.c" ||
  { echo "bench: cannot build $HERE/fma.c" >&2; exit 1; }
run_fma() { "$OUT/fma" "$(awk -v s="$SECS" 'BEGIN { print 2 * s }')" >>"$RES"; }

# sgemm against OpenBLAS when it is installed, and against the system BLAS
# (libblas.so.3: what PyTorch loads).  Own command: one thread, and no
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so OpenBLAS picks its kernel.
# Debian keeps OpenBLAS's cblas.h in a directory of its own.
blas_inc=""
for d in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas \
         /usr/include/$(uname -m)-linux-gnu/openblas-pthread; do
  [ -f "$d/cblas.h" ] && { blas_inc="-I$d"; break; }
done
for lib in openblas blas; do
  if $CC -O2 $blas_inc -o "$OUT/sgemm_$lib" $HERE/sgemm.c -l$lib 2>"$OUT/sgemm_$lib.err"; then
    echo "sgemm-built lib=$lib" >>"$RES"
  else
    echo "sgemm-missing lib=$lib" >>"$RES"
  fi
done

# -------------------------------------------------------------------- runs
run_fma

# nncc_run NAME MODE THREADS: calibrate the steps for about $SECS a run,
# then 3 runs; one line with the medians.
nncc_run() {
  exe=$OUT/train_$1 opt=--bench
  [ "$2" = infer ] && opt=--bench-infer
  say "nncc $1 $2 threads=$3"
  steps=20
  while :; do
    line=$("$exe" $opt $steps --threads "$3") || { echo "bench: $exe failed" >&2; return; }
    s=$(echo "$line" | field seconds)
    if awk -v s="$s" 'BEGIN { exit !(s > 0.02) }' || [ "$steps" -ge 100000000 ]; then
      break
    fi
    steps=$((steps * 10))
  done
  steps=$(awk -v n="$steps" -v s="$s" -v t="$SECS" 'BEGIN { k = int(n * t / s); print k < 1 ? 1 : k }')
  : >"$OUT/runs"
  for _ in 1 2 3; do
    "$exe" $opt "$steps" --threads "$3" >>"$OUT/runs" || return
  done
  sps=$(field samples_per_s <"$OUT/runs" | median)
  us=$(field step_us <"$OUT/runs" | median)
  b=$(head -n 1 "$OUT/runs" | field batch)
  # a token model's sample is a window of T characters
  chars=$(awk -v m="$1" -v sps="$sps" '$1 == "flops" && $2 == "model=" m {
      for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["vocab"] > 0 && f["seq"] > 0) printf " chars_per_s=%.1f", sps * f["seq"] }' "$RES")
  echo "nncc model=$1 mode=$2 batch=$b threads=$3 steps=$steps samples_per_s=$sps step_us=$us$chars" >>"$RES"
}

for t in 1 2; do
  for mm in mlp:train autoencoder:train xor:train iris:train lenet:train char_rnn:train \
            char_lstm:train char_gru:train mlp:infer mlp_b1:infer; do
    nncc_run "${mm%%:*}" "${mm#*:}" $t
  done
done

# PyTorch: every model on one thread; on two threads only those nncc has.
if [ -x "$PY" ]; then
  for t in 1 2; do
    models=
    [ $t = 2 ] && models="mlp autoencoder xor iris lenet char_rnn char_lstm char_gru mlp-infer mlp_b1-infer"
    say "PyTorch threads=$t ${models:-(all models)}"
    # shellcheck disable=SC2086
    "$PY" $HERE/torch_ref.py --threads $t --seconds "$SECS" $models >>"$RES" ||
      echo "torch-skip $HERE/torch_ref.py failed" >>"$RES"
  done
else
  echo "torch-skip $PY not found (set BENCH_PYTHON)" >>"$RES"
fi

for lib in openblas blas; do
  if [ -x "$OUT/sgemm_$lib" ]; then
    say "sgemm lib=$lib"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      "$OUT/sgemm_$lib" "$(awk -v s="$SECS" 'BEGIN { print 5 * s }')" |
      sed "s/\$/ probe=$lib/" >>"$RES"
  fi
done

run_fma

# ------------------------------------------------------------ compile times
# nncc on each example model (mean of 20 runs), and the -O3 build of the C
# it writes (median of 3).
say "compile times"
for m in models/*.nn; do
  n=$(basename "$m" .nn)
  "$NNCC" "$m" -o "$OUT/ex_$n.c" || continue
  t0=$(now_ns)
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    "$NNCC" "$m" -o /dev/null
  done
  t1=$(now_ns)
  : >"$OUT/runs"
  for _ in 1 2 3; do
    c0=$(now_ns)
    # shellcheck disable=SC2086
    $CC $TRAIN_CFLAGS $OPENMP -Iruntime -c -o "$OUT/ex_$n.o" "$OUT/ex_$n.c"
    c1=$(now_ns)
    echo $(( (c1 - c0) / 1000000 )) >>"$OUT/runs"
  done
  echo "compile model=$n nncc_ms=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 20 / 1e6 }') cc_ms=$(median <"$OUT/runs")" >>"$RES"
done

echo "load end=$(cut -d' ' -f1 /proc/loadavg)" >>"$RES"

# ------------------------------------------------------------------ tables
{
  echo "cpu $(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1), $(nproc) cores; cc: $($CC --version | head -n 1)"
  cat "$RES"
} | awk -f $HERE/table.awk

# ----------------------------------------------- products against OpenBLAS
# The MLP's two largest products as nncc emits them (its layer functions,
# timed directly) and as OpenBLAS's sgemm computes them, one thread each.
echo
echo "== products, one thread, GFLOP/s: nncc's layer functions vs sgemm, same shape"
if $CC $TRAIN_CFLAGS $OPENMP $blas_inc -DHAVE_CBLAS -DMODEL_C="\"$(cd "$OUT" && pwd)/mlp.c\"" -Iruntime \
     -o "$OUT/products" "$HERE/products.c" "$BUILD/libnnrt.a" -lopenblas $RT_LIBS 2>/dev/null ||
   $CC $TRAIN_CFLAGS $OPENMP -DMODEL_C="\"$(cd "$OUT" && pwd)/mlp.c\"" -Iruntime \
     -o "$OUT/products" "$HERE/products.c" "$BUILD/libnnrt.a" $RT_LIBS; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
    "$OUT/products" "$SECS" | awk '{ r = ($7 != "" && $7 > 0) ? sprintf("%.2fx", $5 / $7) : "";
      printf "%-8s %-12s nncc %6.1f   OpenBLAS %6s   %s\n", $2, $3, $5, $7, r }'
fi
