/* emit_c.c — the C emitter: one standalone trainer per model, shaped like
 * llm.c's train_gpt2.c.
 *
 *   front matter     what, from where, how to build (no timestamps)
 *   layer functions  a forward and a backward function per layer: the
 *                    layer's ops in order, outputs first in the argument
 *                    list, then inputs, then nb (live rows, <= B); every
 *                    shape a constant; a comment naming the .nn line
 *   loss functions   loss_forward returns the mean loss, loss_backward
 *                    seeds the gradient
 *   update           one function: the optimizer step for every parameter
 *   drivers          forward/backward/output/init: bind arena offsets to
 *                    names and call the layer functions (backward in
 *                    reverse order)
 *   descriptor       const nn_model for the runtime, and main()
 *
 * Consecutive ops of one pass and one layer form a group; a group is one
 * function.  Each op's loops come from its emitter below (named in ops.h).
 */
#include <string.h>

#include "nncc.h"

/* ------------------------------------------------------------ helpers */

static const char *cn(IR *ir, int v) { return ir->vals[v]->cname; }
static const char *in_cn(IR *ir, Op *op, int i) { return cn(ir, op->in[i]); }
static const char *out_cn(IR *ir, Op *op) { return cn(ir, op->out); }
static long rowlen(IR *ir, int v) { return ir_numel(ir, v); }
static const char *assign(Op *op) { return op->accumulate ? "+=" : "="; }

/* "// name is (B,256)" fragments */
static void shape_note(FILE *out, IR *ir, int v) {
  char buf[64];
  fprintf(out, "%s is %s", ir->vals[v]->name, ir_shape_str(ir, v, buf, sizeof buf));
}

static void op_comment(FILE *out, IR *ir, Op *op) {
  fprintf(out, "  // ");
  if (op->out >= 0)
    fprintf(out, "%s %s ", ir->vals[op->out]->name, assign(op));
  fprintf(out, "%s", op_info[op->kind].name);
  if (op->kind == OP_ACT || op->kind == OP_ACT_GRAD)
    fprintf(out, ".%s", act_name(op->act));
  fprintf(out, "(");
  for (int i = 0; i < op->nin; i++)
    fprintf(out, "%s%s", i ? ", " : "", ir->vals[op->in[i]]->name);
  fprintf(out, "): %s\n", op_info[op->kind].doc);
}

/* The shortest decimal that reads back as exactly v (at most 17 digits);
 * a few rotating buffers so one printf can take several. */
static const char *dbl(double v) {
  static char bufs[4][32];
  static int next;
  char *b = bufs[next++ & 3];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(b, 32, "%.*g", prec, v);
    if (strtod(b, NULL) == v)
      break;
  }
  return b;
}

/* A double as a C literal of type real. */
static void real_lit(FILE *out, double v) { fprintf(out, "(real)%s", dbl(v)); }

/* -------------------------------------------------------------- emitters */

void emit_view(FILE *out, IR *ir, Op *op) {
  fprintf(out, "  // %s is a view of %s: no code\n", out_cn(ir, op), in_cn(ir, op, 0));
}

/* y[b,n] = sum_k x[b,k] w[n,k] (+ bias[n]): a dot product per output, rows
 * of the batch split across threads. */
void emit_linear(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), N = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "    const real *xr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 0), K);
  fprintf(out, "    real *yr = %s + (size_t)b * %ld;\n", out_cn(ir, op), N);
  fprintf(out, "    for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "      const real *wr = %s + (size_t)n * %ld;\n", in_cn(ir, op, 1), K);
  fprintf(out, "      real acc = 0;\n");
  fprintf(out, "      NN_OMP(omp simd reduction(+:acc))\n");
  fprintf(out, "      for (int k = 0; k < %ld; k++)\n", K);
  fprintf(out, "        acc += xr[k] * wr[k];\n");
  if (op->nin == 3)
    fprintf(out, "      yr[n] %s acc + %s[n];\n", assign(op), in_cn(ir, op, 2));
  else
    fprintf(out, "      yr[n] %s acc;\n", assign(op));
  fprintf(out, "    }\n  }\n");
}

/* libm calls do not vectorize (no vector math library is linked), and an
 * `omp simd` on such a loop draws a clang warning. */
static bool calls_libm(const char *expr) {
  return strstr(expr, "exp(") || strstr(expr, "tanh(") || strstr(expr, "log1p(");
}

static void emit_alpha(FILE *out, Op *op) {
  if (op->act == ACT_LEAKY_RELU) {
    fprintf(out, "  const real alpha = ");
    real_lit(out, op->alpha);
    fprintf(out, ";\n");
  }
}

void emit_act(FILE *out, IR *ir, Op *op) {
  static const char *const fwd[] = {
#define ACT(id, name, f, b, u) [ACT_##id] = f,
#include "acts.h"
#undef ACT
  };
  op_comment(out, ir, op);
  emit_alpha(out, op);
  if (!calls_libm(fwd[op->act]))
    fprintf(out, "  NN_OMP(omp simd)\n"); /* no libm call: it vectorizes */
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++) {\n", rowlen(ir, op->out));
  fprintf(out, "    const real xi = %s[i];\n", in_cn(ir, op, 0));
  fprintf(out, "    %s[i] %s %s;\n  }\n", out_cn(ir, op), assign(op), fwd[op->act]);
}

void emit_act_grad(FILE *out, IR *ir, Op *op) {
  static const char *const bwd[] = {
#define ACT(id, name, f, b, u) [ACT_##id] = b,
#include "acts.h"
#undef ACT
  };
  static const char uses[] = {
#define ACT(id, name, f, b, u) [ACT_##id] = u,
#include "acts.h"
#undef ACT
  };
  op_comment(out, ir, op);
  emit_alpha(out, op);
  if (!calls_libm(bwd[op->act]))
    fprintf(out, "  NN_OMP(omp simd)\n"); /* no libm call: it vectorizes */
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++) {\n", rowlen(ir, op->out));
  fprintf(out, "    const real dyi = %s[i];\n", in_cn(ir, op, 0));
  if (op->nin == 2)
    fprintf(out, "    const real %ci = %s[i];\n", uses[op->act], in_cn(ir, op, 1));
  fprintf(out, "    %s[i] %s %s;\n  }\n", out_cn(ir, op), assign(op), bwd[op->act]);
}

/* Row-wise softmax, shifted by the row maximum so exp never overflows. */
void emit_softmax(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "    const real *xr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 0), N);
  fprintf(out, "    real *yr = %s + (size_t)b * %ld;\n", out_cn(ir, op), N);
  fprintf(out, "    real mx = xr[0];\n");
  fprintf(out, "    for (int n = 1; n < %ld; n++)\n      mx = xr[n] > mx ? xr[n] : mx;\n", N);
  fprintf(out, "    real sum = 0;\n");
  fprintf(out, "    for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "      yr[n] = exp(xr[n] - mx);\n      sum += yr[n];\n    }\n");
  fprintf(out, "    for (int n = 0; n < %ld; n++)\n      yr[n] /= sum;\n  }\n", N);
}

void emit_softmax_grad(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "    const real *dr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 0), N);
  fprintf(out, "    const real *yr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 1), N);
  fprintf(out, "    real *xr = %s + (size_t)b * %ld;\n", out_cn(ir, op), N);
  fprintf(out, "    real dot = 0;\n");
  fprintf(out, "    for (int n = 0; n < %ld; n++)\n      dot += dr[n] * yr[n];\n", N);
  fprintf(out, "    for (int n = 0; n < %ld; n++)\n      xr[n] %s yr[n] * (dr[n] - dot);\n  }\n",
          N, assign(op));
}

/* dx[b,k] = sum_n dy[b,n] w[n,k]: rows split across threads. */
void emit_matmul_nn(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->in[0]), K = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "    const real *dr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 0), N);
  fprintf(out, "    real *xr = %s + (size_t)b * %ld;\n", out_cn(ir, op), K);
  if (!op->accumulate)
    fprintf(out, "    for (int k = 0; k < %ld; k++)\n      xr[k] = 0;\n", K);
  fprintf(out, "    for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "      const real g = dr[n];\n");
  fprintf(out, "      const real *wr = %s + (size_t)n * %ld;\n", in_cn(ir, op, 1), K);
  fprintf(out, "      NN_OMP(omp simd)\n");
  fprintf(out, "      for (int k = 0; k < %ld; k++)\n        xr[k] += g * wr[k];\n", K);
  fprintf(out, "    }\n  }\n");
}

/* dw[n,k] = sum_b dy[b,n] x[b,k]: output rows split across threads, each
 * summed over the batch in order, so the result does not depend on the
 * thread count. */
void emit_matmul_tn(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->in[0]), K = rowlen(ir, op->in[1]);
  op_comment(out, ir, op);
  fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "    real *wr = %s + (size_t)n * %ld;\n", out_cn(ir, op), K);
  if (!op->accumulate)
    fprintf(out, "    for (int k = 0; k < %ld; k++)\n      wr[k] = 0;\n", K);
  fprintf(out, "    for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "      const real g = %s[(size_t)b * %ld + n];\n", in_cn(ir, op, 0), N);
  fprintf(out, "      const real *xr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 1), K);
  fprintf(out, "      NN_OMP(omp simd)\n");
  fprintf(out, "      for (int k = 0; k < %ld; k++)\n        wr[k] += g * xr[k];\n", K);
  fprintf(out, "    }\n  }\n");
}

void emit_colsum(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "    real acc = 0;\n");
  fprintf(out, "    for (int b = 0; b < nb; b++)\n");
  fprintf(out, "      acc += %s[(size_t)b * %ld + n];\n", in_cn(ir, op, 0), N);
  fprintf(out, "    %s[n] %s acc;\n  }\n", out_cn(ir, op), assign(op));
}

/* Target element i of a real target (float from the runtime, or the input). */
static void target_at(FILE *out, IR *ir, int t, const char *idx) {
  if (ir->vals[t]->dtype == DT_FLOAT)
    fprintf(out, "(real)%s[%s]", cn(ir, t), idx);
  else
    fprintf(out, "%s[%s]", cn(ir, t), idx);
}

/* loss = mean_b (log sum_k exp z[b,k]) - z[b,c_b], from the logits so it
 * stays finite when a probability underflows; a row is correct when the
 * argmax of its probabilities is its class. */
void emit_ce_softmax(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]);
  op_comment(out, ir, op);
  fprintf(out, "  double total = 0, ncorrect = 0;\n");
  fprintf(out, "  for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "    const real *zr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 0), K);
  fprintf(out, "    const int ci = %s[b];\n", in_cn(ir, op, 2));
  fprintf(out, "    const real *pr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 1), K);
  fprintf(out, "    int arg = 0;\n");
  fprintf(out, "    for (int k = 1; k < %ld; k++)\n      arg = pr[k] > pr[arg] ? k : arg;\n", K);
  fprintf(out, "    real mx = zr[0];\n");
  fprintf(out, "    for (int k = 1; k < %ld; k++)\n      mx = zr[k] > mx ? zr[k] : mx;\n", K);
  fprintf(out, "    double sum = 0;\n");
  fprintf(out, "    for (int k = 0; k < %ld; k++)\n      sum += exp((double)(zr[k] - mx));\n", K);
  fprintf(out, "    total += log(sum) + (double)mx - (double)zr[ci];\n");
  fprintf(out, "    ncorrect += arg == ci;\n  }\n");
  fprintf(out, "  if (correct)\n    *correct += ncorrect;\n");
  fprintf(out, "  loss = total / nb;\n");
}

void emit_ce_softmax_grad(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  const real scale = (real)1 / (real)nb;\n");
  fprintf(out, "  for (int b = 0; b < nb; b++) {\n");
  fprintf(out, "    const real *pr = %s + (size_t)b * %ld;\n", in_cn(ir, op, 0), K);
  fprintf(out, "    real *dr = %s + (size_t)b * %ld;\n", out_cn(ir, op), K);
  fprintf(out, "    for (int k = 0; k < %ld; k++)\n      dr[k] %s pr[k] * scale;\n", K,
          assign(op));
  fprintf(out, "    dr[%s[b]] -= scale;\n  }\n", in_cn(ir, op, 1));
}

/* loss = mean over elements of max(z,0) - t z + log(1 + exp(-|z|)), which
 * is -t log p - (1-t) log(1-p) for p = sigmoid(z), computed without
 * overflow; correct = elements with (p > 1/2) == (t > 1/2), per row. */
void emit_bce_sigmoid(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]);
  op_comment(out, ir, op);
  fprintf(out, "  double total = 0, ncorrect = 0;\n");
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++) {\n", K);
  fprintf(out, "    const double zi = (double)%s[i], ti = ", in_cn(ir, op, 0));
  target_at(out, ir, op->in[2], "i");
  fprintf(out, ";\n");
  fprintf(out, "    total += (zi > 0 ? zi : 0) - ti * zi + log1p(exp(-fabs(zi)));\n");
  fprintf(out, "    ncorrect += (%s[i] > (real)0.5) == (ti > 0.5);\n  }\n", in_cn(ir, op, 1));
  fprintf(out, "  if (correct)\n    *correct += ncorrect / %ld;\n", K);
  fprintf(out, "  loss = total / ((double)nb * %ld);\n", K);
}

void emit_bce_sigmoid_grad(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  const real scale = (real)1 / ((real)nb * %ld);\n", K);
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++)\n", K);
  fprintf(out, "    %s[i] %s (%s[i] - ", out_cn(ir, op), assign(op), in_cn(ir, op, 0));
  target_at(out, ir, op->in[1], "i");
  fprintf(out, ") * scale;\n");
}

/* loss = mean over elements of (y - t)^2 (PyTorch's MSELoss). */
void emit_mse(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]);
  op_comment(out, ir, op);
  fprintf(out, "  double total = 0;\n");
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++) {\n", K);
  fprintf(out, "    const double di = (double)%s[i] - (double)", in_cn(ir, op, 0));
  target_at(out, ir, op->in[1], "i");
  fprintf(out, ";\n    total += di * di;\n  }\n");
  fprintf(out, "  (void)correct;\n");
  fprintf(out, "  loss = total / ((double)nb * %ld);\n", K);
}

void emit_mse_grad(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  const real scale = (real)2 / ((real)nb * %ld);\n", K);
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++)\n", K);
  fprintf(out, "    %s[i] %s (%s[i] - ", out_cn(ir, op), assign(op), in_cn(ir, op, 0));
  target_at(out, ir, op->in[1], "i");
  fprintf(out, ") * scale;\n");
}

/* SGD as PyTorch's torch.optim.SGD: g' = g + wd w (weights only);
 * with momentum mu: v = mu v + g', w -= lr v; without: w -= lr g'. */
void emit_sgd(FILE *out, IR *ir, Op *op) {
  Value *w = ir->vals[op->in[0]];
  char buf[64];
  double wd = w->decay ? ir->m->weight_decay : 0;
  size_t n = (size_t)ir_numel(ir, w->id);
  fprintf(out, "  { // %s %s\n", w->name, ir_shape_str(ir, w->id, buf, sizeof buf));
  fprintf(out, "    real *restrict w = P + %zu;\n", w->offset);
  fprintf(out, "    const real *restrict g = G + %zu;\n", ir->vals[op->in[1]]->offset);
  if (op->nin == 3)
    fprintf(out, "    real *restrict v = S + %zu;\n", ir->vals[op->in[2]]->offset);
  fprintf(out, "    NN_OMP(omp simd)\n");
  fprintf(out, "    for (size_t i = 0; i < %zu; i++) {\n", n);
  fprintf(out, "      const real gi = g[i]");
  if (wd > 0) {
    fprintf(out, " + ");
    real_lit(out, wd);
    fprintf(out, " * w[i]");
  }
  fprintf(out, ";\n");
  if (op->nin == 3) {
    fprintf(out, "      v[i] = ");
    real_lit(out, op->alpha);
    fprintf(out, " * v[i] + gi;\n      w[i] -= lr * v[i];\n");
  } else {
    fprintf(out, "      w[i] -= lr * gi;\n");
  }
  fprintf(out, "    }\n  }\n");
}

/* ------------------------------------------------------------- groups */

typedef struct Group {
  int first, last; /* ops [first, last) */
  Pass pass;
  Layer *layer;
  char *fname;     /* function name, NULL for groups of views only */
  int *args;       /* value ids: outputs, then inputs */
  bool *written;
  int nargs;
  bool batched;    /* takes nb */
} Group;

typedef struct Emit {
  FILE *out;
  IR *ir;
  Group *groups;
  int ngroups, gcap;
} Emit;

static bool group_has_code(IR *ir, Group *g) {
  for (int i = g->first; i < g->last; i++)
    if (ir->ops[i].kind != OP_VIEW)
      return true;
  return false;
}

static void add_arg(Group *g, IR *ir, int v, bool written) {
  Value *val = ir->vals[v];
  if (val->arena == A_NONE)
    return;
  if (val->batched)
    g->batched = true;
  for (int i = 0; i < g->nargs; i++)
    if (g->args[i] == v) {
      g->written[i] |= written;
      return;
    }
  g->args = xrealloc(g->args, sizeof(int) * (size_t)(g->nargs + 1));
  g->written = xrealloc(g->written, sizeof(bool) * (size_t)(g->nargs + 1));
  g->args[g->nargs] = v;
  g->written[g->nargs++] = written;
}

/* Arguments: values written by the group (in order), then values only
 * read. */
static void group_args(IR *ir, Group *g) {
  for (int i = g->first; i < g->last; i++)
    if (ir->ops[i].out >= 0 && ir->ops[i].kind != OP_VIEW)
      add_arg(g, ir, ir->ops[i].out, true);
  for (int i = g->first; i < g->last; i++)
    if (ir->ops[i].kind != OP_VIEW)
      for (int k = 0; k < ir->ops[i].nin; k++)
        add_arg(g, ir, ir->ops[i].in[k], false);
}

static void make_groups(Emit *E) {
  IR *ir = E->ir;
  for (int i = 0; i < ir->nops;) {
    Op *op = &ir->ops[i];
    Group g = {.first = i, .pass = op->pass, .layer = op->layer};
    while (i < ir->nops && ir->ops[i].pass == g.pass && ir->ops[i].layer == g.layer)
      i++;
    g.last = i;
    if (g.pass != PASS_UPD && group_has_code(ir, &g)) {
      const char *base = g.layer ? g.layer->name : "loss";
      bool fwd = g.pass == PASS_FWD || (g.pass == PASS_LOSS && !g.layer);
      g.fname = xasprintf("%s_%s", base, g.pass == PASS_BWD ? "backward" : fwd ? "forward" : "x");
      for (int k = 0; k < E->ngroups; k++)
        if (E->groups[k].fname && !strcmp(E->groups[k].fname, g.fname)) {
          char *f = xasprintf("%s_%d", g.fname, E->ngroups);
          free(g.fname);
          g.fname = f;
        }
      group_args(ir, &g);
    }
    VEC_PUSH(E->groups, E->ngroups, E->gcap, g);
  }
}

/* The .nn statement a layer comes from, as one line of code (comment cut,
 * spaces squeezed). */
static void source_line(FILE *out, Model *m, int line) {
  const char *p = m->src;
  for (int l = 1; p && *p && l < line; p++)
    if (*p == '\n')
      l++;
  if (!p)
    return;
  bool in_str = false, space = false;
  for (; *p && *p != '\n' && *p != '\r'; p++) {
    if (*p == '"')
      in_str = !in_str;
    if (*p == '#' && !in_str)
      break;
    if (*p == ' ' || *p == '\t') {
      space = true;
      continue;
    }
    if (space)
      fputc(' ', out);
    space = false;
    fputc((unsigned char)*p < 32 ? ' ' : *p, out);
  }
}

static void group_header(Emit *E, Group *g) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Model *m = ir->m;
  if (g->layer) {
    fprintf(out, "// %s:%d: ", m->file, g->layer->line);
    source_line(out, m, g->layer->line);
    fprintf(out, "\n");
  } else {
    fprintf(out, "// %s:%d: ", m->file, m->loss_line);
    source_line(out, m, m->loss_line);
    fprintf(out, "\n");
  }
  fprintf(out, "// ");
  for (int i = 0; i < g->nargs; i++) {
    if (i)
      fprintf(out, ", ");
    shape_note(out, ir, g->args[i]);
  }
  fprintf(out, "\n");
}

static const char *arg_type(Value *v, bool written) {
  if (v->dtype == DT_INT32)
    return "const int32_t *restrict";
  if (v->dtype == DT_FLOAT)
    return "const float *restrict";
  return written ? "real *restrict" : "const real *restrict";
}

static void emit_group(Emit *E, Group *g) {
  FILE *out = E->out;
  IR *ir = E->ir;
  bool is_loss = g->pass == PASS_LOSS && !g->layer;
  group_header(E, g);
  fprintf(out, "static %s %s(", is_loss ? "double" : "void", g->fname);
  for (int i = 0; i < g->nargs; i++) {
    Value *v = ir->vals[g->args[i]];
    fprintf(out, "%s%s %s", i ? ", " : "", arg_type(v, g->written[i]), v->cname);
  }
  if (g->batched)
    fprintf(out, "%sint nb", g->nargs ? ", " : "");
  if (is_loss)
    fprintf(out, ", double *correct");
  if (!g->nargs && !g->batched)
    fprintf(out, "void");
  fprintf(out, ") {\n");
  if (is_loss)
    fprintf(out, "  double loss = 0;\n");
  for (int i = g->first; i < g->last; i++) {
    Op *op = &ir->ops[i];
    if (op->kind == OP_VIEW)
      continue;
    op_info[op->kind].emit(out, ir, op);
  }
  if (is_loss)
    fprintf(out, "  return loss;\n");
  fprintf(out, "}\n\n");
}

/* ------------------------------------------------------------- drivers */

static const char *arena_base(Arena a) {
  switch (a) {
  case A_PARAM: return "P";
  case A_GRAD: return "G";
  case A_STATE: return "S";
  default: return "A";
  }
}

/* Declare `real *name = BASE + offset;` for the values the driver's groups
 * use (each once).  Which arena bases are needed is known only after, so
 * the bindings go to a buffer and the bases are declared first.  `first`
 * (or -1) is bound whether used or not: forward() copies the batch into
 * the input. */
static void bind_values(Emit *E, Pass p1, Pass p2, int first) {
  IR *ir = E->ir;
  char *seen = xcalloc((size_t)ir->nvals, 1), *body = NULL;
  char buf[64];
  size_t len = 0;
  bool used[A_EXTERN + 1] = {0};
  FILE *out = open_memstream(&body, &len);
  for (int gi = -1; gi < E->ngroups; gi++) {
    Group *g = gi >= 0 ? &E->groups[gi] : NULL;
    if (g && (!g->fname || (g->pass != p1 && g->pass != p2)))
      continue;
    for (int i = 0; i < (g ? g->nargs : first >= 0); i++) {
      Value *v = ir->vals[g ? g->args[i] : first];
      if (seen[v->id] || v->arena == A_EXTERN)
        continue;
      seen[v->id] = 1;
      used[v->arena] = true;
      fprintf(out, "  real *%s = %s + %zu; // %s\n", v->cname, arena_base(v->arena), v->offset,
              ir_shape_str(ir, v->id, buf, sizeof buf));
    }
  }
  fclose(out);
  static const char *const decl[] = {[A_ACT] = "  real *A = c->acts;\n",
                                     [A_PARAM] = "  real *P = c->params;\n",
                                     [A_GRAD] = "  real *G = c->grads;\n",
                                     [A_STATE] = "  real *S = c->state;\n"};
  for (int a = A_ACT; a <= A_STATE; a++)
    if (used[a])
      fputs(decl[a], E->out);
  fputs(body, E->out);
  free(body);
  free(seen);
}

static void call_groups(Emit *E, Pass p1, Pass p2) {
  IR *ir = E->ir;
  for (int gi = 0; gi < E->ngroups; gi++) {
    Group *g = &E->groups[gi];
    if (g->pass != p1 && g->pass != p2)
      continue;
    if (!g->fname) {
      for (int i = g->first; i < g->last; i++)
        fprintf(E->out, "  // %s is a view of %s\n", out_cn(ir, &ir->ops[i]),
                in_cn(ir, &ir->ops[i], 0));
      continue;
    }
    bool is_loss = g->pass == PASS_LOSS && !g->layer;
    if (is_loss) {
      Model *m = ir->m;
      if (!m->target_is_input)
        fprintf(E->out, "  if (!%s)\n    return 0;\n", m->label_is_class ? "cls" : "yb");
      fprintf(E->out, "  return ");
    } else {
      fprintf(E->out, "  ");
    }
    fprintf(E->out, "%s(", g->fname);
    for (int i = 0; i < g->nargs; i++) {
      Value *v = ir->vals[g->args[i]];
      const char *name = v->arena != A_EXTERN ? v->cname : v->dtype == DT_INT32 ? "cls" : "yb";
      fprintf(E->out, "%s%s", i ? ", " : "", name);
    }
    if (g->batched)
      fprintf(E->out, "%snb", g->nargs ? ", " : "");
    if (is_loss)
      fprintf(E->out, ", correct");
    fprintf(E->out, ");\n");
  }
}

static void emit_forward(Emit *E) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Value *x = ir->vals[ir->input];
  fprintf(out, "// The forward pass, and the mean loss of the batch when targets are given.\n");
  fprintf(out, "static double forward(nn_ctx *c, const float *xb, const int32_t *cls, "
          "const float *yb, int nb, double *correct) {\n");
  fprintf(out, "  (void)cls;\n  (void)yb;\n  (void)correct;\n");
  bind_values(E, PASS_FWD, PASS_LOSS, x->id);
  fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++)\n", ir_numel(ir, x->id));
  fprintf(out, "    %s[i] = (real)xb[i];\n", x->cname);
  call_groups(E, PASS_FWD, PASS_LOSS);
  fprintf(out, "}\n\n");
}

static void emit_backward(Emit *E) {
  FILE *out = E->out;
  fprintf(out, "// The backward pass: gradients of the mean loss, layers in reverse order.\n");
  fprintf(out, "static void backward(nn_ctx *c, const int32_t *cls, const float *yb, int nb) {\n");
  fprintf(out, "  (void)cls;\n  (void)yb;\n");
  bind_values(E, PASS_BWD, PASS_BWD, -1);
  call_groups(E, PASS_BWD, PASS_BWD);
  fprintf(out, "}\n\n");
}

static void emit_update(Emit *E) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Model *m = ir->m;
  fprintf(out, "// One SGD step (momentum %s, weight decay %s on weights):\n", dbl(m->momentum),
          dbl(m->weight_decay));
  fprintf(out, "//   g' = g + wd w;  v = momentum v + g';  w -= lr v\n");
  fprintf(out, "static void update(nn_ctx *c, double lr_) {\n");
  fprintf(out, "  real *P = c->params;\n  const real *G = c->grads;\n");
  if (ir->arena_size[A_STATE])
    fprintf(out, "  real *S = c->state;\n");
  fprintf(out, "  const real lr = (real)lr_;\n");
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].pass == PASS_UPD)
      emit_sgd(out, ir, &ir->ops[i]);
  fprintf(out, "}\n\n");
}

static void emit_output(Emit *E) {
  IR *ir = E->ir;
  Value *o = ir->vals[ir->output];
  fprintf(E->out, "// The model's output rows after forward(): %s.\n", o->name);
  fprintf(E->out, "static void output(nn_ctx *c, int nb, float *dst) {\n");
  fprintf(E->out, "  const real *o = (const real *)c->acts + %zu;\n", o->offset);
  fprintf(E->out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++)\n", ir_numel(ir, o->id));
  fprintf(E->out, "    dst[i] = (float)o[i];\n}\n\n");
}

static void emit_init(Emit *E) {
  FILE *out = E->out;
  IR *ir = E->ir;
  char buf[64];
  fprintf(out, "// Parameters drawn in checkpoint order from one generator; state zeroed.\n");
  fprintf(out, "static void init(nn_ctx *c, nn_rng *rng) {\n");
  fprintf(out, "  real *P = c->params;\n");
  fprintf(out, "  (void)rng;\n");
  for (int i = 0; i < ir->nparams; i++) {
    Value *v = ir->vals[ir->params[i]];
    const Init *in = &v->init;
    long n = ir_numel(ir, v->id);
    fprintf(out, "  // %s %s: %s\n", v->name, ir_shape_str(ir, v->id, buf, sizeof buf), in->how);
    switch (in->kind) {
    case INIT_ZEROS:
      fprintf(out, "  nn_init_zeros(P + %zu, sizeof(real), %ld);\n", v->offset, n);
      break;
    case INIT_CONST:
      fprintf(out, "  nn_init_const(P + %zu, sizeof(real), %ld, %s);\n", v->offset, n, dbl(in->a));
      break;
    case INIT_UNIFORM:
      fprintf(out, "  nn_init_uniform(P + %zu, sizeof(real), %ld, %s, %s, rng);\n",
              v->offset, n, dbl(in->a), dbl(in->b));
      break;
    case INIT_NORMAL:
      fprintf(out, "  nn_init_normal(P + %zu, sizeof(real), %ld, %s, %s, rng);\n",
              v->offset, n, dbl(in->a), dbl(in->b));
      break;
    }
  }
  if (ir->arena_size[A_STATE])
    fprintf(out, "  nn_init_zeros(c->state, sizeof(real), %zu);\n", ir->arena_size[A_STATE]);
  fprintf(out, "}\n\n");
}

/* ---------------------------------------------------------- descriptor */

static void c_string(FILE *out, const char *s) {
  if (!s) {
    fprintf(out, "NULL");
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 32 || *p >= 127 || *p == '?')
      fprintf(out, "\\%03o", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void emit_source(FILE *out, const char *field, const DataSrc *s) {
  static const char *const kinds[] = {"NN_SRC_NONE", "NN_SRC_CSV", "NN_SRC_IDX"};
  fprintf(out, "  .%s = {%s, ", field, kinds[s->kind]);
  c_string(out, s->path);
  fprintf(out, ", ");
  c_string(out, s->path2);
  fprintf(out, ", %d, %d},\n", s->label_col, s->header);
}

uint64_t emit_layout_hash(IR *ir) {
  uint64_t h = 14695981039346656037ull;
  char buf[64];
  for (int i = 0; i < ir->nparams; i++) {
    Value *v = ir->vals[ir->params[i]];
    char *s = xasprintf("%s%s;", v->name, ir_shape_str(ir, v->id, buf, sizeof buf));
    for (char *p = s; *p; p++)
      h = (h ^ (unsigned char)*p) * 1099511628211ull;
    free(s);
  }
  return h;
}

static void emit_descriptor(Emit *E) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Model *m = ir->m;
  Value *x = ir->vals[ir->input];
  fprintf(out, "static const nn_param params[] = {\n");
  for (int i = 0; i < ir->nparams; i++) {
    Value *v = ir->vals[ir->params[i]];
    fprintf(out, "  {\"%s\", %d, {", v->name, v->shape.ndim);
    for (int d = 0; d < v->shape.ndim; d++)
      fprintf(out, "%s%d", d ? ", " : "", v->shape.dims[d]);
    fprintf(out, "}, %zu, %ld},\n", v->offset, ir_numel(ir, v->id));
  }
  fprintf(out, "};\n\n");
  fprintf(out, "static void set_threads(int n) {\n#ifdef _OPENMP\n  omp_set_num_threads(n);\n"
          "#else\n  (void)n;\n#endif\n}\n\n");
  static const char *const targets[] = {"NN_TARGET_NONE", "NN_TARGET_CLASS", "NN_TARGET_REAL",
                                        "NN_TARGET_INPUT"};
  int target = m->target_is_input ? 3 : m->label_is_class ? 1 : 2;
  fprintf(out, "const nn_model nn_model_%s = {\n", "desc");
  fprintf(out, "  .name = ");
  c_string(out, m->name);
  fprintf(out, ",\n  .source = ");
  c_string(out, m->file);
  fprintf(out, ",\n  .hash = 0x%016llxull,\n", (unsigned long long)emit_layout_hash(ir));
  fprintf(out, "  .real_size = sizeof(real),\n  .batch = B,\n");
  fprintf(out, "  .in_ndim = %d,\n  .in_shape = {", x->shape.ndim);
  for (int d = 0; d < x->shape.ndim; d++)
    fprintf(out, "%s%d", d ? ", " : "", x->shape.dims[d]);
  fprintf(out, "},\n  .in_dim = %ld,\n", ir_numel(ir, x->id));
  fprintf(out, "  .out_dim = %ld,\n", ir_numel(ir, ir->output));
  fprintf(out, "  .target = %s,\n  .nclasses = %d,\n", targets[target], m->nclasses);
  fprintf(out, "  .ydim = %ld,\n", target == 2 ? shape_numel(&m->label_shape) : 0);
  fprintf(out, "  .has_accuracy = %d,\n", m->loss != LOSS_MSE);
  fprintf(out, "  .loss_name = \"%s\",\n", loss_name(m->loss));
  emit_source(out, "train", &m->train_src);
  emit_source(out, "test", &m->test_src);
  fprintf(out, "  .scale = %s,\n", dbl(m->scale));
  fprintf(out, "  .optimizer = \"sgd\",\n  .epochs = %d,\n  .lr = %s,\n", m->epochs, dbl(m->lr));
  fprintf(out, "  .momentum = %s,\n  .weight_decay = %s,\n", dbl(m->momentum), dbl(m->weight_decay));
  fprintf(out, "  .shuffle = %d,\n  .seed = %lluull,\n", m->shuffle, (unsigned long long)m->seed);
  fprintf(out, "  .nparams = %d,\n  .params = params,\n", ir->nparams);
  fprintf(out, "  .params_size = %zu,\n  .state_size = %zu,\n  .acts_size = %zu,\n",
          ir->arena_size[A_PARAM], ir->arena_size[A_STATE], ir->arena_size[A_ACT]);
  fprintf(out, "  .init = init,\n  .forward = forward,\n  .backward = backward,\n");
  fprintf(out, "  .update = update,\n  .output = output,\n  .set_threads = set_threads,\n");
  fprintf(out, "};\n\n");
  fprintf(out, "#ifndef NN_NO_MAIN\nint main(int argc, char **argv) {\n"
          "  return nn_main(argc, argv, &nn_model_desc);\n}\n#endif\n");
}

static void emit_front(Emit *E, const char *cmdline) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Model *m = ir->m;
  long nparams = 0;
  for (int i = 0; i < ir->nparams; i++)
    nparams += ir_numel(ir, ir->params[i]);
  fprintf(out, "// Trainer for model '%s', generated by nncc %s from %s. Do not edit.\n", m->name,
          NNCC_VERSION, m->file);
  fprintf(out, "//   command: %s\n", cmdline);
  fprintf(out, "//   %ld parameters; batches of up to B = %d rows; loss %s\n", nparams, m->batch,
          loss_name(m->loss));
  fprintf(out, "//   build:   cc -O3 -march=native -fopenmp THIS.c -lnnrt -lcjson -lz -lm -o train\n");
  fprintf(out, "//   -DNN_REAL=double builds it in double precision (for gradient checks).\n");
  fprintf(out, "// Arenas (elements): params %zu, grads %zu, state %zu, acts %zu.\n",
          ir->arena_size[A_PARAM], ir->arena_size[A_GRAD], ir->arena_size[A_STATE],
          ir->arena_size[A_ACT]);
  fprintf(out, "// Shapes are written (B,N): B batch rows, of which nb are live.\n\n");
  fprintf(out, "#include <stddef.h>\n#include <stdint.h>\n#include <tgmath.h>\n\n");
  fprintf(out, "#include \"nnrt.h\"\n\n");
  fprintf(out, "#ifndef NN_REAL\n#define NN_REAL float\n#endif\ntypedef NN_REAL real;\n\n");
  fprintf(out, "#ifdef _OPENMP\n#include <omp.h>\n#define NN_OMP(x) _Pragma(#x)\n#else\n"
          "#define NN_OMP(x)\n#endif\n\n");
  fprintf(out, "enum { B = %d };\n\n", m->batch);
}

void emit_c(FILE *out, IR *ir, const char *cmdline) {
  Emit E = {out, ir, NULL, 0, 0};
  make_groups(&E);
  emit_front(&E, cmdline);
  for (int i = 0; i < E.ngroups; i++)
    if (E.groups[i].fname)
      emit_group(&E, &E.groups[i]);
  emit_update(&E);
  emit_forward(&E);
  emit_backward(&E);
  emit_output(&E);
  emit_init(&E);
  emit_descriptor(&E);
  for (int i = 0; i < E.ngroups; i++) {
    free(E.groups[i].fname);
    free(E.groups[i].args);
    free(E.groups[i].written);
  }
  free(E.groups);
}
