-- holds.lua (wrk): hold a seat, then release it, over and over, each user
-- with at most one hold at a time.  Users come from BENCH_TOKENS ("UID
-- TOKEN" lines, bench/mktokens), split between the wrk threads
-- (BENCH_THREADS); each hold goes to a random class in
-- [BENCH_SCHED_LO, BENCH_SCHED_HI].  wrk does not say which connection an
-- answer came on, so the user rides in X-Request-Id ("h<uid>" for a hold,
-- "r<uid>" for a release), which nginx and gymd echo back.

local threads, nthreads = {}, 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

local tok, free, rel = {}, {}, {}
local lo, hi
holds, releases, hold_fail, release_fail, starved, s5xx = 0, 0, 0, 0, 0, 0

function init(args)
	local n = tonumber(os.getenv("BENCH_THREADS"))
	local i = 0
	lo = tonumber(os.getenv("BENCH_SCHED_LO"))
	hi = tonumber(os.getenv("BENCH_SCHED_HI"))
	for line in io.lines(os.getenv("BENCH_TOKENS")) do
		if i % n == tid then
			local uid, t = line:match("^(%d+) (%S+)$")
			uid = tonumber(uid)
			tok[uid] = "Bearer " .. t
			table.insert(free, uid)
		end
		i = i + 1
	end
	math.randomseed(os.time() + tid * 7919)
end

function request()
	local r = table.remove(rel)
	if r ~= nil then
		return wrk.format("DELETE", "/api/v1/bookings/seat-release?reservation_id=" .. r[2],
			{ ["Authorization"] = tok[r[1]], ["X-Request-Id"] = "r" .. r[1] })
	end
	local u = table.remove(free, 1)
	if u == nil then
		starved = starved + 1
		return wrk.format("GET", "/healthz")
	end
	return wrk.format("POST", "/api/v1/bookings/seat-reserve",
		{ ["Authorization"] = tok[u], ["Content-Type"] = "application/json",
		  ["X-Request-Id"] = "h" .. u },
		'{"course_schedule_id":' .. math.random(lo, hi) .. '}')
end

function response(status, headers, body)
	local id = headers["X-Request-Id"]
	if status >= 500 then s5xx = s5xx + 1 end
	if id == nil then return end
	local kind, u = id:sub(1, 1), tonumber(id:sub(2))
	if kind == "h" then
		local rid = (status == 201 or status == 200) and body:match('"reservation_id":(%d+)')
		if rid then
			holds = holds + 1
			table.insert(rel, { u, rid })
		else
			hold_fail = hold_fail + 1
			table.insert(free, u)
		end
	elseif kind == "r" then
		if status == 200 then releases = releases + 1 else release_fail = release_fail + 1 end
		table.insert(free, u)
	end
end

function done(summary, latency, requests)
	local t = { holds = 0, releases = 0, hold_fail = 0, release_fail = 0, starved = 0, s5xx = 0 }
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
	end
	local e = summary.errors
	io.write(string.format("BENCH seconds=%.3f requests=%d holds=%d releases=%d hold_fail=%d " ..
		"release_fail=%d starved=%d s5xx=%d sock_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
		summary.duration / 1e6, summary.requests, t.holds, t.releases, t.hold_fail,
		t.release_fail, t.starved, t.s5xx, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
