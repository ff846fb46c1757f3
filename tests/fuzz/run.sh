#!/bin/sh
# tests/fuzz/run.sh BUILD TARGET... — for each target: run its regression
# inputs (tests/fuzz/regress/TARGET/, every crash found so far, fixed),
# then fuzz it for $FUZZ_SECONDS seconds from its seeds and its corpus
# (BUILD/corpus/TARGET, kept between runs).  A crash, a leak, a sanitizer
# report or a timeout fails the target and leaves the input in
# BUILD/crash/.  Ends with "fuzz: N passed, M failed".
build=$1
shift
secs=${FUZZ_SECONDS:-60}
pass=0 fail=0
seeds=$build/seeds
mkdir -p "$build/crash" "$seeds"

# Seeds: the example models and every golden test for the front end; the
# data files of models/data and the unit tests' fixtures for the loaders;
# checkpoints of models/xor.nn for the reader.
mkdir -p "$seeds/nncc" "$seeds/csv" "$seeds/idx" "$seeds/text" "$seeds/ckpt"
cp models/*.nn "$seeds/nncc/"
for d in tests/golden/*/; do
  for f in "$d"*.nn; do cp "$f" "$seeds/nncc/$(basename "$d")_$(basename "$f")"; done
done
for f in models/data/*.csv tests/unit/data/*.csv; do
  head -c 4096 "$f" >"$seeds/csv/$(basename "$f")"
done
cp tests/unit/data/*.idx tests/unit/data/*.idx.gz "$seeds/idx/"
# .npy seeds as np.save writes them: a 118-byte header (data at 128), then
# little-endian values: float32 (3, 2), int64 (3,), uint8 (2, 2), v2.0 float64 (2,)
mkdir -p "$seeds/npy"
npy_seed() { # FILE DICT VALUES (printf escapes)
  printf '\223NUMPY\001\000\166\000%-117s\n' "$2" >"$seeds/npy/$1"
  printf "$3" >>"$seeds/npy/$1"
}
npy_seed f4.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }" \
  '\000\000\200\077\000\000\000\100\000\000\100\100\000\000\200\100\000\000\240\100\000\000\300\100'
npy_seed i8.npy "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" \
  '\002\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000'
npy_seed u1.npy "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }" '\001\002\003\377'
printf '\223NUMPY\002\000\164\000\000\000%-115s\n' \
  "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }" >"$seeds/npy/f8v2.npy"
printf '\077\360\000\000\000\000\000\000\100\000\000\000\000\000\000\000' >>"$seeds/npy/f8v2.npy"
for f in models/data/*.txt; do head -c 2048 "$f" >"$seeds/text/$(basename "$f")"; done
printf 'the cat sat on the mat\n' >"$seeds/text/mat.txt"
cp tests/unit/data/*.ckpt "$seeds/ckpt/"
if [ ! -f "$seeds/ckpt/xor.safetensors" ]; then
  "$build/nncc" models/xor.nn -o "$build/xor_train.c" &&
    ${HOSTCC:-cc} -O1 -Iruntime -o "$build/xor_train" "$build/xor_train.c" runtime/*.c \
      -lcjson -lz -lm &&
    "$build/xor_train" --epochs 1 --quiet --save "$seeds/ckpt/xor.safetensors" >/dev/null &&
    "$build/xor_train" --epochs 1 --quiet --checkpoint "$seeds/ckpt/xor.state.safetensors" >/dev/null
fi

for t in "$@"; do
  exe=$build/fuzz/fuzz_$t
  corpus=$build/corpus/$t
  mkdir -p "$corpus"
  log=$build/fuzz_$t.log
  opts="-timeout=10 -rss_limit_mb=2048 -artifact_prefix=$build/crash/$t-"
  [ "$t" = nncc ] && opts="$opts -max_len=16384"
  if [ -d "tests/fuzz/regress/$t" ] && ls "tests/fuzz/regress/$t"/* >/dev/null 2>&1; then
    if ! "$exe" $opts tests/fuzz/regress/$t/* >"$log.regress" 2>&1; then
      fail=$((fail + 1)); echo "FAIL fuzz_$t: a regression input"; tail -20 "$log.regress"
      continue
    fi
  fi
  if "$exe" $opts -max_total_time="$secs" -print_final_stats=1 "$corpus" "$seeds/$t" \
       >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    pass=$((pass + 1))
    echo "ok   fuzz_$t: $runs inputs in ${secs}s, $cov, corpus $(ls "$corpus" | wc -l)"
  else
    fail=$((fail + 1)); echo "FAIL fuzz_$t (log: $log)"; grep -A30 "^==[0-9]*==ERROR\|^SUMMARY\|deadly signal\|fuzz target exited" "$log" | head -40
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail = 0 ]
