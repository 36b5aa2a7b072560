-- wrk script: POST a JSON body and report exact figures as one JSON line.
--
-- Why: wrk's text output rounds and cannot tell a 409 (all slots busy) from
-- other failures, and both matter when comparing servers.  The body comes
-- from the BENCH_BODY environment variable so one script serves every
-- workload.  done() prints a line starting with "BENCH_JSON " that
-- benchmarks/loadgen.py parses; latencies are in microseconds.

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"input":{}}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  status_409 = 0
  status_other = 0
end

function response(status, headers, body)
  if status == 409 then
    status_409 = status_409 + 1
  elseif status < 200 or status > 299 then
    status_other = status_other + 1
  end
end

function done(summary, latency, requests)
  local c409, other = 0, 0
  for _, thread in ipairs(threads) do
    c409 = c409 + thread:get("status_409")
    other = other + thread:get("status_other")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"status_409":%d,"status_other":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_max_us":%d,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d}\n',
    summary.duration, summary.requests, summary.bytes, c409, other,
    e.connect, e.read, e.write, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99)))
end
