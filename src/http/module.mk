# The gateway binary build/sluice: HTTP server (src/http/server*.c), request
# handling and configuration (src/core), providers (src/provider). The upstream
# client and SSE parser come from libsluice_upstream.a (tests/upstream/module.mk),
# the JSON module from libsluice_json.a.
GW_SRCS := $(wildcard src/http/server*.c) $(wildcard src/core/*.c) \
           $(filter-out src/provider/sse.c,$(wildcard src/provider/*.c))
GW_OBJS := $(GW_SRCS:%.c=$(BUILD)/%.o)
GW_LDLIBS := $(shell pkg-config --libs libh2o 2>/dev/null || echo -lh2o) -luv -lcurl -lssl -lcrypto -lz -lm

BINS += $(BUILD)/sluice

$(BUILD)/sluice: $(GW_OBJS) $(BUILD)/libsluice_upstream.a $(BUILD)/libsluice_json.a
	$(CC) $(LDFLAGS) -o $@ $(GW_OBJS) $(BUILD)/libsluice_upstream.a $(BUILD)/libsluice_json.a $(GW_LDLIBS)
