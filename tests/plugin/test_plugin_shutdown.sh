#!/usr/bin/env bash
# Stopping the gateway while plugins still compile in the background (engine
# "auto", a cold cache): SIGTERM right after start-up must end the gateway
# within 2 s with status 0. The background compiles are cancelled (their
# wasm2c/cc processes killed, process group and all), not waited for, and
# they leave nothing behind: no compiler process, no temporary directory in
# the cache, no cache entry. A later start on the same cache still serves.
. "$(dirname "$0")/../gateway/lib.sh"
EX=$(pwd)/$BUILD/examples/plugins
for f in c-test c-family c-free2 c-policy; do [ -f "$EX/$f.wasm" ] || fail "missing $EX/$f.wasm (run make)"; done
command -v wasm2c >/dev/null && command -v cc >/dev/null || { echo "skip: needs wasm2c and cc"; exit 77; }
unset SLUICE_AOT_CACHE
export XDG_CACHE_HOME=$TMP/xdg   # cold: nothing compiled yet
CACHE=$XDG_CACHE_HOME/sluice/aot
CFG=$(write_config <<JSON
{"plugins": [{"name": "a", "path": "$EX/c-test.wasm"}, {"name": "b", "path": "$EX/c-family.wasm"},
             {"name": "c", "path": "$EX/c-free2.wasm"}, {"name": "d", "path": "$EX/c-policy.wasm"}]}
JSON
)

descendants() { # PID -> every process below it, one pid a line
  local c
  for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done
}

start_gw --config "$CFG"
# The compiles are under way (the tool-version probes come first: wait for
# a compile step, at most 5 s).
for _ in $(seq 100); do
  [ -n "$(ls -d "$CACHE"/tmp.* 2>/dev/null)" ] && [ -n "$(pgrep -P "$GW_PID")" ] && break
  sleep 0.05
done
[ -n "$(pgrep -P "$GW_PID")" ] || fail "no background compile running: $(cat "$GW_LOG")"
kids=$(descendants "$GW_PID" | tr '\n' ' ')
t0=$(date +%s%N)
stop_gw; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 0 ] || fail "gateway exit status $rc"
[ "$ms" -lt 2000 ] || fail "shutdown took $ms ms with compiles running"
pass "SIGTERM during 4 background compiles: exit 0 in $ms ms"

alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
for p in $kids; do
  # A cc killed by the cancel is reaped by the gateway; its children were
  # killed with it (same process group). SIGKILL is asynchronous, and a busy
  # machine may take a moment to end them: 1 s of grace (a compile that was
  # not killed runs for seconds).
  for _ in $(seq 20); do alive "$p" || break; sleep 0.05; done
  alive "$p" && fail "compiler process $p ($(ps -o comm= -p "$p")) outlived the gateway"
done
# tools-* (the remembered compiler versions) is written before any compile.
left=$(ls -A "$CACHE" 2>/dev/null | grep -v '^tools-')
[ -z "$left" ] || fail "the cancelled compiles left files in the cache: $left"
pass "no compiler process survives ($(echo $kids | wc -w) were running); no object, no temporary directory in the cache"

start_mock
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [{"name": "a", "path": "$EX/c-test.wasm"}]}
JSON
)
start_gw --config "$CFG"
req POST /v1/chat/completions '{"model":"up/m","messages":[{"role":"user","content":"hello"}]}'
[ "$STATUS" = 200 ] || fail "after the cancelled start: $STATUS $BODY"
stop_gw || fail "second gateway exit status $?"
pass "a later start on the same cache serves"
