#!/usr/bin/env bash
# API keys never leave the gateway except toward their upstream: not in responses
# (including upstream 401s that quote the key, mockllm's 401-echo-key fault, streaming
# or not, OpenAI and Anthropic families, with retries and fallbacks), not in the
# debug-level log, the SQLite request store, /api/logs or /metrics.
. "$(dirname "$0")/../gateway/lib.sh"
start_mock
U="http://127.0.0.1:$MOCK_PORT"
K1=sk-rel-echo-secret-91827364
export REL_ANTHROPIC_KEY=sk-ant-rel-secret-55667788
K3=plainsecretwithoutprefix-4455
CFG=$(write_config <<JSON
{"providers": {
  "echo": {"keys": [{"value": "$K1"}], "network_config": {"base_url": "$U", "extra_headers": {"x-mock-fault": "401-echo-key"}}},
  "plain": {"keys": [{"value": "$K3"}], "network_config": {"base_url": "$U", "max_retries": 1, "retry_backoff_initial": 10,
            "extra_headers": {"x-mock-fault": "401-echo-key"}}},
  "anthropic": {"keys": [{"value": "env.REL_ANTHROPIC_KEY"}], "network_config": {"base_url": "$U",
                "extra_headers": {"x-mock-fault": "401-echo-key"}}},
  "up": {"keys": [{"value": "$K1"}], "network_config": {"base_url": "$U"}},
  "mock": {"keys": []}},
 "client": {"log_level": "debug", "log_file": "$TMP/sluice.log"},
 "logs_store": {"enabled": true, "type": "sqlite", "config": {"path": "$TMP/logs.db"}}}
JSON
)
start_gw --config "$CFG"
# The fault really quotes what it received (else this test could not fail).
direct=$(curl -s "$U/v1/chat/completions" -H "authorization: Bearer $K1" -H 'x-mock-fault: 401-echo-key' \
         -d '{"model":"m","messages":[{"role":"user","content":"x"}]}')
contains "$K1" "$direct" || fail "mock did not echo the key: $direct"

ALL=$TMP/all-responses
: >"$ALL"
M='"messages":[{"role":"user","content":"hi"}]'
for model in echo plain anthropic; do
  for stream in false true; do
    curl -s -D - "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
      -d "{\"model\":\"$model/m\",\"stream\":$stream,$M}" >>"$ALL"
  done
  curl -s -D - "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
    -d "{\"model\":\"$model/m\",\"fallbacks\":[\"echo/m\",\"mock/m\"],$M}" >>"$ALL"
  curl -s -D - "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" -H 'anthropic-version: 2023-06-01' \
    -d "{\"model\":\"$model/m\",\"max_tokens\":10,$M}" >>"$ALL"
done
grep -q 'Incorrect API key provided' "$ALL" || fail "the upstream message did not reach the client at all: $(head -c 600 "$ALL")"
grep -q 'HTTP/1.1 401' "$ALL" || fail "no 401 passed through"
req POST /v1/chat/completions "{\"model\":\"up/m\",$M}"
[ "$STATUS" = 200 ] || fail "up: $STATUS"
last=$(curl -s "$U/mock/last")
contains "$K1" "$last" || fail "the key did not reach the upstream"
sleep 1.2   # the store writes in the background
curl -s "http://127.0.0.1:$GW_PORT/api/logs?limit=100" >"$TMP/api-logs"
curl -s "http://127.0.0.1:$GW_PORT/metrics" >"$TMP/metrics"
grep -q 'provider' "$TMP/api-logs" || fail "/api/logs empty: $(head -c 300 "$TMP/api-logs")"
stop_gw || fail "gateway exit status $?"
for f in "$ALL" "$GW_LOG" "$TMP/sluice.log" "$TMP"/logs.db* "$TMP/api-logs" "$TMP/metrics"; do
  [ -f "$f" ] || continue
  for k in "$K1" "$REL_ANTHROPIC_KEY" "$K3" sk-live-0123456789abcdef; do
    grep -qa -- "$k" "$f" && fail "secret $k found in $f: $(grep -a -o ".\{60\}$k.\{20\}" "$f" | head -2)"
  done
done
pass "no key in responses (401s quoting the key, streams, fallbacks, both APIs), logs, store, /api/logs, /metrics"
