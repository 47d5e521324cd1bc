#!/usr/bin/env bash
# The built-in mock provider through the real gateway (default config):
# non-streaming and streaming completions, models, health, request ids,
# keep-alive and pipelining.
. "$(dirname "$0")/lib.sh"
start_gw

CHAT='{"model":"mock/any","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi there"}]}'
req POST /v1/chat/completions "$CHAT"
[ "$STATUS" = 200 ] || fail "chat: status $STATUS: $BODY"
[ "$(content_of "$BODY")" = "echo: hi there" ] || fail "chat content: $BODY"
contains '"object":"chat.completion"' "$BODY" || fail "object: $BODY"
contains '"extra_fields":{"provider":"mock"}' "$BODY" || fail "extra_fields: $BODY"
contains '"finish_reason":"stop"' "$BODY" || fail "finish_reason: $BODY"
grep -qi '^content-type: application/json' "$TMP/headers" || fail "content-type: $HEADERS"
pass "non-streaming mock completion"

# A model listed nowhere but prefixed by the mock provider; array content parts.
req POST /v1/chat/completions '{"model":"mock/mock-1","messages":[{"role":"user","content":[{"type":"text","text":"part one"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"two"}]}]}'
[ "$(content_of "$BODY")" = "echo: part one two" ] || fail "array content: $BODY"
pass "array content parts"

# Streaming: one word per chunk, role first, then stop + usage, then [DONE].
OUT=$(curl -sN -D "$TMP/sh" "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
      -d '{"model":"mock/any","stream":true,"messages":[{"role":"user","content":"one two three"}]}')
grep -qi '^content-type: text/event-stream' "$TMP/sh" || fail "stream content-type: $(cat "$TMP/sh")"
[ "$(stream_text "$OUT")" = "echo: one two three" ] || fail "stream text '$(stream_text "$OUT")': $OUT"
[ "$(grep -c '^data: {' <<<"$OUT")" = 5 ] || fail "expected 4 word chunks + final: $OUT"
grep '^data: {' <<<"$OUT" | head -n1 | grep -q '"role":"assistant"' || fail "first chunk lacks role: $OUT"
grep '^data: {' <<<"$OUT" | tail -n1 | grep -q '"finish_reason":"stop".*"usage":{' || fail "final chunk: $OUT"
[ "$(grep '^data: ' <<<"$OUT" | tail -n1)" = "data: [DONE]" ] || fail "no [DONE] at the end: $OUT"
grep -q '"object":"chat.completion.chunk"' <<<"$OUT" || fail "chunk object: $OUT"
pass "streaming mock completion"

req GET /v1/models
[ "$STATUS" = 200 ] && contains '"object":"list"' "$BODY" && contains '"id":"mock/mock-1"' "$BODY" || fail "models: $BODY"
req GET /health
[ "$STATUS" = 200 ] && [ "$BODY" = '{"status":"ok"}' ] || fail "health: $STATUS $BODY"
pass "models and health"

# Request ids: unique when generated, echoed when sane, replaced when not.
id1=$(curl -s -D - -o /dev/null "http://127.0.0.1:$GW_PORT/health" | tr -d '\r' | sed -n 's/^x-request-id: //Ip')
id2=$(curl -s -D - -o /dev/null "http://127.0.0.1:$GW_PORT/health" | tr -d '\r' | sed -n 's/^x-request-id: //Ip')
[ -n "$id1" ] && [ "$id1" != "$id2" ] || fail "request ids not unique: '$id1' '$id2'"
echoed=$(curl -s -D - -o /dev/null -H 'x-request-id: client-abc_123' "http://127.0.0.1:$GW_PORT/health" | tr -d '\r' | sed -n 's/^x-request-id: //Ip')
[ "$echoed" = client-abc_123 ] || fail "client id not echoed: '$echoed'"
bad=$(curl -s -D - -o /dev/null -H 'x-request-id: <script>alert(1)</script>' "http://127.0.0.1:$GW_PORT/health" | tr -d '\r' | sed -n 's/^x-request-id: //Ip')
[ -n "$bad" ] && [ "$bad" != '<script>alert(1)</script>' ] || fail "insane client id echoed: '$bad'"
pass "x-request-id"

# Keep-alive: the second transfer of one curl run reuses the connection.
conns=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "http://127.0.0.1:$GW_PORT/health" "http://127.0.0.1:$GW_PORT/v1/models")
[ "$conns" = "1 0 " ] || fail "keep-alive: connects per transfer '$conns'"
# Pipelining: two requests in one write get two responses, in order.
exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT"
printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
PIPE=$(timeout 5 cat <&3); exec 3<&-
[ "$(grep -o 'HTTP/1.1 200' <<<"$PIPE" | wc -l)" = 2 ] || fail "pipelining: $PIPE"
grep -q '"status":"ok"' <<<"$PIPE" && grep -q 'mock/mock-1' <<<"$PIPE" || fail "pipelined bodies: $PIPE"
pass "keep-alive and pipelining"

grep -q 'POST /v1/chat/completions 200 mock' "$GW_LOG" || fail "no access log line"
stop_gw || fail "gateway exit status $?"
pass "clean shutdown"
