/* emit_dot.c — --emit=dot: the model's layer graph for Graphviz.
 *
 * One node per layer (its name, its kind with the settings that define its
 * output, the output shape of one sample as --summary writes it, and its
 * parameter count), one edge per input of a layer in the order the layer
 * reads them (so a skip connection, add or concat, is a node with several
 * incoming edges), and the loss as a node fed by the model's output and
 * its target (the label, or the input of an autoencoder); layers with
 * activity_l1 feed the loss too (dotted).  Nodes come in the model's
 * topological order, so the text is deterministic and diffs well.
 */
#include "nncc.h"

/* Categories of layers, for the fill colour. */
static const char *node_color(LayerKind k) {
  switch (k) {
  case LAYER_INPUT: return "#e8e8e8";
  case LAYER_DENSE:
  case LAYER_CONV: return "#cfe2f3";
  case LAYER_RNN:
  case LAYER_LSTM:
  case LAYER_GRU: return "#d9ead3";
  case LAYER_ADD:
  case LAYER_CONCAT: return "#fce5cd";
  case LAYER_BATCHNORM:
  case LAYER_DROPOUT:
  case LAYER_NOISE: return "#fff2cc";
  default: return "#ffffff";
  }
}

/* ", act" unless the activation is the identity (leaky_relu with its slope). */
static void dot_act(FILE *f, const Layer *l) {
  if (l->act == ACT_IDENTITY)
    return;
  fprintf(f, ", %s", act_name(l->act));
  if (l->act == ACT_LEAKY_RELU) {
    fprintf(f, "(");
    ast_print_num(f, l->alpha);
    fprintf(f, ")");
  }
}

/* The window of a conv2d or pool: kernel, then stride and padding when
 * they are not the defaults. */
static void dot_window(FILE *f, const Layer *l, int def_stride_h, int def_stride_w) {
  fprintf(f, " %dx%d", l->kh, l->kw);
  if (l->sh != def_stride_h || l->sw != def_stride_w)
    fprintf(f, " stride %dx%d", l->sh, l->sw);
  if (l->pad_same)
    fprintf(f, " same");
  else if (l->ph || l->pw)
    fprintf(f, " pad %dx%d", l->ph, l->pw);
}

/* The second line of a node: what the layer computes. */
static void dot_kind(FILE *f, const Model *m, const Layer *l) {
  fprintf(f, "%s", layer_kind_name(l->kind));
  switch (l->kind) {
  case LAYER_INPUT:
    if (m->input_tokens)
      fprintf(f, " int[%d, %d], one-hot", l->shape.dims[0], m->vocab);
    break;
  case LAYER_DENSE:
    fprintf(f, " %d", l->units);
    dot_act(f, l);
    break;
  case LAYER_CONV:
    fprintf(f, " %d", l->units);
    dot_window(f, l, 1, 1);
    dot_act(f, l);
    break;
  case LAYER_MAXPOOL:
  case LAYER_AVGPOOL:
    dot_window(f, l, l->kh, l->kw);
    break;
  case LAYER_RNN:
  case LAYER_LSTM:
  case LAYER_GRU:
    fprintf(f, " %d", l->units);
    if (l->kind == LAYER_RNN && l->act != ACT_TANH)
      dot_act(f, l);
    fprintf(f, "%s%s", l->ret_seq ? "" : ", last", l->stateful ? ", stateful" : "");
    break;
  case LAYER_DROPOUT:
    fprintf(f, " ");
    ast_print_num(f, l->rate);
    break;
  case LAYER_NOISE:
    fprintf(f, " std ");
    ast_print_num(f, l->noise_std);
    break;
  case LAYER_BATCHNORM:
  case LAYER_ADD:
    dot_act(f, l);
    break;
  default:
    break;
  }
}

static void dot_layer(FILE *f, const Model *m, const Layer *l) {
  char buf[64];
  fprintf(f, "  \"%s\" [label=\"%s\\n", l->name, l->name);
  dot_kind(f, m, l);
  fprintf(f, "\\n%s", shape_str(&l->shape, buf, sizeof buf));
  if (l->nparams)
    fprintf(f, ", %ld params", l->nparams);
  fprintf(f, "\", fillcolor=\"%s\"%s];\n", node_color(l->kind),
          l->kind == LAYER_INPUT ? ", shape=box, style=\"rounded,filled\"" : "");
}

static void dot_edges(FILE *f, const Layer *l) {
  for (int k = 0; k < l->ninputs; k++) {
    fprintf(f, "  \"%s\" -> \"%s\"", l->inputs[k]->name, l->name);
    if (l->kind == LAYER_CONCAT) /* the order of the joined features */
      fprintf(f, " [label=\"%d\"]", k + 1);
    fprintf(f, ";\n");
  }
}

/* The label node and the loss node, with their edges. */
static void dot_loss(FILE *f, const Model *m) {
  fprintf(f, "  \"loss\" [label=\"loss\\n%s\", shape=ellipse, fillcolor=\"#f4cccc\"];\n",
          loss_name(m->loss));
  fprintf(f, "  \"%s\" -> \"loss\";\n", m->loss_out->name);
  if (m->target_is_input) {
    fprintf(f, "  \"%s\" -> \"loss\" [label=\"target\", style=dashed];\n", m->input->name);
  } else if (m->has_label) {
    char buf[64];
    if (m->label_is_class && m->label_steps)
      snprintf(buf, sizeof buf, "int[%d, %d]", m->label_steps, m->nclasses);
    else if (m->label_is_class)
      snprintf(buf, sizeof buf, "int[%d]", m->nclasses);
    else { /* real[d1, ..., dn] as declared */
      size_t k = (size_t)snprintf(buf, sizeof buf, "real[");
      for (int i = 0; i < m->label_shape.ndim && k < sizeof buf; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%d", i ? ", " : "",
                              m->label_shape.dims[i]);
      if (k < sizeof buf)
        snprintf(buf + k, sizeof buf - k, "]");
    }
    fprintf(f, "  \"%s\" [label=\"%s\\nlabel %s\", shape=box, style=\"rounded,filled\", "
            "fillcolor=\"#e8e8e8\"];\n", m->label_name, m->label_name, buf);
    fprintf(f, "  \"%s\" -> \"loss\" [label=\"target\", style=dashed];\n", m->label_name);
  }
  for (int i = 0; i < m->nlayers; i++) {
    const Layer *l = m->layers[i];
    if (l->activity_l1 > 0) {
      fprintf(f, "  \"%s\" -> \"loss\" [label=\"activity_l1 ", l->name);
      ast_print_num(f, l->activity_l1);
      fprintf(f, "\", style=dotted];\n");
    }
  }
}

void emit_dot(FILE *f, const Model *m) {
  long total = 0;
  for (int i = 0; i < m->nlayers; i++)
    total += m->layers[i]->nparams;
  fprintf(f, "// Layer graph of model '%s' (%s), written by nncc %s --emit=dot.\n", m->name,
          m->file, NNCC_VERSION);
  fprintf(f, "// Render: dot -Tsvg %s.dot -o %s.svg\n", m->name, m->name);
  fprintf(f, "digraph \"%s\" {\n", m->name);
  fprintf(f, "  label=\"%s: %ld parameters, batch %d\";\n", m->name, total, m->batch);
  fprintf(f, "  labelloc=t;\n  fontname=\"Helvetica\";\n  rankdir=TB;\n");
  fprintf(f, "  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=10];\n");
  fprintf(f, "  edge [fontname=\"Helvetica\", fontsize=9];\n");
  for (int i = 0; i < m->nlayers; i++)
    dot_layer(f, m, m->layers[i]);
  for (int i = 0; i < m->nlayers; i++)
    dot_edges(f, m->layers[i]);
  dot_loss(f, m);
  fprintf(f, "}\n");
}
