#!/usr/bin/env bash
# run-fuzzers.sh SECONDS FUZZ_BIN... : runs each libFuzzer target for SECONDS on a
# scratch copy of its seed corpus (tests/fuzz/corpus/<name>/, never modified).
# Exits non-zero if any target finds a crash, leak or timeout; the reproducer
# is left in build-fuzz/artifacts/<name>/.
set -u
secs=$1; shift
rc=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  seeds=tests/fuzz/corpus/$name
  work=build-fuzz/corpus/$name; art=build-fuzz/artifacts/$name/
  mkdir -p "$work" "$art"
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art" "$work" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} \
        > "build-fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED (log build-fuzz/$name.log, artifacts in $art)"; tail -n 40 "build-fuzz/$name.log"; rc=1
  else
    grep -E "stat::number_of_executed_units" "build-fuzz/$name.log" | sed "s/^/fuzz: $name /"
  fi
done
exit $rc
