/* ctx.c — the buffers of one model instance. */
#include "nnrt.h"

#include <stdlib.h>
#include <string.h>

#define NN_CTX_ALIGN 64

/* aligned_alloc wants a size that is a multiple of the alignment; a buffer
 * of 0 reals still gets one aligned block so every pointer is non-NULL. */
static void *nn_ctx_buffer(size_t n, int real_size) {
  size_t bytes = n * (size_t)real_size;
  if (real_size != 0 && bytes / (size_t)real_size != n)
    return NULL;
  size_t rounded = (bytes + NN_CTX_ALIGN - 1) / NN_CTX_ALIGN * NN_CTX_ALIGN;
  if (rounded < bytes)
    return NULL;
  if (rounded == 0)
    rounded = NN_CTX_ALIGN;
  void *p = aligned_alloc(NN_CTX_ALIGN, rounded);
  if (p)
    memset(p, 0, rounded);
  return p;
}

int nn_ctx_alloc(nn_ctx *c, const nn_model *m) {
  memset(c, 0, sizeof *c);
  int rs = m->real_size;
  c->params = nn_ctx_buffer(m->params_size, rs);
  c->grads = nn_ctx_buffer(m->params_size, rs);
  c->state = nn_ctx_buffer(m->state_size, rs);
  c->acts = nn_ctx_buffer(m->acts_size, rs);
  if (!c->params || !c->grads || !c->state || !c->acts) {
    nn_ctx_free(c);
    return -1;
  }
  return 0;
}

void nn_ctx_free(nn_ctx *c) {
  free(c->params);
  free(c->grads);
  free(c->state);
  free(c->acts);
  memset(c, 0, sizeof *c);
}
