/* sgemm.c — single-precision GEMM GFLOP/s of a BLAS library at the training
 * shapes of the bench MLP (784 -> 256 -> 128 -> 10, batch 64), in the row-
 * major layouts of PyTorch and nncc (x [B,in], W [out,in]):
 *   forward          y[B,out]   = x[B,in] W^T        (B x out x in)
 *   backward-data    dx[B,in]   = dy[B,out] W        (B x in x out)
 *   backward-weights dW[out,in] = dy^T[out,B] x      (out x in x B)
 * Link with -lopenblas or -lblas (the system BLAS, which PyTorch loads).
 * Run with OPENBLAS_NUM_THREADS=1 (one thread); unset OPENBLAS_CORETYPE
 * to let OpenBLAS pick its kernel for this CPU.
 *   sgemm [SECONDS]  one line per shape:
 *   sgemm lib=... core=... shape=fwd m=64 n=256 k=784 gflops=...
 * (median of 3 runs of about SECONDS/30 each). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* OpenBLAS only; NULL when linked against another BLAS. */
extern char *openblas_get_corename(void) __attribute__((weak));

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The BLAS shared object this process loaded, from /proc/self/maps. */
static void blas_lib(char *buf, size_t len) {
  snprintf(buf, len, "static");
  FILE *f = fopen("/proc/self/maps", "r");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    char *p = strchr(line, '/'), *base = strrchr(line, '/');
    if (p && strncmp(base, "/lib", 4) == 0 && strstr(base, "blas")) {
      p[strcspn(p, "\n")] = '\0';
      snprintf(buf, len, "%s", p);
      break;
    }
  }
  if (f)
    fclose(f);
}

enum { FWD, BWD_DATA, BWD_W };

typedef struct {
  const char *name;
  int kind, B, in, out;
} shape;

static float *rnd(size_t n) {
  float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
  for (size_t i = 0; p && i < n; i++)
    p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  return p;
}

static void gemm(const shape *s, const float *x, const float *w, const float *dy, float *y,
                 float *dx, float *dw) {
  int B = s->B, In = s->in, O = s->out; /* not I: <complex.h> defines I */
  if (s->kind == FWD)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, O, In, 1, x, In, w, In, 0, y, O);
  else if (s->kind == BWD_DATA)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, In, O, 1, dy, O, w, In, 0, dx, In);
  else
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, In, B, 1, dy, O, x, In, 0, dw, In);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.5;
  if (!(seconds > 0))
    seconds = 1.5;
  static const shape shapes[] = {
      {"fwd", FWD, 64, 784, 256},   {"bwd-data", BWD_DATA, 64, 784, 256},
      {"bwd-w", BWD_W, 64, 784, 256}, {"fwd", FWD, 64, 256, 128},
      {"bwd-data", BWD_DATA, 64, 256, 128}, {"bwd-w", BWD_W, 64, 256, 128},
      {"fwd", FWD, 64, 128, 10},    {"bwd-data", BWD_DATA, 64, 128, 10},
      {"bwd-w", BWD_W, 64, 128, 10},
  };
  char lib[256];
  float *x = rnd(64 * 784), *w = rnd(784 * 256), *dy = rnd(64 * 256), *y = rnd(64 * 256),
        *dx = rnd(64 * 784), *dw = rnd(784 * 256);
  if (!x || !w || !dy || !y || !dx || !dw) {
    fprintf(stderr, "sgemm: out of memory\n");
    return 1;
  }
  gemm(&shapes[0], x, w, dy, y, dx, dw); /* load the library's kernels */
  blas_lib(lib, sizeof lib);
  const char *core = openblas_get_corename ? openblas_get_corename() : "-";
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const shape *s = &shapes[i];
    double flop = 2.0 * s->B * s->in * s->out, g[3];
    long n = 1;
    for (;;) { /* calibrate: n calls take about seconds / 30 */
      double t0 = now();
      for (long r = 0; r < n; r++)
        gemm(s, x, w, dy, y, dx, dw);
      double dt = now() - t0;
      if (dt > 0.005) {
        n = (long)((double)n * seconds / 30 / dt) + 1;
        break;
      }
      n *= 4;
    }
    for (int k = 0; k < 3; k++) {
      double t0 = now();
      for (long r = 0; r < n; r++)
        gemm(s, x, w, dy, y, dx, dw);
      g[k] = flop * (double)n / (now() - t0) * 1e-9;
    }
    qsort(g, 3, sizeof g[0], cmp);
    int m = s->kind == BWD_W ? s->out : s->B;
    int nn = s->kind == FWD ? s->out : s->in;
    int kk = s->kind == FWD ? s->in : s->kind == BWD_DATA ? s->out : s->B;
    printf("sgemm lib=%s core=%s shape=%s m=%d n=%d k=%d gflops=%.1f\n", lib, core, s->name, m,
           nn, kk, g[1]);
  }
  free(x), free(w), free(dy), free(y), free(dx), free(dw);
  return 0;
}
