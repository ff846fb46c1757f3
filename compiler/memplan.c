/* memplan.c — a static memory plan: every value gets an offset in its
 * arena, so the trainer allocates four buffers once and never again.
 *
 *   params  learnable parameters, in checkpoint order
 *   grads   their gradients, at the same offsets as the parameters
 *   state   optimizer state (momentum), one buffer per parameter
 *   acts    batched activations and their gradients, B rows each
 *
 * Offsets are rounded up to 16 elements (64 bytes for float), so every
 * buffer starts on a cache line.  A view (alias) shares its base's offset.
 * Values no op touches (fused away) get none.  Activation buffers are not
 * yet reused across lifetimes.
 */
#include "nncc.h"

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Values no op touches (a pre-activation fused away) get no storage. */
static void mark_dead(IR *ir) {
  char *used = xcalloc((size_t)ir->nvals, 1);
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (op->out >= 0)
      used[op->out] = 1;
    for (int k = 0; k < op->nin; k++)
      used[op->in[k]] = 1;
  }
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->alias >= 0 && used[i])
      used[v->alias] = 1;
  }
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    v->dead = !used[i] && i != ir->input && i != ir->output && v->arena != A_PARAM &&
              v->arena != A_NONE && v->arena != A_EXTERN;
  }
  free(used);
}

void memplan(IR *ir) {
  size_t top[A_EXTERN + 1] = {0};
  Model *m = ir->m;
  mark_dead(ir);
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->alias >= 0 || v->dead || v->arena == A_NONE || v->arena == A_EXTERN ||
        v->arena == A_GRAD)
      continue;
    size_t n = (size_t)shape_numel(&v->shape) * (v->batched ? (size_t)m->batch : 1);
    v->offset = top[v->arena];
    top[v->arena] += round16(n);
  }
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->alias >= 0) {
      v->offset = ir->vals[v->alias]->offset;
      v->arena = ir->vals[v->alias]->arena;
    } else if (v->arena == A_GRAD) {
      v->offset = ir->vals[ir->params[v->param]]->offset;
    }
  }
  top[A_GRAD] = top[A_PARAM];
  for (int a = 0; a <= A_EXTERN; a++)
    ir->arena_size[a] = top[a];
}
