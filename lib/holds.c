/*
 * holds.c: seat holds.  A hold claims one seat row with FOR UPDATE SKIP
 * LOCKED, so concurrent holders take different rows and never queue on one
 * lock.  A hold lapses at expires_at: the claim and the availability count
 * treat a lapsed seat as free at once; the sweep only tidies statuses.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "holds_sql.h"

static struct gym_stmt st_fast = { "hold_fast", GYM_HOLD_FAST_SQL, 0 };
static struct gym_stmt st_release_fast = { "hold_release_fast", GYM_HOLD_RELEASE_FAST_SQL, 0 };
static struct gym_stmt st_claim = { "hold_claim", CLAIM_SQL("SKIP LOCKED"), 0 };
static struct gym_stmt st_claim_wait = { "hold_claim_wait", CLAIM_SQL(""), 0 };
/* Everything hold_tx must know before it claims, in one statement: $1
 * schedule, $2 now, $3 user.  open is NULL for an unknown class. */
static struct gym_stmt st_check = { "hold_check",
	"SELECT (SELECT starts_at > $2::timestamptz FROM course_schedules WHERE id = $1::bigint) AS open, "
	"EXISTS (SELECT 1 FROM payment_orders WHERE user_id = $3::bigint AND status = 'paid') "
	" OR EXISTS (SELECT 1 FROM bookings WHERE user_id = $3::bigint AND status = 'confirmed') AS has, "
	"EXISTS (SELECT 1 FROM payment_orders WHERE user_id = $3::bigint AND status = 'pending' "
	" AND expires_at <= $2::timestamptz) OR EXISTS (SELECT 1 FROM seat_reservations "
	" WHERE user_id = $3::bigint AND status = 'temporary' AND expires_at <= $2::timestamptz) AS lapsed, "
	"EXISTS (SELECT 1 FROM seat_reservations WHERE user_id = $3::bigint "
	" AND status = 'temporary') AS held, "
	"(SELECT course_schedule_id FROM payment_orders WHERE user_id = $3::bigint "
	" AND status = 'pending' LIMIT 1) AS open_sid", 0 };
/* End a temporary hold, set its seat free (or confirmed) when the seat is
 * still its own, and write the audit row: $1 hold, $2 new status, $3 now,
 * $4 audit action, $5 order id, $6-$11 the actor. */
static struct gym_stmt st_end_all = { "hold_end_all",
	"WITH e AS (UPDATE seat_reservations SET status = $2::text, updated_at = $3::timestamptz "
	" WHERE id = $1::bigint AND status = 'temporary' RETURNING id, seat_id, course_schedule_id), "
	"s AS (UPDATE seats SET state = CASE WHEN $2::text = 'confirmed' THEN 'confirmed' ELSE 'free' END, "
	" reservation_id = CASE WHEN $2::text = 'confirmed' THEN reservation_id END, held_until = NULL "
	" WHERE id = (SELECT seat_id FROM e) AND reservation_id = $1::bigint RETURNING id), "
	"a AS (" AUDIT_COLS "SELECT 'hold', $4, $5, e.id, NULL, $6, $7, $8, left($9, 512), $10, "
	" 'temporary', $2::text, $11::jsonb, jsonb_build_object('reservation_id', e.id, "
	" 'course_schedule_id', e.course_schedule_id, 'status', $2::text), $3::timestamptz FROM e "
	" RETURNING 1) "
	"SELECT (SELECT count(*) FROM e) AS n", 0 };
static struct gym_stmt st_schedule = { "hold_schedule",
	"SELECT starts_at > $2::timestamptz AS open FROM course_schedules WHERE id = $1::bigint", 0 };
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
	"SELECT EXISTS (SELECT 1 FROM payment_orders WHERE user_id = $1::bigint AND status = 'paid') "
	"OR EXISTS (SELECT 1 FROM bookings WHERE user_id = $1::bigint AND status = 'confirmed') AS has", 0 };

void
gym__ll(char *buf, size_t len, long long v)
{
	snprintf(buf, len, "%lld", v);
}

static void
read_hold(PGresult *r, int i, struct gym_reservation *h)
{
	h->id = gym_db_get_ll(r, i, "id");
	h->schedule_id = gym_db_get_ll(r, i, "course_schedule_id");
	h->user_id = gym_db_get_ll(r, i, "user_id");
	snprintf(h->status, sizeof(h->status), "%s", gym_db_get(r, i, "status"));
	h->expires_at = gym_db_get_ll(r, i, "expires_us");
}

/* The actor's id as a statement parameter (NULL for none). */
static const char *
actor_id(const struct gym_actor *a, char *buf, size_t len)
{
	if (a->id == 0)
		return NULL;
	gym__ll(buf, len, a->id);
	return buf;
}

enum gym_err
gym__hold_claim(struct gym_db *db, const struct gym_actor *a, long long user_id,
    long long schedule_id, int64_t until, struct gym_reservation *h)
{
	char sid[24], uid[24], now[40], exp[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *p[10] = { sid, uid, now, exp, a->type, actor_id(a, aid, sizeof(aid)),
	    a->client_ip, gym__audit_user_agent(a->user_agent, ua), a->request_id,
	    a->request_snapshot };
	PGresult *r;
	enum gym_err e;
	int n;

	gym__ll(sid, sizeof(sid), schedule_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	gym_time_format(until, exp, sizeof(exp));
	if ((e = gym_db_exec(db, &st_claim, 10, p, &r)) != GYM_OK)
		return e;
	if ((n = PQntuples(r)) == 0) {
		/* nothing unlocked: wait (lock_timeout) for seats in flight */
		PQclear(r);
		if ((e = gym_db_exec(db, &st_claim_wait, 10, p, &r)) != GYM_OK)
			return e;
		n = PQntuples(r);
	}
	if (n == 0) {
		PQclear(r);
		return GYM_E_SOLD_OUT;
	}
	read_hold(r, 0, h);
	PQclear(r);
	return GYM_OK;
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
	read_hold(r, 0, h);
	*live = strcmp(gym_db_get(r, 0, "live"), "t") == 0;
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym__hold_end(struct gym_db *db, const struct gym_actor *a, long long reservation_id,
    const char *new_status, const char *order_id)
{
	char rid[24], now[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *action = strcmp(new_status, "cancelled") == 0 ? "hold_released" :
	    strcmp(new_status, "expired") == 0 ? "hold_expired" : "hold_confirmed";
	const char *p[11] = { rid, new_status, now, action, order_id, a->type,
	    actor_id(a, aid, sizeof(aid)), a->client_ip, gym__audit_user_agent(a->user_agent, ua),
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
		e = gym__hold_end(db, a, gym_db_get_ll(r, i, "id"), "expired", NULL);
	PQclear(r);
	return e;
}

enum gym_err
gym__expire_user(struct gym_db *db, const struct gym_actor *a, long long user_id)
{
	enum gym_err e;

	if ((e = gym__expire_user_orders(db, a, user_id)) != GYM_OK)
		return e;
	return gym__expire_user_holds(db, a, user_id);
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
	PGresult *r;
	enum gym_err e;

	gym__ll(sid, sizeof(sid), schedule_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_schedule, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_E_SCHEDULE_NOT_FOUND;
	else if (strcmp(gym_db_get(r, 0, "open"), "t") != 0)
		e = GYM_E_SOLD_OUT;	/* the class has started */
	PQclear(r);
	return e;
}

struct hold_arg {
	const struct gym_actor *actor;
	long long user_id, schedule_id;
	struct gym_reservation *res;
	int created;
};

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
		read_hold(r, 0, h);
		*found = h->expires_at > gym_now_us();
	}
	PQclear(r);
	return GYM_OK;
}

/* *open: 1, 0 (started) or -1 (no such class); *has: a trial already;
 * *lapsed: a lapsed hold or order to expire first; *held: a temporary hold;
 * *open_sid: the class of the user's pending order (0: none). */
static enum gym_err
hold_check(struct gym_db *db, long long schedule_id, long long user_id, int *open, int *has,
    int *lapsed, int *held, long long *open_sid)
{
	char sid[24], uid[24], now[40];
	const char *p[3] = { sid, now, uid };
	const char *o;
	PGresult *r;
	enum gym_err e;

	gym__ll(sid, sizeof(sid), schedule_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_check, 3, p, &r)) != GYM_OK)
		return e;
	o = gym_db_get(r, 0, "open");
	*open = o == NULL ? -1 : strcmp(o, "t") == 0;
	*has = strcmp(gym_db_get(r, 0, "has"), "t") == 0;
	*lapsed = strcmp(gym_db_get(r, 0, "lapsed"), "t") == 0;
	*held = strcmp(gym_db_get(r, 0, "held"), "t") == 0;
	*open_sid = gym_db_get_ll(r, 0, "open_sid");
	PQclear(r);
	return GYM_OK;
}

static enum gym_err
hold_tx(struct gym_db *db, void *v)
{
	struct hold_arg *a = v;
	long long open_sid = 0;
	enum gym_err e;
	int open, has, lapsed, held, found;

	if ((e = hold_check(db, a->schedule_id, a->user_id, &open, &has, &lapsed, &held,
	    &open_sid)) != GYM_OK)
		return e;
	if (open == -1)
		return GYM_E_SCHEDULE_NOT_FOUND;
	if (open == 0)
		return GYM_E_SOLD_OUT;	/* the class has started */
	if (has)
		return GYM_E_TRIAL_ALREADY_BOOKED;
	/* the rare paths: a lapsed hold or order to expire, a hold to answer with */
	if (lapsed && (e = gym__expire_user(db, a->actor, a->user_id)) != GYM_OK)
		return e;
	found = 0;
	if ((held || lapsed) && (e = gym_hold_find_live(db, a->user_id, a->res, &found)) != GYM_OK)
		return e;
	if (found) {
		a->created = 0;
		return a->res->schedule_id == a->schedule_id ? GYM_OK : GYM_E_ACTIVE_HOLD_EXISTS;
	}
	/* an open order on another class keeps its claim on the user's one
	 * hold, even after its own hold lapsed: paying it re-claims a seat */
	found = open_sid != 0;
	if (lapsed && (e = gym__user_open_order(db, a->user_id, &open_sid, &found)) != GYM_OK)
		return e;
	if (found && open_sid != a->schedule_id)
		return GYM_E_ACTIVE_HOLD_EXISTS;
	a->created = 1;
	e = gym__hold_claim(db, a->actor, a->user_id, a->schedule_id,
	    gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000, a->res);
	if (e == GYM_E_SOLD_OUT) {
		/* the last seat may have gone to a concurrent request of this
		 * same user, committed while we waited for it: answer with it */
		if ((e = gym_hold_find_live(db, a->user_id, a->res, &found)) != GYM_OK)
			return e;
		if (!found)
			return GYM_E_SOLD_OUT;
		a->created = 0;
		return a->res->schedule_id == a->schedule_id ? GYM_OK : GYM_E_ACTIVE_HOLD_EXISTS;
	}
	/* a concurrent request of the same user won the one-hold index: rerun */
	return e == GYM_ECONFLICT ? GYM_ERETRY : e;
}

/* Run a fast-path statement (st_fast, st_release_fast); *done = 1 when it
 * changed a hold, which it returns in *h.  A conflict (a concurrent
 * request of the same user) or a lost connection leaves *done = 0 for
 * the transaction to sort out. */
static enum gym_err
fast(struct gym_db *db, struct gym_stmt *st, int n, const char *const *p,
    struct gym_reservation *h, int *done)
{
	PGresult *r;
	enum gym_err e;

	*done = 0;
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	e = gym_db_exec(db, st, n, p, &r);
	if (e == GYM_ECONFLICT || e == GYM_EDB)
		return GYM_OK;
	if (e != GYM_OK)
		return e;
	if (PQntuples(r) == 1) {
		read_hold(r, 0, h);
		*done = 1;
	}
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_hold_create(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long schedule_id, struct gym_reservation *res, int *created)
{
	struct hold_arg a = { actor, user_id, schedule_id, res, 0 };
	char sid[24], uid[24], now[40], exp[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *p[10] = { sid, uid, now, exp, actor->type, actor_id(actor, aid, sizeof(aid)),
	    actor->client_ip, gym__audit_user_agent(actor->user_agent, ua), actor->request_id,
	    actor->request_snapshot };
	enum gym_err e;
	int done;

	gym__ll(sid, sizeof(sid), schedule_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	gym_time_format(gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000, exp, sizeof(exp));
	if ((e = fast(db, &st_fast, 10, p, res, &done)) != GYM_OK)
		return e;
	if (done) {
		*created = 1;
		return GYM_OK;
	}
	if ((e = gym_db_tx_nowait(db, hold_tx, &a)) == GYM_OK)
		*created = a.created;
	return e;
}

struct release_arg {
	const struct gym_actor *actor;
	long long user_id, reservation_id;
	struct gym_reservation *res;
};

static enum gym_err
release_tx(struct gym_db *db, void *v)
{
	struct release_arg *a = v;
	enum gym_err e;
	int live;

	if ((e = gym__hold_lock(db, a->user_id, a->reservation_id, a->res, &live)) != GYM_OK)
		return e;
	if (strcmp(a->res->status, "confirmed") == 0)
		return GYM_E_ALREADY_CONFIRMED;
	if (strcmp(a->res->status, "temporary") != 0)
		return GYM_OK;		/* already ended: answer with its status */
	if ((e = gym__hold_end(db, a->actor, a->reservation_id,
	    live ? "cancelled" : "expired", NULL)) != GYM_OK)
		return e;
	/* locked since hold_lock: nothing else changed it */
	snprintf(a->res->status, sizeof(a->res->status), "%s", live ? "cancelled" : "expired");
	return GYM_OK;
}

enum gym_err
gym_hold_release(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long reservation_id, struct gym_reservation *res)
{
	struct release_arg a = { actor, user_id, reservation_id, res };
	char rid[24], uid[24], now[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *p[9] = { rid, uid, now, actor->type, actor_id(actor, aid, sizeof(aid)),
	    actor->client_ip, gym__audit_user_agent(actor->user_agent, ua), actor->request_id,
	    actor->request_snapshot };
	enum gym_err e;
	int done;

	gym__ll(rid, sizeof(rid), reservation_id);
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = fast(db, &st_release_fast, 9, p, res, &done)) != GYM_OK || done)
		return e;
	return gym_db_tx_nowait(db, release_tx, &a);
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
		read_hold(r, 0, res);
	PQclear(r);
	return e;
}
