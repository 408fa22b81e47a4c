/*
 * Operators' console.  One page, routed by the URL fragment:
 *   #/orders          orders, filtered by status, class and time, paged by cursor
 *   #/orders/ID       one order with its reservation, transactions, refunds and
 *                     audit trail, and the refund form
 *   #/audit           the audit log, filtered and paged
 *   #/classes         create a class, change a class's capacity
 * Staff sign in with a name and a password: the server keeps the session in an
 * HttpOnly cookie (so a new tab is signed in too) and every change carries the
 * session's CSRF token (X-CSRF-Token), which GET /admin/whoami gives back.  An
 * operator token (gymctl) still works: kept in sessionStorage (this tab only)
 * and sent as a bearer token.  Auditors see no refund or class-changing
 * controls.  Everything the server returns is put in the page with
 * textContent, never as HTML.  Other views register in GymConsole.views
 * (one file each, e.g. overview.js).
 *   #/recon           a day's bill reconciliation, every open discrepancy, resolve one
 *   #/reports         money per day, a chart of the net revenue, CSV export
 * The operator token is kept in sessionStorage (this tab only) and sent as a
 * bearer token to /api/v1/admin/... on the same origin.  Everything the server
 * returns is put in the page with textContent, never as HTML.
 */
'use strict';

(function () {
	var API = '/api/v1';
	var TOKEN_KEY = 'gym.console.token';
	var PAGE_SIZE = 20;
	var REFRESH_MS = 2000;		/* while a refund is in flight and the feed is down */

	var ORDER_STATUS = {
		pending: '待支付', paid: '已支付', failed: '支付失败', cancelled: '已取消',
		expired: '已过期', refunding: '退款中', refunded: '已退款'
	};
	var RESERVATION_STATUS = {
		temporary: '占座中', confirmed: '已确认', cancelled: '已取消', expired: '已过期'
	};
	var REFUND_STATUS = {
		pending: '待提交', processing: '处理中', success: '退款成功', closed: '退款关闭', abnormal: '退款异常'
	};
	var BOOKING_STATUS = { confirmed: '已确认', cancelled: '已取消' };
	var CLASS_KIND = { trial: '体验课', regular: '会员课' };
	var PAY_WITH = { membership: '会籍', credits: '课时' };
	var CHANNEL = { wechat: '微信支付', alipay: '支付宝' };
	var ATTENTION_REASON = { late_no_seat: '支付到账时已无名额', second_trial: '家长已有体验课，重复支付' };
	var OTHER_STATUS = {
		active: '有效', revoked: '已停用', sent: '已发送', queued: '待发送', failed: '发送失败',
		success: '成功', SUCCESS: '成功', PROCESSING: '处理中', CLOSED: '已关闭', ABNORMAL: '异常'
	};
	var ENTITY = {
		order: '订单', hold: '占座', booking: '预约', payment: '支付', refund: '退款',
		notification: '通知', schedule: '课程', operator: '运营人员'
	};
	var ACTOR = { user: '家长', operator: '运营', system: '系统', wechat: '微信' };
	var ACTION = {
		order_created: '创建订单', order_paid: '订单已支付', order_cancelled: '订单取消',
		order_expired: '订单过期', order_failed: '支付失败', order_failed_sold_out: '名额已满，支付失败',
		hold_created: '占座', hold_released: '释放占座', hold_expired: '占座过期',
		hold_confirmed: '占座确认', booking_confirmed: '预约成功', booking_cancelled: '预约取消',
		payment_received: '收到支付通知', payment_failed: '支付失败通知', payment_rejected: '支付通知被拒绝',
		prepay_created: '微信下单', amount_mismatch: '金额不符', auto_refund_required: '需自动退款',
		late_paid: '过期后支付', late_refunded: '过期支付已退款', duplicate_refunded: '重复支付已退款',
		refund_requested: '发起退款', refund_created: '发起退款', refund_succeeded: '退款成功',
		refund_success: '退款成功', refund_closed: '退款关闭', refund_abnormal: '退款异常',
		refund_failed: '退款失败', refund_processing: '微信受理退款', refund_error: '退款请求出错',
		refund_notification_rejected: '退款通知被拒绝', refund_notification_unknown: '未知退款通知',
		order_refunding: '退款中', order_refunded: '订单已退款',
		seat_freed: '名额释放', seat_released: '名额释放', notification_rejected: '通知被拒绝', schedule_created: '创建课程', capacity_changed: '修改名额',
		operator_added: '添加运营人员', operator_revoked: '停用运营人员',
		notification_sent: '通知已发送', notification_failed: '通知发送失败',
		/* issue 19: every action the server writes has a Chinese name */
		message_queued: '消息待发送', message_sent: '消息已发送', message_failed: '消息发送失败',
		registration_recorded: '登记报名信息', attempt_opened: '发起支付', attempt_paid: '支付完成',
		attempt_closed: '支付单关闭', attempt_superseded: '支付单被替换', attempt_failed: '支付单失败',
		hold_user_lapsed: '占座超时', order_user_lapsed: '订单超时', order_refund_closed: '退款关闭（订单）',
		schedule_changed: '修改课程', schedule_cancelled: '取消课程', class_cancelled: '课程取消',
		waitlist_joined: '加入候补', waitlist_left: '退出候补', waitlist_offered: '候补得到名额',
		waitlist_closed: '候补关闭', waitlist_queued: '候补排队',
		notify_rejected: '通知被拒绝', notify_unknown: '未知通知',
		operator_signed_in: '员工登录', operator_signed_out: '员工退出',
		operator_locked_out: '登录锁定', operator_password_set: '设置密码'
	};
	/* WeChat's words in the payment and refund tables */
	var TRADE_STATE = {
		SUCCESS: '支付成功', REFUND: '转入退款', NOTPAY: '未支付', CLOSED: '已关闭', REVOKED: '已撤销',
		USERPAYING: '用户支付中', PAYERROR: '支付失败', TRADE_SUCCESS: '支付成功', TRADE_FINISHED: '交易完成',
		TRADE_CLOSED: '交易关闭', WAIT_BUYER_PAY: '等待付款'
	};
	var TRADE_TYPE = { NATIVE: '扫码支付', JSAPI: '小程序支付', APP: 'App 支付', MWEB: 'H5 支付' };
	var TXN_OUTCOME = {
		paid: '已入账', late_paid: '过期后入账', late_refunded: '过期支付已退', duplicate_refunded: '重复支付已退'
	};
	var WX_REFUND_STATUS = { SUCCESS: '退款成功', PROCESSING: '退款处理中', CLOSED: '退款关闭', ABNORMAL: '退款异常' };
	/* What an operator does next when a refund did not go through. */
	var REFUND_ADVICE = {
		abnormal: '退款异常：家长的银行卡可能已注销或冻结。请登录微信支付商户平台，对该笔退款发起“异常退款”（退到商户余额或线下转账），处理后在此核对状态。',
		closed: '退款已关闭：微信未能完成退款（例如商户余额不足）。请确认商户平台余额充足后重新发起退款。'
	};

	var $ = function (id) { return document.getElementById(id); };

	/* Views in files of their own: views[name] = { load: function (args) }, shown
	 * at #/name with their <section id="view-name">. */
	var views = {};

	/* ---- small helpers ------------------------------------------------------------ */

	function el(tag, attrs, children) {
		var e = document.createElement(tag), k;
		attrs = attrs || {};
		for (k in attrs) {
			if (!Object.prototype.hasOwnProperty.call(attrs, k))
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

	/* "2024-05-01 10:00:00" in the browser's time zone; '' for nothing. */
	function fmtTime(s) {
		if (!s)
			return '';
		var d = new Date(s);
		if (isNaN(d.getTime()))
			return String(s);
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
		    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
	}

	/* A datetime-local value ("2024-05-01T10:00") as RFC 3339 with the local offset. */
	function localToRfc3339(v) {
		if (!v)
			return '';
		var d = new Date(v);
		if (isNaN(d.getTime()))
			return '';
		var off = -d.getTimezoneOffset(), sign = off >= 0 ? '+' : '-';
		off = Math.abs(off);
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
		    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
		    sign + pad(Math.floor(off / 60)) + ':' + pad(off % 60);
	}

	/* A Date as a datetime-local value. */
	function dateToLocal(d) {
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
		    pad(d.getHours()) + ':' + pad(d.getMinutes());
	}

	function yuan(fen, amount) {
		if (amount)
			return '¥' + amount;
		if (typeof fen === 'number')
			return '¥' + (fen / 100).toFixed(2);
		return '';
	}

	function label(map, v) {
		if (v === null || v === undefined || v === '')
			return '';
		return map[v] || String(v);
	}

	/* A random key for Idempotency-Key: one per "intent", reused on retries. */
	function newKey(prefix) {
		var b = new Uint8Array(16), s = '';
		window.crypto.getRandomValues(b);
		b.forEach(function (x) { s += (x < 16 ? '0' : '') + x.toString(16); });
		return prefix + '-' + s;
	}

	/* A message at the top: it goes after a while, when the view changes, or
	 * (with a topic) when unflash(topic) says the state it announced arrived. */
	var flashTimer = null, flashState = { view: '', topic: '' };
	function flash(msg, kind, topic) {
		var f = $('flash');
		f.textContent = msg;
		f.className = 'flash ' + (kind || 'ok');
		show(f, true);
		flashState = { view: location.hash, topic: topic || '' };
		if (flashTimer)
			clearTimeout(flashTimer);
		flashTimer = setTimeout(function () { show(f, false); }, kind === 'error' ? 10000 : topic ? 60000 : 5000);
	}

	function unflash(topic) {
		if (!topic || flashState.topic === topic)
			show($('flash'), false);
	}

	/* A list being read: one row that says so (the old rows go). */
	function loading(tbody, cols) {
		clear(tbody);
		tbody.appendChild(el('tr', { className: 'loading-row' }, [el('td', { colspan: String(cols),
		    className: 'loading', text: '加载中…' })]));
	}

	/* ---- the API -------------------------------------------------------------------- */

	function ApiError(status, body) {
		this.status = status;
		this.code = (body && body.code) || ('HTTP_' + status);
		this.message = (body && body.message) || ('请求失败（HTTP ' + status + '）');
		this.requestId = (body && body.request_id) || '';
		this.field = (body && body.field) || '';
	}
	ApiError.prototype.toString = function () {
		var s = this.message;
		if (this.field && s.indexOf(this.field) < 0)
			s += '：' + this.field;
		s += '（' + this.code + (this.requestId ? '，请求 ID ' + this.requestId : '') + '）';
		return s;
	};

	function token() {
		return sessionStorage.getItem(TOKEN_KEY) || '';
	}

	/* Who is signed in (GET /admin/whoami): null until known. */
	var auth = { me: null, csrf: '' };

	function isOperator() {
		return !!auth.me && auth.me.role === 'operator';
	}

	var ROLE = { operator: '运营', auditor: '审计' };

	function setMe(me) {
		auth.me = me;
		auth.csrf = (me && me.csrf_token) || auth.csrf;
		if (!me)
			auth.csrf = '';
		$('whoami').textContent = me ? me.name + ' · ' + label(ROLE, me.role) : '';
		if (me)
			document.body.setAttribute('data-role', me.role);
		else
			document.body.removeAttribute('data-role');
	}

	/*
	 * api(method, path, {query, body, key, token}) -> Promise of the parsed body.
	 * Rejects with an ApiError; a 401 also ends the session.
	 */
	function api(method, path, opts) {
		opts = opts || {};
		var url = API + path, q = [], k;
		if (opts.query) {
			for (k in opts.query) {
				if (opts.query[k] !== '' && opts.query[k] !== null && opts.query[k] !== undefined)
					q.push(encodeURIComponent(k) + '=' + encodeURIComponent(opts.query[k]));
			}
		}
		if (q.length)
			url += '?' + q.join('&');
		var headers = { 'Accept': 'application/json' };
		var tok = opts.token !== undefined ? opts.token : token();
		if (tok)
			headers.Authorization = 'Bearer ' + tok;
		else if (auth.csrf && method !== 'GET')
			headers['X-CSRF-Token'] = auth.csrf;
		if (opts.key)
			headers['Idempotency-Key'] = opts.key;
		/* the session cookie goes with every request to this origin */
		var init = { method: method, headers: headers, cache: 'no-store', credentials: 'same-origin' };
		if (opts.body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(opts.body);
		}
		return fetch(url, init).then(function (r) {
			return r.text().then(function (text) {
				var body = null;
				try {
					body = text ? JSON.parse(text) : null;
				} catch (e) {
					body = null;
				}
				if (r.ok)
					return body;
				var err = new ApiError(r.status, body);
				if (r.status === 401 && opts.token === undefined && !opts.quiet401)
					signOut('登录已失效，请重新登录。');
				throw err;
			});
		}, function () {
			throw new ApiError(0, { code: 'NETWORK', message: '无法连接服务器，请检查网络后重试' });
		});
	}

	/* ---- sign in ----------------------------------------------------------------------- */

	function signOut(msg) {
		sessionStorage.removeItem(TOKEN_KEY);
		setMe(null);
		stopRefresh();
		if (msg) {
			$('signin-error').textContent = msg;
			show($('signin-error'), true);
		}
		route();
	}

	/* Ask who is signed in (the cookie, or this tab's token); then route. */
	function whoami() {
		return api('GET', '/admin/whoami', { quiet401: true }).then(function (me) {
			setMe(me);
		}, function (err) {
			setMe(null);
			if (err.status === 401)
				sessionStorage.removeItem(TOKEN_KEY);
			else
				flash('无法确认登录状态：' + err, 'error');
		});
	}

	function signedIn(msg) {
		show($('signin-error'), false);
		if (!location.hash || location.hash === '#/' || location.hash === '#/signin')
			location.hash = '#/' + defaultView();
		else
			route();
		flash(msg);
	}

	function initSignin() {
		$('password-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var name = $('signin-name').value.trim(), pw = $('signin-password').value;
			var btn = $('password-submit');
			show($('signin-error'), false);
			if (!name || !pw)
				return;
			btn.disabled = true;
			api('POST', '/admin/session', { body: { name: name, password: pw }, token: '' })
			    .then(function (s) {
				$('signin-password').value = '';
				sessionStorage.removeItem(TOKEN_KEY);
				auth.csrf = s.csrf_token;
				setMe({ operator_id: s.operator.operator_id, name: s.operator.name,
				    role: s.operator.role, csrf_token: s.csrf_token });
				signedIn('已登录：' + s.operator.name);
			}, function (err) {
				$('signin-password').value = '';
				$('signin-error').textContent = err.status === 401 ? '用户名或密码不正确。' :
				    err.status === 429 ? '登录失败次数过多，账号已锁定 15 分钟；可请系统管理员重置密码。' :
				    String(err);
				show($('signin-error'), true);
			}).then(function () {
				btn.disabled = false;
			});
		});
		$('signin-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var tok = $('signin-token').value.trim(), btn = $('signin-submit');
			show($('signin-error'), false);
			if (!tok)
				return;
			btn.disabled = true;
			api('GET', '/admin/whoami', { token: tok }).then(function (me) {
				sessionStorage.setItem(TOKEN_KEY, tok);
				$('signin-token').value = '';
				setMe(me);
				signedIn('已登录：' + me.name);
			}, function (err) {
				$('signin-error').textContent = err.status === 401 ?
				    '令牌无效或已停用。' : String(err);
				show($('signin-error'), true);
			}).then(function () {
				btn.disabled = false;
			});
		});
		$('signout').addEventListener('click', function () {
			var done = function () { signOut(''); flash('已退出登录'); };
			if (token())
				return done();
			api('DELETE', '/admin/session', { quiet401: true }).then(done, done);
		});
	}

	/* ---- orders list -------------------------------------------------------------------- */

	var orders = { cursors: [''], page: 0, filter: {} };

	function ordersFilter() {
		return {
			q: $('orders-q').value.trim(),
			status: $('orders-status').value,
			course_schedule_id: $('orders-schedule').value,
			product_id: $('orders-product').value,
			from: localToRfc3339($('orders-from').value),
			to: localToRfc3339($('orders-to').value)
		};
	}

	function loadOrders(quiet) {
		var q = Object.assign({}, orders.filter, { limit: PAGE_SIZE });
		/* answers can come back out of order: only the latest request's counts */
		var seq = orders.seq = (orders.seq || 0) + 1;
		if (orders.cursors[orders.page])
			q.cursor = orders.cursors[orders.page];
		$('orders-body').setAttribute('aria-busy', 'true');
		if (!quiet) {
			loading($('orders-body'), 8);
			show($('orders-empty'), false);
		}
		/* "attention": the needs-attention queue, its own list */
		var path = q.status === 'attention' ? '/admin/attention' : '/admin/orders';
		if (q.status === 'attention')
			delete q.status;
		return api('GET', path, { query: q }).then(function (page) {
			if (seq !== orders.seq)
				return;
			var body = $('orders-body'), items = (page && page.items) || [];
			clear(body);
			items.forEach(function (o) {
				var tr = el('tr', { className: 'clickable', 'data-order': o.order_id,
				    onclick: function () { location.hash = '#/orders/' + encodeURIComponent(o.order_id); } }, [
					el('td', {}, [el('a', { href: '#/orders/' + encodeURIComponent(o.order_id),
					    className: 'mono', text: o.order_id })]),
					el('td', {}, [badge(o.status)]),
					el('td', { text: yuan(o.amount_fen, o.amount) }),
					el('td', { text: className(o) }),
					el('td', { text: o.child_name || '' }),
					el('td', { className: 'nowrap', text: o.parent_phone_masked || '' }),
					el('td', { text: fmtTime(o.created_at) }),
					el('td', { text: fmtTime(o.paid_at) })
				]);
				body.appendChild(tr);
			});
			show($('orders-empty'), items.length === 0);
			showAttentionDiscrepancies(path === '/admin/attention' ? page && page.discrepancies : null);
			orders.cursors[orders.page + 1] = page && page.next_cursor ? page.next_cursor : null;
			$('orders-prev').disabled = orders.page === 0;
			$('orders-next').disabled = !orders.cursors[orders.page + 1];
			$('orders-page').textContent = '第 ' + (orders.page + 1) + ' 页';
		}, function (err) {
			if (seq === orders.seq)
				clear($('orders-body'));
			flash('查询订单失败：' + err, 'error');
		}).then(function () {
			$('orders-body').removeAttribute('aria-busy');
		});
	}

	/* Under the needs-attention queue: the open bill discrepancies, each with
	 * what to do (the 对账 page resolves them). */
	function showAttentionDiscrepancies(d) {
		var list = $('orders-discrepancies-list'), items = (d && d.items) || [];
		clear(list);
		items.slice(0, 10).forEach(function (x) {
			list.appendChild(el('li', { 'data-discrepancy': String(x.id), text: x.date + ' ' +
			    label(RECON_KIND, x.kind) + '：' + (x.out_refund_no || x.out_trade_no || '') + ' — ' +
			    (RECON_ADVICE[x.kind] || x.action || '') }));
		});
		$('orders-discrepancies-count').textContent = d ? '（' + d.count + ' 条）' : '';
		show($('orders-discrepancies'), !!d && d.count > 0);
	}

	/* "少儿体操体验课 2026-12-05 10:00"; the id when the class is unknown. */
	function className(o) {
		if (o.course_name)
			return o.course_name + ' ' + fmtTime(o.course_starts_at).slice(0, 16);
		if ((o.course_schedule_id === undefined || o.course_schedule_id === null) &&
		    o.product_id !== undefined && o.product_id !== null)
			return productNames[o.product_id] || '商品 ' + o.product_id;
		return o.course_schedule_id !== undefined ? '课程 ' + o.course_schedule_id : '';
	}

	/* The orders filter's products (every one, on sale or not) and their
	 * names for the list; the choice made is kept. */
	var productNames = {};
	function productOptions() {
		return api('GET', '/admin/products', { quiet401: true }).then(function (list) {
			var sel = $('orders-product'), keep = sel.value;
			while (sel.options.length > 1)
				sel.remove(1);
			(list.products || []).forEach(function (p) {
				productNames[p.id] = p.name;
				sel.appendChild(el('option', { value: String(p.id), text: p.name }));
			});
			sel.value = keep;
		}, function () { /* the filter stays at 全部 */ });
	}

	function badge(status) {
		return el('span', { className: 'badge st-' + status, 'data-status': status,
		    text: label(ORDER_STATUS, status) });
	}

	function initOrders() {
		$('orders-filter').addEventListener('submit', function (ev) {
			ev.preventDefault();
			orders.filter = ordersFilter();
			orders.cursors = [''];
			orders.page = 0;
			loadOrders();
		});
		$('orders-open').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var id = $('orders-open-id').value.trim();
			if (id)
				location.hash = '#/orders/' + encodeURIComponent(id);
		});
		$('orders-prev').addEventListener('click', function () {
			if (orders.page > 0) {
				orders.page--;
				loadOrders();
			}
		});
		$('orders-next').addEventListener('click', function () {
			if (orders.cursors[orders.page + 1]) {
				orders.page++;
				loadOrders();
			}
		});
	}

	/* ---- one order -------------------------------------------------------------------- */

	var current = { id: '', order: null, refundKey: '', refundBusy: false, timer: null };

	function stopRefresh() {
		if (current.timer) {
			clearTimeout(current.timer);
			current.timer = null;
		}
	}

	function field(dl, name, value, cls) {
		if (value === undefined || value === null || value === '')
			return;
		dl.appendChild(el('dt', { text: name }));
		dl.appendChild(el('dd', { className: cls || '' }, [typeof value === 'string' ? value : value]));
	}

	/* A status word of any entity in Chinese; unknown ones as they are. */
	function anyStatus(entity, v) {
		if (!v)
			return '—';
		var map = entity === 'hold' ? RESERVATION_STATUS : entity === 'refund' ? REFUND_STATUS :
		    entity === 'booking' ? BOOKING_STATUS : ORDER_STATUS;
		return map[v] || ORDER_STATUS[v] || RESERVATION_STATUS[v] || REFUND_STATUS[v] || OTHER_STATUS[v] || v;
	}

	function auditRow(a, withOrder) {
		var change = a.old_status || a.new_status ?
		    anyStatus(a.entity, a.old_status) + ' → ' + anyStatus(a.entity, a.new_status) : '';
		var actor = label(ACTOR, a.actor_type) + (a.actor_name ? ' ' + a.actor_name :
		    a.actor_id && a.actor_type !== 'user' ? ' ' + a.actor_id : '');
		var detail = null;
		if (a.request_snapshot !== undefined && a.request_snapshot !== null) {
			detail = el('details', {}, [el('summary', { text: '请求' }),
			    el('pre', { text: JSON.stringify(a.request_snapshot, null, 2) })]);
		}
		var cells = [
			el('td', { text: fmtTime(a.created_at), className: 'nowrap' }),
			el('td', { title: a.action_type }, [label(ACTION, a.action_type)].concat(ACTION[a.action_type] ? [] :
			    [' ', el('small', { className: 'mono muted', text: a.action_type })]))
		];
		if (withOrder) {
			cells.push(el('td', {}, [a.order_id ? el('a', { className: 'mono',
			    href: '#/orders/' + encodeURIComponent(a.order_id), text: a.order_id }) : '']));
		}
		cells.push(el('td', { text: label(ENTITY, a.entity) }));
		cells.push(el('td', { text: change, title: change ? (a.old_status || '') + ' → ' + (a.new_status || '') : '' }));
		cells.push(el('td', { text: actor }));
		if (withOrder)
			cells.push(el('td', { className: 'mono', text: a.client_ip || '' }));
		cells.push(el('td', { className: 'mono small', text: a.request_id || '' }));
		cells.push(el('td', {}, [detail]));
		return el('tr', { 'data-action': a.action_type }, cells);
	}

	function emptyRow(tbody, cols, text) {
		tbody.appendChild(el('tr', {}, [el('td', { colspan: String(cols), className: 'muted', text: text })]));
	}

	function renderOrder(o) {
		current.order = o;
		$('order-id').textContent = o.order_id;
		var st = $('order-status');
		st.className = 'badge st-' + o.status;
		st.setAttribute('data-status', o.status);
		st.textContent = label(ORDER_STATUS, o.status);

		var f = $('order-fields');
		clear(f);
		field(f, '待处理', o.attention_reason ? label(ATTENTION_REASON, o.attention_reason) +
		    (needsAttention(o) ? '：请核实后退款' : '') : '', 'attention');
		field(f, '金额', yuan(o.amount_fen, o.amount) + (o.currency ? ' ' + o.currency : ''));
		field(f, '课程', o.course_schedule_id !== undefined && o.course_schedule_id !== null ? className(o) : '无（会籍或课时包）');
		if (o.product_id !== undefined && o.product_id !== null)
			field(f, '商品 ID', String(o.product_id));
		if (o.registration) {
			field(f, '孩子', o.registration.child_name +
			    (o.registration.child_age !== undefined ? '（' + o.registration.child_age + ' 岁）' : ''));
			field(f, '家长手机', o.registration.parent_phone);
			field(f, '备注', o.registration.note || '');
		} else {
			field(f, '家长', '用户 ' + o.user_id);
		}
		field(f, '下单时间', fmtTime(o.created_at));
		field(f, '支付截止', fmtTime(o.expires_at));
		field(f, '支付时间', fmtTime(o.paid_at));
		field(f, '预约 ID', o.booking_id !== undefined && o.booking_id !== null ? String(o.booking_id) : '');

		var r = $('order-reservation');
		clear(r);
		if (o.reservation) {
			field(r, '占座 ID', String(o.reservation.reservation_id));
			field(r, '状态', label(RESERVATION_STATUS, o.reservation.status));
			field(r, '占座截止', fmtTime(o.reservation.expires_at));
		} else {
			field(r, '占座', '无');
		}

		var tx = $('order-transactions');
		clear(tx);
		(o.transactions || []).forEach(function (t) {
			tx.appendChild(el('tr', {}, [
				el('td', { className: 'mono', text: t.transaction_id || '' }),
				el('td', { text: label(TRADE_STATE, t.trade_state) }),
				el('td', { text: label(TRADE_TYPE, t.trade_type) }),
				el('td', { text: yuan(t.amount_fen) }),
				el('td', { text: fmtTime(t.success_time) }),
				el('td', { text: t.source === 'notify' ? '支付通知' : t.source === 'query' ? '主动查询' : (t.source || '') }),
				el('td', { text: label(TXN_OUTCOME, t.outcome) })
			]));
		});
		if (!(o.transactions || []).length)
			emptyRow(tx, 7, '暂无支付流水');

		var rf = $('order-refunds'), advice = [];
		clear(rf);
		(o.refunds || []).forEach(function (x) {
			rf.appendChild(el('tr', { 'data-refund-status': x.status }, [
				el('td', { className: 'mono', text: x.refund_id || '' }),
				el('td', {}, [el('span', { className: 'badge rf-' + x.status, text: label(REFUND_STATUS, x.status) })]),
				el('td', { text: label(WX_REFUND_STATUS, x.wx_status) }),
				el('td', { text: x.reason || '' }),
				el('td', { text: x.operator_name || (x.operator_id ? '运营 ' + x.operator_id : '系统') }),
				el('td', { text: fmtTime(x.created_at) }),
				el('td', { text: fmtTime(x.succeeded_at) })
			]));
		});
		if (!(o.refunds || []).length)
			emptyRow(rf, 7, '暂无退款');

		/* What to do next: the server's word on the latest refund, else ours. */
		var latest = (o.refunds || [])[(o.refunds || []).length - 1];
		if (latest && (latest.status === 'abnormal' || latest.status === 'closed'))
			advice.push('退款单 ' + latest.refund_id + '：' + (latest.next_action || REFUND_ADVICE[latest.status]));
		var note = $('order-note'), waiting = refundInFlight(o);
		if (waiting)
			advice.unshift('退款处理中，等待微信退款结果（页面会自动刷新）。');
		note.textContent = advice.join('\n');
		note.className = 'note' + (advice.length && !waiting ? ' warn' : '');
		show(note, advice.length > 0);

		var au = $('order-audit');
		clear(au);
		(o.audit || []).forEach(function (a) { au.appendChild(auditRow(a, false)); });
		if (!(o.audit || []).length)
			emptyRow(au, 7, '暂无记录');

		/* the refund it announced is done (or ended): its message goes */
		if (o.status === 'refunded' || (latest && latest.status !== 'processing' && latest.status !== 'pending'))
			unflash('refund');
		/* The refund form stays while the server may still say "refundable". */
		show($('refund-box'), isOperator() && (o.status === 'paid' || needsAttention(o)));
		if (isOperator() && (o.status === 'paid' || needsAttention(o)))
			productRefund(o);
		if (o.status !== 'paid' && !needsAttention(o))
			current.refundKey = '';
	}

	/* A refund WeChat has yet to answer: the page refreshes itself meanwhile.
	 * An abnormal refund leaves the order refunding until someone acts, so
	 * that alone does not count. */
	/* In the needs-attention queue: money to return without a seat, and no
	 * refund under way or done (a closed one puts it back). */
	function needsAttention(o) {
		return !!o.attention_reason && o.status === 'refunding' &&
		    !(o.refunds || []).some(function (x) { return x.status !== 'closed'; });
	}

	function refundInFlight(o) {
		var r = o.refunds || [];
		if (o.status === 'refunding' && r.length === 0)
			return true;
		return r.some(function (x) { return x.status === 'processing' || x.status === 'pending'; });
	}

	function loadOrder(id, quiet) {
		stopRefresh();
		return api('GET', '/admin/orders/' + encodeURIComponent(id)).then(function (o) {
			if (current.id !== id)
				return;
			renderOrder(o);
			if (refundInFlight(o) && !liveOn())
				current.timer = setTimeout(function () { loadOrder(id, true); }, REFRESH_MS);
		}, function (err) {
			if (current.id !== id)
				return;
			if (!quiet || err.status !== 0)
				flash(err.status === 404 ? '订单 ' + id + ' 不存在。' : '读取订单失败：' + err, 'error');
			if (quiet && err.status !== 404 && err.status !== 401)
				current.timer = setTimeout(function () { loadOrder(id, true); }, REFRESH_MS * 2);
		});
	}

	function openOrder(id) {
		if (current.id !== id) {
			current.id = id;
			current.order = null;
			current.refundKey = '';
			$('order-id').textContent = id;
			$('order-status').textContent = '';
			['order-fields', 'order-reservation', 'order-transactions', 'order-refunds', 'order-audit']
			    .forEach(function (x) { clear($(x)); });
			show($('order-note'), false);
			show($('refund-box'), false);
			show($('refund-error'), false);
			$('refund-amount').value = '';
		}
		loadOrder(id);
	}

	function initRefund() {
		$('refund-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var o = current.order, reason = $('refund-reason').value.trim(), btn = $('refund-submit');
			if (!o || current.refundBusy)
				return;
			if (!reason) {
				$('refund-error').textContent = '请填写退款原因。';
				show($('refund-error'), true);
				return;
			}
			var part = !$('refund-amount-row').hidden && $('refund-amount').value.trim() !== '' ?
			    toFen($('refund-amount').value) : 0;
			if (isNaN(part) || part < 0) {
				$('refund-error').textContent = '退款金额格式不对。';
				show($('refund-error'), true);
				return;
			}
			if (!window.confirm('确认为订单 ' + o.order_id + (part ? ' 退款 ' + yuan(part) :
			    ' 全额退款 ' + yuan(o.amount_fen, o.amount)) + '？'))
				return;
			/*
			 * One key per refund attempt on this page: a double click, or a retry
			 * after a timeout, sends the same key and so the server answers with the
			 * same refund.  Changing the reason starts a new attempt.
			 */
			if (!current.refundKey || current.refundReason !== reason + '|' + part) {
				current.refundKey = newKey('refund-' + o.order_id);
				current.refundReason = reason + '|' + part;
			}
			current.refundBusy = true;
			btn.disabled = true;
			show($('refund-error'), false);
			var rbody = { order_id: o.order_id, reason: reason };
			if (part)
				rbody.amount_fen = part;
			api('POST', '/admin/refunds', { body: rbody, key: current.refundKey }).then(function (refund) {
				flash('已提交退款' + (refund && refund.refund_id ? '（退款单 ' + refund.refund_id + '）' : '') +
				    '，等待微信退款结果。', 'ok', 'refund');
				current.refundKey = '';
				return loadOrder(o.order_id);
			}, function (err) {
				/* A definite refusal ends this attempt; a timeout keeps the key for the retry. */
				if (err.status !== 0 && err.status !== 502 && err.status !== 503 && err.status !== 504)
					current.refundKey = '';
				$('refund-error').textContent = '退款未提交：' + err;
				show($('refund-error'), true);
				if (err.code === 'REFUND_IN_PROGRESS' || err.code === 'NOT_REFUNDABLE')
					return loadOrder(o.order_id);
			}).then(function () {
				current.refundBusy = false;
				btn.disabled = false;
			});
		});
	}

	/* ---- audit log ------------------------------------------------------------------- */

	var audit = { cursors: [''], page: 0, filter: {} };

	function loadAudit() {
		var q = Object.assign({}, audit.filter, { limit: PAGE_SIZE * 2 });
		if (audit.cursors[audit.page])
			q.cursor = audit.cursors[audit.page];
		loading($('audit-body'), 9);
		show($('audit-empty'), false);
		return api('GET', '/admin/audit-log', { query: q }).then(function (page) {
			var body = $('audit-body'), items = (page && page.items) || [];
			clear(body);
			items.forEach(function (a) { body.appendChild(auditRow(a, true)); });
			show($('audit-empty'), items.length === 0);
			audit.cursors[audit.page + 1] = page && page.next_cursor ? page.next_cursor : null;
			$('audit-prev').disabled = audit.page === 0;
			$('audit-next').disabled = !audit.cursors[audit.page + 1];
			$('audit-page').textContent = '第 ' + (audit.page + 1) + ' 页';
		}, function (err) {
			clear($('audit-body'));
			flash('查询审计日志失败：' + err, 'error');
		});
	}

	function initAudit() {
		var sel = $('audit-action');
		Object.keys(ACTION).sort(function (a, b) { return ACTION[a].localeCompare(ACTION[b], 'zh-CN'); })
		    .forEach(function (k) {
			/* two codes may share a name: both are listed, the code tells them apart */
			sel.appendChild(el('option', { value: k, text: ACTION[k] }));
		});
		$('audit-filter').addEventListener('submit', function (ev) {
			ev.preventDefault();
			audit.filter = {
				order_id: $('audit-order').value.trim(),
				action_type: $('audit-action').value.trim(),
				from: localToRfc3339($('audit-from').value),
				to: localToRfc3339($('audit-to').value)
			};
			audit.cursors = [''];
			audit.page = 0;
			loadAudit();
		});
		$('audit-prev').addEventListener('click', function () {
			if (audit.page > 0) {
				audit.page--;
				loadAudit();
			}
		});
		$('audit-next').addEventListener('click', function () {
			if (audit.cursors[audit.page + 1]) {
				audit.page++;
				loadAudit();
			}
		});
	}

	/* ---- classes -------------------------------------------------------------------------- */

	var classKey = '';

	function loadClasses() {
		var now = new Date(), to = new Date(now.getTime() + 90 * 86400 * 1000);
		loading($('classes-body'), 9);
		return api('GET', '/course-schedules', { query: { from: now.toISOString(), to: to.toISOString() } })
		    .then(function (list) {
			var body = $('classes-body'), items = (list && list.items) || [];
			clear(body);
			items.forEach(function (s) { body.appendChild(classRow(s)); });
			filterClasses();
			show($('classes-empty'), items.length === 0);
		}, function (err) {
			flash('读取课程失败：' + err, 'error');
		});
	}

	/* Only the rows of the kind chosen above the table (all by default). */
	function filterClasses() {
		var want = $('classes-kind').value;
		Array.prototype.forEach.call($('classes-body').querySelectorAll('tr[data-kind]'), function (tr) {
			tr.hidden = !!want && tr.getAttribute('data-kind') !== want;
		});
	}

	function classRow(s) {
		var input = el('input', { type: 'number', min: '0', max: '10000', step: '1',
		    value: String(s.capacity), 'aria-label': '新名额', className: 'cap' });
		var btn = el('button', { type: 'submit', text: '保存' });
		var form = el('form', { className: 'inline op-only', 'data-schedule': String(s.id) }, [input, btn]);
		var capCell = el('td', { text: String(s.capacity) });
		var availCell = el('td', { text: String(s.available) });
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			var cap = parseInt(input.value, 10);
			if (isNaN(cap) || cap < 0) {
				flash('名额须为 0 到 10000 的整数。', 'error');
				return;
			}
			btn.disabled = true;
			api('PATCH', '/admin/course-schedules/' + encodeURIComponent(s.id), { body: { capacity: cap } })
			    .then(function (ns) {
				capCell.textContent = String(ns.capacity);
				availCell.textContent = String(ns.available);
				input.value = String(ns.capacity);
				flash('课程 ' + s.id + ' 的名额已改为 ' + ns.capacity + '。');
			}, function (err) {
				input.value = capCell.textContent;
				flash('修改名额失败：' + err, 'error');
			}).then(function () {
				btn.disabled = false;
			});
		});
		var nameCell = el('td', { text: s.course_name });
		var kind = s.kind || 'trial';
		return el('tr', { 'data-schedule': String(s.id), 'data-kind': kind }, [
			el('td', { text: String(s.id) }),
			nameCell,
			el('td', { text: fmtTime(s.starts_at) }),
			el('td', { text: fmtTime(s.ends_at) }),
			capCell, availCell,
			el('td', { className: 'kind', text: label(CLASS_KIND, kind) }),
			el('td', {}, [form]),
			el('td', {}, [
				el('button', { type: 'button', text: '改名', className: 'rename op-only',
				    onclick: function () { renameClass(s, nameCell); } }),
				el('button', { type: 'button', text: '花名册', className: 'roster',
				    onclick: function () { showRoster(s); } }),
				el('button', { type: 'button', text: '取消课程', className: 'cancel danger op-only',
				    onclick: function () { cancelClass(s); } })
			])
		]);
	}

	/* Rename: parents with a paid booking are told by the server. */
	function renameClass(s, cell) {
		var name = window.prompt('课程 ' + s.id + ' 的新名称（已付款的家长会收到通知）：', cell.textContent);
		if (name === null || !name.trim() || name.trim() === cell.textContent)
			return;
		api('PATCH', '/admin/course-schedules/' + encodeURIComponent(s.id), { body: { course_name: name.trim() } })
		    .then(function (ns) {
			cell.textContent = ns.course_name;
			flash('课程 ' + s.id + ' 已改名，已通知 ' + ns.parents_told + ' 位家长。');
		}, function (err) { flash('改名失败：' + err, 'error'); });
	}

	/* Cancel: every paid booking is refunded, every parent told; twice is harmless. */
	function cancelClass(s) {
		var reason = window.prompt('取消课程 ' + s.id + '「' + s.course_name + '」？已付款的订单将全额退款，' +
		    '所有家长会收到通知。请填写原因：', '课程取消');
		if (reason === null || !reason.trim())
			return;
		api('POST', '/admin/course-schedules/' + encodeURIComponent(s.id) + '/cancel',
		    { body: { reason: reason.trim() } }).then(function (r) {
			flash(r.already_cancelled ? '课程 ' + s.id + ' 之前已取消。' :
			    '课程 ' + s.id + ' 已取消：退款 ' + r.refunds_started + ' 笔，取消未付款订单 ' +
			    r.orders_cancelled + ' 个，已通知家长。');
			loadClasses();
		}, function (err) { flash('取消课程失败：' + err, 'error'); });
	}

	/* The roster under the table, and its CSV (fetched with the token). */
	function showRoster(s) {
		var path = '/admin/course-schedules/' + encodeURIComponent(s.id) + '/roster';
		api('GET', path).then(function (r) {
			var body = $('roster-body'), items = (r && r.items) || [];
			var members = r && r.kind === 'regular', head = $('roster-head');
			clear(body);
			clear(head);
			(members ? ['预约号', '孩子', '年龄', '家长手机', '状态', '预约方式', '预约时间'] :
			    ['订单号', '孩子', '年龄', '家长手机', '状态', '支付时间']).forEach(function (t) {
				head.appendChild(el('th', { text: t }));
			});
			items.forEach(function (x) {
				var age = x.age === null || x.age === undefined ? '' : String(x.age);
				body.appendChild(el('tr', {}, members ? [
					el('td', { text: String(x.booking_id) }), el('td', { text: x.child_name || '' }),
					el('td', { text: age }), el('td', { text: x.parent_phone_masked || '' }),
					el('td', {}, [el('span', { className: 'badge st-' + x.status, 'data-status': x.status,
					    text: label(BOOKING_STATUS, x.status) })]),
					el('td', { text: label(PAY_WITH, x.pay_with) }), el('td', { text: fmtTime(x.booked_at) })
				] : [
					el('td', { text: x.order_id }), el('td', { text: x.child_name || '' }),
					el('td', { text: age }),
					el('td', { text: x.parent_phone_masked || '' }),
					el('td', {}, [badge(x.status)]), el('td', { text: fmtTime(x.paid_at) })
				]));
			});
			if (!items.length)
				emptyRow(body, members ? 7 : 6, '暂无报名');
			$('roster-title').textContent = '花名册：' + s.course_name + '（' + fmtTime(s.starts_at) + '）';
			show($('roster'), true);
			return fetch(API + path + '?format=csv', { credentials: 'same-origin',
			    headers: token() ? { Authorization: 'Bearer ' + token() } : {} });
		}).then(function (res) {
			return res && res.ok ? res.blob() : null;
		}).then(function (blob) {
			var a = $('roster-csv');
			if (!blob)
				return;
			if (a.href && a.href.indexOf('blob:') === 0)
				URL.revokeObjectURL(a.href);
			a.href = URL.createObjectURL(blob);
			a.download = 'roster-' + s.id + '.csv';
		}, function (err) { flash('读取花名册失败：' + err, 'error'); });
	}

	function initClasses() {
		$('classes-kind').addEventListener('change', filterClasses);
		var start = new Date();
		start.setDate(start.getDate() + 7);
		start.setHours(10, 0, 0, 0);
		$('class-starts').value = dateToLocal(start);
		$('class-ends').value = dateToLocal(new Date(start.getTime() + 3600 * 1000));
		['class-name', 'class-starts', 'class-ends', 'class-capacity'].forEach(function (id) {
			$(id).addEventListener('input', function () { classKey = ''; });
		});
		$('class-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var btn = $('class-submit');
			var body = {
				course_name: $('class-name').value.trim(),
				starts_at: localToRfc3339($('class-starts').value),
				ends_at: localToRfc3339($('class-ends').value),
				capacity: parseInt($('class-capacity').value, 10),
				kind: $('class-kind').value
			};
			show($('class-error'), false);
			if (!body.course_name || !body.starts_at || !body.ends_at || isNaN(body.capacity)) {
				$('class-error').textContent = '请填写课程名称、开始和结束时间以及名额。';
				show($('class-error'), true);
				return;
			}
			if (new Date(body.ends_at) <= new Date(body.starts_at)) {
				$('class-error').textContent = '结束时间须晚于开始时间。';
				show($('class-error'), true);
				return;
			}
			if (!classKey)
				classKey = newKey('class');
			btn.disabled = true;
			api('POST', '/admin/course-schedules', { body: body, key: classKey }).then(function (s) {
				classKey = '';
				flash('已创建课程 ' + s.id + '：' + s.course_name + '（' + fmtTime(s.starts_at) + '）');
				return loadClasses();
			}, function (err) {
				if (err.status !== 0 && err.status < 500)
					classKey = '';
				$('class-error').textContent = '创建失败：' + err;
				show($('class-error'), true);
			}).then(function () {
				btn.disabled = false;
			});
		});
	}

	/* ---- reconciliation and reports ------------------------------------------------- */

	var RECON_KIND = {
		missing_here: '已收款，本地无此支付', missing_there: '本地有，账单无',
		amount_mismatch: '金额不符', status_mismatch: '状态不符', bad_file: '账单文件不完整'
	};
	var RECON_ADVICE = {
		missing_here: '微信已收款但本地没有对应的已支付订单（家长付了钱却没有名额）：按商户订单号找到家长，补给名额或在商户平台退款。',
		missing_there: '本地显示已支付/已退款，但微信账单中没有：先在微信查询该笔交易；跨零点的交易可能在次日账单中。',
		amount_mismatch: '金额不一致：在微信支付商户平台核对该订单金额，多收部分请退款。',
		status_mismatch: '状态不一致：在微信查询该交易或退款的最新状态，并更正本地记录。',
		bad_file: '账单下载不完整或校验失败：系统会自动重试；也可运行 gymctl reconcile --date 日期 --force。'
	};
	var RECON_STATE = { running: '核对中', done: '已完成', failed: '失败' };

	/* A China (Asia/Shanghai) date, offset by days from today: "YYYY-MM-DD". */
	function chinaDate(offsetDays) {
		var d = new Date(Date.now() + 8 * 3600 * 1000 + (offsetDays || 0) * 86400 * 1000);
		return d.toISOString().slice(0, 10);
	}

	function fenCell(v) {
		return el('td', { text: typeof v === 'number' ? yuan(v) : '' });
	}

	/* One discrepancy as a table row (withDate: the open list's first column). */
	function discRow(d, withDate) {
		var otn = d.order_id ?
		    el('a', { href: '#/orders/' + encodeURIComponent(d.order_id), text: d.out_trade_no || d.order_id }) :
		    (d.out_trade_no || '');
		var act = d.resolved ?
		    el('span', { className: 'hint', text: '已处理：' + (d.resolution_note || '') }) :
		    el('button', { type: 'button', text: '标记已处理', className: 'resolve',
		        onclick: function () { resolveDisc(d); } });
		var cells = [];
		if (withDate)
			cells.push(el('td', { text: d.date }));
		cells.push(el('td', {}, [el('span', { className: 'badge bad', text: label(RECON_KIND, d.kind) })]),
		    el('td', {}, [otn]), el('td', { text: d.out_refund_no || '' }),
		    fenCell(d.bill_amount_fen), fenCell(d.our_amount_fen));
		if (!withDate)
			cells.push(el('td', { text: d.bill_state || '' }), el('td', { text: d.our_state || '' }));
		cells.push(el('td', { text: RECON_ADVICE[d.kind] || d.action || '' }));
		if (!withDate)
			cells.push(el('td', {}, [el('details', { className: 'evidence' }, [
				el('summary', { text: '查看' }),
				el('pre', { text: JSON.stringify(d.evidence, null, 2) })])]));
		cells.push(el('td', {}, [act]));
		return el('tr', { 'data-discrepancy': String(d.id), 'data-kind': d.kind }, cells);
	}

	function resolveDisc(d) {
		var note = window.prompt('处理说明（必填，将记入审计日志）：', '');
		if (note === null || !note.trim())
			return;
		api('POST', '/admin/reconciliation/discrepancies/' + encodeURIComponent(d.id) + '/resolve',
		    { body: { note: note.trim() } }).then(function () {
			flash('差异 ' + d.id + ' 已标记为已处理。');
			loadRecon();
		}, function (err) { flash('处理失败：' + err, 'error'); });
	}

	/* The open ones of every day; the count also beside the nav link. */
	function loadReconOpen() {
		return api('GET', '/admin/reconciliation/discrepancies').then(function (r) {
			var body = $('recon-open-body'), items = (r && r.items) || [], b = $('recon-open-badge');
			clear(body);
			items.forEach(function (d) { body.appendChild(discRow(d, true)); });
			if (!items.length)
				emptyRow(body, 8, '没有未处理的差异');
			$('recon-open-count').textContent = '（' + (r ? r.count : 0) + ' 条）';
			b.textContent = r && r.count ? String(r.count) : '';
			show(b, !!(r && r.count));
		}, function (err) { flash('读取未处理差异失败：' + err, 'error'); });
	}

	function loadRecon() {
		var date = $('recon-date').value || chinaDate(-1);
		api('GET', '/admin/reconciliation', { query: { date: date, channel: $('recon-channel').value } })
		    .then(function (r) {
			var runs = $('recon-runs-body'), day = $('recon-day-body');
			clear(runs);
			clear(day);
			(r.runs || []).forEach(function (x) {
				runs.appendChild(el('tr', { 'data-state': x.state }, [
					el('td', { text: label(CHANNEL, x.channel) }),
					el('td', {}, [el('span', { className: 'badge ' + (x.state === 'done' ? 'ok' : 'bad'),
					    text: label(RECON_STATE, x.state) })]),
					el('td', { text: String(x.bill_rows) }), el('td', { text: String(x.matched) }),
					el('td', { text: String(x.discrepancies) }),
					fenCell(x.gross_fen), fenCell(x.refund_fen), fenCell(x.fee_fen), fenCell(x.net_fen),
					/* the fund-flow bill's (账务明细) money in and out; none: empty */
					fenCell(x.fund_in_fen), fenCell(x.fund_out_fen),
					el('td', { text: x.error_code ? x.error_code + '：' + (x.error_message || '') : '' })
				]));
			});
			if (!(r.runs || []).length)
				emptyRow(runs, 12, '该日尚未对账');
			(r.discrepancies || []).forEach(function (d) { day.appendChild(discRow(d, false)); });
			if (!(r.discrepancies || []).length)
				emptyRow(day, 10, '无差异');
		}, function (err) { flash('读取对账结果失败：' + err, 'error'); });
		loadReconOpen();
	}

	function initRecon() {
		$('recon-date').value = chinaDate(-1);
		$('recon-export').addEventListener('click', function () {
			var d = $('recon-date').value, c = $('recon-channel').value;
			downloadCsv('/admin/exports/bill?date=' + encodeURIComponent(d) + '&channel=' +
			    encodeURIComponent(c), 'bill-' + c + '-' + d + '.csv');
		});
		$('recon-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			loadRecon();
		});
	}

	var SVG_NS = 'http://www.w3.org/2000/svg';
	function svg(tag, attrs, text) {
		var e = document.createElementNS(SVG_NS, tag), k;
		for (k in attrs) {
			if (Object.prototype.hasOwnProperty.call(attrs, k))
				e.setAttribute(k, String(attrs[k]));
		}
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	/* Daily net revenue as bars (inline SVG; negative days below the axis, red). */
	function drawChart(days) {
		var box = $('report-chart'), W = 900, H = 260, L = 56, R = 10, T = 12, B = 34;
		var max = 0, min = 0, i, n = days.length, bw, y0, scale, g, s;
		clear(box);
		days.forEach(function (d) {
			max = Math.max(max, d.net_fen);
			min = Math.min(min, d.net_fen);
		});
		if (max === min)
			max = min + 100;
		s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, id: 'net-chart',
		    'data-days': n });
		scale = (H - T - B) / (max - min);
		y0 = T + max * scale;
		bw = (W - L - R) / Math.max(n, 1);
		s.appendChild(svg('line', { x1: L, y1: y0, x2: W - R, y2: y0, 'class': 'axis' }));
		s.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis' }));
		s.appendChild(svg('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, '¥' + (max / 100).toFixed(0)));
		s.appendChild(svg('text', { x: L - 4, y: y0 + 3, 'text-anchor': 'end' }, '0'));
		if (min < 0)
			s.appendChild(svg('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, '¥' + (min / 100).toFixed(0)));
		for (i = 0; i < n; i++) {
			var v = days[i].net_fen, h = Math.abs(v) * scale, x = L + i * bw;
			g = svg('rect', { x: x + bw * 0.1, y: v >= 0 ? y0 - h : y0, width: Math.max(bw * 0.8, 1),
			    height: Math.max(h, v === 0 ? 0 : 1), 'class': 'bar' + (v < 0 ? ' neg' : ''),
			    'data-date': days[i].date, 'data-net': v });
			g.appendChild(svg('title', {}, days[i].date + ' 净收入 ' + yuan(v)));
			s.appendChild(g);
			if (i === 0 || i === n - 1 || (n > 14 && i % Math.ceil(n / 6) === 0))
				s.appendChild(svg('text', { x: x + bw / 2, y: H - B + 14, 'text-anchor': 'middle' },
				    days[i].date.slice(5)));
		}
		box.appendChild(s);
	}

	function loadReport() {
		var q = { from: $('report-from').value, to: $('report-to').value };
		api('GET', '/admin/reports/daily', { query: q }).then(function (r) {
			var body = $('report-days-body'), tb = $('report-totals-body'), t = r.totals;
			drawChart(r.days || []);
			clear(tb);
			tb.appendChild(el('tr', {}, [el('td', { text: r.from + ' 至 ' + r.to }),
			    el('td', { text: String(t.payments) }), fenCell(t.gross_fen),
			    el('td', { text: String(t.refunds) }), fenCell(t.refund_fen),
			    fenCell(t.fee_fen), fenCell(t.net_fen)]));
			clear(body);
			(r.days || []).slice().reverse().forEach(function (d) {
				Object.keys(d.by_channel || {}).forEach(function (c) {
					var m = d.by_channel[c];
					if (!m.payments && !m.refunds && !m.fee_fen)
						return;
					body.appendChild(el('tr', {}, [el('td', { text: d.date }),
					    el('td', { text: label(CHANNEL, c) }),
					    el('td', { text: String(m.payments) }), fenCell(m.gross_fen),
					    el('td', { text: String(m.refunds) }), fenCell(m.refund_fen),
					    fenCell(m.fee_fen), fenCell(m.net_fen)]));
				});
			});
			if (!body.firstChild)
				emptyRow(body, 8, '该时间段内没有收款或退款');
			var qs = 'from=' + encodeURIComponent(r.from) + '&to=' + encodeURIComponent(r.to);
			/* a token as a bearer token; a password session by its cookie */
			var hdr = { Accept: 'text/csv' };
			if (token())
				hdr.Authorization = 'Bearer ' + token();
			return fetch(API + '/admin/reports/daily?' + qs, { headers: hdr,
			    credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
				return res.ok ? res.blob() : null;
			}).then(function (blob) {
				var a = $('report-csv');
				if (!blob)
					return;
				if (a.href && a.href.indexOf('blob:') === 0)
					URL.revokeObjectURL(a.href);
				a.href = URL.createObjectURL(blob);
				a.download = 'daily-' + r.from + '-' + r.to + '.csv';
			});
		}, function (err) { flash('读取报表失败：' + err, 'error'); });
	}

	/* Fetch a CSV export (the token as a bearer token, a password session by
	 * its cookie) and hand it to the browser as a download named name. */
	function downloadCsv(path, name) {
		var hdr = { Accept: 'text/csv' };
		if (token())
			hdr.Authorization = 'Bearer ' + token();
		return fetch(API + path, { headers: hdr, credentials: 'same-origin', cache: 'no-store' })
		    .then(function (res) {
			if (!res.ok)
				throw new Error('HTTP ' + res.status);
			return res.blob();
		}).then(function (blob) {
			var a = el('a', { href: URL.createObjectURL(blob), download: name });
			document.body.appendChild(a);
			a.click();
			document.body.removeChild(a);
			setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
		}, function (err) { flash('导出失败：' + err.message, 'error'); });
	}

	function summaryQuery() {
		var q = { group: $('summary-group').value, by: $('summary-by').value };
		if ($('report-from').value)
			q.from = $('report-from').value;
		if ($('report-to').value)
			q.to = $('report-to').value;
		return q;
	}

	/* Money per month (or day) by product (or channel). */
	function loadSummary() {
		var q = summaryQuery();
		return api('GET', '/admin/reports/summary', { query: q }).then(function (r) {
			var body = $('summary-body');
			clear(body);
			(r.rows || []).forEach(function (x) {
				body.appendChild(el('tr', { 'data-period': x.period }, [el('td', { text: x.period }),
				    el('td', { text: q.by === 'channel' ? label(CHANNEL, x.key) : x.key }),
				    el('td', { text: String(x.payments) }), fenCell(x.gross_fen),
				    el('td', { text: String(x.refunds) }), fenCell(x.refund_fen),
				    fenCell(x.fee_fen), fenCell(x.net_fen)]));
			});
			if (!body.firstChild)
				emptyRow(body, 8, '该时间段内没有收款或退款');
		}, function (err) { flash('读取汇总失败：' + err, 'error'); });
	}

	function initReports() {
		$('summary-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			loadSummary();
		});
		$('summary-csv').addEventListener('click', function () {
			var q = summaryQuery(), qs = Object.keys(q).map(function (k) {
				return k + '=' + encodeURIComponent(q[k]);
			}).join('&');
			downloadCsv('/admin/reports/summary?' + qs, 'report-' + q.group + '-' + q.by + '.csv');
		});
		['payments', 'refunds'].forEach(function (kind) {
			$('report-export-' + kind).addEventListener('click', function () {
				var from = $('report-from').value, to = $('report-to').value;
				downloadCsv('/admin/exports/' + kind + '?from=' + encodeURIComponent(from) +
				    '&to=' + encodeURIComponent(to), kind + '-' + from + '-' + to + '.csv');
			});
		});
		$('report-to').value = chinaDate(0);
		$('report-from').value = chinaDate(-89);
		$('report-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			loadReport();
			loadSummary();
		});
	}

	/* ---- live feed -------------------------------------------------------------------- */

	/*
	 * The console's push channel (nginx's Nchan, /push/console; the token as
	 * access_token, since an EventSource sets no headers): every order and
	 * refund change.  The open order is read again when it changes, the list
	 * when anything changes; what is shown always comes from the API.  While
	 * the feed is down (data-live="poll" on <body>), an order with a refund in
	 * flight is polled instead.
	 */
	var live = { es: null, list: null };

	function liveOn() {
		return live.es !== null && live.es.readyState === 1;
	}

	function stopLive() {
		if (live.es)
			live.es.close();
		live.es = null;
		document.body.removeAttribute('data-live');
	}

	function startLive() {
		var es;
		if (live.es || !window.EventSource || !auth.me)
			return;
		/* a token as access_token; a password session by its cookie */
		es = new EventSource(API + '/push/console' +
		    (token() ? '?access_token=' + encodeURIComponent(token()) : ''));
		live.es = es;
		es.onopen = function () { document.body.setAttribute('data-live', 'push'); };
		es.onmessage = function (ev) {
			var m;
			try { m = JSON.parse(ev.data); } catch (e) { return; }
			if (current.id && m.order_id === current.id)
				loadOrder(current.id, true);
			if (!$('view-orders').hidden && !live.list)
				live.list = setTimeout(function () { live.list = null; loadOrders(true); }, 500);
		};
		es.onerror = function () {
			if (es.readyState !== 2 || live.es !== es)
				return;
			live.es = null;
			document.body.setAttribute('data-live', 'poll');
			if (current.id)
				loadOrder(current.id, true);
		};
	}

	/* ---- products (issue 15) ---------------------------------------------------------- */

	var PRODUCT_KIND = { trial: '体验课', membership: '会籍', class_pack: '课时包' };
	var productKey = '';

	/* "123.45" (yuan) into fen, or NaN. */
	function toFen(v) {
		var m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec((v || '').trim());
		if (!m)
			return NaN;
		return parseInt(m[1], 10) * 100 + parseInt(((m[2] || '') + '00').slice(0, 2), 10);
	}

	function patchProduct(p, body, what) {
		return api('PATCH', '/admin/products/' + p.id, { body: body }).then(function () {
			flash('已' + what + '：' + p.name);
			return loadProducts();
		}, function (err) { flash(what + '失败：' + err, 'error'); });
	}

	function productRow(p) {
		var actions = [];
		if (p.kind !== 'trial') {
			actions.push(el('button', { type: 'button', text: '改价', onclick: function () {
				var v = window.prompt('新价格（元），只影响之后的订单', (p.price_fen / 100).toFixed(2));
				if (v === null)
					return;
				if (isNaN(toFen(v)) || toFen(v) < 1) {
					flash('价格格式不对', 'error');
					return;
				}
				patchProduct(p, { price_fen: toFen(v) }, '改价');
			} }));
			actions.push(el('button', { type: 'button', text: p.active ? '下架' : '上架',
			    onclick: function () { patchProduct(p, { active: !p.active }, p.active ? '下架' : '上架'); } }));
		}
		return el('tr', { 'data-product': String(p.id) }, [
			el('td', { text: String(p.id) }),
			el('td', { text: label(PRODUCT_KIND, p.kind) }),
			el('td', { text: p.name }),
			el('td', { text: yuan(p.price_fen, p.price) }),
			el('td', { text: p.days === null || p.days === undefined ? '' : String(p.days) }),
			el('td', { text: p.credits === null || p.credits === undefined ? '' : String(p.credits) }),
			el('td', { text: p.active ? '在售' : '已下架' }),
			el('td', {}, actions)
		]);
	}

	function loadProducts() {
		return api('GET', '/admin/products').then(function (list) {
			var body = $('products-body');
			clear(body);
			(list.products || []).forEach(function (p) { body.appendChild(productRow(p)); });
		}, function (err) { flash('读取商品失败：' + err, 'error'); });
	}

	function initProducts() {
		['product-kind', 'product-name', 'product-price', 'product-days', 'product-credits'].forEach(function (id) {
			$(id).addEventListener('input', function () { productKey = ''; });
		});
		$('product-form').addEventListener('submit', function (ev) {
			ev.preventDefault();
			var kind = $('product-kind').value, body = {
				kind: kind,
				name: $('product-name').value.trim(),
				price_fen: toFen($('product-price').value),
				days: parseInt($('product-days').value, 10)
			};
			if (kind === 'class_pack')
				body.credits = parseInt($('product-credits').value, 10);
			show($('product-error'), false);
			if (!body.name || isNaN(body.price_fen) || body.price_fen < 1 || isNaN(body.days) ||
			    (kind === 'class_pack' && isNaN(body.credits))) {
				$('product-error').textContent = '请填写名称、价格、天数' + (kind === 'class_pack' ? '和课时数' : '') + '。';
				show($('product-error'), true);
				return;
			}
			if (!productKey)
				productKey = newKey('product');
			$('product-submit').disabled = true;
			api('POST', '/admin/products', { body: body, key: productKey }).then(function (p) {
				productKey = '';
				flash('已创建商品 ' + p.id + '：' + p.name);
				return loadProducts();
			}, function (err) {
				if (err.status !== 0 && err.status < 500)
					productKey = '';
				$('product-error').textContent = '创建失败：' + err;
				show($('product-error'), true);
			}).then(function () { $('product-submit').disabled = false; });
		});
	}

	/* A membership or class pack order (no class): partial refunds, with the
	 * server's proposal for the unused share filled in. */
	function productRefund(o) {
		var product = o.course_schedule_id === null || o.course_schedule_id === undefined;
		show($('refund-amount-row'), product);
		show($('refund-proposal'), false);
		if (!product)
			return;
		api('GET', '/admin/orders/' + encodeURIComponent(o.order_id) + '/refund-proposal').then(function (p) {
			if (current.order !== o)
				return;
			$('refund-proposal').textContent = '建议退款（未使用部分）：' + yuan(p.amount_fen, p.amount);
			show($('refund-proposal'), true);
			if (!$('refund-amount').value)
				$('refund-amount').value = (p.amount_fen / 100).toFixed(2);
		}, function () { /* no proposal: the operator types the amount */ });
	}

	/* ---- routing --------------------------------------------------------------------- */

	/* The first page after sign-in: the overview when it is there. */
	function defaultView() {
		return views.overview ? 'overview' : 'orders';
	}

	function showView(name) {
		['signin', 'orders', 'order', 'audit', 'classes', 'products', 'recon', 'reports'].concat(Object.keys(views)).forEach(function (v) {
			if ($('view-' + v))
				show($('view-' + v), v === name);
		});
		var navName = name === 'order' ? 'orders' : name;
		Array.prototype.forEach.call(document.querySelectorAll('[data-nav]'), function (a) {
			if (a.getAttribute('data-nav') === navName)
				a.setAttribute('aria-current', 'page');
			else
				a.removeAttribute('aria-current');
		});
	}

	function route() {
		var h = location.hash.replace(/^#\/?/, ''), parts = h.split('/');
		/* a message belongs to the view it was said in */
		if (flashState.view !== location.hash)
			unflash('');
		if (!auth.me) {
			show($('nav'), false);
			stopRefresh();
			stopLive();
			showView('signin');
			$('signin-name').focus();
			return;
		}
		show($('nav'), true);
		startLive();
		if (parts[0] !== 'orders' || !parts[1]) {
			stopRefresh();
			current.id = '';
		}
		switch (parts[0]) {
		case 'orders':
			if (parts[1]) {
				showView('order');
				openOrder(decodeURIComponent(parts[1]));
			} else {
				showView('orders');
				productOptions();
				loadOrders();
			}
			break;
		case 'audit':
			showView('audit');
			loadAudit();
			break;
		case 'classes':
			showView('classes');
			loadClasses();
			break;
		case 'products':
			showView('products');
			loadProducts();
			break;
		case 'recon':
			showView('recon');
			loadRecon();
			break;
		case 'reports':
			showView('reports');
			loadReport();
			loadSummary();
			break;
		default:
			if (views[parts[0]]) {
				showView(parts[0]);
				views[parts[0]].load(parts.slice(1));
			} else {
				location.hash = '#/' + defaultView();
			}
		}
	}

	/* What a view in a file of its own uses. */
	window.GymConsole = {
		views: views, api: api, el: el, clear: clear, show: show, flash: flash,
		fmtTime: fmtTime, yuan: yuan, label: label, badge: badge, emptyRow: emptyRow,
		isOperator: isOperator, loading: loading, className: className,
		ORDER_STATUS: ORDER_STATUS, REFUND_STATUS: REFUND_STATUS, CHANNEL: CHANNEL,
		PRODUCT_KIND: PRODUCT_KIND
	};

	/* Every table scrolls inside a box of its own, so the page never does. */
	function boxTables() {
		Array.prototype.forEach.call(document.querySelectorAll('table.grid'), function (t) {
			if (t.parentNode.classList.contains('scroll'))
				return;
			var box = el('div', { className: 'scroll' });
			t.parentNode.insertBefore(box, t);
			box.appendChild(t);
		});
	}

	document.addEventListener('DOMContentLoaded', function () {
		boxTables();
		initSignin();
		initOrders();
		initRefund();
		initAudit();
		initClasses();
		initProducts();
		initRecon();
		initReports();
		window.addEventListener('hashchange', route);
		/* A click on the tab already shown reloads it. */
		Array.prototype.forEach.call(document.querySelectorAll('[data-nav]'), function (a) {
			a.addEventListener('click', function () {
				if (a.getAttribute('href') === location.hash)
					route();
			});
		});
		whoami().then(route);
	});
})();
