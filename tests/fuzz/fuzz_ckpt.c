/* fuzz_ckpt.c — libFuzzer target for the checkpoint reader
 * (runtime/ckpt.c, safetensors with cJSON): each input is loaded into the
 * trainer of models/xor.nn (generated/xor.c, linked in with NN_NO_MAIN).
 * It loads (the right names, shapes, dtype and hash) or fails with a
 * message naming the file; a failed load leaves the parameters as they
 * were. */
#include "fuzz_file.h"

extern const nn_model nn_model_desc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nn_ctx c;
  static int ready;
  const nn_model *m = &nn_model_desc;
  if (!ready) {
    if (nn_ctx_alloc(&c, m))
      abort();
    ready = 1;
  }
  size_t bytes = m->params_size * (size_t)m->real_size;
  memset(c.params, 0x5a, bytes);
  const char *path = fuzz_file(data, size, ".safetensors");
  char err[1024] = "";
  if (nn_ckpt_load(path, m, &c, err, sizeof err) != 0) {
    if (!err[0] || !strstr(err, path))
      abort();
    for (size_t i = 0; i < bytes; i++)
      if (((unsigned char *)c.params)[i] != 0x5a)
        abort(); /* a refused checkpoint must not have written parameters */
  }
  return 0;
}
