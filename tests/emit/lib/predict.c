/* Rows of MODEL_IN values (CSV, as in the data file) through model.h, one
 * CSV line of outputs per row as the trainer's --predict writes them.
 *   predict CKPT|- ROWS one|batch|vocab   (vocab: a token model's vocabulary,
 *                                          one byte value a line)
 * CKPT is loaded with model_load unless it is '-' (weights compiled in with
 * -DBAKED, or, to test the error, none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int main(int argc, char **argv) {
  static float in[4096 * MODEL_IN], out[4096 * MODEL_OUT];
  FILE *f = argc == 4 ? fopen(argv[2], "r") : NULL;
  int n = 0, batch = argc == 4 && !strcmp(argv[3], "batch");
  if (!f)
    return 1;
#ifndef BAKED
  if (strcmp(argv[1], "-") && model_load(argv[1]))
    return 1;
#endif
#ifdef MODEL_TOKENS
  if (!strcmp(argv[3], "vocab")) {
    unsigned char bytes[256];
    int nv = model_vocab(bytes);
    for (int i = 0; i < nv; i++)
      printf("%d\n", bytes[i]);
    return nv > 0 ? 0 : 1;
  }
#endif
  for (double v; n < 4096 * MODEL_IN && fscanf(f, "%lf,", &v) == 1; n++)
    in[n] = (float)(v * MODEL_SCALE); /* as the trainer's loaders */
  for (int i = 0; i < n / MODEL_IN; i++)
    if (!batch && model_predict(in + (size_t)i * MODEL_IN, out + (size_t)i * MODEL_OUT))
      return 1;
  if (batch && model_predict_batch(in, n / MODEL_IN, out))
    return 1;
  for (int i = 0; i < n / MODEL_IN * MODEL_OUT; i++)
    printf("%.6g%c", out[i], (i + 1) % MODEL_OUT ? ',' : '\n');
  return 0;
}
