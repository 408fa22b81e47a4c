/*
 * admin.c: the operators' read model (see admin.h): orders filtered and
 * paged, one order in full, the audit log filtered and paged.  Every
 * filter is a parameter (NULL = not filtered); pages are keyset pages on
 * id, newest first, one row more than asked for telling whether another
 * page follows.  Reads only, so no audit rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "extern.h"

#define US(col, as) "(extract(epoch FROM " col ") * 1000000)::bigint AS " as

#define ORDER_COLS \
	"SELECT o.id, o.order_id, o.user_id, o.course_schedule_id, o.status, o.amount_fen, " \
	US("o.expires_at", "expires_us") ", " US("o.paid_at", "paid_us") ", " \
	US("o.created_at", "created_us") ", o.reservation_id, b.id AS booking_id, " \
	"r.status AS res_status, " US("r.expires_at", "res_expires_us") ", o.attention_reason, " \
	"o.product_id " \
	"FROM payment_orders o LEFT JOIN seat_reservations r ON r.id = o.reservation_id " \
	"LEFT JOIN bookings b ON b.order_id = o.order_id "

#define AUDIT_COLS \
	"SELECT id, entity, action_type, order_id, reservation_id, booking_id, actor_type, " \
	"actor_id, client_ip, request_id, old_status, new_status, " \
	"request_snapshot::text AS request_snapshot, " US("created_at", "created_us") " " \
	"FROM payment_audit_log "

/* the audit trail of one order, oldest first, at most this many rows */
#define TRAIL_MAX "1000"

static struct gym_stmt st_orders = { "admin_orders",
	ORDER_COLS
	"WHERE ($1::text IS NULL OR o.status = $1::text) "
	"AND ($2::bigint IS NULL OR o.course_schedule_id = $2::bigint) "
	"AND ($3::timestamptz IS NULL OR o.created_at >= $3::timestamptz) "
	"AND ($4::timestamptz IS NULL OR o.created_at < $4::timestamptz) "
	"AND ($5::bigint IS NULL OR o.id < $5::bigint) "
	"AND ($7::text IS NULL OR o.order_id IN "
	"(SELECT order_id FROM order_registrations WHERE phone_index = $7::text)) "
	"AND (NOT $8::boolean OR (" GYM_ATTENTION_SQL ")) "
	"AND ($9::text IS NULL OR o.order_id = $9::text) "
	"AND ($10::text IS NULL OR o.transaction_id = $10::text OR o.order_id IN "
	"(SELECT order_id FROM payment_transactions WHERE transaction_id = $10::text)) "
	"AND ($11::text[] IS NULL OR o.order_id = ANY($11::text[])) "
	"AND ($12::bigint IS NULL OR o.product_id = $12::bigint) "
	"ORDER BY o.id DESC LIMIT $6::int", 0 };
static struct gym_stmt st_order = { "admin_order",
	ORDER_COLS "WHERE o.order_id = $1", 0 };
static struct gym_stmt st_txns = { "admin_order_txns",
	"SELECT transaction_id, trade_state, trade_type, amount_fen, payer_total, "
	US("success_time", "success_us") ", source, outcome, " US("created_at", "created_us") " "
	"FROM payment_transactions WHERE order_id = $1 ORDER BY id", 0 };
static struct gym_stmt st_trail = { "admin_order_trail",
	AUDIT_COLS "WHERE order_id = $1 ORDER BY id LIMIT " TRAIL_MAX, 0 };
static struct gym_stmt st_audit = { "admin_audit",
	AUDIT_COLS
	"WHERE ($1::text IS NULL OR order_id = $1::text) "
	"AND ($2::text IS NULL OR action_type = $2::text) "
	"AND ($3::timestamptz IS NULL OR created_at >= $3::timestamptz) "
	"AND ($4::timestamptz IS NULL OR created_at < $4::timestamptz) "
	"AND ($5::bigint IS NULL OR id < $5::bigint) "
	"ORDER BY id DESC LIMIT $6::int", 0 };

static const char *
ll_param(char *buf, size_t len, long long v)
{
	if (v == 0)
		return NULL;
	snprintf(buf, len, "%lld", v);
	return buf;
}

static const char *
time_param(char *buf, size_t len, int64_t us)
{
	if (us == 0)
		return NULL;
	gym_time_format(us, buf, len);
	return buf;
}

/* The page size asked for, plus one row that tells whether more follow. */
static int
page_limit(int limit, char *buf, size_t len)
{
	if (limit < 1 || limit > GYM_ADMIN_LIMIT_MAX)
		return -1;
	snprintf(buf, len, "%d", limit + 1);
	return 0;
}

enum gym_err
gym_admin_order_list(struct gym_db *db, const struct gym_admin_order_filter *f,
    struct gym_order *out, int *n, long long *next)
{
	char sid[24], from[40], to[40], before[24], lim[16], pid[24];
	const char *p[12];
	PGresult *r;
	enum gym_err e;
	int rows;

	*n = 0;
	*next = 0;
	if (page_limit(f->limit, lim, sizeof(lim)) == -1)
		return GYM_EINVAL;
	p[0] = f->status;
	p[1] = ll_param(sid, sizeof(sid), f->schedule_id);
	p[2] = time_param(from, sizeof(from), f->from);
	p[3] = time_param(to, sizeof(to), f->to);
	p[4] = ll_param(before, sizeof(before), f->before);
	p[5] = lim;
	p[6] = f->phone_index;
	p[7] = f->attention ? "true" : "false";
	p[8] = f->order_id;
	p[9] = f->transaction_id;
	p[10] = f->order_ids;
	p[11] = ll_param(pid, sizeof(pid), f->product_id);
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_orders, 12, p, &r)) != GYM_OK)
		return e;
	rows = PQntuples(r);
	*n = rows > f->limit ? f->limit : rows;
	for (int i = 0; e == GYM_OK && i < *n; i++)
		e = gym__read_order(r, i, &out[i]);
	if (e == GYM_OK && rows > f->limit)
		*next = out[*n - 1].id;
	PQclear(r);
	return e;
}

static void
read_audit(PGresult *r, int i, struct gym_audit_entry *a)
{
	const char *snap = gym_db_get(r, i, "request_snapshot");

	memset(a, 0, sizeof(*a));
	a->id = gym_db_get_ll(r, i, "id");
	gym_db_copy(r, i, "entity", a->entity, sizeof(a->entity));
	gym_db_copy(r, i, "action_type", a->action_type, sizeof(a->action_type));
	gym_db_copy(r, i, "order_id", a->order_id, sizeof(a->order_id));
	a->reservation_id = gym_db_get_ll(r, i, "reservation_id");
	a->booking_id = gym_db_get_ll(r, i, "booking_id");
	gym_db_copy(r, i, "actor_type", a->actor_type, sizeof(a->actor_type));
	gym_db_copy(r, i, "actor_id", a->actor_id, sizeof(a->actor_id));
	gym_db_copy(r, i, "client_ip", a->client_ip, sizeof(a->client_ip));
	gym_db_copy(r, i, "request_id", a->request_id, sizeof(a->request_id));
	gym_db_copy(r, i, "old_status", a->old_status, sizeof(a->old_status));
	gym_db_copy(r, i, "new_status", a->new_status, sizeof(a->new_status));
	a->created_at = gym_db_get_ll(r, i, "created_us");
	a->request_snapshot = snap ? strdup(snap) : NULL;
}

/* rows [0, n) of r into a new array; GYM_ENOMEM when it cannot be made. */
static enum gym_err
read_audit_rows(PGresult *r, int n, struct gym_audit_entry **out)
{
	*out = NULL;
	if (n == 0)
		return GYM_OK;
	if ((*out = calloc((size_t)n, sizeof(**out))) == NULL)
		return GYM_ENOMEM;
	for (int i = 0; i < n; i++) {
		read_audit(r, i, &(*out)[i]);
		if (!gym_db_isnull(r, i, "request_snapshot") && (*out)[i].request_snapshot == NULL) {
			gym_admin_audit_free(*out, n);
			*out = NULL;
			return GYM_ENOMEM;
		}
	}
	return GYM_OK;
}

void
gym_admin_audit_free(struct gym_audit_entry *a, int n)
{
	for (int i = 0; a != NULL && i < n; i++)
		free(a[i].request_snapshot);
	free(a);
}

enum gym_err
gym_admin_audit_list(struct gym_db *db, const struct gym_admin_audit_filter *f,
    struct gym_audit_entry **out, int *n, long long *next)
{
	char from[40], to[40], before[24], lim[16];
	const char *p[6];
	PGresult *r;
	enum gym_err e;
	int rows;

	*out = NULL;
	*n = 0;
	*next = 0;
	if (page_limit(f->limit, lim, sizeof(lim)) == -1)
		return GYM_EINVAL;
	p[0] = f->order_id;
	p[1] = f->action_type;
	p[2] = time_param(from, sizeof(from), f->from);
	p[3] = time_param(to, sizeof(to), f->to);
	p[4] = ll_param(before, sizeof(before), f->before);
	p[5] = lim;
	if ((e = gym_db_ensure(db)) != GYM_OK ||
	    (e = gym_db_exec(db, &st_audit, 6, p, &r)) != GYM_OK)
		return e;
	rows = PQntuples(r);
	if ((e = read_audit_rows(r, rows > f->limit ? f->limit : rows, out)) == GYM_OK) {
		*n = rows > f->limit ? f->limit : rows;
		if (rows > f->limit)
			*next = (*out)[*n - 1].id;
	}
	PQclear(r);
	return e;
}

static enum gym_err
load_txns(struct gym_db *db, const char *order_id, struct gym_admin_order *ao)
{
	const char *p[1] = { order_id };
	PGresult *r;
	enum gym_err e;
	int n;

	if ((e = gym_db_exec(db, &st_txns, 1, p, &r)) != GYM_OK)
		return e;
	if ((n = PQntuples(r)) > 0 && (ao->txns = calloc((size_t)n, sizeof(*ao->txns))) == NULL)
		e = GYM_ENOMEM;
	for (int i = 0; e == GYM_OK && i < n; i++) {
		struct gym_txn *t = &ao->txns[i];

		gym_db_copy(r, i, "transaction_id", t->transaction_id, sizeof(t->transaction_id));
		gym_db_copy(r, i, "trade_state", t->trade_state, sizeof(t->trade_state));
		gym_db_copy(r, i, "trade_type", t->trade_type, sizeof(t->trade_type));
		t->amount_fen = (int)gym_db_get_ll(r, i, "amount_fen");
		t->has_payer_total = !gym_db_isnull(r, i, "payer_total");
		t->payer_total = (int)gym_db_get_ll(r, i, "payer_total");
		t->success_time = gym_db_get_ll(r, i, "success_us");
		gym_db_copy(r, i, "source", t->source, sizeof(t->source));
		gym_db_copy(r, i, "outcome", t->outcome, sizeof(t->outcome));
		t->created_at = gym_db_get_ll(r, i, "created_us");
		ao->ntxns++;
	}
	PQclear(r);
	return e;
}

static enum gym_err
load_trail(struct gym_db *db, const char *order_id, struct gym_admin_order *ao)
{
	const char *p[1] = { order_id };
	PGresult *r;
	enum gym_err e;

	if ((e = gym_db_exec(db, &st_trail, 1, p, &r)) != GYM_OK)
		return e;
	if ((e = read_audit_rows(r, PQntuples(r), &ao->audit)) == GYM_OK)
		ao->naudit = PQntuples(r);
	PQclear(r);
	return e;
}

struct get_arg {
	const char *order_id;
	struct gym_admin_order *ao;
};

static enum gym_err
get_tx(struct gym_db *db, void *v)
{
	struct get_arg *a = v;
	const char *p[1] = { a->order_id };
	PGresult *r;
	enum gym_err e;

	/* a rerun starts over */
	gym_admin_order_free(a->ao);
	if ((e = gym_db_exec(db, &st_order, 1, p, &r)) != GYM_OK)
		return e;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return GYM_ENOTFOUND;
	}
	e = gym__read_order(r, 0, &a->ao->order);
	PQclear(r);
	if (e != GYM_OK || (e = load_txns(db, a->order_id, a->ao)) != GYM_OK)
		return e;
	return load_trail(db, a->order_id, a->ao);
}

static int
order_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 6 && n <= 32 && strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz_-") == n;
}

enum gym_err
gym_admin_order_get(struct gym_db *db, const char *order_id, struct gym_admin_order *ao)
{
	struct get_arg a = { order_id, ao };

	memset(ao, 0, sizeof(*ao));
	if (!order_id_valid(order_id))
		return GYM_ENOTFOUND;
	return gym_db_tx(db, get_tx, &a);
}

void
gym_admin_order_free(struct gym_admin_order *ao)
{
	free(ao->txns);
	gym_admin_audit_free(ao->audit, ao->naudit);
	memset(ao, 0, sizeof(*ao));
}
