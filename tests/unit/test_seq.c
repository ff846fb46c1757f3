/* test_seq.c — recurrent layers against a naive reference.
 *
 * Each test compiles a small sequence model, builds it in double with the
 * trainer harness's driver (trainer_harness.h), sets its parameters to
 * fixed pseudo-random values, and compares the generated forward pass
 * (outputs and loss) with a plain reimplementation below: PyTorch's
 * equations for nn.RNN, nn.LSTM and nn.GRU, one sample and one step at a
 * time, no tiles, no time folding.  The gradients of the same code are
 * checked against finite differences by tests/numeric (seq_*.nn).
 *
 * The state tests run two windows one after the other: a stateful layer
 * must give, on the second window, what the reference gives on the two
 * windows as one sequence; a stateless one what it gives on the second
 * window alone.
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

#define HARNESS_NAME "test_seq"
#include "trainer_harness.h"

enum { RNN_TANH, RNN_RELU, LSTM, GRU };
static int gates(int cell) { return cell == LSTM ? 4 : cell == GRU ? 3 : 1; }
static double sig(double v) { return 1 / (1 + exp(-v)); }

/* Deterministic values in [-0.5, 0.5). */
static double val(int i) {
  double v = sin(12.9898 * (i + 1)) * 43758.5453;
  return v - floor(v) - 0.5;
}

/* The parameters of `cell` (F inputs, H hidden) followed by a dense
 * layer H -> N, in checkpoint order. */
typedef struct Net {
  int cell, F, H, N;
  double wih[64 * 8], whh[64 * 16], bih[64], bhh[64], w[8 * 16], b[8];
} Net;

static void net_fill(Net *n, int cell, int F, int H, int N) {
  int G = gates(cell), k = 0;
  *n = (Net){.cell = cell, .F = F, .H = H, .N = N};
  for (int i = 0; i < G * H * F; i++)
    n->wih[i] = val(k++);
  for (int i = 0; i < G * H * H; i++)
    n->whh[i] = val(k++);
  for (int i = 0; i < G * H; i++)
    n->bih[i] = val(k++);
  for (int i = 0; i < G * H; i++)
    n->bhh[i] = val(k++);
  for (int i = 0; i < N * H; i++)
    n->w[i] = val(k++);
  for (int i = 0; i < N; i++)
    n->b[i] = val(k++);
}

/* One step of the cell: h, c (lstm) updated in place from x. */
static void ref_step(const Net *n, const double *x, double *h, double *c) {
  int F = n->F, H = n->H, G = gates(n->cell);
  double ax[64], ah[64], hn[16];
  for (int g = 0; g < G * H; g++) {
    ax[g] = n->bih[g];
    ah[g] = n->bhh[g];
    for (int f = 0; f < F; f++)
      ax[g] += n->wih[g * F + f] * x[f];
    for (int k = 0; k < H; k++)
      ah[g] += n->whh[g * H + k] * h[k];
  }
  for (int k = 0; k < H; k++) {
    switch (n->cell) {
    case RNN_TANH: hn[k] = tanh(ax[k] + ah[k]); break;
    case RNN_RELU: hn[k] = fmax(ax[k] + ah[k], 0); break;
    case LSTM: {
      double i = sig(ax[k] + ah[k]), f = sig(ax[H + k] + ah[H + k]);
      double g = tanh(ax[2 * H + k] + ah[2 * H + k]), o = sig(ax[3 * H + k] + ah[3 * H + k]);
      c[k] = f * c[k] + i * g;
      hn[k] = o * tanh(c[k]);
      break;
    }
    default: { /* GRU */
      double r = sig(ax[k] + ah[k]), z = sig(ax[H + k] + ah[H + k]);
      double nn = tanh(ax[2 * H + k] + r * ah[2 * H + k]);
      hn[k] = (1 - z) * nn + z * h[k];
    }
    }
  }
  memcpy(h, hn, sizeof(double) * (size_t)H);
}

/* Outputs out[t][N] of the dense layer at steps t < T of x[T][F], from
 * the state (h, c), which is left at the last step's. */
static void ref_run(const Net *n, const double *x, int T, double *h, double *c, double *out) {
  for (int t = 0; t < T; t++) {
    ref_step(n, x + t * n->F, h, c);
    for (int j = 0; j < n->N; j++) {
      out[t * n->N + j] = n->b[j];
      for (int k = 0; k < n->H; k++)
        out[t * n->N + j] += n->w[j * n->H + k] * h[k];
    }
  }
}

/* The driver's input: nb, the parameters, x, targets, no updates, and
 * optionally more windows. */
static char *driver_input(const Net *n, int nb, const double *x, int in_dim, const double *y,
                          int ydim, const double *x2) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int G = gates(n->cell);
  fprintf(f, "%d\n", nb);
  const double *blocks[] = {n->wih, n->whh, n->bih, n->bhh, n->w, n->b};
  int sizes[] = {G * n->H * n->F, G * n->H * n->H, G * n->H, G * n->H, n->N * n->H, n->N};
  for (int k = 0; k < 6; k++)
    for (int i = 0; i < sizes[k]; i++)
      fprintf(f, "%.17g ", blocks[k][i]);
  for (int i = 0; i < nb * in_dim; i++)
    fprintf(f, "%.17g ", x[i]);
  for (int i = 0; i < nb * ydim; i++)
    fprintf(f, "%.17g ", y[i]);
  fprintf(f, "\n0 0.1\n");
  if (x2) {
    fprintf(f, "2\n");
    for (int i = 0; i < nb * in_dim; i++)
      fprintf(f, "%.17g ", x2[i]);
  }
  fclose(f);
  return buf;
}

static const char *const cell_src[] = {"rnn(x, %d)", "rnn(x, %d, activation = relu)",
                                       "lstm(x, %d)", "gru(x, %d)"};

/* Many-to-many: T = 5 steps of F = 3, hidden 4, dense 2 at every step, mse
 * against y[T][2]; two rows. */
static void check_cell(int cell) {
  enum { T = 5, F = 3, H = 4, N = 2, NB = 2 };
  Net n;
  net_fill(&n, cell, F, H, N);
  double x[NB * T * F], y[NB * T * N], want[NB * T * N];
  /* x and y reach the trainer as floats */
  for (int i = 0; i < NB * T * F; i++)
    x[i] = (float)(2 * val(1000 + i));
  for (int i = 0; i < NB * T * N; i++)
    y[i] = (float)val(2000 + i);
  double loss = 0;
  for (int b = 0; b < NB; b++) {
    double h[H] = {0}, c[H] = {0};
    ref_run(&n, x + b * T * F, T, h, c, want + b * T * N);
  }
  for (int i = 0; i < NB * T * N; i++)
    loss += (want[i] - y[i]) * (want[i] - y[i]);
  loss /= NB * T * N;
  char layer[64], *model;
  snprintf(layer, sizeof layer, cell_src[cell], H);
  model = xasprintf("input x[%d, %d]\nlabel y : real[%d, %d]\nlayer h = %s\n"
                    "layer out = dense(h, %d)\nloss mse(out, y)\ntrain { batch = %d }\n",
                    T, F, T, N, layer, N, NB);
  char *in = driver_input(&n, NB, x, T * F, y, T * N, NULL);
  Result r = run_model("cell", model, in);
  expect_vec(&r.output, want, NB * T * N, 1e-6);
  expect_near("loss", 0, r.loss, loss, 1e-12);
  free(model);
  free(in);
}

static void test_rnn_tanh(void **state) { check_cell(RNN_TANH); }
static void test_rnn_relu(void **state) { check_cell(RNN_RELU); }
static void test_lstm(void **state) { check_cell(LSTM); }
static void test_gru(void **state) { check_cell(GRU); }

/* Many-to-one over tokens: return = last, the dense layer on the last
 * hidden state, softmax + cross-entropy with one class per row.  Tokens
 * are one-hot: the reference's x is the one-hot rows. */
static void test_lstm_tokens_last(void **state) {
  enum { T = 6, V = 5, H = 3, N = 4, NB = 3 };
  Net n;
  net_fill(&n, LSTM, V, H, N);
  int ids[NB * T], cls[NB] = {2, 0, 3};
  double xin[NB * T], onehot[NB * T * V] = {0}, want[NB * N], loss = 0, correct = 0;
  for (int i = 0; i < NB * T; i++) {
    ids[i] = (i * 7 + 3) % V;
    xin[i] = ids[i];
    onehot[i * V + ids[i]] = 1;
  }
  for (int b = 0; b < NB; b++) {
    double h[H] = {0}, c[H] = {0}, o[T * N];
    ref_run(&n, onehot + b * T * V, T, h, c, o);
    double mx = -INFINITY, sum = 0;
    int arg = 0;
    for (int j = 0; j < N; j++) {
      want[b * N + j] = o[(T - 1) * N + j];
      mx = fmax(mx, want[b * N + j]);
      arg = want[b * N + j] > want[b * N + arg] ? j : arg;
    }
    for (int j = 0; j < N; j++)
      sum += exp(want[b * N + j] - mx);
    loss += log(sum) + mx - want[b * N + cls[b]];
    correct += arg == cls[b];
    for (int j = 0; j < N; j++) /* the output layer is softmax */
      want[b * N + j] = exp(want[b * N + j] - mx) / sum;
  }
  loss /= NB;
  char *model = xasprintf("input t : int[%d, %d]\nlabel c : int[%d]\n"
                          "layer h = lstm(t, %d, return = last)\n"
                          "layer out = dense(h, %d, activation = softmax)\n"
                          "loss cross_entropy(out, c)\ntrain { batch = %d }\n",
                          T, V, N, H, N, NB);
  double y[NB] = {cls[0], cls[1], cls[2]};
  char *in = driver_input(&n, NB, xin, T, y, 1, NULL);
  Result r = run_model("tokens", model, in);
  expect_vec(&r.output, want, NB * N, 1e-6);
  expect_near("loss", 0, r.loss, loss, 1e-12);
  expect_near("correct", 0, r.correct, correct, 0);
  free(model);
  free(in);
}

/* Two windows of T = 4, one row.  stateful: the second window continues
 * from the state the first ended in (the reference runs 8 steps); else it
 * starts from zeros (the reference runs the second window alone). */
static void check_windows(int cell, bool stateful) {
  enum { T = 4, F = 2, H = 3, N = 2, NB = 1 };
  Net n;
  net_fill(&n, cell, F, H, N);
  double x[2 * T * F], y[T * N] = {0}, want[2 * T * N];
  for (int i = 0; i < 2 * T * F; i++)
    x[i] = (float)(2 * val(3000 + i));
  double h[H] = {0}, c[H] = {0};
  if (stateful) {
    ref_run(&n, x, 2 * T, h, c, want);
  } else {
    ref_run(&n, x, T, h, c, want);
    memset(h, 0, sizeof h);
    memset(c, 0, sizeof c);
    ref_run(&n, x + T * F, T, h, c, want + T * N);
  }
  char layer[96], *model;
  snprintf(layer, sizeof layer, "%s(x, %d, stateful = %s)",
           cell == LSTM ? "lstm" : cell == GRU ? "gru" : "rnn", H, stateful ? "true" : "false");
  model = xasprintf("input x[%d, %d]\nlabel y : real[%d, %d]\nlayer h = %s\n"
                    "layer out = dense(h, %d)\nloss mse(out, y)\n"
                    "train { batch = %d shuffle = false }\n", T, F, T, N, layer, N, NB);
  char *in = driver_input(&n, NB, x, T * F, y, T * N, x + T * F);
  Result r = run_model("windows", model, in);
  assert_int_equal(r.nout, 2);
  expect_vec(&r.outputs[0], want, T * N, 1e-6);
  expect_vec(&r.outputs[1], want + T * N, T * N, 1e-6);
  free(model);
  free(in);
}

static void test_lstm_carries_state(void **state) { check_windows(LSTM, true); }
static void test_gru_carries_state(void **state) { check_windows(GRU, true); }
static void test_rnn_carries_state(void **state) { check_windows(RNN_TANH, true); }
static void test_lstm_resets_state(void **state) { check_windows(LSTM, false); }
static void test_gru_resets_state(void **state) { check_windows(GRU, false); }

/* clip = X scales the gradients by min(1, X / (|g| + 1e-6)), |g| the L2
 * norm over every parameter, before the update: one sgd step of
 * y = w x + b on one row, checked against the gradients the driver
 * prints (before the update) and the parameters after it.  With clip
 * above the norm the step is plain sgd. */
static void check_clip(double clip, bool clipped) {
  char *model = xasprintf("input x[2]\nlabel y : real[1]\nlayer out = dense(x, 1)\n"
                          "loss mse(out, y)\ntrain { optimizer = sgd(lr = 0.1) clip = %g }\n",
                          clip);
  /* nb, w = (0.5, -1), b = 0.25, x = (2, 1), y = 3: out = 0.25, d = 2 (out - y) = -5.5 */
  Result r = run_model("clip", model, "1\n0.5 -1 0.25\n2 1\n3\n1 0.1\n");
  const Vec *gw = get(r.grad, r.ngrad, "out.weight"), *gb = get(r.grad, r.ngrad, "out.bias");
  const Vec *pw = get(r.param, r.nparam, "out.weight"), *pb = get(r.param, r.nparam, "out.bias");
  double g[3] = {gw->v[0], gw->v[1], gb->v[0]}, p0[3] = {0.5, -1, 0.25};
  double want_g[3] = {-11, -5.5, -5.5};
  expect_vec(gw, want_g, 2, 1e-12);
  double norm = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
  double coef = clip / (norm + 1e-6);
  if (coef > 1)
    coef = 1;
  assert_true(clipped ? coef < 1 : coef == 1);
  double p1[3] = {pw->v[0], pw->v[1], pb->v[0]};
  for (int i = 0; i < 3; i++)
    expect_near("param", i, p1[i], p0[i] - 0.1 * coef * g[i], 1e-12);
  free(model);
}

static void test_clip_scales(void **state) { check_clip(2, true); }
static void test_clip_above_norm(void **state) { check_clip(100, false); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rnn_tanh),
      cmocka_unit_test(test_rnn_relu),
      cmocka_unit_test(test_lstm),
      cmocka_unit_test(test_gru),
      cmocka_unit_test(test_lstm_tokens_last),
      cmocka_unit_test(test_lstm_carries_state),
      cmocka_unit_test(test_gru_carries_state),
      cmocka_unit_test(test_rnn_carries_state),
      cmocka_unit_test(test_lstm_resets_state),
      cmocka_unit_test(test_gru_resets_state),
      cmocka_unit_test(test_clip_scales),
      cmocka_unit_test(test_clip_above_norm),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
