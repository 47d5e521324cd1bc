#!/usr/bin/env bash
# The SSE relay with a tricky upstream (tests/gateway/sse_upstream.mjs): every
# event reaches the client as one well-formed "data: <json>" line with
# extra_fields.provider, whatever the upstream's framing.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { echo "skip: node not installed"; exit 77; }
UP_PORT=$(free_port)
node tests/gateway/sse_upstream.mjs "$UP_PORT" >"$TMP/up.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$TMP/up.log" && break; sleep 0.05; done
CFG=$(write_config <<JSON
{"providers": {"tricky": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$UP_PORT"}}}}
JSON
)
start_gw --config "$CFG"
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -d '{"model":"tricky/m","stream":true,"messages":[{"role":"user","content":"x"}]}')
echo "$OUT"
# Every non-empty line is a data: line; events are separated by one blank line.
bad=$(grep -v '^data: ' <<<"$OUT" | grep -v '^$' || true)
[ -z "$bad" ] || fail "lines without data: prefix: $bad"
[ "$(grep -c '^data: {' <<<"$OUT")" = 5 ] || fail "expected 5 JSON events"
[ "$(stream_text "$OUT")" = "one two three four" ] || fail "text: '$(stream_text "$OUT")'"
grep -q '^data: {"extra_fields":{"provider":"tricky"}}$' <<<"$OUT" || fail "empty object not extended"
grep -q '"extra_fields":{"provider":"origin"}' <<<"$OUT" || fail "existing extra_fields changed"
[ "$(grep -c '"provider":"tricky"' <<<"$OUT")" = 4 ] || fail "extra_fields missing"
[ "$(grep '^data: ' <<<"$OUT" | tail -n1)" = "data: [DONE]" ] || fail "no [DONE] at the end"
# Each JSON event must parse (node is there anyway).
grep '^data: {' <<<"$OUT" | sed 's/^data: //' | node -e '
  const lines = require("fs").readFileSync(0, "utf8").trim().split("\n");
  for (const l of lines) JSON.parse(l);' || fail "an event is not valid JSON"
pass "tricky upstream SSE relayed as clean events"
stop_gw || fail "gateway exit status $?"
