# tests/gateway/lib.sh - shared helpers for the gateway's end-to-end tests.
# Source it from a test script: it sets up a temp dir and an EXIT trap that
# kills every process started here (even when the test fails).
#
#   start_mock [ARGS]      build/sluice-mockllm on a free port -> MOCK_PORT
#   fault_provider NAME FAULT KEY [EXTRA]  a provider's config entry injecting FAULT
#   start_gw [ARGS]        build/sluice on a free port -> GW_PORT, GW_PID, GW_LOG
#   stop_gw                SIGTERM, wait, return its exit status (sanitizer reports fail it)
#   req METHOD PATH [BODY] [CURL ARGS]  -> STATUS, BODY (file $TMP/body), HEADERS
#   expect_error STATUS TYPE TEXT       (TYPE "" = any) the last response is an OpenAI error like that
#   fail MSG / pass MSG / contains TEXT STRING
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${SLUICE_BUILD:-build}
GW_BIN=$BUILD/sluice
MOCK_BIN=$BUILD/sluice-mockllm
TMP=$(mktemp -d)
PIDS=()
GW_PID=
# Sanitizer builds are slower to start and to answer.
WAIT_TRIES=200

lib_cleanup() {
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap lib_cleanup EXIT

fail() { echo "FAIL: $*"; [ -n "${GW_LOG:-}" ] && [ -f "$GW_LOG" ] && tail -n 20 "$GW_LOG" | sed 's/^/  gw| /'; exit 1; }
pass() { echo "ok: $*"; }

# A port nothing listens on (a random one that refuses connections); the
# window before the server binds it is small, and start_* fail loudly.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768-)
    (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "$p"
}

wait_health() { # PORT PID
  for _ in $(seq $WAIT_TRIES); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/health" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

start_mock() {
  for _ in 1 2 3; do
    MOCK_PORT=$(free_port)
    "$MOCK_BIN" --listen "127.0.0.1:$MOCK_PORT" "$@" >"$TMP/mock.log" 2>&1 &
    MOCK_PID=$!; PIDS+=("$MOCK_PID")
    wait_health "$MOCK_PORT" "$MOCK_PID" && return 0
    grep -qi "in use" "$TMP/mock.log" || break
  done
  cat "$TMP/mock.log"; fail "mockllm did not start"
}

start_gw() {
  for _ in 1 2 3; do   # another process may grab the port first: try again
    GW_PORT=$(free_port)
    GW_LOG=$TMP/gw.$GW_PORT.log
    "$GW_BIN" --listen "127.0.0.1:$GW_PORT" --workers 2 "$@" >"$GW_LOG" 2>&1 &
    GW_PID=$!; PIDS+=("$GW_PID")
    wait_health "$GW_PORT" "$GW_PID" && return 0
    grep -q "Address already in use" "$GW_LOG" || break
  done
  fail "gateway did not start"
}

stop_gw() {
  kill -TERM "$GW_PID" 2>/dev/null
  local rc=0
  wait "$GW_PID" || rc=$?
  if grep -q "Sanitizer" "$GW_LOG"; then grep -A 30 "Sanitizer" "$GW_LOG" | head -60; return 99; fi
  return $rc
}

# A provider entry (config JSON) on the mock with an injected fault (after start_mock):
#   fault_provider NAME FAULT KEY [extra network_config members, with a trailing comma]
fault_provider() {
  printf '"%s": {"keys": [{"value": "%s"}], "network_config": {"base_url": "http://127.0.0.1:%s", %s "extra_headers": {"x-mock-fault": "%s"}}}' \
         "$1" "$3" "$MOCK_PORT" "${4:-}" "$2"
}

# A config file in $TMP from stdin; prints its path.
write_config() { local f=$TMP/config.$RANDOM.json; cat >"$f"; echo "$f"; }

req() { # METHOD PATH [BODY] [extra curl args...]
  local method=$1 path=$2; shift 2
  local data=()
  if [ $# -gt 0 ]; then data=(--data-binary "$1"); shift; fi
  STATUS=$(curl -s -X "$method" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
           -H 'content-type: application/json' "${data[@]+"${data[@]}"}" "$@" \
           "http://127.0.0.1:$GW_PORT$path")
  BODY=$(cat "$TMP/body"); HEADERS=$(cat "$TMP/headers")
}

contains() { # TEXT STRING
  case "$2" in *"$1"*) return 0;; *) return 1;; esac
}

expect_error() { # STATUS TYPE TEXT
  [ "$STATUS" = "$1" ] || fail "expected HTTP $1, got $STATUS: $BODY"
  [ -z "$2" ] || contains "\"type\":\"$2\"" "$BODY" || fail "expected error type $2: $BODY"
  contains "$3" "$BODY" || fail "expected '$3' in: $BODY"
  contains '{"error":{"message":' "$BODY" || fail "not an OpenAI error: $BODY"
  contains '"param":' "$BODY" && contains '"code":' "$BODY" || fail "error lacks code/param: $BODY"
  contains "x-request-id:" "$(echo "$HEADERS" | tr 'A-Z' 'a-z')" || fail "no x-request-id header"
}

# The "content" of a non-streaming completion (first match).
content_of() { sed -n 's/.*"content":"\([^"]*\)".*/\1/p' <<<"$1" | head -n1; }

# Concatenated delta contents of an SSE stream.
stream_text() { grep '^data: {' <<<"$1" | sed -n 's/.*"delta":{[^}]*"content":"\([^"]*\)".*/\1/p' | tr -d '\n'; }

for b in "$GW_BIN" "$MOCK_BIN"; do
  [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }
done
