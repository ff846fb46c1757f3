/* fuzz_text.c — libFuzzer target for the text loader (runtime/data_text.c):
 * each input is read as a training text (vocabulary built from it) for a
 * model of windows of 4 tokens cut into 2 streams, with a class after
 * every step and after the window, and as a test text against a fixed
 * vocabulary of lower-case letters and space (other bytes are errors). */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size, ".txt");
  nn_source src = {.kind = NN_SRC_TEXT, .path = path};
  nn_data_spec every = {.dim = 4, .target = NN_TARGET_CLASS, .nclasses = 64, .scale = 1,
                        .steps = 4, .tokens = 64, .ncls = 4, .streams = 2};
  fuzz_load(&src, &every);
  static unsigned char vocab[27];
  for (int i = 0; i < 26; i++)
    vocab[i + 1] = (unsigned char)('a' + i);
  vocab[0] = ' ';
  nn_data_spec last = {.dim = 4, .target = NN_TARGET_CLASS, .nclasses = 27, .scale = 1,
                       .steps = 4, .tokens = 27, .ncls = 1, .streams = 3,
                       .vocab = vocab, .nvocab = 27, .vocab_from = "the fuzz vocabulary"};
  fuzz_load(&src, &last);
  return 0;
}
