/* data_csv.c — the CSV loader.
 *
 * Layout of a data row: `ncols` comma-separated numbers.  The target
 * columns are the block [tfirst, tfirst + tcount); every other column is a
 * feature, in file order.  ncols is fixed by the first data row and must be
 * one the spec allows:
 *   CLASS (tcount 1), REAL (tcount ydim): dim + tcount, or dim when
 *     target_optional (then there is no target);
 *   INPUT, NONE: dim, or dim + ydim when target_optional (the target
 *     columns are then skipped).
 * label_col >= 0 is tfirst; -1 means the last tcount columns; -k (k >= 2)
 * makes the k-th column from the end the first target column, as Python's
 * index -k (the language reference: "negative counts from the end").
 * Line numbers in messages count every line of the file from 1; column
 * numbers count fields from 1.
 */
#include "nnrt.h"
#include "nnrt_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nn_csv {
  const char *path;
  const nn_data_spec *spec;
  int label_col;
  char *err;
  size_t errlen;
  int ncols;       /* columns of every data row; 0 until the first row */
  int tfirst;      /* first target column, when with_target */
  int tcount;      /* target columns present in a row (0: none) */
  int keep_target; /* the target columns are parsed into cls / y */
  int first_row;   /* the row being parsed is the first data row */
  int header_line; /* the line skipped as the header; 0: none */
} nn_csv;

static int nn_csv_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t')
      return 0;
  return 1;
}

static int nn_csv_count_fields(const char *s) {
  int n = 1;
  for (; *s; s++)
    n += *s == ',';
  return n;
}

/* Fix ncols and the target block from the first data row. */
static int nn_csv_layout(nn_csv *c, int line, int ncols) {
  const nn_data_spec *s = c->spec;
  int labelled = s->target == NN_TARGET_CLASS || s->target == NN_TARGET_REAL;
  int tcount = s->target == NN_TARGET_CLASS ? 1 : s->ydim;
  if (!labelled && !s->target_optional)
    tcount = 0;
  int full = s->dim + tcount;
  int bare_ok = !labelled || s->target_optional;
  if (tcount > 0 && ncols == full) {
    c->tcount = tcount;
  } else if (bare_ok && ncols == s->dim) {
    c->tcount = 0;
  } else {
    if (bare_ok && tcount > 0)
      snprintf(c->err, c->errlen, "%s:%d: error: expected %d or %d columns, found %d",
               c->path, line, s->dim, full, ncols);
    else
      snprintf(c->err, c->errlen, "%s:%d: error: expected %d column%s, found %d", c->path,
               line, labelled ? full : s->dim, (labelled ? full : s->dim) == 1 ? "" : "s",
               ncols);
    return -1;
  }
  c->ncols = ncols;
  c->keep_target = c->tcount > 0 && labelled;
  c->tfirst = 0;
  if (c->tcount > 0) {
    long first = c->label_col >= 0    ? c->label_col
                 : c->label_col == -1 ? (long)ncols - c->tcount
                                      : (long)ncols + c->label_col;
    if (first < 0 || first + c->tcount > ncols) {
      snprintf(c->err, c->errlen,
               "%s:%d: error: label column %d does not fit %d target column%s in %d columns",
               c->path, line, c->label_col, c->tcount, c->tcount == 1 ? "" : "s", ncols);
      return -1;
    }
    c->tfirst = (int)first;
  }
  return 0;
}

/* Strip spaces and tabs around a field, in place. */
static char *nn_csv_trim(char *f) {
  while (*f == ' ' || *f == '\t')
    f++;
  size_t n = strlen(f);
  while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
    f[--n] = '\0';
  return f;
}

/* A finite number that is the whole (trimmed) field. */
static int nn_csv_number(nn_csv *c, int line, int col, char *field, double *v) {
  char *f = nn_csv_trim(field), *end;
  if (*f == '\0') {
    snprintf(c->err, c->errlen, "%s:%d:%d: error: empty field (column %d)", c->path, line,
             col, col);
    return -1;
  }
  errno = 0;
  *v = strtod(f, &end);
  if (end == f || *end != '\0') {
    snprintf(c->err, c->errlen, "%s:%d:%d: error: '%.40s' is not a number (column %d)%s",
             c->path, line, col, f, col,
             c->first_row ? "; is this line a header?" : "");
    return -1;
  }
  if (!isfinite(*v)) {
    snprintf(c->err, c->errlen, "%s:%d:%d: error: '%.40s' is not a finite number (column %d)",
             c->path, line, col, f, col);
    return -1;
  }
  return 0;
}

static int nn_csv_class(nn_csv *c, int line, int col, char *field, int32_t *cls) {
  double v;
  int k = c->spec->nclasses;
  char *f = nn_csv_trim(field), *end;
  strtod(f, &end);
  if (*f != '\0' && (end == f || *end != '\0')) {
    snprintf(c->err, c->errlen,
             "%s:%d:%d: error: class label '%.40s' is not a number (column %d; labels are "
             "class indices 0..%d)%s",
             c->path, line, col, f, col, k - 1, c->first_row ? "; is this line a header?" : "");
    return -1;
  }
  if (nn_csv_number(c, line, col, field, &v))
    return -1;
  if (v != floor(v)) {
    snprintf(c->err, c->errlen, "%s:%d:%d: error: class label '%.40s' is not an integer (column %d)",
             c->path, line, col, nn_csv_trim(field), col);
    return -1;
  }
  if (v < 0 || v >= k) {
    snprintf(c->err, c->errlen, "%s:%d:%d: error: label %.40s out of range 0..%d (column %d)",
             c->path, line, col, nn_csv_trim(field), k - 1, col);
    return -1;
  }
  *cls = (int32_t)v;
  return 0;
}

/* Parse one data row (NUL-terminated, no newline) into row r of d. */
static int nn_csv_row(nn_csv *c, int line, char *s, size_t r, nn_dataset *d) {
  int ncols = nn_csv_count_fields(s);
  if (c->ncols == 0 && nn_csv_layout(c, line, ncols))
    return -1;
  if (ncols != c->ncols) {
    snprintf(c->err, c->errlen, "%s:%d: error: expected %d column%s, found %d", c->path, line,
             c->ncols, c->ncols == 1 ? "" : "s", ncols);
    return -1;
  }
  float *x = d->x + r * (size_t)d->dim;
  int feat = 0;
  for (int j = 0; j < ncols; j++) {
    char *comma = strchr(s, ',');
    if (comma)
      *comma = '\0';
    int is_target = j >= c->tfirst && j < c->tfirst + c->tcount;
    double v;
    if (!is_target) {
      if (nn_csv_number(c, line, j + 1, s, &v))
        return -1;
      x[feat++] = (float)(v * c->spec->scale);
    } else if (c->keep_target && c->spec->target == NN_TARGET_CLASS) {
      if (nn_csv_class(c, line, j + 1, s, &d->cls[r]))
        return -1;
    } else if (c->keep_target) {
      if (nn_csv_number(c, line, j + 1, s, &v))
        return -1;
      d->y[r * (size_t)d->ydim + (size_t)(j - c->tfirst)] = (float)v;
    }
    s = comma ? comma + 1 : s + strlen(s);
  }
  return 0;
}

/* Room for `rows` rows: x always, cls / y for the labelled targets. */
static int nn_csv_alloc(nn_csv *c, nn_dataset *d, size_t rows) {
  const nn_data_spec *s = c->spec;
  d->dim = s->dim;
  d->x = malloc((rows * (size_t)s->dim + 1) * sizeof *d->x);
  if (s->target == NN_TARGET_CLASS)
    d->cls = malloc((rows + 1) * sizeof *d->cls);
  if (s->target == NN_TARGET_REAL) {
    d->ydim = s->ydim;
    d->y = malloc((rows * (size_t)s->ydim + 1) * sizeof *d->y);
  }
  if (!d->x || (s->target == NN_TARGET_CLASS && !d->cls) ||
      (s->target == NN_TARGET_REAL && !d->y)) {
    snprintf(c->err, c->errlen, "%s: error: out of memory for %zu rows", c->path, rows);
    return -1;
  }
  return 0;
}

/* Split buf into lines and parse the data rows; returns the row count or
 * -1. */
static long nn_csv_parse(nn_csv *c, char *buf, nn_dataset *d, int header) {
  c->header_line = 0;
  size_t rows = 0;
  int line = 0;
  for (char *s = buf; *s;) {
    char *nl = strchr(s, '\n');
    char *next = nl ? nl + 1 : s + strlen(s);
    if (nl)
      *nl = '\0';
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '\r')
      s[n - 1] = '\0';
    line++;
    if (!nn_csv_blank(s)) {
      if (header) {
        header = 0;
        c->header_line = line;
      } else {
        if (rows >= INT_MAX) {
          snprintf(c->err, c->errlen, "%s:%d: error: too many rows", c->path, line);
          return -1;
        }
        c->first_row = rows == 0;
        if (nn_csv_row(c, line, s, rows, d))
          return -1;
        rows++;
      }
    }
    s = next;
  }
  return (long)rows;
}

/* The parser reads buf as a C string: a NUL byte (a binary or UTF-16
 * file) would end it early, so it is an error here. */
static int nn_csv_nul(const char *path, const char *buf, size_t len, char *err, size_t errlen) {
  const char *z = memchr(buf, '\0', len);
  if (!z)
    return 0;
  int line = 1;
  for (const char *s = buf; s < z; s++)
    line += *s == '\n';
  snprintf(err, errlen, "%s:%d: error: NUL byte at offset %td: this is not a CSV text file%s",
           path, line, z - buf,
           z == buf ? " (binary data: an IDX file starts with the bytes 00 00 08, a NumPy "
                      "file with \\x93NUMPY)" : "");
  return -1;
}

static size_t nn_csv_lines(const char *s) {
  size_t n = 1;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

int nn_data_csv(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                char *err, size_t errlen) {
  nn_csv c = {.path = src->path, .spec = spec, .label_col = src->label_col,
              .err = err, .errlen = errlen};
  memset(out, 0, sizeof *out);
  char *buf = NULL;
  size_t len = 0;
  if (nn_slurp(src->path, &buf, &len, err, errlen))
    return -1;
  nn_dataset d = {0};
  long rows = -1;
  if (len == 0)
    snprintf(err, errlen, "%s: error: empty file", src->path);
  else if (nn_csv_nul(src->path, buf, len, err, errlen) == 0 &&
           nn_csv_alloc(&c, &d, nn_csv_lines(buf)) == 0)
    rows = nn_csv_parse(&c, buf, &d, src->header);
  free(buf);
  if (rows == 0 && c.header_line > 0)
    snprintf(err, errlen, "%s: error: no data rows, only the header line %d", src->path,
             c.header_line);
  else if (rows == 0)
    snprintf(err, errlen, "%s: error: no data rows, only blank lines", src->path);
  if (rows <= 0 || !(d.name = strdup(src->path))) {
    if (rows > 0)
      snprintf(err, errlen, "%s: error: out of memory", src->path);
    nn_data_free(&d);
    return -1;
  }
  d.n = (int)rows;
  d.has_target = c.keep_target || spec->target == NN_TARGET_INPUT;
  if (!c.keep_target) {
    free(d.cls);
    free(d.y);
    d.cls = NULL;
    d.y = NULL;
    d.ydim = 0;
  }
  *out = d;
  return 0;
}
