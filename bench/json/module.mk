# JSON benchmark: sj_ vs jansson on a 2 KB chat request (bench/json/run.sh).
BENCH_BINS += $(BUILD)/bench/json_bench
$(BUILD)/bench/json/json_bench.o: CFLAGS += $(shell pkg-config --cflags jansson 2>/dev/null)
$(BUILD)/bench/json_bench: $(BUILD)/bench/json/json_bench.o $(BUILD)/libsluice_json.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
