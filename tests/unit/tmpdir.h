/* tmpdir.h — a scratch directory for one cmocka test file (setup and
 * teardown of the whole group) and paths inside it.  Define TMPDIR_NAME
 * (e.g. "nnrt-ckpt") before including. */
#ifndef TMPDIR_H
#define TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

static int setup_dir(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/%s-XXXXXX", TMPDIR_NAME);
  return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes the files in the directory (it holds no subdirectories). */
static int remove_dir(void **state) {
  (void)state;
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char p[512];
  while (d && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
    unlink(p);
  }
  if (d)
    closedir(d);
  return rmdir(tmpdir);
}

/* tmpdir/name; up to 8 results may be in use at once. */
static const char *tmp(const char *name) {
  static char p[8][256];
  static int k;
  k = (k + 1) % 8;
  snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
  return p[k];
}

#endif
