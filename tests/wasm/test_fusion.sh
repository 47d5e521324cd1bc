#!/usr/bin/env bash
# The interpreter's superinstructions on their edge cases (tests/wasm/fusion.wast:
# 32-bit address wrap in fused loads, a store whose address local is re-set by
# the fused value, operand order after local.tee, shift pairs that are and are
# not sign extensions, copies before a back-edge, the byte-loop forms and
# add-then-compare branches, jump threading over a copy, serde_json's string
# scan loop in one instruction and its parts, memcpy's funnel loop, the ASCII
# test of two words and of bytes, bit tests, constant-address and local +
# constant loads and stores, store pairs, i64 copies), and of the inlining of
# tiny functions
# (tests/wasm/inline.wast: argument forwarding, kept arguments, results,
# nesting, recursion, validation).
set -u
BUILD=${SLUICE_BUILD:-build}
BIN=$BUILD/sluice-wasm
command -v wast2json >/dev/null || { echo "skip: wast2json not installed (wabt)"; exit 77; }
[ -x "$BIN" ] || { echo "missing $BIN"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
wast2json tests/wasm/fusion.wast -o "$tmp/fusion.json" || exit 1
out=$("$BIN" spec "$tmp/fusion.json" 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] && grep -q '^195 passed, 0 failed$' <<<"$out" || exit 1
wast2json tests/wasm/inline.wast -o "$tmp/inline.json" || exit 1
out=$("$BIN" spec "$tmp/inline.json" 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] && grep -q '^31 passed, 0 failed$' <<<"$out"
