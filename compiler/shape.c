/* shape.c — shape inference over the checked model, in topological order.
 *
 * Shapes are one sample's; the batch dimension is implicit.  Every layer's
 * output shape and parameter count are set here, xavier/he initializers are
 * resolved to concrete distributions (they need fan-in and fan-out), and
 * the loss is checked against its output and target.  Errors show the
 * numbers involved.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "nncc.h"

long shape_numel(const Shape *s) {
  long n = 1;
  for (int i = 0; i < s->ndim; i++)
    n *= s->dims[i];
  return n;
}

char *shape_str(const Shape *s, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < s->ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? "x" : "", s->dims[i]);
  return buf;
}

/* Glorot & Bengio (2010): uniform bound sqrt(6/(fan_in+fan_out)), normal
 * std sqrt(2/(fan_in+fan_out)); He et al. (2015): normal std sqrt(2/fan_in),
 * uniform bound sqrt(6/fan_in).  `he` and `xavier` name the variants the
 * papers use: He normal and Glorot uniform. */
static Init resolve_init(Init in, Act act, long fan_in, long fan_out) {
  const char *how = in.how;
  if (!how) /* not given: He for the ReLU family, Glorot otherwise */
    how = act == ACT_RELU || act == ACT_LEAKY_RELU ? "he" : "xavier";
  double fi = (double)fan_in, fo = (double)fan_out;
  if (!strcmp(how, "xavier") || !strcmp(how, "xavier_uniform")) {
    double a = sqrt(6.0 / (fi + fo));
    return (Init){INIT_UNIFORM, -a, a, how};
  }
  if (!strcmp(how, "xavier_normal"))
    return (Init){INIT_NORMAL, 0, sqrt(2.0 / (fi + fo)), how};
  if (!strcmp(how, "he") || !strcmp(how, "he_normal"))
    return (Init){INIT_NORMAL, 0, sqrt(2.0 / fi), how};
  if (!strcmp(how, "he_uniform")) {
    double a = sqrt(6.0 / fi);
    return (Init){INIT_UNIFORM, -a, a, how};
  }
  return in; /* zeros, uniform(a, b), normal(m, s) as written */
}

/* ---------------------------------------------------------- sequences */

/* "(28, 28, 1)" into buf. */
static const char *shape_tuple(const Shape *s, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < s->ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? ", " : "", s->dims[i]);
  if (k < n)
    snprintf(buf + k, n - k, ")");
  return buf;
}

/* The first recurrent layer that reads `l` (directly or through dropout
 * and gaussian_noise, which keep the shape), or NULL. */
static const Layer *recurrent_reader(const Model *m, const Layer *l) {
  for (int i = 0; i < m->nlayers; i++) {
    const Layer *r = m->layers[i];
    if (r->ninputs < 1 || r->inputs[0] != l)
      continue;
    if (layer_is_recurrent(r->kind))
      return r;
    const Layer *t = r->kind == LAYER_DROPOUT || r->kind == LAYER_NOISE ? recurrent_reader(m, r)
                                                                        : NULL;
    if (t)
      return t;
  }
  return NULL;
}

/* The recurrent layer a sequence comes from (through dense layers applied
 * per step), or NULL for the input. */
static const Layer *sequence_origin(const Layer *l) {
  while (l->kind != LAYER_INPUT && !layer_is_recurrent(l->kind))
    l = l->inputs[0];
  return l->kind == LAYER_INPUT ? NULL : l;
}

/* "'h' is a sequence of 64 steps of 128 features (64x128); use return =
 * last on 'h' to keep only its last step" and the like, for the errors of
 * layers that cannot read a sequence. */
static const char *sequence_desc(const Model *m, const Layer *l, char *buf, size_t n) {
  char sh[64];
  int T = l->steps, F = l->shape.dims[1];
  shape_str(&l->shape, sh, sizeof sh);
  if (l->kind == LAYER_INPUT && m->input_tokens) {
    snprintf(buf, n, "'%s' is a sequence of %d tokens (%s, one-hot over %d)", l->name, T, sh, F);
  } else if (l->kind == LAYER_INPUT) {
    const Layer *r = recurrent_reader(m, l);
    snprintf(buf, n, "'%s' is a sequence of %d steps of %d feature%s (%s), as %s '%s' reads it; "
             "every layer that reads it must be recurrent (rnn, lstm or gru)", l->name, T, F,
             F == 1 ? "" : "s", sh, layer_kind_name(r->kind), r->name);
  } else {
    const Layer *o = sequence_origin(l);
    snprintf(buf, n, "'%s' is a sequence of %d steps of %d feature%s (%s)%s%s%s", l->name, T, F,
             F == 1 ? "" : "s", sh, o ? "; use return = last on '" : "", o ? o->name : "",
             o ? "' to keep only its last step" : "");
  }
  return buf;
}

/* flatten, conv2d, maxpool, avgpool read no sequence. */
static bool reject_sequence(const Model *m, const Layer *l) {
  const Layer *in = l->inputs[0];
  if (!in->steps)
    return false;
  char buf[512];
  error_at(l->input_locs[0], "%s of a sequence is not supported: %s", layer_kind_name(l->kind),
           sequence_desc(m, in, buf, sizeof buf));
  return true;
}

/* The gate blocks of a recurrent cell: rnn 1, lstm 4 (i, f, g, o), gru 3
 * (r, z, n), in PyTorch's order. */
static long gate_blocks(LayerKind k) { return k == LAYER_RNN ? 1 : k == LAYER_LSTM ? 4 : 3; }

/* The default initialization of rnn, lstm and gru: PyTorch's, every weight
 * and bias uniform(-1/sqrt(H), 1/sqrt(H)). */
static Init pytorch_recurrent_init(int H) {
  double k = 1 / sqrt((double)H);
  return (Init){INIT_UNIFORM, -k, k, "uniform(+-1/sqrt(H))"};
}

/* rnn, lstm, gru over (T, F): (T, H) for return = sequence, (H) for
 * return = last.  PyTorch's parameters with G = 1, 4, 3 gate blocks:
 * weight_ih [G*H, F], weight_hh [G*H, H], bias_ih [G*H], bias_hh [G*H]. */
static void infer_recurrent(Model *m, Layer *l) {
  Layer *in = l->inputs[0];
  const char *op = layer_kind_name(l->kind);
  char buf[64];
  if (!in->steps) {
    char hint[160] = "";
    if (in->kind == LAYER_INPUT)
      snprintf(hint, sizeof hint, "; a real sequence input is input %s[T, F]", in->name);
    else if (layer_is_recurrent(in->kind))
      snprintf(hint, sizeof hint, "; '%s' has return = last: give it return = sequence",
               in->name);
    error_at(l->input_locs[0], "'%s': %s reads a sequence (T, F), gets %s from '%s'%s", l->name,
             op, shape_tuple(&in->shape, buf, sizeof buf), in->name, hint);
    return;
  }
  int T = in->steps, F = in->shape.dims[1], H = l->units;
  long G = gate_blocks(l->kind);
  double nw = (double)G * H * ((double)F + H);
  if (nw > 2147483647.0) {
    error_at(l->name_loc, "layer '%s' would have %.0f weights (%ld x %d x (%d + %d)); at most "
             "2147483647 are supported", l->name, nw, G, H, F, H);
    return;
  }
  if (l->in_features && l->in_features != F)
    error_at(l->in_features_loc, "layer '%s' expects input of %d features, '%s' gives %d per "
             "step", l->name, l->in_features, in->name, F);
  if (l->ret_seq) {
    l->shape = (Shape){.ndim = 2, .dims = {T, H}};
    l->steps = T;
  } else {
    l->shape = (Shape){.ndim = 1, .dims = {H}};
    l->steps = 0;
  }
  l->nparams = G * H * F + G * H * H + (l->bias ? 2 * G * H : 0);
  /* he and xavier as for one dense layer per gate over [x_t, h_t-1]:
   * fan_in F + H, fan_out H */
  l->init = l->init_given ? resolve_init(l->init, l->act, (long)F + H, H)
                          : pytorch_recurrent_init(H);
  if (!l->bias_init.how)
    l->bias_init = pytorch_recurrent_init(H);
}

/* dense reads a vector, or a sequence (T, F) that it is applied to at every
 * step, giving (T, UNITS); a real input of rank 2 is a sequence only for
 * recurrent layers. */
static void infer_dense(Model *m, Layer *l) {
  Layer *in = l->inputs[0];
  char buf[64];
  bool per_step = in->steps > 0 && in->shape.ndim == 2 &&
                  (in->kind != LAYER_INPUT || m->input_tokens);
  if (in->steps > 0 && !per_step) {
    char d[512];
    error_at(l->input_locs[0], "dense needs a vector input; %s", sequence_desc(m, in, d, sizeof d));
    return;
  }
  if (per_step) {
    long fan_in = in->shape.dims[1];
    if ((double)fan_in * l->units > 2147483647.0) {
      error_at(l->name_loc, "layer '%s' would have %.0f weights (%ld x %d); at most 2147483647 "
               "are supported", l->name, (double)fan_in * l->units, fan_in, l->units);
      return;
    }
    if (l->in_features && l->in_features != fan_in)
      error_at(l->in_features_loc, "layer '%s' expects input of %d features, '%s' gives %ld per "
               "step", l->name, l->in_features, in->name, fan_in);
    l->shape = (Shape){.ndim = 2, .dims = {in->steps, l->units}};
    l->steps = in->steps;
    l->nparams = (long)l->units * fan_in + (l->bias ? l->units : 0);
    l->init = resolve_init(l->init_given ? l->init : (Init){0}, l->act, fan_in, l->units);
    return;
  }
  if (in->shape.ndim != 1) {
    error_at(l->input_locs[0], "dense needs a vector input; '%s' is %s: flatten it first, "
             "e.g. layer flat = flatten(%s)", in->name, shape_str(&in->shape, buf, sizeof buf),
             in->name);
    return;
  }
  long fan_in = in->shape.dims[0];
  if ((double)fan_in * l->units > 2147483647.0) {
    error_at(l->name_loc, "layer '%s' would have %.0f weights (%ld x %d); at most 2147483647 are "
             "supported", l->name, (double)fan_in * l->units, fan_in, l->units);
    return;
  }
  if (l->in_features && l->in_features != fan_in)
    error_at(l->in_features_loc, "layer '%s' expects input of %d features, '%s' gives %ld",
             l->name, l->in_features, in->name, fan_in);
  l->shape = (Shape){.ndim = 1, .dims = {l->units}};
  l->nparams = (long)l->units * fan_in + (l->bias ? l->units : 0);
  l->init = resolve_init(l->init_given ? l->init : (Init){0}, l->act, fan_in, l->units);
}

/* The window geometry of conv2d and the pools over an (H, W, C) input.
 * "same" padding: the output is ceil(H / stride), the padding total what
 * that needs, the extra row/column (if odd) at the bottom/right. */
static bool infer_window(Model *m, Layer *l, int oc) {
  Layer *in = l->inputs[0];
  char buf[64];
  const char *op = layer_kind_name(l->kind);
  if (reject_sequence(m, l))
    return false;
  if (in->shape.ndim != 3) {
    error_at(l->input_locs[0], "%s needs an (H, W, C) input; '%s' is %s%s", op, in->name,
             shape_str(&in->shape, buf, sizeof buf),
             in->shape.ndim == 2 ? ": give it a channel dimension, e.g. input x[28, 28, 1]" : "");
    return false;
  }
  Geo g = {.ih = in->shape.dims[0], .iw = in->shape.dims[1], .ic = in->shape.dims[2],
           .kh = l->kh, .kw = l->kw, .sh = l->sh, .sw = l->sw};
  g.oc = oc ? oc : g.ic;
  if (l->pad_same) {
    g.oh = (g.ih + g.sh - 1) / g.sh;
    g.ow = (g.iw + g.sw - 1) / g.sw;
    int th = (g.oh - 1) * g.sh + g.kh - g.ih, tw = (g.ow - 1) * g.sw + g.kw - g.iw;
    g.pt = th > 0 ? th / 2 : 0;
    g.pl = tw > 0 ? tw / 2 : 0;
  } else {
    if (l->ph >= l->kh || l->pw >= l->kw) {
      error_at(l->padding_loc, "'%s': padding %dx%d must be smaller than the %dx%d kernel",
               l->name, l->ph, l->pw, l->kh, l->kw);
      return false;
    }
    g.pt = l->ph;
    g.pl = l->pw;
    int nh = g.kh - 2 * l->ph, nw = g.kw - 2 * l->pw;
    if (g.ih < nh || g.iw < nw) {
      char pad[48];
      if (l->ph || l->pw)
        snprintf(pad, sizeof pad, "padding %dx%d", l->ph, l->pw);
      else
        snprintf(pad, sizeof pad, "valid padding");
      error_at(l->input_locs[0], "'%s': a %dx%d kernel with stride %dx%d and %s needs an input of "
               "at least %dx%d, gets %dx%d (from '%s')", l->name, g.kh, g.kw, g.sh, g.sw, pad,
               nh > 1 ? nh : 1, nw > 1 ? nw : 1, g.ih, g.iw, in->name);
      return false;
    }
    g.oh = (g.ih + 2 * l->ph - g.kh) / g.sh + 1;
    g.ow = (g.iw + 2 * l->pw - g.kw) / g.sw + 1;
  }
  if ((double)g.oh * g.ow * g.oc > 2147483647.0) {
    error_at(l->name_loc, "'%s' would have %dx%dx%d = %.0f values per sample; at most "
             "2147483647 are supported", l->name, g.oh, g.ow, g.oc, (double)g.oh * g.ow * g.oc);
    return false;
  }
  l->geo = g;
  l->shape = (Shape){.ndim = 3, .dims = {g.oh, g.ow, g.oc}};
  return true;
}

static void infer_conv(Model *m, Layer *l) {
  if (l->act == ACT_SOFTMAX) {
    error_at(l->name_loc, "conv2d '%s' cannot have a softmax activation (over which axis?); "
             "flatten it and use dense(..., activation = softmax)", l->name);
    return;
  }
  if (!infer_window(m, l, l->units))
    return;
  const Geo *g = &l->geo;
  long fan_in = (long)g->ic * g->kh * g->kw, fan_out = (long)g->oc * g->kh * g->kw;
  l->nparams = (long)g->oc * fan_in + (l->bias ? g->oc : 0);
  l->init = resolve_init(l->init_given ? l->init : (Init){0}, l->act, fan_in, fan_out);
}

static void infer_flatten(Model *m, Layer *l) {
  if (reject_sequence(m, l))
    return;
  long n = shape_numel(&l->inputs[0]->shape);
  if (n > INT_MAX) {
    error_at(l->name_loc, "layer '%s' has %ld features, more than supported", l->name, n);
    return;
  }
  l->shape = (Shape){.ndim = 1, .dims = {(int)n}};
}

/* batchnorm: (N) normalized per feature (BatchNorm1d) or (H, W, C) per
 * channel (BatchNorm2d); gamma and beta have one value per channel. */
static void infer_batchnorm(Model *m, Layer *l) {
  if (reject_sequence(m, l))
    return;
  const Layer *in = l->inputs[0];
  char buf[64];
  if (in->shape.ndim != 1 && in->shape.ndim != 3) {
    error_at(l->input_locs[0], "batchnorm normalizes features (N) or images (H, W, C); '%s' is "
             "%s: flatten it first", in->name, shape_str(&in->shape, buf, sizeof buf));
    return;
  }
  if (l->act == ACT_SOFTMAX && in->shape.ndim == 3) {
    error_at(l->name_loc, "batchnorm '%s' of an image cannot have a softmax activation (over "
             "which axis?)", l->name);
    return;
  }
  l->shape = in->shape;
  l->units = in->shape.ndim == 3 ? in->shape.dims[2] : in->shape.dims[0];
  l->nparams = 2L * l->units;
}

/* add(a, b, ...): inputs of one shape, the output that shape; concat(a, b,
 * ...): vectors (N1) + (N2) -> (N1 + N2), images (H, W, C1) + (H, W, C2) ->
 * (H, W, C1 + C2), channels last (in general: the same leading dimensions,
 * the last summed).  Sequences are not supported yet. */
static void infer_merge(Model *m, Layer *l) {
  const char *op = layer_kind_name(l->kind);
  for (int i = 0; i < l->ninputs; i++)
    if (l->inputs[i]->steps) {
      char buf[512];
      error_at(l->input_locs[i], "%s of a sequence is not supported: %s", op,
               sequence_desc(m, l->inputs[i], buf, sizeof buf));
      return;
    }
  const Layer *a = l->inputs[0];
  Shape s = a->shape;
  long c = 0;
  for (int i = 0; i < l->ninputs; i++) {
    const Layer *b = l->inputs[i];
    char sa[64], sb[64];
    shape_tuple(&a->shape, sa, sizeof sa);
    shape_tuple(&b->shape, sb, sizeof sb);
    bool same_rank = b->shape.ndim == a->shape.ndim, same = same_rank;
    for (int d = 0; same && d < a->shape.ndim; d++)
      same = a->shape.dims[d] == b->shape.dims[d];
    if (l->kind == LAYER_ADD && !same) {
      error_at(l->input_locs[i], "add '%s': '%s' is %s, '%s' is %s; add sums layers of one "
               "shape", l->name, b->name, sb, a->name, sa);
      return;
    }
    if (l->kind == LAYER_CONCAT) {
      bool lead = same_rank;
      for (int d = 0; lead && d + 1 < a->shape.ndim; d++)
        lead = a->shape.dims[d] == b->shape.dims[d];
      if (!same_rank) {
        error_at(l->input_locs[i], "concat '%s': '%s' is %s, '%s' is %s; concat joins vectors, "
                 "or images along their channels, not one with the other (flatten the image: "
                 "layer f = flatten(...))", l->name, b->name, sb, a->name, sa);
        return;
      }
      if (!lead) {
        error_at(l->input_locs[i], "concat '%s': '%s' is %s, '%s' is %s; images are joined "
                 "along their channels and need the same height and width", l->name, b->name,
                 sb, a->name, sa);
        return;
      }
      c += b->shape.dims[b->shape.ndim - 1];
    }
  }
  if (l->kind == LAYER_CONCAT) {
    if ((double)shape_numel(&s) / s.dims[s.ndim - 1] * (double)c > 2147483647.0) {
      error_at(l->name_loc, "'%s' would have more than 2147483647 values per sample", l->name);
      return;
    }
    s.dims[s.ndim - 1] = (int)c;
  }
  l->shape = s;
}

/* "a sequence 64x96 (64 steps of 96)" or "96 outputs (not a sequence)" */
static const char *output_desc(const Layer *out, char *buf, size_t n) {
  char sh[64];
  if (out->steps)
    snprintf(buf, n, "a sequence %s (%d steps of %d)", shape_str(&out->shape, sh, sizeof sh),
             out->steps, out->shape.dims[1]);
  else
    snprintf(buf, n, "%ld output%s (not a sequence)", shape_numel(&out->shape),
             shape_numel(&out->shape) == 1 ? "" : "s");
  return buf;
}

static void check_loss(Model *m) {
  Layer *out = m->loss_out;
  const char *ln = loss_name(m->loss);
  char buf[64];
  long k = shape_numel(&out->shape);
  const char *tname = m->target_is_input ? m->input->name : m->label_name;
  bool class_target = !m->target_is_input && m->label_is_class;
  if (m->loss == LOSS_CE) {
    if (!class_target) {
      if (m->target_is_input)
        error_at(m->loss_target_loc, "cross_entropy needs class labels (a label like `label y : "
                 "int[K]`); '%s' is the input", tname);
      else
        error_at(m->loss_target_loc, "cross_entropy needs class labels (label %s : int[K]); "
                 "'%s' is real-valued", tname, tname);
      return;
    }
    if (out->act != ACT_SOFTMAX && out->act != ACT_IDENTITY)
      error_at(m->loss_out_loc, "cross_entropy needs a softmax output (or identity, taken as "
               "logits); '%s' has activation %s", out->name, act_name(out->act));
    int T = m->label_steps, K = m->nclasses;
    char od[128];
    output_desc(out, od, sizeof od);
    if (T && (out->steps != T || out->shape.ndim != 2 || out->shape.dims[1] != K))
      error_at(m->loss_out_loc, "cross_entropy: '%s' gives %s, label '%s' has %d steps of %d "
               "classes: '%s' must be a sequence %dx%d", out->name, od, tname, T, K, out->name,
               T, K);
    else if (!T && out->steps)
      error_at(m->loss_out_loc, "cross_entropy: '%s' gives %s, label '%s' has %d classes, one "
               "per sample: use return = last for one output per sample, or a label int[%d, %d]",
               out->name, od, tname, K, out->steps, K);
    else if (!T && (out->shape.ndim != 1 || k != m->nclasses))
      error_at(m->loss_out_loc, "cross_entropy: '%s' gives %s outputs, label '%s' has %d "
               "classes", out->name, shape_str(&out->shape, buf, sizeof buf), tname,
               m->nclasses);
    return;
  }
  if (class_target) {
    char want[64];
    if (out->steps)
      snprintf(want, sizeof want, "%d, %d", out->shape.dims[0], out->shape.dims[1]);
    else
      snprintf(want, sizeof want, "%ld", k);
    error_at(m->loss_target_loc, "%s needs real-valued targets (label %s : real[%s]); '%s' "
             "holds class indices: use cross_entropy, or declare it real", ln, tname, want,
             tname);
    return;
  }
  if (m->target_is_input && m->input_tokens) {
    error_at(m->loss_target_loc, "the target of %s is a real label or a real input; '%s' holds "
             "token ids", ln, tname);
    return;
  }
  if (m->loss == LOSS_BCE && out->act != ACT_SIGMOID && out->act != ACT_IDENTITY)
    error_at(m->loss_out_loc, "binary_cross_entropy needs a sigmoid output (or identity, taken "
             "as logits); '%s' has activation %s", out->name, act_name(out->act));
  const Shape *ts = m->target_is_input ? &m->input->shape : &m->label_shape;
  int tsteps = m->target_is_input ? m->input->steps : 0;
  if (out->steps || tsteps) {
    /* a sequence against a sequence of the same shape: real[T, F] or a
     * (T, F) input read by a recurrent layer */
    bool same = out->shape.ndim == 2 && ts->ndim == 2 && out->shape.dims[0] == ts->dims[0] &&
                out->shape.dims[1] == ts->dims[1] && (!m->target_is_input || tsteps);
    if (!same) {
      char od[128], td[128], tb[64];
      output_desc(out, od, sizeof od);
      if (tsteps)
        snprintf(td, sizeof td, "a sequence %s", shape_str(ts, tb, sizeof tb));
      else if (ts->ndim == 1)
        snprintf(td, sizeof td, "%ld value%s", shape_numel(ts), shape_numel(ts) == 1 ? "" : "s");
      else
        snprintf(td, sizeof td, "%ld values (%s)", shape_numel(ts), shape_str(ts, tb, sizeof tb));
      char hint[96] = "";
      long F = out->steps ? out->shape.dims[1] : 0;
      if (out->steps && shape_numel(ts) == F)
        snprintf(hint, sizeof hint, ": use return = last for one output per sample");
      else if (out->steps && !m->target_is_input && shape_numel(ts) == k)
        snprintf(hint, sizeof hint, ": declare it real[%d, %d]", out->shape.dims[0],
                 out->shape.dims[1]);
      error_at(m->loss_out_loc, "%s: '%s' gives %s, target '%s' has %s%s", ln, out->name, od,
               tname, td, hint);
    }
    return;
  }
  if (shape_numel(ts) != k) {
    char tb[64], os[80] = "", tsd[80] = "";
    if (out->shape.ndim > 1)
      snprintf(os, sizeof os, " (%s)", shape_str(&out->shape, buf, sizeof buf));
    if (ts->ndim > 1)
      snprintf(tsd, sizeof tsd, " (%s)", shape_str(ts, tb, sizeof tb));
    error_at(m->loss_out_loc, "%s: '%s' gives %ld values%s, target '%s' has %ld%s", ln,
             out->name, k, os, tname, shape_numel(ts), tsd);
  }
}

/* Does a layer have parameters, or an input that does? */
static bool depends_on_params(const Layer *l) {
  if (l->nparams > 0)
    return true;
  for (int i = 0; i < l->ninputs; i++)
    if (depends_on_params(l->inputs[i]))
      return true;
  return false;
}

int shape_infer(Model *m) {
  int before = diag_errors();
  for (int i = 0; i < m->nlayers; i++) {
    Layer *l = m->layers[i];
    int e = diag_errors();
    for (int k = 0; k < l->ninputs; k++)
      if (l->inputs[k]->shape.ndim == 0)
        e = -1; /* an input's shape failed: do not pile up errors */
    if (e < 0)
      continue;
    switch (l->kind) {
    case LAYER_INPUT:
      /* token ids, seen one-hot (T, V); a real (T, F) read by a recurrent
       * layer */
      if (m->input_tokens || (l->shape.ndim == 2 && recurrent_reader(m, l)))
        l->steps = l->shape.dims[0];
      break;
    case LAYER_DENSE: infer_dense(m, l); break;
    case LAYER_FLATTEN: infer_flatten(m, l); break;
    case LAYER_CONV: infer_conv(m, l); break;
    case LAYER_MAXPOOL:
    case LAYER_AVGPOOL: infer_window(m, l, 0); break;
    case LAYER_RNN:
    case LAYER_LSTM:
    case LAYER_GRU: infer_recurrent(m, l); break;
    case LAYER_DROPOUT:
    case LAYER_NOISE: /* elementwise: any shape, a sequence stays one */
      l->shape = l->inputs[0]->shape;
      l->steps = l->inputs[0]->steps;
      break;
    case LAYER_BATCHNORM: infer_batchnorm(m, l); break;
    case LAYER_ADD:
    case LAYER_CONCAT: infer_merge(m, l); break;
    }
  }
  if (m->loss_out->shape.ndim)
    check_loss(m);
  if (diag_errors() == before && !depends_on_params(m->loss_out))
    error_at(m->loss_out_loc, "the loss output '%s' depends on no learnable layer: there is "
             "nothing to train", m->loss_out->name);
  return diag_errors() - before;
}

void shape_summary(FILE *out, const Model *m, const IR *ir) {
  char buf[64];
  long total = 0, weights = 0;
  fprintf(out, "model '%s' (%s), batch %d\n", m->name, m->file, m->batch);
  fprintf(out, "  %-12s %-8s %-14s %10s\n", "layer", "type", "output", "params");
  for (int i = 0; i < m->nlayers; i++) {
    const Layer *l = m->layers[i];
    fprintf(out, "  %-12s %-8s %-14s %10ld\n", l->name, layer_kind_name(l->kind),
            shape_str(&l->shape, buf, sizeof buf), l->nparams);
    total += l->nparams;
    if (l->kind == LAYER_DENSE) /* per step over a sequence: the last dimension */
      weights += (long)l->units * l->inputs[0]->shape.dims[l->inputs[0]->shape.ndim - 1];
    if (layer_is_recurrent(l->kind)) {
      long gh = gate_blocks(l->kind) * l->units;
      weights += gh * (l->inputs[0]->shape.dims[1] + l->units);
    }
    if (l->kind == LAYER_CONV)
      weights += (long)l->geo.oc * l->geo.ic * l->geo.kh * l->geo.kw;
    if (l->kind == LAYER_BATCHNORM) /* gamma is its weight (running statistics: buffers) */
      weights += l->units;
  }
  fprintf(out, "  %-12s %-8s %-14s %10ld\n", "total", "", "", total);
  fprintf(out, "%ld learnable parameters (%ld weights, %ld biases)\n", total, weights,
          total - weights);
  if (!ir)
    return;
  /* float; a -DNN_REAL=double build takes twice as much */
  static const char *const names[] = {[A_PARAM] = "params", [A_GRAD] = "grads",
                                      [A_STATE] = "optimizer state", [A_ACT] = "activations"};
  static const Arena order[] = {A_PARAM, A_GRAD, A_STATE, A_ACT};
  size_t sum = 0;
  fprintf(out, "memory plan (float, batch %d):", m->batch);
  for (int i = 0; i < 4; i++) {
    size_t bytes = ir->arena_size[order[i]] * 4;
    sum += bytes;
    fprintf(out, "%s %s %zu", i ? "," : "", names[order[i]], bytes);
  }
  fprintf(out, "; total %zu bytes\n", sum);
}
