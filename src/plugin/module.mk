# Plugin host: libsluice_plugin.a (WASM plugins on libsluice_wasm, native
# .so plugins via dlopen, the hook JSON on libsluice_json).
PLUGIN_SRCS := $(filter-out src/plugin/probe.c src/plugin/gateway.c,$(wildcard src/plugin/*.c))
PLUGIN_LIB  := $(BUILD)/libsluice_plugin.a
LIBS += $(PLUGIN_LIB)
# What a program linking libsluice_plugin.a also needs (besides
# libsluice_wasm.a and libsluice_json.a); link it with -rdynamic so that
# native plugins can call the sluice_* / sj_* helpers.
PLUGIN_LDLIBS := -lcurl -lssl -lcrypto -ldl -lm

$(PLUGIN_LIB): $(PLUGIN_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# sluice-plugin-probe: load one plugin, run one hook, print the outcome.
BINS += $(BUILD)/sluice-plugin-probe
$(BUILD)/sluice-plugin-probe: $(BUILD)/src/plugin/probe.o
	$(CC) $(LDFLAGS) -rdynamic $< -Wl,--whole-archive $(PLUGIN_LIB) $(BUILD)/libsluice_json.a \
	    -Wl,--no-whole-archive $(BUILD)/libsluice_wasm.a $(PLUGIN_LDLIBS) -o $@
$(BUILD)/sluice-plugin-probe: $(PLUGIN_LIB) $(BUILD)/libsluice_json.a $(BUILD)/libsluice_wasm.a

# Example plugins, built from source by `make`: the freestanding C plugin
# (clang --target=wasm32 + wasm-ld) in the variants the tests need.
WASM_CC := clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Wextra -Werror -Wl,--no-entry
PLUGIN_EX := $(BUILD)/examples/plugins
PLUGIN_EXAMPLES := $(PLUGIN_EX)/c-test.wasm $(PLUGIN_EX)/c-family.wasm $(PLUGIN_EX)/c-free2.wasm \
                   $(PLUGIN_EX)/c-command.wasm $(PLUGIN_EX)/c-badimport.wasm
$(PLUGIN_EX)/c-test.wasm: examples/plugins/c/testplug.c
	@mkdir -p $(@D)
	$(WASM_CC) -o $@ $<
$(PLUGIN_EX)/c-family.wasm: examples/plugins/c/testplug.c
	@mkdir -p $(@D)
	$(WASM_CC) -DPLUGIN_FAMILY -DFREE2 -DRESET -DREACTOR '-DNAME="c-family"' -o $@ $<
$(PLUGIN_EX)/c-free2.wasm: examples/plugins/c/testplug.c
	@mkdir -p $(@D)
	$(WASM_CC) -DFREE2 '-DNAME="c-free2"' -o $@ $<
$(PLUGIN_EX)/c-command.wasm: examples/plugins/c/testplug.c
	@mkdir -p $(@D)
	$(WASM_CC) -DCOMMAND '-DNAME="c-command"' -o $@ $<
$(PLUGIN_EX)/c-badimport.wasm: examples/plugins/c/badimport.c
	@mkdir -p $(@D)
	$(WASM_CC) -o $@ $<

# The example native plugin (SPEC §4); its sluice_*/sj_* calls resolve
# against the loading binary, which must be linked with -rdynamic.
PLUGIN_EXAMPLES += $(PLUGIN_EX)/libnative_example.so
$(PLUGIN_EX)/libnative_example.so: examples/plugins/native-c/example.c include/sluice/plugin.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $<

all: $(PLUGIN_EXAMPLES)
