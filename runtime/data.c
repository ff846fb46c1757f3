/* data.c — loader dispatch and data set lifetime. */
#include "nnrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nn_data_load(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                 char *err, size_t errlen) {
  switch (src->kind) {
  case NN_SRC_CSV:
    return nn_data_csv(src, spec, out, err, errlen);
  case NN_SRC_IDX:
    return nn_data_idx(src, spec, out, err, errlen);
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
