/* data_npy.c — NumPy .npy files (np.save) as a data source.
 *
 * File layout (NEP 1, format versions 1.0, 2.0 and 3.0):
 *   offset 0   magic "\x93NUMPY"
 *   offset 6   major, minor version bytes
 *   offset 8   header length HLEN: uint16 LE (1.0) or uint32 LE (2.0, 3.0)
 *   offset 10 or 12: HLEN bytes of header, a Python dict literal
 *              {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...), }
 *              padded with spaces and a final '\n'
 *   then prod(shape) values of the dtype, C order (the last index fastest).
 * Supported dtypes: f4, f8 (float32/64), u1 (uint8), i4, i8 (int32/64), in
 * either byte order ('<', '>', '=' native, '|' for one byte).  shape[0] is
 * the row count N; one row holds prod(shape[1..]) values (1 for shape
 * (N,)).  Features: every value times spec->scale, finite; for a token
 * input, integer ids in [0, V).  Targets (second file): CLASS: max(1,
 * ncls) integral values in [0, nclasses) a row; REAL: ydim finite values a
 * row (unscaled).  Offsets in messages are byte offsets into the file.
 */
#include "nnrt.h"
#include "nnrt_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NN_NPY_CHUNK (1u << 16) /* a multiple of every value size */
#define NN_NPY_MAX_HEADER (1u << 20)
#define NN_NPY_MAX_DIMS 32

typedef struct nn_npy {
  const char *path;
  char *err;
  size_t errlen;
  FILE *f;
  size_t off;    /* bytes consumed so far */
  char descr[24]; /* as written, for messages */
  char kind;     /* 'f' float, 'u' unsigned, 'i' signed */
  int size;      /* bytes a value: 1, 4 or 8 */
  int swap;      /* the file's byte order is not the host's */
  int ndim;
  size_t shape[NN_NPY_MAX_DIMS];
  size_t count;  /* shape[0] */
  size_t item;   /* values a row: prod(shape[1..]) */
  size_t data;   /* offset of the first value */
} nn_npy;

/* -------------------------------------------------------------- reading */

static long long nn_npy_read(nn_npy *f, void *buf, size_t n) {
  size_t got = fread(buf, 1, n, f->f);
  if (got < n && ferror(f->f)) {
    snprintf(f->err, f->errlen, "%s: offset %zu: error: cannot read: %s", f->path, f->off + got,
             strerror(errno));
    return -1;
  }
  f->off += got;
  return (long long)got;
}

static int nn_npy_open(nn_npy *f) {
  f->f = fopen(f->path, "rb");
  if (!f->f) {
    snprintf(f->err, f->errlen, "%s: error: cannot open: %s", f->path, strerror(errno));
    return -1;
  }
  return 0;
}

static void nn_npy_close(nn_npy *f) {
  if (f->f)
    fclose(f->f);
  f->f = NULL;
}

static unsigned nn_npy_le(const unsigned char *b, int n) {
  unsigned v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = v << 8 | b[i];
  return v;
}

/* Magic, version and header length: the fixed prefix. */
static int nn_npy_prefix(nn_npy *f, size_t *hlen) {
  unsigned char b[12];
  long long r = nn_npy_read(f, b, 8);
  if (r < 0)
    return -1;
  if (r == 0) {
    snprintf(f->err, f->errlen, "%s: error: empty file", f->path);
    return -1;
  }
  if (r < 6 || memcmp(b, "\x93NUMPY", 6) != 0) {
    snprintf(f->err, f->errlen, "%s: offset 0: error: bad magic, expected \\x93NUMPY "
             "(a NumPy .npy file, as np.save writes)", f->path);
    return -1;
  }
  if (r < 8) {
    snprintf(f->err, f->errlen, "%s: offset %lld: error: truncated: expected the format "
             "version (2 bytes) at offset 6", f->path, r);
    return -1;
  }
  if (b[6] < 1 || b[6] > 3 || b[7] != 0) {
    snprintf(f->err, f->errlen, "%s: offset 6: error: format version %u.%u, expected 1.0, "
             "2.0 or 3.0", f->path, b[6], b[7]);
    return -1;
  }
  int w = b[6] == 1 ? 2 : 4; /* the header length: uint16, or uint32 from 2.0 on */
  r = nn_npy_read(f, b + 8, (size_t)w);
  if (r < 0)
    return -1;
  if (r < w) {
    snprintf(f->err, f->errlen, "%s: offset %zu: error: truncated: expected the header "
             "length (%d bytes, little-endian) at offset 8", f->path, f->off, w);
    return -1;
  }
  *hlen = nn_npy_le(b + 8, w);
  return 0;
}

/* -------------------------------------------------- the header's dict */

/* A cursor over the header text; at(p) is the file offset of p. */
typedef struct nn_npy_hdr {
  nn_npy *f;
  const char *p, *end;
} nn_npy_hdr;

static size_t nn_npy_at(const nn_npy_hdr *h) { return h->f->data - (size_t)(h->end - h->p); }

static void nn_npy_ws(nn_npy_hdr *h) {
  while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
    h->p++;
}

/* "expected WHAT in the header, found X" at the cursor. */
static int nn_npy_expected(nn_npy_hdr *h, const char *what) {
  char b[16];
  if (h->p >= h->end)
    snprintf(h->f->err, h->f->errlen, "%s: offset %zu: error: expected %s in the header, found "
             "its end", h->f->path, nn_npy_at(h), what);
  else
    snprintf(h->f->err, h->f->errlen, "%s: offset %zu: error: expected %s in the header, found "
             "%s", h->f->path, nn_npy_at(h), what, nn_byte_text((unsigned char)*h->p, b));
  return -1;
}

static int nn_npy_char(nn_npy_hdr *h, char c, const char *what) {
  nn_npy_ws(h);
  if (h->p >= h->end || *h->p != c)
    return nn_npy_expected(h, what);
  h->p++;
  return 0;
}

/* A quoted string (no escapes: the keys and dtypes need none) into buf. */
static int nn_npy_string(nn_npy_hdr *h, char *buf, size_t len, const char *what) {
  nn_npy_ws(h);
  if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
    return nn_npy_expected(h, what);
  char q = *h->p;
  const char *s = h->p + 1, *e = s;
  while (e < h->end && *e != q && *e != '\\')
    e++;
  if (e >= h->end) {
    snprintf(h->f->err, h->f->errlen, "%s: offset %zu: error: unterminated string in the "
             "header, expected %s", h->f->path, nn_npy_at(h), what);
    return -1;
  }
  if (*e != q) { /* a backslash: escapes are not needed, so not read */
    h->p = e;
    return nn_npy_expected(h, what);
  }
  if ((size_t)(e - s) >= len) {
    snprintf(h->f->err, h->f->errlen, "%s: offset %zu: error: expected %s in the header, found "
             "a string of %zu characters", h->f->path, nn_npy_at(h), what, (size_t)(e - s));
    return -1;
  }
  memcpy(buf, s, (size_t)(e - s));
  buf[e - s] = '\0';
  h->p = e + 1;
  return 0;
}

/* 'descr': one of the supported dtypes. */
static int nn_npy_descr(nn_npy_hdr *h) {
  nn_npy *f = h->f;
  nn_npy_ws(h);
  size_t at = nn_npy_at(h);
  if (h->p < h->end && (*h->p == '[' || *h->p == '{')) {
    snprintf(f->err, f->errlen, "%s: offset %zu: error: a structured dtype, expected one of "
             "'<f4', '<f8', '|u1', '<i4', '<i8' (a plain array)", f->path, at);
    return -1;
  }
  if (nn_npy_string(h, f->descr, sizeof f->descr, "the dtype string of 'descr' ('<f4')"))
    return -1;
  /* [byte order] kind size: '<' little, '>' big, '=' native, '|' n/a */
  static const char *const types[] = {"f4", "f8", "u1", "i4", "i8"};
  const char *d = f->descr, *t = d + 1;
  char order = d[0];
  int ok = 0;
  for (int i = 0; i < 5 && !ok; i++)
    ok = order && strchr("<>=|", order) && !strcmp(t, types[i]) && (order != '|' || t[1] == '1');
  if (!ok) {
    snprintf(f->err, f->errlen, "%s: offset %zu: error: dtype '%s' is not supported: expected "
             "float32 '<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8'",
             f->path, at, d);
    return -1;
  }
  f->kind = t[0];
  f->size = t[1] - '0';
  const uint16_t one = 1;
  int host_big = *(const unsigned char *)&one == 0;
  f->swap = f->size > 1 && (order == '>' ? !host_big : order == '<' ? host_big : 0);
  return 0;
}

static int nn_npy_fortran(nn_npy_hdr *h) {
  nn_npy_ws(h);
  size_t n = (size_t)(h->end - h->p);
  if (n >= 5 && !memcmp(h->p, "False", 5)) {
    h->p += 5;
    return 0;
  }
  if (n >= 4 && !memcmp(h->p, "True", 4)) {
    snprintf(h->f->err, h->f->errlen, "%s: offset %zu: error: fortran_order is True (the "
             "values are in column-major order), expected False: save a C-ordered array, "
             "np.save(path, np.ascontiguousarray(a))", h->f->path, nn_npy_at(h));
    return -1;
  }
  return nn_npy_expected(h, "True or False for 'fortran_order'");
}

/* 'shape': a tuple of non-negative integers, (N,) or (N, d1, ...). */
static int nn_npy_shape(nn_npy_hdr *h) {
  nn_npy *f = h->f;
  if (nn_npy_char(h, '(', "'(' starting the tuple of 'shape'"))
    return -1;
  f->ndim = 0;
  for (;;) {
    nn_npy_ws(h);
    if (h->p < h->end && *h->p == ')')
      break;
    if (h->p >= h->end || *h->p < '0' || *h->p > '9')
      return nn_npy_expected(h, f->ndim ? "a dimension or ')' in 'shape'" :
                                          "a dimension in 'shape'");
    size_t at = nn_npy_at(h), v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
      if (v > ((size_t)1 << 48)) {
        snprintf(f->err, f->errlen, "%s: offset %zu: error: dimension too large", f->path, at);
        return -1;
      }
      v = v * 10 + (size_t)(*h->p++ - '0');
    }
    if (h->p < h->end && *h->p == 'L') /* Python 2's long literal */
      h->p++;
    if (f->ndim == NN_NPY_MAX_DIMS) {
      snprintf(f->err, f->errlen, "%s: offset %zu: error: more than %d dimensions", f->path, at,
               NN_NPY_MAX_DIMS);
      return -1;
    }
    f->shape[f->ndim++] = v;
    nn_npy_ws(h);
    if (h->p < h->end && *h->p == ',')
      h->p++;
    else if (h->p >= h->end || *h->p != ')')
      return nn_npy_expected(h, "',' or ')' in 'shape'");
  }
  h->p++;
  return 0;
}

/* The dict: exactly the keys descr, fortran_order and shape, any order. */
static int nn_npy_dict(nn_npy_hdr *h) {
  static const char *const keys[] = {"descr", "fortran_order", "shape"};
  int seen[3] = {0, 0, 0};
  nn_npy *f = h->f;
  if (nn_npy_char(h, '{', "'{' (the header is a Python dict)"))
    return -1;
  for (;;) {
    nn_npy_ws(h);
    if (h->p < h->end && *h->p == '}')
      break;
    size_t at = nn_npy_at(h);
    char key[32];
    if (nn_npy_string(h, key, sizeof key, "a key ('descr', 'fortran_order' or 'shape') or '}'"))
      return -1;
    int k = 0;
    while (k < 3 && strcmp(key, keys[k]) != 0)
      k++;
    if (k == 3 || seen[k]) {
      snprintf(f->err, f->errlen, "%s: offset %zu: error: %s key '%s' in the header, expected "
               "'descr', 'fortran_order' and 'shape' once each", f->path, at,
               k == 3 ? "unknown" : "repeated", key);
      return -1;
    }
    seen[k] = 1;
    if (nn_npy_char(h, ':', "':' after the key"))
      return -1;
    if ((k == 0 ? nn_npy_descr(h) : k == 1 ? nn_npy_fortran(h) : nn_npy_shape(h)) != 0)
      return -1;
    nn_npy_ws(h);
    if (h->p < h->end && *h->p == ',')
      h->p++;
    else if (h->p >= h->end || *h->p != '}')
      return nn_npy_expected(h, "',' or '}' after a value");
  }
  h->p++;
  for (int k = 0; k < 3; k++)
    if (!seen[k]) {
      snprintf(f->err, f->errlen, "%s: offset %zu: error: the header has no '%s' key",
               f->path, nn_npy_at(h) - 1, keys[k]);
      return -1;
    }
  nn_npy_ws(h);
  if (h->p < h->end)
    return nn_npy_expected(h, "only spaces and a newline after the dict");
  return 0;
}

/* "(120, 4)", "(120,)" as Python prints a shape. */
static void nn_npy_shape_text(const nn_npy *f, char *buf, size_t len) {
  size_t k = (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < f->ndim && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%zu", i ? ", " : "", f->shape[i]);
  if (k < len)
    snprintf(buf + k, len - k, "%s)", f->ndim == 1 ? "," : "");
}

/* Prefix and header; sets kind, size, shape, count, item and data. */
static int nn_npy_header(nn_npy *f) {
  size_t hlen;
  if (nn_npy_open(f) || nn_npy_prefix(f, &hlen))
    return -1;
  if (hlen > NN_NPY_MAX_HEADER) {
    snprintf(f->err, f->errlen, "%s: offset 8: error: header length %zu, expected at most %u",
             f->path, hlen, NN_NPY_MAX_HEADER);
    return -1;
  }
  char *text = malloc(hlen + 1);
  if (!text) {
    snprintf(f->err, f->errlen, "%s: error: out of memory", f->path);
    return -1;
  }
  size_t start = f->off;
  long long r = nn_npy_read(f, text, hlen);
  int rc = -1;
  if (r >= 0 && (size_t)r < hlen)
    snprintf(f->err, f->errlen, "%s: offset %zu: error: truncated header: the length at "
             "offset 8 says %zu bytes from offset %zu, found %lld", f->path, f->off, hlen, start,
             r);
  else if (r >= 0) {
    f->data = f->off;
    nn_npy_hdr h = {f, text, text + hlen};
    rc = nn_npy_dict(&h);
  }
  free(text);
  if (rc)
    return -1;
  char shape[256];
  nn_npy_shape_text(f, shape, sizeof shape);
  if (f->ndim == 0) {
    snprintf(f->err, f->errlen, "%s: error: shape (), a single value; expected (N, ...) with "
             "a row per sample", f->path);
    return -1;
  }
  f->count = f->shape[0];
  f->item = 1;
  for (int i = 1; i < f->ndim; i++) {
    if (f->shape[i] != 0 && f->item > ((size_t)1 << 40) / f->shape[i]) {
      snprintf(f->err, f->errlen, "%s: error: shape %s: rows too large", f->path, shape);
      return -1;
    }
    f->item *= f->shape[i];
  }
  if (f->item == 0 || f->count == 0) {
    snprintf(f->err, f->errlen, "%s: error: shape %s: %s", f->path, shape,
             f->count == 0 ? "no rows" : "rows of 0 values");
    return -1;
  }
  if (f->count > 0x7fffffff || f->count > ((size_t)1 << 46) / f->item) {
    snprintf(f->err, f->errlen, "%s: error: shape %s: more rows than a data set holds", f->path,
             shape);
    return -1;
  }
  return 0;
}

/* ----------------------------------------------------------------- data */

/* Value b (f->size bytes in the file's order) as a double. */
static double nn_npy_value(const nn_npy *f, const unsigned char *b) {
  unsigned char t[8];
  for (int i = 0; i < f->size; i++)
    t[i] = b[f->swap ? f->size - 1 - i : i];
  if (f->kind == 'u')
    return t[0];
  if (f->kind == 'f' && f->size == 4) {
    float v;
    memcpy(&v, t, 4);
    return v;
  }
  if (f->kind == 'f') {
    double v;
    memcpy(&v, t, 8);
    return v;
  }
  if (f->size == 4) {
    int32_t v;
    memcpy(&v, t, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, t, 8);
  return (double)v;
}

/* Where the values go: sink(ctx, f, k, v) for value k (0-based, C order). */
typedef int (*nn_npy_sink)(void *ctx, nn_npy *f, size_t k, double v);

/* The data section: exactly count*item values, nothing after them. */
static int nn_npy_body(nn_npy *f, nn_npy_sink sink, void *ctx) {
  size_t total = f->count * f->item, bytes = total * (size_t)f->size;
  unsigned char *buf = malloc(NN_NPY_CHUNK);
  if (!buf) {
    snprintf(f->err, f->errlen, "%s: error: out of memory", f->path);
    return -1;
  }
  int rc = 0;
  for (size_t at = 0; at < bytes && rc == 0;) {
    size_t want = bytes - at < NN_NPY_CHUNK ? bytes - at : NN_NPY_CHUNK;
    long long r = nn_npy_read(f, buf, want);
    if (r < 0) {
      rc = -1;
    } else if ((size_t)r < want) {
      char shape[256];
      nn_npy_shape_text(f, shape, sizeof shape);
      snprintf(f->err, f->errlen, "%s: offset %zu: error: truncated: shape %s of '%s' needs "
               "%zu bytes after the header (offset %zu), found %zu", f->path, f->off, shape,
               f->descr, bytes, f->data, at + (size_t)r);
      rc = -1;
    } else {
      size_t k0 = at / (size_t)f->size;
      for (size_t i = 0; i < want && rc == 0; i += (size_t)f->size)
        rc = sink(ctx, f, k0 + i / (size_t)f->size, nn_npy_value(f, buf + i));
      at += want;
    }
  }
  if (rc == 0) {
    long long r = nn_npy_read(f, buf, 1);
    if (r != 0) {
      if (r > 0)
        snprintf(f->err, f->errlen, "%s: offset %zu: error: unexpected data after the %zu "
                 "values of the shape", f->path, f->data + bytes, total);
      rc = -1;
    }
  }
  free(buf);
  return rc;
}

typedef struct nn_npy_dst {
  const nn_data_spec *spec;
  nn_dataset *d;
  size_t cap; /* values allocated in d->x */
} nn_npy_dst;

static size_t nn_npy_off(const nn_npy *f, size_t k) { return f->data + k * (size_t)f->size; }

static int nn_npy_oom(nn_npy *f) {
  snprintf(f->err, f->errlen, "%s: error: out of memory for %zu rows", f->path, f->count);
  return -1;
}

static int nn_npy_not_finite(nn_npy *f, size_t k, double v, const char *what) {
  snprintf(f->err, f->errlen, "%s: offset %zu: error: %s %zu of row %zu is %s, expected a "
           "finite number", f->path, nn_npy_off(f, k), what, k % f->item, k / f->item,
           isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
  return -1;
}

/* d->x grows with the data actually read (doubling), so a header that
 * claims billions of rows costs no more memory than the file holds. */
static int nn_npy_sink_x(void *ctx, nn_npy *f, size_t k, double v) {
  nn_npy_dst *t = ctx;
  if (k >= t->cap) {
    size_t total = f->count * f->item, cap = t->cap ? t->cap * 2 : NN_NPY_CHUNK;
    cap = cap > total ? total : cap;
    float *x = realloc(t->d->x, cap * sizeof *x);
    if (!x)
      return nn_npy_oom(f);
    t->d->x = x;
    t->cap = cap;
  }
  if (!isfinite(v))
    return nn_npy_not_finite(f, k, v, "value");
  int V = t->spec->tokens;
  if (V > 0 && (v != floor(v) || v < 0 || v >= V)) {
    snprintf(f->err, f->errlen, "%s: offset %zu: error: token id %.9g (value %zu of row %zu) "
             "is not an integer in 0..%d", f->path, nn_npy_off(f, k), v, k % f->item,
             k / f->item, V - 1);
    return -1;
  }
  t->d->x[k] = (float)(V > 0 ? v : v * t->spec->scale);
  return 0;
}

/* A class index in [0, nclasses); the message gives the NumPy index of
 * the first bad one: [row] for shape (N,), [row, step] for (N, T). */
static int nn_npy_sink_cls(void *ctx, nn_npy *f, size_t k, double v) {
  nn_npy_dst *t = ctx;
  int K = t->spec->nclasses;
  if (v == floor(v) && v >= 0 && v < K) { /* NaN fails v == floor(v) */
    t->d->cls[k] = (int32_t)v;
    return 0;
  }
  char val[40], at[64];
  if (isfinite(v))
    snprintf(val, sizeof val, "%.9g", v);
  else
    snprintf(val, sizeof val, "%s", isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
  if (f->item == 1)
    snprintf(at, sizeof at, "%zu", k);
  else
    snprintf(at, sizeof at, "%zu, %zu", k / f->item, k % f->item);
  snprintf(f->err, f->errlen, "%s: offset %zu: error: label %s at index [%s] %s 0..%d",
           f->path, nn_npy_off(f, k), val, at,
           v == floor(v) ? "out of range" : "is not a class index in", K - 1);
  return -1;
}

static int nn_npy_sink_y(void *ctx, nn_npy *f, size_t k, double v) {
  nn_npy_dst *t = ctx;
  if (!isfinite(v))
    return nn_npy_not_finite(f, k, v, "target value");
  t->d->y[k] = (float)v;
  return 0;
}

static int nn_npy_features(nn_npy *f, const nn_data_spec *spec, nn_dataset *d) {
  if (nn_npy_header(f))
    return -1;
  if (f->item != (size_t)spec->dim) {
    char shape[256];
    nn_npy_shape_text(f, shape, sizeof shape);
    snprintf(f->err, f->errlen, "%s: error: features of shape %s are %zu value%s a row, the "
             "model's input needs %d", f->path, shape, f->item, f->item == 1 ? "" : "s",
             spec->dim);
    return -1;
  }
  d->n = (int)f->count;
  d->dim = spec->dim;
  nn_npy_dst t = {spec, d, 0};
  return nn_npy_body(f, nn_npy_sink_x, &t);
}

/* Targets for the d->n rows of `features`. */
static int nn_npy_targets(nn_npy *f, const char *features, const nn_data_spec *spec,
                          nn_dataset *d) {
  if (nn_npy_header(f))
    return -1;
  int cls = spec->target == NN_TARGET_CLASS;
  size_t want = cls ? (size_t)(spec->ncls > 1 ? spec->ncls : 1) : (size_t)spec->ydim;
  char shape[256];
  nn_npy_shape_text(f, shape, sizeof shape);
  if (f->item != want) {
    if (cls && want == 1)
      snprintf(f->err, f->errlen, "%s: error: class labels of shape %s, expected (%zu,): one "
               "class index a row%s", f->path, shape, f->count,
               f->ndim == 2 && f->shape[1] == (size_t)spec->nclasses ?
               " (one-hot rows? save y.argmax(1))" : "");
    else
      snprintf(f->err, f->errlen, "%s: error: %s of shape %s are %zu value%s a row, the "
               "model's %s needs %zu", f->path, cls ? "class labels" : "targets", shape, f->item,
               f->item == 1 ? "" : "s", cls ? "label" : "target", want);
    return -1;
  }
  if (f->count != (size_t)d->n) {
    snprintf(f->err, f->errlen, "%s: error: shape %s has %zu rows, but %s has %d", f->path,
             shape, f->count, features, d->n);
    return -1;
  }
  nn_npy_dst t = {spec, d, 0};
  size_t n = f->count * want;
  if (cls) {
    d->ncls = spec->ncls > 1 ? spec->ncls : 0;
    if (!(d->cls = malloc(n * sizeof *d->cls)))
      return nn_npy_oom(f);
    return nn_npy_body(f, nn_npy_sink_cls, &t);
  }
  d->ydim = spec->ydim;
  if (!(d->y = malloc(n * sizeof *d->y)))
    return nn_npy_oom(f);
  return nn_npy_body(f, nn_npy_sink_y, &t);
}

int nn_npy_sniff(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  unsigned char b[6];
  size_t n = fread(b, 1, 6, f);
  fclose(f);
  return n == 6 && memcmp(b, "\x93NUMPY", 6) == 0;
}

int nn_data_npy(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  nn_dataset d = {0};
  nn_npy x = {.path = src->path, .err = err, .errlen = errlen};
  int rc = nn_npy_features(&x, spec, &d);
  nn_npy_close(&x);
  int labelled = spec->target == NN_TARGET_CLASS || spec->target == NN_TARGET_REAL;
  if (rc == 0 && labelled && src->path2) {
    nn_npy y = {.path = src->path2, .err = err, .errlen = errlen};
    rc = nn_npy_targets(&y, src->path, spec, &d);
    nn_npy_close(&y);
  } else if (rc == 0 && labelled && !spec->target_optional) {
    snprintf(err, errlen, "%s: error: no targets file; the model needs %s targets (give "
             "FEATURES.npy,TARGETS.npy)", src->path,
             spec->target == NN_TARGET_CLASS ? "class" : "real");
    rc = -1;
  }
  if (rc == 0 && !(d.name = nn_source_name(src))) {
    snprintf(err, errlen, "%s: error: out of memory", src->path);
    rc = -1;
  }
  if (rc) {
    nn_data_free(&d);
    return -1;
  }
  d.has_target = d.cls || d.y || spec->target == NN_TARGET_INPUT;
  *out = d;
  return 0;
}
