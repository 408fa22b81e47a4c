/*
 * api.js: the one door to the gym's API (docs/openapi.yaml).
 *
 *   request(method, path, body, key)  wx.request with the parent's bearer token; a 401
 *       signs in again (wx.login -> POST /auth/wx-login) and retries once; a network
 *       failure retries up to twice with the same Idempotency-Key.
 *   the calls of the trial flow, validate() of the registration form, and message()
 *       turning any failure into a short Chinese sentence (the server's own, as the demo
 *       page shows them).
 *   clientConfig() and consent(moment): the server's subscribe-message templates
 *       (GET /client-config, fetched once) and wx.requestSubscribeMessage for one
 *       moment (pay, booked, waitlist, buy); call consent() from the tap itself (WeChat
 *       refuses it otherwise), so load the config when the page loads.
 *   watchClass(id, onCount): a class's seats left, live (WebSocket push on
 *       /push/course-schedules/{id}), else read every classPollMs; returns stop().
 *   products(), buy(), me(), history(), memberBook(), memberCancel(): memberships and
 *       class packs bought like the trial, the parent's account and payment history,
 *       regular classes booked with the membership or a credit.
 *   pay(order, onStep): JSAPI pay_params -> wx.requestPayment; on fail or cancel the order
 *       is cancelled at once (the seat is free); on success the paid state is awaited from
 *       the server (WebSocket push on /push/orders/{id}, else polling), then the booking
 *       confirmed.  The client's callback alone is never trusted.
 *
 * `wx` is the mini program's global; tests give their own with setWx().
 */
'use strict';

var config = require('../config.js');

var API = '/api/v1';
var TOKEN_KEY = 'gym.token';
var NETWORK_RETRIES = 2;

/* eslint-disable-next-line no-undef */
var W = typeof wx !== 'undefined' ? wx : null;
var base = config.baseUrl;

function setWx(w, baseUrl) {
	W = w;
	if (baseUrl)
		base = baseUrl.replace(/\/+$/, '');
}

var ORDER_STATUS = {
	pending: '待支付', paid: '已支付', failed: '支付失败', cancelled: '已取消',
	expired: '已过期', refunding: '退款中', refunded: '已退款'
};

/* Messages for what has no server sentence (the demo page's wording). */
var CODE_MESSAGE = {
	NETWORK: '无法连接服务器，请检查网络后重试。',
	TRIAL_ALREADY_BOOKED: '您已预约过体验课，无法重复预约',
	SOLD_OUT: '该课程已满，请选择其他时间。',
	ACTIVE_HOLD_EXISTS: '您有一个未完成的订单，请先完成或取消当前订单。',
	PAY_CANCELLED: '已取消支付，名额已释放。',
	PAY_FAILED: '支付未成功，名额已释放，可以重新预约。',
	PAY_TIMEOUT: '暂未收到支付结果，请稍后在“我的”页面查看。',
	NO_ENTITLEMENT: '您还没有有效的会员或课时，请先购买。',
	NOT_AN_UPGRADE: '只能升级到更高级的会员。',
	PRODUCT_UNAVAILABLE: '该商品已下架，请选择其他商品。',
	ALREADY_CONFIRMED: '您已预约这节课。'
};

function ApiError(status, body) {
	this.status = status;
	this.code = (body && body.code) || ('HTTP_' + status);
	this.message = (body && body.message) || '';
	this.field = (body && body.field) || '';
	this.alternatives = (body && body.alternatives) || [];
}

function hasChinese(s) {
	return /[\u4e00-\u9fff]/.test(s || '');
}

/* A short Chinese sentence for an error, never a code. */
function message(err) {
	var m;
	if (!err)
		return '';
	if (err.code === 'TRIAL_ALREADY_BOOKED')
		return CODE_MESSAGE.TRIAL_ALREADY_BOOKED;
	if (hasChinese(err.message))
		m = err.message;
	else
		m = CODE_MESSAGE[err.code] || '出了点问题，请稍后再试。';
	if (err.code === 'SOLD_OUT' && err.alternatives && err.alternatives.length > 0)
		m += ' 还有名额的课程：' + err.alternatives.map(function (a) {
			return a.course_name + '（剩余 ' + a.available + '）';
		}).join('；') + '。';
	else if (err.code === 'ACTIVE_HOLD_EXISTS' && m.indexOf('当前订单') < 0)
		m += ' 请先完成或取消当前订单。';
	return m;
}

function rand(n) {
	var s = '', i;
	for (i = 0; i < n; i++)
		s += Math.floor(Math.random() * 16).toString(16);
	return s;
}

function newKey(prefix) {
	return prefix + '-' + Date.now().toString(16) + '-' + rand(12);
}

function token() {
	try {
		return W.getStorageSync(TOKEN_KEY) || '';
	} catch (e) {
		return '';
	}
}

function raw(method, path, body, key, tries) {
	return new Promise(function (resolve, reject) {
		var header = { Accept: 'application/json' };
		var t = token();
		if (t)
			header.Authorization = 'Bearer ' + t;
		if (key)
			header['Idempotency-Key'] = key;
		if (body !== undefined)
			header['Content-Type'] = 'application/json';
		W.request({
			url: base + API + path,
			method: method,
			header: header,
			data: body === undefined ? undefined : JSON.stringify(body),
			dataType: 'json',
			success: function (r) {
				var j = r.data;
				if (typeof j === 'string') {
					try {
						j = j ? JSON.parse(j) : null;
					} catch (e) {
						j = null;
					}
				}
				if (r.statusCode >= 200 && r.statusCode < 300)
					resolve(j);
				else
					reject(new ApiError(r.statusCode, j));
			},
			fail: function () {
				reject(new ApiError(0, { code: 'NETWORK' }));
			}
		});
	}).catch(function (err) {
		/* the same key again: the server replays or runs it once */
		if (err.status === 0 && (tries || 0) < NETWORK_RETRIES)
			return raw(method, path, body, key, (tries || 0) + 1);
		throw err;
	});
}

function login() {
	return new Promise(function (resolve, reject) {
		W.login({
			success: function (r) { resolve(r.code); },
			fail: function () { reject(new ApiError(0, { code: 'NETWORK', message: '微信登录失败，请稍后重试。' })); }
		});
	}).then(function (code) {
		W.removeStorageSync(TOKEN_KEY);
		return raw('POST', '/auth/wx-login', { code: code });
	}).then(function (r) {
		W.setStorageSync(TOKEN_KEY, r.token);
		return r;
	});
}

function request(method, path, body, key) {
	var first = token() ? Promise.resolve() : login();
	return first.then(function () {
		return raw(method, path, body, key);
	}).catch(function (err) {
		if (err.status !== 401)
			throw err;
		return login().then(function () {
			return raw(method, path, body, key);
		});
	});
}

/* ---- the registration form, checked as the server checks it ---------------------------- */

var REG_FIELDS = [
	{ name: 'child_name', msg: '请填写孩子姓名（最多 32 个字）。',
	    ok: function (v) { return v.length > 0 && v.length <= 32; } },
	{ name: 'child_birth_date', msg: '请选择孩子的出生日期。',
	    ok: function (v) { return /^\d{4}-\d{2}-\d{2}$/.test(v) && !isNaN(Date.parse(v)); } },
	{ name: 'parent_phone', msg: '请填写 11 位手机号。',
	    ok: function (v) { return /^1[3-9]\d{9}$/.test(v); } },
	{ name: 'note', msg: '备注最多 200 个字。',
	    ok: function (v) { return v.length <= 200; } }
];

/* validate(form) -> { ok, field, msg, body } */
function validate(form) {
	var body = {}, i, f, v;
	for (i = 0; i < REG_FIELDS.length; i++) {
		f = REG_FIELDS[i];
		v = String((form && form[f.name]) || '').trim();
		if (!f.ok(v))
			return { ok: false, field: f.name, msg: f.msg };
		if (v !== '')
			body[f.name] = v;
	}
	return { ok: true, body: body };
}

/* ---- the trial flow ---------------------------------------------------------------------- */

/* the classes of the next 90 days (the server's list, its items) */
function classes() {
	return request('GET', '/course-schedules').then(function (r) {
		return (r && r.items) || [];
	});
}

/* reserve and create the order; attempt keys the retry of the same press; with
 * heldId (a waitlist offer's hold) the order is made on that hold */
function book(scheduleId, reg, attempt, heldId) {
	var held = heldId ? Promise.resolve({ reservation_id: heldId }) :
	    request('POST', '/bookings/seat-reserve', { course_schedule_id: scheduleId },
	    'hold-' + scheduleId + '-' + attempt);
	return held.then(function (hold) {
		var body = { course_schedule_id: scheduleId, reservation_id: hold.reservation_id }, k;
		for (k in reg)
			body[k] = reg[k];
		return request('POST', '/payment/orders/create', body, 'order-' + scheduleId + '-' + attempt);
	});
}

function order(id) {
	return request('GET', '/payment/orders/' + encodeURIComponent(id));
}

function cancel(id) {
	return request('POST', '/payment/orders/' + encodeURIComponent(id) + '/cancel', {});
}

function confirm(id) {
	return request('POST', '/bookings/confirm', { order_id: id });
}

function requestPayment(params) {
	return new Promise(function (resolve) {
		var p = {
			timeStamp: params.timeStamp, nonceStr: params.nonceStr, package: params.package,
			signType: params.signType, paySign: params.paySign,
			success: function () { resolve({ ok: true }); },
			fail: function (r) {
				resolve({ ok: false, cancel: /cancel/.test((r && r.errMsg) || '') });
			}
		};
		W.requestPayment(p);
	});
}

function sleep(ms) {
	return new Promise(function (r) { setTimeout(r, ms); });
}

/* A push channel by WebSocket (path under /api/v1): onMsg(json) with each message of
 * the type that is newer than the last (its version), onEnd() once when the socket
 * closes or fails.  Returns close(), or null without a socket (the caller polls). */
function subscribe(path, type, onMsg, onEnd) {
	var version = 0, ended = false, task;
	if (!W.connectSocket ||
	    !(task = W.connectSocket({ url: base.replace(/^http/, 'ws') + API + path })))
		return null;
	function end() {
		if (!ended) {
			ended = true;
			onEnd();
		}
	}
	task.onMessage(function (m) {
		var j;
		try {
			j = JSON.parse(m.data);
		} catch (e) {
			return;
		}
		if (!j || j.type !== type || !(j.version > version))
			return;
		version = j.version;
		onMsg(j);
	});
	task.onClose(end);
	task.onError(end);
	return function close() {
		ended = true;
		try {
			task.close({});
		} catch (e) { /* already closed */ }
	};
}

/* The order's push channel by WebSocket; resolves with the first final status seen, or
 * null when the socket is missing or closes (the caller polls then). */
function watch(id, until) {
	return new Promise(function (resolve) {
		var done = false, close;
		function end(v) {
			if (done)
				return;
			done = true;
			if (close)
				close();
			resolve(v);
		}
		close = subscribe('/push/orders/' + encodeURIComponent(id) + '?access_token=' +
		    encodeURIComponent(token()), 'order', function (j) {
			if (j.order_id === id && j.status !== 'pending')
				end(j.status);
		}, function () { end(null); });
		if (!close) {
			end(null);
			return;
		}
		setTimeout(function () { end(null); }, Math.max(0, until - Date.now()));
	});
}

/* wait for the server's word on a paid order: push first, then polling */
function waitPaid(id) {
	var until = Date.now() + config.waitPaidMs;
	return watch(id, until).then(function poll(pushed) {
		/* the order's GET is always the truth */
		return order(id).then(function (o) {
			if (o.status !== 'pending' || Date.now() >= until)
				return o;
			return sleep(config.pollMs).then(function () { return poll(null); });
		});
	});
}

/*
 * pay(order, onStep) -> { status, order, booking, msg }
 * status is the server's (paid, cancelled, failed, ...) or 'pending' on timeout.
 */
function pay(o, onStep) {
	var step = onStep || function () {};
	var id = o.order_id;
	step('prepay');
	return request('POST', '/payment/wxpay/create', { order_id: id, trade_type: 'JSAPI' },
	    'jsapi-' + id).then(function (w) {
		step('requestPayment');
		return requestPayment(w.pay_params);
	}).then(function (r) {
		if (!r.ok) {
			step('cancel');
			/* free the seat at once; a failed order may be closed already: read it then */
			return cancel(id).catch(function () {
				return order(id);
			}).then(function (no) {
				return { status: no.status, order: no,
				    msg: r.cancel ? CODE_MESSAGE.PAY_CANCELLED : CODE_MESSAGE.PAY_FAILED };
			});
		}
		step('wait');
		return waitPaid(id).then(function (no) {
			if (no.status !== 'paid')
				return { status: no.status, order: no,
				    msg: no.status === 'pending' ? CODE_MESSAGE.PAY_TIMEOUT : CODE_MESSAGE.PAY_FAILED };
			if (!no.course_schedule_id)	/* a membership or pack: no seat to confirm */
				return { status: 'paid', order: no, booking: null, msg: '' };
			step('confirm');
			return confirm(id).then(function (b) {
				return { status: 'paid', order: no, booking: b, msg: '' };
			});
		});
	});
}

/* ---- subscribe-message consent ----------------------------------------------------- */

var clientCfg = null;

/* GET /client-config once; an unreachable server asks for nothing. */
function clientConfig() {
	if (clientCfg)
		return Promise.resolve(clientCfg);
	return raw('GET', '/client-config').then(function (c) {
		clientCfg = c || {};
		return clientCfg;
	}, function () {
		return {};
	});
}

/* Ask the parent's consent for the templates of one moment; resolves with the
 * ids accepted (a refusal or a failure resolves too: paying goes on). */
function consent(moment) {
	var t = clientCfg && clientCfg.subscribe_templates;
	var ids = (t && t[moment]) || [];
	if (ids.length === 0 || !W.requestSubscribeMessage)
		return Promise.resolve([]);
	return new Promise(function (resolve) {
		W.requestSubscribeMessage({
			tmplIds: ids,
			success: function (r) {
				resolve(ids.filter(function (id) { return r && r[id] === 'accept'; }));
			},
			fail: function () { resolve([]); }
		});
	});
}

/* ---- a class's seats, live ----------------------------------------------------------- */

function schedule(id) {
	return request('GET', '/course-schedules/' + encodeURIComponent(id));
}

/* onCount(available) with each newer count; push first, polling when the socket
 * is missing or drops.  Returns stop(). */
function watchClass(id, onCount) {
	var stopped = false, close = null, timer = null;
	function poll() {
		if (stopped)
			return;
		schedule(id).then(function (s) {
			if (!stopped && s && typeof s.available === 'number')
				onCount(s.available);
		}, function () { /* the next read may work */ }).then(function () {
			if (!stopped)
				timer = setTimeout(poll, config.classPollMs);
		});
	}
	function fallback() {
		if (!stopped && timer === null)
			poll();
	}
	close = subscribe('/push/course-schedules/' + encodeURIComponent(id), 'class', function (j) {
		if (j.course_schedule_id === id)
			onCount(j.available);
	}, fallback);
	if (!close)
		fallback();
	return function stop() {
		stopped = true;
		if (timer !== null)
			clearTimeout(timer);
		if (close)
			close();
	};
}

/* ---- waitlist ------------------------------------------------------------------------ */

function joinWaitlist(scheduleId, attempt) {
	return request('POST', '/bookings/waitlist', { course_schedule_id: scheduleId },
	    'wait-' + scheduleId + '-' + attempt);
}

function leaveWaitlist(scheduleId) {
	return request('DELETE', '/bookings/waitlist?course_schedule_id=' + encodeURIComponent(scheduleId));
}

/* ---- memberships, class packs and the parent's account -------------------------------- */

function products() {
	return request('GET', '/products').then(function (r) {
		return (r && r.products) || [];
	});
}

/* an order for a membership or class pack (upgrade: the current membership to this
 * dearer plan); attempt keys the retry of the same press */
function buy(productId, attempt, upgrade) {
	var body = { product_id: productId };
	if (upgrade)
		body.upgrade = true;
	return request('POST', '/payment/orders/create', body,
	    (upgrade ? 'upgrade-' : 'buy-') + productId + '-' + attempt);
}

function me() {
	return request('GET', '/me');
}

function history(page, size) {
	return request('GET', '/payments/history?page=' + page + '&size=' + size);
}

function memberBook(scheduleId, payWith, attempt) {
	return request('POST', '/bookings', { course_schedule_id: scheduleId, pay_with: payWith },
	    'member-' + scheduleId + '-' + attempt);
}

function memberCancel(bookingId) {
	return request('DELETE', '/bookings/' + encodeURIComponent(bookingId));
}

/* ---- display helpers -------------------------------------------------------------------- */

function pad(n) {
	return (n < 10 ? '0' : '') + n;
}

var WEEK = ['日', '一', '二', '三', '四', '五', '六'];
function fmtTime(s) {
	var d = new Date(s);
	if (!s || isNaN(d.getTime()))
		return s || '';
	return (d.getMonth() + 1) + '月' + d.getDate() + '日（周' + WEEK[d.getDay()] + '）' +
	    pad(d.getHours()) + ':' + pad(d.getMinutes());
}

function statusText(s) {
	return ORDER_STATUS[s] || s;
}

var CHANNEL = { wechat: '微信支付', alipay: '支付宝' };
function channelText(c) {
	return CHANNEL[c] || c;
}

var REFUND_STATUS = { pending: '退款中', processing: '退款中', abnormal: '退款处理中', success: '已退款',
	closed: '已关闭' };
function refundText(s) {
	return REFUND_STATUS[s] || s;
}

function yuan(fen) {
	return (fen / 100).toFixed(2);
}

function fmtDate(s) {
	var d = new Date(s);
	if (!s || isNaN(d.getTime()))
		return s || '';
	return d.getFullYear() + '年' + (d.getMonth() + 1) + '月' + d.getDate() + '日';
}

module.exports = {
	setWx: setWx, ApiError: ApiError, request: request, login: login, message: message,
	validate: validate, newKey: newKey, classes: classes, book: book, order: order,
	cancel: cancel, confirm: confirm, pay: pay, waitPaid: waitPaid, fmtTime: fmtTime,
	statusText: statusText, TOKEN_KEY: TOKEN_KEY, clientConfig: clientConfig, consent: consent,
	schedule: schedule, watchClass: watchClass, joinWaitlist: joinWaitlist,
	leaveWaitlist: leaveWaitlist, products: products, buy: buy, me: me, history: history,
	memberBook: memberBook, memberCancel: memberCancel, channelText: channelText,
	refundText: refundText, yuan: yuan, fmtDate: fmtDate
};
