#!/bin/sh
# Golden tests, paired by extension (as in cproc): for every tests/golden/**/X.nn
#   X.err      stderr of `nncc X.nn -o /dev/null`, which must exit 1
#   X.ir       stdout of `nncc --emit=plan X.nn -o -`
#   X.summary  stdout of `nncc --summary X.nn`
#   X.c        stdout of `nncc X.nn -o -`
# are compared with `diff -u`.  Run from the project root.
#   tests/golden/run.sh [--update] [NNCC]
# --update rewrites the expected files from the current output (check the
# diff by eye before committing).
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
nncc=${1:-build/nncc}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name expected actual
  if [ $update = 1 ]; then cp "$3" "$2"; fi
  if diff -u "$2" "$3" >"$tmp/diff"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL $1"; head -40 "$tmp/diff"
  fi
}

for nn in $(find tests/golden -name '*.nn' | LC_ALL=C sort); do
  base=${nn%.nn}
  if [ -f "$base.err" ]; then
    "$nncc" "$nn" -o /dev/null 2>"$tmp/err" >/dev/null; rc=$?
    if [ $rc != 1 ]; then
      fail=$((fail + 1)); echo "FAIL $nn: exit status $rc, expected 1"; cat "$tmp/err"
    else
      check "$base.err" "$base.err" "$tmp/err"
    fi
  fi
  if [ -f "$base.ir" ]; then
    "$nncc" --emit=plan "$nn" -o - >"$tmp/ir" 2>&1
    check "$base.ir" "$base.ir" "$tmp/ir"
  fi
  if [ -f "$base.summary" ]; then
    "$nncc" --summary "$nn" >"$tmp/sum" 2>&1
    check "$base.summary" "$base.summary" "$tmp/sum"
  fi
  if [ -f "$base.c" ]; then
    "$nncc" "$nn" -o - >"$tmp/c" 2>&1
    check "$base.c" "$base.c" "$tmp/c"
  fi
done
echo "golden: $pass passed, $fail failed"
[ $fail = 0 ]
