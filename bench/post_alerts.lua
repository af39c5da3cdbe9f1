-- wrk script: POST /api/v2/alerts with BATCH alerts per request, every alert a label set
-- never sent before (8 labels, 2 annotations), as Prometheus would send them.
local batch = tonumber(os.getenv("BATCH") or "100")
local run_id = os.getenv("RUN_ID") or "0"
local thread_seq = 0
local counter = 0
-- `tid` is a global: thread:set() writes the thread's own copy before it starts. (A local
-- here would shadow it, and every thread would send the same label sets.)
tid = 0

function setup(thread)
  thread_seq = thread_seq + 1
  thread:set("tid", thread_seq)
end

local starts = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() - 60)
local ends = os.date("!%Y-%m-%dT%H:%M:%S.000Z", os.time() + 6 * 3600)
local services = {"ctp-frontend", "ctp-md", "risk-engine", "clearing", "oms", "quote-gw"}
local exchanges = {"SHFE", "DCE", "CZCE", "CFFEX", "INE", "GFEX"}

-- IP_INSTANCES=1: instance is an IPv4 address and port, as the enrichment tables key on
-- (10.0.0.0/8, the CMDB's hosts first); otherwise node-<thread>-<seq>:9100.
local ip_instances = os.getenv("IP_INSTANCES") == "1"

local template = '{"labels":{"alertname":"BenchAlert","instance":"%s:9100",' ..
  '"job":"node","service":"%s","exchange":"%s","env":"prod","severity":"warning",' ..
  '"run":"%s"},"annotations":{"summary":"Bench alert %d-%d","description":' ..
  '"Synthetic load for the side-by-side benchmark, thread %d sequence %d"},' ..
  '"startsAt":"' .. starts .. '","endsAt":"' .. ends .. '",' ..
  '"generatorURL":"http://prometheus-01:9090/graph?g0.expr=up"}'

local headers = {["Content-Type"] = "application/json"}

request = function()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    local s = (counter % 6) + 1
    local instance
    if ip_instances then
      local a = (counter * 7919 + tid * 104729) % 100000 * 37 + 11
      instance = string.format("10.%d.%d.%d", math.floor(a / 65536) % 256,
        math.floor(a / 256) % 256, a % 256)
    else
      instance = string.format("node-%d-%d", tid, counter)
    end
    parts[i] = string.format(template, instance, services[s], exchanges[s], run_id,
      tid, counter, tid, counter)
  end
  return wrk.format("POST", "/api/v2/alerts", headers, "[" .. table.concat(parts, ",") .. "]")
end
