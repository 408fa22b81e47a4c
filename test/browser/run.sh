#!/usr/bin/env bash
# The browser suite: the operators' console and the demo checkout page driven in
# headless Chromium (Debian's chromium) against the running test stack
# (stack.sh start test).  test/run_all.sh runs it once, with the normal build,
# after the end-to-end suite.
#
#   bash test/browser/run.sh            (GYM_BIN=bin by default; GYM_PORT_OFFSET honoured;
#                                        GYM_BROWSER_CHROMIUM, GYM_BROWSER_NODE: other programs)
#
# It makes an operator and an auditor with a password with gymctl, then runs test/browser/booking.js with
# Node (built-in modules only; Chromium is driven over --remote-debugging-pipe).
# Screenshots go to var/test/artifacts/ (demo.png, console.png, phone-*.png; failure.png when a
# step fails), Chromium's own output to var/test/artifacts/chromium.log.
# Exit 0 pass, 1 fail, 77 skip (no chromium or node: test/env/deps.sh installs them
# when it can).
set -euo pipefail

PROG=browser
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../env/common.sh"

LIMIT=${GYM_BROWSER_TIMEOUT:-90}

main() {
	local chromium node bin token art password
	cd "$ROOT"
	load_profile test
	chromium="${GYM_BROWSER_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
	if [[ -z "$chromium" || ! -x "$chromium" ]]; then
		printf 'SKIP: chromium is not installed (apt-get install chromium)\n'
		exit 77
	fi
	node="${GYM_BROWSER_NODE:-$(command -v node || command -v nodejs || true)}"
	if [[ -z "$node" || ! -x "$node" ]]; then
		printf 'SKIP: node is not installed (apt-get install nodejs)\n'
		exit 77
	fi
	bin="$ROOT/${GYM_BIN:-bin}"
	[[ -x "$bin/gymctl" ]] || die "$bin/gymctl not built"
	curl -fsk -o /dev/null --max-time 5 "https://127.0.0.1:$API_PORT/healthz" ||
		die "the test stack does not answer on https://127.0.0.1:$API_PORT (bash test/env/stack.sh start test)"

	# a clean simulator: no fault or clock offset left over from the e2e suite
	curl -fsS -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$SIM_PORT/sim/reset" ||
		die "the simulator does not answer on http://127.0.0.1:$SIM_PORT"

	# staff with a password (issue 19): an operator and an auditor
	password="browser pass $$"
	token="$(printf '%s\n' "$password" | "$bin/gymctl" -c "$VAR/gymd.conf" operator add "browser-test-$$" \
		--role operator --password-file - 2>/dev/null)" || die "gymctl operator add failed"
	[[ -n "$token" ]] || die "gymctl operator add printed no token"
	printf '%s\n' "$password" | "$bin/gymctl" -c "$VAR/gymd.conf" operator add "browser-auditor-$$" \
		--role auditor --password-file - >/dev/null 2>&1 || die "gymctl operator add (auditor) failed"

	art="$VAR/artifacts"
	mkdir -p "$art"
	rm -f "$art/demo.png" "$art/console.png" "$art/failure.png" "$art/chromium.log"

	log "$("$chromium" --version 2>/dev/null | head -n 1), node $("$node" --version)"
	GYM_BROWSER_BASE="https://127.0.0.1:$API_PORT" \
		GYM_BROWSER_SIM="https://127.0.0.1:$SIM_TLS_PORT" \
		GYM_BROWSER_TOKEN="$token" \
		GYM_BROWSER_STAFF="browser-test-$$" \
		GYM_BROWSER_AUDITOR="browser-auditor-$$" \
		GYM_BROWSER_PASSWORD="$password" \
		GYM_BROWSER_ARTIFACTS="$art" \
		GYM_BROWSER_ACCESS_LOG="$VAR/nginx/logs/access.log" \
		GYM_BROWSER_CHROMIUM="$chromium" \
		GYM_BROWSER_TIMEOUT="$LIMIT" \
		timeout --kill-after=10 $((LIMIT + 30)) "$node" "$ROOT/test/browser/booking.js"
}

main "$@"
