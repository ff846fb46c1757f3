/* emit_c.c — the C emitter: one standalone trainer per model, shaped like
 * llm.c's train_gpt2.c.
 *
 *   front matter     what, from where, how to build, FLOPs (no timestamps)
 *   tile functions   the register-blocked tiles of the products, each
 *                    ahead of the layer function that calls it
 *   layer functions  a forward and a backward function per layer: the
 *                    layer's ops in order, outputs first in the argument
 *                    list, then inputs (then nb, the live rows, for the
 *                    losses); every shape a constant; a comment naming the
 *                    .nn line
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
#include <math.h>
#include <string.h>

#include "emit.h"

/* ------------------------------------------------------------ helpers */

bool emit_inference;

static const char *cn(IR *ir, int v) { return ir->vals[v]->cname; }
static const char *in_cn(IR *ir, Op *op, int i) { return cn(ir, op->in[i]); }
static const char *out_cn(IR *ir, Op *op) { return cn(ir, op->out); }
/* Features per row (per step of a sequence). */
static long rowlen(IR *ir, int v) { return ir_feat(ir, v); }
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
  if (op->kind == OP_ACT || op->kind == OP_ACT_GRAD || op->fused)
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

/* -------------------------------------------------------------- emitters
 *
 * Layout: a batched value is stored feature-major, [features][B]: the B rows
 * of the batch are the contiguous dimension, so every kernel vectorizes
 * along the batch and every loop over it has the literal trip count B.
 * Columns nb..B-1 of the last, partial batch are "dead": the input copy
 * zeroes them, so they stay finite through the forward pass, the losses
 * skip them and write zero gradients for them, and so they add exactly
 * nothing to any weight gradient.  Parameters keep PyTorch's layout
 * (dense weight [out][in]).  A value made by `transpose` is row-major,
 * [B][features], for the weight-gradient product.
 */

static long bsz(IR *ir) { return ir->m->batch; }

/* The columns an op's loops run over: B, or T*B for a sequence (time is
 * folded into the columns, [F][T][B]). */
static long opcols(IR *ir, Op *op) {
  if (op->out >= 0 && ir->vals[op->out]->batched)
    return ir_cols(ir, op->out);
  return ir_cols(ir, op->in[0]);
}

void emit_view(FILE *out, IR *ir, Op *op) {
  fprintf(out, "  // %s is a view of %s: no code\n", out_cn(ir, op), in_cn(ir, op, 0));
}

/* libm calls do not vectorize; an `omp simd` on such a loop draws a clang
 * warning.  nn_exp, nn_sigmoid and nn_tanh (runtime/nnmath.h) vectorize in
 * float, and call libm in double: their loops get NN_SIMD_MATH. */
static bool calls_libm(const char *expr) { return strstr(expr, "log1p(") != NULL; }
static bool calls_nn_math(const char *expr) { return strstr(expr, "nn_") != NULL; }

/* The pragma for a loop that evaluates expr. */
static void simd_for(FILE *out, const char *expr, const char *indent) {
  if (calls_libm(expr))
    return;
  fprintf(out, "%s%s\n", indent, calls_nn_math(expr) ? "NN_SIMD_MATH" : "NN_OMP(omp simd)");
}

static const char *const act_fwd[] = {
#define ACT(id, name, f, b, u) [ACT_##id] = f,
#include "acts.h"
#undef ACT
};
static const char *const act_bwd[] = {
#define ACT(id, name, f, b, u) [ACT_##id] = b,
#include "acts.h"
#undef ACT
};
static const char act_uses[] = {
#define ACT(id, name, f, b, u) [ACT_##id] = u,
#include "acts.h"
#undef ACT
};

static void emit_alpha(FILE *out, Act act, double alpha, const char *indent) {
  if (act == ACT_LEAKY_RELU) {
    fprintf(out, "%sconst real alpha = ", indent);
    real_lit(out, alpha);
    fprintf(out, ";\n");
  }
}

/* A register-blocked product, out[M][C] (=|+=) sum_j A(row, j) V[j][c]:
 * tiles of R = 6 rows x CW <= 64 columns of accumulators (24 AVX-512
 * registers in float) held in a local array, j outermost, the tile update
 * innermost and vectorized along the columns.  Every size is a literal;
 * remainder rows and columns get their own loops.  Tiles are split across
 * threads; each tile is summed by one thread in a fixed order, so the
 * result does not depend on the thread count. */
/* Kernels that run in parallel put their tile in a function of its own,
 * written ahead of the layer function that calls it: clang optimizes a
 * tile badly when it is the body of an `omp parallel for` (its pointers
 * are captured by reference in the outlined region; 3x slower here), and
 * well as a call with restrict arguments.  emit_group points these at its
 * stream of helpers and its own name. */
static FILE *helpers;
static const char *helper_base;
static int helper_count;

static FILE *helper_begin(char *name, size_t n) {
  snprintf(name, n, "%s_tile%d", helper_base, helper_count++);
  return helpers;
}

typedef struct Panel {
  long M, C, J;     /* rows, columns, inner length */
  const char *a;    /* A(row, j) as a C expression of r0 + r and j */
  const char *a_arr; /* the array that expression reads */
  const char *bias; /* the array `init` reads, or NULL */
  const char *v;    /* V */
  long ldv;         /* V[j][c] = v[j * ldv + c] */
  const char *o;    /* out */
  long ldo;         /* out[row][c] = o[row * ldo + c] */
  const char *o_arg, *v_arg; /* what the call passes for o and v (NULL: o, v) */
  const char *init; /* accumulator's start: "0", or "bias[r0 + r]" */
  bool accumulate;  /* out += */
  bool epilogue;    /* apply act to the result */
  Act act;
  double alpha;
} Panel;

/* Long inner products (J >= PANEL_JBLOCK * 4: the weight gradients over
 * T*B columns of a sequence) run in blocks of PANEL_JBLOCK, every tile
 * over one block before the next, so the block of V stays in cache: a
 * tile starts from init on the first block and from its partial sums in
 * out on the others.  Still one thread per tile and a fixed order. */
#define PANEL_JBLOCK 256
static bool panel_blocked(const Panel *p) { return p->J >= 4 * PANEL_JBLOCK && !p->epilogue; }

/* One kind of tile of a panel: the helper that computes it, its size
 * R x CW, and the nr x nc grid of tiles it covers from (r_first, c_first). */
typedef struct TileKind {
  char fn[160];
  long R, CW, r_first, nr, c_first, nc;
} TileKind;

/* Writes the helper of tiles of R x CW into the helpers stream. */
static void panel_tile_fn(const Panel *p, TileKind *k) {
  long R = k->R, CW = k->CW;
  bool blocked = panel_blocked(p);
  FILE *h = helper_begin(k->fn, sizeof k->fn);
  const char *fn = k->fn;
  fprintf(h, "// rows r0..r0+%ld, columns c0..c0+%ld of %s%s\n", R - 1, CW - 1, p->o,
          blocked ? ", inner indices j0..j1-1" : "");
  fprintf(h, "static void %s(real *restrict %s, const real *restrict %s, const real *restrict %s",
          fn, p->o, p->v, p->a_arr);
  if (p->bias)
    fprintf(h, ", const real *restrict %s", p->bias);
  fprintf(h, ", int r0, int c0%s) {\n", blocked ? ", int j0, int j1" : "");
  fprintf(h, "  real acc[%ld][%ld];\n", R, CW);
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n", R);
  if (blocked)
    fprintf(h, "    const real *o = %s + (size_t)(r0 + r) * %ld + c0;\n", p->o, p->ldo);
  fprintf(h, "    NN_OMP(omp simd)\n");
  if (blocked)
    fprintf(h, "    for (int c = 0; c < %ld; c++)\n      acc[r][c] = j0 == 0 ? %s : o[c];\n  }\n",
            CW, p->accumulate ? "0" : p->init);
  else
    fprintf(h, "    for (int c = 0; c < %ld; c++)\n      acc[r][c] = %s;\n  }\n", CW, p->init);
  fprintf(h, "  NN_NOVEC\n");
  if (blocked)
    fprintf(h, "  for (int j = j0; j < j1; j++) {\n");
  else
    fprintf(h, "  for (int j = 0; j < %ld; j++) {\n", p->J);
  fprintf(h, "    const real *v = %s + (size_t)j * %ld + c0;\n", p->v, p->ldv);
  fprintf(h, "    NN_NOVEC\n");
  fprintf(h, "    for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "      const real a = %s;\n", p->a);
  fprintf(h, "      NN_OMP(omp simd)\n");
  fprintf(h, "      for (int c = 0; c < %ld; c++)\n        acc[r][c] += a * v[c];\n", CW);
  fprintf(h, "    }\n  }\n");
  emit_alpha(h, p->epilogue ? p->act : ACT_IDENTITY, p->alpha, "  ");
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "    real *o = %s + (size_t)(r0 + r) * %ld + c0;\n", p->o, p->ldo);
  simd_for(h, p->epilogue ? act_fwd[p->act] : "", "    ");
  fprintf(h, "    for (int c = 0; c < %ld; c++) {\n", CW);
  if (p->epilogue) {
    fprintf(h, "      const real xi = acc[r][c];\n");
    fprintf(h, "      o[c] %s %s;\n", p->accumulate ? "+=" : "=", act_fwd[p->act]);
  } else if (blocked && p->accumulate) {
    /* the first block adds to what out held; later ones hold the sum */
    fprintf(h, "      o[c] = j0 == 0 ? o[c] + acc[r][c] : acc[r][c];\n");
  } else {
    fprintf(h, "      o[c] %s acc[r][c];\n", p->accumulate ? "+=" : "=");
  }
  fprintf(h, "    }\n  }\n}\n\n");
}

/* The call of tile number `u` (a C expression) of kind k. */
static void panel_call(FILE *out, const Panel *p, const TileKind *k, const char *u,
                       const char *ind) {
  fprintf(out, "%s%s(%s, %s, %s, ", ind, k->fn, p->o_arg ? p->o_arg : p->o,
          p->v_arg ? p->v_arg : p->v, p->a_arr);
  if (p->bias)
    fprintf(out, "%s, ", p->bias);
  fprintf(out, "%ld + (%s / %ld) * %ld, %ld + (%s %% %ld) * %ld", k->r_first, u, k->nc, k->R,
          k->c_first, u, k->nc, k->CW);
  if (panel_blocked(p))
    fprintf(out, ", j0, j0 + %d < %ld ? j0 + %d : %ld", PANEL_JBLOCK, p->J, PANEL_JBLOCK, p->J);
  fprintf(out, ");\n");
}

/* Set while emitting the body of an enclosing `omp parallel` region (a
 * recurrent layer's time loop): panels then share their tiles out with
 * `omp for`, and the region's threads stay up from one step to the next. */
static bool in_region;

/* All tile kinds of a panel in one loop over their tiles, split across
 * threads with a static schedule: one fork (or one barrier, in a region)
 * per product (per block of J), whatever the number of remainder tiles. */
static void panel_calls(FILE *out, const Panel *p, const TileKind *k, int nk, bool par) {
  long nt = 0;
  for (int i = 0; i < nk; i++)
    nt += k[i].nr * k[i].nc;
  bool blocked = panel_blocked(p), share = in_region || (par && nt > 1);
  const char *ind = blocked ? "  " : "";
  if (blocked && share && !in_region)
    fprintf(out, "  NN_OMP(omp parallel)\n");
  if (blocked)
    fprintf(out, "  for (int j0 = 0; j0 < %ld; j0 += %d)%s\n", p->J, PANEL_JBLOCK,
            share && !in_region ? " {" : "");
  if (share)
    fprintf(out, "%s  NN_OMP(omp %sfor schedule(static))\n", ind,
            in_region || blocked ? "" : "parallel ");
  fprintf(out, "%s  for (int t = 0; t < %ld; t++)%s\n", ind, nt, nk > 1 ? " {" : "");
  if (nk == 1) {
    char ind2[16];
    snprintf(ind2, sizeof ind2, "%s    ", ind);
    panel_call(out, p, &k[0], "t", ind2);
  } else {
    long first = 0;
    for (int i = 0; i < nk; i++) {
      long n = k[i].nr * k[i].nc;
      char u[48], ind2[16];
      snprintf(ind2, sizeof ind2, "%s      ", ind);
      if (i < nk - 1)
        fprintf(out, "%s    %sif (t < %ld)\n", ind, i ? "else " : "", first + n);
      else
        fprintf(out, "%s    else\n", ind);
      if (first)
        snprintf(u, sizeof u, "(t - %ld)", first);
      else
        snprintf(u, sizeof u, "t");
      panel_call(out, p, &k[i], u, ind2);
      first += n;
    }
    fprintf(out, "%s  }\n", ind);
  }
  if (blocked && share && !in_region)
    fprintf(out, "  }\n");
}

static void emit_panel(FILE *out, const Panel *p) {
  /* 24 accumulator vectors: 6 rows of 64 columns, or 12 of up to 32 (the
   * recurrent layers' per-step products have B = 32 columns) */
  long CW = p->C < 64 ? p->C : 64, RW = CW <= 32 ? 12 : 6, R = p->M < RW ? p->M : RW;
  long nr = p->M / R, rr = p->M % R, nc = p->C / CW, cr = p->C % CW;
  /* two threads pay only for products of a few hundred thousand FLOPs */
  bool par = 2.0 * (double)p->M * (double)p->C * (double)p->J >= 4e5;
  TileKind k[4] = {{"", R, CW, 0, nr, 0, nc},
                   {"", rr, CW, nr * R, 1, 0, nc},
                   {"", R, cr, 0, nr, nc * CW, 1},
                   {"", rr, cr, nr * R, 1, nc * CW, 1}};
  TileKind used[4];
  int nk = 0;
  for (int i = 0; i < 4; i++)
    if (k[i].R > 0 && k[i].CW > 0 && k[i].nr * k[i].nc > 0) {
      panel_tile_fn(p, &k[i]);
      used[nk++] = k[i];
    }
  if (nk)
    panel_calls(out, p, used, nk, par);
}

/* emit_panel inside a loop body: its calls indented one level more. */
static void emit_panel_in_loop(FILE *out, const Panel *p) {
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  emit_panel(mem, p);
  fclose(mem);
  for (char *line = buf, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    fprintf(out, "  %.*s\n", (int)(nl - line), line);
  }
  free(buf);
}

/* Batch 1 (inference one sample at a time): no batch to vectorize along,
 * so y[n] = sum_k w[n][k] x[k] as dot products, R <= 4 rows at a time
 * sharing each load of x, one vector reduction per row (four independent
 * chains of FMAs). */
static void dot_rows(FILE *out, IR *ir, Op *op, long R, long n_first, long ntiles, bool par) {
  long K = rowlen(ir, op->in[0]);
  if (ntiles == 0 || R == 0)
    return;
  const char *x = in_cn(ir, op, 0), *w = in_cn(ir, op, 1), *y = out_cn(ir, op);
  const char *bias = op->nin == 3 ? in_cn(ir, op, 2) : NULL;
  char fn[160];
  FILE *h = helper_begin(fn, sizeof fn);
  fprintf(h, "// rows r0..r0+%ld of %s, dot products along the %ld inputs\n", R - 1, y, K);
  fprintf(h, "static void %s(real *restrict %s, const real *restrict %s, const real *restrict %s",
          fn, y, x, w);
  if (bias)
    fprintf(h, ", const real *restrict %s", bias);
  fprintf(h, ", int r0) {\n");
  fprintf(h, "  const real *wr = %s + (size_t)r0 * %ld;\n", w, K);
  fprintf(h, "  real a0 = 0");
  for (long r = 1; r < R; r++)
    fprintf(h, ", a%ld = 0", r);
  fprintf(h, ";\n  NN_OMP(omp simd reduction(+:a0");
  for (long r = 1; r < R; r++)
    fprintf(h, ", a%ld", r);
  fprintf(h, "))\n  for (int k = 0; k < %ld; k++) {\n", K);
  fprintf(h, "    const real xk = %s[k];\n", x);
  for (long r = 0; r < R; r++)
    fprintf(h, "    a%ld += wr[%ld + k] * xk;\n", r, r * K);
  fprintf(h, "  }\n");
  emit_alpha(h, op->fused ? op->act : ACT_IDENTITY, op->alpha, "  ");
  for (long r = 0; r < R; r++) {
    fprintf(h, "  {\n    const real xi = a%ld", r);
    if (bias)
      fprintf(h, " + %s[r0 + %ld]", bias, r);
    fprintf(h, ";\n    %s[r0 + %ld] %s %s;\n  }\n", y, r, assign(op),
            op->fused ? act_fwd[op->act] : "xi");
  }
  fprintf(h, "}\n\n");
  if (par && ntiles > 1)
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int t = 0; t < %ld; t++)\n", ntiles);
  fprintf(out, "    %s(%s, %s, %s, %s%s%ld + t * %ld);\n", fn, y, x, w, bias ? bias : "",
          bias ? ", " : "", n_first, R);
}

/* y[N][B] = w[N][K] x[K][B] (+ b[N]), with the layer's activation fused
 * into the store when lowering put one there (op->fused). */
void emit_linear(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), N = rowlen(ir, op->out), B = opcols(ir, op);
  if (B == 1) {
    op_comment(out, ir, op);
    bool par = 2.0 * (double)N * (double)K >= 4e5;
    dot_rows(out, ir, op, 4, 0, N / 4, par);
    dot_rows(out, ir, op, N % 4, N / 4 * 4, 1, false);
    return;
  }
  char a[160], init[96];
  snprintf(a, sizeof a, "%s[(size_t)(r0 + r) * %ld + j]", in_cn(ir, op, 1), K);
  snprintf(init, sizeof init, "%s", "0");
  if (op->nin == 3)
    snprintf(init, sizeof init, "%s[r0 + r]", in_cn(ir, op, 2));
  op_comment(out, ir, op);
  Panel p = {N,          B, K, a, in_cn(ir, op, 1), op->nin == 3 ? in_cn(ir, op, 2) : NULL,
             in_cn(ir, op, 0), B, out_cn(ir, op), B, NULL, NULL, init, op->accumulate, op->fused,
             op->act, op->alpha};
  emit_panel(out, &p);
}

/* dx[K][B] = w[N][K]^T dy[N][B] */
void emit_matmul_nn(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->in[0]), K = rowlen(ir, op->out), B = opcols(ir, op);
  char a[160];
  snprintf(a, sizeof a, "%s[(size_t)j * %ld + r0 + r]", in_cn(ir, op, 1), K);
  op_comment(out, ir, op);
  Panel p = {K,    B, N, a, in_cn(ir, op, 1), NULL, in_cn(ir, op, 0), B, out_cn(ir, op), B, NULL,
             NULL, "0", op->accumulate, false, ACT_IDENTITY, 0};
  emit_panel(out, &p);
}

/* dw[N][K] = dy[N][B] xt[B][K]: xt is the layer input, transposed. */
void emit_matmul_tn(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->in[0]), K = rowlen(ir, op->in[1]), B = ir_cols(ir, op->in[0]);
  char a[160];
  snprintf(a, sizeof a, "%s[(size_t)(r0 + r) * %ld + j]", in_cn(ir, op, 0), B);
  op_comment(out, ir, op);
  Panel p = {N,    K, B, a, in_cn(ir, op, 0), NULL, in_cn(ir, op, 1), K, out_cn(ir, op), K, NULL,
             NULL, "0", op->accumulate, false, ACT_IDENTITY, 0};
  emit_panel(out, &p);
}

/* Elementwise and transposing loops are split across threads, by rows,
 * when they are large enough to pay for it. */
static bool par_elems(long n) { return n >= 32768; }

/* The linear of a one-hot token input as a gather of w's columns:
 * y[n][c] = w[n][id_c] (+ b[n]); an id outside [0, V) (a dead column)
 * selects nothing, as its all-zero one-hot column would. */
void emit_gather(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out), C = opcols(ir, op), V = ir->vals[op->in[1]]->shape.dims[1];
  const char *ids = in_cn(ir, op, 0), *w = in_cn(ir, op, 1), *y = out_cn(ir, op);
  op_comment(out, ir, op);
  if (par_elems(N * C))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "    const real *wr = %s + (size_t)n * %ld;\n", w, V);
  if (op->nin == 3)
    fprintf(out, "    const real bn = %s[n];\n", in_cn(ir, op, 2));
  fprintf(out, "    for (int c = 0; c < %ld; c++) {\n", C);
  fprintf(out, "      const int id = (int)%s[c];\n", ids);
  fprintf(out, "      %s[(size_t)n * %ld + c] %s (id >= 0 && id < %ld ? wr[id] : (real)0)%s;\n", y, C,
          assign(op), V, op->nin == 3 ? " + bn" : "");
  fprintf(out, "    }\n  }\n");
}

/* dw[n][id_c] += dy[n][c] over the columns, in column order; rows n are
 * split across threads, so the sums do not depend on the thread count. */
void emit_scatter_add(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->in[0]), C = ir_cols(ir, op->in[0]), V = ir->m->vocab;
  const char *dy = in_cn(ir, op, 0), *ids = in_cn(ir, op, 1), *dw = out_cn(ir, op);
  op_comment(out, ir, op);
  if (par_elems(N * C))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "    real *d = %s + (size_t)n * %ld;\n", dw, V);
  if (!op->accumulate)
    fprintf(out, "    for (int v = 0; v < %ld; v++)\n      d[v] = 0;\n", V);
  fprintf(out, "    for (int c = 0; c < %ld; c++) {\n", C);
  fprintf(out, "      const int id = (int)%s[c];\n", ids);
  fprintf(out, "      if (id >= 0 && id < %ld)\n        d[id] += %s[(size_t)n * %ld + c];\n", V, dy,
          C);
  fprintf(out, "    }\n  }\n");
}

/* ------------------------------------------------ convolution, pooling
 * One sample is (H, W, C), channels last; with the batch innermost a value
 * is x[(h * W + w) * C + c][B].  Weights keep PyTorch's [oc][ic][kh][kw]. */

/* Columns: chunks of up to 64 of the B batch columns, as the panels. */
static long col_width(long B) { return B < 64 ? B : 64; }

/* Tiles of R output channels of one output pixel, over batch columns
 * c0..c0+CW: the taps of the window inside the image, each a vector of
 * the batch (an implicit GEMM: no im2col in the forward pass). */
static void conv_tile(FILE *out, IR *ir, Op *op, long R, long CW, long r_first, long nr,
                      long c_first, long nc, bool par) {
  const Geo *g = &op->geo;
  long B = bsz(ir), P = (long)g->oh * g->ow, nt = nr * P * nc;
  if (nt == 0 || R == 0 || CW == 0)
    return;
  const char *x = in_cn(ir, op, 0), *w = in_cn(ir, op, 1), *y = out_cn(ir, op);
  const char *bias = op->nin == 3 ? in_cn(ir, op, 2) : NULL;
  char fn[160];
  FILE *h = helper_begin(fn, sizeof fn);
  fprintf(h, "// output channels r0..r0+%ld of pixel p, columns c0..c0+%ld\n", R - 1, CW - 1);
  fprintf(h, "static void %s(real *restrict %s, const real *restrict %s, const real *restrict %s",
          fn, y, x, w);
  if (bias)
    fprintf(h, ", const real *restrict %s", bias);
  fprintf(h, ", int r0, int p, int c0) {\n");
  fprintf(h, "  const int oh = p / %d, ow = p %% %d;\n", g->ow, g->ow);
  fprintf(h, "  real acc[%ld][%ld];\n", R, CW);
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n    NN_OMP(omp simd)\n", R);
  char init[96] = "0";
  if (bias)
    snprintf(init, sizeof init, "%s[r0 + r]", bias);
  fprintf(h, "    for (int c = 0; c < %ld; c++)\n      acc[r][c] = %s;\n  }\n", CW, init);
  fprintf(h, "  for (int kh = 0; kh < %d; kh++) {\n", g->kh);
  fprintf(h, "    const int ih = oh * %d + kh - %d;\n", g->sh, g->pt);
  fprintf(h, "    if (ih < 0 || ih >= %d)\n      continue;\n", g->ih);
  fprintf(h, "    for (int kw = 0; kw < %d; kw++) {\n", g->kw);
  fprintf(h, "      const int iw = ow * %d + kw - %d;\n", g->sw, g->pl);
  fprintf(h, "      if (iw < 0 || iw >= %d)\n        continue;\n", g->iw);
  fprintf(h, "      const real *xp = %s + (size_t)(ih * %d + iw) * %ld + c0;\n", x, g->iw,
          (long)g->ic * B);
  fprintf(h, "      NN_NOVEC\n      for (int ic = 0; ic < %d; ic++) {\n", g->ic);
  fprintf(h, "        const real *v = xp + (size_t)ic * %ld;\n", B);
  fprintf(h, "        NN_NOVEC\n        for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "          const real a = %s[(((size_t)(r0 + r) * %d + ic) * %d + kh) * %d + kw];\n",
          w, g->ic, g->kh, g->kw);
  fprintf(h, "          NN_OMP(omp simd)\n          for (int c = 0; c < %ld; c++)\n", CW);
  fprintf(h, "            acc[r][c] += a * v[c];\n        }\n      }\n    }\n  }\n");
  emit_alpha(h, op->fused ? op->act : ACT_IDENTITY, op->alpha, "  ");
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "    real *o = %s + ((size_t)p * %d + r0 + r) * %ld + c0;\n", y, g->oc, B);
  simd_for(h, op->fused ? act_fwd[op->act] : "", "    ");
  fprintf(h, "    for (int c = 0; c < %ld; c++) {\n      const real xi = acc[r][c];\n", CW);
  fprintf(h, "      o[c] %s %s;\n    }\n  }\n}\n\n", assign(op),
          op->fused ? act_fwd[op->act] : "xi");
  if (par && nt > 1)
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int t = 0; t < %ld; t++)\n", nt);
  fprintf(out, "    %s(%s, %s, %s, %s%s%ld + (t / %ld) * %ld, (t / %ld) %% %ld, %ld + (t %% %ld) * %ld);\n",
          fn, y, x, w, bias ? bias : "", bias ? ", " : "", r_first, P * nc, R, nc, P, c_first,
          nc, CW);
}

void emit_conv2d(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir), CW = col_width(B), R = g->oc < 6 ? g->oc : 6;
  long nr = g->oc / R, rr = g->oc % R, nc = B / CW, cr = B % CW;
  bool par = 2.0 * g->oh * g->ow * g->oc * g->ic * g->kh * g->kw * B >= 4e5;
  op_comment(out, ir, op);
  conv_tile(out, ir, op, R, CW, 0, nr, 0, nc, par);
  conv_tile(out, ir, op, rr, CW, nr * R, 1, 0, nc, par);
  conv_tile(out, ir, op, R, cr, 0, nr, nc * CW, 1, par);
  conv_tile(out, ir, op, rr, cr, nr * R, 1, nc * CW, 1, par);
}

/* dx[(ih,iw,ic)][b] = sum over the taps (kh, kw) that reach input pixel
 * (ih, iw) from an output pixel (oh, ow) = ((ih + pt - kh) / sh, ...), when
 * that divides exactly and lies inside, of sum_oc w[oc][ic][kh][kw] dy.
 * Tiles of R input channels of one input pixel. */
static void conv_dx_tile(FILE *out, IR *ir, Op *op, long R, long CW, long r_first, long nr,
                         long c_first, long nc, bool par) {
  const Geo *g = &op->geo;
  long B = bsz(ir), Q = (long)g->ih * g->iw, nt = nr * Q * nc;
  if (nt == 0 || R == 0 || CW == 0)
    return;
  const char *dy = in_cn(ir, op, 0), *w = in_cn(ir, op, 1), *dx = out_cn(ir, op);
  char fn[160];
  FILE *h = helper_begin(fn, sizeof fn);
  fprintf(h, "// input channels r0..r0+%ld of input pixel q, columns c0..c0+%ld\n", R - 1, CW - 1);
  fprintf(h, "static void %s(real *restrict %s, const real *restrict %s, const real *restrict %s, "
          "int r0, int q, int c0) {\n", fn, dx, dy, w);
  fprintf(h, "  const int ih = q / %d, iw = q %% %d;\n", g->iw, g->iw);
  fprintf(h, "  real acc[%ld][%ld];\n", R, CW);
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n    NN_OMP(omp simd)\n", R);
  fprintf(h, "    for (int c = 0; c < %ld; c++)\n      acc[r][c] = 0;\n  }\n", CW);
  fprintf(h, "  for (int kh = 0; kh < %d; kh++) {\n", g->kh);
  fprintf(h, "    const int th = ih + %d - kh;\n", g->pt);
  fprintf(h, "    if (th < 0 || th %% %d != 0 || th / %d >= %d)\n      continue;\n", g->sh, g->sh,
          g->oh);
  fprintf(h, "    for (int kw = 0; kw < %d; kw++) {\n", g->kw);
  fprintf(h, "      const int tw = iw + %d - kw;\n", g->pl);
  fprintf(h, "      if (tw < 0 || tw %% %d != 0 || tw / %d >= %d)\n        continue;\n", g->sw,
          g->sw, g->ow);
  fprintf(h, "      const real *dp = %s + (size_t)((th / %d) * %d + tw / %d) * %ld + c0;\n", dy,
          g->sh, g->ow, g->sw, (long)g->oc * B);
  fprintf(h, "      NN_NOVEC\n      for (int oc = 0; oc < %d; oc++) {\n", g->oc);
  fprintf(h, "        const real *v = dp + (size_t)oc * %ld;\n", B);
  fprintf(h, "        NN_NOVEC\n        for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "          const real a = %s[(((size_t)oc * %d + r0 + r) * %d + kh) * %d + kw];\n", w,
          g->ic, g->kh, g->kw);
  fprintf(h, "          NN_OMP(omp simd)\n          for (int c = 0; c < %ld; c++)\n", CW);
  fprintf(h, "            acc[r][c] += a * v[c];\n        }\n      }\n    }\n  }\n");
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "    real *o = %s + ((size_t)q * %d + r0 + r) * %ld + c0;\n", dx, g->ic, B);
  fprintf(h, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", CW);
  fprintf(h, "      o[c] %s acc[r][c];\n  }\n}\n\n", assign(op));
  if (par && nt > 1)
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int t = 0; t < %ld; t++)\n", nt);
  fprintf(out, "    %s(%s, %s, %s, %ld + (t / %ld) * %ld, (t / %ld) %% %ld, %ld + (t %% %ld) * %ld);\n",
          fn, dx, dy, w, r_first, Q * nc, R, nc, Q, c_first, nc, CW);
}

void emit_conv2d_dx(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir), CW = col_width(B), R = g->ic < 6 ? g->ic : 6;
  long nr = g->ic / R, rr = g->ic % R, nc = B / CW, cr = B % CW;
  bool par = 2.0 * g->oh * g->ow * g->oc * g->ic * g->kh * g->kw * B >= 4e5;
  op_comment(out, ir, op);
  conv_dx_tile(out, ir, op, R, CW, 0, nr, 0, nc, par);
  conv_dx_tile(out, ir, op, rr, CW, nr * R, 1, 0, nc, par);
  conv_dx_tile(out, ir, op, R, cr, 0, nr, nc * CW, 1, par);
  conv_dx_tile(out, ir, op, rr, cr, nr * R, 1, nc * CW, 1, par);
}

/* col[(p * B + b) * J + j], j = (ic * kh + kh) * kw + kw as in the weight:
 * the taps of output pixel p for row b, 0 where the window is in the
 * padding. */
void emit_im2col(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir), J = (long)g->ic * g->kh * g->kw, P = (long)g->oh * g->ow;
  const char *x = in_cn(ir, op, 0), *col = out_cn(ir, op);
  op_comment(out, ir, op);
  if (par_elems(P * J * B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int p = 0; p < %ld; p++) {\n", P);
  fprintf(out, "    const int oh = p / %d, ow = p %% %d;\n", g->ow, g->ow);
  fprintf(out, "    real *cp = %s + (size_t)p * %ld;\n", col, B * J);
  fprintf(out, "    for (int ic = 0; ic < %d; ic++)\n", g->ic);
  fprintf(out, "      for (int kh = 0; kh < %d; kh++)\n", g->kh);
  fprintf(out, "        for (int kw = 0; kw < %d; kw++) {\n", g->kw);
  fprintf(out, "          const int ih = oh * %d + kh - %d, iw = ow * %d + kw - %d;\n", g->sh,
          g->pt, g->sw, g->pl);
  fprintf(out, "          const int j = (ic * %d + kh) * %d + kw;\n", g->kh, g->kw);
  fprintf(out, "          if (ih < 0 || ih >= %d || iw < 0 || iw >= %d) {\n", g->ih, g->iw);
  fprintf(out, "            for (int b = 0; b < %ld; b++)\n", B);
  fprintf(out, "              cp[(size_t)b * %ld + j] = 0;\n            continue;\n          }\n", J);
  fprintf(out, "          const real *xp = %s + ((size_t)(ih * %d + iw) * %d + ic) * %ld;\n", x,
          g->iw, g->ic, B);
  fprintf(out, "          for (int b = 0; b < %ld; b++)\n", B);
  fprintf(out, "            cp[(size_t)b * %ld + j] = xp[b];\n        }\n  }\n", J);
}

/* dw[oc][j] = sum over pixels p and rows b of dy[(p, oc)][b] col[(p,b)][j]:
 * tiles of R output channels x up to 64 taps. */
static void conv_dw_tile(FILE *out, IR *ir, Op *op, long R, long CW, long r_first, long nr,
                         long c_first, long nc, bool par) {
  const Geo *g = &op->geo;
  long B = bsz(ir), J = (long)g->ic * g->kh * g->kw, P = (long)g->oh * g->ow, nt = nr * nc;
  if (nt == 0 || R == 0 || CW == 0)
    return;
  const char *dy = in_cn(ir, op, 0), *col = in_cn(ir, op, 1), *dw = out_cn(ir, op);
  char fn[160];
  FILE *h = helper_begin(fn, sizeof fn);
  fprintf(h, "// output channels r0..r0+%ld, taps c0..c0+%ld\n", R - 1, CW - 1);
  fprintf(h, "static void %s(real *restrict %s, const real *restrict %s, const real *restrict %s, "
          "int r0, int c0) {\n", fn, dw, dy, col);
  fprintf(h, "  real acc[%ld][%ld];\n", R, CW);
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n    NN_OMP(omp simd)\n", R);
  fprintf(h, "    for (int c = 0; c < %ld; c++)\n      acc[r][c] = 0;\n  }\n", CW);
  fprintf(h, "  NN_NOVEC\n  for (int p = 0; p < %ld; p++)\n", P);
  fprintf(h, "    NN_NOVEC\n    for (int b = 0; b < %ld; b++) {\n", B);
  fprintf(h, "      const real *v = %s + ((size_t)p * %ld + b) * %ld + c0;\n", col, B, J);
  fprintf(h, "      NN_NOVEC\n      for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "        const real a = %s[((size_t)p * %d + r0 + r) * %ld + b];\n", dy, g->oc, B);
  fprintf(h, "        NN_OMP(omp simd)\n        for (int c = 0; c < %ld; c++)\n", CW);
  fprintf(h, "          acc[r][c] += a * v[c];\n      }\n    }\n");
  fprintf(h, "  for (int r = 0; r < %ld; r++) {\n", R);
  fprintf(h, "    real *o = %s + (size_t)(r0 + r) * %ld + c0;\n", dw, J);
  fprintf(h, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", CW);
  fprintf(h, "      o[c] %s acc[r][c];\n  }\n}\n\n", assign(op));
  if (par && nt > 1)
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int t = 0; t < %ld; t++)\n", nt);
  fprintf(out, "    %s(%s, %s, %s, %ld + (t / %ld) * %ld, %ld + (t %% %ld) * %ld);\n", fn, dw, dy,
          col, r_first, nc, R, c_first, nc, CW);
}

void emit_conv2d_dw(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long J = (long)g->ic * g->kh * g->kw, CW = J < 64 ? J : 64, R = g->oc < 6 ? g->oc : 6;
  long nr = g->oc / R, rr = g->oc % R, nc = J / CW, cr = J % CW;
  bool par = 2.0 * g->oh * g->ow * g->oc * J * bsz(ir) >= 4e5;
  op_comment(out, ir, op);
  conv_dw_tile(out, ir, op, R, CW, 0, nr, 0, nc, par);
  conv_dw_tile(out, ir, op, rr, CW, nr * R, 1, 0, nc, par);
  conv_dw_tile(out, ir, op, R, cr, 0, nr, nc * CW, 1, par);
  conv_dw_tile(out, ir, op, rr, cr, nr * R, 1, nc * CW, 1, false);
}

void emit_channel_sum(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir);
  op_comment(out, ir, op);
  fprintf(out, "  for (int oc = 0; oc < %d; oc++) {\n    real acc = 0;\n", g->oc);
  fprintf(out, "    for (int p = 0; p < %d; p++) {\n", g->oh * g->ow);
  fprintf(out, "      const real *dp = %s + ((size_t)p * %d + oc) * %ld;\n", in_cn(ir, op, 0),
          g->oc, B);
  fprintf(out, "      NN_OMP(omp simd reduction(+:acc))\n");
  fprintf(out, "      for (int c = 0; c < %ld; c++)\n        acc += dp[c];\n    }\n", B);
  fprintf(out, "    %s[oc] %s acc;\n  }\n", out_cn(ir, op), assign(op));
}

/* The loops of a pooling window: for every channel (split across threads
 * when large) and output pixel, the taps inside the image. */
static void pool_loops_begin(FILE *out, IR *ir, const Geo *g) {
  long B = bsz(ir);
  if (par_elems((long)g->oh * g->ow * g->oc * B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int ch = 0; ch < %d; ch++)\n", g->oc);
  fprintf(out, "    for (int p = 0; p < %d; p++) {\n", g->oh * g->ow);
  fprintf(out, "      const int oh = p / %d, ow = p %% %d;\n", g->ow, g->ow);
  fprintf(out, "      const size_t yo = ((size_t)p * %d + ch) * %ld;\n", g->oc, B);
}

static void pool_taps_begin(FILE *out, const Geo *g, const char *ind) {
  fprintf(out, "%sfor (int kh = 0; kh < %d; kh++)\n", ind, g->kh);
  fprintf(out, "%s  for (int kw = 0; kw < %d; kw++) {\n", ind, g->kw);
  fprintf(out, "%s    const int ih = oh * %d + kh - %d, iw = ow * %d + kw - %d;\n", ind, g->sh,
          g->pt, g->sw, g->pl);
  fprintf(out, "%s    if (ih < 0 || ih >= %d || iw < 0 || iw >= %d)\n%s      continue;\n", ind,
          g->ih, g->iw, ind);
  fprintf(out, "%s    const size_t xo = (size_t)(ih * %d + iw) * %d + ch;\n", ind, g->iw, g->ic);
}

void emit_maxpool(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir);
  const char *x = in_cn(ir, op, 0), *y = out_cn(ir, op);
  op_comment(out, ir, op);
  pool_loops_begin(out, ir, g);
  fprintf(out, "      real mx[%ld];\n      NN_OMP(omp simd)\n", B);
  fprintf(out, "      for (int c = 0; c < %ld; c++)\n        mx[c] = -(real)INFINITY;\n", B);
  pool_taps_begin(out, g, "      ");
  fprintf(out, "          NN_OMP(omp simd)\n          for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "            mx[c] = %s[xo * %ld + c] > mx[c] ? %s[xo * %ld + c] : mx[c];\n", x, B,
          x, B);
  fprintf(out, "        }\n      NN_OMP(omp simd)\n      for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "        %s[yo + c] = mx[c];\n    }\n", y);
}

void emit_avgpool(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir);
  const char *x = in_cn(ir, op, 0), *y = out_cn(ir, op);
  op_comment(out, ir, op);
  pool_loops_begin(out, ir, g);
  fprintf(out, "      real sum[%ld];\n      NN_OMP(omp simd)\n", B);
  fprintf(out, "      for (int c = 0; c < %ld; c++)\n        sum[c] = 0;\n", B);
  pool_taps_begin(out, g, "      ");
  fprintf(out, "          NN_OMP(omp simd)\n          for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "            sum[c] += %s[xo * %ld + c];\n", x, B);
  fprintf(out, "        }\n      NN_OMP(omp simd)\n      for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "        %s[yo + c] = sum[c] * ((real)1 / (real)%d);\n    }\n", y, g->kh * g->kw);
}

/* Zero dx (unless accumulating), then add each window's share.  Threads
 * split the channels, so no two write the same element. */
static void pool_grad_zero(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  if (op->accumulate)
    return;
  fprintf(out, "  for (size_t i = 0; i < %ld; i++)\n    %s[i] = 0;\n",
          (long)g->ih * g->iw * g->ic * bsz(ir), out_cn(ir, op));
}

void emit_maxpool_grad(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir);
  const char *dy = in_cn(ir, op, 0), *x = in_cn(ir, op, 1), *y = in_cn(ir, op, 2);
  const char *dx = out_cn(ir, op);
  op_comment(out, ir, op);
  pool_grad_zero(out, ir, op);
  pool_loops_begin(out, ir, g);
  /* taken[c] turns 1 at the first tap equal to the maximum: later equal
   * taps (ties) get nothing */
  fprintf(out, "      real taken[%ld];\n      NN_OMP(omp simd)\n", B);
  fprintf(out, "      for (int c = 0; c < %ld; c++)\n        taken[c] = 0;\n", B);
  pool_taps_begin(out, g, "      ");
  fprintf(out, "          NN_OMP(omp simd)\n          for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "            const real hit = %s[xo * %ld + c] == %s[yo + c] && taken[c] == 0 ? "
          "(real)1 : (real)0;\n", x, B, y);
  fprintf(out, "            %s[xo * %ld + c] += hit * %s[yo + c];\n", dx, B, dy);
  fprintf(out, "            taken[c] += hit;\n          }\n        }\n    }\n");
}

void emit_avgpool_grad(FILE *out, IR *ir, Op *op) {
  const Geo *g = &op->geo;
  long B = bsz(ir);
  const char *dy = in_cn(ir, op, 0), *dx = out_cn(ir, op);
  op_comment(out, ir, op);
  pool_grad_zero(out, ir, op);
  pool_loops_begin(out, ir, g);
  pool_taps_begin(out, g, "      ");
  fprintf(out, "          NN_OMP(omp simd)\n          for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "            %s[xo * %ld + c] += %s[yo + c] * ((real)1 / (real)%d);\n", dx, B, dy,
          g->kh * g->kw);
  fprintf(out, "        }\n    }\n");
}

/* xt[B][K] = x[K][B], in 16 x 16 blocks. */
void emit_transpose(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), B = opcols(ir, op);
  op_comment(out, ir, op);
  if (ir->vals[op->out]->from_batch) {
    fprintf(out, "  // (forward() filled %s from the batch rows)\n", out_cn(ir, op));
    return;
  }
  if (par_elems(K * B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int k0 = 0; k0 < %ld; k0 += 16)\n", K);
  fprintf(out, "    for (int b0 = 0; b0 < %ld; b0 += 16)\n", B);
  fprintf(out, "      for (int k = k0; k < k0 + 16 && k < %ld; k++)\n", K);
  fprintf(out, "        for (int b = b0; b < b0 + 16 && b < %ld; b++)\n", B);
  fprintf(out, "          %s[(size_t)b * %ld + k] = %s[(size_t)k * %ld + b];\n", out_cn(ir, op), K,
          in_cn(ir, op, 0), B);
}

/* for f < F (in parallel if large), for i = f*B + c over the batch */
static void rows_loop_begin(FILE *out, long F, long B, const char *expr) {
  if (par_elems(F * B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int f = 0; f < %ld; f++) {\n", F);
  simd_for(out, expr, "    ");
  fprintf(out, "    for (size_t i = (size_t)f * %ld; i < (size_t)f * %ld + %ld; i++) {\n", B, B,
          B);
}

void emit_act(FILE *out, IR *ir, Op *op) {
  op_comment(out, ir, op);
  emit_alpha(out, op->act, op->alpha, "  ");
  rows_loop_begin(out, rowlen(ir, op->out), opcols(ir, op), act_fwd[op->act]);
  fprintf(out, "      const real xi = %s[i];\n", in_cn(ir, op, 0));
  fprintf(out, "      %s[i] %s %s;\n    }\n  }\n", out_cn(ir, op), assign(op), act_fwd[op->act]);
}

void emit_act_grad(FILE *out, IR *ir, Op *op) {
  op_comment(out, ir, op);
  emit_alpha(out, op->act, op->alpha, "  ");
  rows_loop_begin(out, rowlen(ir, op->out), opcols(ir, op), act_bwd[op->act]);
  fprintf(out, "      const real dyi = %s[i];\n", in_cn(ir, op, 0));
  if (op->nin == 2)
    fprintf(out, "      const real %ci = %s[i];\n", act_uses[op->act], in_cn(ir, op, 1));
  fprintf(out, "      %s[i] %s %s;\n    }\n  }\n", out_cn(ir, op), assign(op), act_bwd[op->act]);
}

/* ------------------------------------------------------ add and concat
 * A merge's values are [P][C][cols]: P pixels (1 for a vector) of C
 * channels (the last dimension), cols = B. */

/* y = x1 + x2 (+ ...), every element, row by row of B columns */
void emit_add(FILE *out, IR *ir, Op *op) {
  op_comment(out, ir, op);
  rows_loop_begin(out, rowlen(ir, op->out), opcols(ir, op), "");
  fprintf(out, "      %s[i] %s ", out_cn(ir, op), assign(op));
  for (int k = 0; k < op->nin; k++)
    fprintf(out, "%s%s[i]", k ? " + " : "", in_cn(ir, op, k));
  fprintf(out, ";\n    }\n  }\n");
}

/* The channels of a value (its last dimension) and its pixels. */
static long chans(IR *ir, int v) {
  const Shape *s = &ir->vals[v]->shape;
  return s->ndim ? s->dims[s->ndim - 1] : 1;
}
static long pixels(IR *ir, int v) { return ir_feat(ir, v) / chans(ir, v); }

/* y[p][off_k + ch][c] = x_k[p][ch][c]: each input's channels at their
 * offset, pixel by pixel (a vector is one pixel: one contiguous copy). */
void emit_concat(FILE *out, IR *ir, Op *op) {
  long P = pixels(ir, op->out), C = chans(ir, op->out), B = opcols(ir, op), off = 0;
  op_comment(out, ir, op);
  for (int k = 0; k < op->nin; k++) {
    long Ck = chans(ir, op->in[k]);
    fprintf(out, "  // %s: channels %ld..%ld of %s\n", in_cn(ir, op, k), off, off + Ck - 1,
            out_cn(ir, op));
    if (P == 1) {
      fprintf(out, "  for (size_t i = 0; i < %ld; i++)\n", Ck * B);
      fprintf(out, "    %s[%ld + i] = %s[i];\n", out_cn(ir, op), off * B, in_cn(ir, op, k));
    } else {
      fprintf(out, "  for (int p = 0; p < %ld; p++)\n", P);
      fprintf(out, "    for (size_t i = 0; i < %ld; i++)\n", Ck * B);
      fprintf(out, "      %s[(size_t)p * %ld + %ld + i] = %s[(size_t)p * %ld + i];\n",
              out_cn(ir, op), C * B, off * B, in_cn(ir, op, k), Ck * B);
    }
    off += Ck;
  }
}

/* dx = dy (+= when accumulating), element by element */
void emit_copy(FILE *out, IR *ir, Op *op) {
  op_comment(out, ir, op);
  rows_loop_begin(out, rowlen(ir, op->out), opcols(ir, op), "");
  fprintf(out, "      %s[i] %s %s[i];\n    }\n  }\n", out_cn(ir, op), assign(op), in_cn(ir, op, 0));
}

/* dx[p][ch][c] = dy[p][off + ch][c] for ch < width */
void emit_slice(FILE *out, IR *ir, Op *op) {
  long P = pixels(ir, op->in[0]), C = chans(ir, op->in[0]), B = opcols(ir, op);
  long W = op->width, off = op->off;
  op_comment(out, ir, op);
  fprintf(out, "  // channels %ld..%ld of %s\n", off, off + W - 1, in_cn(ir, op, 0));
  if (P == 1) {
    fprintf(out, "  for (size_t i = 0; i < %ld; i++)\n", W * B);
    fprintf(out, "    %s[i] %s %s[%ld + i];\n", out_cn(ir, op), assign(op), in_cn(ir, op, 0),
            off * B);
    return;
  }
  fprintf(out, "  for (int p = 0; p < %ld; p++)\n", P);
  fprintf(out, "    for (size_t i = 0; i < %ld; i++)\n", W * B);
  fprintf(out, "      %s[(size_t)p * %ld + i] %s %s[(size_t)p * %ld + %ld + i];\n", out_cn(ir, op),
          W * B, assign(op), in_cn(ir, op, 0), C * B, off * B);
}

/* Column-wise softmax of x[N][B], shifted by each column's maximum so exp
 * never overflows; vectorized along the batch. */
void emit_softmax(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out), B = opcols(ir, op);
  const char *x = in_cn(ir, op, 0), *y = out_cn(ir, op);
  op_comment(out, ir, op);
  fprintf(out, "  real mx[%ld], sum[%ld];\n", B, B);
  fprintf(out, "  NN_OMP(omp simd)\n  for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "    mx[c] = %s[c];\n    sum[c] = 0;\n  }\n", x);
  fprintf(out, "  for (int n = 1; n < %ld; n++)\n", N);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      mx[c] = %s[n * %ld + c] > mx[c] ? %s[n * %ld + c] : mx[c];\n", x, B, x, B);
  fprintf(out, "  for (int n = 0; n < %ld; n++)\n", N);
  fprintf(out, "    NN_SIMD_MATH\n    for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "      const real e = nn_exp(%s[n * %ld + c] - mx[c]);\n", x, B);
  fprintf(out, "      %s[n * %ld + c] = e;\n      sum[c] += e;\n    }\n", y, B);
  fprintf(out, "  NN_OMP(omp simd)\n  for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "    sum[c] = (real)1 / sum[c];\n");
  fprintf(out, "  for (int n = 0; n < %ld; n++)\n", N);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[n * %ld + c] *= sum[c];\n", y, B);
}

/* dx = y (dy - <dy, y>) column by column */
void emit_softmax_grad(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out), B = opcols(ir, op);
  const char *dy = in_cn(ir, op, 0), *y = in_cn(ir, op, 1);
  op_comment(out, ir, op);
  fprintf(out, "  real dot[%ld];\n", B);
  fprintf(out, "  NN_OMP(omp simd)\n  for (int c = 0; c < %ld; c++)\n    dot[c] = 0;\n", B);
  fprintf(out, "  for (int n = 0; n < %ld; n++)\n", N);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      dot[c] += %s[n * %ld + c] * %s[n * %ld + c];\n", dy, B, y, B);
  fprintf(out, "  for (int n = 0; n < %ld; n++)\n", N);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[n * %ld + c] %s %s[n * %ld + c] * (%s[n * %ld + c] - dot[c]);\n",
          out_cn(ir, op), B, assign(op), y, B, dy, B);
}

/* db[N] = sum over the batch of dy[N][B] (dead columns hold zeros). */
void emit_colsum(FILE *out, IR *ir, Op *op) {
  long N = rowlen(ir, op->out), B = ir_cols(ir, op->in[0]);
  op_comment(out, ir, op);
  if (par_elems(N * B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int n = 0; n < %ld; n++) {\n", N);
  fprintf(out, "    real acc = 0;\n");
  fprintf(out, "    NN_OMP(omp simd reduction(+:acc))\n");
  fprintf(out, "    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      acc += %s[(size_t)n * %ld + c];\n", in_cn(ir, op, 0), B);
  fprintf(out, "    %s[n] %s acc;\n  }\n", out_cn(ir, op), assign(op));
}

/* Losses and their gradients run over the live columns only: c < nb, or,
 * for a sequence of T steps, every c = t B + b with b < nb.  A sequence's
 * loss is the mean over its steps too, and a row's correct count is the
 * fraction of its steps that are right. */
static void live_cols(FILE *out, long T, long B, const char *ind) {
  if (T == 1) {
    fprintf(out, "%sfor (int c = 0; c < nb; c++) {\n", ind);
    return;
  }
  fprintf(out, "%sfor (int c = 0; c < %ld; c++) {\n", ind, T * B);
  fprintf(out, "%s  if (c %% %ld >= nb)\n%s    continue;\n", ind, B, ind);
}

/* "nb", or "(nb * T)": the count a loss is the mean over (times K). */
static const char *live_count(long T) {
  static char buf[64];
  if (T == 1)
    return "nb";
  snprintf(buf, sizeof buf, "(nb * %ld)", T);
  return buf;
}

/* The condition that column c is live, for the gradients' select. */
static void live_cond(FILE *out, long T, long B) {
  if (T == 1)
    fprintf(out, "c < nb");
  else
    fprintf(out, "c %% %ld < nb", B);
}

/* Target element (k, c) of a real target: the trainer's rows (float,
 * row-major [nb][K], step-major in a sequence's row) or the model input
 * (feature-major). */
static void target_at(FILE *out, IR *ir, int t, long K, long T) {
  long B = bsz(ir);
  if (ir->vals[t]->dtype == DT_FLOAT && T == 1)
    fprintf(out, "(real)%s[(size_t)c * %ld + k]", cn(ir, t), K);
  else if (ir->vals[t]->dtype == DT_FLOAT)
    fprintf(out, "(real)%s[(size_t)(c %% %ld) * %ld + (size_t)(c / %ld) * %ld + k]", cn(ir, t),
            B, T * K, B, K);
  else
    fprintf(out, "%s[(size_t)k * %ld + c]", cn(ir, t), ir_cols(ir, t));
}

/* The class of column c: cls[nb] or, per step, cls[nb][T]. */
static void class_at(FILE *out, const char *cl, long T, long B) {
  if (T == 1)
    fprintf(out, "%s[c]", cl);
  else
    fprintf(out, "%s[(c %% %ld) * %ld + c / %ld]", cl, B, T, B);
}

/* loss = mean over live columns of log sum_k exp z[k][c] - z[class_c][c],
 * from the logits so it stays finite when a probability underflows; a
 * column is correct when the argmax of its probabilities (the first, on
 * ties) is its class.  The maxima, the sums of exp and the argmax run
 * along the rows, vectorized across the columns (a sequence has T B). */
void emit_ce_softmax(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), B = ir_cols(ir, op->in[0]), T = ir_steps(ir, op->in[0]);
  const char *z = in_cn(ir, op, 0), *p = in_cn(ir, op, 1), *cl = in_cn(ir, op, 2);
  op_comment(out, ir, op);
  fprintf(out, "  double total = 0, ncorrect = 0;\n");
  fprintf(out, "  real lmx[%ld], lsum[%ld], lbest[%ld];\n  int larg[%ld];\n", B, B, B, B);
  fprintf(out, "  NN_OMP(omp simd)\n  for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "    lmx[c] = %s[c];\n    lbest[c] = %s[c];\n    larg[c] = 0;\n    lsum[c] = 0;\n  }\n",
          z, p);
  fprintf(out, "  for (int k = 1; k < %ld; k++)\n    NN_OMP(omp simd)\n", K);
  fprintf(out, "    for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "      const real zk = %s[(size_t)k * %ld + c], pk = %s[(size_t)k * %ld + c];\n", z, B,
          p, B);
  fprintf(out, "      const int up = pk > lbest[c];\n");
  fprintf(out, "      lmx[c] = zk > lmx[c] ? zk : lmx[c];\n");
  fprintf(out, "      lbest[c] = up ? pk : lbest[c];\n      larg[c] = up ? k : larg[c];\n    }\n");
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n    NN_SIMD_MATH\n", K);
  fprintf(out, "    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      lsum[c] += nn_exp(%s[(size_t)k * %ld + c] - lmx[c]);\n", z, B);
  live_cols(out, T, bsz(ir), "  ");
  fprintf(out, "    const int ci = ");
  class_at(out, cl, T, bsz(ir));
  fprintf(out, ";\n");
  fprintf(out, "    total += log((double)lsum[c]) + (double)lmx[c] - (double)%s[(size_t)ci * %ld + c];\n",
          z, B);
  fprintf(out, "    ncorrect += larg[c] == ci;\n  }\n");
  if (T == 1)
    fprintf(out, "  if (correct)\n    *correct += ncorrect;\n");
  else
    fprintf(out, "  if (correct)\n    *correct += ncorrect / %ld;\n", T);
  fprintf(out, "  loss = total / %s;\n", live_count(T));
}

/* dz = (p - onehot(class)) / nb on live columns, 0 on dead ones. */
void emit_ce_softmax_grad(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->out), B = opcols(ir, op), T = ir_steps(ir, op->out);
  const char *dz = out_cn(ir, op), *p = in_cn(ir, op, 0);
  op_comment(out, ir, op);
  fprintf(out, "  const real scale = (real)1 / (real)%s;\n", live_count(T));
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", K);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[k * %ld + c] %s ", dz, B, assign(op));
  live_cond(out, T, bsz(ir));
  fprintf(out, " ? %s[k * %ld + c] * scale : (real)0;\n", p, B);
  live_cols(out, T, bsz(ir), "  ");
  fprintf(out, "    %s[", dz);
  class_at(out, in_cn(ir, op, 1), T, bsz(ir));
  fprintf(out, " * %ld + c] -= scale;\n  }\n", B);
}

/* loss = mean over live elements of max(z,0) - t z + log(1 + exp(-|z|)),
 * which is -t log p - (1-t) log(1-p) for p = sigmoid(z) without overflow;
 * correct = elements with (p > 1/2) == (t > 1/2), as a fraction per row. */
void emit_bce_sigmoid(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), B = ir_cols(ir, op->in[0]), T = ir_steps(ir, op->in[0]);
  op_comment(out, ir, op);
  fprintf(out, "  double total = 0, ncorrect = 0;\n");
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", K);
  live_cols(out, T, bsz(ir), "    ");
  fprintf(out, "      const double zi = (double)%s[k * %ld + c], ti = ", in_cn(ir, op, 0), B);
  target_at(out, ir, op->in[2], K, T);
  fprintf(out, ";\n");
  fprintf(out, "      total += (zi > 0 ? zi : 0) - ti * zi + log1p(exp(-fabs(zi)));\n");
  fprintf(out, "      ncorrect += (%s[k * %ld + c] > (real)0.5) == (ti > 0.5);\n    }\n",
          in_cn(ir, op, 1), B);
  fprintf(out, "  if (correct)\n    *correct += ncorrect / %ld;\n", K * T);
  fprintf(out, "  loss = total / ((double)%s * %ld);\n", live_count(T), K);
}

/* The gradient of an elementwise loss on live columns, 0 on dead ones. */
static void elementwise_loss_grad(FILE *out, IR *ir, Op *op, const char *factor) {
  long K = rowlen(ir, op->out), B = opcols(ir, op), T = ir_steps(ir, op->out);
  const char *d = out_cn(ir, op), *y = in_cn(ir, op, 0);
  op_comment(out, ir, op);
  fprintf(out, "  const real scale = (real)%s / ((real)%s * %ld);\n", factor, live_count(T), K);
  fprintf(out, "  for (int k = 0; k < %ld; k++) {\n", K);
  if (T == 1) {
    fprintf(out, "    for (int c = 0; c < nb; c++)\n");
    fprintf(out, "      %s[k * %ld + c] %s (%s[k * %ld + c] - ", d, B, assign(op), y, B);
    target_at(out, ir, op->in[1], K, T);
    fprintf(out, ") * scale;\n");
    fprintf(out, "    for (int c = nb; c < %ld; c++)\n", B);
    fprintf(out, "      %s[k * %ld + c] %s 0;\n  }\n", d, B, assign(op));
    return;
  }
  fprintf(out, "    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[k * %ld + c] %s ", d, B, assign(op));
  live_cond(out, T, bsz(ir));
  fprintf(out, " ? (%s[k * %ld + c] - ", y, B);
  target_at(out, ir, op->in[1], K, T);
  fprintf(out, ") * scale : (real)0;\n  }\n");
}

void emit_bce_sigmoid_grad(FILE *out, IR *ir, Op *op) { elementwise_loss_grad(out, ir, op, "1"); }

/* loss = mean over live elements of (y - t)^2 (PyTorch's MSELoss).  With
 * the perceptron rule (0/1 targets, step output) it also counts correct
 * elements, (y > 1/2) == (t > 1/2), as a fraction per row: the loss is then
 * the error rate. */
void emit_mse(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), B = ir_cols(ir, op->in[0]), T = ir_steps(ir, op->in[0]);
  bool count = ir->m->opt == OPT_PERCEPTRON;
  op_comment(out, ir, op);
  fprintf(out, "  double total = 0%s;\n", count ? ", ncorrect = 0" : "");
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", K);
  live_cols(out, T, bsz(ir), "    ");
  if (count) {
    fprintf(out, "      const double yi = (double)%s[k * %ld + c], ti = (double)", in_cn(ir, op, 0), B);
    target_at(out, ir, op->in[1], K, T);
    fprintf(out, ";\n      const double di = yi - ti;\n      total += di * di;\n");
    fprintf(out, "      ncorrect += (yi > 0.5) == (ti > 0.5);\n    }\n");
    fprintf(out, "  if (correct)\n    *correct += ncorrect / %ld;\n", K * T);
  } else {
    fprintf(out, "      const double di = (double)%s[k * %ld + c] - (double)", in_cn(ir, op, 0), B);
    target_at(out, ir, op->in[1], K, T);
    fprintf(out, ";\n      total += di * di;\n    }\n");
    fprintf(out, "  (void)correct;\n");
  }
  fprintf(out, "  loss = total / ((double)%s * %ld);\n", live_count(T), K);
}

void emit_mse_grad(FILE *out, IR *ir, Op *op) { elementwise_loss_grad(out, ir, op, "2"); }

/* The perceptron rule's error y - t on live columns (0 on dead ones): not
 * divided by the batch, so the weight gradient is the sum over it. */
void emit_perceptron_grad(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->out), B = opcols(ir, op), T = ir_steps(ir, op->out);
  const char *d = out_cn(ir, op), *y = in_cn(ir, op, 0);
  op_comment(out, ir, op);
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", K);
  fprintf(out, "    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[k * %ld + c] %s ", d, B, assign(op));
  live_cond(out, T, bsz(ir));
  fprintf(out, " ? %s[k * %ld + c] - ", y, B);
  target_at(out, ir, op->in[1], K, T);
  fprintf(out, " : (real)0;\n");
}

/* loss += lambda * (sum over live columns and all features of |y|) / nb
 * (nb T for a sequence: the mean over samples and steps) */
void emit_activity_l1(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->in[0]), B = ir_cols(ir, op->in[0]), T = ir_steps(ir, op->in[0]);
  op_comment(out, ir, op);
  fprintf(out, "  {\n    double l1sum = 0;\n");
  fprintf(out, "    for (int k = 0; k < %ld; k++)\n", K);
  live_cols(out, T, bsz(ir), "      ");
  fprintf(out, "        l1sum += fabs((double)%s[(size_t)k * %ld + c]);\n      }\n",
          in_cn(ir, op, 0), B);
  fprintf(out, "    loss += %s * l1sum / (double)%s;\n  }\n", dbl(op->alpha), live_count(T));
}

/* dy = lambda sign(y) / nb on live columns, 0 on dead ones (sign(0) = 0) */
void emit_activity_l1_grad(FILE *out, IR *ir, Op *op) {
  long K = rowlen(ir, op->out), B = opcols(ir, op), T = ir_steps(ir, op->out);
  const char *d = out_cn(ir, op), *y = in_cn(ir, op, 0);
  op_comment(out, ir, op);
  fprintf(out, "  {\n    const real l1scale = (real)%s / (real)%s;\n", dbl(op->alpha),
          live_count(T));
  fprintf(out, "    for (int k = 0; k < %ld; k++)\n", K);
  fprintf(out, "      NN_OMP(omp simd)\n      for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "        const real yi = %s[(size_t)k * %ld + c];\n", y, B);
  fprintf(out, "        %s[(size_t)k * %ld + c] %s ", d, B, assign(op));
  live_cond(out, T, bsz(ir));
  fprintf(out, " ? (yi > 0 ? l1scale : yi < 0 ? -l1scale : (real)0) : (real)0;\n      }\n  }\n");
}

/* ------------------------------------------------------------ recurrence
 * A sequence (T, F) is stored [F][T][B]: step t of feature f is the B
 * columns at f T B + t B, so the step slice of a value is a [F][B] panel
 * with row stride T B.  The carried and initial states are [H][B]. */

/* The elementwise loop of one step: for k < H, c < B, with q0 the index
 * of (k, ts, c) in a (T, H) value, kb that of (k, c) in a state, gs the
 * distance between gate blocks of a (T, G H) value. */
static void step_loop_begin_prev(FILE *out, long H, long B, long T, const char *math,
                                 const char *prev, const char *seq, const char *first) {
  if (in_region)
    fprintf(out, "    NN_OMP(omp for schedule(static))\n");
  fprintf(out, "    for (int k = 0; k < %ld; k++) {\n", H);
  if (prev) /* step t-1 of seq, or the initial state at t = 0 (a row each) */
    fprintf(out, "      const real *%s = ts > 0 ? %s + (size_t)k * %ld + (size_t)(ts - 1) * %ld : %s + (size_t)k * %ld;\n",
            prev, seq, T * B, B, first, B);
  simd_for(out, math, "      ");
  fprintf(out, "      for (int c = 0; c < %ld; c++) {\n", B);
  fprintf(out, "        const size_t q0 = (size_t)k * %ld + (size_t)ts * %ld + c, kb = (size_t)k * %ld + c;\n",
          T * B, B, B);
  fprintf(out, "        const size_t gs = %ld;\n", H * T * B);
  fprintf(out, "        (void)kb;\n        (void)gs;\n");
}

static void step_loop_begin(FILE *out, long H, long B, long T, const char *math) {
  step_loop_begin_prev(out, H, B, T, math, NULL, NULL, NULL);
}

static void step_loop_end(FILE *out) { fprintf(out, "      }\n    }\n"); }

/* When a step's product w_hh h (G H x B x H) is large enough for two
 * threads, the whole time loop is one parallel region: each step's panel
 * and elementwise pass share their rows out with `omp for`, whose
 * barriers order the steps, instead of forking threads twice a step.
 * Returns whether it opened the region (the caller sets in_region). */
static bool step_region(FILE *out, long GH, long B, long H) {
  if (2.0 * (double)GH * (double)B * (double)H < 4e5)
    return false;
  fprintf(out, "  NN_OMP(omp parallel)\n");
  return true;
}

static void zero_loop(FILE *out, const char *v, long n, const char *ind) {
  fprintf(out, "%sfor (int i = 0; i < %ld; i++)\n%s  %s[i] = 0;\n", ind, n, ind, v);
}

/* h[t] = cell(gx[t] + w_hh h[t-1] + b_hh), PyTorch's equations:
 *   rnn   h = act(gx + w_hh h + b_hh)
 *   lstm  i, f, g, o = sig, sig, tanh, sig of (gx + w_hh h + b_hh) by block;
 *         c = f c + i g;  h = o tanh(c)
 *   gru   r, z = sig(gx_rz + w_hh_rz h + b_hh_rz);
 *         n = tanh(gx_n + r (w_hn h + b_hn));  h = (1 - z) n + z h
 * Per step, the product w_hh h (+ b_hh) is one panel into the step's
 * slice of the gates (rnn: of h itself); then one elementwise pass. */
void emit_scan(FILE *out, IR *ir, Op *op) {
  Layer *l = op->layer;
  ScanAux a = ir_scan_aux(op);
  long T = ir_steps(ir, op->out), B = bsz(ir), H = rowlen(ir, op->out);
  long GH = ir_gates(l->kind) * H;
  const char *gx = in_cn(ir, op, 0), *w = in_cn(ir, op, 1), *h = out_cn(ir, op);
  const char *bh = op->nin == 3 ? in_cn(ir, op, 2) : NULL;
  const char *sh = cn(ir, a.state_h), *g = a.gates >= 0 ? cn(ir, a.gates) : h;
  op_comment(out, ir, op);
  if (!l->stateful) {
    fprintf(out, "  // every window starts from zeros\n");
    zero_loop(out, sh, H * B, "  ");
    if (a.state_c >= 0)
      zero_loop(out, cn(ir, a.state_c), H * B, "  ");
  } else {
    fprintf(out, "  // the window starts from the state the last one ended in (reset() zeroes it)\n");
  }
  fprintf(out, "  for (int i = 0; i < %ld; i++) {\n    %s[i] = %s[i];\n", H * B, cn(ir, a.h0), sh);
  if (a.c0 >= 0)
    fprintf(out, "    %s[i] = %s[i];\n", cn(ir, a.c0), cn(ir, a.state_c));
  fprintf(out, "  }\n");
  in_region = step_region(out, GH, B, H);
  fprintf(out, "  for (int ts = 0; ts < %ld; ts++) {\n", T);
  char aexpr[160], init[96], oarg[160];
  snprintf(aexpr, sizeof aexpr, "%s[(size_t)(r0 + r) * %ld + j]", w, H);
  snprintf(init, sizeof init, "%s", "0");
  if (bh)
    snprintf(init, sizeof init, "%s[r0 + r]", bh);
  snprintf(oarg, sizeof oarg, "%s + (size_t)ts * %ld", g, B);
  fprintf(out, "    // %s[:, ts] = %s %s[ts-1]%s\n", a.gates >= 0 ? ir->vals[a.gates]->name : ir->vals[op->out]->name,
          ir->vals[op->in[1]]->name, ir->vals[op->out]->name, bh ? " + bias" : "");
  Panel p = {GH, B, H, aexpr, w, bh, sh, B, g, T * B, oarg, NULL, init, false, false,
             ACT_IDENTITY, 0};
  emit_panel_in_loop(out, &p);
  switch (l->kind) {
  case LAYER_RNN:
    step_loop_begin(out, H, B, T, act_fwd[l->act]);
    fprintf(out, "        const real xi = %s[q0] + %s[q0];\n", h, gx);
    fprintf(out, "        const real yi = %s;\n", act_fwd[l->act]);
    fprintf(out, "        %s[q0] = yi;\n        %s[kb] = yi;\n", h, sh);
    break;
  case LAYER_LSTM: {
    const char *cs = cn(ir, a.c), *sc = cn(ir, a.state_c);
    step_loop_begin(out, H, B, T, "nn_");
    fprintf(out, "        const real ig = nn_sigmoid(%s[q0] + %s[q0]);\n", g, gx);
    fprintf(out, "        const real fg = nn_sigmoid(%s[q0 + gs] + %s[q0 + gs]);\n", g, gx);
    fprintf(out, "        const real gg = nn_tanh(%s[q0 + 2 * gs] + %s[q0 + 2 * gs]);\n", g, gx);
    fprintf(out, "        const real og = nn_sigmoid(%s[q0 + 3 * gs] + %s[q0 + 3 * gs]);\n", g, gx);
    fprintf(out, "        const real cn = fg * %s[kb] + ig * gg;\n", sc);
    fprintf(out, "        const real hn = og * nn_tanh(cn);\n");
    fprintf(out, "        %s[q0] = ig;\n        %s[q0 + gs] = fg;\n", g, g);
    fprintf(out, "        %s[q0 + 2 * gs] = gg;\n        %s[q0 + 3 * gs] = og;\n", g, g);
    fprintf(out, "        %s[q0] = cn;\n        %s[kb] = cn;\n", cs, sc);
    fprintf(out, "        %s[q0] = hn;\n        %s[kb] = hn;\n", h, sh);
    break;
  }
  default: /* GRU */
    step_loop_begin(out, H, B, T, "nn_");
    fprintf(out, "        const real rg = nn_sigmoid(%s[q0] + %s[q0]);\n", g, gx);
    fprintf(out, "        const real zg = nn_sigmoid(%s[q0 + gs] + %s[q0 + gs]);\n", g, gx);
    fprintf(out, "        const real ghn = %s[q0 + 2 * gs];\n", g);
    fprintf(out, "        const real ng = nn_tanh(%s[q0 + 2 * gs] + rg * ghn);\n", gx);
    fprintf(out, "        const real hn = ((real)1 - zg) * ng + zg * %s[kb];\n", sh);
    fprintf(out, "        %s[q0] = rg;\n        %s[q0 + gs] = zg;\n", g, g);
    fprintf(out, "        %s[q0 + 2 * gs] = ng;\n        %s[q0 + 3 * gs] = ghn;\n", g, g);
    fprintf(out, "        %s[q0] = hn;\n        %s[kb] = hn;\n", h, sh);
    break;
  }
  step_loop_end(out);
  fprintf(out, "  }\n");
  in_region = false;
}

/* Backpropagation through time, t = T-1 .. 0, with dh_next = dL/dh[t]
 * through the recurrence (and dc_next = dL/dc[t] for an lstm):
 *   rnn   da = act'(h) (dh + dh_next);  dgx = da;  dh_next = w_hh^T da
 *   lstm  dc = dh o (1 - tanh^2 c) + dc_next;  di = dc g, df = dc c[t-1],
 *         dg = dc i, do = dh tanh c, each times its gate's derivative;
 *         dc_next = dc f;  dh_next = w_hh^T dgx
 *   gru   dn = dh (1 - z), dz = dh (h[t-1] - n), dan = dn (1 - n^2),
 *         dar = dan ghn r (1 - r), daz = dz z (1 - z): dgx = (dar, daz,
 *         dan), dgh = (dar, daz, dan r);  dh_next = dh z + w_hh^T dgh
 * with dh = the gradient from above.  The state the window started from
 * gets no gradient (truncated BPTT). */
void emit_scan_grad(FILE *out, IR *ir, Op *op) {
  Layer *l = op->layer;
  long T = ir_steps(ir, op->in[1]), B = bsz(ir), H = rowlen(ir, op->in[1]);
  long GH = ir_gates(l->kind) * H;
  const char *dh = in_cn(ir, op, 0), *h = in_cn(ir, op, 1), *w = in_cn(ir, op, 2);
  const char *h0 = in_cn(ir, op, 3), *dgx = out_cn(ir, op);
  const char *g = op->nin > 4 ? in_cn(ir, op, 4) : NULL;
  int ai = 0;
  const char *dgh = l->kind == LAYER_GRU ? cn(ir, op->aux[ai++]) : dgx;
  const char *dhn = cn(ir, op->aux[ai++]);
  const char *dcn = l->kind == LAYER_LSTM ? cn(ir, op->aux[ai++]) : NULL;
  op_comment(out, ir, op);
  zero_loop(out, dhn, H * B, "  ");
  if (dcn)
    zero_loop(out, dcn, H * B, "  ");
  in_region = step_region(out, GH, B, H);
  fprintf(out, "  for (int ts = %ld; ts >= 0; ts--) {\n", T - 1);
  switch (l->kind) {
  case LAYER_RNN:
    step_loop_begin(out, H, B, T, act_bwd[l->act]);
    fprintf(out, "        const real dyi = %s[q0] + %s[kb], yi = %s[q0];\n", dh, dhn, h);
    fprintf(out, "        %s[q0] = %s;\n", dgx, act_bwd[l->act]);
    break;
  case LAYER_LSTM: {
    const char *cs = in_cn(ir, op, 5), *c0 = in_cn(ir, op, 6);
    step_loop_begin_prev(out, H, B, T, "nn_", "cpr", cs, c0);
    fprintf(out, "        const real dhi = %s[q0] + %s[kb];\n", dh, dhn);
    fprintf(out, "        const real ig = %s[q0], fg = %s[q0 + gs];\n", g, g);
    fprintf(out, "        const real gg = %s[q0 + 2 * gs], og = %s[q0 + 3 * gs];\n", g, g);
    fprintf(out, "        const real cp = cpr[c];\n");
    fprintf(out, "        const real tc = nn_tanh(%s[q0]);\n", cs);
    fprintf(out, "        const real dc = dhi * og * ((real)1 - tc * tc) + %s[kb];\n", dcn);
    fprintf(out, "        %s[q0] = dc * gg * ig * ((real)1 - ig);\n", dgx);
    fprintf(out, "        %s[q0 + gs] = dc * cp * fg * ((real)1 - fg);\n", dgx);
    fprintf(out, "        %s[q0 + 2 * gs] = dc * ig * ((real)1 - gg * gg);\n", dgx);
    fprintf(out, "        %s[q0 + 3 * gs] = dhi * tc * og * ((real)1 - og);\n", dgx);
    fprintf(out, "        %s[kb] = dc * fg;\n", dcn);
    break;
  }
  default: /* GRU */
    step_loop_begin_prev(out, H, B, T, "", "hpr", h, h0);
    fprintf(out, "        const real dhi = %s[q0] + %s[kb];\n", dh, dhn);
    fprintf(out, "        const real rg = %s[q0], zg = %s[q0 + gs];\n", g, g);
    fprintf(out, "        const real ng = %s[q0 + 2 * gs], ghn = %s[q0 + 3 * gs];\n", g, g);
    fprintf(out, "        const real hp = hpr[c];\n");
    fprintf(out, "        const real dan = dhi * ((real)1 - zg) * ((real)1 - ng * ng);\n");
    fprintf(out, "        const real daz = dhi * (hp - ng) * zg * ((real)1 - zg);\n");
    fprintf(out, "        const real dar = dan * ghn * rg * ((real)1 - rg);\n");
    fprintf(out, "        %s[q0] = dar;\n        %s[q0 + gs] = daz;\n", dgx, dgx);
    fprintf(out, "        %s[q0 + 2 * gs] = dan;\n", dgx);
    fprintf(out, "        %s[q0] = dar;\n        %s[q0 + gs] = daz;\n", dgh, dgh);
    fprintf(out, "        %s[q0 + 2 * gs] = dan * rg;\n", dgh);
    fprintf(out, "        %s[kb] = dhi * zg;\n", dhn);
    break;
  }
  step_loop_end(out);
  fprintf(out, "    if (ts == 0)\n      break;\n");
  fprintf(out, "    // %s %s %s^T %s[:, ts]\n", ir->vals[op->aux[l->kind == LAYER_GRU]]->name,
          l->kind == LAYER_GRU ? "+=" : "=", ir->vals[op->in[2]]->name,
          l->kind == LAYER_GRU ? ir->vals[op->aux[0]]->name : ir->vals[op->out]->name);
  char aexpr[160], varg[160];
  snprintf(aexpr, sizeof aexpr, "%s[(size_t)j * %ld + r0 + r]", w, H);
  snprintf(varg, sizeof varg, "%s + (size_t)ts * %ld", dgh, B);
  Panel p = {H, B, GH, aexpr, w, NULL, dgh, T * B, dhn, B, NULL, varg, "0",
             l->kind == LAYER_GRU, false, ACT_IDENTITY, 0};
  emit_panel_in_loop(out, &p);
  fprintf(out, "  }\n");
  in_region = false;
}

/* hp[(t, b)][k] = h[t-1][k][b], h0 at t = 0: row-major, for dw_hh. */
void emit_shift_t(FILE *out, IR *ir, Op *op) {
  long T = ir_steps(ir, op->out), B = bsz(ir), H = rowlen(ir, op->out);
  const char *h = in_cn(ir, op, 0), *h0 = in_cn(ir, op, 1), *hp = out_cn(ir, op);
  op_comment(out, ir, op);
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", H);
  fprintf(out, "    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[(size_t)c * %ld + k] = %s[(size_t)k * %ld + c];\n", hp, H, h0, B);
  if (par_elems(H * T * B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int ts = 1; ts < %ld; ts++)\n", T);
  fprintf(out, "    for (int k = 0; k < %ld; k++)\n", H);
  fprintf(out, "      for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "        %s[((size_t)ts * %ld + c) * %ld + k] = %s[(size_t)k * %ld + (size_t)(ts - 1) * %ld + c];\n",
          hp, B, H, h, T * B, B);
}

/* y[k][b] = h[k][T-1][b] */
void emit_last(FILE *out, IR *ir, Op *op) {
  long T = ir_steps(ir, op->in[0]), B = bsz(ir), H = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", H);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", B);
  fprintf(out, "      %s[(size_t)k * %ld + c] %s %s[(size_t)k * %ld + %ld + c];\n", out_cn(ir, op),
          B, assign(op), in_cn(ir, op, 0), T * B, (T - 1) * B);
}

/* dh[k][t][b] = dy[k][b] at t = T-1, else 0 */
void emit_last_grad(FILE *out, IR *ir, Op *op) {
  long T = ir_steps(ir, op->out), B = bsz(ir), H = rowlen(ir, op->out);
  op_comment(out, ir, op);
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", H);
  fprintf(out, "    NN_OMP(omp simd)\n    for (int c = 0; c < %ld; c++)\n", T * B);
  fprintf(out, "      %s[(size_t)k * %ld + c] %s c >= %ld ? %s[(size_t)k * %ld + c - %ld] : (real)0;\n",
          out_cn(ir, op), T * B, assign(op), (T - 1) * B, in_cn(ir, op, 0), B, (T - 1) * B);
}

/* --------------------------------------------- dropout, gaussian_noise
 *
 * Both act in training only (c->training, set by the runtime around a
 * training step and by the gradient check) and are the identity
 * otherwise.  Their random numbers come from runtime/nnmath.h's
 * counter-based stream: element i of layer L in step s is a function of
 * (c->seed, s, FNV-1a 64 of L's name, i), where i is the element's index in
 * storage (feature-major: f * columns + column).  So the backward pass
 * recomputes dropout's mask instead of storing it, a step's forward pass
 * gives the same result however often it runs (the gradient check) and on
 * any number of threads, and every layer has a stream of its own.
 */

static uint64_t stream_of(const Layer *l) {
  uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 */
  for (const char *p = l->name; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return h;
}

/* The key of this step's stream for the op's layer, inside `if (c->training)`. */
static void stream_key(FILE *out, Op *op) {
  fprintf(out, "    const uint64_t nn_key = nn_rand_key(c->seed, c->step, 0x%016llxULL); "
          "// FNV-1a 64 of \"%s\"\n", (unsigned long long)stream_of(op->layer), op->layer->name);
}

/* for f < F (in parallel if large), for i = f*C + c: at the indent of an
 * if-branch, with `omp simd` when asked. */
static void branch_loop_begin(FILE *out, long F, long C, bool simd) {
  if (par_elems(F * C))
    fprintf(out, "    NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "    for (int f = 0; f < %ld; f++) {\n", F);
  if (simd)
    fprintf(out, "      NN_OMP(omp simd)\n");
  fprintf(out, "      for (size_t i = (size_t)f * %ld; i < (size_t)f * %ld + %ld; i++)\n", C, C,
          C);
}

/* Evaluation: out (=|+=) in, elementwise. */
static void identity_branch(FILE *out, IR *ir, Op *op, const char *what) {
  long F = rowlen(ir, op->out), C = opcols(ir, op);
  if (emit_inference)
    fprintf(out, "  { // inference: %s\n", what);
  else
    fprintf(out, "  } else { // evaluation: %s\n", what);
  branch_loop_begin(out, F, C, true);
  fprintf(out, "        %s[i] %s %s[i];\n    }\n  }\n", out_cn(ir, op), assign(op),
          in_cn(ir, op, 0));
}

/* dropout's threshold on the high 32 bits: drop iff bits < floor(rate 2^32) */
static uint32_t drop_threshold(double rate) { return (uint32_t)floor(rate * 4294967296.0); }

/* y = x m / (1 - rate), m = [bits(i) >> 32 >= T] (inverted dropout, as
 * torch.nn.Dropout); in evaluation y = x. */
static void dropout_body(FILE *out, IR *ir, Op *op, const char *x) {
  long F = rowlen(ir, op->out), C = opcols(ir, op);
  double rate = op->alpha;
  fprintf(out, "  if (c->training) {\n");
  stream_key(out, op);
  fprintf(out, "    const real scale = ");
  real_lit(out, 1.0 / (1.0 - rate));
  fprintf(out, "; // 1 / (1 - %s)\n", dbl(rate));
  fprintf(out, "    const uint32_t nn_thr = %uu; // floor(%s * 2^32): P(drop) = nn_thr / 2^32\n",
          (unsigned)drop_threshold(rate), dbl(rate));
  branch_loop_begin(out, F, C, true);
  fprintf(out, "        %s[i] %s nn_keep(nn_key, i, nn_thr) ? %s[i] * scale : (real)0;\n    }\n",
          out_cn(ir, op), assign(op), x);
}

void emit_dropout(FILE *out, IR *ir, Op *op) {
  op_comment(out, ir, op);
  if (!emit_inference)
    dropout_body(out, ir, op, in_cn(ir, op, 0));
  identity_branch(out, ir, op, "y = x");
}

/* dx = dy m / (1 - rate) with the forward's mask, recomputed (the stream
 * is keyed by the same seed, step, layer and element); dx = dy when not
 * training, as the forward pass was the identity then. */
void emit_dropout_grad(FILE *out, IR *ir, Op *op) {
  op_comment(out, ir, op);
  dropout_body(out, ir, op, in_cn(ir, op, 0));
  identity_branch(out, ir, op, "dx = dy");
}

/* y = x + std z, z ~ N(0, 1) by Box-Muller from the stream (nn_gauss, in
 * double; log and cos do not vectorize, so no `omp simd`); in evaluation
 * y = x. */
void emit_noise(FILE *out, IR *ir, Op *op) {
  long F = rowlen(ir, op->out), C = opcols(ir, op);
  op_comment(out, ir, op);
  if (!emit_inference) {
    fprintf(out, "  if (c->training) {\n");
    stream_key(out, op);
    fprintf(out, "    const real nn_std = ");
    real_lit(out, op->alpha);
    fprintf(out, ";\n");
    branch_loop_begin(out, F, C, false);
    fprintf(out, "        %s[i] %s %s[i] + nn_std * (real)nn_gauss(nn_key, i);\n    }\n",
            out_cn(ir, op), assign(op), in_cn(ir, op, 0));
  }
  identity_branch(out, ir, op, "y = x");
}

/* The head of a parameter's update block: w, g and the state buffers
 * in[2..] named by `names`, then the loop over its elements (`simd`: an
 * omp simd loop; sqrt, a libm call, keeps clang from vectorizing adam's
 * and rmsprop's, so they get none). */
static void update_head(FILE *out, IR *ir, Op *op, const char *const *names, bool simd) {
  Value *w = ir->vals[op->in[0]];
  char buf[64];
  size_t n = (size_t)ir_numel(ir, w->id);
  fprintf(out, "  { // %s %s\n", w->name, ir_shape_str(ir, w->id, buf, sizeof buf));
  fprintf(out, "    real *restrict w = P + %zu;\n", w->offset);
  fprintf(out, "    const real *restrict g = G + %zu;\n", ir->vals[op->in[1]]->offset);
  for (int i = 2; i < op->nin; i++)
    fprintf(out, "    real *restrict %s = S + %zu;\n", names[i - 2], ir->vals[op->in[i]]->offset);
  /* memory-bound, but two cores have twice the cache bandwidth */
  if (simd)
    fprintf(out, "    %s\n", n >= 32768 ? "NN_OMP(omp parallel for simd schedule(static))"
                                          : "NN_OMP(omp simd)");
  else if (n >= 32768)
    fprintf(out, "    NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "    for (size_t i = 0; i < %zu; i++) {\n", n);
}

/* `const real gi = ...`: the gradient element clamped (clip_value), scaled
 * (clip), plus the L2 decay wd w unless `decoupled`. */
static void update_grad(FILE *out, IR *ir, Op *op, bool decoupled) {
  Value *w = ir->vals[op->in[0]];
  double wd = decoupled ? 0 : param_decay(ir->m, w);
  fprintf(out, "      const real gi = %s%s", ir->m->clip_value > 0 ? "clamp_cv(g[i])" : "g[i]",
          ir->m->clip > 0 ? " * gs" : "");
  if (wd > 0) {
    fprintf(out, " + ");
    real_lit(out, wd);
    fprintf(out, " * w[i]");
  }
  fprintf(out, ";\n");
}

/* SGD as PyTorch's torch.optim.SGD: g' = g + wd w (weights only);
 * with momentum mu: v = mu v + g', w -= lr v; without: w -= lr g'.
 * With dampening d: v = g' at the first step, then mu v + (1 - d) g';
 * nesterov: w -= lr (g' + mu v). */
void emit_sgd(FILE *out, IR *ir, Op *op) {
  Model *m = ir->m;
  static const char *const names[] = {"v"};
  update_head(out, ir, op, names, true);
  update_grad(out, ir, op, false);
  if (op->nin == 3) {
    fprintf(out, "      v[i] = ");
    if (m->dampening > 0)
      fprintf(out, "first ? gi : ");
    real_lit(out, op->alpha);
    if (m->dampening > 0) {
      fprintf(out, " * v[i] + ");
      real_lit(out, 1 - m->dampening);
      fprintf(out, " * gi;\n");
    } else {
      fprintf(out, " * v[i] + gi;\n");
    }
    if (m->nesterov) {
      fprintf(out, "      w[i] -= lr * (gi + ");
      real_lit(out, op->alpha);
      fprintf(out, " * v[i]);\n");
    } else {
      fprintf(out, "      w[i] -= lr * v[i];\n");
    }
  } else {
    fprintf(out, "      w[i] -= lr * gi;\n");
  }
  fprintf(out, "    }\n  }\n");
}

/* torch.optim.Adam / AdamW (the default, non-amsgrad form): m as
 * exp_avg.lerp_(g, 1 - b1), v = b2 v + (1 - b2) g^2,
 * w -= step_size m / (sqrt(v) / bc2_sqrt + eps) with step_size = lr / (1 -
 * b1^t) and bc2_sqrt = sqrt(1 - b2^t) computed once in update(); adamw
 * first multiplies w by 1 - lr wd (decoupled decay, weights only). */
void emit_adam(FILE *out, IR *ir, Op *op) {
  Model *m = ir->m;
  static const char *const names[] = {"m", "v"};
  bool decoupled = m->opt == OPT_ADAMW;
  double wd = param_decay(m, ir->vals[op->in[0]]);
  update_head(out, ir, op, names, false);
  update_grad(out, ir, op, decoupled);
  if (decoupled && wd > 0) {
    fprintf(out, "      w[i] *= (real)1 - lr * ");
    real_lit(out, wd);
    fprintf(out, ";\n");
  }
  fprintf(out, "      m[i] += ");
  real_lit(out, 1 - m->beta1);
  fprintf(out, " * (gi - m[i]);\n      v[i] = ");
  real_lit(out, m->beta2);
  fprintf(out, " * v[i] + ");
  real_lit(out, 1 - m->beta2);
  fprintf(out, " * gi * gi;\n");
  fprintf(out, "      w[i] -= step_size * m[i] / (sqrt(v[i]) / bc2_sqrt + ");
  real_lit(out, m->eps);
  fprintf(out, ");\n    }\n  }\n");
}

/* torch.optim.RMSprop (centered = False): s = a s + (1 - a) g'^2,
 * u = g' / (sqrt(s) + eps); with momentum mu: b = mu b + u, w -= lr b;
 * else w -= lr u.  g' = g + wd w (weights only). */
void emit_rmsprop(FILE *out, IR *ir, Op *op) {
  Model *m = ir->m;
  static const char *const names[] = {"sq", "buf"};
  update_head(out, ir, op, names, false);
  update_grad(out, ir, op, false);
  fprintf(out, "      sq[i] = ");
  real_lit(out, m->alpha);
  fprintf(out, " * sq[i] + ");
  real_lit(out, 1 - m->alpha);
  fprintf(out, " * gi * gi;\n      const real ui = gi / (sqrt(sq[i]) + ");
  real_lit(out, m->eps);
  fprintf(out, ");\n");
  if (op->nin == 4) {
    fprintf(out, "      buf[i] = ");
    real_lit(out, op->alpha);
    fprintf(out, " * buf[i] + ui;\n      w[i] -= lr * buf[i];\n");
  } else {
    fprintf(out, "      w[i] -= lr * ui;\n");
  }
  fprintf(out, "    }\n  }\n");
}

/* ------------------------------------------------- batch normalization
 *
 * x is [F][B] with F = P C: P pixels (1 after a dense layer) of C channels,
 * feature f = p C + ch.  Statistics run over the n = nb P live values of
 * each channel (dead columns never enter them); the saved stats are
 * [2][C]: the mean, then 1 / sqrt(var + eps). */
typedef struct BnDims {
  long C, P, B;
} BnDims;

static BnDims bn_dims(IR *ir, int x) {
  long C = ir_bn_channels(ir, x);
  return (BnDims){C, ir_numel(ir, x) / C, bsz(ir)};
}

/* for ch < C: for p < P: the live columns c < nb of channel ch at pixel p,
 * as xp[c] (and dp[c] when dy is given), summed into acc by `expr` */
static void bn_channel_sum(FILE *out, BnDims d, const char *x, const char *dy, const char *acc,
                           const char *expr, const char *ind) {
  fprintf(out, "%sfor (int p = 0; p < %ld; p++) {\n", ind, d.P);
  fprintf(out, "%s  const real *xp = %s + ((size_t)p * %ld + ch) * %ld;\n", ind, x, d.C, d.B);
  if (dy)
    fprintf(out, "%s  const real *dp = %s + ((size_t)p * %ld + ch) * %ld;\n", ind, dy, d.C, d.B);
  fprintf(out, "%s  NN_OMP(omp simd reduction(+:%s))\n", ind, acc);
  fprintf(out, "%s  for (int c = 0; c < nb; c++)\n%s    %s += %s;\n%s}\n", ind, ind, acc, expr,
          ind);
}

void emit_batchnorm(FILE *out, IR *ir, Op *op) {
  Layer *l = op->layer;
  BnDims d = bn_dims(ir, op->in[0]);
  const char *x = in_cn(ir, op, 0), *ga = in_cn(ir, op, 1), *be = in_cn(ir, op, 2);
  const char *st = cn(ir, op->aux[0]), *rm = cn(ir, op->aux[1]), *rv = cn(ir, op->aux[2]);
  const char *nbt = cn(ir, op->aux[3]), *m = dbl(l->bn_momentum), *eps = dbl(l->bn_eps);
  op_comment(out, ir, op);
  if (emit_inference)
    fprintf(out, "  // %ld channels%s\n", d.C,
            d.P > 1 ? " of every pixel (BatchNorm2d)" : " (BatchNorm1d)");
  else
    fprintf(out, "  // %ld channels%s; n = nb * %ld values per channel\n", d.C,
            d.P > 1 ? " of every pixel (BatchNorm2d)" : " (BatchNorm1d)", d.P);
  if (emit_inference) {
    fprintf(out, "  { // inference: the running statistics\n");
  } else {
    fprintf(out, "  const int n = nb * %ld;\n", d.P);
    fprintf(out, "  if (training) {\n");
    fprintf(out, "    // the batch's mean and biased variance (two passes, in double); the running\n"
                 "    // statistics move towards them by momentum %s, the variance unbiased\n"
                 "    // (n / (n - 1)), as PyTorch's.  They do not enter the training-mode loss,\n"
                 "    // so a gradient check's repeated forward passes do not change it.  n = 1\n"
                 "    // has no variance (y = beta; PyTorch refuses): the running statistics and\n"
                 "    // num_batches_tracked are left as they are.\n", m);
    if (par_elems(d.C * d.P * d.B))
      fprintf(out, "    NN_OMP(omp parallel for schedule(static))\n");
    fprintf(out, "    for (int ch = 0; ch < %ld; ch++) {\n      double s = 0, ss = 0;\n", d.C);
    bn_channel_sum(out, d, x, NULL, "s", "(double)xp[c]", "      ");
    fprintf(out, "      const double mu = s / n;\n");
    bn_channel_sum(out, d, x, NULL, "ss", "((double)xp[c] - mu) * ((double)xp[c] - mu)", "      ");
    fprintf(out, "      const double var = ss / n;\n");
    fprintf(out, "      %s[ch] = (real)mu;\n      %s[%ld + ch] = (real)(1 / sqrt(var + %s));\n", st,
            st, d.C, eps);
    fprintf(out, "      if (n > 1) {\n");
    fprintf(out, "        %s[ch] = (real)((1 - %s) * (double)%s[ch] + %s * mu);\n", rm, m, rm, m);
    fprintf(out, "        %s[ch] = (real)((1 - %s) * (double)%s[ch] + %s * var * n / (n - 1));\n", rv,
            m, rv, m);
    fprintf(out, "      }\n    }\n    if (n > 1)\n      *%s += 1;\n", nbt);
    fprintf(out, "  } else {\n    // evaluation: the running statistics\n");
  }
  fprintf(out, "    for (int ch = 0; ch < %ld; ch++) {\n", d.C);
  fprintf(out, "      %s[ch] = %s[ch];\n", st, rm);
  fprintf(out, "      %s[%ld + ch] = (real)(1 / sqrt((double)%s[ch] + %s));\n    }\n  }\n", st, d.C,
          rv, eps);
  /* y = x a + (beta - mean a), a = gamma invstd: PyTorch's CPU form */
  Act act = op->fused ? op->act : ACT_IDENTITY;
  fprintf(out, "  // y = x a + (beta - mean a), a = gamma invstd%s%s, over all B columns\n",
          op->fused ? ", then " : "", op->fused ? act_name(act) : "");
  emit_alpha(out, act, op->alpha, "  ");
  if (par_elems(d.C * d.P * d.B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int f = 0; f < %ld; f++) {\n", d.C * d.P);
  fprintf(out, "    const int ch = f %% %ld;\n", d.C);
  fprintf(out, "    const real a = %s[ch] * %s[%ld + ch], sh = %s[ch] - %s[ch] * a;\n", ga, st, d.C,
          be, st);
  simd_for(out, act_fwd[act], "    ");
  fprintf(out, "    for (size_t i = (size_t)f * %ld; i < (size_t)f * %ld + %ld; i++) {\n", d.B, d.B,
          d.B);
  fprintf(out, "      const real xi = %s[i] * a + sh;\n", x);
  fprintf(out, "      %s[i] = %s;\n    }\n  }\n", out_cn(ir, op), act_fwd[act]);
}

/* dgamma[ch] = sum of dy xhat over the channel's live values */
void emit_bn_dgamma(FILE *out, IR *ir, Op *op) {
  BnDims d = bn_dims(ir, op->in[0]);
  const char *st = in_cn(ir, op, 2);
  op_comment(out, ir, op);
  fprintf(out, "  for (int ch = 0; ch < %ld; ch++) {\n", d.C);
  fprintf(out, "    const real mu = %s[ch], inv = %s[%ld + ch];\n    real acc = 0;\n", st, st, d.C);
  bn_channel_sum(out, d, in_cn(ir, op, 1), in_cn(ir, op, 0), "acc", "dp[c] * ((xp[c] - mu) * inv)",
                 "    ");
  fprintf(out, "    %s[ch] %s acc;\n  }\n", out_cn(ir, op), assign(op));
}

/* dbeta[ch] = sum of dy over the channel's live values */
void emit_bn_dbeta(FILE *out, IR *ir, Op *op) {
  BnDims d = bn_dims(ir, op->in[0]);
  op_comment(out, ir, op);
  fprintf(out, "  for (int ch = 0; ch < %ld; ch++) {\n    real acc = 0;\n", d.C);
  fprintf(out, "    for (int p = 0; p < %ld; p++) {\n", d.P);
  fprintf(out, "      const real *dp = %s + ((size_t)p * %ld + ch) * %ld;\n", in_cn(ir, op, 0), d.C,
          d.B);
  fprintf(out, "      NN_OMP(omp simd reduction(+:acc))\n");
  fprintf(out, "      for (int c = 0; c < nb; c++)\n        acc += dp[c];\n    }\n");
  fprintf(out, "    %s[ch] %s acc;\n  }\n", out_cn(ir, op), assign(op));
}

/* dx = gamma invstd (dy - (dbeta + xhat dgamma) / n) on live columns */
void emit_bn_dx(FILE *out, IR *ir, Op *op) {
  BnDims d = bn_dims(ir, op->in[1]);
  const char *dy = in_cn(ir, op, 0), *x = in_cn(ir, op, 1), *ga = in_cn(ir, op, 2);
  const char *st = in_cn(ir, op, 3), *dg = in_cn(ir, op, 4), *db = in_cn(ir, op, 5);
  op_comment(out, ir, op);
  fprintf(out, "  const real rn = (real)1 / (real)(nb * %ld);\n", d.P);
  if (par_elems(d.C * d.P * d.B))
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int f = 0; f < %ld; f++) {\n    const int ch = f %% %ld;\n", d.C * d.P, d.C);
  fprintf(out, "    const real mu = %s[ch], inv = %s[%ld + ch], a = %s[ch] * inv;\n", st, st, d.C,
          ga);
  fprintf(out, "    const real mg = %s[ch] * rn, mb = %s[ch] * rn;\n", dg, db);
  fprintf(out, "    NN_OMP(omp simd)\n");
  fprintf(out, "    for (int c = 0; c < %ld; c++) {\n", d.B);
  fprintf(out, "      const size_t i = (size_t)f * %ld + c;\n", d.B);
  fprintf(out, "      const real xh = (%s[i] - mu) * inv;\n", x);
  fprintf(out, "      %s[i] %s c < nb ? a * (%s[i] - mb - xh * mg) : (real)0;\n    }\n  }\n",
          out_cn(ir, op), assign(op), dy);
}

/* ------------------------------------------------------------- groups */

/* Ops that emit no code: views, and the transpose of the input, which
 * forward() fills from the batch rows. */
static bool no_code(IR *ir, const Op *op) {
  return op->kind == OP_VIEW || (op->kind == OP_TRANSPOSE && ir->vals[op->out]->from_batch);
}

static bool group_has_code(IR *ir, Group *g) {
  for (int i = g->first; i < g->last; i++)
    if (!no_code(ir, &ir->ops[i]))
      return true;
  return false;
}

static void add_arg(Group *g, IR *ir, int v, bool written) {
  Value *val = ir->vals[v];
  if (val->arena == A_NONE)
    return;
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
/* Ops whose loops depend on the live rows nb: the losses (every other
 * kernel runs over all B columns). */
static bool uses_nb(OpKind k) {
  return k == OP_CE_SOFTMAX || k == OP_BCE_SIGMOID || k == OP_MSE || k == OP_CE_SOFTMAX_GRAD ||
         k == OP_BCE_SIGMOID_GRAD || k == OP_MSE_GRAD || k == OP_PERCEPTRON_GRAD ||
         k == OP_BATCHNORM || k == OP_BN_DGAMMA || k == OP_BN_DBETA || k == OP_BN_DX ||
         k == OP_ACTIVITY_L1 || k == OP_ACTIVITY_L1_GRAD;
}

/* Ops that read the context: c->training, c->seed, c->step. */
static bool uses_ctx(OpKind k) { return k == OP_DROPOUT || k == OP_DROPOUT_GRAD || k == OP_NOISE; }

static void group_args(IR *ir, Group *g) {
  for (int i = g->first; i < g->last; i++) {
    /* in inference, batchnorm needs neither nb nor training, dropout and
     * noise not the context */
    bool bn = ir->ops[i].kind == OP_BATCHNORM;
    g->batched |= uses_nb(ir->ops[i].kind) && !(bn && emit_inference);
    g->ctx |= uses_ctx(ir->ops[i].kind) && !emit_inference;
    g->training |= bn && !emit_inference;
  }
  for (int i = g->first; i < g->last; i++) {
    if (ir->ops[i].out >= 0 && !no_code(ir, &ir->ops[i]))
      add_arg(g, ir, ir->ops[i].out, true);
    for (int k = 0; k < ir->ops[i].naux; k++)
      if (!(emit_inference && ir->ops[i].kind == OP_BATCHNORM && k == 3)) /* num_batches_tracked */
        add_arg(g, ir, ir->ops[i].aux[k], true);
  }
  for (int i = g->first; i < g->last; i++)
    if (!no_code(ir, &ir->ops[i]))
      for (int k = 0; k < ir->ops[i].nin; k++)
        add_arg(g, ir, ir->ops[i].in[k], false);
}

void emit_make_groups(Emit *E) {
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
  if (v->pkind == PK_INT64)
    return written ? "int64_t *restrict" : "const int64_t *restrict";
  if (v->dtype == DT_INT32)
    return "const int32_t *restrict";
  if (v->dtype == DT_FLOAT)
    return "const float *restrict";
  return written ? "real *restrict" : "const real *restrict";
}

void emit_group(Emit *E, Group *g) {
  IR *ir = E->ir;
  bool is_loss = g->pass == PASS_LOSS && !g->layer;
  char *hbuf = NULL, *bbuf = NULL;
  size_t hlen = 0, blen = 0;
  FILE *final_out = E->out, *out = open_memstream(&bbuf, &blen);
  helpers = open_memstream(&hbuf, &hlen);
  helper_base = g->fname;
  helper_count = 0;
  E->out = out;
  group_header(E, g);
  fprintf(out, "static %s %s(", is_loss ? "double" : "void", g->fname);
  for (int i = 0; i < g->nargs; i++) {
    Value *v = ir->vals[g->args[i]];
    fprintf(out, "%s%s %s", i ? ", " : "", arg_type(v, g->written[i]), v->cname);
  }
  if (g->batched)
    fprintf(out, "%sint nb", g->nargs ? ", " : "");
  if (g->ctx)
    fprintf(out, "%sconst nn_ctx *c", g->nargs || g->batched ? ", " : "");
  if (g->training)
    fprintf(out, ", int training");
  if (is_loss)
    fprintf(out, ", double *correct");
  if (!g->nargs && !g->batched && !g->ctx)
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
  fclose(out);
  fclose(helpers);
  helpers = NULL;
  E->out = final_out;
  fputs(hbuf, final_out);
  fputs(bbuf, final_out);
  free(hbuf);
  free(bbuf);
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
static void bind_values(Emit *E, Pass p1, Pass p2, const int *extra, int nextra) {
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
    for (int i = 0; i < (g ? g->nargs : nextra); i++) {
      Value *v = ir->vals[g ? g->args[i] : extra[i]];
      if (seen[v->id] || v->arena == A_EXTERN)
        continue;
      seen[v->id] = 1;
      used[v->arena] = true;
      if (v->pkind == PK_INT64) /* an int64_t in the first 8 bytes of its slot */
        fprintf(out, "  int64_t *%s = (int64_t *)(void *)(%s + %zu); // %s int64\n", v->cname,
                arena_base(v->arena), v->offset, ir_shape_str(ir, v->id, buf, sizeof buf));
      else
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
    if (g->ctx)
      fprintf(E->out, "%sc", g->nargs || g->batched ? ", " : "");
    if (g->training)
      fprintf(E->out, ", c->training");
    if (is_loss)
      fprintf(E->out, ", correct");
    fprintf(E->out, ");\n");
  }
}

/* The batch's rows xb[nb][K] into the feature-major input (and, for the
 * first layer's weight gradient, its row-major copy extra[1..]). */
static void emit_batch_input(Emit *E, const int *extra, int nextra) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Value *x = ir->vals[ir->input];
  long K = ir_numel(ir, x->id), B = ir->m->batch;
  fprintf(out, "  // the batch's rows xb[nb][%ld] become the columns of %s[%ld][B] (in\n", K,
          x->cname, K);
  fprintf(out, "  // 16 x 16 blocks); dead columns nb..B-1 are zeroed\n");
  if (K * B >= 32768)
    fprintf(out, "  NN_OMP(omp parallel for schedule(static))\n");
  fprintf(out, "  for (int k0 = 0; k0 < %ld; k0 += 16)\n", K);
  fprintf(out, "    for (int b0 = 0; b0 < nb; b0 += 16)\n");
  fprintf(out, "      for (int k = k0; k < k0 + 16 && k < %ld; k++)\n", K);
  fprintf(out, "        for (int b = b0; b < b0 + 16 && b < nb; b++)\n");
  fprintf(out, "          %s[(size_t)k * %ld + b] = (real)xb[(size_t)b * %ld + k];\n", x->cname,
          B, K);
  fprintf(out, "  for (int k = 0; k < %ld; k++)\n", K);
  fprintf(out, "    for (int b = nb; b < %ld; b++)\n", B);
  fprintf(out, "      %s[(size_t)k * %ld + b] = 0;\n", x->cname, B);
  for (int i = 1; i < nextra; i++) {
    const char *xt = ir->vals[extra[i]]->cname;
    fprintf(out, "  // and, row-major, %s[B][%ld] for the weight gradient\n", xt, K);
    fprintf(out, "  for (size_t i = 0; i < (size_t)nb * %ld; i++)\n", K);
    fprintf(out, "    %s[i] = (real)xb[i];\n", xt);
    fprintf(out, "  for (size_t i = (size_t)nb * %ld; i < %ld; i++)\n", K, K * B);
    fprintf(out, "    %s[i] = 0;\n", xt);
  }
}

/* A sequence input: row b of the batch holds T steps.  Real features
 * xb[b][t][f] go to x[f][t][b]; token ids xb[b][t] become one-hot columns,
 * x[v][t][b] = (id == v).  The row-major copy is [t][b][f].  Dead rows
 * (b >= nb) are zero. */
static void emit_seq_input(Emit *E, const int *extra, int nextra) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Value *x = ir->vals[ir->input];
  long T = x->steps, F = ir_feat(ir, x->id), B = ir->m->batch;
  bool tokens = ir->m->input_tokens, onehot = !x->dead;
  if (ir->ids >= 0) {
    const char *ids = ir->vals[ir->ids]->cname;
    fprintf(out, "  // the token ids xb[nb][%ld] become %s[%ld][B] (-1 in dead columns)\n", T, ids, T);
    fprintf(out, "  for (int ts = 0; ts < %ld; ts++)\n    for (int b = 0; b < %ld; b++) {\n", T, B);
    fprintf(out, "      const int id = b < nb ? (int)xb[(size_t)b * %ld + ts] : -1;\n", T);
    fprintf(out, "      %s[(size_t)ts * %ld + b] = id >= 0 && id < %ld ? (real)id : (real)-1;\n", ids, B, F);
    fprintf(out, "    }\n");
  }
  if (!onehot && nextra == 0)
    return;
  fprintf(out, "  // the batch's rows xb[nb][%ld] become the columns of %s[%ld][%ld][B]%s;\n",
          tokens ? T : T * F, x->cname, F, T, tokens ? ", one-hot" : "");
  fprintf(out, "  // dead columns stay zero\n");
  for (int i = 0; i < nextra; i++) {
    const char *v = ir->vals[extra[i]]->cname;
    fprintf(out, "  for (size_t i = 0; i < %ld; i++)\n    %s[i] = 0;\n", F * T * B, v);
  }
  fprintf(out, "  for (int b = 0; b < nb; b++)\n");
  fprintf(out, "    for (int ts = 0; ts < %ld; ts++) {\n", T);
  if (tokens) {
    fprintf(out, "      const int id = (int)xb[(size_t)b * %ld + ts];\n", T);
    fprintf(out, "      if (id < 0 || id >= %ld)\n        continue;\n", F);
    fprintf(out, "      %s[(size_t)id * %ld + (size_t)ts * %ld + b] = 1;\n", x->cname, T * B, B);
    for (int i = 1; i < nextra; i++)
      fprintf(out, "      %s[((size_t)ts * %ld + b) * %ld + id] = 1;\n", ir->vals[extra[i]]->cname,
              B, F);
  } else {
    fprintf(out, "      for (int f = 0; f < %ld; f++) {\n", F);
    fprintf(out, "        const real xi = (real)xb[(size_t)b * %ld + (size_t)ts * %ld + f];\n",
            T * F, F);
    fprintf(out, "        %s[(size_t)f * %ld + (size_t)ts * %ld + b] = xi;\n", x->cname, T * B, B);
    for (int i = 1; i < nextra; i++)
      fprintf(out, "        %s[((size_t)ts * %ld + b) * %ld + f] = xi;\n",
              ir->vals[extra[i]]->cname, B, F);
    fprintf(out, "      }\n");
  }
  fprintf(out, "    }\n");
}

void emit_forward(Emit *E, bool with_loss) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Value *x = ir->vals[ir->input];
  Pass last = with_loss ? PASS_LOSS : PASS_FWD;
  if (with_loss) {
    fprintf(out, "// The forward pass, and the mean loss of the batch when targets are given.\n");
    fprintf(out, "static double forward(nn_ctx *c, const float *xb, const int32_t *cls, "
            "const float *yb, int nb, double *correct) {\n");
    fprintf(out, "  (void)cls;\n  (void)yb;\n  (void)correct;\n");
  } else {
    fprintf(out, "// The forward pass of rows xb[nb] (nb <= B): the layers only, no loss.\n");
    fprintf(out, "static void forward(nn_ctx *c, const float *xb, int nb) {\n");
  }
  /* what forward() fills from the batch: the input (unless, for a token
   * model, only its ids are read) and, for the trainer, its row-major
   * copies (only weight gradients read them) */
  int extra[8], nextra = 0;
  if (!x->dead)
    extra[nextra++] = x->id;
  for (int i = 0; i < ir->nvals && nextra < 8 && with_loss; i++)
    if (ir->vals[i]->from_batch)
      extra[nextra++] = i;
  bind_values(E, PASS_FWD, last, extra, nextra);
  if (x->steps)
    emit_seq_input(E, extra, nextra);
  else
    emit_batch_input(E, extra, nextra);
  call_groups(E, PASS_FWD, last);
  fprintf(out, "}\n\n");
}

static void emit_backward(Emit *E) {
  FILE *out = E->out;
  fprintf(out, "// The backward pass: gradients of the mean loss, layers in reverse order.\n");
  fprintf(out, "static void backward(nn_ctx *c, const int32_t *cls, const float *yb, int nb) {\n");
  fprintf(out, "  (void)cls;\n  (void)yb;\n");
  bind_values(E, PASS_BWD, PASS_BWD, NULL, 0);
  call_groups(E, PASS_BWD, PASS_BWD);
  fprintf(out, "}\n\n");
}

/* The comment above update(): the optimizer's step (the plain SGD line
 * as it always was). */
static void update_comment(FILE *out, const Model *m) {
  switch (m->opt) {
  case OPT_SGD:
  case OPT_PERCEPTRON:
    if (m->opt == OPT_PERCEPTRON)
      fprintf(out, "// The perceptron rule as an SGD step on the error dz = y - t (perceptron_grad):\n"
              "//   w += lr (t - y) x summed over the batch, b += lr (t - y)\n");
    fprintf(out, "// One SGD step (momentum %s, weight decay %s on weights):\n", dbl(m->momentum),
            dbl(m->weight_decay));
    if (m->nesterov)
      fprintf(out, "//   g' = g + wd w;  v = momentum v + g';  w -= lr (g' + momentum v)  (nesterov)\n");
    else if (m->dampening > 0)
      fprintf(out, "//   g' = g + wd w;  v = momentum v + (1 - %s) g' (v = g' at the first step);  "
              "w -= lr v\n", dbl(m->dampening));
    else
      fprintf(out, "//   g' = g + wd w;  v = momentum v + g';  w -= lr v\n");
    break;
  case OPT_ADAM:
  case OPT_ADAMW:
    fprintf(out, "// One %s step (beta1 %s, beta2 %s, eps %s, %s weight decay %s on weights), "
            "t = c->step + 1:\n", opt_name(m->opt), dbl(m->beta1), dbl(m->beta2), dbl(m->eps),
            m->opt == OPT_ADAMW ? "decoupled" : "L2", dbl(m->weight_decay));
    if (m->opt == OPT_ADAMW)
      fprintf(out, "//   w *= 1 - lr wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2\n");
    else
      fprintf(out, "//   g' = g + wd w;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2\n");
    fprintf(out, "//   w -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps)\n");
    break;
  case OPT_RMSPROP:
    fprintf(out, "// One RMSprop step (alpha %s, eps %s, momentum %s, weight decay %s on weights):\n",
            dbl(m->alpha), dbl(m->eps), dbl(m->momentum), dbl(m->weight_decay));
    fprintf(out, "//   g' = g + wd w;  s = alpha s + (1 - alpha) g'^2;  u = g' / (sqrt(s) + eps)\n");
    fprintf(out, "//   %s\n", m->momentum > 0 ? "b = momentum b + u;  w -= lr b" : "w -= lr u");
    break;
  }
}

/* update()'s constants: adam's bias corrections, sgd's first-step flag
 * (dampening), the clip_value clamp. */
static void update_setup(FILE *out, const Model *m) {
  if (m->opt == OPT_ADAM || m->opt == OPT_ADAMW) {
    fprintf(out, "  const double t = (double)c->step + 1; // bias corrections of step t\n");
    fprintf(out, "  const real step_size = (real)(lr_ / (1 - pow(%s, t)));\n", dbl(m->beta1));
    fprintf(out, "  const real bc2_sqrt = (real)sqrt(1 - pow(%s, t));\n", dbl(m->beta2));
    if (m->opt == OPT_ADAM)
      fprintf(out, "  (void)lr; // in step_size\n");
  }
  if (m->opt == OPT_SGD && m->dampening > 0 && m->momentum > 0)
    fprintf(out, "  const int first = c->step == 0; // the momentum buffer starts as g'\n");
  if (m->clip_value > 0) {
    fprintf(out, "  // clip_value = %s: every gradient element clamped to [-%s, %s]\n",
            dbl(m->clip_value), dbl(m->clip_value), dbl(m->clip_value));
    fprintf(out, "#define clamp_cv(x) ((x) > (real)%s ? (real)%s : (x) < -(real)%s ? -(real)%s : (x))\n",
            dbl(m->clip_value), dbl(m->clip_value), dbl(m->clip_value), dbl(m->clip_value));
  }
}

static void emit_update(Emit *E) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Model *m = ir->m;
  update_comment(out, m);
  fprintf(out, "static void update(nn_ctx *c, double lr_) {\n");
  fprintf(out, "  real *P = c->params;\n  const real *G = c->grads;\n");
  if (ir->arena_size[A_STATE])
    fprintf(out, "  real *S = c->state;\n");
  fprintf(out, "  const real lr = (real)lr_;\n");
  update_setup(out, m);
  if (m->clip > 0) {
    /* torch.nn.utils.clip_grad_norm_: g *= min(1, clip / (|g| + 1e-6)),
     * before weight decay; the sum runs in a fixed order (padding between
     * the gradients is zero) */
    fprintf(out, "  // clip = %s: the gradients scaled to a global L2 norm of at most %s\n",
            dbl(m->clip), dbl(m->clip));
    fprintf(out, "  double ss = 0;\n  NN_OMP(omp simd reduction(+:ss))\n");
    if (m->clip_value > 0) /* the norm of the clamped gradients */
      fprintf(out, "  for (size_t i = 0; i < %zu; i++)\n    ss += (double)clamp_cv(G[i]) * "
              "(double)clamp_cv(G[i]);\n", ir->arena_size[A_GRAD]);
    else
      fprintf(out, "  for (size_t i = 0; i < %zu; i++)\n    ss += (double)G[i] * (double)G[i];\n",
              ir->arena_size[A_GRAD]);
    fprintf(out, "  const double norm = sqrt(ss), coef = %s / (norm + 1e-6);\n", dbl(m->clip));
    fprintf(out, "  const real gs = coef < 1 ? (real)coef : (real)1;\n");
  }
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].pass == PASS_UPD)
      op_info[ir->ops[i].kind].emit(out, ir, &ir->ops[i]);
  if (m->clip_value > 0)
    fprintf(out, "#undef clamp_cv\n");
  fprintf(out, "}\n\n");
}

void emit_output(Emit *E) {
  IR *ir = E->ir;
  Value *o = ir->vals[ir->output];
  long N = ir_numel(ir, o->id), B = ir->m->batch;
  if (o->steps) {
    long T = o->steps, F = ir_feat(ir, o->id);
    fprintf(E->out, "// The model's output rows after forward(): %s, every step, to [nb][%ld][%ld].\n",
            o->name, T, F);
    fprintf(E->out, "static void output(nn_ctx *c, int nb, float *dst) {\n");
    fprintf(E->out, "  const real *o = (const real *)c->acts + %zu;\n", o->offset);
    fprintf(E->out, "  for (int b = 0; b < nb; b++)\n    for (int ts = 0; ts < %ld; ts++)\n", T);
    fprintf(E->out, "      for (int f = 0; f < %ld; f++)\n", F);
    fprintf(E->out, "        dst[(size_t)b * %ld + (size_t)ts * %ld + f] = (float)o[(size_t)f * %ld + (size_t)ts * %ld + b];\n}\n\n",
            N, F, T * B, B);
    return;
  }
  fprintf(E->out, "// The model's output rows after forward(): %s, transposed to [nb][%ld].\n",
          o->name, N);
  fprintf(E->out, "static void output(nn_ctx *c, int nb, float *dst) {\n");
  fprintf(E->out, "  const real *o = (const real *)c->acts + %zu;\n", o->offset);
  fprintf(E->out, "  for (int b = 0; b < nb; b++)\n");
  fprintf(E->out, "    for (int n = 0; n < %ld; n++)\n", N);
  fprintf(E->out, "      dst[(size_t)b * %ld + n] = (float)o[(size_t)n * %ld + b];\n}\n\n", N, B);
}

/* The layers whose output layer_output() can copy: every layer with a
 * stored, feature-major output (a token input holds only its ids). */
static bool layer_listed(IR *ir, int i) {
  Value *v = ir->vals[ir->layer_out[i]];
  Value *b = v->alias >= 0 ? ir->vals[v->alias] : v;
  return !b->dead && !b->row_major && b->arena == A_ACT;
}

/* layer_output(c, k, nb, dst): after forward(), the rows of layer k of the
 * descriptor's layers[] (memplan keeps every layer's output alive to the
 * end of the loss), to [nb][steps][features] (steps 1 but for sequences). */
static void emit_layer_output(Emit *E) {
  IR *ir = E->ir;
  Model *m = ir->m;
  FILE *out = E->out;
  long B = m->batch;
  fprintf(out, "// Any layer's output rows after forward() (--predict --layer NAME): layer k\n"
               "// of layers[], to [nb][dim].\n");
  fprintf(out, "static void layer_output(nn_ctx *c, int k, int nb, float *dst) {\n");
  fprintf(out, "  const real *A = c->acts;\n  long F = 0, T = 1;\n  const real *o = A;\n");
  fprintf(out, "  switch (k) {\n");
  int k = 0;
  for (int i = 0; i < m->nlayers; i++) {
    if (!layer_listed(ir, i))
      continue;
    Value *v = ir->vals[ir->layer_out[i]];
    char buf[64];
    fprintf(out, "  case %d: // %s %s\n", k++, m->layers[i]->name,
            ir_shape_str(ir, v->id, buf, sizeof buf));
    fprintf(out, "    o = A + %zu;\n    F = %ld;\n    T = %d;\n    break;\n", v->offset,
            ir_feat(ir, v->id), ir_steps(ir, v->id));
  }
  fprintf(out, "  default:\n    return;\n  }\n");
  fprintf(out, "  for (int b = 0; b < nb; b++)\n    for (long ts = 0; ts < T; ts++)\n");
  fprintf(out, "      for (long f = 0; f < F; f++)\n");
  fprintf(out, "        dst[((size_t)b * T + ts) * F + f] = (float)o[((size_t)f * T + ts) * %ld + b];\n}\n\n", B);
  fprintf(out, "static const nn_layer_out layers[] = {\n");
  for (int i = 0; i < m->nlayers; i++)
    if (layer_listed(ir, i))
      fprintf(out, "  {\"%s\", %ld},\n", m->layers[i]->name, ir_numel(ir, ir->layer_out[i]));
  fprintf(out, "};\n\n");
}

/* reset(): zero the state recurrent layers carry from batch to batch. */
bool emit_has_state(IR *ir) {
  for (int i = 0; i < ir->nvals; i++)
    if (ir->vals[i]->persist)
      return true;
  return false;
}

void emit_reset(Emit *E) {
  IR *ir = E->ir;
  if (!emit_has_state(ir))
    return;
  fprintf(E->out, "// The hidden state carried from one batch to the next, zeroed (a new stream).\n");
  fprintf(E->out, "static void reset(nn_ctx *c) {\n  real *A = c->acts;\n");
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->persist)
      fprintf(E->out, "  for (size_t i = 0; i < %ld; i++) // %s\n    A[%zu + i] = 0;\n",
              ir_numel(ir, v->id) * ir->m->batch, v->name, v->offset);
  }
  fprintf(E->out, "}\n\n");
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
      if (v->pkind == PK_INT64) /* the 8 bytes of an int64_t */
        fprintf(out, "  nn_init_zeros(P + %zu, sizeof(real), 8 / sizeof(real));\n", v->offset);
      else
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
  static const char *const kinds[] = {"NN_SRC_NONE", "NN_SRC_CSV", "NN_SRC_IDX", "NN_SRC_TEXT",
                                      "NN_SRC_SERIES", "NN_SRC_NPY"};
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
    if (!v->shape.ndim)
      fprintf(out, "0");
    fprintf(out, "}, %zu, %ld", v->offset, ir_numel(ir, v->id));
    static const char *const kinds[] = {[PK_LEARN] = "NN_PARAM_LEARN",
                                        [PK_BUFFER] = "NN_PARAM_BUFFER",
                                        [PK_INT64] = "NN_PARAM_INT64"};
    fprintf(out, ", %s},\n", kinds[v->pkind]);
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
  fprintf(out, "},\n  .in_dim = %ld,\n", m->input_tokens ? (long)x->steps : ir_numel(ir, x->id));
  Layer *ol = m->loss_out;
  fprintf(out, "  .steps = %d,\n  .vocab = %d,\n  .ncls = %d,\n  .stateful = %d,\n"
          "  .out_logits = %d,\n", x->steps, m->input_tokens ? m->vocab : 0,
          m->label_steps ? m->label_steps : 1, emit_has_state(ir),
          ol->act != ACT_SOFTMAX && ol->act != ACT_SIGMOID);
  fprintf(out, "  .out_dim = %ld,\n", ir_numel(ir, ir->output));
  fprintf(out, "  .target = %s,\n  .nclasses = %d,\n", targets[target], m->nclasses);
  fprintf(out, "  .ydim = %ld,\n", target == 2 ? shape_numel(&m->label_shape) : 0);
  fprintf(out, "  .has_accuracy = %d,\n", m->loss != LOSS_MSE || m->opt == OPT_PERCEPTRON);
  fprintf(out, "  .loss_name = \"%s\",\n", loss_name(m->loss));
  emit_source(out, "train", &m->train_src);
  emit_source(out, "test", &m->test_src);
  fprintf(out, "  .scale = %s,\n", dbl(m->scale));
  fprintf(out, "  .optimizer = \"%s\",\n  .epochs = %d,\n  .lr = %s,\n", opt_name(m->opt), m->epochs,
          dbl(m->lr));
  fprintf(out, "  .momentum = %s,\n  .weight_decay = %s,\n", dbl(m->momentum), dbl(m->weight_decay));
  fprintf(out, "  .shuffle = %d,\n  .seed = %lluull,\n", m->shuffle, (unsigned long long)m->seed);
  fprintf(out, "  .nparams = %d,\n  .params = params,\n", ir->nparams);
  fprintf(out, "  .params_size = %zu,\n  .state_size = %zu,\n  .acts_size = %zu,\n",
          ir->arena_size[A_PARAM], ir->arena_size[A_STATE], ir->arena_size[A_ACT]);
  fprintf(out, "  .init = init,\n  .forward = forward,\n  .backward = backward,\n");
  fprintf(out, "  .update = update,\n  .output = output,\n  .set_threads = set_threads,\n");
  fprintf(out, "  .reset = %s,\n", emit_has_state(ir) ? "reset" : "NULL");
  fprintf(out, "  .nlayers = sizeof layers / sizeof layers[0],\n  .layers = layers,\n"
               "  .layer_output = layer_output,\n");
  if (m->valid_src.kind != SRC_NONE)
    emit_source(out, "valid", &m->valid_src);
  if (m->val_frac > 0)
    fprintf(out, "  .val_frac = %s,\n", dbl(m->val_frac));
  if (m->es != ES_NONE)
    fprintf(out, "  .early_stop = %s,\n  .patience = %d,\n  .min_delta = %s,\n",
            m->es == ES_LOSS ? "NN_STOP_LOSS" : "NN_STOP_ACCURACY", m->es_patience,
            dbl(m->es_min_delta));
  if (m->sched != SCHED_NONE || m->warmup > 0) {
    static const char *const kinds[] = {"NN_SCHED_NONE", "NN_SCHED_STEP", "NN_SCHED_EXPONENTIAL",
                                        "NN_SCHED_COSINE"};
    fprintf(out, "  .schedule = {%s, %d, %s, %d, %s, %d},\n", kinds[m->sched], m->sched_every,
            dbl(m->sched_gamma), m->sched_epochs, dbl(m->sched_min_lr), m->warmup);
  }
  fprintf(out, "};\n\n");
  fprintf(out, "#ifndef NN_NO_MAIN\nint main(int argc, char **argv) {\n"
          "  return nn_main(argc, argv, &nn_model_desc);\n}\n#endif\n");
}

/* Multiply-adds x 2 per sample of the products (linear, conv2d and their
 * gradients): the figure `make bench` turns into GFLOP/s. */
static double op_flops(IR *ir, const Op *op) {
  const Geo *g = &op->geo;
  double conv = 2.0 * g->oh * g->ow * g->oc * g->ic * g->kh * g->kw;
  double T = ir_steps(ir, op->in[0]);
  switch (op->kind) {
  case OP_LINEAR:
  case OP_MATMUL_NN: return 2.0 * T * (double)ir_feat(ir, op->in[0]) * (double)ir_feat(ir, op->out);
  case OP_MATMUL_TN: return 2.0 * T * (double)ir_numel(ir, op->out);
  case OP_SCAN: return 2.0 * T * (double)ir_numel(ir, op->in[1]);
  case OP_SCAN_GRAD: return 2.0 * (T - 1) * (double)ir_numel(ir, op->in[2]);
  case OP_CONV2D:
  case OP_CONV2D_DX:
  case OP_CONV2D_DW: return conv;
  default: return 0;
  }
}

/* The real type, OpenMP and vectorisation macros, and B: what every
 * function of a generated file relies on, trainer or library. */
void emit_macros(Emit *E) {
  FILE *out = E->out;
  fprintf(out, "#ifndef NN_REAL\n#define NN_REAL float\n#endif\ntypedef NN_REAL real;\n\n");
  fprintf(out, "#ifdef _OPENMP\n#include <omp.h>\n#define NN_OMP(x) _Pragma(#x)\n#else\n"
          "#define NN_OMP(x)\n#endif\n");
  fprintf(out, "// Loops calling nn_exp vectorize in float; in double they call libm, and an\n"
          "// `omp simd` on them would only draw a \"not vectorized\" warning.\n");
  fprintf(out, "#define NN_CAT2(a, b) a##b\n#define NN_CAT(a, b) NN_CAT2(a, b)\n"
          "#define NN_IS_DOUBLE_double 1\n");
  fprintf(out, "#if NN_CAT(NN_IS_DOUBLE_, NN_REAL)\n#define NN_SIMD_MATH\n#else\n"
          "#define NN_SIMD_MATH NN_OMP(omp simd)\n#endif\n");
  fprintf(out, "// clang may vectorize a tile's row loop instead of its column loop\n");
  fprintf(out, "#ifdef __clang__\n"
          "#define NN_NOVEC _Pragma(\"clang loop vectorize(disable) interleave(disable)\")\n"
          "#else\n#define NN_NOVEC\n#endif\n\n");
  fprintf(out, "enum { B = %d };\n\n", E->ir->m->batch);
}

static void emit_front(Emit *E, const char *cmdline) {
  FILE *out = E->out;
  IR *ir = E->ir;
  Model *m = ir->m;
  long nparams = 0;
  for (int i = 0; i < ir->nparams; i++) /* learnable: not batchnorm's buffers */
    nparams += ir->vals[ir->params[i]]->pkind == PK_LEARN ? ir_numel(ir, ir->params[i]) : 0;
  fprintf(out, "// Trainer for model '%s', generated by nncc %s from %s. Do not edit.\n", m->name,
          NNCC_VERSION, m->file);
  fprintf(out, "//   command: %s\n", cmdline);
  fprintf(out, "//   %ld parameters; batches of up to B = %d rows; loss %s\n", nparams, m->batch,
          loss_name(m->loss));
  fprintf(out, "//   build:   cc -O3 -march=native -fopenmp THIS.c -lnnrt -lcjson -lz -lm -o train\n");
  fprintf(out, "//   -DNN_REAL=double builds it in double precision (for gradient checks).\n");
  double fwd = 0, train = 0;
  for (int i = 0; i < ir->nops; i++) {
    double f = op_flops(ir, &ir->ops[i]);
    train += f;
    fwd += ir->ops[i].pass == PASS_FWD ? f : 0;
  }
  fprintf(out, "// FLOPs per sample in products: training %.0f, inference %.0f.\n", train, fwd);
  fprintf(out, "// Arenas (elements): params %zu, grads %zu, state %zu, acts %zu.\n",
          ir->arena_size[A_PARAM], ir->arena_size[A_GRAD], ir->arena_size[A_STATE],
          ir->arena_size[A_ACT]);
  fprintf(out, "// Shapes are written (B,N): B batch rows, of which nb are live.  Activations\n");
  fprintf(out, "// are stored feature-major, [N][B]: a row of the batch is a column.\n\n");
  fprintf(out, "#include <stddef.h>\n#include <stdint.h>\n#include <tgmath.h>\n\n");
  fprintf(out, "#include \"nnmath.h\"\n#include \"nnrt.h\"\n\n");
  emit_macros(E);
}

void emit_c(FILE *out, IR *ir, const char *cmdline) {
  Emit E = {out, ir, NULL, 0, 0};
  emit_make_groups(&E);
  emit_front(&E, cmdline);
  for (int i = 0; i < E.ngroups; i++)
    if (E.groups[i].fname)
      emit_group(&E, &E.groups[i]);
  emit_update(&E);
  emit_forward(&E, true);
  emit_backward(&E);
  emit_output(&E);
  emit_reset(&E);
  emit_layer_output(&E);
  emit_init(&E);
  emit_descriptor(&E);
  emit_free_groups(&E);
}

void emit_free_groups(Emit *E) {
  for (int i = 0; i < E->ngroups; i++) {
    free(E->groups[i].fname);
    free(E->groups[i].args);
    free(E->groups[i].written);
  }
  free(E->groups);
  E->groups = NULL;
  E->ngroups = E->gcap = 0;
}
