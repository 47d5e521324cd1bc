#!/usr/bin/env bash
# WebAssembly spec conformance: converts every non-SIMD .wast of
# $SLUICE_SHARED/wasm-testsuite with wast2json (cached in
# $SLUICE_BUILD/wasm-spec/, reconverted only when missing) and runs each with
# `sluice-wasm spec`. Fails if any assertion fails. Files listed in
# tests/wasm/skip.txt are skipped (and printed with their reason).
set -u
BUILD=${SLUICE_BUILD:-build}
SHARED=${SLUICE_SHARED:-../shared}
SUITE=$SHARED/wasm-testsuite
BIN=$BUILD/sluice-wasm
OUT=$BUILD/wasm-spec
SKIPS=tests/wasm/skip.txt
[ -d "$SUITE" ] || { echo "skip: no $SUITE"; exit 77; }
command -v wast2json >/dev/null || { echo "skip: wast2json not installed (wabt)"; exit 77; }
[ -x "$BIN" ] || { echo "missing $BIN"; exit 1; }
mkdir -p "$OUT"

total_pass=0; total_fail=0; total_textskip=0; bad_files=(); skipped_files=0
for wast in "$SUITE"/*.wast; do
  name=$(basename "$wast" .wast)
  case "$name" in simd_*) continue ;; esac
  reason=$(awk -v f="$name.wast" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "$SKIPS")
  if [ -n "$reason" ]; then
    echo "SKIP  $name.wast: $reason"; skipped_files=$((skipped_files + 1)); continue
  fi
  dir=$OUT/$name
  if [ ! -f "$dir/$name.json" ]; then
    mkdir -p "$dir"
    if ! wast2json "$wast" -o "$dir/$name.json" >"$dir/convert.log" 2>&1; then
      echo "FAIL  $name.wast: wast2json cannot convert it (see $dir/convert.log; list it in $SKIPS)"
      rm -f "$dir/$name.json"; bad_files+=("$name"); continue
    fi
  fi
  out=$(timeout 120 "$BIN" spec "$dir/$name.json" 2>&1); rc=$?
  summary=$(echo "$out" | tail -n 1)
  textskip=$(echo "$out" | sed -n 's/^\([0-9]*\) skipped$/\1/p')
  p=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  if [ -z "$p" ] || [ $rc -gt 1 ]; then
    echo "FAIL  $name.wast: runner exited $rc"; echo "$out" | tail -n 20 | sed 's/^/      /'
    bad_files+=("$name"); continue
  fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_textskip=$((total_textskip + ${textskip:-0}))
  if [ "$f" -gt 0 ]; then
    echo "FAIL  $name.wast: $p passed, $f failed"; echo "$out" | grep '^FAIL' | head -n 10 | sed 's/^/      /'
    bad_files+=("$name")
  else
    printf 'ok    %-28s %5d passed%s\n' "$name.wast" "$p" "${textskip:+, $textskip text-format assertions not applicable}"
  fi
done
echo "spec: $total_pass passed, $total_fail failed, $total_textskip text-format assertions not applicable, $skipped_files files skipped"
[ ${#bad_files[@]} -eq 0 ] || { echo "failing files: ${bad_files[*]}"; exit 1; }
exit 0
