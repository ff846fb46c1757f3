/* test_shape.c — shape_infer: output shapes, parameter counts, xavier/he
 * resolved to concrete distributions, shape mismatches reported; and the
 * helpers shape_numel and shape_str. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "nncc_test.h"

#define FASHION                                                                   \
  "input image[28, 28, 1]\nlabel y : int[10]\n"                                   \
  "layer flat = flatten(image)\n"                                                 \
  "layer h1 = dense(flat, 256, activation = relu)\n"                              \
  "layer h2 = dense(h1, 128, activation = relu)\n"                                \
  "layer out = dense(h2, 10, activation = softmax)\n"                             \
  "loss cross_entropy(out, y)\n"

static void expect_shape(const Layer *l, int ndim, int d0, int d1, int d2) {
  assert_int_equal(l->shape.ndim, ndim);
  int d[3] = {d0, d1, d2};
  for (int i = 0; i < ndim && i < 3; i++)
    assert_int_equal(l->shape.dims[i], d[i]);
}

static void test_mlp_shapes_and_counts(void **state) {
  Compiled c = compile_ok(FASHION, UPTO_SHAPE);
  Model *m = c.m;
  expect_shape(find_layer(m, "image"), 3, 28, 28, 1);
  expect_shape(find_layer(m, "flat"), 1, 784, 0, 0);
  expect_shape(find_layer(m, "h1"), 1, 256, 0, 0);
  expect_shape(find_layer(m, "h2"), 1, 128, 0, 0);
  expect_shape(find_layer(m, "out"), 1, 10, 0, 0);
  assert_int_equal(find_layer(m, "image")->nparams, 0);
  assert_int_equal(find_layer(m, "flat")->nparams, 0);
  assert_int_equal(find_layer(m, "h1")->nparams, 784 * 256 + 256);  /* 200960 */
  assert_int_equal(find_layer(m, "h2")->nparams, 256 * 128 + 128);  /* 32896 */
  assert_int_equal(find_layer(m, "out")->nparams, 128 * 10 + 10);   /* 1290 */
  long total = 0;
  for (int i = 0; i < m->nlayers; i++)
    total += m->layers[i]->nparams;
  assert_int_equal(total, 235146);
  /* the summary's total line */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  shape_summary(f, m, NULL);
  fclose(f);
  assert_non_null(strstr(buf, "235146"));
  free(buf);
  compiled_free(&c);
}

static void test_no_bias_count(void **state) {
  Compiled c = compile_ok("input x[7]\nlabel y : real[3]\n"
                          "layer o = dense(x, 3, bias = false)\nloss mse(o, y)\n",
                          UPTO_SHAPE);
  assert_int_equal(find_layer(c.m, "o")->nparams, 21);
  compiled_free(&c);
}

/* Defaults: he (normal, std sqrt(2/fan_in)) for relu and leaky_relu,
 * xavier (uniform, bound sqrt(6/(fan_in+fan_out))) otherwise. */
static void test_default_inits(void **state) {
  Compiled c = compile_ok(FASHION, UPTO_SHAPE);
  Layer *h1 = find_layer(c.m, "h1"), *h2 = find_layer(c.m, "h2"), *out = find_layer(c.m, "out");
  assert_int_equal(h1->init.kind, INIT_NORMAL);
  assert_string_equal(h1->init.how, "he");
  assert_true(h1->init.a == 0);
  assert_true(fabs(h1->init.b - sqrt(2.0 / 784)) < 1e-15);
  assert_true(fabs(h2->init.b - sqrt(2.0 / 256)) < 1e-15);
  assert_int_equal(out->init.kind, INIT_UNIFORM);
  assert_string_equal(out->init.how, "xavier");
  double bound = sqrt(6.0 / (128 + 10));
  assert_true(fabs(out->init.a + bound) < 1e-15);
  assert_true(fabs(out->init.b - bound) < 1e-15);
  /* biases: zeros */
  assert_int_equal(h1->bias_init.kind, INIT_ZEROS);
  compiled_free(&c);

  c = compile_ok("input x[6]\nlabel y : real[2]\n"
                 "layer a = dense(x, 4, activation = leaky_relu(0.2))\n"
                 "layer b = dense(a, 3, activation = tanh)\n"
                 "layer o = dense(b, 2, activation = sigmoid)\nloss mse(o, y)\n",
                 UPTO_SHAPE);
  Layer *a = find_layer(c.m, "a"), *b = find_layer(c.m, "b");
  assert_int_equal(a->init.kind, INIT_NORMAL);
  assert_true(fabs(a->init.b - sqrt(2.0 / 6)) < 1e-15);
  assert_int_equal(b->init.kind, INIT_UNIFORM);
  assert_true(fabs(b->init.b - sqrt(6.0 / (4 + 3))) < 1e-15);
  assert_true(fabs(b->init.a + sqrt(6.0 / (4 + 3))) < 1e-15);
  compiled_free(&c);
}

/* Given inits win over the activation's default; as-written ones stay. */
static void test_given_inits(void **state) {
  Compiled c = compile_ok("input x[6]\nlabel y : real[2]\n"
                          "layer a = dense(x, 4, activation = relu, init = xavier)\n"
                          "layer b = dense(a, 3, activation = tanh, init = he)\n"
                          "layer d = dense(b, 5, init = uniform(-0.25, 0.5))\n"
                          "layer e = dense(d, 4, init = normal(0.3))\n"
                          "layer o = dense(e, 2, init = zeros)\nloss mse(o, y)\n",
                          UPTO_SHAPE);
  Layer *a = find_layer(c.m, "a"), *b = find_layer(c.m, "b"), *d = find_layer(c.m, "d"),
        *e = find_layer(c.m, "e"), *o = find_layer(c.m, "o");
  assert_int_equal(a->init.kind, INIT_UNIFORM);
  assert_true(fabs(a->init.b - sqrt(6.0 / (6 + 4))) < 1e-15);
  assert_int_equal(b->init.kind, INIT_NORMAL);
  assert_true(fabs(b->init.b - sqrt(2.0 / 4)) < 1e-15);
  assert_int_equal(d->init.kind, INIT_UNIFORM);
  assert_true(d->init.a == -0.25 && d->init.b == 0.5);
  assert_int_equal(e->init.kind, INIT_NORMAL);
  assert_true(e->init.a == 0 && e->init.b == 0.3);
  assert_int_equal(o->init.kind, INIT_ZEROS);
  compiled_free(&c);
}

static void test_shape_numel_str(void **state) {
  char buf[64];
  Shape s = {.ndim = 3, .dims = {28, 28, 1}};
  assert_int_equal(shape_numel(&s), 784);
  assert_string_equal(shape_str(&s, buf, sizeof buf), "28x28x1");
  Shape v = {.ndim = 1, .dims = {256}};
  assert_int_equal(shape_numel(&v), 256);
  assert_string_equal(shape_str(&v, buf, sizeof buf), "256");
  Shape e = {0}; /* a scalar: one element, written as nothing */
  assert_int_equal(shape_numel(&e), 1);
  assert_string_equal(shape_str(&e, buf, sizeof buf), "");
  Shape big = {.ndim = 4, .dims = {1000, 1000, 1000, 3}};
  assert_int_equal(shape_numel(&big), 3000000000L); /* no int overflow */
  /* a short buffer: truncated, still a string */
  char small[5];
  memset(small, 'z', sizeof small);
  shape_str(&s, small, sizeof small);
  assert_int_equal(strlen(small), 4);
  assert_memory_equal(small, "28x2", 4);
}

static void expect_shape_error(const char *src, const char *phrase) {
  Compiled c = compile_upto("bad.nn", src, UPTO_SHAPE);
  assert_non_null(c.m);
  assert_true(c.errors > 0);
  if (!strstr(c.diag, phrase))
    fail_msg("expected '%s' in:\n%s", phrase, c.diag);
  compiled_free(&c);
}

static void test_shape_errors(void **state) {
  /* dense on an image: flatten first */
  expect_shape_error("input img[4, 4]\nlabel y : real[2]\nlayer o = dense(img, 2)\n"
                     "loss mse(o, y)\n",
                     "flatten");
  /* in_features that does not match */
  expect_shape_error("input x[5]\nlabel y : real[2]\nlayer o = dense(x, 2, in_features = 4)\n"
                     "loss mse(o, y)\n",
                     "5");
  /* mse of 3 outputs against 2 targets: the numbers are in the message */
  expect_shape_error("input x[5]\nlabel y : real[2]\nlayer o = dense(x, 3)\nloss mse(o, y)\n",
                     "3");
  /* cross_entropy with a real label */
  expect_shape_error("input x[5]\nlabel y : real[2]\nlayer o = dense(x, 2)\n"
                     "loss cross_entropy(o, y)\n",
                     "class");
  /* cross_entropy with too few outputs for the classes */
  expect_shape_error("input x[5]\nlabel y : int[4]\nlayer o = dense(x, 3, activation = softmax)\n"
                     "loss cross_entropy(o, y)\n",
                     "4 classes");
  /* cross_entropy after a relu: not probabilities, not logits */
  expect_shape_error("input x[5]\nlabel y : int[2]\nlayer o = dense(x, 2, activation = relu)\n"
                     "loss cross_entropy(o, y)\n",
                     "relu");
  /* mse against class indices */
  expect_shape_error("input x[5]\nlabel y : int[2]\nlayer o = dense(x, 2)\nloss mse(o, y)\n",
                     "cross_entropy");
  /* autoencoder whose output is not the input's size */
  expect_shape_error("input x[4, 2]\nlayer f = flatten(x)\nlayer o = dense(f, 7)\n"
                     "loss mse(o, x)\n",
                     "8");
}

/* ------------------------------------------------------------ sequences */

/* PyTorch's parameter counts: G gate blocks of H units, G = 1 (rnn), 4
 * (lstm), 3 (gru): G*H*F + G*H*H weights, 2*G*H biases. */
static void test_recurrent_cells(void **state) {
  static const struct {
    const char *op;
    int G;
  } cells[] = {{"rnn", 1}, {"lstm", 4}, {"gru", 3}};
  for (int i = 0; i < 3; i++) {
    char src[512];
    snprintf(src, sizeof src,
             "input x[24, 5]\nlabel y : real[24, 7]\n"
             "layer h = %s(x, 7)\nlayer nb = %s(x, 7, bias = false)\n"
             "layer last = %s(x, 7, return = last)\nlayer o = dense(h, 7)\n"
             "loss mse(o, y)\n",
             cells[i].op, cells[i].op, cells[i].op);
    Compiled c = compile_ok(src, UPTO_SHAPE);
    long G = cells[i].G, H = 7, F = 5;
    Layer *x = find_layer(c.m, "x"), *h = find_layer(c.m, "h"), *nb = find_layer(c.m, "nb"),
          *last = find_layer(c.m, "last");
    assert_int_equal(x->steps, 24); /* a real (T, F) read by a recurrent layer */
    expect_shape(h, 2, 24, 7, 0);
    assert_int_equal(h->steps, 24);
    assert_int_equal(h->nparams, G * H * F + G * H * H + 2 * G * H);
    assert_int_equal(nb->nparams, G * H * F + G * H * H);
    expect_shape(last, 1, 7, 0, 0);
    assert_int_equal(last->steps, 0);
    assert_int_equal(last->nparams, h->nparams);
    /* PyTorch's default initialization: U(-1/sqrt(H), 1/sqrt(H)), biases too */
    double k = 1 / sqrt(7.0);
    assert_int_equal(h->init.kind, INIT_UNIFORM);
    assert_true(fabs(h->init.a + k) < 1e-15 && fabs(h->init.b - k) < 1e-15);
    assert_int_equal(h->bias_init.kind, INIT_UNIFORM);
    assert_true(fabs(h->bias_init.a + k) < 1e-15 && fabs(h->bias_init.b - k) < 1e-15);
    assert_non_null(h->init.how);
    assert_non_null(h->bias_init.how);
    compiled_free(&c);
  }
}

/* The char LSTM: tokens one-hot (T, V), a dense layer at every step. */
static void test_char_lstm(void **state) {
  Compiled c = compile_ok("input chars : int[64, 96]\nlabel next : int[64, 96]\n"
                          "layer h = lstm(chars, 128)\n"
                          "layer out = dense(h, 96, activation = softmax)\n"
                          "loss cross_entropy(out, next)\n",
                          UPTO_SHAPE);
  Layer *chars = find_layer(c.m, "chars"), *h = find_layer(c.m, "h"),
        *out = find_layer(c.m, "out");
  expect_shape(chars, 2, 64, 96, 0);
  assert_int_equal(chars->steps, 64);
  expect_shape(h, 2, 64, 128, 0);
  assert_int_equal(h->steps, 64);
  assert_int_equal(h->nparams, 4 * 128 * 96 + 4 * 128 * 128 + 2 * 4 * 128); /* 115712 */
  expect_shape(out, 2, 64, 96, 0);
  assert_int_equal(out->steps, 64);
  assert_int_equal(out->nparams, 96 * 128 + 96); /* as a dense over 128 features */
  /* xavier of the per-step dense: fan_in 128, fan_out 96 */
  assert_string_equal(out->init.how, "xavier");
  assert_true(fabs(out->init.b - sqrt(6.0 / (128 + 96))) < 1e-15);
  assert_int_equal(c.m->label_steps, 64);
  assert_int_equal(c.m->nclasses, 96);
  /* the summary: T x H, parameter counts */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  shape_summary(f, c.m, NULL);
  fclose(f);
  assert_non_null(strstr(buf, "  h            lstm     64x128             115712\n"));
  assert_non_null(strstr(buf, "  out          dense    64x96               12384\n"));
  assert_non_null(strstr(buf, "128096 learnable parameters (126976 weights, 1120 biases)\n"));
  free(buf);
  compiled_free(&c);
}

/* Stacks: sequence in, sequence out; a dense per step between; the last
 * step into a classifier.  An input that no recurrent layer reads is no
 * sequence. */
static void test_stacking(void **state) {
  Compiled c = compile_ok("input t : int[20, 50]\nlabel y : int[4]\n"
                          "layer emb = dense(t, 16)\n"
                          "layer g = gru(emb, 64)\n"
                          "layer r = rnn(g, 32, activation = relu)\n"
                          "layer p = dense(r, 8, activation = tanh)\n"
                          "layer l = lstm(p, 10, return = last)\n"
                          "layer out = dense(l, 4, activation = softmax)\n"
                          "loss cross_entropy(out, y)\n",
                          UPTO_SHAPE);
  Model *m = c.m;
  Layer *emb = find_layer(m, "emb"), *g = find_layer(m, "g"), *r = find_layer(m, "r"),
        *p = find_layer(m, "p"), *l = find_layer(m, "l"), *out = find_layer(m, "out");
  expect_shape(emb, 2, 20, 16, 0);
  assert_int_equal(emb->steps, 20);
  assert_int_equal(emb->nparams, 16 * 50 + 16);
  expect_shape(g, 2, 20, 64, 0);
  assert_int_equal(g->nparams, 3 * 64 * 16 + 3 * 64 * 64 + 6 * 64);
  expect_shape(r, 2, 20, 32, 0);
  assert_int_equal(r->nparams, 32 * 64 + 32 * 32 + 2 * 32);
  expect_shape(p, 2, 20, 8, 0);
  assert_int_equal(p->steps, 20);
  expect_shape(l, 1, 10, 0, 0);
  assert_int_equal(l->steps, 0);
  assert_int_equal(l->nparams, 4 * 10 * 8 + 4 * 10 * 10 + 8 * 10);
  expect_shape(out, 1, 4, 0, 0);
  assert_int_equal(out->steps, 0);
  compiled_free(&c);

  /* he and xavier on a recurrent layer: fan_in = F + H, fan_out = H */
  c = compile_ok("input x[24, 6]\nlabel y : real[1]\n"
                 "layer h = rnn(x, 10, return = last, init = he, bias_init = zeros)\n"
                 "layer k = gru(x, 10, return = last, init = xavier)\n"
                 "layer o = dense(h, 1)\nloss mse(o, y)\n",
                 UPTO_SHAPE);
  Layer *h = find_layer(c.m, "h"), *k = find_layer(c.m, "k");
  assert_int_equal(h->init.kind, INIT_NORMAL);
  assert_true(fabs(h->init.b - sqrt(2.0 / 16)) < 1e-15);
  assert_int_equal(h->bias_init.kind, INIT_ZEROS);
  assert_int_equal(k->init.kind, INIT_UNIFORM);
  assert_true(fabs(k->init.b - sqrt(6.0 / 26)) < 1e-15);
  compiled_free(&c);

  /* a (T, F) input that only dense layers read is not a sequence */
  c = compile_ok("input x[24, 6]\nlabel y : real[1]\nlayer f = flatten(x)\n"
                 "layer o = dense(f, 1)\nloss mse(o, y)\n",
                 UPTO_SHAPE);
  assert_int_equal(find_layer(c.m, "x")->steps, 0);
  expect_shape(find_layer(c.m, "f"), 1, 144, 0, 0);
  compiled_free(&c);

  /* a sequence out against a sequence label of its shape */
  c = compile_ok("input x[10, 3]\nlabel y : real[10, 2]\nlayer h = gru(x, 16)\n"
                 "layer o = dense(h, 2)\nloss mse(o, y)\n",
                 UPTO_SHAPE);
  compiled_free(&c);
}

/* The message of the first error, exactly (after "bad.nn:L:C: error: "). */
static void expect_shape_message(const char *src, const char *msg) {
  Compiled c = compile_upto("bad.nn", src, UPTO_SHAPE);
  assert_non_null(c.m);
  assert_true(c.errors > 0);
  const char *e = strstr(c.diag, "error: ");
  assert_non_null(e);
  e += strlen("error: ");
  size_t n = strcspn(e, "\n");
  if (strlen(msg) != n || strncmp(e, msg, n))
    fail_msg("expected\n  %s\ngot\n  %.*s", msg, (int)n, e);
  compiled_free(&c);
}

static void test_sequence_errors(void **state) {
  expect_shape_message("input x[64]\nlabel y : real[1]\nlayer h = lstm(x, 32, return = last)\n"
                       "layer o = dense(h, 1)\nloss mse(o, y)\n",
                       "'h': lstm reads a sequence (T, F), gets (64) from 'x'; a real sequence "
                       "input is input x[T, F]");
  expect_shape_message("input x[24, 8]\nlabel y : real[1]\nlayer a = gru(x, 32, return = last)\n"
                       "layer b = rnn(a, 8, return = last)\nlayer o = dense(b, 1)\n"
                       "loss mse(o, y)\n",
                       "'b': rnn reads a sequence (T, F), gets (32) from 'a'; 'a' has return = "
                       "last: give it return = sequence");
  expect_shape_message("input x[24, 8]\nlabel y : real[1]\nlayer h = lstm(x, 32)\n"
                       "layer f = flatten(h)\nlayer o = dense(f, 1)\nloss mse(o, y)\n",
                       "flatten of a sequence is not supported: 'h' is a sequence of 24 steps "
                       "of 32 features (24x32); use return = last on 'h' to keep only its last "
                       "step");
  expect_shape_message("input x[24, 8]\nlabel y : real[1]\nlayer h = lstm(x, 32, return = last)\n"
                       "layer d = dense(x, 4)\nlayer o = dense(h, 1)\nloss mse(o, y)\n",
                       "dense needs a vector input; 'x' is a sequence of 24 steps of 8 features "
                       "(24x8), as lstm 'h' reads it; every layer that reads it must be recurrent "
                       "(rnn, lstm or gru)");
  expect_shape_message("input x[24, 8]\nlabel y : real[1]\nlayer h = gru(x, 32)\n"
                       "layer p = avgpool(h, kernel = 2)\nlayer o = dense(p, 1)\n"
                       "loss mse(o, y)\n",
                       "avgpool of a sequence is not supported: 'h' is a sequence of 24 steps "
                       "of 32 features (24x32); use return = last on 'h' to keep only its last "
                       "step");
  expect_shape_message("input x[4]\nlabel y : int[2, 3]\n"
                       "layer out = dense(x, 3, activation = softmax)\n"
                       "loss cross_entropy(out, y)\n",
                       "cross_entropy: 'out' gives 3 outputs (not a sequence), label 'y' has 2 "
                       "steps of 3 classes: 'out' must be a sequence 2x3");
  expect_shape_message("input x[24, 8]\nlabel y : int[3]\nlayer h = lstm(x, 32)\n"
                       "layer out = dense(h, 3, activation = softmax)\n"
                       "loss cross_entropy(out, y)\n",
                       "cross_entropy: 'out' gives a sequence 24x3 (24 steps of 3), label 'y' "
                       "has 3 classes, one per sample: use return = last for one output per "
                       "sample, or a label int[24, 3]");
  expect_shape_message("input c : int[64, 96]\nlabel n : int[64, 96]\nlayer h = lstm(c, 128)\n"
                       "layer out = dense(h, 95)\nloss cross_entropy(out, n)\n",
                       "cross_entropy: 'out' gives a sequence 64x95 (64 steps of 95), label 'n' "
                       "has 64 steps of 96 classes: 'out' must be a sequence 64x96");
  expect_shape_message("input w[24, 1]\nlabel n : real[1]\nlayer h = rnn(w, 32)\n"
                       "layer out = dense(h, 1)\nloss mse(out, n)\n",
                       "mse: 'out' gives a sequence 24x1 (24 steps of 1), target 'n' has 1 "
                       "value: use return = last for one output per sample");
  expect_shape_message("input x[10, 3]\nlabel y : real[20]\nlayer h = gru(x, 16)\n"
                       "layer o = dense(h, 2)\nloss binary_cross_entropy(o, y)\n",
                       "binary_cross_entropy: 'o' gives a sequence 10x2 (10 steps of 2), target "
                       "'y' has 20 values: declare it real[10, 2]");
  expect_shape_message("input c : int[8, 5]\nlayer h = lstm(c, 4)\nlayer o = dense(h, 5)\n"
                       "loss mse(o, c)\n",
                       "the target of mse is a real label or a real input; 'c' holds token ids");
  expect_shape_message("input x[24, 8]\nlabel y : real[1]\n"
                       "layer h = lstm(x, 32, return = last, in_features = 4)\n"
                       "layer o = dense(h, 1)\nloss mse(o, y)\n",
                       "layer 'h' expects input of 4 features, 'x' gives 8 per step");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mlp_shapes_and_counts), cmocka_unit_test(test_no_bias_count),
      cmocka_unit_test(test_default_inits),         cmocka_unit_test(test_given_inits),
      cmocka_unit_test(test_shape_numel_str),       cmocka_unit_test(test_shape_errors),
      cmocka_unit_test(test_recurrent_cells),       cmocka_unit_test(test_char_lstm),
      cmocka_unit_test(test_stacking),              cmocka_unit_test(test_sequence_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
