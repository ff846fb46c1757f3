/* rng.c — PCG32 (XSH-RR 64/32) and the parameter initialisers.
 *
 * Reference: M. E. O'Neill, pcg-c-basic (pcg32_random_r, pcg32_srandom_r,
 * pcg32_boundedrand_r).  The streams are bit-identical to the reference:
 * seed 42, stream 54 gives 0xa15c02b7 0x7b47f409 0xba1d3330 ...
 */
#include "nnrt.h"

#include <math.h>

#define NN_PCG_MULT 6364136223846793005ULL

/* state_{k+1} = state_k * MULT + inc (mod 2^64); the output permutes the
 * OLD state: xorshift high bits down, then rotate by the top 5 bits. */
uint32_t nn_rng_u32(nn_rng *r) {
  uint64_t old = r->state;
  r->state = old * NN_PCG_MULT + r->inc;
  uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t)(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

/* inc must be odd for a full period; the stream selects it. */
void nn_rng_seed(nn_rng *r, uint64_t seed, uint64_t stream) {
  r->state = 0;
  r->inc = (stream << 1u) | 1u;
  nn_rng_u32(r);
  r->state += seed;
  nn_rng_u32(r);
}

/* Reject the lowest (2^32 mod n) values so that the accepted range
 * [t, 2^32) holds a whole number of copies of [0, n). */
uint32_t nn_rng_below(nn_rng *r, uint32_t n) {
  uint32_t threshold = (uint32_t)(-n) % n;
  for (;;) {
    uint32_t v = nn_rng_u32(r);
    if (v >= threshold)
      return v % n;
  }
}

/* (a>>5) gives 27 bits, (b>>6) 26 bits: k = a*2^26 + b is uniform on
 * [0, 2^53) and k / 2^53 is exact in a double. */
double nn_rng_uniform(nn_rng *r) {
  uint64_t a = nn_rng_u32(r) >> 5, b = nn_rng_u32(r) >> 6;
  return (double)((a << 26) | b) * (1.0 / 9007199254740992.0);
}

/* Box-Muller: z = sqrt(-2 ln u1) cos(2 pi u2) with u1 in (0, 1]. */
double nn_rng_normal(nn_rng *r) {
  double u1 = 1.0 - nn_rng_uniform(r);
  double u2 = nn_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* Fisher-Yates: after step i, idx[i..n) is a uniform random arrangement. */
void nn_shuffle(nn_rng *r, int32_t *idx, int n) {
  for (int i = n - 1; i > 0; i--) {
    uint32_t j = nn_rng_below(r, (uint32_t)i + 1);
    int32_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

static void nn_init_store(void *p, int real_size, size_t i, double v) {
  if (real_size == 8)
    ((double *)p)[i] = v;
  else
    ((float *)p)[i] = (float)v;
}

void nn_init_zeros(void *p, int real_size, size_t n) {
  for (size_t i = 0; i < n; i++)
    nn_init_store(p, real_size, i, 0.0);
}

void nn_init_const(void *p, int real_size, size_t n, double v) {
  for (size_t i = 0; i < n; i++)
    nn_init_store(p, real_size, i, v);
}

void nn_init_uniform(void *p, int real_size, size_t n, double a, double b, nn_rng *r) {
  for (size_t i = 0; i < n; i++)
    nn_init_store(p, real_size, i, a + (b - a) * nn_rng_uniform(r));
}

void nn_init_normal(void *p, int real_size, size_t n, double mean, double std, nn_rng *r) {
  for (size_t i = 0; i < n; i++)
    nn_init_store(p, real_size, i, mean + std * nn_rng_normal(r));
}
