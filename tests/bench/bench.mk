# tests/bench/bench.mk — `make bench`, included by the Makefile.
# Builds nncc and libnnrt, compiles tests/bench/models/*.nn, times the
# trainers (--bench / --bench-infer) against PyTorch (tests/bench/torch_ref.py),
# an FMA loop and sgemm, and prints one set of tables.  Figures only: nothing
# is asserted and nothing is installed (missing PyTorch or OpenBLAS is
# reported).  About two minutes; BENCH_SECONDS=0.3 sets the length of each
# timed run.
.PHONY: bench

bench: $(BUILD)/nncc $(BUILD)/libnnrt.a
	@CC='$(CC)' TRAIN_CFLAGS='$(TRAIN_CFLAGS)' OPENMP='$(OPENMP)' RT_LIBS='$(RT_LIBS)' \
	  sh tests/bench/run.sh $(BUILD)
