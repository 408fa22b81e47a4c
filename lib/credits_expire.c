/*
 * credits_expire.c: the job's pass over lapsed credits (products.h).  For
 * up to batch parents with a lot past its expiry that still has credits,
 * each parent's users row is locked (SKIP LOCKED: a parent booking right now
 * is taken on the next run), and every such lot gets one 'expire' ledger row
 * of minus what is left, with its audit row, in one statement.  After it the
 * ledger's sum over all of a parent's lots equals the balance shown.
 */
#include <stdio.h>

#include "audit_sql.h"
#include "extern.h"
#include "products.h"

static struct gym_stmt st_expire = { "credits_expire",
	"WITH u AS (SELECT id FROM users WHERE id IN (SELECT l.user_id FROM credit_lots l "
	"  JOIN credit_ledger c ON c.lot_id = l.id WHERE l.expires_at <= $1::timestamptz "
	"  GROUP BY l.id, l.user_id HAVING sum(c.delta) > 0) "
	" ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED), "
	"lots AS (SELECT l.id, l.user_id, sum(c.delta)::int AS remaining FROM credit_lots l "
	" JOIN credit_ledger c ON c.lot_id = l.id WHERE l.user_id IN (SELECT id FROM u) "
	" AND l.expires_at <= $1::timestamptz GROUP BY l.id, l.user_id HAVING sum(c.delta) > 0), "
	"ins AS (INSERT INTO credit_ledger (user_id, lot_id, kind, delta, created_at) "
	" SELECT user_id, id, 'expire', -remaining, $1::timestamptz FROM lots RETURNING lot_id, delta), "
	"aud AS (" GYM_AUDIT_INSERT "SELECT " GYM_AUDIT_ROW("'credit'", "'credits_expired'", "NULL",
	"NULL", "NULL", "'system'", "NULL", "NULL", "NULL", "NULL", "NULL", "'expired'", "NULL",
	"jsonb_build_object('lot_id', lot_id, 'delta', delta)", "$1::timestamptz") "FROM ins "
	"RETURNING 1) "
	"SELECT (SELECT count(*) FROM ins) AS n, (SELECT count(*) FROM aud) AS a", 0 };

struct expire_arg {
	int batch, n;
};

static enum gym_err
expire_tx(struct gym_db *db, void *v)
{
	struct expire_arg *a = v;
	char now[40], lim[16];
	const char *p[2] = { now, lim };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	snprintf(lim, sizeof(lim), "%d", a->batch);
	if ((e = gym_db_exec(db, &st_expire, 2, p, &r)) != GYM_OK)
		return e;
	a->n = (int)gym_db_get_ll(r, 0, "n");
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_credits_expire(struct gym_db *db, int batch, int *n)
{
	struct expire_arg a = { batch, 0 };
	enum gym_err e;

	*n = 0;
	if (batch < 1)
		return GYM_EINVAL;
	if ((e = gym_db_ensure(db)) != GYM_OK || (e = gym_db_tx(db, expire_tx, &a)) != GYM_OK)
		return e;
	*n = a.n;
	return GYM_OK;
}
