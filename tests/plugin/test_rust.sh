#!/usr/bin/env bash
# The Rust example plugin (examples/plugins/rust, the shape of Bifrost's Rust
# example: serde_json, std alloc/dealloc with free(ptr, len)) built offline
# with Debian's rustc + wasm32 std + packaged crates, then run by Sluice's
# plugin host through sluice-plugin-probe.
set -eu
BUILD=${SLUICE_BUILD:-build}
ROOT=$(pwd)
PROBE=$ROOT/$BUILD/sluice-plugin-probe
. tests/plugin/examples_lib.sh
examples_have_rust || {
  echo "skip: needs Debian's cargo, rustc, libstd-rust-dev-wasm32, librust-serde-json-dev, librust-serde-derive-dev"
  exit 77
}
examples_build_rust
WASM=$RUST_WASM

out=$("$PROBE" --config '{"greeting":"salut"}' "$WASM" 2>&1)
echo "$out"
grep -q '^name: rust-hello$' <<<"$out"
grep -q '^request header: X-Rust-Plugin: salut$' <<<"$out"
grep -q '^request header: Content-Type: application/json$' <<<"$out"
grep -q '"from-http-pre":"rust-wasm"' <<<"$out"
grep -q '^failures: 0$' <<<"$out"
out=$("$PROBE" --hook pre --body '{"model":"openai/gpt-4o","messages":[]}' "$WASM" 2>&1)
echo "$out"
grep -q '"rust_saw_model":"gpt-4o"' <<<"$out"
echo "ok"
