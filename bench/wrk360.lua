-- wrk script for the customer-360 load benchmark (docs/BENCHMARKS.md, issue 4).
-- Each request is GET /api/v1/customers/{key} for a key drawn at random from
-- the file named by RAPPORT_KEYS (one key per line), authorised by the API
-- token in RAPPORT_TOKEN.
--   RAPPORT_TOKEN=... RAPPORT_KEYS=keys.txt wrk -t2 -c64 -d30s --latency -s bench/wrk360.lua http://127.0.0.1:18090
local keys = {}

local function load_keys()
  local path = os.getenv("RAPPORT_KEYS") or "keys.txt"
  local file = assert(io.open(path, "r"), "cannot open key list " .. path)
  for line in file:lines() do
    if #line > 0 then keys[#keys + 1] = line end
  end
  file:close()
  assert(#keys > 0, "key list " .. path .. " is empty")
end

function init(args)
  load_keys()
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("RAPPORT_TOKEN"), "RAPPORT_TOKEN is not set")
end

function request()
  return wrk.format("GET", "/api/v1/customers/" .. keys[math.random(#keys)])
end
