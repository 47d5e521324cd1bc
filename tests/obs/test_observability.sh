#!/usr/bin/env bash
# End to end: /metrics (strictly valid, counters move with requests, errors,
# retries and fallbacks), the JSON request log, the SQLite store behind
# /api/logs (filters, 400 on bad parameters), and no API key or message text
# anywhere in logs, metrics or the store.
. "$(dirname "$0")/../gateway/lib.sh"
PROMCHECK=$BUILD/tests/obs/promcheck
[ -x "$PROMCHECK" ] || fail "missing $PROMCHECK (run make)"
# Configuration errors in the observability fields stop start-up with the field named.
badcfg() { # JSON EXPECTED-TEXT [EXIT STATUS, default 2]
  local f; f=$(write_config <<<"$1")
  local out rc=0; out=$(timeout 10 "$GW_BIN" --config "$f" --listen 127.0.0.1:1 2>&1) || rc=$?
  [ $rc = "${3:-2}" ] || fail "config $1: exit $rc: $out"
  contains "$2" "$out" || fail "config $1: expected '$2' in: $out"
}
badcfg '{"client": {"log_level": "loud"}}' 'client.log_level: expected "debug"'
badcfg '{"logs_store": {"enabled": true, "type": "redis"}}' 'logs_store.type: expected "sqlite"'
badcfg '{"logs_store": {"enabled": "yes"}}' 'logs_store.enabled: expected true or false'
badcfg '{"client": {"log_request_lines": 0}}' 'client.log_request_lines: expected true or false'
badcfg '{"client": {"log_retention_days": -1}}' 'client.log_retention_days: expected an integer'
badcfg '{"logs_store": {"enabled": true, "config": {"path": "/nonexistent-dir/x/logs.db"}}}' \
       'logs_store: cannot open /nonexistent-dir/x/logs.db' 1
pass "bad observability config refused"

start_mock
U="http://127.0.0.1:$MOCK_PORT"
SECRET=sk-obs-secret-4242
TEXT=PURPLE-ELEPHANT-93
CFG=$(write_config <<JSON
{"providers": {
  "up": {"keys": [{"value": "$SECRET"}], "network_config": {"base_url": "$U"}},
  "f500": {"keys": [{"value": "$SECRET"}], "network_config": {"base_url": "$U", "extra_headers": {"x-mock-fault": "500"}}},
  "flaky": {"keys": [{"value": "$SECRET"}], "network_config": {"base_url": "$U", "max_retries": 2,
            "retry_backoff_initial": 20, "retry_backoff_max": 40, "extra_headers": {"x-mock-fault": "500",
            "x-mock-fail-times": "2", "x-mock-fault-key": "obs-flaky-$$"}}},
  "mock": {"keys": []}},
 "client": {"log_level": "info", "log_file": "$TMP/sluice.log", "log_retention_days": 30},
 "logs_store": {"enabled": true, "type": "sqlite", "config": {"path": "$TMP/logs.db"}}}
JSON
)
start_gw --config "$CFG"

scrape() { curl -s -D "$TMP/mh" -o "$TMP/metrics.$1" "http://127.0.0.1:$GW_PORT/metrics" || fail "scrape failed"
           "$PROMCHECK" "$TMP/metrics.$1" || fail "invalid exposition (scrape $1)"; }
metric() { # FILE SERIES -> its value, or 0 if absent
  awk -v s="$2" '$1 == s {v = $2} END {print (v == "" ? 0 : v)}' "$1"; }
chat() { req POST /v1/chat/completions "{\"model\":\"$1/m\",\"messages\":[{\"role\":\"user\",\"content\":\"$TEXT\"}]${2:-}}"; }

scrape 0
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/mh" || fail "content type: $(cat "$TMP/mh")"
grep -q '^sluice_build_info{version="[^"]*"} 1$' "$TMP/metrics.0" || fail "no build info"
pass "first scrape is valid"

for _ in 1 2 3; do chat up; [ "$STATUS" = 200 ] || fail "chat up: $STATUS $BODY"; done
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
      -d "{\"model\":\"up/m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"$TEXT a b c\"}]}")
contains 'data: [DONE]' "$OUT" || fail "stream: $OUT"
chat f500;  [ "$STATUS" = 502 ] || fail "f500: $STATUS"
chat flaky; [ "$STATUS" = 200 ] || fail "flaky did not recover: $STATUS $BODY"
chat f500 ',"fallbacks":["mock/y"]'; [ "$STATUS" = 200 ] || fail "fallback: $STATUS $BODY"
req GET /nowhere; [ "$STATUS" = 404 ] || fail "404 route"
req POST /anthropic/v1/messages "{\"model\":\"up/m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"$TEXT\"}]}"
[ "$STATUS" = 200 ] || fail "anthropic messages: $STATUS $BODY"

scrape 1
M=$TMP/metrics.1
v() { metric "$M" "$1"; }
[ "$(v 'sluice_requests_total{provider="up",model="up/m",status="200",endpoint="chat"}')" = 4 ] ||
  fail "requests_total for up: $(grep 'provider="up"' "$M")"
[ "$(v 'sluice_requests_total{provider="f500",model="f500/m",status="502",endpoint="chat"}')" = 1 ] || fail "502 counted"
[ "$(v 'sluice_requests_total{provider="",model="",status="404",endpoint="other"}')" = 1 ] || fail "404 counted"
[ "$(v 'sluice_retries_total{provider="flaky"}')" = 2 ] || fail "retries: $(grep retries "$M")"
[ "$(v 'sluice_upstream_errors_total{provider="flaky",kind="http_5xx"}')" = 2 ] || fail "flaky errors"
[ "$(v 'sluice_upstream_errors_total{provider="f500",kind="http_5xx"}')" = 2 ] || fail "f500 errors: $(grep upstream_errors "$M")"
[ "$(v 'sluice_fallbacks_total{from="f500",to="mock"}')" = 1 ] || fail "fallbacks: $(grep fallbacks "$M")"
[ "$(v 'sluice_stream_ttft_seconds_count{provider="up",model="up/m"}')" = 1 ] || fail "ttft"
[ "$(v 'sluice_upstream_duration_seconds_count{provider="up"}')" = 5 ] || fail "upstream histogram (4 chat, 1 messages)"
[ "$(v 'sluice_open_streams')" = 0 ] || fail "open streams gauge"
[ "$(v 'sluice_requests_total{provider="up",model="up/m",status="200",endpoint="anthropic_messages"}')" = 1 ] ||
  fail "anthropic endpoint not counted: $(grep 'endpoint="anthropic_messages"' "$M")"
pt=$(v 'sluice_tokens_total{provider="up",model="up/m",type="prompt"}')
[ "$pt" -gt 0 ] || fail "no prompt tokens: $(grep tokens_total "$M")"
pass "counters move: requests, errors, retries, fallbacks, ttft, tokens ($pt prompt)"

# /api/logs (the store is written in the background: wait for the rows)
for _ in $(seq 50); do
  req GET '/api/logs?provider=up'
  [ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" -ge 5 ] && break
  sleep 0.1
done
[ "$STATUS" = 200 ] || fail "/api/logs: $STATUS $BODY"
[ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" = 5 ] || fail "provider filter: $BODY"
contains '"model":"up/m"' "$BODY" && contains '"stream":true' "$BODY" || fail "rows: $BODY"
req GET '/api/logs?status=502&limit=10'
[ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" = 1 ] && contains '"provider":"f500"' "$BODY" || fail "status filter: $BODY"
req GET '/api/logs?model=flaky%2Fm'
[ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" = 1 ] && contains '"retries":2,' "$BODY" || fail "model filter, retries: $BODY"
req GET "/api/logs?since=$(( $(date +%s) + 3600 ))"
[ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" = 0 ] || fail "since filter: $BODY"
req GET '/api/logs?limit=2'
[ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" = 2 ] || fail "limit: $BODY"
for bad in 'status=abc' 'limit=5000' 'limit=0' 'foo=1' 'model=%zz' 'since=-5'; do
  req GET "/api/logs?$bad"; expect_error 400 invalid_request_error ""
done
req POST /api/logs '{}'; [ "$STATUS" = 405 ] || fail "POST /api/logs: $STATUS"
pass "/api/logs filters and validation"

# Everything that was answered, counted by the gateway itself (the scrape
# below is answered, and so logged, after it counts).
scrape 2
served=$(awk '/^sluice_requests_total\{/ {s += $2} END {print s + 1}' "$TMP/metrics.2")
stop_gw || fail "gateway exit"
# One JSON line per request in the log file: buffered per worker, all of them
# written at a clean exit (SIGTERM).
grep -q '"type":"request".*"provider":"flaky".*"status":200.*"retries":2,' "$TMP/sluice.log" ||
  fail "no request line for flaky with its 2 retries: $(grep flaky "$TMP/sluice.log")"
grep -q '"type":"request".*"fallback":"mock"' "$TMP/sluice.log" || fail "fallback not in the log line"
n=$(grep -c '"type":"request"' "$TMP/sluice.log")
[ "$n" = "$served" ] || fail "request lines: $n for $served requests answered"
# Every line is one JSON object that starts with its UTC time to the millisecond.
python3 - "$TMP/sluice.log" <<'PY' || fail "malformed log line"
import json, re, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert list(o)[:3] == ["ts", "level", "type"], (n, line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), (n, line)
    assert o["level"] in ("debug", "info", "warn", "error"), (n, line)
PY
pass "JSON request log ($n lines for $n requests, nothing lost at exit)"

for f in "$TMP/sluice.log" "$GW_LOG" "$TMP/metrics.1" "$TMP/logs.db"*; do
  ! grep -qa -e "$SECRET" -e "$TEXT" "$f" || fail "secret or message text found in $f"
done
pass "no API key or message text in logs, metrics or the store"

# client.log_request_lines false: the store still gets a row per request, the
# log file (opened, as configured) gets no request line.
CFG2=$(write_config <<JSON
{"providers": {"up": {"keys": [{"value": "$SECRET"}], "network_config": {"base_url": "$U"}}},
 "client": {"log_file": "$TMP/nolines.log", "log_request_lines": false},
 "logs_store": {"enabled": true, "type": "sqlite", "config": {"path": "$TMP/nolines.db"}}}
JSON
)
start_gw --config "$CFG2"
# Named threads, for top -H and perf: the workers, the log and store writers.
names=$(cat /proc/"$GW_PID"/task/*/comm | sort | tr '\n' ' ')
[ "$names" = "sluice sluice-log sluice-store sluice-w0 sluice-w1 " ] || fail "thread names: $names"
for _ in 1 2 3 4; do chat up; [ "$STATUS" = 200 ] || fail "chat up (no lines): $STATUS $BODY"; done
for _ in $(seq 50); do
  req GET '/api/logs?provider=up'
  [ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" -ge 4 ] && break
  sleep 0.1
done
[ "$(grep -o '"request_id"' <<<"$BODY" | wc -l)" = 4 ] || fail "store rows without lines: $BODY"
stop_gw || fail "gateway exit (no lines)"
[ -e "$TMP/nolines.log" ] || fail "the log file was not opened"
! grep -q '"type":"request"' "$TMP/nolines.log" || fail "request lines written: $(grep -m1 request "$TMP/nolines.log")"
pass "log_request_lines false: store rows, no request lines"
