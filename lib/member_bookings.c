/*
 * member_bookings.c: a member books a regular class with the membership or
 * one credit, and cancels (products.h).  A booking takes a seat the way a
 * trial hold does (gym__hold_claim: the same seat rows, FOR UPDATE SKIP
 * LOCKED) and confirms it in the same transaction; no payment.  The
 * parent's users row is locked first, so two bookings of one parent never
 * spend the same credit and the per-lot sums never go below zero.  A credit
 * is taken from the lot that expires first; a cancel more than the cutoff
 * before the class gives it back to the same lot ('return'), after it the
 * credit stays spent.  Every step writes its audit row.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "log.h"
#include "products.h"

#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static struct gym_stmt st_lock_user = { "mbook_lock_user",
	"SELECT id FROM users WHERE id = $1::bigint FOR UPDATE", 0 };
static struct gym_stmt st_class = { "mbook_class",
	"SELECT kind, starts_at, starts_at > $2::timestamptz AND cancelled_at IS NULL AS open, "
	"EXISTS (SELECT 1 FROM member_bookings WHERE user_id = $3::bigint "
	" AND course_schedule_id = $1::bigint AND status = 'confirmed') AS booked "
	"FROM course_schedules WHERE id = $1::bigint", 0 };
/* The period that covers the class's start ($2). */
static struct gym_stmt st_period = { "mbook_period",
	"SELECT id FROM membership_periods WHERE user_id = $1::bigint AND status = 'active' "
	"AND starts_at <= $2::timestamptz AND ends_at > $2::timestamptz ORDER BY id DESC LIMIT 1", 0 };
/* The lot that expires first and still has a credit ($2 now). */
static struct gym_stmt st_lot = { "mbook_lot",
	"SELECT l.id FROM credit_lots l JOIN credit_ledger c ON c.lot_id = l.id "
	"WHERE l.user_id = $1::bigint AND l.expires_at > $2::timestamptz GROUP BY l.id "
	"HAVING sum(c.delta) > 0 ORDER BY l.expires_at, l.id LIMIT 1", 0 };
static struct gym_stmt st_insert = { "mbook_insert",
	"INSERT INTO member_bookings (user_id, course_schedule_id, reservation_id, pay_with, "
	"membership_period_id, lot_id, status, confirmed_at) VALUES ($1::bigint, $2::bigint, "
	"$3::bigint, $4, $5::bigint, $6::bigint, 'confirmed', $7::timestamptz) RETURNING id", 0 };
static struct gym_stmt st_ledger = { "mbook_ledger",
	"INSERT INTO credit_ledger (user_id, lot_id, kind, delta, booking_id, created_at) "
	"VALUES ($1::bigint, $2::bigint, $3, $4::int, $5::bigint, $6::timestamptz)", 0 };
#define BOOKING_SELECT \
	"SELECT b.id, b.course_schedule_id, s.course_name, " US("s.starts_at") " AS starts_us, " \
	"b.pay_with, b.status, b.credit_returned, " US("b.confirmed_at") " AS confirmed_us, " \
	US("b.cancelled_at") " AS cancelled_us, b.reservation_id, b.lot_id, " \
	"s.starts_at > $3::timestamptz AS not_started, " \
	"s.starts_at > $3::timestamptz + make_interval(secs => $4::int) AS before_cutoff " \
	"FROM member_bookings b JOIN course_schedules s ON s.id = b.course_schedule_id " \
	"WHERE b.id = $1::bigint AND b.user_id = $2::bigint "
static struct gym_stmt st_get = { "mbook_get", BOOKING_SELECT, 0 };
static struct gym_stmt st_lock = { "mbook_lock", BOOKING_SELECT "FOR UPDATE OF b", 0 };
static struct gym_stmt st_cancel = { "mbook_cancel",
	"UPDATE member_bookings SET status = 'cancelled', cancelled_at = $2::timestamptz, "
	"credit_returned = $3::boolean WHERE id = $1::bigint AND status = 'confirmed'", 0 };
static struct gym_stmt st_hold_cancel = { "mbook_hold_cancel",
	"UPDATE seat_reservations SET status = 'cancelled', updated_at = $2::timestamptz "
	"WHERE id = $1::bigint AND status = 'confirmed' RETURNING seat_id", 0 };
static struct gym_stmt st_seat_free = { "mbook_seat_free",
	"UPDATE seats SET state = 'free', reservation_id = NULL, held_until = NULL "
	"WHERE id = $1::bigint AND reservation_id = $2::bigint", 0 };

struct mbook_arg {
	const struct gym_actor *actor;
	long long user_id, schedule_id, booking_id;
	enum gym_member_pay pay;
	int cutoff_s;
	struct gym_member_booking *b;
};

static enum gym_err
load(struct gym_db *db, struct gym_stmt *st, struct mbook_arg *a, PGresult **out)
{
	char bid[24], uid[24], now[40], cut[16];
	const char *p[4] = { bid, uid, now, cut };
	PGresult *r;
	enum gym_err e;

	gym__ll(bid, sizeof(bid), a->booking_id);
	gym__ll(uid, sizeof(uid), a->user_id);
	gym_db_now_param(now, sizeof(now));
	snprintf(cut, sizeof(cut), "%d", a->cutoff_s);
	if ((e = gym_db_exec(db, st, 4, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	gym__read_member_booking(r, 0, a->b);
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return GYM_OK;
}

static enum gym_err
audit(struct gym_db *db, struct mbook_arg *a, const char *entity, const char *action,
    long long rid, const char *old, const char *new_status, const char *extra)
{
	char snap[300];
	struct gym_audit au = { entity, action, NULL, rid, a->booking_id, old, new_status, snap };

	snprintf(snap, sizeof(snap), "{\"member_booking_id\":%lld,\"course_schedule_id\":%lld,"
	    "\"pay_with\":\"%s\"%s}", a->booking_id, a->b->schedule_id, a->b->pay_with, extra);
	return gym_audit_write(db, a->actor, &au);
}

/* The entitlement: the period's or the lot's id into id (text). */
static enum gym_err
entitlement(struct gym_db *db, struct mbook_arg *a, const char *class_start, char *id,
    size_t len)
{
	char uid[24], now[40];
	const char *p[2] = { uid, a->pay == GYM_PAY_MEMBERSHIP ? class_start : now };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), a->user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, a->pay == GYM_PAY_MEMBERSHIP ? &st_period : &st_lot, 2, p,
	    &r)) != GYM_OK)
		return e;
	e = PQntuples(r) == 0 ? GYM_E_NO_ENTITLEMENT : GYM_OK;
	gym_db_copy(r, 0, "id", id, len);
	PQclear(r);
	return e;
}

static enum gym_err
book_tx(struct gym_db *db, void *v)
{
	struct mbook_arg *a = v;
	char uid[24], sid[24], now[40], start[64], ent[24], rid[24], bid[24], extra[64] = "";
	const char *pc[3] = { sid, now, uid };
	const char *pi[7] = { uid, sid, rid, NULL, NULL, NULL, now };
	const char *pl[6] = { uid, ent, "consume", "-1", bid, now };
	struct gym_reservation h;
	PGresult *r;
	enum gym_err e;
	int open, booked, queued;

	gym__ll(uid, sizeof(uid), a->user_id);
	gym__ll(sid, sizeof(sid), a->schedule_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock_user, 1, pc + 2, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_class, 3, pc, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_E_SCHEDULE_NOT_FOUND;
	}
	e = strcmp(gym_db_get(r, 0, "kind"), "regular") != 0 ? GYM_E_WRONG_CLASS_KIND : GYM_OK;
	open = strcmp(gym_db_get(r, 0, "open"), "t") == 0;
	booked = strcmp(gym_db_get(r, 0, "booked"), "t") == 0;
	gym_db_copy(r, 0, "starts_at", start, sizeof(start));
	PQclear(r);
	if (e != GYM_OK)
		return e;
	if (!open)
		return GYM_E_SOLD_OUT;
	if (booked)
		return GYM_E_ALREADY_CONFIRMED;
	if ((e = entitlement(db, a, start, ent, sizeof(ent))) != GYM_OK)
		return e;
	/* parents wait for this class: its free seats are theirs (waitlist.h) */
	if ((e = gym__waitlist_queued(db, a->schedule_id, &queued)) != GYM_OK)
		return e;
	if (queued)
		return GYM_E_SOLD_OUT;
	if ((e = gym__expire_user_holds(db, a->actor, a->user_id)) != GYM_OK)
		return e;
	e = gym__hold_claim(db, a->actor, a->user_id, a->schedule_id,
	    gym_now_us() + 60 * (int64_t)1000000, &h);
	if (e == GYM_ECONFLICT)
		return GYM_E_ACTIVE_HOLD_EXISTS;	/* the parent's own trial hold */
	if (e != GYM_OK || (e = gym__hold_end(db, a->actor, h.id, GYM_HOLD_CONFIRMED,
	    NULL)) != GYM_OK)
		return e;
	gym__ll(rid, sizeof(rid), h.id);
	pi[3] = a->pay == GYM_PAY_MEMBERSHIP ? "membership" : "credits";
	pi[a->pay == GYM_PAY_MEMBERSHIP ? 4 : 5] = ent;
	if ((e = gym_db_exec(db, &st_insert, 7, pi, &r)) != GYM_OK)
		return e;
	a->booking_id = gym_db_get_ll(r, 0, "id");
	gym_db_copy(r, 0, "id", bid, sizeof(bid));
	PQclear(r);
	if (a->pay == GYM_PAY_CREDITS) {
		snprintf(extra, sizeof(extra), ",\"lot_id\":%s,\"delta\":-1", ent);
		if ((e = gym_db_exec(db, &st_ledger, 6, pl, NULL)) != GYM_OK)
			return e;
	}
	if ((e = load(db, &st_get, a, NULL)) != GYM_OK ||
	    (e = audit(db, a, "booking", "member_booking_confirmed", h.id, NULL, "confirmed",
	    "")) != GYM_OK)
		return e;
	return a->pay == GYM_PAY_CREDITS ?
	    audit(db, a, "credit", "credit_consumed", h.id, NULL, NULL, extra) : GYM_OK;
}

enum gym_err
gym_member_book(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long schedule_id, enum gym_member_pay pay, struct gym_member_booking *b)
{
	struct mbook_arg a = { actor, user_id, schedule_id, 0, pay, 0, b };

	memset(b, 0, sizeof(*b));
	return gym_db_tx(db, book_tx, &a);
}

static enum gym_err
cancel_tx(struct gym_db *db, void *v)
{
	struct mbook_arg *a = v;
	char uid[24], bid[24], now[40], rids[24], lot[24], extra[64] = "";
	const char *pu[1] = { uid };
	const char *pc[3] = { bid, now, "false" };
	const char *ph[2] = { rids, now };
	const char *pl[6] = { uid, lot, "return", "1", bid, now };
	long long rid;
	PGresult *r;
	enum gym_err e;
	int before, credits;

	gym__ll(uid, sizeof(uid), a->user_id);
	gym__ll(bid, sizeof(bid), a->booking_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lock_user, 1, pu, NULL)) != GYM_OK ||
	    (e = load(db, &st_lock, a, &r)) != GYM_OK)
		return e;
	rid = gym_db_get_ll(r, 0, "reservation_id");
	gym_db_copy(r, 0, "lot_id", lot, sizeof(lot));
	before = strcmp(gym_db_get(r, 0, "before_cutoff"), "t") == 0;
	e = strcmp(gym_db_get(r, 0, "not_started"), "t") == 0 ? GYM_OK : GYM_ECONFLICT;
	PQclear(r);
	if (strcmp(a->b->status, "confirmed") != 0)
		return GYM_OK;			/* cancelled before: as it is */
	if (e != GYM_OK)
		return e;
	credits = strcmp(a->b->pay_with, "credits") == 0;
	pc[2] = credits && before ? "true" : "false";
	gym__ll(rids, sizeof(rids), rid);
	if ((e = gym_db_exec(db, &st_cancel, 3, pc, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_hold_cancel, 2, ph, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) > 0) {
		const char *ps[2] = { gym_db_get(r, 0, "seat_id"), rids };

		e = gym_db_exec(db, &st_seat_free, 2, ps, NULL);
		/* the hold's own row, as a trial's cancel writes it (refunds.c) */
		if (e == GYM_OK)
			e = audit(db, a, "hold", "seat_released", rid, "confirmed", "cancelled", "");
	}
	PQclear(r);
	if (e != GYM_OK)
		return e;
	if (credits && before) {
		snprintf(extra, sizeof(extra), ",\"lot_id\":%s,\"delta\":1", lot);
		if ((e = gym_db_exec(db, &st_ledger, 6, pl, NULL)) != GYM_OK)
			return e;
	}
	if ((e = load(db, &st_get, a, NULL)) != GYM_OK ||
	    (e = audit(db, a, "booking", "member_booking_cancelled", rid, "confirmed", "cancelled",
	    credits ? (before ? ",\"credit\":\"returned\"" : ",\"credit\":\"spent\"") : "")) !=
	    GYM_OK)
		return e;
	return credits && before ?
	    audit(db, a, "credit", "credit_returned", rid, NULL, NULL, extra) : GYM_OK;
}

enum gym_err
gym_member_cancel(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long booking_id, int cutoff_s, struct gym_member_booking *b)
{
	struct mbook_arg a = { actor, user_id, 0, booking_id, GYM_PAY_MEMBERSHIP, cutoff_s, b };

	memset(b, 0, sizeof(*b));
	return gym_db_tx(db, cancel_tx, &a);
}

/* ---- the gym cancels a class ------------------------------------------------------------ */

/* The class's ($1; NULL: every cancelled class's) confirmed member bookings
 * end; each credit goes back whatever the cutoff (the gym cancelled). */
static struct gym_stmt st_class_cancel = { "mbook_class_cancel",
	"UPDATE member_bookings b SET status = 'cancelled', cancelled_at = $2::timestamptz, "
	"credit_returned = (b.pay_with = 'credits') WHERE b.status = 'confirmed' AND "
	"b.course_schedule_id IN (SELECT id FROM course_schedules WHERE cancelled_at IS NOT NULL "
	" AND ($1::bigint IS NULL OR id = $1::bigint)) "
	"RETURNING b.id, b.user_id, b.course_schedule_id, b.reservation_id, "
	"coalesce(b.lot_id, 0) AS lot_id, b.pay_with", 0 };

enum gym_err
gym__member_bookings_class_cancelled(struct gym_db *db, const struct gym_actor *actor,
    long long schedule_id, int *n)
{
	char sid[24], now[40], rid[24], lot[24], uid[24], bid[24], snap[240];
	const char *p[2] = { schedule_id != 0 ? sid : NULL, now };
	const char *ph[2] = { rid, now };
	const char *pl[6] = { uid, lot, "return", "1", bid, now };
	struct gym_audit au = { "booking", "member_booking_cancelled", NULL, 0, 0, "confirmed",
	    "cancelled", snap };
	PGresult *r, *h;
	enum gym_err e = GYM_OK;

	*n = 0;
	gym__ll(sid, sizeof(sid), schedule_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_class_cancel, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++, (*n)++) {
		int credits = strcmp(gym_db_get(r, i, "pay_with"), "credits") == 0;

		gym_db_copy(r, i, "reservation_id", rid, sizeof(rid));
		gym_db_copy(r, i, "lot_id", lot, sizeof(lot));
		gym_db_copy(r, i, "user_id", uid, sizeof(uid));
		gym_db_copy(r, i, "id", bid, sizeof(bid));
		if ((e = gym_db_exec(db, &st_hold_cancel, 2, ph, &h)) != GYM_OK)
			break;
		if (PQntuples(h) > 0) {
			const char *ps[2] = { gym_db_get(h, 0, "seat_id"), rid };
			struct gym_audit ah = { "hold", "seat_released", NULL,
			    gym_db_get_ll(r, i, "reservation_id"), 0, "confirmed", "cancelled", snap };

			snprintf(snap, sizeof(snap), "{\"reservation_id\":%s,\"course_schedule_id\":%s,"
			    "\"member_booking_id\":%s,\"status\":\"cancelled\"}", rid,
			    gym_db_get(r, i, "course_schedule_id"), bid);
			if ((e = gym_db_exec(db, &st_seat_free, 2, ps, NULL)) == GYM_OK)
				e = gym_audit_write(db, actor, &ah);
		}
		PQclear(h);
		if (e == GYM_OK && credits)
			e = gym_db_exec(db, &st_ledger, 6, pl, NULL);
		if (e != GYM_OK)
			break;
		snprintf(snap, sizeof(snap), "{\"member_booking_id\":%s,\"course_schedule_id\":%s,"
		    "\"reason\":\"class_cancelled\",\"credit\":\"%s\"}", bid,
		    gym_db_get(r, i, "course_schedule_id"), credits ? "returned" : "none");
		au.booking_id = gym_db_get_ll(r, i, "id");
		au.reservation_id = gym_db_get_ll(r, i, "reservation_id");
		e = gym_audit_write(db, actor, &au);
	}
	PQclear(r);
	return e;
}
