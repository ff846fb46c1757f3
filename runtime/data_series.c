/* data_series.c — a CSV time series cut into sliding windows.
 *
 * The file is read by the CSV loader (nn_data_csv) as rows of F = dim / T
 * features and no target, so the messages about columns and numbers are
 * the CSV loader's, with its line and column numbers.  Sample i is the T
 * rows i .. i+T-1 (step-major: x[i][t*F + f] = row i+t, column f, times
 * spec->scale); with a REAL target, y[i] is the first ydim values of row
 * i+T as written (CSV targets are not scaled either), so a file of R rows
 * gives R - T samples; without a target (prediction) every window is a
 * sample, R - T + 1 of them, the last one forecasting the row after the
 * file.
 */
#include "nnrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nn_series_check_spec(const char *path, const nn_data_spec *s, char *err,
                                size_t errlen) {
  if (s->steps <= 0 || s->dim <= 0 || s->dim % s->steps != 0 || s->tokens > 0) {
    snprintf(err, errlen,
             "%s: error: series data needs a model whose input is a sequence of real "
             "features (input : real[T, F]); this model's input is %s", path,
             s->tokens > 0 ? "token ids" : "not a sequence");
    return -1;
  }
  if (s->target == NN_TARGET_CLASS) {
    snprintf(err, errlen,
             "%s: error: series data gives real targets (the row after each window); the "
             "model's target is a class", path);
    return -1;
  }
  int F = s->dim / s->steps;
  if (s->target == NN_TARGET_REAL && (s->ydim < 1 || s->ydim > F)) {
    snprintf(err, errlen,
             "%s: error: the model's target has %d values, but a row of the series has %d "
             "(the target is the first values of the next row)", path, s->ydim, F);
    return -1;
  }
  return 0;
}

int nn_data_series(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                   char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (nn_series_check_spec(src->path, spec, err, errlen))
    return -1;
  int T = spec->steps, F = spec->dim / T;
  int with_y = spec->target == NN_TARGET_REAL;
  nn_source rows_src = {.kind = NN_SRC_CSV, .path = src->path, .header = src->header,
                        .label_col = -1};
  nn_data_spec rows_spec = {.dim = F, .target = NN_TARGET_NONE, .scale = 1};
  nn_dataset raw;
  if (nn_data_csv(&rows_src, &rows_spec, &raw, err, errlen))
    return -1;
  long need = with_y ? (long)T + 1 : T;
  if (raw.n < need) {
    const char *are = raw.n == 1 ? " is" : "s are", *steps = T == 1 ? "" : "s";
    if (with_y)
      snprintf(err, errlen,
               "%s: error: %d row%s too few for a window of %d step%s and the row after it "
               "(the target): at least %ld needed", src->path, raw.n, are, T, steps, need);
    else
      snprintf(err, errlen,
               "%s: error: %d row%s too few for a window of %d step%s: at least %ld needed",
               src->path, raw.n, are, T, steps, need);
    nn_data_free(&raw);
    return -1;
  }
  size_t n = (size_t)(raw.n - need + 1), dim = (size_t)spec->dim, ydim = (size_t)spec->ydim;
  nn_dataset d = {0};
  d.name = raw.name; /* the path, already strdup'd */
  raw.name = NULL;
  d.n = (int)n;
  d.dim = spec->dim;
  d.x = malloc((n * dim + 1) * sizeof *d.x);
  if (with_y) {
    d.ydim = spec->ydim;
    d.y = malloc((n * ydim + 1) * sizeof *d.y);
  }
  if (!d.x || (with_y && !d.y)) {
    snprintf(err, errlen, "%s: error: out of memory for %zu windows", src->path, n);
    nn_data_free(&raw);
    nn_data_free(&d);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    const float *w = raw.x + i * (size_t)F;
    for (size_t k = 0; k < dim; k++)
      d.x[i * dim + k] = (float)(w[k] * spec->scale);
    for (size_t k = 0; with_y && k < ydim; k++)
      d.y[i * ydim + k] = w[dim + k];
  }
  d.has_target = with_y || spec->target == NN_TARGET_INPUT;
  nn_data_free(&raw);
  *out = d;
  return 0;
}
