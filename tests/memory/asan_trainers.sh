#!/bin/sh
# Every model's trainer under AddressSanitizer + UBSan: each models/*.nn is
# compiled by BUILD/nncc, linked with BUILD/libnnrt.a (both built with the
# sanitizers: run this with BUILD=build-asan) and built with $ASAN_FLAGS and
# OpenMP, then run briefly on a small subset of its own data, derived here:
#   csv     the header and the first 200 rows: one epoch (--save), then
#           --load and --predict on 5 rows
#   idx     the first 128 images (and labels): one epoch (--save), then
#           --load and --predict on 8 images
#   text    the first 2049 bytes (1 batch of 32 streams of 64 steps): one
#           epoch (--save), then --load and --generate 3
#   series  the first 300 rows: one epoch (--save), then --load and
#           --predict on 30 rows
#   none    (alexnet, no data block) --predict on 1 row of random CSV: one
#           forward pass takes a minute under the sanitizers, a training
#           step four; ASAN_LONG=1 also trains one epoch on that row
# Any sanitizer report fails the run (halt on the first UBSan error, leaks
# checked at exit), as does an exit status other than 0.
#   tests/memory/asan_trainers.sh BUILD_DIR [MODEL.nn...]   (all of models/)
build=${1:-build-asan}
[ $# -gt 0 ] && shift
[ $# = 0 ] && set -- models/*.nn
cc=${CC:-cc}
flags=${ASAN_FLAGS:--O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer}
out=$build/asan-trainers
pass=0 fail=0
rm -rf "$out" && mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run NAME LOG COMMAND...: COMMAND exits 0 and prints no sanitizer report
run() {
  what=$1 log=$2; shift 2
  "$@" >"$log" 2>&1; rc=$?
  if [ $rc != 0 ] || grep -q 'Sanitizer\|runtime error:' "$log"; then
    fail=$((fail + 1)); echo "FAIL $what (exit status $rc): $*"; tail -30 "$log"; return 1
  fi
  pass=$((pass + 1)); echo "ok   $what"
}

# The model's data: the kind, and the paths of its train source.
kind_of() { sed -n 's/^ *train *= *\(csv\|idx\|text\|series\)(.*/\1/p' "$1" | head -1; }
paths_of() { # every quoted path of the train source (it may span two lines)
  awk '/^ *train *= *(csv|idx|text|series)\(/ { on = 1 } on { print } on && /\)/ { exit }' "$1" |
    grep -o '"[^"]*"' | tr -d '"'
}

# byte V: the byte of value V (0..255) to stdout
# shellcheck disable=SC2059 # the format is the octal escape of V
byte() { printf "\\$(printf %03o "$1")"; }

# idx_head SRC N DST: the first N items of the IDX file SRC (gzip'd or not),
# with the item count in the header set to N
idx_head() {
  gzip -dcf "$1" >"$3.all" || return 1
  nd=$(od -An -tu1 -j3 -N1 "$3.all" | tr -d ' ')
  item=1 i=1
  while [ $i -lt "$nd" ]; do
    item=$((item * $(od -An -tu4 --endian=big -j$((4 + 4 * i)) -N4 "$3.all" | tr -d ' ')))
    i=$((i + 1))
  done
  hdr=$((4 + 4 * nd))
  { head -c 4 "$3.all"
    for k in 24 16 8 0; do byte $(($2 >> k & 255)); done
    tail -c +9 "$3.all" | head -c $((hdr - 8 + $2 * item))
  } >"$3"
  rm -f "$3.all"
}

for m in "$@"; do
  name=$(basename "$m" .nn) d=$out/$name
  mkdir -p "$d"
  # shellcheck disable=SC2086 # flags is a list of flags
  if ! "$build/nncc" "$m" -o "$d/train.c" >"$d/build.log" 2>&1 ||
     ! $cc $flags -fopenmp -Iruntime -o "$d/train" "$d/train.c" "$build/libnnrt.a" \
       -lcjson -lz -lm >>"$d/build.log" 2>&1; then
    fail=$((fail + 1)); echo "FAIL $name: build"; tail -20 "$d/build.log"; continue
  fi
  t=$d/train ck=$d/ck.safetensors
  # shellcheck disable=SC2046 # one word a path (no spaces in models/' paths)
  set -- $(paths_of "$m")
  case $(kind_of "$m") in
  csv)
    head -n 201 "$1" >"$d/train.csv"; head -n 6 "$1" >"$d/predict.csv"
    run "$name train" "$d/train.log" "$t" --threads 2 --epochs 1 --train "$d/train.csv" \
      --test "$d/train.csv" --save "$ck" &&
      run "$name predict" "$d/predict.log" "$t" --load "$ck" --predict "$d/predict.csv" ;;
  idx)
    if ! idx_head "$1" 128 "$d/images.idx" || ! idx_head "$1" 8 "$d/predict.idx"; then
      fail=$((fail + 1)); echo "FAIL $name: subset of $1"; continue
    fi
    src=$d/images.idx
    if [ $# -gt 1 ]; then
      if ! idx_head "$2" 128 "$d/labels.idx"; then
        fail=$((fail + 1)); echo "FAIL $name: subset of $2"; continue
      fi
      src=$src,$d/labels.idx
    fi
    run "$name train" "$d/train.log" "$t" --threads 2 --epochs 1 --train "$src" --test "$src" \
      --save "$ck" &&
      run "$name predict" "$d/predict.log" "$t" --load "$ck" --predict "$d/predict.idx" ;;
  text)
    head -c 2049 "$1" >"$d/train.txt"
    run "$name train" "$d/train.log" "$t" --threads 2 --epochs 1 --train "$d/train.txt" \
      --test "$d/train.txt" --save "$ck" &&
      run "$name generate" "$d/predict.log" "$t" --load "$ck" --generate 3 ;;
  series)
    head -n 300 "$1" >"$d/train.csv"; head -n 30 "$1" >"$d/predict.csv"
    run "$name train" "$d/train.log" "$t" --threads 2 --epochs 1 --train "$d/train.csv" \
      --test "$d/train.csv" --save "$ck" &&
      run "$name predict" "$d/predict.log" "$t" --load "$ck" --predict "$d/predict.csv" ;;
  *)
    # no data block: 1 row of random values in [0, 1) (as many as the
    # product of the model's `input NAME[D1, D2, ...]`) and a class label
    # 0 last
    n=$(sed -n 's/^input *[a-z_0-9]* *\[\([0-9, ]*\)\].*/\1/p' "$m" |
      awk -F, 'NR == 1 { p = 1; for (i = 1; i <= NF; i++) p *= $i; print p }')
    if [ -z "$n" ]; then fail=$((fail + 1)); echo "FAIL $name: no input size in $m"; continue; fi
    awk -v n="$n" 'BEGIN { srand(1); for (i = 0; i < n; i++) printf "%.3f,", rand(); print 0 }' \
      >"$d/train.csv"
    if [ "${ASAN_LONG:-0}" = 1 ]; then
      run "$name train" "$d/train.log" "$t" --threads 2 --epochs 1 --train "$d/train.csv" ||
        continue
    fi
    run "$name predict" "$d/predict.log" "$t" --threads 2 --predict "$d/train.csv" ;;
  esac
done
echo "asan-trainers: $pass passed, $fail failed"
[ $fail = 0 ]
