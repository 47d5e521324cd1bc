# bench/wasm: the WebAssembly engine benchmark (bench/wasm/run.sh).
#
# Each workload bench/wasm/workloads/<name>.c is built four ways, all under
# $(BUILD)/bench/wasm/:
#   native_<name>        cc -O2 + native_main.c (times bench() in-process)
#   <name>.wasm          clang --target=wasm32, freestanding, exports bench
#   quick/native_<name>, quick/<name>.wasm   the same with -DBENCH_QUICK
#                        (smaller sizes, for `make bench-quick`)
# Only `make bench` / `make bench-quick` build these (BENCH_BINS), so `make`
# and `make check` never need the wasm32 toolchain.

BW_NAMES   := json sha256 sort fib matmul nop
BW_OUT     := $(BUILD)/bench/wasm
BW_SRC     := bench/wasm/workloads
BW_DEPS    := $(BW_SRC)/rt.h bench/wasm/module.mk

# Fixed flags, not $(CFLAGS): the numbers must not change under SAN=1 or
# EXTRA_CFLAGS, and the native side is plain `cc -O2` by definition.
BW_NATIVE_CC     := $(CC)
BW_NATIVE_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE
# clang finds wasm-ld (package lld) on PATH for the wasm32 target. No libc:
# rt.h supplies the few helpers; a 64 KB stack is ample (the big arrays are
# globals, not locals).
BW_WASM_CC       := clang
BW_WASM_CFLAGS   := --target=wasm32 -std=c11 -O2 -Wall -Wextra -Werror \
                    -ffreestanding -nostdlib
BW_WASM_LDFLAGS  := -Wl,--no-entry -Wl,--export=bench -Wl,-z,stack-size=65536

BW_BINS := $(foreach v,$(BW_OUT) $(BW_OUT)/quick, \
             $(foreach n,$(BW_NAMES),$(v)/native_$(n) $(v)/$(n).wasm))
BENCH_BINS += $(BW_BINS)

.PHONY: bench-wasm-bins
bench-wasm-bins: $(BW_BINS)

$(BW_OUT)/native_%: $(BW_SRC)/%.c bench/wasm/native_main.c $(BW_DEPS)
	@mkdir -p $(@D)
	$(BW_NATIVE_CC) $(BW_NATIVE_CFLAGS) -o $@ $< bench/wasm/native_main.c

$(BW_OUT)/%.wasm: $(BW_SRC)/%.c $(BW_DEPS)
	@mkdir -p $(@D)
	$(BW_WASM_CC) $(BW_WASM_CFLAGS) $(BW_WASM_LDFLAGS) -o $@ $<

$(BW_OUT)/quick/native_%: $(BW_SRC)/%.c bench/wasm/native_main.c $(BW_DEPS)
	@mkdir -p $(@D)
	$(BW_NATIVE_CC) $(BW_NATIVE_CFLAGS) -DBENCH_QUICK -o $@ $< bench/wasm/native_main.c

$(BW_OUT)/quick/%.wasm: $(BW_SRC)/%.c $(BW_DEPS)
	@mkdir -p $(@D)
	$(BW_WASM_CC) $(BW_WASM_CFLAGS) -DBENCH_QUICK $(BW_WASM_LDFLAGS) -o $@ $<
