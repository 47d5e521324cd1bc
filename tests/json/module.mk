# JSON module tests: unit tests, JSONTestSuite conformance, differential vs jansson.
JSON_LIB := $(BUILD)/libsluice_json.a
TEST_BINS += $(BUILD)/tests/test_json_suite

$(BUILD)/tests/test_json_suite: $(BUILD)/tests/json/test_json_suite.o $(JSON_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS)

TEST_BINS += $(BUILD)/tests/test_json_unit
$(BUILD)/tests/test_json_unit: $(BUILD)/tests/json/test_json_unit.o $(JSON_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -lm
