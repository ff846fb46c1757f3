# tests/emit/lib.sh — sourced by tests/emit/run.sh ($nncc, $tmp, pass, fail).
# For each model: train briefly and --save; the trainer's --predict on the
# test rows; nncc --emit=lib; tests/emit/lib/predict.c (model.h:
# model_predict row by row, then model_predict_batch) on the same rows.
# Both are built with the same compiler and flags, and the library runs the
# trainer's own layer functions, so the outputs must agree to the printed
# digit (%.6g), line for line.  Then --weights (baked parameters) and the
# errors of the loader and of nncc.
L=$tmp/lib
mkdir -p "$L"
LIB_CFLAGS="-O3 -march=native -fopenmp"

lib_ok() { pass=$((pass + 1)); }
lib_bad() { fail=$((fail + 1)); echo "FAIL lib: $*"; }

# rows for the library from the trainer's predict file: csv HEADER NCOLS
# (the first NCOLS columns, the header line dropped), series T (windows of
# T consecutive rows of one value), or text B T TRAINTEXT (the text
# loader's rows: ids through the training text's vocabulary, its distinct
# bytes in increasing order; B streams of S = (L - 1) / B bytes, row
# w * B + s = window w of stream s)
lib_bytes() { od -An -v -tu1 "$1" | tr -s ' ' '\n' | sed '/^$/d'; }
lib_rows() {
  case $1 in
  text) lib_bytes "$4" | sort -n -u >"$L/vocab"
        lib_bytes "$5" | awk -v B="$2" -v T="$3" 'NR == FNR { id[$1] = FNR - 1; next }
          { c[n++] = id[$1] } END { S = int((n - 1) / B); W = int(S / T)
            for (w = 0; w < W; w++) for (s = 0; s < B; s++) { line = ""
              for (i = 0; i < T; i++) line = line (i ? "," : "") c[s * S + w * T + i]; print line } }' \
          "$L/vocab" - ;;
  csv) awk -F, -v h="$2" -v n="$3" 'NR > h { s = $1; for (i = 2; i <= n; i++) s = s "," $i; print s }' "$4" ;;
  series) awk -v T="$2" '{ v[NR] = $1 } END { for (i = 1; i + T - 1 <= NR; i++) {
            s = v[i]; for (k = 1; k < T; k++) s = s "," v[i + k]; print s } }' "$3" ;;
  esac
}

# lib_case NAME MODEL PREDICT_FILE EPOCHS MODES ROWS_ARGS...  (MODES: "one
# batch", or "batch" for a stateful model, whose state carries over rows)
lib_case() {
  name=$1 model=$2 data=$3 epochs=$4 modes=$5
  shift 5
  d=$L/$name
  mkdir -p "$d"
  if ! "$nncc" "$model" -o "$d/train" >"$d/log" 2>&1 ||
     ! "$d/train" --epochs "$epochs" --quiet --save "$d/ckpt.safetensors" >>"$d/log" 2>&1 ||
     ! "$d/train" --load "$d/ckpt.safetensors" --predict "$data" --output "$d/trainer.csv" >>"$d/log" 2>&1; then
    lib_bad "$name: the trainer"; cat "$d/log"; return
  fi
  lib_rows "$@" "$data" >"$d/rows.csv"
  if ! "$nncc" --emit=lib "$model" -o "$d/model" >>"$d/log" 2>&1 ||
     ! cc $LIB_CFLAGS -Wall -Wextra -Werror -I"$d" -o "$d/predict" tests/emit/lib/predict.c "$d/model.c" -lm >>"$d/log" 2>&1; then
    lib_bad "$name: nncc --emit=lib and cc"; cat "$d/log"; return
  fi
  # the library must not need libnnrt: no nn_ symbol left undefined
  if nm -u "$d/predict" | grep -q ' nn_'; then lib_bad "$name: the library calls libnnrt"; else lib_ok; fi
  for mode in $modes; do
    "$d/predict" "$d/ckpt.safetensors" "$d/rows.csv" $mode >"$d/lib_$mode.csv" 2>>"$d/log"
    if [ -s "$d/lib_$mode.csv" ] && cmp -s "$d/trainer.csv" "$d/lib_$mode.csv"; then
      lib_ok
    else
      lib_bad "$name: model_predict${mode#one} differs from the trainer's --predict ($(wc -l <"$d/trainer.csv") rows)"
      diff "$d/trainer.csv" "$d/lib_$mode.csv" | head -6; cat "$d/log"
    fi
  done
}

lib_case iris models/iris.nn models/data/iris_test.csv 30 "one batch" csv 1 4
lib_case digits_bn models/digits_bn.nn models/data/digits_test.csv 2 "one batch" csv 1 64
lib_case residual models/residual_mlp.nn models/data/digits_test.csv 2 "one batch" csv 1 64
lib_case digits_cnn tests/emit/lib/digits_cnn.nn models/data/digits_test.csv 2 "one batch" csv 1 64
lib_case digits_ae tests/emit/lib/digits_ae.nn models/data/digits_test.csv 2 "one batch" csv 1 64
lib_case sine_lstm_gru tests/emit/lib/sine_lstm_gru.nn models/data/sine_test.csv 1 "one batch" series 24
head -c 2000 models/data/fortunes_test.txt >"$L/fortunes_head.txt"
lib_case tokens_gru tests/emit/lib/tokens_gru.nn "$L/fortunes_head.txt" 1 batch \
  text 8 16 models/data/fortunes_test.txt
# its vocabulary, from the checkpoint's metadata: the training text's bytes
d=$L/tokens_gru
if "$d/predict" "$d/ckpt.safetensors" "$d/rows.csv" vocab >"$d/vocab" && cmp -s "$d/vocab" "$L/vocab"; then
  lib_ok
else
  lib_bad "tokens_gru: model_vocab is not the training text's bytes"
fi
# a vocabulary that is not hex: its first digit as 'g'
if off=$(grep -abo '"vocab":"' "$d/ckpt.safetensors" | head -1 | cut -d: -f1) && [ -n "$off" ]; then
  off=$((off + 9))
  { head -c "$off" "$d/ckpt.safetensors"; printf 'g'; tail -c +$((off + 2)) "$d/ckpt.safetensors"; } >"$L/vocab.safetensors"
  "$d/predict" "$L/vocab.safetensors" "$d/rows.csv" batch >/dev/null 2>"$L/err"
  if grep -q "vocab.safetensors: error: __metadata__ vocab: 'g' at digit 0 is not hex" "$L/err"; then lib_ok
  else lib_bad "tokens_gru: a malformed vocab"; cat "$L/err"; fi
else
  lib_bad "tokens_gru: the checkpoint has no vocab"
fi

# --weights: the checkpoint compiled in gives the same outputs, and the
# library has no loader
for name in iris digits_cnn; do
  d=$L/$name
  [ -f "$d/ckpt.safetensors" ] || continue
  model=models/$name.nn
  [ -f "$model" ] || model=tests/emit/lib/$name.nn
  mkdir -p "$d/baked"
  if "$nncc" --emit=lib "$model" --weights "$d/ckpt.safetensors" -o "$d/baked/model" 2>"$d/err" &&
     cc $LIB_CFLAGS -Wall -Wextra -Werror -DBAKED -I"$d/baked" -o "$d/baked/predict" \
       tests/emit/lib/predict.c "$d/baked/model.c" -lm 2>>"$d/err" &&
     "$d/baked/predict" - "$d/rows.csv" batch >"$d/baked.csv" && cmp -s "$d/trainer.csv" "$d/baked.csv" &&
     ! grep -q 'model_load\|nnl_load' "$d/baked/model.c" "$d/baked/model.h"; then
    lib_ok
  else
    lib_bad "$name: --weights"; cat "$d/err"
  fi
done

# errors: each a message naming the file and what is wrong, exit status 1
# (the loader), 1 (nncc, a bad checkpoint) or 2 (nncc, usage)
lib_err() { # WHAT EXPECTED-STATUS PATTERN COMMAND...
  what=$1 want=$2 pat=$3
  shift 3
  "$@" >/dev/null 2>"$L/err"; rc=$?
  if [ $rc = "$want" ] && grep -q -- "$pat" "$L/err"; then lib_ok
  else lib_bad "$what: exit $rc (expected $want), stderr:"; cat "$L/err"; fi
}
d=$L/iris
if [ -f "$d/ckpt.safetensors" ]; then
  ck=$d/ckpt.safetensors rows=$d/rows.csv
  lib_err "no checkpoint loaded" 1 "model_predict: error: no parameters (call model_load first)" \
    "$d/predict" - "$rows" one
  lib_err "missing file" 1 "$L/none.safetensors: error: cannot open: No such file" \
    "$d/predict" "$L/none.safetensors" "$rows" one
  size=$(wc -c <"$ck")
  head -c $((size - 4)) "$ck" >"$L/short.safetensors"
  lib_err "truncated file" 1 "short.safetensors: error: tensor 'out.bias' has data_offsets \[.*\] beyond the data section" \
    "$d/predict" "$L/short.safetensors" "$rows" one
  head -c 5 "$ck" >"$L/tiny.safetensors"
  lib_err "5-byte file" 1 "tiny.safetensors: error: offset 0: the file holds 5 bytes" \
    "$d/predict" "$L/tiny.safetensors" "$rows" one
  # a JSON syntax error in the header: the first '"' of "hidden.weight" as '!'
  off=$(grep -abo '"hidden.weight"' "$ck" | head -1 | cut -d: -f1)
  { head -c "$off" "$ck"; printf '!'; tail -c +$((off + 2)) "$ck"; } >"$L/bad.safetensors"
  lib_err "malformed header" 1 "bad.safetensors: error: offset $off: malformed header: expected a string" \
    "$d/predict" "$L/bad.safetensors" "$rows" one
  # another model's checkpoint
  if [ -f "$L/digits_bn/ckpt.safetensors" ]; then
    lib_err "another model's checkpoint" 1 "error: unexpected tensor 'hidden.weight'\|error: tensor 'hidden.weight' has shape \[64, 64\]; the model needs \[16, 4\]" \
      "$d/predict" "$L/digits_bn/ckpt.safetensors" "$rows" one
  fi
  lib_err "nncc --weights of another model" 1 "error: tensor 'hidden.weight' has shape" \
    "$nncc" --emit=lib models/iris.nn --weights "$L/digits_bn/ckpt.safetensors" -o "$L/x"
  lib_err "nncc --weights of a missing file" 1 "none.st: error: cannot open" \
    "$nncc" --emit=lib models/iris.nn --weights "$L/none.st" -o "$L/x"
  lib_err "nncc --weights without --emit=lib" 2 "nncc: error: --weights '$ck' goes with --emit=lib" \
    "$nncc" models/iris.nn --weights "$ck" -o "$L/x.c"
  lib_err "nncc --emit=lib -o -" 2 "nncc: error: --emit=lib writes two files" \
    "$nncc" --emit=lib models/iris.nn -o -
fi

# F64 checkpoints (a trainer built with -DNN_REAL=double): a double library
# agrees with that trainer to the printed digit, a float one to 2e-5
# relative: float rounding of the same arithmetic (about 1e-6 here) plus
# the two %.6g roundings of the printed values (up to 1e-5 together)
d=$L/iris64
mkdir -p "$d"
if "$nncc" models/iris.nn -o "$d/iris.c" && cc $LIB_CFLAGS -DNN_REAL=double -Iruntime -o "$d/train" \
     "$d/iris.c" "$build/libnnrt.a" -lcjson -lz -lm 2>"$d/log" &&
   "$d/train" --epochs 30 --quiet --save "$d/ckpt.safetensors" >>"$d/log" 2>&1 &&
   "$d/train" --load "$d/ckpt.safetensors" --predict models/data/iris_test.csv --output "$d/trainer.csv" 2>>"$d/log" &&
   grep -aq '"dtype":"F64"' "$d/ckpt.safetensors" &&
   "$nncc" --emit=lib models/iris.nn -o "$d/model"; then
  lib_rows csv 1 4 models/data/iris_test.csv >"$d/rows.csv"
  for real in double float; do
    cc $LIB_CFLAGS -Wall -Wextra -Werror -DNN_REAL=$real -I"$d" -o "$d/predict_$real" \
      tests/emit/lib/predict.c "$d/model.c" -lm 2>>"$d/log" &&
      "$d/predict_$real" "$d/ckpt.safetensors" "$d/rows.csv" batch >"$d/lib_$real.csv" 2>>"$d/log"
  done
  if cmp -s "$d/trainer.csv" "$d/lib_double.csv"; then lib_ok
  else lib_bad "iris64: the double library differs from the double trainer"; cat "$d/log"; fi
  worst=$(paste -d, "$d/trainer.csv" "$d/lib_float.csv" | awk -F, '{ h = NF / 2
    for (i = 1; i <= h; i++) { a = $i; b = $(i + h); e = a - b; e = e < 0 ? -e : e
      m = a < 0 ? -a : a; m = m < 1e-30 ? 1e-30 : m; if (e / m > w) w = e / m } }
    END { printf "%.3g\n", w + 0 }')
  if [ -s "$d/lib_float.csv" ] && awk -v w="$worst" 'BEGIN { exit !(w <= 2e-5) }'; then lib_ok
  else lib_bad "iris64: a float library on an F64 checkpoint is off by $worst relative"; fi
else
  lib_bad "iris64: the double trainer"; cat "$d/log"
fi

# the loader on damaged headers (tests/emit/lib/damage.c, built with ASan
# and UBSan): every byte of iris's header in turn replaced by five
# characters; each load succeeds or fails with one "error:" line naming
# the file, never a crash or a sanitizer report
d=$L/iris
if [ -f "$d/ckpt.safetensors" ] &&
   cc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -I"$d" -o "$d/damage" \
     tests/emit/lib/damage.c "$d/model.c" -lm 2>"$L/err" &&
   ASAN_OPTIONS=detect_leaks=1 "$d/damage" "$d/ckpt.safetensors" "$L/damaged.st" "$L/damaged.err" >"$L/damage.out" 2>&1 &&
   grep -q '^[0-9][0-9]* loads, 0 misbehaved$' "$L/damage.out"; then
  lib_ok
else
  lib_bad "damaged headers"; cat "$L/err" "$L/damage.out" 2>/dev/null | head -20
fi

# without -o: NAME is the model's name, in the current directory
mkdir -p "$L/cwd"
iris=$(pwd)/models/iris.nn
if (cd "$L/cwd" && "$nncc" --emit=lib "$iris") && [ -f "$L/cwd/iris.h" ] && [ -f "$L/cwd/iris.c" ] &&
   grep -q '^int iris_predict_batch(const float \*in, int n, float \*out);' "$L/cwd/iris.h"; then lib_ok
else lib_bad "nncc --emit=lib without -o: no iris.h and iris.c"; fi
