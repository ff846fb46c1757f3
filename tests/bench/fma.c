/* fma.c — the machine's fp32 multiply-add throughput, as the yardstick for
 * nncc's GFLOP/s: a loop of independent a*x+b updates on 256 floats (16
 * AVX-512 or 32 AVX2 registers' worth, more than the FMA latency times the
 * FMA units need), so it is bound by throughput, not latency.  Plain C; build
 * with -O3 -march=native -fopenmp (the flags of the trainers).
 *   fma [SECONDS]   print one line per thread count (1, 2):
 *   fma threads=1 gflops=... (median of 3 runs of ~SECONDS/3 each)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define NACC 256 /* accumulators */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* iters rounds of acc = acc * a + b over NACC independent accumulators:
 * 2 * NACC * iters FLOP.  a < 1 keeps the values bounded, away from
 * infinities and subnormals. */
static float kernel(long iters, float seed) {
  float acc[NACC];
  const float a = 0.999999f, b = 1e-6f;
  for (int j = 0; j < NACC; j++)
    acc[j] = seed + (float)j * 1e-3f;
  for (long i = 0; i < iters; i++) {
#pragma omp simd
    for (int j = 0; j < NACC; j++)
      acc[j] = acc[j] * a + b;
  }
  float s = 0;
  for (int j = 0; j < NACC; j++)
    s += acc[j];
  return s;
}

static volatile float sink;

/* GFLOP/s of `threads` threads each running kernel(iters) at once. */
static double run(int threads, long iters) {
  double t0 = now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    float s = kernel(iters, (float)omp_get_thread_num());
#pragma omp atomic
    sink += s;
  }
#else
  (void)threads;
  sink += kernel(iters, 0);
  threads = 1;
#endif
  double dt = now() - t0;
  return 2.0 * NACC * (double)iters * threads / dt * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0.6;
  if (!(seconds > 0))
    seconds = 0.6;
  /* Calibrate on one thread: iterations for seconds / 6 per run. */
  long iters = 1000;
  for (;;) {
    double t0 = now();
    sink += kernel(iters, 1);
    double dt = now() - t0;
    if (dt > 0.02) {
      iters = (long)((double)iters * (seconds / 6) / dt) + 1;
      break;
    }
    iters *= 4;
  }
  for (int threads = 1; threads <= 2; threads++) {
    double g[3];
    run(threads, iters / 10); /* wake the threads */
    for (int r = 0; r < 3; r++)
      g[r] = run(threads, iters);
    qsort(g, 3, sizeof g[0], cmp);
    printf("fma threads=%d gflops=%.1f\n", threads, g[1]);
  }
  return 0;
}
