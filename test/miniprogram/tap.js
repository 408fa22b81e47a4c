/* tap.js: the TAP lines of the mini program suite (ok N - what; 1..N at the end). */
'use strict';

let passed = 0;

function ok(what) {
	passed++;
	console.log('ok ' + passed + ' - ' + what);
}

function assert(c, what) {
	if (!c)
		throw new Error('assertion failed: ' + what);
}

function plan() {
	console.log('1..' + passed);
}

module.exports = { ok, assert, plan };
