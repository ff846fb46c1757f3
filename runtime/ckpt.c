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

#include <cjson/cJSON.h>
#include <errno.h>
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
static int nn_ckpt_header(const nn_model *m, const nn_ctx *c, nn_text *t) {
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

static int nn_ckpt_write_all(FILE *f, const nn_model *m, const nn_ctx *c, const nn_text *hdr) {
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

int nn_ckpt_save(const char *path, const nn_model *m, const nn_ctx *c, char *err,
                 size_t errlen) {
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
  if (nn_ckpt_header(m, c, &hdr) || !tmp) {
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
    int wrc = nn_ckpt_write_all(f, m, c, &hdr);
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
      return nn_ckpt_fail(L, "no tensor '%s' (is this a checkpoint of another model? it says model '%s')",
                          p->name, L->model);
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
    if (!t->string || strcmp(t->string, "__metadata__") == 0)
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
      return -1;
  if (nn_ckpt_no_extra(L))
    return -1;
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

int nn_ckpt_load(const char *path, const nn_model *m, nn_ctx *c, char *err, size_t errlen) {
  nn_ckload L = {.path = path, .m = m, .err = err, .errlen = errlen};
  int rc = nn_ckpt_load_all(&L, c);
  if (L.f)
    fclose(L.f);
  cJSON_Delete(L.root);
  free(L.dbytes);
  free(L.begin);
  return rc;
}
