#!/bin/sh
# Trainer runs: build the trainers of the example models from generated/,
# train them with their own settings (fixed seeds) and check the final
# figures against thresholds.  Exact losses are not compared: gcc and clang,
# and -march=native on different machines, round differently.
#   tests/run/run.sh BUILD_DIR
build=${1:-build}
cc=${CC:-cc}
pass=0 fail=0
out=$build/run
mkdir -p "$out"

# check NAME "TRAINER OPTIONS" FIELD OP LIMIT: FIELD of the `final:` line
# (loss or acc) compared with LIMIT.
check() {
  name=$1 opts=$2 field=$3 op=$4 limit=$5
  exe=$out/train_$name
  if [ ! -x "$exe" ] || [ "generated/$name.c" -nt "$exe" ] || [ "$build/libnnrt.a" -nt "$exe" ]; then
    $cc -O2 -march=native -fopenmp -Iruntime -o "$exe" "generated/$name.c" "$build/libnnrt.a" \
      -lcjson -lz -lm || { fail=$((fail + 1)); echo "FAIL $name: build"; return; }
  fi
  log=$out/$name$(echo "$opts" | tr -c 'a-z0-9' '_').log
  if ! $exe $opts >"$log" 2>&1; then
    fail=$((fail + 1)); echo "FAIL $name $opts: exit status"; tail -5 "$log"; return
  fi
  value=$(awk -v f="$field" '/^final:/ { for (i = 1; i < NF; i++) if ($i == f) { v = $(i + 1); sub("%", "", v); print v } }' "$log" | tail -1)
  if [ -z "$value" ]; then
    fail=$((fail + 1)); echo "FAIL $name $opts: no '$field' in the final line"; tail -3 "$log"; return
  fi
  if awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN { exit !(op == ">=" ? v >= l : v <= l) }'; then
    pass=$((pass + 1)); echo "ok   $name $opts: $field $value $op $limit"
  else
    fail=$((fail + 1)); echo "FAIL $name $opts: $field $value, wanted $op $limit"; tail -3 "$log"
  fi
}

check xor "" acc ">=" 100
check iris "" acc ">=" 95
check regression "" loss "<=" 0.02
check wine "" acc ">=" 90
check breast_cancer "" acc ">=" 93
check digits "" acc ">=" 93
check fashion_mlp "--epochs 1" acc ">=" 80
check lenet "--epochs 1 --save $out/lenet.safetensors" acc ">=" 84
check xor "--threads 1 --seed 7" acc ">=" 100

# expect NAME COMMAND...: the command succeeds
expect() {
  name=$1; shift
  if "$@" >"$out/expect.log" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name: $*"; tail -5 "$out/expect.log"
  fi
}

# The same seed gives bitwise the same weights with 1, 2 and 16 threads:
# work is split by output tiles, never by a reduction across threads.
# (fashion_mlp's products are large enough to run in parallel.)
t=$out/train_fashion_mlp
for n in 1 2 16; do
  expect "fashion_mlp 1 epoch, $n threads" $t --epochs 1 --threads $n --quiet \
    --save "$out/fashion_t$n.safetensors"
done
expect "fashion_mlp: 1 and 2 threads give the same checkpoint" \
  cmp "$out/fashion_t1.safetensors" "$out/fashion_t2.safetensors"
expect "fashion_mlp: 1 and 16 threads give the same checkpoint" \
  cmp "$out/fashion_t1.safetensors" "$out/fashion_t16.safetensors"

# A saved checkpoint evaluates to the figures training ended with, and
# --predict writes one line per input row.
t=$out/train_iris
$t --quiet --save "$out/iris.safetensors" >"$out/iris_train.txt" 2>&1
$t --load "$out/iris.safetensors" --eval >"$out/iris_eval.txt" 2>&1
expect "iris: --eval after --load repeats the final test figures" \
  sh -c "grep -o 'test loss [0-9.]* acc [0-9.]*%' '$out/iris_train.txt' | tail -1 >'$out/a' &&
         grep -o 'test loss [0-9.]* acc [0-9.]*%' '$out/iris_eval.txt' | tail -1 >'$out/b' &&
         test -s '$out/a' && cmp '$out/a' '$out/b'"
$t --load "$out/iris.safetensors" --predict models/data/iris_test.csv --output "$out/iris_pred.csv" >/dev/null 2>&1
expect "iris: --predict writes a row per input row" \
  sh -c "test \$(wc -l <'$out/iris_pred.csv') -eq \$(( \$(wc -l <models/data/iris_test.csv) - 1 ))"

# A PyTorch user loads the checkpoint into the equivalent nn.Module and gets
# the same predictions (skipped where /usr/bin/python3 has no torch).
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  expect "iris: the checkpoint loads into PyTorch with the same predictions" \
    /usr/bin/python3 tests/run/torch_load.py "$out/iris.safetensors" "$out/iris_pred.csv" \
    models/data/iris_test.csv
else
  echo "skip iris: PyTorch interop (python3-torch not installed)"
fi

# The same for the convolutional network: the conv2d weights load into
# nn.Conv2d unchanged, images go from (H, W, C) to (C, H, W), and flatten's
# (h, w, c) order is kept (the checkpoint of the 1-epoch run above).
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  imgs=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
  $out/train_lenet --load "$out/lenet.safetensors" --predict "$imgs" --output "$out/lenet_pred.csv" \
    >/dev/null 2>&1
  expect "lenet: the checkpoint loads into PyTorch with the same predictions" \
    /usr/bin/python3 tests/run/torch_lenet.py "$out/lenet.safetensors" "$out/lenet_pred.csv" "$imgs"
else
  echo "skip lenet: PyTorch interop (python3-torch not installed)"
fi

# nncc -o NAME (no .c) compiles and links a trainer.
expect "nncc -o builds an executable" "$build/nncc" models/xor.nn -o "$out/xor_exe"
expect "that executable trains" "$out/xor_exe" --quiet

echo "run: $pass passed, $fail failed"
[ $fail = 0 ]
