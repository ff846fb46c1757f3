/* test_rt_main.c — nn_main end to end and nn_gradcheck, with a hand-written
 * nn_model: softmax regression (z = W x + b, p = softmax(z), loss = mean
 * -log p[class], plain SGD) on three separable 2-D blobs
 * (data/blobs_*.csv), in float or double. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnrt.h"

/* ------------------------------------------------------- the test model */

typedef struct tmodel {
  nn_model m;
  nn_param p[2];
} tmodel;

/* The callbacks get no model pointer: they serve `cur`. */
static const nn_model *cur;
static int broken;          /* 1: backward doubles the bias gradient */
static long poison_at;      /* forward call number that returns NaN (0: none) */
static long calls;          /* forward calls */
static long rows_backward;  /* rows seen by backward */
static int last_nb;         /* nb of the last backward */
static int threads_set;     /* argument of the last set_threads */
static float first_x[64];   /* x[0] of the first row of each epoch's first batch */
static int nfirst;
static long bad_inputs;     /* forward rows with x outside [0, 1), backward
                               rows with a class outside [0, K) */

static double rd(const void *a, size_t i) {
  return cur->real_size == 8 ? ((const double *)a)[i] : ((const float *)a)[i];
}

static void wr(void *a, size_t i, double v) {
  if (cur->real_size == 8)
    ((double *)a)[i] = v;
  else
    ((float *)a)[i] = (float)v;
}

static void sm_init(nn_ctx *c, nn_rng *r) {
  size_t kd = (size_t)cur->nclasses * (size_t)cur->in_dim;
  nn_init_uniform(c->params, cur->real_size, kd, -0.1, 0.1, r);
  nn_init_zeros((char *)c->params + kd * (size_t)cur->real_size, cur->real_size,
                (size_t)cur->nclasses);
}

/* acts: the batch's inputs (B*D), then its probabilities (B*K). */
static double sm_forward(nn_ctx *c, const float *x, const int32_t *cls, const float *y, int nb,
                         double *correct) {
  int D = cur->in_dim, K = cur->nclasses;
  size_t ps = (size_t)cur->batch * (size_t)D, kd = (size_t)K * (size_t)D;
  if (++calls == poison_at)
    return NAN;
  double loss = 0;
  for (int b = 0; b < nb; b++) {
    double z[16], mx = -INFINITY, s = 0;
    for (int j = 0; j < D; j++) {
      wr(c->acts, (size_t)b * D + j, x[b * D + j]);
      bad_inputs += !(x[b * D + j] >= 0 && x[b * D + j] < 1);
    }
    for (int k = 0; k < K; k++) {
      z[k] = rd(c->params, kd + k);
      for (int j = 0; j < D; j++)
        z[k] += rd(c->params, (size_t)k * D + j) * rd(c->acts, (size_t)b * D + j);
      mx = fmax(mx, z[k]);
    }
    int best = 0;
    for (int k = 0; k < K; k++) {
      s += exp(z[k] - mx);
      if (z[k] > z[best])
        best = k;
    }
    for (int k = 0; k < K; k++)
      wr(c->acts, ps + (size_t)b * K + k, exp(z[k] - mx) / s);
    if (cls) {
      loss += log(s) + mx - z[cls[b]];
      if (correct && best == cls[b])
        *correct += 1;
    }
  }
  return cls ? loss / nb : 0;
}

/* dz = (p - onehot(c)) / nb; dW = dz^T x; db = sum_b dz. */
static void sm_backward(nn_ctx *c, const int32_t *cls, const float *y, int nb) {
  int D = cur->in_dim, K = cur->nclasses;
  size_t ps = (size_t)cur->batch * (size_t)D, kd = (size_t)K * (size_t)D;
  for (size_t i = 0; i < kd + (size_t)K; i++)
    wr(c->grads, i, 0);
  for (int b = 0; b < nb; b++) {
    if (b == 0 && rows_backward % 30 == 0 && nfirst < 64)
      first_x[nfirst++] = (float)rd(c->acts, 0);
    bad_inputs += cls[b] < 0 || cls[b] >= K;
    for (int k = 0; k < K; k++) {
      double dz = (rd(c->acts, ps + (size_t)b * K + k) - (k == cls[b])) / nb;
      wr(c->grads, kd + k, rd(c->grads, kd + k) + (broken ? 2 : 1) * dz);
      for (int j = 0; j < D; j++)
        wr(c->grads, (size_t)k * D + j,
           rd(c->grads, (size_t)k * D + j) + dz * rd(c->acts, (size_t)b * D + j));
    }
  }
  rows_backward += nb;
  last_nb = nb;
}

static void sm_update(nn_ctx *c, double lr) {
  for (size_t i = 0; i < cur->params_size; i++)
    wr(c->params, i, rd(c->params, i) - lr * rd(c->grads, i));
}

static void sm_output(nn_ctx *c, int nb, float *out) {
  size_t ps = (size_t)cur->batch * (size_t)cur->in_dim;
  for (size_t i = 0; i < (size_t)nb * (size_t)cur->nclasses; i++)
    out[i] = (float)rd(c->acts, ps + i);
}

static void sm_threads(int n) { threads_set = n; }

static void make_model(tmodel *t, int D, int K, int batch, int real_size) {
  memset(t, 0, sizeof *t);
  t->p[0] = (nn_param){"w", 2, {K, D}, 0, (size_t)(K * D), NN_PARAM_LEARN};
  t->p[1] = (nn_param){"b", 1, {K}, (size_t)(K * D), (size_t)K, NN_PARAM_LEARN};
  t->m = (nn_model){
      .name = "blobs", .source = "blobs.nn", .hash = 0x1234, .real_size = real_size,
      .batch = batch, .in_ndim = 1, .in_shape = {D}, .in_dim = D, .out_dim = K,
      .target = NN_TARGET_CLASS, .nclasses = K, .has_accuracy = 1,
      .loss_name = "cross_entropy",
      .train = {.kind = NN_SRC_CSV, .path = "data/blobs_train.csv", .label_col = -1, .header = 1},
      .scale = 1, .optimizer = "sgd", .epochs = 30, .lr = 0.5, .shuffle = 1, .seed = 0,
      .nparams = 2, .params = t->p, .params_size = (size_t)(K * D + K), .state_size = 0,
      .acts_size = (size_t)(batch * (D + K)), .init = sm_init, .forward = sm_forward,
      .backward = sm_backward, .update = sm_update, .output = sm_output,
      .set_threads = sm_threads};
}

/* ---------------------------------------------------------------- harness */

#define TMPDIR_NAME "nnrt-main"
#include "run_main.h"

/* nn_main(m) with the given arguments (NULL-terminated); its stdout and
 * stderr land in out[] and err[]. */
static int run(const nn_model *m, ...) {
  cur = m;
  calls = rows_backward = bad_inputs = 0;
  nfirst = 0;
  va_list ap;
  va_start(ap, m);
  int rc = run_main("./train_blobs", m, ap);
  va_end(ap);
  return rc;
}

static int count_lines(const char *s, const char *prefix) {
  int n = 0;
  for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    n += strncmp(p, prefix, strlen(prefix)) == 0;
  return n;
}


/* ------------------------------------------------------------------ tests */

/* 30 epochs on the blobs: every test row right, a small loss, one log row
 * per epoch, a checkpoint that reproduces the figures under --eval. */
static void test_train_eval_predict(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  int rc = run(&t.m, "--test", "data/blobs_test.csv", "--log", tmp("log.csv"), "--save",
               tmp("m.ckpt"), NULL);
  if (rc)
    fail_msg("rc %d: %s", rc, err);
  assert_int_equal(count_lines(out, "epoch "), 30);
  assert_contains(out, "train: data/blobs_train.csv (30 rows)  test: data/blobs_test.csv (9 rows)");
  const char *e1 = line_of(out, "epoch  1/30  train loss ");
  assert_contains(e1, " acc ");
  assert_contains(e1, "%  test loss ");
  assert_contains(e1, " samples/s  ");
  char final[256];
  snprintf(final, sizeof final, "%s", line_of(out, "final: "));
  double loss, acc;
  assert_int_equal(sscanf(final, "final: test loss %lf acc %lf%%", &loss, &acc), 2);
  assert_true(acc == 100.0);
  assert_true(loss < 0.15);
  assert_contains(out, "saved ");
  /* The log: header and 30 rows of 7 fields. */
  static char log[1 << 14];
  read_file(tmp("log.csv"), log, sizeof log);
  const char *hdr = "epoch,train_loss,train_acc,test_loss,test_acc,samples_per_s,elapsed_s\n";
  assert_int_equal(strncmp(log, hdr, strlen(hdr)), 0);
  assert_int_equal(count_lines(log, ""), 31);
  int ep;
  double trl, tra, tel, tea;
  const char *row30 = line_of(log, "30,");
  assert_int_equal(sscanf(row30, "%d,%lf,%lf,%lf,%lf", &ep, &trl, &tra, &tel, &tea), 5);
  assert_true(tea == 1.0 && tra == 1.0 && fabs(tel - loss) < 1e-4);
  /* --eval of the saved parameters gives the final figures again. */
  rc = run(&t.m, "--load", tmp("m.ckpt"), "--eval", "--test", "data/blobs_test.csv", NULL);
  assert_int_equal(rc, 0);
  char want[300];
  snprintf(want, sizeof want, "eval: %s (9 samples)", final + strlen("final: "));
  assert_string_equal(line_of(out, "eval: "), want);
  /* Without a test set --eval uses the training data. */
  rc = run(&t.m, "--load", tmp("m.ckpt"), "--eval", "--quiet", NULL);
  assert_int_equal(rc, 0);
  assert_contains(out, "eval: train loss ");
  /* --predict: one line of 3 probabilities per row, argmax = label. */
  rc = run(&t.m, "--load", tmp("m.ckpt"), "--predict", "data/blobs_test.csv", "--output",
           tmp("pred.csv"), NULL);
  assert_int_equal(rc, 0);
  static char pred[1 << 12];
  read_file(tmp("pred.csv"), pred, sizeof pred);
  assert_int_equal(count_lines(pred, ""), 9);
  const char *p = pred;
  for (int i = 0; i < 9; i++) {
    float q[3];
    int n;
    assert_int_equal(sscanf(p, "%g,%g,%g%n", &q[0], &q[1], &q[2], &n), 3);
    assert_true(fabs(q[0] + q[1] + q[2] - 1) < 1e-4);
    int best = q[1] > q[0] ? 1 : 0;
    best = q[2] > q[best] ? 2 : best;
    assert_int_equal(best, i % 3); /* the fixture cycles through the classes */
    p += n + 1;
  }
  /* Features only, to stdout: the same numbers. */
  rc = run(&t.m, "--load", tmp("m.ckpt"), "--predict", "data/blobs_features.csv", NULL);
  assert_int_equal(rc, 0);
  assert_string_equal(out, pred);
}

/* Same seed and threads: the same figures and parameters; another seed:
 * other parameters. */
static void test_deterministic(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  static char a[1 << 12], b[1 << 12];
  const char *seeds[] = {"7", "7", "8"};
  const char *ckpt[] = {"d1.ckpt", "d2.ckpt", "d3.ckpt"};
  for (int i = 0; i < 3; i++)
    assert_int_equal(run(&t.m, "--epochs", "3", "--seed", seeds[i], "--threads", "2", "--save",
                         tmp(ckpt[i]), "--log", tmp(ckpt[i] + 1), NULL),
                     0);
  assert_int_equal(threads_set, 2);
  size_t na = read_file(tmp("d1.ckpt"), a, sizeof a), nb = read_file(tmp("d2.ckpt"), b, sizeof b);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na);
  nb = read_file(tmp("d3.ckpt"), b, sizeof b);
  assert_int_equal(na, nb);
  assert_true(memcmp(a, b, na) != 0);
  /* Logs equal up to the timing columns. */
  read_file(tmp("1.ckpt"), a, sizeof a);
  read_file(tmp("2.ckpt"), b, sizeof b);
  for (int r = 1; r <= 3; r++) {
    char pre[16];
    snprintf(pre, sizeof pre, "%d,", r);
    char la[256], lb[256];
    snprintf(la, sizeof la, "%s", line_of(a, pre));
    snprintf(lb, sizeof lb, "%s", line_of(b, pre));
    *strrchr(la, ',') = *strrchr(lb, ',') = '\0';
    *strrchr(la, ',') = *strrchr(lb, ',') = '\0';
    assert_string_equal(la, lb);
  }
}

/* 30 rows in batches of 4: 7 full batches and a last one of 2, kept. */
static void test_partial_batch_and_shuffle(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 8);
  assert_int_equal(run(&t.m, "--epochs", "2", "--quiet", NULL), 0);
  assert_int_equal(rows_backward, 60);
  assert_int_equal(last_nb, 2);
  assert_int_equal(count_lines(out, ""), 1); /* --quiet: the final line only */
  assert_contains(out, "final: train loss ");
  /* Shuffled: the first rows of the epochs differ from file order... */
  int moved = 0;
  for (int i = 0; i < nfirst; i++)
    moved += first_x[i] != 0.2f;
  assert_true(moved > 0);
  /* ... unshuffled: every epoch starts with the file's first row. */
  t.m.shuffle = 0;
  assert_int_equal(run(&t.m, "--epochs", "3", "--quiet", NULL), 0);
  assert_int_equal(nfirst, 3);
  for (int i = 0; i < nfirst; i++)
    assert_true(first_x[i] == 0.2f);
}

static void test_no_accuracy_and_no_test(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  t.m.has_accuracy = 0;
  assert_int_equal(run(&t.m, "--epochs", "2", "--log", tmp("na.csv"), NULL), 0);
  const char *e = line_of(out, "epoch  2/2");
  assert_null(strstr(e, "acc"));
  assert_null(strstr(e, "test"));
  assert_null(strstr(line_of(out, "final: train loss "), "acc"));
  static char log[1 << 12];
  read_file(tmp("na.csv"), log, sizeof log);
  assert_int_equal(strncmp(line_of(log, "2,"), "2,", 2), 0);
  int ep;
  double l;
  char rest[128];
  assert_int_equal(sscanf(line_of(log, "2,"), "%d,%lf,%127s", &ep, &l, rest), 3);
  assert_int_equal(strncmp(rest, ",,,", 3), 0); /* train_acc, test_loss, test_acc empty */
}

/* --epochs 0: no training; the final line comes from an evaluation. */
static void test_zero_epochs(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  assert_int_equal(run(&t.m, "--epochs", "0", "--test", "data/blobs_test.csv", NULL), 0);
  assert_int_equal(count_lines(out, "epoch"), 0);
  assert_int_equal(rows_backward, 0);
  double loss, acc;
  assert_int_equal(sscanf(line_of(out, "final: "), "final: test loss %lf acc %lf", &loss, &acc), 2);
  assert_true(fabs(loss - log(3)) < 0.3); /* near-uniform predictions */
}

/* IDX files through the command line: IMAGES,LABELS and sniffing. */
static void test_idx_training(void **state) {
  tmodel t;
  make_model(&t, 4, 3, 2, 4);
  t.m.train.kind = NN_SRC_NONE;
  t.m.scale = 1.0 / 255;
  assert_int_equal(run(&t.m, "--train", "data/img3.idx.gz,data/lbl3.idx", "--epochs", "2",
                       "--lr", "0.1", NULL), 0);
  assert_contains(out, "train: data/img3.idx.gz,data/lbl3.idx (3 rows)");
  assert_int_equal(rows_backward, 6);
  /* A single IDX file is recognised by content; class labels are missing. */
  assert_int_equal(run(&t.m, "--train", "data/img3.idx", NULL), 1);
  assert_string_equal(err, "data/img3.idx: error: no labels file; the model needs class "
                           "targets (give IMAGES,LABELS)\n");
  /* ... and predicting from it needs none. */
  assert_int_equal(run(&t.m, "--predict", "data/img3.idx.gz", "--quiet", NULL), 0);
  assert_int_equal(count_lines(out, ""), 3);
}

static void test_usage_errors(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  struct {
    const char *a, *b, *msg;
  } cases[] = {
      {"--lr", "abc", "train_blobs: error: --lr needs a number > 0, got 'abc'\n"},
      {"--lr", "0", "train_blobs: error: --lr needs a number > 0, got '0'\n"},
      {"--lr", "-0.1", "train_blobs: error: --lr needs a number > 0, got '-0.1'\n"},
      {"--lr", "nan", "train_blobs: error: --lr needs a number > 0, got 'nan'\n"},
      {"--epochs", "-1", "train_blobs: error: --epochs needs a whole number >= 0, got '-1'\n"},
      {"--epochs", "3x", "train_blobs: error: --epochs needs a whole number >= 0, got '3x'\n"},
      {"--seed", "-3", "train_blobs: error: --seed needs a whole number >= 0, got '-3'\n"},
      {"--threads", "0", "train_blobs: error: --threads needs a whole number >= 1, got '0'\n"},
      {"--output", "x", "train_blobs: error: --output goes with --predict or --generate\n"},
      {"extra", NULL, "train_blobs: error: unexpected argument 'extra'\n"},
      {"--batch", "8", "unrecognized option '--batch'"},
      {"--epochs", NULL, "option '--epochs' requires an argument"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(run(&t.m, cases[i].a, cases[i].b, NULL), 2);
    assert_contains(err, cases[i].msg);
    assert_contains(err, "Try 'train_blobs --help'.\n");
    assert_string_equal(out, "");
  }
  assert_int_equal(run(&t.m, "--eval", "--predict", "x.csv", NULL), 2);
  assert_contains(err, "--eval, --predict, --generate and --gradcheck exclude each other");
  assert_int_equal(run(&t.m, "--eval", "--save", "x.ckpt", NULL), 2);
  assert_contains(err, "--save goes with training, not with --eval");
}

static void test_help_version(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  assert_int_equal(run(&t.m, "--help", NULL), 0);
  const char *opts[] = {"--epochs N", "--lr X", "--seed N", "--threads N", "--train FILE",
                        "--test FILE", "--save FILE", "--load FILE", "--eval",
                        "--predict FILE", "--output FILE", "--log FILE", "--quiet",
                        "--gradcheck", "--help", "--version", "[30]", "[0.5]",
                        "[data/blobs_train.csv]", "batches of 4 rows", "last batch keeps the remaining rows"};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    assert_contains(out, opts[i]);
  assert_int_equal(run(&t.m, "-h", NULL), 0);
  assert_contains(out, "usage: train_blobs [options]");
  assert_int_equal(run(&t.m, "--version", NULL), 0);
  assert_contains(out, "model 'blobs' (blobs.nn)");
}

static void test_data_errors(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  assert_int_equal(run(&t.m, "--train", "data/nonnum.csv", NULL), 1);
  assert_string_equal(err, "data/nonnum.csv:2: error: expected 3 columns, found 4\n");
  assert_int_equal(run(&t.m, "--test", "data/missing.csv", NULL), 1);
  assert_string_equal(err, "data/missing.csv: error: cannot open: No such file or directory\n");
  assert_int_equal(run(&t.m, "--log", "/nonexistent/x.csv", NULL), 1);
  assert_contains(err, "cannot write /nonexistent/x.csv");
  /* A CSV given on the command line takes the header setting of the
   * model's training CSV; without one, there is no header. */
  t.m.train.kind = NN_SRC_NONE;
  assert_int_equal(run(&t.m, "--train", "data/blobs_train.csv", NULL), 1);
  assert_string_equal(err, "data/blobs_train.csv:1:1: error: 'x1' is not a number (column 1); "
                           "is this line a header?\n");
  assert_int_equal(run(&t.m, NULL), 1);
  assert_string_equal(err, "train_blobs: error: model 'blobs' has no training data; give --train FILE\n");
  assert_int_equal(run(&t.m, "--eval", NULL), 1);
  assert_contains(err, "has no data to evaluate");
  assert_int_equal(run(&t.m, "--train", "data/blobs_train.csv", "--load", "data/tiny_f32.ckpt", NULL), 1);
  assert_string_equal(err, "data/tiny_f32.ckpt: error: this is a checkpoint of model 'tiny' "
                           "(layout 0123456789abcdef), not of model 'blobs' (layout "
                           "0000000000001234): tensor 'w' has shape [2, 3], the model 'blobs' "
                           "needs [3, 2]\n");
}

static void test_nan_stops(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  poison_at = 8 + 3; /* 8 batches per epoch, no test set */
  int rc = run(&t.m, "--epochs", "5", "--save", tmp("nan.ckpt"), NULL);
  poison_at = 0;
  assert_int_equal(rc, 1);
  assert_string_equal(err, "train_blobs: error: loss is not finite (nan) at epoch 2, batch 3 (step 11)\n");
  assert_int_equal(count_lines(out, "epoch "), 1);
  assert_int_equal(access(tmp("nan.ckpt"), F_OK), -1);
}

/* nn_gradcheck directly: the double model passes, a wrong bias gradient
 * fails on exactly the bias elements. */
static void test_gradcheck_direct(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 8);
  cur = &t.m;
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &t.m), 0);
  nn_rng r;
  nn_rng_seed(&r, 1, 0);
  t.m.init(&c, &r);
  int fo = dup(1), nul = open("/dev/null", O_WRONLY);
  fflush(stdout);
  dup2(nul, 1);
  int good = nn_gradcheck(&t.m, &c, 5, 4, 20, 1e-5, 1e-8);
  broken = 1;
  int bad = nn_gradcheck(&t.m, &c, 5, 4, 20, 1e-5, 1e-8);
  broken = 0;
  fflush(stdout);
  dup2(fo, 1);
  close(fo);
  close(nul);
  assert_int_equal(good, 0);
  assert_int_equal(bad, 3);
  nn_ctx_free(&c);
}

static void test_gradcheck_main(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 8);
  assert_int_equal(run(&t.m, "--gradcheck", NULL), 0);
  assert_contains(out, "gradcheck w: 6 of 6 checked, max abs err ");
  assert_contains(out, "gradcheck b: 3 of 3 checked, max abs err ");
  assert_contains(out, "gradcheck: 0 of 9 elements outside tolerance (rtol=1e-05, atol=1e-08)\n");
  broken = 1;
  int rc = run(&t.m, "--gradcheck", "--seed", "3", NULL);
  broken = 0;
  assert_int_equal(rc, 1);
  assert_contains(out, "gradcheck: 3 of 9 elements outside tolerance");
  assert_contains(out, "  b[0]: analytic ");
  /* More elements than per_tensor: 20 of them, chosen from the seed. */
  tmodel big;
  make_model(&big, 10, 3, 4, 8);
  assert_int_equal(run(&big.m, "--gradcheck", NULL), 0);
  assert_contains(out, "gradcheck w: 20 of 30 checked");
  static char first[sizeof out];
  memcpy(first, out, sizeof out);
  assert_int_equal(run(&big.m, "--gradcheck", NULL), 0);
  assert_string_equal(out, first);
  /* A float build passes with the loosened tolerances. */
  make_model(&t, 2, 3, 4, 4);
  assert_int_equal(run(&t.m, "--gradcheck", NULL), 0);
  assert_contains(out, "note: a float build");
}

/* --bench: no data files, 10 warm-up steps and the timed ones on a batch of
 * random rows (x in [0, 1), classes in range), one machine-readable line. */
static void test_bench(void **state) {
  tmodel t;
  make_model(&t, 2, 3, 4, 4);
  t.m.train.kind = NN_SRC_NONE; /* no data: --bench needs none */
  assert_int_equal(run(&t.m, "--bench", "50", "--threads", "2", NULL), 0);
  assert_string_equal(err, "");
  assert_int_equal(count_lines(out, ""), 1);
  assert_int_equal(calls, 60);
  assert_int_equal(rows_backward, 60 * 4);
  assert_int_equal(threads_set, 2);
  assert_int_equal(bad_inputs, 0);
  char name[32], mode[32], threads[32];
  int batch, steps, n = 0;
  double secs, sps, us, loss;
  assert_int_equal(sscanf(out, "bench model=%31s mode=%31s batch=%d threads=%31s steps=%d "
                               "seconds=%lf samples_per_s=%lf step_us=%lf loss=%lf\n%n",
                          name, mode, &batch, threads, &steps, &secs, &sps, &us, &loss, &n),
                   9);
  assert_int_equal((size_t)n, strlen(out));
  assert_string_equal(name, "blobs");
  assert_string_equal(mode, "train");
  assert_string_equal(threads, "2");
  assert_int_equal(batch, 4);
  assert_int_equal(steps, 50);
  assert_true(secs > 0 && sps > 0 && us > 0 && isfinite(loss) && loss > 0);
  /* 200 samples in secs, 50 steps of us each (printed to 6 digits) */
  assert_true(fabs(sps * secs - 200) < 1e-4 * 200 + 0.1 * secs);
  assert_true(fabs(us * 50 - 1e6 * secs) < 1e-4 * 1e6 * secs);
  /* The same seed: the same batch, hence the same loss. */
  static char first[sizeof out];
  memcpy(first, out, sizeof out);
  assert_int_equal(run(&t.m, "--bench", "50", "--threads", "2", NULL), 0);
  assert_string_equal(strstr(out, " loss="), strstr(first, " loss="));
  /* Forward passes only; no --threads: "default". */
  assert_int_equal(run(&t.m, "--bench-infer", "7", NULL), 0);
  assert_int_equal(calls, 17);
  assert_int_equal(rows_backward, 0);
  assert_int_equal(count_lines(out, ""), 1);
  assert_contains(out, "bench model=blobs mode=infer batch=4 threads=default steps=7 seconds=");
  assert_null(strstr(out, "loss="));
  /* Usage errors. */
  const char *bad[][4] = {
      {"--bench", "0", NULL, "--bench needs a whole number >= 1, got '0'"},
      {"--bench-infer", "x", NULL, "--bench-infer needs a whole number >= 1, got 'x'"},
      {"--bench", "5", "--eval", "--bench and --bench-infer exclude each other"},
      {"--bench", "5", "--save=x", "--save goes with training, not with --bench"},
      {"--bench", "5", "--train=x.csv", "--bench uses random data, not --train or --test"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(run(&t.m, bad[i][0], bad[i][1], bad[i][2], NULL), 2);
    assert_contains(err, bad[i][3]);
    assert_string_equal(out, "");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_train_eval_predict),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_partial_batch_and_shuffle),
      cmocka_unit_test(test_no_accuracy_and_no_test),
      cmocka_unit_test(test_zero_epochs),
      cmocka_unit_test(test_idx_training),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_help_version),
      cmocka_unit_test(test_data_errors),
      cmocka_unit_test(test_nan_stops),
      cmocka_unit_test(test_gradcheck_direct),
      cmocka_unit_test(test_gradcheck_main),
      cmocka_unit_test(test_bench),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
