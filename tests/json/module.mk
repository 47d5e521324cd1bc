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

# libFuzzer target: the library sources compiled with the fuzzing flags.
FUZZ_BINS += $(BUILD_FUZZ)/fuzz_json
$(BUILD_FUZZ)/fuzz_json: tests/json/fuzz_json.c $(wildcard src/json/*.c src/json/*.h) include/sluice/json.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/json/fuzz_json.c $(wildcard src/json/*.c) -lm

TEST_BINS += $(BUILD)/tests/test_json_diff
$(BUILD)/tests/json/test_json_diff.o: CFLAGS += $(shell pkg-config --cflags jansson 2>/dev/null)
$(BUILD)/tests/test_json_diff: $(BUILD)/tests/json/test_json_diff.o $(JSON_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
