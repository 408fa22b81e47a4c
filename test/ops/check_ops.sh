#!/usr/bin/env bash
# test/ops/check_ops.sh: the deployment files still work.
#
#   units      systemd-analyze verify on every unit in systemd/, rendered into a
#              temp dir with ExecStart= pointing at bin/gymd and bin/gymctl (or
#              stubs when not built); plus the units' credentials against
#              gymd.conf.example and TimeoutStopSec against shutdown_timeout
#   config     gymd -n on systemd/gymd.conf.example with throwaway secrets and
#              the shared test keys; a group-readable secret must be refused
#   reload     gym.service's ExecReload= lines run as systemd runs them: a
#              refused config fails the reload and sends no SIGHUP
#   cli        gymd --help/--version, gymctl help/--help/--version: stdout, exit 0
#   demo       test/env/demo_times.sh: make run's classes at 10:00/15:00 Asia/Shanghai
#   backup     systemd/gym-backup.sh on the test cluster (GYM_PORT_OFFSET): a
#              failed dump removes nothing, retention keeps the newest N, and
#              pg_restore of the dump into a scratch database gives the same
#              row count in every table (the restore drill of operations.md)
#   retention  gymctl retention --dry-run and run on a scratch database of the
#              test cluster: an 8-year-old order archived (0600) and removed,
#              a recent one kept
#   alerts     monitoring/gym-alerts.yml: promtool check rules (when installed);
#              every metric it names is one lib/metrics.c exports
#   install    systemd/install.sh into a staging DESTDIR, twice: idempotent,
#              keeps an edited gymd.conf, never touches /etc/gym/secrets/
#   nginx      nginx -t on nginx/gym.conf (throwaway self-signed certificate,
#              logs in the temp dir) and on nginx/gym-dev.conf.in rendered as
#              test/env/stack.sh renders it
#   openapi    docs/openapi.yaml parses; it and fcgi/router.c agree (routes,
#              x-implemented, auth, Idempotency-Key); every row of the contract
#              page api.md is in it; every response declares X-Request-Id
#   lint       shellcheck on the ops scripts
#
# A check whose tool is missing prints SKIP and does not fail.  Nothing
# outside a temp dir is written; the temp dir is removed at exit.
#
# Environment: GYM_BIN (default bin), GYM_VECTORS_DIR (default
# test/vectors in the repo), GYM_API_MD (default docs/api-origin.md: the
# API page the contract began from, kept in the repo; every operation it
# names must still be in openapi.yaml).
# Exit status: 0 when nothing failed, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
case "${GYM_BIN:=bin}" in
/*) BIN_DIR="$GYM_BIN" ;;
*) BIN_DIR="$ROOT/$GYM_BIN" ;;
esac
VECTORS="${GYM_VECTORS_DIR:-$ROOT/test/vectors}"
API_MD="${GYM_API_MD:-$ROOT/docs/api-origin.md}"

PASSED=0 FAILED=0 SKIPPED=0
TMP=""

cleanup() {
	if [[ -n "$TMP" && -d "$TMP" ]]; then
		rm -rf "$TMP"
	fi
}

# run_check NAME CMD...: run CMD, its output indented under one result line.
# CMD returns 0 (pass), 77 (skip: its output says why) or anything else (fail).
run_check() {
	local name="$1" out rc=0
	shift
	out="$("$@" 2>&1)" || rc=$?
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

have() {
	command -v "$1" >/dev/null 2>&1
}

nginx_bin() {
	if have nginx; then
		command -v nginx
	elif [[ -x /usr/sbin/nginx ]]; then
		printf '/usr/sbin/nginx'
	fi
}

# self_signed DIR NAME: DIR/fullchain.pem and DIR/privkey.pem for NAME.
self_signed() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$1/privkey.pem" -out "$1/fullchain.pem" -subj "/CN=$2" \
		-addext "subjectAltName=DNS:$2" >/dev/null 2>&1
}

# sed_repl STR: STR escaped for the replacement side of s|...|...|.
sed_repl() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//&/\\&}"
	s="${s//|/\\|}"
	printf '%s' "$s"
}

# ---- systemd -----------------------------------------------------------------------------

UNIT_DIR=""
UNIT_NAMES=()

# render_units: every unit of systemd/ into $TMP/units, /usr/local/bin/ pointing
# at $TMP/bin where gymd and gymctl are copies of the build (or stubs).
render_units() {
	local f name prog
	UNIT_DIR="$TMP/units"
	mkdir -p "$UNIT_DIR" "$TMP/bin"
	for prog in gymd gymctl; do
		if [[ -x "$BIN_DIR/$prog" ]]; then
			cp "$BIN_DIR/$prog" "$TMP/bin/$prog"
		else
			printf '#!/bin/sh\nexit 0\n' >"$TMP/bin/$prog"
			chmod 755 "$TMP/bin/$prog"
			printf 'note: %s not built, the units are verified against a stub\n' "$BIN_DIR/$prog"
		fi
	done
	cp "$ROOT/systemd/gym-backup.sh" "$TMP/bin/gym-backup"
	for f in "$ROOT"/systemd/*.socket "$ROOT"/systemd/*.service "$ROOT"/systemd/*.timer \
		"$ROOT"/systemd/*.path "$ROOT"/systemd/*.target; do
		[[ -f "$f" ]] || continue
		name="${f##*/}"
		sed "s|/usr/local/bin/|$(sed_repl "$TMP/bin")/|g" "$f" >"$UNIT_DIR/$name"
		UNIT_NAMES+=("$name")
	done
}

# is_unit_line LINE: LINE is about one of our units (names its file or the unit).
is_unit_line() {
	local u
	[[ "$1" == *"$UNIT_DIR/"* ]] && return 0
	for u in "${UNIT_NAMES[@]}"; do
		[[ "$1" == "$u:"* ]] && return 0
	done
	return 1
}

# verify_probe: does systemd-analyze verify work at all here?
verify_probe() {
	mkdir -p "$TMP/probe"
	printf '[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/true\n' \
		>"$TMP/probe/gymopsprobe.service"
	SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$TMP/probe/gymopsprobe.service" >/dev/null 2>&1
}

check_unit() {
	local unit="$1" out rc=0 line bad=0
	if ! have systemd-analyze; then
		echo "systemd-analyze not found"
		return 77
	fi
	out="$(cd "$UNIT_DIR" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$UNIT_DIR/$unit" 2>&1)" || rc=$?
	while IFS= read -r line; do
		[[ -n "$line" ]] || continue
		if is_unit_line "$line"; then
			printf 'error: %s\n' "${line//"$UNIT_DIR/"/}"
			bad=1
		else
			# no running systemd (a container), no D-Bus, ...: not the unit's fault
			printf 'filtered (environment): %s\n' "$line"
		fi
	done <<<"$out"
	((bad == 0)) || return 1
	if ((rc != 0)); then
		if verify_probe; then
			printf 'systemd-analyze verify exited %d\n' "$rc"
			return 1
		fi
		printf 'systemd-analyze verify fails here even on a minimal unit (exit %d)\n' "$rc"
		return 77
	fi
	return 0
}

# unit_value FILE KEY: the last KEY= value in FILE.
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# Every /run/credentials/gym.service/NAME the example config names is loaded
# by gym.service and gym-migrate.service, and both load the same set.
check_credentials() {
	local conf="$ROOT/systemd/gymd.conf.example" name unit bad=0 a b
	local -a names
	mapfile -t names < <(grep -v '^[[:space:]]*#' "$conf" |
		grep -o '/run/credentials/gym\.service/[A-Za-z0-9._-]*' | sed 's|.*/||' | sort -u)
	if ((${#names[@]} == 0)); then
		echo "gymd.conf.example names no credential"
		return 1
	fi
	for unit in gym.service gym-migrate.service; do
		for name in "${names[@]}"; do
			if ! grep -q "^LoadCredential=$name:/etc/gym/secrets/" "$ROOT/systemd/$unit"; then
				printf '%s: no LoadCredential=%s:/etc/gym/secrets/... (gymd.conf.example uses it)\n' "$unit" "$name"
				bad=1
			fi
		done
	done
	a="$(grep '^LoadCredential=' "$ROOT/systemd/gym.service" | sort)"
	b="$(grep '^LoadCredential=' "$ROOT/systemd/gym-migrate.service" | sort)"
	if [[ "$a" != "$b" ]]; then
		echo "gym.service and gym-migrate.service load different credentials"
		bad=1
	fi
	((bad == 0)) && printf 'credentials: %s\n' "${names[*]}"
	return "$bad"
}

# gym.service waits longer than gymd's own drain before it kills.
check_stop_timeout() {
	local stop drain
	stop="$(unit_value "$ROOT/systemd/gym.service" TimeoutStopSec)"
	drain="$(sed -n 's/^shutdown_timeout *= *//p' "$ROOT/systemd/gymd.conf.example" | tail -n 1)"
	stop="${stop%s}"
	if ! [[ "$stop" =~ ^[0-9]+$ && "$drain" =~ ^[0-9]+$ ]]; then
		printf 'could not read TimeoutStopSec (%s) or shutdown_timeout (%s) as seconds\n' "$stop" "$drain"
		return 1
	fi
	printf 'TimeoutStopSec=%s, shutdown_timeout = %s\n' "$stop" "$drain"
	((stop > drain))
}

# ---- gymd -n on the example config ---------------------------------------------------------

# render_example DIR: the example config with its credentials and platform key
# in DIR (test keys; secrets mode 600) -> DIR/gymd.conf.
render_example() {
	local d="$1" keys="$VECTORS/keys"
	mkdir -p "$d/cred" "$d/wx"
	chmod 700 "$d/cred"
	(
		umask 077
		openssl rand -hex 24 >"$d/cred/token_secret"
		openssl rand -hex 16 >"$d/cred/app_secret"
		cp "$keys/merchant_key.pem" "$d/cred/merchant_key.pem"
		cp "$keys/apiv3_key.txt" "$d/cred/apiv3_key"
		printf 'index %s\nk1 %s\n' "$(openssl rand -hex 32)" "$(openssl rand -hex 32)" \
			>"$d/cred/pii.keys"
	) || return 1
	chmod 600 "$d"/cred/*
	cp "$keys/platform_pub.pem" "$d/wx/pub_key.pem"
	sed -e "s|/run/credentials/gym\.service/|$(sed_repl "$d/cred")/|g" \
		-e "s|/etc/gym/wechatpay/|$(sed_repl "$d/wx")/|g" \
		"$ROOT/systemd/gymd.conf.example" >"$d/gymd.conf"
	if grep -nE '^[^#]*(/run/credentials|/etc/gym/)' "$d/gymd.conf"; then
		echo "a system path is left in the rendered config (see above)"
		return 1
	fi
}

example_prereqs() {
	if [[ ! -x "$BIN_DIR/gymd" ]]; then
		echo "$BIN_DIR/gymd not built"
		return 77
	fi
	if [[ ! -r "$VECTORS/keys/merchant_key.pem" || ! -r "$VECTORS/keys/platform_pub.pem" ||
		! -r "$VECTORS/keys/apiv3_key.txt" ]]; then
		echo "test keys not found in $VECTORS/keys (set GYM_VECTORS_DIR)"
		return 77
	fi
	if ! have openssl; then
		echo "openssl not found"
		return 77
	fi
}

check_example_config() {
	local d="$TMP/example" rc=0
	example_prereqs || return $?
	render_example "$d" || return 1
	"$BIN_DIR/gymd" -n -c "$d/gymd.conf" || rc=$?
	return "$rc"
}

check_secret_mode() {
	local d="$TMP/example-mode" out
	example_prereqs || return $?
	render_example "$d" || return 1
	chmod 640 "$d/cred/token_secret"
	if out="$("$BIN_DIR/gymd" -n -c "$d/gymd.conf" 2>&1)"; then
		echo "gymd -n accepted a token secret of mode 640"
		return 1
	fi
	printf 'refused as it should: %s\n' "${out//"$d/"/}"
}

# run_reload UNIT CONF PID: gym.service's ExecReload= lines as systemd runs
# them (in order, stopping at the first that fails), with /etc/gym/gymd.conf
# replaced by CONF and $MAINPID by PID.  Returns what systemctl reload would.
run_reload() {
	local line
	local -a argv
	while IFS= read -r line; do
		line="${line//\$MAINPID/$3}"
		line="${line//\/etc\/gym\/gymd.conf/$2}"
		read -r -a argv <<<"$line"
		"${argv[@]}" || return 1
	done < <(sed -n 's/^ExecReload=//p' "$1")
}

# systemctl reload fails on a refused configuration and sends no SIGHUP;
# on a good one it sends SIGHUP.
check_reload_refused() {
	local d="$TMP/reload" unit="$UNIT_DIR/gym.service" pid out bad=0
	example_prereqs || return $?
	render_example "$d" || return 1
	if ! grep -q '^ExecReload=.*gymd -n -c /etc/gym/gymd.conf$' "$unit"; then
		echo "gym.service: no ExecReload= that checks /etc/gym/gymd.conf with gymd -n"
		return 1
	fi
	sleep 30 &
	pid=$!
	printf 'workers = 0\n' >>"$d/gymd.conf"
	if out="$(run_reload "$unit" "$d/gymd.conf" "$pid" 2>&1)"; then
		echo "reload with workers = 0 succeeded"
		bad=1
	else
		printf 'refused as it should: %s\n' "${out//"$d/"/}"
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "the refused reload signalled the main process anyway"
		bad=1
	fi
	sed -i '$d' "$d/gymd.conf"
	if ! run_reload "$unit" "$d/gymd.conf" "$pid" 2>/dev/null; then
		echo "reload with the good configuration failed"
		bad=1
	fi
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true
	if [[ -n "$(ps -o pid= -p "$pid" 2>/dev/null)" ]]; then
		echo "the good reload sent no SIGHUP"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		bad=1
	fi
	return "$bad"
}

# ---- --help and --version ----------------------------------------------------------------

# PROG ARGS... prints to stdout, nothing to stderr, exits 0; stdout matches RE.
cli_answers() {
	local re="$1" out err rc=0
	shift
	out="$("$@" 2>"$TMP/cli.err")" || rc=$?
	err="$(cat "$TMP/cli.err")"
	if ((rc != 0)) || [[ -n "$err" ]] || ! grep -qE "$re" <<<"$out"; then
		printf '%s: exit %d, stdout %q, stderr %q\n' "${*##*/}" "$rc" "$out" "$err"
		return 1
	fi
}

check_cli_help() {
	local bad=0 a
	if [[ ! -x "$BIN_DIR/gymd" || ! -x "$BIN_DIR/gymctl" ]]; then
		echo "$BIN_DIR/gymd or gymctl not built"
		return 77
	fi
	for a in --help -h; do
		cli_answers '^usage: gymd -c FILE' "$BIN_DIR/gymd" "$a" || bad=1
	done
	for a in help --help -h; do
		cli_answers '^usage: gymctl ' "$BIN_DIR/gymctl" "$a" || bad=1
	done
	cli_answers '^gymd [^ ]+$' "$BIN_DIR/gymd" --version || bad=1
	cli_answers '^gymctl [^ ]+$' "$BIN_DIR/gymctl" --version || bad=1
	if [[ "$("$BIN_DIR/gymd" --version)" == "gymd unknown" ]]; then
		echo "gymd --version: the Makefile passed no version"
		bad=1
	fi
	# a wrong call still goes to stderr with exit 2
	if "$BIN_DIR/gymd" --bogus >/dev/null 2>&1 || "$BIN_DIR/gymctl" >/dev/null 2>&1; then
		echo "a wrong call exited 0"
		bad=1
	fi
	((bad == 0)) && "$BIN_DIR/gymd" --version
	return "$bad"
}

# ---- make run's demo classes ---------------------------------------------------------------

# test/env/demo_times.sh: three classes on the gym's clock (+08:00), at 10:00,
# 10:00 and 15:00 local (02:00 and 07:00 UTC), on the next three gym days.
check_demo_times() {
	local out starts ends n=0 bad=0 today want
	if [[ ! -r /usr/share/zoneinfo/Asia/Shanghai ]]; then
		echo "no Asia/Shanghai zone (tzdata)"
		return 77
	fi
	out="$(bash "$ROOT/test/env/demo_times.sh")" || return 1
	printf '%s\n' "$out"
	today="$(TZ=Asia/Shanghai date +%F)"
	while read -r starts ends; do
		n=$((n + 1))
		want="$(date -u -d "$today 12:00 UTC +$n day" +%F)"
		case "$n" in
		3) want="${want}T15:00:00+08:00 ${want}T16:00:00+08:00" ;;
		*) want="${want}T10:00:00+08:00 ${want}T11:00:00+08:00" ;;
		esac
		if [[ "$starts $ends" != "$want" ]]; then
			printf 'class %d: %s %s, not %s\n' "$n" "$starts" "$ends" "$want"
			bad=1
		fi
	done <<<"$out"
	((n == 3)) || { echo "$n classes, not 3"; bad=1; }
	# and gymctl reads them as that instant (10:00 in Shanghai is 02:00 UTC)
	[[ "$(date -u -d "${out%% *}" +%H:%M)" == 02:00 ]] || { echo "first class not at 02:00 UTC"; bad=1; }
	return "$bad"
}

# ---- backup and the restore drill --------------------------------------------------------

PG_SH="$ROOT/test/env/pg.sh"

# table_counts CONNINFO: "table rows" for every table of schema public.
table_counts() {
	psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d "$1" -c "SELECT table_name,
	    (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
	    table_schema, table_name), false, true, '')))[1]::text
	    FROM information_schema.tables WHERE table_schema = 'public'
	    AND table_type = 'BASE TABLE' ORDER BY 1"
}

# The restore drill of docs/operations.md section 7, on the test cluster:
# gym-backup (systemd/gym-backup.sh) dumps a migrated database with a class
# in it, keeps the newest GYM_BACKUP_KEEP and drops a stale .partial; a
# failed dump removes nothing; pg_restore into a scratch database gives the
# same row count in every table.
check_backup_restore() {
	local d="$TMP/backup" dumps="$TMP/backup/dumps" src dst admin was_up=1 bad=0 f
	for f in pg_dump pg_restore psql; do
		have "$f" || { echo "$f not found"; return 77; }
	done
	example_prereqs || return $?
	[[ -x "$BIN_DIR/gymctl" ]] || { echo "$BIN_DIR/gymctl not built"; return 77; }
	bash "$PG_SH" status test >/dev/null 2>&1 || was_up=0
	bash "$PG_SH" start test >"$TMP/pg-start.log" 2>&1 ||
		{ tail -n 5 "$TMP/pg-start.log"; echo "could not start the test cluster"; return 1; }
	src="$(bash "$PG_SH" conninfo test gym_backup_src)"
	dst="$(bash "$PG_SH" conninfo test gym_backup_restore)"
	admin="$(bash "$PG_SH" conninfo test gym)"
	backup_drill "$d" "$dumps" "$src" "$dst" || bad=1
	psql -X -q -d "$admin" -c "DROP DATABASE IF EXISTS gym_backup_src" \
		-c "DROP DATABASE IF EXISTS gym_backup_restore" >/dev/null 2>&1 || true
	if ((was_up == 0)); then
		bash "$PG_SH" stop test >/dev/null 2>&1 || true
	fi
	return "$bad"
}

backup_drill() {
	local d="$1" dumps="$2" src="$3" dst="$4" newest out a b
	local -a left
	if ! bash "$PG_SH" recreatedb test gym_backup_src >/dev/null 2>&1 ||
		! bash "$PG_SH" recreatedb test gym_backup_restore >/dev/null 2>&1; then
		echo "could not create the scratch databases"
		return 1
	fi
	render_example "$d" || return 1
	sed -i "s|^db = .*|db = $(sed_repl "$src")|" "$d/gymd.conf"
	"$BIN_DIR/gymctl" -c "$d/gymd.conf" migrate -d "$ROOT/migrations" >/dev/null ||
		{ echo "gymctl migrate failed"; return 1; }
	"$BIN_DIR/gymctl" -c "$d/gymd.conf" schedule add --course "备份演练" \
		--starts "$(date -u -d '+2 day' +%Y-%m-%dT%H:%M:%SZ)" \
		--ends "$(date -u -d '+2 day 1 hour' +%Y-%m-%dT%H:%M:%SZ)" --capacity 5 >/dev/null ||
		{ echo "gymctl schedule add failed"; return 1; }
	mkdir -p "$dumps"
	# two older dumps and a crash's leftover
	printf 'old' >"$dumps/gym-20000101T000000Z.dump"
	printf 'old' >"$dumps/gym-20000102T000000Z.dump"
	printf 'half' >"$dumps/gym-20000103T000000Z.dump.partial"
	# a failed dump removes nothing and leaves no .partial
	if GYM_BACKUP_DB="${src/gym_backup_src/gym_backup_missing}" GYM_BACKUP_DIR="$dumps" \
		GYM_BACKUP_KEEP=1 bash "$ROOT/systemd/gym-backup.sh" >/dev/null 2>&1; then
		echo "gym-backup exited 0 on a missing database"
		return 1
	fi
	mapfile -t left < <(cd "$dumps" && find . -maxdepth 1 -type f -name 'gym-*' -printf '%f\n' | sort)
	if [[ "${left[*]}" != "gym-20000101T000000Z.dump gym-20000102T000000Z.dump" ]]; then
		printf 'after a failed dump: %s\n' "${left[*]}"
		return 1
	fi
	printf 'half' >"$dumps/gym-20000103T000000Z.dump.partial"
	out="$(GYM_BACKUP_DB="$src" GYM_BACKUP_DIR="$dumps" GYM_BACKUP_KEEP=2 \
		bash "$ROOT/systemd/gym-backup.sh" 2>&1)" || { printf '%s\ngym-backup failed\n' "$out"; return 1; }
	printf '%s\n' "${out//"$dumps/"/}"
	mapfile -t left < <(cd "$dumps" && find . -maxdepth 1 -type f -printf '%f\n' | sort -r)
	if ((${#left[@]} != 2)) || [[ "${left[1]}" != gym-20000102T000000Z.dump ||
		! "${left[0]}" =~ ^gym-[0-9]{8}T[0-9]{6}Z\.dump$ ]]; then
		printf 'retention (keep 2) left: %s\n' "${left[*]}"
		return 1
	fi
	newest="$dumps/${left[0]}"
	[[ "$(stat -c %a "$newest")" == 600 ]] || { echo "the dump is not mode 600"; return 1; }
	# the drill, as docs/operations.md section 7 runs it
	pg_restore --no-owner -d "$dst" "$newest" || { echo "pg_restore failed"; return 1; }
	a="$(table_counts "$src")" || { echo "could not count rows"; return 1; }
	b="$(table_counts "$dst")" || { echo "could not count rows"; return 1; }
	if [[ "$a" != "$b" ]]; then
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b")
		echo "the restored database differs (above: dumped < > restored)"
		return 1
	fi
	if ! grep -qE '^course_schedules [1-9]' <<<"$a"; then
		printf '%s\nno class in the dumped database: the drill compared nothing\n' "$a"
		return 1
	fi
	printf '%d tables, same row counts after pg_restore\n' "$(wc -l <<<"$a")"
}

# ---- Prometheus alert rules -----------------------------------------------------------------

# monitoring/gym-alerts.yml: promtool check rules when promtool is here; always:
# it parses, every rule has alert, expr, a severity and a summary, and every
# gymd_* or process_* metric its expressions name is one lib/metrics.c renders.
# gymctl retention as docs/operations.md section 7 has the sysadmin run it, on
# a scratch database of the test cluster: --dry-run counts and removes
# nothing; a run writes the 8-year-old order to a mode-0600 JSON-lines file
# in DIR and removes it; a 1-year-old order stays.
check_retention() {
	local d="$TMP/retention" db admin was_up=1 bad=0
	have psql || { echo "psql not found"; return 77; }
	example_prereqs || return $?
	[[ -x "$BIN_DIR/gymctl" ]] || { echo "$BIN_DIR/gymctl not built"; return 77; }
	bash "$PG_SH" status test >/dev/null 2>&1 || was_up=0
	bash "$PG_SH" start test >"$TMP/pg-start.log" 2>&1 ||
		{ tail -n 5 "$TMP/pg-start.log"; echo "could not start the test cluster"; return 1; }
	db="$(bash "$PG_SH" conninfo test gym_retention_ops)"
	admin="$(bash "$PG_SH" conninfo test gym)"
	retention_drill "$d" "$db" || bad=1
	psql -X -q -d "$admin" -c "DROP DATABASE IF EXISTS gym_retention_ops" >/dev/null 2>&1 || true
	if ((was_up == 0)); then
		bash "$PG_SH" stop test >/dev/null 2>&1 || true
	fi
	return "$bad"
}

# orders_named DB ID: how many orders have the id.
orders_named() {
	psql -X -tA -d "$1" -v id="$2" <<<"SELECT count(*) FROM payment_orders WHERE order_id = :'id'"
}

retention_drill() {
	local d="$1" db="$2" out files
	bash "$PG_SH" recreatedb test gym_retention_ops >/dev/null 2>&1 ||
		{ echo "could not create the scratch database"; return 1; }
	render_example "$d" || return 1
	sed -i "s|^db = .*|db = $(sed_repl "$db")|" "$d/gymd.conf"
	"$BIN_DIR/gymctl" -c "$d/gymd.conf" migrate -d "$ROOT/migrations" >/dev/null ||
		{ echo "gymctl migrate failed"; return 1; }
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || { echo "could not load the orders"; return 1; }
INSERT INTO users (openid, created_at, last_login_at) VALUES ('ops-retention', now(), now());
INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at)
VALUES ('旧课', now() - interval '8 years', now() - interval '8 years' + interval '1 hour', 0,
        now() - interval '8 years');
INSERT INTO payment_orders (order_id, user_id, course_schedule_id, amount_fen, status, expires_at,
                            created_at, updated_at)
SELECT v.oid, u.id, s.id, 20000, 'expired', v.t + interval '30 minutes', v.t, v.t
  FROM users u, course_schedules s,
       (VALUES ('OPSOLD0001', now() - interval '8 years'), ('OPSNEW0001', now() - interval '1 year')) v(oid, t);
SQL
	out="$("$BIN_DIR/gymctl" -c "$d/gymd.conf" retention run --dry-run)" ||
		{ echo "retention --dry-run failed"; return 1; }
	printf '%s\n' "$out"
	[[ "$out" == "would archive: orders 1 "* ]] || { echo "the dry run did not count one order"; return 1; }
	[[ "$(orders_named "$db" OPSOLD0001)" == 1 ]] || { echo "the dry run removed the order"; return 1; }
	mkdir -m 700 "$d/archive"
	out="$("$BIN_DIR/gymctl" -c "$d/gymd.conf" retention run --dir "$d/archive")" ||
		{ echo "retention run failed"; return 1; }
	printf '%s\n' "${out//"$d/"/}"
	mapfile -t files < <(find "$d/archive" -name 'orders-*.jsonl')
	((${#files[@]} == 1)) || { echo "expected one orders file, found ${#files[@]}"; return 1; }
	[[ "$(stat -c %a "${files[0]}")" == 600 ]] || { echo "the archive is not mode 600"; return 1; }
	grep -q '"OPSOLD0001"' "${files[0]}" || { echo "the old order is not in the archive"; return 1; }
	[[ "$(orders_named "$db" OPSOLD0001)" == 0 ]] || { echo "the archived order is still there"; return 1; }
	[[ "$(orders_named "$db" OPSNEW0001)" == 1 ]] || { echo "the 1-year-old order went"; return 1; }
	echo "the old order archived (mode 600) and removed; the recent one kept"
}

check_alert_rules() {
	local rules="$ROOT/monitoring/gym-alerts.yml"
	[[ -r "$rules" ]] || { echo "$rules not found"; return 1; }
	if have promtool; then
		promtool check rules "$rules" || return 1
	else
		echo "note: promtool not found (Debian: prometheus); checked without it"
	fi
	if ! have python3 || ! python3 -c 'import yaml' >/dev/null 2>&1; then
		echo "python3 with PyYAML not found (Debian: python3-yaml)"
		return 77
	fi
	python3 - "$rules" "$ROOT/lib/metrics.c" "$ROOT/fcgi/h_service.c" <<'PYEOF'
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
# metrics.c renders the counters; h_service.c adds the gauges read from the database
src = "".join(open(f).read() for f in sys.argv[2:])
# what metrics.c renders: literal names, and gymd_%s_total over the named table
known = set(re.findall(r'\b((?:gymd|process)_[a-z_]+)\b', src))
known |= {"gymd_%s_total" % n for n in re.findall(r'\{\s*"([a-z_]+)",\s*(?:NULL|")', src)}
known |= {k + s for k in list(known) for s in ("_bucket", "_sum", "_count")}
errors, n = [], 0
for g in rules.get("groups", []):
    for r in g.get("rules", []):
        n += 1
        name = r.get("alert") or "?"
        for key in ("alert", "expr"):
            if not r.get(key):
                errors.append(f"{name}: no {key}")
        if not (r.get("labels") or {}).get("severity"):
            errors.append(f"{name}: no labels.severity")
        if not (r.get("annotations") or {}).get("summary"):
            errors.append(f"{name}: no annotations.summary")
        for m in re.findall(r'\b((?:gymd|process)_[a-z_]+)', str(r.get("expr", ""))):
            if m not in known:
                errors.append(f"{name}: {m} is not a metric gymd exports")
if n == 0:
    errors.append("no rules")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"{n} rules, every metric they name is exported")
PYEOF
}

# ---- install.sh ------------------------------------------------------------------------------

check_install() {
	local stage="$TMP/stage" out f bad=0
	if [[ ! -x "$BIN_DIR/gymd" || ! -x "$BIN_DIR/gymctl" ]]; then
		echo "$BIN_DIR/gymd or gymctl not built"
		return 77
	fi
	mkdir -p "$stage/etc/nginx"
	if ! out="$(DESTDIR="$stage" GYM_BIN="$BIN_DIR" bash "$ROOT/systemd/install.sh" /usr/local 2>&1)"; then
		printf '%s\nfirst run failed\n' "$out"
		return 1
	fi
	for f in usr/local/bin/gymd usr/local/bin/gymctl etc/gym/gymd.conf etc/gym/gymd.conf.example \
		etc/systemd/system/gym.socket etc/systemd/system/gym.service \
		etc/systemd/system/gym-migrate.service etc/nginx/fastcgi_gym_params \
		usr/local/bin/gym-backup etc/systemd/system/gym-backup.service \
		etc/systemd/system/gym-backup.timer \
		etc/nginx/sites-available/gym.conf; do
		if [[ ! -f "$stage/$f" ]]; then
			printf 'missing after install: /%s\n' "$f"
			bad=1
		fi
	done
	if ! compgen -G "$stage/usr/local/share/gym/migrations/[0-9][0-9][0-9][0-9]_*.sql" >/dev/null; then
		echo "no migrations installed"
		bad=1
	fi
	if [[ "$(stat -c %a "$stage/var/backups/gym" 2>/dev/null)" != 700 ]]; then
		echo "/var/backups/gym is not there with mode 700"
		bad=1
	fi
	if [[ "$(stat -c %a "$stage/etc/gym/secrets")" != 700 ]]; then
		echo "/etc/gym/secrets is not mode 700"
		bad=1
	fi
	# an edited config and a secret must survive a second run, untouched
	printf '# edited by the sysadmin\n' >>"$stage/etc/gym/gymd.conf"
	printf 'do-not-touch' >"$stage/etc/gym/secrets/token_secret"
	chmod 600 "$stage/etc/gym/secrets/token_secret"
	touch -d '2000-01-01' "$stage/etc/gym/secrets/token_secret"
	if ! out="$(DESTDIR="$stage" GYM_BIN="$BIN_DIR" bash "$ROOT/systemd/install.sh" /usr/local 2>&1)"; then
		printf '%s\nsecond run failed\n' "$out"
		return 1
	fi
	if grep -q 'installed' <<<"$out"; then
		printf '%s\nthe second run installed something again (not idempotent)\n' "$out"
		bad=1
	fi
	if ! grep -q '^# edited by the sysadmin' "$stage/etc/gym/gymd.conf"; then
		echo "the second run overwrote /etc/gym/gymd.conf"
		bad=1
	fi
	if [[ "$(cat "$stage/etc/gym/secrets/token_secret")" != do-not-touch ||
		"$(stat -c '%a %Y' "$stage/etc/gym/secrets/token_secret")" != "600 $(date -d 2000-01-01 +%s)" ]]; then
		echo "install.sh touched /etc/gym/secrets/token_secret"
		bad=1
	fi
	if ! grep -q '^ExecStart=/usr/local/bin/gymd -c /etc/gym/gymd.conf$' "$stage/etc/systemd/system/gym.service"; then
		echo "gym.service: ExecStart does not run /usr/local/bin/gymd -c /etc/gym/gymd.conf"
		bad=1
	fi
	return "$bad"
}

check_install_prefix() {
	local stage="$TMP/stage-prefix" out
	if [[ ! -x "$BIN_DIR/gymd" || ! -x "$BIN_DIR/gymctl" ]]; then
		echo "$BIN_DIR/gymd or gymctl not built"
		return 77
	fi
	mkdir -p "$stage/etc/nginx"
	if ! out="$(DESTDIR="$stage" GYM_BIN="$BIN_DIR" bash "$ROOT/systemd/install.sh" /opt/gym 2>&1)"; then
		printf '%s\ninstall with PREFIX=/opt/gym failed\n' "$out"
		return 1
	fi
	if grep -n '/usr/local' "$stage"/etc/systemd/system/* "$stage/etc/nginx/sites-available/gym.conf"; then
		echo "PREFIX=/opt/gym: /usr/local is left in the units or the nginx site (above)"
		return 1
	fi
	# the site's console alias is the installed console, and it has the pages
	if ! grep -q '^ *alias /opt/gym/share/gym/console/;$' "$stage/etc/nginx/sites-available/gym.conf"; then
		echo "nginx site: /console/ is not aliased to /opt/gym/share/gym/console/"
		return 1
	fi
	if [[ -d "$ROOT/console" && ! -f "$stage/opt/gym/share/gym/console/index.html" ]]; then
		echo "no /opt/gym/share/gym/console/index.html for the alias to serve"
		return 1
	fi
	[[ -x "$stage/opt/gym/bin/gymd" ]] || { echo "no /opt/gym/bin/gymd"; return 1; }
	grep -q '^ExecStart=/opt/gym/bin/gymd -c /etc/gym/gymd.conf$' "$stage/etc/systemd/system/gym.service" ||
		{ echo "gym.service does not run /opt/gym/bin/gymd"; return 1; }
}

# ---- nginx -------------------------------------------------------------------------------

# nginx_test PREFIX CONF: nginx -t; shows nginx's messages, fails on an error.
nginx_test() {
	local ngx out rc=0
	ngx="$(nginx_bin)"
	out="$("$ngx" -t -q -p "$1" -c "$2" -e "$1/logs/error.log" 2>&1)" || rc=$?
	if [[ -n "$out" ]]; then
		printf '%s\n' "${out//"$1/"/}"
	fi
	return "$rc"
}

check_nginx_prod() {
	local d="$TMP/nginx-prod"
	if [[ -z "$(nginx_bin)" ]]; then
		echo "nginx not found"
		return 77
	fi
	have openssl || { echo "openssl not found"; return 77; }
	mkdir -p "$d/logs" "$d/tmp"
	self_signed "$d/tls" gym.example.com || { echo "openssl could not make a certificate"; return 1; }
	sed -e "s|/etc/letsencrypt/live/gym\.example\.com/|$(sed_repl "$d/tls")/|g" \
		-e "s|/var/log/nginx/|$(sed_repl "$d/logs")/|g" \
		"$ROOT/nginx/gym.conf" >"$d/gym.conf"
	# nginx -t binds the listen addresses: ports below 1024 need root, [::] IPv6
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "note: not root, so listening on 127.0.0.1:28080/28443 for the test, IPv4 only"
		sed -i -E -e '/listen \[::\]:/d' -e 's/listen 80;/listen 127.0.0.1:28080;/' \
			-e 's/listen 443 /listen 127.0.0.1:28443 /' "$d/gym.conf"
	elif [[ ! -e /proc/net/if_inet6 ]]; then
		echo "note: no IPv6 here, so the [::] listen lines are left out of the test"
		sed -i -E '/listen \[::\]:/d' "$d/gym.conf"
	fi
	if grep -nE '/etc/letsencrypt|/var/log' "$d/gym.conf"; then
		echo "gym.conf: a system path the check does not render (above); nginx -t would write there"
		return 1
	fi
	cp "$ROOT/nginx/fastcgi_gym_params" "$d/fastcgi_gym_params"
	# what Debian's /etc/nginx/nginx.conf provides around a site
	cat >"$d/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events {
    worker_connections 64;
}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path       $d/tmp/proxy;
    fastcgi_temp_path     $d/tmp/fastcgi;
    uwsgi_temp_path       $d/tmp/uwsgi;
    scgi_temp_path        $d/tmp/scgi;
    include $d/gym.conf;
}
EOF
	nginx_test "$d" "$d/nginx.conf"
}

# dev_user_line: what stack.sh's nginx_user_line prints.
dev_user_line() {
	if [[ "$(id -u)" -eq 0 ]] && id -u www-data >/dev/null 2>&1; then
		printf 'user www-data;'
	elif [[ "$(id -u)" -eq 0 ]]; then
		printf 'user nobody nogroup;'
	else
		printf '# not started as root: workers run as %s' "$(id -un)"
	fi
}

# The dev/test template, rendered as test/env/stack.sh's render_nginx does
# (test profile values; nginx -t binds no port).
check_nginx_dev() {
	local d="$TMP/nginx-dev" tmpl="$ROOT/nginx/gym-dev.conf.in"
	if [[ -z "$(nginx_bin)" ]]; then
		echo "nginx not found"
		return 77
	fi
	have openssl || { echo "openssl not found"; return 77; }
	[[ -r "$tmpl" ]] || { echo "$tmpl not found"; return 1; }
	mkdir -p "$d/logs" "$d/tmp"
	self_signed "$d/tls" 127.0.0.1 || { echo "openssl could not make a certificate"; return 1; }
	sed -e "s|@PREFIX@|$(sed_repl "$d")|g" \
		-e "s|@USER_LINE@|$(sed_repl "$(dev_user_line)")|g" \
		-e "s|@API_PORT@|18443|g" \
		-e "s|@SIM_TLS_PORT@|18444|g" \
		-e "s|@SIM_PORT@|19180|g" \
		-e "s|@FCGI@|127.0.0.1:19100|g" \
		-e "s|@FCGI_KEEP_CONN@|off|g" \
		-e "s|@PUSH_PORT@|18448|g" \
		-e "s|@CERT@|$(sed_repl "$d/tls/fullchain.pem")|g" \
		-e "s|@KEY@|$(sed_repl "$d/tls/privkey.pem")|g" \
		-e "s|@ROOT@|$(sed_repl "$ROOT")|g" \
		"$tmpl" >"$d/nginx.conf"
	if grep -n '@[A-Z_]*@' "$d/nginx.conf"; then
		echo "a placeholder this check does not render (above): update check_ops.sh with stack.sh"
		return 1
	fi
	nginx_test "$d" "$d/nginx.conf"
}

# ---- openapi -----------------------------------------------------------------------------

check_openapi() {
	local spec="$ROOT/docs/openapi.yaml"
	[[ -r "$spec" ]] || { echo "$spec not found"; return 1; }
	if ! have python3 || ! python3 -c 'import yaml' >/dev/null 2>&1; then
		echo "python3 with PyYAML not found (Debian: python3-yaml)"
		return 77
	fi
	python3 - "$spec" "$ROOT/fcgi/router.c" "$API_MD" <<'PYEOF'
import os
import re
import sys

import yaml

spec_path, router_path, api_md = sys.argv[1:4]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
errors = []

try:
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
except yaml.YAMLError as e:
    print(f"openapi.yaml does not parse: {e}")
    sys.exit(1)

if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3.0"):
    print("openapi.yaml: not an OpenAPI 3.0 document")
    sys.exit(1)

paths = spec.get("paths") or {}
comps = spec.get("components") or {}


def norm(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


def api_path(p):
    return p if p in ("/healthz", "/metrics") else "/api/v1" + p


ops = {}
for p, item in paths.items():
    for m, op in (item or {}).items():
        if m in METHODS:
            ops[(m.upper(), norm(p))] = (p, op)

# the router's table
routes = []
with open(router_path, encoding="utf-8") as f:
    for line in f:
        m = re.match(r'\s*\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(\w+),\s*([^,]+),', line)
        if m:
            routes.append((m.group(1), m.group(2), m.group(4)))
if not routes:
    errors.append("no route found in fcgi/router.c (has the table's format changed?)")

routed = set()
for method, pattern, flags in routes:
    key = (method, norm(api_path(pattern)))
    routed.add(key)
    if key not in ops:
        errors.append(f"router has {method} {pattern}, openapi.yaml does not")
        continue
    _, op = ops[key]
    if op.get("x-implemented") is False:
        errors.append(f"{method} {pattern} is routed but marked x-implemented: false")
    schemes = {name for req in (op.get("security") or []) for name in req}
    if "GYM_AUTH_USER" in flags and "parentBearer" not in schemes:
        errors.append(f"{method} {pattern}: router wants a parent token, openapi has no parentBearer")
    if ("GYM_AUTH_OPERATOR" in flags or "GYM_AUTH_AUDITOR" in flags) and "operatorBearer" not in schemes:
        errors.append(f"{method} {pattern}: router wants an operator token, openapi has no operatorBearer")
    if not re.search(r"GYM_AUTH_(USER|OPERATOR|AUDITOR)", flags) and schemes:
        errors.append(f"{method} {pattern}: no auth in the router, but openapi asks for {sorted(schemes)}")
    params = [prm.get("$ref", prm.get("name", "")) for prm in op.get("parameters") or []]
    has_idem = any(x.endswith("/IdempotencyKey") or x == "Idempotency-Key" for x in params)
    if "GYM_IDEMPOTENT" in flags and not has_idem:
        errors.append(f"{method} {pattern}: honours Idempotency-Key, openapi does not say so")

for key, (p, op) in sorted(ops.items()):
    if key not in routed and op.get("x-implemented") is not False:
        errors.append(f"{key[0]} {p}: not in the router, so it needs x-implemented: false")

# every row of the contract page
if os.path.exists(api_md):
    with open(api_md, encoding="utf-8") as f:
        text = f.read()
    rows = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", text))
    if not rows:
        errors.append(f"no `METHOD /path` found in {api_md}")
    missing = [f"api.md has {m} {p}, openapi.yaml does not"
               for m, p in sorted(rows) if (m, norm(api_path(p))) not in ops]
    errors.extend(missing)
    if not missing:
        print(f"api.md: all {len(rows)} operations present")
else:
    print(f"note: {api_md} not found; contract rows not compared")


# every response carries X-Request-Id
def resolve(obj):
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 10:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            return None
        node = spec
        for part in ref[2:].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        obj = node
        seen += 1
    return obj


for (method, _), (p, op) in sorted(ops.items()):
    for code, resp in (op.get("responses") or {}).items():
        r = resolve(resp)
        if r is None:
            errors.append(f"{method} {p} {code}: unresolvable $ref")
            continue
        if "X-Request-Id" not in (r.get("headers") or {}):
            errors.append(f"{method} {p} {code}: no X-Request-Id header")

for name in ("Error", "Schedule", "Reservation", "Order", "Booking", "PayParams", "Refund", "AuditEntry"):
    if name not in (comps.get("schemas") or {}):
        errors.append(f"components.schemas.{name} missing")
for name in ("parentBearer", "operatorBearer"):
    if name not in (comps.get("securitySchemes") or {}):
        errors.append(f"components.securitySchemes.{name} missing")

if errors:
    print("\n".join(errors))
    sys.exit(1)
todo = sum(1 for (_, op) in ops.values() if op.get("x-implemented") is False)
print(f"{len(ops)} operations, {len(routes)} routes, {todo} marked x-implemented: false")
PYEOF
}

# ---- shellcheck --------------------------------------------------------------------------

check_shellcheck() {
	if ! have shellcheck; then
		echo "shellcheck not found"
		return 77
	fi
	shellcheck "$ROOT/systemd/install.sh" "$ROOT/test/ops/check_ops.sh" "$ROOT/test/env/demo_times.sh" \
		"$ROOT/systemd/gym-backup.sh"
}

main() {
	local unit
	cd "$ROOT"
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/gym-ops.XXXXXX")"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	render_units
	for unit in "${UNIT_NAMES[@]}"; do
		run_check "units: systemd-analyze verify $unit" check_unit "$unit"
	done
	run_check "units: credentials match gymd.conf.example" check_credentials
	run_check "units: TimeoutStopSec above shutdown_timeout" check_stop_timeout
	run_check "config: gymd -n on gymd.conf.example" check_example_config
	run_check "config: a group-readable secret is refused" check_secret_mode
	run_check "reload: a refused configuration fails the reload, sends no SIGHUP" check_reload_refused
	run_check "cli: gymd and gymctl --help, help, --version on stdout, exit 0" check_cli_help
	run_check "make run: demo classes at the gym's local times (Asia/Shanghai)" check_demo_times
	run_check "backup: gym-backup dumps with retention; the restore drill restores every row" check_backup_restore
	run_check "retention: gymctl retention archives an 8-year-old order, keeps a recent one" check_retention
	run_check "alerts: monitoring/gym-alerts.yml names only exported metrics" check_alert_rules
	run_check "install: staged twice, idempotent, config and secrets kept" check_install
	run_check "install: PREFIX=/opt/gym reaches the units and the nginx console alias" check_install_prefix
	run_check "nginx: nginx -t on nginx/gym.conf" check_nginx_prod
	run_check "nginx: nginx -t on nginx/gym-dev.conf.in (as stack.sh renders it)" check_nginx_dev
	run_check "openapi: parses and agrees with router.c and api.md" check_openapi
	run_check "shellcheck: install.sh, check_ops.sh, demo_times.sh, gym-backup.sh" check_shellcheck

	printf '\nops: %d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	((FAILED == 0))
}

main "$@"
