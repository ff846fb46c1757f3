/* test_emit.c — the generated C against arithmetic done by hand.
 *
 * Each test compiles a tiny model with the compiler's API (parse_program,
 * sema_check, shape_infer, lower_model, autodiff, memplan, emit_c) into a
 * temporary directory, builds it with -DNN_NO_MAIN -DNN_REAL=double and a
 * small driver (below) against libnnrt.a, and runs it: the driver sets the
 * parameters, runs forward, backward and optionally a few updates through
 * the nn_model descriptor `nn_model_desc`, and prints loss, correct count,
 * outputs, gradients and parameters.  The expected numbers are worked out
 * in the comments, independently of the compiler and of gradcheck.
 *
 * The C compiler is the one this test was built with (gcc or clang; the
 * environment's NNCC_TEST_CC overrides), with -fsanitize=address,undefined
 * when this test is an ASan build (its libnnrt.a is then one too).
 * libnnrt.a is found beside the test: BUILD/tests/test_emit ->
 * BUILD/libnnrt.a, and nnrt.h in BUILD/../runtime.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncc_test.h"

#define HARNESS_NAME "test_emit"
#include "trainer_harness.h"

/* ---------------------------------------------------------------- tests */

/* 2-2-1, sigmoid hidden and output, binary cross-entropy, one sample.
 *
 *   x = (1, -1), W1 = [[1, 1], [2, 1]], b1 = (0, ln 3 - 1)
 *   z1 = W1 x + b1 = (1 - 1 + 0, 2 - 1 + ln 3 - 1) = (0, ln 3)
 *   h  = sigmoid(z1) = (1/2, 1/(1 + 1/3)) = (1/2, 3/4)
 *   w2 = [[2, -4]], b2 = (2):  z2 = 2 * 1/2 - 4 * 3/4 + 2 = 1 - 3 + 2 = 0
 *   p  = sigmoid(0) = 1/2;  target t = 1
 *   loss = -ln p = ln 2 = 0.6931471805599453
 *   correct: (p > 1/2) == (t > 1/2)  is  false == true: 0
 * Backward (nb = 1, K = 1):
 *   dz2 = p - t = -1/2
 *   d out.weight = dz2 h = (-1/4, -3/8);  d out.bias = -1/2
 *   dh  = dz2 w2 = (-1, 2)
 *   dz1 = dh * h (1 - h) = (-1 * 1/4, 2 * 3/16) = (-1/4, 3/8)
 *   d h.weight = dz1 x^T = [[-1/4, 1/4], [3/8, -3/8]];  d h.bias = (-1/4, 3/8)
 */
static void test_bce_sigmoid_221(void **state) {
  char *in = xasprintf("1\n1 1 2 1\n0 %.17g\n2 -4\n2\n1 -1\n1\n0 0\n", log(3.0) - 1);
  Result r = run_model("bce221",
                       "input x[2]\nlabel y : real[1]\n"
                       "layer h = dense(x, 2, activation = sigmoid)\n"
                       "layer out = dense(h, 1, activation = sigmoid)\n"
                       "loss binary_cross_entropy(out, y)\n",
                       in);
  free(in);
  expect_near("loss", 0, r.loss, log(2.0), 1e-12);
  expect_near("correct", 0, r.correct, 0, 0);
  EXPECT_OUTPUT(r, 0.5);
  EXPECT_GRAD(r, "out.weight", -0.25, -0.375);
  EXPECT_GRAD(r, "out.bias", -0.5);
  EXPECT_GRAD(r, "h.weight", -0.25, 0.25, 0.375, -0.375);
  EXPECT_GRAD(r, "h.bias", -0.25, 0.375);
}

/* The same output layer as logits (identity): binary_cross_entropy applies
 * the sigmoid itself.
 *   x = (1, 0), w = [[ln 3, 5]], b = (0):  z = ln 3,  p = 1/(1 + 1/3) = 3/4
 *   t = 1/4:  loss = -(t ln p + (1 - t) ln(1 - p))
 *                  = -(1/4 (ln 3 - ln 4) + 3/4 (-ln 4)) = ln 4 - (ln 3)/4
 *                  = 1.3862943611198906 - 0.2746530721670274 = 1.1116412889528632
 *   correct: (3/4 > 1/2) == (1/4 > 1/2): 0;  output = z = ln 3
 *   dz = p - t = 1/2:  d out.weight = dz x = (1/2, 0), d out.bias = 1/2 */
static void test_bce_logits(void **state) {
  char *in = xasprintf("1\n%.17g 5\n0\n1 0\n0.25\n0 0\n", log(3.0));
  Result r = run_model("bcelogits",
                       "input x[2]\nlabel y : real[1]\n"
                       "layer out = dense(x, 1)\n"
                       "loss binary_cross_entropy(out, y)\n",
                       in);
  free(in);
  expect_near("loss", 0, r.loss, log(4.0) - log(3.0) / 4, 1e-12);
  expect_near("correct", 0, r.correct, 0, 0);
  EXPECT_OUTPUT(r, 1.0986122886681098);
  EXPECT_GRAD(r, "out.weight", 0.5, 0);
  EXPECT_GRAD(r, "out.bias", 0.5);
}

/* Softmax + cross-entropy, one sample, 2 inputs, 3 classes.
 *   x = (1, 2), W = [[1, -0.5], [0, 0], [1, 0]], b = (0, ln 2, ln 5 - 1)
 *   z = W x + b = (1 - 1, 0 + ln 2, 1 + ln 5 - 1) = (0, ln 2, ln 5)
 *   exp z = (1, 2, 5), sum 8:  p = (1/8, 1/4, 5/8)
 *   class 2:  loss = -ln(5/8) = ln 1.6 = 0.47000362924573558
 *   argmax p = 2 = class: correct 1
 *   dz = p - onehot(2) = (1/8, 1/4, -3/8)
 *   d out.weight = dz x^T = [[1/8, 1/4], [1/4, 1/2], [-3/8, -3/4]];  d out.bias = dz */
static const char ce_params_fmt[] = "1\n1 -0.5 0 0 1 0\n0 %.17g %.17g\n1 2\n2\n0 0\n";

static void check_ce(const Result *r) {
  expect_near("loss", 0, r->loss, log(1.6), 1e-12);
  expect_near("correct", 0, r->correct, 1, 0);
  EXPECT_GRAD(*r, "out.weight", 0.125, 0.25, 0.25, 0.5, -0.375, -0.75);
  EXPECT_GRAD(*r, "out.bias", 0.125, 0.25, -0.375);
}

static void test_ce_softmax(void **state) {
  char *in = xasprintf(ce_params_fmt, log(2.0), log(5.0) - 1);
  Result r = run_model("cesoftmax",
                       "input x[2]\nlabel c : int[3]\n"
                       "layer out = dense(x, 3, activation = softmax)\n"
                       "loss cross_entropy(out, c)\n",
                       in);
  free(in);
  check_ce(&r);
  EXPECT_OUTPUT(r, 0.125, 0.25, 0.625); /* the probabilities */
}

/* The same with an identity output: the logits; same loss and gradient,
 * and the output is z = (0, ln 2, ln 5). */
static void test_ce_logits(void **state) {
  char *in = xasprintf(ce_params_fmt, log(2.0), log(5.0) - 1);
  Result r = run_model("celogits",
                       "input x[2]\nlabel c : int[3]\n"
                       "layer out = dense(x, 3)\n"
                       "loss cross_entropy(out, c)\n",
                       in);
  free(in);
  check_ce(&r);
  EXPECT_OUTPUT(r, 0, 0.69314718055994531, 1.6094379124341003);
}

/* mse, identity output, two samples (the mean is over nb * K = 4).
 *   W = [[1, 2], [3, 4]], b = (0.5, -0.5)
 *   row 0: x = (1, -1):  z = (1 - 2 + 0.5, 3 - 4 - 0.5) = (-0.5, -1.5), t = (0.5, 0.5)
 *          z - t = (-1, -2)
 *   row 1: x = (0, 1):   z = (2.5, 3.5), t = (2.5, 3.5):  z - t = 0
 *   loss = (1 + 4 + 0 + 0) / 4 = 1.25
 *   dz = 2 (z - t) / 4:  row 0 (-1/2, -1), row 1 (0, 0)
 *   d out.weight = sum_b dz_b x_b^T = [[-1/2, 1/2], [-1, 1]];  d out.bias = (-1/2, -1) */
static const char mse_model[] = "input x[2]\nlabel y : real[2]\n"
                                "layer out = dense(x, 2)\n"
                                "loss mse(out, y)\n";
static const char mse_input[] = "2\n1 2 3 4\n0.5 -0.5\n1 -1 0 1\n0.5 0.5 2.5 3.5\n";

static void test_mse(void **state) {
  char *in = xasprintf("%s0 0\n", mse_input);
  Result r = run_model("mse", mse_model, in);
  free(in);
  expect_near("loss", 0, r.loss, 1.25, 1e-12);
  EXPECT_OUTPUT(r, -0.5, -1.5, 2.5, 3.5);
  EXPECT_GRAD(r, "out.weight", -0.5, 0.5, -1, 1);
  EXPECT_GRAD(r, "out.bias", -0.5, -1);
  EXPECT_PARAM(r, "out.weight", 1, 2, 3, 4); /* no update */
}

/* SGD with momentum 0.9 and weight decay 0.5 (weights only), lr 0.1, two
 * steps with the mse gradient above (g_W = [[-1/2, 1/2], [-1, 1]],
 * g_b = (-1/2, -1)); the gradient is not recomputed between the steps.
 *   step 1: g' = g_W + 0.5 W0 = [[0, 1.5], [0.5, 3]] = v1
 *           W1 = W0 - 0.1 v1 = [[1, 1.85], [2.95, 3.7]]
 *           bias: v1 = g_b, b1 = (0.5, -0.5) - 0.1 (-0.5, -1) = (0.55, -0.4)
 *   step 2: g' = g_W + 0.5 W1 = [[0, 1.425], [0.475, 2.85]]
 *           v2 = 0.9 v1 + g' = [[0, 2.775], [0.925, 5.55]]
 *           W2 = W1 - 0.1 v2 = [[1, 1.5725], [2.8575, 3.145]]
 *           bias: v2 = 0.9 g_b + g_b = (-0.95, -1.9), b2 = (0.645, -0.21) */
static void test_sgd_momentum_decay(void **state) {
  char *model = xasprintf("%strain { optimizer = sgd(lr = 0.1, momentum = 0.9), "
                          "weight_decay = 0.5 }\n", mse_model);
  char *in = xasprintf("%s2 0.1\n", mse_input);
  Result r = run_model("sgdmom", model, in);
  free(model);
  free(in);
  EXPECT_PARAM(r, "out.weight", 1, 1.5725, 2.8575, 3.145);
  EXPECT_PARAM(r, "out.bias", 0.645, -0.21);
}

/* Plain SGD (momentum 0) with weight decay 0.5, lr 0.1, one step:
 *   W1 = W0 - 0.1 (g_W + 0.5 W0) = W0 - 0.1 [[0, 1.5], [0.5, 3]]
 *      = [[1, 1.85], [2.95, 3.7]];  b1 = (0.55, -0.4) */
static void test_sgd_plain_decay(void **state) {
  char *model = xasprintf("%strain { optimizer = sgd, weight_decay = 0.5 }\n", mse_model);
  char *in = xasprintf("%s1 0.1\n", mse_input);
  Result r = run_model("sgdplain", model, in);
  free(model);
  free(in);
  EXPECT_PARAM(r, "out.weight", 1, 1.85, 2.95, 3.7);
  EXPECT_PARAM(r, "out.bias", 0.55, -0.4);
}

/* step hidden layer: its gradient is exactly zero; the layer above still
 * learns from step's values.
 *   x = (1, -2), W1 = [[1, 0], [0, 1]], b1 = (0, 0):  z1 = (1, -2), h = (1, 0)
 *   w2 = [[3, 7]], b2 = (1):  out = 3 + 1 = 4;  t = 2
 *   loss = (4 - 2)^2 = 4;  dz2 = 2 (4 - 2) = 4
 *   d out.weight = 4 h = (4, 0);  d out.bias = 4;  d h.* = 0 */
static void test_step_zero_grad(void **state) {
  Result r = run_model("step",
                       "input x[2]\nlabel y : real[1]\n"
                       "layer h = dense(x, 2, activation = step)\n"
                       "layer out = dense(h, 1)\n"
                       "loss mse(out, y)\n",
                       "1\n1 0 0 1\n0 0\n3 7\n1\n1 -2\n2\n0 0\n");
  expect_near("loss", 0, r.loss, 4, 1e-12);
  EXPECT_OUTPUT(r, 4);
  EXPECT_GRAD(r, "out.weight", 4, 0);
  EXPECT_GRAD(r, "out.bias", 4);
  const Vec *g = get(r.grad, r.ngrad, "h.weight");
  for (int i = 0; i < g->n; i++)
    assert_true(g->v[i] == 0); /* exactly */
  g = get(r.grad, r.ngrad, "h.bias");
  for (int i = 0; i < g->n; i++)
    assert_true(g->v[i] == 0);
}

/* bias = false: no bias tensor; autoencoder target (mse against the input).
 *   x = (1, 2), W = [[1, 0], [1, 1]]:  out = (1, 3), target x = (1, 2)
 *   loss = (0 + 1) / 2 = 0.5;  dz = 2 (0, 1) / 2 = (0, 1)
 *   d out.weight = dz x^T = [[0, 0], [1, 2]] */
static void test_autoencoder_no_bias(void **state) {
  Result r = run_model("ae",
                       "input x[2]\n"
                       "layer out = dense(x, 2, bias = false)\n"
                       "loss mse(out, x)\n",
                       "1\n1 0 1 1\n1 2\n0 0\n");
  assert_int_equal(r.ngrad, 1);
  expect_near("loss", 0, r.loss, 0.5, 1e-12);
  EXPECT_OUTPUT(r, 1, 3);
  EXPECT_GRAD(r, "out.weight", 0, 0, 1, 2);
}

/* ------------------------------------------- many rows: a naive reference
 *
 * The generated code tiles the batch (feature-major activations, columns
 * in tiles) and must handle a last, partial tile and dead columns
 * nb..B-1.  gradcheck runs with at most 4 rows; here nb is 37 of B = 40
 * and 40 of 40, against plain triple loops written below:
 *   z1 = W1 x + b1, h = f(z1), z2 = W2 h + b2, then
 *   (a) f = tanh, p = sigmoid(z2), loss = mean (p - t)^2 over nb * K;
 *   (b) f = relu, p = softmax(z2), loss = mean -log p[class] over nb. */
enum { RD = 5, RH = 6, RK = 3 };

typedef struct Ref {
  double w1[RH][RD], b1[RH], w2[RK][RH], b2[RK];
  double gw1[RH][RD], gb1[RH], gw2[RK][RH], gb2[RK];
  double loss, correct;
} Ref;

static void ref_run(Ref *r, bool ce, int nb, const float *x, const float *t, const int *cls) {
  memset(r->gw1, 0, sizeof r->gw1);
  memset(r->gb1, 0, sizeof r->gb1);
  memset(r->gw2, 0, sizeof r->gw2);
  memset(r->gb2, 0, sizeof r->gb2);
  r->loss = r->correct = 0;
  for (int b = 0; b < nb; b++) {
    double z1[RH], h[RH], z2[RK], p[RK], dz2[RK], dh[RH];
    for (int i = 0; i < RH; i++) {
      z1[i] = r->b1[i];
      for (int j = 0; j < RD; j++)
        z1[i] += r->w1[i][j] * x[b * RD + j];
      h[i] = ce ? (z1[i] > 0 ? z1[i] : 0) : tanh(z1[i]);
    }
    for (int k = 0; k < RK; k++) {
      z2[k] = r->b2[k];
      for (int i = 0; i < RH; i++)
        z2[k] += r->w2[k][i] * h[i];
    }
    if (ce) {
      double mx = z2[0], sum = 0;
      int arg = 0;
      for (int k = 1; k < RK; k++)
        if (z2[k] > mx)
          mx = z2[k], arg = k;
      for (int k = 0; k < RK; k++)
        sum += exp(z2[k] - mx);
      for (int k = 0; k < RK; k++)
        p[k] = exp(z2[k] - mx) / sum;
      r->loss += (log(sum) + mx - z2[cls[b]]) / nb;
      r->correct += arg == cls[b];
      for (int k = 0; k < RK; k++)
        dz2[k] = (p[k] - (k == cls[b])) / nb;
    } else {
      for (int k = 0; k < RK; k++) {
        p[k] = 1 / (1 + exp(-z2[k]));
        double d = p[k] - t[b * RK + k];
        r->loss += d * d / (nb * RK);
        dz2[k] = 2 * d / (nb * RK) * p[k] * (1 - p[k]);
      }
    }
    for (int i = 0; i < RH; i++) {
      dh[i] = 0;
      for (int k = 0; k < RK; k++)
        dh[i] += dz2[k] * r->w2[k][i];
    }
    for (int k = 0; k < RK; k++) {
      r->gb2[k] += dz2[k];
      for (int i = 0; i < RH; i++)
        r->gw2[k][i] += dz2[k] * h[i];
    }
    for (int i = 0; i < RH; i++) {
      double dz1 = ce ? (z1[i] > 0 ? dh[i] : 0) : dh[i] * (1 - h[i] * h[i]);
      r->gb1[i] += dz1;
      for (int j = 0; j < RD; j++)
        r->gw1[i][j] += dz1 * x[b * RD + j];
    }
  }
}

static void expect_close(const Vec *v, const double *want, int n) {
  assert_int_equal(v->n, n);
  for (int i = 0; i < n; i++)
    expect_near(v->name, i, v->v[i], want[i], 1e-12 * (1 + fabs(want[i])));
}

static void check_many_rows(bool ce, int nb) {
  Ref r;
  float x[40 * RD], t[40 * RK];
  int cls[40];
  /* deterministic, irregular values */
  for (int i = 0; i < RH; i++) {
    r.b1[i] = 0.1 * sin(1.3 * i + 0.2);
    for (int j = 0; j < RD; j++)
      r.w1[i][j] = 0.6 * sin(0.7 * (i * RD + j) + 1);
  }
  for (int k = 0; k < RK; k++) {
    r.b2[k] = 0.2 * cos(2.1 * k);
    for (int i = 0; i < RH; i++)
      r.w2[k][i] = 0.8 * cos(0.9 * (k * RH + i) + 0.5);
  }
  for (int b = 0; b < nb; b++) {
    for (int j = 0; j < RD; j++)
      x[b * RD + j] = (float)(2 * sin(0.37 * (b * RD + j) + 0.1));
    for (int k = 0; k < RK; k++)
      t[b * RK + k] = (float)(0.5 + 0.5 * sin(1.7 * (b * RK + k)));
    cls[b] = (b * 7 + 1) % RK;
  }
  ref_run(&r, ce, nb, x, t, cls);
  /* the driver's input */
  char *in = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&in, &len);
  fprintf(f, "%d\n", nb);
  for (int i = 0; i < RH; i++)
    for (int j = 0; j < RD; j++)
      fprintf(f, "%.17g ", r.w1[i][j]);
  for (int i = 0; i < RH; i++)
    fprintf(f, "%.17g ", r.b1[i]);
  for (int k = 0; k < RK; k++)
    for (int i = 0; i < RH; i++)
      fprintf(f, "%.17g ", r.w2[k][i]);
  for (int k = 0; k < RK; k++)
    fprintf(f, "%.17g ", r.b2[k]);
  for (int i = 0; i < nb * RD; i++)
    fprintf(f, "%.9g ", x[i]);
  for (int i = 0; i < nb * (ce ? 1 : RK); i++)
    if (ce)
      fprintf(f, "%d ", cls[i]);
    else
      fprintf(f, "%.9g ", t[i]);
  fprintf(f, "\n0 0\n");
  fclose(f);
  const char *model = ce ? "input x[5]\nlabel c : int[3]\n"
                           "layer h = dense(x, 6, activation = relu)\n"
                           "layer out = dense(h, 3, activation = softmax)\n"
                           "loss cross_entropy(out, c)\ntrain { batch = 40 }\n"
                         : "input x[5]\nlabel y : real[3]\n"
                           "layer h = dense(x, 6, activation = tanh)\n"
                           "layer out = dense(h, 3, activation = sigmoid)\n"
                           "loss mse(out, y)\ntrain { batch = 40 }\n";
  char *name = xasprintf("rows_%s_%d", ce ? "ce" : "mse", nb);
  Result got = run_model(name, model, in);
  free(name);
  free(in);
  expect_near("loss", 0, got.loss, r.loss, 1e-12);
  if (ce)
    expect_near("correct", 0, got.correct, r.correct, 0);
  expect_close(get(got.grad, got.ngrad, "h.weight"), &r.gw1[0][0], RH * RD);
  expect_close(get(got.grad, got.ngrad, "h.bias"), r.gb1, RH);
  expect_close(get(got.grad, got.ngrad, "out.weight"), &r.gw2[0][0], RK * RH);
  expect_close(get(got.grad, got.ngrad, "out.bias"), r.gb2, RK);
  assert_int_equal(got.output.n, nb * RK);
}

static void test_many_rows_mse(void **state) {
  check_many_rows(false, 37); /* a partial last tile, 3 dead columns */
  check_many_rows(false, 40);
  check_many_rows(false, 1);
}

static void test_many_rows_ce(void **state) {
  check_many_rows(true, 37);
  check_many_rows(true, 40);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bce_sigmoid_221),    cmocka_unit_test(test_bce_logits),
      cmocka_unit_test(test_ce_softmax),         cmocka_unit_test(test_ce_logits),
      cmocka_unit_test(test_mse),                cmocka_unit_test(test_sgd_momentum_decay),
      cmocka_unit_test(test_sgd_plain_decay),    cmocka_unit_test(test_step_zero_grad),
      cmocka_unit_test(test_autoencoder_no_bias), cmocka_unit_test(test_many_rows_mse),
      cmocka_unit_test(test_many_rows_ce),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
