# tests/fuzz/fuzz.mk — included by tests/tests.mk.  libFuzzer targets
# (clang -fsanitize=fuzzer, with AddressSanitizer and UBSan), built in
# build-fuzz/ by a sub-make so that their objects never mix with build/'s:
#   fuzz_nncc   the compiler's front end, parse to emit_c (fuzz_nncc.c)
#   fuzz_csv    the CSV and time-series loaders
#   fuzz_idx    the IDX loader (plain and gzip)
#   fuzz_npy    the NumPy .npy loader
#   fuzz_text   the text loader
#   fuzz_ckpt   the safetensors checkpoint reader (into models/xor.nn)
#   make fuzz                    every target for FUZZ_SECONDS (60) each,
#                                after its regression inputs (tests/fuzz/regress/)
#   make fuzz FUZZ_SECONDS=600   a longer run
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := nncc csv idx npy text ckpt
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LINK    := -fsanitize=fuzzer,address,undefined

.PHONY: fuzz fuzz-bins
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS='$(FUZZ_CFLAGS)' fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

# Only meaningful inside the sub-make above (BUILD=build-fuzz, CC=clang).
fuzz-bins: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS)) $(BUILD)/nncc

$(BUILD)/fuzz/fuzz_nncc: tests/fuzz/fuzz_nncc.c $(COMPILER_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Icompiler -I$(BUILD)/grammar -o $@ $< $(COMPILER_LIB_OBJ) \
	  $(FUZZ_LINK) -lm

$(BUILD)/fuzz/fuzz_ckpt: tests/fuzz/fuzz_ckpt.c tests/fuzz/fuzz_file.h generated/xor.c $(BUILD)/libnnrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Iruntime -o $@ $< generated/xor.c -DNN_NO_MAIN \
	  $(BUILD)/libnnrt.a $(FUZZ_LINK) $(RT_LIBS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.h $(BUILD)/libnnrt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STD) $(WARN) -Iruntime -o $@ $< $(BUILD)/libnnrt.a $(FUZZ_LINK) $(RT_LIBS)
