-- wrk script for POST /v1/assign where every request is a new visitor (see
-- bench/http-assign.sh, SHAPES=new): the realistic load of a shop's first
-- page views, in which every request records a first exposure per running
-- experiment on the touchpoint. Ids are a per-thread counter, so no id
-- repeats within a run; the body is built per request (a few string
-- operations in Lua).
--
--   TOUCHPOINT=checkout_cta wrk -t1 -c64 -d20s --latency \
--     -s bench/assign-new.lua http://127.0.0.1:18080/v1/assign

local touchpoint = os.getenv("TOUCHPOINT") or "checkout_cta"
local run = os.getenv("RUN_ID") or tostring(os.time())
local devices = { "mobile", "desktop", "tablet" }
local countries = { "DE", "AT", "CH", "FR", "NL", "GB" }
local channels = { "seo", "email", "paid", "direct" }
local headers = { ["Content-Type"] = "application/json" }

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local prefix = ""
function init(args)
  prefix = string.format("new-%s-%d-", run, tid or 0)
end

function request()
  counter = counter + 1
  local i = counter
  return wrk.format("POST", nil, headers, string.format(
    '{"unit_id":"%s%d","touchpoint":"%s","attributes":{"device":"%s","country":"%s","channel":"%s","returning":false}}',
    prefix, i, touchpoint, devices[i % 3 + 1], countries[i % 6 + 1], channels[i % 4 + 1]))
end

dofile("bench/wrk-result.lua")
