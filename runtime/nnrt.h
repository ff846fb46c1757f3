/* nnrt.h — the public API of libnnrt, the runtime that nncc's generated
 * trainers link against.  Everything here has the prefix nn_.
 *
 * Division of labour: the generated C file holds the model's math (forward,
 * backward, update, parameter init) specialised to constant shapes, and a
 * `const nn_model` descriptor; the runtime holds everything that does not
 * depend on the model's shapes: the trainer's command line, data loading,
 * shuffling and batching, the epoch loop, checkpoints, logs and the
 * gradient check.
 *
 * The runtime is always compiled with float data.  The generated file may be
 * compiled with -DNN_REAL=double (for gradient checks); it then reports
 * real_size == 8 and the runtime reads/writes parameters as double.
 */
#ifndef NNRT_H
#define NNRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ rng.c
 * PCG32 (M. O'Neill, "PCG: A Family of Simple Fast Space-Efficient
 * Statistically Good Algorithms for Random Number Generation", 2014),
 * the XSH-RR 64/32 variant with the reference seeding procedure. */
typedef struct nn_rng {
  uint64_t state, inc;
} nn_rng;

void nn_rng_seed(nn_rng *r, uint64_t seed, uint64_t stream);
uint32_t nn_rng_u32(nn_rng *r);
/* Uniform integer in [0, n), unbiased (rejection), n >= 1. */
uint32_t nn_rng_below(nn_rng *r, uint32_t n);
/* Uniform double in [0, 1) with 53 random bits (two draws). */
double nn_rng_uniform(nn_rng *r);
/* Standard normal N(0,1) by the Box-Muller transform; deterministic for a
 * given state (no cached second value: each call takes two uniforms). */
double nn_rng_normal(nn_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void nn_shuffle(nn_rng *r, int32_t *idx, int n);

/* Parameter initialisers used by generated code.  `p` points at n elements
 * of real (float if real_size == 4, double if 8). */
void nn_init_zeros(void *p, int real_size, size_t n);
void nn_init_const(void *p, int real_size, size_t n, double v);
void nn_init_uniform(void *p, int real_size, size_t n, double a, double b, nn_rng *r);
void nn_init_normal(void *p, int real_size, size_t n, double mean, double std, nn_rng *r);

/* ----------------------------------------------------------------- data_*.c */
typedef enum {
  NN_TARGET_NONE = 0, /* no target (prediction only) */
  NN_TARGET_CLASS,    /* one class index per sample, in [0, nclasses) */
  NN_TARGET_REAL,     /* ydim real values per sample */
  NN_TARGET_INPUT,    /* the target is the input itself (autoencoders) */
} nn_target_kind;

/* TEXT: a text file read as bytes, each byte a token (its id is its index
 *   in the vocabulary); SERIES: a CSV time series, one time step a row;
 *   NPY: NumPy .npy files, features and optional targets (nn_data_npy). */
typedef enum { NN_SRC_NONE = 0, NN_SRC_CSV, NN_SRC_IDX, NN_SRC_TEXT, NN_SRC_SERIES,
               NN_SRC_NPY } nn_src_kind;

/* Where a data set comes from, as written in the model's data block. */
typedef struct nn_source {
  nn_src_kind kind;
  const char *path;  /* CSV file, IDX images file (.gz or plain), NPY features */
  const char *path2; /* IDX labels file or NPY targets file, or NULL */
  int label_col;     /* CSV: 0-based first target column; -1: the last
                        ydim columns (or the last column for classes);
                        -k (k >= 2): the first target column is the k-th
                        from the end (Python's index -k) */
  int header;        /* CSV: 1 if the first line holds column names */
} nn_source;

/* What the model expects of a data set. */
typedef struct nn_data_spec {
  int dim;               /* features per sample */
  nn_target_kind target; /* CLASS, REAL, INPUT or NONE */
  int nclasses;          /* CLASS: labels must be integers in [0, nclasses) */
  int ydim;              /* REAL: target values per sample */
  double scale;          /* features are multiplied by this (1 = none) */
  int target_optional;   /* 1: a CSV with exactly `dim` columns (no target)
                            or an IDX without labels is accepted (predict) */
  /* Sequences (all 0 for other models). */
  int steps;             /* T > 0: a sample is T time steps (dim = T * features) */
  int tokens;            /* V > 0: the input is T token ids in [0, V) (dim == T) */
  int ncls;              /* CLASS: class indices per sample: 1, or T (int[T, K]) */
  int streams;           /* TEXT: B, the batch: the text is cut into B streams */
  const unsigned char *vocab; /* TEXT: the vocabulary to use (id -> byte), e.g.  */
  int nvocab;                 /* the training text's for the test text; NULL: build it */
  const char *vocab_from;     /* TEXT, for messages: where vocab comes from, e.g.
                                 "the checkpoint m.safetensors" (NULL: "the
                                 training text") */
} nn_data_spec;

typedef struct nn_dataset {
  char *name;   /* for messages: the path(s) */
  int n;        /* rows */
  int dim;      /* features per row */
  float *x;     /* n * dim, row-major, already scaled */
  int has_target; /* targets loaded (cls or y), or target INPUT */
  int32_t *cls; /* n * ncls class indices (CLASS), else NULL */
  float *y;     /* n * ydim values (REAL), else NULL */
  int ydim;
  /* TEXT: the vocabulary (id -> byte, nvocab <= 256; the distinct bytes of
   * the text in increasing order when built), the length in bytes and the
   * unigram entropy of the text in bits per character. */
  unsigned char vocab[256];
  int nvocab;
  long text_len;
  double unigram_bits;
  int distinct; /* TEXT: distinct bytes of this text (<= nvocab) */
  int ncls;     /* CLASS: class indices per row in cls (n * ncls of them):
                   1, or T; 0 means 1 (CSV, IDX) */
} nn_dataset;

/* Loaders.  Return 0 on success.  On error return -1, leave *out empty and
 * write one line to err (no trailing newline) that names the file, the
 * place and what was expected, e.g.
 *   "data/iris.csv:17: error: expected 5 columns, found 4"
 *   "data/iris.csv:17:3: error: 'abc' is not a number"
 *   "train-images.gz: error: images are 28x28 (784 values), the model's input needs 64"
 *   "labels.gz: offset 8: error: label 12 out of range 0..9"
 * CSV: comma-separated, optional header line, blank lines and a final
 * newline ignored, CRLF accepted.  IDX: big-endian magic 0x0000080N
 * (unsigned bytes), gzip'd or plain (read through zlib's gzread). */
int nn_data_csv(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                char *err, size_t errlen);
int nn_data_idx(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                char *err, size_t errlen);
/* TEXT (data_text.c): the file's bytes are token ids through the
 * vocabulary (spec->vocab, or the distinct bytes of the text in increasing
 * order when NULL).  With L bytes and B = spec->streams (0: 1) streams of
 * S = (L - 1) / B bytes, each stream holds W = S / T windows of T =
 * spec->steps; row r = w * B + s holds x[r][i] = id[s*S + w*T + i] and, for
 * CLASS targets, the ids shifted by one: cls[r][j] = id[s*S + w*T + T -
 * ncls + j + 1] (j < ncls: the next character of every step for ncls = T,
 * the character after the window for ncls = 1).  So batches of B
 * consecutive rows in file order continue every stream (truncated BPTT);
 * the last (L - 1) - B*W*T characters are not used.  Ids are not scaled.
 * SERIES (data_series.c): a CSV (src->header) of one time step a row with
 * F = dim / T numbers; sample i is rows i .. i+T-1 (T*F values, step-major,
 * scaled) and, for REAL targets, y = the first ydim values of row i+T
 * (unscaled, as CSV targets): n = rows - T samples (rows - T + 1 without
 * a target). */
int nn_data_text(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                 char *err, size_t errlen);
int nn_data_series(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                   char *err, size_t errlen);
/* Dispatch on src->kind. */
int nn_data_load(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                 char *err, size_t errlen);
void nn_data_free(nn_dataset *d);
/* Hold out round(frac * n) rows of d, chosen by a permutation drawn from
 * rng, into *held; d keeps the others.  Both keep the file order.  -1 with
 * a message in err when either part would be empty (or out of memory). */
int nn_data_split(nn_dataset *d, double frac, nn_rng *rng, nn_dataset *held, char *err,
                  size_t errlen);

/* ---------------------------------------------------------------- batch.c */
/* Copy rows order[start .. start+nb) of d into contiguous buffers:
 * xb (nb*dim), cb (nb*ncls, if d->cls), yb (nb*ydim, if d->y).  NULL
 * buffers are skipped. */
void nn_batch_gather(const nn_dataset *d, const int32_t *order, int start, int nb,
                     float *xb, int32_t *cb, float *yb);

/* ----------------------------------------------------- the model descriptor */
/* One learnable tensor, stored at params + offset (elements of real), in
 * PyTorch's layout (dense weight [out, in]).  kind: a learnable parameter
 * (NN_PARAM_LEARN, 0), or a buffer the forward pass updates (batchnorm's
 * running_mean and running_var: NN_PARAM_BUFFER, reals; its
 * num_batches_tracked: NN_PARAM_INT64, `size` int64_t values in the first
 * 8 * size bytes of its slot, I64 in checkpoints).  Buffers live in the
 * params arena, so checkpoints and the best-weights copy hold them; they
 * have no gradient, no optimizer touches them, gradcheck skips them and
 * the trainer's parameter count leaves them out. */
typedef enum { NN_PARAM_LEARN = 0, NN_PARAM_BUFFER, NN_PARAM_INT64 } nn_param_kind;
typedef struct nn_param {
  const char *name; /* "h1.weight", "h1.bias" */
  int ndim;
  int shape[4];
  size_t offset; /* in elements */
  size_t size;   /* elements */
  int kind;      /* nn_param_kind (appended: 0 in descriptors that do not set it) */
} nn_param;

/* The buffers of one model instance; sizes come from nn_model.  All are
 * 64-byte aligned, zeroed at allocation. */
typedef struct nn_ctx {
  void *params; /* params_size reals */
  void *grads;  /* params_size reals, same layout as params */
  void *state;  /* state_size reals: optimizer state (momentum, ...) */
  void *acts;   /* acts_size reals: activations and their gradients */
  uint64_t step; /* optimizer steps taken so far (nn_main increments it
                    after each update()) */
  /* The vocabulary of a token model (id -> byte), saved in and loaded from
   * checkpoints; nvocab == 0 when unknown. */
  unsigned char vocab[256];
  int nvocab;
  /* training: 1 while the trainer runs a training step (forward, backward,
   * update), 0 for evaluation, prediction and generation: layers that act
   * only in training (dropout, noise, batch statistics) read it.  seed: the
   * run's seed, for the masks and noise those layers draw (a function of
   * seed, step and element, so a step's forward is repeatable). */
  int training;
  uint64_t seed;
} nn_ctx;

typedef enum { NN_STOP_NONE, NN_STOP_LOSS, NN_STOP_ACCURACY } nn_early_stop;

/* A layer whose output layer_output() copies: its name and the floats of
 * one sample (steps x features for a sequence). */
typedef struct nn_layer_out {
  const char *name;
  long dim;
} nn_layer_out;
/* A learning-rate schedule (the train block's schedule and warmup keys).
 * Per epoch e = 0, 1, ... (as torch.optim.lr_scheduler, stepped once an
 * epoch): STEP lr0 gamma^floor(e / every) (StepLR); EXPONENTIAL lr0
 * gamma^e (ExponentialLR); COSINE min_lr + (lr0 - min_lr) (1 + cos(pi e /
 * epochs)) / 2 (CosineAnnealingLR's closed form; epochs 0: the run's
 * epochs).  warmup K > 0 multiplies the rate of optimizer step s = 0, 1,
 * ... by min(1, (s + 1) / K) (LinearLR(start_factor = 1/K, total_iters =
 * K - 1), stepped every batch). */
typedef enum { NN_SCHED_NONE = 0, NN_SCHED_STEP, NN_SCHED_EXPONENTIAL, NN_SCHED_COSINE } nn_sched_kind;
typedef struct nn_schedule {
  nn_sched_kind kind;
  int every;     /* STEP: epochs between decays */
  double gamma;  /* STEP, EXPONENTIAL: the factor */
  int epochs;    /* COSINE: the half period T_max in epochs (0: the run's) */
  double min_lr; /* COSINE: eta_min */
  int warmup;    /* steps of linear warm-up (0: none) */
} nn_schedule;

typedef struct nn_model {
  const char *name;    /* the model's name */
  const char *source;  /* the .nn file nncc compiled */
  uint64_t hash;       /* FNV-1a 64 of the parameter layout (names, shapes) */
  int real_size;       /* sizeof(real) in the generated code: 4 or 8 */
  int batch;           /* B: the most rows one call handles */
  int in_ndim;
  int in_shape[4];     /* one sample */
  int in_dim;          /* product of in_shape */
  int out_dim;         /* features of the model's output per sample */
  nn_target_kind target;
  int nclasses;        /* CLASS */
  int ydim;            /* REAL */
  int has_accuracy;    /* 1: forward() counts correct predictions */
  /* Sequence models (0 for others).  A sequence input holds T = steps
   * positions: with vocab > 0, T token ids (in_dim == T, the ids as floats);
   * else T steps of in_dim / T features.  ncls: class indices per sample
   * (1, or T for a label int[T, K]; cls then holds nb * ncls).  A
   * sequence output is out_dim = T * features, step-major per row.
   * stateful: the hidden state carries from one forward() to the next, so
   * batches must come in stream order (no shuffling); reset() zeroes it
   * (NULL when there is no state).  out_logits: the output is logits (an
   * identity output layer) rather than probabilities. */
  int steps, vocab, ncls, stateful, out_logits;
  const char *loss_name;
  /* data block (kind NN_SRC_NONE where the model gives none) */
  nn_source train, test;
  double scale;
  /* train block: the defaults of the trainer's options */
  const char *optimizer;
  int epochs;
  double lr, momentum, weight_decay;
  int shuffle;
  uint64_t seed;
  /* parameters and buffer sizes */
  int nparams;
  const nn_param *params;
  size_t params_size, state_size, acts_size;
  /* Entry points. x is nb*in_dim floats (scaled); cls nb class indices or
   * NULL; y nb*ydim floats or NULL.  1 <= nb <= batch.
   * init: fill params from rng, zero the optimizer state.
   * forward: run the network; if targets are given (cls or y non-NULL, or
   *   target == NN_TARGET_INPUT) return the mean loss over the batch and add
   *   the number of correct predictions to *correct (may be NULL);
   *   otherwise return 0.  *correct counts rows: a row with several target
   *   values adds the fraction of them that is right, so the runtime's
   *   accuracy is correct / rows.
   * backward: after forward with targets, set grads to d(mean loss)/d(param).
   * update: one optimizer step with learning rate lr from grads.
   * output: after forward, copy the model's output rows (nb*out_dim).
   * set_threads: OpenMP thread count (no-op without OpenMP). */
  void (*init)(nn_ctx *c, nn_rng *rng);
  double (*forward)(nn_ctx *c, const float *x, const int32_t *cls, const float *y,
                    int nb, double *correct);
  void (*backward)(nn_ctx *c, const int32_t *cls, const float *y, int nb);
  void (*update)(nn_ctx *c, double lr);
  void (*output)(nn_ctx *c, int nb, float *out);
  void (*set_threads)(int n);
  void (*reset)(nn_ctx *c);
  /* Validation (train block `validation = F`, data block `validation =
   * SOURCE`): val_frac of the training rows held out, or the rows of valid;
   * early stopping watches its loss or accuracy, stopping after `patience`
   * epochs without an improvement of more than min_delta, and restores the
   * best epoch's parameters. */
  nn_source valid;
  double val_frac;
  /* The layers --predict --layer NAME can write, and the copy:
   * layer_output(c, k, nb, out) after forward() writes nb * layers[k].dim
   * floats, row after row. */
  int nlayers;
  const nn_layer_out *layers;
  void (*layer_output)(nn_ctx *c, int k, int nb, float *out);
  nn_early_stop early_stop;
  int patience;
  double min_delta;
  /* Appended fields (zero in descriptors that do not set them). */
  nn_schedule schedule; /* kind NONE and warmup 0: a constant lr */
} nn_model;

/* Allocate (aligned, zeroed) and free a context's buffers. */
int nn_ctx_alloc(nn_ctx *c, const nn_model *m);
void nn_ctx_free(nn_ctx *c);

/* ----------------------------------------------------------------- ckpt.c
 * Checkpoints in the safetensors layout: 8-byte little-endian header
 * length, a JSON header {"name": {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]}, ..., "__metadata__": {...}}, then the raw
 * little-endian data.  Tensors carry the model's parameter names, so
 * torch's safetensors.torch.load_file() gives a state_dict for the
 * equivalent nn.Module.  Metadata: "model", "hash" (hex), "nncc_format",
 * and when c->nvocab > 0 "vocab": the vocabulary's bytes in id order as
 * lowercase hex, two digits a byte ("0a2061" is "\n", " ", "a").
 * Saving writes path.tmp, flushes, fsyncs and renames it over path. */
int nn_ckpt_save(const char *path, const nn_model *m, const nn_ctx *c,
                 char *err, size_t errlen);
/* Load parameters; F32 and F64 files load into either real type.  Refuses
 * (returns -1 with a message) a file whose tensor names or shapes differ
 * from the model's, naming the first difference, and truncated or malformed
 * files.  On success c->vocab / c->nvocab are the file's "vocab" (nvocab 0
 * when it has none); a failed load changes nothing in c. */
int nn_ckpt_load(const char *path, const nn_model *m, nn_ctx *c,
                 char *err, size_t errlen);

/* -------------------------------------------------------------- gradcheck.c
 * Compare the generated backward pass with central finite differences of
 * the loss: random inputs x ~ N(0,1) (a token model: ids uniform in
 * [0, vocab), as floats), random targets (classes uniform, nb * ncls of
 * them; real targets uniform in [0,1)), nb rows.  A model with reset() is
 * reset before every loss evaluation, so each starts from the same
 * state.  For each parameter tensor, up to
 * `per_tensor` elements (all if fewer) are checked.  Prints one line per
 * tensor (name, elements checked, max abs and rel error) to stdout and
 * returns the number of elements whose error exceeds
 * |a - n| > atol + rtol * max(|a|, |n|).  Meant for real_size == 8.
 * Step h = 1e-5 (1e-3 for real_size 4).  Inputs and element choices come
 * from rng stream 7 of `seed`; the parameters and buffers (params arena) are
 * restored afterwards; buffers (nn_param.kind != LEARN) are not checked.
 * Returns -1 if out of memory. */
int nn_gradcheck(const nn_model *m, nn_ctx *c, uint64_t seed, int nb, int per_tensor,
                 double rtol, double atol);

/* ------------------------------------------------------------------ main.c
 * The trainer: parses options, loads data, trains, evaluates, saves.
 * Returns the process exit status (0 ok, 1 bad data/checkpoint/NaN,
 * 2 usage). */
int nn_main(int argc, char **argv, const nn_model *m);
/* The learning rate of optimizer step `step` (0-based, counted over the
 * whole run) in epoch `epoch` (0-based) of `epochs`, from base rate lr and
 * the schedule s (see nn_schedule); lr itself when there is none. */
double nn_schedule_lr(const nn_schedule *s, double lr, int epoch, int epochs, uint64_t step);

/* -------------------------------------------------- data_npy.c, plot.c
 * NPY (data_npy.c): NumPy .npy files (np.save), format versions 1.0, 2.0
 * and 3.0, C order (fortran_order False), dtypes float32 '<f4', float64
 * '<f8', uint8 '|u1', int32 '<i4', int64 '<i8' in either byte order.
 * src->path holds the features, shape (N, d1, ...) with d1*...*dk ==
 * spec->dim (shape (N,) for dim 1): every value finite, times spec->scale
 * (token ids: integers in [0, spec->tokens), unscaled).  src->path2 (or
 * NULL) holds the targets of the same N rows: CLASS: shape (N,) (or (N,
 * T) for ncls = T) of integral class indices in [0, nclasses); REAL: (N,
 * ydim) (or (N,) for ydim 1) finite values, unscaled.  Errors name the file
 * and, where there is one, the byte offset:
 *   "y.npy: offset 184: error: label 7 at index [5] out of range 0..2" */
int nn_data_npy(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                char *err, size_t errlen);

/* Training curves as a self-contained SVG (plot.c): a loss panel (train and,
 * when test_loss is not NULL, test) and, when train_acc or test_acc is not
 * NULL, an accuracy panel below it (fractions in [0, 1], drawn as
 * percent); x is epoch[i], i < n.  Non-finite values (NaN for a missing
 * figure) and values of magnitude >= 1e100 are skipped: a series is drawn
 * as polylines through its drawn points, broken where a value is
 * missing, a point with no drawn neighbour as a dot; a series with no
 * drawn point is left out (an accuracy panel with none is not drawn).
 * Axes have ticks at 1, 2 or 5 times a power of ten; the bytes depend
 * only on the arguments.  title may be NULL.  Returns 0, or -1 with
 * "path: error: ..." in err. */
int nn_plot_svg(const char *path, const char *title, int n, const double *epoch,
                const double *train_loss, const double *test_loss, const double *train_acc,
                const double *test_acc, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
