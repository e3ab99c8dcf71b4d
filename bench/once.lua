-- wrk script: requests every path in the file given after `--` exactly once. Run with one
-- connection per thread (-c = -t), so each thread's requests and responses alternate and the
-- script times each one itself (clock_gettime through LuaJIT's ffi). Thread k takes lines
-- k, k+T, ...; when its last response is in, it writes its latencies (ms, one a line) and the
-- count of 4xx/5xx statuses to the file named by the third argument .. k, then asks for its first
-- path again (not timed) until bench/loadgen.py stops wrk once every thread is done. A thread
-- must not stop on its own: its half-open reconnection would hold a sync gunicorn worker until
-- that worker's timeout.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local now_ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_ts)  -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local paths = {}
local times = {}
local index = 0
local started = 0
local bad = 0
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("part", counter)
end

init = function(args)
  local n = 0
  local total = tonumber(args[2])
  out = args[3] .. part
  for line in io.lines(args[1]) do
    n = n + 1
    if (n - 1) % total == part - 1 then paths[#paths + 1] = line end
  end
end

local function finish()
  local file = io.open(out .. ".tmp", "w")
  file:write(string.format("%d\n", bad))
  for _, t in ipairs(times) do file:write(string.format("%.4f\n", t)) end
  file:close()
  os.rename(out .. ".tmp", out)
end

request = function()
  index = index + 1
  started = now_ms()
  return wrk.format("GET", paths[index <= #paths and index or 1])
end

response = function(status, headers, body)
  if #times < #paths then
    times[#times + 1] = now_ms() - started
    if status >= 400 then bad = bad + 1 end
    if #times == #paths then finish() end
  end
end
