/* Memberships and class packs, priced by the server; buying one makes an order that the
 * confirm page pays like the trial.  With a membership, a dearer plan is offered as an
 * upgrade (the server prices the difference). */
var api = require('../../utils/api.js');

function row(p, member) {
	return {
		id: p.id, kind: p.kind, name: p.name, price: p.price,
		what: p.kind === 'membership' ? p.days + ' 天' : p.credits + ' 次课，' + p.days + ' 天内有效',
		upgrade: p.kind === 'membership' && member
	};
}

Component({
	data: { items: [], member: null, loading: false, busy: false, error: '' },
	methods: {
		onShow: function () {
			return this.load();
		},
		load: function () {
			var self = this;
			self.setData({ loading: true, error: '' });
			return Promise.all([api.products(), api.me()]).then(function (r) {
				var m = r[1] && r[1].membership;
				self.setData({ loading: false,
				    member: m ? { name: m.name, until: api.fmtDate(m.ends_at) } : null,
				    items: r[0].filter(function (p) { return p.kind !== 'trial'; }).map(function (p) {
					return row(p, !!m);
				    }) });
			}, function (err) {
				self.setData({ loading: false, error: api.message(err) });
			});
		},
		buy: function (e) {
			var self = this, id = e.currentTarget.dataset.id, up = !!e.currentTarget.dataset.upgrade;
			var key = (up ? 'u' : 'b') + id;
			self.keys = self.keys || {};
			if (!self.keys[key])
				self.keys[key] = api.newKey('mpb');
			self.setData({ busy: true, error: '' });
			return api.buy(id, self.keys[key], up).then(function (o) {
				delete self.keys[key];
				self.setData({ busy: false });
				wx.setStorageSync('gym.order', o.order_id);
				wx.navigateTo({ url: '/pages/confirm/confirm?order=' + encodeURIComponent(o.order_id) });
				return o;
			}, function (err) {
				if (err.status !== 0)
					delete self.keys[key];
				self.setData({ busy: false, error: api.message(err) });
				return null;
			});
		}
	}
});
