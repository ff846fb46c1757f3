/* main.c — the nncc driver: options, then the passes in order.
 *
 *   parse    grammar/parser.y   text -> AST
 *   sema     sema.c             AST -> checked model
 *   shape    shape.c            shapes, parameter counts, loss checks
 *   lower    lower.c            model -> forward IR
 *   autodiff autodiff.c         + backward IR, + update
 *   fuse     fuse.c             activations into the products' stores
 *   memplan  memplan.c          arena offsets
 *   emit     emit_c.c           IR -> C
 *
 * Exit status: 0 success, 1 errors in the model (or I/O), 2 usage, 3
 * internal error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nncc.h"

typedef struct Options {
  const char *input;
  const char *output; /* NULL: <model>.c; "-": stdout */
  const char *emit;   /* ast, model, ir, grad, plan, c, dot, lib */
  const char *dump;   /* -d letters */
  const char *weights; /* --weights CKPT: bake into --emit=lib */
  bool summary;
  char *cmdline;
} Options;

static const char usage_text[] =
    "usage: nncc [options] MODEL.nn\n"
    "Compile a model into one C file that trains it.\n"
    "\n"
    "  -o FILE        write the trainer to FILE (default: MODEL.c in the current directory);\n"
    "                 '-' writes to standard output; a FILE not ending in .c is an\n"
    "                 executable: nncc compiles and links it with $CC (default cc)\n"
    "  --summary      print the layers, their output shapes and parameter counts\n"
    "  --emit=STAGE   write STAGE instead of C: ast, model, ir (forward), grad (with\n"
    "                 backward and update), plan (with arena offsets), c, dot (the\n"
    "                 layer graph for Graphviz: dot -Tsvg FILE.dot -o FILE.svg), lib\n"
    "                 (inference: -o NAME writes NAME.h and NAME.c with NAME_load,\n"
    "                 NAME_predict and NAME_predict_batch; no libnnrt)\n"
    "  --weights CKPT with --emit=lib: compile the parameters of checkpoint CKPT (the\n"
    "                 trainer's --save) into NAME.c instead of NAME_load\n"
    "  -d LETTERS     dump to stderr after stages: p parse, s sema+shape, l lower,\n"
    "                 a autodiff, f fuse, m memplan\n"
    "  --version      print the version\n"
    "  --help         print this help\n"
    "\n"
    "Exit status: 0 ok, 1 errors in the model, 2 bad usage.\n";

static _Noreturn void usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "nncc: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry 'nncc --help'.\n");
  exit(2);
}

/* The command line as written, with argv[0] shown as "nncc", for the
 * generated file's front matter. */
static char *join_cmdline(int argc, char **argv) {
  size_t n = 5;
  for (int i = 1; i < argc; i++)
    n += strlen(argv[i]) + 1;
  char *s = xmalloc(n + 1);
  strcpy(s, "nncc");
  for (int i = 1; i < argc; i++) {
    strcat(s, " ");
    strcat(s, argv[i]);
  }
  return s;
}

static bool ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  return n >= k && !strcmp(s + n - k, suf);
}

static Options parse_options(int argc, char **argv) {
  static const struct option longs[] = {
      {"summary", no_argument, NULL, 'S'}, {"emit", required_argument, NULL, 'E'},
      {"version", no_argument, NULL, 'V'}, {"help", no_argument, NULL, 'h'},
      {"weights", required_argument, NULL, 'W'},
      {NULL, 0, NULL, 0}};
  Options o = {0};
  o.cmdline = join_cmdline(argc, argv);
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:d:h", longs, NULL)) != -1) {
    switch (c) {
    case 'o': o.output = optarg; break;
    case 'd': o.dump = optarg; break;
    case 'S': o.summary = true; break;
    case 'E': o.emit = optarg; break;
    case 'W': o.weights = optarg; break;
    case 'V': printf("nncc %s\n", NNCC_VERSION); exit(0);
    case 'h': fputs(usage_text, stdout); exit(0);
    case ':': usage_error("option '%s' needs an argument", argv[optind - 1]);
    default: usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc)
    usage_error("%s", "no model file given");
  if (optind + 1 < argc)
    usage_error("more than one model file given (extra: '%s')", argv[optind + 1]);
  o.input = argv[optind];
  static const char *const stages[] = {"ast", "model", "ir", "grad", "plan", "c", "dot", "lib"};
  if (o.emit) {
    int ok = 0;
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++)
      ok |= !strcmp(o.emit, stages[i]);
    if (!ok)
      usage_error("unknown stage '%s' for --emit (ast, model, ir, grad, plan, c, dot, lib)",
                  o.emit);
  }
  bool lib = o.emit && !strcmp(o.emit, "lib");
  if (o.weights && !lib)
    usage_error("--weights '%s' goes with --emit=lib", o.weights);
  if (lib && o.output && (!strcmp(o.output, "-") || !*o.output || ends_with(o.output, "/")))
    usage_error("--emit=lib writes two files, NAME.h and NAME.c: give -o NAME, not '%s'",
                o.output);
  if (lib && o.summary)
    usage_error("%s", "--summary and --emit=lib exclude each other");
  if (o.dump && o.dump[strspn(o.dump, "pslafm")])
    usage_error("unknown letters in -d '%s' (p, s, l, a, f, m)", o.dump);
  return o;
}

static char *read_file(const char *path) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) {
    fprintf(stderr, "nncc: error: cannot open '%s': %s\n", path, strerror(errno));
    exit(1);
  }
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 8192;
      buf = xrealloc(buf, cap);
    }
    size_t k = fread(buf + n, 1, cap - n - 1, f);
    n += k;
    if (k == 0)
      break;
  }
  if (ferror(f)) {
    fprintf(stderr, "nncc: error: cannot read '%s': %s\n", path, strerror(errno));
    exit(1);
  }
  if (f != stdin)
    fclose(f);
  buf[n] = 0;
  if (strlen(buf) != n) {
    fprintf(stderr, "%s: error: the file holds a NUL byte (at offset %zu); is it a model file?\n",
            path, strlen(buf));
    exit(1);
  }
  return buf;
}

static bool dumps(const Options *o, char stage) { return o->dump && strchr(o->dump, stage); }

/* Default output: the model file's base name with .c (.dot for
 * --emit=dot), in the current directory. */
static char *default_output(const char *input, const char *emit) {
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  size_t n = ends_with(base, ".nn") ? strlen(base) - 3 : strlen(base);
  return xasprintf("%.*s.%s", (int)n, base, emit && !strcmp(emit, "dot") ? "dot" : "c");
}

/* The flags for libnnrt at prefix `dir` if its header and static library
 * are there (header dir inc, library lib, both relative to dir), else
 * false. */
static bool runtime_at(const char *dir, const char *inc, const char *lib, char **incf,
                       char **libf) {
  char *h = xasprintf("%s/%s/nnrt.h", dir, inc), *a = xasprintf("%s/%s/libnnrt.a", dir, lib);
  bool ok = access(a, R_OK) == 0 && access(h, R_OK) == 0;
  if (ok) {
    *incf = xasprintf("-I'%s/%s'", dir, inc);
    *libf = xasprintf("'%s'", a);
  }
  free(h);
  free(a);
  return ok;
}

/* Where libnnrt is, relative to this nncc: beside it in a build tree
 * (../runtime/nnrt.h, libnnrt.a in the same directory), or installed
 * (BINDIR/../include/nnrt, BINDIR/../lib, as `make install` lays them out,
 * wherever the tree was moved); else -lnnrt on the compiler's paths. */
static void runtime_flags(char **inc, char **lib) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  char *slash = n > 0 ? (self[n] = 0, strrchr(self, '/')) : NULL;
  if (slash) {
    *slash = 0;
    if (runtime_at(self, "../runtime", ".", inc, lib) ||
        runtime_at(self, "../include/nnrt", "../lib", inc, lib))
      return;
  }
  *inc = xstrdup("");
  *lib = xstrdup("-lnnrt");
}

/* -o NAME without .c: write the C to a temporary file and build NAME. */
static int build_executable(IR *ir, const Options *o) {
  char tmp[] = "/tmp/nncc-XXXXXX.c";
  int fd = mkstemps(tmp, 2);
  if (fd < 0) {
    fprintf(stderr, "nncc: error: cannot create a temporary file: %s\n", strerror(errno));
    return 1;
  }
  FILE *f = fdopen(fd, "w");
  emit_c(f, ir, o->cmdline);
  fclose(f);
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  char *inc, *lib;
  runtime_flags(&inc, &lib);
  char *cmd = xasprintf("%s -O3 -march=native -fopenmp %s -o '%s' '%s' %s -lcjson -lz -lm", cc,
                        inc, o->output, tmp, lib);
  int rc = system(cmd);
  unlink(tmp);
  if (rc != 0)
    fprintf(stderr, "nncc: error: building '%s' failed: %s\n", o->output, cmd);
  free(cmd);
  free(inc);
  free(lib);
  return rc == 0 ? 0 : 1;
}

/* --emit=lib: -o NAME (a .c or .h ending dropped), else the model's name,
 * in the current directory. */
static int write_lib(IR *ir, const Options *o) {
  char *base = o->output ? xstrdup(o->output) : xstrdup(ir->m->name);
  if (ends_with(base, ".c") || ends_with(base, ".h"))
    base[strlen(base) - 2] = 0;
  int rc = emit_lib(ir, base, o->weights, o->cmdline);
  free(base);
  return rc;
}

static int write_output(IR *ir, const Options *o, Program *p, Model *m) {
  if (o->emit && !strcmp(o->emit, "lib"))
    return write_lib(ir, o);
  char *def = NULL;
  const char *path = o->output ? o->output : (def = default_output(o->input, o->emit));
  struct stat st;
  bool special = stat(path, &st) == 0 && !S_ISREG(st.st_mode); /* /dev/null, a pipe */
  if (!o->emit && strcmp(path, "-") && !ends_with(path, ".c") && o->output && !special)
    return build_executable(ir, o);
  FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
  if (!f) {
    fprintf(stderr, "nncc: error: cannot write '%s': %s\n", path, strerror(errno));
    free(def);
    return 1;
  }
  const char *e = o->emit ? o->emit : "c";
  if (!strcmp(e, "ast"))
    ast_print(f, p);
  else if (!strcmp(e, "model"))
    model_print(f, m);
  else if (!strcmp(e, "dot"))
    emit_dot(f, m);
  else if (!strcmp(e, "c"))
    emit_c(f, ir, o->cmdline);
  else
    ir_print(f, ir, !strcmp(e, "ir") ? "lower" : !strcmp(e, "grad") ? "autodiff" : "memplan");
  int rc = 0;
  if (f != stdout && fclose(f) != 0) {
    fprintf(stderr, "nncc: error: cannot write '%s': %s\n", path, strerror(errno));
    rc = 1;
  }
  free(def);
  return rc;
}

/* The passes in order.  Every exit path frees what was built, so the
 * compiler runs clean under LeakSanitizer. */
/* The IR passes, in order: each is verified after it runs, -d LETTER
 * dumps the IR after it, and --emit=STAGE stops there and writes it. */
static const struct {
  const char *name;
  char letter;
  void (*run)(IR *ir);
  const char *emit;
} ir_passes[] = {
    {"autodiff", 'a', autodiff, "grad"},
    {"fuse", 'f', fuse, NULL},
    {"memplan", 'm', memplan, "plan"},
};

static bool stops_at(const Options *o, const char *stage) {
  return o->emit && stage && !strcmp(o->emit, stage) && !o->summary;
}

static int compile(const Options *o, const char *src) {
  Program *prog = parse_program(o->input, src);
  Model *m = NULL;
  IR *ir = NULL;
  int rc = 1;
  if (dumps(o, 'p'))
    ast_print(stderr, prog);
  if (diag_errors())
    goto out;
  if (stops_at(o, "ast")) {
    rc = write_output(NULL, o, prog, NULL);
    goto out;
  }

  m = sema_check(prog);
  if (!m)
    goto out;
  m->src = src;
  if (shape_infer(m))
    goto out;
  if (dumps(o, 's'))
    model_print(stderr, m);
  if (stops_at(o, "dot")) {
    rc = write_output(NULL, o, prog, m);
    goto out;
  }

  ir = lower_model(m);
  ir_verify(ir, "lower");
  if (dumps(o, 'l'))
    ir_print(stderr, ir, "lower");
  if (stops_at(o, "model") || stops_at(o, "ir")) {
    rc = write_output(ir, o, prog, m);
    goto out;
  }
  for (size_t i = 0; i < sizeof ir_passes / sizeof *ir_passes; i++) {
    ir_passes[i].run(ir);
    ir_verify(ir, ir_passes[i].name);
    if (dumps(o, ir_passes[i].letter))
      ir_print(stderr, ir, ir_passes[i].name);
    if (stops_at(o, ir_passes[i].emit)) {
      rc = write_output(ir, o, prog, m);
      goto out;
    }
  }

  if (o->summary) {
    shape_summary(stdout, m, ir);
    rc = 0;
    goto out;
  }
  rc = write_output(ir, o, prog, m);
out:
  ir_free(ir);
  model_free(m);
  ast_free(prog);
  return rc;
}

int main(int argc, char **argv) {
  Options o = parse_options(argc, argv);
  char *src = read_file(o.input);
  diag_init(o.input, src);
  int rc = compile(&o, src);
  free(src);
  free(o.cmdline);
  return rc;
}
