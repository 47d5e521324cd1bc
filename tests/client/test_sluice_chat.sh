#!/usr/bin/env bash
# examples/client: sluice-chat, linked with libsluice.a and with libsluice.so,
# streams a completion from a real sluice-mockllm to stdout (OpenAI-compatible
# and Anthropic), reads the prompt from stdin, and reports a failure on
# stderr with exit 1.
. "$(dirname "$0")/../gateway/lib.sh"
EX=$BUILD/examples/client
start_mock
URL=http://127.0.0.1:$MOCK_PORT
for bin in "$EX/sluice-chat" "$EX/sluice-chat-shared"; do
  [ -x "$bin" ] || fail "missing $bin (run make)"
  out=$("$bin" --base-url "$URL" --model m1 hello from the example) || fail "$bin: exit $?"
  [ "$out" = "echo: hello from the example" ] || fail "$bin: '$out'"
  out=$(echo "from stdin" | "$bin" --provider anthropic --base-url "$URL" --api-key k --model m1 --system brief) \
    || fail "$bin anthropic: exit $?"
  [ "$out" = "echo: from stdin" ] || fail "$bin anthropic: '$out'"
  out=$("$bin" --base-url "$URL" --model m1 --no-stream whole answer) || fail "$bin --no-stream: exit $?"
  [ "$out" = "echo: whole answer" ] || fail "$bin --no-stream: '$out'"
  rc=0; "$bin" --base-url "$URL" --model m1 --header 'x-mock-fault: 401' hi >/dev/null 2>"$TMP/err" || rc=$?
  [ $rc = 1 ] && grep -q "error 401" "$TMP/err" || fail "$bin 401: exit $rc: $(cat "$TMP/err")"
  pass "$(basename "$bin")"
done
# The shared library exports the public API only.
syms=$(nm -D --defined-only "$BUILD/libsluice.so" | awk '$2 == "T" {print $3}' | sort | tr '\n' ' ')
[ "$syms" = "sluice_client_chat_json sluice_client_completion sluice_client_free sluice_client_new sluice_client_stream_completion sluice_free " ] \
  || fail "libsluice.so exports: $syms"
pass "libsluice.so exports only sluice_client_* and sluice_free"
