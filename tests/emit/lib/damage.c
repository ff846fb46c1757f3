/* model_load on damaged checkpoints: every byte of the header of CKPT in
 * turn replaced by each of '"', '}', '9', 'x', ',', written to TMP and
 * loaded.  Each load must succeed (0, nothing on stderr) or fail (-1, one
 * line "TMP: error: ..."); built with ASan and UBSan, no report either.
 * Prints the loads and the misbehaving ones; exit 1 if any.
 *   damage CKPT TMP ERRFILE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static long slurp(const char *path, char **buf) {
  FILE *f = fopen(path, "rb");
  long n = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  *buf = n > 0 ? malloc((size_t)n) : NULL;
  if (!*buf || fseek(f, 0, SEEK_SET) != 0 || fread(*buf, 1, (size_t)n, f) != (size_t)n)
    n = -1;
  if (f)
    fclose(f);
  return n;
}

int main(int argc, char **argv) {
  char *ck, *err, prefix[4096];
  long n = argc == 4 ? slurp(argv[1], &ck) : -1;
  if (n < 8)
    return 2;
  long hlen = (long)((unsigned char)ck[0] | (unsigned char)ck[1] << 8 | (unsigned char)ck[2] << 16);
  snprintf(prefix, sizeof prefix, "%s: error: ", argv[2]);
  int loads = 0, bad = 0;
  for (long off = 8; off < 8 + hlen && off < n; off++)
    for (const char *c = "\"}9x,"; *c; c++, loads++) {
      char keep = ck[off];
      ck[off] = *c;
      FILE *f = fopen(argv[2], "wb");
      if (!f || fwrite(ck, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0)
        return 2;
      ck[off] = keep;
      if (!freopen(argv[3], "w", stderr))
        return 2;
      int rc = model_load(argv[2]);
      fflush(stderr);
      long ne = slurp(argv[3], &err);
      int lines = 0;
      for (long i = 0; i < ne; i++)
        lines += err[i] == '\n';
      int ok = rc == 0 ? ne <= 0 : rc == -1 && lines == 1 && !strncmp(err, prefix, strlen(prefix));
      if (!ok && bad++ < 3)
        printf("offset %ld '%c': model_load %d, stderr %.*s\n", off, *c, rc, (int)(ne > 0 ? ne : 0), ne > 0 ? err : "");
      free(err);
    }
  printf("%d loads, %d misbehaved\n", loads, bad);
  free(ck);
  return bad ? 1 : 0;
}
