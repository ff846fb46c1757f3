/* test_dropout.c — dropout and gaussian_noise in the generated C.
 *
 * Each test compiles a small model through the API (as test_conv.c does,
 * with trainer_harness.h's setup: -DNN_NO_MAIN -DNN_REAL=double against
 * libnnrt.a) and builds it with a driver of its own, which runs forward()
 * once per query (training, step, seed) and prints every layer's output
 * (layer_output(), the rows of --predict --layer NAME).  Checked against
 * the definitions (docs/language.md 6.11):
 *   - evaluation (training = 0): dropout and noise are the identity, and the
 *     model's output is that of the same model without them;
 *   - dropout in training: every element is 0 or x / (1 - rate); the
 *     fraction dropped over 4096 elements is within 4 sigma of the rate;
 *     the same (seed, step) gives the same mask, another step or seed
 *     another;
 *   - gaussian_noise in training: y - x has mean ~ 0 and sample standard
 *     deviation ~ std (4 sigma), and the same step repeats it exactly.
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

#define HARNESS_NAME "test_dropout"
#include "trainer_harness.h"

/* The driver: argv[1] holds nb, nb * in_dim input values, the number of
 * queries, then per query "training step seed".  For query q it prints one
 * line per layer: "q NAME v..." (nb * dim values, row after row). */
static const char query_driver_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include \"nnrt.h\"\n"
    "extern const nn_model nn_model_desc;\n"
    "static double rd(FILE *f) {\n"
    "  double v;\n"
    "  if (fscanf(f, \"%lf\", &v) != 1) { fprintf(stderr, \"driver: short input\\n\"); exit(2); }\n"
    "  return v;\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  const nn_model *m = &nn_model_desc;\n"
    "  if (argc != 2 || m->real_size != 8) return 2;\n"
    "  FILE *f = fopen(argv[1], \"r\");\n"
    "  if (!f) return 2;\n"
    "  nn_ctx c;\n"
    "  if (nn_ctx_alloc(&c, m)) return 2;\n"
    "  nn_rng r;\n"
    "  nn_rng_seed(&r, 1, 1);\n"
    "  m->init(&c, &r);\n"
    "  int nb = (int)rd(f);\n"
    "  float *x = calloc((size_t)nb * (size_t)m->in_dim + 1, sizeof *x);\n"
    "  for (int i = 0; i < nb * m->in_dim; i++) x[i] = (float)rd(f);\n"
    "  int nq = (int)rd(f);\n"
    "  for (int q = 0; q < nq; q++) {\n"
    "    c.training = (int)rd(f);\n"
    "    c.step = (uint64_t)rd(f);\n"
    "    c.seed = (uint64_t)rd(f);\n"
    "    m->forward(&c, x, NULL, NULL, nb, NULL);\n"
    "    for (int k = 0; k < m->nlayers; k++) {\n"
    "      long n = (long)nb * m->layers[k].dim;\n"
    "      float *o = calloc((size_t)n + 1, sizeof *o);\n"
    "      m->layer_output(&c, k, nb, o);\n"
    "      printf(\"%d %s\", q, m->layers[k].name);\n"
    "      for (long i = 0; i < n; i++) printf(\" %.9g\", (double)o[i]);\n"
    "      printf(\"\\n\");\n"
    "      free(o);\n"
    "    }\n"
    "  }\n"
    "  fclose(f);\n"
    "  nn_ctx_free(&c);\n"
    "  free(x);\n"
    "  return 0;\n"
    "}\n";

#define NQ 8      /* queries per run at most */
#define NL 6      /* layers per query at most */
#define NMAX 8192 /* values per layer at most */

typedef struct Layers {
  int n;
  char name[NL][32];
  int len[NL];
  double *v[NL];
} Layers;

typedef struct Runs {
  int nq;
  Layers q[NQ];
} Runs;

static void runs_free(Runs *r) {
  for (int q = 0; q < r->nq; q++)
    for (int k = 0; k < r->q[q].n; k++)
      free(r->q[q].v[k]);
}

/* Layer `name` of query q. */
static const double *layer(const Runs *r, int q, const char *name, int *len) {
  assert_true(q < r->nq);
  for (int k = 0; k < r->q[q].n; k++)
    if (!strcmp(r->q[q].name[k], name)) {
      if (len)
        *len = r->q[q].len[k];
      return r->q[q].v[k];
    }
  fail_msg("query %d has no layer '%s'", q, name);
  return NULL;
}

/* Compile `model`, build it with the query driver, run it on `input`. */
static Runs run_queries(const char *name, const char *model, const char *input) {
  char *dobj = harness_driver("query_driver", query_driver_src);
  char *outp = harness_run(name, model, dobj, input, NULL);
  Runs r = {0};
  FILE *f = fopen(outp, "r");
  assert_non_null(f);
  size_t cap = 1 << 20;
  char *line = xmalloc(cap);
  while (fgets(line, (int)cap, f)) {
    char *save, *tok = strtok_r(line, " \n", &save);
    int q = atoi(tok);
    assert_true(q >= 0 && q < NQ);
    if (q >= r.nq)
      r.nq = q + 1;
    Layers *L = &r.q[q];
    assert_true(L->n < NL);
    snprintf(L->name[L->n], sizeof L->name[L->n], "%s", strtok_r(NULL, " \n", &save));
    double *v = xcalloc(NMAX, sizeof *v);
    int n = 0;
    while ((tok = strtok_r(NULL, " \n", &save)) && n < NMAX)
      v[n++] = strtod(tok, NULL);
    L->v[L->n] = v;
    L->len[L->n++] = n;
  }
  free(line);
  fclose(f);
  free(dobj);
  free(outp);
  return r;
}

/* The driver's input: nb rows of in_dim values x = sin(0.37 i + 0.1) (no
 * zeros, so a dropped element is told from a kept one), as floats (the
 * driver reads them into float exactly), then the queries. */
static char *queries(int nb, int in_dim, int nq, const int *tss) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fprintf(f, "%d\n", nb);
  for (int i = 0; i < nb * in_dim; i++)
    fprintf(f, "%.9g%c", (double)(float)sin(0.37 * i + 0.1), i % 16 == 15 ? '\n' : ' ');
  fprintf(f, "\n%d\n", nq);
  for (int q = 0; q < nq; q++)
    fprintf(f, "%d %d %d\n", tss[3 * q], tss[3 * q + 1], tss[3 * q + 2]);
  fclose(f);
  return buf;
}

#define N_IN 256
#define NB 16
#define N_EL (N_IN * NB) /* elements of the dropout layer in a batch */

static const char dropout_model[] = "input x[256]\n"
                                    "label y : real[2]\n"
                                    "layer h = dense(x, 256)\n"
                                    "layer d = dropout(h, rate = 0.3)\n"
                                    "layer out = dense(d, 2)\n"
                                    "loss mse(out, y)\n"
                                    "train { batch = 16 }\n";
/* the same without the dropout: the same parameters (same shapes, drawn
 * in the same order) */
static const char plain_model[] = "input x[256]\n"
                                  "label y : real[2]\n"
                                  "layer h = dense(x, 256)\n"
                                  "layer out = dense(h, 2)\n"
                                  "loss mse(out, y)\n"
                                  "train { batch = 16 }\n";

/* Elements where exactly one of a, b is zero (their masks differ). */
static int mask_diff(const double *a, const double *b, int n) {
  int k = 0;
  for (int i = 0; i < n; i++)
    k += (a[i] == 0) != (b[i] == 0);
  return k;
}

static void test_dropout_modes(void **state) {
  (void)state;
  /* queries: eval, train step 5, eval, train step 5 again, step 6, step 5
   * with another seed */
  static const int tss[] = {0, 0, 42, 1, 5, 42, 0, 9, 42, 1, 5, 42, 1, 6, 42, 1, 5, 43};
  char *in = queries(NB, N_IN, 6, tss);
  Runs r = run_queries("dropout", dropout_model, in);
  static const int plain_q[] = {0, 0, 42};
  char *pin = queries(NB, N_IN, 1, plain_q);
  Runs p = run_queries("plain", plain_model, pin);
  free(in);
  free(pin);
  assert_int_equal(r.nq, 6);
  int n, m;
  const double *h0 = layer(&r, 0, "h", &n), *d0 = layer(&r, 0, "d", &m);
  assert_int_equal(n, N_EL);
  assert_int_equal(m, N_EL);

  /* evaluation: d is h, and the output is the plain model's */
  const double *ph = layer(&p, 0, "h", NULL);
  for (int i = 0; i < N_EL; i++) {
    assert_true(h0[i] != 0);
    assert_true(d0[i] == h0[i]);
    assert_true(ph[i] == h0[i]);
  }
  const double *out0 = layer(&r, 0, "out", &n), *pout = layer(&p, 0, "out", NULL);
  const double *out2 = layer(&r, 2, "out", NULL);
  assert_int_equal(n, 2 * NB);
  for (int i = 0; i < n; i++) {
    assert_true(out0[i] == pout[i]);
    assert_true(out2[i] == pout[i]); /* the step does not matter in evaluation */
  }

  /* training: 0 or h / (1 - rate), 30% +- 4 sigma dropped */
  const double *h1 = layer(&r, 1, "h", NULL), *d1 = layer(&r, 1, "d", NULL);
  int dropped = 0;
  for (int i = 0; i < N_EL; i++) {
    assert_true(h1[i] == h0[i]);
    if (d1[i] == 0) {
      dropped++;
      continue;
    }
    double want = h1[i] / (1 - 0.3);
    if (!(fabs(d1[i] - want) <= 1e-6 * fabs(want)))
      fail_msg("d[%d] = %.9g, neither 0 nor h / 0.7 = %.9g", i, d1[i], want);
  }
  double frac = (double)dropped / N_EL, sigma = sqrt(0.3 * 0.7 / N_EL);
  if (!(fabs(frac - 0.3) <= 4 * sigma))
    fail_msg("dropped %d of %d = %.4f, want 0.3 +- %.4f", dropped, N_EL, frac, 4 * sigma);
  /* the output in training differs from evaluation's */
  const double *out1 = layer(&r, 1, "out", NULL);
  int same = 0;
  for (int i = 0; i < 2 * NB; i++)
    same += out1[i] == out0[i];
  assert_true(same < 2 * NB);

  /* the same step and seed: the same mask (and values); another step or
   * seed: another mask, differing in about 2 rate (1 - rate) of the
   * elements */
  const double *d3 = layer(&r, 3, "d", NULL), *d4 = layer(&r, 4, "d", NULL);
  const double *d5 = layer(&r, 5, "d", NULL);
  for (int i = 0; i < N_EL; i++)
    assert_true(d3[i] == d1[i]);
  double expect = 2 * 0.3 * 0.7 * N_EL, sd = sqrt(expect);
  int k4 = mask_diff(d1, d4, N_EL), k5 = mask_diff(d1, d5, N_EL);
  if (!(fabs(k4 - expect) <= 6 * sd) || !(fabs(k5 - expect) <= 6 * sd))
    fail_msg("masks of steps 5 and 6 differ in %d elements, of seeds 42 and 43 in %d; want "
             "about %.0f", k4, k5, expect);
  runs_free(&r);
  runs_free(&p);
}

/* rate = 0: training keeps every element (and scales by 1). */
static void test_dropout_rate0(void **state) {
  (void)state;
  static const int tss[] = {1, 3, 7};
  char *in = queries(4, 8, 1, tss);
  Runs r = run_queries("rate0", "input x[8]\nlabel y : real[2]\nlayer h = dense(x, 8)\n"
                                "layer d = dropout(h, rate = 0)\nlayer out = dense(d, 2)\n"
                                "loss mse(out, y)\ntrain { batch = 4 }\n", in);
  free(in);
  int n;
  const double *h = layer(&r, 0, "h", &n), *d = layer(&r, 0, "d", NULL);
  for (int i = 0; i < n; i++)
    assert_true(d[i] == h[i]);
  runs_free(&r);
}

/* gaussian_noise on the input (a denoising autoencoder's): y - x ~ N(0,
 * std^2) in training, y = x in evaluation. */
static void test_noise(void **state) {
  (void)state;
  static const int tss[] = {1, 2, 5, 0, 2, 5, 1, 2, 5, 1, 3, 5};
  char *in = queries(NB, N_IN, 4, tss);
  Runs r = run_queries("noise", "input x[256]\n"
                                "layer n = gaussian_noise(x, std = 0.25)\n"
                                "layer enc = dense(n, 8, activation = tanh)\n"
                                "layer dec = dense(enc, 256)\n"
                                "loss mse(dec, x)\n"
                                "train { batch = 16 }\n", in);
  free(in);
  /* x as the driver wrote it (through float) */
  double *x = xcalloc(N_EL, sizeof *x);
  for (int i = 0; i < N_EL; i++)
    x[i] = (float)sin(0.37 * i + 0.1);
  int n;
  const double *y = layer(&r, 0, "n", &n);
  assert_int_equal(n, N_EL);
  double sum = 0, sq = 0;
  for (int i = 0; i < N_EL; i++)
    sum += y[i] - x[i];
  double mean = sum / N_EL;
  for (int i = 0; i < N_EL; i++)
    sq += (y[i] - x[i] - mean) * (y[i] - x[i] - mean);
  double sdev = sqrt(sq / (N_EL - 1)), se_mean = 0.25 / sqrt(N_EL),
         se_sd = 0.25 / sqrt(2.0 * (N_EL - 1));
  if (!(fabs(mean) <= 4 * se_mean) || !(fabs(sdev - 0.25) <= 4 * se_sd))
    fail_msg("noise mean %.5f (want 0 +- %.5f), std %.5f (want 0.25 +- %.5f)", mean,
             4 * se_mean, sdev, 4 * se_sd);
  /* evaluation: the clean input; the same step again: the same noise;
   * another step: other noise */
  const double *ye = layer(&r, 1, "n", NULL), *y2 = layer(&r, 2, "n", NULL);
  const double *y3 = layer(&r, 3, "n", NULL);
  int same3 = 0;
  for (int i = 0; i < N_EL; i++) {
    if ((float)ye[i] != (float)x[i]) /* the driver prints floats to 9 digits */
      fail_msg("n[%d] = %.17g in evaluation, x = %.17g", i, ye[i], x[i]);
    assert_true(y2[i] == y[i]);
    same3 += y3[i] == y[i];
  }
  assert_true(same3 < N_EL / 100);
  free(x);
  runs_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dropout_modes),
      cmocka_unit_test(test_dropout_rate0),
      cmocka_unit_test(test_noise),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
