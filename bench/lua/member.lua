-- member.lua (wrk): a member books a regular class with a credit, then
-- cancels it (before the cutoff: the credit comes back), over and over,
-- each user with at most one booking at a time, as holds.lua pairs a hold
-- and its release.  Users come from BENCH_TOKENS ("UID TOKEN" lines,
-- bench/mktokens), split between the wrk threads (BENCH_THREADS); each
-- booking goes to a random class in [BENCH_SCHED_LO, BENCH_SCHED_HI].  The
-- user rides in X-Request-Id ("b<uid>" for a booking, "c<uid>" for a
-- cancel), which nginx and gymd echo back.

local threads, nthreads = {}, 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

local tok, free, can = {}, {}, {}
local lo, hi
books, cancels, book_fail, cancel_fail, starved, s5xx = 0, 0, 0, 0, 0, 0

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
	local c = table.remove(can)
	if c ~= nil then
		return wrk.format("DELETE", "/api/v1/bookings/" .. c[2],
			{ ["Authorization"] = tok[c[1]], ["X-Request-Id"] = "c" .. c[1] })
	end
	local u = table.remove(free, 1)
	if u == nil then
		starved = starved + 1
		return wrk.format("GET", "/healthz")
	end
	return wrk.format("POST", "/api/v1/bookings",
		{ ["Authorization"] = tok[u], ["Content-Type"] = "application/json",
		  ["X-Request-Id"] = "b" .. u },
		'{"course_schedule_id":' .. math.random(lo, hi) .. ',"pay_with":"credits"}')
end

function response(status, headers, body)
	local id = headers["X-Request-Id"]
	if status >= 500 then s5xx = s5xx + 1 end
	if id == nil then return end
	local kind, u = id:sub(1, 1), tonumber(id:sub(2))
	if kind == "b" then
		local bid = status == 201 and body:match('"booking_id":(%d+)')
		if bid then
			books = books + 1
			table.insert(can, { u, bid })
		else
			book_fail = book_fail + 1
			table.insert(free, u)
		end
	elseif kind == "c" then
		if status == 200 then cancels = cancels + 1 else cancel_fail = cancel_fail + 1 end
		table.insert(free, u)
	end
end

function done(summary, latency, requests)
	local t = { books = 0, cancels = 0, book_fail = 0, cancel_fail = 0, starved = 0, s5xx = 0 }
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
	end
	local e = summary.errors
	io.write(string.format("BENCH seconds=%.3f requests=%d books=%d cancels=%d book_fail=%d " ..
		"cancel_fail=%d starved=%d s5xx=%d sock_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
		summary.duration / 1e6, summary.requests, t.books, t.cancels, t.book_fail,
		t.cancel_fail, t.starved, t.s5xx, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
