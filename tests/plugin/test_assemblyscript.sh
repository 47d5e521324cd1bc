#!/usr/bin/env bash
# The AssemblyScript example plugin (examples/plugins/assemblyscript) built
# from source with the pinned compiler (npm ci from the lock file), then run
# by Sluice's plugin host: get_name, init config, a hook's output, and
# env.abort's UTF-16 message decoded into the trap message.
set -eu
BUILD=${SLUICE_BUILD:-build}
. tests/plugin/examples_lib.sh
examples_have_npm || { echo "skip: npm is not installed"; exit 77; }
PROBE=$BUILD/sluice-plugin-probe
examples_build_as
WASM=$AS_WASM

out=$("$PROBE" --config '{"greeting":"bonjour"}' "$WASM" 2>&1)
echo "$out"
grep -q '^name: as-hello$' <<<"$out"
grep -q '"as_greeting":"bonjour"' <<<"$out"
grep -q '"as_input_bytes":[1-9]' <<<"$out"
grep -q '^failures: 0$' <<<"$out"

out=$("$PROBE" --path /as-abort "$WASM" 2>&1)
echo "$out"
grep -q 'abort: boom from assemblyscript at assembly/plugin.ts:[0-9]*:[0-9]*' <<<"$out"
grep -q '^failures: 1$' <<<"$out"
grep -q '^decision: continue$' <<<"$out"   # fail-open

out=$("$PROBE" --config '{"greeting":"hola"}' --hook pre --body '{"model":"openai/gpt-4o","messages":[]}' "$WASM" 2>&1)
grep -q '"as_pre":"hola","as_model":"gpt-4o"' <<<"$out"   # json-as parsed config and input
out=$("$PROBE" --hook http_post "$WASM" 2>&1)
grep -q '"as_post":true' <<<"$out"
echo "ok"
