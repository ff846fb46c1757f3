#!/bin/sh
# Bad data through the trainers, golden tests.  For every case below,
# `TRAINER ARGS` must exit with status 1, its stderr must name a file of
# tests/baddata/, and stderr plus an "exit status: N" line must equal
# tests/baddata/NAME.err (diff -u).  The trainers are compiled from models/
# by BUILD/nncc and linked with BUILD/libnnrt.a, as a user builds them:
#   iris      CSV, 4 features and a class 0..2 in column 5, header = true
#   lenet     IDX, 28x28x1 images and class labels 0..9
#   char_rnn  text, windows of 64 characters, a vocabulary of at most 96
#   sine_rnn  series, windows of 24 rows of 1 value, no header
# Run from the project root.
#   tests/baddata/run.sh [--update] [BUILD_DIR]
# --update rewrites the .err files from the current output (check the diff
# by eye before committing).  BADDATA_CFLAGS (default -O1) are the
# trainers' compiler flags; `make check-asan` runs this with the ASan build.
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
build=${1:-build}
cc=${CC:-cc}
cflags=${BADDATA_CFLAGS:--O1}
D=tests/baddata
export LC_ALL=C # strerror texts in the messages
out=$build/baddata
pass=0 fail=0
mkdir -p "$out"

for m in iris lenet char_rnn sine_rnn; do
  # shellcheck disable=SC2086 # cflags is a list of flags
  if ! "$build/nncc" "models/$m.nn" -o "$out/$m.c" ||
     ! $cc $cflags -Iruntime -o "$out/$m" "$out/$m.c" "$build/libnnrt.a" -lcjson -lz -lm; then
    echo "FAIL build of $m"; echo "baddata: 0 passed, 1 failed"; exit 1
  fi
done

# t NAME TRAINER ARG...
t() {
  name=$1 exe=$out/$2; shift 2
  "$exe" "$@" >"$out/$name.out" 2>"$out/$name.stderr"
  rc=$?
  cp "$out/$name.stderr" "$out/$name.err"
  echo "exit status: $rc" >>"$out/$name.err"
  if [ $rc != 1 ]; then
    fail=$((fail + 1)); echo "FAIL $name: exit status $rc, expected 1"; cat "$out/$name.stderr"
    return
  fi
  if ! grep -q "$D" "$out/$name.stderr"; then
    fail=$((fail + 1)); echo "FAIL $name: the message names no file of $D"
    cat "$out/$name.stderr"; return
  fi
  [ $update = 1 ] && cp "$out/$name.err" "$D/$name.err"
  if diff -u "$D/$name.err" "$out/$name.err" >"$out/$name.diff"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL $name: $exe $*"; head -20 "$out/$name.diff"
  fi
}

# CSV: a bad row in the middle (line 4 of 6: a header and two good rows
# before it)
t csv_too_few iris --train $D/csv_too_few.csv
t csv_too_many iris --train $D/csv_too_many.csv
t csv_not_number iris --train $D/csv_not_number.csv
t csv_empty_field iris --train $D/csv_empty_field.csv
t csv_infinite iris --train $D/csv_infinite.csv
t csv_label_negative iris --train $D/csv_label_negative.csv
t csv_label_large iris --train $D/csv_label_large.csv
t csv_label_fraction iris --train $D/csv_label_fraction.csv
t csv_label_name iris --train $D/csv_label_name.csv
t csv_nul iris --train $D/csv_nul.csv
# the first data row fixes the column count: 4 where 5 are needed
t csv_first_row iris --train $D/csv_first_row.csv
t csv_empty iris --train $D/csv_empty.csv
t csv_header_only iris --train $D/csv_header_only.csv
t csv_header_blank iris --train $D/csv_header_blank.csv
# the test and prediction files go through the same loader
t csv_test iris --test $D/csv_label_large.csv
t csv_predict_columns iris --predict $D/csv_predict_columns.csv
t csv_missing iris --train $D/no_such_file.csv
t csv_directory iris --train $D

# IDX: IMAGES,LABELS (a single file that is not IDX is read as CSV)
I=$D/idx_images.idx L=$D/idx_labels.idx
t idx_size lenet --train $D/idx_size.idx,$L
t idx_truncated lenet --train $D/idx_truncated.idx,$L
t idx_truncated_gz lenet --train $D/idx_truncated.idx.gz,$L
t idx_cut_gz lenet --train $D/idx_cut.idx.gz,$L
t idx_header lenet --train $D/idx_header.idx,$L
t idx_count lenet --train $I,$D/idx_count.idx
t idx_magic lenet --train $D/idx_magic.idx,$L
t idx_label_range lenet --train $I,$D/idx_label_range.idx
t idx_trailing lenet --test $I,$D/idx_trailing.idx
t idx_empty lenet --train $D/csv_empty.csv,$L
t idx_no_labels lenet --train $I
t idx_missing lenet --train $I,$D/no_such_labels.idx
# a binary file that is not IDX, alone: read as CSV
t idx_as_csv lenet --train $D/idx_magic.idx

# text: the vocabulary is the training text's (models/data/fortunes_train.txt)
t text_vocab char_rnn --eval --test $D/text_vocab.txt
t text_too_many char_rnn --train $D/text_too_many.txt
t text_short char_rnn --train $D/text_short.txt
t text_empty char_rnn --train $D/text_empty.txt

# series
t series_short sine_rnn --train $D/series_short.csv
t series_columns sine_rnn --train $D/series_columns.csv
t series_not_number sine_rnn --test $D/series_not_number.csv

echo "baddata: $pass passed, $fail failed"
[ $fail = 0 ]
