/* test_conv.c — conv2d, maxpool and avgpool in the generated C against
 * arithmetic done by hand.
 *
 * As in test_emit.c: each test compiles a tiny model through the API into
 * a temporary directory, builds it with -DNN_NO_MAIN -DNN_REAL=double and a
 * small driver against libnnrt.a, sets the parameters through the
 * descriptor (PyTorch's layout: a conv2d weight is [out][in][kh][kw]), runs
 * forward and backward and reads back loss, output and gradients.
 *
 * Conventions used in the comments below:
 *   - one sample's input is (H, W, C), and the driver's rows are row-major
 *     (h, w, c): an image x[r][c] with one channel is written row by row;
 *   - the model's output rows are (oh, ow, channel), the order `flatten`
 *     uses;
 *   - every loss is mse, L = sum (y - t)^2 / (B*D) over the B samples
 *     and D outputs; where a gradient is checked, the target is chosen
 *     as t = y - (B*D/2) g, so that dL/dy = 2 (y - t) / (B*D) is the g
 *     written down, and L = (B*D/4) sum g^2.
 *
 * Seeing an activation's gradient.  The gradients the driver reads are
 * those of parameters, so a pooling layer (which has none) or the input
 * side of a convolution is tested by making its input image out of
 * parameters: with a 1x1x1 input holding 1,
 *     img = conv2d(one, 1, kernel = K, padding = K - 1)
 * is a KxK image with img[r][s] = w_img[K-1-r][K-1-s] (+ bias 0): each
 * output pixel sees the single real input through exactly one weight.  So
 * w_img is the image turned by 180 degrees, and the gradient of img.weight
 * is dL/dimg turned by 180 degrees.
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

#define HARNESS_NAME "test_conv"
#include "trainer_harness.h"

/* ------------------------------------------------------ shapes, counts */

/* The lecture's LeNet: shapes and parameter counts per layer. */
static void test_lenet_shapes(void **state) {
  Compiled c = compile_ok("input image[28, 28, 1]\nlabel y : int[10]\n"
                          "layer c1 = conv2d(image, 20, kernel = 5, activation = relu)\n"
                          "layer p1 = maxpool(c1, kernel = 2)\n"
                          "layer c2 = conv2d(p1, 50, kernel = 5, activation = relu)\n"
                          "layer p2 = maxpool(c2, kernel = 2)\n"
                          "layer flat = flatten(p2)\n"
                          "layer fc = dense(flat, 500, activation = relu)\n"
                          "layer out = dense(fc, 10, activation = softmax)\n"
                          "loss cross_entropy(out, y)\n",
                          UPTO_SHAPE);
  static const struct {
    const char *name;
    int ndim, d[3];
    long nparams;
  } want[] = {
      {"c1", 3, {24, 24, 20}, 20 * 1 * 5 * 5 + 20},   /* 520 */
      {"p1", 3, {12, 12, 20}, 0},
      {"c2", 3, {8, 8, 50}, 50 * 20 * 5 * 5 + 50},    /* 25050 */
      {"p2", 3, {4, 4, 50}, 0},
      {"flat", 1, {800}, 0},
      {"fc", 1, {500}, 800 * 500 + 500},             /* 400500 */
      {"out", 1, {10}, 500 * 10 + 10},               /* 5010 */
  };
  long total = 0;
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    Layer *l = find_layer(c.m, want[i].name);
    assert_non_null(l);
    assert_int_equal(l->shape.ndim, want[i].ndim);
    for (int k = 0; k < want[i].ndim; k++)
      assert_int_equal(l->shape.dims[k], want[i].d[k]);
    assert_int_equal(l->nparams, want[i].nparams);
    total += l->nparams;
  }
  assert_int_equal(total, 431080);
  compiled_free(&c);
}

/* ------------------------------------------------------- convolution */

/* (a) 4x4x1 input, one 2x2 filter, stride 1, valid: a 3x3 output.
 *
 *   x = 1 2 0 1      w = 1  2      b = 0.5
 *       0 1 3 2          0 -1
 *       2 0 1 1
 *       1 3 0 2
 *   y[i][j] = x[i][j] + 2 x[i][j+1] + 0 x[i+1][j] - x[i+1][j+1] + 0.5
 *   row 0: 1 + 4 - 1 + .5 = 4.5    2 + 0 - 3 + .5 = -0.5   0 + 2 - 2 + .5 = 0.5
 *   row 1: 0 + 2 - 0 + .5 = 2.5    1 + 6 - 1 + .5 =  6.5   3 + 4 - 1 + .5 = 6.5
 *   row 2: 2 + 0 - 3 + .5 = -0.5   0 + 2 - 0 + .5 =  2.5   1 + 2 - 2 + .5 = 1.5
 * A second sample, x + 1 everywhere, adds (1 + 2 + 0 - 1) = 2 to every
 * output (nb = 2: the batch columns must not mix).  Target 0, so
 *   L = (sum of squares of both outputs) / (2 * 9):
 *   sample 1: 20.25 + .25 + .25 + 6.25 + 42.25 + 42.25 + .25 + 6.25 + 2.25 = 120.25
 *   sample 2: 42.25 + 2.25 + 6.25 + 20.25 + 72.25 + 72.25 + 2.25 + 20.25 + 12.25 = 250.25
 *   L = 370.5 / 18 = 20.583333...
 * With relu, the two -0.5 become 0. */
#define X_A "1 2 0 1 0 1 3 2 2 0 1 1 1 3 0 2\n"
#define X_A1 "2 3 1 2 1 2 4 3 3 1 2 2 2 4 1 3\n"

static void test_conv_valid_s1(void **state) {
  Result r = run_model("conv_a",
                       "input x[4, 4, 1]\nlabel y : real[3, 3, 1]\n"
                       "layer c = conv2d(x, 1, kernel = 2)\n"
                       "loss mse(c, y)\n",
                       "2\n1 2 0 -1\n0.5\n" X_A X_A1
                       "0 0 0 0 0 0 0 0 0  0 0 0 0 0 0 0 0 0\n0 0\n");
  EXPECT_OUTPUT(r, 4.5, -0.5, 0.5, 2.5, 6.5, 6.5, -0.5, 2.5, 1.5, /* sample 1 */
                6.5, 1.5, 2.5, 4.5, 8.5, 8.5, 1.5, 4.5, 3.5);    /* sample 2 */
  expect_near("loss", 0, r.loss, 370.5 / 18, 1e-12);

  r = run_model("conv_a_relu",
                "input x[4, 4, 1]\nlabel y : real[3, 3, 1]\n"
                "layer c = conv2d(x, 1, kernel = 2, stride = 1, padding = valid, "
                "activation = relu)\n"
                "loss mse(c, y)\n",
                "1\n1 2 0 -1\n0.5\n" X_A "0 0 0 0 0 0 0 0 0\n0 0\n");
  EXPECT_OUTPUT(r, 4.5, 0, 0.5, 2.5, 6.5, 6.5, 0, 2.5, 1.5);
}

/* (b) The same with stride 2: OH = floor((4 - 2) / 2) + 1 = 2; the outputs
 * at (0,0), (0,2), (2,0), (2,2) of (a): 4.5, 0.5, -0.5, 1.5.
 * The weight gradient, with g = dL/dy = [[1, 0], [0, 2]]
 * (B*D/2 = 2: t = y - 2g = (2.5, 0.5, -0.5, -2.5)):
 *   L = (2^2 + 4^2) / 4 = 5
 *   dw[kh][kw] = sum g[i][j] x[2i+kh][2j+kw] = 1 x[kh][kw] + 2 x[2+kh][2+kw]
 *              = [[1, 2], [0, 1]] + 2 [[1, 1], [0, 2]] = [[3, 4], [0, 5]]
 *   db = sum g = 3 */
static void test_conv_valid_s2(void **state) {
  Result r = run_model("conv_b",
                       "input x[4, 4, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer c = conv2d(x, 1, kernel = [2, 2], stride = 2)\n"
                       "loss mse(c, y)\n",
                       "1\n1 2 0 -1\n0.5\n" X_A "2.5 0.5 -0.5 -2.5\n0 0\n");
  EXPECT_OUTPUT(r, 4.5, 0.5, -0.5, 1.5);
  expect_near("loss", 0, r.loss, 5, 1e-12);
  EXPECT_GRAD(r, "c.weight", 3, 4, 0, 5);
  EXPECT_GRAD(r, "c.bias", 3);
}

/* (c) padding = same, stride 1, on a 3x3 input with a 3x3 kernel: one row
 * or column of zeros on every side, a 3x3 output; no bias.
 *   x = 1 2 3     w = 1  0 0
 *       4 5 6         0  0 2
 *       7 8 9         0 -1 0
 *   y[i][j] = x[i-1][j-1] + 2 x[i][j+1] - x[i+1][j]   (0 outside)
 *   (0,0): 0 + 4 - 4 = 0     (0,1): 0 + 6 - 5 = 1     (0,2): 0 + 0 - 6 = -6
 *   (1,0): 0 + 10 - 7 = 3    (1,1): 1 + 12 - 8 = 5    (1,2): 2 + 0 - 9 = -7
 *   (2,0): 0 + 16 - 0 = 16   (2,1): 4 + 18 - 0 = 22   (2,2): 5 + 0 - 0 = 5 */
#define X_9 "1 2 3 4 5 6 7 8 9\n"

static void test_conv_same_odd(void **state) {
  Result r = run_model("conv_c",
                       "input x[3, 3, 1]\nlabel y : real[3, 3, 1]\n"
                       "layer c = conv2d(x, 1, kernel = 3, padding = same, bias = false)\n"
                       "loss mse(c, y)\n",
                       "1\n1 0 0 0 0 2 0 -1 0\n" X_9 "0 0 0 0 0 0 0 0 0\n0 0\n");
  assert_int_equal(r.ngrad, 1); /* c.weight only */
  EXPECT_OUTPUT(r, 0, 1, -6, 3, 5, -7, 16, 22, 5);
}

/* padding = same with an even kernel: 3x3 input, 2x2 kernel, stride 1: one
 * row of padding in all, which goes below (and one column, to the right),
 * as TensorFlow does.
 *   y[i][j] = x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1]  (0 outside)
 *   (0,0): 1 + 4 + 12 + 20 = 37   (0,1): 2 + 6 + 15 + 24 = 47   (0,2): 3 + 18 = 21
 *   (1,0): 4 + 10 + 21 + 32 = 67  (1,1): 5 + 12 + 24 + 36 = 77  (1,2): 6 + 27 = 33
 *   (2,0): 7 + 16 = 23            (2,1): 8 + 18 = 26            (2,2): 9
 * (Padding above and to the left instead would give (0,0) = 4 x[0][0] = 4.)
 *
 * Stride 2: 4x4 input (x of (a)), 3x3 kernel of ones: OH = ceil(4/2) = 2,
 * padding (2-1)*2 + 3 - 4 = 1 row, below: windows rows 0-2 and 2-3(+pad),
 * columns likewise; y = the window's sum:
 *   (0,0): 1+2+0 + 0+1+3 + 2+0+1 = 10    (0,1): 0+1 + 3+2 + 1+1 = 8
 *   (1,0): 2+0+1 + 1+3+0 = 7             (1,1): 1+1 + 0+2 = 4 */
static void test_conv_same_even(void **state) {
  Result r = run_model("conv_c2",
                       "input x[3, 3, 1]\nlabel y : real[3, 3, 1]\n"
                       "layer c = conv2d(x, 1, kernel = 2, padding = same)\n"
                       "loss mse(c, y)\n",
                       "1\n1 2 3 4\n0\n" X_9 "0 0 0 0 0 0 0 0 0\n0 0\n");
  EXPECT_OUTPUT(r, 37, 47, 21, 67, 77, 33, 23, 26, 9);

  r = run_model("conv_c3",
                "input x[4, 4, 1]\nlabel y : real[2, 2, 1]\n"
                "layer c = conv2d(x, 1, kernel = 3, stride = 2, padding = same)\n"
                "loss mse(c, y)\n",
                "1\n1 1 1 1 1 1 1 1 1\n0\n" X_A "0 0 0 0\n0 0\n");
  EXPECT_OUTPUT(r, 10, 8, 7, 4);
}

/* (d) 2 input channels, 2 filters, 2x2 kernel, valid: 3x3x2 -> 2x2x2.
 *   channel 0: x0 = 1 2 3    channel 1: x1 =  1 0 -1
 *                   4 5 6                    0 2  0
 *                   7 8 9                   -1 0  1
 *   the input row, (h, w, c): 1 1  2 0  3 -1  4 0  5 2  6 0  7 -1  8 0  9 1
 *   w[0][0] = [[1, 0], [0, 0]]   w[0][1] = [[0, 0], [0, 1]]    b[0] = 1
 *   w[1][0] = [[0, 1], [-1, 0]]  w[1][1] = [[2, 0], [0, 0]]    b[1] = -1
 *   y0[i][j] = x0[i][j] + x1[i+1][j+1] + 1
 *     (0,0): 1 + 2 + 1 = 4   (0,1): 2 + 0 + 1 = 3   (1,0): 4 + 0 + 1 = 5   (1,1): 5 + 1 + 1 = 7
 *   y1[i][j] = x0[i][j+1] - x0[i+1][j] + 2 x1[i][j] - 1
 *     (0,0): 2 - 4 + 2 - 1 = -1   (0,1): 3 - 5 + 0 - 1 = -3
 *     (1,0): 5 - 7 + 0 - 1 = -3   (1,1): 6 - 8 + 4 - 1 = 1
 *   output (h, w, c): 4 -1  3 -3  5 -3  7 1
 * Gradient: g0 = [[1, 0], [0, 0]], g1 = [[0, 0], [0, -1]] (B*D/2 = 4:
 * t = y - 4g = (0, -1, 3, -3, 5, -3, 7, 5)); L = (4^2 + 4^2) / 8 = 4.
 *   dw[o][c][kh][kw] = sum_ij g_o[i][j] x_c[i+kh][j+kw]
 *   dw[0][c] = x_c[kh][kw]:        [[1, 2], [4, 5]],  [[1, 0], [0, 2]]
 *   dw[1][c] = -x_c[1+kh][1+kw]:   [[-5, -6], [-8, -9]],  [[-2, 0], [0, -1]]
 *   db = (1, -1) */
#define W_D "1 0 0 0  0 0 0 1  0 1 -1 0  2 0 0 0\n1 -1\n"
#define X_D "1 1  2 0  3 -1  4 0  5 2  6 0  7 -1  8 0  9 1\n"

static void test_conv_multichannel(void **state) {
  Result r = run_model("conv_d",
                       "input x[3, 3, 2]\nlabel y : real[2, 2, 2]\n"
                       "layer c = conv2d(x, 2, kernel = 2)\n"
                       "loss mse(c, y)\n",
                       "1\n" W_D X_D "0 -1 3 -3 5 -3 7 5\n0 0\n");
  EXPECT_OUTPUT(r, 4, -1, 3, -3, 5, -3, 7, 1);
  expect_near("loss", 0, r.loss, 4, 1e-12);
  EXPECT_GRAD(r, "c.weight", 1, 2, 4, 5, 1, 0, 0, 2, -5, -6, -8, -9, -2, 0, 0, -1);
  EXPECT_GRAD(r, "c.bias", 1, -1);
}

/* flatten after a convolution takes (h, w, c) order: a dense unit with
 * weights 1..8 over the output of (d):
 *   1*4 + 2*(-1) + 3*3 + 4*(-3) + 5*5 + 6*(-3) + 7*7 + 8*1 = 63
 * ((c, h, w) order would give 1*4 + 2*3 + 3*5 + 4*7 + 5*(-1) + 6*(-3) + 7*(-3) + 8*1 = 17.) */
static void test_conv_flatten_order(void **state) {
  Result r = run_model("conv_flat",
                       "input x[3, 3, 2]\nlabel y : real[1]\n"
                       "layer c = conv2d(x, 2, kernel = 2)\n"
                       "layer f = flatten(c)\n"
                       "layer out = dense(f, 1, bias = false)\n"
                       "loss mse(out, y)\n",
                       "1\n" W_D "1 2 3 4 5 6 7 8\n" X_D "0\n0 0\n");
  EXPECT_OUTPUT(r, 63);
}

/* The input gradient of a convolution, stride 1.  img (3x3, made of
 * parameters as explained at the top) = x of (c): w_img = the image turned
 * by 180 degrees = [[9, 8, 7], [6, 5, 4], [3, 2, 1]].
 *   c = conv2d(img, 1, kernel 2), w = [[1, 2], [3, 4]], b = 0:
 *   y = (37, 47, 67, 77) (as in (c) with even kernel, rows 0-1)
 *   g = [[1, 0], [0, -1]] (t = y - 2g = (35, 47, 67, 79)); L = (4 + 4) / 4 = 2
 *   c.weight grad = img[kh][kw] - img[1+kh][1+kw] = [[-4, -4], [-4, -4]];  c.bias: 0
 *   dimg[r][s] = sum_ij g[i][j] w[r-i][s-j] = w[r][s] - w[r-1][s-1]:
 *     dimg = [[1, 2, 0], [3, 4 - 1, -2], [0, -3, -4]] = [[1, 2, 0], [3, 3, -2], [0, -3, -4]]
 *   img.weight grad = dimg turned = [[-4, -3, 0], [-2, 3, 3], [0, 2, 1]];
 *   img.bias grad = sum dimg = 0 */
static void test_conv_input_grad_s1(void **state) {
  Result r = run_model("conv_dx1",
                       "input one[1, 1, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer img = conv2d(one, 1, kernel = 3, padding = 2)\n"
                       "layer c = conv2d(img, 1, kernel = 2)\n"
                       "loss mse(c, y)\n",
                       "1\n9 8 7 6 5 4 3 2 1\n0\n1 2 3 4\n0\n1\n35 47 67 79\n0 0\n");
  EXPECT_OUTPUT(r, 37, 47, 67, 77);
  expect_near("loss", 0, r.loss, 2, 1e-12);
  EXPECT_GRAD(r, "c.weight", -4, -4, -4, -4);
  EXPECT_GRAD(r, "c.bias", 0);
  EXPECT_GRAD(r, "img.weight", -4, -3, 0, -2, 3, 3, 0, 2, 1);
  EXPECT_GRAD(r, "img.bias", 0);
}

/* The input gradient with stride 2: img (4x4) = x of (a), so
 * w_img = [[2, 0, 3, 1], [1, 1, 0, 2], [2, 3, 1, 0], [1, 0, 2, 1]];
 *   c = conv2d(img, 1, kernel 2, stride 2), w = [[1, 2], [3, 4]], b = 0:
 *   (0,0): 1 + 4 + 0 + 4 = 9     (0,1): 0 + 2 + 9 + 8 = 19
 *   (1,0): 2 + 0 + 3 + 12 = 17   (1,1): 1 + 2 + 0 + 8 = 11
 *   g = [[1, 0], [0, -1]] (t = y - 2g = (7, 19, 17, 13)); L = 2
 *   c.weight grad = img[kh][kw] - img[2+kh][2+kw] = [[1-1, 2-1], [0-0, 1-2]] = [[0, 1], [0, -1]]
 *   the windows do not overlap: dimg[2i+kh][2j+kw] = g[i][j] w[kh][kw]:
 *     dimg = [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, -1, -2], [0, 0, -3, -4]]
 *   img.weight grad = dimg turned = [[-4, -3, 0, 0], [-2, -1, 0, 0], [0, 0, 4, 3], [0, 0, 2, 1]]
 *   img.bias grad = 0 */
static void test_conv_input_grad_s2(void **state) {
  Result r = run_model("conv_dx2",
                       "input one[1, 1, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer img = conv2d(one, 1, kernel = 4, padding = 3)\n"
                       "layer c = conv2d(img, 1, kernel = 2, stride = 2)\n"
                       "loss mse(c, y)\n",
                       "1\n2 0 3 1 1 1 0 2 2 3 1 0 1 0 2 1\n0\n1 2 3 4\n0\n1\n7 19 17 13\n0 0\n");
  EXPECT_OUTPUT(r, 9, 19, 17, 11);
  expect_near("loss", 0, r.loss, 2, 1e-12);
  EXPECT_GRAD(r, "c.weight", 0, 1, 0, -1);
  EXPECT_GRAD(r, "c.bias", 0);
  EXPECT_GRAD(r, "img.weight", -4, -3, 0, 0, -2, -1, 0, 0, 0, 0, 4, 3, 0, 0, 2, 1);
  EXPECT_GRAD(r, "img.bias", 0);
}

/* ----------------------------------------------------------- pooling */

/* (e) maxpool 2x2 (stride 2) on a 4x4 image with ties, and its backward.
 *   img = 1  3 | 2  2       windows:  {1, 3, 0, 2}  max 3 at (0,1)
 *         0  2 | 2  1                 {2, 2, 2, 1}  max 2 at (0,2), (0,3), (1,2):
 *         -----+-----                               the first in (kh, kw) order, (0,2)
 *         5 -1 | 0  0                 {5, -1, 4, 5} max 5 at (2,0), (3,1): (2,0)
 *         4  5 | 0 -2                 {0, 0, 0, -2} max 0 at (2,2), (2,3), (3,2): (2,2)
 *   p = [[3, 2], [5, 0]]
 *   w_img = img turned = [[-2, 0, 5, 4], [0, 0, -1, 5], [1, 2, 2, 0], [2, 2, 3, 1]]
 *   g = dL/dp = [[1, 2], [3, 4]] (t = p - 2g = (1, -2, -1, -8));
 *   L = (4 + 16 + 36 + 64) / 4 = 30
 *   dimg: 1 at (0,1), 2 at (0,2), 3 at (2,0), 4 at (2,2), 0 elsewhere
 *       = [[0, 1, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
 *   img.weight grad = dimg turned = [[0, 0, 0, 0], [0, 4, 0, 3], [0, 0, 0, 0], [0, 2, 1, 0]]
 *   img.bias grad = 1 + 2 + 3 + 4 = 10 */
static void test_maxpool_ties(void **state) {
  Result r = run_model("maxpool_e",
                       "input one[1, 1, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer img = conv2d(one, 1, kernel = 4, padding = 3)\n"
                       "layer p = maxpool(img, kernel = 2)\n"
                       "loss mse(p, y)\n",
                       "1\n-2 0 5 4 0 0 -1 5 1 2 2 0 2 2 3 1\n0\n1\n1 -2 -1 -8\n0 0\n");
  EXPECT_OUTPUT(r, 3, 2, 5, 0);
  expect_near("loss", 0, r.loss, 30, 1e-12);
  EXPECT_GRAD(r, "img.weight", 0, 0, 0, 0, 0, 4, 0, 3, 0, 0, 0, 0, 0, 2, 1, 0);
  EXPECT_GRAD(r, "img.bias", 10);
}

/* maxpool with padding: padding never wins, even over negative inputs.
 *   img = -1 -2 -3    kernel 2, stride 2, padding 1: OH = (3 + 2 - 2)/2 + 1 = 2;
 *         -4 -5 -6    windows rows {-1, 0}, {1, 2}, columns likewise:
 *         -7 -8 -9    (0,0): {-1} = -1         (0,1): {-2, -3} = -2
 *                     (1,0): {-4, -7} = -4     (1,1): {-5, -6, -8, -9} = -5
 *   (zeros in the padding would make the first three 0)
 *   w_img = [[-9, -8, -7], [-6, -5, -4], [-3, -2, -1]]
 *   g = [[1, 2], [3, 4]] (t = p - 2g = (-3, -6, -10, -13)); L = 30
 *   dimg = [[1, 2, 0], [3, 4, 0], [0, 0, 0]];
 *   img.weight grad = [[0, 0, 0], [0, 4, 3], [0, 2, 1]]; img.bias grad = 10 */
static void test_maxpool_padding(void **state) {
  Result r = run_model("maxpool_pad",
                       "input one[1, 1, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer img = conv2d(one, 1, kernel = 3, padding = 2)\n"
                       "layer p = maxpool(img, kernel = 2, stride = 2, padding = 1)\n"
                       "loss mse(p, y)\n",
                       "1\n-9 -8 -7 -6 -5 -4 -3 -2 -1\n0\n1\n-3 -6 -10 -13\n0 0\n");
  EXPECT_OUTPUT(r, -1, -2, -4, -5);
  expect_near("loss", 0, r.loss, 30, 1e-12);
  EXPECT_GRAD(r, "img.weight", 0, 0, 0, 0, 4, 3, 0, 2, 1);
  EXPECT_GRAD(r, "img.bias", 10);
}

/* (f) avgpool 2x2 on the image of (e): the gradient spreads evenly.
 *   p = [[(1+3+0+2)/4, (2+2+2+1)/4], [(5-1+4+5)/4, (0+0+0-2)/4]]
 *     = [[1.5, 1.75], [3.25, -0.5]]
 *   g = [[1, 2], [3, 4]] (t = p - 2g = (-0.5, -2.25, -2.75, -8.5)); L = 30
 *   dimg = g / 4 over each window:
 *     [[.25, .25, .5, .5], [.25, .25, .5, .5], [.75, .75, 1, 1], [.75, .75, 1, 1]]
 *   img.weight grad = dimg turned:
 *     [[1, 1, .75, .75], [1, 1, .75, .75], [.5, .5, .25, .25], [.5, .5, .25, .25]]
 *   img.bias grad = 4 (.25 + .5 + .75 + 1) = 10 */
static void test_avgpool(void **state) {
  Result r = run_model("avgpool_f",
                       "input one[1, 1, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer img = conv2d(one, 1, kernel = 4, padding = 3)\n"
                       "layer p = avgpool(img, kernel = 2)\n"
                       "loss mse(p, y)\n",
                       "1\n-2 0 5 4 0 0 -1 5 1 2 2 0 2 2 3 1\n0\n1\n-0.5 -2.25 -2.75 -8.5\n0 0\n");
  EXPECT_OUTPUT(r, 1.5, 1.75, 3.25, -0.5);
  expect_near("loss", 0, r.loss, 30, 1e-12);
  EXPECT_GRAD(r, "img.weight", 1, 1, .75, .75, 1, 1, .75, .75, .5, .5, .25, .25, .5, .5, .25,
              .25);
  EXPECT_GRAD(r, "img.bias", 10);
}

/* avgpool with padding divides by kh*kw = 4 always (padding counts as 0).
 *   img = x of (c) (1..9), kernel 2, stride 2, padding 1: 2x2
 *   (0,0): 1/4 = .25   (0,1): (2 + 3)/4 = 1.25   (1,0): (4 + 7)/4 = 2.75
 *   (1,1): (5 + 6 + 8 + 9)/4 = 7
 *   g = [[1, 2], [3, 4]] (t = p - 2g = (-1.75, -2.75, -3.25, -1)); L = 30
 *   dimg = [[1/4, 2/4, 2/4], [3/4, 1, 1], [3/4, 1, 1]]
 *   img.weight grad = [[1, 1, .75], [1, 1, .75], [.5, .5, .25]]
 *   img.bias grad = .25 + 1 + 1.5 + 4 = 6.75 */
static void test_avgpool_padding(void **state) {
  Result r = run_model("avgpool_pad",
                       "input one[1, 1, 1]\nlabel y : real[2, 2, 1]\n"
                       "layer img = conv2d(one, 1, kernel = 3, padding = 2)\n"
                       "layer p = avgpool(img, kernel = 2, stride = 2, padding = 1)\n"
                       "loss mse(p, y)\n",
                       "1\n9 8 7 6 5 4 3 2 1\n0\n1\n-1.75 -2.75 -3.25 -1\n0 0\n");
  EXPECT_OUTPUT(r, .25, 1.25, 2.75, 7);
  expect_near("loss", 0, r.loss, 30, 1e-12);
  EXPECT_GRAD(r, "img.weight", 1, 1, .75, 1, 1, .75, .5, .5, .25);
  EXPECT_GRAD(r, "img.bias", 6.75);
}

/* ------------------------------------------- many rows: a naive reference
 *
 * gradcheck runs with at most 4 rows; here nb is 37 of B = 40 (a partial
 * last tile of columns and 3 dead ones), 40 of 40 and 1 of 40, against
 * plain loops written below, for
 *   x (7, 6, 2) -> conv2d 3 filters, kernel [3, 2], stride [2, 1],
 *   padding [1, 0], tanh: (4, 5, 3) -> maxpool kernel 2, stride 1:
 *   (3, 4, 3) -> flatten 36 -> dense 3 -> mse. */
enum { XH = 7, XW = 6, XC = 2, NF = 3, KH = 3, KW = 2, SH = 2, SW = 1, PH = 1, PW = 0 };
enum { CH = (XH + 2 * PH - KH) / SH + 1, CW = (XW + 2 * PW - KW) / SW + 1 }; /* 4, 5 */
enum { PHH = CH - 1, PWW = CW - 1, NFLAT = PHH * PWW * NF, NO = 3 };        /* 3, 4, 36 */
enum { NX = XH * XW * XC, BMAX = 40 };

typedef struct CRef {
  double w[NF][XC][KH][KW], b[NF], ow[NO][NFLAT], ob[NO];
  double gw[NF][XC][KH][KW], gb[NF], gow[NO][NFLAT], gob[NO];
  double loss;
} CRef;

static void cref_run(CRef *r, int nb, const float *x, const float *t) {
  memset(r->gw, 0, sizeof r->gw);
  memset(r->gb, 0, sizeof r->gb);
  memset(r->gow, 0, sizeof r->gow);
  memset(r->gob, 0, sizeof r->gob);
  r->loss = 0;
  for (int s = 0; s < nb; s++) {
    const float *xs = x + s * NX; /* xs[(h * XW + w) * XC + c] */
    double a[CH][CW][NF], da[CH][CW][NF] = {{{0}}}, flat[NFLAT], dflat[NFLAT], o[NO], dout[NO];
    int arg[NFLAT][2];
    for (int i = 0; i < CH; i++)
      for (int j = 0; j < CW; j++)
        for (int f = 0; f < NF; f++) {
          double z = r->b[f];
          for (int c = 0; c < XC; c++)
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++) {
                int ih = i * SH + kh - PH, iw = j * SW + kw - PW;
                if (ih >= 0 && ih < XH && iw >= 0 && iw < XW)
                  z += r->w[f][c][kh][kw] * xs[(ih * XW + iw) * XC + c];
              }
          a[i][j][f] = tanh(z);
        }
    for (int i = 0; i < PHH; i++)
      for (int j = 0; j < PWW; j++)
        for (int f = 0; f < NF; f++) {
          int n = (i * PWW + j) * NF + f, bi = i, bj = j;
          for (int di = 0; di < 2; di++)
            for (int dj = 0; dj < 2; dj++)
              if (a[i + di][j + dj][f] > a[bi][bj][f])
                bi = i + di, bj = j + dj;
          flat[n] = a[bi][bj][f];
          arg[n][0] = bi;
          arg[n][1] = bj;
        }
    for (int k = 0; k < NO; k++) {
      o[k] = r->ob[k];
      for (int n = 0; n < NFLAT; n++)
        o[k] += r->ow[k][n] * flat[n];
      double d = o[k] - t[s * NO + k];
      r->loss += d * d / (nb * NO);
      dout[k] = 2 * d / (nb * NO);
      r->gob[k] += dout[k];
      for (int n = 0; n < NFLAT; n++)
        r->gow[k][n] += dout[k] * flat[n];
    }
    for (int n = 0; n < NFLAT; n++) {
      dflat[n] = 0;
      for (int k = 0; k < NO; k++)
        dflat[n] += dout[k] * r->ow[k][n];
      da[arg[n][0]][arg[n][1]][n % NF] += dflat[n];
    }
    for (int i = 0; i < CH; i++)
      for (int j = 0; j < CW; j++)
        for (int f = 0; f < NF; f++) {
          double dz = da[i][j][f] * (1 - a[i][j][f] * a[i][j][f]);
          r->gb[f] += dz;
          for (int c = 0; c < XC; c++)
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++) {
                int ih = i * SH + kh - PH, iw = j * SW + kw - PW;
                if (ih >= 0 && ih < XH && iw >= 0 && iw < XW)
                  r->gw[f][c][kh][kw] += dz * xs[(ih * XW + iw) * XC + c];
              }
        }
  }
}

static void expect_close(const Vec *v, const double *want, int n) {
  assert_int_equal(v->n, n);
  for (int i = 0; i < n; i++)
    expect_near(v->name, i, v->v[i], want[i], 1e-12 * (1 + fabs(want[i])));
}

static void check_conv_rows(int nb) {
  static CRef r;
  static float x[BMAX * NX], t[BMAX * NO];
  double *w = &r.w[0][0][0][0], *ow = &r.ow[0][0];
  for (int i = 0; i < NF * XC * KH * KW; i++)
    w[i] = 0.5 * sin(0.7 * i + 1);
  for (int f = 0; f < NF; f++)
    r.b[f] = 0.1 * cos(1.3 * f);
  for (int i = 0; i < NO * NFLAT; i++)
    ow[i] = 0.4 * cos(0.9 * i + 0.5);
  for (int k = 0; k < NO; k++)
    r.ob[k] = 0.2 * sin(2.1 * k);
  for (int i = 0; i < nb * NX; i++)
    x[i] = (float)(1.5 * sin(0.37 * i + 0.1) + 0.3 * cos(2.3 * i));
  for (int i = 0; i < nb * NO; i++)
    t[i] = (float)sin(1.7 * i);
  cref_run(&r, nb, x, t);
  char *in = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&in, &len);
  fprintf(f, "%d\n", nb);
  for (int i = 0; i < NF * XC * KH * KW; i++)
    fprintf(f, "%.17g ", w[i]);
  for (int i = 0; i < NF; i++)
    fprintf(f, "%.17g ", r.b[i]);
  for (int i = 0; i < NO * NFLAT; i++)
    fprintf(f, "%.17g ", ow[i]);
  for (int i = 0; i < NO; i++)
    fprintf(f, "%.17g ", r.ob[i]);
  for (int i = 0; i < nb * NX; i++)
    fprintf(f, "%.9g ", x[i]);
  for (int i = 0; i < nb * NO; i++)
    fprintf(f, "%.9g ", t[i]);
  fprintf(f, "\n0 0\n");
  fclose(f);
  char *name = xasprintf("conv_rows_%d", nb);
  Result got = run_model(name,
                         "input x[7, 6, 2]\nlabel y : real[3]\n"
                         "layer c = conv2d(x, 3, kernel = [3, 2], stride = [2, 1], "
                         "padding = [1, 0], activation = tanh)\n"
                         "layer p = maxpool(c, kernel = 2, stride = 1)\n"
                         "layer flat = flatten(p)\n"
                         "layer out = dense(flat, 3)\n"
                         "loss mse(out, y)\ntrain { batch = 40 }\n",
                         in);
  free(name);
  free(in);
  expect_near("loss", 0, got.loss, r.loss, 1e-12);
  expect_close(get(got.grad, got.ngrad, "c.weight"), &r.gw[0][0][0][0], NF * XC * KH * KW);
  expect_close(get(got.grad, got.ngrad, "c.bias"), r.gb, NF);
  expect_close(get(got.grad, got.ngrad, "out.weight"), &r.gow[0][0], NO * NFLAT);
  expect_close(get(got.grad, got.ngrad, "out.bias"), r.gob, NO);
  assert_int_equal(got.output.n, nb * NO);
}

static void test_conv_many_rows(void **state) {
  check_conv_rows(37); /* a partial last tile, 3 dead columns */
  check_conv_rows(40);
  check_conv_rows(1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lenet_shapes),       cmocka_unit_test(test_conv_valid_s1),
      cmocka_unit_test(test_conv_valid_s2),      cmocka_unit_test(test_conv_same_odd),
      cmocka_unit_test(test_conv_same_even),     cmocka_unit_test(test_conv_multichannel),
      cmocka_unit_test(test_conv_flatten_order), cmocka_unit_test(test_conv_input_grad_s1),
      cmocka_unit_test(test_conv_input_grad_s2), cmocka_unit_test(test_maxpool_ties),
      cmocka_unit_test(test_maxpool_padding),    cmocka_unit_test(test_avgpool),
      cmocka_unit_test(test_avgpool_padding),    cmocka_unit_test(test_conv_many_rows),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
