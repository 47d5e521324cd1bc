#!/usr/bin/env bash
# The anthropic provider in front of sluice-mockllm's /v1/messages: the
# request it receives (headers, lifted system, max_tokens, tools), the OpenAI
# response the client gets (text and tool calls), streaming chunk order, and
# upstream errors mapped to OpenAI errors.
. "$(dirname "$0")/../gateway/lib.sh"
start_mock
# (Re)starts the gateway with an anthropic provider whose extra_headers are
# $1 (a JSON object body): the mock's behaviour headers go upstream that way.
gw_with() {
  [ -n "${GW_PID:-}" ] && { stop_gw || fail "gateway exit status $?"; }
  CFG=$(write_config <<JSON
{"providers": {
  "anthropic": {"keys": [{"value": "sk-ant-test-123", "models": ["*"]}],
                "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT", "extra_headers": {$1}}}}}
JSON
)
  start_gw --config "$CFG"
}
gw_with '"x-team": "red"'
MOCK="http://127.0.0.1:$MOCK_PORT"
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"user","content":"ping"}]}'
if [ "$STATUS" = 501 ]; then echo "skip: the anthropic provider is not registered in src/provider/provider.c"; exit 77; fi

# --- non-streaming, with a system prompt and no max_tokens -----------------------------
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi there"}],"stop":"ZZ","user":"u7"}'
[ "$STATUS" = 200 ] || fail "status $STATUS: $BODY"
contains '"object":"chat.completion"' "$BODY" || fail "not a chat.completion: $BODY"
[ "$(content_of "$BODY")" = "echo: hi there" ] || fail "content: $BODY"
contains '"finish_reason":"stop"' "$BODY" || fail "finish_reason: $BODY"
contains '"prompt_tokens":' "$BODY" && contains '"total_tokens":' "$BODY" || fail "usage: $BODY"
contains '"extra_fields":{"provider":"anthropic"}' "$BODY" || fail "extra_fields: $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '"path":"/v1/messages"' "$LAST" || fail "upstream path: $LAST"
contains '"x-api-key":"sk-ant-test-123"' "$LAST" || fail "x-api-key: $LAST"
contains '"anthropic-version":"2023-06-01"' "$LAST" || fail "anthropic-version: $LAST"
contains '"x-team":"red"' "$LAST" || fail "extra header: $LAST"
contains 'authorization' "$LAST" && fail "authorization header sent to Anthropic: $LAST"
contains '"model":"claude-test"' "$LAST" || fail "model: $LAST"
contains '"system":"be brief"' "$LAST" || fail "system not lifted: $LAST"
contains '"max_tokens":4096' "$LAST" || fail "max_tokens default: $LAST"
contains '"stop_sequences":["ZZ"]' "$LAST" || fail "stop_sequences: $LAST"
contains '"metadata":{"user_id":"u7"}' "$LAST" || fail "metadata: $LAST"
pass "non-streaming: request translated (headers, system, max_tokens, stop, user), answer is a chat.completion"

# --- images: data: URL -> base64 source, https URL -> url source ---------------------------
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"user","content":[{"type":"text","text":"what is it"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"https://img.test/cat.jpg"}}]}]}'
[ "$STATUS" = 200 ] && [ "$(content_of "$BODY")" = "echo: what is it" ] || fail "image request: $STATUS $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}' "$LAST" || fail "base64 image: $LAST"
contains '{"type":"image","source":{"type":"url","url":"https://img.test/cat.jpg"}}' "$LAST" || fail "url image: $LAST"
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}'
expect_error 400 invalid_request_error "image"
pass "images: data: URL -> base64 block, https URL -> url block, other schemes -> 400"

# --- tool call ---
gw_with '"x-mock-tool-call": "get_weather"'
-------------------------------------------------------------------------
req POST /v1/chat/completions '{"model":"anthropic/claude-test","max_tokens":50,"messages":[{"role":"user","content":"weather"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"required"}'
[ "$STATUS" = 200 ] || fail "tool status $STATUS: $BODY"
contains '"tool_calls":[{"id":"toolu_' "$BODY" || fail "tool_calls: $BODY"
contains '"function":{"name":"get_weather","arguments":"{\"text\":\"weather\"}"}' "$BODY" || fail "tool function: $BODY"
contains '"finish_reason":"tool_calls"' "$BODY" || fail "finish_reason tool_calls: $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]' "$LAST" || fail "tools: $LAST"
contains '"tool_choice":{"type":"any"}' "$LAST" || fail "tool_choice: $LAST"
contains '"max_tokens":50' "$LAST" || fail "max_tokens: $LAST"
pass "tool_use -> tool_calls with JSON arguments; tools and tool_choice translated"

gw_with '"x-team": "red"'
# a conversation with an assistant tool call and its result
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"user","content":"w?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"}]}'
[ "$STATUS" = 200 ] || fail "tool result status $STATUS: $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '{"type":"tool_use","id":"call_1","name":"f","input":{"a":1}}' "$LAST" || fail "tool_use block: $LAST"
contains '{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"sunny"}]}' "$LAST" || fail "tool_result: $LAST"
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}'
expect_error 400 invalid_request_error "arguments"
pass "assistant tool_calls -> tool_use, tool messages -> tool_result; bad arguments -> 400"

# --- streaming ------------------------------------------------------------------------------
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'content-type: application/json' \
      -d '{"model":"anthropic/claude-test","stream":true,"messages":[{"role":"user","content":"one two three"}]}')
[ "$(stream_text "$OUT")" = "echo: one two three" ] || fail "streamed text: $OUT"
FIRST=$(grep '^data: {' <<<"$OUT" | head -n1)
contains '"role":"assistant"' "$FIRST" || fail "first chunk has no role: $FIRST"
contains '"object":"chat.completion.chunk"' "$FIRST" || fail "not a chunk: $FIRST"
LASTCHUNK=$(grep '^data: {' <<<"$OUT" | tail -n1)
contains '"finish_reason":"stop"' "$LASTCHUNK" && contains '"usage":{"prompt_tokens":' "$LASTCHUNK" || fail "final chunk: $LASTCHUNK"
[ "$(grep -c '"finish_reason":"' <<<"$OUT")" = 1 ] || fail "finish_reason more than once: $OUT"
[ "$(tail -n1 <<<"$OUT")" = "data: [DONE]" ] || fail "no [DONE] at the end: $OUT"
contains '"stream":true' "$(curl -s "$MOCK/mock/last")" || fail "stream not sent upstream"
pass "streaming: role chunk first, text deltas, final chunk with finish_reason and usage, [DONE]"

gw_with '"x-mock-tool-call": "lookup"'
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'content-type: application/json' \
      -d '{"model":"anthropic/claude-test","stream":true,"messages":[{"role":"user","content":"abc"}]}')
contains '"tool_calls":[{"index":0,"id":"toolu_' "$OUT" || fail "streamed tool call start: $OUT"
contains '"name":"lookup"' "$OUT" || fail "streamed tool name: $OUT"
ARGS=$(grep '^data: {' <<<"$OUT" | sed -n 's/.*"function":{"arguments":"\(.*\)"}}\].*/\1/p' | tr -d '\n ')
[ "$ARGS" = '{\"text\":\"abc\"}' ] || fail "streamed arguments: '$ARGS' in $OUT"
contains '"finish_reason":"tool_calls"' "$OUT" || fail "streamed finish_reason: $OUT"
pass "streaming tool call: id and name first, argument fragments, finish_reason tool_calls"

# --- upstream errors --------------------------------------------------------------------------
fault() { # FAULT STATUS TYPE TEXT
  gw_with "\"x-mock-fault\": \"$1\""
  req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"user","content":"x"}]}'
  expect_error "$2" "$3" "$4"
  contains "sk-ant-test-123" "$BODY" && fail "key leaked: $BODY"
  OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'content-type: application/json' \
        -d '{"model":"anthropic/claude-test","stream":true,"messages":[{"role":"user","content":"x"}]}' -w '\n%{http_code}')
  [ "$(tail -n1 <<<"$OUT")" = "$2" ] && contains "$4" "$OUT" || fail "streaming fault $1: $OUT"
}
fault 401 401 authentication_error "authentication_error"
fault 429 429 rate_limit_error "Rate limit"
fault 500 502 server_error "api_error"
fault 503 503 server_error "overloaded"
pass "upstream 401/429/500/503 -> OpenAI errors 401/429/502/503 (streaming too)"

gw_with '"x-mock-fault": "reset-mid-stream"'
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'content-type: application/json' \
      -d '{"model":"anthropic/claude-test","stream":true,"messages":[{"role":"user","content":"a b c d e f"}]}')
contains '"content":"echo:"' "$OUT" || fail "reset-mid-stream: no chunk before the reset: $OUT"
grep '^data: ' <<<"$OUT" | tail -n1 | grep -q '^data: {"error":{"message":"provider anthropic: upstream' || fail "reset-mid-stream: no in-band error: $OUT"
contains '[DONE]' "$OUT" && fail "reset-mid-stream: [DONE] after a failure: $OUT"
gw_with '"x-mock-fault": "malformed-json"'
req POST /v1/chat/completions '{"model":"anthropic/claude-test","messages":[{"role":"user","content":"x"}]}'
expect_error 502 server_error "not a message object"
gw_with '"x-mock-fault": "malformed-sse"'
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'content-type: application/json' \
      -d '{"model":"anthropic/claude-test","stream":true,"messages":[{"role":"user","content":"x"}]}')
grep '^data: ' <<<"$OUT" | tail -n1 | grep -q 'malformed event stream' || fail "malformed-sse: $OUT"
gw_with '"x-mock-fault": "empty"'
req POST /v1/chat/completions '{"model":"anthropic/claude-test","stream":true,"messages":[{"role":"user","content":"x"}]}'
expect_error 502 server_error "without any event"
pass "reset mid-stream -> in-band error; malformed JSON/SSE and empty answers -> 502"

stop_gw || fail "gateway exit status $?"
pass "clean shutdown"
