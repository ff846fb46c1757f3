/* test_parser.c — grammar/parser.y: the AST of correct input, the exact
 * text of every syntax error message, and error recovery. */
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

/* Parse `src` as t.nn; the diagnostics are in cap_buf until done(). */
static Program *parse(const char *src) {
  diag_out = open_memstream(&cap_buf, &cap_len);
  assert_non_null(diag_out);
  diag_init("t.nn", src);
  Program *p = parse_program("t.nn", src);
  fclose(diag_out);
  diag_out = NULL;
  assert_non_null(p);
  return p;
}

static void done(Program *p) {
  ast_free(p);
  free(cap_buf);
  cap_buf = NULL;
}

static char *ast_text(const Program *p) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ast_print(f, p);
  fclose(f);
  return buf;
}

/* `src` parses without a message to exactly `want`. */
static void expect_ast(const char *src, const char *want) {
  Program *p = parse(src);
  assert_string_equal(cap_buf, "");
  assert_int_equal(diag_errors(), 0);
  char *got = ast_text(p);
  assert_string_equal(got, want);
  free(got);
  done(p);
}

static const char example[] =
    "# models/fashion_mlp.nn \xe2\x80\x94 784-256-128-10 MLP for Fashion-MNIST\n"
    "model fashion_mlp\n"
    "input  image[28, 28, 1]              # one sample's shape\n"
    "label  class : int[10]               # class index 0..9\n"
    "layer flat = flatten(image)\n"
    "layer h1   = dense(flat, 256, activation = relu, init = he)\n"
    "layer h2   = dense(h1, 128, activation = relu)\n"
    "layer out  = dense(h2, 10, activation = softmax)\n"
    "loss cross_entropy(out, class)\n"
    "data {\n"
    "  train = idx(\"/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz\",\n"
    "              \"/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz\")\n"
    "  test  = idx(\"/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz\", "
    "\"/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz\")\n"
    "  scale = 1/255\n"
    "}\n"
    "train {\n"
    "  optimizer = sgd(lr = 0.05, momentum = 0.9)\n"
    "  batch = 64\n"
    "  epochs = 5\n"
    "  shuffle = true\n"
    "  seed = 42\n"
    "}\n";

static void test_example(void **state) {
  (void)state;
  expect_ast(example,
             "(model fashion_mlp)\n"
             "(input image [28 28 1])\n"
             "(label class int [10])\n"
             "(layer flat (flatten image))\n"
             "(layer h1 (dense flat 256 (= activation relu) (= init he)))\n"
             "(layer h2 (dense h1 128 (= activation relu)))\n"
             "(layer out (dense h2 10 (= activation softmax)))\n"
             "(loss (cross_entropy out class))\n"
             "(data (= train (idx \"/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz\" "
             "\"/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz\")) "
             "(= test (idx \"/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz\" "
             "\"/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz\")) "
             "(= scale (/ 1 255)))\n"
             "(train (= optimizer (sgd (= lr 0.05) (= momentum 0.9))) (= batch 64) (= epochs 5) "
             "(= shuffle true) (= seed 42))\n");
}

/* Where things are: the locations sema.c reports at. */
static void test_locations(void **state) {
  (void)state;
  Program *p = parse(example);
  assert_int_equal(p->nstmts, 10);
  assert_string_equal(p->file, "t.nn");
  Stmt *s = p->stmts[1]; /* input  image[28, 28, 1] */
  assert_int_equal(s->kind, ST_INPUT);
  assert_int_equal(s->loc.line, 3);
  assert_int_equal(s->loc.col, 1);
  assert_int_equal(s->loc.len, 5);
  assert_int_equal(s->name_loc.col, 8);
  assert_int_equal(s->name_loc.len, 5);
  assert_int_equal(s->ndims, 3);
  assert_int_equal(s->dims[0], 28);
  assert_int_equal(s->dims[2], 1);
  assert_int_equal(s->dim_locs[1].col, 18);
  assert_int_equal(s->dim_locs[1].len, 2);
  assert_int_equal(s->dims_loc.col, 13);
  assert_int_equal(s->dims_loc.len, 11);
  s = p->stmts[2]; /* label  class : int[10] */
  assert_string_equal(s->type, "int");
  assert_int_equal(s->type_loc.line, 4);
  assert_int_equal(s->type_loc.col, 16);
  assert_int_equal(s->type_loc.len, 3);
  s = p->stmts[4]; /* layer h1   = dense(flat, 256, activation = relu, init = he) */
  assert_int_equal(s->kind, ST_LAYER);
  assert_string_equal(s->name, "h1");
  Expr *c = s->call;
  assert_int_equal(c->kind, EX_CALL);
  assert_string_equal(c->str, "dense");
  assert_int_equal(c->loc.line, 6);
  assert_int_equal(c->loc.col, 14);
  assert_int_equal(c->loc.len, 46);
  assert_int_equal(c->nargs, 4);
  assert_null(c->args[0].key);
  assert_int_equal(c->args[0].val->kind, EX_IDENT);
  assert_int_equal(c->args[1].val->kind, EX_NUM);
  assert_true(c->args[1].val->is_int);
  assert_true(c->args[1].val->num == 256);
  assert_int_equal(c->args[1].val->loc.col, 26);
  assert_string_equal(c->args[2].key, "activation");
  assert_int_equal(c->args[2].key_loc.col, 31);
  assert_int_equal(c->args[2].key_loc.len, 10);
  assert_int_equal(c->args[2].val->loc.col, 44);
  s = p->stmts[8]; /* data { ... } */
  assert_int_equal(s->kind, ST_DATA);
  assert_int_equal(s->nentries, 3);
  assert_string_equal(s->entries[0].key, "train"); /* a keyword as a key */
  assert_int_equal(s->entries[0].key_loc.line, 11);
  assert_int_equal(s->entries[0].key_loc.col, 3);
  Expr *src = s->entries[0].val;
  assert_int_equal(src->kind, EX_CALL);
  assert_int_equal(src->nargs, 2);
  assert_int_equal(src->args[1].val->kind, EX_STR);
  assert_int_equal(src->args[1].val->loc.line, 12);
  Expr *scale = s->entries[2].val;
  assert_int_equal(scale->kind, EX_BIN);
  assert_int_equal(scale->op, '/');
  assert_int_equal(scale->loc.col, 11);
  assert_int_equal(scale->loc.len, 5);
  s = p->stmts[9];
  assert_int_equal(s->kind, ST_TRAIN);
  assert_true(s->entries[0].val->args[0].val->num == 0.05);
  assert_false(s->entries[0].val->args[0].val->is_int);
  done(p);
}

static void test_expressions(void **state) {
  (void)state;
  expect_ast("data {\n"
             "  a = -1 + 2 * 3 / (4 - 5) - -x\n"
             "  b = 1 - 2 - 3, c = 8 / 4 / 2; d = [1, 2.5, \"s\"]\n"
             "  e = [] f = f() g = csv(\"a\\\"b\\\\c\\td\\ne\", label = -1, header = true)\n"
             "  h = [[1], [2, 3]] i = 1e-3 j = .5 k = 1e20 l = 123456789012\n"
             "}\n",
             "(data (= a (- (+ (- 1) (/ (* 2 3) (- 4 5))) (- x))) "
             "(= b (- (- 1 2) 3)) (= c (/ (/ 8 4) 2)) (= d [1 2.5 \"s\"]) "
             "(= e []) (= f (f)) (= g (csv \"a\\\"b\\\\c\\td\\ne\" (= label (- 1)) (= header true))) "
             "(= h [[1] [2 3]]) (= i 0.001) (= j 0.5) (= k 1e+20) (= l 123456789012))\n");
}

/* Keywords are names inside brackets unless their statement follows. */
static void test_keywords_as_names(void **state) {
  (void)state;
  expect_ast("data { train = csv(\"t.csv\", label = 0), test = idx(\"i\") }\n"
             "train { data = 1; model = 2; layer = dense(loss) }\n"
             "layer h = dense(input, 3)\n",
             "(data (= train (csv \"t.csv\" (= label 0))) (= test (idx \"i\")))\n"
             "(train (= data 1) (= model 2) (= layer (dense loss)))\n"
             "(layer h (dense input 3))\n");
}

/* input NAME : TYPE[...] (token ids or real values), as label. */
static void test_typed_input(void **state) {
  (void)state;
  expect_ast("input chars : int[64, 96]\nlabel next : int[64, 96]\n",
             "(input chars int [64 96])\n(label next int [64 96])\n");
  expect_ast("input x : real[24, 1] input y[3]\n", "(input x real [24 1])\n(input y [3])\n");
  /* the recurrent layers and sources are calls like any other */
  expect_ast("layer h = lstm(chars, 128, return = last, stateful = false)\n"
             "data { train = text(\"a.txt\") test = series(\"s.csv\", header = true) }\n",
             "(layer h (lstm chars 128 (= return last) (= stateful false)))\n"
             "(data (= train (text \"a.txt\")) (= test (series \"s.csv\" (= header true))))\n");
  Program *p = parse("model m\ninput  chars : int[64, 96]\n");
  assert_string_equal(cap_buf, "");
  Stmt *s = p->stmts[1];
  assert_int_equal(s->kind, ST_INPUT);
  assert_string_equal(s->name, "chars");
  assert_int_equal(s->name_loc.col, 8);
  assert_string_equal(s->type, "int");
  assert_int_equal(s->type_loc.line, 2);
  assert_int_equal(s->type_loc.col, 16);
  assert_int_equal(s->type_loc.len, 3);
  assert_int_equal(s->ndims, 2);
  assert_int_equal(s->dims[0], 64);
  assert_int_equal(s->dims[1], 96);
  assert_int_equal(s->dims_loc.col, 19);
  assert_int_equal(s->dims_loc.len, 8);
  assert_int_equal(s->dim_locs[1].col, 24);
  done(p);
  /* without a type there is none */
  p = parse("input x[3]\n");
  assert_null(p->stmts[0]->type);
  done(p);
}

static void test_empty_and_minimal(void **state) {
  (void)state;
  expect_ast("", "");
  expect_ast("# nothing\n\n", "");
  expect_ast("model m input x[3] label y : real[2, 1] layer o = dense(2) loss mse(o, y) "
             "data {} train {}",
             "(model m)\n(input x [3])\n(label y real [2 1])\n(layer o (dense 2))\n"
             "(loss (mse o y))\n(data)\n(train)\n");
}

/* Every syntax error message, exactly. */
typedef struct Case {
  const char *name, *src, *err;
} Case;

static const Case cases[] = {
    {"stmt_expected",
     "model m\n"
     "dens h1 = dense(x)\n",
     "t.nn:2:1: error: expected a statement (model, input, label, layer, loss, data, train), saw 'dens'\n"
     "    2 | dens h1 = dense(x)\n"
     "      | ^~~~\n"},
    {"stmt_did_you_mean",
     "model m\n"
     "layr h1 = dense(x)\n",
     "t.nn:2:1: error: expected a statement (model, input, label, layer, loss, data, train), saw 'layr'; did you mean 'layer'?\n"
     "    2 | layr h1 = dense(x)\n"
     "      | ^~~~\n"},
    {"stmt_stray_close",
     "data { x = 1 } }\n",
     "t.nn:1:16: error: expected a statement (model, input, label, layer, loss, data, train), saw '}'\n"
     "    1 | data { x = 1 } }\n"
     "      |                ^\n"},
    {"stmt_after_complete",
     "loss f(x) ; model m\n",
     "t.nn:1:11: error: expected a statement (model, input, label, layer, loss, data, train), saw ';'\n"
     "    1 | loss f(x) ; model m\n"
     "      |           ^\n"},
    {"model_name",
     "model\n",
     "t.nn:1:6: error: unexpected end of file: expected a model name after 'model'\n"
     "    1 | model\n"
     "      |      ^\n"},
    {"model_number",
     "model 3\n",
     "t.nn:1:7: error: expected a model name after 'model', saw '3'\n"
     "    1 | model 3\n"
     "      |       ^\n"},
    {"input_name_keyword",
     "input layer[3]\n",
     "t.nn:1:7: error: expected an input name after 'input', saw 'layer'\n"
     "    1 | input layer[3]\n"
     "      |       ^~~~~\n"},
    {"input_bracket",
     "input x 28\n",
     "t.nn:1:9: error: expected '[' after input name 'x', saw '28'\n"
     "    1 | input x 28\n"
     "      |         ^~\n"},
    {"input_type",
     "input x : [3]\n",
     "t.nn:1:11: error: expected a type (int or real) after ':', saw '['\n"
     "    1 | input x : [3]\n"
     "      |           ^\n"},
    {"input_type_dims",
     "input x : int 3\n",
     "t.nn:1:15: error: expected '[' after type 'int', saw '3'\n"
     "    1 | input x : int 3\n"
     "      |               ^\n"},
    {"input_type_no_colon",
     "input x int[3]\n",
     "t.nn:1:9: error: expected '[' after input name 'x', saw 'int'\n"
     "    1 | input x int[3]\n"
     "      |         ^~~\n"},
    {"input_type_eof",
     "input x :\n",
     "t.nn:1:10: error: unexpected end of file: expected a type (int or real) after ':'\n"
     "    1 | input x :\n"
     "      |          ^\n"},
    {"label_colon",
     "label y int[3]\n",
     "t.nn:1:9: error: expected ':' after label name 'y', saw 'int'\n"
     "    1 | label y int[3]\n"
     "      |         ^~~\n"},
    {"label_type",
     "label y : [3]\n",
     "t.nn:1:11: error: expected a type (int or real) after ':', saw '['\n"
     "    1 | label y : [3]\n"
     "      |           ^\n"},
    {"label_dims",
     "label y : int 3\n",
     "t.nn:1:15: error: expected '[' after type 'int', saw '3'\n"
     "    1 | label y : int 3\n"
     "      |               ^\n"},
    {"dims_close",
     "input x[28 28]\n",
     "t.nn:1:12: error: expected ']' to close '[' at 1:8, saw '28'\n"
     "    1 | input x[28 28]\n"
     "      |            ^~\n"},
    {"dims_close_eof",
     "model m\n"
     "input image[28, 28\n",
     "t.nn:2:19: error: unexpected end of file: expected ']' to close '[' at 2:12\n"
     "    2 | input image[28, 28\n"
     "      |                   ^\n"},
    {"dims_not_int",
     "input x[28, 2.5]\n",
     "t.nn:1:13: error: expected an integer dimension, saw '2.5'\n"
     "    1 | input x[28, 2.5]\n"
     "      |             ^~~\n"},
    {"dims_empty",
     "input x[]\n",
     "t.nn:1:9: error: expected an integer dimension, saw ']'\n"
     "    1 | input x[]\n"
     "      |         ^\n"},
    {"dims_trailing_comma",
     "input x[3,]\n",
     "t.nn:1:11: error: expected an integer dimension, saw ']'\n"
     "    1 | input x[3,]\n"
     "      |           ^\n"},
    {"dims_negative",
     "input x[-1]\n",
     "t.nn:1:9: error: expected an integer dimension, saw '-'\n"
     "    1 | input x[-1]\n"
     "      |         ^\n"},
    {"dims_too_large",
     "input x[99999999999]\n",
     "t.nn:1:9: error: dimension '99999999999' is too large\n"
     "    1 | input x[99999999999]\n"
     "      |         ^~~~~~~~~~~\n"},
    {"layer_name",
     "layer = dense(x)\n",
     "t.nn:1:7: error: expected a layer name after 'layer', saw '='\n"
     "    1 | layer = dense(x)\n"
     "      |       ^\n"},
    {"layer_name_keyword",
     "layer model = dense(x)\n",
     "t.nn:1:7: error: expected a layer name after 'layer', saw 'model'\n"
     "    1 | layer model = dense(x)\n"
     "      |       ^~~~~\n"},
    {"layer_eq",
     "layer h1 (dense(x))\n",
     "t.nn:1:10: error: expected '=' after layer name 'h1', saw '('\n"
     "    1 | layer h1 (dense(x))\n"
     "      |          ^\n"},
    {"layer_op",
     "layer z = 3\n",
     "t.nn:1:11: error: expected an operation such as dense(...) after '=', saw '3'\n"
     "    1 | layer z = 3\n"
     "      |           ^\n"},
    {"call_paren",
     "layer h = dense x\n",
     "t.nn:1:17: error: expected '(' after 'dense', saw 'x'\n"
     "    1 | layer h = dense x\n"
     "      |                 ^\n"},
    {"call_close",
     "layer h = dense(x 3)\n",
     "t.nn:1:19: error: expected ')' to close '(' at 1:16, saw '3'\n"
     "    1 | layer h = dense(x 3)\n"
     "      |                   ^\n"},
    {"call_close_mismatch",
     "layer h = dense(x]\n",
     "t.nn:1:18: error: expected ')' to close '(' at 1:16, saw ']'\n"
     "    1 | layer h = dense(x]\n"
     "      |                  ^\n"},
    {"call_close_next_stmt",
     "layer h1 = dense(x, 3\n"
     "layer h2 = dense(h1, 4)\n",
     "t.nn:2:1: error: expected ')' to close '(' at 1:17, saw 'layer'\n"
     "    2 | layer h2 = dense(h1, 4)\n"
     "      | ^~~~~\n"},
    {"call_close_eof",
     "layer h = dense(x, 3",
     "t.nn:1:21: error: unexpected end of file: expected ')' to close '(' at 1:16\n"
     "    1 | layer h = dense(x, 3\n"
     "      |                     ^\n"},
    {"call_arg_after_comma",
     "layer h = dense(x, )\n",
     "t.nn:1:20: error: expected an argument after ',', saw ')'\n"
     "    1 | layer h = dense(x, )\n"
     "      |                    ^\n"},
    {"call_arg_after_paren",
     "layer h = dense(,)\n",
     "t.nn:1:17: error: expected an argument or ')' after '(', saw ','\n"
     "    1 | layer h = dense(,)\n"
     "      |                 ^\n"},
    {"call_named_value",
     "layer a = f(b = )\n",
     "t.nn:1:17: error: expected a value after '=', saw ')'\n"
     "    1 | layer a = f(b = )\n"
     "      |                 ^\n"},
    {"loss_fn",
     "loss (a, b)\n",
     "t.nn:1:6: error: expected a loss function after 'loss', saw '('\n"
     "    1 | loss (a, b)\n"
     "      |      ^\n"},
    {"loss_eof",
     "loss\n",
     "t.nn:1:5: error: unexpected end of file: expected a loss function after 'loss'\n"
     "    1 | loss\n"
     "      |     ^\n"},
    {"block_open",
     "data x\n",
     "t.nn:1:6: error: expected '{' after 'data', saw 'x'\n"
     "    1 | data x\n"
     "      |      ^\n"},
    {"block_open_eof",
     "train",
     "t.nn:1:6: error: unexpected end of file: expected '{' after 'train'\n"
     "    1 | train\n"
     "      |      ^\n"},
    {"block_entry",
     "data { 5 }\n",
     "t.nn:1:8: error: expected 'name = value' or '}', saw '5'\n"
     "    1 | data { 5 }\n"
     "      |        ^\n"},
    {"block_entry_extra",
     "train { batch = 64 64 }\n",
     "t.nn:1:20: error: expected 'name = value' or '}', saw '64'\n"
     "    1 | train { batch = 64 64 }\n"
     "      |                    ^~\n"},
    {"block_eq",
     "train { epochs 5 }\n",
     "t.nn:1:16: error: expected '=' after 'epochs', saw '5'\n"
     "    1 | train { epochs 5 }\n"
     "      |                ^\n"},
    {"block_eq_close",
     "data { x }\n",
     "t.nn:1:10: error: expected '=' after 'x', saw '}'\n"
     "    1 | data { x }\n"
     "      |          ^\n"},
    {"block_value",
     "train { batch = }\n",
     "t.nn:1:17: error: expected a value after '=', saw '}'\n"
     "    1 | train { batch = }\n"
     "      |                 ^\n"},
    {"block_value_next_key",
     "train {\n"
     "  seed = 1 +\n"
     "  shuffle = true\n"
     "}\n",
     "t.nn:3:3: error: expected a value after '+', saw 'shuffle'\n"
     "    3 |   shuffle = true\n"
     "      |   ^~~~~~~\n"},
    {"block_value_next_key_eq",
     "train {\n"
     "  batch =\n"
     "  epochs = 5\n"
     "}\n",
     "t.nn:3:3: error: expected a value after '=', saw 'epochs'\n"
     "    3 |   epochs = 5\n"
     "      |   ^~~~~~\n"},
    {"block_close_next_stmt",
     "train { x = 1\n"
     "layer h = d(x)\n",
     "t.nn:2:1: error: expected '}' to close '{' at 1:7, saw 'layer'\n"
     "    2 | layer h = d(x)\n"
     "      | ^~~~~\n"},
    {"block_close_eof",
     "data {\n"
     "  x = 1",
     "t.nn:2:8: error: unexpected end of file: expected '}' to close '{' at 1:6\n"
     "    2 |   x = 1\n"
     "      |        ^\n"},
    {"block_keyword_key",
     "data {\n"
     "  train  idx(\"a\")\n"
     "}\n",
     "t.nn:2:10: error: expected '=' after 'train', saw 'idx'\n"
     "    2 |   train  idx(\"a\")\n"
     "      |          ^~~\n"},
    {"expr_paren_close",
     "data { x = (1 + 2 }\n",
     "t.nn:1:19: error: expected ')' to close '(' at 1:12, saw '}'\n"
     "    1 | data { x = (1 + 2 }\n"
     "      |                   ^\n"},
    {"expr_list_value",
     "data { x = [1,] }\n",
     "t.nn:1:15: error: expected a value after ',', saw ']'\n"
     "    1 | data { x = [1,] }\n"
     "      |               ^\n"},
    {"expr_list_first",
     "data { x = [ , ] }\n",
     "t.nn:1:14: error: expected a value or ']' after '[', saw ','\n"
     "    1 | data { x = [ , ] }\n"
     "      |              ^\n"},
    {"expr_list_close",
     "data { x = [1 2] }\n",
     "t.nn:1:15: error: expected ']' to close '[' at 1:12, saw '2'\n"
     "    1 | data { x = [1 2] }\n"
     "      |               ^\n"},
    {"expr_neg",
     "data { x = -}\n",
     "t.nn:1:13: error: expected a value after '-', saw '}'\n"
     "    1 | data { x = -}\n"
     "      |             ^\n"},
    {"expr_operand",
     "data { x = \"a\" + }\n",
     "t.nn:1:18: error: expected a value after '+', saw '}'\n"
     "    1 | data { x = \"a\" + }\n"
     "      |                  ^\n"},
    {"saw_long_string",
     "layer h = dense(x \"a very long string that goes on\")\n",
     "t.nn:1:19: error: expected ')' to close '(' at 1:16, saw \"a very long string that goe...\"\n"
     "    1 | layer h = dense(x \"a very long string that goes on\")\n"
     "      |                   ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"},
    {"saw_long_name",
     "model m m_a_really_very_long_identifier_name_here_x\n",
     "t.nn:1:9: error: expected a statement (model, input, label, layer, loss, data, train), saw 'm_a_really_very_long_identif...'\n"
     "    1 | model m m_a_really_very_long_identifier_name_here_x\n"
     "      |         ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"},
    {"lex_then_syntax",
     "data { x = @ }\n",
     "t.nn:1:12: error: unexpected character '@'\n"
     "    1 | data { x = @ }\n"
     "      |            ^\n"},
    {"unterminated_then_close",
     "data { x = \"abc }\n"
     "model m\n",
     "t.nn:1:12: error: unterminated string\n"
     "    1 | data { x = \"abc }\n"
     "      |            ^\n"},
    {"bad_char_between_stmts",
     "model m @ input x[3]\n",
     "t.nn:1:9: error: unexpected character '@'\n"
     "    1 | model m @ input x[3]\n"
     "      |         ^\n"},
    {"tabs",
     "\tlayer\th\t=\tdense(x  ,, 3)\n",
     "t.nn:1:22: error: expected an argument after ',', saw ','\n"
     "    1 | \tlayer\th\t=\tdense(x  ,, 3)\n"
     "      | \t     \t \t \t          ^\n"},
    {"string_glued",
     "data { train = idx(\"a.gz, \"b.gz\") }\n",
     "t.nn:1:28: error: expected ')' to close '(' at 1:19, saw 'b' right after a string; is a '\"' missing?\n"
     "    1 | data { train = idx(\"a.gz, \"b.gz\") }\n"
     "      |                            ^\n"},
    {"unterminated_quiet_next",
     "data {\n"
     "  train = idx(\"a.gz\", \"b.gz)\n"
     "  scale = 2\n"
     "}\n",
     "t.nn:2:23: error: unterminated string\n"
     "    2 |   train = idx(\"a.gz\", \"b.gz)\n"
     "      |                       ^\n"},
};

static void test_messages(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    Program *p = parse(cases[i].src);
    if (strcmp(cap_buf, cases[i].err))
      fail_msg("case %s:\n--- want\n%s--- got\n%s", cases[i].name, cases[i].err, cap_buf);
    assert_int_equal(diag_errors(), 1);
    done(p);
  }
}

/* Independent mistakes on different lines are each reported once, and
 * the statements between them still parse.  (An entry or statement left
 * unfinished by an error is dropped: `x = 1` of the unclosed train block.) */
static void test_recovery(void **state) {
  (void)state;
  Program *p = parse("model m\n"
                     "input x[28 28]\n"                  /* 1 */
                     "layer h1 = dense(x, 3\n"           /* 2 */
                     "layer h2 = dense(h1, 4)\n"
                     "loss cross_entropy(h2 y)\n"        /* 3 */
                     "train {\n"
                     "  batch = 64 64\n"                 /* 4 */
                     "  epochs 5\n"                      /* 5 */
                     "  seed = 1 +\n"                    /* 6 */
                     "  shuffle = true\n"
                     "  lr = 0.1\n"
                     "}\n"
                     "data { x = foo(1 }\n"              /* 7 */
                     "layer = 3\n"                       /* 8 */
                     "layer model = dense(x)\n"          /* 9 */
                     "label y : int[10]\n"
                     "train { x = 1\n"                   /* 10 */
                     "layer h = d(x)\n"
                     "data {\n"
                     " x = 1\n");                        /* 11 */
  assert_int_equal(diag_errors(), 11);
  const char *lines[] = {"t.nn:2:12:", "t.nn:4:1:",  "t.nn:5:23:", "t.nn:7:14:",
                         "t.nn:8:10:", "t.nn:10:3:", "t.nn:13:18:", "t.nn:14:7:",
                         "t.nn:15:7:", "t.nn:18:1:", "t.nn:20:7:"};
  const char *at = cap_buf;
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
    at = strstr(at, lines[i]);
    if (!at) fail_msg("no error at %s in\n%s", lines[i], cap_buf);
    at++;
  }
  char *got = ast_text(p);
  assert_string_equal(got, "(model m)\n"
                           "(layer h2 (dense h1 4))\n"
                           "(train (= lr 0.1))\n"
                           "(data)\n"
                           "(label y int [10])\n"
                           "(train)\n"
                           "(layer h (d x))\n");
  free(got);
  done(p);
}

/* Three mistakes, three messages, whatever their kind. */
static void test_three_errors(void **state) {
  (void)state;
  Program *p = parse("model m\n"
                     "input x[28, 28, 1\n"
                     "label y : int[10]\n"
                     "layr h = flatten(x)\n"
                     "layer o = dense(h, 10, activation = softmax)\n"
                     "loss cross_entropy(o y)\n"
                     "train { batch = 32 }\n");
  assert_string_equal(cap_buf,
                      "t.nn:3:1: error: expected ']' to close '[' at 2:8, saw 'label'\n"
                      "    3 | label y : int[10]\n"
                      "      | ^~~~~\n"
                      "t.nn:4:1: error: expected a statement (model, input, label, layer, loss, "
                      "data, train), saw 'layr'; did you mean 'layer'?\n"
                      "    4 | layr h = flatten(x)\n"
                      "      | ^~~~\n"
                      "t.nn:6:22: error: expected ')' to close '(' at 6:19, saw 'y'\n"
                      "    6 | loss cross_entropy(o y)\n"
                      "      |                      ^\n");
  char *got = ast_text(p);
  assert_string_equal(got, "(model m)\n"
                           "(label y int [10])\n"
                           "(layer o (dense h 10 (= activation softmax)))\n"
                           "(train (= batch 32))\n");
  free(got);
  done(p);
}

/* One mistake, one message: no cascade from the tokens after it. */
static void test_no_cascade(void **state) {
  (void)state;
  static const char *const srcs[] = {
      "layer model = dense(x)\nlayer h = dense(x)\n",
      "data { x = 1 }\ntrain {\n  seed = }42\n}\nmodel m\n",
      "data {\n  train  idx(\"a\", label = 3)\n  test = idx(\"b\")\n}\nmodel m\n",
      "layer h = dense(x, units = 3 activation = relu, init = he)\nmodel m\n",
      "train { optimizer = sgd(lr = 0.1 momentum = 0.9)\n  batch = 5 }\nmodel m\n",
      "data { train = idx(\"a\" \"b\")\n test = idx(\"c\"), scale = 1 / 255; }\nmodel m\n",
      "foo {\n  x = 1\n}\nmodel m\n",
      "input x[3] [\nlabel y : int[2]\n",
      "data { x = foo(1 }\nmodel m\n",
      "train {\n  batch\n  epochs = 3\n}\n",
      "model m @ input x[3]\n",
      "train {\n  shuffle = t@rue\n  seed = 42\n}\n",
      "train {\n  shuffle = ,true\n  seed = 42\n}\n",
      "data\n  train = idx(\"a\")\n  scale = 1\n}\ntrain {\n  batch = 1\n}\n",
      "train {\n  optimizer = sgd(lr) = 0.05, momentum = 0.9)\n  batch = 1\n}\n",
      "data { train = idx(\"a.gz, \"b.gz\") }\nmodel m\n",
      "input x : int[64 96]\nlabel y : int[2]\n",
      "input x : [3]\nlabel y : int[2]\n",
      "input x : int 3 4\nlayer h = lstm(x, 8)\n",
  };
  for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
    Program *p = parse(srcs[i]);
    if (diag_errors() != 1) fail_msg("case %zu: %d errors:\n%s", i, diag_errors(), cap_buf);
    done(p);
  }
}

/* Many errors: 20 are shown, then one line, and all are counted. */
static void test_too_many_errors(void **state) {
  (void)state;
  char src[1024] = "";
  for (int i = 0; i < 25; i++) strcat(src, "layer = 1\n");
  Program *p = parse(src);
  assert_int_equal(diag_errors(), 25);
  const char *last = strstr(cap_buf, "t.nn:20:7: error:");
  assert_non_null(last);
  assert_null(strstr(cap_buf, "t.nn:21:7:"));
  const char *tail = strstr(last, "t.nn: error: too many errors, stopping\n");
  assert_non_null(tail);
  assert_string_equal(tail, "t.nn: error: too many errors, stopping\n");
  done(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_example),
      cmocka_unit_test(test_locations),
      cmocka_unit_test(test_expressions),
      cmocka_unit_test(test_keywords_as_names),
      cmocka_unit_test(test_typed_input),
      cmocka_unit_test(test_empty_and_minimal),
      cmocka_unit_test(test_messages),
      cmocka_unit_test(test_recovery),
      cmocka_unit_test(test_three_errors),
      cmocka_unit_test(test_no_cascade),
      cmocka_unit_test(test_too_many_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
