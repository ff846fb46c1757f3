/* emit.h — what emit_c.c shares with the other emitters (emit_lib.c): the
 * groups of ops that become one function each, and the drivers that bind
 * arena offsets and call them.  Internal to the compiler. */
#ifndef EMIT_H
#define EMIT_H

#include "nncc.h"

/* Consecutive ops of one pass and one layer: one C function. */
typedef struct Group {
  int first, last; /* ops [first, last) */
  Pass pass;
  Layer *layer;
  char *fname;     /* function name, NULL for groups of views only */
  int *args;       /* value ids: outputs, then inputs */
  bool *written;
  int nargs;
  bool batched;    /* takes nb */
  bool ctx;        /* takes the context c (dropout, noise: training, seed, step) */
  bool training;   /* takes training (c->training): batchnorm */
} Group;

typedef struct Emit {
  FILE *out;
  IR *ir;
  Group *groups;
  int ngroups, gcap;
} Emit;

/* Set while emitting a library (emit_lib.c): the layers' functions hold
 * only their inference branch (dropout and noise the identity, batchnorm
 * the running statistics) and take no context or training flag. */
extern bool emit_inference;

/* Split the ops into groups and name their functions; free them. */
void emit_make_groups(Emit *E);
void emit_free_groups(Emit *E);
/* One group's function (and its tile helpers before it). */
void emit_group(Emit *E, Group *g);
/* typedef real, the NN_OMP/NN_SIMD_MATH/NN_NOVEC macros, enum B. */
void emit_macros(Emit *E);
/* forward(): the batch rows into the input, then the forward groups, and
 * with_loss the loss (the trainer's signature); without, forward(c, xb,
 * nb) runs the layers only. */
void emit_forward(Emit *E, bool with_loss);
/* output(c, nb, dst): the model's output rows after forward(). */
void emit_output(Emit *E);
/* reset(c): zero the carried state of recurrent layers, if any. */
bool emit_has_state(IR *ir);
void emit_reset(Emit *E);

#endif
