#!/usr/bin/env bash
# Streams are relayed as they arrive (not buffered to the end), and a client
# that disconnects mid-stream cancels the upstream transfer.
. "$(dirname "$0")/lib.sh"
start_mock
CFG=$(write_config <<JSON
{"providers": {
  "slow": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT",
           "extra_headers": {"x-mock-chunk-delay-ms": "250"}}}}}
JSON
)
start_gw --config "$CFG"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# 6 words -> 7 content chunks 250 ms apart: about 1.75 s in all.
t0=$(now_ms); first=
while IFS= read -r line; do
  case "$line" in "data: {"*) [ -z "$first" ] && first=$(now_ms);; esac
done < <(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
         -d '{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"a b c d e f"}]}')
total=$(( $(now_ms) - t0 )); first=$(( first - t0 ))
echo "first chunk after ${first} ms, stream done after ${total} ms"
[ "$total" -ge 1500 ] || fail "stream too fast (${total} ms): chunk delay not applied?"
[ $((total - first)) -ge 1200 ] || fail "first chunk at ${first} ms of ${total} ms: buffered?"
pass "chunks relayed as they arrive"

# Disconnect after 1 s of a 25 s stream; the upstream connection must close.
# A fresh gateway, so that no idle pooled connection to the mock remains.
stop_gw || fail "gateway exit status $?"
start_gw --config "$CFG"
curl -sN --max-time 1 "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'x-request-id: disconnect-test' \
     -d '{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"'"$(printf 'w%.0s ' $(seq 100))"'"}]}' >"$TMP/cut" 
grep -q '^data: {' "$TMP/cut" || fail "no chunk before the disconnect"
open=
for _ in $(seq 40); do
  open=$(curl -s "http://127.0.0.1:$MOCK_PORT/mock/stats" | sed -n 's/.*"connections_open":\([0-9]*\).*/\1/p')
  [ "$open" = 1 ] && break   # only the /mock/stats connection itself
  sleep 0.1
done
[ "$open" = 1 ] || fail "upstream connection still open after the client left (connections_open=$open)"
pass "client disconnect cancels the upstream transfer"

req GET /health
[ "$STATUS" = 200 ] || fail "gateway not serving after a disconnect"
OUT=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -d '{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"ok"}]}')
[ "$(stream_text "$OUT")" = "echo: ok" ] || fail "stream after disconnect: $OUT"
grep -q 'disconnect-test' "$GW_LOG" || fail "disconnected request not logged"
stop_gw || fail "gateway exit status $?"
pass "still serving"
