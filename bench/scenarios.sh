# shellcheck shell=bash
# bench/scenarios.sh: the scenarios of make bench.  Each runs its load,
# runs its own SQL through pgbench against the same database where there is
# one, checks the outcome and adds a row to the table.  Sourced by
# bench/run.sh, which sets API (https base), HELLO (the trivial responder's
# base), CACERT, OUT, DUR, CONNS, THREADS and the id ranges of the data.

# ---- 1. hold and release ---------------------------------------------------------------

# holds_once NAME TOKENS LO HI UBASE: wrk through nginx, then pgbench with the
# same statements (pgb_shape); sets H_RATE H_P50 H_P99 H_ERR H_CPU, P_RATE
# P_P99 (as many clients as gymd has connections), P64_RATE P64_P99.
holds_once() {
	local name="$1" tokens="$2" lo="$3" hi="$4" ubase="$5" f="$OUT/$1.wrk" secs
	BENCH_TOKENS="$tokens" BENCH_SCHED_LO="$lo" BENCH_SCHED_HI="$hi" \
		wrk_run "$name" holds.lua "$API"
	secs="$(kv "$f" seconds)"
	H_RATE="$(calc "$(kv "$f" holds) / $secs")"
	H_P50="$(kv "$f" p50_ms)" H_P99="$(kv "$f" p99_ms)"
	H_ERR=$(($(kv "$f" hold_fail) + $(kv "$f" release_fail) + $(kv "$f" s5xx) + $(kv "$f" sock_errors)))
	H_CPU="$(cpu_us_per "$(kv "$f" holds)" "$(kv "$f" server_ticks)")"
	H_WRK="$(wrk_us_per "$f" holds)"
	pgb_shape "pgb_$name" "$OUT/hold_release.sql" gym -T "$DUR" \
		-D slo="$lo" -D shi="$hi" -D ubase="$ubase"
}

s1_holds() {
	local spread hot ratio
	# pgbench's script: the statements of lib/holds.c itself (bench/holdsql.c)
	"$HBIN/holdsql" >"$OUT/hold_release.sql" || die "holdsql failed"
	log "1. hold and release: 3 s to warm up (not counted)"
	BENCH_TOKENS="$OUT/tokens_warm" BENCH_SCHED_LO="$SPREAD_LO" BENCH_SCHED_HI="$SPREAD_HI" \
		wrk_run holds_warm holds.lua "$API" 3
	# statistics for the tables the warm-up filled, as autovacuum gives a running
	# service: planned against the empty tables of a fresh load, the hold's
	# statements scan them, and the first run measured that instead
	psql_db gym -c ANALYZE >/dev/null
	log "1. hold and release, $CONNS connections, ${DUR}s each: 1,000 classes"
	holds_once holds_spread "$OUT/tokens_spread" "$SPREAD_LO" "$SPREAD_HI" "$PGB_U1"
	spread="$H_RATE" ratio="$(calc "$H_RATE / $P_RATE")"
	row "1. hold+release, 1,000 classes" \
		"$(fmt_int "$H_RATE") holds/s, p50 $H_P50 ms, p99 $H_P99 ms, $H_ERR errors; server CPU $H_CPU us/hold, wrk $H_WRK us/hold" \
		">= 4,000/s, p99 < 20 ms, >= 0.5 of pgbench" \
		"$(pgb_limit "same SQL" "$H_RATE" /s), p99 ${P_P99:-?} / ${P64_P99:-?} ms per pair" \
		"$(verdict "$H_RATE" 4000 "-$H_P99" -20 "$ratio" 0.5 0 "$H_ERR")"
	log "1. hold and release: one hot class"
	holds_once holds_hot "$OUT/tokens_hot" "$HOT" "$HOT" "$PGB_U2"
	hot="$H_RATE"
	row "1. hold+release, one hot class" \
		"$(fmt_int "$H_RATE") holds/s ($(calc "$hot / $spread" | xargs printf '%.2f') of 1,000 classes), p50 $H_P50 ms, p99 $H_P99 ms, $H_ERR errors; server CPU $H_CPU us/hold, wrk $H_WRK us/hold" \
		">= 0.7 of 1,000 classes" \
		"$(pgb_limit "same SQL" "$H_RATE" /s), p99 ${P_P99:-?} / ${P64_P99:-?} ms per pair" \
		"$(verdict "$(calc "$hot / $spread")" 0.7 0 "$H_ERR")"
}

# ---- 2. last seats ---------------------------------------------------------------------

s2_race() {
	local f="$OUT/race.txt" win f5 held ms all
	log "2. last seats: 1,000 parents, 10 seats"
	"$HBIN/race" "$API" "$CACERT" "$OUT/tokens_race" "$RACE" 1000 >"$f" ||
		die "race failed"
	sed -i 's/^/BENCH /' "$f"
	win="$(kv "$f" winners)" f5="$(kv "$f" status_5xx)" ms="$(kv "$f" sold_out_ms)"
	all="$(kv "$f" all_ms)"
	held="$(sql gym "SELECT count(*) FROM seats WHERE course_schedule_id = $RACE AND state = 'held'")"
	row "2. last seats: 1,000 parents, 10 seats" \
		"$win winners (seats held: $held), sold out in $ms ms, all answered in $all ms, $f5 5xx, $(kv "$f" other) other" \
		"exactly 10 winners, no 5xx" "-" \
		"$(verdict "$win" 10 -"$win" -10 "$held" 10 -"$held" -10 0 "$f5" 0 "$(kv "$f" other)")"
}

# ---- 3. availability reads -------------------------------------------------------------

s3_reads() {
	local f="$OUT/reads.wrk" h="$OUT/hello.wrk" rate hrate err rcpu hcpu hratio cratio
	log "3. availability reads: GET /course-schedules/{id}, then the trivial responder, then pgbench"
	BENCH_PATH="/api/v1/course-schedules/%d" BENCH_LO="$SPREAD_LO" BENCH_HI="$SPREAD_HI" \
		wrk_run reads paths.lua "$API"
	BENCH_PATH="/hello" wrk_run hello paths.lua "$HELLO"
	pgb_shape pgb_reads read.sql gym -T "$DUR" -D slo="$SPREAD_LO" -D shi="$SPREAD_HI"
	rate="$(calc "$(kv "$f" requests) / $(kv "$f" seconds)")"
	hrate="$(calc "$(kv "$h" requests) / $(kv "$h" seconds)")"
	err=$(($(kv "$f" non2xx) + $(kv "$f" sock_errors)))
	READ_RATE="$rate"
	rcpu="$(cpu_us_per "$(kv "$f" requests)" "$(kv "$f" server_ticks)")"
	hcpu="$(cpu_us_per "$(kv "$h" requests)" "$(kv "$h" server_ticks)")"
	# the door's weight: the read's rate, and its server CPU, against the
	# trivial responder's in the same run (docs/performance.md)
	hratio="$(calc "$rate / $hrate")" cratio="$(calc "$hcpu / ($rcpu > 0 ? $rcpu : 1)")"
	row "3. availability reads" \
		"$(fmt_int "$rate") req/s, p50 $(kv "$f" p50_ms) ms, p99 $(kv "$f" p99_ms) ms, $err errors; server CPU $rcpu us/req, wrk $(wrk_us_per "$f" requests) us/req" \
		">= 15,000/s, p99 < 10 ms, >= 0.6 of FastCGI hello" \
		"FastCGI hello $(fmt_int "$hrate")/s ($(printf '%.2f' "$hratio"); $hcpu us/req: CPU ratio $(printf '%.2f' "$cratio")); $(pgb_limit "same SQL" "$rate" /s)" \
		"$(verdict "$rate" 15000 "-$(kv "$f" p99_ms)" -10 "$hratio" 0.6 0 "$err")"
}

# ---- 4. payment notifications ----------------------------------------------------------

s4_notify() {
	local f="$OUT/notify_fresh.wrk" d="$OUT/notify_dup.wrk" rate drate paid code
	log "4. notifications: $NOTIFY_N fresh orders (+$PGB_NOTIFY_N for pgbench), signing them"
	psql_db gym -v tag=n -v prefix=BENCHN -v n="$NOTIFY_N" -f "$BENCH_DIR/sql/orders.sql"
	# pgbench's two runs (gymd's connections, then CONNS clients) take the
	# next order of bench_pgb_seq each
	psql_db gym -v tag=p -v prefix=BENCHP -v n=$((2 * PGB_NOTIFY_N)) -f "$BENCH_DIR/sql/orders.sql"
	psql_db gym -v tag=d -v prefix=BENCHD -v n=1 -f "$BENCH_DIR/sql/orders.sql"
	psql_db gym -c "CREATE SEQUENCE bench_pgb_seq"
	"$HBIN/mknotify" "$VECTORS/keys" BENCHN 1 "$NOTIFY_N" 2 "$OUT/notify_fresh.txt" ||
		die "mknotify failed"
	"$HBIN/mknotify" "$VECTORS/keys" BENCHD 1 1 1 "$OUT/notify_dup.txt" || die "mknotify failed"

	log "4. notifications: fresh"
	BENCH_NOTIFY="$OUT/notify_fresh.txt" wrk_run_until_done notify_fresh notify.lua "$API" 60
	rate="$(calc "$(kv "$f" ok) / $(kv "$f" seconds)")"
	paid="$(sql gym "SELECT count(*) FROM payment_orders WHERE order_id LIKE 'BENCHN%' AND status = 'paid'")"
	pgb_run pgb_notify_fresh notify_fresh.sql gym -c "$DB_CLIENTS" -j "$(pgb_threads "$DB_CLIENTS")" \
		-t $((PGB_NOTIFY_N / DB_CLIENTS))
	pgb_run pgb_notify_fresh_64 notify_fresh.sql gym -c "$CONNS" -j "$THREADS" \
		-t $((PGB_NOTIFY_N / CONNS))
	# shellcheck disable=SC2034 # read by pgb_limit
	P_RATE="$(kv "$OUT/pgb_notify_fresh.pgb" tps)" P64_RATE="$(kv "$OUT/pgb_notify_fresh_64.pgb" tps)"
	row "4. notifications, fresh" \
		"$(fmt_int "$rate")/s verified, decrypted, applied ($(kv "$f" ok) of $NOTIFY_N; $paid orders paid), p99 $(kv "$f" p99_ms) ms, $(kv "$f" failed) failed; server CPU $(cpu_us_per "$(kv "$f" ok)" "$(kv "$f" server_ticks)") us/notification" \
		">= 1,500/s" \
		"$(pgb_limit "same SQL" "$rate" /s)" \
		"$(verdict "$rate" 1500 "$paid" "$NOTIFY_N" "$(kv "$f" ok)" "$NOTIFY_N" 0 "$(kv "$f" failed)")"

	log "4. notifications: the same one again and again"
	IFS=$'\t' read -r ts nonce sig body <"$OUT/notify_dup.txt"
	code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -X POST \
		-H 'Content-Type: application/json' -H "Wechatpay-Timestamp: $ts" -H "Wechatpay-Nonce: $nonce" \
		-H "Wechatpay-Serial: 5157F09EFDC096DE15EBE81A47057A7232F4DC7C" -H "Wechatpay-Signature: $sig" \
		-H "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048" --data-binary "$body" \
		"$API/api/v1/payment/wxpay/callback")"
	[[ "$code" == 204 ]] || die "the first delivery of the duplicate answered $code"
	BENCH_NOTIFY="$OUT/notify_dup.txt" BENCH_REPEAT=1 wrk_run notify_dup notify.lua "$API"
	drate="$(calc "$(kv "$d" ok) / $(kv "$d" seconds)")"
	pgb_shape pgb_notify_dup notify_dup.sql gym -T "$DUR" \
		-D oid=BENCHD00000001 -D txid=4200BENCHD00000001
	paid="$(sql gym "SELECT count(*) FROM payment_transactions WHERE order_id = 'BENCHD00000001'")"
	row "4. notifications, duplicate" \
		"$(fmt_int "$drate")/s answered 204, p99 $(kv "$d" p99_ms) ms, $(kv "$d" failed) failed, recorded $paid time(s); server CPU $(cpu_us_per "$(kv "$d" ok)" "$(kv "$d" server_ticks)") us/notification" \
		">= 5,000/s" \
		"$(pgb_limit "same SQL" "$drate" /s)" \
		"$(verdict "$drate" 5000 0 "$(kv "$d" failed)" "$paid" 1 -"$paid" -1)"
}

# s4_alipay: Alipay's notifications beside WeChat's: NOTIFY_N fresh orders
# prepaid with an Alipay QR, each paid by one signed trade_status_sync form
# (RSA2 verified, app and seller checked, yuan read as fen, applied once).
s4_alipay() {
	local f="$OUT/alinotify_fresh.wrk" rate paid
	log "4. Alipay notifications: $NOTIFY_N fresh orders, signing them"
	psql_db gym -v tag=a -v prefix=BENCHA -v n="$NOTIFY_N" -f "$BENCH_DIR/sql/orders.sql"
	psql_db gym -c "UPDATE payment_orders SET payment_method = 'alipay', trade_type = 'QR', \
		prepay_id = NULL WHERE order_id LIKE 'BENCHA%'" \
		-c "UPDATE payment_attempts SET channel = 'alipay', trade_type = 'QR', prepay_id = NULL \
		WHERE order_id LIKE 'BENCHA%'"
	"$HBIN/mknotify" -a "$VECTORS/keys" BENCHA 1 "$NOTIFY_N" 2 "$OUT/alinotify_fresh.txt" ||
		die "mknotify -a failed"
	log "4. Alipay notifications: fresh"
	BENCH_NOTIFY="$OUT/alinotify_fresh.txt" BENCH_CHANNEL=alipay \
		wrk_run_until_done alinotify_fresh notify.lua "$API" 60
	rate="$(calc "$(kv "$f" ok) / $(kv "$f" seconds)")"
	paid="$(sql gym "SELECT count(*) FROM payment_orders WHERE order_id LIKE 'BENCHA%' AND status = 'paid'")"
	row "4. notifications, Alipay fresh" \
		"$(fmt_int "$rate")/s verified (RSA2 over the form), applied ($(kv "$f" ok) of $NOTIFY_N; $paid orders paid), p99 $(kv "$f" p99_ms) ms, $(kv "$f" failed) failed; server CPU $(cpu_us_per "$(kv "$f" ok)" "$(kv "$f" server_ticks)") us/notification" \
		">= 1,500/s" \
		"beside WeChat's row above (same orders SQL, same apply path)" \
		"$(verdict "$rate" 1500 "$paid" "$NOTIFY_N" "$(kv "$f" ok)" "$NOTIFY_N" 0 "$(kv "$f" failed)")"
}

# ---- 9. product notifications with fulfilment -------------------------------------------

# s9_products: PRODUCT_N fresh orders, odd ones for a membership plan, even
# ones for a class pack (both 300.00), each paid by one signed WeChat
# notification and fulfilled in the payment's transaction (a period, or a
# lot with its grant), the parent's message queued; beside pgbench running
# the same statements (bench/sql/product_notify.sql) on orders of its own.
s9_products() {
	local f="$OUT/product_notify.wrk" rate paid periods lots told ids plan pack
	log "9. product notifications: $PRODUCT_N fresh orders (+$PGB_NOTIFY_N x 2 for pgbench), signing them"
	ids="$(sql gym "WITH p AS (INSERT INTO products (kind, name, price_fen, days, credits, created_at,
		updated_at) VALUES ('membership', 'bench-plan', 30000, 30, NULL, now(), now()),
		('class_pack', 'bench-pack', 30000, 60, 10, now(), now()) RETURNING id, kind)
		SELECT (SELECT id FROM p WHERE kind = 'membership'), (SELECT id FROM p WHERE kind = 'class_pack')")"
	read -r plan pack <<<"$(head -n 1 <<<"$ids")"
	[[ "$plan" =~ ^[0-9]+$ && "$pack" =~ ^[0-9]+$ ]] || die "9: could not make the products ($ids)"
	psql_db gym -v tag=q -v prefix=BENCHQ -v n="$PRODUCT_N" -v plan="$plan" -v pack="$pack" \
		-f "$BENCH_DIR/sql/product_orders.sql"
	psql_db gym -v tag=r -v prefix=BENCHR -v n=$((2 * PGB_NOTIFY_N)) -v plan="$plan" -v pack="$pack" \
		-f "$BENCH_DIR/sql/product_orders.sql"
	psql_db gym -c "CREATE SEQUENCE bench_pgp_seq"
	"$HBIN/mknotify" "$VECTORS/keys" BENCHQ 1 "$PRODUCT_N" 2 "$OUT/product_notify.txt" 30000 ||
		die "mknotify failed"
	log "9. product notifications: fresh"
	BENCH_NOTIFY="$OUT/product_notify.txt" wrk_run_until_done product_notify notify.lua "$API" 90
	rate="$(calc "$(kv "$f" ok) / $(kv "$f" seconds)")"
	paid="$(sql gym "SELECT count(*) FROM payment_orders WHERE order_id LIKE 'BENCHQ%' AND status = 'paid'")"
	periods="$(sql gym "SELECT count(*) FROM membership_periods WHERE order_id LIKE 'BENCHQ%'")"
	lots="$(sql gym "SELECT count(*) FROM credit_lots WHERE order_id LIKE 'BENCHQ%'")"
	told="$(sql gym "SELECT count(*) FROM parent_notifications WHERE order_id LIKE 'BENCHQ%' AND kind = 'product_paid'")"
	pgb_run pgb_product_notify product_notify.sql gym -c "$DB_CLIENTS" -j "$(pgb_threads "$DB_CLIENTS")" \
		-t $((PGB_NOTIFY_N / DB_CLIENTS))
	pgb_run pgb_product_notify_64 product_notify.sql gym -c "$CONNS" -j "$THREADS" \
		-t $((PGB_NOTIFY_N / CONNS))
	for f2 in "$OUT/pgb_product_notify.pgb" "$OUT/pgb_product_notify_64.pgb"; do
		[[ "$(kv "$f2" failed)" == 0 ]] || die "pgbench ${f2##*/}: failed transactions"
	done
	# shellcheck disable=SC2034 # read by pgb_limit
	P_RATE="$(kv "$OUT/pgb_product_notify.pgb" tps)" P64_RATE="$(kv "$OUT/pgb_product_notify_64.pgb" tps)"
	row "9. notifications, products fulfilled" \
		"$(fmt_int "$rate")/s verified, decrypted, paid and fulfilled ($(kv "$f" ok) of $PRODUCT_N; $paid paid, $periods periods + $lots credit lots, $told messages queued), p99 $(kv "$f" p99_ms) ms, $(kv "$f" failed) failed; server CPU $(cpu_us_per "$(kv "$f" ok)" "$(kv "$f" server_ticks)") us/notification" \
		">= 1,000/s, >= 0.5 of pgbench" \
		"$(pgb_limit "same SQL" "$rate" /s)" \
		"$(verdict "$rate" 1000 "$(calc "$rate / $P_RATE")" 0.5 "$paid" "$PRODUCT_N" "$((periods + lots))" "$PRODUCT_N" "$told" "$PRODUCT_N" 0 "$(kv "$f" failed)")"
}

# ---- 10. member bookings -------------------------------------------------------------------

# members_once NAME TOKENS LO HI UBASE: holds.lua (BENCH_PAIR=member) through nginx, then
# pgbench with the same statements (pgb_shape); sets M_RATE M_P50 M_P99
# M_ERR M_CPU M_WRK, P_RATE P_P99, P64_RATE P64_P99.
members_once() {
	local name="$1" tokens="$2" lo="$3" hi="$4" ubase="$5" f="$OUT/$1.wrk" secs
	BENCH_TOKENS="$tokens" BENCH_SCHED_LO="$lo" BENCH_SCHED_HI="$hi" \
		BENCH_PAIR=member wrk_run "$name" holds.lua "$API"
	secs="$(kv "$f" seconds)"
	M_RATE="$(calc "$(kv "$f" books) / $secs")"
	M_P50="$(kv "$f" p50_ms)" M_P99="$(kv "$f" p99_ms)"
	M_ERR=$(($(kv "$f" book_fail) + $(kv "$f" cancel_fail) + $(kv "$f" s5xx) + $(kv "$f" sock_errors)))
	M_CPU="$(cpu_us_per "$(kv "$f" books)" "$(kv "$f" server_ticks)")"
	M_WRK="$(wrk_us_per "$f" books)"
	pgb_shape "pgb_$name" member_book_cancel.sql gym -T "$DUR" \
		-D slo="$lo" -D shi="$hi" -D ubase="$ubase"
}

# s10_members: members book a regular class with a credit and cancel it
# before the cutoff (the credit comes back), as scenario 1 pairs a hold and
# its release: on 1,000 classes of 100 seats, then on one class of 1,000.
s10_members() {
	local ranges lo hi hot spread ratio
	log "10. member bookings: 1,001 regular classes, a lot of credits for each parent"
	# the trial holds scenario 1 left (15 minutes each) would refuse these
	# parents a member booking (one seat claim at a time): end them first,
	# as their lapse would (bench setup, so no audit rows)
	psql_db gym -c "WITH e AS (UPDATE seat_reservations SET status = 'expired', \
		updated_at = now() WHERE status = 'temporary' RETURNING id) UPDATE seats \
		SET state = 'free', reservation_id = NULL, held_until = NULL \
		WHERE reservation_id IN (SELECT id FROM e)" >/dev/null
	ranges="$(psql_db gym -tA -F ' ' -v spread=1000 -v spread_cap=100 -v hot_cap=1000 \
		-v ulo="$U_LO" -v uhi="$U_HI" -f "$BENCH_DIR/sql/member_setup.sql" | tail -n 1)"
	read -r lo hi hot <<<"$ranges"
	[[ "$hot" =~ ^[0-9]+$ ]] || die "member_setup.sql: unexpected ranges '$ranges'"
	log "10. member bookings: 3 s to warm up (not counted)"
	BENCH_TOKENS="$OUT/tokens_warm" BENCH_SCHED_LO="$lo" BENCH_SCHED_HI="$hi" \
		BENCH_PAIR=member wrk_run members_warm holds.lua "$API" 3
	psql_db gym -c ANALYZE >/dev/null
	log "10. member bookings, $CONNS connections, ${DUR}s each: 1,000 classes"
	members_once members_spread "$OUT/tokens_spread" "$lo" "$hi" "$PGB_U1"
	spread="$M_RATE" ratio="$(calc "$M_RATE / $P_RATE")"
	row "10. member book+cancel, 1,000 classes" \
		"$(fmt_int "$M_RATE") bookings/s, p50 $M_P50 ms, p99 $M_P99 ms, $M_ERR errors; server CPU $M_CPU us/booking, wrk $M_WRK us/booking" \
		">= 1,000/s, >= 0.5 of pgbench" \
		"$(pgb_limit "same SQL" "$M_RATE" /s), p99 ${P_P99:-?} / ${P64_P99:-?} ms per pair" \
		"$(verdict "$M_RATE" 1000 "$ratio" 0.5 0 "$M_ERR")"
	log "10. member bookings: one hot class"
	members_once members_hot "$OUT/tokens_hot" "$hot" "$hot" "$PGB_U2"
	row "10. member book+cancel, one hot class" \
		"$(fmt_int "$M_RATE") bookings/s ($(calc "$M_RATE / $spread" | xargs printf '%.2f') of 1,000 classes), p50 $M_P50 ms, p99 $M_P99 ms, $M_ERR errors; server CPU $M_CPU us/booking, wrk $M_WRK us/booking" \
		">= 0.7 of 1,000 classes" \
		"$(pgb_limit "same SQL" "$M_RATE" /s), p99 ${P_P99:-?} / ${P64_P99:-?} ms per pair" \
		"$(verdict "$(calc "$M_RATE / $spread")" 0.7 0 "$M_ERR")"
}

# ---- 5. expiry sweep -------------------------------------------------------------------

# sweepers at once in scenario 5, as job_processes = 2 would run them
SWEEP_PROCS="${SWEEP_PROCS:-2}"

s5_sweep() {
	local conf="$OUT/sweep.conf" n=$((SWEEP_N + SWEEP_PGB_N)) t0 f="$OUT/sweep.txt" rate prate left
	log "5. expiry sweep: loading $(fmt_int "$n") lapsed holds into database gym_sweep"
	bash "$ROOT/test/env/pg.sh" recreatedb bench gym_sweep >/dev/null 2>&1
	sed -e "s/dbname=gym /dbname=gym_sweep /" -e 's/^jobs = .*/jobs = no/' "$VAR/gymd.conf" >"$conf"
	"$GYM_BIN_DIR/gymctl" -c "$conf" migrate >/dev/null || die "gymctl migrate (gym_sweep) failed"
	t0=$SECONDS
	psql_db gym_sweep -v n="$n" -v per=1000 -f "$BENCH_DIR/sql/sweep_load.sql"
	log "5. expiry sweep: loaded in $((SECONDS - t0)) s; pgbench sweeps $(fmt_int "$SWEEP_PGB_N"), gymd's sweep the rest"
	# the job process may still be sending scenario 4's 20,000 parents' messages:
	# the sweep is timed on a machine without them (at most 120 s more)
	t0=$SECONDS
	while ((SECONDS - t0 < 120)); do
		left="$(sql gym "SELECT count(*) FROM parent_notifications WHERE status = 'pending'")"
		if ! [[ "$left" =~ ^[0-9]+$ ]] || ((left == 0)); then break; fi
		sleep 1
	done
	log "5. expiry sweep: waited $((SECONDS - t0)) s for the job process to send its messages"
	# the load's WAL checkpointed now rather than in the timed runs (the holds
	# of a real backlog were written long before their sweep)
	psql_db gym_sweep -c CHECKPOINT >/dev/null
	# the limit: the same statement from SWEEP_PROCS clients at once, committed
	# as gymd commits the hold sweep, with synchronous_commit off (lib/sweep.c)
	PGOPTIONS="-c synchronous_commit=off" pgb_run pgb_sweep sweep.sql gym_sweep \
		-c "$SWEEP_PROCS" -j "$SWEEP_PROCS" \
		-t $((SWEEP_PGB_N / SWEEP_BATCH / SWEEP_PROCS)) -D batch="$SWEEP_BATCH"
	prate="$(calc "$(kv "$OUT/pgb_sweep.pgb" tps) * $SWEEP_BATCH")"
	# gymd's part starts from a checkpoint too, as pgbench's did
	psql_db gym_sweep -c CHECKPOINT >/dev/null
	"$HBIN/sweep" "$(db_conninfo gym_sweep)" "$SWEEP_BATCH" "$SWEEP_PROCS" >"$f" || die "sweep failed"
	sed -i 's/^/BENCH /' "$f"
	rate="$(calc "$(kv "$f" rows) / $(kv "$f" seconds)")"
	left="$(sql gym_sweep "SELECT count(*) FROM seat_reservations WHERE status = 'temporary'")"
	row "5. expiry sweep, $(fmt_int "$SWEEP_N") lapsed holds, $SWEEP_PROCS sweeper$([[ $SWEEP_PROCS == 1 ]] || echo s) (as job_processes = $SWEEP_PROCS)" \
		"$(fmt_int "$rate") rows/s ($(fmt_int "$(kv "$f" rows)") rows in $(kv "$f" seconds) s, batches of $SWEEP_BATCH, $left left)" \
		">= 200,000 rows/s" \
		"pgbench same statement, $SWEEP_PROCS client$([[ $SWEEP_PROCS == 1 ]] || echo s), $(fmt_int "$prate") rows/s ($(calc "$rate / $prate" | xargs printf '%.2f'))" \
		"$(verdict "$rate" 200000 "$(kv "$f" rows)" "$SWEEP_N" 0 "$left")"
	psql_db postgres -c "DROP DATABASE gym_sweep WITH (FORCE)" >/dev/null
}

# ---- 8. bill reconciliation ---------------------------------------------------------------

# s8_recon_channel CHANNEL NAME: CHANNEL's trade bill (WeChat's CSV or Alipay's
# 业务明细) of RECON_N rows reconciled (parse, lines with fees, matching in SQL,
# summary; lib/billrecon.c) against RECON_N paid payments of the day, beside a
# plain COPY of the same rows into a table of text columns.
s8_recon_channel() {
	local channel="$1" name="$2" conf="$OUT/recon.conf" f="$OUT/recon-$1.txt" day=2026-01-15
	local t0 rate crate
	log "8. bill reconciliation ($channel): loading $(fmt_int "$RECON_N") paid payments into database gym_recon"
	bash "$ROOT/test/env/pg.sh" recreatedb bench gym_recon >/dev/null 2>&1
	sed -e "s/dbname=gym /dbname=gym_recon /" -e 's/^jobs = .*/jobs = no/' "$VAR/gymd.conf" >"$conf"
	"$GYM_BIN_DIR/gymctl" -c "$conf" migrate >/dev/null || die "gymctl migrate (gym_recon) failed"
	t0=$SECONDS
	psql_db gym_recon -v n="$RECON_N" -v day="$day" -v channel="$channel" \
		-f "$BENCH_DIR/sql/recon_load.sql"
	psql_db gym_recon -c CHECKPOINT >/dev/null
	log "8. bill reconciliation ($channel): loaded in $((SECONDS - t0)) s"
	"$HBIN/billrecon" "$(db_conninfo gym_recon)" "$RECON_N" "$day" "$channel" >"$f" ||
		die "billrecon $channel failed"
	sed -i 's/^/BENCH /' "$f"
	rate="$(calc "$(kv "$f" rows) / $(kv "$f" seconds)")"
	crate="$(calc "$(kv "$f" rows) / $(kv "$f" copy_seconds)")"
	row "8. bill reconciliation, $name of $(fmt_int "$RECON_N") rows" \
		"$(fmt_int "$rate") rows/s ($(kv "$f" rows) rows in $(kv "$f" seconds) s, $(kv "$f" discrepancies) discrepancies)" \
		">= 20,000 rows/s" \
		"COPY of the same rows, $(fmt_int "$crate") rows/s ($(calc "$rate / $crate" | xargs printf '%.2f'))" \
		"$(verdict "$rate" 20000 "$(kv "$f" rows)" "$RECON_N" 0 "$(kv "$f" discrepancies)")"
	psql_db postgres -c "DROP DATABASE gym_recon WITH (FORCE)" >/dev/null
}

# s8_recon: WeChat's trade bill, then Alipay's.
s8_recon() {
	s8_recon_channel wechat "a WeChat trade bill"
	s8_recon_channel alipay "an Alipay 业务明细"
}

# ---- 6. memory -------------------------------------------------------------------------

# requests_total: requests gymd has answered (all workers, from /metrics).
requests_total() {
	curl -s --cacert "$CACERT" "$API/metrics" |
		awk '/^gymd_requests_total\{/ { s += $NF } END { printf "%d", s }'
}

# worker_pids: gymd's workers (children of the master with an epoll set;
# the job process has none).
worker_pids() {
	local master p fd
	master="$(read_pidfile "$VAR/run/gymd.pid")"
	for p in $(pgrep -P "$master"); do
		for fd in "/proc/$p/fd/"*; do
			if [[ "$(readlink "$fd" 2>/dev/null)" == *eventpoll* ]]; then
				printf '%s\n' "$p"
				break
			fi
		done
	done
	return 0
}

# rss_snapshot FILE: "PID VMRSS_KB RSSANON_KB" of every worker.
rss_snapshot() {
	local p
	for p in $(worker_pids); do
		printf '%s %s\n' "$p" "$(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r, a }' \
			"/proc/$p/status")"
	done >"$1"
}

# s6_start: every route the scenarios use, until each worker has answered
# about 1,000 requests; then each worker's resident size.
s6_start() {
	local n
	log "6. memory: warming up every route, then each worker's resident size"
	psql_db gym -v tag=w -v prefix=BENCHW -v n=400 -f "$BENCH_DIR/sql/orders.sql"
	"$HBIN/mknotify" "$VECTORS/keys" BENCHW 1 400 1 "$OUT/notify_warm.txt" || die "mknotify failed"
	BENCH_NOTIFY="$OUT/notify_warm.txt" wrk_run_until_done warm_notify notify.lua "$API" 10 8
	BENCH_NOTIFY="$OUT/notify_warm.txt" BENCH_REPEAT=1 wrk_run warm_notify_dup notify.lua "$API" 1 8
	BENCH_PATH="/api/v1/course-schedules/%d" BENCH_LO="$SPREAD_LO" BENCH_HI="$SPREAD_HI" \
		wrk_run warm_reads paths.lua "$API" 1 8
	BENCH_TOKENS="$OUT/tokens_warm" BENCH_SCHED_LO="$SPREAD_LO" BENCH_SCHED_HI="$SPREAD_HI" \
		wrk_run warm_holds holds.lua "$API" 1 8
	n="$(requests_total)"
	MEM_START_REQ="$n"
	rss_snapshot "$OUT/rss_start"
	log "6. memory: after $n requests (pid rss anon): $(tr '\n' ' ' <"$OUT/rss_start")"
}

# mb KB: KB in MB with one decimal.
mb() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

s6_finish() {
	local n want=$((MEM_START_REQ + MEM_REQUESTS)) secs deadline=$((SECONDS + 300))
	local worst=0 worst_anon=0 line pid a b aa ab g detail="" same=1
	n="$(requests_total)"
	while ((n < want && SECONDS < deadline)); do
		secs="$(awk -v left=$((want - n)) -v r="${READ_RATE:-5000}" \
			'BEGIN { s = int(left / (r * 0.9)) + 1; if (s > 120) s = 120; print s }')"
		log "6. memory: $n requests so far; $((want - n)) more (reads, ${secs}s)"
		BENCH_PATH="/api/v1/course-schedules/%d" BENCH_LO="$SPREAD_LO" BENCH_HI="$SPREAD_HI" \
			wrk_run mem_reads paths.lua "$API" "$secs"
		n="$(requests_total)"
		READ_RATE="$(calc "$(kv "$OUT/mem_reads.wrk" requests) / $(kv "$OUT/mem_reads.wrk" seconds)")"
	done
	rss_snapshot "$OUT/rss_end"
	while read -r pid a aa; do
		line="$(grep "^$pid " "$OUT/rss_end" || true)"
		[[ -n "$line" ]] || { same=0; continue; }
		read -r _ b ab <<<"$line"
		g="$(calc "($b - $a) * 100 / $a")"
		ge "$g" "$worst" && worst="$g"
		g="$(calc "($ab - $aa) * 100 / $aa")"
		ge "$g" "$worst_anon" && worst_anon="$g"
		detail+="${detail:+, }$(mb "$a")->$(mb "$b")"
	done <"$OUT/rss_start"
	row "6. worker memory, $(wc -l <"$OUT/rss_start") workers" \
		"VmRSS MB after $(fmt_int "$MEM_START_REQ") / $(fmt_int "$n") requests: $detail; worst $(printf '%+.1f' "$worst")% (heap $(printf '%+.1f' "$worst_anon")%)" \
		"flat within 10% after 1,000,000 more" "-" \
		"$(verdict "$n" "$want" 10 "$worst" "$same" 1)"
}

# ---- 7. live push ----------------------------------------------------------------------

PUSH_ORDERS=5000 PUSH_WATCHERS=2000 PUSH_HOLDS=100 PUSH_TIMEOUT=180

# s7_push: 5,000 WebSocket subscribers, one on each of 5,000 pending orders,
# each order then paid by a notification (as scenario 4 sends them); then
# 2,000 subscribers on one class while 100 of its seats are taken
# (bench/pushsub.c says what each sample is).
s7_push() {
	local f="$OUT/push_orders.txt" c="$OUT/push_class.txt" lo hi sid port="${API#*//127.0.0.1:}" pid
	log "7. live push: $PUSH_ORDERS pending orders, signing their notifications"
	psql_db gym -v tag=s -v prefix=BENCHS -v n="$PUSH_ORDERS" -f "$BENCH_DIR/sql/orders.sql"
	read -r lo hi <<<"$(sql gym "SELECT min(id), max(id) FROM users WHERE openid LIKE 'bench-s-%'")"
	"$HBIN/mktokens" "$VAR/gymd.conf" "$lo" "$hi" | sort -k1,1 >"$OUT/push_tokens"
	sql gym "SELECT user_id, order_id FROM payment_orders WHERE order_id LIKE 'BENCHS%'" |
		sort -k1,1 | join -o 1.2,2.2 - "$OUT/push_tokens" >"$OUT/push_pairs"
	[[ "$(wc -l <"$OUT/push_pairs")" == "$PUSH_ORDERS" ]] || die "push: no token for some orders"
	"$HBIN/mknotify" "$VECTORS/keys" BENCHS 1 "$PUSH_ORDERS" 2 "$OUT/notify_push.txt" ||
		die "mknotify failed"
	log "7. live push: $PUSH_ORDERS WebSocket subscribers connecting"
	rm -f "$OUT/push_ready"
	"$HBIN/pushsub" orders 127.0.0.1 "$port" "$CACERT" "$OUT/push_pairs" "$OUT/push_ready" \
		"$PUSH_TIMEOUT" >"$f" &
	pid=$!
	while [[ ! -e "$OUT/push_ready" ]] && kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
	log "7. live push: subscribers in; paying the orders"
	BENCH_NOTIFY="$OUT/notify_push.txt" wrk_run_until_done notify_push notify.lua "$API" 60
	wait "$pid" || die "pushsub orders failed"
	sed -i 's/^/BENCH /' "$f"
	row "7. live push, $(fmt_int "$PUSH_ORDERS") WebSocket subscribers, each order paid" \
		"$(kv "$f" connected) connected in $(kv "$f" connect_s) s, $(kv "$f" received) told paid, $(kv "$f" missing) not; commit to receipt p50 $(kv "$f" p50_ms) ms, p99 $(kv "$f" p99_ms) ms, max $(kv "$f" max_ms) ms ($(kv "$OUT/notify_push.wrk" ok) notifications)" \
		"every subscriber told, p99 < 1 s" "-" \
		"$(verdict "$(kv "$f" received)" "$PUSH_ORDERS" "-$(kv "$f" p99_ms)" -1000 0 "$(kv "$f" missing)")"

	log "7. live push: one class, $PUSH_WATCHERS subscribers, $PUSH_HOLDS seats taken"
	sid="$(sql gym "INSERT INTO course_schedules (course_name, starts_at, ends_at, capacity, created_at)
		VALUES ('bench-watch', now() + interval '2 days', now() + interval '2 days 1 hour', 1000, now())
		RETURNING id")"
	sid="$(head -n 1 <<<"$sid")"
	psql_db gym -c "INSERT INTO seats (course_schedule_id, seat_no) SELECT $sid, g FROM generate_series(1, 1000) g" \
		-c "INSERT INTO users (openid, created_at, last_login_at)
			SELECT 'bench-cw-' || g, now(), now() FROM generate_series(1, $PUSH_HOLDS) g ORDER BY g" >/dev/null
	read -r lo hi <<<"$(sql gym "SELECT min(id), max(id) FROM users WHERE openid LIKE 'bench-cw-%'")"
	"$HBIN/mktokens" "$VAR/gymd.conf" "$lo" "$hi" >"$OUT/push_watch_tokens"
	# the job's class pass publishes the class's first count before anyone watches
	sleep 3
	rm -f "$OUT/push_ready"
	"$HBIN/pushsub" class 127.0.0.1 "$port" "$CACERT" "$sid" "$PUSH_WATCHERS" 1000 \
		"$OUT/push_watch_tokens" "$PUSH_HOLDS" "$OUT/push_ready" "$PUSH_TIMEOUT" >"$c" ||
		die "pushsub class failed"
	sed -i 's/^/BENCH /' "$c"
	row "7. live push, one class watched by $(fmt_int "$PUSH_WATCHERS") subscribers" \
		"$(kv "$c" connected) connected in $(kv "$c" connect_s) s; $(kv "$c" holds) seats taken at 20/s ($(kv "$c" hold_failed) refused), $(kv "$c" received) hold-subscriber receipts, $(kv "$c" missing) missing; seat taken to count received p50 $(kv "$c" p50_ms) ms, p99 $(kv "$c" p99_ms) ms, max $(kv "$c" max_ms) ms" \
		"every count received, p99 < 1 s" "-" \
		"$(verdict "$(kv "$c" holds)" "$PUSH_HOLDS" "$(kv "$c" received)" $((PUSH_HOLDS * PUSH_WATCHERS)) "-$(kv "$c" p99_ms)" -1000 0 "$(kv "$c" missing)")"
}
