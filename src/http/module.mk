# The gateway binary build/sluice: HTTP server (src/http/server*.c), request
# handling and configuration (src/core), providers (src/provider). The upstream
# client and SSE parser come from libsluice_upstream.a (tests/upstream/module.mk),
# the JSON module from libsluice_json.a.
GW_SRCS := $(wildcard src/http/server*.c) $(wildcard src/core/*.c) \
           $(filter-out src/provider/sse.c,$(wildcard src/provider/*.c))
GW_OBJS := $(GW_SRCS:%.c=$(BUILD)/%.o)
GW_LDLIBS := $(shell pkg-config --libs libh2o 2>/dev/null || echo -lh2o) -luv -lcurl -lssl -lcrypto -lz -lm

BINS += $(BUILD)/sluice

# Temporary: until the upstream branch lands, build without the OpenAI provider.
ifeq ($(wildcard src/http/upstream.c),)
GW_UPLIB :=
GW_OBJS := $(filter-out %/openai.o,$(GW_OBJS))
$(GW_OBJS): CPPFLAGS += -DSLUICE_NO_UPSTREAM
else
GW_UPLIB := $(BUILD)/libsluice_upstream.a
endif

$(BUILD)/sluice: $(GW_OBJS) $(GW_UPLIB) $(BUILD)/libsluice_json.a
	$(CC) $(LDFLAGS) -o $@ $(GW_OBJS) $(GW_UPLIB) $(BUILD)/libsluice_json.a $(GW_LDLIBS)
