/* lower.c — layers to primitive IR ops (after KANN's kann_layer_dense).
 *
 *   flatten(x)               v = view x
 *   conv2d(x, F, act = f)    z = conv2d x, W[F,C,KH,KW] (, b[F]);  y = act.f z
 *   maxpool / avgpool(x)     y = maxpool x / avgpool x
 *   dense(x, N, act = f)     z = linear x, W[N,K] (, b[N]);  y = act.f z
 *                            (softmax: y = softmax z; identity: y is z)
 *   cross_entropy(y, c)      loss = ce_softmax z, p, c   with p = softmax(z)
 *   binary_cross_entropy     loss = bce_sigmoid z, p, t  with p = sigmoid(z)
 *   mse(y, t)                loss = mse y, t
 *   rnn/lstm/gru(x, H)       gx = linear x, W_ih[GH,F] (, b_ih);  h = scan gx, W_hh[GH,H] (, b_hh)
 *   batchnorm(x, act = f)    z = batchnorm x, gamma[C], beta[C] (writes the saved statistics
 *                            and the buffers running_mean, running_var, num_batches_tracked);
 *                            y = act.f z
 *   (x the token input)      a linear of the one-hot input is gather ids, W (, b)
 *                            (return = last: y = last h)
 *   dropout(x, rate = p)     y = dropout x  rate=p   (training: x m / (1 - p); else x)
 *   gaussian_noise(x, std)   y = noise x  std=s      (training: x + s N(0, 1); else x)
 *                            (x may be the model input itself: a denoising
 *                            autoencoder's loss still reads the clean input)
 *   add(a, b, act = f)       z = add a, b;  y = act.f z   (identity: y is z)
 *   concat(a, b)             y = concat a, b
 *   activity_l1 = X on y     loss += activity_l1 y   (after the loss; alpha = X)
 *
 * The losses take the logits z as well as the probabilities p, so that
 * their gradient rule writes dL/dz = (p - target)/n directly: the fused
 * softmax/sigmoid + cross-entropy gradient, with no backward pass through
 * the softmax itself.  If the output layer's activation is identity, p is
 * computed inside the loss (PyTorch's CrossEntropyLoss / BCEWithLogits).
 */
#include <string.h>

#include "nncc.h"

typedef struct Lower {
  IR *ir;
  int *y; /* per layer (by order): value id of its output */
  int *z; /* per layer: value id of its pre-activation (dense), else -1 */
} Lower;

static Shape vec(int n) { return (Shape){.ndim = 1, .dims = {n}}; }

/* The op of y = w x (+ b) with in = {x, w [, b]}: a linear, or, when x is
 * the one-hot token input, a gather of w's columns reading the ids. */
static OpKind product_of(IR *ir, int *in) {
  if (in[0] != ir->input || ir->ids < 0)
    return OP_LINEAR;
  in[0] = ir->ids;
  return OP_GATHER;
}

/* A layer with a weight, an optional bias and an activation (dense,
 * conv2d): z = OP(x, w [, b]) with the op's geometry, then y = act(z). */
static void lower_weighted(Lower *L, Layer *l, OpKind k, Shape wshape, int nbias) {
  IR *ir = L->ir;
  int x = L->y[l->inputs[0]->order];
  char *wname = xasprintf("%s.weight", l->name), *bname = xasprintf("%s.bias", l->name);
  Value *w = ir_value(ir, wname, A_PARAM, false, wshape, l);
  w->init = l->init;
  w->decay = true;
  int in[3] = {x, w->id, -1}, nin = 2;
  if (l->bias) {
    Value *b = ir_value(ir, bname, A_PARAM, false, vec(nbias), l);
    b->init = l->bias_init;
    in[nin++] = b->id;
  }
  free(wname);
  free(bname);
  bool identity = l->act == ACT_IDENTITY;
  char *zname = identity ? xstrdup(l->name) : xasprintf("%s_z", l->name);
  if (k == OP_LINEAR)
    k = product_of(ir, in);
  ir_op(ir, k, PASS_FWD, l, NULL, A_ACT, in, nin);
  ir_last_op(ir)->geo = l->geo;
  int z = ir_op_output(ir, zname, A_ACT);
  free(zname);
  L->z[l->order] = z;
  L->y[l->order] = z;
  if (l->act == ACT_SOFTMAX) {
    L->y[l->order] = ir_op(ir, OP_SOFTMAX, PASS_FWD, l, l->name, A_ACT, &z, 1);
  } else if (!identity) {
    ir_op(ir, OP_ACT, PASS_FWD, l, NULL, A_ACT, &z, 1);
    Op *op = ir_last_op(ir);
    op->act = l->act;
    op->alpha = l->alpha;
    L->y[l->order] = ir_op_output(ir, l->name, A_ACT);
  }
}

static void lower_dense(Lower *L, Layer *l) {
  int k = (int)ir_feat(L->ir, L->y[l->inputs[0]->order]); /* per step of a sequence */
  lower_weighted(L, l, OP_LINEAR, (Shape){.ndim = 2, .dims = {l->units, k}}, l->units);
}

static void lower_conv(Lower *L, Layer *l) {
  const Geo *g = &l->geo;
  lower_weighted(L, l, OP_CONV2D, (Shape){.ndim = 4, .dims = {g->oc, g->ic, g->kh, g->kw}}, g->oc);
}

static int param_(Lower *L, Layer *l, const char *suffix, Shape s, Init init, bool decay) {
  char *name = xasprintf("%s.%s", l->name, suffix);
  Value *v = ir_value(L->ir, name, A_PARAM, false, s, l);
  free(name);
  v->init = init;
  v->decay = decay;
  return v->id;
}

/* A recurrent layer, with PyTorch's parameters (nn.RNN, nn.LSTM, nn.GRU,
 * one layer: weight_ih_l0 [G H, F], weight_hh_l0 [G H, H], bias_ih_l0,
 * bias_hh_l0, in that order).  The input projection of every step is one
 * product over T*B columns; the scan runs the recurrence. */
static void lower_recurrent(Lower *L, Layer *l) {
  IR *ir = L->ir;
  int x = L->y[l->inputs[0]->order];
  int H = l->units, GH = ir_gates(l->kind) * H, F = (int)ir_feat(ir, x);
  Shape wih = {.ndim = 2, .dims = {GH, F}}, whh = {.ndim = 2, .dims = {GH, H}};
  int w_ih = param_(L, l, "weight_ih_l0", wih, l->init, true);
  int w_hh = param_(L, l, "weight_hh_l0", whh, l->init, true);
  int in[3] = {x, w_ih, -1}, nin = 2;
  int b_hh = -1;
  if (l->bias) {
    in[nin++] = param_(L, l, "bias_ih_l0", vec(GH), l->bias_init, false);
    b_hh = param_(L, l, "bias_hh_l0", vec(GH), l->bias_init, false);
  }
  char *gname = xasprintf("%s_gx", l->name);
  int gx = ir_op(ir, product_of(ir, in), PASS_FWD, l, gname, A_ACT, in, nin);
  free(gname);
  int sin[3] = {gx, w_hh, b_hh};
  char *hname = l->ret_seq ? xstrdup(l->name) : xasprintf("%s_seq", l->name);
  int h = ir_op(ir, OP_SCAN, PASS_FWD, l, hname, A_ACT, sin, b_hh >= 0 ? 3 : 2);
  free(hname);
  /* what the scan writes besides h: the gates the backward pass needs,
   * the state it started from, the state it carries */
  int T = ir->vals[h]->steps;
  Shape sh = vec(H);
  bool lstm = l->kind == LAYER_LSTM;
  if (l->kind != LAYER_RNN)
    ir_aux(ir, true, (Shape){.ndim = 2, .dims = {T, 4 * H}}, T, "%s_gates", l->name);
  if (lstm)
    ir_aux(ir, true, (Shape){.ndim = 2, .dims = {T, H}}, T, "%s_c", l->name);
  ir_aux(ir, true, sh, 0, "%s_h0", l->name);
  if (lstm)
    ir_aux(ir, true, sh, 0, "%s_c0", l->name);
  ir_aux(ir, true, sh, 0, "%s_state_h", l->name)->persist = l->stateful;
  if (lstm)
    ir_aux(ir, true, sh, 0, "%s_state_c", l->name)->persist = l->stateful;
  L->y[l->order] = l->ret_seq ? h : ir_op(ir, OP_LAST, PASS_FWD, l, l->name, A_ACT, &h, 1);
}

static void lower_pool(Lower *L, Layer *l) {
  int x = L->y[l->inputs[0]->order];
  ir_op(L->ir, l->kind == LAYER_MAXPOOL ? OP_MAXPOOL : OP_AVGPOOL, PASS_FWD, l, NULL, A_ACT, &x, 1);
  ir_last_op(L->ir)->geo = l->geo;
  L->y[l->order] = ir_op_output(L->ir, l->name, A_ACT);
}

/* dropout and gaussian_noise: one elementwise op; alpha holds the rate or
 * the standard deviation, op->layer names the layer whose name keys the
 * random stream (emit_c.c). */
static void lower_noise(Lower *L, Layer *l) {
  int x = L->y[l->inputs[0]->order];
  bool drop = l->kind == LAYER_DROPOUT;
  ir_op(L->ir, drop ? OP_DROPOUT : OP_NOISE, PASS_FWD, l, NULL, A_ACT, &x, 1);
  ir_last_op(L->ir)->alpha = drop ? l->rate : l->noise_std;
  L->y[l->order] = ir_op_output(L->ir, l->name, A_ACT);
}

/* batchnorm: PyTorch's BatchNorm1d/2d tensors, in its state_dict order:
 * weight (gamma, 1), bias (beta, 0), then the buffers running_mean (0),
 * running_var (1), num_batches_tracked (an int64 scalar, 0).  The buffers
 * are A_PARAM values (checkpoints and the best-weights copy hold them)
 * that no gradient reaches and no optimizer op updates: the batchnorm op
 * writes them (aux) in a training forward pass.  No weight decay on gamma
 * and beta (nncc decays weights of products only). */
static void lower_batchnorm(Lower *L, Layer *l) {
  IR *ir = L->ir;
  int x = L->y[l->inputs[0]->order];
  int C = ir_bn_channels(ir, x);
  Init ones = {INIT_CONST, 1, 0, "ones"}, zeros = {INIT_ZEROS, 0, 0, "zeros"};
  int in[3] = {x, param_(L, l, "weight", vec(C), ones, false),
               param_(L, l, "bias", vec(C), zeros, false)};
  int rm = param_(L, l, "running_mean", vec(C), zeros, false);
  int rv = param_(L, l, "running_var", vec(C), ones, false);
  int nbt = param_(L, l, "num_batches_tracked", (Shape){0}, zeros, false);
  ir->vals[rm]->pkind = ir->vals[rv]->pkind = PK_BUFFER;
  ir->vals[nbt]->pkind = PK_INT64;
  bool identity = l->act == ACT_IDENTITY;
  char *zname = identity ? xstrdup(l->name) : xasprintf("%s_z", l->name);
  ir_op(ir, OP_BATCHNORM, PASS_FWD, l, NULL, A_ACT, in, 3);
  int z = ir_op_output(ir, zname, A_ACT);
  free(zname);
  /* the statistics the normalization used (mean, 1 / sqrt(var + eps)), for
   * the backward pass; then the buffers, updated in place */
  ir_aux(ir, false, (Shape){.ndim = 2, .dims = {2, C}}, 0, "%s_stats", l->name);
  Op *op = ir_last_op(ir);
  op->aux[op->naux++] = rm;
  op->aux[op->naux++] = rv;
  op->aux[op->naux++] = nbt;
  L->z[l->order] = L->y[l->order] = z;
  if (l->act == ACT_SOFTMAX) {
    L->y[l->order] = ir_op(ir, OP_SOFTMAX, PASS_FWD, l, l->name, A_ACT, &z, 1);
  } else if (!identity) {
    ir_op(ir, OP_ACT, PASS_FWD, l, NULL, A_ACT, &z, 1);
    ir_last_op(ir)->act = l->act;
    ir_last_op(ir)->alpha = l->alpha;
    L->y[l->order] = ir_op_output(ir, l->name, A_ACT);
  }
}

/* add(a, b, ...) with an optional activation, concat(a, b, ...) */
static void lower_merge(Lower *L, Layer *l) {
  IR *ir = L->ir;
  int in[MAX_OP_IN];
  for (int i = 0; i < l->ninputs; i++)
    in[i] = L->y[l->inputs[i]->order];
  if (l->kind == LAYER_CONCAT) {
    L->y[l->order] = ir_op(ir, OP_CONCAT, PASS_FWD, l, l->name, A_ACT, in, l->ninputs);
    return;
  }
  bool identity = l->act == ACT_IDENTITY;
  char *zname = identity ? xstrdup(l->name) : xasprintf("%s_z", l->name);
  int z = ir_op(ir, OP_ADD, PASS_FWD, l, zname, A_ACT, in, l->ninputs);
  free(zname);
  L->y[l->order] = z;
  if (!identity) {
    ir_op(ir, OP_ACT, PASS_FWD, l, NULL, A_ACT, &z, 1);
    Op *op = ir_last_op(ir);
    op->act = l->act;
    op->alpha = l->alpha;
    L->y[l->order] = ir_op_output(ir, l->name, A_ACT);
  }
}

/* activity_l1 = X: loss += X * sum |y| / nb for the layer's output y, one
 * op per such layer after the loss (its gradient seeds dy). */
static void lower_activity_l1(Lower *L) {
  IR *ir = L->ir;
  for (int i = 0; i < ir->m->nlayers; i++) {
    Layer *l = ir->m->layers[i];
    if (l->activity_l1 <= 0)
      continue;
    int y = L->y[l->order];
    ir_op(ir, OP_ACTIVITY_L1, PASS_LOSS, NULL, NULL, A_NONE, &y, 1);
    Op *op = ir_last_op(ir);
    op->alpha = l->activity_l1;
    op->out = ir->loss;
    op->accumulate = true;
  }
}

static void lower_flatten(Lower *L, Layer *l) {
  int x = L->y[l->inputs[0]->order];
  int v = ir_op(L->ir, OP_VIEW, PASS_FWD, l, l->name, A_ACT, &x, 1);
  Value *xv = L->ir->vals[x];
  L->ir->vals[v]->alias = xv->alias >= 0 ? xv->alias : x;
  L->y[l->order] = v;
}

/* The target value: the input, or the trainer's labels for this batch. */
static int lower_target(Lower *L) {
  IR *ir = L->ir;
  Model *m = ir->m;
  if (m->target_is_input)
    return ir->input;
  Shape s = m->label_is_class ? vec(m->label_steps ? m->label_steps : 1) : m->label_shape;
  Value *t = ir_value(ir, m->label_name, A_EXTERN, true, s, NULL);
  t->dtype = m->label_is_class ? DT_INT32 : DT_FLOAT;
  return t->id;
}

/* The probabilities for a fused loss: the output layer's own softmax or
 * sigmoid, or one computed in the loss when the output is logits. */
static int loss_probs(Lower *L, Layer *out, Act want) {
  IR *ir = L->ir;
  if (out->act == want)
    return L->y[out->order];
  int z = L->y[out->order];
  char *name = xasprintf("%s_%s", out->name, act_name(want));
  int p;
  if (want == ACT_SOFTMAX) {
    p = ir_op(ir, OP_SOFTMAX, PASS_LOSS, NULL, name, A_ACT, &z, 1);
  } else {
    ir_op(ir, OP_ACT, PASS_LOSS, NULL, NULL, A_ACT, &z, 1);
    ir_last_op(ir)->act = want;
    p = ir_op_output(ir, name, A_ACT);
  }
  free(name);
  return p;
}

static void lower_loss(Lower *L) {
  IR *ir = L->ir;
  Model *m = ir->m;
  Layer *out = m->loss_out;
  ir->output = L->y[out->order];
  ir->target = lower_target(L);
  int in[3];
  switch (m->loss) {
  case LOSS_CE:
  case LOSS_BCE: {
    Act want = m->loss == LOSS_CE ? ACT_SOFTMAX : ACT_SIGMOID;
    bool fused = out->act == want;
    in[0] = fused ? L->z[out->order] : L->y[out->order];
    in[1] = loss_probs(L, out, want);
    in[2] = ir->target;
    ir->loss = ir_op(ir, m->loss == LOSS_CE ? OP_CE_SOFTMAX : OP_BCE_SIGMOID, PASS_LOSS, NULL,
                     "loss", A_NONE, in, 3);
    break;
  }
  case LOSS_MSE:
    in[0] = L->y[out->order];
    in[1] = ir->target;
    ir->loss = ir_op(ir, OP_MSE, PASS_LOSS, NULL, "loss", A_NONE, in, 2);
    break;
  }
}

IR *lower_model(Model *m) {
  IR *ir = ir_new(m);
  Lower L = {ir, xcalloc((size_t)m->nlayers, sizeof(int)), xcalloc((size_t)m->nlayers, sizeof(int))};
  for (int i = 0; i < m->nlayers; i++) {
    Layer *l = m->layers[i];
    L.z[i] = -1;
    switch (l->kind) {
    case LAYER_INPUT:
      ir->input = L.y[i] = ir_value(ir, l->name, A_ACT, true, l->shape, l)->id;
      ir->vals[ir->input]->steps = l->steps;
      if (m->input_tokens) {
        char *n = xasprintf("%s_ids", l->name);
        Value *ids = ir_value(ir, n, A_ACT, true, (Shape){.ndim = 2, .dims = {l->steps, 1}}, l);
        free(n);
        ids->steps = l->steps;
        ir->ids = ids->id;
      }
      break;
    case LAYER_RNN:
    case LAYER_LSTM:
    case LAYER_GRU: lower_recurrent(&L, l); break;
    case LAYER_DENSE: lower_dense(&L, l); break;
    case LAYER_FLATTEN: lower_flatten(&L, l); break;
    case LAYER_CONV: lower_conv(&L, l); break;
    case LAYER_MAXPOOL:
    case LAYER_AVGPOOL: lower_pool(&L, l); break;
    case LAYER_DROPOUT:
    case LAYER_NOISE: lower_noise(&L, l); break;
    case LAYER_BATCHNORM: lower_batchnorm(&L, l); break;
    case LAYER_ADD:
    case LAYER_CONCAT: lower_merge(&L, l); break;
    }
  }
  lower_loss(&L);
  lower_activity_l1(&L);
  ir->layer_out = L.y; /* kept: memplan and emit_c read it */
  free(L.z);
  return ir;
}
