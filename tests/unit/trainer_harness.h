/* trainer_harness.h — build a model's generated C with a small driver and
 * run it, for the tests that compare the generated code with arithmetic
 * done by hand (test_emit.c, test_conv.c, ...).  Define HARNESS_NAME (the
 * test's name, for messages and its temporary directory) before including.
 * Tests with a driver of their own build it with harness_driver() and run
 * models with harness_run().
 */
#ifndef TRAINER_HARNESS_H
#define TRAINER_HARNESS_H

#if defined(__SANITIZE_ADDRESS__)
#define SAN_FLAGS "-fsanitize=address,undefined -fno-omit-frame-pointer"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAN_FLAGS "-fsanitize=address,undefined -fno-omit-frame-pointer"
#endif
#endif
#ifndef SAN_FLAGS
#define SAN_FLAGS ""
#endif
#ifdef __clang__
#define TEST_CC "clang"
#else
#define TEST_CC "gcc"
#endif

/* The driver.  Input (whitespace-separated numbers, from argv[1]):
 *   nb
 *   every parameter's values, in descriptor order (PyTorch layout)
 *   x: nb * in_dim values
 *   targets: nb * ncls class indices (CLASS), nb * ydim values (REAL), none else
 *   steps lr: how many update() calls after backward (each counted in
 *     c.step, as nn_main does), and the rate
 *   optionally W, then W - 1 more x blocks: after the first window (with
 *     its targets, backward and updates), forward on each further window
 *     without targets, as the next batch (a stateful model carries its
 *     state into it), and print its output
 * Output, one item a line, doubles with 17 digits:
 *   loss L / correct C / output v... / grad NAME v... (per parameter) /
 *   param NAME v... (per parameter, after the updates) */
static const char driver_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include \"nnrt.h\"\n"
    "extern const nn_model nn_model_desc;\n"
    "static double rd(FILE *f) {\n"
    "  double v;\n"
    "  if (fscanf(f, \"%lf\", &v) != 1) { fprintf(stderr, \"driver: short input\\n\"); exit(2); }\n"
    "  return v;\n"
    "}\n"
    "static void dump(const char *what, const nn_model *m, const double *a) {\n"
    "  for (int t = 0; t < m->nparams; t++) {\n"
    "    printf(\"%s %s\", what, m->params[t].name);\n"
    "    for (size_t i = 0; i < m->params[t].size; i++)\n"
    "      printf(\" %.17g\", a[m->params[t].offset + i]);\n"
    "    printf(\"\\n\");\n"
    "  }\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  const nn_model *m = &nn_model_desc;\n"
    "  if (argc != 2 || m->real_size != 8) return 2;\n"
    "  FILE *f = fopen(argv[1], \"r\");\n"
    "  if (!f) return 2;\n"
    "  nn_ctx c;\n"
    "  if (nn_ctx_alloc(&c, m)) return 2;\n"
    "  nn_rng r;\n"
    "  nn_rng_seed(&r, 1, 1);\n"
    "  m->init(&c, &r);\n"
    "  int nb = (int)rd(f);\n"
    "  double *P = c.params;\n"
    "  for (int t = 0; t < m->nparams; t++)\n"
    "    for (size_t i = 0; i < m->params[t].size; i++)\n"
    "      P[m->params[t].offset + i] = rd(f);\n"
    "  float *x = calloc((size_t)nb * (size_t)m->in_dim + 1, sizeof *x);\n"
    "  float *y = NULL, *out = calloc((size_t)nb * (size_t)m->out_dim + 1, sizeof *out);\n"
    "  int32_t *cls = NULL;\n"
    "  for (int i = 0; i < nb * m->in_dim; i++) x[i] = (float)rd(f);\n"
    "  if (m->target == NN_TARGET_CLASS) {\n"
    "    int nc = nb * (m->ncls > 0 ? m->ncls : 1);\n"
    "    cls = calloc((size_t)nc, sizeof *cls);\n"
    "    for (int i = 0; i < nc; i++) cls[i] = (int32_t)rd(f);\n"
    "  } else if (m->target == NN_TARGET_REAL) {\n"
    "    y = calloc((size_t)nb * (size_t)m->ydim, sizeof *y);\n"
    "    for (int i = 0; i < nb * m->ydim; i++) y[i] = (float)rd(f);\n"
    "  }\n"
    "  int steps = (int)rd(f);\n"
    "  double lr = rd(f), correct = 0, wd;\n"
    "  int windows = fscanf(f, \"%lf\", &wd) == 1 ? (int)wd : 1;\n"
    "  double loss = m->forward(&c, x, cls, y, nb, &correct);\n"
    "  m->output(&c, nb, out);\n"
    "  m->backward(&c, cls, y, nb);\n"
    "  printf(\"loss %.17g\\ncorrect %.17g\\noutput\", loss, correct);\n"
    "  for (int i = 0; i < nb * m->out_dim; i++) printf(\" %.17g\", (double)out[i]);\n"
    "  printf(\"\\n\");\n"
    "  dump(\"grad\", m, c.grads);\n"
    "  for (int s = 0; s < steps; s++) { m->update(&c, lr); c.step++; }\n"
    "  dump(\"param\", m, c.params);\n"
    "  for (int w = 1; w < windows; w++) {\n"
    "    for (int i = 0; i < nb * m->in_dim; i++) x[i] = (float)rd(f);\n"
    "    m->forward(&c, x, NULL, NULL, nb, NULL);\n"
    "    m->output(&c, nb, out);\n"
    "    printf(\"output\");\n"
    "    for (int i = 0; i < nb * m->out_dim; i++) printf(\" %.17g\", (double)out[i]);\n"
    "    printf(\"\\n\");\n"
    "  }\n"
    "  fclose(f);\n"
    "  nn_ctx_free(&c);\n"
    "  free(x); free(y); free(out); free(cls);\n"
    "  return 0;\n"
    "}\n";

/* ------------------------------------------------------------ the setup */

typedef struct Env {
  char dir[64];
  char cc[PATH_MAX];       /* compiler command */
  char inc[PATH_MAX + 32]; /* the runtime directory (nnrt.h) */
  char lib[PATH_MAX + 32]; /* libnnrt.a */
  char drv[PATH_MAX + 64]; /* the driver's object file */
} Env;

static Env env;

static int run(const char *cmd) {
  int rc = system(cmd);
  if (rc != 0)
    fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
  return rc;
}

static int setup(void **state) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return -1;
  self[n] = 0;
  *strrchr(self, '/') = 0; /* BUILD/tests */
  char *slash = strrchr(self, '/');
  if (!slash)
    return -1;
  *slash = 0; /* BUILD */
  snprintf(env.lib, sizeof env.lib, "%s/libnnrt.a", self);
  snprintf(env.inc, sizeof env.inc, "%s/../runtime", self);
  if (access(env.lib, R_OK) || access(env.inc, R_OK)) {
    fprintf(stderr, HARNESS_NAME ": %s or %s missing (make %s)\n", env.lib, env.inc, env.lib);
    return -1;
  }
  const char *cc = getenv("NNCC_TEST_CC");
  snprintf(env.cc, sizeof env.cc, "%s -O1 -g -std=c11 -D_POSIX_C_SOURCE=200809L %s",
           cc ? cc : TEST_CC, SAN_FLAGS);
  strcpy(env.dir, "/tmp/nncc-" HARNESS_NAME "-XXXXXX");
  if (!mkdtemp(env.dir))
    return -1;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/driver.c", env.dir);
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  fputs(driver_src, f);
  fclose(f);
  snprintf(env.drv, sizeof env.drv, "%s/driver.o", env.dir);
  char *cmd = xasprintf("%s -Wall -Wextra -Werror -I'%s' -c -o '%s' '%s'", env.cc, env.inc,
                        env.drv, path);
  int rc = run(cmd);
  free(cmd);
  return rc == 0 ? 0 : -1;
}

static int teardown(void **state) {
  char *cmd = xasprintf("rm -rf '%s'", env.dir);
  int rc = system(cmd);
  free(cmd);
  return rc;
}

/* ------------------------------------------------- compile, build, run */

#define MAXV 256
typedef struct Vec {
  char name[32];
  int n;
  double v[MAXV];
} Vec;

typedef struct Result {
  double loss, correct;
  Vec output;     /* of the first window */
  Vec outputs[4]; /* of every window */
  int nout;
  Vec grad[8], param[8];
  int ngrad, nparam;
} Result;

static void read_vec(char *line, Vec *v) {
  char *save, *tok = strtok_r(line, " \n", &save);
  v->n = 0;
  if ((tok = strtok_r(NULL, " \n", &save)) && strcmp(line, "output")) {
    snprintf(v->name, sizeof v->name, "%s", tok);
    tok = strtok_r(NULL, " \n", &save);
  }
  for (; tok && v->n < MAXV; tok = strtok_r(NULL, " \n", &save))
    v->v[v->n++] = strtod(tok, NULL);
}

/* The object file env.dir/STEM.o of another driver's source `src`
 * (compiled the first time; malloc'd path). */
static __attribute__((unused)) char *harness_driver(const char *stem, const char *src) {
  char *dsrc = xasprintf("%s/%s.c", env.dir, stem), *dobj = xasprintf("%s/%s.o", env.dir, stem);
  if (access(dobj, R_OK)) {
    FILE *f = fopen(dsrc, "w");
    assert_non_null(f);
    fputs(src, f);
    fclose(f);
    char *cmd = xasprintf("%s -Wall -Wextra -Werror -I'%s' -c -o '%s' '%s'", env.cc, env.inc,
                          dobj, dsrc);
    assert_int_equal(run(cmd), 0);
    free(cmd);
  }
  free(dsrc);
  return dobj;
}

/* Compile `model` to C (double reals, no main), link it with the driver
 * object `drv` and libnnrt as env.dir/NAME, write `input` (if not NULL)
 * to NAME.in and run "NAME [NAME.in] ARGS > NAME.out".  Returns the
 * output's path (malloc'd). */
static char *harness_run(const char *name, const char *model, const char *drv, const char *input,
                         const char *args) {
  Compiled c = compile_ok(model, UPTO_MEMPLAN);
  char *cfile = xasprintf("%s/%s.c", env.dir, name), *exe = xasprintf("%s/%s", env.dir, name);
  char *in = xasprintf("%s/%s.in", env.dir, name), *outp = xasprintf("%s/%s.out", env.dir, name);
  FILE *f = fopen(cfile, "w");
  assert_non_null(f);
  emit_c(f, c.ir, "nncc test");
  assert_int_equal(fclose(f), 0);
  compiled_free(&c);
  if (input) {
    f = fopen(in, "w");
    assert_non_null(f);
    fputs(input, f);
    fclose(f);
  }
  char *cmd = xasprintf("%s -DNN_NO_MAIN -DNN_REAL=double -Wall -Wextra -Werror -I'%s' -o '%s' "
                        "'%s' '%s' '%s' -lcjson -lz -lm", env.cc, env.inc, exe, cfile, drv,
                        env.lib);
  assert_int_equal(run(cmd), 0);
  free(cmd);
  cmd = xasprintf("'%s' %s%s%s %s > '%s'", exe, input ? "'" : "", input ? in : "",
                  input ? "'" : "", args ? args : "", outp);
  assert_int_equal(run(cmd), 0);
  free(cmd);
  free(cfile);
  free(exe);
  free(in);
  return outp;
}

/* Compile `model` to C, build it with the driver, feed it `input`, parse
 * what it prints. */
static __attribute__((unused)) Result run_model(const char *name, const char *model, const char *input) {
  char *outp = harness_run(name, model, env.drv, input, NULL);
  Result r = {0};
  FILE *f = fopen(outp, "r");
  assert_non_null(f);
  char line[8192];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "loss ", 5))
      r.loss = strtod(line + 5, NULL);
    else if (!strncmp(line, "correct ", 8))
      r.correct = strtod(line + 8, NULL);
    else if (!strncmp(line, "output", 6) && r.nout < 4)
      read_vec(line, &r.outputs[r.nout++]);
    else if (!strncmp(line, "grad ", 5) && r.ngrad < 8)
      read_vec(line, &r.grad[r.ngrad++]);
    else if (!strncmp(line, "param ", 6) && r.nparam < 8)
      read_vec(line, &r.param[r.nparam++]);
  }
  fclose(f);
  r.output = r.outputs[0];
  free(outp);
  return r;
}

static __attribute__((unused)) const Vec *get(const Vec *vs, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(vs[i].name, name))
      return &vs[i];
  fail_msg("no tensor '%s' in the driver's output", name);
  return NULL;
}

static void expect_near(const char *what, int i, double got, double want, double tol) {
  if (!(fabs(got - want) <= tol)) {
    fail_msg("%s[%d]: got %.17g, want %.17g (tolerance %g)", what, i, got, want, tol);
  }
}

static __attribute__((unused)) void expect_vec(const Vec *v, const double *want, int n, double tol) {
  assert_int_equal(v->n, n);
  for (int i = 0; i < n; i++)
    expect_near(v->name[0] ? v->name : "output", i, v->v[i], want[i], tol);
}

#define EXPECT_GRAD(r, name, ...)                                                         \
  do {                                                                                    \
    static const double want_[] = {__VA_ARGS__};                                          \
    expect_vec(get((r).grad, (r).ngrad, name), want_, (int)(sizeof want_ / sizeof *want_), \
               1e-12);                                                                    \
  } while (0)
#define EXPECT_PARAM(r, name, ...)                                                         \
  do {                                                                                     \
    static const double want_[] = {__VA_ARGS__};                                           \
    expect_vec(get((r).param, (r).nparam, name), want_, (int)(sizeof want_ / sizeof *want_), \
               1e-12);                                                                     \
  } while (0)
/* The output goes through float (nn_model.output writes floats). */
#define EXPECT_OUTPUT(r, ...)                                                     \
  do {                                                                            \
    static const double want_[] = {__VA_ARGS__};                                  \
    expect_vec(&(r).output, want_, (int)(sizeof want_ / sizeof *want_), 1e-6);    \
  } while (0)


#endif
