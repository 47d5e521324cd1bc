#!/usr/bin/env bash
# Configuration: errors refuse to start (exit 2) naming the file and field;
# unknown fields and plugins only warn; env.NAME values are read.
. "$(dirname "$0")/lib.sh"

expect_refusal() { # CONFIG TEXT...
  local cfg=$1; shift
  local rc=0
  "$GW_BIN" --config "$cfg" --listen 127.0.0.1:$(free_port) >"$TMP/out" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait "$pid" || rc=$?
  [ $rc = 2 ] || fail "expected exit 2, got $rc: $(cat "$TMP/out")"
  for t in "$@"; do grep -qF -- "$t" "$TMP/out" || fail "expected '$t' in: $(cat "$TMP/out")"; done
}

CFG=$(write_config <<'JSON'
{"providers": {"openai": {"keys": [{"value": "sk-1", "models": ["*"], "weight": "heavy"}]}}}
JSON
)
expect_refusal "$CFG" "$CFG" "providers.openai.keys[0].weight" "expected a number"
pass "wrong type names the field"

unset SLUICE_TEST_NO_SUCH_VAR
CFG=$(write_config <<'JSON'
{"providers": {"openai": {"keys": [{"value": "env.SLUICE_TEST_NO_SUCH_VAR", "models": ["*"]}]}}}
JSON
)
expect_refusal "$CFG" "providers.openai.keys[0].value" "SLUICE_TEST_NO_SUCH_VAR is not set"
pass "missing env variable"

CFG=$(write_config <<'JSON'
{"providers": {"groq": {"keys": [{"value": "k"}]}}}
JSON
)
expect_refusal "$CFG" "providers.groq" "base_url"
CFG=$(write_config <<'JSON'
{"providers": {"x": {"keys": [], "network_config": {"base_url": "ftp://h", "max_retries": 1}}}}
JSON
)
expect_refusal "$CFG" "providers.x.network_config.base_url" "http:// or https://"
CFG=$(write_config <<'JSON'
{"providers": {"mock": {"keys": []}}, "client": {"max_request_body_size_mb": -3}}
JSON
)
expect_refusal "$CFG" "client.max_request_body_size_mb" "between 1 and"
CFG=$(write_config <<'JSON'
{"providers": {"mock": {"keys": {}}}}
JSON
)
expect_refusal "$CFG" "providers.mock.keys" "expected an array"
CFG=$(write_config <<'JSON'
{"providers": {"mock": {"keys": []}},
JSON
)
expect_refusal "$CFG" "not valid JSON"
CFG=$(write_config <<'JSON'
{"providers": {"mock": {"keys": [{"name": "a", "name": "b"}]}}}
JSON
)
expect_refusal "$CFG" "providers.mock.keys[0]" '"name" is given twice'
expect_refusal "$TMP/does-not-exist.json" "does-not-exist.json" "cannot open"
pass "other config errors"

# Unknown fields warn; an enabled plugin warns; env.NAME is read; models listed.
export SLUICE_TEST_KEY=sk-from-env
CFG=$(write_config <<'JSON'
{"providers": {
   "mock": {"keys": [], "colour": "blue"},
   "openai": {"keys": [{"name": "k1", "value": "env.SLUICE_TEST_KEY", "models": ["gpt-4o-mini", "gpt-4o"], "weight": 1.0}],
              "network_config": {"base_url": "http://127.0.0.1:9", "extra_headers": {"x-team": "a"}}}},
 "plugins": [{"name": "hello", "path": "plugins/hello.wasm", "enabled": true, "config": {"k": "v"}}],
 "client": {"max_request_body_size_mb": 5},
 "telemetry": {}}
JSON
)
start_gw --config "$CFG"
grep -q 'providers.mock.colour: unknown field' "$GW_LOG" || fail "no unknown-field warning"
grep -q 'telemetry: unknown field' "$GW_LOG" || fail "no top-level unknown-field warning"
grep -q "plugin 'hello'.*not yet supported" "$GW_LOG" || fail "no plugin warning"
req GET /v1/models
for id in mock/mock-1 openai/gpt-4o-mini openai/gpt-4o; do
  contains "\"id\":\"$id\"" "$BODY" || fail "models lacks $id: $BODY"
done
pass "warnings, env values, model list"
stop_gw || fail "gateway exit status $?"
