# WebAssembly engine tests: embedding API unit test (its modules are
# assembled from tests/wasm/*.wat with wabt's wat2wasm) and the fuzz target.
WASM_TEST_MODULES := $(BUILD)/tests/wasm/api.wasm $(BUILD)/tests/wasm/wasi.wasm $(BUILD)/tests/wasm/scan.wasm
TEST_BINS += $(BUILD)/tests/test_wasm_api

$(BUILD)/tests/wasm/%.wasm: tests/wasm/%.wat
	@mkdir -p $(@D)
	wat2wasm $< -o $@

$(BUILD)/tests/test_wasm_api: $(BUILD)/tests/wasm/test_wasm_api.o $(WASM_LIB) | $(WASM_TEST_MODULES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ -lm -o $@

FUZZ_BINS += $(BUILD_FUZZ)/fuzz_wasm
$(BUILD_FUZZ)/fuzz_wasm: tests/wasm/fuzz_wasm.c $(WASM_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $^ -lm -o $@
