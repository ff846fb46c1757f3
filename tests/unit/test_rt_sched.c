/* test_rt_sched.c — nn_schedule_lr, the learning rate of every epoch and
 * step, against torch.optim.lr_scheduler's sequences worked out by hand:
 * StepLR, ExponentialLR, CosineAnnealingLR (stepped once an epoch) and the
 * linear warm-up (LinearLR(start_factor = 1/K, total_iters = K - 1),
 * stepped every batch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "nnrt.h"

static void expect_lr(const nn_schedule *s, double lr, int epochs, const double *want, int n) {
  for (int e = 0; e < n; e++) {
    double got = nn_schedule_lr(s, lr, e, epochs, 1000); /* past any warm-up */
    if (!(fabs(got - want[e]) <= 1e-15 * fabs(want[e]) + 1e-300))
      fail_msg("epoch %d: lr %.17g, want %.17g", e, got, want[e]);
  }
}

/* No schedule: the base rate at every epoch and step. */
static void test_none(void **state) {
  nn_schedule s = {0};
  static const double want[3] = {0.3, 0.3, 0.3};
  expect_lr(&s, 0.3, 10, want, 3);
  assert_true(nn_schedule_lr(&s, 0.3, 0, 10, 0) == 0.3);
}

/* StepLR(step_size = 2, gamma = 0.1) from 1: 1, 1, 0.1, 0.1, 0.01, 0.01, 0.001 */
static void test_step(void **state) {
  nn_schedule s = {.kind = NN_SCHED_STEP, .every = 2, .gamma = 0.1};
  const double want[7] = {1, 1, 0.1, 0.1, pow(0.1, 2), pow(0.1, 2), pow(0.1, 3)};
  expect_lr(&s, 1, 10, want, 7);
}

/* ExponentialLR(gamma = 0.5) from 0.8: 0.8, 0.4, 0.2, 0.1, 0.05 */
static void test_exponential(void **state) {
  nn_schedule s = {.kind = NN_SCHED_EXPONENTIAL, .gamma = 0.5};
  static const double want[5] = {0.8, 0.4, 0.2, 0.1, 0.05};
  expect_lr(&s, 0.8, 10, want, 5);
}

/* CosineAnnealingLR(T_max = 4, eta_min = 0.1) from 1:
 *   e = 0: 1;  1: 0.1 + 0.9 (1 + cos(pi/4)) / 2 = 0.1 + 0.45 (1 + sqrt(1/2));
 *   2: 0.1 + 0.45 = 0.55;  3: 0.1 + 0.45 (1 - sqrt(1/2));  4: 0.1 */
static void test_cosine(void **state) {
  nn_schedule s = {.kind = NN_SCHED_COSINE, .epochs = 4, .min_lr = 0.1};
  const double r = sqrt(0.5);
  const double want[5] = {1, 0.1 + 0.45 * (1 + r), 0.55, 0.1 + 0.45 * (1 - r), 0.1};
  expect_lr(&s, 1, 100, want, 5);
}

/* epochs = 0: the half period is the run's epochs (here 2): 1, 0.5, 0 */
static void test_cosine_run_epochs(void **state) {
  nn_schedule s = {.kind = NN_SCHED_COSINE};
  static const double want[3] = {1, 0.5, 0};
  for (int e = 0; e < 3; e++)
    assert_true(fabs(nn_schedule_lr(&s, 1, e, 2, 99) - want[e]) < 1e-15);
}

/* warmup = 4 steps: lr (s + 1) / 4 for steps 0..3, then lr; times the
 * epoch's rate (exponential 0.5 at epoch 1: 0.5) */
static void test_warmup(void **state) {
  nn_schedule s = {.warmup = 4};
  static const double want[6] = {0.25, 0.5, 0.75, 1, 1, 1};
  for (int st = 0; st < 6; st++)
    assert_true(nn_schedule_lr(&s, 1, 0, 10, (uint64_t)st) == want[st]);
  nn_schedule e = {.kind = NN_SCHED_EXPONENTIAL, .gamma = 0.5, .warmup = 4};
  assert_true(nn_schedule_lr(&e, 2, 1, 10, 2) == 2 * 0.5 * 0.75);
  assert_true(nn_schedule_lr(&e, 2, 1, 10, 4) == 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_none),   cmocka_unit_test(test_step),
      cmocka_unit_test(test_exponential), cmocka_unit_test(test_cosine),
      cmocka_unit_test(test_cosine_run_epochs), cmocka_unit_test(test_warmup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
