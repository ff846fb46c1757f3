/* util.c — allocation that cannot fail, and "did you mean" helpers. */
#include "nncc.h"

#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory allocating %zu bytes", n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) die("out of memory allocating %zu x %zu bytes", n, size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) die("out of memory reallocating %zu bytes", n);
  return q;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n) {
  size_t len = strnlen(s, n);
  char *p = xmalloc(len + 1);
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
  char small[256];
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n < 0) die("xasprintf: vsnprintf failed");
  char *p = xmalloc((size_t)n + 1);
  if ((size_t)n < sizeof small)
    memcpy(p, small, (size_t)n + 1);
  else
    vsnprintf(p, (size_t)n + 1, fmt, again);
  va_end(again);
  return p;
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = xvasprintf(fmt, ap);
  va_end(ap);
  return p;
}

/* Optimal-string-alignment distance: Levenshtein (insert, delete,
 * substitute) plus the transposition of two adjacent characters, so that
 * the common typo 'rleu' for 'relu' is one edit away. */
int edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  /* three rows: i-2, i-1, i */
  int *r0 = xmalloc((m + 1) * sizeof *r0);
  int *r1 = xmalloc((m + 1) * sizeof *r1);
  int *r2 = xmalloc((m + 1) * sizeof *r2);
  for (size_t j = 0; j <= m; j++) r1[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    r2[0] = (int)i;
    for (size_t j = 1; j <= m; j++) {
      int cost = a[i - 1] != b[j - 1];
      int d = r1[j] + 1;                            /* delete */
      if (r2[j - 1] + 1 < d) d = r2[j - 1] + 1;     /* insert */
      if (r1[j - 1] + cost < d) d = r1[j - 1] + cost; /* substitute */
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          r0[j - 2] + 1 < d)
        d = r0[j - 2] + 1;                          /* transpose */
      r2[j] = d;
    }
    int *t = r0;
    r0 = r1;
    r1 = r2;
    r2 = t;
  }
  int d = r1[m];
  free(r0);
  free(r1);
  free(r2);
  return d;
}

const char *closest_word(const char *word, const char *const *cands, int n) {
  int len = (int)strlen(word);
  int limit = len / 3 > 1 ? len / 3 : 1;
  const char *best = NULL;
  int bestd = limit + 1;
  for (int i = 0; i < n; i++) {
    if (!cands[i]) continue;
    int d = edit_distance(word, cands[i]);
    if (d < bestd) {
      bestd = d;
      best = cands[i];
    }
  }
  return best;
}
