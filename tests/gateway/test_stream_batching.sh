#!/usr/bin/env bash
# One client write per upstream read (src/core/stream_out.c, "Batching"): the
# mock sends a whole ~124-event answer in one write, so per stream the gateway
# makes one writev upstream (the request) and one to the client (all events
# and [DONE]). Before batching the first event left alone: 3 writev. Counted
# with strace over 20 streams; the streams must also arrive whole.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "skip: strace not installed"; exit 77; }
start_mock --workers 1
CFG=$(write_config <<JSON
{"providers": {"openai": {"keys": [{"value": "sk-test", "models": ["*"]}],
  "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT", "http_client": "native"}}}}
JSON
)
start_gw --config "$CFG"
BODY=$(sed 's/"MODEL"/"openai\/gpt-4o-mini"/; s/^{/{"stream": true, /' bench/gateway/chat-2k.json)
stream() { curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'Content-Type: application/json' -d "$BODY"; }
OUT=$(stream)   # warm-up: the upstream connection is open from here on
n_events=$(grep -c '^data: {' <<<"$OUT")
[ "$n_events" -ge 100 ] || fail "expected a long stream, got $n_events events"
[ "$(grep '^data: ' <<<"$OUT" | tail -n1)" = "data: [DONE]" ] || fail "no [DONE]"
strace -f -c -e trace=writev -p "$GW_PID" -o "$TMP/strace" 2>"$TMP/strace.err" & ST=$!; PIDS+=("$ST")
# Start only once strace has attached to the gateway's threads ("Process N
# attached with T threads"): a late attach on a slow machine would count too few.
for _ in $(seq 100); do
  grep -q 'Operation not permitted' "$TMP/strace.err" && { echo "skip: ptrace not permitted here"; exit 77; }
  grep -q 'attached' "$TMP/strace.err" && break
  sleep 0.1
done
grep -q 'attached' "$TMP/strace.err" || { cat "$TMP/strace.err"; fail "strace did not attach"; }
sleep 0.2
N=20
for _ in $(seq $N); do
  o=$(stream)
  [ "$(grep -c '^data: {' <<<"$o")" = "$n_events" ] || fail "a stream lost events"
  [ "$(tail -c 15 <<<"$o" | tr -d '\n')" = "data: [DONE]" ] || fail "a stream did not end with [DONE]"
done
sleep 0.3; kill -INT "$ST"; wait "$ST" 2>/dev/null
calls=$(awk '$NF == "writev" {print $4}' "$TMP/strace")
[ -n "$calls" ] || { cat "$TMP/strace"; fail "strace counted no writev"; }
echo "writev: $calls for $N streams of $n_events events"
# 2 per stream; a little slack for a read that the kernel happened to split.
[ "$calls" -le $((N * 2 + N / 4)) ] || fail "$calls writev for $N streams: events are not batched per read"
[ "$calls" -ge $((N * 2)) ] || fail "$calls writev for $N streams: fewer than one per hop, strace missed some"
pass "one client write per upstream read ($calls writev for $N streams)"
stop_gw || fail "gateway exit status $?"
