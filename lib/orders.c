/*
 * orders.c: payment_orders, the fixed-price trial-class order.  An order
 * is created with its hold in one transaction, is pending for 30 minutes,
 * and needs a live hold to be paid.  The one-trial rule lives in the
 * database (payment_orders_one_trial, bookings_one_trial); the checks here
 * only choose the right answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "extern.h"
#include "log.h"
#include "registration.h"
#include "notify.h"

#define ORDER_SELECT \
	"SELECT o.id, o.order_id, o.user_id, o.course_schedule_id, o.status, o.amount_fen, " \
	"(extract(epoch FROM o.expires_at) * 1000000)::bigint AS expires_us, " \
	"(extract(epoch FROM o.paid_at) * 1000000)::bigint AS paid_us, " \
	"(extract(epoch FROM o.created_at) * 1000000)::bigint AS created_us, " \
	"(extract(epoch FROM o.wx_time_expire) * 1000000)::bigint AS wx_expire_us, " \
	"o.reservation_id, o.trade_type, o.prepay_id, o.code_url, o.transaction_id, " \
	"o.payment_method, coalesce(o.out_trade_no, o.order_id) AS out_trade_no, o.product_id, " \
	"b.id AS booking_id, r.status AS res_status, " \
	"(extract(epoch FROM r.expires_at) * 1000000)::bigint AS res_expires_us " \
	"FROM payment_orders o LEFT JOIN seat_reservations r ON r.id = o.reservation_id " \
	"LEFT JOIN bookings b ON b.order_id = o.order_id " \
	"WHERE o.order_id = $1 AND ($2::bigint = 0 OR o.user_id = $2::bigint) "

static struct gym_stmt st_get = { "order_get", ORDER_SELECT, 0 };
static struct gym_stmt st_lock = { "order_lock", ORDER_SELECT "FOR UPDATE OF o", 0 };
static struct gym_stmt st_open = { "order_open_of_user",
	"SELECT order_id, course_schedule_id FROM payment_orders "
	"WHERE user_id = $1::bigint AND status = 'pending' AND course_schedule_id IS NOT NULL", 0 };
static struct gym_stmt st_insert = { "order_insert",
	"INSERT INTO payment_orders (order_id, user_id, course_schedule_id, reservation_id, "
	"amount_fen, status, expires_at, created_at, updated_at, product_id) VALUES ($1, $2::bigint, "
	"$3::bigint, $4::bigint, 20000, 'pending', $5::timestamptz, $6::timestamptz, "
	"$6::timestamptz, (SELECT id FROM products WHERE kind = 'trial'))", 0 };
static struct gym_stmt st_set_status = { "order_set_status",
	"UPDATE payment_orders SET status = $3, updated_at = $4::timestamptz, "
	"paid_at = CASE WHEN $3 = 'paid' THEN $4::timestamptz ELSE paid_at END "
	"WHERE order_id = $1 AND status = $2 RETURNING reservation_id", 0 };
static struct gym_stmt st_lapsed = { "order_user_lapsed",
	"SELECT order_id, reservation_id FROM payment_orders WHERE user_id = $1::bigint "
	"AND status = 'pending' AND expires_at <= $2::timestamptz FOR UPDATE", 0 };
static struct gym_stmt st_set_hold = { "order_set_hold",
	"UPDATE payment_orders SET reservation_id = $2::bigint, updated_at = $3::timestamptz "
	"WHERE order_id = $1", 0 };
static struct gym_stmt st_prepay = { "order_record_prepay",
	"UPDATE payment_orders SET trade_type = $2, prepay_id = coalesce($3, prepay_id), "
	"code_url = coalesce($4, code_url), prepay_at = $5::timestamptz, "
	"wx_time_expire = coalesce(wx_time_expire, $6::timestamptz), updated_at = $5::timestamptz, "
	"out_trade_no = $7, wx_closed_at = NULL, payment_method = coalesce($8, payment_method) "
	"WHERE order_id = $1 AND status = 'pending'", 0 };
/* The attempt of a prepay: new, or the same out_trade_no asked again. */
static struct gym_stmt st_attempt = { "order_attempt_upsert",
	"INSERT INTO payment_attempts AS t (order_id, channel, trade_type, out_trade_no, state, "
	"prepay_id, code_url, time_expire, created_at, updated_at) "
	"SELECT $1, coalesce($8, o.payment_method), $2, $7, 'open', $3, $4, $6::timestamptz, "
	"$5::timestamptz, "
	"$5::timestamptz FROM payment_orders o WHERE o.order_id = $1 "
	"ON CONFLICT (out_trade_no) DO UPDATE SET prepay_id = coalesce(EXCLUDED.prepay_id, "
	"t.prepay_id), code_url = coalesce(EXCLUDED.code_url, t.code_url), "
	"updated_at = EXCLUDED.updated_at WHERE t.state = 'open' RETURNING (xmax = 0) AS created", 0 };
static struct gym_stmt st_booking = { "booking_of_order",
	"SELECT id, order_id, course_schedule_id, status, "
	"(extract(epoch FROM confirmed_at) * 1000000)::bigint AS confirmed_us "
	"FROM bookings WHERE order_id = $1", 0 };

enum gym_err
gym__read_order(PGresult *r, int i, struct gym_order *o)
{
	const char *st = gym_db_get(r, i, "status");

	memset(o, 0, sizeof(*o));
	o->id = gym_db_get_ll(r, i, "id");
	gym_db_copy(r, i, "order_id", o->order_id, sizeof(o->order_id));
	o->user_id = gym_db_get_ll(r, i, "user_id");
	o->schedule_id = gym_db_get_ll(r, i, "course_schedule_id");
	o->amount_fen = (int)gym_db_get_ll(r, i, "amount_fen");
	o->expires_at = gym_db_get_ll(r, i, "expires_us");
	o->paid_at = gym_db_get_ll(r, i, "paid_us");
	o->created_at = gym_db_get_ll(r, i, "created_us");
	o->wx_time_expire = gym_db_get_ll(r, i, "wx_expire_us");
	o->booking_id = gym_db_get_ll(r, i, "booking_id");
	gym_db_copy(r, i, "trade_type", o->trade_type, sizeof(o->trade_type));
	gym_db_copy(r, i, "prepay_id", o->prepay_id, sizeof(o->prepay_id));
	gym_db_copy(r, i, "code_url", o->code_url, sizeof(o->code_url));
	gym_db_copy(r, i, "transaction_id", o->transaction_id, sizeof(o->transaction_id));
	gym_db_copy(r, i, "payment_method", o->payment_method, sizeof(o->payment_method));
	gym_db_copy(r, i, "out_trade_no", o->out_trade_no, sizeof(o->out_trade_no));
	gym_db_copy(r, i, "attention_reason", o->attention_reason, sizeof(o->attention_reason));
	o->product_id = gym_db_get_ll(r, i, "product_id");
	if (!gym_db_isnull(r, i, "reservation_id")) {
		o->has_reservation = 1;
		o->res.id = gym_db_get_ll(r, i, "reservation_id");
		o->res.schedule_id = o->schedule_id;
		o->res.user_id = o->user_id;
		o->res.expires_at = gym_db_get_ll(r, i, "res_expires_us");
		if (!gym_hold_status_parse(gym_db_get(r, i, "res_status"), &o->res.status))
			st = NULL;
	}
	if (st == NULL || !gym_order_status_parse(st, &o->status)) {
		gym_log_errx("order %s: unknown status", o->order_id);
		return GYM_EINTERNAL;
	}
	return GYM_OK;
}

static enum gym_err
load(struct gym_db *db, struct gym_stmt *st, long long user_id, const char *order_id,
    struct gym_order *o)
{
	char uid[24];
	const char *p[2] = { order_id, uid };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), user_id);
	if ((e = gym_db_exec(db, st, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_ENOTFOUND;
	else
		e = gym__read_order(r, 0, o);
	PQclear(r);
	return e;
}

static int
order_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 6 || n > 32)
		return 0;
	return strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == n;
}

enum gym_err
gym_order_get(struct gym_db *db, long long user_id, const char *order_id, struct gym_order *o)
{
	enum gym_err e;

	if (!order_id_valid(order_id))
		return GYM_ENOTFOUND;
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	return load(db, &st_get, user_id, order_id, o);
}

enum gym_err
gym__order_set_status(struct gym_db *db, const struct gym_actor *a, const char *order_id,
    enum gym_order_status old, enum gym_order_status new, const char *action)
{
	char now[40], snap[160], rid[24] = "";
	const char *old_status = gym_order_status_name(old), *new_status = gym_order_status_name(new);
	const char *p[4] = { order_id, old_status, new_status, now };
	struct gym_audit au = { "order", action, order_id, 0, 0, old_status, new_status, snap };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_set_status, 4, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ECONFLICT;
	}
	au.reservation_id = gym_db_get_ll(r, 0, "reservation_id");
	gym_db_copy(r, 0, "reservation_id", rid, sizeof(rid));
	PQclear(r);
	snprintf(snap, sizeof(snap), "{\"order_id\":\"%s\",\"status\":\"%s\"}", order_id, new_status);
	return gym_audit_write(db, a, &au);
}

/* End an order (expired, cancelled, failed) and release its hold. */
static enum gym_err
order_end(struct gym_db *db, const struct gym_actor *a, const char *order_id,
    long long reservation_id, enum gym_order_status status, const char *action)
{
	enum gym_err e;

	if ((e = gym__order_set_status(db, a, order_id, GYM_ORDER_PENDING, status,
	    action)) != GYM_OK)
		return e;
	if (reservation_id == 0)
		return GYM_OK;
	return gym__hold_end(db, a, reservation_id,
	    status == GYM_ORDER_EXPIRED ? GYM_HOLD_EXPIRED : GYM_HOLD_CANCELLED, order_id);
}

enum gym_err
gym__expire_user_orders(struct gym_db *db, const struct gym_actor *a, long long user_id)
{
	char uid[24], now[40];
	const char *p[2] = { uid, now };
	PGresult *r;
	enum gym_err e = GYM_OK;

	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_lapsed, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; e == GYM_OK && i < PQntuples(r); i++)
		if ((e = order_end(db, a, gym_db_get(r, i, "order_id"),
		    gym_db_get_ll(r, i, "reservation_id"), GYM_ORDER_EXPIRED,
		    "order_expired")) == GYM_OK)
			e = gym__notify_enqueue(db, a, GYM_NOTIFY_ORDER_EXPIRED,
			    gym_db_get(r, i, "order_id"), NULL);
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
gym__new_order_id(char *out, size_t len)
{
	char rnd[13], day[40];
	enum gym_err e;

	if ((e = gym_random_alnum(rnd, 12)) != GYM_OK)
		return e;
	gym_time_format_cst(gym_now_us(), day, sizeof(day));
	/* GYM + yyyymmdd (China time) + 12 random: 23 out_trade_no-safe chars */
	snprintf(out, len, "GYM%.4s%.2s%.2s%s", day, day + 5, day + 8, rnd);
	return GYM_OK;
}

struct create_arg {
	const struct gym_actor *actor;
	long long user_id, schedule_id, reservation_id;
	const struct gym_pii_keys *keys;
	const struct gym_registration *reg;
	struct gym_order *o;
	int created;
};

/* The hold the new order takes: the given one, the user's live hold on
 * this schedule, or a freshly claimed seat. */
static enum gym_err
order_hold(struct gym_db *db, struct create_arg *a, long long *rid)
{
	struct gym_reservation h;
	enum gym_err e;
	int live, queued;

	if (a->reservation_id != 0) {
		if ((e = gym__hold_lock(db, a->user_id, a->reservation_id, &h, &live)) != GYM_OK)
			return e;
		if (h.schedule_id != a->schedule_id)
			return GYM_EINVAL;
		if (live) {
			*rid = h.id;
			return GYM_OK;
		}
	}
	if ((e = gym_hold_find_live(db, a->user_id, &h, &live)) != GYM_OK)
		return e;
	if (live && h.schedule_id != a->schedule_id)
		return GYM_E_ACTIVE_HOLD_EXISTS;
	/* parents wait for this class: its free seats are theirs (waitlist.h) */
	if (!live && ((e = gym__waitlist_queued(db, a->schedule_id, &queued)) != GYM_OK || queued))
		return e != GYM_OK ? e : GYM_E_SOLD_OUT;
	if (!live && (e = gym__hold_claim(db, a->actor, a->user_id, a->schedule_id,
	    gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000, &h)) != GYM_OK)
		return e;
	*rid = h.id;
	return GYM_OK;
}

enum gym_err
gym__user_open_order(struct gym_db *db, long long user_id, long long *schedule_id, int *found)
{
	char uid[24];
	const char *p[1] = { uid };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), user_id);
	if ((e = gym_db_exec(db, &st_open, 1, p, &r)) != GYM_OK)
		return e;
	if ((*found = PQntuples(r) > 0))
		*schedule_id = gym_db_get_ll(r, 0, "course_schedule_id");
	PQclear(r);
	return GYM_OK;
}

/* The user's open order, if any (*found): loaded into a->o when it is
 * for this schedule, GYM_E_ACTIVE_HOLD_EXISTS when for another. */
static enum gym_err
open_order(struct gym_db *db, struct create_arg *a, int *found)
{
	char uid[24];
	const char *p[1] = { uid };
	PGresult *r;
	enum gym_err e;

	gym__ll(uid, sizeof(uid), a->user_id);
	if ((e = gym_db_exec(db, &st_open, 1, p, &r)) != GYM_OK)
		return e;
	if ((*found = PQntuples(r) > 0) == 0) {
		PQclear(r);
		return GYM_OK;
	}
	gym_db_copy(r, 0, "order_id", a->o->order_id, sizeof(a->o->order_id));
	e = gym_db_get_ll(r, 0, "course_schedule_id") == a->schedule_id ? GYM_OK :
	    GYM_E_ACTIVE_HOLD_EXISTS;
	PQclear(r);
	a->created = 0;
	return e != GYM_OK ? e : load(db, &st_get, a->user_id, a->o->order_id, a->o);
}

static enum gym_err
create_tx(struct gym_db *db, void *v)
{
	struct create_arg *a = v;
	char uid[24], sid[24], rids[24], exp[40], now[40];
	const char *p[6] = { a->o->order_id, uid, sid, rids, exp, now };
	enum gym_err e;
	long long rid = 0;
	int has, found;

	if ((e = gym__schedule_open(db, a->schedule_id)) != GYM_OK ||
	    (e = gym__user_has_trial(db, a->user_id, &has)) != GYM_OK)
		return e;
	if (has)
		return GYM_E_TRIAL_ALREADY_BOOKED;
	if ((e = gym__expire_user(db, a->actor, a->user_id)) != GYM_OK)
		return e;
	gym__ll(uid, sizeof(uid), a->user_id);
	if ((e = open_order(db, a, &found)) != GYM_OK || found)
		return e;
	if ((e = order_hold(db, a, &rid)) == GYM_E_SOLD_OUT) {
		/* the last seat may have gone to a concurrent create of this same
		 * user, committed while we waited for it: answer with its order */
		if ((e = open_order(db, a, &found)) != GYM_OK || found)
			return e;
		return GYM_E_SOLD_OUT;
	}
	if (e != GYM_OK)
		return e == GYM_ECONFLICT ? GYM_ERETRY : e;
	if ((e = gym__new_order_id(a->o->order_id, sizeof(a->o->order_id))) != GYM_OK)
		return e;
	gym__ll(sid, sizeof(sid), a->schedule_id);
	gym__ll(rids, sizeof(rids), rid);
	gym_db_now_param(now, sizeof(now));
	gym_time_format(gym_now_us() + (int64_t)GYM_ORDER_SECONDS * 1000000, exp, sizeof(exp));
	if ((e = gym_db_exec(db, &st_insert, 6, p, NULL)) != GYM_OK)
		/* a concurrent create of the same user won the index: rerun */
		return e == GYM_ECONFLICT ? GYM_ERETRY : e;
	if (a->reg != NULL && (e = gym__registration_insert(db, a->keys, a->actor,
	    a->o->order_id, a->reg)) != GYM_OK)
		return e;
	a->created = 1;
	{
		char snap[200];
		struct gym_audit au = { "order", "order_created", a->o->order_id, rid, 0,
		    NULL, "pending", snap };

		snprintf(snap, sizeof(snap), "{\"order_id\":\"%s\",\"status\":\"pending\","
		    "\"amount_fen\":20000,\"course_schedule_id\":%lld}", a->o->order_id,
		    a->schedule_id);
		if ((e = gym_audit_write(db, a->actor, &au)) != GYM_OK)
			return e;
	}
	return load(db, &st_get, a->user_id, a->o->order_id, a->o);
}

enum gym_err
gym_order_create(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    long long schedule_id, long long reservation_id, const struct gym_pii_keys *keys,
    const struct gym_registration *reg, struct gym_order *o, int *created)
{
	struct create_arg a = { actor, user_id, schedule_id, reservation_id, keys, reg, o, 0 };
	enum gym_err e;

	if ((e = gym_db_tx(db, create_tx, &a)) == GYM_OK)
		*created = a.created;
	return e;
}

struct cancel_arg {
	const struct gym_actor *actor;
	long long user_id;
	const char *order_id;
	struct gym_order *o;
	enum gym_err result;	/* committed, then returned */
};

static enum gym_err
cancel_tx(struct gym_db *db, void *v)
{
	struct cancel_arg *a = v;
	enum gym_err e;

	if ((e = load(db, &st_lock, a->user_id, a->order_id, a->o)) != GYM_OK)
		return e;
	if (a->o->status == GYM_ORDER_PAID || a->o->status == GYM_ORDER_REFUNDING ||
	    a->o->status == GYM_ORDER_REFUNDED)
		return GYM_E_ORDER_ALREADY_PAID;
	if (a->o->status != GYM_ORDER_PENDING)
		return GYM_OK;		/* already ended: answer with its status */
	if ((e = order_end(db, a->actor, a->order_id, a->o->has_reservation ? a->o->res.id : 0,
	    GYM_ORDER_CANCELLED, "order_cancelled")) != GYM_OK ||
	    (e = gym__notify_enqueue(db, a->actor, GYM_NOTIFY_ORDER_CANCELLED, a->order_id,
	    NULL)) != GYM_OK)
		return e;
	return load(db, &st_get, a->user_id, a->order_id, a->o);
}

enum gym_err
gym__order_end_class_cancelled(struct gym_db *db, const struct gym_actor *actor,
    const char *order_id, long long reservation_id, const char *reason)
{
	enum gym_err e;

	if ((e = order_end(db, actor, order_id, reservation_id, GYM_ORDER_CANCELLED,
	    "order_cancelled")) != GYM_OK)
		return e;
	return gym__notify_enqueue(db, actor, GYM_NOTIFY_CLASS_CANCELLED, order_id, reason);
}

enum gym_err
gym_order_cancel(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    const char *order_id, struct gym_order *o)
{
	struct cancel_arg a = { actor, user_id, order_id, o, GYM_OK };

	if (!order_id_valid(order_id))
		return GYM_ENOTFOUND;
	return gym_db_tx(db, cancel_tx, &a);
}

static enum gym_err
fail_tx(struct gym_db *db, void *v)
{
	struct cancel_arg *a = v;
	enum gym_err e;

	if ((e = load(db, &st_lock, 0, a->order_id, a->o)) != GYM_OK)
		return e;
	if (a->o->status != GYM_ORDER_PENDING)
		return GYM_OK;
	if ((e = order_end(db, a->actor, a->order_id, a->o->has_reservation ? a->o->res.id : 0,
	    GYM_ORDER_FAILED, "order_failed")) != GYM_OK)
		return e;
	return gym__notify_enqueue(db, a->actor, GYM_NOTIFY_PAYMENT_FAILED, a->order_id, NULL);
}

enum gym_err
gym_order_fail(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    const char *reason)
{
	struct gym_order o;
	struct cancel_arg a = { actor, 0, order_id, &o, GYM_OK };

	(void)reason;
	return gym_db_tx(db, fail_tx, &a);
}

/* The hold a payment needs: the order's live hold, or a re-claimed seat for
 * at most the order's remaining time.  No seat: the order fails, and the
 * failure commits (a->result carries SOLD_OUT out of the transaction). */
static enum gym_err
ensure_hold(struct gym_db *db, struct cancel_arg *a)
{
	struct gym_reservation h;
	char rids[24], now[40];
	const char *p[3] = { a->order_id, rids, now };
	int64_t until;
	enum gym_err e;
	int live = 0;

	if (a->o->schedule_id == 0)
		return GYM_OK;		/* a product order: no seat to hold */
	if (a->o->has_reservation &&
	    (e = gym__hold_lock(db, 0, a->o->res.id, &h, &live)) != GYM_OK)
		return e;
	if (live)
		return GYM_OK;
	if (a->o->has_reservation && h.status == GYM_HOLD_TEMPORARY &&
	    (e = gym__hold_end(db, a->actor, h.id, GYM_HOLD_EXPIRED, a->order_id)) != GYM_OK)
		return e;
	until = gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000;
	if (until > a->o->expires_at)
		until = a->o->expires_at;
	e = gym__hold_claim(db, a->actor, a->o->user_id, a->o->schedule_id, until, &h);
	if (e == GYM_E_SOLD_OUT) {
		a->result = GYM_E_SOLD_OUT;
		return gym__order_set_status(db, a->actor, a->order_id, GYM_ORDER_PENDING, GYM_ORDER_FAILED,
		    "order_failed_sold_out");
	}
	if (e != GYM_OK)
		return e;
	gym__ll(rids, sizeof(rids), h.id);
	gym_db_now_param(now, sizeof(now));
	return gym_db_exec(db, &st_set_hold, 3, p, NULL);
}

static enum gym_err
prepare_tx(struct gym_db *db, void *v)
{
	struct cancel_arg *a = v;
	enum gym_err e;

	a->result = GYM_OK;
	if ((e = load(db, &st_lock, a->user_id, a->order_id, a->o)) != GYM_OK)
		return e;
	if (a->o->status != GYM_ORDER_PENDING) {
		a->result = a->o->status == GYM_ORDER_PAID ? GYM_E_ORDER_ALREADY_PAID :
		    GYM_E_ORDER_NOT_PAYABLE;
		return GYM_OK;
	}
	if (a->o->expires_at <= gym_now_us()) {
		a->result = GYM_E_ORDER_NOT_PAYABLE;
		return order_end(db, a->actor, a->order_id, a->o->has_reservation ?
		    a->o->res.id : 0, GYM_ORDER_EXPIRED, "order_expired");
	}
	if ((e = ensure_hold(db, a)) != GYM_OK || a->result != GYM_OK)
		return e;
	return load(db, &st_get, a->user_id, a->order_id, a->o);
}

enum gym_err
gym_order_prepare_pay(struct gym_db *db, const struct gym_actor *actor, long long user_id,
    const char *order_id, struct gym_order *o)
{
	struct cancel_arg a = { actor, user_id, order_id, o, GYM_OK };
	enum gym_err e;

	if (!order_id_valid(order_id))
		return GYM_ENOTFOUND;
	if ((e = gym_db_tx(db, prepare_tx, &a)) != GYM_OK)
		return e;
	return a.result;
}

struct prepay_arg {
	const struct gym_actor *actor;
	const char *order_id, *trade_type, *prepay_id, *code_url, *out_trade_no;
	int64_t time_expire;
	const char *channel;
};

static enum gym_err
prepay_tx(struct gym_db *db, void *v)
{
	struct prepay_arg *a = v;
	char now[40], te[40], snap[200];
	const char *p[8] = { a->order_id, a->trade_type, a->prepay_id, a->code_url, now, te,
	    a->out_trade_no, a->channel };
	struct gym_audit au = { "payment", "prepay_created", a->order_id, 0, 0, "pending",
	    "pending", snap };
	struct gym_audit at = { "attempt", "attempt_opened", a->order_id, 0, 0, NULL, "open",
	    snap };
	PGresult *r;
	enum gym_err e;
	int created;

	gym_db_now_param(now, sizeof(now));
	gym_time_format(a->time_expire, te, sizeof(te));
	snprintf(snap, sizeof(snap), "{\"order_id\":\"%s\",\"out_trade_no\":\"%s\","
	    "\"trade_type\":\"%s\"}", a->order_id, a->out_trade_no, a->trade_type);
	if ((e = gym_db_exec(db, &st_prepay, 8, p, NULL)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_attempt, 8, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_ECONFLICT;		/* the attempt ended meanwhile */
	created = e == GYM_OK && strcmp(gym_db_get(r, 0, "created"), "t") == 0;
	PQclear(r);
	if (e != GYM_OK || (created && (e = gym_audit_write(db, a->actor, &at)) != GYM_OK))
		return e;
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_order_record_prepay(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    const char *out_trade_no, const char *trade_type, const char *prepay_id,
    const char *code_url, int64_t time_expire)
{
	return gym_order_record_prepay_on(db, actor, order_id, NULL, out_trade_no, trade_type,
	    prepay_id, code_url, time_expire);
}

enum gym_err
gym_order_record_prepay_on(struct gym_db *db, const struct gym_actor *actor,
    const char *order_id, const char *channel, const char *out_trade_no,
    const char *trade_type, const char *prepay_id, const char *code_url, int64_t time_expire)
{
	struct prepay_arg a = { actor, order_id, trade_type, prepay_id, code_url, out_trade_no,
	    time_expire, channel };

	return gym_db_tx(db, prepay_tx, &a);
}

enum gym_err
gym_booking_get(struct gym_db *db, long long user_id, const char *order_id,
    struct gym_booking *b)
{
	struct gym_order o;
	const char *p[1] = { order_id };
	PGresult *r;
	enum gym_err e;

	if ((e = gym_order_get(db, user_id, order_id, &o)) != GYM_OK)
		return e;
	if (o.status == GYM_ORDER_PENDING)
		return GYM_E_PAYMENT_PENDING;
	if ((e = gym_db_exec(db, &st_booking, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_E_ORDER_NOT_PAYABLE;
	else {
		b->id = gym_db_get_ll(r, 0, "id");
		gym_db_copy(r, 0, "order_id", b->order_id, sizeof(b->order_id));
		b->schedule_id = gym_db_get_ll(r, 0, "course_schedule_id");
		b->confirmed_at = gym_db_get_ll(r, 0, "confirmed_us");
		if (!gym_booking_status_parse(gym_db_get(r, 0, "status"), &b->status))
			e = GYM_EINTERNAL;
	}
	PQclear(r);
	return e;
}
