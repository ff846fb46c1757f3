/* test_optim.c — the generated optimizer steps against their documented
 * formulas (torch.optim.SGD, Adam, AdamW, RMSprop; clip_value, per-layer
 * weight decay, the perceptron rule), computed here in double.
 *
 * The model is test_emit.c's 2x2 linear layer under mse, two samples:
 *   W0 = [[1, 2], [3, 4]], b0 = (0.5, -0.5)
 *   gradient (worked out in test_emit.c): g_W = [[-1/2, 1/2], [-1, 1]],
 *   g_b = (-1/2, -1)
 * The driver (trainer_harness.h) runs backward once and then `steps`
 * update() calls with that same gradient, counting c.step as nn_main does
 * (so adam's bias correction sees t = 1, 2, ...).  The reference below
 * applies the same formulas to the same fixed gradient.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncc_test.h"

#define HARNESS_NAME "test_optim"
#include "trainer_harness.h"

static const char mse_model[] = "input x[2]\nlabel y : real[2]\n"
                                "layer out = dense(x, 2%s)\n"
                                "loss mse(out, y)\n"
                                "train { %s }\n";
static const char mse_input[] = "2\n1 2 3 4\n0.5 -0.5\n1 -1 0 1\n0.5 0.5 2.5 3.5\n";
static const double W0[4] = {1, 2, 3, 4}, B0[2] = {0.5, -0.5};
static const double GW[4] = {-0.5, 0.5, -1, 1}, GB[2] = {-0.5, -1};

/* Run the model with the train block `train` (and `layer_keys` after the
 * dense layer's units) for `steps` updates at rate lr. */
static Result run_opt(const char *name, const char *layer_keys, const char *train, int steps,
                      double lr) {
  char *model = xasprintf(mse_model, layer_keys, train);
  char *in = xasprintf("%s%d %.17g\n", mse_input, steps, lr);
  Result r = run_model(name, model, in);
  free(model);
  free(in);
  return r;
}

/* |got - want| <= 1e-12 max(1, |want|) element by element. */
static void expect_rel(const Result *r, const char *name, const double *want, int n) {
  const Vec *v = get(r->param, r->nparam, name);
  assert_int_equal(v->n, n);
  for (int i = 0; i < n; i++)
    expect_near(name, i, v->v[i], want[i], 1e-12 * fmax(1, fabs(want[i])));
}

/* The reference optimizers: one parameter tensor w (n elements) with
 * fixed gradient g, `steps` steps; wd applies when `decay`. */
typedef enum { R_SGD, R_ADAM, R_ADAMW, R_RMSPROP } RefKind;
typedef struct RefOpt {
  RefKind kind;
  double lr, momentum, dampening, beta1, beta2, eps, alpha, wd;
  bool nesterov;
} RefOpt;

static void reference(const RefOpt *o, double *w, const double *g0, int n, bool decay,
                      int steps) {
  double m[4] = {0}, v[4] = {0}, buf[4] = {0};
  double wd = decay ? o->wd : 0;
  for (int t = 1; t <= steps; t++) {
    for (int i = 0; i < n; i++) {
      double g = g0[i];
      switch (o->kind) {
      case R_SGD: /* torch.optim.SGD */
        g += wd * w[i];
        if (o->momentum > 0) {
          buf[i] = t == 1 ? g : o->momentum * buf[i] + (1 - o->dampening) * g;
          g = o->nesterov ? g + o->momentum * buf[i] : buf[i];
        }
        w[i] -= o->lr * g;
        break;
      case R_ADAM:  /* torch.optim.Adam: L2 */
      case R_ADAMW: /* torch.optim.AdamW: decoupled */
        if (o->kind == R_ADAM)
          g += wd * w[i];
        else
          w[i] *= 1 - o->lr * wd;
        m[i] = o->beta1 * m[i] + (1 - o->beta1) * g;
        v[i] = o->beta2 * v[i] + (1 - o->beta2) * g * g;
        w[i] -= o->lr / (1 - pow(o->beta1, t)) * m[i] /
                (sqrt(v[i]) / sqrt(1 - pow(o->beta2, t)) + o->eps);
        break;
      case R_RMSPROP: /* torch.optim.RMSprop, centered = False */
        g += wd * w[i];
        v[i] = o->alpha * v[i] + (1 - o->alpha) * g * g;
        if (o->momentum > 0) {
          buf[i] = o->momentum * buf[i] + g / (sqrt(v[i]) + o->eps);
          w[i] -= o->lr * buf[i];
        } else {
          w[i] -= o->lr * g / (sqrt(v[i]) + o->eps);
        }
        break;
      }
    }
  }
}

static void check_against_reference(const char *name, const char *train, const RefOpt *o,
                                    int steps) {
  Result r = run_opt(name, "", train, steps, o->lr);
  double w[4], b[2];
  memcpy(w, W0, sizeof w);
  memcpy(b, B0, sizeof b);
  reference(o, w, GW, 4, true, steps);
  reference(o, b, GB, 2, false, steps);
  expect_rel(&r, "out.weight", w, 4);
  expect_rel(&r, "out.bias", b, 2);
}

/* Adam, one step, by hand: m = 0.1 g, v = 0.001 g^2, so
 * m / (1 - 0.9) = g and sqrt(v / (1 - 0.999)) = |g|: every element moves
 * by lr g / (|g| + eps) = lr sign(g) (up to eps / |g| = 2e-8). */
static void test_adam_first_step(void **state) {
  Result r = run_opt("adam1", "", "optimizer = adam(lr = 0.1)", 1, 0.1);
  const double w[4] = {1.1, 1.9, 3.1, 3.9}, b[2] = {0.6, -0.4};
  const Vec *vw = get(r.param, r.nparam, "out.weight"), *vb = get(r.param, r.nparam, "out.bias");
  for (int i = 0; i < 4; i++)
    expect_near("out.weight", i, vw->v[i], w[i], 1e-8);
  for (int i = 0; i < 2; i++)
    expect_near("out.bias", i, vb->v[i], b[i], 1e-8);
}

static void test_adam_l2(void **state) {
  RefOpt o = {R_ADAM, .lr = 0.1, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-3, .wd = 0.5};
  check_against_reference("adam2", "optimizer = adam(lr = 0.1, beta1 = 0.8, beta2 = 0.99, "
                          "eps = 1e-3)  weight_decay = 0.5", &o, 3);
}

static void test_adamw(void **state) {
  RefOpt o = {R_ADAMW, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .wd = 0.5};
  check_against_reference("adamw", "optimizer = adamw(lr = 0.1, weight_decay = 0.5)", &o, 3);
}

/* adamw without weight_decay: torch's default 0.01 */
static void test_adamw_default_decay(void **state) {
  RefOpt o = {R_ADAMW, .lr = 0.001, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .wd = 0.01};
  check_against_reference("adamwdef", "optimizer = adamw", &o, 2);
}

static void test_rmsprop(void **state) {
  RefOpt o = {R_RMSPROP, .lr = 0.01, .alpha = 0.99, .eps = 1e-8, .wd = 0.5};
  check_against_reference("rms", "optimizer = rmsprop  weight_decay = 0.5", &o, 3);
}

static void test_rmsprop_momentum(void **state) {
  RefOpt o = {R_RMSPROP, .lr = 0.05, .alpha = 0.9, .eps = 0.01, .momentum = 0.5};
  check_against_reference("rmsmom", "optimizer = rmsprop(lr = 0.05, alpha = 0.9, eps = 0.01, "
                          "momentum = 0.5)", &o, 3);
}

/* Nesterov by hand, lr 0.1, mu 0.9, no decay, bias element 0 (g = -1/2):
 *   step 1: v = -0.5, w -= 0.1 (-0.5 + 0.9 (-0.5)) = 0.5 + 0.095 = 0.595
 *   step 2: v = 0.9 (-0.5) - 0.5 = -0.95, w -= 0.1 (-0.5 - 0.855) = 0.595 + 0.1355 = 0.7305 */
static void test_sgd_nesterov(void **state) {
  RefOpt o = {R_SGD, .lr = 0.1, .momentum = 0.9, .nesterov = true, .wd = 0.5};
  check_against_reference("nesterov", "optimizer = sgd(lr = 0.1, momentum = 0.9, nesterov = true)"
                          "  weight_decay = 0.5", &o, 2);
  Result r = run_opt("nesterov0", "", "optimizer = sgd(lr = 0.1, momentum = 0.9, nesterov = true)",
                     2, 0.1);
  const Vec *vb = get(r.param, r.nparam, "out.bias");
  expect_near("out.bias", 0, vb->v[0], 0.7305, 1e-12);
}

/* Dampening: the buffer starts as g (no dampening at the first step) */
static void test_sgd_dampening(void **state) {
  RefOpt o = {R_SGD, .lr = 0.1, .momentum = 0.9, .dampening = 0.5, .wd = 0.5};
  check_against_reference("damp", "optimizer = sgd(lr = 0.1, momentum = 0.9, dampening = 0.5)"
                          "  weight_decay = 0.5", &o, 3);
}

/* clip_value = 0.75, lr 1, plain sgd: g_W clamped to [[-0.5, 0.5],
 * [-0.75, 0.75]], g_b to (-0.5, -0.75):
 *   W1 = [[1.5, 1.5], [3.75, 3.25]], b1 = (1, 0.25) */
static void test_clip_value(void **state) {
  Result r = run_opt("clipv", "", "optimizer = sgd(lr = 1)  clip_value = 0.75", 1, 1);
  const double w[4] = {1.5, 1.5, 3.75, 3.25}, b[2] = {1, 0.25};
  expect_rel(&r, "out.weight", w, 4);
  expect_rel(&r, "out.bias", b, 2);
}

/* clip_value, then clip (norm) over the clamped gradients, then decay:
 * the clamped vector above has squared norm 3 (0.25) + 3 (0.5625) =
 * 2.4375; scaled by 0.5 / (sqrt(2.4375) + 1e-6). */
static void test_clip_value_then_norm(void **state) {
  Result r = run_opt("clipvn", "", "optimizer = sgd(lr = 1)  clip_value = 0.75  clip = 0.5  "
                     "weight_decay = 0.5", 1, 1);
  const double cw[4] = {-0.5, 0.5, -0.75, 0.75}, cb[2] = {-0.5, -0.75};
  double s = 0.5 / (sqrt(2.4375) + 1e-6), w[4], b[2];
  for (int i = 0; i < 4; i++)
    w[i] = W0[i] - (cw[i] * s + 0.5 * W0[i]);
  for (int i = 0; i < 2; i++)
    b[i] = B0[i] - cb[i] * s;
  expect_rel(&r, "out.weight", w, 4);
  expect_rel(&r, "out.bias", b, 2);
}

/* The layer's weight_decay = 0.25 wins over the train block's 0.5:
 *   W1 = W0 - 0.1 (g_W + 0.25 W0) = [[1 + 0.05 - 0.025, 2 - 0.05 - 0.05],
 *        [3 + 0.1 - 0.075, 4 - 0.1 - 0.1]] = [[1.025, 1.9], [3.025, 3.8]];
 *   the bias is not decayed: b1 = (0.55, -0.4) */
static void test_layer_weight_decay(void **state) {
  Result r = run_opt("layerwd", ", weight_decay = 0.25", "optimizer = sgd(lr = 0.1)  "
                     "weight_decay = 0.5", 1, 0.1);
  const double w[4] = {1.025, 1.9, 3.025, 3.8}, b[2] = {0.55, -0.4};
  expect_rel(&r, "out.weight", w, 4);
  expect_rel(&r, "out.bias", b, 2);
}

/* The perceptron rule, three samples in one batch, lr 0.5:
 *   w = (1, -1), b = 0
 *   x = (1, 0):  z = 1,  yhat = 1, y = 0: error y - yhat = -1
 *   x = (0, 1):  z = -1, yhat = 0, y = 1: error +1
 *   x = (1, 1):  z = 0,  yhat = 0 (step(0) = 0), y = 0: error 0
 * gradient (yhat - y) x summed: d w = -((-1)(1, 0) + (1)(0, 1)) = (1, -1),
 *   d b = -(-1 + 1 + 0) = 0
 * step: w = (1, -1) + 0.5 ((-1)(1, 0) + (0, 1)) = (0.5, -0.5), b = 0;
 * loss = mean (y - yhat)^2 = 2/3 (the error rate), correct 1 of 3 */
static void test_perceptron(void **state) {
  Result r = run_model("perceptron",
                       "input x[2]\nlabel y : real[1]\n"
                       "layer out = dense(x, 1, activation = step)\n"
                       "loss mse(out, y)\n"
                       "train { optimizer = perceptron(lr = 0.5) }\n",
                       "3\n1 -1\n0\n1 0 0 1 1 1\n0 1 0\n1 0.5\n");
  expect_near("loss", 0, r.loss, 2.0 / 3, 1e-12);
  expect_near("correct", 0, r.correct, 1, 0);
  EXPECT_GRAD(r, "out.weight", 1, -1);
  EXPECT_GRAD(r, "out.bias", 0);
  EXPECT_PARAM(r, "out.weight", 0.5, -0.5);
  EXPECT_PARAM(r, "out.bias", 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_adam_first_step),   cmocka_unit_test(test_adam_l2),
      cmocka_unit_test(test_adamw),             cmocka_unit_test(test_adamw_default_decay),
      cmocka_unit_test(test_rmsprop),           cmocka_unit_test(test_rmsprop_momentum),
      cmocka_unit_test(test_sgd_nesterov),      cmocka_unit_test(test_sgd_dampening),
      cmocka_unit_test(test_clip_value),        cmocka_unit_test(test_clip_value_then_norm),
      cmocka_unit_test(test_layer_weight_decay), cmocka_unit_test(test_perceptron),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
