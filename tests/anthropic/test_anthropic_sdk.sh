#!/usr/bin/env bash
# The official @anthropic-ai/sdk (tests/anthropic/package.json + lock, npm ci
# into tests/anthropic/node_modules) against /anthropic/v1/messages:
# tests/anthropic/sdk_client.mjs. Skips without node/npm or registry access.
. "$(dirname "$0")/../gateway/lib.sh"
command -v node >/dev/null && command -v npm >/dev/null || { echo "skip: node/npm not installed"; exit 77; }
DIR=tests/anthropic
if [ ! -d "$DIR/node_modules/@anthropic-ai/sdk" ]; then
  (cd "$DIR" && timeout 180 npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1 ||
    { cat "$TMP/npm.log"; echo "skip: npm ci failed (no registry access?)"; exit 77; }
fi
start_mock
CFG=$(write_config <<JSON
{"providers": {"mock": {"keys": []}, "down": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:1"}},
  "anthropic": {"keys": [{"value": "sk-ant-upstream"}], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}},
  "tooly": {"keys": [{"value": "sk-t"}], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT", "extra_headers": {"x-mock-tool-call": "get_weather"}}}}}
JSON
)
start_gw --config "$CFG"
curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" -d '{}' | grep -q 404 &&
  curl -s -X POST "http://127.0.0.1:$GW_PORT/anthropic/v1/messages" -d '{}' | grep -q unknown_url &&
  { echo "skip: /anthropic/v1/messages is not routed in src/core/route.c"; exit 77; }
timeout 60 node "$DIR/sdk_client.mjs" "http://127.0.0.1:$GW_PORT/anthropic" || fail "the SDK client failed"
stop_gw || fail "gateway exit status $?"
pass "official Anthropic SDK: create, stream, tools, fallbacks, errors"
