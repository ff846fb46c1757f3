/* nncc_test.h — helpers shared by the compiler's cmocka units
 * (test_sema.c, test_shape.c, test_ir.c, test_autodiff.c, test_emit.c):
 * run the passes of nncc on an in-memory source, with the diagnostics
 * captured in a memstream, and free everything afterwards.
 *
 * Include after <cmocka.h>.  Every function is static: each test is its
 * own program. */
#ifndef NNCC_TEST_H
#define NNCC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncc.h"

/* How far compile() runs the pipeline. */
typedef enum {
  UPTO_PARSE,
  UPTO_SEMA,
  UPTO_SHAPE,
  UPTO_LOWER,
  UPTO_AUTODIFF,
  UPTO_FUSE,
  UPTO_MEMPLAN, /* everything nncc runs before emit_c */
} Upto;

typedef struct Compiled {
  char *src;
  Program *p;
  Model *m;
  IR *ir;
  int errors;  /* diag_errors() after the last pass run */
  char *diag;  /* everything the passes printed to diag_out */
  size_t dlen;
} Compiled;

/* Run the passes on `src` (the text of `file`) up to `upto` in the order
 * of compiler/main.c, stopping at the first pass with errors; check
 * ir_verify after each IR pass. */
static __attribute__((unused)) Compiled compile_upto(const char *file, const char *src, Upto upto) {
  Compiled c = {0};
  c.src = xstrdup(src);
  FILE *d = open_memstream(&c.diag, &c.dlen);
  assert_non_null(d);
  diag_out = d;
  diag_init(file, c.src);
  c.p = parse_program(file, c.src);
  if (diag_errors() || upto == UPTO_PARSE)
    goto done;
  c.m = sema_check(c.p);
  if (!c.m || upto == UPTO_SEMA)
    goto done;
  c.m->src = c.src;
  if (shape_infer(c.m) || upto == UPTO_SHAPE)
    goto done;
  c.ir = lower_model(c.m);
  ir_verify(c.ir, "lower");
  if (upto == UPTO_LOWER)
    goto done;
  autodiff(c.ir);
  ir_verify(c.ir, "autodiff");
  if (upto == UPTO_AUTODIFF)
    goto done;
  fuse(c.ir);
  ir_verify(c.ir, "fuse");
  if (upto == UPTO_FUSE)
    goto done;
  memplan(c.ir);
  ir_verify(c.ir, "memplan");
done:
  c.errors = diag_errors();
  fclose(d);
  diag_out = stderr;
  return c;
}

static __attribute__((unused)) void compiled_free(Compiled *c) {
  ir_free(c->ir);
  model_free(c->m);
  ast_free(c->p);
  free(c->src);
  free(c->diag);
  memset(c, 0, sizeof *c);
}

/* Compile with no errors expected; print the diagnostics if there were. */
static __attribute__((unused)) Compiled compile_ok(const char *src, Upto upto) {
  Compiled c = compile_upto("test.nn", src, upto);
  if (c.errors)
    fprintf(stderr, "unexpected diagnostics:\n%s", c.diag);
  assert_int_equal(c.errors, 0);
  if (upto >= UPTO_SEMA)
    assert_non_null(c.m);
  return c;
}

/* The layer called `name`, or NULL. */
static __attribute__((unused)) Layer *find_layer(Model *m, const char *name) {
  for (int i = 0; i < m->nlayers; i++)
    if (!strcmp(m->layers[i]->name, name))
      return m->layers[i];
  return NULL;
}

/* The IR value called `name`, or NULL. */
static __attribute__((unused)) Value *find_value(IR *ir, const char *name) {
  for (int i = 0; i < ir->nvals; i++)
    if (!strcmp(ir->vals[i]->name, name))
      return ir->vals[i];
  return NULL;
}

/* Number of ops of kind k in the IR (in pass p, or any pass if p < 0). */
static __attribute__((unused)) int count_ops(IR *ir, OpKind k, int p) {
  int n = 0;
  for (int i = 0; i < ir->nops; i++)
    n += ir->ops[i].kind == k && (p < 0 || (int)ir->ops[i].pass == p);
  return n;
}

/* The first op of kind k whose output is called `out` (or any output when
 * out is NULL), or NULL. */
static __attribute__((unused)) Op *find_op(IR *ir, OpKind k, const char *out) {
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (op->kind != k)
      continue;
    if (!out || (op->out >= 0 && !strcmp(ir->vals[op->out]->name, out)))
      return op;
  }
  return NULL;
}

/* What ir_print writes for `stage`, as a malloc'd string. */
static __attribute__((unused)) char *capture_ir(IR *ir, const char *stage) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  ir_print(f, ir, stage);
  fclose(f);
  return buf;
}

#endif
