/* nnmath.h — elementary functions for generated code that vectorize.
 *
 * libm's expf is a call the compiler cannot vectorize: a softmax, sigmoid or
 * tanh loop over a batch spends most of its time in it.  nn_expf below is
 * plain C that gcc and clang turn into vector code:
 *
 *   exp(x) = 2^n * e^r,  n = round(x / ln 2),  r = x - n ln 2,  |r| <= ln2/2
 *
 * n is rounded with the 1.5 * 2^23 trick (adding and subtracting it leaves
 * the nearest integer; this needs IEEE float arithmetic: never build with
 * -ffast-math, which folds it away), ln 2 is split in two (Cody-Waite) so r
 * is exact enough, e^r is Cephes' degree-6 minimax polynomial, and 2^n is
 * built in the exponent bits.  Inputs are clamped to [-87, 88], so the
 * result is always a normal float: exp(-87) ~ 1.6e-38 stands in for
 * anything smaller, exp(88) ~ 1.65e38 for anything larger (never inf),
 * and NaN stays NaN.  Relative error: below 2e-7 on the whole range
 * (tests/unit/test_rt_math.c measures it against libm in double).
 *
 * nn_exp / nn_tanh / nn_sigmoid pick the float version for float arguments
 * and libm's double functions otherwise (_Generic), so a trainer built with
 * -DNN_REAL=double computes exactly for gradient checks.
 */
#ifndef NNMATH_H
#define NNMATH_H

#include <math.h>
#include <stdint.h>

static inline float nn_expf(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float shift = 12582912.0f; /* 1.5 * 2^23 */
  float n = (x * 1.44269504088896341f + shift) - shift;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union {
    uint32_t u;
    float f;
  } s;
  s.u = (uint32_t)((int32_t)n + 127) << 23;
  return p * s.f;
}

/* tanh(x) = 1 - 2 / (e^{2x} + 1): exact limits +-1, absolute error ~1e-7
 * near 0 (relative error grows as |x| -> 0; training does not notice). */
static inline float nn_tanhf(float x) { return 1.0f - 2.0f / (nn_expf(2.0f * x) + 1.0f); }

static inline float nn_sigmoidf(float x) { return 1.0f / (1.0f + nn_expf(-x)); }
static inline double nn_sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

#define nn_exp(x) _Generic((x), float: nn_expf, default: exp)(x)
#define nn_tanh(x) _Generic((x), float: nn_tanhf, default: tanh)(x)
#define nn_sigmoid(x) _Generic((x), float: nn_sigmoidf, default: nn_sigmoid_d)(x)

/* Counter-based random numbers for dropout and gaussian_noise: the value of
 * element i of a layer in one training step is a pure function of (seed,
 * step, layer, i), so a step's forward pass can be repeated exactly (the
 * backward pass recomputes dropout's mask, the gradient check evaluates
 * the same function many times), the result does not depend on the thread
 * count or the loop order, and nothing is stored.
 *
 *   mix(z)   = splitmix64's finalizer (Steele, Lea, Flood 2014):
 *              z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
 *              z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31
 *   key      = mix(mix(mix(seed) ^ layer) ^ step)   (layer: FNV-1a 64 of its name)
 *   bits(i)  = mix(key + (i + 1) * 0x9e3779b97f4a7c15)
 *
 * bits(i) is the (i+1)-th output of a splitmix64 generator started at key:
 * equidistributed 64-bit words, a bijection of i for a fixed key.
 *
 *   dropout:  element i is kept iff (bits(i) >> 32) >= T, T = floor(rate 2^32),
 *             so P(drop) = T / 2^32 (within 2^-32 of rate)
 *   gaussian: u1 = ((bits(i) >> 32) + 1) 2^-32 in (0, 1],
 *             u2 = (bits(i) & 0xffffffff) 2^-32 in [0, 1),
 *             z  = sqrt(-2 ln u1) cos(2 pi u2) ~ N(0, 1) (Box-Muller, one
 *             of the pair), in double
 */
static inline uint64_t nn_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t nn_rand_key(uint64_t seed, uint64_t step, uint64_t layer) {
  return nn_mix64(nn_mix64(nn_mix64(seed) ^ layer) ^ step);
}

static inline uint64_t nn_rand_bits(uint64_t key, uint64_t i) {
  return nn_mix64(key + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

/* 1 if dropout keeps element i (threshold T = floor(rate 2^32)), else 0. */
static inline int nn_keep(uint64_t key, uint64_t i, uint32_t threshold) {
  return (uint32_t)(nn_rand_bits(key, i) >> 32) >= threshold;
}

/* A standard normal deviate for element i (Box-Muller). */
static inline double nn_gauss(uint64_t key, uint64_t i) {
  uint64_t r = nn_rand_bits(key, i);
  double u1 = ((double)(r >> 32) + 1.0) * 0x1p-32;
  double u2 = (double)(r & 0xffffffffULL) * 0x1p-32;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
