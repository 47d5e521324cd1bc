# Sluice: top-level build.
#
#   make            build everything into build/
#   make run        install missing packages, build, serve on 127.0.0.1:8080 (mock provider)
#   make test       install missing packages, build, run every test (tests/run.sh)
#   make bench      side-by-side benchmarks (bounded in time)
#   make SAN=1 ...  the same in build-asan/ with ASan + UBSan
#
# Each module describes itself in a fragment (src/*/module.mk, tests/module.mk,
# bench/module.mk) that appends to BINS, LIBS and TEST_BINS, so that work on one
# module never touches another's build rules.

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2
SAN      ?=
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Isrc
CFLAGS   := -std=c11 $(OPT) -g -Wall -Wextra -Werror -MMD -MP -pthread
LDFLAGS  := -pthread
ifeq ($(SAN),1)
  BUILD    := build-asan
  CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS  += -fsanitize=address,undefined
endif
# TSAN=1: ThreadSanitizer build in build-tsan/ (for `make tsan`, docs/reliability.md).
ifeq ($(TSAN),1)
  BUILD    := build-tsan
  CFLAGS   += -fsanitize=thread -fno-omit-frame-pointer
  LDFLAGS  += -fsanitize=thread
endif
CFLAGS += $(EXTRA_CFLAGS)

BINS      :=
LIBS      :=
TEST_BINS :=
BENCH_BINS :=   # programs only `make bench` needs
# libFuzzer targets: each module adds $(BUILD_FUZZ)/fuzz_<name> to FUZZ_BINS and
# builds it with $(FUZZ_CC) $(FUZZ_CFLAGS); its seed corpus is tests/fuzz/corpus/<name>/.
FUZZ_BINS :=
BUILD_FUZZ  := build-fuzz
FUZZ_CC     := clang
FUZZ_CFLAGS := -std=c11 -O1 -g -D_GNU_SOURCE -Iinclude -Isrc -pthread \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60

.PHONY: all deps run test check tsan tsan-build soak bench bench-quick fuzz fuzz-build print-fuzz-bins clean
all:

include $(sort $(wildcard src/*/module.mk tests/*/module.mk bench/*/module.mk))

all: $(LIBS) $(BINS) $(TEST_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/sluice --listen 127.0.0.1:8080

# `make test` is what CI runs: set-up, build, every test; then the same suite
# again built with ASan + UBSan (leak checks included) unless SKIP_SAN=1.
# The builds use every core; the fuzz targets are built here too, beside the
# plain build, so that the brief fuzz test's time limit covers only fuzzing
# (the sanitized interpreter alone takes minutes of one core to compile).
NPROC := $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all fuzz-build
	@tests/run.sh $(BUILD)
ifneq ($(SKIP_SAN),1)
	@$(MAKE) --no-print-directory -j$(NPROC) SAN=1 all
	@tests/run.sh build-asan
endif
ifneq ($(SKIP_TSAN),1)
	@$(MAKE) --no-print-directory tsan
endif

# The multi-threaded tests under ThreadSanitizer (tests/run.sh takes a
# space-separated list of name filters). Why each is in or out: docs/reliability.md.
TSAN_TESTS := test_obs_store test_obs_metrics test_wasm_api test_plugin_wasm test_upstream \
              gateway/test_stress gateway/test_faults soak/test_soak_short
# Only what those tests need is built (a full TSan build costs minutes of CI).
TSAN_BINS = $(BUILD)/sluice $(BUILD)/sluice-mockllm $(PLUGIN_EXAMPLES) \
            $(addprefix $(BUILD)/tests/,test_obs_store test_obs_metrics test_wasm_api test_plugin_wasm \
                                        test_upstream test_upstream_mock)
tsan-build: $(TSAN_BINS)
tsan:
	@$(MAKE) --no-print-directory -j$(NPROC) TSAN=1 tsan-build
	@tests/run.sh build-tsan "$(TSAN_TESTS)"

# 1,000,000 mixed requests through the gateway with a plugin (tests/soak/soak.sh);
# `make test` runs the short form (tests/soak/test_soak_short.sh).
soak: all
	@tests/soak/soak.sh $(BUILD) $${SOAK_REQUESTS:-1000000}

# Tests only, no package installation (for quick iteration).
check: all
	@tests/run.sh $(BUILD)

# Benchmarks: bench/run.sh runs every bench/*/run.sh (BENCH_QUICK=1 for the short form).
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@bench/run.sh $(BUILD)
bench-quick: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@BENCH_QUICK=1 bench/run.sh $(BUILD)

fuzz-build:
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
print-fuzz-bins:
	@echo $(FUZZ_BINS)

# Runs every fuzz target for FUZZ_SECONDS (default 60) on its seed corpus.
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@scripts/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
