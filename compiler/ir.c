/* ir.c — the IR: a list of values (tensors with a home arena) and a list
 * of ops in execution order.  Builder, shape rules, printer, verifier.
 *
 * Invariants (checked by ir_verify after every pass):
 *  - every op's arity matches ops.h and its inputs are defined (parameters,
 *    the batch input and targets are defined from the start; any other
 *    value is the output of an earlier op, or an alias of a defined value);
 *  - an op's output shape is what its shape rule says;
 *  - a value is written by one op, or by several ops all but the first of
 *    which accumulate (gradient sums).
 */
#include <string.h>

#include "nncc.h"

IR *ir_new(Model *m) {
  IR *ir = xcalloc(1, sizeof *ir);
  ir->m = m;
  ir->input = ir->output = ir->target = ir->loss = ir->correct = ir->ids = -1;
  return ir;
}

void ir_free(IR *ir) {
  if (!ir)
    return;
  for (int i = 0; i < ir->nvals; i++) {
    free(ir->vals[i]->name);
    free(ir->vals[i]->cname);
    free(ir->vals[i]);
  }
  free(ir->vals);
  free(ir->ops);
  free(ir->params);
  free(ir->layer_out);
  free(ir);
}

/* Names the generated C uses for itself, and C's keywords: a value whose
 * name is one of these gets a suffix, so user names never clash. */
static const char *const reserved[] = {
    /* C and GNU C keywords, and names <tgmath.h> (math.h, complex.h) defines */
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
    "asm", "typeof", "complex", "imaginary", "main", "errno",
    /* libm functions the generated code calls, with their float/long forms */
    "exp", "expf", "expl", "log", "logf", "logl", "log1p", "log1pf", "log1pl", "fabs",
    "fabsf", "fabsl", "tanh", "tanhf", "tanhl",
    /* the generated code's own names */
    "real", "c", "b", "n", "k", "i", "j", "t", "r", "r0", "c0", "k0", "b0", "nb", "acc", "v",
    "o", "a", "e", "f", "p", "q", "ch", "oh", "ow", "ih", "iw", "ic", "oc", "kh", "kw", "th",
    "tw", "xo", "yo", "xp", "dp", "cp", "hit", "taken", "done", "xr", "yr", "wr", "dr", "pr", "zr", "xi", "yi", "dyi", "zi", "ti", "di", "ci",
    "mx", "sum", "dot", "arg", "total", "ncorrect", "loss", "correct", "scale", "alpha", "g",
    "gi", "w", "xk", "a0", "a1", "a2", "a3", "xb", "cls", "yb", "dst", "rng", "forward", "backward", "update", "output",
    "init", "set_threads", "params", "size_t", "int32_t", "uint32_t", "uint64_t",
    /* the recurrent layers' and the clip's */
    "ts", "q0", "kb", "gs", "ig", "fg", "gg", "og", "cn", "hn", "rg", "zg", "ng", "ghn", "hp",
    "dhi", "tc", "dc", "cpr", "hpr", "cp", "bn", "d", "lmx", "lsum", "lbest", "larg", "up", "zk", "pk", "dan", "daz", "dar", "id", "reset", "ss", "norm", "coef", "sqrt",
    "sqrtf", "sqrtl", "l1sum", "l1scale",
    /* batchnorm's */
    "s", "mu", "var", "ga", "sh", "inv", "training", "xh", "rn", "mg", "mb", "int64_t"};

/* Object-like macros of the C headers are upper case (I, M_PI, NAN,
 * INT32_MAX, ...): no all-capitals name is used as is. */
static bool macro_like(const char *s) {
  bool upper = false;
  for (; *s; s++) {
    if (*s >= 'a' && *s <= 'z')
      return false;
    upper |= *s >= 'A' && *s <= 'Z';
  }
  return upper;
}

static bool cname_taken(IR *ir, const char *s) {
  if (!strncmp(s, "nn_", 3) || !strncmp(s, "NN_", 3) || !strncmp(s, "omp_", 4) || s[0] == '_' ||
      macro_like(s))
    return true;
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
    if (strcmp(s, reserved[i]) == 0)
      return true;
  for (int i = 0; i < ir->nvals; i++)
    if (strcmp(ir->vals[i]->cname, s) == 0)
      return true;
  return false;
}

/* "h1.weight" -> "h1_weight", made unique: names in the .nn are C
 * identifiers already, but for the dot of parameter names. */
static char *c_ident(IR *ir, const char *name) {
  char *s = xstrdup(name);
  for (char *p = s; *p; p++)
    if (*p == '.')
      *p = '_';
  for (int k = 2; cname_taken(ir, s); k++) {
    char *t = k == 2 ? xasprintf("%s_v", name) : xasprintf("%s_v%d", name, k); /* lower case: never a macro name */
    for (char *p = t; *p; p++)
      if (*p == '.')
        *p = '_';
    free(s);
    s = t;
  }
  return s;
}

Value *ir_value(IR *ir, const char *name, Arena a, bool batched, Shape s, Layer *l) {
  Value *v = xcalloc(1, sizeof *v);
  v->id = ir->nvals;
  v->name = xstrdup(name);
  v->cname = c_ident(ir, name);
  v->arena = a;
  v->batched = batched;
  v->shape = s;
  v->layer = l;
  v->alias = -1;
  v->param = -1;
  v->grad = -1;
  VEC_PUSH(ir->vals, ir->nvals, ir->vcap, v);
  if (a == A_PARAM)
    VEC_PUSH(ir->params, ir->nparams, ir->pcap, v->id);
  v->param = a == A_PARAM ? ir->nparams - 1 : -1;
  return v;
}

int ir_op(IR *ir, OpKind k, Pass pass, Layer *l, const char *out_name, Arena out_arena,
          const int *in, int nin) {
  Op op = {.kind = k, .out = -1, .nin = nin, .pass = pass, .layer = l};
  if (nin > MAX_OP_IN)
    die("ir_op: %s with %d inputs", op_info[k].name, nin);
  memcpy(op.in, in, (size_t)nin * sizeof *in);
  VEC_PUSH(ir->ops, ir->nops, ir->ocap, op);
  return out_name ? ir_op_output(ir, out_name, out_arena) : -1;
}

/* A batched output is a sequence when a batched input is (per-step ops),
 * except the last step of one. */
static int out_steps(IR *ir, Op *op, bool batched) {
  int steps = 0;
  if (!batched || op->kind == OP_LAST)
    return 0;
  for (int i = 0; i < op->nin; i++) {
    Value *x = ir->vals[op->in[i]];
    if (x->batched && x->steps > steps)
      steps = x->steps;
  }
  return steps;
}

int ir_op_output(IR *ir, const char *name, Arena a) {
  Op *op = ir_last_op(ir);
  Shape s = {0};
  bool batched = false;
  if (op_info[op->kind].shape(ir, op, &s, &batched) != 0)
    die("ir_op: shape rule of %s rejects its inputs", op_info[op->kind].name);
  Value *v = ir_value(ir, name, a == A_NONE && batched ? A_ACT : a, batched, s, op->layer);
  v->steps = out_steps(ir, op, batched);
  op->out = v->id;
  return v->id;
}

Value *ir_aux(IR *ir, bool batched, Shape s, int steps, const char *fmt, ...) {
  Op *op = ir_last_op(ir);
  if (op->naux == MAX_OP_AUX)
    die("ir_aux: %s has too many auxiliary values", op_info[op->kind].name);
  int opi = ir->nops - 1;
  va_list ap;
  va_start(ap, fmt);
  char *name = xvasprintf(fmt, ap);
  va_end(ap);
  Value *v = ir_value(ir, name, A_ACT, batched, s, op->layer);
  free(name);
  v->steps = steps;
  op = &ir->ops[opi];
  op->aux[op->naux++] = v->id;
  return v;
}

int ir_steps(IR *ir, int v) { return ir->vals[v]->steps > 1 ? ir->vals[v]->steps : 1; }
long ir_feat(IR *ir, int v) { return ir_numel(ir, v) / ir_steps(ir, v); }
long ir_cols(IR *ir, int v) { return (long)ir->m->batch * ir_steps(ir, v); }

Op *ir_last_op(IR *ir) { return &ir->ops[ir->nops - 1]; }

bool ir_is_layer_out(IR *ir, int v) {
  for (int i = 0; ir->layer_out && i < ir->m->nlayers; i++)
    if (ir->layer_out[i] == v)
      return true;
  return false;
}

long ir_numel(IR *ir, int v) { return shape_numel(&ir->vals[v]->shape); }

char *ir_shape_str(IR *ir, int id, char *buf, size_t n) {
  Value *v = ir->vals[id];
  size_t k = 0;
  k += (size_t)snprintf(buf + k, n - k, "(");
  if (v->batched)
    k += (size_t)snprintf(buf + k, n - k, "B%s", v->shape.ndim ? "," : "");
  for (int i = 0; i < v->shape.ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? "," : "", v->shape.dims[i]);
  if (k < n)
    snprintf(buf + k, n - k, ")");
  return buf;
}

/* ------------------------------------------------------------ shape rules
 * Each returns 0 and sets *out, *batched when the inputs fit, else -1. */

static Value *in_val(IR *ir, Op *op, int i) { return ir->vals[op->in[i]]; }

static Shape vec(int n) { return (Shape){.ndim = 1, .dims = {n}}; }

int shape_view(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *x = in_val(ir, op, 0);
  *batched = x->batched;
  /* flatten: the view keeps the element count; its shape is one vector. */
  *out = vec((int)shape_numel(&x->shape));
  return 0;
}

/* A per-step output of n features: (T, n) for a sequence x, else (n). */
static Shape per_step(IR *ir, Value *x, int n) {
  if (x->steps)
    return (Shape){.ndim = 2, .dims = {x->steps, n}};
  (void)ir;
  return vec(n);
}

/* y[B,N] = x[B,K] w[N,K]^T + b[N] (at every step of a sequence) */
int shape_linear(IR *ir, Op *op, Shape *out, bool *batched) {
  if (op->nin != 2 && op->nin != 3)
    return -1;
  Value *x = in_val(ir, op, 0), *w = in_val(ir, op, 1);
  if (!x->batched || (x->shape.ndim != 1 && !x->steps) || w->shape.ndim != 2 || w->batched)
    return -1;
  if (w->shape.dims[1] != ir_feat(ir, x->id))
    return -1;
  if (op->nin == 3) {
    Value *b = in_val(ir, op, 2);
    if (b->shape.ndim != 1 || b->shape.dims[0] != w->shape.dims[0])
      return -1;
  }
  *batched = true;
  *out = per_step(ir, x, w->shape.dims[0]);
  return 0;
}

/* gather(ids (T, 1), w [N, V] [, b [N]]) -> (T, N) */
int shape_gather(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *ids = in_val(ir, op, 0), *w = in_val(ir, op, 1);
  if ((op->nin != 2 && op->nin != 3) || !ids->batched || ir_feat(ir, ids->id) != 1 ||
      w->shape.ndim != 2)
    return -1;
  if (op->nin == 3 && ir_numel(ir, op->in[2]) != w->shape.dims[0])
    return -1;
  *batched = true;
  *out = per_step(ir, ids, w->shape.dims[0]);
  return 0;
}

/* scatter_add(dy (T, N), ids (T, 1)) -> [N, V]: V is the model's vocabulary */
int shape_scatter(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0), *ids = in_val(ir, op, 1);
  if (!dy->batched || ir_steps(ir, dy->id) != ir_steps(ir, ids->id) || !ir->m->vocab)
    return -1;
  *out = (Shape){.ndim = 2, .dims = {(int)ir_feat(ir, dy->id), ir->m->vocab}};
  *batched = false;
  return 0;
}

/* Elementwise: the output is shaped like the first input; any other input
 * must have as many elements. */
int shape_same(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *x = in_val(ir, op, 0);
  for (int i = 1; i < op->nin; i++) {
    Value *o = in_val(ir, op, i);
    if (o->dtype == DT_INT32)
      continue; /* class indices: one per row */
    if (o->batched != x->batched || shape_numel(&o->shape) != shape_numel(&x->shape))
      return -1;
  }
  *out = x->shape;
  *batched = x->batched;
  return 0;
}

static int scalar(Shape *out, bool *batched) {
  *out = (Shape){0};
  *batched = false;
  return 0;
}

/* ce_softmax(z[B,K], p[B,K], class[B]) -> scalar */
int shape_loss_ce(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *z = in_val(ir, op, 0), *p = in_val(ir, op, 1), *c = in_val(ir, op, 2);
  if ((z->shape.ndim != 1 && !z->steps) || shape_numel(&p->shape) != shape_numel(&z->shape) ||
      c->dtype != DT_INT32)
    return -1;
  return scalar(out, batched);
}

/* add(x1, x2, ...): inputs of one shape (and steps), the output the same */
int shape_add(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *x = in_val(ir, op, 0);
  if (op->nin < 2 || !x->batched)
    return -1;
  for (int i = 1; i < op->nin; i++) {
    Value *o = in_val(ir, op, i);
    if (!o->batched || o->steps != x->steps || o->shape.ndim != x->shape.ndim)
      return -1;
    for (int d = 0; d < x->shape.ndim; d++)
      if (o->shape.dims[d] != x->shape.dims[d])
        return -1;
  }
  *out = x->shape;
  *batched = true;
  return 0;
}

/* The channels of a batched value: its last dimension (a vector's
 * features, an image's C); the rest are its pixels. */
static int channels(Value *v) { return v->shape.ndim ? v->shape.dims[v->shape.ndim - 1] : 1; }

/* concat(x1, x2, ...): the same leading dimensions (pixels), channels
 * summed: (N1) + (N2) -> (N1 + N2), (H, W, C1) + (H, W, C2) -> (H, W, C1 + C2) */
int shape_concat(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *x = in_val(ir, op, 0);
  if (op->nin < 2 || !x->batched || x->steps || x->shape.ndim < 1)
    return -1;
  Shape s = x->shape;
  long c = 0;
  for (int i = 0; i < op->nin; i++) {
    Value *o = in_val(ir, op, i);
    if (!o->batched || o->steps || o->shape.ndim != s.ndim)
      return -1;
    for (int d = 0; d + 1 < s.ndim; d++)
      if (o->shape.dims[d] != s.dims[d])
        return -1;
    c += channels(o);
  }
  s.dims[s.ndim - 1] = (int)c;
  *out = s;
  *batched = true;
  return 0;
}

/* slice(dy) with width w: dy's shape with w channels (off + w within dy's) */
int shape_slice(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0);
  if (!dy->batched || dy->shape.ndim < 1 || op->width < 1 || op->off < 0 ||
      op->off + op->width > channels(dy))
    return -1;
  *out = dy->shape;
  out->dims[out->ndim - 1] = op->width;
  *batched = true;
  return 0;
}

/* activity_l1(y[B,K]) -> scalar (added to the loss) */
int shape_loss_l1(IR *ir, Op *op, Shape *out, bool *batched) {
  if (!in_val(ir, op, 0)->batched)
    return -1;
  return scalar(out, batched);
}

/* bce_sigmoid(z[B,K], p[B,K], t[B,K]) -> scalar */
int shape_loss_bce(IR *ir, Op *op, Shape *out, bool *batched) {
  long n = ir_numel(ir, op->in[0]);
  if (ir_numel(ir, op->in[1]) != n || ir_numel(ir, op->in[2]) != n)
    return -1;
  return scalar(out, batched);
}

/* mse(y[B,K], t[B,K]) -> scalar */
int shape_loss_mse(IR *ir, Op *op, Shape *out, bool *batched) {
  if (ir_numel(ir, op->in[0]) != ir_numel(ir, op->in[1]))
    return -1;
  return scalar(out, batched);
}

/* dx[B,K] = dy[B,N] w[N,K] */
int shape_matmul_nn(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0), *w = in_val(ir, op, 1);
  if (!dy->batched || w->shape.ndim != 2 || ir_feat(ir, dy->id) != w->shape.dims[0])
    return -1;
  *out = per_step(ir, dy, w->shape.dims[1]);
  *batched = true;
  return 0;
}

/* dw[N,K] = dy[B,N]^T x[B,K] */
int shape_matmul_tn(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0), *x = in_val(ir, op, 1);
  if (!dy->batched || !x->batched || ir_steps(ir, dy->id) != ir_steps(ir, x->id))
    return -1;
  *out = (Shape){.ndim = 2, .dims = {(int)ir_feat(ir, dy->id), (int)ir_feat(ir, x->id)}};
  *batched = false;
  return 0;
}

/* db[N] = sum_b dy[b,N] */
int shape_colsum(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0);
  if (!dy->batched)
    return -1;
  *out = vec((int)ir_feat(ir, dy->id));
  *batched = false;
  return 0;
}

double param_decay(const Model *m, const Value *v) {
  if (!v->decay)
    return 0;
  return v->layer && v->layer->wd_given ? v->layer->weight_decay : m->weight_decay;
}

/* sgd(w, g [, v]): updates in place, no output. */
int shape_none(IR *ir, Op *op, Shape *out, bool *batched) {
  long n = ir_numel(ir, op->in[0]);
  for (int i = 1; i < op->nin; i++)
    if (ir_numel(ir, op->in[i]) != n)
      return -1;
  return scalar(out, batched);
}


/* ---------------------------------------------- convolution and pooling */

static Shape hwc(int h, int w, int c) { return (Shape){.ndim = 3, .dims = {h, w, c}}; }

/* conv2d(x, w [, b]): x (ih,iw,ic), w [oc,ic,kh,kw] -> (oh,ow,oc) */
int shape_conv(IR *ir, Op *op, Shape *out, bool *batched) {
  const Geo *g = &op->geo;
  Value *x = in_val(ir, op, 0), *w = in_val(ir, op, 1);
  if ((op->nin != 2 && op->nin != 3) || !x->batched ||
      shape_numel(&x->shape) != (long)g->ih * g->iw * g->ic || w->shape.ndim != 4 ||
      w->shape.dims[0] != g->oc || w->shape.dims[1] != g->ic || w->shape.dims[2] != g->kh ||
      w->shape.dims[3] != g->kw)
    return -1;
  if (op->nin == 3 && ir_numel(ir, op->in[2]) != g->oc)
    return -1;
  *out = hwc(g->oh, g->ow, g->oc);
  *batched = true;
  return 0;
}

int shape_pool(IR *ir, Op *op, Shape *out, bool *batched) {
  const Geo *g = &op->geo;
  if (ir_numel(ir, op->in[0]) != (long)g->ih * g->iw * g->ic || g->oc != g->ic)
    return -1;
  *out = hwc(g->oh, g->ow, g->oc);
  *batched = true;
  return 0;
}

/* gradients with respect to the window's input: (ih, iw, ic) */
int shape_conv_dx(IR *ir, Op *op, Shape *out, bool *batched) {
  const Geo *g = &op->geo;
  if (ir_numel(ir, op->in[0]) != (long)g->oh * g->ow * g->oc)
    return -1;
  *out = hwc(g->ih, g->iw, g->ic);
  *batched = true;
  return 0;
}

int shape_pool_grad(IR *ir, Op *op, Shape *out, bool *batched) {
  return shape_conv_dx(ir, op, out, batched);
}

/* im2col(x): (oh*ow) pixels x (ic*kh*kw) taps per row of the batch */
int shape_im2col(IR *ir, Op *op, Shape *out, bool *batched) {
  const Geo *g = &op->geo;
  if (ir_numel(ir, op->in[0]) != (long)g->ih * g->iw * g->ic)
    return -1;
  *out = vec(g->oh * g->ow * g->ic * g->kh * g->kw);
  *batched = true;
  return 0;
}

int shape_conv_dw(IR *ir, Op *op, Shape *out, bool *batched) {
  const Geo *g = &op->geo;
  if (ir_numel(ir, op->in[0]) != (long)g->oh * g->ow * g->oc)
    return -1;
  *out = (Shape){.ndim = 4, .dims = {g->oc, g->ic, g->kh, g->kw}};
  *batched = false;
  return 0;
}

int shape_chan_sum(IR *ir, Op *op, Shape *out, bool *batched) {
  const Geo *g = &op->geo;
  if (ir_numel(ir, op->in[0]) != (long)g->oh * g->ow * g->oc)
    return -1;
  *out = vec(g->oc);
  *batched = false;
  return 0;
}

/* ------------------------------------------------------------ recurrence
 * G gate blocks of H rows: rnn 1, lstm 4 (i, f, g, o), gru 3 (r, z, n). */
int ir_gates(LayerKind k) { return k == LAYER_LSTM ? 4 : k == LAYER_GRU ? 3 : 1; }

ScanAux ir_scan_aux(const Op *op) {
  ScanAux a = {-1, -1, -1, -1, -1, -1};
  int i = 0;
  LayerKind k = op->layer->kind;
  if (k != LAYER_RNN)
    a.gates = op->aux[i++];
  if (k == LAYER_LSTM)
    a.c = op->aux[i++];
  a.h0 = op->aux[i++];
  if (k == LAYER_LSTM)
    a.c0 = op->aux[i++];
  a.state_h = op->aux[i++];
  if (k == LAYER_LSTM)
    a.state_c = op->aux[i++];
  return a;
}

/* scan(gx (T, G H), w_hh [G H, H] [, b_hh [G H]]) -> (T, H) */
int shape_scan(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *gx = in_val(ir, op, 0), *w = in_val(ir, op, 1);
  if ((op->nin != 2 && op->nin != 3) || !op->layer || !gx->batched || !gx->steps ||
      w->shape.ndim != 2)
    return -1;
  int H = w->shape.dims[1], GH = ir_gates(op->layer->kind) * H;
  if (w->shape.dims[0] != GH || ir_feat(ir, gx->id) != GH)
    return -1;
  if (op->nin == 3 && ir_numel(ir, op->in[2]) != GH)
    return -1;
  *out = (Shape){.ndim = 2, .dims = {gx->steps, H}};
  *batched = true;
  return 0;
}

/* last(h (T, H)) -> (H) */
int shape_last(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *h = in_val(ir, op, 0);
  if (!h->batched || !h->steps)
    return -1;
  *out = vec((int)ir_feat(ir, h->id));
  *batched = true;
  return 0;
}

/* last_grad(dy (H), h (T, H)) -> (T, H) */
int shape_last_grad(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *h = in_val(ir, op, 1);
  if (!h->steps || ir_numel(ir, op->in[0]) != ir_feat(ir, h->id))
    return -1;
  *out = h->shape;
  *batched = true;
  return 0;
}

/* scan_grad(dh (T, H), h (T, H), w_hh [G H, H], h0 (H), ...) -> (T, G H) */
int shape_scan_grad(IR *ir, Op *op, Shape *out, bool *batched) {
  if (op->nin < 4)
    return -1;
  Value *dh = in_val(ir, op, 0), *h = in_val(ir, op, 1), *w = in_val(ir, op, 2);
  if (!dh->steps || dh->steps != h->steps || ir_numel(ir, dh->id) != ir_numel(ir, h->id) ||
      w->shape.ndim != 2 || w->shape.dims[1] != ir_feat(ir, h->id))
    return -1;
  *out = (Shape){.ndim = 2, .dims = {h->steps, w->shape.dims[0]}};
  *batched = true;
  return 0;
}

/* shift_t(h (T, H), h0 (H)) -> (T, H), row-major */
int shape_shift_t(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *h = in_val(ir, op, 0);
  if (!h->steps || ir_numel(ir, op->in[1]) != ir_feat(ir, h->id))
    return -1;
  *out = h->shape;
  *batched = true;
  return 0;
}

/* ------------------------------------------------- batch normalization
 * x is (N): N channels of one pixel each (BatchNorm1d), or (H, W, C): C
 * channels of H W pixels each (BatchNorm2d); never a sequence. */
int ir_bn_channels(IR *ir, int x) {
  Value *v = ir->vals[x];
  return v->shape.ndim == 3 ? v->shape.dims[2] : (int)ir_numel(ir, x);
}

/* batchnorm(x, gamma [C], beta [C]) -> x's shape */
int shape_bn(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *x = in_val(ir, op, 0);
  if (!x->batched || x->steps || (x->shape.ndim != 1 && x->shape.ndim != 3))
    return -1;
  long C = ir_bn_channels(ir, x->id);
  if (ir_numel(ir, op->in[1]) != C || ir_numel(ir, op->in[2]) != C)
    return -1;
  *out = x->shape;
  *batched = true;
  return 0;
}

/* batchnorm_dgamma(dy, x, stats (2, C)), batchnorm_dbeta(dy) -> [C] */
int shape_bn_param(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0);
  if (!dy->batched)
    return -1;
  int C = ir_bn_channels(ir, dy->id);
  if (op->nin == 3 && (ir_numel(ir, op->in[1]) != ir_numel(ir, dy->id) ||
                       ir_numel(ir, op->in[2]) != 2L * C))
    return -1;
  *out = vec(C);
  *batched = false;
  return 0;
}

/* batchnorm_dx(dy, x, gamma, stats, dgamma, dbeta) -> x's shape */
int shape_bn_dx(IR *ir, Op *op, Shape *out, bool *batched) {
  Value *dy = in_val(ir, op, 0), *x = in_val(ir, op, 1);
  long C = ir_bn_channels(ir, x->id);
  if (!dy->batched || ir_numel(ir, dy->id) != ir_numel(ir, x->id) ||
      ir_numel(ir, op->in[2]) != C || ir_numel(ir, op->in[3]) != 2 * C ||
      ir_numel(ir, op->in[4]) != C || ir_numel(ir, op->in[5]) != C)
    return -1;
  *out = x->shape;
  *batched = true;
  return 0;
}

/* -------------------------------------------------------------- printer */

static const char *const pass_names[] = {"fwd", "loss", "bwd", "upd"};
static const char *const arena_names[] = {"scalar", "act", "param", "grad", "state", "extern"};

static void print_value_decl(FILE *dst, IR *ir, Value *v) {
  char buf[64], *line = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&line, &len);
  fprintf(out, "  %%%-3d %-16s %-6s %-12s", v->id, v->name, arena_names[v->arena],
          ir_shape_str(ir, v->id, buf, sizeof buf));
  if (v->dtype == DT_INT32)
    fprintf(out, " int32");
  if (v->alias >= 0)
    fprintf(out, " view of %s", ir->vals[v->alias]->name);
  if (v->arena == A_PARAM) {
    const Init *in = &v->init;
    switch (in->kind) {
    case INIT_ZEROS: fprintf(out, " init zeros"); break;
    case INIT_CONST: fprintf(out, " init const(%.6g)", in->a); break;
    case INIT_UNIFORM: fprintf(out, " init %s uniform(%.6g, %.6g)", in->how, in->a, in->b); break;
    case INIT_NORMAL: fprintf(out, " init %s normal(%.6g, %.6g)", in->how, in->a, in->b); break;
    }
    if (param_decay(ir->m, v) > 0)
      fprintf(out, " decay %g", param_decay(ir->m, v));
    if (v->pkind != PK_LEARN)
      fprintf(out, " buffer%s", v->pkind == PK_INT64 ? " int64" : "");
  }
  if (v->grad >= 0)
    fprintf(out, " grad %s", ir->vals[v->grad]->name);
  if (v->row_major)
    fprintf(out, " row-major");
  if (v->steps)
    fprintf(out, " steps %d", v->steps);
  if (v->persist)
    fprintf(out, " carried");
  if (v->from_batch)
    fprintf(out, " from-batch");
  if (v->dead)
    fprintf(out, " dead");
  else if (ir->arena_size[A_PARAM] && v->arena != A_NONE && v->arena != A_EXTERN)
    fprintf(out, " @%zu", v->offset);
  fclose(out);
  while (len && line[len - 1] == ' ') /* no trailing blanks in the dump */
    line[--len] = 0;
  fprintf(dst, "%s\n", line);
  free(line);
}

static void print_op(FILE *out, IR *ir, Op *op) {
  fprintf(out, "  %-4s %-6s ", pass_names[op->pass], op->layer ? op->layer->name : "-");
  if (op->out >= 0)
    fprintf(out, "%s %s ", ir->vals[op->out]->name, op->accumulate ? "+=" : "=");
  fprintf(out, "%s", op_info[op->kind].name);
  if (op->kind == OP_ACT || op->kind == OP_ACT_GRAD || op->fused)
    fprintf(out, ".%s", act_name(op->act));
  for (int i = 0; i < op->nin; i++)
    fprintf(out, "%s%s", i ? ", " : " ", ir->vals[op->in[i]]->name);
  if ((op->kind == OP_ACT || op->kind == OP_ACT_GRAD || op->fused) && op->act == ACT_LEAKY_RELU)
    fprintf(out, " alpha=%.6g", op->alpha);
  if (op->kind == OP_SGD)
    fprintf(out, " momentum=%.6g", op->alpha);
  if (op->kind == OP_ADAM)
    fprintf(out, " %s", ir->m->opt == OPT_ADAMW ? "decoupled" : "l2");
  if (op->kind == OP_RMSPROP)
    fprintf(out, " momentum=%.6g", op->alpha);
  if (op->kind == OP_DROPOUT || op->kind == OP_DROPOUT_GRAD)
    fprintf(out, " rate=%.6g", op->alpha);
  if (op->kind == OP_NOISE)
    fprintf(out, " std=%.6g", op->alpha);
  if (op->kind == OP_SLICE)
    fprintf(out, " channels=%d..%d", op->off, op->off + op->width - 1);
  if (op->kind == OP_ACTIVITY_L1 || op->kind == OP_ACTIVITY_L1_GRAD)
    fprintf(out, " lambda=%.6g", op->alpha);
  if (op->geo.kh)
    fprintf(out, " kernel=%dx%d stride=%dx%d pad=%dx%d", op->geo.kh, op->geo.kw, op->geo.sh,
            op->geo.sw, op->geo.pt, op->geo.pl);
  if (op->kind == OP_SCAN || op->kind == OP_SCAN_GRAD)
    fprintf(out, " cell=%s%s%s", layer_kind_name(op->layer->kind),
            op->layer->kind == LAYER_RNN ? "." : "",
            op->layer->kind == LAYER_RNN ? act_name(op->layer->act) : "");
  if (op->kind == OP_BATCHNORM)
    fprintf(out, " momentum=%.6g eps=%.6g", op->layer->bn_momentum, op->layer->bn_eps);
  for (int i = 0; i < op->naux; i++)
    fprintf(out, "%s%s", i ? ", " : " writes ", ir->vals[op->aux[i]]->name);
  fprintf(out, "\n");
}

/* The text form -d and --emit=ir print, and the golden .ir files hold. */
void ir_print(FILE *out, IR *ir, const char *stage) {
  fprintf(out, "# ir of model '%s' after %s: %d values, %d ops\n", ir->m->name, stage,
          ir->nvals, ir->nops);
  fprintf(out, "values:\n");
  for (int i = 0; i < ir->nvals; i++)
    print_value_decl(out, ir, ir->vals[i]);
  fprintf(out, "ops:\n");
  for (int i = 0; i < ir->nops; i++)
    print_op(out, ir, &ir->ops[i]);
  if (ir->arena_size[A_ACT] || ir->arena_size[A_PARAM]) {
    fprintf(out, "arenas (elements):");
    for (int a = A_ACT; a <= A_STATE; a++)
      fprintf(out, " %s %zu", arena_names[a], ir->arena_size[a]);
    fprintf(out, "\n");
  }
}

/* ------------------------------------------------------------- verifier */

void ir_verify(IR *ir, const char *after) {
  char *written = xcalloc((size_t)ir->nvals, 1);
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->arena == A_PARAM || v->arena == A_EXTERN || v->id == ir->input || v->id == ir->ids)
      written[i] = 1;
    if (v->arena == A_STATE || v->arena == A_GRAD)
      written[i] = v->arena == A_STATE; /* state persists across steps */
  }
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    const OpInfo *oi = &op_info[op->kind];
    if (oi->nin >= 0 && op->nin != oi->nin)
      die("ir_verify after %s: op %d (%s) has %d inputs, wants %d", after, i, oi->name,
          op->nin, oi->nin);
    for (int k = 0; k < op->nin; k++) {
      int v = op->in[k];
      if (v < 0 || v >= ir->nvals)
        die("ir_verify after %s: op %d (%s) input %d out of range", after, i, oi->name, k);
      int base = ir->vals[v]->alias >= 0 ? ir->vals[v]->alias : v;
      if (!written[v] && !written[base])
        die("ir_verify after %s: op %d (%s) reads %s before it is written", after, i,
            oi->name, ir->vals[v]->name);
    }
    Shape s;
    bool batched;
    if (oi->shape(ir, op, &s, &batched) != 0)
      die("ir_verify after %s: op %d (%s) fails its shape rule", after, i, oi->name);
    if (op->out >= 0) {
      Value *o = ir->vals[op->out];
      if (shape_numel(&s) != shape_numel(&o->shape) || batched != o->batched)
        die("ir_verify after %s: op %d (%s) output %s has the wrong shape", after, i,
            oi->name, o->name);
      if (written[op->out] && !op->accumulate && o->arena != A_NONE)
        die("ir_verify after %s: %s written twice", after, o->name);
      if (!written[op->out] && op->accumulate)
        die("ir_verify after %s: %s accumulated before it is written", after, o->name);
      written[op->out] = 1;
    }
    if (op->kind == OP_VIEW)
      written[op->out] = 1;
    for (int k = 0; k < op->naux; k++) {
      /* carried state, and buffers the forward pass updates in place */
      if (written[op->aux[k]] && !ir->vals[op->aux[k]]->persist &&
          ir->vals[op->aux[k]]->pkind == PK_LEARN)
        die("ir_verify after %s: %s written twice", after, ir->vals[op->aux[k]]->name);
      written[op->aux[k]] = 1;
    }
  }
  free(written);
}
