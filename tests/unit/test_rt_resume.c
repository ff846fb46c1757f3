/* test_rt_resume.c — the training state of a checkpoint (--checkpoint,
 * --resume; runtime/ckpt.c): every field and tensor comes back bit for bit
 * (NaN payloads, -0, subnormals, int64 patterns in the best-parameters
 * copy), and a state that does not hold together is refused with a message
 * naming the file and the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt.h"
#include "nnrt_int.h"

#define TMPDIR_NAME "nnrt-resume"
#include "tmpdir.h"

static const nn_param params[] = {
    {"w", 2, {2, 3}, 0, 6, NN_PARAM_LEARN},
    {"b", 1, {2}, 6, 2, NN_PARAM_LEARN},
};

/* A stateful model with optimizer state (3 reals) and acts (5 reals). */
static nn_model model(void) {
  return (nn_model){.name = "tiny", .hash = 0x0123456789abcdefULL, .real_size = 4,
                    .nparams = 2, .params = params, .params_size = 8, .state_size = 3,
                    .acts_size = 5, .stateful = 1};
}

static int32_t order[4] = {2, 0, 3, 1};
static float best[8];

/* The state saved by the tests: inside epoch 3, two rows of it done. */
static nn_resume state(void) {
  nn_resume r = {.seed = 18446744073709551615ull, .lr = 0.1, .epochs = 7, .epoch = 2,
                 .pos = 2, .nrows = 4, .order = order, .loss = 1.0 / 3, .correct = 1.5,
                 .seconds = 0.25, .elapsed = 12.5, .best = -INFINITY, .best_epoch = 2,
                 .since = 0, .best_tr = {0.7, -1}, .best_te = {0.8, 0.9}, .best_params = best};
  r.rng.state = 0x8000000000000001ull;
  r.rng.inc = 0xfedcba9876543211ull;
  return r;
}

static void fill(nn_ctx *c) {
  float *p = c->params, *s = c->state, *a = c->acts;
  for (int i = 0; i < 8; i++)
    p[i] = (float)i - 3.5f;
  s[0] = -0.0f;
  s[1] = 1e-42f; /* subnormal */
  s[2] = 3;
  for (int i = 0; i < 5; i++)
    a[i] = (float)(i * i);
  uint32_t nan_payload = 0x7fc01234u;
  memcpy(&best[0], &nan_payload, 4);
  int64_t counter = 123456789012345ll; /* an int64 buffer's slot */
  memcpy(&best[2], &counter, 8);
  for (int i = 4; i < 8; i++)
    best[i] = (float)i / 7;
}

static void save(const char *name, nn_ctx *c) {
  nn_model m = model();
  nn_resume r = state();
  char err[512];
  assert_int_equal(nn_ckpt_save_state(tmp(name), &m, c, &r, err, sizeof err), 0);
}

static void test_round_trip(void **st) {
  (void)st;
  nn_model m = model();
  nn_ctx c, d;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  assert_int_equal(nn_ctx_alloc(&d, &m), 0);
  fill(&c);
  c.step = 1234567;
  save("s.safetensors", &c);
  nn_resume r;
  char err[512];
  assert_int_equal(nn_ckpt_load_state(tmp("s.safetensors"), &m, &d, &r, err, sizeof err), 0);
  nn_resume w = state();
  assert_true(r.seed == w.seed);
  assert_true(r.lr == w.lr && r.loss == w.loss && r.correct == w.correct);
  assert_true(r.seconds == w.seconds && r.elapsed == w.elapsed && r.best == w.best);
  assert_int_equal(r.epochs, 7);
  assert_int_equal(r.epoch, 2);
  assert_int_equal(r.pos, 2);
  assert_int_equal(r.nrows, 4);
  assert_int_equal(r.best_epoch, 2);
  assert_true(r.best_tr[0] == 0.7 && r.best_tr[1] == -1 && r.best_te[0] == 0.8 &&
              r.best_te[1] == 0.9);
  assert_true(r.rng.state == w.rng.state && r.rng.inc == w.rng.inc);
  assert_memory_equal(r.order, order, sizeof order);
  assert_memory_equal(r.best_params, best, sizeof best);
  assert_memory_equal(d.params, c.params, 8 * 4);
  assert_memory_equal(d.state, c.state, 3 * 4); /* -0 and the subnormal too */
  assert_memory_equal(d.acts, c.acts, 5 * 4);   /* the carried state */
  assert_true(d.step == 1234567);
  nn_resume_free(&r);
  /* The parameters alone load as any checkpoint does (--load). */
  memset(d.params, 0, 8 * 4);
  assert_int_equal(nn_ckpt_load(tmp("s.safetensors"), &m, &d, err, sizeof err), 0);
  assert_memory_equal(d.params, c.params, 8 * 4);
  nn_ctx_free(&c);
  nn_ctx_free(&d);
}

/* The saved file with the first `from` replaced by `to`, both of len
 * bytes (0: strlen(from); the same length, so the data offsets still
 * hold), then the refusal `want` (after "PATH: error: "). */
static void expect_edit_n(nn_ctx *c, const char *from, const char *to, size_t len,
                          const char *want) {
  save("e.safetensors", c);
  FILE *f = fopen(tmp("e.safetensors"), "rb");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  size_t k = len ? len : strlen(from);
  char *at = NULL;
  for (size_t i = 0; !at && i + k <= n; i++)
    if (memcmp(buf + i, from, k) == 0)
      at = buf + i;
  if (!at)
    fail_msg("'%s' is not in the file", from);
  memcpy(at, to, k);
  f = fopen(tmp("e.safetensors"), "wb");
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
  nn_model m = model();
  nn_ctx d;
  assert_int_equal(nn_ctx_alloc(&d, &m), 0);
  nn_resume r;
  char err[512], full[700];
  assert_int_equal(nn_ckpt_load_state(tmp("e.safetensors"), &m, &d, &r, err, sizeof err), -1);
  snprintf(full, sizeof full, "%s: error: %s", tmp("e.safetensors"), want);
  assert_string_equal(err, full);
  assert_null(r.order);
  assert_null(r.best_params);
  nn_ctx_free(&d);
}

static void expect_edit(nn_ctx *c, const char *from, const char *to, const char *want) {
  assert_int_equal(strlen(from), strlen(to));
  expect_edit_n(c, from, to, 0, want);
}

static void test_refused(void **st) {
  (void)st;
  nn_model m = model();
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  fill(&c);
  expect_edit(&c, "\"nncc.pos\":\"2\"", "\"nncc.pos\":\"9\"",
              "__metadata__ nncc.pos is '9', expected a whole number from 0 to 4");
  expect_edit(&c, "\"nncc.epoch\":\"2\"", "\"nncc.epoch\":\"x\"",
              "__metadata__ nncc.epoch is 'x', expected a whole number from 0 to 2147483647");
  expect_edit(&c, "\"nncc.best_epoch\":\"2\"", "\"nncc.best_epoch\":\"3\"",
              "__metadata__ nncc.best_epoch is '3', expected a whole number from 0 to 2");
  expect_edit(&c, "\"nncc.seed\"", "\"nncc.xeed\"",
              "the training state lacks __metadata__ nncc.seed (a string)");
  expect_edit(&c, "fedcba9876543211\"", "fedcba9876543210\"",
              "__metadata__ nncc.rng is '8000000000000001fedcba9876543210', expected 32 hex "
              "digits (a PCG32 state and odd increment)");
  expect_edit(&c, "\"nncc.lr\":\"0x1.999999999999ap-4\"", "\"nncc.lr\":\"-x1.999999999999ap-4\"",
              "__metadata__ nncc.lr is '-x1.999999999999ap-4', expected a number");
  expect_edit(&c, "\"nncc.order\":{\"dtype\":\"I32\"", "\"nncc.order\":{\"dtype\":\"F32\"",
              "tensor 'nncc.order' has dtype F32, expected I32 (saved by a build with another "
              "real type?)");
  expect_edit(&c, "\"nncc.acts\"", "\"nncc.axts\"", "the training state lacks tensor 'nncc.acts'");
  /* An order that is not a permutation: its bytes 2 0 3 1 become 2 2 3 1. */
  expect_edit_n(&c, "\x02\0\0\0\0\0\0\0\x03\0\0\0", "\x02\0\0\0\x02\0\0\0\x03\0\0\0", 12,
              "tensor 'nncc.order' is not an order of the 4 rows (element 1 is 2)");
  /* A checkpoint without a state (--save). */
  char err[512];
  assert_int_equal(nn_ckpt_save(tmp("p.safetensors"), &m, &c, err, sizeof err), 0);
  nn_resume r;
  assert_int_equal(nn_ckpt_load_state(tmp("p.safetensors"), &m, &c, &r, err, sizeof err), -1);
  assert_non_null(strstr(err, "holds parameters only (written by --save, or not by nncc)"));
  nn_ctx_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
