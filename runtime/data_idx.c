/* data_idx.c — the IDX loader (LeCun's MNIST format), gzip'd or plain.
 *
 * File layout: magic 00 00 08 N (unsigned bytes, N dimensions), N
 * big-endian uint32 sizes, then prod(sizes) bytes.  sizes[0] counts the
 * items; one item holds prod(sizes[1..]) values.  Images become features
 * (times spec->scale); labels become class indices (CLASS) or ydim real
 * values per item (REAL).  Offsets in messages are byte offsets into the
 * uncompressed data.
 */
#include "nnrt.h"
#include "nnrt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define NN_IDX_CHUNK (1u << 16)

typedef struct nn_idx {
  const char *path;
  gzFile gz;
  char *err;
  size_t errlen;
  int ndims;
  uint32_t dims[255];
  size_t count; /* dims[0] */
  size_t item;  /* values per item: prod(dims[1..]) */
  size_t off;   /* bytes consumed so far */
} nn_idx;

/* Read up to n bytes; returns the count, or -1 after writing a message. */
static long long nn_idx_read(nn_idx *f, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t want = n - got < NN_IDX_CHUNK ? n - got : NN_IDX_CHUNK;
    int r = gzread(f->gz, (char *)buf + got, (unsigned)want);
    if (r < 0) {
      int zerr;
      const char *msg = gzerror(f->gz, &zerr);
      snprintf(f->err, f->errlen, "%s: offset %zu: error: cannot read: %s", f->path,
               f->off + got, zerr == Z_ERRNO ? strerror(errno) : msg);
      return -1;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  f->off += got;
  return (long long)got;
}

static int nn_idx_open(nn_idx *f) {
  int fd = open(f->path, O_RDONLY);
  if (fd < 0) {
    snprintf(f->err, f->errlen, "%s: error: cannot open: %s", f->path, strerror(errno));
    return -1;
  }
  f->gz = gzdopen(fd, "rb");
  if (!f->gz) {
    close(fd);
    snprintf(f->err, f->errlen, "%s: error: cannot open: out of memory", f->path);
    return -1;
  }
  gzbuffer(f->gz, 1u << 17);
  return 0;
}

static void nn_idx_close(nn_idx *f) {
  if (f->gz)
    gzclose(f->gz);
  f->gz = NULL;
}

/* Magic and sizes; sets count and item. */
static int nn_idx_header(nn_idx *f) {
  unsigned char m[4];
  long long r = nn_idx_read(f, m, 4);
  if (r < 0)
    return -1;
  if (r == 0) {
    snprintf(f->err, f->errlen, "%s: error: empty file", f->path);
    return -1;
  }
  if (r < 4) {
    snprintf(f->err, f->errlen, "%s: offset %lld: error: truncated header", f->path, r);
    return -1;
  }
  if (m[0] != 0 || m[1] != 0 || m[2] != 0x08 || m[3] == 0) {
    unsigned magic = (unsigned)m[0] << 24 | (unsigned)m[1] << 16 | (unsigned)m[2] << 8 | m[3];
    snprintf(f->err, f->errlen,
             "%s: offset 0: error: bad magic 0x%08x, expected 0x0000080N "
             "(an IDX file of unsigned bytes with N >= 1 dimensions)",
             f->path, magic);
    return -1;
  }
  f->ndims = m[3];
  f->item = 1;
  for (int i = 0; i < f->ndims; i++) {
    unsigned char b[4];
    r = nn_idx_read(f, b, 4);
    if (r < 0)
      return -1;
    if (r < 4) {
      snprintf(f->err, f->errlen, "%s: offset %zu: error: truncated header", f->path, f->off);
      return -1;
    }
    f->dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    if (i > 0) {
      if (f->dims[i] != 0 && f->item > ((size_t)1 << 40) / f->dims[i]) {
        snprintf(f->err, f->errlen, "%s: offset %zu: error: items too large", f->path,
                 f->off - 4);
        return -1;
      }
      f->item *= f->dims[i];
    }
  }
  f->count = f->dims[0];
  if (f->item == 0) {
    snprintf(f->err, f->errlen, "%s: offset 8: error: items of 0 values", f->path);
    return -1;
  }
  if (f->count == 0) {
    snprintf(f->err, f->errlen, "%s: error: no rows (the header says 0 items)", f->path);
    return -1;
  }
  return 0;
}

/* "28x28 (784 values)", "784 values" or "single values". */
static void nn_idx_shape(const nn_idx *f, char *buf, size_t len) {
  if (f->ndims == 1) {
    snprintf(buf, len, "single values");
    return;
  }
  if (f->ndims == 2) {
    snprintf(buf, len, "%zu values", f->item);
    return;
  }
  size_t k = 0;
  for (int i = 1; i < f->ndims && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%u", i > 1 ? "x" : "", f->dims[i]);
  if (k < len)
    snprintf(buf + k, len - k, " (%zu values)", f->item);
}

/* The data section: exactly count*item bytes, nothing after them.  Each
 * chunk of bytes goes to sink(ctx, first_value_index, bytes, n). */
typedef int (*nn_idx_sink)(void *ctx, nn_idx *f, size_t at, const unsigned char *b, size_t n);

static int nn_idx_body(nn_idx *f, nn_idx_sink sink, void *ctx) {
  size_t total = f->count * f->item, start = f->off;
  unsigned char *buf = malloc(NN_IDX_CHUNK);
  if (!buf) {
    snprintf(f->err, f->errlen, "%s: error: out of memory", f->path);
    return -1;
  }
  int rc = 0;
  for (size_t at = 0; at < total && rc == 0;) {
    size_t want = total - at < NN_IDX_CHUNK ? total - at : NN_IDX_CHUNK;
    long long r = nn_idx_read(f, buf, want);
    if (r < 0) {
      rc = -1;
    } else if ((size_t)r < want) {
      snprintf(f->err, f->errlen,
               "%s: offset %zu: error: truncated: %zu items of %zu bytes need %zu bytes "
               "after the header, found %zu",
               f->path, f->off, f->count, f->item, total, at + (size_t)r);
      rc = -1;
    } else {
      rc = sink(ctx, f, at, buf, want);
      at += want;
    }
  }
  if (rc == 0) {
    long long r = nn_idx_read(f, buf, 1);
    if (r != 0) {
      if (r > 0)
        snprintf(f->err, f->errlen, "%s: offset %zu: error: unexpected data after %zu items",
                 f->path, start + total, f->count);
      rc = -1;
    }
  }
  free(buf);
  return rc;
}

/* Where the data section goes. */
typedef struct nn_idx_dst {
  const nn_data_spec *spec;
  nn_dataset *d;
  size_t hdr; /* header bytes before the data section */
  size_t cap; /* values allocated in d->x */
} nn_idx_dst;

static int nn_idx_oom(nn_idx *f) {
  snprintf(f->err, f->errlen, "%s: error: out of memory for %zu items", f->path, f->count);
  return -1;
}

/* d->x grows with the data actually read (doubling), so a corrupt header
 * that claims billions of items costs no more memory than the file holds. */
static int nn_idx_sink_x(void *ctx, nn_idx *f, size_t at, const unsigned char *b, size_t n) {
  nn_idx_dst *t = ctx;
  if (at + n > t->cap) {
    size_t total = f->count * f->item, cap = t->cap * 2 > at + n ? t->cap * 2 : at + n;
    cap = cap > total ? total : cap;
    float *x = realloc(t->d->x, cap * sizeof *x);
    if (!x)
      return nn_idx_oom(f);
    t->d->x = x;
    t->cap = cap;
  }
  for (size_t i = 0; i < n; i++)
    t->d->x[at + i] = (float)((double)b[i] * t->spec->scale);
  return 0;
}

static int nn_idx_sink_cls(void *ctx, nn_idx *f, size_t at, const unsigned char *b, size_t n) {
  nn_idx_dst *t = ctx;
  int k = t->spec->nclasses;
  for (size_t i = 0; i < n; i++) {
    if ((int)b[i] >= k) {
      snprintf(f->err, f->errlen, "%s: offset %zu: error: label %d out of range 0..%d",
               f->path, t->hdr + at + i, b[i], k - 1);
      return -1;
    }
    t->d->cls[at + i] = b[i];
  }
  return 0;
}

static int nn_idx_sink_y(void *ctx, nn_idx *f, size_t at, const unsigned char *b, size_t n) {
  nn_idx_dst *t = ctx;
  (void)f;
  for (size_t i = 0; i < n; i++)
    t->d->y[at + i] = (float)b[i];
  return 0;
}

static int nn_idx_images(nn_idx *f, const nn_data_spec *spec, nn_dataset *d) {
  if (nn_idx_open(f) || nn_idx_header(f))
    return -1;
  if (f->item != (size_t)spec->dim) {
    char shape[128];
    nn_idx_shape(f, shape, sizeof shape);
    snprintf(f->err, f->errlen, "%s: error: images are %s, the model's input needs %d",
             f->path, shape, spec->dim);
    return -1;
  }
  if (f->count > 0x7fffffff) {
    snprintf(f->err, f->errlen, "%s: offset 4: error: %zu items are more than a data set holds",
             f->path, f->count);
    return -1;
  }
  d->n = (int)f->count;
  d->dim = spec->dim;
  nn_idx_dst t = {spec, d, f->off, 0};
  return nn_idx_body(f, nn_idx_sink_x, &t);
}

/* Labels for the n images of `images`: one class per item (CLASS) or ydim
 * values per item (REAL). */
static int nn_idx_labels(nn_idx *f, const char *images, const nn_data_spec *spec,
                         nn_dataset *d) {
  if (nn_idx_open(f) || nn_idx_header(f))
    return -1;
  int cls = spec->target == NN_TARGET_CLASS;
  size_t want = cls ? 1 : (size_t)spec->ydim;
  if (f->item != want) {
    char shape[128];
    nn_idx_shape(f, shape, sizeof shape);
    if (cls)
      snprintf(f->err, f->errlen, "%s: error: labels are %s, expected one class label per item",
               f->path, shape);
    else
      snprintf(f->err, f->errlen, "%s: error: labels are %s, the model's target needs %d",
               f->path, shape, spec->ydim);
    return -1;
  }
  if (f->count != (size_t)d->n) {
    snprintf(f->err, f->errlen, "%s: error: %zu labels, but %s has %d images", f->path,
             f->count, images, d->n);
    return -1;
  }
  nn_idx_dst t = {spec, d, f->off, 0};
  if (cls) {
    d->cls = malloc(f->count * sizeof *d->cls);
    if (!d->cls)
      return nn_idx_oom(f);
    return nn_idx_body(f, nn_idx_sink_cls, &t);
  }
  d->ydim = spec->ydim;
  d->y = malloc(f->count * want * sizeof *d->y + 1);
  if (!d->y)
    return nn_idx_oom(f);
  return nn_idx_body(f, nn_idx_sink_y, &t);
}

int nn_data_idx(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  nn_dataset d = {0};
  nn_idx im = {.path = src->path, .err = err, .errlen = errlen};
  int rc = nn_idx_images(&im, spec, &d);
  nn_idx_close(&im);
  int labelled = spec->target == NN_TARGET_CLASS || spec->target == NN_TARGET_REAL;
  if (rc == 0 && labelled && src->path2) {
    nn_idx lb = {.path = src->path2, .err = err, .errlen = errlen};
    rc = nn_idx_labels(&lb, src->path, spec, &d);
    nn_idx_close(&lb);
  } else if (rc == 0 && labelled && !spec->target_optional) {
    snprintf(err, errlen, "%s: error: no labels file; the model needs %s targets (give IMAGES,LABELS)",
             src->path, spec->target == NN_TARGET_CLASS ? "class" : "real");
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
