#!/usr/bin/env bash
# The plugin host in the gateway: engine tiers and metrics.
#  - engine "auto" (the default) serves at once on the interpreter, compiles in
#    the background (a fresh cache: nothing compiled yet) and later logs that
#    the plugin switched to aot; requests keep working across the switch;
#  - /metrics counts hook calls, failures by kind (trap, timeout), instance
#    recycles, and post_hook at the end of a stream;
#  - engine "aot" without a working compiler refuses to start, naming the cause.
. "$(dirname "$0")/../gateway/lib.sh"
PLUGIN=$(pwd)/$BUILD/examples/plugins/c-test.wasm
[ -f "$PLUGIN" ] || fail "missing $PLUGIN (run make)"
command -v wasm2c >/dev/null && command -v cc >/dev/null || { echo "skip: needs wasm2c and cc"; exit 77; }
export SLUICE_AOT_CACHE=$TMP/aot-cache
start_mock
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "ctest", "path": "$PLUGIN", "timeout_ms": 50}]}
JSON
)
MSG='{"model":"up/m","messages":[{"role":"user","content":"hello"}]}'
start_gw --config "$CFG"
req POST /v1/chat/completions "$MSG"
[ "$STATUS" = 200 ] || fail "first request: $STATUS $BODY"
grep -q "switched to aot" "$GW_LOG" && fail "switched before the first request: the compile cannot be that fast"
pass "engine auto: the first request is served at once (interpreter)"

metric() { # NAME{LABELS} -> value (0 if absent)
  local v; v=$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | grep -F "$1 " | awk '{print $2}' | head -n1)
  echo "${v:-0}"
}
calls0=$(metric 'sluice_plugin_hook_calls_total{plugin="c-test",hook="http_pre_hook"}')
req POST /v1/chat/completions "$MSG" -H 'x-trigger: trigger-trap'
[ "$STATUS" = 200 ] || fail "trap request: $STATUS"
req POST /v1/chat/completions "$MSG" -H 'x-trigger: trigger-loop'
[ "$STATUS" = 200 ] || fail "loop request: $STATUS"
calls1=$(metric 'sluice_plugin_hook_calls_total{plugin="c-test",hook="http_pre_hook"}')
traps=$(metric 'sluice_plugin_hook_failures_total{plugin="c-test",hook="http_pre_hook",kind="trap"}')
timeouts=$(metric 'sluice_plugin_hook_failures_total{plugin="c-test",hook="http_pre_hook",kind="timeout"}')
recycles=$(metric 'sluice_plugin_instance_recycles_total{plugin="c-test"}')
[ "$((calls1 - calls0))" = 2 ] || fail "hook calls moved by $((calls1 - calls0)), not 2"
[ "$traps" = 1 ] && [ "$timeouts" = 1 ] || fail "failures: trap=$traps timeout=$timeouts"
[ "$recycles" -ge 2 ] || fail "recycles: $recycles"
curl -s "http://127.0.0.1:$GW_PORT/metrics" | grep -q 'sluice_plugin_hook_duration_seconds_count{plugin="c-test",hook="pre_hook"}' ||
  fail "no hook latency histogram"
pass "/metrics: hook calls +$((calls1 - calls0)), trap $traps, timeout $timeouts, recycles $recycles, latency histogram"

post0=$(metric 'sluice_plugin_hook_calls_total{plugin="c-test",hook="post_hook"}')
chunks0=$(metric 'sluice_plugin_hook_calls_total{plugin="c-test",hook="http_stream_chunk_hook"}')
out=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
      -d '{"model":"up/m","stream":true,"messages":[{"role":"user","content":"hi"}]}')
grep -q '^data: \[DONE\]' <<<"$out" || fail "stream incomplete: $out"
post1=$(metric 'sluice_plugin_hook_calls_total{plugin="c-test",hook="post_hook"}')
chunks1=$(metric 'sluice_plugin_hook_calls_total{plugin="c-test",hook="http_stream_chunk_hook"}')
n=$(grep -c '^data: {' <<<"$out")
[ "$((post1 - post0))" = 1 ] || fail "post_hook ran $((post1 - post0)) times for one stream"
[ "$((chunks1 - chunks0))" -ge "$n" ] || fail "chunk hook ran $((chunks1 - chunks0)) times for $n chunks"
pass "stream: chunk hook on each of $n chunks, then post_hook once at the end"

for _ in $(seq 600); do grep -q "switched to aot" "$GW_LOG" && break; sleep 0.1; done
grep -q "plugin c-test: engine: switched to aot" "$GW_LOG" || fail "no tier-up within 60 s: $(grep engine "$GW_LOG")"
for _ in 1 2 3 4; do
  req POST /v1/chat/completions "$MSG"
  [ "$STATUS" = 200 ] || fail "after the switch: $STATUS"
done
last=$(curl -s "http://127.0.0.1:$MOCK_PORT/mock/last")
contains '"x-c-plugin":"c-test"' "$last" || fail "plugin not working after the switch: $last"
pass "$(grep -o 'engine: switched to aot.*' "$GW_LOG"); requests fine afterwards"
stop_gw || fail "gateway exit status $?"

CFG=$(write_config <<JSON
{"plugins": [{"name": "ctest", "path": "$PLUGIN", "engine": "aot"}]}
JSON
)
if SLUICE_AOT_CACHE=$TMP/empty-cache SLUICE_AOT_CC=/nonexistent/cc "$GW_BIN" --listen 127.0.0.1:$(free_port) \
     --config "$CFG" >"$TMP/aot.log" 2>&1; then
  fail "engine aot started without a compiler"
fi
grep -q "engine aot" "$TMP/aot.log" || fail "no clear error: $(cat "$TMP/aot.log")"
pass "engine aot without a compiler refuses to start: $(grep -o 'engine aot.*' "$TMP/aot.log" | head -n1)"

CFG=$(write_config <<JSON
{"plugins": [{"name": "ctest", "path": "$PLUGIN", "engine": "fast"}]}
JSON
)
if "$GW_BIN" --listen 127.0.0.1:$(free_port) --config "$CFG" >"$TMP/bad.log" 2>&1; then fail "accepted engine fast"; fi
grep -q 'plugins\[\].engine' "$TMP/bad.log" || fail "no clear error: $(cat "$TMP/bad.log")"
pass "an unknown engine is refused: $(tail -n1 "$TMP/bad.log")"
