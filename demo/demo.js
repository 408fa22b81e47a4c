/*
 * Demo checkout: the mini program's booking flow in a browser page, for `make run`.
 *
 *   1. sign in as a demo parent: POST /auth/wx-login {"code":"demo-<random>"} (the
 *      simulator accepts any demo- code and makes a new openid for it)
 *   2. list the classes (GET /course-schedules)
 *   3. take a seat (POST /bookings/seat-reserve), create the order
 *      (POST /payment/orders/create), get a Native-pay code
 *      (POST /payment/wxpay/create {"trade_type":"NATIVE"}) and show its QR image
 *      (GET qrcode_url with the bearer token)
 *   4. read GET /payment/orders/{id} once, then follow it live: an EventSource on
 *      /push/orders/{id} (nginx's Nchan; the token as access_token, since an
 *      EventSource sets no headers) brings pending -> paid (-> refunded) as it
 *      happens.  Without EventSource, or when the push is gone for good, poll the
 *      order every second instead.
 *
 *   5. outside WeChat (no MicroMessenger in the user agent) the order may be paid with
 *      Alipay instead: POST /payment/alipay/create {"trade_type":"PAGE", "return_url":
 *      this page} and the browser goes to its pay_url (Alipay's cashier, the Alipay
 *      simulator in `make run`), which comes back here; the order is then followed as
 *      in 4 (an order already paying with Alipay is not switched back to WeChat).
 *
 * The simulator's pay page is on the same host, one port above the API
 * (dev 8443 -> 8444, test 18443 -> 18444); ?sim=https://host:port overrides it.
 * The parent's token and the open order are kept in sessionStorage, so a reload
 * picks the order up again.
 */
'use strict';

(function () {
	var API = '/api/v1';
	var KEY = 'gym.demo.';
	var POLL_MS = 1000;
	var POLL_LIMIT_MS = 30 * 60 * 1000;

	var ORDER_STATUS = {
		pending: '待支付', paid: '已支付', failed: '支付失败', cancelled: '已取消',
		expired: '已过期', refunding: '退款中', refunded: '已退款'
	};
	var FINAL = { failed: 1, cancelled: 1, expired: 1, refunded: 1 };

	var $ = function (id) { return document.getElementById(id); };
	var state = { token: '', userId: '', order: null, poll: null, pollSince: 0, qrUrl: '', courses: {},
		live: null, version: 0 };

	/* ---- helpers -------------------------------------------------------------------- */

	function el(tag, attrs, children) {
		var e = document.createElement(tag), k;
		for (k in (attrs || {})) {
			if (attrs[k] === null || attrs[k] === undefined)
				continue;
			if (k === 'text')
				e.textContent = attrs[k];
			else if (k === 'className')
				e.className = attrs[k];
			else if (k.slice(0, 2) === 'on')
				e.addEventListener(k.slice(2), attrs[k]);
			else
				e.setAttribute(k, attrs[k]);
		}
		(children || []).forEach(function (c) {
			if (c !== null && c !== undefined)
				e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
		});
		return e;
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	function show(node, on) {
		node.hidden = !on;
	}

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

	function fmtClock(s) {
		var d = new Date(s);
		return isNaN(d.getTime()) ? '' : pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
	}

	function rand(n) {
		var b = new Uint8Array(n), s = '';
		window.crypto.getRandomValues(b);
		b.forEach(function (x) { s += (x < 16 ? '0' : '') + x.toString(16); });
		return s;
	}

	function save(name, v) {
		if (v === null || v === undefined || v === '')
			sessionStorage.removeItem(KEY + name);
		else
			sessionStorage.setItem(KEY + name, v);
	}

	function load(name) {
		return sessionStorage.getItem(KEY + name) || '';
	}

	function showError(msg) {
		$('error').textContent = msg || '';
		show($('error'), !!msg);
	}

	/* The simulator's pay page for an order. */
	function simPayUrl(orderId) {
		var base = new URLSearchParams(location.search).get('sim');
		if (!base) {
			var port = parseInt(location.port || (location.protocol === 'https:' ? '443' : '80'), 10);
			base = location.protocol + '//' + location.hostname + ':' + (port + 1);
		}
		return base.replace(/\/+$/, '') + '/sim/pay?out_trade_no=' + encodeURIComponent(orderId);
	}

	/* ---- the API -------------------------------------------------------------------- */

	function ApiError(status, body) {
		this.status = status;
		this.code = (body && body.code) || ('HTTP_' + status);
		this.message = (body && body.message) || ('请求失败（HTTP ' + status + '）');
		this.field = (body && body.field) || '';
		this.alternatives = (body && body.alternatives) || [];
	}
	/* what a parent reads: the server's sentence, never its code */
	ApiError.prototype.toString = function () {
		return this.message || '出了点问题，请稍后再试。';
	};

	/* request(method, path, body, key, raw) -> Promise of the JSON body (a Response when raw). */
	function request(method, path, body, key, raw) {
		var headers = { 'Accept': raw ? '*/*' : 'application/json' };
		if (state.token)
			headers.Authorization = 'Bearer ' + state.token;
		if (key)
			headers['Idempotency-Key'] = key;
		var init = { method: method, headers: headers, cache: 'no-store', credentials: 'omit' };
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		return fetch(path.charAt(0) === '/' && path.indexOf(API) === 0 ? path : API + path, init)
		    .then(function (r) {
			if (r.ok && raw)
				return r;
			return r.text().then(function (t) {
				var j = null;
				try {
					j = t ? JSON.parse(t) : null;
				} catch (e) {
					j = null;
				}
				if (!r.ok)
					throw new ApiError(r.status, j);
				return j;
			});
		}, function () {
			throw new ApiError(0, { code: 'NETWORK', message: '无法连接服务器' });
		});
	}

	/* The same, signing in again once when the token has lapsed. */
	function api(method, path, body, key, raw) {
		return request(method, path, body, key, raw).catch(function (err) {
			if (err.status !== 401)
				throw err;
			return login().then(function () {
				return request(method, path, body, key, raw);
			});
		});
	}

	/* ---- 1. sign in ------------------------------------------------------------------ */

	function login() {
		var code = 'demo-' + rand(8);
		state.token = '';
		return request('POST', '/auth/wx-login', { code: code }).then(function (r) {
			state.token = r.token;
			state.userId = String(r.user_id);
			save('token', r.token);
			save('user', state.userId);
			$('who-user').textContent = '家长 #' + state.userId;
		});
	}

	function ensureLogin() {
		state.token = load('token');
		state.userId = load('user');
		if (state.token) {
			$('who-user').textContent = '家长 #' + state.userId;
			return Promise.resolve();
		}
		return login();
	}

	function newParent() {
		stopPoll();
		save('order', '');
		state.order = null;
		state.cardError = null;
		show($('pay'), false);
		show($('booked'), false);
		showError('');
		return login().then(loadClasses).catch(function (err) {
			showError('登录失败：' + err);
		});
	}

	/* ---- 2. classes ------------------------------------------------------------------- */

	function loadClasses() {
		return api('GET', '/course-schedules').then(function (list) {
			/* the trial page: regular classes are booked by members in the mini program */
			var box = $('class-list'), items = ((list && list.items) || []).filter(function (s) {
				return s.kind !== 'regular';
			});
			clear(box);
			items.forEach(function (s) {
				state.courses[s.id] = s;
				var full = s.available <= 0;
				/* one open order at a time: pay or cancel it first; one trial per parent */
				var busy = !!state.order && state.order.status === 'pending';
				var done = !!state.order && state.order.status === 'paid';
				var said = state.cardError && state.cardError.id === s.id ? state.cardError.msg : '';
				box.appendChild(el('div', { className: 'class', 'data-schedule': String(s.id) }, [
					el('div', { className: 'name', text: s.course_name }),
					el('div', { className: 'when', text: fmtTime(s.starts_at) + ' – ' + fmtClock(s.ends_at).slice(0, 5) }),
					el('div', { className: 'seats' + (full ? ' full' : ''),
					    text: full ? '名额已满' : '剩余 ' + s.available + ' / ' + s.capacity + ' 个名额' }),
					el('div', { className: 'price', text: '¥' + s.price }),
					el('button', { type: 'button', className: 'book', 'data-schedule': String(s.id),
					    text: full ? '已满' : done ? '已预约体验课' : '预约',
					    disabled: full || busy || done ? 'disabled' : null,
					    title: busy ? '请先支付或取消当前订单' : done ? '您已预约过体验课，无法重复预约' : null,
					    onclick: function (ev) { book(s, ev.target); } }),
					/* what went wrong with this class's button, beside it */
					el('p', { className: 'error card-error', role: 'alert', text: said,
					    hidden: said ? null : 'hidden' })
				]));
			});
			show($('class-empty'), items.length === 0);
		}, function (err) {
			showError('读取课程失败：' + err);
		});
	}

	/* ---- 3. seat, order, QR code ------------------------------------------------------ */

	/* The registration form's fields, checked as the server checks them;
	 * null (with the field marked and a message shown) when one is wrong. */
	var REG_FIELDS = [
		{ id: 'reg-name', name: 'child_name', msg: '请填写孩子姓名（最多 32 个字）。',
		    ok: function (v) { return v.length > 0 && v.length <= 32; } },
		{ id: 'reg-birth', name: 'child_birth_date', msg: '请选择孩子的出生日期。',
		    ok: function (v) { return /^\d{4}-\d{2}-\d{2}$/.test(v); } },
		{ id: 'reg-phone', name: 'parent_phone', msg: '请填写 11 位手机号。',
		    ok: function (v) { return /^1[3-9]\d{9}$/.test(v); } },
		{ id: 'reg-note', name: 'note', msg: '备注最多 200 个字。',
		    ok: function (v) { return v.length <= 200; } }
	];

	function registration() {
		var out = {}, bad = null;
		REG_FIELDS.forEach(function (f) {
			var input = $(f.id), v = input.value.trim();
			var good = f.ok(v);
			input.setAttribute('aria-invalid', good ? 'false' : 'true');
			if (!good && bad === null)
				bad = f;
			if (v !== '')
				out[f.name] = v;
		});
		if (bad !== null) {
			showError(bad.msg);
			$(bad.id).focus();
			return null;
		}
		return out;
	}

	/* The server's 400 names the field: mark it. */
	function markField(err) {
		REG_FIELDS.forEach(function (f) {
			if (err && err.field === f.name)
				$(f.id).setAttribute('aria-invalid', 'true');
		});
	}

	function book(s, btn) {
		var reg = registration();
		if (reg === null)
			return;
		var buttons = document.querySelectorAll('button.book');
		Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
		showError('');
		state.cardError = null;
		btn.textContent = '占座中…';
		var attempt = rand(8);
		api('POST', '/bookings/seat-reserve', { course_schedule_id: s.id }, 'hold-' + s.id + '-' + attempt)
		    .then(function (hold) {
			btn.textContent = '下单中…';
			var body = { course_schedule_id: s.id, reservation_id: hold.reservation_id };
			Object.keys(reg).forEach(function (k) { body[k] = reg[k]; });
			return api('POST', '/payment/orders/create', body, 'order-' + s.id + '-' + attempt);
		}).then(function (order) {
			save('order', order.order_id);
			save('course', s.course_name + ' · ' + fmtTime(s.starts_at));
			return startPayment(order, attempt);
		}).catch(function (err) {
			var msg = String(err);
			if (err.code === 'SOLD_OUT' && err.alternatives.length > 0)
				msg += ' 还有名额的课程：' + err.alternatives.map(function (a) {
					return a.course_name + '（' + fmtTime(a.starts_at) + '，剩余 ' + a.available + '）';
				}).join('；') + '。';
			else if (err.code === 'TRIAL_ALREADY_BOOKED')
				msg += ' 点“换一个家长”再试一次。';
			else if (err.code === 'ACTIVE_HOLD_EXISTS')
				msg += ' 请先完成或取消当前订单。';
			markField(err);
			/* a refused field is told at the form; the rest beside the button */
			if (err.field)
				showError(msg);
			else
				state.cardError = { id: s.id, msg: msg };
		}).then(function () {
			loadClasses();
		});
	}

	/* Inside WeChat only WeChat Pay; in any other browser Alipay too. */
	function alipayOffered() {
		return !/MicroMessenger/i.test(navigator.userAgent || '');
	}

	function payWithAlipay() {
		var o = state.order;
		if (!o)
			return;
		$('pay-alipay').disabled = true;
		api('POST', '/payment/alipay/create', { order_id: o.order_id, trade_type: 'PAGE',
		    return_url: location.origin + location.pathname },
		    'alipay-page-' + o.order_id + '-' + rand(8)).then(function (r) {
			stopPoll();
			location.href = r.pay_url;
		}, function (err) {
			showError('支付宝下单失败：' + err);
			$('pay-alipay').disabled = false;
		});
	}

	function startPayment(order, attempt) {
		renderOrder(order);
		show($('pay'), true);
		if (order.payment_method === 'alipay') {
			/* back from Alipay's cashier: follow the order, keep its channel */
			startPoll(order.order_id);
			return Promise.resolve();
		}
		return api('POST', '/payment/wxpay/create', { order_id: order.order_id, trade_type: 'NATIVE' },
		    'native-' + order.order_id + '-' + (attempt || rand(8))).then(function (native) {
			$('pay-qr').setAttribute('data-code-url', native.code_url || '');
			return api('GET', native.qrcode_url, undefined, undefined, true);
		}).then(function (r) {
			return r.blob();
		}).then(function (blob) {
			if (state.qrUrl)
				URL.revokeObjectURL(state.qrUrl);
			state.qrUrl = URL.createObjectURL(blob);
			$('pay-qr').src = state.qrUrl;
			startPoll(order.order_id);
		}).catch(function (err) {
			showError('获取支付二维码失败：' + err);
			startPoll(order.order_id);
		});
	}

	function renderOrder(o) {
		state.order = o;
		$('pay-course').textContent = load('course') || (state.courses[o.course_schedule_id] ?
		    state.courses[o.course_schedule_id].course_name : '课程 #' + o.course_schedule_id);
		$('pay-amount').textContent = '¥' + o.amount;
		$('pay-order').textContent = o.order_id;
		var st = $('pay-status');
		st.textContent = ORDER_STATUS[o.status] || o.status;
		st.className = 'badge st-' + o.status;
		st.setAttribute('data-status', o.status);
		$('pay-sim').href = simPayUrl(o.order_id);
		$('pay-deadline').textContent = o.status === 'pending' ? '请在 ' + fmtClock(o.expires_at) + ' 前完成支付，超时名额将自动释放。' : '';
		show($('pay-sim'), o.status === 'pending');
		show($('pay-cancel'), o.status === 'pending');
		show($('pay-alipay-row'), o.status === 'pending' && alipayOffered());
		$('pay-qr').classList.toggle('used', o.status !== 'pending');
		if (o.status === 'paid' || o.status === 'refunding' || o.status === 'refunded')
			showBooked(o);
	}

	/* ---- 4. live status ---------------------------------------------------------------- */

	function stopPoll() {
		if (state.poll) {
			clearTimeout(state.poll);
			state.poll = null;
		}
		if (state.live) {
			state.live.close();
			state.live = null;
		}
		$('pay-status').removeAttribute('data-live');
	}

	/* Read the order once (the truth), then follow it by push; poll without it. */
	function startPoll(id) {
		stopPoll();
		state.pollSince = Date.now();
		state.version = 0;
		if (!window.EventSource) {
			tick(id);
			return;
		}
		api('GET', '/payment/orders/' + encodeURIComponent(id)).then(function (o) {
			if (!state.order || state.order.order_id !== id)
				return;
			renderOrder(o);
			if (!FINAL[o.status])
				follow(id);
		}, function (err) {
			if (err.status === 404)
				save('order', '');
			else
				tick(id);
		});
	}

	/* The order's push channel: each message carries the new status and a
	 * version (older ones are ignored).  The browser reconnects by itself,
	 * resuming with Last-Event-ID; only a closed channel falls back to polling. */
	function follow(id) {
		var es = new EventSource(API + '/push/orders/' + encodeURIComponent(id) +
		    '?access_token=' + encodeURIComponent(state.token));
		state.live = es;
		es.onopen = function () { $('pay-status').setAttribute('data-live', 'push'); };
		es.onmessage = function (ev) {
			var m, was, o;
			try { m = JSON.parse(ev.data); } catch (e) { return; }
			if (m.type !== 'order' || m.order_id !== id || !state.order ||
			    state.order.order_id !== id || m.version <= state.version)
				return;
			state.version = m.version;
			was = state.order.status;
			o = Object.assign({}, state.order, { status: m.status, paid_at: m.paid_at || state.order.paid_at });
			renderOrder(o);
			if (was !== o.status && (o.status === 'paid' || FINAL[o.status]))
				loadClasses();
			if (FINAL[o.status])
				stopPoll();
		};
		es.onerror = function () {
			if (es.readyState !== EventSource.CLOSED || state.live !== es)
				return;
			state.live = null;
			$('pay-status').setAttribute('data-live', 'poll');
			tick(id);
		};
	}

	function tick(id) {
		api('GET', '/payment/orders/' + encodeURIComponent(id)).then(function (o) {
			if (!state.order || state.order.order_id !== id)
				return;
			var was = state.order.status;
			renderOrder(o);
			if (was !== o.status && (o.status === 'paid' || FINAL[o.status]))
				loadClasses();
			if (!FINAL[o.status] && Date.now() - state.pollSince < POLL_LIMIT_MS)
				state.poll = setTimeout(function () { tick(id); },
				    o.status === 'pending' || o.status === 'refunding' ? POLL_MS : POLL_MS * 3);
		}, function (err) {
			if (err.status === 404) {
				save('order', '');
				return;
			}
			state.poll = setTimeout(function () { tick(id); }, POLL_MS * 3);
		});
	}

	var confirmed = {};
	function showBooked(o) {
		var f = $('booked-fields');
		show($('booked'), true);
		$('booked-title').textContent = o.status === 'refunded' ? '已退款，预约已取消。' :
		    o.status === 'refunding' ? '退款处理中…' : '已支付，预约成功！';
		$('booked').className = 'card done' + (o.status === 'paid' ? '' : ' refunded');
		var fill = function (b) {
			clear(f);
			var add = function (k, v) {
				if (v) {
					f.appendChild(el('dt', { text: k }));
					f.appendChild(el('dd', { text: v }));
				}
			};
			add('课程', $('pay-course').textContent);
			add('订单号', o.order_id);
			add('支付时间', o.paid_at ? fmtTime(o.paid_at) + ':' + fmtClock(o.paid_at).slice(6) : '');
			add('预约号', b ? String(b.booking_id) : o.booking_id ? String(o.booking_id) : '');
			add('预约状态', o.status === 'paid' ? '已确认' : o.status === 'refunded' ? '已取消' : '');
		};
		fill(confirmed[o.order_id]);
		if (o.status === 'paid' && !confirmed[o.order_id]) {
			/* What the mini program does after requestPayment:ok. */
			confirmed[o.order_id] = { booking_id: o.booking_id };
			api('POST', '/bookings/confirm', { order_id: o.order_id }).then(function (b) {
				confirmed[o.order_id] = b;
				fill(b);
			}, function () { /* the order's booking_id is shown already */ });
		}
	}

	function cancelOrder() {
		var o = state.order;
		if (!o)
			return;
		$('pay-cancel').disabled = true;
		api('POST', '/payment/orders/' + encodeURIComponent(o.order_id) + '/cancel', {}).then(function (no) {
			renderOrder(no);
			stopPoll();
			loadClasses();
		}, function (err) {
			showError('取消失败：' + err);
		}).then(function () {
			$('pay-cancel').disabled = false;
		});
	}

	/* ---- start --------------------------------------------------------------------------- */

	document.addEventListener('DOMContentLoaded', function () {
		$('api-base').textContent = location.origin + API;
		$('who-new').addEventListener('click', newParent);
		$('pay-cancel').addEventListener('click', cancelOrder);
		$('pay-alipay').addEventListener('click', payWithAlipay);
		ensureLogin().then(loadClasses).then(function () {
			var id = load('order');
			if (!id)
				return;
			return api('GET', '/payment/orders/' + encodeURIComponent(id)).then(function (o) {
				show($('pay'), true);
				if (o.status === 'pending')
					return startPayment(o);
				renderOrder(o);
				startPoll(o.order_id);
			}, function () {
				save('order', '');
			});
		}).catch(function (err) {
			showError('登录失败：' + err);
		});
	});
})();
