#!/usr/bin/env bash
# network_config.ca_cert_pem: the gateway reaches an HTTPS upstream whose
# certificate comes from a CA made at test time (openssl CLI) when the
# provider's config carries that CA as PEM text, and refuses it with an
# OpenAI-shaped 502 when it does not. The upstream is the real mock behind
# tests/client/tls_proxy.js (TLS terminated by node). A config whose
# ca_cert_pem is no PEM refuses to start.
. "$(dirname "$0")/../gateway/lib.sh"
command -v node >/dev/null && command -v openssl >/dev/null || { echo "skip: node or openssl missing"; exit 77; }

tests/client/make_certs.sh "$TMP" || fail "cannot make certificates"
start_mock
node tests/client/tls_proxy.js "$TMP/srv.crt" "$TMP/srv.key" "$MOCK_PORT" keep >"$TMP/proxy.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^PORT ' "$TMP/proxy.out" && break; sleep 0.05; done
TLS_PORT=$(sed -n 's/^PORT //p' "$TMP/proxy.out")
[ -n "$TLS_PORT" ] || fail "tls_proxy did not start: $(cat "$TMP/proxy.out")"

PEM_JSON=$(awk '{printf "%s\\n", $0}' "$TMP/ca.crt")   # the PEM as a JSON string body
CFG=$(write_config <<JSON
{"providers": {
  "trusted": {"keys": [], "network_config": {"base_url": "https://127.0.0.1:$TLS_PORT",
                                             "ca_cert_pem": "$PEM_JSON"}},
  "anthropic": {"keys": [{"value": "k", "models": ["*"]}],
                "network_config": {"base_url": "https://127.0.0.1:$TLS_PORT", "ca_cert_pem": "$PEM_JSON"}},
  "untrusted": {"keys": [], "network_config": {"base_url": "https://127.0.0.1:$TLS_PORT"}}}}
JSON
)
start_gw --config "$CFG"

req POST /v1/chat/completions '{"model":"trusted/m1","messages":[{"role":"user","content":"over tls"}]}'
[ "$STATUS" = 200 ] || fail "trusted: HTTP $STATUS: $BODY"
[ "$(content_of "$BODY")" = "echo: over tls" ] || fail "trusted: $BODY"
req POST /v1/chat/completions '{"model":"trusted/m1","stream":true,"messages":[{"role":"user","content":"a tls stream"}]}'
[ "$STATUS" = 200 ] && [ "$(stream_text "$BODY")" = "echo: a tls stream" ] || fail "trusted stream: $BODY"
req POST /v1/chat/completions '{"model":"anthropic/m1","messages":[{"role":"user","content":"tls anthropic"}]}'
[ "$STATUS" = 200 ] && [ "$(content_of "$BODY")" = "echo: tls anthropic" ] || fail "anthropic over tls: $BODY"
pass "HTTPS upstream trusted through ca_cert_pem (OpenAI-compatible, streamed, Anthropic)"

req POST /v1/chat/completions '{"model":"untrusted/m1","messages":[{"role":"user","content":"over tls"}]}'
expect_error 502 server_error "certificate"
contains "untrusted" "$BODY" || fail "the error does not name the provider: $BODY"
pass "without ca_cert_pem: 502 naming the certificate problem"
stop_gw || fail "gateway exit status $?"

CFG=$(write_config <<'JSON'
{"providers": {"x": {"keys": [], "network_config": {"base_url": "https://h", "ca_cert_pem": "hello"}}}}
JSON
)
"$GW_BIN" --config "$CFG" --listen 127.0.0.1:$(free_port) >"$TMP/out" 2>&1 &
pid=$!; PIDS+=("$pid"); rc=0; wait "$pid" || rc=$?
[ $rc = 2 ] && grep -qF "providers.x.network_config.ca_cert_pem" "$TMP/out" && grep -qF "BEGIN CERTIFICATE" "$TMP/out" \
  || fail "bad ca_cert_pem: exit $rc: $(cat "$TMP/out")"
pass "a ca_cert_pem that is not PEM refuses to start"
