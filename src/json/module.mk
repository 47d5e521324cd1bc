# JSON module: libsluice_json.a (strict parser, mutable document, writer).
JSON_SRCS := $(wildcard src/json/*.c)
JSON_OBJS := $(JSON_SRCS:%.c=$(BUILD)/%.o)
LIBS += $(BUILD)/libsluice_json.a

$(BUILD)/libsluice_json.a: $(JSON_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
