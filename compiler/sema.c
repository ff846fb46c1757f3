/* sema.c — semantic checks: AST -> Model.
 *
 * Resolves names (layers may be defined in any order; the graph must be
 * acyclic), validates every statement's arguments and every block's keys
 * against the tables below, fills in defaults, and sorts the layers
 * topologically.  Every problem is reported (with a "did you mean" hint
 * where a known word is close) and checking goes on; the model is returned
 * only when there were no errors.  Shapes are shape.c's business.
 */
#include <math.h>
#include <string.h>

#include "nncc.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]))

static const char *const layer_ops[] = {"dense",   "flatten", "conv2d", "maxpool",
                                        "avgpool", "rnn",     "lstm",   "gru",
                                        "dropout", "gaussian_noise", "batchnorm", "add",
                                        "concat"};
static const LayerKind layer_kinds[] = {LAYER_DENSE,   LAYER_FLATTEN, LAYER_CONV,
                                        LAYER_MAXPOOL, LAYER_AVGPOOL, LAYER_RNN,
                                        LAYER_LSTM,    LAYER_GRU,     LAYER_DROPOUT,
                                        LAYER_NOISE,   LAYER_BATCHNORM, LAYER_ADD,
                                        LAYER_CONCAT};
static const char *const loss_names_[] = {"mse", "binary_cross_entropy", "cross_entropy"};
static const char *const dense_keys[] = {"activation", "bias", "init", "bias_init", "in_features",
                                         "weight_decay", "activity_l1"};
static const char *const conv_keys[] = {"activation", "bias", "init", "bias_init", "kernel",
                                        "stride", "padding", "weight_decay", "activity_l1"};
static const char *const add_keys[] = {"activation"}; /* add(a, b, ...); concat takes none */
static const char *const pool_keys[] = {"kernel", "stride", "padding"};
static const char *const dropout_keys[] = {"rate"};
static const char *const noise_keys[] = {"std"};
/* rnn, lstm, gru; lstm and gru reject `activation` with a message of its own */
static const char *const rnn_keys[] = {"activation", "return", "stateful", "bias",
                                       "init",       "bias_init", "in_features", "weight_decay"};
static const char *const bn_keys[] = {"activation", "momentum", "eps"};
static const char *const data_keys[] = {"train", "test", "validation", "scale"};
static const char *const train_keys[] = {"optimizer", "batch", "epochs", "shuffle", "seed",
                                         "weight_decay", "clip", "schedule", "warmup",
                                         "clip_value", "validation", "early_stopping"};
static const char *const sgd_keys[] = {"lr", "momentum", "nesterov", "dampening"};
static const char *const adam_keys[] = {"lr", "beta1", "beta2", "eps"};
static const char *const adamw_keys[] = {"lr", "beta1", "beta2", "eps", "weight_decay"};
static const char *const rmsprop_keys[] = {"lr", "alpha", "eps", "momentum"};
static const char *const perceptron_keys[] = {"lr"};
static const char *const schedules[] = {"step", "exponential", "cosine"};
static const char *const step_sched_keys[] = {"every", "gamma"};
static const char *const exp_sched_keys[] = {"gamma"};
static const char *const cos_sched_keys[] = {"epochs", "min_lr"};
static const char *const es_metrics[] = {"loss", "accuracy"};
static const char *const es_keys[] = {"patience", "min_delta"};
static const char *const csv_keys[] = {"label", "header"};
static const char *const series_keys[] = {"header"};
static const char *const init_names[] = {"zeros",          "uniform",      "normal",
                                         "xavier",         "he",           "xavier_uniform",
                                         "xavier_normal",  "he_uniform",   "he_normal"};
static const char *const source_kinds[] = {"csv", "idx", "text", "series", "npy"};
static const char *const optimizers[] = {"sgd", "adam", "adamw", "rmsprop", "perceptron"};

static const char *const all_act_names[] = {
#define ACT(id, name, fwd, bwd, uses) name,
#include "acts.h"
#undef ACT
    "softmax",
};

const char *loss_name(LossKind k) { return loss_names_[k]; }

const char *opt_name(OptKind k) { return optimizers[k]; }

const char *layer_kind_name(LayerKind k) {
  static const char *const n[] = {"input",   "dense", "flatten", "conv2d", "maxpool",
                                  "avgpool", "rnn",   "lstm",    "gru",     "dropout",
                                  "gaussian_noise", "batchnorm", "add", "concat"};
  return n[k];
}

/* -------------------------------------------------------------- helpers */

static int find_word(const char *w, const char *const *list, int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(w, list[i]) == 0)
      return i;
  return -1;
}

/* The location of a name at the start of `loc` (a call's callee). */
static Loc name_loc(Loc loc, const char *name) {
  loc.len = (int)strlen(name);
  return loc;
}

/* "a, b or c" into buf. */
static const char *word_list(char *buf, size_t n, const char *const *list, int k) {
  buf[0] = 0;
  for (int i = 0; i < k; i++)
    snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i == 0 ? "" : i == k - 1 ? " or " : ", ",
             list[i]);
  return buf;
}

/* "unknown WHAT 'word'" plus ", did you mean 'x'?" when one is close, else
 * the list of known words.  `loc` starts at the word. */
static void unknown_word(Loc loc, const char *what, const char *word, const char *const *list,
                         int n) {
  const char *near = closest_word(word, list, n);
  char buf[512];
  loc = name_loc(loc, word);
  if (near)
    error_at(loc, "unknown %s '%s', did you mean '%s'?", what, word, near);
  else
    error_at(loc, "unknown %s '%s' (known: %s)", what, word, word_list(buf, sizeof buf, list, n));
}

static const char *expr_kind_desc(const Expr *e) {
  switch (e->kind) {
  case EX_NUM: return "a number";
  case EX_STR: return "a string";
  case EX_IDENT: return "a name";
  case EX_CALL: return "a call";
  case EX_LIST: return "a list";
  default: return "an expression";
  }
}

/* Evaluate a constant numeric expression.  Reports and returns false if e
 * is not one; `what` names the thing for the message. */
static bool const_num(const Expr *e, const char *what, double *out) {
  double a, b;
  switch (e->kind) {
  case EX_NUM:
    *out = e->num;
    return true;
  case EX_NEG:
    if (!const_num(e->lhs, what, &a))
      return false;
    *out = -a;
    return true;
  case EX_BIN:
    if (!const_num(e->lhs, what, &a) || !const_num(e->rhs, what, &b))
      return false;
    switch (e->op) {
    case '+': *out = a + b; return true;
    case '-': *out = a - b; return true;
    case '*': *out = a * b; return true;
    default:
      if (b == 0) {
        error_at(e->rhs->loc, "division by zero in %s", what);
        return false;
      }
      *out = a / b;
      return true;
    }
  default:
    error_at(e->loc, "%s must be a number, got %s", what, expr_kind_desc(e));
    return false;
  }
}

static bool is_integral(double v) { return v == floor(v) && fabs(v) < 2147483647.0; }

/* A positive integer (units, batch, epochs). */
static bool pos_int(const Expr *e, const char *what, int *out) {
  double v;
  if (!const_num(e, what, &v))
    return false;
  if (v != floor(v) || v < 1) {
    error_at(e->loc, "%s must be a positive integer, got %.15g", what, v);
    return false;
  }
  if (v > 2147483647.0) {
    error_at(e->loc, "%s is too large: %.15g (at most 2147483647)", what, v);
    return false;
  }
  *out = (int)v;
  return true;
}

static bool bool_val(const Expr *e, const char *what, bool *out) {
  if (e->kind == EX_IDENT && (strcmp(e->str, "true") == 0 || strcmp(e->str, "false") == 0)) {
    *out = e->str[0] == 't';
    return true;
  }
  if (e->kind == EX_IDENT)
    error_at(e->loc, "%s must be true or false, got '%s'", what, e->str);
  else
    error_at(e->loc, "%s must be true or false, got %s", what, expr_kind_desc(e));
  return false;
}

static bool str_val(const Expr *e, const char *what, char **out) {
  if (e->kind == EX_STR) {
    *out = e->str;
    return true;
  }
  error_at(e->loc, "%s must be a string (a path in double quotes), got %s", what,
           expr_kind_desc(e));
  return false;
}

/* Check keyword arguments against `keys`: unknown and duplicate keys are
 * errors.  Returns false if any was bad. */
/* Check keyword argument i against `keys`: an unknown key, or one given
 * before, is an error.  Returns false if it was bad. */
static bool check_key(const Arg *args, int i, const char *what, const char *const *keys,
                      int nkeys) {
  if (!args[i].key)
    return true;
  if (find_word(args[i].key, keys, nkeys) < 0) {
    const char *near = closest_word(args[i].key, keys, nkeys);
    char list[256];
    if (near)
      error_at(args[i].key_loc, "unknown key '%s' for %s, did you mean '%s'?", args[i].key,
               what, near);
    else if (nkeys == 0)
      error_at(args[i].key_loc, "%s takes no key '%s'", what, args[i].key);
    else
      error_at(args[i].key_loc, "unknown key '%s' for %s (known keys: %s)", args[i].key, what,
               word_list(list, sizeof list, keys, nkeys));
    return false;
  }
  for (int j = 0; j < i; j++)
    if (args[j].key && strcmp(args[j].key, args[i].key) == 0) {
      error_at(args[i].key_loc, "duplicate key '%s'", args[i].key);
      note_at(args[j].key_loc, "'%s' was first given here", args[i].key);
      return false;
    }
  return true;
}

static bool check_keys(const Arg *args, int n, const char *what, const char *const *keys,
                       int nkeys) {
  bool ok = true;
  for (int i = 0; i < n; i++)
    ok = check_key(args, i, what, keys, nkeys) && ok;
  return ok;
}

static const Expr *key_arg(const Arg *args, int n, const char *key) {
  for (int i = 0; i < n; i++)
    if (args[i].key && strcmp(args[i].key, key) == 0)
      return args[i].val;
  return NULL;
}

static int count_positional(const Arg *args, int n) {
  int k = 0;
  for (int i = 0; i < n; i++)
    k += args[i].key == NULL;
  return k;
}

static const Arg *positional(const Arg *args, int n, int which) {
  for (int i = 0; i < n; i++)
    if (!args[i].key && which-- == 0)
      return &args[i];
  return NULL;
}

/* ------------------------------------------------------------ the names */

typedef enum { N_INPUT, N_LABEL, N_LAYER } NameKind;
typedef struct Name {
  const char *name;
  NameKind kind;
  Loc loc;
  Layer *layer;
} Name;

typedef struct Pending {
  Layer *layer;
  const char *input;
  int idx; /* which of the layer's inputs (add, concat have several) */
} Pending;

typedef struct Sema {
  Model *m;
  Program *p;
  Name *names;
  int nnames, ncap;
  Pending *pending; /* layers' input names, resolved after all statements */
  int npending, pcap;
  Stmt *first[ST_TRAIN + 1]; /* first statement of each kind */
  const char *loss_out, *loss_target; /* names, resolved after all statements */
  Loc shuffle_loc; /* of the value of `shuffle = ...`; line 0 when not given */
  Loc wd_loc, adamw_wd_loc; /* of weight_decay in the train block / in adamw(...) */
  bool adamw_wd_given;
  bool decl_errors;  /* in the input, the label or the loss's names */
} Sema;

static Name *lookup(Sema *s, const char *name) {
  for (int i = 0; i < s->nnames; i++)
    if (strcmp(s->names[i].name, name) == 0)
      return &s->names[i];
  return NULL;
}

static const char *name_kind_desc(NameKind k) {
  return k == N_INPUT ? "the input" : k == N_LABEL ? "a label" : "a layer";
}

static void define(Sema *s, const char *name, Loc loc, NameKind kind, Layer *l) {
  Name *old = lookup(s, name);
  if (old) {
    error_at(loc, "duplicate name '%s'", name);
    note_at(old->loc, "'%s' is first defined here, as %s", name, name_kind_desc(old->kind));
    return;
  }
  Name n = {name, kind, loc, l};
  VEC_PUSH(s->names, s->nnames, s->ncap, n);
}

/* The closest known name of the given kinds, for hints. */
static const char *near_name(Sema *s, const char *word, bool layers_only) {
  const char **c = xmalloc(sizeof *c * (size_t)(s->nnames + 1));
  int n = 0;
  for (int i = 0; i < s->nnames; i++)
    if (!layers_only || s->names[i].kind != N_LABEL)
      c[n++] = s->names[i].name;
  const char *r = closest_word(word, c, n);
  free(c);
  return r;
}

/* ------------------------------------------------------ the statements */

static Layer *new_layer(Sema *s, LayerKind k, Stmt *st) {
  Layer *l = xcalloc(1, sizeof *l);
  l->kind = k;
  l->name = st->name;
  l->name_loc = st->name_loc;
  l->stmt = st;
  l->line = st->loc.line;
  l->bias = true;
  l->alpha = 0.01;
  l->act = ACT_IDENTITY;
  l->bias_init = (Init){INIT_ZEROS, 0, 0, "zeros"};
  VEC_PUSH(s->m->layers, s->m->nlayers, s->m->cap, l);
  return l;
}

static void check_dims(const Stmt *st, const char *kind) {
  char what[300];
  snprintf(what, sizeof what, "%s '%s'", kind, st->name);
  if (st->ndims > MAX_RANK)
    error_at(st->dims_loc, "%s has %d dimensions; at most %d are supported", what, st->ndims,
             MAX_RANK);
  double n = 1;
  for (int i = 0; i < st->ndims; i++) {
    if (st->dims[i] < 1)
      error_at(st->dim_locs ? st->dim_locs[i] : st->dims_loc,
               "dimension %d of %s must be positive, got %d", i + 1, what, st->dims[i]);
    n *= st->dims[i];
  }
  /* every size and index in the generated code is an int */
  if (n > 2147483647.0)
    error_at(st->dims_loc, "%s has %.0f elements per sample; at most 2147483647 are supported",
             what, n);
}

static Shape dims_shape(const Stmt *st) {
  Shape sh = {0};
  sh.ndim = st->ndims > MAX_RANK ? MAX_RANK : st->ndims;
  for (int i = 0; i < sh.ndim; i++)
    sh.dims[i] = st->dims[i];
  return sh;
}

static const char *const value_types[] = {"int", "real"};

/* "unknown WHAT type 'x' (expected 'int' for INTS or 'real' for values)" */
static void unknown_type(const Stmt *st, const char *what, const char *ints) {
  const char *near = closest_word(st->type, value_types, 2);
  error_at(st->type_loc, "unknown %s type '%s' (expected 'int' for %s or 'real' for values)%s%s%s",
           what, st->type, ints, near ? ", did you mean '" : "", near ? near : "",
           near ? "'?" : "");
}

/* input x[d...], input x : real[d...], input x : int[T, V] (token ids) */
static void sema_input(Sema *s, Stmt *st) {
  Model *m = s->m;
  if (m->input) {
    error_at(st->loc, "a model has one input; '%s' is already the input", m->input->name);
    note_at(m->input->name_loc, "'%s' is declared here", m->input->name);
    define(s, st->name, st->name_loc, N_INPUT, NULL); /* known, so no follow-on errors */
    return;
  }
  int before = diag_errors();
  int t = st->type ? find_word(st->type, value_types, 2) : 1;
  if (t < 0)
    unknown_type(st, "input", "token ids");
  check_dims(st, "input");
  Layer *l = new_layer(s, LAYER_INPUT, st);
  l->shape = dims_shape(st);
  m->input = l;
  define(s, st->name, st->name_loc, N_INPUT, l);
  if (t != 0 || diag_errors() > before)
    return;
  if (st->ndims != 2)
    error_at(st->dims_loc, "a token input is int[T, V]: T token ids per sample from a "
             "vocabulary of V tokens");
  else if (st->dims[1] < 2)
    error_at(st->dim_locs[1], "a token input needs a vocabulary of at least 2 tokens, got %d",
             st->dims[1]);
  else {
    m->input_tokens = true;
    m->vocab = st->dims[1];
  }
}

static void sema_label(Sema *s, Stmt *st) {
  Model *m = s->m;
  if (m->has_label) {
    error_at(st->loc, "a model has one label; '%s' is already the label", m->label_name);
    note_at(m->label_loc, "'%s' is declared here", m->label_name);
    define(s, st->name, st->name_loc, N_LABEL, NULL);
    return;
  }
  define(s, st->name, st->name_loc, N_LABEL, NULL);
  m->has_label = true;
  m->label_name = st->name;
  m->label_loc = st->name_loc;
  int t = find_word(st->type, value_types, 2);
  if (t < 0) {
    unknown_type(st, "label", "class indices");
    return;
  }
  int before = diag_errors();
  check_dims(st, "label");
  m->label_is_class = t == 0;
  if (diag_errors() > before)
    return;
  if (t == 0) {
    /* int[K]: one class index per sample; int[T, K]: one for each of T steps */
    int k = st->dims[st->ndims - 1];
    if (st->ndims > 2)
      error_at(st->dims_loc, "a class label is int[K] (K classes) or int[T, K] (a class for each "
               "of T steps), not of %d dimensions", st->ndims);
    else if (k < 2)
      error_at(st->dims_loc, "a class label needs at least 2 classes, got %d", k);
    else {
      m->nclasses = k;
      m->label_steps = st->ndims == 2 ? st->dims[0] : 0;
    }
  } else {
    m->label_shape = dims_shape(st);
  }
}

/* activation = relu | leaky_relu | leaky_relu(0.2) | ... */
static void sema_activation(Layer *l, const Expr *e) {
  const char *name = e->kind == EX_IDENT || e->kind == EX_CALL ? e->str : NULL;
  if (!name) {
    error_at(e->loc, "activation must be a name like relu, got %s", expr_kind_desc(e));
    return;
  }
  int a = find_word(name, all_act_names, COUNT(all_act_names));
  if (a < 0) {
    unknown_word(e->loc, "activation", name, all_act_names, COUNT(all_act_names));
    return;
  }
  l->act = (Act)a;
  if (e->kind != EX_CALL)
    return;
  if (l->act != ACT_LEAKY_RELU) {
    error_at(e->loc, "activation '%s' takes no arguments", name);
    return;
  }
  if (!check_keys(e->args, e->nargs, "leaky_relu", (const char *const[]){"alpha"}, 1))
    return;
  const Expr *alpha = key_arg(e->args, e->nargs, "alpha");
  if (count_positional(e->args, e->nargs) + (alpha != NULL) != 1) {
    error_at(e->loc, "leaky_relu takes one argument, the slope for x < 0: leaky_relu(0.01)");
    return;
  }
  if (!alpha)
    alpha = positional(e->args, e->nargs, 0)->val;
  const_num(alpha, "the slope of leaky_relu", &l->alpha);
}

/* init = zeros | xavier | he | uniform(a, b) | normal(std) | normal(mean, std) */
static bool sema_init(const Expr *e, Init *out) {
  const char *name = e->kind == EX_IDENT || e->kind == EX_CALL ? e->str : NULL;
  if (!name) {
    error_at(e->loc, "an initializer must be a name like he or a call like uniform(-0.1, 0.1), "
             "got %s", expr_kind_desc(e));
    return false;
  }
  int k = find_word(name, init_names, COUNT(init_names));
  if (k < 0) {
    unknown_word(e->loc, "initializer", name, init_names, COUNT(init_names));
    return false;
  }
  int n = e->kind == EX_CALL ? e->nargs : 0;
  double v[2] = {0, 0};
  for (int i = 0; i < n && i < 2; i++) {
    if (e->args[i].key) {
      error_at(e->args[i].key_loc, "%s takes positional arguments only", name);
      return false;
    }
    if (!const_num(e->args[i].val, "an initializer argument", &v[i]))
      return false;
  }
  out->how = init_names[k];
  if (k == 1) { /* uniform(a, b) */
    if (n != 2) {
      error_at(e->loc, "uniform takes 2 arguments, the bounds: uniform(-0.1, 0.1)");
      return false;
    }
    if (!(v[0] < v[1])) {
      error_at(e->loc, "uniform(a, b) needs a < b, got a = %g, b = %g", v[0], v[1]);
      return false;
    }
    *out = (Init){INIT_UNIFORM, v[0], v[1], "uniform"};
    return true;
  }
  if (k == 2) { /* normal(std) or normal(mean, std) */
    if (n != 1 && n != 2) {
      error_at(e->loc, "normal takes the standard deviation, or the mean and the standard "
               "deviation: normal(0.01), normal(0, 0.01)");
      return false;
    }
    double mean = n == 2 ? v[0] : 0, sd = n == 2 ? v[1] : v[0];
    if (sd < 0) {
      error_at(e->loc, "the standard deviation of normal must be >= 0, got %g", sd);
      return false;
    }
    *out = (Init){INIT_NORMAL, mean, sd, "normal"};
    return true;
  }
  if (n) {
    error_at(e->loc, "initializer '%s' takes no arguments", name);
    return false;
  }
  /* zeros; xavier/he are resolved by shape.c once fan-in and fan-out are known */
  out->kind = k == 0 ? INIT_ZEROS : INIT_UNIFORM;
  return true;
}

/* An int, or a list of two: kernel = 5, stride = [2, 1]. */
static bool pair_val(const Expr *e, const char *what, int *a, int *b, int min) {
  const Expr *x = e, *y = e;
  if (e->kind == EX_LIST) {
    if (e->nargs != 2) {
      error_at(e->loc, "%s takes one number or two ([height, width]), got %d", what, e->nargs);
      return false;
    }
    x = e->args[0].val;
    y = e->args[1].val;
  }
  double u, v;
  if (!const_num(x, what, &u) || !const_num(y, what, &v))
    return false;
  const Expr *bad = !(u == floor(u) && u >= min && u < 65536) ? x
                    : !(v == floor(v) && v >= min && v < 65536) ? y : NULL;
  if (bad) {
    error_at(bad->loc, "%s must be %s, got %.15g", what,
             e->kind == EX_LIST ? (min ? "positive integers" : "non-negative integers")
                                : (min ? "a positive integer" : "a non-negative integer"),
             bad == x ? u : v);
    return false;
  }
  *a = (int)u;
  *b = (int)v;
  return true;
}

/* kernel, stride, padding of conv2d and the pools; the stride of a pool
 * defaults to its kernel. */
static void sema_window(Layer *l, const Expr *call) {
  const Arg *a = call->args;
  int n = call->nargs;
  const Expr *e;
  if ((e = key_arg(a, n, "kernel"))) {
    pair_val(e, "the kernel size", &l->kh, &l->kw, 1);
    l->kernel_loc = e->loc;
  } else if (l->kind == LAYER_CONV || count_positional(a, n) < 2 ||
             positional(a, n, 1)->val->kind != EX_NUM) {
    error_at(name_loc(call->loc, call->str), "%s needs a kernel size, e.g. %s(..., kernel = %d)",
             call->str, call->str, l->kind == LAYER_CONV ? 5 : 2);
  }
  l->sh = l->kind == LAYER_CONV ? 1 : l->kh;
  l->sw = l->kind == LAYER_CONV ? 1 : l->kw;
  if ((e = key_arg(a, n, "stride"))) {
    pair_val(e, "the stride", &l->sh, &l->sw, 1);
    l->stride_loc = e->loc;
  }
  if ((e = key_arg(a, n, "padding"))) {
    l->padding_loc = e->loc;
    if (e->kind == EX_IDENT && l->kind != LAYER_CONV) {
      error_at(e->loc, "the padding of %s is a number or [height, width] (default 0)",
               call->str);
    } else if (e->kind == EX_STR || e->kind == EX_CALL) {
      error_at(e->loc, "the padding is valid, same, a number or [height, width], got %s",
               e->kind == EX_STR ? "a string" : "a call");
    } else if (e->kind == EX_IDENT) {
      static const char *const modes[] = {"valid", "same"};
      int k = find_word(e->str, modes, 2);
      if (k < 0)
        unknown_word(e->loc, "padding", e->str, modes, 2);
      l->pad_same = k == 1;
    } else {
      pair_val(e, "the padding", &l->ph, &l->pw, 0);
    }
  }
}

/* The activation of an rnn: tanh (the default) or relu.  lstm and gru
 * have none to choose. */
static void sema_rnn_activation(Layer *l, const Expr *call, const Expr *e) {
  static const char *const rnn_acts[] = {"tanh", "relu"};
  if (l->kind != LAYER_RNN) {
    const Arg *key = NULL;
    for (int i = 0; i < call->nargs && !key; i++)
      if (call->args[i].key && !strcmp(call->args[i].key, "activation"))
        key = &call->args[i];
    error_at(key->key_loc, "%s has fixed gates (sigmoid and tanh); 'activation' is for rnn",
             call->str);
    return;
  }
  const char *name = e->kind == EX_IDENT || e->kind == EX_CALL ? e->str : NULL;
  if (!name) {
    error_at(e->loc, "activation must be a name like relu, got %s", expr_kind_desc(e));
    return;
  }
  int k = find_word(name, rnn_acts, COUNT(rnn_acts));
  if (k < 0 && find_word(name, all_act_names, COUNT(all_act_names)) >= 0)
    error_at(name_loc(e->loc, name), "the activation of an rnn is tanh or relu, got '%s'", name);
  else if (k < 0)
    unknown_word(e->loc, "activation", name, rnn_acts, COUNT(rnn_acts));
  else if (e->kind == EX_CALL)
    error_at(e->loc, "activation '%s' takes no arguments", name);
  else
    l->act = k == 0 ? ACT_TANH : ACT_RELU;
}

/* return = sequence | last, stateful = BOOL of rnn, lstm, gru */
static void sema_recurrent_keys(Layer *l, const Expr *call) {
  const Arg *a = call->args;
  int n = call->nargs;
  const Expr *e;
  if ((e = key_arg(a, n, "return"))) {
    static const char *const rets[] = {"sequence", "last"};
    l->ret_loc = e->loc;
    int k = e->kind == EX_IDENT ? find_word(e->str, rets, COUNT(rets)) : -1;
    if (e->kind != EX_IDENT)
      error_at(e->loc, "'return' must be sequence (every step's output) or last (the last "
               "step's), got %s", expr_kind_desc(e));
    else if (k < 0)
      unknown_word(e->loc, "'return' value", e->str, rets, COUNT(rets));
    else
      l->ret_seq = k == 0;
  }
  if ((e = key_arg(a, n, "stateful"))) {
    l->stateful_loc = e->loc;
    bool_val(e, "'stateful'", &l->stateful);
  }
}

static void sema_dense_keys(Layer *l, const Expr *call) {
  const Arg *a = call->args;
  int n = call->nargs;
  bool conv = l->kind == LAYER_CONV, rec = layer_is_recurrent(l->kind);
  const char *const *keys = conv ? conv_keys : rec ? rnn_keys : dense_keys;
  int nkeys = conv ? COUNT(conv_keys) : rec ? COUNT(rnn_keys) : COUNT(dense_keys);
  if (!check_keys(a, n, call->str, keys, nkeys))
    return;
  if (conv)
    sema_window(l, call);
  const Expr *e;
  if ((e = key_arg(a, n, "activation"))) {
    if (rec)
      sema_rnn_activation(l, call, e);
    else
      sema_activation(l, e);
  }
  if (rec)
    sema_recurrent_keys(l, call);
  if ((e = key_arg(a, n, "bias")))
    bool_val(e, "'bias'", &l->bias);
  if ((e = key_arg(a, n, "init"))) {
    l->init_given = sema_init(e, &l->init);
    l->init_loc = e->loc;
  }
  if ((e = key_arg(a, n, "bias_init"))) {
    Init bi;
    if (sema_init(e, &bi)) {
      if (strcmp(bi.how, "zeros") && strcmp(bi.how, "uniform") && strcmp(bi.how, "normal"))
        error_at(e->loc, "bias_init must be zeros, uniform(a, b) or normal(std); '%s' needs "
                 "a weight matrix's fan-in", bi.how);
      else
        l->bias_init = bi;
    }
  }
  if ((e = key_arg(a, n, "in_features"))) {
    pos_int(e, "'in_features'", &l->in_features);
    l->in_features_loc = e->loc;
  }
  if ((e = key_arg(a, n, "activity_l1")) && const_num(e, "'activity_l1'", &l->activity_l1)) {
    l->activity_l1_loc = e->loc;
    if (!(l->activity_l1 >= 0 && isfinite(l->activity_l1)))
      error_at(e->loc, "'activity_l1' must be >= 0, got %g", l->activity_l1);
  }
  if ((e = key_arg(a, n, "weight_decay")) && const_num(e, "'weight_decay'", &l->weight_decay)) {
    if (!(l->weight_decay >= 0 && isfinite(l->weight_decay)))
      error_at(e->loc, "'weight_decay' must be >= 0, got %g", l->weight_decay);
    else
      l->wd_given = true;
  }
}

/* dropout(x, rate = 0.5): rate in [0, 1), PyTorch's default 0.5;
 * gaussian_noise(x, std = 0.1): std > 0, no default.  `extra` is a
 * positional argument after the input (the number given without its key). */
static void sema_noise_layer(Layer *l, const Expr *call, const Arg *extra) {
  bool drop = l->kind == LAYER_DROPOUT;
  const char *key = drop ? "rate" : "std";
  l->rate = 0.5;
  if (!check_keys(call->args, call->nargs, call->str, drop ? dropout_keys : noise_keys, 1))
    return;
  const Expr *e = key_arg(call->args, call->nargs, key);
  if (extra) {
    if (extra->val->kind == EX_NUM && !e)
      error_at(extra->val->loc, "give the %s by name: %s(x, %s = %g)",
               drop ? "rate" : "standard deviation", call->str, key, extra->val->num);
    else
      error_at(extra->val->loc, "%s takes only its input and %s = X", call->str, key);
    return;
  }
  if (!e) {
    if (!drop)
      error_at(name_loc(call->loc, call->str), "gaussian_noise needs the standard deviation of "
               "its noise: gaussian_noise(x, std = 0.1)");
    return;
  }
  double v;
  if (!const_num(e, drop ? "the rate of dropout" : "the std of gaussian_noise", &v))
    return;
  if (drop && !(v >= 0 && v < 1))
    error_at(e->loc, "the rate of dropout is the probability of dropping an element, in "
             "[0, 1); got %g", v);
  else if (!drop && !(v > 0 && isfinite(v)))
    error_at(e->loc, "the std of gaussian_noise must be a positive number, got %g", v);
  else if (drop)
    l->rate = v;
  else
    l->noise_std = v;
}

/* batchnorm(x, activation = f, momentum = 0.1, eps = 1e-5): PyTorch's
 * defaults; momentum in [0, 1] (the weight of the batch in the running
 * statistics), eps > 0 (added to the variance). */
static void sema_batchnorm(Layer *l, const Expr *call, int rest, bool has_input) {
  const Arg *a = call->args;
  int n = call->nargs;
  l->bn_momentum = 0.1;
  l->bn_eps = 1e-5;
  l->bias = true; /* beta */
  if (rest > 0) {
    const Expr *e = positional(a, n, has_input)->val;
    error_at(e->loc, "batchnorm takes only its input and keys (activation, momentum, eps): "
             "batchnorm(h, momentum = 0.1)");
  }
  if (!check_keys(a, n, call->str, bn_keys, COUNT(bn_keys)))
    return;
  const Expr *e;
  if ((e = key_arg(a, n, "activation")))
    sema_activation(l, e);
  if ((e = key_arg(a, n, "momentum")) && const_num(e, "'momentum'", &l->bn_momentum)) {
    l->bn_momentum_loc = e->loc;
    if (!(l->bn_momentum >= 0 && l->bn_momentum <= 1))
      error_at(e->loc, "the momentum of batchnorm is the weight of each batch in the running "
               "statistics, from 0 to 1 (PyTorch's default 0.1), got %g", l->bn_momentum);
  }
  if ((e = key_arg(a, n, "eps")) && const_num(e, "'eps'", &l->bn_eps)) {
    l->bn_eps_loc = e->loc;
    if (!(l->bn_eps > 0 && isfinite(l->bn_eps)))
      error_at(e->loc, "the eps of batchnorm is added to the variance and must be > 0 "
               "(PyTorch's default 1e-5), got %g", l->bn_eps);
  }
}

/* Resolve one layer's input name; `final`: all statements are read, so a
 * name not defined by now is unknown. Returns false if it must wait. */
static bool resolve_input(Sema *s, Layer *l, int idx, const char *name, bool final) {
  Name *n = lookup(s, name);
  if (!n && !final)
    return false;
  if (!n) {
    const char *near = near_name(s, name, true);
    if (near)
      error_at(l->input_locs[idx], "unknown layer '%s', did you mean '%s'?", name, near);
    else
      error_at(l->input_locs[idx], "unknown layer '%s'", name);
  } else if (n->kind == N_LABEL) {
    error_at(l->input_locs[idx], "'%s' is the label, not a layer; a layer's input is the "
             "input or another layer", name);
  } else if (n->layer == l) {
    error_at(l->input_locs[idx], "layer '%s' takes itself as input", name);
  } else {
    l->inputs[idx] = n->layer;
  }
  return true;
}

static void add_pending(Sema *s, Layer *l, const Arg *input) {
  l->ninputs = 1;
  l->inputs = xcalloc(1, sizeof *l->inputs);
  l->input_locs = xcalloc(1, sizeof *l->input_locs);
  const char *name = NULL;
  if (input) {
    name = input->val->str;
    l->input_locs[0] = input->val->loc;
  } else {
    /* shorthand: the previous layer statement, or the input */
    Layer *prev = NULL;
    for (int i = s->m->nlayers - 2; i >= 0 && !prev; i--)
      if (s->m->layers[i]->kind != LAYER_INPUT)
        prev = s->m->layers[i];
    if (!prev)
      prev = s->m->input;
    if (!prev) {
      error_at(l->stmt->call->loc, "layer '%s' names no input and there is no layer or input "
               "before it", l->name);
    } else {
      name = prev->name;
    }
    l->input_locs[0] = l->stmt->call->loc;
  }
  if (name && !resolve_input(s, l, 0, name, false)) {
    Pending pe = {l, name, 0};
    VEC_PUSH(s->pending, s->npending, s->pcap, pe);
  }
}

/* add(a, b, ..., activation = f), concat(a, b, ...): 2 to MAX_OP_IN layer
 * names, resolved like any input (a name may come twice: add(x, x)). */
static void sema_merge(Sema *s, Layer *l, const Expr *call) {
  const Arg *a = call->args;
  int n = call->nargs, npos = count_positional(a, n);
  bool add = l->kind == LAYER_ADD;
  if (check_keys(a, n, call->str, add ? add_keys : NULL, add ? COUNT(add_keys) : 0)) {
    const Expr *e = key_arg(a, n, "activation");
    if (e)
      sema_activation(l, e);
    if (e && l->act == ACT_SOFTMAX)
      error_at(e->loc, "add '%s' cannot have a softmax activation; add a dense layer with "
               "activation = softmax after it", l->name);
  }
  l->ninputs = 0;
  l->inputs = xcalloc((size_t)(npos > 0 ? npos : 1), sizeof *l->inputs);
  l->input_locs = xcalloc((size_t)(npos > 0 ? npos : 1), sizeof *l->input_locs);
  if (npos < 2 || npos > MAX_OP_IN) {
    error_at(name_loc(call->loc, call->str), "%s takes 2 to %d layers, got %d: %s(a, b)",
             call->str, MAX_OP_IN, npos, call->str);
    return;
  }
  bool ok = true;
  for (int i = 0; i < npos; i++) {
    const Expr *v = positional(a, n, i)->val;
    if (v->kind != EX_IDENT) {
      error_at(v->loc, "the inputs of %s are layer names, got %s", call->str, expr_kind_desc(v));
      ok = false;
    }
  }
  if (!ok)
    return;
  l->ninputs = npos;
  for (int i = 0; i < npos; i++) {
    const Expr *v = positional(a, n, i)->val;
    l->input_locs[i] = v->loc;
    if (!resolve_input(s, l, i, v->str, false)) {
      Pending pe = {l, v->str, i};
      VEC_PUSH(s->pending, s->npending, s->pcap, pe);
    }
  }
}

static void sema_layer(Sema *s, Stmt *st) {
  Expr *call = st->call;
  int op = find_word(call->str, layer_ops, COUNT(layer_ops));
  if (op < 0) {
    unknown_word(call->loc, "layer type", call->str, layer_ops, COUNT(layer_ops));
    define(s, st->name, st->name_loc, N_LAYER, NULL);
    return;
  }
  Layer *l = new_layer(s, layer_kinds[op], st);
  define(s, st->name, st->name_loc, N_LAYER, l);
  if (l->kind == LAYER_ADD || l->kind == LAYER_CONCAT) {
    sema_merge(s, l, call);
    return;
  }
  const Arg *a = call->args;
  int n = call->nargs, npos = count_positional(a, n);
  const Arg *first = positional(a, n, 0), *second = positional(a, n, 1);
  const Arg *input = first && first->val->kind == EX_IDENT ? first : NULL;
  int rest = npos - (input != NULL); /* positional arguments after the input */
  if (first && first->val->kind == EX_CALL) {
    error_at(first->val->loc, "the input of %s is a layer name, not a call: give it a layer of "
             "its own (layer %s_in = %s(...)) and name that", call->str, l->name,
             first->val->str);
    add_pending(s, l, NULL);
    return;
  }
  if (!input && second && second->val->kind == EX_IDENT) {
    error_at(second->val->loc, "the input comes first: %s(%s, ...)", call->str,
             second->val->str);
    add_pending(s, l, NULL);
    return;
  }
  if (l->kind == LAYER_DROPOUT || l->kind == LAYER_NOISE) {
    sema_noise_layer(l, call, rest > 0 ? positional(a, n, input != NULL) : NULL);
  } else if (l->kind == LAYER_FLATTEN || l->kind == LAYER_MAXPOOL || l->kind == LAYER_AVGPOOL) {
    bool pool = l->kind != LAYER_FLATTEN;
    if (check_keys(a, n, call->str, pool ? pool_keys : NULL, pool ? COUNT(pool_keys) : 0) && pool)
      sema_window(l, call);
    const Arg *extra = rest > 0 ? positional(a, n, input != NULL) : NULL;
    if (extra && pool && extra->val->kind == EX_NUM && !key_arg(a, n, "kernel"))
      error_at(extra->val->loc, "give the window by name: kernel = %g", extra->val->num);
    else if (extra)
      error_at(extra->val->loc, "%s takes only its input%s", call->str,
               pool ? " and keys (kernel, stride, padding)" : ": flatten(image)");
  } else if (l->kind == LAYER_BATCHNORM) {
    sema_batchnorm(l, call, rest, input != NULL);
  } else {
    bool conv = l->kind == LAYER_CONV;
    const char *what = conv ? "the number of filters" : "the number of units";
    if (layer_is_recurrent(l->kind)) {
      /* the defaults of PyTorch's nn.RNN, nn.LSTM, nn.GRU: tanh, every
       * step's output; weights and biases uniform(-1/sqrt(H), 1/sqrt(H))
       * (resolved by shape.c once H is known to be valid) */
      l->act = ACT_TANH;
      l->ret_seq = true;
      l->bias_init = (Init){INIT_UNIFORM, 0, 0, NULL};
    }
    if (rest == 0) {
      error_at(name_loc(call->loc, call->str), "%s needs %s, e.g. %s(%s, %d)", call->str, what,
               call->str, input ? input->val->str : "h1", conv ? 16 : 128);
    } else if (rest > 1) {
      error_at(positional(a, n, (input != NULL) + 1)->val->loc,
               "%s takes 2 positional arguments (input, %s); put the others as key = value",
               call->str, conv ? "filters" : "units");
    } else {
      pos_int(positional(a, n, input != NULL)->val, what, &l->units);
    }
    sema_dense_keys(l, call);
  }
  add_pending(s, l, input);
}

static void sema_loss(Sema *s, Stmt *st) {
  Model *m = s->m;
  Expr *call = st->call;
  int k = find_word(call->str, loss_names_, COUNT(loss_names_));
  if (k < 0) {
    unknown_word(call->loc, "loss", call->str, loss_names_, COUNT(loss_names_));
    return;
  }
  m->loss = (LossKind)k;
  m->loss_loc = call->loc;
  m->loss_line = st->loc.line;
  check_keys(call->args, call->nargs, call->str, NULL, 0);
  if (count_positional(call->args, call->nargs) != 2) {
    error_at(name_loc(call->loc, call->str), "%s takes 2 arguments (output, target), got %d", call->str,
             count_positional(call->args, call->nargs));
    return;
  }
  const Expr *out = positional(call->args, call->nargs, 0)->val;
  const Expr *tgt = positional(call->args, call->nargs, 1)->val;
  if (out->kind != EX_IDENT || tgt->kind != EX_IDENT) {
    const Expr *bad = out->kind != EX_IDENT ? out : tgt;
    error_at(bad->loc, "the arguments of %s are names (an output layer and a label or the "
             "input), got %s", call->str, expr_kind_desc(bad));
    return;
  }
  m->loss_out_loc = out->loc;
  m->loss_target_loc = tgt->loc;
  s->loss_out = out->str;
  s->loss_target = tgt->str;
}

static bool sema_source(const Expr *e, const char *key, DataSrc *src) {
  if (e->kind != EX_CALL) {
    error_at(e->loc, "'%s' must be a data source: csv(\"file.csv\", label = 4), "
             "idx(\"images.gz\", \"labels.gz\"), text(\"file.txt\"), "
             "series(\"file.csv\") or npy(\"x.npy\", \"y.npy\")", key);
    return false;
  }
  int k = find_word(e->str, source_kinds, COUNT(source_kinds));
  if (k < 0) {
    unknown_word(e->loc, "data source", e->str, source_kinds, COUNT(source_kinds));
    return false;
  }
  src->loc = e->loc;
  int npos = count_positional(e->args, e->nargs);
  if (k == 0) {
    src->kind = SRC_CSV;
    src->label_col = -1;
    src->header = true;
    if (!check_keys(e->args, e->nargs, "csv", csv_keys, COUNT(csv_keys)))
      return false;
    if (npos != 1) {
      error_at(e->loc, "csv takes one path and keys: csv(\"file.csv\", label = 4, header = "
               "true)");
      return false;
    }
    if (!str_val(positional(e->args, e->nargs, 0)->val, "the path of csv", &src->path))
      return false;
    const Expr *lab = key_arg(e->args, e->nargs, "label");
    double v;
    if (lab && const_num(lab, "the label column", &v)) {
      if (!is_integral(v))
        error_at(lab->loc, "the label column must be an integer (0-based; negative counts "
                 "from the end), got %g", v);
      else
        src->label_col = (int)v;
    }
    const Expr *hdr = key_arg(e->args, e->nargs, "header");
    if (hdr)
      bool_val(hdr, "'header'", &src->header);
    return true;
  }
  if (k == 2 || k == 3) { /* text("file.txt"), series("file.csv", header = false) */
    bool text = k == 2;
    src->kind = text ? SRC_TEXT : SRC_SERIES;
    src->label_col = -1;
    src->header = false;
    if (!check_keys(e->args, e->nargs, e->str, text ? NULL : series_keys,
                    text ? 0 : COUNT(series_keys)))
      return false;
    if (npos != 1) {
      if (text)
        error_at(e->loc, "text takes one path: text(\"file.txt\")");
      else
        error_at(e->loc, "series takes one path and keys: series(\"file.csv\", header = "
                 "false)");
      return false;
    }
    if (!str_val(positional(e->args, e->nargs, 0)->val, text ? "the path of text" :
                 "the path of series", &src->path))
      return false;
    const Expr *hdr = key_arg(e->args, e->nargs, "header");
    if (hdr)
      bool_val(hdr, "'header'", &src->header);
    return true;
  }
  /* idx(IMAGES [, LABELS]), npy(FEATURES [, TARGETS]) */
  bool npy = k == 4;
  src->kind = npy ? SRC_NPY : SRC_IDX;
  if (!check_keys(e->args, e->nargs, e->str, NULL, 0))
    return false;
  if (npos < 1 || npos > 2) {
    if (npy)
      error_at(e->loc, "npy takes the features file and the targets file: npy(\"x.npy\", "
               "\"y.npy\")");
    else
      error_at(e->loc, "idx takes the images file and the labels file: idx(\"images.gz\", "
               "\"labels.gz\")");
    return false;
  }
  bool ok = str_val(e->args[0].val, npy ? "the features path" : "the images path", &src->path);
  if (npos == 2)
    ok = str_val(e->args[1].val, npy ? "the targets path" : "the labels path", &src->path2) && ok;
  return ok;
}

/* Block entries are checked in the order they are written. */
static void sema_data(Sema *s, Stmt *st) {
  Model *m = s->m;
  for (int i = 0; i < st->nentries; i++) {
    const Arg *a = &st->entries[i];
    if (!check_key(st->entries, i, "the data block", data_keys, COUNT(data_keys)))
      continue;
    if (!strcmp(a->key, "train"))
      sema_source(a->val, "train", &m->train_src);
    else if (!strcmp(a->key, "test"))
      sema_source(a->val, "test", &m->test_src);
    else if (!strcmp(a->key, "validation"))
      sema_source(a->val, "validation", &m->valid_src);
    else if (const_num(a->val, "'scale'", &m->scale) && !(m->scale > 0 && isfinite(m->scale)))
      error_at(a->val->loc, "'scale' must be a positive number, got %g", m->scale);
  }
}

/* A number setting of an optimizer or schedule: `key = v` with lo <= v
 * (lo < v when lo_open) and v < hi (v <= hi when hi_closed); false when
 * absent or bad (reported). */
static bool opt_num(const Expr *call, const char *key, double lo, bool lo_open, double hi,
                    bool hi_closed, const char *range, double *out) {
  const Expr *v = key_arg(call->args, call->nargs, key);
  if (!v)
    return false;
  char *what = xasprintf("'%s'", key);
  double x;
  bool ok = const_num(v, what, &x);
  free(what);
  if (!ok)
    return false;
  if (!(isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_closed ? x <= hi : x < hi))) {
    error_at(v->loc, "'%s' must be %s, got %g", key, range, x);
    return false;
  }
  *out = x;
  return true;
}

static void sema_optimizer(Sema *s, const Expr *e) {
  Model *m = s->m;
  const char *name = e->kind == EX_IDENT || e->kind == EX_CALL ? e->str : NULL;
  if (!name) {
    error_at(e->loc, "optimizer must be sgd, adam, adamw, rmsprop or perceptron, with or "
             "without settings (adam(lr = 0.001)), got %s", expr_kind_desc(e));
    return;
  }
  int k = find_word(name, optimizers, COUNT(optimizers));
  if (k < 0) {
    unknown_word(e->loc, "optimizer", name, optimizers, COUNT(optimizers));
    return;
  }
  static const char *const *const keys[] = {sgd_keys, adam_keys, adamw_keys, rmsprop_keys,
                                            perceptron_keys};
  static const int nkeys[] = {COUNT(sgd_keys), COUNT(adam_keys), COUNT(adamw_keys),
                              COUNT(rmsprop_keys), COUNT(perceptron_keys)};
  static const char *const example[] = {
      "sgd(lr = 0.01, momentum = 0.9)", "adam(lr = 0.001, beta1 = 0.9)",
      "adamw(lr = 0.001, weight_decay = 0.01)", "rmsprop(lr = 0.01, alpha = 0.99)",
      "perceptron(lr = 1)"};
  static const double default_lr[] = {0.01, 0.001, 0.001, 0.01, 1};
  m->opt = (OptKind)k;
  m->opt_loc = e->loc;
  m->lr = default_lr[k];
  if (e->kind != EX_CALL)
    return;
  if (!check_keys(e->args, e->nargs, name, keys[k], nkeys[k]))
    return;
  if (count_positional(e->args, e->nargs)) {
    error_at(positional(e->args, e->nargs, 0)->val->loc,
             "give the optimizer's settings by name: %s", example[k]);
    return;
  }
  const Expr *v;
  if ((v = key_arg(e->args, e->nargs, "lr")) && const_num(v, "'lr'", &m->lr) &&
      !(m->lr > 0 && isfinite(m->lr)))
    error_at(v->loc, "'lr' must be a positive number, got %g", m->lr);
  if ((v = key_arg(e->args, e->nargs, "momentum")) &&
      const_num(v, "'momentum'", &m->momentum) && !(m->momentum >= 0 && m->momentum < 1))
    error_at(v->loc, "'momentum' must be in [0, 1), got %g", m->momentum);
  opt_num(e, "dampening", 0, false, 1, true, "in [0, 1]", &m->dampening);
  opt_num(e, "beta1", 0, false, 1, false, "in [0, 1)", &m->beta1);
  opt_num(e, "beta2", 0, false, 1, false, "in [0, 1)", &m->beta2);
  opt_num(e, "eps", 0, true, INFINITY, false, "a positive number", &m->eps);
  opt_num(e, "alpha", 0, false, 1, false, "in [0, 1)", &m->alpha);
  if (opt_num(e, "weight_decay", 0, false, INFINITY, false, ">= 0", &m->weight_decay)) {
    s->adamw_wd_given = true;
    s->adamw_wd_loc = key_arg(e->args, e->nargs, "weight_decay")->loc;
  }
  if ((v = key_arg(e->args, e->nargs, "nesterov")) && bool_val(v, "'nesterov'", &m->nesterov) &&
      m->nesterov && !(m->momentum > 0 && m->dampening == 0))
    error_at(v->loc, "nesterov = true needs a momentum > 0 and dampening = 0 (as "
             "torch.optim.SGD), got momentum %g, dampening %g", m->momentum, m->dampening);
}

/* schedule = step(every = N, gamma = 0.1) | exponential(gamma = 0.95) |
 * cosine(epochs = N, min_lr = 0) */
static void sema_schedule(Model *m, const Expr *e) {
  const char *name = e->kind == EX_IDENT || e->kind == EX_CALL ? e->str : NULL;
  if (!name) {
    error_at(e->loc, "schedule must be step(every = 10, gamma = 0.1), exponential(gamma = "
             "0.95) or cosine(epochs = 50, min_lr = 0), got %s", expr_kind_desc(e));
    return;
  }
  int k = find_word(name, schedules, COUNT(schedules));
  if (k < 0) {
    unknown_word(e->loc, "schedule", name, schedules, COUNT(schedules));
    return;
  }
  static const char *const *const keys[] = {step_sched_keys, exp_sched_keys, cos_sched_keys};
  static const int nkeys[] = {COUNT(step_sched_keys), COUNT(exp_sched_keys),
                              COUNT(cos_sched_keys)};
  m->sched = (SchedKind)(k + 1);
  m->sched_gamma = k == 0 ? 0.1 : 0.95;
  if (e->kind != EX_CALL) {
    if (k == 0)
      error_at(name_loc(e->loc, name), "schedule step needs its period: step(every = 10, "
               "gamma = 0.1)");
    return;
  }
  if (!check_keys(e->args, e->nargs, name, keys[k], nkeys[k]))
    return;
  if (count_positional(e->args, e->nargs)) {
    error_at(positional(e->args, e->nargs, 0)->val->loc,
             "give the schedule's settings by name: %s",
             k == 0 ? "step(every = 10, gamma = 0.1)" : k == 1 ? "exponential(gamma = 0.95)"
                                                              : "cosine(epochs = 50, min_lr = 0)");
    return;
  }
  const Expr *v;
  if ((v = key_arg(e->args, e->nargs, "every")))
    pos_int(v, "'every'", &m->sched_every);
  else if (k == 0)
    error_at(e->loc, "schedule step needs its period: step(every = 10, gamma = 0.1)");
  if ((v = key_arg(e->args, e->nargs, "epochs")))
    pos_int(v, "'epochs'", &m->sched_epochs);
  opt_num(e, "gamma", 0, true, 1, true, "in (0, 1]", &m->sched_gamma);
  opt_num(e, "min_lr", 0, false, INFINITY, false, ">= 0", &m->sched_min_lr);
}

/* early_stopping = loss(patience = 5, min_delta = 0) or accuracy(...): the
 * validation metric to watch, the epochs without improvement to allow, and
 * the least change that counts as one. */
static void sema_early_stopping(Model *m, const Expr *e) {
  const char *name = e->kind == EX_IDENT || e->kind == EX_CALL ? e->str : NULL;
  if (!name) {
    error_at(e->loc, "early_stopping must name the validation metric to watch: "
             "loss(patience = 5) or accuracy(patience = 5), got %s", expr_kind_desc(e));
    return;
  }
  int k = find_word(name, es_metrics, COUNT(es_metrics));
  if (k < 0) {
    unknown_word(e->loc, "early_stopping metric", name, es_metrics, COUNT(es_metrics));
    return;
  }
  m->es = k == 0 ? ES_LOSS : ES_ACCURACY;
  m->es_loc = e->loc;
  if (e->kind != EX_CALL)
    return;
  if (!check_keys(e->args, e->nargs, name, es_keys, COUNT(es_keys)))
    return;
  if (count_positional(e->args, e->nargs)) {
    error_at(positional(e->args, e->nargs, 0)->val->loc,
             "give early stopping's settings by name: %s(patience = 5, min_delta = 0)", name);
    return;
  }
  const Expr *v;
  if ((v = key_arg(e->args, e->nargs, "patience")))
    pos_int(v, "'patience'", &m->es_patience);
  if ((v = key_arg(e->args, e->nargs, "min_delta")) &&
      const_num(v, "'min_delta'", &m->es_min_delta) &&
      !(m->es_min_delta >= 0 && isfinite(m->es_min_delta)))
    error_at(v->loc, "'min_delta' must be >= 0, got %g", m->es_min_delta);
}

static void sema_train_entry(Sema *s, const char *key, const Expr *e) {
  Model *m = s->m;
  double v;
  if (!strcmp(key, "optimizer")) {
    sema_optimizer(s, e);
  } else if (!strcmp(key, "batch")) {
    pos_int(e, "'batch'", &m->batch);
  } else if (!strcmp(key, "epochs")) {
    pos_int(e, "'epochs'", &m->epochs);
  } else if (!strcmp(key, "shuffle")) {
    if (bool_val(e, "'shuffle'", &m->shuffle))
      s->shuffle_loc = e->loc;
  } else if (!strcmp(key, "seed")) {
    if (!const_num(e, "'seed'", &v))
      return;
    if (!(v >= 0 && v == floor(v)))
      error_at(e->loc, "'seed' must be a non-negative integer, got %.15g", v);
    else if (v >= 18446744073709551616.0)
      error_at(e->loc, "'seed' is too large: %.15g (at most 2^64 - 1)", v);
    else
      m->seed = (uint64_t)v;
  } else if (!strcmp(key, "weight_decay")) {
    if (!const_num(e, "'weight_decay'", &v))
      return;
    if (!(v >= 0 && isfinite(v)))
      error_at(e->loc, "'weight_decay' must be >= 0, got %g", v);
    else
      m->weight_decay = v;
    s->wd_loc = e->loc;
  } else if (!strcmp(key, "clip")) {
    if (!const_num(e, "'clip'", &v))
      return;
    if (!(v > 0 && isfinite(v)))
      error_at(e->loc, "'clip' must be a positive number, got %g", v);
    else
      m->clip = v;
  } else if (!strcmp(key, "validation")) {
    if (!const_num(e, "'validation'", &v))
      return;
    if (!(v > 0 && v < 1))
      error_at(e->loc, "'validation' is the fraction of the training rows held out, in (0, 1); "
               "got %g", v);
    else {
      m->val_frac = v;
      m->val_frac_loc = e->loc;
    }
  } else if (!strcmp(key, "early_stopping")) {
    sema_early_stopping(m, e);
  } else if (!strcmp(key, "clip_value")) {
    if (!const_num(e, "'clip_value'", &v))
      return;
    if (!(v > 0 && isfinite(v)))
      error_at(e->loc, "'clip_value' must be a positive number, got %g", v);
    else
      m->clip_value = v;
  } else if (!strcmp(key, "schedule")) {
    sema_schedule(m, e);
  } else if (!strcmp(key, "warmup")) {
    if (!const_num(e, "'warmup'", &v))
      return;
    if (!(v >= 0 && is_integral(v)))
      error_at(e->loc, "'warmup' must be a whole number of steps >= 0, got %g", v);
    else
      m->warmup = (int)v;
  }
}

static void sema_train(Sema *s, Stmt *st) {
  Model *m = s->m;
  for (int i = 0; i < st->nentries; i++)
    if (check_key(st->entries, i, "the train block", train_keys, COUNT(train_keys)))
      sema_train_entry(s, st->entries[i].key, st->entries[i].val);
  if (m->opt == OPT_ADAMW && s->adamw_wd_given && s->wd_loc.line)
    error_at(s->wd_loc, "weight_decay is given twice: in adamw(...) and in the train block; "
             "give it once");
  else if (m->opt == OPT_ADAMW && !s->adamw_wd_given && !s->wd_loc.line)
    m->weight_decay = 0.01; /* torch.optim.AdamW's default */
}

/* optimizer = perceptron: one dense layer with activation step, learning
 * from mse against 0/1 targets (the loss is then the error rate). */
static void check_perceptron(Sema *s) {
  Model *m = s->m;
  if (m->opt != OPT_PERCEPTRON || !m->loss_out)
    return;
  Layer *first = NULL;
  for (int i = 0; i < m->nlayers; i++) {
    Layer *l = m->layers[i];
    if (l->kind != LAYER_DENSE && l->kind != LAYER_CONV && !layer_is_recurrent(l->kind) &&
        l->kind != LAYER_BATCHNORM)
      continue;
    if (first) {
      error_at(l->name_loc, "the perceptron rule trains a single layer: '%s' and '%s' both "
               "have parameters (use sgd or adam for a multi-layer network)", first->name,
               l->name);
      return;
    }
    first = l;
  }
  Layer *o = m->loss_out;
  if (o != first || o->kind != LAYER_DENSE)
    error_at(m->opt_loc, "the perceptron rule trains one dense layer; the output '%s' is a %s",
             o->name, layer_kind_name(o->kind));
  else if (o->act != ACT_STEP)
    error_at(o->name_loc, "the perceptron rule needs activation = step on '%s', got %s", o->name,
             act_name(o->act));
  else if (m->loss != LOSS_MSE || m->target_is_input || m->label_is_class)
    error_at(m->loss_loc, "the perceptron rule learns from mse(%s, LABEL) against a real label "
             "of 0/1 targets", o->name);
}

/* ------------------------------------------------------------ resolving */

/* Forward references (a layer defined further down) are resolved when all
 * statements are read. */
static void resolve_inputs(Sema *s) {
  for (int i = 0; i < s->npending; i++)
    resolve_input(s, s->pending[i].layer, s->pending[i].idx, s->pending[i].input, true);
}

/* Depth-first topological sort; a back edge is a cycle, reported once with
 * its path. */
static bool visit(Layer *l, Layer **out, int *nout, Layer **path, int depth) {
  if (l->state == 2)
    return true;
  path[depth] = l;
  if (l->state == 1) {
    int start = depth - 1;
    while (start > 0 && path[start] != l)
      start--;
    char buf[512] = "";
    for (int i = start; i <= depth; i++)
      snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i > start ? " -> " : "",
               path[i]->name);
    error_at(l->name_loc, "layer '%s' depends on itself: %s", l->name, buf);
    return false;
  }
  l->state = 1;
  for (int i = 0; i < l->ninputs; i++)
    if (l->inputs[i] && !visit(l->inputs[i], out, nout, path, depth + 1))
      return false;
  l->state = 2;
  out[(*nout)++] = l;
  return true;
}

static void topo_sort(Model *m) {
  Layer **out = xcalloc((size_t)m->nlayers, sizeof *out);
  Layer **path = xcalloc((size_t)m->nlayers + 1, sizeof *path);
  int nout = 0;
  bool ok = true;
  for (int i = 0; i < m->nlayers && ok; i++)
    ok = visit(m->layers[i], out, &nout, path, 0);
  if (ok) {
    memcpy(m->layers, out, (size_t)nout * sizeof *out);
    for (int i = 0; i < m->nlayers; i++)
      m->layers[i]->order = i;
  }
  free(out);
  free(path);
}

static void resolve_loss(Sema *s) {
  Model *m = s->m;
  const char *outname = s->loss_out, *tname = s->loss_target;
  Name *o = lookup(s, outname);
  if (!o) {
    const char *near = near_name(s, outname, true);
    error_at(m->loss_out_loc, "unknown layer '%s'%s%s%s", outname, near ? ", did you mean '" : "",
             near ? near : "", near ? "'?" : "");
  } else if (o->kind != N_LAYER) {
    error_at(m->loss_out_loc, "the first argument of %s is the output layer; '%s' is %s",
             loss_name(m->loss), outname, name_kind_desc(o->kind));
  } else {
    m->loss_out = o->layer;
  }
  Name *t = lookup(s, tname);
  if (!t) {
    const char *near = near_name(s, tname, false);
    error_at(m->loss_target_loc, "unknown target '%s' (the target is the label or the input)%s%s%s",
             tname, near ? ", did you mean '" : "", near ? near : "", near ? "'?" : "");
  } else if (t->kind == N_LAYER) {
    error_at(m->loss_target_loc, "the target of %s is the label or the input; '%s' is a layer",
             loss_name(m->loss), tname);
  } else {
    m->target_is_input = t->kind == N_INPUT;
  }
}

/* "int[64, 96]", "real[24, 1]" (an input without a type is real) */
static const char *decl_str(const Stmt *st, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "%s[", st->type ? st->type : "real");
  for (int i = 0; i < st->ndims && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? ", " : "", st->dims[i]);
  if (k < n)
    snprintf(buf + k, n - k, "]");
  return buf;
}

/* What the model's label is, for messages: "'y' is int[96]", "the model has
 * no label", "the loss's target is the input 'x'". */
static const char *label_desc(Sema *s, char *buf, size_t n) {
  Model *m = s->m;
  char d[128];
  if (m->target_is_input)
    snprintf(buf, n, "the loss's target is the input '%s'", m->input->name);
  else if (!m->has_label || !s->first[ST_LABEL])
    snprintf(buf, n, "the model has no label");
  else
    snprintf(buf, n, "'%s' is %s", m->label_name, decl_str(s->first[ST_LABEL], d, sizeof d));
  return buf;
}

/* text(...) needs token ids in and the next token out; series(...) windows
 * of T rows in and the row after them out. */
static void check_source(Sema *s, const DataSrc *src) {
  Model *m = s->m;
  Layer *in = m->input;
  const Stmt *ist = in->stmt;
  const char *lname = m->has_label && !m->target_is_input ? m->label_name : "next";
  char d[128], ld[256];
  if (src->kind == SRC_TEXT) {
    if (!m->input_tokens) {
      error_at(src->loc, "text(...) reads a text as a stream of tokens: the input must be "
               "token ids, input %s : int[T, V]; '%s' is %s", in->name, in->name,
               decl_str(ist, d, sizeof d));
      return;
    }
    int T = ist->dims[0], V = ist->dims[1];
    if (V > 256)
      error_at(src->loc, "text(...) reads bytes, so a vocabulary has at most 256 tokens; "
               "'%s' has %d", in->name, V);
    if (m->target_is_input || !m->label_is_class || m->label_steps != T || m->nclasses != V)
      error_at(src->loc, "text(...) trains next-token prediction: the label must be the token "
               "after each step, label %s : int[%d, %d] (the input's T and V); %s", lname, T, V,
               label_desc(s, ld, sizeof ld));
  } else if (src->kind == SRC_SERIES) {
    /* read by a recurrent layer, so a sequence (or a layer's input is
     * unknown, already an error) */
    bool read = false;
    for (int i = 0; i < m->nlayers; i++) {
      const Layer *l = m->layers[i];
      read |= l->ninputs && (!l->inputs[0] || (layer_is_recurrent(l->kind) && l->inputs[0] == in));
    }
    if (m->input_tokens || ist->ndims != 2 || !read) {
      error_at(src->loc, "series(...) reads windows of T consecutive rows: the input must be a "
               "real sequence, input %s[T, F] (T rows of F values) read by rnn, lstm or gru; "
               "'%s' is %s%s", in->name, in->name, decl_str(ist, d, sizeof d),
               !m->input_tokens && ist->ndims == 2 ? " and no recurrent layer reads it" : "");
      return;
    }
    /* the target: the first values of the row after the window (all F by
     * default) */
    int F = ist->dims[1];
    long n = m->has_label && !m->label_is_class ? shape_numel(&m->label_shape) : 0;
    if (m->target_is_input || n < 1 || n > F) {
      if (F == 1)
        error_at(src->loc, "series(...) predicts the row after each window: the label must be "
                 "its value, label %s : real[1]; %s", lname, label_desc(s, ld, sizeof ld));
      else
        error_at(src->loc, "series(...) predicts the row after each window: the label is the "
                 "first 1 to %d of its %d values, label %s : real[%d] for all of them; %s", F, F,
                 lname, F, label_desc(s, ld, sizeof ld));
    }
  }
}

/* After all statements: the defaults that depend on the data (stateful,
 * shuffle), what text(...) and series(...) need, and stateful layers
 * against shuffling. */
static void check_sequences(Sema *s) {
  Model *m = s->m;
  bool text = m->train_src.kind == SRC_TEXT;
  if (text && !s->shuffle_loc.line)
    m->shuffle = false; /* a text is a stream: its windows in order */
  Layer *stateful = NULL;
  for (int i = 0; i < m->nlayers; i++) {
    Layer *l = m->layers[i];
    if (!layer_is_recurrent(l->kind))
      continue;
    if (!l->stateful_loc.line)
      l->stateful = text;
    if (l->stateful && !stateful)
      stateful = l;
  }
  if (stateful && m->shuffle) {
    if (s->shuffle_loc.line)
      error_at(s->shuffle_loc, "shuffle = true breaks the hidden state carried between the "
               "windows of a stream: set stateful = false on '%s' or shuffle = false",
               stateful->name);
    else
      error_at(stateful->stateful_loc, "'%s' is stateful, which needs the batches in stream "
               "order, but shuffle is true by default (the data is not text(...)): add shuffle = "
               "false to the train block, or set stateful = false", stateful->name);
  }
  if (!m->input || s->decl_errors)
    return; /* the input or label is broken: no follow-on errors */
  check_source(s, &m->train_src);
  if (m->test_src.kind != m->train_src.kind)
    check_source(s, &m->test_src);
  if (m->valid_src.kind != m->train_src.kind && m->valid_src.kind != m->test_src.kind)
    check_source(s, &m->valid_src);
}

/* The validation set: a fraction of the training rows or a source, not
 * both; not cut out of a text (a stream); early stopping needs one, and
 * watching accuracy needs a loss that counts it. */
static void check_validation(Sema *s) {
  Model *m = s->m;
  if (m->val_frac > 0 && m->valid_src.kind != SRC_NONE)
    error_at(m->val_frac_loc, "two validation sets: validation = %g in the train block holds "
             "out training rows, and the data block gives validation = %s(...); keep one",
             m->val_frac, source_kinds[m->valid_src.kind - 1]);
  if (m->val_frac > 0 && m->train_src.kind == SRC_TEXT)
    error_at(m->val_frac_loc, "validation = %g cannot hold out rows of a text: text(...) is "
             "read as streams; give a validation text in the data block, validation = "
             "text(\"...\")", m->val_frac);
  if (m->es == ES_NONE)
    return;
  if (m->val_frac == 0 && m->valid_src.kind == SRC_NONE)
    error_at(m->es_loc, "early stopping watches a validation set, and the model has none: add "
             "validation = 0.1 to the train block (a tenth of the training rows), or "
             "validation = csv(\"...\") to the data block");
  if (m->es == ES_ACCURACY && m->loss == LOSS_MSE)
    error_at(m->es_loc, "early_stopping = accuracy(...) needs a loss that counts correct "
             "predictions (cross_entropy or binary_cross_entropy); with mse, watch loss");
}

static void check_sections(Sema *s) {
  Model *m = s->m;
  if (!m->input)
    error_file("the model has no input: add a statement like `input x[4]`");
  if (!s->first[ST_LOSS])
    error_file("the model has no loss: add a statement like `loss cross_entropy(out, y)`");
  if (!s->first[ST_LAYER])
    error_file("the model has no layers: add a statement like `layer out = dense(x, 3)`");
}

static char *default_name(const char *file) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  size_t n = strcspn(base, ".");
  char *s = xstrndup(base, n ? n : strlen(base));
  for (char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      *p = '_';
  return s;
}

/* Report a second statement of a kind that may appear once. */
static bool once(Sema *s, Stmt *st) {
  Stmt *first = s->first[st->kind];
  if (!first) {
    s->first[st->kind] = st;
    return true;
  }
  if (st->kind == ST_LAYER || st->kind == ST_INPUT || st->kind == ST_LABEL)
    return true; /* reported with names */
  error_at(st->loc, "a second '%s' statement; a model has one", ast_stmt_keyword(st->kind));
  note_at(first->loc, "the first is here");
  return false;
}

Model *sema_check(Program *p) {
  Sema s = {0};
  Model *m = xcalloc(1, sizeof *m);
  s.m = m;
  s.p = p;
  m->file = p->file;
  m->scale = 1;
  m->opt = OPT_SGD;
  m->lr = 0.01;
  m->beta1 = 0.9;
  m->beta2 = 0.999;
  m->eps = 1e-8;
  m->alpha = 0.99;
  m->batch = 32;
  m->epochs = 10;
  m->shuffle = true;
  m->loss = LOSS_MSE;
  m->es_patience = 5;
  for (int i = 0; i < p->nstmts; i++) {
    Stmt *st = p->stmts[i];
    if (!once(&s, st))
      continue;
    switch (st->kind) {
    case ST_MODEL: m->name = xstrdup(st->name); break;
    case ST_INPUT:
    case ST_LABEL: {
      int before = diag_errors();
      if (st->kind == ST_INPUT)
        sema_input(&s, st);
      else
        sema_label(&s, st);
      s.decl_errors |= diag_errors() > before;
      break;
    }
    case ST_LAYER: sema_layer(&s, st); break;
    case ST_LOSS: sema_loss(&s, st); break;
    case ST_DATA: sema_data(&s, st); break;
    case ST_TRAIN: sema_train(&s, st); break;
    }
  }
  if (!m->name)
    m->name = default_name(p->file);
  check_sections(&s);
  resolve_inputs(&s);
  if (s.loss_out) {
    int before = diag_errors();
    resolve_loss(&s);
    s.decl_errors |= diag_errors() > before;
  }
  check_sequences(&s);
  check_validation(&s);
  if (diag_errors() == 0)
    check_perceptron(&s);
  if (diag_errors() == 0)
    topo_sort(m);
  free(s.pending);
  free(s.names);
  if (diag_errors() || !m->loss_out) {
    model_free(m);
    return NULL;
  }
  return m;
}

void model_free(Model *m) {
  if (!m)
    return;
  for (int i = 0; i < m->nlayers; i++) {
    free(m->layers[i]->inputs);
    free(m->layers[i]->input_locs);
    free(m->layers[i]);
  }
  free(m->layers);
  free(m->name);
  free(m);
}

void model_print(FILE *out, const Model *m) {
  char buf[64];
  fprintf(out, "model %s\n", m->name);
  for (int i = 0; i < m->nlayers; i++) {
    const Layer *l = m->layers[i];
    fprintf(out, "layer %-8s %-8s", l->name, layer_kind_name(l->kind));
    for (int k = 0; k < l->ninputs; k++)
      fprintf(out, " %s", l->inputs[k]->name);
    if (l->kind == LAYER_INPUT && m->input_tokens)
      fprintf(out, " tokens vocab=%d", m->vocab);
    if (l->kind == LAYER_DENSE)
      fprintf(out, " units=%d act=%s bias=%s init=%s", l->units, act_name(l->act),
              l->bias ? "true" : "false", l->init_given ? l->init.how : "default");
    if (layer_is_recurrent(l->kind)) {
      fprintf(out, " units=%d", l->units);
      if (l->kind == LAYER_RNN)
        fprintf(out, " act=%s", act_name(l->act));
      fprintf(out, " return=%s stateful=%s bias=%s init=%s", l->ret_seq ? "sequence" : "last",
              l->stateful ? "true" : "false", l->bias ? "true" : "false",
              l->init_given ? l->init.how : "default");
    }
    if (l->kind == LAYER_BATCHNORM)
      fprintf(out, " act=%s momentum=%g eps=%g", act_name(l->act), l->bn_momentum, l->bn_eps);
    if (l->wd_given)
      fprintf(out, " weight_decay=%g", l->weight_decay);
    if (l->kind == LAYER_DROPOUT)
      fprintf(out, " rate=%g", l->rate);
    if (l->kind == LAYER_NOISE)
      fprintf(out, " std=%g", l->noise_std);
    if (l->shape.ndim)
      fprintf(out, " -> %s", shape_str(&l->shape, buf, sizeof buf));
    if (l->steps)
      fprintf(out, " steps=%d", l->steps);
    fprintf(out, "\n");
  }
  fprintf(out, "loss %s(%s, %s)", loss_name(m->loss), m->loss_out->name,
          m->target_is_input ? m->input->name : m->label_name);
  if (!m->target_is_input && m->label_steps)
    fprintf(out, " label_steps=%d classes=%d", m->label_steps, m->nclasses);
  fprintf(out, "\n");
  static const char *const srcs[] = {"none", "csv", "idx", "text", "series", "npy"};
  if (m->train_src.kind == SRC_TEXT || m->train_src.kind == SRC_SERIES ||
      m->test_src.kind == SRC_TEXT || m->test_src.kind == SRC_SERIES)
    fprintf(out, "data train=%s test=%s\n", srcs[m->train_src.kind], srcs[m->test_src.kind]);
  fprintf(out, "train %s lr=%g momentum=%g weight_decay=%g batch=%d epochs=%d shuffle=%s "
          "seed=%llu", opt_name(m->opt), m->lr, m->momentum, m->weight_decay, m->batch, m->epochs,
          m->shuffle ? "true" : "false", (unsigned long long)m->seed);
  if (m->clip > 0)
    fprintf(out, " clip=%g", m->clip);
  if (m->nesterov)
    fprintf(out, " nesterov=true");
  if (m->dampening > 0)
    fprintf(out, " dampening=%g", m->dampening);
  if (m->opt == OPT_ADAM || m->opt == OPT_ADAMW)
    fprintf(out, " beta1=%g beta2=%g eps=%g", m->beta1, m->beta2, m->eps);
  if (m->opt == OPT_RMSPROP)
    fprintf(out, " alpha=%g eps=%g", m->alpha, m->eps);
  if (m->sched != SCHED_NONE)
    fprintf(out, " schedule=%s every=%d gamma=%g epochs=%d min_lr=%g", schedules[m->sched - 1],
            m->sched_every, m->sched_gamma, m->sched_epochs, m->sched_min_lr);
  if (m->warmup > 0)
    fprintf(out, " warmup=%d", m->warmup);
  if (m->clip_value > 0)
    fprintf(out, " clip_value=%g", m->clip_value);
  if (m->val_frac > 0)
    fprintf(out, " validation=%g", m->val_frac);
  if (m->es != ES_NONE)
    fprintf(out, " early_stopping=%s patience=%d min_delta=%g", es_metrics[m->es - 1],
            m->es_patience, m->es_min_delta);
  fprintf(out, "\n");
}
