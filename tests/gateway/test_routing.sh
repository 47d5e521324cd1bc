#!/usr/bin/env bash
# Retries, key rotation, fallbacks and stream faults on both chat endpoints,
# POST /v1/chat/completions and POST /anthropic/v1/messages, which share one
# pipeline (src/core/dispatch.c). Two sluice-mockllm instances: A fails as
# each provider's extra_headers ask it to (x-mock-fault...), B is healthy.
# Which provider served is checked in the x-sluice-provider header and in
# extra_fields.provider; retries are counted at mock A (/mock/stats).
. "$(dirname "$0")/lib.sh"
PLUGIN=$(pwd)/$BUILD/examples/plugins/c-test.wasm
[ -f "$PLUGIN" ] || fail "missing $PLUGIN (run make)"
start_mock; A=http://127.0.0.1:$MOCK_PORT
start_mock; B=http://127.0.0.1:$MOCK_PORT
start_mock; C=http://127.0.0.1:$MOCK_PORT   # only the idle-timeout provider's connections
NET='"max_retries": 2, "retry_backoff_initial": "10ms", "retry_backoff_max": 20'
CFG=$(write_config <<JSON
{"providers": {
  "p500": {"keys": [{"value": "sk-p500-secret-key"}], "network_config": {"base_url": "$A", $NET,
           "extra_headers": {"x-mock-fault": "500"}}},
  "refused": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:1", "max_retries": 1,
              "retry_backoff_initial": 10}},
  "p401": {"keys": [{"value": "sk-dead-one-1111"}, {"value": "sk-dead-two-2222"}],
           "network_config": {"base_url": "$A", $NET, "extra_headers": {"x-mock-fault": "401"}}},
  "rot": {"keys": [{"value": "sk-rot-A"}, {"value": "sk-rot-B"}], "network_config": {"base_url": "$A",
          "extra_headers": {"x-mock-fault": "429", "x-mock-fail-times": "1", "x-mock-fault-key": "rot-$$"}}},
  "idle": {"keys": [], "network_config": {"base_url": "$C", "stream_idle_timeout_in_seconds": 1,
           "extra_headers": {"x-mock-fault": "stall-mid-stream"}}},
  "cut": {"keys": [], "network_config": {"base_url": "$A", "extra_headers": {"x-mock-fault": "reset-mid-stream"}}},
  "anthropic": {"keys": [{"value": "sk-ant-api03-upstream-a"}], "network_config": {"base_url": "$A", $NET,
                "extra_headers": {"x-mock-fault": "500", "x-mock-fail-times": "3", "x-mock-fault-key": "ant-$$"}}},
  "second": {"keys": [{"value": "sk-second"}], "network_config": {"base_url": "$B"}}},
 "plugins": [{"name": "ctest", "path": "$PLUGIN", "enabled": true, "config": {}, "timeout_ms": 200}]}
JSON
)
start_gw --config "$CFG"
GW=http://127.0.0.1:$GW_PORT

count() { # MOCK_URL PATH -> upstream requests seen on that path
  curl -s "$1/mock/stats" | sed -n 's/.*"'"${2//\//\\/}"'":\([0-9]*\).*/\1/p'
}
# A request on endpoint EP (oai | ant): MODEL FALLBACKS-JSON [TEXT]
ask() {
  local msg="\"messages\":[{\"role\":\"user\",\"content\":\"${4:-hello}\"}]"
  if [ "$1" = oai ]; then req POST /v1/chat/completions "{\"model\":\"$2\",\"fallbacks\":$3,$msg}"
  else req POST /anthropic/v1/messages "{\"model\":\"$2\",\"max_tokens\":32,\"fallbacks\":$3,$msg}" \
           -H 'x-api-key: client-key' -H 'anthropic-version: 2023-06-01'; fi
}
hdr() { tr -d '\r' <<<"$HEADERS" | sed -n "s/^$1: //Ip" | head -n1; }
served_by() { # EP NAME: 200, the header and extra_fields name NAME, the answer is the echo
  [ "$STATUS" = 200 ] || fail "$1: expected 200 from $2, got $STATUS: $BODY"
  [ "$(hdr x-sluice-provider)" = "$2" ] || fail "$1: x-sluice-provider '$(hdr x-sluice-provider)', want $2"
  contains "\"extra_fields\":{\"provider\":\"$2\"}" "$BODY" || fail "$1: extra_fields.provider not $2: $BODY"
  if [ "$1" = oai ]; then contains '"content":"echo: hello"' "$BODY" || fail "$1: content: $BODY"
  else contains '"content":[{"type":"text","text":"echo: hello"}]' "$BODY" || fail "$1: content: $BODY"; fi
}
sstream() { # EP MODEL FALLBACKS-JSON -> OUT (body), HEADERS
  local p=/v1/chat/completions extra=
  [ "$1" = ant ] && { p=/anthropic/v1/messages; extra=',"max_tokens":32'; }
  OUT=$(curl -sN -D "$TMP/sh" "$GW$p" -H 'content-type: application/json' \
        -d "{\"model\":\"$2\",\"stream\":true$extra,\"fallbacks\":$3,\"messages\":[{\"role\":\"user\",\"content\":\"a b c d e f g h\"}]}")
  HEADERS=$(cat "$TMP/sh")
}

for ep in oai ant; do
  # primary 500, retried twice at the mock, then the fallback serves
  a0=$(count "$A" /v1/chat/completions); b0=$(count "$B" /v1/chat/completions)
  ask $ep p500/m '["second/m"]'
  served_by $ep second
  a1=$(count "$A" /v1/chat/completions); b1=$(count "$B" /v1/chat/completions)
  [ $((a1 - a0)) = 3 ] && [ $((b1 - b0)) = 1 ] || fail "$ep: upstream requests A +$((a1 - a0)) B +$((b1 - b0)), want 3 and 1"
  grep -q "falling back to second/m" "$GW_LOG" || fail "fallback not logged"
  # refused connection, then every key refused (401): the next fallback serves
  ask $ep refused/m '["p401/m","second/m"]'
  served_by $ep second
  # no fallback left: the primary's error (its retries spent)
  ask $ep p500/m '[]'
  [ "$STATUS" = 502 ] && contains "provider p500 returned HTTP 500" "$BODY" || fail "$ep: p500 alone: $STATUS $BODY"
  contains sk-p500 "$BODY" && fail "$ep: key leaked: $BODY"
  # every attempt fails: the primary's error, not the last fallback's
  ask $ep p500/m '["refused/m"]'
  [ "$STATUS" = 502 ] && contains "provider p500 returned HTTP 500" "$BODY" || fail "$ep: all failed: $STATUS $BODY"
done
pass "both endpoints: primary 500 (3 upstream attempts) / refused / 401 on every key -> the fallback serves; header and extra_fields say which"

# every key dead: 502 with a clear message, in each endpoint's own shape, no key in it
ask oai p401/m '[]'
expect_error 502 server_error "provider p401: every API key configured for model 'm' was refused by the upstream (last: HTTP 401"
contains sk-dead "$BODY" && fail "key leaked: $BODY"
ask ant p401/m '[]'
[ "$STATUS" = 502 ] && contains '{"type":"error","error":{"type":"api_error","message":"provider p401: every API key' "$BODY" ||
  fail "ant all keys dead: $STATUS $BODY"
contains sk-dead "$BODY" && fail "key leaked: $BODY"
pass "every key refused -> 502 naming the provider and model (OpenAI and Anthropic shapes)"

# 429 moves to the other key (no retries configured for rot), on both endpoints
for ep in oai ant; do
  curl -s -X POST "$A/mock/reset" >/dev/null
  a0=$(count "$A" /v1/chat/completions)
  ask $ep rot/m '[]'
  [ "$STATUS" = 200 ] && [ "$(hdr x-sluice-provider)" = rot ] || fail "$ep: 429 did not rotate: $STATUS $BODY"
  a1=$(count "$A" /v1/chat/completions)
  [ $((a1 - a0)) = 2 ] || fail "$ep: rot made $((a1 - a0)) upstream requests, want 2"
  curl -s "$A/mock/last" | grep -q '"authorization":"Bearer sk-rot-[AB]"' || fail "$ep: no key on the last attempt"
done
pass "429 rotates to the other key (2 upstream requests), both endpoints"

# the anthropic family as the primary: 500 x3 (1 + 2 retries on /v1/messages), then the fallback
curl -s -X POST "$A/mock/reset" >/dev/null
for ep in oai ant; do
  curl -s -X POST "$A/mock/reset" >/dev/null
  m0=$(count "$A" /v1/messages)
  ask $ep anthropic/claude-x '["second/m"]'
  served_by $ep second
  m1=$(count "$A" /v1/messages)
  [ $((m1 - m0)) = 3 ] || fail "$ep: anthropic provider: $((m1 - m0)) upstream attempts, want 3"
done
# and as the fallback (its fault counter is spent: it answers now)
ask ant p500/m '["anthropic/claude-x"]'
served_by ant anthropic
pass "anthropic provider: retried 3 times at the mock, then the fallback; and serving as a fallback"

# streams: a failure before the first byte falls back; the header names who streams
for ep in oai ant; do
  sstream $ep p500/m '["second/m"]'
  [ "$(hdr x-sluice-provider)" = second ] || fail "$ep: stream header: $HEADERS"
  if [ $ep = oai ]; then [ "$(stream_text "$OUT")" = "echo: a b c d e f g h" ] && contains 'data: [DONE]' "$OUT"
  else contains 'event: message_stop' "$OUT"; fi || fail "$ep: stream fallback: $OUT"
done
# after the first byte no fallback: the stream ends with an error event, B is not asked
for ep in oai ant; do
  b0=$(count "$B" /v1/chat/completions)
  sstream $ep cut/m '["second/m"]'
  b1=$(count "$B" /v1/chat/completions)
  [ "$b1" = "$b0" ] || fail "$ep: fell back after the first byte"
  [ "$(hdr x-sluice-provider)" = cut ] || fail "$ep: cut stream header: $HEADERS"
  if [ $ep = oai ]; then grep '^data: ' <<<"$OUT" | tail -n1 | grep -q '^data: {"error":{"message":"provider cut'
  else tail -n1 <<<"$OUT" | grep -q '^data: {"type":"error","error":{"type":"api_error","message":"provider cut'; fi ||
    fail "$ep: cut stream does not end with an error event: $OUT"
done
pass "streams: fallback before the first byte, none after it (error event instead)"

# stream idle timeout: no byte for 1 s -> the stream ends with an error event,
# and the upstream transfer is cancelled: its connection to mock C (which stalls
# it forever) is closed. C serves nothing else, so once both streams ended the
# only connection open at C is the one asking for its stats.
open_at_c() { curl -s "$C/mock/stats" | sed -n 's/.*"connections_open":\([0-9]*\).*/\1/p'; }
for ep in oai ant; do
  t0=$(date +%s%N)
  sstream $ep idle/m '[]'
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $ms -lt 5000 ] || fail "$ep: idle stream took $ms ms"
  contains 'timed out' "$OUT" || fail "$ep: idle stream: $OUT"
  if [ $ep = oai ]; then grep '^data: ' <<<"$OUT" | tail -n1 | grep -q '^data: {"error":{"message":"provider idle timed out'
  else tail -n2 <<<"$OUT" | grep -q '^event: error'; fi || fail "$ep: idle stream does not end with an error event: $OUT"
  echo "$ep: idle stream ended after $ms ms"
done
for _ in $(seq 30); do [ "$(open_at_c)" -le 1 ] && break; sleep 0.1; done
[ "$(open_at_c)" -le 1 ] || fail "idle-timed-out upstream connections still open at the mock: $(open_at_c) (1 expected)"
pass "stream idle timeout ends the stream with an error event and closes the upstream connection"

# plugins run on the Anthropic endpoint too (the C example plugin)
ask ant second/m '[]'
served_by ant second
contains 'x-c-post: 1' "$(tr 'A-Z' 'a-z' <<<"$HEADERS")" || fail "http_post_hook did not run: $HEADERS"
curl -s "$B/mock/last" | grep -q '"x-c-plugin":"c-test"' || fail "the plugin's upstream header did not reach B"
ask ant second/m '[]' trigger-chat-short
[ "$STATUS" = 200 ] && contains '"type":"message","role":"assistant"' "$BODY" || fail "pre_hook short-circuit: $STATUS $BODY"
ask ant second/m '[]' trigger-chat-error
[ "$STATUS" = 403 ] && contains '{"type":"error","error":{"type":"permission_error","message":' "$BODY" &&
  contains 'blocked by c-test' "$BODY" || fail "pre_hook error: $STATUS $BODY"
sstream ant second/m '[]'
contains 'event: message_stop' "$OUT" || fail "stream with the plugin: $OUT"
pass "plugins on /anthropic/v1/messages: upstream header, http_post_hook, pre_hook answers in Anthropic's shape"

stop_gw || fail "gateway exit status $?"
pass "clean shutdown"
