#!/usr/bin/env bash
# A plugin whose start function loops forever (tests/plugin/hostile/start_loop.wat):
# the start function runs inside instantiation, before init and any hook, and
# the plugin's timeout_ms bounds it like a hook. The gateway must refuse to
# start with a deadline error within a few seconds, on both engine tiers that
# can run here, instead of hanging at start-up.
. "$(dirname "$0")/../gateway/lib.sh"
command -v wat2wasm >/dev/null || { echo "skip: needs wat2wasm (wabt)"; exit 77; }
wat2wasm tests/plugin/hostile/start_loop.wat -o "$TMP/loop.wasm" || fail "wat2wasm"
engines="interp"
command -v wasm2c >/dev/null && command -v cc >/dev/null && engines="interp aot"
export XDG_CACHE_HOME="$TMP/cache"
for e in $engines; do
  CFG=$(write_config <<JSON
{"plugins": [{"name": "loop", "path": "$TMP/loop.wasm", "engine": "$e", "timeout_ms": 200}]}
JSON
)
  t0=$(date +%s)
  timeout 60 "$GW_BIN" --listen 127.0.0.1:$(free_port) --config "$CFG" >"$TMP/$e.log" 2>&1
  rc=$?
  dt=$(( $(date +%s) - t0 ))
  [ "$rc" != 124 ] || fail "$e: start-up hung on a looping start function: $(tail -n3 "$TMP/$e.log")"
  [ "$rc" != 0 ] || fail "$e: started with a plugin whose start function never returns"
  grep -qi "deadline\|timeout\|timed out" "$TMP/$e.log" || fail "$e: no deadline error: $(cat "$TMP/$e.log")"
  pass "$e: refused at start-up in ${dt}s: $(grep -i -m1 'deadline\|timeout\|timed out' "$TMP/$e.log")"
done
