/*
 * wxnode.js: the few wx.* calls miniprogram/utils/api.js makes, for Node against the
 * test stack: wx.request over real HTTPS (the stack's CA), wx.login codes the WeChat
 * simulator turns into openids (one stable code per simulated phone), storage in memory,
 * wx.requestPayment bound to the simulator's POST /sim/request-payment (result: success,
 * cancel or PAYERROR, set per call with .payResult), wx.connectSocket absent unless
 * Node has a WebSocket (Node 22+): then it is a real WebSocket with the CA.
 */
'use strict';

const https = require('https');
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');

function makeWx(opts) {
	const ca = fs.readFileSync(opts.caFile);
	const agent = new https.Agent({ ca, keepAlive: false });
	const code = 'mp-' + crypto.randomBytes(8).toString('hex');
	const store = new Map();
	const log = [];
	const w = {
		payResult: 'success',
		log,
		getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
		setStorageSync: (k, v) => { store.set(k, v); },
		removeStorageSync: (k) => { store.delete(k); },
		login: (o) => setImmediate(() => o.success({ code, errMsg: 'login:ok' })),
		request(o) {
			const u = new URL(o.url);
			log.push(o.method + ' ' + u.pathname + (o.header['Idempotency-Key'] ? ' key=' + o.header['Idempotency-Key'] : ''));
			if (w.failNext > 0) {	/* a dropped connection, as the phone sees it */
				w.failNext--;
				setImmediate(() => o.fail({ errMsg: 'request:fail timeout' }));
				return;
			}
			const req = https.request(u, { method: o.method, headers: o.header, agent, timeout: 15000 }, (res) => {
				let b = '';
				res.setEncoding('utf8');
				res.on('data', (c) => { b += c; });
				res.on('end', () => {
					let data = b;
					try {
						data = b ? JSON.parse(b) : '';
					} catch (e) { /* kept as text, as wx.request does */ }
					o.success({ statusCode: res.statusCode, data, header: res.headers });
				});
			});
			req.on('timeout', () => req.destroy(new Error('timeout')));
			req.on('error', (e) => o.fail({ errMsg: 'request:fail ' + e.message }));
			if (o.data !== undefined)
				req.write(o.data);
			req.end();
		},
		requestPayment(o) {
			const body = JSON.stringify({ timeStamp: o.timeStamp, nonceStr: o.nonceStr, package: o.package,
				signType: o.signType, paySign: o.paySign, result: w.payResult });
			const req = http.request(opts.simControl + '/sim/request-payment',
			    { method: 'POST', headers: { 'Content-Type': 'application/json' }, timeout: 15000 }, (res) => {
				let b = '';
				res.on('data', (c) => { b += c; });
				res.on('end', () => {
					let j = {};
					try {
						j = JSON.parse(b);
					} catch (e) { /* below */ }
					const msg = j.errMsg || ('requestPayment:fail HTTP ' + res.statusCode);
					log.push('requestPayment ' + msg);
					if (msg === 'requestPayment:ok')
						o.success({ errMsg: msg });
					else
						o.fail({ errMsg: msg });
				});
			});
			req.on('error', (e) => o.fail({ errMsg: 'requestPayment:fail ' + e.message }));
			req.end(body);
		}
	};
	/* the parent accepts every template asked (the sheet is WeChat's own UI) */
	w.requestSubscribeMessage = (o) => {
		log.push('requestSubscribeMessage ' + o.tmplIds.join(','));
		setImmediate(() => o.success(Object.fromEntries(o.tmplIds.map((t) => [t, 'accept']))));
	};
	if (typeof WebSocket === 'function' && opts.socket) {
		w.connectSocket = (o) => {
			log.push('connectSocket');
			const ws = new WebSocket(o.url);
			return {
				onMessage: (f) => ws.addEventListener('message', (e) => { w.pushed = true; f({ data: e.data }); }),
				onClose: (f) => ws.addEventListener('close', () => f({})),
				onError: (f) => ws.addEventListener('error', () => f({})),
				close: () => ws.close()
			};
		};
	}
	return w;
}

module.exports = { makeWx };
