/* batch.c — gathering shuffled rows into contiguous batch buffers. */
#include "nnrt.h"

#include <string.h>

/* Row k of the batch is row order[start + k] of the data set. */
void nn_batch_gather(const nn_dataset *d, const int32_t *order, int start, int nb,
                     float *xb, int32_t *cb, float *yb) {
  size_t dim = (size_t)d->dim, ydim = (size_t)d->ydim;
  size_t ncls = (size_t)(d->ncls > 0 ? d->ncls : 1);
  for (int k = 0; k < nb; k++) {
    size_t row = (size_t)order[start + k];
    if (xb)
      memcpy(xb + (size_t)k * dim, d->x + row * dim, dim * sizeof *xb);
    if (cb && d->cls)
      memcpy(cb + (size_t)k * ncls, d->cls + row * ncls, ncls * sizeof *cb);
    if (yb && d->y)
      memcpy(yb + (size_t)k * ydim, d->y + row * ydim, ydim * sizeof *yb);
  }
}
