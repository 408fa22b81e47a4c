/*
 * idem.c: Idempotency-Key storage (see idem.h).
 *
 * A key's row is claimed (inserted, or taken over) before the handler runs
 * and holds a lease: locked_at, the start of the run that holds it.  The
 * answer is stored, and the lease cleared, only by the run that still holds
 * it (locked_at unchanged), so a run that outlived its lease and was taken
 * over cannot overwrite the answer of the run that took it over.  This is
 * the locked_at design of Stripe's and brandur's idempotency keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idem.h"

/* $5 now, $6 the lease in seconds.  Taken: a new key, a key older than
 * the TTL (any request), or a key of the same request whose run left no
 * answer and whose lease ran out. */
static struct gym_stmt st_claim = { "idem_claim",
	"INSERT INTO idempotency_keys (scope, key, route, request_hash, created_at, locked_at) "
	"VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz) ON CONFLICT (scope, key) "
	"DO UPDATE SET route = EXCLUDED.route, request_hash = EXCLUDED.request_hash, "
	"status_code = NULL, response_body = NULL, created_at = EXCLUDED.created_at, "
	"locked_at = EXCLUDED.locked_at "
	"WHERE idempotency_keys.created_at <= $5::timestamptz - interval '24 hours' "
	"OR (idempotency_keys.status_code IS NULL AND idempotency_keys.request_hash = $4 "
	"AND idempotency_keys.locked_at <= $5::timestamptz - make_interval(secs => $6::int)) "
	"RETURNING 1", 0 };
static struct gym_stmt st_get = { "idem_get",
	"SELECT request_hash, status_code, response_body FROM idempotency_keys "
	"WHERE scope = $1 AND key = $2", 0 };
static struct gym_stmt st_store = { "idem_store",
	"UPDATE idempotency_keys SET status_code = $3::int, response_body = $4, locked_at = NULL "
	"WHERE scope = $1 AND key = $2 AND locked_at = $5::timestamptz", 0 };
static struct gym_stmt st_drop = { "idem_drop",
	"DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status_code IS NULL "
	"AND locked_at = $3::timestamptz", 0 };

enum gym_err
gym_idem_begin(struct gym_db *db, const struct gym_idem *k, int lease_s,
    enum gym_idem_state *state, int *status, char **body, struct gym_idem_lock *lock)
{
	char lease[16];
	const char *p[6] = { k->scope, k->key, k->route, k->hash, lock->at, lease };
	PGresult *r;
	enum gym_err e;

	*body = NULL;
	if (k->key == NULL || *k->key == '\0' || strlen(k->key) > 255)
		return GYM_EINVAL;
	if ((e = gym_db_ensure(db)) != GYM_OK)
		return e;
	snprintf(lease, sizeof(lease), "%d", lease_s);
	/* twice at most: a row dropped (after a 5xx) between claim and read */
	for (int tries = 0; tries < 2; tries++) {
		gym_db_now_param(lock->at, sizeof(lock->at));
		if ((e = gym_db_exec(db, &st_claim, 6, p, &r)) != GYM_OK)
			return e;
		if (PQntuples(r) == 1) {
			PQclear(r);
			*state = GYM_IDEM_NEW;
			return GYM_OK;
		}
		PQclear(r);
		if ((e = gym_db_exec(db, &st_get, 2, p, &r)) != GYM_OK)
			return e;
		if (PQntuples(r) == 0) {
			PQclear(r);
			continue;
		}
		if (strcmp(gym_db_get(r, 0, "request_hash"), k->hash) != 0)
			e = GYM_E_IDEMPOTENCY_KEY_REUSED;
		else if (gym_db_isnull(r, 0, "status_code"))
			e = GYM_ECONFLICT;	/* in flight, inside its lease */
		else {
			*status = (int)gym_db_get_ll(r, 0, "status_code");
			*body = strdup(gym_db_get(r, 0, "response_body") ?
			    gym_db_get(r, 0, "response_body") : "");
			*state = GYM_IDEM_REPLAY;
			e = *body ? GYM_OK : GYM_ENOMEM;
		}
		PQclear(r);
		return e;
	}
	return GYM_ECONFLICT;
}

enum gym_err
gym_idem_finish(struct gym_db *db, const struct gym_idem *k, const struct gym_idem_lock *lock,
    int status, const char *body, int *kept)
{
	char st[16];
	const char *p[5] = { k->scope, k->key, st, body, lock->at };
	const char *pd[3] = { k->scope, k->key, lock->at };
	PGresult *r;
	enum gym_err e;

	*kept = 0;
	if (gym_db_ensure(db) != GYM_OK)
		return GYM_EDB;
	if (status >= 500)
		e = gym_db_exec(db, &st_drop, 3, pd, &r);
	else {
		snprintf(st, sizeof(st), "%d", status);
		e = gym_db_exec(db, &st_store, 5, p, &r);
	}
	if (e != GYM_OK)
		return e;
	*kept = atoi(PQcmdTuples(r)) == 1;
	PQclear(r);
	return GYM_OK;
}
