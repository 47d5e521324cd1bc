#!/usr/bin/env bash
# An OpenAI-compatible provider in front of sluice-mockllm: what arrives
# upstream (model unprefixed, key, extra headers, unknown fields and numbers
# byte-exact, no "fallbacks"), model resolution, non-streaming and streaming.
. "$(dirname "$0")/lib.sh"
start_mock
CFG=$(write_config <<JSON
{"providers": {
  "up": {"keys": [{"name": "k1", "value": "sk-test-123456", "models": ["*"], "weight": 1}],
         "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT/", "extra_headers": {"x-team": "blue"}}},
  "listed": {"keys": [{"value": "sk-listed", "models": ["gpt-listed"]}],
             "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT/v1"}}}}
JSON
)
start_gw --config "$CFG"
MOCK="http://127.0.0.1:$MOCK_PORT"

req POST /v1/chat/completions '{"model":"up/gpt-x","seed":18446744073709551615,"temperature":0.70,"n":1e0,"foo":{"bar":[1.50e3,-0.0]},"fallbacks":["mock/a"],"messages":[{"role":"user","content":"hi there"}]}'
[ "$STATUS" = 200 ] || fail "status $STATUS: $BODY"
[ "$(content_of "$BODY")" = "echo: hi there" ] || fail "content: $BODY"
contains '"extra_fields":{"provider":"up"}' "$BODY" || fail "extra_fields: $BODY"
LAST=$(curl -s "$MOCK/mock/last")
contains '"path":"/v1/chat/completions"' "$LAST" || fail "upstream path: $LAST"
contains '"authorization":"Bearer sk-test-123456"' "$LAST" || fail "authorization: $LAST"
contains '"x-team":"blue"' "$LAST" || fail "extra header: $LAST"
contains '"model":"gpt-x"' "$LAST" || fail "model prefix not stripped: $LAST"
contains '"seed":18446744073709551615' "$LAST" || fail "big integer not byte-exact: $LAST"
contains '"temperature":0.70,"n":1e0,"foo":{"bar":[1.50e3,-0.0]}' "$LAST" || fail "numbers/unknown fields changed: $LAST"
contains 'fallbacks' "$LAST" && fail "fallbacks sent upstream: $LAST"
pass "request relayed: key, headers, model, unknown fields byte-exact"

# Without plugins or "fallbacks", the upstream body is the client's bytes with only the
# model's value replaced (src/provider/openai.c splices): spacing and escapes kept.
RAW='{ "model" : "up/gpt-x" ,"messages":[{"role":"user","content":"caf\u00e9 \"q\""}],  "n":1E0 }'
req POST /v1/chat/completions "$RAW"
[ "$STATUS" = 200 ] || fail "spliced request: $STATUS $BODY"
contains "\"body\":${RAW/up\/gpt-x/gpt-x}}" "$(curl -s "$MOCK/mock/last")" || fail "not byte-exact: $(curl -s "$MOCK/mock/last")"
# A model written with an escape is not spliced: the document is written instead.
req POST /v1/chat/completions '{"model":"up\/gpt-y", "messages":[{"role":"user","content":"x"}]}'
[ "$STATUS" = 200 ] && contains '"body":{"model":"gpt-y","messages":' "$(curl -s "$MOCK/mock/last")" ||
  fail "escaped model: $STATUS $(curl -s "$MOCK/mock/last")"
pass "upstream body spliced byte-exact; escaped model written"

# Only the first '/' splits: model "meta/llama-3" of provider "up".
req POST /v1/chat/completions '{"model":"up/meta/llama-3","messages":[{"role":"user","content":"x"}]}'
[ "$STATUS" = 200 ] && contains '"model":"meta/llama-3"' "$(curl -s "$MOCK/mock/last")" || fail "nested model name: $BODY"
# A model name without a provider prefix found in a key's models list.
req POST /v1/chat/completions '{"model":"gpt-listed","messages":[{"role":"user","content":"x"}]}'
[ "$STATUS" = 200 ] && contains '"provider":"listed"' "$BODY" || fail "listed model: $STATUS $BODY"
contains '"authorization":"Bearer sk-listed"' "$(curl -s "$MOCK/mock/last")" || fail "listed key not used"
req POST /v1/chat/completions '{"model":"listed/other-model","messages":[{"role":"user","content":"x"}]}'
expect_error 404 invalid_request_error "no key configured for model"
pass "model resolution"

OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
      -d '{"model":"up/gpt-x","stream":true,"messages":[{"role":"user","content":"one two three"}]}')
[ "$(stream_text "$OUT")" = "echo: one two three" ] || fail "stream text: $OUT"
[ "$(grep '^data: ' <<<"$OUT" | tail -n1)" = "data: [DONE]" ] || fail "no [DONE]: $OUT"
[ "$(grep -c '"provider":"up"' <<<"$OUT")" = "$(grep -c '^data: {' <<<"$OUT")" ] || fail "chunk without extra_fields: $OUT"
contains '"stream":true' "$(curl -s "$MOCK/mock/last")" || fail "stream flag not relayed"
pass "streaming through the upstream"

stop_gw || fail "gateway exit status $?"
