-- wrk script for POST /api/v1/companies/{company_id}/checkout (the URL is given on wrk's
-- command line). bench/run.sh passes the API key and the JSON body through the environment:
--   KASSE_BENCH_API_KEY   the demo merchant's key (from `kasse seed-demo --json`)
--   KASSE_BENCH_BODY      the request body
-- Every request creates a new checkout session row, so the store grows during the run.

local key = os.getenv("KASSE_BENCH_API_KEY")
local body = os.getenv("KASSE_BENCH_BODY")
if not key or not body then
  error("set KASSE_BENCH_API_KEY and KASSE_BENCH_BODY")
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key

-- The shared non-2xx counting and the BENCH summary line, from the file beside this one.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
