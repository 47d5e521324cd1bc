# tests/plugin/examples_lib.sh - builds the Rust and AssemblyScript example
# plugins from source into build/examples/plugins (once: later calls reuse
# the build when the sources did not change). The .wasm files do not depend
# on the sanitizer build, so the plain and ASan runs share them ($EX_OUT).
# Source it with the repository root as the current directory.
#
#   examples_have_rust / examples_have_npm   0 when the toolchain is there
#   examples_build_rust  -> RUST_WASM    examples_build_as  -> AS_WASM

EX_OUT=${SLUICE_EXAMPLES_OUT:-build/examples/plugins}
mkdir -p "$EX_OUT" && EX_OUT=$(cd "$EX_OUT" && pwd)

examples_have_rust() {
  [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/wasm32-unknown-unknown ] &&
    [ -d /usr/share/cargo/registry/serde_json-1.0.87 ]
}
examples_have_npm() { command -v npm >/dev/null && command -v node >/dev/null; }

# Debian's rustc 1.63 + wasm32 std + packaged crates, offline (cargo is
# incremental: an unchanged crate costs well under a second).
examples_build_rust() {
  export CARGO_TARGET_DIR=$EX_OUT/rust-target
  export RUSTC=/usr/bin/rustc CARGO_HOME=$EX_OUT/cargo-home
  (cd examples/plugins/rust && /usr/bin/cargo build --quiet --release --target wasm32-unknown-unknown) || return 1
  RUST_WASM=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/sluice_rust_hello.wasm
}

# The pinned compiler from the lock file (npm ci only when the lock changed),
# compiled in a copy under $EX_OUT so that the source tree stays clean.
examples_build_as() {
  local src=examples/plugins/assemblyscript work=$EX_OUT/assemblyscript
  AS_WASM=$work/build/as-hello.wasm
  mkdir -p "$work"
  if [ ! -d "$work/node_modules/assemblyscript" ] || ! cmp -s "$src/package-lock.json" "$work/package-lock.json"; then
    cp "$src/package.json" "$src/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
  fi
  if [ -s "$AS_WASM" ] && [ -z "$(find "$src/assembly" "$src/package.json" -newer "$AS_WASM" 2>/dev/null)" ]; then
    return 0
  fi
  rm -rf "$work/assembly" && cp -r "$src/assembly" "$work/assembly"
  (cd "$work" && npm run --silent build) && test -s "$AS_WASM"
}
