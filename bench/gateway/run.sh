#!/usr/bin/env bash
# Gateway benchmark, side by side: the same 2 KB chat request against the same
# sluice-mockllm upstream, directly (the floor), through Sluice, nginx (plain
# proxy_pass) and Portkey's gateway (pinned npm version), all on 127.0.0.1.
# Each target runs alone, in its own network namespace when we can make one
# (bench/gateway/target.sh); this script sets up, runs them in turn and writes the
# report: bench/results/latest.md and bench/results/latency.png (bench-quick:
# latest-quick.md, latency-quick.png). Method: docs/benchmarks.md.
#
# Usage: bench/gateway/run.sh BUILD      BENCH_QUICK=1: the short form (< 2 min)
#        BENCH_TARGETS="direct sluice"   a subset
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
QUICK=0; [ -n "${BENCH_QUICK:-}" ] && QUICK=1
DUR=8; [ $QUICK = 1 ] && DUR=2
TARGETS=${BENCH_TARGETS:-"direct sluice nginx portkey"}
SUFFIX=""; [ $QUICK = 1 ] && SUFFIX="-quick"
MD=bench/results/latest$SUFFIX.md
PNG=bench/results/latency$SUFFIX.png
mkdir -p bench/results
TMP=$(mktemp -d)
child=""
cleanup() { [ -n "$child" ] && kill "$child" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

for b in sluice-mockllm bench/sluice-loadgen; do
  [ -x "$BUILD/$b" ] || { echo "bench/gateway: $BUILD/$b missing (make bench builds it)"; exit 1; }
done
command -v wrk >/dev/null || { echo "bench/gateway: wrk missing (scripts/install-deps.sh)"; exit 1; }

# Portkey: the pinned version from package-lock.json, installed once.
PK=bench/gateway/portkey
if [[ " $TARGETS " == *" portkey "* ]] && [ ! -f "$PK/node_modules/@portkey-ai/gateway/package.json" ]; then
  if command -v npm >/dev/null; then
    echo "bench/gateway: npm ci in $PK" >&2
    (cd "$PK" && timeout 180 npm ci --no-audit --no-fund --ignore-scripts >/dev/null 2>&1) \
      || echo "bench/gateway: npm ci failed; the portkey row will say so" >&2
  fi
fi

# Each target in a fresh network namespace with only loopback when possible (root):
# Portkey listens on every interface and must never be reachable from outside.
NETNS=0
unshare -n true 2>/dev/null && NETNS=1
. bench/lib.sh   # free_port
RES=$TMP/results.tsv
: >"$RES"
budget=$((DUR * 4 + 90))   # per target: four timed runs, start-ups, memory phase
for t in $TARGETS; do
  if [ $NETNS = 1 ]; then mp=19090; tp=18080; else mp=$(free_port); tp=$(free_port); fi
  env BUILD="$BUILD" OUT="$RES" DUR=$DUR QUICK=$QUICK MOCK_PORT=$mp TARGET_PORT=$tp NETNS=$NETNS \
    timeout -k 5 $budget $([ $NETNS = 1 ] && echo unshare -n) bash bench/gateway/target.sh "$t" &
  child=$!
  wait $child
  rc=$?
  child=""
  [ $rc = 124 ] || [ $rc = 137 ] && printf '%s\t%s\t%s\t%s\n' "$t" all failed "timed out after ${budget}s" >>"$RES"
done

bash bench/gateway/report.sh "$RES" "$MD" "$PNG" "$DUR" "$QUICK" "$NETNS" "$TARGETS"
cp "$RES" "bench/results/latest$SUFFIX.tsv"
cat "$MD"
