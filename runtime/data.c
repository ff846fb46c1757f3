/* data.c — loader dispatch, data set lifetime, reading a whole file. */
#include "nnrt.h"
#include "nnrt_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nn_slurp(const char *path, char **buf, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap + 1);
  while (b) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap)
      break;
    char *nb = realloc(b, 2 * cap + 1);
    if (!nb) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  int e = errno, bad = !b || ferror(f);
  fclose(f);
  if (bad) {
    snprintf(err, errlen, "%s: error: cannot read: %s", path, b ? strerror(e) : "out of memory");
    free(b);
    return -1;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return 0;
}

int nn_data_load(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                 char *err, size_t errlen) {
  switch (src->kind) {
  case NN_SRC_CSV:
    return nn_data_csv(src, spec, out, err, errlen);
  case NN_SRC_IDX:
    return nn_data_idx(src, spec, out, err, errlen);
  case NN_SRC_TEXT:
    return nn_data_text(src, spec, out, err, errlen);
  case NN_SRC_SERIES:
    return nn_data_series(src, spec, out, err, errlen);
  case NN_SRC_NPY:
    return nn_data_npy(src, spec, out, err, errlen);
  case NN_SRC_NONE:
    break;
  }
  memset(out, 0, sizeof *out);
  snprintf(err, errlen, "%s: error: no data source", src->path ? src->path : "(none)");
  return -1;
}

/* Rows of d picked by keep[i] into *out (row order kept); -1 when out of
 * memory. */
static int nn_data_pick(const nn_dataset *d, const unsigned char *keep, int want, int n,
                        nn_dataset *out) {
  size_t dim = (size_t)d->dim, ydim = (size_t)d->ydim;
  size_t ncls = (size_t)(d->ncls > 0 ? d->ncls : 1);
  *out = *d;
  out->name = NULL;
  out->n = n;
  out->x = malloc(((size_t)n * dim + 1) * sizeof *out->x);
  out->cls = d->cls ? malloc(((size_t)n * ncls + 1) * sizeof *out->cls) : NULL;
  out->y = d->y ? malloc(((size_t)n * ydim + 1) * sizeof *out->y) : NULL;
  if (!out->x || (d->cls && !out->cls) || (d->y && !out->y)) {
    free(out->x);
    free(out->cls);
    free(out->y);
    memset(out, 0, sizeof *out);
    return -1;
  }
  for (int i = 0, k = 0; i < d->n; i++) {
    if (keep[i] != want)
      continue;
    memcpy(out->x + (size_t)k * dim, d->x + (size_t)i * dim, dim * sizeof *out->x);
    if (d->cls)
      memcpy(out->cls + (size_t)k * ncls, d->cls + (size_t)i * ncls, ncls * sizeof *out->cls);
    if (d->y)
      memcpy(out->y + (size_t)k * ydim, d->y + (size_t)i * ydim, ydim * sizeof *out->y);
    k++;
  }
  return 0;
}

int nn_data_split(nn_dataset *d, double frac, nn_rng *rng, nn_dataset *held, char *err,
                  size_t errlen) {
  memset(held, 0, sizeof *held);
  if (errlen)
    err[0] = '\0';
  long nv = lround(frac * d->n);
  if (nv < 1 || nv >= d->n) {
    snprintf(err, errlen, "%s: error: validation = %g of %d rows leaves %s", d->name, frac,
             d->n, nv < 1 ? "no validation rows" : "no training rows");
    return -1;
  }
  /* the first nv positions of a random permutation are held out */
  int32_t *perm = malloc(((size_t)d->n + 1) * sizeof *perm);
  unsigned char *keep = calloc((size_t)d->n + 1, 1);
  nn_dataset tr;
  int rc = -1;
  if (perm && keep) {
    for (int i = 0; i < d->n; i++)
      perm[i] = i;
    nn_shuffle(rng, perm, d->n);
    for (long i = 0; i < nv; i++)
      keep[perm[i]] = 1;
    if (nn_data_pick(d, keep, 1, (int)nv, held) == 0) {
      if (nn_data_pick(d, keep, 0, d->n - (int)nv, &tr) == 0) {
        size_t len = strlen(d->name) + 16;
        held->name = malloc(len);
        tr.name = malloc(len);
        if (held->name && tr.name) {
          snprintf(held->name, len, "held out of %s", d->name);
          snprintf(tr.name, len, "%s", d->name);
          nn_data_free(d);
          *d = tr;
          rc = 0;
        } else {
          nn_data_free(&tr);
        }
      }
      if (rc)
        nn_data_free(held);
    }
  }
  free(perm);
  free(keep);
  if (rc && !err[0])
    snprintf(err, errlen, "%s: error: out of memory holding out the validation rows", d->name);
  return rc;
}

void nn_data_free(nn_dataset *d) {
  free(d->name);
  free(d->x);
  free(d->cls);
  free(d->y);
  memset(d, 0, sizeof *d);
}

char *nn_source_name(const nn_source *src) {
  size_t a = strlen(src->path), b = src->path2 ? strlen(src->path2) : 0;
  char *s = malloc(a + b + 2);
  if (s) {
    memcpy(s, src->path, a + 1);
    if (src->path2) {
      s[a] = ',';
      memcpy(s + a + 1, src->path2, b + 1);
    }
  }
  return s;
}
