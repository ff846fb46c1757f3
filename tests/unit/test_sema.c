/* test_sema.c — sema_check: defaults, name resolution (shorthand inputs,
 * layers in any order), the model name, and the keys of the layer, loss,
 * data and train statements, through the API on in-memory sources.  The
 * exact wording of diagnostics is the golden tests' business; here errors
 * are checked by count and by a key phrase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "nncc_test.h"

#define MLP                                                                        \
  "input x[4]\nlabel c : int[3]\n"                                                 \
  "layer h = dense(x, 8, activation = relu)\nlayer out = dense(h, 3, activation = softmax)\n" \
  "loss cross_entropy(out, c)\n"

/* No data or train block: every default of docs/language.md. */
static void test_defaults(void **state) {
  Compiled c = compile_ok(MLP, UPTO_SEMA);
  Model *m = c.m;
  assert_int_equal(m->opt, OPT_SGD);
  assert_true(m->lr == 0.01);
  assert_true(m->momentum == 0);
  assert_true(m->weight_decay == 0);
  assert_int_equal(m->batch, 32);
  assert_int_equal(m->epochs, 10);
  assert_true(m->shuffle);
  assert_int_equal(m->seed, 0);
  assert_true(m->scale == 1);
  assert_int_equal(m->train_src.kind, SRC_NONE);
  assert_int_equal(m->test_src.kind, SRC_NONE);
  /* layer defaults */
  Layer *h = find_layer(m, "h"), *out = find_layer(m, "out");
  assert_true(h->bias && out->bias);
  assert_false(h->init_given);
  assert_int_equal(h->bias_init.kind, INIT_ZEROS);
  assert_true(h->alpha == 0.01);
  assert_int_equal(h->act, ACT_RELU);
  assert_int_equal(out->act, ACT_SOFTMAX);
  assert_int_equal(h->units, 8);
  /* loss and label */
  assert_int_equal(m->loss, LOSS_CE);
  assert_ptr_equal(m->loss_out, out);
  assert_true(m->has_label && m->label_is_class);
  assert_int_equal(m->nclasses, 3);
  assert_string_equal(m->label_name, "c");
  assert_false(m->target_is_input);
  compiled_free(&c);
}

/* activation defaults to identity. */
static void test_default_activation(void **state) {
  Compiled c = compile_ok("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1)\nloss mse(o, y)\n",
                          UPTO_SEMA);
  assert_int_equal(find_layer(c.m, "o")->act, ACT_IDENTITY);
  assert_int_equal(c.m->loss, LOSS_MSE);
  assert_false(c.m->label_is_class);
  assert_int_equal(c.m->label_shape.ndim, 1);
  assert_int_equal(c.m->label_shape.dims[0], 1);
  compiled_free(&c);
}

/* model NAME wins; without it, the file's base name (directories and the
 * extension dropped). */
static void test_model_name(void **state) {
  Compiled c = compile_ok("model my_net\n" MLP, UPTO_SEMA);
  assert_string_equal(c.m->name, "my_net");
  compiled_free(&c);

  c = compile_upto("models/fashion_mlp.nn", MLP, UPTO_SEMA);
  assert_int_equal(c.errors, 0);
  assert_string_equal(c.m->name, "fashion_mlp");
  assert_string_equal(c.m->file, "models/fashion_mlp.nn");
  compiled_free(&c);

  c = compile_upto("iris.nn", MLP, UPTO_SEMA);
  assert_int_equal(c.errors, 0);
  assert_string_equal(c.m->name, "iris");
  compiled_free(&c);
}

/* A layer without an input name takes the previous layer statement's
 * output, the first such layer the input. */
static void test_shorthand_inputs(void **state) {
  Compiled c = compile_ok("input img[2, 3]\nlabel y : real[2]\n"
                          "layer flat = flatten()\n"
                          "layer a = dense(5, activation = tanh)\n"
                          "layer b = dense(flat, 4)\n"
                          "layer d = dense(2)\n" /* after b, not after a */
                          "loss mse(d, y)\n",
                          UPTO_SEMA);
  Model *m = c.m;
  assert_ptr_equal(find_layer(m, "flat")->inputs[0], m->input);
  assert_ptr_equal(find_layer(m, "a")->inputs[0], find_layer(m, "flat"));
  assert_ptr_equal(find_layer(m, "b")->inputs[0], find_layer(m, "flat"));
  assert_ptr_equal(find_layer(m, "d")->inputs[0], find_layer(m, "b"));
  assert_int_equal(find_layer(m, "a")->units, 5);
  assert_int_equal(find_layer(m, "a")->act, ACT_TANH);
  compiled_free(&c);

  /* the first layer of all: the input */
  c = compile_ok("input x[3]\nlabel y : real[1]\nlayer o = dense(1)\nloss mse(o, y)\n", UPTO_SEMA);
  assert_ptr_equal(find_layer(c.m, "o")->inputs[0], c.m->input);
  compiled_free(&c);
}

/* layers[0] is the input, every layer after its inputs, `order` is the
 * index, whatever order the statements are in. */
static void test_topological_order(void **state) {
  Compiled c = compile_ok("loss cross_entropy(out, c)\n"
                          "layer out = dense(h3, 3, activation = softmax)\n"
                          "layer h3 = dense(h2, 4)\n"
                          "layer h1 = dense(flat, 6)\n"
                          "label c : int[3]\n"
                          "layer h2 = dense(h1, 5)\n"
                          "layer flat = flatten(x)\n"
                          "input x[2, 2]\n",
                          UPTO_SEMA);
  Model *m = c.m;
  assert_int_equal(m->nlayers, 6);
  assert_ptr_equal(m->layers[0], m->input);
  assert_int_equal(m->layers[0]->kind, LAYER_INPUT);
  static const char *const want[] = {"x", "flat", "h1", "h2", "h3", "out"};
  for (int i = 0; i < m->nlayers; i++) {
    assert_string_equal(m->layers[i]->name, want[i]);
    assert_int_equal(m->layers[i]->order, i);
    for (int k = 0; k < m->layers[i]->ninputs; k++)
      assert_true(m->layers[i]->inputs[k]->order < i);
  }
  compiled_free(&c);
}

/* A branch-free chain with a side layer that nothing uses: still sorted,
 * still included. */
static void test_order_unused_layer(void **state) {
  Compiled c = compile_ok("input x[2]\nlabel y : real[1]\n"
                          "layer side = dense(x, 3)\n"
                          "layer o = dense(x, 1)\n"
                          "loss mse(o, y)\n",
                          UPTO_SEMA);
  assert_int_equal(c.m->nlayers, 3);
  for (int i = 0; i < c.m->nlayers; i++)
    assert_int_equal(c.m->layers[i]->order, i);
  compiled_free(&c);
}

static void test_train_keys(void **state) {
  Compiled c = compile_ok(MLP "train {\n"
                              "  optimizer = sgd(lr = 0.05, momentum = 0.9)\n"
                              "  batch = 64, epochs = 3; shuffle = false\n"
                              "  seed = 42\n"
                              "  weight_decay = 5e-4\n"
                              "}\n",
                          UPTO_SEMA);
  Model *m = c.m;
  assert_true(m->lr == 0.05);
  assert_true(m->momentum == 0.9);
  assert_true(m->weight_decay == 5e-4);
  assert_int_equal(m->batch, 64);
  assert_int_equal(m->epochs, 3);
  assert_false(m->shuffle);
  assert_int_equal(m->seed, 42);
  compiled_free(&c);

  /* plain `sgd` keeps the default rate; constant expressions are folded */
  c = compile_ok(MLP "train { optimizer = sgd, batch = 2 * 8 }\n", UPTO_SEMA);
  assert_true(c.m->lr == 0.01);
  assert_true(c.m->momentum == 0);
  assert_int_equal(c.m->batch, 16);
  compiled_free(&c);
}

static void test_data_keys(void **state) {
  Compiled c = compile_ok(MLP "data {\n"
                              "  train = csv(\"data/train.csv\", label = 4, header = false)\n"
                              "  test = csv(\"data/test.csv\")\n"
                              "  scale = 1 / 255\n"
                              "}\n",
                          UPTO_SEMA);
  Model *m = c.m;
  assert_true(m->scale == 1.0 / 255);
  assert_int_equal(m->train_src.kind, SRC_CSV);
  assert_string_equal(m->train_src.path, "data/train.csv");
  assert_int_equal(m->train_src.label_col, 4);
  assert_false(m->train_src.header);
  assert_int_equal(m->test_src.kind, SRC_CSV);
  assert_string_equal(m->test_src.path, "data/test.csv");
  assert_int_equal(m->test_src.label_col, -1); /* default: the last column */
  assert_true(m->test_src.header);             /* default: a header line */
  compiled_free(&c);

  c = compile_ok(MLP "data { train = csv(\"a.csv\", label = -2, header = true)\n"
                     "       test = idx(\"t10k-images.gz\", \"t10k-labels.gz\") }\n",
                 UPTO_SEMA);
  m = c.m;
  assert_int_equal(m->train_src.label_col, -2);
  assert_true(m->train_src.header);
  assert_true(m->scale == 1);
  assert_int_equal(m->test_src.kind, SRC_IDX);
  assert_string_equal(m->test_src.path, "t10k-images.gz");
  assert_string_equal(m->test_src.path2, "t10k-labels.gz");
  compiled_free(&c);
}

static void test_dense_keys(void **state) {
  Compiled c = compile_ok("input x[4]\nlabel y : real[2]\n"
                          "layer a = dense(x, 5, activation = leaky_relu(0.3), bias = false)\n"
                          "layer b = dense(a, 4, activation = leaky_relu(alpha = 0.2), "
                          "init = uniform(-0.5, 0.5), bias_init = normal(0.1))\n"
                          "layer d = dense(b, 3, activation = leaky_relu, init = normal(1, 2), "
                          "in_features = 4)\n"
                          "layer o = dense(d, 2, init = zeros, bias_init = uniform(0, 1))\n"
                          "loss mse(o, y)\n",
                          UPTO_SEMA);
  Layer *a = find_layer(c.m, "a"), *b = find_layer(c.m, "b"), *d = find_layer(c.m, "d"),
        *o = find_layer(c.m, "o");
  assert_int_equal(a->act, ACT_LEAKY_RELU);
  assert_true(a->alpha == 0.3);
  assert_false(a->bias);
  assert_true(b->alpha == 0.2);
  assert_true(b->bias);
  assert_true(b->init_given);
  assert_int_equal(b->init.kind, INIT_UNIFORM);
  assert_true(b->init.a == -0.5 && b->init.b == 0.5);
  assert_int_equal(b->bias_init.kind, INIT_NORMAL);
  assert_true(b->bias_init.a == 0 && b->bias_init.b == 0.1); /* normal(std): mean 0 */
  assert_true(d->alpha == 0.01);
  assert_int_equal(d->init.kind, INIT_NORMAL);
  assert_true(d->init.a == 1 && d->init.b == 2);
  assert_int_equal(d->in_features, 4);
  assert_int_equal(o->init.kind, INIT_ZEROS);
  assert_int_equal(o->bias_init.kind, INIT_UNIFORM);
  compiled_free(&c);
}

/* Targets: a real label of any rank, or the input (autoencoder, no label). */
static void test_targets(void **state) {
  Compiled c = compile_ok("input x[4]\nlabel y : real[2, 3]\nlayer o = dense(x, 6)\n"
                          "loss binary_cross_entropy(o, y)\n",
                          UPTO_SEMA);
  assert_int_equal(c.m->loss, LOSS_BCE);
  assert_int_equal(c.m->label_shape.ndim, 2);
  assert_int_equal(c.m->label_shape.dims[0], 2);
  assert_int_equal(c.m->label_shape.dims[1], 3);
  compiled_free(&c);

  c = compile_ok("input img[4, 4, 1]\nlayer f = flatten(img)\nlayer e = dense(3)\n"
                 "layer d = dense(16)\nloss mse(d, img)\n",
                 UPTO_SEMA);
  assert_true(c.m->target_is_input);
  assert_false(c.m->has_label);
  assert_int_equal(c.m->input->shape.ndim, 3);
  compiled_free(&c);
}

/* Errors: sema_check returns NULL and says why (key phrases only). */
static void expect_error(const char *src, const char *phrase) {
  Compiled c = compile_upto("bad.nn", src, UPTO_SEMA);
  assert_true(c.errors > 0);
  assert_null(c.m);
  if (!strstr(c.diag, phrase))
    fail_msg("expected '%s' in:\n%s", phrase, c.diag);
  assert_non_null(strstr(c.diag, "bad.nn:")); /* file:line:col: error: */
  compiled_free(&c);
}

static void test_errors(void **state) {
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1, activation = rleu)\n"
               "loss mse(o, y)\n",
               "did you mean 'relu'");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(h, 1)\nloss mse(o, y)\n",
               "unknown layer 'h'");
  expect_error("input x[2]\nlabel y : real[1]\nlayer a = dense(b, 2)\nlayer b = dense(a, 2)\n"
               "layer o = dense(b, 1)\nloss mse(o, y)\n",
               "depends on itself");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1)\nloss mse(o, y)\n"
               "train { momentum = 0.9 }\n",
               "unknown key 'momentum'");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1)\nloss mse(o, y)\n"
               "train { optimizer = sgd(momentum = 1.5) }\n",
               "momentum");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 0)\nloss mse(o, y)\n",
               "positive integer");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1)\n", "no loss");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1)\nlayer o = dense(x, 1)\n"
               "loss mse(o, y)\n",
               "duplicate name 'o'");
  expect_error("input x[2]\nlabel y : real[1]\nlayer o = dense(x, 1)\nloss mse(o, y)\n"
               "data { scale = 0 }\n",
               "'scale'");
}

/* ------------------------------------------------------------ sequences */

#define CHAR_LSTM                                                                  \
  "input chars : int[64, 96]\nlabel next : int[64, 96]\n"                           \
  "layer h = lstm(chars, 128)\nlayer out = dense(h, 96, activation = softmax)\n"     \
  "loss cross_entropy(out, next)\n"
#define SINE                                                                       \
  "input window[24, 1]\nlabel next : real[1]\n"                                     \
  "layer h = rnn(window, 32, return = last)\nlayer out = dense(h, 1)\n"             \
  "loss mse(out, next)\n"

/* input : int[T, V] and label : int[T, K]; text(...) makes the recurrent
 * layers stateful and turns shuffling off by default. */
static void test_token_input(void **state) {
  Compiled c = compile_ok(CHAR_LSTM "data { train = text(\"a.txt\") test = text(\"b.txt\") }\n"
                                    "train { clip = 5 }\n",
                          UPTO_SEMA);
  Model *m = c.m;
  assert_true(m->input_tokens);
  assert_int_equal(m->vocab, 96);
  assert_int_equal(m->input->shape.ndim, 2);
  assert_int_equal(m->input->shape.dims[0], 64);
  assert_int_equal(m->input->shape.dims[1], 96);
  assert_true(m->label_is_class);
  assert_int_equal(m->label_steps, 64);
  assert_int_equal(m->nclasses, 96);
  assert_int_equal(m->train_src.kind, SRC_TEXT);
  assert_string_equal(m->train_src.path, "a.txt");
  assert_int_equal(m->test_src.kind, SRC_TEXT);
  assert_string_equal(m->test_src.path, "b.txt");
  assert_true(m->clip == 5);
  assert_false(m->shuffle);
  Layer *h = find_layer(m, "h");
  assert_int_equal(h->kind, LAYER_LSTM);
  assert_int_equal(h->units, 128);
  assert_true(h->ret_seq);
  assert_true(h->stateful);
  assert_true(h->bias);
  assert_false(h->init_given);
  compiled_free(&c);

  /* the same model without data: stateless, shuffled, no clipping */
  c = compile_ok(CHAR_LSTM, UPTO_SEMA);
  assert_false(find_layer(c.m, "h")->stateful);
  assert_true(c.m->shuffle);
  assert_true(c.m->clip == 0);
  compiled_free(&c);

  /* text(...) shuffled, with the layers stateless as said */
  c = compile_ok("input chars : int[64, 96]\nlabel next : int[64, 96]\n"
                 "layer h = gru(chars, 128, stateful = false)\nlayer out = dense(h, 96)\n"
                 "loss cross_entropy(out, next)\n"
                 "data { train = text(\"a.txt\") }\ntrain { shuffle = true }\n",
                 UPTO_SEMA);
  assert_true(c.m->shuffle);
  assert_false(find_layer(c.m, "h")->stateful);
  compiled_free(&c);

  /* input x : real[...] is input x[...]; int[K] labels have no steps */
  c = compile_ok("input x : real[3]\nlabel y : int[2]\nlayer o = dense(x, 2)\n"
                 "loss cross_entropy(o, y)\n",
                 UPTO_SEMA);
  assert_false(c.m->input_tokens);
  assert_int_equal(c.m->vocab, 0);
  assert_int_equal(c.m->input->shape.ndim, 1);
  assert_int_equal(c.m->label_steps, 0);
  assert_int_equal(c.m->nclasses, 2);
  compiled_free(&c);
}

static void test_recurrent_keys(void **state) {
  Compiled c = compile_ok("input x[10, 3]\nlabel y : real[2]\n"
                          "layer a = rnn(x, 8, activation = relu, bias = false)\n"
                          "layer b = gru(a, 6, init = uniform(-0.1, 0.1), bias_init = zeros)\n"
                          "layer d = lstm(b, 4, return = last, in_features = 6, init = he)\n"
                          "layer e = rnn(16, return = sequence, stateful = true)\n"
                          "layer o = dense(d, 2)\nloss mse(o, y)\ntrain { shuffle = false }\n",
                          UPTO_SEMA);
  Layer *a = find_layer(c.m, "a"), *b = find_layer(c.m, "b"), *d = find_layer(c.m, "d"),
        *e = find_layer(c.m, "e");
  assert_int_equal(a->kind, LAYER_RNN);
  assert_int_equal(a->act, ACT_RELU);
  assert_false(a->bias);
  assert_true(a->ret_seq);
  assert_false(a->stateful);
  assert_int_equal(b->kind, LAYER_GRU);
  assert_int_equal(b->act, ACT_TANH);
  assert_true(b->init_given);
  assert_int_equal(b->init.kind, INIT_UNIFORM);
  assert_true(b->init.a == -0.1 && b->init.b == 0.1);
  assert_int_equal(b->bias_init.kind, INIT_ZEROS);
  assert_int_equal(d->kind, LAYER_LSTM);
  assert_false(d->ret_seq);
  assert_int_equal(d->in_features, 6);
  assert_string_equal(d->init.how, "he");
  assert_int_equal(e->units, 16);
  assert_ptr_equal(e->inputs[0], d); /* the shorthand: the layer statement above */
  assert_true(e->stateful);
  assert_true(e->ret_seq);
  assert_int_equal(a->act, ACT_RELU);
  compiled_free(&c);

  /* series(...): one path, no header by default */
  c = compile_ok(SINE "data { train = series(\"s.csv\") test = series(\"t.csv\", header = "
                      "true) }\n",
                 UPTO_SEMA);
  assert_int_equal(c.m->train_src.kind, SRC_SERIES);
  assert_string_equal(c.m->train_src.path, "s.csv");
  assert_false(c.m->train_src.header);
  assert_int_equal(c.m->test_src.kind, SRC_SERIES);
  assert_true(c.m->test_src.header);
  assert_true(c.m->shuffle); /* windows of a series are independent samples */
  assert_false(find_layer(c.m, "h")->stateful);
  assert_int_equal(find_layer(c.m, "h")->act, ACT_TANH);
  compiled_free(&c);

  /* a series of 3 values a row, the first 2 of the next row as the target */
  c = compile_ok("input w[24, 3]\nlabel next : real[2]\nlayer h = lstm(w, 8, return = last)\n"
                 "layer out = dense(h, 2)\nloss mse(out, next)\n"
                 "data { train = series(\"s.csv\") }\n",
                 UPTO_SEMA);
  compiled_free(&c);
}

/* The message of the first error, exactly (after "bad.nn:L:C: error: "). */
static void expect_message(const char *src, const char *msg) {
  Compiled c = compile_upto("bad.nn", src, UPTO_SEMA);
  assert_true(c.errors > 0);
  assert_null(c.m);
  const char *e = strstr(c.diag, "error: ");
  assert_non_null(e);
  e += strlen("error: ");
  size_t n = strcspn(e, "\n");
  if (strlen(msg) != n || strncmp(e, msg, n))
    fail_msg("expected\n  %s\ngot\n  %.*s", msg, (int)n, e);
  compiled_free(&c);
}

static void test_sequence_errors(void **state) {
  expect_message("input x : float[3]\nlabel y : real[1]\nlayer o = dense(x, 1)\nloss mse(o, y)\n",
                 "unknown input type 'float' (expected 'int' for token ids or 'real' for values)");
  expect_message("input x : int[64]\nlabel y : real[1]\nlayer o = dense(x, 1)\nloss mse(o, y)\n",
                 "a token input is int[T, V]: T token ids per sample from a vocabulary of V "
                 "tokens");
  expect_message("input x : int[64, 1]\nlabel y : real[1]\nlayer o = dense(x, 1)\n"
                 "loss mse(o, y)\n",
                 "a token input needs a vocabulary of at least 2 tokens, got 1");
  expect_message("input x[4]\nlabel y : int[2, 3, 4]\nlayer o = dense(x, 3)\n"
                 "loss cross_entropy(o, y)\n",
                 "a class label is int[K] (K classes) or int[T, K] (a class for each of T "
                 "steps), not of 3 dimensions");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = rnn(x, 8, activation = sigmoid)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "the activation of an rnn is tanh or relu, got 'sigmoid'");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = rnn(x, 8, activation = swish)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "unknown activation 'swish' (known: tanh or relu)");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = lstm(x, 8, activation = tanh)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "lstm has fixed gates (sigmoid and tanh); 'activation' is for rnn");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = gru(x, 8, activation = relu)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "gru has fixed gates (sigmoid and tanh); 'activation' is for rnn");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = gru(x, 8, return = lats)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "unknown 'return' value 'lats', did you mean 'last'?");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = gru(x, 8, return = 1)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "'return' must be sequence (every step's output) or last (the last step's), "
                 "got a number");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = gru(x, 8, stateful = 1)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "'stateful' must be true or false, got a number");
  expect_message("input x[24, 1]\nlabel y : real[1]\nlayer h = lstm(x)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 "lstm needs the number of units, e.g. lstm(x, 128)");
  expect_message(SINE "train { clip = 0 }\n", "'clip' must be a positive number, got 0");
  expect_message(SINE "data { train = text(\"a\", \"b\") }\n",
                 "text takes one path: text(\"file.txt\")");
  expect_message(SINE "data { train = series(\"a\", label = 1) }\n",
                 "unknown key 'label' for series (known keys: header)");
  expect_message(SINE "data { train = \"a.csv\" }\n",
                 "'train' must be a data source: csv(\"file.csv\", label = 4), "
                 "idx(\"images.gz\", \"labels.gz\"), text(\"file.txt\"), "
                 "series(\"file.csv\") or npy(\"x.npy\", \"y.npy\")");
  expect_message(SINE "data { train = text(\"a.txt\") }\n",
                 "text(...) reads a text as a stream of tokens: the input must be token ids, "
                 "input window : int[T, V]; 'window' is real[24, 1]");
  expect_message("input chars : int[64, 96]\nlabel next : int[96]\n"
                 "layer h = lstm(chars, 128, return = last)\nlayer out = dense(h, 96)\n"
                 "loss cross_entropy(out, next)\ndata { train = text(\"a.txt\") }\n",
                 "text(...) trains next-token prediction: the label must be the token after "
                 "each step, label next : int[64, 96] (the input's T and V); 'next' is int[96]");
  expect_message("input chars : int[64, 300]\nlabel next : int[64, 300]\n"
                 "layer h = lstm(chars, 128)\nlayer out = dense(h, 300)\n"
                 "loss cross_entropy(out, next)\ndata { train = text(\"a.txt\") }\n",
                 "text(...) reads bytes, so a vocabulary has at most 256 tokens; 'chars' has 300");
  expect_message(CHAR_LSTM "data { test = series(\"a.csv\") }\n",
                 "series(...) reads windows of T consecutive rows: the input must be a real "
                 "sequence, input chars[T, F] (T rows of F values) read by rnn, lstm or gru; "
                 "'chars' is int[64, 96]");
  expect_message("input w[24, 2]\nlabel next : real[3]\nlayer h = rnn(w, 32, return = last)\n"
                 "layer out = dense(h, 3)\nloss mse(out, next)\n"
                 "data { train = series(\"s.csv\") }\n",
                 "series(...) predicts the row after each window: the label is the first 1 to 2 "
                 "of its 2 values, label next : real[2] for all of them; 'next' is real[3]");
  expect_message("input w[24, 1]\nlabel next : real[1]\nlayer f = flatten(w)\n"
                 "layer out = dense(f, 1)\nloss mse(out, next)\n"
                 "data { train = series(\"s.csv\") }\n",
                 "series(...) reads windows of T consecutive rows: the input must be a real "
                 "sequence, input w[T, F] (T rows of F values) read by rnn, lstm or gru; 'w' is "
                 "real[24, 1] and no recurrent layer reads it");
  expect_message(CHAR_LSTM "data { train = text(\"a.txt\") }\ntrain { shuffle = true }\n",
                 "shuffle = true breaks the hidden state carried between the windows of a "
                 "stream: set stateful = false on 'h' or shuffle = false");
  expect_message("input w[24, 1]\nlabel next : real[1]\n"
                 "layer h = rnn(w, 32, return = last, stateful = true)\n"
                 "layer out = dense(h, 1)\nloss mse(out, next)\n",
                 "'h' is stateful, which needs the batches in stream order, but shuffle is true "
                 "by default (the data is not text(...)): add shuffle = false to the train "
                 "block, or set stateful = false");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),          cmocka_unit_test(test_default_activation),
      cmocka_unit_test(test_model_name),        cmocka_unit_test(test_shorthand_inputs),
      cmocka_unit_test(test_topological_order), cmocka_unit_test(test_order_unused_layer),
      cmocka_unit_test(test_train_keys),        cmocka_unit_test(test_data_keys),
      cmocka_unit_test(test_dense_keys),        cmocka_unit_test(test_targets),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_token_input),       cmocka_unit_test(test_recurrent_keys),
      cmocka_unit_test(test_sequence_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
