#!/bin/sh
# Numeric tests: every tests/numeric/*.nn is compiled by nncc, built as a
# double-precision trainer (-DNN_REAL=double) and run with --gradcheck,
# which compares the generated backward pass with central differences on
# random inputs and targets (rtol 1e-5, atol 1e-8) and exits 1 on failure.
#
#   tests/numeric/run.sh [BUILD]          (from the project root)
#
# BUILD (default build) holds nncc and libnnrt.a.  Environment:
#   CC              C compiler for the trainers (default gcc); they must
#                   build without a warning (-Wall -Wextra -Werror)
#   NUMERIC_CFLAGS  extra flags for the trainers (-fopenmp, -fsanitize=...)
#   NUMERIC_ONLY    a model base name: run that model only
# A model may carry a line `# expect-zero: NAME ...`: those parameters'
# gradients must be exactly zero (gradcheck reports max abs err 0: the
# numeric derivative is 0 there, so the error is the analytic value).
# Last line: `numeric: N passed, M failed`; exit status 1 if M > 0.
build=${1:-build}
cc=${CC:-gcc}
nncc=$build/nncc
lib=$build/libnnrt.a
for f in "$nncc" "$lib"; do
  if [ ! -f "$f" ]; then echo "numeric: $f is missing (make $f)"; exit 2; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

for nn in tests/numeric/*.nn; do
  name=$(basename "$nn" .nn)
  if [ -n "${NUMERIC_ONLY:-}" ] && [ "$NUMERIC_ONLY" != "$name" ]; then continue; fi
  if ! "$nncc" "$nn" -o "$tmp/$name.c" 2>"$tmp/$name.err"; then
    fail=$((fail + 1)); echo "FAIL $name: nncc failed"; cat "$tmp/$name.err"; continue
  fi
  # shellcheck disable=SC2086
  if ! $cc -O2 -DNN_REAL=double -Wall -Wextra -Werror ${NUMERIC_CFLAGS:-} -Iruntime -o "$tmp/$name" \
       "$tmp/$name.c" "$lib" -lcjson -lz -lm 2>"$tmp/$name.err"; then
    fail=$((fail + 1)); echo "FAIL $name: $cc failed"; grep -m3 "error" "$tmp/$name.err"; continue
  fi
  "$tmp/$name" --gradcheck >"$tmp/$name.out" 2>&1; rc=$?
  # the largest errors over all tensors
  summary=$(awk '/^gradcheck .*max abs err/ {
      a = $(NF-4); r = $NF; sub(/,$/, "", a);
      if (a + 0 > ma) ma = a + 0; if (r + 0 > mr) mr = r + 0; n++ }
    END { printf "%d tensors, max abs err %.2g, max rel err %.2g", n, ma, mr }' "$tmp/$name.out")
  why=""
  [ $rc = 0 ] || why="exit status $rc"
  grep -q '^gradcheck: 0 of [0-9]* elements outside tolerance' "$tmp/$name.out" ||
    why="${why:+$why, }elements outside tolerance"
  for p in $(sed -n 's/^# expect-zero://p' "$nn"); do
    grep -q "^gradcheck $p: .* max abs err 0, " "$tmp/$name.out" ||
      why="${why:+$why, }gradient of $p not exactly zero"
  done
  if [ -n "$why" ]; then
    fail=$((fail + 1)); echo "FAIL $name ($cc): $why"; cat "$tmp/$name.out"
  else
    pass=$((pass + 1)); echo "ok   $name ($cc): $summary"
  fi
done

echo "numeric: $pass passed, $fail failed"
[ $fail = 0 ]
