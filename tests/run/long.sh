#!/bin/sh
# Full-length training runs behind the accuracy figures quoted in the
# issues' notes (minutes, not part of `make test`):
#   fashion_mlp with its own settings: >= 88% test accuracy
#   lenet with its own settings: >= 90% test accuracy
#   the small models again, with their own settings
#   the character models (their own settings): test loss in bits/char well
#     below the unigram entropy of the test text (4.646 bits/char)
#   sine_rnn: test MSE below the naive "repeat the last value" predictor's
#   alexnet: the trainer builds and runs 2 steps on random data (--bench 2)
#   fashion_mlp_dropout: >= 88%; denoising_autoencoder: clean test MSE <= 0.012
#   tests/run/long.sh BUILD_DIR
build=${1:-build}
cc=${CC:-cc}
out=$build/long
mkdir -p "$out"
pass=0 fail=0
for spec in fashion_mlp:acc:88 lenet:acc:90 xor:acc:100 iris:acc:95 digits:acc:93 wine:acc:90 \
            breast_cancer:acc:93 regression:loss:0.02 sine_rnn:loss:0.02 autoencoder:loss:0.012 \
            char_lstm:loss:1.95 char_gru:loss:1.95 char_rnn:loss:2.1 \
            fashion_mlp_dropout:acc:88 denoising_autoencoder:loss:0.012; do
  name=${spec%%:*} rest=${spec#*:} field=${rest%%:*} limit=${rest#*:}
  exe=$out/train_$name
  $cc -O3 -march=native -fopenmp -Iruntime -o "$exe" "generated/$name.c" "$build/libnnrt.a" \
    -lcjson -lz -lm || { fail=$((fail + 1)); continue; }
  start=$(date +%s)
  "$exe" --log "$out/$name.csv" >"$out/$name.log" 2>&1
  secs=$(( $(date +%s) - start ))
  value=$(awk -v f="$field" '/^final:/ { for (i = 1; i < NF; i++) if ($i == f) { v = $(i + 1); sub("%", "", v); print v } }' "$out/$name.log")
  if [ -n "$value" ] && awk -v v="$value" -v l="$limit" -v f="$field" \
       'BEGIN { exit !(f == "loss" ? v <= l : v >= l) }'; then
    pass=$((pass + 1)); echo "ok   $name: $field $value (limit $limit), ${secs}s"
  else
    fail=$((fail + 1)); echo "FAIL $name: $field '$value' (limit $limit)"; tail -3 "$out/$name.log"
  fi
done
# The baselines of the sequence models, from their test data.
awk 'NR > 24 { d = $1 - p; s += d * d; n++ } { p = $1 } END {
  printf "sine_rnn baseline: repeating the last value gives a test MSE of %.4f\n", s / n }' \
  models/data/sine_test.csv
grep -h "bits/char" "$out"/char_*.log | grep -v "^epoch" | sort -u

# AlexNet (62M parameters, batch 16, about 1 GB): no data set, so two
# training steps on a random batch after the 10 warm-up steps.
exe=$out/train_alexnet
start=$(date +%s)
if $cc -O3 -march=native -fopenmp -Iruntime -o "$exe" generated/alexnet.c "$build/libnnrt.a" \
     -lcjson -lz -lm && "$exe" --bench 2 >"$out/alexnet.log" 2>&1 &&
   grep -q '^bench model=alexnet .*loss=[0-9]' "$out/alexnet.log"; then
  pass=$((pass + 1)); echo "ok   alexnet --bench 2: $(grep -o 'step_us=[^ ]*' "$out/alexnet.log"), $(( $(date +%s) - start ))s"
else
  fail=$((fail + 1)); echo "FAIL alexnet --bench 2"; tail -3 "$out/alexnet.log"
fi
echo "long: $pass passed, $fail failed"
[ $fail = 0 ]
