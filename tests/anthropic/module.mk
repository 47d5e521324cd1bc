# Anthropic provider and drop-in endpoint: unit tests of the pure translations
# (src/provider/anthropic_xlate.c, anthropic_rev.c), their libFuzzer target
# (corpus tests/fuzz/corpus/anthropic/), and end-to-end scripts
# tests/anthropic/test_*.sh run by tests/run.sh.
ANT_XLATE_SRCS := src/provider/anthropic_xlate.c src/provider/anthropic_rev.c

TEST_BINS += $(BUILD)/tests/test_anthropic
ANT_UNIT_OBJS := $(BUILD)/tests/anthropic/test_anthropic.o $(ANT_XLATE_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/src/provider/sse.o
$(BUILD)/tests/test_anthropic: $(ANT_UNIT_OBJS) $(BUILD)/libsluice_json.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(ANT_UNIT_OBJS) $(BUILD)/libsluice_json.a -lm

FUZZ_BINS += $(BUILD_FUZZ)/fuzz_anthropic
$(BUILD_FUZZ)/fuzz_anthropic: tests/anthropic/fuzz_anthropic.c $(ANT_XLATE_SRCS) src/provider/anthropic_xlate.h \
                              $(wildcard src/json/*.c src/json/*.h) include/sluice/json.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/anthropic/fuzz_anthropic.c $(ANT_XLATE_SRCS) $(wildcard src/json/*.c) -lm

# build/sluice picks up src/provider/anthropic*.c by wildcard; the gateway's
# unit test links provider.o, which now references prov_anthropic_ops, so it
# needs the provider too (a target-specific append: no edit to that fragment).
ANT_PROVIDER_OBJS := $(BUILD)/src/provider/anthropic.o $(ANT_XLATE_SRCS:%.c=$(BUILD)/%.o)
$(BUILD)/tests/test_gateway_unit: $(ANT_PROVIDER_OBJS)
$(BUILD)/tests/test_gateway_unit: GW_UNIT_OBJS += $(ANT_PROVIDER_OBJS)
