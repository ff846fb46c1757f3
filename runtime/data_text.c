/* data_text.c — a text file as a stream of character tokens, laid out for
 * truncated backpropagation through time.
 *
 * Every byte is a token; its id is its index in the vocabulary.  The
 * training text builds the vocabulary (its distinct bytes in increasing
 * order); other texts (the test text, text read with a checkpoint's
 * vocabulary) are read through a given one, and a byte outside it is an
 * error.
 *
 * Layout (nnrt.h): L ids, B streams of S = (L - 1) / B ids (the -1 leaves
 * room for the target of the last input), W = S / T windows of T steps per
 * stream, row r = w * B + s holding window w of stream s.  A stateful
 * model run over rows in file order, B rows a batch, so sees in batch w
 * the w-th window of every stream, in the same column every time: its
 * hidden state at the end of window w is the right start of window w + 1.
 * Byte offsets in messages count from 0.
 */
#include "nnrt.h"
#include "nnrt_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *nn_byte_text(unsigned char b, char *buf) {
  static const char esc[][3] = {['\n'] = "\\n", ['\t'] = "\\t", ['\r'] = "\\r"};
  if (b < sizeof esc / sizeof esc[0] && esc[b][0])
    snprintf(buf, 16, "'%s' (0x%02x)", esc[b], b);
  else if (b == '\'' || b == '\\')
    snprintf(buf, 16, "'\\%c' (0x%02x)", b, b);
  else if (b >= 0x20 && b < 0x7f)
    snprintf(buf, 16, "'%c' (0x%02x)", b, b);
  else
    snprintf(buf, 16, "0x%02x", b);
  return buf;
}

/* The model's input and label as the language writes them, for messages. */
static void nn_text_types(const nn_data_spec *s, char *in, char *lbl, size_t len) {
  snprintf(in, len, "input : int[%d, %d]", s->steps, s->tokens);
  if (s->ncls > 1)
    snprintf(lbl, len, "label : int[%d, %d]", s->ncls, s->nclasses);
  else
    snprintf(lbl, len, "label : int[%d]", s->nclasses);
}

/* What a text data set can feed: a token input of T ids; class targets,
 * 1 or T of them per sample, or none. */
static int nn_text_check_spec(const char *path, const nn_data_spec *s, char *err,
                              size_t errlen) {
  if (s->tokens <= 0 || s->steps <= 0 || s->dim != s->steps) {
    snprintf(err, errlen,
             "%s: error: text data needs a model whose input is token ids (input : int[T, V]); "
             "this model's input is %d real values", path, s->dim);
    return -1;
  }
  if (s->target == NN_TARGET_REAL) {
    snprintf(err, errlen,
             "%s: error: text data gives class targets (the next character); the model's "
             "target is %d real values", path, s->ydim);
    return -1;
  }
  int ncls = s->ncls > 0 ? s->ncls : 1;
  if (s->target == NN_TARGET_CLASS && ncls != 1 && ncls != s->steps) {
    snprintf(err, errlen,
             "%s: error: text data gives 1 or %d class targets a sample (the next character "
             "after the window, or after every step), the model's label holds %d",
             path, s->steps, ncls);
    return -1;
  }
  return 0;
}

/* The vocabulary into d->vocab / d->nvocab, and each byte's id into id[]
 * (-1: not in it).  count[] holds the text's byte counts. */
static int nn_text_vocab(const char *path, const nn_data_spec *s, const unsigned char *t,
                         size_t len, const long *count, nn_dataset *d, int *id, char *err,
                         size_t errlen) {
  for (int b = 0; b < 256; b++)
    id[b] = -1;
  if (!s->vocab) {
    for (int b = 0; b < 256; b++)
      if (count[b] > 0) {
        id[b] = d->nvocab;
        d->vocab[d->nvocab++] = (unsigned char)b;
      }
  } else {
    if (s->nvocab < 1 || s->nvocab > 256) {
      snprintf(err, errlen, "%s: error: the vocabulary of %s has %d characters (expected 1 to 256)",
               path, s->vocab_from ? s->vocab_from : "the training text", s->nvocab);
      return -1;
    }
    for (int v = 0; v < s->nvocab; v++) {
      if (id[s->vocab[v]] < 0)
        id[s->vocab[v]] = v;
      d->vocab[v] = s->vocab[v];
    }
    d->nvocab = s->nvocab;
    for (size_t i = 0; i < len; i++)
      if (id[t[i]] < 0) {
        char c[16];
        snprintf(err, errlen,
                 "%s: offset %zu: error: character %s is not in the vocabulary of %s", path, i,
                 nn_byte_text(t[i], c), s->vocab_from ? s->vocab_from : "the training text");
        return -1;
      }
  }
  char in[64], lbl[64];
  nn_text_types(s, in, lbl, sizeof in);
  if (d->nvocab > s->tokens) {
    if (s->vocab)
      snprintf(err, errlen, "%s: error: the vocabulary of %s has %d characters, the model's "
                            "vocabulary (%s) holds %d",
               path, s->vocab_from ? s->vocab_from : "the training text", d->nvocab, in,
               s->tokens);
    else
      snprintf(err, errlen, "%s: error: %d distinct characters, the model's vocabulary (%s) "
                            "holds %d", path, d->nvocab, in, s->tokens);
    return -1;
  }
  if (s->target == NN_TARGET_CLASS && d->nvocab > s->nclasses) {
    snprintf(err, errlen, "%s: error: %d characters in the vocabulary, the model's classes (%s) "
                          "hold %d", path, d->nvocab, lbl, s->nclasses);
    return -1;
  }
  return 0;
}

/* Entropy in bits of the byte distribution. */
static double nn_text_entropy(const long *count, size_t len) {
  double h = 0;
  for (int b = 0; b < 256; b++)
    if (count[b] > 0) {
      double p = (double)count[b] / (double)len;
      h -= p * log2(p);
    }
  return h;
}

/* Rows of windows from the ids (nnrt.h's layout). */
static int nn_text_rows(const char *path, const nn_data_spec *s, const unsigned char *t,
                        size_t len, const int *id, nn_dataset *d, char *err, size_t errlen) {
  size_t T = (size_t)s->steps, B = (size_t)(s->streams > 0 ? s->streams : 1);
  size_t S = (len - 1) / B, W = S / T;
  if (W == 0) {
    snprintf(err, errlen,
             "%s: error: %zu character%s too few for %zu stream%s (the batch) of windows of "
             "%zu step%s: at least %zu needed", path, len, len == 1 ? " is" : "s are", B,
             B == 1 ? "" : "s", T, T == 1 ? "" : "s", B * T + 1);
    return -1;
  }
  if (W > (size_t)INT_MAX / B) {
    snprintf(err, errlen, "%s: error: too many windows (%zu)", path, W * B);
    return -1;
  }
  size_t n = W * B, ncls = (size_t)(s->ncls > 0 ? s->ncls : 1);
  int cls = s->target == NN_TARGET_CLASS;
  d->x = malloc((n * T + 1) * sizeof *d->x);
  if (cls)
    d->cls = malloc((n * ncls + 1) * sizeof *d->cls);
  if (!d->x || (cls && !d->cls)) {
    snprintf(err, errlen, "%s: error: out of memory for %zu rows", path, n);
    return -1;
  }
  for (size_t w = 0; w < W; w++)
    for (size_t st = 0; st < B; st++) {
      size_t r = w * B + st, base = st * S + w * T;
      for (size_t i = 0; i < T; i++)
        d->x[r * T + i] = (float)id[t[base + i]];
      for (size_t j = 0; cls && j < ncls; j++)
        d->cls[r * ncls + j] = (int32_t)id[t[base + T - ncls + j + 1]];
    }
  d->n = (int)n;
  d->dim = (int)T;
  d->ncls = cls ? (int)ncls : 0;
  d->has_target = cls || s->target == NN_TARGET_INPUT;
  return 0;
}

int nn_data_text(const nn_source *src, const nn_data_spec *spec, nn_dataset *out,
                 char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *path = src->path;
  if (nn_text_check_spec(path, spec, err, errlen))
    return -1;
  char *buf = NULL;
  size_t len = 0;
  if (nn_slurp(path, &buf, &len, err, errlen))
    return -1;
  nn_dataset *d = calloc(1, sizeof *d);
  int *id = malloc(256 * sizeof *id);
  int rc = -1;
  const unsigned char *t = (const unsigned char *)buf;
  long count[256] = {0};
  if (!d || !id) {
    snprintf(err, errlen, "%s: error: out of memory", path);
  } else if (len == 0) {
    snprintf(err, errlen, "%s: error: empty file", path);
  } else {
    for (size_t i = 0; i < len; i++)
      count[t[i]]++;
    for (int b = 0; b < 256; b++)
      d->distinct += count[b] > 0;
    if (nn_text_vocab(path, spec, t, len, count, d, id, err, errlen) == 0 &&
        nn_text_rows(path, spec, t, len, id, d, err, errlen) == 0) {
      d->text_len = (long)len;
      d->unigram_bits = nn_text_entropy(count, len);
      if ((d->name = strdup(path)) != NULL)
        rc = 0;
      else
        snprintf(err, errlen, "%s: error: out of memory", path);
    }
  }
  free(buf);
  free(id);
  if (d) {
    if (rc == 0)
      *out = *d;
    else
      nn_data_free(d);
    free(d);
  }
  return rc;
}
