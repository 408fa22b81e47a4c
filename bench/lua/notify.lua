-- notify.lua (wrk): payment notifications from BENCH_NOTIFY, POSTed to the
-- channel's notify URL.  WeChat (default): lines "TS<tab>NONCE<tab>SIGNATURE
-- <tab>BODY" (bench/mknotify), answered 204.  Alipay (BENCH_CHANNEL=alipay):
-- one trade_status_sync form body a line (bench/mknotify -a), answered 200
-- "success".  Fresh (BENCH_REPEAT unset): each line once, split between the
-- threads (BENCH_THREADS); a thread stops when all its lines are answered,
-- and leaves a file named after it in BENCH_DONE_DIR.  Duplicate
-- (BENCH_REPEAT=1): the first line, over and over.

local threads, nthreads = {}, 0

-- wrk's own duration runs to -d even when every thread stopped early, so
-- fresh runs time themselves: first request to last answer (monotonic clock)
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *ts);
]]
local tsbuf = ffi.new("bench_timespec")
local function now()
	ffi.C.clock_gettime(1, tsbuf)
	return tonumber(tsbuf.tv_sec) + tonumber(tsbuf.tv_nsec) / 1e9
end

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

local reqs, nreq, sent, answered, repeat_one = {}, 0, 0, 0, false
local alipay = os.getenv("BENCH_CHANNEL") == "alipay"
ok, failed, extra, t_first, t_last = 0, 0, 0, 0, 0

local function build(line)
	if alipay then
		return wrk.format("POST", "/api/v1/payment/alipay/notify", {
			["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8" }, line)
	end
	local ts, nonce, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
	return wrk.format("POST", "/api/v1/payment/wxpay/callback", {
		["Content-Type"] = "application/json",
		["Wechatpay-Timestamp"] = ts,
		["Wechatpay-Nonce"] = nonce,
		["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A7232F4DC7C",
		["Wechatpay-Signature"] = sig,
		["Wechatpay-Signature-Type"] = "WECHATPAY2-SHA256-RSA2048" }, body)
end

function init(args)
	local n, i = tonumber(os.getenv("BENCH_THREADS")), 0
	repeat_one = os.getenv("BENCH_REPEAT") == "1"
	for line in io.lines(os.getenv("BENCH_NOTIFY")) do
		if repeat_one then
			reqs[1] = build(line)
			break
		end
		if i % n == tid then table.insert(reqs, build(line)) end
		i = i + 1
	end
	nreq = #reqs
	-- wrk calls request() once in thread 0 to check the script, and never
	-- sends that one: do not let it use up a notification
	if tid == 0 then sent = -1 end
end

function request()
	if repeat_one then return reqs[1] end
	sent = sent + 1
	if sent < 1 then return reqs[1] end
	if sent == 1 then t_first = now() end
	if sent <= nreq then return reqs[sent] end
	extra = extra + 1
	return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
	-- an extra /healthz: 200 with its JSON (a notification's answer is 204,
	-- or Alipay's 200 "success")
	if not repeat_one and status == 200 and body ~= nil and body:sub(1, 1) == "{" then return end
	answered = answered + 1
	if (alipay and status == 200 and body == "success") or (not alipay and status == 204) then
		ok = ok + 1
	else
		failed = failed + 1
	end
	if not repeat_one and answered >= nreq then
		t_last = now()
		-- tell bench/lib.sh (wrk_run_until_done) that this thread is done
		local f = io.open(os.getenv("BENCH_DONE_DIR") .. "/" .. tid, "w")
		if f then f:close() end
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local t = { ok = 0, failed = 0, extra = 0 }
	local first, last, secs = math.huge, 0, summary.duration / 1e6
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
		if th:get("t_first") > 0 then first = math.min(first, th:get("t_first")) end
		last = math.max(last, th:get("t_last"))
	end
	-- fresh, and every thread done: first request to last answer
	if last > 0 and first < math.huge and t.ok + t.failed > 0 then
		local all = true
		for _, th in ipairs(threads) do
			if th:get("t_last") == 0 then all = false end
		end
		if all then secs = last - first end
	end
	local e = summary.errors
	io.write(string.format("BENCH seconds=%.3f requests=%d ok=%d failed=%d extra=%d " ..
		"sock_errors=%d p50_ms=%.2f p99_ms=%.2f\n", secs, summary.requests,
		t.ok, t.failed, t.extra, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
