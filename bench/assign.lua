-- wrk script for POST /v1/assign, or with FORMAT=ofrep for an OFREP
-- single-flag evaluation (see bench/http-assign.sh).
--
-- Every request is one visitor asking for its assignments on a touchpoint,
-- with the attributes a web shop sends. Visitors are drawn at random from a
-- pool of UNITS ids (default 20000), so most requests come from returning
-- visitors, as page views do; set UNITS very high to make every request a
-- first exposure. The requests are formatted once in init, so wrk spends no
-- time in Lua per request.
--
--   UNITS=20000 TOUCHPOINT=checkout_cta wrk -t1 -c64 -d20s --latency \
--     -s bench/assign.lua http://127.0.0.1:18080/v1/assign

local units = tonumber(os.getenv("UNITS") or "20000")
local touchpoint = os.getenv("TOUCHPOINT") or "checkout_cta"
-- Formatting costs memory; beyond this many distinct bodies, ids are drawn
-- from a larger range at request time instead.
local preformatted = math.min(units, 50000)

local devices = { "mobile", "desktop", "tablet" }
local countries = { "DE", "AT", "CH", "FR", "NL", "GB" }
local channels = { "seo", "email", "paid", "direct" }

local requests = {}

local function unit_id(i)
  -- UUID-shaped ids, the same in every wrk thread.
  return string.format("%08x-9b7d-4c11-8e0f-%012d", i * 2654435761 % 4294967296, i)
end

-- FORMAT=ofrep sends the same visitor as an OpenFeature (OFREP) evaluation
-- context instead, for POST /ofrep/v1/evaluate/flags/{key}.
local ofrep = os.getenv("FORMAT") == "ofrep"

-- ATTRS=realistic sends every visitor the attributes that the realistic
-- targeting conditions of bench/http-assign.sh's "targeted" shape match
-- (a mobile visitor from DE with an app version, a campaign and the
-- persona's attributes), so targeted and untargeted touchpoints answer the
-- same number of assignments.
local realistic = os.getenv("ATTRS") == "realistic"

local function body(i)
  local device, country, channel = devices[i % #devices + 1], countries[i % #countries + 1], channels[i % #channels + 1]
  local returning = (i % 3 == 0) and "true" or "false"
  local extra = ""
  if realistic then
    device, country = "mobile", "DE"
    extra = ',"app_version":"4.10.1","utm_source":"newsletter-2026-11","returns_last_year":3,"segment":"size-unsure"'
  end
  if ofrep then
    return string.format(
      '{"context":{"targetingKey":"%s","device":"%s","country":"%s","channel":"%s","returning":%s%s}}',
      unit_id(i), device, country, channel, returning, extra)
  end
  return string.format(
    '{"unit_id":"%s","touchpoint":"%s","attributes":{"device":"%s","country":"%s","channel":"%s","returning":%s%s}}',
    unit_id(i), touchpoint, device, country, channel, returning, extra)
end

local headers = { ["Content-Type"] = "application/json" }

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  for i = 1, preformatted do
    requests[i] = wrk.format("POST", nil, headers, body(i))
  end
  -- A different sequence per thread.
  math.randomseed(os.time() * 100 + (tid or 0))
end

function request()
  if units > preformatted then
    return wrk.format("POST", nil, headers, body(math.random(units)))
  end
  return requests[math.random(preformatted)]
end

dofile("bench/wrk-result.lua")
