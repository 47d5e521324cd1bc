#!/usr/bin/env bash
# Builds every libFuzzer target and runs each briefly on its seed corpus
# (FUZZ_BRIEF_SECONDS, default 15 s each). Runs in the plain pass of `make test`
# only: the fuzz builds carry ASan+UBSan themselves. `make fuzz` runs longer.
set -u
[ "${SLUICE_BUILD:-build}" = build ] || { echo "skipped in the $SLUICE_BUILD pass (fuzzers are sanitized already)"; exit 77; }
command -v clang >/dev/null || { echo "clang missing"; exit 1; }
make -s --no-print-directory fuzz-build || { echo "fuzz targets failed to build"; exit 1; }
bins=$(make -s --no-print-directory print-fuzz-bins)
[ -n "$bins" ] || { echo "no fuzz targets"; exit 1; }
scripts/run-fuzzers.sh "${FUZZ_BRIEF_SECONDS:-15}" $bins
