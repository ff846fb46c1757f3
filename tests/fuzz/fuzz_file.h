/* fuzz_file.h — the loaders read paths, so each input is written to a
 * file of this process (under $TMPDIR, removed at exit) before the load.
 * A loader must either load the file or return -1 with a message naming
 * the file; anything else (a crash, a sanitizer report, a leak, success
 * without data, failure without a message) is a bug. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnrt.h"

static char fuzz_path[4096];

static void fuzz_unlink(void) { unlink(fuzz_path); }

/* Write data to this process's file (the name ends in `suffix`). */
static const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix) {
  if (!fuzz_path[0]) {
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fuzz_path, sizeof fuzz_path, "%s/nncc-fuzz-%ld%s", dir, (long)getpid(), suffix);
    atexit(fuzz_unlink);
  }
  FILE *f = fopen(fuzz_path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
    abort();
  return fuzz_path;
}

/* One load: it succeeds with rows of the declared width, or fails with a
 * message that names the file. */
static __attribute__((unused)) void fuzz_load(const nn_source *src, const nn_data_spec *spec) {
  nn_dataset d;
  char err[1024] = "";
  memset(&d, 0, sizeof d);
  if (nn_data_load(src, spec, &d, err, sizeof err) == 0) {
    if (d.n < 0 || (d.n > 0 && !d.x))
      abort();
    volatile float sink = 0; /* touch every value: ASan checks the sizes */
    for (size_t i = 0; i < (size_t)d.n * (size_t)d.dim; i++)
      sink += d.x[i];
    for (size_t i = 0; d.cls && i < (size_t)d.n * (size_t)(d.ncls > 0 ? d.ncls : 1); i++)
      if (d.cls[i] < 0 || (spec->nclasses > 0 && d.cls[i] >= spec->nclasses))
        abort(); /* a class out of range must be an error, not data */
    (void)sink;
    nn_data_free(&d);
  } else {
    if (!err[0] || !strstr(err, src->path))
      abort();
    nn_data_free(&d);
  }
}

#endif
