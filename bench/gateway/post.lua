-- wrk script: POSTs the 2 KB chat request of bench/gateway/chat-2k.json with the
-- model from $BENCH_MODEL, and prints one machine-readable RESULT line at the end.
local f = assert(io.open(os.getenv("BENCH_BODY") or "bench/gateway/chat-2k.json", "rb"))
local body = f:read("*a"):gsub('"MODEL"', '"' .. (os.getenv("BENCH_MODEL") or "mock/any") .. '"')
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50=%.0f p99=%.0f p999=%.0f max=%.0f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    summary.requests, errors))
end
