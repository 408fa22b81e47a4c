/*
 * payments.c: applying what WeChat says about a payment, exactly once per
 * transaction_id.  The order row is locked first, so notifications and
 * queries for one order are applied one at a time; a transaction already
 * recorded is a duplicate and changes nothing.  A payment for an order
 * that lapsed takes a free seat if there is one; with no seat, or for a
 * user who already has a trial, the order goes to 'refunding' with the
 * reason (attention_reason): an operator refunds it from the needs-attention
 * queue, or the refund job does at once (late_payment_refund = auto).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "extern.h"
#include "trial_sql.h"
#include "metrics.h"
#include "notify.h"
#include "products.h"

/* The order an out_trade_no ($1) belongs to: its attempt's, else (an
 * order never prepaid) the order of that id; resolved inside each
 * statement, so the attempt costs no round trip of its own. */
#define ORDER_OF_OTN \
	"coalesce((SELECT t.order_id FROM payment_attempts t WHERE t.out_trade_no = $1), $1)"
static struct gym_stmt st_attention = { "pay_order_attention",
	"UPDATE payment_orders SET attention_reason = $2 WHERE order_id = $1", 0 };
static struct gym_stmt st_lock = { "pay_order_lock",
	"SELECT o.id, o.order_id, o.user_id, o.course_schedule_id, o.status, o.amount_fen, "
	"o.reservation_id, "
	"coalesce(o.out_trade_no, o.order_id) AS out_trade_no, o.transaction_id, "
	"(extract(epoch FROM o.expires_at) * 1000000)::bigint AS expires_us, "
	"(extract(epoch FROM s.starts_at) * 1000000)::bigint AS class_starts_us, "
	"s.cancelled_at IS NOT NULL AS class_cancelled "
	"FROM payment_orders o LEFT JOIN course_schedules s ON s.id = o.course_schedule_id "
	"WHERE o.order_id = " ORDER_OF_OTN " FOR UPDATE OF o", 0 };
static struct gym_stmt st_seen = { "pay_txn_seen",
	"SELECT 1 FROM payment_transactions WHERE transaction_id = $1", 0 };
static struct gym_stmt st_seen_exact = { "pay_txn_seen_exact",
	"SELECT 1 FROM payment_transactions WHERE transaction_id = $2 AND order_id = "
	ORDER_OF_OTN " AND amount_fen = $3::int", 0 };
static struct gym_stmt st_other_trial = { "pay_other_trial",
	"SELECT " GYM_TRIAL_CLAIMED_SQL("$1::bigint", " AND order_id <> $2") " AS has", 0 };
static struct gym_stmt st_txn = { "pay_txn_insert",
	"INSERT INTO payment_transactions (transaction_id, order_id, trade_state, trade_type, "
	"amount_fen, payer_total, success_time, source, outcome, payload, created_at) VALUES "
	"($1, $2, $3, $4, $5::int, $6::int, $7::timestamptz, $8, $9, $10::jsonb, $11::timestamptz)", 0 };
/* The order paid, with its transaction and seat, in one update (every
 * order update is a new row version with index entries): $1 order, $2
 * transaction, $3 hold, $4 now, $5 the status it must still have. */
static struct gym_stmt st_paid = { "pay_order_paid",
	"UPDATE payment_orders SET status = 'paid', paid_at = $4::timestamptz, "
	"updated_at = $4::timestamptz, transaction_id = $2, reservation_id = $3::bigint, "
	"out_trade_no = $6 WHERE order_id = $1 AND status = $5", 0 };
static struct gym_stmt st_booking = { "pay_booking_insert",
	"INSERT INTO bookings (order_id, user_id, course_schedule_id, reservation_id, status, "
	"confirmed_at) VALUES ($1, $2::bigint, $3::bigint, $4::bigint, 'confirmed', $5::timestamptz) "
	"RETURNING id", 0 };

struct pay_arg {
	const struct gym_actor *actor;
	const struct gym_wx_txn *t;
	char outcome[24];
	enum gym_err result;
	long long user_id, schedule_id, reservation_id;
	enum gym_order_status status;
	enum gym_trade_state ts;	/* t->trade_state, parsed once */
	enum gym_txn_outcome txn;	/* what payment_transactions records */
	int64_t expires_at;
	int class_open;			/* not started, not cancelled */
	char order_id[33];		/* the order t->out_trade_no pays */
	int current;			/* t is the order's current (or paying) attempt */
	int paid_by_txn;		/* the order was paid by another transaction */
};

/* The snapshot is built with cJSON: transaction_id and out_trade_no come
 * from outside and must not be able to break (or add to) the JSON. */
static enum gym_err
audit_payment(struct gym_db *db, struct pay_arg *a, const char *action, const char *old,
    const char *new_status)
{
	struct gym_audit au = { "payment", action, a->order_id, 0, 0, old, new_status, NULL };
	cJSON *o = cJSON_CreateObject();
	char *snap = NULL;
	enum gym_err e = GYM_ENOMEM;

	if (o != NULL && cJSON_AddStringToObject(o, "order_id", a->order_id) != NULL &&
	    cJSON_AddStringToObject(o, "out_trade_no", a->t->out_trade_no) != NULL &&
	    cJSON_AddStringToObject(o, "transaction_id", a->t->transaction_id != NULL ?
	    a->t->transaction_id : "") != NULL &&
	    cJSON_AddStringToObject(o, "trade_state", a->t->trade_state) != NULL &&
	    cJSON_AddNumberToObject(o, "amount_fen", (double)a->t->total) != NULL &&
	    cJSON_AddStringToObject(o, "outcome", a->outcome) != NULL &&
	    (snap = cJSON_PrintUnformatted(o)) != NULL) {
		au.response_snapshot = snap;
		e = gym_audit_write(db, a->actor, &au);
	}
	cJSON_free(snap);
	cJSON_Delete(o);
	return e;
}

static enum gym_err
lock_order(struct gym_db *db, struct pay_arg *a, int *found)
{
	const char *p[1] = { a->t->out_trade_no };
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, &st_lock, 1, p, &r)) != GYM_OK)
		return e;
	if ((*found = PQntuples(r) > 0)) {
		gym_db_copy(r, 0, "order_id", a->order_id, sizeof(a->order_id));
		a->current = strcmp(gym_db_get(r, 0, "out_trade_no"), a->t->out_trade_no) == 0;
		a->paid_by_txn = !gym_db_isnull(r, 0, "transaction_id") &&
		    (a->t->transaction_id == NULL ||
		    strcmp(gym_db_get(r, 0, "transaction_id"), a->t->transaction_id) != 0);
		a->user_id = gym_db_get_ll(r, 0, "user_id");
		a->schedule_id = gym_db_get_ll(r, 0, "course_schedule_id");
		a->reservation_id = gym_db_get_ll(r, 0, "reservation_id");
		a->expires_at = gym_db_get_ll(r, 0, "expires_us");
		a->class_open = gym_db_get_ll(r, 0, "class_starts_us") > gym_now_us() &&
		    strcmp(gym_db_get(r, 0, "class_cancelled"), "t") != 0;
		if (!gym_order_status_parse(gym_db_get(r, 0, "status"), &a->status))
			e = GYM_EINTERNAL;
		if (gym_db_get_ll(r, 0, "amount_fen") != a->t->total)
			*found = -1;
	}
	PQclear(r);
	return e;
}

static enum gym_err
query_bool(struct gym_db *db, struct gym_stmt *st, int n, const char *const *p, int *out)
{
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, st, n, p, &r)) != GYM_OK)
		return e;
	*out = PQntuples(r) > 0 && (gym_db_get(r, 0, "has") == NULL ||
	    strcmp(gym_db_get(r, 0, "has"), "t") == 0);
	PQclear(r);
	return GYM_OK;
}

/* The seat the payment confirms: the order's live hold, or a free one. */
static enum gym_err
payment_seat(struct gym_db *db, struct pay_arg *a, long long *rid)
{
	struct gym_reservation h;
	enum gym_err e;
	int live = 0;

	/* a class that started or that the gym cancelled takes no payment
	 * (GYM_E_SOLD_OUT: the money goes back); read with the order's lock */
	if (!a->class_open)
		return GYM_E_SOLD_OUT;
	if (a->reservation_id != 0 &&
	    (e = gym__hold_lock(db, 0, a->reservation_id, &h, &live)) != GYM_OK)
		return e;
	if (live) {
		*rid = h.id;
		return GYM_OK;
	}
	if (a->reservation_id != 0 && h.status == GYM_HOLD_TEMPORARY &&
	    (e = gym__hold_end(db, a->actor, h.id, GYM_HOLD_EXPIRED, a->order_id)) != GYM_OK)
		return e;
	/* the user's own live hold on another schedule would block the claim */
	if ((e = gym__expire_user_holds(db, a->actor, a->user_id)) != GYM_OK)
		return e;
	if (gym_hold_find_live(db, a->user_id, &h, &live) == GYM_OK && live)
		if ((e = gym__hold_end(db, a->actor, h.id, GYM_HOLD_CANCELLED, NULL)) != GYM_OK)
			return e;
	e = gym__hold_claim(db, a->actor, a->user_id, a->schedule_id,
	    gym_now_us() + (int64_t)GYM_HOLD_SECONDS * 1000000, &h);
	if (e == GYM_OK)
		*rid = h.id;
	return e;
}

static enum gym_err
confirm(struct gym_db *db, struct pay_arg *a, long long rid)
{
	char rids[24], uid[24], sid[24], now[40], bid[24], snap[160], osnap[160];
	const char *old = gym_order_status_name(a->status);
	const char *pp[6] = { a->order_id, a->t->transaction_id, rids, now, old,
	    a->t->out_trade_no };
	const char *pb[5] = { a->order_id, uid, sid, rids, now };
	struct gym_audit au = { "booking", "booking_confirmed", a->order_id, rid, 0,
	    NULL, gym_booking_status_name(GYM_BOOKING_CONFIRMED), snap };
	struct gym_audit ao = { "order", "order_paid", a->order_id, rid, 0,
	    old, gym_order_status_name(GYM_ORDER_PAID), osnap };
	PGresult *r;
	enum gym_err e;

	gym__ll(rids, sizeof(rids), rid);
	gym__ll(uid, sizeof(uid), a->user_id);
	gym__ll(sid, sizeof(sid), a->schedule_id);
	gym_db_now_param(now, sizeof(now));
	snprintf(osnap, sizeof(osnap), "{\"order_id\":\"%s\",\"status\":\"paid\"}",
	    a->order_id);
	if ((e = gym__hold_end(db, a->actor, rid, GYM_HOLD_CONFIRMED, a->order_id)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_paid, 6, pp, &r)) != GYM_OK)
		return e;
	e = atoi(PQcmdTuples(r)) == 1 ? GYM_OK : GYM_ECONFLICT;	/* locked: cannot be 0 */
	PQclear(r);
	if (e != GYM_OK || (e = gym_audit_write(db, a->actor, &ao)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_booking, 5, pb, &r)) != GYM_OK)
		return e;
	au.booking_id = gym_db_get_ll(r, 0, "id");
	snprintf(bid, sizeof(bid), "%lld", au.booking_id);
	PQclear(r);
	snprintf(snap, sizeof(snap), "{\"booking_id\":%s,\"order_id\":\"%s\",\"status\":\"confirmed\"}",
	    bid, a->order_id);
	if ((e = gym_audit_write(db, a->actor, &au)) != GYM_OK)
		return e;
	return gym__notify_enqueue(db, a->actor, GYM_NOTIFY_BOOKING_CONFIRMED, a->order_id,
	    NULL);
}

/* What the transaction's row records, and so what the caller is told. */
static void
set_txn(struct pay_arg *a, enum gym_txn_outcome v)
{
	a->txn = v;
	snprintf(a->outcome, sizeof(a->outcome), "%s", gym_txn_outcome_name(v));
}

static enum gym_err
record_txn(struct gym_db *db, struct pay_arg *a)
{
	char total[24], payer[24], now[40];
	const char *p[11] = { a->t->transaction_id, a->order_id, a->t->trade_state,
	    a->t->trade_type, total, payer, a->t->success_time, a->t->source,
	    gym_txn_outcome_name(a->txn), a->t->payload ? a->t->payload : "{}", now };

	gym__ll(total, sizeof(total), a->t->total);
	gym__ll(payer, sizeof(payer), a->t->payer_total);
	gym_db_now_param(now, sizeof(now));
	return gym_db_exec(db, &st_txn, 11, p, NULL);
}

/*
 * A product order (no class): paid, then fulfilled in this transaction
 * (entitlements.c), late or not; an upgrade whose membership changed since
 * it was priced goes to the operators' needs-attention queue instead.
 */
static enum gym_err
apply_product(struct gym_db *db, struct pay_arg *a)
{
	char now[40], osnap[160];
	const char *old = gym_order_status_name(a->status);
	const char *pp[6] = { a->order_id, a->t->transaction_id, NULL, now, old,
	    a->t->out_trade_no };
	const char *pa[2] = { a->order_id, "upgrade_stale" };
	struct gym_audit ao = { "order", "order_paid", a->order_id, 0, 0,
	    old, gym_order_status_name(GYM_ORDER_PAID), osnap };
	PGresult *r;
	enum gym_err e;
	int stale = 0, was_pending = a->status == GYM_ORDER_PENDING;

	gym_db_now_param(now, sizeof(now));
	snprintf(osnap, sizeof(osnap), "{\"order_id\":\"%s\",\"status\":\"paid\"}",
	    a->order_id);
	if ((e = gym_db_exec(db, &st_paid, 6, pp, &r)) != GYM_OK)
		return e;
	e = atoi(PQcmdTuples(r)) == 1 ? GYM_OK : GYM_ECONFLICT;	/* locked: cannot be 0 */
	PQclear(r);
	/* paid, in the order's trail whatever follows (a stale upgrade's
	 * refunding next) */
	if (e != GYM_OK || (e = gym_audit_write(db, a->actor, &ao)) != GYM_OK ||
	    (e = gym__product_fulfil(db, a->actor, a->order_id, &stale)) != GYM_OK)
		return e;
	if (stale) {
		set_txn(a, GYM_TXN_LATE_REFUNDED);
		if ((e = gym__order_set_status(db, a->actor, a->order_id, GYM_ORDER_PAID,
		    GYM_ORDER_REFUNDING, "auto_refund_required")) != GYM_OK ||
		    (e = gym_db_exec(db, &st_attention, 2, pa, NULL)) != GYM_OK)
			return e;
	} else {
		set_txn(a, was_pending ? GYM_TXN_PAID : GYM_TXN_LATE_PAID);
		/* the parent is told what was bought and until when */
		if ((e = gym__notify_enqueue(db, a->actor, GYM_NOTIFY_PURCHASED, a->order_id,
		    NULL)) != GYM_OK)
			return e;
	}
	if ((e = record_txn(db, a)) != GYM_OK ||
	    (e = gym__attempt_end(db, a->actor, a->t->out_trade_no, GYM_ATTEMPT_PAID,
	    a->t->transaction_id, NULL, NULL)) != GYM_OK)
		return e;
	return audit_payment(db, a, "payment_received", old,
	    gym_order_status_name(stale ? GYM_ORDER_REFUNDING : GYM_ORDER_PAID));
}

static enum gym_err
apply_success(struct gym_db *db, struct pay_arg *a)
{
	char uid[24];
	const char *p[2] = { uid, a->order_id };
	const char *pt[1] = { a->t->transaction_id };
	enum gym_err e;
	long long rid = 0;
	const char *status = gym_order_status_name(a->status);
	int seen, other, was_pending = a->status == GYM_ORDER_PENDING;

	if ((e = query_bool(db, &st_seen, 1, pt, &seen)) != GYM_OK)
		return e;
	if (!seen && !a->current && a->paid_by_txn) {
		/* a second payment through another attempt of a paid order (its
		 * close came too late): kept and flagged for an operator */
		set_txn(a, GYM_TXN_UNAPPLIED);
		gym_log_errx("order %s was paid twice (attempt %s): needs an operator",
		    a->order_id, a->t->out_trade_no);
		if ((e = gym__attempt_end(db, a->actor, a->t->out_trade_no, GYM_ATTEMPT_PAID,
		    a->t->transaction_id, NULL, NULL)) != GYM_OK ||
		    (e = record_txn(db, a)) != GYM_OK)
			return e;
		return audit_payment(db, a, "payment_needs_attention", status, status);
	}
	if (seen || a->status == GYM_ORDER_PAID || a->status == GYM_ORDER_REFUNDING ||
	    a->status == GYM_ORDER_REFUNDED) {
		snprintf(a->outcome, sizeof(a->outcome), "duplicate");
		return GYM_OK;
	}
	if (a->schedule_id == 0)
		return apply_product(db, a);
	gym__ll(uid, sizeof(uid), a->user_id);
	if ((e = query_bool(db, &st_other_trial, 2, p, &other)) != GYM_OK)
		return e;
	if (!other && (e = payment_seat(db, a, &rid)) != GYM_OK && e != GYM_E_SOLD_OUT)
		return e;
	if (!other && e == GYM_OK) {
		set_txn(a, was_pending ? GYM_TXN_PAID : GYM_TXN_LATE_PAID);
		if ((e = confirm(db, a, rid)) != GYM_OK)
			return e;
	} else {
		/* the money goes back: by an operator from the needs-attention
		 * queue, or by the job (late_payment_refund, refund_job.c) */
		const char *pa[2] = { a->order_id, other ? "second_trial" : "late_no_seat" };

		set_txn(a, other ? GYM_TXN_DUPLICATE_REFUNDED : GYM_TXN_LATE_REFUNDED);
		if ((e = gym__order_set_status(db, a->actor, a->order_id, a->status,
		    GYM_ORDER_REFUNDING, "auto_refund_required")) != GYM_OK ||
		    (e = gym_db_exec(db, &st_attention, 2, pa, NULL)) != GYM_OK)
			return e;
	}
	if ((e = record_txn(db, a)) != GYM_OK ||
	    (e = gym__attempt_end(db, a->actor, a->t->out_trade_no, GYM_ATTEMPT_PAID,
	    a->t->transaction_id, NULL, NULL)) != GYM_OK)
		return e;
	return audit_payment(db, a, "payment_received", status, gym_order_status_name(
	    a->txn == GYM_TXN_PAID || a->txn == GYM_TXN_LATE_PAID ? GYM_ORDER_PAID :
	    GYM_ORDER_REFUNDING));
}

static enum gym_err
apply_tx(struct gym_db *db, void *v)
{
	struct pay_arg *a = v;
	char total[24];
	const char *ps[3] = { a->t->out_trade_no, a->t->transaction_id, total };
	enum gym_err e;
	int found;

	a->result = GYM_OK;
	a->outcome[0] = '\0';
	/* until the lock finds the order: what WeChat named, for the audit */
	snprintf(a->order_id, sizeof(a->order_id), "%.32s", a->t->out_trade_no);
	/* A transaction already recorded for this order and amount is a
	 * repeat: answered without the order's row lock, so WeChat's repeats
	 * neither queue behind each other nor cost a commit flush. */
	if (a->ts == GYM_TRADE_SUCCESS) {
		gym__ll(total, sizeof(total), a->t->total);
		if ((e = query_bool(db, &st_seen_exact, 3, ps, &found)) != GYM_OK)
			return e;
		if (found) {
			snprintf(a->outcome, sizeof(a->outcome), "duplicate");
			return GYM_OK;
		}
	}
	if ((e = lock_order(db, a, &found)) != GYM_OK)
		return e;
	if (found != 1) {
		/* unknown order or wrong amount: keep a trace, change nothing */
		snprintf(a->outcome, sizeof(a->outcome), "%s", found == 0 ? "unknown_order" :
		    "amount_mismatch");
		a->result = found == 0 ? GYM_ENOTFOUND : GYM_EINVAL;
		return audit_payment(db, a, "payment_rejected", NULL, NULL);
	}
	if (a->ts == GYM_TRADE_SUCCESS)
		return apply_success(db, a);
	if (a->ts == GYM_TRADE_PAYERROR || a->ts == GYM_TRADE_CLOSED ||
	    a->ts == GYM_TRADE_REVOKED) {
		snprintf(a->outcome, sizeof(a->outcome), "failed");
		if ((e = gym__attempt_end(db, a->actor, a->t->out_trade_no,
		    a->ts == GYM_TRADE_PAYERROR ? GYM_ATTEMPT_FAILED : GYM_ATTEMPT_CLOSED, NULL,
		    a->t->trade_state, a->t->trade_state_desc)) != GYM_OK)
			return e;
		/* only the order's current attempt decides it: a superseded one
		 * failing leaves the order payable through its successor */
		if (a->status != GYM_ORDER_PENDING || !a->current)
			return GYM_OK;
		if ((e = gym__order_set_status(db, a->actor, a->order_id, GYM_ORDER_PENDING,
		    GYM_ORDER_FAILED, "payment_failed")) != GYM_OK ||
		    (e = gym__notify_enqueue(db, a->actor, GYM_NOTIFY_PAYMENT_FAILED,
		    a->order_id, NULL)) != GYM_OK)
			return e;
		return a->reservation_id == 0 ? GYM_OK :
		    gym__hold_end(db, a->actor, a->reservation_id, GYM_HOLD_CANCELLED, a->order_id);
	}
	snprintf(a->outcome, sizeof(a->outcome), "pending");	/* NOTPAY, USERPAYING */
	return GYM_OK;
}

/* Shared counters for /metrics, once the outcome has committed. */
static void
count(const char *outcome)
{
	if (strcmp(outcome, "paid") == 0 || strcmp(outcome, "late_paid") == 0)
		gym_metrics_add("payments_paid", 1);
	else if (strcmp(outcome, "failed") == 0)
		gym_metrics_add("payments_failed", 1);
	else if (strcmp(outcome, "duplicate") == 0)
		gym_metrics_add("notify_duplicate", 1);
}

enum gym_err
gym_payment_apply(struct gym_db *db, const struct gym_actor *actor, const struct gym_wx_txn *t,
    char *outcome, size_t outcome_len)
{
	struct pay_arg a;
	enum gym_err e;

	memset(&a, 0, sizeof(a));
	a.actor = actor;
	a.t = t;
	/* a state this code does not act on (NOTPAY, USERPAYING, one WeChat
	 * adds later) leaves the order as it is, as NOTPAY does */
	if (!gym_trade_state_parse(t->trade_state, &a.ts))
		a.ts = GYM_TRADE_NOTPAY;
	if (t->out_trade_no == NULL || t->trade_state == NULL ||
	    (a.ts == GYM_TRADE_SUCCESS && (t->transaction_id == NULL ||
	    *t->transaction_id == '\0')))
		return GYM_EINVAL;
	if ((e = gym_db_tx(db, apply_tx, &a)) != GYM_OK)
		return e;
	snprintf(outcome, outcome_len, "%s", a.outcome);
	count(a.outcome);
	return a.result;
}
