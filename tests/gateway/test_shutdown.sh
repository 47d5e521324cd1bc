#!/usr/bin/env bash
# SIGTERM with a stream in flight: the stream finishes, new connections are
# refused, and the gateway exits 0.
. "$(dirname "$0")/lib.sh"
start_mock
CFG=$(write_config <<JSON
{"providers": {"slow": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT",
               "extra_headers": {"x-mock-chunk-delay-ms": "200"}}}}}
JSON
)
start_gw --config "$CFG"
curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
     -d '{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"one two three four five six"}]}' >"$TMP/stream" &
CURL=$!; PIDS+=("$CURL")
sleep 0.5
kill -TERM "$GW_PID"
sleep 0.2
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$GW_PORT/health" && fail "still accepting after SIGTERM"
wait "$CURL" || fail "client stream failed"
[ "$(stream_text "$(cat "$TMP/stream")")" = "echo: one two three four five six" ] || fail "stream cut: $(cat "$TMP/stream")"
[ "$(tail -n2 "$TMP/stream" | head -n1)" = "data: [DONE]" ] || fail "no [DONE]: $(cat "$TMP/stream")"
rc=0; stop_gw || rc=$?
[ $rc = 0 ] || fail "exit status $rc"
grep -q 'SIGTERM received' "$GW_LOG" || fail "no shutdown log line"
pass "in-flight stream finished, exit 0"
