/* test_init.c — the initializers against the papers' formulas.
 *
 * Each test compiles one large layer with the compiler's API, builds the
 * trainer with a small driver (below) against libnnrt.a, and runs only
 * its init(): the driver prints, per parameter, the sample size n, mean,
 * variance, kurtosis, minimum and maximum of the drawn values.  The
 * expected figures are computed here from the layer's fan-in and fan-out
 * (written out by hand, not taken from shape.c):
 *
 *   Glorot & Bengio (2010), "Understanding the difficulty of training deep
 *   feedforward neural networks", eq. 16 (uniform) and the normal variant:
 *     Var W = 2 / (fan_in + fan_out)
 *   He et al. (2015), "Delving deep into rectifiers", eq. 10:
 *     Var W = 2 / fan_in
 *   uniform(-a, a) has variance a^2 / 3, so a = sqrt(3 Var);  mean 0.
 *   dense: fan_in = K inputs, fan_out = N units (torch.nn.init's
 *   _calculate_fan_in_and_fan_out); conv2d: fan_in = C_in kh kw, fan_out =
 *   C_out kh kw.
 *
 * Tolerances come from the sample size, at 5 standard errors (a false
 * failure has probability below 1e-6 per check; the draws are fixed by
 * the seed anyway, so the test is deterministic):
 *   mean:      5 sigma / sqrt(n)
 *   variance:  5 sigma^2 sqrt((kappa - 1) / n), kappa the kurtosis (3 for
 *              the normal, 9/5 for the uniform): Var(s^2) ~ (mu4 - sigma^4) / n
 *   kurtosis:  5 sqrt(24 / n) (the normal's standard error; the uniform's is
 *              smaller), which tells a normal (3) from a uniform (1.8)
 *   uniform bounds: every value in [-a, a]; the extremes within 40 a / n
 *              of the bounds (P(max < a (1 - 40 / n)) = (1 - 20 / n)^n ~ e^-20)
 *   normal tails: some |w| beyond 3.5 sigma (with n >= 2e5 about 93 are
 *              expected; the probability of none is ~ e^-93)
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

#define HARNESS_NAME "test_init"
#include "trainer_harness.h"

/* init() with seed 42, then the moments of every parameter. */
static const char init_driver_src[] =
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include \"nnrt.h\"\n"
    "extern const nn_model nn_model_desc;\n"
    "int main(void) {\n"
    "  const nn_model *m = &nn_model_desc;\n"
    "  if (m->real_size != 8) return 2;\n"
    "  nn_ctx c;\n"
    "  if (nn_ctx_alloc(&c, m)) return 2;\n"
    "  nn_rng r;\n"
    "  nn_rng_seed(&r, 42, 1);\n"
    "  m->init(&c, &r);\n"
    "  const double *P = c.params;\n"
    "  for (int t = 0; t < m->nparams; t++) {\n"
    "    const double *w = P + m->params[t].offset;\n"
    "    size_t n = m->params[t].size;\n"
    "    double s = 0, s2 = 0, s4 = 0, lo = w[0], hi = w[0];\n"
    "    for (size_t i = 0; i < n; i++) {\n"
    "      s += w[i];\n"
    "      lo = w[i] < lo ? w[i] : lo;\n"
    "      hi = w[i] > hi ? w[i] : hi;\n"
    "    }\n"
    "    double mean = s / (double)n;\n"
    "    for (size_t i = 0; i < n; i++) {\n"
    "      double d = w[i] - mean;\n"
    "      s2 += d * d;\n"
    "      s4 += d * d * d * d;\n"
    "    }\n"
    "    double var = s2 / (double)(n - 1), m2 = s2 / (double)n;\n"
    "    double kurt = m2 > 0 ? s4 / (double)n / (m2 * m2) : 0;\n"
    "    printf(\"%s %zu %.17g %.17g %.17g %.17g %.17g\\n\", m->params[t].name, n, mean, var,\n"
    "           kurt, lo, hi);\n"
    "  }\n"
    "  nn_ctx_free(&c);\n"
    "  return 0;\n"
    "}\n";

typedef struct Stats {
  char name[32];
  long n;
  double mean, var, kurt, lo, hi;
} Stats;

/* Compile `model`, build it with the driver, run it: the stats of the
 * parameter called `param`. */
static Stats init_stats(const char *name, const char *model, const char *param) {
  char *drv = harness_driver("init_driver", init_driver_src);
  char *outp = harness_run(name, model, drv, NULL, NULL);
  Stats s = {0}, found = {0};
  FILE *f = fopen(outp, "r");
  assert_non_null(f);
  while (fscanf(f, "%31s %ld %lf %lf %lf %lf %lf", s.name, &s.n, &s.mean, &s.var, &s.kurt, &s.lo,
                &s.hi) == 7)
    if (!strcmp(s.name, param))
      found = s;
  fclose(f);
  free(drv);
  free(outp);
  if (!found.n)
    fail_msg("no parameter '%s' in the driver's output", param);
  return found;
}

typedef enum { UNIFORM, NORMAL } Dist;

/* The checks of the header comment, for a zero-mean distribution of
 * variance `var`. */
static void check_dist(const Stats *s, Dist d, double var) {
  double n = (double)s->n, sd = sqrt(var), kappa = d == NORMAL ? 3.0 : 1.8;
  double tol_mean = 5 * sd / sqrt(n), tol_var = 5 * var * sqrt((kappa - 1) / n);
  double tol_kurt = 5 * sqrt(24 / n);
  printf("  %s: n %ld, mean %.3g (tol %.2g), var %.6g want %.6g (tol %.2g), kurtosis %.4f "
         "want %.1f (tol %.3f), min %.6g, max %.6g\n", s->name, s->n, s->mean, tol_mean, s->var,
         var, tol_var, s->kurt, kappa, tol_kurt, s->lo, s->hi);
  if (!(fabs(s->mean) <= tol_mean))
    fail_msg("%s: mean %.17g, want 0 within %g", s->name, s->mean, tol_mean);
  if (!(fabs(s->var - var) <= tol_var))
    fail_msg("%s: variance %.17g, want %.17g within %g", s->name, s->var, var, tol_var);
  if (!(fabs(s->kurt - kappa) <= tol_kurt))
    fail_msg("%s: kurtosis %.17g, want %g within %g", s->name, s->kurt, kappa, tol_kurt);
  if (d == UNIFORM) {
    double a = sqrt(3 * var), slack = 40 * a / n;
    if (!(s->lo >= -a && s->hi <= a))
      fail_msg("%s: values in [%.17g, %.17g], outside the bounds +-%.17g", s->name, s->lo, s->hi,
               a);
    if (!(s->lo < -a + slack && s->hi > a - slack))
      fail_msg("%s: extremes %.17g, %.17g farther than %g from the bounds +-%.17g", s->name,
               s->lo, s->hi, slack, a);
  } else if (!(fmax(-s->lo, s->hi) > 3.5 * sd)) {
    fail_msg("%s: no value beyond 3.5 sigma (min %g, max %g, sigma %g): not a normal",
             s->name, s->lo, s->hi, sd);
  }
}

/* dense 1000 -> 500: fan_in 1000, fan_out 500 (unequal, so a formula
 * that swapped or dropped fan_out would fail), 500000 weights */
static Stats dense_stats(const char *name, const char *init, const char *act) {
  char *model = xasprintf("input x[1000]\nlabel y : real[500]\n"
                          "layer h = dense(x, 500%s%s%s%s)\nloss mse(h, y)\n",
                          init ? ", init = " : "", init ? init : "", act ? ", activation = " : "",
                          act ? act : "");
  Stats s = init_stats(name, model, "h.weight");
  free(model);
  assert_int_equal(s.n, 500000);
  return s;
}

static const double glorot_dense = 2.0 / (1000 + 500), he_dense = 2.0 / 1000;

static void test_xavier(void **state) { /* `xavier` is Glorot's uniform */
  Stats s = dense_stats("xavier", "xavier", NULL);
  check_dist(&s, UNIFORM, glorot_dense);
}

static void test_xavier_uniform(void **state) {
  Stats s = dense_stats("xavier_uniform", "xavier_uniform", NULL);
  check_dist(&s, UNIFORM, glorot_dense);
}

static void test_xavier_normal(void **state) {
  Stats s = dense_stats("xavier_normal", "xavier_normal", NULL);
  check_dist(&s, NORMAL, glorot_dense);
}

static void test_he(void **state) { /* `he` is He's normal */
  Stats s = dense_stats("he", "he", NULL);
  check_dist(&s, NORMAL, he_dense);
}

static void test_he_uniform(void **state) {
  Stats s = dense_stats("he_uniform", "he_uniform", NULL);
  check_dist(&s, UNIFORM, he_dense);
}

static void test_he_normal(void **state) {
  Stats s = dense_stats("he_normal", "he_normal", NULL);
  check_dist(&s, NORMAL, he_dense);
}

/* The defaults: He (normal) for relu, Glorot (uniform) otherwise. */
static void test_defaults(void **state) {
  Stats s = dense_stats("default_relu", NULL, "relu");
  check_dist(&s, NORMAL, he_dense);
  s = dense_stats("default_tanh", NULL, "tanh");
  check_dist(&s, UNIFORM, glorot_dense);
}

/* conv2d 64 -> 128 channels, 5x5: fan_in 64 * 25 = 1600, fan_out 128 * 25
 * = 3200, 204800 weights */
static void test_conv(void **state) {
  static const char *const inits[] = {"xavier_uniform", "xavier_normal", "he_uniform",
                                      "he_normal"};
  for (int i = 0; i < 4; i++) {
    char *model = xasprintf("input x[5, 5, 64]\nlabel y : real[128]\n"
                            "layer c = conv2d(x, 128, kernel = 5, init = %s)\n"
                            "layer f = flatten(c)\nloss mse(f, y)\n", inits[i]);
    char *name = xasprintf("conv_%s", inits[i]);
    Stats s = init_stats(name, model, "c.weight");
    free(model);
    free(name);
    assert_int_equal(s.n, 204800);
    bool he = i >= 2;
    check_dist(&s, i % 2 ? NORMAL : UNIFORM, he ? 2.0 / 1600 : 2.0 / (1600 + 3200));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_xavier),     cmocka_unit_test(test_xavier_uniform),
      cmocka_unit_test(test_xavier_normal), cmocka_unit_test(test_he),
      cmocka_unit_test(test_he_uniform), cmocka_unit_test(test_he_normal),
      cmocka_unit_test(test_defaults),   cmocka_unit_test(test_conv),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
