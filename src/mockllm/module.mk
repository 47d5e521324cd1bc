# sluice-mockllm: a mock OpenAI / Anthropic upstream for tests and benchmarks
# (docs/mockllm.md). libuv event loops; picohttpparser from libh2o.
MOCK_SRCS := $(wildcard src/mockllm/*.c)
MOCK_OBJS := $(MOCK_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BUILD)/sluice-mockllm

$(BUILD)/sluice-mockllm: $(MOCK_OBJS) $(BUILD)/libsluice_json.a
	$(CC) $(LDFLAGS) -o $@ $(MOCK_OBJS) $(BUILD)/libsluice_json.a -luv -lh2o
