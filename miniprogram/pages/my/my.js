/* "My": the current order (kept in storage by the detail page) as the server has it, the
 * membership, credits by expiry and member bookings (GET /me), and the payment history
 * with its refunds (GET /payments/history, a page at a time). */
var api = require('../../utils/api.js');

var PAGE = 10;

function payment(p) {
	return {
		order_id: p.order_id, name: (p.product && p.product.name) || '体验课', amount: p.amount,
		channel: api.channelText(p.channel), status: p.status, status_text: api.statusText(p.status),
		when: api.fmtTime(p.paid_at || p.created_at),
		refunds: (p.refunds || []).map(function (f) {
			return { no: f.out_refund_no, amount: api.yuan(f.amount_fen), status: api.refundText(f.status) };
		})
	};
}

function account(m) {
	var c = (m && m.credits) || { balance: 0, lots: [] };
	return {
		membership: m && m.membership ? { name: m.membership.name,
		    until: api.fmtDate(m.membership.ends_at) } : null,
		balance: c.balance || 0,
		lots: (c.lots || []).map(function (l) {
			return { credits: l.credits, until: api.fmtDate(l.expires_at) };
		}),
		bookings: ((m && m.bookings) || []).map(function (b) {
			return { id: b.booking_id, course_name: b.course_name, when: api.fmtTime(b.starts_at),
			    pay_with: b.pay_with === 'credits' ? '课时' : '会员' };
		})
	};
}

Component({
	data: { order: null, loading: false, busy: false, error: '', account: null,
		payments: [], total: 0, page: 0, more: false },
	methods: {
		onShow: function () {
			return this.load();
		},
		onPullDownRefresh: function () {
			return this.load().then(function () { wx.stopPullDownRefresh(); });
		},
		show: function (o) {
			this.setData({ order: { order_id: o.order_id, amount: o.amount, status: o.status,
			    status_text: api.statusText(o.status) } });
		},
		load: function () {
			var self = this, id = wx.getStorageSync('gym.order');
			var current = id ? api.order(id) : Promise.resolve(null);
			self.setData({ loading: true });
			return Promise.all([current, api.me(), api.history(1, PAGE)]).then(function (r) {
				self.setData({ loading: false, error: '', account: account(r[1]),
				    payments: (r[2].payments || []).map(payment), total: r[2].total, page: 1,
				    more: r[2].total > PAGE });
				if (r[0])
					self.show(r[0]);
				else
					self.setData({ order: null });
			}, function (err) {
				self.setData({ loading: false, error: api.message(err) });
			});
		},
		next: function () {
			var self = this, page = self.data.page + 1;
			self.setData({ busy: true });
			return api.history(page, PAGE).then(function (h) {
				var all = self.data.payments.concat((h.payments || []).map(payment));
				self.setData({ busy: false, payments: all, page: page, total: h.total,
				    more: all.length < h.total });
			}, function (err) {
				self.setData({ busy: false, error: api.message(err) });
			});
		},
		cancel: function () {
			var self = this;
			self.setData({ busy: true });
			return api.cancel(self.data.order.order_id).then(function (o) {
				self.setData({ busy: false });
				self.show(o);
			}, function (err) {
				self.setData({ busy: false, error: api.message(err) });
			});
		},
		unbook: function (e) {
			var self = this;
			self.setData({ busy: true, error: '' });
			return api.memberCancel(e.currentTarget.dataset.id).then(function () {
				self.setData({ busy: false });
				return self.load();
			}, function (err) {
				self.setData({ busy: false, error: api.message(err) });
			});
		}
	}
});
