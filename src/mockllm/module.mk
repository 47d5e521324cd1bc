# sluice-mockllm: a mock OpenAI / Anthropic upstream for tests and benchmarks
# (docs/mockllm.md). libuv event loops; picohttpparser from libh2o.
MOCK_SRCS := $(wildcard src/mockllm/*.c)
MOCK_OBJS := $(MOCK_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BUILD)/sluice-mockllm

$(BUILD)/sluice-mockllm: $(MOCK_OBJS) $(BUILD)/libsluice_json.a
	$(CC) $(LDFLAGS) -o $@ $(MOCK_OBJS) $(BUILD)/libsluice_json.a -luv -lh2o

# libFuzzer target for the request parser (seeds: tests/fuzz/corpus/mock_http/).
FUZZ_BINS += $(BUILD_FUZZ)/fuzz_mock_http
$(BUILD_FUZZ)/fuzz_mock_http: tests/mockllm/fuzz_mock_http.c src/mockllm/mock_http.c $(wildcard src/json/*.c)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lh2o

# libFuzzer target for chat handling (seeds: tests/fuzz/corpus/mock_chat/).
FUZZ_BINS += $(BUILD_FUZZ)/fuzz_mock_chat
MOCK_FUZZ_CHAT_SRCS := $(filter-out src/mockllm/mock_main.c src/mockllm/mock_server.c,$(wildcard src/mockllm/*.c))
$(BUILD_FUZZ)/fuzz_mock_chat: tests/mockllm/fuzz_mock_chat.c $(MOCK_FUZZ_CHAT_SRCS) $(wildcard src/json/*.c)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ -lh2o
