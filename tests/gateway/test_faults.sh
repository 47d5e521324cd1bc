#!/usr/bin/env bash
# Upstream faults (injected by sluice-mockllm through per-provider
# extra_headers) each give a clear OpenAI-shaped error, never leak a key, and
# the gateway keeps serving. Retries recover from transient 5xx.
. "$(dirname "$0")/lib.sh"
start_mock
U="http://127.0.0.1:$MOCK_PORT"
prov() { fault_provider "$1" "$2" sk-fault-secret-777 "${3:-}"; }   # NAME FAULT [extra network_config json]
CFG=$(write_config <<JSON
{"providers": {
  $(prov f500 500), $(prov f429 429), $(prov f401 401), $(prov f503 503),
  $(prov reset reset-before-headers), $(prov badjson malformed-json),
  $(prov stall stall '"default_request_timeout_in_seconds": 1,'),
  $(prov midreset reset-mid-stream), $(prov badsse malformed-sse),
  $(prov midstall stall-mid-stream '"stream_idle_timeout_in_seconds": 1,'),
  "flaky": {"keys": [], "network_config": {"base_url": "$U", "max_retries": 2, "retry_backoff_initial": 50,
            "retry_backoff_max": 100, "extra_headers": {"x-mock-fault": "500", "x-mock-fail-times": "2",
            "x-mock-fault-key": "flaky-$$"}}},
  "refused": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:1"}},
  $(prov f400 400), $(prov empty empty), "mock": {"keys": []},
  "dead": {"keys": [{"value": "sk-dead-A"}, {"value": "sk-dead-B"}], "network_config": {"base_url": "$U",
          "extra_headers": {"x-mock-fault": "401", "x-mock-fail-times": "1", "x-mock-fault-key": "dead-$$"}}},
  "rot": {"keys": [{"value": "sk-rot-A"}, {"value": "sk-rot-B"}], "network_config": {"base_url": "$U",
          "extra_headers": {"x-mock-fault": "429", "x-mock-fail-times": "1", "x-mock-fault-key": "rot-$$"}}}}}
JSON
)
start_gw --config "$CFG"
chat() { req POST /v1/chat/completions "{\"model\":\"$1/m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"; }
nokey() { contains "sk-fault-secret" "$BODY" && fail "API key leaked: $BODY"; true; }

chat f500;    expect_error 502 server_error "provider f500 returned HTTP 500"; nokey
chat f429;    expect_error 429 "" "HTTP 429"; nokey      # the upstream's own type is kept
chat f401;    expect_error 401 "" "HTTP 401"; nokey      # one key: the upstream's status
chat f503;    expect_error 503 server_error "HTTP 503"; nokey
chat reset;   expect_error 502 server_error "provider reset failed"; nokey
chat badjson; expect_error 502 server_error "not a JSON object"; nokey
chat refused; expect_error 502 server_error "cannot connect to provider refused"
t0=$(date +%s%N); chat stall; el=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_error 504 server_error "timed out"
[ $el -lt 5000 ] || fail "timeout took ${el} ms"
pass "non-streaming faults (timeout after ${el} ms)"

stream() { curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
           -d "{\"model\":\"$1/m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"a b c d e f g h\"}]}"; }
for p in midreset badsse midstall; do
  OUT=$(stream $p)
  last=$(grep '^data: ' <<<"$OUT" | tail -n1)
  contains '{"error":{"message":"provider '"$p" "$last" || fail "$p: stream does not end with an error event: $OUT"
  contains '[DONE]' "$OUT" && fail "$p: [DONE] after an error: $OUT"
  grep -q '^data: {"id"' <<<"$OUT" || [ $p = badsse ] || fail "$p: no chunk before the fault: $OUT"
done
OUT=$(stream empty)
contains '"error":{"message":"provider empty ended the stream without sending any event' "$OUT" || fail "empty stream: $OUT"
chat empty;   expect_error 502 server_error "not a JSON object"
OUT=$(stream f500)
contains '"error":{"message":"provider f500 returned HTTP 500' "$OUT" || fail "stream error before first chunk: $OUT"
pass "mid-stream faults end with an SSE error event"

chat flaky
[ "$STATUS" = 200 ] && [ "$(content_of "$BODY")" = "echo: hi" ] || fail "retries did not recover: $STATUS $BODY"
REQS=$(curl -s "$U/mock/stats" | sed -n 's/.*"\/v1\/chat\/completions":\([0-9]*\).*/\1/p')
pass "5xx retried with backoff ($REQS upstream chat requests in all)"

# A 429 moves to the other key (no retries configured for "rot").
chat rot
[ "$STATUS" = 200 ] || fail "429 did not move to the next key: $STATUS $BODY"
A=$(curl -s "$U/mock/last" | sed -n 's/.*"authorization":"Bearer \(sk-rot-.\)".*/\1/p')
[ -n "$A" ] || fail "no key on the successful attempt"
chat rot   # the fault is spent: first pick wins now; both keys were usable
[ "$STATUS" = 200 ] || fail "rot second request: $STATUS"
pass "429 rotates to another key (served by $A)"

chat dead
[ "$STATUS" = 200 ] || fail "401 did not move to the next key: $STATUS $BODY"
pass "401 moves to another key"

# Fallbacks: tried in order when the primary fails (not for the client's own 400).
M='"messages":[{"role":"user","content":"fb"}]'
req POST /v1/chat/completions "{\"model\":\"f500/m\",\"fallbacks\":[\"nope/x\",\"refused/m\",\"mock/y\"],$M}"
[ "$STATUS" = 200 ] && contains '"provider":"mock"' "$BODY" && [ "$(content_of "$BODY")" = "echo: fb" ] || fail "fallback: $STATUS $BODY"
grep -q 'falling back to refused/m' "$GW_LOG" || fail "fallback not logged"
req POST /v1/chat/completions "{\"model\":\"f500/m\",\"fallbacks\":[\"f503/m\"],$M}"
expect_error 502 "" "provider f500 returned HTTP 500"   # every attempt failed: the primary's error
req POST /v1/chat/completions "{\"model\":\"nope/m\",\"fallbacks\":[\"f503/m\",\"gone/x\"],$M}"
expect_error 404 invalid_request_error "The model 'nope/m' does not exist"
req POST /v1/chat/completions "{\"model\":\"f400/m\",\"fallbacks\":[\"mock/y\"],$M}"
expect_error 400 "" "provider f400 returned HTTP 400"
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -d "{\"model\":\"reset/m\",\"stream\":true,\"fallbacks\":[\"mock/z\"],$M}")
[ "$(stream_text "$OUT")" = "echo: fb" ] && contains 'data: [DONE]' "$OUT" || fail "stream fallback: $OUT"
req POST /v1/chat/completions "{\"model\":\"mock/a\",\"fallbacks\":[1],$M}"
expect_error 400 invalid_request_error "fallbacks[0] must be a non-empty model name"
pass "fallbacks"

req GET /health
[ "$STATUS" = 200 ] || fail "gateway not serving after faults"
stop_gw || fail "gateway exit status $?"
pass "still serving, clean exit"
