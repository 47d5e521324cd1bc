#!/usr/bin/env bash
# The cost of request logging at load: the same 2 KB chat request (the gateway
# suite's) through five Sluice processes in front of one sluice-mockllm,
# differing only in logging:
#   none     client.enable_logging false
#   control  the same as none: a second such process, whose ratio to none is
#            what the method reads when there is no difference at all
#   lines    a JSON log line per request, to a file
#   store    the SQLite request log store alone (client.log_request_lines false)
#   both     the log line plus the store
# wrk -c64 drives each in turn for a short slice (1 s); the rounds interleave
# the modes (in a new order each round) so that
# the load other processes put on a shared machine spreads over all of them.
# Reported per mode: the median throughput and the median CPU time of the
# Sluice process per request (schedstat from /proc, all its threads, the
# store's writer included), their ratio to `none`, and the median over the
# rounds of each round's own ratio to `none` (paired: a round's modes ran
# seconds apart, so a slow minute of a shared machine cancels out) with a 95%
# confidence interval for that median (order statistics: no assumption about
# the noise's shape). One slice's ratio moves by +-10% on a 2-core VM, so the
# bench takes many short rounds rather than a few long ones: the interval
# narrows with the square root of their number.
#
# Usage: bench/obs/run.sh BUILD     BENCH_QUICK=1: the short form (< 20 s)
# Environment: OBS_BENCH_SLUICE=path  another sluice binary (A/B of a change)
#              OBS_BENCH_DUR / OBS_BENCH_ROUNDS / OBS_BENCH_CONNS  override
# Writes bench/results/obs.md (quick: obs-quick.md) and prints it.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
QUICK=0; [ -n "${BENCH_QUICK:-}" ] && QUICK=1
DUR=${OBS_BENCH_DUR:-1}
ROUNDS=${OBS_BENCH_ROUNDS:-$([ $QUICK = 1 ] && echo 3 || echo 41)}
# The open-loop run (CPU per request at a fixed rate, writes per request)
# follows the closed-loop slice in the first FIXED_ROUNDS rounds only.
FIXED_ROUNDS=${OBS_BENCH_FIXED_ROUNDS:-$([ $QUICK = 1 ] && echo 1 || echo 5)}
CONNS=${OBS_BENCH_CONNS:-64}
SLUICE=${OBS_BENCH_SLUICE:-$BUILD/sluice}
MOCK=$BUILD/sluice-mockllm
LOADGEN=$BUILD/bench/sluice-loadgen
LOGCOST=$BUILD/bench/sluice-obs-log-cost
RATE=${OBS_BENCH_RATE:-2000}
LGDUR=$([ $QUICK = 1 ] && echo 1 || echo 3)
BODY=bench/gateway/chat-2k.json
MD=bench/results/obs$([ $QUICK = 1 ] && echo -quick).md
MODES="none control lines store both"

for b in "$SLUICE" "$MOCK" "$LOADGEN" "$LOGCOST"; do
  [ -x "$b" ] || { echo "bench/obs: $b missing (make all)"; exit 1; }
done
command -v wrk >/dev/null || { echo "bench/obs: wrk missing (scripts/install-deps.sh)"; exit 1; }
ulimit -n 65536 2>/dev/null || true

TMP=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. bench/lib.sh   # free_port, wait_http, cpu_ns, median
# write(2)-family system calls made so far by the process (all its threads): a
# count that other processes' load does not blur.
syscw() { awk '/^syscw:/ {print $2}' "/proc/$1/io"; }

MP=$(free_port)
"$MOCK" --listen "127.0.0.1:$MP" >"$TMP/mock.log" 2>&1 &
pids+=($!)
wait_http "$MP" || { echo "bench/obs: the mock did not start: $(tail -n1 "$TMP/mock.log")"; exit 1; }

declare -A PORT PID
for m in $MODES; do
  case $m in
  none|control) client='"enable_logging": false' store='' ;;
  lines) client="\"enable_logging\": true, \"log_file\": \"$TMP/$m.log\"" store='' ;;
  store|both)
         client="\"enable_logging\": true, \"log_file\": \"$TMP/$m.log\", \"log_request_lines\": $([ $m = both ] && echo true || echo false)"
         store=", \"logs_store\": {\"enabled\": true, \"type\": \"sqlite\", \"config\": {\"path\": \"$TMP/$m.db\"}}" ;;
  esac
  cat >"$TMP/$m.json" <<JSON
{"providers": {"openai": {"keys": [{"value": "sk-bench", "models": ["*"], "weight": 1.0}],
  "network_config": {"base_url": "http://127.0.0.1:$MP"}}},
 "client": {$client}$store}
JSON
  PORT[$m]=$(free_port)
  "$SLUICE" --config "$TMP/$m.json" --listen "127.0.0.1:${PORT[$m]}" >"$TMP/$m.out" 2>&1 &
  PID[$m]=$!
  pids+=(${PID[$m]})
  wait_http "${PORT[$m]}" || { echo "bench/obs: sluice ($m) did not start: $(tail -n1 "$TMP/$m.out")"; exit 1; }
done

# One run: "rps cpu_us requests writes/request" appended to $TMP/MODE.runs.
run() {
  local m=$1 t0 t1 w0 w1 line
  w0=$(syscw "${PID[$m]}")
  t0=$(cpu_ns "${PID[$m]}")
  line=$(BENCH_MODEL=openai/gpt-4o-mini BENCH_BODY=$BODY timeout $((DUR + 15)) \
         wrk -t2 -c"$CONNS" -d"${DUR}s" --timeout 5s -s bench/gateway/post.lua \
         "http://127.0.0.1:${PORT[$m]}/v1/chat/completions" 2>&1 | grep -m1 '^RESULT')
  t1=$(cpu_ns "${PID[$m]}")
  w1=$(syscw "${PID[$m]}")
  local rps req err
  rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line")
  req=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
  err=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
  [ -n "$req" ] && [ "$req" -gt 0 ] || { echo "bench/obs: no result for $m" >&2; return 1; }
  [ "${err:-0}" = 0 ] || echo "bench/obs: $m: $err errors" >&2
  awk -v r="$rps" -v d=$((t1 - t0)) -v n="$req" -v w=$((w1 - w0)) \
      'BEGIN{printf "%s %.2f %s %.3f\n", r, d / 1000 / n, n, w / n}' >>"$TMP/$m.runs"
}

# One open-loop run at $RATE req/s: "cpu_us writes/request" appended to
# $TMP/MODE.fixed. At a fixed rate every mode does the same work per wake-up,
# so CPU per request compares the logging itself, not how busy the loop was.
fixed() {
  local m=$1 t0 t1 w0 w1 line n
  w0=$(syscw "${PID[$m]}"); t0=$(cpu_ns "${PID[$m]}")
  line=$(timeout $((LGDUR + 20)) "$LOADGEN" --url "http://127.0.0.1:${PORT[$m]}/v1/chat/completions" --body "$BODY" \
         --model openai/gpt-4o-mini --rate "$RATE" --connections "$CONNS" --duration "$LGDUR" 2>&1 | grep -m1 '^RESULT')
  t1=$(cpu_ns "${PID[$m]}"); w1=$(syscw "${PID[$m]}")
  n=$(sed -n 's/.* completed=\([0-9]*\).*/\1/p' <<<"$line")
  [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "bench/obs: no open-loop result for $m" >&2; return 1; }
  awk -v d=$((t1 - t0)) -v n="$n" -v w=$((w1 - w0)) \
      'BEGIN{printf "%.2f %.3f\n", d / 1000 / n, w / n}' >>"$TMP/$m.fixed"
}

# Short warm-up of each (connections, caches, the store's first pages); the
# quick form goes without.
[ $QUICK = 1 ] || for m in $MODES; do
  BENCH_MODEL=openai/gpt-4o-mini BENCH_BODY=$BODY timeout 10 wrk -t1 -c8 -d1s -s bench/gateway/post.lua \
    "http://127.0.0.1:${PORT[$m]}/v1/chat/completions" >/dev/null 2>&1
done
for r in $(seq "$ROUNDS"); do
  # A new order each round (a shuffle seeded by the round: the same on every
  # run). A fixed rotation would put every mode after the same neighbour
  # nearly always, and a neighbour leaves work behind (the kernel writing
  # back the files the logging modes wrote) that the next slice pays for.
  order=$(echo $MODES | tr ' ' '\n' | awk -v r="$r" '{a[NR]=$0}
    END {srand(r); for (i = NR; i > 1; i--) {j = int(rand() * i) + 1; t = a[i]; a[i] = a[j]; a[j] = t}
         for (i = 1; i <= NR; i++) print a[i]}')
  for m in $order; do
    run "$m" || exit 1
    [ "$r" -gt "$FIXED_ROUNDS" ] || fixed "$m" || exit 1
  done
done

# The in-process cost of obs_request_done() per mode (bench/obs/log_cost.c),
# three times; medians.
for _ in 1 2 3; do "$LOGCOST" "$TMP" $([ $QUICK = 1 ] && echo 30000 || echo 200000); done >"$TMP/logcost.out"

# Round k's ratio is line k of MODE.runs against line k of BASE.runs.
ratios() { # MODE BASE COLUMN -> the per-round ratios, one per line
  paste -d' ' "$TMP/$1.runs" "$TMP/$2.runs" | awk -v c="$3" '{print $c / $(c + 4)}'; }
paired() { ratios "$@" | median; }
# A 95% confidence interval for the median of n values, distribution-free:
# the k-th smallest and k-th largest, with k the largest such that
# P(Binomial(n, 1/2) < k) <= 0.025. Prints "lo hi" (min and max when n < 6).
median_ci() {
  sort -n | awk '{a[NR] = $1}
    END {
      n = NR; k = 0; p = 0.5 ^ n; cum = p
      for (i = 1; i <= n && cum <= 0.025; i++) { k = i; p = p * (n - i + 1) / i; cum += p }
      if (k < 1) k = 1
      printf "%s %s\n", a[k], a[n - k + 1]
    }'; }
declare -A RPS CPU WPR FCPU FW NS PRPS PCPU CI
for m in $MODES; do
  PRPS[$m]=$(paired "$m" none 1)
  CI[$m]=$(ratios "$m" none 1 | median_ci)
  PCPU[$m]=$(paired "$m" none 2)
  NS[$m]=$(sed -n "s/^RESULT mode=$m ns_per_request=\([0-9]*\).*/\1/p" "$TMP/logcost.out" | median)
  FCPU[$m]=$(awk '{print $1}' "$TMP/$m.fixed" | median)
  FW[$m]=$(awk '{print $2}' "$TMP/$m.fixed" | median)
  RPS[$m]=$(awk '{print $1}' "$TMP/$m.runs" | median)
  CPU[$m]=$(awk '{print $2}' "$TMP/$m.runs" | median)
  WPR[$m]=$(awk '{print $4}' "$TMP/$m.runs" | median)
done

# What each logging Sluice answered (its own count), then a clean stop
# (SIGTERM): every line and row must be on disk afterwards.
declare -A SERVED DROPPED
for m in lines store both; do
  curl -s "http://127.0.0.1:${PORT[$m]}/metrics" >"$TMP/$m.metrics"
  SERVED[$m]=$(awk '/^sluice_requests_total\{.*endpoint="chat"/ {s += $2} END {print s + 0}' "$TMP/$m.metrics")
  DROPPED[$m]=$(awk '/^sluice_log_(store_dropped|lines_dropped)_total/ {s += $2} END {print s + 0}' "$TMP/$m.metrics")
  kill -TERM "${PID[$m]}"
  timeout 15 tail --pid="${PID[$m]}" -f /dev/null
done
lines_l=$(grep -c '"type":"request"' "$TMP/lines.log")
lines_s=$(grep -c '"type":"request"' "$TMP/store.log")
lines_b=$(grep -c '"type":"request"' "$TMP/both.log")
rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from requests").fetchone()[0])' \
         "$TMP/$1.db" 2>/dev/null || echo "?"; }
rows_s=$(rows store)
rows_b=$(rows both)

{
  echo "# Cost of request logging ($([ $QUICK = 1 ] && echo quick || echo full))"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "$ROUNDS interleaved rounds, each: every mode in turn (in a new order each round), closed loop (wrk -t2 -c$CONNS, ${DUR} s),"
  echo "in the first $FIXED_ROUNDS rounds followed by open loop (sluice-loadgen, $RATE req/s, $CONNS connections, ${LGDUR} s);"
  echo "medians over the rounds."
  echo "CPU: the Sluice process's CPU time (schedstat of all its threads, the store's writer included) / requests."
  echo "Writes: the syscw count of /proc/PID/io per request, open loop (the responses' own writes included)."
  echo
  echo "Paired: the median over the rounds of the round's own ratio to none."
  echo
  echo "| mode | c=$CONNS req/s | CPU µs/req | vs none: req/s | paired | vs none: CPU | paired | $RATE req/s: CPU µs/req | vs none | writes/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for m in $MODES; do
    awk -v m="$m" -v r="${RPS[$m]}" -v c="${CPU[$m]}" -v r0="${RPS[none]}" -v c0="${CPU[none]}" \
        -v f="${FCPU[$m]}" -v f0="${FCPU[none]}" -v w="${FW[$m]}" -v pr="${PRPS[$m]}" -v pc="${PCPU[$m]}" \
      'BEGIN{printf "| %s | %.0f | %.1f | %.3f | %.3f | %.3f | %.3f | %.1f | %.3f | %.3f |\n", m, r, c, r / r0, pr, c / c0, pc, f, f / f0, w}'
  done
  echo
  echo "Throughput cost against none (1 - the paired ratio), with the 95% confidence interval of"
  echo "the paired median over the $ROUNDS rounds, and the spread of single rounds (min-max ratio):"
  echo
  echo "| mode | cost | 95% interval | one round's ratio, min-max |"
  echo "|---|---|---|---|"
  for m in control lines store both; do
    read -r lo hi <<<"${CI[$m]}"
    ratios "$m" none 1 | sort -n | awk -v m="$m" -v p="${PRPS[$m]}" -v lo="$lo" -v hi="$hi" '{a[NR] = $1}
      END {printf "| %s | %.1f%% | %.1f%% to %.1f%% | %.2f-%.2f |\n", m, (1 - p) * 100, (1 - hi) * 100, (1 - lo) * 100, a[1], a[NR]}'
  done
  echo
  read -r lo hi <<<"${CI[store]}"
  awk -v p="${PRPS[store]}" -v lo="$lo" 'BEGIN {
    c = (1 - p) * 100; u = (1 - lo) * 100
    v = u <= 5 ? "met (the whole interval is within it)" : c <= 5 ? "met by the median, not beyond doubt (the interval reaches past 5%)" : "missed"
    printf "Target (issue 9): logging to SQLite costs at most 5%% of throughput. `store` vs none: %.1f%%, %s.\n", c, v }'
  echo
  echo "In-process CPU of obs_request_done() per request (bench/obs/log_cost.c: the metrics, the line"
  echo "built, buffered and written, the row queued and inserted; all threads; median of 3), and the"
  echo "logging part (mode minus none) as a share of the gateway's CPU per request at $RATE req/s (none):"
  echo
  echo "| mode | ns/request | logging ns/request | share of gateway CPU/request |"
  echo "|---|---|---|---|"
  for m in none lines store both; do
    awk -v m="$m" -v n="${NS[$m]}" -v n0="${NS[none]}" -v g="${FCPU[none]}" \
      'BEGIN{printf "| %s | %.0f | %.0f | %.1f%% |\n", m, n, n - n0, (n - n0) / (g * 1000) * 100}'
  done
  echo
  echo "Runs (c=$CONNS req/s / CPU µs per request; at $RATE req/s CPU µs per request):"
  for m in $MODES; do
    echo "- $m: $(awk '{printf "%s%s/%s", (NR>1?", ":""), $1, $2}' "$TMP/$m.runs"); $(awk '{printf "%s%s", (NR>1?", ":""), $1}' "$TMP/$m.fixed")"
  done
  echo
  echo "Nothing lost at a clean exit (SIGTERM after the runs; counts include the warm-up):"
  echo "- lines: ${SERVED[lines]} chat requests answered, $lines_l log lines, ${DROPPED[lines]} dropped"
  echo "- store: ${SERVED[store]} chat requests answered, $lines_s log lines, $rows_s store rows, ${DROPPED[store]} dropped"
  echo "- both: ${SERVED[both]} chat requests answered, $lines_b log lines, $rows_b store rows, ${DROPPED[both]} dropped"
} >"$MD"
cat "$MD"
