#!/bin/sh
# make install into a scratch DESTDIR, then, from a directory outside the
# project, with only the installed files:
#   - the README's build line with pkg-config builds a trainer that runs;
#   - the installed nncc builds an executable itself (-o NAME);
#   - the man page renders (man -l, else groff, else mandoc; else skipped);
# then make uninstall leaves no file behind.  Run from the project root:
#   sh tests/install/run.sh [BUILD]
build=${1:-build}
make=${MAKE:-make}
pass=0 fail=0
root=$(pwd)
D=$(mktemp -d /tmp/nncc-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
prefix=/opt/nncc-test

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

if ! $make -s BUILD="$build" PREFIX=$prefix DESTDIR="$D/root" install >"$D/install.log" 2>&1; then
  bad "make install"; cat "$D/install.log"; echo "install: $pass passed, $fail failed"; exit 1
fi
P=$D/root$prefix
for f in bin/nncc lib/libnnrt.a lib/libnnrt.so lib/libnnrt.so.0 include/nnrt/nnrt.h \
         include/nnrt/nnmath.h lib/pkgconfig/nnrt.pc share/man/man1/nncc.1; do
  if [ -e "$P/$f" ]; then ok; else bad "not installed: $f"; fi
done
# the shared library carries its soname
if command -v readelf >/dev/null 2>&1; then
  if readelf -d "$P/lib/libnnrt.so" | grep -q 'SONAME.*\[libnnrt\.so\.0\]'; then ok
  else bad "libnnrt.so has no soname libnnrt.so.0"; fi
fi

# pkg-config through the staged tree: the sysroot prefixes -I and -L
pc() { PKG_CONFIG_PATH="$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D/root" pkg-config "$@"; }
flags=$(pc --cflags --libs nnrt)
for want in "-I$P/include/nnrt" "-L$P/lib" -lnnrt -lcjson -lz -lm; do
  case " $flags " in *" $want "*) ok ;; *) bad "pkg-config --cflags --libs nnrt lacks $want: $flags" ;; esac
done
case " $flags " in *fopenmp*) bad "pkg-config gives -fopenmp (the user's flag): $flags" ;; *) ok ;; esac

# a model and its data in a directory of its own
W=$D/work
mkdir -p "$W"
cp models/data/iris_train.csv models/data/iris_test.csv "$W/"
sed -e 's|models/data/||g' models/iris.nn >"$W/iris.nn"
cd "$W" || exit 1
if "$P/bin/nncc" iris.nn -o iris.c &&
   cc -O2 -fopenmp iris.c $flags -o train 2>"$D/cc.log" &&
   LD_LIBRARY_PATH="$P/lib" ./train --epochs 20 --save iris.safetensors >"$D/train.log" 2>&1 &&
   grep -q '^final: test loss' "$D/train.log"; then
  ok
else
  bad "trainer built with pkg-config"; cat "$D/cc.log" "$D/train.log" 2>/dev/null | tail -20
fi
# it runs against the installed shared library, not a static copy
if command -v ldd >/dev/null 2>&1; then
  if LD_LIBRARY_PATH="$P/lib" ldd ./train | grep -q "$P/lib/libnnrt.so.0"; then ok
  else bad "train does not load $P/lib/libnnrt.so.0"; LD_LIBRARY_PATH="$P/lib" ldd ./train; fi
fi
# the installed nncc finds the installed runtime by itself (libnnrt.a: the
# executable runs without LD_LIBRARY_PATH)
if "$P/bin/nncc" iris.nn -o iris_exe >"$D/exe.log" 2>&1 && ./iris_exe --epochs 2 --quiet >/dev/null; then ok
else bad "installed nncc -o iris_exe"; cat "$D/exe.log"; fi
cd "$root" || exit 1

# the man page
man_out=$D/man.txt
if command -v man >/dev/null 2>&1 && MANWIDTH=80 man -l "$P/share/man/man1/nncc.1" >"$man_out" 2>"$D/man.err"; then
  renderer="man -l"
elif command -v groff >/dev/null 2>&1; then
  renderer=groff; groff -man -Tutf8 "$P/share/man/man1/nncc.1" >"$man_out" 2>"$D/man.err"
elif command -v mandoc >/dev/null 2>&1; then
  renderer=mandoc; mandoc -Tutf8 "$P/share/man/man1/nncc.1" >"$man_out" 2>"$D/man.err"
else
  renderer=
  echo "skip: no man, groff or mandoc to render the man page"
fi
if [ -n "$renderer" ]; then
  # text, not roff: the sections and the options appear, no request leaks through
  if grep -q 'compile a neural-network model' "$man_out" && grep -q 'EXAMPLE' "$man_out" &&
     grep -q -- '--emit=' "$man_out" && ! grep -q '^\.' "$man_out" && [ ! -s "$D/man.err" ]; then ok
  else bad "man page ($renderer)"; head -20 "$man_out" "$D/man.err"; fi
fi
if command -v groff >/dev/null 2>&1; then
  if groff -man -ww -z "$P/share/man/man1/nncc.1" 2>"$D/groff.err" && [ ! -s "$D/groff.err" ]; then ok
  else bad "groff warns about the man page"; cat "$D/groff.err"; fi
fi

# uninstall: nothing left (directories may remain, no file or link)
if $make -s BUILD="$build" PREFIX=$prefix DESTDIR="$D/root" uninstall >"$D/uninstall.log" 2>&1; then ok
else bad "make uninstall"; cat "$D/uninstall.log"; fi
left=$(find "$D/root" ! -type d)
if [ -z "$left" ]; then ok; else bad "left after uninstall:"; echo "$left"; fi

echo "install: $pass passed, $fail failed"
[ $fail = 0 ]
