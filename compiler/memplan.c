/* memplan.c — a static memory plan: every value gets an offset in its
 * arena, so the trainer allocates four buffers once and never again.
 *
 *   params  learnable parameters, in checkpoint order
 *   grads   their gradients, at the same offsets as the parameters
 *   state   optimizer state (momentum), one buffer per parameter
 *   acts    batched activations and their gradients, B rows each
 *
 * Offsets are rounded up to 16 elements (64 bytes for float), so every
 * buffer starts on a cache line.  A view (alias) shares its base's offset;
 * values no op touches (fused away) get no storage.
 *
 * Activations share storage by lifetime.  Time is counted in groups —
 * maximal runs of ops of one pass and one layer, which become one C
 * function (emit_c.c) — because a function's pointer arguments are
 * `restrict`: two values one function touches must never overlap, even if
 * one is dead before the other is born.  A value lives from the group that
 * writes it to the last group that reads it (or one of its views); the
 * input and its row-major copy live from the start of a step, the output until its end
 * (output() reads it after forward()), and every layer's output at least
 * until the end of the loss (layer_output() reads any of them after a
 * forward pass: `--predict --layer NAME`).  Values are placed first-fit, in
 * order of birth, at the lowest offset that overlaps no value whose
 * lifetime meets its own.
 */
#include "nncc.h"

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Values no op touches (a pre-activation fused away) get no storage. */
static void mark_dead(IR *ir) {
  char *used = xcalloc((size_t)ir->nvals, 1);
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (op->out >= 0)
      used[op->out] = 1;
    for (int k = 0; k < op->nin; k++)
      used[op->in[k]] = 1;
    for (int k = 0; k < op->naux; k++)
      used[op->aux[k]] = 1;
  }
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->alias >= 0 && used[i])
      used[v->alias] = 1;
  }
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    /* the input is kept even unread (forward() fills it), but for a token
     * model, whose gathers read the ids instead of the one-hot */
    bool keep = i == ir->input && ir->ids < 0;
    v->dead = !used[i] && !keep && i != ir->output && v->arena != A_PARAM &&
              v->arena != A_NONE && v->arena != A_EXTERN;
  }
  free(used);
}

typedef struct Life {
  int born, dies; /* group indices, inclusive */
  size_t size;
} Life;

static int base_of(IR *ir, int v) { return ir->vals[v]->alias >= 0 ? ir->vals[v]->alias : v; }

/* Lifetimes of the activation values, in groups. */
static Life *lifetimes(IR *ir, int *ngroups) {
  Life *life = xcalloc((size_t)ir->nvals, sizeof *life);
  for (int i = 0; i < ir->nvals; i++)
    life[i] = (Life){-1, -1, 0};
  int g = -1, fwd_end = -1;
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (i == 0 || op->pass != ir->ops[i - 1].pass || op->layer != ir->ops[i - 1].layer)
      g++;
    if (op->pass <= PASS_LOSS)
      fwd_end = g;
    for (int k = -1 - op->naux; k < op->nin; k++) {
      int v = k == -1 ? op->out : k < -1 ? op->aux[-2 - k] : op->in[k];
      if (v < 0)
        continue;
      v = base_of(ir, v);
      if (life[v].born < 0)
        life[v].born = g;
      life[v].dies = g;
    }
  }
  *ngroups = g + 1;
  life[ir->input].born = -1;
  if (ir->ids >= 0)
    life[ir->ids].born = -1;
  for (int i = 0; i < ir->nvals; i++)
    if (ir->vals[i]->from_batch)
      life[i].born = -1;
  life[base_of(ir, ir->output)].dies = *ngroups;
  for (int i = 0; i < ir->nvals; i++)
    if (ir_is_layer_out(ir, i)) {
      int b = base_of(ir, i);
      if (life[b].dies < fwd_end)
        life[b].dies = fwd_end;
    }
  /* carried state lives from one step into the next: always */
  for (int i = 0; i < ir->nvals; i++)
    if (ir->vals[i]->persist)
      life[i] = (Life){-1, *ngroups, 0};
  return life;
}

static bool meet(const Life *a, const Life *b) { return !(a->dies < b->born || b->dies < a->born); }

/* First fit: the lowest offset clear of every placed value alive at the
 * same time.  O(n^2) in the values, which number in the tens. */
static void place_acts(IR *ir) {
  int ng;
  Life *life = lifetimes(ir, &ng);
  int *placed = xcalloc((size_t)ir->nvals, sizeof *placed), np = 0;
  size_t top = 0;
  for (int born = -1; born <= ng; born++)
    for (int i = 0; i < ir->nvals; i++) {
      Value *v = ir->vals[i];
      if (v->arena != A_ACT || v->alias >= 0 || v->dead || life[i].born != born)
        continue;
      life[i].size = round16((size_t)shape_numel(&v->shape) * (size_t)ir->m->batch);
      size_t off = 0;
      for (bool moved = true; moved;) {
        moved = false;
        for (int k = 0; k < np; k++) {
          Value *o = ir->vals[placed[k]];
          if (meet(&life[i], &life[o->id]) && off < o->offset + life[o->id].size &&
              o->offset < off + life[i].size) {
            off = o->offset + life[o->id].size;
            moved = true;
          }
        }
      }
      v->offset = off;
      placed[np++] = i;
      if (off + life[i].size > top)
        top = off + life[i].size;
    }
  ir->arena_size[A_ACT] = top;
  free(placed);
  free(life);
}

void memplan(IR *ir) {
  size_t top[A_EXTERN + 1] = {0};
  mark_dead(ir);
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->alias >= 0 || v->dead || (v->arena != A_PARAM && v->arena != A_STATE))
      continue;
    v->offset = top[v->arena];
    top[v->arena] += round16((size_t)shape_numel(&v->shape));
  }
  place_acts(ir);
  for (int i = 0; i < ir->nvals; i++) {
    Value *v = ir->vals[i];
    if (v->alias >= 0) {
      v->offset = ir->vals[v->alias]->offset;
      v->arena = ir->vals[v->alias]->arena;
    } else if (v->arena == A_GRAD) {
      v->offset = ir->vals[ir->params[v->param]]->offset;
    }
  }
  ir->arena_size[A_PARAM] = top[A_PARAM];
  ir->arena_size[A_GRAD] = top[A_PARAM];
  ir->arena_size[A_STATE] = top[A_STATE];
}
