/*
 * waitlist.c: a full class's waitlist: join, leave, a parent's entries, and
 * the offer pass that turns freed seats into 15-minute holds for the heads
 * of the queues (waitlist.h has the rules and why they are safe).
 */
#include <stdio.h>
#include <string.h>

#include "audit_sql.h"
#include "extern.h"
#include "log.h"
#include "notify.h"
#include "trial_sql.h"
#include "waitlist.h"

/* Heads of one queue a pass locks and offers to in one transaction. */
#define HEAD_BATCH 50
/* Ended offers (or started classes' entries) one statement settles. */
#define SETTLE_BATCH 500

#define ENTRY_COLS "w.id, w.course_schedule_id, w.state, w.hold_id, " \
	"(extract(epoch FROM w.joined_at) * 1000000)::bigint AS joined_us, " \
	"(extract(epoch FROM w.offer_expires_at) * 1000000)::bigint AS offer_us, " \
	"CASE WHEN w.state = 'waiting' THEN (SELECT count(*) FROM waitlist_entries q " \
	" WHERE q.course_schedule_id = w.course_schedule_id AND q.state = 'waiting' " \
	" AND q.id <= w.id) ELSE 0 END AS position "

/* A seat of the class $1 free (or its hold lapsed) at $2. */
#define FREE_SEAT_SQL "EXISTS (SELECT 1 FROM seats WHERE course_schedule_id = $1::bigint AND " \
	"(state = 'free' OR (state = 'held' AND held_until <= $2::timestamptz)))"
#define QUEUED_SQL "EXISTS (SELECT 1 FROM waitlist_entries WHERE course_schedule_id = $1::bigint " \
	"AND state = 'waiting')"

/* Everything a join must know first: $1 class, $2 now, $3 user.  open is
 * NULL for an unknown class; mine: a live hold or open order on it. */
static struct gym_stmt st_join_check = { "waitlist_join_check",
	"SELECT " GYM_TRIAL_CLASS_STATE_SQL("$1::bigint", "$2::timestamptz") " AS state, "
	GYM_HAS_TRIAL_SQL("$3::bigint") " AS has, " FREE_SEAT_SQL " AS free, " QUEUED_SQL " AS queued, "
	"EXISTS (SELECT 1 FROM seat_reservations WHERE user_id = $3::bigint AND status = 'temporary' "
	" AND course_schedule_id = $1::bigint AND expires_at > $2::timestamptz) "
	"OR EXISTS (SELECT 1 FROM payment_orders WHERE user_id = $3::bigint AND status = 'pending' "
	" AND course_schedule_id = $1::bigint AND expires_at > $2::timestamptz) AS mine", 0 };
static struct gym_stmt st_queued = { "waitlist_queued", "SELECT " QUEUED_SQL " AS queued", 0 };
static struct gym_stmt st_active = { "waitlist_active",
	"SELECT " ENTRY_COLS "FROM waitlist_entries w WHERE w.course_schedule_id = $1::bigint "
	"AND w.user_id = $2::bigint AND w.state IN ('waiting', 'offered') FOR UPDATE", 0 };
static struct gym_stmt st_get = { "waitlist_get",
	"SELECT " ENTRY_COLS "FROM waitlist_entries w WHERE w.id = $1::bigint", 0 };
static struct gym_stmt st_mine = { "waitlist_mine",
	"SELECT " ENTRY_COLS "FROM waitlist_entries w WHERE w.user_id = $1::bigint "
	"AND w.state IN ('waiting', 'offered') ORDER BY w.id LIMIT $2::int", 0 };
static struct gym_stmt st_insert = { "waitlist_insert",
	"INSERT INTO waitlist_entries (course_schedule_id, user_id, state, joined_at, updated_at) "
	"VALUES ($1::bigint, $2::bigint, 'waiting', $3::timestamptz, $3::timestamptz) RETURNING id", 0 };
static struct gym_stmt st_set = { "waitlist_set",
	"UPDATE waitlist_entries SET state = $2, done_reason = $3, updated_at = $4::timestamptz "
	"WHERE id = $1::bigint", 0 };
static struct gym_stmt st_offer = { "waitlist_offer",
	"UPDATE waitlist_entries SET state = 'offered', hold_id = $2::bigint, "
	"offer_expires_at = $3::timestamptz, offered_at = $4::timestamptz, updated_at = $4::timestamptz "
	"WHERE id = $1::bigint AND state = 'waiting'", 0 };

/* The system's audit row of a settled entry ($1 now), as a CTE over u. */
#define SETTLE_AUDIT(action, old) \
	"a AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'waitlist'", action, "NULL", "u.hold_id", \
	"NULL", "'system'", "NULL", "NULL", "'waitlist-offer'", "NULL", old, "'done'", "NULL", \
	"jsonb_build_object('waitlist_entry_id', u.id, 'course_schedule_id', u.course_schedule_id, " \
	"'state', 'done', 'reason', u.done_reason)", "$1::timestamptz") "FROM u) "
/* Offers whose hold ended or lapsed: done, used (paid) or lapsed (the seat
 * passes on).  $1 now, $2 batch. */
static struct gym_stmt st_settle = { "waitlist_settle",
	"WITH c AS (SELECT w.id, CASE WHEN r.status = 'confirmed' THEN 'used' ELSE 'lapsed' END AS reason "
	" FROM waitlist_entries w JOIN seat_reservations r ON r.id = w.hold_id "
	" WHERE w.state = 'offered' AND (r.status <> 'temporary' OR r.expires_at <= $1::timestamptz) "
	" ORDER BY w.id LIMIT $2::int FOR UPDATE OF w SKIP LOCKED), "
	"u AS (UPDATE waitlist_entries w SET state = 'done', done_reason = c.reason, "
	" updated_at = $1::timestamptz FROM c WHERE w.id = c.id "
	" RETURNING w.id, w.course_schedule_id, w.hold_id, w.done_reason), "
	SETTLE_AUDIT("CASE WHEN u.done_reason = 'used' THEN 'waitlist_offer_used' "
	"ELSE 'waitlist_offer_lapsed' END", "'offered'")
	"SELECT count(*) AS n FROM u", 0 };
/* The waiting entries of classes that started: done (closed). */
static struct gym_stmt st_close = { "waitlist_close",
	"WITH c AS (SELECT w.id FROM waitlist_entries w JOIN course_schedules s "
	" ON s.id = w.course_schedule_id WHERE w.state = 'waiting' AND s.starts_at <= $1::timestamptz "
	" ORDER BY w.id LIMIT $2::int FOR UPDATE OF w SKIP LOCKED), "
	"u AS (UPDATE waitlist_entries w SET state = 'done', done_reason = 'closed', "
	" updated_at = $1::timestamptz FROM c WHERE w.id = c.id "
	" RETURNING w.id, w.course_schedule_id, w.hold_id, w.done_reason), "
	SETTLE_AUDIT("'waitlist_closed'", "'waiting'")
	"SELECT count(*) AS n FROM u", 0 };
/* Open classes with a waiting parent and a free seat: $1 now, $2 max. */
static struct gym_stmt st_classes = { "waitlist_classes",
	"SELECT q.sid FROM (SELECT DISTINCT course_schedule_id AS sid FROM waitlist_entries "
	" WHERE state = 'waiting') q JOIN course_schedules s ON s.id = q.sid "
	"WHERE s.starts_at > $1::timestamptz AND s.cancelled_at IS NULL AND EXISTS (SELECT 1 FROM seats WHERE "
	" course_schedule_id = q.sid AND (state = 'free' OR (state = 'held' AND "
	" held_until <= $1::timestamptz))) ORDER BY q.sid LIMIT $2::int", 0 };
/* The head of a class's queue, locked: $1 class, $2 batch.  Beside each
 * locked row, expected: the waiting row of the same rank by this
 * statement's snapshot.  The pass offers only while the two agree, so it
 * never passes over a row it could not lock (another transaction has it)
 * or one that changed since the snapshot. */
static struct gym_stmt st_heads = { "waitlist_heads",
	"WITH h AS (SELECT id, user_id FROM waitlist_entries WHERE course_schedule_id = $1::bigint "
	" AND state = 'waiting' ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED), "
	"q AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM (SELECT id FROM "
	" waitlist_entries WHERE course_schedule_id = $1::bigint AND state = 'waiting' "
	" ORDER BY id LIMIT $2::int) x) "
	"SELECT l.id, l.user_id, coalesce(q.id, 0) AS expected FROM (SELECT h.id, h.user_id, "
	" row_number() OVER (ORDER BY h.id) AS rn FROM h) l LEFT JOIN q ON q.rn = l.rn "
	"ORDER BY l.id", 0 };
/* The class's pass lock ($1 class): one pass serves a class at a time. */
static struct gym_stmt st_class_lock = { "waitlist_class_lock",
	"SELECT pg_try_advisory_xact_lock(hashtextextended('gym_waitlist:' || $1, 0)) AS mine", 0 };

static const struct gym_actor offerer = { "system", 0, NULL, "waitlist-offer", NULL, NULL };

static enum gym_err
read_entry(PGresult *r, int i, struct gym_waitlist_entry *w)
{
	const char *st = gym_db_get(r, i, "state");

	memset(w, 0, sizeof(*w));
	w->id = gym_db_get_ll(r, i, "id");
	w->schedule_id = gym_db_get_ll(r, i, "course_schedule_id");
	w->position = (int)gym_db_get_ll(r, i, "position");
	w->joined_at = gym_db_get_ll(r, i, "joined_us");
	if (!gym_waitlist_state_parse(st, &w->state)) {
		gym_log_errx("waitlist entry %lld: unknown state %s", w->id, st != NULL ? st : "NULL");
		return GYM_EINTERNAL;
	}
	if (w->state == GYM_WAITLIST_OFFERED) {
		w->hold_id = gym_db_get_ll(r, i, "hold_id");
		w->offer_expires_at = gym_db_get_ll(r, i, "offer_us");
	}
	return GYM_OK;
}

/* Run st with n parameters and read its first row into w; *found 0 when
 * there is none. */
static enum gym_err
load(struct gym_db *db, struct gym_stmt *st, int n, const char *const *p,
    struct gym_waitlist_entry *w, int *found)
{
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, st, n, p, &r)) != GYM_OK)
		return e;
	*found = PQntuples(r) > 0;
	e = *found ? read_entry(r, 0, w) : GYM_OK;
	PQclear(r);
	return e;
}

/* The audit row of one entry's change, inside the caller's transaction. */
static enum gym_err
audit(struct gym_db *db, const struct gym_actor *actor, long long id, long long sid,
    const char *action, const char *old, const char *new, long long hold_id, const char *reason)
{
	char snap[256];
	struct gym_audit au = { "waitlist", action, NULL, hold_id, 0, old, new, snap };

	snprintf(snap, sizeof(snap), "{\"waitlist_entry_id\":%lld,\"course_schedule_id\":%lld,"
	    "\"state\":\"%s\"%s%s%s}", id, sid, new, reason != NULL ? ",\"reason\":\"" : "",
	    reason != NULL ? reason : "", reason != NULL ? "\"" : "");
	return gym_audit_write(db, actor, &au);
}

static enum gym_err
set_state(struct gym_db *db, long long id, enum gym_waitlist_state st, const char *reason)
{
	char eid[24], now[40];
	const char *p[4] = { eid, gym_waitlist_state_name(st), reason, now };

	gym__ll(eid, sizeof(eid), id);
	gym_db_now_param(now, sizeof(now));
	return gym_db_exec(db, &st_set, 4, p, NULL);
}

enum gym_err
gym__waitlist_queued(struct gym_db *db, long long schedule_id, int *queued)
{
	char sid[24];
	const char *p[1] = { sid };
	PGresult *r;
	enum gym_err e;

	gym__ll(sid, sizeof(sid), schedule_id);
	if ((e = gym_db_exec(db, &st_queued, 1, p, &r)) != GYM_OK)
		return e;
	*queued = strcmp(gym_db_get(r, 0, "queued"), "t") == 0;
	PQclear(r);
	return GYM_OK;
}

struct join_arg {
	const struct gym_actor *actor;
	long long user_id, schedule_id;
	struct gym_waitlist_entry *w;
	int created;
};

static int
flag(PGresult *r, const char *col)
{
	const char *v = gym_db_get(r, 0, col);

	return v != NULL && strcmp(v, "t") == 0;
}

static enum gym_err
join_tx(struct gym_db *db, void *v)
{
	struct join_arg *a = v;
	char sid[24], uid[24], now[40], eid[24];
	const char *p[3] = { sid, now, uid };
	const char *pa[2] = { sid, uid };
	const char *pi[3] = { sid, uid, now };
	const char *pg[1] = { eid };
	PGresult *r;
	enum gym_err e;
	const char *state;
	int found, open, has, seat_free, queued, mine;

	gym__ll(sid, sizeof(sid), a->schedule_id);
	gym__ll(uid, sizeof(uid), a->user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_join_check, 3, p, &r)) != GYM_OK)
		return e;
	/* -1 no such class, -2 a regular one (the queue's offers are trial
	 * holds), 1 open, 0 started or cancelled */
	state = gym_db_get(r, 0, "state");
	open = state == NULL ? -1 : strcmp(state, "regular") == 0 ? -2 : strcmp(state, "open") == 0;
	has = flag(r, "has");
	seat_free = flag(r, "free");
	queued = flag(r, "queued");
	mine = flag(r, "mine");
	PQclear(r);
	if (open == -1)
		return GYM_E_SCHEDULE_NOT_FOUND;
	if (open == -2)
		return GYM_E_WRONG_CLASS_KIND;
	if (open == 0)
		return GYM_E_SOLD_OUT;		/* the class has started */
	if (has)
		return GYM_E_TRIAL_ALREADY_BOOKED;
	a->created = 0;
	if ((e = load(db, &st_active, 2, pa, a->w, &found)) != GYM_OK || found)
		return e;
	if (mine)
		return GYM_E_ACTIVE_HOLD_EXISTS;
	/* a free seat with nobody waiting for it: book it instead */
	if (seat_free && !queued)
		return GYM_E_SEATS_AVAILABLE;
	if ((e = gym_db_exec(db, &st_insert, 3, pi, &r)) != GYM_OK)
		/* a concurrent join of the same parent won the index: rerun */
		return e == GYM_ECONFLICT ? GYM_ERETRY : e;
	gym_db_copy(r, 0, "id", eid, sizeof(eid));
	PQclear(r);
	if ((e = load(db, &st_get, 1, pg, a->w, &found)) != GYM_OK)
		return e;
	if (!found)
		return GYM_EINTERNAL;
	a->created = 1;
	return audit(db, a->actor, a->w->id, a->schedule_id, "waitlist_joined", NULL,
	    "waiting", 0, NULL);
}

enum gym_err
gym_waitlist_join(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long schedule_id, struct gym_waitlist_entry *w, int *created)
{
	struct join_arg a = { actor, user_id, schedule_id, w, 0 };
	enum gym_err e;

	if ((e = gym_db_tx(db, join_tx, &a)) == GYM_OK)
		*created = a.created;
	return e;
}

struct leave_arg {
	const struct gym_actor *actor;
	long long user_id, schedule_id;
	int left;
};

static enum gym_err
leave_tx(struct gym_db *db, void *v)
{
	struct leave_arg *a = v;
	struct gym_waitlist_entry w;
	char sid[24], uid[24];
	const char *p[2] = { sid, uid };
	long long osid = 0;
	enum gym_err e;
	int found, ordered = 0;

	a->left = 0;
	gym__ll(sid, sizeof(sid), a->schedule_id);
	gym__ll(uid, sizeof(uid), a->user_id);
	if ((e = load(db, &st_active, 2, p, &w, &found)) != GYM_OK || !found)
		return e;
	/* an offer's hold goes back, unless the parent made an order with it
	 * (the order is theirs to pay or cancel) */
	if (w.state == GYM_WAITLIST_OFFERED) {
		if ((e = gym__user_open_order(db, a->user_id, &osid, &ordered)) != GYM_OK)
			return e;
		if (!(ordered && osid == a->schedule_id) &&
		    (e = gym__hold_end(db, a->actor, w.hold_id, GYM_HOLD_CANCELLED, NULL)) != GYM_OK)
			return e;
	}
	if ((e = set_state(db, w.id, GYM_WAITLIST_LEFT, NULL)) != GYM_OK)
		return e;
	a->left = 1;
	return audit(db, a->actor, w.id, w.schedule_id, "waitlist_left",
	    gym_waitlist_state_name(w.state), "left", w.hold_id, NULL);
}

enum gym_err
gym_waitlist_leave(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long schedule_id, int *left)
{
	struct leave_arg a = { actor, user_id, schedule_id, 0 };
	enum gym_err e;

	if ((e = gym_db_tx(db, leave_tx, &a)) == GYM_OK && left != NULL)
		*left = a.left;
	return e;
}

enum gym_err
gym_waitlist_mine(struct gym_db *db, long long user_id, struct gym_waitlist_entry *out,
    int max, int *n)
{
	char uid[24], lim[16];
	const char *p[2] = { uid, lim };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	gym__ll(uid, sizeof(uid), user_id);
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	if ((e = gym_db_exec(db, &st_mine, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r) && i < max; i++)
		if ((e = read_entry(r, i, &out[i])) == GYM_OK)
			(*n)++;
	PQclear(r);
	return e;
}

/* One settling statement (st_settle, st_close), batch after batch. */
static enum gym_err
settle(struct gym_db *db, struct gym_stmt *st)
{
	char now[40], lim[16];
	const char *p[2] = { now, lim };
	PGresult *r;
	enum gym_err e;
	long long n;

	snprintf(lim, sizeof(lim), "%d", SETTLE_BATCH);
	do {
		gym_db_now_param(now, sizeof(now));
		if ((e = gym_db_exec(db, st, 2, p, &r)) != GYM_OK)
			return e;
		n = gym_db_get_ll(r, 0, "n");
		PQclear(r);
	} while (n == SETTLE_BATCH);
	return GYM_OK;
}

/* Offer a seat of sid to the waiting parent of entry eid (user uid):
 * *offered 1 when done, *sold_out 1 when no seat is left.  A parent who
 * had the trial meanwhile is done (ineligible); one holding a seat or an
 * open order elsewhere is passed over and keeps their place. */
static enum gym_err
offer_one(struct gym_db *db, long long sid, long long eid, long long uid, int *offered,
    int *sold_out)
{
	struct gym_reservation h;
	char ids[24], hid[24], until[40], now[40];
	const char *p[4] = { ids, hid, until, now };
	long long osid;
	enum gym_err e;
	int has, live, found;

	*offered = *sold_out = 0;
	if ((e = gym__expire_user(db, &offerer, uid)) != GYM_OK ||
	    (e = gym__user_has_trial(db, uid, &has)) != GYM_OK)
		return e;
	if (has) {
		if ((e = set_state(db, eid, GYM_WAITLIST_DONE, "ineligible")) != GYM_OK)
			return e;
		return audit(db, &offerer, eid, sid, "waitlist_ineligible", "waiting", "done", 0,
		    "ineligible");
	}
	if ((e = gym_hold_find_live(db, uid, &h, &live)) != GYM_OK ||
	    (e = gym__user_open_order(db, uid, &osid, &found)) != GYM_OK)
		return e;
	if (live || found)
		return GYM_OK;
	e = gym__hold_claim(db, &offerer, uid, sid,
	    gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000, &h);
	if (e == GYM_E_SOLD_OUT) {
		*sold_out = 1;
		return GYM_OK;
	}
	if (e != GYM_OK)
		/* the parent's own hold, made meanwhile, won the one-hold index */
		return e == GYM_ECONFLICT ? GYM_ERETRY : e;
	gym__ll(ids, sizeof(ids), eid);
	gym__ll(hid, sizeof(hid), h.id);
	gym_time_format(h.expires_at, until, sizeof(until));
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_offer, 4, p, NULL)) != GYM_OK ||
	    (e = audit(db, &offerer, eid, sid, "waitlist_offered", "waiting", "offered", h.id,
	    NULL)) != GYM_OK ||
	    (e = gym__notify_enqueue_waitlist(db, &offerer, eid)) != GYM_OK)
		return e;
	*offered = 1;
	return GYM_OK;
}

struct class_arg {
	long long sid;
	int offers, heads;
};

/* One class: lock the head of its queue, offer seats in order. */
static enum gym_err
class_tx(struct gym_db *db, void *v)
{
	struct class_arg *a = v;
	char sid[24], lim[16];
	const char *p[2] = { sid, lim };
	PGresult *r;
	enum gym_err e = GYM_OK;
	int offered, sold_out = 0, mine;

	a->offers = a->heads = 0;
	gym__ll(sid, sizeof(sid), a->sid);
	snprintf(lim, sizeof(lim), "%d", HEAD_BATCH);
	/* another pass is serving this class: it is its to serve */
	if ((e = gym_db_exec(db, &st_class_lock, 1, p, &r)) != GYM_OK)
		return e;
	mine = strcmp(gym_db_get(r, 0, "mine"), "t") == 0;
	PQclear(r);
	if (!mine)
		return GYM_OK;
	if ((e = gym_db_exec(db, &st_heads, 2, p, &r)) != GYM_OK)
		return e;
	a->heads = PQntuples(r);
	/* in queue order only: up to the first row this pass could not lock
	 * (or that changed since its snapshot); the next pass goes on from it */
	for (int i = 0; e == GYM_OK && !sold_out && i < a->heads; i++) {
		if (gym_db_get_ll(r, i, "id") != gym_db_get_ll(r, i, "expected")) {
			a->heads = 0;
			break;
		}
		e = offer_one(db, a->sid, gym_db_get_ll(r, i, "id"), gym_db_get_ll(r, i, "user_id"),
		    &offered, &sold_out);
		a->offers += offered;
	}
	if (sold_out)
		a->heads = 0;		/* no seat left: nothing more this pass */
	PQclear(r);
	return e;
}

enum gym_err
gym_waitlist_offer_pass(struct gym_db *db, int max_classes, int *offers)
{
	struct class_arg a;
	long long sids[64];
	char now[40], lim[16];
	const char *p[2] = { now, lim };
	PGresult *r;
	enum gym_err e;
	int n, total = 0;

	if (offers != NULL)
		*offers = 0;
	if (max_classes > (int)(sizeof(sids) / sizeof(sids[0])))
		max_classes = (int)(sizeof(sids) / sizeof(sids[0]));
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	if ((e = settle(db, &st_settle)) != GYM_OK || (e = settle(db, &st_close)) != GYM_OK)
		return e;
	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", max_classes);
	if ((e = gym_db_exec(db, &st_classes, 2, p, &r)) != GYM_OK)
		return e;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
		sids[i] = gym_db_get_ll(r, i, "sid");
	PQclear(r);
	for (int i = 0; i < n; i++) {
		memset(&a, 0, sizeof(a));
		a.sid = sids[i];
		/* a full batch of heads all served: the queue may have more */
		do {
			if ((e = gym_db_tx(db, class_tx, &a)) != GYM_OK) {
				gym_log_warnx("waitlist: class %lld: offer pass failed: %s", a.sid,
				    gym_strerror(e));
				break;
			}
			total += a.offers;
		} while (a.heads == HEAD_BATCH && a.offers > 0);
		if (e == GYM_EDB)
			break;
	}
	if (total > 0)
		gym_log_infox("waitlist: %d seat(s) offered", total);
	if (offers != NULL)
		*offers = total;
	return e == GYM_EDB ? e : GYM_OK;
}
