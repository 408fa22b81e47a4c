# shellcheck shell=bash
# Shared helpers for the scripts in test/env/ and test/run_all.sh.
# Sourced, never run.  Sets ROOT (the repo, absolute) and defines the profile table:
#
#   profile  API_PORT  SIM_TLS_PORT  SIM_PORT  FCGI             PG_PORT
#   dev      8443      8444          9180      127.0.0.1:9100   5433
#   test     18443     18444         19180     127.0.0.1:19100  15433
#   bench    28443     28444         29180     127.0.0.1:29100  25433   (make bench only)
#
# GYM_PORT_OFFSET (default 0) is added to every port, so that two clones can run
# their stacks side by side.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export ROOT

# PROG is the name used in messages; each script sets it before sourcing.
: "${PROG:=gym-env}"

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

# load_profile PROFILE: set API_PORT SIM_TLS_PORT SIM_PORT FCGI PG_PORT VAR.
# shellcheck disable=SC2034 # the variables are for the scripts that source this file
load_profile() {
	PROFILE="${1:-}"
	case "$PROFILE" in
	dev)
		API_PORT=8443 SIM_TLS_PORT=8444 SIM_PORT=9180
		FCGI=127.0.0.1:9100 PG_PORT=5433
		;;
	test)
		API_PORT=18443 SIM_TLS_PORT=18444 SIM_PORT=19180
		FCGI=127.0.0.1:19100 PG_PORT=15433
		;;
	bench)
		API_PORT=28443 SIM_TLS_PORT=28444 SIM_PORT=29180
		FCGI=127.0.0.1:29100 PG_PORT=25433
		;;
	*)
		die "unknown profile '${PROFILE}' (expected dev, test or bench)"
		;;
	esac
	# GYM_PORT_OFFSET moves every port (e.g. two clones testing side by side)
	local off="${GYM_PORT_OFFSET:-0}" fhost fport
	[[ "$off" =~ ^[0-9]{1,4}$ ]] || die "GYM_PORT_OFFSET must be a small number"
	if ((off > 0)); then
		fhost="${FCGI%:*}" fport="${FCGI##*:}"
		API_PORT=$((API_PORT + off)) SIM_TLS_PORT=$((SIM_TLS_PORT + off)) SIM_PORT=$((SIM_PORT + off))
		FCGI="$fhost:$((fport + off))" PG_PORT=$((PG_PORT + off))
	fi
	# Nchan's publisher (nginx, loopback HTTP), next to the API's port
	PUSH_PORT=$((API_PORT + 5))
	VAR="$ROOT/var/$PROFILE"
}

# conninfo [DBNAME]: libpq conninfo of the profile's cluster.
conninfo() {
	printf 'host=127.0.0.1 port=%s dbname=%s user=gym' "$PG_PORT" "${1:-gym}"
}

is_root() {
	[[ "$(id -u)" -eq 0 ]]
}

# pid_alive PID: true when PID is a live (non-zombie) process.
pid_alive() {
	local pid="$1" state
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)"
	[[ "$state" != Z ]]
}

# read_pidfile FILE: print the pid in FILE (nothing when absent or garbage).
read_pidfile() {
	local pid=""
	if [[ -r "$1" ]]; then
		read -r pid <"$1" 2>/dev/null || true
	fi
	[[ "$pid" =~ ^[0-9]+$ ]] && printf '%s' "$pid"
	return 0
}

# pid_is PID NAME: PID is alive and its executable's basename is NAME.  Guards
# against killing an unrelated process that reused a stale pid.
pid_is() {
	local pid="$1" name="$2" exe
	pid_alive "$pid" || return 1
	exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
	[[ -n "$exe" ]] || exe="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
	exe="${exe% (deleted)}"
	[[ "${exe##*/}" == "$name" ]]
}

# wait_gone PID SECONDS: wait until PID exits; false on timeout.
wait_gone() {
	local pid="$1" i
	for ((i = 0; i < $2 * 10; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	! pid_alive "$pid"
}

# group_alive PGID: some process of the process group is still alive.
group_alive() {
	kill -0 -- "-$1" 2>/dev/null
}

# tail_log FILE [N]: show the last lines of a log, labelled.
tail_log() {
	local file="$1" n="${2:-30}"
	[[ -s "$file" ]] || return 0
	printf -- '----- last %s lines of %s -----\n' "$n" "${file#"$ROOT"/}" >&2
	tail -n "$n" "$file" >&2 || true
}
