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
#include "trial_sql.h"

static struct gym_stmt st_fast = { "hold_fast", GYM_HOLD_FAST_SQL, 0 };
static struct gym_stmt st_release_fast = { "hold_release_fast", GYM_HOLD_RELEASE_FAST_SQL, 0 };
/* Everything hold_tx must know before it claims, in one statement: $1
 * schedule, $2 now, $3 user.  open is NULL for an unknown class. */
static struct gym_stmt st_check = { "hold_check",
	"SELECT " GYM_TRIAL_CLASS_STATE_SQL("$1::bigint", "$2::timestamptz") " AS state, "
	GYM_HAS_TRIAL_SQL("$3::bigint") " AS has, "
	"EXISTS (SELECT 1 FROM payment_orders WHERE user_id = $3::bigint AND status = 'pending' "
	" AND course_schedule_id IS NOT NULL AND expires_at <= $2::timestamptz) OR EXISTS (SELECT 1 FROM seat_reservations "
	" WHERE user_id = $3::bigint AND status = 'temporary' AND expires_at <= $2::timestamptz) AS lapsed, "
	"EXISTS (SELECT 1 FROM seat_reservations WHERE user_id = $3::bigint "
	" AND status = 'temporary') AS held, "
	"(SELECT course_schedule_id FROM payment_orders WHERE user_id = $3::bigint "
	" AND status = 'pending' AND course_schedule_id IS NOT NULL LIMIT 1) AS open_sid", 0 };

struct hold_arg {
	const struct gym_actor *actor;
	long long user_id, schedule_id;
	struct gym_reservation *res;
	int created;
};

/* *open: 1, 0 (started), -1 (no such class) or -2 (not a trial class); *has: a trial already;
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
	o = gym_db_get(r, 0, "state");
	/* a regular class: members book it (member_bookings.c) */
	*open = o == NULL ? -1 : strcmp(o, "regular") == 0 ? -2 : strcmp(o, "open") == 0;
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
	if (open == -2)
		return GYM_E_WRONG_CLASS_KIND;
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
	/* parents wait for this class: its free seats are theirs (waitlist.h) */
	if ((e = gym__waitlist_queued(db, a->schedule_id, &found)) != GYM_OK)
		return e;
	if (found)
		return GYM_E_SOLD_OUT;
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
 * request of the same user), a lock wait that timed out (SKIP LOCKED
 * still waits to lock a seat's newer version: seen under load in CI) or a
 * lost connection leaves *done = 0 for the transaction to sort out. */
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
	if (e == GYM_ECONFLICT || e == GYM_ERETRY || e == GYM_EDB)
		return GYM_OK;
	if (e != GYM_OK)
		return e;
	if (PQntuples(r) == 1) {
		e = gym__read_hold(r, 0, h);
		*done = e == GYM_OK;
	}
	PQclear(r);
	return e;
}

enum gym_err
gym_hold_create(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long schedule_id, struct gym_reservation *res, int *created)
{
	struct hold_arg a = { actor, user_id, schedule_id, res, 0 };
	char sid[24], uid[24], now[40], exp[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *p[10] = { sid, uid, now, exp, actor->type, gym__actor_id(actor, aid, sizeof(aid)),
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
	if (a->res->status == GYM_HOLD_CONFIRMED)
		return GYM_E_ALREADY_CONFIRMED;
	if (a->res->status != GYM_HOLD_TEMPORARY)
		return GYM_OK;		/* already ended: answer with its status */
	if ((e = gym__hold_end(db, a->actor, a->reservation_id,
	    live ? GYM_HOLD_CANCELLED : GYM_HOLD_EXPIRED, NULL)) != GYM_OK)
		return e;
	/* locked since hold_lock: nothing else changed it */
	a->res->status = live ? GYM_HOLD_CANCELLED : GYM_HOLD_EXPIRED;
	return GYM_OK;
}

enum gym_err
gym_hold_release(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long reservation_id, struct gym_reservation *res)
{
	struct release_arg a = { actor, user_id, reservation_id, res };
	char rid[24], uid[24], now[40], aid[24], ua[GYM_AUDIT_UA_MAX];
	const char *p[9] = { rid, uid, now, actor->type, gym__actor_id(actor, aid, sizeof(aid)),
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
