# Gateway tests are scripts (tests/gateway/test_*.sh); this fragment only adds
# the libFuzzer target for the configuration loader (corpus tests/fuzz/corpus/config/).
FUZZ_BINS += $(BUILD_FUZZ)/fuzz_config
$(BUILD_FUZZ)/fuzz_config: tests/gateway/fuzz_config.c src/core/config.c src/core/config.h \
                           $(wildcard src/json/*.c src/json/*.h) include/sluice/json.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/gateway/fuzz_config.c src/core/config.c $(wildcard src/json/*.c) -lm
