#!/usr/bin/env bash
# WebAssembly spec conformance of the compiled tier: `sluice-wasm spec
# --engine aot` over the JSON that tests/wasm/test_spec.sh converts into
# $SLUICE_BUILD/wasm-spec/ (converted here with wast2json when missing).
# Every module is compiled with wasm2c + cc and cached in
# $SLUICE_BUILD/aot-cache (so a second run compiles nothing). Compiling the
# whole suite cold takes minutes on two shared cores, so by default a
# representative subset runs; SLUICE_AOT_SPEC=full runs every file. Files
# listed in tests/wasm_aot/skip.txt are skipped with their reason. Modules the
# compiled tier refuses (imported memories/tables, funcref signatures) are
# interpreted and counted as "interpreted".
set -u
BUILD=${SLUICE_BUILD:-build}
SHARED=${SLUICE_SHARED:-../shared}
SUITE=$SHARED/wasm-testsuite
BIN=$BUILD/sluice-wasm
OUT=$BUILD/wasm-spec
SKIPS=tests/wasm_aot/skip.txt
JOBS=${SLUICE_AOT_JOBS:-2}
[ -d "$SUITE" ] || { echo "skip: no $SUITE"; exit 77; }
command -v wast2json >/dev/null || { echo "skip: wast2json not installed (wabt)"; exit 77; }
command -v wasm2c >/dev/null || { echo "skip: wasm2c not installed (wabt)"; exit 77; }
command -v "${SLUICE_AOT_CC:-cc}" >/dev/null || { echo "skip: no C compiler"; exit 77; }
[ -x "$BIN" ] || { echo "missing $BIN"; exit 1; }
export SLUICE_AOT_CACHE=${SLUICE_AOT_CACHE:-$BUILD/aot-cache}
mkdir -p "$OUT" "$SLUICE_AOT_CACHE"

SUBSET="address block br br_if br_table call call_indirect conversions endianness f32 f64 fac
forward func i32 i64 if int_exprs labels left-to-right load local_get local_set loop
memory memory_grow memory_fill memory_copy nop return select stack store switch traps unreachable
unwind global linking"
if [ "${SLUICE_AOT_SPEC:-subset}" = full ]; then
  names=$(for w in "$SUITE"/*.wast; do basename "$w" .wast; done | grep -v '^simd_')
else
  names=$SUBSET
fi

# one file: prints "RESULT name passed failed interpreted" (or BAD/SKIP lines)
run_one() {
  name=$1
  reason=$(awk -v f="$name.wast" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "$SKIPS")
  if [ -n "$reason" ]; then echo "SKIP  $name.wast: $reason"; return; fi
  dir=$OUT/$name
  if [ ! -f "$dir/$name.json" ]; then
    mkdir -p "$dir"
    wast2json "$SUITE/$name.wast" -o "$dir/$name.json" >"$dir/convert.log" 2>&1 ||
      { echo "SKIP  $name.wast: wast2json cannot convert it"; rm -f "$dir/$name.json"; return; }
  fi
  out=$(timeout 600 "$BIN" spec --engine aot "$dir/$name.json" 2>&1); rc=$?
  p=$(echo "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  i=$(echo "$out" | sed -n 's/^\([0-9]*\) modules interpreted.*/\1/p')
  if [ -z "$p" ] || [ $rc -gt 1 ]; then
    echo "BAD   $name.wast: runner exit $rc"; echo "$out" | tail -n 5 | sed 's/^/      /'; return
  fi
  [ "$f" != 0 ] && echo "$out" | grep -v 'passed, ' | head -n 5 | sed "s/^/      $name: /"
  echo "RESULT $name $p $f ${i:-0}"
}
export -f run_one
export OUT SUITE BIN SKIPS

start=$(date +%s)
results=$(printf '%s\n' $names | xargs -P "$JOBS" -I{} bash -c 'run_one {}')
echo "$results" | grep -v '^RESULT'
echo "$results" | awk '/^RESULT/ { printf "%-22s %6d passed %4d failed %3d interpreted\n", $2, $3, $4, $5 }'
read -r tp tf ti nbad < <(echo "$results" | awk '/^RESULT/ { p += $3; f += $4; i += $5 } /^BAD/ { b++ } END { print p+0, f+0, i+0, b+0 }')
echo "aot spec: $tp passed, $tf failed, $ti modules interpreted, $nbad files broken ($(( $(date +%s) - start ))s, ${SLUICE_AOT_SPEC:-subset})"
[ "$tf" = 0 ] && [ "$nbad" = 0 ] && [ "$tp" -gt 0 ]
