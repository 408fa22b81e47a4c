/*
 * audit_sample.c: audit rows sampled per source and minute (see
 * audit_sample.h).
 */
#include <stdlib.h>

#include "audit_sample.h"

static struct gym_stmt st_count = { "audit_sample_count",
	"INSERT INTO audit_samples (kind, source, minute, hits) "
	"VALUES ($1, $2, date_trunc('minute', $3::timestamptz), 1) "
	"ON CONFLICT (kind, source, minute) DO UPDATE SET hits = audit_samples.hits + 1 "
	"RETURNING hits", 0 };
static struct gym_stmt st_prune = { "audit_sample_prune",
	"DELETE FROM audit_samples WHERE minute < $1::timestamptz - interval '1 hour'", 0 };

struct sample_arg {
	const struct gym_actor *a;
	const struct gym_audit *au;
	int limit;
	long long nth;
	int recorded;
};

static enum gym_err
sample_tx(struct gym_db *db, void *v)
{
	struct sample_arg *s = v;
	char now[40];
	const char *p[3] = { s->au->action, s->a->client_ip ? s->a->client_ip : "", now };
	PGresult *r;
	enum gym_err e;

	gym_db_now_param(now, sizeof(now));
	if ((e = gym_db_exec(db, &st_count, 3, p, &r)) != GYM_OK)
		return e;
	s->nth = PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	/* a new minute's row: the old ones go (bounded by what an hour adds) */
	if (s->nth == 1 && (e = gym_db_exec(db, &st_prune, 1, p + 2, NULL)) != GYM_OK)
		return e;
	s->recorded = 0;
	if (s->nth < 1 || s->nth > s->limit)
		return GYM_OK;
	if ((e = gym_audit_write(db, s->a, s->au)) == GYM_OK)
		s->recorded = 1;
	return e;
}

enum gym_err
gym_audit_sampled(struct gym_db *db, const struct gym_actor *a, const struct gym_audit *au,
    int limit, long long *nth, int *recorded)
{
	struct sample_arg s = { a, au, limit, 0, 0 };
	/* no wait for the disk: a count an attacker drives is not worth a flush */
	enum gym_err e = gym_db_tx_nowait(db, sample_tx, &s);

	*nth = s.nth;
	*recorded = e == GYM_OK && s.recorded;
	return e;
}
