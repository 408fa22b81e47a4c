/* The order as the server has it (its price, never computed here) and the payment. */
var api = require('../../utils/api.js');

var STEP = { prepay: '准备支付…', requestPayment: '等待支付…', cancel: '正在取消…',
	wait: '确认支付结果…', confirm: '确认预约…' };

Component({
	data: { order: null, busy: false, step: '', error: '' },
	methods: {
		onLoad: function (q) {
			var self = this;
			self.orderId = decodeURIComponent((q && q.order) || '');
			api.clientConfig();	/* the consent is asked from the tap: templates ready */
			return api.order(self.orderId).then(function (o) {
				self.setData({ order: {
					order_id: o.order_id, status: o.status, status_text: api.statusText(o.status),
					product: !o.course_schedule_id,
					title: o.course_schedule_id ? '体验课' : '会员 / 课时包',
					amount: o.amount
				} });
			}, function (err) {
				self.setData({ error: api.message(err) });
			});
		},
		/* from the tap itself: the subscribe consent first (WeChat asks it only from a
		 * tap), then the payment whatever the parent chose */
		pay: function () {
			/* a membership or pack asks for its own messages (paid, refunded,
			 * running out) */
			var self = this, product = self.data.order && self.data.order.product;
			var asked = api.consent(product ? 'buy' : 'pay');
			self.setData({ busy: true, error: '' });
			return asked.then(function () {
				return api.pay({ order_id: self.orderId }, function (s) {
					self.setData({ step: STEP[s] || '' });
				});
			}).then(function (r) {
				self.setData({ busy: false });
				wx.redirectTo({ url: '/pages/result/result?order=' + encodeURIComponent(self.orderId) +
				    '&status=' + r.status + '&msg=' + encodeURIComponent(r.msg || '') +
				    (r.order && !r.order.course_schedule_id ? '&product=1' : '') });
				return r;
			}, function (err) {
				self.setData({ busy: false, error: api.message(err) });
				return null;
			});
		}
	}
});
