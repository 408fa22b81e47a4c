# shellcheck shell=bash
# bench/lib.sh: helpers for bench/run.sh and bench/scenarios.sh: running
# wrk and pgbench, reading their figures, SQL, the result table.  Sourced
# after test/env/common.sh with the bench profile loaded.

# db_conninfo DB: libpq conninfo of database DB of the bench cluster, over
# DB_HOST (its UNIX socket folder, or 127.0.0.1), the way gymd connects.
db_conninfo() {
	printf 'host=%s port=%s dbname=%s user=gym' "$DB_HOST" "$PG_PORT" "$1"
}

# psql_db DB ARGS...: psql on database DB of the bench cluster, quiet, stop on error.
psql_db() {
	local db="$1"
	shift
	psql -X -q -v ON_ERROR_STOP=1 "$(db_conninfo "$db")" "$@"
}

# sql DB QUERY: the first row of QUERY, columns separated by spaces.
sql() {
	psql_db "$1" -tA -F ' ' -c "$2"
}

# kv FILE KEY: the value of KEY=... on the "BENCH ..." line of FILE.
kv() {
	awk -v k="$2" '$1 == "BENCH" { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) }
		END { print v }' "$1"
}

# calc EXPR: awk arithmetic, printed with up to 6 significant digits.
calc() {
	awk "BEGIN { printf \"%.6g\", $1 }"
}

# ge A B: A >= B (floats).
ge() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}

# fmt_int N: N rounded, with thousands separators (12,345).
fmt_int() {
	printf "%.0f" "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'
}

# server_ticks: CPU ticks (user + system, 1/CLK_TCK s) used so far by the
# server side of the bench stack: PostgreSQL, nginx, gymd, the trivial
# responder, masters and children.  Busy neighbours on the machine slow a
# run down but hardly change what each request costs, so CPU per request is
# the figure that survives them best.
server_ticks() {
	local roots="" f p
	for f in "$(bash "$ROOT/test/env/pg.sh" datadir bench)/postmaster.pid" "$VAR/nginx/nginx.pid" \
		"$VAR/run/gymd.pid" "$VAR/run/hello.pid"; do
		p="$(read_pidfile "$f")"
		[[ -n "$p" ]] && roots+=" $p"
	done
	# shellcheck disable=SC2086 # one pid per word
	{ printf '%s\n' $roots; for p in $roots; do pgrep -P "$p"; done; } | sort -u |
		while read -r p; do [[ -z "$p" ]] || cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%d", t }'
}

# cpu_us_per OPS TICKS: server CPU microseconds per operation.
cpu_us_per() {
	awk -v n="$1" -v t="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}

# children_cpu_us: sets CHILD_US to the CPU time (user + system,
# microseconds) of this shell's finished children so far (bash's times, run
# in this shell, not a subshell), to tell wrk's own share.
children_cpu_us() {
	times >"$OUT/.times"
	CHILD_US="$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
		printf "%.0f", t * 1e6 }' "$OUT/.times")"
}

# wrk_us_per FILE KEY: wrk's own CPU microseconds per KEY (requests, holds)
# of the wrk output FILE: the load generator's share of the same two cores.
wrk_us_per() {
	awk -v n="$(kv "$1" "$2")" -v t="$(kv "$1" wrk_cpu_us)" 'BEGIN { printf "%.0f", (n > 0 ? t / n : 0) }'
}

# wrk_run NAME LUA URL [SECONDS [CONNECTIONS]]: wrk with THREADS threads and
# the Lua script bench/lua/LUA; output in $OUT/NAME.wrk.  Extra environment
# for the script is taken from the caller's exported BENCH_* variables.
wrk_run() {
	local name="$1" lua="$2" url="$3" secs="${4:-$DUR}" conns="${5:-$CONNS}"
	local t0 t1 c0 c1
	t0="$(server_ticks)"
	children_cpu_us
	c0="$CHILD_US"
	BENCH_THREADS="$THREADS" wrk -t "$THREADS" -c "$conns" -d "${secs}s" --timeout 10s \
		-s "$BENCH_DIR/lua/$lua" "$url" >"$OUT/$name.wrk" 2>&1 ||
		{ cat "$OUT/$name.wrk" >&2; die "wrk $name failed"; }
	t1="$(server_ticks)"
	children_cpu_us
	c1="$CHILD_US"
	grep -q '^BENCH ' "$OUT/$name.wrk" || { cat "$OUT/$name.wrk" >&2; die "wrk $name: no figures"; }
	printf 'BENCH server_ticks=%s wrk_cpu_us=%s\n' $((t1 - t0)) $((c1 - c0)) >>"$OUT/$name.wrk"
}

# wrk_run_until_done NAME LUA URL MAXSECONDS [CONNECTIONS]: wrk_run for a
# script whose threads stop by themselves (notify.lua, fresh), each leaving a
# file in BENCH_DONE_DIR: wrk is interrupted (SIGINT: it still reports) when
# all have, instead of sleeping out its -d.
wrk_run_until_done() {
	local name="$1" lua="$2" url="$3" secs="$4" conns="${5:-$CONNS}" pid t0 t1 end
	export BENCH_DONE_DIR="$OUT/$name.done"
	rm -rf "$BENCH_DONE_DIR"
	mkdir -p "$BENCH_DONE_DIR"
	t0="$(server_ticks)"
	BENCH_THREADS="$THREADS" wrk -t "$THREADS" -c "$conns" -d "${secs}s" --timeout 10s \
		-s "$BENCH_DIR/lua/$lua" "$url" >"$OUT/$name.wrk" 2>&1 &
	pid=$!
	end=$((SECONDS + secs + 5))
	while kill -0 "$pid" 2>/dev/null && (($(find "$BENCH_DONE_DIR" -type f | wc -l) < THREADS)); do
		((SECONDS < end)) || break
		sleep 0.2
	done
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || { cat "$OUT/$name.wrk" >&2; die "wrk $name failed"; }
	t1="$(server_ticks)"
	grep -q '^BENCH ' "$OUT/$name.wrk" || { cat "$OUT/$name.wrk" >&2; die "wrk $name: no figures"; }
	printf 'BENCH server_ticks=%s\n' $((t1 - t0)) >>"$OUT/$name.wrk"
}

# pgb_run NAME SQLFILE DB [PGBENCH ARGS...]: pgbench -M prepared on DB with
# bench/sql/SQLFILE, per-transaction log; output in $OUT/NAME.pgb, and a
# "BENCH tps=... p50_ms=... p99_ms=... failed=..." line appended to it.
pgb_run() {
	local name="$1" file="$2" db="$3" tps lat
	shift 3
	rm -f "$OUT/$name".log*
	pgbench -n -M prepared -h "$DB_HOST" -p "$PG_PORT" -U gym -l --log-prefix="$OUT/$name.log" \
		-f "$([[ "$file" == /* ]] || printf '%s/sql/' "$BENCH_DIR")$file" "$@" "$db" >"$OUT/$name.pgb" 2>&1 ||
		{ tail -n 20 "$OUT/$name.pgb" >&2; die "pgbench $name failed"; }
	tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/$name.pgb" | head -n 1)"
	[[ -n "$tps" ]] || { cat "$OUT/$name.pgb" >&2; die "pgbench $name: no tps"; }
	lat="$(cat "$OUT/$name".log* | awk '{ print $3 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0"; exit }
			i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
			printf "%.2f %.2f", v[i50] / 1000, v[i99] / 1000 }')"
	rm -f "$OUT/$name".log*
	printf 'BENCH tps=%s p50_ms=%s p99_ms=%s failed=%s\n' "$tps" "${lat% *}" "${lat#* }" \
		"$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$OUT/$name.pgb" | head -n 1)" \
		>>"$OUT/$name.pgb"
}

# pgb_shape NAME SQLFILE DB [PGBENCH ARGS...]: pgb_run twice, in the
# service's own shape first: as many clients as gymd has database
# connections (DB_CLIENTS, its workers), output NAME; then with CONNS
# clients, as wrk has connections, output NAME_64.  Sets P_RATE P_P99 (the
# first) and P64_RATE P64_P99.  A run with far more clients than gymd has
# connections measures how PostgreSQL copes with contention gymd never
# causes (the 64-client figure swung 4x between runs).
pgb_shape() {
	local name="$1" file="$2" db="$3" f
	shift 3
	pgb_run "$name" "$file" "$db" -c "$DB_CLIENTS" -j "$(pgb_threads "$DB_CLIENTS")" "$@"
	pgb_run "${name}_64" "$file" "$db" -c "$CONNS" -j "$THREADS" "$@"
	for f in "$OUT/$name.pgb" "$OUT/${name}_64.pgb"; do
		[[ "$(kv "$f" failed)" == 0 ]] || die "pgbench ${f##*/}: failed transactions"
	done
	# shellcheck disable=SC2034 # read by the scenarios
	P_RATE="$(kv "$OUT/$name.pgb" tps)" P_P99="$(kv "$OUT/$name.pgb" p99_ms)"
	# shellcheck disable=SC2034 # read by the scenarios
	P64_RATE="$(kv "$OUT/${name}_64.pgb" tps)" P64_P99="$(kv "$OUT/${name}_64.pgb" p99_ms)"
}

# pgb_threads CLIENTS: pgbench threads for CLIENTS clients (at most THREADS).
pgb_threads() {
	printf '%s' $(($1 < THREADS ? $1 : THREADS))
}

# pgb_limit WHAT RATE UNIT: the limit column's pgbench part, "pgbench same
# SQL, 4 clients (gymd's connections) 1,234/s (0.95); 64 clients 2,345/s".
pgb_limit() {
	printf 'pgbench %s, %s clients (as gymd) %s%s (%.2f); %s clients %s%s' "$1" "$DB_CLIENTS" \
		"$(fmt_int "$P_RATE")" "$3" "$(calc "$2 / $P_RATE")" "$CONNS" "$(fmt_int "$P64_RATE")" "$3"
}

# ---- the result table ------------------------------------------------------------------

ROWS=()
MISSES=0

# row SCENARIO FIGURE TARGET LIMIT VERDICT: one line of the table (| separated).
row() {
	ROWS+=("$1|$2|$3|$4|$5")
	[[ "$5" == pass ]] || MISSES=$((MISSES + 1))
	printf '%s: %s: %s [%s]\n' "$PROG" "$1" "$2" "$5" >&2
}

# verdict COND...: "pass" when every "A >= B" pair holds, else "MISS".
#   verdict 4100 4000 18 -20   -> pass (4100 >= 4000 and -18 >= -20 for "p99 < 20")
verdict() {
	while (($# >= 2)); do
		ge "$1" "$2" || { printf 'MISS'; return 0; }
		shift 2
	done
	printf 'pass'
}

print_table() {
	local r a b c d e h4="limit: database or FastCGI alone (ratio)"
	local w1=8 w2=6 w3=6 w4=${#h4}
	for r in "${ROWS[@]}"; do
		IFS='|' read -r a b c d e <<<"$r"
		((${#a} > w1)) && w1=${#a}
		((${#b} > w2)) && w2=${#b}
		((${#c} > w3)) && w3=${#c}
		((${#d} > w4)) && w4=${#d}
	done
	printf '| %-*s | %-*s | %-*s | %-*s | %s |\n' "$w1" scenario "$w2" figure "$w3" target \
		"$w4" "$h4" result
	printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq $((w1 + 2))))" \
		"$(printf -- '-%.0s' $(seq $((w2 + 2))))" "$(printf -- '-%.0s' $(seq $((w3 + 2))))" \
		"$(printf -- '-%.0s' $(seq $((w4 + 2))))" "--------"
	for r in "${ROWS[@]}"; do
		IFS='|' read -r a b c d e <<<"$r"
		printf '| %-*s | %-*s | %-*s | %-*s | %s |\n' "$w1" "$a" "$w2" "$b" "$w3" "$c" "$w4" "$d" "$e"
	done
}
