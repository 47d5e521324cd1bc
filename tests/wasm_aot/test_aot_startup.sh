#!/usr/bin/env bash
# The compiled tier's cache hit starts nothing: the compiler-version part of
# the cache key is remembered in the cache directory (keyed by the compiler
# binaries' path, size, mtime and inode), so a second process running a
# cached module execs neither `cc --version` nor wasm2c. The compiler is a
# wrapper script that logs every invocation; replacing it (new mtime/size)
# must make the next process ask again.
set -u
BUILD=${SLUICE_BUILD:-build}
BIN=$BUILD/sluice-wasm
command -v wasm2c >/dev/null || { echo "skip: wasm2c not installed (wabt)"; exit 77; }
command -v wat2wasm >/dev/null || { echo "skip: wat2wasm not installed (wabt)"; exit 77; }
command -v cc >/dev/null || { echo "skip: no C compiler"; exit 77; }
[ -x "$BIN" ] || { echo "missing $BIN"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export SLUICE_AOT_CACHE=$TMP/cache
LOG=$TMP/cc.log
REAL_CC=$(command -v cc)
write_cc() {  # $1: a comment that changes the wrapper's size
  printf '#!/bin/sh\n# %s\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$1" "$LOG" "$REAL_CC" >"$TMP/cc"
  chmod +x "$TMP/cc"
}
write_cc v1
export SLUICE_AOT_CC=$TMP/cc
echo '(module (func (export "f") (result i32) i32.const 42))' >"$TMP/m.wat"
wat2wasm "$TMP/m.wat" -o "$TMP/m.wasm" || exit 1

fail() { echo "FAIL: $*"; exit 1; }
out=$("$BIN" run --engine aot "$TMP/m.wasm" f) || fail "first run: $out"
[ "$out" = "i32:42" ] || fail "first run printed $out"
grep -q -- --version "$LOG" || fail "a cold cache never asked the compiler's version"
grep -q -- -shared "$LOG" || fail "a cold cache did not compile"
: >"$LOG"
out=$("$BIN" run --engine aot "$TMP/m.wasm" f) || fail "second run: $out"
[ "$out" = "i32:42" ] || fail "second run printed $out"
[ -s "$LOG" ] && fail "a cache hit ran the compiler: $(cat "$LOG")"
# a different compiler binary: its version is asked again
sleep 0.01; write_cc "v2, a longer comment"
out=$("$BIN" run --engine aot "$TMP/m.wasm" f) || fail "third run: $out"
grep -q -- --version "$LOG" || fail "a replaced compiler was not asked for its version"
echo "ok: cache hit ran nothing; a replaced compiler was re-probed"
