#!/usr/bin/env bash
# Hostile clients against the real gateway over raw sockets (tests/reliability/hostile.py):
# huge heads and bodies, invalid UTF-8, deep nesting, 50,000 keys, pipelined garbage,
# request smuggling (CL/TE conflicts, duplicate CL, obfuscated TE), and clients that vanish
# during the head, the body, the upstream wait and the stream. Clean 4xx, bounded memory,
# fds back to baseline, and the gateway keeps serving.
. "$(dirname "$0")/../gateway/lib.sh"
start_mock
U="http://127.0.0.1:$MOCK_PORT"
CFG=$(write_config <<JSON
{"providers": {"mock": {"keys": []},
  "stall": {"keys": [], "network_config": {"base_url": "$U", "default_request_timeout_in_seconds": 2,
            "extra_headers": {"x-mock-fault": "stall"}}},
  "slow": {"keys": [], "network_config": {"base_url": "$U", "extra_headers": {"x-mock-chunk-delay-ms": "100"}}}}}
JSON
)
start_gw --config "$CFG"
python3 tests/reliability/hostile.py "$GW_PORT" "$GW_PID" stall || fail "hostile clients"
req GET /health
[ "$STATUS" = 200 ] || fail "gateway not serving"
stop_gw || fail "gateway exit status $?"
pass "hostile clients: clean errors, no smuggling, bounded memory, still serving"
