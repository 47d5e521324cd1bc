#!/usr/bin/env bash
# The drop-in endpoint POST /anthropic/v1/messages with curl: Anthropic
# requests served by the built-in mock, an OpenAI-compatible provider and the
# anthropic provider (a round trip through the internal form); streaming
# event order; tool use both ways; client credentials not forwarded; errors
# in Anthropic's shape.
. "$(dirname "$0")/../gateway/lib.sh"
start_mock
MOCK="http://127.0.0.1:$MOCK_PORT"
CFG=$(write_config <<JSON
{"providers": {"mock": {"keys": []},
  "anthropic": {"keys": [{"value": "sk-ant-upstream", "models": ["*"]}], "network_config": {"base_url": "$MOCK"}},
  "oai": {"keys": [{"value": "sk-oai-upstream", "models": ["*"]}], "network_config": {"base_url": "$MOCK"}},
  "tooly": {"keys": [{"value": "sk-t"}], "network_config": {"base_url": "$MOCK", "extra_headers": {"x-mock-tool-call": "get_weather"}}},
  "broken": {"keys": [{"value": "sk-b"}], "network_config": {"base_url": "$MOCK", "extra_headers": {"x-mock-fault": "429"}}},
  "cut": {"keys": [{"value": "sk-c"}], "network_config": {"base_url": "$MOCK", "extra_headers": {"x-mock-fault": "reset-mid-stream"}}}}}
JSON
)
start_gw --config "$CFG"
AH=(-H 'x-api-key: client-secret-1' -H 'anthropic-version: 2023-06-01')
req POST /anthropic/v1/messages '{"model":"mock/mock-1","max_tokens":5,"messages":[{"role":"user","content":"x"}]}' "${AH[@]}"
if [ "$STATUS" = 404 ] && contains unknown_url "$BODY"; then echo "skip: /anthropic/v1/messages is not routed in src/core/route.c"; exit 77; fi

# Anthropic shape checks on a non-streaming answer: MODEL TEXT
check_message() {
  [ "$STATUS" = 200 ] || fail "$1: status $STATUS: $BODY"
  contains '"type":"message","role":"assistant"' "$BODY" || fail "$1: not a message: $BODY"
  contains "\"model\":\"$1\"" "$BODY" || fail "$1: model: $BODY"
  contains "\"content\":[{\"type\":\"text\",\"text\":\"$2\"}]" "$BODY" || fail "$1: content: $BODY"
  contains '"stop_reason":"end_turn"' "$BODY" || fail "$1: stop_reason: $BODY"
  contains '"usage":{"input_tokens":' "$BODY" || fail "$1: usage: $BODY"
  contains '"id":"msg_' "$BODY" || fail "$1: id: $BODY"
}
for m in mock/mock-1 oai/gpt-x anthropic/claude-x; do
  req POST /anthropic/v1/messages "{\"model\":\"$m\",\"max_tokens\":64,\"system\":\"be nice\",\"messages\":[{\"role\":\"user\",\"content\":\"hello world\"}]}" "${AH[@]}"
  check_message "$m" "echo: hello world"
done
pass "non-streaming through mock, OpenAI-compatible and anthropic providers"

# what the anthropic provider received after the round trip (anthropic/claude-x was last)
LAST=$(curl -s "$MOCK/mock/last")
contains '"x-api-key":"sk-ant-upstream"' "$LAST" || fail "upstream key: $LAST"
contains 'client-secret-1' "$LAST" && fail "client credential forwarded: $LAST"
contains '"system":"be nice"' "$LAST" && contains '"max_tokens":64' "$LAST" || fail "round trip request: $LAST"
req POST /anthropic/v1/messages '{"model":"oai/gpt-x","max_tokens":9,"system":[{"type":"text","text":"sys"}],"stop_sequences":["END"],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}' \
    -H 'authorization: Bearer client-secret-2' -H 'anthropic-version: 2026-10-21'
[ "$STATUS" = 200 ] || fail "bearer + new version: $STATUS $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '"authorization":"Bearer sk-oai-upstream"' "$LAST" || fail "openai upstream key: $LAST"
contains '"messages":[{"role":"system","content":"sys"},{"role":"user","content":[{"type":"text","text":"hi"}]}]' "$LAST" || fail "internal messages: $LAST"
contains '"stop":["END"]' "$LAST" && contains '"max_tokens":9' "$LAST" || fail "stop/max_tokens: $LAST"
pass "client credentials (x-api-key, Bearer) never forwarded; any anthropic-version; request translated"

# --- streaming: event order ----------------------------------------------------------------------
for m in mock/mock-1 oai/gpt-x anthropic/claude-x; do
  OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" "${AH[@]}" -H 'content-type: application/json' \
        -d "{\"model\":\"$m\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"one two\"}]}")
  EV=$(sed -n 's/^event: //p' <<<"$OUT" | uniq | tr '\n' ' ')
  [ "$EV" = "message_start content_block_start content_block_delta content_block_stop message_delta message_stop " ] ||
    fail "$m: event order '$EV': $OUT"
  TEXT=$(sed -n 's/.*"text_delta","text":"\([^"]*\)".*/\1/p' <<<"$OUT" | tr -d '\n')
  [ "$TEXT" = "echo: one two" ] || fail "$m: streamed text '$TEXT'"
  contains '"stop_reason":"end_turn"' "$OUT" && contains '"output_tokens":' "$OUT" || fail "$m: message_delta: $OUT"
  grep '^data: ' <<<"$OUT" | grep -vq '^data: {"type":"' && fail "$m: a data line is not an Anthropic event: $OUT"
done
pass "streaming: message_start, content_block_start, deltas, content_block_stop, message_delta, message_stop"

# --- tools -------------------------------------------------------------------------------------------
TOOLS='"tools":[{"name":"get_weather","description":"w","input_schema":{"type":"object","properties":{"text":{"type":"string"}}}}],"tool_choice":{"type":"any"}'
req POST /anthropic/v1/messages "{\"model\":\"tooly/m\",\"max_tokens\":64,$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"paris\"}]}" "${AH[@]}"
[ "$STATUS" = 200 ] || fail "tool status $STATUS: $BODY"
contains '{"type":"tool_use","id":"call_' "$BODY" || fail "tool_use block: $BODY"
contains '"name":"get_weather","input":{"text":"paris"}}' "$BODY" || fail "tool input: $BODY"
contains '"stop_reason":"tool_use"' "$BODY" || fail "tool stop_reason: $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '"tools":[{"type":"function","function":{"name":"get_weather","description":"w","parameters":' "$LAST" || fail "tools upstream: $LAST"
contains '"tool_choice":"required"' "$LAST" || fail "tool_choice upstream: $LAST"
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" "${AH[@]}" -H 'content-type: application/json' \
      -d "{\"model\":\"tooly/m\",\"max_tokens\":64,\"stream\":true,$TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"paris\"}]}")
contains '"content_block":{"type":"tool_use","id":"call_' "$OUT" || fail "streamed tool_use start: $OUT"
PJ=$(sed -n 's/.*"input_json_delta","partial_json":"\(.*\)"}}$/\1/p' <<<"$OUT" | tr -d '\n ')
[ "$PJ" = '{\"text\":\"paris\"}' ] || fail "streamed partial_json '$PJ': $OUT"
contains '"stop_reason":"tool_use"' "$OUT" || fail "streamed tool stop_reason: $OUT"
# a tool_result conversation goes upstream as a tool message
req POST /anthropic/v1/messages '{"model":"oai/gpt-x","max_tokens":9,"messages":[{"role":"user","content":"w?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]}]}' "${AH[@]}"
[ "$STATUS" = 200 ] || fail "tool_result status $STATUS: $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]' "$LAST" || fail "tool_calls upstream: $LAST"
contains '{"role":"tool","tool_call_id":"toolu_1","content":"sunny"}' "$LAST" || fail "tool message upstream: $LAST"
pass "tools: tool_use out (streaming too), tool_use/tool_result in"

# --- errors in Anthropic's shape ---------------------------------------------------------------------
ant_error() { # STATUS TYPE TEXT
  [ "$STATUS" = "$1" ] || fail "expected $1, got $STATUS: $BODY"
  contains "{\"type\":\"error\",\"error\":{\"type\":\"$2\",\"message\":" "$BODY" || fail "not an Anthropic $2 error: $BODY"
  contains "$3" "$BODY" || fail "expected '$3' in $BODY"
}
req POST /anthropic/v1/messages '{"model":"mock/mock-1","messages":[{"role":"user","content":"x"}]}'
ant_error 400 invalid_request_error "max_tokens"
req POST /anthropic/v1/messages '{"model":"mock/mock-1","max_tokens":5,"messages":[{"role":"system","content":"x"}]}'
ant_error 400 invalid_request_error "role"
req POST /anthropic/v1/messages '{"model":"nope/x","max_tokens":5,"messages":[{"role":"user","content":"x"}]}'
ant_error 404 not_found_error "does not exist"
req POST /anthropic/v1/messages '{not json'
ant_error 400 invalid_request_error "not valid JSON"
req POST /anthropic/v1/messages ''
ant_error 400 invalid_request_error "empty"
req POST /anthropic/v1/messages '{"model":"broken/m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}'
ant_error 429 rate_limit_error "HTTP 429"
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" -H 'content-type: application/json' \
      -d '{"model":"cut/m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"a b c d e f"}]}')
EV=$(sed -n 's/^event: //p' <<<"$OUT" | uniq | tr '\n' ' ')
[ "$EV" = "message_start content_block_start content_block_delta error " ] || fail "cut stream events '$EV': $OUT"
tail -n1 <<<"$OUT" | grep -q '^data: {"type":"error","error":{"type":"api_error","message":' || fail "cut stream error event: $OUT"
req GET /anthropic/v1/messages
[ "$STATUS" = 405 ] || fail "GET: $STATUS"
pass "errors: 400/404/429 in Anthropic's error shape, an error event when a stream breaks, 405 on GET"

stop_gw || fail "gateway exit status $?"
pass "clean shutdown"
