/* data.c — loader dispatch, data set lifetime, reading a whole file. */
#include "nnrt.h"
#include "nnrt_int.h"

#include <errno.h>
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
  case NN_SRC_NONE:
    break;
  }
  memset(out, 0, sizeof *out);
  snprintf(err, errlen, "%s: error: no data source", src->path ? src->path : "(none)");
  return -1;
}

void nn_data_free(nn_dataset *d) {
  free(d->name);
  free(d->x);
  free(d->cls);
  free(d->y);
  memset(d, 0, sizeof *d);
}
