/* test_autodiff.c — autodiff and memplan: which backward ops are appended
 * (none for what does not depend on a parameter), gradients of every
 * parameter at the parameter's offset, optimizer state only with momentum,
 * the activation gradients' extra input (x or y, from acts.h), and the
 * memory plan's alignment and disjointness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nncc_test.h"

#define MLP3(train)                                                                \
  "input x[5]\nlabel c : int[3]\n"                                                 \
  "layer h1 = dense(x, 8, activation = relu)\n"                                    \
  "layer h2 = dense(h1, 6, activation = tanh)\n"                                   \
  "layer out = dense(h2, 3, activation = softmax)\n"                               \
  "loss cross_entropy(out, c)\n" train

/* The first layer's input is the data: no gradient, so no matmul_nn for
 * it; every other dense layer has one. */
static void test_no_input_grad(void **state) {
  Compiled c = compile_ok(MLP3(""), UPTO_AUTODIFF);
  IR *ir = c.ir;
  assert_int_equal(count_ops(ir, OP_MATMUL_NN, PASS_BWD), 2);
  assert_int_equal(count_ops(ir, OP_MATMUL_TN, PASS_BWD), 3);
  assert_int_equal(count_ops(ir, OP_COLSUM, PASS_BWD), 3);
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].kind == OP_MATMUL_NN)
      assert_string_not_equal(ir->ops[i].layer->name, "h1");
  Value *x = ir->vals[ir->input];
  assert_false(x->needs_grad);
  assert_int_equal(x->grad, -1);
  assert_null(find_value(ir, "d_x"));
  compiled_free(&c);

  /* through a flatten too: the view of the input has no gradient either */
  c = compile_ok("input img[2, 2]\nlabel y : real[1]\nlayer f = flatten(img)\n"
                 "layer o = dense(f, 1)\nloss mse(o, y)\n",
                 UPTO_AUTODIFF);
  assert_int_equal(count_ops(c.ir, OP_MATMUL_NN, -1), 0);
  assert_null(find_value(c.ir, "d_f"));
  assert_null(find_value(c.ir, "d_img"));
  compiled_free(&c);
}

/* The fused losses seed dz directly: no softmax_grad / act_grad for the
 * output's softmax or sigmoid. */
static void test_fused_loss_grads(void **state) {
  Compiled c = compile_ok(MLP3(""), UPTO_AUTODIFF);
  IR *ir = c.ir;
  assert_int_equal(count_ops(ir, OP_SOFTMAX_GRAD, -1), 0);
  Op *g = find_op(ir, OP_CE_SOFTMAX_GRAD, "d_out_z");
  assert_non_null(g);
  assert_string_equal(ir->vals[g->in[0]]->name, "out"); /* p */
  assert_string_equal(ir->vals[g->in[1]]->name, "c");
  assert_int_equal(find_value(ir, "out_z")->grad, find_value(ir, "d_out_z")->id);
  assert_int_equal(find_value(ir, "out")->grad, -1);
  compiled_free(&c);

  c = compile_ok("input x[3]\nlabel y : real[2]\nlayer o = dense(x, 2, activation = sigmoid)\n"
                 "loss binary_cross_entropy(o, y)\n",
                 UPTO_AUTODIFF);
  assert_non_null(find_op(c.ir, OP_BCE_SIGMOID_GRAD, "d_o_z"));
  assert_int_equal(count_ops(c.ir, OP_ACT_GRAD, -1), 0);
  compiled_free(&c);

  /* logits: the gradient goes to the layer's output (which is z) */
  c = compile_ok("input x[3]\nlabel c : int[2]\nlayer o = dense(x, 2)\n"
                 "loss cross_entropy(o, c)\n",
                 UPTO_AUTODIFF);
  Op *ce = find_op(c.ir, OP_CE_SOFTMAX_GRAD, "d_o");
  assert_non_null(ce);
  assert_string_equal(c.ir->vals[ce->in[0]]->name, "o_softmax");
  compiled_free(&c);

  /* a softmax anywhere else is differentiated through */
  c = compile_ok("input x[3]\nlabel y : real[2]\nlayer h = dense(x, 4, activation = softmax)\n"
                 "layer o = dense(h, 2, activation = softmax)\nloss mse(o, y)\n",
                 UPTO_AUTODIFF);
  assert_int_equal(count_ops(c.ir, OP_SOFTMAX_GRAD, PASS_BWD), 2);
  assert_non_null(find_op(c.ir, OP_MSE_GRAD, "d_o"));
  compiled_free(&c);
}

/* act_grad's second input: y for sigmoid, tanh, relu; x for leaky_relu
 * and softplus; none for identity-like step (dy * 0). */
static void test_act_grad_inputs(void **state) {
  static const struct {
    const char *act;
    Act id;
    const char *second; /* NULL: one input */
  } cases[] = {
      {"sigmoid", ACT_SIGMOID, "h"},       {"tanh", ACT_TANH, "h"},
      {"relu", ACT_RELU, "h"},             {"leaky_relu(0.3)", ACT_LEAKY_RELU, "h_z"},
      {"softplus", ACT_SOFTPLUS, "h_z"},   {"step", ACT_STEP, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *src = xasprintf("input x[3]\nlabel y : real[2]\n"
                          "layer h = dense(x, 4, activation = %s)\n"
                          "layer o = dense(h, 2)\nloss mse(o, y)\n",
                          cases[i].act);
    Compiled c = compile_ok(src, UPTO_AUTODIFF);
    free(src);
    Op *g = find_op(c.ir, OP_ACT_GRAD, "d_h_z");
    assert_non_null(g);
    assert_int_equal(g->act, cases[i].id);
    assert_string_equal(c.ir->vals[g->in[0]]->name, "d_h");
    if (cases[i].second) {
      assert_int_equal(g->nin, 2);
      assert_string_equal(c.ir->vals[g->in[1]]->name, cases[i].second);
    } else {
      assert_int_equal(g->nin, 1);
    }
    if (cases[i].id == ACT_LEAKY_RELU)
      assert_true(g->alpha == 0.3);
    compiled_free(&c);
  }
}

/* After memplan every parameter has a gradient in the grad arena at its
 * own offset, with its shape; the grad arena is the param arena's size. */
static void test_grads_at_param_offsets(void **state) {
  Compiled c = compile_ok(MLP3(""), UPTO_MEMPLAN);
  IR *ir = c.ir;
  assert_int_equal(ir->nparams, 6);
  for (int i = 0; i < ir->nparams; i++) {
    Value *p = ir->vals[ir->params[i]];
    assert_true(p->grad >= 0);
    Value *g = ir->vals[p->grad];
    assert_int_equal(g->arena, A_GRAD);
    assert_int_equal(g->offset, p->offset);
    assert_int_equal(g->param, i);
    assert_int_equal(ir_numel(ir, g->id), ir_numel(ir, p->id));
    assert_false(g->batched);
    assert_int_equal(p->offset % 16, 0);
    char *name = xasprintf("d_%s", p->name);
    assert_string_equal(g->name, name);
    free(name);
  }
  assert_int_equal(ir->arena_size[A_GRAD], ir->arena_size[A_PARAM]);
  /* 5*8+8, 8*6+6, 6*3+3 elements, each rounded up to 16 */
  assert_int_equal(ir->arena_size[A_PARAM], 48 + 16 + 48 + 16 + 32 + 16);
  compiled_free(&c);
}

/* momentum 0: sgd(w, g), no state; momentum > 0: sgd(w, g, v), one state
 * buffer per parameter laid out like the parameters. */
static void test_momentum_state(void **state) {
  Compiled c = compile_ok(MLP3(""), UPTO_MEMPLAN);
  IR *ir = c.ir;
  assert_int_equal(count_ops(ir, OP_SGD, PASS_UPD), ir->nparams);
  for (int i = 0; i < ir->nvals; i++)
    assert_int_not_equal(ir->vals[i]->arena, A_STATE);
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].kind == OP_SGD) {
      assert_int_equal(ir->ops[i].nin, 2);
      assert_true(ir->ops[i].alpha == 0);
      assert_int_equal(ir->ops[i].out, -1);
    }
  assert_int_equal(ir->arena_size[A_STATE], 0);
  compiled_free(&c);

  c = compile_ok(MLP3("train { optimizer = sgd(lr = 0.1, momentum = 0.9) }\n"), UPTO_MEMPLAN);
  ir = c.ir;
  int nstate = 0;
  for (int i = 0; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (op->kind != OP_SGD)
      continue;
    assert_int_equal(op->nin, 3);
    assert_true(op->alpha == 0.9);
    Value *w = ir->vals[op->in[0]], *g = ir->vals[op->in[1]], *v = ir->vals[op->in[2]];
    assert_int_equal(w->arena, A_PARAM);
    assert_int_equal(g->id, w->grad);
    assert_int_equal(v->arena, A_STATE);
    assert_int_equal(v->param, w->param);
    assert_int_equal(ir_numel(ir, v->id), ir_numel(ir, w->id));
    char *name = xasprintf("v_%s", w->name);
    assert_string_equal(v->name, name);
    free(name);
    nstate++;
  }
  assert_int_equal(nstate, ir->nparams);
  assert_int_equal(ir->arena_size[A_STATE], ir->arena_size[A_PARAM]);
  compiled_free(&c);
}

/* bias = false: no colsum, and a parameter list without biases. */
static void test_no_bias(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[2]\n"
                          "layer h = dense(x, 4, activation = tanh, bias = false)\n"
                          "layer o = dense(h, 2, bias = false)\nloss mse(o, y)\n",
                          UPTO_MEMPLAN);
  assert_int_equal(count_ops(c.ir, OP_COLSUM, -1), 0);
  assert_int_equal(c.ir->nparams, 2);
  assert_int_equal(count_ops(c.ir, OP_SGD, -1), 2);
  compiled_free(&c);
}

/* The activation arena may reuse storage, but (1) two values alive at
 * the same time never overlap, a value being alive from the first op that
 * touches it (or one of its views) to the last one, the input from the
 * start and the model's output to the end; (2) two values one group (one
 * generated function, whose pointer arguments are restrict) touches never
 * overlap; (3) views share their base's offset, offsets are 16-aligned and
 * everything fits in the arena.  Lifetimes are computed here from the op
 * list, independently of memplan.c. */
static void check_act_plan(const char *src, int B) {
  Compiled c = compile_ok(src, UPTO_MEMPLAN);
  IR *ir = c.ir;
  int n = ir->nvals;
  int *born = xcalloc((size_t)n, sizeof *born), *dies = xcalloc((size_t)n, sizeof *dies);
  int *group = xcalloc((size_t)ir->nops, sizeof *group);
  for (int i = 0; i < n; i++)
    born[i] = INT32_MAX, dies[i] = -1;
  for (int i = 0, g = -1; i < ir->nops; i++) {
    Op *op = &ir->ops[i];
    if (i == 0 || op->pass != ir->ops[i - 1].pass || op->layer != ir->ops[i - 1].layer)
      g++;
    group[i] = g;
    for (int k = -1; k < op->nin; k++) {
      int v = k < 0 ? op->out : op->in[k];
      if (v < 0)
        continue;
      if (ir->vals[v]->alias >= 0)
        v = ir->vals[v]->alias;
      born[v] = born[v] < i ? born[v] : i;
      dies[v] = dies[v] > i ? dies[v] : i;
    }
  }
  int base_out = ir->vals[ir->output]->alias >= 0 ? ir->vals[ir->output]->alias : ir->output;
  born[ir->input] = -1;
  dies[base_out] = ir->nops;
  for (int i = 0; i < n; i++) {
    Value *v = ir->vals[i];
    if (v->arena != A_ACT || v->dead)
      continue;
    assert_true(v->batched);
    size_t sz = (size_t)ir_numel(ir, v->id) * (size_t)B;
    assert_true(v->offset + sz <= ir->arena_size[A_ACT]);
    if (v->alias >= 0) {
      assert_int_equal(v->offset, ir->vals[v->alias]->offset);
      continue;
    }
    assert_int_equal(v->offset % 16, 0);
    for (int j = 0; j < i; j++) {
      Value *u = ir->vals[j];
      if (u->arena != A_ACT || u->alias >= 0 || u->dead)
        continue;
      size_t su = (size_t)ir_numel(ir, u->id) * (size_t)B;
      if (!(v->offset < u->offset + su && u->offset < v->offset + sz))
        continue; /* disjoint storage */
      if (!(dies[i] < born[j] || dies[j] < born[i]))
        fail_msg("%s [%zu, %zu) alive at ops %d..%d overlaps %s [%zu, %zu) alive at %d..%d",
                 v->name, v->offset, v->offset + sz, born[i], dies[i], u->name, u->offset,
                 u->offset + su, born[j], dies[j]);
      for (int o = 0; o < ir->nops; o++)
        for (int p = 0; p < ir->nops; p++) {
          if (group[o] != group[p])
            continue;
          bool ti = false, tj = false;
          for (int k = -1; k < ir->ops[o].nin; k++) {
            int w = k < 0 ? ir->ops[o].out : ir->ops[o].in[k];
            if (w >= 0 && (w == i || ir->vals[w]->alias == i))
              ti = true;
          }
          for (int k = -1; k < ir->ops[p].nin; k++) {
            int w = k < 0 ? ir->ops[p].out : ir->ops[p].in[k];
            if (w >= 0 && (w == j || ir->vals[w]->alias == j))
              tj = true;
          }
          if (ti && tj)
            fail_msg("%s and %s overlap and are both used by group %d (restrict)", v->name,
                     u->name, group[o]);
        }
    }
  }
  /* dead values: touched by no op */
  for (int i = 0; i < n; i++)
    if (ir->vals[i]->dead)
      assert_int_equal(dies[i], -1);
  free(born);
  free(dies);
  free(group);
  compiled_free(&c);
}

static void test_act_plan(void **state) {
  check_act_plan("input img[3, 3]\nlabel c : int[4]\nlayer f = flatten(img)\n"
                 "layer h = dense(f, 7, activation = sigmoid)\n"
                 "layer o = dense(h, 4)\nloss cross_entropy(o, c)\n"
                 "train { batch = 5 }\n",
                 5);
  check_act_plan(MLP3("train { batch = 3 }\n"), 3);
  check_act_plan("input x[6]\nlabel y : real[2]\n"
                 "layer a = dense(x, 8, activation = leaky_relu(0.3))\n"
                 "layer b = dense(a, 7, activation = softplus)\n"
                 "layer d = dense(b, 6, activation = softmax)\n"
                 "layer e = dense(d, 5, activation = step)\n"
                 "layer o = dense(e, 2, activation = sigmoid)\n"
                 "loss binary_cross_entropy(o, y)\n",
                 32);
  check_act_plan("input img[4, 4, 1]\nlayer flat = flatten(img)\n"
                 "layer enc = dense(flat, 5, activation = tanh)\n"
                 "layer dec = dense(enc, 16)\nloss mse(dec, img)\ntrain { batch = 2 }\n",
                 2);
}

/* Every backward op is in PASS_BWD after all forward and loss ops, and
 * every update after them; layers' backward ops come in reverse order. */
static void test_pass_order(void **state) {
  Compiled c = compile_ok(MLP3(""), UPTO_AUTODIFF);
  IR *ir = c.ir;
  int last = PASS_FWD;
  for (int i = 0; i < ir->nops; i++) {
    assert_true((int)ir->ops[i].pass >= last);
    last = ir->ops[i].pass;
  }
  int first_h1 = -1, first_out = -1;
  for (int i = 0; i < ir->nops; i++)
    if (ir->ops[i].pass == PASS_BWD && ir->ops[i].layer) {
      if (!strcmp(ir->ops[i].layer->name, "h1") && first_h1 < 0)
        first_h1 = i;
      if (!strcmp(ir->ops[i].layer->name, "out") && first_out < 0)
        first_out = i;
    }
  assert_true(first_out >= 0 && first_h1 > first_out);
  compiled_free(&c);
}

/* Gradient accumulation (op->accumulate: a value with two consumers on the
 * path to the loss) cannot arise yet: layers have one input and the loss
 * one output, so that path is a chain.  A layer off the path gets no
 * gradient and no update. */
static void test_accumulate_unreachable(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[2]\n"
                          "layer h = dense(x, 4, activation = tanh)\n"
                          "layer side = dense(h, 3)\n"
                          "layer o = dense(h, 2)\nloss mse(o, y)\n",
                          UPTO_MEMPLAN);
  IR *ir = c.ir;
  for (int i = 0; i < ir->nops; i++)
    assert_false(ir->ops[i].accumulate);
  assert_int_equal(find_value(ir, "side.weight")->grad, -1);
  assert_int_equal(count_ops(ir, OP_SGD, -1), 4);
  compiled_free(&c);
  skip(); /* accumulation itself: not reachable from the language yet */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_input_grad),          cmocka_unit_test(test_fused_loss_grads),
      cmocka_unit_test(test_act_grad_inputs),        cmocka_unit_test(test_grads_at_param_offsets),
      cmocka_unit_test(test_momentum_state),         cmocka_unit_test(test_no_bias),
      cmocka_unit_test(test_act_plan),               cmocka_unit_test(test_pass_order),
      cmocka_unit_test(test_accumulate_unreachable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
