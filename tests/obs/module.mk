# Unit tests of src/obs: the metrics registry checked by a strict exposition
# format checker (tests/obs/promcheck.c), and the SQLite log store.
OBS_TEST_LIBS := $(BUILD)/libsluice_obs.a $(BUILD)/libsluice_json.a

TEST_BINS += $(BUILD)/tests/test_obs_metrics $(BUILD)/tests/test_obs_store $(BUILD)/tests/test_obs_promcheck

$(BUILD)/tests/test_obs_metrics: $(BUILD)/tests/obs/test_obs_metrics.o $(BUILD)/tests/obs/promcheck.o $(OBS_TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(OBS_TEST_LIBS) $(OBS_LDLIBS)

$(BUILD)/tests/test_obs_promcheck: $(BUILD)/tests/obs/test_obs_promcheck.o $(BUILD)/tests/obs/promcheck.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lm

$(BUILD)/tests/test_obs_store: $(BUILD)/tests/obs/test_obs_store.o $(OBS_TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(OBS_TEST_LIBS) $(OBS_LDLIBS)

TEST_BINS += $(BUILD)/tests/test_obs_gateway
$(BUILD)/tests/test_obs_gateway: $(BUILD)/tests/obs/test_obs_gateway.o $(BUILD)/tests/obs/promcheck.o $(OBS_TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(OBS_TEST_LIBS) $(OBS_LDLIBS)

# The checker as a command for tests/obs/test_*.sh (not a test itself).
BINS += $(BUILD)/tests/obs/promcheck
$(BUILD)/tests/obs/promcheck: $(BUILD)/tests/obs/promcheck_main.o $(BUILD)/tests/obs/promcheck.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

TEST_BINS += $(BUILD)/tests/test_obs_log
$(BUILD)/tests/test_obs_log: $(BUILD)/tests/obs/test_obs_log.o $(OBS_TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(OBS_TEST_LIBS) $(OBS_LDLIBS)

# GET /api/logs' query string and stored-batch decoding under libFuzzer.
FUZZ_BINS += $(BUILD_FUZZ)/fuzz_obs_query
$(BUILD_FUZZ)/fuzz_obs_query: tests/obs/fuzz_obs_query.c src/obs/store_query.c src/obs/store_int.h $(wildcard src/json/*.c)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/obs/fuzz_obs_query.c src/obs/store_query.c $(wildcard src/json/*.c) -lsqlite3 -lm
