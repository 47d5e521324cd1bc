#!/usr/bin/env bash
# The example plugins of every language (native C, Rust, freestanding C on
# the SDK, C on wasi-libc, AssemblyScript) in one chain in front of
# sluice-mockllm, driven by the official `openai` npm client
# (tests/e2e/plugins_client.mjs): every hook's effect, order and
# short-circuit rules, stream chunk edits and skips. Then a plugin loaded
# from a local http:// URL, with a good and with a wrong sha256 pin.
. "$(dirname "$0")/../gateway/lib.sh"
. tests/plugin/examples_lib.sh
examples_have_npm || { echo "skip: npm/node not installed"; exit 77; }
examples_have_rust || { echo "skip: Debian's Rust wasm32 toolchain is not installed"; exit 77; }
EX=$(pwd)/$BUILD/examples/plugins
for f in libnative_example.so c-guard.wasm c-policy.wasm c-guard-wasi.wasm; do [ -f "$EX/$f" ] || fail "missing $EX/$f (run make)"; done
if [ ! -d tests/e2e/node_modules/openai ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
fi
t0=$(date +%s)
examples_build_rust || fail "Rust example build failed"
examples_build_as || fail "AssemblyScript example build failed"
echo "example builds: $(( $(date +%s) - t0 )) s"

start_mock
# "engine": "interp": with the default "auto" the gateway would compile every
# plugin in the background, CPU this test does not need on a shared machine;
# the compiled tier has its own tests (test_plugin_tiers, and
# test_plugin_shutdown for stopping during those compiles).
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [
  {"name": "native", "path": "$EX/libnative_example.so", "config": {"greeting": "bonjour"}},
  {"name": "rust", "engine": "interp", "path": "$RUST_WASM", "config": {"greeting": "salut"}},
  {"name": "guard", "engine": "interp", "path": "$EX/c-guard.wasm",
   "config": {"header": "x-team", "model_alias": "fast", "model_target": "up/gpt-rewritten"}},
  {"name": "policy", "engine": "interp", "path": "$EX/c-policy.wasm", "instances": 1,
   "config": {"mock_model": "canned", "limited_model": "up/scarce", "limit": 1, "mark": "checked",
              "drop_word": "from", "upper": true}},
  {"name": "as", "engine": "interp", "path": "$AS_WASM", "config": {"greeting": "bonjour"}}]}
JSON
)
start_gw --config "$CFG"
for n in native-example rust-hello c-guard c-policy as-hello; do
  grep -q "plugin $n loaded" "$GW_LOG" || fail "no load line for $n"
done
grep -q "stderr: c-policy: mock_model=canned" "$GW_LOG" || fail "the WASI plugin's stderr is not in the log"
SLUICE_URL="http://127.0.0.1:$GW_PORT" MOCK_URL="http://127.0.0.1:$MOCK_PORT" \
  node tests/e2e/plugins_client.mjs || fail "node client test"
grep -qi "plugin.*hook failed\|hook error" "$GW_LOG" && fail "a plugin hook failed: $(grep -i 'hook' "$GW_LOG" | head -3)"
stop_gw || fail "gateway exit status $?"

# A plugin from a local http:// URL (served by node), pinned by sha256: the
# guard again, built on wasi-libc this time (the SDK's other mode).
SRV_PORT=$(free_port)
node -e '
  const fs = require("fs"), http = require("http"), path = require("path");
  http.createServer((q, r) => {
    const f = path.join(process.argv[1], path.basename(q.url));
    fs.readFile(f, (e, d) => { if (e) { r.writeHead(404); r.end(); } else { r.writeHead(200); r.end(d); } });
  }).listen(+process.argv[2], "127.0.0.1");' "$EX" "$SRV_PORT" >"$TMP/srv.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$SRV_PORT/c-guard-wasi.wasm" && break; sleep 0.05; done
SUM=$(sha256sum "$EX/c-guard-wasi.wasm" | cut -d' ' -f1)
url_config() { write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "remote", "engine": "interp", "path": "http://127.0.0.1:$SRV_PORT/c-guard-wasi.wasm", "sha256": "$1"}]}
JSON
}
start_gw --config "$(url_config "$SUM")"
req POST /v1/chat/completions '{"model":"up/m","messages":[{"role":"user","content":"hi"}]}'
[ "$STATUS" = 401 ] && contains 'missing header x-team' "$BODY" || fail "URL plugin did not guard: $STATUS $BODY"
req POST /v1/chat/completions '{"model":"up/m","messages":[{"role":"user","content":"hi"}]}' -H 'x-team: blue'
[ "$STATUS" = 200 ] || fail "URL plugin, good request: $STATUS $BODY"
last=$(curl -s "http://127.0.0.1:$MOCK_PORT/mock/last")
contains '"x-team-verified":"blue"' "$last" && contains '"x-plugin-trail":"c-guard"' "$last" ||
  fail "upstream lacks the URL plugin's headers: $last"
stop_gw || fail "gateway exit status $?"
pass "plugin loaded from http://127.0.0.1 with a matching sha256 pin"

BAD=$(printf '%064d' 0)
if "$GW_BIN" --listen "127.0.0.1:$(free_port)" --config "$(url_config "$BAD")" >"$TMP/bad.log" 2>&1; then
  fail "started with a wrong sha256 pin"
fi
grep -qi "sha256" "$TMP/bad.log" || fail "no sha256 error: $(cat "$TMP/bad.log")"
pass "a wrong sha256 pin refuses start-up: $(grep -i sha256 "$TMP/bad.log" | tail -n1)"
