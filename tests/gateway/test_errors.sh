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

# Body over client.max_request_body_size_mb (1 MiB here): h2o refuses it before
# any handler runs; the answer is still ours (JSON, x-request-id, the client's id).
head -c 2000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
req POST $C @"$TMP/big" -H 'x-request-id: big-body-1'
expect_error 413 invalid_request_error "larger than the limit of 1048576 bytes"
contains '"code":"request_too_large"' "$BODY" || fail "413 code: $BODY"
grep -qi '^x-request-id: big-body-1' "$TMP/headers" || fail "413 lost the client's request id: $HEADERS"
grep -qi '^content-type: application/json' "$TMP/headers" || fail "413 not JSON: $HEADERS"
req POST $C @"$TMP/big" -H 'Transfer-Encoding: chunked'
expect_error 413 invalid_request_error "larger than the limit"
pass "413 for a body over the limit (content-length and chunked), OpenAI-shaped"

# Broken chunked encoding: h2o's 400, in our shape too.
exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT"
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' >&3
RESP=$(timeout 5 cat <&3); exec 3<&-
case "$RESP" in "HTTP/1.1 400 "*) ;; *) fail "broken chunked: $RESP" ;; esac
contains '"code":"invalid_http_request"' "$RESP" || fail "broken chunked not OpenAI-shaped: $RESP"
contains "x-request-id: " "$(tr 'A-Z' 'a-z' <<<"$RESP")" || fail "broken chunked: no x-request-id: $RESP"
pass "400 for broken chunked encoding, OpenAI-shaped"

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
