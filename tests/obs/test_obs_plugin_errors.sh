#!/usr/bin/env bash
# A request's plugin_errors: the C example plugin traps on demand
# (x-trigger: trigger-trap: its HTTP hooks trap; fail-open, so the request
# still succeeds). That request's log line and store row count exactly the
# hook failures sluice_plugin_hook_failures_total gained; a plain request's 0.
. "$(dirname "$0")/../gateway/lib.sh"
PLUGIN=$(pwd)/$BUILD/examples/plugins/c-test.wasm
[ -f "$PLUGIN" ] || fail "missing $PLUGIN (run make)"
start_mock
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "ctest", "path": "$PLUGIN", "enabled": true, "timeout_ms": 200}],
 "client": {"log_file": "$TMP/sluice.log"},
 "logs_store": {"enabled": true, "config": {"path": "$TMP/logs.db"}}}
JSON
)
start_gw --config "$CFG"
MSG='{"model":"up/m","messages":[{"role":"user","content":"hello"}]}'
failures() { curl -s "http://127.0.0.1:$GW_PORT/metrics" |
             awk '/^sluice_plugin_hook_failures_total\{/ {s += $2} END {print s + 0}'; }
f0=$(failures)
req POST /v1/chat/completions "$MSG" -H 'x-request-id: obs-plain-1'
[ "$STATUS" = 200 ] || fail "plain request: $STATUS $BODY"
req POST /v1/chat/completions "$MSG" -H 'x-request-id: obs-trap-1' -H 'x-trigger: trigger-trap'
[ "$STATUS" = 200 ] || fail "trapping plugin (fail-open) broke the request: $STATUS $BODY"
f1=$(failures)
n=$((f1 - f0))
[ "$n" -ge 1 ] || fail "hook failures $f0 -> $f1"
for _ in $(seq 50); do
  req GET '/api/logs?limit=20'
  contains '"request_id":"obs-trap-1"' "$BODY" && break
  sleep 0.1
done
contains '"request_id":"obs-trap-1"' "$BODY" || fail "no row for the trapping request: $BODY"
row=$(grep -o '{[^{}]*"request_id":"obs-trap-1"[^{}]*}' <<<"$BODY")
contains "\"plugin_errors\":$n" "$row" || fail "store row (expected $n): $row"
row=$(grep -o '{[^{}]*"request_id":"obs-plain-1"[^{}]*}' <<<"$BODY")
contains '"plugin_errors":0' "$row" || fail "store row of the plain request: $row"
stop_gw || fail "gateway exit"
grep -q "\"request_id\":\"obs-trap-1\".*\"plugin_errors\":$n}" "$TMP/sluice.log" ||
  fail "log line: $(grep obs-trap-1 "$TMP/sluice.log")"
grep -q '"request_id":"obs-plain-1".*"plugin_errors":0}' "$TMP/sluice.log" || fail "log line of the plain request"
pass "trapping hooks: plugin_errors $n in the request's log line and store row (= hook failures in /metrics), 0 elsewhere"
