#!/usr/bin/env bash
# One target of the gateway benchmark, from start to kill: starts sluice-mockllm and
# the target in front of it, runs every scenario, appends tab-separated results
# "target<TAB>scenario<TAB>key<TAB>value" to $OUT. A scenario that cannot run gets
# key "failed" with the reason. Run by bench/gateway/run.sh, normally inside
# `unshare -n` (a network namespace with only loopback), so nothing here can be
# reached from outside and the ports cannot collide with anyone else's.
#
# Usage: target.sh NAME   (direct | sluice | nginx | portkey)
# Environment (set by run.sh): BUILD OUT DUR QUICK MOCK_PORT TARGET_PORT NETNS
set -u
NAME=$1
cd "$(dirname "$0")/../.."
ROOT=$PWD
LOADGEN=$BUILD/bench/sluice-loadgen
BODY=bench/gateway/chat-2k.json
PORTKEY_JS=bench/gateway/portkey/node_modules/@portkey-ai/gateway/build/start-server.js
[ "${NETNS:-0}" = 1 ] && ip link set lo up
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d)
chmod 755 "$TMP"   # nginx workers may run as another user
pids=()            # every process we start, killed on exit whatever happens

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

put() { printf '%s\t%s\t%s\t%s\n' "$NAME" "$1" "$2" "$3" >>"$OUT"; }
fail() { put "$1" failed "$2"; echo "  $NAME $1: failed: $2" >&2; }

. bench/lib.sh   # wait_http

# The processes whose CPU and memory count for the target: the pid and its children
# (nginx's workers).
target_pids() { echo "$TPID"; pgrep -P "$TPID" 2>/dev/null; }
rss_kb() {
  local sum=0 p v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null) && sum=$((sum + ${v:-0}))
  done
  echo $sum
}
# utime + stime (clock ticks) of the target's processes; comm may hold spaces, so
# fields are counted after the closing parenthesis.
cpu_ticks() {
  local sum=0 p v
  for p in $(target_pids); do
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') && sum=$((sum + ${v:-0}))
  done
  echo $sum
}
HZ=$(getconf CLK_TCK)

# start_mock [ARGS]: the upstream, one worker (the same for every target).
start_mock() {
  "$BUILD/sluice-mockllm" --listen "127.0.0.1:$MOCK_PORT" "$@" >"$TMP/mock.log" 2>&1 &
  MPID=$!; pids+=($MPID)
  wait_http "$MOCK_PORT" /health || { START_ERR="mock did not start: $(tail -n1 "$TMP/mock.log")"; return 1; }
}

# start_target: sets TPID, URL, MODEL, HDRS (extra request headers); on failure
# START_ERR says why.
start_target() {
  HDRS=()
  MODEL=gpt-4o-mini
  URL="http://127.0.0.1:$TARGET_PORT/v1/chat/completions"
  case $NAME in
  direct)
    TPID=$MPID
    URL="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
    return 0 ;;
  sluice)
    [ -x "$BUILD/sluice" ] || { START_ERR="$BUILD/sluice not built"; return 1; }
    cat >"$TMP/sluice.json" <<JSON
{"providers": {"openai": {"keys": [{"value": "sk-bench", "models": ["*"], "weight": 1.0}],
  "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}}}
JSON
    "$BUILD/sluice" --config "$TMP/sluice.json" --listen "127.0.0.1:$TARGET_PORT" >"$TMP/target.log" 2>&1 &
    TPID=$!; pids+=($TPID)
    MODEL=openai/gpt-4o-mini
    wait_http "$TARGET_PORT" /health ;;
  nginx)
    command -v nginx >/dev/null || { START_ERR="nginx not installed"; return 1; }
    mkdir -p "$TMP/nginx/logs"
    local user=""; [ "$(id -u)" = 0 ] && user="user root;"
    # A plain reverse proxy: keep-alive to the upstream, no buffering (so streams
    # pass through as they come), no access log; temp paths in our own prefix.
    cat >"$TMP/nginx/nginx.conf" <<CONF
$user
daemon off;
worker_processes auto;
worker_rlimit_nofile 65536;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 32768; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$TARGET_PORT reuseport backlog=4096;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
CONF
    nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" >"$TMP/target.log" 2>&1 &
    TPID=$!; pids+=($TPID)
    wait_http "$TARGET_PORT" /health || { START_ERR="nginx did not start: $(tail -n1 "$TMP/nginx/logs/error.log" 2>/dev/null)"; return 1; } ;;
  portkey)
    [ -f "$PORTKEY_JS" ] || { START_ERR="portkey not installed (npm ci in bench/gateway/portkey failed?)"; return 1; }
    [ "${NETNS:-0}" = 1 ] || { START_ERR="needs a network namespace (unshare -n, root): it listens on all interfaces"; return 1; }
    # PK_PRELOAD: our work-around for its streaming bug on Node 20 (fetch-headers-fix.mjs).
    NODE_ENV=production node ${PK_PRELOAD:+--import "./$PK_PRELOAD"} "$PORTKEY_JS" --port="$TARGET_PORT" --headless >>"$TMP/target.log" 2>&1 &
    TPID=$!; pids+=($TPID)
    HDRS=(-H "x-portkey-provider: openai" -H "x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/v1")
    wait_http "$TARGET_PORT" / ;;
  *) START_ERR="unknown target"; return 1 ;;
  esac || { START_ERR=${START_ERR:-"did not answer: $(tail -n1 "$TMP/target.log" 2>/dev/null)"}; return 1; }
}

stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do timeout 2 tail --pid="$p" -f /dev/null 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  pids=()
}

# record SCENARIO FILE TICKS0: turns the RESULT line of wrk or the loadgen into
# results, adding the target's CPU per request.
record() {
  local scen=$1 file=$2 t0=$3 line kv k v req
  line=$(grep -m1 '^RESULT' "$file")
  if [ -z "$line" ]; then
    fail "$scen" "no result: $(grep -v '^ *$' "$file" | tail -n1 | cut -c1-160)"
    return
  fi
  for kv in ${line#RESULT }; do put "$scen" "${kv%%=*}" "${kv#*=}"; done
  req=$(sed -n 's/.* \(requests\|completed\)=\([0-9]*\).*/\2/p' <<<"$line")
  if [ "${req:-0}" -gt 0 ]; then
    put "$scen" cpu_us $(awk -v d=$(( $(cpu_ticks) - t0 )) -v hz="$HZ" -v n="$req" 'BEGIN{printf "%.1f", d * 1e6 / hz / n}')
  fi
  local err; err=$(grep -m1 'first error' "$file" | sed 's/.*first error: //')
  [ -n "$err" ] && put "$scen" first_error "$err"
}

# wrk_run SCENARIO CONNECTIONS (closed loop, non-streaming)
wrk_run() {
  local t=1; [ "$2" -gt 1 ] && t=2
  local t0; t0=$(cpu_ticks)
  BENCH_MODEL=$MODEL BENCH_BODY=$BODY timeout $((DUR + 15)) \
    wrk -t$t -c"$2" -d"${DUR}s" --timeout 5s -s bench/gateway/post.lua "${HDRS[@]}" "$URL" >"$TMP/$1.out" 2>&1
  record "$1" "$TMP/$1.out" "$t0"
}

# lg_run SCENARIO LOADGEN-ARGS...
lg_run() {
  local scen=$1; shift
  local t0; t0=$(cpu_ticks)
  timeout $((DUR + 20)) "$LOADGEN" --url "$URL" --body "$BODY" --model "$MODEL" "${HDRS[@]}" \
    --duration "$DUR" "$@" >"$TMP/$scen.out" 2>&1
  record "$scen" "$TMP/$scen.out" "$t0"
}

# hold SCENARIO N: N more streams held open (the mock never answers in time);
# waits until every request is written, then records RSS and the upstream side.
hold() {
  local scen=$1 n=$2
  "$LOADGEN" --url "$URL" --body "$BODY" --model "$MODEL" "${HDRS[@]}" --stream --hold \
    --connections "$n" --duration 60 >"$TMP/$scen.out" 2>&1 &
  local lg=$! limit=$((SECONDS + 20))
  pids+=($lg)
  while [ $SECONDS -lt $limit ]; do
    grep -q '^HOLDING' "$TMP/$scen.out" && break
    kill -0 $lg 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^HOLDING' "$TMP/$scen.out"; then
    local last; last=$(tail -n1 "$TMP/$scen.out")
    fail "$scen" "could not open $n streams in 20 s (the target did not accept or read them)${last:+: $last}"
    kill $lg 2>/dev/null
    return 1
  fi
  sleep 1   # let the target settle (upstream connects, buffers)
  put "$scen" rss_kb "$(rss_kb $(target_pids))"
  put "$scen" upstream_open "$(curl -s -m 2 "http://127.0.0.1:$MOCK_PORT/mock/stats" | sed -n 's/.*"connections_open":\([0-9]*\).*/\1/p')"
}

echo "  $NAME ..." >&2
phase_log() { echo "  $NAME: $1 done at ${SECONDS}s" >&2; }
# Phase 1: throughput, latency, fixed rate, streaming.
START_ERR=""
if ! start_mock || ! start_target; then
  for s in idle c1 c64 rate5000 stream1 stream hold1000 hold10000; do fail $s "${START_ERR:-failed to start}"; done
  exit 0
fi
curl -s -o /dev/null -m 2 "$URL" -H 'content-type: application/json' "${HDRS[@]}" \
  -d "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"warm up\"}]}"
sleep 0.3
put idle rss_kb "$(rss_kb $(target_pids))"
[ "$NAME" != direct ] && put idle mock_rss_kb "$(rss_kb "$MPID")"
if [ "$NAME" = portkey ]; then
  # Stock Portkey cannot stream on Node 20: show it with one request while it is
  # idle; it is restarted with the preload work-around for the streaming rows.
  code=$(curl -s -o "$TMP/pk-stream.txt" -w '%{http_code}' -m 10 "$URL" -H 'content-type: application/json' "${HDRS[@]}" \
    -d "{\"model\":\"$MODEL\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
  sleep 0.2
  put stock_stream http_status "$code"
  put stock_stream body "$(head -c 120 "$TMP/pk-stream.txt")"
  grep -q 'TypeError: immutable' "$TMP/target.log" && put stock_stream log "TypeError: immutable"
fi
wrk_run c1 1
wrk_run c64 64
lg_run rate5000 --rate 5000 --connections 128
if [ "$NAME" = portkey ]; then
  # The streaming rows run with the preload work-around (docs/benchmarks.md).
  kill "$TPID"; timeout 2 tail --pid="$TPID" -f /dev/null; kill -9 "$TPID" 2>/dev/null
  export PK_PRELOAD=bench/gateway/portkey/fetch-headers-fix.mjs
  start_target || fail stream "restart with the preload: ${START_ERR:-did not answer}"
fi
lg_run stream1 --rate 0 --connections 1 --stream
lg_run stream --rate 0 --connections 16 --stream
phase_log "phase 1"
stop_all

# Phase 2: memory with streams held open: a mock that waits 10 minutes before
# answering, so every request stays in flight through the target.
START_ERR=""
if ! start_mock --latency-ms 600000 || ! start_target; then
  for s in hold1000 hold10000; do fail $s "${START_ERR:-failed to start}"; done
  exit 0
fi
if hold hold1000 1000; then
  if [ "${QUICK:-0}" = 1 ]; then
    fail hold10000 "skipped in bench-quick"
  else
    hold hold10000 9000 && put hold10000 note "9,000 more on top of the 1,000"
  fi
else
  fail hold10000 "skipped: 1,000 streams failed"
fi
phase_log "phase 2"
exit 0
