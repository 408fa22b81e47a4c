/*
 * product_refunds.c: an operator's refund of a membership or class pack
 * order, in full or in part (products.h).  The request is recorded under the
 * order's row lock (the same lock order as refunds.c: order, then refund),
 * so the refunds that succeeded, the one in flight and this one are counted
 * together and never pass what was paid.  Sending, notifications, queries
 * and the job are refunds.c's, unchanged; the reversal of the entitlement
 * happens when a refund succeeds (gym__product_refunded).
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "products.h"
#include "refunds.h"

static struct gym_stmt st_lock = { "prefund_order_lock",
	"SELECT o.status, o.amount_fen, o.course_schedule_id IS NULL AS product, "
	"(o.transaction_id IS NOT NULL) AS paid_at_channel, "
	"(SELECT coalesce(sum(f.amount_fen), 0) FROM refunds f WHERE f.order_id = o.order_id "
	" AND f.status = 'success') AS refunded "
	"FROM payment_orders o WHERE o.order_id = $1 FOR UPDATE", 0 };
static struct gym_stmt st_flight = { "prefund_in_flight",
	"SELECT id, coalesce(operator_id, 0) AS operator_id, reason, amount_fen FROM refunds "
	"WHERE order_id = $1 AND status IN ('pending', 'processing', 'abnormal') FOR UPDATE", 0 };
static struct gym_stmt st_next = { "prefund_next_attempt",
	"SELECT coalesce(max(attempt), 0) + 1 AS next FROM refunds WHERE order_id = $1", 0 };
static struct gym_stmt st_insert = { "prefund_insert",
	"INSERT INTO refunds (out_refund_no, order_id, attempt, amount_fen, reason, initiated_by, "
	"operator_id, order_status_before, status, created_at, updated_at) VALUES ($1, $2, "
	"$3::int, $4::int, $5, 'operator', $6::bigint, $7, 'pending', $8::timestamptz, "
	"$8::timestamptz) RETURNING id", 0 };
/* The unused share's worth: the period's time left, or the lot's credits left. */
static struct gym_stmt st_unused = { "prefund_unused",
	"SELECT o.amount_fen, (SELECT coalesce(sum(f.amount_fen), 0) FROM refunds f "
	" WHERE f.order_id = o.order_id AND f.status = 'success') AS refunded, "
	"coalesce((SELECT floor(o.amount_fen * greatest(0, extract(epoch FROM m.ends_at - "
	"  greatest(m.starts_at, $2::timestamptz))) / extract(epoch FROM m.ends_at - m.starts_at)) "
	"  FROM membership_periods m WHERE m.order_id = o.order_id AND m.status = 'active'), "
	" (SELECT o.amount_fen * (SELECT coalesce(sum(c.delta), 0) FROM credit_ledger c "
	"  WHERE c.lot_id = l.id) / l.credits FROM credit_lots l WHERE l.order_id = o.order_id "
	"  AND l.expires_at > $2::timestamptz), 0)::bigint AS unused "
	"FROM payment_orders o WHERE o.order_id = $1 AND o.course_schedule_id IS NULL", 0 };

struct prefund_arg {
	const struct gym_actor *actor;
	const char *order_id, *reason;
	long long amount_fen, operator_id, id;
	int created;
};

static enum gym_err
request_tx(struct gym_db *db, void *v)
{
	struct prefund_arg *a = v;
	char no[72], attempt[16], amt[24], op[24], now[40], status[16], snap[300];
	const char *p1[1] = { a->order_id };
	const char *pi[8] = { no, a->order_id, attempt, amt, a->reason, op, status, now };
	struct gym_audit au = { "refund", "refund_requested", a->order_id, 0, 0, NULL, "pending",
	    snap };
	long long amount, refunded, want;
	PGresult *r;
	enum gym_err e;
	int product, paid, next;

	a->created = 0;
	a->id = 0;
	if ((e = gym_db_exec(db, &st_lock, 1, p1, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	gym_db_copy(r, 0, "status", status, sizeof(status));
	amount = gym_db_get_ll(r, 0, "amount_fen");
	refunded = gym_db_get_ll(r, 0, "refunded");
	product = strcmp(gym_db_get(r, 0, "product"), "t") == 0;
	paid = strcmp(gym_db_get(r, 0, "paid_at_channel"), "t") == 0;
	PQclear(r);
	if (!product)
		return GYM_EINVAL;
	if ((e = gym_db_exec(db, &st_flight, 1, p1, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) > 0) {
		int same = gym_db_get_ll(r, 0, "operator_id") == a->operator_id &&
		    strcmp(gym_db_get(r, 0, "reason"), a->reason) == 0 &&
		    (a->amount_fen == 0 || gym_db_get_ll(r, 0, "amount_fen") == a->amount_fen);

		a->id = gym_db_get_ll(r, 0, "id");
		PQclear(r);
		return same ? GYM_OK : GYM_E_REFUND_IN_PROGRESS;
	}
	PQclear(r);
	if ((strcmp(status, "paid") != 0 && strcmp(status, "refunding") != 0) || !paid)
		return GYM_E_NOT_REFUNDABLE;
	want = a->amount_fen != 0 ? a->amount_fen : amount - refunded;
	if (want <= 0 || want > amount - refunded)
		return GYM_E_NOT_REFUNDABLE;
	if ((e = gym_db_exec(db, &st_next, 1, p1, &r)) != GYM_OK)
		return e;
	next = (int)gym_db_get_ll(r, 0, "next");
	PQclear(r);
	if (next == 1)
		snprintf(no, sizeof(no), "RF%s", a->order_id);
	else
		snprintf(no, sizeof(no), "RF%s-%d", a->order_id, next);
	snprintf(attempt, sizeof(attempt), "%d", next);
	gym__ll(amt, sizeof(amt), want);
	gym__ll(op, sizeof(op), a->operator_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_insert, 8, pi, &r)) != GYM_OK)
		return e;
	a->id = gym_db_get_ll(r, 0, "id");
	PQclear(r);
	a->created = 1;
	snprintf(snap, sizeof(snap), "{\"refund_id\":%lld,\"out_refund_no\":\"%s\","
	    "\"order_id\":\"%s\",\"amount_fen\":%lld,\"refunded_before\":%lld,"
	    "\"paid_fen\":%lld}", a->id, no, a->order_id, want, refunded, amount);
	return gym_audit_write(db, a->actor, &au);
}

enum gym_err
gym_product_refund_request(struct gym_db *db, const struct gym_actor *actor,
    const char *order_id, const char *reason, long long amount_fen, long long operator_id,
    struct gym_refund *out, int *created)
{
	struct prefund_arg a = { actor, order_id, reason, amount_fen, operator_id, 0, 0 };
	size_t n = order_id ? strlen(order_id) : 0;
	enum gym_err e;

	*created = 0;
	if (reason == NULL || reason[0] == '\0' || strlen(reason) > 320 || operator_id <= 0 ||
	    amount_fen < 0 || amount_fen > 10000000)
		return GYM_EINVAL;
	if (n < 6 || n > 32 || strspn(order_id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz_-") != n)
		return GYM_ENOTFOUND;
	/* two first requests at once: the loser meets the winner's in flight */
	for (int i = 0; i < 2; i++)
		if ((e = gym_db_tx(db, request_tx, &a)) != GYM_ECONFLICT)
			break;
	if (e != GYM_OK)
		return e;
	*created = a.created;
	return gym_refund_get(db, a.id, NULL, out);
}

enum gym_err
gym_product_refund_proposal(struct gym_db *db, const char *order_id, long long *fen)
{
	char now[40];
	const char *p[2] = { order_id, now };
	PGresult *r;
	enum gym_err e;
	long long left;

	*fen = 0;
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_unused, 2, p, &r)) !=
	    GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	left = gym_db_get_ll(r, 0, "amount_fen") - gym_db_get_ll(r, 0, "refunded");
	*fen = gym_db_get_ll(r, 0, "unused");
	if (*fen > left)
		*fen = left;
	if (*fen < 0)
		*fen = 0;
	PQclear(r);
	return GYM_OK;
}
