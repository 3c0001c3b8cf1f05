-- report.lua: the wrk script of bench/sandbox/run.sh. It sends the bearer token from $BENCH_TOKEN
-- (so the token never appears in a process list) and, when the run is over, prints one JSON line
-- with the request count, error counts and exact latency percentiles in microseconds from wrk's
-- own histogram. wrk counts an answer with a status of 400 or more as a status error; the measured
-- endpoints answer 200 or an error status, so status_errors is the non-2xx count.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
		'"min_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
		summary.requests, summary.duration, e.status,
		e.connect + e.read + e.write + e.timeout, latency.min, latency:percentile(50),
		latency:percentile(90), latency:percentile(99), latency.max))
end
