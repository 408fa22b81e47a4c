/*
 * account.c: what a parent sees of their own account (products.h): the
 * current membership, the credit balance by lot (the ledger's sums over
 * lots not yet expired), upcoming member bookings, and the payment history
 * page by page, newest first.  Reads only.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "extern.h"
#include "products.h"

#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

static struct gym_stmt st_membership = { "account_membership",
	"WITH f AS (SELECT max(ends_at) AS e FROM membership_periods WHERE user_id = $1::bigint "
	" AND status = 'active' AND ends_at > $2::timestamptz) "
	"SELECT m.product_id, p.name, " US("m.starts_at") " AS starts_us, " US("f.e") " AS ends_us "
	"FROM membership_periods m JOIN products p ON p.id = m.product_id, f "
	"WHERE m.user_id = $1::bigint AND m.status = 'active' AND m.starts_at <= $2::timestamptz "
	"AND m.ends_at > $2::timestamptz ORDER BY m.id DESC LIMIT 1", 0 };
static struct gym_stmt st_lots = { "account_lots",
	"SELECT l.id, sum(c.delta) AS remaining, " US("l.expires_at") " AS expires_us "
	"FROM credit_lots l JOIN credit_ledger c ON c.lot_id = l.id WHERE l.user_id = $1::bigint "
	"AND l.expires_at > $2::timestamptz GROUP BY l.id HAVING sum(c.delta) > 0 "
	"ORDER BY l.expires_at, l.id LIMIT $3::int", 0 };
static struct gym_stmt st_balance = { "account_balance",
	"SELECT coalesce(sum(c.delta), 0) AS balance FROM credit_ledger c JOIN credit_lots l "
	"ON l.id = c.lot_id WHERE c.user_id = $1::bigint AND l.expires_at > $2::timestamptz", 0 };
static struct gym_stmt st_bookings = { "account_bookings",
	"SELECT b.id, b.course_schedule_id, s.course_name, " US("s.starts_at") " AS starts_us, "
	"b.pay_with, b.status, b.credit_returned, " US("b.confirmed_at") " AS confirmed_us, "
	US("b.cancelled_at") " AS cancelled_us FROM member_bookings b JOIN course_schedules s "
	"ON s.id = b.course_schedule_id WHERE b.user_id = $1::bigint AND b.status = 'confirmed' "
	"AND s.starts_at > $2::timestamptz ORDER BY s.starts_at, b.id LIMIT $3::int", 0 };
static struct gym_stmt st_count = { "history_count",
	"SELECT count(*) AS n FROM payment_orders WHERE user_id = $1::bigint "
	"AND status IN ('paid', 'refunding', 'refunded')", 0 };
static struct gym_stmt st_history = { "history_page",
	"SELECT o.order_id, coalesce(o.product_id, 0) AS product_id, "
	"coalesce(p.kind, 'trial') AS kind, coalesce(p.name, '体验课') AS name, o.amount_fen, "
	"o.payment_method, o.status, " US("o.created_at") " AS created_us, "
	US("o.paid_at") " AS paid_us, "
	"(SELECT t.id FROM payment_transactions t WHERE t.transaction_id = o.transaction_id) AS pay_id, "
	"(SELECT coalesce(jsonb_agg(jsonb_build_array(f.out_refund_no, f.amount_fen, f.status, "
	"  " US("f.created_at") ") ORDER BY f.id), '[]') FROM refunds f "
	"  WHERE f.order_id = o.order_id) AS refunds "
	"FROM payment_orders o LEFT JOIN products p ON p.id = o.product_id "
	"WHERE o.user_id = $1::bigint AND o.status IN ('paid', 'refunding', 'refunded') "
	"ORDER BY coalesce(o.paid_at, o.created_at) DESC, o.id DESC LIMIT $2::int OFFSET $3::int", 0 };

void
gym__read_member_booking(PGresult *r, int i, struct gym_member_booking *b)
{
	memset(b, 0, sizeof(*b));
	b->id = gym_db_get_ll(r, i, "id");
	b->schedule_id = gym_db_get_ll(r, i, "course_schedule_id");
	gym_db_copy(r, i, "course_name", b->course_name, sizeof(b->course_name));
	b->starts_at = gym_db_get_ll(r, i, "starts_us");
	gym_db_copy(r, i, "pay_with", b->pay_with, sizeof(b->pay_with));
	gym_db_copy(r, i, "status", b->status, sizeof(b->status));
	b->credit_returned = strcmp(gym_db_get(r, i, "credit_returned"), "t") == 0;
	b->confirmed_at = gym_db_get_ll(r, i, "confirmed_us");
	b->cancelled_at = gym_db_get_ll(r, i, "cancelled_us");
}

enum gym_err
gym_account_get(struct gym_db *db, long long user_id, struct gym_account *acc)
{
	char uid[24], now[40], lim[16];
	const char *p[3] = { uid, now, lim };
	PGresult *r = NULL;
	enum gym_err e;

	memset(acc, 0, sizeof(*acc));
	gym__ll(uid, sizeof(uid), user_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_membership, 2, p, &r))
	    != GYM_OK)
		return e;
	if ((acc->has_membership = PQntuples(r) > 0)) {
		acc->membership.product_id = gym_db_get_ll(r, 0, "product_id");
		gym_db_copy(r, 0, "name", acc->membership.name, sizeof(acc->membership.name));
		acc->membership.starts_at = gym_db_get_ll(r, 0, "starts_us");
		acc->membership.ends_at = gym_db_get_ll(r, 0, "ends_us");
	}
	PQclear(r);
	if ((e = gym_db_exec(db, &st_balance, 2, p, &r)) != GYM_OK)
		return e;
	acc->balance = gym_db_get_ll(r, 0, "balance");
	PQclear(r);
	snprintf(lim, sizeof(lim), "%d", GYM_ACCOUNT_MAX_LOTS);
	if ((e = gym_db_exec(db, &st_lots, 3, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < GYM_ACCOUNT_MAX_LOTS; i++, acc->nlots++) {
		acc->lots[i].id = gym_db_get_ll(r, i, "id");
		acc->lots[i].credits = (int)gym_db_get_ll(r, i, "remaining");
		acc->lots[i].expires_at = gym_db_get_ll(r, i, "expires_us");
	}
	PQclear(r);
	snprintf(lim, sizeof(lim), "%d", GYM_ACCOUNT_MAX_BOOKINGS);
	if ((e = gym_db_exec(db, &st_bookings, 3, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < GYM_ACCOUNT_MAX_BOOKINGS; i++, acc->nbookings++)
		gym__read_member_booking(r, i, &acc->bookings[i]);
	PQclear(r);
	return GYM_OK;
}

/* The refunds of a history row from its JSON array of arrays. */
static void
read_refunds(const char *json, struct gym_history_item *it)
{
	cJSON *a = cJSON_Parse(json), *x;

	cJSON_ArrayForEach(x, a) {
		struct gym_history_refund *f;

		if (it->nrefunds >= GYM_HISTORY_MAX_REFUNDS || cJSON_GetArraySize(x) != 4)
			break;
		f = &it->refunds[it->nrefunds++];
		snprintf(f->out_refund_no, sizeof(f->out_refund_no), "%s",
		    cJSON_GetStringValue(cJSON_GetArrayItem(x, 0)) ?
		    cJSON_GetStringValue(cJSON_GetArrayItem(x, 0)) : "");
		f->amount_fen = (long long)cJSON_GetNumberValue(cJSON_GetArrayItem(x, 1));
		snprintf(f->status, sizeof(f->status), "%s",
		    cJSON_GetStringValue(cJSON_GetArrayItem(x, 2)) ?
		    cJSON_GetStringValue(cJSON_GetArrayItem(x, 2)) : "");
		f->created_at = (int64_t)cJSON_GetNumberValue(cJSON_GetArrayItem(x, 3));
	}
	cJSON_Delete(a);
}

enum gym_err
gym_payment_history(struct gym_db *db, long long user_id, int page, int size,
    struct gym_history_item *out, int *n, long long *total)
{
	char uid[24], lim[16], off[24];
	const char *p[3] = { uid, lim, off };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	*total = 0;
	if (page < 1 || size < 1 || size > GYM_HISTORY_MAX_SIZE || page > 1000000)
		return GYM_EINVAL;
	gym__ll(uid, sizeof(uid), user_id);
	snprintf(lim, sizeof(lim), "%d", size);
	gym__ll(off, sizeof(off), (long long)(page - 1) * size);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_count, 1, p, &r)) != GYM_OK)
		return e;
	*total = gym_db_get_ll(r, 0, "n");
	PQclear(r);
	if ((e = gym_db_exec(db, &st_history, 3, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < size; i++, (*n)++) {
		struct gym_history_item *it = &out[i];

		memset(it, 0, sizeof(*it));
		it->payment_id = gym_db_get_ll(r, i, "pay_id");
		gym_db_copy(r, i, "order_id", it->order_id, sizeof(it->order_id));
		it->product_id = gym_db_get_ll(r, i, "product_id");
		gym_db_copy(r, i, "kind", it->product_kind, sizeof(it->product_kind));
		gym_db_copy(r, i, "name", it->product_name, sizeof(it->product_name));
		it->amount_fen = gym_db_get_ll(r, i, "amount_fen");
		gym_db_copy(r, i, "payment_method", it->channel, sizeof(it->channel));
		gym_db_copy(r, i, "status", it->status, sizeof(it->status));
		it->created_at = gym_db_get_ll(r, i, "created_us");
		it->paid_at = gym_db_get_ll(r, i, "paid_us");
		read_refunds(gym_db_get(r, i, "refunds"), it);
	}
	PQclear(r);
	return GYM_OK;
}

static struct gym_stmt st_user = { "member_exists",
	"SELECT 1 FROM users WHERE id = $1::bigint", 0 };
static struct gym_stmt st_ledger = { "member_ledger",
	"SELECT c.id, c.lot_id, c.kind, c.delta, coalesce(c.order_id, '') AS order_id, "
	"coalesce(c.booking_id, 0) AS booking_id, coalesce(c.reason, '') AS reason, "
	US("c.created_at") " AS created_us, " US("l.expires_at") " AS expires_us "
	"FROM credit_ledger c JOIN credit_lots l ON l.id = c.lot_id WHERE c.user_id = $1::bigint "
	"ORDER BY c.id DESC LIMIT $2::int", 0 };

enum gym_err
gym_member_ledger(struct gym_db *db, long long user_id, struct gym_ledger_row *rows, int max,
    int *n)
{
	char uid[24], lim[16];
	const char *p[2] = { uid, lim };
	PGresult *r;
	enum gym_err e;

	*n = 0;
	gym__ll(uid, sizeof(uid), user_id);
	snprintf(lim, sizeof(lim), "%d", max);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_user, 1, p, &r)) != GYM_OK)
		return e;
	e = PQntuples(r) == 0 ? GYM_ENOTFOUND : GYM_OK;
	PQclear(r);
	if (e != GYM_OK || (e = gym_db_exec(db, &st_ledger, 2, p, &r)) != GYM_OK)
		return e;
	for (int i = 0; i < PQntuples(r) && i < max; i++, (*n)++) {
		struct gym_ledger_row *x = &rows[i];

		memset(x, 0, sizeof(*x));
		x->id = gym_db_get_ll(r, i, "id");
		x->lot_id = gym_db_get_ll(r, i, "lot_id");
		gym_db_copy(r, i, "kind", x->kind, sizeof(x->kind));
		x->delta = (int)gym_db_get_ll(r, i, "delta");
		gym_db_copy(r, i, "order_id", x->order_id, sizeof(x->order_id));
		x->booking_id = gym_db_get_ll(r, i, "booking_id");
		gym_db_copy(r, i, "reason", x->reason, sizeof(x->reason));
		x->created_at = gym_db_get_ll(r, i, "created_us");
		x->expires_at = gym_db_get_ll(r, i, "expires_us");
	}
	PQclear(r);
	return GYM_OK;
}
