#!/usr/bin/env bash
# Hostile plugins under load (issue 6, "Done when"): nine plugins built from
# tests/plugin/hostile/hostile.wat, each misbehaving only on requests that
# carry its marker (x-hostile: HOSTILE-k): loop forever, trap, grow memory to
# the cap, a pointer outside memory, a 2 GiB length, invalid JSON, endless
# recursion, proc_exit, and a trap after which every init fails. While
# benign load runs (sluice-loadgen, open loop), each hostile request is sent
# twice: every one must be answered (fail-open 200, or 500 for the plugin
# configured with on_error "fail"), the benign requests must not fail, their
# p99 must stay near the baseline measured first, and the gateway's RSS must
# come back to its baseline.
#
# Wall-clock latency on a shared 2-core machine is noisy (load averages of 20
# happen): the p99 bound is 2x the baseline plus HOSTILE_P99_SLACK_MS (250 ms
# by default; 0 on a quiet machine gives the strict "within 2x"). A hang
# would still blow through it. The noise-free check is CPU time: the hostile
# phase may cost the gateway at most 1.5 s of CPU more than the baseline
# phase (18 hostile requests, deadlines of 10 ms; 5 s under ASan). Real numbers are printed
# and recorded in docs/plugins.md.
. "$(dirname "$0")/../gateway/lib.sh"
LOADGEN=$BUILD/bench/sluice-loadgen
[ -x "$LOADGEN" ] || { echo "skip: needs $LOADGEN (make bench builds it; make $LOADGEN)"; exit 77; }
command -v wat2wasm >/dev/null || { echo "skip: needs wat2wasm (wabt)"; exit 77; }
BODY_FILE=bench/gateway/chat-2k.json
# An ASan gateway with nine plugins on a loaded 2-core machine cannot keep
# up with 200 req/s (its baseline alone falls behind): a lower rate there.
# The memory cap, too: the interpreter's memory.grow is a realloc, which ASan
# always copies, and the deadline is only checked between instructions, so
# growing to 32 MB there blocks a worker for ~2 s (plain build: mremap, ms).
case $BUILD in *asan*) RATE=${HOSTILE_RATE:-40}; CAP_MB=8 ;; *) RATE=${HOSTILE_RATE:-200}; CAP_MB=32 ;; esac
DUR=${HOSTILE_SECONDS:-4}
ENGINE=${HOSTILE_ENGINE:-interp}

entries=""
# h9's init succeeds until this realtime deadline: long enough for start-up
# (compiles with engine aot) and the warm-up that makes an instance on each
# worker; the test waits for it to pass before the hostile phase.
margin=4; [ "$ENGINE" = interp ] || margin=40
deadline_s=$(( $(date +%s) + margin ))
for k in 1 2 3 4 5 6 7 8 9; do
  sed "s/@MINE@/$((48 + k))/" tests/plugin/hostile/hostile.wat >"$TMP/h$k.wat"
  wat2wasm "$TMP/h$k.wat" -o "$TMP/h$k.wasm" || fail "wat2wasm h$k"
  extra=""; [ "$k" = 2 ] && extra=', "on_error": "fail"'
  [ "$k" = 9 ] && extra=", \"config\": {\"deadline_ns\": ${deadline_s}000000000}"
  entries="$entries${entries:+,}{\"name\": \"h$k\", \"path\": \"$TMP/h$k.wasm\", \"engine\": \"$ENGINE\", \"timeout_ms\": 10, \"max_memory_mb\": $CAP_MB$extra}"
done
start_mock
CFG=$(write_config <<JSON
{"providers": {"up": {"keys": [], "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}},
 "plugins": [$entries]}
JSON
)
WAIT_TRIES=$((margin * 20))   # engine aot compiles at start-up
start_gw --config "$CFG"
URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"
load() { "$LOADGEN" --url "$URL" --body "$BODY_FILE" --model up/m --rate "$RATE" --connections 16 --duration "$1" --timeout-ms 30000; }
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$GW_PID/status"; }
cpu_ms() { cat /proc/"$GW_PID"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s / 1e6}'; }

load 1 >/dev/null   # both workers make their instances
rss0=$(rss_kb)
c0=$(cpu_ms)
base=$(load "$DUR")
c1=$(cpu_ms)
[ "$(field errors "$base")" = 0 ] || fail "baseline had errors: $base"
p99_base=$(field p99 "$base")
echo "baseline: $base"

while [ "$(date +%s)" -le "$deadline_s" ]; do sleep 0.2; done
load "$DUR" >"$TMP/hostile-load.out" &
lpid=$!
sleep 0.3
bad=0
for round in 1 2; do
  for k in 1 2 3 4 5 6 7 8 9; do
    rm -f "$TMP/h.out"
    s=$(curl -s -o "$TMP/h.out" -w '%{http_code}' -m 20 -H 'content-type: application/json' -H "x-hostile: HOSTILE-$k" \
          --data-binary '{"model":"up/m","messages":[{"role":"user","content":"hi"}]}' "$URL")
    want=200; [ "$k" = 2 ] && want=500
    [ "$s" = "$want" ] || { echo "HOSTILE-$k round $round: HTTP $s (want $want): $(head -c 200 "$TMP/h.out")"; bad=1; }
    sleep 0.1
  done
done
wait "$lpid"
c2=$(cpu_ms)
hostile=$(cat "$TMP/hostile-load.out")
echo "during hostile requests: $hostile"
[ "$bad" = 0 ] || fail "a hostile request was not answered as configured"
pass "18 hostile requests answered (fail-open 200; on_error=fail plugin: 500)"
[ "$(field errors "$hostile")" = 0 ] || fail "benign requests failed during the hostile phase: $hostile"
p99_host=$(field p99 "$hostile")
limit=$(awk -v b="$p99_base" -v s="${HOSTILE_P99_SLACK_MS:-1000}" 'BEGIN {printf "%.0f", 2 * b + s * 1000}')
awk -v h="$p99_host" -v l="$limit" 'BEGIN {exit !(h <= l)}' ||
  fail "benign p99 $p99_host us > bound $limit us (baseline $p99_base us)"
pass "benign load: no errors; p99 ${p99_base} us baseline, ${p99_host} us with hostile plugins (bound $limit us)"
extra=$(( (c2 - c1) - (c1 - c0) ))
echo "gateway CPU: baseline phase $((c1 - c0)) ms, hostile phase $((c2 - c1)) ms (extra $extra ms), load: $(cut -d' ' -f1-3 /proc/loadavg)"
cpu_bound=1500; case $BUILD in *asan*) cpu_bound=5000 ;; esac   # ASan: realloc copies, memsets shadow
[ "$extra" -le "$cpu_bound" ] || fail "the hostile phase cost $extra ms more CPU than the baseline (bound $cpu_bound)"
pass "hostile phase CPU: +$extra ms over the baseline phase"

for pat in "h1: hook failed.*deadline of 10 ms" "h2: hook failed.*unreachable" "h4: hook failed.*outside linear memory" \
           "h5: hook failed.*larger than the memory cap" "h6: hook failed.*invalid JSON" "h7: hook failed.*stack exhausted" \
           "h8: hook failed.*proc_exit(3)" "h9: hook failed.*init returned 1"; do
  grep -q "plugin $pat" "$GW_LOG" || fail "not logged: $pat"
done
recycled=$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | grep -F 'sluice_plugin_instance_recycles_total{plugin="h3"}' | awk '{print $2}')
[ "${recycled:-0}" -ge 1 ] || fail "the memory hog was never recycled"
pass "every misbehaviour logged with its cause; the memory hog recycled ($recycled)"

load 1 >/dev/null   # benign traffic again: fresh instances replace what was thrown away
sleep 0.3
rss1=$(rss_kb)
tol=$((12 * 1024))
echo "RSS: ${rss0} kB before, ${rss1} kB after (tolerance +${tol} kB)"
case $BUILD in
  *asan*) pass "RSS not checked under ASan (its quarantine keeps freed memory by design): $rss0 kB -> $rss1 kB" ;;
  *) [ "$rss1" -le $((rss0 + tol)) ] || fail "RSS grew from $rss0 kB to $rss1 kB"
     pass "RSS back to baseline: $rss0 kB -> $rss1 kB" ;;
esac
stop_gw || fail "gateway exit status $?"
