/* main.c — the trainer's command line and epoch loop (nn_main).
 *
 * Determinism: parameters are initialised from rng stream 0 of --seed, the
 * epoch orders drawn from stream 1 and --generate's samples from stream 3;
 * nothing depends on the clock except the timing figures that are printed.
 *
 * Sequence models: a stateful model (m->stateful) carries its hidden state
 * from one forward() to the next, so its batches always come in file order
 * (text data is laid out so that consecutive batches continue every
 * stream); m->reset, when there is one, is called at the start of every
 * epoch, of every evaluation pass, of --predict and before each step of
 * --generate.  A text training run's vocabulary (its distinct bytes) is
 * kept in the context and saved in the checkpoint; the test text is read
 * through it, and a checkpoint's vocabulary, when it has one, is used for
 * every text.
 *
 * Data parallelism (a trainer linked with libnnrt_mpi.a, run under mpirun
 * -np N; mpi.c): every rank loads all the data and draws the same epoch
 * order; global batch k is rows [k N B, (k + 1) N B) of it, and rank r
 * trains its slice [k N B + r B, k N B + (r + 1) B) (the last, short global
 * batch: what is left, possibly nothing).  The gradient each rank's
 * backward() leaves is the mean over its nb_r rows; scaled by nb_r / G
 * and summed over the ranks (one allreduce of the grads arena) it is the
 * mean over the G rows of the global batch, the gradient of one process
 * with batch N B up to the order of the sums.  Every rank then runs the
 * same update(), so the parameters stay identical (checked after every
 * epoch).  A small allreduce before it carries the batch's loss and
 * correct counts, and each rank's verdicts (a non-finite loss or
 * gradient, a signal), so that every decision to stop is taken by all
 * ranks at the same step.  Rank 0 alone writes stdout, --log, --plot,
 * --save and checkpoints.  With N = 1 (and in the plain libnnrt.a) the
 * loop is the single-process one.
 */
#include "nnrt.h"
#include "nnrt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define NN_RNG_INIT 0    /* stream of parameter initialisation */
#define NN_RNG_SHUFFLE 1 /* stream of the epoch orders */
#define NN_RNG_BENCH 2   /* stream of --bench's random batch */
#define NN_RNG_GENERATE 3 /* stream of --generate's samples */
#define NN_RNG_SPLIT 4    /* stream of the validation = F hold-out */
#define NN_BENCH_WARMUP 10 /* untimed steps before --bench's timed ones */

typedef struct nn_opts {
  int epochs;
  double lr;
  uint64_t seed;
  int threads; /* 0: leave OpenMP's default */
  const char *train, *test, *valid, *save, *load, *predict, *output, *log;
  const char *layer; /* --layer NAME: --predict writes that layer's output */
  int eval, quiet, gradcheck;
  int bench, bench_infer; /* timed steps of --bench / --bench-infer (0: off) */
  int generate;           /* characters --generate samples; -1: off */
  const char *prime;      /* --prime, or NULL */
  double temperature;     /* --temperature (1 by default) */
  int temperature_set;
  const char *plot;       /* --plot FILE.svg: the training curves */
  const char *checkpoint; /* --checkpoint FILE: the training state's file */
  const char *resume;     /* --resume FILE */
  int ck_steps, ck_epochs; /* --checkpoint-every N steps / N epochs (0: off) */
  int seed_set, lr_set, epochs_set; /* given on the command line */
} nn_opts;

/* One run of the trainer: the model, its context and the batch buffers. */
typedef struct nn_run {
  const char *prog;
  const nn_model *m;
  nn_opts o;
  nn_ctx c;
  float *xb, *yb, *out;
  int32_t *cb;
  char vocab_from[1100]; /* where c.vocab came from, for messages */
  double lr; /* the rate of the last training step (the schedule's) */
  nn_resume rs;        /* --resume's state, until training takes it */
  char ck_path[1100];  /* where the training state goes */
  int rank, size;      /* this process's MPI rank and the ranks (0 of 1 without MPI) */
  int gbatch;          /* the global batch: size * m->batch rows a step */
  int stop;            /* the signal every rank agreed to stop on, or 0 */
  double comm_secs;    /* in the steps' allreduces (waiting for the others too) */
  char prog_rank[160]; /* "train (rank 3)": the prog of a rank > 0 */
} nn_run;

/* Loss and accuracy over a data set; acc < 0 when the model has none. */
typedef struct nn_stats {
  double loss, acc;
} nn_stats;

static double nn_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *nn_basename(const char *s) {
  const char *b = strrchr(s, '/');
  return b ? b + 1 : s;
}

/* Under MPI, ranks > 0 leave usage errors to rank 0: every rank parses the
 * same command line and reaches the same verdict. */
static int nn_usage_silent;

static int nn_usage_error(const char *prog, const char *fmt, ...) {
  if (nn_usage_silent)
    return -1;
  fprintf(stderr, "%s: error: ", prog);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s --help'.\n", prog);
  return -1;
}

/* ------------------------------------------------------------------ options */

static int nn_parse_int(const char *s, long lo, long hi, int *v) {
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || x < lo || x > hi)
    return -1;
  *v = (int)x;
  return 0;
}

static int nn_parse_u64(const char *s, uint64_t *v) {
  char *end;
  errno = 0;
  while (*s == ' ')
    s++;
  if (*s == '-' || *s == '+')
    return -1;
  unsigned long long x = strtoull(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0)
    return -1;
  *v = (uint64_t)x;
  return 0;
}

static int nn_parse_pos_double(const char *s, double *v) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end != '\0' || errno != 0 || !isfinite(x) || x <= 0)
    return -1;
  *v = x;
  return 0;
}

static void nn_source_text(const nn_source *s, char *buf, size_t len) {
  if (s->kind == NN_SRC_CSV || s->kind == NN_SRC_TEXT || s->kind == NN_SRC_SERIES)
    snprintf(buf, len, "%s", s->path);
  else if (s->kind == NN_SRC_IDX || s->kind == NN_SRC_NPY)
    snprintf(buf, len, "%s%s%s", s->path, s->path2 ? "," : "", s->path2 ? s->path2 : "");
  else
    snprintf(buf, len, "none");
}

static size_t nn_param_count(const nn_model *m) {
  size_t n = 0;
  for (int i = 0; i < m->nparams; i++) /* learnable ones: not buffers */
    n += m->params[i].kind == NN_PARAM_LEARN ? m->params[i].size : 0;
  return n;
}

/* Batches in file order: unshuffled, or a stateful model. */
static int nn_file_order(const nn_model *m) { return !m->shuffle || m->stateful; }

/* Token models with class targets report the loss in bits per character. */
static int nn_bits_per_char(const nn_model *m) {
  return m->vocab > 0 && m->target == NN_TARGET_CLASS;
}

/* The kind of data the model reads: its training source's, else its test
 * source's, else CSV/IDX (NONE) or, for a token model, text. */
static nn_src_kind nn_model_data_kind(const nn_model *m) {
  if (m->train.kind != NN_SRC_NONE)
    return m->train.kind;
  if (m->test.kind != NN_SRC_NONE)
    return m->test.kind;
  return m->vocab > 0 ? NN_SRC_TEXT : NN_SRC_NONE;
}

static void nn_help(const char *prog, const nn_model *m) {
  char train[512], test[512], valid[512];
  nn_source_text(&m->train, train, sizeof train);
  nn_source_text(&m->test, test, sizeof test);
  if (m->valid.kind != NN_SRC_NONE)
    nn_source_text(&m->valid, valid, sizeof valid);
  else if (m->val_frac > 0)
    snprintf(valid, sizeof valid, "%g of the training rows, held out", m->val_frac);
  else
    snprintf(valid, sizeof valid, "none");
  printf("usage: %s [options]\n"
         "Trains model '%s' (compiled by nncc from %s): %zu parameters, loss %s.\n\n"
         "Options (the model's defaults in brackets):\n"
         "  --epochs N      training epochs [%d]\n"
         "  --lr X          learning rate of the %s optimizer, > 0 [%g]\n"
         "  --seed N        seed of parameter init and shuffling [%llu]\n"
         "  --threads N     OpenMP threads [the OpenMP default]\n"
         "  --train FILE    training data [%s]\n"
         "  --test FILE     test data, evaluated after every epoch [%s]\n"
         "  --validation FILE  validation data, evaluated after every epoch and\n"
         "                  watched by early stopping [%s]\n"
         "  --load FILE     load parameters from a checkpoint before anything else\n"
         "  --save FILE     save a checkpoint (safetensors) after training [none]\n"
         "  --checkpoint FILE  where the training state goes: parameters, optimizer\n"
         "                  state, step, shuffle stream and order, position in the\n"
         "                  epoch, early-stopping record; written after training, at\n"
         "                  --checkpoint-every and on SIGINT/SIGTERM [%s.resume.safetensors]\n"
         "  --checkpoint-every N[epochs] | Nsteps  also write it every N epochs or steps\n"
         "  --resume FILE   go on from a training state: the result is bitwise that of\n"
         "                  a run that never stopped; keeps its seed, and its --lr and\n"
         "                  --epochs (the total, not more) unless given\n"
         "  --eval          only evaluate: the test data, or the training data\n"
         "                  if there is no test data; no training\n"
         "  --predict FILE  only run the model on FILE's rows and write one CSV\n"
         "                  line of %d outputs per row (targets in FILE are ignored)\n"
         "  --output FILE   where --predict (or --generate) writes [stdout]\n"
         "  --layer NAME    --predict writes layer NAME's output instead of the\n"
         "                  model's (e.g. an autoencoder's code) [the model's output]\n"
         "  --log FILE      per-epoch metrics as CSV: epoch,train_loss,train_acc,\n"
         "                  test_loss,test_acc,samples_per_s,elapsed_s (accuracies\n"
         "                  are fractions in [0, 1]; empty where there are none)\n"
         "  --plot FILE.svg draw loss and accuracy per epoch, train and test, as SVG\n"
         "                  after training (the epochs of this run)\n"
         "  --quiet         print only the final summary line\n"
         "  --gradcheck     compare backward() with finite differences on random\n"
         "                  data (meaningful with -DNN_REAL=double); exit 1 on failure\n"
         "  --bench STEPS   time STEPS training steps (forward, backward, update) on\n"
         "                  one batch of random data (no data files) after %d warm-up\n"
         "                  steps; print one line: bench model=... samples_per_s=...\n"
         "  --bench-infer STEPS  the same for forward passes only (mode=infer)\n",
         prog, m->name, m->source, nn_param_count(m), m->loss_name, m->epochs,
         m->optimizer, m->lr, (unsigned long long)m->seed, train, test, valid, m->name,
         m->out_dim, NN_BENCH_WARMUP);
  if (m->vocab > 0)
    printf("  --generate N    only sample N characters (the model needs an output of V\n"
           "                  probabilities or logits at each of its T steps) and write\n"
           "                  the prime and them to stdout or --output, nothing else;\n"
           "                  the vocabulary comes from --load's checkpoint, else from the\n"
           "                  training text.  Each character is one forward pass over the\n"
           "                  last %d characters (reset first); samples come from --seed\n"
           "  --prime STR     the text the generation continues [a newline if the\n"
           "                  vocabulary has one, else its first character]\n"
           "  --temperature X sampling temperature, > 0: probabilities p^(1/X)\n"
           "                  renormalised (logits: softmax(z / X)); small X is nearly\n"
           "                  greedy, large X nearly uniform [1]\n",
           m->steps);
  printf("  --help          this text\n"
         "  --version       the model and runtime versions\n\n");
  nn_src_kind kind = nn_model_data_kind(m);
  if (kind == NN_SRC_TEXT)
    printf("FILE is a text file read as bytes, one character a token (model input\n"
           "int[%d, %d]).  The training text's distinct bytes, in increasing order, are\n"
           "the vocabulary (saved in the checkpoint); other texts must use only its\n"
           "characters.  The text is cut into %d streams (the batch), each into windows\n"
           "of %d characters; the targets are the characters one step ahead.\n"
           "Batch k holds the k-th window of every stream, so a model that carries its\n"
           "state from one batch to the next continues each stream (truncated\n"
           "backpropagation through time); the characters after the last whole window\n"
           "of each stream are not used.  --predict writes a line per window in that\n"
           "order.  The loss is also given in bits per character (loss / ln 2).\n",
           m->steps, m->vocab, m->batch, m->steps);
  else if (kind == NN_SRC_SERIES)
    printf("FILE is a CSV time series, one time step a row of %d values (the header\n"
           "setting of the model's training data).  A sample is a window of %d rows and\n"
           "its target the first %d values of the row after it; --predict forecasts\n"
           "the row after every window, the file's last included.\n",
           m->steps > 0 ? m->in_dim / m->steps : m->in_dim, m->steps, m->ydim);
  else
    printf("FILE is a CSV file, IDX files IMAGES[,LABELS] (gzip'd or plain) or NumPy\n"
           "files X.npy[,Y.npy] (the kind is recognised from the content).  A CSV given\n"
           "here uses the header and label column of the model's training CSV (else: no\n"
           "header, target in the last column).\n");
  printf("Training runs batches of %d rows (compiled in), %s.\n", m->batch,
         m->stateful ? "rows in file order" : m->shuffle ? "rows shuffled every epoch"
                                                         : "rows in file order");
  if (m->stateful)
    printf("The model is stateful: its hidden state carries from one batch to the next\n"
           "and is reset at the start of every epoch and evaluation.\n");
  printf("An epoch's last batch keeps the remaining rows: it may be smaller, no row\n"
         "is dropped.\n");
  printf("A non-finite loss or gradient stops training with a message naming the step\n"
         "and the layer or tensor where it appeared; no checkpoint is written then, so\n"
         "the last one is kept.  SIGINT or SIGTERM saves the training state and stops.\n");
  printf("Under mpirun -np N (a trainer linked with libnnrt_mpi.a) a step trains N x %d\n"
         "rows, %d on each rank, with the gradients summed over the ranks: the result of\n"
         "one process of batch N x %d.  Rank 0 alone prints and writes files; --predict,\n"
         "--generate, --gradcheck and --bench run in one process.\n", m->batch, m->batch,
         m->batch);
  printf("Exit status: 0 ok, 1 data, checkpoint or training error (or a failed\n"
         "--gradcheck), 2 usage error, 128 + N after signal N (state saved).\n");
}

enum {
  OPT_EPOCHS = 256, OPT_LR, OPT_SEED, OPT_THREADS, OPT_TRAIN, OPT_TEST, OPT_VALID, OPT_LAYER, OPT_SAVE, OPT_LOAD,
  OPT_EVAL, OPT_PREDICT, OPT_OUTPUT, OPT_LOG, OPT_QUIET, OPT_GRADCHECK, OPT_VERSION,
  OPT_BENCH, OPT_BENCH_INFER, OPT_GENERATE, OPT_PRIME, OPT_TEMPERATURE, OPT_CHECKPOINT,
  OPT_CHECKPOINT_EVERY, OPT_RESUME, OPT_PLOT
};

static const struct option nn_long_opts[] = {
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"lr", required_argument, NULL, OPT_LR},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"train", required_argument, NULL, OPT_TRAIN},
    {"test", required_argument, NULL, OPT_TEST},
    {"validation", required_argument, NULL, OPT_VALID},
    {"layer", required_argument, NULL, OPT_LAYER},
    {"save", required_argument, NULL, OPT_SAVE},
    {"load", required_argument, NULL, OPT_LOAD},
    {"eval", no_argument, NULL, OPT_EVAL},
    {"predict", required_argument, NULL, OPT_PREDICT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"log", required_argument, NULL, OPT_LOG},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"gradcheck", no_argument, NULL, OPT_GRADCHECK},
    {"bench", required_argument, NULL, OPT_BENCH},
    {"bench-infer", required_argument, NULL, OPT_BENCH_INFER},
    {"generate", required_argument, NULL, OPT_GENERATE},
    {"prime", required_argument, NULL, OPT_PRIME},
    {"temperature", required_argument, NULL, OPT_TEMPERATURE},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* --checkpoint-every: "N" or "Nepochs" (epochs), "Nsteps" (optimizer
 * steps); N >= 1. */
static int nn_parse_every(const char *s, int *steps, int *epochs) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *s == '-' || *s == '+' || errno || v < 1 || v > INT_MAX)
    return -1;
  *steps = *epochs = 0;
  if (strcmp(end, "steps") == 0 || strcmp(end, "step") == 0)
    *steps = (int)v;
  else if (*end == '\0' || strcmp(end, "epochs") == 0 || strcmp(end, "epoch") == 0)
    *epochs = (int)v;
  else
    return -1;
  return 0;
}

/* One option with its argument; -1 on a bad value. */
static int nn_opt(nn_run *R, int c, const char *arg) {
  nn_opts *o = &R->o;
  switch (c) {
  case OPT_EPOCHS:
    if (nn_parse_int(arg, 0, INT_MAX, &o->epochs))
      return nn_usage_error(R->prog, "--epochs needs a whole number >= 0, got '%s'", arg);
    o->epochs_set = 1;
    break;
  case OPT_LR:
    if (nn_parse_pos_double(arg, &o->lr))
      return nn_usage_error(R->prog, "--lr needs a number > 0, got '%s'", arg);
    o->lr_set = 1;
    break;
  case OPT_SEED:
    if (nn_parse_u64(arg, &o->seed))
      return nn_usage_error(R->prog, "--seed needs a whole number >= 0, got '%s'", arg);
    o->seed_set = 1;
    break;
  case OPT_CHECKPOINT: o->checkpoint = arg; break;
  case OPT_RESUME: o->resume = arg; break;
  case OPT_PLOT: o->plot = arg; break;
  case OPT_CHECKPOINT_EVERY:
    if (nn_parse_every(arg, &o->ck_steps, &o->ck_epochs))
      return nn_usage_error(R->prog, "--checkpoint-every needs N, Nepochs or Nsteps with a "
                                     "whole number N >= 1, got '%s'", arg);
    break;
  case OPT_THREADS:
    if (nn_parse_int(arg, 1, 4096, &o->threads))
      return nn_usage_error(R->prog, "--threads needs a whole number >= 1, got '%s'", arg);
    break;
  case OPT_TRAIN: o->train = arg; break;
  case OPT_TEST: o->test = arg; break;
  case OPT_VALID: o->valid = arg; break;
  case OPT_LAYER: o->layer = arg; break;
  case OPT_SAVE: o->save = arg; break;
  case OPT_LOAD: o->load = arg; break;
  case OPT_EVAL: o->eval = 1; break;
  case OPT_PREDICT: o->predict = arg; break;
  case OPT_OUTPUT: o->output = arg; break;
  case OPT_LOG: o->log = arg; break;
  case OPT_QUIET: o->quiet = 1; break;
  case OPT_GRADCHECK: o->gradcheck = 1; break;
  case OPT_BENCH:
  case OPT_BENCH_INFER:
    if (nn_parse_int(arg, 1, INT_MAX, c == OPT_BENCH ? &o->bench : &o->bench_infer))
      return nn_usage_error(R->prog, "--%s needs a whole number >= 1, got '%s'",
                            c == OPT_BENCH ? "bench" : "bench-infer", arg);
    break;
  case OPT_GENERATE:
    if (nn_parse_int(arg, 0, INT_MAX, &o->generate))
      return nn_usage_error(R->prog, "--generate needs a whole number >= 0, got '%s'", arg);
    break;
  case OPT_PRIME:
    if (!*arg)
      return nn_usage_error(R->prog, "--prime needs at least one character");
    o->prime = arg;
    break;
  case OPT_TEMPERATURE:
    if (nn_parse_pos_double(arg, &o->temperature))
      return nn_usage_error(R->prog, "--temperature needs a number > 0, got '%s'", arg);
    o->temperature_set = 1;
    break;
  default:
    return nn_usage_error(R->prog, "bad option");
  }
  return 0;
}

/* Options that contradict each other. */
static int nn_opts_check(nn_run *R) {
  const nn_opts *o = &R->o;
  int gen = o->generate >= 0;
  int modes = o->eval + (o->predict != NULL) + o->gradcheck + gen;
  int benches = (o->bench > 0) + (o->bench_infer > 0);
  if (modes > 1)
    return nn_usage_error(R->prog, "--eval, --predict, --generate and --gradcheck exclude "
                                   "each other");
  if (benches > 1 || (benches && modes))
    return nn_usage_error(R->prog, "--bench and --bench-infer exclude each other and "
                                   "--eval, --predict, --generate and --gradcheck");
  if (o->layer && !o->predict)
    return nn_usage_error(R->prog, "--layer goes with --predict");
  if (o->output && !o->predict && !gen)
    return nn_usage_error(R->prog, "--output goes with --predict or --generate");
  if ((o->prime || o->temperature_set) && !gen)
    return nn_usage_error(R->prog, "%s goes with --generate",
                          o->prime ? "--prime" : "--temperature");
  if (o->resume && o->load)
    return nn_usage_error(R->prog, "--resume and --load exclude each other (--resume loads the "
                                   "parameters too)");
  const char *train_only = o->save ? "--save" : o->log ? "--log" : o->plot ? "--plot"
                           : o->checkpoint ? "--checkpoint"
                           : o->resume ? "--resume" : o->ck_steps || o->ck_epochs
                           ? "--checkpoint-every" : NULL;
  if ((modes || benches) && train_only)
    return nn_usage_error(R->prog, "%s goes with training, not with %s", train_only,
                          o->eval ? "--eval" : o->predict ? "--predict"
                          : o->gradcheck ? "--gradcheck" : gen ? "--generate"
                          : o->bench ? "--bench" : "--bench-infer");
  if (benches && (o->train || o->test || o->valid))
    return nn_usage_error(R->prog, "%s uses random data, not --train or --test",
                          o->bench ? "--bench" : "--bench-infer");
  if (gen && o->test)
    return nn_usage_error(R->prog, "--generate reads no test data (--test); the vocabulary "
                                   "comes from --load or --train");
  if (R->size > 1 && (o->predict || gen || o->gradcheck || benches))
    return nn_usage_error(R->prog, "%s runs in one process, not under mpirun with %d ranks "
                                   "(which trains and evaluates): run it without mpirun",
                          o->predict ? "--predict" : gen ? "--generate"
                          : o->gradcheck ? "--gradcheck" : o->bench ? "--bench" : "--bench-infer",
                          R->size);
  return 0;
}

/* 0: run; 1: done (help, version); -1: usage error. */
static int nn_parse_args(nn_run *R, int argc, char **argv) {
  const nn_model *m = R->m;
  R->o = (nn_opts){.epochs = m->epochs, .lr = m->lr, .seed = m->seed, .generate = -1,
                   .temperature = 1};
  optind = 0; /* glibc: full re-initialisation, so nn_main can run twice */
  int c;
  while ((c = getopt_long(argc, argv, "h", nn_long_opts, NULL)) != -1) {
    if (c == 'h') {
      nn_help(R->prog, m);
      return 1;
    }
    if (c == OPT_VERSION) {
      printf("%s: model '%s' (%s), nncc runtime libnnrt 1, checkpoint format 1, %s\n",
             R->prog, m->name, m->source, m->real_size == 8 ? "double" : "float");
      return 1;
    }
    if (c == '?' || c == ':') {
      if (!nn_usage_silent)
        fprintf(stderr, "Try '%s --help'.\n", R->prog);
      return -1;
    }
    if (nn_opt(R, c, optarg))
      return -1;
  }
  if (optind < argc)
    return nn_usage_error(R->prog, "unexpected argument '%s'", argv[optind]);
  return nn_opts_check(R);
}

/* --------------------------------------------------------------------- data */

/* IDX files start with 00 00 08 N, after gunzipping if they are gzip'd. */
static int nn_sniff_idx(const char *path) {
  gzFile gz = gzopen(path, "rb");
  if (!gz)
    return 0;
  unsigned char b[4];
  int n = gzread(gz, b, 4);
  gzclose(gz);
  return n == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08;
}

/* A source from a command-line FILE: for a model that reads text or a
 * series, the same kind (a series with the header setting of the model's);
 * else "A,B" is NPY when A starts with the .npy magic and IDX otherwise,
 * and a single file is NPY, IDX or CSV by content.  *owned keeps the split
 * string. */
static void nn_source_arg(const nn_model *m, const char *arg, nn_source *s, char **owned) {
  memset(s, 0, sizeof *s);
  *owned = NULL;
  nn_src_kind kind = nn_model_data_kind(m);
  if (kind == NN_SRC_TEXT || kind == NN_SRC_SERIES) {
    s->kind = kind;
    s->path = arg;
    s->header = m->train.kind == kind ? m->train.header : m->test.kind == kind ? m->test.header : 0;
    s->label_col = -1;
    return;
  }
  const char *comma = strchr(arg, ',');
  if (comma && (*owned = strdup(arg)) != NULL) {
    (*owned)[comma - arg] = '\0';
    s->kind = nn_npy_sniff(*owned) ? NN_SRC_NPY : NN_SRC_IDX;
    s->path = *owned;
    s->path2 = *owned + (comma - arg) + 1;
    return;
  }
  s->path = arg;
  if (nn_npy_sniff(arg)) {
    s->kind = NN_SRC_NPY;
    return;
  }
  if (nn_sniff_idx(arg)) {
    s->kind = NN_SRC_IDX;
    return;
  }
  s->kind = NN_SRC_CSV;
  s->header = m->train.kind == NN_SRC_CSV ? m->train.header : 0;
  s->label_col = m->train.kind == NN_SRC_CSV ? m->train.label_col : -1;
}

/* What the model expects of training and test data.  An autoencoder's
 * (INPUT) data may carry one label column, which is skipped. */
static nn_data_spec nn_spec(const nn_model *m) {
  nn_data_spec s = {.dim = m->in_dim, .target = m->target, .nclasses = m->nclasses,
                    .ydim = m->ydim, .scale = m->scale, .steps = m->steps,
                    .tokens = m->vocab, .ncls = m->ncls, .streams = m->batch};
  if (m->target == NN_TARGET_INPUT) {
    s.ydim = 1;
    s.target_optional = 1;
  }
  return s;
}

/* Prediction input: features only; target columns, if present, skipped. */
static nn_data_spec nn_spec_predict(const nn_model *m) {
  nn_data_spec s = nn_spec(m);
  s.target = NN_TARGET_NONE;
  s.ydim = m->target == NN_TARGET_REAL ? m->ydim : 1;
  s.target_optional = 1;
  return s;
}

/* The source of the command-line FILE if given, else the model's. */
static nn_source nn_pick_source(nn_run *R, const char *arg, const nn_source *model_src,
                                char **owned) {
  nn_source s = *model_src;
  *owned = NULL;
  if (arg)
    nn_source_arg(R->m, arg, &s, owned);
  return s;
}

/* Load from the command-line FILE if given, else from the model's source;
 * 0 with d->n == 0 when there is neither.  A text is read through the
 * run's vocabulary (R->c.vocab) when there is one; otherwise it builds its
 * own, which becomes the run's when `adopt` (the training text). */
static int nn_load_data(nn_run *R, const char *arg, const nn_source *model_src,
                        const nn_data_spec *spec, nn_dataset *d, int adopt) {
  memset(d, 0, sizeof *d);
  char *owned;
  nn_source s = nn_pick_source(R, arg, model_src, &owned);
  if (s.kind == NN_SRC_NONE)
    return 0;
  nn_data_spec sp = *spec;
  if (s.kind == NN_SRC_TEXT && R->c.nvocab > 0) {
    sp.vocab = R->c.vocab;
    sp.nvocab = R->c.nvocab;
    sp.vocab_from = R->vocab_from[0] ? R->vocab_from : NULL;
  }
  char err[1024];
  int rc = nn_data_load(&s, &sp, d, err, sizeof err);
  free(owned);
  if (rc)
    fprintf(stderr, "%s\n", err);
  else if (adopt && R->c.nvocab == 0 && d->nvocab > 0) {
    memcpy(R->c.vocab, d->vocab, sizeof R->c.vocab);
    R->c.nvocab = d->nvocab;
    snprintf(R->vocab_from, sizeof R->vocab_from, "the training text");
  }
  return rc;
}

/* The vocabulary of a token model, when the run has none yet (no --load,
 * or a checkpoint without one): the training text's, if the model or
 * --train names one.  1 if that text cannot be loaded. */
static int nn_need_vocab(nn_run *R) {
  const nn_model *m = R->m;
  if (R->c.nvocab > 0 || m->vocab <= 0)
    return 0;
  char *owned;
  nn_source s = nn_pick_source(R, R->o.train, &m->train, &owned);
  free(owned);
  if (s.kind != NN_SRC_TEXT)
    return 0;
  nn_data_spec spec = nn_spec(m);
  nn_dataset d;
  int rc = nn_load_data(R, R->o.train, &m->train, &spec, &d, 1);
  nn_data_free(&d);
  return rc ? 1 : 0;
}

/* Set by SIGINT and SIGTERM during training (see "signals and checkpoints"). */
static volatile sig_atomic_t nn_stop_signal;

static void nn_on_signal(int sig) { nn_stop_signal = sig; }

/* ------------------------------------------------------ ranks that agree
 * Under MPI a decision to stop (an error, a signal) must be taken by every
 * rank at the same point, or the others wait for it forever in the next
 * collective call.  Without MPI, or with one rank, these change nothing. */

/* 1 when no rank failed (rc == 0 everywhere); else 0, and *rc is 1 on a
 * rank that did not fail (which says so: the message is the other's). */
static int nn_all_ok(nn_run *R, int *rc) {
  if (!nn_mpi_any(*rc != 0))
    return 1;
  if (*rc == 0) {
    if (R->rank == 0)
      fprintf(stderr, "%s: error: stopping: another rank failed (its message is above)\n",
              R->prog);
    *rc = 1;
  }
  return 0;
}

/* The signal every rank stops on: SIGTERM if any rank caught one, else
 * SIGINT if any did, else 0; kept in R->stop.  sig[]: counts of ranks
 * with SIGINT, SIGTERM (added up over the ranks by the caller). */
static int nn_stop_from(nn_run *R, const double sig[2]) {
  R->stop = sig[1] > 0 ? SIGTERM : sig[0] > 0 ? SIGINT : 0;
  return R->stop;
}

static void nn_signal_counts(double sig[2]) {
  int s = nn_stop_signal;
  sig[0] = s == SIGINT;
  sig[1] = s == SIGTERM;
}

/* The signal agreed on now (a collective call under MPI). */
static int nn_stop_agreed(nn_run *R) {
  if (R->size == 1)
    return R->stop = nn_stop_signal;
  double sig[2];
  nn_signal_counts(sig);
  nn_mpi_sum_doubles(sig, 2);
  return nn_stop_from(R, sig);
}

/* A fingerprint of n bytes (CRC-32, chained from h). */
static uint64_t nn_fingerprint(uint64_t h, const void *p, size_t n) {
  return p && n ? crc32_z((uLong)h, p, n) : h;
}

static uint64_t nn_data_fingerprint(const nn_dataset *d) {
  size_t n = (size_t)d->n, ncls = (size_t)(d->ncls > 0 ? d->ncls : 1);
  uint64_t h = nn_fingerprint(0, &d->n, sizeof d->n);
  h = nn_fingerprint(h, d->x, n * (size_t)d->dim * sizeof *d->x);
  h = nn_fingerprint(h, d->cls, d->cls ? n * ncls * sizeof *d->cls : 0);
  return nn_fingerprint(h, d->y, d->y ? n * (size_t)d->ydim * sizeof *d->y : 0);
}

/* Under MPI: 0 when every rank holds the same bytes of the data set d
 * (`what` data), else 1 with a message (ranks on several machines must
 * read the same files). */
static int nn_same_data(nn_run *R, const nn_dataset *d, const char *what) {
  if (R->size == 1 || nn_mpi_same(nn_data_fingerprint(d)))
    return 0;
  if (R->rank == 0)
    fprintf(stderr, "%s: error: the ranks read different %s data (%s on rank 0, %d rows): "
                    "every rank must read the same files\n", R->prog, what,
            d->n ? d->name : "none", d->n);
  return 1;
}

/* Under MPI: 0 when every rank has the same parameters and buffers (the
 * invariant of data-parallel training), else 1 with a message. */
static int nn_same_params(nn_run *R, const char *when) {
  const nn_model *m = R->m;
  if (R->size == 1 ||
      nn_mpi_same(nn_fingerprint(0, R->c.params, m->params_size * (size_t)m->real_size)))
    return 0;
  if (R->rank == 0)
    fprintf(stderr, "%s: error: the ranks' parameters differ %s\n", R->prog, when);
  return 1;
}

/* ------------------------------------------------------------ batches, eval */

static int nn_run_alloc(nn_run *R) {
  const nn_model *m = R->m;
  size_t b = (size_t)m->batch;
  R->xb = malloc((b * (size_t)m->in_dim + 1) * sizeof *R->xb);
  R->yb = malloc((b * (size_t)(m->ydim > 0 ? m->ydim : 1) + 1) * sizeof *R->yb);
  R->out = malloc((b * (size_t)(m->out_dim > 0 ? m->out_dim : 1) + 1) * sizeof *R->out);
  R->cb = malloc((b * (size_t)(m->ncls > 0 ? m->ncls : 1) + 1) * sizeof *R->cb);
  if (!R->xb || !R->yb || !R->out || !R->cb || nn_ctx_alloc(&R->c, m)) {
    fprintf(stderr, "%s: error: out of memory\n", R->prog);
    return -1;
  }
  R->c.seed = R->o.seed;
  return 0;
}

static void nn_run_free(nn_run *R) {
  free(R->xb);
  free(R->yb);
  free(R->out);
  free(R->cb);
  nn_resume_free(&R->rs);
  nn_ctx_free(&R->c);
}

static int32_t *nn_identity(int n) {
  int32_t *o = malloc(((size_t)n + 1) * sizeof *o);
  for (int i = 0; o && i < n; i++)
    o[i] = i;
  return o;
}

static void nn_reset(nn_run *R) {
  if (R->m->reset)
    R->m->reset(&R->c);
}

/* Forward over d in file order with targets: mean loss and accuracy.
 * Under MPI the batches are dealt out: rank r evaluates batches r, r + N,
 * r + 2N, ... and the sums of loss and correct rows are added up over the
 * ranks, so every rank gets the figures of the whole set. */
static int nn_evaluate(nn_run *R, const nn_dataset *d, nn_stats *st) {
  const nn_model *m = R->m;
  int32_t *order = nn_identity(d->n);
  if (nn_mpi_any(!order)) {
    if (!order)
      fprintf(stderr, "%s: error: out of memory\n", R->prog);
    free(order);
    return -1;
  }
  nn_reset(R);
  double sum[2] = {0, 0}; /* loss * rows, correct rows */
  long step = (long)m->batch * R->size;
  for (long start = (long)R->rank * m->batch; start < d->n; start += step) {
    int nb = d->n - start < m->batch ? d->n - (int)start : m->batch;
    nn_batch_gather(d, order, (int)start, nb, R->xb, R->cb, R->yb);
    sum[0] += nb * m->forward(&R->c, R->xb, d->cls ? R->cb : NULL, d->y ? R->yb : NULL, nb,
                              &sum[1]);
  }
  free(order);
  nn_mpi_sum_doubles(sum, 2);
  st->loss = sum[0] / d->n;
  st->acc = m->has_accuracy ? sum[1] / d->n : -1;
  return 0;
}

/* "train loss 1.2345 acc 56.78%"; with bpc the loss in bits per character
 * too: "train loss 1.2345 (1.781 bits/char) acc 56.78%". */
static void nn_stats_text(const char *what, const nn_stats *s, int bpc, char *buf, size_t len) {
  int k = snprintf(buf, len, "%s loss %.4f", what, s->loss);
  if (bpc && k >= 0 && (size_t)k < len)
    k += snprintf(buf + k, len - (size_t)k, " (%.3f bits/char)", s->loss / log(2.0));
  if (s->acc >= 0 && k >= 0 && (size_t)k < len)
    snprintf(buf + k, len - (size_t)k, " acc %.2f%%", 100 * s->acc);
}

/* ------------------------------------------------------------------- modes */

static int nn_mode_gradcheck(nn_run *R) {
  const nn_model *m = R->m;
  double rtol = 1e-5, atol = 1e-8;
  if (m->real_size != 8) {
    rtol = 5e-2;
    atol = 1e-3;
    if (!R->o.quiet)
      printf("note: a float build; for a tight check compile with -DNN_REAL=double "
             "(tolerances loosened to rtol=%g, atol=%g)\n", rtol, atol);
  }
  int nb = m->batch < 4 ? m->batch : 4;
  int bad = nn_gradcheck(m, &R->c, R->o.seed, nb, 20, rtol, atol);
  return bad == 0 ? 0 : 1;
}

/* After forward(): the model's output rows, or layer k's (k >= 0) through
 * buf, one CSV line per row. */
static int nn_write_rows(nn_run *R, FILE *f, int nb, int k, float *buf) {
  const nn_model *m = R->m;
  size_t dim = k >= 0 ? (size_t)m->layers[k].dim : (size_t)m->out_dim;
  float *o = k >= 0 ? buf : R->out;
  if (k >= 0)
    m->layer_output(&R->c, k, nb, o);
  else
    m->output(&R->c, nb, o);
  for (int i = 0; i < nb; i++)
    for (size_t j = 0; j < dim; j++)
      fprintf(f, "%.6g%c", o[(size_t)i * dim + j], j + 1 < dim ? ',' : '\n');
  return ferror(f) ? -1 : 0;
}

/* The index of --layer's NAME in the model's layers[], -1 for the model's
 * output (no --layer); -2 with a message when there is no such layer. */
static int nn_find_layer(nn_run *R) {
  const nn_model *m = R->m;
  if (!R->o.layer)
    return -1;
  for (int k = 0; k < m->nlayers; k++)
    if (!strcmp(m->layers[k].name, R->o.layer))
      return k;
  fprintf(stderr, "%s: error: --layer %s: model '%s' has no layer of that name; its layers: ",
          R->prog, R->o.layer, m->name);
  for (int k = 0; k < m->nlayers; k++)
    fprintf(stderr, "%s%s", k ? ", " : "", m->layers[k].name);
  fprintf(stderr, "\n");
  return -2;
}

/* Forward over d in file order, one CSV line of outputs per row. */
static int nn_predict_rows(nn_run *R, const nn_dataset *d, FILE *f, int k) {
  const nn_model *m = R->m;
  int32_t *order = nn_identity(d->n);
  float *buf = k >= 0 ? malloc(((size_t)m->batch * (size_t)m->layers[k].dim + 1) * sizeof *buf)
                      : NULL;
  int rc = order && (k < 0 || buf) ? 0 : -1;
  nn_reset(R);
  for (int start = 0; rc == 0 && start < d->n; start += m->batch) {
    int nb = d->n - start < m->batch ? d->n - start : m->batch;
    nn_batch_gather(d, order, start, nb, R->xb, NULL, NULL);
    m->forward(&R->c, R->xb, NULL, NULL, nb, NULL);
    rc = nn_write_rows(R, f, nb, k, buf);
  }
  free(order);
  free(buf);
  return rc;
}

static int nn_mode_predict(nn_run *R) {
  nn_data_spec spec = nn_spec_predict(R->m);
  nn_dataset d;
  nn_source none = {0};
  int k = nn_find_layer(R);
  if (k == -2 || nn_need_vocab(R) || nn_load_data(R, R->o.predict, &none, &spec, &d, 0))
    return 1;
  if (!R->o.load && !R->o.quiet)
    fprintf(stderr, "%s: note: predicting with untrained parameters (no --load)\n", R->prog);
  const char *name = R->o.output ? R->o.output : "stdout";
  FILE *f = R->o.output ? fopen(R->o.output, "w") : stdout;
  int rc = -1;
  if (!f) {
    fprintf(stderr, "%s: error: cannot write %s: %s\n", R->prog, name, strerror(errno));
  } else {
    rc = nn_predict_rows(R, &d, f, k);
    if ((f == stdout ? fflush(f) : fclose(f)) != 0)
      rc = -1;
    if (rc)
      fprintf(stderr, "%s: error: cannot write %s\n", R->prog, name);
  }
  nn_data_free(&d);
  return rc ? 1 : 0;
}

/* The data --eval reads: the test set, else the training set; 0 or 1. */
static int nn_eval_data(nn_run *R, nn_dataset *d, const char **what) {
  nn_data_spec spec = nn_spec(R->m);
  *what = "test";
  memset(d, 0, sizeof *d);
  if (nn_need_vocab(R))
    return 1;
  if (nn_model_data_kind(R->m) == NN_SRC_TEXT && R->c.nvocab == 0 && !R->o.quiet &&
      R->rank == 0)
    fprintf(stderr, "%s: note: no vocabulary from a checkpoint or a training text: the "
                    "evaluated text builds its own\n", R->prog);
  if (nn_load_data(R, R->o.test, &R->m->test, &spec, d, 0))
    return 1;
  if (d->n == 0) {
    *what = "train";
    if (nn_load_data(R, R->o.train, &R->m->train, &spec, d, 1))
      return 1;
  }
  if (d->n == 0) {
    fprintf(stderr, "%s: error: model '%s' has no data to evaluate; give --test FILE\n",
            R->prog, R->m->name);
    return 1;
  }
  return 0;
}

static int nn_mode_eval(nn_run *R) {
  nn_dataset d;
  const char *what;
  int rc = nn_eval_data(R, &d, &what);
  nn_stats st;
  if (nn_all_ok(R, &rc) && !(rc = nn_same_data(R, &d, what)))
    rc = nn_evaluate(R, &d, &st) ? 1 : 0;
  if (rc == 0) {
    char line[256];
    nn_stats_text(what, &st, nn_bits_per_char(R->m), line, sizeof line);
    printf("eval: %s (%d samples)\n", line, d.n);
  }
  nn_data_free(&d);
  return rc;
}

/* -------------------------------------------------------------------- bench */

/* One batch of random data from stream NN_RNG_BENCH of --seed: inputs
 * uniform in [0, 1) (like scaled pixels; a token model: ids uniform in
 * [0, vocab)), targets as the model's kind says: random classes (ncls a
 * row), uniform reals in [0, 1), or the input itself. */
static void nn_bench_batch(nn_run *R) {
  const nn_model *m = R->m;
  nn_rng r;
  nn_rng_seed(&r, R->o.seed, NN_RNG_BENCH);
  size_t b = (size_t)m->batch, ncls = (size_t)(m->ncls > 0 ? m->ncls : 1);
  for (size_t i = 0; i < b * (size_t)m->in_dim; i++)
    R->xb[i] = m->vocab > 0 ? (float)nn_rng_below(&r, (uint32_t)m->vocab)
                            : (float)nn_rng_uniform(&r);
  for (size_t i = 0; m->target == NN_TARGET_CLASS && i < b * ncls; i++)
    R->cb[i] = (int32_t)nn_rng_below(&r, (uint32_t)(m->nclasses > 0 ? m->nclasses : 1));
  for (size_t i = 0; m->target == NN_TARGET_REAL && i < b * (size_t)m->ydim; i++)
    R->yb[i] = (float)nn_rng_uniform(&r);
}

/* One step: forward, backward and update (train) or forward and output
 * (infer); the loss of a training step. */
static double nn_bench_step(nn_run *R, int infer) {
  const nn_model *m = R->m;
  int nb = m->batch;
  if (infer) {
    m->forward(&R->c, R->xb, NULL, NULL, nb, NULL);
    m->output(&R->c, nb, R->out);
    return 0;
  }
  const int32_t *cls = m->target == NN_TARGET_CLASS ? R->cb : NULL;
  const float *y = m->target == NN_TARGET_REAL ? R->yb : NULL;
  R->c.training = 1;
  double l = m->forward(&R->c, R->xb, cls, y, nb, NULL);
  m->backward(&R->c, cls, y, nb);
  m->update(&R->c, R->o.lr);
  R->c.step++;
  R->c.training = 0;
  return l;
}

/* --bench / --bench-infer: warm-up steps, then the timed ones; one line. */
static int nn_mode_bench(nn_run *R) {
  const nn_model *m = R->m;
  int infer = R->o.bench_infer > 0, steps = infer ? R->o.bench_infer : R->o.bench;
  nn_bench_batch(R);
  nn_reset(R);
  double loss = 0;
  for (int i = 0; i < NN_BENCH_WARMUP; i++)
    loss = nn_bench_step(R, infer);
  double t0 = nn_now();
  for (int i = 0; i < steps; i++)
    loss = nn_bench_step(R, infer);
  double secs = nn_now() - t0;
  char threads[32] = "default";
  if (R->o.threads > 0)
    snprintf(threads, sizeof threads, "%d", R->o.threads);
  printf("bench model=%s mode=%s batch=%d threads=%s steps=%d seconds=%.6g "
         "samples_per_s=%.1f step_us=%.6g",
         m->name, infer ? "infer" : "train", m->batch, threads, steps, secs,
         secs > 0 ? (double)steps * m->batch / secs : 0, 1e6 * secs / steps);
  if (!infer)
    printf(" loss=%.6g", loss);
  printf("\n");
  if (!infer && !isfinite(loss)) {
    fprintf(stderr, "%s: error: loss is not finite (%s) after %d bench steps\n", R->prog,
            isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf", NN_BENCH_WARMUP + steps);
    return 1;
  }
  return 0;
}

/* ----------------------------------------------------------------- training */

/* A training run: the data sets, the log, and the state a checkpoint
 * saves (st: the cursor in the epochs, the shuffle stream and order, the
 * early-stopping record; see nn_resume). */
typedef struct nn_train {
  nn_dataset tr, te, va; /* va: the validation set (n == 0: none) */
  FILE *log;
  double t0;     /* start of training, less the time before a resume */
  nn_resume st;  /* st.order: tr.n rows; st.best_params when early stopping */
  int resumed;   /* st came from --resume */
  int tty;       /* stdout is a terminal (and no --quiet): draw progress */
  int drawn;     /* a progress line is on the screen */
  double drawn_at; /* when it was drawn */
  /* --plot: per epoch of this run, its number, train loss and accuracy,
   * test loss and accuracy (NAN where there is none) */
  double *curve[5];
  int ncurve;
} nn_train;

double nn_schedule_lr(const nn_schedule *s, double lr, int epoch, int epochs, uint64_t step) {
  double r = lr;
  switch (s->kind) {
  case NN_SCHED_NONE: break;
  case NN_SCHED_STEP: r = lr * pow(s->gamma, (double)(epoch / (s->every > 0 ? s->every : 1))); break;
  case NN_SCHED_EXPONENTIAL: r = lr * pow(s->gamma, (double)epoch); break;
  case NN_SCHED_COSINE: {
    int T = s->epochs > 0 ? s->epochs : epochs > 0 ? epochs : 1;
    r = s->min_lr + (lr - s->min_lr) * (1 + cos(3.14159265358979323846 * (double)epoch / T)) / 2;
    break;
  }
  }
  if (s->warmup > 0 && step < (uint64_t)s->warmup)
    r *= (double)(step + 1) / s->warmup;
  return r;
}

static int nn_has_schedule(const nn_model *m) {
  return m->schedule.kind != NN_SCHED_NONE || m->schedule.warmup > 0;
}

/* ----------------------------------------------------------------- progress
 * On a terminal, the epoch in progress as one line redrawn in place (at
 * most 4 times a second): batches done, the running mean loss, samples/s
 * and the time left in the epoch.  Erased before anything else is
 * printed; never drawn into a file or pipe, or with --quiet. */
static void nn_progress_clear(nn_train *T) {
  if (T->drawn) {
    fputs("\r\033[K", stdout);
    fflush(stdout);
    T->drawn = 0;
  }
}

/* ------------------------------------------------------------ NaN guard */

/* The index of the first element of p[0 .. n) that is not finite, or n.
 * Integer tests of the exponent bits (all ones: inf or nan), so that the
 * loop vectorises without -ffast-math; run over the gradients every step. */
static size_t nn_first_nonfinite(const void *p, int real_size, size_t n) {
  size_t chunk = 4096;
  for (size_t at = 0; at < n; at += chunk) {
    size_t end = n - at < chunk ? n : at + chunk;
    unsigned bad = 0;
    if (real_size == 8) {
      const uint64_t *q = p;
      for (size_t i = at; i < end; i++)
        bad |= (q[i] & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
    } else {
      const uint32_t *q = p;
      for (size_t i = at; i < end; i++)
        bad |= (q[i] & 0x7f800000u) == 0x7f800000u;
    }
    if (bad) {
      for (size_t i = at; i < end; i++) {
        double v = real_size == 8 ? ((const double *)p)[i] : ((const float *)p)[i];
        if (!isfinite(v))
          return i;
      }
    }
  }
  return n;
}

static const char *nn_nonfinite_name(double v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

/* A non-finite loss after forward(): name the first layer (in the order
 * of the model) whose output holds a non-finite value, read back through
 * layer_output() (every layer's output lives until the loss). */
static void nn_report_loss(nn_run *R, double l, int epoch, int batch, int nb) {
  const nn_model *m = R->m;
  fprintf(stderr, "%s: error: loss is not finite (%s) at epoch %d, batch %d (step %llu)", R->prog,
          nn_nonfinite_name(l), epoch, batch, (unsigned long long)R->c.step + 1);
  long most = 0;
  for (int k = 0; k < m->nlayers; k++)
    most = m->layers[k].dim > most ? m->layers[k].dim : most;
  float *buf = m->layer_output ? malloc(((size_t)nb * (size_t)most + 1) * sizeof *buf) : NULL;
  int found = 0;
  for (int k = 0; buf && k < m->nlayers && !found; k++) {
    size_t n = (size_t)nb * (size_t)m->layers[k].dim;
    m->layer_output(&R->c, k, nb, buf);
    size_t i = nn_first_nonfinite(buf, 4, n);
    if (i < n) {
      fprintf(stderr, ": the first non-finite value (%s) is in the output of layer '%s', row %zu "
                      "of the batch, feature %zu",
              nn_nonfinite_name(buf[i]), m->layers[k].name, i / (size_t)m->layers[k].dim,
              i % (size_t)m->layers[k].dim);
      found = 1;
    }
  }
  if (buf && !found)
    fprintf(stderr, ": every layer's output is finite, so the loss itself overflowed (a target "
                    "out of its range?)");
  fprintf(stderr, "\n");
  free(buf);
}

/* After backward(): 0 when every gradient is finite, else -1 and a
 * message naming the tensor where the backward pass, which runs from the
 * loss to the input, first made one non-finite: the last tensor of
 * params[] (the model's order) with a non-finite element. */
static int nn_check_grads(nn_run *R, nn_train *T, int epoch, int batch) {
  const nn_model *m = R->m;
  size_t n = m->params_size;
  if (nn_first_nonfinite(R->c.grads, m->real_size, n) == n)
    return 0;
  nn_progress_clear(T);
  int k = m->nparams - 1;
  size_t i = 0;
  for (; k >= 0; k--) {
    const nn_param *p = &m->params[k];
    const char *g = (const char *)R->c.grads + p->offset * (size_t)m->real_size;
    if ((i = nn_first_nonfinite(g, m->real_size, p->size)) < p->size)
      break;
  }
  const nn_param *p = &m->params[k < 0 ? 0 : k];
  size_t at = p->offset + i;
  double v = m->real_size == 8 ? ((double *)R->c.grads)[at] : ((float *)R->c.grads)[at];
  fprintf(stderr, "%s: error: a gradient is not finite (%s) at epoch %d, batch %d (step %llu), "
                  "first in the backward pass at %s[%zu]; the loss was finite (try a smaller lr, "
                  "or clip)\n",
          R->prog, nn_nonfinite_name(v), epoch, batch, (unsigned long long)R->c.step + 1,
          p->name, i);
  return -1;
}

/* ------------------------------------------------ signals and checkpoints
 *
 * SIGINT and SIGTERM during training set nn_stop_signal; the epoch loop
 * looks at it after every step and after every epoch's evaluation, saves
 * the training state (--checkpoint FILE, else MODEL.resume.safetensors)
 * and ends the run with status 128 + the signal's number.  The handlers
 * are installed with SA_RESETHAND: a second signal ends the process at
 * once (the checkpoint on disk is then the previous one, never a torn
 * file: saving writes FILE.tmp and renames it).  Under MPI the ranks agree
 * on the signal (R->stop) at the same step, and rank 0 saves. */

/* The training state at this point into the checkpoint file (rank 0;
 * every rank returns 1 if it could not). */
static int nn_save_state(nn_run *R, nn_train *T) {
  nn_resume *S = &T->st;
  S->elapsed = nn_now() - T->t0;
  char err[1024];
  int rc = 0;
  if (R->rank == 0 && nn_ckpt_save_state(R->ck_path, R->m, &R->c, S, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    rc = 1;
  }
  return nn_mpi_any(rc);
}

/* After a signal: save, say where and how to go on; the exit status. */
static int nn_interrupted(nn_run *R, nn_train *T) {
  int sig = R->stop;
  const nn_resume *S = &T->st;
  int b = R->gbatch, nbatches = (T->tr.n + b - 1) / b;
  if (R->rank == 0) {
    fprintf(stderr, "%s: %s: stopping ", R->prog, sig == SIGINT ? "interrupted (SIGINT)"
                                                                 : "terminated (SIGTERM)");
    if (S->pos == 0)
      fprintf(stderr, "after epoch %d", S->epoch);
    else
      fprintf(stderr, "in epoch %d after batch %d of %d", S->epoch + 1, (S->pos + b - 1) / b,
              nbatches);
    fprintf(stderr, " (step %llu)\n", (unsigned long long)R->c.step);
  }
  if (nn_save_state(R, T))
    return 1;
  if (R->rank == 0)
    fprintf(stderr, "%s: saved the training state to %s; go on with --resume %s\n", R->prog,
            R->ck_path, R->ck_path);
  return 128 + sig;
}

static void nn_progress(nn_run *R, nn_train *T, double now) {
  const nn_resume *S = &T->st;
  if (!T->tty || now - T->drawn_at < 0.25 || S->pos >= T->tr.n)
    return;
  int b = R->gbatch, nb = (T->tr.n + b - 1) / b;
  double rate = S->seconds > 0 ? S->pos / S->seconds : 0;
  double eta = rate > 0 ? (T->tr.n - S->pos) / rate : 0;
  printf("\repoch %d/%d  batch %d/%d  loss %.4f  %.0f samples/s  ETA %.0fs\033[K",
         S->epoch + 1, R->o.epochs, (S->pos + b - 1) / b, nb, S->loss / S->pos, rate, eta);
  fflush(stdout);
  T->drawn = 1;
  T->drawn_at = now;
}

/* Every N steps (--checkpoint-every Nsteps), after a step. */
static int nn_step_checkpoint(nn_run *R, nn_train *T) {
  if (R->o.ck_steps > 0 && R->c.step % (uint64_t)R->o.ck_steps == 0)
    return nn_save_state(R, T);
  return 0;
}

/* ------------------------------------------------------------ one step */

/* The slots of a step's small allreduce: this rank's loss * rows and
 * correct rows, its count of failures (non-finite loss or gradient), of
 * SIGINT and of SIGTERM; summed over the ranks. */
enum { NN_CTL_LOSS, NN_CTL_CORRECT, NN_CTL_BAD, NN_CTL_SIGINT, NN_CTL_SIGTERM, NN_CTL };

/* p[0 .. n) *= f, in the model's real type. */
static void nn_scale_reals(void *p, size_t n, int real_size, double f) {
  if (real_size == 8) {
    double *q = p;
    for (size_t i = 0; i < n; i++)
      q[i] *= f;
  } else {
    float *q = p;
    for (size_t i = 0; i < n; i++)
      q[i] *= (float)f;
  }
}

/* The rows of the global batch [start, start + G) that this rank trains:
 * [start + r B, start + r B + nb) with 0 <= nb <= B; the count, and the
 * first row in *first. */
static int nn_my_rows(const nn_run *R, int start, int G, int *first) {
  int B = R->m->batch, off = R->rank * B;
  *first = start + off;
  return G <= off ? 0 : G - off < B ? G - off : B;
}

/* After a step under MPI: the buffers the forward passes updated
 * (batchnorm's running statistics, from each rank's own rows) become the
 * mean of the ranks' weighted by their rows, nb / G, so every rank has
 * the same again; int64 ones (a count of batches) are rank 0's, which
 * always has rows. */
static void nn_sync_buffers(nn_run *R, int nb, int G) {
  const nn_model *m = R->m;
  for (int k = 0; k < m->nparams; k++) {
    const nn_param *p = &m->params[k];
    char *v = (char *)R->c.params + p->offset * (size_t)m->real_size;
    if (p->kind == NN_PARAM_BUFFER) {
      nn_scale_reals(v, p->size, m->real_size, (double)nb / G);
      nn_mpi_sum_reals(v, p->size, m->real_size);
    } else if (p->kind == NN_PARAM_INT64) {
      nn_mpi_bcast(v, p->size * sizeof(int64_t));
    }
  }
}

/* Forward and backward of this rank's nb rows from `first`: ctl gets the
 * loss sum and correct count, or a failure (reported here) in
 * ctl[NN_CTL_BAD].  nb == 0: a zero gradient. */
static void nn_local_step(nn_run *R, nn_train *T, int first, int nb, int epoch, int bi,
                          double ctl[NN_CTL]) {
  const nn_model *m = R->m;
  const nn_dataset *d = &T->tr;
  if (nb == 0) {
    memset(R->c.grads, 0, m->params_size * (size_t)m->real_size);
    return;
  }
  const int32_t *cls = d->cls ? R->cb : NULL;
  const float *y = d->y ? R->yb : NULL;
  nn_batch_gather(d, T->st.order, first, nb, R->xb, R->cb, R->yb);
  double correct = 0;
  double l = m->forward(&R->c, R->xb, cls, y, nb, &correct);
  if (!isfinite(l)) {
    nn_progress_clear(T);
    nn_report_loss(R, l, epoch, bi, nb);
    ctl[NN_CTL_BAD] = 1;
    return;
  }
  m->backward(&R->c, cls, y, nb);
  ctl[NN_CTL_BAD] = nn_check_grads(R, T, epoch, bi) != 0;
  ctl[NN_CTL_LOSS] = nb * l;
  ctl[NN_CTL_CORRECT] = correct;
}

/* One optimizer step on the global batch [start, start + G) of the
 * epoch's order (G <= N B): this rank's rows forward and backward, the
 * gradient of the mean loss over all G rows summed over the ranks, the
 * update on every rank.  ctl: the batch's sums over the ranks.  0, or 1
 * after a non-finite loss or gradient on any rank (every rank returns 1,
 * the one that saw it says where). */
static int nn_train_step(nn_run *R, nn_train *T, int start, int G, double ctl[NN_CTL]) {
  const nn_model *m = R->m;
  int epoch = T->st.epoch + 1, bi = start / R->gbatch + 1, first;
  int nb = nn_my_rows(R, start, G, &first);
  memset(ctl, 0, NN_CTL * sizeof *ctl);
  R->c.training = 1;
  nn_local_step(R, T, first, nb, epoch, bi, ctl);
  nn_signal_counts(ctl + NN_CTL_SIGINT);
  double t0 = R->size > 1 ? nn_now() : 0;
  nn_mpi_sum_doubles(ctl, NN_CTL);
  nn_stop_from(R, ctl + NN_CTL_SIGINT);
  if (ctl[NN_CTL_BAD] > 0) {
    R->c.training = 0;
    return 1;
  }
  if (R->size > 1) {
    size_t n = m->params_size;
    if (nb != G)
      nn_scale_reals(R->c.grads, n, m->real_size, (double)nb / G);
    nn_mpi_sum_reals(R->c.grads, n, m->real_size);
    R->comm_secs += nn_now() - t0;
    /* the same bits on every rank: the same verdict, rank 0 names it */
    if (nn_first_nonfinite(R->c.grads, m->real_size, n) < n) {
      if (R->rank == 0)
        nn_check_grads(R, T, epoch, bi);
      R->c.training = 0;
      return 1;
    }
  }
  R->lr = nn_schedule_lr(&m->schedule, R->o.lr, epoch - 1, R->o.epochs, R->c.step);
  m->update(&R->c, R->lr);
  R->c.step++;
  R->c.training = 0;
  if (R->size > 1)
    nn_sync_buffers(R, nb, G);
  return 0;
}

/* One epoch (number st.epoch + 1) over T->tr from the cursor st.pos: a new
 * epoch draws its order and resets the carried state; a resumed one goes
 * on with the saved order, sums and state.  0: done (st.pos == rows);
 * 1: a non-finite loss or gradient, or a checkpoint that cannot be
 * written; 2: a signal came (the caller saves). */
static int nn_epoch(nn_run *R, nn_train *T, nn_stats *st, double *seconds) {
  const nn_model *m = R->m;
  const nn_dataset *d = &T->tr;
  nn_resume *S = &T->st;
  if (S->pos == 0) {
    for (int i = 0; i < d->n; i++)
      S->order[i] = i;
    if (!nn_file_order(m))
      nn_shuffle(&S->rng, S->order, d->n);
    nn_reset(R);
    S->loss = S->correct = S->seconds = 0;
  }
  double t = nn_now();
  while (S->pos < d->n) {
    int start = S->pos, G = d->n - start < R->gbatch ? d->n - start : R->gbatch;
    double ctl[NN_CTL];
    if (nn_train_step(R, T, start, G, ctl))
      return 1;
    S->loss += ctl[NN_CTL_LOSS];
    S->correct += ctl[NN_CTL_CORRECT];
    S->pos = start + G;
    double now = nn_now();
    S->seconds += now - t;
    t = now;
    nn_progress(R, T, now);
    if (nn_step_checkpoint(R, T) || R->stop) {
      nn_progress_clear(T);
      return R->stop ? 2 : 1;
    }
  }
  nn_progress_clear(T);
  *seconds = S->seconds;
  st->loss = S->loss / d->n;
  st->acc = m->has_accuracy ? S->correct / d->n : -1;
  return 0;
}

/* "loss,acc" of s, each empty where there is none */
static void nn_log_pair(FILE *f, const nn_stats *s, int has) {
  if (has)
    fprintf(f, "%.6g", s->loss);
  fprintf(f, ",");
  if (has && s->acc >= 0)
    fprintf(f, "%.6g", s->acc);
}

/* One CSV row per epoch; the val_ columns only when there is a validation
 * set (the header says which). */
static void nn_log_row(FILE *f, int epoch, const nn_stats *tr, const nn_stats *te, int has_test,
                       const nn_stats *va, int has_valid, double sps, double elapsed) {
  fprintf(f, "%d,", epoch);
  nn_log_pair(f, tr, 1);
  fprintf(f, ",");
  nn_log_pair(f, te, has_test);
  if (has_valid) {
    fprintf(f, ",");
    nn_log_pair(f, va, 1);
  }
  fprintf(f, ",%.6g,%.3f\n", sps, elapsed);
  fflush(f);
}

static void nn_epoch_line(nn_run *R, int epoch, const nn_stats *tr, const nn_stats *te,
                          int has_test, const nn_stats *va, int has_valid, double sps,
                          double elapsed) {
  char a[128], b[128] = "", v[128] = "";
  int w = snprintf(NULL, 0, "%d", R->o.epochs), bpc = nn_bits_per_char(R->m);
  nn_stats_text("train", tr, bpc, a, sizeof a);
  if (has_valid)
    nn_stats_text("  val", va, bpc, v, sizeof v);
  if (has_test)
    nn_stats_text("  test", te, bpc, b, sizeof b);
  if (nn_has_schedule(R->m)) /* the rate of the epoch's last step */
    snprintf(b + strlen(b), sizeof b - strlen(b), "  lr %.6g", R->lr);
  printf("epoch %*d/%d  %s%s%s  %.0f samples/s  %.1fs\n", w < 2 ? 2 : w, epoch, R->o.epochs, a,
         v, b, sps, elapsed);
  fflush(stdout);
}

/* The static plan (four arenas, from the descriptor) plus the data sets,
 * against the peak resident set the kernel measured. */
static void nn_memory_report(const nn_run *R, const nn_train *T) {
  const nn_model *m = R->m;
  double mb = 1.0 / (1024 * 1024);
  double plan = (double)(2 * m->params_size + m->state_size + m->acts_size) * m->real_size;
  double data = 0;
  const nn_dataset *sets[3] = {&T->tr, &T->te, &T->va};
  for (int i = 0; i < 3; i++)
    data += (double)sets[i]->n *
            ((double)sets[i]->dim * 4 +
             (sets[i]->cls ? 4.0 * (sets[i]->ncls > 0 ? sets[i]->ncls : 1) : 0) +
             (sets[i]->y ? (double)sets[i]->ydim * 4 : 0));
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    printf("memory: plan %.1f MB + data %.1f MB; peak RSS %.1f MB\n", plan * mb, data * mb,
           (double)ru.ru_maxrss / 1024);
}

/* Early stopping (the record is in T->st: best, best_epoch, since,
 * best_tr/te, best_params): after epoch e, 1 when the run should stop. */
static int nn_stop_after(nn_run *R, nn_train *T, const nn_stats *va, const nn_stats *tr,
                         const nn_stats *te, int e) {
  const nn_model *m = R->m;
  nn_resume *S = &T->st;
  double v = m->early_stop == NN_STOP_LOSS ? va->loss : va->acc;
  int better = S->best_epoch == 0 ||
               (m->early_stop == NN_STOP_LOSS ? v < S->best - m->min_delta
                                              : v > S->best + m->min_delta);
  if (better) { /* the first epoch always is */
    S->best = v;
    S->best_epoch = e;
    S->best_tr[0] = tr->loss;
    S->best_tr[1] = tr->acc;
    S->best_te[0] = te->loss;
    S->best_te[1] = te->acc;
    memcpy(S->best_params, R->c.params, m->params_size * (size_t)m->real_size);
    S->since = 0;
    return 0;
  }
  return ++S->since >= m->patience;
}

static void nn_stop_figure(const nn_model *m, const nn_resume *S, char *buf, size_t len) {
  if (m->early_stop == NN_STOP_LOSS)
    snprintf(buf, len, "validation loss %.4f", S->best);
  else
    snprintf(buf, len, "validation accuracy %.2f%%", 100 * S->best);
}

/* After the epochs: restore the best epoch's parameters and figures. */
static void nn_stop_restore(nn_run *R, nn_train *T, nn_stats *final_tr, nn_stats *final_te) {
  const nn_model *m = R->m;
  const nn_resume *S = &T->st;
  memcpy(R->c.params, S->best_params, m->params_size * (size_t)m->real_size);
  *final_tr = (nn_stats){S->best_tr[0], S->best_tr[1]};
  *final_te = (nn_stats){S->best_te[0], S->best_te[1]};
  if (!R->o.quiet) {
    char fig[64];
    nn_stop_figure(m, S, fig, sizeof fig);
    printf("restored the parameters of epoch %d (%s)\n", S->best_epoch, fig);
  }
}

/* --plot: the epoch's figures. */
static void nn_curve_add(nn_train *T, int e, const nn_stats *tr, const nn_stats *te,
                         int has_test) {
  if (!T->curve[0])
    return;
  int k = T->ncurve++;
  T->curve[0][k] = e;
  T->curve[1][k] = tr->loss;
  T->curve[2][k] = tr->acc >= 0 ? tr->acc : NAN;
  T->curve[3][k] = has_test ? te->loss : NAN;
  T->curve[4][k] = has_test && te->acc >= 0 ? te->acc : NAN;
}

/* --plot FILE.svg after training, titled with the model and its source. */
static int nn_curve_plot(nn_run *R, nn_train *T) {
  if (!R->o.plot)
    return 0;
  char err[1024], title[600];
  snprintf(title, sizeof title, "%s (%s)", R->m->name, R->m->source);
  if (nn_plot_svg(R->o.plot, title, T->ncurve, T->curve[0], T->curve[1], T->curve[3],
                  T->curve[2], T->curve[4], err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (!R->o.quiet)
    printf("plotted %s\n", R->o.plot);
  return 0;
}

/* The run has its epochs, or early stopping has ended it. */
static int nn_epochs_done(const nn_run *R, const nn_train *T) {
  return T->st.epoch >= R->o.epochs ||
         (R->m->early_stop && T->st.since >= R->m->patience && T->st.pos == 0);
}

/* The epochs from T->st on; the figures of the last one in *final_tr /
 * *final_te (with early stopping: of the best epoch, whose parameters are
 * restored); *ran: epochs finished by this process.  Returns the exit
 * status (0, 1, or 128 + a signal's number). */
static int nn_epochs(nn_run *R, nn_train *T, nn_stats *final_tr, nn_stats *final_te, int *ran) {
  const nn_model *m = R->m;
  nn_resume *S = &T->st;
  int has_test = T->te.n > 0, has_valid = T->va.n > 0, stop = 0, rc = 0;
  nn_stats va = {0, -1};
  *ran = 0;
  while (!stop && !nn_epochs_done(R, T)) {
    if (nn_stop_agreed(R)) /* during the loading of the data */
      return nn_interrupted(R, T);
    double secs;
    int e = S->epoch + 1, r = nn_epoch(R, T, final_tr, &secs);
    if (r == 2)
      return nn_interrupted(R, T);
    if (r || (has_valid && nn_evaluate(R, &T->va, &va)) ||
        (has_test && nn_evaluate(R, &T->te, final_te)))
      return 1;
    double sps = secs > 0 ? T->tr.n / secs : 0, elapsed = nn_now() - T->t0;
    if (T->log)
      nn_log_row(T->log, e, final_tr, final_te, has_test, &va, has_valid, sps, elapsed);
    nn_curve_add(T, e, final_tr, final_te, has_test);
    if (!R->o.quiet)
      nn_epoch_line(R, e, final_tr, final_te, has_test, &va, has_valid, sps, elapsed);
    S->epoch = e;
    S->pos = 0;
    (*ran)++;
    if (nn_same_params(R, "after an epoch (an allreduce that did not give every rank the "
                          "same sum?)"))
      return 1;
    stop = m->early_stop && nn_stop_after(R, T, &va, final_tr, final_te, e);
    if (R->o.ck_epochs > 0 && e % R->o.ck_epochs == 0 && nn_save_state(R, T))
      return 1;
    if (nn_stop_agreed(R))
      return nn_interrupted(R, T);
    if (stop && !R->o.quiet)
      printf("early stopping after epoch %d: no better %s than epoch %d's for %d epochs\n", e,
             m->early_stop == NN_STOP_LOSS ? "validation loss" : "validation accuracy",
             S->best_epoch, m->patience);
  }
  /* The final state, before the best epoch's parameters come back, so
   * that a resume with more epochs goes on from the last one. */
  if (R->o.checkpoint && (rc = nn_save_state(R, T)) == 0 && !R->o.quiet)
    printf("saved the training state to %s\n", R->ck_path);
  if (rc == 0 && S->best_epoch > 0)
    nn_stop_restore(R, T, final_tr, final_te);
  return rc;
}

static void nn_train_banner(nn_run *R, const nn_train *T) {
  const nn_model *m = R->m;
  printf("model %s (%s): %zu parameters, batch %d, %s lr %g", m->name, m->source,
         nn_param_count(m), m->batch, m->optimizer, R->o.lr);
  if (m->momentum != 0)
    printf(" momentum %g", m->momentum);
  if (m->weight_decay != 0)
    printf(" weight decay %g", m->weight_decay);
  printf(", %d epochs, seed %llu\n", R->o.epochs, (unsigned long long)R->o.seed);
  printf("train: %s (%d rows)", T->tr.name, T->tr.n);
  if (T->va.n > 0)
    printf("  validation: %s (%d rows)", T->va.name, T->va.n);
  if (T->te.n > 0)
    printf("  test: %s (%d rows)", T->te.name, T->te.n);
  printf("\n");
  if (m->early_stop)
    printf("early stopping: on the validation %s, patience %d epochs, min_delta %g\n",
           m->early_stop == NN_STOP_LOSS ? "loss" : "accuracy", m->patience, m->min_delta);
  const nn_dataset *sets[2] = {&T->tr, &T->te};
  const char *what[2] = {"train", "test"};
  for (int i = 0; i < 2; i++)
    if (sets[i]->text_len > 0)
      printf("%s text: %ld characters, %d distinct, unigram entropy %.3f bits/char\n", what[i],
             sets[i]->text_len, sets[i]->distinct, sets[i]->unigram_bits);
  if (T->tr.text_len > 0)
    printf("vocabulary: %d characters (from %s)\n", R->c.nvocab, R->vocab_from);
  if (R->size > 1)
    printf("mpi: %d ranks, global batch %d, allreduce of %zu bytes a step\n", R->size,
           R->gbatch, m->params_size * (size_t)m->real_size);
}

/* The validation set: --validation FILE, the model's validation source, or
 * validation = F of the training rows held out (stream NN_RNG_SPLIT of the
 * seed, drawn before anything else uses the training set). */
static int nn_valid_set(nn_run *R, nn_train *T, const nn_data_spec *spec) {
  const nn_model *m = R->m;
  if (nn_load_data(R, R->o.valid, &m->valid, spec, &T->va, 0))
    return 1;
  if (T->va.n == 0 && m->val_frac > 0) {
    if (T->tr.text_len > 0) {
      fprintf(stderr, "%s: error: validation = %g cannot hold out rows of the text %s (it is "
                      "read as streams); give --validation FILE\n", R->prog, m->val_frac,
              T->tr.name);
      return 1;
    }
    nn_rng rng;
    nn_rng_seed(&rng, R->o.seed, NN_RNG_SPLIT);
    char err[1024];
    if (nn_data_split(&T->tr, m->val_frac, &rng, &T->va, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
  }
  if (m->early_stop && T->va.n == 0) {
    fprintf(stderr, "%s: error: model '%s' stops early on a validation set, and there is "
                    "none: give --validation FILE\n", R->prog, m->name);
    return 1;
  }
  return 0;
}

/* The log: a new file with its header, or, resuming, the old one
 * appended to (a header only if it is empty). */
static int nn_open_log(nn_run *R, nn_train *T) {
  if (!R->o.log || R->rank > 0)
    return 0;
  if (!(T->log = fopen(R->o.log, T->resumed ? "a" : "w"))) {
    fprintf(stderr, "%s: error: cannot write %s: %s\n", R->prog, R->o.log, strerror(errno));
    return 1;
  }
  if (ftell(T->log) <= 0)
    fprintf(T->log, "epoch,train_loss,train_acc,test_loss,test_acc,%ssamples_per_s,elapsed_s\n",
            T->va.n > 0 ? "val_loss,val_acc," : "");
  return 0;
}

/* The state of a new run (or check the resumed one against the data):
 * the order, the shuffle stream, the best-parameters buffer. */
static int nn_train_state(nn_run *R, nn_train *T) {
  const nn_model *m = R->m;
  nn_resume *S = &T->st;
  for (int i = 0; R->o.plot && i < 5; i++)
    if (!(T->curve[i] = malloc(((size_t)R->o.epochs + 1) * sizeof *T->curve[i]))) {
      fprintf(stderr, "%s: error: out of memory\n", R->prog);
      return 1;
    }
  if (T->resumed && S->nrows != T->tr.n) {
    fprintf(stderr, "%s: error: %s was written by a run on %d training rows; %s has %d (resume "
                    "with the same training data)\n", R->prog, R->o.resume, S->nrows,
            T->tr.name, T->tr.n);
    return 1;
  }
  if (!T->resumed)
    nn_rng_seed(&S->rng, R->o.seed, NN_RNG_SHUFFLE);
  S->seed = R->o.seed; /* the run's settings, as every checkpoint records them */
  S->lr = R->o.lr;
  S->epochs = R->o.epochs;
  S->nrows = T->tr.n;
  if ((!S->order && !(S->order = nn_identity(T->tr.n))) ||
      (m->early_stop && !S->best_params &&
       !(S->best_params = malloc(m->params_size * (size_t)m->real_size + 1)))) {
    fprintf(stderr, "%s: error: out of memory\n", R->prog);
    return 1;
  }
  if (T->resumed && R->c.step > 0) /* the rate of the last step, for the epoch line */
    R->lr = nn_schedule_lr(&m->schedule, R->o.lr, S->pos > 0 ? S->epoch : S->epoch - 1,
                           R->o.epochs, R->c.step - 1);
  return 0;
}

static void nn_resume_banner(nn_run *R, const nn_train *T) {
  const nn_resume *S = &T->st;
  if (T->resumed) {
    printf("resumed %s: %d epoch%s done", R->o.resume, S->epoch, S->epoch == 1 ? "" : "s");
    if (S->pos > 0)
      printf(", epoch %d at row %d of %d", S->epoch + 1, S->pos, T->tr.n);
    printf(" (step %llu)\n", (unsigned long long)R->c.step);
  }
  if (R->o.ck_steps > 0 || R->o.ck_epochs > 0)
    printf("checkpoints: the training state every %d %s to %s\n",
           R->o.ck_steps > 0 ? R->o.ck_steps : R->o.ck_epochs,
           R->o.ck_steps > 0 ? "steps" : "epochs", R->ck_path);
}

/* The data sets, the state and the log of a training run: 0, or 1 on
 * every rank when any failed. */
static int nn_train_setup(nn_run *R, nn_train *T) {
  nn_data_spec spec = nn_spec(R->m);
  int rc = 0;
  if (nn_load_data(R, R->o.train, &R->m->train, &spec, &T->tr, 1)) {
    rc = 1;
  } else if (T->tr.n == 0) {
    fprintf(stderr, "%s: error: model '%s' has no training data; give --train FILE\n", R->prog,
            R->m->name);
    rc = 1;
  } else if (nn_load_data(R, R->o.test, &R->m->test, &spec, &T->te, 0) ||
             nn_valid_set(R, T, &spec) || nn_train_state(R, T) || nn_open_log(R, T)) {
    rc = 1;
  }
  if (!nn_all_ok(R, &rc))
    return rc;
  return nn_same_data(R, &T->tr, "training") || nn_same_data(R, &T->te, "test") ||
         nn_same_data(R, &T->va, "validation");
}

/* rank 0 saves --save; every rank returns 1 if it could not */
static int nn_final_save(nn_run *R) {
  int rc = 0;
  if (R->o.save && R->rank == 0) {
    char err[1024];
    if (nn_ckpt_save(R->o.save, R->m, &R->c, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      rc = 1;
    } else if (!R->o.quiet) {
      printf("saved %s\n", R->o.save);
    }
  }
  return nn_mpi_any(rc);
}

static int nn_train_run(nn_run *R, nn_train *T) {
  if (nn_train_setup(R, T))
    return 1;
  if (!R->o.quiet)
    nn_train_banner(R, T);
  if (!R->o.quiet && (T->resumed || R->o.ck_steps > 0 || R->o.ck_epochs > 0))
    nn_resume_banner(R, T);
  fflush(stdout); /* the banner before the first epoch, also into a pipe or file */
  T->t0 = nn_now() - T->st.elapsed;
  nn_stats tr = {0, -1}, te = {0, -1};
  int ran, rc = nn_epochs(R, T, &tr, &te, &ran);
  if (rc)
    return rc;
  /* No epoch run here: the final figures come from an evaluation. */
  if (ran == 0 && T->st.best_epoch == 0 &&
      nn_evaluate(R, T->te.n > 0 ? &T->te : &T->tr, T->te.n > 0 ? &te : &tr))
    return 1;
  if (nn_mpi_any(R->rank == 0 && nn_curve_plot(R, T)))
    return 1;
  char line[256];
  nn_stats_text(T->te.n > 0 ? "test" : "train", T->te.n > 0 ? &te : &tr,
                nn_bits_per_char(R->m), line, sizeof line);
  printf("final: %s\n", line);
  if (!R->o.quiet)
    nn_memory_report(R, T);
  if (!R->o.quiet && R->size > 1)
    printf("mpi: rank 0 spent %.1f s of %.1f s in the steps' allreduces (%.0f%%)\n",
           R->comm_secs, nn_now() - T->t0, 100 * R->comm_secs / fmax(nn_now() - T->t0, 1e-9));
  return nn_final_save(R);
}

/* Training, with SIGINT and SIGTERM caught for its length. */
static int nn_mode_train(nn_run *R) {
  nn_train T;
  memset(&T, 0, sizeof T);
  T.st = R->rs; /* the resumed state, or zeros */
  T.resumed = R->o.resume != NULL;
  /* (not under MPI: mpirun gives rank 0 a pseudo-terminal even when its
   * own output goes to a file) */
  T.tty = !R->o.quiet && R->size == 1 && isatty(STDOUT_FILENO);
  memset(&R->rs, 0, sizeof R->rs);
  /* The masks and noise of dropout and noise layers are a function of
   * (seed, step, element): rank r > 0 draws its own from seed + r phi
   * (rank 0 those of the run's seed), so the ranks' rows get independent
   * masks rather than the same ones. */
  if (R->rank > 0)
    R->c.seed = R->o.seed + (uint64_t)R->rank * 0x9e3779b97f4a7c15ull;
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = nn_on_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  nn_stop_signal = 0;
  R->stop = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  int rc = nn_train_run(R, &T);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  if (T.log && fclose(T.log) != 0 && rc == 0) {
    fprintf(stderr, "%s: error: cannot write %s\n", R->prog, R->o.log);
    rc = 1;
  }
  nn_resume_free(&T.st);
  for (int i = 0; i < 5; i++)
    free(T.curve[i]);
  nn_data_free(&T.tr);
  nn_data_free(&T.te);
  nn_data_free(&T.va);
  fflush(stdout);
  return rc;
}

/* ----------------------------------------------------------------- generate
 *
 * The compiled model has a fixed window of T steps and batch B, so each new
 * character is one forward pass over row 0 of a batch of 1 (nb = 1): after
 * reset(), the last min(len, T) characters of the context at positions
 * 0.. (the rest id 0), and the output at the last filled position is the
 * distribution of the next character.  Only ids below the vocabulary's
 * size are characters: the output's other entries are left out and the
 * rest renormalised. */

/* Sampling weights of the characters from the output z at one step, with
 * the temperature X: probabilities p give p^(1/X), logits z give
 * exp(z / X), both relative to the largest (so nothing overflows); *sum is
 * their sum.  -1 with a message when z is not a distribution. */
static int nn_gen_weights(nn_run *R, const float *z, int k, int step, double *q,
                          double *sum) {
  const nn_model *m = R->m;
  int nv = R->c.nvocab;
  double top = -INFINITY;
  for (int v = 0; v < nv; v++) {
    double a = z[v];
    if (!isfinite(a) || (!m->out_logits && a < 0)) {
      char c[16];
      fprintf(stderr, "%s: error: generating character %d: the model's output at step %d is "
                      "%g for id %d, character %s: not a %s\n", R->prog, k + 1, step + 1, a, v,
              nn_byte_text(R->c.vocab[v], c), m->out_logits ? "finite logit" : "probability");
      return -1;
    }
    q[v] = m->out_logits ? a : a > 0 ? log(a) : -INFINITY;
    top = fmax(top, q[v]);
  }
  if (top == -INFINITY) {
    fprintf(stderr, "%s: error: generating character %d: the model's output at step %d gives "
                    "every character probability 0\n", R->prog, k + 1, step + 1);
    return -1;
  }
  *sum = 0;
  for (int v = 0; v < nv; v++) {
    q[v] = q[v] == -INFINITY ? 0 : exp((q[v] - top) / R->o.temperature);
    *sum += q[v];
  }
  return 0;
}

/* An id drawn with probability q[v] / sum. */
static int nn_gen_sample(nn_rng *r, const double *q, int nv, double sum) {
  double u = nn_rng_uniform(r) * sum, acc = 0;
  int last = 0;
  for (int v = 0; v < nv; v++) {
    if (q[v] <= 0)
      continue;
    acc += q[v];
    last = v;
    if (u < acc)
      return v;
  }
  return last; /* u within rounding of sum */
}

/* The model can generate: token input, an output of V values a step. */
static int nn_gen_check_model(nn_run *R) {
  const nn_model *m = R->m;
  if (m->vocab <= 0 || m->steps <= 0 || m->in_dim != m->steps)
    return nn_usage_error(R->prog, "--generate needs a token model (input : int[T, V]); model "
                                   "'%s' reads %d real values", m->name, m->in_dim);
  if (m->out_dim != m->steps * m->vocab)
    return nn_usage_error(R->prog, "--generate needs an output of T x V = %d x %d values a "
                                   "sample (a distribution over the vocabulary at every step); "
                                   "model '%s' outputs %d", m->steps, m->vocab, m->name,
                          m->out_dim);
  return 0;
}

/* The prime's ids into ctx (the default prime: a newline if the vocabulary
 * has one, else its first character); the count, or -1. */
static int nn_gen_prime(nn_run *R, int32_t *ctx) {
  int id[256];
  for (int b = 0; b < 256; b++)
    id[b] = -1;
  for (int v = R->c.nvocab - 1; v >= 0; v--)
    id[R->c.vocab[v]] = v;
  if (!R->o.prime) {
    ctx[0] = id['\n'] >= 0 ? id['\n'] : 0;
    return 1;
  }
  int n = 0;
  for (const unsigned char *p = (const unsigned char *)R->o.prime; *p; p++) {
    if (id[*p] < 0) {
      char c[16];
      nn_usage_error(R->prog, "--prime: character %s is not in the vocabulary of %s",
                     nn_byte_text(*p, c), R->vocab_from);
      return -1;
    }
    ctx[n++] = id[*p];
  }
  return n;
}

/* Sample N characters after the prime; write the prime and them. */
static int nn_gen_run(nn_run *R, int32_t *ctx, int plen, double *q, FILE *f) {
  const nn_model *m = R->m;
  int T = m->steps, V = m->vocab, N = R->o.generate;
  nn_rng r;
  nn_rng_seed(&r, R->o.seed, NN_RNG_GENERATE);
  for (int i = 0; i < plen; i++)
    fputc(R->c.vocab[ctx[i]], f);
  for (int k = 0; k < N; k++) {
    int len = plen + k, w = len < T ? len : T;
    nn_reset(R);
    memset(R->xb, 0, (size_t)m->in_dim * sizeof *R->xb);
    for (int i = 0; i < w; i++)
      R->xb[i] = (float)ctx[len - w + i];
    m->forward(&R->c, R->xb, NULL, NULL, 1, NULL);
    m->output(&R->c, 1, R->out);
    double sum;
    if (nn_gen_weights(R, R->out + (size_t)(w - 1) * (size_t)V, k, w - 1, q, &sum))
      return 1;
    ctx[len] = nn_gen_sample(&r, q, R->c.nvocab, sum);
    fputc(R->c.vocab[ctx[len]], f);
  }
  return 0;
}

static int nn_mode_generate(nn_run *R) {
  if (nn_gen_check_model(R))
    return 2;
  if (nn_need_vocab(R))
    return 1;
  if (R->c.nvocab == 0) {
    nn_usage_error(R->prog, "--generate needs a vocabulary: --load a checkpoint saved by a "
                            "training run on text, or give the training text (--train FILE)");
    return 2;
  }
  const char *prime = R->o.prime;
  size_t plen = prime ? strlen(prime) : 1;
  int32_t *ctx = malloc((plen + (size_t)R->o.generate + 1) * sizeof *ctx);
  double *q = malloc(257 * sizeof *q); /* nvocab <= 256 */
  int rc = 1, n = -1;
  if (!ctx || !q)
    fprintf(stderr, "%s: error: out of memory\n", R->prog);
  else if ((n = nn_gen_prime(R, ctx)) < 0)
    rc = 2;
  if (n > 0) {
    if (!R->o.load && !R->o.quiet)
      fprintf(stderr, "%s: note: generating with untrained parameters (no --load)\n", R->prog);
    const char *name = R->o.output ? R->o.output : "stdout";
    FILE *f = R->o.output ? fopen(R->o.output, "w") : stdout;
    if (!f) {
      fprintf(stderr, "%s: error: cannot write %s: %s\n", R->prog, name, strerror(errno));
    } else {
      rc = nn_gen_run(R, ctx, n, q, f);
      int bad = ferror(f);
      if ((f == stdout ? fflush(f) : fclose(f)) != 0 || bad) {
        fprintf(stderr, "%s: error: cannot write %s\n", R->prog, name);
        rc = 1;
      }
    }
  }
  free(ctx);
  free(q);
  return rc;
}

/* -------------------------------------------------------------------- main */

/* --resume FILE: parameters, optimizer state and the training state; the
 * run keeps the seed of the one that wrote it, and its rate and epochs
 * unless --lr / --epochs say otherwise.  0, 1 (bad file) or 2 (usage). */
static int nn_resume_load(nn_run *R) {
  char err[1024];
  if (nn_ckpt_load_state(R->o.resume, R->m, &R->c, &R->rs, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (R->o.seed_set && R->o.seed != R->rs.seed) {
    nn_usage_error(R->prog, "--seed %llu: the run in %s has seed %llu, and a resumed run keeps "
                            "its seed (leave --seed out)", (unsigned long long)R->o.seed,
                   R->o.resume, (unsigned long long)R->rs.seed);
    return 2;
  }
  R->o.seed = R->c.seed = R->rs.seed;
  if (!R->o.lr_set)
    R->o.lr = R->rs.lr;
  if (!R->o.epochs_set)
    R->o.epochs = R->rs.epochs;
  if (R->c.nvocab > 0)
    snprintf(R->vocab_from, sizeof R->vocab_from, "the checkpoint %s", R->o.resume);
  return 0;
}

/* --load FILE: the parameters; 0 or 1. */
static int nn_load_params(nn_run *R) {
  char err[1024];
  if (nn_ckpt_load(R->o.load, R->m, &R->c, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (R->c.nvocab > 0)
    snprintf(R->vocab_from, sizeof R->vocab_from, "the checkpoint %s", R->o.load);
  if (!R->o.quiet && !R->o.predict && R->o.generate < 0)
    printf("loaded %s\n", R->o.load);
  return 0;
}

static int nn_run_modes(nn_run *R) {
  const nn_model *m = R->m;
  if (R->size > 1 && m->stateful) {
    if (R->rank == 0)
      fprintf(stderr, "%s: error: model '%s' is stateful (its hidden state carries from one "
                      "batch to the next along its streams), so its batches cannot be split "
                      "across %d MPI ranks: run it in one process\n", R->prog, m->name, R->size);
    return 2;
  }
  if (R->o.threads > 0 && m->set_threads)
    m->set_threads(R->o.threads);
  nn_rng init;
  nn_rng_seed(&init, R->o.seed, NN_RNG_INIT);
  m->init(&R->c, &init);
  int rc = R->o.load ? nn_load_params(R) : 0;
  if (rc == 0 && R->o.resume)
    rc = nn_resume_load(R);
  if (!nn_all_ok(R, &rc))
    return rc;
  if (nn_same_params(R, "before training (--load and --resume files must be the same on "
                        "every rank)"))
    return 1;
  if (R->o.checkpoint)
    snprintf(R->ck_path, sizeof R->ck_path, "%s", R->o.checkpoint);
  else
    snprintf(R->ck_path, sizeof R->ck_path, "%s.resume.safetensors", m->name);
  if (R->o.gradcheck)
    return nn_mode_gradcheck(R);
  if (R->o.bench || R->o.bench_infer)
    return nn_mode_bench(R);
  if (R->o.generate >= 0)
    return nn_mode_generate(R);
  if (R->o.predict)
    return nn_mode_predict(R);
  if (R->o.eval)
    return nn_mode_eval(R);
  return nn_mode_train(R);
}

/* Under MPI: rank and size; a rank > 0 writes nothing to stdout and
 * names itself in its messages ("train (rank 1): error: ..."). */
static int nn_mpi_start(nn_run *R, int *argc, char ***argv) {
  char err[256];
  if (nn_mpi_init(argc, argv, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", R->prog, err);
    return -1;
  }
  R->rank = nn_mpi_rank();
  R->size = nn_mpi_size();
  R->gbatch = R->size * R->m->batch;
  if (R->rank > 0) {
    snprintf(R->prog_rank, sizeof R->prog_rank, "%s (rank %d)", R->prog, R->rank);
    R->prog = R->prog_rank;
    nn_usage_silent = 1;
    opterr = 0; /* getopt's own messages too */
    int fd = open("/dev/null", O_WRONLY); /* (if not, its output stays) */
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
  }
  return 0;
}

int nn_main(int argc, char **argv, const nn_model *m) {
  nn_run R;
  memset(&R, 0, sizeof R);
  R.prog = nn_basename(argc > 0 && argv[0] ? argv[0] : "train");
  R.m = m;
  if (nn_mpi_start(&R, &argc, &argv))
    return 1;
  int p = nn_parse_args(&R, argc, argv); /* the same verdict on every rank */
  int rc = p > 0 ? 0 : p < 0 ? 2 : nn_run_alloc(&R) ? 1 : 0;
  if (p == 0 && nn_all_ok(&R, &rc))
    rc = nn_run_modes(&R);
  nn_run_free(&R);
  fflush(stdout);
  nn_mpi_finalize();
  return rc;
}
