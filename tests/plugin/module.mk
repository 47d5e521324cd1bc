# Plugin host tests: C tests driving src/plugin directly with the example
# plugins of src/plugin/module.mk.
PLUGIN_TEST_LIBS := $(BUILD)/libsluice_plugin.a $(BUILD)/libsluice_wasm.a $(BUILD)/libsluice_json.a
TEST_BINS += $(BUILD)/tests/test_plugin_wasm

$(BUILD)/tests/test_plugin_wasm: $(BUILD)/tests/plugin/test_plugin_wasm.o $(PLUGIN_TEST_LIBS) | $(PLUGIN_EXAMPLES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PLUGIN_LDLIBS) -o $@

# Native plugins call back into the binary: export its symbols.
TEST_BINS += $(BUILD)/tests/test_plugin_native
$(BUILD)/tests/test_plugin_native: $(BUILD)/tests/plugin/test_plugin_native.o $(PLUGIN_TEST_LIBS) | $(PLUGIN_EXAMPLES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -rdynamic $< -Wl,--whole-archive $(BUILD)/libsluice_plugin.a $(BUILD)/libsluice_json.a \
	    -Wl,--no-whole-archive $(BUILD)/libsluice_wasm.a $(PLUGIN_LDLIBS) -o $@

TEST_BINS += $(BUILD)/tests/test_plugin_fetch
$(BUILD)/tests/test_plugin_fetch: $(BUILD)/tests/plugin/test_plugin_fetch.o $(PLUGIN_TEST_LIBS) | $(PLUGIN_EXAMPLES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PLUGIN_LDLIBS) -o $@

FUZZ_BINS += $(BUILD_FUZZ)/fuzz_plugin
$(BUILD_FUZZ)/fuzz_plugin: tests/plugin/fuzz_plugin.c src/plugin/marshal.c src/plugin/types.c $(wildcard src/json/*.c)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $^ -lm -o $@
