/* One class and the registration form: checked on the page, then a seat and an order
 * from the server; a retry of the same press keeps its Idempotency-Keys. */
var api = require('../../utils/api.js');

function today() {
	var d = new Date();
	return d.getFullYear() + '-' + ('0' + (d.getMonth() + 1)).slice(-2) + '-' + ('0' + d.getDate()).slice(-2);
}

Component({
	data: {
		id: 0, course: null, busy: false, error: '', invalid: '', today: today(),
		form: { child_name: '', child_birth_date: '', parent_phone: '', note: '' }
	},
	methods: {
		onLoad: function (q) {
			var self = this, id = parseInt(q && q.id, 10);
			self.attempt = '';
			self.setData({ id: id });
			return api.classes().then(function (list) {
				var s = (list || []).filter(function (x) { return x.id === id; })[0];
				if (!s) {
					self.setData({ error: '没有找到这个课程，请返回重新选择。' });
					return;
				}
				self.setData({ course: { course_name: s.course_name, available: s.available,
				    capacity: s.capacity, when: api.fmtTime(s.starts_at) } });
			}, function (err) {
				self.setData({ error: api.message(err) });
			});
		},
		input: function (e) {
			var o = {};
			o['form.' + e.currentTarget.dataset.name] = e.detail.value;
			if (this.data.invalid === e.currentTarget.dataset.name)
				o.invalid = '';
			this.setData(o);
			this.attempt = '';	/* other details: another request */
		},
		submit: function () {
			var self = this, v = api.validate(self.data.form);
			if (!v.ok) {
				self.setData({ error: v.msg, invalid: v.field });
				return Promise.resolve(null);
			}
			if (!self.attempt)
				self.attempt = api.newKey('mp');
			self.setData({ busy: true, error: '', invalid: '' });
			return api.book(self.data.id, v.body, self.attempt).then(function (o) {
				self.attempt = '';
				wx.setStorageSync('gym.order', o.order_id);
				self.setData({ busy: false });
				wx.navigateTo({ url: '/pages/confirm/confirm?order=' + encodeURIComponent(o.order_id) });
				return o;
			}, function (err) {
				if (err.status !== 0)
					self.attempt = '';	/* keep the keys only for a network retry */
				self.setData({ busy: false, error: api.message(err), invalid: err.field || '' });
				return null;
			});
		}
	}
});
