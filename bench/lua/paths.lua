-- paths.lua (wrk): GET BENCH_PATH, where a "%d" in it becomes a random
-- number in [BENCH_LO, BENCH_HI] (GET /api/v1/course-schedules/%d), or
-- the path as it is (the trivial FastCGI responder).  Both go through the
-- same request() so wrk spends the same per request on either.

local path, lo, hi

function init(args)
	path = os.getenv("BENCH_PATH")
	lo = tonumber(os.getenv("BENCH_LO") or "0")
	hi = tonumber(os.getenv("BENCH_HI") or "0")
	math.randomseed(os.time())
end

function request()
	return wrk.format("GET", path:format(math.random(lo, hi)))
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH seconds=%.3f requests=%d non2xx=%d sock_errors=%d " ..
		"p50_ms=%.2f p99_ms=%.2f\n", summary.duration / 1e6, summary.requests, e.status,
		e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
