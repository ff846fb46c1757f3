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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mlp_shapes_and_counts), cmocka_unit_test(test_no_bias_count),
      cmocka_unit_test(test_default_inits),         cmocka_unit_test(test_given_inits),
      cmocka_unit_test(test_shape_numel_str),       cmocka_unit_test(test_shape_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
