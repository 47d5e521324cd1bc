#!/usr/bin/env bash
# The official `openai` npm client (tests/e2e/package-lock.json) against the
# gateway: mock provider and an OpenAI-compatible provider on sluice-mockllm.
. "$(dirname "$0")/../gateway/lib.sh"
command -v npm >/dev/null && command -v node >/dev/null || { echo "skip: npm/node not installed"; exit 77; }
if [ ! -d tests/e2e/node_modules/openai ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi
start_mock
CFG=$(write_config <<JSON
{"providers": {"mock": {"keys": []},
  "up": {"keys": [{"value": "sk-e2e", "models": ["*"]}], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}}}
JSON
)
start_gw --config "$CFG"
SLUICE_URL="http://127.0.0.1:$GW_PORT" SLUICE_UPSTREAM_MODEL=up/gpt-test node tests/e2e/openai_client.mjs || fail "node client test"
stop_gw || fail "gateway exit status $?"
