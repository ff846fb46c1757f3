/* fuzz_csv.c — libFuzzer target for the CSV loader (runtime/data_csv.c):
 * each input is read as a CSV in three layouts (iris's: 4 features and a
 * class of 3 with a header; xor's: 2 features and a real target, no
 * header; 4 features and no target, as --predict reads) and as a time
 * series (runtime/data_series.c: windows of 3 rows of 2 values). */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size, ".csv");
  nn_source src = {.kind = NN_SRC_CSV, .path = path, .label_col = -1, .header = 1};
  nn_data_spec cls = {.dim = 4, .target = NN_TARGET_CLASS, .nclasses = 3, .scale = 1};
  fuzz_load(&src, &cls);
  src.header = 0;
  nn_data_spec real = {.dim = 2, .target = NN_TARGET_REAL, .ydim = 1, .scale = 0.5};
  fuzz_load(&src, &real);
  src.label_col = 0;
  nn_data_spec none = {.dim = 4, .target = NN_TARGET_CLASS, .nclasses = 10, .scale = 1,
                       .target_optional = 1};
  fuzz_load(&src, &none);
  nn_source ser = {.kind = NN_SRC_SERIES, .path = path, .header = 0};
  nn_data_spec win = {.dim = 6, .target = NN_TARGET_REAL, .ydim = 1, .scale = 1, .steps = 3};
  fuzz_load(&ser, &win);
  return 0;
}
