#!/usr/bin/env bash
# The mini program suite: miniprogram/ (the parents' WeChat mini program) tested under Node.
#
#   bash test/miniprogram/run.sh            (GYM_BIN=bin by default; GYM_PORT_OFFSET honoured)
#
#   pages  each page rendered with miniprogram-simulate (j-component) and driven, with a
#          fake wx: what the parent sees (pages.test.js).  The npm tools come from
#          `npm ci` with the committed package-lock.json (into test/miniprogram/node_modules).
#   e2e    the mini program's own utils/api.js against the running test stack
#          (stack.sh start test), wx.* backed by real HTTPS and the WeChat simulator
#          (e2e.js, wxnode.js).  Skipped with GYM_MP_NO_STACK=1.
# Exit 0 pass, 1 fail, 77 skip (no node or npm, or the registry cannot be reached).
set -euo pipefail

PROG=miniprogram
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../env/common.sh"

main() {
	local node npm here bin token sock=0
	cd "$ROOT"
	load_profile test
	here="$ROOT/test/miniprogram"
	node="${GYM_MP_NODE:-$(command -v node || command -v nodejs || true)}"
	npm="$(command -v npm || true)"
	if [[ -z "$node" || -z "$npm" ]]; then
		printf 'SKIP: node or npm is not installed (apt-get install nodejs npm)\n'
		exit 77
	fi
	if [[ ! -f "$here/node_modules/.package-lock.json" ||
	    "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
		if ! (cd "$here" && timeout 300 "$npm" ci --no-audit --no-fund --loglevel=error); then
			printf 'SKIP: npm ci failed (is the npm registry reachable?)\n'
			exit 77
		fi
	fi
	log "node $("$node" --version), miniprogram-simulate $(cd "$here" && "$node" -p 'require("miniprogram-simulate/package.json").version')"
	timeout 120 "$node" "$here/pages.test.js"

	[[ "${GYM_MP_NO_STACK:-0}" == 1 ]] && return 0
	bin="$ROOT/${GYM_BIN:-bin}"
	[[ -x "$bin/gymctl" ]] || die "$bin/gymctl not built"
	curl -fsk -o /dev/null --max-time 5 "https://127.0.0.1:$API_PORT/healthz" ||
		die "the test stack does not answer on https://127.0.0.1:$API_PORT (bash test/env/stack.sh start test)"
	curl -fsS -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$SIM_PORT/sim/reset" ||
		die "the simulator does not answer on http://127.0.0.1:$SIM_PORT"
	token="$("$bin/gymctl" -c "$VAR/gymd.conf" operator add "mp-test-$$" --role operator 2>/dev/null)" ||
		die "gymctl operator add failed"
	# the live push by WebSocket where Node has one (20.10+ behind a flag)
	local flags=()
	if "$node" --experimental-websocket -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
		flags=(--experimental-websocket)
		sock=1
	elif "$node" -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)'; then
		sock=1
	fi
	GYM_MP_BASE="https://127.0.0.1:$API_PORT" \
		GYM_MP_SIM="http://127.0.0.1:$SIM_PORT" \
		GYM_MP_CA="$VAR/tls/cert.pem" \
		NODE_EXTRA_CA_CERTS="$VAR/tls/cert.pem" \
		GYM_MP_TOKEN="$token" \
		GYM_MP_SOCKET="$sock" \
		timeout --kill-after=10 120 "$node" "${flags[@]}" "$here/e2e.js"
}

main "$@"
