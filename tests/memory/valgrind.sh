#!/bin/sh
# The iris trainer under valgrind's memcheck: compiled from models/iris.nn
# by BUILD/nncc with -O1 -g -fopenmp (no sanitizers), linked with
# BUILD/libnnrt.a, then
#   trained for 5 epochs on 2 threads, evaluated every epoch, --save
#   --load and --predict, --load and --eval
# which must exit 0, and three bad inputs (tests/baddata), which must exit 1
# after freeing what they allocated.  Any memcheck error or definitely lost
# block fails: valgrind exits 1 on the good runs, 125 on the bad ones (where
# 1 is the trainer's own status).  libgomp's thread pool is still reachable
# at exit, not lost, so OpenMP stays on.  Run from the project root.
#   tests/memory/valgrind.sh BUILD_DIR
build=${1:-build}
cc=${CC:-cc}
out=$build/valgrind
pass=0 fail=0
mkdir -p "$out"
vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite"

if ! "$build/nncc" models/iris.nn -o "$out/iris.c" ||
   ! $cc -O1 -g -fopenmp -Iruntime -o "$out/iris" "$out/iris.c" "$build/libnnrt.a" \
     -lcjson -lz -lm; then
  echo "FAIL build of iris"; echo "valgrind: 0 passed, 1 failed"; exit 1
fi

# vg NAME STATUS VALGRIND_ERROR_STATUS ARG...: exit status STATUS under
# valgrind, no memcheck report
vg() {
  name=$1 want=$2 vgerr=$3; shift 3
  $vg --error-exitcode="$vgerr" "$out/iris" "$@" >"$out/$name.log" 2>&1; rc=$?
  if [ $rc != "$want" ] || grep -q '^==[0-9]*==' "$out/$name.log"; then
    fail=$((fail + 1)); echo "FAIL $name: exit status $rc, wanted $want: iris $*"
    tail -40 "$out/$name.log"
  else
    pass=$((pass + 1)); echo "ok   $name"
  fi
}

ck=$out/iris.safetensors
vg train 0 1 --threads 2 --epochs 5 --save "$ck"
vg predict 0 1 --load "$ck" --predict models/data/iris_test.csv --output "$out/predict.csv"
vg eval 0 1 --load "$ck" --eval
vg bad_columns 1 125 --train tests/baddata/csv_too_few.csv
vg bad_label 1 125 --test tests/baddata/csv_label_large.csv
vg bad_missing 1 125 --load "$out/no_such.safetensors"
echo "valgrind: $pass passed, $fail failed"
[ $fail = 0 ]
