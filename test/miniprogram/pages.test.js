/*
 * pages.test.js: each page of miniprogram/ rendered with miniprogram-simulate
 * (j-component; jsdom for its document) and driven with a fake wx whose wx.request
 * answers like the API: what the parent sees.
 */
'use strict';

const path = require('path');
const { JSDOM } = require('jsdom');

const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
global.window = dom.window;
global.document = dom.window.document;
/* jsdom's, not Node's own Event: j-component dispatches them on jsdom nodes */
for (const k of ['Event', 'CustomEvent', 'HTMLElement', 'Node', 'navigator', 'getComputedStyle'])
	Object.defineProperty(global, k, { value: dom.window[k], configurable: true, writable: true });

const MP = path.join(__dirname, '..', '..', 'miniprogram');
const store = new Map();
const calls = [];
/* a page that never settles fails with the last requests it made */
setTimeout(() => {
	console.error('not ok - stuck after ' + calls.slice(-4).map((x) => x.k).join(', '));
	process.exit(1);
}, 60000).unref();
let routes = {};		/* 'METHOD /path' -> [status, body] */
let payResult = 'ok';
const nav = [];

global.wx = {
	getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
	setStorageSync: (k, v) => { store.set(k, v); },
	removeStorageSync: (k) => { store.delete(k); },
	login: (o) => setImmediate(() => o.success({ code: 'c1' })),
	request(o) {
		const p = o.url.replace(/^https:\/\/[^/]+\/api\/v1/, '');
		const k = o.method + ' ' + p;
		calls.push({ k, key: o.header['Idempotency-Key'], body: o.data && JSON.parse(o.data) });
		const r = routes[k];
		setImmediate(() => {
			if (r === 'drop')
				o.fail({ errMsg: 'request:fail' });
			else if (!r)
				o.success({ statusCode: 404, data: { code: 'NOT_FOUND', message: 'not found' } });
			else
				o.success({ statusCode: r[0], data: r[1] });
		});
	},
	requestPayment: (o) => setImmediate(() => (payResult === 'ok' ? o.success({}) :
	    o.fail({ errMsg: 'requestPayment:fail ' + payResult }))),
	navigateTo: (o) => nav.push(o.url),
	redirectTo: (o) => nav.push(o.url),
	switchTab: (o) => nav.push(o.url),
	stopPullDownRefresh: () => nav.push('stopPullDownRefresh')
};

const simulate = require('miniprogram-simulate');
const api = require(path.join(MP, 'utils', 'api.js'));
/* miniprogram-simulate merged its own wx into ours: no socket here (polling; the e2e
 * suite runs the push) */
delete global.wx.connectSocket;
api.setWx(global.wx, 'https://gym.test');
const cfg = require(path.join(MP, 'config.js'));
cfg.pollMs = 10;

const { ok, assert, plan } = require('./tap');
const tick = () => new Promise((r) => setTimeout(r, 20));

function page(name) {
	const id = simulate.load(path.join(MP, 'pages', name, name), { rootPath: MP });
	const c = simulate.render(id);
	c.attach(document.createElement('parent-wrapper'));
	return c;
}
function text(c, sel) {
	const e = c.querySelector(sel);
	return e ? e.dom.textContent.replace(/\s+/g, ' ').trim() : null;
}

const CLASS = { id: 7, course_name: '周六体验课', starts_at: '2026-12-12T02:00:00Z', ends_at: '2026-12-12T03:00:00Z',
	capacity: 8, available: 3, price_fen: 20000, price: '200.00' };
const ORDER = { order_id: 'GYM1', status: 'pending', amount: '200.00', amount_fen: 20000, currency: 'CNY',
	payment_method: 'wechat', course_schedule_id: 7, reservation: {}, expires_at: '2026-12-05T00:00:00Z' };

async function main() {
	store.set('gym.token', 'tok');

	/* class list: seats, price, empty state, error, pull-down */
	routes = { 'GET /course-schedules': [200, { items: [CLASS, Object.assign({}, CLASS, { id: 8, available: 0 })] }] };
	let c = page('index');
	await c.instance.onShow();
	const cards = c.querySelectorAll('.class');
	assert(cards.length === 2, 'two classes: ' + cards.length);
	assert(text(c, '.class').includes('周六体验课') && text(c, '.class').includes('剩余 3 / 8') &&
	    text(c, '.class').includes('¥200.00'), 'the card: ' + text(c, '.class'));
	assert(cards[1].dom.textContent.includes('已满'), 'a full class says 已满');
	cards[0].dispatchEvent('tap');
	await simulate.sleep(10);
	assert(nav.pop() === '/pages/detail/detail?id=7', 'a tap opens the detail');
	routes['GET /course-schedules'] = [200, { items: [] }];
	await c.instance.onPullDownRefresh();
	assert(text(c, '#empty') === '暂时没有可预约的课程' && nav.pop() === 'stopPullDownRefresh', 'empty after pull-down');
	routes['GET /course-schedules'] = 'drop';
	await c.instance.onShow();
	assert(text(c, '#error') === '读取课程失败：无法连接服务器，请检查网络后重试。', 'network error: ' + text(c, '#error'));
	ok('class list: seats left and price, 已满, tap to detail, pull-down refresh, empty and network error');

	/* detail: the form checked on the page, then seat + order with one key per press */
	routes = { 'GET /course-schedules': [200, { items: [CLASS] }] };
	c = page('detail');
	await c.instance.onLoad({ id: '7' });
	assert(text(c, '#course').includes('剩余 3 / 8'), 'the class shown');
	const fill = (name, value) => c.instance.input({ currentTarget: { dataset: { name } }, detail: { value } });
	calls.length = 0;
	fill('child_name', '王小明');
	fill('child_birth_date', '2019-05-20');
	fill('parent_phone', '12345678901');
	c.querySelector('#submit').dispatchEvent('tap');
	await tick();
	assert(text(c, '#error') === '请填写 11 位手机号。' && calls.length === 0, 'bad phone refused on the page');
	assert(c.querySelector('.field.invalid') !== undefined && c.instance.data.invalid === 'parent_phone', 'phone marked');
	fill('parent_phone', '13800138000');
	routes['POST /bookings/seat-reserve'] = 'drop';
	await c.instance.submit();
	await tick();
	assert(text(c, '#error') === '无法连接服务器，请检查网络后重试。', 'network failure shown: ' + text(c, '#error'));
	const k1 = calls.filter((x) => x.k === 'POST /bookings/seat-reserve').map((x) => x.key);
	assert(k1.length === 3 && new Set(k1).size === 1, 'three tries with one key: ' + k1);
	routes['POST /bookings/seat-reserve'] = [201, { reservation_id: 99 }];
	routes['POST /payment/orders/create'] = [201, ORDER];
	await c.instance.submit();
	const k2 = calls.filter((x) => x.k === 'POST /bookings/seat-reserve').map((x) => x.key);
	assert(k2[k2.length - 1] === k1[0], 'the retry of the press keeps its Idempotency-Key');
	const oc = calls.find((x) => x.k === 'POST /payment/orders/create');
	assert(oc.body.reservation_id === 99 && oc.body.parent_phone === '13800138000' &&
	    oc.body.child_birth_date === '2019-05-20' && oc.body.child_name === '王小明', 'order body');
	assert(nav.pop() === '/pages/confirm/confirm?order=GYM1' && store.get('gym.order') === 'GYM1', 'on to confirm');
	routes['POST /bookings/seat-reserve'] = [409, { code: 'TRIAL_ALREADY_BOOKED', message: 'trial already booked' }];
	await c.instance.submit();
	assert(text(c, '#error') === '您已预约过体验课，无法重复预约', 'second trial: ' + text(c, '#error'));
	routes['POST /bookings/seat-reserve'] = [409, { code: 'SOLD_OUT', message: '该课程已约满',
		alternatives: [{ id: 9, course_name: '周日体验课', available: 2 }] }];
	await c.instance.submit();
	assert(text(c, '#error') === '该课程已约满', 'sold out: ' + text(c, '#error'));
	ok('detail: the form refuses a bad phone on the page, a network retry keeps its key, the order is made; second trial and sold out told in Chinese');

	/* detail: the seats follow the server (polled here: no socket); sold out offers the
	 * server's alternatives as cards and the waitlist, with the consent asked first */
	cfg.classPollMs = 10;
	const asked = [];
	global.wx.requestSubscribeMessage = (o) => {
		asked.push({ ids: o.tmplIds, after: calls.length });
		setImmediate(() => o.success(Object.fromEntries(o.tmplIds.map((t) => [t, 'accept']))));
	};
	routes = { 'GET /course-schedules': [200, { items: [CLASS] }],
		'GET /course-schedules/7': [200, Object.assign({}, CLASS, { available: 1 })],
		'GET /client-config': [200, { subscribe_templates: { pay: ['t-conf', 't-fail'], booked: ['t-move'],
			waitlist: ['t-wait'] }, hold_minutes: 15, order_minutes: 30 }] };
	c = page('detail');
	await c.instance.onLoad({ id: '7' });
	await simulate.sleep(60);
	assert(text(c, '#course').includes('剩余 1 / 8'), 'the seats left follow the server: ' + text(c, '#course'));
	c.instance.onUnload();
	fill('child_name', '王小明');
	fill('child_birth_date', '2019-05-20');
	fill('parent_phone', '13800138000');
	routes['POST /bookings/seat-reserve'] = [409, { code: 'SOLD_OUT', message: '该课程已约满',
		alternatives: [{ id: 9, course_name: '周日体验课', starts_at: '2026-12-13T02:00:00Z', available: 2 }] }];
	await c.instance.submit();
	await tick();
	const alts = c.querySelectorAll('.alt');
	assert(alts.length === 1 && alts[0].dom.textContent.includes('周日体验课') &&
	    alts[0].dom.textContent.includes('剩余 2'), 'one alternative card: ' + (alts[0] && alts[0].dom.textContent));
	assert(text(c, '#course').includes('已满') && c.querySelector('#join'), 'full: the waitlist is offered');
	alts[0].dispatchEvent('tap');
	await tick();
	assert(nav.pop() === '/pages/detail/detail?id=9', 'a card opens that class');
	routes['POST /bookings/waitlist'] = [201, { id: 3, course_schedule_id: 7, state: 'waiting', position: 3,
		joined_at: '2026-12-04T00:00:00Z', hold: null }];
	const before = calls.length;
	c.querySelector('#join').dispatchEvent('tap');
	await tick();
	await tick();
	const jw = calls.find((x) => x.k === 'POST /bookings/waitlist');
	assert(asked.length === 1 && asked[0].ids.join() === 't-wait' && asked[0].after === before,
	    'the waitlist consent asked from the tap, before any request: ' + JSON.stringify(asked));
	assert(jw && jw.body.course_schedule_id === 7 && jw.key, 'joined with a key');
	assert(text(c, '#waiting') === '已加入候补，第 3 位。有名额时会通知您。', 'waiting: ' + text(c, '#waiting'));
	routes['DELETE /bookings/waitlist?course_schedule_id=7'] = [200, { course_schedule_id: 7, left: true }];
	await c.instance.leave();
	assert(!c.querySelector('#waiting') && c.querySelector('#join'), 'left the waitlist');
	ok('detail: seats left follow the server; sold out shows the alternatives as cards and the waitlist, joined after the consent and left');

	/* confirm: the server's price; pay; cancel at once on cancel */
	routes = { 'GET /payment/orders/GYM1': [200, ORDER],
		'POST /payment/wxpay/create': [200, { order_id: 'GYM1', prepay_id: 'p', pay_params: { timeStamp: '1',
			nonceStr: 'n', package: 'prepay_id=p', signType: 'RSA', paySign: 's' } }],
		'POST /payment/orders/GYM1/cancel': [200, Object.assign({}, ORDER, { status: 'cancelled' })] };
	c = page('confirm');
	await c.instance.onLoad({ order: 'GYM1' });
	assert(text(c, '#amount') === '200.00 元' && text(c, '#status') === '待支付', 'price from the server: ' + text(c, '#amount'));
	payResult = 'cancel';
	calls.length = 0;
	await c.instance.pay();
	assert(calls.some((x) => x.k === 'POST /payment/orders/GYM1/cancel'), 'cancel called');
	const rc = nav.pop();
	assert(rc === '/pages/result/result?order=GYM1&status=cancelled&msg=' +
	    encodeURIComponent('已取消支付，名额已释放。'), 'result after cancel: ' + rc);
	payResult = 'ok';
	routes['GET /payment/orders/GYM1'] = [200, ORDER];
	c = page('confirm');
	await c.instance.onLoad({ order: 'GYM1' });
	routes['GET /payment/orders/GYM1'] = [200, Object.assign({}, ORDER, { status: 'paid' })];
	routes['POST /bookings/confirm'] = [200, { booking_id: 5, order_id: 'GYM1', course_schedule_id: 7,
		status: 'confirmed', confirmed_at: '2026-12-04T00:00:00Z' }];
	asked.length = 0;
	calls.length = 0;
	await c.instance.pay();
	assert(nav.pop() === '/pages/result/result?order=GYM1&status=paid&msg=', 'result after paid');
	assert(asked.length === 1 && asked[0].ids.join() === 't-conf,t-fail' && asked[0].after === 0,
	    'the server\'s pay templates asked before paying: ' + JSON.stringify(asked));
	assert(!calls.some((x) => x.k === 'POST /payment/orders/GYM1/cancel'), 'no cancel after paying');
	ok('confirm: 200.00 元 from the server; cancel in the pay sheet cancels the order at once; paid only once the server says so');

	/* result */
	c = page('result');
	c.instance.onLoad({ order: 'GYM1', status: 'paid', msg: '' });
	assert(text(c, '#headline') === '预约成功' && text(c, '#paid') === '已支付，请按时到馆上课。', 'paid result');
	asked.length = 0;
	c.querySelector('#subscribe').dispatchEvent('tap');
	await tick();
	assert(asked.length === 1 && asked[0].ids.join() === 't-move' && text(c, '#subscribed') &&
	    !c.querySelector('#subscribe'), 'booked: consent to the later messages from a tap');
	c.instance.onLoad({ order: 'GYM1', status: 'cancelled', msg: encodeURIComponent('已取消支付，名额已释放。') });
	assert(text(c, '#headline') === '已取消' && text(c, '#msg') === '已取消支付，名额已释放。', 'cancelled result');
	ok('result: 预约成功 or the server\'s state with what happened; consent to the later messages');

	/* my: the current order, the account (membership, credits by expiry, member
	 * bookings with their cancel) and the payment history a page at a time */
	const ME = { membership: { product_id: 2, name: '月卡', starts_at: '2026-12-01T00:00:00Z',
		ends_at: '2026-12-31T00:00:00Z' }, credits: { balance: 7, lots: [{ credits: 3, expires_at: '2026-12-20T00:00:00Z' },
		{ credits: 4, expires_at: '2027-03-01T00:00:00Z' }] }, bookings: [{ booking_id: 41, course_schedule_id: 12,
		course_name: '基础班', starts_at: '2026-12-10T02:00:00Z', pay_with: 'credits', status: 'confirmed' }] };
	const pay = (i) => ({ payment_id: i, order_id: 'P' + i, product: { id: 3, kind: 'class_pack', name: '10 次课包' },
		amount_fen: 150000, amount: '1500.00', channel: i % 2 ? 'wechat' : 'alipay', status: 'paid',
		created_at: '2026-12-01T00:00:00Z', paid_at: '2026-12-01T00:01:00Z',
		refunds: i === 1 ? [{ out_refund_no: 'RFP1-1', amount_fen: 30000, status: 'success' }] : [] });
	routes = { 'GET /payment/orders/GYM1': [200, ORDER],
		'POST /payment/orders/GYM1/cancel': [200, Object.assign({}, ORDER, { status: 'cancelled' })],
		'GET /me': [200, { membership: null, credits: { balance: 0, lots: [] }, bookings: [] }],
		'GET /payments/history?page=1&size=10': [200, { total: 0, page: 1, size: 10, payments: [] }] };
	store.delete('gym.order');
	c = page('my');
	await c.instance.onShow();
	assert(!c.querySelector('#order') && text(c, '#membership') === '未开通会员' && text(c, '#credits') === '课时余额 0 次' &&
	    text(c, '#no-payments') === '还没有支付记录', 'nothing yet: ' + text(c, '#account'));
	store.set('gym.order', 'GYM1');
	routes['GET /me'] = [200, ME];
	routes['GET /payments/history?page=1&size=10'] = [200, { total: 12, page: 1, size: 10,
		payments: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(pay) }];
	routes['GET /payments/history?page=2&size=10'] = [200, { total: 12, page: 2, size: 10, payments: [11, 12].map(pay) }];
	await c.instance.onShow();
	assert(text(c, '#order').includes('200.00 元') && text(c, '#status') === '待支付', 'current order');
	assert(text(c, '#membership').startsWith('月卡，有效期至 2026年12月31日') && text(c, '#credits') === '课时余额 7 次' &&
	    c.querySelectorAll('.lot').length === 2, 'membership and credits: ' + text(c, '#account'));
	assert(text(c, '#bookings').includes('基础班') && text(c, '#bookings').includes('用课时'), 'member booking shown');
	let rows = c.querySelectorAll('.payment');
	assert(rows.length === 10 && rows[0].dom.textContent.includes('10 次课包 · 1500.00 元 · 已支付') &&
	    rows[0].dom.textContent.includes('微信支付') && rows[1].dom.textContent.includes('支付宝') &&
	    text(c, '.refund') === '退款 300.00 元 · 已退款', 'history page 1: ' + (rows[0] && rows[0].dom.textContent));
	await c.instance.next();
	rows = c.querySelectorAll('.payment');
	assert(rows.length === 12 && !c.querySelector('#more'), 'page 2 appended, no more: ' + rows.length);
	routes['DELETE /bookings/41'] = [200, { booking_id: 41, status: 'cancelled' }];
	routes['GET /me'] = [200, Object.assign({}, ME, { bookings: [] })];
	await c.instance.unbook({ currentTarget: { dataset: { id: 41 } } });
	assert(calls.some((x) => x.k === 'DELETE /bookings/41') && !c.querySelector('#bookings'), 'member booking cancelled');
	await c.instance.cancel();
	assert(text(c, '#status') === '已取消' && !c.querySelector('#cancel'), 'cancelled from 我的');
	ok('my: the current order and its cancel, membership and credits by expiry, member bookings and their cancel, payment history with refunds, a page at a time');

	/* products: priced by the server; buy, renew or upgrade makes an order for confirm */
	const PRODUCTS = { products: [{ id: 1, kind: 'trial', name: '体验课', price_fen: 20000, price: '200.00' },
		{ id: 2, kind: 'membership', name: '月卡', price_fen: 80000, price: '800.00', days: 30 },
		{ id: 3, kind: 'class_pack', name: '10 次课包', price_fen: 150000, price: '1500.00', days: 90, credits: 10 }] };
	routes = { 'GET /products': [200, PRODUCTS],
		'GET /me': [200, { membership: null, credits: { balance: 0, lots: [] }, bookings: [] }],
		'POST /payment/orders/create': [201, Object.assign({}, ORDER, { order_id: 'GYM2', course_schedule_id: null,
			product_id: 3, amount_fen: 150000, amount: '1500.00' })] };
	c = page('products');
	await c.instance.onShow();
	const ps = c.querySelectorAll('.product');
	assert(ps.length === 2 && ps[0].dom.textContent.includes('月卡') && ps[0].dom.textContent.includes('30 天') &&
	    ps[1].dom.textContent.includes('10 次课，90 天内有效') && ps[1].dom.textContent.includes('¥1500.00') &&
	    !ps[0].dom.textContent.includes('升级'), 'two products, no trial, no upgrade without a membership');
	calls.length = 0;
	await c.instance.buy({ currentTarget: { dataset: { id: 3 } } });
	const bo = calls.find((x) => x.k === 'POST /payment/orders/create');
	assert(bo.body.product_id === 3 && bo.body.upgrade === undefined && bo.key && Object.keys(bo.body).length === 1,
	    'only the product id is sent (the price is the server\'s): ' + JSON.stringify(bo.body));
	assert(nav.pop() === '/pages/confirm/confirm?order=GYM2', 'on to confirm');
	routes['GET /me'] = [200, ME];
	await c.instance.onShow();
	assert(text(c, '#member').includes('2026年12月31日') && c.querySelectorAll('.product')[0].dom.textContent.includes('续费') &&
	    c.querySelectorAll('.product')[0].dom.textContent.includes('升级到此会员'), 'a member renews or upgrades');
	routes['POST /payment/orders/create'] = [409, { code: 'NOT_AN_UPGRADE', message: 'not dearer' }];
	await c.instance.buy({ currentTarget: { dataset: { id: 2, upgrade: '1' } } });
	assert(calls.filter((x) => x.k === 'POST /payment/orders/create').pop().body.upgrade === true &&
	    text(c, '#error') === '只能升级到更高级的会员。', 'upgrade refused in Chinese: ' + text(c, '#error'));
	ok('products: memberships and packs priced by the server, bought by id alone; renew and upgrade for a member; errors in Chinese');
	/* paying for a product asks the buy moment's templates, never the trial's pay ones
	 * (this server names no buy templates: nothing is asked) */
	const PORDER = Object.assign({}, ORDER, { order_id: 'GYM2', course_schedule_id: null, product_id: 3,
		amount_fen: 150000, amount: '1500.00' });
	routes = { 'GET /payment/orders/GYM2': [200, PORDER],
		'POST /payment/wxpay/create': [200, { order_id: 'GYM2', prepay_id: 'p', pay_params: { timeStamp: '1',
			nonceStr: 'n', package: 'prepay_id=p', signType: 'RSA', paySign: 's' } }] };
	c = page('confirm');
	await c.instance.onLoad({ order: 'GYM2' });
	routes['GET /payment/orders/GYM2'] = [200, Object.assign({}, PORDER, { status: 'paid' })];
	asked.length = 0;
	await c.instance.pay();
	assert(nav.pop() === '/pages/result/result?order=GYM2&status=paid&msg=&product=1', 'product paid');
	assert(asked.length === 0, 'no trial templates asked for a product: ' + JSON.stringify(asked));
	ok('confirm: a product asks its own (buy) templates, not the trial\'s');

	/* a product order is paid like the trial, with no class to confirm */
	const PO = Object.assign({}, ORDER, { order_id: 'GYM2', course_schedule_id: null, product_id: 3,
		amount_fen: 150000, amount: '1500.00' });
	routes = { 'GET /payment/orders/GYM2': [200, PO],
		'POST /payment/wxpay/create': [200, { order_id: 'GYM2', prepay_id: 'p', pay_params: { timeStamp: '1',
			nonceStr: 'n', package: 'prepay_id=p', signType: 'RSA', paySign: 's' } }] };
	c = page('confirm');
	await c.instance.onLoad({ order: 'GYM2' });
	assert(text(c, '#title') === '会员 / 课时包' && text(c, '#amount') === '1500.00 元', 'product order shown');
	routes['GET /payment/orders/GYM2'] = [200, Object.assign({}, PO, { status: 'paid' })];
	calls.length = 0;
	await c.instance.pay();
	assert(nav.pop() === '/pages/result/result?order=GYM2&status=paid&msg=&product=1' &&
	    !calls.some((x) => x.k === 'POST /bookings/confirm'), 'paid, no booking to confirm');
	ok('confirm: a membership or pack order paid like the trial, without a booking');

	/* a regular class: booked with the membership or a credit, no form, no payment */
	routes = { 'GET /course-schedules': [200, { items: [Object.assign({}, CLASS, { id: 12, kind: 'regular' })] }],
		'POST /bookings': [201, { booking_id: 42, course_schedule_id: 12, pay_with: 'credits', status: 'confirmed' }] };
	c = page('detail');
	await c.instance.onLoad({ id: '12' });
	c.instance.onUnload();
	assert(c.querySelector('#by-credits') && !c.querySelector('#submit') && !c.querySelector('#child_name'), 'member buttons, no form');
	calls.length = 0;
	await c.instance.memberBook({ currentTarget: { dataset: { how: 'credits' } } });
	const mb = calls.find((x) => x.k === 'POST /bookings');
	assert(mb.body.course_schedule_id === 12 && mb.body.pay_with === 'credits' && mb.key, 'member booking sent');
	assert(text(c, '#booked') === '已预约（用课时），请按时到馆上课。', 'booked: ' + text(c, '#booked'));
	ok('detail: a regular class is booked with a credit at once');

	/* a 401 renews the token by wx.login */
	store.set('gym.token', 'old');
	let n = 0;
	routes = { 'POST /auth/wx-login': [200, { token: 'new', user_id: 1 }] };
	const orig = global.wx.request;
	global.wx.request = (o) => {
		if (o.url.endsWith('/payment/orders/GYM1') && n++ === 0)
			return setImmediate(() => o.success({ statusCode: 401, data: { code: 'UNAUTHORIZED' } }));
		routes['GET /payment/orders/GYM1'] = [200, ORDER];
		return orig(o);
	};
	await api.order('GYM1');
	global.wx.request = orig;
	assert(store.get('gym.token') === 'new', 'token renewed');
	ok('a 401 signs in again with wx.login and keeps the new token');
	plan();
}

main().then(() => process.exit(0), (e) => {
	console.error('not ok - ' + (e && e.stack || e));
	process.exit(1);
});
