#!/usr/bin/env bash
# bench/plugins/run.sh BUILD - what plugins cost per request (issue 6):
#   1. in process (build/bench/plugin_bench): the hooks of one non-streaming
#      request on the 2 KB chat request of bench/gateway, no plugin vs the
#      pass-through plugin (every hook) vs the Rust example, per engine tier;
#      and the Rust example's pre_hook alone;
#   2. through the gateway: sluice (1 worker) in front of sluice-mockllm,
#      closed-loop load from sluice-loadgen, the gateway's CPU time per request
#      with each plugin configuration minus the same without plugins.
# Writes bench/results/plugins.md (BENCH_QUICK=1: bench/results/plugins-quick.md).
# CPU time, not wall clock: the machine is shared (see docs/benchmarks.md).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then SECS=0.3; GW_DUR=1; OUTMD=bench/results/plugins-quick.md
else SECS=1.5; GW_DUR=4; OUTMD=bench/results/plugins.md; fi
BODY=bench/gateway/chat-2k.json
BENCH=$BUILD/bench/plugin_bench
PASS=$ROOT/$BUILD/bench/plugins/passthru.wasm
LOADGEN=$BUILD/bench/sluice-loadgen
export SLUICE_AOT_CACHE=${SLUICE_AOT_CACHE:-$ROOT/$BUILD/aot-cache}
for f in "$BENCH" "$PASS" "$LOADGEN" "$BUILD/sluice" "$BUILD/sluice-mockllm"; do
  [ -e "$f" ] || { echo "bench/plugins: missing $f (make all and the BENCH_BINS)"; exit 1; }
done
TMP=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# The Rust example, built offline the way tests/plugin/test_rust.sh does.
RUST=
if [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ]; then
  export CARGO_TARGET_DIR=$ROOT/$BUILD/examples/plugins/rust-target CARGO_HOME=$ROOT/$BUILD/examples/plugins/cargo-home
  (cd examples/plugins/rust && RUSTC=/usr/bin/rustc /usr/bin/cargo build --quiet --release --target wasm32-unknown-unknown) \
    >"$TMP/cargo.log" 2>&1 && RUST=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/sluice_rust_hello.wasm
fi
ENGINES="interp"
command -v wasm2c >/dev/null && command -v "${SLUICE_AOT_CC:-cc}" >/dev/null && ENGINES="interp aot"

. bench/lib.sh   # free_port, wait_http, cpu_ns, median
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# ---- 1. in process ----
declare -A CPU
inproc() { # KEY ARGS...: CPU us per request into CPU[KEY]
  local key=$1; shift
  local out; out=$("$BENCH" --seconds "$SECS" "$@" 2>"$TMP/err") || { CPU[$key]="failed: $(tail -n1 "$TMP/err")"; return; }
  CPU[$key]=$(field cpu_us_per_req "$out")
}
# The targets' figure, the Rust example's pre_hook: the median of PRE_RUNS
# short runs, each engine in turn (a slow moment of the shared machine then
# hits one run of each, not the whole figure); min-max kept.
PRE_RUNS=$([ "$QUICK" = 1 ] && echo 3 || echo 7)
declare -A PRE
inproc_pre() { # fills CPU[rustpre-E] (median) and PRE[E] (min-max) for every engine
  local e out
  for _ in $(seq "$PRE_RUNS"); do
    for e in $ENGINES; do
      out=$("$BENCH" --seconds 0.5 --engine "$e" --only pre "$BODY" "$RUST" 2>"$TMP/err") || { echo "failed" >>"$TMP/pre-$e"; continue; }
      field cpu_us_per_req "$out" >>"$TMP/pre-$e"
    done
  done
  for e in $ENGINES; do
    if grep -q failed "$TMP/pre-$e"; then CPU[rustpre-$e]="failed: $(tail -n1 "$TMP/err")"; continue; fi
    CPU[rustpre-$e]=$(median <"$TMP/pre-$e")
    PRE[$e]=$(sort -n "$TMP/pre-$e" | sed -n '1h; $ {H; x; s/\n/-/; p}')
  done
}
inproc none "$BODY"
for e in $ENGINES; do
  inproc "pass-$e" --engine "$e" "$BODY" "$PASS"
  [ -n "$RUST" ] && inproc "rust-$e" --engine "$e" "$BODY" "$RUST"
done
[ -n "$RUST" ] && inproc_pre

# ---- 2. through the gateway ----
MOCK_PORT=$(free_port)
"$BUILD/sluice-mockllm" --listen "127.0.0.1:$MOCK_PORT" >"$TMP/mock.log" 2>&1 &
pids+=($!)
wait_http "$MOCK_PORT" || { echo "bench/plugins: mockllm did not start"; exit 1; }
declare -A GW
gateway() { # KEY PLUGINS_JSON
  local key=$1 plugins=$2 port; port=$(free_port)
  cat >"$TMP/cfg.json" <<JSON
{"providers": {"mock": {"keys": [{"value": "sk-bench", "models": ["*"], "weight": 1.0}],
  "network_config": {"base_url": "http://127.0.0.1:$MOCK_PORT"}}}, "plugins": [$plugins]}
JSON
  "$BUILD/sluice" --config "$TMP/cfg.json" --listen "127.0.0.1:$port" --workers 1 >"$TMP/gw.log" 2>&1 &
  local gpid=$!; pids+=($gpid)
  if ! wait_http "$port"; then GW[$key]="failed: $(tail -n1 "$TMP/gw.log")"; kill "$gpid"; return; fi
  local url="http://127.0.0.1:$port/v1/chat/completions"
  "$LOADGEN" --url "$url" --body "$BODY" --model mock/m --rate 0 --connections 4 --duration 0.3 >/dev/null 2>&1
  local c0; c0=$(cpu_ns "$gpid")
  local out; out=$("$LOADGEN" --url "$url" --body "$BODY" --model mock/m --rate 0 --connections 4 --duration "$GW_DUR" 2>&1)
  local c1; c1=$(cpu_ns "$gpid")
  kill "$gpid"; wait "$gpid" 2>/dev/null
  local n; n=$(field completed "$out"); local errs; errs=$(field errors "$out")
  if [ -z "$n" ] || [ "$n" = 0 ] || [ "${errs:-1}" != 0 ]; then GW[$key]="failed: $out"; return; fi
  GW[$key]=$(awk -v d=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.1f", d / 1000 / n}')
  GW[$key-rps]=$(field rate "$out")
}
entry() { printf '{"name": "p", "path": "%s", "engine": "%s"}' "$1" "$2"; }
gateway none ""
for e in $ENGINES; do
  gateway "pass-$e" "$(entry "$PASS" "$e")"
  [ -n "$RUST" ] && gateway "rust-$e" "$(entry "$RUST" "$e")"
done

# ---- report ----
minus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == a && b + 0 == b) printf "%.1f", a - b; else print "-" }'; }
{
  echo "# Plugin cost per request ($(date -u +%Y-%m-%d), $(nproc) cores, shared machine$( [ "$QUICK" = 1 ] && echo ', quick'))"
  echo
  echo "Produced by \`bench/plugins/run.sh\` (\`make bench\`). CPU microseconds per request."
  echo "In process: \`$BENCH [--engine E] [--only pre] --seconds $SECS $BODY [PLUGIN]\` runs"
  echo "http_pre_hook, pre_hook, post_hook and http_post_hook of one request (the 2 KB chat request)."
  echo "Gateway: sluice --workers 1 before sluice-mockllm, sluice-loadgen closed loop, 4 connections,"
  echo "${GW_DUR} s; the gateway's CPU (all threads, /proc schedstat) divided by the requests answered."
  echo
  echo "| configuration | engine | in process (us) | plugin cost in process (us) | gateway CPU/req (us) | plugin cost in gateway (us) | gateway req/s |"
  echo "|---|---|---|---|---|---|---|"
  echo "| no plugin | - | ${CPU[none]} | 0 | ${GW[none]} | 0 | ${GW[none-rps]:-} |"
  for e in $ENGINES; do
    echo "| pass-through C plugin, all hooks | $e | ${CPU[pass-$e]} | $(minus "${CPU[pass-$e]}" "${CPU[none]}") | ${GW[pass-$e]} | $(minus "${GW[pass-$e]}" "${GW[none]}") | ${GW[pass-$e-rps]:-} |"
    [ -n "$RUST" ] && echo "| Rust example (http_pre_hook + pre_hook) | $e | ${CPU[rust-$e]} | $(minus "${CPU[rust-$e]}" "${CPU[none]}") | ${GW[rust-$e]} | $(minus "${GW[rust-$e]}" "${GW[none]}") | ${GW[rust-$e-rps]:-} |"
  done
  echo
  if [ -n "$RUST" ]; then
    echo "Rust example, pre_hook alone on the 2 KB request (in process, CPU us per call; the median"
    echo "of $PRE_RUNS runs of 0.5 s, the engines alternating, and their range):"
    echo
    echo "| engine | pre_hook (us) | runs, min-max (us) | target (us) |"
    echo "|---|---|---|---|"
    for e in $ENGINES; do
      t=150; [ "$e" = aot ] && t=20
      echo "| $e | ${CPU[rustpre-$e]} | ${PRE[$e]:-} | $t |"
    done
  else
    echo "Rust example: not measured (needs Debian's cargo and libstd-rust-dev-wasm32)."
  fi
  [ "$ENGINES" = interp ] && echo && echo "aot: not measured (needs wasm2c and a C compiler)."
} | tee "$OUTMD"
