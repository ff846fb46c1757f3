/* fuse.c — fusion of elementwise ops into the products that feed them.
 *
 *   z = linear x, w, b;  y = act.f z    ==>   y = linear x, w, b  (f in the store)
 *   (and the same for conv2d, and batchnorm: z is never read by its gradients)
 *
 * when nothing else reads z: the activation's derivative is written in
 * terms of y (relu, sigmoid, tanh, step; acts.h), so after the forward
 * pass z is dead.  The fused product applies f to each accumulator as it
 * stores it, so z is never written to memory.  leaky_relu and softplus
 * differentiate through z and stay unfused.  Runs after autodiff (which
 * sees the plain ops) and before the memory plan (which then gives z no
 * storage).  Softmax + cross-entropy needs no pass: lowering already gives
 * the loss the logits and its gradient rule writes dL/dz directly.
 *
 * dropout, dropout_grad and noise are left alone: they are not `act` ops,
 * so the rule above never matches them, and an activation after them
 * (dropout -> act) is not preceded by a product.  A dropout after a fused
 * linear reads the product's stored output, which is what it needs.
 */
#include "nncc.h"

static int readers(IR *ir, int v) {
  int n = 0;
  for (int i = 0; i < ir->nops; i++)
    for (int k = 0; k < ir->ops[i].nin; k++)
      n += ir->ops[i].in[k] == v;
  return n;
}

void fuse(IR *ir) {
  int w = 0;
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    Op *prev = w > 0 ? &ir->ops[w - 1] : NULL;
    if (op->kind == OP_ACT && prev && (prev->kind == OP_LINEAR || prev->kind == OP_CONV2D ||
                              prev->kind == OP_BATCHNORM) &&
        !prev->fused &&
        prev->out == op->in[0] && readers(ir, op->in[0]) == 1 && !prev->accumulate) {
      prev->fused = true;
      prev->act = op->act;
      prev->alpha = op->alpha;
      prev->out = op->out;
      continue; /* drop the act op */
    }
    ir->ops[w++] = *op;
  }
  ir->nops = w;
}
