-- wrk script for scripts/bench_serve.py: POSTs the body in ROCK_BODY_FILE, counts the
-- answers that don't carry ROCK_EXPECTED, and stops each thread after
-- ROCK_RUNS_PER_THREAD answers, leaving a file in ROCK_DONE_DIR to say so.
local threads = {}
local made = 0

function setup(thread)
  made = made + 1
  thread:set("id", made)
  table.insert(threads, thread)
end

function init(args)
  local file = io.open(os.getenv("ROCK_BODY_FILE"), "r")
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  expected = os.getenv("ROCK_EXPECTED")
  limit = tonumber(os.getenv("ROCK_RUNS_PER_THREAD"))
  answers = 0
  errors = 0
  stopped = false
end

function response(status, headers, body)
  if stopped then
    return
  end
  answers = answers + 1
  if status ~= 200 or not string.find(body, expected, 1, true) then
    errors = errors + 1
  end
  if answers >= limit then
    stopped = true
    local done = io.open(os.getenv("ROCK_DONE_DIR") .. "/" .. id, "w")
    done:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total, bad = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("answers")
    bad = bad + thread:get("errors")
  end
  io.write(string.format("ROCK answers=%d errors=%d p50_us=%d p99_us=%d duration_us=%d\n",
    total, bad, latency:percentile(50), latency:percentile(99), summary.duration))
end
