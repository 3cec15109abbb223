-- wrk script for the POST routes (the URL is given on wrk's command line). bench/run.sh passes
-- the API key and the JSON body through the environment:
--   KASSE_BENCH_API_KEY     the demo merchant's key (from `kasse seed-demo --json`)
--   KASSE_BENCH_BODY        the request body
--   KASSE_BENCH_IDEMPOTENT  "1": every request carries its own fresh `Idempotency-Key`, as a
--                           careful merchant sends (a new key per new request)
-- A checkout POST creates a new session row, so the store grows during the run.

local key = os.getenv("KASSE_BENCH_API_KEY")
local body = os.getenv("KASSE_BENCH_BODY")
if not key or not body then
  error("set KASSE_BENCH_API_KEY and KASSE_BENCH_BODY")
end
local idempotent = os.getenv("KASSE_BENCH_IDEMPOTENT") == "1"

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

-- Per thread: a prefix no other thread or run shares, and a counter.
local prefix = string.format("bench-%d-%s", os.time(), tostring({}):match("0x(%x+)") or "0")
local sent = 0

function request()
  if idempotent then
    sent = sent + 1
    wrk.headers["Idempotency-Key"] = prefix .. "-" .. sent
  end
  return wrk.format()
end

-- The shared non-2xx counting and the BENCH summary line, from the file beside this one.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
