#!/usr/bin/env bash
# The short soak of `make test`: the invariants of `make soak` (every request
# answered as expected, gateway alive, fds back to baseline, RSS flat after
# warm-up) over fewer requests: 30,000 in the plain build, 6,000 under the
# sanitizers (ASan's quarantine and TSan's shadow make RSS meaningless there, so the
# RSS slack is wide; the point of those passes is leaks and races).
case "${SLUICE_BUILD:-build}" in
  build) N=30000 ;;
  *) N=6000; export SOAK_RSS_SLACK_KB=262144 ;;
esac
export SOAK_CSV=${TMPDIR:-/tmp}/soak-short.$$.csv
trap 'rm -f "$SOAK_CSV"' EXIT
bash "$(dirname "$0")/soak.sh" "${SLUICE_BUILD:-build}" "$N" 8 1
