/* fuzz_ckpt.c — libFuzzer target for the checkpoint reader
 * (runtime/ckpt.c, safetensors with cJSON): each input is loaded into the
 * trainer of models/xor.nn (generated/xor.c, linked in with NN_NO_MAIN).
 * It loads (the right names, shapes, dtype and hash) or fails with a
 * message naming the file; a failed load leaves the parameters as they
 * were.  The same input is then read as a training state (--resume): it
 * loads with every invariant of nn_resume holding, or fails with a message
 * naming the file. */
#include "fuzz_file.h"
#include "nnrt_int.h"

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
  nn_resume r;
  err[0] = '\0';
  if (nn_ckpt_load_state(path, m, &c, &r, err, sizeof err) != 0) {
    if (!err[0] || !strstr(err, path) || r.order || r.best_params)
      abort();
  } else {
    if (r.pos < 0 || r.pos > r.nrows || r.nrows < 1 || (r.pos > 0) != (r.order != NULL) ||
        (r.best_epoch > 0) != (r.best_params != NULL) || r.best_epoch > r.epoch)
      abort();
    for (int i = 0; r.order && i < r.nrows; i++)
      if (r.order[i] < 0 || r.order[i] >= r.nrows)
        abort();
  }
  nn_resume_free(&r);
  return 0;
}
