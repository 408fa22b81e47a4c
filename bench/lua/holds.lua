-- holds.lua (wrk): take a seat, then give it back, over and over, each user
-- with at most one at a time.  BENCH_PAIR says how:
--   hold    (default) a trial hold, then its release (scenario 1);
--   member  a member booking of a regular class with a credit, then its
--           cancel before the cutoff, the credit coming back (scenario 10).
-- Users come from BENCH_TOKENS ("UID TOKEN" lines, bench/mktokens), split
-- between the wrk threads (BENCH_THREADS); each one goes to a random class
-- in [BENCH_SCHED_LO, BENCH_SCHED_HI].  wrk does not say which connection an
-- answer came on, so the user rides in X-Request-Id ("t<uid>" to take,
-- "g<uid>" to give back), which nginx and gymd echo back.  The summary line
-- names the counts as the scenario reads them (holds/releases or
-- books/cancels).

local PAIRS = {
	hold = {
		take = "holds", give = "releases", path = "/api/v1/bookings/seat-reserve",
		body = "}", id = '"reservation_id":(%d+)', ok = { [200] = true, [201] = true },
		undo = function(id) return "/api/v1/bookings/seat-release?reservation_id=" .. id end,
	},
	member = {
		take = "books", give = "cancels", path = "/api/v1/bookings",
		body = ',"pay_with":"credits"}', id = '"booking_id":(%d+)', ok = { [201] = true },
		undo = function(id) return "/api/v1/bookings/" .. id end,
	},
}
local P = PAIRS[os.getenv("BENCH_PAIR") or "hold"]

local threads, nthreads = {}, 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

local tok, free, back = {}, {}, {}
local lo, hi
taken, given, take_fail, give_fail, starved, s5xx = 0, 0, 0, 0, 0, 0

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
	local r = table.remove(back)
	if r ~= nil then
		return wrk.format("DELETE", P.undo(r[2]),
			{ ["Authorization"] = tok[r[1]], ["X-Request-Id"] = "g" .. r[1] })
	end
	local u = table.remove(free, 1)
	if u == nil then
		starved = starved + 1
		return wrk.format("GET", "/healthz")
	end
	return wrk.format("POST", P.path,
		{ ["Authorization"] = tok[u], ["Content-Type"] = "application/json",
		  ["X-Request-Id"] = "t" .. u },
		'{"course_schedule_id":' .. math.random(lo, hi) .. P.body)
end

function response(status, headers, body)
	local id = headers["X-Request-Id"]
	if status >= 500 then s5xx = s5xx + 1 end
	if id == nil then return end
	local kind, u = id:sub(1, 1), tonumber(id:sub(2))
	if kind == "t" then
		local got = P.ok[status] and body:match(P.id)
		if got then
			taken = taken + 1
			table.insert(back, { u, got })
		else
			take_fail = take_fail + 1
			table.insert(free, u)
		end
	elseif kind == "g" then
		if status == 200 then given = given + 1 else give_fail = give_fail + 1 end
		table.insert(free, u)
	end
end

function done(summary, latency, requests)
	local t = { taken = 0, given = 0, take_fail = 0, give_fail = 0, starved = 0, s5xx = 0 }
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
	end
	local e = summary.errors
	io.write(string.format("BENCH seconds=%.3f requests=%d %s=%d %s=%d %s_fail=%d " ..
		"%s_fail=%d starved=%d s5xx=%d sock_errors=%d p50_ms=%.2f p99_ms=%.2f\n",
		summary.duration / 1e6, summary.requests, P.take, t.taken, P.give, t.given,
		P.take:sub(1, -2), t.take_fail, P.give:sub(1, -2), t.give_fail, t.starved, t.s5xx,
		e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
