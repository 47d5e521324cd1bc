#!/usr/bin/env bash
# sluice-wasm CLI: `run` argument/result formats, trap and load-error exit
# codes, WASI output and proc_exit.
set -u
BUILD=${SLUICE_BUILD:-build}
BIN=$BUILD/sluice-wasm
command -v wat2wasm >/dev/null || { echo "skip: wat2wasm not installed (wabt)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
expect() {  # expect NAME WANT_RC WANT_STDOUT WANT_STDERR_SUBSTRING -- CMD...
  local name=$1 rc_want=$2 out_want=$3 err_want=$4; shift 5
  local out err rc
  out=$("$@" 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
  if [ "$rc" != "$rc_want" ] || [ "$out" != "$out_want" ] || [[ "$err" != *"$err_want"* ]]; then
    echo "FAIL $name: rc=$rc (want $rc_want) out=[$out] (want [$out_want]) err=[$err] (want *$err_want*)"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
wat2wasm tests/wasm/cli.wat -o "$tmp/cli.wasm" || exit 1
wat2wasm tests/wasm/wasi.wat -o "$tmp/wasi.wasm" || exit 1
printf 'not wasm' > "$tmp/bad.wasm"
expect add 0 "i32:5" "" -- "$BIN" run "$tmp/cli.wasm" add i32:2 i32:3
expect add-wrap 0 "i32:-2" "" -- "$BIN" run "$tmp/cli.wasm" add i32:2147483647 i32:2147483647
expect mix 0 "$(printf 'i64:-2\nf32:3\nf64:-2.5')" "" -- "$BIN" run "$tmp/cli.wasm" mix i64:-1 f32:1.5 f64:2.5
expect trap 1 "" "trap: unreachable: unreachable" -- "$BIN" run "$tmp/cli.wasm" boom
expect div0 1 "" "trap: integer divide by zero" -- "$BIN" run "$tmp/cli.wasm" div i32:1 i32:0
expect badarg 2 "" "bad argument" -- "$BIN" run "$tmp/cli.wasm" add i32:1 f32:2
expect noexport 2 "" "no exported function" -- "$BIN" run "$tmp/cli.wasm" nope
expect malformed 2 "" "magic header not detected" -- "$BIN" run "$tmp/bad.wasm" add
expect wasi-exit 3 "hello wasi" "" -- "$BIN" run "$tmp/wasi.wasm" _start
expect wasi-print 0 "hello wasi" "" -- "$BIN" run "$tmp/wasi.wasm" hello
[ $fails -eq 0 ]
