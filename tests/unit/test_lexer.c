/* test_lexer.c — the tokens of grammar/lexer.l: kinds, values, locations
 * and lexical errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nncc.h"
#include "parser.h"
#include "lexer.h"

typedef struct Tok {
  int kind;
  int line, col, len;      /* first character, length in bytes */
  int last_line, last_col; /* last character */
  char *str;               /* IDENT, STRING */
  double num;
  bool is_int;
} Tok;

static Tok toks[64];
static int ntoks;
static char *cap_buf;
static size_t cap_len;

/* Scan all of `src` (to and including end of file) into toks[]; the
 * diagnostics go to cap_buf. */
static void scan(const char *src) {
  diag_out = open_memstream(&cap_buf, &cap_len);
  diag_init("t.nn", src);
  LexState ls = {.src = src, .line = 1, .col = 1};
  yyscan_t sc;
  assert_int_equal(yylex_init_extra(&ls, &sc), 0);
  YY_BUFFER_STATE b = yy_scan_string(src, sc);
  ntoks = 0;
  for (;;) {
    YYSTYPE v;
    YYLTYPE l;
    memset(&v, 0, sizeof v);
    int k = nn_lex(&v, &l, sc);
    assert_true(ntoks < 64);
    Tok *t = &toks[ntoks++];
    memset(t, 0, sizeof *t);
    t->kind = k;
    t->line = l.first_line;
    t->col = l.first_column;
    t->len = l.end - l.off;
    t->last_line = l.last_line;
    t->last_col = l.last_column;
    if (k == IDENT || k == STRING) t->str = v.str;
    if (k == NUMBER) {
      t->num = v.num.v;
      t->is_int = v.num.is_int;
    }
    if (k == YYEOF) break;
  }
  yy_delete_buffer(b, sc);
  yylex_destroy(sc);
  fclose(diag_out);
  diag_out = NULL;
}

static void done(void) {
  for (int i = 0; i < ntoks; i++) free(toks[i].str);
  ntoks = 0;
  free(cap_buf);
  cap_buf = NULL;
}

static void check(int i, int kind, int line, int col, int len) {
  assert_true(i < ntoks);
  assert_int_equal(toks[i].kind, kind);
  assert_int_equal(toks[i].line, line);
  assert_int_equal(toks[i].col, col);
  assert_int_equal(toks[i].len, len);
}

static void check_ident(int i, int line, int col, const char *name) {
  check(i, IDENT, line, col, (int)strlen(name));
  assert_string_equal(toks[i].str, name);
}

static void check_num(int i, int line, int col, int len, double v, bool is_int) {
  check(i, NUMBER, line, col, len);
  assert_true(toks[i].num == v);
  assert_int_equal(toks[i].is_int, is_int);
}

static void test_tokens(void **state) {
  (void)state;
  scan("# models/x.nn \xe2\x80\x94 a comment with any bytes \x01\xff\n"
       "layer h1 = dense(x, 0.05, 1e-3, .5, 256) # trailing\n"
       "\tlabel_2 \"a\\\"b\\\\c\\nd\\te\"  ;[]{}:+-*/\n"
       "model input label layer loss data train models _x 2.E5 7.\n");
  assert_string_equal(cap_buf, "");
  int i = 0;
  check(i++, LAYER, 2, 1, 5);
  check_ident(i++, 2, 7, "h1");
  check(i++, '=', 2, 10, 1);
  check_ident(i++, 2, 12, "dense");
  check(i++, '(', 2, 17, 1);
  check_ident(i++, 2, 18, "x");
  check(i++, ',', 2, 19, 1);
  check_num(i++, 2, 21, 4, 0.05, false);
  check(i++, ',', 2, 25, 1);
  check_num(i++, 2, 27, 4, 1e-3, false);
  check(i++, ',', 2, 31, 1);
  check_num(i++, 2, 33, 2, 0.5, false);
  check(i++, ',', 2, 35, 1);
  check_num(i++, 2, 37, 3, 256, true);
  check(i++, ')', 2, 40, 1);
  /* a tab is one column */
  check_ident(i++, 3, 2, "label_2");
  check(i++, STRING, 3, 10, 15);
  assert_string_equal(toks[i - 1].str, "a\"b\\c\nd\te");
  assert_int_equal(toks[i - 1].last_line, 3);
  assert_int_equal(toks[i - 1].last_col, 24);
  check(i++, ';', 3, 27, 1);
  const char *punct = "[]{}:+-*/";
  for (int k = 0; punct[k]; k++) check(i++, punct[k], 3, 28 + k, 1);
  check(i++, MODEL, 4, 1, 5);
  check(i++, INPUT, 4, 7, 5);
  check(i++, LABEL, 4, 13, 5);
  check(i++, LAYER, 4, 19, 5);
  check(i++, LOSS, 4, 25, 4);
  check(i++, DATA, 4, 30, 4);
  check(i++, TRAIN, 4, 35, 5);
  check_ident(i++, 4, 41, "models"); /* a keyword prefix is a name */
  check_ident(i++, 4, 48, "_x");
  check_num(i++, 4, 51, 4, 2e5, false);
  check_num(i++, 4, 56, 2, 7, false);
  /* end of file: one past the last character */
  check(i++, YYEOF, 4, 58, 0);
  assert_int_equal(i, ntoks);
  done();
}

static void test_eof_location(void **state) {
  (void)state;
  scan("");
  check(0, YYEOF, 1, 1, 0);
  done();
  scan("model m   \n\n  # note\n\n\n");
  check(2, YYEOF, 3, 9, 0); /* after the comment, not on the blank lines */
  done();
  scan("model m\n  \t\n");
  check(2, YYEOF, 1, 8, 0);
  done();
}

static void test_bad_character(void **state) {
  (void)state;
  scan("input x[@3]\nmodel \xc3\xa9 $\x01");
  assert_string_equal(cap_buf, "t.nn:1:9: error: unexpected character '@'\n"
                               "    1 | input x[@3]\n"
                               "      |         ^\n"
                               "t.nn:2:7: error: unexpected character '\xc3\xa9'\n"
                               "    2 | model \xc3\xa9 $\x01\n"
                               "      |       ^\n"
                               "t.nn:2:10: error: unexpected character '$'\n"
                               "    2 | model \xc3\xa9 $\x01\n"
                               "      |         ^\n"
                               "t.nn:2:11: error: unexpected character '\\x01'\n"
                               "    2 | model \xc3\xa9 $\x01\n"
                               "      |          ^\n");
  /* scanning goes on after each */
  int i = 0;
  check(i++, INPUT, 1, 1, 5);
  check_ident(i++, 1, 7, "x");
  check(i++, '[', 1, 8, 1);
  check_num(i++, 1, 10, 1, 3, true);
  check(i++, ']', 1, 11, 1);
  check(i++, MODEL, 2, 1, 5);
  check(i++, YYEOF, 2, 12, 0);
  assert_int_equal(i, ntoks);
  done();
}

static void test_unterminated_string(void **state) {
  (void)state;
  scan("data { train = idx(\"a.gz\n  \"b\\\n}");
  assert_string_equal(cap_buf, "t.nn:1:20: error: unterminated string\n"
                               "    1 | data { train = idx(\"a.gz\n"
                               "      |                    ^\n"
                               "t.nn:2:3: error: unterminated string\n"
                               "    2 |   \"b\\\n"
                               "      |   ^\n");
  int i = 6;
  check(i++, STRING, 1, 20, 5);
  assert_string_equal(toks[i - 1].str, "a.gz");
  check(i++, STRING, 2, 3, 3);
  assert_string_equal(toks[i - 1].str, "b");
  check(i++, '}', 3, 1, 1);
  check(i++, YYEOF, 3, 2, 0);
  done();
}

static void test_malformed_number(void **state) {
  (void)state;
  scan("x = 1.2.3 + 3abc - 1e + 1e+ 2.5e-3");
  assert_string_equal(cap_buf, "t.nn:1:5: error: malformed number '1.2.3'\n"
                               "    1 | x = 1.2.3 + 3abc - 1e + 1e+ 2.5e-3\n"
                               "      |     ^~~~~\n"
                               "t.nn:1:13: error: malformed number '3abc'\n"
                               "    1 | x = 1.2.3 + 3abc - 1e + 1e+ 2.5e-3\n"
                               "      |             ^~~~\n"
                               "t.nn:1:20: error: malformed number '1e'\n"
                               "    1 | x = 1.2.3 + 3abc - 1e + 1e+ 2.5e-3\n"
                               "      |                    ^~\n"
                               "t.nn:1:25: error: malformed number '1e+'\n"
                               "    1 | x = 1.2.3 + 3abc - 1e + 1e+ 2.5e-3\n"
                               "      |                         ^~~\n");
  /* each still yields a NUMBER, so the parser sees a value */
  check(2, NUMBER, 1, 5, 5);
  check(4, NUMBER, 1, 13, 4);
  check(6, NUMBER, 1, 20, 2);
  check(8, NUMBER, 1, 25, 3);
  check_num(9, 1, 29, 6, 2.5e-3, false);
  done();
}

static void test_unknown_escape(void **state) {
  (void)state;
  scan("s = \"a\\qb\"");
  assert_string_equal(cap_buf, "t.nn:1:7: error: unknown escape sequence '\\q'\n"
                               "    1 | s = \"a\\qb\"\n"
                               "      |       ^~\n");
  check(2, STRING, 1, 5, 6);
  assert_string_equal(toks[2].str, "aqb");
  done();
}

static void test_multiline_location(void **state) {
  (void)state;
  scan("a\n\n   bb # c\n  \"s\"");
  check_ident(0, 1, 1, "a");
  check_ident(1, 3, 4, "bb");
  assert_int_equal(toks[1].last_col, 5);
  check(2, STRING, 4, 3, 3);
  check(3, YYEOF, 4, 6, 0);
  done();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tokens),
      cmocka_unit_test(test_eof_location),
      cmocka_unit_test(test_bad_character),
      cmocka_unit_test(test_unterminated_string),
      cmocka_unit_test(test_malformed_number),
      cmocka_unit_test(test_unknown_escape),
      cmocka_unit_test(test_multiline_location),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
