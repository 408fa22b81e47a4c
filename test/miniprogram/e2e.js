/*
 * e2e.js: the mini program's own miniprogram/utils/api.js against the running test
 * stack, through wxnode.js (real HTTPS, wx.login codes the simulator accepts,
 * wx.requestPayment = the simulator's pay step).  run.sh sets it up.
 *
 *   book and pay      form checked, seat, order at the server's 200.00, JSAPI pay_params,
 *                     requestPayment ok, the paid state from the server (push when Node
 *                     has a WebSocket, else polling), the booking confirmed; 1 seat fewer
 *   cancel            requestPayment cancelled -> the order cancelled at once, seat free
 *   pay fails         the simulator's PAYERROR -> cancel -> the seat free at once
 *   second trial      the parent who paid is refused: 您已预约过体验课，无法重复预约
 *   network retry     a dropped seat-reserve is sent again with the same Idempotency-Key
 *   expired token     a 401 signs in again with wx.login and the call goes through
 *   consent           the server's templates (GET /client-config) asked before paying
 *   sold out          a class's last seat taken: its watchers see 0 (push or polling), the
 *                     next parent is told SOLD_OUT with the same course's class as the first
 *                     alternative, joins the waitlist, gets the seat when it frees (the job's
 *                     offer) and pays on the offered hold
 *   class pack        the operator's pack bought by id (the server's price), paid like the
 *                     trial with no booking to confirm; /me shows the credits; a regular
 *                     class booked with one; the payment history shows the pack
 *
 * Environment: GYM_MP_BASE, GYM_MP_SIM (simulator control, http), GYM_MP_CA,
 * GYM_MP_TOKEN (operator), GYM_MP_SOCKET=1 to use the WebSocket push.
 */
'use strict';

const path = require('path');
const https = require('https');
const fs = require('fs');
const { makeWx } = require('./wxnode');

const BASE = need('GYM_MP_BASE');
const SIM = need('GYM_MP_SIM');
const CA = need('GYM_MP_CA');
const OPERATOR = need('GYM_MP_TOKEN');
const MP = path.join(__dirname, '..', '..', 'miniprogram');

function need(n) {
	if (!process.env[n]) {
		console.error('e2e.js: ' + n + ' is not set');
		process.exit(2);
	}
	return process.env[n];
}

const { ok, assert, plan } = require('./tap');

/* a fresh copy of api.js per simulated phone (it keeps its wx in module state) */
function phone() {
	const file = require.resolve(path.join(MP, 'utils', 'api.js'));
	delete require.cache[file];
	const cfg = require.resolve(path.join(MP, 'config.js'));
	require(cfg).pollMs = 300;
	require(cfg).waitPaidMs = 20000;
	require(cfg).classPollMs = 300;
	const api = require(file);
	const wx = makeWx({ caFile: CA, simControl: SIM, socket: process.env.GYM_MP_SOCKET === '1' });
	api.setWx(wx, BASE);
	return { api, wx };
}

function admin(method, p, body) {
	const ca = fs.readFileSync(CA);
	return new Promise((resolve, reject) => {
		const req = https.request(BASE + '/api/v1' + p, { method, ca, headers: {
			Authorization: 'Bearer ' + OPERATOR, 'Content-Type': 'application/json' } }, (res) => {
			let b = '';
			res.on('data', (c) => { b += c; });
			res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(b)) :
			    reject(new Error(p + ': ' + res.statusCode + ' ' + b))));
		});
		req.on('error', reject);
		req.end(body ? JSON.stringify(body) : undefined);
	});
}

async function seats(api, id) {
	const s = (await api.classes()).find((x) => x.id === id);
	assert(s, 'class ' + id + ' listed');
	return s.available;
}

const REG = { child_name: '王小明', child_birth_date: '2019-05-20', parent_phone: '13800138000' };

async function main() {
	const start = new Date(Date.now() + 3 * 86400 * 1000);
	const cls = await admin('POST', '/admin/course-schedules', { course_name: '小程序体验课 ' + process.pid,
		starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 3600e3).toISOString(), capacity: 5 });
	const id = cls.id;
	ok('operator made class ' + id + ' with 5 seats');

	/* the form is checked before anything is sent */
	const a = phone();
	assert(a.api.validate(Object.assign({}, REG, { parent_phone: '12800138000' })).msg === '请填写 11 位手机号。',
	    'a 12... phone refused');
	assert(!a.api.validate(Object.assign({}, REG, { child_birth_date: '' })).ok, 'no birth date refused');
	assert(!a.api.validate(Object.assign({}, REG, { child_name: ' ' })).ok, 'no name refused');
	const v = a.api.validate(Object.assign({}, REG, { note: '怕高' }));
	assert(v.ok && v.body.note === '怕高', 'a good form passes with its note');
	assert(a.wx.log.length === 0, 'nothing sent for the checks');
	ok('the registration form is checked on the phone');

	/* book and pay; the first seat-reserve is dropped and resent with its key */
	assert(await seats(a.api, id) === 5, '5 seats at first');
	a.wx.failNext = 0;
	const loginCalls = a.wx.log.filter((l) => l.includes('/auth/wx-login')).length;
	assert(loginCalls === 1, 'signed in once by wx.login: ' + loginCalls);
	a.wx.failNext = 1;
	const o = await a.api.book(id, v.body, 'e2e' + process.pid);
	const holds = a.wx.log.filter((l) => l.startsWith('POST /api/v1/bookings/seat-reserve'));
	assert(holds.length === 2 && holds[0] === holds[1], 'the retry kept its Idempotency-Key: ' + holds.join(' | '));
	assert(o.amount === '200.00' && o.amount_fen === 20000 && o.status === 'pending', 'order at 200.00: ' + JSON.stringify(o));
	ok('seat and order ' + o.order_id + ' at the server\'s 200.00; a dropped request resent with the same key');

	a.wx.payResult = 'success';
	const paid = await a.api.pay(o);
	assert(paid.status === 'paid' && paid.booking && paid.booking.status === 'confirmed',
	    'paid and booked: ' + JSON.stringify(paid));
	assert(a.wx.log.some((l) => l === 'requestPayment requestPayment:ok'), 'requestPayment went through the simulator');
	assert(await seats(a.api, id) === 4, '4 seats left after the booking');
	ok('requestPayment ok -> the server says paid -> booking ' + paid.booking.booking_id + ' confirmed' +
	    (a.wx.pushed ? ' (by WebSocket push)' : ' (by polling)'));

	/* the same parent cannot take a second trial */
	let refused = null;
	try {
		await a.api.book(id, v.body, 'again' + process.pid);
	} catch (e) {
		refused = e;
	}
	assert(refused && a.api.message(refused) === '您已预约过体验课，无法重复预约',
	    'second trial refused: ' + (refused && a.api.message(refused)));
	ok('a second trial is refused: ' + a.api.message(refused));

	/* an expired token is renewed by wx.login */
	a.wx.setStorageSync(a.api.TOKEN_KEY, 'expired-token');
	const again = await a.api.order(o.order_id);
	assert(again.status === 'paid', 'the order read after a new login: ' + again.status);
	assert(a.wx.getStorageSync(a.api.TOKEN_KEY) !== 'expired-token', 'a new token stored');
	ok('a 401 signs in again with wx.login');

	/* cancel in the pay sheet: the order is cancelled at once, the seat is free */
	for (const how of ['cancel', 'PAYERROR']) {
		const b = phone();
		const ob = await b.api.book(id, Object.assign({}, REG, { parent_phone: '13900139000' }), how + process.pid);
		assert(await seats(b.api, id) === 3, 'a seat held');
		b.wx.payResult = how;
		const r = await b.api.pay(ob);
		assert(b.wx.log.some((l) => l.startsWith('POST /api/v1/payment/orders/' + ob.order_id + '/cancel')),
		    'the cancel endpoint called');
		assert(r.status === 'cancelled' || r.status === 'failed', how + ': order ' + r.status);
		assert(await seats(b.api, id) === 4, how + ': the seat free at once');
		assert(r.msg === (how === 'cancel' ? '已取消支付，名额已释放。' : '支付未成功，名额已释放，可以重新预约。'),
		    'the parent is told: ' + r.msg);
		ok('requestPayment ' + how + ' -> order ' + r.status + ', seat free at once: ' + r.msg);
	}

	/* the subscribe consent: the server's templates for the moment, asked before paying */
	const cp = phone();
	await cp.api.clientConfig();
	const accepted = await cp.api.consent('pay');
	assert(accepted.join() === 'tpl-booking-confirmed,tpl-payment-failed,tpl-class-cancelled',
	    'the pay templates: ' + accepted.join());
	assert((await cp.api.consent('waitlist')).join() === 'tpl-waitlist-offer', 'the waitlist template');
	ok('consent: GET /client-config names the templates; asked before paying: ' + accepted.join());

	/* sold out: a one-seat class of the same course an hour later */
	const xs = new Date(start.getTime() + 3600e3);
	const x = (await admin('POST', '/admin/course-schedules', { course_name: cls.course_name,
		starts_at: xs.toISOString(), ends_at: new Date(xs.getTime() + 3600e3).toISOString(), capacity: 1 })).id;
	const c = phone(), d = phone();
	const counts = [];
	const stop = c.api.watchClass(x, (n) => counts.push(n));
	const oc = await c.api.book(x, REG, 'last' + process.pid);
	for (let i = 0; i < 50 && counts[counts.length - 1] !== 0; i++)
		await new Promise((r) => setTimeout(r, 100));
	stop();
	assert(counts[counts.length - 1] === 0, 'the watcher saw the class full: ' + counts.join());
	let full = null;
	try {
		await d.api.book(x, REG, 'full' + process.pid);
	} catch (e) {
		full = e;
	}
	assert(full && full.code === 'SOLD_OUT' && full.alternatives.length > 0 && full.alternatives[0].id === id,
	    'SOLD_OUT with the same course first: ' + JSON.stringify(full && full.alternatives));
	const w = await d.api.joinWaitlist(x, 'wl' + process.pid);
	assert(w.state === 'waiting' && w.position === 1, 'first in the queue: ' + JSON.stringify(w));
	await c.api.cancel(oc.order_id);
	let offer = null;
	for (let i = 0; i < 60 && !offer; i++) {
		const mine = await d.api.request('GET', '/bookings/waitlist');
		offer = (mine.items || []).find((e) => e.course_schedule_id === x && e.state === 'offered');
		if (!offer)
			await new Promise((r) => setTimeout(r, 200));
	}
	assert(offer && offer.hold && offer.hold.reservation_id, 'the freed seat offered to the waiting parent');
	const od = await d.api.book(x, REG, 'offer' + process.pid, offer.hold.reservation_id);
	d.wx.payResult = 'success';
	const pd = await d.api.pay(od);
	assert(pd.status === 'paid', 'the offer paid: ' + pd.status);
	ok('sold out: watchers saw ' + counts.join('->') + (c.wx.pushed ? ' (push)' : ' (polling)') +
	    '; SOLD_OUT offered class ' + id + '; the waitlist got the freed seat and paid it');

	/* a class pack: bought by id, paid, its credits spent on a regular class */
	const pack = await admin('POST', '/admin/products', { kind: 'class_pack', name: '小程序课包 ' + process.pid,
		price_fen: 150000, days: 90, credits: 10 });
	const rs = new Date(start.getTime() + 2 * 3600e3);
	const reg = (await admin('POST', '/admin/course-schedules', { course_name: '基础班 ' + process.pid,
		starts_at: rs.toISOString(), ends_at: new Date(rs.getTime() + 3600e3).toISOString(), capacity: 8,
		kind: 'regular' })).id;
	const m = phone();
	const listed = (await m.api.products()).find((p) => p.id === pack.id);
	assert(listed && listed.price === '1500.00', 'the pack listed at the server\'s price');
	const po = await m.api.buy(pack.id, 'pack' + process.pid);
	assert(po.amount_fen === 150000 && !po.course_schedule_id, 'a product order: ' + JSON.stringify(po));
	m.wx.payResult = 'success';
	const pp = await m.api.pay(po);
	assert(pp.status === 'paid' && pp.booking === null, 'paid, nothing to confirm: ' + JSON.stringify(pp));
	let acct = await m.api.me();
	assert(acct.credits.balance === 10, 'ten credits: ' + JSON.stringify(acct.credits));
	assert((await m.api.classes()).find((x) => x.id === reg).kind === 'regular', 'the class says regular');
	const mb = await m.api.memberBook(reg, 'credits', 'mb' + process.pid);
	acct = await m.api.me();
	assert(acct.credits.balance === 9 && acct.bookings.some((b) => b.booking_id === mb.booking_id),
	    'one credit spent, the booking listed: ' + JSON.stringify(acct));
	const h = await m.api.history(1, 10);
	assert(h.total === 1 && h.payments[0].order_id === po.order_id && h.payments[0].amount === '1500.00',
	    'the history: ' + JSON.stringify(h));
	await m.api.memberCancel(mb.booking_id);
	assert((await m.api.me()).credits.balance === 10, 'cancelled before the cutoff: the credit back');
	ok('class pack ' + pack.id + ' bought and paid; a regular class booked with a credit and cancelled; history shows it');
	plan();
}

main().catch((e) => {
	console.error('not ok - ' + (e && e.stack || e));
	process.exit(1);
});
