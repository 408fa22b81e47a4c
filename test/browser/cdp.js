/*
 * cdp.js: a small Chrome DevTools Protocol client over --remote-debugging-pipe,
 * using only Node's built-in modules (works with Debian 12's nodejs 18).
 *
 * Chromium reads commands from its fd 3 and writes answers and events to its
 * fd 4, one JSON message per NUL-terminated record.  A Page is one tab, attached
 * with a flat session; it clicks with real mouse events at an element's centre,
 * types with Input.insertText, evaluates expressions, waits for conditions and
 * takes screenshots.  Dialogs (window.confirm) are accepted and recorded;
 * uncaught exceptions and every request URL are recorded for the test to check.
 */
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

class Browser {
	/* Browser.launch({executable, args, log}) -> Promise<Browser> */
	static async launch(opts) {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gym-chromium-'));
		const args = [
			'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--no-default-browser-check', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--disable-extensions',
			'--disable-default-apps', '--disable-crash-reporter', '--mute-audio',
			'--hide-scrollbars', '--force-color-profile=srgb', '--ignore-certificate-errors',
			'--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
			'--disable-renderer-backgrounding', '--lang=zh-CN',
			'--window-size=1280,900', '--remote-debugging-pipe', '--user-data-dir=' + dir,
			...(opts.args || []), 'about:blank'
		];
		const logfd = opts.log ? fs.openSync(opts.log, 'a') : 'ignore';
		const proc = spawn(opts.executable, args, {
			stdio: ['ignore', logfd, logfd, 'pipe', 'pipe'],
			env: Object.assign({}, process.env, { LANG: 'zh_CN.UTF-8' })
		});
		if (typeof logfd === 'number')
			fs.closeSync(logfd);
		const b = new Browser(proc, dir);
		await b.send('Target.setDiscoverTargets', { discover: true }, undefined, 20000);
		return b;
	}

	constructor(proc, dir) {
		this.proc = proc;
		this.dir = dir;
		this.nextId = 1;
		this.pending = new Map();
		this.sessions = new Map();
		this.exited = false;
		this.buf = Buffer.alloc(0);
		this.out = proc.stdio[3];
		this.in = proc.stdio[4];
		this.in.on('data', (chunk) => this.onData(chunk));
		this.out.on('error', () => {});
		this.in.on('error', () => {});
		proc.on('exit', (code, sig) => {
			this.exited = true;
			const err = new Error('chromium exited (' + (sig || code) + ')');
			for (const p of this.pending.values())
				p.reject(err);
			this.pending.clear();
		});
	}

	onData(chunk) {
		this.buf = Buffer.concat([this.buf, chunk]);
		let end;
		while ((end = this.buf.indexOf(0)) >= 0) {
			const text = this.buf.subarray(0, end).toString('utf8');
			this.buf = this.buf.subarray(end + 1);
			let msg;
			try {
				msg = JSON.parse(text);
			} catch (e) {
				continue;
			}
			this.dispatch(msg);
		}
	}

	dispatch(msg) {
		if (msg.id !== undefined) {
			const p = this.pending.get(msg.id);
			if (!p)
				return;
			this.pending.delete(msg.id);
			clearTimeout(p.timer);
			if (msg.error)
				p.reject(new Error(p.method + ': ' + msg.error.message));
			else
				p.resolve(msg.result);
			return;
		}
		const page = msg.sessionId ? this.sessions.get(msg.sessionId) : null;
		if (page)
			page.onEvent(msg.method, msg.params || {});
	}

	/* send(method, params, sessionId, timeoutMs) -> Promise of the result */
	send(method, params, sessionId, timeoutMs) {
		if (this.exited)
			return Promise.reject(new Error('chromium is not running'));
		const id = this.nextId++;
		const msg = { id, method, params: params || {} };
		if (sessionId)
			msg.sessionId = sessionId;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error(method + ': no answer in ' + (timeoutMs || 15000) + ' ms'));
			}, timeoutMs || 15000);
			this.pending.set(id, { resolve, reject, timer, method });
			this.out.write(JSON.stringify(msg) + '\0');
		});
	}

	/* newPage() -> Promise<Page>: a new tab, attached, with its domains enabled. */
	async newPage() {
		const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
		const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
		const page = new Page(this, targetId, sessionId);
		this.sessions.set(sessionId, page);
		await Promise.all([
			page.send('Page.enable'),
			page.send('Runtime.enable'),
			page.send('Network.enable'),
			page.send('Log.enable'),
			page.send('Emulation.setDeviceMetricsOverride',
			    { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false })
		]);
		return page;
	}

	async close() {
		if (!this.exited) {
			try {
				await this.send('Browser.close', {}, undefined, 3000);
			} catch (e) { /* killed below */ }
			await new Promise((resolve) => {
				if (this.exited)
					return resolve();
				const t = setTimeout(() => { this.proc.kill('SIGKILL'); resolve(); }, 3000);
				this.proc.once('exit', () => { clearTimeout(t); resolve(); });
			});
		}
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

class Page {
	constructor(browser, targetId, sessionId) {
		this.browser = browser;
		this.targetId = targetId;
		this.sessionId = sessionId;
		this.waiters = [];
		this.exceptions = [];
		this.consoleErrors = [];
		this.requests = [];
		this.dialogs = [];
	}

	send(method, params, timeoutMs) {
		return this.browser.send(method, params, this.sessionId, timeoutMs);
	}

	onEvent(method, params) {
		switch (method) {
		case 'Page.javascriptDialogOpening':
			this.dialogs.push(params.message);
			this.send('Page.handleJavaScriptDialog', { accept: true }).catch(() => {});
			break;
		case 'Runtime.exceptionThrown': {
			const d = params.exceptionDetails || {};
			this.exceptions.push((d.exception && d.exception.description) || d.text || 'exception');
			break;
		}
		case 'Runtime.consoleAPICalled':
			if (params.type === 'error')
				this.consoleErrors.push((params.args || []).map((a) => a.value || a.description).join(' '));
			break;
		case 'Log.entryAdded':
			if (params.entry && params.entry.level === 'error')
				this.consoleErrors.push(params.entry.text + (params.entry.url ? ' ' + params.entry.url : ''));
			break;
		case 'Network.requestWillBeSent':
			this.requests.push(params.request.url);
			break;
		}
		this.waiters = this.waiters.filter((w) => {
			if (w.method !== method)
				return true;
			w.resolve(params);
			return false;
		});
	}

	/* once(method) -> Promise of the next event's params. */
	once(method, timeoutMs) {
		return new Promise((resolve, reject) => {
			const w = { method, resolve: (p) => { clearTimeout(t); resolve(p); } };
			const t = setTimeout(() => {
				this.waiters = this.waiters.filter((x) => x !== w);
				reject(new Error('no ' + method + ' in ' + timeoutMs + ' ms'));
			}, timeoutMs || 15000);
			this.waiters.push(w);
		});
	}

	async goto(url, timeoutMs) {
		const loaded = this.once('Page.loadEventFired', timeoutMs || 15000);
		const r = await this.send('Page.navigate', { url });
		if (r.errorText)
			throw new Error('navigate ' + url + ': ' + r.errorText);
		await loaded;
	}

	async bringToFront() {
		await this.send('Page.bringToFront');
	}

	/* evaluate(expr) -> the value of a JavaScript expression (awaited). */
	async evaluate(expr) {
		const r = await this.send('Runtime.evaluate',
		    { expression: expr, awaitPromise: true, returnByValue: true, userGesture: true });
		if (r.exceptionDetails) {
			const d = r.exceptionDetails;
			throw new Error('evaluate: ' + ((d.exception && d.exception.description) || d.text));
		}
		return r.result ? r.result.value : undefined;
	}

	/* waitFor(expr, what, timeoutMs) -> the first truthy value of expr. */
	async waitFor(expr, what, timeoutMs) {
		const until = Date.now() + (timeoutMs || 10000);
		let last;
		for (;;) {
			try {
				last = await this.evaluate(expr);
				if (last)
					return last;
			} catch (e) {
				last = e.message;
			}
			if (Date.now() > until)
				throw new Error('timed out waiting for ' + what + ' (last: ' + JSON.stringify(last) + ')');
			await new Promise((r) => setTimeout(r, 100));
		}
	}

	/* click(selector): a real mouse click at the centre of the (visible) element. */
	async click(selector) {
		const box = await this.evaluate(`(() => {
			const e = document.querySelector(${JSON.stringify(selector)});
			if (!e) return null;
			e.scrollIntoView({ block: 'center', inline: 'center' });
			const r = e.getBoundingClientRect();
			if (r.width === 0 || r.height === 0) return { hidden: true };
			const x = r.left + r.width / 2, y = r.top + r.height / 2;
			const top = document.elementFromPoint(x, y);
			return { x, y, covered: !(top === e || e.contains(top)), disabled: !!e.disabled };
		})()`);
		if (!box)
			throw new Error('click: no element ' + selector);
		if (box.hidden)
			throw new Error('click: ' + selector + ' is not visible');
		if (box.covered)
			throw new Error('click: ' + selector + ' is covered by another element');
		if (box.disabled)
			throw new Error('click: ' + selector + ' is disabled');
		const base = { x: box.x, y: box.y, button: 'left', clickCount: 1 };
		await this.send('Input.dispatchMouseEvent', Object.assign({ type: 'mouseMoved' }, base));
		await this.send('Input.dispatchMouseEvent', Object.assign({ type: 'mousePressed' }, base));
		await this.send('Input.dispatchMouseEvent', Object.assign({ type: 'mouseReleased' }, base));
	}

	/* type(selector, text): focus the field, empty it, type text. */
	async type(selector, text) {
		const ok = await this.evaluate(`(() => {
			const e = document.querySelector(${JSON.stringify(selector)});
			if (!e) return false;
			e.focus();
			e.value = '';
			return true;
		})()`);
		if (!ok)
			throw new Error('type: no element ' + selector);
		await this.send('Input.insertText', { text });
	}

	/* setValue(selector, value): for inputs typing cannot fill (date, select). */
	async setValue(selector, value) {
		const ok = await this.evaluate(`(() => {
			const e = document.querySelector(${JSON.stringify(selector)});
			if (!e) return false;
			e.value = ${JSON.stringify(value)};
			e.dispatchEvent(new Event('input', { bubbles: true }));
			e.dispatchEvent(new Event('change', { bubbles: true }));
			return e.value === ${JSON.stringify(value)};
		})()`);
		if (!ok)
			throw new Error('setValue: could not set ' + selector + ' to ' + value);
	}

	text(selector) {
		return this.evaluate(`(() => {
			const e = document.querySelector(${JSON.stringify(selector)});
			return e ? e.innerText : null;
		})()`);
	}

	/* screenshot(file): the whole page as PNG. */
	async screenshot(file) {
		const m = await this.send('Page.getLayoutMetrics');
		const size = m.cssContentSize || m.contentSize;
		const r = await this.send('Page.captureScreenshot', {
			format: 'png', captureBeyondViewport: true,
			clip: { x: 0, y: 0, width: Math.ceil(size.width), height: Math.min(Math.ceil(size.height), 4000), scale: 1 }
		}, 20000);
		fs.writeFileSync(file, Buffer.from(r.data, 'base64'));
	}
}

module.exports = { Browser, Page };
