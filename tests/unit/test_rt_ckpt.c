/* test_rt_ckpt.c — safetensors checkpoints: the exact byte layout (against
 * fixtures written by data/make_fixtures.py), round trips in F32 / F64 and
 * across them, and refusal of corrupted, truncated and mismatched files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnrt.h"

#define TMPDIR_NAME "nnrt-ckpt"
#include "tmpdir.h"


/* The model of the fixtures: w [2, 3] then b [2]. */
static const nn_param tiny_params[] = {
    {"w", 2, {2, 3}, 0, 6, NN_PARAM_LEARN},
    {"b", 1, {2}, 6, 2, NN_PARAM_LEARN},
};
static const double W[6] = {-1, -0.5, 0, 0.5, 1, 1.5}, B[2] = {0.25, -0.125};

static nn_model tiny(int real_size) {
  return (nn_model){.name = "tiny", .hash = 0x0123456789abcdefULL, .real_size = real_size,
                    .nparams = 2, .params = tiny_params, .params_size = 8};
}

static double get(const nn_ctx *c, int rs, int i) {
  return rs == 8 ? ((double *)c->params)[i] : ((float *)c->params)[i];
}

static void set(nn_ctx *c, int rs, int i, double v) {
  if (rs == 8)
    ((double *)c->params)[i] = v;
  else
    ((float *)c->params)[i] = (float)v;
}

static void fill_tiny(nn_ctx *c, int rs) {
  for (int i = 0; i < 6; i++)
    set(c, rs, i, W[i]);
  for (int i = 0; i < 2; i++)
    set(c, rs, 6 + i, B[i]);
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  unsigned char *b = malloc(1 << 16);
  *n = fread(b, 1, 1 << 16, f);
  fclose(f);
  return b;
}

static void spit(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

static void assert_same_file(const char *a, const char *b) {
  size_t na, nb;
  unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(x, y, na);
  free(x);
  free(y);
}

/* Save, then expect exactly the fixture's bytes. */
static void test_layout(void **state) {
  for (int rs = 4; rs <= 8; rs += 4) {
    nn_model m = tiny(rs);
    nn_ctx c;
    assert_int_equal(nn_ctx_alloc(&c, &m), 0);
    fill_tiny(&c, rs);
    char err[256];
    const char *path = tmp("layout.ckpt");
    assert_int_equal(nn_ckpt_save(path, &m, &c, err, sizeof err), 0);
    assert_same_file(path, rs == 4 ? "data/tiny_f32.ckpt" : "data/tiny_f64.ckpt");
    assert_int_equal(access(tmp("layout.ckpt.tmp"), F_OK), -1); /* renamed away */
    /* The header length is a multiple of 8 and the header ends in spaces. */
    size_t n;
    unsigned char *b = slurp(path, &n);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
      h = h << 8 | b[i];
    assert_int_equal(h % 8, 0);
    assert_int_equal(n, 8 + h + 8 * (size_t)rs);
    assert_int_equal(b[8], '{');
    free(b);
    nn_ctx_free(&c);
  }
}

/* Every fixture loads into either real type with the exact values. */
static void test_load_fixtures(void **state) {
  const char *files[] = {"data/tiny_f32.ckpt", "data/tiny_f64.ckpt",
                         "data/tiny_torch_f64.safetensors"};
  for (int rs = 4; rs <= 8; rs += 4)
    for (int f = 0; f < 3; f++) {
      nn_model m = tiny(rs);
      nn_ctx c;
      assert_int_equal(nn_ctx_alloc(&c, &m), 0);
      char err[256] = "";
      if (nn_ckpt_load(files[f], &m, &c, err, sizeof err))
        fail_msg("%s", err);
      for (int i = 0; i < 6; i++)
        assert_true(get(&c, rs, i) == W[i]);
      for (int i = 0; i < 2; i++)
        assert_true(get(&c, rs, 6 + i) == B[i]);
      nn_ctx_free(&c);
    }
}

/* Values that are not exact in float survive F64 -> F64 exactly, and
 * F64 -> F32 rounds them as a cast does; F32 -> F64 is exact. */
static void test_round_trip(void **state) {
  nn_model m8 = tiny(8), m4 = tiny(4);
  nn_ctx c8, d8, c4, d4;
  assert_int_equal(nn_ctx_alloc(&c8, &m8), 0);
  assert_int_equal(nn_ctx_alloc(&d8, &m8), 0);
  assert_int_equal(nn_ctx_alloc(&c4, &m4), 0);
  assert_int_equal(nn_ctx_alloc(&d4, &m4), 0);
  for (int i = 0; i < 8; i++) {
    set(&c8, 8, i, 0.1 * (i + 1) - 0.35);
    set(&c4, 4, i, 1.0 / (i + 3));
  }
  char err[256];
  const char *p8 = tmp("rt8.ckpt"), *p4 = tmp("rt4.ckpt");
  assert_int_equal(nn_ckpt_save(p8, &m8, &c8, err, sizeof err), 0);
  assert_int_equal(nn_ckpt_save(p4, &m4, &c4, err, sizeof err), 0);
  assert_int_equal(nn_ckpt_load(p8, &m8, &d8, err, sizeof err), 0);
  assert_memory_equal(c8.params, d8.params, 8 * sizeof(double));
  assert_int_equal(nn_ckpt_load(p4, &m4, &d4, err, sizeof err), 0);
  assert_memory_equal(c4.params, d4.params, 8 * sizeof(float));
  assert_int_equal(nn_ckpt_load(p8, &m4, &d4, err, sizeof err), 0);
  for (int i = 0; i < 8; i++)
    assert_true(get(&d4, 4, i) == (float)get(&c8, 8, i));
  assert_int_equal(nn_ckpt_load(p4, &m8, &d8, err, sizeof err), 0);
  for (int i = 0; i < 8; i++)
    assert_true(get(&d8, 8, i) == (double)get(&c4, 4, i));
  /* Saving over an existing checkpoint replaces it. */
  assert_int_equal(nn_ckpt_save(p4, &m8, &c8, err, sizeof err), 0);
  assert_int_equal(nn_ckpt_load(p4, &m8, &d8, err, sizeof err), 0);
  assert_memory_equal(c8.params, d8.params, 8 * sizeof(double));
  nn_ctx_free(&c8);
  nn_ctx_free(&d8);
  nn_ctx_free(&c4);
  nn_ctx_free(&d4);
}

static void test_save_error(void **state) {
  nn_model m = tiny(4);
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  char err[256];
  char path[300];
  snprintf(path, sizeof path, "%s/no/such/dir.ckpt", tmpdir);
  assert_int_equal(nn_ckpt_save(path, &m, &c, err, sizeof err), -1);
  char want[400];
  snprintf(want, sizeof want, "%s.tmp: error: cannot write: No such file or directory", path);
  assert_string_equal(err, want);
  nn_ctx_free(&c);
}

/* Loading `path` into model m fails with "path: error: <msg>" and leaves
 * the parameters as they were. */
static void expect_refusal(const char *path, const nn_model *m, const char *msg) {
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, m), 0);
  for (size_t i = 0; i < m->params_size; i++)
    set(&c, m->real_size, (int)i, 7);
  char err[512] = "", want[512];
  assert_int_equal(nn_ckpt_load(path, m, &c, err, sizeof err), -1);
  snprintf(want, sizeof want, "%s: error: %s", path, msg);
  assert_string_equal(err, want);
  for (size_t i = 0; i < m->params_size; i++)
    assert_true(get(&c, m->real_size, (int)i) == 7);
  nn_ctx_free(&c);
}

/* A checkpoint with a hand-written JSON header and n bytes of data. */
static const char *write_ckpt(const char *name, const char *json, size_t n) {
  unsigned char buf[1024] = {0};
  size_t h = strlen(json), padded = (h + 7) / 8 * 8;
  for (int i = 0; i < 8; i++)
    buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  memset(buf + 8, ' ', padded);
  memcpy(buf + 8, json, h);
  const char *p = tmp(name);
  spit(p, buf, 8 + padded + n);
  return p;
}

static void test_refuse_corrupt(void **state) {
  nn_model m = tiny(4);
  size_t n;
  unsigned char *b = slurp("data/tiny_f32.ckpt", &n);
  expect_refusal(tmp("missing.ckpt"), &m, "cannot open: No such file or directory");
  spit(tmp("short.ckpt"), b, 5);
  expect_refusal(tmp("short.ckpt"), &m, "too short for a checkpoint (5 bytes)");
  spit(tmp("cut_header.ckpt"), b, 100);
  expect_refusal(tmp("cut_header.ckpt"), &m,
                 "header length 192 exceeds the file size (100 bytes): truncated, or not a "
                 "checkpoint");
  spit(tmp("cut_data.ckpt"), b, n - 4);
  expect_refusal(tmp("cut_data.ckpt"), &m,
                 "tensor 'b' has data_offsets [24, 32] outside the data section (28 bytes): "
                 "truncated file?");
  unsigned char *c = malloc(n);
  memcpy(c, b, n);
  c[8 + 16] = ']'; /* the metadata object's opening brace */
  spit(tmp("bad_json.ckpt"), c, n);
  expect_refusal(tmp("bad_json.ckpt"), &m, "the header is not valid JSON (at byte 16 of the header)");
  memcpy(c, b, n);
  c[0] = 0xff;
  c[7] = 0x7f; /* absurd header length */
  spit(tmp("huge.ckpt"), c, n);
  expect_refusal(tmp("huge.ckpt"), &m,
                 "header length 9151314442816848127 exceeds the file size (232 bytes): "
                 "truncated, or not a checkpoint");
  free(c);
  free(b);
  write_ckpt("array.ckpt", "[1, 2]", 0);
  expect_refusal(tmp("array.ckpt"), &m, "the header is not a JSON object");
  write_ckpt("garbage.ckpt", "{\"w\": 1} x", 0);
  expect_refusal(tmp("garbage.ckpt"), &m, "the header is not valid JSON (at byte 9 of the header)");
}

static void test_refuse_mismatch(void **state) {
  /* Another shape. */
  nn_param p2[] = {{"w", 2, {3, 2}, 0, 6, 0}, {"b", 1, {2}, 6, 2, 0}};
  nn_model m = tiny(4);
  m.params = p2;
  expect_refusal("data/tiny_f32.ckpt", &m, "tensor 'w' has shape [2, 3], the model 'tiny' needs [3, 2]");
  nn_param p3[] = {{"w", 2, {2, 3}, 0, 6, 0}, {"b", 2, {2, 1}, 6, 2, 0}};
  m.params = p3;
  expect_refusal("data/tiny_f64.ckpt", &m, "tensor 'b' has shape [2], the model 'tiny' needs [2, 1]");
  /* A tensor the file lacks. */
  nn_param p4[] = {{"w", 2, {2, 3}, 0, 6, 0}, {"h2.bias", 1, {2}, 6, 2, 0}};
  m.params = p4;
  m.name = "other";
  expect_refusal("data/tiny_f32.ckpt", &m,
                 "this is a checkpoint of model 'tiny' (layout 0123456789abcdef), not of model "
                 "'other' (layout 0123456789abcdef): no tensor 'h2.bias'");
  /* Another layout hash names both layouts; a file without metadata (as
   * torch writes them) cannot say whose it is. */
  m.hash = 0xfedcba9876543210ull;
  expect_refusal("data/tiny_f32.ckpt", &m,
                 "this is a checkpoint of model 'tiny' (layout 0123456789abcdef), not of model "
                 "'other' (layout fedcba9876543210): no tensor 'h2.bias'");
  expect_refusal("data/tiny_torch_f64.safetensors", &m,
                 "no tensor 'h2.bias' (is this a checkpoint of another model?)");
  /* A tensor the model lacks. */
  m.nparams = 1;
  m.params_size = 6;
  expect_refusal("data/tiny_f32.ckpt", &m,
                 "this is a checkpoint of model 'tiny' (layout 0123456789abcdef), not of model "
                 "'other' (layout fedcba9876543210): unexpected tensor 'b' (the model 'other' "
                 "has no such parameter)");
}

static void test_refuse_bad_entries(void **state) {
  nn_model m = tiny(4);
  const char *shape_w = "\"shape\":[2,3]", *shape_b = "\"shape\":[2]";
  char json[512];
  snprintf(json, sizeof json,
           "{\"w\":{\"dtype\":\"I32\",%s,\"data_offsets\":[0,24]},"
           "\"b\":{\"dtype\":\"F32\",%s,\"data_offsets\":[24,32]}}", shape_w, shape_b);
  expect_refusal(write_ckpt("dtype.ckpt", json, 32), &m,
                 "tensor 'w' has dtype 'I32'; only F32 and F64 are supported");
  snprintf(json, sizeof json, "{\"w\":{%s,\"data_offsets\":[0,24]}}", shape_w);
  expect_refusal(write_ckpt("nodtype.ckpt", json, 32), &m,
                 "tensor 'w' has dtype (none); only F32 and F64 are supported");
  snprintf(json, sizeof json,
           "{\"w\":{\"dtype\":\"F32\",%s,\"data_offsets\":[0,20]},"
           "\"b\":{\"dtype\":\"F32\",%s,\"data_offsets\":[24,32]}}", shape_w, shape_b);
  expect_refusal(write_ckpt("len.ckpt", json, 32), &m,
                 "tensor 'w' has data_offsets [0, 20] (20 bytes), but F32 with 6 elements takes 24");
  snprintf(json, sizeof json, "{\"w\":{\"dtype\":\"F32\",%s,\"data_offsets\":[8,-1]}}", shape_w);
  expect_refusal(write_ckpt("offs.ckpt", json, 32), &m, "tensor 'w' has malformed data_offsets");
  snprintf(json, sizeof json, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,\"x\"],\"data_offsets\":[0,24]}}");
  expect_refusal(write_ckpt("shape.ckpt", json, 32), &m, "tensor 'w' has a malformed shape");
  snprintf(json, sizeof json,
           "{\"__metadata__\":{\"nncc_format\":\"2\"},\"w\":{\"dtype\":\"F32\",%s,\"data_offsets\":[0,24]}}",
           shape_w);
  expect_refusal(write_ckpt("format.ckpt", json, 32), &m,
                 "nncc_format 2 is not supported (expected \"1\")");
  snprintf(json, sizeof json, "{\"w\":[]}");
  expect_refusal(write_ckpt("notobj.ckpt", json, 32), &m, "tensor 'w' is not an object");
}

/* A well-formed hand-written file with padding and F64 next to F32. */
static void test_mixed_dtypes(void **state) {
  unsigned char buf[512] = {0};
  const char *json = "{\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[24,40]},"
                     "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
  size_t h = strlen(json), padded = (h + 7) / 8 * 8;
  buf[0] = (unsigned char)padded;
  memset(buf + 8, ' ', padded);
  memcpy(buf + 8, json, h);
  unsigned char *data = buf + 8 + padded;
  for (int i = 0; i < 6; i++) {
    float f = (float)W[i];
    memcpy(data + 4 * i, &f, 4); /* the test host is little-endian */
  }
  memcpy(data + 24, B, 16);
  spit(tmp("mixed.ckpt"), buf, 8 + padded + 40);
  nn_model m = tiny(8);
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  char err[256] = "";
  if (nn_ckpt_load(tmp("mixed.ckpt"), &m, &c, err, sizeof err))
    fail_msg("%s", err);
  for (int i = 0; i < 6; i++)
    assert_true(get(&c, 8, i) == W[i]);
  assert_true(get(&c, 8, 6) == B[0] && get(&c, 8, 7) == B[1]);
  nn_ctx_free(&c);
}

/* The vocabulary travels in the metadata as hex, any byte included, and
 * comes back; a file without one leaves nvocab 0. */
static void test_vocab_round_trip(void **state) {
  nn_model m = tiny(4);
  m.vocab = 8;
  nn_ctx c, d;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  assert_int_equal(nn_ctx_alloc(&d, &m), 0);
  fill_tiny(&c, 4);
  const unsigned char v[] = {0x00, '\n', '"', '\\', 'a', 0xff};
  memcpy(c.vocab, v, sizeof v);
  c.nvocab = (int)sizeof v;
  char err[256] = "";
  const char *p = tmp("vocab.ckpt");
  assert_int_equal(nn_ckpt_save(p, &m, &c, err, sizeof err), 0);
  size_t n;
  unsigned char *b = slurp(p, &n);
  b[n - 1] = '\0'; /* the header is text; the data section is not needed */
  assert_non_null(strstr((char *)b + 8,
                         "\"nncc_format\":\"1\",\"vocab\":\"000a225c61ff\"},"));
  free(b);
  if (nn_ckpt_load(p, &m, &d, err, sizeof err))
    fail_msg("%s", err);
  assert_int_equal(d.nvocab, 6);
  assert_memory_equal(d.vocab, v, sizeof v);
  for (int i = 0; i < 8; i++)
    assert_true(get(&d, 4, i) == get(&c, 4, i));
  /* The fixture has no vocabulary: loading it forgets the one d had. */
  assert_int_equal(nn_ckpt_load("data/tiny_f32.ckpt", &m, &d, err, sizeof err), 0);
  assert_int_equal(d.nvocab, 0);
  /* A model that is not a token model (vocab 0) still keeps it. */
  m.vocab = 0;
  assert_int_equal(nn_ckpt_load(p, &m, &d, err, sizeof err), 0);
  assert_int_equal(d.nvocab, 6);
  nn_ctx_free(&c);
  nn_ctx_free(&d);
}

/* A bad "vocab" is refused, and neither the parameters nor the context's
 * vocabulary change. */
static void expect_vocab_refusal(const char *name, const char *vocab_json, int model_vocab,
                                 const char *msg) {
  nn_model m = tiny(4);
  m.vocab = model_vocab;
  char json[512];
  snprintf(json, sizeof json,
           "{\"__metadata__\":{\"vocab\":%s},"
           "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}",
           vocab_json);
  const char *p = write_ckpt(name, json, 32);
  expect_refusal(p, &m, msg);
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  memcpy(c.vocab, "xyz", 3);
  c.nvocab = 3;
  char err[512];
  assert_int_equal(nn_ckpt_load(p, &m, &c, err, sizeof err), -1);
  assert_int_equal(c.nvocab, 3);
  assert_memory_equal(c.vocab, "xyz", 3);
  nn_ctx_free(&c);
}

static void test_vocab_refused(void **state) {
  expect_vocab_refusal("v_num.ckpt", "12", 8, "__metadata__ vocab is not a string");
  expect_vocab_refusal("v_empty.ckpt", "\"\"", 8,
                       "__metadata__ vocab is malformed: 0 hex digits, expected an even number "
                       "from 2 to 512 (two a character)");
  expect_vocab_refusal("v_odd.ckpt", "\"616\"", 8,
                       "__metadata__ vocab is malformed: 3 hex digits, expected an even number "
                       "from 2 to 512 (two a character)");
  expect_vocab_refusal("v_hex.ckpt", "\"6162zz\"", 8,
                       "__metadata__ vocab is malformed: 'zz' at digit 5 is not hex");
  expect_vocab_refusal("v_dup.ckpt", "\"616261\"", 8,
                       "__metadata__ vocab is malformed: byte 0x61 appears twice");
  expect_vocab_refusal("v_big.ckpt", "\"616263\"", 2,
                       "__metadata__ vocab has 3 characters, the model 'tiny' holds 2");
  /* Upper-case hex is read too. */
  nn_model m = tiny(4);
  write_ckpt("v_upper.ckpt",
             "{\"__metadata__\":{\"vocab\":\"0A0b\"},"
             "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}",
             32);
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  char err[256] = "";
  if (nn_ckpt_load(tmp("v_upper.ckpt"), &m, &c, err, sizeof err))
    fail_msg("%s", err);
  assert_int_equal(c.nvocab, 2);
  assert_true(c.vocab[0] == 0x0a && c.vocab[1] == 0x0b);
  nn_ctx_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),          cmocka_unit_test(test_load_fixtures),
      cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_save_error),
      cmocka_unit_test(test_refuse_corrupt),  cmocka_unit_test(test_refuse_mismatch),
      cmocka_unit_test(test_refuse_bad_entries), cmocka_unit_test(test_mixed_dtypes),
      cmocka_unit_test(test_vocab_round_trip),   cmocka_unit_test(test_vocab_refused),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
