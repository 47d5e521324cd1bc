#!/usr/bin/env bash
# Writes the markdown report and the PNG chart of the gateway benchmark from the
# tab-separated results of target.sh ("target scenario key value").
# Usage: report.sh RESULTS.tsv OUT.md OUT.png DURATION QUICK NETNS "TARGETS"
set -u
RES=$1 MD=$2 PNG=$3 DUR=$4 QUICK=$5 NETNS=$6 TARGETS=$7

# v TARGET SCENARIO KEY: the value, or nothing (the first one recorded).
declare -A VAL
while IFS=$'\t' read -r t s k val; do
  [ -n "${VAL[$t/$s/$k]+x}" ] || VAL[$t/$s/$k]=$val
done <"$RES"
v() { printf '%s' "${VAL[$1/$2/$3]-}"; }

# why TARGET SCENARIO: the reason a cell has no number ("" when it has one).
why() {
  local r
  r=$(v "$1" "$2" failed); [ -n "$r" ] && { echo "$r"; return; }
  # The target's run was cut short: scenarios that had finished keep their numbers.
  if [ -z "$(v "$1" "$2" rss_kb)$(v "$1" "$2" completed)$(v "$1" "$2" requests)" ]; then
    r=$(v "$1" all failed); [ -n "$r" ] && { echo "$r"; return; }
  fi
  if [ -n "$(v "$1" "$2" completed)" ] && [ "$(v "$1" "$2" completed)" = 0 ]; then
    echo "every request failed ($(v "$1" "$2" errors) errors, first: $(v "$1" "$2" first_error))"
    return
  fi
  if [ -n "$(v "$1" "$2" requests)" ] && [ "$(v "$1" "$2" requests)" = 0 ]; then
    echo "no request completed"; return
  fi
  return 0
}

# ratio A B: "A/B" as ×N.NN, or "–" when either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "–"; else printf "×%.2f", a / b }'; }
# added A B: A minus B as +N, or "–" when either is missing.
added() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "") print "–"; else printf "%+.0f", a - b }'; }
num() { [ -n "$1" ] && printf "%'.0f" "$1" 2>/dev/null || echo "–"; }
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}' || echo "–"; }

# Portkey's streaming rows run with our preload work-around: marked, never hidden.
label() { if [ "$1" = portkey ]; then echo "portkey¹"; else echo "$1"; fi; }
footnote() {
  has portkey || return 0
  local st; st=$(v portkey stock_stream http_status)
  echo "¹ With bench/gateway/portkey/fetch-headers-fix.mjs preloaded (\`node --import\`): stock"
  echo "@portkey-ai/gateway cannot stream on Node $(node --version 2>/dev/null) (its issues #1389 and #1550)."
  if [ -n "$st" ]; then
    echo "In this run, stock Portkey answered a streaming request with HTTP $st \`$(v portkey stock_stream body | tr '|`' '/ ')\`$([ -n "$(v portkey stock_stream log)" ] && echo " and logged \`TypeError: immutable\`")."
  fi
  echo "The non-streaming rows use stock Portkey."
  echo
}
has() { [[ " $TARGETS " == *" $1 "* ]]; }
# ok TARGET SCENARIO: true when the scenario produced numbers for this target.
ok() { [ -z "$(why "$1" "$2")" ]; }
# ref TARGET SCENARIO KEY: a reference value for ratios, only when that run worked.
ref() { ok "$1" "$2" && v "$1" "$2" "$3"; }

failrow() { # failrow TARGET SCENARIO NCOLS
  local cells="" i
  for ((i = 2; i < $3; i++)); do cells+=" |"; done
  echo "| $1 | failed: $(why "$1" "$2" | tr '|' '/')$cells"
}

# stream_table SCENARIO TITLE: the streaming rows of one scenario.
stream_table() {
  local s=$1
  echo "### $2, ~124 SSE events per response (the echo of the request, one word per event)"
  echo
  echo "| target | streams/s | time to first event p50 µs | p99 µs | whole stream p50 µs | events/s | errors | target CPU µs/stream | TTFE p50 added µs | TTFE p50 vs direct | events/s vs direct | events/s vs portkey |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  local dt de pe tt ev t
  dt=$(ref direct $s ttfc_p50); de=$(ref direct $s events_per_s); pe=$(ref portkey $s events_per_s)
  for t in $TARGETS; do
    if ! ok "$t" $s; then failrow "$t" $s 12; continue; fi
    tt=$(v "$t" $s ttfc_p50); ev=$(v "$t" $s events_per_s)
    echo "| $(label "$t") | $(num "$(v "$t" $s rate)") | $(num "$tt") | $(num "$(v "$t" $s ttfc_p99)") | $(num "$(v "$t" $s p50)") | $(num "$ev") | $(v "$t" $s errors) | $(v "$t" $s cpu_us) | $(added "$tt" "$dt") | $(ratio "$tt" "$dt") | $(ratio "$ev" "$de") | $(ratio "$ev" "$pe") |"
  done
  echo
}

closed_table() { # closed_table SCENARIO TITLE
  local s=$1 dp dq pp pq pr
  echo "### $2"
  echo
  echo "| target | req/s | p50 µs | p99 µs | p99.9 µs | errors | target CPU µs/req | added p50 µs | p99 vs direct | req/s vs portkey | p99 vs portkey |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  dp=$(ref direct "$s" p50); dq=$(ref direct "$s" p99)
  pr=$(ref portkey "$s" rps); pq=$(ref portkey "$s" p99)
  for t in $TARGETS; do
    if ! ok "$t" "$s"; then failrow "$t" "$s" 11; continue; fi
    local p50 p99 rps add
    p50=$(v "$t" "$s" p50); p99=$(v "$t" "$s" p99); rps=$(v "$t" "$s" rps)
    add=$(added "$p50" "$dp")
    echo "| $t | $(num "$rps") | $(num "$p50") | $(num "$p99") | $(num "$(v "$t" "$s" p999)") | $(v "$t" "$s" errors) | $(v "$t" "$s" cpu_us) | $add | $(ratio "$p99" "$dq") | $(ratio "$rps" "$pr") | $(ratio "$p99" "$pq") |"
  done
  echo
}

{
  echo "# Gateway benchmark: direct vs Sluice vs nginx vs Portkey"
  echo
  echo "Generated by \`make bench$([ "$QUICK" = 1 ] && echo -quick)\` (bench/gateway/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC');"
  echo "method and caveats: docs/benchmarks.md. Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)),"
  echo "$(uname -sr), shared by the load generator, the mock upstream and the target (and other users)."
  echo "Every target in front of the same \`sluice-mockllm --workers 1\`, the same 2 KB chat request,"
  echo "${DUR} s per timed run, 127.0.0.1 only$([ "$NETNS" = 1 ] && echo ", each target in its own network namespace (loopback only)")."
  echo "Versions: sluice $(git rev-parse --short HEAD 2>/dev/null), nginx $(nginx -v 2>&1 | sed 's|.*/||' || echo "-"),"
  echo "@portkey-ai/gateway $(sed -n 's/.*"version": "\(.*\)".*/\1/p' bench/gateway/portkey/node_modules/@portkey-ai/gateway/package.json 2>/dev/null | head -n1) on node $(node --version 2>/dev/null), wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}')."
  echo "\"added p50\" = the target's p50 minus direct's p50 in the same run; \"target CPU\" = user+system"
  echo "time of the target's processes over the run / requests answered (for direct: the mock's own)."
  echo
  closed_table c1 "Non-streaming, 1 connection (wrk, closed loop)"
  closed_table c64 "Non-streaming, 64 connections (wrk, closed loop)"

  s=rate5000
  echo "### Fixed rate: 5,000 requests/s, open loop (sluice-loadgen, 128 connections, latency from the scheduled send time)"
  echo
  echo "| target | achieved req/s | p50 µs | p99 µs | p99.9 µs | max µs | errors | not sent (backlog) | target CPU µs/req | p99 vs direct | p99 vs portkey |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  dq=$(ref direct $s p99); pq=$(ref portkey $s p99)
  for t in $TARGETS; do
    if ! ok "$t" $s; then failrow "$t" $s 11; continue; fi
    p99=$(v "$t" $s p99)
    echo "| $t | $(num "$(v "$t" $s rate)") | $(num "$(v "$t" $s p50)") | $(num "$p99") | $(num "$(v "$t" $s p999)") | $(num "$(v "$t" $s max)") | $(v "$t" $s errors) | $(v "$t" $s backlog) | $(v "$t" $s cpu_us) | $(ratio "$p99" "$dq") | $(ratio "$p99" "$pq") |"
  done
  echo

  stream_table stream1 "Streaming: 1 connection, closed loop (the added time to first event without queueing)"
  stream_table stream "Streaming: 16 connections, closed loop"
  footnote

  echo "### Memory (RSS of the target's processes, MB)"
  echo
  echo "Idle: after one warm-up request. Open streams: streaming requests held in flight (the mock waits"
  echo "10 minutes before answering), measured 1 s after the last one was written; \"upstream\" = connections"
  echo "open at the mock at that moment (for direct: the streams themselves)."
  echo
  echo "| target | idle | 1,000 open streams | upstream conns | 10,000 open streams | upstream conns | KB per extra stream | idle vs portkey | 10,000 vs portkey |"
  echo "|---|---|---|---|---|---|---|---|---|"
  pi=$(v portkey idle rss_kb); ph=$(ref portkey hold10000 rss_kb)
  for t in $TARGETS; do
    if ! ok "$t" idle; then failrow "$t" idle 9; continue; fi
    i=$(v "$t" idle rss_kb)
    h1=$(ok "$t" hold1000 && v "$t" hold1000 rss_kb); h2=$(ok "$t" hold10000 && v "$t" hold10000 rss_kb)
    c1="$(mb "$h1")"; [ -z "$h1" ] && c1="failed: $(why "$t" hold1000)"
    c2="$(mb "$h2")"; [ -z "$h2" ] && c2="failed: $(why "$t" hold10000)"
    per=$([ -n "$h2" ] && awk -v a="$h2" -v b="$i" 'BEGIN{printf "%.1f", (a - b) / 10000}' || echo "–")
    echo "| $(label "$t") | $(mb "$i") | $c1 | $(v "$t" hold1000 upstream_open) | $c2 | $(v "$t" hold10000 upstream_open) | $per | $(ratio "$i" "$pi") | $(ratio "$h2" "$ph") |"
  done
  echo

  # A target that does not pass the held streams on to the upstream is not holding
  # them the way the others do: say so next to the numbers.
  for t in $TARGETS; do
    for h in hold1000:1000 hold10000:10000; do
      u=$(ok "$t" "${h%%:*}" && v "$t" "${h%%:*}" upstream_open)
      [ -n "$u" ] && [ "$u" -lt $(( ${h#*:} * 9 / 10 )) ] &&
        echo "- $t: only $u upstream connections were open with ${h#*:} streams held: the other requests were waiting inside $t, not at the upstream."
    done
  done
  echo
  has portkey && echo "¹ Portkey with our streaming work-around preloaded: see the note under the streaming table." && echo

  # Whatever failed, in full.
  if awk -F'\t' '$3=="failed" || $3=="first_error"' "$RES" | grep -q .; then
    echo "### Failures and first errors"
    echo
    awk -F'\t' '$3=="failed" || $3=="first_error" {printf "- %s / %s: %s: %s\n", $1, $2, $3, $4}' "$RES"
    echo
  fi
  echo "Chart: $(basename "$PNG") (p50 and p99 latency per target and scenario, log scale)."
} >"$MD"

# Chart: p50 / p99 for the three non-streaming scenarios, one cluster per scenario.
if command -v gnuplot >/dev/null; then
  dat=$(mktemp)
  {
    printf 'scenario'; for t in $TARGETS; do printf '\t%s' "$t"; done; echo
    for s in c1 c64 rate5000; do
      for q in p50 p99; do
        case $s in c1) lbl="1 conn";; c64) lbl="64 conns";; rate5000) lbl="5k req/s open";; esac
        printf '"%s %s"' "$lbl" "$q"
        for t in $TARGETS; do x=$(ok "$t" $s && v "$t" $s $q); printf '\t%s' "${x:-?}"; done
        echo
      done
    done
  } >"$dat"
  n=$(wc -w <<<"$TARGETS")
  plot=""
  for ((i = 2; i <= n + 1; i++)); do
    plot+="'$dat' using $i:xtic(1) title columnheader($i)"; [ $i -le $n ] && plot+=", "
  done
  timeout 30 gnuplot <<GP 2>/dev/null || echo "bench/gateway: gnuplot failed" >&2
set terminal png size 1100,520 font ",10"
set output '$PNG'
set title "Chat completion latency through each target (same mock upstream, 2 KB request; lower is better)"
set ylabel "microseconds (log scale)"
set logscale y
set grid ytics
set datafile missing "?"
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set xtics rotate by -20
plot $plot
GP
  rm -f "$dat"
else
  echo "bench/gateway: gnuplot not installed (gnuplot-nox): no chart" >&2
fi
