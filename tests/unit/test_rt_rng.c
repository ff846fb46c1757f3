/* test_rt_rng.c — PCG32 against the reference, the samplers' moments,
 * shuffling and the parameter initialisers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt.h"

/* pcg32-demo (pcg-c-basic): pcg32_srandom_r(&rng, 42u, 54u), round 1. */
static void test_reference_u32(void **state) {
  static const uint32_t want[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                   0x83d2f293, 0xbfa4784b, 0xcbed606e};
  nn_rng r;
  nn_rng_seed(&r, 42, 54);
  for (int i = 0; i < 6; i++)
    assert_int_equal(nn_rng_u32(&r), want[i]);
}

/* The demo continues with 65 coins (pcg32_boundedrand_r(2), 1 = H) and 33
 * dice (boundedrand(6) + 1): these pin nn_rng_below to the reference's
 * rejection method. */
static void test_reference_bounded(void **state) {
  static const char coins[] = "HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT";
  static const int rolls[33] = {3, 4, 1, 1, 2, 2, 3, 2, 4, 3, 2, 4, 3, 3, 5, 2, 3,
                                1, 3, 1, 5, 1, 4, 1, 5, 6, 4, 6, 6, 2, 6, 3, 3};
  nn_rng r;
  nn_rng_seed(&r, 42, 54);
  for (int i = 0; i < 6; i++)
    nn_rng_u32(&r);
  char got[66] = {0};
  for (int i = 0; i < 65; i++)
    got[i] = nn_rng_below(&r, 2) ? 'H' : 'T';
  assert_string_equal(got, coins);
  for (int i = 0; i < 33; i++)
    assert_int_equal(nn_rng_below(&r, 6) + 1, rolls[i]);
}

static void test_streams_differ(void **state) {
  nn_rng a, b, c;
  nn_rng_seed(&a, 7, 0);
  nn_rng_seed(&b, 7, 1);
  nn_rng_seed(&c, 7, 0);
  int same = 0;
  for (int i = 0; i < 16; i++) {
    uint32_t x = nn_rng_u32(&a), y = nn_rng_u32(&b);
    same += x == y;
    assert_int_equal(x, nn_rng_u32(&c));
  }
  assert_true(same < 2);
}

/* Mean 1/2 and variance 1/12; standard errors over 1e5 draws are ~1e-3. */
static void test_uniform_moments(void **state) {
  nn_rng r;
  nn_rng_seed(&r, 1, 2);
  const int n = 100000;
  double s = 0, s2 = 0, lo = 1, hi = 0;
  for (int i = 0; i < n; i++) {
    double u = nn_rng_uniform(&r);
    assert_true(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    lo = fmin(lo, u);
    hi = fmax(hi, u);
  }
  double mean = s / n, var = s2 / n - mean * mean;
  assert_true(fabs(mean - 0.5) < 0.005);
  assert_true(fabs(var - 1.0 / 12) < 0.003);
  assert_true(lo < 1e-3 && hi > 1 - 1e-3);
}

static void test_normal_moments(void **state) {
  nn_rng r;
  nn_rng_seed(&r, 3, 4);
  const int n = 100000;
  double s = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; i++) {
    double z = nn_rng_normal(&r);
    assert_true(isfinite(z));
    s += z;
    s2 += z * z;
    s4 += z * z * z * z;
  }
  double mean = s / n, var = s2 / n - mean * mean;
  assert_true(fabs(mean) < 0.015);
  assert_true(fabs(var - 1) < 0.02);
  assert_true(fabs(s4 / n - 3) < 0.1); /* kurtosis of N(0,1) */
}

/* nn_rng_below: in range and roughly uniform (chi-square-ish bound). */
static void test_below_uniform(void **state) {
  nn_rng r;
  nn_rng_seed(&r, 5, 6);
  int count[7] = {0};
  for (int i = 0; i < 70000; i++) {
    uint32_t v = nn_rng_below(&r, 7);
    assert_true(v < 7);
    count[v]++;
  }
  for (int k = 0; k < 7; k++)
    assert_true(abs(count[k] - 10000) < 400);
  assert_int_equal(nn_rng_below(&r, 1), 0);
}

static void test_shuffle_permutation(void **state) {
  nn_rng r;
  nn_rng_seed(&r, 9, 1);
  enum { N = 1000 };
  int32_t idx[N];
  int seen[N] = {0}, moved = 0;
  for (int i = 0; i < N; i++)
    idx[i] = i;
  nn_shuffle(&r, idx, N);
  for (int i = 0; i < N; i++) {
    assert_true(idx[i] >= 0 && idx[i] < N);
    seen[idx[i]]++;
    moved += idx[i] != i;
  }
  for (int i = 0; i < N; i++)
    assert_int_equal(seen[i], 1);
  assert_true(moved > N / 2);
  /* Edge cases: nothing to do, nothing touched. */
  int32_t one = 42;
  nn_shuffle(&r, &one, 1);
  assert_int_equal(one, 42);
  nn_shuffle(&r, NULL, 0);
}

/* Every arrangement of 3 elements about equally often. */
static void test_shuffle_uniform(void **state) {
  nn_rng r;
  nn_rng_seed(&r, 11, 1);
  int count[3][3] = {{0}};
  for (int t = 0; t < 30000; t++) {
    int32_t idx[3] = {0, 1, 2};
    nn_shuffle(&r, idx, 3);
    for (int i = 0; i < 3; i++)
      count[i][idx[i]]++;
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      assert_true(abs(count[i][j] - 10000) < 400);
}

static void test_init(void **state) {
  float f[1000];
  double d[1000];
  nn_rng r;
  nn_rng_seed(&r, 1, 0);
  nn_init_const(f, 4, 10, 2.5);
  nn_init_const(d, 8, 10, -1.25);
  for (int i = 0; i < 10; i++) {
    assert_true(f[i] == 2.5f);
    assert_true(d[i] == -1.25);
  }
  nn_init_zeros(f, 4, 10);
  nn_init_zeros(d, 8, 10);
  for (int i = 0; i < 10; i++)
    assert_true(f[i] == 0 && d[i] == 0);
  nn_init_uniform(f, 4, 1000, -2, 3, &r);
  nn_init_uniform(d, 8, 1000, -2, 3, &r);
  double sf = 0, sd = 0;
  for (int i = 0; i < 1000; i++) {
    assert_true(f[i] >= -2 && f[i] <= 3 && d[i] >= -2 && d[i] < 3);
    sf += f[i];
    sd += d[i];
  }
  assert_true(fabs(sf / 1000 - 0.5) < 0.15 && fabs(sd / 1000 - 0.5) < 0.15);
  nn_init_normal(d, 8, 1000, 10, 0.5, &r);
  double s = 0, s2 = 0;
  for (int i = 0; i < 1000; i++) {
    s += d[i];
    s2 += d[i] * d[i];
  }
  double mean = s / 1000, sd2 = sqrt(s2 / 1000 - mean * mean);
  assert_true(fabs(mean - 10) < 0.1 && fabs(sd2 - 0.5) < 0.05);
  /* Same seed, same values, in either real type. */
  nn_rng a, b;
  nn_rng_seed(&a, 77, 0);
  nn_rng_seed(&b, 77, 0);
  nn_init_normal(f, 4, 100, 0, 1, &a);
  nn_init_normal(d, 8, 100, 0, 1, &b);
  for (int i = 0; i < 100; i++)
    assert_true(f[i] == (float)d[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reference_u32),   cmocka_unit_test(test_reference_bounded),
      cmocka_unit_test(test_streams_differ),  cmocka_unit_test(test_uniform_moments),
      cmocka_unit_test(test_normal_moments),  cmocka_unit_test(test_below_uniform),
      cmocka_unit_test(test_shuffle_permutation), cmocka_unit_test(test_shuffle_uniform),
      cmocka_unit_test(test_init),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
