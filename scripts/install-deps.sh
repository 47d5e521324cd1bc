#!/usr/bin/env bash
# Installs the Debian packages Sluice needs to build, test and benchmark.
# Idempotent: when everything is present it does nothing (no apt-get update).
set -euo pipefail

PACKAGES=(
  build-essential pkg-config clang lld curl ca-certificates
  libh2o-dev libuv1-dev libcurl4-openssl-dev libssl-dev   # server, upstream client
  libjansson-dev libcmocka-dev                            # tests: differential JSON, unit tests
  libclang-rt-14-dev libfuzzer-14-dev                     # sanitizers and fuzzing
  wabt                                                    # wast2json, wasm-interp, wasm2c
  wasi-libc libclang-rt-14-dev-wasm32                     # the C WASI-reactor example plugin
  wrk nodejs npm                                          # load generator, npm test clients
  libsqlite3-dev                                          # request log store
  nginx-light gnuplot-nox iproute2                        # benchmarks: peer proxy, charts, netns
  valgrind strace                                         # bench/gateway/profile.sh: instructions, syscalls
  rustc cargo libstd-rust-dev-wasm32                      # the Rust example plugin (Debian's rustc
  librust-serde-json-dev librust-serde-derive-dev         #  has the wasm32 std; crates offline)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from outside Debian (the machine image ships one): accept it.
if command -v npm >/dev/null 2>&1; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = npm ] || [ "$p" = nodejs ] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx start a system service on install: we only want the
# binaries, so forbid service starts for the duration (policy-rc.d, exit 101).
policy=/usr/sbin/policy-rc.d; own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null; $SUDO chmod +x "$policy"; own_policy=1
fi
trap '[ -n "$own_policy" ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
