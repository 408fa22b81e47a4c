/*
 * holds_sql.h: the SQL text of lib/holds.c's statements, apart so that
 * bench/holdsql.c can write the hold and release gymd sends (for pgbench)
 * without compiling holds.c into itself.  Only holds.c and the bench
 * include it.
 */
#ifndef GYM_HOLDS_SQL_H
#define GYM_HOLDS_SQL_H

#define HOLD_COLS "r.id, r.course_schedule_id, r.user_id, r.status, " \
	"(extract(epoch FROM r.expires_at) * 1000000)::bigint AS expires_us "

/* The statements below write their audit row themselves (one round trip
 * instead of two), through audit_sql.h. */
#include "audit_sql.h"
#include "trial_sql.h"

/* The claim of one seat with its hold and audit row, as CTEs; gate is an
 * extra condition on the seat.  $1 schedule, $2 user, $3 now, $4 until,
 * $5-$10 the actor (type, id, ip, user agent, request id, request snapshot) */
#define CLAIM_CTES(gate, lockmode) \
	"seat AS (SELECT id FROM seats WHERE course_schedule_id = $1::bigint AND " \
	" (state = 'free' OR (state = 'held' AND held_until <= $3::timestamptz)) " gate \
	" ORDER BY seat_no LIMIT 1 FOR UPDATE " lockmode "), " \
	"res AS (INSERT INTO seat_reservations (user_id, course_schedule_id, seat_id, status, " \
	" expires_at, created_at, updated_at) SELECT $2::bigint, $1::bigint, seat.id, 'temporary', " \
	" $4::timestamptz, $3::timestamptz, $3::timestamptz FROM seat RETURNING *), " \
	"upd AS (UPDATE seats s SET state = 'held', reservation_id = res.id, " \
	" held_until = res.expires_at FROM res WHERE s.id = res.seat_id RETURNING s.id), " \
	"aud AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'hold'", "'hold_created'", "NULL", \
	"res.id", "NULL", "$5", "$6", "$7", "$8", "$9", "NULL", "'temporary'", "$10::jsonb", \
	"jsonb_build_object('reservation_id', res.id, 'course_schedule_id', " \
	"res.course_schedule_id, 'status', 'temporary')", "$3::timestamptz") "FROM res) "
#define CLAIM_SQL(lockmode) "WITH " CLAIM_CTES("", lockmode) "SELECT " HOLD_COLS "FROM res r"

/* The common hold as one autocommitted statement (one round trip): the
 * class is an open trial class, nobody is on its waitlist (lib/waitlist.h: a freed seat
 * goes to the queue), and the user has no paid or pending order, no
 * confirmed booking and no hold, so there is nothing to expire or answer
 * with first.
 * Otherwise, or with no seat free of locks, it claims nothing and
 * gym_hold_create takes the transaction.  set_config(..., true) lasts
 * until this statement's own commit: holds commit without waiting for the
 * disk, as gym_db_tx_nowait (docs/reliability.md).  Parameters as CLAIM. */
#define GYM_HOLD_FAST_SQL \
	"WITH chk AS (SELECT set_config('synchronous_commit', 'off', true) AS cfg, " \
	" (SELECT starts_at > $3::timestamptz AND cancelled_at IS NULL AND kind = 'trial' " \
	"  FROM course_schedules WHERE id = $1::bigint) AS open, " \
	GYM_TRIAL_CLAIMED_SQL("$2::bigint", "") \
	" OR EXISTS (SELECT 1 FROM seat_reservations WHERE user_id = $2::bigint " \
	"  AND status = 'temporary') " \
	" OR EXISTS (SELECT 1 FROM waitlist_entries WHERE course_schedule_id = $1::bigint " \
	"  AND state = 'waiting') AS busy), " \
	CLAIM_CTES("AND (SELECT open AND NOT busy FROM chk) ", "SKIP LOCKED") \
	"SELECT " HOLD_COLS "FROM res r"

/* The common release as one autocommitted statement: the user's temporary
 * hold ends (cancelled while live, else expired), its seat is freed when
 * still its own, and the audit row is written.  Anything else (no such
 * hold, not the user's, already ended) ends nothing and gym_hold_release
 * takes the transaction.  $1 hold, $2 user (0: any), $3 now, $4-$9 the
 * actor. */
#define GYM_HOLD_RELEASE_FAST_SQL \
	"WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true)), " \
	"e AS (UPDATE seat_reservations r SET status = CASE WHEN r.expires_at > $3::timestamptz " \
	"  AND EXISTS (SELECT 1 FROM seats s WHERE s.id = r.seat_id AND s.reservation_id = r.id) " \
	"  THEN 'cancelled' ELSE 'expired' END, updated_at = $3::timestamptz " \
	" WHERE r.id = $1::bigint AND ($2::bigint = 0 OR r.user_id = $2::bigint) " \
	" AND r.status = 'temporary' AND EXISTS (SELECT 1 FROM cfg) RETURNING r.*), " \
	"f AS (UPDATE seats SET state = 'free', reservation_id = NULL, held_until = NULL " \
	" WHERE id = (SELECT seat_id FROM e) AND reservation_id = $1::bigint), " \
	"a AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'hold'", \
	"CASE WHEN e.status = 'cancelled' THEN 'hold_released' ELSE 'hold_expired' END", "NULL", \
	"e.id", "NULL", "$4", "$5", "$6", "$7", "$8", "'temporary'", "e.status", "$9::jsonb", \
	"jsonb_build_object('reservation_id', e.id, 'course_schedule_id', e.course_schedule_id, " \
	"'status', e.status)", "$3::timestamptz") "FROM e) " \
	"SELECT " HOLD_COLS "FROM e r"

#endif
