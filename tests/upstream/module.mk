# Upstream HTTP client (src/http/upstream*.c) and SSE parser (src/provider/sse.c).
# Kept under tests/upstream/ because src/http/ and src/provider/ fragments belong
# to the HTTP server's module.

UPSTREAM_SRCS := $(wildcard src/http/upstream*.c) src/http/h1client.c src/http/h1parse.c src/provider/sse.c
UPSTREAM_OBJS := $(UPSTREAM_SRCS:%.c=$(BUILD)/%.o)
UPSTREAM_LDLIBS := -lcurl -luv -lh2o

LIBS += $(BUILD)/libsluice_upstream.a
$(BUILD)/libsluice_upstream.a: $(UPSTREAM_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

TEST_BINS += $(BUILD)/tests/test_sse $(BUILD)/tests/test_upstream $(BUILD)/tests/test_upstream_mock

$(BUILD)/tests/test_sse: $(BUILD)/tests/upstream/test_sse.o $(BUILD)/libsluice_upstream.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@

$(BUILD)/tests/test_upstream: $(BUILD)/tests/upstream/test_upstream.o \
		$(BUILD)/tests/upstream/test_server.o $(BUILD)/libsluice_upstream.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(UPSTREAM_LDLIBS) -o $@

# Against the mock provider (skips when $(BUILD)/sluice-mockllm is not built).
$(BUILD)/tests/test_upstream_mock: $(BUILD)/tests/upstream/test_upstream_mock.o \
		$(BUILD)/tests/upstream/test_server.o $(BUILD)/libsluice_upstream.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(UPSTREAM_LDLIBS) -o $@

FUZZ_BINS += $(BUILD_FUZZ)/fuzz_sse
$(BUILD_FUZZ)/fuzz_sse: tests/upstream/fuzz_sse.c src/provider/sse.c src/provider/sse.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/upstream/fuzz_sse.c src/provider/sse.c -o $@

# The native HTTP/1.1 client against a scripted server.
TEST_BINS += $(BUILD)/tests/test_h1client
$(BUILD)/tests/test_h1client: $(BUILD)/tests/upstream/test_h1client.o $(BUILD)/libsluice_upstream.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(UPSTREAM_LDLIBS) -o $@

FUZZ_BINS += $(BUILD_FUZZ)/fuzz_h1chunk
$(BUILD_FUZZ)/fuzz_h1chunk: tests/upstream/fuzz_h1chunk.c src/http/h1parse.c src/http/h1parse.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) tests/upstream/fuzz_h1chunk.c src/http/h1parse.c -o $@
