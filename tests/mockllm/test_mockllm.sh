#!/usr/bin/env bash
# End-to-end tests of sluice-mockllm: starts the real binary on a free loopback
# port and drives it with curl (JSON and SSE checks in tests/mockllm/sse.js).
set -u
cd "$(dirname "$0")/../.."
BUILD=${SLUICE_BUILD:-build}
BIN=$BUILD/sluice-mockllm
[ -x "$BIN" ] || { echo "missing $BIN"; exit 1; }
for t in curl node; do command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }; done
SSE="node tests/mockllm/sse.js"

TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails + 1)); }
# expect NAME GOT WANT
expect() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi; }

# start the mock on port 0 and read the port it printed
start() {
  "$BIN" --listen 127.0.0.1:0 "$@" >"$TMP/mock.out" 2>"$TMP/mock.err" &
  PID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/mock.out")
    [ -n "$PORT" ] && break
    sleep 0.05
  done
  [ -n "$PORT" ] || { echo "mock did not start"; cat "$TMP/mock.err"; exit 1; }
  URL=http://127.0.0.1:$PORT
}
start

CHAT='{"model":"gpt-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello  big world"}]}'
ANTH='{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":" there"}]}]}'
AH=(-H 'x-api-key: sk-test' -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json')
# post PATH BODY [curl args...] -> body in $TMP/b, headers in $TMP/h, status echoed
post() {
  local path=$1 body=$2; shift 2
  curl -s -o "$TMP/b" -D "$TMP/h" -w '%{http_code}' -H 'content-type: application/json' \
       --data-binary "$body" "$@" "$URL$path"
}
jq_() { $SSE json "$TMP/b" "$1"; }

# ---- basics ------------------------------------------------------------------
expect "health" "$(curl -s "$URL/health")" '{"status":"ok"}'
expect "version" "$("$BIN" --version | cut -d' ' -f1)" "sluice-mockllm"
"$BIN" --help | grep -q -- '--chunk-delay-ms' && ok "help" || bad "help"
curl -s -o "$TMP/b" "$URL/v1/models"
expect "models" "$(jq_ 'd.object + " " + (d.data.length > 0)')" "list true"

# ---- OpenAI non-streaming ----------------------------------------------------
expect "openai status" "$(post /v1/chat/completions "$CHAT")" 200
expect "openai echo" "$(jq_ 'd.choices[0].message.content')" "echo: hello  big world"
expect "openai object/model/role" "$(jq_ '[d.object, d.model, d.choices[0].message.role, d.choices[0].finish_reason].join(" ")')" \
  "chat.completion gpt-test assistant stop"
# prompt: "be brief" + "hello  big world" = 24 bytes -> 6; completion: "echo:" " hello" "  big" " world"
expect "openai usage" "$(jq_ '[d.usage.prompt_tokens, d.usage.completion_tokens, d.usage.total_tokens].join(" ")')" "6 4 10"

# ---- OpenAI streaming ----------------------------------------------------------
STREAM='{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"one two three four"}]}'
post /v1/chat/completions "$STREAM" >/dev/null
grep -qi '^content-type: text/event-stream' "$TMP/h" && ok "stream content-type" || bad "stream content-type"
expect "stream reassembles" "$($SSE openai "$TMP/b")" "echo: one two three four"
expect "stream one word per chunk" "$(grep -c '"content"' "$TMP/b")" 5
USTREAM='{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}'
post /v1/chat/completions "$USTREAM" >/dev/null
expect "stream with usage" "$(WANT_USAGE=1 $SSE openai "$TMP/b" 2>&1 >/dev/null)" \
  'usage {"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}'
# generated words
post /v1/chat/completions "$STREAM" -H 'x-mock-words: 300' >/dev/null
expect "x-mock-words stream" "$($SSE openai "$TMP/b" | wc -w)" 300

# chunk delay: the first chunk arrives well before the last (timestamps per line)
curl -sN -H 'content-type: application/json' -H 'x-mock-chunk-delay-ms: 150' \
     --data-binary "$STREAM" "$URL/v1/chat/completions" |
  while IFS= read -r line; do [ -n "$line" ] && echo "$(date +%s%3N) $line"; done >"$TMP/ts"
first=$(grep -m1 '"role"' "$TMP/ts" | cut -d' ' -f1); last=$(grep '\[DONE\]' "$TMP/ts" | cut -d' ' -f1)
gap=$(( ${last:-0} - ${first:-0} ))
# 5 pieces: 4 delays of 150 ms between the first and the last chunk
if [ -n "$first" ] && [ -n "$last" ] && [ $gap -ge 500 ]; then ok "chunk delay streams ($gap ms)"
else bad "chunk delay: first chunk $first, last $last (gap $gap ms)"; fi

# latency
t=$(curl -s -o /dev/null -w '%{time_total}' -H 'x-mock-latency-ms: 300' --data-binary "$CHAT" "$URL/v1/chat/completions")
awk "BEGIN{exit !($t >= 0.3)}" && ok "latency ($t s)" || bad "latency: $t s"

# ---- Anthropic -------------------------------------------------------------------
expect "anthropic status" "$(post /v1/messages "$ANTH" "${AH[@]}")" 200
expect "anthropic message" "$(jq_ '[d.type, d.role, d.model, d.content[0].type, d.content[0].text, d.stop_reason].join("|")')" \
  "message|assistant|claude-test|text|echo: hi there|end_turn"
expect "anthropic usage" "$(jq_ 'd.usage.input_tokens + " " + d.usage.output_tokens')" "2 3"
post /v1/messages "${ANTH/\"max_tokens\"/\"stream\":true,\"max_tokens\"}" "${AH[@]}" >/dev/null
expect "anthropic stream order and text" "$($SSE anthropic "$TMP/b")" "echo: hi there"
expect "anthropic no key" "$(post /v1/messages "$ANTH" -H 'anthropic-version: 2023-06-01')" 401
expect "anthropic error shape" "$(jq_ 'd.type + " " + d.error.type')" "error authentication_error"
expect "anthropic no version" "$(post /v1/messages "$ANTH" -H 'x-api-key: k')" 400
expect "anthropic no version type" "$(jq_ 'd.error.type')" "invalid_request_error"
expect "anthropic system role" "$(post /v1/messages '{"model":"c","max_tokens":5,"messages":[{"role":"system","content":"x"}]}' "${AH[@]}")" 400

# ---- tool calls (x-mock-tool-call): arguments {"text": <last user message>} -----------
TH=(-H 'x-mock-tool-call: get_weather')
post /v1/chat/completions "$CHAT" "${TH[@]}" >/dev/null
expect "openai tool call" "$(jq_ '[d.choices[0].finish_reason, d.choices[0].message.tool_calls[0].function.name, JSON.parse(d.choices[0].message.tool_calls[0].function.arguments).text].join("|")')" \
  "tool_calls|get_weather|hello  big world"
post /v1/chat/completions "$STREAM" "${TH[@]}" >/dev/null
expect "openai tool call stream" "$($SSE openai "$TMP/b")" 'get_weather|{"text": "one two three four"}'
post /v1/messages "$ANTH" "${AH[@]}" "${TH[@]}" >/dev/null
expect "anthropic tool_use" "$(jq_ '[d.stop_reason, d.content[0].type, d.content[0].name, d.content[0].input.text].join("|")')" \
  "tool_use|tool_use|get_weather|hi there"
post /v1/messages "${ANTH/\"max_tokens\"/\"stream\":true,\"max_tokens\"}" "${AH[@]}" "${TH[@]}" >/dev/null
expect "anthropic tool_use stream" "$($SSE anthropic "$TMP/b")" 'get_weather|{"text": "hi there"}'

# ---- bad requests ------------------------------------------------------------------
expect "invalid json" "$(post /v1/chat/completions '{"model": "m", "messages": [')" 400
expect "openai error shape" "$(jq_ '[d.error.type, String(d.error.param), String(d.error.code), typeof d.error.message].join(" ")')" \
  "invalid_request_error null null string"
expect "missing messages" "$(post /v1/chat/completions '{"model":"m"}')" 400
expect "unknown path" "$(post /v1/nope '{}')" 404
expect "unknown fault" "$(post /v1/chat/completions "$CHAT" -H 'x-mock-fault: bogus')" 400
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n' >"$TMP/req"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"; cat "$TMP/req" >&3; timeout 2 cat <&3 >"$TMP/resp"; exec 3<&-
expect "413 too large" "$(head -n1 "$TMP/resp" | tr -d '\r')" "HTTP/1.1 413 Payload Too Large"
# chunked request body
expect "chunked request" "$(post /v1/chat/completions "$CHAT" -H 'Transfer-Encoding: chunked')" 200
expect "chunked request echo" "$(jq_ 'd.choices[0].message.content')" "echo: hello  big world"

# a 2 MB body: curl sends "Expect: 100-continue", the mock must answer it
head -c 2000000 /dev/zero | tr '\0' a >"$TMP/big"
printf '{"model":"m","messages":[{"role":"user","content":"%s"}]}' "$(cat "$TMP/big")" >"$TMP/bigreq"
expect "2 MB request" "$(post /v1/chat/completions @"$TMP/bigreq" -H 'Expect: 100-continue')" 200
expect "2 MB request echo" "$(jq_ 'd.choices[0].message.content.length')" 2000006

# ---- /mock/last, /mock/stats ---------------------------------------------------------
post /v1/chat/completions "$CHAT" -H 'X-Custom-Thing: Value 1' -H 'x-twice: a' -H 'X-Twice: b' >/dev/null
curl -s -o "$TMP/b" "$URL/mock/last"
expect "last request" "$(jq_ '[d.method, d.path, d.headers["x-custom-thing"], d.headers["x-twice"], d.body.model, d.body.messages[1].content].join("|")')" \
  "POST|/v1/chat/completions|Value 1|a, b|gpt-test|hello  big world"
curl -s -o "$TMP/b" "$URL/mock/stats"
expect "stats" "$(jq_ '[d.requests_total > 20, d.requests_by_path["/v1/messages"] >= 5, d.connections_accepted > 20, d.connections_open].join(" ")')" \
  "true true true 1"

# ---- concurrency: 300 requests held open together by a 600 ms latency (serially: 180 s) --
before=$(curl -s "$URL/mock/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).connections_accepted))')
args=(); for i in $(seq 300); do args+=(-o /dev/null "$URL/v1/chat/completions"); done
s0=$(date +%s%3N)
curl -s -Z --parallel-max 300 -H 'x-mock-latency-ms: 600' -H 'content-type: application/json' \
     --data-binary "$STREAM" "${args[@]}" 2>/dev/null; rc=$?
el=$(( $(date +%s%3N) - s0 ))
after=$(curl -s "$URL/mock/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).connections_accepted))')
[ $rc -eq 0 ] && [ $el -lt 10000 ] && [ $((after - before)) -ge 300 ] && ok "300 concurrent delayed streams in $el ms" \
  || bad "concurrency: curl $rc, $el ms, $((after - before)) connections"

# ---- connections: keep-alive, pipelining ------------------------------------------------
curl -sv -o /dev/null -o /dev/null "$URL/health" "$URL/health" 2>"$TMP/v"
grep -q 'Re-using existing connection' "$TMP/v" && ok "keep-alive" || bad "keep-alive: $(grep -i connect "$TMP/v")"
B='{"model":"m","messages":[{"role":"user","content":"pipe"}]}'
{ printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s' ${#B} "$B"
  printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
  printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' ${#B} "$B"; } >"$TMP/req"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"; cat "$TMP/req" >&3; timeout 3 cat <&3 >"$TMP/resp"; exec 3<&-
expect "pipelining: 3 responses in order" "$(grep -a -o 'HTTP/1.1 200 OK\|echo: pipe\|"status":"ok"' "$TMP/resp" | tr '\n' ,)" \
  "HTTP/1.1 200 OK,echo: pipe,HTTP/1.1 200 OK,\"status\":\"ok\",HTTP/1.1 200 OK,echo: pipe,"

# ---- faults ---------------------------------------------------------------------------
for f in 500 429 401 400 503; do
  expect "fault $f" "$(post /v1/chat/completions "$CHAT" -H "x-mock-fault: $f")" "$f"
  $SSE json "$TMP/b" 'd.error.message' >/dev/null || bad "fault $f body"
done
post /v1/chat/completions "$CHAT" -H 'x-mock-fault: 429' >/dev/null
grep -qi '^retry-after: 1' "$TMP/h" && ok "429 retry-after" || bad "429 retry-after"
expect "anthropic fault shape" "$(post /v1/messages "$ANTH" "${AH[@]}" -H 'x-mock-fault: 503' >/dev/null; jq_ 'd.type')" "error"

rm -f "$TMP/b"
curl -s -o "$TMP/b" -H 'x-mock-fault: reset-before-headers' --data-binary "$CHAT" "$URL/v1/chat/completions"; rc=$?
{ [ $rc -eq 56 ] || [ $rc -eq 52 ]; } && [ ! -s "$TMP/b" ] && ok "reset-before-headers (curl $rc)" || bad "reset-before-headers: curl $rc"

curl -sN -o "$TMP/b" -H 'x-mock-fault: reset-mid-stream' --data-binary "$STREAM" "$URL/v1/chat/completions"; rc=$?
{ [ $rc -eq 56 ] || [ $rc -eq 18 ]; } && ok "reset-mid-stream (curl $rc)" || bad "reset-mid-stream: curl $rc"
expect "reset-mid-stream: 2 chunks" "$(grep -c '^data: ' "$TMP/b")" 2

rm -f "$TMP/b"
curl -s -o "$TMP/b" -H 'x-mock-fault: reset-mid-stream' --data-binary "$CHAT" "$URL/v1/chat/completions"; rc=$?
n=$(stat -c %s "$TMP/b" 2>/dev/null || echo 0)
{ [ $rc -eq 56 ] || [ $rc -eq 18 ]; } && [ "$n" -gt 50 ] && ok "reset-mid-stream, non-stream: half a body (curl $rc, $n bytes)" \
  || bad "reset-mid-stream non-stream: curl $rc, $n bytes"
curl -sN -o "$TMP/b" -H 'x-mock-fault: reset-mid-stream' "${AH[@]}" \
     --data-binary "${ANTH/\"max_tokens\"/\"stream\":true,\"max_tokens\"}" "$URL/v1/messages"; rc=$?
expect "anthropic reset-mid-stream: 2 deltas" "$rc $(grep -c '^event: content_block_delta' "$TMP/b") $(grep -c message_stop "$TMP/b")" "56 2 0"

rm -f "$TMP/b"
curl -s -o "$TMP/b" --max-time 1 -H 'x-mock-fault: stall' --data-binary "$CHAT" "$URL/v1/chat/completions"; rc=$?
expect "stall times out (curl 28)" "$rc" 28
[ ! -s "$TMP/b" ] && ok "stall sends nothing" || bad "stall sent bytes"

curl -sN -o "$TMP/b" --max-time 1 -H 'x-mock-fault: stall-mid-stream' --data-binary "$STREAM" "$URL/v1/chat/completions"; rc=$?
expect "stall-mid-stream times out" "$rc" 28
expect "stall-mid-stream: 2 chunks" "$(grep -c '^data: ' "$TMP/b")" 2

expect "malformed-json status" "$(post /v1/chat/completions "$CHAT" -H 'x-mock-fault: malformed-json')" 200
$SSE isjson "$TMP/b" && bad "malformed-json is valid JSON" || ok "malformed-json body is not JSON"
expect "malformed-sse status" "$(post /v1/chat/completions "$STREAM" -H 'x-mock-fault: malformed-sse')" 200
$SSE badsse "$TMP/b" && ok "malformed-sse has garbage data lines" || bad "malformed-sse looks valid"

expect "huge status" "$(post /v1/chat/completions "$CHAT" -H 'x-mock-fault: huge')" 200
expect "huge content length" "$(jq_ 'd.choices[0].message.content.length')" 33554432
post /v1/chat/completions "$STREAM" -H 'x-mock-fault: huge' >/dev/null
expect "huge stream" "$($SSE openai "$TMP/b" | wc -c)" 33554432

curl -s -o "$TMP/b" -D "$TMP/h" --max-time 1 -H 'x-mock-fault: drip' --data-binary "$CHAT" "$URL/v1/chat/completions"; rc=$?
n=$(stat -c %s "$TMP/b")
# 1 byte per 50 ms: about 20 bytes in the second, of a body of ~400
[ $rc -eq 28 ] && [ "$n" -ge 5 ] && [ "$n" -le 30 ] && grep -q '200 OK' "$TMP/h" \
  && ok "drip ($n bytes in 1 s)" || bad "drip: curl $rc, $n bytes"

expect "empty status" "$(post /v1/chat/completions "$CHAT" -H 'x-mock-fault: empty')" 200
expect "empty body" "$(stat -c %s "$TMP/b")" 0

# fail-times: the first 2 requests with key K fail, the third succeeds; key L is separate
codes=
for _ in 1 2 3; do
  codes+=$(post /v1/chat/completions "$CHAT" -H 'x-mock-fault: 503' -H 'x-mock-fail-times: 2' -H 'x-mock-fault-key: K')" "
done
codes+=$(post /v1/chat/completions "$CHAT" -H 'x-mock-fault: 503' -H 'x-mock-fail-times: 2' -H 'x-mock-fault-key: L')
expect "fail-times" "$codes" "503 503 200 503"

# the mock is still healthy after all that
expect "healthy after faults" "$(curl -s "$URL/health")" '{"status":"ok"}'

# ---- SIGTERM: clean exit 0, even with a stalled connection open --------------------------
curl -s -o /dev/null --max-time 5 -H 'x-mock-fault: stall' --data-binary "$CHAT" "$URL/v1/chat/completions" &
sleep 0.3
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
expect "SIGTERM exit status" "$rc" 0
wait
if grep -q 'Sanitizer\|runtime error' "$TMP/mock.err"; then bad "sanitizer report"; cat "$TMP/mock.err"; fi

# ---- several workers (SO_REUSEPORT): all serve, /mock/last sees across them -------------
start --workers 3
for i in 1 2 3 4 5 6; do post /v1/chat/completions "${CHAT/hello/req$i}" >/dev/null; done
curl -s -o "$TMP/b" "$URL/mock/last"
expect "workers: last" "$(jq_ 'd.body.messages[1].content')" "req6  big world"
curl -s -o "$TMP/b" "$URL/mock/stats"
expect "workers: stats" "$(jq_ 'd.workers + " " + d.requests_by_path["/v1/chat/completions"]')" "3 6"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
expect "workers: SIGTERM exit status" "$rc" 0
if grep -q 'Sanitizer\|runtime error' "$TMP/mock.err"; then bad "sanitizer report"; cat "$TMP/mock.err"; fi

echo
[ $fails -eq 0 ] && echo "all mockllm tests passed" || echo "$fails mockllm test(s) failed"
[ $fails -eq 0 ]
