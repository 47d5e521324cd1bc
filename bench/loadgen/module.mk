# sluice-loadgen: open-loop HTTP/1.1 load generator for bench/gateway (make bench only).
BENCH_BINS += $(BUILD)/bench/sluice-loadgen
$(BUILD)/bench/sluice-loadgen: $(BUILD)/bench/loadgen/loadgen.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^
