#!/usr/bin/env bash
# Runs every benchmark suite bench/<suite>/run.sh with the build dir as $1.
# BENCH_QUICK=1 asks each suite for its short form. Output is markdown; each
# suite also writes bench/results/<suite>.md.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
mkdir -p bench/results
rc=0
for s in bench/*/run.sh; do
  [ -f "$s" ] || continue
  echo "## $(basename "$(dirname "$s")")"
  bash "$s" "$BUILD" || { echo "bench: $s failed"; rc=1; }
  echo
done
exit $rc
