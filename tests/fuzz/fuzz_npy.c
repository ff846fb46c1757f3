/* fuzz_npy.c — libFuzzer target for the .npy loader (runtime/data_npy.c):
 * each input is read as a features file of rows of 2 values (target: the
 * input itself, as an autoencoder reads it), and as both the features and
 * the targets file of a model with one value a row: 10 classes, a real
 * target, and token ids (V = 7), which must then agree on the count. */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size, ".npy");
  nn_source src = {.kind = NN_SRC_NPY, .path = path};
  nn_data_spec ae = {.dim = 2, .target = NN_TARGET_INPUT, .scale = 1.0 / 255};
  fuzz_load(&src, &ae);
  src.path2 = path;
  nn_data_spec cls = {.dim = 1, .target = NN_TARGET_CLASS, .nclasses = 10, .scale = 1};
  fuzz_load(&src, &cls);
  nn_data_spec real = {.dim = 1, .target = NN_TARGET_REAL, .ydim = 1, .scale = 0.5};
  fuzz_load(&src, &real);
  nn_data_spec tok = {.dim = 1, .target = NN_TARGET_CLASS, .nclasses = 7, .tokens = 7,
                      .steps = 1, .scale = 1};
  fuzz_load(&src, &tok);
  return 0;
}
