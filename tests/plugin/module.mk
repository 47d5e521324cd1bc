# Plugin host tests: C tests driving src/plugin directly with the example
# plugins of src/plugin/module.mk.
PLUGIN_TEST_LIBS := $(BUILD)/libsluice_plugin.a $(BUILD)/libsluice_wasm.a $(BUILD)/libsluice_json.a
TEST_BINS += $(BUILD)/tests/test_plugin_wasm

$(BUILD)/tests/test_plugin_wasm: $(BUILD)/tests/plugin/test_plugin_wasm.o $(PLUGIN_TEST_LIBS) | $(PLUGIN_EXAMPLES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ -ldl -lm -o $@
