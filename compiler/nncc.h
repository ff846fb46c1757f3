/* nncc.h — types shared by the passes of nncc, sectioned by the file that
 * defines them.  The pipeline (see main.c):
 *
 *   source --lexer.l/parser.y--> AST --sema.c--> Model --shape.c--> shapes
 *          --lower.c--> IR (forward) --autodiff.c--> IR (+backward, update)
 *          --memplan.c--> arena offsets --emit_c.c--> C trainer
 */
#ifndef NNCC_H
#define NNCC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NNCC_VERSION "0.1.0"

/* ---------------------------------------------------------------- util.c */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);
/* Append one element to a growable array: VEC_PUSH(arr, n, cap, x). */
#define VEC_PUSH(arr, n, cap, x)                                              \
  do {                                                                        \
    if ((n) == (cap)) {                                                       \
      (cap) = (cap) ? 2 * (cap) : 8;                                          \
      (arr) = xrealloc((arr), (size_t)(cap) * sizeof *(arr));                 \
    }                                                                         \
    (arr)[(n)++] = (x);                                                       \
  } while (0)
/* Levenshtein distance with adjacent transpositions counting one edit
 * (rleu -> relu is 1), for "did you mean" hints. */
int edit_distance(const char *a, const char *b);
/* The candidate closest to `word` (distance <= max(1, len/3)), or NULL. */
const char *closest_word(const char *word, const char *const *cands, int n);

/* ---------------------------------------------------------------- diag.c */
/* A source location: 1-based line and column of the first character, and
 * the length in characters of the token or construct (>= 1) for the caret
 * underline.  Columns count bytes; a tab counts as one column. */
typedef struct Loc {
  int line, col, len;
} Loc;

/* Install the file name and its full text, so diagnostics can quote the
 * offending line.  Resets the error count. */
void diag_init(const char *file, const char *src);
/* `file:line:col: error: msg`, then the source line and a caret line:
 *
 *   models/x.nn:3:42: error: unknown activation 'rleu', did you mean 'relu'?
 *       3 | layer h1 = dense(flat, 256, activation = rleu)
 *         |                                          ^~~~
 *
 * After DIAG_MAX_ERRORS errors one "too many errors" line is printed and
 * further errors are counted but not shown.  Output goes to diag_out
 * (stderr by default; tests point it at a memstream). */
#define DIAG_MAX_ERRORS 20
extern FILE *diag_out;
void error_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void note_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error with no location: `file: error: msg`. */
void error_file(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int diag_errors(void);
const char *diag_file(void);
/* Internal compiler error: message to stderr, exit 3.  Never for user input. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ----------------------------------------------------------------- ast.c */
typedef enum {
  EX_NUM,   /* num (is_int when written without '.', 'e') */
  EX_STR,   /* str (escapes resolved) */
  EX_IDENT, /* str = the name */
  EX_CALL,  /* str = callee; args */
  EX_LIST,  /* [a, b, ...]: args, all positional */
  EX_NEG,   /* -lhs */
  EX_BIN,   /* lhs op rhs, op one of + - * / */
} ExprKind;

typedef struct Expr Expr;
/* One argument of a call, or one `key = value` entry of a block. */
typedef struct Arg {
  char *key; /* NULL for a positional argument */
  Loc key_loc;
  Expr *val;
} Arg;

struct Expr {
  ExprKind kind;
  Loc loc; /* whole expression */
  double num;
  bool is_int;
  char *str;
  char op;
  Expr *lhs, *rhs;
  Arg *args;
  int nargs;
};

typedef enum {
  ST_MODEL, /* model NAME */
  ST_INPUT, /* input NAME[d1, ...] */
  ST_LABEL, /* label NAME : TYPE[d1, ...] */
  ST_LAYER, /* layer NAME = call */
  ST_LOSS,  /* loss call */
  ST_DATA,  /* data { key = expr ... } */
  ST_TRAIN, /* train { key = expr ... } */
} StmtKind;

typedef struct Stmt {
  StmtKind kind;
  Loc loc;      /* the keyword */
  char *name;   /* model/input/label/layer name, else NULL */
  Loc name_loc;
  char *type;   /* label: "int", "real", ... as written */
  Loc type_loc;
  int *dims;    /* input/label */
  Loc *dim_locs;
  int ndims;
  Loc dims_loc; /* from '[' to ']' */
  Expr *call;   /* layer, loss: an EX_CALL */
  Arg *entries; /* data, train blocks */
  int nentries;
} Stmt;

typedef struct Program {
  const char *file;
  Stmt **stmts;
  int nstmts, cap;
} Program;

Expr *ast_new_num(Loc loc, double v, bool is_int);
Expr *ast_new_str(Loc loc, char *s);
Expr *ast_new_ident(Loc loc, char *name);
Expr *ast_new_call(Loc loc, char *callee, Arg *args, int nargs);
Expr *ast_new_list(Loc loc, Arg *items, int nitems);
Expr *ast_new_neg(Loc loc, Expr *e);
Expr *ast_new_bin(Loc loc, char op, Expr *l, Expr *r);
Stmt *ast_new_stmt(StmtKind kind, Loc loc);
void ast_program_add(Program *p, Stmt *s);
/* Print the AST in the form --emit=ast shows (one stmt a line, s-exprs). */
void ast_print(FILE *out, const Program *p);
void ast_free(Program *p);
const char *ast_stmt_keyword(StmtKind k);
/* Added by the front end: freeing and printing of parts of the AST. */
void ast_expr_free(Expr *e);
void ast_args_free(Arg *args, int n); /* each key and value, then the array */
void ast_stmt_free(Stmt *s);
void ast_print_expr(FILE *out, const Expr *e);
void ast_print_stmt(FILE *out, const Stmt *s);
/* The shortest %g form of v that reads back as v (0.05, not 0.050000...3). */
void ast_print_num(FILE *out, double v);

/* ----------------------------------------------------- grammar/parser.y */
/* Parse `src` (the text of `file`) into a Program.  Syntax errors are
 * reported through diag.c; the parser recovers at statement keywords and
 * goes on, so several syntax errors can be reported in one run.  Returns
 * the (possibly partial) program; check diag_errors(). */
Program *parse_program(const char *file, const char *src);


/* ---------------------------------------------------------------- sema.c
 * The checked model: names resolved, keys validated, defaults filled in.
 * Layers are in a topological order (inputs before users); layers[0] is
 * the model's input. */
typedef enum {
#define ACT(id, name, fwd, bwd, uses) ACT_##id,
#include "acts.h"
#undef ACT
  ACT_SOFTMAX, /* row-wise; not elementwise, handled by its own ops */
  ACT_COUNT
} Act;
const char *act_name(Act a);

typedef enum { INIT_ZEROS, INIT_CONST, INIT_UNIFORM, INIT_NORMAL } InitKind;
/* A resolved initializer: uniform(a, b), normal(mean a, std b), const a. */
typedef struct Init {
  InitKind kind;
  double a, b;
  const char *how; /* as written or defaulted: "he", "xavier", "uniform", ... */
} Init;

typedef enum {
  LAYER_INPUT, LAYER_DENSE, LAYER_FLATTEN, LAYER_CONV, LAYER_MAXPOOL, LAYER_AVGPOOL,
  LAYER_RNN, LAYER_LSTM, LAYER_GRU, /* recurrent: a sequence in, a sequence or its last step out */
  LAYER_DROPOUT, LAYER_NOISE, /* dropout, gaussian_noise: elementwise, training only */
  LAYER_BATCHNORM, /* batch normalization of (N) per feature or (H, W, C) per channel */
  LAYER_ADD, LAYER_CONCAT /* merges of 2..MAX_OP_IN layers: elementwise sum, feature concatenation */
} LayerKind;
/* rnn, lstm, gru */
static inline bool layer_is_recurrent(LayerKind k) {
  return k == LAYER_RNN || k == LAYER_LSTM || k == LAYER_GRU;
}
const char *layer_kind_name(LayerKind k);

/* One sample's shape; the batch dimension is implicit. */
#define MAX_RANK 4
typedef struct Shape {
  int ndim;
  int dims[MAX_RANK];
} Shape;
long shape_numel(const Shape *s);
/* "28x28x1" into buf. */
char *shape_str(const Shape *s, char *buf, size_t n);

/* The geometry of a convolution or pooling window over one sample stored
 * (H, W, C), channels last: input ih x iw x ic, output oh x ow x oc, window
 * kh x kw, stride sh x sw, padding pt (top) / pl (left); the bottom/right
 * padding is whatever makes oh/ow come out. */
typedef struct Geo {
  int ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, pt, pl;
} Geo;

typedef struct Layer Layer;
struct Layer {
  LayerKind kind;
  char *name;
  Loc name_loc;
  Stmt *stmt;  /* the defining statement (NULL never: input has one too) */
  int line;    /* source line of the statement, for comments */
  Layer **inputs;
  Loc *input_locs;
  int ninputs;
  /* conv2d, maxpool, avgpool: window, stride, padding (pad_same: padding =
   * same, resolved by shape.c into pt/pl/pb/pr) */
  int kh, kw, sh, sw;
  bool pad_same;
  int ph, pw;
  Loc kernel_loc, stride_loc, padding_loc;
  Geo geo; /* filled by shape.c */
  /* dense (units), conv2d (filters) */
  int units;
  int in_features; /* 0 unless given: checked against the input */
  Loc in_features_loc;
  Act act;
  double alpha; /* leaky_relu slope */
  bool bias;
  bool init_given;
  Init init, bias_init; /* as written; shape.c resolves xavier/he */
  Loc init_loc;
  /* rnn, lstm, gru: units is the hidden size H; act the rnn's nonlinearity
   * (tanh or relu; lstm and gru have their fixed gates).  ret_seq: return =
   * sequence (every step's hidden state, (T, H)) or last (the last step's,
   * (H)).  stateful: the hidden state at the end of a batch is the initial
   * state of the next (truncated BPTT over a stream); otherwise every batch
   * starts from zeros.  Default: stateful when the training data is a text
   * stream, stateless otherwise. */
  bool ret_seq;
  bool stateful;
  Loc ret_loc, stateful_loc;
  /* weight_decay = X on the layer (dense, conv2d, rnn, lstm, gru): the L2
   * (or, with adamw, decoupled) decay of its weights instead of the train
   * block's; wd_given false: the train block's applies */
  bool wd_given;
  double weight_decay;
  /* filled by shape.c */
  Shape shape;
  /* Time steps of the output, 0 when it is not a sequence.  A sequence's
   * shape is (T, F): T steps of F features.  Sequences are the token input,
   * a real rank-2 input read by recurrent layers, recurrent layers with
   * return = sequence, and dense layers over a sequence (applied at every
   * step). */
  int steps;
  long nparams;
  int order; /* index in Model.layers */
  int state; /* topological sort marks */
  /* dropout: the drop probability (0 <= rate < 1); gaussian_noise: the
   * standard deviation of the noise (> 0) */
  double rate, noise_std;
  /* batchnorm: the running statistics' momentum and the variance's eps */
  double bn_momentum, bn_eps;
  Loc bn_momentum_loc, bn_eps_loc;
  /* activity_l1 = X on dense and conv2d: X * mean over the batch of the sum
   * of |y| over the layer's outputs is added to the loss (0: none) */
  double activity_l1;
  Loc activity_l1_loc;
};

typedef enum { LOSS_MSE, LOSS_BCE, LOSS_CE } LossKind;
const char *loss_name(LossKind k);

/* text("f.txt"): bytes as tokens, cut into windows of T (+1 for the
 * shifted target), B streams for truncated BPTT; series("f.csv", header =
 * false): one time step a row, a window of T rows and the row after it as
 * the target; npy("x.npy", "y.npy"): NumPy arrays of features and targets. */
typedef enum { SRC_NONE, SRC_CSV, SRC_IDX, SRC_TEXT, SRC_SERIES, SRC_NPY } SrcKind;
typedef struct DataSrc {
  SrcKind kind;
  char *path, *path2;
  int label_col; /* -1: last column(s) */
  bool header;
  Loc loc;
} DataSrc;

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMW, OPT_RMSPROP, OPT_PERCEPTRON } OptKind;
const char *opt_name(OptKind k);
/* Learning-rate schedules over epochs (torch.optim.lr_scheduler StepLR,
 * ExponentialLR, CosineAnnealingLR); the runtime computes the rate. */
typedef enum { SCHED_NONE, SCHED_STEP, SCHED_EXPONENTIAL, SCHED_COSINE } SchedKind;
typedef enum { ES_NONE, ES_LOSS, ES_ACCURACY } EarlyStop;

typedef struct Model {
  char *name;
  const char *file;
  const char *src; /* the source text, for comments in the generated C */
  Layer **layers;
  int nlayers, cap;
  Layer *input;
  /* label (optional) */
  bool has_label;
  char *label_name;
  Loc label_loc;
  bool label_is_class;
  int nclasses;      /* int[K] or int[T, K]: K */
  int label_steps;   /* int[T, K]: T class indices per sample; 0 for int[K] */
  /* input NAME : int[T, V]: T token ids per sample from a vocabulary of V;
   * the network sees them one-hot, shape (T, V) */
  bool input_tokens;
  int vocab;
  Shape label_shape; /* real[...] */
  /* loss */
  LossKind loss;
  Loc loss_loc;
  int loss_line;
  Layer *loss_out;
  Loc loss_out_loc, loss_target_loc;
  bool target_is_input;
  /* data */
  DataSrc train_src, test_src;
  DataSrc valid_src; /* data { validation = ... } (kind SRC_NONE: none) */
  double scale;
  /* train */
  OptKind opt;
  double lr, momentum, weight_decay;
  double clip; /* clip = X: gradients scaled to global L2 norm <= X (0: off) */
  int batch, epochs;
  bool shuffle;
  uint64_t seed;
  /* validation = F: the fraction of the training rows held out (0: none);
   * early_stopping = loss(...) / accuracy(...) on the validation set */
  double val_frac;
  Loc val_frac_loc;
  EarlyStop es;
  int es_patience;
  double es_min_delta;
  Loc es_loc;
  /* optimizers beyond plain sgd: sgd's nesterov and dampening; adam and
   * adamw's beta1, beta2, eps; rmsprop's alpha, eps (and momentum above).
   * adamw's decay is weight_decay (decoupled). */
  bool nesterov;
  double dampening, beta1, beta2, eps, alpha;
  Loc opt_loc; /* the optimizer's value in the train block (line 0: not given) */
  /* schedule = step(every, gamma) | exponential(gamma) | cosine(epochs,
   * min_lr); warmup = K steps of linear warm-up (0: none) */
  SchedKind sched;
  int sched_every, sched_epochs, warmup;
  double sched_gamma, sched_min_lr;
  double clip_value; /* clip_value = X: each gradient element clamped to [-X, X] (0: off) */
} Model;
/* The weight decay of parameter value v: its layer's, else the train
 * block's; 0 for biases (v->decay false). */
struct Value;
double param_decay(const Model *m, const struct Value *v);

/* Check the program and build the model.  Returns NULL when there were
 * errors (all of them reported). */
Model *sema_check(Program *p);
void model_free(Model *m);
/* --emit=model: the checked model, one layer a line. */
void model_print(FILE *out, const Model *m);

/* --------------------------------------------------------------- shape.c */
/* Infer every layer's output shape and parameter count; report mismatches
 * with the arithmetic.  Returns the number of errors. */
int shape_infer(Model *m);
/* --summary: table of layers, output shapes, parameter counts, total;
 * with the IR after memplan, the bytes of each arena. */
struct IR;
void shape_summary(FILE *out, const Model *m, const struct IR *ir);

/* ----------------------------------------------------------------- ir.c */
/* Which arena a value lives in. */
typedef enum {
  A_NONE,   /* not stored: scalars returned by a function */
  A_ACT,    /* batched activations and their gradients */
  A_PARAM,  /* learnable parameters */
  A_GRAD,   /* gradients of parameters (same layout as A_PARAM) */
  A_STATE,  /* optimizer state (same layout as A_PARAM per buffer) */
  A_EXTERN, /* the trainer's batch: input x, class labels, real targets */
} Arena;

typedef enum { DT_REAL, DT_INT32, DT_FLOAT } DType;

typedef struct Value {
  int id;
  char *name;  /* as in the .nn: "h1", "h1.weight", "d_h1" */
  char *cname; /* a C identifier: "h1", "h1_weight", "d_h1" */
  bool batched; /* leading dimension B (rows of the batch) */
  Shape shape;  /* per row if batched */
  Arena arena;
  DType dtype;
  int alias;    /* id of the value whose storage this one shares, or -1 */
  size_t offset; /* elements into its arena (memplan.c) */
  Layer *layer;  /* the layer that defines it */
  int param;     /* index into IR.params for A_PARAM values, else -1 */
  int grad;      /* id of its gradient value, or -1 */
  bool needs_grad; /* depends on a parameter */
  Init init;     /* A_PARAM: how to initialize */
  bool decay;    /* A_PARAM: weight decay applies (weights, not biases) */
  bool dead;      /* read and written by no op (fused away): no storage */
  bool from_batch; /* the transposed model input: forward() fills it from
                      the batch rows, so its transpose op emits no code */
  bool row_major; /* batched, stored [B][features] (a transpose's output);
                     other batched values are [features][B] */
  /* A sequence: shape (T, F), T = steps time steps of F features, stored
   * with time folded into the columns, [F][T][B] (a row-major value:
   * [T][B][F]), so every per-step op is the plain op over T*B columns.
   * 0 when the value is not a sequence. */
  int steps;
  bool persist; /* a recurrent layer's carried state: lives across steps,
                   shares storage with nothing, zeroed by reset() */
  /* A_PARAM: a learnable parameter (PK_LEARN), or a buffer the forward
   * pass writes and the optimizer never touches (batchnorm's running
   * statistics, PK_BUFFER; num_batches_tracked, PK_INT64: one int64_t in
   * the first 8 bytes of its slot).  Buffers live in the params arena, so
   * checkpoints and early stopping's best-weights copy cover them; they
   * have no gradient and are not gradient-checked. */
  int pkind;
} Value;
enum { PK_LEARN, PK_BUFFER, PK_INT64 };

typedef enum {
#define OP(id, name, nin, shape, emit, grad, doc) OP_##id,
#include "ops.h"
#undef OP
  OP_COUNT
} OpKind;

typedef enum { PASS_FWD, PASS_LOSS, PASS_BWD, PASS_UPD } Pass;

#define MAX_OP_IN 8
#define MAX_OP_AUX 6
typedef struct Op {
  OpKind kind;
  int out;              /* value id, -1 for none */
  int in[MAX_OP_IN];
  int nin;
  Pass pass;
  Layer *layer;         /* NULL for the loss and the update */
  bool accumulate;      /* out += result instead of out = result */
  Act act;              /* act, act_grad; linear: the fused activation */
  bool fused;           /* linear, conv2d: act is applied in its store (fuse.c) */
  Geo geo;              /* conv2d, pools and their gradients, im2col */
  double alpha;         /* leaky_relu slope; momentum for sgd */
  /* Further values the op writes besides `out` (scan, scan_grad: the
   * saved gates, the initial and carried states, scratch). */
  int aux[MAX_OP_AUX];
  int naux;
  /* concat: unused; slice: the channels [off, off + width) of its input
   * (a concat's gradient) */
  int off, width;
} Op;

typedef struct IR IR;
typedef int (*ShapeFn)(IR *ir, Op *op, Shape *out, bool *batched);
typedef void (*EmitFn)(FILE *out, IR *ir, Op *op);
typedef void (*GradFn)(IR *ir, Op *op);

typedef struct OpInfo {
  const char *name;
  int nin;          /* -1: variable */
  ShapeFn shape;
  EmitFn emit;
  GradFn grad;      /* NULL: no gradient flows through (targets, grads) */
  const char *doc;
} OpInfo;
extern const OpInfo op_info[OP_COUNT];

struct IR {
  Model *m;
  Value **vals;
  int nvals, vcap;
  Op *ops;
  int nops, ocap;
  int *params; /* value ids of the A_PARAM values, in checkpoint order */
  int nparams, pcap;
  int input;   /* value id of the model input */
  int output;  /* value id of the model output (what --predict writes) */
  int *layer_out; /* per layer (Layer.order): value id of its output */
  int target;  /* value id of the target (label or input), -1 for none */
  int ids;     /* a token input's ids (T, 1), filled by forward() like the
                  input, read by gather ops; -1 for none */
  int loss;    /* value id of the loss scalar */
  int correct; /* value id of the correct-count scalar, -1 for none */
  size_t arena_size[A_EXTERN + 1]; /* elements, filled by memplan.c */
};

IR *ir_new(Model *m);
void ir_free(IR *ir);
Value *ir_value(IR *ir, const char *name, Arena a, bool batched, Shape s, Layer *l);
/* Append an op; its output value is created from the op's shape rule
 * (name `out_name`, arena A_ACT unless out_arena is given).  Returns the
 * output value id (or -1 for ops without an output). */
int ir_op(IR *ir, OpKind k, Pass pass, Layer *l, const char *out_name, Arena out_arena,
          const int *in, int nin);
/* Create the output value of the op appended last from its shape rule. */
int ir_op_output(IR *ir, const char *name, Arena a);
Op *ir_last_op(IR *ir);
void ir_print(FILE *out, IR *ir, const char *stage);
/* Check op arity, shape rules, definition before use.  die()s on a broken
 * invariant: a verifier failure is a compiler bug, not a user error. */
void ir_verify(IR *ir, const char *after);
char *ir_shape_str(IR *ir, int v, char *buf, size_t n); /* "(B,256)" */
long ir_numel(IR *ir, int v); /* per row if batched */
/* A sequence value's steps, at least 1; its features per step; the
 * columns it has in storage (B * steps). */
int ir_steps(IR *ir, int v);
long ir_feat(IR *ir, int v);
/* v is some layer's output (the value --predict --layer NAME reads) */
bool ir_is_layer_out(IR *ir, int v);
long ir_cols(IR *ir, int v);
/* Gate blocks of a recurrent cell: rnn 1, lstm 4, gru 3. */
int ir_gates(LayerKind k);
/* What a scan op writes besides h, by role (-1: the cell has none):
 * gates (T, 4H): lstm i, f, g, o / gru r, z, n, w_hn h + b_hn, after their
 * activations; c (T, H): lstm cell states; h0, c0: the state the window
 * started from; state_h, state_c: the running (carried) state. */
typedef struct ScanAux {
  int gates, c, h0, c0, state_h, state_c;
} ScanAux;
ScanAux ir_scan_aux(const Op *op);
/* The channels of a batchnorm's input: C of (H, W, C), N of (N). */
int ir_bn_channels(IR *ir, int x);
/* Add a value written by the op appended last, besides its output. */
Value *ir_aux(IR *ir, bool batched, Shape s, int steps, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------- lower.c */
/* Layers → forward IR ops, the loss, and the output/target values. */
IR *lower_model(Model *m);

/* ------------------------------------------------------------- autodiff.c */
/* Reverse sweep: for every forward/loss op whose output has a gradient,
 * append its backward ops (op_info[k].grad); then the optimizer update. */
void autodiff(IR *ir);

/* ----------------------------------------------------------------- fuse.c */
/* Merge `act` ops into the `linear` that feeds them (the activation is
 * applied in the product's store) when the pre-activation has no other
 * reader. */
void fuse(IR *ir);

/* -------------------------------------------------------------- memplan.c */
/* Offsets of every value in its arena (64-byte aligned), aliases share. */
void memplan(IR *ir);

/* --------------------------------------------------------------- emit_c.c */
/* The whole trainer as one C file. `cmdline` goes into the front matter. */
void emit_c(FILE *out, IR *ir, const char *cmdline);
/* FNV-1a 64 of the parameter layout. */
uint64_t emit_layout_hash(IR *ir);

/* ------------------------------------------------------------- emit_dot.c */
/* --emit=dot: the layer graph (name, kind, output shape, parameters of
 * each layer; an edge per input; the loss and its target) for Graphviz. */
void emit_dot(FILE *out, const Model *m);

/* ------------------------------------------------------------- emit_lib.c */
/* --emit=lib: BASE.h and BASE.c, the forward pass as a library without
 * libnnrt; weights: a checkpoint to bake in (NULL: BASE_load() at run
 * time).  Returns 0, or 1 after a message. */
int emit_lib(IR *ir, const char *base, const char *weights, const char *cmdline);

#endif
