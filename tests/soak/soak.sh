#!/usr/bin/env bash
# Soak: N mixed requests (streaming and not, in-process mock and sluice-mockllm
# upstream, injected 500s, mid-stream resets, fallbacks, invalid client JSON)
# through the gateway with the C example WASM plugin loaded in every hook.
#
#   tests/soak/soak.sh BUILD N [PROCS] [INTERVAL_S]   (make soak: N = 1,000,000)
#
# Invariants (exit 1 otherwise): every request answered as its kind must be
# (tests/soak/soak_client.py), the gateway alive and exiting cleanly, the fd count
# other than idle upstream connections back to its idle baseline (+2), and RSS flat after warm-up: the peak RSS after
# the first 20% of requests exceeds the RSS at 20% by at most SOAK_RSS_SLACK_KB
# (default 16384 KB: glibc arenas and h2o pools settle in steps; a per-request leak
# of even 32 bytes over 800,000 requests would exceed it).
# The RSS curve is written to $SOAK_CSV (default BUILD/soak-rss.csv).
export SLUICE_BUILD=${1:-build}
N=${2:-1000000}
PROCS=${3:-6}
INTERVAL=${4:-5}
. "$(dirname "$0")/../gateway/lib.sh"
CSV=${SOAK_CSV:-$BUILD/soak-rss.csv}
SLACK=${SOAK_RSS_SLACK_KB:-16384}
WARM=${SOAK_WARMUP_PCT:-20}
PLUGIN=$(pwd)/$BUILD/examples/plugins/c-test.wasm
[ -f "$PLUGIN" ] || fail "missing $PLUGIN (run make)"
start_mock
U="http://127.0.0.1:$MOCK_PORT"
CFG=$(write_config <<JSON
{"providers": {"mock": {"keys": []},
  "up": {"keys": [{"value": "sk-soak-secret-1"}], "network_config": {"base_url": "$U"}},
  "f500": {"keys": [{"value": "sk-soak-secret-2"}], "network_config": {"base_url": "$U", "extra_headers": {"x-mock-fault": "500"}}},
  "cut": {"keys": [], "network_config": {"base_url": "$U", "extra_headers": {"x-mock-fault": "reset-mid-stream"}}}},
 "plugins": [{"name": "ctest", "path": "$PLUGIN", "enabled": true, "timeout_ms": 1000}],
 "client": {"log_level": "warn"},
 "logs_store": {"enabled": true, "type": "sqlite", "config": {"path": "$TMP/logs.db"}}}
JSON
)
start_gw --config "$CFG"
# fds other than connections to the upstream mock (libcurl keeps up to 64 idle ones
# per worker: a bounded cache, not a leak)
own_fds() { python3 -c "import sys; sys.path.insert(0, 'tests/reliability'); from rawhttp import proc_stats, socket_ports
p, m = $GW_PID, $MOCK_PORT
print(proc_stats(p)[1] - sum(1 for lp, rp in socket_ports(p) if rp == m))"; }
fds0=$(own_fds)
python3 tests/soak/soak_client.py "$GW_PORT" "$N" "$PROCS" "$GW_PID" "$INTERVAL" "$CSV" | tee "$TMP/soak.out"
rc=${PIPESTATUS[0]}
kill -0 "$GW_PID" 2>/dev/null || fail "gateway died during the soak"
[ "$rc" = 0 ] || fail "some requests were not answered as expected"
sleep 0.5   # the last connections close
fds1=$(own_fds)
[ "$fds1" -le $((fds0 + 2)) ] || fail "fd count $fds0 before, $fds1 after"
# RSS at the end of the warm-up vs. the peak after it.
read -r warm peak end <<<"$(awk -F, -v n="$N" -v pct="$WARM" 'NR>1 && $3>0 { if (w=="" && $2>=n*pct/100) w=$3; if (w!="" && $3>p) p=$3; e=$3 }
                                      END { if (w=="") w=e; if (p=="") p=e; print w, p, e }' "$CSV")"
first=$(awk -F, 'NR==2 {print $3}' "$CSV")
echo "RSS KB: idle $first, after warm-up $warm, peak after warm-up $peak, end $end; fds $fds0 -> $fds1"
[ $((peak - warm)) -le "$SLACK" ] || fail "RSS grew by $((peak - warm)) KB after warm-up (slack $SLACK KB)"
req GET /health
[ "$STATUS" = 200 ] || fail "gateway not serving after the soak"
stop_gw || fail "gateway exit status $?"
pass "soak: $N requests, RSS flat after warm-up (+$((peak - warm)) KB), fds back to $fds1"
