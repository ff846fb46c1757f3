/* gradcheck.c — the backward pass against central finite differences.
 *
 * For a parameter p_i the numeric derivative is
 *   n_i = (L(p_i + h) - L(p_i - h)) / (2h),
 * whose truncation error is O(h^2 L''') and rounding error O(eps L / h).
 * h = 1e-5 balances the two in double; float builds (eps ~ 6e-8) use
 * h = 1e-3 and need far looser tolerances.
 */
#include "nnrt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NN_GC_STREAM 7 /* rng stream of the check's inputs and choices */
#define NN_GC_SHOW 3   /* failing elements listed per tensor */

typedef struct nn_gc {
  const nn_model *m;
  nn_ctx *c;
  int nb;
  float *x, *y;
  int32_t *cls;
  double rtol, atol;
} nn_gc;

static double nn_gc_get(const nn_gc *g, size_t i) {
  return g->m->real_size == 8 ? ((double *)g->c->params)[i] : ((float *)g->c->params)[i];
}

static void nn_gc_set(const nn_gc *g, size_t i, double v) {
  if (g->m->real_size == 8)
    ((double *)g->c->params)[i] = v;
  else
    ((float *)g->c->params)[i] = (float)v;
}

/* A stateful model starts every evaluation from the zero state, so the
 * differences see only the parameter's change. */
static double nn_gc_loss(const nn_gc *g) {
  if (g->m->reset)
    g->m->reset(g->c);
  return g->m->forward(g->c, g->x, g->cls, g->y, g->nb, NULL);
}

/* Random inputs for nb rows, N(0,1) or token ids, and targets. */
static int nn_gc_inputs(nn_gc *g, nn_rng *r) {
  const nn_model *m = g->m;
  size_t nx = (size_t)g->nb * (size_t)m->in_dim;
  g->x = malloc((nx + 1) * sizeof *g->x);
  if (!g->x)
    return -1;
  for (size_t i = 0; i < nx; i++)
    g->x[i] = m->vocab > 0 ? (float)nn_rng_below(r, (uint32_t)m->vocab)
                           : (float)nn_rng_normal(r);
  if (m->target == NN_TARGET_CLASS) {
    size_t nc = (size_t)g->nb * (size_t)(m->ncls > 0 ? m->ncls : 1);
    g->cls = malloc((nc + 1) * sizeof *g->cls);
    if (!g->cls)
      return -1;
    for (size_t i = 0; i < nc; i++)
      g->cls[i] = (int32_t)nn_rng_below(r, (uint32_t)(m->nclasses > 0 ? m->nclasses : 1));
  } else if (m->target == NN_TARGET_REAL) {
    size_t ny = (size_t)g->nb * (size_t)m->ydim;
    g->y = malloc((ny + 1) * sizeof *g->y);
    if (!g->y)
      return -1;
    for (size_t i = 0; i < ny; i++)
      g->y[i] = (float)nn_rng_uniform(r);
  }
  return 0;
}

/* Up to k distinct element indices of a tensor of n: all of them when
 * n <= k, else a random subset, sorted. */
static int nn_gc_pick(nn_rng *r, size_t n, int k, size_t *out) {
  if (n <= (size_t)k) {
    for (size_t i = 0; i < n; i++)
      out[i] = i;
    return (int)n;
  }
  int got = 0;
  while (got < k) {
    size_t v = n <= UINT32_MAX ? nn_rng_below(r, (uint32_t)n)
                               : (size_t)(nn_rng_uniform(r) * (double)n);
    int dup = 0;
    for (int j = 0; j < got && !dup; j++)
      dup = out[j] == v;
    if (!dup)
      out[got++] = v;
  }
  for (int i = 1; i < got; i++) /* insertion sort: k is small */
    for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
      size_t t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return got;
}

/* Check the chosen elements of one tensor; returns how many fail. */
static int nn_gc_tensor(const nn_gc *g, const nn_param *p, const double *ga, const size_t *idx,
                        int k, double h) {
  double max_abs = 0, max_rel = 0;
  int bad = 0;
  for (int j = 0; j < k; j++) {
    size_t at = p->offset + idx[j];
    double p0 = nn_gc_get(g, at);
    nn_gc_set(g, at, p0 + h);
    double lp = nn_gc_loss(g);
    nn_gc_set(g, at, p0 - h);
    double lm = nn_gc_loss(g);
    nn_gc_set(g, at, p0);
    double num = (lp - lm) / (2 * h), ana = ga[at];
    double abs_err = fabs(ana - num), big = fmax(fabs(ana), fabs(num));
    double rel_err = big > 0 ? abs_err / big : 0;
    if (!isfinite(abs_err))
      abs_err = rel_err = INFINITY;
    max_abs = fmax(max_abs, abs_err);
    max_rel = fmax(max_rel, rel_err);
    if (!(abs_err <= g->atol + g->rtol * big)) {
      if (bad < NN_GC_SHOW)
        printf("  %s[%zu]: analytic %.10g, numeric %.10g\n", p->name, idx[j], ana, num);
      bad++;
    }
  }
  printf("gradcheck %s: %d of %zu checked, max abs err %.2g, max rel err %.2g\n", p->name, k,
         p->size, max_abs, max_rel);
  return bad;
}

static int nn_gc_run(nn_gc *g, uint64_t seed, int per_tensor) {
  const nn_model *m = g->m;
  nn_rng r;
  nn_rng_seed(&r, seed, NN_GC_STREAM);
  double *ga = malloc((m->params_size + 1) * sizeof *ga);
  size_t *idx = malloc(((size_t)per_tensor + 1) * sizeof *idx);
  if (!ga || !idx || nn_gc_inputs(g, &r)) {
    free(ga);
    free(idx);
    fprintf(stderr, "gradcheck: error: out of memory\n");
    return -1;
  }
  /* Analytic gradients at the current parameters. */
  nn_gc_loss(g);
  m->backward(g->c, g->cls, g->y, g->nb);
  for (size_t i = 0; i < m->params_size; i++)
    ga[i] = m->real_size == 8 ? ((double *)g->c->grads)[i] : ((float *)g->c->grads)[i];
  double h = m->real_size == 8 ? 1e-5 : 1e-3;
  int bad = 0, total = 0;
  for (int t = 0; t < m->nparams; t++) {
    if (m->params[t].kind != NN_PARAM_LEARN)
      continue; /* buffers (running statistics) have no gradient */
    int k = nn_gc_pick(&r, m->params[t].size, per_tensor, idx);
    bad += nn_gc_tensor(g, &m->params[t], ga, idx, k, h);
    total += k;
  }
  printf("gradcheck: %d of %d elements outside tolerance (rtol=%g, atol=%g)\n", bad, total,
         g->rtol, g->atol);
  free(ga);
  free(idx);
  return bad;
}

int nn_gradcheck(const nn_model *m, nn_ctx *c, uint64_t seed, int nb, int per_tensor,
                 double rtol, double atol) {
  nn_gc g = {.m = m, .c = c, .rtol = rtol, .atol = atol};
  g.nb = nb < 1 ? 1 : nb > m->batch ? m->batch : nb;
  if (per_tensor < 1)
    per_tensor = 1;
  /* Training mode with the step held fixed: dropout's mask and the noise
   * are the same in every evaluation, so the differences see a fixed
   * function (batch norm uses the batch's statistics, as in training). */
  /* The check's forward passes update buffers (batchnorm's running
   * statistics): put the whole params arena back afterwards. */
  size_t bytes = m->params_size * (size_t)m->real_size;
  void *saved = malloc(bytes + 1);
  if (!saved) {
    fprintf(stderr, "gradcheck: error: out of memory\n");
    return -1;
  }
  memcpy(saved, c->params, bytes);
  int training = c->training;
  c->training = 1;
  if (!c->seed)
    c->seed = seed;
  int bad = nn_gc_run(&g, seed, per_tensor);
  memcpy(c->params, saved, bytes);
  free(saved);
  c->training = training;
  free(g.x);
  free(g.cls);
  free(g.y);
  fflush(stdout);
  return bad;
}
