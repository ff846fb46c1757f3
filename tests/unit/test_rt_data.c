/* test_rt_data.c — the CSV and IDX loaders (good files to exact values,
 * every error to its exact message), batching and context buffers.
 * Run with cwd tests/unit: fixtures are data/... */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt.h"

static nn_data_spec spec_class(int dim, int k) {
  return (nn_data_spec){.dim = dim, .target = NN_TARGET_CLASS, .nclasses = k, .scale = 1};
}

static nn_source csv(const char *path, int header, int label_col) {
  return (nn_source){.kind = NN_SRC_CSV, .path = path, .header = header, .label_col = label_col};
}

static nn_source idx(const char *images, const char *labels) {
  return (nn_source){.kind = NN_SRC_IDX, .path = images, .path2 = labels};
}

/* Loading fails with exactly `msg` and leaves *out empty. */
static void expect_error(nn_source src, nn_data_spec spec, const char *msg) {
  char err[512] = "";
  nn_dataset d;
  memset(&d, 0x55, sizeof d);
  assert_int_equal(nn_data_load(&src, &spec, &d, err, sizeof err), -1);
  assert_string_equal(err, msg);
  assert_int_equal(d.n, 0);
  assert_null(d.x);
  assert_null(d.cls);
  assert_null(d.y);
  assert_null(d.name);
}

static void load_ok(nn_source src, nn_data_spec spec, nn_dataset *d) {
  char err[512] = "";
  int rc = nn_data_load(&src, &spec, d, err, sizeof err);
  if (rc)
    fail_msg("unexpected error: %s", err);
}

static void assert_floats(const float *got, const float *want, int n) {
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
}

/* ---------------------------------------------------------------- CSV good */

/* Header, CRLF, blank lines, spaces around numbers, no final newline. */
static void test_csv_good(void **state) {
  nn_dataset d;
  load_ok(csv("data/good.csv", 1, -1), spec_class(3, 3), &d);
  assert_int_equal(d.n, 3);
  assert_int_equal(d.dim, 3);
  assert_true(d.has_target);
  assert_string_equal(d.name, "data/good.csv");
  const float x[] = {1, 2, 3, 4.5f, -0.5f, 6, 7, 8, 9};
  assert_floats(d.x, x, 9);
  assert_int_equal(d.cls[0], 0);
  assert_int_equal(d.cls[1], 2);
  assert_int_equal(d.cls[2], 1);
  assert_null(d.y);
  nn_data_free(&d);
  assert_null(d.x);
}

static void test_csv_label_first_scaled(void **state) {
  nn_dataset d;
  nn_data_spec s = spec_class(3, 3);
  s.scale = 0.5;
  load_ok(csv("data/good_label0.csv", 0, 0), s, &d);
  assert_int_equal(d.n, 3);
  const float x[] = {0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f};
  assert_floats(d.x, x, 9);
  assert_int_equal(d.cls[0], 2);
  assert_int_equal(d.cls[1], 0);
  assert_int_equal(d.cls[2], 1);
  nn_data_free(&d);
}

/* "2.0" is the integer 2. */
static void test_csv_integral_float_label(void **state) {
  nn_dataset d;
  load_ok(csv("data/label_intfloat.csv", 0, -1), spec_class(3, 3), &d);
  assert_int_equal(d.cls[0], 2);
  nn_data_free(&d);
}

static void test_csv_real_last(void **state) {
  nn_dataset d;
  nn_data_spec s = {.dim = 2, .target = NN_TARGET_REAL, .ydim = 2, .scale = 1};
  load_ok(csv("data/real.csv", 1, -1), s, &d);
  assert_int_equal(d.n, 2);
  assert_int_equal(d.ydim, 2);
  assert_null(d.cls);
  const float x[] = {1, 2, 3, 4}, y[] = {0.5f, 0.25f, -1, 2};
  assert_floats(d.x, x, 4);
  assert_floats(d.y, y, 4);
  nn_data_free(&d);
}

/* label_col = 1: columns 1 and 2 are the targets, 0 and 3 the features. */
static void test_csv_real_middle(void **state) {
  nn_dataset d;
  nn_data_spec s = {.dim = 2, .target = NN_TARGET_REAL, .ydim = 2, .scale = 10};
  load_ok(csv("data/real.csv", 1, 1), s, &d);
  const float x[] = {10, 2.5f, 30, 20}, y[] = {2, 0.5f, 4, -1};
  assert_floats(d.x, x, 4);
  assert_floats(d.y, y, 4);
  nn_data_free(&d);
}

/* label_col = -2 with one target: the second column from the end. */
static void test_csv_real_negative_col(void **state) {
  nn_dataset d;
  nn_data_spec s = {.dim = 3, .target = NN_TARGET_REAL, .ydim = 1, .scale = 1};
  load_ok(csv("data/real.csv", 1, -2), s, &d);
  const float x[] = {1, 2, 0.25f, 3, 4, 2}, y[] = {0.5f, -1};
  assert_floats(d.x, x, 6);
  assert_floats(d.y, y, 2);
  nn_data_free(&d);
  /* label_col = -3 with two targets: columns 1 and 2 of 4. */
  s.dim = 2;
  s.ydim = 2;
  load_ok(csv("data/real.csv", 1, -3), s, &d);
  const float x2[] = {1, 0.25f, 3, 2}, y2[] = {2, 0.5f, 4, -1};
  assert_floats(d.x, x2, 4);
  assert_floats(d.y, y2, 4);
  nn_data_free(&d);
  load_ok(csv("data/real.csv", 1, -2), s, &d); /* the last two columns, as -1 */
  const float y3[] = {0.5f, 0.25f, -1, 2};
  assert_floats(d.y, y3, 4);
  nn_data_free(&d);
  expect_error(csv("data/real.csv", 1, -5), s,
               "data/real.csv:2: error: label column -5 does not fit 2 target columns in 4 columns");
}

/* target_optional: a file without the target column loads untargeted. */
static void test_csv_optional_target(void **state) {
  nn_dataset d;
  nn_data_spec s = spec_class(3, 3);
  s.target_optional = 1;
  load_ok(csv("data/feat.csv", 0, -1), s, &d);
  assert_int_equal(d.n, 2);
  assert_false(d.has_target);
  assert_null(d.cls);
  const float x[] = {1, 2, 3, 4, 5, 6};
  assert_floats(d.x, x, 6);
  nn_data_free(&d);
  /* ... and one with it still loads the labels. */
  load_ok(csv("data/good.csv", 1, -1), s, &d);
  assert_true(d.has_target);
  assert_int_equal(d.cls[1], 2);
  nn_data_free(&d);
}

/* NONE / INPUT: all columns are features; with target_optional the
 * ydim target columns are skipped. */
static void test_csv_input_and_none(void **state) {
  nn_dataset d;
  nn_data_spec s = {.dim = 3, .target = NN_TARGET_INPUT, .scale = 1};
  load_ok(csv("data/feat.csv", 0, -1), s, &d);
  assert_true(d.has_target);
  assert_null(d.cls);
  assert_null(d.y);
  nn_data_free(&d);
  s.target = NN_TARGET_NONE;
  s.ydim = 1;
  s.target_optional = 1;
  load_ok(csv("data/good_label0.csv", 0, 0), s, &d);
  assert_false(d.has_target);
  assert_null(d.cls);
  const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  assert_floats(d.x, x, 9);
  nn_data_free(&d);
  s.target_optional = 0;
  expect_error(csv("data/good_label0.csv", 0, 0), s,
               "data/good_label0.csv:1: error: expected 3 columns, found 4");
}

/* ---------------------------------------------------------------- CSV bad */

static void test_csv_errors(void **state) {
  nn_data_spec s = spec_class(3, 3);
  expect_error(csv("data/nope.csv", 0, -1), s,
               "data/nope.csv: error: cannot open: No such file or directory");
  expect_error(csv("data/empty.csv", 0, -1), s, "data/empty.csv: error: empty file");
  expect_error(csv("data/header_only.csv", 1, -1), s, "data/header_only.csv: error: no data rows, only the header line 1");
  expect_error(csv("data/blank_only.csv", 0, -1), s, "data/blank_only.csv: error: no data rows, only blank lines");
  expect_error(csv("data/bad_cols.csv", 0, -1), s,
               "data/bad_cols.csv:2: error: expected 4 columns, found 3");
  expect_error(csv("data/bad_cols_first.csv", 0, -1), s,
               "data/bad_cols_first.csv:1: error: expected 4 columns, found 2");
  expect_error(csv("data/nonnum.csv", 0, -1), s,
               "data/nonnum.csv:2:2: error: 'abc' is not a number (column 2)");
  expect_error(csv("data/nonnum_tail.csv", 0, -1), s,
               "data/nonnum_tail.csv:1:3: error: '3x' is not a number (column 3); "
               "is this line a header?");
  expect_error(csv("data/good.csv", 0, -1), s,
               "data/good.csv:1:1: error: 'a' is not a number (column 1); is this line a header?");
  expect_error(csv("data/empty_field.csv", 0, -1), s,
               "data/empty_field.csv:1:2: error: empty field (column 2)");
  expect_error(csv("data/nan.csv", 0, -1), s,
               "data/nan.csv:1:2: error: 'nan' is not a finite number (column 2)");
  expect_error(csv("data/label_float.csv", 0, -1), s,
               "data/label_float.csv:1:4: error: class label '1.5' is not an integer (column 4)");
  expect_error(csv("data/label_range.csv", 0, -1), s,
               "data/label_range.csv:2:4: error: label 3 out of range 0..2 (column 4)");
  expect_error(csv("data/label_neg.csv", 0, -1), s,
               "data/label_neg.csv:1:4: error: label -1 out of range 0..2 (column 4)");
  expect_error(csv("data/good_label0.csv", 0, 7), s,
               "data/good_label0.csv:1: error: label column 7 does not fit 1 target column in 4 columns");
  /* With an optional target both widths are named. */
  s.target_optional = 1;
  expect_error(csv("data/bad_cols_first.csv", 0, -1), s,
               "data/bad_cols_first.csv:1: error: expected 3 or 4 columns, found 2");
  nn_data_spec r = {.dim = 3, .target = NN_TARGET_REAL, .ydim = 2, .scale = 1};
  expect_error(csv("data/good.csv", 1, -1), r, "data/good.csv:2: error: expected 5 columns, found 4");
}

/* ---------------------------------------------------------------- IDX good */

static const float img3[12] = {0, 1, 2, 3, 10, 20, 30, 40, 255, 128, 64, 0};

static void check_img3(const nn_dataset *d, double scale) {
  assert_int_equal(d->n, 3);
  assert_int_equal(d->dim, 4);
  for (int i = 0; i < 12; i++)
    assert_true(d->x[i] == (float)(img3[i] * scale));
}

static void test_idx_plain_and_gz(void **state) {
  const char *imgs[] = {"data/img3.idx", "data/img3.idx.gz"};
  const char *lbls[] = {"data/lbl3.idx", "data/lbl3.idx.gz"};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      nn_dataset d;
      nn_data_spec s = spec_class(4, 3);
      s.scale = 1.0 / 255;
      load_ok(idx(imgs[i], lbls[j]), s, &d);
      check_img3(&d, 1.0 / 255);
      assert_true(d.x[8] == 1.0f);
      assert_true(d.has_target);
      assert_int_equal(d.cls[0], 0);
      assert_int_equal(d.cls[1], 2);
      assert_int_equal(d.cls[2], 1);
      char name[64];
      snprintf(name, sizeof name, "%s,%s", imgs[i], lbls[j]);
      assert_string_equal(d.name, name);
      nn_data_free(&d);
    }
}

static void test_idx_unlabelled(void **state) {
  nn_dataset d;
  nn_data_spec s = {.dim = 4, .target = NN_TARGET_INPUT, .scale = 1};
  load_ok(idx("data/img3.idx.gz", NULL), s, &d);
  check_img3(&d, 1);
  assert_true(d.has_target);
  assert_string_equal(d.name, "data/img3.idx.gz");
  nn_data_free(&d);
  /* NONE ignores a labels file. */
  s.target = NN_TARGET_NONE;
  load_ok(idx("data/img3.idx", "data/lbl3_range.idx"), s, &d);
  assert_false(d.has_target);
  assert_null(d.cls);
  nn_data_free(&d);
  /* Optional class labels may be absent. */
  s = spec_class(4, 3);
  s.target_optional = 1;
  load_ok(idx("data/img3.idx", NULL), s, &d);
  assert_false(d.has_target);
  nn_data_free(&d);
}

static void test_idx_real_labels(void **state) {
  nn_dataset d;
  nn_data_spec s = {.dim = 4, .target = NN_TARGET_REAL, .ydim = 2, .scale = 1};
  load_ok(idx("data/img3.idx", "data/lbl3x2.idx"), s, &d);
  const float y[] = {0, 1, 2, 3, 4, 5};
  assert_int_equal(d.ydim, 2);
  assert_floats(d.y, y, 6);
  nn_data_free(&d);
}

/* ---------------------------------------------------------------- IDX bad */

static void test_idx_errors(void **state) {
  nn_data_spec s = spec_class(4, 3);
  expect_error(idx("data/nope.idx", "data/lbl3.idx"), s,
               "data/nope.idx: error: cannot open: No such file or directory");
  expect_error(idx("data/img3.idx", "data/nope.idx"), s,
               "data/nope.idx: error: cannot open: No such file or directory");
  expect_error(idx("data/empty.idx", "data/lbl3.idx"), s, "data/empty.idx: error: empty file");
  expect_error(idx("data/img_bad_magic.idx", "data/lbl3.idx"), s,
               "data/img_bad_magic.idx: offset 0: error: bad magic 0x12345678, expected "
               "0x0000080N (an IDX file of unsigned bytes with N >= 1 dimensions)");
  expect_error(idx("data/img_hdr_trunc.idx", "data/lbl3.idx"), s,
               "data/img_hdr_trunc.idx: offset 10: error: truncated header");
  expect_error(idx("data/img_trunc.idx", "data/lbl3.idx"), s,
               "data/img_trunc.idx: offset 26: error: truncated: 3 items of 4 bytes need 12 "
               "bytes after the header, found 10");
  expect_error(idx("data/img_trunc.idx.gz", "data/lbl3.idx"), s,
               "data/img_trunc.idx.gz: offset 26: error: truncated: 3 items of 4 bytes need 12 "
               "bytes after the header, found 10");
  expect_error(idx("data/img_trailing.idx", "data/lbl3.idx"), s,
               "data/img_trailing.idx: offset 28: error: unexpected data after 3 items");
  expect_error(idx("data/img_zero.idx", "data/lbl3.idx"), s,
               "data/img_zero.idx: error: no rows (the header says 0 items)");
  expect_error(idx("data/img3x8.idx", "data/lbl3.idx"), s,
               "data/img3x8.idx: error: images are 8 values, the model's input needs 4");
  expect_error(idx("data/lbl3.idx", "data/lbl3.idx"), s,
               "data/lbl3.idx: error: images are single values, the model's input needs 4");
  expect_error(idx("data/img3.idx", "data/lbl3_range.idx"), s,
               "data/lbl3_range.idx: offset 9: error: label 7 out of range 0..2");
  expect_error(idx("data/img3.idx", "data/lbl2.idx"), s,
               "data/lbl2.idx: error: 2 labels, but data/img3.idx has 3 images");
  expect_error(idx("data/img3.idx", "data/lbl3x2.idx"), s,
               "data/lbl3x2.idx: error: labels are 2 values, expected one class label per item");
  expect_error(idx("data/img3.idx", NULL), s,
               "data/img3.idx: error: no labels file; the model needs class targets (give "
               "IMAGES,LABELS)");
  s.dim = 64;
  expect_error(idx("data/img3.idx.gz", "data/lbl3.idx"), s,
               "data/img3.idx.gz: error: images are 2x2 (4 values), the model's input needs 64");
  nn_data_spec r = {.dim = 4, .target = NN_TARGET_REAL, .ydim = 3, .scale = 1};
  expect_error(idx("data/img3.idx", "data/lbl3x2.idx"), r,
               "data/lbl3x2.idx: error: labels are 2 values, the model's target needs 3");
}

/* A gzip stream cut short is reported, whatever zlib calls it. */
static void test_idx_cut_gzip(void **state) {
  nn_data_spec s = {.dim = 16, .target = NN_TARGET_INPUT, .scale = 1};
  nn_source src = idx("data/img_cut.idx.gz", NULL);
  char err[512] = "";
  nn_dataset d;
  assert_int_equal(nn_data_load(&src, &s, &d, err, sizeof err), -1);
  assert_non_null(strstr(err, "data/img_cut.idx.gz: offset "));
  assert_null(d.x);
}

static void test_no_source(void **state) {
  nn_source src = {0};
  nn_data_spec s = spec_class(4, 3);
  char err[128];
  nn_dataset d;
  assert_int_equal(nn_data_load(&src, &s, &d, err, sizeof err), -1);
  assert_string_equal(err, "(none): error: no data source");
}

/* A tiny err buffer truncates the message but never overflows. */
static void test_small_err_buffer(void **state) {
  nn_source src = csv("data/nonnum.csv", 0, -1);
  nn_data_spec s = spec_class(3, 3);
  char err[8];
  nn_dataset d;
  assert_int_equal(nn_data_csv(&src, &s, &d, err, sizeof err), -1);
  assert_string_equal(err, "data/no");
}

/* ------------------------------------------------------------------ batches */

static void test_batch_gather(void **state) {
  float x[4 * 2] = {0, 1, 10, 11, 20, 21, 30, 31};
  int32_t cls[4] = {5, 6, 7, 8};
  float y[4 * 3];
  for (int i = 0; i < 12; i++)
    y[i] = (float)(100 + i);
  nn_dataset d = {.n = 4, .dim = 2, .x = x, .has_target = 1, .cls = cls, .y = y, .ydim = 3};
  int32_t order[4] = {3, 1, 0, 2};
  float xb[4] = {0}, yb[6] = {0};
  int32_t cb[2] = {0};
  nn_batch_gather(&d, order, 1, 2, xb, cb, yb);
  const float xw[] = {10, 11, 0, 1}, yw[] = {103, 104, 105, 100, 101, 102};
  assert_floats(xb, xw, 4);
  assert_floats(yb, yw, 6);
  assert_int_equal(cb[0], 6);
  assert_int_equal(cb[1], 5);
  /* NULL buffers are skipped; a partial batch at the end. */
  nn_batch_gather(&d, order, 3, 1, xb, NULL, NULL);
  assert_true(xb[0] == 20 && xb[1] == 21);
  /* Data without targets leaves cb / yb alone. */
  nn_dataset u = {.n = 4, .dim = 2, .x = x};
  cb[0] = -1;
  nn_batch_gather(&u, order, 0, 1, xb, cb, yb);
  assert_int_equal(cb[0], -1);
  assert_true(xb[0] == 30);
}

/* -------------------------------------------------------------------- ctx */

static void test_ctx_alloc(void **state) {
  nn_model m = {.real_size = 4, .params_size = 3, .state_size = 0, .acts_size = 1000};
  nn_ctx c;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  void *bufs[4] = {c.params, c.grads, c.state, c.acts};
  size_t sizes[4] = {3, 3, 0, 1000};
  for (int i = 0; i < 4; i++) {
    assert_non_null(bufs[i]);
    assert_int_equal((uintptr_t)bufs[i] % 64, 0);
    for (size_t k = 0; k < sizes[i]; k++)
      assert_true(((float *)bufs[i])[k] == 0);
  }
  assert_int_equal(c.step, 0);
  ((float *)c.acts)[999] = 1; /* the whole size is usable */
  nn_ctx_free(&c);
  assert_null(c.params);
  assert_null(c.acts);
  m.real_size = 8;
  assert_int_equal(nn_ctx_alloc(&c, &m), 0);
  ((double *)c.acts)[999] = 1;
  assert_int_equal((uintptr_t)c.params % 64, 0);
  nn_ctx_free(&c);
  nn_ctx_free(&c); /* freeing twice is harmless */
}

/* ------------------------------------------------------- validation split */

/* A data set of n rows whose row i is x = (i, -i), class i % 3. */
static void numbered(nn_dataset *d, int n) {
  memset(d, 0, sizeof *d);
  d->name = strdup("rows.csv");
  d->n = n;
  d->dim = 2;
  d->has_target = 1;
  d->x = malloc((size_t)n * 2 * sizeof *d->x);
  d->cls = malloc((size_t)n * sizeof *d->cls);
  for (int i = 0; i < n; i++) {
    d->x[2 * i] = (float)i;
    d->x[2 * i + 1] = (float)-i;
    d->cls[i] = i % 3;
  }
}

/* round(0.3 * 10) = 3 rows held out; together the parts are the rows 0..9
 * once each, each part in file order with its classes; the same seed
 * holds out the same rows, another seed (here) others. */
static void test_split(void **state) {
  (void)state;
  int held_a[3];
  for (int pass = 0; pass < 3; pass++) {
    nn_dataset d, v;
    numbered(&d, 10);
    nn_rng r;
    nn_rng_seed(&r, pass < 2 ? 7 : 8, 4);
    char err[256];
    assert_int_equal(nn_data_split(&d, 0.3, &r, &v, err, sizeof err), 0);
    assert_int_equal(v.n, 3);
    assert_int_equal(d.n, 7);
    assert_string_equal(d.name, "rows.csv");
    assert_string_equal(v.name, "held out of rows.csv");
    int seen[10] = {0};
    const nn_dataset *parts[2] = {&d, &v};
    for (int p = 0; p < 2; p++)
      for (int i = 0; i < parts[p]->n; i++) {
        int row = (int)parts[p]->x[2 * i];
        assert_true(row >= 0 && row < 10);
        assert_true(parts[p]->x[2 * i + 1] == (float)-row);
        assert_int_equal(parts[p]->cls[i], row % 3);
        if (i)
          assert_true(parts[p]->x[2 * i] > parts[p]->x[2 * i - 2]);
        seen[row]++;
        if (p == 1 && pass == 0)
          held_a[i] = row;
      }
    for (int i = 0; i < 10; i++)
      assert_int_equal(seen[i], 1);
    int same = 0;
    for (int i = 0; i < 3; i++)
      same += (int)v.x[2 * i] == held_a[i];
    if (pass == 1)
      assert_int_equal(same, 3);
    if (pass == 2)
      assert_true(same < 3);
    nn_data_free(&d);
    nn_data_free(&v);
  }
}

/* A fraction that leaves either part empty is refused; d is untouched. */
static void test_split_errors(void **state) {
  (void)state;
  nn_dataset d, v;
  numbered(&d, 4);
  nn_rng r;
  nn_rng_seed(&r, 1, 4);
  char err[256];
  assert_int_equal(nn_data_split(&d, 0.1, &r, &v, err, sizeof err), -1);
  assert_string_equal(err, "rows.csv: error: validation = 0.1 of 4 rows leaves no validation rows");
  assert_int_equal(nn_data_split(&d, 0.9, &r, &v, err, sizeof err), -1);
  assert_string_equal(err, "rows.csv: error: validation = 0.9 of 4 rows leaves no training rows");
  assert_int_equal(d.n, 4);
  assert_int_equal(v.n, 0);
  assert_null(v.x);
  nn_data_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_good),
      cmocka_unit_test(test_csv_label_first_scaled),
      cmocka_unit_test(test_csv_integral_float_label),
      cmocka_unit_test(test_csv_real_last),
      cmocka_unit_test(test_csv_real_middle),
      cmocka_unit_test(test_csv_real_negative_col),
      cmocka_unit_test(test_csv_optional_target),
      cmocka_unit_test(test_csv_input_and_none),
      cmocka_unit_test(test_csv_errors),
      cmocka_unit_test(test_idx_plain_and_gz),
      cmocka_unit_test(test_idx_unlabelled),
      cmocka_unit_test(test_idx_real_labels),
      cmocka_unit_test(test_idx_errors),
      cmocka_unit_test(test_idx_cut_gzip),
      cmocka_unit_test(test_no_source),
      cmocka_unit_test(test_small_err_buffer),
      cmocka_unit_test(test_batch_gather),
      cmocka_unit_test(test_ctx_alloc),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_split_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
