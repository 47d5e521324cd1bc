# Gateway tests are scripts (tests/gateway/test_*.sh); this fragment only adds
# the libFuzzer target for the configuration loader (corpus tests/fuzz/corpus/config/).
FUZZ_BINS += $(BUILD_FUZZ)/fuzz_config
$(BUILD_FUZZ)/fuzz_config: tests/gateway/fuzz_config.c src/core/config.c src/core/config.h \
                           $(wildcard src/json/*.c src/json/*.h) include/sluice/json.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/gateway/fuzz_config.c src/core/config.c $(wildcard src/json/*.c) -lm

# Unit tests of config loading, model resolution and the mock provider.
TEST_BINS += $(BUILD)/tests/test_gateway_unit
GW_UNIT_OBJS := $(BUILD)/tests/gateway/test_gateway_unit.o $(BUILD)/src/core/config.o \
                $(BUILD)/src/provider/provider.o $(BUILD)/src/provider/mock.o $(BUILD)/src/provider/openai.o
$(BUILD)/tests/test_gateway_unit: $(GW_UNIT_OBJS) $(BUILD)/libsluice_obs.a $(BUILD)/libsluice_upstream.a $(BUILD)/libsluice_json.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(GW_UNIT_OBJS) $(BUILD)/libsluice_obs.a $(BUILD)/libsluice_upstream.a $(BUILD)/libsluice_json.a -lsqlite3 -lcurl -luv -lh2o -lm
