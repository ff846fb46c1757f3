# tests/tests.mk — included by the Makefile.
#   tests/unit/test_rt_*.c   cmocka units linked with the runtime
#   tests/unit/test_*.c      cmocka units linked with the compiler's objects
UNIT_RT_SRC := $(wildcard tests/unit/test_rt_*.c)
UNIT_CC_SRC := $(filter-out $(UNIT_RT_SRC),$(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_RT_SRC) $(UNIT_CC_SRC))

$(BUILD)/tests/test_rt_%: tests/unit/test_rt_%.c $(BUILD)/libnnrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Iruntime -o $@ $< $(BUILD)/libnnrt.a -lcmocka $(RT_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(COMPILER_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Icompiler -I$(BUILD)/grammar -o $@ $< $(COMPILER_LIB_OBJ) -lcmocka -lm

# test_norm builds batchnorm trainers against the runtime at run time
$(BUILD)/tests/test_norm: $(BUILD)/libnnrt.a
# test_skip and test_init build trainers against libnnrt.a at run time
$(BUILD)/tests/test_skip $(BUILD)/tests/test_init: $(BUILD)/libnnrt.a

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; (cd tests/unit && ../../$$t); done


golden: $(BUILD)/nncc
	sh tests/golden/run.sh $(BUILD)/nncc

# generated/ must be what `make generated` writes now: regenerate into a
# scratch tree with the same relative paths and diff.
check-generated: $(BUILD)/nncc
	@rm -rf $(BUILD)/regen && mkdir -p $(BUILD)/regen/models $(BUILD)/regen/generated
	@cp models/*.nn $(BUILD)/regen/models/
	@set -e; for m in $(MODELS); do \
	  (cd $(BUILD)/regen && ../nncc $$m -o generated/$$(basename $$m .nn).c); done
	@if diff -ru generated $(BUILD)/regen/generated; then \
	  echo "generated: 1 passed, 0 failed"; \
	else echo "generated/ is stale: run 'make generated' and commit"; exit 1; fi

# Every generated trainer compiles without a warning under gcc and clang,
# with and without OpenMP, in float and in double.
check-warnings: $(GENERATED)
	@set -e; n=0; for c in $(GENERATED); do for cc in gcc clang; do \
	  for f in "-fopenmp" "" "-fopenmp -DNN_REAL=double"; do \
	    $$cc -O2 -march=native $$f -Wall -Wextra -Werror -Iruntime -c -o /dev/null $$c; \
	    n=$$((n+1)); done; done; done; echo "warnings: $$n passed, 0 failed"

run-tests: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/run/run.sh $(BUILD)

# Exact resume: stopped (boundary, SIGTERM, SIGKILL) and resumed runs give
# bitwise the weights of uninterrupted ones; the refusals.
.PHONY: check-resume
check-resume: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/run/resume.sh $(BUILD)

# Bad training, test and prediction data through four trainers (CSV, IDX,
# text, series): exit status 1 and the messages of tests/baddata/*.err.
.PHONY: check-baddata
check-baddata: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/baddata/run.sh $(BUILD)

# The compiler, the runtime and the unit and golden tests again under
# AddressSanitizer + UBSan (any report fails), then the numeric tests, the
# trainer of every model (a short run on a subset of its data) and the
# bad-data tests, all with nncc, libnnrt and the trainers under the
# sanitizers (build-asan).
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
check-asan:
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) BUILD=build-asan CFLAGS='$(ASAN_FLAGS)' unit golden
	$(MAKE) numeric-asan
	$(MAKE) check-asan-trainers

.PHONY: check-asan-trainers check-valgrind
check-asan-trainers:
	$(MAKE) BUILD=build-asan CFLAGS='$(ASAN_FLAGS)' all
	ASAN_FLAGS='$(ASAN_FLAGS)' sh tests/memory/asan_trainers.sh build-asan
	ASAN_OPTIONS=detect_leaks=1 BADDATA_CFLAGS='$(ASAN_FLAGS)' sh tests/baddata/run.sh build-asan

# The iris trainer (train, save, load, predict, eval, bad data) under
# valgrind's memcheck: no error, no definitely lost block.
check-valgrind: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/memory/valgrind.sh $(BUILD)

check: all unit golden numeric numeric-openmp check-generated check-warnings run-tests \
       check-resume check-baddata check-install check-emit check-mpi

test: deps
	$(MAKE) check
	$(MAKE) check-asan
	$(MAKE) check-valgrind
	$(MAKE) fuzz FUZZ_SECONDS=20

check-long: $(BUILD)/nncc $(BUILD)/libnnrt.a
	sh tests/run/long.sh $(BUILD)

include tests/numeric/numeric.mk
include tests/fuzz/fuzz.mk
