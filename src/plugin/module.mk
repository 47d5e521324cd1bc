# Plugin host: libsluice_plugin.a (WASM plugins on libsluice_wasm, native
# .so plugins via dlopen, the hook JSON on libsluice_json).
PLUGIN_SRCS := $(wildcard src/plugin/*.c)
PLUGIN_LIB  := $(BUILD)/libsluice_plugin.a
LIBS += $(PLUGIN_LIB)

$(PLUGIN_LIB): $(PLUGIN_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
