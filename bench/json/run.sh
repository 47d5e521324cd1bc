#!/usr/bin/env bash
# JSON benchmark: parses/s and parse+serialize/s of a 2 KB chat request, sj_
# vs jansson, one core. Usage: bench/json/run.sh BUILD (BENCH_QUICK=1: 0.3 s
# per row instead of 2 s). Prints markdown and writes bench/results/json.md.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SECS=2; [ -n "${BENCH_QUICK:-}" ] && SECS=0.3
BIN=$BUILD/bench/json_bench
[ -x "$BIN" ] || { echo "bench/json: $BIN missing (make $BIN)"; exit 1; }
mkdir -p bench/results
# Pin to one CPU when possible so the number means "one core".
PIN=(); command -v taskset >/dev/null && PIN=(taskset -c 0)
"${PIN[@]}" "$BIN" bench/json/chat-2k.json "$SECS" | tee bench/results/json.md
exit "${PIPESTATUS[0]}"
