/*
 * sweep.c: the expiry sweep.  Marks lapsed holds and pending orders
 * 'expired' in batches claimed with FOR UPDATE SKIP LOCKED, so any number
 * of sweepers (job_processes on one host, any number of hosts) never touch
 * the same row twice.  Each row it ends gets its audit row in the same
 * statement.  Batches are chosen by = ANY(ARRAY(...)) over the partial
 * expiry indexes (an IN (...) form plans a hash semi-join over the whole
 * table).
 *
 * The sweep is tidying only and leaves seat rows alone, the order sweep
 * included.  A lapsed hold's seat stays 'held' with its held_until in the
 * past, still naming the hold, which may now be 'expired': such a seat is
 * free everywhere already (the claim in holds.c, the availability count
 * and the capacity drop in schedules.c test held_until), and every path
 * that frees or confirms a seat matches it by reservation_id, so a seat
 * re-taken by a new hold is never touched on behalf of the old one.  Not
 * writing the seat row saves about 30% of the work per lapsed hold.
 *
 * The hold sweep's hold_expired audit rows carry no response_snapshot
 * (NULL): their reservation_id, old_status and new_status say all there is,
 * and building a jsonb per row cost the sweep 10 to 15% of its speed.
 * The order sweep, a few rows a batch at most, keeps its snapshots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_sql.h"
#include "booking.h"
#include "notify.h"

static struct gym_stmt st_holds = { "sweep_holds",
	"WITH upd AS (UPDATE seat_reservations SET status = 'expired', updated_at = $1::timestamptz "
	" WHERE id = ANY(ARRAY(SELECT id FROM seat_reservations WHERE status = 'temporary' "
	"  AND expires_at <= $1::timestamptz ORDER BY expires_at LIMIT $2::int FOR UPDATE SKIP LOCKED)) "
	" RETURNING id), "
	"audit AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'hold'", "'hold_expired'", "NULL",
	"id", "NULL", "'system'", "NULL", "NULL", "NULL", "NULL", "'temporary'", "'expired'", "NULL",
	"NULL", "$1::timestamptz") "FROM upd RETURNING 1) "
	"SELECT (SELECT count(*) FROM upd) AS n, (SELECT count(*) FROM audit) AS a", 0 };

static struct gym_stmt st_orders = { "sweep_orders",
	"WITH upd AS (UPDATE payment_orders SET status = 'expired', updated_at = $1::timestamptz "
	" WHERE id = ANY(ARRAY(SELECT id FROM payment_orders WHERE status = 'pending' "
	"  AND expires_at <= $1::timestamptz ORDER BY expires_at LIMIT $2::int FOR UPDATE SKIP LOCKED)) "
	" RETURNING order_id, reservation_id), "
	"holds AS (UPDATE seat_reservations SET status = 'expired', updated_at = $1::timestamptz "
	" WHERE id = ANY(ARRAY(SELECT reservation_id FROM upd WHERE reservation_id IS NOT NULL)) "
	" AND status = 'temporary' AND expires_at <= $1::timestamptz "
	" RETURNING id, course_schedule_id), "
	"audit_o AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'order'", "'order_expired'",
	"order_id", "reservation_id", "NULL", "'system'", "NULL", "NULL", "NULL", "NULL",
	"'pending'", "'expired'", "NULL", "jsonb_build_object('order_id', order_id, 'status', "
	"'expired')", "$1::timestamptz") "FROM upd RETURNING 1), "
	"audit_h AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'hold'", "'hold_expired'", "NULL",
	"id", "NULL", "'system'", "NULL", "NULL", "NULL", "NULL", "'temporary'", "'expired'",
	"NULL", "jsonb_build_object('reservation_id', id, 'course_schedule_id', "
	"course_schedule_id, 'status', 'expired')", "$1::timestamptz") "FROM holds RETURNING 1) "
	"SELECT (SELECT count(*) FROM upd) AS n, (SELECT count(*) FROM audit_o) + "
	" (SELECT count(*) FROM audit_h) AS a, "
	" (SELECT coalesce(array_agg(order_id), '{}') FROM upd) AS ids", 0 };

struct sweep_arg {
	struct gym_stmt *st;
	int batch;
	int n;
	int notify;		/* orders: tell each parent (GYM_NOTIFY_ORDER_EXPIRED) */
};

/* The expired orders' parents are told, in the sweep's transaction. ids is
 * the array's text, {ID,ID,...}: order ids need no quoting. */
static enum gym_err
notify_expired(struct gym_db *db, const char *ids)
{
	static const struct gym_actor sys = { "system", 0, NULL, NULL, NULL, NULL };
	char id[33];
	const char *p = ids;
	enum gym_err e = GYM_OK;

	if (!gym_notify_enabled(GYM_NOTIFY_ORDER_EXPIRED) || *p++ != '{')
		return GYM_OK;
	while (e == GYM_OK && *p != '\0' && *p != '}') {
		size_t n = strcspn(p, ",}");

		if (n > 0 && n < sizeof(id)) {
			memcpy(id, p, n);
			id[n] = '\0';
			e = gym__notify_enqueue(db, &sys, GYM_NOTIFY_ORDER_EXPIRED, id, NULL);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return e;
}

static enum gym_err
sweep_tx(struct gym_db *db, void *v)
{
	struct sweep_arg *a = v;
	char now[40], lim[16];
	const char *p[2] = { now, lim };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", a->batch);
	if ((e = gym_db_exec(db, a->st, 2, p, &r)) != GYM_OK)
		return e;
	a->n = (int)gym_db_get_ll(r, 0, "n");
	e = a->notify && a->n > 0 ? notify_expired(db, gym_db_get(r, 0, "ids")) : GYM_OK;
	PQclear(r);
	return e;
}

static enum gym_err
sweep(struct gym_db *db, struct gym_stmt *st, int batch, int nowait, int *n)
{
	struct sweep_arg a = { st, batch, 0, st == &st_orders };
	enum gym_err e;

	if (batch < 1)
		return GYM_EINVAL;
	e = nowait ? gym_db_tx_nowait(db, sweep_tx, &a) : gym_db_tx(db, sweep_tx, &a);
	if (e == GYM_OK)
		*n = a.n;
	return e;
}

/* Without waiting for the disk (gym_db_tx_nowait): a batch a database crash
 * loses is lost whole, holds and audit rows together, and the next sweep
 * expires those holds again; their seats were free all along. */
enum gym_err
gym_sweep_holds(struct gym_db *db, int batch, int *n)
{
	return sweep(db, &st_holds, batch, 1, n);
}

enum gym_err
gym_sweep_orders(struct gym_db *db, int batch, int *n)
{
	return sweep(db, &st_orders, batch, 0, n);
}
