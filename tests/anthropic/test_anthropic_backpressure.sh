#!/usr/bin/env bash
# Backpressure through both translations: an Anthropic upstream (the mock)
# streams fast into the anthropic provider, the drop-in endpoint re-encodes
# it as Anthropic SSE (about 18 MB) for a client reading 4 MB/s. The gateway must pause
# the upstream instead of buffering, and every event must arrive in order.
. "$(dirname "$0")/../gateway/lib.sh"
start_mock
CFG=$(write_config <<JSON
{"providers": {"anthropic": {"keys": [{"value": "sk-ant-big"}], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT",
               "extra_headers": {"x-mock-words": "150000"}}}}}
JSON
)
# ASan keeps freed memory in a quarantine (256 MB by default) that would show
# as growth here: this path frees two parsed documents per event. Keep it small.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
start_gw --config "$CFG" --workers 1
req POST /anthropic/v1/messages '{"model":"anthropic/c","max_tokens":5,"messages":[{"role":"user","content":"x"}]}'
if [ "$STATUS" = 404 ] || [ "$STATUS" = 501 ]; then echo "skip: endpoint or provider not wired yet"; exit 77; fi
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$GW_PID/status"; }
before=$(rss_kb)
curl -sN --limit-rate 4M "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" -H 'content-type: application/json' \
     -d '{"model":"anthropic/c","max_tokens":100000,"stream":true,"messages":[{"role":"user","content":"x"}]}' >"$TMP/big" &
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
[ "$size" -gt 15000000 ] || fail "too little of the stream arrived ($size bytes)"
limit=8; [[ "$BUILD" == *asan* ]] && limit=12
[ "$grew" -lt $limit ] || fail "gateway buffered the stream: RSS grew by ${grew} MB"
[ "$(tail -n 2 "$TMP/big" | head -n 1)" = 'data: {"type":"message_stop"}' ] || fail "stream incomplete: $(tail -c 300 "$TMP/big")"
deltas=$(grep -c '"text_delta"' "$TMP/big")
[ "$deltas" -ge 150000 ] || fail "deltas lost: $deltas"
pass "complete Anthropic stream of $deltas text deltas through both translations"
pass "slow reader: RSS grew by ${grew} MB while the upstream was paused"
stop_gw || fail "gateway exit status $?"
