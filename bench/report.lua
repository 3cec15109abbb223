-- Shared wrk reporting: counts non-2xx answers per thread and prints one machine-readable line
-- at the end, which bench/run.sh parses. Used directly for the GET routes (wrk -s report.lua)
-- and pulled in by post_checkout.lua for the POST route.
--
-- wrk's own "Non-2xx or 3xx responses" only counts statuses >= 400; this counts every
-- status outside 200..299, as the table promises.

local threads = {}

-- Runs in the main Lua state, once per thread, before the run.
function setup(thread)
  table.insert(threads, thread)
end

-- Per thread.
non2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

-- Runs in the main Lua state after the run. Latencies are in microseconds.
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f "
      .. "non2xx=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    bad, e.connect, e.read, e.write, e.timeout))
end
