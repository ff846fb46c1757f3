/* nnrt_int.h — helpers shared by libnnrt's own files; not part of the API
 * (generated code includes only nnrt.h). */
#ifndef NNRT_INT_H
#define NNRT_INT_H

#include <stddef.h>

/* The whole file into a NUL-terminated malloc'd buffer (*len excludes the
 * NUL).  On error -1 with "path: error: cannot open: ..." / "cannot read:
 * ..." in err.  (data.c) */
int nn_slurp(const char *path, char **buf, size_t *len, char *err, size_t errlen);

/* A byte for messages: 'Q' (0x51), '\n' (0x0a), or 0xe9 when it has no
 * printable form; buf holds at least 16 chars.  (data_text.c) */
const char *nn_byte_text(unsigned char b, char *buf);

/* 1 if the file starts with the .npy magic "\x93NUMPY".  (data_npy.c) */
int nn_npy_sniff(const char *path);

#endif
