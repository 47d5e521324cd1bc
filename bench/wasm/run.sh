#!/usr/bin/env bash
# WebAssembly engine benchmark: each workload of bench/wasm/workloads/ (one C
# file, `long long bench(void)` returning a checksum) runs
#   - natively (cc -O2; bench() timed in-process with CLOCK_MONOTONIC),
#   - in Sluice's engine:  $BUILD/sluice-wasm run X.wasm bench
#   - in wabt's interpreter: wasm-interp X.wasm --run-all-exports
#   - compiled (aot): $BUILD/sluice-wasm run --time --engine aot X.wasm bench,
#     after one untimed `compile`; its bench() call is timed in-process
#     (--time), like native; its whole-process start-up is the nop line's
# Each engine runs 3 times (the two alternately; native 10 times) and the
# best wall time is kept; an engine cell stops repeating once it has taken
# 8 s (quick: 2 s), so a slow engine cannot blow the time. The two CLIs are
# timed as whole processes (start-up, decoding and validation included; the
# "nop" line under the table shows how small that is). Every engine's
# checksum must equal the native one. Prints a markdown table and writes
# it to bench/results/wasm.md.
#
# Usage: bench/wasm/run.sh BUILD   (BENCH_QUICK=1: the smaller -DBENCH_QUICK builds)
# SLUICE_WASM=path overrides the engine CLI ($BUILD/sluice-wasm by default);
# BENCH_WASM_TIMEOUT=seconds the limit per engine run (120, quick: 30).
# Exit status 1 if a build, the SHA-256 self-check or a checksum comparison
# fails; an engine that is missing, traps or times out is reported as
# "n/a (reason)" in its cells.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
OUT=bench/results/wasm.md
WORKLOADS="json sha256 sort fib matmul"
RUNS=3
NATIVE_RUNS=10    # native runs are cheap: more of them tames a noisy machine
DIR=$BUILD/bench/wasm
LIMIT=120   # seconds allowed per engine run
MODE="full"
if [ -n "${BENCH_QUICK:-}" ]; then DIR=$DIR/quick; LIMIT=30; MODE="quick (-DBENCH_QUICK sizes)"; fi
REPEAT_BUDGET=8   # seconds: an engine run is not repeated once a cell took this long
[ -n "${BENCH_QUICK:-}" ] && REPEAT_BUDGET=2
LIMIT=${BENCH_WASM_TIMEOUT:-$LIMIT}
SLUICE=${SLUICE_WASM:-$BUILD/sluice-wasm}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results

# `make bench` has built these already; this keeps run.sh usable on its own.
make -s --no-print-directory BUILD="$BUILD" bench-wasm-bins >"$TMP/make.log" 2>&1 || {
  echo "bench/wasm: building the workloads failed:"; cat "$TMP/make.log"; exit 1; }

# Our SHA-256 against the system's, on the very bytes the workload hashes.
"$DIR/native_sha256" --selftest "$TMP/sha.data" >"$TMP/sha.ours" || {
  echo "bench/wasm: sha256 self-test failed"; exit 1; }
want=$(cut -c1-64 "$TMP/sha.ours"); got=$(sha256sum "$TMP/sha.data" | cut -c1-64)
[ "$want" = "$got" ] || { echo "bench/wasm: our sha256 $want != sha256sum $got"; exit 1; }

rc=0

# native NAME -> sets NAT_MS (best of NATIVE_RUNS) and NAT_SUM, or returns 1.
native() {
  local best="" sum="" out ns
  for _ in $(seq $NATIVE_RUNS); do
    out=$("$DIR/native_$1") || return 1
    sum=${out%% *}; sum=${sum#i64:}
    ns=${out##*ns:}
    [ -z "$best" ] || [ "$ns" -lt "$best" ] && best=$ns
  done
  NAT_SUM=$sum
  NAT_MS=$(awk "BEGIN{printf \"%.1f\", $best/1e6}")
}

# The two engine CLIs. Their runs are interleaved (sluice, wasm-interp,
# sluice, ...) so that both see the same background load on a shared machine.
ENGINES="sluice aot interp"
# The AOT tier caches compiled modules; keep the cache inside the build tree.
export SLUICE_AOT_CACHE=${SLUICE_AOT_CACHE:-$(pwd)/$BUILD/aot-cache}
declare -A BEST SPENT FAIL MS CELL

# unavailable ENGINE -> prints why it cannot run at all, or nothing.
unavailable() {
  case $1 in
    sluice) [ -x "$SLUICE" ] || echo "n/a ($SLUICE not built)" ;;
    interp) command -v wasm-interp >/dev/null || echo "n/a (wasm-interp not installed: wabt)" ;;
    aot) if [ ! -x "$SLUICE" ]; then echo "n/a ($SLUICE not built)"
         elif ! command -v wasm2c >/dev/null; then echo "n/a (wasm2c not installed: wabt)"; fi ;;
  esac
}

# run_once ENGINE FILE WANT -> one timed run of the CLI (which prints
# "i64:VALUE"); updates BEST/SPENT[ENGINE], or sets FAIL[ENGINE] to the reason.
run_once() {
  local e=$1 file=$2 want=$3 t0 t1 st val
  local -a cmd
  case $e in
    sluice) cmd=("$SLUICE" run "$file" bench) ;;
    interp) cmd=(wasm-interp "$file" --run-all-exports) ;;
    aot) cmd=("$SLUICE" run --time --engine aot "$file" bench) ;;
  esac
  t0=$(date +%s%N)
  timeout "$LIMIT" "${cmd[@]}" >"$TMP/eng.out" 2>&1; st=$?
  t1=$(date +%s%N)
  val=$(grep -o 'i64:-\?[0-9]*' "$TMP/eng.out" | head -n1); val=${val#i64:}
  if [ $st -eq 124 ]; then FAIL[$e]="n/a (timeout after ${LIMIT}s)"; return; fi
  if [ -z "$val" ]; then
    # No result: a trap, a load error or a crash. Keep the first message.
    local why="exit $st"; [ $st -eq 0 ] && why="no i64 result"
    FAIL[$e]="n/a ($why: $(grep -v '^[[:space:]]*$' "$TMP/eng.out" | head -n1 | tr '|' '/' | cut -c1-80))"
    return
  fi
  if [ "$val" != "$want" ]; then
    FAIL[$e]="WRONG checksum $val, native $want"; touch "$TMP/wrong"; return
  fi
  # aot: the call alone, timed in-process like native (--time); the whole
  # process (start-up, dlopen, instantiation) is the nop line's "aot process".
  if [ "$e" = aot ] && [ -z "${NOP_MODE:-}" ]; then
    local ns; ns=$(sed -n 's/^time-ns://p' "$TMP/eng.out" | head -n1)
    [ -n "$ns" ] && t0=0 && t1=$ns
  fi
  [ -z "${BEST[$e]}" ] || [ $((t1 - t0)) -lt "${BEST[$e]}" ] && BEST[$e]=$((t1 - t0))
  SPENT[$e]=$((SPENT[$e] + t1 - t0))
}

# measure FILE WANT -> MS[e] (best wall time in ms, or "") and CELL[e] (the
# table cell: MS or "n/a (reason)") for each engine. A slow engine is not
# repeated past REPEAT_BUDGET: keeps `make bench` bounded.
measure() {
  local e
  for e in $ENGINES; do BEST[$e]=""; SPENT[$e]=0; FAIL[$e]=$(unavailable "$e"); done
  # The AOT compile (wasm2c + cc, cached) is not part of the timed runs.
  if [ -z "${FAIL[aot]}" ] && ! "$SLUICE" compile "$1" >"$TMP/aot.out" 2>&1; then
    FAIL[aot]="n/a (compile failed: $(head -n1 "$TMP/aot.out" | tr '|' '/' | cut -c1-80))"
  fi
  for _ in $(seq $RUNS); do
    for e in $ENGINES; do
      [ -z "${FAIL[$e]}" ] && [ "${SPENT[$e]}" -lt $((REPEAT_BUDGET * 1000000000)) ] && run_once "$e" "$1" "$2"
    done
  done
  for e in $ENGINES; do
    MS[$e]=""; CELL[$e]=${FAIL[$e]}
    if [ -z "${FAIL[$e]}" ]; then
      MS[$e]=$(awk "BEGIN{printf \"%.1f\", ${BEST[$e]}/1e6}"); CELL[$e]=${MS[$e]}
    fi
  done
}

ratio() { # A B -> A/B (2 significant decimals below 10), or n/a
  if [ -n "$1" ] && [ -n "$2" ]; then awk "BEGIN{r = $1/$2; printf (r < 10 ? \"%.2f×\" : \"%.0f×\"), r}"; else echo "n/a"; fi
}

# Start-up cost of each CLI: a module whose bench() returns 0 at once.
# Ten runs: each is a few ms, and the machine's noise is of that order.
saved_runs=$RUNS; RUNS=10
NOP_MODE=1 measure "$BUILD/bench/wasm/nop.wasm" 0
NOP_SLUICE=${CELL[sluice]}${MS[sluice]:+ ms}; NOP_INTERP=${CELL[interp]}${MS[interp]:+ ms}; NOP_AOT=${CELL[aot]}${MS[aot]:+ ms}
# ...against the cost of starting any process at all on this machine.
spawn_best=""
for _ in $(seq $RUNS); do
  t0=$(date +%s%N); /bin/true; t1=$(date +%s%N)
  [ -z "$spawn_best" ] || [ $((t1 - t0)) -lt "$spawn_best" ] && spawn_best=$((t1 - t0))
done
SPAWN_MS=$(awk "BEGIN{printf \"%.1f\", $spawn_best/1e6}")
RUNS=$saved_runs

{
  echo "WebAssembly engines, $MODE, best of $RUNS runs (engine runs not repeated past ${REPEAT_BUDGET} s per cell), $(nproc) cores shared, $(uname -m)."
  echo "Native: \`$(${CC:-cc} --version | head -n1)\` -O2, bench() timed in-process, best of $NATIVE_RUNS."
  echo "Wasm: \`$(clang --version | head -n1)\` --target=wasm32 -O2, freestanding;"
  echo "sluice-wasm and wasm-interp ($(wasm-interp --version 2>/dev/null | head -n1)) timed as whole processes (start-up included), runs alternating."
  echo "sluice aot: \`sluice-wasm run --time --engine aot\` (wasm2c + cc -O2, cache warm), the bench() call timed in-process like native; its whole-process start-up is in the nop line."
  echo
  echo "| workload | native ms | sluice-wasm ms | wasm-interp ms | sluice/native | wasm-interp/sluice | sluice aot ms | aot/native |"
  echo "|---|---|---|---|---|---|---|---|"
  for w in $WORKLOADS; do
    if ! native "$w"; then
      echo "| $w | n/a (native build failed to run) | | | | |"; touch "$TMP/wrong"; continue
    fi
    # Workloads return a 63-bit checksum; negative means their own check failed.
    if [ "${NAT_SUM:0:1}" = "-" ]; then
      echo "| $w | n/a (workload self-check failed: bench() = $NAT_SUM) | | | | |"; touch "$TMP/wrong"; continue
    fi
    measure "$DIR/$w.wasm" "$NAT_SUM"
    S_MS=${MS[sluice]}; S_CELL=${CELL[sluice]}; I_MS=${MS[interp]}; I_CELL=${CELL[interp]}
    A_MS=${MS[aot]}; A_CELL=${CELL[aot]}
    echo "| $w | $NAT_MS | $S_CELL | $I_CELL | $(ratio "$S_MS" "$NAT_MS") | $(ratio "$I_MS" "$S_MS") | $A_CELL | $(ratio "$A_MS" "$NAT_MS") |"
    echo "$w ${NAT_MS:--} ${S_MS:--} ${I_MS:--} ${A_MS:--}" >>"$TMP/rows"
  done
  # Geometric means over the workloads where the column has a number; a
  # ratio's mean only over workloads where both of its columns do.
  [ -f "$TMP/rows" ] && awk '
    function gm(sum, n,   v) { if (!n) return "n/a"; v = exp(sum / n)
                               return sprintf(v < 10 ? "%.2f" : "%.1f", v) }
    function cnt(n) { return n && n < rows ? sprintf(" (%d of %d)", n, rows) : "" }
    { rows++
      if ($2 != "-") { ln += log($2); nn++ }
      if ($3 != "-") { ls += log($3); ns++ }
      if ($4 != "-") { li += log($4); ni++ }
      if ($2 != "-" && $3 != "-") { lsn += log($3 / $2); nsn++ }
      if ($3 != "-" && $4 != "-") { lis += log($4 / $3); nis++ }
      if ($5 != "-") { la += log($5); na++ }
      if ($2 != "-" && $5 != "-") { lan += log($5 / $2); nan++ } }
    END {
      r1 = gm(lsn, nsn); if (nsn) r1 = r1 "×"
      r2 = gm(lis, nis); if (nis) r2 = r2 "×"
      r3 = gm(lan, nan); if (nan) r3 = r3 "×"
      printf "| **geomean** | %s%s | %s%s | %s%s | %s%s | %s%s | %s%s | %s%s |\n", gm(ln, nn), cnt(nn), gm(ls, ns), cnt(ns),
             gm(li, ni), cnt(ni), r1, cnt(nsn), r2, cnt(nis), gm(la, na), cnt(na), r3, cnt(nan) }' "$TMP/rows"
  echo
  echo "Start-up (nop.wasm, bench() returns 0, best of 10): sluice-wasm $NOP_SLUICE, wasm-interp $NOP_INTERP, sluice aot (whole process, cache hit) $NOP_AOT; /bin/true $SPAWN_MS ms."
  echo "SHA-256 self-check: our digest of the 1 MB input equals sha256sum ($got)."
} | tee "$OUT"
# The table is built in a pipeline (a subshell): failures leave a mark file.
[ -e "$TMP/wrong" ] && rc=1
exit $rc
