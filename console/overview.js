/*
 * Overview (#/overview), the console's first page: the gym's day from
 * GET /api/v1/admin/overview: orders paid today and their sum, refunds in
 * progress, the needs-attention count, and today's classes with their seats
 * taken.  A view of its own: it registers in GymConsole.views (app.js).
 */
'use strict';

(function () {
	var C = window.GymConsole;
	var $ = function (id) { return document.getElementById(id); };
	var seq = 0;

	function hhmm(s) {
		return C.fmtTime(s).slice(11, 16);
	}

	/* Open the orders list with a status filter. */
	function ordersWith(status) {
		location.hash = '#/orders';
		$('orders-status').value = status;
		$('orders-filter').requestSubmit();
	}

	function load() {
		var mine = ++seq, body = $('ov-classes');
		C.loading(body, 5);
		return C.api('GET', '/admin/overview').then(function (ov) {
			if (mine !== seq)
				return;
			$('ov-day').textContent = ov.day;
			$('ov-paid').textContent = String(ov.paid_orders);
			$('ov-revenue').textContent = C.yuan(ov.paid_fen, ov.paid_amount);
			$('ov-refunding-n').textContent = String(ov.refunds_in_progress);
			$('ov-attention-n').textContent = String(ov.attention);
			$('ov-attention').classList.toggle('hot', ov.attention > 0);
			$('ov-abnormal').textContent = ov.refunds_abnormal > 0 ? ov.refunds_abnormal +
			    ' 笔退款异常（微信无法退回），请在商户平台处理。' : '';
			C.show($('ov-abnormal'), ov.refunds_abnormal > 0);
			C.clear(body);
			(ov.classes || []).forEach(function (k) {
				body.appendChild(C.el('tr', { 'data-schedule': String(k.id) }, [
					C.el('td', { className: 'nowrap', text: hhmm(k.starts_at) }),
					C.el('td', { text: k.course_name + (k.cancelled ? '（已取消）' : '') }),
					C.el('td', { text: String(k.booked) }),
					C.el('td', { text: String(k.held) }),
					C.el('td', { text: String(k.capacity) })
				]));
			});
			if (!(ov.classes || []).length)
				C.emptyRow(body, 5, '今天没有课程');
		}, function (err) {
			if (mine !== seq)
				return;
			C.clear(body);
			C.flash('读取概览失败：' + err, 'error');
		});
	}

	document.addEventListener('DOMContentLoaded', function () {
		$('ov-refunding').addEventListener('click', function () { ordersWith('refunding'); });
		$('ov-attention').addEventListener('click', function () { ordersWith('attention'); });
	});

	C.views.overview = { load: load };
})();
