#!/usr/bin/env bash
# Every bad input gets an OpenAI-shaped error with the right status, and the
# gateway keeps serving afterwards.
. "$(dirname "$0")/lib.sh"
CFG=$(write_config <<'JSON'
{"providers": {"mock": {"keys": []}}, "client": {"max_request_body_size_mb": 1}}
JSON
)
start_gw --config "$CFG"
C=/v1/chat/completions
M='"messages":[{"role":"user","content":"x"}]'

req POST $C '{"model": "mock/a", '; expect_error 400 invalid_request_error "not valid JSON"
req POST $C '';                      expect_error 400 invalid_request_error "body is empty"
req POST $C '[1,2]';                 expect_error 400 invalid_request_error "must be a JSON object"
req POST $C "{$M}";                  expect_error 400 invalid_request_error "model is required"
req POST $C "{\"model\":42,$M}";     expect_error 400 invalid_request_error "model must be a string"
req POST $C '{"model":"mock/a"}';    expect_error 400 invalid_request_error "messages is required"
req POST $C '{"model":"mock/a","messages":"hi"}'; expect_error 400 invalid_request_error "messages must be an array"
contains '"param":"messages"' "$BODY" || fail "param not named: $BODY"
req POST $C '{"model":"mock/a","messages":[]}';   expect_error 400 invalid_request_error "at least one message"
req POST $C '{"model":"mock/a","messages":[7]}';  expect_error 400 invalid_request_error "messages[0] must be an object"
req POST $C '{"model":"mock/a","messages":[{"content":"x"}]}'; expect_error 400 invalid_request_error "messages[0].role must be a string"
req POST $C '{"model":"mock/a","messages":[{"role":"user","content":5}]}'; expect_error 400 invalid_request_error "messages[0].content must be"
req POST $C "{\"model\":\"mock/a\",\"stream\":\"yes\",$M}"; expect_error 400 invalid_request_error "stream must be a boolean"
req POST $C "{\"model\":\"nope/gpt\",$M}";  expect_error 404 invalid_request_error "does not exist"
contains '"code":"model_not_found"' "$BODY" || fail "code: $BODY"
req POST $C "{\"model\":\"gpt-4o\",$M}";    expect_error 404 invalid_request_error "does not exist"
pass "bad request bodies"

req GET $C;                 expect_error 405 invalid_request_error "not allowed"
grep -qi '^allow: POST' "$TMP/headers" || fail "no Allow header: $HEADERS"
req POST /health '{}';      expect_error 405 invalid_request_error "not allowed"
grep -qi '^allow: GET' "$TMP/headers" || fail "no Allow header: $HEADERS"
req GET /v2/nothing;        expect_error 404 invalid_request_error "Invalid URL"
pass "wrong method and unknown route"

# Body over client.max_request_body_size_mb (1 MiB here).
head -c 2000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' --data-binary @"$TMP/big" "http://127.0.0.1:$GW_PORT$C")
[ "$STATUS" = 413 ] || fail "big body: $STATUS $(cat "$TMP/body")"
pass "413 for a body over the limit"

# A request head over h2o's limit (about 400 KB) is refused, not buffered.
head -c 600000 /dev/zero | tr '\0' 'a' | sed 's/^/x-big: /' >"$TMP/hdr"; echo >>"$TMP/hdr"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H @"$TMP/hdr" "http://127.0.0.1:$GW_PORT/health")
[ "$STATUS" = 400 ] || [ "$STATUS" = 431 ] || fail "huge header: $STATUS"
pass "huge request head refused ($STATUS)"

# A request head that never ends is cut off (the worker is not held).
start=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT"
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n' >&3
timeout 20 cat <&3 >/dev/null; exec 3<&-
el=$(( $(date +%s) - start ))
[ $el -le 15 ] || fail "slow client held the connection for ${el}s"
pass "slow header client cut off after ${el}s"

req POST $C "{\"model\":\"mock/a\",$M}"
[ "$STATUS" = 200 ] || fail "gateway not serving after errors: $STATUS $BODY"
stop_gw || fail "gateway exit status $?"
pass "still serving, clean exit"
