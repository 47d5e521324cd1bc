#!/usr/bin/env bash
# The Rust example plugin (examples/plugins/rust, the shape of Bifrost's Rust
# example: serde_json, std alloc/dealloc with free(ptr, len)) built offline
# with Debian's rustc + wasm32 std + packaged crates, then run by Sluice's
# plugin host through sluice-plugin-probe.
set -eu
BUILD=${SLUICE_BUILD:-build}
ROOT=$(pwd)
PROBE=$ROOT/$BUILD/sluice-plugin-probe
[ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ] &&
  [ -d /usr/share/cargo/registry/serde_json-1.0.87 ] || {
  echo "skip: needs Debian's cargo, rustc, libstd-rust-dev-wasm32, librust-serde-json-dev, librust-serde-derive-dev"
  exit 77
}
export CARGO_TARGET_DIR=$ROOT/$BUILD/examples/plugins/rust-target
export RUSTC=/usr/bin/rustc CARGO_HOME=$ROOT/$BUILD/examples/plugins/cargo-home
(cd examples/plugins/rust && /usr/bin/cargo build --quiet --release --target wasm32-unknown-unknown)
WASM=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/sluice_rust_hello.wasm

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
