#!/usr/bin/env bash
# Plugins end to end through build/sluice: the C example plugin in the
# config adds a header the upstream (sluice-mockllm) receives, answers
# requests itself (http_pre_hook and pre_hook short-circuits), tags stream
# chunks, and when it misbehaves (trap, endless loop) only that request's
# hook fails (logged, fail-open) while the gateway keeps serving.
. "$(dirname "$0")/../gateway/lib.sh"
PLUGIN=$(pwd)/$BUILD/examples/plugins/c-test.wasm
[ -f "$PLUGIN" ] || fail "missing $PLUGIN (run make)"
start_mock
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "ctest", "path": "$PLUGIN", "enabled": true, "config": {"k": "v"}, "timeout_ms": 50}]}
JSON
)
start_gw --config "$CFG"
grep -q "plugin c-test loaded" "$GW_LOG" || fail "no load line in the log"
MSG='{"model":"up/m","messages":[{"role":"user","content":"hello"}]}'

req POST /v1/chat/completions "$MSG"
[ "$STATUS" = 200 ] || fail "plain request: $STATUS $BODY"
last=$(curl -s "http://127.0.0.1:$MOCK_PORT/mock/last")
contains '"x-c-plugin":"c-test"' "$last" || fail "upstream did not get the plugin's header: $last"
contains 'x-c-post: 1' "$(tr 'A-Z' 'a-z' <<<"$HEADERS")" || fail "http_post_hook header missing: $HEADERS"
pass "header added by http_pre_hook reached the upstream; http_post_hook header on the response"

req POST /v1/chat/completions "$MSG" -H 'x-trigger: trigger-short'
[ "$STATUS" = 418 ] && [ "$BODY" = "short-circuited" ] || fail "http_pre short-circuit: $STATUS $BODY"
contains 'x-short: 1' "$(tr 'A-Z' 'a-z' <<<"$HEADERS")" || fail "short-circuit header missing: $HEADERS"
pass "http_pre_hook short-circuit answered 418 without the upstream"

req POST /v1/chat/completions '{"model":"up/m","messages":[{"role":"user","content":"trigger-chat-short"}]}'
[ "$STATUS" = 200 ] && contains '"id":"c-short"' "$BODY" || fail "pre_hook short-circuit: $STATUS $BODY"
pass "pre_hook short-circuit answered with the plugin's chat response"

req POST /v1/chat/completions '{"model":"up/m","messages":[{"role":"user","content":"trigger-chat-error"}]}'
[ "$STATUS" = 403 ] && contains 'blocked by c-test' "$BODY" || fail "pre_hook error short-circuit: $STATUS $BODY"
pass "pre_hook error short-circuit answered 403"

out=$(curl -sN "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
      -d '{"model":"up/m","stream":true,"messages":[{"role":"user","content":"hi"}]}')
n=$(grep -c '^data: {.*"c_plugin":"yes"' <<<"$out" || true)
total=$(grep -c '^data: {' <<<"$out" || true)
[ "$total" -gt 0 ] && [ "$n" = "$total" ] || fail "stream chunks not all tagged ($n of $total): $out"
grep -q '^data: \[DONE\]' <<<"$out" || fail "stream incomplete"
pass "http_stream_chunk_hook modified all $total chunks"

for t in trap loop; do
  start=$(date +%s%N)
  req POST /v1/chat/completions "$MSG" -H "x-trigger: trigger-$t"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$STATUS" = 200 ] || fail "misbehaving plugin ($t) broke the request: $STATUS $BODY"
  [ "$ms" -lt 2000 ] || fail "trigger-$t took $ms ms"
  echo "trigger-$t request: $ms ms"
done
grep -q "plugin c-test: hook failed, instance replaced: http_pre_hook: unreachable" "$GW_LOG" ||
  grep -q "plugin c-test: hook failed, instance replaced:.*unreachable" "$GW_LOG" || fail "trap not logged"
grep -q "plugin c-test: hook failed, instance replaced:.*deadline of 50 ms" "$GW_LOG" || fail "deadline not logged"
req POST /v1/chat/completions "$MSG"
[ "$STATUS" = 200 ] || fail "after misbehaviour: $STATUS"
last=$(curl -s "http://127.0.0.1:$MOCK_PORT/mock/last")
contains '"x-c-plugin":"c-test"' "$last" || fail "plugin not working after replacement: $last"
pass "trap and endless loop cost only their own hook (fail-open, logged); fresh instance works"
stop_gw || fail "gateway exit status $?"

# on_error: fail turns the plugin's failure into a 500; a bad plugin refuses to start.
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "strict", "path": "$PLUGIN", "on_error": "fail"}]}
JSON
)
start_gw --config "$CFG"
req POST /v1/chat/completions "$MSG" -H 'x-trigger: trigger-trap'
[ "$STATUS" = 500 ] && contains "plugin" "$BODY" || fail "on_error=fail: $STATUS $BODY"
req POST /v1/chat/completions "$MSG"
[ "$STATUS" = 200 ] || fail "on_error=fail plugin, good request: $STATUS $BODY"
pass "on_error=fail: a failing hook answers 500, the next request is fine"
stop_gw || fail "gateway exit status $?"

CFG=$(write_config <<JSON
{"plugins": [{"name": "bad", "path": "$PLUGIN", "config": {"fail_init": true}}]}
JSON
)
if "$GW_BIN" --listen 127.0.0.1:$(free_port) --config "$CFG" >"$TMP/bad.log" 2>&1; then fail "started with a failing plugin"; fi
grep -q "init returned 7" "$TMP/bad.log" || fail "no clear init error: $(cat "$TMP/bad.log")"
pass "a plugin whose init fails refuses start-up: $(tail -n1 "$TMP/bad.log")"

# A native .so plugin ahead of the WASM one: both headers reach the upstream.
NATIVE=$(pwd)/$BUILD/examples/plugins/libnative_example.so
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "native", "path": "$NATIVE", "config": {"greeting": "bonjour"}},
             {"name": "ctest", "path": "$PLUGIN"}]}
JSON
)
start_gw --config "$CFG"
req POST /v1/chat/completions "$MSG"
[ "$STATUS" = 200 ] || fail "native + wasm: $STATUS $BODY"
last=$(curl -s "http://127.0.0.1:$MOCK_PORT/mock/last")
contains '"x-native-plugin":"bonjour"' "$last" && contains '"x-c-plugin":"c-test"' "$last" ||
  fail "upstream lacks the plugins' headers: $last"
pass "native plugin (dlopen'd by the gateway) and WASM plugin in one chain"
stop_gw || fail "gateway exit status $?"
