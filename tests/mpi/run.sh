#!/bin/sh
# Data-parallel training under Open MPI (issue 9): `mpirun -np 2` of a
# trainer of per-rank batch B gives the parameters of one process of batch
# 2B from the same seed, within float tolerance (tests/mpi/stcmp.c reads
# both checkpoints and compares every element), and not those of another
# seed.  Also: the epoch figures agree, a rank may get no rows of the last
# batch, exact resume under MPI (at an epoch boundary, and after SIGTERM
# inside an epoch), batchnorm and dropout train with the ranks in step,
# the refusals, and fashion_mlp: 1 epoch on 2 ranks reaches the accuracy
# of one process within 0.5 points.
#   tests/mpi/run.sh BUILD_DIR
# Skipped (exit 0, with a message) when mpicc or mpirun is missing.
build=${1:-build}
cc=${CC:-cc}
out=$build/mpi
pass=0 fail=0

if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
  echo "mpi: skipped: mpicc or mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
  exit 0
fi
${MAKE:-make} -s BUILD="$build" "$build/nncc" "$build/libnnrt.a" "$build/libnnrt_mpi.a" || exit 1
rm -rf "$out" && mkdir -p "$out"
# Open MPI refuses root without these; --oversubscribe: 2 ranks on any
# machine, one core or more.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi2() { mpirun -np 2 --oversubscribe "$@"; }

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$2" ] && tail -5 "$2"; }

$cc -O2 -std=c11 -Wall -Wextra -o "$out/stcmp" tests/mpi/stcmp.c -lcjson -lm || exit 1

# trainer NAME SOURCE.nn LIB: compile SOURCE into $out/NAME against LIB
# (libnnrt.a with cc, libnnrt_mpi.a with mpicc).
trainer() {
  comp=$cc
  case $3 in *mpi*) comp="env OMPI_CC=$cc mpicc" ;; esac
  "$build/nncc" "$2" -o "$out/$1.c" &&
    $comp -O2 -march=native -fopenmp -Iruntime -o "$out/$1" "$out/$1.c" "$build/$3" \
      -lcjson -lz -lm
}

# close WHAT A B: every tensor of A and B within rtol 1e-5, atol 1e-6.
close() {
  if "$out/stcmp" "$2" "$3" 1e-5 1e-6 >"$out/cmp.log" 2>&1; then ok "$1: $(cat "$out/cmp.log")"
  else bad "$1" "$out/cmp.log"; fi
}

# apart WHAT A B: A and B differ beyond that tolerance (stcmp exit 1).
apart() {
  "$out/stcmp" "$2" "$3" 1e-5 1e-6 >"$out/cmp.log" 2>&1
  if [ $? = 1 ]; then ok "$1"; else bad "$1: stcmp did not find them different" "$out/cmp.log"; fi
}

# within A B D: |A - B| <= D (A, B non-empty numbers).
within() {
  [ -n "$1" ] && [ -n "$2" ] &&
    awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { exit !(a - b <= d && b - a <= d) }'
}

same() {
  if cmp -s "$2" "$3"; then ok "$1"; else bad "$1: $2 and $3 differ"; diff "$2" "$3" | head -5; fi
}

# status WHAT WANT CMD...: CMD exits with WANT and its stderr names TEXT
# ($want_text, when set).
status() {
  what=$1 want=$2; shift 2
  "$@" >"$out/st.log" 2>&1
  got=$?
  if [ "$got" != "$want" ]; then bad "$what: exit status $got, wanted $want" "$out/st.log"
  elif [ -n "$want_text" ] && ! grep -qF -- "$want_text" "$out/st.log"; then
    bad "$what: no '$want_text' in the output" "$out/st.log"
  else ok "$what"; fi
  want_text=
}

# 1. Equivalence: per-rank batch 16 on 2 ranks = batch 32 in one process.
# The training data is the first 1412 rows, so the last global batch has
# 4 rows: all rank 0's, and rank 1 contributes a zero gradient.
head -n 1413 models/data/digits_train.csv >"$out/train1412.csv"
for m in mlp_sgd mlp_adam; do
  sed 's/^\( *batch *= *\)16$/\132/' "tests/mpi/$m.nn" >"$out/${m}_32.nn"
  grep -q 'batch *= *32$' "$out/${m}_32.nn" || bad "$m: no 'batch = 16' line to derive the 2B copy"
  trainer "${m}_16" "tests/mpi/$m.nn" libnnrt_mpi.a || bad "$m: build (mpi)"
  trainer "${m}_32" "$out/${m}_32.nn" libnnrt.a || bad "$m: build (batch 32)"
  a="--train $out/train1412.csv"
  mpi2 "$out/${m}_16" $a --save "$out/${m}_np2.st" >"$out/${m}_np2.log" 2>&1 ||
    bad "$m: mpirun -np 2" "$out/${m}_np2.log"
  "$out/${m}_32" $a --save "$out/${m}_np1.st" >"$out/${m}_np1.log" 2>&1 ||
    bad "$m: one process, batch 32" "$out/${m}_np1.log"
  close "$m: 2 ranks x batch 16 = 1 process x batch 32" "$out/${m}_np2.st" "$out/${m}_np1.st"
  mpi2 "$out/${m}_16" $a --seed 99 --save "$out/${m}_seed.st" >"$out/${m}_seed.log" 2>&1 ||
    bad "$m: mpirun -np 2 --seed 99" "$out/${m}_seed.log"
  apart "$m: another seed gives other parameters" "$out/${m}_np2.st" "$out/${m}_seed.st"
  grep '^final:' "$out/${m}_np2.log" >"$out/${m}_np2.final"
  grep '^final:' "$out/${m}_np1.log" >"$out/${m}_np1.final"
  same "$m: the same final figures (loss and accuracy summed over the ranks)" \
    "$out/${m}_np2.final" "$out/${m}_np1.final"
done
# 2410 parameters in an arena of 2416 floats (padded to 64 bytes)
# 3 ranks = batch 48: the last global batch (20 rows) gives 16, 4 and 0.
sed 's/^\( *batch *= *\)16$/\148/' tests/mpi/mlp_sgd.nn >"$out/mlp_sgd_48.nn"
trainer mlp_sgd_48 "$out/mlp_sgd_48.nn" libnnrt.a || bad "mlp_sgd: build (batch 48)"
mpirun -np 3 --oversubscribe "$out/mlp_sgd_16" --train "$out/train1412.csv" \
  --save "$out/mlp_sgd_np3.st" >"$out/mlp_sgd_np3.log" 2>&1 ||
  bad "mlp_sgd: mpirun -np 3" "$out/mlp_sgd_np3.log"
"$out/mlp_sgd_48" --train "$out/train1412.csv" --save "$out/mlp_sgd_48.st" >/dev/null 2>&1 ||
  bad "mlp_sgd: one process, batch 48"
close "mlp_sgd: 3 ranks x batch 16 = 1 process x batch 48" \
  "$out/mlp_sgd_np3.st" "$out/mlp_sgd_48.st"
if grep -qxF "mpi: 2 ranks, global batch 32, allreduce of 9664 bytes a step" "$out/mlp_sgd_np2.log"
then ok "mlp_sgd: the banner gives ranks, global batch and bytes a step"
else bad "mlp_sgd: no mpi banner line" "$out/mlp_sgd_np2.log"; fi
if [ "$(grep -c '^model ' "$out/mlp_sgd_np2.log")" = 1 ]; then ok "mlp_sgd: rank 0 alone prints"
else bad "mlp_sgd: more than one banner" "$out/mlp_sgd_np2.log"; fi

# 2. Exact resume under MPI at an epoch boundary: 1 epoch + 2 resumed =
# 3 epochs, bitwise; also from the log file.
t=$out/mlp_adam_16
a="--train $out/train1412.csv"
mpi2 "$t" $a --epochs 1 --checkpoint "$out/adam1.state" --log "$out/adam_r.csv" \
  >"$out/adam1.log" 2>&1 || bad "resume: the first epoch" "$out/adam1.log"
mpi2 "$t" $a --resume "$out/adam1.state" --epochs 3 --save "$out/adam_r.st" \
  --log "$out/adam_r.csv" \
  >"$out/adam_r.log" 2>&1 || bad "resume: epochs 2 and 3" "$out/adam_r.log"
same "resume: 1 epoch + 2 resumed under mpirun = 3 epochs, bitwise" \
  "$out/mlp_adam_np2.st" "$out/adam_r.st"
if [ "$(wc -l <"$out/adam_r.csv")" = 4 ]; then ok "resume: rank 0's --log has 3 epochs"
else bad "resume: --log" "$out/adam_r.csv"; fi

# 3. Batchnorm (per-rank statistics, running statistics averaged) and
# dropout (each rank its own masks): trains, the ranks stay in step (the
# trainer checks every epoch and fails otherwise), near one process.
sed 's/^\( *batch *= *\)16$/\132/' tests/mpi/bn_drop.nn >"$out/bn_drop_32.nn"
trainer bn_drop_16 tests/mpi/bn_drop.nn libnnrt_mpi.a || bad "bn_drop: build (mpi)"
trainer bn_drop_32 "$out/bn_drop_32.nn" libnnrt.a || bad "bn_drop: build (batch 32)"
mpi2 "$out/bn_drop_16" --save "$out/bn_np2.st" >"$out/bn_np2.log" 2>&1 &&
  ok "bn_drop: 10 epochs under mpirun -np 2, parameters and buffers the same on both ranks" ||
  bad "bn_drop: mpirun -np 2" "$out/bn_np2.log"
"$out/bn_drop_32" --save "$out/bn_np1.st" >"$out/bn_np1.log" 2>&1 || bad "bn_drop: one process"
acc2=$(sed -n 's/^final: .* acc \([0-9.]*\)%$/\1/p' "$out/bn_np2.log")
acc1=$(sed -n 's/^final: .* acc \([0-9.]*\)%$/\1/p' "$out/bn_np1.log")
if within "$acc1" "$acc2" 3
then ok "bn_drop: test accuracy $acc2% on 2 ranks, $acc1% in one process (within 3 points)"
else bad "bn_drop: test accuracy '$acc2' on 2 ranks vs '$acc1'"; fi
apart "bn_drop: not the one-process run (per-rank statistics and masks)" \
  "$out/bn_np2.st" "$out/bn_np1.st"

# 3b. Early stopping on a held-out validation set (validation = 0.2, the
# same rows on every rank) decides the same on 2 ranks of 8 as in one
# process of 16; --eval under mpirun gives the one-process figures.
sed 's/^\( *batch *= *\)8$/\116/' tests/run/early_stop.nn >"$out/early_16.nn"
trainer early_8 tests/run/early_stop.nn libnnrt_mpi.a || bad "early_stop: build (mpi)"
trainer early_16 "$out/early_16.nn" libnnrt.a || bad "early_stop: build (batch 16)"
mpi2 "$out/early_8" --save "$out/early_np2.st" >"$out/early_np2.log" 2>&1 ||
  bad "early_stop: mpirun -np 2" "$out/early_np2.log"
"$out/early_16" --save "$out/early_np1.st" >"$out/early_np1.log" 2>&1 ||
  bad "early_stop: one process"
grep '^restored\|^early stopping\|^final' "$out/early_np2.log" >"$out/early_np2.stop"
grep '^restored\|^early stopping\|^final' "$out/early_np1.log" >"$out/early_np1.stop"
if [ -s "$out/early_np2.stop" ]; then
  same "early_stop: stops after the same epoch, restores the same one" \
    "$out/early_np2.stop" "$out/early_np1.stop"
else bad "early_stop: no early stopping lines" "$out/early_np2.log"; fi
close "early_stop: 2 ranks x batch 8 = 1 process x batch 16" "$out/early_np2.st" "$out/early_np1.st"
trainer mlp_sgd_plain tests/mpi/mlp_sgd.nn libnnrt.a || bad "mlp_sgd: build (plain)"
mpi2 "$out/mlp_sgd_16" --eval --load "$out/mlp_sgd_np1.st" >"$out/eval_np2.log" 2>&1 ||
  bad "--eval under mpirun -np 2" "$out/eval_np2.log"
"$out/mlp_sgd_plain" --eval --load "$out/mlp_sgd_np1.st" >"$out/eval_np1.log" 2>&1
same "--eval under mpirun -np 2 (batches dealt out) = one process" \
  "$out/eval_np2.log" "$out/eval_np1.log"

# 4. Refusals.
trainer char_rnn models/char_rnn.nn libnnrt_mpi.a || bad "char_rnn: build"
want_text="is stateful" status "a stateful model is refused under mpirun -np 2" 2 \
  mpi2 "$out/char_rnn" --epochs 1
want_text="--predict runs in one process" status "--predict is refused under mpirun -np 2" 2 \
  mpi2 "$out/mlp_sgd_16" --predict models/data/digits_test.csv
# rank1 CMD ARGS...: CMD, with ARGS on rank 1 only.
rank1() {
  prog=$1; shift
  mpi2 sh -c 'p=$1; shift; [ "$OMPI_COMM_WORLD_RANK" = 1 ] || set --; exec "$p" --epochs 1 "$@"' \
    sh "$prog" "$@"
}
want_text="another rank failed" status "a file missing on one rank stops every rank" 1 \
  rank1 "$out/mlp_sgd_16" --test /nonexistent.csv
want_text="the ranks read different training data" \
  status "other training data on one rank is refused" 1 \
  rank1 "$out/mlp_sgd_16" --train "$out/train1412.csv"
want_text="the ranks' parameters differ before training" \
  status "other --load parameters on one rank are refused" 1 \
  rank1 "$out/mlp_sgd_16" --load "$out/mlp_sgd_seed.st"
want_text="is not finite" status "a NaN stops every rank (no rank left waiting)" 1 \
  timeout 120 mpirun -np 2 --oversubscribe "$out/mlp_sgd_16" --lr 1e30
status "the MPI trainer without mpirun is the one-process trainer" 0 \
  "$out/mlp_sgd_16" --train "$out/train1412.csv" --save "$out/np1_mpibuild.st"
"$out/mlp_sgd_plain" --train "$out/train1412.csv" --save "$out/np1_plain.st" >/dev/null 2>&1
same "... bitwise the plain libnnrt.a's" "$out/np1_mpibuild.st" "$out/np1_plain.st"

# 5. fashion_mlp: 1 epoch on 2 ranks (batch 64 each) and in one process
# (batch 128), test accuracy within 0.5 points; then SIGTERM to mpirun
# inside an epoch, resume, and get bitwise the uninterrupted run.
fm=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ -f "$fm" ]; then
  sed 's/^\( *batch *= *\)64$/\1128/' models/fashion_mlp.nn >"$out/fashion_128.nn"
  trainer fashion_64 models/fashion_mlp.nn libnnrt_mpi.a || bad "fashion: build (mpi)"
  trainer fashion_128 "$out/fashion_128.nn" libnnrt.a || bad "fashion: build (batch 128)"
  mpi2 "$out/fashion_64" --epochs 1 --threads 1 --save "$out/fa2.st" >"$out/fa2.log" 2>&1 ||
    bad "fashion: mpirun -np 2" "$out/fa2.log"
  "$out/fashion_128" --epochs 1 --threads 1 >"$out/fa1.log" 2>&1 || bad "fashion: one process"
  acc2=$(sed -n 's/^final: .* acc \([0-9.]*\)%$/\1/p' "$out/fa2.log")
  acc1=$(sed -n 's/^final: .* acc \([0-9.]*\)%$/\1/p' "$out/fa1.log")
  if within "$acc1" "$acc2" 0.5
  then ok "fashion_mlp: 1 epoch, test accuracy $acc2% on 2 ranks, $acc1% in one process"
  else bad "fashion_mlp: test accuracy '$acc2' on 2 ranks vs '$acc1'"; fi
  ck=$out/fa.state
  rm -f "$ck"
  mpirun -np 2 --oversubscribe "$out/fashion_64" --epochs 1 --threads 1 --checkpoint "$ck" \
    --checkpoint-every 100steps >"$out/fa_sig.log" 2>&1 &
  pid=$!
  i=0
  while [ $i -lt 1200 ] && [ ! -f "$ck" ]; do sleep 0.05; i=$((i + 1)); done
  kill -TERM $pid 2>/dev/null
  wait $pid 2>/dev/null
  if grep -q "saved the training state to $ck" "$out/fa_sig.log"; then
    ok "fashion_mlp: SIGTERM to mpirun: the ranks agree on a step, rank 0 saves"
  else bad "fashion_mlp: SIGTERM to mpirun" "$out/fa_sig.log"; fi
  mpi2 "$out/fashion_64" --threads 1 --resume "$ck" --save "$out/fa_r.st" >"$out/fa_r.log" 2>&1 ||
    bad "fashion_mlp: resume after SIGTERM" "$out/fa_r.log"
  same "fashion_mlp: stopped by SIGTERM and resumed under mpirun = uninterrupted, bitwise" \
    "$out/fa2.st" "$out/fa_r.st"
else
  echo "skip fashion_mlp: $fm not found (apt-get install dataset-fashion-mnist)"
fi

echo "mpi: $pass passed, $fail failed"
[ "$fail" = 0 ]
