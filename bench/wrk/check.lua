-- wrk script for bench/run.sh: sends one request body, checks every answer,
-- prints one JSON line of results.
--
-- Environment:
--   BENCH_BODY    file holding the request body (POST)
--   BENCH_CTYPE   its Content-Type
--   BENCH_EXPECT  file holding the exact expected response body, or
--   BENCH_NEEDLE  a text every response body must contain (when bodies vary)
--
-- An answer counts as wrong when its status is not 200 or its body is not the
-- expected one. wrk runs this file once per thread; done() sums the threads.

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY"))
wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE")
local expect_path = os.getenv("BENCH_EXPECT")
local expect = expect_path and expect_path ~= "" and slurp(expect_path) or nil
local needle = os.getenv("BENCH_NEEDLE")
if needle == "" then needle = nil end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok, wrong, checked = 0, 0, 0
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    not_ok = not_ok + 1
  elseif expect and body ~= expect then
    wrong = wrong + 1
  elseif needle and not string.find(body, needle, 1, true) then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local not_ok_sum, wrong_sum, checked_sum = 0, 0, 0
  for _, t in ipairs(threads) do
    not_ok_sum = not_ok_sum + t:get("not_ok")
    wrong_sum = wrong_sum + t:get("wrong")
    checked_sum = checked_sum + t:get("checked")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"checked":%d,"not_200":%d,"wrong_body":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, checked_sum, not_ok_sum, wrong_sum,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
