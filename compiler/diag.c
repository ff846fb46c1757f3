/* diag.c — gcc-style diagnostics that quote the offending source line:
 *
 *   models/x.nn:3:42: error: unknown activation 'rleu', did you mean 'relu'?
 *       3 | layer h1 = dense(flat, 256, activation = rleu)
 *         |                                          ^~~~
 */
#include "nncc.h"

#include <stdlib.h>
#include <string.h>

FILE *diag_out;

static char *d_file;   /* as given to diag_init */
static char *d_src;    /* a copy of the whole source text */
static int d_errors;   /* errors reported, shown or not */
static bool d_muted;   /* past DIAG_MAX_ERRORS: print nothing more */

void diag_init(const char *file, const char *src) {
  free(d_file);
  free(d_src);
  d_file = file ? xstrdup(file) : NULL;
  d_src = src ? xstrdup(src) : NULL;
  d_errors = 0;
  d_muted = false;
  if (!diag_out) diag_out = stderr;
}

int diag_errors(void) { return d_errors; }

const char *diag_file(void) { return d_file ? d_file : "nncc"; }

static FILE *out(void) { return diag_out ? diag_out : stderr; }

/* Bytes of UTF-8 continuation (10xxxxxx) take no column on a terminal. */
static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Quote line `loc.line` of the source with a caret line under it. */
static void quote(Loc loc) {
  if (!d_src || loc.line <= 0) return;
  const char *p = d_src;
  for (int l = 1; l < loc.line; l++) {
    p = strchr(p, '\n');
    if (!p) return; /* no such line */
    p++;
  }
  size_t n = strcspn(p, "\n");
  if (n > 0 && p[n - 1] == '\r') n--;
  FILE *f = out();
  fprintf(f, "%5d | %.*s\n", loc.line, (int)n, p);
  fputs("      | ", f);
  size_t col = loc.col > 0 ? (size_t)loc.col - 1 : 0;
  if (col > n) col = n; /* past the end: one past the last character */
  for (size_t i = 0; i < col; i++) {
    if (p[i] == '\t')
      fputc('\t', f);
    else if (!is_cont((unsigned char)p[i]))
      fputc(' ', f);
  }
  fputc('^', f);
  size_t end = col + (loc.len > 1 ? (size_t)loc.len : 1);
  if (end > n) end = n;
  for (size_t i = col + 1; i < end; i++)
    if (!is_cont((unsigned char)p[i])) fputc('~', f);
  fputc('\n', f);
}

static void report(const char *kind, Loc loc, const char *fmt, va_list ap) {
  FILE *f = out();
  if (loc.line > 0)
    fprintf(f, "%s:%d:%d: %s: ", diag_file(), loc.line, loc.col, kind);
  else
    fprintf(f, "%s: %s: ", diag_file(), kind);
  vfprintf(f, fmt, ap);
  fputc('\n', f);
  quote(loc);
  fflush(f);
}

/* Count an error; false when it must not be shown. */
static bool count_error(void) {
  d_errors++;
  if (d_muted) return false;
  if (d_errors > DIAG_MAX_ERRORS) {
    d_muted = true;
    fprintf(out(), "%s: error: too many errors, stopping\n", diag_file());
    fflush(out());
    return false;
  }
  return true;
}

void error_at(Loc loc, const char *fmt, ...) {
  if (!count_error()) return;
  va_list ap;
  va_start(ap, fmt);
  report("error", loc, fmt, ap);
  va_end(ap);
}

void note_at(Loc loc, const char *fmt, ...) {
  if (d_muted) return;
  va_list ap;
  va_start(ap, fmt);
  report("note", loc, fmt, ap);
  va_end(ap);
}

void error_file(const char *fmt, ...) {
  if (!count_error()) return;
  va_list ap;
  va_start(ap, fmt);
  report("error", (Loc){0, 0, 0}, fmt, ap);
  va_end(ap);
}

_Noreturn void die(const char *fmt, ...) {
  fflush(stdout);
  fputs("nncc: internal error: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(3);
}
