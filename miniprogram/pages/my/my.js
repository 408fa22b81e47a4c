/* "My": the current order (kept in storage by the detail page) as the server has it. */
var api = require('../../utils/api.js');

Component({
	data: { order: null, loading: false, busy: false, error: '' },
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
			if (!id) {
				self.setData({ order: null });
				return Promise.resolve();
			}
			self.setData({ loading: true });
			return api.order(id).then(function (o) {
				self.setData({ loading: false, error: '' });
				self.show(o);
			}, function (err) {
				self.setData({ loading: false, error: api.message(err) });
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
		}
	}
});
