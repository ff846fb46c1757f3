#!/bin/sh
# Exact resume (issue 7): a run stopped and resumed gives bitwise the
# checkpoint of a run that never stopped — at an epoch boundary
# (--checkpoint after N epochs, then --resume), inside an epoch after
# SIGTERM (the trainer saves and exits with 143), after SIGKILL from the
# last periodic checkpoint (--checkpoint-every), for a stateful sequence
# model (its carried hidden state is saved) and with early stopping.  Then
# the refusals: a --save file, other training data, another seed, a
# truncated file, another model.  Last, the progress line of a terminal.
#   tests/run/resume.sh BUILD_DIR
build=${1:-build}
cc=${CC:-cc}
out=$build/resume
pass=0 fail=0
rm -rf "$out" && mkdir -p "$out"

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$2" ] && tail -5 "$2"; }

# trainer NAME SOURCE.nn: compile it into $out/NAME.
trainer() {
  "$build/nncc" "$2" -o "$out/$1.c" &&
    $cc -O2 -march=native -fopenmp -Iruntime -o "$out/$1" "$out/$1.c" "$build/libnnrt.a" \
      -lcjson -lz -lm
}

# same WHAT A B: A and B are the same bytes.
same() {
  if cmp -s "$2" "$3"; then ok "$1"; else bad "$1: $2 and $3 differ"; fi
}

# has WHAT FILE TEXT: FILE holds the line TEXT.
has() {
  if grep -qxF -- "$3" "$2"; then ok "$1"; else
    bad "$1: no line '$3' in $2"; cat "$2"; fi
}

# status WHAT WANT CMD...: CMD exits with status WANT (output in $out/st.log).
status() {
  what=$1 want=$2; shift 2
  "$@" >"$out/st.log" 2>&1
  got=$?
  if [ "$got" = "$want" ]; then ok "$what"; else bad "$what: exit status $got, wanted $want" "$out/st.log"; fi
}

# kill_after SIG FILE LOG CMD...: run CMD in the background with output to
# LOG; once FILE exists (its first periodic checkpoint), send SIG.  Sets
# $killed_status.
kill_after() {
  sig=$1 file=$2 log=$3; shift 3
  rm -f "$file"
  "$@" >"$log" 2>&1 &
  pid=$!
  i=0
  while [ $i -lt 1200 ] && [ ! -f "$file" ]; do sleep 0.05; i=$((i + 1)); done
  kill -"$sig" $pid 2>/dev/null
  wait $pid 2>/dev/null
  killed_status=$?
}

# 1. The boundary: 6 epochs, or 3 + 3 (adam, cosine schedule with
# warm-up, batchnorm, dropout, shuffling; tests/run/resume_drop.nn).
t=$out/resume_drop
trainer resume_drop tests/run/resume_drop.nn || bad "resume_drop: build"
$t --quiet --save "$out/rd6.st" --log "$out/rd6.csv" >"$out/rd6.log" 2>&1 || bad "resume_drop 6 epochs" "$out/rd6.log"
$t --quiet --epochs 3 --checkpoint "$out/rd3.state" --log "$out/rd33.csv" >"$out/rd3.log" 2>&1 ||
  bad "resume_drop 3 epochs" "$out/rd3.log"
$t --quiet --resume "$out/rd3.state" --epochs 6 --save "$out/rd33.st" --log "$out/rd33.csv" \
  >"$out/rd33.log" 2>&1 || bad "resume_drop resume" "$out/rd33.log"
same "resume_drop: 3 epochs + 3 resumed = 6 epochs, bitwise" "$out/rd6.st" "$out/rd33.st"
same "resume_drop: the same final line" "$out/rd6.log" "$out/rd33.log"
cut -d, -f1-5 "$out/rd6.csv" >"$out/rd6.cols"
cut -d, -f1-5 "$out/rd33.csv" >"$out/rd33.cols"
same "resume_drop: the resumed --log goes on from epoch 4 (same figures)" "$out/rd6.cols" "$out/rd33.cols"
# Resuming a finished run changes nothing.
$t --quiet --resume "$out/rd3.state" --epochs 3 --save "$out/rd3b.st" >/dev/null 2>&1
$t --quiet --epochs 3 --save "$out/rd3.st" >/dev/null 2>&1
same "resume_drop: resuming a finished run trains no more" "$out/rd3.st" "$out/rd3b.st"

# 2. Inside an epoch: SIGTERM in fashion_mlp's second epoch (steps 939 to
# 1876), just after the periodic checkpoint of step 1000; the trainer
# saves, exits 143, and the resumed run ends where the uninterrupted one
# does.
f=$out/fashion_mlp
$cc -O2 -march=native -fopenmp -Iruntime -o "$f" generated/fashion_mlp.c "$build/libnnrt.a" \
  -lcjson -lz -lm || bad "fashion_mlp: build"
$f --epochs 2 --threads 2 --quiet --save "$out/f2.st" >"$out/f2.log" 2>&1 || bad "fashion_mlp 2 epochs" "$out/f2.log"
kill_after TERM "$out/fk.state" "$out/fk.log" $f --epochs 2 --threads 2 --checkpoint "$out/fk.state" \
  --checkpoint-every 1000steps
if [ "$killed_status" = 143 ]; then ok "fashion_mlp: SIGTERM saves and exits with 143"; else
  bad "fashion_mlp: SIGTERM gave exit status $killed_status" "$out/fk.log"; fi
if grep -q "stopping in epoch 2 after batch" "$out/fk.log"; then ok "fashion_mlp: stopped inside epoch 2"; else
  bad "fashion_mlp: not stopped inside epoch 2 (timing?)" "$out/fk.log"; fi
$f --resume "$out/fk.state" --threads 2 --quiet --save "$out/fk.st" >"$out/fr.log" 2>&1 || bad "fashion_mlp resume" "$out/fr.log"
same "fashion_mlp: SIGTERM inside an epoch + resume = 2 epochs, bitwise" "$out/f2.st" "$out/fk.st"
same "fashion_mlp: the same final line" "$out/f2.log" "$out/fr.log"

# 3. SIGKILL (nothing saved at the end): the periodic checkpoint of step
# 1000 is whole and resumes to the same weights.
kill_after KILL "$out/fkk.state" "$out/fkk.log" $f --epochs 2 --threads 2 --checkpoint "$out/fkk.state" \
  --checkpoint-every 1000steps
$f --resume "$out/fkk.state" --threads 2 --save "$out/fkk.st" >"$out/fkr.log" 2>&1 || bad "fashion_mlp resume after SIGKILL" "$out/fkr.log"
if grep -q "^resumed $out/fkk.state: 1 epoch done, epoch 2 at row 3968 of 60000 (step 1000)$" "$out/fkr.log"; then
  ok "fashion_mlp: after SIGKILL, the periodic checkpoint of step 1000"
else bad "fashion_mlp: the resumed state is not a periodic one" "$out/fkr.log"; fi
same "fashion_mlp: SIGKILL + resume from --checkpoint-every = 2 epochs, bitwise" "$out/f2.st" "$out/fkk.st"

# 4. A stateful model: char_rnn's hidden state carries from batch to
# batch, so a stop inside the epoch must save it.
c=$out/char_rnn
$cc -O2 -march=native -fopenmp -Iruntime -o "$c" generated/char_rnn.c "$build/libnnrt.a" -lcjson -lz -lm ||
  bad "char_rnn: build"
$c --epochs 1 --threads 2 --quiet --save "$out/c1.st" >"$out/c1.log" 2>&1 || bad "char_rnn 1 epoch" "$out/c1.log"
kill_after TERM "$out/ck.state" "$out/ck.log" $c --epochs 1 --threads 2 --checkpoint "$out/ck.state" \
  --checkpoint-every 3steps
if grep -q "stopping in epoch 1 after batch" "$out/ck.log"; then ok "char_rnn: stopped inside epoch 1"; else
  bad "char_rnn: not stopped inside epoch 1 (timing?)" "$out/ck.log"; fi
$c --resume "$out/ck.state" --threads 2 --quiet --save "$out/ck.st" >"$out/cr.log" 2>&1 || bad "char_rnn resume" "$out/cr.log"
same "char_rnn: SIGTERM inside an epoch + resume = 1 epoch, bitwise (hidden state saved)" "$out/c1.st" "$out/ck.st"

# 5. Early stopping: the record (best epoch, its parameters, epochs since)
# survives the stop: 15 epochs, then on to the end.
e=$out/early_stop
trainer early_stop tests/run/early_stop.nn || bad "early_stop: build"
$e --quiet --save "$out/e.st" >"$out/e.log" 2>&1 || bad "early_stop" "$out/e.log"
$e --quiet --epochs 15 --checkpoint "$out/e15.state" >/dev/null 2>&1 || bad "early_stop 15 epochs"
$e --quiet --resume "$out/e15.state" --epochs 400 --save "$out/e15.st" >"$out/e15.log" 2>&1 ||
  bad "early_stop resume" "$out/e15.log"
same "early_stop: 15 epochs + resumed = one run, bitwise (best epoch restored)" "$out/e.st" "$out/e15.st"
same "early_stop: the same final line" "$out/e.log" "$out/e15.log"

# 6. Refusals.
status "--resume of a --save file is refused" 1 $t --resume "$out/rd6.st"
has "... with a message" "$out/st.log" "$out/rd6.st: error: holds parameters only (written by --save, or not by nncc), no training state to resume from: --load it to start a new run from its parameters, or resume from a file written by --checkpoint"
status "--resume with other training data is refused" 1 $t --resume "$out/rd3.state" --train models/data/digits_test.csv
has "... with a message" "$out/st.log" "resume_drop: error: $out/rd3.state was written by a run on 1438 training rows; models/data/digits_test.csv has 359 (resume with the same training data)"
status "--resume with another --seed is a usage error" 2 $t --resume "$out/rd3.state" --seed 6
has "... with a message" "$out/st.log" "resume_drop: error: --seed 6: the run in $out/rd3.state has seed 5, and a resumed run keeps its seed (leave --seed out)"
status "--resume with --load is a usage error" 2 $t --resume "$out/rd3.state" --load "$out/rd6.st"
size=$(wc -c <"$out/rd3.state")
head -c $((size - 100)) "$out/rd3.state" >"$out/trunc.state"
status "a truncated training state is refused" 1 $t --resume "$out/trunc.state"
has "... naming the file" "$out/st.log" "$out/trunc.state: error: tensor 'nncc.optimizer' has malformed data_offsets (or the file is truncated)"
status "another model's training state is refused" 1 $f --resume "$out/rd3.state"
if grep -q "^$out/rd3.state: error: this is a checkpoint of model 'resume_drop' (layout [0-9a-f]*), not of model 'fashion_mlp' (layout [0-9a-f]*): " "$out/st.log"; then
  ok "... naming both models"; else bad "... not naming both models" "$out/st.log"; fi
status "--checkpoint-every 0 is a usage error" 2 $t --checkpoint-every 0
status "--checkpoint-every 5minutes is a usage error" 2 $t --checkpoint-every 5minutes
has "... with a message" "$out/st.log" "resume_drop: error: --checkpoint-every needs N, Nepochs or Nsteps with a whole number N >= 1, got '5minutes'"

# 7. Progress: on a terminal (script(1) gives the trainer one), a line
# redrawn in place within each epoch; into a file, or with --quiet, none.
if command -v script >/dev/null 2>&1; then
  script -qec "$c --epochs 1 --threads 2" "$out/tty.txt" >/dev/null 2>&1
  if tr '\r' '\n' <"$out/tty.txt" | grep -q "^epoch 1/1  batch [0-9]*/[0-9]*  loss [0-9.]*  [0-9]* samples/s  ETA [0-9]*s"; then
    ok "progress: drawn in place on a terminal"; else bad "progress: no progress line on a terminal" "$out/tty.txt"; fi
  script -qec "$c --epochs 1 --threads 2 --quiet" "$out/ttyq.txt" >/dev/null 2>&1
  if grep -q "batch [0-9]*/" "$out/ttyq.txt"; then bad "progress: drawn with --quiet" "$out/ttyq.txt"; else
    ok "progress: none with --quiet"; fi
else
  echo "skip progress on a terminal: script(1) is not installed"
fi
if grep -q "batch [0-9]*/" "$out/c1.log" "$out/fk.log"; then bad "progress: drawn into a file"; else
  ok "progress: none into a file"; fi

echo "resume: $pass passed, $fail failed"
[ "$fail" = 0 ]
