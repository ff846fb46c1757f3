/* autodiff.c — reverse-mode differentiation at compile time, as an IR pass
 * (after KANN's kad_grad).
 *
 * Walks the forward and loss ops backwards.  A loss op seeds the sweep: its
 * rule writes the gradient of the mean loss into its inputs directly.  Any
 * other op whose output has a gradient appends, through its op table row,
 * the ops that compute its inputs' gradients.  Only values that depend on a
 * parameter (needs_grad) get gradients, so nothing is computed for the
 * input.  A value that feeds several ops (fan-out: a layer read by a
 * dense layer and by an add, the same layer twice in one add) receives its
 * first gradient by assignment and the others by accumulation
 * (op->accumulate): the layers are in topological order, so every reader
 * of a value comes after it and the reverse sweep has summed all their
 * contributions before the value's own rule reads its gradient.  Last, one
 * optimizer op per parameter.
 */
#include <string.h>

#include "nncc.h"

/* Mark needs_grad: parameters, and every op output with such an input. */
static void mark_needs_grad(IR *ir, int nops) {
  for (int i = 0; i < ir->nvals; i++) /* buffers (batchnorm's running statistics) get none */
    ir->vals[i]->needs_grad = ir->vals[i]->arena == A_PARAM && ir->vals[i]->pkind == PK_LEARN;
  for (int i = 0; i < nops; i++) {
    Op *op = &ir->ops[i];
    if (op->out < 0)
      continue;
    for (int k = 0; k < op->nin; k++)
      if (ir->vals[op->in[k]]->needs_grad)
        ir->vals[op->out]->needs_grad = true;
  }
}

/* Append a backward op computing the gradient of value x from `in`, and
 * make it x's gradient (or add to it, if x has one already). */
static void grad_op(IR *ir, Op *fwd, OpKind k, int x, const int *in, int nin) {
  Value *xv = ir->vals[x];
  if (xv->grad >= 0) {
    ir_op(ir, k, PASS_BWD, fwd->layer, NULL, A_ACT, in, nin);
    Op *op = ir_last_op(ir);
    op->geo = fwd->geo;
    op->out = xv->grad;
    op->accumulate = true;
    return;
  }
  char *name = xasprintf("d_%s", xv->name);
  ir_op(ir, k, PASS_BWD, fwd->layer, NULL, A_ACT, in, nin);
  ir_last_op(ir)->geo = fwd->geo; /* windows: the same geometry as the forward op */
  int g = ir_op_output(ir, name, xv->arena == A_PARAM ? A_GRAD : A_ACT);
  free(name);
  ir->vals[g]->param = xv->param;
  ir->vals[x]->grad = g;
}

static int dy_of(IR *ir, Op *op) { return ir->vals[op->out]->grad; }

static bool wants(IR *ir, int v) { return ir->vals[v]->needs_grad; }

/* ------------------------------------------------------- gradient rules */

/* view: the input's gradient is the output's gradient seen with the
 * input's shape (no copy). */
void grad_view(IR *ir, Op *op) {
  int x = op->in[0];
  if (!wants(ir, x))
    return;
  Value *xv = ir->vals[x], *dy = ir->vals[dy_of(ir, op)];
  if (xv->grad >= 0) { /* x has another reader too: add this gradient to its own */
    Op f = *op;
    grad_op(ir, &f, OP_COPY, x, &dy->id, 1);
    return;
  }
  char *name = xasprintf("d_%s", xv->name);
  Value *dx = ir_value(ir, name, A_ACT, xv->batched, xv->shape, xv->layer);
  free(name);
  dx->alias = dy->alias >= 0 ? dy->alias : dy->id;
  xv->grad = dx->id;
}

/* The row-major copy of x an earlier transpose op made, or -1. */
static int transposed(IR *ir, int x) {
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].kind == OP_TRANSPOSE && ir->ops[i].in[0] == x)
      return ir->ops[i].out;
  return -1;
}

/* How many inputs of forward and loss ops read x. */
static int fwd_readers(IR *ir, int x) {
  int n = 0;
  for (int i = 0; i < ir->nops; i++)
    for (int k = 0; k < ir->ops[i].nin; k++)
      n += ir->ops[i].pass <= PASS_LOSS && ir->ops[i].in[k] == x;
  return n;
}

/* dx = the channels [off, off + width) of dy (f's), as grad_op does: x's
 * gradient, or added to it. */
static void slice_op(IR *ir, const Op *f, int x, int dy) {
  Value *xv = ir->vals[x];
  ir_op(ir, OP_SLICE, PASS_BWD, f->layer, NULL, A_ACT, &dy, 1);
  Op *op = ir_last_op(ir);
  op->off = f->off;
  op->width = f->width;
  if (xv->grad >= 0) {
    op->out = xv->grad;
    op->accumulate = true;
    return;
  }
  char *name = xasprintf("d_%s", xv->name);
  int g = ir_op_output(ir, name, A_ACT);
  free(name);
  ir->vals[x]->grad = g;
}

/* y = x w^T + b:  dx = dy w,  dw = dy^T x,  db = sum_b dy.  A linear with
 * a fused activation has none yet: fuse.c runs after autodiff. */
void grad_linear(IR *ir, Op *op) {
  Op f = *op; /* appending may move the op array */
  int dy = dy_of(ir, &f);
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_MATMUL_NN, f.in[0], (int[]){dy, f.in[1]}, 2);
  /* the weight gradient reads the layer input row-major (one copy of it
   * for all the layers that read it) */
  Value *x = ir->vals[f.in[0]];
  int xt = transposed(ir, f.in[0]);
  if (xt < 0) {
    char *tname = xasprintf("%s_t", x->name);
    xt = ir_op(ir, OP_TRANSPOSE, PASS_BWD, f.layer, tname, A_ACT, &f.in[0], 1);
    free(tname);
    ir->vals[xt]->row_major = true;
    /* the batch arrives row-major: forward() copies it here directly */
    ir->vals[xt]->from_batch = x->id == ir->input || x->alias == ir->input;
  }
  grad_op(ir, &f, OP_MATMUL_TN, f.in[1], (int[]){dy, xt}, 2);
  if (f.nin == 3)
    grad_op(ir, &f, OP_COLSUM, f.in[2], &dy, 1);
}

/* y = w[:, id] + b (a linear of a one-hot input):  dw[:, id] += dy per
 * column, db = sum dy; the ids get no gradient. */
void grad_gather(IR *ir, Op *op) {
  Op f = *op;
  int dy = dy_of(ir, &f);
  grad_op(ir, &f, OP_SCATTER_ADD, f.in[1], (int[]){dy, f.in[0]}, 2);
  if (f.nin == 3)
    grad_op(ir, &f, OP_COLSUM, f.in[2], &dy, 1);
}

/* y = f(x):  dx = f'(.) dy, with f' written in terms of x or y (acts.h). */
void grad_act(IR *ir, Op *op) {
  static const char uses[] = {
#define ACT(id, name, fwd, bwd, u) [ACT_##id] = u,
#include "acts.h"
#undef ACT
  };
  Op f = *op;
  if (!wants(ir, f.in[0]))
    return;
  int in[2] = {dy_of(ir, &f), -1}, nin = 1;
  if (uses[f.act] == 'x')
    in[nin++] = f.in[0];
  else if (uses[f.act] == 'y')
    in[nin++] = f.out;
  grad_op(ir, &f, OP_ACT_GRAD, f.in[0], in, nin);
  Op *g = ir_last_op(ir);
  g->act = f.act;
  g->alpha = f.alpha;
}

/* y = softmax(x):  dx = y (dy - <dy, y>) row by row */
void grad_softmax(IR *ir, Op *op) {
  Op f = *op;
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_SOFTMAX_GRAD, f.in[0], (int[]){dy_of(ir, &f), f.out}, 2);
}

/* Losses seed the sweep.  ce_softmax(z, p, c): dz = (p - onehot(c)) / nb */
void grad_ce_softmax(IR *ir, Op *op) {
  Op f = *op;
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_CE_SOFTMAX_GRAD, f.in[0], (int[]){f.in[1], f.in[2]}, 2);
}

/* bce_sigmoid(z, p, t): dz = (p - t) / (nb K) */
void grad_bce_sigmoid(IR *ir, Op *op) {
  Op f = *op;
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_BCE_SIGMOID_GRAD, f.in[0], (int[]){f.in[1], f.in[2]}, 2);
}

/* mse(y, t): dy = 2 (y - t) / (nb K) */
void grad_mse(IR *ir, Op *op) {
  Op f = *op;
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_MSE_GRAD, f.in[0], (int[]){f.in[0], f.in[1]}, 2);
}

/* y = conv2d(x, w, b):  dx = the transposed convolution of dy with w;
 * dw = dy against the im2col panel of x;  db = dy summed per channel. */
void grad_conv2d(IR *ir, Op *op) {
  Op f = *op;
  int dy = dy_of(ir, &f);
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_CONV2D_DX, f.in[0], (int[]){dy, f.in[1]}, 2);
  char *cname = xasprintf("%s_col", ir->vals[f.in[0]]->name);
  ir_op(ir, OP_IM2COL, PASS_BWD, f.layer, NULL, A_ACT, &f.in[0], 1);
  ir_last_op(ir)->geo = f.geo;
  int col = ir_op_output(ir, cname, A_ACT);
  free(cname);
  ir->vals[col]->row_major = true;
  grad_op(ir, &f, OP_CONV2D_DW, f.in[1], (int[]){dy, col}, 2);
  if (f.nin == 3)
    grad_op(ir, &f, OP_CHANNEL_SUM, f.in[2], &dy, 1);
}

/* maxpool: each gradient goes to its window's first maximum, found again
 * by comparing x with y (no index is stored). */
void grad_maxpool(IR *ir, Op *op) {
  Op f = *op;
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_MAXPOOL_GRAD, f.in[0], (int[]){dy_of(ir, &f), f.in[0], f.out}, 3);
}

void grad_avgpool(IR *ir, Op *op) {
  Op f = *op;
  int dy = dy_of(ir, &f);
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_AVGPOOL_GRAD, f.in[0], &dy, 1);
}

/* h = scan(gx, w_hh, b_hh), backpropagation through time: scan_grad walks
 * the steps backwards and writes dgx (the gradient of every step's gate
 * pre-activations) and, for a gru, dgh (that of w_hh h + b_hh, which
 * differs in the n gate: n = tanh(gx_n + r (w_hn h + b_hn))); then dw_hh =
 * sum over steps of dgh[t] h[t-1]^T, db_hh = sum dgh.  The linear's rule
 * turns dgx into dx, dw_ih and db_ih. */
void grad_scan(IR *ir, Op *op) {
  Op f = *op;
  Layer *l = f.layer;
  ScanAux a = ir_scan_aux(&f);
  int T = ir->vals[f.out]->steps, H = (int)ir_feat(ir, f.out);
  int in[8] = {dy_of(ir, &f), f.out, f.in[1], a.h0}, nin = 4;
  if (a.gates >= 0)
    in[nin++] = a.gates;
  if (l->kind == LAYER_LSTM) {
    in[nin++] = a.c;
    in[nin++] = a.c0;
  }
  grad_op(ir, &f, OP_SCAN_GRAD, f.in[0], in, nin);
  int dgh = ir->vals[f.in[0]]->grad;
  Shape sh = {.ndim = 1, .dims = {H}};
  if (l->kind == LAYER_GRU)
    dgh = ir_aux(ir, true, (Shape){.ndim = 2, .dims = {T, 3 * H}}, T, "d_%s_gh", l->name)->id;
  ir_aux(ir, true, sh, 0, "d_%s_hnext", l->name);
  if (l->kind == LAYER_LSTM)
    ir_aux(ir, true, sh, 0, "d_%s_cnext", l->name);
  char *n = xasprintf("%s_prev_t", l->name);
  int hp = ir_op(ir, OP_SHIFT_T, PASS_BWD, l, n, A_ACT, (int[]){f.out, a.h0}, 2);
  free(n);
  ir->vals[hp]->row_major = true;
  grad_op(ir, &f, OP_MATMUL_TN, f.in[1], (int[]){dgh, hp}, 2);
  if (f.nin == 3)
    grad_op(ir, &f, OP_COLSUM, f.in[2], &dgh, 1);
}

/* y = h[T-1]: dh is dy at the last step, zero before. */
void grad_last(IR *ir, Op *op) {
  Op f = *op;
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_LAST_GRAD, f.in[0], (int[]){dy_of(ir, &f), f.in[0]}, 2);
}

/* y = dropout(x):  dx = dy m / (1 - rate) with the forward's mask m
 * recomputed from the same (seed, step, layer, element) in the backward
 * pass.  Not dx = dy y / x: that is 0/0 where x = 0 (a relu's zeros),
 * and storing the mask would cost memory that recomputing it does not. */
void grad_dropout(IR *ir, Op *op) {
  Op f = *op;
  if (!wants(ir, f.in[0]))
    return;
  grad_op(ir, &f, OP_DROPOUT_GRAD, f.in[0], (int[]){dy_of(ir, &f)}, 1);
  ir_last_op(ir)->alpha = f.alpha;
}

/* y = x + std z:  dx = dy.  When x has no other reader, dx is dy itself
 * (a view, no copy); otherwise dy is added to dx by act_grad.identity. */
void grad_noise(IR *ir, Op *op) {
  Op f = *op;
  int x = f.in[0];
  if (!wants(ir, x))
    return;
  Value *xv = ir->vals[x], *dy = ir->vals[dy_of(ir, &f)];
  int readers = 0;
  for (int i = 0; i < ir->nops; i++)
    for (int k = 0; k < ir->ops[i].nin; k++)
      readers += ir->ops[i].in[k] == x && ir->ops[i].pass <= PASS_LOSS;
  if (xv->grad < 0 && readers == 1) {
    char *name = xasprintf("d_%s", xv->name);
    Value *dx = ir_value(ir, name, A_ACT, xv->batched, xv->shape, xv->layer);
    free(name);
    dx->steps = xv->steps;
    dx->alias = dy->alias >= 0 ? dy->alias : dy->id;
    xv->grad = dx->id;
    return;
  }
  grad_op(ir, &f, OP_ACT_GRAD, x, (int[]){dy->id}, 1);
  ir_last_op(ir)->act = ACT_IDENTITY;
}

/* z = batchnorm(x, gamma, beta) with the batch's statistics (training
 * mode; gradients are only taken there), xhat = (x - mean) invstd over n
 * values per channel:  dgamma = sum dy xhat,  dbeta = sum dy,
 * dx = gamma invstd (dy - (dbeta + xhat dgamma) / n): the full gradient,
 * through the mean and the variance.  The running statistics get none. */
void grad_batchnorm(IR *ir, Op *op) {
  Op f = *op;
  int dy = dy_of(ir, &f), stats = f.aux[0];
  grad_op(ir, &f, OP_BN_DGAMMA, f.in[1], (int[]){dy, f.in[0], stats}, 3);
  grad_op(ir, &f, OP_BN_DBETA, f.in[2], &dy, 1);
  if (wants(ir, f.in[0]))
    grad_op(ir, &f, OP_BN_DX, f.in[0],
            (int[]){dy, f.in[0], f.in[1], stats, ir->vals[f.in[1]]->grad,
                    ir->vals[f.in[2]]->grad}, 6);
}

/* y = x1 + x2 + ...:  every dxi is dy.  An input read by nothing else
 * shares dy's storage (no copy, as a view's gradient); one with other
 * readers, or read twice here, gets a copy it can sum the others into. */
void grad_add(IR *ir, Op *op) {
  Op f = *op;
  int dy = dy_of(ir, &f);
  for (int i = 0; i < f.nin; i++) {
    int x = f.in[i];
    Value *xv = ir->vals[x];
    if (!wants(ir, x))
      continue;
    if (xv->grad < 0 && fwd_readers(ir, x) == 1) {
      Value *d = ir->vals[dy];
      char *name = xasprintf("d_%s", xv->name);
      Value *dx = ir_value(ir, name, A_ACT, xv->batched, xv->shape, xv->layer);
      free(name);
      dx->alias = d->alias >= 0 ? d->alias : d->id;
      xv->grad = dx->id;
      continue;
    }
    grad_op(ir, &f, OP_COPY, x, &dy, 1);
  }
}

/* y = concat(x1, x2, ...):  dxi = dy's channels of xi at every pixel */
void grad_concat(IR *ir, Op *op) {
  Op f = *op;
  int dy = dy_of(ir, &f), off = 0;
  for (int i = 0; i < f.nin; i++) {
    Value *xv = ir->vals[f.in[i]];
    int width = xv->shape.dims[xv->shape.ndim - 1];
    if (wants(ir, f.in[i])) {
      Op g = f;
      g.off = off;
      g.width = width;
      slice_op(ir, &g, f.in[i], dy);
    }
    off += width;
  }
}

/* loss += lambda sum |y| / nb:  dy = lambda sign(y) / nb (a seed, like a
 * loss's gradient; the layers that read y add theirs to it) */
void grad_activity_l1(IR *ir, Op *op) {
  Op f = *op;
  if (!wants(ir, f.in[0]))
    return;
  grad_op(ir, &f, OP_ACTIVITY_L1_GRAD, f.in[0], &f.in[0], 1);
  ir_last_op(ir)->alpha = f.alpha;
}

void grad_none(IR *ir, Op *op) {
  die("autodiff: op %s has no gradient rule", op_info[op->kind].name);
}

static bool is_loss(OpKind k) {
  return k == OP_CE_SOFTMAX || k == OP_BCE_SIGMOID || k == OP_MSE || k == OP_ACTIVITY_L1;
}

/* An optimizer state buffer of parameter w, in the state arena. */
static int state_buf(IR *ir, const char *prefix, Value *w) {
  char *name = xasprintf("%s_%s", prefix, w->name);
  Value *v = ir_value(ir, name, A_STATE, false, w->shape, w->layer);
  free(name);
  v->param = w->param;
  return v->id;
}

/* adam / adamw: adam(w, g, m, v) with the first and second moments m, v;
 * rmsprop(w, g, sq [, buf]) with the mean square and, with momentum, its
 * buffer.  Returns false for sgd and perceptron (one sgd op each). */
static bool append_adaptive(IR *ir, Value *w) {
  Model *m = ir->m;
  if (m->opt == OPT_ADAM || m->opt == OPT_ADAMW) {
    int in[4] = {w->id, w->grad, state_buf(ir, "m", w), state_buf(ir, "v", w)};
    ir_op(ir, OP_ADAM, PASS_UPD, w->layer, NULL, A_NONE, in, 4);
    return true;
  }
  if (m->opt == OPT_RMSPROP) {
    int in[4] = {w->id, w->grad, state_buf(ir, "sq", w), -1}, nin = 3;
    if (m->momentum > 0)
      in[nin++] = state_buf(ir, "buf", w);
    ir_op(ir, OP_RMSPROP, PASS_UPD, w->layer, NULL, A_NONE, in, nin);
    ir_last_op(ir)->alpha = m->momentum;
    return true;
  }
  return false;
}

/* The perceptron rule as a gradient (straight-through): the loss's
 * gradient becomes dz = y - t summed over the batch (perceptron_grad) and
 * the step's derivative 1, so the sgd step w -= lr dz x^T is
 * w += lr (t - y) x^T. */
static void perceptron_grads(IR *ir) {
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (op->pass != PASS_BWD)
      continue;
    if (op->kind == OP_MSE_GRAD)
      op->kind = OP_PERCEPTRON_GRAD;
    else if (op->kind == OP_ACT_GRAD && op->act == ACT_STEP)
      op->act = ACT_IDENTITY;
  }
}

/* One SGD op per parameter: sgd(w, g [, v]) with momentum buffer v. */
static void append_update(IR *ir) {
  Model *m = ir->m;
  for (int i = 0; i < ir->nparams; i++) {
    Value *w = ir->vals[ir->params[i]];
    if (w->grad < 0)
      continue;
    if (append_adaptive(ir, w))
      continue;
    int in[3] = {w->id, w->grad, -1}, nin = 2;
    if (m->momentum > 0) {
      char *name = xasprintf("v_%s", w->name);
      Value *v = ir_value(ir, name, A_STATE, false, w->shape, w->layer);
      free(name);
      v->param = w->param;
      in[nin++] = v->id;
    }
    ir_op(ir, OP_SGD, PASS_UPD, w->layer, NULL, A_NONE, in, nin);
    ir_last_op(ir)->alpha = m->momentum;
  }
}

void autodiff(IR *ir) {
  int nfwd = ir->nops;
  mark_needs_grad(ir, nfwd);
  for (int i = nfwd - 1; i >= 0; i--) {
    Op *op = &ir->ops[i];
    if (is_loss(op->kind) || (op->out >= 0 && ir->vals[op->out]->grad >= 0))
      op_info[op->kind].grad(ir, op);
  }
  if (ir->m->opt == OPT_PERCEPTRON)
    perceptron_grads(ir);
  append_update(ir);
}
