/* One class and the registration form: checked on the page, then a seat and an order
 * from the server; a retry of the same press keeps its Idempotency-Keys.  The seats
 * left follow the class's push channel (polling without it); a full class offers the
 * server's alternatives as cards and its waitlist. */
var api = require('../../utils/api.js');

function today() {
	var d = new Date();
	return d.getFullYear() + '-' + ('0' + (d.getMonth() + 1)).slice(-2) + '-' + ('0' + d.getDate()).slice(-2);
}

/* the alternatives the server named, as cards */
function cards(list) {
	return (list || []).map(function (a) {
		return { id: a.id, course_name: a.course_name, available: a.available,
		    when: api.fmtTime(a.starts_at) };
	});
}

Component({
	data: {
		id: 0, course: null, busy: false, error: '', invalid: '', today: today(),
		form: { child_name: '', child_birth_date: '', parent_phone: '', note: '' },
		alternatives: [], waiting: null, waitBusy: false, booked: null
	},
	methods: {
		onLoad: function (q) {
			var self = this, id = parseInt(q && q.id, 10);
			self.attempt = '';
			self.waitKey = '';
			self.setData({ id: id });
			api.clientConfig();	/* consent is asked from a tap: have the templates ready */
			return api.classes().then(function (list) {
				var s = (list || []).filter(function (x) { return x.id === id; })[0];
				if (!s) {
					self.setData({ error: '没有找到这个课程，请返回重新选择。' });
					return;
				}
				self.setData({ course: { course_name: s.course_name, available: s.available,
				    capacity: s.capacity, when: api.fmtTime(s.starts_at),
				    regular: s.kind === 'regular' } });
				self.stopWatch = api.watchClass(id, function (n) {
					if (self.data.course)
						self.setData({ 'course.available': n });
				});
			}, function (err) {
				self.setData({ error: api.message(err) });
			});
		},
		onUnload: function () {
			if (this.stopWatch)
				this.stopWatch();
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
			self.setData({ busy: true, error: '', invalid: '', alternatives: [] });
			var w = self.data.waiting;
			return api.book(self.data.id, v.body, self.attempt,
			    w && w.state === 'offered' ? w.reservation_id : 0).then(function (o) {
				self.attempt = '';
				wx.setStorageSync('gym.order', o.order_id);
				self.setData({ busy: false });
				wx.navigateTo({ url: '/pages/confirm/confirm?order=' + encodeURIComponent(o.order_id) });
				return o;
			}, function (err) {
				var o = { busy: false, invalid: err.field || '' };
				if (err.status !== 0)
					self.attempt = '';	/* keep the keys only for a network retry */
				if (err.code === 'SOLD_OUT') {
					/* the sentence without the list: the list is the cards */
					o.error = api.message({ code: err.code, message: err.message });
					o.alternatives = cards(err.alternatives);
					o['course.available'] = 0;
				} else
					o.error = api.message(err);
				self.setData(o);
				return null;
			});
		},
		/* a regular class: booked at once with the membership or one credit */
		memberBook: function (e) {
			var self = this, how = e.currentTarget.dataset.how;
			if (!self.memberKey)
				self.memberKey = api.newKey('mpm');
			self.setData({ busy: true, error: '', booked: null });
			return api.memberBook(self.data.id, how, self.memberKey).then(function (b) {
				self.memberKey = '';
				self.setData({ busy: false, booked: { when: self.data.course.when,
				    pay_with: how === 'credits' ? '课时' : '会员' } });
				return b;
			}, function (err) {
				if (err.status !== 0)
					self.memberKey = '';
				self.setData({ busy: false, error: api.message(err) });
				return null;
			});
		},
		pick: function (e) {
			wx.redirectTo({ url: '/pages/detail/detail?id=' + e.currentTarget.dataset.id });
		},
		/* from the tap itself: the consent first (WeChat asks it only from a tap) */
		join: function () {
			var self = this, asked = api.consent('waitlist');
			if (!self.waitKey)
				self.waitKey = api.newKey('mpw');
			self.setData({ waitBusy: true, error: '' });
			return asked.then(function () {
				return api.joinWaitlist(self.data.id, self.waitKey);
			}).then(function (w) {
				self.waitKey = '';
				self.setData({ waitBusy: false, waiting: { state: w.state, position: w.position,
				    reservation_id: (w.hold && w.hold.reservation_id) || 0 } });
				return w;
			}, function (err) {
				if (err.status !== 0)
					self.waitKey = '';
				self.setData({ waitBusy: false, error: api.message(err) });
				return null;
			});
		},
		leave: function () {
			var self = this;
			self.setData({ waitBusy: true, error: '' });
			return api.leaveWaitlist(self.data.id).then(function () {
				self.setData({ waitBusy: false, waiting: null });
			}, function (err) {
				self.setData({ waitBusy: false, error: api.message(err) });
			});
		}
	}
});
