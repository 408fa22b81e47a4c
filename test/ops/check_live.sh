#!/usr/bin/env bash
# test/ops/check_live.sh: the production path run for real, against the test
# stack's PostgreSQL.  test/run_all.sh runs it once, after the first pass's
# end-to-end suite, while that stack is still up; by hand:
#   bash test/env/stack.sh start test && bash test/ops/check_live.sh
#
#   socket   gymd started the way gym.socket and gym.service start it: a unix
#            socket made and listened on by systemd-socket-activate, passed
#            as fd 3 with LISTEN_FDS/LISTEN_PID, `listen = systemd`.  A
#            FastCGI request straight to the socket (cgi-fcgi) gets /healthz
#            200, before and after a reload (SIGHUP), on the same socket.
#            Without a passed socket, or with one passed to another pid,
#            gymd refuses to start.  gym.socket's ListenStream is the socket
#            nginx/gym.conf's upstream names.
#   nginx    nginx/gym.conf itself (the production site; only its file paths
#            and the upstream socket moved into a temp dir, listen lines
#            untouched) in a network namespace of its own, in front of that
#            gymd: TLS, HSTS, /healthz 200, other paths 404.
#   metrics  a client in a second namespace, over a veth pair whose
#            TEST-NET-1 addresses (192.0.2.1 and .2, RFC 5737) exist only in
#            these two namespaces: /metrics answers 403 FORBIDDEN and never
#            reaches gymd, while /healthz from the same client is served.
#            From loopback /metrics answers 200, and between two scrapes its
#            counters grow by exactly the requests made (per route and
#            status, the histogram counts, and in total).  This gymd is the
#            only one behind this nginx and runs no job process, so nothing
#            else moves its counters.
#   logs     this gymd's log: one structured line per request (rid, method,
#            route, status, ms), as many as the requests it answered; a
#            request id sent by the client appears in exactly one line and in
#            nginx's access log.  The test stack's var/test/log/gymd.log
#            (after the e2e suite): every request line and every job-run line
#            structured, at least one of each.  In both gymd logs and in the
#            production site's nginx logs: no openid of the users table, no
#            secret of var/test/secrets.
#   restart  a 10 s load through that nginx while gymd is restarted twice
#            with SIGTERM, the socket held throughout as gym.socket holds it
#            (a small stand-in for systemd that starts the next gymd when the
#            old one has exited), three requests held in flight by a row lock
#            at the first SIGTERM: every request answered (all scrapes 200,
#            the three holds 201), nothing in nginx's error log.
#
# Needs root (network namespaces), ip (iproute2), systemd-socket-activate
# (systemd), cgi-fcgi (libfcgi-bin), nginx, curl, openssl, psql and python3; a check
# whose tool is missing prints SKIP.  Everything it starts is stopped and its
# namespaces deleted at exit, also after a failure or an interrupt.
#
# Environment: GYM_BIN (default bin), GYM_PORT_OFFSET (see test/env/common.sh).
# Exit status: 0 when nothing failed, 1 otherwise.
set -euo pipefail

# shellcheck disable=SC2034 # read by common.sh (log, die)
PROG=check_live.sh
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../env/common.sh"
load_profile test
case "${GYM_BIN:=bin}" in
/*) BIN_DIR="$GYM_BIN" ;;
*) BIN_DIR="$ROOT/$GYM_BIN" ;;
esac

PASSED=0 FAILED=0 SKIPPED=0
declare -A RESULT=()
TMP="" NSA="" NSB="" GYMD_PID="" NGX_PID="" HOLDER_PID=""
SITE=gym.example.com
ADDR_SRV=192.0.2.1 ADDR_CLI=192.0.2.2

# ---- plumbing ----------------------------------------------------------------------------

have() {
	command -v "$1" >/dev/null 2>&1
}

# run_check NAME CMD...: run CMD (in this shell: the checks share the gymd,
# nginx and namespaces they start), its output indented under one result
# line.  CMD returns 0 (pass), 77 (skip: its output says why) or anything
# else (fail).
run_check() {
	local name="$1" out rc=0
	shift
	"$@" >"$TMP/check.out" 2>&1 </dev/null || rc=$?
	RESULT[$1]=$rc
	out="$(cat "$TMP/check.out")"
	case "$rc" in
	0)
		PASSED=$((PASSED + 1))
		printf 'PASS  %s\n' "$name"
		;;
	77)
		SKIPPED=$((SKIPPED + 1))
		printf 'SKIP  %s\n' "$name"
		;;
	*)
		FAILED=$((FAILED + 1))
		printf 'FAIL  %s\n' "$name"
		;;
	esac
	if [[ -n "$out" ]]; then
		printf '%s\n' "$out" | sed 's/^/      /'
	fi
}

# dep CHECK: what a check that builds on CHECK does when CHECK did not pass:
# skip when it was skipped (return 77), fail when it failed (return 1).
dep() {
	case "${RESULT[$1]:-none}" in
	0) return 0 ;;
	77)
		echo "skipped: $1 was skipped (above)"
		return 77
		;;
	*)
		echo "$1 did not pass (above)"
		return 1
		;;
	esac
}

# ours PID NEEDLE: PID is alive and its command line mentions NEEDLE (our
# temp dir), so a pid reused by another process is never signalled.
ours() {
	pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# stop_group PID NAME SIGNAL: when PID is our NAME, signal it, wait 15 s,
# then SIGKILL what is left of its process group (PID leads it).
stop_group() {
	local pid="$1" name="$2" sig="$3"
	[[ -n "$pid" ]] && pid_is "$pid" "$name" && ours "$pid" "$TMP" || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	wait_gone "$pid" 15 || true
	if group_alive "$pid"; then
		kill -KILL -- "-$pid" 2>/dev/null || true
		sleep 0.2
	fi
}

cleanup() {
	local rc=$?
	stop_group "$NGX_PID" nginx QUIT
	stop_group "$GYMD_PID" gymd TERM
	if [[ -n "$HOLDER_PID" ]] && ours "$HOLDER_PID" "$TMP"; then
		# it stops its gymd, then exits; then whatever is left of its group goes
		kill -TERM "$HOLDER_PID" 2>/dev/null || true
		wait_gone "$HOLDER_PID" 20 || true
		kill -KILL -- "-$HOLDER_PID" 2>/dev/null || true
	fi
	# nginx was the only process in the namespaces; deleting them takes the veth pair along
	[[ -n "$NSA" ]] && ip netns del "$NSA" 2>/dev/null
	[[ -n "$NSB" ]] && ip netns del "$NSB" 2>/dev/null
	if [[ -n "$TMP" && -d "$TMP" ]]; then
		rm -rf "$TMP"
	fi
	exit "$rc"
}

# sed_repl STR: STR escaped for the replacement side of s|...|...|.
sed_repl() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//&/\\&}"
	s="${s//|/\\|}"
	printf '%s' "$s"
}

psql_gym() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$(conninfo gym)" "$@"
}

# ---- the socket-activated gymd -------------------------------------------------------------

SOCK="" GYMD_CONF="" GYMD_LOG=""

# fcgi_get PATH [RID]: one FastCGI GET straight to $SOCK; the answer on stdout.
fcgi_get() {
	local -a env=(REQUEST_METHOD=GET "REQUEST_URI=$1" "SCRIPT_NAME=$1" SERVER_PROTOCOL=HTTP/1.1
		REMOTE_ADDR=127.0.0.1 PATH=/usr/bin:/bin)
	[[ -n "${2:-}" ]] && env+=("HTTP_X_REQUEST_ID=$2")
	timeout 10 env -i "${env[@]}" cgi-fcgi -bind -connect "$SOCK"
}

socket_prereqs() {
	local t
	for t in systemd-socket-activate cgi-fcgi psql; do
		have "$t" || { echo "$t not found"; return 77; }
	done
	[[ -x "$BIN_DIR/gymd" ]] || { echo "$BIN_DIR/gymd not built"; return 77; }
	[[ -r "$VAR/gymd.conf" ]] ||
		{ echo "$VAR/gymd.conf not found: start the test stack first (stack.sh start test)"; return 1; }
	psql_gym -c 'SELECT 1 FROM schema_migrations LIMIT 1' >/dev/null ||
		{ echo "the test stack's database does not answer on port $PG_PORT"; return 1; }
}

# The path gym.socket listens on, and the one nginx/gym.conf's upstream names.
check_socket_paths() {
	local unit conf
	unit="$(sed -n 's/^ListenStream=//p' "$ROOT/systemd/gym.socket" | tail -n 1)"
	conf="$(sed -n 's/^ *server unix:\([^ ;]*\).*/\1/p' "$ROOT/nginx/gym.conf" | head -n 1)"
	printf 'gym.socket ListenStream=%s; nginx/gym.conf upstream unix:%s\n' "$unit" "$conf"
	[[ -n "$unit" && "$unit" == "$conf" ]]
}

# Start gymd under systemd-socket-activate as gym.socket would: the socket's
# directory 0755, the socket 0660 and group www-data (when there is one).
check_socket_start() {
	local run="$TMP/run/gym" out i
	socket_prereqs || return $?
	mkdir -p "$run"
	chmod 755 "$TMP" "$TMP/run" "$run"
	SOCK="$run/fcgi.sock"
	GYMD_CONF="$TMP/gymd.conf"
	GYMD_LOG="$TMP/gymd.log"
	sed -e 's|^listen = .*|listen = systemd|' -e 's|^jobs = .*|jobs = no|' \
		"$VAR/gymd.conf" >"$GYMD_CONF"
	grep -q '^listen = systemd$' "$GYMD_CONF" || { echo "could not set listen = systemd"; return 1; }
	# a session of its own (pid = pgid), so that the cleanup reaches every worker
	setsid systemd-socket-activate -l "$SOCK" "$BIN_DIR/gymd" -c "$GYMD_CONF" \
		>>"$GYMD_LOG" 2>&1 </dev/null &
	GYMD_PID=$!
	for ((i = 0; i < 50; i++)); do
		[[ -S "$SOCK" ]] && break
		sleep 0.1
	done
	[[ -S "$SOCK" ]] || { cat "$GYMD_LOG"; echo "systemd-socket-activate made no socket"; return 1; }
	if getent group www-data >/dev/null; then
		chgrp www-data "$SOCK"
		chmod 660 "$SOCK"
	else
		chmod 666 "$SOCK"
	fi
	# like systemd, systemd-socket-activate starts the program at the first connection
	if ! out="$(fcgi_get /healthz)"; then
		tail -n 20 "$GYMD_LOG"
		echo "no FastCGI answer on $SOCK"
		return 1
	fi
	printf '%s\n' "$out" | head -n 1
	if ! pid_is "$GYMD_PID" gymd; then
		echo "pid $GYMD_PID is not gymd (systemd-socket-activate should have exec'd it)"
		return 1
	fi
	grep -q 'using the socket passed by systemd' "$GYMD_LOG" ||
		{ tail -n 20 "$GYMD_LOG"; echo "gymd did not take the socket from systemd"; return 1; }
	[[ "$out" == "Status: 200"* && "$out" == *'{"status":"ok"}'* ]] ||
		{ echo "GET /healthz over FastCGI: not 200 {\"status\":\"ok\"}"; return 1; }
	printf 'gymd %s serves on the inherited %s (fd 3)\n' "$GYMD_PID" "${SOCK#"$TMP"/}"
}

# fd 3 of the master: "socket:[inode]".
master_fd3() {
	readlink "/proc/$GYMD_PID/fd/3" 2>/dev/null || true
}

check_socket_reload() {
	local before after out i n0
	dep check_socket_start || return $?
	before="$(master_fd3)"
	n0="$(grep -c 'reloaded ' "$GYMD_LOG" || true)"
	kill -HUP "$GYMD_PID"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c 'reloaded ' "$GYMD_LOG" || true) > n0)) && break
		sleep 0.1
	done
	(($(grep -c 'reloaded ' "$GYMD_LOG" || true) > n0)) || { tail -n 10 "$GYMD_LOG"; echo "no reload logged"; return 1; }
	out="$(fcgi_get /healthz)" || { echo "no answer after the reload"; return 1; }
	after="$(master_fd3)"
	printf 'fd 3 before %s, after %s; %s\n' "$before" "$after" "$(printf '%s' "$out" | head -n 1)"
	[[ "$before" == socket:* && "$before" == "$after" ]] || { echo "the socket changed across the reload"; return 1; }
	[[ "$out" == "Status: 200"* ]]
}

# gymd with listen = systemd and no socket for it: refused, quickly.
check_socket_refused() {
	local out rc=0
	dep check_socket_start || return $?
	out="$(env -u LISTEN_FDS -u LISTEN_PID timeout 10 "$BIN_DIR/gymd" -c "$GYMD_CONF" 2>&1)" || rc=$?
	printf 'no LISTEN_FDS: exit %d: %s\n' "$rc" "$(printf '%s' "$out" | tail -n 1)"
	((rc != 0 && rc != 124)) || { echo "gymd started without a socket"; return 1; }
	rc=0
	# a socket passed to another process (LISTEN_PID is not ours) is not taken
	out="$(LISTEN_FDS=1 LISTEN_PID=1 timeout 10 "$BIN_DIR/gymd" -c "$GYMD_CONF" 2>&1 3</dev/null)" || rc=$?
	printf 'LISTEN_PID=1: exit %d: %s\n' "$rc" "$(printf '%s' "$out" | tail -n 1)"
	((rc != 0 && rc != 124)) || { echo "gymd took a socket meant for pid 1"; return 1; }
}

# ---- nginx/gym.conf in a namespace, a client in another ------------------------------------

NGX="" TLS=""

netns_prereqs() {
	[[ "$(id -u)" -eq 0 ]] || { echo "not root: no network namespaces"; return 77; }
	have ip || { echo "ip (iproute2) not found"; return 77; }
	have curl || { echo "curl not found"; return 77; }
	have openssl || { echo "openssl not found"; return 77; }
	[[ -x /usr/sbin/nginx ]] || have nginx || { echo "nginx not found"; return 77; }
	dep check_socket_start || return $?
	pid_is "$GYMD_PID" gymd || { echo "the socket-activated gymd is gone"; return 1; }
}

# Two namespaces joined by a veth pair: A (nginx, $ADDR_SRV and its own
# loopback) and B (the client, $ADDR_CLI).  Nothing is added outside them.
make_netns() {
	local tag="gl$$"
	NSA="gym-live-$$-a"
	ip netns add "$NSA" || { NSA=""; return 1; }
	NSB="gym-live-$$-b"
	ip netns add "$NSB" || { NSB=""; return 1; }
	ip -n "$NSA" link add "${tag}a" type veth peer name "${tag}b" netns "$NSB" &&
		ip -n "$NSA" addr add "$ADDR_SRV/30" dev "${tag}a" &&
		ip -n "$NSB" addr add "$ADDR_CLI/30" dev "${tag}b" &&
		ip -n "$NSA" link set lo up &&
		ip -n "$NSB" link set lo up &&
		ip -n "$NSA" link set "${tag}a" up &&
		ip -n "$NSB" link set "${tag}b" up
}

nginx_bin() {
	if have nginx; then command -v nginx; else printf '/usr/sbin/nginx'; fi
}

# nginx/gym.conf with its certificate, logs and upstream socket moved into
# $NGX; its listen lines stay (the namespace's own ports 80 and 443).
render_site() {
	local user
	user="# workers run as $(id -un)"
	NGX="$TMP/nginx"
	TLS="$TMP/tls"
	mkdir -p "$NGX/logs" "$NGX/tmp" "$TLS"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$TLS/privkey.pem" -out "$TLS/fullchain.pem" -subj "/CN=$SITE" \
		-addext "subjectAltName=DNS:$SITE" >/dev/null 2>&1 || { echo "openssl failed"; return 1; }
	sed -e "s|/etc/letsencrypt/live/$SITE/|$(sed_repl "$TLS")/|g" \
		-e "s|/var/log/nginx/|$(sed_repl "$NGX/logs")/|g" \
		-e "s|server unix:/run/gym/fcgi.sock|server unix:$(sed_repl "$SOCK")|" \
		"$ROOT/nginx/gym.conf" >"$NGX/gym.conf"
	if ! ip netns exec "$NSA" test -e /proc/net/if_inet6; then
		echo "note: no IPv6 in the namespace, so the [::] listen lines are left out"
		sed -i '/listen \[::\]:/d' "$NGX/gym.conf"
	fi
	if grep -nE '[ :](/etc/letsencrypt|/var/log|/run/gym)/' "$NGX/gym.conf"; then
		echo "a system path is left in the rendered site (above)"
		return 1
	fi
	cp "$ROOT/nginx/fastcgi_gym_params" "$NGX/fastcgi_gym_params"
	if id -u www-data >/dev/null 2>&1; then
		user="user www-data;"
	fi
	# what Debian's /etc/nginx/nginx.conf provides around a site
	cat >"$NGX/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
$user
worker_processes 2;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log;
events {
    worker_connections 256;
}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $NGX/logs/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path       $NGX/tmp/proxy;
    fastcgi_temp_path     $NGX/tmp/fastcgi;
    uwsgi_temp_path       $NGX/tmp/uwsgi;
    scgi_temp_path        $NGX/tmp/scgi;
    include $NGX/gym.conf;
}
EOF
}

# https NS ADDR PATH OUT [CURL ARGS...]: GET https://$SITE/PATH from namespace
# NS with $SITE resolving to ADDR; body and headers to OUT, OUT.h; prints the status.
https() {
	local ns="$1" addr="$2" path="$3" out="$4"
	shift 4
	ip netns exec "$ns" curl -sS -m 10 --cacert "$TLS/fullchain.pem" \
		--resolve "$SITE:443:$addr" -D "$out.h" -o "$out" -w '%{http_code}' "$@" "https://$SITE$path"
}

check_nginx_site() {
	local code i
	netns_prereqs || return $?
	make_netns || { echo "could not make the namespaces"; return 1; }
	render_site || return 1
	ip netns exec "$NSA" "$(nginx_bin)" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" ||
		{ tail -n 5 "$NGX/logs/error.log" 2>/dev/null; echo "nginx did not start"; return 1; }
	for ((i = 0; i < 50; i++)); do
		NGX_PID="$(read_pidfile "$NGX/nginx.pid")"
		[[ -n "$NGX_PID" ]] && break
		sleep 0.1
	done
	[[ -n "$NGX_PID" ]] || { echo "nginx wrote no pid file"; return 1; }
	code="$(https "$NSA" 127.0.0.1 /healthz "$TMP/h0")" || true
	printf 'GET /healthz over TLS from the namespace'"'"'s loopback: %s %s\n' "$code" "$(cat "$TMP/h0" 2>/dev/null)"
	[[ "$code" == 200 ]] || return 1
	grep -qi '^strict-transport-security: max-age=' "$TMP/h0.h" || { echo "no HSTS header"; return 1; }
	code="$(https "$NSA" 127.0.0.1 /no/such/path "$TMP/h1")" || true
	printf 'GET /no/such/path: %s %s\n' "$code" "$(cat "$TMP/h1" 2>/dev/null)"
	[[ "$code" == 404 ]]
}

# ---- metrics -------------------------------------------------------------------------------

# mval FILE SERIES: the value of SERIES (name{labels}) in a scrape, 0 when absent.
mval() {
	awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }' "$1"
}

# msum FILE NAME: the sum of every series of NAME.
msum() {
	awk -v n="$2" 'index($1, n "{") == 1 { v += $2 } END { print v + 0 }' "$1"
}

scrape() {
	local code
	code="$(https "$NSA" 127.0.0.1 /metrics "$1")" || true
	[[ "$code" == 200 ]] || { printf 'loopback GET /metrics: %s\n' "$code"; return 1; }
}

check_metrics_outside() {
	local code i bad=0 before after
	dep check_nginx_site || return $?
	scrape "$TMP/m0" || return 1
	before="$(mval "$TMP/m0" 'gymd_requests_total{method="GET",route="/metrics",status="200"}')"
	for ((i = 0; i < 3; i++)); do
		code="$(https "$NSB" "$ADDR_SRV" /metrics "$TMP/o$i")" || true
		printf 'from %s: GET https://%s/metrics -> %s %s\n' "$ADDR_CLI" "$ADDR_SRV" "$code" "$(head -c 120 "$TMP/o$i")"
		[[ "$code" == 403 ]] && grep -q '"code":"FORBIDDEN"' "$TMP/o$i" || bad=1
		grep -q '^gymd_' "$TMP/o$i" && { echo "metrics leaked to $ADDR_CLI"; bad=1; }
	done
	code="$(https "$NSB" "$ADDR_SRV" /healthz "$TMP/o-h")" || true
	printf 'from %s: GET /healthz -> %s (the path is open; the 403 is the rule)\n' "$ADDR_CLI" "$code"
	[[ "$code" == 200 ]] || bad=1
	scrape "$TMP/m1" || return 1
	after="$(mval "$TMP/m1" 'gymd_requests_total{method="GET",route="/metrics",status="200"}')"
	# only the loopback scrape between them reached gymd
	printf 'gymd counted /metrics %s -> %s (the loopback scrape only)\n' "$before" "$after"
	((after == before + 1)) || { echo "refused requests reached gymd"; bad=1; }
	return "$bad"
}

# K requests of each kind from loopback, 8 at a time; then every counter moved by exactly that.
check_metrics_counters() {
	local k_health=12 k_sched=10 k_404=5 i total0 total1 d bad=0 codes
	local s_health='{method="GET",route="/healthz"' s_sched='{method="GET",route="/course-schedules"'
	local s_other='{method="other",route="other"'
	dep check_nginx_site || return $?
	scrape "$TMP/c0" || return 1
	{
		for ((i = 0; i < k_health; i++)); do
			printf 'url = "https://%s/healthz"\noutput = "/dev/null"\n' "$SITE"
		done
		for ((i = 0; i < k_sched; i++)); do
			printf 'url = "https://%s/api/v1/course-schedules"\noutput = "/dev/null"\n' "$SITE"
		done
		for ((i = 0; i < k_404; i++)); do
			printf 'url = "https://%s/api/v1/no-such-route-%d"\noutput = "/dev/null"\n' "$SITE" "$i"
		done
	} >"$TMP/curl.cfg"
	codes="$(ip netns exec "$NSA" curl -sS --no-progress-meter -m 20 -Z --parallel-max 8 --cacert "$TLS/fullchain.pem" \
		--resolve "$SITE:443:127.0.0.1" -K "$TMP/curl.cfg" -w '%{http_code}\n' | sort | uniq -c |
		tr -s ' \n' ' ')" || true
	printf 'answers: %s\n' "$codes"
	scrape "$TMP/c1" || return 1
	# expect NAME SUFFIX DELTA: the series moved by DELTA
	expect() {
		d=$(($(mval "$TMP/c1" "$1$2") - $(mval "$TMP/c0" "$1$2")))
		printf '%-90s +%s (want +%s)\n' "$1$2" "$d" "$3"
		((d == $3)) || bad=1
	}
	expect gymd_requests_total "$s_health,status=\"200\"}" "$k_health"
	expect gymd_request_duration_seconds_count "$s_health}" "$k_health"
	expect gymd_request_duration_seconds_bucket "$s_health,le=\"+Inf\"}" "$k_health"
	expect gymd_requests_total "$s_sched,status=\"200\"}" "$k_sched"
	expect gymd_request_duration_seconds_count "$s_sched}" "$k_sched"
	expect gymd_requests_total "$s_other,status=\"404\"}" "$k_404"
	expect gymd_requests_total '{method="GET",route="/metrics",status="200"}' 1
	total0="$(msum "$TMP/c0" gymd_requests_total)"
	total1="$(msum "$TMP/c1" gymd_requests_total)"
	d=$((total1 - total0))
	printf 'gymd_requests_total, all series: +%s (want +%s: the requests above and the first scrape)\n' \
		"$d" $((k_health + k_sched + k_404 + 1))
	((d == k_health + k_sched + k_404 + 1)) || bad=1
	grep -q '^gymd_workers 4$' "$TMP/c1" || { echo "gymd_workers is not 4"; bad=1; }
	return "$bad"
}

# ---- the notify URLs ------------------------------------------------------------------------

# Issue 13, finding 3: every refused notification costs gymd a database write,
# so nginx/gym.conf limits the notify URLs per source (10 r/s, burst 100).
# K unsigned notifications at once from the other namespace: beyond the burst
# nginx answers 429 in the API's shape and gymd never sees them; the rest are
# refused by gymd (401) and counted in gymd_notify_rejected_total{reason}.
check_notify_rate() {
	local k=160 i n n401 n429 nother d bad=0 codes
	local series='gymd_notify_rejected_total{reason="signature"}'
	dep check_nginx_site || return $?
	scrape "$TMP/n0" || return 1
	for ((i = 0; i < k; i++)); do
		# both notify URLs share the source's allowance
		printf 'url = "https://%s/api/v1/payment/wxpay/%s"\noutput = "%s/nr%d"\n' \
			"$SITE" "$( ((i % 2)) && echo refund-callback || echo callback)" "$TMP" "$i"
	done >"$TMP/notify.cfg"
	codes="$(ip netns exec "$NSB" curl -sS --no-progress-meter -m 30 -Z --parallel-max 40 \
		--cacert "$TLS/fullchain.pem" --resolve "$SITE:443:$ADDR_SRV" -X POST -d '{}' \
		-H 'Content-Type: application/json' -K "$TMP/notify.cfg" -w '%{http_code}\n')" || true
	n401="$(grep -c '^401$' <<<"$codes" || true)"
	n429="$(grep -c '^429$' <<<"$codes" || true)"
	nother=$((k - n401 - n429))
	scrape "$TMP/n1" || return 1
	d=$(($(mval "$TMP/n1" "$series") - $(mval "$TMP/n0" "$series")))
	printf 'from %s: %d notifications at once: %d refused by gymd (401), %d by nginx (429), %d other; ' \
		"$ADDR_CLI" "$k" "$n401" "$n429" "$nother"
	printf '%s +%d\n' "$series" "$d"
	((n429 > 0 && nother == 0)) || bad=1
	# the burst, plus what 10 r/s refills while the requests are made
	((n401 >= 100 && n401 <= 140)) || { echo "not the burst of 100 through"; bad=1; }
	((d == n401)) || { echo "gymd counted $d refusals for $n401 answers"; bad=1; }
	# nginx's own 429s, in the API's shape
	n=$(grep -l '"code":"TOO_MANY_REQUESTS"' "$TMP"/nr* 2>/dev/null | wc -l)
	printf '429 answers in the API shape: %d of %d\n' "$n" "$n429"
	((n == n429)) || bad=1
	return "$bad"
}

# ---- logs ----------------------------------------------------------------------------------

REQ_RE='^<6>gymd\[[0-9]+\]: rid=[A-Za-z0-9._:-]+ method=[^ ]* route=[^ ]+ status=[1-5][0-9][0-9] ms=[0-9]+\.[0-9]( err=.+)?$'
JOB_RE='^<[3-7]>gymd\[[0-9]+\]: rid=job-[0-9]+ job=run status=(ok|failed) .*ms=[0-9]+\.[0-9]'

# req_lines LOG: the request lines of LOG (those naming a route).
req_lines() {
	grep -E '^<[0-7]>gymd\[[0-9]+\]: .* route=' "$1" || true
}

# structured LOG KIND REGEX MIN: every KIND line of LOG matches REGEX, at least MIN of them.
structured() {
	local log="$1" kind="$2" re="$3" min="$4" lines bad n
	if [[ "$kind" == request ]]; then
		lines="$(req_lines "$log")"
	else
		# the run lines; what a run logs meanwhile (job=refund ..., reconciled
		# order ...) is free text under the run's rid
		lines="$(grep -E '^<[0-7]>gymd\[[0-9]+\]: .* job=run( |$)' "$log" || true)"
	fi
	n="$(printf '%s' "$lines" | grep -c . || true)"
	bad="$(printf '%s\n' "$lines" | grep -vE "$re" | grep . | head -n 5 || true)"
	printf '%s: %s %s lines\n' "${log#"$ROOT"/}" "$n" "$kind"
	if [[ -n "$bad" ]]; then
		printf 'not structured:\n%s\n' "$bad"
		return 1
	fi
	((n >= min)) || { printf 'fewer than %s %s lines\n' "$min" "$kind"; return 1; }
}

check_logs_live() {
	local rid="live-$$-probe" code n total bad=0
	dep check_nginx_site || return $?
	code="$(https "$NSA" 127.0.0.1 /healthz "$TMP/l0" -H "X-Request-Id: $rid")" || true
	[[ "$code" == 200 ]] || { echo "GET /healthz with X-Request-Id: $code"; return 1; }
	scrape "$TMP/l1" || return 1
	sleep 0.2	# the scrape's own line follows its answer
	structured "$GYMD_LOG" request "$REQ_RE" 1 || bad=1
	n="$(grep -c "rid=$rid " "$GYMD_LOG" || true)"
	printf 'lines with rid=%s: %s: %s\n' "$rid" "$n" "$(grep "rid=$rid " "$GYMD_LOG" | head -n 1)"
	[[ "$n" == 1 ]] && grep -q "rid=$rid method=GET route=/healthz status=200 ms=" "$GYMD_LOG" || bad=1
	# nginx buffers its access log (flush=1s): give the line 3 s to land
	for n in $(seq 30); do
		grep -q "rid=$rid " "$NGX/logs/gym.access.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "rid=$rid " "$NGX/logs/gym.access.log" || { echo "nginx's access log has no rid=$rid"; bad=1; }
	# one line per request: the scrape counted every request before it, plus itself
	n="$(req_lines "$GYMD_LOG" | grep -c . || true)"
	total="$(msum "$TMP/l1" gymd_requests_total)"
	printf 'request lines %s, requests counted by /metrics %s (+1: the scrape itself)\n' "$n" "$total"
	((n == total + 1)) || bad=1
	return "$bad"
}

check_logs_stack() {
	local log="$VAR/log/gymd.log" bad=0
	[[ -s "$log" ]] || { echo "${log#"$ROOT"/} is empty or missing"; return 1; }
	structured "$log" request "$REQ_RE" 1 || bad=1
	# job lines: the e2e suite's reconciliations log at info
	structured "$log" job "$JOB_RE" 1 || bad=1
	return "$bad"
}

# No openid of the users table and no secret of var/test/secrets in any log.
check_logs_secrets() {
	local pat="$TMP/never.pat" f hits logs=() n
	have psql || { echo "psql not found"; return 77; }
	psql_gym -c 'SELECT openid FROM users' >"$pat" || { echo "could not read the openids"; return 1; }
	n="$(grep -c . "$pat" || true)"
	for f in "$VAR"/secrets/*; do
		[[ -f "$f" ]] || continue
		if grep -q 'BEGIN' "$f"; then
			# a PEM key: its base64 lines
			grep -v -- '-----' "$f" | awk 'length($0) >= 32' >>"$pat"
		else
			tr -d '\n' <"$f" >>"$pat"
			printf '\n' >>"$pat"
		fi
	done
	# not the test stack's nginx logs: its second server stands in for WeChat's
	# own servers (the simulator), and WeChat's jscode2session API takes the app
	# secret in its query string; in production that request never passes our nginx
	for f in "$VAR/log/gymd.log" "$GYMD_LOG" "$NGX/logs/"*.log; do
		[[ -s "$f" ]] && logs+=("$f")
	done
	printf '%s openids and %s secret lines, against: %s\n' "$n" $(($(grep -c . "$pat") - n)) \
		"$(printf '%s ' "${logs[@]}" | sed "s|$TMP/|tmp/|g; s|$ROOT/||g")"
	((n > 0)) || { echo "no user in the database: nothing to look for"; return 1; }
	hits="$(grep -F -n -f "$pat" "${logs[@]}" | head -n 3 || true)"
	if [[ -n "$hits" ]]; then
		echo "found in a log (first hits, values cut):"
		printf '%s\n' "$hits" | cut -c 1-80
		return 1
	fi
}

# ---- restart under load, the socket held as gym.socket holds it ---------------------------

# What systemd does for gym.socket + gym.service, reduced to its core: own the
# listening socket, start gymd with it as fd 3 (LISTEN_FDS, LISTEN_PID), start
# a new gymd whenever the running one exits, keep the socket open throughout.
# SIGTERM: stop gymd, then exit.  argv: SOCKET GYMD CONF LOG PIDFILE.
HOLDER_PY='
import os, signal, socket, sys
path, gymd, conf, log, pidfile = sys.argv[1:6]
stopping = False
child = 0
def on_term(sig, frame):
    global stopping
    stopping = True
    if child:
        os.kill(child, signal.SIGTERM)
signal.signal(signal.SIGTERM, on_term)
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o666)
s.listen(1024)
def start():
    pid = os.fork()
    if pid == 0:
        if s.fileno() != 3:
            os.dup2(s.fileno(), 3)
        os.set_inheritable(3, True)
        out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
        os.execve(gymd, [gymd, "-c", conf], env)
    with open(pidfile, "a") as f:
        f.write("%d\n" % pid)
    return pid
child = start()
while True:
    pid, status = os.waitpid(child, 0)
    if stopping:
        break
    child = start()
'

# gymd_now: the gymd the holder runs now (last line of its pid file).
gymd_now() {
	tail -n 1 "$TMP/holder.pids" 2>/dev/null || true
}

# api METHOD PATH BODY [TOKEN]: a JSON request through nginx/gym.conf from
# the namespace's loopback; prints "STATUS BODY" on one line.
api() {
	local out
	local -a auth=()
	[[ -n "${4:-}" ]] && auth=(-H "Authorization: Bearer $4")
	out="$(ip netns exec "$NSA" curl -sS --no-progress-meter -m 30 --cacert "$TLS/fullchain.pem" \
		--resolve "$SITE:443:127.0.0.1" -X "$1" -H 'Content-Type: application/json' \
		"${auth[@]}" -d "$3" -w '\n%{http_code}' "https://$SITE$2" 2>&1)" || true
	printf '%s %s\n' "${out##*$'\n'}" "$(printf '%s' "${out%$'\n'*}" | tr '\n' ' ')"
}

# A 10 s load through nginx/gym.conf (4 clients scraping /metrics from
# loopback) while gymd is restarted twice with SIGTERM, as `systemctl restart
# gym` does (KillMode=mixed; systemd starts the next gymd once the old one
# has exited, and the socket stays open throughout).  At the first SIGTERM
# three seat-reserve requests are in flight, held up by a row lock the test
# takes on the class's seats and lets go of 2 s later.  Every request must
# succeed: the old gymd finishes what it accepted (the three holds are 201),
# and what arrives meanwhile waits in the held socket for the next gymd (all
# scrapes 200, nothing in nginx's error log).
check_restart_under_load() {
	local i pid end old1 old2 n ok total bad=0 url sid starts ends tok r
	local log="$TMP/gymd-held.log"
	local -a load=() tokens=() holds=()
	dep check_nginx_site || return $?
	have python3 || { echo "python3 not found"; return 77; }
	[[ -x "$BIN_DIR/gymctl" ]] || { echo "$BIN_DIR/gymctl not built"; return 77; }
	stop_group "$GYMD_PID" gymd TERM
	GYMD_PID=""
	setsid python3 -c "$HOLDER_PY" "$SOCK" "$BIN_DIR/gymd" "$GYMD_CONF" "$log" "$TMP/holder.pids" \
		</dev/null >>"$TMP/holder.log" 2>&1 &
	HOLDER_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -S "$SOCK" && -n "$(gymd_now)" ]] && fcgi_get /healthz >/dev/null 2>&1 && break
		sleep 0.1
	done
	pid="$(gymd_now)"
	pid_is "${pid:-0}" gymd || { tail -n 10 "$log"; echo "the holder's gymd did not start"; return 1; }

	# a class of three seats and three parents
	starts="$(date -u -d '+2 day 10:00' +%Y-%m-%dT%H:%M:%SZ)"
	ends="$(date -u -d '+2 day 11:00' +%Y-%m-%dT%H:%M:%SZ)"
	sid="$("$BIN_DIR/gymctl" -c "$GYMD_CONF" schedule add --course "live-$$" --starts "$starts" \
		--ends "$ends" --capacity 3)" || { echo "gymctl schedule add failed"; return 1; }
	for ((i = 0; i < 3; i++)); do
		r="$(api POST /api/v1/auth/wx-login "{\"code\":\"live-$$-$i\"}")"
		tok="$(printf '%s' "$r" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
		[[ "$r" == 200* && -n "$tok" ]] || { echo "wx-login: ${r:0:120}"; return 1; }
		tokens+=("$tok")
	done

	: >"$NGX/logs/gym.error.log"
	url="https://$SITE/metrics"
	end=$((SECONDS + 10))
	for ((i = 0; i < 4; i++)); do
		(
			while ((SECONDS < end)); do
				ip netns exec "$NSA" curl -sS --no-progress-meter -m 30 --cacert "$TLS/fullchain.pem" \
					--resolve "$SITE:443:127.0.0.1" -w '%{http_code}\n' \
					-o /dev/null "$url" -o /dev/null "$url" -o /dev/null "$url" -o /dev/null "$url" \
					-o /dev/null "$url" -o /dev/null "$url" -o /dev/null "$url" -o /dev/null "$url" \
					2>/dev/null || echo curl-failed
			done >"$TMP/load.$i"
		) &
		load+=($!)
	done
	sleep 1.5
	# the seats locked for 3.5 s; the holds wait on them
	psql_gym -c "BEGIN" -c "SELECT count(*) FROM (SELECT id FROM seats WHERE course_schedule_id = $sid FOR UPDATE) s" \
		-c "SELECT pg_sleep(3.5)" -c "COMMIT" >"$TMP/lock.out" 2>&1 &
	load+=($!)
	sleep 0.5
	for ((i = 0; i < 3; i++)); do
		api POST /api/v1/bookings/seat-reserve "{\"course_schedule_id\":$sid}" "${tokens[$i]}" \
			>"$TMP/hold.$i" 2>&1 &
		load+=($!)
	done
	sleep 1
	old1="$(gymd_now)"
	kill -TERM "$old1"
	sleep 4
	old2="$(gymd_now)"
	[[ "$old2" != "$old1" ]] && kill -TERM "$old2"
	wait "${load[@]}" || true
	wait_gone "$old2" 15 || true
	for ((i = 0; i < 3; i++)); do
		holds+=("$(cut -c 1-3 "$TMP/hold.$i")")
	done
	total="$(cat "$TMP"/load.* | grep -c . || true)"
	ok="$(cat "$TMP"/load.* | grep -c '^200$' || true)"
	printf 'scrapes in 10 s: %s\n' "$(cat "$TMP"/load.* | sort | uniq -c | tr -s ' \n' ' ')"
	printf 'seat-reserve requests in flight at the first SIGTERM: %s\n' "${holds[*]}"
	printf 'gymd pids, one per start: %s\n' "$(tr '\n' ' ' <"$TMP/holder.pids")"
	n="$(grep -c . "$TMP/holder.pids")"
	((n >= 3)) || { echo "gymd was not restarted twice"; bad=1; }
	pid_is "$old1" gymd && { echo "the first gymd ($old1) still runs"; bad=1; }
	pid_is "$(gymd_now)" gymd || { echo "no gymd runs after the restarts"; bad=1; }
	((total > 0 && ok == total)) || { echo "$((total - ok)) of $total scrapes not answered 200"; bad=1; }
	[[ "${holds[*]}" == "201 201 201" ]] || { cat "$TMP"/hold.* "$TMP/lock.out"; bad=1; }
	grep -q "stopping: letting requests in flight finish" "$log" ||
		{ echo "the first gymd did not log its drain"; bad=1; }
	# the site's error_log (gym.conf: /var/log/nginx/gym.error.log)
	if grep -E 'upstream|connect\(\)' "$NGX/logs/gym.error.log" | head -n 3 | grep .; then
		echo "nginx lost requests to gymd (above)"
		bad=1
	fi
	return "$bad"
}

main() {
	cd "$ROOT"
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/gym-live.XXXXXX")"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	run_check "socket: gym.socket listens where nginx/gym.conf connects" check_socket_paths
	run_check "socket: gymd on a socket from systemd-socket-activate serves /healthz" check_socket_start
	run_check "socket: a reload keeps the inherited socket and serves" check_socket_reload
	run_check "socket: no socket passed (or passed to another pid): gymd refuses to start" check_socket_refused
	run_check "nginx: nginx/gym.conf in a namespace in front of it: TLS, HSTS, /healthz" check_nginx_site
	run_check "metrics: from $ADDR_CLI (another namespace) /metrics is 403 and never reaches gymd" check_metrics_outside
	run_check "metrics: from loopback the counters grow by exactly the requests made" check_metrics_counters
	run_check "notify: one source's notifications beyond nginx's burst get 429 and never reach gymd" \
		check_notify_rate
	run_check "logs: one structured line per request; a client's request id in exactly one" check_logs_live
	run_check "logs: the test stack's request and job-run lines are structured" check_logs_stack
	run_check "logs: no openid, no secret in any log" check_logs_secrets
	run_check "restart: with the socket held as gym.socket holds it, two restarts under a 10 s load lose no request" \
		check_restart_under_load

	printf '\nlive: %d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	((FAILED == 0))
}

main "$@"
