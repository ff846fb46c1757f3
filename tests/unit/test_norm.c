/* test_norm.c — batchnorm in the generated C against arithmetic done by
 * hand: training output (the batch's statistics), dgamma and dbeta, the
 * running statistics and num_batches_tracked after one training forward
 * pass, the evaluation output (the running statistics), partial batches
 * (only the nb live rows count), batch 1, and a checkpoint round trip of
 * the buffers (num_batches_tracked as I64).
 *
 * The model is `layer b = batchnorm(x)` straight on a 2-feature input with
 * mse against targets 0, so dL/dy = 2 y / (nb * 2) = y / nb: every number
 * below is a short formula of the inputs.  Tolerances: 1e-12 on doubles
 * (the trainer is built with -DNN_REAL=double), 1e-6 on outputs (they come
 * through float).
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

#define HARNESS_NAME "test_norm"
#include "trainer_harness.h"

/* The driver.  Input: nb, gamma (2), beta (2), x (nb rows of 2).  It runs
 * one training forward pass (c.training = 1) and backward, prints
 *   train v...   the output rows      grad NAME v...  gamma's, beta's
 *   buf NAME v... running_mean, running_var   nbt N
 * then an evaluation forward pass (c.training = 0) of the same rows
 *   eval v...
 * then saves a checkpoint, zeroes the params arena, loads it back and
 * prints the buffers again (loaded NAME v..., loaded_nbt N). */
static const char norm_driver_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"nnrt.h\"\n"
    "extern const nn_model nn_model_desc;\n"
    "static double rd(FILE *f) {\n"
    "  double v;\n"
    "  if (fscanf(f, \"%lf\", &v) != 1) exit(2);\n"
    "  return v;\n"
    "}\n"
    "static void rows(const char *what, const float *o, int n) {\n"
    "  printf(\"%s\", what);\n"
    "  for (int i = 0; i < n; i++) printf(\" %.17g\", (double)o[i]);\n"
    "  printf(\"\\n\");\n"
    "}\n"
    "static void bufs(const char *what, const nn_model *m, const nn_ctx *c) {\n"
    "  for (int t = 0; t < m->nparams; t++) {\n"
    "    const nn_param *p = &m->params[t];\n"
    "    if (p->kind == NN_PARAM_INT64) {\n"
    "      long long v;\n"
    "      memcpy(&v, (const double *)c->params + p->offset, 8);\n"
    "      printf(\"%s_nbt %lld\\n\", what, v);\n"
    "    } else if (p->kind == NN_PARAM_BUFFER) {\n"
    "      printf(\"%s %s\", what, p->name);\n"
    "      for (size_t i = 0; i < p->size; i++)\n"
    "        printf(\" %.17g\", ((const double *)c->params)[p->offset + i]);\n"
    "      printf(\"\\n\");\n"
    "    }\n"
    "  }\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  const nn_model *m = &nn_model_desc;\n"
    "  if (argc != 3 || m->real_size != 8) return 2;\n"
    "  FILE *f = fopen(argv[1], \"r\");\n"
    "  if (!f) return 2;\n"
    "  nn_ctx c;\n"
    "  if (nn_ctx_alloc(&c, m)) return 2;\n"
    "  nn_rng r;\n"
    "  nn_rng_seed(&r, 1, 1);\n"
    "  m->init(&c, &r);\n"
    "  int nb = (int)rd(f);\n"
    "  double *P = c.params;\n"
    "  for (int t = 0; t < m->nparams; t++)\n"
    "    if (m->params[t].kind == NN_PARAM_LEARN)\n"
    "      for (size_t i = 0; i < m->params[t].size; i++) P[m->params[t].offset + i] = rd(f);\n"
    "  float *x = calloc((size_t)nb * 2, sizeof *x), *y = calloc((size_t)nb * 2, sizeof *y);\n"
    "  float *o = calloc((size_t)nb * 2, sizeof *o);\n"
    "  for (int i = 0; i < nb * 2; i++) x[i] = (float)rd(f);\n"
    "  fclose(f);\n"
    "  c.training = 1;\n"
    "  m->forward(&c, x, NULL, y, nb, NULL);\n"
    "  m->output(&c, nb, o);\n"
    "  rows(\"train\", o, nb * 2);\n"
    "  m->backward(&c, NULL, y, nb);\n"
    "  for (int t = 0; t < m->nparams; t++)\n"
    "    if (m->params[t].kind == NN_PARAM_LEARN) {\n"
    "      printf(\"grad %s\", m->params[t].name);\n"
    "      for (size_t i = 0; i < m->params[t].size; i++)\n"
    "        printf(\" %.17g\", ((double *)c.grads)[m->params[t].offset + i]);\n"
    "      printf(\"\\n\");\n"
    "    }\n"
    "  bufs(\"buf\", m, &c);\n"
    "  c.training = 0;\n"
    "  m->forward(&c, x, NULL, NULL, nb, NULL);\n"
    "  m->output(&c, nb, o);\n"
    "  rows(\"eval\", o, nb * 2);\n"
    "  char err[512];\n"
    "  if (nn_ckpt_save(argv[2], m, &c, err, sizeof err)) { fprintf(stderr, \"%s\\n\", err); return 1; }\n"
    "  memset(c.params, 0, m->params_size * sizeof(double));\n"
    "  if (nn_ckpt_load(argv[2], m, &c, err, sizeof err)) { fprintf(stderr, \"%s\\n\", err); return 1; }\n"
    "  bufs(\"loaded\", m, &c);\n"
    "  nn_ctx_free(&c);\n"
    "  free(x); free(y); free(o);\n"
    "  return 0;\n"
    "}\n";

typedef struct Norm {
  Vec train, eval, grad[2], buf[2], loaded[2];
  int ngrad, nbuf, nloaded;
  long long nbt, loaded_nbt;
} Norm;

static const char model[] = "input x[2]\nlabel t : real[2]\n"
                            "layer b = batchnorm(x)\n"
                            "loss mse(b, t)\ntrain { batch = 4 }\n";

/* "what v..." (named: "what NAME v...") into v */
static void read_line(char *line, Vec *v, bool named) {
  char *save, *tok = strtok_r(line, " \n", &save);
  v->n = 0;
  if (named && (tok = strtok_r(NULL, " \n", &save)))
    snprintf(v->name, sizeof v->name, "%s", tok);
  while ((tok = strtok_r(NULL, " \n", &save)) && v->n < MAXV)
    v->v[v->n++] = strtod(tok, NULL);
}

/* Build `model` with the norm driver and run it on `input`. */
static Norm run_norm(const char *name, const char *input) {
  char *ck = xasprintf("%s/%s.safetensors", env.dir, name), *ckq = xasprintf("'%s'", ck);
  char *drv = harness_driver("norm_driver", norm_driver_src);
  char *outp = harness_run(name, model, drv, input, ckq);
  Norm r = {0};
  FILE *f = fopen(outp, "r");
  assert_non_null(f);
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "train ", 6))
      read_line(line, &r.train, false);
    else if (!strncmp(line, "eval ", 5))
      read_line(line, &r.eval, false);
    else if (!strncmp(line, "grad ", 5) && r.ngrad < 2)
      read_line(line, &r.grad[r.ngrad++], true);
    else if (!strncmp(line, "buf ", 4) && r.nbuf < 2)
      read_line(line, &r.buf[r.nbuf++], true);
    else if (!strncmp(line, "loaded ", 7) && r.nloaded < 2)
      read_line(line, &r.loaded[r.nloaded++], true);
    else if (!strncmp(line, "buf_nbt ", 8))
      r.nbt = atoll(line + 8);
    else if (!strncmp(line, "loaded_nbt ", 11))
      r.loaded_nbt = atoll(line + 11);
  }
  fclose(f);
  free(outp);
  free(drv);
  free(ck);
  free(ckq);
  return r;
}

static const double EPS = 1e-5;

/* y rows [nb][2] of gamma (x - mean) / sqrt(var + eps) + beta per feature */
static void expect_rows(const Vec *got, const double *x, int nb, const double *mean,
                        const double *var, const double *gamma, const double *beta) {
  assert_int_equal(got->n, nb * 2);
  for (int b = 0; b < nb; b++)
    for (int k = 0; k < 2; k++)
      expect_near("y", b * 2 + k, got->v[b * 2 + k],
                  gamma[k] * (x[b * 2 + k] - mean[k]) / sqrt(var[k] + EPS) + beta[k], 1e-6);
}

/* 2 features, 4 rows: feature 0 is 1, 2, 3, 6 (mean 3, squared deviations
 * 4 1 0 9: sum 14, biased variance 3.5, unbiased 14/3); feature 1 is 0, 4,
 * 4, 0 (mean 2, sum of squares 16, variance 4, unbiased 16/3). */
static void test_bn_four_rows(void **state) {
  static const double x[8] = {1, 0, 2, 4, 3, 4, 6, 0};
  static const double gamma[2] = {2, 0.5}, beta[2] = {1, -1};
  Norm r = run_norm("four", "4\n2 0.5\n1 -1\n1 0  2 4  3 4  6 0\n");
  static const double mean[2] = {3, 2}, var[2] = {3.5, 4};
  expect_rows(&r.train, x, 4, mean, var, gamma, beta);
  /* dL/dy = y / 4; with xhat = (x - mean) / sqrt(var + eps), sum xhat = 0:
   * dbeta = sum y / 4 = beta (4 rows), dgamma = sum (gamma xhat + beta)
   * xhat / 4 = gamma S / (var + eps) / 4, S the sum of squared deviations */
  assert_int_equal(r.ngrad, 2);
  assert_string_equal(r.grad[0].name, "b.weight");
  expect_near("dgamma", 0, r.grad[0].v[0], 2 * 14 / (3.5 + EPS) / 4, 1e-12);
  expect_near("dgamma", 1, r.grad[0].v[1], 0.5 * 16 / (4 + EPS) / 4, 1e-12);
  expect_near("dbeta", 0, r.grad[1].v[0], 1, 1e-12);
  expect_near("dbeta", 1, r.grad[1].v[1], -1, 1e-12);
  /* running statistics from (0, 1) with momentum 0.1 and the unbiased
   * variance */
  assert_int_equal(r.nbuf, 2);
  assert_string_equal(r.buf[0].name, "b.running_mean");
  assert_string_equal(r.buf[1].name, "b.running_var");
  expect_near("running_mean", 0, r.buf[0].v[0], 0.1 * 3, 1e-12);
  expect_near("running_mean", 1, r.buf[0].v[1], 0.1 * 2, 1e-12);
  expect_near("running_var", 0, r.buf[1].v[0], 0.9 + 0.1 * 14 / 3, 1e-12);
  expect_near("running_var", 1, r.buf[1].v[1], 0.9 + 0.1 * 16 / 3, 1e-12);
  assert_int_equal(r.nbt, 1);
  /* evaluation: the running statistics, not the batch's */
  static const double rmean[2] = {0.3, 0.2}, rvar[2] = {0.9 + 1.4 / 3, 0.9 + 1.6 / 3};
  expect_rows(&r.eval, x, 4, rmean, rvar, gamma, beta);
  /* the checkpoint holds the buffers; num_batches_tracked comes back as 1 */
  assert_int_equal(r.nloaded, 2);
  expect_near("loaded running_mean", 0, r.loaded[0].v[0], 0.3, 1e-12);
  expect_near("loaded running_var", 1, r.loaded[1].v[1], 0.9 + 1.6 / 3, 1e-12);
  assert_int_equal(r.loaded_nbt, 1);
}

/* A partial batch: nb = 3 of B = 4 rows; the dead column is not counted.
 * Feature 0 is 1, 2, 3 (mean 2, variance 2/3, unbiased 1), feature 1 is
 * 5, 5, 8 (mean 6, squares 1 1 4: variance 2, unbiased 3). */
static void test_bn_partial_batch(void **state) {
  static const double x[6] = {1, 5, 2, 5, 3, 8};
  static const double gamma[2] = {1, 1}, beta[2] = {0, 0};
  Norm r = run_norm("partial", "3\n1 1\n0 0\n1 5  2 5  3 8\n");
  static const double mean[2] = {2, 6}, var[2] = {2.0 / 3, 2};
  expect_rows(&r.train, x, 3, mean, var, gamma, beta);
  expect_near("running_mean", 0, r.buf[0].v[0], 0.2, 1e-12);
  expect_near("running_mean", 1, r.buf[0].v[1], 0.6, 1e-12);
  expect_near("running_var", 0, r.buf[1].v[0], 0.9 + 0.1 * 1, 1e-12);
  expect_near("running_var", 1, r.buf[1].v[1], 0.9 + 0.1 * 3, 1e-12);
  /* beta 0: dbeta = sum y / 3 = 0; dgamma = sum xhat^2 / 3 = n var / (var + eps) / 3 */
  expect_near("dgamma", 0, r.grad[0].v[0], (2.0 / 3) / (2.0 / 3 + EPS), 1e-12);
  expect_near("dgamma", 1, r.grad[0].v[1], 2 / (2 + EPS), 1e-12);
  expect_near("dbeta", 0, r.grad[1].v[0], 0, 1e-12);
  assert_int_equal(r.nbt, 1);
}

/* Batch 1 in training: one value per feature, variance 0: y = beta, no
 * NaN; the running statistics stay (0, 1) and num_batches_tracked 0. */
static void test_bn_one_row(void **state) {
  Norm r = run_norm("one", "1\n3 4\n0.5 -2\n7 -9\n");
  assert_int_equal(r.train.n, 2);
  expect_near("y", 0, r.train.v[0], 0.5, 1e-12);
  expect_near("y", 1, r.train.v[1], -2, 1e-12);
  expect_near("running_mean", 0, r.buf[0].v[0], 0, 0);
  expect_near("running_var", 1, r.buf[1].v[1], 1, 0);
  assert_int_equal(r.nbt, 0);
  /* dgamma = dy xhat = 0; dbeta = dy = y / 1 = beta */
  expect_near("dgamma", 0, r.grad[0].v[0], 0, 0);
  expect_near("dbeta", 1, r.grad[1].v[1], -2, 1e-12);
  /* evaluation with running (0, 1): gamma x / sqrt(1 + eps) + beta */
  expect_near("eval", 0, r.eval.v[0], 3 * 7 / sqrt(1 + EPS) + 0.5, 1e-5);
}

/* The front end: parameters and buffers with PyTorch's names, kinds and
 * initial values; gamma and beta are the only learnable ones. */
static void test_bn_values(void **state) {
  Compiled c = compile_ok("input x[4, 4, 3]\nlabel y : int[2]\n"
                          "layer cv = conv2d(x, 5, kernel = 3)\n"
                          "layer bn = batchnorm(cv, activation = relu, momentum = 0.2)\n"
                          "layer f = flatten(bn)\nlayer out = dense(f, 2, activation = softmax)\n"
                          "loss cross_entropy(out, y)\n",
                          UPTO_MEMPLAN);
  Layer *l = find_layer(c.m, "bn");
  assert_int_equal(l->nparams, 10); /* gamma and beta of 5 channels */
  assert_true(l->bn_momentum == 0.2 && l->bn_eps == 1e-5);
  static const struct {
    const char *name;
    int pkind, ndim, n;
    bool grad;
  } want[] = {{"bn.weight", PK_LEARN, 1, 5, true},
              {"bn.bias", PK_LEARN, 1, 5, true},
              {"bn.running_mean", PK_BUFFER, 1, 5, false},
              {"bn.running_var", PK_BUFFER, 1, 5, false},
              {"bn.num_batches_tracked", PK_INT64, 0, 1, false}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    Value *v = find_value(c.ir, want[i].name);
    assert_non_null(v);
    assert_int_equal(v->arena, A_PARAM);
    assert_int_equal(v->pkind, want[i].pkind);
    assert_int_equal(v->shape.ndim, want[i].ndim);
    assert_int_equal(ir_numel(c.ir, v->id), want[i].n);
    assert_int_equal(v->grad >= 0, want[i].grad);
  }
  /* one update op per learnable parameter: conv 2, bn 2, dense 2 */
  assert_int_equal(count_ops(c.ir, OP_SGD, PASS_UPD), 6);
  /* relu fused into the normalization's store */
  Op *op = find_op(c.ir, OP_BATCHNORM, "bn");
  assert_non_null(op);
  assert_true(op->fused && op->act == ACT_RELU);
  compiled_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bn_four_rows), cmocka_unit_test(test_bn_partial_batch),
      cmocka_unit_test(test_bn_one_row),   cmocka_unit_test(test_bn_values),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
