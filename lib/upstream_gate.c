/*
 * upstream_gate.c: see upstream_gate.h.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "upstream_gate.h"

static struct gym_stmt st_lock = { "gate_lock",
	"SELECT pg_try_advisory_lock($1::int, ($2::bigint & 2147483647)::int) AS has", 0 };
static struct gym_stmt st_unlock = { "gate_unlock",
	"SELECT pg_advisory_unlock($1::int, ($2::bigint & 2147483647)::int) AS has", 0 };
static struct gym_stmt st_claim = { "gate_query_claim",
	"UPDATE payment_orders SET reconciled_at = $2::timestamptz WHERE order_id = $1 "
	"AND status = 'pending' AND (reconciled_at IS NULL OR "
	"reconciled_at <= $2::timestamptz - make_interval(secs => $3::int)) RETURNING 1", 0 };

static enum gym_err
lock_call(struct gym_db *db, struct gym_stmt *st, long long user_id, int *got)
{
	char ns[16], uid[24];
	const char *p[2] = { ns, uid };
	PGresult *r;
	enum gym_err e;

	snprintf(ns, sizeof(ns), "%d", GYM_GATE_LOCK_NS);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	if ((e = gym_db_exec(db, st, 2, p, &r)) != GYM_OK)
		return e;
	*got = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return GYM_OK;
}

enum gym_err
gym_gate_enter(struct gym_db *db, const struct gym_config *cfg, long long user_id,
    struct gym_gate *g)
{
	enum gym_err e;
	int got = 0;

	memset(g, 0, sizeof(*g));
	if (user_id > 0) {
		if ((e = lock_call(db, &st_lock, user_id, &got)) != GYM_OK)
			return e;
		if (!got) {
			gym_metrics_add("upstream_parent_busy", 1);
			return GYM_E_TOO_MANY_REQUESTS;
		}
		g->user_id = user_id;
	}
	if (!gym_metrics_upstream_enter(cfg->upstream_workers > 0 ? cfg->upstream_workers : 1)) {
		gym_gate_leave(db, g);
		return GYM_E_BUSY;
	}
	g->slot = 1;
	return GYM_OK;
}

void
gym_gate_leave(struct gym_db *db, struct gym_gate *g)
{
	int got = 0;

	if (g->slot)
		gym_metrics_upstream_leave();
	g->slot = 0;
	/* a failure here means the session (and the lock with it) is gone */
	if (g->user_id > 0 && (lock_call(db, &st_unlock, g->user_id, &got) != GYM_OK || !got))
		gym_log_infox("the WeChat lock of user %lld was already gone", g->user_id);
	g->user_id = 0;
}

enum gym_err
gym_gate_query_claim(struct gym_db *db, const char *order_id, int spacing_s, int *claimed)
{
	char now[40], secs[16];
	const char *p[3] = { order_id, now, secs };
	PGresult *r;
	enum gym_err e;

	*claimed = 0;
	gym_db_now_param(now, sizeof(now));
	snprintf(secs, sizeof(secs), "%d", spacing_s);
	if ((e = gym_db_exec(db, &st_claim, 3, p, &r)) != GYM_OK)
		return e;
	*claimed = PQntuples(r) > 0;
	PQclear(r);
	return GYM_OK;
}
