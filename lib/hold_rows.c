/*
 * hold_rows.c: a hold's rows: claim a seat, lock, read, find and end a
 * hold, expire a user's lapsed holds, and the two reads a booking makes
 * before it acts (is the class open, has the user had a trial).  It calls
 * no other module of the booking; orders.c and holds.c call down to it,
 * and holds.c to orders.c (a user's lapsed orders), never the other way:
 * holds.c -> orders.c -> hold_rows.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "extern.h"
#include "log.h"
#include "holds_sql.h"
#include "trial_sql.h"

static struct gym_stmt st_claim = { "hold_claim", CLAIM_SQL("SKIP LOCKED"), 0 };
/* Is any seat of the class free (or held past its time) by the last
 * commit?  One locked by a claim still in flight still looks free. */
static struct gym_stmt st_candidates = { "hold_candidates",
	"SELECT EXISTS (SELECT 1 FROM seats WHERE course_schedule_id = $1::bigint AND "
	"(state = 'free' OR (state = 'held' AND held_until <= $2::timestamptz))) AS any", 0 };
/* End a temporary hold, set its seat free (or confirmed) when the seat is
 * still its own, and write the audit row: $1 hold, $2 new status, $3 now,
 * $4 audit action, $5 order id, $6-$11 the actor. */
static struct gym_stmt st_end_all = { "hold_end_all",
	"WITH e AS (UPDATE seat_reservations SET status = $2::text, updated_at = $3::timestamptz "
	" WHERE id = $1::bigint AND status = 'temporary' RETURNING id, seat_id, course_schedule_id), "
	"s AS (UPDATE seats SET state = CASE WHEN $2::text = 'confirmed' THEN 'confirmed' ELSE 'free' END, "
	" reservation_id = CASE WHEN $2::text = 'confirmed' THEN reservation_id END, held_until = NULL "
	" WHERE id = (SELECT seat_id FROM e) AND reservation_id = $1::bigint RETURNING id), "
	"a AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'hold'", "$4", "$5", "e.id", "NULL",
	"$6", "$7", "$8", "$9", "$10", "'temporary'", "$2::text", "$11::jsonb",
	"jsonb_build_object('reservation_id', e.id, 'course_schedule_id', e.course_schedule_id, "
	"'status', $2::text)", "$3::timestamptz") "FROM e RETURNING 1) "
	"SELECT (SELECT count(*) FROM e) AS n", 0 };
static struct gym_stmt st_schedule = { "hold_schedule",
	"SELECT " GYM_TRIAL_CLASS_STATE_SQL("$1::bigint", "$2::timestamptz") " AS state", 0 };
static struct gym_stmt st_user_live = { "hold_user_live",
	"SELECT " HOLD_COLS "FROM seat_reservations r WHERE r.user_id = $1::bigint "
	"AND r.status = 'temporary'", 0 };
static struct gym_stmt st_lock = { "hold_lock",
	"SELECT " HOLD_COLS ", r.seat_id, "
	"(r.status = 'temporary' AND r.expires_at > $3::timestamptz AND EXISTS (SELECT 1 FROM seats s "
	" WHERE s.id = r.seat_id AND s.reservation_id = r.id)) AS live "
	"FROM seat_reservations r WHERE r.id = $1::bigint AND ($2::bigint = 0 OR r.user_id = $2::bigint) "
	"FOR UPDATE OF r", 0 };
static struct gym_stmt st_user_lapsed = { "hold_user_lapsed",
	"SELECT id FROM seat_reservations WHERE user_id = $1::bigint AND status = 'temporary' "
	"AND expires_at <= $2::timestamptz FOR UPDATE", 0 };
static struct gym_stmt st_has_trial = { "user_has_trial",
	"SELECT " GYM_HAS_TRIAL_SQL("$1::bigint") " AS has", 0 };


enum gym_err
gym__read_hold(PGresult *r, int i, struct gym_reservation *h)
{
	const char *st = gym_db_get(r, i, "status");

	h->id = gym_db_get_ll(r, i, "id");
	h->schedule_id = gym_db_get_ll(r, i, "course_schedule_id");
	h->user_id = gym_db_get_ll(r, i, "user_id");
	h->expires_at = gym_db_get_ll(r, i, "expires_us");
	if (!gym_hold_status_parse(st, &h->status)) {
		gym_log_errx("hold %lld: unknown status %s", h->id, st != NULL ? st : "NULL");
		return GYM_EINTERNAL;
	}
	return GYM_OK;
}

/* The actor's id as a statement parameter (NULL for none). */
const char *
gym__actor_id(const struct gym_actor *a, char *buf, size_t len)
{
	if (a->id == 0)
		return NULL;
	gym__ll(buf, len, a->id);
	return buf;
}

/* 1 when a seat of the class may still come free: one is free or lapsed
 * by the last commit (so, if none is unlocked, a claim in flight holds
 * it), 0 when none, -1 on an error (in *e). */
static int
seats_in_flight(struct gym_db *db, const char *sid, const char *now, enum gym_err *e)
{
	const char *p[2] = { sid, now };
	PGresult *r;
	int any;

	if ((*e = gym_db_exec(db, &st_candidates, 2, p, &r)) != GYM_OK)
		return -1;
	any = strcmp(gym_db_get(r, 0, "any"), "t") == 0;
	PQclear(r);
	return any;
}

/*
 * Claim a seat with SKIP LOCKED.  None unlocked but some locked by claims
 * in flight (which commit, or roll back and free the seat, within
 * milliseconds): look again after a short, growing pause until the claims
 * settle, for at most the connection's lock timeout.  Waiting in a lock
 * queue instead (FOR UPDATE without SKIP LOCKED) made 190 waiters on 10
 * rows convoy and deadlock under load (CI, 2026-12-04); polling takes no
 * lock while it waits.
 */
enum gym_err
gym__hold_claim(struct gym_db *db, const struct gym_actor *a, long long user_id,
    long long schedule_id, int64_t until, struct gym_reservation *h)
{
	char sid[24], uid[24], now[40], exp[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *p[10] = { sid, uid, now, exp, a->type, gym__actor_id(a, aid, sizeof(aid)),
	    a->client_ip, gym__audit_user_agent(a->user_agent, ua), a->request_id,
	    a->request_snapshot };
	int64_t deadline = gym_now_us() + (int64_t)gym_db_lock_timeout_ms(db) * 1000;
	long pause_us = 1000;
	PGresult *r;
	enum gym_err e;
	int n, more;

	gym__ll(sid, sizeof(sid), schedule_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_time_format(until, exp, sizeof(exp));
	for (;;) {
		gym_db_now_param(now, sizeof(now));
		if ((e = gym_db_exec(db, &st_claim, 10, p, &r)) != GYM_OK)
			return e;
		if ((n = PQntuples(r)) > 0) {
			e = gym__read_hold(r, 0, h);
			PQclear(r);
			return e;
		}
		PQclear(r);
		if ((more = seats_in_flight(db, sid, now, &e)) <= 0)
			return more == 0 ? GYM_E_SOLD_OUT : e;
		if (gym_now_us() >= deadline)
			return GYM_ERETRY;
		{
			struct timespec ts = { 0, (pause_us + (long)(gym_now_us() % 1000)) * 1000 };

			nanosleep(&ts, NULL);
		}
		if (pause_us < 32000)
			pause_us *= 2;
	}
}

enum gym_err
gym__hold_lock(struct gym_db *db, long long user_id, long long reservation_id,
    struct gym_reservation *h, int *live)
{
	char rid[24], uid[24], now[40];
	const char *p[3] = { rid, uid, now };
	PGresult *r;
	enum gym_err e;

	gym__ll(rid, sizeof(rid), reservation_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock, 3, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	e = gym__read_hold(r, 0, h);
	*live = strcmp(gym_db_get(r, 0, "live"), "t") == 0;
	PQclear(r);
	return e;
}

enum gym_err
gym__hold_end(struct gym_db *db, const struct gym_actor *a, long long reservation_id,
    enum gym_hold_status new_status, const char *order_id)
{
	char rid[24], now[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *action = new_status == GYM_HOLD_CANCELLED ? "hold_released" :
	    new_status == GYM_HOLD_EXPIRED ? "hold_expired" : "hold_confirmed";
	const char *p[11] = { rid, gym_hold_status_name(new_status), now, action, order_id, a->type,
	    gym__actor_id(a, aid, sizeof(aid)), a->client_ip, gym__audit_user_agent(a->user_agent, ua),
	    a->request_id, a->request_snapshot };
	struct gym_reservation h;
	PGresult *r;
	enum gym_err e;
	int n, live;

	gym__ll(rid, sizeof(rid), reservation_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_end_all, 11, p, &r)) != GYM_OK)
		return e;
	n = (int)gym_db_get_ll(r, 0, "n");
	PQclear(r);
	/* nothing ended: not temporary (GYM_OK), or no such hold */
	return n > 0 ? GYM_OK : gym__hold_lock(db, 0, reservation_id, &h, &live);
}

enum gym_err
gym__expire_user_holds(struct gym_db *db, const struct gym_actor *a, long long user_id)
{
	char uid[24], now[40];
	const char *p[2] = { uid, now };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_user_lapsed, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++)
		e = gym__hold_end(db, a, gym_db_get_ll(r, i, "id"), GYM_HOLD_EXPIRED, NULL);
	PQclear(r);
	return e;
}

enum gym_err
gym__user_has_trial(struct gym_db *db, long long user_id, int *has)
{
	char uid[24];
	const char *p[1] = { uid };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), user_id);
	if ((e = gym_db_exec(db, &st_has_trial, 1, p, &r)) != GYM_OK)
		return e;
	*has = strcmp(gym_db_get(r, 0, "has"), "t") == 0;
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym__schedule_open(struct gym_db *db, long long schedule_id)
{
	char sid[24], now[40];
	const char *p[2] = { sid, now };
	const char *state;
	PGresult *r;
	enum gym_err e;

	gym__ll(sid, sizeof(sid), schedule_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_schedule, 2, p, &r)) != GYM_OK)
		return e;
	if ((state = gym_db_get(r, 0, "state")) == NULL)
		e = GYM_E_SCHEDULE_NOT_FOUND;
	else if (strcmp(state, "regular") == 0)
		e = GYM_E_WRONG_CLASS_KIND;	/* members book it (member_bookings.c) */
	else if (strcmp(state, "open") != 0)
		e = GYM_E_SOLD_OUT;	/* the class has started */
	PQclear(r);
	return e;
}

enum gym_err
gym_hold_find_live(struct gym_db *db, long long user_id, struct gym_reservation *h, int *found)
{
	char uid[24];
	const char *p[1] = { uid };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), user_id);
	if ((e = gym_db_exec(db, &st_user_live, 1, p, &r)) != GYM_OK)
		return e;
	if ((*found = PQntuples(r) > 0)) {
		e = gym__read_hold(r, 0, h);
		*found = e == GYM_OK && h->expires_at > gym_now_us();
	}
	PQclear(r);
	return e;
}



enum gym_err
gym_hold_get(struct gym_db *db, long long user_id, long long reservation_id,
    struct gym_reservation *res)
{
	char rid[24], uid[24], now[40];
	const char *p[3] = { rid, uid, now };
	PGresult *r;
	enum gym_err e;

	gym__ll(rid, sizeof(rid), reservation_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	/* hold_lock without a transaction: FOR UPDATE ends with the statement */
	if ((e = gym_db_exec(db, &st_lock, 3, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_ENOTFOUND;
	else
		e = gym__read_hold(r, 0, res);
	PQclear(r);
	return e;
}
