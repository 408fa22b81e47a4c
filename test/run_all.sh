#!/usr/bin/env bash
# Every test suite, twice: with the normal build (bin/) and with the ASan/UBSan
# build (build-asan/bin/).  `make test` runs this after building both.
# Once per run, before the passes: ops, tls (test/ops/check_tls.sh) and, beside
# them, fuzz (make fuzz: the libFuzzer harnesses); the ASan pass first checks that
# LeakSanitizer reports a planted leak (leakcheck).
#
# Each pass: unit (check_unit), integration (check_integ against a fresh
# database gym_integ and its own wxsim (and alisim, the Alipay simulator, on
# SIM_TLS_PORT + 1), which speaks TLS itself on the
# profile's SIM_TLS_PORT: no nginx; see test/harness/simtest.h), the test stack (stack.sh start test on a fresh database
# gym) with the end-to-end suite (check_e2e) against it (and, in the normal
# build's pass only, the browser suite test/browser/run.sh, the mini program
# suite test/miniprogram/run.sh and the fault
# driver bin/fault_driver on a fresh stack), then a scan of
# var/test/log/*.log for sanitizer reports.  A suite whose program was not
# built (check_integ, check_e2e) is skipped; check_unit is required.
# Logs: var/test/log/ (a pass's logs are kept in var/test/log/<pass>/).  The
# summary ends with each failed suite's log and its failing checks (12 lines
# at most, fewer when several failed), so CI's last 40 lines name them.
#
# Usage: run_all.sh [SUITE...]
#   no SUITE   everything above, both passes (make test, CI)
#   SUITE      only these, in the order above, in one pass with the programs
#              of $GYM_BIN (default bin):
#                unit   check_unit (no PostgreSQL)           make check
#                integ  check_integ on a private PostgreSQL  make check-integ
#                e2e    the test stack and check_e2e         make check-e2e
#                live, browser, miniprogram, fault (each on the test stack),
#                ops, tls, fuzz
#              and "asan" adds the pass of build-asan/bin for the per-pass
#              suites selected (the ASan pass of make test).
# The ASan pass exports GYM_TEST_NO_HEAVY=1: the 200-client seat race and
# the 100k-hold sweep of check_integ ran in the normal pass and are left out.
set -euo pipefail

PROG=run_all.sh
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/env/common.sh"
ENV_DIR="$ROOT/test/env"

# Per-suite time limits (seconds); a hung suite fails instead of hanging CI.
# T_FUZZ covers building the harnesses and running them (test/fuzz/run.sh).
T_FUZZ=600
T_UNIT=300 T_INTEG=600 T_E2E=900 T_BROWSER=180 T_LIVE=300 T_MINIPROGRAM=600
T_FAULT=400

SANITIZER_PATTERN='ERROR: AddressSanitizer|runtime error:|LeakSanitizer'

declare -a SUMMARY=()
FAILURES=0
TOUCHED_STACK=0
INTEG_SIM_PID=""
INTEG_ALISIM_PID=""
LIVE_DONE=0

# record RESULT PASS SUITE SECONDS [NOTE]: print and remember one result line.
record() {
	local line
	line="$(printf '%-4s  %-14s %-10s %4ss  %s' "$1" "$2" "$3" "$4" "${5:-}")"
	SUMMARY+=("$line")
	if [[ "$1" == FAIL ]]; then
		FAILURES=$((FAILURES + 1))
	fi
	printf '\n== %s\n\n' "$line"
}

# log_of LABEL SUITE: where the log of SUITE in the pass LABEL is once the
# pass's logs are archived (a directory for sanitizers, nothing for leakcheck).
log_of() {
	case "$2" in
	ops | tls | fuzz) printf '%s' "$LOGDIR/once/$2.log" ;;
	sanitizers) printf '%s' "$LOGDIR/${1//\//_}" ;;
	leakcheck | build) ;;
	*) printf '%s' "$LOGDIR/${1//\//_}/$2.log" ;;
	esac
}

# failure_detail LABEL SUITE MAXLINES: what CI's tail needs to see of a failed
# suite: its log's path and Check's failing checks (file.c:N:F:... or :E:)
# with Check's count line, the sanitizer reports' first lines, the FAIL lines
# of the ops scripts or the fault driver's violated invariants (with the log's
# last line), or else the log's last lines; at most MAXLINES lines of it,
# each cut to 200 characters.
failure_detail() {
	local label="$1" suite="$2" max="$3" log lines n
	log="$(log_of "$label" "$suite")"
	if [[ -z "$log" ]]; then
		return 0
	fi
	printf -- '-- %s %s: %s\n' "$label" "$suite" "${log#"$ROOT"/}"
	if [[ "$suite" == sanitizers ]]; then
		lines="$(grep -H -m 2 -E "$SANITIZER_PATTERN" "$log"/*.log 2>/dev/null || true)"
	elif [[ ! -f "$log" ]]; then
		printf '   (no log)\n'
		return 0
	else
		lines="$(grep -E '^[^[:space:]]+:[0-9]+:[EF]:' "$log" || true)"
		if [[ -n "$lines" ]]; then
			lines="$(grep -E '^[0-9]+%: Checks:' "$log" | tail -n 1 || true)"$'\n'"$lines"
		else
			# the ops, tls and live scripts' FAIL lines, the fault
			# driver's violated invariants, each with what follows it
			lines="$(grep -E -A 3 '^FAIL  |^ *invariant .* [1-9][0-9]* violations' "$log" |
				grep -v '^--$' || true)"
			if [[ -n "$lines" ]]; then
				lines="$(tail -n 1 "$log")"$'\n'"$lines"
			else
				lines="$(tail -n 10 "$log")"
			fi
		fi
	fi
	n="$(printf '%s\n' "$lines" | wc -l)"
	printf '%s\n' "$lines" | head -n "$max" | cut -c 1-200 | sed "s|$ROOT/||g; s/^/   /"
	if ((n > max)); then
		printf '   ... %d more line(s) in the log\n' $((n - max))
	fi
}

# run_logged LOG TIMEOUT CMD...: run CMD under a time limit, output to the
# terminal and to LOG; return CMD's status (124 on timeout).  The Check
# programs run as "setsid PROG": on the SIGTERM of a timeout Check kills its
# process group, which would otherwise be this script's (the run would end
# there, without its summary); setsid makes PROG (the same process, timeout
# still signals it) lead a group of its own.
run_logged() {
	local logfile="$1" limit="$2" rc
	shift 2
	set +e
	timeout --foreground --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$logfile"
	rc="${PIPESTATUS[0]}"
	set -e
	# bash runs no INT trap when the child exits with a status after SIGINT
	case "$rc" in
	130) exit 130 ;;
	143) exit 143 ;;
	esac
	return "$rc"
}

# status_of RC: the word for a suite's exit status.
status_of() {
	case "$1" in
	0) printf PASS ;;
	77) printf SKIP ;;
	*) printf FAIL ;;
	esac
}

note_of() {
	case "$1" in
	0) ;;
	77) printf 'skipped by the suite (exit 77)' ;;
	124 | 137) printf 'timed out' ;;
	*) printf 'exit %s' "$1" ;;
	esac
}

stop_test_stack() {
	bash "$ENV_DIR/stack.sh" stop test || log "stopping the test stack failed"
}

cleanup() {
	local rc=$?
	if [[ -n "$FUZZ_PID" ]]; then
		kill -TERM "$FUZZ_PID" 2>/dev/null || true
		wait "$FUZZ_PID" 2>/dev/null || true
	fi
	stop_integ_sim
	if ((TOUCHED_STACK)); then
		log "stopping the test stack"
		stop_test_stack >/dev/null 2>&1 || stop_test_stack || true
	fi
	exit "$rc"
}

# ck_fork LABEL: CK_FORK for the Check suites of unit and integ in the pass
# LABEL.  Under ASan each forked test costs ~0.2 s more (measured under load:
# check_unit 117 s forked, 13 s in one process; check_integ 190 s and 132 s),
# so the ASan pass runs their checks in one process (both pass with
# CK_FORK=no; the normal pass forks each one, with Check's per-test time
# limits); LeakSanitizer then checks the whole run at its exit, and a report
# fails the suite and the sanitizers line.  A CK_FORK already set wins.
ck_fork() {
	if [[ -n "${CK_FORK:-}" || "$1" != build-asan/bin ]]; then
		printf '%s' "${CK_FORK:-}"
	else
		printf no
	fi
}

# ---- suites --------------------------------------------------------------------------------

suite_unit() {
	local label="$1" bin="$2" start=$SECONDS rc=0
	if [[ ! -x "$bin/check_unit" ]]; then
		record FAIL "$label" unit 0 "$label/check_unit not built"
		return 0
	fi
	CK_FORK="$(ck_fork "$label")" run_logged "$LOGDIR/unit.log" "$T_UNIT" setsid "$bin/check_unit" || rc=$?
	record "$(status_of "$rc")" "$label" unit $((SECONDS - start)) "$(note_of "$rc")"
}

# wait_healthz PID URL SECS: 0 once URL answers over the test stack's TLS
# certificate, 1 when PID dies or SECS pass first.
wait_healthz() {
	local pid="$1" url="$2" deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		pid_alive "$pid" || return 1
		curl -s -o /dev/null -m 1 --cacert "$VAR/tls/cert.pem" "$url" && return 0
		sleep 0.1
	done
	return 1
}

# start_integ_sim BIN LOG: BIN/wxsim for check_integ (no nginx): plain HTTP
# (the control API) on SIM_PORT and its own TLS, with the test stack's
# certificate, on SIM_TLS_PORT; the test keys stack.sh prepare installed in
# $VAR/simkeys.  Sets INTEG_SIM_PID; 1 when it does not answer within 10 s.
start_integ_sim() {
	local bin="$1" logfile="$2" ms ps
	ms="$(openssl x509 -in "$VAR/simkeys/merchant_cert.pem" -noout -serial)" || return 1
	ps="$(openssl x509 -in "$VAR/simkeys/platform_cert.pem" -noout -serial)" || return 1
	"$bin/wxsim" --listen "127.0.0.1:$SIM_PORT" --keys "$VAR/simkeys" \
		--tls-listen "127.0.0.1:$SIM_TLS_PORT" --tls-cert "$VAR/tls/cert.pem" \
		--tls-key "$VAR/tls/key.pem" --merchant-serial "${ms#serial=}" \
		--platform-serial "${ps#serial=}" --retry-scale 0.01 \
		--notify-cainfo "$VAR/tls/cert.pem" --secret-file "$VAR/secrets/app_secret" \
		>>"$logfile" 2>&1 </dev/null &
	INTEG_SIM_PID=$!
	wait_healthz "$INTEG_SIM_PID" "https://127.0.0.1:$SIM_TLS_PORT/healthz" 10
}

# start_integ_alisim BIN LOG: BIN/alisim (the Alipay simulator) for
# check_integ on ALISIM_PORT (SIM_TLS_PORT + 1) with the test stack's
# certificate and the Alipay test keys of test/vectors/keys.  Sets
# INTEG_ALISIM_PID; 1 when it does not answer within 10 s.
start_integ_alisim() {
	local bin="$1" logfile="$2" keys="$ROOT/test/vectors/keys"
	"$bin/alisim" --listen "127.0.0.1:$ALISIM_PORT" --tls-cert "$VAR/tls/cert.pem" \
		--tls-key "$VAR/tls/key.pem" --app-pub "$keys/alipay_app_pub.pem" \
		--alipay-key "$keys/alipay_platform_key.pem" --notify-cainfo "$VAR/tls/cert.pem" \
		--retry-scale 0.01 \
		>>"$logfile" 2>&1 </dev/null &
	INTEG_ALISIM_PID=$!
	wait_healthz "$INTEG_ALISIM_PID" "https://127.0.0.1:$ALISIM_PORT/healthz" 10
}

# stop_integ_alisim: SIGTERM the alisim of start_integ_alisim.
stop_integ_alisim() {
	[[ -n "$INTEG_ALISIM_PID" ]] || return 0
	kill -TERM "$INTEG_ALISIM_PID" 2>/dev/null || true
	wait_gone "$INTEG_ALISIM_PID" 5 || kill -KILL "$INTEG_ALISIM_PID" 2>/dev/null || true
	wait "$INTEG_ALISIM_PID" 2>/dev/null || true
	INTEG_ALISIM_PID=""
}

# stop_integ_sim: SIGTERM the wxsim of start_integ_sim, SIGKILL after 5 s.
stop_integ_sim() {
	[[ -n "$INTEG_SIM_PID" ]] || return 0
	kill -TERM "$INTEG_SIM_PID" 2>/dev/null || true
	wait_gone "$INTEG_SIM_PID" 5 || kill -KILL "$INTEG_SIM_PID" 2>/dev/null || true
	wait "$INTEG_SIM_PID" 2>/dev/null || true
	INTEG_SIM_PID=""
}

suite_integ() {
	local label="$1" bin="$2" start=$SECONDS rc=0 conf="$VAR/integ.conf"
	if [[ ! -x "$bin/check_integ" ]]; then
		record SKIP "$label" integ 0 "$label/check_integ not built"
		return 0
	fi
	if [[ ! -x "$bin/gymctl" ]]; then
		record FAIL "$label" integ 0 "$label/gymctl not built (needed to migrate)"
		return 0
	fi
	TOUCHED_STACK=1
	if ! bash "$ENV_DIR/stack.sh" prepare test >>"$LOGDIR/integ.log" 2>&1 ||
		! bash "$ENV_DIR/pg.sh" recreatedb test gym_integ >>"$LOGDIR/integ.log" 2>&1; then
		tail -n 20 "$LOGDIR/integ.log" >&2
		record FAIL "$label" integ $((SECONDS - start)) "could not prepare PostgreSQL"
		return 0
	fi
	sed "s|^db = .*|db = $(conninfo gym_integ)|" "$VAR/gymd.conf" >"$conf"
	if ! run_logged "$LOGDIR/integ.log" 120 "$bin/gymctl" -c "$conf" migrate; then
		record FAIL "$label" integ $((SECONDS - start)) "gymctl migrate on gym_integ failed"
		return 0
	fi
	if [[ ! -x "$bin/wxsim" ]]; then
		record FAIL "$label" integ $((SECONDS - start)) "$label/wxsim not built (check_integ pays on it)"
		return 0
	fi
	if ! start_integ_sim "$bin" "$LOGDIR/integ-wxsim.log"; then
		stop_integ_sim
		tail -n 20 "$LOGDIR/integ-wxsim.log" >&2
		record FAIL "$label" integ $((SECONDS - start)) \
			"wxsim did not answer on https://127.0.0.1:$SIM_TLS_PORT (ports taken?)"
		return 0
	fi
	ALISIM_PORT=$((SIM_TLS_PORT + 1))
	if [[ -x "$bin/alisim" ]] && ! start_integ_alisim "$bin" "$LOGDIR/integ-alisim.log"; then
		stop_integ_alisim
		stop_integ_sim
		tail -n 20 "$LOGDIR/integ-alisim.log" >&2
		record FAIL "$label" integ $((SECONDS - start)) \
			"alisim did not answer on https://127.0.0.1:$ALISIM_PORT (port taken?)"
		return 0
	fi
	GYM_TEST_PGURI="$(conninfo gym_integ)" \
		GYM_TEST_ALISIM_BASE="${INTEG_ALISIM_PID:+https://127.0.0.1:$ALISIM_PORT}" \
		GYM_TEST_SIM_BASE="https://127.0.0.1:$SIM_TLS_PORT" \
		GYM_TEST_SIM_CTL="http://127.0.0.1:$SIM_PORT" \
		GYM_TEST_SIM_CA="$VAR/tls/cert.pem" \
		GYM_TEST_SIM_CONF="$conf" \
		CK_FORK="$(ck_fork "$label")" \
		run_logged "$LOGDIR/integ.log" "$T_INTEG" setsid "$bin/check_integ" || rc=$?
	stop_integ_alisim
	stop_integ_sim
	record "$(status_of "$rc")" "$label" integ $((SECONDS - start)) "$(note_of "$rc")"
}

# suite_e2e: start the test stack on a fresh database, then run check_e2e.
suite_e2e() {
	local label="$1" bin="$2" start=$SECONDS rc=0
	TOUCHED_STACK=1
	if ! bash "$ENV_DIR/pg.sh" start test >>"$LOGDIR/stack.log" 2>&1 ||
		! bash "$ENV_DIR/pg.sh" recreatedb test gym >>"$LOGDIR/stack.log" 2>&1 ||
		! run_logged "$LOGDIR/stack.log" 120 env GYM_BIN="$label" bash "$ENV_DIR/stack.sh" start test; then
		record FAIL "$label" stack $((SECONDS - start)) "stack.sh start test failed (see var/test/log/stack.log)"
		record FAIL "$label" e2e 0 "no stack"
		return 0
	fi
	record PASS "$label" stack $((SECONDS - start))
	start=$SECONDS
	if [[ ! -x "$bin/check_e2e" ]]; then
		record SKIP "$label" e2e 0 "$label/check_e2e not built"
		return 0
	fi
	GYM_E2E_BASE="https://127.0.0.1:$API_PORT" \
		GYM_E2E_SIM="http://127.0.0.1:$SIM_PORT" \
		GYM_E2E_CONF="var/test/gymd.conf" \
		GYM_E2E_VAR="var/test" \
		GYM_E2E_PGURI="$(conninfo gym)" \
		GYM_BIN="$label" \
		run_logged "$LOGDIR/e2e.log" "$T_E2E" setsid "$bin/check_e2e" || rc=$?
	record "$(status_of "$rc")" "$label" e2e $((SECONDS - start)) "$(note_of "$rc")"
}

# suite_browser: the console and the demo page in headless Chromium against the
# stack suite_e2e started (test/browser/run.sh; screenshots in var/test/artifacts/).
# SKIP with the reason when chromium or node is missing.
suite_browser() {
	local label="$1" start=$SECONDS rc=0 note
	if [[ ! -f "$ROOT/test/browser/run.sh" ]]; then
		record SKIP "$label" browser 0 "test/browser/run.sh missing"
		return 0
	fi
	if ! curl -fsk -o /dev/null --max-time 5 "https://127.0.0.1:$API_PORT/healthz"; then
		record FAIL "$label" browser 0 "no stack"
		return 0
	fi
	GYM_BIN="$label" run_logged "$LOGDIR/browser.log" "$T_BROWSER" bash "$ROOT/test/browser/run.sh" || rc=$?
	note="$(note_of "$rc")"
	if ((rc == 77)); then
		note="$(sed -n 's/^SKIP: //p' "$LOGDIR/browser.log" | head -n 1)"
	fi
	record "$(status_of "$rc")" "$label" browser $((SECONDS - start)) "$note"
}

# suite_miniprogram: the parents' mini program (miniprogram/) under Node: its pages in
# miniprogram-simulate, then its own utils/api.js against the stack suite_e2e started
# (test/miniprogram/run.sh).  SKIP with the reason when node or npm (or the registry
# for `npm ci`) is missing.
suite_miniprogram() {
	local label="$1" start=$SECONDS rc=0 note
	if ! curl -fsk -o /dev/null --max-time 5 "https://127.0.0.1:$API_PORT/healthz"; then
		record FAIL "$label" miniprogram 0 "no stack"
		return 0
	fi
	GYM_BIN="$label" run_logged "$LOGDIR/miniprogram.log" "$T_MINIPROGRAM" \
		bash "$ROOT/test/miniprogram/run.sh" || rc=$?
	note="$(note_of "$rc")"
	if ((rc == 77)); then
		note="$(sed -n 's/^SKIP: //p' "$LOGDIR/miniprogram.log" | head -n 1)"
	fi
	record "$(status_of "$rc")" "$label" miniprogram $((SECONDS - start)) "$note"
}

# suite_fault: faults under load (test/fault/, docs/reliability.md) on a fresh
# database and simulator, so the invariants and the cross-check with the
# simulator cover everything in them.  GYM_FAULT_SECONDS and GYM_FAULT_CLIENTS
# change the run's length (default 60 s) and clients (default 4), and
# GYM_FAULT_ATTEMPTS ends it earlier after that many booking attempts; the time
# limit is T_FAULT beyond the run's length.
suite_fault() {
	local label="$1" bin="$2" start=$SECONDS rc=0 counts note
	if [[ ! -x "$bin/fault_driver" ]]; then
		record SKIP "$label" fault 0 "$label/fault_driver not built"
		return 0
	fi
	TOUCHED_STACK=1
	if ! bash "$ENV_DIR/pg.sh" start test >>"$LOGDIR/stack.log" 2>&1 ||
		! bash "$ENV_DIR/pg.sh" recreatedb test gym >>"$LOGDIR/stack.log" 2>&1 ||
		! run_logged "$LOGDIR/stack.log" 120 env GYM_BIN="$label" GYM_LATE_PAYMENT_REFUND=auto \
		bash "$ENV_DIR/stack.sh" start test; then
		record FAIL "$label" fault $((SECONDS - start)) "stack.sh start test failed (see var/test/log/stack.log)"
		return 0
	fi
	GYM_E2E_BASE="https://127.0.0.1:$API_PORT" \
		GYM_E2E_SIM="http://127.0.0.1:$SIM_PORT" \
		GYM_E2E_CONF="var/test/gymd.conf" \
		GYM_E2E_VAR="var/test" \
		GYM_E2E_PGURI="$(conninfo gym)" \
		GYM_BIN="$label" \
		run_logged "$LOGDIR/fault.log" "$((T_FAULT + ${GYM_FAULT_SECONDS:-60}))" "$bin/fault_driver" \
		--seconds "${GYM_FAULT_SECONDS:-60}" --clients "${GYM_FAULT_CLIENTS:-4}" \
		${GYM_FAULT_ATTEMPTS:+--attempts "$GYM_FAULT_ATTEMPTS"} || rc=$?
	counts="$(sed -n 's/^fault: //p' "$LOGDIR/fault.log" | tail -n 1)"
	note="$(note_of "$rc")"
	[[ -z "$counts" ]] || note="invariants: $counts${note:+; $note}"
	record "$(status_of "$rc")" "$label" fault $((SECONDS - start)) "$note"
}

# suite_sanitizers: no sanitizer report in any log of this pass.
suite_sanitizers() {
	local label="$1" hits
	hits="$(grep -l -E "$SANITIZER_PATTERN" "$LOGDIR"/*.log 2>/dev/null || true)"
	if [[ -z "$hits" ]]; then
		record PASS "$label" sanitizers 0
		return 0
	fi
	grep -n -E -A 12 "$SANITIZER_PATTERN" "$LOGDIR"/*.log | head -n 80 >&2 || true
	record FAIL "$label" sanitizers 0 "reports in: $(printf '%s' "${hits//"$ROOT/"/}" | tr '\n' ' ')"
}

# suite_ops: systemd units verify and both nginx sites pass nginx -t.
suite_ops() {
	local t0=$SECONDS rc=0
	if [[ ! -f "$ROOT/test/ops/check_ops.sh" ]]; then
		record SKIP ops ops 0 "test/ops/check_ops.sh missing"
		return 0
	fi
	mkdir -p "$LOGDIR/once"
	run_logged "$LOGDIR/once/ops.log" 300 bash "$ROOT/test/ops/check_ops.sh" || rc=$?
	if ((rc == 0)); then
		record PASS ops ops $((SECONDS - t0))
	else
		record FAIL ops ops $((SECONDS - t0)) "exit $rc (var/test/log/once/ops.log)"
	fi
}

# suite_live: test/ops/check_live.sh (gymd on a socket passed the systemd way,
# nginx/gym.conf in a network namespace, /metrics refused from outside loopback
# and exact from loopback, the log lines' structure, restarts under load with the
# socket held), against the stack of the pass, after its e2e suite (whose log it
# reads).  Once per run, in the first pass.
suite_live() {
	local label="$1" start=$SECONDS rc=0
	LIVE_DONE=1
	if [[ ! -f "$ROOT/test/ops/check_live.sh" ]]; then
		record SKIP "$label" live 0 "test/ops/check_live.sh missing"
		return 0
	fi
	run_logged "$LOGDIR/live.log" "$T_LIVE" env GYM_BIN="$label" bash "$ROOT/test/ops/check_live.sh" || rc=$?
	record "$(status_of "$rc")" "$label" live $((SECONDS - start)) "$(note_of "$rc")"
}

# fuzz_start, fuzz_finish: the libFuzzer harnesses of test/fuzz (make fuzz:
# clang, ASan and UBSan, each harness FUZZ_TIME seconds, FUZZ_JOBS at a time;
# a crash, leak or failed property fails it).  Once per run, not per pass: it
# starts first and runs beside ops and tls (no ports, no files of theirs);
# fuzz_finish waits for it, prints its table and records it.  Its log is
# var/test/log/once/fuzz.log, the executions per harness build-fuzz/fuzz-stats.txt.
FUZZ_PID="" FUZZ_T0=0
fuzz_start() {
	mkdir -p "$LOGDIR/once"
	FUZZ_T0=$SECONDS
	if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
		return 0
	fi
	printf '\n== fuzz: started beside the next suites (var/test/log/once/fuzz.log)\n'
	timeout --kill-after=10 "$T_FUZZ" make --no-print-directory -C "$ROOT" -j"$(nproc)" fuzz \
		>"$LOGDIR/once/fuzz.log" 2>&1 </dev/null &
	FUZZ_PID=$!
}

fuzz_finish() {
	local rc=0 note
	if [[ -z "$FUZZ_PID" ]]; then
		record FAIL fuzz fuzz 0 "clang not found (test/env/deps.sh installs it)"
		return 0
	fi
	wait "$FUZZ_PID" || rc=$?
	FUZZ_PID=""
	sed -n '/^harness /,$p' "$LOGDIR/once/fuzz.log" | head -n 40
	if ((rc == 0)); then
		note="$(awk '{ n += $3 } END { printf "%d harnesses, %d executions", NR, n }' \
			"$ROOT/build-fuzz/fuzz-stats.txt" 2>/dev/null || true)"
		record PASS fuzz fuzz $((SECONDS - FUZZ_T0)) "$note"
	else
		tail -n 20 "$LOGDIR/once/fuzz.log"
		record FAIL fuzz fuzz $((SECONDS - FUZZ_T0)) "$(note_of "$rc") (var/test/log/once/fuzz.log)"
	fi
}

# suite_tls: what a TLS scanner finds on nginx/gym.conf and the dev/test
# template (test/ops/check_tls.sh, openssl s_client probes).  Once per run.
suite_tls() {
	local t0=$SECONDS rc=0
	mkdir -p "$LOGDIR/once"
	if [[ ! -f "$ROOT/test/ops/check_tls.sh" ]]; then
		record SKIP tls tls 0 "test/ops/check_tls.sh missing"
		return 0
	fi
	run_logged "$LOGDIR/once/tls.log" 300 bash "$ROOT/test/ops/check_tls.sh" || rc=$?
	record "$(status_of "$rc")" tls tls $((SECONDS - t0)) "$(note_of "$rc")"
}

# suite_leakcheck LABEL: LeakSanitizer works here (a planted leak is reported),
# so a clean ASan pass means no leak rather than no leak checking.  The
# canary's own report stays out of $LOGDIR, which suite_sanitizers scans.
suite_leakcheck() {
	local label="$1" dir rc=0 out
	dir="$(mktemp -d "${TMPDIR:-/tmp}/gym-lsan.XXXXXX")"
	printf '%s\n' '#include <stdlib.h>' '#include <string.h>' \
		'int main(void) { char *p = malloc(42); memset(p, 1, 42); p = NULL; return 0; }' \
		>"$dir/leak.c"
	if ! "${CC:-cc}" -O0 -g -fsanitize=address -fno-omit-frame-pointer -o "$dir/leak" \
		"$dir/leak.c" >"$dir/cc.log" 2>&1; then
		record FAIL "$label" leakcheck 0 "could not build the LeakSanitizer canary"
	else
		out="$("$dir/leak" 2>&1)" || rc=$?
		if ((rc != 0)) && grep -q 'LeakSanitizer: detected memory leaks' <<<"$out"; then
			record PASS "$label" leakcheck 0 "a planted leak is reported"
		else
			record FAIL "$label" leakcheck 0 "LeakSanitizer missed a planted leak (exit $rc)"
		fi
	fi
	rm -rf "$dir"
}

# ---- passes --------------------------------------------------------------------------------

# archive_logs LABEL: keep this pass's logs under var/test/log/<label>/.
archive_logs() {
	local dest f
	dest="$LOGDIR/${1//\//_}"
	mkdir -p "$dest"
	find "$LOGDIR" -maxdepth 1 -type f -name '*.log' -exec mv -f {} "$dest/" \;
	if [[ -d "$VAR/nginx/logs" ]]; then
		for f in "$VAR/nginx/logs/"*.log; do
			[[ -f "$f" ]] && cp -f "$f" "$dest/nginx-${f##*/}"
		done
	fi
}

# run_pass BIN: every suite with the programs in BIN (relative to the repo).
run_pass() {
	local label="$1" bin="$ROOT/$1"
	printf '\n######## pass: %s ########\n' "$label"
	find "$LOGDIR" -maxdepth 1 -type f -name '*.log' -delete
	if [[ ! -d "$bin" ]]; then
		record FAIL "$label" build 0 "$bin does not exist (did the build run?)"
		return 0
	fi
	if selected unit; then
		suite_unit "$label" "$bin"
	fi
	if selected integ; then
		suite_integ "$label" "$bin"
	fi
	if selected e2e || selected live || selected browser || selected miniprogram; then
		suite_e2e "$label" "$bin"
	fi
	if ((LIVE_DONE == 0)) && selected live; then
		suite_live "$label"
	fi
	if [[ "$label" != build-asan/bin ]] && selected browser; then
		suite_browser "$label"
	fi
	if [[ "$label" != build-asan/bin ]] && selected miniprogram; then
		suite_miniprogram "$label"
	fi
	if [[ "$label" != build-asan/bin ]] && selected fault; then
		suite_fault "$label" "$bin"
	fi
	if ((TOUCHED_STACK)); then
		bash "$ENV_DIR/stack.sh" stop test >>"$LOGDIR/stack.log" 2>&1 || log "stack.sh stop test failed"
	fi
	suite_sanitizers "$label"
	archive_logs "$label"
}

# ---- selection ----------------------------------------------------------------------------

ALL_SUITES="ops tls fuzz unit integ e2e live browser miniprogram fault asan"
SELECTED=" $ALL_SUITES "

# select SUITE...: run only these (see the usage at the top).
select_suites() {
	local s
	SELECTED=" "
	for s in "$@"; do
		[[ " $ALL_SUITES " == *" $s "* ]] ||
			die "unknown suite '$s' (expected: $ALL_SUITES)"
		SELECTED+="$s "
	done
}

selected() {
	[[ "$SELECTED" == *" $1 "* ]]
}

# needs_stack: a selected suite starts PostgreSQL or the test stack.
needs_stack() {
	selected integ || selected e2e || selected live || selected browser || selected miniprogram ||
		selected fault
}

main() {
	local first="${GYM_BIN:-bin}"
	if (($# > 0)); then
		select_suites "$@"
	else
		first=bin
	fi
	cd "$ROOT"
	load_profile test
	LOGDIR="$VAR/log"
	mkdir -p "$LOGDIR"
	rm -rf "${LOGDIR:?}"/*
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if needs_stack; then
		# leftovers of an interrupted run would hold the ports
		TOUCHED_STACK=1
		stop_test_stack >>"$LOGDIR/stack.log" 2>&1
	fi

	if selected fuzz; then
		fuzz_start
	fi
	if selected ops; then
		suite_ops
	fi
	if selected tls; then
		suite_tls
	fi
	if selected fuzz; then
		fuzz_finish
	fi
	TOUCHED_STACK=0
	run_pass "$first"
	if selected asan; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		# the 200-client race and the 100k-hold sweep ran in the first pass
		export GYM_TEST_NO_HEAVY=1
		suite_leakcheck build-asan/bin
		run_pass build-asan/bin
		unset ASAN_OPTIONS UBSAN_OPTIONS GYM_TEST_NO_HEAVY
	fi

	FAILURES=0
	printf '\n######## summary ########\n'
	local line
	for line in "${SUMMARY[@]}"; do
		printf '%s\n' "$line"
		if [[ "$line" == FAIL* ]]; then
			FAILURES=$((FAILURES + 1))
		fi
	done
	if ((FAILURES > 0)); then
		# what failed, short enough for CI's last ~40 lines: 12 lines per
		# failed suite, fewer when several failed
		local max=$((24 / FAILURES)) f
		((max <= 12)) || max=12
		((max >= 3)) || max=3
		printf '\n######## failures ########\n'
		for line in "${SUMMARY[@]}"; do
			[[ "$line" == FAIL* ]] || continue
			read -r -a f <<<"$line"
			failure_detail "${f[1]}" "${f[2]}" "$max"
		done
		printf '\n%s: %d suite(s) FAILED (logs: var/test/log/)\n' "$PROG" "$FAILURES"
		exit 1
	fi
	printf '\n%s: all suites passed\n' "$PROG"
}

main "$@"
