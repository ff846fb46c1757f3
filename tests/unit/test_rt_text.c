/* test_rt_text.c — the sequence loaders: text laid out for truncated BPTT
 * (hand-computed rows), vocabularies, series windows, every error to its
 * exact message, and batches of several class indices a row.  The
 * fixtures are written into a scratch directory by the tests themselves,
 * so each file's bytes stand next to the values expected of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt.h"

#define TMPDIR_NAME "nnrt-text"
#include "tmpdir.h"

/* A file of n bytes in the scratch directory (n < 0: strlen(s)). */
static const char *put(const char *name, const char *s, long n) {
  const char *p = tmp(name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  size_t len = n < 0 ? strlen(s) : (size_t)n;
  assert_int_equal(fwrite(s, 1, len, f), len);
  fclose(f);
  return p;
}

static nn_source text(const char *path) {
  return (nn_source){.kind = NN_SRC_TEXT, .path = path};
}

static nn_source series(const char *path, int header) {
  return (nn_source){.kind = NN_SRC_SERIES, .path = path, .header = header};
}

/* A token model's spec: T steps, vocabulary V, B streams, per-step class
 * targets (ncls = T) over V classes. */
static nn_data_spec spec_text(int T, int V, int B) {
  return (nn_data_spec){.dim = T, .target = NN_TARGET_CLASS, .nclasses = V, .scale = 1,
                        .steps = T, .tokens = V, .ncls = T, .streams = B};
}

static nn_data_spec spec_series(int T, int F, int ydim) {
  return (nn_data_spec){.dim = T * F, .target = NN_TARGET_REAL, .ydim = ydim, .scale = 1,
                        .steps = T};
}

static void load_ok(nn_source src, nn_data_spec spec, nn_dataset *d) {
  char err[512] = "";
  if (nn_data_load(&src, &spec, d, err, sizeof err))
    fail_msg("unexpected error: %s", err);
}

/* Loading fails with exactly "<path><msg>" and leaves *out empty. */
static void expect_error(nn_source src, nn_data_spec spec, const char *msg) {
  char err[512] = "", want[512];
  nn_dataset d;
  memset(&d, 0x55, sizeof d);
  assert_int_equal(nn_data_load(&src, &spec, &d, err, sizeof err), -1);
  snprintf(want, sizeof want, "%s%s", src.path, msg);
  assert_string_equal(err, want);
  assert_int_equal(d.n, 0);
  assert_null(d.x);
  assert_null(d.cls);
  assert_null(d.y);
  assert_null(d.name);
  assert_int_equal(d.nvocab, 0);
}

static void assert_floats(const float *got, const float *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
}

static void assert_ints(const int32_t *got, const int32_t *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("element %d: got %d, want %d", i, got[i], want[i]);
}

/* ---------------------------------------------------------------- text */

/* "abcdefghij": L = 10, B = 2 streams of S = (10 - 1) / 2 = 4 ids ("abcd",
 * "efgh"), W = 4 / 2 = 2 windows of T = 2 each.  Row w * B + s: */
static void test_text_layout(void **state) {
  const char *p = put("abc.txt", "abcdefghij", -1);
  nn_dataset d;
  load_ok(text(p), spec_text(2, 16, 2), &d);
  assert_int_equal(d.n, 4);
  assert_int_equal(d.dim, 2);
  assert_int_equal(d.ncls, 2);
  assert_true(d.has_target);
  assert_string_equal(d.name, p);
  assert_int_equal(d.nvocab, 10); /* a..j, ids 0..9 */
  assert_memory_equal(d.vocab, "abcdefghij", 10);
  assert_int_equal(d.distinct, 10);
  assert_int_equal(d.text_len, 10);
  assert_true(fabs(d.unigram_bits - log2(10)) < 1e-12);
  const float x[] = {0, 1,  /* w 0, s 0: "ab" */
                     4, 5,  /* w 0, s 1: "ef" */
                     2, 3,  /* w 1, s 0: "cd" */
                     6, 7}; /* w 1, s 1: "gh" */
  const int32_t cls[] = {1, 2, 5, 6, 3, 4, 7, 8}; /* one ahead: "bc" "fg" "de" "hi" */
  assert_floats(d.x, x, 8);
  assert_ints(d.cls, cls, 8);
  assert_null(d.y);
  nn_data_free(&d);
  /* One class a sample: the character after the window. */
  nn_data_spec s = spec_text(2, 16, 2);
  s.ncls = 1;
  load_ok(text(p), s, &d);
  assert_int_equal(d.ncls, 1);
  const int32_t next[] = {2, 6, 4, 8}; /* "c" "g" "e" "i" */
  assert_ints(d.cls, next, 4);
  nn_data_free(&d);
  /* One stream (streams 0 counts as 1): S = 9, W = 4 windows in order;
   * the ninth id and 'j' (only a target) are the unused tail. */
  s = spec_text(2, 16, 0);
  load_ok(text(p), s, &d);
  assert_int_equal(d.n, 4);
  const float x1[] = {0, 1, 2, 3, 4, 5, 6, 7};
  const int32_t c1[] = {1, 2, 3, 4, 5, 6, 7, 8};
  assert_floats(d.x, x1, 8);
  assert_ints(d.cls, c1, 8);
  nn_data_free(&d);
  /* No target (prediction): the same rows, no classes. */
  s = spec_text(2, 16, 2);
  s.target = NN_TARGET_NONE;
  load_ok(text(p), s, &d);
  assert_int_equal(d.n, 4);
  assert_false(d.has_target);
  assert_null(d.cls);
  assert_floats(d.x, x, 8);
  nn_data_free(&d);
}

/* The vocabulary is the distinct bytes in increasing order, whatever the
 * order in the text; the entropy is that of the byte counts. */
static void test_text_vocab_built(void **state) {
  const char *p = put("hello.txt", "hello world\n", -1);
  nn_dataset d;
  nn_data_spec s = spec_text(3, 12, 1);
  load_ok(text(p), s, &d);
  assert_int_equal(d.nvocab, 9);
  assert_memory_equal(d.vocab, "\n dehlorw", 9);
  /* L = 12, S = 11, W = 3 windows: "hel" "lo " "wor", targets one ahead. */
  const float x[] = {4, 3, 5, 5, 6, 1, 8, 6, 7};
  const int32_t cls[] = {3, 5, 5, 6, 1, 8, 6, 7, 5};
  assert_int_equal(d.n, 3);
  assert_floats(d.x, x, 9);
  assert_ints(d.cls, cls, 9);
  /* counts: l 3, o 2, seven others 1, of 12 */
  double h = 3 / 12.0 * log2(12 / 3.0) + 2 / 12.0 * log2(12 / 2.0) + 7 / 12.0 * log2(12.0);
  assert_true(fabs(d.unigram_bits - h) < 1e-12);
  assert_int_equal(d.text_len, 12);
  nn_data_free(&d);
  /* Every byte value is a character, NUL and 0xff included. */
  const char bin[] = {'\xff', '\0', 'a', '\0', '\xff', 'a', '\0'};
  p = put("bin.txt", bin, sizeof bin);
  load_ok(text(p), spec_text(2, 3, 1), &d);
  assert_int_equal(d.nvocab, 3);
  assert_memory_equal(d.vocab, "\0a\xff", 3);
  const float xb[] = {2, 0, 1, 0, 2, 1};
  assert_int_equal(d.n, 3);
  assert_floats(d.x, xb, 6);
  nn_data_free(&d);
}

/* A given vocabulary (the training text's) fixes the ids; the text may use
 * only some of it. */
static void test_text_vocab_given(void **state) {
  const char *p = put("given.txt", "cabbage", -1);
  nn_data_spec s = spec_text(3, 8, 2);
  s.vocab = (const unsigned char *)"gecba";
  s.nvocab = 5;
  nn_dataset d;
  load_ok(text(p), s, &d);
  assert_int_equal(d.nvocab, 5);
  assert_memory_equal(d.vocab, "gecba", 5);
  assert_int_equal(d.distinct, 5);
  /* L = 7, S = 3, W = 1: streams "cab" and "bag" */
  const float x[] = {2, 4, 3, 3, 4, 0};
  const int32_t cls[] = {4, 3, 3, 4, 0, 1};
  assert_int_equal(d.n, 2);
  assert_floats(d.x, x, 6);
  assert_ints(d.cls, cls, 6);
  nn_data_free(&d);
  s.vocab = (const unsigned char *)"abcdefg";
  s.nvocab = 7;
  load_ok(text(p), s, &d);
  assert_int_equal(d.nvocab, 7);
  assert_int_equal(d.distinct, 5);
  assert_true(d.x[0] == 2 && d.x[1] == 0); /* "ca" */
  nn_data_free(&d);
}

static void test_text_errors(void **state) {
  nn_data_spec s = spec_text(2, 16, 2);
  expect_error(text(tmp("missing.txt")), s, ": error: cannot open: No such file or directory");
  expect_error(text(put("empty.txt", "", 0)), s, ": error: empty file");
  /* B * T + 1 = 5 characters at least */
  expect_error(text(put("short.txt", "abcd", -1)), s,
               ": error: 4 characters are too few for 2 streams (the batch) of windows of 2 "
               "steps: at least 5 needed");
  expect_error(text(put("one.txt", "a", -1)), spec_text(1, 4, 1),
               ": error: 1 character is too few for 1 stream (the batch) of windows of 1 "
               "step: at least 2 needed");
  /* More distinct bytes than the model's vocabulary. */
  const char *five = put("five.txt", "abcdeabcde", -1);
  expect_error(text(five), spec_text(2, 4, 2),
               ": error: 5 distinct characters, the model's vocabulary (input : int[2, 4]) "
               "holds 4");
  nn_data_spec k = spec_text(2, 8, 2);
  k.nclasses = 3;
  expect_error(text(five), k,
               ": error: 5 characters in the vocabulary, the model's classes (label : int[2, 3]) "
               "hold 3");
  k.ncls = 1;
  expect_error(text(five), k,
               ": error: 5 characters in the vocabulary, the model's classes (label : int[3]) "
               "hold 3");
  /* Characters outside a given vocabulary, at their byte offset. */
  nn_data_spec g = spec_text(2, 16, 2);
  g.vocab = (const unsigned char *)"abcde";
  g.nvocab = 5;
  expect_error(text(put("q.txt", "abcQde", -1)), g,
               ": offset 3: error: character 'Q' (0x51) is not in the vocabulary of the "
               "training text");
  expect_error(text(put("nl.txt", "ab\ncd", -1)), g,
               ": offset 2: error: character '\\n' (0x0a) is not in the vocabulary of the "
               "training text");
  expect_error(text(put("hi.txt", "abcde\xe9", -1)), g,
               ": offset 5: error: character 0xe9 is not in the vocabulary of the training text");
  expect_error(text(put("quote.txt", "'", -1)), g,
               ": offset 0: error: character '\\'' (0x27) is not in the vocabulary of the "
               "training text");
  g.vocab_from = "the checkpoint m.safetensors";
  expect_error(text(put("tab.txt", "a\tb", -1)), g,
               ": offset 1: error: character '\\t' (0x09) is not in the vocabulary of the "
               "checkpoint m.safetensors");
  g.vocab = (const unsigned char *)"abcdefghijklmnopq";
  g.nvocab = 17;
  expect_error(text(five), g,
               ": error: the vocabulary of the checkpoint m.safetensors has 17 characters, the "
               "model's vocabulary (input : int[2, 16]) holds 16");
  /* Models text cannot feed. */
  nn_data_spec r = {.dim = 4, .target = NN_TARGET_CLASS, .nclasses = 3, .scale = 1};
  expect_error(text(five), r,
               ": error: text data needs a model whose input is token ids (input : int[T, V]); "
               "this model's input is 4 real values");
  nn_data_spec y = spec_text(2, 8, 2);
  y.target = NN_TARGET_REAL;
  y.ydim = 2;
  expect_error(text(five), y,
               ": error: text data gives class targets (the next character); the model's target "
               "is 2 real values");
  nn_data_spec c3 = spec_text(4, 8, 1);
  c3.ncls = 3;
  expect_error(text(five), c3,
               ": error: text data gives 1 or 4 class targets a sample (the next character after "
               "the window, or after every step), the model's label holds 3");
}

/* The fortunes texts of models/data fit the example models' int[64, 96],
 * with B = 64 streams (run from tests/unit). */
static void test_text_fortunes(void **state) {
  nn_dataset tr, te;
  load_ok(text("../../models/data/fortunes_train.txt"), spec_text(64, 96, 64), &tr);
  assert_true(tr.nvocab <= 96);
  assert_true(tr.n > 64 * 40);
  nn_data_spec s = spec_text(64, 96, 64);
  s.vocab = tr.vocab;
  s.nvocab = tr.nvocab;
  load_ok(text("../../models/data/fortunes_test.txt"), s, &te);
  assert_true(te.n >= 64 * 4);
  assert_true(te.distinct <= tr.nvocab);
  assert_true(tr.unigram_bits > 4 && tr.unigram_bits < 5);
  nn_data_free(&tr);
  nn_data_free(&te);
}

/* -------------------------------------------------------------- series */

/* 8 rows of one value, T = 3: 5 samples, x = rows i..i+2, y = row i+3. */
static void test_series_windows(void **state) {
  const char *p = put("s1.csv", "1\n2\n3\n4\n5\n6\n7\n8\n", -1);
  nn_dataset d;
  load_ok(series(p, 0), spec_series(3, 1, 1), &d);
  assert_int_equal(d.n, 5);
  assert_int_equal(d.dim, 3);
  assert_int_equal(d.ydim, 1);
  assert_true(d.has_target);
  assert_string_equal(d.name, p);
  const float x[] = {1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6, 5, 6, 7}, y[] = {4, 5, 6, 7, 8};
  assert_floats(d.x, x, 15);
  assert_floats(d.y, y, 5);
  assert_null(d.cls);
  nn_data_free(&d);
  /* No target: every window, the last one ending at the last row. */
  nn_data_spec s = spec_series(3, 1, 1);
  s.target = NN_TARGET_NONE;
  load_ok(series(p, 0), s, &d);
  assert_int_equal(d.n, 6);
  assert_false(d.has_target);
  assert_null(d.y);
  assert_true(d.x[15] == 6 && d.x[17] == 8);
  nn_data_free(&d);
}

/* Two features a step, step-major; a header; the target is the first
 * value of the next row, unscaled; the features scaled. */
static void test_series_features(void **state) {
  const char *p = put("s2.csv", "a,b\r\n1,10\r\n2,20\r\n\r\n3,30\r\n4,40", -1);
  nn_dataset d;
  nn_data_spec s = spec_series(2, 2, 1);
  s.scale = 0.5;
  load_ok(series(p, 1), s, &d);
  assert_int_equal(d.n, 2);
  assert_int_equal(d.dim, 4);
  const float x[] = {0.5f, 5, 1, 10, 1, 10, 1.5f, 15}, y[] = {3, 4};
  assert_floats(d.x, x, 8);
  assert_floats(d.y, y, 2);
  nn_data_free(&d);
  /* Both values of the next row as the target. */
  s = spec_series(2, 2, 2);
  load_ok(series(p, 1), s, &d);
  const float y2[] = {3, 30, 4, 40};
  assert_floats(d.y, y2, 4);
  nn_data_free(&d);
}

static void test_series_errors(void **state) {
  nn_data_spec s = spec_series(3, 1, 1);
  const char *three = put("three.csv", "1\n2\n3\n", -1);
  expect_error(series(three, 0), s,
               ": error: 3 rows are too few for a window of 3 steps and the row after it (the "
               "target): at least 4 needed");
  nn_data_spec none = s;
  none.target = NN_TARGET_NONE;
  expect_error(series(put("two.csv", "1\n2\n", -1), 0), none,
               ": error: 2 rows are too few for a window of 3 steps: at least 3 needed");
  expect_error(series(put("one.csv", "1\n", -1), 0), spec_series(1, 1, 1),
               ": error: 1 row is too few for a window of 1 step and the row after it (the "
               "target): at least 2 needed");
  /* The CSV loader's messages, lines and columns. */
  expect_error(series(tmp("nope.csv"), 0), s, ": error: cannot open: No such file or directory");
  expect_error(series(put("e.csv", "", 0), 0), s, ": error: empty file");
  expect_error(series(put("h.csv", "x\n", -1), 1), s, ": error: no data rows, only the header line 1");
  expect_error(series(put("abc.csv", "1\nabc\n3\n4\n", -1), 0), s,
               ":2:1: error: 'abc' is not a number (column 1)");
  expect_error(series(put("hdr.csv", "x\n1\n2\n3\n4\n", -1), 0), s,
               ":1:1: error: 'x' is not a number (column 1); is this line a header?");
  expect_error(series(put("cols.csv", "1,2\n3,4\n5\n6,7\n7,8\n", -1), 0), spec_series(3, 2, 1),
               ":3: error: expected 2 columns, found 1");
  expect_error(series(put("inf.csv", "1\n2\ninf\n4\n", -1), 0), s,
               ":3:1: error: 'inf' is not a finite number (column 1)");
  /* Models a series cannot feed. */
  expect_error(series(three, 0), spec_series(2, 2, 3),
               ": error: the model's target has 3 values, but a row of the series has 2 (the "
               "target is the first values of the next row)");
  nn_data_spec c = spec_series(3, 1, 1);
  c.target = NN_TARGET_CLASS;
  c.nclasses = 2;
  expect_error(series(three, 0), c,
               ": error: series data gives real targets (the row after each window); the "
               "model's target is a class");
  nn_data_spec flat = {.dim = 3, .target = NN_TARGET_REAL, .ydim = 1, .scale = 1};
  expect_error(series(three, 0), flat,
               ": error: series data needs a model whose input is a sequence of real features "
               "(input : real[T, F]); this model's input is not a sequence");
}

/* The sine series of models/data: 3000 and 1000 rows of one value. */
static void test_series_sine(void **state) {
  nn_dataset d;
  load_ok(series("../../models/data/sine_train.csv", 0), spec_series(25, 1, 1), &d);
  assert_int_equal(d.n, 3000 - 25);
  nn_data_free(&d);
  load_ok(series("../../models/data/sine_test.csv", 0), spec_series(25, 1, 1), &d);
  assert_int_equal(d.n, 1000 - 25);
  nn_data_free(&d);
}

/* -------------------------------------------------------------- batches */

/* Two class indices a row travel together. */
static void test_gather_ncls(void **state) {
  float x[3] = {0, 1, 2};
  int32_t cls[6] = {10, 11, 20, 21, 30, 31};
  nn_dataset d = {.n = 3, .dim = 1, .x = x, .has_target = 1, .cls = cls, .ncls = 2};
  int32_t order[3] = {2, 0, 1}, cb[4] = {0};
  float xb[2];
  nn_batch_gather(&d, order, 0, 2, xb, cb, NULL);
  const int32_t want[] = {30, 31, 10, 11};
  assert_ints(cb, want, 4);
  assert_true(xb[0] == 2 && xb[1] == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_layout),     cmocka_unit_test(test_text_vocab_built),
      cmocka_unit_test(test_text_vocab_given), cmocka_unit_test(test_text_errors),
      cmocka_unit_test(test_text_fortunes),   cmocka_unit_test(test_series_windows),
      cmocka_unit_test(test_series_features), cmocka_unit_test(test_series_errors),
      cmocka_unit_test(test_series_sine),     cmocka_unit_test(test_gather_ncls),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
