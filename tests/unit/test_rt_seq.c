/* test_rt_seq.c — nn_main with sequence models: a hand-written token model
 * (a bigram: the logits of the next character are a row of a V x V table
 * chosen by the current one, at each of the T steps) trained on text, with
 * the order of batches and resets recorded; --generate; the gradient check
 * of a token model with state; and a series model (a linear
 * autoregression).  Fixtures are written into a scratch directory. */
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

#define TMPDIR_NAME "nnrt-seq"
#include "run_main.h"

/* ---------------------------------------------------- the bigram model */

#define MAXB 8
#define MAXT 8
#define MAXV 16

typedef struct tmodel {
  nn_model m;
  nn_param p[2];
} tmodel;

static const nn_model *cur;
static double probs[MAXB * MAXT * MAXV], logits[MAXB * MAXT * MAXV];
static int ids[MAXB * MAXT];
static int state_effect; /* 1: the loss depends on the forwards since reset */
static int fwd_since_reset;
static long calls, resets, bad_inputs;
static char events[4096]; /* 'R' reset, 'F' forward */
static size_t nevents;
static float first_ids[1024]; /* x[0] of every forward */
static float gen_x[64][MAXT]; /* row 0 of the first forwards */
static int nfirst;

static double rd(const void *a, size_t i) {
  return cur->real_size == 8 ? ((const double *)a)[i] : ((const float *)a)[i];
}

static void wr(void *a, size_t i, double v) {
  if (cur->real_size == 8)
    ((double *)a)[i] = v;
  else
    ((float *)a)[i] = (float)v;
}

static void event(char e) {
  if (nevents + 1 < sizeof events) {
    events[nevents++] = e;
    events[nevents] = '\0';
  }
}

static void bg_init(nn_ctx *c, nn_rng *r) {
  size_t v = (size_t)cur->vocab;
  nn_init_uniform(c->params, cur->real_size, v * v, -1, 1, r);
}

static void bg_reset(nn_ctx *c) {
  (void)c;
  resets++;
  fwd_since_reset = 0;
  event('R');
}

/* p[b][t] = softmax(W[id] + shift), shift = 0.1 * v * (forwards since
 * reset) when state_effect; loss = mean over rows and steps of -log p[c];
 * a row's correct count is the fraction of its steps that are right. */
static double bg_forward(nn_ctx *c, const float *x, const int32_t *cls, const float *y, int nb,
                         double *correct) {
  int T = cur->steps, V = cur->vocab;
  calls++;
  event('F');
  if (nfirst < 1024) {
    if (nfirst < 64)
      memcpy(gen_x[nfirst], x, (size_t)T * sizeof *x);
    first_ids[nfirst++] = x[0];
  }
  double loss = 0, s = state_effect ? 0.1 * fwd_since_reset : 0;
  for (int b = 0; b < nb; b++)
    for (int t = 0; t < T; t++) {
      int k = b * T + t, id = (int)x[k];
      if (!(x[k] >= 0 && x[k] < V && x[k] == id)) {
        bad_inputs++;
        id = 0;
      }
      ids[k] = id;
      double mx = -INFINITY, sum = 0, *z = logits + (size_t)k * V, *p = probs + (size_t)k * V;
      for (int v = 0; v < V; v++) {
        z[v] = rd(c->params, (size_t)id * V + v) + s * v;
        mx = fmax(mx, z[v]);
      }
      int best = 0;
      for (int v = 0; v < V; v++) {
        sum += exp(z[v] - mx);
        best = z[v] > z[best] ? v : best;
      }
      for (int v = 0; v < V; v++)
        p[v] = exp(z[v] - mx) / sum;
      if (cls) {
        int cc = cls[k];
        if (cc < 0 || cc >= V) {
          bad_inputs++;
          cc = 0;
        }
        loss += -log(p[cc]);
        if (correct)
          *correct += (best == cc) / (double)T;
      }
    }
  fwd_since_reset++;
  return cls ? loss / (nb * T) : 0;
}

static void bg_backward(nn_ctx *c, const int32_t *cls, const float *y, int nb) {
  int T = cur->steps, V = cur->vocab;
  for (size_t i = 0; i < cur->params_size; i++)
    wr(c->grads, i, 0);
  for (int k = 0; k < nb * T; k++)
    for (int v = 0; v < V; v++) {
      size_t at = (size_t)ids[k] * V + v;
      double g = (probs[(size_t)k * V + v] - (v == cls[k])) / (nb * T);
      wr(c->grads, at, rd(c->grads, at) + g);
    }
}

static void bg_update(nn_ctx *c, double lr) {
  for (size_t i = 0; i < cur->params_size; i++)
    wr(c->params, i, rd(c->params, i) - lr * rd(c->grads, i));
}

static void bg_output(nn_ctx *c, int nb, float *out) {
  (void)c;
  const double *src = cur->out_logits ? logits : probs;
  for (size_t i = 0; i < (size_t)nb * (size_t)cur->out_dim; i++)
    out[i] = (float)src[i];
}

/* T steps, vocabulary V, batch B; stateful, shuffle on (which a stateful
 * model must ignore). */
static void make_bigram(tmodel *t, int T, int V, int B, int real_size) {
  memset(t, 0, sizeof *t);
  t->p[0] = (nn_param){"table.weight", 2, {V, V}, 0, (size_t)(V * V), NN_PARAM_LEARN};
  t->m = (nn_model){
      .name = "bigram", .source = "bigram.nn", .hash = 0x5e9, .real_size = real_size,
      .batch = B, .in_ndim = 1, .in_shape = {T}, .in_dim = T, .out_dim = T * V,
      .target = NN_TARGET_CLASS, .nclasses = V, .has_accuracy = 1,
      .steps = T, .vocab = V, .ncls = T, .stateful = 1, .out_logits = 0,
      .loss_name = "cross_entropy", .scale = 1, .optimizer = "sgd", .epochs = 2, .lr = 0.5,
      .shuffle = 1, .seed = 1, .nparams = 1, .params = t->p, .params_size = (size_t)(V * V),
      .acts_size = 1, .init = bg_init, .forward = bg_forward, .backward = bg_backward,
      .update = bg_update, .output = bg_output, .reset = bg_reset};
}

/* ---------------------------------------------------------------- harness */

/* A copy of a tmp() path that outlives tmp()'s 8 rotating buffers. */
static const char *keep(const char *p) {
  static char pool[64][256];
  static int k;
  k = (k + 1) % 64;
  snprintf(pool[k], sizeof pool[k], "%s", p);
  return pool[k];
}

static const char *put(const char *name, const char *s) {
  const char *p = keep(tmp(name));
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  fputs(s, f);
  fclose(f);
  return p;
}

/* nn_main(m) with the given arguments (NULL-terminated); stdout and stderr
 * land in out[] and err[]; the records start empty. */
static int run(const nn_model *m, ...) {
  cur = m;
  calls = resets = bad_inputs = 0;
  nevents = 0;
  events[0] = '\0';
  nfirst = 0;
  fwd_since_reset = 0;
  va_list ap;
  va_start(ap, m);
  int rc = run_main("./train_seq", m, ap);
  va_end(ap);
  if (getenv("SEQ_DEBUG")) /* SEQ_DEBUG=1: show every run's output */
    fprintf(stderr, "rc %d\n--- stdout:\n%s--- stderr:\n%s", rc, out, err);
  return rc;
}


/* The training text: "hello world\n" ten times, 120 characters, 9
 * distinct ("\n dehlorw", ids 0..8).  With T = 4 and B = 3: streams of
 * S = 119 / 3 = 39, W = 9 windows, 27 rows, 9 batches.  The test text:
 * "world hello\n" three times, 36 characters: S = 11, W = 2, 6 rows, 2
 * batches. */
static const char *train_txt, *test_txt;
static const char train_text[] =
    "hello world\nhello world\nhello world\nhello world\nhello world\n"
    "hello world\nhello world\nhello world\nhello world\nhello world\n";

static int setup(void **state) {
  if (setup_dir(state))
    return -1;
  train_txt = put("train.txt", train_text);
  test_txt = put("test.txt", "world hello\nworld hello\nworld hello\n");
  return 0;
}

static int vocab_id(char ch) {
  const char *v = "\n dehlorw";
  return (int)(strchr(v, ch) - v);
}

/* ------------------------------------------------------------------ tests */

/* A stateful model: every epoch and every evaluation starts with reset(),
 * and the batches come in file order although m->shuffle is 1: batch w
 * starts with window w of stream 0, characters 4w.. of the text. */
static void test_stateful_order(void **state) {
  tmodel t;
  make_bigram(&t, 4, 10, 3, 4);
  t.m.train = (nn_source){.kind = NN_SRC_TEXT, .path = train_txt};
  t.m.test = (nn_source){.kind = NN_SRC_TEXT, .path = test_txt};
  int rc = run(&t.m, "--epochs", "3", NULL);
  if (rc)
    fail_msg("rc %d: %s", rc, err);
  assert_string_equal(events, "RFFFFFFFFFRFF"
                              "RFFFFFFFFFRFF"
                              "RFFFFFFFFFRFF");
  assert_int_equal(nfirst, 33);
  for (int e = 0; e < 3; e++) {
    for (int w = 0; w < 9; w++)
      assert_true(first_ids[e * 11 + w] == vocab_id(train_text[4 * w]));
    assert_true(first_ids[e * 11 + 9] == vocab_id('w')); /* the test text's first window */
    assert_true(first_ids[e * 11 + 10] == vocab_id('d')); /* "world hello": its 5th character */
  }
  assert_int_equal(bad_inputs, 0);
  assert_contains(out, "train: ");
  assert_contains(out, "(27 rows)  test: ");
  assert_contains(out, "(6 rows)\n");
  assert_contains(out, "train text: 120 characters, 9 distinct, unigram entropy ");
  assert_contains(out, "test text: 36 characters, 9 distinct, unigram entropy ");
  assert_contains(out, "vocabulary: 9 characters (from the training text)\n");
  /* The loss in bits per character beside every loss in nats. */
  double l, bits, tl, tbits, acc, tacc;
  assert_int_equal(sscanf(line_of(out, "epoch  3/3"),
                          "epoch  3/3  train loss %lf (%lf bits/char) acc %lf%%  test loss %lf "
                          "(%lf bits/char) acc %lf%%", &l, &bits, &acc, &tl, &tbits, &tacc), 6);
  assert_true(fabs(bits - l / log(2)) < 2e-3);
  assert_true(fabs(tbits - tl / log(2)) < 2e-3);
  assert_int_equal(sscanf(line_of(out, "final: "), "final: test loss %lf (%lf bits/char) acc",
                          &l, &bits), 2);
  assert_true(fabs(bits - l / log(2)) < 2e-3);
  /* The unigram entropy figure of the training text: l 30, o 20, 7 x 10. */
  double h = 0.25 * log2(4) + 20 / 120.0 * log2(6) + 70 / 120.0 * log2(12), got;
  assert_int_equal(sscanf(line_of(out, "train text: "),
                          "train text: 120 characters, 9 distinct, unigram entropy %lf", &got), 1);
  assert_true(fabs(got - h) < 1e-3);
}

/* reset() runs before every epoch and evaluation even when the model is
 * not stateful; such a model's rows are shuffled as usual. */
static void test_reset_stateless(void **state) {
  tmodel t;
  make_bigram(&t, 4, 10, 3, 4);
  t.m.stateful = 0;
  t.m.train = (nn_source){.kind = NN_SRC_TEXT, .path = train_txt};
  assert_int_equal(run(&t.m, "--epochs", "2", "--test", test_txt, "--quiet", NULL), 0);
  assert_string_equal(events, "RFFFFFFFFFRFFRFFFFFFFFFRFF");
  int moved = 0;
  for (int e = 0; e < 2; e++)
    for (int w = 0; w < 9; w++)
      moved += first_ids[e * 11 + w] != vocab_id(train_text[4 * w]);
  assert_true(moved > 0);
  /* --epochs 0: the final figures from one evaluation, reset first. */
  assert_int_equal(run(&t.m, "--epochs", "0", "--quiet", NULL), 0);
  assert_string_equal(events, "RFFFFFFFFF");
}

/* The vocabulary: built from the training text, saved with the
 * parameters, used for every text of a run that loads it. */
static void test_vocab_flow(void **state) {
  tmodel t;
  make_bigram(&t, 4, 10, 3, 4);
  t.m.train = (nn_source){.kind = NN_SRC_TEXT, .path = train_txt};
  const char *ck = keep(tmp("bg.ckpt"));
  assert_int_equal(run(&t.m, "--epochs", "2", "--save", ck, "--quiet", NULL), 0);
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &t.m), 0);
  char e[512];
  assert_int_equal(nn_ckpt_load(ck, &t.m, &c, e, sizeof e), 0);
  assert_int_equal(c.nvocab, 9);
  assert_memory_equal(c.vocab, "\n dehlorw", 9);
  nn_ctx_free(&c);
  /* A test character the training text lacks. */
  const char *bad = put("bad.txt", "hello world\nhello, world\nhello world\n");
  assert_int_equal(run(&t.m, "--test", bad, NULL), 1);
  char want[512];
  snprintf(want, sizeof want, "%s: offset 17: error: character ',' (0x2c) is not in the "
                              "vocabulary of the training text\n", bad);
  assert_string_equal(err, want);
  /* With a checkpoint's vocabulary every text goes through it, the
   * training text too. */
  const char *other = put("other.txt", "low hold, hello world\nlow hold, hello world\n");
  assert_int_equal(run(&t.m, "--load", ck, "--train", other, NULL), 1);
  snprintf(want, sizeof want, "%s: offset 8: error: character ',' (0x2c) is not in the "
                              "vocabulary of the checkpoint %s\n", other, ck);
  assert_string_equal(err, want);
  assert_int_equal(run(&t.m, "--load", ck, "--eval", "--test", test_txt, NULL), 0);
  assert_contains(out, "eval: test loss ");
  assert_contains(out, " bits/char) acc ");
  assert_contains(out, "(6 samples)\n");
  assert_int_equal(run(&t.m, "--load", ck, "--epochs", "1", "--quiet", NULL), 0);
  /* --eval without a checkpoint takes the training text's vocabulary. */
  assert_int_equal(run(&t.m, "--eval", "--test", test_txt, NULL), 0);
  assert_string_equal(err, "");
  /* ... and with no training text either, the evaluated text's own. */
  tmodel nt;
  make_bigram(&nt, 4, 10, 3, 4);
  assert_int_equal(run(&nt.m, "--eval", "--test", test_txt, NULL), 0);
  assert_string_equal(err, "train_seq: note: no vocabulary from a checkpoint or a training "
                           "text: the evaluated text builds its own\n");
  assert_contains(out, "(6 samples)\n");
  /* A vocabulary larger than the model's input. */
  tmodel small;
  make_bigram(&small, 4, 8, 3, 4);
  small.m.train = t.m.train;
  assert_int_equal(run(&small.m, NULL), 1);
  snprintf(want, sizeof want, "%s: error: 9 distinct characters, the model's vocabulary "
                              "(input : int[4, 8]) holds 8\n", train_txt);
  assert_string_equal(err, want);
}

/* A checkpoint of the bigram with a table that makes softmax(W[id]) = q
 * for every id, or a chain a -> b -> c -> a when q is NULL. */
static const char *bigram_ckpt(tmodel *t, const char *name, const double *q) {
  cur = &t->m;
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &t->m), 0);
  int V = t->m.vocab;
  for (int i = 0; i < V; i++)
    for (int v = 0; v < V; v++)
      wr(c.params, (size_t)i * V + v,
         q ? (isnan(q[v]) || q[v] > 0 ? log(q[v]) : -50) : (v == (i + 1) % 3 ? 5 : -5));
  memcpy(c.vocab, "abc\n", 4);
  c.nvocab = 4;
  char e[512];
  const char *p = keep(tmp(name));
  assert_int_equal(nn_ckpt_save(p, &t->m, &c, e, sizeof e), 0);
  nn_ctx_free(&c);
  return p;
}

/* Greedy (low temperature) generation follows the chain; the context is
 * the last T characters at positions 0.., and the next character's
 * distribution is read at the last filled position. */
static void test_generate_chain(void **state) {
  tmodel t;
  make_bigram(&t, 3, 5, 2, 4);
  const char *ck = bigram_ckpt(&t, "chain.ckpt", NULL);
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "7", "--prime", "b",
                       "--temperature", "0.01", NULL), 0);
  assert_string_equal(out, "bcabcabc");
  assert_string_equal(err, "");
  assert_int_equal(calls, 7);
  assert_int_equal(resets, 7);
  assert_string_equal(events, "RFRFRFRFRFRFRF");
  /* Row 0 of each forward: "b" "bc" "bca" "cab" ... (ids a 0, b 1, c 2). */
  const float want[4][3] = {{1, 0, 0}, {1, 2, 0}, {1, 2, 0}, {2, 0, 1}};
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++)
      if (gen_x[i][j] != want[i][j])
        fail_msg("forward %d position %d: got %g, want %g", i, j, gen_x[i][j], want[i][j]);
  /* ... and to a file, from a longer prime; logits give the same. */
  t.m.out_logits = 1;
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "4", "--prime", "cab\nca",
                       "--temperature", "0.01", "--output", tmp("gen.txt"), NULL), 0);
  assert_string_equal(out, "");
  static char text[256];
  read_file(tmp("gen.txt"), text, sizeof text);
  assert_string_equal(text, "cab\ncabcab");
  /* The default prime: a newline, which the vocabulary has; no newline in
   * a model's vocabulary: its first character. */
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "0", NULL), 0);
  assert_string_equal(out, "\n");
  assert_int_equal(calls, 0);
}

/* Sampling: the same seed gives the same text, another seed another; the
 * frequencies follow q^(1/X) renormalised, for probabilities and logits. */
static void test_generate_sampling(void **state) {
  tmodel t;
  make_bigram(&t, 3, 5, 2, 4);
  const double q[5] = {0.5, 0.3, 0.2, 0, 0.4}; /* id 4 is no character: left out */
  const char *ck = bigram_ckpt(&t, "q.ckpt", q);
  static char a[8192], b[8192];
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "3000", "--prime", "a", NULL), 0);
  memcpy(a, out, sizeof a);
  assert_int_equal(strlen(a), 3001);
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "3000", "--prime", "a", NULL), 0);
  assert_string_equal(out, a);
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "3000", "--prime", "a", "--seed", "2",
                       NULL), 0);
  assert_true(strcmp(out, a) != 0);
  for (int logit = 0; logit < 2; logit++)
    for (int k = 0; k < 2; k++) {
      double X = k == 0 ? 1 : 2, w[3], s = 0;
      for (int v = 0; v < 3; v++)
        s += w[v] = pow(q[v], 1 / X);
      t.m.out_logits = logit;
      const char *temp = k == 0 ? "1" : "2";
      assert_int_equal(run(&t.m, "--load", ck, "--generate", "3000", "--prime", "a",
                           "--temperature", temp, NULL), 0);
      memcpy(b, out, sizeof b);
      int n[4] = {0};
      for (const char *p = b + 1; *p; p++)
        n[*p == '\n' ? 3 : *p - 'a']++;
      assert_int_equal(n[3], 0);
      for (int v = 0; v < 3; v++)
        if (fabs(n[v] / 3000.0 - w[v] / s) > 0.03) /* 3.5 standard errors */
          fail_msg("logits %d, temperature %g, '%c': frequency %g, expected %g", logit, X,
                   'a' + v, n[v] / 3000.0, w[v] / s);
    }
}

static void test_generate_errors(void **state) {
  tmodel t;
  make_bigram(&t, 3, 5, 2, 4);
  const char *ck = bigram_ckpt(&t, "e.ckpt", NULL);
  char want[512];
  snprintf(want, sizeof want, "train_seq: error: --prime: character 'x' (0x78) is not in the "
                              "vocabulary of the checkpoint %s\nTry 'train_seq --help'.\n", ck);
  assert_int_equal(run(&t.m, "--load", ck, "--generate", "5", "--prime", "abxc", NULL), 2);
  assert_string_equal(err, want);
  assert_string_equal(out, "");
  /* No vocabulary: no checkpoint and no training text. */
  assert_int_equal(run(&t.m, "--generate", "5", NULL), 2);
  assert_contains(err, "train_seq: error: --generate needs a vocabulary: --load a checkpoint "
                       "saved by a training run on text, or give the training text (--train "
                       "FILE)\n");
  /* The training text's vocabulary, with untrained parameters. */
  tmodel big;
  make_bigram(&big, 3, 10, 2, 4);
  assert_int_equal(run(&big.m, "--generate", "5", "--train", train_txt, "--prime", "he", NULL), 0);
  assert_int_equal(strlen(out), 7);
  assert_int_equal(strncmp(out, "he", 2), 0);
  assert_string_equal(err, "train_seq: note: generating with untrained parameters (no --load)\n");
  /* Not a token model; not an output of T x V. */
  tmodel r;
  make_bigram(&r, 3, 5, 2, 4);
  r.m.vocab = 0;
  assert_int_equal(run(&r.m, "--generate", "5", NULL), 2);
  assert_contains(err, "--generate needs a token model (input : int[T, V]); model 'bigram' reads "
                       "3 real values");
  make_bigram(&r, 3, 5, 2, 4);
  r.m.out_dim = 5;
  assert_int_equal(run(&r.m, "--generate", "5", NULL), 2);
  assert_contains(err, "--generate needs an output of T x V = 3 x 5 values a sample (a "
                       "distribution over the vocabulary at every step); model 'bigram' outputs 5");
  /* Options. */
  const char *bad[][5] = {
      {"--generate", "-1", NULL, NULL, "--generate needs a whole number >= 0, got '-1'"},
      {"--generate", "5", "--temperature", "0", "--temperature needs a number > 0, got '0'"},
      {"--generate", "5", "--temperature", "-1", "--temperature needs a number > 0, got '-1'"},
      {"--generate", "5", "--prime", "", "--prime needs at least one character"},
      {"--prime", "ab", NULL, NULL, "--prime goes with --generate"},
      {"--temperature", "2", NULL, NULL, "--temperature goes with --generate"},
      {"--generate", "5", "--eval", NULL,
       "--eval, --predict, --generate and --gradcheck exclude each other"},
      {"--generate", "5", "--gradcheck", NULL,
       "--eval, --predict, --generate and --gradcheck exclude each other"},
      {"--generate", "5", "--bench", "3", "--bench and --bench-infer exclude each other and "
                                          "--eval, --predict, --generate and --gradcheck"},
      {"--generate", "5", "--save", "x", "--save goes with training, not with --generate"},
      {"--generate", "5", "--test", "x", "--generate reads no test data (--test)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(run(&t.m, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL), 2);
    assert_contains(err, bad[i][4]);
    assert_contains(err, "Try 'train_seq --help'.\n");
    assert_string_equal(out, "");
  }
  /* An output that is not a distribution is an error, not a NaN. */
  make_bigram(&r, 3, 5, 2, 4);
  const double nanq[5] = {NAN, 0.5, 0.5, 0, 0};
  const char *nck = bigram_ckpt(&r, "nan.ckpt", nanq);
  assert_int_equal(run(&r.m, "--load", nck, "--generate", "3", "--prime", "a", NULL), 1);
  assert_string_equal(err, "train_seq: error: generating character 1: the model's output at "
                           "step 1 is nan for id 0, character 'a' (0x61): not a probability\n");
  assert_string_equal(out, "a"); /* the prime, written before */
  r.m.out_logits = 1;
  assert_int_equal(run(&r.m, "--load", nck, "--generate", "3", "--prime", "a", NULL), 1);
  assert_contains(err, "is nan for id 0, character 'a' (0x61): not a finite logit\n");
}

/* The gradient check of a token model: ids in [0, V) as inputs, T classes
 * a row, and a reset before every loss evaluation (the model's loss
 * depends on the forwards since its last reset here, so without them the
 * differences would be wrong). */
static void test_gradcheck_tokens(void **state) {
  tmodel t;
  make_bigram(&t, 3, 5, 4, 8);
  state_effect = 1;
  int rc = run(&t.m, "--gradcheck", NULL);
  state_effect = 0;
  if (rc)
    fail_msg("rc %d:\n%s", rc, out);
  assert_contains(out, "gradcheck table.weight: 20 of 25 checked");
  assert_contains(out, "gradcheck: 0 of 20 elements outside tolerance");
  assert_int_equal(bad_inputs, 0);
  assert_int_equal(resets, calls);
  assert_int_equal(calls, 1 + 2 * 20);
  /* The same through nn_gradcheck, without resets: the check fails. */
  t.m.reset = NULL;
  cur = &t.m;
  state_effect = 1;
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &t.m), 0);
  nn_rng r;
  nn_rng_seed(&r, 1, 0);
  t.m.init(&c, &r);
  int fo = dup(1), nul = open("/dev/null", O_WRONLY);
  fflush(stdout);
  dup2(nul, 1);
  int bad = nn_gradcheck(&t.m, &c, 5, 4, 20, 1e-5, 1e-8);
  fflush(stdout);
  dup2(fo, 1);
  close(fo);
  close(nul);
  state_effect = 0;
  assert_true(bad > 0);
  nn_ctx_free(&c);
}

/* --bench gives a token model ids in range and T classes a row; --predict
 * of a text writes one line of T x V outputs a window, after a reset. */
static void test_bench_predict_tokens(void **state) {
  tmodel t;
  make_bigram(&t, 4, 10, 3, 4);
  t.m.train = (nn_source){.kind = NN_SRC_TEXT, .path = train_txt};
  assert_int_equal(run(&t.m, "--bench", "5", NULL), 0);
  assert_int_equal(bad_inputs, 0);
  assert_int_equal(run(&t.m, "--predict", test_txt, "--quiet", NULL), 0);
  assert_string_equal(events, "RFF");
  int lines = 0;
  for (const char *p = out; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, 6);
  int commas = 0;
  for (const char *p = out; *p != '\n'; p++)
    commas += *p == ',';
  assert_int_equal(commas, 39);
}

static void test_help_sequences(void **state) {
  tmodel t;
  make_bigram(&t, 4, 10, 3, 4);
  t.m.train = (nn_source){.kind = NN_SRC_TEXT, .path = train_txt};
  assert_int_equal(run(&t.m, "--help", NULL), 0);
  const char *want[] = {"--generate N", "--prime STR", "--temperature X", "a newline if the",
                        "int[4, 10]", "cut into 3 streams", "windows\nof 4 characters",
                        "bits per", "rows in file order.\nThe model is stateful",
                        "p^(1/X)", "softmax(z / X)"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    assert_contains(out, want[i]);
}

/* ------------------------------------------------------- a series model */

/* y = sum_k w_k x_k + b over a window of T values; MSE. */
static double ar_pred[MAXB];
static const float *ar_x;

static void ar_init(nn_ctx *c, nn_rng *r) {
  nn_init_zeros(c->params, cur->real_size, cur->params_size);
}

static double ar_forward(nn_ctx *c, const float *x, const int32_t *cls, const float *y, int nb,
                         double *correct) {
  int T = cur->in_dim;
  double loss = 0;
  calls++;
  ar_x = x;
  for (int b = 0; b < nb; b++) {
    double s = rd(c->params, (size_t)T);
    for (int k = 0; k < T; k++)
      s += rd(c->params, (size_t)k) * x[b * T + k];
    ar_pred[b] = s;
    if (y)
      loss += (s - y[b]) * (s - y[b]);
  }
  return y ? loss / nb : 0;
}

static void ar_backward(nn_ctx *c, const int32_t *cls, const float *y, int nb) {
  int T = cur->in_dim;
  for (int k = 0; k <= T; k++)
    wr(c->grads, (size_t)k, 0);
  for (int b = 0; b < nb; b++) {
    double g = 2 * (ar_pred[b] - y[b]) / nb;
    for (int k = 0; k < T; k++)
      wr(c->grads, (size_t)k, rd(c->grads, (size_t)k) + g * ar_x[b * T + k]);
    wr(c->grads, (size_t)T, rd(c->grads, (size_t)T) + g);
  }
}

static void ar_output(nn_ctx *c, int nb, float *o) {
  for (int b = 0; b < nb; b++)
    o[b] = (float)ar_pred[b];
}

/* A series read from --train as a series: 8 rows, T = 3: 5 windows; the
 * sine data of models/data learns to a small error. */
static void test_series_model(void **state) {
  nn_param p[2] = {{"ar.weight", 2, {1, 3}, 0, 3, 0}, {"ar.bias", 1, {1}, 3, 1, 0}};
  nn_model m = {.name = "ar", .source = "ar.nn", .real_size = 4, .batch = 2, .in_ndim = 2,
                .in_shape = {3, 1}, .in_dim = 3, .out_dim = 1, .target = NN_TARGET_REAL,
                .ydim = 1, .steps = 3, .loss_name = "mse", .scale = 1, .optimizer = "sgd",
                .epochs = 1, .lr = 0.01, .shuffle = 1, .nparams = 2, .params = p,
                .params_size = 4, .acts_size = 1, .init = ar_init, .forward = ar_forward,
                .backward = ar_backward, .update = bg_update, .output = ar_output};
  m.train = (nn_source){.kind = NN_SRC_SERIES, .path = "../../models/data/sine_train.csv"};
  const char *s8 = put("s8.csv", "1\n2\n3\n4\n5\n6\n7\n8\n");
  assert_int_equal(run(&m, "--train", s8, NULL), 0);
  assert_contains(out, "(5 rows)");
  assert_int_equal(calls, 3);
  /* --predict forecasts after every window, the last one included. */
  assert_int_equal(run(&m, "--predict", s8, "--quiet", NULL), 0);
  int lines = 0;
  for (const char *q = out; *q; q++)
    lines += *q == '\n';
  assert_int_equal(lines, 6);
  /* sin(2 pi t / 25) from 3 past values: nearly linear, MSE near 0.01 plus
   * the noise the window carries in. */
  m.in_shape[0] = 25;
  m.in_dim = 25;
  m.steps = 25;
  p[0].shape[1] = 25;
  p[0].size = 25;
  p[1].offset = 25;
  m.params_size = 26;
  m.batch = 8;
  m.test = (nn_source){.kind = NN_SRC_SERIES, .path = "../../models/data/sine_test.csv"};
  assert_int_equal(run(&m, "--epochs", "20", "--lr", "0.01", "--quiet", NULL), 0);
  double mse;
  assert_int_equal(sscanf(line_of(out, "final: "), "final: test loss %lf", &mse), 1);
  assert_true(mse < 0.02);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stateful_order),    cmocka_unit_test(test_reset_stateless),
      cmocka_unit_test(test_vocab_flow),        cmocka_unit_test(test_generate_chain),
      cmocka_unit_test(test_generate_sampling), cmocka_unit_test(test_generate_errors),
      cmocka_unit_test(test_gradcheck_tokens),  cmocka_unit_test(test_bench_predict_tokens),
      cmocka_unit_test(test_help_sequences),    cmocka_unit_test(test_series_model),
  };
  return cmocka_run_group_tests(tests, setup, remove_dir);
}
