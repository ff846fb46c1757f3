/* stcmp.c — compare the tensors of two safetensors files within a
 * tolerance, read here with cJSON and nothing of nncc's runtime (so the
 * trainer's own checkpoint code is not what checks it).
 *
 *   stcmp A B RTOL ATOL
 *
 * Both files must hold the same tensor names, dtypes (F32, F64, I64) and
 * shapes.  Elements a, b agree when |a - b| <= ATOL + RTOL * max(|a|, |b|)
 * (I64: exactly).  Prints one line: the tensors and elements compared, the
 * largest absolute and relative difference and the tensor where it is.
 * Exit status: 0 all agree, 1 some differ, 2 unreadable or different
 * layouts (with a message naming the file).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct st_file {
  const char *path;
  unsigned char *buf; /* the whole file */
  size_t len;
  cJSON *header;
  const unsigned char *data; /* the data section */
  size_t data_len;
} st_file;

static int st_fail(const char *path, const char *what) {
  fprintf(stderr, "%s: error: %s\n", path, what);
  return -1;
}

static int st_open(st_file *f, const char *path) {
  memset(f, 0, sizeof *f);
  f->path = path;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return st_fail(path, "cannot open");
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  if (n < 8 || !(f->buf = malloc((size_t)n)) || fread(f->buf, 1, (size_t)n, fp) != (size_t)n) {
    fclose(fp);
    return st_fail(path, "cannot read, or shorter than 8 bytes");
  }
  fclose(fp);
  f->len = (size_t)n;
  uint64_t h = 0;
  for (int i = 7; i >= 0; i--)
    h = h << 8 | f->buf[i];
  if (h > f->len - 8)
    return st_fail(path, "header length past the end of the file");
  f->header = cJSON_ParseWithLength((const char *)f->buf + 8, (size_t)h);
  if (!cJSON_IsObject(f->header))
    return st_fail(path, "header is not a JSON object");
  f->data = f->buf + 8 + h;
  f->data_len = f->len - 8 - (size_t)h;
  return 0;
}

/* Element k of tensor t as a double (I64 exactly when |v| < 2^53). */
static double st_elem(const unsigned char *p, const char *dtype, size_t k) {
  if (!strcmp(dtype, "F32")) {
    float v;
    memcpy(&v, p + 4 * k, 4);
    return v;
  }
  if (!strcmp(dtype, "F64")) {
    double v;
    memcpy(&v, p + 8 * k, 8);
    return v;
  }
  int64_t v;
  memcpy(&v, p + 8 * k, 8);
  return (double)v;
}

static size_t st_width(const char *dtype) {
  return !strcmp(dtype, "F32") ? 4 : !strcmp(dtype, "F64") || !strcmp(dtype, "I64") ? 8 : 0;
}

/* The bytes of tensor t in f, its dtype and element count; NULL on a bad
 * entry. */
static const unsigned char *st_tensor(const st_file *f, const cJSON *t, const char **dtype,
                                      size_t *n) {
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
  const cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
  if (!cJSON_IsString(dt) || !st_width(dt->valuestring) || !cJSON_IsArray(sh) ||
      cJSON_GetArraySize(off) != 2)
    return NULL;
  *dtype = dt->valuestring;
  *n = 1;
  const cJSON *d;
  cJSON_ArrayForEach(d, sh) *n *= (size_t)d->valuedouble;
  double b = cJSON_GetArrayItem(off, 0)->valuedouble, e = cJSON_GetArrayItem(off, 1)->valuedouble;
  if (b < 0 || e < b || e > (double)f->data_len || (size_t)(e - b) != *n * st_width(*dtype))
    return NULL;
  return f->data + (size_t)b;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: stcmp A.safetensors B.safetensors RTOL ATOL\n");
    return 2;
  }
  double rtol = atof(argv[3]), atol = atof(argv[4]);
  st_file a, b;
  if (st_open(&a, argv[1]) || st_open(&b, argv[2]))
    return 2;
  int ntensors = 0, nbad = 0;
  size_t nelem = 0;
  double max_abs = 0, max_rel = 0;
  const char *where = "-";
  const cJSON *ta;
  cJSON_ArrayForEach(ta, a.header) {
    if (!strcmp(ta->string, "__metadata__"))
      continue;
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(b.header, ta->string);
    const char *da, *db;
    size_t na, nb;
    const unsigned char *pa = st_tensor(&a, ta, &da, &na);
    const unsigned char *pb = tb ? st_tensor(&b, tb, &db, &nb) : NULL;
    if (!pa)
      return st_fail(a.path, "a tensor entry is malformed"), 2;
    if (!pb || strcmp(da, db) || na != nb) {
      fprintf(stderr, "%s: error: tensor %s is missing or has another dtype or size than in %s\n",
              b.path, ta->string, a.path);
      return 2;
    }
    ntensors++;
    for (size_t k = 0; k < na; k++, nelem++) {
      double x = st_elem(pa, da, k), y = st_elem(pb, db, k);
      double d = fabs(x - y), big = fmax(fabs(x), fabs(y));
      int exact = !strcmp(da, "I64");
      if (!(exact ? d == 0 : d <= atol + rtol * big))
        nbad++;
      if (d > max_abs)
        max_abs = d;
      if (big > 0 && d / big > max_rel) {
        max_rel = d / big;
        where = ta->string;
      }
    }
  }
  int nb_b = 0;
  const cJSON *tb;
  cJSON_ArrayForEach(tb, b.header) nb_b += strcmp(tb->string, "__metadata__") != 0;
  if (nb_b != ntensors) {
    fprintf(stderr, "%s: error: %d tensors, %s has %d\n", b.path, nb_b, a.path, ntensors);
    return 2;
  }
  printf("stcmp: %d tensors, %zu elements, max abs diff %.3g, max rel diff %.3g (%s), "
         "%d beyond rtol %g atol %g\n", ntensors, nelem, max_abs, max_rel, where, nbad, rtol, atol);
  cJSON_Delete(a.header);
  cJSON_Delete(b.header);
  free(a.buf);
  free(b.buf);
  return nbad ? 1 : 0;
}
