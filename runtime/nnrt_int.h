/* nnrt_int.h — helpers shared by libnnrt's own files; not part of the API
 * (generated code includes only nnrt.h). */
#ifndef NNRT_INT_H
#define NNRT_INT_H

#include "nnrt.h"

#include <stddef.h>
#include <stdint.h>

/* The whole file into a NUL-terminated malloc'd buffer (*len excludes the
 * NUL).  On error -1 with "path: error: cannot open: ..." / "cannot read:
 * ..." in err.  (data.c) */
int nn_slurp(const char *path, char **buf, size_t *len, char *err, size_t errlen);

/* A byte for messages: 'Q' (0x51), '\n' (0x0a), or 0xe9 when it has no
 * printable form; buf holds at least 16 chars.  (data_text.c) */
const char *nn_byte_text(unsigned char b, char *buf);

/* The trainer's state beyond the parameters, so that a run stopped at any
 * step and resumed gives bitwise the weights of a run that never stopped
 * (--checkpoint FILE, --resume FILE; ckpt.c).  Invariants: 0 <= epoch,
 * 0 <= pos <= nrows; pos == 0 is an epoch boundary (epochs 1 .. epoch
 * done, the next one not begun), else epoch `epoch + 1` is in progress with
 * rows order[0 .. pos) of it trained, and its loss and correct sums so far
 * in loss, correct.  The shuffle stream's state is the one after that
 * epoch's shuffle (at a boundary: after the last one drawn). */
typedef struct nn_resume {
  uint64_t seed;   /* the run's --seed (init, split, shuffle, dropout) */
  double lr;       /* its --lr */
  int epochs;      /* its --epochs */
  int epoch, pos, nrows;
  int32_t *order;  /* nrows row indices (pos > 0), malloc'd on load */
  nn_rng rng;      /* the shuffling stream */
  double loss, correct, seconds; /* of the epoch in progress */
  double elapsed;  /* seconds of training before this point */
  /* Early stopping: the best validation figure, its epoch (0: none yet),
   * epochs since, that epoch's figures and parameters (params_size reals,
   * malloc'd on load; NULL when best_epoch == 0). */
  double best;
  int best_epoch, since;
  double best_tr[2], best_te[2]; /* loss, accuracy */
  void *best_params;
} nn_resume;

/* A checkpoint with the training state: the parameters as nn_ckpt_save
 * writes them, the optimizer state, the acts arena of a stateful model
 * stopped inside an epoch (its carried hidden state), and r.  Loading
 * refuses a file without a training state (one written by --save) and a
 * state that does not hold together; on success c's params, state, acts
 * (when saved) and step are the file's.  Free r with nn_resume_free. */
int nn_ckpt_save_state(const char *path, const nn_model *m, const nn_ctx *c,
                       const nn_resume *r, char *err, size_t errlen);
int nn_ckpt_load_state(const char *path, const nn_model *m, nn_ctx *c, nn_resume *r,
                       char *err, size_t errlen);
void nn_resume_free(nn_resume *r);

/* "path" or "path,path2" of a two-file source (IDX, NumPy), malloc'd; NULL
 * when out of memory.  (data.c) */
char *nn_source_name(const nn_source *src);

/* 1 if the file starts with the .npy magic "\x93NUMPY".  (data_npy.c) */
int nn_npy_sniff(const char *path);

/* Data-parallel training (mpi.c): MPI_COMM_WORLD in a build with -DNN_MPI
 * (build/libnnrt_mpi.a), else a world of one process where the reductions
 * and broadcasts change nothing.  All but rank/size are collective.
 * nn_mpi_init: -1 with a message in err when MPI cannot start.
 * nn_mpi_sum_reals: the element-wise sum over the ranks of n reals (float
 * or double by real_size), in place, on every rank.  nn_mpi_sum_doubles:
 * the same for n doubles.  nn_mpi_any: 1 on every rank if flag != 0 on
 * any.  nn_mpi_same: 1 on every rank if v is the same on all.
 * nn_mpi_bcast: rank 0's bytes to every rank. */
int nn_mpi_init(int *argc, char ***argv, char *err, size_t errlen);
void nn_mpi_finalize(void);
int nn_mpi_rank(void);
int nn_mpi_size(void);
void nn_mpi_sum_reals(void *p, size_t n, int real_size);
void nn_mpi_sum_doubles(double *v, int n);
int nn_mpi_any(int flag);
int nn_mpi_same(uint64_t v);
void nn_mpi_bcast(void *p, size_t bytes);

#endif
