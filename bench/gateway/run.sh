#!/usr/bin/env bash
# Gateway benchmark: the same 2 KB chat request against sluice-mockllm directly (the
# floor) and through Sluice (OpenAI-compatible provider pointed at the same mock),
# non-streaming, at concurrency 1 and 64, with wrk on 127.0.0.1 only.
# Usage: bench/gateway/run.sh BUILD   (BENCH_QUICK=1: 3 s per run instead of 10 s)
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
DUR=10; [ -n "${BENCH_QUICK:-}" ] && DUR=3
OUT=bench/results/gateway.md
TMP=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

for b in sluice sluice-mockllm; do
  [ -x "$BUILD/$b" ] || { echo "bench/gateway: $BUILD/$b missing"; exit 1; }
done
command -v wrk >/dev/null || { echo "bench/gateway: wrk missing (scripts/install-deps.sh)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
              || echo $((20000 + RANDOM % 20000)); }
wait_http() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.05; done; return 1; }

MOCK_PORT=$(free_port); GW_PORT=$(free_port)
"$BUILD/sluice-mockllm" --listen 127.0.0.1:$MOCK_PORT >"$TMP/mock.log" 2>&1 & pids+=($!)
cat >"$TMP/config.json" <<JSON
{"providers": {"openai": {"keys": [{"value": "sk-bench", "models": ["*"], "weight": 1.0}],
  "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}}}
JSON
"$BUILD/sluice" --config "$TMP/config.json" --listen 127.0.0.1:$GW_PORT >"$TMP/gw.log" 2>&1 & pids+=($!)
wait_http $MOCK_PORT && wait_http $GW_PORT || { echo "bench/gateway: servers did not start"; cat "$TMP"/*.log; exit 1; }

# run NAME PORT MODEL CONNS -> one table row
run() {
  local name=$1 port=$2 model=$3 conns=$4 threads=1
  [ "$conns" -gt 1 ] && threads=2
  BENCH_MODEL=$model wrk -t$threads -c$conns -d${DUR}s -s bench/gateway/post.lua \
      "http://127.0.0.1:$port/v1/chat/completions" >"$TMP/wrk.out" 2>&1
  local r; r=$(grep '^RESULT' "$TMP/wrk.out")
  [ -n "$r" ] || { echo "| $name | c=$conns | wrk failed: $(tail -n1 "$TMP/wrk.out") |||||"; return; }
  eval "${r#RESULT }"   # rps p50 p99 p999 max requests errors (latencies in µs)
  printf '| %s | %d | %s | %s | %s | %s | %s |\n' "$name" "$conns" "$rps" \
    "$(awk "BEGIN{printf \"%.0f\", $p50}")" "$(awk "BEGIN{printf \"%.0f\", $p99}")" \
    "$(awk "BEGIN{printf \"%.0f\", $p999}")" "$errors"
  echo "$name $conns $rps $p50 $p99" >>"$TMP/rows"
}

{
  echo "Non-streaming chat completion, 2 KB request, ${DUR}s per run, wrk on 127.0.0.1 ($(nproc) cores shared by wrk, mock and gateway)."
  echo
  echo "| target | connections | requests/s | p50 µs | p99 µs | p99.9 µs | errors |"
  echo "|---|---|---|---|---|---|---|"
  for c in 1 64; do
    run direct $MOCK_PORT gpt-4o-mini $c
    run sluice $GW_PORT openai/gpt-4o-mini $c
    run sluice-mock-provider $GW_PORT mock/any $c
  done
  echo
  # Overhead of the gateway at concurrency 1: p50 through Sluice minus p50 direct.
  awk '$2==1 && $1=="direct"{d=$4} $2==1 && $1=="sluice"{s=$4} END{ if (d && s) printf "Gateway overhead at concurrency 1 (p50 through sluice - p50 direct): %.0f µs\n", s-d }' "$TMP/rows"
} | tee "$OUT"
