/* ckpt.c — checkpoints in the safetensors layout.
 *
 * File: u64 N (little-endian) | N bytes of JSON, space-padded so that
 * 8 + N is a multiple of 8 | data section.  Each tensor's bytes are
 * data[begin, end) of the data section, little-endian, row-major; we write
 * the tensors back to back in the model's parameter order.  Parameters and
 * real buffers are F32 or F64 (the model's real type); int64 buffers
 * (batchnorm's num_batches_tracked) are I64, as PyTorch's state_dict.
 */
#include "nnrt.h"
#include "nnrt_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NN_CKPT_MAX_HEADER (100u << 20) /* as the safetensors reference */
#define NN_CKPT_CHUNK 4096              /* elements converted at a time */

/* ------------------------------------------------------------ growable text */
typedef struct nn_text {
  char *s;
  size_t len, cap;
  int oom;
} nn_text;

static void nn_text_add(nn_text *t, const char *fmt, ...) {
  if (t->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->cap - t->len;
    int n = vsnprintf(t->s ? t->s + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->oom = 1;
      return;
    }
    if ((size_t)n < room) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = (t->cap + (size_t)n + 1) * 2;
    char *s = realloc(t->s, cap);
    if (!s) {
      t->oom = 1;
      return;
    }
    t->s = s;
    t->cap = cap;
  }
}

/* A JSON string literal: quotes, backslashes and control characters
 * escaped. */
static void nn_text_json_string(nn_text *t, const char *s) {
  nn_text_add(t, "\"");
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      nn_text_add(t, "\\%c", ch);
    else if (ch < 0x20)
      nn_text_add(t, "\\u%04x", ch);
    else
      nn_text_add(t, "%c", ch);
  }
  nn_text_add(t, "\"");
}

static void nn_shape_text(char *buf, size_t len, int ndim, const long long *shape) {
  size_t k = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < ndim && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? ", " : "", shape[i]);
  if (k < len)
    snprintf(buf + k, len - k, "]");
}

static size_t nn_param_elems(const nn_param *p) {
  size_t n = 1;
  for (int i = 0; i < p->ndim; i++)
    n *= (size_t)p->shape[i];
  return n;
}

/* ------------------------------------------------------------------ saving */

/* The JSON header, padded with spaces to a multiple of 8 bytes.  The
 * vocabulary, when there is one, is hex: metadata values are strings, and
 * hex needs no escapes whatever the bytes are. */
/* A tensor of the training state (nncc.*): n elements of esize bytes
 * (4 or 8) at p, written as their bit patterns so that a resume restores
 * them exactly, whatever the values (int64 buffers in the best-params
 * copy, subnormals, NaN payloads). */
typedef struct nn_extra {
  const char *name, *dtype;
  size_t n;
  int esize;
  const void *p;
} nn_extra;

#define NN_EXTRA_MAX 4

/* The training state's metadata: every number as a string (safetensors
 * metadata holds strings only), doubles in C's exact hex form (%a). */
static void nn_ckpt_state_meta(nn_text *t, const nn_ctx *c, const nn_resume *r) {
  nn_text_add(t, ",\"nncc.state\":\"1\",\"nncc.seed\":\"%llu\",\"nncc.lr\":\"%a\"",
              (unsigned long long)r->seed, r->lr);
  nn_text_add(t, ",\"nncc.epochs\":\"%d\",\"nncc.epoch\":\"%d\",\"nncc.pos\":\"%d\"",
              r->epochs, r->epoch, r->pos);
  nn_text_add(t, ",\"nncc.rows\":\"%d\",\"nncc.step\":\"%llu\"", r->nrows,
              (unsigned long long)c->step);
  nn_text_add(t, ",\"nncc.rng\":\"%016llx%016llx\"", (unsigned long long)r->rng.state,
              (unsigned long long)r->rng.inc);
  nn_text_add(t, ",\"nncc.loss\":\"%a\",\"nncc.correct\":\"%a\",\"nncc.seconds\":\"%a\"",
              r->loss, r->correct, r->seconds);
  nn_text_add(t, ",\"nncc.elapsed\":\"%a\",\"nncc.best\":\"%a\"", r->elapsed, r->best);
  nn_text_add(t, ",\"nncc.best_epoch\":\"%d\",\"nncc.since\":\"%d\"", r->best_epoch,
              r->since);
  nn_text_add(t, ",\"nncc.best_figures\":\"%a %a %a %a\"", r->best_tr[0], r->best_tr[1],
              r->best_te[0], r->best_te[1]);
}

static int nn_ckpt_header(const nn_model *m, const nn_ctx *c, const nn_resume *r,
                          const nn_extra *x, int nx, nn_text *t) {
  const char *dtype = m->real_size == 8 ? "F64" : "F32";
  nn_text_add(t, "{\"__metadata__\":{\"model\":");
  nn_text_json_string(t, m->name);
  nn_text_add(t, ",\"hash\":\"%016llx\",\"nncc_format\":\"1\"", (unsigned long long)m->hash);
  if (c->nvocab > 0) {
    nn_text_add(t, ",\"vocab\":\"");
    for (int i = 0; i < c->nvocab && i < 256; i++)
      nn_text_add(t, "%02x", c->vocab[i]);
    nn_text_add(t, "\"");
  }
  if (r)
    nn_ckpt_state_meta(t, c, r);
  nn_text_add(t, "}");
  size_t begin = 0;
  for (int i = 0; i < m->nparams; i++) {
    const nn_param *p = &m->params[i];
    int i64 = p->kind == NN_PARAM_INT64;
    size_t bytes = p->size * (i64 ? 8 : (size_t)m->real_size);
    nn_text_add(t, ",");
    nn_text_json_string(t, p->name);
    nn_text_add(t, ":{\"dtype\":\"%s\",\"shape\":[", i64 ? "I64" : dtype);
    for (int d = 0; d < p->ndim; d++)
      nn_text_add(t, "%s%d", d ? "," : "", p->shape[d]);
    nn_text_add(t, "],\"data_offsets\":[%zu,%zu]}", begin, begin + bytes);
    begin += bytes;
  }
  for (int i = 0; i < nx; i++) {
    size_t bytes = x[i].n * (size_t)x[i].esize;
    nn_text_add(t, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
                x[i].name, x[i].dtype, x[i].n, begin, begin + bytes);
    begin += bytes;
  }
  nn_text_add(t, "}");
  while (!t->oom && t->len % 8 != 0)
    nn_text_add(t, " ");
  return t->oom ? -1 : 0;
}

/* Little-endian bytes of n reals starting at src. */
static void nn_ckpt_encode(unsigned char *dst, const void *src, int real_size, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (real_size == 8) {
      uint64_t u;
      memcpy(&u, (const double *)src + i, 8);
      for (int b = 0; b < 8; b++)
        dst[8 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    } else {
      uint32_t u;
      memcpy(&u, (const float *)src + i, 4);
      for (int b = 0; b < 4; b++)
        dst[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    }
  }
}

/* The bit patterns of n words of esize (4 or 8) bytes, little-endian. */
static int nn_ckpt_write_words(FILE *f, const void *p, int esize, size_t n) {
  unsigned char buf[NN_CKPT_CHUNK * 8];
  for (size_t at = 0; at < n; at += NN_CKPT_CHUNK) {
    size_t k = n - at < NN_CKPT_CHUNK ? n - at : NN_CKPT_CHUNK;
    for (size_t i = 0; i < k; i++) {
      uint64_t u = 0;
      if (esize == 8) {
        memcpy(&u, (const char *)p + 8 * (at + i), 8);
      } else {
        uint32_t u32;
        memcpy(&u32, (const char *)p + 4 * (at + i), 4);
        u = u32;
      }
      for (int b = 0; b < esize; b++)
        buf[(size_t)esize * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    }
    if (fwrite(buf, (size_t)esize, k, f) != k)
      return -1;
  }
  return 0;
}

static int nn_ckpt_write_all(FILE *f, const nn_model *m, const nn_ctx *c, const nn_text *hdr,
                             const nn_extra *x, int nx) {
  unsigned char len[8];
  for (int b = 0; b < 8; b++)
    len[b] = (unsigned char)((uint64_t)hdr->len >> (8 * b));
  if (fwrite(len, 1, 8, f) != 8 || fwrite(hdr->s, 1, hdr->len, f) != hdr->len)
    return -1;
  unsigned char buf[NN_CKPT_CHUNK * 8];
  size_t rs = (size_t)m->real_size;
  for (int i = 0; i < m->nparams; i++) {
    const nn_param *p = &m->params[i];
    const char *src = (const char *)c->params + p->offset * rs;
    if (p->kind == NN_PARAM_INT64) { /* int64_t values (num_batches_tracked), I64 */
      for (size_t at = 0; at < p->size; at++) {
        int64_t v;
        memcpy(&v, src + 8 * at, 8);
        for (int b = 0; b < 8; b++)
          buf[b] = (unsigned char)((uint64_t)v >> (8 * b));
        if (fwrite(buf, 8, 1, f) != 1)
          return -1;
      }
      continue;
    }
    for (size_t at = 0; at < p->size; at += NN_CKPT_CHUNK) {
      size_t n = p->size - at < NN_CKPT_CHUNK ? p->size - at : NN_CKPT_CHUNK;
      nn_ckpt_encode(buf, src + at * rs, m->real_size, n);
      if (fwrite(buf, rs, n, f) != n)
        return -1;
    }
  }
  for (int i = 0; i < nx; i++)
    if (nn_ckpt_write_words(f, x[i].p, x[i].esize, x[i].n))
      return -1;
  if (fflush(f) != 0 || fsync(fileno(f)) != 0)
    return -1;
  return 0;
}

/* Every parameter's size must match its shape: the header is built from
 * shapes, the data from sizes. */
static int nn_ckpt_check_model(const nn_model *m, const char *path, char *err, size_t errlen) {
  if (m->real_size != 4 && m->real_size != 8) {
    snprintf(err, errlen, "%s: error: model '%s' has real_size %d (expected 4 or 8)", path,
             m->name, m->real_size);
    return -1;
  }
  for (int i = 0; i < m->nparams; i++) {
    const nn_param *p = &m->params[i];
    size_t slot = p->kind == NN_PARAM_INT64 ? (8 * p->size + (size_t)m->real_size - 1) /
                                                  (size_t)m->real_size
                                            : p->size;
    if (nn_param_elems(p) != p->size || p->offset + slot > m->params_size) {
      snprintf(err, errlen, "%s: error: parameter '%s' of model '%s' is inconsistent", path,
               p->name, m->name);
      return -1;
    }
  }
  return 0;
}

/* The training state's tensors: the optimizer state, the order of the
 * epoch in progress, the best epoch's parameters, the acts arena of a
 * stateful model inside an epoch (its hidden state carries over). */
static int nn_ckpt_state_extras(const nn_model *m, const nn_ctx *c, const nn_resume *r,
                                nn_extra *x) {
  const char *dt = m->real_size == 8 ? "F64" : "F32";
  int k = 0;
  if (m->state_size > 0)
    x[k++] = (nn_extra){"nncc.optimizer", dt, m->state_size, m->real_size, c->state};
  if (r->pos > 0)
    x[k++] = (nn_extra){"nncc.order", "I32", (size_t)r->nrows, 4, r->order};
  if (r->best_epoch > 0)
    x[k++] = (nn_extra){"nncc.best_params", dt, m->params_size, m->real_size, r->best_params};
  if (r->pos > 0 && m->stateful)
    x[k++] = (nn_extra){"nncc.acts", dt, m->acts_size, m->real_size, c->acts};
  return k;
}

static int nn_ckpt_save_any(const char *path, const nn_model *m, const nn_ctx *c,
                            const nn_resume *r, char *err, size_t errlen);

int nn_ckpt_save(const char *path, const nn_model *m, const nn_ctx *c, char *err,
                 size_t errlen) {
  return nn_ckpt_save_any(path, m, c, NULL, err, errlen);
}

int nn_ckpt_save_state(const char *path, const nn_model *m, const nn_ctx *c,
                       const nn_resume *r, char *err, size_t errlen) {
  return nn_ckpt_save_any(path, m, c, r, err, errlen);
}

static int nn_ckpt_save_any(const char *path, const nn_model *m, const nn_ctx *c,
                            const nn_resume *r, char *err, size_t errlen) {
  nn_extra x[NN_EXTRA_MAX];
  int nx = r ? nn_ckpt_state_extras(m, c, r, x) : 0;
  if (nn_ckpt_check_model(m, path, err, errlen))
    return -1;
  nn_text hdr = {0};
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 5);
  if (c->nvocab < 0 || c->nvocab > 256) {
    snprintf(err, errlen, "%s: error: the vocabulary has %d characters (expected 0 to 256)", path,
             c->nvocab);
    free(tmp);
    return -1;
  }
  if (nn_ckpt_header(m, c, r, x, nx, &hdr) || !tmp) {
    snprintf(err, errlen, "%s: error: out of memory", path);
    free(hdr.s);
    free(tmp);
    return -1;
  }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  int rc = -1;
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot write: %s", tmp, strerror(errno));
  } else {
    int wrc = nn_ckpt_write_all(f, m, c, &hdr, x, nx);
    int e = errno;
    if (fclose(f) != 0 && wrc == 0) {
      wrc = -1;
      e = errno;
    }
    if (wrc == 0 && rename(tmp, path) != 0) {
      wrc = -1;
      e = errno;
    }
    if (wrc != 0) {
      snprintf(err, errlen, "%s: error: cannot write: %s", path, strerror(e));
      remove(tmp);
    }
    rc = wrc;
  }
  free(hdr.s);
  free(tmp);
  return rc;
}

/* ----------------------------------------------------------------- loading */
typedef struct nn_ckload {
  const char *path;
  const nn_model *m;
  char *err;
  size_t errlen;
  FILE *f;
  uint64_t hlen;   /* JSON header bytes */
  uint64_t dsize;  /* data section bytes: file size - 8 - hlen */
  cJSON *root;
  const char *model; /* "model" from the metadata, or NULL */
  const char *hash;  /* "hash" from the metadata (hex), or NULL */
  int *dbytes;       /* per parameter: 4 (F32) or 8 (F64) */
  uint64_t *begin;   /* per parameter: offset in the data section */
  unsigned char vocab[256]; /* "vocab" from the metadata */
  int nvocab;               /* 0: none */
} nn_ckload;

/* "path: error: <message>"; always returns -1. */
static int nn_ckpt_fail(nn_ckload *L, const char *fmt, ...) {
  int k = snprintf(L->err, L->errlen, "%s: error: ", L->path);
  if (k >= 0 && (size_t)k < L->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err + k, L->errlen - (size_t)k, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int nn_json_uint(const cJSON *j, uint64_t *v) {
  if (!cJSON_IsNumber(j))
    return -1;
  double d = j->valuedouble;
  if (!(d >= 0 && d < 9007199254740992.0) || d != floor(d))
    return -1;
  *v = (uint64_t)d;
  return 0;
}

/* Size, header length and the parsed header. */
static int nn_ckpt_open(nn_ckload *L) {
  L->f = fopen(L->path, "rb");
  if (!L->f)
    return nn_ckpt_fail(L, "cannot open: %s", strerror(errno));
  if (fseek(L->f, 0, SEEK_END) != 0)
    return nn_ckpt_fail(L, "cannot read: %s", strerror(errno));
  long size = ftell(L->f);
  rewind(L->f);
  unsigned char len[8];
  if (size < 8 || fread(len, 1, 8, L->f) != 8)
    return nn_ckpt_fail(L, "too short for a checkpoint (%ld bytes)", size < 0 ? 0L : size);
  L->hlen = 0;
  for (int b = 7; b >= 0; b--)
    L->hlen = L->hlen << 8 | len[b];
  if (L->hlen > (uint64_t)size - 8)
    return nn_ckpt_fail(L, "header length %llu exceeds the file size (%ld bytes): "
                           "truncated, or not a checkpoint",
                        (unsigned long long)L->hlen, size);
  if (L->hlen > NN_CKPT_MAX_HEADER)
    return nn_ckpt_fail(L, "header length %llu is too large", (unsigned long long)L->hlen);
  L->dsize = (uint64_t)size - 8 - L->hlen;
  char *h = malloc((size_t)L->hlen + 1);
  if (!h)
    return nn_ckpt_fail(L, "out of memory");
  if (fread(h, 1, (size_t)L->hlen, L->f) != L->hlen) {
    free(h);
    return nn_ckpt_fail(L, "cannot read the header");
  }
  h[L->hlen] = '\0';
  const char *end = NULL;
  L->root = cJSON_ParseWithLengthOpts(h, (size_t)L->hlen, &end, 0);
  size_t at = end ? (size_t)(end - h) : 0;
  while (L->root && at < L->hlen && (h[at] == ' ' || h[at] == '\t' || h[at] == '\n' || h[at] == '\r'))
    at++;
  int bad = !L->root || at != L->hlen;
  if (!L->root) {
    const char *e = cJSON_GetErrorPtr();
    at = e && e >= h && e <= h + L->hlen ? (size_t)(e - h) : 0;
  }
  free(h);
  if (bad)
    return nn_ckpt_fail(L, "the header is not valid JSON (at byte %zu of the header)", at);
  if (!cJSON_IsObject(L->root))
    return nn_ckpt_fail(L, "the header is not a JSON object");
  return 0;
}

static int nn_hex_digit(char ch) {
  return ch >= '0' && ch <= '9' ? ch - '0'
         : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                  : -1;
}

/* "vocab": two hex digits a byte, 1 to 256 distinct bytes, at most the
 * model's vocabulary. */
static int nn_ckpt_vocab(nn_ckload *L, const cJSON *v) {
  if (!v)
    return 0;
  if (!cJSON_IsString(v))
    return nn_ckpt_fail(L, "__metadata__ vocab is not a string");
  const char *s = v->valuestring;
  size_t n = strlen(s);
  if (n == 0 || n % 2 != 0 || n > 512)
    return nn_ckpt_fail(L, "__metadata__ vocab is malformed: %zu hex digits, expected an even "
                           "number from 2 to 512 (two a character)", n);
  int seen[256] = {0};
  for (size_t i = 0; i < n; i += 2) {
    int hi = nn_hex_digit(s[i]), lo = nn_hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0)
      return nn_ckpt_fail(L, "__metadata__ vocab is malformed: '%c%c' at digit %zu is not hex",
                          s[i], s[i + 1], i + 1);
    int b = hi * 16 + lo;
    if (seen[b])
      return nn_ckpt_fail(L, "__metadata__ vocab is malformed: byte 0x%02x appears twice", b);
    seen[b] = 1;
    L->vocab[i / 2] = (unsigned char)b;
  }
  int nv = (int)(n / 2);
  if (L->m->vocab > 0 && nv > L->m->vocab)
    return nn_ckpt_fail(L, "__metadata__ vocab has %d characters, the model '%s' holds %d", nv,
                        L->m->name, L->m->vocab);
  L->nvocab = nv;
  return 0;
}

static int nn_ckpt_metadata(nn_ckload *L) {
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(L->root, "__metadata__");
  if (!md)
    return 0;
  if (!cJSON_IsObject(md))
    return nn_ckpt_fail(L, "__metadata__ is not an object");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "model");
  if (cJSON_IsString(name))
    L->model = name->valuestring;
  const cJSON *hash = cJSON_GetObjectItemCaseSensitive(md, "hash");
  if (cJSON_IsString(hash))
    L->hash = hash->valuestring;
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(md, "nncc_format");
  if (fmt && !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, "1") == 0))
    return nn_ckpt_fail(L, "nncc_format %s is not supported (expected \"1\")",
                        cJSON_IsString(fmt) ? fmt->valuestring : "(not a string)");
  return nn_ckpt_vocab(L, cJSON_GetObjectItemCaseSensitive(md, "vocab"));
}

/* Shape of tensor `t` into shape[]; the same rank limit as nn_param. */
static int nn_ckpt_shape(nn_ckload *L, const char *name, const cJSON *t, int *ndim,
                         long long *shape) {
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "shape");
  int n = cJSON_IsArray(s) ? cJSON_GetArraySize(s) : -1;
  if (n < 0 || n > 8)
    return nn_ckpt_fail(L, "tensor '%s' has a malformed shape", name);
  for (int i = 0; i < n; i++) {
    uint64_t v;
    if (nn_json_uint(cJSON_GetArrayItem(s, i), &v))
      return nn_ckpt_fail(L, "tensor '%s' has a malformed shape", name);
    shape[i] = (long long)v;
  }
  *ndim = n;
  return 0;
}

/* Check tensor i of the model against the header: present, dtype, shape,
 * data_offsets inside the data section and of the right length. */
static int nn_ckpt_tensor(nn_ckload *L, int i) {
  const nn_param *p = &L->m->params[i];
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(L->root, p->name);
  if (!t) {
    if (L->model)
      return nn_ckpt_fail(L, "no tensor '%s'", p->name);
    return nn_ckpt_fail(L, "no tensor '%s' (is this a checkpoint of another model?)", p->name);
  }
  if (!cJSON_IsObject(t))
    return nn_ckpt_fail(L, "tensor '%s' is not an object", p->name);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
  const char *dtype = cJSON_IsString(dt) ? dt->valuestring : NULL;
  if (p->kind == NN_PARAM_INT64) { /* a counter (num_batches_tracked): I64 only */
    if (!dtype || strcmp(dtype, "I64") != 0)
      return nn_ckpt_fail(L, "tensor '%s' has dtype %s%s%s; it is an int64 buffer (I64)",
                          p->name, dtype ? "'" : "", dtype ? dtype : "(none)", dtype ? "'" : "");
  } else if (!dtype || (strcmp(dtype, "F32") != 0 && strcmp(dtype, "F64") != 0)) {
    return nn_ckpt_fail(L, "tensor '%s' has dtype %s%s%s; only F32 and F64 are supported",
                        p->name, dtype ? "'" : "", dtype ? dtype : "(none)", dtype ? "'" : "");
  }
  L->dbytes[i] = dtype[1] == '6' || dtype[0] == 'I' ? 8 : 4;
  int ndim = 0;
  long long shape[8], want[4];
  if (nn_ckpt_shape(L, p->name, t, &ndim, shape))
    return -1;
  for (int d = 0; d < p->ndim; d++)
    want[d] = p->shape[d];
  int same = ndim == p->ndim;
  for (int d = 0; same && d < ndim; d++)
    same = shape[d] == want[d];
  if (!same) {
    char have[160], need[160];
    nn_shape_text(have, sizeof have, ndim, shape);
    nn_shape_text(need, sizeof need, p->ndim, want);
    return nn_ckpt_fail(L, "tensor '%s' has shape %s, the model '%s' needs %s", p->name, have,
                        L->m->name, need);
  }
  const cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
  uint64_t b, e;
  if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
      nn_json_uint(cJSON_GetArrayItem(off, 0), &b) || nn_json_uint(cJSON_GetArrayItem(off, 1), &e) || e < b)
    return nn_ckpt_fail(L, "tensor '%s' has malformed data_offsets", p->name);
  if (e > L->dsize)
    return nn_ckpt_fail(L, "tensor '%s' has data_offsets [%llu, %llu] outside the data section "
                           "(%llu bytes): truncated file?",
                        p->name, (unsigned long long)b, (unsigned long long)e,
                        (unsigned long long)L->dsize);
  uint64_t need = (uint64_t)p->size * (uint64_t)L->dbytes[i];
  if (e - b != need)
    return nn_ckpt_fail(L, "tensor '%s' has data_offsets [%llu, %llu] (%llu bytes), but %s with "
                           "%zu elements takes %llu",
                        p->name, (unsigned long long)b, (unsigned long long)e,
                        (unsigned long long)(e - b), dtype, p->size, (unsigned long long)need);
  L->begin[i] = b;
  return 0;
}

/* Every entry of the header but __metadata__ must be a model parameter. */
static int nn_ckpt_no_extra(nn_ckload *L) {
  const cJSON *t;
  cJSON_ArrayForEach(t, L->root) {
    if (!t->string || strcmp(t->string, "__metadata__") == 0 ||
        strncmp(t->string, "nncc.", 5) == 0) /* the training state, see below */
      continue;
    int found = 0;
    for (int i = 0; i < L->m->nparams && !found; i++)
      found = strcmp(L->m->params[i].name, t->string) == 0;
    if (!found)
      return nn_ckpt_fail(L, "unexpected tensor '%s' (the model '%s' has no such parameter)",
                          t->string, L->m->name);
  }
  return 0;
}

/* After a refusal: when the file says it holds another model (its name
 * or its layout hash differ from the model's), say so first, naming both,
 * then the difference found.  Returns -1. */
static int nn_ckpt_foreign(nn_ckload *L) {
  char want[17];
  snprintf(want, sizeof want, "%016llx", (unsigned long long)L->m->hash);
  int other_name = L->model && strcmp(L->model, L->m->name) != 0;
  int other_hash = L->hash && strcmp(L->hash, want) != 0;
  if (!other_name && !other_hash)
    return -1;
  size_t k = strlen(L->path) + strlen(": error: ");
  if (strlen(L->err) < k)
    return -1;
  char *why = strdup(L->err + k);
  if (!why)
    return -1;
  char mine[300], theirs[300];
  snprintf(mine, sizeof mine, "model '%s' (layout %s)", L->m->name, want);
  snprintf(theirs, sizeof theirs, "model '%s' (layout %s)", L->model ? L->model : "?",
           L->hash ? L->hash : "unknown");
  nn_ckpt_fail(L, "this is a checkpoint of %s, not of %s: %s", theirs, mine, why);
  free(why);
  return -1;
}

/* Little-endian F32/F64 bytes to n reals of the model's type. */
static void nn_ckpt_decode(void *dst, int real_size, const unsigned char *src, int dbytes,
                           size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t u = 0;
    for (int b = dbytes - 1; b >= 0; b--)
      u = u << 8 | src[(size_t)dbytes * i + (size_t)b];
    double v;
    if (dbytes == 8) {
      memcpy(&v, &u, 8);
    } else {
      uint32_t u32 = (uint32_t)u;
      float fv;
      memcpy(&fv, &u32, 4);
      v = fv;
    }
    if (real_size == 8)
      ((double *)dst)[i] = v;
    else
      ((float *)dst)[i] = (float)v;
  }
}

/* Read every tensor into `dst` (params_size reals). */
static int nn_ckpt_read_data(nn_ckload *L, char *dst) {
  unsigned char buf[NN_CKPT_CHUNK * 8];
  size_t rs = (size_t)L->m->real_size;
  for (int i = 0; i < L->m->nparams; i++) {
    const nn_param *p = &L->m->params[i];
    uint64_t at = 8 + L->hlen + L->begin[i];
    if (at > 0x7fffffffffffffffULL || fseeko(L->f, (off_t)at, SEEK_SET) != 0)
      return nn_ckpt_fail(L, "cannot read tensor '%s': %s", p->name, strerror(errno));
    if (p->kind == NN_PARAM_INT64) { /* little-endian int64_t values */
      for (size_t k = 0; k < p->size; k++) {
        if (fread(buf, 8, 1, L->f) != 1)
          return nn_ckpt_fail(L, "cannot read tensor '%s': file ends early", p->name);
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--)
          u = u << 8 | buf[b];
        int64_t v = (int64_t)u;
        memcpy(dst + p->offset * rs + 8 * k, &v, 8);
      }
      continue;
    }
    for (size_t k = 0; k < p->size; k += NN_CKPT_CHUNK) {
      size_t n = p->size - k < NN_CKPT_CHUNK ? p->size - k : NN_CKPT_CHUNK;
      if (fread(buf, (size_t)L->dbytes[i], n, L->f) != n)
        return nn_ckpt_fail(L, "cannot read tensor '%s': file ends early", p->name);
      nn_ckpt_decode(dst + (p->offset + k) * rs, L->m->real_size, buf, L->dbytes[i], n);
    }
  }
  return 0;
}

static int nn_ckpt_load_all(nn_ckload *L, nn_ctx *c) {
  if (nn_ckpt_check_model(L->m, L->path, L->err, L->errlen) || nn_ckpt_open(L) ||
      nn_ckpt_metadata(L))
    return -1;
  size_t np = (size_t)L->m->nparams;
  L->dbytes = malloc((np + 1) * sizeof *L->dbytes);
  L->begin = malloc((np + 1) * sizeof *L->begin);
  if (!L->dbytes || !L->begin)
    return nn_ckpt_fail(L, "out of memory");
  for (int i = 0; i < L->m->nparams; i++)
    if (nn_ckpt_tensor(L, i))
      return nn_ckpt_foreign(L);
  if (nn_ckpt_no_extra(L))
    return nn_ckpt_foreign(L);
  /* Decode into a copy so that a failed load leaves the parameters as
   * they were. */
  size_t bytes = L->m->params_size * (size_t)L->m->real_size;
  char *tmp = malloc(bytes + 1);
  if (!tmp)
    return nn_ckpt_fail(L, "out of memory");
  memcpy(tmp, c->params, bytes);
  int rc = nn_ckpt_read_data(L, tmp);
  if (rc == 0) {
    memcpy(c->params, tmp, bytes);
    memset(c->vocab, 0, sizeof c->vocab);
    memcpy(c->vocab, L->vocab, (size_t)L->nvocab);
    c->nvocab = L->nvocab;
  }
  free(tmp);
  return rc;
}

static void nn_ckload_close(nn_ckload *L) {
  if (L->f)
    fclose(L->f);
  cJSON_Delete(L->root);
  free(L->dbytes);
  free(L->begin);
}

int nn_ckpt_load(const char *path, const nn_model *m, nn_ctx *c, char *err, size_t errlen) {
  nn_ckload L = {.path = path, .m = m, .err = err, .errlen = errlen};
  int rc = nn_ckpt_load_all(&L, c);
  nn_ckload_close(&L);
  return rc;
}

/* ---------------------------------------------------- the training state */

/* Metadata value `key` of the training state as text, or NULL after a
 * message. */
static const char *nn_state_text(nn_ckload *L, const char *key) {
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(L->root, "__metadata__");
  const cJSON *v = md ? cJSON_GetObjectItemCaseSensitive(md, key) : NULL;
  if (!cJSON_IsString(v)) {
    nn_ckpt_fail(L, "the training state lacks __metadata__ %s (a string)", key);
    return NULL;
  }
  return v->valuestring;
}

static int nn_state_bad(nn_ckload *L, const char *key, const char *v, const char *want) {
  return nn_ckpt_fail(L, "__metadata__ %s is '%s', expected %s", key, v, want);
}

/* A decimal uint64_t, digits only; 0 or -1. */
static int nn_parse_dec(const char *v, uint64_t *u) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (*v < '0' || *v > '9' || *end || errno)
    return -1;
  *u = (uint64_t)x;
  return 0;
}

/* A whole number in [lo, hi] (0 <= lo). */
static int nn_state_int(nn_ckload *L, const char *key, long long lo, long long hi,
                        long long *out) {
  const char *v = nn_state_text(L, key);
  uint64_t u;
  if (!v)
    return -1;
  if (nn_parse_dec(v, &u) || u > (uint64_t)hi || u < (uint64_t)lo) {
    char want[96];
    snprintf(want, sizeof want, "a whole number from %lld to %lld", lo, hi);
    return nn_state_bad(L, key, v, want);
  }
  *out = (long long)u;
  return 0;
}

/* Any uint64_t (a seed, a step count). */
static int nn_state_u64(nn_ckload *L, const char *key, uint64_t *out) {
  const char *v = nn_state_text(L, key);
  if (!v)
    return -1;
  if (nn_parse_dec(v, out))
    return nn_state_bad(L, key, v, "a whole number from 0 to 2^64 - 1");
  return 0;
}

/* n doubles in C's hex form (%a), separated by spaces; `finite`: each
 * finite. */
static int nn_state_doubles(nn_ckload *L, const char *key, int n, int finite, double *out) {
  const char *v = nn_state_text(L, key);
  if (!v)
    return -1;
  const char *p = v;
  for (int i = 0; i < n; i++) {
    char *end;
    out[i] = strtod(p, &end);
    if (end == p || (finite && !isfinite(out[i])) || (*end && *end != ' '))
      return nn_state_bad(L, key, v, n == 1 ? "a number" : "numbers");
    p = *end ? end + 1 : end;
  }
  return *p ? nn_state_bad(L, key, v, n == 1 ? "one number" : "more numbers") : 0;
}

/* nncc.rng: 32 hex digits, the stream's state then its increment (odd). */
static int nn_state_rng(nn_ckload *L, nn_rng *r) {
  const char *v = nn_state_text(L, "nncc.rng");
  if (!v)
    return -1;
  uint64_t w[2] = {0, 0};
  size_t n = strlen(v);
  for (size_t i = 0; i < n && n == 32; i++) {
    int d = nn_hex_digit(v[i]);
    if (d < 0)
      n = 0;
    else
      w[i / 16] = w[i / 16] << 4 | (uint64_t)d;
  }
  if (n != 32 || (w[1] & 1) == 0)
    return nn_state_bad(L, "nncc.rng", v, "32 hex digits (a PCG32 state and odd increment)");
  r->state = w[0];
  r->inc = w[1];
  return 0;
}

/* The scalars of the state, each checked against the others. */
static int nn_state_scalars(nn_ckload *L, nn_ctx *c, nn_resume *r) {
  long long epochs, epoch, pos, rows, best_epoch, since;
  uint64_t seed, step;
  double lr[1], sums[3], more[2], figs[4];
  if (nn_state_u64(L, "nncc.seed", &seed) ||
      nn_state_doubles(L, "nncc.lr", 1, 1, lr) ||
      nn_state_int(L, "nncc.epochs", 0, INT_MAX, &epochs) ||
      nn_state_int(L, "nncc.epoch", 0, INT_MAX, &epoch) ||
      nn_state_int(L, "nncc.rows", 1, INT_MAX, &rows) ||
      nn_state_int(L, "nncc.pos", 0, rows, &pos) ||
      nn_state_u64(L, "nncc.step", &step) || nn_state_rng(L, &r->rng) ||
      nn_state_doubles(L, "nncc.loss", 1, 1, sums) ||
      nn_state_doubles(L, "nncc.correct", 1, 1, sums + 1) ||
      nn_state_doubles(L, "nncc.seconds", 1, 1, sums + 2) ||
      nn_state_doubles(L, "nncc.elapsed", 1, 1, more) ||
      nn_state_doubles(L, "nncc.best", 1, 0, more + 1) ||
      nn_state_int(L, "nncc.best_epoch", 0, epoch, &best_epoch) ||
      nn_state_int(L, "nncc.since", 0, epoch, &since) ||
      nn_state_doubles(L, "nncc.best_figures", 4, 0, figs))
    return -1;
  if (!(lr[0] > 0))
    return nn_state_bad(L, "nncc.lr", nn_state_text(L, "nncc.lr"), "a rate > 0");
  *r = (nn_resume){.seed = seed, .lr = lr[0], .epochs = (int)epochs,
                   .epoch = (int)epoch, .pos = (int)pos, .nrows = (int)rows, .rng = r->rng,
                   .loss = sums[0], .correct = sums[1], .seconds = sums[2],
                   .elapsed = more[0], .best = more[1], .best_epoch = (int)best_epoch,
                   .since = (int)since, .best_tr = {figs[0], figs[1]},
                   .best_te = {figs[2], figs[3]}};
  c->step = step;
  return 0;
}

/* State tensor `name`: dtype, shape [n], inside the data section; its
 * bit patterns (words of esize bytes) into dst. */
static int nn_state_tensor(nn_ckload *L, const char *name, const char *dtype, size_t n,
                           int esize, void *dst) {
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(L->root, name);
  if (!cJSON_IsObject(t))
    return nn_ckpt_fail(L, "the training state lacks tensor '%s'", name);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
  if (!cJSON_IsString(dt) || strcmp(dt->valuestring, dtype) != 0)
    return nn_ckpt_fail(L, "tensor '%s' has dtype %s, expected %s (saved by a build with "
                           "another real type?)",
                        name, cJSON_IsString(dt) ? dt->valuestring : "(none)", dtype);
  int ndim;
  long long shape[8];
  if (nn_ckpt_shape(L, name, t, &ndim, shape))
    return -1;
  if (ndim != 1 || (unsigned long long)shape[0] != (unsigned long long)n)
    return nn_ckpt_fail(L, "tensor '%s' should have shape [%zu]", name, n);
  const cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
  uint64_t b, e;
  if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
      nn_json_uint(cJSON_GetArrayItem(off, 0), &b) ||
      nn_json_uint(cJSON_GetArrayItem(off, 1), &e) || e < b || e > L->dsize ||
      e - b != (uint64_t)n * (uint64_t)esize)
    return nn_ckpt_fail(L, "tensor '%s' has malformed data_offsets (or the file is truncated)",
                        name);
  if (fseeko(L->f, (off_t)(8 + L->hlen + b), SEEK_SET) != 0)
    return nn_ckpt_fail(L, "cannot read tensor '%s': %s", name, strerror(errno));
  unsigned char buf[NN_CKPT_CHUNK * 8];
  for (size_t at = 0; at < n; at += NN_CKPT_CHUNK) {
    size_t k = n - at < NN_CKPT_CHUNK ? n - at : NN_CKPT_CHUNK;
    if (fread(buf, (size_t)esize, k, L->f) != k)
      return nn_ckpt_fail(L, "cannot read tensor '%s': file ends early", name);
    for (size_t i = 0; i < k; i++) {
      uint64_t u = 0;
      for (int by = esize - 1; by >= 0; by--)
        u = u << 8 | buf[(size_t)esize * i + (size_t)by];
      if (esize == 8) {
        memcpy((char *)dst + 8 * (at + i), &u, 8);
      } else {
        uint32_t u32 = (uint32_t)u;
        memcpy((char *)dst + 4 * (at + i), &u32, 4);
      }
    }
  }
  return 0;
}

/* nncc.order must be a permutation of the rows. */
static int nn_state_order(nn_ckload *L, nn_resume *r) {
  char *seen = calloc((size_t)r->nrows + 1, 1);
  if (!seen)
    return nn_ckpt_fail(L, "out of memory");
  int bad = -1;
  for (int i = 0; i < r->nrows && bad < 0; i++) {
    int32_t v = r->order[i];
    if (v < 0 || v >= r->nrows || seen[v])
      bad = i;
    else
      seen[v] = 1;
  }
  free(seen);
  if (bad >= 0)
    return nn_ckpt_fail(L, "tensor 'nncc.order' is not an order of the %d rows (element %d is "
                           "%d)", r->nrows, bad, (int)r->order[bad]);
  return 0;
}

static int nn_state_load_all(nn_ckload *L, nn_ctx *c, nn_resume *r) {
  const nn_model *m = L->m;
  const char *dt = m->real_size == 8 ? "F64" : "F32";
  size_t rs = (size_t)m->real_size;
  if (nn_ckpt_load_all(L, c))
    return -1;
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(L->root, "__metadata__");
  if (!md || !cJSON_GetObjectItemCaseSensitive(md, "nncc.state"))
    return nn_ckpt_fail(L, "holds parameters only (written by --save, or not by nncc), no "
                           "training state to resume from: --load it to start a new run from "
                           "its parameters, or resume from a file written by --checkpoint");
  if (nn_state_scalars(L, c, r))
    return -1;
  if (m->state_size > 0 &&
      nn_state_tensor(L, "nncc.optimizer", dt, m->state_size, (int)rs, c->state))
    return -1;
  if (r->pos > 0) {
    if (!(r->order = malloc((size_t)r->nrows * sizeof *r->order + 1)))
      return nn_ckpt_fail(L, "out of memory");
    if (nn_state_tensor(L, "nncc.order", "I32", (size_t)r->nrows, 4, r->order) ||
        nn_state_order(L, r))
      return -1;
    if (m->stateful && nn_state_tensor(L, "nncc.acts", dt, m->acts_size, (int)rs, c->acts))
      return -1;
  }
  if (r->best_epoch > 0) {
    if (!(r->best_params = malloc(m->params_size * rs + 1)))
      return nn_ckpt_fail(L, "out of memory");
    if (nn_state_tensor(L, "nncc.best_params", dt, m->params_size, (int)rs, r->best_params))
      return -1;
  }
  return 0;
}

int nn_ckpt_load_state(const char *path, const nn_model *m, nn_ctx *c, nn_resume *r,
                       char *err, size_t errlen) {
  nn_ckload L = {.path = path, .m = m, .err = err, .errlen = errlen};
  memset(r, 0, sizeof *r);
  int rc = nn_state_load_all(&L, c, r);
  nn_ckload_close(&L);
  if (rc)
    nn_resume_free(r);
  return rc;
}

void nn_resume_free(nn_resume *r) {
  free(r->order);
  free(r->best_params);
  r->order = NULL;
  r->best_params = NULL;
}
