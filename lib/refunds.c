/*
 * refunds.c: the refunds table (see refunds.h): asking for a refund,
 * sending it to WeChat, and applying what WeChat says exactly once.
 *
 * Invariants:
 * - Lock order: the order row, then the refund row, then the booking, its
 *   hold and its seat (the same order as payments.c), so a notification,
 *   a query answer and a request for one order run one after another.
 * - out_refund_no is fixed when the refund row is written and is all that
 *   is ever sent as the refund's name: WeChat makes one refund per name.
 * - A final refund (success, closed) never changes again.
 * - Nothing here calls WeChat inside a transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "products.h"
#include "refunds.h"

#define REFUND_COLS \
	"f.id, f.out_refund_no, f.order_id, f.attempt, f.amount_fen, f.reason, f.initiated_by, " \
	"f.operator_id, f.order_status_before, f.status, f.wx_refund_id, f.wx_status, " \
	"f.next_action, f.last_error, (SELECT coalesce(o.out_trade_no, o.order_id) FROM " \
	"payment_orders o WHERE o.order_id = f.order_id) AS out_trade_no, " \
	"(extract(epoch FROM f.created_at) * 1000000)::bigint AS created_us, " \
	"(extract(epoch FROM f.updated_at) * 1000000)::bigint AS updated_us, " \
	"(extract(epoch FROM f.completed_at) * 1000000)::bigint AS completed_us, " \
	"(SELECT o.amount_fen FROM payment_orders o WHERE o.order_id = f.order_id) AS order_fen, " \
	"(SELECT o.course_schedule_id IS NULL FROM payment_orders o " \
	" WHERE o.order_id = f.order_id) AS product "

static struct gym_stmt st_order_lock = { "refund_order_lock",
	"SELECT o.status, (o.transaction_id IS NOT NULL OR EXISTS (SELECT 1 FROM "
	" payment_transactions t WHERE t.order_id = o.order_id)) AS paid_at_wx "
	"FROM payment_orders o WHERE o.order_id = $1 FOR UPDATE", 0 };
/* the refund in flight (one at most: refunds_one_in_flight) */
static struct gym_stmt st_active = { "refund_active_of_order",
	"SELECT " REFUND_COLS "FROM refunds f WHERE f.order_id = $1 "
	"AND f.status IN ('pending', 'processing', 'abnormal') FOR UPDATE", 0 };
/* the latest successful refund, and what the successful ones gave back */
static struct gym_stmt st_last_success = { "refund_last_success",
	"SELECT " REFUND_COLS "FROM refunds f WHERE f.order_id = $1 AND f.status = 'success' "
	"ORDER BY f.attempt DESC LIMIT 1", 0 };
static struct gym_stmt st_refunded = { "refund_refunded_fen",
	"SELECT coalesce(sum(amount_fen), 0) AS fen, (SELECT amount_fen FROM payment_orders "
	"WHERE order_id = $1) AS order_fen FROM refunds WHERE order_id = $1 "
	"AND status = 'success'", 0 };
static struct gym_stmt st_next_attempt = { "refund_next_attempt",
	"SELECT coalesce(max(attempt), 0) + 1 AS next FROM refunds WHERE order_id = $1", 0 };
static struct gym_stmt st_insert = { "refund_insert",
	"INSERT INTO refunds AS f (out_refund_no, order_id, attempt, amount_fen, reason, initiated_by, "
	"operator_id, order_status_before, status, created_at, updated_at) VALUES ($1, $2, "
	"$3::int, $9::int, $4, $5, $6::bigint, $7, 'pending', $8::timestamptz, $8::timestamptz) "
	"RETURNING " REFUND_COLS, 0 };
static struct gym_stmt st_get_id = { "refund_get_id",
	"SELECT " REFUND_COLS "FROM refunds f WHERE f.id = $1::bigint", 0 };
static struct gym_stmt st_get_no = { "refund_get_no",
	"SELECT " REFUND_COLS "FROM refunds f WHERE f.out_refund_no = $1", 0 };
static struct gym_stmt st_lock_no = { "refund_lock_no",
	"SELECT " REFUND_COLS "FROM refunds f WHERE f.out_refund_no = $1 FOR UPDATE", 0 };
static struct gym_stmt st_set = { "refund_set",
	"UPDATE refunds SET status = $2, wx_refund_id = coalesce($3, wx_refund_id), "
	"wx_status = coalesce($4, wx_status), next_action = $5, completed_at = $6::timestamptz, "
	"last_error = CASE WHEN $2 = 'pending' THEN last_error END, updated_at = $7::timestamptz "
	"WHERE id = $1::bigint", 0 };
static struct gym_stmt st_error = { "refund_error",
	"UPDATE refunds SET last_error = $2, updated_at = $3::timestamptz "
	"WHERE out_refund_no = $1 AND status = 'pending'", 0 };
static struct gym_stmt st_booking_cancel = { "refund_booking_cancel",
	"UPDATE bookings b SET status = 'cancelled', cancelled_at = $2::timestamptz "
	"WHERE b.order_id = $1 AND b.status = 'confirmed' RETURNING b.id, b.reservation_id, "
	"b.course_schedule_id, (SELECT c.starts_at > $2::timestamptz FROM course_schedules c "
	"WHERE c.id = b.course_schedule_id) AS not_started", 0 };
static struct gym_stmt st_hold_cancel = { "refund_hold_cancel",
	"UPDATE seat_reservations SET status = 'cancelled', updated_at = $2::timestamptz "
	"WHERE id = $1::bigint AND status = 'confirmed' RETURNING seat_id", 0 };
static struct gym_stmt st_seat_free = { "refund_seat_free",
	"UPDATE seats SET state = 'free', reservation_id = NULL, held_until = NULL "
	"WHERE id = $1::bigint AND reservation_id = $2::bigint", 0 };
static struct gym_stmt st_list = { "refund_list",
	"SELECT " REFUND_COLS "FROM refunds f WHERE "
	"($1::text IS NULL OR f.status = $1 OR ($1 = 'processing' AND f.status = 'pending')) "
	"AND ($2::text IS NULL OR f.order_id = $2) "
	"AND ($3::timestamptz IS NULL OR f.created_at >= $3::timestamptz) "
	"AND ($4::timestamptz IS NULL OR f.created_at < $4::timestamptz) "
	"AND ($5::bigint IS NULL OR f.id < $5::bigint) "
	"ORDER BY f.id DESC LIMIT $6::int", 0 };

/* GYM_EINTERNAL for a status status.h does not know. */
static enum gym_err
read_refund(PGresult *r, int i, struct gym_refund *f)
{
	memset(f, 0, sizeof(*f));
	f->id = gym_db_get_ll(r, i, "id");
	gym_db_copy(r, i, "out_refund_no", f->out_refund_no, sizeof(f->out_refund_no));
	gym_db_copy(r, i, "order_id", f->order_id, sizeof(f->order_id));
	gym_db_copy(r, i, "out_trade_no", f->out_trade_no, sizeof(f->out_trade_no));
	f->attempt = (int)gym_db_get_ll(r, i, "attempt");
	f->amount_fen = (int)gym_db_get_ll(r, i, "amount_fen");
	gym_db_copy(r, i, "reason", f->reason, sizeof(f->reason));
	gym_db_copy(r, i, "initiated_by", f->initiated_by, sizeof(f->initiated_by));
	f->operator_id = gym_db_get_ll(r, i, "operator_id");
	gym_db_copy(r, i, "wx_refund_id", f->wx_refund_id, sizeof(f->wx_refund_id));
	gym_db_copy(r, i, "wx_status", f->wx_status, sizeof(f->wx_status));
	gym_db_copy(r, i, "next_action", f->next_action, sizeof(f->next_action));
	gym_db_copy(r, i, "last_error", f->last_error, sizeof(f->last_error));
	f->created_at = gym_db_get_ll(r, i, "created_us");
	f->updated_at = gym_db_get_ll(r, i, "updated_us");
	f->completed_at = gym_db_get_ll(r, i, "completed_us");
	f->order_fen = (int)gym_db_get_ll(r, i, "order_fen");
	f->product = strcmp(gym_db_get(r, i, "product"), "t") == 0;
	if (!gym_refund_status_parse(gym_db_get(r, i, "status"), &f->status)) {
		gym_log_errx("refund %s: unknown status", f->out_refund_no);
		return GYM_EINTERNAL;
	}
	return GYM_OK;
}

/* Run st and read its first row into f: GYM_ENOTFOUND when none.  When
 * before is not NULL it receives order_status_before. */
static enum gym_err
load(struct gym_db *db, struct gym_stmt *st, int n, const char *const *p,
    struct gym_refund *f, enum gym_order_status *before)
{
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, st, n, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0)
		e = GYM_ENOTFOUND;
	else {
		e = read_refund(r, 0, f);
		if (e == GYM_OK && before != NULL &&
		    !gym_order_status_parse(gym_db_get(r, 0, "order_status_before"), before))
			e = GYM_EINTERNAL;
	}
	PQclear(r);
	return e;
}

const char *
gym_refund_public_status(const struct gym_refund *f)
{
	return gym_refund_status_name(f->status == GYM_REFUND_PENDING ? GYM_REFUND_PROCESSING :
	    f->status);
}

/* The refund as JSON text for an audit snapshot (caller frees). */
static char *
snapshot(const struct gym_refund *f, const char *extra_key, int extra)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(o, "refund_id", (double)f->id) != NULL &&
	    cJSON_AddStringToObject(o, "out_refund_no", f->out_refund_no) != NULL &&
	    cJSON_AddStringToObject(o, "order_id", f->order_id) != NULL &&
	    cJSON_AddStringToObject(o, "status", gym_refund_status_name(f->status)) != NULL &&
	    cJSON_AddNumberToObject(o, "amount_fen", f->amount_fen) != NULL &&
	    cJSON_AddStringToObject(o, "initiated_by", f->initiated_by) != NULL &&
	    cJSON_AddStringToObject(o, "reason", f->reason) != NULL &&
	    (f->wx_status[0] == '\0' ||
	    cJSON_AddStringToObject(o, "wx_status", f->wx_status) != NULL) &&
	    (f->next_action[0] == '\0' ||
	    cJSON_AddStringToObject(o, "next_action", f->next_action) != NULL) &&
	    (extra_key == NULL || cJSON_AddBoolToObject(o, extra_key, extra) != NULL))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static enum gym_err
audit_refund(struct gym_db *db, const struct gym_actor *a, const struct gym_refund *f,
    const char *action, const char *old, const char *extra_key, int extra)
{
	struct gym_audit au = { "refund", action, f->order_id, 0, 0, old,
	    gym_refund_status_name(f->status), NULL };
	enum gym_err e;
	char *snap;

	if ((snap = snapshot(f, extra_key, extra)) == NULL)
		return GYM_ENOMEM;
	au.response_snapshot = snap;
	e = gym_audit_write(db, a, &au);
	cJSON_free(snap);
	return e;
}

/* ---- asking for a refund -------------------------------------------------------------- */

/* 1 when s is valid UTF-8 of 1 to max characters with no control character. */
static int
reason_ok(const char *s, int max)
{
	const unsigned char *p = (const unsigned char *)s;
	int chars = 0, follow;

	if (s == NULL)
		return 0;
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80)
			follow = 0;
		else if (*p >= 0xc2 && *p <= 0xdf)
			follow = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			follow = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			follow = 3;
		else
			return 0;
		for (p++; follow > 0; follow--, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
		chars++;
	}
	return chars >= 1 && chars <= max;
}

struct request_arg {
	const struct gym_actor *actor;
	const char *order_id, *reason, *initiated_by;
	long long operator_id;
	int amount_fen;			/* 0: what is left */
	struct gym_refund *out;
	int created;
};

/* The order's refund that is not closed: *found 0 when there is none. */
static enum gym_err
active_refund(struct gym_db *db, const char *order_id, struct gym_refund *f, int *found)
{
	const char *p[1] = { order_id };
	enum gym_err e;

	e = load(db, &st_active, 1, p, f, NULL);
	*found = e == GYM_OK;
	return e == GYM_ENOTFOUND ? GYM_OK : e;
}

/* 1 when request a repeats refund f (a retry, a double click): the same
 * initiator, operator, reason and amount (any amount when a says 0). */
static int
repeats(const struct request_arg *a, const struct gym_refund *f)
{
	return strcmp(f->initiated_by, a->initiated_by) == 0 && f->operator_id == a->operator_id &&
	    strcmp(f->reason, a->reason) == 0 && (a->amount_fen == 0 ||
	    a->amount_fen == f->amount_fen);
}

/* What a request meets when the order already has a live or done refund. */
static enum gym_err
existing(struct request_arg *a, const struct gym_refund *f)
{
	int same = strcmp(a->initiated_by, "system") == 0 || repeats(a, f);

	if (same) {
		*a->out = *f;
		a->created = 0;
		return GYM_OK;
	}
	return f->status == GYM_REFUND_SUCCESS ? GYM_E_NOT_REFUNDABLE : GYM_E_REFUND_IN_PROGRESS;
}

static enum gym_err
request_tx(struct gym_db *db, void *v)
{
	struct request_arg *a = v;
	char now[40], attempt[16], op[24], no[72], amount[24];
	enum gym_order_status status;
	const char *p1[1] = { a->order_id };
	const char *pi[9] = { no, a->order_id, attempt, a->reason, a->initiated_by,
	    a->operator_id ? op : NULL, NULL, now, amount };
	struct gym_refund f;
	PGresult *r;
	enum gym_err e;
	long long left;
	int found, next, paid_at_wx;

	a->created = 0;
	if ((e = gym_db_exec(db, &st_order_lock, 1, p1, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	e = gym_order_status_parse(gym_db_get(r, 0, "status"), &status) ? GYM_OK : GYM_EINTERNAL;
	paid_at_wx = strcmp(gym_db_get(r, 0, "paid_at_wx"), "t") == 0;
	PQclear(r);
	if (e != GYM_OK)
		return e;
	pi[6] = gym_order_status_name(status);
	if ((e = active_refund(db, a->order_id, &f, &found)) != GYM_OK)
		return e;
	if (found)
		return existing(a, &f);
	if ((status != GYM_ORDER_PAID && status != GYM_ORDER_REFUNDING) || !paid_at_wx)
		return GYM_E_NOT_REFUNDABLE;
	/* refunds that succeeded: a repeat of the last one gets it; what is
	 * asked must fit in what is left */
	if ((e = load(db, &st_last_success, 1, p1, &f, NULL)) == GYM_OK && repeats(a, &f)) {
		*a->out = f;
		return GYM_OK;
	}
	if (e != GYM_OK && e != GYM_ENOTFOUND)
		return e;
	found = e == GYM_OK;
	if ((e = gym_db_exec(db, &st_refunded, 1, p1, &r)) != GYM_OK)
		return e;
	left = gym_db_get_ll(r, 0, "order_fen") - gym_db_get_ll(r, 0, "fen");
	PQclear(r);
	if (left <= 0 && found && strcmp(a->initiated_by, "system") == 0) {
		*a->out = f;			/* the system's: all given back */
		return GYM_OK;
	}
	if (left <= 0)
		return GYM_E_NOT_REFUNDABLE;
	if (a->amount_fen > left)
		return GYM_EINVAL;
	snprintf(amount, sizeof(amount), "%lld", a->amount_fen > 0 ? (long long)a->amount_fen :
	    left);
	if ((e = gym_db_exec(db, &st_next_attempt, 1, p1, &r)) != GYM_OK)
		return e;
	next = (int)gym_db_get_ll(r, 0, "next");
	PQclear(r);
	/* "RF<order_id>" first; after a closed one "RF<order_id>-2", ... */
	if (next == 1)
		snprintf(no, sizeof(no), "RF%s", a->order_id);
	else
		snprintf(no, sizeof(no), "RF%s-%d", a->order_id, next);
	snprintf(attempt, sizeof(attempt), "%d", next);
	gym__ll(op, sizeof(op), a->operator_id);
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_insert, 9, pi, &r)) != GYM_OK)
		return e;
	e = read_refund(r, 0, &f);
	PQclear(r);
	if (e != GYM_OK)
		return e;
	if (status == GYM_ORDER_PAID &&
	    (e = gym__order_set_status(db, a->actor, a->order_id, GYM_ORDER_PAID,
	    GYM_ORDER_REFUNDING, "order_refunding")) != GYM_OK)
		return e;
	if ((e = audit_refund(db, a->actor, &f, "refund_requested", NULL, NULL, 0)) != GYM_OK)
		return e;
	*a->out = f;
	a->created = 1;
	return GYM_OK;
}

enum gym_err
gym_refund_request(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    const char *reason, const char *initiated_by, long long operator_id,
    struct gym_refund *out, int *created)
{
	return gym_refund_request_part(db, actor, order_id, reason, initiated_by, operator_id, 0,
	    out, created);
}

enum gym_err
gym_refund_request_part(struct gym_db *db, const struct gym_actor *actor, const char *order_id,
    const char *reason, const char *initiated_by, long long operator_id, int amount_fen,
    struct gym_refund *out, int *created)
{
	struct request_arg a;
	size_t n = order_id ? strlen(order_id) : 0;
	enum gym_err e;

	*created = 0;
	if (initiated_by == NULL || (strcmp(initiated_by, "operator") == 0 ? operator_id <= 0 :
	    strcmp(initiated_by, "system") != 0 || operator_id != 0))
		return GYM_EINVAL;
	if (!reason_ok(reason, GYM_REFUND_REASON_MAX) || amount_fen < 0 ||
	    (amount_fen != 0 && operator_id == 0))
		return GYM_EINVAL;
	if (n < 6 || n > 32 || strspn(order_id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz_-") != n)
		return GYM_ENOTFOUND;
	memset(&a, 0, sizeof(a));
	a.actor = actor;
	a.order_id = order_id;
	a.reason = reason;
	a.initiated_by = initiated_by;
	a.operator_id = operator_id;
	a.amount_fen = amount_fen;
	a.out = out;
	/* two first requests at once: the loser of the unique index sees
	 * the winner's refund when it runs again */
	for (int i = 0; i < 2; i++)
		if ((e = gym_db_tx(db, request_tx, &a)) != GYM_ECONFLICT)
			break;
	if (e == GYM_OK)
		*created = a.created;
	return e;
}

/* ---- reading ------------------------------------------------------------------------- */

enum gym_err
gym_refund_get(struct gym_db *db, long long id, const char *out_refund_no, struct gym_refund *f)
{
	char ids[24];
	const char *p[1] = { ids };
	enum gym_err e;

	if (id <= 0 && (out_refund_no == NULL || *out_refund_no == '\0' ||
	    strlen(out_refund_no) >= sizeof(f->out_refund_no)))
		return GYM_ENOTFOUND;
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	if (id > 0) {
		gym__ll(ids, sizeof(ids), id);
		return load(db, &st_get_id, 1, p, f, NULL);
	}
	p[0] = out_refund_no;
	return load(db, &st_get_no, 1, p, f, NULL);
}

enum gym_err
gym_refund_list(struct gym_db *db, const struct gym_refund_filter *flt,
    struct gym_refund *out, int *n, long long *next)
{
	char from[40], to[40], before[24], lim[16];
	const char *p[6] = { flt->status, flt->order_id, NULL, NULL, NULL, lim };
	PGresult *r;
	enum gym_err e;
	int rows;

	*n = 0;
	*next = 0;
	if (flt->limit < 1)
		return GYM_EINVAL;
	if (flt->from != 0) {
		gym_time_format(flt->from, from, sizeof(from));
		p[2] = from;
	}
	if (flt->to != 0) {
		gym_time_format(flt->to, to, sizeof(to));
		p[3] = to;
	}
	if (flt->before > 0) {
		gym__ll(before, sizeof(before), flt->before);
		p[4] = before;
	}
	snprintf(lim, sizeof(lim), "%d", flt->limit + 1);
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_exec(db, &st_list, 6, p, &r)) != GYM_OK)
		return e;
	rows = PQntuples(r);
	for (int i = 0; e == GYM_OK && i < rows && i < flt->limit; i++)
		e = read_refund(r, i, &out[(*n)++]);
	if (e == GYM_OK && rows > flt->limit)
		*next = out[*n - 1].id;
	PQclear(r);
	return e;
}

/* ---- applying WeChat's word -------------------------------------------------------------- */

/* What WeChat said about one refund. */
struct wx_refund {
	const char *out_refund_no, *out_trade_no, *refund_id, *status, *success_time;
	enum gym_refund_wx ws;		/* status, parsed once */
	const char *mchid;
	long long refund_fen, total_fen;	/* -1 when absent */
	const char *source;
};

struct apply_arg {
	const struct gym_actor *actor;
	const struct wx_refund *w;
	char outcome[16];
	enum gym_err result;
};

static enum gym_err
audit_rejected(struct gym_db *db, struct apply_arg *a, const char *order_id, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	struct gym_audit au = { "refund", "refund_notification_rejected", order_id, 0, 0, NULL,
	    NULL, NULL };
	enum gym_err e = GYM_ENOMEM;
	char *snap = NULL;

	if (strcmp(why, "unknown out_refund_no") == 0)
		au.action = "refund_notification_unknown";
	if (o != NULL && cJSON_AddStringToObject(o, "out_refund_no", a->w->out_refund_no) != NULL &&
	    cJSON_AddStringToObject(o, "out_trade_no", a->w->out_trade_no ?
	    a->w->out_trade_no : "") != NULL &&
	    cJSON_AddStringToObject(o, "status", a->w->status) != NULL &&
	    cJSON_AddStringToObject(o, "source", a->w->source) != NULL &&
	    cJSON_AddStringToObject(o, "reason", why) != NULL &&
	    (snap = cJSON_PrintUnformatted(o)) != NULL) {
		au.response_snapshot = snap;
		e = gym_audit_write(db, a->actor, &au);
	}
	cJSON_free(snap);
	cJSON_Delete(o);
	return e;
}

/* Set the refund's status and WeChat fields; f is updated to match. */
static enum gym_err
set_refund(struct gym_db *db, struct apply_arg *a, struct gym_refund *f,
    enum gym_refund_status status, const char *next_action, int final)
{
	char id[24], now[40], done[40];
	const char *p[7] = { id, gym_refund_status_name(status), a->w->refund_id, a->w->status,
	    next_action, final ? done : NULL, now };
	int64_t t = gym_now_us();

	gym__ll(id, sizeof(id), f->id);
	gym_db_now_param(now, sizeof(now));
	/* a success keeps WeChat's success_time as its completion */
	if (final && (a->w->success_time == NULL || status != GYM_REFUND_SUCCESS ||
	    gym_time_parse(a->w->success_time, &t) != 0))
		t = gym_now_us();
	gym_time_format(t, done, sizeof(done));
	f->status = status;
	if (a->w->refund_id != NULL)
		gym_strcopy(f->wx_refund_id, sizeof(f->wx_refund_id), a->w->refund_id);
	gym_strcopy(f->wx_status, sizeof(f->wx_status), a->w->status);
	gym_strcopy(f->next_action, sizeof(f->next_action), next_action);
	f->completed_at = final ? t : 0;
	return gym_db_exec(db, &st_set, 7, p, NULL);
}

/* The booking of a refunded order is cancelled; its seat is freed when
 * the class has not started (after the start the seat is worth nothing
 * to anyone, and the record of who had it stays). */
static enum gym_err
cancel_booking(struct gym_db *db, struct apply_arg *a, const char *order_id, int *freed)
{
	char now[40], rid[24], seat[24], snap[200];
	const char *p[2] = { order_id, now };
	const char *ph[2] = { rid, now };
	const char *ps[2] = { seat, rid };
	struct gym_audit ab = { "booking", "booking_cancelled", order_id, 0, 0, "confirmed",
	    "cancelled", snap };
	struct gym_audit ah = { "hold", "seat_released", order_id, 0, 0, "confirmed",
	    "cancelled", snap };
	long long bid, res, sid;
	PGresult *r;
	enum gym_err e;
	int open;

	*freed = 0;
	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_booking_cancel, 2, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {	/* no booking: an automatic refund */
		PQclear(r);
		return GYM_OK;
	}
	bid = gym_db_get_ll(r, 0, "id");
	res = gym_db_get_ll(r, 0, "reservation_id");
	sid = gym_db_get_ll(r, 0, "course_schedule_id");
	open = gym_db_get(r, 0, "not_started") != NULL &&
	    strcmp(gym_db_get(r, 0, "not_started"), "t") == 0;
	PQclear(r);
	snprintf(snap, sizeof(snap), "{\"booking_id\":%lld,\"order_id\":\"%s\","
	    "\"status\":\"cancelled\",\"seat_freed\":%s}", bid, order_id, open ? "true" : "false");
	ab.booking_id = bid;
	ab.reservation_id = res;
	if ((e = gym_audit_write(db, a->actor, &ab)) != GYM_OK || !open)
		return e;
	gym__ll(rid, sizeof(rid), res);
	if ((e = gym_db_exec(db, &st_hold_cancel, 2, ph, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_OK;
	}
	gym_db_copy(r, 0, "seat_id", seat, sizeof(seat));
	PQclear(r);
	if ((e = gym_db_exec(db, &st_seat_free, 2, ps, NULL)) != GYM_OK)
		return e;
	*freed = 1;
	snprintf(snap, sizeof(snap), "{\"reservation_id\":%lld,\"course_schedule_id\":%lld,"
	    "\"status\":\"cancelled\"}", res, sid);
	ah.reservation_id = res;
	ah.booking_id = bid;
	return gym_audit_write(db, a->actor, &ah);
}

static enum gym_err
apply_success(struct gym_db *db, struct apply_arg *a, struct gym_refund *f,
    enum gym_order_status order_status)
{
	const char *old = gym_refund_status_name(f->status);
	enum gym_err e;
	int freed = 0;

	const char *p[1] = { f->order_id };
	PGresult *r;
	long long back;

	if ((e = set_refund(db, a, f, GYM_REFUND_SUCCESS, NULL, 1)) != GYM_OK)
		return e;
	if (f->product) {
		/* a membership or pack: the entitlement goes back by the
		 * refunded share, the order is refunded once all of it is */
		if ((e = gym__product_refunded(db, a->actor, f->order_id, f->amount_fen,
		    order_status)) != GYM_OK)
			return e;
		snprintf(a->outcome, sizeof(a->outcome), "success");
		if ((e = audit_refund(db, a->actor, f, "refund_succeeded", old, NULL, 0)) != GYM_OK)
			return e;
		return gym__notify_enqueue_refund(db, a->actor, f->order_id, f->id,
		    f->amount_fen, f->reason);
	}
	if ((e = gym_db_exec(db, &st_refunded, 1, p, &r)) != GYM_OK)
		return e;
	back = gym_db_get_ll(r, 0, "fen");
	PQclear(r);
	if (back < f->order_fen) {
		/* a part of a trial: the order is paid again, its booking stands */
		if (order_status == GYM_ORDER_REFUNDING &&
		    (e = gym__order_set_status(db, a->actor, f->order_id, GYM_ORDER_REFUNDING,
		    GYM_ORDER_PAID, "order_refunded_part")) != GYM_OK)
			return e;
		snprintf(a->outcome, sizeof(a->outcome), "success");
		if ((e = audit_refund(db, a->actor, f, "refund_succeeded", old, "partial", 1)) !=
		    GYM_OK)
			return e;
		return gym__notify_enqueue_refund(db, a->actor, f->order_id, f->id,
		    f->amount_fen, f->reason);
	}
	if ((order_status == GYM_ORDER_REFUNDING || order_status == GYM_ORDER_PAID) &&
	    (e = gym__order_set_status(db, a->actor, f->order_id, order_status,
	    GYM_ORDER_REFUNDED, "order_refunded")) != GYM_OK)
		return e;
	if ((e = cancel_booking(db, a, f->order_id, &freed)) != GYM_OK)
		return e;
	snprintf(a->outcome, sizeof(a->outcome), "success");
	if ((e = audit_refund(db, a->actor, f, "refund_succeeded", old, "seat_freed",
	    freed)) != GYM_OK)
		return e;
	return gym__notify_enqueue_refund(db, a->actor, f->order_id, f->id, f->amount_fen,
	    f->reason);
}

static enum gym_err
apply_closed(struct gym_db *db, struct apply_arg *a, struct gym_refund *f,
    enum gym_order_status order_status, enum gym_order_status before)
{
	const char *old = gym_refund_status_name(f->status);
	enum gym_err e;

	if ((e = set_refund(db, a, f, GYM_REFUND_CLOSED, GYM_REFUND_NEXT_CLOSED, 1)) != GYM_OK)
		return e;
	/* nothing was paid out: a paid order is paid again (its booking was
	 * never cancelled); money that must go back anyway stays 'refunding'
	 * until an operator starts a new refund */
	if (before == GYM_ORDER_PAID && order_status == GYM_ORDER_REFUNDING &&
	    (e = gym__order_set_status(db, a->actor, f->order_id, GYM_ORDER_REFUNDING,
	    GYM_ORDER_PAID, "order_refund_closed")) != GYM_OK)
		return e;
	snprintf(a->outcome, sizeof(a->outcome), "closed");
	return audit_refund(db, a->actor, f, "refund_closed", old, NULL, 0);
}

static enum gym_err
apply_locked(struct gym_db *db, struct apply_arg *a, struct gym_refund *f,
    enum gym_order_status order_status, enum gym_order_status before)
{
	enum gym_refund_wx ws = a->w->ws;
	const char *old = gym_refund_status_name(f->status);
	int final = f->status == GYM_REFUND_SUCCESS || f->status == GYM_REFUND_CLOSED;
	enum gym_err e;

	if (final) {
		/* done: a repeat is a duplicate, anything else is noted only */
		int same = gym_refund_wx_status(ws) == f->status;

		snprintf(a->outcome, sizeof(a->outcome), "%s", same ? "duplicate" : "ignored");
		if (!same && ws != GYM_REFUND_WX_PROCESSING)
			gym_log_warnx("refund %s is %s but WeChat says %s (%s): ignored",
			    f->out_refund_no, old, a->w->status, a->w->source);
		return GYM_OK;
	}
	if (ws == GYM_REFUND_WX_SUCCESS)
		return apply_success(db, a, f, order_status);
	if (ws == GYM_REFUND_WX_CLOSED)
		return apply_closed(db, a, f, order_status, before);
	if (ws == GYM_REFUND_WX_ABNORMAL) {
		if (f->status == GYM_REFUND_ABNORMAL) {
			snprintf(a->outcome, sizeof(a->outcome), "duplicate");
			return GYM_OK;
		}
		if ((e = set_refund(db, a, f, GYM_REFUND_ABNORMAL, GYM_REFUND_NEXT_ABNORMAL,
		    0)) != GYM_OK)
			return e;
		snprintf(a->outcome, sizeof(a->outcome), "abnormal");
		return audit_refund(db, a->actor, f, "refund_abnormal", old, NULL, 0);
	}
	/* PROCESSING: WeChat has it */
	if (f->status == GYM_REFUND_PROCESSING) {
		snprintf(a->outcome, sizeof(a->outcome), "duplicate");
		return GYM_OK;
	}
	if ((e = set_refund(db, a, f, GYM_REFUND_PROCESSING, NULL, 0)) != GYM_OK)
		return e;
	snprintf(a->outcome, sizeof(a->outcome), "processing");
	return audit_refund(db, a->actor, f, "refund_processing", old, NULL, 0);
}

static enum gym_err
apply_tx(struct gym_db *db, void *v)
{
	struct apply_arg *a = v;
	const char *pn[1] = { a->w->out_refund_no };
	const char *po[1];
	enum gym_order_status order_status, before;
	struct gym_refund f;
	PGresult *r;
	enum gym_err e;

	a->result = GYM_OK;
	a->outcome[0] = '\0';
	/* the order row first (lock order), found through the refund */
	if ((e = load(db, &st_get_no, 1, pn, &f, NULL)) == GYM_ENOTFOUND) {
		snprintf(a->outcome, sizeof(a->outcome), "unknown");
		a->result = GYM_ENOTFOUND;
		return audit_rejected(db, a, NULL, "unknown out_refund_no");
	}
	if (e != GYM_OK)
		return e;
	if ((a->w->out_trade_no != NULL && strcmp(a->w->out_trade_no, f.out_trade_no) != 0) ||
	    (a->w->refund_fen != -1 && a->w->refund_fen != f.amount_fen) ||
	    (a->w->total_fen != -1 && a->w->total_fen != f.order_fen)) {
		snprintf(a->outcome, sizeof(a->outcome), "rejected");
		a->result = GYM_EINVAL;
		return audit_rejected(db, a, f.order_id, "order or amount do not match");
	}
	po[0] = f.order_id;
	if ((e = gym_db_exec(db, &st_order_lock, 1, po, &r)) != GYM_OK)
		return e;
	e = gym_order_status_parse(gym_db_get(r, 0, "status"), &order_status) ? GYM_OK :
	    GYM_EINTERNAL;
	PQclear(r);
	if (e != GYM_OK || (e = load(db, &st_lock_no, 1, pn, &f, &before)) != GYM_OK)
		return e;
	return apply_locked(db, a, &f, order_status, before);
}

/* An amount WeChat sent: -1 when absent, -2 when not a whole number of
 * fen in range (refused). */
static long long
jnum(const cJSON *o, const char *name)
{
	long long v = -1;

	switch (gym_json_fen(o, name, &v)) {
	case GYM_OK:
		return v;
	case GYM_ENOTFOUND:
		return -1;
	default:
		return -2;
	}
}

enum gym_err
gym_refund_apply_json(struct gym_db *db, const struct gym_actor *actor,
    const struct gym_config *cfg, const cJSON *j, const char *source,
    char *outcome, size_t len)
{
	const cJSON *amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(amount, "currency");
	struct wx_refund w;
	struct apply_arg a;
	enum gym_err e;
	int notify = strcmp(source, "notify") == 0;

	memset(&w, 0, sizeof(w));
	w.out_refund_no = gym_json_string(j, "out_refund_no");
	w.out_trade_no = gym_json_string(j, "out_trade_no");
	w.refund_id = gym_json_string(j, "refund_id");
	/* notifications say refund_status, the Refund object status */
	w.status = gym_json_string(j, notify ? "refund_status" : "status");
	if (w.status == NULL)
		w.status = gym_json_string(j, notify ? "status" : "refund_status");
	w.success_time = gym_json_string(j, "success_time");
	w.mchid = gym_json_string(j, "mchid");
	w.refund_fen = jnum(amount, "refund");
	w.total_fen = jnum(amount, "total");
	w.source = source;
	memset(&a, 0, sizeof(a));
	a.actor = actor;
	a.w = &w;
	snprintf(outcome, len, "rejected");
	/* amounts whole fen; the currency, where WeChat sends it (a refund's
	 * answer, not its notification), CNY */
	if (w.out_refund_no == NULL || !gym_refund_wx_parse(w.status, &w.ws) ||
	    strlen(w.out_refund_no) > 64 || w.refund_fen == -2 || w.total_fen == -2 ||
	    (cur != NULL && (!cJSON_IsString(cur) || strcmp(cur->valuestring, "CNY") != 0)) ||
	    (notify && w.mchid == NULL) || (w.mchid != NULL &&
	    (cfg->wx_mchid == NULL || strcmp(w.mchid, cfg->wx_mchid) != 0))) {
		struct gym_audit au = { "refund", "refund_notification_rejected", w.out_trade_no,
		    0, 0, NULL, NULL, "{\"reason\":\"mchid, status, amount or fields do not match\"}" };

		if (gym_audit_record(db, actor, &au) != GYM_OK)
			gym_log_warnx("could not audit a refused refund answer");
		return GYM_EINVAL;
	}
	if ((e = gym_db_tx(db, apply_tx, &a)) != GYM_OK)
		return e;
	snprintf(outcome, len, "%s", a.outcome);
	return a.result;
}

enum gym_err
gym_refund_apply_channel(struct gym_db *db, const struct gym_actor *actor,
    const struct gym_channel_refund *r, const char *source, char *outcome, size_t len)
{
	static const char *const word[] = { [GYM_CHANNEL_REFUND_PROCESSING] = "PROCESSING",
	    [GYM_CHANNEL_REFUND_SUCCESS] = "SUCCESS", [GYM_CHANNEL_REFUND_CLOSED] = "CLOSED",
	    [GYM_CHANNEL_REFUND_ABNORMAL] = "ABNORMAL" };
	struct wx_refund w;
	struct apply_arg a;
	char when[40];
	enum gym_err e;

	memset(&w, 0, sizeof(w));
	snprintf(outcome, len, "rejected");
	if (r->state == GYM_CHANNEL_REFUND_UNKNOWN || r->out_refund_no[0] == '\0' ||
	    !gym_refund_wx_parse(word[r->state], &w.ws))
		return GYM_EINVAL;
	w.out_refund_no = r->out_refund_no;
	w.out_trade_no = r->out_trade_no[0] != '\0' ? r->out_trade_no : NULL;
	w.refund_id = r->refund_id[0] != '\0' ? r->refund_id : NULL;
	w.status = word[r->state];
	if (r->success_us > 0) {
		gym_time_format(r->success_us, when, sizeof(when));
		w.success_time = when;
	}
	w.refund_fen = r->refund_fen < 0 ? -1 : r->refund_fen;
	w.total_fen = r->total_fen < 0 ? -1 : r->total_fen;
	w.source = source;
	memset(&a, 0, sizeof(a));
	a.actor = actor;
	a.w = &w;
	if ((e = gym_db_tx(db, apply_tx, &a)) != GYM_OK)
		return e;
	snprintf(outcome, len, "%s", a.outcome);
	return a.result;
}

enum gym_err
gym_refund_apply_answer(struct gym_db *db, const struct gym_actor *actor,
    const struct gym_config *cfg, const struct gym_channel *ch,
    const struct gym_channel_refund *r, const char *source, char *outcome, size_t len)
{
	if (strcmp(gym_channel_name(ch), GYM_CHANNEL_WECHAT) == 0)
		return gym_refund_apply_json(db, actor, cfg, r->doc, source, outcome, len);
	return gym_refund_apply_channel(db, actor, r, source, outcome, len);
}

/* ---- sending ------------------------------------------------------------------------------ */

static enum gym_err
record_error(struct gym_db *db, const char *out_refund_no, const char *msg)
{
	char now[40];
	const char *p[3] = { out_refund_no, msg, now };
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	return gym_db_exec(db, &st_error, 3, p, NULL);
}

enum gym_err
gym_refund_send(struct gym_db *db, struct gym_channels *chans, const struct gym_config *cfg,
    const struct gym_actor *actor, const char *out_refund_no, struct gym_refund *out)
{
	const struct gym_channel_error *we = NULL;
	struct gym_channel_refund_req req;
	struct gym_channel_refund answer = { 0 };
	struct gym_channel *ch = NULL;
	struct gym_refund f;
	char outcome[16], msg[352];
	enum gym_err e, e2;

	if ((e = gym_refund_get(db, 0, out_refund_no, &f)) != GYM_OK)
		return e;
	if (f.status != GYM_REFUND_PENDING) {
		if (out != NULL)
			*out = f;
		return GYM_OK;
	}
	req = (struct gym_channel_refund_req){ f.out_trade_no, f.out_refund_no, f.reason,
	    f.amount_fen, f.order_fen };
	if ((e = gym_channels_for_trade(chans, db, cfg, f.out_trade_no, &ch)) == GYM_OK &&
	    (e = gym_channel_refund_send(ch, &req, &answer)) == GYM_OK) {
		e = gym_refund_apply_answer(db, actor, cfg, ch, &answer, "create", outcome,
		    sizeof(outcome));
		gym_log_infox("refund %s sent to %s: %s", f.out_refund_no,
		    gym_channel_name(ch), outcome);
	} else {
		if (ch != NULL)
			we = gym_channel_last_error(ch);
		snprintf(msg, sizeof(msg), "%s: %s", we && we->code[0] ? we->code : gym_strerror(e),
		    we && we->message[0] ? we->message : gym_strerror(e));
		gym_log_warnx("could not send refund %s to its channel: %s (retried later)",
		    f.out_refund_no, msg);
		if ((e2 = record_error(db, f.out_refund_no, msg)) != GYM_OK)
			gym_log_warnx("could not record the failure of refund %s: %s",
			    f.out_refund_no, gym_strerror(e2));
	}
	gym_channel_refund_clear(&answer);
	if (out != NULL && gym_refund_get(db, 0, out_refund_no, out) != GYM_OK)
		*out = f;
	return e;
}
