/* test_ir.c — lower_model: layers to IR ops (dense = linear + act, softmax
 * and identity special cases, flatten = view), each loss to its fused op
 * with logits and probabilities; value names, arenas, shapes and C names;
 * and the ir_print text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nncc_test.h"

/* The names of an op's inputs, comma-separated, for compact checks. */
static char *op_inputs(IR *ir, const Op *op) {
  char *s = xstrdup("");
  for (int i = 0; i < op->nin; i++) {
    char *t = xasprintf("%s%s%s", s, i ? "," : "", ir->vals[op->in[i]]->name);
    free(s);
    s = t;
  }
  return s;
}

static void expect_inputs(IR *ir, const Op *op, const char *want) {
  assert_non_null(op);
  char *s = op_inputs(ir, op);
  assert_string_equal(s, want);
  free(s);
}

static void check_value(IR *ir, const char *name, Arena a, const char *shape) {
  Value *v = find_value(ir, name);
  if (!v)
    fail_msg("no value '%s'", name);
  assert_int_equal(v->arena, a);
  char buf[64];
  assert_string_equal(ir_shape_str(ir, v->id, buf, sizeof buf), shape);
}

/* dense(x, N, activation = f): z = linear x, W, b; y = act.f z */
static void test_dense_linear_act(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[2]\n"
                          "layer h = dense(x, 4, activation = tanh)\n"
                          "layer out = dense(h, 2, activation = leaky_relu(0.3))\n"
                          "loss mse(out, y)\n",
                          UPTO_LOWER);
  IR *ir = c.ir;
  assert_int_equal(ir->nops, 5);
  Op *o = &ir->ops[0];
  assert_int_equal(o->kind, OP_LINEAR);
  assert_int_equal(o->pass, PASS_FWD);
  assert_string_equal(o->layer->name, "h");
  assert_string_equal(ir->vals[o->out]->name, "h_z");
  expect_inputs(ir, o, "x,h.weight,h.bias");
  o = &ir->ops[1];
  assert_int_equal(o->kind, OP_ACT);
  assert_int_equal(o->act, ACT_TANH);
  assert_string_equal(ir->vals[o->out]->name, "h");
  expect_inputs(ir, o, "h_z");
  o = &ir->ops[3];
  assert_int_equal(o->kind, OP_ACT);
  assert_int_equal(o->act, ACT_LEAKY_RELU);
  assert_true(o->alpha == 0.3);
  o = &ir->ops[4];
  assert_int_equal(o->kind, OP_MSE);
  assert_int_equal(o->pass, PASS_LOSS);
  expect_inputs(ir, o, "out,y");
  check_value(ir, "x", A_ACT, "(B,3)");
  check_value(ir, "h.weight", A_PARAM, "(4,3)"); /* PyTorch layout [out, in] */
  check_value(ir, "h.bias", A_PARAM, "(4)");
  check_value(ir, "h_z", A_ACT, "(B,4)");
  check_value(ir, "y", A_EXTERN, "(B,2)");
  check_value(ir, "loss", A_NONE, "()");
  assert_int_equal(ir_numel(ir, find_value(ir, "h.weight")->id), 12);
  /* the descriptor's ids */
  assert_string_equal(ir->vals[ir->input]->name, "x");
  assert_string_equal(ir->vals[ir->output]->name, "out");
  assert_string_equal(ir->vals[ir->target]->name, "y");
  assert_string_equal(ir->vals[ir->loss]->name, "loss");
  /* parameters in checkpoint order; weights decay, biases do not */
  assert_int_equal(ir->nparams, 4);
  static const char *const pn[] = {"h.weight", "h.bias", "out.weight", "out.bias"};
  for (int i = 0; i < 4; i++) {
    Value *p = ir->vals[ir->params[i]];
    assert_string_equal(p->name, pn[i]);
    assert_int_equal(p->param, i);
    assert_int_equal(p->decay, i % 2 == 0);
  }
  assert_int_equal(find_value(ir, "y")->dtype, DT_FLOAT);
  compiled_free(&c);
}

/* identity: the linear's output is the layer (no act op, no _z);
 * bias = false: linear has 2 inputs. */
static void test_identity_no_bias(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[2]\n"
                          "layer out = dense(x, 2, bias = false)\nloss mse(out, y)\n",
                          UPTO_LOWER);
  IR *ir = c.ir;
  assert_int_equal(ir->nops, 2);
  assert_int_equal(ir->ops[0].kind, OP_LINEAR);
  assert_string_equal(ir->vals[ir->ops[0].out]->name, "out");
  expect_inputs(ir, &ir->ops[0], "x,out.weight");
  assert_null(find_value(ir, "out_z"));
  assert_null(find_value(ir, "out.bias"));
  assert_int_equal(count_ops(ir, OP_ACT, -1), 0);
  compiled_free(&c);
}

/* softmax + cross_entropy: ce_softmax(z, p, class), p the layer's own
 * softmax; no softmax in the loss pass. */
static void test_softmax_ce(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel c : int[4]\n"
                          "layer h = dense(x, 5, activation = softmax)\n"
                          "layer out = dense(h, 4, activation = softmax)\n"
                          "loss cross_entropy(out, c)\n",
                          UPTO_LOWER);
  IR *ir = c.ir;
  Op *sm = find_op(ir, OP_SOFTMAX, "h"); /* hidden softmax: its own op */
  assert_non_null(sm);
  expect_inputs(ir, sm, "h_z");
  Op *o = find_op(ir, OP_CE_SOFTMAX, NULL);
  expect_inputs(ir, o, "out_z,out,c");
  assert_int_equal(o->pass, PASS_LOSS);
  assert_int_equal(count_ops(ir, OP_SOFTMAX, PASS_LOSS), 0);
  assert_int_equal(count_ops(ir, OP_SOFTMAX, PASS_FWD), 2);
  Value *cls = find_value(ir, "c");
  assert_int_equal(cls->dtype, DT_INT32);
  assert_int_equal(cls->arena, A_EXTERN);
  assert_true(cls->batched);
  compiled_free(&c);
}

/* identity + cross_entropy: logits; the loss pass computes p. */
static void test_logits_ce(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel c : int[4]\n"
                          "layer out = dense(x, 4)\nloss cross_entropy(out, c)\n",
                          UPTO_LOWER);
  IR *ir = c.ir;
  Op *sm = find_op(ir, OP_SOFTMAX, NULL);
  assert_non_null(sm);
  assert_int_equal(sm->pass, PASS_LOSS);
  assert_null(sm->layer);
  expect_inputs(ir, sm, "out");
  assert_string_equal(ir->vals[sm->out]->name, "out_softmax");
  expect_inputs(ir, find_op(ir, OP_CE_SOFTMAX, NULL), "out,out_softmax,c");
  assert_string_equal(ir->vals[ir->output]->name, "out"); /* --predict writes logits */
  compiled_free(&c);
}

/* sigmoid + bce: bce_sigmoid(z, p, t); identity + bce: sigmoid in the loss. */
static void test_bce(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[2]\n"
                          "layer out = dense(x, 2, activation = sigmoid)\n"
                          "loss binary_cross_entropy(out, y)\n",
                          UPTO_LOWER);
  expect_inputs(c.ir, find_op(c.ir, OP_BCE_SIGMOID, NULL), "out_z,out,y");
  assert_int_equal(count_ops(c.ir, OP_ACT, PASS_LOSS), 0);
  compiled_free(&c);

  c = compile_ok("input x[3]\nlabel y : real[2]\n"
                 "layer out = dense(x, 2)\nloss binary_cross_entropy(out, y)\n",
                 UPTO_LOWER);
  Op *a = find_op(c.ir, OP_ACT, NULL);
  assert_non_null(a);
  assert_int_equal(a->pass, PASS_LOSS);
  assert_int_equal(a->act, ACT_SIGMOID);
  expect_inputs(c.ir, find_op(c.ir, OP_BCE_SIGMOID, NULL), "out,out_sigmoid,y");
  compiled_free(&c);
}

/* flatten is a view of its input (same storage); an autoencoder's target
 * is the input value itself. */
static void test_flatten_autoencoder(void **state) {
  Compiled c = compile_ok("input image[4, 4, 1]\nlayer flat = flatten(image)\n"
                          "layer enc = dense(flat, 3, activation = relu)\n"
                          "layer dec = dense(enc, 16)\nloss mse(dec, image)\n",
                          UPTO_LOWER);
  IR *ir = c.ir;
  Op *v = find_op(ir, OP_VIEW, "flat");
  assert_non_null(v);
  expect_inputs(ir, v, "image");
  Value *flat = find_value(ir, "flat");
  assert_int_equal(flat->alias, ir->input);
  check_value(ir, "image", A_ACT, "(B,4,4,1)");
  check_value(ir, "flat", A_ACT, "(B,16)");
  assert_int_equal(ir->target, ir->input);
  expect_inputs(ir, find_op(ir, OP_MSE, NULL), "dec,image");
  compiled_free(&c);
}

/* Names that are C keywords or the generated code's own get another C
 * name; dots become underscores; every C name is unique. */
static void test_cnames(void **state) {
  Compiled c = compile_ok("input int[3]\nlabel y : real[2]\n"
                          "layer main = dense(int, 4, activation = tanh)\n"
                          "layer main_weight = dense(main, 3)\n"
                          "layer acc = dense(main_weight, 2)\n"
                          "layer out = dense(acc, 2)\nloss mse(out, y)\n",
                          UPTO_MEMPLAN);
  IR *ir = c.ir;
  assert_string_equal(find_value(ir, "out.weight")->cname, "out_weight");
  assert_string_not_equal(find_value(ir, "int")->cname, "int");
  assert_string_not_equal(find_value(ir, "main")->cname, "main");
  assert_string_not_equal(find_value(ir, "acc")->cname, "acc");
  for (int i = 0; i < ir->nvals; i++) {
    const char *s = ir->vals[i]->cname;
    assert_true(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
    assert_null(strchr(s, '.'));
    for (int j = 0; j < i; j++)
      if (!strcmp(s, ir->vals[j]->cname))
        fail_msg("values %s and %s share the C name %s", ir->vals[i]->name, ir->vals[j]->name, s);
  }
  compiled_free(&c);
}

/* The text form after lowering: one value a line (id, name, arena, shape,
 * dtype, view, init), one op a line (pass, layer, out = op inputs). */
static void test_ir_print_format(void **state) {
  Compiled c = compile_upto("models/ir1.nn",
                            "input x[3]\nlabel c : int[2]\n"
                            "layer h = dense(x, 4, activation = relu)\n"
                            "layer out = dense(h, 2, activation = softmax)\n"
                            "loss cross_entropy(out, c)\n",
                            UPTO_LOWER);
  assert_int_equal(c.errors, 0);
  char *text = capture_ir(c.ir, "lower");
  assert_string_equal(text,
                      "# ir of model 'ir1' after lower: 11 values, 5 ops\n"
                      "values:\n"
                      "  %0   x                act    (B,3)\n"
                      "  %1   h.weight         param  (4,3)        init he normal(0, 0.816497)\n"
                      "  %2   h.bias           param  (4)          init zeros\n"
                      "  %3   h_z              act    (B,4)\n"
                      "  %4   h                act    (B,4)\n"
                      "  %5   out.weight       param  (2,4)        init xavier uniform(-1, 1)\n"
                      "  %6   out.bias         param  (2)          init zeros\n"
                      "  %7   out_z            act    (B,2)\n"
                      "  %8   out              act    (B,2)\n"
                      "  %9   c                extern (B,1)        int32\n"
                      "  %10  loss             scalar ()\n"
                      "ops:\n"
                      "  fwd  h      h_z = linear x, h.weight, h.bias\n"
                      "  fwd  h      h = act.relu h_z\n"
                      "  fwd  out    out_z = linear h, out.weight, out.bias\n"
                      "  fwd  out    out = softmax out_z\n"
                      "  loss -      loss = ce_softmax out_z, out, c\n");
  free(text);
  /* printing twice gives the same text (no state in the printer) */
  char *a = capture_ir(c.ir, "lower"), *b = capture_ir(c.ir, "lower");
  assert_string_equal(a, b);
  free(a);
  free(b);
  compiled_free(&c);
}

/* ir_shape_str: batched values get a leading B; scalars are (). */
static void test_ir_shape_str(void **state) {
  Compiled c = compile_ok("input img[2, 3]\nlabel y : real[6]\nlayer f = flatten(img)\n"
                          "layer o = dense(f, 6)\nloss mse(o, y)\n",
                          UPTO_LOWER);
  char buf[64];
  assert_string_equal(ir_shape_str(c.ir, c.ir->input, buf, sizeof buf), "(B,2,3)");
  assert_string_equal(ir_shape_str(c.ir, find_value(c.ir, "o.weight")->id, buf, sizeof buf),
                      "(6,6)");
  assert_string_equal(ir_shape_str(c.ir, c.ir->loss, buf, sizeof buf), "()");
  assert_int_equal(ir_numel(c.ir, c.ir->input), 6);
  compiled_free(&c);
}

/* fuse: linear + act.f becomes one linear with f in its store when z has
 * no other reader: relu, sigmoid, tanh, step (derivatives in terms of y);
 * leaky_relu and softplus (derivatives in terms of x) and an output whose
 * z the fused loss reads stay apart.  The fused-away z is dead: no storage. */
static void test_fuse(void **state) {
  Compiled c = compile_ok("input x[3]\nlabel y : real[2]\n"
                          "layer a = dense(x, 4, activation = relu)\n"
                          "layer b = dense(a, 4, activation = leaky_relu(0.3))\n"
                          "layer d = dense(b, 4, activation = tanh)\n"
                          "layer e = dense(d, 4, activation = softplus)\n"
                          "layer f = dense(e, 4, activation = step)\n"
                          "layer o = dense(f, 2, activation = sigmoid)\n"
                          "loss binary_cross_entropy(o, y)\n",
                          UPTO_MEMPLAN);
  IR *ir = c.ir;
  static const struct {
    const char *layer;
    bool fused;
    Act act;
  } want[] = {{"a", true, ACT_RELU},        {"b", false, ACT_LEAKY_RELU},
              {"d", true, ACT_TANH},        {"e", false, ACT_SOFTPLUS},
              {"f", true, ACT_STEP},        {"o", false, ACT_SIGMOID}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    Op *lin = NULL;
    for (int k = 0; k < ir->nops; k++)
      if (ir->ops[k].kind == OP_LINEAR && !strcmp(ir->ops[k].layer->name, want[i].layer))
        lin = &ir->ops[k];
    assert_non_null(lin);
    char *z = xasprintf("%s_z", want[i].layer);
    Value *zv = find_value(ir, z);
    assert_non_null(zv);
    if (want[i].fused) {
      assert_true(lin->fused);
      assert_int_equal(lin->act, want[i].act);
      assert_string_equal(ir->vals[lin->out]->name, want[i].layer);
      assert_true(zv->dead);
    } else {
      assert_false(lin->fused);
      assert_string_equal(ir->vals[lin->out]->name, z);
      assert_false(zv->dead);
    }
    free(z);
  }
  assert_int_equal(count_ops(ir, OP_ACT, PASS_FWD), 3);
  /* the backward pass is untouched: one act_grad per activation but o's */
  assert_int_equal(count_ops(ir, OP_ACT_GRAD, PASS_BWD), 5);
  compiled_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dense_linear_act), cmocka_unit_test(test_identity_no_bias),
      cmocka_unit_test(test_softmax_ce),       cmocka_unit_test(test_logits_ce),
      cmocka_unit_test(test_bce),              cmocka_unit_test(test_flatten_autoencoder),
      cmocka_unit_test(test_cnames),           cmocka_unit_test(test_ir_print_format),
      cmocka_unit_test(test_ir_shape_str),     cmocka_unit_test(test_fuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
