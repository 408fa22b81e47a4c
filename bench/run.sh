#!/usr/bin/env bash
# bench/run.sh: make bench.  Starts the whole service as make run does
# (test/env/stack.sh), as the profile "bench": its own PostgreSQL, ports and
# var/bench/, so it never touches a dev or test stack; workers that never
# retire; UNIX sockets between nginx, gymd and PostgreSQL as in production.
# Loads it from loopback with wrk and the small C clients in bench/, runs
# each scenario's own SQL through pgbench against the same database in the
# same run, and prints one table.  See docs/performance.md.
#
# Environment:
#   GYM_PORT_OFFSET     added to every port (test/env/common.sh)
#   GYM_BIN             gymd, gymctl, wxsim (default bin)
#   GYM_BENCH_SECONDS   length of each timed run (default 10)
#   GYM_BENCH_WORKERS   gymd workers (default 4); GYM_BENCH_LOG_LEVEL (default warn)
#   GYM_BENCH_SOCKETS=tcp  nginx to gymd and gymd to PostgreSQL over TCP, as make
#                       run does (default: UNIX sockets, as in production)
#   GYM_FCGI_KEEP_CONN  on|off (default off), as for stack.sh
#   GYM_BENCH_KEEP=1    leave the bench stack running afterwards
#   GYM_BENCH_ONLY      a subset of scenarios, e.g. "1 3" (memory needs them all;
#                       4 is WeChat's notifications then Alipay's, 4a Alipay's alone;
#                       9 product notifications, 10 member bookings)
# Work files and wrk/pgbench output: var/bench/out/.  The table is also
# written to var/bench/out/table.md.
set -euo pipefail

PROG=bench
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test/env/common.sh"
BENCH_DIR="$ROOT/bench"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
# shellcheck source=bench/scenarios.sh
source "$BENCH_DIR/scenarios.sh"

load_profile bench
OUT="$VAR/out"
HBIN="$ROOT/build/bench"
case "${GYM_BIN:=bin}" in
/*) GYM_BIN_DIR="$GYM_BIN" ;;
*) GYM_BIN_DIR="$ROOT/$GYM_BIN" ;;
esac
VECTORS="${GYM_VECTORS_DIR:-$ROOT/test/vectors}"
DUR="${GYM_BENCH_SECONDS:-10}"
ONLY="${GYM_BENCH_ONLY:-1 2 3 4 5 6 7 8 9 10}"
CONNS=64
THREADS=2
HELLO_PORT=$((API_PORT + 2))
# the trivial responder listens the way gymd does (stack.sh, profile bench)
if [[ "${GYM_BENCH_SOCKETS:-unix}" == tcp ]]; then
	HELLO_LISTEN="127.0.0.1:$((${FCGI##*:} + 1))" HELLO_FCGI="$HELLO_LISTEN"
	DB_HOST=127.0.0.1
else
	HELLO_LISTEN="$VAR/sock/hello.sock" HELLO_FCGI="unix:$VAR/sock/hello.sock"
	DB_HOST="$(bash "$ROOT/test/env/pg.sh" datadir bench)"
fi
API="https://127.0.0.1:$API_PORT"
HELLO="https://127.0.0.1:$HELLO_PORT"
CACERT="$VAR/tls/cert.pem"
NOTIFY_N=20000
# scenario 9's product orders (half memberships, half class packs)
PRODUCT_N=10000
# orders for each of pgbench's two fresh-notification runs (a multiple of
# CONNS and of any worker count up to 8, so each client runs as many)
PGB_NOTIFY_N=$((CONNS * 150))
SWEEP_N=1000000
SWEEP_PGB_N=200000
SWEEP_BATCH=5000
RECON_N=100000
MEM_REQUESTS=1000000
# parents (users) by purpose: bench-u-1 .. bench-u-9700
USERS=9700 PGB_U1=9501 PGB_U2=9601

# ---- build and start ---------------------------------------------------------------------

# the Makefile builds them (bench-build: one program per bench/*.c, in build/bench)
build_helpers() {
	make -C "$ROOT" --no-print-directory BUILD=build bench-build >/dev/null ||
		die "could not build the bench helpers (make bench-build)"
}

need_tools() {
	local t
	for t in wrk pgbench psql curl pkg-config cc; do
		command -v "$t" >/dev/null || die "$t not found (run: bash test/env/deps.sh)"
	done
	NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
	[[ -x "$NGINX" ]] || die "nginx not found (run: bash test/env/deps.sh)"
}

stack_up() {
	log "starting the bench stack (fresh database) on https://127.0.0.1:$API_PORT"
	bash "$ROOT/test/env/pg.sh" start bench >/dev/null 2>&1 || die "PostgreSQL (bench) did not start"
	bash "$ROOT/test/env/pg.sh" recreatedb bench gym >/dev/null 2>&1
	GYM_BIN="$GYM_BIN" bash "$ROOT/test/env/stack.sh" start bench 2>&1 | sed 's/^/  /' >&2
	[[ "${PIPESTATUS[0]}" == 0 ]] || die "stack.sh start bench failed"
	: >"$VAR/nginx/logs/access.log"
}

# hello_up: the trivial FastCGI responder and its server in the stack's nginx;
# room there for 1,000 parents at once.
hello_up() {
	local ngx="$VAR/nginx" pid
	hello_down
	setsid "$HBIN/fcgi_hello" "$HELLO_LISTEN" "$(awk '/^workers =/ { print $3 }' "$VAR/gymd.conf")" \
		</dev/null >>"$VAR/log/hello.log" 2>&1 &
	printf '%s\n' "$!" >"$VAR/run/hello.pid"
	sed -e "s|@HELLO_PORT@|$HELLO_PORT|g" -e "s|@HELLO_FCGI@|$HELLO_FCGI|g" \
		-e "s|@CERT@|$VAR/tls/cert.pem|g" -e "s|@KEY@|$VAR/tls/key.pem|g" \
		-e "s|@KEEP_CONN@|${GYM_FCGI_KEEP_CONN:-off}|g" \
		"$BENCH_DIR/nginx-hello.conf.in" >"$ngx/bench-hello.conf"
	grep -q 'include bench-hello.conf;' "$ngx/nginx.conf" ||
		sed -i '$ s/^}$/    include bench-hello.conf;\n}/' "$ngx/nginx.conf"
	# 1,000 parents at once are 1,000 client and up to 1,000 upstream
	# connections in one nginx worker (1024 got 500s), and scenario 7 holds
	# 5,000 WebSocket subscribers open with their authorization requests
	sed -i -e 's/^\( *worker_connections\) [0-9]*;/\1 16384;/' "$ngx/nginx.conf"
	grep -q '^worker_rlimit_nofile' "$ngx/nginx.conf" ||
		sed -i 's/^worker_processes .*/&\nworker_rlimit_nofile 40000;/' "$ngx/nginx.conf"
	grep -q 'include bench-hello.conf;' "$ngx/nginx.conf" || die "could not add the hello server to nginx.conf"
	# every notification of scenario 4 comes from 127.0.0.1 at 1,500/s and
	# more: the notify URLs' per-source rate limit (200 r/s here, 10 r/s in
	# nginx/gym.conf: WeChat's servers are many addresses) would answer most
	# of them 429 and measure the limiter instead of gymd
	sed -i '/limit_req zone=gym_notify/d' "$ngx/nginx.conf"
	! grep -q 'limit_req zone=gym_notify' "$ngx/nginx.conf" || die "could not lift the notify rate limit"
	pid="$(read_pidfile "$ngx/nginx.pid")"
	"$NGINX" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" -t -q || die "nginx -t failed"
	"$NGINX" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/logs/error.log" -s reload || die "nginx reload failed"
	for _ in $(seq 50); do
		[[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" "$HELLO/hello")" == 200 ]] && return 0
		sleep 0.1
	done
	die "the trivial responder does not answer on $HELLO/hello (nginx pid $pid)"
}

hello_down() {
	local pid
	pid="$(read_pidfile "$VAR/run/hello.pid")"
	if [[ -n "$pid" ]] && pid_is "$pid" fcgi_hello; then
		kill -TERM "$pid" 2>/dev/null || true
		wait_gone "$pid" 5 || true
	fi
	rm -f "$VAR/run/hello.pid"
}

cleanup() {
	hello_down
	if [[ "${GYM_BENCH_KEEP:-0}" != 1 ]]; then
		bash "$ROOT/test/env/stack.sh" stop bench >/dev/null 2>&1 || true
	fi
}

# load_data: classes, parents and their tokens.
load_data() {
	local ranges
	log "loading classes and $USERS parents"
	ranges="$(psql_db gym -tA -F ' ' -v spread=1000 -v spread_cap=100 -v hot_cap=1000 \
		-v users="$USERS" -f "$BENCH_DIR/sql/setup.sql" | tail -n 1)"
	read -r SPREAD_LO SPREAD_HI HOT RACE U_LO U_HI <<<"$ranges"
	[[ "$U_HI" =~ ^[0-9]+$ && $((U_HI - U_LO + 1)) == "$USERS" ]] || die "setup.sql: unexpected ranges '$ranges'"
	PGB_U1=$((U_LO + PGB_U1 - 1)) PGB_U2=$((U_LO + PGB_U2 - 1))
	# the load's dirty pages written now, not by a checkpoint in the first run
	psql_db gym -c CHECKPOINT
	"$HBIN/mktokens" "$VAR/gymd.conf" "$U_LO" $((U_LO + 3999)) >"$OUT/tokens_spread"
	"$HBIN/mktokens" "$VAR/gymd.conf" $((U_LO + 4000)) $((U_LO + 7999)) >"$OUT/tokens_hot"
	"$HBIN/mktokens" "$VAR/gymd.conf" $((U_LO + 8000)) $((U_LO + 8999)) >"$OUT/tokens_race"
	"$HBIN/mktokens" "$VAR/gymd.conf" $((U_LO + 9000)) $((U_LO + 9499)) >"$OUT/tokens_warm"
}

machine() {
	printf '%s, %s cores, %s MB RAM, %s; PostgreSQL %s (fsync on), nginx %s, wrk %s; gymd %s workers, log_level %s\n' \
		"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)" \
		"$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$(uname -sr)" \
		"$(psql -V | awk '{ print $3 }')" "$("$NGINX" -v 2>&1 | sed 's|.*/||')" \
		"$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')" \
		"$(awk '/^workers =/ { print $3 }' "$VAR/gymd.conf")" \
		"$(awk '/^log_level =/ { print $3 }' "$VAR/gymd.conf")"
}

# busy: the machine's load average and CPU pressure now (other work slows
# every figure; the ratios and the CPU per request suffer least).
busy() {
	printf 'load average %s, CPU pressure %s%%' "$(cut -d' ' -f1 /proc/loadavg)" \
		"$(awk '/^some/ { sub(/avg10=/, "", $2); print $2 }' /proc/pressure/cpu 2>/dev/null || echo '?')"
}

main() {
	local t0=$SECONDS s busy0
	busy0="$(busy)"
	need_tools
	build_helpers
	mkdir -p "$VAR"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	trap cleanup EXIT
	stack_up
	# pgbench's clients in the service's shape: one per gymd database
	# connection (each worker has one; the job process is idle in the scenarios)
	DB_CLIENTS="$(awk '/^workers =/ { print $3 }' "$VAR/gymd.conf")"
	[[ "$DB_CLIENTS" =~ ^[1-9][0-9]*$ ]] || die "no workers line in $VAR/gymd.conf"
	hello_up
	load_data
	if [[ " $ONLY " == *" 6 "* ]]; then
		s6_start
	fi
	for s in $ONLY; do
		case "$s" in
		1) s1_holds ;;
		2) s2_race ;;
		3) s3_reads ;;
		4) s4_notify && s4_alipay ;;
		4a) s4_alipay ;;
		5) s5_sweep ;;
		6) ;;
		7) s7_push ;;
		8) s8_recon ;;
		9) s9_products ;;
		10) s10_members ;;
		*) die "unknown scenario $s" ;;
		esac
	done
	if [[ " $ONLY " == *" 6 "* ]]; then
		s6_finish
	fi
	{
		printf '\nmake bench, %s UTC, %s s\n' "$(date -u +%Y-%m-%dT%H:%M)" $((SECONDS - t0))
		printf 'machine: %s\n' "$(machine)"
		printf 'each timed run %s s, %s connections, wrk %s threads, loopback, through nginx (TLS); nginx-gymd-PostgreSQL over %s\n' \
			"$DUR" "$CONNS" "$THREADS" "$([[ "${GYM_BENCH_SOCKETS:-unix}" == tcp ]] && echo "TCP" || echo "UNIX sockets")"
		printf 'other work on the machine when the run began: %s\n\n' "$busy0"
		print_table
	} | tee "$OUT/table.md"
	((MISSES == 0)) || log "$MISSES target(s) missed (figures and logs in ${OUT#"$ROOT"/}/)"
	return 0
}

main "$@"
