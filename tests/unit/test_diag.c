/* test_diag.c — diagnostics formatting (diag.c) and the "did you mean"
 * helpers of util.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nncc.h"

static char *cap_buf;
static size_t cap_len;

/* Start capturing diagnostics for `src` named t.nn. */
static void begin(const char *src) {
  diag_out = open_memstream(&cap_buf, &cap_len);
  assert_non_null(diag_out);
  diag_init("t.nn", src);
}

/* Stop capturing and compare with `want`. */
static void expect(const char *want) {
  fclose(diag_out);
  diag_out = NULL;
  assert_string_equal(cap_buf, want);
  free(cap_buf);
  cap_buf = NULL;
}

static void test_error_format(void **state) {
  (void)state;
  begin("model m\nlayer h1 = dense(flat, 256, activation = rleu)\n");
  error_at((Loc){2, 42, 4}, "unknown activation '%s', did you mean '%s'?", "rleu", "relu");
  assert_int_equal(diag_errors(), 1);
  expect("t.nn:2:42: error: unknown activation 'rleu', did you mean 'relu'?\n"
         "    2 | layer h1 = dense(flat, 256, activation = rleu)\n"
         "      |                                          ^~~~\n");
}

static void test_note_and_file_error(void **state) {
  (void)state;
  begin("input x[3]\ninput y[4]\n");
  error_at((Loc){2, 1, 5}, "second input 'y'");
  note_at((Loc){1, 1, 5}, "first input here");
  error_file("no loss statement");
  note_at((Loc){0, 0, 0}, "add one");
  assert_int_equal(diag_errors(), 2);
  expect("t.nn:2:1: error: second input 'y'\n"
         "    2 | input y[4]\n"
         "      | ^~~~~\n"
         "t.nn:1:1: note: first input here\n"
         "    1 | input x[3]\n"
         "      | ^~~~~\n"
         "t.nn: error: no loss statement\n"
         "t.nn: note: add one\n");
}

static void test_line_zero(void **state) {
  (void)state;
  begin("model m\n");
  error_at((Loc){0, 0, 0}, "no input");
  expect("t.nn: error: no input\n");
}

/* Tabs before the caret are copied so that the caret lines up. */
static void test_tabs(void **state) {
  (void)state;
  begin("model m\n\tlayer\th = dense(x)\n");
  error_at((Loc){2, 8, 1}, "bad");
  expect("t.nn:2:8: error: bad\n"
         "    2 | \tlayer\th = dense(x)\n"
         "      | \t     \t^\n");
}

/* A location one past the end of the line (end of file) puts the caret
 * after the last character; an underline never runs past the line. */
static void test_past_end(void **state) {
  (void)state;
  begin("model m\ninput x[28");
  error_at((Loc){2, 11, 1}, "unexpected end of file");
  error_at((Loc){2, 40, 3}, "far");
  error_at((Loc){2, 9, 50}, "long");
  expect("t.nn:2:11: error: unexpected end of file\n"
         "    2 | input x[28\n"
         "      |           ^\n"
         "t.nn:2:40: error: far\n"
         "    2 | input x[28\n"
         "      |           ^\n"
         "t.nn:2:9: error: long\n"
         "    2 | input x[28\n"
         "      |         ^~\n");
}

/* No such line: the header alone. */
static void test_no_such_line(void **state) {
  (void)state;
  begin("model m\n");
  error_at((Loc){5, 1, 1}, "nowhere");
  expect("t.nn:5:1: error: nowhere\n");
}

/* Multi-byte UTF-8 characters take one column on the terminal. */
static void test_utf8(void **state) {
  (void)state;
  begin("# caf\xc3\xa9\nmodel \xc3\xa9t\xc3\xa9 x\n");
  error_at((Loc){2, 7, 5}, "name");
  error_at((Loc){2, 13, 1}, "after");
  expect("t.nn:2:7: error: name\n"
         "    2 | model \xc3\xa9t\xc3\xa9 x\n"
         "      |       ^~~\n"
         "t.nn:2:13: error: after\n"
         "    2 | model \xc3\xa9t\xc3\xa9 x\n"
         "      |           ^\n");
}

static void test_crlf(void **state) {
  (void)state;
  begin("model m\r\ninput x\r\n");
  error_at((Loc){2, 7, 1}, "dims");
  expect("t.nn:2:7: error: dims\n"
         "    2 | input x\n"
         "      |       ^\n");
}

static void test_line_number_width(void **state) {
  (void)state;
  char src[2000] = "";
  for (int i = 0; i < 123; i++) strcat(src, "x\n");
  begin(src);
  error_at((Loc){123, 1, 1}, "here");
  expect("t.nn:123:1: error: here\n"
         "  123 | x\n"
         "      | ^\n");
}

/* After DIAG_MAX_ERRORS errors one line says so; counting goes on and
 * notes of hidden errors are hidden too. */
static void test_too_many(void **state) {
  (void)state;
  begin("x\n");
  for (int i = 0; i < DIAG_MAX_ERRORS + 5; i++) {
    error_file("e%d", i);
    note_at((Loc){0, 0, 0}, "n%d", i);
  }
  assert_int_equal(diag_errors(), DIAG_MAX_ERRORS + 5);
  char want[4096] = "";
  for (int i = 0; i < DIAG_MAX_ERRORS; i++) {
    char line[64];
    snprintf(line, sizeof line, "t.nn: error: e%d\nt.nn: note: n%d\n", i, i);
    strcat(want, line);
  }
  strcat(want, "t.nn: error: too many errors, stopping\n");
  expect(want);
  /* diag_init starts over */
  begin("x\n");
  assert_int_equal(diag_errors(), 0);
  error_file("again");
  expect("t.nn: error: again\n");
}

static void test_diag_file(void **state) {
  (void)state;
  begin("");
  assert_string_equal(diag_file(), "t.nn");
  expect("");
}

/* ---------------------------------------------------------------- util */

static void test_edit_distance(void **state) {
  (void)state;
  assert_int_equal(edit_distance("", ""), 0);
  assert_int_equal(edit_distance("relu", "relu"), 0);
  assert_int_equal(edit_distance("", "abc"), 3);
  assert_int_equal(edit_distance("abc", ""), 3);
  assert_int_equal(edit_distance("kitten", "sitting"), 3);
  assert_int_equal(edit_distance("layr", "layer"), 1);
  assert_int_equal(edit_distance("rleu", "relu"), 1); /* transposition */
  assert_int_equal(edit_distance("dens", "data"), 3);
  assert_int_equal(edit_distance("sigmiod", "sigmoid"), 1);
}

static void test_closest_word(void **state) {
  (void)state;
  static const char *const acts[] = {"identity", "step", "sigmoid", "tanh", "relu",
                                     "leaky_relu", "softplus", "softmax"};
  int n = (int)(sizeof acts / sizeof *acts);
  assert_string_equal(closest_word("rleu", acts, n), "relu");
  assert_string_equal(closest_word("softmx", acts, n), "softmax");
  assert_string_equal(closest_word("leaky_rlu", acts, n), "leaky_relu");
  assert_string_equal(closest_word("tahn", acts, n), "tanh");
  assert_string_equal(closest_word("gelu", acts, n), "relu");
  assert_null(closest_word("swish", acts, n));
  assert_null(closest_word("x", acts, n));
  assert_null(closest_word("abc", NULL, 0));
}

static void test_alloc(void **state) {
  (void)state;
  char *s = xasprintf("%s-%d", "ab", 42);
  assert_string_equal(s, "ab-42");
  free(s);
  char big[600];
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  s = xasprintf("<%s>", big);
  assert_int_equal(strlen(s), sizeof big + 1);
  assert_int_equal(s[0], '<');
  assert_int_equal(s[sizeof big], '>');
  free(s);
  s = xstrndup("abcdef", 3);
  assert_string_equal(s, "abc");
  free(s);
  s = xstrndup("ab", 10);
  assert_string_equal(s, "ab");
  free(s);
  int *v = NULL, n = 0, cap = 0;
  for (int i = 0; i < 100; i++) VEC_PUSH(v, n, cap, i * i);
  assert_int_equal(n, 100);
  assert_int_equal(v[99], 99 * 99);
  free(v);
  int *z = xcalloc(4, sizeof *z);
  assert_int_equal(z[3], 0);
  free(z);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_format),
      cmocka_unit_test(test_note_and_file_error),
      cmocka_unit_test(test_line_zero),
      cmocka_unit_test(test_tabs),
      cmocka_unit_test(test_past_end),
      cmocka_unit_test(test_no_such_line),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_crlf),
      cmocka_unit_test(test_line_number_width),
      cmocka_unit_test(test_too_many),
      cmocka_unit_test(test_diag_file),
      cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_closest_word),
      cmocka_unit_test(test_alloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
