#!/usr/bin/env bash
# Runs every test and ends with the line "N passed, N failed, N skipped".
#
# A test is either an executable built into BUILD/tests/ (C unit tests) or a
# script tests/<area>/test_*.sh. Each runs from the repository root with
#   SLUICE_BUILD   the build directory (build or build-asan)
#   SLUICE_SHARED  the shared test data (../shared beside the checkout)
# Exit 0 = pass, 77 = skipped (with the reason on its last output line), else fail.
# A test that runs longer than its limit (TEST_TIMEOUT, default 600 s) fails.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FILTER=${2:-}   # space-separated: a test runs if its name contains any of them
export SLUICE_BUILD=$BUILD
export SLUICE_SHARED=${SLUICE_SHARED:-$(cd .. && pwd)/shared}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"

# Sanitizer builds: every instrumented process (servers started by scripts too)
# writes its reports under SANDIR, and a test that leaves a report there fails,
# whatever its exit code.
SANDIR=$(pwd)/$BUILD/sanitizer-reports
rm -rf "$SANDIR"; mkdir -p "$SANDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:log_path=$SANDIR/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$SANDIR/ubsan}
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1:log_path=$SANDIR/tsan}

matches() { # NAME: whether it matches one of the filters (or there are none)
  [ -z "$FILTER" ] && return 0
  local f
  for f in $FILTER; do [[ "$1" == *"$f"* ]] && return 0; done
  return 1
}

tests=()
for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && [ -f "$t" ] && tests+=("$t"); done
for t in tests/*/test_*.sh; do [ -f "$t" ] && tests+=("$t"); done

pass=0; fail=0; skip=0; failed=()
for t in "${tests[@]}"; do
  matches "$t" || continue
  name=${t#"$BUILD"/}; log=$LOGDIR/$(echo "$name" | tr '/' '_').log
  start=$(date +%s%N)
  if [[ "$t" == *.sh ]]; then cmd=(bash "$t"); else cmd=("$t"); fi
  timeout -k 10 "${TEST_TIMEOUT:-600}" "${cmd[@]}" >"$log" 2>&1
  rc=$?
  if [ -n "$(ls -A "$SANDIR")" ]; then
    echo "sanitizer reports:" >>"$log"; cat "$SANDIR"/* >>"$log"
    mkdir -p "$LOGDIR/sanitizer"; mv "$SANDIR"/* "$LOGDIR/sanitizer/"
    [ $rc -eq 0 ] || [ $rc -eq 77 ] && rc=99
  fi
  ms=$(( ($(date +%s%N) - start) / 1000000 )); secs=$((ms/1000)).$(( (ms%1000)/100 ))
  if [ $rc -eq 0 ]; then pass=$((pass+1)); printf 'PASS  %-50s %6ss\n' "$name" "$secs"
  elif [ $rc -eq 77 ]; then skip=$((skip+1)); printf 'SKIP  %-50s %s\n' "$name" "$(tail -n1 "$log")"
  else
    fail=$((fail+1)); failed+=("$name")
    printf 'FAIL  %-50s %6ss (exit %d, log %s)\n' "$name" "$secs" "$rc" "$log"
    tail -n 30 "$log" | sed 's/^/      | /'
  fi
done
echo
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
