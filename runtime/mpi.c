/* mpi.c — the trainer's only contact with MPI (data-parallel training).
 *
 * Built with -DNN_MPI (build/libnnrt_mpi.a, compiled by mpicc) these are
 * thin wrappers of MPI_COMM_WORLD; without it they are the functions of a
 * world of one process (rank 0 of 1): reductions leave their arguments as
 * they are and broadcasts do nothing, so the trainer's loop (main.c) reads
 * the same in both builds and the plain libnnrt.a needs no MPI header.
 *
 * Every function but nn_mpi_rank / nn_mpi_size is collective: all ranks
 * call it, in the same order, with the same counts.
 */
#include "nnrt_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef NN_MPI
#include <mpi.h>

static int nn_mpi_rank_v, nn_mpi_size_v = 1, nn_mpi_started;

int nn_mpi_init(int *argc, char ***argv, char *err, size_t errlen) {
  int done = 0;
  MPI_Finalized(&done);
  if (done) {
    snprintf(err, errlen, "error: MPI was finalized: nn_main runs once a process in an MPI "
                          "build");
    return -1;
  }
  int up = 0;
  MPI_Initialized(&up);
  if (!up && MPI_Init(argc, argv) != MPI_SUCCESS) {
    snprintf(err, errlen, "error: MPI_Init failed");
    return -1;
  }
  nn_mpi_started = !up; /* finalize only what we initialised */
  MPI_Comm_rank(MPI_COMM_WORLD, &nn_mpi_rank_v);
  MPI_Comm_size(MPI_COMM_WORLD, &nn_mpi_size_v);
  return 0;
}

void nn_mpi_finalize(void) {
  if (nn_mpi_started)
    MPI_Finalize();
  nn_mpi_started = 0;
}

int nn_mpi_rank(void) { return nn_mpi_rank_v; }
int nn_mpi_size(void) { return nn_mpi_size_v; }

/* MPI counts are int: long arrays go in pieces of at most 2^30. */
#define NN_MPI_PIECE ((size_t)1 << 30)

void nn_mpi_sum_reals(void *p, size_t n, int real_size) {
  MPI_Datatype t = real_size == 8 ? MPI_DOUBLE : MPI_FLOAT;
  for (size_t at = 0; at < n; at += NN_MPI_PIECE) {
    size_t k = n - at < NN_MPI_PIECE ? n - at : NN_MPI_PIECE;
    MPI_Allreduce(MPI_IN_PLACE, (char *)p + at * (size_t)real_size, (int)k, t, MPI_SUM,
                  MPI_COMM_WORLD);
  }
}

void nn_mpi_sum_doubles(double *v, int n) {
  MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

int nn_mpi_any(int flag) {
  int v = flag != 0;
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return v;
}

int nn_mpi_same(uint64_t v) {
  uint64_t lo = v, hi = v;
  MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  return lo == hi;
}

void nn_mpi_bcast(void *p, size_t bytes) {
  for (size_t at = 0; at < bytes; at += NN_MPI_PIECE) {
    size_t k = bytes - at < NN_MPI_PIECE ? bytes - at : NN_MPI_PIECE;
    MPI_Bcast((char *)p + at, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD);
  }
}

#else /* a world of one process */

int nn_mpi_init(int *argc, char ***argv, char *err, size_t errlen) {
  (void)argc;
  (void)argv;
  (void)err;
  (void)errlen;
  return 0;
}

void nn_mpi_finalize(void) {}
int nn_mpi_rank(void) { return 0; }
int nn_mpi_size(void) { return 1; }

void nn_mpi_sum_reals(void *p, size_t n, int real_size) {
  (void)p;
  (void)n;
  (void)real_size;
}

void nn_mpi_sum_doubles(double *v, int n) {
  (void)v;
  (void)n;
}

int nn_mpi_any(int flag) { return flag != 0; }
int nn_mpi_same(uint64_t v) {
  (void)v;
  return 1;
}
void nn_mpi_bcast(void *p, size_t bytes) {
  (void)p;
  (void)bytes;
}

#endif
