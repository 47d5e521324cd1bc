#!/usr/bin/env bash
# make_certs.sh DIR - a throwaway CA (DIR/ca.crt) and a server certificate for
# 127.0.0.1 signed by it (DIR/srv.crt, DIR/srv.key), valid one day. Used by
# the client and ca_cert_pem tests; quiet unless openssl fails.
set -eu
cd "$1"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -days 1 -subj /CN=SluiceClientTestCA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout srv.key -out srv.csr -subj /CN=127.0.0.1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >srv.ext
  openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out srv.crt -days 1 -extfile srv.ext
} >make_certs.log 2>&1 || { cat make_certs.log >&2; exit 1; }
