-- wrk script: 16 pipelined copies of the 2 KB chat request per write (mock throughput check):
--   wrk -t2 -c64 -d5s -s tests/mockllm/pipeline.lua http://127.0.0.1:PORT/
local f = assert(io.open("bench/gateway/chat-2k.json", "rb"))
local body = f:read("*a"):gsub('"MODEL"', '"gpt-4o-mini"')
f:close()
local reqs = {}
for i = 1, 16 do reqs[i] = wrk.format("POST", "/v1/chat/completions", {["Content-Type"]="application/json"}, body) end
local pipelined = table.concat(reqs)
function request() return pipelined end
