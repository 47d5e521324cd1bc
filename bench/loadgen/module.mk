# sluice-loadgen: open-loop HTTP/1.1 load generator for bench/gateway, also used
# by the load tests (tests/plugin/test_hostile_load.sh), so `make all` builds it.
TEST_BINS += $(BUILD)/bench/sluice-loadgen
$(BUILD)/bench/sluice-loadgen: $(BUILD)/bench/loadgen/loadgen.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^
