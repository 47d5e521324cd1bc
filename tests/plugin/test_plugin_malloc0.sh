#!/usr/bin/env bash
# A plugin whose malloc returns 0 (NULL) for a non-empty buffer: the host
# refuses it instead of copying the input to address 0 over the plugin's own
# data (tests/plugin/hostile/malloc0.wat).
#  - during init (the config buffer): the plugin does not load, the gateway
#    refuses to start and names the allocator;
#  - during a hook: the hook fails (on_error "fail": a 500) and the instance
#    is replaced; the next request fails the same way, the gateway lives on.
. "$(dirname "$0")/../gateway/lib.sh"
command -v wat2wasm >/dev/null || { echo "skip: needs wat2wasm (wabt)"; exit 77; }
for g in 0 1; do
  sed "s/@GOOD@/$g/" tests/plugin/hostile/malloc0.wat >"$TMP/m$g.wat"
  wat2wasm "$TMP/m$g.wat" -o "$TMP/m$g.wasm" || fail "wat2wasm m$g"
done

CFG=$(write_config <<JSON
{"plugins": [{"name": "m0", "path": "$TMP/m0.wasm", "engine": "interp"}]}
JSON
)
# A gateway that accepted the plugin would run until the timeout (124).
timeout 10 "$GW_BIN" --listen 127.0.0.1:$(free_port) --config "$CFG" >"$TMP/m0.log" 2>&1
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "started (status $rc) with a plugin whose malloc returned 0 for init's config"
grep -q "malloc returned 0" "$TMP/m0.log" || fail "no clear error: $(cat "$TMP/m0.log")"
pass "malloc 0 in init: refused at start-up: $(grep -o 'malloc returned 0.*' "$TMP/m0.log" | head -n1)"

start_mock
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "m1", "path": "$TMP/m1.wasm", "engine": "interp", "on_error": "fail"}]}
JSON
)
start_gw --config "$CFG"
for i in 1 2; do
  req POST /v1/chat/completions '{"model":"up/m","messages":[{"role":"user","content":"hello"}]}'
  [ "$STATUS" = 500 ] || fail "request $i: the hook ran on a NULL buffer: $STATUS $BODY"
done
n=$(grep -c "malloc returned 0" "$GW_LOG")
[ "$n" -ge 2 ] || fail "hook error not logged twice: $(cat "$GW_LOG")"
stop_gw || fail "gateway exit status $?"
pass "malloc 0 in a hook: the hook's error (500 with on_error fail), $n times logged, instance replaced"
