# The embeddable client (libsluice) against a real sluice-mockllm process,
# over HTTP and HTTPS (tests/client/tls_proxy.js in front of the mock).
TEST_BINS += $(BUILD)/tests/test_client
$(BUILD)/tests/test_client: $(BUILD)/tests/client/test_client.o $(BUILD)/tests/upstream/test_server.o \
                            $(BUILD)/libsluice.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(CLIENT_LDLIBS) -o $@
