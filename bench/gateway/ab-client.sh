#!/usr/bin/env bash
# Interleaved A/B for docs/performance.md: sluice with network_config.http_client curl
# vs native vs nginx (keep-alive proxy_pass), one mock, wrk -c64 5 s x 3 rounds.
set -u
cd "$(dirname "$0")/../.."
B=${1:-build}; T=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf $T' EXIT
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MP=$(fp)
$B/sluice-mockllm --listen 127.0.0.1:$MP >$T/mock.log 2>&1 & pids+=($!)
declare -A PORT
for c in curl native; do
  P=$(fp); PORT[$c]=$P
  cat >$T/$c.json <<JSON
{"providers": {"openai": {"keys": [{"value": "sk-bench", "models": ["*"], "weight": 1.0}],
  "network_config": {"base_url": "http://127.0.0.1:$MP", "http_client": "$c"}}}}
JSON
  $B/sluice --config $T/$c.json --listen 127.0.0.1:$P >$T/$c.log 2>&1 & pids+=($!)
done
NP=$(fp); PORT[nginx]=$NP; mkdir -p $T/ng/logs; chmod 755 $T
U=""; [ "$(id -u)" = 0 ] && U="user root;"
cat >$T/ng/nginx.conf <<CONF
$U
daemon off; worker_processes auto; pid $T/ng/nginx.pid; error_log $T/ng/logs/error.log warn;
events { worker_connections 32768; }
http { access_log off; client_body_temp_path $T/ng/cb; proxy_temp_path $T/ng/px; fastcgi_temp_path $T/ng/fc; uwsgi_temp_path $T/ng/uw; scgi_temp_path $T/ng/sc;
  upstream mock { server 127.0.0.1:$MP; keepalive 256; }
  server { listen 127.0.0.1:$NP reuseport; location / { proxy_pass http://mock; proxy_http_version 1.1;
    proxy_set_header Connection ""; proxy_buffering off; } } }
CONF
nginx -p $T/ng -c $T/ng/nginx.conf -e $T/ng/logs/error.log >$T/ng.log 2>&1 & pids+=($!)
sleep 0.5
for c in curl native; do for _ in $(seq 100); do curl -s -o /dev/null -m1 http://127.0.0.1:${PORT[$c]}/health && break; sleep 0.1; done; done
export BENCH_MODEL=openai/gpt-4o-mini
for round in 1 2 3; do for c in curl native nginx; do
  wrk -t2 -c64 -d5s --timeout 5s -s bench/gateway/post.lua http://127.0.0.1:${PORT[$c]}/v1/chat/completions 2>&1 | grep RESULT | sed "s/^/$c round$round /"
done; done
