#!/usr/bin/env bash
# Backpressure: a client that reads a big fast stream slowly must not make the
# gateway buffer the stream (it pauses the upstream instead), and the stream
# still arrives complete and in order.
. "$(dirname "$0")/lib.sh"
start_mock
CFG=$(write_config <<JSON
{"providers": {"big": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT",
               "extra_headers": {"x-mock-words": "60000"}}}}}
JSON
)
start_gw --config "$CFG" --workers 1
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$GW_PID/status"; }
before=$(rss_kb)
# 60k chunks, about 16 MB of SSE, read at 1 MB/s.
curl -sN --limit-rate 1M "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
     -d '{"model":"big/m","stream":true,"messages":[{"role":"user","content":"x"}]}' >"$TMP/big" &
CURL=$!; PIDS+=("$CURL")
peak=$before
for _ in $(seq 80); do
  sleep 0.25
  r=$(rss_kb); [ "${r:-0}" -gt "$peak" ] && peak=$r
  kill -0 "$CURL" 2>/dev/null || break
done
wait "$CURL" || true
size=$(stat -c %s "$TMP/big")
grew=$(( (peak - before) / 1024 ))
echo "stream bytes received: $size; gateway RSS before ${before} kB, peak ${peak} kB (+${grew} MB)"
[ "$size" -gt 5000000 ] || fail "too little of the stream arrived ($size bytes)"
limit=8; [[ "$BUILD" == *asan* ]] && limit=12   # ASan's quarantine holds freed chunks
[ "$grew" -lt $limit ] || fail "gateway buffered the stream: RSS grew by ${grew} MB"
[ "$(tail -n 2 "$TMP/big" | head -n 1)" = "data: [DONE]" ] || fail "stream incomplete: $(tail -c 300 "$TMP/big")"
chunks=$(grep -c '^data: {' "$TMP/big")
[ "$chunks" -gt 60000 ] || fail "chunks lost: $chunks"
pass "complete stream of $chunks chunks"
pass "slow reader: RSS grew by ${grew} MB while the upstream was paused"
stop_gw || fail "gateway exit status $?"
