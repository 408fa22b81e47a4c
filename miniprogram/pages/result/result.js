/* The outcome of a payment, as the server reported it to the confirm page. */
var api = require('../../utils/api.js');

Component({
	data: { orderId: '', status: '', statusText: '', msg: '' },
	methods: {
		onLoad: function (q) {
			var s = (q && q.status) || '';
			this.setData({ orderId: decodeURIComponent((q && q.order) || ''), status: s,
			    statusText: api.statusText(s), msg: decodeURIComponent((q && q.msg) || '') });
		},
		home: function () {
			wx.switchTab({ url: '/pages/index/index' });
		}
	}
});
