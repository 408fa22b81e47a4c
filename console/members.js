/*
 * Members (#/members, #/members/ID): the front desk finds a parent by the
 * phone given at a registration or by part of a child's name
 * (GET /api/v1/admin/members), then sees what the parent has
 * (GET /api/v1/admin/members/{id}): the membership, credits by expiry,
 * upcoming member bookings, payments with their refunds, and the credit
 * ledger.  A view of its own: it registers in GymConsole.views (app.js).
 * Auditors see the child's name and the phone masked (the server masks).
 */
'use strict';

(function () {
	var C = window.GymConsole;
	var $ = function (id) { return document.getElementById(id); };
	var seq = 0;

	var LEDGER_KIND = {
		grant: '购买获得', consume: '预约使用', 'return': '取消退回', expire: '过期',
		revoke: '退款收回', adjust: '人工调整'
	};
	var PAY_WITH = { membership: '会籍', credits: '课时' };
	var BOOKING = { confirmed: '已确认', cancelled: '已取消' };

	function td(text, cls) {
		return C.el('td', { text: text === undefined || text === null ? '' : String(text),
		    className: cls || '' });
	}

	function fill(body, cols, rows, empty, row) {
		C.clear(body);
		(rows || []).forEach(function (x) { body.appendChild(row(x)); });
		if (!(rows || []).length)
			C.emptyRow(body, cols, empty);
	}

	/* The search: 11 digits are a phone, anything else part of a name. */
	function search(ev) {
		if (ev)
			ev.preventDefault();
		var q = $('members-q').value.trim(), mine = ++seq, body = $('members-found');
		if (!q)
			return;
		C.show($('member-detail'), false);
		C.loading(body, 4);
		C.api('GET', '/admin/members', { query: /^1[3-9][0-9]{9}$/.test(q) ? { phone: q } : { name: q } })
		    .then(function (r) {
			if (mine !== seq)
				return;
			fill(body, 4, r.members, '没有找到家长：可输入完整手机号，或孩子姓名中的几个字。', function (m) {
				var open = C.el('button', { type: 'button', text: '查看' });
				open.addEventListener('click', function () {
					location.hash = '#/members/' + m.user_id;
				});
				return C.el('tr', { 'data-user': String(m.user_id), 'data-order': m.order_id }, [
					td(m.child_name), td(m.parent_phone, 'nowrap'), td(m.user_id),
					C.el('td', {}, [open])
				]);
			});
		}, function (err) {
			if (mine !== seq)
				return;
			C.clear(body);
			C.flash('查找家长失败：' + err, 'error');
		});
	}

	function showMember(id) {
		var mine = ++seq;
		C.show($('member-detail'), false);
		C.api('GET', '/admin/members/' + encodeURIComponent(id)).then(function (a) {
			if (mine !== seq)
				return;
			$('member-id').textContent = String(a.user_id);
			$('member-membership').textContent = a.membership ?
			    a.membership.name + '：' + C.fmtTime(a.membership.starts_at) + ' 至 ' +
			    C.fmtTime(a.membership.ends_at) : '无有效会籍';
			$('member-balance').textContent = String(a.credits.balance);
			fill($('member-lots'), 2, a.credits.lots, '没有可用课时', function (l) {
				return C.el('tr', {}, [td(l.credits), td(C.fmtTime(l.expires_at), 'nowrap')]);
			});
			fill($('member-bookings'), 4, a.bookings, '没有即将上的课', function (b) {
				return C.el('tr', {}, [td(C.fmtTime(b.starts_at), 'nowrap'), td(b.course_name),
				    td(C.label(PAY_WITH, b.pay_with)), td(C.label(BOOKING, b.status))]);
			});
			fill($('member-payments'), 6, a.history.payments, '没有支付记录', function (p) {
				var link = C.el('a', { href: '#/orders/' + encodeURIComponent(p.order_id),
				    text: p.order_id });
				var refunded = (p.refunds || []).filter(function (f) {
					return f.status === 'success';
				}).reduce(function (s, f) { return s + f.amount_fen; }, 0);
				return C.el('tr', { 'data-order': p.order_id }, [
					C.el('td', { className: 'nowrap' }, [link]),
					td(C.label(C.PRODUCT_KIND, p.product.kind) + ' ' + p.product.name),
					td(C.yuan(p.amount_fen, p.amount), 'num'),
					td(C.label(C.CHANNEL, p.channel)),
					td(C.label(C.ORDER_STATUS, p.status) +
					    (refunded ? '（已退 ' + C.yuan(refunded) + '）' : '')),
					td(p.paid_at ? C.fmtTime(p.paid_at) : '', 'nowrap')
				]);
			});
			fill($('member-ledger'), 4, a.ledger, '没有课时流水', function (x) {
				return C.el('tr', {}, [td(C.fmtTime(x.created_at), 'nowrap'),
				    td(C.label(LEDGER_KIND, x.kind)), td((x.delta > 0 ? '+' : '') + x.delta, 'num'),
				    td(x.reason || x.order_id || (x.booking_id ? '预约 ' + x.booking_id : ''))]);
			});
			C.show($('member-detail'), true);
		}, function (err) {
			if (mine !== seq)
				return;
			C.flash(err.status === 404 ? '没有这位家长。' : '读取家长信息失败：' + err, 'error');
		});
	}

	function load(args) {
		if (args[0])
			showMember(args[0]);
		else
			C.show($('member-detail'), false);
	}

	document.addEventListener('DOMContentLoaded', function () {
		$('members-search').addEventListener('submit', search);
	});

	C.views.members = { load: load };
})();
