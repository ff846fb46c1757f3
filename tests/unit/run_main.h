/* run_main.h — nn_main run in-process for the runtime's cmocka tests, its
 * stdout and stderr captured into out[] and err[] through files in the
 * scratch directory of tmpdir.h.  Define TMPDIR_NAME before including. */
#ifndef RUN_MAIN_H
#define RUN_MAIN_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "nnrt.h"
#include "tmpdir.h"

static char out[1 << 16], err[1 << 16];

static size_t read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f)
    fclose(f);
  return n;
}

/* nn_main(m) as the program prog with the arguments in ap (up to a NULL);
 * its stdout and stderr land in out[] and err[]. */
static int run_main(const char *prog, const nn_model *m, va_list ap) {
  char *argv[64];
  int argc = 0;
  argv[argc++] = (char *)prog;
  for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
    argv[argc++] = (char *)a;
  argv[argc] = NULL;
  fflush(stdout);
  fflush(stderr);
  int so = dup(1), se = dup(2);
  int fo = open(tmp("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int fe = open(tmp("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fo, 1);
  dup2(fe, 2);
  close(fo);
  close(fe);
  int rc = nn_main(argc, argv, m);
  fflush(stdout);
  fflush(stderr);
  dup2(so, 1);
  dup2(se, 2);
  close(so);
  close(se);
  read_file(tmp("stdout"), out, sizeof out);
  read_file(tmp("stderr"), err, sizeof err);
  return rc;
}

/* The line of s that starts with prefix, without its newline. */
static __attribute__((unused)) const char *line_of(const char *s, const char *prefix) {
  static char line[1024];
  for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, prefix, strlen(prefix)) == 0) {
      size_t n = strcspn(p, "\n");
      snprintf(line, sizeof line, "%.*s", (int)n, p);
      return line;
    }
  fail_msg("no line '%s' in:\n%s", prefix, s);
  return NULL;
}

#define assert_contains(hay, needle)                                                           \
  do {                                                                                         \
    if (!strstr((hay), (needle)))                                                              \
      fail_msg("'%s' not found in:\n%s", (needle), (hay));                                     \
  } while (0)

#endif
