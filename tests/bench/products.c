/* products.c — nncc's two largest products of the MLP against OpenBLAS's
 * sgemm on the same shapes, one thread, same process.
 *
 * Built by tests/bench/run.sh with -DMODEL_C='"<generated mlp.c>"': it
 * includes the trainer nncc wrote for tests/bench/models/mlp.nn and times
 * its layer functions directly:
 *   h1_forward   y[256][64] = relu(W[256][784] x[784][64] + b)   (forward)
 *   h1_backward  dW[256][784] = dz[256][64] x^T[64][784] (+ relu', colsum)
 * With -DHAVE_CBLAS it also times cblas_sgemm on the same two shapes
 * (row-major, W as PyTorch stores it).  Prints GFLOP/s, counting 2*M*N*K
 * per product (the elementwise work is left out of the count).
 *   products SECONDS
 */
#define NN_NO_MAIN
#include MODEL_C

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static real *buf(size_t n) {
  real *p = aligned_alloc(64, (n * sizeof(real) + 63) / 64 * 64);
  for (size_t i = 0; p && i < n; i++)
    p[i] = (real)((double)rand() / RAND_MAX - 0.5);
  return p;
}

/* Call fn until `secs` pass; return GFLOP/s for `flops` per call. */
static double rate(double secs, double flops, void (*fn)(void)) {
  long reps = 0;
  double t0 = now(), t;
  do {
    for (int r = 0; r < 50; r++)
      fn();
    reps += 50;
  } while ((t = now() - t0) < secs);
  return flops * (double)reps / t / 1e9;
}

enum { Bn = 64, K = 784, N = 256 };
static real *x, *xt, *w, *b, *y, *dy, *dz, *dw, *db;

static void fwd(void) { h1_forward(y, x, w, b); }
static void bwd(void) { h1_backward(dz, dw, db, dy, y, xt); }
#ifdef HAVE_CBLAS
static void fwd_blas(void) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Bn, N, K, 1, (float *)x, K, (float *)w, K,
              0, (float *)y, N);
}
static void bwd_blas(void) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, Bn, 1, (float *)dy, N, (float *)x,
              K, 0, (float *)dw, K);
}
#endif

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.5, flops = 2.0 * Bn * N * K;
  x = buf((size_t)K * Bn), xt = buf((size_t)K * Bn), w = buf((size_t)N * K);
  b = buf(N), y = buf((size_t)N * Bn), dy = buf((size_t)N * Bn);
  dz = buf((size_t)N * Bn), dw = buf((size_t)N * K), db = buf(N);
  printf("product fwd 64x256x784 nncc %.1f", rate(secs, flops, fwd));
#ifdef HAVE_CBLAS
  printf(" openblas %.1f", rate(secs, flops, fwd_blas));
#endif
  printf("\nproduct bwd-w 256x784x64 nncc %.1f", rate(secs, flops, bwd));
#ifdef HAVE_CBLAS
  printf(" openblas %.1f", rate(secs, flops, bwd_blas));
#endif
  printf("\n");
  return 0;
}
