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
        check-generated check-warnings check-asan deps demo mpi check-mpi

all: $(BUILD)/nncc $(BUILD)/libnnrt.a

help:
	@echo "make demo        install missing packages (as root), build, compile"
	@echo "                 models/fashion_mlp.nn and train it on Fashion-MNIST"
	@echo "make test        every test: unit, golden, numeric, trainer runs, generated/"
	@echo "                 in sync, warnings under gcc and clang, ASan+UBSan"
	@echo "make             build build/nncc and build/libnnrt.a"
	@echo "make generated   regenerate generated/*.c from models/*.nn"
	@echo "make mpi         build build/libnnrt_mpi.a, the data-parallel runtime (Open MPI)"
	@echo "make check-mpi   mpirun -np 2 equals one process of twice the batch (skipped"
	@echo "                 without Open MPI)"
	@echo "make check-long  full-length training runs that prove the accuracy figures"
	@echo "make fuzz        libFuzzer targets (front end, CSV, IDX, text, checkpoints),"
	@echo "                 FUZZ_SECONDS=60 each (make test runs them for 45)"

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
	$(CC) $(CFLAGS) $(STD) $(WARN) -Icompiler -I$(BUILD)/grammar -c -o $@ $<

$(BUILD)/nncc: $(COMPILER_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ -lm

# ---------------------------------------------------------------- runtime
$(BUILD)/runtime/%.o: runtime/%.c runtime/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Iruntime -c -o $@ $<

$(BUILD)/libnnrt.a: $(RUNTIME_OBJ)
	rm -f $@
	ar rcs $@ $^

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
