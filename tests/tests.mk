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

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; (cd tests/unit && ../../$$t); done

test: unit
