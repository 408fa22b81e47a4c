#!/usr/bin/env bash
# A private PostgreSQL cluster per profile, separate from any system cluster.
#
#   pg.sh start    PROFILE      init if needed, start (idempotent), create database gym
#   pg.sh stop     PROFILE      fast shutdown; safe when not running
#   pg.sh status   PROFILE      exit 0 when running, 3 when not
#   pg.sh psql     PROFILE [ARGS...]   psql on database gym (ARGS are passed on)
#   pg.sh conninfo PROFILE [DB] print the libpq conninfo (DB defaults to gym)
#   pg.sh datadir  PROFILE      print the data folder
#   pg.sh recreatedb PROFILE DB drop database DB (closing its sessions) and create it empty
#
# The data folder is var/PROFILE/pg.  PostgreSQL refuses to run as root, so as
# root the cluster belongs to the postgres user (initdb and pg_ctl run through
# runuser).  When postgres cannot reach var/PROFILE (a clone under /root, say)
# or the socket path would be too long, the data folder moves to
# /var/tmp/gym-pg-PROFILE-<8 hex of sha1(repo path)>.  The folder chosen is
# recorded in var/PROFILE/pgdir.  Superuser: gym; authentication: trust.
set -euo pipefail

PROG=pg.sh
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
	printf 'usage: %s start|stop|status|psql|conninfo|datadir|recreatedb dev|test [ARGS...]\n' "$PROG" >&2
	exit 2
}

# pg_bindir: the newest installed server's bin folder.
pg_bindir() {
	local dir
	dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
	[[ -n "$dir" && -x "$dir/pg_ctl" ]] ||
		die "no PostgreSQL server under /usr/lib/postgresql (run: bash test/env/deps.sh)"
	printf '%s' "$dir"
}

# as_pg CMD...: run CMD as the cluster owner, from a folder it can read.
as_pg() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# pg_can_reach DIR: the postgres user can traverse DIR and every parent.
pg_can_reach() {
	local dir="$1"
	is_root || return 0
	while :; do
		runuser -u postgres -- test -x "$dir" || return 1
		[[ "$dir" == / ]] && return 0
		dir="$(dirname "$dir")"
	done
}

fallback_datadir() {
	local hash
	hash="$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)"
	printf '/var/tmp/gym-pg-%s-%s' "$PROFILE" "$hash"
}

# socket_fits DIR: DIR/.s.PGSQL.PORT fits in sun_path (108 bytes with the NUL).
socket_fits() {
	local path="$1/.s.PGSQL.$PG_PORT"
	((${#path} < 100))
}

# recorded_datadir: the folder in var/PROFILE/pgdir, if any (may be stale).
recorded_datadir() {
	local dir=""
	if [[ -r "$VAR/pgdir" ]]; then
		read -r dir <"$VAR/pgdir" || true
	fi
	printf '%s' "$dir"
}

# choose_datadir: pick (and record) the data folder for this profile.
choose_datadir() {
	local dir preferred="$VAR/pg"
	dir="$(recorded_datadir)"
	if [[ -n "$dir" && -f "$dir/PG_VERSION" ]]; then
		printf '%s' "$dir"
		return 0
	fi
	mkdir -p "$VAR"
	chmod 755 "$VAR"
	if [[ -f "$preferred/PG_VERSION" ]] || { pg_can_reach "$VAR" && socket_fits "$preferred"; }; then
		dir="$preferred"
	else
		dir="$(fallback_datadir)"
		log "postgres cannot use $preferred (unreachable parent or socket path too long); using $dir"
	fi
	printf '%s\n' "$dir" >"$VAR/pgdir"
	printf '%s' "$dir"
}

# prepare_datadir DIR: create DIR, owned by the cluster owner, mode 700.
prepare_datadir() {
	local dir="$1"
	mkdir -p "$dir"
	if is_root && [[ "$(stat -c %U "$dir")" != postgres ]]; then
		chown -R postgres:postgres "$dir"
	fi
	chmod 700 "$dir"
}

# init_cluster DIR: initdb unless DIR already holds a cluster.
init_cluster() {
	local dir="$1" bin="$2" out
	[[ -f "$dir/PG_VERSION" ]] && return 0
	prepare_datadir "$dir"
	# leftovers of an interrupted initdb would make it refuse the folder
	find "$dir" -mindepth 1 -delete
	log "initdb $dir"
	if ! out="$(as_pg "$bin/initdb" -D "$dir" -A trust -U gym --encoding=UTF8 --locale=C.UTF-8 2>&1)"; then
		log "initdb with locale C.UTF-8 failed; retrying with locale C"
		find "$dir" -mindepth 1 -delete
		out="$(as_pg "$bin/initdb" -D "$dir" -A trust -U gym --encoding=UTF8 --locale=C 2>&1)" ||
			{ printf '%s\n' "$out" >&2; die "initdb failed for $dir"; }
	fi
}

# sql_quote STR: STR with single quotes doubled, for postgresql.conf values.
sql_quote() {
	printf '%s' "${1//\'/\'\'}"
}

# write_conf DIR: (re)write DIR/gym.conf and include it from postgresql.conf.
write_conf() {
	local dir="$1" conf="$1/gym.conf"
	cat >"$conf" <<EOF
# Written by test/env/pg.sh at every start; edits here are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$(sql_quote "$dir")'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
# stderr goes to server.log in this folder (pg_ctl -l)
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	is_root && chown postgres:postgres "$conf"
	chmod 600 "$conf"
	grep -q "^include 'gym.conf'" "$dir/postgresql.conf" ||
		printf "\n# private cluster settings (test/env/pg.sh)\ninclude 'gym.conf'\n" >>"$dir/postgresql.conf"
}

# postmaster_pid DIR: pid of the running postmaster of DIR, or nothing.
postmaster_pid() {
	local pid
	pid="$(read_pidfile "$1/postmaster.pid")"
	[[ -n "$pid" ]] && pid_alive "$pid" && printf '%s' "$pid"
	return 0
}

psql_cmd() {
	"$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

# ensure_db NAME: create database NAME owned by gym when missing.
ensure_db() {
	local name="$1" found
	found="$(psql_cmd -tA "$(conninfo postgres)" -c "select 1 from pg_database where datname = '$name'")"
	[[ "$found" == 1 ]] && return 0
	log "creating database $name"
	psql_cmd "$(conninfo postgres)" -c "create database $name owner gym"
}

# recreate_db NAME: drop database NAME (closing its sessions) and create it empty.
recreate_db() {
	local name="$1"
	[[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name '$name'"
	[[ "$name" != postgres ]] || die "refusing to drop database postgres"
	psql_cmd "$(conninfo postgres)" -c "drop database if exists $name with (force)" -c "create database $name owner gym"
	log "$PROFILE: database $name recreated"
}

cmd_start() {
	local bin dir pid
	bin="$(pg_bindir)"
	dir="$(choose_datadir)"
	init_cluster "$dir" "$bin"
	prepare_datadir "$dir"
	write_conf "$dir"
	pid="$(postmaster_pid "$dir")"
	if [[ -n "$pid" ]]; then
		log "$PROFILE: already running (pid $pid, port $PG_PORT)"
	else
		log "$PROFILE: starting on 127.0.0.1:$PG_PORT ($dir)"
		if ! as_pg "$bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" start >/dev/null; then
			tail_log "$dir/server.log"
			die "PostgreSQL ($PROFILE) did not start; is port $PG_PORT taken?"
		fi
	fi
	ensure_db gym
}

cmd_stop() {
	local dir pid
	dir="$(recorded_datadir)"
	[[ -n "$dir" ]] || dir="$VAR/pg"
	pid="$(postmaster_pid "$dir")"
	if [[ -z "$pid" ]]; then
		log "$PROFILE: not running"
		return 0
	fi
	log "$PROFILE: stopping (pid $pid)"
	if as_pg "$(pg_bindir)/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null 2>&1; then
		wait_gone "$pid" 5 && return 0
	fi
	log "$PROFILE: pg_ctl stop failed; sending SIGINT to $pid"
	kill -INT "$pid" 2>/dev/null || true
	wait_gone "$pid" 30 && return 0
	log "$PROFILE: still running; sending SIGQUIT (immediate shutdown)"
	kill -QUIT "$pid" 2>/dev/null || true
	wait_gone "$pid" 10 || die "PostgreSQL ($PROFILE, pid $pid) will not stop"
}

cmd_status() {
	local dir pid
	dir="$(recorded_datadir)"
	[[ -n "$dir" ]] || dir="$VAR/pg"
	pid="$(postmaster_pid "$dir")"
	if [[ -n "$pid" ]]; then
		printf 'postgres %s: running (pid %s, port %s, data %s)\n' "$PROFILE" "$pid" "$PG_PORT" "$dir"
		return 0
	fi
	printf 'postgres %s: stopped\n' "$PROFILE"
	return 3
}

main() {
	(($# >= 2)) || usage
	local cmd="$1"
	load_profile "$2"
	shift 2
	case "$cmd" in
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	psql) psql_cmd "$(conninfo gym)" "$@" ;;
	recreatedb)
		(($# == 1)) || usage
		recreate_db "$1"
		;;
	conninfo) printf '%s\n' "$(conninfo "${1:-gym}")" ;;
	datadir) choose_datadir && echo ;;
	*) usage ;;
	esac
}

main "$@"
