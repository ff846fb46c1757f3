/* main.c — the trainer's command line and epoch loop (nn_main).
 *
 * Determinism: parameters are initialised from rng stream 0 of --seed and
 * the epoch orders drawn from stream 1; nothing depends on the clock except
 * the timing figures that are printed.
 */
#include "nnrt.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
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
#define NN_BENCH_WARMUP 10 /* untimed steps before --bench's timed ones */

typedef struct nn_opts {
  int epochs;
  double lr;
  uint64_t seed;
  int threads; /* 0: leave OpenMP's default */
  const char *train, *test, *save, *load, *predict, *output, *log;
  int eval, quiet, gradcheck;
  int bench, bench_infer; /* timed steps of --bench / --bench-infer (0: off) */
} nn_opts;

/* One run of the trainer: the model, its context and the batch buffers. */
typedef struct nn_run {
  const char *prog;
  const nn_model *m;
  nn_opts o;
  nn_ctx c;
  float *xb, *yb, *out;
  int32_t *cb;
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

static int nn_usage_error(const char *prog, const char *fmt, ...) {
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
  if (s->kind == NN_SRC_CSV)
    snprintf(buf, len, "%s", s->path);
  else if (s->kind == NN_SRC_IDX)
    snprintf(buf, len, "%s%s%s", s->path, s->path2 ? "," : "", s->path2 ? s->path2 : "");
  else
    snprintf(buf, len, "none");
}

static size_t nn_param_count(const nn_model *m) {
  size_t n = 0;
  for (int i = 0; i < m->nparams; i++)
    n += m->params[i].size;
  return n;
}

static void nn_help(const char *prog, const nn_model *m) {
  char train[512], test[512];
  nn_source_text(&m->train, train, sizeof train);
  nn_source_text(&m->test, test, sizeof test);
  printf("usage: %s [options]\n"
         "Trains model '%s' (compiled by nncc from %s): %zu parameters, loss %s.\n\n"
         "Options (the model's defaults in brackets):\n"
         "  --epochs N      training epochs [%d]\n"
         "  --lr X          learning rate of the %s optimizer, > 0 [%g]\n"
         "  --seed N        seed of parameter init and shuffling [%llu]\n"
         "  --threads N     OpenMP threads [the OpenMP default]\n"
         "  --train FILE    training data [%s]\n"
         "  --test FILE     test data, evaluated after every epoch [%s]\n"
         "  --load FILE     load parameters from a checkpoint before anything else\n"
         "  --save FILE     save a checkpoint (safetensors) after training [none]\n"
         "  --eval          only evaluate: the test data, or the training data\n"
         "                  if there is no test data; no training\n"
         "  --predict FILE  only run the model on FILE's rows and write one CSV\n"
         "                  line of %d outputs per row (targets in FILE are ignored)\n"
         "  --output FILE   where --predict writes [stdout]\n"
         "  --log FILE      per-epoch metrics as CSV: epoch,train_loss,train_acc,\n"
         "                  test_loss,test_acc,samples_per_s,elapsed_s (accuracies\n"
         "                  are fractions in [0, 1]; empty where there are none)\n"
         "  --quiet         print only the final summary line\n"
         "  --gradcheck     compare backward() with finite differences on random\n"
         "                  data (meaningful with -DNN_REAL=double); exit 1 on failure\n"
         "  --bench STEPS   time STEPS training steps (forward, backward, update) on\n"
         "                  one batch of random data (no data files) after %d warm-up\n"
         "                  steps; print one line: bench model=... samples_per_s=...\n"
         "  --bench-infer STEPS  the same for forward passes only (mode=infer)\n"
         "  --help          this text\n"
         "  --version       the model and runtime versions\n\n"
         "FILE is a CSV file or IDX files IMAGES[,LABELS] (gzip'd or plain; the\n"
         "kind is recognised from the content).  A CSV given here uses the header and\n"
         "label column of the model's training CSV (else: no header, target in the\n"
         "last column).\n"
         "Training runs batches of %d rows (compiled in), %s.\n"
         "An epoch's last batch keeps the remaining rows: it may be smaller, no row\n"
         "is dropped.\n"
         "Exit status: 0 ok, 1 data, checkpoint or training error (or a failed\n"
         "--gradcheck), 2 usage error.\n",
         prog, m->name, m->source, nn_param_count(m), m->loss_name, m->epochs,
         m->optimizer, m->lr, (unsigned long long)m->seed, train, test, m->out_dim,
         NN_BENCH_WARMUP, m->batch,
         m->shuffle ? "rows shuffled every epoch" : "rows in file order");
}

enum {
  OPT_EPOCHS = 256, OPT_LR, OPT_SEED, OPT_THREADS, OPT_TRAIN, OPT_TEST, OPT_SAVE, OPT_LOAD,
  OPT_EVAL, OPT_PREDICT, OPT_OUTPUT, OPT_LOG, OPT_QUIET, OPT_GRADCHECK, OPT_VERSION,
  OPT_BENCH, OPT_BENCH_INFER
};

static const struct option nn_long_opts[] = {
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"lr", required_argument, NULL, OPT_LR},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"train", required_argument, NULL, OPT_TRAIN},
    {"test", required_argument, NULL, OPT_TEST},
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
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* One option with its argument; -1 on a bad value. */
static int nn_opt(nn_run *R, int c, const char *arg) {
  nn_opts *o = &R->o;
  switch (c) {
  case OPT_EPOCHS:
    if (nn_parse_int(arg, 0, INT_MAX, &o->epochs))
      return nn_usage_error(R->prog, "--epochs needs a whole number >= 0, got '%s'", arg);
    break;
  case OPT_LR:
    if (nn_parse_pos_double(arg, &o->lr))
      return nn_usage_error(R->prog, "--lr needs a number > 0, got '%s'", arg);
    break;
  case OPT_SEED:
    if (nn_parse_u64(arg, &o->seed))
      return nn_usage_error(R->prog, "--seed needs a whole number >= 0, got '%s'", arg);
    break;
  case OPT_THREADS:
    if (nn_parse_int(arg, 1, 4096, &o->threads))
      return nn_usage_error(R->prog, "--threads needs a whole number >= 1, got '%s'", arg);
    break;
  case OPT_TRAIN: o->train = arg; break;
  case OPT_TEST: o->test = arg; break;
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
  default:
    return nn_usage_error(R->prog, "bad option");
  }
  return 0;
}

/* Options that contradict each other. */
static int nn_opts_check(nn_run *R) {
  const nn_opts *o = &R->o;
  int modes = o->eval + (o->predict != NULL) + o->gradcheck;
  int benches = (o->bench > 0) + (o->bench_infer > 0);
  if (modes > 1)
    return nn_usage_error(R->prog, "--eval, --predict and --gradcheck exclude each other");
  if (benches > 1 || (benches && modes))
    return nn_usage_error(R->prog, "--bench and --bench-infer exclude each other and "
                                   "--eval, --predict and --gradcheck");
  if (o->output && !o->predict)
    return nn_usage_error(R->prog, "--output goes with --predict");
  if ((modes || benches) && (o->save || o->log))
    return nn_usage_error(R->prog, "--save and --log go with training, not with %s",
                          o->eval ? "--eval" : o->predict ? "--predict"
                          : o->gradcheck ? "--gradcheck" : o->bench ? "--bench"
                          : "--bench-infer");
  if (benches && (o->train || o->test))
    return nn_usage_error(R->prog, "%s uses random data, not --train or --test",
                          o->bench ? "--bench" : "--bench-infer");
  return 0;
}

/* 0: run; 1: done (help, version); -1: usage error. */
static int nn_parse_args(nn_run *R, int argc, char **argv) {
  const nn_model *m = R->m;
  R->o = (nn_opts){.epochs = m->epochs, .lr = m->lr, .seed = m->seed};
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

/* A source from a command-line FILE: "IMAGES,LABELS" is IDX; a single
 * file is IDX or CSV by content.  *owned keeps the split string. */
static void nn_source_arg(const nn_model *m, const char *arg, nn_source *s, char **owned) {
  memset(s, 0, sizeof *s);
  *owned = NULL;
  const char *comma = strchr(arg, ',');
  if (comma && (*owned = strdup(arg)) != NULL) {
    (*owned)[comma - arg] = '\0';
    s->kind = NN_SRC_IDX;
    s->path = *owned;
    s->path2 = *owned + (comma - arg) + 1;
    return;
  }
  s->path = arg;
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
                    .ydim = m->ydim, .scale = m->scale};
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

/* Load from the command-line FILE if given, else from the model's source;
 * 0 with d->n == 0 when there is neither. */
static int nn_load_data(nn_run *R, const char *arg, const nn_source *model_src,
                        const nn_data_spec *spec, nn_dataset *d) {
  memset(d, 0, sizeof *d);
  nn_source s = *model_src;
  char *owned = NULL;
  if (arg)
    nn_source_arg(R->m, arg, &s, &owned);
  if (s.kind == NN_SRC_NONE)
    return 0;
  char err[1024];
  int rc = nn_data_load(&s, spec, d, err, sizeof err);
  free(owned);
  if (rc)
    fprintf(stderr, "%s\n", err);
  return rc;
}

/* ------------------------------------------------------------ batches, eval */

static int nn_run_alloc(nn_run *R) {
  const nn_model *m = R->m;
  size_t b = (size_t)m->batch;
  R->xb = malloc((b * (size_t)m->in_dim + 1) * sizeof *R->xb);
  R->yb = malloc((b * (size_t)(m->ydim > 0 ? m->ydim : 1) + 1) * sizeof *R->yb);
  R->out = malloc((b * (size_t)(m->out_dim > 0 ? m->out_dim : 1) + 1) * sizeof *R->out);
  R->cb = malloc((b + 1) * sizeof *R->cb);
  if (!R->xb || !R->yb || !R->out || !R->cb || nn_ctx_alloc(&R->c, m)) {
    fprintf(stderr, "%s: error: out of memory\n", R->prog);
    return -1;
  }
  return 0;
}

static void nn_run_free(nn_run *R) {
  free(R->xb);
  free(R->yb);
  free(R->out);
  free(R->cb);
  nn_ctx_free(&R->c);
}

static int32_t *nn_identity(int n) {
  int32_t *o = malloc(((size_t)n + 1) * sizeof *o);
  for (int i = 0; o && i < n; i++)
    o[i] = i;
  return o;
}

/* Forward over d in file order with targets: mean loss and accuracy. */
static int nn_evaluate(nn_run *R, const nn_dataset *d, nn_stats *st) {
  const nn_model *m = R->m;
  int32_t *order = nn_identity(d->n);
  if (!order) {
    fprintf(stderr, "%s: error: out of memory\n", R->prog);
    return -1;
  }
  double loss = 0, correct = 0;
  for (int start = 0; start < d->n; start += m->batch) {
    int nb = d->n - start < m->batch ? d->n - start : m->batch;
    nn_batch_gather(d, order, start, nb, R->xb, R->cb, R->yb);
    loss += nb * m->forward(&R->c, R->xb, d->cls ? R->cb : NULL, d->y ? R->yb : NULL, nb,
                            &correct);
  }
  free(order);
  st->loss = loss / d->n;
  st->acc = m->has_accuracy ? correct / d->n : -1;
  return 0;
}

static void nn_stats_text(const char *what, const nn_stats *s, char *buf, size_t len) {
  int k = snprintf(buf, len, "%s loss %.4f", what, s->loss);
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

static int nn_write_rows(nn_run *R, FILE *f, int nb) {
  const nn_model *m = R->m;
  R->m->output(&R->c, nb, R->out);
  for (int i = 0; i < nb; i++)
    for (int j = 0; j < m->out_dim; j++)
      fprintf(f, "%.6g%c", R->out[(size_t)i * (size_t)m->out_dim + (size_t)j],
              j + 1 < m->out_dim ? ',' : '\n');
  return ferror(f) ? -1 : 0;
}

/* Forward over d in file order, one CSV line of outputs per row. */
static int nn_predict_rows(nn_run *R, const nn_dataset *d, FILE *f) {
  const nn_model *m = R->m;
  int32_t *order = nn_identity(d->n);
  int rc = order ? 0 : -1;
  for (int start = 0; rc == 0 && start < d->n; start += m->batch) {
    int nb = d->n - start < m->batch ? d->n - start : m->batch;
    nn_batch_gather(d, order, start, nb, R->xb, NULL, NULL);
    m->forward(&R->c, R->xb, NULL, NULL, nb, NULL);
    rc = nn_write_rows(R, f, nb);
  }
  free(order);
  return rc;
}

static int nn_mode_predict(nn_run *R) {
  nn_data_spec spec = nn_spec_predict(R->m);
  nn_dataset d;
  nn_source none = {0};
  if (nn_load_data(R, R->o.predict, &none, &spec, &d))
    return 1;
  if (!R->o.load && !R->o.quiet)
    fprintf(stderr, "%s: note: predicting with untrained parameters (no --load)\n", R->prog);
  const char *name = R->o.output ? R->o.output : "stdout";
  FILE *f = R->o.output ? fopen(R->o.output, "w") : stdout;
  int rc = -1;
  if (!f) {
    fprintf(stderr, "%s: error: cannot write %s: %s\n", R->prog, name, strerror(errno));
  } else {
    rc = nn_predict_rows(R, &d, f);
    if ((f == stdout ? fflush(f) : fclose(f)) != 0)
      rc = -1;
    if (rc)
      fprintf(stderr, "%s: error: cannot write %s\n", R->prog, name);
  }
  nn_data_free(&d);
  return rc ? 1 : 0;
}

static int nn_mode_eval(nn_run *R) {
  nn_data_spec spec = nn_spec(R->m);
  nn_dataset d;
  const char *what = "test";
  if (nn_load_data(R, R->o.test, &R->m->test, &spec, &d))
    return 1;
  if (d.n == 0) {
    what = "train";
    if (nn_load_data(R, R->o.train, &R->m->train, &spec, &d))
      return 1;
  }
  if (d.n == 0) {
    fprintf(stderr, "%s: error: model '%s' has no data to evaluate; give --test FILE\n",
            R->prog, R->m->name);
    return 1;
  }
  nn_stats st;
  int rc = nn_evaluate(R, &d, &st) ? 1 : 0;
  if (rc == 0) {
    char line[256];
    nn_stats_text(what, &st, line, sizeof line);
    printf("eval: %s (%d samples)\n", line, d.n);
  }
  nn_data_free(&d);
  return rc;
}

/* -------------------------------------------------------------------- bench */

/* One batch of random data from stream NN_RNG_BENCH of --seed: inputs
 * uniform in [0, 1) (like scaled pixels), targets as the model's kind says:
 * random classes, uniform reals in [0, 1), or the input itself. */
static void nn_bench_batch(nn_run *R) {
  const nn_model *m = R->m;
  nn_rng r;
  nn_rng_seed(&r, R->o.seed, NN_RNG_BENCH);
  size_t b = (size_t)m->batch;
  for (size_t i = 0; i < b * (size_t)m->in_dim; i++)
    R->xb[i] = (float)nn_rng_uniform(&r);
  for (size_t i = 0; m->target == NN_TARGET_CLASS && i < b; i++)
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
  double l = m->forward(&R->c, R->xb, cls, y, nb, NULL);
  m->backward(&R->c, cls, y, nb);
  m->update(&R->c, R->o.lr);
  R->c.step++;
  return l;
}

/* --bench / --bench-infer: warm-up steps, then the timed ones; one line. */
static int nn_mode_bench(nn_run *R) {
  const nn_model *m = R->m;
  int infer = R->o.bench_infer > 0, steps = infer ? R->o.bench_infer : R->o.bench;
  nn_bench_batch(R);
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

typedef struct nn_train {
  nn_dataset tr, te;
  int32_t *order;
  FILE *log;
  nn_rng rng; /* shuffling */
  double t0;  /* start of training */
} nn_train;

/* One epoch over T->tr; 0, or 1 after a non-finite loss. */
static int nn_epoch(nn_run *R, nn_train *T, int epoch, nn_stats *st, double *seconds) {
  const nn_model *m = R->m;
  const nn_dataset *d = &T->tr;
  for (int i = 0; i < d->n; i++)
    T->order[i] = i;
  if (m->shuffle)
    nn_shuffle(&T->rng, T->order, d->n);
  double t = nn_now(), loss = 0, correct = 0;
  for (int start = 0, bi = 1; start < d->n; start += m->batch, bi++) {
    int nb = d->n - start < m->batch ? d->n - start : m->batch;
    const int32_t *cls = d->cls ? R->cb : NULL;
    const float *y = d->y ? R->yb : NULL;
    nn_batch_gather(d, T->order, start, nb, R->xb, R->cb, R->yb);
    double l = m->forward(&R->c, R->xb, cls, y, nb, &correct);
    if (!isfinite(l)) {
      fprintf(stderr, "%s: error: loss is not finite (%s) at epoch %d, batch %d\n", R->prog,
              isnan(l) ? "nan" : l > 0 ? "inf" : "-inf", epoch, bi);
      return 1;
    }
    m->backward(&R->c, cls, y, nb);
    m->update(&R->c, R->o.lr);
    R->c.step++;
    loss += nb * l;
  }
  *seconds = nn_now() - t;
  st->loss = loss / d->n;
  st->acc = m->has_accuracy ? correct / d->n : -1;
  return 0;
}

static void nn_log_row(FILE *f, int epoch, const nn_stats *tr, const nn_stats *te, int has_test,
                       double sps, double elapsed) {
  fprintf(f, "%d,%.6g,", epoch, tr->loss);
  if (tr->acc >= 0)
    fprintf(f, "%.6g", tr->acc);
  fprintf(f, ",");
  if (has_test)
    fprintf(f, "%.6g", te->loss);
  fprintf(f, ",");
  if (has_test && te->acc >= 0)
    fprintf(f, "%.6g", te->acc);
  fprintf(f, ",%.6g,%.3f\n", sps, elapsed);
  fflush(f);
}

static void nn_epoch_line(nn_run *R, int epoch, const nn_stats *tr, const nn_stats *te,
                          int has_test, double sps, double elapsed) {
  char a[128], b[128] = "";
  int w = snprintf(NULL, 0, "%d", R->o.epochs);
  nn_stats_text("train", tr, a, sizeof a);
  if (has_test)
    nn_stats_text("  test", te, b, sizeof b);
  printf("epoch %*d/%d  %s%s  %.0f samples/s  %.1fs\n", w < 2 ? 2 : w, epoch, R->o.epochs, a,
         b, sps, elapsed);
  fflush(stdout);
}

/* The epochs; the figures of the last one in *final_tr / *final_te. */
/* The static plan (four arenas, from the descriptor) plus the data sets,
 * against the peak resident set the kernel measured. */
static void nn_memory_report(const nn_run *R, const nn_train *T) {
  const nn_model *m = R->m;
  double mb = 1.0 / (1024 * 1024);
  double plan = (double)(2 * m->params_size + m->state_size + m->acts_size) * m->real_size;
  double data = 0;
  const nn_dataset *sets[2] = {&T->tr, &T->te};
  for (int i = 0; i < 2; i++)
    data += (double)sets[i]->n * ((double)sets[i]->dim * 4 + (sets[i]->cls ? 4 : 0) +
                                  (sets[i]->y ? (double)sets[i]->ydim * 4 : 0));
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    printf("memory: plan %.1f MB + data %.1f MB; peak RSS %.1f MB\n", plan * mb, data * mb,
           (double)ru.ru_maxrss / 1024);
}

static int nn_epochs(nn_run *R, nn_train *T, nn_stats *final_tr, nn_stats *final_te) {
  int has_test = T->te.n > 0;
  for (int e = 1; e <= R->o.epochs; e++) {
    double secs;
    if (nn_epoch(R, T, e, final_tr, &secs))
      return 1;
    if (has_test && nn_evaluate(R, &T->te, final_te))
      return 1;
    double sps = secs > 0 ? T->tr.n / secs : 0, elapsed = nn_now() - T->t0;
    if (T->log)
      nn_log_row(T->log, e, final_tr, final_te, has_test, sps, elapsed);
    if (!R->o.quiet)
      nn_epoch_line(R, e, final_tr, final_te, has_test, sps, elapsed);
  }
  return 0;
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
  if (T->te.n > 0)
    printf("  test: %s (%d rows)", T->te.name, T->te.n);
  printf("\n");
}

static int nn_train_run(nn_run *R, nn_train *T) {
  nn_data_spec spec = nn_spec(R->m);
  if (nn_load_data(R, R->o.train, &R->m->train, &spec, &T->tr))
    return 1;
  if (T->tr.n == 0) {
    fprintf(stderr, "%s: error: model '%s' has no training data; give --train FILE\n", R->prog,
            R->m->name);
    return 1;
  }
  if (nn_load_data(R, R->o.test, &R->m->test, &spec, &T->te))
    return 1;
  if (R->o.log && !(T->log = fopen(R->o.log, "w"))) {
    fprintf(stderr, "%s: error: cannot write %s: %s\n", R->prog, R->o.log, strerror(errno));
    return 1;
  }
  if (T->log)
    fprintf(T->log, "epoch,train_loss,train_acc,test_loss,test_acc,samples_per_s,elapsed_s\n");
  if (!(T->order = nn_identity(T->tr.n))) {
    fprintf(stderr, "%s: error: out of memory\n", R->prog);
    return 1;
  }
  if (!R->o.quiet)
    nn_train_banner(R, T);
  nn_rng_seed(&T->rng, R->o.seed, NN_RNG_SHUFFLE);
  T->t0 = nn_now();
  nn_stats tr = {0, -1}, te = {0, -1};
  if (nn_epochs(R, T, &tr, &te))
    return 1;
  /* No epoch run: the final figures come from an evaluation. */
  if (R->o.epochs == 0 && nn_evaluate(R, T->te.n > 0 ? &T->te : &T->tr, T->te.n > 0 ? &te : &tr))
    return 1;
  char line[256];
  nn_stats_text(T->te.n > 0 ? "test" : "train", T->te.n > 0 ? &te : &tr, line, sizeof line);
  printf("final: %s\n", line);
  if (!R->o.quiet)
    nn_memory_report(R, T);
  if (R->o.save) {
    char err[1024];
    if (nn_ckpt_save(R->o.save, R->m, &R->c, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
    if (!R->o.quiet)
      printf("saved %s\n", R->o.save);
  }
  return 0;
}

static int nn_mode_train(nn_run *R) {
  nn_train T;
  memset(&T, 0, sizeof T);
  int rc = nn_train_run(R, &T);
  if (T.log && fclose(T.log) != 0 && rc == 0) {
    fprintf(stderr, "%s: error: cannot write %s\n", R->prog, R->o.log);
    rc = 1;
  }
  free(T.order);
  nn_data_free(&T.tr);
  nn_data_free(&T.te);
  fflush(stdout);
  return rc;
}

/* -------------------------------------------------------------------- main */

static int nn_run_modes(nn_run *R) {
  const nn_model *m = R->m;
  if (R->o.threads > 0 && m->set_threads)
    m->set_threads(R->o.threads);
  nn_rng init;
  nn_rng_seed(&init, R->o.seed, NN_RNG_INIT);
  m->init(&R->c, &init);
  if (R->o.load) {
    char err[1024];
    if (nn_ckpt_load(R->o.load, m, &R->c, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
    if (!R->o.quiet && !R->o.predict)
      printf("loaded %s\n", R->o.load);
  }
  if (R->o.gradcheck)
    return nn_mode_gradcheck(R);
  if (R->o.bench || R->o.bench_infer)
    return nn_mode_bench(R);
  if (R->o.predict)
    return nn_mode_predict(R);
  if (R->o.eval)
    return nn_mode_eval(R);
  return nn_mode_train(R);
}

int nn_main(int argc, char **argv, const nn_model *m) {
  nn_run R;
  memset(&R, 0, sizeof R);
  R.prog = nn_basename(argc > 0 && argv[0] ? argv[0] : "train");
  R.m = m;
  int p = nn_parse_args(&R, argc, argv);
  if (p != 0)
    return p > 0 ? 0 : 2;
  int rc = nn_run_alloc(&R) ? 1 : nn_run_modes(&R);
  nn_run_free(&R);
  fflush(stdout);
  return rc;
}
