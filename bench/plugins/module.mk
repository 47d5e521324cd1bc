# Plugin cost benchmark (bench/plugins/run.sh): an in-process driver of the
# plugin pipeline and the pass-through plugin it measures.
BENCH_BINS += $(BUILD)/bench/plugin_bench $(BUILD)/bench/plugins/passthru.wasm
$(BUILD)/bench/plugin_bench: $(BUILD)/bench/plugins/plugin_bench.o $(BUILD)/libsluice_plugin.a \
                             $(BUILD)/libsluice_wasm.a $(BUILD)/libsluice_json.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PLUGIN_LDLIBS) -o $@
$(BUILD)/bench/plugins/passthru.wasm: bench/plugins/passthru.c
	@mkdir -p $(@D)
	$(WASM_CC) -o $@ $<
