#!/usr/bin/env bash
# A WASM plugin cannot reach outside its linear memory: the C test plugin loads from
# and stores to addresses past the end of its memory (trigger-oob-read/-oob-write) and
# hands the host pointers outside it (trigger-badptr/-oversize). Each is a trap or a
# refused result: the request gets the configured error (on_error "fail": an OpenAI
# 500 naming the plugin; default fail-open: the request goes on), the failure is logged,
# the instance is replaced, and the next request through the plugin works.
. "$(dirname "$0")/../gateway/lib.sh"
PLUGIN=$(pwd)/$BUILD/examples/plugins/c-test.wasm
[ -f "$PLUGIN" ] || fail "missing $PLUGIN (run make)"
MSG='{"model":"mock/m","messages":[{"role":"user","content":"hello"}]}'
for mode in fail open; do
  extra=; [ $mode = fail ] && extra=', "on_error": "fail"'
  CFG=$(write_config <<JSON
{"providers": {"mock": {"keys": []}},
 "plugins": [{"name": "sandboxed", "path": "$PLUGIN", "timeout_ms": 200 $extra}]}
JSON
)
  start_gw --config "$CFG"
  for t in oob-read oob-write badptr oversize; do
    req POST /v1/chat/completions "$MSG" -H "x-trigger: trigger-$t"
    if [ $mode = fail ]; then
      expect_error 500 "" "plugin"
    else
      [ "$STATUS" = 200 ] || fail "fail-open plugin ($t): $STATUS $BODY"
    fi
    req POST /v1/chat/completions "$MSG"
    [ "$STATUS" = 200 ] && contains 'x-c-post: 1' "$(tr 'A-Z' 'a-z' <<<"$HEADERS")" ||
      fail "after trigger-$t ($mode): $STATUS $BODY $HEADERS"
  done
  grep -q 'hook failed, instance replaced: http_pre_hook: out of bounds memory access' "$GW_LOG" ||
    fail "oob access not logged as a trap ($mode)"
  grep -q 'output pointer [0-9+]* is outside linear memory' "$GW_LOG" || fail "bad pointer not refused ($mode)"
  grep -q 'larger than the memory cap' "$GW_LOG" || fail "oversize output not refused ($mode)"
  req GET /health
  [ "$STATUS" = 200 ] || fail "gateway not serving"
  stop_gw || fail "gateway exit status $?"
  pass "on_error=$mode: out-of-bounds reads/writes trap, bad pointers refused, next request fine"
done
