/* The outcome of a payment, as the server reported it to the confirm page. */
var api = require('../../utils/api.js');

Component({
	data: { orderId: '', status: '', statusText: '', msg: '', subscribed: false, product: false },
	methods: {
		onLoad: function (q) {
			var s = (q && q.status) || '';
			this.setData({ orderId: decodeURIComponent((q && q.order) || ''), status: s,
			    statusText: api.statusText(s), msg: decodeURIComponent((q && q.msg) || ''),
			    product: (q && q.product) === '1' });
			api.clientConfig();
		},
		/* from the tap: consent to hear of a moved class or a refund later */
		subscribe: function () {
			var self = this;
			return api.consent('booked').then(function (ids) {
				self.setData({ subscribed: ids.length > 0 });
				return ids;
			});
		},
		home: function () {
			wx.switchTab({ url: '/pages/index/index' });
		}
	}
});
