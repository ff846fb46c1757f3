#!/bin/sh
# nncc's --emit=dot and --emit=lib.  Run from the project root:
#   sh tests/emit/run.sh [--update] [BUILD]
# dot: every tests/emit/dot/X.nn beside X.dot, the stdout of
#   `nncc --emit=dot X.nn -o -`, compared with diff -u (--update rewrites the
#   .dot files); with Graphviz installed, `dot` must also accept each.
# lib: see lib.sh.
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
build=${1:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
nncc=$build/nncc
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for nn in $(find tests/emit/dot -name '*.nn' | LC_ALL=C sort); do
  want=${nn%.nn}.dot
  if ! "$nncc" --emit=dot "$nn" -o - >"$tmp/dot" 2>"$tmp/err"; then
    fail=$((fail + 1)); echo "FAIL $nn: nncc --emit=dot failed"; cat "$tmp/err"; continue
  fi
  [ $update = 1 ] && cp "$tmp/dot" "$want"
  if diff -u "$want" "$tmp/dot"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $want"; fi
  if command -v dot >/dev/null 2>&1; then
    if dot -Tsvg "$tmp/dot" -o /dev/null 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then pass=$((pass + 1))
    else fail=$((fail + 1)); echo "FAIL $want: Graphviz rejects it"; cat "$tmp/err"; fi
  fi
done
command -v dot >/dev/null 2>&1 || echo "note: no Graphviz 'dot': the graphs are only diffed"

# the default output is MODEL.dot in the current directory; a bad model is
# the usual error, exit 1, and no graph
mkdir -p "$tmp/cwd/tests/emit/dot"
cp tests/emit/dot/mlp.nn "$tmp/cwd/tests/emit/dot/"
if (cd "$tmp/cwd" && "$nncc" --emit=dot tests/emit/dot/mlp.nn) &&
   cmp -s "$tmp/cwd/mlp.dot" tests/emit/dot/mlp.dot; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL nncc --emit=dot MODEL.nn does not write MODEL.dot"
fi
printf 'input x[2]\nlayer h = dense(x, 3, activation = rleu)\nloss mse(h, x)\n' >"$tmp/bad.nn"
"$nncc" --emit=dot "$tmp/bad.nn" -o "$tmp/bad.dot" 2>"$tmp/err"; rc=$?
if [ $rc = 1 ] && grep -q "bad.nn:2:.*error: unknown activation 'rleu'" "$tmp/err" && [ ! -s "$tmp/bad.dot" ]; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL --emit=dot of a bad model: exit $rc"; cat "$tmp/err"
fi

. tests/emit/lib.sh

echo "emit: $pass passed, $fail failed"
[ $fail = 0 ]
