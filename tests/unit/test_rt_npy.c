/* test_rt_npy.c — the .npy loader (runtime/data_npy.c): files written here
 * byte by byte as np.save writes them (every dtype, both byte orders,
 * format versions 1.0, 2.0 and 3.0) load to exact values; every malformed
 * header and every bad value gives its exact message and an empty set. */
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

#define TMPDIR_NAME "nnrt-npy"
#include "tmpdir.h"

/* ------------------------------------------------------------- writers */

static void write_bytes(const char *path, const void *a, size_t na, const void *b, size_t nb) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(a, 1, na, f), na);
  if (nb)
    assert_int_equal(fwrite(b, 1, nb, f), nb);
  assert_int_equal(fclose(f), 0);
}

/* An .npy file as np.save writes it: the dict padded with spaces and a
 * final newline so that the data starts at a multiple of 64; returns the
 * data's offset. */
static size_t npy_write(const char *path, int major, const char *dict, const void *data,
                        size_t n) {
  unsigned char buf[1024];
  size_t pre = major == 1 ? 10 : 12, len = strlen(dict);
  size_t hlen = len + 1 + (64 - (pre + len + 1) % 64) % 64;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  for (size_t i = 0; i < pre - 8; i++)
    buf[8 + i] = (unsigned char)(hlen >> (8 * i));
  memcpy(buf + pre, dict, len);
  memset(buf + pre + len, ' ', hlen - len - 1);
  buf[pre + hlen - 1] = '\n';
  write_bytes(path, buf, pre + hlen, data, n);
  return pre + hlen;
}

/* np.save's dict for descr and shape (a Python tuple, e.g. "(3, 2)"). */
static const char *dict(const char *descr, const char *shape) {
  static char d[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(d[k], sizeof d[k], "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
           shape);
  return d[k];
}

/* A version 1.0 file whose header is exactly `text` (offset 10 on). */
static void npy_raw(const char *path, const char *text) {
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  size_t n = strlen(text);
  pre[8] = (unsigned char)n;
  pre[9] = (unsigned char)(n >> 8);
  write_bytes(path, pre, 10, text, n);
}

static void put_be(unsigned char *b, const void *v, int size) {
  for (int i = 0; i < size; i++)
    b[i] = ((const unsigned char *)v)[size - 1 - i];
}

/* ------------------------------------------------------------- loading */

/* The paths are copied: tmp()'s buffers are reused. */
static nn_source npy(const char *x, const char *y) {
  static char p[8][256];
  static int k;
  nn_source s = {.kind = NN_SRC_NPY};
  k = (k + 2) % 8;
  s.path = strcpy(p[k], x);
  s.path2 = y ? strcpy(p[k + 1], y) : NULL;
  return s;
}

static nn_data_spec spec_class(int dim, int k) {
  return (nn_data_spec){.dim = dim, .target = NN_TARGET_CLASS, .nclasses = k, .scale = 1};
}

static nn_data_spec spec_real(int dim, int ydim) {
  return (nn_data_spec){.dim = dim, .target = NN_TARGET_REAL, .ydim = ydim, .scale = 1};
}

static void load_ok(nn_source src, nn_data_spec spec, nn_dataset *d) {
  char err[512] = "";
  if (nn_data_load(&src, &spec, d, err, sizeof err))
    fail_msg("unexpected error: %s", err);
}

/* Loading fails with exactly `msg` (the tmpdir prefix written as "T/")
 * and leaves *out empty. */
static void expect_error(nn_source src, nn_data_spec spec, const char *msg) {
  char err[512] = "", want[512];
  nn_dataset d;
  memset(&d, 0x55, sizeof d);
  assert_int_equal(nn_data_load(&src, &spec, &d, err, sizeof err), -1);
  size_t k = 0;
  for (const char *p = msg; *p && k + 80 < sizeof want; p++) {
    if (p[0] == 'T' && p[1] == '/' && (p == msg || p[-1] == ' ' || p[-1] == ','))
      k += (size_t)snprintf(want + k, sizeof want - k, "%s", tmpdir);
    else
      want[k++] = *p;
  }
  want[k] = '\0';
  assert_string_equal(err, want);
  assert_int_equal(d.n, 0);
  assert_null(d.x);
  assert_null(d.cls);
  assert_null(d.y);
  assert_null(d.name);
}

static void assert_floats(const float *got, const float *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
}

/* --------------------------------------------------------------- good */

/* float32 features, int64 labels (PyTorch's default), version 1.0. */
static void test_f4_i8(void **state) {
  const float x[] = {1.5f, -2, 0.25f, 3e8f, -0.0f, 7};
  const int64_t y[] = {2, 0, 1};
  assert_int_equal(npy_write(tmp("x.npy"), 1, dict("<f4", "(3, 2)"), x, sizeof x), 128);
  npy_write(tmp("y.npy"), 1, dict("<i8", "(3,)"), y, sizeof y);
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), tmp("y.npy")), spec_class(2, 3), &d);
  assert_int_equal(d.n, 3);
  assert_int_equal(d.dim, 2);
  assert_true(d.has_target);
  assert_floats(d.x, x, 6);
  assert_int_equal(d.cls[0], 2);
  assert_int_equal(d.cls[1], 0);
  assert_int_equal(d.cls[2], 1);
  assert_null(d.y);
  char name[256];
  snprintf(name, sizeof name, "%s,%s", tmp("x.npy"), tmp("y.npy"));
  assert_string_equal(d.name, name);
  nn_data_free(&d);
}

/* float64 features times the scale, int32 labels, versions 2.0 and 3.0,
 * a header without the trailing comma and with double quotes. */
static void test_f8_i4_versions(void **state) {
  const double x[] = {1, 2, 3, 4, 5, 6, 0.1, -8};
  const int32_t y[] = {1, 1};
  npy_write(tmp("x.npy"), 2, dict("<f8", "(2, 4)"), x, sizeof x);
  npy_write(tmp("y.npy"), 3,
            "{\"descr\": \"<i4\", \"shape\": (2,), \"fortran_order\": False}", y, sizeof y);
  nn_data_spec s = spec_class(4, 2);
  s.scale = 0.5;
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), tmp("y.npy")), s, &d);
  assert_int_equal(d.n, 2);
  const float want[] = {0.5f, 1, 1.5f, 2, 2.5f, 3, (float)(0.1 * 0.5), -4};
  assert_floats(d.x, want, 8);
  assert_int_equal(d.cls[0], 1);
  assert_int_equal(d.cls[1], 1);
  nn_data_free(&d);
}

/* uint8 images (N, 2, 2) scaled as IDX pixels, uint8 labels. */
static void test_u1_images(void **state) {
  const unsigned char x[] = {0, 255, 51, 102, 1, 2, 3, 4};
  const unsigned char y[] = {9, 3};
  npy_write(tmp("x.npy"), 1, dict("|u1", "(2, 2, 2)"), x, sizeof x);
  npy_write(tmp("y.npy"), 1, dict("|u1", "(2,)"), y, sizeof y);
  nn_data_spec s = spec_class(4, 10);
  s.scale = 1.0 / 255;
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), tmp("y.npy")), s, &d);
  assert_int_equal(d.n, 2);
  assert_int_equal(d.dim, 4);
  for (int i = 0; i < 8; i++)
    assert_true(d.x[i] == (float)(x[i] * (1.0 / 255)));
  assert_int_equal(d.cls[0], 9);
  assert_int_equal(d.cls[1], 3);
  nn_data_free(&d);
}

/* Big-endian float32, float64, int32 and int64 give the same values. */
static void test_big_endian(void **state) {
  const float xf[] = {1.25f, -3, 1e-3f, 65536};
  const double xd[] = {1.25, -3, 1e-3, 65536};
  const int64_t y8[] = {4, 0};
  const int32_t y4[] = {4, 0};
  unsigned char bf[16], bd[32], b8[16], b4[8];
  for (int i = 0; i < 4; i++) {
    put_be(bf + 4 * i, &xf[i], 4);
    put_be(bd + 8 * i, &xd[i], 8);
  }
  for (int i = 0; i < 2; i++) {
    put_be(b8 + 8 * i, &y8[i], 8);
    put_be(b4 + 4 * i, &y4[i], 4);
  }
  npy_write(tmp("xf.npy"), 1, dict(">f4", "(2, 2)"), bf, sizeof bf);
  npy_write(tmp("xd.npy"), 1, dict(">f8", "(2, 2)"), bd, sizeof bd);
  npy_write(tmp("y8.npy"), 1, dict(">i8", "(2,)"), b8, sizeof b8);
  npy_write(tmp("y4.npy"), 1, dict(">i4", "(2,)"), b4, sizeof b4);
  nn_dataset d;
  load_ok(npy(tmp("xf.npy"), tmp("y8.npy")), spec_class(2, 5), &d);
  assert_floats(d.x, xf, 4);
  assert_int_equal(d.cls[0], 4);
  assert_int_equal(d.cls[1], 0);
  nn_data_free(&d);
  load_ok(npy(tmp("xd.npy"), tmp("y4.npy")), spec_class(2, 5), &d);
  const float want[] = {1.25f, -3, (float)1e-3, 65536};
  assert_floats(d.x, want, 4);
  assert_int_equal(d.cls[0], 4);
  assert_int_equal(d.cls[1], 0);
  nn_data_free(&d);
}

/* Real targets (N, ydim) of any dtype, and (N,) for ydim 1; unscaled. */
static void test_real_targets(void **state) {
  const float x[] = {1, 2, 3};
  const double y2[] = {0.5, -1, 2, 3, 1e10, -1e-10};
  const int64_t y1[] = {-7, 8, 9};
  npy_write(tmp("x.npy"), 1, dict("<f4", "(3,)"), x, sizeof x);
  npy_write(tmp("y2.npy"), 1, dict("<f8", "(3, 2)"), y2, sizeof y2);
  npy_write(tmp("y1.npy"), 1, dict("<i8", "(3,)"), y1, sizeof y1);
  nn_data_spec s = spec_real(1, 2);
  s.scale = 2;
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), tmp("y2.npy")), s, &d);
  const float wx[] = {2, 4, 6}, wy[] = {0.5f, -1, 2, 3, 1e10f, (float)-1e-10};
  assert_floats(d.x, wx, 3);
  assert_int_equal(d.ydim, 2);
  assert_floats(d.y, wy, 6);
  assert_null(d.cls);
  nn_data_free(&d);
  load_ok(npy(tmp("x.npy"), tmp("y1.npy")), spec_real(1, 1), &d);
  const float w1[] = {-7, 8, 9};
  assert_floats(d.y, w1, 3);
  nn_data_free(&d);
}

/* Without a targets file: an optional target (predict), an autoencoder's
 * (INPUT) and a prediction spec, which ignores a targets file. */
static void test_no_targets(void **state) {
  const float x[] = {1, 2, 3, 4};
  npy_write(tmp("x.npy"), 1, dict("<f4", "(2, 2)"), x, sizeof x);
  nn_data_spec s = spec_class(2, 3);
  s.target_optional = 1;
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), NULL), s, &d);
  assert_int_equal(d.n, 2);
  assert_false(d.has_target);
  assert_null(d.cls);
  assert_string_equal(d.name, tmp("x.npy"));
  nn_data_free(&d);
  nn_data_spec ae = {.dim = 2, .target = NN_TARGET_INPUT, .scale = 1, .ydim = 1,
                     .target_optional = 1};
  load_ok(npy(tmp("x.npy"), NULL), ae, &d);
  assert_true(d.has_target);
  nn_data_free(&d);
  nn_data_spec none = {.dim = 2, .target = NN_TARGET_NONE, .scale = 1, .target_optional = 1};
  load_ok(npy(tmp("x.npy"), tmp("missing.npy")), none, &d);
  assert_false(d.has_target);
  assert_floats(d.x, x, 4);
  nn_data_free(&d);
}

/* Token ids (N, T) and a class label per step (N, T). */
static void test_tokens_and_step_labels(void **state) {
  const int64_t x[] = {0, 4, 2, 1, 1, 3};
  const unsigned char y[] = {4, 2, 0, 1, 3, 3};
  npy_write(tmp("x.npy"), 1, dict("<i8", "(2, 3)"), x, sizeof x);
  npy_write(tmp("y.npy"), 1, dict("|u1", "(2, 3)"), y, sizeof y);
  nn_data_spec s = spec_class(3, 5);
  s.tokens = 5;
  s.steps = 3;
  s.ncls = 3;
  s.scale = 0.5; /* token ids are never scaled */
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), tmp("y.npy")), s, &d);
  const float wx[] = {0, 4, 2, 1, 1, 3};
  assert_floats(d.x, wx, 6);
  assert_int_equal(d.ncls, 3);
  for (int i = 0; i < 6; i++)
    assert_int_equal(d.cls[i], y[i]);
  nn_data_free(&d);
}

/* More values than one read chunk: every value in place. */
static void test_large(void **state) {
  enum { N = 5000, D = 4 };
  double *x = malloc(N * D * sizeof *x);
  assert_non_null(x);
  for (int i = 0; i < N * D; i++)
    x[i] = i * 0.25 - 100;
  npy_write(tmp("x.npy"), 1, dict("<f8", "(5000, 4)"), x, N * D * sizeof *x);
  nn_data_spec s = {.dim = D, .target = NN_TARGET_INPUT, .scale = 1, .ydim = 1,
                    .target_optional = 1};
  nn_dataset d;
  load_ok(npy(tmp("x.npy"), NULL), s, &d);
  assert_int_equal(d.n, N);
  for (int i = 0; i < N * D; i++)
    if (d.x[i] != (float)x[i])
      fail_msg("value %d: %g, want %g", i, d.x[i], x[i]);
  nn_data_free(&d);
  free(x);
}

static void test_sniff(void **state) {
  const float x[] = {1};
  npy_write(tmp("s.npy"), 1, dict("<f4", "(1,)"), x, sizeof x);
  write_bytes(tmp("s.csv"), "a,b\n", 4, NULL, 0);
  write_bytes(tmp("short"), "\x93NUMP", 5, NULL, 0);
  assert_true(nn_npy_sniff(tmp("s.npy")));
  assert_false(nn_npy_sniff(tmp("s.csv")));
  assert_false(nn_npy_sniff(tmp("short")));
  assert_false(nn_npy_sniff(tmp("none")));
}

/* -------------------------------------------------------------- errors */

/* The file's prefix: magic, version, header length. */
static void test_prefix_errors(void **state) {
  nn_data_spec s = spec_class(2, 3);
  nn_source x = npy(tmp("bad.npy"), NULL);
  write_bytes(tmp("bad.npy"), "", 0, NULL, 0);
  expect_error(x, s, "T/bad.npy: error: empty file");
  write_bytes(tmp("bad.npy"), "\x93NUMPZ\x01\x00", 8, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 0: error: bad magic, expected \\x93NUMPY (a NumPy .npy "
                     "file, as np.save writes)");
  write_bytes(tmp("bad.npy"), "1,2\n", 4, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 0: error: bad magic, expected \\x93NUMPY (a NumPy .npy "
                     "file, as np.save writes)");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x01", 7, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 7: error: truncated: expected the format version (2 "
                     "bytes) at offset 6");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x04\x00\x10\x00", 10, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 6: error: format version 4.0, expected 1.0, 2.0 or 3.0");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x01\x01\x10\x00", 10, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 6: error: format version 1.1, expected 1.0, 2.0 or 3.0");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x01\x00\x10", 9, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 9: error: truncated: expected the header length (2 "
                     "bytes, little-endian) at offset 8");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x02\x00\x10\x00\x00", 11, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 11: error: truncated: expected the header length (4 "
                     "bytes, little-endian) at offset 8");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x02\x00\xff\xff\xff\xff", 12, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 8: error: header length 4294967295, expected at most "
                     "1048576");
  write_bytes(tmp("bad.npy"), "\x93NUMPY\x01\x00\x76\x00{'descr'", 17, NULL, 0);
  expect_error(x, s, "T/bad.npy: offset 17: error: truncated header: the length at offset 8 "
                     "says 118 bytes from offset 10, found 7");
  expect_error(npy(tmp("missing.npy"), NULL), s,
               "T/missing.npy: error: cannot open: No such file or directory");
}

/* The dict, with the offset of the first byte that is not as expected
 * (the header starts at offset 10). */
static void test_header_errors(void **state) {
  static const struct {
    const char *header, *msg;
  } cases[] = {
      {"['descr']\n", "offset 10: error: expected '{' (the header is a Python dict) in the "
                      "header, found '[' (0x5b)"},
      {"   \n", "offset 14: error: expected '{' (the header is a Python dict) in the header, "
                "found its end"},
      {"{descr: '<f4'}", "offset 11: error: expected a key ('descr', 'fortran_order' or "
                         "'shape') or '}' in the header, found 'd' (0x64)"},
      {"{'descr' '<f4'}", "offset 19: error: expected ':' after the key in the header, found "
                          "'\\'' (0x27)"},
      {"{'desc': '<f4'}", "offset 11: error: unknown key 'desc' in the header, expected "
                          "'descr', 'fortran_order' and 'shape' once each"},
      {"{'descr': '<f4', 'descr': '<f8'}", "offset 27: error: repeated key 'descr' in the "
                                           "header, expected 'descr', 'fortran_order' and "
                                           "'shape' once each"},
      {"{'descr': '<f4}", "offset 20: error: unterminated string in the header, expected the "
                          "dtype string of 'descr' ('<f4')"},
      {"{'descr': '<f4abcdefghijklmnopqrstuvwxyz'}", "offset 20: error: expected the dtype "
                                                     "string of 'descr' ('<f4') in the header, "
                                                     "found a string of 29 characters"},
      {"{'descr': 'f\\4'}", "offset 22: error: expected the dtype string of 'descr' ('<f4') in "
                            "the header, found '\\\\' (0x5c)"},
      {"{'descr': [('a', '<f4')]}", "offset 20: error: a structured dtype, expected one of "
                                    "'<f4', '<f8', '|u1', '<i4', '<i8' (a plain array)"},
      {"{'descr': '<f2'}", "offset 20: error: dtype '<f2' is not supported: expected float32 "
                           "'<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'"},
      {"{'descr': '<u4'}", "offset 20: error: dtype '<u4' is not supported: expected float32 "
                           "'<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'"},
      {"{'descr': '|f4'}", "offset 20: error: dtype '|f4' is not supported: expected float32 "
                           "'<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'"},
      {"{'descr': 'f4'}", "offset 20: error: dtype 'f4' is not supported: expected float32 "
                          "'<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'"},
      {"{'descr': ''}", "offset 20: error: dtype '' is not supported: expected float32 '<f4', "
                        "float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'"},
      {"{'descr': '<U8'}", "offset 20: error: dtype '<U8' is not supported: expected float32 "
                           "'<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'"},
      {"{'fortran_order': True}", "offset 28: error: fortran_order is True (the values are in "
                                  "column-major order), expected False: save a C-ordered array, "
                                  "np.save(path, np.ascontiguousarray(a))"},
      {"{'fortran_order': 0}", "offset 28: error: expected True or False for 'fortran_order' in "
                               "the header, found '0' (0x30)"},
      {"{'shape': [3, 2]}", "offset 20: error: expected '(' starting the tuple of 'shape' in the "
                            "header, found '[' (0x5b)"},
      {"{'shape': (3, -2)}", "offset 24: error: expected a dimension or ')' in 'shape' in the "
                             "header, found '-' (0x2d)"},
      {"{'shape': (,)}", "offset 21: error: expected a dimension in 'shape' in the header, "
                         "found ',' (0x2c)"},
      {"{'shape': (3 2)}", "offset 23: error: expected ',' or ')' in 'shape' in the header, "
                           "found '2' (0x32)"},
      {"{'shape': (99999999999999999999,)}", "offset 21: error: dimension too large"},
      {"{'shape': (3,) 'descr': '<f4'}", "offset 25: error: expected ',' or '}' after a value "
                                         "in the header, found '\\'' (0x27)"},
      {"{'descr': '<f4', 'shape': (3,)}", "offset 40: error: the header has no 'fortran_order' "
                                          "key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x\n",
       "offset 66: error: expected only spaces and a newline after the dict in the header, "
       "found 'x' (0x78)"},
  };
  nn_data_spec s = spec_class(2, 3);
  char want[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    npy_raw(tmp("h.npy"), cases[i].header);
    snprintf(want, sizeof want, "T/h.npy: %s", cases[i].msg);
    expect_error(npy(tmp("h.npy"), NULL), s, want);
  }
  char many[512] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1";
  for (int i = 0; i < 32; i++)
    strcat(many, ", 1");
  strcat(many, ")}");
  npy_raw(tmp("h.npy"), many);
  expect_error(npy(tmp("h.npy"), NULL), s, "T/h.npy: offset 157: error: more than 32 dimensions");
}

/* The shape against the model and the data section against the shape. */
static void test_shape_and_data_errors(void **state) {
  const float x[] = {1, 2, 3, 4, 5, 6};
  nn_data_spec s = spec_class(2, 3);
  nn_source src = npy(tmp("x.npy"), NULL);
  npy_write(tmp("x.npy"), 1, dict("<f4", "()"), x, 4);
  expect_error(src, s, "T/x.npy: error: shape (), a single value; expected (N, ...) with a row "
                       "per sample");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(0, 2)"), x, 0);
  expect_error(src, s, "T/x.npy: error: shape (0, 2): no rows");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(3, 0)"), x, 0);
  expect_error(src, s, "T/x.npy: error: shape (3, 0): rows of 0 values");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(3000000000, 2)"), x, 0);
  expect_error(src, s, "T/x.npy: error: shape (3000000000, 2): more rows than a data set holds");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(4, 2097152, 1048576)"), x, 0);
  expect_error(src, s, "T/x.npy: error: shape (4, 2097152, 1048576): rows too large");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(2, 3)"), x, sizeof x);
  expect_error(src, s, "T/x.npy: error: features of shape (2, 3) are 3 values a row, the "
                       "model's input needs 2");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(6,)"), x, sizeof x);
  expect_error(src, s, "T/x.npy: error: features of shape (6,) are 1 value a row, the model's "
                       "input needs 2");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(4, 2)"), x, sizeof x);
  expect_error(src, s, "T/x.npy: offset 152: error: truncated: shape (4, 2) of '<f4' needs 32 "
                       "bytes after the header (offset 128), found 24");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(2, 2)"), x, sizeof x);
  expect_error(src, s, "T/x.npy: offset 144: error: unexpected data after the 4 values of the "
                       "shape");
  const float bad[] = {1, 2, 3, NAN}, inf[] = {1, -INFINITY};
  npy_write(tmp("x.npy"), 1, dict("<f4", "(2, 2)"), bad, sizeof bad);
  expect_error(src, s, "T/x.npy: offset 140: error: value 1 of row 1 is NaN, expected a finite "
                       "number");
  npy_write(tmp("x.npy"), 1, dict("<f4", "(1, 2)"), inf, sizeof inf);
  expect_error(src, s, "T/x.npy: offset 132: error: value 1 of row 0 is -inf, expected a finite "
                       "number");
  const int32_t ids[] = {0, 1, 2, 5};
  npy_write(tmp("x.npy"), 1, dict("<i4", "(2, 2)"), ids, sizeof ids);
  nn_data_spec tok = spec_class(2, 3);
  tok.tokens = 5;
  expect_error(src, tok, "T/x.npy: offset 140: error: token id 5 (value 1 of row 1) is not an "
                         "integer in 0..4");
  const float frac[] = {0, 1.5f};
  npy_write(tmp("x.npy"), 1, dict("<f4", "(1, 2)"), frac, sizeof frac);
  expect_error(src, tok, "T/x.npy: offset 132: error: token id 1.5 (value 1 of row 0) is not an "
                         "integer in 0..4");
}

/* The targets file against the features and the model. */
static void test_target_errors(void **state) {
  const float x[] = {1, 2, 3, 4, 5, 6};
  npy_write(tmp("x.npy"), 1, dict("<f4", "(3, 2)"), x, sizeof x);
  nn_source src = npy(tmp("x.npy"), tmp("y.npy"));
  nn_data_spec s = spec_class(2, 3);
  expect_error(npy(tmp("x.npy"), NULL), s, "T/x.npy: error: no targets file; the model needs "
                                           "class targets (give FEATURES.npy,TARGETS.npy)");
  expect_error(npy(tmp("x.npy"), NULL), spec_real(2, 1),
               "T/x.npy: error: no targets file; the model needs real targets (give "
               "FEATURES.npy,TARGETS.npy)");
  const float onehot[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  npy_write(tmp("y.npy"), 1, dict("<f4", "(3, 3)"), onehot, sizeof onehot);
  expect_error(src, s, "T/y.npy: error: class labels of shape (3, 3), expected (3,): one class "
                       "index a row (one-hot rows? save y.argmax(1))");
  expect_error(src, spec_real(2, 2), "T/y.npy: error: targets of shape (3, 3) are 3 values a "
                                     "row, the model's target needs 2");
  nn_data_spec seq = spec_class(2, 3);
  seq.ncls = 2;
  expect_error(src, seq, "T/y.npy: error: class labels of shape (3, 3) are 3 values a row, the "
                         "model's label needs 2");
  const int64_t y4[] = {0, 1, 2, 0};
  npy_write(tmp("y.npy"), 1, dict("<i8", "(4,)"), y4, sizeof y4);
  expect_error(src, s, "T/y.npy: error: shape (4,) has 4 rows, but T/x.npy has 3");
  const int64_t big[] = {0, 2, 3};
  npy_write(tmp("y.npy"), 1, dict("<i8", "(3,)"), big, sizeof big);
  expect_error(src, s, "T/y.npy: offset 144: error: label 3 at index [2] out of range 0..2");
  const int32_t neg[] = {0, -1, 1};
  npy_write(tmp("y.npy"), 1, dict("<i4", "(3,)"), neg, sizeof neg);
  expect_error(src, s, "T/y.npy: offset 132: error: label -1 at index [1] out of range 0..2");
  const double fl[] = {0, 1, 1.5};
  npy_write(tmp("y.npy"), 1, dict("<f8", "(3,)"), fl, sizeof fl);
  expect_error(src, s, "T/y.npy: offset 144: error: label 1.5 at index [2] is not a class "
                       "index in 0..2");
  const float nan[] = {NAN, 1, 1};
  npy_write(tmp("y.npy"), 1, dict("<f4", "(3,)"), nan, sizeof nan);
  expect_error(src, s, "T/y.npy: offset 128: error: label NaN at index [0] is not a class index "
                       "in 0..2");
  const unsigned char steps[] = {0, 1, 2, 0, 1, 7};
  npy_write(tmp("y.npy"), 1, dict("|u1", "(3, 2)"), steps, sizeof steps);
  expect_error(src, seq, "T/y.npy: offset 133: error: label 7 at index [2, 1] out of range 0..2");
  const double ry[] = {1, 2, 3, 4, INFINITY, 6};
  npy_write(tmp("y.npy"), 1, dict("<f8", "(3, 2)"), ry, sizeof ry);
  expect_error(src, spec_real(2, 2), "T/y.npy: offset 160: error: target value 0 of row 2 is "
                                     "+inf, expected a finite number");
  npy_raw(tmp("y.npy"), "{'descr': '<i8', 'fortran_order': True, 'shape': (3,)}");
  expect_error(src, s, "T/y.npy: offset 44: error: fortran_order is True (the values are in "
                       "column-major order), expected False: save a C-ordered array, "
                       "np.save(path, np.ascontiguousarray(a))");
  expect_error(npy(tmp("x.npy"), tmp("none.npy")), s,
               "T/none.npy: error: cannot open: No such file or directory");
}

/* A message cut to a small buffer still ends in a NUL. */
static void test_small_err_buffer(void **state) {
  write_bytes(tmp("bad.npy"), "garbage", 7, NULL, 0);
  nn_source src = npy(tmp("bad.npy"), NULL);
  nn_data_spec s = spec_class(2, 3);
  nn_dataset d;
  char err[8];
  assert_int_equal(nn_data_load(&src, &s, &d, err, sizeof err), -1);
  assert_int_equal(strlen(err), 7);
  assert_memory_equal(err, tmpdir, 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_f4_i8),
      cmocka_unit_test(test_f8_i4_versions),
      cmocka_unit_test(test_u1_images),
      cmocka_unit_test(test_big_endian),
      cmocka_unit_test(test_real_targets),
      cmocka_unit_test(test_no_targets),
      cmocka_unit_test(test_tokens_and_step_labels),
      cmocka_unit_test(test_large),
      cmocka_unit_test(test_sniff),
      cmocka_unit_test(test_prefix_errors),
      cmocka_unit_test(test_header_errors),
      cmocka_unit_test(test_shape_and_data_errors),
      cmocka_unit_test(test_target_errors),
      cmocka_unit_test(test_small_err_buffer),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
