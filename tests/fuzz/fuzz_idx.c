/* fuzz_idx.c — libFuzzer target for the IDX loader (runtime/data_idx.c,
 * plain or gzip through zlib): each input is read as an images file of
 * 2x2 images (target: the input itself, as an autoencoder reads it), and
 * as both the images and the labels file of a 10-class model, which must
 * then agree on the count. */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size, ".idx");
  nn_source src = {.kind = NN_SRC_IDX, .path = path};
  nn_data_spec ae = {.dim = 4, .target = NN_TARGET_INPUT, .scale = 1.0 / 255};
  fuzz_load(&src, &ae);
  src.path2 = path;
  nn_data_spec cls = {.dim = 4, .target = NN_TARGET_CLASS, .nclasses = 10, .scale = 1};
  fuzz_load(&src, &cls);
  return 0;
}
