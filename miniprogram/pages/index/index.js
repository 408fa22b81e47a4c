/* The class list: seats left, read again on show and on pull-down. */
var api = require('../../utils/api.js');

Component({
	data: { classes: [], loading: false, error: '' },
	methods: {
		onShow: function () {
			return this.load();
		},
		onPullDownRefresh: function () {
			return this.load().then(function () { wx.stopPullDownRefresh(); });
		},
		load: function () {
			var self = this;
			self.setData({ loading: true });
			return api.classes().then(function (list) {
				self.setData({
					loading: false, error: '',
					classes: (list || []).map(function (s) {
						return { id: s.id, course_name: s.course_name, available: s.available,
						    capacity: s.capacity, price: s.kind === 'regular' ? '' : s.price,
						    when: api.fmtTime(s.starts_at) };
					})
				});
			}, function (err) {
				self.setData({ loading: false, error: '读取课程失败：' + api.message(err) });
			});
		},
		open: function (e) {
			wx.navigateTo({ url: '/pages/detail/detail?id=' + e.currentTarget.dataset.id });
		}
	}
});
