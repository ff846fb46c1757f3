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
# (the first NCOLS columns, the header line dropped), or series T (windows
# of T consecutive rows of one value)
lib_rows() {
  case $1 in
  csv) awk -F, -v h="$2" -v n="$3" 'NR > h { s = $1; for (i = 2; i <= n; i++) s = s "," $i; print s }' "$4" ;;
  series) awk -v T="$2" '{ v[NR] = $1 } END { for (i = 1; i + T - 1 <= NR; i++) {
            s = v[i]; for (k = 1; k < T; k++) s = s "," v[i + k]; print s } }' "$3" ;;
  esac
}

# lib_case NAME MODEL PREDICT_FILE EPOCHS ROWS_ARGS...
lib_case() {
  name=$1 model=$2 data=$3 epochs=$4
  shift 4
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
  for mode in one batch; do
    "$d/predict" "$d/ckpt.safetensors" "$d/rows.csv" $mode >"$d/lib_$mode.csv" 2>>"$d/log"
    if [ -s "$d/lib_$mode.csv" ] && cmp -s "$d/trainer.csv" "$d/lib_$mode.csv"; then
      lib_ok
    else
      lib_bad "$name: model_predict${mode#one} differs from the trainer's --predict ($(wc -l <"$d/trainer.csv") rows)"
      diff "$d/trainer.csv" "$d/lib_$mode.csv" | head -6; cat "$d/log"
    fi
  done
}

lib_case iris models/iris.nn models/data/iris_test.csv 30 csv 1 4
lib_case digits_bn models/digits_bn.nn models/data/digits_test.csv 2 csv 1 64
lib_case residual models/residual_mlp.nn models/data/digits_test.csv 2 csv 1 64
lib_case digits_cnn tests/emit/lib/digits_cnn.nn models/data/digits_test.csv 2 csv 1 64
lib_case digits_ae tests/emit/lib/digits_ae.nn models/data/digits_test.csv 2 csv 1 64
lib_case sine_lstm_gru tests/emit/lib/sine_lstm_gru.nn models/data/sine_test.csv 1 series 24

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
