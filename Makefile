# nncc — build, test and regenerate.  `make help` lists the targets.
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
BUILD   := build
# Flags for generated trainers (the README's build line).
TRAIN_CFLAGS ?= -O3 -march=native
OPENMP  ?= -fopenmp
RT_LIBS := -lcjson -lz -lm
# Open MPI's compiler wrapper around $(CC), for the data-parallel runtime (make mpi).
MPICC   ?= OMPI_CC=$(CC) mpicc

COMPILER_SRC := $(wildcard compiler/*.c)
RUNTIME_SRC  := $(wildcard runtime/*.c)
COMPILER_OBJ := $(patsubst compiler/%.c,$(BUILD)/compiler/%.o,$(COMPILER_SRC)) \
                $(BUILD)/grammar/parser.o $(BUILD)/grammar/lexer.o
# Every compiler object but main.o, for unit tests.
COMPILER_LIB_OBJ := $(filter-out $(BUILD)/compiler/main.o,$(COMPILER_OBJ))
RUNTIME_OBJ  := $(patsubst runtime/%.c,$(BUILD)/runtime/%.o,$(RUNTIME_SRC))
RUNTIME_MPI_OBJ := $(patsubst runtime/%.c,$(BUILD)/runtime_mpi/%.o,$(RUNTIME_SRC))

MODELS    := $(wildcard models/*.nn)
GENERATED := $(patsubst models/%.nn,generated/%.c,$(MODELS))

.PHONY: all test check generated clean help check-long unit golden numeric run-tests \
        check-generated check-warnings check-asan deps demo install uninstall \
        check-install check-emit mpi check-mpi

all: $(BUILD)/nncc $(BUILD)/libnnrt.a

help:
	@echo "make demo        install missing packages (as root), build, compile"
	@echo "                 models/fashion_mlp.nn and train it on Fashion-MNIST"
	@echo "make test        every test: unit, golden, numeric, trainer runs, generated/"
	@echo "                 in sync, warnings under gcc and clang, bad data, ASan+UBSan,"
	@echo "                 valgrind"
	@echo "make             build build/nncc and build/libnnrt.a"
	@echo "make check-baddata  bad CSV, IDX, text and series files through the trainers:"
	@echo "                 exit status 1 and the messages of tests/baddata/*.err"
	@echo "make check-asan  unit, golden, numeric, bad-data tests and a short run of every"
	@echo "                 model's trainer under ASan+UBSan (build-asan)"
	@echo "make check-valgrind  the iris trainer (train, save, load, predict) under valgrind"
	@echo "make generated   regenerate generated/*.c from models/*.nn"
	@echo "make mpi         build build/libnnrt_mpi.a, the data-parallel runtime (Open MPI)"
	@echo "make check-mpi   mpirun -np 2 equals one process of twice the batch (skipped"
	@echo "                 without Open MPI)"
	@echo "make check-long  full-length training runs that prove the accuracy figures"
	@echo "make install     nncc, libnnrt (.a and .so), headers, pkg-config file and man page"
	@echo "                 under PREFIX (default /usr/local), staged in DESTDIR; make uninstall"
	@echo "make check-install  install into a DESTDIR under /tmp, build a trainer with pkg-config"
	@echo "make check-emit  --emit=dot golden graphs and --emit=lib against the trainer's --predict"
	@echo "make fuzz        libFuzzer targets (front end, CSV, IDX, text, checkpoints),"
	@echo "                 FUZZ_SECONDS=60 each (make test runs them for 20)"

deps:
	@sh .ci/deps.sh

# The main job: compile the Fashion-MNIST MLP and train it.
demo: deps
	$(MAKE) all
	@mkdir -p $(BUILD)/demo
	$(BUILD)/nncc models/fashion_mlp.nn -o $(BUILD)/demo/fashion_mlp.c
	$(CC) $(TRAIN_CFLAGS) $(OPENMP) -Iruntime -o $(BUILD)/demo/train $(BUILD)/demo/fashion_mlp.c $(BUILD)/libnnrt.a $(RT_LIBS)
	$(BUILD)/demo/train --save $(BUILD)/demo/fashion_mlp.safetensors

# ---------------------------------------------------------------- grammar
$(BUILD)/grammar/parser.c $(BUILD)/grammar/parser.h: grammar/parser.y
	@mkdir -p $(dir $@)
	bison -Wall -Werror -o $(BUILD)/grammar/parser.c --header=$(BUILD)/grammar/parser.h $<

$(BUILD)/grammar/lexer.c $(BUILD)/grammar/lexer.h: grammar/lexer.l
	@mkdir -p $(dir $@)
	flex -o $(BUILD)/grammar/lexer.c --header-file=$(BUILD)/grammar/lexer.h $<

# flex output is not -Wextra clean; everything written by hand is.
$(BUILD)/grammar/lexer.o: $(BUILD)/grammar/lexer.c $(BUILD)/grammar/parser.h compiler/nncc.h
	$(CC) $(CFLAGS) $(STD) -Wall -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter -Icompiler -I$(BUILD)/grammar -c -o $@ $<

$(BUILD)/grammar/parser.o: $(BUILD)/grammar/parser.c $(BUILD)/grammar/lexer.h compiler/nncc.h
	$(CC) $(CFLAGS) $(STD) $(WARN) -Icompiler -I$(BUILD)/grammar -c -o $@ $<

# --------------------------------------------------------------- compiler
$(BUILD)/compiler/%.o: compiler/%.c compiler/*.h $(BUILD)/grammar/parser.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Icompiler -I$(BUILD)/grammar -I$(BUILD)/compiler -c -o $@ $<

# --emit=lib copies nnmath.h and the checkpoint reader into every library:
# their text as C strings.
$(BUILD)/compiler/lib_text.h: runtime/nnmath.h compiler/libckpt.inc
	@mkdir -p $(dir $@)
	{ echo '/* Made by the Makefile from runtime/nnmath.h and compiler/libckpt.inc. */'; \
	  for f in nnmath:runtime/nnmath.h ckpt:compiler/libckpt.inc; do \
	    echo "static const char lib_$${f%%:*}_text[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' -e 's/$$/\\n"/' $${f#*:}; \
	    echo ';'; done; } >$@
$(BUILD)/compiler/emit_lib.o: $(BUILD)/compiler/lib_text.h compiler/libckpt.inc

$(BUILD)/nncc: $(COMPILER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ -lm

# ---------------------------------------------------------------- runtime
$(BUILD)/runtime/%.o: runtime/%.c runtime/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Iruntime -c -o $@ $<

$(BUILD)/libnnrt.a: $(RUNTIME_OBJ)
	rm -f $@
	ar rcs $@ $^

# The shared library: the same sources compiled position-independent, with
# the soname libnnrt.so.MAJOR, linked against what the runtime calls.
VERSION   := $(shell sed -n 's/^\#define NNCC_VERSION "\(.*\)"/\1/p' compiler/nncc.h)
SOMAJOR   := $(firstword $(subst ., ,$(VERSION)))
SONAME    := libnnrt.so.$(SOMAJOR)
RUNTIME_PIC_OBJ := $(patsubst runtime/%.c,$(BUILD)/pic/runtime/%.o,$(RUNTIME_SRC))

$(BUILD)/pic/runtime/%.o: runtime/%.c runtime/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -fPIC -Iruntime -c -o $@ $<

$(BUILD)/libnnrt.so.$(VERSION): $(RUNTIME_PIC_OBJ)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(RT_LIBS)

# ---------------------------------------------------------------- install
# GNU directory variables; DESTDIR stages the tree (packaging, the test).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PCDIR      ?= $(LIBDIR)/pkgconfig
INSTALL    ?= install
# What generated trainers #include, in a directory of their own.
RT_HEADERS := runtime/nnrt.h runtime/nnmath.h

# nnrt.pc is written at install time: it names the PREFIX of that install.
PC_SUBST = -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
           -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
           -e 's|@RT_LIBS@|$(RT_LIBS)|g'

install: $(BUILD)/nncc $(BUILD)/libnnrt.a $(BUILD)/libnnrt.so.$(VERSION) nnrt.pc.in
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PCDIR) \
	  $(DESTDIR)$(INCLUDEDIR)/nnrt $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 755 $(BUILD)/nncc $(DESTDIR)$(BINDIR)/nncc
	$(INSTALL) -m 644 $(BUILD)/libnnrt.a $(DESTDIR)$(LIBDIR)/libnnrt.a
	$(INSTALL) -m 755 $(BUILD)/libnnrt.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnnrt.so.$(VERSION)
	ln -sf libnnrt.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnnrt.so
	$(INSTALL) -m 644 $(RT_HEADERS) $(DESTDIR)$(INCLUDEDIR)/nnrt/
	sed $(PC_SUBST) nnrt.pc.in >$(DESTDIR)$(PCDIR)/nnrt.pc
	chmod 644 $(DESTDIR)$(PCDIR)/nnrt.pc
	$(INSTALL) -m 644 docs/nncc.1 $(DESTDIR)$(MANDIR)/man1/nncc.1

# Removes exactly what install wrote, and the header directory if empty.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nncc $(DESTDIR)$(LIBDIR)/libnnrt.a \
	  $(DESTDIR)$(LIBDIR)/libnnrt.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/libnnrt.so.$(VERSION) $(DESTDIR)$(PCDIR)/nnrt.pc \
	  $(addprefix $(DESTDIR)$(INCLUDEDIR)/nnrt/,$(notdir $(RT_HEADERS))) \
	  $(DESTDIR)$(MANDIR)/man1/nncc.1
	rmdir $(DESTDIR)$(INCLUDEDIR)/nnrt 2>/dev/null || true

# Install into a scratch DESTDIR, build and run a trainer with pkg-config,
# render the man page, uninstall (tests/install/run.sh).
check-install: $(BUILD)/nncc $(BUILD)/libnnrt.a $(BUILD)/libnnrt.so.$(VERSION) nnrt.pc.in
	sh tests/install/run.sh

# --emit=dot goldens and --emit=lib against --predict (tests/emit/run.sh).
check-emit: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/emit/run.sh $(BUILD)

# The same sources with -DNN_MPI through mpicc: trainers linked with it
# split every batch across the ranks of mpirun (runtime/mpi.c).
$(BUILD)/runtime_mpi/%.o: runtime/%.c runtime/*.h
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS) $(STD) $(WARN) -DNN_MPI -Iruntime -c -o $@ $<

$(BUILD)/libnnrt_mpi.a: $(RUNTIME_MPI_OBJ)
	rm -f $@
	ar rcs $@ $^

mpi: $(BUILD)/nncc $(BUILD)/libnnrt_mpi.a

# Skips (exit 0, with a message) when mpicc or mpirun is missing.
check-mpi: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/mpi/run.sh $(BUILD)

# -------------------------------------------------------------- generated
# The checked-in C of every example model.  Paths are relative so the bytes
# do not depend on where the project is checked out.
generated: $(BUILD)/nncc
	@for m in $(MODELS); do \
	  g=generated/$$(basename $$m .nn).c; \
	  echo "nncc $$m -o $$g"; \
	  $(BUILD)/nncc $$m -o $$g || exit 1; \
	done

# A trainer from a generated file: build/train_<model>
$(BUILD)/train_%: generated/%.c $(BUILD)/libnnrt.a runtime/nnrt.h
	$(CC) $(TRAIN_CFLAGS) $(OPENMP) $(WARN) -Iruntime -o $@ $< $(BUILD)/libnnrt.a $(RT_LIBS)

include tests/tests.mk
include tests/bench/bench.mk

clean:
	rm -rf $(BUILD) build-asan build-fuzz
