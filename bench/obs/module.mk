# Logging cost benchmark (bench/obs/run.sh): the in-process CPU cost of one
# request's log line and store row, beside the gateway runs.
BENCH_BINS += $(BUILD)/bench/sluice-obs-log-cost
$(BUILD)/bench/sluice-obs-log-cost: $(BUILD)/bench/obs/log_cost.o $(BUILD)/libsluice_obs.a $(BUILD)/libsluice_json.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lsqlite3 -lm -pthread
