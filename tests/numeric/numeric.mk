# tests/numeric/numeric.mk — included by tests/tests.mk (or the Makefile).
#   numeric        gradient checks of tests/numeric/*.nn, trainers built in
#                  double precision by gcc (by clang if $(CC) is clang)
#                  (tests/numeric/run.sh)
#   numeric-clang  the same, trainers built by clang
#   numeric-openmp the same with -fopenmp
#   numeric-asan   the same with nncc, libnnrt and the trainers under
#                  AddressSanitizer + UBSan (in build-asan)
# The compiler's unit tests share tests/unit/nncc_test.h, and test_emit and
# test_conv build trainers against $(BUILD)/libnnrt.a at run time.
NUMERIC_CFLAGS ?=
NUMERIC_CC ?= $(if $(findstring clang,$(CC)),clang,gcc)
NUMERIC_ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                      -fno-omit-frame-pointer

$(filter-out $(BUILD)/tests/test_rt_%,$(UNIT_BIN)): tests/unit/nncc_test.h tests/unit/trainer_harness.h
$(BUILD)/tests/test_rt_main $(BUILD)/tests/test_rt_seq: tests/unit/run_main.h
$(BUILD)/tests/test_rt_main $(BUILD)/tests/test_rt_seq $(BUILD)/tests/test_rt_ckpt $(BUILD)/tests/test_rt_text: tests/unit/tmpdir.h
$(BUILD)/tests/test_emit $(BUILD)/tests/test_conv $(BUILD)/tests/test_seq: $(BUILD)/libnnrt.a

.PHONY: numeric numeric-clang numeric-asan numeric-openmp
numeric: $(BUILD)/nncc $(BUILD)/libnnrt.a
	NUMERIC_CFLAGS='$(NUMERIC_CFLAGS)' CC=$(NUMERIC_CC) sh tests/numeric/run.sh $(BUILD)

numeric-clang: $(BUILD)/nncc $(BUILD)/libnnrt.a
	NUMERIC_CFLAGS='$(NUMERIC_CFLAGS)' CC=clang sh tests/numeric/run.sh $(BUILD)

numeric-asan:
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) BUILD=build-asan CFLAGS='$(NUMERIC_ASAN_FLAGS)' \
	  NUMERIC_CFLAGS='$(NUMERIC_ASAN_FLAGS)' numeric

# the trainers with OpenMP (threads in linear, matmul_nn, matmul_tn)
numeric-openmp: $(BUILD)/nncc $(BUILD)/libnnrt.a
	NUMERIC_CFLAGS='$(NUMERIC_CFLAGS) -fopenmp' CC=$(NUMERIC_CC) sh tests/numeric/run.sh $(BUILD)
