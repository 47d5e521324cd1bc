#!/usr/bin/env bash
# Deterministic per-request costs of Sluice in front of sluice-mockllm, for
# before/after comparisons on a shared machine (where wall-clock and even CPU
# time move by ±50 %): one worker each, 127.0.0.1 only. Method and results:
# docs/performance.md.
#
# Usage: bench/gateway/profile.sh BUILD instr [N]     user-space instructions per request of
#                                                      the worker thread (valgrind callgrind),
#                                                      N sequential requests (default 1000),
#                                                      then the top functions (inclusive)
#        bench/gateway/profile.sh BUILD syscalls [N]  syscalls per request (strace -c), N
#                                                      sequential requests (default 2000)
#        bench/gateway/profile.sh BUILD memory [N]    RSS idle and with N streams held open
#                                                      (mock --latency-ms), KB per stream
# Requests: the 2 KB chat request of bench/gateway/chat-2k.json, non-streaming, one
# keep-alive connection (so connection set-up is not counted).
# STREAM=1 (instr, syscalls): the same request with "stream": true, read to the end of
# its chunked SSE body (~124 events, the mock's echo): costs per stream.
# HTTP_CLIENT=curl|native picks network_config.http_client (default: the build's).
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:?usage: profile.sh BUILD instr|syscalls|memory [N]}
MODE=${2:?usage: profile.sh BUILD instr|syscalls|memory [N]}
ROOT=$PWD
TMP=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
. bench/lib.sh   # free_port, wait_http
WAIT_HTTP_TRIES=600   # sluice under valgrind starts slowly
MP=$(free_port); TP=$(free_port)
UNIT=request; [ "${STREAM:-0}" = 1 ] && UNIT=stream
HC_JSON=; [ -n "${HTTP_CLIENT:-}" ] && HC_JSON=", \"http_client\": \"$HTTP_CLIENT\""
cat >"$TMP/sluice.json" <<JSON
{"providers": {"openai": {"keys": [{"value": "sk-bench", "models": ["*"], "weight": 1.0}],
  "network_config": {"base_url": "http://127.0.0.1:$MP"$HC_JSON}}}}
JSON

# start MOCK-ARGS... -- SLUICE-PREFIX...: the mock, then sluice (1 worker) under the prefix.
start() {
  local margs=() ; while [ "$1" != -- ]; do margs+=("$1"); shift; done; shift
  "$BUILD/sluice-mockllm" --listen "127.0.0.1:$MP" --workers 1 "${margs[@]}" >"$TMP/mock.log" 2>&1 &
  pids+=($!)
  "$@" "$BUILD/sluice" --config "$TMP/sluice.json" --listen "127.0.0.1:$TP" --workers 1 >"$TMP/sluice.log" 2>&1 &
  SPID=$!; pids+=($SPID)
  wait_http "$MP" && wait_http "$TP" || { echo "profile.sh: did not start: $(tail -n2 "$TMP/sluice.log")"; exit 1; }
}

# send N: N requests in sequence on one keep-alive connection; fails on a non-200.
send() {
  python3 - "$TP" "$1" "${STREAM:-0}" <<'PY'
import socket, sys
port, n, stream = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == '1'
body = open('bench/gateway/chat-2k.json', 'rb').read().replace(b'"MODEL"', b'"openai/gpt-4o-mini"')
if stream:
    body = body.replace(b'{', b'{"stream": true, ', 1)
req = (b'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
       b'Authorization: Bearer sk-bench\r\nContent-Length: %d\r\n\r\n' % len(body)) + body
s = socket.create_connection(('127.0.0.1', port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile('rb')
for i in range(n):
    s.sendall(req)
    status = f.readline()
    if not status.startswith(b'HTTP/1.1 200'):
        sys.exit('request %d: %r' % (i, status))
    cl, chunked = 0, False
    while True:
        h = f.readline()
        if h in (b'\r\n', b''):
            break
        if h.lower().startswith(b'content-length:'):
            cl = int(h.split(b':')[1])
        if h.lower().startswith(b'transfer-encoding:') and b'chunked' in h.lower():
            chunked = True
    if not chunked:
        got = f.read(cl)
    else:
        got = b''
        while True:
            size = int(f.readline().split(b';')[0], 16)
            got += f.read(size + 2)[:size]
            if size == 0:
                break
    if stream and not got.endswith(b'data: [DONE]\n\n'):
        sys.exit('request %d: stream did not end with [DONE]: %r' % (i, got[-80:]))
PY
}

case $MODE in
instr)
  N=${3:-1000}
  command -v valgrind >/dev/null || { echo "profile.sh: valgrind missing"; exit 1; }
  start -- valgrind --tool=callgrind --toggle-collect=srv_worker_main --callgrind-out-file="$TMP/cg.out"
  send 1 && send "$N" || exit 1
  kill -INT "$SPID"; wait "$SPID" 2>/dev/null
  # The warm-up request counts too: N + 1 requests.
  [ -n "${CG_OUT:-}" ] && cp "$TMP/cg.out" "$CG_OUT"
  tot=$(awk '/^(totals|summary):/{print $2; exit}' "$TMP/cg.out")
  echo "instructions per $UNIT (user space, worker thread): $((tot / (N + 1)))"
  callgrind_annotate --inclusive=yes "$TMP/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ ' |
    grep -E 'sluice\]|curl_multi|h2o_process|obs_|sj_' | head -n 25 ;;
syscalls)
  N=${3:-2000}
  start --
  send 1 || exit 1
  strace -c -f -p "$SPID" -o "$TMP/strace" 2>/dev/null &
  st=$!; sleep 0.5
  send "$N" || exit 1
  sleep 0.3; kill -INT $st; wait $st 2>/dev/null
  awk -v n="$N" -v u="$UNIT" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
      calls = $4; errs = (NF == 6) ? $5 : 0; t += calls
      if (calls / n >= 0.01) printf "%-14s %5.2f per " u "%s\n", $NF, calls / n, errs ? sprintf(" (%.2f failed)", errs / n) : "" }
    END { printf "%-14s %5.2f per " u "\n", "total", t / n }' "$TMP/strace" ;;
memory)
  N=${3:-2000}
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  start --latency-ms 600000 --
  r0=$(awk '/^VmRSS/{print $2}' "/proc/$SPID/status")
  "$BUILD/bench/sluice-loadgen" --url "http://127.0.0.1:$TP/v1/chat/completions" --body bench/gateway/chat-2k.json \
    --model openai/gpt-4o-mini --stream --hold --connections "$N" --duration 60 >"$TMP/lg.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do grep -q '^HOLDING' "$TMP/lg.out" && break; sleep 0.1; done
  grep -q '^HOLDING' "$TMP/lg.out" || { echo "profile.sh: streams not held: $(tail -n1 "$TMP/lg.out")"; exit 1; }
  sleep 1
  r1=$(awk '/^VmRSS/{print $2}' "/proc/$SPID/status")
  up=$(curl -s "http://127.0.0.1:$MP/mock/stats" | sed -n 's/.*"connections_open":\([0-9]*\).*/\1/p')
  echo "RSS idle ${r0} KB, with $N streams held ${r1} KB (upstream connections open: ${up:-?}):" \
       "$(( (r1 - r0) / N )) KB per stream" ;;
*) echo "profile.sh: unknown mode $MODE"; exit 1 ;;
esac
