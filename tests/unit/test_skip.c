/* test_skip.c — add, concat, fan-out and activity_l1: the generated C
 * against arithmetic done by hand, and the shape of the backward IR.
 *
 * The trainer tests build each tiny model with trainer_harness.h (as
 * test_emit.c does: -DNN_REAL=double, a driver that sets the parameters,
 * runs forward and backward and prints loss, output and gradients).  The
 * expected numbers are worked out in the comments, independently of the
 * compiler and of gradcheck.
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

#define HARNESS_NAME "test_skip"
#include "trainer_harness.h"

/* add with relu, one sample:
 *   x = (1, 2);  a = W_a x + b_a with W_a = I, b_a = 0:  a = (1, 2)
 *   b = W_b x + b_b with W_b = [[1, 1], [1, -1]], b_b = (0, -2):
 *       b = (1 + 2, 1 - 2 - 2) = (3, -3)
 *   s = relu(a + b) = relu(4, -1) = (4, 0);  y = (2, 1)
 *   loss = ((4 - 2)^2 + (0 - 1)^2) / 2 = 2.5
 *   ds = 2 (s - y) / 2 = (2, -1);  through the relu: (2, 0) = da = db
 *   dW_a = dW_b = da x^T = [[2, 4], [0, 0]];  db_a = db_b = (2, 0) */
static void test_add_relu(void **state) {
  Result r = run_model("addrelu",
                       "input x[2]\nlabel y : real[2]\n"
                       "layer a = dense(x, 2)\n"
                       "layer b = dense(x, 2)\n"
                       "layer s = add(a, b, activation = relu)\n"
                       "loss mse(s, y)\n",
                       "1\n1 0 0 1\n0 0\n1 1 1 -1\n0 -2\n1 2\n2 1\n0 0\n");
  expect_near("loss", 0, r.loss, 2.5, 1e-12);
  EXPECT_OUTPUT(r, 4, 0);
  EXPECT_GRAD(r, "a.weight", 2, 4, 0, 0);
  EXPECT_GRAD(r, "a.bias", 2, 0);
  EXPECT_GRAD(r, "b.weight", 2, 4, 0, 0);
  EXPECT_GRAD(r, "b.bias", 2, 0);
}

/* A residual: s = a + dense(a), so a's gradient is the sum of the add's
 * and the dense layer's.  One sample, all 1-wide:
 *   x = 3;  a = 2 x = 6;  r = -0.5 a + 1 = -2;  s = a + r = 4;  y = 1
 *   loss = (4 - 1)^2 = 9;  ds = 2 (4 - 1) = 6
 *   dr = 6:  d r.weight = dr a = 36, d r.bias = 6
 *   da = ds + dr (-0.5) = 6 - 3 = 3:  d a.weight = da x = 9, d a.bias = 3 */
static void test_residual_fanout(void **state) {
  Result r = run_model("residual",
                       "input x[1]\nlabel y : real[1]\n"
                       "layer a = dense(x, 1)\n"
                       "layer r = dense(a, 1)\n"
                       "layer s = add(a, r)\n"
                       "loss mse(s, y)\n",
                       "1\n2\n0\n-0.5\n1\n3\n1\n0 0\n");
  expect_near("loss", 0, r.loss, 9, 1e-12);
  EXPECT_OUTPUT(r, 4);
  EXPECT_GRAD(r, "r.weight", 36);
  EXPECT_GRAD(r, "r.bias", 6);
  EXPECT_GRAD(r, "a.weight", 9);
  EXPECT_GRAD(r, "a.bias", 3);
}

/* concat of the input and a layer of it (the input read twice), two rows:
 *   a = x0 + x1;  c = (x0, x1, a);  out = (1, 2, 3) . c + 0.5 = 4 x0 + 5 x1 + 0.5
 *   rows x = (1, 0), (0, 1):  out = 4.5, 5.5;  y = 4, 6
 *   loss = (0.5^2 + 0.5^2) / 2 = 0.25;  dout = 2 (out - y) / 2 = (0.5, -0.5)
 *   d out.weight = 0.5 (1, 0, 1) - 0.5 (0, 1, 1) = (0.5, -0.5, 0);  d out.bias = 0
 *   da = 3 dout = (1.5, -1.5):  d a.weight = 1.5 (1, 0) - 1.5 (0, 1) = (1.5, -1.5),
 *   d a.bias = 0 */
static void test_concat_vectors(void **state) {
  Result r = run_model("concatvec",
                       "input x[2]\nlabel y : real[1]\n"
                       "layer a = dense(x, 1)\n"
                       "layer c = concat(x, a)\n"
                       "layer out = dense(c, 1)\n"
                       "loss mse(out, y)\n",
                       "2\n1 1\n0\n1 2 3\n0.5\n1 0 0 1\n4 6\n0 0\n");
  expect_near("loss", 0, r.loss, 0.25, 1e-12);
  EXPECT_OUTPUT(r, 4.5, 5.5);
  EXPECT_GRAD(r, "out.weight", 0.5, -0.5, 0);
  EXPECT_GRAD(r, "out.bias", 0);
  EXPECT_GRAD(r, "a.weight", 1.5, -1.5);
  EXPECT_GRAD(r, "a.bias", 0);
}

/* Channel concat of two 1x1 convolutions of a 1x2 image (channels last):
 *   x = (1, 2) (pixels 0 and 1, one channel)
 *   c1 = 2 x: pixel 0: 2, pixel 1: 4 (one channel)
 *   c2 = (x, 1 - x) (w = (1, -1), b = (0, 1)): pixel 0: (1, 0), pixel 1: (2, -1)
 *   cat (1, 2, 3) = pixel 0: (2, 1, 0), pixel 1: (4, 2, -1), flattened in that order
 *   out = (1, 10, 100, 1000, 10000, 100000) . flat
 *       = 2 + 10 + 0 + 4000 + 20000 - 100000 = -75988;  y = -75987: loss = 1
 *   dout = 2 (out - y) = -2;  dflat = -2 (1, 10, 100, 1000, 10000, 100000)
 *   dc1 = -2 (1, 1000) (pixels 0, 1):  d c1.weight = -2 (1 + 2000) = -4002,
 *     d c1.bias = -2002
 *   dc2 channel 0 = -2 (10, 10000):  d weight = -2 (10 + 20000) = -40020, d bias = -20020
 *   dc2 channel 1 = -2 (100, 100000): d weight = -2 (100 + 200000) = -400200,
 *     d bias = -200200 */
static void test_concat_channels(void **state) {
  Result r = run_model("concatch",
                       "input x[1, 2, 1]\nlabel y : real[1]\n"
                       "layer c1 = conv2d(x, 1, kernel = 1)\n"
                       "layer c2 = conv2d(x, 2, kernel = 1)\n"
                       "layer cat = concat(c1, c2)\n"
                       "layer flat = flatten(cat)\n"
                       "layer out = dense(flat, 1)\n"
                       "loss mse(out, y)\n",
                       "1\n2\n0\n1 -1\n0 1\n1 10 100 1000 10000 100000\n0\n1 2\n-75987\n0 0\n");
  expect_near("loss", 0, r.loss, 1, 1e-12);
  EXPECT_OUTPUT(r, -75988);
  EXPECT_GRAD(r, "out.weight", -4, -2, 0, -8, -4, 2);
  EXPECT_GRAD(r, "c1.weight", -4002);
  EXPECT_GRAD(r, "c1.bias", -2002);
  EXPECT_GRAD(r, "c2.weight", -40020, -400200);
  EXPECT_GRAD(r, "c2.bias", -20020, -200200);
}

/* activity_l1 = 0.5 on the output, two rows, mse 0 (targets = outputs):
 *   w = (2, -3), b = 0:  rows x = 1, 2:  out = (2, -3), (4, -6)
 *   loss = 0 + 0.5 (|2| + |-3| + |4| + |-6|) / nb = 0.5 * 15 / 2 = 3.75
 *   dout = 0.5 sign(out) / 2 = (0.25, -0.25) in both rows (mse adds 0)
 *   d w = 0.25 (1 + 2), -0.25 (1 + 2) = (0.75, -0.75);  d b = (0.5, -0.5) */
static void test_activity_l1(void **state) {
  Result r = run_model("activityl1",
                       "input x[1]\nlabel y : real[2]\n"
                       "layer out = dense(x, 2, activity_l1 = 0.5)\n"
                       "loss mse(out, y)\n",
                       "2\n2 -3\n0 0\n1 2\n2 -3 4 -6\n0 0\n");
  expect_near("loss", 0, r.loss, 3.75, 1e-12);
  EXPECT_OUTPUT(r, 2, -3, 4, -6);
  EXPECT_GRAD(r, "out.weight", 0.75, -0.75);
  EXPECT_GRAD(r, "out.bias", 0.5, -0.5);
}

/* The backward IR of a residual block: h has two readers (r1 and the add),
 * so the add gives it a copy of d_s_z that r1's matmul_nn then adds to; r2
 * has one (the add), so its gradient is d_s_z itself, a view. */
static void test_residual_ir(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[3]\n"
                          "layer h = dense(x, 3, activation = relu)\n"
                          "layer r1 = dense(h, 3, activation = relu)\n"
                          "layer r2 = dense(r1, 3)\n"
                          "layer s = add(h, r2, activation = relu)\n"
                          "loss mse(s, y)\n",
                          UPTO_MEMPLAN);
  IR *ir = c.ir;
  Value *dh = find_value(ir, "d_h"), *dr2 = find_value(ir, "d_r2"), *dsz = find_value(ir, "d_s_z");
  assert_non_null(dh);
  assert_non_null(dr2);
  assert_non_null(dsz);
  assert_int_equal(dr2->alias, dsz->id);
  Op *cp = find_op(ir, OP_COPY, "d_h");
  assert_non_null(cp);
  assert_false(cp->accumulate);
  assert_int_equal(cp->in[0], dsz->id);
  int writes = 0, adds = 0;
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].out == dh->id) {
      writes++;
      adds += ir->ops[i].accumulate;
      if (ir->ops[i].accumulate)
        assert_int_equal(ir->ops[i].kind, OP_MATMUL_NN);
    }
  assert_int_equal(writes, 2);
  assert_int_equal(adds, 1);
  compiled_free(&c);
}

/* Two dense layers reading one value share its row-major copy. */
static void test_shared_transpose(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[4]\n"
                          "layer h = dense(x, 2, activation = tanh)\n"
                          "layer a = dense(h, 2)\n"
                          "layer b = dense(h, 2)\n"
                          "layer cat = concat(a, b)\n"
                          "loss mse(cat, y)\n",
                          UPTO_MEMPLAN);
  int n = 0;
  for (int i = 0; i < c.ir->nops; i++)
    n += c.ir->ops[i].kind == OP_TRANSPOSE && !strcmp(c.ir->vals[c.ir->ops[i].in[0]]->name, "h");
  assert_int_equal(n, 1);
  assert_int_equal(count_ops(c.ir, OP_SLICE, PASS_BWD), 2);
  compiled_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_relu),         cmocka_unit_test(test_residual_fanout),
      cmocka_unit_test(test_concat_vectors),   cmocka_unit_test(test_concat_channels),
      cmocka_unit_test(test_activity_l1),      cmocka_unit_test(test_residual_ir),
      cmocka_unit_test(test_shared_transpose),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
