/* ops.c — the op table, instantiated from ops.h.  Shape rules live in
 * ir.c, emitters in emit_c.c, gradient rules in autodiff.c. */
#include "nncc.h"

#define OP(id, name, nin, shape, emit, grad, doc)                             \
  int shape(IR *ir, Op *op, Shape *out, bool *batched);                       \
  void emit(FILE *out, IR *ir, Op *op);                                       \
  void grad(IR *ir, Op *op);
#include "ops.h"
#undef OP

const OpInfo op_info[OP_COUNT] = {
#define OP(id, name, nin, shape, emit, grad, doc) [OP_##id] = {name, nin, shape, emit, grad, doc},
#include "ops.h"
#undef OP
};

static const char *const act_names[ACT_COUNT] = {
#define ACT(id, name, fwd, bwd, uses) [ACT_##id] = name,
#include "acts.h"
#undef ACT
    [ACT_SOFTMAX] = "softmax",
};

const char *act_name(Act a) { return act_names[a]; }
