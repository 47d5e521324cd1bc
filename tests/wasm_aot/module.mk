# Tests of the compiled WebAssembly tier (src/wasm/aot, docs/wasm-aot.md).
TEST_BINS += $(BUILD)/tests/test_wasm_aot
$(BUILD)/tests/test_wasm_aot: $(BUILD)/tests/wasm_aot/test_aot.o $(WASM_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ -lm -o $@
TEST_BINS += $(BUILD)/tests/test_wasm_start_limits
$(BUILD)/tests/test_wasm_start_limits: $(BUILD)/tests/wasm_aot/test_start_limits.o $(WASM_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ -lm -o $@
