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

# The example plugins written with the header-only C SDK: freestanding
# (clang --target=wasm32, no libc) and WASI reactor on Debian's wasi-libc
# (packages wasi-libc, libclang-rt-14-dev-wasm32). Used by test_examples_e2e.
SDK_H := examples/plugins/sdk/sluice_plugin_sdk.h
# c-guard-wasi.wasm is guard.c built in the SDK's libc mode (both modes tested).
SDK_EXAMPLES := $(BUILD)/examples/plugins/c-guard.wasm $(BUILD)/examples/plugins/c-policy.wasm \
                $(BUILD)/examples/plugins/c-guard-wasi.wasm
$(BUILD)/examples/plugins/c-guard.wasm: examples/plugins/c/guard.c $(SDK_H)
	@mkdir -p $(@D)
	clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Wextra -Werror -Wl,--no-entry \
	    -Iexamples/plugins/sdk -o $@ $<
WASI_CC := clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror -Iexamples/plugins/sdk
$(BUILD)/examples/plugins/c-policy.wasm: examples/plugins/c-wasi/policy.c $(SDK_H)
	@mkdir -p $(@D)
	$(WASI_CC) -o $@ $<
$(BUILD)/examples/plugins/c-guard-wasi.wasm: examples/plugins/c/guard.c $(SDK_H)
	@mkdir -p $(@D)
	$(WASI_CC) -o $@ $<
all: $(SDK_EXAMPLES)
