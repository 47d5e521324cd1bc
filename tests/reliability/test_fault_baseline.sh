#!/usr/bin/env bash
# Every upstream fault of sluice-mockllm at once (refused, reset before headers,
# reset mid-stream, stalls with timeouts, 5xx storms, malformed JSON and SSE, 32 MiB
# responses, slow drip) plus fallbacks, in 3 rounds beside healthy traffic: each
# client gets a clear OpenAI error or an SSE error event, fallbacks engage, healthy
# requests stay fast, and the gateway's fds and RSS after the last round are back to
# their level after the first (tests/reliability/fault_rounds.py states the slack).
. "$(dirname "$0")/../gateway/lib.sh"
start_mock
U="http://127.0.0.1:$MOCK_PORT"
prov() { fault_provider "$1" "$2" sk-rel-secret-55 "${3:-}"; }   # NAME FAULT [extra network_config json]
T1='"default_request_timeout_in_seconds": 1, "stream_idle_timeout_in_seconds": 1,'
CFG=$(write_config <<JSON
{"providers": {
  "up": {"keys": [], "network_config": {"base_url": "$U"}},
  "refused": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:1"}},
  $(prov reset reset-before-headers), $(prov midreset reset-mid-stream),
  $(prov stall stall "$T1"), $(prov midstall stall-mid-stream "$T1"),
  $(prov f500 500), $(prov f503 503), $(prov badjson malformed-json), $(prov badsse malformed-sse),
  $(prov huge huge), $(prov drip drip "$T1")}}
JSON
)
start_gw --config "$CFG"
python3 tests/reliability/fault_rounds.py "$GW_PORT" "$GW_PID" "$MOCK_PORT" 3 || fail "fault rounds"
grep -q 'sk-rel-secret' "$GW_LOG" && fail "an API key reached the log"
req GET /health
[ "$STATUS" = 200 ] || fail "gateway not serving after the faults"
stop_gw || fail "gateway exit status $?"
pass "faults: clear errors, fallbacks, healthy traffic unaffected, fds/RSS back to baseline"
