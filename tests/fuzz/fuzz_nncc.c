/* fuzz_nncc.c — libFuzzer target for the whole front end: the input is a
 * .nn source; it runs every pass nncc runs (parse, sema, shape, lower,
 * autodiff, fuse, memplan, emit_c) in the order of compiler/main.c, the
 * diagnostics going to a memory stream.
 *
 * What counts as a bug: any sanitizer report, a leak, a die() (nncc's
 * internal error exits with status 3, which libFuzzer reports), or a
 * model that reaches emit_c with errors counted.  Errors in the model are
 * the expected outcome for most inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncc.h"

/* nncc reads files of at most a few KB; longer inputs only slow the
 * search down. */
#define FUZZ_MAX_LEN 16384

static FILE *fuzz_null;

static void fuzz_compile(const char *src) {
  char *diag = NULL;
  size_t dlen = 0;
  FILE *d = open_memstream(&diag, &dlen);
  if (!d)
    abort();
  diag_out = d;
  diag_init("fuzz.nn", src);
  Program *p = parse_program("fuzz.nn", src);
  Model *m = NULL;
  IR *ir = NULL;
  if (diag_errors())
    goto out;
  m = sema_check(p);
  if (!m)
    goto out;
  m->src = src;
  if (shape_infer(m))
    goto out;
  ir = lower_model(m);
  ir_verify(ir, "lower");
  autodiff(ir);
  ir_verify(ir, "autodiff");
  fuse(ir);
  ir_verify(ir, "fuse");
  memplan(ir);
  ir_verify(ir, "memplan");
  if (diag_errors())
    abort(); /* a model with errors must never get this far */
  emit_c(fuzz_null, ir, "nncc fuzz.nn");
out:
  ir_free(ir);
  model_free(m);
  ast_free(p);
  fclose(d);
  diag_out = stderr;
  free(diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > FUZZ_MAX_LEN || memchr(data, 0, size))
    return 0; /* nncc refuses a NUL byte before parsing (compiler/main.c) */
  if (!fuzz_null && !(fuzz_null = fopen("/dev/null", "w")))
    abort();
  char *src = malloc(size + 1);
  if (!src)
    return 0;
  memcpy(src, data, size);
  src[size] = 0;
  fuzz_compile(src);
  free(src);
  return 0;
}
